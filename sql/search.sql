--
-- crm.client_overview and crm.client_search(): the working base as SQL
--
SELECT regress.reset();
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Agency'), (2, 1, 'branch', 'Kraków'), (3, 2, 'department', 'Motor'),
    (4, 1, 'branch', 'Gdańsk');
INSERT INTO crm.employee (login) VALUES ('anna'), ('piotr');
INSERT INTO crm.client (id, kind, first_name, last_name, company_name, city, pesel, nip, unit_id, owner,
                        synced, created_at) VALUES
    (1, 'person', 'Jan', 'Kowalski', NULL, 'Kraków', '44051401359', NULL, 3, 'anna', true, '2024-03-01 10:00+01'),
    (2, 'person', 'Janina', 'Kowalska', NULL, 'Kraków', '85020500028', NULL, 2, 'anna', false, '2024-06-15 23:30+02'),
    (3, 'company', NULL, NULL, 'Kowalski i Wspólnicy sp.j.', 'Warszawa', NULL, '5260001246', 4, 'piotr', true, '2025-01-10 08:00+01'),
    (4, 'person', 'Zofia', 'Nowak', NULL, 'Gdańsk', NULL, NULL, 4, NULL, false, '2025-07-01 12:00+02'),
    (5, 'person', 'Adam', 'Kowalczyk', NULL, NULL, NULL, NULL, NULL, 'piotr', false, '2026-01-01 00:00+01');
INSERT INTO crm.contact (client_id, kind, value) VALUES
    (1, 'phone', '601 234 567'), (1, 'email', 'jan.kowalski@gmail.com'),
    (2, 'phone', '602 000 111'), (2, 'phone', '22 123 45 67'),
    (3, 'email', 'biuro@kowalski.pl'), (4, 'phone', '+49 30 1234567');
INSERT INTO crm.campaign (id, name) VALUES (1, 'Odnowienia OC'), (2, 'Wiosna 2026');
INSERT INTO crm.campaign_member VALUES (1, 1), (1, 2), (2, 4);
INSERT INTO crm.segment (id, name) VALUES (1, 'VIP');
INSERT INTO crm.segment_member VALUES (1, 3);
INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'Liczba aut', 'number'), (2, 'Źródło leada', 'text');
SELECT crm.set_custom_value(ARRAY[1, 3], 'Liczba aut', '2'), crm.set_custom_value(4, 'Liczba aut', '5'),
       crm.set_custom_value(ARRAY[1, 2], 'Źródło leada', 'Targi Poznań 2024');
INSERT INTO crm.policy (client_id, number, insurer, starts_on, ends_on) VALUES
    (1, 'A', 'PZU', current_date - 10, current_date + 355), (1, 'B', 'PZU', '2020-01-01', '2020-12-31');
INSERT INTO crm.ticket (client_id, subject, status) VALUES (1, 'x', 'open'), (1, 'y', 'resolved');
SELECT crm.hide_client(5, 'left');

SELECT id, kind, display_name, pesel, nip, phone, email, unit_path, owner, active_policies, open_tickets
FROM crm.client_overview ORDER BY id;

CREATE FUNCTION pg_temp.search(filter text) RETURNS TABLE (ids bigint[])
LANGUAGE sql AS $$ SELECT array_agg(id ORDER BY id) FROM crm.client_search(filter::jsonb) $$;

-- text: exact (case-insensitive) or with % wildcards
SELECT f AS filter, s.ids FROM (VALUES
    ('{"last_name": "kowalski"}'),
    ('{"last_name": "Kowal%"}'),
    ('{"company_name": "%wspólnicy%"}'),
    ('{"city": ["Kraków", "Gdańsk"]}'),
    ('{"city": null}'),
    ('{"city": "Kraków", "first_name": "Jan%"}'),
    ('{"display_name": "%kowal%"}'),
    ('{"owner": "anna", "synced": true}'),
    ('{"kind": "company"}'),
    ('{}')) AS t(f), pg_temp.search(f) s;

