--
-- Bulk dedupe (DU-2): merge each group into its oldest record, or
-- delete all but the oldest, skipping what must not go
--
SELECT regress.reset();

INSERT INTO crm.client (id, first_name, last_name, city, address, synced, created_at) VALUES
    (1, 'Jan', 'Kowalski', 'Kraków', NULL, false, '2019-01-01'),
    (2, 'Jan', 'KOWALSKI', 'Kraków', 'ul. Nowa 1', false, '2021-01-01'),
    (3, 'Jan', 'Kowalski', 'Kraków', 'ul. Stara 9', false, '2020-01-01'),
    (4, 'Anna', 'Nowak', 'Gdańsk', NULL, false, '2019-01-01'),
    (5, 'Anna', 'Nowak', 'Gdańsk', NULL, true, '2022-01-01'),    -- synced: MG-6 refuses the merge
    (6, 'Ewa', 'Lis', 'Opole', NULL, false, '2018-01-01');
INSERT INTO crm.contact (client_id, kind, value) VALUES
    (1, 'phone', '601 000 001'), (2, 'phone', '601 000 002'), (3, 'email', 'jan@example.com');

SELECT * FROM regress.error_of($$SELECT crm.dedupe(ARRAY['last_name'], 'purge')$$);
SELECT * FROM regress.error_of($$SELECT crm.dedupe(ARRAY['no_such_field'], 'merge')$$);

-- merge: into the oldest (1), every phone and e-mail kept, the address from the newest (2)
SELECT jsonb_pretty(crm.dedupe(ARRAY['first_name', 'last_name', 'city'], 'merge') - 'skipped_detail');
SELECT s ->> 'clients' AS clients, s ->> 'kept' AS kept, s ->> 'reason' AS reason
FROM jsonb_array_elements(crm.dedupe(ARRAY['first_name', 'last_name'], 'merge') -> 'skipped_detail') s;
SELECT id, address, hidden_at IS NULL AS visible FROM crm.client ORDER BY id;
SELECT client_id, kind, value FROM crm.contact ORDER BY client_id, kind, value;

-- delete: all but the oldest; a record with business records is skipped and reported
SELECT regress.reset();
INSERT INTO crm.client (id, first_name, last_name, created_at) VALUES
    (1, 'Jan', 'Kowalski', '2019-01-01'), (2, 'Jan', 'Kowalski', '2020-01-01'),
    (3, 'Jan', 'Kowalski', '2021-01-01');
INSERT INTO crm.contact (client_id, kind, value) VALUES (2, 'phone', '601 000 002');
INSERT INTO crm.policy (client_id, number, insurer, starts_on, ends_on)
VALUES (3, 'P/1', 'PZU', '2026-01-01', '2026-12-31');
SELECT crm.dedupe(ARRAY['first_name', 'last_name'], 'delete') - 'skipped_detail' AS result;
SELECT s ->> 'clients' AS clients, s ->> 'kept' AS kept, s ->> 'reason' AS reason
FROM jsonb_array_elements(crm.dedupe(ARRAY['first_name', 'last_name'], 'delete') -> 'skipped_detail') s;
SELECT id FROM crm.client ORDER BY id;

-- nothing to do
SELECT crm.dedupe(ARRAY['pesel'], 'merge');

-- progress: a NOTICE every 5 % of 1,000 groups or more, never for fewer
SELECT crm_internal.report_progress('test', 50, 1000, clock_timestamp() - interval '10 s');
SELECT crm_internal.report_progress('test', 51, 1000, clock_timestamp());
SELECT crm_internal.report_progress('test', 50, 999, clock_timestamp());

--
-- The manual plan (DU-3): create, edit with UPDATEs, preview, apply
--
SELECT regress.reset();
INSERT INTO crm.client (id, first_name, last_name, city, address, pesel, synced, created_at) VALUES
    (1, 'Jan', 'Kowalski', 'Kraków', 'ul. Stara 1', '44051401052', false, '2019-01-01'),
    (2, 'Jan', 'Kowalsky', 'Kraków', 'ul. Nowa 2', '44051401052', false, '2020-01-01'),
    (3, 'Jan', 'Kowalski', 'Kraków', NULL, '44051401052', false, '2021-01-01'),
    (4, 'Anna', 'Nowak', 'Gdańsk', NULL, NULL, false, '2019-06-01'),
    (5, 'Anna', 'Nowak', 'Gdańsk', NULL, NULL, true, '2022-01-01');
INSERT INTO crm.contact (client_id, kind, value) VALUES
    (1, 'phone', '601 000 001'), (2, 'phone', '601 000 002'), (4, 'email', 'anna@example.com'),
    (5, 'email', 'ANNA@example.com');

-- from exact criteria: groups numbered by their oldest record, which is the main one
SELECT crm.create_dedupe_plan(ARRAY['pesel']) AS plan \gset
SELECT group_no, client_id, is_main, action, display_name FROM crm.dedupe_plan_item WHERE plan_id = :plan ORDER BY 1, 2;
DELETE FROM crm.dedupe_plan WHERE id = :plan;

-- from fuzzy pairs: linked clients form one group
SELECT crm.create_dedupe_plan(0.5) AS plan \gset
SELECT origin, applied_at FROM crm.dedupe_plan WHERE id = :plan;
SELECT group_no, client_id, is_main, action FROM crm.dedupe_plan_item WHERE plan_id = :plan ORDER BY 1, 2;
SELECT * FROM crm.dedupe_plan_preview(:plan);

-- the user edits: record 2 is the main one (one UPDATE moves it), 3 is deleted,
-- the address from 1, the default phone 601 000 001; group 2 stays as it is
UPDATE crm.dedupe_plan_item SET is_main = (client_id = 2) WHERE plan_id = :plan AND group_no = 1;
UPDATE crm.dedupe_plan_item SET action = 'delete' WHERE plan_id = :plan AND client_id = 3;
INSERT INTO crm.dedupe_plan_choice (plan_id, group_no, choice, client_id, value) VALUES
    (:plan, 1, 'address', 1, NULL), (:plan, 1, 'default_phone', NULL, '601-000-001');
SELECT * FROM crm.dedupe_plan_preview(:plan);
-- group 2 cannot be merged (MG-6): applying refuses, nothing done
SELECT * FROM regress.error_of(format('SELECT crm.apply_dedupe_plan(%s)', :plan));
SELECT count(*) AS clients_still FROM crm.client;
UPDATE crm.dedupe_plan_item SET action = 'nothing' WHERE plan_id = :plan AND group_no = 2;
-- strict (MG-4): the last names still differ without a choice
SELECT err_code, err_message, err_detail FROM regress.error_of(format('SELECT crm.apply_dedupe_plan(%s)', :plan));
INSERT INTO crm.dedupe_plan_choice (plan_id, group_no, choice, client_id) VALUES (:plan, 1, 'last_name', 2);
SELECT crm.apply_dedupe_plan(:plan);
SELECT id, last_name, address FROM crm.client ORDER BY id;
SELECT client_id, value, is_default FROM crm.contact WHERE kind = 'phone' ORDER BY client_id, value;
SELECT applied_by IS NOT NULL AS applied, result FROM crm.dedupe_plan WHERE id = :plan;
-- once only
SELECT err_code, err_message, err_hint FROM regress.error_of(format('SELECT crm.apply_dedupe_plan(%s)', :plan));
SELECT * FROM regress.error_of('SELECT crm.apply_dedupe_plan(999)');
-- two main records are refused at commit
BEGIN;
UPDATE crm.dedupe_plan_item SET is_main = true WHERE plan_id = :plan AND group_no = 2;
COMMIT;
