-- tools/demo.sql: crm on a small realistic sample (run by tools/dev.sh demo)
\set VERBOSITY default
\pset footer off
SET client_min_messages = warning;

-- the logic: types, operators, functions (schemas crm and crm_internal)
CREATE EXTENSION crm;
-- the data model: ordinary tables, views and triggers in schema crm, owned by this role
SELECT crm.install_data_model();
-- the operators of crm's types live in schema crm
SET search_path = public, crm;

\echo
\echo '== An import from a broker''s spreadsheet: identifiers as people typed them'
CREATE TABLE import_row (line int, name text, pesel text, nip text, regon text);
INSERT INTO import_row VALUES
    (1,  'Katarzyna Wiśniewska',             '90031212347',       NULL,               NULL),
    (2,  'Kasia Wiśniewska',                 E'900312\u00A012347', NULL,              NULL),
    (3,  'Piotr Zieliński',                  '79112305677',       NULL,               NULL),
    (4,  'Piotr Zielinski',                  '79112305676',       NULL,               NULL),
    (5,  'Zuzanna Lewandowska',              '03260104820',       NULL,               NULL),
    (6,  'Andrzej Kamiński',                 '620830-11151',      NULL,               NULL),
    (7,  'Małgorzata Wójcik',                '95023100000',       NULL,               NULL),
    (8,  'John Smith',                       NULL,                NULL,               NULL),
    (9,  'Kowalczyk i Wspólnicy sp.j.',      NULL,                'PL 526-000-12-46', '123456785'),
    (10, 'KOWALCZYK I WSPOLNICY SPÓŁKA JAWNA', NULL,              '5260001246',       '123 456 785'),
    (11, 'Kowalczyk i Wspólnicy, oddz. Kraków', NULL,             '526 000 12 46',    '12345678512347'),
    (12, 'Agro-Pol S.A.',                    NULL,                E'777\u2013000\u201328\u201395', '732295135'),
    (13, 'Transbud sp. z o.o.',              NULL,                '123-456-00-20',    '12345678X');

\echo
\echo '== 1. Which values are valid?  crm.is_valid_* never raises: made for cleaning imports'
SELECT line, name, pesel, crm.is_valid_pesel(pesel) AS pesel_ok,
       nip, crm.is_valid_nip(nip) AS nip_ok, regon, crm.is_valid_regon(regon) AS regon_ok
FROM import_row ORDER BY line;

\echo
\echo '== 2. Valid rows go into typed columns, in canonical form; PESEL gives birth date and sex'
CREATE TABLE person (line int, name text, pesel crm.pesel);
INSERT INTO person
    SELECT line, name, pesel::crm.pesel FROM import_row
    WHERE regon IS NULL AND nip IS NULL AND (pesel IS NULL OR crm.is_valid_pesel(pesel));
SELECT line, name, pesel, crm.pesel_birth_date(pesel) AS born, crm.pesel_sex(pesel) AS sex
FROM person ORDER BY line;

CREATE TABLE company (line int, name text, nip crm.nip, regon crm.regon);
INSERT INTO company
    SELECT line, name, nip::crm.nip, regon::crm.regon FROM import_row
    WHERE nip IS NOT NULL AND crm.is_valid_nip(nip) AND crm.is_valid_regon(regon);
SELECT line, name, nip, crm.nip_format(nip) AS nip_formatted, regon, crm.regon_base(regon) AS company_regon
FROM company ORDER BY line;

\echo
\echo '== 3. Duplicates the typing hid: the same identifier written differently'
SELECT pesel, string_agg(format('%s (line %s)', name, line), ', ' ORDER BY line) AS records
FROM person WHERE pesel IS NOT NULL GROUP BY pesel HAVING count(*) > 1;
SELECT nip, string_agg(format('%s (line %s)', name, line), ', ' ORDER BY line) AS records
FROM company GROUP BY nip HAVING count(*) > 1;
\echo 'A local unit''s 14-digit REGON leads to its company:'
SELECT crm.regon_base(regon) AS company_regon, count(*) AS records, string_agg(regon::text, ', ') AS regons
FROM company GROUP BY 1 ORDER BY 1;

