--
-- import (WB-2) of an xlsx workbook: crm.xlsx_sheets(), crm.import_xlsx()
-- fill an import batch's staging table, then crm.import_preview() and
-- crm.import_apply() as for a CSV file (sql/import.sql)
--
-- The workbooks in test/data/ were written by openpyxl (Debian's
-- python3-openpyxl), a spreadsheet writer crm did not write, and committed;
-- test/make_xlsx.py makes them again (the hostile ones, bomb.xlsx,
-- doctype.xlsx and badxml.xlsx, are zip archives it makes with Python's
-- zipfile).  Others come from crm.export_clients_xlsx() (libxlsxwriter).
-- psql reads them as base64 (coreutils).
--
SELECT regress.reset();

\set clients `base64 -w0 test/data/import_clients.xlsx`
\set mac `base64 -w0 test/data/import_1904.xlsx`
\set wide `base64 -w0 test/data/import_wide.xlsx`
\set stray `base64 -w0 test/data/import_stray.xlsx`
\set bomb `base64 -w0 test/data/bomb.xlsx`
\set bomb_lying `base64 -w0 test/data/bomb_lying.xlsx`
\set long_row `base64 -w0 test/data/long_row.xlsx`
\set doctype `base64 -w0 test/data/doctype.xlsx`
\set badxml `base64 -w0 test/data/badxml.xlsx`

INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'Ocena', 'number'), (2, 'Uwagi', 'text');
INSERT INTO crm.campaign (id, name) VALUES (1, 'Wiosna');
INSERT INTO crm.segment (id, name) VALUES (1, 'VIP'), (2, 'Gold');
-- already in the base: the workbook's Tomasz Zieliński is the same person
INSERT INTO crm.client (id, first_name, last_name, pesel, city) VALUES (1, 'Tomasz', 'Zieliński', '90072301237', 'Łódź');
SELECT regress.sync_identities();

--
-- the sheets of a workbook, in the order of their tabs
--
SELECT * FROM crm.xlsx_sheets(decode(:'clients', 'base64'));

--
-- the first visible sheet ("Klienci": "Ukryta" is hidden): the rows of the
-- CSV test, typed as a spreadsheet types them: the PESEL and the phone of
-- row 1 are numbers, the birth dates of rows 7 and 9 date cells shown
-- dd.mm.yyyy (staged as ISO dates), row 9's rating 0.1 + 0.2 (a double:
-- 0.30000000000000004, shown with 15 digits), row 8's "2,5" text with a
-- decimal comma
--
SELECT crm.import_xlsx(decode(:'clients', 'base64'), file_name => 'klienci.xlsx') AS batch \gset
SELECT * FROM pg_temp.crm_import;
SELECT id, file_name, columns, staging, created_by = current_user AS mine, applied_at FROM crm.import_batch;

\set mapping '{"first_name": "Imię", "last_name": "Nazwisko", "company_name": "Firma", "pesel": "PESEL", "nip": "NIP", "birth_date": "Data urodzenia", "phone": "Telefon", "email": "E-mail", "custom": {"ocena": "Ocena"}, "campaign": "Kampania", "segment": {"column": "Segmenty", "separator": ","}, "city": {"value": "Kraków"}}'
SELECT row_no, verdict, reasons FROM crm.import_preview(:batch, :'mapping', 100);
SELECT crm.import_apply(:batch, :'mapping');
SELECT id, kind, display_name, company_name, pesel, nip, birth_date, city, source FROM crm.client ORDER BY id;
SELECT client_id, kind, value, is_default FROM crm.contact ORDER BY client_id, kind, value;
SELECT client_id, field, value FROM crm.client_custom_value ORDER BY client_id, field;
SELECT client_id, segment_id FROM crm.segment_member ORDER BY 1, 2;
SELECT row_no, original, reasons FROM crm.import_reject WHERE batch_id = :batch ORDER BY row_no;
SELECT client_a, client_b FROM crm.possible_duplicate ORDER BY 1, 2;

