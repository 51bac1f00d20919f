-- Attack script (run: tools/dev.sh psql -f attack/attack.sql). Superuser sets up, agents attack.
\set VERBOSITY verbose
\pset pager off
SET client_min_messages = notice;
SELECT crm.install_data_model();
\i tools/sample.sql
SET client_min_messages = notice;
SELECT crm.create_roles();
SELECT crm.enable_row_security();
CREATE ROLE atk_a LOGIN; CREATE ROLE atk_b LOGIN;
GRANT crm_agent TO atk_a, atk_b;
SELECT crm.user_unit('atk_a', 2);   -- Kraków: units 2,3,4
SELECT crm.user_unit('atk_b', 5);   -- Warszawa
-- a merge made by someone reaching both units (supervisor of unit 1; superuser here): Warsaw client 3 into Kraków client 1
SELECT id, unit_id, first_name, last_name, pesel FROM crm.client WHERE id IN (1,3,6) ORDER BY id;
SELECT crm.merge_client(3, 1, NULL, 'union', false);
SELECT crm.send_vcard(1, 'boss@example.com') AS queued_by_superuser;

\echo ===== A. visibility baseline
SET ROLE atk_a;
SELECT current_user, array_agg(id ORDER BY id) AS atk_a_sees FROM crm.client;
RESET ROLE;
SET ROLE atk_b;
SELECT current_user, array_agg(id ORDER BY id) AS atk_b_sees FROM crm.client;
RESET ROLE;

\echo ===== B. contacts: lock side channel (atk_b holds client 4 in a background session)
\! psql -X -q -U atk_b -c "BEGIN; UPDATE crm.client SET city = city WHERE id = 4; SELECT pg_sleep(4); COMMIT;" > /tmp/attack_bg.out 2>&1 &
SELECT pg_sleep(1);
SET ROLE atk_a;
SET lock_timeout = '500ms';
\echo -- B1 client 4 (exists, busy): default contact
INSERT INTO crm.contact (client_id, kind, value, is_default) VALUES (4, 'phone', '+48600000001', true);
\echo -- B2 client 99999 (does not exist)
INSERT INTO crm.contact (client_id, kind, value, is_default) VALUES (99999, 'phone', '+48600000001', true);
\echo -- B3 client 6 (exists, idle)
INSERT INTO crm.contact (client_id, kind, value, is_default) VALUES (6, 'phone', '+48600000001', true);
\echo -- B4 move a visible contact to busy client 4 (UPDATE)
UPDATE crm.contact SET client_id = 4, is_default = true WHERE id = (SELECT min(id) FROM crm.contact WHERE client_id = 1);
\echo -- B5 non-default insert for busy client 4 (no row trigger)
INSERT INTO crm.contact (client_id, kind, value, is_default) VALUES (4, 'phone', '+48600000002', false);
RESET lock_timeout;
RESET ROLE;
SELECT pg_sleep(3.5);

\echo ===== C. contacts: direct calls
SET ROLE atk_a;
SELECT crm_internal.contact_assign_defaults(ARRAY[6]::bigint[], ARRAY['phone']);
SELECT crm_internal.contact_after_statement();
SELECT crm_internal.contact_lock_client();
\echo -- C2 on conflict on an invisible client
INSERT INTO crm.contact (client_id, kind, value) SELECT 6, 'phone', '+48600000003' ON CONFLICT DO NOTHING;
\echo -- C3 pg_trigger_depth forged from a temp-table trigger (skips contact_update_default)
CREATE TEMP TABLE tt (x int);
CREATE FUNCTION pg_temp.tf() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN RAISE NOTICE 'depth in my trigger: %', pg_trigger_depth();
  UPDATE crm.contact SET is_default = true WHERE client_id = 1 AND kind = 'phone' AND NOT is_default; RETURN NULL; END $f$;
CREATE TRIGGER tt_t AFTER INSERT ON tt FOR EACH ROW EXECUTE FUNCTION pg_temp.tf();
INSERT INTO tt VALUES (1);
SELECT id, client_id, kind, value, is_default FROM crm.contact WHERE client_id = 1 ORDER BY id;
RESET ROLE;

\echo ===== D. audit_bulk
SET ROLE atk_a;
SELECT crm_internal.audit_bulk('bulk remove from campaign', ARRAY[6], '{"campaign_id": 1}');
SELECT crm_internal.audit_bulk('bulk remove from campaign', ARRAY[99999], '{"campaign_id": 1}');
\echo -- D2 forged entries about reachable clients, nothing done, arbitrary detail
SELECT crm_internal.audit_bulk('bulk remove from campaign', ARRAY[1,2,5,7], '{"campaign_id": 424242, "pesel": "90031212347", "note": "done by crm_admin on request of the client"}');
SELECT crm_internal.audit_bulk('bulk set custom value', ARRAY[1], '{"field_id": 999, "cleared": true, "actor": "anna"}');
SELECT crm_internal.audit_bulk('bulk assign price list', ARRAY[9], jsonb_build_object('blob', repeat('x', 100000)));
\echo -- D3 bulk functions on out-of-reach ids
SELECT crm.bulk_add_to_campaign(ARRAY[6]::bigint[], 1);
SELECT crm.bulk_add_to_campaign(ARRAY[99999]::bigint[], 1);
SELECT crm.bulk_replace_owner('agent_piotr', 'atk_a');
SELECT crm.bulk_change_owner('{"unit_within": 6}'::jsonb, 'atk_a');
SELECT crm.refresh_invoices(6);
SELECT crm.refresh_invoices(99999);
SELECT crm.refresh_invoices();
RESET ROLE;
SELECT id, actor, action, client_id, unit_id, left(detail::text, 120) FROM crm.audit_log ORDER BY id DESC LIMIT 8;
SELECT owner, count(*) FROM crm.client GROUP BY 1 ORDER BY 1;