-- identifiers in any format, ids, units
SELECT f AS filter, s.ids FROM (VALUES
    ('{"pesel": "440514 01359"}'),
    ('{"pesel": "8502%"}'),
    ('{"nip": "PL 526-000-12-46"}'),
    ('{"id": [1, 3, 5]}'),
    ('{"id": {">=": 2, "<": 4}}'),
    ('{"unit_id": 4}'),
    ('{"unit_within": 2}'),
    ('{"unit_within": 1}')) AS t(f), pg_temp.search(f) s;

-- dates: greater, smaller, ranges; a bare date compared with a timestamp is that whole day
SELECT f AS filter, s.ids FROM (VALUES
    ('{"created_at": {">": "2024-12-31"}}'),
    ('{"created_at": {"<": "2024-06-15"}}'),
    ('{"created_at": {"<=": "2024-06-15"}}'),
    ('{"created_at": "2024-06-15"}'),
    ('{"created_at": {"between": ["2024-01-01", "2024-06-15"]}}'),
    ('{"created_at": {">=": "2025-01-10T09:00:00+01"}}'),
    ('{"birth_date": {"<": "1950-01-01"}}')) AS t(f), pg_temp.search(f) s;

-- phones and e-mails (any of the client's), campaigns, segments, custom fields
SELECT f AS filter, s.ids FROM (VALUES
    ('{"phone": "601-234-567"}'),
    ('{"phone": "(22) 123 45 67"}'),
    ('{"phone": "+4860%"}'),
    ('{"phone": null}'),
    ('{"email": "Jan.Kowalski@Gmail.com"}'),
    ('{"email": "%@kowalski.pl"}'),
    ('{"campaign": "odnowienia oc"}'),
    ('{"campaign": 2}'),
    ('{"campaign": ["Wiosna%", 1]}'),
    ('{"segment": "VIP"}'),
    ('{"segment": null}'),
    ('{"custom:Liczba aut": {">": 1}}'),
    ('{"custom:liczba aut": {"between": [2, 4]}}'),
    ('{"custom:Źródło leada": "targi%"}'),
    ('{"custom:Źródło leada": null}'),
    ('{"city": "Kraków", "campaign": "Odnowienia OC", "custom:Liczba aut": 2}')) AS t(f), pg_temp.search(f) s;

-- empty lists match nothing, empty comparisons everything; a null end of
-- "between" is open
SELECT f AS filter, s.ids FROM (VALUES
    ('{"city": []}'),
    ('{"phone": []}'),
    ('{"campaign": []}'),
    ('{"created_at": {}}'),
    ('{"created_at": {"between": [null, "2024-12-31"]}}'),
    ('{"created_at": {"between": ["2025-01-01", null]}}'),
    ('{"hidden": "any"}')) AS t(f), pg_temp.search(f) s;

-- hidden clients only when asked
SELECT f AS filter, s.ids FROM (VALUES
    ('{"last_name": "Kowalczyk"}'),
    ('{"last_name": "Kowalczyk", "hidden": "any"}'),
    ('{"hidden": true}')) AS t(f), pg_temp.search(f) s;

-- malformed filters are refused; values never become SQL
SELECT f AS filter, e.err_code, e.err_message, e.err_hint FROM (VALUES
    ('[1, 2]'),
    ('{"shoe_size": 42}'),
    ('{"last_name": {">": "K"}}'),
    ('{"created_at": {"~": "2024-01-01"}}'),
    ('{"created_at": {"between": ["2024-01-01"]}}'),
    ('{"custom:Wzrost": 180}'),
    ('{"hidden": "yes"}'),
    ('{"unit_within": "Kraków"}'),
    ('{"created_at": "yesterday-ish"}'),
    ('{"created_at": {">": null}}'),
    ('{"id": {"<": [1, 2]}}'),
    ('{"last_name": "x''); DROP TABLE crm.client; --"}')) AS t(f),
    regress.error_of(format('SELECT pg_temp.search(%L)', f)) e;
SELECT count(*) AS clients_still_there FROM crm.client;

SELECT regress.reset();
