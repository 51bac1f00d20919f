--
-- Upgrading 1.0.0 to 1.0.1 makes four views of the model again, with new
-- columns (an extension's script may not replace a view it does not own):
-- a DBA's view built on one of them makes the upgrade refuse, with what to
-- do, and changes nothing; the grants given on them are kept.
--
SELECT current_database() AS regress_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS crm_upgrade_views;
DO $$ BEGIN CREATE ROLE regress_uv_bi NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
RESET client_min_messages;
CREATE DATABASE crm_upgrade_views;

\c crm_upgrade_views
SET client_min_messages = warning;
CREATE EXTENSION crm VERSION '1.0.0';
SELECT crm.install_data_model();
RESET client_min_messages;
INSERT INTO crm.client (id, first_name, last_name, city) VALUES (1, 'Jan', 'Kowalski', 'Kraków');
INSERT INTO crm.interaction (client_id, channel, direction, phone, summary)
VALUES (1, 'call', 'inbound', '601 234 567', 'pytanie o polisę');
CREATE VIEW public.bi_calls AS SELECT id, channel, summary FROM crm.contact_history;
GRANT SELECT ON crm.client_report, crm.contact_history TO regress_uv_bi;

-- refused, nothing changed
\set VERBOSITY default
\set SHOW_CONTEXT never
ALTER EXTENSION crm UPDATE TO '1.0.1';
\set VERBOSITY terse
\set SHOW_CONTEXT errors
SELECT extversion FROM pg_extension WHERE extname = 'crm';
SELECT version FROM crm.data_model;

-- the DBA's view dropped, the upgrade goes through; the grants stay and
-- the view has its new columns
DROP VIEW public.bi_calls;
SET client_min_messages = warning;
ALTER EXTENSION crm UPDATE TO '1.0.1';
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'crm';
SELECT version FROM crm.data_model;
SELECT has_table_privilege('regress_uv_bi', 'crm.client_report', 'SELECT') AS report,
       has_table_privilege('regress_uv_bi', 'crm.contact_history', 'SELECT') AS history;
SELECT client_id, channel, phone, call_status, attempts FROM crm.contact_history;

\c :regress_db
DROP DATABASE crm_upgrade_views;
DROP ROLE regress_uv_bi;
