-- tools/sample.sql: a small realistic CRM base (an insurance agency), with
-- the duplicates real bases hold.  Loaded by the demo and by the dump and
-- restore test; needs CREATE EXTENSION crm and SELECT crm.install_data_model() first.  Every table gets rows.
SET client_min_messages = warning;

-- the organisation's structure
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel',    'Kanał agencyjny'),
    (2, 1,    'branch',     'Oddział Kraków'),
    (3, 2,    'department', 'Dział komunikacyjny'),
    (4, 2,    'department', 'Dział życiowy'),
    (5, 1,    'branch',     'Oddział Warszawa'),
    (6, NULL, 'channel',    'Kanał direct');

-- the employees: account managers and assignees are their logins
INSERT INTO crm.employee (login, full_name, email) VALUES
    ('agent_anna',  'Anna Nowak',       'anna.nowak@agencja.example.pl'),
    ('agent_piotr', 'Piotr Wiśniewski', 'piotr.wisniewski@agencja.example.pl');

-- clients: persons, companies, a foreigner, and duplicates typed differently
INSERT INTO crm.client (id, kind, first_name, last_name, company_name, pesel, nip, regon,
                        city, postal_code, address, unit_id, owner, synced, source, created_at) VALUES
    (1,  'person',  'Katarzyna', 'Wiśniewska', NULL, '90031212347', NULL, NULL,
         'Kraków', '30-001', 'ul. Długa 5/3', 3, 'agent_anna', true, 'import', '2023-02-10 09:15+01'),
    (2,  'person',  'Kasia', 'Wisniewska', NULL, '900312 12347', NULL, NULL,
         'Krakow', NULL, 'Długa 5 m. 3', 2, 'agent_piotr', false, 'call-centre', '2025-06-02 14:40+02'),
    (3,  'person',  'Piotr', 'Zieliński', NULL, '79112305677', NULL, NULL,
         'Warszawa', '00-950', 'ul. Marszałkowska 10', 5, 'agent_piotr', true, 'import', '2022-11-20 10:00+01'),
    (4,  'person',  'Piotr', 'Zielinski', NULL, NULL, NULL, NULL,
         'Warszawa', NULL, NULL, 5, 'agent_piotr', false, 'web-form', '2025-01-15 18:05+01'),
    (5,  'person',  'Zuzanna', 'Lewandowska', NULL, '03260104820', NULL, NULL,
         'Kraków', '31-100', 'os. Centrum A 1', 4, 'agent_anna', true, 'import', '2024-03-01 08:00+01'),
    (6,  'person',  'Andrzej', 'Kamiński', NULL, '62083011151', NULL, NULL,
         'Gdańsk', '80-001', 'ul. Mariacka 2', 6, NULL, false, 'import', '2021-05-05 12:00+02'),
    (7,  'company', NULL, NULL, 'Kowalczyk i Wspólnicy sp.j.', NULL, 'PL 526-000-12-46', '123456785',
         'Kraków', '30-002', 'ul. Wielicka 100', 3, 'agent_anna', true, 'import', '2020-09-09 09:09+02'),
    (8,  'company', NULL, NULL, 'KOWALCZYK I WSPOLNICY SPÓŁKA JAWNA', NULL, '5260001246', '12345678512347',
         'Kraków', NULL, 'Wielicka 100', 2, 'agent_piotr', false, 'web-form', '2025-10-01 11:30+02'),
    (9,  'person',  'John', 'Smith', NULL, NULL, NULL, NULL,
         'Kraków', '30-003', 'ul. Grodzka 1', 3, 'agent_anna', false, 'manual', '2024-07-04 16:00+02'),
    (10, 'person',  'Małgorzata', 'Wójcik', NULL, '95011733267', NULL, NULL,
         'Łódź', '90-001', 'ul. Piotrkowska 50', 1, NULL, false, 'import', '2019-01-01 10:00+01'),
    (11, 'person',  'Tomasz', 'Kowalczyk', NULL, '71040522199', NULL, NULL,
         'Kraków', '30-004', 'ul. Karmelicka 7', 4, 'agent_anna', false, 'import', '2018-04-04 12:00+02'),
    (12, 'person',  'Tomek', 'Kowalczyk', NULL, NULL, NULL, NULL,
         'Kraków', NULL, NULL, 4, 'agent_anna', false, 'call-centre', '2025-11-11 11:11+01');
