--
-- ticket_history: every status a ticket took and every note on it, kept by
-- crm (crm.ticket_history, crm.add_ticket_note()), seen exactly with the
-- ticket; a ticket opened from a call (source_number, call_at); the
-- history in a merge, the right of access and the right to be forgotten.
-- Tried as low-privileged roles under row-level security.
--
SELECT regress.reset();
SELECT crm.create_roles() IS NOT NULL AS roles_granted;
SELECT crm.enable_row_security() IS NOT NULL AS row_security;
CREATE ROLE regress_th_agent NOLOGIN;   -- an agent in Kraków, campaign "Reklamacje"
CREATE ROLE regress_th_gda NOLOGIN;     -- an agent in Gdańsk
CREATE ROLE regress_th_sup NOLOGIN;     -- a supervisor in Kraków
GRANT crm_agent TO regress_th_agent, regress_th_gda;
GRANT crm_supervisor TO regress_th_sup;

INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Sieć'), (2, 1, 'branch', 'Kraków'), (3, 1, 'branch', 'Gdańsk');
INSERT INTO crm.campaign (id, name) VALUES (1, 'Reklamacje'), (2, 'Windykacja');
INSERT INTO crm.client (id, first_name, last_name, city, pesel, unit_id) VALUES
    (1, 'Jan', 'Kowalski', 'Kraków', '44051401359', 2),
    (2, 'Jan', 'Kowalski', 'Kraków', NULL, 2),
    (3, 'Anna', 'Nowak', 'Gdańsk', '85020500028', 3);
SELECT regress.sync_identities();
SELECT crm.user_unit('regress_th_agent', 2) AS agent, crm.user_unit('regress_th_gda', 3) AS gda,
       crm.user_unit('regress_th_sup', 2) AS sup, crm.user_campaign('regress_th_agent', 1) AS campaign,
       crm.user_campaign('regress_th_gda', 2) AS gda_campaign;

--
-- Creation: one entry per new ticket, written once per statement, by the
-- session's role; a ticket opened from a call keeps the caller's number
-- in E.164 (a caller id that is no number as given)
--
SET ROLE regress_th_agent;
INSERT INTO crm.ticket (client_id, subject, campaign_id, assignee, source, source_number, call_at) VALUES
    (1, 'Likwidacja szkody trwa zbyt długo', 1, 'regress_th_agent', 'telefon', '601 234 567', '2026-11-30 10:15+01'),
    (2, 'Zmiana adresu korespondencyjnego', 1, 'regress_th_agent', 'telefon', 'anonymous', '2026-11-30 11:00+01');
RESET ROLE;
INSERT INTO crm.ticket (client_id, subject, campaign_id, assignee, source_number) VALUES
    (1, 'Korekta faktury', 1, 'regress_th_someone', '+48 22 123 45 67'),
    (3, 'Zwrot składki', 2, 'regress_th_gda', NULL);
SELECT id, client_id, source_number, call_at FROM crm.ticket ORDER BY id;
SELECT id, ticket_id, changed_by, from_status, to_status, note, changed_at BETWEEN now() - interval '1 hour' AND now() AS recorded_now FROM crm.ticket_history ORDER BY id;

--
-- Status changes: an entry per ticket whose status changed, none for
-- other changes; a bulk update writes its entries at once
--
SET ROLE regress_th_agent;
UPDATE crm.ticket SET status = 'open' WHERE id IN (1, 2);
UPDATE crm.ticket SET priority = 'high' WHERE id = 1;
UPDATE crm.ticket SET status = 'pending', priority = 'urgent' WHERE id = 1;
UPDATE crm.ticket SET status = status WHERE id = 2;
RESET ROLE;
UPDATE crm.ticket SET status = 'open' WHERE status = 'new';
SELECT id, ticket_id, changed_by, from_status, to_status FROM crm.ticket_history ORDER BY id;

--
-- Notes: crm.add_ticket_note() on a ticket the caller sees; the entry is
-- crm's (the status then, the session's role, the server's time)
--
SET ROLE regress_th_agent;
SELECT crm.add_ticket_note(1, 'Klient prosi o kontakt po 16:00; szkoda z 12 listopada.') AS note_id \gset
SELECT id = :note_id AS returned_id, ticket_id, changed_by, from_status, to_status, note
FROM crm.ticket_history WHERE id = :note_id;
SELECT * FROM regress.error_of($$SELECT crm.add_ticket_note(1, '   ')$$);
SELECT * FROM regress.error_of($$SELECT crm.add_ticket_note(1, NULL)$$);
-- what it does not see gets the same refusal as what does not exist:
-- another agent's ticket of its own client (AC-2), a ticket of Gdańsk
-- (AC-3), no ticket at all
SELECT t.id, e.err_code, e.err_message, e.err_detail, e.err_hint
FROM unnest(ARRAY[3, 4, 999]) AS t(id), regress.error_of(format('SELECT crm.add_ticket_note(%s, ''Notatka'')', t.id)) e
ORDER BY t.id;
SELECT count(DISTINCT (e.err_code, e.err_detail, e.err_hint)) AS one_answer
FROM unnest(ARRAY[3, 4, 999]) AS t(id), regress.error_of(format('SELECT crm.add_ticket_note(%s, ''Notatka'')', t.id)) e;
-- the history is crm's: read with the ticket, never written by hand
SELECT ticket_id, from_status, to_status, note FROM crm.ticket_history ORDER BY id;
SELECT * FROM regress.error_of($$INSERT INTO crm.ticket_history (ticket_id, to_status, note) VALUES (1, 'closed', 'podrobione')$$);
SELECT * FROM regress.error_of($$UPDATE crm.ticket_history SET note = 'zmienione' WHERE ticket_id = 1$$);
SELECT * FROM regress.error_of($$DELETE FROM crm.ticket_history WHERE ticket_id = 1$$);
RESET ROLE;
-- without the grant, by hand (SECURITY DEFINER): an outsider gets nothing
SELECT has_function_privilege('public', 'crm.add_ticket_note(bigint, text)', 'EXECUTE') AS public_may_add,
       has_function_privilege('crm_agent', 'crm.add_ticket_note(bigint, text)', 'EXECUTE') AS agents_may_add,
       has_table_privilege('crm_agent', 'crm.ticket_history', 'SELECT') AS agents_read,
       has_table_privilege('crm_admin', 'crm.ticket_history', 'INSERT') OR has_table_privilege('crm_admin', 'crm.ticket_history', 'UPDATE')
       OR has_table_privilege('crm_admin', 'crm.ticket_history', 'DELETE') AS admins_write;

