-- crm.interaction: the details of a call (or an e-mail's text), last columns
ALTER TABLE crm.interaction
    ADD COLUMN call_type text,
    ADD COLUMN call_status text
        CHECK (call_status IN ('answered', 'no_answer', 'busy', 'failed', 'voicemail', 'rejected')),
    ADD COLUMN classifier text,
    ADD COLUMN attempts integer CHECK (attempts >= 1),
    ADD COLUMN callback_at timestamptz,
    ADD COLUMN modified_by text,
    ADD COLUMN modified_at timestamptz,
    ADD COLUMN recording_ref text,
    ADD COLUMN email_body text;
COMMENT ON COLUMN crm.interaction.call_type IS
    'the kind of call as the dialler names it (manual, preview, predictive, callback...), free text';
COMMENT ON COLUMN crm.interaction.call_status IS
    'how the call ended: answered, no_answer, busy, failed, voicemail or rejected; null if not known or not a call';
COMMENT ON COLUMN crm.interaction.classifier IS
    'the outcome the agent chose from the campaign''s classifier (sale, not interested, call back...), free text';
COMMENT ON COLUMN crm.interaction.attempts IS 'how many attempts the contact took, 1 or more';
COMMENT ON COLUMN crm.interaction.callback_at IS 'when the client is to be contacted again';
COMMENT ON COLUMN crm.interaction.modified_by IS
    'the session''s role that last changed the contact; null until it is changed (kept by a trigger)';
COMMENT ON COLUMN crm.interaction.modified_at IS
    'when the contact was last changed; null until it is changed (kept by a trigger; a merge moving it is no change)';
COMMENT ON COLUMN crm.interaction.recording_ref IS
    'where the call''s recording is kept (a URL or the recorder''s id); cleared when the client is anonymized';
COMMENT ON COLUMN crm.interaction.email_body IS
    'the text of an e-mail; cleared when the client is anonymized';
-- the view shows them, as its last columns: dropped and made again (an
-- extension script replaces no object it does not own); the access step
-- gives it back to the model's owner and crm's roles their grants
DROP VIEW crm.contact_history;
-- @source CREATE VIEW crm.contact_history
