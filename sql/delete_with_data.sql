--
-- delete_with_data: FCC's "delete the extra records with all their data",
-- administrators only, journaled in crm.delete_log and undone by
-- crm.undo_delete(); crm.dedupe(criteria, 'delete_with_data') and
-- crm.apply_dedupe_plan(..., with_data => true); crm.anonymize() erases
-- the journal's copies.  crm.delete_client() stays the default (Insly).
--
SELECT regress.reset();
-- what row-level security the tables had before: restored at the end
CREATE TEMP TABLE rls_before AS
SELECT c.oid AS relid, c.relrowsecurity FROM pg_class c WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind = 'r';
CREATE TEMP TABLE policies_before AS
SELECT p.polrelid, p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = 'crm'::regnamespace;
-- and whether crm's roles were there (an earlier test may have made them)
CREATE TEMP TABLE roles_before AS SELECT r.rolname FROM pg_roles r WHERE r.rolname IN ('crm_agent', 'crm_supervisor', 'crm_admin');

INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Sieć'), (2, 1, 'branch', 'Warszawa'), (3, 1, 'branch', 'Kraków');
INSERT INTO crm.client (id, first_name, last_name, pesel, city, unit_id) VALUES
    (1, 'Jan', 'Kowalski', '44051401359', 'Łódź', 2),
    (2, 'Anna', 'Nowak', '85020500028', 'Warszawa', 2),
    (3, 'Zofia', 'Wójcik', '72051203459', 'Kraków', 3);
INSERT INTO crm.client (id, kind, company_name, nip, unit_id) VALUES (4, 'company', 'Żabka Świętokrzyska sp. z o.o.', '5260001246', 2);
INSERT INTO crm.contact (client_id, kind, value, is_default) VALUES
    (1, 'phone', '601 234 567', true), (1, 'phone', '602 345 678', false), (1, 'email', 'jan.kowalski@example.pl', true),
    (2, 'phone', '603 456 789', true);
INSERT INTO crm.segment (id, name) VALUES (1, 'VIP');
INSERT INTO crm.segment_member (segment_id, client_id) VALUES (1, 1), (1, 2);
INSERT INTO crm.campaign (id, name) VALUES (1, 'Wiosna 2026');
INSERT INTO crm.campaign_member (campaign_id, client_id) VALUES (1, 1), (1, 2);
INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'Hobby', 'text');
SELECT crm.set_custom_value(ARRAY[1, 2], 'Hobby', 'wędkarstwo');
INSERT INTO crm.price_list (id, name) VALUES (1, 'Cennik hurtowy');
INSERT INTO crm.product (id, code, name, unit_price) VALUES (1, 'OC', 'Ubezpieczenie OC', 800), (2, 'AC', 'Autocasco', 1200);
INSERT INTO crm.client_price_list (client_id, price_list_id) VALUES (1, 1);
INSERT INTO crm.document (id, client_id, kind, title) VALUES
    (1, 1, 'consent', 'Zgoda marketingowa, podpis'), (2, 1, 'id', 'Skan dowodu osobistego'), (3, 2, 'id', 'Skan paszportu');
INSERT INTO crm.consent (id, client_id, purpose, granted_at, document_id) VALUES
    (1, 1, 'marketing_phone', '2025-03-01 10:00+01', 1), (2, 1, 'marketing_email', '2025-03-01 10:00+01', NULL),
    (3, 2, 'marketing_phone', '2025-04-01 10:00+02', 3);
UPDATE crm.consent SET withdrawn_at = '2025-06-01 12:00+02' WHERE id = 2;
INSERT INTO crm.vehicle (id, client_id, registration_number, vin, make, model, production_year) VALUES
    (1, 1, 'WE 12345', 'WVWZZZ1JZXW000001', 'Škoda', 'Octavia', 2019);
INSERT INTO crm.policy (id, client_id, number, insurer, starts_on, ends_on, vehicle_id, premium) VALUES
    (1, 1, 'OC/2026/1', 'PZU', '2026-01-01', '2026-12-31', 1, 812.50),
    (2, 2, 'OC/2026/2', 'PZU', '2026-01-01', '2026-12-31', NULL, 640.00);