-- what crm_internal.sees_ticket() (the notes' check) says each role sees
-- is what row-level security shows it
CREATE TEMP TABLE seen (role_name text, ids bigint[]);
GRANT INSERT ON seen TO regress_th_agent, regress_th_gda, regress_th_sup;
SET ROLE regress_th_agent;
INSERT INTO seen SELECT current_user, coalesce(array_agg(id ORDER BY id), '{}') FROM crm.ticket;
RESET ROLE;
SET ROLE regress_th_gda;
INSERT INTO seen SELECT current_user, coalesce(array_agg(id ORDER BY id), '{}') FROM crm.ticket;
RESET ROLE;
SET ROLE regress_th_sup;
INSERT INTO seen SELECT current_user, coalesce(array_agg(id ORDER BY id), '{}') FROM crm.ticket;
RESET ROLE;
SELECT s.role_name, s.ids AS by_row_security,
       s.ids = ARRAY(SELECT t.id FROM crm.ticket t WHERE crm_internal.sees_ticket(s.role_name, t.id) ORDER BY t.id) AS same
FROM seen s ORDER BY 1;
-- an agent sees a ticket's history exactly when it sees the ticket
SET ROLE regress_th_gda;
SELECT ticket_id, to_status, note FROM crm.ticket_history ORDER BY id;
RESET ROLE;
-- a permission shows it other agents' tickets, and lets it write there
SELECT crm.grant_agent_permission('regress_th_agent', 'tickets_other_agents');
SET ROLE regress_th_agent;
SELECT crm.add_ticket_note(3, 'Faktura do korekty: zły NIP nabywcy.') IS NOT NULL AS noted;
SELECT DISTINCT ticket_id FROM crm.ticket_history ORDER BY 1;
RESET ROLE;
SELECT crm.grant_agent_permission('regress_th_agent', 'tickets_other_agents', false);

--
-- A merge keeps the history with its ticket: client 2 into client 1
--
SET ROLE regress_th_sup;
SELECT crm.merge_client(2, 1) AS merge_id \gset
RESET ROLE;
SELECT t.id, t.client_id, count(h.id) AS entries
FROM crm.ticket t LEFT JOIN crm.ticket_history h ON h.ticket_id = t.id GROUP BY t.id ORDER BY t.id;
SET ROLE regress_th_sup;
SELECT crm.unmerge(:merge_id) IS NOT NULL AS undone;
RESET ROLE;
SELECT t.id, t.client_id, count(h.id) AS entries
FROM crm.ticket t LEFT JOIN crm.ticket_history h ON h.ticket_id = t.id GROUP BY t.id ORDER BY t.id;

--
-- The right of access: the history of the client's tickets, as far as the
-- caller sees them
--
SELECT jsonb_path_query_array(crm.client_export(1), '$.ticket_history[*].ticket_id') AS all_entries;
SET ROLE regress_th_agent;
SELECT jsonb_path_query_array(crm.client_export(1), '$.ticket_history[*].ticket_id') AS agent_entries,
       crm.client_export(1) -> 'partial' AS partial;
RESET ROLE;

--
-- The right to be forgotten clears the notes of the client's tickets (and
-- the caller's number), keeps their statuses; another client's stay
--
SELECT crm.add_ticket_note(4, 'Klientka dzwoniła w sprawie zwrotu.') IS NOT NULL AS noted;
CREATE TEMP TABLE code AS SELECT crm.anonymization_code(1) AS code;
SELECT crm.anonymize(1, (SELECT code FROM code));
DROP TABLE code;
SELECT h.ticket_id, t.client_id, h.from_status, h.to_status, h.note
FROM crm.ticket_history h JOIN crm.ticket t ON t.id = h.ticket_id ORDER BY h.id;
SELECT id, subject, source_number FROM crm.ticket ORDER BY id;
SELECT detail -> 'rows' -> 'crm.ticket_history' AS notes_cleared FROM crm.audit_log WHERE action = 'anonymize';
SELECT * FROM crm.personal_data WHERE relation IN ('crm.ticket'::regclass, 'crm.ticket_history'::regclass) ORDER BY 1, 2;
-- and the notes of an anonymized client's tickets are refused
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.add_ticket_note(1, 'Jan Kowalski, tel. 601 234 567')$$);

-- a ticket deleted takes its history with it
DELETE FROM crm.ticket WHERE id = 4;
SELECT count(*) AS entries_of_4 FROM crm.ticket_history WHERE ticket_id = 4;

DROP TABLE seen;
SELECT regress.reset();
DROP OWNED BY regress_th_agent, regress_th_gda, regress_th_sup;
DROP ROLE regress_th_agent, regress_th_gda, regress_th_sup;
