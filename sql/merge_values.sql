--
-- Merges never drop a value silently (MG-4): fills, conflicts, strict, the
-- journal and undo, the dedupe plan's preview; and one statement writing
-- many clients' contacts (issue 13), as a role with contact rights only
--
SELECT regress.reset();
-- a DBA's own column is a field like the others
ALTER TABLE crm.client ADD COLUMN loyalty_card text;
COMMENT ON COLUMN crm.client.loyalty_card IS 'regress: a DBA''s own column';
INSERT INTO crm.employee (login) VALUES ('anna');
INSERT INTO crm.client (id, kind, first_name, last_name, city, address, pesel, owner, loyalty_card) VALUES
    (301, 'person', 'Jan', 'Kowalski', 'Kraków', NULL, NULL, NULL, NULL),
    (302, 'person', 'Jan', 'Kowalski', 'Kraków', 'ul. Długa 5', '90031212347', 'anna', 'LC-1'),
    (303, 'person', 'Jan', 'Kowalski', 'Warszawa', NULL, NULL, NULL, NULL),
    (304, 'person', 'Jan', 'Kowalski', 'Gdańsk', 'ul. Krótka 1', NULL, NULL, 'LC-2');
INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'Hobby', 'text');
SELECT crm.set_custom_value(302, 'Hobby', 'narty'), crm.set_custom_value(303, 'Hobby', 'żeglarstwo');
INSERT INTO crm.policy (id, client_id, number, insurer, starts_on, ends_on) VALUES
    (1, 304, 'OC/304', 'PZU', '2026-01-01', '2026-12-31');
SELECT regress.sync_identities();

-- the fields, read from the table: the DBA's column and the custom field too
SELECT crm.merge_fields();

-- the preview: what the target lacks and a source has is filled
SELECT f.* FROM jsonb_to_recordset(crm.merge_preview(ARRAY[302], 301) -> 'fills')
    AS f(field text, "from" bigint, value jsonb);
SELECT crm.merge_preview(ARRAY[302], 301) -> 'conflicts' AS conflicts;

-- the issue's case: merge_client(302, 301) left 301 without 302's PESEL
SELECT crm.merge_client(302, 301) AS merge_id \gset
SELECT id, city, address, pesel, birth_date, owner, loyalty_card FROM crm.client WHERE id = 301;
SELECT client_id, text_value FROM crm.custom_value ORDER BY client_id;
SELECT field_values, conflicts FROM crm.merge_log WHERE id = :merge_id;
-- undo brings the target's empty fields back, and the source with its values
SELECT crm.unmerge(:merge_id);
SELECT id, city, address, pesel, birth_date, owner, loyalty_card FROM crm.client WHERE id IN (301, 302) ORDER BY id;
SELECT client_id, text_value FROM crm.custom_value ORDER BY client_id;

-- different values: the preview lists every conflict with each record's value
SELECT c.* FROM jsonb_to_recordset(crm.merge_preview(ARRAY[303], 301) -> 'conflicts')
    AS c(field text, "values" jsonb);
-- strict: refused (CR004), the fields and the records named, not the values
SELECT * FROM regress.error_of($$SELECT crm.merge_client(303, 301, NULL, 'union', true)$$);
SELECT * FROM regress.error_of($$SELECT crm.merge_clients(ARRAY[303, 304], 301, strict => true)$$);
SELECT count(*) AS merges FROM crm.merge_log WHERE undone_at IS NULL;
-- strict with a choice for every conflict: merged, the chosen value kept
SELECT crm.merge_client(303, 301, '{"city": 303}', 'union', true) AS merge_id \gset
SELECT id, city, loyalty_card FROM crm.client WHERE id = 301;
SELECT client_id, text_value FROM crm.custom_value ORDER BY client_id;
SELECT field_values, conflicts FROM crm.merge_log WHERE id = :merge_id;
SELECT crm.unmerge(:merge_id);

-- not strict (the default): the target's value stays, said in a NOTICE and
-- journaled with every value; fills still apply
SELECT crm.set_custom_value(301, 'Hobby', 'szachy');
SELECT crm.merge_clients(ARRAY[303, 304], 301) AS merge_id \gset
SELECT id, city, address, loyalty_card FROM crm.client WHERE id = 301;
SELECT client_id, text_value FROM crm.custom_value ORDER BY client_id;
SELECT field_values, jsonb_pretty(conflicts) FROM crm.merge_log WHERE id = :merge_id;
-- undo: the filled address and card go, the sources come back
SELECT crm.unmerge(:merge_id);
SELECT id, city, address, loyalty_card FROM crm.client WHERE id IN (301, 303, 304) ORDER BY id;
SELECT client_id, text_value FROM crm.custom_value ORDER BY client_id;

-- the dedupe plan: fills, conflicts without a choice, and the linked
-- records a delete would meet, before apply
INSERT INTO crm.dedupe_plan (id, origin) VALUES (1, 'regress');
INSERT INTO crm.dedupe_plan_item (plan_id, group_no, client_id, is_main, action) VALUES
    (1, 1, 301, true, 'merge'), (1, 1, 302, false, 'merge'), (1, 1, 303, false, 'merge'),
    (1, 1, 304, false, 'delete');
SELECT group_no, main_id, merge_ids, delete_ids, problems, jsonb_pretty(fills) AS fills,
       jsonb_pretty(conflicts) AS conflicts, delete_blocked_by
