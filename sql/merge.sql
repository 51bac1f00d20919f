--
-- Merging clients: MG-1 to MG-10 (INS, RTM, FCC), the rules, folding,
-- user tables, the journal and undo
--
SELECT regress.reset();
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Agency'), (2, 1, 'branch', 'Kraków'), (3, 2, 'department', 'Motor'),
    (4, 1, 'branch', 'Gdańsk'), (5, NULL, 'channel', 'Direct');
INSERT INTO crm.employee (login) VALUES ('anna'), ('piotr');   -- the account managers below
INSERT INTO crm.client (id, kind, first_name, last_name, company_name, city, address, pesel, unit_id, synced, owner) VALUES
    (1, 'person', 'Katarzyna', 'Wiśniewska', NULL, 'Kraków', 'ul. Długa 5/3', '90031212347', 3, true, 'anna'),
    (2, 'person', 'Kasia', 'Wisniewska', NULL, 'Krakow', 'Długa 5 m. 3', NULL, 2, false, 'piotr'),
    (3, 'person', 'Piotr', 'Zieliński', NULL, 'Warszawa', NULL, '79112305677', 2, false, NULL),
    (4, 'person', 'Piotr', 'Zielinski', NULL, 'Gdańsk', NULL, NULL, 4, false, NULL),
    (5, 'company', NULL, NULL, 'Agro-Pol S.A.', 'Kraków', NULL, NULL, 3, false, NULL),
    (6, 'person', 'Zofia', 'Nowak', NULL, 'Kraków', NULL, NULL, 5, false, NULL),
    (7, 'person', 'Jan', 'Kowalski', NULL, NULL, NULL, NULL, NULL, false, NULL);
INSERT INTO crm.contact (client_id, kind, value) VALUES
    (1, 'phone', '601 234 567'), (1, 'email', 'k.wisniewska@gmail.com'),
    (2, 'phone', '601-234-567'), (2, 'phone', '12 421 00 00'), (2, 'email', 'kasia.w@gmail.com'),
    (3, 'phone', '602 111 222'), (4, 'phone', '603 000 000');
INSERT INTO crm.segment (id, name) VALUES (1, 'VIP'), (2, 'Flota');
INSERT INTO crm.segment_member (segment_id, client_id) VALUES (1, 1), (1, 2), (2, 2);
INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'Hobby', 'text'), (2, 'Dzieci', 'number');
SELECT crm.set_custom_value(1, 'Hobby', 'żeglarstwo'), crm.set_custom_value(2, 'Hobby', 'narty'),
       crm.set_custom_value(2, 'Dzieci', '2');
INSERT INTO crm.document (id, client_id, kind, title) VALUES
    (1, 2, 'consent_confirmation', 'Zgoda e-mail (skan)'), (2, 2, 'scan', 'Dowód');
INSERT INTO crm.consent (client_id, purpose, document_id) VALUES (1, 'marketing_email', NULL), (2, 'marketing_email', 1);
INSERT INTO crm.policy (id, client_id, number, insurer, starts_on, ends_on) VALUES
    (1, 2, 'OC/1', 'PZU', '2026-01-01', '2026-12-31'), (2, 2, 'AC/1', 'PZU', '2026-01-01', '2026-12-31');
INSERT INTO crm.invoice (id, client_id, number, billed_name) VALUES (1, 2, 'FV/1', 'Kasia Wisniewska');
INSERT INTO crm.interaction (id, client_id, channel, occurred_at, summary) VALUES
    (1, 2, 'call', '2026-02-01 10:00+01', 'call on the duplicate record'),
    (2, 1, 'call', '2026-01-01 10:00+01', 'call on the right record');
SELECT regress.sync_identities();

-- before anything happens: the summary (DU-3)
SELECT p -> 'can_merge' AS can_merge, p -> 'problems' AS problems,
       jsonb_path_query_array(p, '$.rules[*] ? (@.passes == false).rule') AS failing_rules,
       jsonb_path_query_array(p, '$.fields[*].field') AS differing_fields, p -> 'warnings' AS warnings