UPDATE crm.client SET birth_date = '1980-07-04', language = 'en' WHERE id = 9;
-- the direct channel's clients, from a web form: namesakes (Nowak is common
-- here, as it is in Poland), not duplicates: different people, towns and
-- phones; crm.match_frequency counts them as a common name
INSERT INTO crm.client (id, kind, first_name, last_name, city, postal_code, address, unit_id, source, created_at) VALUES
    (13, 'person', 'Anna',      'Nowak',     'Poznań',   '60-001', 'ul. Święty Marcin 12', 6, 'web-form', '2025-02-01 10:00+01'),
    (14, 'person', 'Jan',       'Nowak',     'Wrocław',  '50-001', 'ul. Świdnicka 3',      6, 'web-form', '2025-02-03 11:00+01'),
    (15, 'person', 'Ewa',       'Nowak',     'Lublin',   '20-001', 'ul. Lipowa 8',         6, 'web-form', '2025-03-14 09:30+01'),
    (16, 'person', 'Marek',     'Nowak',     'Gdynia',   '81-001', 'ul. Starowiejska 40',  6, 'web-form', '2025-04-22 17:45+02'),
    (17, 'person', 'Barbara',   'Nowak',     'Opole',    '45-001', 'ul. Ozimska 2',        6, 'web-form', '2025-05-30 08:15+02'),
    (18, 'person', 'Anna',      'Mazur',     'Rzeszów',  '35-001', 'ul. Grunwaldzka 5',    6, 'web-form', '2025-06-11 12:00+02'),
    (19, 'person', 'Anna',      'Krawczyk',  'Kielce',   '25-001', 'ul. Sienkiewicza 20',  6, 'web-form', '2025-07-07 19:20+02'),
    (20, 'person', 'Krzysztof', 'Dąbrowski', 'Toruń',    '87-100', 'ul. Szeroka 15',       6, 'web-form', '2025-08-19 13:05+02');

INSERT INTO crm.contact (client_id, kind, value, label) VALUES
    (1, 'phone', '601 234 567', 'mobile'), (1, 'email', 'k.wisniewska@gmail.com', NULL),
    (2, 'phone', '+48 601-234-567', 'mobile'), (2, 'phone', '12 421 00 00', 'home'),
    (2, 'email', 'Kasia.W@Gmail.com', NULL),
    (3, 'phone', '0048 602 111 222', 'mobile'), (3, 'email', 'piotr.zielinski@firma.pl', 'work'),
    (4, 'phone', '602-111-222', NULL),
    (5, 'phone', '733 000 111', 'mobile'),
    (6, 'phone', '(58) 301 22 33', 'home'),
    (7, 'phone', '12 654 32 10', 'office'), (7, 'email', 'biuro@kowalczyk.pl', NULL),
    (8, 'email', 'BIURO@Kowalczyk.PL', NULL),
    (9, 'phone', '+44 20 7946 0958', 'mobile'), (9, 'email', 'john.smith@example.co.uk', NULL),
    (10, 'phone', '501 502 503', NULL),
    (11, 'phone', '604 400 400', NULL), (12, 'phone', '604-400-400', NULL), (12, 'email', 'tomek.k@o2.pl', NULL);
-- the default need not be the first one typed
UPDATE crm.contact SET is_default = true WHERE client_id = 2 AND value = '+48124210000';
UPDATE crm.contact SET label = 'mobile (prywatny)' WHERE client_id = 2 AND value = '+48601234567';
UPDATE crm.contact SET label = 'dom' WHERE client_id = 2 AND value = '+48124210000';

INSERT INTO crm.segment (id, name, description) VALUES
    (1, 'VIP', 'klienci z pakietem premium'), (2, 'Flota', 'firmy z flotą pojazdów');
INSERT INTO crm.segment_member (segment_id, client_id) VALUES (1, 1), (1, 7), (2, 7), (2, 8);
INSERT INTO crm.campaign (id, name, status, starts_on, ends_on) VALUES
    (1, 'Odnowienia OC 2026', 'active', '2026-01-01', '2026-12-31'),
    (2, 'Ubezpieczenia na życie - jesień', 'planned', '2026-09-01', '2026-11-30');
INSERT INTO crm.campaign_member (campaign_id, client_id) VALUES (1, 1), (1, 3), (1, 7), (2, 5), (2, 6);

