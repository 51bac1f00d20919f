--
-- GDPR (RODO): consents with their history (GD-1, GD-3), the right of
-- access (crm.client_export) and anonymization (GD-2)
--
SELECT regress.reset();

-- consents: grant and withdraw, each recorded in the history
INSERT INTO crm.client (id, first_name, last_name) VALUES (1, 'Jan', 'Kowalski'), (2, 'Ewa', 'Lis');
INSERT INTO crm.document (id, client_id, kind, title) VALUES (1, 1, 'consent form', 'zgoda marketingowa 2026');
SELECT crm.grant_consent(1, 'marketing', 1) AS marketing, crm.grant_consent(1, ' profiling ') AS profiling;
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.grant_consent(1, 'marketing')$$);
SELECT crm.withdraw_consent(1, 'marketing') AS withdrawn;
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.withdraw_consent(1, 'marketing')$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.grant_consent(99, 'marketing')$$);
-- a consent is history: its client, purpose and date stay, a withdrawal is final
SELECT * FROM regress.error_of($$UPDATE crm.consent SET purpose = 'sales' WHERE id = 1$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$UPDATE crm.consent SET withdrawn_at = NULL WHERE id = 1$$);
UPDATE crm.consent SET document_id = 1 WHERE id = 2;   -- the confirming document can come later
-- plain DML is recorded the same way
INSERT INTO crm.consent (client_id, purpose) VALUES (2, 'newsletter');
DELETE FROM crm.consent WHERE client_id = 2;
SELECT consent_id, client_id, purpose, event, document_id, by_role = current_user AS by_me
FROM crm.consent_history ORDER BY at, consent_id, event;
-- the history says when crm recorded each event (the server's time) and
-- keeps the date the consent row stated; a trusted role (the model's
-- owner, a superuser: a restore) may state any date, others none in the
-- future (access_gdpr)
INSERT INTO crm.consent (client_id, purpose, granted_at, withdrawn_at) VALUES (2, 'paper', '2001-01-01', '2001-06-01');
SELECT event, stated_at, at > now() - interval '1 hour' AS recorded_now
FROM crm.consent_history WHERE purpose = 'paper' ORDER BY event;

-- GD-3: with the option on, withdrawing the last consent in force hides the client
SET crm.hide_on_consent_withdrawal = on;
SELECT crm.grant_consent(2, 'newsletter') AS newsletter;
SELECT crm.withdraw_consent(1, 'profiling') AS withdrawn;
SELECT id, hidden_at IS NOT NULL AS hidden, hidden_reason FROM crm.client ORDER BY id;
RESET crm.hide_on_consent_withdrawal;
SELECT crm.withdraw_consent(2, 'newsletter') AS withdrawn;   -- option off: stays visible
SELECT id, hidden_at IS NOT NULL AS hidden FROM crm.client WHERE id = 2;

--
-- A client with data in every linked table, a user table, a client merged
-- into it and the traces merges and duplicate searches leave
--
SELECT regress.reset();
SET crm.duplicate_check = notice;
SET client_min_messages = warning;
CREATE TABLE public.gdpr_note (
    id        integer PRIMARY KEY,
    client_id bigint NOT NULL REFERENCES crm.client (id),
    note      text,
    author    text NOT NULL
);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.set_personal_column('public.gdpr_note', 'nope')$$);
CREATE TABLE public.gdpr_unlinked (id integer, note text);
SELECT crm.set_personal_column('public.gdpr_unlinked', 'note');
SELECT crm.set_personal_column('public.gdpr_unlinked', 'note', registered => false);
DROP TABLE public.gdpr_unlinked;
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.set_personal_column('public.gdpr_note', 'author')$$);
SELECT * FROM regress.error_of($$SELECT crm.set_personal_column('crm.task', 'notes')$$);
SELECT crm.set_personal_column('public.gdpr_note', 'note');
-- a column of a user-defined type is not read with crm's rights: refused
CREATE TYPE public.gdpr_label AS ENUM ('anonymized', 'vip');
CREATE TABLE public.gdpr_tag (client_id bigint REFERENCES crm.client (id), label public.gdpr_label);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.set_personal_column('public.gdpr_tag', 'label')$$);
DROP TABLE public.gdpr_tag;
DROP TYPE public.gdpr_label;

