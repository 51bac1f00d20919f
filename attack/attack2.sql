-- Attack script 2 (run: tools/dev.sh psql -f attack/attack2.sql)
\set VERBOSITY verbose
\pset pager off
SELECT crm.install_data_model();
\i tools/sample.sql
SET client_min_messages = notice;
SELECT crm.create_roles();
SELECT crm.enable_row_security();
CREATE ROLE atk_a LOGIN; CREATE ROLE atk_b LOGIN; CREATE ROLE sup_top LOGIN;
GRANT crm_agent TO atk_a, atk_b; GRANT crm_supervisor TO sup_top;
SELECT crm.user_unit('atk_a', 2); SELECT crm.user_unit('atk_b', 5); SELECT crm.user_unit('sup_top', 1);

\echo ===== J. lock on an invisible client kept by a caught error?
\! (sleep 1.5; psql -X -U postgres -c "SET lock_timeout='300ms'; BEGIN; SELECT id FROM crm.client WHERE id = 6 FOR UPDATE; COMMIT;") > /tmp/attack2_bg.out 2>&1 &
SET ROLE atk_a;
DO $d$
BEGIN
  BEGIN
    INSERT INTO crm.contact (client_id, kind, value, is_default) VALUES (6, 'phone', '+48600000009', true);
  EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE 'caught: %', SQLERRM;
  END;
  PERFORM pg_sleep(3);
END $d$;
RESET ROLE;
\! cat /tmp/attack2_bg.out
\echo -- J2 on conflict against an invisible client
SET ROLE atk_a;
INSERT INTO crm.contact (client_id, kind, value) SELECT 6, 'phone', '+48600000003' ON CONFLICT DO NOTHING;
INSERT INTO crm.contact (client_id, kind, value) SELECT 6, 'phone', '+48600000003'
  ON CONFLICT (client_id, kind, value) DO UPDATE SET label = 'x';
RESET ROLE;

\echo ===== K. merge journal: a supervisor of unit 1 merges a unit-1 client (out of atk_a reach) into client 5 (unit 4)
INSERT INTO crm.client (kind, first_name, last_name, pesel, city, address, unit_id, owner)
VALUES ('person', 'Jan', 'Smith', '44051401359', 'Poznań', 'ul. Tajna 13', 1, 'agent_x') RETURNING id AS src \gset
INSERT INTO crm.contact (client_id, kind, value) VALUES (:src, 'phone', '+48777888999'), (:src, 'email', 'jan.tajny@example.com');
SET ROLE sup_top;
SELECT crm.merge_client(:src, 5, NULL, 'union', false) AS merge_id \gset
SELECT crm.unmerge(:merge_id);
RESET ROLE;
SELECT id, unit_id FROM crm.client WHERE id IN (5, :src);
SET ROLE atk_a;
SELECT array_agg(id) AS atk_a_sees FROM crm.client;
SELECT id, target_id, source_ids, sources::text, conflicts::text, field_values::text, contacts FROM crm.merge_log WHERE id = :merge_id;
SELECT client_id, relation, action, row_key::text, left(row_data::text, 300) FROM crm.merge_log_row
 WHERE merge_id = :merge_id;
RESET ROLE;

\echo ===== L. vcard outbox: a card queued by another agent, marked sent
SET ROLE atk_a;
SELECT crm.send_vcard(1, 'a@example.com') AS mine;
RESET ROLE;
SELECT crm.user_unit('atk_b', 3);
SET ROLE atk_b;
UPDATE crm.vcard_outbox SET sent_at = now() WHERE sent_at IS NULL RETURNING id, requested_by, recipient, sent_at;
RESET ROLE;