-- who works where (AC-2, AC-3): the sample's agents are names, not roles of
-- the cluster (crm.user_unit() and the others assign existing roles only)
INSERT INTO crm.user_unit (role_name, unit_id) VALUES ('agent_anna', 3), ('agent_piotr', 5);
INSERT INTO crm.user_campaign (role_name, campaign_id) VALUES ('agent_anna', 1);
INSERT INTO crm.user_permission (role_name, permission) VALUES ('agent_anna', 'tickets_unassigned');

INSERT INTO crm.custom_field (id, name, type) VALUES
    (1, 'Liczba pojazdów', 'number'), (2, 'Źródło leada', 'text'), (3, 'Cecha: klient flotowy', 'text');
DO $$ BEGIN
    PERFORM crm.set_custom_value(ARRAY[1, 3, 7], 'Liczba pojazdów', '1');
    PERFORM crm.set_custom_value(8, 'Liczba pojazdów', '12');
    PERFORM crm.set_custom_value(ARRAY[2, 4, 8], 'Źródło leada', 'formularz www');
    PERFORM crm.set_custom_value(ARRAY[7, 8], 'Cecha: klient flotowy', 'tak');
    -- a client who withdrew consent is hidden, not deleted
    PERFORM crm.hide_client(10, 'wycofała zgodę marketingową');
END $$;

INSERT INTO crm.document (id, client_id, kind, title, file_name, mime_type) VALUES
    (1, 1, 'consent_confirmation', 'Zgoda na kontakt e-mail (skan)', 'zgoda_1.pdf', 'application/pdf'),
    (2, 1, 'contract', 'Umowa OC/AC 2026', 'umowa_1.pdf', 'application/pdf'),
    (3, 7, 'scan', 'KRS Kowalczyk i Wspólnicy', 'krs.pdf', 'application/pdf');
INSERT INTO crm.consent (client_id, purpose, granted_at, withdrawn_at, document_id) VALUES
    (1, 'marketing_email', '2023-02-10 09:20+01', NULL, 1),
    (3, 'marketing_phone', '2022-11-20 10:05+01', NULL, NULL),
    (10, 'marketing_email', '2019-01-01 10:00+01', '2024-05-01 12:00+02', NULL);

INSERT INTO crm.vehicle (id, client_id, registration_number, vin, make, model, production_year) VALUES
    (1, 1, 'KR 4G123', 'TMBJJ7NE8K0123456', 'Skoda', 'Octavia', 2019),
    (2, 3, 'WA 12345', 'WVWZZZAUZKW000111', 'Volkswagen', 'Golf', 2018),
    (3, 7, 'KR 7K777', 'WF0XXXTTGXKA00001', 'Ford', 'Transit', 2021);
INSERT INTO crm.policy (client_id, number, insurer, product, starts_on, ends_on, is_foreign, premium, vehicle_id) VALUES
    (1, 'OC/2025/11873', 'PZU', 'OC', '2025-03-01', '2026-02-28', false, 780.00, 1),
    (1, 'OC/2026/20411', 'PZU', 'OC+AC', '2026-03-01', '2027-02-28', false, 1650.00, 1),
    (3, 'W-77120-2026', 'Warta', 'OC', '2026-01-15', '2027-01-14', false, 910.00, 2),
    (3, 'ALZ-3310', 'Allianz', 'NNW', '2024-06-01', '2025-05-31', true, 120.00, NULL),
    (5, 'ZYC/2024/1', 'Generali', 'Życie', '2024-03-01', '2034-02-28', false, 1200.00, NULL),
    (7, 'FLOTA/2026/7', 'Ergo Hestia', 'OC flota', '2026-01-01', '2026-12-31', false, 5400.00, 3);

INSERT INTO crm.interaction (client_id, original_client_id, channel, direction, occurred_at, campaign_id, agent, phone, summary) VALUES
    (1, 1, 'call', 'outbound', '2026-01-12 10:00+01', 1, 'agent_anna', '601 234 567', 'propozycja odnowienia OC'),
    (1, 2, 'call', 'inbound', '2025-06-02 14:35+02', NULL, 'agent_piotr', '601 234 567', 'pytanie o AC (na rekordzie Kasi)'),
    (1, 1, 'email', 'outbound', '2026-01-13 08:00+01', 1, 'agent_anna', NULL, 'oferta OC+AC'),
    (1, 1, 'notification', 'outbound', '2026-02-20 06:00+01', NULL, NULL, NULL, 'przypomnienie o płatności (automat)'),
    (3, 3, 'call', 'inbound', '2026-01-20 12:10+01', 1, 'agent_piotr', '+48 602 111 222', 'zgłoszenie szkody'),
    (5, 5, 'meeting', NULL, '2024-03-01 09:00+01', NULL, 'agent_anna', NULL, 'analiza potrzeb'),
    (7, 7, 'email', 'inbound', '2025-12-01 15:00+01', NULL, 'agent_anna', NULL, 'prośba o wycenę floty');