INSERT INTO crm.service_entry (client_id, kind, vehicle_id, description) VALUES (1, 'inspection', 1, 'Przegląd okresowy');
INSERT INTO crm.interaction (id, client_id, channel, occurred_at, phone, summary) VALUES
    (1, 1, 'call', '2026-02-01 09:00+01', '+48601234567', 'Pytanie o zniżki'),
    (2, 2, 'call', '2026-02-02 09:00+01', '+48603456789', 'Zgłoszenie szkody');
INSERT INTO crm.offer (client_id, number, product, amount) VALUES (1, 'OF/1', 'AC', 1200);
INSERT INTO crm.needs_analysis (client_id, answers, summary) VALUES (1, '{"dzieci": 2}', 'Rodzina z dwójką dzieci');
INSERT INTO crm.invoice (id, client_id, number, gross_amount, billed_name) VALUES
    (1, 1, 'FV/2026/001', 812.50, 'Jan Kowalski'), (2, 2, 'FV/2026/002', 640.00, 'Anna Nowak');
INSERT INTO crm.payment (client_id, invoice_id, amount, method) VALUES
    (1, 1, 400, 'przelew'), (1, 1, 412.50, 'karta'), (2, 2, 640, 'przelew');
INSERT INTO crm.task (client_id, title, notes) VALUES (1, 'Oddzwonić', 'Po 15:00');
INSERT INTO crm.case (client_id, title) VALUES (1, 'Reklamacja składki');
INSERT INTO crm.contact_person (client_id, first_name, last_name, role) VALUES (4, 'Łucja', 'Żak', 'księgowa');
INSERT INTO crm.ticket (client_id, subject, campaign_id) VALUES (1, 'Zmiana adresu', 1);
INSERT INTO crm."order" (id, client_id, number, price_list_id) VALUES (1, 1, 'ZAM/1', 1), (2, 2, 'ZAM/2', NULL);
INSERT INTO crm.order_line (order_id, product_id, quantity, unit_price) VALUES (1, 1, 1, 800), (1, 2, 2, 1200), (2, 1, 1, 800);
INSERT INTO crm.vcard_outbox (client_id, recipient, card) VALUES (1, 'biuro@example.pl', 'BEGIN:VCARD');
SELECT regress.sync_identities();