\echo
\echo '== 4. Invalid input is refused (SQLSTATE 22P02) with what is wrong and how to fix it'
\set ON_ERROR_STOP 0
SELECT '79112305676'::crm.pesel;
SELECT '95023100000'::crm.pesel;
SELECT 'PL 123-456-00-20'::crm.nip;
SELECT '12345678X'::crm.regon;
SELECT '12345678412341'::crm.regon;
\set ON_ERROR_STOP 1

\echo
\echo '== 5. A unique index sees through formatting: the second record is refused'
CREATE TABLE registry (pesel crm.pesel PRIMARY KEY, name text);
INSERT INTO registry VALUES ('90031212347', 'Katarzyna Wiśniewska');
\set ON_ERROR_STOP 0
INSERT INTO registry VALUES ('9003-1212-347', 'Kasia Wiśniewska');
\set ON_ERROR_STOP 1


\echo
\echo '== 6. A CRM base inside the database: an insurance agency (tools/sample.sql)'
\i tools/sample.sql
\echo 'crm.client_overview: one row per visible client, for people and BI tools'
SELECT id, display_name, pesel, nip, phone, email, unit_path, active_policies AS policies,
       open_tickets AS tickets
FROM crm.client_overview ORDER BY id;

\echo
\echo '== 7. crm.client_search(): any field, % wildcards, ranges, phones in any format, campaigns, custom fields'
SELECT id, display_name, city FROM crm.client_search('{"last_name": "wi%niewska"}');
SELECT id, display_name FROM crm.client_search('{"phone": "601-234-567"}');
SELECT id, display_name, created_at FROM crm.client_search(
    '{"created_at": {"between": ["2024-01-01", "2025-12-31"]}, "city": ["Kraków", "Krakow"]}');
SELECT id, display_name FROM crm.client_search('{"campaign": "Odnowienia OC 2026", "custom:Liczba pojazdów": {">=": 1}}');

\echo
\echo '== 8. Contact history, newest first, with the record each contact happened on'
SELECT occurred_at, channel, direction, on_record, from_merged_record, summary
FROM crm.contact_history WHERE client_id = 1;

\echo
\echo '== 8b. An incoming call: identify the number, choose the record, record the call (crm.record_call)'
\echo 'Who is calling from 602-111-222?  Two records (duplicates, see 11):'
SELECT c.id, c.display_name, c.city FROM crm.identify_phone('602-111-222') AS i(id) JOIN crm.client c USING (id);
\echo 'The agent chooses client 3; the call is recorded and the client joins the call''s campaign:'
SELECT crm.record_call('602-111-222', 3, 2, call_status => 'answered', call_type => 'inbound',
                       classifier => 'zainteresowany', summary => 'pyta o ubezpieczenie na życie') AS interaction_id;
SELECT m.campaign_id, cp.name AS campaign, m.client_id FROM crm.campaign_member m JOIN crm.campaign cp ON cp.id = m.campaign_id
WHERE m.client_id = 3 ORDER BY m.campaign_id;
\echo 'The call outcomes are in the contact history, and searchable:'
SELECT occurred_at, campaign, call_status, classifier, attempts, callback_at, summary
FROM crm.contact_history WHERE channel = 'call' AND client_id IN (3, 8) ORDER BY occurred_at;
SELECT id, display_name FROM crm.client_search('{"call_status": "answered", "classifier": "oddzwonić"}');

\echo
\echo '== 8c. A ticket''s history: every status change and note, who and when (crm.ticket_history)'
SELECT t.subject, h.from_status, h.to_status, h.note
FROM crm.ticket_history h JOIN crm.ticket t ON t.id = h.ticket_id
WHERE t.subject = 'Likwidacja szkody trwa zbyt długo' ORDER BY h.id;
SELECT subject, source, source_number, call_at FROM crm.ticket WHERE source_number IS NOT NULL;