FROM crm.dedupe_plan_preview(1);
-- the delete would meet the policy: refused before anything happens
SELECT * FROM regress.error_of($$SELECT crm.apply_dedupe_plan(1)$$);
UPDATE crm.dedupe_plan_item SET action = 'nothing' WHERE plan_id = 1 AND client_id = 304;
-- strict (the default for the plan): refused while a conflict has no choice
SELECT * FROM regress.error_of($$SELECT crm.apply_dedupe_plan(1)$$);
-- choices made: applied, nothing dropped
INSERT INTO crm.dedupe_plan_choice (plan_id, group_no, choice, client_id) VALUES
    (1, 1, 'city', 301), (1, 1, 'custom:Hobby', 303);
SELECT group_no, problems, conflicts, delete_blocked_by FROM crm.dedupe_plan_preview(1);
SELECT crm.apply_dedupe_plan(1);
SELECT id, city, address, pesel, owner, loyalty_card FROM crm.client WHERE id = 301;
SELECT client_id, text_value FROM crm.custom_value ORDER BY client_id;

-- anonymizing a client of a merge clears the values the journal kept
SELECT crm.merge_client(304, 301) AS merge_id \gset
SELECT conflicts IS NOT NULL AS has_conflicts FROM crm.merge_log WHERE id = :merge_id;
SELECT crm.anonymize(301, crm.anonymization_code(301)) IS NOT NULL AS anonymized;
SELECT field_values, conflicts, sources FROM crm.merge_log WHERE id = :merge_id;

--
-- Contacts: one statement over many clients, at default server settings,
-- by a role with rights on crm.contact only
--
SELECT regress.reset();
CREATE ROLE regress_contact_writer;
GRANT USAGE ON SCHEMA crm TO regress_contact_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON crm.contact TO regress_contact_writer;
INSERT INTO crm.client (id, last_name) SELECT g, 'Nowak' || g FROM generate_series(1, 1000) g;
SET ROLE regress_contact_writer;
-- (bench/bulk_contacts.sh writes a million in one statement)
INSERT INTO crm.contact (client_id, kind, value)
SELECT g, k.kind, CASE k.kind WHEN 'phone' THEN '+48 600 ' || lpad(g::text, 6, '0') ELSE 'nowak' || g || '@Example.PL' END
FROM generate_series(1, 1000) g, (VALUES ('phone'), ('email'), ('phone')) AS k(kind)
ON CONFLICT (client_id, kind, value) DO NOTHING;
-- a second phone for every client, then the defaults: one of each kind per client
INSERT INTO crm.contact (client_id, kind, value) SELECT g, 'phone', '+48 700 ' || lpad(g::text, 6, '0') FROM generate_series(1, 1000) g;
SELECT kind, count(*) AS contacts, count(*) FILTER (WHERE is_default) AS defaults,
       count(DISTINCT client_id) AS clients, min(value) AS a_value
FROM crm.contact GROUP BY kind ORDER BY kind;
-- the new phones as the defaults, in one UPDATE
UPDATE crm.contact SET is_default = value LIKE '+48700%' WHERE kind = 'phone';
SELECT count(*) FILTER (WHERE is_default) AS defaults, count(*) FILTER (WHERE is_default AND value LIKE '+48700%') AS new_ones
FROM crm.contact WHERE kind = 'phone';
-- the defaults deleted: the oldest left is the default again
DELETE FROM crm.contact WHERE is_default AND kind = 'phone';
SELECT count(*) AS phones, count(*) FILTER (WHERE is_default) AS defaults,
       count(*) FILTER (WHERE is_default AND value LIKE '+48600%') AS first_ones
FROM crm.contact WHERE kind = 'phone';
-- every phone of clients 1..300 moved to clients 701..1000, which have
-- their own defaults: theirs stay, 1..300 have none left
UPDATE crm.contact SET client_id = client_id + 700 WHERE client_id <= 300 AND kind = 'phone';
SELECT client_id <= 300 AS moved_from, count(*) AS phones, count(*) FILTER (WHERE is_default) AS defaults
FROM crm.contact WHERE kind = 'phone' AND (client_id <= 300 OR client_id > 700) GROUP BY 1 ORDER BY 1;
-- the role cannot lock a client row, and has no function to lock one by id
SELECT * FROM regress.error_of($$SELECT FROM crm.client WHERE id = 1 FOR NO KEY UPDATE$$);
SELECT * FROM regress.error_of($$SELECT crm_internal.contact_own_write(0)$$);
RESET ROLE;
SELECT p.oid::regprocedure AS contact_definer_functions
FROM pg_proc p
WHERE p.pronamespace IN ('crm'::regnamespace, 'crm_internal'::regnamespace) AND p.prosecdef
  AND p.proname LIKE '%contact%'
ORDER BY p.oid::regprocedure::text;
-- an anonymized client takes no contact, in a bulk statement too
SELECT crm.anonymize(5, crm.anonymization_code(5)) IS NOT NULL AS anonymized;
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.contact (client_id, kind, value) VALUES (4, 'phone', '600000004'), (5, 'phone', '600000005')$$);

REVOKE ALL ON crm.contact FROM regress_contact_writer;
REVOKE ALL ON SCHEMA crm FROM regress_contact_writer;
DROP ROLE regress_contact_writer;
ALTER TABLE crm.client DROP COLUMN loyalty_card;
SELECT regress.reset();