INSERT INTO crm.employee (login) VALUES ('agent_smith');
INSERT INTO crm.client (id, kind, first_name, last_name, city, postal_code, address, pesel, nip, regon, external_id, owner)
VALUES (1, 'person', 'Zdzisław', 'Wąsowicz-Kmieć', 'Żyrardów', '96-300', 'ul. Lipowa 7/3', '44051401359',
        '5260001246', '123456785', 'EXT-7781', 'agent_smith'),
       (2, 'person', 'Zdzisiek', 'Wasowicz-Kmiec', 'Zyrardow', '96-301', 'ul. Lipowa 7 m. 3', NULL, NULL, NULL,
        'EXT-7782', 'agent_smith'),
       (3, 'person', 'Adam', 'Nowak', 'Radom', NULL, 'ul. Długa 1', NULL, NULL, NULL, NULL, 'agent_smith');
INSERT INTO crm.contact (client_id, kind, value, is_default) VALUES
    (1, 'phone', '601 234 567', true), (1, 'email', 'Zdzislaw.Wasowicz@example.pl', true),
    (2, 'phone', '601 234 568', true), (2, 'email', 'zdzisiek.w@example.pl', true),
    (3, 'phone', '700 000 001', true);
INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'hobby', 'text');
SELECT crm.set_custom_value(1, 'hobby', 'żeglarstwo z bratem Zdzisławem Wąsowiczem');
INSERT INTO crm.segment (id, name) VALUES (1, 'VIP');
INSERT INTO crm.segment_member (segment_id, client_id) VALUES (1, 1);
INSERT INTO crm.campaign (id, name) VALUES (1, 'Jesień 2026');
INSERT INTO crm.campaign_member (campaign_id, client_id) VALUES (1, 1);
INSERT INTO crm.document (id, client_id, kind, title, file_name, content, storage_url) VALUES
    (1, 1, 'id card', 'Dowód Zdzisław Wąsowicz-Kmieć', 'wasowicz_dowod.pdf',
     convert_to('PESEL 44051401359 Zdzisław Wąsowicz-Kmieć', 'UTF8'), 's3://docs/wasowicz-kmiec.pdf');
SELECT crm.grant_consent(1, 'marketing', 1) > 0 AS consent;
INSERT INTO crm.vehicle (id, client_id, registration_number, vin, make, model)
VALUES (1, 1, 'WZY 12345', 'WVWZZZ1JZXW000001', 'Skoda', 'Octavia');
INSERT INTO crm.policy (id, client_id, number, insurer, starts_on, ends_on, agent, vehicle_id)
VALUES (1, 1, 'OC/2026/1', 'PZU', '2026-01-01', '2026-12-31', 'agent_smith', 1);
INSERT INTO crm.interaction (client_id, channel, occurred_at, agent, phone, summary) VALUES
    (1, 'call', '2026-03-01 10:00+01', 'agent_smith', '601234567', 'Pan Zdzisław Wąsowicz-Kmieć pyta o OC, adres ul. Lipowa 7/3'),
    (2, 'email', '2026-03-02 10:00+01', 'agent_smith', NULL, 'zdzisiek.w@example.pl prosi o kontakt');