\echo
\echo '== 9. Policies: preliminary, active or archived; foreign ones flagged; their documents and photos'
SELECT client_id, number, insurer, starts_on, ends_on, status, is_foreign, documents FROM crm.client_policy ORDER BY client_id, starts_on;
SELECT p.number, d.kind, d.title, d.mime_type
FROM crm.document d JOIN crm.policy p ON p.id = d.policy_id ORDER BY p.number;
\echo 'The preliminary policy of client 5 is issued with its number:'
SELECT crm.issue_policy(p.id, 'WAR/DOM/2026/5512') FROM crm.policy p WHERE p.client_id = 5 AND p.preliminary;
SELECT client_id, number, insurer, status FROM crm.client_policy WHERE client_id = 5 ORDER BY starts_on;

\echo
\echo '== 10. Deleting a client with business records is refused (merge first); hiding keeps everything'
\set ON_ERROR_STOP 0
SELECT crm.delete_client(3);
\set ON_ERROR_STOP 1
SELECT crm.hide_client(4, 'duplikat - do scalenia');
SELECT count(*) AS visible_clients FROM crm.client_overview;

\echo
\echo '== 11. Duplicates: exact criteria (case and spacing folded), who is calling, fuzzy candidates'
SELECT group_id, client_id, is_oldest, display_name, matched FROM crm.find_duplicates(ARRAY['phone']);
SELECT group_id, client_id, is_oldest, display_name, matched FROM crm.find_duplicates(ARRAY['nip']);
SELECT c.id, c.display_name FROM crm.identify_phone('0048 601-234-567') AS i(id) JOIN crm.client c USING (id);
\echo 'Fuzzy: pairs over the whole base, with scores and the reasons'
SELECT client_a, client_b, round(score::numeric, 2) AS score, reasons FROM crm.duplicate_pairs();
\echo 'Saving a record that looks like an existing client names it (crm.duplicate_check = notice):'
INSERT INTO crm.client (first_name, last_name, city) VALUES ('Kaśka', 'WISNIEWSKA', 'Krakow') RETURNING id AS new_id \gset
\echo '(the same name and city alone stay under the threshold; her phone settles it)'
INSERT INTO crm.contact (client_id, kind, value) VALUES (:new_id, 'phone', '601-234-567');
SELECT client_a, client_b, round(score::numeric, 2) AS score, found_by FROM crm.possible_duplicate ORDER BY 1, 2;

\echo
\echo '== 12. Merging duplicates: first the preview, then the merge, journaled'
SELECT p -> 'can_merge' AS can_merge,
       jsonb_path_query_array(p, '$.fields[*].field') AS fields_that_differ
FROM crm.merge_preview(ARRAY[2], 1) AS p;
SELECT t.* FROM jsonb_to_recordset(crm.merge_preview(ARRAY[2], 1) -> 'tables')
    AS t("table" text, action text, "rows" int, fold_into_target int);
\echo 'Kasia (2) into Katarzyna (1), keeping the address typed on the duplicate:'
SELECT crm.merge_client(2, 1, '{"address": 2}') AS merge_id;
SELECT id, display_name, address FROM crm.client WHERE id IN (1, 2);
SELECT kind, value, is_default FROM crm.contact WHERE client_id = 1 ORDER BY kind, value;
SELECT occurred_at, channel, on_record, from_merged_record, summary FROM crm.contact_history WHERE client_id = 1;

\echo
\echo '== 13. The rules refuse with the facts and the fix'
\set ON_ERROR_STOP 0
SELECT crm.merge_client(7, 8);
SELECT crm.merge_client(3, 6);
\set ON_ERROR_STOP 1