FROM crm.merge_preview(ARRAY[2], 1) AS p;
SELECT t.* FROM jsonb_to_recordset(crm.merge_preview(ARRAY[2], 1) -> 'tables')
    AS t("table" text, action text, action_if_contacts_target text, "rows" int, fold_into_target int);
SELECT c.* FROM jsonb_to_recordset(crm.merge_preview(ARRAY[2], 1) -> 'contacts' -> 'union')
    AS c(kind text, value text, clients jsonb, "default" boolean);
SELECT crm.merge_preview(ARRAY[2], 1) -> 'contacts' -> 'target_drops' AS dropped_in_target_mode;
SELECT r.* FROM jsonb_to_recordset(crm.merge_preview(ARRAY[2, 99], 6) -> 'rules')
    AS r(rule text, source_id bigint, enabled boolean, passes boolean, sqlstate text);
SELECT crm.merge_preview(ARRAY[2, 99], 6) -> 'problems' AS problems;
SELECT jsonb_pretty(f) FROM jsonb_array_elements(crm.merge_preview(ARRAY[2], 1) -> 'fields') AS f
WHERE f ->> 'field' IN ('city', 'custom:Hobby');

-- FCC: everything moves, all phones and e-mails are kept once, the target's
-- defaults stay, a chosen field comes from the source (MG-1, MG-3, MG-4)
SELECT crm.merge_client(2, 1, '{"address": 2, "custom:Hobby": 2}') AS merge_id;
SELECT id, display_name, city, address FROM crm.client WHERE id IN (1, 2);
SELECT client_id, kind, value, is_default FROM crm.contact WHERE client_id = 1 ORDER BY kind, value;
SELECT segment_id, client_id FROM crm.segment_member ORDER BY 1, 2;
SELECT field, value FROM crm.client_custom_value WHERE client_id = 1 ORDER BY field;
-- MG-7: the consents of the source are not carried, their documents are
SELECT client_id, purpose FROM crm.consent ORDER BY client_id;
SELECT id, client_id, kind FROM crm.document ORDER BY id;
-- MG-8: the history says on which record each contact happened
SELECT id, client_id, on_record, from_merged_record FROM crm.contact_history ORDER BY id;
SELECT last_contact_at FROM crm.client WHERE id = 1;
-- MG-9: moved invoices can be refreshed with the target's data
SELECT number, client_id, needs_refresh FROM crm.invoice;
SELECT id, client_id FROM crm.policy ORDER BY id;

-- the journal
SELECT id, target_id, source_ids, merged_by = current_user AS by_me, contacts, field_values,
       sources -> 0 ->> 'first_name' AS source_first_name, undone_at
FROM crm.merge_log;
SELECT relation, action, client_id,
       sum(CASE action WHEN 'moved' THEN jsonb_array_length(coalesce(row_key, row_data)) ELSE 1 END) AS rows
FROM crm.merge_log_row GROUP BY 1, 2, 3 ORDER BY relation::text, action;

-- undo: the source comes back with its id and everything it had
SELECT crm.unmerge(1) AS restored;
SELECT id, display_name, city, address FROM crm.client WHERE id IN (1, 2) ORDER BY id;
SELECT client_id, kind, value, is_default FROM crm.contact WHERE client_id IN (1, 2) ORDER BY client_id, kind, value;
SELECT segment_id, client_id FROM crm.segment_member ORDER BY 1, 2;
SELECT client_id, field, value FROM crm.client_custom_value ORDER BY 1, 2;
SELECT client_id, purpose FROM crm.consent ORDER BY client_id;
SELECT id, client_id FROM crm.interaction ORDER BY id;
SELECT id, client_id FROM crm.policy ORDER BY id;
SELECT id, undone_at IS NOT NULL AS undone FROM crm.merge_log;
SELECT err_code, err_message FROM regress.error_of('SELECT crm.unmerge(1)');

-- INS: the source's contacts and address are not carried ('target' mode)
SELECT crm.merge_client(2, 1, NULL, 'target') AS merge_id;
SELECT client_id, kind, value FROM crm.contact WHERE client_id = 1 ORDER BY kind, value;
SELECT address FROM crm.client WHERE id = 1;
SELECT crm.unmerge(2);
SELECT client_id, kind, value, is_default FROM crm.contact WHERE client_id = 2 ORDER BY kind, value;