\echo ===== E. export
SET ROLE atk_a;
SELECT crm.export_clients('{}', ARRAY['id', 'pesel'], 'v"; DROP TABLE crm.client; --');
SELECT * FROM pg_temp."v""; DROP TABLE crm.client; --";
SELECT crm.export_clients('{"hidden": "any"}', ARRAY['id', 'unit_id', 'hidden_at'], 'v2');
SELECT * FROM v2;
SELECT crm.export_clients_sql('{"x\u0027) OR true --": 1}', ARRAY['id']);
SELECT crm.export_clients_sql('{}', ARRAY['id", (SELECT 1) AS "x']);
SELECT crm.export_clients_sql('{"last_name": "x\u0027 OR true --"}', ARRAY['id']);
SELECT crm.export_clients_xlsx_file('{}', NULL, '/tmp/attack.xlsx');
SELECT length(crm.export_clients_xlsx('{"unit_within": 6}', ARRAY['id'])) AS xlsx_len_unit6,
       length(crm.export_clients_xlsx('{}', ARRAY['id'])) AS xlsx_len_all;
SELECT name, setting FROM pg_settings WHERE name LIKE 'crm_export%';
CREATE TEMP TABLE tbl_v3 (x int);
SELECT crm.export_clients('{}', ARRAY['id'], 'tbl_v3');
RESET ROLE;

\echo ===== F. import
SET ROLE atk_a;
SELECT crm.import_begin(ARRAY['a"b', 'x); DROP TABLE crm.client; --', 'unit'], 'f.csv', 'st"; DROP TABLE crm.client; --') AS b1 \gset
INSERT INTO pg_temp."st""; DROP TABLE crm.client; --" VALUES ('Jan', 'Kowalski', '5'), ('Ewa', 'Nowak', '3'), ('Ola', 'Lis', '6');
SELECT row_no, verdict, reasons FROM crm.import_preview(:b1, '{"first_name": "a\"b", "last_name": "x); DROP TABLE crm.client; --", "unit_id": "unit", "campaign": {"value": "x\u0027); DROP TABLE crm.client; --"}}');
SELECT row_no, verdict, reasons FROM crm.import_preview(:b1, '{"first_name": "a\"b", "last_name": "x); DROP TABLE crm.client; --", "unit_id": "unit"}');
SELECT crm.import_apply(:b1, '{"first_name": "a\"b", "last_name": "x); DROP TABLE crm.client; --", "unit_id": "unit"}');
\echo -- F2 staging pointing at a real table / other name
UPDATE crm.import_batch SET staging = 'crm.client', applied_at = NULL, result = NULL WHERE id = :b1;
SELECT crm.import_apply(:b1, '{"first_name": "a\"b"}');
UPDATE crm.import_batch SET created_by = 'atk_b' WHERE id = :b1;
INSERT INTO crm.import_batch (columns, staging, created_by) VALUES ('{a}', 'x', 'atk_b');
RESET ROLE;
SET ROLE atk_b;
SELECT id, created_by FROM crm.import_batch;
SELECT count(*) AS rejects_seen_by_b FROM crm.import_reject;
RESET ROLE;

\echo ===== G. merges
SET ROLE atk_a;
SELECT crm.merge_client(6, 1, NULL, 'union', false);
SELECT crm.merge_preview(ARRAY[6]::bigint[], 1);
SELECT * FROM crm_internal.merge_field_plan(1, ARRAY[6]::bigint[], NULL);
\echo -- G2 merge journal of the Warsaw client merged into a Kraków one, read by the Kraków agent
SELECT id, merged_by, target_id, source_ids, sources, conflicts FROM crm.merge_log;
SELECT merge_id, client_id, relation, action, left(row_data::text, 200) FROM crm.merge_log_row;
RESET ROLE;

\echo ===== H. vcard
SET ROLE atk_a;
SELECT crm.vcard(6);
SELECT crm.vcard(99999);
SELECT crm.send_vcard(6, 'me@example.com');
INSERT INTO crm.vcard_outbox (client_id, recipient, card) VALUES (6, 'me@example.com', 'x');
LISTEN crm_vcard_outbox;
SELECT crm.send_vcard(1, 'me@example.com');
UPDATE crm.vcard_outbox SET sent_at = now() WHERE requested_by <> current_user RETURNING id, requested_by, sent_at;
UNLISTEN *;
RESET ROLE;

\echo ===== I. *_problem
SET ROLE atk_a;
SELECT length(crm.phone_problem(repeat('9', 1000000))), crm.phone_problem(''), crm.phone_problem('+'), crm.phone_problem('++48 (((('),
       crm.phone_problem(repeat('ą', 100));
SELECT length(crm.email_problem(repeat('a', 1000000) || '@' || repeat('b', 1000000))), crm.email_problem('@'), crm.email_problem('a@'),
       crm.email_problem(repeat('@', 1000)), crm.email_problem('a@b..c'), crm.email_problem(E'a@\u00e9.pl');
SELECT crm.pesel_problem(repeat('1', 100000)) IS NOT NULL, crm.nip_problem('PL'), crm.regon_problem(''), crm.pesel_problem('ąęś');
SELECT crm_internal.import_date_problem(repeat('1', 1000)), crm_internal.import_date_problem('31.02.2020');
RESET ROLE;
\echo ===== background session output
\! cat /tmp/attack_bg.out
