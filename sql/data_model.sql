--
-- data_model: CREATE EXTENSION installs the logic, crm.install_data_model()
-- the tables; what happens without them, twice, over tables made by hand,
-- and with a model of another version
--
SELECT current_database() AS regress_db \gset
CREATE DATABASE crm_data_model;
\c crm_data_model
CREATE EXTENSION crm;
SET client_min_messages = warning;

-- the extension alone: types and functions, no table in schema crm
SELECT count(*) AS tables_in_crm FROM pg_class WHERE relnamespace = 'crm'::regnamespace;
SELECT '44051401359'::crm.pesel, crm.pesel_birth_date('44051401359');

-- every public function, called with plausible arguments: those that need
-- the tables say so (55000, with the hint that names the fix); the others
-- run.  None fails with "relation does not exist" or "type does not exist".
CREATE TEMP TABLE probe (fn regprocedure, call text, sqlstate text, message text, hint text);
DO $$
DECLARE
    p record;
    args text;
    msg text;
    st text;
    hnt text;
BEGIN
    FOR p IN SELECT oid, oid::regprocedure AS fn, proname, proargtypes::regtype[] AS types
             FROM pg_proc WHERE pronamespace = 'crm'::regnamespace
               AND proname <> 'install_data_model' ORDER BY oid::regprocedure::text LOOP
        SELECT string_agg(CASE t
                   WHEN 'bigint'::regtype THEN '1'
                   WHEN 'bigint[]'::regtype THEN 'ARRAY[2]::bigint[]'
                   WHEN 'text'::regtype THEN '''phone'''
                   WHEN 'text[]'::regtype THEN 'ARRAY[''pesel'']'
                   WHEN 'jsonb'::regtype THEN '''{}''::jsonb'
                   WHEN 'real'::regtype THEN '0.5'
                   WHEN 'double precision'::regtype THEN '0.5'
                   WHEN 'record'::regtype THEN 'ROW(1)'
                   ELSE format('NULL::%s', t) END, ', ' ORDER BY o)
        INTO args FROM unnest(p.types) WITH ORDINALITY AS a(t, o);
        BEGIN
            EXECUTE format('SELECT crm.%I(%s)', p.proname, coalesce(args, ''));
            st := '00000'; msg := NULL; hnt := NULL;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hnt = PG_EXCEPTION_HINT;
        END;
        INSERT INTO probe VALUES (p.fn, format('crm.%s(%s)', p.proname, coalesce(args, '')), st, msg, hnt);
    END LOOP;
END
$$;
-- the functions that need the model, and what they say
SELECT fn, message, hint FROM probe WHERE sqlstate = '55000' ORDER BY fn::text;
-- the others: none of them touched a missing table
SELECT fn, sqlstate, message FROM probe WHERE sqlstate <> '55000' ORDER BY fn::text;
SELECT count(*) AS undefined_object_errors FROM probe WHERE sqlstate IN ('42P01', '42704', '42703', '42883');

-- tables in schema crm that the function did not make (a half-restored
-- dump, a hand-made table): it refuses and changes nothing
CREATE TABLE crm.client (id bigint);
\set VERBOSITY default
SELECT crm.install_data_model();
\set VERBOSITY terse
SELECT count(*) AS tables_in_crm FROM pg_class WHERE relnamespace = 'crm'::regnamespace;
DROP TABLE crm.client;

-- only a superuser installs it (its triggers use functions of crm that
-- only crm's owner may attach), and says so before doing anything
CREATE ROLE regress_crm_model_dba NOLOGIN;
GRANT CREATE ON SCHEMA crm TO regress_crm_model_dba;
GRANT EXECUTE ON FUNCTION crm.install_data_model() TO regress_crm_model_dba;
SET ROLE regress_crm_model_dba;
\set VERBOSITY default
SELECT crm.install_data_model();
\set VERBOSITY terse
RESET ROLE;
REVOKE ALL ON SCHEMA crm FROM regress_crm_model_dba;
REVOKE ALL ON FUNCTION crm.install_data_model() FROM regress_crm_model_dba;
DROP ROLE regress_crm_model_dba;

-- install, twice: the second call is a no-op
SELECT crm.install_data_model();
SELECT crm.install_data_model();
SELECT version = (SELECT extversion FROM pg_extension WHERE extname = 'crm') AS model_at_extension_version,
       installed_by
FROM crm.data_model;
-- the model's tables are the database's: none is a member of the extension,
-- and they belong to the role that installed them
SELECT count(*) FILTER (WHERE relkind = 'r') > 40 AS many_tables,
       count(*) FILTER (WHERE EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')) AS extension_members,
       count(*) FILTER (WHERE relowner <> current_user::regrole) AS not_owned_by_installer
FROM pg_class c WHERE relnamespace = 'crm'::regnamespace AND relkind IN ('r', 'v', 'S', 'i');
SELECT count(*) AS tables_linked_to_clients FROM crm.client_links(1);

-- a model of another version (as a dump of another release would bring):
-- the functions refuse until install_data_model() migrates it, and it
-- says when it does not know how
UPDATE crm.data_model SET version = '0.0.1';
\c crm_data_model
SET client_min_messages = warning;
\set VERBOSITY default
SELECT crm.identify_phone('601 234 567');
SELECT crm.install_data_model();
\set VERBOSITY terse
UPDATE crm.data_model SET version = (SELECT extversion FROM pg_extension WHERE extname = 'crm');
\c crm_data_model
SELECT count(*) FROM crm.identify_phone('601 234 567');

-- the version record is the installer's: a role granted every privilege on
-- every table of schema crm (as agents often are) cannot change it
CREATE ROLE regress_crm_model_agent NOLOGIN;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA crm TO regress_crm_model_agent;
SET ROLE regress_crm_model_agent;
\set VERBOSITY default
UPDATE crm.data_model SET version = '9.9.9';
\set VERBOSITY terse
DELETE FROM crm.data_model;
TRUNCATE crm.data_model;
INSERT INTO crm.data_model (one, version) VALUES (false, '9.9.9');
RESET ROLE;
SELECT version = (SELECT extversion FROM pg_extension WHERE extname = 'crm') AS version_kept FROM crm.data_model;
REVOKE ALL ON ALL TABLES IN SCHEMA crm FROM regress_crm_model_agent;
DROP ROLE regress_crm_model_agent;

-- the data depends on the extension (columns of its types, triggers on
-- its functions): DROP EXTENSION refuses while the tables are there
DROP EXTENSION crm;
-- CASCADE drops those columns and triggers (never use it on a database
-- with data); the version record stays, but the model is not "installed"
DROP EXTENSION crm CASCADE;
CREATE EXTENSION crm;
\set VERBOSITY default
SELECT crm.install_data_model();
\set VERBOSITY terse

\c :regress_db
DROP DATABASE crm_data_model;
