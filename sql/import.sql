--
-- import (WB-2): a CSV file staged with \copy, a mapping, a preview, an
-- atomic apply with rejects and every reason, and one duplicate pass
--
SELECT regress.reset();


INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'Ocena', 'number'), (2, 'Uwagi', 'text');
INSERT INTO crm.campaign (id, name) VALUES (1, 'Wiosna');
INSERT INTO crm.segment (id, name) VALUES (1, 'VIP'), (2, 'Gold');
-- already in the base: the file's Tomasz Zieliński is the same person
INSERT INTO crm.client (id, first_name, last_name, pesel, city) VALUES (1, 'Tomasz', 'Zieliński', '90072301237', 'Łódź');
SELECT regress.sync_identities();
SELECT * FROM crm.import_targets();

--
-- a file in Windows-1250 with a header row and semicolons, loaded with \copy
--
SELECT crm.import_begin(ARRAY['Imię', 'Nazwisko', 'Firma', 'PESEL', 'NIP', 'Data urodzenia', 'Telefon',
                              'E-mail', 'Ocena', 'Kampania', 'Segmenty'], 'klienci.csv') AS batch \gset
\copy crm_import FROM 'test/data/import_clients_win1250.csv' WITH (FORMAT csv, HEADER match, DELIMITER ';', ENCODING 'WIN1250')
SELECT count(*) FROM pg_temp.crm_import;
SELECT id, file_name, columns, staging, created_by = current_user AS mine, applied_at FROM crm.import_batch;

\set mapping '{"first_name": "Imię", "last_name": "Nazwisko", "company_name": "Firma", "pesel": "PESEL", "nip": "NIP", "birth_date": "Data urodzenia", "phone": "Telefon", "email": "E-mail", "custom": {"ocena": "Ocena"}, "campaign": "Kampania", "segment": {"column": "Segmenty", "separator": ","}, "city": {"value": "Kraków"}}'

-- the first rows as they will be imported, with their verdicts
SELECT * FROM crm.import_preview(:batch, :'mapping', 3);
-- every row's verdict and reasons
SELECT row_no, verdict, reasons FROM crm.import_preview(:batch, :'mapping', 100);
-- a preview changes nothing
SELECT count(*) AS clients FROM crm.client;

--
-- a bad mapping is a clear error, before anything is read
--
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch, '["Nazwisko"]'));
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch, '{"surname": "Nazwisko"}'));
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch, '{"last_name": "nazwisko"}'));
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch, '{"first_name": "Imię"}'));
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch, '{"last_name": {"column": "Nazwisko", "separator": ","}}'));
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch, '{"last_name": "Nazwisko", "phone": [42]}'));
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch, '{"last_name": "Nazwisko", "custom": {"Rating": "Ocena"}}'));
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch, '{"last_name": "Nazwisko", "custom": {"Ocena": {"value": "high"}}}'));
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch, '{"last_name": "Nazwisko", "pesel": {"value": "44051401358"}}'));
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch, '{"last_name": "Nazwisko", "campaign": {"value": "Lato"}}'));
-- a column name is data: it is quoted, never run
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch, '{"last_name": "Nazwisko\"); DROP TABLE crm.client; --"}'));
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L, -1)', :batch, :'mapping'));
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', 999, :'mapping'));

--
-- apply: the valid rows become clients, the others go to the rejects with
-- every reason, the duplicates among the new clients and against the base
-- are recorded
--
-- the check on save is off for the call only, whatever the session says
SET crm.duplicate_check = notice;
SELECT crm.import_apply(:batch, :'mapping');
SHOW crm.duplicate_check;
RESET crm.duplicate_check;
SELECT id, kind, display_name, company_name, pesel, nip, birth_date, city, source FROM crm.client ORDER BY id;
SELECT client_id, kind, value, is_default FROM crm.contact ORDER BY client_id, kind, value;
SELECT client_id, field, value FROM crm.client_custom_value ORDER BY client_id, field;
SELECT client_id, campaign_id FROM crm.campaign_member ORDER BY 1, 2;
SELECT client_id, segment_id FROM crm.segment_member ORDER BY 1, 2;
SELECT row_no, original, reasons FROM crm.import_reject WHERE batch_id = :batch ORDER BY row_no;
-- the rejects as the file had them, to correct and import again
SELECT r.row_no, jsonb_object(b.columns, r.original) ->> 'Nazwisko' AS last_name, array_length(r.reasons, 1) AS reasons
FROM crm.import_reject r JOIN crm.import_batch b ON b.id = r.batch_id ORDER BY r.row_no;
SELECT client_a, client_b, round(score::numeric, 2) AS score, found_by = current_user AS mine FROM crm.possible_duplicate ORDER BY 1, 2;
SELECT applied_at IS NOT NULL AS applied, mapping = :'mapping'::jsonb AS mapping_kept, result FROM crm.import_batch WHERE id = :batch;
-- once only
SELECT * FROM regress.error_of(format('SELECT crm.import_apply(%s, %L)', :batch, :'mapping'));