-- the rules, each refusal with its SQLSTATE, facts and the fix
-- MG-5 structure: the target must be in the source's unit or below it
SELECT * FROM regress.error_of('SELECT crm.merge_client(1, 2)');
SELECT * FROM regress.error_of('SELECT crm.merge_client(4, 3)');
-- MG-6 sync: a synchronized client does not go into an unsynchronized one
SELECT * FROM regress.error_of('SELECT crm.merge_client(1, 5)');
-- MG-7 consent: a source with consents needs a target with its own
INSERT INTO crm.client (id, last_name, unit_id) VALUES (8, 'Wiśniewska-Bis', 3);
SELECT * FROM regress.error_of('SELECT crm.merge_client(2, 8)');
-- each rule can be switched off for the database (administrators)
SELECT crm.set_merge_rule('structure', false);
SELECT r.rule, r.enabled, r.passes FROM crm_internal.merge_rule_check(ARRAY[4], 3) r ORDER BY 1;
SELECT crm.merge_client(4, 3) AS merge_id;
SELECT crm.set_merge_rule('structure', NULL);
SELECT count(*) AS merge_rules FROM crm.merge_rule;

-- the other refusals
SELECT * FROM regress.error_of('SELECT crm.merge_client(1, 1)');
SELECT * FROM regress.error_of('SELECT crm.merge_client(99, 1)');
SELECT * FROM regress.error_of('SELECT crm.merge_client(4, 3)');   -- merged into client 2 above
SELECT * FROM regress.error_of('SELECT crm.merge_clients(ARRAY[2, 2], 1)');
SELECT * FROM regress.error_of('SELECT crm.merge_clients(ARRAY[]::bigint[], 1)');
SELECT * FROM regress.error_of('SELECT crm.merge_clients(ARRAY[2, NULL], 1)');
SELECT * FROM regress.error_of($$SELECT crm.merge_client(2, 1, NULL, 'both')$$);
SELECT * FROM regress.error_of($$SELECT crm.merge_client(2, 1, '{"created_at": 2}')$$);
SELECT * FROM regress.error_of($$SELECT crm.merge_client(2, 1, '{"city": 5}')$$);
SELECT * FROM regress.error_of($$SELECT crm.merge_client(2, 1, '["city"]')$$);
SELECT crm.hide_client(7, 'left');
SELECT err_code, err_message, err_hint FROM regress.error_of('SELECT crm.merge_client(7, 1)');
SELECT crm.unhide_client(7);
-- a refused merge changed nothing
SELECT count(*) AS clients, (SELECT count(*) FROM crm.merge_log) AS merges FROM crm.client;

-- RTM, FCC: several records into one base record, all or nothing (MG-2)
SELECT * FROM regress.error_of('SELECT crm.merge_clients(ARRAY[2, 6], 1)');
SELECT count(*) AS clients FROM crm.client WHERE id IN (2, 6);
SELECT crm.merge_clients(ARRAY[7], 5) IS NOT NULL AS merged;
SELECT crm.merge_clients(ARRAY[2, 8], 1, '{"first_name": 2}') AS merge_id \gset
SELECT id, first_name, last_name FROM crm.client WHERE id IN (1, 2, 8) ORDER BY id;
SELECT crm.unmerge(:merge_id);
SELECT id, first_name FROM crm.client WHERE id IN (1, 2, 8) ORDER BY id;

-- undo refuses what later changes make unsafe: a moved row deleted since
SELECT crm.merge_client(2, 1, '{"first_name": 2}') AS m1 \gset
DELETE FROM crm.policy WHERE number = 'AC/1';
SELECT * FROM regress.error_of(format('SELECT crm.unmerge(%s)', :m1));
INSERT INTO crm.policy (id, client_id, number, insurer, starts_on, ends_on)
    VALUES (2, 1, 'AC/1', 'PZU', '2026-01-01', '2026-12-31');