INSERT INTO crm.offer (client_id, number, product, status, amount, valid_until) VALUES
    (1, 'OF/2026/5', 'OC+AC', 'accepted', 1650.00, '2026-02-15'),
    (7, 'OF/2025/88', 'OC flota', 'sent', 5400.00, '2025-12-31');
INSERT INTO crm.needs_analysis (client_id, performed_at, agent, answers, summary) VALUES
    (5, '2024-03-01 09:30+01', 'agent_anna', '{"dzieci": 0, "kredyt": true}', 'ochrona kredytu hipotecznego');
INSERT INTO crm.invoice (id, client_id, number, issued_on, due_on, net_amount, gross_amount, status, billed_name, billed_address, billed_nip) VALUES
    (1, 7, 'FV/2026/01/7', '2026-01-02', '2026-01-16', 4390.24, 5400.00, 'paid', 'Kowalczyk i Wspólnicy sp.j.', 'ul. Wielicka 100, 30-002 Kraków', '5260001246'),
    (2, 1, 'FV/2026/03/1', '2026-03-01', '2026-03-15', 1341.46, 1650.00, 'issued', 'Katarzyna Wiśniewska', 'ul. Długa 5/3, 30-001 Kraków', NULL);
INSERT INTO crm.payment (client_id, invoice_id, paid_on, amount, method) VALUES (7, 1, '2026-01-10', 5400.00, 'przelew');
INSERT INTO crm.task (client_id, kind, title, due_at, assignee) VALUES
    (1, 'call', 'Potwierdzić płatność raty', '2026-03-20 10:00+01', 'agent_anna'),
    (7, 'meeting', 'Spotkanie w sprawie floty', '2026-04-02 13:00+02', 'agent_anna');
INSERT INTO crm.case (client_id, title, kind, status, description) VALUES
    (3, 'Szkoda komunikacyjna 01/2026', 'szkoda', 'open', 'stłuczka na parkingu');
-- a team task in the case: two employees, Anna to be told when it is done
INSERT INTO crm.task (client_id, kind, title, due_at, assignee, case_id, notify_when_done, notify_employee)
SELECT 3, 'task', 'Komplet dokumentów szkody', '2026-02-10 12:00+01', 'agent_piotr', k.id, true, 'agent_anna'
FROM crm.case k WHERE k.title = 'Szkoda komunikacyjna 01/2026';
INSERT INTO crm.task_assignee (task_id, employee, done_at)
SELECT t.id, e.employee, e.done_at::timestamptz
FROM crm.task t, (VALUES ('agent_piotr', '2026-01-28 10:00+01'), ('agent_anna', NULL)) AS e(employee, done_at)
WHERE t.title = 'Komplet dokumentów szkody';
INSERT INTO crm.contact_person (client_id, first_name, last_name, role, phone, email) VALUES
    (7, 'Tomasz', 'Kowalczyk', 'wspólnik', '600 700 800', 'tomasz@kowalczyk.pl');
INSERT INTO crm.service_entry (client_id, kind, occurred_on, vehicle_id, description) VALUES
    (3, 'complaint', '2026-01-25', 2, 'reklamacja czasu likwidacji szkody'),
    (1, 'vehicle_sold', '2026-05-01', NULL, 'sprzedaż poprzedniego auta');
INSERT INTO crm.ticket (client_id, subject, status, priority, type, source, campaign_id, assignee, sla_due_at) VALUES
    (3, 'Likwidacja szkody trwa zbyt długo', 'open', 'high', 'reklamacja', 'telefon', 1, 'agent_piotr', '2026-02-01 12:00+01'),
    (7, 'Korekta faktury', 'resolved', 'normal', 'faktura', 'e-mail', NULL, 'agent_anna', NULL);
INSERT INTO crm.product (id, code, name, unit_price) VALUES
    (1, 'OC', 'Ubezpieczenie OC', 800.00), (2, 'AC', 'Autocasco', 900.00), (3, 'ASSIST', 'Assistance', 120.00);