INSERT INTO crm.offer (client_id, number, product, amount) VALUES (1, 'OF/1', 'AC', 1200);
INSERT INTO crm.needs_analysis (client_id, agent, answers, summary)
VALUES (1, 'agent_smith', '{"name": "Zdzisław Wąsowicz-Kmieć", "pesel": "44051401359"}', 'rodzina: Zdzisław i żona');
INSERT INTO crm.invoice (id, client_id, number, gross_amount, billed_name, billed_address, billed_nip)
VALUES (1, 1, 'FV/2026/1', 1476, 'Zdzisław Wąsowicz-Kmieć', 'ul. Lipowa 7/3, 96-300 Żyrardów', '5260001246');
INSERT INTO crm.payment (client_id, invoice_id, amount, method) VALUES (1, 1, 1200, 'transfer');
INSERT INTO crm.task (client_id, title, assignee, notes)
VALUES (1, 'Oddzwonić do Zdzisława Wąsowicz-Kmieć', 'agent_smith', 'tel. 601 234 567');
INSERT INTO crm.case (client_id, title, description)
VALUES (1, 'Szkoda Wąsowicz-Kmieć', 'zgłosił: zdzislaw.wasowicz@example.pl');
INSERT INTO crm.contact_person (client_id, first_name, last_name, role, phone, email)
VALUES (1, 'Halina', 'Wąsowicz-Kmieć', 'żona', '601 999 888', 'halina@example.pl');
INSERT INTO crm.service_entry (client_id, kind, description) VALUES (1, 'repair', 'Octavia WZY 12345 po kolizji');
INSERT INTO crm.ticket (client_id, subject, description, assignee)
VALUES (1, 'Reklamacja: Zdzisław Wąsowicz-Kmieć', 'PESEL 44051401359, NIP 5260001246', 'agent_smith');
INSERT INTO crm.product (id, code, name) VALUES (1, 'AC', 'Autocasco');
INSERT INTO crm.price_list (id, name) VALUES (1, 'standard');
INSERT INTO crm.client_price_list (client_id, price_list_id) VALUES (1, 1);
INSERT INTO crm."order" (id, client_id, number) VALUES (1, 1, 'ZAM/1');
INSERT INTO crm.order_line (order_id, product_id, quantity, unit_price) VALUES (1, 1, 1, 1200);
INSERT INTO public.gdpr_note VALUES (1, 1, 'Zdzisław woli kontakt po 17, ul. Lipowa 7/3', 'agent_smith');
-- the counts of names count both (crm.anonymize() must take them out)
SELECT crm.refresh_match_frequencies() AS counted;
-- a pair recorded by the check on save, a dedupe plan and a merge of 2 into 1 all copy names
INSERT INTO crm.possible_duplicate (client_a, client_b, score, reasons)
VALUES (1, 3, 0.6, '{"same address: ul. Lipowa 7/3"}');
SELECT crm.create_dedupe_plan(ARRAY['owner']) AS plan;
SELECT crm.merge_client(2, 1) > 0 AS merged;
RESET client_min_messages;
RESET crm.duplicate_check;
SELECT regress.sync_identities();

-- the right of access: everything, user tables and the merged record included
SELECT jsonb_object_keys(crm.client_export(1)) AS part ORDER BY 1;
SELECT key AS table_name, jsonb_array_length(value) AS rows
FROM jsonb_each(crm.client_export(1) -> 'linked') ORDER BY 1;
SELECT crm.client_export(1) #>> '{client,last_name}' AS last_name,
       crm.client_export(1) #>> '{custom_fields,hobby}' AS hobby,
       crm.client_export(1) #>> '{merged_records,0,sources,0,first_name}' AS merged_first_name;
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.client_export(99)$$);

--
-- Anonymization asks for a code typed back
--
SELECT err_code, err_message, err_detail FROM regress.error_of($$SELECT crm.anonymize(1, 'AAAA-AAAA')$$);
CREATE TEMP TABLE code AS SELECT crm.anonymization_code(1) AS code;
SELECT code ~ '^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$' AS well_formed FROM code;
SELECT client_id, requested_by = current_user AS mine, expires_at - requested_at AS valid_for,
       length(code_hash) AS hash_bytes, code_hash <> sha256(convert_to((SELECT code FROM code), 'UTF8')) AS salted