--
-- every other reason, from sheet "Inne" named by the caller (case
-- ignored): column L has no heading (named by its letter), a blank row
-- (left out), rows shorter than the header, a date with a time, a boolean
--
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES (1, NULL, 'channel', 'Agencja');
SELECT crm.import_xlsx(decode(:'clients', 'base64'), 'inne', staging => 'second') AS batch2 \gset
SELECT columns FROM crm.import_batch WHERE id = :batch2;
SELECT * FROM second;
\set mapping2 '{"kind": "kind", "first_name": "first", "last_name": "last", "company_name": "company", "pesel": "pesel", "birth_date": "born", "nip": "nip", "regon": "regon", "language": "lang", "unit_id": "unit", "phone": {"column": "phones", "separator": ";"}, "custom": {"Uwagi": "notes"}}'
SELECT row_no, verdict, reasons, client, phones, custom FROM crm.import_preview(:batch2, :'mapping2', 10);
SELECT crm.import_apply(:batch2, :'mapping2', find_duplicates => false);
SELECT row_no, reasons FROM crm.import_reject WHERE batch_id = :batch2 ORDER BY row_no;

--
-- the 1904 date system (workbooks of old Mac Excel): the same serial is
-- another day; a time of day
--
SELECT crm.import_xlsx(decode(:'mac', 'base64'), staging => 'mac') AS batch3 \gset
SELECT * FROM mac;

--
-- crm's own export (libxlsxwriter: inline strings, _xHHHH_ escapes, date
-- and timestamp cells) read back: every value as the export's view gives it
-- (a timestamp to the nearest second, as a spreadsheet shows it)
--
SET TimeZone = 'Europe/Warsaw';
UPDATE crm.client SET address = E'tab\tnew\nline, bell\x07, _x0041_ stays' WHERE id = 1;
SELECT crm.export_clients('{}', '{id,display_name,pesel,birth_date,address,created_at,custom:Ocena}', 'exported') IS NOT NULL AS view;
SELECT crm.import_xlsx(crm.export_clients_xlsx('{}', '{id,display_name,pesel,birth_date,address,created_at,custom:Ocena}'),
                       staging => 'roundtrip') AS batch4 \gset
SELECT columns FROM crm.import_batch WHERE id = :batch4;
SELECT count(*) AS staged, (SELECT count(*) FROM exported) AS exported FROM roundtrip;
-- no difference either way
(SELECT id::text, display_name, pesel::text, to_char(birth_date, 'YYYY-MM-DD'), address,
        to_char(date_trunc('second', created_at + interval '0.5 s'), 'YYYY-MM-DD HH24:MI:SS'), "custom:Ocena"::text FROM exported
 EXCEPT SELECT * FROM roundtrip)
UNION ALL
(SELECT * FROM roundtrip
 EXCEPT SELECT id::text, display_name, pesel::text, to_char(birth_date, 'YYYY-MM-DD'), address,
        to_char(date_trunc('second', created_at + interval '0.5 s'), 'YYYY-MM-DD HH24:MI:SS'), "custom:Ocena"::text FROM exported);
SELECT address, address = E'tab\tnew\nline, bell\x07, _x0041_ stays' AS exact FROM roundtrip WHERE id = '1';
RESET TimeZone;