INSERT INTO crm.price_list (id, name, valid_from) VALUES (1, 'Cennik flotowy 2026', '2026-01-01');
INSERT INTO crm.price_list_item (price_list_id, product_id, price) VALUES (1, 1, 700.00), (1, 2, 800.00), (1, 3, 90.00);
INSERT INTO crm.client_price_list (client_id, price_list_id) VALUES (7, 1);
INSERT INTO crm.order (id, client_id, number, status, ordered_at, price_list_id) VALUES
    (1, 7, 'ZAM/2026/1', 'confirmed', '2026-01-05 10:00+01', 1);
INSERT INTO crm.order_line (order_id, product_id, quantity, unit_price) VALUES (1, 1, 3, 700.00), (1, 3, 3, 90.00);
-- business cards e-mailed (WB-5): one sent, one waiting in the outbox
DO $$ BEGIN
    PERFORM crm.send_vcard(7, 'zakupy@klient-flota.pl'), crm.send_vcard(1, 'biuro@example.com');
END $$;
UPDATE crm.vcard_outbox SET sent_at = now() WHERE recipient = 'zakupy@klient-flota.pl';

-- the base has been deduplicated before: Tomek (12) was merged into Tomasz
-- (11), journaled and undoable; the administrator keeps the merge rules on
-- explicitly and says needs analyses move (the default) in the registry
INSERT INTO crm.interaction (client_id, channel, direction, occurred_at, agent, summary)
VALUES (12, 'call', 'inbound', '2025-11-11 11:15+01', 'agent_anna', 'pytanie o polisę na życie');
DO $$ BEGIN
    PERFORM crm.set_merge_rule('structure', true);
    PERFORM crm.set_merge_rule('sync', true);
    PERFORM crm.set_merge_rule('consent', true);
    PERFORM crm.set_merge_table_rule('crm.needs_analysis', 'move');
END $$;
DO $$ BEGIN
    PERFORM crm.merge_client(12, 11);
END $$;

-- duplicate scoring: the site trusts shared e-mails a little more (the
-- pairs the check on save found are in crm.possible_duplicate)
DO $$ BEGIN
    PERFORM crm.set_match_weight('email', 9);
END $$;
-- how common each name is, for frequency-aware scores (run after a load and
-- on a schedule)
DO $$ BEGIN
    PERFORM crm.refresh_match_frequencies();
END $$;
-- trained weights: a base this small is refused (too few pairs: the run
-- is recorded in crm.match_training, nothing stored), so the weights a
-- real base's crm.train_match_weights() would store are written here as
-- the data model's owner
DO $$ BEGIN
    PERFORM set_config('client_min_messages', 'error', true);
    PERFORM count(*) FROM crm.train_match_weights();
END $$;
INSERT INTO crm.match_weight_trained (evidence, weight, m, u)
VALUES ('prior', -7.5, NULL, NULL), ('phone', 9.2, 0.41, 0.0007), ('last_name', 0.8, 0.93, 0.53);
-- a dedupe plan under review: the two records of the company, the name
-- taken from the newer one
DO $$ BEGIN
    PERFORM crm.create_dedupe_plan(ARRAY['nip']);
END $$;
INSERT INTO crm.dedupe_plan_choice (plan_id, group_no, choice, client_id, value) VALUES (1, 1, 'company_name', 8, NULL);

-- GDPR: a user table with notes about clients, registered as personal
-- data; client 9 asked to be forgotten
CREATE TABLE public.client_note (
    id        integer PRIMARY KEY,
    client_id bigint NOT NULL REFERENCES crm.client (id),
    note      text
);
INSERT INTO public.client_note VALUES (1, 1, 'woli kontakt po 17'), (2, 9, 'speaks no Polish');
DO $$ BEGIN
    PERFORM crm.set_personal_column('public.client_note', 'note');
END $$;
DO $$ BEGIN
    PERFORM crm.anonymize(9, crm.anonymization_code(9));
END $$;
-- and client 11's request is pending: a code was sent, not yet typed back
DO $$ BEGIN
    PERFORM crm.anonymization_code(11);
END $$;

-- identity columns continue after the ids given above
DO $$ BEGIN
    PERFORM pg_catalog.setval(pg_catalog.pg_get_serial_sequence(t, 'id'), n)
    FROM (VALUES ('crm.unit', 6), ('crm.client', 20), ('crm.segment', 2), ('crm.campaign', 2),
                 ('crm.custom_field', 3), ('crm.document', 3), ('crm.vehicle', 3), ('crm.invoice', 2),
                 ('crm.product', 3), ('crm.price_list', 1), ('crm.order', 1)) AS v(t, n);