FROM crm.anonymization_code;
SELECT err_code, err_message, err_detail FROM regress.error_of($$SELECT crm.anonymize(1, 'AAAA-AAAA')$$);
-- an expired code is refused, and nothing changes
UPDATE crm.anonymization_code SET expires_at = now() - interval '1 minute';
SELECT err_code, err_message, err_hint FROM regress.error_of(format('SELECT crm.anonymize(1, %L)', (SELECT code FROM code)));
SELECT display_name FROM crm.client WHERE id = 1;
UPDATE crm.anonymization_code SET expires_at = now() + interval '15 minutes';
-- a registration that no longer reaches its table stops the erasure
ALTER TABLE public.gdpr_note DROP CONSTRAINT gdpr_note_client_id_fkey;
SELECT err_code, err_message, err_hint FROM regress.error_of(format('SELECT crm.anonymize(1, %L)', (SELECT code FROM code)));
ALTER TABLE public.gdpr_note ADD FOREIGN KEY (client_id) REFERENCES crm.client (id);
-- nor one whose column changed since to a type of its owner's making
CREATE TABLE public.gdpr_label (client_id bigint REFERENCES crm.client (id), label text);
SELECT crm.set_personal_column('public.gdpr_label', 'label');
CREATE TYPE public.gdpr_label_type AS ENUM ('anonymized', 'vip');
ALTER TABLE public.gdpr_label ALTER label TYPE public.gdpr_label_type USING label::public.gdpr_label_type;
SELECT err_code, err_message FROM regress.error_of(format('SELECT crm.anonymize(1, %L)', (SELECT code FROM code)));
SELECT crm.set_personal_column('public.gdpr_label', 'label', registered => false);
DROP TABLE public.gdpr_label;
DROP TYPE public.gdpr_label_type;
-- typed in lower case with spaces, as people do
SELECT crm.anonymize(1, lower(replace((SELECT code FROM code), '-', ' ')));

-- every former value, anywhere in the database: none left.  Each row of
-- every table is read whole as text (any column type: text, dates, arrays,
-- json, identifiers), and bytea columns decoded; both sides in their
-- matching form (Wąsowicz-Kmieć, WASOWICZ KMIEC alike), and numbers also
-- with the spaces and dashes between their digits taken out (601 234 567,
-- 601-234-567); times of day are left out first (a timestamp's digits,
-- 07:55:21.963001, once held 96300, a postal code searched for), and other
-- punctuation separates numbers (fields of a row never run together).
CREATE FUNCTION regress.find_values(vals text[])
RETURNS TABLE (table_name text, hits bigint)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS tbl,
               (SELECT string_agg(format('coalesce(convert_from(t.%I, ''UTF8''), '''')', a.attname), ' || '' '' || ')
                FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                  AND a.atttypid = 'bytea'::regtype) AS bytea_text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND n.nspname NOT LIKE 'pg_temp%'
          -- the extension's own tables hold its code (the data model's
          -- DDL, whose comments have example numbers), never client data
          AND NOT EXISTS (SELECT FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 1
    LOOP
        table_name := r.tbl::text;
        EXECUTE format(
            'SELECT count(*) FROM (SELECT t::text || '' '' || %s AS x FROM %s t) t, unnest($1) AS v(value)
             WHERE crm.normalize_name(t.x) LIKE ''%%'' || crm.normalize_name(v.value) || ''%%''
                OR (v.value ~ ''^[0-9 -]+$''
                    AND regexp_replace(regexp_replace(t.x, ''[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?'', '' '', ''g''),
                                       ''([0-9])[ -]+(?=[0-9])'', ''\1'', ''g'')
                        LIKE ''%%'' || regexp_replace(v.value, ''[^0-9]'', '''', ''g'') || ''%%'')',
            coalesce(r.bytea_text, ''''''), r.tbl)
            INTO hits USING vals;
        IF hits > 0 THEN
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
-- names, identifiers, phones, e-mails, addresses, the birth date, of the
-- client and of the client merged into it
SELECT * FROM regress.find_values(ARRAY[
    'Zdzisław', 'Zdzisiek', 'Wąsowicz', 'Kmieć', 'Halina', '44051401359', '5260001246', '123456785',
    '601 234 567', '601 234 568', '601 999 888', 'zdzislaw.wasowicz', 'zdzisiek.w', 'halina@example',
    'Lipowa', 'Żyrardów', '96-300', '96-301', 'EXT-778', 'WZY 12345', 'WVWZZZ1JZXW000001', 'wasowicz_dowod',
    'żeglarstwo', '1944-05-14']);
-- the search finds what is there: client 3, the employee, a number in a row
SELECT * FROM regress.find_values(ARRAY['Nowak', 'agent_smith', '700 000 001']) ORDER BY 1;

-- what stays: the record with a neutral name, and what the law keeps
SELECT id, kind, display_name, first_name, last_name, pesel, hidden_at, anonymized_at IS NOT NULL AS anonymized
FROM crm.client ORDER BY id;
SELECT count(*) AS policies FROM crm.policy WHERE client_id = 1;
SELECT number, gross_amount, billed_name FROM crm.invoice WHERE client_id = 1;
SELECT title, content IS NULL AS no_content FROM crm.document WHERE client_id = 1;
SELECT purpose, withdrawn_at IS NOT NULL AS withdrawn FROM crm.consent WHERE client_id = 1;
SELECT count(*) AS contacts FROM crm.contact WHERE client_id = 1;
SELECT note, author FROM public.gdpr_note;
SELECT count(*) AS pairs FROM crm.possible_duplicate;
SELECT count(*) AS plan_items FROM crm.dedupe_plan_item;
SELECT count(*) AS code_left FROM crm.anonymization_code;
SELECT id, sources, target_before, anonymized_at IS NOT NULL AS anonymized FROM crm.merge_log;
SELECT action, client_id, actor = session_user AS by_me, detail -> 'merged_clients' AS merged_clients,
       detail -> 'rows' -> 'crm.contact' AS contacts, detail -> 'rows' -> 'public.gdpr_note' AS notes
FROM crm.audit_log WHERE action = 'anonymize';

-- an anonymized client stays so: no personal data, no merge, no undo, no duplicates
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.anonymization_code(1)$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$UPDATE crm.client SET last_name = 'Wąsowicz' WHERE id = 1$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$UPDATE crm.client SET anonymized_at = NULL, last_name = 'X' WHERE id = 1$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$INSERT INTO crm.contact (client_id, kind, value) VALUES (1, 'phone', '601 234 567')$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.set_custom_value(1, 'hobby', 'x')$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.hide_client(1)$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.unhide_client(1)$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.merge_client(3, 1)$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.merge_client(1, 3)$$);
SELECT crm.merge_preview(ARRAY[1]::bigint[], 3) -> 'problems' AS problems;
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.unmerge(1)$$);
SELECT count(*) AS candidates FROM crm.duplicate_candidates(1, 0);
SELECT count(*) AS pairs_with_1 FROM crm.duplicate_pairs(0) WHERE 1 IN (client_a, client_b);
SELECT count(*) AS groups_with_1 FROM crm.find_duplicates(ARRAY['owner']) WHERE client_id = 1;
-- the right of access after: the record and what stays
SELECT crm.client_export(1) #>> '{client,display_name}' AS display_name;

