--
-- Bulk dedupe (SPEC DU-2): merge each group into its oldest record, or
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
SELECT crm.report_progress('test', 50, 1000, clock_timestamp() - interval '10 s');
SELECT crm.report_progress('test', 51, 1000, clock_timestamp());
SELECT crm.report_progress('test', 50, 999, clock_timestamp());