--
-- every other reason, from rows given inline (COPY FROM STDIN)
--
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES (1, NULL, 'channel', 'Agencja');
SELECT crm.import_begin(ARRAY['kind', 'first', 'last', 'company', 'pesel', 'born', 'nip', 'regon', 'lang', 'unit', 'phones', 'notes'],
                        staging => 'second') AS batch2 \gset
COPY second FROM STDIN WITH (FORMAT csv, HEADER true);
kind,first,last,company,pesel,born,nip,regon,lang,unit,phones,notes
person,Adam,Lis,,85020500028,1985-02-05,,,en,1,601 000 001; 601 000 002,first note
robot,Ewa,Kot,,,,,,,,,
person,Ewa,Kot,,85020500028,1985-02-06,,,,,,
company,,,,,,1234563219,123456784,,,,
company,,,Bud-Mar,,,5260001223,123456785,xx,7,601 000 003;+999,
person,Olga,Wrona,,,1999-1-2,,,,abc,"601 000 004;;601 000 004",
person,Olga,Sowa,,,02/01/1999,,,PL,,,"a note, with a comma
and a line break"
\.
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch2, '{}'));
\set mapping2 '{"kind": "kind", "first_name": "first", "last_name": "last", "company_name": "company", "pesel": "pesel", "birth_date": "born", "nip": "nip", "regon": "regon", "language": "lang", "unit_id": "unit", "phone": {"column": "phones", "separator": ";"}, "custom": {"Uwagi": "notes"}}'
SELECT row_no, verdict, reasons, client, phones, custom FROM crm.import_preview(:batch2, :'mapping2', 10);
SELECT crm.import_apply(:batch2, :'mapping2', find_duplicates => false);
SELECT id, kind, display_name, birth_date, language, unit_id, source FROM crm.client WHERE source LIKE format('import %s %%', :batch2) ORDER BY id;
SELECT c.source, k.value, k.is_default FROM crm.contact k JOIN crm.client c ON c.id = k.client_id
WHERE c.source LIKE format('import %s %%', :batch2) ORDER BY k.id;
SELECT c.source, v.value FROM crm.client_custom_value v JOIN crm.client c ON c.id = v.client_id
WHERE c.source LIKE format('import %s %%', :batch2) ORDER BY c.id;
SELECT row_no, reasons FROM crm.import_reject WHERE batch_id = :batch2 ORDER BY row_no;

-- staged rows belong to the session that loaded them
DROP TABLE second;
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch2, :'mapping2'));
SELECT * FROM regress.error_of($$SELECT crm.import_begin(ARRAY['a', 'a'])$$);
SELECT * FROM regress.error_of($$SELECT crm.import_begin('{}')$$);
SELECT * FROM regress.error_of($$SELECT crm.import_begin(ARRAY['a'])$$);
SELECT * FROM regress.error_of($$SELECT crm.import_begin(ARRAY['a'], staging => 'crm_import_work')$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.import_begin(ARRAY['a'], staging => 'crm_import_pairs')$$);

--
-- a low-privileged role imports with its own rights: its unit, its
-- clients, its batches; the duplicates it is told of are those it sees
--
SELECT crm.create_roles() IS NOT NULL AS roles;
SELECT crm.enable_row_security() IS NOT NULL AS row_security;
CREATE ROLE regress_importer NOLOGIN;
CREATE ROLE regress_other NOLOGIN;
GRANT crm_agent TO regress_importer, regress_other;
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES (2, 1, 'branch', 'Kraków'), (3, 1, 'branch', 'Gdańsk');
SELECT crm.user_unit('regress_importer', 2), crm.user_unit('regress_other', 3);
INSERT INTO crm.client (first_name, last_name, pesel, unit_id) VALUES
    ('Marek', 'Wolny', '75113004577', 2),       -- in its unit
    ('Marek', 'Wolny', '75113004577', 3);       -- out of its reach