-- a merge undone since gave its source back: anonymizing the old target
-- removes the target's copies only, and touches no later merge of the source
INSERT INTO crm.client (id, first_name, last_name) VALUES
    (10, 'Olga', 'Tokarczuk'), (11, 'Olgierd', 'Tokarski'), (12, 'Olga', 'TOKARCZUK');
SELECT crm.merge_client(10, 11) AS merge_10_into_11 \gset
SELECT crm.unmerge(:merge_10_into_11) AS restored;
SELECT crm.merge_client(12, 10) AS merge_12_into_10 \gset
SELECT crm.anonymize(11, crm.anonymization_code(11));
SELECT id, source_ids, target_id, sources IS NOT NULL AS source_copies, target_before IS NOT NULL AS target_copy,
       undone_at IS NOT NULL AS undone, anonymized_at IS NOT NULL AS anonymized
FROM crm.merge_log WHERE id IN (:merge_10_into_11, :merge_12_into_10) ORDER BY id;
SELECT detail -> 'merged_clients' AS merged_clients FROM crm.audit_log WHERE client_id = 11 AND action = 'anonymize';
SELECT * FROM regress.find_values(ARRAY['Olgierd', 'Tokarski']);

--
-- As a low-privileged role under row-level security
--
SELECT regress.reset();
DROP TABLE public.gdpr_note;
CREATE ROLE regress_gdpr_officer NOLOGIN;
CREATE ROLE regress_gdpr_clerk NOLOGIN;
-- anonymization is for administrators, members of crm_admin: made bare
-- here (crm.create_roles() makes it with its grants, see access_gdpr); the
-- officer's privileges below are its own
CREATE ROLE crm_admin NOLOGIN;
GRANT crm_admin TO regress_gdpr_officer;
GRANT SELECT, UPDATE ON crm.client TO regress_gdpr_officer, regress_gdpr_clerk;
GRANT INSERT ON crm.client TO regress_gdpr_officer;
GRANT SELECT, INSERT ON crm.consent TO regress_gdpr_officer;
GRANT SELECT, INSERT, DELETE ON crm.anonymization_code TO regress_gdpr_officer, regress_gdpr_clerk;
GRANT EXECUTE ON FUNCTION crm.anonymization_code(bigint), crm.anonymize(bigint, text),
                          crm_internal.anonymize_crm_data(bigint, text) TO regress_gdpr_officer;