-- a field the merge chose, changed since
UPDATE crm.client SET first_name = 'Katarzyna' WHERE id = 1;
SELECT * FROM regress.error_of(format('SELECT crm.unmerge(%s)', :m1));
UPDATE crm.client SET first_name = 'Kasia' WHERE id = 1;
-- the target merged into another client since
INSERT INTO crm.client (id, last_name, unit_id, synced) VALUES (9, 'Wiśniewska', 3, true);
INSERT INTO crm.consent (client_id, purpose) VALUES (9, 'marketing_phone');
SELECT crm.merge_client(1, 9) AS m2 \gset
SELECT * FROM regress.error_of(format('SELECT crm.unmerge(%s)', :m1));
SELECT crm.unmerge(:m2) = 1 AS restored_1;
SELECT crm.unmerge(:m1) = 2 AS restored_2;
SELECT id, first_name FROM crm.client WHERE id IN (1, 2, 9) ORDER BY id;
SELECT * FROM regress.error_of('SELECT crm.unmerge(999)');

-- undo goes last first: an older merge into a target that took another since
SELECT crm.merge_client(2, 1) AS ma \gset
SELECT crm.merge_client(5, 1) AS mb \gset
SELECT err_code, err_message, err_hint FROM regress.error_of(format('SELECT crm.unmerge(%s)', :ma));
SELECT crm.unmerge(:mb) = 5 AS restored_5, crm.unmerge(:ma) = 2 AS restored_2;

-- a record's kind and the name it needs are taken together; undo gives back
-- what the triggers derived too (the birth date of a PESEL taken)
INSERT INTO crm.client (id, kind, company_name, unit_id) VALUES (10, 'company', 'Wiśniewska Consulting', 3);
INSERT INTO crm.client (id, last_name, pesel, unit_id) VALUES (11, 'Wiśniewska', '90031212347', 3);
INSERT INTO crm.client (id, last_name, unit_id) VALUES (12, 'Wisniewska', 3);
SELECT crm.merge_client(10, 12, '{"kind": 10, "company_name": 10}') AS mk \gset
SELECT id, kind, company_name, display_name FROM crm.client WHERE id = 12;
SELECT crm.unmerge(:mk);
SELECT id, kind, company_name, display_name FROM crm.client WHERE id IN (10, 12) ORDER BY id;
SELECT crm.merge_client(11, 12, '{"pesel": 11}') AS mp \gset
SELECT id, pesel, birth_date FROM crm.client WHERE id = 12;
SELECT crm.unmerge(:mp);
SELECT id, pesel, birth_date FROM crm.client WHERE id IN (11, 12) ORDER BY id;

-- user tables: found from the catalog, multi-column keys included; unique
-- rows fold; the registry may drop rows or call a function
CREATE TABLE public.loyalty_card (card_no text PRIMARY KEY, holder bigint NOT NULL REFERENCES crm.client (id));
CREATE INDEX ON public.loyalty_card (holder);
ALTER TABLE crm.client ADD CONSTRAINT client_id_kind_key UNIQUE (id, kind);
CREATE TABLE public.person_card (client_id bigint, kind text, note text,
    FOREIGN KEY (client_id, kind) REFERENCES crm.client (id, kind));
CREATE TABLE public.newsletter (client_id bigint REFERENCES crm.client (id), list text,
    UNIQUE (client_id, list));
