--
-- crm.client_report: the report of BI tools, queried without schema crm on
-- the search path, with plain text and number comparisons
--
SELECT regress.reset();
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Kanał agencyjny'), (2, 1, 'branch', 'Oddział Kraków'),
    (3, 2, 'department', 'Dział komunikacyjny'), (4, NULL, 'channel', 'Kanał internetowy');
INSERT INTO crm.employee (login) VALUES ('regress_crm_analyst'), ('someone_else');
INSERT INTO crm.client (id, kind, first_name, last_name, company_name, city, postal_code, pesel, nip, regon,
                        birth_date, unit_id, owner, created_at) VALUES
    (1, 'person', 'Jan', 'Kowalski', NULL, 'Kraków', '30-001', '440514-01359', NULL, NULL, NULL, 3,
     'regress_crm_analyst', '2024-03-01 10:00+01'),
    (2, 'person', 'Janina', 'Kowalska', NULL, 'Kraków', '30-002', '85020500028', NULL, NULL, NULL, 2,
     'regress_crm_analyst', '2024-06-15 12:00+02'),
    (3, 'company', NULL, NULL, 'Kowalski i Wspólnicy sp.j.', 'Warszawa', '00-950', NULL, 'PL 526-000-12-46',
     '123456785', NULL, 1, 'someone_else', '2025-01-10 08:00+01'),
    -- a foreigner: no PESEL, a typed birth date
    (4, 'person', 'Hans', 'Müller', NULL, 'Berlin', NULL, NULL, NULL, NULL, '1979-11-30', 4,
     'someone_else', '2025-07-01 12:00+02'),
    (5, 'person', 'Zofia', 'Nowak', NULL, 'Gdańsk', NULL, '00222900016', NULL, NULL, NULL, NULL,
     'regress_crm_analyst', '2026-01-01 00:00+01');
INSERT INTO crm.contact (client_id, kind, value) VALUES
    (1, 'phone', '601 234 567'), (1, 'phone', '12 345 67 89'), (1, 'email', 'jan.kowalski@gmail.com'),
    (3, 'email', 'biuro@kowalski.pl');
INSERT INTO crm.policy (client_id, number, insurer, starts_on, ends_on) VALUES
    (1, 'OC/1', 'PZU', current_date - 10, current_date + 355), (1, 'OC/0', 'PZU', '2020-01-01', '2020-12-31'),
    (3, 'MAJ/7', 'Warta', current_date, current_date + 365);
INSERT INTO crm.ticket (client_id, subject, status) VALUES
    (1, 'zmiana adresu', 'open'), (1, 'duplikat polisy', 'closed'), (2, 'reklamacja', 'new');
INSERT INTO crm.interaction (client_id, channel, occurred_at) VALUES
    (1, 'call', '2026-02-01 10:00+01'), (1, 'notification', '2026-02-02 10:00+01'), (2, 'email', '2026-01-15 09:00+01');
INSERT INTO crm.document (client_id, title) VALUES (1, 'skan dowodu');
INSERT INTO crm.offer (client_id, product) VALUES (1, 'AC'), (2, 'NNW');
INSERT INTO crm.invoice (client_id, number) VALUES (3, 'FV/2026/1');
INSERT INTO crm.task (client_id, title) VALUES (2, 'oddzwonić');
INSERT INTO crm.case (client_id, title) VALUES (1, 'szkoda 12/2026');
INSERT INTO crm.order (client_id) VALUES (3), (3);
-- candidate duplicates: open pairs of 1 and 2, 1 and 3; one of 2 and 4 dismissed
INSERT INTO crm.possible_duplicate (client_a, client_b, score, reasons, dismissed_at) VALUES
    (1, 2, 0.8, '{"similar names", "same city"}', NULL), (1, 3, 0.55, '{"same family name"}', NULL),
    (2, 4, 0.6, '{"similar names"}', now());
SELECT crm.hide_client(5, 'left');

-- the tool's own search path: crm is not on it
SET search_path = public;
SELECT id, kind, display_name, pesel, nip, regon, birth_year, sex, unit_path, hidden, phone, email
FROM crm.client_report ORDER BY id;
SELECT id, contacts, policies, active_policies, tickets, open_tickets, interactions, documents,
       offers, invoices, tasks, cases, orders, duplicate_candidates, last_contact_at
FROM crm.client_report ORDER BY id;
-- every column is of a built-in type (no crm type, no crm operator)
SELECT a.attname, a.atttypid::regtype
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = 'crm.client_report'::regclass AND a.attnum > 0
  AND t.typnamespace <> 'pg_catalog'::regnamespace;
-- filters as a point-and-click tool writes them: plain text comparisons
SELECT id, display_name FROM crm.client_report WHERE pesel = '44051401359';
SELECT id, display_name FROM crm.client_report WHERE nip = '5260001246' AND regon = '123456785';
SELECT id, display_name, birth_year FROM crm.client_report WHERE sex = 'F';
SELECT id, unit_path FROM crm.client_report WHERE unit_path LIKE 'Kanał agencyjny / Oddział Kraków%' ORDER BY id;
SELECT id FROM crm.client_report WHERE pesel LIKE '44%' OR birth_year < 1980 ORDER BY id;
-- and figures by unit
SELECT coalesce(unit_path, '(none)') AS unit_path, count(*) AS clients, sum(active_policies) AS active_policies,
       sum(open_tickets) AS open_tickets, sum(duplicate_candidates) AS duplicate_candidates
FROM crm.client_report WHERE NOT hidden GROUP BY 1 ORDER BY 1;
RESET search_path;

-- a low-privileged role under row-level security sees its own clients
-- only, and counts only what it may read
CREATE ROLE regress_crm_analyst NOLOGIN;
GRANT SELECT ON crm.client_report, crm.client, crm.contact, crm.unit, crm.unit_tree, crm.policy, crm.ticket,
                crm.interaction, crm.document, crm.offer, crm.invoice, crm.task, crm.case, crm.order,
                crm.possible_duplicate TO regress_crm_analyst;
ALTER TABLE crm.client ENABLE ROW LEVEL SECURITY;
CREATE POLICY client_own ON crm.client USING (owner = current_user);
SET ROLE regress_crm_analyst;
SET search_path = public;
SELECT id, display_name, pesel, unit_path, policies, tickets, duplicate_candidates
FROM crm.client_report ORDER BY id;
SELECT count(*) FROM crm.client_report WHERE nip = '5260001246';
RESET search_path;
RESET ROLE;
DROP POLICY client_own ON crm.client;
ALTER TABLE crm.client DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON crm.client_report, crm.client, crm.contact, crm.unit, crm.unit_tree, crm.policy, crm.ticket,
              crm.interaction, crm.document, crm.offer, crm.invoice, crm.task, crm.case, crm.order,
              crm.possible_duplicate FROM regress_crm_analyst;
DROP ROLE regress_crm_analyst;
SELECT regress.reset();
