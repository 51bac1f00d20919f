--
-- export (WB-3): a filtered selection with chosen columns, as CSV through
-- COPY (a temporary view, or the query's text) and as xlsx; the workbook's
-- cells are read back by a reader we did not write in test/export_xlsx.py
--
SELECT regress.reset();
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Agencja'), (2, 1, 'branch', 'Kraków'), (3, 2, 'department', 'Komunikacja'),
    (4, 1, 'branch', 'Gdańsk');
-- a DBA's own column on crm.client
ALTER TABLE crm.client ADD COLUMN loyalty_level integer;
COMMENT ON COLUMN crm.client.loyalty_level IS 'a DBA''s own column (test export)';
INSERT INTO crm.client (id, kind, first_name, last_name, company_name, city, address, pesel, nip, unit_id,
                        created_at, loyalty_level) VALUES
    (1, 'person', 'Jan', 'Kowalski', NULL, 'Kraków', 'ul. Długa 5, m. 3', '44051401359', NULL, 3,
     '2024-03-01 10:00+01', 2),
    (2, 'person', 'Zażółć "Gęślą"', 'Jaźń', NULL, 'Kraków', E'line one\nline two; a "quote", a comma', NULL, NULL, 2,
     '2024-06-15 23:30+02', NULL),
    (3, 'company', NULL, NULL, 'Nowak, Nowak & "Syn" sp.j.', 'Gdańsk', NULL, NULL, '5260001246', 4,
     '2025-01-10 08:00+01', 1),
    (4, 'person', 'Zofia', 'Nowak', NULL, NULL, '', NULL, NULL, NULL, '2025-07-01 12:00+02', NULL),
    (5, 'person', 'Adam', 'Ukryty', NULL, 'Kraków', NULL, NULL, NULL, 2, '2026-01-01 00:00+01', NULL);
INSERT INTO crm.contact (client_id, kind, value, is_default) VALUES
    (1, 'phone', '601 234 567', true), (1, 'phone', '602 000 111', false), (1, 'email', 'jan.kowalski@gmail.com', true),
    (3, 'email', 'biuro@nowak.pl', true), (4, 'phone', '+49 30 1234567', true);
INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'Liczba aut', 'number'), (2, 'Źródło leada', 'text');
SELECT crm.set_custom_value(ARRAY[1, 3], 'Liczba aut', '2,5'), crm.set_custom_value(2, 'Źródło leada', 'Targi, "Poznań"');
SELECT crm.hide_client(5, 'left');
SELECT regress.sync_identities();

-- the query an export runs: columns as quoted identifiers, custom fields
-- by id, the filter as a literal
SELECT crm.export_clients_sql('{"city": "Kraków"}', '{id,last_name,phone,custom:liczba aut,loyalty_level}');

-- CSV: a temporary view that COPY reads
SELECT crm.export_clients('{"city": ["Kraków", "Gdańsk"]}',
                          '{id,kind,display_name,address,pesel,nip,phone,email,unit_path,custom:Liczba aut,custom:Źródło leada,loyalty_level,created_at}');
COPY (SELECT * FROM client_export) TO STDOUT WITH (FORMAT csv, HEADER);
-- the filter is not in the view's text, which every role reads in pg_views
SELECT position('Kraków' IN pg_get_viewdef('client_export')) AS filter_in_catalog;
-- the default columns, every visible client
SELECT crm.export_clients('{}');
COPY (SELECT * FROM client_export) TO STDOUT WITH (FORMAT csv, HEADER);
-- hidden clients as the filter says; a view of another name
SELECT crm.export_clients('{"hidden": true}', '{id,display_name}', 'gone');
COPY (SELECT * FROM gone) TO STDOUT WITH (FORMAT csv, HEADER);
-- the text, for a session that cannot create a temporary view (a standby)
SELECT format('COPY (%s) TO STDOUT WITH (FORMAT csv, HEADER)',
              crm.export_clients_sql('{"custom:Liczba aut": {">": 2}}', '{id,custom:Liczba aut}')) \gexec

-- round trip: export to a file, COPY it back into a table of the same
-- columns, compare
SELECT crm.export_clients('{"hidden": "any"}',
                          '{id,kind,first_name,last_name,company_name,display_name,address,pesel,nip,phone,email,unit_path,custom:Liczba aut,custom:Źródło leada,loyalty_level,created_at}');
CREATE TEMPORARY TABLE round_trip AS SELECT * FROM client_export WITH NO DATA;
DO $$
DECLARE
    file text := current_setting('data_directory') || '/export_round_trip.csv';
BEGIN
    EXECUTE format('COPY (SELECT * FROM client_export) TO %L WITH (FORMAT csv, HEADER)', file);
    EXECUTE format('COPY round_trip FROM %L WITH (FORMAT csv, HEADER)', file);
END $$;
SELECT (SELECT count(*) FROM round_trip) AS read_back,
       (SELECT count(*) FROM (SELECT * FROM client_export EXCEPT ALL SELECT * FROM round_trip) d) AS lost,
       (SELECT count(*) FROM (SELECT * FROM round_trip EXCEPT ALL SELECT * FROM client_export) d) AS added;