--
-- refusals, each with its SQLSTATE: limits (54000), a file that is no
-- workbook (22P03), a sheet that does not fit a staging table (22P04,
-- 42701), a sheet that is not there (22023)
--
-- a zip bomb: 50 MB of one sheet part deflated to 51 kB
SELECT * FROM regress.error_of(format('SELECT crm.import_xlsx(decode(%L, ''base64''), staging => ''x'')', :'bomb'));
-- the same with a zip directory that claims 2 GB compressed: the ratio is
-- taken against the workbook's own size, not what the directory claims
SELECT * FROM regress.error_of(format('SELECT crm.import_xlsx(decode(%L, ''base64''), staging => ''x'')', :'bomb_lying'));
-- a row of a few kB of workbook that names one long shared string in 1,000 cells
SELECT * FROM regress.error_of(format('SELECT crm.import_xlsx(decode(%L, ''base64''), staging => ''x'')', :'long_row'));
-- a cell in column 1601: a table has at most 1600 columns
SELECT * FROM regress.error_of(format('SELECT crm.import_xlsx(decode(%L, ''base64''), staging => ''x'')', :'wide'));
-- the billion laughs: a DOCTYPE with nested entities
SELECT * FROM regress.error_of(format('SELECT crm.import_xlsx(decode(%L, ''base64''), staging => ''x'')', :'doctype'));
SELECT * FROM regress.error_of(format('SELECT crm.import_xlsx(decode(%L, ''base64''), staging => ''x'')', :'badxml'));
-- not a zip; a workbook cut short (its zip directory is at the end)
-- (the detail ends with libzip's own words, which differ between its versions:
-- 1.9 says "Not a zip archive", 1.11 "Possibly truncated or corrupted zip archive")
SELECT err_code, err_message, split_part(err_detail, ': ', 1) AS err_detail, err_hint FROM regress.error_of($$SELECT crm.import_xlsx('\x504b0304deadbeef', staging => 'x')$$);
SELECT err_code, err_message, split_part(err_detail, ': ', 1) AS err_detail, err_hint FROM regress.error_of(format('SELECT crm.import_xlsx(substr(decode(%L, ''base64''), 1, 4000), staging => ''x'')', :'clients'));
SELECT err_code, err_message, split_part(err_detail, ': ', 1) AS err_detail, err_hint FROM regress.error_of(format('SELECT * FROM crm.xlsx_sheets(substr(decode(%L, ''base64''), 1, 4000))', :'clients'));
SELECT * FROM regress.error_of($$SELECT crm.import_xlsx(convert_to('Imię;Nazwisko', 'UTF8'), staging => 'x')$$);
-- a cell right of the header's columns would be lost: refused
SELECT * FROM regress.error_of(format('SELECT crm.import_xlsx(decode(%L, ''base64''), staging => ''x'')', :'stray'));
SELECT * FROM regress.error_of(format('SELECT crm.import_xlsx(decode(%L, ''base64''), ''Arkusz1'', staging => ''x'')', :'clients'));
SELECT * FROM regress.error_of('SELECT crm.import_xlsx(NULL)');
-- the export's empty workbook: a header and no row is a batch of no rows
SELECT crm.import_xlsx(crm.export_clients_xlsx('{"city": "nowhere"}', '{id,pesel}'), staging => 'empty') AS batch5 \gset
SELECT count(*) FROM empty;
-- a staging table of the same name: crm.import_begin()'s refusal, nothing begun
SELECT * FROM regress.error_of(format('SELECT crm.import_xlsx(decode(%L, ''base64''), staging => ''mac'')', :'mac'));
SELECT count(*) AS batches FROM crm.import_batch;

--
-- a low-privileged role imports a workbook with its own rights: its unit,
-- its batch; another agent sees neither
--
SELECT crm.create_roles() IS NOT NULL AS roles;
SELECT crm.enable_row_security() IS NOT NULL AS row_security;
CREATE ROLE regress_xlsx_importer NOLOGIN;
CREATE ROLE regress_xlsx_other NOLOGIN;
GRANT crm_agent TO regress_xlsx_importer, regress_xlsx_other;
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES (2, 1, 'branch', 'Kraków'), (3, 1, 'branch', 'Gdańsk');
SELECT crm.user_unit('regress_xlsx_importer', 2), crm.user_unit('regress_xlsx_other', 3);
SET ROLE regress_xlsx_importer;
SELECT * FROM crm.xlsx_sheets(decode(:'mac', 'base64'));
SELECT crm.import_xlsx(decode(:'mac', 'base64'), 'Mac', 'mac.xlsx', 'mine') AS batch6 \gset
SELECT row_no, verdict, reasons, client FROM crm.import_preview(:batch6, '{"last_name": "Nazwisko", "birth_date": "Data urodzenia"}');
SELECT crm.import_apply(:batch6, '{"last_name": "Nazwisko", "birth_date": "Data urodzenia"}');
SELECT display_name, birth_date, unit_id, source FROM crm.client ORDER BY id;
SELECT id, file_name, created_by FROM crm.import_batch ORDER BY id;
RESET ROLE;
SET ROLE regress_xlsx_other;
SELECT count(*) AS batches FROM crm.import_batch;
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch6, '{"last_name": "Nazwisko"}'));
RESET ROLE;

SELECT regress.reset();
DROP OWNED BY regress_xlsx_importer, regress_xlsx_other;
DROP ROLE regress_xlsx_importer, regress_xlsx_other;
