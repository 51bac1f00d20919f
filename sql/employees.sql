--
-- employees (CL-5): the account manager and a task's assignee are known
-- users, logins of crm.employee; the bulk owner change and the import
-- refuse an unknown or inactive one; renaming a login renames it everywhere
--
SELECT regress.reset();
SELECT crm.create_roles() IS NOT NULL AS roles;
SELECT crm.enable_row_security() IS NOT NULL AS row_security;

CREATE ROLE regress_emp_agent NOLOGIN;      -- an agent in Kraków
CREATE ROLE regress_emp_admin NOLOGIN;      -- an administrator
GRANT crm_agent TO regress_emp_agent;
GRANT crm_admin TO regress_emp_admin;

INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Agencja'), (2, 1, 'branch', 'Kraków'), (3, 1, 'branch', 'Gdańsk');
SELECT crm.user_unit('regress_emp_agent', 2);

-- an administrator records the employees; agents read them, write none
SET ROLE regress_emp_admin;
INSERT INTO crm.employee (login, full_name, email) VALUES
    ('anna.nowak', 'Anna Nowak', 'anna.nowak@agencja.example.pl'),
    ('piotr.wisniewski', 'Piotr Wiśniewski', 'piotr.wisniewski@agencja.example.pl'),
    ('zofia.kaminska', 'Zofia Kamińska', NULL),
    ('regress_emp_agent', 'Grzegorz Wójcik', NULL);
INSERT INTO crm.employee (login, full_name, active) VALUES ('jerzy.mazur', 'Jerzy Mazur', false);
RESET ROLE;
SET ROLE regress_emp_agent;
SELECT login, full_name, active FROM crm.employee ORDER BY login;
SELECT * FROM regress.error_of($$INSERT INTO crm.employee (login) VALUES ('ja.sam')$$);
SELECT * FROM regress.error_of($$UPDATE crm.employee SET active = true WHERE login = 'jerzy.mazur'$$);
RESET ROLE;
-- a login is not blank
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.employee (login) VALUES ('  ')$$);

INSERT INTO crm.client (id, first_name, last_name, pesel, city, unit_id, owner) VALUES
    (1, 'Jan', 'Kowalski', '44051401359', 'Kraków', 2, 'anna.nowak'),
    (2, 'Małgorzata', 'Wójcik', '85020500028', 'Kraków', 2, 'anna.nowak'),
    (3, 'Tomasz', 'Zieliński', '90072301237', 'Kraków', 2, NULL),
    (4, 'Katarzyna', 'Wiśniewska', '90031212347', 'Gdańsk', 3, 'anna.nowak');
SELECT regress.sync_identities();
-- the owner is a foreign key: an unknown login is refused
SELECT * FROM regress.error_of($$INSERT INTO crm.client (first_name, last_name, owner) VALUES ('Ewa', 'Lis', 'anna.nowk')$$);
SELECT * FROM regress.error_of($$UPDATE crm.client SET owner = 'nikt' WHERE id = 1$$);

--
-- the bulk owner change, as an agent: a misspelt login and an inactive
-- employee are refused before anything changes, naming the login
--
SET ROLE regress_emp_agent;
SELECT * FROM regress.error_of($$SELECT crm.bulk_change_owner(ARRAY[1, 2]::bigint[], 'piotr.wisniewsky')$$);
SELECT * FROM regress.error_of($$SELECT crm.bulk_change_owner('{"city": "Kraków"}'::jsonb, 'jerzy.mazur')$$);
SELECT * FROM regress.error_of($$SELECT crm.bulk_replace_owner('anna.nowak', 'piotr.wisniewsky')$$);
SELECT * FROM regress.error_of($$SELECT crm.bulk_replace_owner('anna.nowak', 'jerzy.mazur')$$);
SELECT id, owner FROM crm.client ORDER BY id;
-- a known, active employee: the clients it reaches change (not Gdańsk's)
SELECT crm.bulk_change_owner(ARRAY[1, 3]::bigint[], 'piotr.wisniewski') AS changed;
SELECT crm.bulk_replace_owner('anna.nowak', 'zofia.kaminska') AS replaced;
SELECT id, owner FROM crm.client ORDER BY id;
-- null: no account manager
SELECT crm.bulk_change_owner(ARRAY[3]::bigint[], NULL) AS cleared;
-- a task's assignee is an employee too
SELECT * FROM regress.error_of($$SELECT crm.bulk_create_task(ARRAY[1]::bigint[], 'Telefon w sprawie OC', assignee => 'anna.nowk')$$);
SELECT crm.bulk_create_task(ARRAY[1, 2]::bigint[], 'Telefon w sprawie OC') AS tasks;
SELECT client_id, title, assignee FROM crm.task ORDER BY id;
RESET ROLE;
SELECT id, owner FROM crm.client ORDER BY id;

--
-- renaming a login renames it in the clients and the tasks; an employee
-- still named is not deleted (made inactive instead)
--
SET ROLE regress_emp_admin;
UPDATE crm.employee SET login = 'piotr.wisniewski2' WHERE login = 'piotr.wisniewski';
SELECT * FROM regress.error_of($$DELETE FROM crm.employee WHERE login = 'zofia.kaminska'$$);
UPDATE crm.employee SET active = false WHERE login = 'zofia.kaminska';
RESET ROLE;
SELECT id, owner FROM crm.client ORDER BY id;
SELECT client_id, assignee FROM crm.task ORDER BY id;

--
-- the import: an unknown or inactive owner is a rejected row with its
-- reason, the others are imported
--
SET ROLE regress_emp_agent;
SELECT crm.import_begin(ARRAY['Imię', 'Nazwisko', 'PESEL', 'Opiekun'], 'opiekunowie.csv') AS batch \gset
INSERT INTO crm_import VALUES
    ('Jan', 'Nowicki', '79112305677', 'anna.nowak'),
    ('Zuzanna', 'Lewandowska', '03260104820', 'anna.nowk'),
    ('Andrzej', 'Kamiński', '62083011151', 'zofia.kaminska'),
    ('Ewa', 'Dąbrowska', NULL, NULL);
\set mapping '{"first_name": "Imię", "last_name": "Nazwisko", "pesel": "PESEL", "owner": "Opiekun", "unit_id": {"value": "2"}}'
SELECT row_no, verdict, reasons FROM crm.import_preview(:batch, :'mapping');
SELECT crm.import_apply(:batch, :'mapping', false) ->> 'imported' AS imported;
SELECT row_no, reasons FROM crm.import_reject ORDER BY row_no;
SELECT last_name, owner FROM crm.client WHERE source LIKE 'import%' ORDER BY last_name;
DROP TABLE pg_temp.crm_import;
RESET ROLE;

SELECT regress.reset();
DROP OWNED BY regress_emp_agent, regress_emp_admin;
DROP ROLE regress_emp_agent, regress_emp_admin;