ALTER TABLE crm.client ENABLE ROW LEVEL SECURITY;
CREATE POLICY client_own ON crm.client USING (owner = current_user);
-- everyone reads every client, but changes only their own
CREATE POLICY client_read ON crm.client FOR SELECT USING (true);
INSERT INTO crm.employee (login) VALUES ('regress_gdpr_officer'), ('someone_else');
INSERT INTO crm.client (id, first_name, last_name, owner) VALUES
    (1, 'Jan', 'Kowalski', 'regress_gdpr_officer'), (2, 'Anna', 'Nowak', 'someone_else');
INSERT INTO crm.contact (client_id, kind, value) VALUES (1, 'phone', '601 000 001'), (2, 'phone', '601 000 002');
CREATE TABLE public.gdpr_note (id integer PRIMARY KEY, client_id bigint REFERENCES crm.client (id), note text);
INSERT INTO public.gdpr_note VALUES (1, 1, 'Jan prefers e-mail');
SELECT crm.set_personal_column('public.gdpr_note', 'note');
-- without EXECUTE: refused
SET ROLE regress_gdpr_clerk;
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.anonymization_code(1)$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.anonymize(1, 'AAAA-AAAA')$$);
SET ROLE regress_gdpr_officer;
-- an administrator gets a code for any client, but crm.anonymize() changes
-- only what the role may change: a client it may read, not change, stays
SELECT count(*) AS readable FROM crm.client;
CREATE TEMP TABLE officer_code_2 AS SELECT crm.anonymization_code(2) AS code;
SELECT err_code, err_message, err_hint FROM regress.error_of(format('SELECT crm.anonymize(2, %L)', (SELECT code FROM officer_code_2)));
-- nobody writes the code table but crm, whatever was granted
SELECT err_code, err_message, err_hint FROM regress.error_of($$INSERT INTO crm.anonymization_code (client_id, salt, code_hash)
                                  VALUES (1, '\x00', sha256('\x00'::bytea || convert_to('AAAAAAAA', 'UTF8')))$$);
-- only crm.anonymize() marks a client anonymized, whatever the role may write
SELECT err_code, err_message, err_hint FROM regress.error_of($$UPDATE crm.client SET anonymized_at = now(),
                                        first_name = NULL, last_name = NULL WHERE id = 1$$);
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.client (id, kind, owner, anonymized_at)
                                                    VALUES (50, 'person', 'regress_gdpr_officer', now())$$);
-- consents written by the role are recorded by crm, with the session's role;
-- the history itself it cannot write, not even from a trigger of its own
INSERT INTO crm.consent (client_id, purpose) VALUES (1, 'newsletter');
RESET ROLE;
SELECT consent_id, event, by_role FROM crm.consent_history;   -- the role SET ROLE chose
GRANT INSERT ON crm.consent_history TO regress_gdpr_officer;   -- even so
SET ROLE regress_gdpr_officer;
CREATE TEMP TABLE forge (consent_id bigint);
CREATE FUNCTION pg_temp.forge() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    INSERT INTO crm.consent_history VALUES (NEW.consent_id, 'withdrawn', 1, 'newsletter', '2020-01-01', 'nobody', NULL);
    RETURN NULL;
END $f$;
CREATE TRIGGER forge AFTER INSERT ON forge FOR EACH ROW EXECUTE FUNCTION pg_temp.forge();
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO forge SELECT id FROM crm.consent$$);
-- nor through crm's own history trigger attached to a table of its own
SELECT err_code, err_message FROM regress.error_of($$CREATE TRIGGER forge2 AFTER INSERT ON forge FOR EACH ROW
                                                    EXECUTE FUNCTION crm_internal.consent_history_write()$$);