\echo
\echo '== 14. And a merge can be undone'
SELECT crm.unmerge(1) AS restored_client;
SELECT id, display_name, address FROM crm.client WHERE id IN (1, 2) ORDER BY id;
\echo
\echo '== 15. GDPR: consents keep their history; the right of access; the right to be forgotten'
SELECT crm.grant_consent(3, 'marketing') AS consent_id;
SELECT crm.withdraw_consent(3, 'marketing') AS withdrawn;
SELECT consent_id, event, purpose, by_role FROM crm.consent_history WHERE client_id = 3 ORDER BY at, event;
\echo 'Everything held about client 3, table by table (crm.client_export):'
SELECT key AS table_name, jsonb_array_length(value) AS rows FROM jsonb_each(crm.client_export(3) -> 'linked') ORDER BY 1;
\echo 'Anonymizing client 5 asks for a code typed back; a wrong one changes nothing:'
\set ON_ERROR_STOP 0
SELECT crm.anonymize(5, 'AAAA-AAAA');
\set ON_ERROR_STOP 1
SELECT crm.anonymization_code(5) AS code \gset
SELECT crm.anonymize(5, :'code');
SELECT id, display_name, first_name, last_name, pesel, anonymized_at IS NOT NULL AS anonymized FROM crm.client WHERE id = 5;
SELECT action, client_id, detail -> 'rows' AS rows_changed FROM crm.audit_log ORDER BY id;

\echo
\echo '== 16. For BI tools: crm.client_report needs no crm function or operator (search_path without crm)'
SET search_path = public;
SELECT id, display_name, pesel, birth_year, sex, unit_path, policies, open_tickets, duplicate_candidates
FROM crm.client_report WHERE NOT anonymized AND kind = 'person' AND birth_year < 1990 ORDER BY id;
SELECT unit_path, count(*) AS clients, sum(active_policies) AS active_policies
FROM crm.client_report GROUP BY unit_path ORDER BY unit_path;
SET search_path = public, crm;

\echo
\echo '== 17. The data is the database''s: ordinary tables that pg_dump keeps whole, with what a DBA adds'
SELECT version, installed_by FROM crm.data_model;
SELECT count(*) FILTER (WHERE c.relkind = 'r') AS tables, count(*) FILTER (WHERE c.relkind = 'v') AS views,
       count(*) FILTER (WHERE EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')) AS owned_by_extension
FROM pg_class c WHERE c.relnamespace = 'crm'::regnamespace;

\echo
\echo '== 18. Who may do what, where: crm''s roles and row-level security by structure (doc/security.md)'
SELECT crm.create_roles();
SELECT crm.enable_row_security();
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'demo_anna') THEN CREATE ROLE demo_anna; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'demo_marek') THEN CREATE ROLE demo_marek; END IF;
END $$;
GRANT crm_agent TO demo_anna;
GRANT crm_supervisor TO demo_marek;
SELECT crm.user_unit('demo_anna', 3) AS anna_in_motor_dept, crm.user_unit('demo_marek', 2) AS marek_in_krakow;
\echo 'Anna, an agent of Dział komunikacyjny, sees its clients only, in every table and view:'
SET ROLE demo_anna;
SELECT id, display_name, unit_path FROM crm.client_report ORDER BY id;
RESET ROLE;
\echo 'Marek, a supervisor in Oddział Kraków, hides and unhides there; outside it he is told no more than of a client that does not exist:'
SET ROLE demo_marek;
SELECT crm.hide_client(7, 'demo'), crm.unhide_client(7);
\set ON_ERROR_STOP 0
SELECT crm.hide_client(6);
\set ON_ERROR_STOP 1
SELECT count(*) AS clients_marek_reaches FROM crm.client;
RESET ROLE;
\echo 'The audit log: who did what, never personal data; written only by crm''s functions:'
SELECT actor, action, client_id, detail FROM crm.audit_log ORDER BY id DESC LIMIT 5;
REVOKE crm_agent FROM demo_anna;
REVOKE crm_supervisor FROM demo_marek;
DROP ROLE demo_anna, demo_marek;

\echo
\echo 'Demo done.'