-- everything a client has, as (table, row): the client, every table that
-- references it, the rows of rows (order lines, payments are the
-- client's own too) and the consent history
CREATE FUNCTION pg_temp.client_rows(client bigint) RETURNS TABLE (relation text, row_data jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    RETURN QUERY SELECT 'crm.client', to_jsonb(c) FROM crm.client c WHERE c.id = client;
    FOR r IN SELECT * FROM crm.client_references() LOOP
        RETURN QUERY EXECUTE format('SELECT %L::text, to_jsonb(t) FROM %s t WHERE t.%I = $1', r.relation, r.relation, r.columns[1])
            USING client;
    END LOOP;
    RETURN QUERY SELECT 'crm.order_line', to_jsonb(l) FROM crm.order_line l JOIN crm."order" o ON o.id = l.order_id
                 WHERE o.client_id = client;
    RETURN QUERY SELECT 'crm.consent_history', to_jsonb(h) FROM crm.consent_history h WHERE h.client_id = client;
END
$$;
CREATE TEMP TABLE before AS SELECT * FROM pg_temp.client_rows(1);
-- (the tickets' history hangs off the tickets, not the client)
CREATE TEMP TABLE history_before AS
SELECT h.* FROM crm.ticket_history h JOIN crm.ticket t ON t.id = h.ticket_id WHERE t.client_id = 1;
SELECT count(*) > 0 AS has_ticket_history FROM history_before;
CREATE TEMP TABLE others_before AS SELECT * FROM pg_temp.client_rows(2) UNION ALL SELECT * FROM pg_temp.client_rows(4);
SELECT relation, count(*) FROM before GROUP BY relation ORDER BY relation;

SELECT crm.create_roles() LIKE '%granted crm_agent, crm_supervisor and crm_admin their rights%' AS roles_granted;
SELECT crm.enable_row_security();
CREATE ROLE regress_dwd_admin NOLOGIN;      -- an administrator
CREATE ROLE regress_dwd_sup NOLOGIN;        -- a supervisor in Warszawa
CREATE ROLE regress_dwd_agent NOLOGIN;      -- an agent in Warszawa
GRANT crm_admin TO regress_dwd_admin;
GRANT crm_supervisor TO regress_dwd_sup;
GRANT crm_agent TO regress_dwd_agent;
SELECT crm.user_unit('regress_dwd_sup', 2) AS sup, crm.user_unit('regress_dwd_agent', 2) AS agent;

-- a supervisor and an agent are refused, the same way for a client that
-- does not exist, one in reach and one out of it: nothing said of any
SET ROLE regress_dwd_sup;
SELECT * FROM regress.error_of('SELECT crm.delete_client_with_data(1)');
SELECT * FROM regress.error_of('SELECT crm.delete_client_with_data(3)');
SELECT * FROM regress.error_of('SELECT crm.delete_client_with_data(999)');
SELECT * FROM regress.error_of('SELECT crm.undo_delete(1)');
SELECT * FROM regress.error_of($$SELECT crm.dedupe('{pesel}', 'delete_with_data')$$);
SELECT * FROM regress.error_of('SELECT count(*) FROM crm.delete_log');
SELECT * FROM regress.error_of('SELECT count(*) FROM crm.delete_log_row');
-- and a plain delete (crm.delete_client, the default) keeps refusing linked records
SELECT err_code, err_message FROM regress.error_of('SELECT crm.delete_client(1)');
RESET ROLE;
SET ROLE regress_dwd_agent;
SELECT * FROM regress.error_of('SELECT crm.delete_client_with_data(1)');
SELECT * FROM regress.error_of('SELECT crm.undo_delete(1)');
RESET ROLE;
SELECT count(*) = (SELECT count(*) FROM before) AS nothing_deleted FROM pg_temp.client_rows(1);

-- an administrator deletes client 1 with everything: one journal entry
SET ROLE regress_dwd_admin;
SELECT crm.delete_client_with_data(1, 'duplikat z importu') AS delete_id;
SELECT id, client_id, unit_id, reason, deleted_by, client_row ->> 'last_name' AS last_name, undone_at
FROM crm.delete_log;
SELECT crm_internal.relation_name(relation) AS relation, count(*) FROM crm.delete_log_row
GROUP BY 1 ORDER BY 1;
RESET ROLE;
-- nothing of it is left, anywhere; the other clients' rows are untouched
SELECT count(*) AS rows_left FROM pg_temp.client_rows(1);
SELECT (SELECT count(*) FROM crm.order_line) AS order_lines, (SELECT count(*) FROM crm.payment) AS payments,
       (SELECT count(*) FROM crm.consent_history) AS consent_history;
SELECT count(*) AS others_changed
FROM ((SELECT * FROM others_before EXCEPT SELECT * FROM pg_temp.client_rows(2) EXCEPT SELECT * FROM pg_temp.client_rows(4))
      UNION ALL
      (SELECT * FROM pg_temp.client_rows(2) UNION ALL SELECT * FROM pg_temp.client_rows(4) EXCEPT SELECT * FROM others_before)) d;
-- the audit log has it, without personal data: ids and counts
SELECT action, client_id, unit_id, detail ->> 'delete_id' AS delete_id, detail -> 'rows' ->> 'crm.order_line' AS order_lines,
       (SELECT sum(r.value::int) FROM jsonb_each_text(detail -> 'rows') AS r) AS rows
FROM crm.audit_log WHERE action <> 'user unit' ORDER BY id;
-- the id is gone: another delete of it says so
SET ROLE regress_dwd_admin;
SELECT * FROM regress.error_of('SELECT crm.delete_client_with_data(1)');

-- undone: the client and every row come back, identical, with their ids
SELECT crm.undo_delete(1) AS restored_client;
RESET ROLE;
SELECT count(*) AS differences
FROM ((SELECT * FROM before EXCEPT SELECT * FROM pg_temp.client_rows(1))
      UNION ALL
      (SELECT * FROM pg_temp.client_rows(1) EXCEPT SELECT * FROM before)) d;
-- the tickets' history is the one they had: no entry added by the undo
SELECT count(*) AS history_differences
FROM ((SELECT * FROM history_before
       EXCEPT SELECT h.* FROM crm.ticket_history h JOIN crm.ticket t ON t.id = h.ticket_id WHERE t.client_id = 1)
      UNION ALL
      (SELECT h.* FROM crm.ticket_history h JOIN crm.ticket t ON t.id = h.ticket_id WHERE t.client_id = 1
       EXCEPT SELECT * FROM history_before)) d;
SELECT id, undone_by, undone_at IS NOT NULL AS undone FROM crm.delete_log;
SELECT action, client_id, unit_id, detail ->> 'delete_id' AS delete_id,
       (SELECT sum(r.value::int) FROM jsonb_each_text(detail -> 'rows') AS r) AS rows
FROM crm.audit_log WHERE action <> 'user unit' ORDER BY id;
SET ROLE regress_dwd_admin;
-- once only, and what does not exist is said so
SELECT err_code, err_message, err_hint FROM regress.error_of('SELECT crm.undo_delete(1)');
SELECT * FROM regress.error_of('SELECT crm.undo_delete(999)');
SELECT * FROM regress.error_of('SELECT crm.undo_delete(NULL)');

-- an undo refuses ids taken since: the client's, then an invoice number
SELECT crm.delete_client_with_data(1) AS delete_id;
RESET ROLE;
INSERT INTO crm.client (id, first_name, last_name) VALUES (1, 'Józef', 'Nowy');
SET ROLE regress_dwd_admin;
SELECT * FROM regress.error_of('SELECT crm.undo_delete(2)');
RESET ROLE;
DELETE FROM crm.client WHERE id = 1;
INSERT INTO crm.invoice (client_id, number) VALUES (2, 'FV/2026/001');
SET ROLE regress_dwd_admin;
SELECT * FROM regress.error_of('SELECT crm.undo_delete(2)');
RESET ROLE;
DELETE FROM crm.invoice WHERE number = 'FV/2026/001';
SET ROLE regress_dwd_admin;
SELECT crm.undo_delete(2) AS restored_client;
RESET ROLE;
SELECT count(*) AS differences
FROM ((SELECT * FROM before EXCEPT SELECT * FROM pg_temp.client_rows(1))
      UNION ALL
      (SELECT * FROM pg_temp.client_rows(1) EXCEPT SELECT * FROM before)) d;

-- a record of another client hanging on this one's (Anna's consent
-- confirmed by Jan's document): refused, nothing deleted
UPDATE crm.consent SET document_id = 2 WHERE id = 3;
SET ROLE regress_dwd_admin;
SELECT * FROM regress.error_of('SELECT crm.delete_client_with_data(1)');
RESET ROLE;
UPDATE crm.consent SET document_id = 3 WHERE id = 3;
SELECT count(*) AS rows_kept FROM pg_temp.client_rows(1);

-- a user table without a primary key could not be brought back row by row
CREATE TABLE public.loyalty_note (client_id bigint REFERENCES crm.client (id), note text);
INSERT INTO public.loyalty_note VALUES (1, 'Karta złota');
SET ROLE regress_dwd_admin;
SELECT * FROM regress.error_of('SELECT crm.delete_client_with_data(1)');
RESET ROLE;
DROP TABLE public.loyalty_note;
-- one with a key goes and comes back with the rest
CREATE TABLE public.loyalty_card (id bigint PRIMARY KEY, client_id bigint NOT NULL REFERENCES crm.client (id), points integer);
INSERT INTO public.loyalty_card VALUES (7, 1, 1500);
SET ROLE regress_dwd_admin;
SELECT crm.delete_client_with_data(1) AS delete_id;
RESET ROLE;
SELECT count(*) AS cards FROM public.loyalty_card;
SET ROLE regress_dwd_admin;
SELECT crm.undo_delete((SELECT max(id) FROM crm.delete_log)) AS restored_client;
RESET ROLE;
SELECT * FROM public.loyalty_card;
DROP TABLE public.loyalty_card;

-- GDPR: anonymizing the client erases its copies in the delete journal
-- (the deletes above were undone: the journal still held them) ...
SELECT count(*) AS copies FROM crm.delete_log_row r JOIN crm.delete_log d ON d.id = r.delete_id
WHERE d.client_id = 1 AND r.row_data IS NOT NULL;
SET ROLE regress_dwd_admin;
SELECT crm.anonymize(1, crm.anonymization_code(1));
RESET ROLE;
SELECT id, client_row IS NULL AS row_erased, reason, anonymized_at IS NOT NULL AS anonymized FROM crm.delete_log ORDER BY id;
SELECT count(*) FILTER (WHERE r.row_data IS NOT NULL) AS copies, count(*) AS entries
FROM crm.delete_log_row r JOIN crm.delete_log d ON d.id = r.delete_id WHERE d.client_id = 1;
SELECT detail -> 'rows' -> 'crm.delete_log' AS delete_log_entries FROM crm.audit_log WHERE action = 'anonymize';
-- ... so that no undo can bring its personal data back ...
SET ROLE regress_dwd_admin;
SELECT err_code, err_message, err_hint FROM regress.error_of('SELECT crm.undo_delete(5)');
-- ... and what is left of an anonymized client (what the law keeps) is not deleted with data
SELECT err_code, err_message FROM regress.error_of('SELECT crm.delete_client_with_data(1)');
RESET ROLE;

-- crm.dedupe(criteria, 'delete_with_data'): the newer duplicate goes with its invoice
INSERT INTO crm.client (id, first_name, last_name, pesel, unit_id, created_at) VALUES
    (10, 'Piotr', 'Zieliński', '90112304565', 2, '2024-01-01'),
    (11, 'Piotr', 'Zielinski', '90112304565', 2, '2025-01-01');
INSERT INTO crm.invoice (client_id, number) VALUES (11, 'FV/2026/011');
INSERT INTO crm.payment (client_id, invoice_id, amount) SELECT 11, id, 100 FROM crm.invoice WHERE number = 'FV/2026/011';
SET ROLE regress_dwd_admin;
-- the default 'delete' skips it, as before
SELECT crm.dedupe('{pesel}', 'delete') - 'skipped_detail' AS result;
SELECT crm.dedupe('{pesel}', 'delete_with_data') AS result;
RESET ROLE;
SELECT id FROM crm.client WHERE id IN (10, 11) ORDER BY id;
SELECT count(*) AS invoices_of_11 FROM crm.invoice WHERE client_id = 11;
SET ROLE regress_dwd_admin;
SELECT crm.undo_delete((SELECT max(id) FROM crm.delete_log)) AS restored_client;
RESET ROLE;
SELECT c.id, (SELECT count(*) FROM crm.invoice i WHERE i.client_id = c.id) AS invoices,
       (SELECT count(*) FROM crm.payment p WHERE p.client_id = c.id) AS payments
FROM crm.client c WHERE c.id IN (10, 11) ORDER BY c.id;
SELECT detail ->> 'action' AS action, detail ->> 'deleted' AS deleted FROM crm.audit_log WHERE action = 'dedupe' ORDER BY id;

-- a manual plan: deleting the newer one needs with_data (administrators)
SET ROLE regress_dwd_admin;
SELECT crm.create_dedupe_plan('{pesel}'::text[]) AS plan_id;
UPDATE crm.dedupe_plan_item SET action = 'delete' WHERE plan_id = 1 AND client_id = 11;
SELECT group_no, main_id, delete_ids, problems FROM crm.dedupe_plan_preview(1);
SELECT err_code, err_message FROM regress.error_of('SELECT crm.apply_dedupe_plan(1)');
RESET ROLE;
SET ROLE regress_dwd_sup;
SELECT * FROM regress.error_of('SELECT crm.apply_dedupe_plan(1, with_data => true)');
RESET ROLE;
SET ROLE regress_dwd_admin;
SELECT crm.apply_dedupe_plan(1, with_data => true) AS result;
SELECT applied_by, result FROM crm.dedupe_plan WHERE id = 1;
RESET ROLE;
SELECT id FROM crm.client WHERE id IN (10, 11) ORDER BY id;
SELECT reason, client_id, duplicate_of FROM crm.delete_log ORDER BY id DESC LIMIT 1;
-- GDPR: the duplicate deleted was the same person as the one kept:
-- anonymizing the kept client erases the duplicate's copies too, and the
-- delete can no longer be undone
SELECT crm.anonymize(10, crm.anonymization_code(10));
SELECT client_id, duplicate_of, client_row IS NULL AS row_erased, anonymized_at IS NOT NULL AS anonymized,
       (SELECT count(*) FROM crm.delete_log_row r WHERE r.delete_id = d.id AND r.row_data IS NOT NULL) AS copies_left
FROM crm.delete_log d WHERE d.duplicate_of = 10 ORDER BY d.id;
SET ROLE regress_dwd_admin;
SELECT err_code, err_message FROM regress.error_of(format('SELECT crm.undo_delete(%s)', (SELECT max(id) FROM crm.delete_log)));
RESET ROLE;

-- the grants: every crm role may call the functions, which refuse all but
-- administrators; the journal is read by administrators only
SELECT r.rolname, p.oid::regprocedure AS function
FROM pg_proc p, aclexplode(p.proacl) a JOIN pg_roles r ON r.oid = a.grantee
WHERE p.oid IN ('crm.delete_client_with_data(bigint, text, bigint)'::regprocedure, 'crm.undo_delete(bigint)'::regprocedure)
  AND a.privilege_type = 'EXECUTE' AND r.rolname NOT IN (SELECT u.usename FROM pg_user u WHERE u.usesuper)
ORDER BY 1, 2::text;
SELECT c.relname, a.privilege_type, r.rolname
FROM pg_class c, aclexplode(c.relacl) a JOIN pg_roles r ON r.oid = a.grantee
WHERE c.oid IN ('crm.delete_log'::regclass, 'crm.delete_log_row'::regclass)
  AND r.rolname NOT IN (SELECT u.usename FROM pg_user u WHERE u.usesuper)
ORDER BY 1, 2, 3;

-- leave the database as it was
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT p.polrelid::regclass AS rel, p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
             WHERE c.relnamespace = 'crm'::regnamespace
               AND (p.polrelid, p.polname) NOT IN (SELECT b.polrelid, b.polname FROM policies_before b) LOOP
        EXECUTE format('DROP POLICY %I ON %s', r.polname, r.rel);
    END LOOP;
    FOR r IN SELECT b.relid::regclass AS rel FROM rls_before b JOIN pg_class c ON c.oid = b.relid
             WHERE c.relrowsecurity AND NOT b.relrowsecurity LOOP
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', r.rel);
    END LOOP;
END
$$;
DROP OWNED BY regress_dwd_admin, regress_dwd_sup, regress_dwd_agent;
DROP ROLE regress_dwd_admin, regress_dwd_sup, regress_dwd_agent;
DO $$
DECLARE
    r text;
BEGIN
    FOR r IN SELECT x.rolname FROM pg_roles x
             WHERE x.rolname IN ('crm_admin', 'crm_supervisor', 'crm_agent')
               AND x.rolname NOT IN (SELECT b.rolname FROM roles_before b)
             ORDER BY array_position(ARRAY['crm_admin', 'crm_supervisor', 'crm_agent'], x.rolname::text) LOOP
        EXECUTE format('DROP OWNED BY %I', r);
        EXECUTE format('DROP ROLE %I', r);
    END LOOP;
END
$$;
DROP TABLE rls_before, policies_before, roles_before, before, others_before, history_before;
SELECT regress.reset();