DROP TABLE forge;
DROP FUNCTION pg_temp.forge();
RESET ROLE;
-- a role given UPDATE on it too writes it as a restore does: an upsert
-- (the trigger updates, or lets the row in; it never calls itself)
GRANT SELECT, UPDATE ON crm.consent_history TO regress_gdpr_officer;
SET ROLE regress_gdpr_officer;
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.consent_history (consent_id, event, client_id, purpose, at, by_role)
                                                    SELECT id, 'granted', 1, 'newsletter', '2020-01-01', 'regress_restore' FROM crm.consent$$);
RESET ROLE;
SELECT consent_id, event, at, by_role, stated_at FROM crm.consent_history;
REVOKE ALL ON crm.consent_history FROM regress_gdpr_officer;
SELECT count(*) AS history_rows FROM crm.consent_history;
SET ROLE regress_gdpr_officer;
CREATE TEMP TABLE officer_code AS SELECT crm.anonymization_code(1) AS code;
-- nor reads it: even with SELECT granted, no row
SELECT client_id FROM crm.anonymization_code;
RESET ROLE;
-- a code works in the sessions of the role that asked for it only
CREATE TEMP TABLE admin_code AS SELECT crm.anonymization_code(1) AS code;
GRANT SELECT ON admin_code TO regress_gdpr_officer;
SET SESSION AUTHORIZATION regress_gdpr_officer;
-- the registered user tables are written with the officer's own rights:
-- without them nothing happens at all
SELECT err_code, err_message FROM regress.error_of(format('SELECT crm.anonymize(1, %L)', (SELECT code FROM officer_code)));
RESET SESSION AUTHORIZATION;
SELECT id, display_name, anonymized_at IS NOT NULL AS anonymized FROM crm.client WHERE id = 1;
GRANT SELECT, UPDATE ON public.gdpr_note TO regress_gdpr_officer;
-- rows of the user table the officer cannot see would keep their data: refused
INSERT INTO public.gdpr_note VALUES (2, 1, 'secret: Jan Kowalski, 601 000 001');
ALTER TABLE public.gdpr_note ENABLE ROW LEVEL SECURITY;
CREATE POLICY note_public ON public.gdpr_note USING (coalesce(note, '') NOT LIKE 'secret%');
SET SESSION AUTHORIZATION regress_gdpr_officer;
SELECT err_code, err_message FROM regress.error_of(format('SELECT crm.anonymize(1, %L)', (SELECT code FROM officer_code)));
RESET SESSION AUTHORIZATION;
ALTER TABLE public.gdpr_note DISABLE ROW LEVEL SECURITY;
SET SESSION AUTHORIZATION regress_gdpr_officer;
SELECT err_code, err_message, err_hint FROM regress.error_of(format('SELECT crm.anonymize(1, %L)', (SELECT code FROM admin_code)));
SELECT err_code, err_message, err_hint FROM regress.error_of(format('SELECT crm.anonymize(2, %L)', (SELECT code FROM admin_code)));
SELECT crm.anonymize(1, (SELECT code FROM officer_code));
RESET SESSION AUTHORIZATION;
SELECT * FROM public.gdpr_note;
SELECT id, display_name, anonymized_at IS NOT NULL AS anonymized FROM crm.client ORDER BY id;
SELECT client_id, value FROM crm.contact ORDER BY 1;
SELECT action, client_id, actor, detail ->> 'requested_by' AS requested_by FROM crm.audit_log
WHERE action = 'anonymize';

DROP POLICY client_own ON crm.client;
DROP POLICY client_read ON crm.client;
ALTER TABLE crm.client DISABLE ROW LEVEL SECURITY;
SELECT regress.reset();
DROP TABLE public.gdpr_note;
REVOKE ALL ON crm.client, crm.anonymization_code, crm.consent FROM regress_gdpr_officer, regress_gdpr_clerk;
REVOKE ALL ON FUNCTION crm.anonymization_code(bigint), crm.anonymize(bigint, text),
                       crm_internal.anonymize_crm_data(bigint, text) FROM regress_gdpr_officer;
DROP TABLE officer_code, officer_code_2, admin_code;
DROP ROLE regress_gdpr_officer, regress_gdpr_clerk, crm_admin;