SET ROLE regress_importer;
SELECT crm.import_begin(ARRAY['first', 'last', 'pesel', 'unit'], staging => 'mine') AS batch3 \gset
COPY mine FROM STDIN WITH (FORMAT csv);
Marek,Wolny,75113004577,
Ola,Nowa,,3
Ola,Nowa,,2
\.
SELECT row_no, verdict, reasons, client FROM crm.import_preview(:batch3, '{"first_name": "first", "last_name": "last", "pesel": "pesel", "unit_id": "unit"}');
SELECT crm.import_apply(:batch3, '{"first_name": "first", "last_name": "last", "pesel": "pesel", "unit_id": "unit"}');
SELECT display_name, unit_id, source FROM crm.client ORDER BY id;
SELECT c.display_name AS a, d.display_name AS b, p.found_by FROM crm.possible_duplicate p
JOIN crm.client c ON c.id = p.client_a JOIN crm.client d ON d.id = p.client_b ORDER BY p.client_a, p.client_b;
-- its batches only
SELECT id, created_by FROM crm.import_batch ORDER BY id;
SELECT batch_id, row_no, reasons FROM crm.import_reject ORDER BY 1, 2;
SELECT * FROM regress.error_of(format('SELECT crm.import_apply(%s, %L)', :batch2, :'mapping2'));
RESET ROLE;
-- another agent sees neither its batch nor its rejects
SET ROLE regress_other;
SELECT count(*) AS batches FROM crm.import_batch;
SELECT count(*) AS rejects FROM crm.import_reject;
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch3, '{"last_name": "last"}'));
RESET ROLE;

-- crm_internal.import_date() (C) reads a date as the SQL expression of
-- regular expressions it replaced did: that expression, and the two compared
-- on every seventh day of 1900 to 2100 written four ways, impossible days and months,
-- other years, spaces, other separators and characters
CREATE FUNCTION pg_temp.import_date_sql(value text) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE
    WHEN regexp_replace(btrim(value), '^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$', '\3-\2-\1') ~ '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$'
     AND split_part(regexp_replace(btrim(value), '^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$', '\3-\2-\1'), '-', 1)::integer >= 1
     AND split_part(regexp_replace(btrim(value), '^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$', '\3-\2-\1'), '-', 2)::integer BETWEEN 1 AND 12
     AND split_part(regexp_replace(btrim(value), '^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$', '\3-\2-\1'), '-', 3)::integer
         BETWEEN 1 AND CASE split_part(regexp_replace(btrim(value), '^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$', '\3-\2-\1'), '-', 2)::integer
                       WHEN 2 THEN CASE WHEN split_part(regexp_replace(btrim(value), '^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$', '\3-\2-\1'), '-', 1)::integer % 400 = 0
                                          OR (split_part(regexp_replace(btrim(value), '^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$', '\3-\2-\1'), '-', 1)::integer % 4 = 0
                                              AND split_part(regexp_replace(btrim(value), '^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$', '\3-\2-\1'), '-', 1)::integer % 100 <> 0)
                                        THEN 29 ELSE 28 END
                       WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30
                       ELSE 31 END
    THEN make_date(split_part(regexp_replace(btrim(value), '^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$', '\3-\2-\1'), '-', 1)::integer,
                   split_part(regexp_replace(btrim(value), '^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$', '\3-\2-\1'), '-', 2)::integer,
                   split_part(regexp_replace(btrim(value), '^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$', '\3-\2-\1'), '-', 3)::integer)
END;
CREATE TEMP TABLE import_dates AS
SELECT to_char(d, f) AS v
FROM generate_series(date '1900-01-01', date '2100-12-31', interval '7 days') AS d,
     unnest(ARRAY['YYYY-MM-DD', 'DD.MM.YYYY', 'FMDD.FMMM.YYYY', ' YYYY-FMMM-FMDD  ']) AS f
UNION ALL
SELECT format(f, y, m, d)
FROM unnest(ARRAY[0, 1, 4, 100, 400, 999, 1582, 1900, 2000, 2023, 2024, 9999]) AS y,
     generate_series(0, 13) AS m, generate_series(0, 32) AS d,
     unnest(ARRAY['%s-%s-%s', '%s-%s-%s ', '%3$s.%2$s.%1$s', '%3$s.%2$s.%1$s.', '0%s-%s-%s', '%s-0%s-%s', '%s/%s/%s']) AS f
UNION ALL
SELECT v FROM unnest(ARRAY['', ' ', '2020', '2020-', '2020-1', '2020-1-', '2020--1', '2020-001-01', '2020-01-001',
                           '1.1.', '1.1.202', '1.1.20200', '001.1.2020', '01.01.2020x', 'x01.01.2020',
                           E'2020-01-01\n', E'\t2020-01-01', '2020-01-01 00:00', '２０２０-01-01', '٢٠٢٠-01-01',
                           '2020-1٣-01', '+2020-01-01', '-2020-01-01', '2020-+1-01', '1 .1.2020']) AS v;
SELECT count(*) AS values_compared,
       count(*) FILTER (WHERE crm_internal.import_date(v) IS NOT NULL) AS dates,
       count(*) FILTER (WHERE crm_internal.import_date(v) IS DISTINCT FROM pg_temp.import_date_sql(v)) AS read_otherwise
FROM import_dates;
DROP TABLE import_dates;

SELECT regress.reset();
DROP OWNED BY regress_importer, regress_other;
DROP ROLE regress_importer, regress_other;