CREATE TABLE public.scratch (client_id bigint REFERENCES crm.client (id), note text);
CREATE TABLE public.audit_of_merges (merge_id bigint, source_id bigint, target_id bigint);
CREATE FUNCTION public.note_merge(source_id bigint, target_id bigint, merge_id bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO public.audit_of_merges VALUES (merge_id, source_id, target_id);
    DELETE FROM public.scratch WHERE client_id = source_id;
$$;
INSERT INTO public.loyalty_card VALUES ('LC-1', 2);
INSERT INTO public.person_card VALUES (2, 'person', 'a'), (2, 'person', 'b');
INSERT INTO public.newsletter VALUES (1, 'news'), (2, 'news'), (2, 'offers');
INSERT INTO public.scratch VALUES (2, 'temp');
SELECT t.* FROM jsonb_to_recordset(crm.merge_preview(ARRAY[2], 1) -> 'tables')
    AS t("table" text, action text, "rows" int, fold_into_target int);
SELECT crm.merge_preview(ARRAY[2], 1) -> 'warnings' AS warnings;
SELECT crm.set_merge_table_rule('public.scratch', 'function', 'public.note_merge(bigint, bigint, bigint)');
SELECT relation, action, handler FROM crm.merge_table_rule;
-- what the registry holds is checked, however it is written
SELECT * FROM regress.error_of($$INSERT INTO crm.merge_table_rule VALUES ('public.newsletter', 'function', 'public.nope(bigint,bigint,bigint)')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.merge_table_rule VALUES ('public.newsletter', 'function', 'public.note_merge')$$);
SELECT * FROM regress.error_of($$SELECT crm.set_merge_table_rule('public.newsletter', 'function', 'pg_catalog.lower(text)')$$);
SELECT * FROM regress.error_of($$SELECT crm.set_merge_table_rule('public.newsletter', 'function')$$);
SELECT * FROM regress.error_of($$SELECT crm.set_merge_table_rule('public.newsletter', 'drop', 'public.note_merge(bigint, bigint, bigint)')$$);
SELECT * FROM regress.error_of($$SELECT crm.set_merge_table_rule('public.newsletter', 'keep')$$);
SELECT * FROM regress.error_of($$SELECT crm.set_merge_table_rule('public.audit_of_merges', 'drop')$$);
SELECT crm.merge_client(2, 1) AS m3 \gset
SELECT * FROM public.loyalty_card;
SELECT * FROM public.person_card ORDER BY note;
SELECT * FROM public.newsletter ORDER BY client_id, list;
SELECT count(*) AS scratch_left, (SELECT count(*) FROM public.audit_of_merges) AS handler_calls FROM public.scratch;
SELECT * FROM regress.error_of(format('SELECT crm.unmerge(%s)', :m3));
SELECT crm.set_merge_table_rule('public.scratch', 'drop');
SELECT relation, action, handler FROM crm.merge_table_rule;

-- a table without a primary key: its rows move, the merge cannot be undone
SELECT crm.set_merge_table_rule('public.scratch', NULL);
INSERT INTO public.newsletter VALUES (11, 'weekly');
SELECT crm.merge_client(11, 1) AS mn \gset
SELECT * FROM public.newsletter WHERE client_id = 1 ORDER BY list;
SELECT err_code, err_message, err_detail FROM regress.error_of(format('SELECT crm.unmerge(%s)', :mn));

-- rows other rows cascade from are not folded away unseen
CREATE TABLE public.subscription (client_id bigint REFERENCES crm.client (id), list text,
    PRIMARY KEY (client_id, list));
CREATE TABLE public.subscription_event (client_id bigint, list text, at date,
    FOREIGN KEY (client_id, list) REFERENCES public.subscription ON DELETE CASCADE);
INSERT INTO public.subscription VALUES (1, 'news'), (12, 'news');
INSERT INTO public.subscription_event VALUES (12, 'news', '2026-03-01');
SELECT * FROM regress.error_of('SELECT crm.merge_client(12, 1)');
SELECT count(*) AS events_kept FROM public.subscription_event;

-- a key to a client column other than the id needs the target to have it
ALTER TABLE crm.client ADD CONSTRAINT client_external_id_key UNIQUE (external_id);
CREATE TABLE public.account (ext text REFERENCES crm.client (external_id));
UPDATE crm.client SET external_id = 'EXT-12' WHERE id = 12;
INSERT INTO public.account VALUES ('EXT-12');
DELETE FROM public.subscription;
SELECT * FROM regress.error_of('SELECT crm.merge_client(12, 1)');
SELECT * FROM public.account;

DROP TABLE public.loyalty_card, public.person_card, public.newsletter, public.scratch, public.audit_of_merges,
           public.subscription_event, public.subscription, public.account;
DROP FUNCTION public.note_merge(bigint, bigint, bigint);
ALTER TABLE crm.client DROP CONSTRAINT client_id_kind_key;
ALTER TABLE crm.client DROP CONSTRAINT client_external_id_key;
SELECT regress.reset();