-- xlsx: a zip archive (its cells: test/export_xlsx.py)
SELECT substr(crm.export_clients_xlsx('{}', '{id,display_name,created_at}'), 1, 2) AS zip_magic;
SELECT substr(crm.export_clients_xlsx('{"id": -1}'), 1, 2) AS empty_export;
SELECT crm.export_clients_xlsx_file('{}', '{id}', 'relative.xlsx');

-- bad columns and filters: the SQLSTATE, the facts, the fix; nothing of
-- what is given becomes SQL
SELECT * FROM regress.error_of($$SELECT crm.export_clients('{}', '{id,lastname}')$$);
SELECT * FROM regress.error_of($$SELECT crm.export_clients('{}', ARRAY['id', 'id; DROP TABLE crm.client'])$$);
SELECT * FROM regress.error_of($$SELECT crm.export_clients('{}', '{id,"custom:Nie ma"}')$$);
SELECT * FROM regress.error_of($$SELECT crm.export_clients('{}', '{id,phone,id}')$$);
SELECT * FROM regress.error_of($$SELECT crm.export_clients('{}', '{custom:liczba aut,custom:Liczba aut}')$$);
SELECT * FROM regress.error_of($$SELECT crm.export_clients('{}', '{id,NULL}')$$);
SELECT * FROM regress.error_of($$SELECT crm.export_clients('{}', '{}')$$);
SELECT * FROM regress.error_of($$SELECT crm.export_clients('{"nonsense": 1}', '{id}')$$);
SELECT * FROM regress.error_of($$SELECT crm.export_clients(NULL, '{id}')$$);
SELECT * FROM regress.error_of($$SELECT crm.export_clients('{}', '{id}', '')$$);
SELECT * FROM regress.error_of($$SELECT crm.export_clients_xlsx('{}', '{id,nope}')$$);
SELECT * FROM regress.error_of($$SELECT crm.export_clients_xlsx(NULL)$$);
-- a view name is an identifier, never SQL
SELECT crm.export_clients('{"id": 1}', '{id}', 'x; DROP TABLE crm.client; --');
SELECT * FROM "x; DROP TABLE crm.client; --";
SELECT count(*) AS clients_still_there FROM crm.client;

-- a cell longer than a spreadsheet holds: refused with the facts, nothing written
UPDATE crm.client SET address = repeat('x', 40000) WHERE id = 4;
SELECT * FROM regress.error_of($$SELECT crm.export_clients_xlsx('{}', '{id,address}')$$);
SELECT count(*) AS export_files_left
FROM pg_ls_dir('base/pgsql_tmp', true, false) f WHERE f LIKE '%crm_export%';
UPDATE crm.client SET address = NULL WHERE id = 4;

-- access: a low-privileged role exports only what it sees
SELECT crm.create_roles() IS NOT NULL AS roles;
SELECT crm.enable_row_security() IS NOT NULL AS row_security;
CREATE ROLE regress_exp_agent NOLOGIN;       -- an agent in Kraków
CREATE ROLE regress_exp_outsider NOLOGIN;    -- no crm role
GRANT crm_agent TO regress_exp_agent;
SELECT crm.user_unit('regress_exp_agent', 2);
-- a view the superuser made is not the agent's to read
SELECT crm.export_clients('{}', '{id,display_name,phone,custom:Liczba aut}');
SET ROLE regress_exp_agent;
SELECT * FROM regress.error_of($$SELECT * FROM client_export$$);
SELECT crm.export_clients('{}', '{id,display_name,phone,custom:Liczba aut,unit_path}', 'agent_export');
COPY (SELECT * FROM agent_export) TO STDOUT WITH (FORMAT csv, HEADER);
SELECT crm.export_clients('{"city": "Gdańsk"}', '{id,display_name}', 'agent_export');
SELECT count(*) AS gdansk_seen FROM agent_export;
-- and a view granted to it is still read with its own rights
RESET ROLE;
GRANT SELECT ON client_export TO regress_exp_agent;
SET ROLE regress_exp_agent;
SELECT * FROM client_export;
SELECT length(crm.export_clients_xlsx('{}', '{id,display_name}')) > 0 AS agent_xlsx;
SELECT * FROM regress.error_of($$SELECT crm.export_clients_xlsx_file('{}', '{id}', '/tmp/agent.xlsx')$$);
RESET ROLE;
SET ROLE regress_exp_outsider;
-- its view is made (it reads nothing), and reading it is refused
SELECT crm.export_clients('{}', '{id}', 'outsider_export');
SELECT * FROM regress.error_of($$SELECT count(*) FROM outsider_export$$);
SELECT * FROM regress.error_of($$SELECT crm.export_clients_xlsx('{}', '{id}')$$);
RESET ROLE;

DROP VIEW client_export, gone, agent_export, "x; DROP TABLE crm.client; --";
SELECT regress.reset();
ALTER TABLE crm.client DROP COLUMN loyalty_level;
DROP OWNED BY regress_exp_agent, regress_exp_outsider;
DROP ROLE regress_exp_agent, regress_exp_outsider;