END $$;
-- an import (WB-2): a small file, one row imported, one rejected with its
-- reason (after the identity columns are set: the import's client takes a
-- fresh id)
SELECT crm.import_begin(ARRAY['Imię', 'Nazwisko', 'PESEL', 'Telefon'], 'nowi_klienci.csv') AS import_batch \gset
COPY crm_import FROM STDIN WITH (FORMAT csv, HEADER true);
Imię,Nazwisko,PESEL,Telefon
Grażyna,Lis,85020500028,601 555 010
Bogdan,Lis,85020500027,601 555 011
\.
SELECT crm.import_apply(:import_batch, '{"first_name": "Imię", "last_name": "Nazwisko", "pesel": "PESEL", "phone": "Telefon"}') AS import_result \gset
DROP TABLE crm_import;

-- 1.0.1: a policy's documents and photos, a preliminary (wstępna) policy
-- not issued yet, a ticket's history and one opened from a call, call
-- outcomes in the contact history, a custom field typed NIP
UPDATE crm.document SET policy_id = (SELECT p.id FROM crm.policy p WHERE p.number = 'OC/2026/20411')
WHERE id = 2;
INSERT INTO crm.document (client_id, kind, title, file_name, mime_type, policy_id)
SELECT 7, 'photo', 'Zdjęcie pojazdu przed objęciem ochroną', 'transit_przod.jpg', 'image/jpeg', p.id
FROM crm.policy p WHERE p.number = 'FLOTA/2026/7';
INSERT INTO crm.policy (client_id, number, insurer, product, starts_on, ends_on, preliminary, premium) VALUES
    (5, NULL, 'Warta', 'Dom i mieszkanie', '2026-07-01', '2027-06-30', true, 640.00);
UPDATE crm.ticket SET status = 'pending' WHERE subject = 'Likwidacja szkody trwa zbyt długo';
SELECT crm.add_ticket_note(t.id, 'Klient dosłał zdjęcia; czekamy na rzeczoznawcę') AS ticket_note
FROM crm.ticket t WHERE t.subject = 'Likwidacja szkody trwa zbyt długo' \gset
INSERT INTO crm.ticket (client_id, subject, source, source_number, call_at, campaign_id, assignee) VALUES
    (1, 'Prośba o duplikat polisy', 'telefon', '601 234 567', '2026-03-02 09:15+01', 1, 'agent_anna');
INSERT INTO crm.interaction (client_id, original_client_id, channel, direction, occurred_at, campaign_id, agent, phone,
                             summary, call_type, call_status, classifier, attempts, callback_at, recording_ref) VALUES
    (8, 8, 'call', 'outbound', '2026-02-03 11:00+01', 1, 'agent_anna', '+48 12 300 40 50',
     'sekretariat: prezes na urlopie', 'preview', 'answered', 'oddzwonić', 2, '2026-02-10 10:00+01', 'rec/2026/02/03/8812.wav'),
    (3, 3, 'call', 'outbound', '2026-02-04 16:20+01', 1, 'agent_piotr', '+48 602 111 222',
     NULL, 'preview', 'no_answer', NULL, 3, '2026-02-05 09:00+01', NULL);
INSERT INTO crm.custom_field (name, type) VALUES ('NIP pracodawcy', 'nip');
SELECT crm.set_custom_value(5, 'NIP pracodawcy', 'PL 526-000-12-46') AS nip_value \gset

-- a test record typed in by mistake, with a ticket and an order: an
-- administrator deleted it with all its data (journaled in crm.delete_log;
-- crm.undo_delete(1) would bring it back)
DO $$
DECLARE
    test_id bigint;
BEGIN
    INSERT INTO crm.client (kind, first_name, last_name, city, unit_id, source, created_at)
    VALUES ('person', 'Test', 'Testowy', 'Kraków', 3, 'manual', '2025-12-01 10:00+01')
    RETURNING id INTO test_id;
    INSERT INTO crm.ticket (client_id, subject) VALUES (test_id, 'próba zgłoszenia');
    INSERT INTO crm."order" (client_id, number) VALUES (test_id, 'TEST/1');
    INSERT INTO crm.order_line (order_id, product_id, quantity, unit_price)
    SELECT o.id, 1, 1, 1.00 FROM crm."order" o WHERE o.number = 'TEST/1';
    PERFORM crm.delete_client_with_data(test_id, 'rekord testowy');
END $$;

RESET client_min_messages;
