-- crm.ticket: a ticket opened from a call (the caller's number, when)
ALTER TABLE crm.ticket ADD COLUMN source_number text, ADD COLUMN call_at timestamptz;
COMMENT ON COLUMN crm.ticket.source_number IS
    'for a ticket opened from a call: the caller''s number, E.164 (a caller id that is no number is kept as given); cleared when the client is anonymized';
COMMENT ON COLUMN crm.ticket.call_at IS 'for a ticket opened from a call: when the call came';
CREATE TRIGGER ticket_source_number BEFORE INSERT OR UPDATE OF source_number ON crm.ticket
    FOR EACH ROW WHEN (NEW.source_number IS NOT NULL) EXECUTE FUNCTION crm_internal.ticket_source_number();
-- the history, and its triggers on crm.ticket
-- @source CREATE TABLE crm.ticket_history (
-- each ticket there was gets one entry of its current status, dated when
-- it was raised, by the role that upgrades
INSERT INTO crm.ticket_history (ticket_id, changed_at, changed_by, from_status, to_status)
SELECT t.id, t.created_at, crm_internal.session_role(), NULL, t.status FROM crm.ticket t ORDER BY t.id;
