-- crm install script, built by the Makefile from src/sql/NN_concept.sql in order

\echo Use "CREATE EXTENSION crm" to load this file. \quit

--------------------------------------------------------------------------
-- Schemas
--
-- crm: what users call and query: the types, the public functions, and
--      (created by crm.install_data_model(), not by this script) the
--      tables and views of the data model.  \df crm.* is the manual.
-- crm_internal: the machinery: trigger functions, catalog helpers, the
--      types' support functions, the pieces of the public functions.
--      Nothing there is meant to be called by users; it may change in any
--      release.
--------------------------------------------------------------------------

-- The types and functions are for everyone; the tables are not:
-- crm.create_roles() grants crm's roles what each needs (doc/security.md).
GRANT USAGE ON SCHEMA crm TO PUBLIC;

CREATE SCHEMA crm_internal;
COMMENT ON SCHEMA crm_internal IS
    'internals of the crm extension (trigger functions, helpers): not an interface';
-- the triggers and views of the data model call into it with the rights of
-- whoever writes or reads the tables
GRANT USAGE ON SCHEMA crm_internal TO PUBLIC;

-- Functions with string bodies are checked when they are called, not here
-- (CREATE EXTENSION runs its script with check_function_bodies off): many
-- read the data model's tables, which crm.install_data_model() creates
-- later.  For the same reason no function of this script has an SQL-standard
-- body (BEGIN ATOMIC, RETURN) or an argument or result typed by one of
-- those tables: both are resolved at once.
--------------------------------------------------------------------------
-- Data model installation
--
-- The extension owns the logic (types, operators, casts, functions,
-- trigger functions); the database owns the data.  The data model
-- (clients, units, contacts, every linked table, the journals, the
-- settings tables, the views) is made of ordinary tables that
-- crm.install_data_model() creates after CREATE EXTENSION crm.  pg_dump
-- dumps them whole, as it dumps any table: columns, constraints, indexes,
-- triggers, row-level security and policies, comments, grants, data, and
-- whatever a DBA added to them.
--
-- Each concept's file (src/sql/NN_concept.sql) hands its part of the model
-- to crm_internal.data_model_part() while this script runs; the parts are
-- kept in crm_internal.data_model_part (the extension's own table, filled
-- by this script, never dumped) and run in order by the install.
--
-- Versions: crm.data_model records the version of the installed model.
-- Every upgrade script crm--A--B.sql registers the model's change (''
-- for none) with crm_internal.data_model_step('A', 'B', ddl): the step is
-- applied at once to an installed model (ALTER EXTENSION crm UPDATE), and
-- later by crm.install_data_model() to a model restored from a dump of
-- version A, or to the parts of A when the model is installed after the
-- extension was updated from A (the parts stay those of the version the
-- extension was created at).  The full script of B holds the steps of every earlier
-- version (src/sql/99_data_model_steps.sql), so that a dump of any release
-- restores into a newer one.  test/upgrade.sh proves that an upgraded
-- model equals a fresh one.
--------------------------------------------------------------------------

CREATE TABLE crm_internal.data_model_part (
    seq     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    concept text NOT NULL,
    ddl     text NOT NULL,
    -- the version whose install script added the part: after ALTER
    -- EXTENSION crm UPDATE the parts stay those of the version first
    -- installed, and crm.install_data_model() applies the registered
    -- steps from there
    version text NOT NULL
);
COMMENT ON TABLE crm_internal.data_model_part IS
    'the data model of the version the extension was created at, concept by concept, in the order crm.install_data_model() runs it; filled by the install script only';

CREATE TABLE crm_internal.data_model_step (
    from_version text PRIMARY KEY,
    to_version   text NOT NULL,
    ddl          text NOT NULL
);
COMMENT ON TABLE crm_internal.data_model_step IS
    'how the data model of one version becomes that of the next: filled by the install and upgrade scripts only';

-- Only the install and upgrade scripts write these two tables (their
-- owner is the extension's owner; no one is granted anything on them).
REVOKE ALL ON crm_internal.data_model_part, crm_internal.data_model_step FROM PUBLIC;

CREATE FUNCTION crm_internal.data_model_part(concept text, ddl text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, crm, pg_temp AS $$
BEGIN
    -- while CREATE EXTENSION runs its script, extversion is that script's
    INSERT INTO crm_internal.data_model_part (concept, ddl, version)
    VALUES (concept, ddl, (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'crm'));
END
$$;
COMMENT ON FUNCTION crm_internal.data_model_part(text, text) IS
    'install script only: add one concept''s part of the data model';
REVOKE ALL ON FUNCTION crm_internal.data_model_part(text, text) FROM PUBLIC;

-- The objects a model step created during ALTER EXTENSION crm UPDATE became
-- members of the extension (everything an extension script creates does):
-- hand them back to the database, as crm.install_data_model() would have
-- created them.  All of them, not only relations: a model function (such
-- as crm.client_search) or type made by a step is the model's too.
-- "before" lists the members (classid/objid) from before the step ran.
CREATE FUNCTION crm_internal.crm_members() RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(pg_catalog.array_agg(d.classid || '/' || d.objid), '{}')
    FROM pg_catalog.pg_depend d
    WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
      AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'crm')
$$;
COMMENT ON FUNCTION crm_internal.crm_members() IS
    'the extension''s members as classid/objid, for crm_internal.release_data_model_objects()';
REVOKE ALL ON FUNCTION crm_internal.crm_members() FROM PUBLIC;

CREATE FUNCTION crm_internal.release_data_model_objects(before text[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, crm, pg_temp AS $$
DECLARE
    crm oid := (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'crm');
    r record;
BEGIN
    -- types last, and each only while it is still a member: from PostgreSQL
    -- 17 on a table's row type and array type are members too, and leave
    -- the extension with their table
    FOR r IN
        SELECT d.classid, d.objid, o.type, o.identity
        FROM pg_catalog.pg_depend d,
             LATERAL pg_catalog.pg_identify_object(d.classid, d.objid, 0) o
        WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
          AND d.refobjid = crm
          AND NOT (d.classid || '/' || d.objid) = ANY (before)
        ORDER BY d.classid = 'pg_catalog.pg_type'::regclass, d.classid, d.objid
    LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_depend d
                   WHERE d.classid = r.classid AND d.objid = r.objid AND d.deptype = 'e'
                     AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.refobjid = crm) THEN
            EXECUTE format('ALTER EXTENSION crm DROP %s %s', r.type, r.identity);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION crm_internal.release_data_model_objects(text[]) IS
    'upgrade scripts only: the objects a model step created (members now, not in before) are the database''s, not the extension''s';
REVOKE ALL ON FUNCTION crm_internal.release_data_model_objects(text[]) FROM PUBLIC;

-- One installer or migrator at a time: a second session calling
-- crm.install_data_model() (or an upgrade) waits for the first to commit,
-- then sees the model it made, instead of creating it twice or running a
-- step twice.  The lock is on crm's own table of steps, which no role but
-- crm's owner may lock (an advisory lock, which any role may take, would
-- let anyone hold every install and upgrade back).
CREATE FUNCTION crm_internal.lock_data_model() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    LOCK TABLE crm_internal.data_model_step IN SHARE ROW EXCLUSIVE MODE;
END
$$;
COMMENT ON FUNCTION crm_internal.lock_data_model() IS
    'serializes crm.install_data_model() and the upgrade scripts'' model steps (a lock on crm_internal.data_model_step that only crm''s owner may take)';
REVOKE ALL ON FUNCTION crm_internal.lock_data_model() FROM PUBLIC;

-- Run one step on the installed model and record the version it reaches:
-- the one home of that for crm_internal.migrate_data_model() (steps of a
-- restored older model) and crm_internal.data_model_step() (the upgrade
-- script's own step).  The caller holds crm_internal.lock_data_model().
CREATE FUNCTION crm_internal.apply_data_model_step(ddl text, to_version text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, crm, pg_temp AS $$
BEGIN
    IF ddl <> '' THEN
        EXECUTE ddl;
    END IF;
    UPDATE crm.data_model SET version = to_version, migrated_at = pg_catalog.now();
END
$$;
COMMENT ON FUNCTION crm_internal.apply_data_model_step(text, text) IS
    'run one data model step and record the version it reaches (for migrate_data_model and data_model_step)';
REVOKE ALL ON FUNCTION crm_internal.apply_data_model_step(text, text) FROM PUBLIC;

-- Apply the registered steps from the installed model's version up to the
-- extension's.  Raises when a step is missing.
CREATE FUNCTION crm_internal.migrate_data_model() RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, crm, pg_temp AS $$
DECLARE
    target text := (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'crm');
    installed text;
    step record;
    applied text[] := '{}';
    visited text[] := '{}';
BEGIN
    PERFORM crm_internal.lock_data_model();
    -- read again under the lock: another session may have migrated it
    installed := (SELECT m.version FROM crm.data_model m);
    WHILE installed IS DISTINCT FROM target LOOP
        IF installed = ANY (visited) THEN
            RAISE EXCEPTION 'the registered steps of crm''s data model go round in a circle at version %', installed
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'Steps applied so far: ' || pg_catalog.array_to_string(applied, ', ') || '.';
        END IF;
        visited := visited || installed;
        SELECT * INTO step FROM crm_internal.data_model_step s WHERE s.from_version = installed;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no migration of crm''s data model from version % to %', installed, target
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'This version of the extension does not know how to change a data model of version ' || coalesce(installed, '(none)') || '.',
                      HINT = 'Install the release of crm the data was written by, or restore the dump into a database with that release.';
        END IF;
        PERFORM crm_internal.apply_data_model_step(step.ddl, step.to_version);
        applied := applied || (installed || ' -> ' || step.to_version);
        installed := step.to_version;
    END LOOP;
    RETURN pg_catalog.array_to_string(applied, ', ');
END
$$;
COMMENT ON FUNCTION crm_internal.migrate_data_model() IS
    'bring an installed data model to the extension''s version, step by step';
REVOKE ALL ON FUNCTION crm_internal.migrate_data_model() FROM PUBLIC;

-- An upgrade script's model step: registered for later (a model restored
-- from an older dump), and applied now to the model this database has.
CREATE FUNCTION crm_internal.data_model_step(from_version text, to_version text, ddl text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, crm, pg_temp AS $$
DECLARE
    members text[];
BEGIN
    PERFORM crm_internal.lock_data_model();
    INSERT INTO crm_internal.data_model_step VALUES (from_version, to_version, ddl)
    ON CONFLICT ON CONSTRAINT data_model_step_pkey DO UPDATE SET to_version = EXCLUDED.to_version, ddl = EXCLUDED.ddl;
    -- two IFs: PL/pgSQL plans the whole condition, and a reference to
    -- crm.data_model fails to plan while the table does not exist (the
    -- full install script registers the steps of earlier releases)
    IF pg_catalog.to_regclass('crm.data_model') IS NULL THEN
        RETURN;
    END IF;
    IF (SELECT m.version FROM crm.data_model m) = from_version THEN
        members := crm_internal.crm_members();
        PERFORM crm_internal.apply_data_model_step(ddl, to_version);
        PERFORM crm_internal.release_data_model_objects(members);
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.data_model_step(text, text, text) IS
    'install and upgrade scripts only: register how the data model of from_version becomes that of to_version, and apply it to an installed model';
REVOKE ALL ON FUNCTION crm_internal.data_model_step(text, text, text) FROM PUBLIC;

-- crm.data_model is the extension's record, kept by crm.install_data_model()
-- and the upgrade scripts; a role granted UPDATE on every table of schema
-- crm (as agents often are) must not be able to change the recorded version
-- and so stop every crm function or steer a migration.
CREATE FUNCTION crm_internal.data_model_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT pg_catalog.pg_has_role(current_user,
                                  (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID),
                                  'USAGE') THEN
        RAISE EXCEPTION 'permission denied to change crm.data_model'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'It records the version of crm''s data model; crm.install_data_model() and ALTER EXTENSION crm UPDATE keep it.',
                  HINT = 'Only the owner of the data model (the role that installed it) changes it.';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.data_model_guard() IS
    'trigger: only the owner of crm.data_model (or a member of that role) changes it';

-- crm.data_model describes this database's tables, and DDL is not
-- replicated: a logical replication subscriber (a read replica) keeps its
-- own row.  Publishing schema crm (FOR TABLES IN SCHEMA crm) publishes this
-- table too; without this trigger the initial copy would collide with the
-- subscriber's row (the sync of the table fails over and over), and a
-- version streamed ahead of the subscriber's own ALTER EXTENSION crm
-- UPDATE would make that update skip the model's step.  Enabled REPLICA:
-- it fires only when changes are applied by replication
-- (session_replication_role = replica), and drops them.
CREATE FUNCTION crm_internal.data_model_local() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.data_model_local() IS
    'trigger, enabled REPLICA: a replicated change to crm.data_model is not applied (each database records its own model)';

CREATE FUNCTION crm_internal.require_data_model() RETURNS void
    AS 'MODULE_PATHNAME', 'require_data_model' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm_internal.require_data_model() IS
    'raise a clear error, naming crm.install_data_model(), unless the data model is installed at the extension''s version';

-- crm's trigger functions fire on crm's own tables only (src/sql/98_trigger_functions.sql)
CREATE FUNCTION crm_internal.require_trigger_table(fired_on oid, table_name text, function_name text) RETURNS void
    AS 'MODULE_PATHNAME', 'require_trigger_table' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION crm_internal.require_trigger_table(oid, text, text) IS
    'internal: 39P01 unless fired_on is crm.<table_name> (a trigger function attached elsewhere)';

CREATE FUNCTION crm.install_data_model() RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, crm, pg_temp AS $$
DECLARE
    ext_version text := (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'crm');
    part record;
    taken text;
BEGIN
    -- the model's triggers call crm_internal functions that only crm's
    -- owner may attach to a table (a trigger's function is checked when
    -- the trigger is made): say so first rather than fail half-way
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied to install crm''s data model'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Its triggers use functions of crm that only a superuser may attach to tables.',
                  HINT = 'Run it as a superuser; the tables belong to that role, and ALTER TABLE ... OWNER TO or REASSIGN OWNED hands them over.';
    END IF;
    PERFORM crm_internal.lock_data_model();
    IF pg_catalog.to_regclass('crm.data_model') IS NOT NULL THEN
        -- DROP EXTENSION crm CASCADE takes the columns of crm's types and
        -- every trigger of crm with it, and leaves crm.data_model behind:
        -- a model without them is not "installed"
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
                       WHERE c.relnamespace = 'crm'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
                         AND a.atttypid = 'crm.pesel'::regtype)
           OR NOT EXISTS (SELECT FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
                          WHERE p.pronamespace = 'crm_internal'::regnamespace) THEN
            RAISE EXCEPTION 'crm''s data model is damaged'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'crm.data_model is there, but no column of crm''s types or no trigger of crm''s is left, as after DROP EXTENSION crm CASCADE.',
                      HINT = 'Restore the data from a backup taken before the extension was dropped.';
        END IF;
        IF (SELECT m.version FROM crm.data_model m) = ext_version THEN
            RETURN format('crm data model %s is installed: nothing to do', ext_version);
        END IF;
        RETURN format('crm data model migrated: %s', crm_internal.migrate_data_model());
    END IF;

    -- a schema that holds some of the model but not its version record was
    -- not made by this function (a half-restored dump, tables made by hand)
    SELECT pg_catalog.string_agg(c.oid::regclass::text, ', ' ORDER BY c.relname) INTO taken
    FROM pg_catalog.pg_class c
    WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                        AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e');
    IF taken IS NOT NULL THEN
        RAISE EXCEPTION 'schema crm already holds tables but no data model version'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Found: ' || taken || '.  crm.data_model, which records the model''s version, is missing.',
                  HINT = 'Restore the whole dump (crm.data_model with it), or move these tables out of schema crm.';
    END IF;

    CREATE TABLE crm.data_model (
        one          boolean PRIMARY KEY DEFAULT true CHECK (one),
        version      text NOT NULL,
        installed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
        installed_by name NOT NULL DEFAULT CURRENT_USER,
        migrated_at  timestamptz
    );
    COMMENT ON TABLE crm.data_model IS
        'the version of crm''s data model in this database (one row): crm.install_data_model() and the upgrade scripts keep it';
    COMMENT ON COLUMN crm.data_model.one IS 'always true: the table holds one row';
    COMMENT ON COLUMN crm.data_model.version IS 'the extension version whose data model the tables follow';
    COMMENT ON COLUMN crm.data_model.installed_at IS 'when crm.install_data_model() created the tables';
    COMMENT ON COLUMN crm.data_model.installed_by IS 'the role that created them (their owner)';
    COMMENT ON COLUMN crm.data_model.migrated_at IS 'when an upgrade last changed the model, if ever';
    GRANT SELECT ON crm.data_model TO PUBLIC;
    CREATE TRIGGER data_model_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm.data_model
        FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.data_model_guard();
    -- a logical replication subscriber keeps its own row (see the function)
    CREATE TRIGGER data_model_local BEFORE INSERT OR UPDATE OR DELETE ON crm.data_model
        FOR EACH ROW EXECUTE FUNCTION crm_internal.data_model_local();
    ALTER TABLE crm.data_model ENABLE REPLICA TRIGGER data_model_local;

    FOR part IN SELECT p.concept, p.ddl FROM crm_internal.data_model_part p ORDER BY p.seq LOOP
        EXECUTE part.ddl;
    END LOOP;
    -- the parts are the model of the version the extension was created at;
    -- an extension updated since then brings it up with the steps
    INSERT INTO crm.data_model (version)
    VALUES ((SELECT p.version FROM crm_internal.data_model_part p ORDER BY p.seq LIMIT 1));
    PERFORM crm_internal.migrate_data_model();
    RETURN format('crm data model %s installed', ext_version);
END
$$;
COMMENT ON FUNCTION crm.install_data_model() IS
    'create crm''s tables, views and triggers in schema crm (owned by the caller), or migrate a model restored from an older version; a second call changes nothing';
REVOKE ALL ON FUNCTION crm.install_data_model() FROM PUBLIC;
--------------------------------------------------------------------------
-- Identifier types: crm.pesel, crm.nip, crm.regon
--
-- The three share one design, so one loop creates what they share: an
-- 8-byte pass-by-value type stored as int8 (src/core/idparse.h tells the
-- encoding), its I/O functions, the validity test, comparison operators
-- backed by the built-in int8 functions, btree and hash operator classes
-- and casts from text and varchar and to text.  Their own functions follow
-- the loop.
--------------------------------------------------------------------------

DO $generate$
DECLARE
    t   record;
    op  record;
BEGIN
    FOR t IN
        SELECT * FROM (VALUES
            ('pesel', 'PESEL', 'Polish personal identity number PESEL: 11 digits, checksum and birth date checked'),
            ('nip',   'NIP',   'Polish tax identification number NIP: 10 digits, checksum checked'),
            ('regon', 'REGON', 'Polish business register number REGON: 9 or 14 digits, checksums checked')
        ) AS v(name, label, description)
    LOOP
        EXECUTE format('CREATE TYPE crm.%1$s', t.name);

        EXECUTE format($sql$
            CREATE FUNCTION crm_internal.%1$s_in(cstring) RETURNS crm.%1$s
                AS 'MODULE_PATHNAME', '%1$s_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            CREATE FUNCTION crm_internal.%1$s_out(crm.%1$s) RETURNS cstring
                AS 'MODULE_PATHNAME', '%1$s_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            CREATE FUNCTION crm_internal.%1$s_recv(internal) RETURNS crm.%1$s
                AS 'MODULE_PATHNAME', '%1$s_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            CREATE FUNCTION crm_internal.%1$s_send(crm.%1$s) RETURNS bytea
                AS 'MODULE_PATHNAME', '%1$s_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

            CREATE TYPE crm.%1$s (
                INPUT = crm_internal.%1$s_in,
                OUTPUT = crm_internal.%1$s_out,
                RECEIVE = crm_internal.%1$s_recv,
                SEND = crm_internal.%1$s_send,
                LIKE = pg_catalog.int8,
                CATEGORY = 'U'
            );
            COMMENT ON TYPE crm.%1$s IS %3$L;
            COMMENT ON FUNCTION crm_internal.%1$s_in(cstring) IS 'I/O: parse a %2$s from text';
            COMMENT ON FUNCTION crm_internal.%1$s_out(crm.%1$s) IS 'I/O: the %2$s as its digits';
            COMMENT ON FUNCTION crm_internal.%1$s_recv(internal) IS 'I/O: binary input, checked as text input is';
            COMMENT ON FUNCTION crm_internal.%1$s_send(crm.%1$s) IS 'I/O: binary output (the int8 wire format)';

            CREATE FUNCTION crm.is_valid_%1$s(value text) RETURNS boolean
                AS 'MODULE_PATHNAME', 'is_valid_%1$s' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            COMMENT ON FUNCTION crm.is_valid_%1$s(text) IS
                'true if the text is a valid %2$s, in any accepted format; never raises an error';

            CREATE FUNCTION crm.%1$s_problem(value text) RETURNS text
                AS 'MODULE_PATHNAME', '%1$s_problem' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            COMMENT ON FUNCTION crm.%1$s_problem(text) IS
                'why the text is not a valid %2$s (the DETAIL the type''s input error gives), NULL when it is valid; never raises an error';

            -- Implicit from text and varchar, so that a parameter a driver
            -- binds as a string (JDBC setString sends varchar) is stored,
            -- updated and compared as the type.  Back to text only on
            -- assignment: were it implicit too, pesel = text would match
            -- both the identifier's = and text's = and be ambiguous; now it
            -- has one reading, the identifier's (see doc/types.md).
            CREATE CAST (text AS crm.%1$s) WITH INOUT AS IMPLICIT;
            CREATE CAST (varchar AS crm.%1$s) WITH INOUT AS IMPLICIT;
            CREATE CAST (crm.%1$s AS text) WITH INOUT AS ASSIGNMENT;
            COMMENT ON CAST (text AS crm.%1$s) IS 'parse and check a %2$s';
            COMMENT ON CAST (varchar AS crm.%1$s) IS 'parse and check a %2$s';
            COMMENT ON CAST (crm.%1$s AS text) IS 'the %2$s as its digits';

            CREATE FUNCTION crm_internal.%1$s_cmp(crm.%1$s, crm.%1$s) RETURNS integer
                AS 'btint8cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
            CREATE FUNCTION crm_internal.%1$s_sortsupport(internal) RETURNS void
                AS 'btint8sortsupport' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
            CREATE FUNCTION crm_internal.%1$s_hash(crm.%1$s) RETURNS integer
                AS 'hashint8' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
            CREATE FUNCTION crm_internal.%1$s_hash_extended(crm.%1$s, bigint) RETURNS bigint
                AS 'hashint8extended' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
            COMMENT ON FUNCTION crm_internal.%1$s_cmp(crm.%1$s, crm.%1$s) IS 'btree support: compare two %2$s values';
            COMMENT ON FUNCTION crm_internal.%1$s_sortsupport(internal) IS 'btree support: sort support';
            COMMENT ON FUNCTION crm_internal.%1$s_hash(crm.%1$s) IS 'hash support: hash a %2$s';
            COMMENT ON FUNCTION crm_internal.%1$s_hash_extended(crm.%1$s, bigint) IS 'hash support: hash a %2$s with a seed';
            $sql$, t.name, t.label, t.description);

        FOR op IN
            SELECT * FROM (VALUES
                ('eq', '=',  'int8eq', '=',  '<>', 'eqsel',       'eqjoinsel',       ', HASHES, MERGES', 'equal'),
                ('ne', '<>', 'int8ne', '<>', '=',  'neqsel',      'neqjoinsel',      '',                 'not equal'),
                ('lt', '<',  'int8lt', '>',  '>=', 'scalarltsel', 'scalarltjoinsel', '',                 'less than'),
                ('le', '<=', 'int8le', '>=', '>',  'scalarlesel', 'scalarlejoinsel', '',                 'less than or equal'),
                ('gt', '>',  'int8gt', '<',  '<=', 'scalargtsel', 'scalargtjoinsel', '',                 'greater than'),
                ('ge', '>=', 'int8ge', '<=', '<',  'scalargesel', 'scalargejoinsel', '',                 'greater than or equal')
            ) AS v(fn, oper, internal, commutator, negator, rest, joinsel, extra, meaning)
        LOOP
            EXECUTE format($sql$
                CREATE FUNCTION crm_internal.%1$s_%2$s(crm.%1$s, crm.%1$s) RETURNS boolean
                    AS %3$L LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
                COMMENT ON FUNCTION crm_internal.%1$s_%2$s(crm.%1$s, crm.%1$s) IS 'implementation of %4$s operator';
                CREATE OPERATOR crm.%4$s (
                    LEFTARG = crm.%1$s, RIGHTARG = crm.%1$s,
                    FUNCTION = crm_internal.%1$s_%2$s,
                    COMMUTATOR = OPERATOR(crm.%5$s), NEGATOR = OPERATOR(crm.%6$s),
                    RESTRICT = pg_catalog.%7$s, JOIN = pg_catalog.%8$s %9$s
                );
                COMMENT ON OPERATOR crm.%4$s (crm.%1$s, crm.%1$s) IS %10$L;
                $sql$, t.name, op.fn, op.internal, op.oper, op.commutator, op.negator,
                op.rest, op.joinsel, op.extra, op.meaning);
        END LOOP;

        EXECUTE format($sql$
            CREATE OPERATOR CLASS crm.%1$s_ops DEFAULT FOR TYPE crm.%1$s USING btree AS
                OPERATOR 1 crm.<,
                OPERATOR 2 crm.<=,
                OPERATOR 3 crm.=,
                OPERATOR 4 crm.>=,
                OPERATOR 5 crm.>,
                FUNCTION 1 crm_internal.%1$s_cmp(crm.%1$s, crm.%1$s),
                FUNCTION 2 crm_internal.%1$s_sortsupport(internal),
                -- equal values are bitwise equal: btree deduplication applies
                FUNCTION 4 pg_catalog.btequalimage(oid);
            CREATE OPERATOR CLASS crm.%1$s_ops DEFAULT FOR TYPE crm.%1$s USING hash AS
                OPERATOR 1 crm.=,
                FUNCTION 1 crm_internal.%1$s_hash(crm.%1$s),
                FUNCTION 2 crm_internal.%1$s_hash_extended(crm.%1$s, bigint);
            $sql$, t.name);
    END LOOP;
END
$generate$;

-- What each identifier tells --------------------------------------------

CREATE FUNCTION crm.pesel_birth_date(pesel crm.pesel) RETURNS date
    AS 'MODULE_PATHNAME', 'pesel_birth_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.pesel_birth_date(crm.pesel) IS
    'birth date encoded in a PESEL (digits 1-6, the century in the month)';

CREATE FUNCTION crm.pesel_sex(pesel crm.pesel) RETURNS text
    AS 'MODULE_PATHNAME', 'pesel_sex' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.pesel_sex(crm.pesel) IS
    'sex encoded in a PESEL: M (digit 10 odd) or F (even)';

CREATE FUNCTION crm.nip_format(nip crm.nip) RETURNS text
    AS 'MODULE_PATHNAME', 'nip_format' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.nip_format(crm.nip) IS
    'a NIP in the customary 123-456-32-18 grouping';

CREATE FUNCTION crm.regon_base(regon crm.regon) RETURNS crm.regon
    AS 'MODULE_PATHNAME', 'regon_base' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.regon_base(crm.regon) IS
    'the 9-digit REGON of the company a 14-digit REGON of a local unit belongs to (a 9-digit REGON is returned as it is)';
--------------------------------------------------------------------------
-- Progress of long runs
--------------------------------------------------------------------------

-- Progress of a long run, as a NOTICE every 5 % of the work (at most 20),
-- only for runs of at least 1,000 items that have taken 5 seconds: the
-- count done and the time left at the rate so far (src/progress.c).
CREATE FUNCTION crm_internal.report_progress(what text, done bigint, total bigint, started timestamptz)
    RETURNS void
    AS 'MODULE_PATHNAME', 'report_progress' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION crm_internal.report_progress(text, bigint, bigint, timestamptz) IS
    'a NOTICE with counts and the time left every 5 % of a run of 1,000 items or more, once it has taken 5 s';

-- A set-based run (the bulk actions) works in steps of this size and
-- reports after each: one statement per 5 % of the work.
CREATE FUNCTION crm_internal.progress_step(total bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'progress_step' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm_internal.progress_step(bigint) IS
    'the work between two progress NOTICEs of crm_internal.report_progress(): 5 % of total (all of it below 1,000 items)';
--------------------------------------------------------------------------
-- The organisation's structure: channel > branch > department
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('structure', $model$
CREATE TABLE crm.unit (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    parent_id   bigint REFERENCES crm.unit (id),
    kind        text NOT NULL CHECK (kind IN ('channel', 'branch', 'department')),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT unit_sibling_name_key UNIQUE NULLS NOT DISTINCT (parent_id, name)
);
CREATE INDEX unit_parent_id_idx ON crm.unit (parent_id);
COMMENT ON TABLE crm.unit IS
    'units of the organisation''s structure, a tree: channels contain branches, branches contain departments';
COMMENT ON COLUMN crm.unit.kind IS 'channel, branch or department; strictly below the parent''s kind';
COMMENT ON COLUMN crm.unit.id IS
    'the unit''s key; clients name their unit by it (crm.client.unit_id)';
COMMENT ON COLUMN crm.unit.parent_id IS
    'the unit directly above (a channel above a branch, a channel or branch above a department); null at the top of the tree';
COMMENT ON COLUMN crm.unit.name IS 'the unit''s name (Oddział Kraków), unique among its siblings';
COMMENT ON COLUMN crm.unit.created_at IS 'when the unit was created';
CREATE TRIGGER unit_check_kind BEFORE INSERT OR UPDATE OF parent_id, kind ON crm.unit
    FOR EACH ROW EXECUTE FUNCTION crm_internal.unit_check_kind();

CREATE VIEW crm.unit_tree WITH (security_invoker = true) AS
WITH RECURSIVE tree AS (
    SELECT u.id, u.parent_id, u.kind, u.name, 1 AS depth,
           ARRAY[u.id] AS ancestors, u.name AS path
    FROM crm.unit u WHERE u.parent_id IS NULL
    UNION ALL
    SELECT u.id, u.parent_id, u.kind, u.name, t.depth + 1,
           t.ancestors || u.id, t.path || ' / ' || u.name
    FROM crm.unit u JOIN tree t ON u.parent_id = t.id
)
SELECT id, parent_id, kind, name, depth, ancestors, path FROM tree;
COMMENT ON VIEW crm.unit_tree IS
    'every unit with its depth, its ancestors'' ids from the root (itself last) and its path ("Channel / Branch / Department")';
COMMENT ON COLUMN crm.unit_tree.id IS 'the unit (crm.unit.id)';
COMMENT ON COLUMN crm.unit_tree.parent_id IS 'the unit directly above; null at the top of the tree';
COMMENT ON COLUMN crm.unit_tree.kind IS 'channel, branch or department';
COMMENT ON COLUMN crm.unit_tree.name IS 'the unit''s own name';
COMMENT ON COLUMN crm.unit_tree.depth IS
    'level in the tree: 1 for a unit at the top, 2 below it, and so on';
COMMENT ON COLUMN crm.unit_tree.ancestors IS
    'ids of the units from the top of the tree down to this one (itself last)';
COMMENT ON COLUMN crm.unit_tree.path IS
    'names from the top down, joined by " / " (Kanał agencyjny / Oddział Kraków / Dział komunikacyjny)';
$model$);

CREATE FUNCTION crm_internal.unit_rank(kind text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE kind WHEN 'channel' THEN 3 WHEN 'branch' THEN 2 WHEN 'department' THEN 1 END;
COMMENT ON FUNCTION crm_internal.unit_rank(text) IS
    'level of a unit kind: channel 3, branch 2, department 1';

-- A child's kind is strictly below its parent's.  That also rules out
-- cycles: ranks strictly fall along every path.
CREATE FUNCTION crm_internal.unit_check_kind() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parent_kind text;
    child record;
BEGIN
    IF NEW.parent_id IS NOT NULL THEN
        -- FOR SHARE: the parent's kind cannot change until this commits
        SELECT u.kind INTO parent_kind FROM crm.unit u WHERE u.id = NEW.parent_id FOR SHARE;
        -- a missing parent is the foreign key's to report
        IF FOUND AND crm_internal.unit_rank(parent_kind) <= crm_internal.unit_rank(NEW.kind) THEN
            RAISE EXCEPTION 'a % cannot be placed under a %', NEW.kind, parent_kind
                USING ERRCODE = 'check_violation',
                      DETAIL = format('Unit %s ("%s") would be a child of unit %s, a %s.',
                                      NEW.id, NEW.name, NEW.parent_id, parent_kind),
                      HINT = 'Channels contain branches and departments; branches contain departments.';
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.kind IS DISTINCT FROM OLD.kind THEN
        SELECT u.id, u.kind INTO child FROM crm.unit u
        WHERE u.parent_id = NEW.id AND crm_internal.unit_rank(u.kind) >= crm_internal.unit_rank(NEW.kind)
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'unit % cannot become a % while it contains a %', NEW.id, NEW.kind, child.kind
                USING ERRCODE = 'check_violation',
                      DETAIL = format('Unit %s is a %s and a child of unit %s.', child.id, child.kind, NEW.id),
                      HINT = 'Move or change the child units first.';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.unit_check_kind() IS 'trigger: a unit''s kind is below its parent''s and above its children''s';

CREATE FUNCTION crm.unit_contains(ancestor_id bigint, unit_id bigint) RETURNS boolean
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_internal.require_data_model();
    RETURN (
    WITH RECURSIVE up AS (
        SELECT u.id, u.parent_id FROM crm.unit u WHERE u.id = unit_id
        UNION ALL
        SELECT u.id, u.parent_id FROM crm.unit u JOIN up ON u.id = up.parent_id
    )
    SELECT EXISTS (SELECT 1 FROM up WHERE up.id = ancestor_id));
END
$$;
COMMENT ON FUNCTION crm.unit_contains(bigint, bigint) IS
    'true if unit_id is ancestor_id or lies below it in the structure';
--------------------------------------------------------------------------
-- Clients
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('clients', $model$
CREATE TABLE crm.client (
    id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'company')),
    first_name      text,
    last_name       text,
    company_name    text,
    display_name    text NOT NULL,
    city            text,
    postal_code     text,
    address         text,
    pesel           crm.pesel,
    nip             crm.nip,
    regon           crm.regon,
    birth_date      date,
    language        text NOT NULL DEFAULT 'pl' CHECK (language IN ('pl', 'en', 'de', 'cs', 'ro')),
    external_id     text,
    unit_id         bigint REFERENCES crm.unit (id),
    owner           text,
    synced          boolean NOT NULL DEFAULT false,
    source          text NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    last_contact_at timestamptz,
    hidden_at       timestamptz,
    hidden_reason   text,
    anonymized_at   timestamptz,
    CONSTRAINT client_person_last_name CHECK (kind <> 'person' OR last_name IS NOT NULL OR anonymized_at IS NOT NULL),
    CONSTRAINT client_company_name CHECK (kind <> 'company' OR company_name IS NOT NULL OR anonymized_at IS NOT NULL),
    CONSTRAINT client_hidden_reason CHECK (hidden_reason IS NULL OR hidden_at IS NOT NULL),
    -- an anonymized client holds no personal data, ever again (crm.anonymize)
    CONSTRAINT client_anonymized CHECK (anonymized_at IS NULL OR (
        first_name IS NULL AND last_name IS NULL AND company_name IS NULL AND city IS NULL
        AND postal_code IS NULL AND address IS NULL AND pesel IS NULL AND nip IS NULL
        AND regon IS NULL AND birth_date IS NULL AND external_id IS NULL AND hidden_at IS NULL))
);
COMMENT ON TABLE crm.client IS
    'clients, persons and companies; identifiers are indexed but not unique: real bases hold duplicates';
COMMENT ON COLUMN crm.client.display_name IS
    'the name shown in lists: "first last" or the company name unless set otherwise';
COMMENT ON COLUMN crm.client.birth_date IS
    'taken from the PESEL when there is one (a contradiction is refused); typed for foreigners';
COMMENT ON COLUMN crm.client.owner IS 'the account manager: a role name';
COMMENT ON COLUMN crm.client.anonymized_at IS
    'set by crm.anonymize(): the client''s personal data is gone for good; the record stays for what the law keeps (policies, invoices)';
COMMENT ON COLUMN crm.client.synced IS 'the client''s data is complete and synchronized (merge rule MG-6)';
COMMENT ON COLUMN crm.client.source IS
    'how the client was created (default: the application_name of the session); read-only after insert';
COMMENT ON COLUMN crm.client.created_at IS 'read-only after insert';
COMMENT ON COLUMN crm.client.last_contact_at IS
    'the latest contact in crm.interaction (notifications aside); kept by a trigger, read-only';
COMMENT ON COLUMN crm.client.hidden_at IS
    'set by crm.hide_client(): the client left or withdrew consent; hidden clients drop out of the working views';
COMMENT ON COLUMN crm.client.id IS 'the client''s number in the CRM; every linked record names it';
COMMENT ON COLUMN crm.client.kind IS
    'person (default) or company: a person needs last_name, a company company_name';
COMMENT ON COLUMN crm.client.first_name IS 'a person''s first name, trimmed';
COMMENT ON COLUMN crm.client.last_name IS 'a person''s last name, trimmed; required for a person';
COMMENT ON COLUMN crm.client.company_name IS 'a company''s name, trimmed; required for a company';
COMMENT ON COLUMN crm.client.city IS 'the city of the address, trimmed';
COMMENT ON COLUMN crm.client.postal_code IS 'the postal code as typed (00-000 in Poland), trimmed';
COMMENT ON COLUMN crm.client.address IS 'street, house and flat number, trimmed';
COMMENT ON COLUMN crm.client.pesel IS
    'PESEL, the Polish personal number (type crm.pesel: 11 digits, check digit verified); gives birth_date; not unique';
COMMENT ON COLUMN crm.client.nip IS
    'NIP, the Polish tax number (type crm.nip: 10 digits, check digit verified); not unique';
COMMENT ON COLUMN crm.client.regon IS
    'REGON, the Polish business register number (type crm.regon: 9 or 14 digits, check digit verified); not unique';
COMMENT ON COLUMN crm.client.language IS
    'language of correspondence: pl (default), en, de, cs or ro';
COMMENT ON COLUMN crm.client.external_id IS
    'the client''s key in another system (a source system, an import), trimmed; not unique';
COMMENT ON COLUMN crm.client.unit_id IS
    'the unit of the organisation''s structure the client belongs to (crm.unit); null: none, the top of the structure';
COMMENT ON COLUMN crm.client.updated_at IS
    'when the client''s data last changed; kept by a trigger (a new last contact alone does not count)';
COMMENT ON COLUMN crm.client.hidden_reason IS
    'why the client was hidden (the reason given to crm.hide_client(), or "consent withdrawn"); null while visible';

CREATE INDEX client_pesel_idx ON crm.client (pesel);
CREATE INDEX client_nip_idx ON crm.client (nip);
CREATE INDEX client_regon_idx ON crm.client (regon);
CREATE INDEX client_last_name_idx ON crm.client (lower(last_name) text_pattern_ops);
CREATE INDEX client_company_name_idx ON crm.client (lower(company_name) text_pattern_ops);
CREATE INDEX client_city_idx ON crm.client (lower(city) text_pattern_ops);
CREATE INDEX client_external_id_idx ON crm.client (external_id);
CREATE INDEX client_unit_id_idx ON crm.client (unit_id);
-- no index on owner (nor on updated_at): an update of the account manager
-- alone (crm.bulk_change_owner(), an employee leaving) can then be HOT,
-- touching none of the indexes (the duplicate search's GIN index over
-- computed match keys among them); and a page's free space
-- (fillfactor 90) keeps the new row versions on their page.  Measured on
-- 200,000 clients, 100,000 moved: doc/working-with-the-base.md.
CREATE INDEX client_created_at_idx ON crm.client (created_at);
ALTER TABLE crm.client SET (fillfactor = 90);
-- the full trigger on insert, and on an update unless it is light (only
-- owner, unit_id, synced or language change): then a C trigger sets
-- updated_at alone (src/clientrow.c)
-- an insert: a plain new client (not anonymized, a unit or no row-level
-- security, the name its kind needs, no birth date against the PESEL) is
-- trimmed and given its defaults in C (src/clientrow.c), every other by
-- the PL/pgSQL function (its refusals, the unit to find); the condition is
-- the same, written twice
CREATE TRIGGER client_before_write BEFORE INSERT ON crm.client
    FOR EACH ROW
    WHEN (NOT coalesce(NEW.anonymized_at IS NULL
              AND (NEW.unit_id IS NOT NULL OR NOT row_security_active('crm.client'::regclass))
              AND CASE NEW.kind WHEN 'person' THEN btrim(NEW.last_name) <> ''
                                WHEN 'company' THEN btrim(NEW.company_name) <> '' ELSE false END
              AND (NEW.pesel IS NULL OR NEW.birth_date IS NULL
                   OR NEW.birth_date = crm.pesel_birth_date(NEW.pesel)), false))
    EXECUTE FUNCTION crm_internal.client_before_write();
CREATE TRIGGER client_before_write_plain BEFORE INSERT ON crm.client
    FOR EACH ROW
    WHEN (coalesce(NEW.anonymized_at IS NULL
              AND (NEW.unit_id IS NOT NULL OR NOT row_security_active('crm.client'::regclass))
              AND CASE NEW.kind WHEN 'person' THEN btrim(NEW.last_name) <> ''
                                WHEN 'company' THEN btrim(NEW.company_name) <> '' ELSE false END
              AND (NEW.pesel IS NULL OR NEW.birth_date IS NULL
                   OR NEW.birth_date = crm.pesel_birth_date(NEW.pesel)), false))
    EXECUTE FUNCTION crm_internal.client_insert_plain();
CREATE TRIGGER client_before_update BEFORE UPDATE ON crm.client
    FOR EACH ROW WHEN (NOT crm_internal.client_update_is_light(OLD, NEW))
    EXECUTE FUNCTION crm_internal.client_before_write();
CREATE TRIGGER client_before_update_light BEFORE UPDATE ON crm.client
    FOR EACH ROW WHEN (crm_internal.client_update_is_light(OLD, NEW))
    EXECUTE FUNCTION crm_internal.client_update_light();
$model$);


-- The one definition of a visible client: neither hidden nor anonymized.
-- The working views, the searches and the duplicate matching (also in C:
-- src/datamodel.h) see only these.  SQL-standard body and no SET clause, so
-- that the planner inlines it into the queries that use it.
CREATE FUNCTION crm_internal.client_is_visible(hidden_at timestamptz, anonymized_at timestamptz)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN hidden_at IS NULL AND anonymized_at IS NULL;
COMMENT ON FUNCTION crm_internal.client_is_visible(timestamptz, timestamptz) IS
    'a visible client: neither hidden nor anonymized (the working views, searches and duplicate matching see only these)';
CREATE FUNCTION crm_internal.client_default_display_name(kind text, first_name text, last_name text, company_name text)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE kind WHEN 'company' THEN company_name
                     ELSE concat_ws(' ', first_name, last_name) END;
COMMENT ON FUNCTION crm_internal.client_default_display_name(text, text, text, text) IS
    'the display name a client gets unless one is set: "first last" for a person, the company name for a company';

-- System fields and derived fields.  Updates never change created_at and
-- source; last_contact_at always holds what the contact history says.
CREATE FUNCTION crm_internal.client_before_write() RETURNS trigger
    LANGUAGE plpgsql
    -- compares PESELs, whose operators live in crm (writable by its owner only)
    SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    pesel_date date;
    old_default text;
BEGIN
    NEW.first_name := nullif(btrim(NEW.first_name), '');
    NEW.last_name := nullif(btrim(NEW.last_name), '');
    NEW.company_name := nullif(btrim(NEW.company_name), '');
    NEW.display_name := nullif(btrim(NEW.display_name), '');
    NEW.city := nullif(btrim(NEW.city), '');
    NEW.postal_code := nullif(btrim(NEW.postal_code), '');
    NEW.address := nullif(btrim(NEW.address), '');
    NEW.external_id := nullif(btrim(NEW.external_id), '');
    -- anonymization is for good, and only crm.anonymize() does it: its
    -- SECURITY DEFINER part runs as crm's owner (so does a restore)
    IF (TG_OP = 'INSERT' AND NEW.anonymized_at IS NOT NULL)
       OR (TG_OP = 'UPDATE' AND OLD.anonymized_at IS NULL AND NEW.anonymized_at IS NOT NULL) THEN
        IF NOT crm_internal.runs_as_owner_of('crm_internal.anonymize_crm_data(bigint, text)') THEN
            RAISE EXCEPTION 'anonymized_at is set by crm.anonymize() only'
                USING ERRCODE = 'insufficient_privilege',
                      HINT = format('Request a code with crm.anonymization_code(%s), then call crm.anonymize(%s, code).',
                                    NEW.id, NEW.id);
        END IF;
    END IF;
    IF NEW.anonymized_at IS NOT NULL THEN
        -- nothing to require of a record without personal data
        NULL;
    ELSIF NEW.kind = 'person' AND NEW.last_name IS NULL THEN
        RAISE EXCEPTION 'a person needs a last name'
            USING ERRCODE = 'check_violation',
                  HINT = 'Set last_name; for a company set kind = ''company'' and company_name.';
    ELSIF NEW.kind = 'company' AND NEW.company_name IS NULL THEN
        RAISE EXCEPTION 'a company needs a company name'
            USING ERRCODE = 'check_violation',
                  HINT = 'Set company_name; for a person set kind = ''person'' and last_name.';
    END IF;

    IF TG_OP = 'INSERT' THEN
        -- a role bound to the structure that works in one unit adds its
        -- clients there (row-level security would refuse one without a unit)
        IF NEW.unit_id IS NULL AND row_security_active('crm.client'::regclass) THEN
            NEW.unit_id := crm_internal.home_unit(current_user::text);
        END IF;
        NEW.created_at := coalesce(NEW.created_at, now());
        NEW.updated_at := coalesce(NEW.updated_at, NEW.created_at);
        NEW.source := coalesce(nullif(btrim(NEW.source), ''),
                               nullif(current_setting('application_name'), ''), 'sql');
        NEW.display_name := coalesce(NEW.display_name,
            crm_internal.client_default_display_name(NEW.kind, NEW.first_name, NEW.last_name, NEW.company_name));
    ELSE
        NEW.created_at := OLD.created_at;
        NEW.source := OLD.source;
        -- once anonymized, for good
        IF OLD.anonymized_at IS NOT NULL THEN
            NEW.anonymized_at := OLD.anonymized_at;
        END IF;
        -- only the contact history decides the last contact: whatever an
        -- update writes there (crm.interaction's trigger writes anything to
        -- ask) becomes the value the history gives
        IF NEW.last_contact_at IS DISTINCT FROM OLD.last_contact_at THEN
            NEW.last_contact_at := crm_internal.client_last_contact(NEW.id);
        END IF;
        -- updated_at follows the client's data, not its system fields
        NEW.updated_at := CASE
            WHEN to_jsonb(NEW) - '{last_contact_at,updated_at}'::text[]
                 IS DISTINCT FROM to_jsonb(OLD) - '{last_contact_at,updated_at}'::text[]
            THEN now() ELSE OLD.updated_at END;
        -- the display name follows the names unless it was set otherwise
        old_default := crm_internal.client_default_display_name(OLD.kind, OLD.first_name, OLD.last_name, OLD.company_name);
        IF NEW.display_name IS NULL
           OR (NEW.display_name = OLD.display_name AND OLD.display_name = old_default) THEN
            NEW.display_name :=
                crm_internal.client_default_display_name(NEW.kind, NEW.first_name, NEW.last_name, NEW.company_name);
        END IF;
    END IF;

    IF NEW.anonymized_at IS NOT NULL THEN
        NEW.display_name := format('anonymized client %s', NEW.id);
    END IF;

    IF NEW.pesel IS NOT NULL THEN
        pesel_date := crm.pesel_birth_date(NEW.pesel);
        IF NEW.birth_date IS NULL
           OR (TG_OP = 'UPDATE' AND NEW.pesel IS DISTINCT FROM OLD.pesel
               AND NEW.birth_date IS NOT DISTINCT FROM OLD.birth_date) THEN
            NEW.birth_date := pesel_date;
        ELSIF NEW.birth_date <> pesel_date THEN
            RAISE EXCEPTION 'birth date % contradicts the PESEL', to_char(NEW.birth_date, 'YYYY-MM-DD')
                USING ERRCODE = 'check_violation',
                      DETAIL = format('PESEL %s encodes the birth date %s.',
                                      NEW.pesel, to_char(pesel_date, 'YYYY-MM-DD')),
                      HINT = 'Correct the PESEL or the birth date, or leave the birth date empty to take it from the PESEL.';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.client_before_write() IS
    'trigger: trims names, fills display name and birth date, keeps the read-only system fields';

-- The light path of an update (src/clientrow.c): only the assignment
-- columns (owner, unit_id, synced, language) change, every other column
-- is the same value as stored.  Nothing of client_before_write() has
-- anything to do then but updated_at.
CREATE FUNCTION crm_internal.client_update_is_light(old_row record, new_row record) RETURNS boolean
    AS 'MODULE_PATHNAME', 'client_update_is_light' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm_internal.client_update_is_light(record, record) IS
    'internal: whether an update of crm.client (OLD, NEW) changes only owner, unit_id, synced, language (and updated_at): the WHEN condition of its two update triggers';
CREATE FUNCTION crm_internal.client_insert_plain() RETURNS trigger
    AS 'MODULE_PATHNAME', 'client_insert_plain' LANGUAGE C;
COMMENT ON FUNCTION crm_internal.client_insert_plain() IS
    'trigger: a plain new client (its WHEN condition): trims, fills created_at, updated_at, source, display name and the birth date from the PESEL, as crm_internal.client_before_write() does';
CREATE FUNCTION crm_internal.client_update_light() RETURNS trigger
    AS 'MODULE_PATHNAME', 'client_update_light' LANGUAGE C;
COMMENT ON FUNCTION crm_internal.client_update_light() IS
    'trigger: for a light update of crm.client (only owner, unit_id, synced, language change) sets updated_at alone: now() if one of them changed, else the old value';
--------------------------------------------------------------------------
-- Contact points: any number of phones and e-mails, one default of each
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('contacts', $model$
CREATE TABLE crm.contact (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('phone', 'email')),
    value       text NOT NULL,
    is_default  boolean NOT NULL DEFAULT false,
    label       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contact_client_value_key UNIQUE (client_id, kind, value),
    -- at most one default, checked at commit: an UPDATE may set the new
    -- default before the trigger clears the old one
    CONSTRAINT contact_one_default EXCLUDE USING btree (client_id WITH =, kind WITH =)
        WHERE (is_default) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX contact_value_idx ON crm.contact (kind, value);
CREATE INDEX contact_value_lower_idx ON crm.contact (kind, lower(value) text_pattern_ops);
COMMENT ON TABLE crm.contact IS
    'phones (E.164) and e-mail addresses of clients; exactly one default of each kind while the client has any';
COMMENT ON COLUMN crm.contact.is_default IS
    'the default phone or e-mail; setting it on one row clears it on the others; kept at the end of every statement';
COMMENT ON COLUMN crm.contact.label IS 'free label: mobile, work, home...';
COMMENT ON COLUMN crm.contact.id IS 'the contact point''s key';
COMMENT ON COLUMN crm.contact.client_id IS
    'the client the phone or e-mail belongs to; deleted with the client';
COMMENT ON COLUMN crm.contact.kind IS 'phone or email';
COMMENT ON COLUMN crm.contact.value IS
    'the phone number in E.164 (+48221234567) or the e-mail address with its domain lower-cased, normalized by a trigger; unique per client and kind';
COMMENT ON COLUMN crm.contact.created_at IS
    'when the contact point was recorded; the oldest of its kind becomes the default when none is chosen';
-- normalization per row (in C); the default kept per statement, with the
-- statement's rows in transition tables (crm_internal.contact_after_statement)
CREATE TRIGGER contact_normalize BEFORE INSERT OR UPDATE OF value, kind ON crm.contact
    FOR EACH ROW EXECUTE FUNCTION crm_internal.contact_normalize();
-- a row arriving as a default locks its client before it is written (see
-- crm_internal.contact_lock_client)
-- (only for a client the writer sees: the WHEN clause runs with the
-- writer's rights and row-level security, so that a row for a client out
-- of reach is refused by row-level security without waiting for, or
-- telling of, that client's lock: crm_internal.writer_sees_client)
CREATE TRIGGER contact_insert_default BEFORE INSERT ON crm.contact
    FOR EACH ROW WHEN (NEW.is_default AND crm_internal.writer_sees_client(NEW.client_id))
    EXECUTE FUNCTION crm_internal.contact_lock_client();
CREATE TRIGGER contact_update_default BEFORE UPDATE OF is_default, client_id, kind ON crm.contact
    -- (not for the defaults the statement trigger itself sets: its clients
    -- are locked already; a role's own trigger can raise the depth, which
    -- skips only this early lock: the statement trigger still locks)
    FOR EACH ROW WHEN (pg_trigger_depth() = 0 AND NEW.is_default
                       AND (NOT OLD.is_default OR NEW.client_id <> OLD.client_id OR NEW.kind <> OLD.kind)
                       AND crm_internal.writer_sees_client(NEW.client_id))
    EXECUTE FUNCTION crm_internal.contact_lock_client();
CREATE TRIGGER contact_after_insert AFTER INSERT ON crm.contact
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.contact_after_statement();
CREATE TRIGGER contact_after_update AFTER UPDATE ON crm.contact
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.contact_after_statement();
CREATE TRIGGER contact_after_delete AFTER DELETE ON crm.contact
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.contact_after_statement();
$model$);

--------------------------------------------------------------------------
-- Contact points: normalization (src/core/contactnorm.c)
--------------------------------------------------------------------------

CREATE FUNCTION crm.normalize_phone(phone text) RETURNS text
    AS 'MODULE_PATHNAME', 'normalize_phone' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.normalize_phone(text) IS
    'a phone number in E.164 (+48601234567): +48 when no country prefix is typed; raises on an invalid number';

CREATE FUNCTION crm.is_valid_phone(phone text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'is_valid_phone' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.is_valid_phone(text) IS
    'true if crm.normalize_phone accepts the text; never raises an error';

CREATE FUNCTION crm.phone_problem(phone text) RETURNS text
    AS 'MODULE_PATHNAME', 'phone_problem' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.phone_problem(text) IS
    'why crm.normalize_phone refuses the text (its error''s DETAIL), NULL when it accepts it; never raises an error';

CREATE FUNCTION crm.normalize_email(email text) RETURNS text
    AS 'MODULE_PATHNAME', 'normalize_email' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.normalize_email(text) IS
    'an e-mail address trimmed, with its domain lower-cased; raises on an invalid address';

CREATE FUNCTION crm.is_valid_email(email text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'is_valid_email' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.is_valid_email(text) IS
    'true if crm.normalize_email accepts the text; never raises an error';

CREATE FUNCTION crm.email_problem(email text) RETURNS text
    AS 'MODULE_PATHNAME', 'email_problem' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.email_problem(text) IS
    'why crm.normalize_email refuses the text (its error''s DETAIL), NULL when it accepts it; never raises an error';

CREATE FUNCTION crm_internal.contact_normalize() RETURNS trigger
    AS 'MODULE_PATHNAME', 'contact_normalize' LANGUAGE C;
COMMENT ON FUNCTION crm_internal.contact_normalize() IS
    'trigger, per row: writes a phone in E.164 and an e-mail with its domain lower-cased (the errors of crm.normalize_phone and crm.normalize_email); on INSERT, the first row of a client and kind without a default becomes the default';

-- The default bookkeeping.  Per row, in C (crm_internal.contact_normalize):
-- the first row a statement inserts for a client and kind, when it is not a
-- default, locks the client's crm.client row (FOR NO KEY UPDATE, without
-- waiting) and, when the client has no default of the kind, is written as
-- the default: a client's first phone is written once, not inserted and then
-- updated.  When the lock is busy the row is written as it is and step 3
-- below gives the default.
-- Then once per statement, over the statement's rows (transition tables,
-- joined directly, every query planned for this statement's row counts), so
-- that one statement may write any number of contacts at default server
-- settings (no lock per client in the lock table):
--  1. lock the clients whose defaults the statement may change (their
--     crm.client rows, FOR NO KEY UPDATE, in id order): concurrent writers of
--     one client's contacts take turns from here to their commit, and a
--     writer that waited sees what the other committed (READ COMMITTED takes
--     a new snapshot for each query below); no contact may go to an
--     anonymized client;
--  2. a row the statement made the default (inserted as the default, set
--     to it) clears the client's other default of its kind; of several, the
--     last stays (inserted: the last written; set by an UPDATE: the highest id); a default moved to a client (or kind) that
--     has one is not its default;
--  3. a client left with contacts of a kind but no default of it gets its
--     oldest (lowest id) as the default.
-- A statement that changes no default, client or kind of any row (an
-- UPDATE of labels or values, a DELETE of contacts that are not defaults)
-- needs none of it and returns at once.
-- SECURITY DEFINER: the lock needs UPDATE on crm.client, which a role that
-- writes contacts need not have, and the defaults of a client are the
-- client's, whoever wrote the row.  It acts only on the clients of rows the
-- statement wrote, which the writer was allowed to write; nothing here can be
-- called with an id of the caller's choosing.
CREATE FUNCTION crm_internal.contact_after_statement() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    -- the transition tables have no statistics: the planner's guesses for a
    -- big statement would start JIT compilation, which took 1.3 s of a
    -- 9,000-row INSERT's 5 s; parallel workers only add their start
    SET jit = off
    SET max_parallel_workers_per_gather = 0
AS $$
DECLARE
    refused record;
    changed_rows bigint;
    -- the kinds of a client that may be left without a default (step 3)
    pairs text;
    chosen bigint[];
    done bigint;
    own integer;
    -- the rows of an UPDATE whose client, kind or default changed
    changed CONSTANT text := '(SELECT n.id, o.client_id AS old_client, o.kind AS old_kind, o.is_default AS was_default,
                                      n.client_id, n.kind, n.is_default,
                                      n.client_id = o.client_id AND n.kind = o.kind AS in_place
                               FROM old_rows o JOIN new_rows n ON n.id = o.id
                               WHERE (o.client_id, o.kind, o.is_default) IS DISTINCT FROM (n.client_id, n.kind, n.is_default))';
BEGIN
    -- crm.contact's own, never a made-up table's rows (it runs as the owner)
    PERFORM crm_internal.require_trigger_table(TG_RELID, 'contact', 'contact_after_statement');
    -- the UPDATE below, of this function one level up: nothing to do
    IF crm_internal.contact_own_write(NULL) = pg_trigger_depth() THEN
        RETURN NULL;
    END IF;
    -- Every query that reads the transition tables is planned for this
    -- statement's row counts (EXECUTE): a plan kept from a one-row statement
    -- rescanned a million rows in a nested loop.
    IF TG_OP = 'INSERT' THEN
        EXECUTE 'SELECT c.id, c.anonymized_at
                 FROM (SELECT min(l.id) FILTER (WHERE l.anonymized_at IS NOT NULL) AS id,
                              min(l.anonymized_at) AS anonymized_at
                       FROM (SELECT c.id, c.anonymized_at
                             FROM (SELECT DISTINCT r.client_id FROM new_rows r ORDER BY r.client_id) AS r
                             JOIN crm.client c ON c.id = r.client_id
                             ORDER BY c.id FOR NO KEY UPDATE OF c) AS l) AS c'
        INTO refused;
        IF refused.id IS NOT NULL THEN
            PERFORM crm_internal.refuse_anonymized(refused.id, refused.anonymized_at);
        END IF;
        -- an inserted default replaces the client's earlier one; of several
        -- the statement wrote, the last written stays (the transition table
        -- is in the order the rows were written): a default the row trigger
        -- set is its kind's first row, so a default named later wins, as a
        -- restore's COPY in any row order needs
        own := crm_internal.contact_own_write(pg_trigger_depth() + 1);
        EXECUTE 'UPDATE crm.contact c SET is_default = false
                 FROM (SELECT r.client_id, r.kind, (max(ARRAY[r.n, r.id]))[2] AS keep
                       FROM (SELECT r.client_id, r.kind, r.id, r.is_default, row_number() OVER () AS n
                             FROM new_rows r) AS r
                       WHERE r.is_default GROUP BY r.client_id, r.kind) AS d
                 WHERE c.client_id = d.client_id AND c.kind = d.kind AND c.is_default AND c.id <> d.keep';
        PERFORM crm_internal.contact_own_write(own);
        -- the kinds of a client where no new row is the default (a client
        -- whose default a concurrent transaction deleted, one that was busy
        -- when its row was written)
        pairs := '(SELECT r.client_id, r.kind FROM new_rows r
                   GROUP BY r.client_id, r.kind HAVING NOT bool_or(r.is_default))';

    ELSIF TG_OP = 'UPDATE' THEN
        -- (a count, not EXISTS: planned to stop at the first row, EXISTS
        -- joined the two tables in a nested loop, a million times a million
        -- when no row changed)
        EXECUTE 'SELECT count(*) FROM ' || changed || ' AS ch' INTO changed_rows;
        IF changed_rows = 0 THEN
            RETURN NULL;
        END IF;
        EXECUTE 'SELECT c.id, c.anonymized_at
                 FROM (SELECT min(l.id) FILTER (WHERE l.anonymized_at IS NOT NULL AND l.moved_in) AS id,
                              min(l.anonymized_at) FILTER (WHERE l.moved_in) AS anonymized_at
                       FROM (SELECT c.id, c.anonymized_at, m.client_id IS NOT NULL AS moved_in
                             FROM (SELECT ch.old_client AS client_id FROM ' || changed || ' AS ch
                                   UNION SELECT ch.client_id FROM ' || changed || ' AS ch
                                   ORDER BY 1) AS x
                             JOIN crm.client c ON c.id = x.client_id
                             LEFT JOIN (SELECT DISTINCT ch.client_id FROM ' || changed || ' AS ch
                                        WHERE ch.client_id <> ch.old_client) AS m ON m.client_id = c.id
                             ORDER BY c.id FOR NO KEY UPDATE OF c) AS l) AS c'
        INTO refused;
        IF refused.id IS NOT NULL THEN
            PERFORM crm_internal.refuse_anonymized(refused.id, refused.anonymized_at);
        END IF;
        -- one default per client and kind among the rows now default: one
        -- chosen in place (the last), else the one the client had (an
        -- unchanged row), else the last moved in
        own := crm_internal.contact_own_write(pg_trigger_depth() + 1);
        EXECUTE 'UPDATE crm.contact c SET is_default = false
                 FROM (SELECT d.id, row_number() OVER (
                                  PARTITION BY d.client_id, d.kind
                                  ORDER BY CASE WHEN ch.in_place THEN 0 WHEN ch.id IS NULL THEN 1 ELSE 2 END,
                                           CASE WHEN ch.id IS NULL THEN d.id ELSE -d.id END) AS rank
                       FROM (SELECT DISTINCT ch.client_id, ch.kind FROM ' || changed || ' AS ch
                             WHERE ch.is_default) AS p
                       JOIN crm.contact d ON d.client_id = p.client_id AND d.kind = p.kind AND d.is_default
                       LEFT JOIN ' || changed || ' AS ch ON ch.id = d.id) AS r
                 WHERE c.id = r.id AND r.rank > 1';
        PERFORM crm_internal.contact_own_write(own);
        -- a default went (unset, moved away), a row arrived without one;
        -- not where a row is now the default (the step above kept one)
        pairs := '(SELECT ch.old_client AS client_id, ch.old_kind AS kind FROM ' || changed || ' AS ch
                   WHERE ch.was_default
                   UNION
                   SELECT ch.client_id, ch.kind FROM ' || changed || ' AS ch
                   WHERE NOT ch.in_place AND NOT ch.is_default
                   EXCEPT
                   SELECT ch.client_id, ch.kind FROM ' || changed || ' AS ch
                   WHERE ch.is_default)';

    ELSE
        -- only a deleted default leaves a client without one
        IF NOT EXISTS (SELECT FROM old_rows o WHERE o.is_default) THEN
            RETURN NULL;
        END IF;
        -- (a client deleted with its contacts is not there to lock)
        EXECUTE 'SELECT count(*) FROM (SELECT FROM (SELECT DISTINCT o.client_id FROM old_rows o
                                                    WHERE o.is_default ORDER BY o.client_id) AS o
                                       JOIN crm.client c ON c.id = o.client_id
                                       ORDER BY c.id FOR NO KEY UPDATE OF c) AS l';
        pairs := '(SELECT DISTINCT o.client_id, o.kind FROM old_rows o WHERE o.is_default)';
    END IF;

    -- step 3: each of those kinds of a client that has contacts but no
    -- default gets its oldest contact as the default
    FOR round IN 1 .. 100 LOOP
        EXECUTE 'SELECT array_agg(f.id)
                 FROM (SELECT DISTINCT ON (o.client_id, o.kind) o.id
                       FROM ' || pairs || ' AS p
                       JOIN crm.contact o ON o.client_id = p.client_id AND o.kind = p.kind
                       WHERE NOT EXISTS (SELECT FROM crm.contact d
                                         WHERE d.client_id = p.client_id AND d.kind = p.kind AND d.is_default)
                       ORDER BY o.client_id, o.kind, o.id) AS f'
        INTO chosen;
        EXIT WHEN chosen IS NULL;
        own := crm_internal.contact_own_write(pg_trigger_depth() + 1);
        EXECUTE 'UPDATE crm.contact c SET is_default = true WHERE c.id = ANY ($1) AND NOT c.is_default'
        USING chosen;
        GET DIAGNOSTICS done = ROW_COUNT;
        PERFORM crm_internal.contact_own_write(own);
        -- a row chosen was deleted or changed by a session that committed
        -- meanwhile: look again (a new snapshot sees it)
        EXIT WHEN done = cardinality(chosen);
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.contact_after_statement() IS
    'trigger, per statement: locks the clients whose defaults the statement may change, keeps one default phone and e-mail per client (a new default replaces the old; the oldest contact when none is left)';

-- Whether the role writing a contact sees its client: with the writer's
-- rights (SECURITY INVOKER) and row-level security, a plain read that never
-- waits for a lock.  The WHEN clause of the row triggers above asks it
-- before crm_internal.contact_lock_client() locks: a writer must not wait
-- for (and so learn of) the lock of a client it cannot see.  It tells the
-- caller only what it can read itself.  A writer without row-level security
-- on the contacts writes for any client: true at once.  In C
-- (src/contact.c), called once a row arriving as a default.
CREATE FUNCTION crm_internal.writer_sees_client(client_id bigint) RETURNS boolean
    AS 'MODULE_PATHNAME', 'writer_sees_client' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION crm_internal.writer_sees_client(bigint) IS
    'internal, for the contact triggers: whether the current role sees the client (its own rights and row-level security; never waits for a lock)';

-- A row that arrives as a default (inserted as one, made one, moved with
-- its flag) locks its client before it is written, not only at the end of
-- the statement: two sessions each writing a default of one client would
-- otherwise deadlock, the first's commit-time check of the exclusion
-- constraint waiting for the second's row while the second waits for the
-- first's lock.  Per row, but only for those rows (WHEN in the triggers).
-- In C (src/contact.c): the lock is the trigger's, whatever the writer's
-- rights on crm.client; the id is the row's, which the writer is writing (a
-- row that row-level security then refuses ends the statement at once, and
-- its lock with it).
CREATE FUNCTION crm_internal.contact_lock_client() RETURNS trigger
    AS 'MODULE_PATHNAME', 'contact_lock_client' LANGUAGE C;
COMMENT ON FUNCTION crm_internal.contact_lock_client() IS
    'trigger, per row arriving as a default: locks its client''s row (FOR NO KEY UPDATE) before the row is written';

-- The statement trigger's own writes (src/contact.c): the depth at which
-- its UPDATEs fire the statement trigger again, with nothing to do there.
CREATE FUNCTION crm_internal.contact_own_write(depth integer) RETURNS integer
    AS 'MODULE_PATHNAME', 'contact_own_write' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION crm_internal.contact_own_write(integer) IS
    'internal, for crm_internal.contact_after_statement() only: sets the trigger depth of its own writes (NULL: reads it), returns the previous one';
REVOKE ALL ON FUNCTION crm_internal.contact_own_write(integer) FROM PUBLIC;
--------------------------------------------------------------------------
-- Records linked to clients: segments, campaigns, custom fields, documents,
-- vehicles and policies, contact history, sales and service, products and orders
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('linked_records', $model$
CREATE TABLE crm.segment (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE crm.segment IS 'segments group clients; a client can be in many';
COMMENT ON COLUMN crm.segment.id IS 'the segment''s key';
COMMENT ON COLUMN crm.segment.name IS 'the segment''s name, unique';
COMMENT ON COLUMN crm.segment.description IS 'what the segment is for, free text';
COMMENT ON COLUMN crm.segment.created_at IS 'when the segment was created';

CREATE TABLE crm.segment_member (
    segment_id  bigint NOT NULL REFERENCES crm.segment (id) ON DELETE CASCADE,
    client_id   bigint NOT NULL REFERENCES crm.client (id) ON DELETE CASCADE,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (segment_id, client_id)
);
CREATE INDEX segment_member_client_id_idx ON crm.segment_member (client_id);
COMMENT ON TABLE crm.segment_member IS 'which clients are in which segment';
COMMENT ON COLUMN crm.segment_member.segment_id IS 'the segment (crm.segment)';
COMMENT ON COLUMN crm.segment_member.client_id IS 'the client in it';
COMMENT ON COLUMN crm.segment_member.added_at IS 'when the client was added to the segment';

CREATE TABLE crm.campaign (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    status      text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'active', 'finished')),
    starts_on   date,
    ends_on     date,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on >= starts_on)
);
COMMENT ON TABLE crm.campaign IS 'campaigns (sales, calling, mailing); a client can be in many';
COMMENT ON COLUMN crm.campaign.id IS 'the campaign''s key';
COMMENT ON COLUMN crm.campaign.name IS 'the campaign''s name, unique';
COMMENT ON COLUMN crm.campaign.status IS 'planned (default), active or finished; set by the users';
COMMENT ON COLUMN crm.campaign.starts_on IS 'the campaign''s first day';
COMMENT ON COLUMN crm.campaign.ends_on IS 'the campaign''s last day, not before starts_on';
COMMENT ON COLUMN crm.campaign.created_at IS 'when the campaign was recorded';

CREATE TABLE crm.campaign_member (
    campaign_id bigint NOT NULL REFERENCES crm.campaign (id) ON DELETE CASCADE,
    client_id   bigint NOT NULL REFERENCES crm.client (id) ON DELETE CASCADE,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, client_id)
);
CREATE INDEX campaign_member_client_id_idx ON crm.campaign_member (client_id);
COMMENT ON TABLE crm.campaign_member IS 'which clients are in which campaign';
COMMENT ON COLUMN crm.campaign_member.campaign_id IS 'the campaign (crm.campaign)';
COMMENT ON COLUMN crm.campaign_member.client_id IS 'the client in it';
COMMENT ON COLUMN crm.campaign_member.added_at IS 'when the client was added to the campaign';

--------------------------------------------------------------------------
-- Custom fields: defined by an administrator, typed number or text
--------------------------------------------------------------------------

CREATE TABLE crm.custom_field (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    type        text NOT NULL CHECK (type IN ('number', 'text')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX custom_field_name_key ON crm.custom_field (lower(name));
COMMENT ON TABLE crm.custom_field IS
    'custom client fields: a field''s type (number or text) cannot change, only its name; deleting a field deletes its values';
COMMENT ON COLUMN crm.custom_field.id IS 'the field''s key';
COMMENT ON COLUMN crm.custom_field.name IS
    'the field''s name, unique ignoring case; searches and merges name it custom:<name>';
COMMENT ON COLUMN crm.custom_field.type IS
    'number or text: which column of crm.custom_value holds its values; fixed once created';
COMMENT ON COLUMN crm.custom_field.created_at IS 'when the field was defined';
CREATE TRIGGER custom_field_keep_type BEFORE UPDATE OF type ON crm.custom_field
    FOR EACH ROW WHEN (NEW.type IS DISTINCT FROM OLD.type)
    EXECUTE FUNCTION crm_internal.custom_field_keep_type();

CREATE TABLE crm.custom_value (
    client_id    bigint NOT NULL REFERENCES crm.client (id) ON DELETE CASCADE,
    field_id     bigint NOT NULL REFERENCES crm.custom_field (id) ON DELETE CASCADE,
    number_value numeric,
    text_value   text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, field_id),
    CONSTRAINT custom_value_one_value CHECK (num_nonnulls(number_value, text_value) = 1),
    CONSTRAINT custom_value_finite CHECK (number_value NOT IN ('NaN', 'Infinity', '-Infinity'))
);
CREATE INDEX custom_value_number_idx ON crm.custom_value (field_id, number_value);
CREATE INDEX custom_value_text_idx ON crm.custom_value (field_id, lower(text_value) text_pattern_ops);
COMMENT ON TABLE crm.custom_value IS
    'custom field values: number_value for number fields, text_value for text fields';
COMMENT ON COLUMN crm.custom_value.client_id IS
    'the client the value belongs to; deleted with the client';
COMMENT ON COLUMN crm.custom_value.field_id IS 'the custom field (crm.custom_field)';
COMMENT ON COLUMN crm.custom_value.number_value IS
    'the value of a number field (finite); null for a text field';
COMMENT ON COLUMN crm.custom_value.text_value IS
    'the value of a text field; null for a number field';
COMMENT ON COLUMN crm.custom_value.updated_at IS
    'when the value was last written; kept by a trigger';
-- new values are checked once per statement (an import writes 100,000:
-- measured, a row trigger cost 2.7 s of them), an update row by row (it
-- sets updated_at)
CREATE TRIGGER custom_value_check_type BEFORE UPDATE ON crm.custom_value
    FOR EACH ROW EXECUTE FUNCTION crm_internal.custom_value_check_type();
CREATE TRIGGER custom_value_check_new AFTER INSERT ON crm.custom_value
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.custom_value_check_new();

CREATE VIEW crm.client_custom_value WITH (security_invoker = true) AS
SELECT v.client_id, f.id AS field_id, f.name AS field, f.type,
       coalesce(v.number_value::text, v.text_value) AS value,
       v.number_value, v.text_value, v.updated_at
FROM crm.custom_value v JOIN crm.custom_field f ON f.id = v.field_id;
COMMENT ON VIEW crm.client_custom_value IS 'custom field values with their field names and types';
COMMENT ON COLUMN crm.client_custom_value.client_id IS 'the client the value belongs to';
COMMENT ON COLUMN crm.client_custom_value.field_id IS 'the custom field (crm.custom_field.id)';
COMMENT ON COLUMN crm.client_custom_value.field IS 'the field''s name';
COMMENT ON COLUMN crm.client_custom_value.type IS 'the field''s type: number or text';
COMMENT ON COLUMN crm.client_custom_value.value IS 'the value as text, whatever the field''s type';
COMMENT ON COLUMN crm.client_custom_value.number_value IS
    'the value of a number field; null for a text field';
COMMENT ON COLUMN crm.client_custom_value.text_value IS
    'the value of a text field; null for a number field';
COMMENT ON COLUMN crm.client_custom_value.updated_at IS 'when the value was last written';

--------------------------------------------------------------------------
-- Documents and consents (GDPR)
--------------------------------------------------------------------------

CREATE TABLE crm.document (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    kind        text NOT NULL DEFAULT 'other' CHECK (btrim(kind) <> ''),
    title       text NOT NULL,
    file_name   text,
    mime_type   text,
    content     bytea,
    storage_url text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX document_client_id_idx ON crm.document (client_id);
COMMENT ON TABLE crm.document IS
    'documents and scans of a client; kind consent_confirmation marks a document that confirms a consent';
COMMENT ON COLUMN crm.document.kind IS
    'free text: consent_confirmation, contract, scan, invoice_copy, other...';
COMMENT ON COLUMN crm.document.id IS
    'the document''s key; a consent names its confirming document by it';
COMMENT ON COLUMN crm.document.client_id IS 'the client the document concerns';
COMMENT ON COLUMN crm.document.title IS 'the document''s title; "anonymized" once the client is';
COMMENT ON COLUMN crm.document.file_name IS 'the original file name';
COMMENT ON COLUMN crm.document.mime_type IS
    'the file''s MIME type (application/pdf, image/jpeg...)';
COMMENT ON COLUMN crm.document.content IS 'the file itself, when kept in the database';
COMMENT ON COLUMN crm.document.storage_url IS
    'where the file is kept, when kept outside the database';
COMMENT ON COLUMN crm.document.created_at IS 'when the document was recorded';

--------------------------------------------------------------------------
-- Vehicles and policies
--------------------------------------------------------------------------

CREATE TABLE crm.vehicle (
    id                  bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id           bigint NOT NULL REFERENCES crm.client (id),
    registration_number text,
    vin                 text,
    make                text,
    model               text,
    production_year     integer CHECK (production_year BETWEEN 1885 AND 2200),
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vehicle_client_id_idx ON crm.vehicle (client_id);
CREATE INDEX vehicle_registration_number_idx ON crm.vehicle (upper(registration_number));
CREATE INDEX vehicle_vin_idx ON crm.vehicle (upper(vin));
COMMENT ON TABLE crm.vehicle IS 'vehicles of a client';
COMMENT ON COLUMN crm.vehicle.id IS 'the vehicle''s key';
COMMENT ON COLUMN crm.vehicle.client_id IS 'the client who owns or uses the vehicle';
COMMENT ON COLUMN crm.vehicle.registration_number IS
    'the registration plate as typed; searched ignoring case';
COMMENT ON COLUMN crm.vehicle.vin IS
    'the vehicle identification number as typed; searched ignoring case';
COMMENT ON COLUMN crm.vehicle.make IS 'the manufacturer (Toyota, Škoda...)';
COMMENT ON COLUMN crm.vehicle.model IS 'the model name';
COMMENT ON COLUMN crm.vehicle.production_year IS 'the year of production (1885 to 2200)';
COMMENT ON COLUMN crm.vehicle.created_at IS 'when the vehicle was recorded';

CREATE TABLE crm.policy (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    number      text NOT NULL,
    insurer     text NOT NULL,
    product     text,
    starts_on   date NOT NULL,
    ends_on     date NOT NULL,
    is_foreign  boolean NOT NULL DEFAULT false,
    agent       text,
    premium     numeric(14, 2),
    vehicle_id  bigint REFERENCES crm.vehicle (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT policy_number_key UNIQUE (insurer, number),
    CHECK (ends_on >= starts_on)
);
CREATE INDEX policy_client_id_idx ON crm.policy (client_id, ends_on);
CREATE INDEX policy_vehicle_id_idx ON crm.policy (vehicle_id);
COMMENT ON TABLE crm.policy IS
    'insurance policies of a client; is_foreign marks a policy issued by another agent';
COMMENT ON COLUMN crm.policy.id IS 'the policy''s key';
COMMENT ON COLUMN crm.policy.client_id IS 'the policyholder';
COMMENT ON COLUMN crm.policy.number IS 'the policy number, unique per insurer';
COMMENT ON COLUMN crm.policy.insurer IS 'the insurance company that issued the policy';
COMMENT ON COLUMN crm.policy.product IS 'the insurance product (OC, AC, home...), free text';
COMMENT ON COLUMN crm.policy.starts_on IS 'the first day of cover';
COMMENT ON COLUMN crm.policy.ends_on IS
    'the last day of cover, not before starts_on; after it the policy is archived';
COMMENT ON COLUMN crm.policy.is_foreign IS
    'true for a policy issued by another agent (recorded to offer a renewal)';
COMMENT ON COLUMN crm.policy.agent IS 'the agent who sold the policy';
COMMENT ON COLUMN crm.policy.premium IS 'the premium, two decimals';
COMMENT ON COLUMN crm.policy.vehicle_id IS 'the insured vehicle, for a motor policy';
COMMENT ON COLUMN crm.policy.created_at IS 'when the policy was recorded';

CREATE VIEW crm.client_policy WITH (security_invoker = true) AS
SELECT p.id, p.client_id, p.number, p.insurer, p.product, p.starts_on, p.ends_on,
       CASE WHEN p.ends_on < current_date THEN 'archived' ELSE 'active' END AS status,
       p.is_foreign, p.agent, p.premium, p.vehicle_id, p.created_at
FROM crm.policy p;
COMMENT ON VIEW crm.client_policy IS
    'policies with their status by today''s date: active until the protection period ends (policies that start later included), archived after';
COMMENT ON COLUMN crm.client_policy.id IS 'the policy (crm.policy.id)';
COMMENT ON COLUMN crm.client_policy.client_id IS 'the policyholder';
COMMENT ON COLUMN crm.client_policy.number IS 'the policy number, unique per insurer';
COMMENT ON COLUMN crm.client_policy.insurer IS 'the insurance company that issued the policy';
COMMENT ON COLUMN crm.client_policy.product IS 'the insurance product';
COMMENT ON COLUMN crm.client_policy.starts_on IS 'the first day of cover';
COMMENT ON COLUMN crm.client_policy.ends_on IS 'the last day of cover';
COMMENT ON COLUMN crm.client_policy.status IS
    'active until ends_on has passed (a policy starting later too), archived after; by today''s date';
COMMENT ON COLUMN crm.client_policy.is_foreign IS 'true for a policy issued by another agent';
COMMENT ON COLUMN crm.client_policy.agent IS 'the agent who sold the policy';
COMMENT ON COLUMN crm.client_policy.premium IS 'the premium, two decimals';
COMMENT ON COLUMN crm.client_policy.vehicle_id IS 'the insured vehicle, for a motor policy';
COMMENT ON COLUMN crm.client_policy.created_at IS 'when the policy was recorded';

--------------------------------------------------------------------------
-- Contact history
--------------------------------------------------------------------------

CREATE TABLE crm.interaction (
    id                  bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id           bigint NOT NULL REFERENCES crm.client (id),
    original_client_id  bigint NOT NULL,
    channel             text NOT NULL
        CHECK (channel IN ('call', 'email', 'sms', 'chat', 'meeting', 'letter', 'notification')),
    direction           text CHECK (direction IN ('inbound', 'outbound')),
    occurred_at         timestamptz NOT NULL DEFAULT now(),
    campaign_id         bigint REFERENCES crm.campaign (id),
    agent               text,
    phone               text,
    duration            interval,
    summary             text
);
CREATE INDEX interaction_client_id_idx ON crm.interaction (client_id, occurred_at);
CREATE INDEX interaction_original_client_id_idx ON crm.interaction (original_client_id);
CREATE INDEX interaction_campaign_id_idx ON crm.interaction (campaign_id);
COMMENT ON TABLE crm.interaction IS
    'contact history: calls, e-mails, messages, meetings, automatic notifications';
COMMENT ON COLUMN crm.interaction.original_client_id IS
    'the client record the contact happened on; set on insert, never changed (after a merge it still names the merged record)';
COMMENT ON COLUMN crm.interaction.phone IS 'the phone number of the other side, E.164 (a caller id that is no number is kept as given)';
COMMENT ON COLUMN crm.interaction.id IS 'the contact''s key';
COMMENT ON COLUMN crm.interaction.client_id IS
    'the client the contact belongs to now (a merge moves it to the kept client)';
COMMENT ON COLUMN crm.interaction.channel IS
    'call, email, sms, chat, meeting, letter or notification (automatic: not a contact for last_contact_at)';
COMMENT ON COLUMN crm.interaction.direction IS
    'inbound (the client reached us) or outbound (we reached the client); null if not known';
COMMENT ON COLUMN crm.interaction.occurred_at IS
    'when the contact happened; the latest (notifications aside) is the client''s last_contact_at';
COMMENT ON COLUMN crm.interaction.campaign_id IS
    'the campaign the contact was made in (crm.campaign)';
COMMENT ON COLUMN crm.interaction.agent IS 'who handled the contact';
COMMENT ON COLUMN crm.interaction.duration IS 'how long the call or meeting lasted';
COMMENT ON COLUMN crm.interaction.summary IS
    'what was said or agreed, free text; cleared when the client is anonymized';
CREATE TRIGGER interaction_before_write BEFORE INSERT OR UPDATE ON crm.interaction
    FOR EACH ROW EXECUTE FUNCTION crm_internal.interaction_before_write();
CREATE TRIGGER interaction_after_insert AFTER INSERT ON crm.interaction
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.interaction_after_write();
CREATE TRIGGER interaction_after_update AFTER UPDATE ON crm.interaction
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.interaction_after_write();
CREATE TRIGGER interaction_after_delete AFTER DELETE ON crm.interaction
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.interaction_after_write();

CREATE VIEW crm.contact_history WITH (security_invoker = true) AS
SELECT i.id, i.client_id, c.display_name, i.occurred_at, i.channel, i.direction,
       i.original_client_id AS on_record, i.original_client_id <> i.client_id AS from_merged_record,
       i.campaign_id, cp.name AS campaign, i.agent, i.phone, i.duration, i.summary
FROM crm.interaction i
JOIN crm.client c ON c.id = i.client_id
LEFT JOIN crm.campaign cp ON cp.id = i.campaign_id
ORDER BY i.occurred_at DESC, i.id DESC;
COMMENT ON VIEW crm.contact_history IS
    'contact history, newest first; on_record is the client record the contact happened on (a merged record after a merge)';
COMMENT ON COLUMN crm.contact_history.id IS 'the contact (crm.interaction.id)';
COMMENT ON COLUMN crm.contact_history.client_id IS 'the client the contact belongs to now';
COMMENT ON COLUMN crm.contact_history.display_name IS 'the client''s display name';
COMMENT ON COLUMN crm.contact_history.occurred_at IS 'when the contact happened';
COMMENT ON COLUMN crm.contact_history.channel IS
    'call, email, sms, chat, meeting, letter or notification';
COMMENT ON COLUMN crm.contact_history.direction IS 'inbound or outbound; null if not known';
COMMENT ON COLUMN crm.contact_history.on_record IS
    'the client record the contact happened on (crm.interaction.original_client_id)';
COMMENT ON COLUMN crm.contact_history.from_merged_record IS
    'true when the contact happened on a record since merged into this client';
COMMENT ON COLUMN crm.contact_history.campaign_id IS 'the campaign the contact was made in';
COMMENT ON COLUMN crm.contact_history.campaign IS 'that campaign''s name';
COMMENT ON COLUMN crm.contact_history.agent IS 'who handled the contact';
COMMENT ON COLUMN crm.contact_history.phone IS
    'the other side''s phone number, E.164 (a caller id that is no number as given)';
COMMENT ON COLUMN crm.contact_history.duration IS 'how long the call or meeting lasted';
COMMENT ON COLUMN crm.contact_history.summary IS 'what was said or agreed, free text';

--------------------------------------------------------------------------
-- Sales and service records
--------------------------------------------------------------------------

CREATE TABLE crm.offer (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    number      text,
    product     text,
    status      text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'sent', 'accepted', 'rejected', 'expired')),
    amount      numeric(14, 2),
    valid_until date,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offer_client_id_idx ON crm.offer (client_id);
COMMENT ON TABLE crm.offer IS 'offers made to a client';
COMMENT ON COLUMN crm.offer.id IS 'the offer''s key';
COMMENT ON COLUMN crm.offer.client_id IS 'the client the offer was made to';
COMMENT ON COLUMN crm.offer.number IS 'the offer''s number, free text';
COMMENT ON COLUMN crm.offer.product IS 'what is offered, free text';
COMMENT ON COLUMN crm.offer.status IS 'draft (default), sent, accepted, rejected or expired';
COMMENT ON COLUMN crm.offer.amount IS 'the offered amount, two decimals';
COMMENT ON COLUMN crm.offer.valid_until IS 'the last day the offer stands';
COMMENT ON COLUMN crm.offer.created_at IS 'when the offer was recorded';

CREATE TABLE crm.needs_analysis (
    id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id    bigint NOT NULL REFERENCES crm.client (id),
    performed_at timestamptz NOT NULL DEFAULT now(),
    agent        text,
    answers      jsonb,
    summary      text
);
CREATE INDEX needs_analysis_client_id_idx ON crm.needs_analysis (client_id);
COMMENT ON TABLE crm.needs_analysis IS 'needs analyses of a client (questionnaire answers)';
COMMENT ON COLUMN crm.needs_analysis.id IS 'the analysis''s key';
COMMENT ON COLUMN crm.needs_analysis.client_id IS 'the client whose needs were analysed';
COMMENT ON COLUMN crm.needs_analysis.performed_at IS 'when the analysis was made';
COMMENT ON COLUMN crm.needs_analysis.agent IS 'who made it';
COMMENT ON COLUMN crm.needs_analysis.answers IS
    'the questionnaire''s answers, JSON; cleared when the client is anonymized';
COMMENT ON COLUMN crm.needs_analysis.summary IS
    'the conclusions, free text; cleared when the client is anonymized';

CREATE TABLE crm.invoice (
    id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id       bigint NOT NULL REFERENCES crm.client (id),
    number          text NOT NULL UNIQUE,
    issued_on       date NOT NULL DEFAULT current_date,
    due_on          date,
    net_amount      numeric(14, 2),
    gross_amount    numeric(14, 2),
    currency        text NOT NULL DEFAULT 'PLN',
    status          text NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'paid', 'cancelled')),
    billed_name     text,
    billed_address  text,
    billed_nip      crm.nip,
    needs_refresh   boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoice_client_id_idx ON crm.invoice (client_id);
COMMENT ON TABLE crm.invoice IS 'invoices issued to a client, with the billed party''s data as issued';
COMMENT ON COLUMN crm.invoice.needs_refresh IS
    'the client changed (a merge): the billed party''s data can be regenerated from the client';
COMMENT ON COLUMN crm.invoice.id IS 'the invoice''s key';
COMMENT ON COLUMN crm.invoice.client_id IS 'the client billed';
COMMENT ON COLUMN crm.invoice.number IS 'the invoice number, unique';
COMMENT ON COLUMN crm.invoice.issued_on IS 'the date of issue (today by default)';
COMMENT ON COLUMN crm.invoice.due_on IS 'the payment deadline';
COMMENT ON COLUMN crm.invoice.net_amount IS 'the net total, two decimals';
COMMENT ON COLUMN crm.invoice.gross_amount IS 'the gross total (with VAT), two decimals';
COMMENT ON COLUMN crm.invoice.currency IS 'the currency code, PLN by default';
COMMENT ON COLUMN crm.invoice.status IS 'issued (default), paid or cancelled';
COMMENT ON COLUMN crm.invoice.billed_name IS
    'the billed party''s name as on the invoice; cleared when the client is anonymized';
COMMENT ON COLUMN crm.invoice.billed_address IS
    'the billed party''s address as on the invoice; cleared when the client is anonymized';
COMMENT ON COLUMN crm.invoice.billed_nip IS
    'the billed party''s NIP as on the invoice (type crm.nip); cleared when the client is anonymized';
COMMENT ON COLUMN crm.invoice.created_at IS 'when the invoice was recorded';

CREATE TABLE crm.payment (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    invoice_id  bigint REFERENCES crm.invoice (id),
    paid_on     date NOT NULL DEFAULT current_date,
    amount      numeric(14, 2) NOT NULL,
    method      text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_client_id_idx ON crm.payment (client_id);
CREATE INDEX payment_invoice_id_idx ON crm.payment (invoice_id);
COMMENT ON TABLE crm.payment IS 'payments of a client, for an invoice or on account';
COMMENT ON COLUMN crm.payment.id IS 'the payment''s key';
COMMENT ON COLUMN crm.payment.client_id IS 'the client who paid';
COMMENT ON COLUMN crm.payment.invoice_id IS 'the invoice paid; null for a payment on account';
COMMENT ON COLUMN crm.payment.paid_on IS 'the date of payment (today by default)';
COMMENT ON COLUMN crm.payment.amount IS 'the amount paid, two decimals';
COMMENT ON COLUMN crm.payment.method IS 'how it was paid (transfer, card, cash...), free text';
COMMENT ON COLUMN crm.payment.created_at IS 'when the payment was recorded';

CREATE TABLE crm.task (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    kind        text NOT NULL DEFAULT 'task' CHECK (kind IN ('task', 'call', 'meeting', 'event')),
    title       text NOT NULL,
    starts_at   timestamptz,
    ends_at     timestamptz,
    due_at      timestamptz,
    assignee    text,
    done_at     timestamptz,
    notes       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at >= starts_at)
);
CREATE INDEX task_client_id_idx ON crm.task (client_id);
CREATE INDEX task_assignee_due_idx ON crm.task (assignee, due_at) WHERE done_at IS NULL;
COMMENT ON TABLE crm.task IS 'calendar entries and tasks about a client';
COMMENT ON COLUMN crm.task.id IS 'the entry''s key';
COMMENT ON COLUMN crm.task.client_id IS 'the client the entry is about';
COMMENT ON COLUMN crm.task.kind IS 'task (default), call, meeting or event';
COMMENT ON COLUMN crm.task.title IS 'what is to be done; "anonymized" once the client is';
COMMENT ON COLUMN crm.task.starts_at IS 'when a scheduled entry (meeting, event) starts';
COMMENT ON COLUMN crm.task.ends_at IS 'when it ends, not before starts_at';
COMMENT ON COLUMN crm.task.due_at IS 'the deadline';
COMMENT ON COLUMN crm.task.assignee IS 'who is to do it';
COMMENT ON COLUMN crm.task.done_at IS 'when it was done; null while open';
COMMENT ON COLUMN crm.task.notes IS 'free notes; cleared when the client is anonymized';
COMMENT ON COLUMN crm.task.created_at IS 'when the entry was recorded';

CREATE TABLE crm.case (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    title       text NOT NULL,
    kind        text,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    opened_at   timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz,
    description text
);
CREATE INDEX case_client_id_idx ON crm.case (client_id);
COMMENT ON TABLE crm.case IS 'cases (matters) of a client; unqualified, the name must be quoted ("case" is an SQL keyword)';
COMMENT ON COLUMN crm.case.id IS 'the case''s key';
COMMENT ON COLUMN crm.case.client_id IS 'the client the case is about';
COMMENT ON COLUMN crm.case.title IS 'the case''s title; "anonymized" once the client is';
COMMENT ON COLUMN crm.case.kind IS 'the kind of matter (claim, complaint...), free text';
COMMENT ON COLUMN crm.case.status IS 'open (default) or closed';
COMMENT ON COLUMN crm.case.opened_at IS 'when the case was opened';
COMMENT ON COLUMN crm.case.closed_at IS 'when it was closed; null while open';
COMMENT ON COLUMN crm.case.description IS
    'the details, free text; cleared when the client is anonymized';

CREATE TABLE crm.contact_person (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    first_name  text,
    last_name   text NOT NULL,
    role        text,
    phone       text,
    email       text,
    notes       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_person_client_id_idx ON crm.contact_person (client_id);
COMMENT ON TABLE crm.contact_person IS 'contact persons at a client (a company''s employees, a person''s proxy)';
COMMENT ON COLUMN crm.contact_person.id IS 'the contact person''s key';
COMMENT ON COLUMN crm.contact_person.client_id IS
    'the client (a company, or a person represented) the contact person is for; the rows go when the client is anonymized';
COMMENT ON COLUMN crm.contact_person.first_name IS 'the contact person''s first name';
COMMENT ON COLUMN crm.contact_person.last_name IS 'the contact person''s last name';
COMMENT ON COLUMN crm.contact_person.role IS
    'their role at the client (director, accountant, proxy...), free text';
COMMENT ON COLUMN crm.contact_person.phone IS
    'their phone number in E.164, normalized by a trigger';
COMMENT ON COLUMN crm.contact_person.email IS
    'their e-mail address, domain lower-cased by a trigger';
COMMENT ON COLUMN crm.contact_person.notes IS 'free notes';
COMMENT ON COLUMN crm.contact_person.created_at IS 'when the contact person was recorded';
CREATE TRIGGER contact_person_normalize BEFORE INSERT OR UPDATE OF phone, email ON crm.contact_person
    FOR EACH ROW EXECUTE FUNCTION crm_internal.contact_person_normalize();

CREATE TABLE crm.service_entry (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    kind        text NOT NULL CHECK (kind IN ('complaint', 'vehicle_sold', 'repair', 'inspection', 'other')),
    occurred_on date NOT NULL DEFAULT current_date,
    vehicle_id  bigint REFERENCES crm.vehicle (id),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX service_entry_client_id_idx ON crm.service_entry (client_id);
CREATE INDEX service_entry_vehicle_id_idx ON crm.service_entry (vehicle_id);
COMMENT ON TABLE crm.service_entry IS 'service entries: complaints, sold vehicles, repairs';
COMMENT ON COLUMN crm.service_entry.id IS 'the entry''s key';
COMMENT ON COLUMN crm.service_entry.client_id IS 'the client the entry is about';
COMMENT ON COLUMN crm.service_entry.kind IS 'complaint, vehicle_sold, repair, inspection or other';
COMMENT ON COLUMN crm.service_entry.occurred_on IS 'the day it happened (today by default)';
COMMENT ON COLUMN crm.service_entry.vehicle_id IS 'the vehicle concerned, if any';
COMMENT ON COLUMN crm.service_entry.description IS
    'the details, free text; cleared when the client is anonymized';
COMMENT ON COLUMN crm.service_entry.created_at IS 'when the entry was recorded';

CREATE TABLE crm.ticket (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    subject     text NOT NULL,
    status      text NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'open', 'pending', 'resolved', 'closed')),
    priority    text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    type        text,
    source      text,
    campaign_id bigint REFERENCES crm.campaign (id),
    assignee    text,
    sla_due_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    description text
);
CREATE INDEX ticket_client_id_idx ON crm.ticket (client_id);
CREATE INDEX ticket_open_idx ON crm.ticket (client_id) WHERE status IN ('new', 'open', 'pending');
CREATE INDEX ticket_campaign_id_idx ON crm.ticket (campaign_id);
COMMENT ON TABLE crm.ticket IS 'tickets (requests, complaints) with status and SLA; open = new, open or pending';
COMMENT ON COLUMN crm.ticket.id IS 'the ticket''s key';
COMMENT ON COLUMN crm.ticket.client_id IS 'the client who raised the request';
COMMENT ON COLUMN crm.ticket.subject IS 'a short subject; "anonymized" once the client is';
COMMENT ON COLUMN crm.ticket.status IS
    'new (default), open, pending, resolved or closed; the first three count as open';
COMMENT ON COLUMN crm.ticket.priority IS 'low, normal (default), high or urgent';
COMMENT ON COLUMN crm.ticket.type IS 'the kind of request, free text';
COMMENT ON COLUMN crm.ticket.source IS
    'where the request came from (phone, e-mail, web form...), free text';
COMMENT ON COLUMN crm.ticket.campaign_id IS 'the campaign the request came from (crm.campaign)';
COMMENT ON COLUMN crm.ticket.assignee IS 'who handles the ticket';
COMMENT ON COLUMN crm.ticket.sla_due_at IS
    'when the ticket must be resolved by its service level agreement';
COMMENT ON COLUMN crm.ticket.created_at IS 'when the ticket was raised';
COMMENT ON COLUMN crm.ticket.resolved_at IS 'when it was resolved; null while open';
COMMENT ON COLUMN crm.ticket.description IS
    'the details, free text; cleared when the client is anonymized';

--------------------------------------------------------------------------
-- Products, price lists and orders
--------------------------------------------------------------------------

CREATE TABLE crm.product (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    unit_price  numeric(14, 2),
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE crm.product IS 'products that can be ordered';
COMMENT ON COLUMN crm.product.id IS 'the product''s key';
COMMENT ON COLUMN crm.product.code IS 'the product code, unique';
COMMENT ON COLUMN crm.product.name IS 'the product''s name';
COMMENT ON COLUMN crm.product.unit_price IS
    'the list price of one unit, two decimals; a price list may set another';
COMMENT ON COLUMN crm.product.created_at IS 'when the product was recorded';

CREATE TABLE crm.price_list (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    currency    text NOT NULL DEFAULT 'PLN',
    valid_from  date,
    valid_to    date,
    CHECK (valid_to >= valid_from)
);
COMMENT ON TABLE crm.price_list IS 'price lists';
COMMENT ON COLUMN crm.price_list.id IS 'the price list''s key';
COMMENT ON COLUMN crm.price_list.name IS 'the price list''s name, unique';
COMMENT ON COLUMN crm.price_list.currency IS 'the currency code of its prices, PLN by default';
COMMENT ON COLUMN crm.price_list.valid_from IS 'the first day it applies; null: no start';
COMMENT ON COLUMN crm.price_list.valid_to IS
    'the last day it applies, not before valid_from; null: no end';

CREATE TABLE crm.price_list_item (
    price_list_id bigint NOT NULL REFERENCES crm.price_list (id) ON DELETE CASCADE,
    product_id    bigint NOT NULL REFERENCES crm.product (id),
    price         numeric(14, 2) NOT NULL,
    PRIMARY KEY (price_list_id, product_id)
);
CREATE INDEX price_list_item_product_id_idx ON crm.price_list_item (product_id);
COMMENT ON TABLE crm.price_list_item IS 'the price of a product in a price list';
COMMENT ON COLUMN crm.price_list_item.price_list_id IS 'the price list';
COMMENT ON COLUMN crm.price_list_item.product_id IS 'the product';
COMMENT ON COLUMN crm.price_list_item.price IS
    'the product''s price in this list, in the list''s currency, two decimals';

CREATE TABLE crm.client_price_list (
    client_id     bigint PRIMARY KEY REFERENCES crm.client (id) ON DELETE CASCADE,
    price_list_id bigint NOT NULL REFERENCES crm.price_list (id),
    assigned_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX client_price_list_price_list_id_idx ON crm.client_price_list (price_list_id);
COMMENT ON TABLE crm.client_price_list IS 'the price list assigned to a client (one at most)';
COMMENT ON COLUMN crm.client_price_list.client_id IS
    'the client; one price list each, deleted with the client';
COMMENT ON COLUMN crm.client_price_list.price_list_id IS 'the price list assigned to the client';
COMMENT ON COLUMN crm.client_price_list.assigned_at IS 'when it was assigned';

CREATE TABLE crm.order (
    id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id     bigint NOT NULL REFERENCES crm.client (id),
    number        text,
    status        text NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'confirmed', 'shipped', 'delivered', 'cancelled')),
    ordered_at    timestamptz NOT NULL DEFAULT now(),
    price_list_id bigint REFERENCES crm.price_list (id),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_client_id_idx ON crm.order (client_id);
CREATE INDEX order_price_list_id_idx ON crm.order (price_list_id);
COMMENT ON TABLE crm.order IS 'orders of a client; unqualified, the name must be quoted ("order" is an SQL keyword)';
COMMENT ON COLUMN crm.order.id IS 'the order''s key';
COMMENT ON COLUMN crm.order.client_id IS 'the client who ordered';
COMMENT ON COLUMN crm.order.number IS 'the order number, free text';
COMMENT ON COLUMN crm.order.status IS 'new (default), confirmed, shipped, delivered or cancelled';
COMMENT ON COLUMN crm.order.ordered_at IS 'when the order was placed';
COMMENT ON COLUMN crm.order.price_list_id IS 'the price list the order was priced by';
COMMENT ON COLUMN crm.order.created_at IS 'when the order was recorded';

CREATE TABLE crm.order_line (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES crm.order (id) ON DELETE CASCADE,
    product_id  bigint NOT NULL REFERENCES crm.product (id),
    quantity    numeric(14, 3) NOT NULL CHECK (quantity > 0),
    unit_price  numeric(14, 2) NOT NULL
);
CREATE INDEX order_line_order_id_idx ON crm.order_line (order_id);
CREATE INDEX order_line_product_id_idx ON crm.order_line (product_id);
COMMENT ON TABLE crm.order_line IS 'lines of an order';
COMMENT ON COLUMN crm.order_line.id IS 'the line''s key';
COMMENT ON COLUMN crm.order_line.order_id IS 'the order the line belongs to; deleted with it';
COMMENT ON COLUMN crm.order_line.product_id IS 'the product ordered';
COMMENT ON COLUMN crm.order_line.quantity IS 'how many units, positive, up to three decimals';
COMMENT ON COLUMN crm.order_line.unit_price IS 'the price of one unit on this order, two decimals';
$model$);

CREATE FUNCTION crm_internal.custom_field_keep_type() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'cannot change the type of custom field "%"', OLD.name
        USING ERRCODE = 'feature_not_supported',
              DETAIL = format('The field holds %s values; only its name can change.', OLD.type),
              HINT = format('Create a new %s field and copy the values into it.', NEW.type);
END
$$;
COMMENT ON FUNCTION crm_internal.custom_field_keep_type() IS 'trigger: refuses to change a custom field''s type';

CREATE FUNCTION crm_internal.custom_value_check_type() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    field record;
BEGIN
    -- an anonymized client takes no personal data again
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at) FROM crm.client c WHERE c.id = NEW.client_id AND c.anonymized_at IS NOT NULL;
    SELECT * INTO field FROM crm.custom_field f WHERE f.id = NEW.field_id;
    IF FOUND AND (field.type = 'number') <> (NEW.number_value IS NOT NULL) THEN
        RAISE EXCEPTION 'custom field "%" holds % values', field.name, field.type
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('A value was written to %s.',
                                  CASE WHEN NEW.number_value IS NULL THEN 'text_value' ELSE 'number_value' END),
                  HINT = format('Write it to %s_value, or use crm.set_custom_value().', field.type);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.custom_value_check_type() IS
    'trigger: a number field takes only number_value, a text field only text_value (an update; inserts: crm_internal.custom_value_check_new)';

-- The same checks for the rows an INSERT statement wrote, all at once: no
-- value for an anonymized client, each value in its field's column.
CREATE FUNCTION crm_internal.custom_value_check_new() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    SELECT c.id, c.anonymized_at INTO r
    FROM crm.client c
    WHERE c.id IN (SELECT n.client_id FROM new_rows n) AND c.anonymized_at IS NOT NULL
    ORDER BY c.id LIMIT 1;
    IF FOUND THEN
        PERFORM crm_internal.refuse_anonymized(r.id, r.anonymized_at);
    END IF;
    SELECT f.name, f.type, n.number_value IS NULL AS text_written INTO r
    FROM new_rows n JOIN crm.custom_field f ON f.id = n.field_id
    WHERE (f.type = 'number') <> (n.number_value IS NOT NULL)
    ORDER BY n.client_id, n.field_id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'custom field "%" holds % values', r.name, r.type
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('A value was written to %s.',
                                  CASE WHEN r.text_written THEN 'text_value' ELSE 'number_value' END),
                  HINT = format('Write it to %s_value, or use crm.set_custom_value().', r.type);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.custom_value_check_new() IS
    'trigger: the custom values an INSERT wrote, checked once per statement: none for an anonymized client, a number field''s only in number_value, a text field''s only in text_value';

-- One home for reading a custom field's value: the field by name (any
-- case), the value parsed by its type (a decimal comma read; NULL stays
-- NULL: clearing).  crm.set_custom_value() and crm.bulk_set_custom_value()
-- write what this returns.
CREATE FUNCTION crm_internal.custom_field_value(field text, value text,
                                                OUT field_id bigint, OUT field_name text,
                                                OUT number_value numeric, OUT text_value text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
BEGIN
    PERFORM crm_internal.require_data_model();
    SELECT * INTO f FROM crm.custom_field cf WHERE lower(cf.name) = lower(field);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'custom field "%" does not exist', field
            USING ERRCODE = 'undefined_object',
                  HINT = 'Define it first: INSERT INTO crm.custom_field (name, type) VALUES (...).';
    END IF;
    field_id := f.id;
    field_name := f.name;
    IF value IS NULL THEN
        RETURN;
    END IF;
    IF f.type = 'number' THEN
        BEGIN
            number_value := replace(btrim(value), ',', '.')::numeric;
            IF number_value IN ('NaN', 'Infinity', '-Infinity') THEN
                RAISE invalid_text_representation;
            END IF;
        EXCEPTION WHEN invalid_text_representation THEN
            RAISE EXCEPTION 'custom field "%" takes numbers', f.name
                USING ERRCODE = 'invalid_text_representation',
                      DETAIL = format('"%s" is not a number.', value);
        END;
    ELSE
        text_value := value;
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.custom_field_value(text, text) IS
    'internal: a custom field by name and a value parsed by its type (number or text; null: clearing), as the columns of crm.custom_value';

-- Set (or, with NULL, clear) a custom field on many clients at once.
CREATE FUNCTION crm.set_custom_value(client_ids bigint[], field text, value text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v record;
    missing bigint;
    n bigint;
BEGIN
    SELECT * INTO v FROM crm_internal.custom_field_value(field, value);
    SELECT min(u.id) INTO missing FROM unnest(client_ids) AS u(id)
    WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = u.id);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'client % does not exist', missing USING ERRCODE = 'no_data_found';
    END IF;

    IF value IS NULL THEN
        DELETE FROM crm.custom_value cv WHERE cv.field_id = v.field_id AND cv.client_id = ANY (client_ids);
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
    END IF;
    INSERT INTO crm.custom_value AS cv (client_id, field_id, number_value, text_value)
    SELECT DISTINCT u.id, v.field_id, v.number_value, v.text_value
    FROM unnest(client_ids) AS u(id)
    ON CONFLICT (client_id, field_id) DO UPDATE
        SET number_value = EXCLUDED.number_value, text_value = EXCLUDED.text_value;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION crm.set_custom_value(bigint[], text, text) IS
    'sets a custom field (by name) on many clients at once, parsing the value by the field''s type (NULL clears it); returns the rows written';

CREATE FUNCTION crm.set_custom_value(client_id bigint, field text, value text) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm.set_custom_value(ARRAY[client_id], field, value);
COMMENT ON FUNCTION crm.set_custom_value(bigint, text, text) IS
    'sets a custom field (by name) on one client, parsing the value by the field''s type (NULL clears it)';

-- SECURITY DEFINER: an agent's row-level security hides other agents'
-- contacts (AC-2), and the client's last contact is the latest of all of
-- them; for a client the session's role reaches only (any client where
-- crm.client has no row-level security).
CREATE FUNCTION crm_internal.client_last_contact(client_id bigint) RETURNS timestamptz
    LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT max(i.occurred_at) FROM crm.interaction i
            WHERE i.client_id = client_last_contact.client_id AND i.channel <> 'notification'
              AND EXISTS (SELECT FROM crm.client c WHERE c.id = client_last_contact.client_id
                            AND (NOT (SELECT k.relrowsecurity FROM pg_class k WHERE k.oid = 'crm.client'::regclass)
                                 OR crm_internal.reaches_unit(crm_internal.session_role(), c.unit_id))));
END
$$;
COMMENT ON FUNCTION crm_internal.client_last_contact(bigint) IS
    'the latest contact with a client in its contact history (automatic notifications are not contacts), whoever handled it; null for a client the session''s role does not reach';

CREATE FUNCTION crm_internal.interaction_before_write() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.original_client_id := coalesce(NEW.original_client_id, NEW.client_id);
        -- a contact an agent records is its own (AC-2 shows agents their own)
        IF NEW.agent IS NULL AND NEW.channel <> 'notification'
           AND row_security_active('crm.interaction'::regclass) THEN
            NEW.agent := current_user;
        END IF;
    ELSE
        NEW.original_client_id := OLD.original_client_id;
    END IF;
    -- a caller id that is no phone number ("anonymous", 112) stays as given:
    -- the contact happened all the same
    IF crm.is_valid_phone(NEW.phone) THEN
        NEW.phone := crm.normalize_phone(NEW.phone);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.interaction_before_write() IS
    'trigger: sets original_client_id on insert and keeps it; normalizes the phone number';

-- crm.client.last_contact_at follows the history, once per statement (a
-- bulk load or a merge moving many contacts updates each client once).  The
-- clients' rows are locked first, in id order, so that concurrent writers
-- of one client's history take turns; the update asks crm.client's trigger
-- to recompute the value (crm_internal.client_before_write accepts no other).
CREATE FUNCTION crm_internal.interaction_after_write() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT n.client_id) INTO ids FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT o.client_id) INTO ids FROM old_rows o;
    ELSE
        -- the clients of rows whose client, time or channel changed
        SELECT array_agg(DISTINCT x.client_id) INTO ids
        FROM old_rows o JOIN new_rows n ON n.id = o.id,
             LATERAL (VALUES (o.client_id), (n.client_id)) AS x(client_id)
        WHERE (o.client_id, o.occurred_at, o.channel) IS DISTINCT FROM (n.client_id, n.occurred_at, n.channel);
    END IF;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM FROM crm.client c WHERE c.id = ANY (ids) ORDER BY c.id FOR NO KEY UPDATE;

    IF TG_OP = 'INSERT' THEN
        -- a newer contact is the last one; an older one changes nothing
        UPDATE crm.client c SET last_contact_at = m.latest
        FROM (SELECT n.client_id, max(n.occurred_at) AS latest FROM new_rows n
              WHERE n.channel <> 'notification' GROUP BY n.client_id) AS m
        WHERE c.id = m.client_id AND (c.last_contact_at IS NULL OR c.last_contact_at < m.latest);
    ELSE
        -- writing any other value makes the client's trigger recompute it
        UPDATE crm.client c
        SET last_contact_at = CASE WHEN c.last_contact_at IS NULL THEN '-infinity'::timestamptz END
        WHERE c.id = ANY (ids);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.interaction_after_write() IS
    'trigger: keeps crm.client.last_contact_at at the latest contact';

CREATE FUNCTION crm_internal.contact_person_normalize() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.phone := crm.normalize_phone(nullif(btrim(NEW.phone), ''));
    NEW.email := crm.normalize_email(nullif(btrim(NEW.email), ''));
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.contact_person_normalize() IS 'trigger: normalizes a contact person''s phone and e-mail';
--------------------------------------------------------------------------
-- What links to a client: the foreign keys that reference crm.client, the
-- rows behind them, and locking a client before changing it
--------------------------------------------------------------------------

-- Every foreign key that references crm.client, in any schema, found from
-- the catalog at call time: the extension's tables and the user's alike.
-- One home for that discovery: deleting, linking, merging and undoing use it.
CREATE FUNCTION crm.client_references()
    RETURNS TABLE (relation regclass, constraint_name name, on_delete "char",
                   columns name[], client_columns name[])
    -- PL/pgSQL, not SQL, for its cached plan: merges and deletes call it often
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_internal.require_data_model();
    RETURN QUERY
    SELECT con.conrelid::regclass, con.conname, con.confdeltype,
           ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.n),
           ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.n)
    FROM pg_constraint con
    WHERE con.contype = 'f' AND con.confrelid = 'crm.client'::regclass
      AND con.conparentid = 0      -- a partitioned table once, not per partition
    ORDER BY con.conrelid::regclass::text, con.conname;
END
$$;
COMMENT ON FUNCTION crm.client_references() IS
    'every foreign key to crm.client in any schema: the referencing table, its columns and the client columns they reference';

-- The SQL condition "the row at alias t references the client whose id is
-- the parameter $n", for one foreign key.
CREATE FUNCTION crm_internal.client_reference_condition(columns name[], client_columns name[], param integer,
                                               alias text DEFAULT 't')
    RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- the usual key, one column referencing the id, needs no lookup
    IF client_columns = '{id}' THEN
        RETURN format('%I.%I = $%s', alias, columns[1], param);
    END IF;
    RETURN format('(%s) = (SELECT %s FROM crm.client c WHERE c.id = $%s)',
                  (SELECT string_agg(format('%I.%I', alias, c), ', ') FROM unnest(columns) AS c),
                  (SELECT string_agg(format('c.%I', c), ', ') FROM unnest(client_columns) AS c),
                  param);
END
$$;
COMMENT ON FUNCTION crm_internal.client_reference_condition(name[], name[], integer, text) IS
    'internal: SQL text matching the rows (alias t) that reference the client whose id is parameter $param';

-- How many rows of each table reference a client, in one query (a merge
-- and a delete ask for every table at once).  Tables the caller may not
-- read get NULL: their foreign keys still guard them.
CREATE FUNCTION crm.client_links(client_id bigint)
    RETURNS TABLE (relation regclass, constraint_name name, on_delete text,
                   blocks_delete boolean, row_count bigint, columns name[], client_columns name[])
    -- volatile: a merge asks again after its own writes
    LANGUAGE plpgsql VOLATILE
    -- a key may use crm's types, whose operators live in crm (writable by its owner only)
    SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    query text;
BEGIN
    PERFORM crm_internal.require_data_model();
    SELECT string_agg(format(
               'SELECT %s::oid::regclass, %L::name, %L::"char", %s, %L::name[], %L::name[]',
               r.relation::oid, r.constraint_name, r.on_delete,
               CASE WHEN has_schema_privilege((SELECT c.relnamespace FROM pg_class c WHERE c.oid = r.relation), 'USAGE')
                         AND has_table_privilege(r.relation, 'SELECT')
                    THEN format('(SELECT count(*) FROM %s t WHERE %s)', r.relation,
                                crm_internal.client_reference_condition(r.columns, r.client_columns, 1))
                    ELSE 'NULL::bigint' END,
               r.columns, r.client_columns),
           ' UNION ALL ' ORDER BY r.relation::text, r.constraint_name)
    INTO query
    FROM crm.client_references() r;
    IF query IS NULL THEN
        RETURN;
    END IF;
    -- Planning a count over every table costs more than running it, and a
    -- merge or a delete asks each time: crm_internal.client_link_counts()
    -- plans each text once per session, in the backend's memory (never as
    -- a named prepared statement, which the session's user could replace:
    -- src/linkcounts.c).  A new foreign key, or another role's privileges,
    -- make another text.
    RETURN QUERY SELECT * FROM crm_internal.client_link_counts(format(
        'SELECT l.rel, l.con, CASE l.del WHEN ''a'' THEN ''no action'' WHEN ''r'' THEN ''restrict''
                                        WHEN ''c'' THEN ''cascade'' WHEN ''n'' THEN ''set null''
                                        WHEN ''d'' THEN ''set default'' END,
                l.del IN (''a'', ''r''), l.n, l.cols, l.client_cols
         FROM (%s) AS l(rel, con, del, n, cols, client_cols)', query), client_links.client_id);
END
$$;
COMMENT ON FUNCTION crm.client_links(bigint) IS
    'every foreign key to crm.client, in any schema, with how many rows reference the client (NULL where the caller may not read them), whether they block deleting it, and its columns';

-- The plan cache behind crm.client_links() (src/linkcounts.c): runs a
-- query with one bigint parameter, planned once per session, with the
-- caller's rights.
CREATE FUNCTION crm_internal.client_link_counts(query text, client_id bigint)
    RETURNS TABLE (relation regclass, constraint_name name, on_delete text,
                   blocks_delete boolean, row_count bigint, columns name[], client_columns name[])
    AS 'MODULE_PATHNAME', 'client_link_counts' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION crm_internal.client_link_counts(text, bigint) IS
    'internal: runs crm.client_links()''s counting query (parameter $1 the client) with the caller''s rights, its plan kept for the session in the backend''s memory';

-- One home for "lock this client, or say it does not exist".
-- (returns a crm.client row, declared record: the table is the data
-- model's, created after this function)
CREATE FUNCTION crm_internal.client_for_update(client_id bigint) RETURNS record
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF client_id IS NULL THEN
        RAISE EXCEPTION 'client id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO c FROM crm.client cl WHERE cl.id = client_for_update.client_id FOR UPDATE;
    IF NOT FOUND THEN
        -- row-level security may let the role read a client it may not change
        IF EXISTS (SELECT FROM crm.client cl WHERE cl.id = client_for_update.client_id) THEN
            RAISE EXCEPTION 'permission denied to change client %', client_id
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'Row-level security lets this role read the client, not change it.';
        END IF;
        RAISE EXCEPTION 'client % does not exist', client_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION crm_internal.client_for_update(bigint) IS
    'locks a client row for update and returns it; raises no_data_found if there is none';

-- Whether the code running now runs as the owner of a SECURITY DEFINER
-- function, that is from inside it: how crm's triggers tell its own
-- privileged writes from anyone else's.
CREATE FUNCTION crm_internal.runs_as_owner_of(f regprocedure) RETURNS boolean
    LANGUAGE sql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT current_user = p.proowner::regrole::text FROM pg_proc p WHERE p.oid = f;
END;
COMMENT ON FUNCTION crm_internal.runs_as_owner_of(regprocedure) IS
    'internal: whether the current role is the owner of function f (inside f, when f is SECURITY DEFINER)';

-- One home for "this client was anonymized: nothing more to do with it".
CREATE FUNCTION crm_internal.refuse_anonymized(client_id bigint, anonymized_at timestamptz) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF anonymized_at IS NOT NULL THEN
        RAISE EXCEPTION 'client % is anonymized', client_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It was anonymized at %s; its record only keeps what the law requires.',
                                  anonymized_at);
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.refuse_anonymized(bigint, timestamptz) IS
    'internal: raises 55000 if the client is anonymized';
--------------------------------------------------------------------------
-- Access: who may do what, and where (AC-1..AC-3, doc/security.md)
--
-- What a role may do is its privileges: crm.create_roles() makes the group
-- roles crm_agent, crm_supervisor and crm_admin and grants each exactly
-- what it needs.  Where it may do it is the structure: crm.user_unit()
-- assigns a role to units, and row-level security (created on the
-- ordinary tables by crm.enable_row_security(), so that dumps keep it)
-- shows a role the clients of its units and of the units below, with every
-- record linked to them.  Administrators see everything.
--
-- crm's own state (the merge journal, the audit log, consent history,
-- anonymization codes, the settings and these assignments) belongs to the
-- data model's owner and is written only by crm's SECURITY DEFINER
-- functions, which check their caller first.  The caller is the session's
-- role: session_user, or the role chosen with SET ROLE
-- (crm_internal.session_role()).
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('access', $model$
CREATE TABLE crm.user_unit (
    role_name   text NOT NULL,
    unit_id     bigint NOT NULL REFERENCES crm.unit (id) ON DELETE CASCADE,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    assigned_by text NOT NULL DEFAULT crm_internal.session_role(),
    PRIMARY KEY (role_name, unit_id)
);
CREATE INDEX user_unit_unit_id_idx ON crm.user_unit (unit_id);
COMMENT ON TABLE crm.user_unit IS
    'where people work (AC-3): a role (a login or a group of them) works in these units and the units below them; written by crm.user_unit()';
COMMENT ON COLUMN crm.user_unit.role_name IS 'the role: a login role, or a group role whose members all work there';
COMMENT ON COLUMN crm.user_unit.unit_id IS 'the unit (crm.unit); the role also reaches every unit below it';
COMMENT ON COLUMN crm.user_unit.assigned_at IS 'when the assignment was made';
COMMENT ON COLUMN crm.user_unit.assigned_by IS 'the role that made it';

CREATE TABLE crm.user_campaign (
    role_name   text NOT NULL,
    campaign_id bigint NOT NULL REFERENCES crm.campaign (id) ON DELETE CASCADE,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    assigned_by text NOT NULL DEFAULT crm_internal.session_role(),
    PRIMARY KEY (role_name, campaign_id)
);
CREATE INDEX user_campaign_campaign_id_idx ON crm.user_campaign (campaign_id);
COMMENT ON TABLE crm.user_campaign IS
    'the campaigns an agent works in: its contact history and tickets of other campaigns need a permission (AC-2); written by crm.user_campaign()';
COMMENT ON COLUMN crm.user_campaign.role_name IS 'the role: a login role, or a group role';
COMMENT ON COLUMN crm.user_campaign.campaign_id IS 'the campaign (crm.campaign)';
COMMENT ON COLUMN crm.user_campaign.assigned_at IS 'when the assignment was made';
COMMENT ON COLUMN crm.user_campaign.assigned_by IS 'the role that made it';

CREATE TABLE crm.user_permission (
    role_name   text NOT NULL,
    permission  text NOT NULL CHECK (crm_internal.is_agent_permission(permission)),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    granted_by  text NOT NULL DEFAULT crm_internal.session_role(),
    PRIMARY KEY (role_name, permission)
);
COMMENT ON TABLE crm.user_permission IS
    'the agent permissions of AC-2 an administrator granted (crm.grant_agent_permission()); see crm.agent_permissions()';
COMMENT ON COLUMN crm.user_permission.role_name IS 'the role: a login role, or a group role';
COMMENT ON COLUMN crm.user_permission.permission IS 'one of crm.agent_permissions()';
COMMENT ON COLUMN crm.user_permission.granted_at IS 'when it was granted';
COMMENT ON COLUMN crm.user_permission.granted_by IS 'the role that granted it';
-- who works where is no secret inside the CRM, and the row-level security
-- of every role reads it
GRANT SELECT ON crm.user_unit, crm.user_campaign, crm.user_permission TO PUBLIC;
-- the structure too: the row-level security of every role walks it
GRANT SELECT ON crm.unit TO PUBLIC;
$model$);

--------------------------------------------------------------------------
-- Who is asking
--------------------------------------------------------------------------

-- The role crm acts for: the session's role, as SET ROLE chose it.  Inside
-- a SECURITY DEFINER function current_user is the function's owner; the
-- session's role is who called.  (A SECURITY DEFINER function of another
-- role in between does not change it: crm acts for the session.)
CREATE FUNCTION crm_internal.session_role() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN current_setting('role') = 'none' THEN session_user::text ELSE current_setting('role') END;
COMMENT ON FUNCTION crm_internal.session_role() IS
    'the role crm acts for: the role chosen with SET ROLE, else session_user (inside crm''s SECURITY DEFINER functions, the caller)';

-- The owner of the data model: the role that installed it (or was handed
-- its tables).  It and superusers are crm's trusted roles.
CREATE FUNCTION crm_internal.model_owner() RETURNS oid
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT c.relowner FROM pg_class c WHERE c.oid = to_regclass('crm.data_model'));
END
$$;
COMMENT ON FUNCTION crm_internal.model_owner() IS 'the owner of the data model (of crm.data_model)';

CREATE FUNCTION crm_internal.is_trusted_role(role_id oid) RETURNS boolean
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.oid = role_id), false)
           OR coalesce(pg_has_role(role_id, crm_internal.model_owner(), 'USAGE'), false);
END
$$;
COMMENT ON FUNCTION crm_internal.is_trusted_role(oid) IS
    'internal: a superuser, or the data model''s owner or a role with its rights (crm runs code and names only such roles wrote)';

-- Whether the role writing now (current_user: a trigger's writer, a
-- restore) is trusted: crm's triggers let such a writer set what they set
-- for anyone else (history times, who found a pair), so that a restore
-- brings back the dumped values.
CREATE FUNCTION crm_internal.writer_is_trusted() RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN crm_internal.is_trusted_role((SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user));
END
$$;
COMMENT ON FUNCTION crm_internal.writer_is_trusted() IS
    'internal: whether the current role is trusted (a superuser, the data model''s owner or a role with its rights): a restore''s writer';

-- Whether a role acts with the rights of a crm group role (inherited:
-- a member without INHERIT gets them after SET ROLE).
CREATE FUNCTION crm_internal.has_crm_role(role_name text, crm_role text) RETURNS boolean
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles g WHERE g.rolname = crm_role) THEN
        RETURN false;
    END IF;
    RETURN pg_has_role(role_name, crm_role, 'USAGE');
END
$$;
COMMENT ON FUNCTION crm_internal.has_crm_role(text, text) IS
    'internal: whether the role has the rights of crm group role crm_role (false if that role does not exist)';

-- Administrators see and reach every client; so do the model's owner,
-- superusers and roles that bypass row-level security.
CREATE FUNCTION crm_internal.sees_all(role_name text) RETURNS boolean
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    RETURN (
        SELECT coalesce((SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.rolname = sees_all.role_name), false)
               OR coalesce(pg_has_role(role_name, crm_internal.model_owner(), 'USAGE'), false)
               OR crm_internal.has_crm_role(role_name, 'crm_admin'));
END
$$;
COMMENT ON FUNCTION crm_internal.sees_all(text) IS
    'whether the role reaches every client: crm_admin, the data model''s owner, superusers, BYPASSRLS roles';

-- Whether the role reads every client of crm.client: row-level security is
-- off on it, or the role bypasses it, or crm's policy by structure
-- (crm.enable_row_security()) lets it reach all (crm_internal.sees_all())
-- and no restrictive policy of the DBA's own narrows that.  What is counted
-- over the whole base (the names' frequencies, src/matchfreq.c) weighs only
-- such roles' scores: a role reaching part of the base could otherwise
-- learn from a score whether a name has bearers out of its reach.
CREATE FUNCTION crm_internal.reads_whole_base(role_name text) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    client regclass := to_regclass('crm.client');
BEGIN
    RETURN client IS NOT NULL AND (
        -- (with row-level security off, a role that may read the table at all)
        (NOT (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = client)
         AND coalesce(has_table_privilege(role_name, client, 'SELECT'), false))
        OR coalesce((SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.rolname = role_name), false)
        OR (EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = client AND p.polname = 'crm_reach')
            AND NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = client AND NOT p.polpermissive)
            AND crm_internal.sees_all(role_name)));
END
$$;
COMMENT ON FUNCTION crm_internal.reads_whole_base(text) IS
    'whether the role reads every client: no row-level security on crm.client, a role that bypasses it, or one crm''s policy lets reach all (crm_internal.sees_all()) with no restrictive policy besides';

-- Supervisors (and administrators) see all the contact history and
-- tickets of the clients they reach; agents what AC-2 grants them.
CREATE FUNCTION crm_internal.sees_all_work(role_name text) RETURNS boolean
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN crm_internal.sees_all(role_name) OR crm_internal.has_crm_role(role_name, 'crm_supervisor');
END
$$;
COMMENT ON FUNCTION crm_internal.sees_all_work(text) IS
    'whether the role sees every contact and ticket of the clients it reaches (supervisors, administrators) rather than what AC-2 grants an agent';

-- The units a role works in (its own assignments and those of the group
-- roles it has the rights of) and every unit below them.
CREATE FUNCTION crm_internal.scope_units(role_name text) RETURNS bigint[]
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    RETURN (
        WITH RECURSIVE reach(id) AS (
            SELECT uu.unit_id FROM crm.user_unit uu JOIN pg_roles r ON r.rolname = uu.role_name
            WHERE pg_has_role(scope_units.role_name, r.oid, 'USAGE')
            UNION
            SELECT u.id FROM crm.unit u JOIN reach ON u.parent_id = reach.id
        )
        SELECT coalesce(array_agg(reach.id ORDER BY reach.id), '{}') FROM reach);
END
$$;
COMMENT ON FUNCTION crm_internal.scope_units(text) IS
    'the units a role works in (crm.user_unit, its groups'' too) and every unit below them';

CREATE FUNCTION crm_internal.scope_campaigns(role_name text) RETURNS bigint[]
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    RETURN (
        SELECT coalesce(array_agg(DISTINCT uc.campaign_id), '{}')
        FROM crm.user_campaign uc JOIN pg_roles r ON r.rolname = uc.role_name
        WHERE pg_has_role(scope_campaigns.role_name, r.oid, 'USAGE'));
END
$$;
COMMENT ON FUNCTION crm_internal.scope_campaigns(text) IS
    'the campaigns a role works in (crm.user_campaign, its groups'' too)';

-- The permissions an administrator grants agents (AC-2).
CREATE FUNCTION crm.agent_permissions()
    RETURNS TABLE (permission text, description text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
    ('history_all_campaigns', 'contact history of the clients it reaches from every campaign, not only its own campaigns'),
    ('other_agents_contacts', 'contacts (crm.interaction) handled by other agents, not only its own'),
    ('tickets_other_campaigns', 'tickets of the clients it reaches from every campaign, not only its own campaigns'),
    ('tickets_unassigned', 'tickets assigned to nobody'),
    ('tickets_other_agents', 'tickets assigned to other agents');
$$;
COMMENT ON FUNCTION crm.agent_permissions() IS
    'the agent permissions of AC-2 (crm.grant_agent_permission()): what each lets an agent see beyond its own contacts and tickets';

CREATE FUNCTION crm_internal.is_agent_permission(permission text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN EXISTS (SELECT FROM crm.agent_permissions() p WHERE p.permission = is_agent_permission.permission);
COMMENT ON FUNCTION crm_internal.is_agent_permission(text) IS 'whether the text names one of crm.agent_permissions()';

CREATE FUNCTION crm_internal.has_agent_permission(role_name text, permission text) RETURNS boolean
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    RETURN (
        SELECT EXISTS (SELECT FROM crm.user_permission p JOIN pg_roles r ON r.rolname = p.role_name
                       WHERE p.permission = has_agent_permission.permission
                         AND pg_has_role(has_agent_permission.role_name, r.oid, 'USAGE')));
END
$$;
COMMENT ON FUNCTION crm_internal.has_agent_permission(text, text) IS
    'whether the role (or a group role it has the rights of) was granted the agent permission';

-- The one unit a role was assigned (directly or through a group role), if
-- it was assigned exactly one: where its new clients go by default.
CREATE FUNCTION crm_internal.home_unit(role_name text) RETURNS bigint
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    RETURN (
        SELECT CASE WHEN count(DISTINCT uu.unit_id) = 1 THEN min(uu.unit_id) END
        FROM crm.user_unit uu JOIN pg_roles r ON r.rolname = uu.role_name
        WHERE pg_has_role(home_unit.role_name, r.oid, 'USAGE'));
END
$$;
COMMENT ON FUNCTION crm_internal.home_unit(text) IS
    'the unit a role works in if it was assigned exactly one (crm.user_unit): where its new clients go unless they name one';

-- Whether a role reaches a client of this unit (no unit: the top of the
-- structure, administrators only).
CREATE FUNCTION crm_internal.reaches_unit(role_name text, unit_id bigint) RETURNS boolean
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN crm_internal.sees_all(role_name) OR unit_id = ANY (crm_internal.scope_units(role_name));
END
$$;
COMMENT ON FUNCTION crm_internal.reaches_unit(text, bigint) IS
    'whether the role reaches the clients of the unit: an administrator, or the unit is one of its units or below one';

--------------------------------------------------------------------------
-- Checks of crm's SECURITY DEFINER functions
--------------------------------------------------------------------------

-- One home for the refusal of what lies outside the caller's reach: the
-- same words whether it exists or not.
CREATE FUNCTION crm_internal.refuse_out_of_reach(what text, fact text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'permission denied to %', what
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = format('Role "%s" reaches only the clients of its units and the units below them; %s.',
                              crm_internal.session_role(), fact),
              HINT = 'An administrator assigns units with crm.user_unit(role, unit).';
END
$$;
COMMENT ON FUNCTION crm_internal.refuse_out_of_reach(text, text) IS
    'internal: raises 42501 "permission denied to <what>" for something outside the session''s role''s reach, saying no more than fact';

-- One home for "the caller may act on these clients": they exist and lie
-- in the caller's part of the structure.  A client out of reach gets the
-- same answer as one that does not exist: a refusal says nothing of what
-- the caller cannot see.  Administrators pass (a missing client is then
-- the caller's function's to report).
CREATE FUNCTION crm_internal.require_reach(client_ids bigint[], action text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    caller text := crm_internal.session_role();
    units bigint[];
    outside bigint;
BEGIN
    IF crm_internal.sees_all(caller) THEN
        RETURN;
    END IF;
    units := crm_internal.scope_units(caller);
    SELECT min(u.id) INTO outside FROM unnest(client_ids) AS u(id)
    WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = u.id AND c.unit_id = ANY (units));
    IF outside IS NOT NULL THEN
        PERFORM crm_internal.refuse_out_of_reach(format('%s client %s', action, outside), 'this client does not exist or lies outside them');
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.require_reach(bigint[], text) IS
    'internal: 42501 unless the session''s role reaches every client (an administrator, or each lies in its units); the same refusal for a client that does not exist';

-- Locks and returns one client the caller reaches.
CREATE FUNCTION crm_internal.client_in_reach(client_id bigint, action text) RETURNS record
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    IF client_id IS NOT NULL THEN
        PERFORM crm_internal.require_reach(ARRAY[client_id], action);
    END IF;
    c := crm_internal.client_for_update(client_id);
    -- its unit was checked before the lock: check again under it
    PERFORM crm_internal.require_reach(ARRAY[client_id], action);
    RETURN c;
END
$$;
COMMENT ON FUNCTION crm_internal.client_in_reach(bigint, text) IS
    'internal: locks and returns a client the session''s role reaches; 42501 (the same for a client that does not exist) otherwise';

-- Whether crm may write a table with its owner's rights: writing runs the
-- table's triggers, so they must be code of trusted roles (superusers, the
-- data model's owner), and no other role may add any.  NULL when it may;
-- else why not, as a sentence for an errdetail.
CREATE FUNCTION crm_internal.untrusted_code(relation regclass) RETURNS text
    -- PL/pgSQL, step by step: the few tables first, then their owners, grants
    -- and triggers (as one SQL query the planner checked every role in
    -- pg_class: 0.6 ms a table, every merge)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- the table and, partitioned, every partition (a write reaches theirs)
    tables oid[] := ARRAY(SELECT relation::oid UNION SELECT t.relid FROM pg_partition_tree(relation) t);
    r record;
    g record;
BEGIN
    FOR r IN SELECT c.oid, c.relowner, c.relacl FROM pg_class c WHERE c.oid = ANY (tables)
             ORDER BY c.oid::regclass::text LOOP
        IF NOT crm_internal.is_trusted_role(r.relowner) THEN
            RETURN format('%s belongs to role %s.',
                          CASE WHEN r.oid = relation THEN 'It' ELSE format('Its partition %s', r.oid::regclass) END,
                          r.relowner::regrole);
        END IF;
        FOR g IN SELECT a.grantee FROM aclexplode(r.relacl) a
                 WHERE a.privilege_type = 'TRIGGER' AND a.grantee <> r.relowner LOOP
            IF g.grantee = 0 OR NOT crm_internal.is_trusted_role(g.grantee) THEN
                RETURN format('Role %s may add triggers to %s.',
                              coalesce(nullif(g.grantee, 0)::regrole::text, 'PUBLIC'), r.oid::regclass);
            END IF;
        END LOOP;
    END LOOP;
    FOR r IN SELECT t.tgname, t.tgrelid, p.oid AS fn, p.proowner
             FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
             WHERE t.tgrelid = ANY (tables) AND NOT t.tgisinternal AND t.tgenabled <> 'D'
             ORDER BY t.tgname LOOP
        IF NOT crm_internal.is_trusted_role(r.proowner) THEN
            RETURN format('Trigger %s of %s runs function %s of role %s.', r.tgname, r.tgrelid::regclass,
                          r.fn::regprocedure, r.proowner::regrole);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.untrusted_code(regclass) IS
    'internal: null if crm may write the table with its owner''s rights (its owner, trigger functions and TRIGGER grantees, its partitions'' too, are trusted roles); else why not';

CREATE FUNCTION crm_internal.require_trusted_table(relation regclass, action text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    why text := crm_internal.untrusted_code(relation);
BEGIN
    IF why IS NOT NULL THEN
        RAISE EXCEPTION 'cannot %: crm does not write table % with its owner''s rights', action, relation
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = why || ' Its code would run with the rights of crm''s owner.',
                  HINT = 'Make a superuser or the data model''s owner the owner of the table and of its trigger functions, and revoke TRIGGER on it from other roles.';
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.require_trusted_table(regclass, text) IS
    'internal: 42501 unless crm may write the table with its owner''s rights (crm_internal.untrusted_code())';

-- Only the data model's owner (or a role with its rights): what changes
-- its tables' grants and policies.
CREATE FUNCTION crm_internal.require_model_owner(action text, why text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pg_has_role(current_user, crm_internal.model_owner(), 'USAGE') THEN
        RAISE EXCEPTION 'permission denied to %', action
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = why,
                  HINT = format('Run it as %s, the owner of the data model.', crm_internal.model_owner()::regrole);
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.require_model_owner(text, text) IS
    'internal: 42501 unless the current role has the rights of the data model''s owner';

-- Only administrators: settings, assignments, anonymization.
CREATE FUNCTION crm_internal.require_admin(action text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT crm_internal.sees_all(crm_internal.session_role()) THEN
        RAISE EXCEPTION 'permission denied to %', action
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role "%s" is not a crm administrator.', crm_internal.session_role()),
                  HINT = 'An administrator (a member of crm_admin) does this.';
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.require_admin(text) IS
    'internal: 42501 unless the session''s role is a crm administrator (crm_admin, the model''s owner, a superuser)';

-- Supervisors and administrators: merging, undoing, hiding, deleting,
-- deduplicating.  Every crm role may call these functions, so that an agent
-- is told why not rather than only "permission denied for function".
CREATE FUNCTION crm_internal.require_supervisor(action text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT crm_internal.sees_all_work(crm_internal.session_role()) THEN
        RAISE EXCEPTION 'permission denied to %', action
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role "%s" is not a crm supervisor or administrator.', crm_internal.session_role()),
                  HINT = 'A supervisor (a member of crm_supervisor) does this within its units.';
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.require_supervisor(text) IS
    'internal: 42501 unless the session''s role is a crm supervisor or administrator';

--------------------------------------------------------------------------
-- The audit log's one writer
--------------------------------------------------------------------------

-- Called only from crm's SECURITY DEFINER functions (no one else may
-- execute it): who (the session's role) and when are the server's.
-- detail holds ids and counts, never personal data.
CREATE FUNCTION crm_internal.audit(action text, client_id bigint, detail jsonb DEFAULT NULL) RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO crm.audit_log (actor, action, client_id, unit_id, detail)
    VALUES (crm_internal.session_role(), audit.action, audit.client_id,
            (SELECT c.unit_id FROM crm.client c WHERE c.id = audit.client_id), audit.detail);
$$;
COMMENT ON FUNCTION crm_internal.audit(text, bigint, jsonb) IS
    'internal, for crm''s SECURITY DEFINER functions only: appends to crm.audit_log (the session''s role, now, ids and counts)';
REVOKE ALL ON FUNCTION crm_internal.audit(text, bigint, jsonb) FROM PUBLIC;

--------------------------------------------------------------------------
-- Writing crm's settings and assignments
--------------------------------------------------------------------------

-- One home for the administrators' setters (assignments here, rules,
-- weights and personal columns in their concepts' files): record a
-- setting (keep) or take it back (not keep), by the table's primary key,
-- and audit what changed.  setting names columns of the table; relation is
-- always one of crm's settings tables, named by crm's SECURITY DEFINER
-- functions (no one else may execute this).
CREATE FUNCTION crm_internal.write_setting(relation regclass, setting jsonb, keep boolean, audit_action text)
    RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cols text[] := ARRAY(SELECT jsonb_object_keys(setting));
    keys text[];
    rest text[];
    changed bigint;
BEGIN
    SELECT array_agg(a.attname::text ORDER BY k.n) INTO keys
    FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
    JOIN pg_attribute a ON a.attnum = k.attnum
    WHERE i.indrelid = relation AND i.indisprimary AND a.attrelid = relation;
    rest := ARRAY(SELECT c FROM unnest(cols) AS c WHERE c <> ALL (keys));
    IF keep THEN
        EXECUTE format('INSERT INTO %s AS t (%s) SELECT %s FROM jsonb_populate_record(NULL::%s, $1) r ON CONFLICT (%s) %s',
                       relation,
                       (SELECT string_agg(format('%I', c), ', ') FROM unnest(cols) AS c),
                       (SELECT string_agg(format('r.%I', c), ', ') FROM unnest(cols) AS c),
                       relation,
                       (SELECT string_agg(format('%I', c), ', ') FROM unnest(keys) AS c),
                       CASE WHEN cardinality(rest) = 0 THEN 'DO NOTHING'
                            ELSE format('DO UPDATE SET (%s) = ROW(%s) WHERE (%s) IS DISTINCT FROM (%s)',
                                        (SELECT string_agg(format('%I', c), ', ') FROM unnest(rest) AS c),
                                        (SELECT string_agg(format('EXCLUDED.%I', c), ', ') FROM unnest(rest) AS c),
                                        (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(rest) AS c),
                                        (SELECT string_agg(format('EXCLUDED.%I', c), ', ') FROM unnest(rest) AS c)) END)
            USING setting;
    ELSE
        EXECUTE format('DELETE FROM %s t WHERE (%s) = (SELECT %s FROM jsonb_populate_record(NULL::%s, $1) r)',
                       relation,
                       (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(keys) AS c),
                       (SELECT string_agg(format('r.%I', c), ', ') FROM unnest(keys) AS c),
                       relation)
            USING setting;
    END IF;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed > 0 THEN
        PERFORM crm_internal.audit(audit_action, NULL,
                                   setting || CASE WHEN keep THEN '{}'::jsonb ELSE '{"removed": true}'::jsonb END);
    END IF;
    RETURN changed > 0;
END
$$;
COMMENT ON FUNCTION crm_internal.write_setting(regclass, jsonb, boolean, text) IS
    'internal, for crm''s setters only: records (keep) or takes back a row of a settings table by its primary key, and audits a change; true if something changed';
REVOKE ALL ON FUNCTION crm_internal.write_setting(regclass, jsonb, boolean, text) FROM PUBLIC;

--------------------------------------------------------------------------
-- Assignments and permissions (administrators)
--------------------------------------------------------------------------

CREATE FUNCTION crm_internal.require_role(role_name text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = role_name) THEN
        RAISE EXCEPTION 'role "%" does not exist', role_name
            USING ERRCODE = 'undefined_object',
                  HINT = 'Create the login role first (CREATE ROLE ... LOGIN), then grant it crm_agent, crm_supervisor or crm_admin.';
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.require_role(text) IS 'internal: 42704 unless the role exists';

CREATE FUNCTION crm.user_unit(role_name text, unit_id bigint, assigned boolean DEFAULT true) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('assign units');
    PERFORM crm_internal.require_role(role_name);
    IF NOT EXISTS (SELECT FROM crm.unit u WHERE u.id = unit_id) THEN
        RAISE EXCEPTION 'unit % does not exist', unit_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN crm_internal.write_setting('crm.user_unit', jsonb_build_object('role_name', role_name, 'unit_id', unit_id),
                                      coalesce(assigned, true), 'user unit');
END
$$;
COMMENT ON FUNCTION crm.user_unit(text, bigint, boolean) IS
    'administrators: the role works in the unit and every unit below it (assigned => false takes that back); true if something changed';

CREATE FUNCTION crm.user_campaign(role_name text, campaign_id bigint, assigned boolean DEFAULT true) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('assign campaigns');
    PERFORM crm_internal.require_role(role_name);
    IF NOT EXISTS (SELECT FROM crm.campaign c WHERE c.id = campaign_id) THEN
        RAISE EXCEPTION 'campaign % does not exist', campaign_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN crm_internal.write_setting('crm.user_campaign',
                                      jsonb_build_object('role_name', role_name, 'campaign_id', campaign_id),
                                      coalesce(assigned, true), 'user campaign');
END
$$;
COMMENT ON FUNCTION crm.user_campaign(text, bigint, boolean) IS
    'administrators: the role works in the campaign (assigned => false takes that back); true if something changed';

CREATE FUNCTION crm.grant_agent_permission(role_name text, permission text, granted boolean DEFAULT true)
    RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('grant agent permissions');
    PERFORM crm_internal.require_role(role_name);
    IF NOT crm_internal.is_agent_permission(permission) THEN
        RAISE EXCEPTION 'unknown agent permission "%"', permission
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Use one of: %s.', (SELECT string_agg(p.permission, ', ') FROM crm.agent_permissions() p));
    END IF;
    RETURN crm_internal.write_setting('crm.user_permission',
                                      jsonb_build_object('role_name', role_name, 'permission', permission),
                                      coalesce(granted, true), 'agent permission');
END
$$;
COMMENT ON FUNCTION crm.grant_agent_permission(text, text, boolean) IS
    'administrators: grants (granted => false: revokes) one of crm.agent_permissions() to a role; true if something changed';
REVOKE ALL ON FUNCTION crm.user_unit(text, bigint, boolean), crm.user_campaign(text, bigint, boolean),
                       crm.grant_agent_permission(text, text, boolean) FROM PUBLIC;

--------------------------------------------------------------------------
-- The roles and their grants
--------------------------------------------------------------------------

-- The data model's tables by what roles do with them.  One home for the
-- lists: crm.create_roles() grants by them, crm.enable_row_security()
-- protects the client data by them, and the catalog test checks that
-- every table of the model is in exactly one.
CREATE FUNCTION crm_internal.model_tables()
    RETURNS TABLE (relation text, category text)
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
    -- the structure and the catalogs: everyone reads, administrators write
    ('crm.unit', 'reference'), ('crm.segment', 'reference'), ('crm.campaign', 'reference'),
    ('crm.custom_field', 'reference'), ('crm.product', 'reference'), ('crm.price_list', 'reference'),
    ('crm.price_list_item', 'reference'),
    -- clients and the records linked to them: read and written in reach;
    -- the client's own (contacts, memberships, custom values, its price
    -- list) may be deleted, a business record only by crm's own functions
    ('crm.client', 'client'),
    ('crm.contact', 'client own'), ('crm.segment_member', 'client own'), ('crm.campaign_member', 'client own'),
    ('crm.custom_value', 'client own'), ('crm.client_price_list', 'client own'),
    ('crm.consent', 'business'), ('crm.document', 'business'), ('crm.vehicle', 'business'),
    ('crm.policy', 'business'), ('crm.interaction', 'business'), ('crm.offer', 'business'),
    ('crm.needs_analysis', 'business'), ('crm.invoice', 'business'), ('crm.payment', 'business'),
    ('crm.task', 'business'), ('crm.case', 'business'), ('crm.contact_person', 'business'),
    ('crm.service_entry', 'business'), ('crm.ticket', 'business'), ('crm.order', 'business'),
    ('crm.order_line', 'business'), ('crm.vcard_outbox', 'business'),
    -- the duplicate check on save records pairs with the saver's rights
    ('crm.possible_duplicate', 'pairs'),
    -- manual dedupe plans: made, edited and applied by supervisors
    ('crm.dedupe_plan', 'plan'), ('crm.dedupe_plan_item', 'plan'), ('crm.dedupe_plan_choice', 'plan'),
    -- imports: begun, applied and read by the role that imports (its rights)
    ('crm.import_batch', 'import'), ('crm.import_reject', 'import'),
    -- crm's own state: read (in reach), written only by crm's functions
    ('crm.merge_log', 'journal'), ('crm.merge_log_row', 'journal'), ('crm.consent_history', 'journal'),
    ('crm.audit_log', 'audit'),
    ('crm.anonymization_code', 'secret'),
    -- crm's own state about the whole base, whatever a role reaches, or
    -- naming administrators: read by administrators only (the counts of
    -- names, which would tell of clients out of reach; the training runs,
    -- with the role that ran each)
    ('crm.match_training', 'admin'), ('crm.match_frequency', 'admin'), ('crm.match_frequency_total', 'admin'),
    ('crm.merge_rule', 'setting'), ('crm.merge_table_rule', 'setting'), ('crm.match_weight', 'setting'),
    ('crm.match_weight_trained', 'setting'),
    ('crm.personal_column', 'setting'), ('crm.user_unit', 'setting'), ('crm.user_campaign', 'setting'),
    ('crm.user_permission', 'setting'), ('crm.data_model', 'setting'),
    -- the views read the tables with the reader's rights (security_invoker)
    ('crm.unit_tree', 'view'), ('crm.client_overview', 'view'), ('crm.client_report', 'view'),
    ('crm.client_policy', 'view'), ('crm.contact_history', 'view'), ('crm.client_custom_value', 'view'),
    ('crm.match_weights_in_use', 'view'), ('crm.personal_data', 'view');
$$;
COMMENT ON FUNCTION crm_internal.model_tables() IS
    'the data model''s tables and views by category (reference, client, client own, business, pairs, plan, import, journal, audit, secret, admin, setting, view): what crm.create_roles() grants and crm.enable_row_security() protects';

-- The columns roles may write: all but identity and generated ones, as a
-- list for GRANT (a column a DBA adds later is granted by the next
-- crm.create_roles()).
CREATE FUNCTION crm_internal.writable_columns(relation text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum)
    FROM pg_attribute a
    WHERE a.attrelid = to_regclass(relation) AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attidentity = '' AND a.attgenerated = ''
      -- hiding, unhiding and anonymizing are crm's functions' (audited)
      AND NOT (to_regclass(relation) = 'crm.client'::regclass
               AND a.attname IN ('hidden_at', 'hidden_reason', 'anonymized_at'));
$$;
COMMENT ON FUNCTION crm_internal.writable_columns(text) IS
    'internal: the columns of a table crm''s roles may insert and update (not identity or generated ones, nor crm.client''s hidden_at, hidden_reason, anonymized_at), as a list for GRANT';

-- The functions of crm's roles (revoked from PUBLIC where they are
-- defined), with the role each needs.  crm.create_roles() grants EXECUTE on
-- them to every crm role, and each checks the level itself
-- (crm_internal.require_supervisor(), require_admin()), so that an agent
-- hears why not and what to do; crm_internal's are granted to the level only.
CREATE FUNCTION crm_internal.role_functions()
    RETURNS TABLE (crm_role text, function_signature text)
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
    ('crm_supervisor', 'crm.merge_clients(bigint[], bigint, jsonb, text, boolean)'),
    ('crm_supervisor', 'crm.merge_client(bigint, bigint, jsonb, text, boolean)'),
    ('crm_supervisor', 'crm.merge_preview(bigint[], bigint)'),
    ('crm_supervisor', 'crm.unmerge(bigint)'),
    ('crm_supervisor', 'crm.hide_client(bigint, text)'),
    ('crm_supervisor', 'crm.unhide_client(bigint)'),
    ('crm_supervisor', 'crm.delete_client(bigint)'),
    ('crm_supervisor', 'crm.dedupe(text[], text)'),
    ('crm_supervisor', 'crm.create_dedupe_plan(text[])'),
    ('crm_supervisor', 'crm.create_dedupe_plan(double precision)'),
    ('crm_supervisor', 'crm.apply_dedupe_plan(bigint, boolean)'),
    -- the bulk actions act as the caller and audit through it (checks first)
    ('crm_agent', 'crm_internal.audit_bulk(text, bigint[], jsonb)'),
    ('crm_admin', 'crm.anonymization_code(bigint)'),
    ('crm_admin', 'crm.anonymize(bigint, text)'),
    ('crm_admin', 'crm_internal.anonymize_crm_data(bigint, text)'),
    ('crm_admin', 'crm.user_unit(text, bigint, boolean)'),
    ('crm_admin', 'crm.user_campaign(text, bigint, boolean)'),
    ('crm_admin', 'crm.grant_agent_permission(text, text, boolean)'),
    ('crm_admin', 'crm.set_merge_rule(text, boolean)'),
    ('crm_admin', 'crm.set_merge_table_rule(regclass, text, regprocedure)'),
    ('crm_admin', 'crm.set_match_weight(text, double precision)'),
    ('crm_admin', 'crm.refresh_match_frequencies()'),
    ('crm_admin', 'crm.train_match_weights(integer, double precision, bigint, integer, double precision, double precision, boolean)'),
    ('crm_admin', 'crm.forget_trained_match_weights()'),
    ('crm_admin', 'crm.set_personal_column(regclass, name, text, boolean)');
$$;
COMMENT ON FUNCTION crm_internal.role_functions() IS
    'the functions of crm''s roles, with the role each needs: revoked from PUBLIC, granted by crm.create_roles() to every crm role (crm_internal''s to that role only), each checking the level itself';

CREATE FUNCTION crm.create_roles() RETURNS text
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    made text[] := '{}';
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_model_owner('create crm''s roles',
                                             'The grants are on the data model''s tables, which only their owner grants.');
    FOR r IN SELECT * FROM unnest(ARRAY['crm_agent', 'crm_supervisor', 'crm_admin']) AS g(name) LOOP
        IF NOT EXISTS (SELECT FROM pg_roles x WHERE x.rolname = r.name) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r.name);
            made := made || r.name;
        END IF;
    END LOOP;
    COMMENT ON ROLE crm_agent IS 'crm: agents read and edit the clients of their units and add linked records';
    COMMENT ON ROLE crm_supervisor IS 'crm: an agent who also merges, hides, deletes and dedupes within its units';
    COMMENT ON ROLE crm_admin IS 'crm: sees every client; anonymizes, dedupes the whole base, manages the structure, catalogs, rules, weights and assignments';
    -- each level has the rights of the one below
    IF NOT pg_has_role('crm_supervisor', 'crm_agent', 'MEMBER') THEN
        GRANT crm_agent TO crm_supervisor;
    END IF;
    IF NOT pg_has_role('crm_admin', 'crm_supervisor', 'MEMBER') THEN
        GRANT crm_supervisor TO crm_admin;
    END IF;

    -- exactly these grants: what an earlier version or a hand granted goes
    FOR r IN SELECT m.relation FROM crm_internal.model_tables() m WHERE to_regclass(m.relation) IS NOT NULL LOOP
        EXECUTE format('REVOKE ALL ON %s FROM crm_agent, crm_supervisor, crm_admin', r.relation);
    END LOOP;
    FOR r IN SELECT m.relation, m.category FROM crm_internal.model_tables() m
             WHERE to_regclass(m.relation) IS NOT NULL LOOP
        IF r.category <> 'secret' THEN
            EXECUTE format('GRANT SELECT ON %s TO %I', r.relation,
                           CASE WHEN r.category IN ('audit', 'plan') THEN 'crm_supervisor'
                                WHEN r.category = 'admin' THEN 'crm_admin' ELSE 'crm_agent' END);
        END IF;
        -- rows get their ids from their sequences: a role that chose ids
        -- could take those of rows it cannot see (and learn they exist) or
        -- the sequence's next ones (and stop everyone's inserts)
        IF r.category IN ('client', 'client own', 'business', 'pairs') THEN
            EXECUTE format('GRANT INSERT (%1$s), UPDATE (%1$s) ON %2$s TO crm_agent',
                           crm_internal.writable_columns(r.relation), r.relation);
        END IF;
        IF r.category IN ('client own', 'pairs') THEN
            EXECUTE format('GRANT DELETE ON %s TO crm_agent', r.relation);
        END IF;
        -- a plan is made by crm.create_dedupe_plan() (its origin; the rest
        -- is the server's) and applied by crm.apply_dedupe_plan(); its
        -- groups are edited by hand
        IF r.relation = 'crm.dedupe_plan' THEN
            EXECUTE format('GRANT INSERT (origin) ON %s TO crm_supervisor', r.relation);
        ELSIF r.category = 'plan' THEN
            EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %s TO crm_supervisor', r.relation);
        END IF;
        IF r.category = 'reference' THEN
            EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %s TO crm_admin', r.relation);
        END IF;
        -- an import writes its batch and rejects with the importer's rights
        IF r.category = 'import' THEN
            EXECUTE format('GRANT INSERT (%1$s), UPDATE (%1$s), DELETE ON %2$s TO crm_agent',
                           crm_internal.writable_columns(r.relation), r.relation);
        END IF;
    END LOOP;
    -- the identity sequences of the tables a role inserts into
    FOR r IN SELECT s.seq, m.category
             FROM crm_internal.model_tables() m,
                  LATERAL (SELECT d.objid::regclass AS seq FROM pg_depend d
                           WHERE d.refobjid = to_regclass(m.relation) AND d.classid = 'pg_class'::regclass
                             AND d.deptype = 'i'
                             AND (SELECT c.relkind FROM pg_class c WHERE c.oid = d.objid) = 'S') s
             WHERE m.category IN ('client', 'client own', 'business', 'pairs', 'plan', 'reference', 'import') LOOP
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %I', r.seq,
                       CASE r.category WHEN 'plan' THEN 'crm_supervisor' WHEN 'reference' THEN 'crm_admin'
                                       ELSE 'crm_agent' END);
    END LOOP;
    FOR r IN SELECT f.crm_role, f.function_signature FROM crm_internal.role_functions() f LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', r.function_signature,
                       CASE WHEN r.function_signature LIKE 'crm\_internal.%' THEN r.crm_role ELSE 'crm_agent' END);
    END LOOP;
    RETURN CASE WHEN cardinality(made) > 0 THEN format('created %s; ', array_to_string(made, ', ')) ELSE '' END
           || 'granted crm_agent, crm_supervisor and crm_admin their rights; '
           || 'GRANT crm_agent (or crm_supervisor, crm_admin) TO a login role, and crm.user_unit() assigns it its units';
END
$$;
COMMENT ON FUNCTION crm.create_roles() IS
    'creates (if missing) the group roles crm_agent, crm_supervisor, crm_admin and grants each exactly what it needs; run by the data model''s owner; idempotent';

--------------------------------------------------------------------------
-- Row-level security by structure
--------------------------------------------------------------------------

-- The policies, by table: made on the ordinary tables by a call (not by
-- the extension's script), so that pg_dump keeps them with the tables.
-- Each reads the session's assignments once per query (the sub-selects
-- are init plans), not once per row.
CREATE FUNCTION crm_internal.row_security_policies()
    RETURNS TABLE (relation text, policy_name text, definition text)
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH reach(sql) AS (VALUES (
        '(SELECT crm_internal.sees_all(current_user::text)) OR unit_id = ANY ((SELECT crm_internal.scope_units(current_user::text))::bigint[])')),
    linked(sql) AS (VALUES (
        '(SELECT crm_internal.sees_all(current_user::text)) OR EXISTS (SELECT FROM crm.client c WHERE c.id = client_id)')),
    -- AC-2: what an agent sees of the work of others and of other campaigns
    agent_work(who, campaign, perm_other, perm_campaigns) AS (VALUES (
        'agent IS NULL OR agent = current_user::text',
        'campaign_id IS NULL OR campaign_id = ANY ((SELECT crm_internal.scope_campaigns(current_user::text))::bigint[])',
        '(SELECT crm_internal.has_agent_permission(current_user::text, ''other_agents_contacts''))',
        '(SELECT crm_internal.has_agent_permission(current_user::text, ''history_all_campaigns''))')),
    -- what an agent does not see it does not change either
    agent_commands(name, command) AS (VALUES ('crm_agent_grants', 'SELECT'), ('crm_agent_grants_update', 'UPDATE'))
    SELECT 'crm.client', 'crm_reach', format('FOR ALL USING (%1$s) WITH CHECK (%1$s)', reach.sql) FROM reach
    UNION ALL
    SELECT m.relation, 'crm_reach', format('FOR ALL USING (%1$s) WITH CHECK (%1$s)', linked.sql)
    FROM crm_internal.model_tables() m, linked
    WHERE m.category IN ('client own', 'business') AND m.relation <> 'crm.order_line'
    UNION ALL
    SELECT 'crm.order_line', 'crm_reach',
           'FOR ALL USING (EXISTS (SELECT FROM crm."order" o WHERE o.id = order_id)) WITH CHECK (EXISTS (SELECT FROM crm."order" o WHERE o.id = order_id))'
    UNION ALL
    SELECT 'crm.interaction', p.name,
           format('AS RESTRICTIVE FOR %s USING ((SELECT crm_internal.sees_all_work(current_user::text)) OR ((%s OR %s) AND (%s OR %s)))',
                  p.command, a.who, a.perm_other, a.campaign, a.perm_campaigns)
    FROM agent_work a, agent_commands p
    UNION ALL
    -- an agent records the contacts it handles (or no one's), not another's
    SELECT 'crm.interaction', 'crm_agent_own_contacts',
           'AS RESTRICTIVE FOR INSERT WITH CHECK ((SELECT crm_internal.sees_all_work(current_user::text)) OR agent IS NULL OR agent = current_user::text)'
    UNION ALL
    SELECT 'crm.ticket', p.name,
           'AS RESTRICTIVE FOR ' || p.command || ' USING ((SELECT crm_internal.sees_all_work(current_user::text)) OR ('
           || '(assignee = current_user::text'
           || ' OR (assignee IS NULL AND (SELECT crm_internal.has_agent_permission(current_user::text, ''tickets_unassigned'')))'
           || ' OR (assignee <> current_user::text AND (SELECT crm_internal.has_agent_permission(current_user::text, ''tickets_other_agents''))))'
           || ' AND (campaign_id IS NULL OR campaign_id = ANY ((SELECT crm_internal.scope_campaigns(current_user::text))::bigint[])'
           || ' OR (SELECT crm_internal.has_agent_permission(current_user::text, ''tickets_other_campaigns'')))))'
    FROM agent_commands p
    UNION ALL
    -- crm's journals: a merge is seen with its target and only by a role
    -- that reached every source when it was merged (the journal holds the
    -- sources' rows: after an unmerge, or a merge across units by a
    -- supervisor, a source may be out of the role's reach); a history with
    -- its client
    SELECT 'crm.merge_log', 'crm_reach',
           'FOR SELECT USING ((SELECT crm_internal.sees_all(current_user::text)) OR (EXISTS (SELECT FROM crm.client c WHERE c.id = target_id)'
           || ' AND NOT EXISTS (SELECT FROM jsonb_array_elements(sources) s'
           || ' WHERE ((s.value ->> ''unit_id'')::bigint = ANY ((SELECT crm_internal.scope_units(current_user::text))::bigint[])) IS NOT TRUE)))'
    UNION ALL
    SELECT 'crm.merge_log_row', 'crm_reach',
           'FOR SELECT USING (EXISTS (SELECT FROM crm.merge_log m WHERE m.id = merge_id))'
    UNION ALL
    SELECT 'crm.consent_history', 'crm_reach', format('FOR SELECT USING (%s)', linked.sql) FROM linked
    UNION ALL
    -- the audit log: entries about clients of the role's units
    SELECT 'crm.audit_log', 'crm_reach', format('FOR SELECT USING (%s)', reach.sql) FROM reach
    UNION ALL
    -- dedupe plans: their maker's, and administrators'
    SELECT 'crm.dedupe_plan', 'crm_reach',
           'FOR ALL USING ((SELECT crm_internal.sees_all(current_user::text)) OR created_by = current_user::text) WITH CHECK ((SELECT crm_internal.sees_all(current_user::text)) OR created_by = current_user::text)'
    UNION ALL
    SELECT p.relation, 'crm_reach',
           'FOR ALL USING (EXISTS (SELECT FROM crm.dedupe_plan p WHERE p.id = plan_id)) WITH CHECK (EXISTS (SELECT FROM crm.dedupe_plan p WHERE p.id = plan_id))'
    FROM (VALUES ('crm.dedupe_plan_item'), ('crm.dedupe_plan_choice')) AS p(relation)
    UNION ALL
    -- imports: their importer's, and administrators'
    SELECT 'crm.import_batch', 'crm_reach',
           'FOR ALL USING ((SELECT crm_internal.sees_all(current_user::text)) OR created_by = current_user::text) WITH CHECK ((SELECT crm_internal.sees_all(current_user::text)) OR created_by = current_user::text)'
    UNION ALL
    SELECT 'crm.import_reject', 'crm_reach',
           'FOR ALL USING (EXISTS (SELECT FROM crm.import_batch b WHERE b.id = batch_id)) WITH CHECK (EXISTS (SELECT FROM crm.import_batch b WHERE b.id = batch_id))';
$$;
COMMENT ON FUNCTION crm_internal.row_security_policies() IS
    'the row-level security policies crm.enable_row_security() makes: by structure on clients, every linked table, the journals and the audit log; AC-2 on contacts and tickets';

CREATE FUNCTION crm.enable_row_security() RETURNS text
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    tables text[] := '{}';
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_model_owner('enable row-level security on crm''s tables',
                                             'Policies are made on the data model''s tables, by their owner.');
    FOR p IN SELECT * FROM crm_internal.row_security_policies() LOOP
        IF NOT p.relation = ANY (tables) THEN
            EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p.relation);
            tables := tables || p.relation;
        END IF;
        -- made again: a newer version's policy replaces the older one
        IF EXISTS (SELECT FROM pg_policy x WHERE x.polrelid = p.relation::regclass AND x.polname = p.policy_name) THEN
            EXECUTE format('DROP POLICY %I ON %s', p.policy_name, p.relation);
        END IF;
        EXECUTE format('CREATE POLICY %I ON %s %s', p.policy_name, p.relation, p.definition);
    END LOOP;
    RETURN format('row-level security by structure on %s tables', cardinality(tables));
END
$$;
COMMENT ON FUNCTION crm.enable_row_security() IS
    'makes (or makes again) crm''s row-level security policies on the data model''s tables: by structure (crm.user_unit) on clients, every linked table, the journals and the audit log, AC-2 on contacts and tickets; run by the data model''s owner; idempotent';
REVOKE ALL ON FUNCTION crm.create_roles(), crm.enable_row_security() FROM PUBLIC;
--------------------------------------------------------------------------
-- Removing and hiding clients
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('delete_hide', $model$
CREATE TRIGGER client_before_delete BEFORE DELETE ON crm.client
    FOR EACH ROW EXECUTE FUNCTION crm_internal.client_before_delete();
$model$);

-- Deleting a client never loses a business record by cascade: rows that
-- reference it through a foreign key without ON DELETE CASCADE (or SET
-- NULL) block the delete; cascading ones (contacts, memberships, custom
-- values, consents, price list) are the client's own and go with it.
CREATE FUNCTION crm_internal.client_before_delete() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    linked text;
BEGIN
    -- a merge has moved every linked row and checked that none is left just
    -- before it deletes its sources, so it spares this recount (a session
    -- that sets the flag by hand gains nothing: the foreign keys still refuse
    -- what this trigger would, and cascading rows go with any delete)
    IF current_setting('crm_merge.source_id', true) = OLD.id::text THEN
        RETURN OLD;
    END IF;
    SELECT string_agg(format('%s in %s', l.row_count, l.relation), ', ' ORDER BY l.relation::text)
    INTO linked
    FROM crm.client_links(OLD.id) l
    WHERE l.blocks_delete AND l.row_count > 0;
    IF linked IS NOT NULL THEN
        RAISE EXCEPTION 'cannot delete client % because records are linked to it', OLD.id
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Linked records: %s.', linked),
                  HINT = format('Merge client %s into the client that should keep these records, '
                                'or hide it with crm.hide_client(%s, reason).', OLD.id, OLD.id);
    END IF;
    RETURN OLD;
END
$$;
COMMENT ON FUNCTION crm_internal.client_before_delete() IS
    'trigger: refuses to delete a client that business records are linked to, saying which';

-- Deleting, hiding and unhiding are crm's own acts (SECURITY DEFINER):
-- audited, and done only to clients the session's role reaches.  No role
-- is granted DELETE on crm.client: crm.delete_client() is the way.
CREATE FUNCTION crm.delete_client(client_id bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_supervisor('delete clients');
    c := crm_internal.client_in_reach(client_id, 'delete');
    -- recorded first, while the client's unit is there to record
    PERFORM crm_internal.audit('delete', c.id, NULL);
    DELETE FROM crm.client cl WHERE cl.id = c.id;
END
$$;
COMMENT ON FUNCTION crm.delete_client(bigint) IS
    'deletes a client with its contacts, memberships, custom values and consents; refuses (23503) while business records are linked to it';

CREATE FUNCTION crm.hide_client(client_id bigint, reason text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_supervisor('hide clients');
    c := crm_internal.client_in_reach(client_id, 'hide');
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    IF c.hidden_at IS NOT NULL THEN
        RAISE EXCEPTION 'client % is already hidden', c.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It was hidden at %s%s.', c.hidden_at,
                                  coalesce(format(' (%s)', c.hidden_reason), '')),
                  HINT = format('Use crm.unhide_client(%s) to bring it back.', c.id);
    END IF;
    UPDATE crm.client cl SET hidden_at = now(), hidden_reason = nullif(btrim(reason), '')
    WHERE cl.id = c.id;
    PERFORM crm_internal.audit('hide', c.id, NULL);
END
$$;
COMMENT ON FUNCTION crm.hide_client(bigint, text) IS
    'hides a client who left or withdrew consent: it keeps its records but drops out of the working views';

CREATE FUNCTION crm.unhide_client(client_id bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_supervisor('unhide clients');
    c := crm_internal.client_in_reach(client_id, 'unhide');
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    IF c.hidden_at IS NULL THEN
        RAISE EXCEPTION 'client % is not hidden', c.id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE crm.client cl SET hidden_at = NULL, hidden_reason = NULL WHERE cl.id = c.id;
    PERFORM crm_internal.audit('unhide', c.id, NULL);
END
$$;
COMMENT ON FUNCTION crm.unhide_client(bigint) IS 'brings a hidden client back into the working views';
REVOKE ALL ON FUNCTION crm.delete_client(bigint), crm.hide_client(bigint, text), crm.unhide_client(bigint) FROM PUBLIC;
--------------------------------------------------------------------------
-- Views and search for people and BI tools
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('search', $model$
CREATE VIEW crm.client_overview WITH (security_invoker = true) AS
SELECT c.id, c.kind, c.display_name, c.first_name, c.last_name, c.company_name,
       c.pesel, c.nip, c.regon, c.city, c.postal_code, c.address,
       phone.value AS phone, email.value AS email,
       c.unit_id, u.path AS unit_path, c.owner, c.synced,
       (SELECT count(*) FROM crm.policy p
        WHERE p.client_id = c.id AND p.ends_on >= current_date) AS active_policies,
       (SELECT count(*) FROM crm.ticket t
        WHERE t.client_id = c.id AND t.status IN ('new', 'open', 'pending')) AS open_tickets,
       c.last_contact_at, c.created_at, c.updated_at
FROM crm.client c
LEFT JOIN crm.contact phone ON phone.client_id = c.id AND phone.kind = 'phone' AND phone.is_default
LEFT JOIN crm.contact email ON email.client_id = c.id AND email.kind = 'email' AND email.is_default
LEFT JOIN crm.unit_tree u ON u.id = c.unit_id
WHERE crm_internal.client_is_visible(c.hidden_at, c.anonymized_at);
COMMENT ON VIEW crm.client_overview IS
    'one row per visible client: identifiers, default phone and e-mail, unit path, owner, active policies, open tickets, last contact';
COMMENT ON COLUMN crm.client_overview.id IS 'the client (crm.client.id)';
COMMENT ON COLUMN crm.client_overview.kind IS 'person or company';
COMMENT ON COLUMN crm.client_overview.display_name IS 'the name shown in lists';
COMMENT ON COLUMN crm.client_overview.first_name IS 'a person''s first name';
COMMENT ON COLUMN crm.client_overview.last_name IS 'a person''s last name';
COMMENT ON COLUMN crm.client_overview.company_name IS 'a company''s name';
COMMENT ON COLUMN crm.client_overview.pesel IS
    'PESEL (type crm.pesel; crm.client_report gives it as text)';
COMMENT ON COLUMN crm.client_overview.nip IS
    'NIP (type crm.nip; crm.client_report gives it as text)';
COMMENT ON COLUMN crm.client_overview.regon IS
    'REGON (type crm.regon; crm.client_report gives it as text)';
COMMENT ON COLUMN crm.client_overview.city IS 'the city of the address';
COMMENT ON COLUMN crm.client_overview.postal_code IS 'the postal code';
COMMENT ON COLUMN crm.client_overview.address IS 'street, house and flat number';
COMMENT ON COLUMN crm.client_overview.phone IS 'the client''s default phone number, E.164';
COMMENT ON COLUMN crm.client_overview.email IS 'the client''s default e-mail address';
COMMENT ON COLUMN crm.client_overview.unit_id IS 'the client''s unit of the structure (crm.unit)';
COMMENT ON COLUMN crm.client_overview.unit_path IS
    'that unit''s path from the top of the structure, names joined by " / "';
COMMENT ON COLUMN crm.client_overview.owner IS 'the account manager: a role name';
COMMENT ON COLUMN crm.client_overview.synced IS 'the client''s data is complete and synchronized';
COMMENT ON COLUMN crm.client_overview.active_policies IS
    'how many of the client''s policies have not ended (ends_on today or later)';
COMMENT ON COLUMN crm.client_overview.open_tickets IS
    'how many of the client''s tickets are new, open or pending';
COMMENT ON COLUMN crm.client_overview.last_contact_at IS
    'the latest contact in the contact history (notifications aside)';
COMMENT ON COLUMN crm.client_overview.created_at IS 'when the client was created';
COMMENT ON COLUMN crm.client_overview.updated_at IS 'when the client''s data last changed';

CREATE FUNCTION crm.client_search(filter jsonb) RETURNS SETOF crm.client
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, crm, pg_temp
AS $body$
    SELECT c.* FROM crm.client c
    WHERE c.id IN (SELECT crm_internal.client_search_ids(filter))
    ORDER BY c.id;
$body$;
COMMENT ON FUNCTION crm.client_search(jsonb) IS
    'clients matching a filter: {"field": value | "pattern%" | [values] | null | {">": v, "between": [a, b]}, ...}, criteria combined with AND; visible clients unless "hidden" says otherwise';
$model$);

-- crm.client_search(): a comparison of expr with the filter value that the
-- SQL expression src reaches inside the filter ($1); bound is that value,
-- read here only for its shape.  No filter value is pasted into the SQL.
CREATE FUNCTION crm_internal.search_compare(expr text, kind text, typ regtype, op text, src text, bound jsonb)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN CASE
    -- a bare date compared with a timestamp means that whole day
    WHEN kind = 'timestamp' AND coalesce(bound #>> '{}', '') ~ '^\d{4}-\d{2}-\d{2}$' THEN
        CASE op
        WHEN '='  THEN format('(%1$s >= (%2$s #>> ''{}'')::date AND %1$s < (%2$s #>> ''{}'')::date + 1)', expr, src)
        WHEN '>'  THEN format('%s >= (%s #>> ''{}'')::date + 1', expr, src)
        WHEN '>=' THEN format('%s >= (%s #>> ''{}'')::date', expr, src)
        WHEN '<'  THEN format('%s < (%s #>> ''{}'')::date', expr, src)
        WHEN '<=' THEN format('%s < (%s #>> ''{}'')::date + 1', expr, src) END
    ELSE format('%s %s (%s #>> ''{}'')::%s', expr, op, src, typ)
END;
COMMENT ON FUNCTION crm_internal.search_compare(text, text, regtype, text, text, jsonb) IS
    'internal to crm.client_search(): one comparison of a field with a filter value';

-- crm.client_search(): the predicate for one filter field (see doc/schema.md).
CREATE FUNCTION crm_internal.search_predicate(field text, expr text, kind text, typ regtype, src text, val jsonb)
    RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parts text[] := '{}';
    op text;
    bound jsonb;
    v text := format('(%s #>> ''{}'')', src);   -- the value as text
    pattern boolean := jsonb_typeof(val) = 'string' AND val #>> '{}' LIKE '%\%%';
BEGIN
    CASE jsonb_typeof(val)
    WHEN 'null' THEN
        RETURN format('%s IS NULL', expr);
    WHEN 'array' THEN
        FOR i IN 0 .. jsonb_array_length(val) - 1 LOOP
            parts := parts || crm_internal.search_predicate(field, expr, kind, typ, format('(%s -> %s)', src, i), val -> i);
        END LOOP;
        RETURN CASE WHEN cardinality(parts) = 0 THEN 'false'
                    ELSE '(' || array_to_string(parts, ' OR ') || ')' END;
    WHEN 'object' THEN
        IF kind NOT IN ('number', 'date', 'timestamp') THEN
            RAISE EXCEPTION 'filter field "%" takes no comparison operators', field
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Give a value, a pattern with %, a list of values or null.';
        END IF;
        FOR op, bound IN SELECT * FROM jsonb_each(val) LOOP
            IF op = 'between' THEN
                IF jsonb_typeof(bound) <> 'array' OR jsonb_array_length(bound) <> 2 THEN
                    RAISE EXCEPTION 'filter field "%": "between" takes an array of two values', field
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                -- a null bound leaves that end open
                IF jsonb_typeof(bound -> 0) <> 'null' THEN
                    parts := parts || crm_internal.search_compare(expr, kind, typ, '>=',
                                                         format('(%s -> ''between'' -> 0)', src), bound -> 0);
                END IF;
                IF jsonb_typeof(bound -> 1) <> 'null' THEN
                    parts := parts || crm_internal.search_compare(expr, kind, typ, '<=',
                                                         format('(%s -> ''between'' -> 1)', src), bound -> 1);
                END IF;
            ELSIF op IN ('=', '>', '>=', '<', '<=') AND jsonb_typeof(bound) IN ('null', 'object', 'array') THEN
                RAISE EXCEPTION 'filter field "%": operator "%" takes one value', field, op
                    USING ERRCODE = 'invalid_parameter_value';
            ELSIF op IN ('=', '>', '>=', '<', '<=') THEN
                parts := parts || crm_internal.search_compare(expr, kind, typ, op, format('(%s -> %L)', src, op), bound);
            ELSE
                RAISE EXCEPTION 'filter field "%": unrecognized operator "%"', field, op
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Use =, >, >=, <, <= or between.';
            END IF;
        END LOOP;
        RETURN CASE WHEN cardinality(parts) = 0 THEN 'true'
                    ELSE '(' || array_to_string(parts, ' AND ') || ')' END;
    ELSE
        RETURN CASE kind
            WHEN 'text' THEN
                format(CASE WHEN pattern THEN 'lower(%s) LIKE lower(%s)' ELSE 'lower(%s) = lower(%s)' END, expr, v)
            WHEN 'identifier' THEN
                CASE WHEN pattern THEN format('%s::text LIKE %s', expr, v)
                     ELSE format('%s = %s::%s', expr, v, typ) END
            WHEN 'phone' THEN
                CASE WHEN pattern THEN format('%s LIKE %s', expr, v)
                     ELSE format('%s = crm.normalize_phone(%s)', expr, v) END
            WHEN 'email' THEN
                CASE WHEN pattern THEN format('lower(%s) LIKE lower(%s)', expr, v)
                     ELSE format('lower(%s) = lower(crm.normalize_email(%s))', expr, v) END
            WHEN 'reference' THEN   -- a campaign or segment, by id or by name
                CASE WHEN jsonb_typeof(val) = 'number' THEN format('x.id = %s::bigint', v)
                     WHEN pattern THEN format('lower(x.name) LIKE lower(%s)', v)
                     ELSE format('lower(x.name) = lower(%s)', v) END
            ELSE crm_internal.search_compare(expr, kind, typ, '=', src, val)
        END;
    END CASE;
END
$$;
COMMENT ON FUNCTION crm_internal.search_predicate(text, text, text, regtype, text, jsonb) IS
    'internal to crm.client_search(): the SQL predicate for one filter field';

-- The condition on crm.client c that a filter makes, as SQL text: the
-- one home of the filter language, shared by crm.client_search() (through
-- client_search_ids() below) and the exports (src/sql/92_export.sql).
-- filter_sql is the SQL expression that reaches the filter where the
-- condition runs: '$1' for a parameter, or the filter quoted as a literal
-- (format('%L::jsonb', filter)) for a view; filter itself is read only for
-- its keys and the shapes of its values.  The text names crm's types
-- without their schema and compares them with crm's operators: it is
-- resolved under search_path pg_catalog, crm (as the callers pin it).
CREATE FUNCTION crm_internal.client_search_condition(filter jsonb, filter_sql text) RETURNS text
    LANGUAGE plpgsql STABLE
    -- the predicates compare crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    conds text[] := '{}';
    key text;
    val jsonb;
    src text;
    typ regtype;
    kind text;
    field record;
    exists_sql text;
    hidden text := 'visible';
BEGIN
    PERFORM crm_internal.require_data_model();
    IF filter IS NULL OR jsonb_typeof(filter) <> 'object' THEN
        RAISE EXCEPTION 'client search filter must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example: {"last_name": "Kowal%", "city": "Kraków"}.';
    END IF;

    FOR key, val IN SELECT * FROM jsonb_each(filter) LOOP
        src := format('(%s -> %L)', filter_sql, key);
        exists_sql := NULL;
        IF key = 'hidden' THEN
            hidden := CASE val WHEN 'true' THEN 'hidden' WHEN 'false' THEN 'visible'
                               WHEN '"any"' THEN 'any' END;
            IF hidden IS NULL THEN
                RAISE EXCEPTION 'filter field "hidden" takes true, false or "any"'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
        ELSIF key IN ('phone', 'email') THEN
            exists_sql := format('SELECT FROM crm.contact k WHERE k.client_id = c.id AND k.kind = %L', key);
            IF jsonb_typeof(val) <> 'null' THEN
                exists_sql := exists_sql || ' AND '
                    || crm_internal.search_predicate(key, 'k.value', key, 'text', src, val);
            END IF;
        ELSIF key IN ('campaign', 'segment') THEN
            exists_sql := format('SELECT FROM crm.%1$s_member m JOIN crm.%1$s x ON x.id = m.%1$s_id '
                                 'WHERE m.client_id = c.id', key);
            IF jsonb_typeof(val) <> 'null' THEN
                exists_sql := exists_sql || ' AND '
                    || crm_internal.search_predicate(key, 'x.name', 'reference', 'text', src, val);
            END IF;
        ELSIF key = 'unit_within' THEN
            IF jsonb_typeof(val) <> 'number' THEN
                RAISE EXCEPTION 'filter field "unit_within" takes a unit id'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            conds := conds || format('crm.unit_contains((%s #>> ''{}'')::bigint, c.unit_id)', src);
        ELSIF key LIKE 'custom:%' THEN
            SELECT * INTO field FROM crm.custom_field f WHERE lower(f.name) = lower(substr(key, 8));
            IF NOT FOUND THEN
                RAISE EXCEPTION 'custom field "%" does not exist', substr(key, 8)
                    USING ERRCODE = 'undefined_object';
            END IF;
            exists_sql := format('SELECT FROM crm.custom_value v WHERE v.client_id = c.id AND v.field_id = %s',
                                 field.id);
            IF jsonb_typeof(val) <> 'null' THEN
                exists_sql := exists_sql || ' AND '
                    || CASE field.type
                       WHEN 'number' THEN crm_internal.search_predicate(key, 'v.number_value', 'number', 'numeric', src, val)
                       ELSE crm_internal.search_predicate(key, 'v.text_value', 'text', 'text', src, val) END;
            END IF;
        ELSE
            SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
            WHERE a.attrelid = 'crm.client'::regclass AND a.attname = key
              AND a.attnum > 0 AND NOT a.attisdropped;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'unrecognized client search filter field "%"', key
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Filter on a column of crm.client, on phone, email, campaign, segment, '
                                 'unit_within, hidden or custom:<field name>.';
            END IF;
            kind := CASE
                WHEN typ IN ('text'::regtype, 'character varying'::regtype) THEN 'text'
                WHEN typ IN ('crm.pesel'::regtype, 'crm.nip'::regtype, 'crm.regon'::regtype) THEN 'identifier'
                WHEN typ IN ('bigint'::regtype, 'integer'::regtype, 'numeric'::regtype) THEN 'number'
                WHEN typ = 'date'::regtype THEN 'date'
                WHEN typ = 'timestamp with time zone'::regtype THEN 'timestamp'
                ELSE 'value' END;
            conds := conds || crm_internal.search_predicate(key, format('c.%I', key), kind, typ, src, val);
        END IF;
        IF exists_sql IS NOT NULL THEN
            conds := conds || format(CASE WHEN jsonb_typeof(val) = 'null' THEN 'NOT EXISTS (%s)'
                                          ELSE 'EXISTS (%s)' END, exists_sql);
        END IF;
    END LOOP;

    IF hidden = 'visible' THEN
        conds := conds || 'crm_internal.client_is_visible(c.hidden_at, c.anonymized_at)'::text;
    ELSIF hidden = 'hidden' THEN
        conds := conds || 'c.hidden_at IS NOT NULL'::text;
    END IF;
    RETURN CASE WHEN cardinality(conds) = 0 THEN 'true'
                ELSE array_to_string(conds, ' AND ') END;
END
$$;
COMMENT ON FUNCTION crm_internal.client_search_condition(jsonb, text) IS
    'internal to crm.client_search() and the exports: the SQL condition on crm.client c that a filter makes, reaching the filter through filter_sql';

-- The ids of the clients a filter selects; crm.client_search() (part of
-- the data model above: it returns rows of crm.client) returns their rows.
CREATE FUNCTION crm_internal.client_search_ids(filter jsonb) RETURNS SETOF bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, crm, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT c.id FROM crm.client c WHERE %s',
                                crm_internal.client_search_condition(filter, '$1'))
        USING filter;
END
$$;
COMMENT ON FUNCTION crm_internal.client_search_ids(jsonb) IS
    'internal to crm.client_search(): the ids of the clients its filter selects, read with the caller''s rights (the filter''s syntax: crm.client_search)';
--------------------------------------------------------------------------
-- Merge rules (MG-5..MG-7) and what a merge does with each table
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('merge_rules', $model$
-- The merge rules are on unless a row here switches one off.  A table, not
-- a setting: administrators decide for the database, through
-- crm.set_merge_rule() (the table belongs to the model's owner).
CREATE TABLE crm.merge_rule (
    rule    text PRIMARY KEY CHECK (rule IN ('structure', 'sync', 'consent')),
    enabled boolean NOT NULL
);
COMMENT ON TABLE crm.merge_rule IS
    'switches for the merge rules structure (MG-5), sync (MG-6) and consent (MG-7); a rule without a row is on; written by crm.set_merge_rule()';
CREATE TRIGGER merge_rule_writer BEFORE INSERT OR UPDATE OR DELETE ON crm.merge_rule
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.set_merge_rule()');
COMMENT ON COLUMN crm.merge_rule.rule IS
    'structure (MG-5: the target is in the source''s unit or below it), sync (MG-6: no synchronized client into an unsynchronized one) or consent (MG-7: a source with consents in force needs a target with some)';
COMMENT ON COLUMN crm.merge_rule.enabled IS
    'false switches the rule off for this database; a rule without a row is on';

-- What a merge does with the rows of a table that references clients.
CREATE TABLE crm.merge_table_rule (
    relation regclass PRIMARY KEY,
    action   text NOT NULL CHECK (action IN ('move', 'drop', 'function')),
    handler  text,
    CONSTRAINT merge_table_rule_handler CHECK ((action = 'function') = (handler IS NOT NULL))
);
COMMENT ON TABLE crm.merge_table_rule IS
    'per-table merge rules: move (the default) the source''s rows to the target, drop them, or call handler(source_id bigint, target_id bigint, merge_id bigint); written by crm.set_merge_table_rule()';
COMMENT ON COLUMN crm.merge_table_rule.relation IS 'a table whose rows reference crm.client';
COMMENT ON COLUMN crm.merge_table_rule.action IS
    'move (the source''s rows go to the target), drop (they are deleted, journaled) or function (handler deals with them)';
COMMENT ON COLUMN crm.merge_table_rule.handler IS
    'for action function: the function as regprocedure prints it, schema-qualified (schema.name(bigint,bigint,bigint)), owned by a superuser or the data model''s owner; null otherwise';
CREATE TRIGGER merge_table_rule_check BEFORE INSERT OR UPDATE ON crm.merge_table_rule
    FOR EACH ROW EXECUTE FUNCTION crm_internal.merge_table_rule_check();
CREATE TRIGGER merge_table_rule_writer BEFORE INSERT OR UPDATE OR DELETE ON crm.merge_table_rule
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.set_merge_table_rule()');
$model$);

--------------------------------------------------------------------------
-- Merging clients (MG-1 to MG-10): rules, registry, journal, undo
--------------------------------------------------------------------------

-- A table's schema-qualified name, whatever the search path.
CREATE FUNCTION crm_internal.relation_name(relation regclass) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN relation::text;
COMMENT ON FUNCTION crm_internal.relation_name(regclass) IS
    'a table''s schema-qualified name (as regclass prints it with no schema on the search path)';

CREATE FUNCTION crm_internal.merge_rule_enabled(rule text) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT r.enabled FROM crm.merge_rule r WHERE r.rule = merge_rule_enabled.rule), true);
$$;
COMMENT ON FUNCTION crm_internal.merge_rule_enabled(text) IS 'whether a merge rule is on in this database';

-- crm's settings (the merge rules, the per-table rules, the weights of
-- duplicate evidence, the personal columns) steer what crm's functions do
-- with other roles' rights: only the data model's owner and superusers
-- write them, in practice through the administrators' SECURITY DEFINER
-- setters (crm.set_merge_rule() ...).  A statement trigger holds that even
-- where a broad grant (GRANT ... ON ALL TABLES IN SCHEMA crm) gave a role
-- INSERT or UPDATE on them.  TG_ARGV[0]: the setter to name in the hint.
CREATE FUNCTION crm_internal.settings_writer_check() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT crm_internal.writer_is_trusted() THEN
        RAISE EXCEPTION 'permission denied to change %.%', TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('crm''s settings are written only by the data model''s owner (%s) or a superuser, not by role %s.',
                                  crm_internal.model_owner()::regrole, current_user),
                  HINT = format('An administrator (a member of crm_admin) calls %s.', TG_ARGV[0]);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.settings_writer_check() IS
    'statement trigger on crm''s settings tables: 42501 unless the writer is the data model''s owner (or a member of it) or a superuser; administrators use the crm.set_* functions';

-- A merge handler as crm.merge_table_rule stores it (regprocedure text),
-- resolved: null if it names no function of (bigint, bigint, bigint)
-- (to_regprocedure() of PostgreSQL 15 still raises on malformed text).
CREATE FUNCTION crm_internal.merge_handler(handler text) RETURNS regprocedure
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    BEGIN
        f := to_regprocedure(handler);
    EXCEPTION WHEN OTHERS THEN
        RETURN NULL;
    END;
    IF f IS NULL OR NOT EXISTS (SELECT FROM pg_proc p WHERE p.oid = f AND p.prokind = 'f'
                                AND p.proargtypes = '20 20 20'::oidvector) THEN
        RETURN NULL;
    END IF;
    RETURN f;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_handler(text) IS
    'internal: the function a stored merge handler names, if it is a function of (bigint, bigint, bigint); null otherwise';

-- A handler's schema-qualified name, whatever the search path: stored with
-- its arguments' types, called with them (they pick exactly this function).
CREATE FUNCTION crm_internal.merge_handler_name(handler regprocedure) RETURNS text
    LANGUAGE sql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('%I.%I', n.nspname, p.proname)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = handler;
$$;
COMMENT ON FUNCTION crm_internal.merge_handler_name(regprocedure) IS
    'internal: the schema-qualified name of a merge handler';

-- Why a merge must not run this handler: null if it may.  Only code a
-- trusted role (a superuser, the data model's owner) owns runs inside a
-- merge, whoever merges: a merge (SECURITY DEFINER) would run a function
-- of another owner with crm's owner's rights.
CREATE FUNCTION crm_internal.merge_handler_untrusted(handler regprocedure) RETURNS text
    LANGUAGE sql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('Function %s belongs to role %s, which is neither a superuser nor the data model''s owner (%s); a merge would run it with crm''s owner''s rights.',
                  handler, p.proowner::regrole, crm_internal.model_owner()::regrole)
    FROM pg_proc p
    WHERE p.oid = handler AND NOT crm_internal.is_trusted_role(p.proowner);
$$;
COMMENT ON FUNCTION crm_internal.merge_handler_untrusted(regprocedure) IS
    'internal: why a merge must not run this handler (its owner is neither a superuser nor the data model''s owner), as an error detail; null if it may';

CREATE FUNCTION crm_internal.merge_table_rule_check() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    f regprocedure;
    untrusted text;
BEGIN
    IF NEW.handler IS NOT NULL THEN
        f := crm_internal.merge_handler(NEW.handler);
        IF f IS NULL THEN
            RAISE EXCEPTION 'merge handler % is not a function of (bigint, bigint, bigint)', NEW.handler
                USING ERRCODE = 'undefined_function',
                      HINT = 'Give a schema-qualified function taking (source_id bigint, target_id bigint, merge_id bigint), as in public.f(bigint,bigint,bigint); crm.set_merge_table_rule() stores it so.';
        END IF;
        -- a warning, not an error: a restore may load this before the
        -- functions' owners are set; a merge refuses to run it meanwhile
        untrusted := crm_internal.merge_handler_untrusted(f);
        IF untrusted IS NOT NULL THEN
            RAISE WARNING 'merges will refuse to run merge handler %', f
                USING DETAIL = untrusted,
                      HINT = 'Have the data model''s owner or a superuser own the function.';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_table_rule_check() IS
    'trigger: a merge handler must name a function of (bigint, bigint, bigint); warns when its owner is not trusted (merges refuse to run it)';

-- The administrators' switches (MG-5..MG-7).
CREATE FUNCTION crm.set_merge_rule(rule text, enabled boolean) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('change merge rules');
    IF rule IS NULL OR rule NOT IN ('structure', 'sync', 'consent') THEN
        RAISE EXCEPTION 'unknown merge rule "%"', rule
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of: structure, sync, consent.';
    END IF;
    PERFORM crm_internal.write_setting('crm.merge_rule', jsonb_build_object('rule', rule, 'enabled', enabled),
                                       enabled IS NOT NULL, 'merge rule');
END
$$;
COMMENT ON FUNCTION crm.set_merge_rule(text, boolean) IS
    'administrators: switches the merge rule structure, sync or consent on (true) or off (false) for the database; null goes back to the default (on); audited';

-- What a merge does with one table that references clients.
CREATE FUNCTION crm.set_merge_table_rule(relation regclass, action text, handler regprocedure DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    handler_text text;
    untrusted text;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('change merge table rules');
    IF relation IS NULL THEN
        RAISE EXCEPTION 'relation must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT FROM crm.client_references() r WHERE r.relation = set_merge_table_rule.relation) THEN
        RAISE EXCEPTION 'table % does not reference crm.client', relation
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A merge rule is for a table with a foreign key to crm.client.',
                  HINT = 'Add the foreign key first.';
    END IF;
    IF action IS NOT NULL AND action NOT IN ('move', 'drop', 'function') THEN
        RAISE EXCEPTION 'unknown merge table action "%"', action
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of: move, drop, function (null deletes the rule).';
    END IF;
    IF action IS DISTINCT FROM 'function' AND handler IS NOT NULL THEN
        RAISE EXCEPTION 'a merge handler is only for action function'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Action %s takes no handler; %s was given.', coalesce(action, 'null'), handler);
    END IF;
    IF action = 'function' THEN
        IF handler IS NULL THEN
            RAISE EXCEPTION 'action function needs a handler'
                USING ERRCODE = 'null_value_not_allowed',
                      HINT = 'Give a function of (source_id bigint, target_id bigint, merge_id bigint).';
        END IF;
        IF crm_internal.merge_handler(handler::text) IS NULL THEN
            RAISE EXCEPTION 'merge handler % is not a function of (bigint, bigint, bigint)', handler
                USING ERRCODE = 'undefined_function',
                      HINT = 'A merge calls handler(source_id bigint, target_id bigint, merge_id bigint).';
        END IF;
        untrusted := crm_internal.merge_handler_untrusted(handler);
        IF untrusted IS NOT NULL THEN
            RAISE EXCEPTION 'permission denied to register merge handler %', handler
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = untrusted,
                      HINT = format('Have the data model''s owner (%s) or a superuser create the function, or take it over (ALTER FUNCTION ... OWNER TO %s), then register it.',
                                    crm_internal.model_owner()::regrole, crm_internal.model_owner()::regrole);
        END IF;
        -- schema-qualified whatever the search path; the merge resolves it again
        handler_text := crm_internal.merge_handler_name(handler) || '(bigint,bigint,bigint)';
    END IF;
    PERFORM crm_internal.write_setting('crm.merge_table_rule',
                                       jsonb_build_object('relation', relation, 'action', action, 'handler', handler_text),
                                       action IS NOT NULL, 'merge table rule');
END
$$;
COMMENT ON FUNCTION crm.set_merge_table_rule(regclass, text, regprocedure) IS
    'administrators: what a merge does with a table that references crm.client: move (its rows go to the target), drop (deleted, journaled) or function (handler(source_id, target_id, merge_id), owned by a superuser or the data model''s owner); action null deletes the rule; audited';
REVOKE ALL ON FUNCTION crm.set_merge_rule(text, boolean),
                       crm.set_merge_table_rule(regclass, text, regprocedure) FROM PUBLIC;

-- The fields a merge may take from a source (field_values), read from the
-- table as it is: crm.client's columns, a DBA's own added ones too, then the
-- custom fields (custom:<name>).  Not the system's fields, nor the
-- structure's (unit_id, synced: the merge rules' business).
CREATE FUNCTION crm.merge_fields() RETURNS text[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regclass('crm.client') IS NULL THEN
        RETURN '{}';
    END IF;
    RETURN ARRAY(
        SELECT f.name
        FROM (SELECT a.attname::text AS name, 1 AS part, a.attnum AS pos
              FROM pg_attribute a
              WHERE a.attrelid = 'crm.client'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                AND a.attgenerated = ''
                AND a.attname <> ALL (crm_internal.merge_system_fields() || '{unit_id,synced}'::text[])
              UNION ALL
              SELECT 'custom:' || cf.name, 2, 0 FROM crm.custom_field cf) AS f
        ORDER BY f.part, f.pos, f.name);
END
$$;
COMMENT ON FUNCTION crm.merge_fields() IS
    'the client fields whose value a merge can take from a source: crm.client''s columns (a DBA''s own too) but the system''s and the structure''s, then custom:<name> for each custom field';

-- MG-4: what a merge does with each field, one home for the merge, its
-- preview and the dedupe plan.  Empty: null, or an empty string (a display
-- name that only follows the names too).  A row per
-- field where something is to decide:
--   fill      the target's is empty, the sources that have one agree: the
--             value is taken from the first of them (kept_from);
--   conflict  two records hold different values and field_values says
--             nothing: kept_from is the target (or, the target's being
--             empty, the first source that has one);
--   chosen    field_values names the record whose value stays (kept_from).
-- client_values: every record's value, {"<client id>": value}.
CREATE FUNCTION crm_internal.merge_field_plan(target_id bigint, source_ids bigint[], field_values jsonb)
    RETURNS TABLE (field text, action text, kept_from bigint, client_values jsonb)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    ids bigint[] := target_id || source_ids;
    fields text[] := crm.merge_fields();
BEGIN
    RETURN QUERY
    WITH val AS (
        -- a display name that only follows the names counts as empty: the
        -- names are the fields, it follows them
        SELECT c.id, f.key AS field,
               CASE WHEN f.key = 'display_name' AND c.display_name IS NOT DISTINCT FROM
                         crm_internal.client_default_display_name(c.kind, c.first_name, c.last_name, c.company_name)
                    THEN 'null'::jsonb ELSE f.value END
        FROM crm.client c, jsonb_each(to_jsonb(c)) AS f
        WHERE c.id = ANY (ids) AND f.key = ANY (fields)
        UNION ALL
        SELECT c.id, 'custom:' || cf.name, coalesce(to_jsonb(v.number_value), to_jsonb(v.text_value), 'null')
        FROM crm.client c CROSS JOIN crm.custom_field cf
        LEFT JOIN crm.custom_value v ON v.client_id = c.id AND v.field_id = cf.id
        WHERE c.id = ANY (ids)
    ), marked AS (
        SELECT v.*, array_position(ids, v.id) AS pos,
               v.value IS NOT NULL AND v.value NOT IN ('null'::jsonb, '""'::jsonb) AS filled,
               (SELECT (e.value #>> '{}')::bigint FROM jsonb_each(coalesce(field_values, '{}')) AS e
                WHERE e.key = v.field OR (e.key LIKE 'custom:%' AND lower(e.key) = lower(v.field))
                LIMIT 1) AS chosen
        FROM val v
    ), per_field AS (
        SELECT m.field,
               min(m.chosen) AS chosen,
               bool_or(m.filled AND m.id = target_id) AS target_filled,
               count(DISTINCT m.value) FILTER (WHERE m.filled) AS distinct_values,
               bool_or(m.filled AND m.id <> target_id) AS source_filled,
               (array_agg(m.id ORDER BY m.pos) FILTER (WHERE m.filled))[1] AS first_filled,
               jsonb_object_agg(m.id::text, m.value ORDER BY m.pos) AS client_values,
               min(array_position(fields, m.field)) AS ord
        FROM marked m
        GROUP BY m.field
    )
    SELECT p.field,
           CASE WHEN p.chosen IS NOT NULL THEN 'chosen'
                WHEN p.distinct_values > 1 THEN 'conflict'
                ELSE 'fill' END,
           coalesce(p.chosen, CASE WHEN p.target_filled THEN target_id ELSE p.first_filled END),
           p.client_values
    FROM per_field p
    WHERE p.chosen IS NOT NULL OR p.distinct_values > 1 OR (NOT p.target_filled AND p.source_filled)
    ORDER BY p.ord, p.field;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_field_plan(bigint, bigint[], jsonb) IS
    'internal, MG-4: per field of a merge, fill (empty on the target, taken from a source), conflict (different values, no choice) or chosen, the record whose value stays, and every record''s value';
-- (executable by any role: it reads with the caller's rights, which the
-- dedupe plan's preview has)

-- The refusal of a strict merge (CR004): the one home of its words, for
-- crm.merge_clients() and crm.apply_dedupe_plan().  The DETAIL names the
-- fields and the records holding a value, not the values (server logs keep
-- DETAILs).
CREATE FUNCTION crm_internal.merge_refuse_conflicts(conflicts jsonb, what text, hint text)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    RAISE EXCEPTION 'cannot merge %: % field(s) hold different values and no choice was given', what,
                    jsonb_array_length(conflicts)
        USING ERRCODE = 'CR004',
              DETAIL = 'Fields in conflict: ' || (
                  SELECT string_agg(format('%s (clients %s)', c ->> 'field',
                                           (SELECT string_agg(k.key, ', ' ORDER BY k.key::bigint)
                                            FROM jsonb_each(coalesce(c -> 'client_values', c -> 'values')) AS k
                                            WHERE k.value NOT IN ('null'::jsonb, '""'::jsonb))),
                                    '; ' ORDER BY o.n)
                  FROM jsonb_array_elements(conflicts) WITH ORDINALITY AS o(c, n)) || '.',
              HINT = hint;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_refuse_conflicts(jsonb, text, text) IS
    'internal: raises CR004, a strict merge refused while fields hold different values without a choice';

-- The fields an undo leaves as they are: identity and the system's own.
CREATE FUNCTION crm_internal.merge_system_fields() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN ARRAY['id', 'created_at', 'source', 'updated_at', 'last_contact_at', 'hidden_at', 'hidden_reason',
             'anonymized_at'];
COMMENT ON FUNCTION crm_internal.merge_system_fields() IS
    'the client fields an undo leaves alone: the id and the fields the system keeps';

-- What a merge does with one table: the registry's rule, else the built-in
-- one (consents are not carried, MG-7; contacts follow the contacts mode).
CREATE FUNCTION crm_internal.merge_table_action(relation regclass, contacts text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        (SELECT r.action FROM crm.merge_table_rule r WHERE r.relation = merge_table_action.relation),
        CASE WHEN relation = 'crm.consent'::regclass THEN 'drop'
             WHEN relation = 'crm.contact'::regclass AND contacts = 'target' THEN 'drop'
             ELSE 'move' END);
$$;
COMMENT ON FUNCTION crm_internal.merge_table_action(regclass, text) IS
    'internal: move, drop or function, for the rows of a table in a merge';

-- The merge rules for each source into the target: one row per rule and
-- source, whether it passes, and the error that refuses it.  One home for
-- the rules: crm.merge_clients() raises the first failure, crm.merge_preview()
-- shows them all.
CREATE FUNCTION crm_internal.merge_rule_check(source_ids bigint[], target_id bigint)
    RETURNS TABLE (rule text, source_id bigint, enabled boolean, passes boolean,
                   sqlstate text, message text, detail text, hint text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    t record;
    s record;
    t_path text;
    s_path text;
    s_consents bigint;
    t_consents bigint;
    reverse_hint text;
BEGIN
    SELECT * INTO t FROM crm.client c WHERE c.id = merge_rule_check.target_id;
    SELECT count(*) INTO t_consents FROM crm.consent k
    WHERE k.client_id = t.id AND k.withdrawn_at IS NULL;
    FOR s IN SELECT c.* FROM crm.client c WHERE c.id = ANY (source_ids) ORDER BY c.id LOOP
        source_id := s.id;
        SELECT count(*) INTO s_consents FROM crm.consent k
        WHERE k.client_id = s.id AND k.withdrawn_at IS NULL;
        -- the reverse merge is the fix only if every enabled rule lets it pass
        reverse_hint := CASE WHEN
                (NOT crm_internal.merge_rule_enabled('structure')
                 OR t.unit_id IS NULL OR (s.unit_id IS NOT NULL AND crm.unit_contains(t.unit_id, s.unit_id)))
                AND (NOT crm_internal.merge_rule_enabled('sync') OR NOT (t.synced AND NOT s.synced))
                AND (NOT crm_internal.merge_rule_enabled('consent') OR NOT (t_consents > 0 AND s_consents = 0))
            THEN format('Merge client %s into client %s instead.', t.id, s.id) END;

        -- MG-5: the target's unit is the source's or lies below it (no unit: the top)
        rule := 'structure';
        enabled := crm_internal.merge_rule_enabled(rule);
        passes := s.unit_id IS NULL OR (t.unit_id IS NOT NULL AND crm.unit_contains(s.unit_id, t.unit_id));
        IF NOT passes THEN   -- the paths only for the message
            t_path := coalesce((SELECT u.path FROM crm.unit_tree u WHERE u.id = t.unit_id), 'no unit');
            s_path := coalesce((SELECT u.path FROM crm.unit_tree u WHERE u.id = s.unit_id), 'no unit');
        END IF;
        sqlstate := 'CR001';
        message := format('cannot merge client %s into client %s: the target is not in the source''s part of the structure',
                          s.id, t.id);
        detail := format('Client %s is in unit %s (%s); client %s is in unit %s (%s). A client can be merged only into a client in its own unit or below it.',
                         s.id, coalesce(s.unit_id::text, 'none'), s_path,
                         t.id, coalesce(t.unit_id::text, 'none'), t_path);
        hint := coalesce(reverse_hint, 'Move one of the clients to a unit within the other''s first.');
        RETURN NEXT;

        -- MG-6: a synchronized client does not go into an unsynchronized one
        rule := 'sync';
        enabled := crm_internal.merge_rule_enabled(rule);
        passes := NOT (s.synced AND NOT t.synced);
        sqlstate := 'CR002';
        message := format('cannot merge synchronized client %s into unsynchronized client %s', s.id, t.id);
        detail := format('Client %s is synchronized (its data is complete); client %s is not.', s.id, t.id);
        hint := coalesce(reverse_hint, format('Complete client %s''s data and mark it synchronized first.', t.id));
        RETURN NEXT;

        -- MG-7: consents are not carried, so a source with consents needs a
        -- target that has its own
        rule := 'consent';
        enabled := crm_internal.merge_rule_enabled(rule);
        passes := NOT (s_consents > 0 AND t_consents = 0);
        sqlstate := 'CR003';
        message := format('cannot merge client %s, which has consents, into client %s, which has none', s.id, t.id);
        detail := format('Client %s has %s consent(s) in force; client %s has none, and consents are not carried by a merge (their confirming documents are).',
                         s.id, s_consents, t.id);
        hint := coalesce(reverse_hint, format('Record client %s''s consents first.', t.id));
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_rule_check(bigint[], bigint) IS
    'the merge rules (structure, sync, consent) for each source into the target: enabled, passes, and the refusal''s SQLSTATE, message, detail and hint';
--------------------------------------------------------------------------
-- Merging clients: the journal, the checks, moving every linked row
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('merge', $model$
-- The journal: every merge, and every row it moved, dropped or folded.
CREATE TABLE crm.merge_log (
    id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    merged_at     timestamptz NOT NULL DEFAULT now(),
    merged_by     text NOT NULL DEFAULT crm_internal.session_role(),
    target_id     bigint NOT NULL,
    source_ids    bigint[] NOT NULL,
    sources       jsonb,
    target_before jsonb,
    target_after  jsonb,
    field_values  jsonb,
    conflicts     jsonb,
    contacts      text NOT NULL,
    undone_at     timestamptz,
    undone_by     text,
    -- set by crm.anonymize(): the copies above are gone, the merge stays done
    anonymized_at timestamptz,
    CONSTRAINT merge_log_copies CHECK (anonymized_at IS NOT NULL OR (sources IS NOT NULL AND target_before IS NOT NULL))
);
CREATE INDEX merge_log_target_id_idx ON crm.merge_log (target_id);
CREATE INDEX merge_log_source_ids_idx ON crm.merge_log USING gin (source_ids);
COMMENT ON TABLE crm.merge_log IS
    'every merge: when, who, the target, the source clients'' rows, the target before and after, the choices made; undone_at once crm.unmerge() undid it';
COMMENT ON COLUMN crm.merge_log.id IS 'the merge''s number: crm.unmerge(id) undoes it';
COMMENT ON COLUMN crm.merge_log.merged_at IS 'when the merge was made';
COMMENT ON COLUMN crm.merge_log.merged_by IS 'the session''s role that made it (session_user, or the role chosen with SET ROLE)';
COMMENT ON COLUMN crm.merge_log.target_id IS
    'the client kept: everything of the sources went to it';
COMMENT ON COLUMN crm.merge_log.source_ids IS
    'the clients merged into the target, deleted by the merge';
COMMENT ON COLUMN crm.merge_log.sources IS
    'the source clients'' rows as they were, a JSON array; null once a client of the merge was anonymized';
COMMENT ON COLUMN crm.merge_log.target_before IS
    'the target''s row before the merge, JSON; null once it was anonymized';
COMMENT ON COLUMN crm.merge_log.target_after IS
    'the target''s row after the merge, JSON; null once it was anonymized';
COMMENT ON COLUMN crm.merge_log.field_values IS
    'the fields whose value a record was named for, and those the target had empty and took from a source (MG-4): {"field" or "custom:<name>": client id}; null once a client of the merge was anonymized';
COMMENT ON COLUMN crm.merge_log.conflicts IS
    'the fields that held different values with no choice, as a merge with strict => false left them: [{"field", "kept_from", "client_values": {"<client id>": value}}]; null when none, and once a client of the merge was anonymized';
COMMENT ON COLUMN crm.merge_log.contacts IS
    'the contacts mode: union (every phone and e-mail kept) or target (only the target''s)';
COMMENT ON COLUMN crm.merge_log.undone_at IS
    'when crm.unmerge() undid the merge; null while it stands';
COMMENT ON COLUMN crm.merge_log.undone_by IS 'the role that undid it';
COMMENT ON COLUMN crm.merge_log.anonymized_at IS
    'when crm.anonymize() removed the copies of a client of this merge: it can no longer be undone';

CREATE TABLE crm.merge_log_row (
    -- a key of its own: logical replication and distributed engines need one
    id        bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    merge_id  bigint NOT NULL REFERENCES crm.merge_log (id) ON DELETE CASCADE,
    client_id bigint NOT NULL,
    relation  regclass NOT NULL,
    constraint_name name,
    action    text NOT NULL CHECK (action IN ('moved', 'dropped', 'folded', 'function')),
    row_key   jsonb,
    row_data  jsonb
);
CREATE INDEX merge_log_row_merge_id_idx ON crm.merge_log_row (merge_id, relation);
COMMENT ON TABLE crm.merge_log_row IS
    'what a merge did to each table, per client it took rows from: moved (row_key: the array of the moved rows'' primary keys; row_data: the rows themselves for a contact, or where the table has no primary key), dropped or folded (row_data: one row), function (a handler ran)';
COMMENT ON COLUMN crm.merge_log_row.id IS 'identifies the journal entry (one per table and client of a merge, or per dropped or folded row)';
COMMENT ON COLUMN crm.merge_log_row.merge_id IS 'the merge (crm.merge_log.id)';
COMMENT ON COLUMN crm.merge_log_row.client_id IS 'the client the rows belonged to before the merge';
COMMENT ON COLUMN crm.merge_log_row.relation IS 'the table the rows are in';
COMMENT ON COLUMN crm.merge_log_row.constraint_name IS
    'the foreign key by which they referenced the client (moved rows, a handler''s call)';
COMMENT ON COLUMN crm.merge_log_row.action IS
    'moved (to the target), dropped (deleted), folded (deleted: the target had the same, by a unique key) or function (a handler ran)';
COMMENT ON COLUMN crm.merge_log_row.row_key IS 'the moved rows'' primary keys, a JSON array';
COMMENT ON COLUMN crm.merge_log_row.row_data IS
    'the rows themselves, JSON: dropped and folded rows, moved contacts, moved rows of a table without a primary key; null once the client was anonymized';
$model$);

-- Checks that need no lock: arguments.  Raises.
CREATE FUNCTION crm_internal.merge_check_arguments(source_ids bigint[], target_id bigint, field_values jsonb, contacts text)
    RETURNS void
    -- STABLE: the fields are read from the catalogs (crm.merge_fields())
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    key text;
    val jsonb;
    dup bigint;
BEGIN
    IF target_id IS NULL OR source_ids IS NULL OR array_position(source_ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'client ids must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF cardinality(source_ids) = 0 THEN
        RAISE EXCEPTION 'no client to merge into client %', target_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF target_id = ANY (source_ids) THEN
        RAISE EXCEPTION 'cannot merge client % into itself', target_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s INTO dup FROM unnest(source_ids) AS s GROUP BY s HAVING count(*) > 1 LIMIT 1;
    IF dup IS NOT NULL THEN
        RAISE EXCEPTION 'client % is named twice among the clients to merge', dup
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF contacts IS NULL OR contacts NOT IN ('union', 'target') THEN
        RAISE EXCEPTION 'unrecognized contacts mode "%"', contacts
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''union'' (keep every phone and e-mail of all clients) or ''target'' (keep only the target''s).';
    END IF;
    IF field_values IS NOT NULL THEN
        IF jsonb_typeof(field_values) <> 'object' THEN
            RAISE EXCEPTION 'field_values must be a JSON object of field names and client ids'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'For example: {"city": 12, "custom:Hobby": 12}.';
        END IF;
        FOR key, val IN SELECT * FROM jsonb_each(field_values) LOOP
            IF NOT (key = ANY (crm.merge_fields()) OR key LIKE 'custom:%') THEN
                RAISE EXCEPTION 'field "%" cannot be chosen in a merge', key
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Choose among ' || array_to_string(crm.merge_fields(), ', ')
                                 || ' and custom:<field name>.';
            END IF;
            IF jsonb_typeof(val) <> 'number'
               OR NOT ((val #>> '{}')::numeric = target_id OR (val #>> '{}')::numeric = ANY (source_ids)) THEN
                RAISE EXCEPTION 'field "%" must name one of the merged clients, not %', key, val
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = format('Give %s or one of %s.', target_id, array_to_string(source_ids, ', '));
            END IF;
        END LOOP;
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_check_arguments(bigint[], bigint, jsonb, text) IS
    'internal: refuses malformed merge arguments';

-- A table as a merge reads and writes it: a plain table without its
-- inheritance children (they are tables of their own), a partitioned one whole.
CREATE FUNCTION crm_internal.relation_scan(relation regclass) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN (SELECT c.relkind FROM pg_class c WHERE c.oid = relation) = 'r'
            THEN 'ONLY ' || relation::text ELSE relation::text END;
COMMENT ON FUNCTION crm_internal.relation_scan(regclass) IS
    'internal: ONLY table for a plain table, the table for a partitioned one';

CREATE FUNCTION crm_internal.merge_refuse_removal(relation regclass, dependent regclass) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'cannot merge: rows of % that the merge would remove have rows of % depending on them',
                    relation, dependent
        USING ERRCODE = 'feature_not_supported',
              DETAIL = format('Removing them would delete or detach rows of %s by its foreign key, out of the merge''s journal.',
                              dependent),
              HINT = format('Register a rule for %s in crm.merge_table_rule (move them elsewhere in a function), or move the dependent rows first.',
                            relation);
END
$$;
COMMENT ON FUNCTION crm_internal.merge_refuse_removal(regclass, regclass) IS
    'internal: refuses a merge that would fold or drop rows other rows cascade from';

-- The SQL conditions under which a row of the source (alias t) cannot move
-- to the target (parameter $2) without breaking a unique index: one per
-- unique index (no expression, no predicate) that holds every key column.
CREATE FUNCTION crm_internal.merge_fold_conditions(relation regclass, columns name[], client_columns name[])
    RETURNS SETOF text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT format('EXISTS (SELECT FROM %s x WHERE %s%s)', relation,
                  crm_internal.client_reference_condition(columns, client_columns, 2, 'x'),
                  (SELECT coalesce(string_agg(format(' AND x.%1$I = t.%1$I', a.attname), ''), '')
                   FROM unnest(i.indkey) AS k(attnum)
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                   WHERE a.attname <> ALL (columns)))
    FROM pg_index i
    WHERE i.indrelid = relation AND i.indisunique AND i.indpred IS NULL
      AND 0 <> ALL (i.indkey::int2[])
      AND (SELECT array_agg(a.attname) FROM unnest(i.indkey) AS k(attnum)
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) @> columns;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_fold_conditions(regclass, name[], name[]) IS
    'internal: SQL conditions under which a source''s row (alias t) would break a unique index if moved to the target ($2)';

-- Journal, then move, drop or fold the rows of one table from a source to
-- the target.  A row whose move would break a unique index that holds the
-- foreign key (the same segment twice, the same phone twice) is folded into
-- the target's row: the source's row is journaled and removed.
CREATE FUNCTION crm_internal.merge_table(merge_id bigint, relation regclass, constraint_name name,
                                columns name[], client_columns name[],
                                source_id bigint, target_id bigint, contacts text)
    RETURNS void
    LANGUAGE plpgsql
    -- keys may use crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    of_source text := crm_internal.client_reference_condition(columns, client_columns, 1);
    action text := crm_internal.merge_table_action(relation, contacts);
    -- a plain table's inheritance children are their own tables
    scan text := crm_internal.relation_scan(relation);
    pk_cols name[];
    row_key text;
    clash text;
    assign text;
    dependent regclass;
    clashes boolean;
    handler_text text;
    handler regprocedure;
    handler_call text;
    untrusted text;
BEGIN
    IF action = 'function' THEN
        -- resolved and checked again now: the function named when the rule
        -- was set may have been dropped, replaced or handed to another owner
        SELECT r.handler INTO handler_text FROM crm.merge_table_rule r WHERE r.relation = merge_table.relation;
        handler := crm_internal.merge_handler(handler_text);
        IF handler IS NULL THEN
            RAISE EXCEPTION 'cannot merge: merge handler % for table % does not exist', handler_text, relation
                USING ERRCODE = 'undefined_function',
                      DETAIL = 'The rule calls a function of (source_id bigint, target_id bigint, merge_id bigint); no such function exists now.',
                      HINT = 'Create the function again, or change the rule with crm.set_merge_table_rule().';
        END IF;
        untrusted := crm_internal.merge_handler_untrusted(handler);
        IF untrusted IS NOT NULL THEN
            RAISE EXCEPTION 'permission denied to run merge handler % for table %', handler, relation
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = untrusted,
                      HINT = format('Have the data model''s owner (%s) or a superuser own the function, or change the rule with crm.set_merge_table_rule().',
                                    crm_internal.model_owner()::regrole);
        END IF;
        -- by its schema-qualified name: the arguments' types (bigint) pick
        -- exactly this function
        handler_call := format('SELECT %s($1, $2, $3)', crm_internal.merge_handler_name(handler));
        EXECUTE handler_call USING source_id, target_id, merge_id;
        INSERT INTO crm.merge_log_row (merge_id, client_id, relation, constraint_name, action)
        VALUES (merge_id, source_id, relation, constraint_name, 'function');
        RETURN;
    END IF;

    -- a key to columns other than the id must find them on the target
    IF client_columns <> '{id}' AND EXISTS (
           SELECT FROM crm.client c, LATERAL jsonb_each(to_jsonb(c)) AS f(col, val)
           WHERE c.id = target_id AND f.col = ANY (client_columns) AND f.val = 'null') THEN
        RAISE EXCEPTION 'cannot merge into client %: % references its % and the target has none',
                        target_id, crm_internal.relation_name(relation), array_to_string(client_columns, ', ')
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Give the target values for those fields first, or move those rows by hand.';
    END IF;

    -- removing rows (drop, fold) must not take other rows with them unseen
    SELECT con.conrelid::regclass INTO dependent FROM pg_constraint con
    WHERE con.contype = 'f' AND con.confrelid = relation AND con.confdeltype IN ('c', 'n', 'd')
    LIMIT 1;

    IF action = 'drop' THEN
        IF dependent IS NOT NULL THEN
            PERFORM crm_internal.merge_refuse_removal(relation, dependent);
        END IF;
        EXECUTE format('WITH gone AS (DELETE FROM %s t WHERE %s RETURNING t.*)
                        INSERT INTO crm.merge_log_row (merge_id, client_id, relation, action, row_data)
                        SELECT $2, $1, %L, ''dropped'', to_jsonb(t) FROM gone t',
                       scan, of_source, relation)
            USING source_id, merge_id;
        RETURN;
    END IF;

    -- fold: rows that would break a unique index holding the key; journaled
    -- in the statement that removes them
    FOR clash IN SELECT * FROM crm_internal.merge_fold_conditions(relation, columns, client_columns) LOOP
        IF dependent IS NOT NULL THEN
            EXECUTE format('SELECT EXISTS (SELECT FROM %s t WHERE %s AND %s)', scan, of_source, clash)
                INTO clashes USING source_id, target_id;
            IF clashes THEN
                PERFORM crm_internal.merge_refuse_removal(relation, dependent);
            END IF;
        END IF;
        EXECUTE format('WITH gone AS (DELETE FROM %s t WHERE %s AND %s RETURNING t.*)
                        INSERT INTO crm.merge_log_row (merge_id, client_id, relation, action, row_data)
                        SELECT $3, $1, %L, ''folded'', to_jsonb(t) FROM gone t',
                       scan, of_source, clash, relation)
            USING source_id, target_id, merge_id;
    END LOOP;

    -- move, journaling each row by its primary key; a table without one
    -- journals whole rows (such a merge cannot be undone automatically)
    SELECT array_agg(a.attname ORDER BY k.n) INTO pk_cols
    FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
    JOIN pg_attribute a ON a.attnum = k.attnum
    WHERE i.indrelid = relation AND i.indisprimary AND a.attrelid = relation;
    -- one journal row per table: the moved rows' keys (rows where there is no key)
    row_key := CASE WHEN pk_cols IS NULL THEN 'NULL'
                    ELSE format('jsonb_agg(jsonb_build_object(%s))',
                                (SELECT string_agg(format('%L, t.%I', c, c), ', ') FROM unnest(pk_cols) AS c)) END;
    assign := CASE WHEN client_columns = '{id}' THEN format('%I = $2', columns[1])
                   ELSE format('(%s) = (SELECT %s FROM crm.client c WHERE c.id = $2)',
                               (SELECT string_agg(format('%I', c), ', ') FROM unnest(columns) AS c),
                               (SELECT string_agg(format('c.%I', c), ', ') FROM unnest(client_columns) AS c)) END;
    -- MG-9: invoices moved to the target can be regenerated with its data
    IF relation = 'crm.invoice'::regclass THEN
        assign := assign || ', needs_refresh = true';
    END IF;
    IF relation = 'crm.contact'::regclass THEN
        -- a moved contact may lose its default flag (the target's stays):
        -- journal the row as it was, then move
        EXECUTE format('INSERT INTO crm.merge_log_row (merge_id, client_id, relation, constraint_name, action, row_key, row_data)
                        SELECT $2, $1, %L, %L, ''moved'', %s, jsonb_agg(to_jsonb(t)) FROM %s t WHERE %s HAVING count(*) > 0',
                       relation, constraint_name, row_key, scan, of_source)
            USING source_id, merge_id;
        EXECUTE format('UPDATE %s t SET %s WHERE %s', scan, assign, of_source)
            USING source_id, target_id;
    ELSE
        EXECUTE format('WITH moved AS (UPDATE %s t SET %s WHERE %s RETURNING %s)
                        INSERT INTO crm.merge_log_row (merge_id, client_id, relation, constraint_name, action, row_key, row_data)
                        SELECT $3, $1, %L, %L, ''moved'', %s, %s FROM moved t HAVING count(*) > 0',
                       scan, assign, of_source,
                       CASE WHEN pk_cols IS NULL THEN 't.*'
                            ELSE (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(pk_cols) AS c) END,
                       relation, constraint_name, row_key,
                       CASE WHEN pk_cols IS NULL THEN 'jsonb_agg(to_jsonb(t))' ELSE 'NULL' END)
            USING source_id, target_id, merge_id;
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_table(bigint, regclass, name, name[], name[], bigint, bigint, text) IS
    'internal: moves, folds or drops the rows of one table from a source client to the target, journaling them';

-- Lock the clients of a merge, in id order, so that concurrent merges never
-- deadlock (FOR UPDATE: writers of their contacts, which lock the client's
-- row FOR NO KEY UPDATE, wait too).  Raises for a missing or hidden client.
CREATE FUNCTION crm_internal.merge_lock_clients(ids bigint[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    missing bigint;
    merged record;
    hidden record;
BEGIN
    PERFORM FROM crm.client c WHERE c.id = ANY (ids) ORDER BY c.id FOR UPDATE;
    SELECT min(u.id) INTO missing FROM unnest(ids) AS u(id)
    WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = u.id);
    IF missing IS NOT NULL THEN
        SELECT * INTO merged FROM crm.merge_log m
        WHERE m.source_ids @> ARRAY[missing] AND m.undone_at IS NULL
        ORDER BY m.id DESC LIMIT 1;
        RAISE EXCEPTION 'client % does not exist', missing
            USING ERRCODE = 'no_data_found',
                  HINT = CASE WHEN merged.id IS NOT NULL
                              THEN format('It was merged into client %s (merge %s).', merged.target_id, merged.id)
                              ELSE 'Check the client id.' END;
    END IF;
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at) FROM crm.client c WHERE c.id = ANY (ids) ORDER BY c.id;
    SELECT * INTO hidden FROM crm.client c WHERE c.id = ANY (ids) AND c.hidden_at IS NOT NULL ORDER BY c.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'client % is hidden', hidden.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It was hidden at %s%s.', hidden.hidden_at,
                                  coalesce(format(' (%s)', hidden.hidden_reason), '')),
                  HINT = format('Unhide it with crm.unhide_client(%s) first.', hidden.id);
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_lock_clients(bigint[]) IS
    'internal: locks the clients of a merge in id order; refuses missing and hidden ones';

-- SECURITY DEFINER: a merge moves every row of the clients, rows of
-- tables the caller may not write too (the journal, a business record it
-- may add but not delete), and journals them where no one else writes, so
-- that crm.unmerge() can trust the journal.  It checks first that the
-- session's role reaches every client (AC-3); it writes only tables whose
-- code (triggers) is trusted roles' (crm_internal.untrusted_code()).
CREATE FUNCTION crm.merge_clients(source_ids bigint[], target_id bigint, field_values jsonb DEFAULT NULL,
                                  contacts text DEFAULT 'union', strict boolean DEFAULT false)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    merge_id bigint;
    failure record;
    ref record;
    src bigint;
    key text;
    val jsonb;
    field record;
    picked_from bigint;
    picked text;
    left_behind text;
    plan jsonb;
    conflicts jsonb;
    taken jsonb;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_supervisor('merge clients');
    PERFORM crm_internal.merge_check_arguments(source_ids, target_id, field_values, contacts);
    PERFORM crm_internal.require_reach(target_id || source_ids, 'merge');
    PERFORM crm_internal.merge_lock_clients(target_id || source_ids);
    -- the units checked before the locks: again under them
    PERFORM crm_internal.require_reach(target_id || source_ids, 'merge');
    -- a merge creates no new client: the duplicate check on save stays out
    PERFORM set_config('crm_merge.in_progress', 'on', true);

    SELECT * INTO failure FROM crm_internal.merge_rule_check(source_ids, target_id) r
    WHERE r.enabled AND NOT r.passes
    ORDER BY array_position(ARRAY['structure', 'sync', 'consent'], r.rule), r.source_id
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = failure.sqlstate, MESSAGE = failure.message,
                              DETAIL = failure.detail, HINT = failure.hint;
    END IF;

    -- MG-4: no value dropped silently.  A field empty on the target takes a
    -- source's value (fill); different values without a choice (conflict)
    -- refuse a strict merge, and otherwise keep the target's, said and
    -- journaled
    SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]') INTO plan
    FROM crm_internal.merge_field_plan(target_id, source_ids, field_values) p;
    SELECT coalesce(jsonb_agg(p ORDER BY o.n), '[]') INTO conflicts
    FROM jsonb_array_elements(plan) WITH ORDINALITY AS o(p, n) WHERE p ->> 'action' = 'conflict';
    IF jsonb_array_length(conflicts) > 0 THEN
        IF strict THEN
            PERFORM crm_internal.merge_refuse_conflicts(conflicts,
                format('client%s %s into client %s', CASE WHEN cardinality(source_ids) > 1 THEN 's' ELSE '' END,
                       array_to_string(source_ids, ', '), target_id),
                format('Name the record whose value stays for each field in field_values, for example {"%s": %s}; crm.merge_preview(%L, %s) shows the values.  Or merge with strict => false to keep the target''s value of each (journaled in crm.merge_log.conflicts).',
                       conflicts -> 0 ->> 'field', target_id, source_ids::text, target_id));
        END IF;
        RAISE NOTICE 'merging into client %: % field(s) held different values; the target''s value stays', target_id,
                     jsonb_array_length(conflicts)
            USING DETAIL = 'Kept without a choice: ' || (SELECT string_agg(c ->> 'field', ', ') FROM jsonb_array_elements(conflicts) c) || '.',
                  HINT = 'crm.merge_log.conflicts holds every value; name the record to keep in field_values, or use strict => true to be refused instead.';
    END IF;
    -- the values taken from a source: chosen, and filled (the target's
    -- empty); custom fields move with their rows (crm.custom_value)
    taken := coalesce(field_values, '{}') || coalesce((
        SELECT jsonb_object_agg(p ->> 'field', p -> 'kept_from')
        FROM jsonb_array_elements(plan) p
        WHERE p ->> 'action' IN ('fill', 'conflict') AND (p ->> 'kept_from')::bigint <> target_id), '{}');

    INSERT INTO crm.merge_log (merged_by, target_id, source_ids, sources, target_before, field_values, conflicts, contacts)
    SELECT crm_internal.session_role(), merge_clients.target_id, merge_clients.source_ids,
           (SELECT jsonb_agg(to_jsonb(c) ORDER BY c.id) FROM crm.client c WHERE c.id = ANY (merge_clients.source_ids)),
           (SELECT to_jsonb(c) FROM crm.client c WHERE c.id = merge_clients.target_id),
           nullif(taken, '{}'), nullif(conflicts, '[]'), merge_clients.contacts
    RETURNING id INTO merge_id;

    -- a custom field taken from a source: the target's own value steps aside
    -- (journaled), so the source's moves in
    FOR key, val IN SELECT * FROM jsonb_each(coalesce(field_values, '{}')) WHERE jsonb_each.key LIKE 'custom:%' LOOP
        picked_from := (val #>> '{}')::bigint;
        SELECT * INTO field FROM crm.custom_field f WHERE lower(f.name) = lower(substr(key, 8));
        IF NOT FOUND THEN
            RAISE EXCEPTION 'custom field "%" does not exist', substr(key, 8) USING ERRCODE = 'undefined_object';
        END IF;
        IF picked_from <> target_id AND EXISTS (SELECT FROM crm.custom_value v
                                               WHERE v.client_id = picked_from AND v.field_id = field.id) THEN
            INSERT INTO crm.merge_log_row (merge_id, client_id, relation, action, row_data)
            SELECT merge_id, v.client_id, 'crm.custom_value'::regclass, 'dropped', to_jsonb(v)
            FROM crm.custom_value v WHERE v.client_id = target_id AND v.field_id = field.id;
            DELETE FROM crm.custom_value v WHERE v.client_id = target_id AND v.field_id = field.id;
            -- and the other sources' values of the field are folded
            INSERT INTO crm.merge_log_row (merge_id, client_id, relation, action, row_data)
            SELECT merge_id, v.client_id, 'crm.custom_value'::regclass, 'folded', to_jsonb(v)
            FROM crm.custom_value v
            WHERE v.field_id = field.id AND v.client_id = ANY (source_ids) AND v.client_id <> picked_from;
            DELETE FROM crm.custom_value v
            WHERE v.field_id = field.id AND v.client_id = ANY (source_ids) AND v.client_id <> picked_from;
        END IF;
    END LOOP;

    -- every row of every table that references a source moves to the target;
    -- rows crm's owner cannot see (a table that forces row-level security on
    -- its owner) would be left behind, so such a table stops it
    FOREACH src IN ARRAY source_ids LOOP
        FOR ref IN SELECT * FROM crm.client_links(src) l WHERE l.row_count IS DISTINCT FROM 0 LOOP
            IF ref.row_count IS NULL OR row_security_active(ref.relation) THEN
                RAISE EXCEPTION 'cannot merge client %: % may hold rows of it that crm cannot see', src,
                                crm_internal.relation_name(ref.relation)
                    USING ERRCODE = 'insufficient_privilege',
                          DETAIL = CASE WHEN ref.row_count IS NULL THEN 'crm''s owner may not read that table.'
                                        ELSE 'Row-level security applies to crm''s owner on that table (FORCE ROW LEVEL SECURITY).' END,
                          HINT = 'Grant crm''s owner SELECT and UPDATE on the table, or do not force row-level security on it.';
            END IF;
            PERFORM crm_internal.require_trusted_table(ref.relation, format('merge client %s', src));
            PERFORM crm_internal.merge_table(merge_id, ref.relation, ref.constraint_name, ref.columns,
                                    ref.client_columns, src, target_id, contacts);
        END LOOP;
        -- nothing may be left (a trigger may have added rows meanwhile)
        SELECT string_agg(format('%s in %s', l.row_count, crm_internal.relation_name(l.relation)), ', ')
        INTO left_behind FROM crm.client_links(src) l WHERE l.row_count > 0;
        IF left_behind IS NOT NULL THEN
            RAISE EXCEPTION 'cannot merge client %: rows of it were added during the merge', src
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('Still linked: %s.', left_behind),
                      HINT = 'Merge again; if triggers of yours add rows for the merged client, register a rule for their table in crm.merge_table_rule.';
        END IF;
    END LOOP;

    -- the sources go; everything linked to them was moved and checked above,
    -- so their delete trigger need not count it all again
    FOREACH src IN ARRAY source_ids LOOP
        PERFORM set_config('crm_merge.source_id', src::text, true);
        DELETE FROM crm.client c WHERE c.id = src;
    END LOOP;
    PERFORM set_config('crm_merge.source_id', '', true);
    -- the field values chosen or filled from a source (MG-4), in one update
    -- (a kind and the name it needs go together), after the sources are gone
    -- (a DBA's unique column takes the value the source held); the others
    -- stay the target's
    SELECT string_agg(format('%1$I = (jsonb_populate_record(NULL::crm.client, $1 -> %2$L)).%1$I', e.key, e.value #>> '{}'), ', ')
    INTO picked
    FROM jsonb_each(taken) AS e
    WHERE e.key NOT LIKE 'custom:%' AND (e.value #>> '{}')::bigint <> target_id;
    IF picked IS NOT NULL THEN
        EXECUTE format('UPDATE crm.client c SET %s WHERE c.id = $2', picked)
            USING (SELECT jsonb_object_agg(s ->> 'id', s)
                   FROM jsonb_array_elements((SELECT m.sources FROM crm.merge_log m WHERE m.id = merge_id)) AS s),
                  target_id;
    END IF;

    UPDATE crm.merge_log m SET target_after = (SELECT to_jsonb(c) FROM crm.client c WHERE c.id = target_id)
    WHERE m.id = merge_id;
    PERFORM crm_internal.audit('merge', target_id, jsonb_build_object(
        'merge_id', merge_id, 'source_ids', to_jsonb(source_ids),
        'rows', (SELECT coalesce(jsonb_object_agg(x.relation, x.n), '{}')
                 FROM (SELECT crm_internal.relation_name(r.relation) AS relation,
                              sum(CASE WHEN r.action = 'moved' THEN jsonb_array_length(coalesce(r.row_key, r.row_data)) ELSE 1 END) AS n
                       FROM crm.merge_log_row r WHERE r.merge_id = merge_id
                       GROUP BY r.relation) AS x)));
    PERFORM set_config('crm_merge.in_progress', '', true);
    RETURN merge_id;
END
$$;
COMMENT ON FUNCTION crm.merge_clients(bigint[], bigint, jsonb, text, boolean) IS
    'merges several source clients into the target, all or nothing: every linked row moves (user tables too), rules checked, fields empty on the target filled from a source, fields in conflict kept (strict: refused, CR004), everything journaled; returns the merge id';

CREATE FUNCTION crm.merge_client(source_id bigint, target_id bigint, field_values jsonb DEFAULT NULL,
                                 contacts text DEFAULT 'union', strict boolean DEFAULT false)
    RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
RETURN crm.merge_clients(ARRAY[source_id], target_id, field_values, contacts, strict);
COMMENT ON FUNCTION crm.merge_client(bigint, bigint, jsonb, text, boolean) IS
    'merges the source ("incorrect") client into the target ("correct") one; returns the merge id in crm.merge_log';

-- SECURITY DEFINER like the merge it previews, so that it counts what the
-- merge would move; the caller must reach every client first.
CREATE FUNCTION crm.merge_preview(source_ids bigint[], target_id bigint) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    ids bigint[] := target_id || source_ids;
    problems jsonb := '[]';
    tables jsonb := '[]';
    warnings jsonb := '[]';
    fields jsonb := '[]';
    ref record;
    src bigint;
    moving bigint;
    folding bigint;
    n bigint;
    clash text;
    indexed boolean;
    f text;
    vals jsonb;
    rules jsonb;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_supervisor('preview merges');
    PERFORM crm_internal.require_reach(array_remove(ids, NULL), 'preview a merge of');
    BEGIN
        PERFORM crm_internal.merge_check_arguments(source_ids, target_id, NULL, 'union');
    EXCEPTION WHEN OTHERS THEN
        problems := problems || jsonb_build_object('sqlstate', SQLSTATE, 'message', SQLERRM);
    END;
    problems := problems || coalesce((
        SELECT jsonb_agg(jsonb_build_object('sqlstate', 'P0002', 'message', format('client %s does not exist', u.id)))
        FROM unnest(ids) AS u(id)
        WHERE u.id IS NOT NULL AND NOT EXISTS (SELECT FROM crm.client c WHERE c.id = u.id)), '[]');
    problems := problems || coalesce((
        SELECT jsonb_agg(jsonb_build_object('sqlstate', '55000', 'message', format('client %s is hidden', c.id)))
        FROM crm.client c WHERE c.id = ANY (ids) AND c.hidden_at IS NOT NULL), '[]');
    problems := problems || coalesce((
        SELECT jsonb_agg(jsonb_build_object('sqlstate', '55000', 'message', format('client %s is anonymized', c.id)))
        FROM crm.client c WHERE c.id = ANY (ids) AND c.anonymized_at IS NOT NULL), '[]');

    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'rule', r.rule, 'source_id', r.source_id, 'enabled', r.enabled, 'passes', r.passes)
               || CASE WHEN r.passes THEN '{}'::jsonb
                       ELSE jsonb_build_object('sqlstate', r.sqlstate, 'message', r.message,
                                               'detail', r.detail, 'hint', r.hint) END
               ORDER BY r.source_id, r.rule), '[]')
    INTO rules
    FROM crm_internal.merge_rule_check(source_ids, target_id) r;

    -- what happens to each table's rows (the counts of crm.client_links,
    -- with crm's rights, as the merge will move them)
    FOR ref IN SELECT * FROM crm.client_references() LOOP
        moving := 0;
        folding := 0;
        FOREACH src IN ARRAY coalesce(source_ids, '{}') LOOP
            SELECT l.row_count INTO n FROM crm.client_links(src) l
            WHERE l.relation = ref.relation AND l.constraint_name = ref.constraint_name;
            IF n IS NULL THEN
                IF EXISTS (SELECT FROM crm.client c WHERE c.id = src) THEN
                    problems := problems || jsonb_build_object('sqlstate', '42501', 'message',
                        format('%s may hold rows of client %s that crm cannot see', crm_internal.relation_name(ref.relation), src));
                END IF;
                CONTINUE;
            END IF;
            IF n > 0 AND row_security_active(ref.relation) THEN
                problems := problems || jsonb_build_object('sqlstate', '42501', 'message',
                    format('row-level security on %s may hide rows of client %s from crm', crm_internal.relation_name(ref.relation), src));
            END IF;
            IF n > 0 AND crm_internal.untrusted_code(ref.relation) IS NOT NULL THEN
                problems := problems || jsonb_build_object('sqlstate', '42501', 'message',
                    format('crm does not write table %s with its owner''s rights: %s', crm_internal.relation_name(ref.relation),
                           crm_internal.untrusted_code(ref.relation)));
            END IF;
            moving := moving + n;
            CONTINUE WHEN n = 0;
            FOR clash IN SELECT * FROM crm_internal.merge_fold_conditions(ref.relation, ref.columns, ref.client_columns) LOOP
                EXECUTE format('SELECT count(*) FROM %s t WHERE %s AND %s', crm_internal.relation_scan(ref.relation),
                               crm_internal.client_reference_condition(ref.columns, ref.client_columns, 1), clash)
                    INTO n USING src, target_id;
                folding := folding + n;
            END LOOP;
        END LOOP;
        IF moving > 0 AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = ref.relation AND i.indisprimary) THEN
            warnings := warnings || to_jsonb(format(
                'table %s has no primary key: its rows will move, but the merge cannot be undone',
                crm_internal.relation_name(ref.relation)));
        END IF;
        indexed := EXISTS (SELECT FROM pg_index i WHERE i.indrelid = ref.relation
                           AND (SELECT array_agg(a.attname ORDER BY k.n)
                                FROM unnest(i.indkey[0:cardinality(ref.columns) - 1]) WITH ORDINALITY AS k(attnum, n)
                                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
                               @> ref.columns);
        IF NOT indexed THEN
            warnings := warnings || to_jsonb(format(
                'table %s has no index on (%s): merging a client reads the whole table; create one',
                crm_internal.relation_name(ref.relation), array_to_string(ref.columns, ', ')));
        END IF;
        IF moving > 0 THEN
            tables := tables || jsonb_build_object(
                'table', crm_internal.relation_name(ref.relation), 'constraint', ref.constraint_name,
                'action', crm_internal.merge_table_action(ref.relation, 'union'),
                'action_if_contacts_target', crm_internal.merge_table_action(ref.relation, 'target'),
                'rows', moving, 'fold_into_target', folding);
        END IF;
    END LOOP;

    -- the fields whose values differ between the records, with each one's value
    FOREACH f IN ARRAY crm.merge_fields() LOOP
        SELECT jsonb_object_agg(c.id::text, to_jsonb(c) -> f ORDER BY c.id) INTO vals
        FROM crm.client c WHERE c.id = ANY (ids);
        IF (SELECT count(DISTINCT v) FROM jsonb_each(coalesce(vals, '{}')) AS e(k, v)) > 1 THEN
            fields := fields || jsonb_build_object('field', f, 'values', vals);
        END IF;
    END LOOP;
    FOR f, vals IN
        SELECT 'custom:' || cf.name,
               jsonb_object_agg(c.id::text, coalesce(to_jsonb(v.number_value), to_jsonb(v.text_value)) ORDER BY c.id)
        FROM crm.custom_field cf CROSS JOIN crm.client c
        LEFT JOIN crm.custom_value v ON v.field_id = cf.id AND v.client_id = c.id
        WHERE c.id = ANY (ids)
        GROUP BY cf.id, cf.name
        HAVING count(DISTINCT coalesce(v.number_value::text, v.text_value)) + max(CASE WHEN v.client_id IS NULL THEN 1 ELSE 0 END) > 1
        ORDER BY cf.name
    LOOP
        fields := fields || jsonb_build_object('field', f, 'values', vals);
    END LOOP;

    RETURN jsonb_build_object(
        'target_id', target_id,
        'source_ids', to_jsonb(source_ids),
        'can_merge', jsonb_array_length(problems) = 0
                     AND NOT EXISTS (SELECT FROM jsonb_array_elements(rules) r
                                     WHERE (r ->> 'enabled')::boolean AND NOT (r ->> 'passes')::boolean),
        'problems', problems,
        'rules', rules,
        'tables', tables,
        'fields', fields,
        -- MG-4: what the merge would fill, and what it cannot decide alone
        'fills', (SELECT coalesce(jsonb_agg(jsonb_build_object('field', p.field, 'from', p.kept_from,
                                                               'value', p.client_values -> p.kept_from::text)), '[]')
                  FROM crm_internal.merge_field_plan(target_id, source_ids, NULL) p
                  WHERE p.action = 'fill' AND target_id IS NOT NULL AND source_ids IS NOT NULL),
        'conflicts', (SELECT coalesce(jsonb_agg(jsonb_build_object('field', p.field, 'values', p.client_values)), '[]')
                      FROM crm_internal.merge_field_plan(target_id, source_ids, NULL) p
                      WHERE p.action = 'conflict' AND target_id IS NOT NULL AND source_ids IS NOT NULL),
        'contacts', jsonb_build_object(
            'union', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'kind', k.kind, 'value', k.value, 'clients', k.clients,
                                'default', k.target_default) ORDER BY k.kind, k.value), '[]')
                      FROM (SELECT c.kind, c.value, jsonb_agg(c.client_id ORDER BY c.client_id) AS clients,
                                   bool_or(c.is_default AND c.client_id = merge_preview.target_id) AS target_default
                            FROM crm.contact c WHERE c.client_id = ANY (ids)
                            GROUP BY c.kind, c.value) AS k),
            'target_drops', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                       'client_id', c.client_id, 'kind', c.kind, 'value', c.value)
                                       ORDER BY c.client_id, c.kind, c.value), '[]')
                             FROM crm.contact c WHERE c.client_id = ANY (source_ids)
                               AND NOT EXISTS (SELECT FROM crm.contact t
                                               WHERE t.client_id = merge_preview.target_id
                                                 AND t.kind = c.kind AND t.value = c.value))),
        'warnings', warnings);
END
$$;
COMMENT ON FUNCTION crm.merge_preview(bigint[], bigint) IS
    'what merging the sources into the target would do, before anything happens: problems, rules, rows per table (moved, folded, dropped), differing fields, fills and conflicts (MG-4), contacts kept or dropped, warnings';

REVOKE ALL ON FUNCTION crm.merge_clients(bigint[], bigint, jsonb, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.merge_client(bigint, bigint, jsonb, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.merge_preview(bigint[], bigint) FROM PUBLIC;
--------------------------------------------------------------------------
-- Undoing a merge
--------------------------------------------------------------------------

-- SQL matching a moved row's journal entry (alias e: its key, or the row
-- where the table has no primary key) to the row t: by the primary key, less
-- the key columns the move changed (a key of only those leaves the target's
-- one row), or by its contents.
CREATE FUNCTION crm_internal.merge_row_match(relation regclass, columns name[]) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT CASE
        WHEN pk.n = 0 THEN
            format('to_jsonb(t) - %L::text[] = e.item - %L::text[]', columns, columns)
        WHEN pk.cols IS NULL THEN 'true'
        ELSE format('(%s) = (SELECT %s FROM jsonb_populate_record(NULL::%s, e.item) k)',
                    (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(pk.cols) AS c),
                    (SELECT string_agg(format('k.%I', c), ', ') FROM unnest(pk.cols) AS c),
                    relation) END
    FROM (SELECT count(*) AS n,
                 array_agg(a.attname ORDER BY k.n) FILTER (WHERE a.attname <> ALL (columns)) AS cols
          FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attnum = k.attnum
          WHERE i.indrelid = relation AND i.indisprimary AND a.attrelid = relation) AS pk;
END;
COMMENT ON FUNCTION crm_internal.merge_row_match(regclass, name[]) IS
    'internal: SQL text matching a journaled moved row (alias e) to its row in the table (alias t)';

-- SECURITY DEFINER, like the merge: the journal it reads is written only
-- by crm.merge_clients() (no other role may write crm.merge_log or
-- crm.merge_log_row), and it still acts only on tables that reference
-- crm.client and whose code is trusted roles'.  The session's role must
-- reach the merge's clients.
CREATE FUNCTION crm.unmerge(merge_id bigint) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    m record;
    caller text := crm_internal.session_role();
    scoped boolean;
    units bigint[];
    journaled boolean;
    later record;
    grp record;
    ref record;
    found_rows bigint;
    field text;
    cols text;
    r_cols text;
BEGIN
    PERFORM crm_internal.require_data_model();
    -- an undo brings back records the check on save knew: it stays out
    PERFORM set_config('crm_merge.in_progress', 'on', true);
    PERFORM crm_internal.require_supervisor('undo merges');
    scoped := NOT crm_internal.sees_all(caller);
    units := crm_internal.scope_units(caller);
    -- AC-3: a merge whose clients the caller does not reach gets the same
    -- answer as one that does not exist; checked before the lock, so that a
    -- refused caller never waits on another's undo of it
    SELECT * INTO m FROM crm.merge_log l WHERE l.id = unmerge.merge_id;
    journaled := FOUND;
    IF scoped AND (NOT journaled
                   OR NOT EXISTS (SELECT FROM crm.client c WHERE c.id = m.target_id AND c.unit_id = ANY (units))
                   OR EXISTS (SELECT FROM jsonb_array_elements(m.sources) AS s
                              WHERE NOT coalesce((s ->> 'unit_id')::bigint = ANY (units), false))) THEN
        PERFORM crm_internal.refuse_out_of_reach(format('undo merge %s', merge_id),
                                                 'this merge does not exist or its clients lie outside them');
    END IF;
    SELECT * INTO m FROM crm.merge_log l WHERE l.id = unmerge.merge_id FOR UPDATE;
    journaled := FOUND;
    IF NOT journaled THEN
        RAISE EXCEPTION 'merge % does not exist', merge_id USING ERRCODE = 'no_data_found';
    END IF;
    IF m.anonymized_at IS NOT NULL THEN
        RAISE EXCEPTION 'merge % cannot be undone', merge_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('A client of it was anonymized at %s: the copies an undo needs are gone for good.',
                                  m.anonymized_at);
    END IF;
    IF m.undone_at IS NOT NULL THEN
        RAISE EXCEPTION 'merge % was already undone', merge_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('%s undid it at %s.', m.undone_by, m.undone_at);
    END IF;
    IF EXISTS (SELECT FROM crm.merge_log_row r WHERE r.merge_id = m.id AND r.action = 'function') THEN
        RAISE EXCEPTION 'merge % cannot be undone', m.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Merge handlers ran for %s; what they did is theirs to undo.',
                                  (SELECT string_agg(DISTINCT crm_internal.relation_name(r.relation), ', ') FROM crm.merge_log_row r
                                   WHERE r.merge_id = m.id AND r.action = 'function'));
    END IF;

    IF EXISTS (SELECT FROM crm.merge_log_row r
               WHERE r.merge_id = m.id AND r.action = 'moved' AND r.row_key IS NULL) THEN
        RAISE EXCEPTION 'merge % cannot be undone', m.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It moved rows of %s, which has no primary key to find them by.',
                                  (SELECT string_agg(DISTINCT crm_internal.relation_name(r.relation), ', ') FROM crm.merge_log_row r
                                   WHERE r.merge_id = m.id AND r.action = 'moved' AND r.row_key IS NULL));
    END IF;
    -- the target locked first (a merge into it holds it until it commits):
    -- a merge into it committed while this undo waited is seen below
    PERFORM FROM crm.client c WHERE c.id = m.target_id FOR UPDATE;
    -- later merges into the same target may have folded into what this one
    -- brought: they are undone first, last first
    SELECT * INTO later FROM crm.merge_log l
    WHERE l.target_id = m.target_id AND l.id > m.id AND l.undone_at IS NULL
    ORDER BY l.id DESC LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cannot undo merge %: merge % merged into client % since', m.id, later.id, m.target_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Undo merge %s first.', later.id);
    END IF;

    PERFORM FROM crm.client c WHERE c.id = m.target_id;
    IF NOT FOUND THEN
        SELECT * INTO later FROM crm.merge_log l
        WHERE l.source_ids @> ARRAY[m.target_id] AND l.undone_at IS NULL AND l.id > m.id
        ORDER BY l.id DESC LIMIT 1;
        RAISE EXCEPTION 'cannot undo merge %: client % no longer exists', m.id, m.target_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = CASE WHEN later.id IS NOT NULL
                              THEN format('Merge %s merged it into client %s since: undo merge %s first.',
                                          later.id, later.target_id, later.id)
                              ELSE 'It was deleted since; the merge cannot be undone.' END;
    END IF;
    IF EXISTS (SELECT FROM crm.client c WHERE c.id = ANY (m.source_ids)) THEN
        RAISE EXCEPTION 'cannot undo merge %: client % exists again', m.id,
                        (SELECT min(c.id) FROM crm.client c WHERE c.id = ANY (m.source_ids))
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    -- the fields the merge changed (chosen, or derived from them: a PESEL's
    -- birth date) still hold what it set
    FOR field IN SELECT b.key FROM jsonb_each(m.target_before) AS b
                 WHERE b.key <> ALL (crm_internal.merge_system_fields())
                   AND b.value IS DISTINCT FROM m.target_after -> b.key LOOP
        IF (SELECT to_jsonb(c) -> field FROM crm.client c WHERE c.id = m.target_id)
           IS DISTINCT FROM m.target_after -> field THEN
            RAISE EXCEPTION 'cannot undo merge %: field % of client % changed since', m.id, field, m.target_id
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The merge set it to %s; it is now %s.', m.target_after -> field,
                                      (SELECT to_jsonb(c) -> field FROM crm.client c WHERE c.id = m.target_id));
        END IF;
    END LOOP;

    -- every table the journal names still references crm.client, and crm
    -- may still write it
    FOR grp IN SELECT DISTINCT r.relation FROM crm.merge_log_row r WHERE r.merge_id = m.id LOOP
        IF NOT EXISTS (SELECT FROM crm.client_references() x WHERE x.relation = grp.relation) THEN
            RAISE EXCEPTION 'cannot undo merge %: table % does not reference crm.client', m.id,
                            crm_internal.relation_name(grp.relation)
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'The journal names a table no merge writes: correct the records by hand.';
        END IF;
        PERFORM crm_internal.require_trusted_table(grp.relation, format('undo merge %s', m.id));
    END LOOP;

    -- every moved row is still where the merge put it
    FOR grp IN SELECT r.relation, r.constraint_name,
                      sum(jsonb_array_length(coalesce(r.row_key, r.row_data))) AS moved
               FROM crm.merge_log_row r WHERE r.merge_id = m.id AND r.action = 'moved'
               GROUP BY r.relation, r.constraint_name LOOP
        SELECT * INTO ref FROM crm.client_references() x
        WHERE x.relation = grp.relation AND x.constraint_name = grp.constraint_name;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'cannot undo merge %: the foreign key % of % is gone',
                            m.id, grp.constraint_name, crm_internal.relation_name(grp.relation)
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        EXECUTE format('SELECT count(*) FROM %s t, crm.merge_log_row j,
                             jsonb_array_elements(coalesce(j.row_key, j.row_data)) AS e(item)
                        WHERE j.merge_id = $1 AND j.relation = $3 AND j.constraint_name = $4 AND j.action = ''moved''
                          AND %s AND %s',
                       crm_internal.relation_scan(grp.relation), crm_internal.merge_row_match(grp.relation, ref.columns),
                       crm_internal.client_reference_condition(ref.columns, ref.client_columns, 2))
            INTO found_rows USING m.id, m.target_id, grp.relation, grp.constraint_name;
        IF found_rows <> grp.moved THEN
            RAISE EXCEPTION 'cannot undo merge %: % of the % rows it moved into % were deleted or moved since',
                            m.id, grp.moved - found_rows, grp.moved, crm_internal.relation_name(grp.relation)
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Put those rows back on the client first, or correct the records by hand.';
        END IF;
    END LOOP;

    -- undo: the source clients come back with their ids ...
    -- (only the columns the journal holds: a column added to the table since
    -- the merge takes its default, as it did for the rows there then)
    SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum),
           string_agg(format('r.%I', a.attname), ', ' ORDER BY a.attnum)
    INTO cols, r_cols
    FROM pg_attribute a
    WHERE a.attrelid = 'crm.client'::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      AND m.sources -> 0 ? a.attname;
    EXECUTE format('INSERT INTO crm.client (%s) SELECT %s FROM jsonb_populate_recordset(NULL::crm.client, $1) AS r',
                   cols, r_cols)
        USING m.sources;
    -- ... their rows move back ...
    FOR grp IN SELECT DISTINCT r.relation, r.constraint_name
               FROM crm.merge_log_row r WHERE r.merge_id = m.id AND r.action = 'moved' LOOP
        SELECT * INTO ref FROM crm.client_references() x
        WHERE x.relation = grp.relation AND x.constraint_name = grp.constraint_name;
        EXECUTE format('UPDATE %s t SET (%s) = (SELECT %s FROM crm.client c WHERE c.id = j.client_id)%s
                        FROM crm.merge_log_row j,
                             jsonb_array_elements(coalesce(j.row_key, j.row_data)) WITH ORDINALITY AS e(item, n)
                        WHERE j.merge_id = $1 AND j.relation = $3 AND j.constraint_name = $4 AND j.action = ''moved''
                          AND %s AND %s',
                       crm_internal.relation_scan(grp.relation),
                       (SELECT string_agg(format('%I', c), ', ') FROM unnest(ref.columns) AS c),
                       (SELECT string_agg(format('c.%I', c), ', ') FROM unnest(ref.client_columns) AS c),
                       CASE grp.relation
                            WHEN 'crm.contact'::regclass
                            THEN ', is_default = (j.row_data -> (e.n::int - 1) ->> ''is_default'')::boolean'
                            -- MG-9 both ways: the billed party's data may need the source's again
                            WHEN 'crm.invoice'::regclass THEN ', needs_refresh = true'
                            ELSE '' END,
                       crm_internal.merge_row_match(grp.relation, ref.columns),
                       crm_internal.client_reference_condition(ref.columns, ref.client_columns, 2))
            USING m.id, m.target_id, grp.relation, grp.constraint_name;
        -- rows changed by another session since the check would be skipped
        GET DIAGNOSTICS found_rows = ROW_COUNT;
        IF found_rows <> (SELECT sum(jsonb_array_length(coalesce(r.row_key, r.row_data))) FROM crm.merge_log_row r
                          WHERE r.merge_id = m.id AND r.relation = grp.relation
                            AND r.constraint_name = grp.constraint_name AND r.action = 'moved') THEN
            RAISE EXCEPTION 'cannot undo merge %: rows it moved into % changed while it was undone', m.id,
                            crm_internal.relation_name(grp.relation)
                USING ERRCODE = 'serialization_failure', HINT = 'Try again.';
        END IF;
    END LOOP;
    -- ... what was dropped or folded is restored (into tables that still
    -- reference crm.client: the journal names no other) ...
    -- (a table whose rows reference another restored one's comes after it:
    -- consents after the documents confirming them)
    FOR grp IN SELECT r.relation FROM crm.merge_log_row r
               WHERE r.merge_id = m.id AND r.action IN ('dropped', 'folded')
               GROUP BY r.relation
               ORDER BY EXISTS (SELECT FROM pg_constraint con, crm.merge_log_row o
                                WHERE con.contype = 'f' AND con.conrelid = r.relation
                                  AND o.merge_id = m.id AND o.relation <> r.relation
                                  AND con.confrelid = o.relation),
                        r.relation::text LOOP
        SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum),
               string_agg(format('r.%I', a.attname), ', ' ORDER BY a.attnum)
        INTO cols, r_cols
        FROM pg_attribute a
        WHERE a.attrelid = grp.relation AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
          -- a column added since the merge takes its default
          AND EXISTS (SELECT FROM crm.merge_log_row j
                      WHERE j.merge_id = m.id AND j.relation = grp.relation
                        AND j.action IN ('dropped', 'folded') AND j.row_data ? a.attname);
        BEGIN
            EXECUTE format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE
                            SELECT %s FROM crm.merge_log_row j,
                                 LATERAL jsonb_populate_record(NULL::%s, j.row_data) AS r
                            WHERE j.merge_id = $1 AND j.relation = $2 AND j.action IN (''dropped'', ''folded'')',
                           grp.relation, cols, r_cols, grp.relation)
                USING m.id, grp.relation;
        EXCEPTION WHEN unique_violation OR exclusion_violation OR foreign_key_violation THEN
            RAISE EXCEPTION 'cannot undo merge %: a row it removed from % no longer fits', m.id,
                            crm_internal.relation_name(grp.relation)
                USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = SQLERRM,
                      HINT = 'A row added since clashes with it, or a row it refers to was deleted since.';
        END;
    END LOOP;
    -- ... and the target's fields are what they were, in one update
    SELECT string_agg(format('%1$I = (jsonb_populate_record(NULL::crm.client, $1)).%1$I', b.key), ', ')
    INTO cols
    FROM jsonb_each(m.target_before) AS b
    WHERE b.key <> ALL (crm_internal.merge_system_fields()) AND b.value IS DISTINCT FROM m.target_after -> b.key;
    IF cols IS NOT NULL THEN
        EXECUTE format('UPDATE crm.client c SET %s WHERE c.id = $2', cols) USING m.target_before, m.target_id;
    END IF;

    UPDATE crm.merge_log l SET undone_at = now(), undone_by = caller WHERE l.id = m.id;
    PERFORM crm_internal.audit('unmerge', m.target_id,
                               jsonb_build_object('merge_id', m.id, 'restored', to_jsonb(m.source_ids)));
    PERFORM set_config('crm_merge.in_progress', '', true);
    RETURN m.source_ids[1];
END
$$;
COMMENT ON FUNCTION crm.unmerge(bigint) IS
    'undoes a merge: the source clients come back with their ids, their rows move back, what was dropped or folded returns; refuses (55000) where later changes make that unsafe; returns the (first) restored client id';
REVOKE ALL ON FUNCTION crm.unmerge(bigint) FROM PUBLIC;
--------------------------------------------------------------------------
-- Invoices after a merge (MG-9, doc/working-with-the-base.md)
--
-- A merge moves the source's invoices to the target and flags them
-- (crm.invoice.needs_refresh, src/sql/62_merge.sql); an undo flags them
-- again.  Refreshing writes the billed party's data from the client now
-- holding each flagged invoice and clears the flag.
--------------------------------------------------------------------------

-- As the caller: row-level security and the privileges on crm.invoice
-- decide which invoices it refreshes (those of the clients it reaches).
CREATE FUNCTION crm.refresh_invoices(client_id bigint DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    n bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF client_id IS NOT NULL THEN
        PERFORM crm_internal.require_reach(ARRAY[client_id], 'refresh the invoices of');
    END IF;
    -- the billed name is the legal one (a person's first and last name, a
    -- company's name), not a display name set otherwise
    UPDATE crm.invoice i
    SET billed_name = nullif(crm_internal.client_default_display_name(c.kind, c.first_name, c.last_name, c.company_name), ''),
        billed_address = nullif(concat_ws(', ', c.address, nullif(concat_ws(' ', c.postal_code, c.city), '')), ''),
        billed_nip = c.nip,
        needs_refresh = false
    FROM crm.client c
    WHERE c.id = i.client_id AND i.needs_refresh
      AND (client_id IS NULL OR i.client_id = client_id);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION crm.refresh_invoices(bigint) IS
    'MG-9: writes the billed name, address and NIP of the flagged invoices (needs_refresh, set by a merge) from the client now holding them, and clears the flag; of one client or of all the caller reaches; the number refreshed';
--------------------------------------------------------------------------
-- Fuzzy matching: names, blocking keys, weights, scores, candidate searches
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('matching', $model$
CREATE INDEX client_match_keys_idx ON crm.client
    USING gin (crm.match_keys(kind, first_name, last_name, company_name, city, address,
                              postal_code, birth_date))
    -- no pending list: lookups after many inserts stay as fast (measured:
    -- a candidates median of 23.5 ms with a full pending list, 4.4 ms without)
    WITH (fastupdate = off);

CREATE TABLE crm.match_weight (
    evidence    text PRIMARY KEY,
    weight      double precision NOT NULL CHECK (weight BETWEEN -100 AND 100)
);
COMMENT ON TABLE crm.match_weight IS
    'a site''s own weights of duplicate evidence, over crm.match_weight_defaults(); written by crm.set_match_weight() (null: back to the default)';
COMMENT ON COLUMN crm.match_weight.evidence IS
    'a kind of duplicate evidence, one that crm.match_weight_defaults() lists';
COMMENT ON COLUMN crm.match_weight.weight IS
    'this site''s weight for it, a log2 likelihood ratio from -100 to 100: positive speaks for a duplicate, negative against';
CREATE TRIGGER match_weight_check BEFORE INSERT OR UPDATE ON crm.match_weight
    FOR EACH ROW EXECUTE FUNCTION crm_internal.match_weight_check();
CREATE TRIGGER match_weight_writer BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm.match_weight
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.set_match_weight()');

-- The weights learnt from this base by crm.train_match_weights() (EM over
-- the blocked pairs, doc/duplicates.md): used where no weight is pinned in
-- crm.match_weight; crm.forget_trained_match_weights() empties it.
CREATE TABLE crm.match_weight_trained (
    evidence    text PRIMARY KEY,
    weight      double precision NOT NULL CHECK (weight BETWEEN -100 AND 100),
    m           double precision CHECK (m BETWEEN 0 AND 1),
    u           double precision CHECK (u BETWEEN 0 AND 1),
    trained_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE crm.match_weight_trained IS
    'weights of duplicate evidence learnt from this base by crm.train_match_weights(): used unless pinned in crm.match_weight; crm.forget_trained_match_weights() goes back to the defaults';
COMMENT ON COLUMN crm.match_weight_trained.evidence IS
    'a kind of duplicate evidence, one that crm.match_weight_defaults() lists (prior: the match share of the blocked pairs)';
COMMENT ON COLUMN crm.match_weight_trained.weight IS
    'the trained weight, log2(m/u) (the prior: log2 of the match share''s odds), from -100 to 100';
COMMENT ON COLUMN crm.match_weight_trained.m IS
    'estimated share of the duplicate pairs among the blocked pairs that show the evidence (null for the prior)';
COMMENT ON COLUMN crm.match_weight_trained.u IS
    'estimated share of the other blocked pairs that show the evidence (null for the prior)';
COMMENT ON COLUMN crm.match_weight_trained.trained_at IS 'when crm.train_match_weights() stored it';
CREATE TRIGGER match_weight_trained_check BEFORE INSERT OR UPDATE ON crm.match_weight_trained
    FOR EACH ROW EXECUTE FUNCTION crm_internal.match_weight_check();
CREATE TRIGGER match_weight_trained_writer BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm.match_weight_trained
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.train_match_weights()');

-- one row per run of crm.train_match_weights(): what it saw and found,
-- stored or not (counts and estimates only, no personal data); read by
-- administrators only (crm_internal.model_tables(): trained_by names them)
CREATE TABLE crm.match_training (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trained_at    timestamptz NOT NULL DEFAULT now(),
    trained_by    text NOT NULL,
    clients       bigint NOT NULL,
    pairs         bigint NOT NULL,
    patterns      integer NOT NULL,
    iterations    integer NOT NULL,
    converged     boolean NOT NULL,
    match_share   double precision,
    stored        boolean NOT NULL,
    note          text
);
COMMENT ON TABLE crm.match_training IS
    'the runs of crm.train_match_weights(): clients and blocked pairs seen, distinct comparison patterns, EM iterations, convergence, the match share, whether the weights were stored and why not; read by administrators only';
COMMENT ON COLUMN crm.match_training.id IS 'the run';
COMMENT ON COLUMN crm.match_training.trained_at IS 'when it ran';
COMMENT ON COLUMN crm.match_training.trained_by IS 'the session''s role that ran it (an administrator)';
COMMENT ON COLUMN crm.match_training.clients IS 'the visible clients read (the whole base: it runs as crm''s owner)';
COMMENT ON COLUMN crm.match_training.pairs IS 'the pairs of clients sharing a blocking key: the pairs crm.duplicate_pairs() compares';
COMMENT ON COLUMN crm.match_training.patterns IS 'the distinct comparison vectors among them (the EM runs over these, with their counts)';
COMMENT ON COLUMN crm.match_training.iterations IS 'EM iterations done (0: not estimated)';
COMMENT ON COLUMN crm.match_training.converged IS 'true when no parameter moved by the tolerance or more before max_iterations';
COMMENT ON COLUMN crm.match_training.match_share IS 'the estimated share of duplicates among the pairs (lambda)';
COMMENT ON COLUMN crm.match_training.stored IS 'whether the weights were stored in crm.match_weight_trained';
COMMENT ON COLUMN crm.match_training.note IS 'why the weights were not stored, if they were not';
CREATE TRIGGER match_training_writer BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm.match_training
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.train_match_weights()');

CREATE VIEW crm.match_weights_in_use WITH (security_invoker = true) AS
    SELECT d.evidence, coalesce(w.weight, t.weight, d.weight) AS weight, d.weight AS default_weight,
           w.weight IS NOT NULL AS changed, d.description,
           CASE WHEN w.weight IS NOT NULL THEN 'pinned' WHEN t.weight IS NOT NULL THEN 'trained' ELSE 'default' END
               AS source,
           t.weight AS trained_weight
    FROM crm.match_weight_defaults() d
    LEFT JOIN crm.match_weight w USING (evidence)
    LEFT JOIN crm.match_weight_trained t USING (evidence);
COMMENT ON VIEW crm.match_weights_in_use IS
    'the weights duplicate scoring uses now: the site''s pinned one, else the trained one, else the default';
COMMENT ON COLUMN crm.match_weights_in_use.evidence IS 'a kind of duplicate evidence';
COMMENT ON COLUMN crm.match_weights_in_use.weight IS
    'the weight scoring uses: this site''s pinned one, else the trained one, else the default (log2 likelihood ratio)';
COMMENT ON COLUMN crm.match_weights_in_use.default_weight IS
    'crm''s default weight for the evidence';
COMMENT ON COLUMN crm.match_weights_in_use.changed IS
    'true when this site pinned its own weight (crm.match_weight)';
COMMENT ON COLUMN crm.match_weights_in_use.description IS 'what the evidence is';
COMMENT ON COLUMN crm.match_weights_in_use.source IS
    'where the weight comes from: pinned (crm.set_match_weight()), trained (crm.train_match_weights()) or default';
COMMENT ON COLUMN crm.match_weights_in_use.trained_weight IS
    'the weight crm.train_match_weights() learnt, if any (in use unless pinned)';
-- everyone who may search for duplicates reads the weights; administrators
-- change them (crm.set_match_weight(), crm.train_match_weights())
GRANT SELECT ON crm.match_weight, crm.match_weight_trained, crm.match_weights_in_use TO PUBLIC;

-- Frequency-aware evidence (doc/duplicates.md): how common each last name,
-- first name and full name of a person is in this base, for the searches
-- of one client (crm.duplicate_candidates(), the check on save,
-- crm.match_score()), counted by crm.refresh_match_frequencies()
-- (administrators, on demand or on a schedule; no trigger: an insert must
-- not pay for it, nor wait on the counter of a common name).
-- crm.duplicate_pairs() does not read them: it counts the base it reads,
-- as the caller.  Only the names common enough to weigh less are kept
-- (crm_internal.common_name_bearers()): a rare name would weigh its full
-- weight anyway, and whether it is kept would tell whether someone else
-- bears it; rare names and values new since the refresh get no adjustment.
-- The counts are of the whole base: only administrators read them
-- (crm_internal.model_tables()), and the scoring uses them (reading those
-- of the names it scores with the owner's rights, src/matchfreq.c) only
-- for a caller that reads every client (crm_internal.reads_whole_base());
-- crm.anonymize() takes an erased client's names out
-- (crm_internal.uncount_match_frequencies()).
CREATE TABLE crm.match_frequency (
    field       text NOT NULL CHECK (field IN ('last_name', 'first_name', 'full_name')),
    value       text NOT NULL,
    bearers     bigint NOT NULL CHECK (bearers >= 2),
    PRIMARY KEY (field, value)
);
COMMENT ON TABLE crm.match_frequency IS
    'how many visible persons have each common last name, first name and full name (skeletons: one name in any transliteration; only those common enough to weigh less, crm_internal.common_name_bearers()), for frequency-aware duplicate scores; written by crm.refresh_match_frequencies(), read by administrators only (they count clients out of other roles'' reach)';
COMMENT ON COLUMN crm.match_frequency.field IS
    'last_name, first_name (its first word, diminutives as the full name) or full_name (the two: last/first), of persons';
COMMENT ON COLUMN crm.match_frequency.value IS
    'the value''s skeleton: its matching form (crm.normalize_name(), crm.first_name_canonical()) with the spellings of other transliterations alike (Kravchenko, Krawczenko: kravxenko)';
COMMENT ON COLUMN crm.match_frequency.bearers IS 'how many visible persons had it at the refresh (2 or more)';
CREATE TRIGGER match_frequency_writer BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm.match_frequency
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.refresh_match_frequencies()');

CREATE TABLE crm.match_frequency_total (
    field           text PRIMARY KEY CHECK (field IN ('last_name', 'first_name', 'full_name', 'birth_date')),
    clients         bigint NOT NULL CHECK (clients > 0),
    distinct_values bigint NOT NULL,
    u               double precision NOT NULL CHECK (u > 0 AND u <= 1),
    refreshed_at    timestamptz NOT NULL
);
COMMENT ON TABLE crm.match_frequency_total IS
    'per field of crm.match_frequency, and for birth_date (no values kept): the persons counted and the chance u that two of them agree; a field without a row gets no frequency adjustment; written by crm.refresh_match_frequencies(), read by administrators only';
COMMENT ON COLUMN crm.match_frequency_total.field IS 'last_name, first_name, full_name or birth_date';
COMMENT ON COLUMN crm.match_frequency_total.clients IS 'visible persons with the field at the refresh';
COMMENT ON COLUMN crm.match_frequency_total.distinct_values IS 'how many values they had, those held by one client included';
COMMENT ON COLUMN crm.match_frequency_total.u IS
    'sum of p(v)^2 over the values: the chance that two persons agree on the field; an agreement on a last or first name v weighs log2(u / p(v)) more, in whole bits, from -3 to 0; birth_date''s u makes the namesakes born the same day of a full name borne by n about n u';
COMMENT ON COLUMN crm.match_frequency_total.refreshed_at IS 'when crm.refresh_match_frequencies() counted them';
CREATE TRIGGER match_frequency_total_writer BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm.match_frequency_total
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.refresh_match_frequencies()');
$model$);

-- Name matching (fuzzy duplicates).  IMMUTABLE like fold_text: the forms
-- come from ICU's transliteration rules, so an index on them is rebuilt
-- after an ICU major upgrade, as for any ICU collation.
CREATE FUNCTION crm.normalize_name(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'normalize_name' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.normalize_name(text) IS
    'the matching form of a name: transliterated to ASCII (Ł -> l, é -> e, Cyrillic to Latin), lower case, punctuation and spacing reduced to single spaces';

CREATE FUNCTION crm.normalize_company(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'normalize_company' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.normalize_company(text) IS
    'the matching form of a company name without its legal form (sp. z o.o., S.A., sp.j., GmbH ...)';

CREATE FUNCTION crm.first_name_canonical(first_name text) RETURNS text
    AS 'MODULE_PATHNAME', 'first_name_canonical' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.first_name_canonical(text) IS
    'the full form of a Polish first name given as a diminutive (Kasia -> katarzyna), otherwise its matching form';

CREATE FUNCTION crm.name_similarity(a text, b text) RETURNS double precision
    AS 'MODULE_PATHNAME', 'name_similarity' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.name_similarity(text, text) IS
    'Jaro-Winkler similarity (0..1) of the matching forms of two names, word order ignored';

CREATE FUNCTION crm.typo_distance(a text, b text) RETURNS integer
    AS 'MODULE_PATHNAME', 'typo_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.typo_distance(text, text) IS
    'edits apart (insertion, deletion, substitution, transposition of neighbours), counted up to 3; 4 means more';

CREATE FUNCTION crm.match_keys(kind text, first_name text, last_name text, company_name text,
                               city text, address text, postal_code text DEFAULT NULL,
                               birth_date date DEFAULT NULL)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'match_keys' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm.match_keys(text, text, text, text, text, text, text, date) IS
    'the blocking keys of a client for fuzzy duplicate search (see doc/duplicates.md); indexed with GIN';

-- Fellegi-Sunter weights: log2(m/u) of each kind of evidence, m the
-- share of true duplicate pairs that show it and u the share of other
-- pairs.  The score of a pair is 1 / (1 + 2^-(prior + sum of its weights)).
-- The defaults live in C with the weights (src/matchweights.c); crm.match_weight holds a site's own values, so
-- a dump restores them over a fresh install without conflict.
CREATE FUNCTION crm.match_weight_defaults()
    RETURNS TABLE (evidence text, weight double precision, description text)
    AS 'MODULE_PATHNAME', 'match_weight_defaults' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm.match_weight_defaults() IS
    'the default weights of duplicate evidence (log2 likelihood ratios) with what each means';

CREATE FUNCTION crm_internal.match_weight_check() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM crm.match_weight_defaults() d WHERE d.evidence = NEW.evidence) THEN
        RAISE EXCEPTION 'unknown duplicate evidence "%"', NEW.evidence
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The evidence a weight can be given for is listed by crm.match_weight_defaults().',
                  HINT = format('Use one of: %s.', (SELECT string_agg(d.evidence, ', ' ORDER BY d.evidence)
                                                   FROM crm.match_weight_defaults() d));
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.match_weight_check() IS 'trigger: a weight is for evidence the scoring knows';

-- A site's own weight (administrators): it decides which clients are
-- shown as duplicates of which, for everyone.
CREATE FUNCTION crm.set_match_weight(evidence text, weight double precision) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('change the weights of duplicate evidence');
    IF evidence IS NULL THEN
        RAISE EXCEPTION 'evidence must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT (weight BETWEEN -100 AND 100) THEN
        RAISE EXCEPTION 'weight % is out of range', weight
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = 'A weight is a log2 likelihood ratio from -100 to 100.';
    END IF;
    -- the table's trigger checks the evidence
    PERFORM crm_internal.write_setting('crm.match_weight', jsonb_build_object('evidence', evidence, 'weight', weight),
                                       weight IS NOT NULL, 'match weight');
END
$$;
COMMENT ON FUNCTION crm.set_match_weight(text, double precision) IS
    'administrators: this site''s weight (-100 to 100) of a kind of duplicate evidence (crm.match_weight_defaults()); null goes back to the default; audited';
REVOKE ALL ON FUNCTION crm.set_match_weight(text, double precision) FROM PUBLIC;

-- the weights in use as one jsonb object, the w of crm.match_score()
CREATE FUNCTION crm.match_weights() RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_internal.require_data_model();
    RETURN (
    SELECT jsonb_object_agg(u.evidence, u.weight) FROM crm.match_weights_in_use u);
END
$$;
COMMENT ON FUNCTION crm.match_weights() IS 'the weights in use as one jsonb object: the w of crm.match_score()';

-- Training the weights on this base (doc/duplicates.md, "Training the
-- weights"): the estimate in C (src/training.c), over exactly the pairs
-- crm.duplicate_pairs() compares; one row per kind of evidence, the run's
-- figures on each, and refusal: why nothing is to be stored.
CREATE FUNCTION crm_internal.estimate_match_weights(max_iterations integer, tolerance double precision,
                                                    min_pairs bigint, sample_pairs integer,
                                                    max_differ_m double precision, prior_pairs double precision,
                                                    differ_default boolean)
    RETURNS TABLE (ord integer, evidence text, comparison text, pairs bigint, m double precision,
                   u double precision, u_random double precision, old_weight double precision,
                   weight double precision, note text, clients bigint, blocked_pairs bigint,
                   patterns integer, iterations integer, converged boolean, match_share double precision,
                   refusal text)
    AS 'MODULE_PATHNAME', 'estimate_match_weights' LANGUAGE C VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION crm_internal.estimate_match_weights(integer, double precision, bigint, integer, double precision, double precision, boolean) IS
    'internal, for crm.train_match_weights(): Fellegi-Sunter m and u by EM over the blocked pairs of the visible base, one row per kind of evidence';
REVOKE ALL ON FUNCTION crm_internal.estimate_match_weights(integer, double precision, bigint, integer, double precision, double precision, boolean) FROM PUBLIC;

-- Administrators: learn the weights from the base (EM) and use them where
-- no weight is pinned.  SECURITY DEFINER: it reads the whole base as crm's
-- owner (every client, whatever the caller's units), but stores and
-- returns only weights and counts.  A base too small (fewer than min_pairs
-- blocked pairs) or one where the estimate finds almost no duplicates
-- stores nothing (a WARNING says why): the weights in use stay.
CREATE FUNCTION crm.train_match_weights(max_iterations integer DEFAULT 25,
                                        tolerance double precision DEFAULT 0.0001,
                                        min_pairs bigint DEFAULT 1000,
                                        sample_pairs integer DEFAULT 100000,
                                        max_differ_m double precision DEFAULT 1,
                                        prior_pairs double precision DEFAULT 0,
                                        differ_default boolean DEFAULT true)
    RETURNS TABLE (evidence text, pairs bigint, m double precision, u double precision,
                   u_random double precision, old_weight double precision, new_weight double precision,
                   source text, note text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    est jsonb;
    run record;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('train the weights of duplicate evidence');
    IF max_iterations IS NULL OR tolerance IS NULL OR min_pairs IS NULL OR sample_pairs IS NULL
       OR max_differ_m IS NULL OR prior_pairs IS NULL
       OR differ_default IS NULL THEN
        RAISE EXCEPTION 'the arguments of crm.train_match_weights() must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Leave an argument out for its default.';
    END IF;
    SELECT jsonb_agg(to_jsonb(e) ORDER BY e.ord) INTO est
    FROM crm_internal.estimate_match_weights(max_iterations, tolerance, min_pairs, sample_pairs, max_differ_m, prior_pairs,
                                             differ_default) e;
    SELECT * INTO run
    FROM jsonb_to_record(est -> 0) AS r(clients bigint, blocked_pairs bigint, patterns integer, iterations integer,
                                        converged boolean, match_share double precision, refusal text);
    INSERT INTO crm.match_training (trained_by, clients, pairs, patterns, iterations, converged, match_share,
                                    stored, note)
    VALUES (crm_internal.session_role(), run.clients, run.blocked_pairs, run.patterns, run.iterations,
            run.converged, run.match_share, run.refusal IS NULL, run.refusal);
    IF run.refusal IS NULL THEN
        DELETE FROM crm.match_weight_trained;
        INSERT INTO crm.match_weight_trained (evidence, weight, m, u)
        SELECT x.evidence, x.weight, x.m, x.u
        FROM jsonb_to_recordset(est) AS x(evidence text, weight double precision, m double precision, u double precision)
        WHERE x.weight IS NOT NULL;
        IF NOT run.converged THEN
            RAISE WARNING 'the estimate did not converge within max_iterations (%)', run.iterations
                USING DETAIL = 'The weights of the last iteration are stored.',
                      HINT = 'Call crm.train_match_weights() again with more max_iterations or a larger tolerance.';
        END IF;
    ELSE
        RAISE WARNING 'the weights of duplicate evidence were not trained'
            USING DETAIL = run.refusal || '.  The weights in use stay as they were.',
                  HINT = 'Train on a larger base, or pin weights with crm.set_match_weight().';
    END IF;
    PERFORM crm_internal.audit('train match weights', NULL,
                               jsonb_build_object('clients', run.clients, 'pairs', run.blocked_pairs,
                                                  'patterns', run.patterns, 'iterations', run.iterations,
                                                  'converged', run.converged, 'stored', run.refusal IS NULL));
    RETURN QUERY
    SELECT x.evidence, x.pairs, x.m, x.u, x.u_random, x.old_weight, w.weight, w.source, x.note
    FROM jsonb_to_recordset(est) AS x(ord integer, evidence text, pairs bigint, m double precision,
                                      u double precision, u_random double precision,
                                      old_weight double precision, note text)
    JOIN crm.match_weights_in_use w ON w.evidence = x.evidence
    ORDER BY x.ord;
END
$$;
COMMENT ON FUNCTION crm.train_match_weights(integer, double precision, bigint, integer, double precision, double precision, boolean) IS
    'administrators: learns the weights of duplicate evidence from the whole base (Fellegi-Sunter m and u by EM over the blocked pairs) and uses them where none is pinned; one row per evidence with m, u, the old and the new weight; audited (counts only)';
REVOKE ALL ON FUNCTION crm.train_match_weights(integer, double precision, bigint, integer, double precision, double precision, boolean) FROM PUBLIC;

-- Administrators: back to the defaults (the pinned weights stay)
CREATE FUNCTION crm.forget_trained_match_weights() RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    forgotten bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('forget the trained weights of duplicate evidence');
    DELETE FROM crm.match_weight_trained;
    GET DIAGNOSTICS forgotten = ROW_COUNT;
    IF forgotten > 0 THEN
        PERFORM crm_internal.audit('forget trained match weights', NULL, jsonb_build_object('weights', forgotten));
    END IF;
    RETURN forgotten;
END
$$;
COMMENT ON FUNCTION crm.forget_trained_match_weights() IS
    'administrators: drops the weights crm.train_match_weights() learnt (scoring goes back to the defaults; pinned weights stay); the number dropped; audited';
REVOKE ALL ON FUNCTION crm.forget_trained_match_weights() FROM PUBLIC;

-- The score and the reasons of one pair of clients, in C (src/scoring.c,
-- which the searches use directly).  shared: the phones and e-mails they
-- have in common, as 'phone:+48601234567' (e-mails compared in lower case:
-- contacts keep the case they were typed in); w: crm.match_weights().
-- a and b are rows of crm.client (record: the table is the data model's)
CREATE FUNCTION crm.match_score(a record, b record, shared text[], w jsonb,
                                OUT score double precision, OUT reasons text[])
    AS 'MODULE_PATHNAME', 'match_score' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm.match_score(record, record, text[], jsonb) IS
    'score (0..1) and readable reasons of one pair of clients under the weights w; shared lists their common phones and e-mails';

-- The values crm.refresh_match_frequencies() counts, in the matching forms
-- the scoring compares (src/matchfreq.c).
CREATE FUNCTION crm_internal.match_frequency_keys(kind text, first_name text, last_name text, birth_date date)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'match_frequency_keys' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm_internal.match_frequency_keys(text, text, text, date) IS
    'internal: ''last_name:<skeleton>'', ''first_name:<skeleton of the canonical first word>'' and, with a birth date, ''full_name:<last/first>'' of a person, the values whose frequencies weigh duplicate evidence';

-- How many bearers make a name common enough to weigh less, the least
-- count whose adjustment (src/matchfreq.c) is not zero; crm.match_frequency
-- keeps only such names.  A last or first name: its share of the persons at
-- least twice the chance u that two persons agree on the field (whole bits
-- toward zero).  A full name: 32 bearers or more, and enough that the
-- namesakes' cap is 4 bits or less, the most a pair of namesakes born the
-- same day scores with the default weights; none without birth dates.  In C
-- (crm_common_name_bearers()), where crm.duplicate_pairs() counts the names
-- of the base it reads by the same rule.
CREATE FUNCTION crm_internal.common_name_bearers(field text, u double precision, clients bigint,
                                                 u_birth double precision)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'common_name_bearers' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm_internal.common_name_bearers(text, double precision, bigint, double precision) IS
    'internal: the bearers from which a value of field (chance u of agreement among clients persons; u_birth: of a same birth date) weighs less (crm.match_frequency keeps only those)';

-- An erased client's names out of the counts (crm.anonymize()): keys are
-- crm_internal.match_frequency_keys() of the names, one per person counted
-- at the refresh.  Each count falls by the times its key comes; a name no
-- longer common goes, as the refresh would not keep it.  Called with the data model's owner's rights
-- (crm_internal.anonymize_crm_data()); the totals, which hold no name,
-- stay as counted until the next refresh.
CREATE FUNCTION crm_internal.uncount_match_frequencies(keys text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM crm.match_frequency f
    USING (SELECT split_part(k.key, ':', 1) AS field, substr(k.key, strpos(k.key, ':') + 1) AS value, count(*) AS n
           FROM unnest(keys) AS k(key) GROUP BY 1, 2) u, crm.match_frequency_total t
    WHERE f.field = u.field AND f.value = u.value AND t.field = f.field
      AND (f.bearers - u.n < crm_internal.common_name_bearers(
               t.field, t.u, t.clients, (SELECT b.u FROM crm.match_frequency_total b WHERE b.field = 'birth_date')));
    UPDATE crm.match_frequency f SET bearers = f.bearers - u.n
    FROM (SELECT split_part(k.key, ':', 1) AS field, substr(k.key, strpos(k.key, ':') + 1) AS value, count(*) AS n
          FROM unnest(keys) AS k(key) GROUP BY 1, 2) u
    WHERE f.field = u.field AND f.value = u.value;
END
$$;
COMMENT ON FUNCTION crm_internal.uncount_match_frequencies(text[]) IS
    'internal, called by crm.anonymize(): takes the keys (crm_internal.match_frequency_keys()) of an erased client''s names out of crm.match_frequency; a name no longer common goes';
REVOKE ALL ON FUNCTION crm_internal.uncount_match_frequencies(text[]) FROM PUBLIC;

-- Count how common each last name and first name is (administrators):
-- one pass over the visible clients, grouped; the tables are replaced in one
-- transaction (readers keep the old counts until it commits).  Run after a
-- bulk load and on a schedule (pg_cron: nightly); see doc/duplicates.md.
CREATE FUNCTION crm.refresh_match_frequencies() RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    counted jsonb;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('refresh the frequencies of names');
    -- one refresh at a time; readers are not blocked
    LOCK TABLE crm.match_frequency, crm.match_frequency_total IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM crm.match_frequency;
    DELETE FROM crm.match_frequency_total;
    CREATE TEMP TABLE crm_match_frequency_count ON COMMIT DROP AS
    SELECT split_part(k.key, ':', 1) AS field, substr(k.key, strpos(k.key, ':') + 1) AS value, count(*) AS bearers
    FROM crm.client c,
         unnest(crm_internal.match_frequency_keys(c.kind, c.first_name, c.last_name, c.birth_date)) AS k(key)
    WHERE c.kind = 'person' AND crm_internal.client_is_visible(c.hidden_at, c.anonymized_at)
    GROUP BY 1, 2;
    INSERT INTO crm.match_frequency_total (field, clients, distinct_values, u, refreshed_at)
    SELECT f.field, sum(f.bearers), count(*), sum(f.bearers::float8 ^ 2) / (sum(f.bearers)::float8 ^ 2), now()
    FROM pg_temp.crm_match_frequency_count f GROUP BY f.field;
    -- the birth dates: only their total (how likely two persons share one),
    -- each date counted at most 4 times the average: a pile of one date (a
    -- placeholder such as 1900-01-01, anyone's inserts) would make every
    -- same birth date look common
    INSERT INTO crm.match_frequency_total (field, clients, distinct_values, u, refreshed_at)
    SELECT 'birth_date', sum(d.n), count(*), sum(least(d.n, d.most)::float8 ^ 2) / (sum(least(d.n, d.most))::float8 ^ 2), now()
    FROM (SELECT count(*) AS n, 4.0 * sum(count(*)) OVER () / count(*) OVER () AS most
          FROM crm.client c
          WHERE c.kind = 'person' AND c.birth_date IS NOT NULL
            AND crm_internal.client_is_visible(c.hidden_at, c.anonymized_at)
          GROUP BY c.birth_date) d
    HAVING count(*) > 0;
    -- only the names common enough to weigh less (crm_tf_adjustment(),
    -- src/matchfreq.c: log2(u / share) is -1 or less, so bearers >= 2 u
    -- clients): whether a name is kept, which any role could tell from the
    -- lookups' statistics, then says no more than its score does
    INSERT INTO crm.match_frequency (field, value, bearers)
    SELECT f.field, f.value, f.bearers
    FROM pg_temp.crm_match_frequency_count f JOIN crm.match_frequency_total t USING (field)
    WHERE f.bearers >= crm_internal.common_name_bearers(t.field, t.u, t.clients,
              (SELECT b.u FROM crm.match_frequency_total b WHERE b.field = 'birth_date'));
    DROP TABLE pg_temp.crm_match_frequency_count;
    SELECT jsonb_object_agg(t.field, jsonb_build_object('clients', t.clients, 'values', t.distinct_values,
                                                        'kept', (SELECT count(*) FROM crm.match_frequency f
                                                                 WHERE f.field = t.field))
                            ORDER BY t.field)
    INTO counted FROM crm.match_frequency_total t;
    counted := coalesce(counted, '{}');
    PERFORM crm_internal.audit('match frequencies', NULL, counted);
    RETURN counted;
END
$$;
COMMENT ON FUNCTION crm.refresh_match_frequencies() IS
    'administrators: count how common each last name and first name is among the visible persons (crm.match_frequency), for frequency-aware duplicate scores; returns and audits the counts';
REVOKE ALL ON FUNCTION crm.refresh_match_frequencies() FROM PUBLIC;

-- the default threshold of the candidate searches
CREATE FUNCTION crm.default_min_score() RETURNS double precision
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    RETURN 0.5;
COMMENT ON FUNCTION crm.default_min_score() IS 'the min_score of the duplicate searches when none is given: 0.5';

-- Blocks larger than this are not compared pair by pair (a phone shared
-- by a whole call centre, the commonest names): see doc/duplicates.md.
CREATE FUNCTION crm.max_block_size() RETURNS integer
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    RETURN 200;
COMMENT ON FUNCTION crm.max_block_size() IS 'blocking keys shared by more visible clients than this are skipped: 200 (the full-name key n: half of it, the typo keys f: and l: a tenth)';

-- in C (src/candidates.c): the blocks of the client's keys through the
-- indexes, each cut at crm.max_block_size() + 1, then one read of the
-- clients found and scoring as in crm.match_score
CREATE FUNCTION crm.duplicate_candidates(client_id bigint, min_score double precision DEFAULT NULL)
    RETURNS TABLE (candidate_id bigint, score double precision, reasons text[])
    AS 'MODULE_PATHNAME', 'duplicate_candidates' LANGUAGE C STABLE
    -- the identifier operators live in crm
    SET search_path = pg_catalog, crm, pg_temp;
COMMENT ON FUNCTION crm.duplicate_candidates(bigint, double precision) IS
    'fuzzy duplicate candidates for one client, best first: score (0..1) and the reasons';

-- in C (src/pairs.c): reads the visible base once, blocks on hashed keys
-- and scores each pair with crm.match_score's code
CREATE FUNCTION crm.duplicate_pairs(min_score double precision DEFAULT NULL)
    RETURNS TABLE (client_a bigint, client_b bigint, score double precision, reasons text[])
    AS 'MODULE_PATHNAME', 'duplicate_pairs' LANGUAGE C STABLE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION crm.duplicate_pairs(double precision) IS
    'fuzzy duplicate pairs over all visible clients, best first; only clients sharing a blocking key are compared';

-- The same searches for scores that crm.possible_duplicate keeps, which
-- other roles than the one that searched read (the check on save, the
-- import's duplicate pass): under row-level security on crm.client, weighed
-- by no frequency count, since a count of the searcher's reach would tell
-- a reader of clients out of its own (src/matchfreq.h, MatchScoreReader).
CREATE FUNCTION crm_internal.duplicate_candidates_recorded(client_id bigint, min_score double precision DEFAULT NULL)
    RETURNS TABLE (candidate_id bigint, score double precision, reasons text[])
    AS 'MODULE_PATHNAME', 'duplicate_candidates_recorded' LANGUAGE C STABLE
    SET search_path = pg_catalog, crm, pg_temp;
COMMENT ON FUNCTION crm_internal.duplicate_candidates_recorded(bigint, double precision) IS
    'internal: crm.duplicate_candidates() for the scores crm.possible_duplicate keeps (no frequency weighing under row-level security)';
CREATE FUNCTION crm_internal.duplicate_pairs_recorded(min_score double precision DEFAULT NULL)
    RETURNS TABLE (client_a bigint, client_b bigint, score double precision, reasons text[])
    AS 'MODULE_PATHNAME', 'duplicate_pairs_recorded' LANGUAGE C STABLE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION crm_internal.duplicate_pairs_recorded(double precision) IS
    'internal: crm.duplicate_pairs() for the scores crm.possible_duplicate keeps (no frequency weighing under row-level security)';
--------------------------------------------------------------------------
-- Duplicates by exact criteria (DU-1, DU-2, CL-8), call identification, bulk dedupe
--------------------------------------------------------------------------

CREATE FUNCTION crm.fold_text(value text) RETURNS text
    AS 'MODULE_PATHNAME', 'fold_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.fold_text(text) IS
    'text as duplicate criteria compare it: white space trimmed and collapsed to single spaces, Unicode case folding (diacritics kept)';

CREATE FUNCTION crm.identify_phone(phone text) RETURNS SETOF bigint
    LANGUAGE plpgsql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM crm_internal.require_data_model();
    RETURN QUERY
    SELECT DISTINCT k.client_id
    FROM crm.contact k JOIN crm.client c ON c.id = k.client_id
    WHERE k.kind = 'phone' AND k.value = crm.normalize_phone(identify_phone.phone)
      AND crm_internal.client_is_visible(c.hidden_at, c.anonymized_at)
    ORDER BY k.client_id;
END
$$;
COMMENT ON FUNCTION crm.identify_phone(text) IS
    'incoming-call identification: the visible clients that have this phone number, typed in any format';

-- The fields a duplicate criterion can name besides phone, email and
-- custom:<name>: every column of crm.client but the id and the system's
-- timestamps.
CREATE FUNCTION crm.find_duplicates(criteria text[])
    RETURNS TABLE (group_id bigint, client_id bigint, is_oldest boolean,
                   created_at timestamptz, display_name text, matched jsonb)
    LANGUAGE plpgsql STABLE
    -- the criteria compare crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    parts text[] := '{}';
    joins text := '';
    crit text;
    typ regtype;
    field record;
    n int := 0;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF criteria IS NULL OR array_position(criteria, NULL) IS NOT NULL
       OR cardinality(criteria) NOT BETWEEN 1 AND 7 THEN
        RAISE EXCEPTION 'duplicates are found by 1 to 7 criteria, not %', coalesce(cardinality(criteria), 0)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example: crm.find_duplicates(ARRAY[''last_name'', ''phone'']).';
    END IF;
    IF (SELECT count(DISTINCT x) FROM unnest(criteria) AS x) < cardinality(criteria) THEN
        RAISE EXCEPTION 'a criterion is named twice: %', array_to_string(criteria, ', ')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    FOREACH crit IN ARRAY criteria LOOP
        n := n + 1;
        IF crit IN ('phone', 'email') THEN
            -- any of the client's phones (E.164) or e-mails (case folded)
            joins := joins || format(' JOIN crm.contact k%1$s ON k%1$s.client_id = c.id AND k%1$s.kind = %2$L', n, crit);
            parts := parts || CASE crit WHEN 'phone' THEN format('k%s.value', n)
                                        ELSE format('crm.fold_text(k%s.value)', n) END;
        ELSIF crit LIKE 'custom:%' THEN
            SELECT * INTO field FROM crm.custom_field f WHERE lower(f.name) = lower(substr(crit, 8));
            IF NOT FOUND THEN
                RAISE EXCEPTION 'custom field "%" does not exist', substr(crit, 8) USING ERRCODE = 'undefined_object';
            END IF;
            joins := joins || format(' JOIN crm.custom_value v%1$s ON v%1$s.client_id = c.id AND v%1$s.field_id = %2$s',
                                     n, field.id);
            parts := parts || CASE field.type WHEN 'number' THEN format('v%s.number_value::text', n)
                                              ELSE format('crm.fold_text(v%s.text_value)', n) END;
        ELSE
            SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
            WHERE a.attrelid = 'crm.client'::regclass AND a.attname = crit AND a.attnum > 0 AND NOT a.attisdropped
              AND a.attname NOT IN ('id', 'created_at', 'updated_at', 'last_contact_at', 'hidden_at', 'hidden_reason',
                                    'anonymized_at');
            IF NOT FOUND THEN
                RAISE EXCEPTION 'unrecognized duplicate criterion "%"', crit
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Name a field of crm.client (first_name, last_name, company_name, city, address, pesel, nip, regon, external_id, ...), phone, email or custom:<field name>.';
            END IF;
            parts := parts || CASE WHEN typ IN ('text'::regtype, 'character varying'::regtype)
                                   THEN format('crm.fold_text(c.%I)', crit)
                                   ELSE format('c.%I::text', crit) END;
        END IF;
    END LOOP;

    -- a client with several phones can stand in several groups
    RETURN QUERY EXECUTE format($q$
        WITH keyed AS (
            SELECT DISTINCT c.id, c.created_at, c.display_name, ARRAY[%1$s] AS key
            FROM crm.client c%2$s
            WHERE crm_internal.client_is_visible(c.hidden_at, c.anonymized_at) AND %3$s
        ), numbered AS (
            SELECT k.key, row_number() OVER (ORDER BY min(k.id), k.key) AS group_id
            FROM keyed k GROUP BY k.key HAVING count(*) > 1
        )
        SELECT g.group_id, k.id,
               row_number() OVER (PARTITION BY g.group_id ORDER BY k.created_at, k.id) = 1,
               k.created_at, k.display_name, jsonb_object($1, k.key)
        FROM numbered g JOIN keyed k ON k.key = g.key
        ORDER BY g.group_id, k.created_at, k.id
        $q$,
        array_to_string(parts, ', '), joins,
        (SELECT string_agg(format('%1$s IS NOT NULL AND %1$s <> %2$L', p, ''), ' AND ') FROM unnest(parts) AS p))
        USING criteria;
END
$$;
COMMENT ON FUNCTION crm.find_duplicates(text[]) IS
    'groups of two or more visible clients that agree on all of 1 to 7 criteria (fields, phone, email, custom:<name>), compared trimmed and case folded; is_oldest marks the earliest created record of each group';

-- SECURITY DEFINER: a dedupe run is crm's own act, audited as one; it
-- finds the groups with crm's rights and keeps, for a role bound to the
-- structure, only the clients it reaches; every merge and delete checks
-- that again.
CREATE FUNCTION crm.dedupe(criteria text[], action text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    g record;
    newest record;
    fields jsonb;
    groups bigint := 0;
    total bigint;
    merged bigint := 0;
    deleted bigint := 0;
    skipped jsonb := '[]';
    victim bigint;
    units bigint[];
    started timestamptz := clock_timestamp();
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_supervisor('dedupe clients');
    IF action IS NULL OR action NOT IN ('merge', 'delete') THEN
        RAISE EXCEPTION 'unknown dedupe action "%"', action
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''merge'' (into the oldest record) or ''delete'' (all but the oldest).';
    END IF;
    CREATE TEMP TABLE crm_dedupe_group ON COMMIT DROP AS
        SELECT d.group_id, d.client_id, d.is_oldest, d.created_at FROM crm.find_duplicates(criteria) d;
    -- a role bound to the structure dedupes the clients it reaches: the
    -- others leave their groups, the oldest left is the one kept
    IF NOT crm_internal.sees_all(crm_internal.session_role()) THEN
        units := crm_internal.scope_units(crm_internal.session_role());
        DELETE FROM pg_temp.crm_dedupe_group d
        WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = d.client_id AND c.unit_id = ANY (units));
        DELETE FROM pg_temp.crm_dedupe_group d
        WHERE d.group_id IN (SELECT x.group_id FROM pg_temp.crm_dedupe_group x GROUP BY x.group_id HAVING count(*) < 2);
        UPDATE pg_temp.crm_dedupe_group d SET is_oldest = (d.client_id = k.keep)
        FROM (SELECT x.group_id, (array_agg(x.client_id ORDER BY x.is_oldest DESC, x.created_at, x.client_id))[1] AS keep
              FROM pg_temp.crm_dedupe_group x GROUP BY x.group_id) k
        WHERE k.group_id = d.group_id;
    END IF;
    SELECT count(DISTINCT d.group_id) INTO total FROM pg_temp.crm_dedupe_group d;

    FOR g IN
        SELECT d.group_id,
               (array_agg(d.client_id ORDER BY d.is_oldest DESC, d.created_at, d.client_id))[1] AS keep,
               array_agg(d.client_id ORDER BY d.created_at, d.client_id) FILTER (WHERE NOT d.is_oldest) AS others,
               (array_agg(d.client_id ORDER BY d.created_at DESC, d.client_id DESC))[1] AS newest_id
        FROM pg_temp.crm_dedupe_group d GROUP BY d.group_id ORDER BY d.group_id
    LOOP
        groups := groups + 1;
        IF action = 'merge' THEN
            -- field values from the newest record wherever it has one
            SELECT * INTO newest FROM crm.client c WHERE c.id = g.newest_id;
            SELECT jsonb_object_agg(f, g.newest_id) INTO fields
            FROM unnest(crm.merge_fields()) f
            WHERE g.newest_id <> g.keep AND to_jsonb(newest) ->> f IS NOT NULL;
            BEGIN
                PERFORM crm.merge_clients(g.others, g.keep, fields, 'union');
                merged := merged + cardinality(g.others);
            EXCEPTION
                WHEN insufficient_privilege OR undefined_function OR undefined_table THEN
                    RAISE;
                WHEN OTHERS THEN
                -- a merge rule refused the group: it stays as it was
                skipped := skipped || jsonb_build_object('group_id', g.group_id, 'kept', g.keep,
                                                         'clients', to_jsonb(g.others), 'reason', SQLERRM);
            END;
        ELSE
            FOREACH victim IN ARRAY g.others LOOP
                BEGIN
                    PERFORM crm.delete_client(victim);
                    deleted := deleted + 1;
                EXCEPTION WHEN foreign_key_violation THEN
                    skipped := skipped || jsonb_build_object('group_id', g.group_id, 'kept', g.keep,
                                                             'clients', jsonb_build_array(victim),
                                                             'reason', 'has linked business records: ' || SQLERRM);
                END;
            END LOOP;
        END IF;
        PERFORM crm_internal.report_progress('dedupe', groups, total, started);
    END LOOP;
    DROP TABLE pg_temp.crm_dedupe_group;
    PERFORM crm_internal.audit('dedupe', NULL, jsonb_build_object(
        'criteria', to_jsonb(criteria), 'action', action, 'groups', groups, 'merged', merged, 'deleted', deleted,
        'skipped_clients', (SELECT coalesce(jsonb_agg(c), '[]') FROM jsonb_array_elements(skipped) s,
                                   jsonb_array_elements(s -> 'clients') c)));
    RETURN jsonb_build_object('groups', groups, 'merged', merged, 'deleted', deleted,
                              'skipped', (SELECT coalesce(sum(jsonb_array_length(s -> 'clients')), 0)
                                          FROM jsonb_array_elements(skipped) s),
                              'skipped_detail', skipped);
END
$$;
REVOKE ALL ON FUNCTION crm.dedupe(text[], text) FROM PUBLIC;
COMMENT ON FUNCTION crm.dedupe(text[], text) IS
    'bulk dedupe of the find_duplicates groups: merge each into its oldest record (field values from the newest) or delete all but the oldest, skipping and reporting what a rule or a linked business record protects';
--------------------------------------------------------------------------
-- Manual dedupe plans (DU-3)
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('dedupe_plans', $model$
-- A manual dedupe plan (DU-3): proposed groups the user reviews and
-- edits with plain UPDATEs, previews, and applies in one transaction.
-- The plan tables name clients without foreign keys: a merge must not
-- carry plan rows along; apply checks every client still exists.
CREATE TABLE crm.dedupe_plan (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    origin      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT crm_internal.session_role(),
    applied_at  timestamptz,
    applied_by  text,
    result      jsonb
);
COMMENT ON TABLE crm.dedupe_plan IS
    'manual dedupe plans: where the groups came from, and when and by whom the plan was applied';
COMMENT ON COLUMN crm.dedupe_plan.id IS 'the plan''s number';
COMMENT ON COLUMN crm.dedupe_plan.origin IS
    'where its groups came from: find_duplicates(criteria) or duplicate_pairs(minimum score)';
COMMENT ON COLUMN crm.dedupe_plan.created_at IS 'when the plan was made';
COMMENT ON COLUMN crm.dedupe_plan.created_by IS 'the role that made it';
COMMENT ON COLUMN crm.dedupe_plan.applied_at IS
    'when crm.apply_dedupe_plan() applied it; null while under review';
COMMENT ON COLUMN crm.dedupe_plan.applied_by IS 'the role that applied it';
COMMENT ON COLUMN crm.dedupe_plan.result IS
    'what applying did: {"groups": n, "merged": n, "deleted": n}';

CREATE TABLE crm.dedupe_plan_item (
    plan_id     bigint NOT NULL REFERENCES crm.dedupe_plan (id) ON DELETE CASCADE,
    group_no    integer NOT NULL,
    client_id   bigint NOT NULL,
    is_main     boolean NOT NULL DEFAULT false,
    action      text NOT NULL DEFAULT 'merge' CHECK (action IN ('merge', 'delete', 'nothing')),
    display_name text,
    created_at  timestamptz,
    PRIMARY KEY (plan_id, client_id),
    -- one main record per group, checked at commit: one UPDATE can move it
    CONSTRAINT dedupe_plan_item_one_main EXCLUDE USING btree (plan_id WITH =, group_no WITH =)
        WHERE (is_main) DEFERRABLE INITIALLY DEFERRED
);
COMMENT ON TABLE crm.dedupe_plan_item IS
    'the records of a plan''s groups: is_main marks the record to keep (its action is ignored); the others are merged into it, deleted, or left (nothing)';
COMMENT ON COLUMN crm.dedupe_plan_item.plan_id IS 'the plan';
COMMENT ON COLUMN crm.dedupe_plan_item.group_no IS
    'the group within the plan, numbered from 1 in the order of the groups'' oldest records';
COMMENT ON COLUMN crm.dedupe_plan_item.client_id IS
    'a client of the group (no foreign key: applying checks it still exists)';
COMMENT ON COLUMN crm.dedupe_plan_item.is_main IS
    'the record the group keeps: one per group, the oldest unless changed';
COMMENT ON COLUMN crm.dedupe_plan_item.action IS
    'what happens to a record other than the main one: merge into it (default), delete, or nothing';
COMMENT ON COLUMN crm.dedupe_plan_item.display_name IS
    'the client''s display name when the plan was made, for review';
COMMENT ON COLUMN crm.dedupe_plan_item.created_at IS
    'when the client was created (its created_at when the plan was made), for review';

CREATE TABLE crm.dedupe_plan_choice (
    plan_id     bigint NOT NULL REFERENCES crm.dedupe_plan (id) ON DELETE CASCADE,
    group_no    integer NOT NULL,
    choice      text NOT NULL,
    client_id   bigint,
    value       text,
    PRIMARY KEY (plan_id, group_no, choice),
    CONSTRAINT dedupe_plan_choice_kind CHECK (
        (choice IN ('default_phone', 'default_email') AND value IS NOT NULL AND client_id IS NULL)
        OR (choice NOT IN ('default_phone', 'default_email') AND client_id IS NOT NULL AND value IS NULL))
);
COMMENT ON TABLE crm.dedupe_plan_choice IS
    'per group: a field''s value taken from a record (choice = field name or custom:<name>, client_id), or the default phone/e-mail after the merge (choice = default_phone/default_email, value)';
COMMENT ON COLUMN crm.dedupe_plan_choice.plan_id IS 'the plan';
COMMENT ON COLUMN crm.dedupe_plan_choice.group_no IS 'the group within the plan';
COMMENT ON COLUMN crm.dedupe_plan_choice.choice IS
    'a client field or custom:<name> whose value the main record takes from another, or default_phone / default_email';
COMMENT ON COLUMN crm.dedupe_plan_choice.client_id IS
    'for a field: the group''s record whose value is taken; null for a default contact';
COMMENT ON COLUMN crm.dedupe_plan_choice.value IS
    'for default_phone / default_email: the phone or e-mail that is the default after the merge; null for a field';
$model$);

-- Plans are built from the exact groups of find_duplicates or from the
-- connected pairs of duplicate_pairs.
CREATE FUNCTION crm_internal.dedupe_plan_fill(plan_id bigint, groups regclass) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    -- groups: a temporary table (group_no integer, client_id bigint);
    -- numbered again in the order of their oldest records
    EXECUTE format($q$
        INSERT INTO crm.dedupe_plan_item (plan_id, group_no, client_id, is_main, display_name, created_at)
        SELECT %s, dense_rank() OVER (ORDER BY x.group_oldest, x.group_no), x.id, x.rn = 1,
               x.display_name, x.created_at
        FROM (SELECT g.group_no, c.id, c.display_name, c.created_at,
                     row_number() OVER (PARTITION BY g.group_no ORDER BY c.created_at, c.id) AS rn,
                     min(c.created_at) OVER (PARTITION BY g.group_no) AS group_oldest
              FROM %s g JOIN crm.client c ON c.id = g.client_id) x$q$, plan_id, groups);
    RETURN plan_id;
END
$$;
COMMENT ON FUNCTION crm_internal.dedupe_plan_fill(bigint, regclass) IS
    'fills a new plan with groups, the oldest record of each as the main one and the others to merge';

CREATE FUNCTION crm.create_dedupe_plan(criteria text[]) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    plan bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_supervisor('create dedupe plans');
    CREATE TEMP TABLE crm_plan_group ON COMMIT DROP AS
        SELECT d.group_id::integer AS group_no, d.client_id FROM crm.find_duplicates(criteria) d;
    INSERT INTO crm.dedupe_plan (origin) VALUES (format('find_duplicates(%s)', criteria)) RETURNING id INTO plan;
    PERFORM crm_internal.dedupe_plan_fill(plan, 'pg_temp.crm_plan_group');
    DROP TABLE crm_plan_group;
    RETURN plan;
END
$$;
COMMENT ON FUNCTION crm.create_dedupe_plan(text[]) IS
    'a manual dedupe plan from the groups of crm.find_duplicates(criteria); returns its id';

CREATE FUNCTION crm.create_dedupe_plan(min_score double precision) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    plan bigint;
    changed bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_supervisor('create dedupe plans');
    -- clients joined by candidate pairs form one group: each takes the
    -- smallest id it is connected to
    CREATE TEMP TABLE crm_plan_pair ON COMMIT DROP AS
        SELECT p.client_a, p.client_b FROM crm.duplicate_pairs(min_score) p;
    CREATE TEMP TABLE crm_plan_label ON COMMIT DROP AS
        SELECT x.id AS client_id, x.id AS label
        FROM (SELECT client_a AS id FROM crm_plan_pair UNION SELECT client_b FROM crm_plan_pair) x;
    LOOP
        UPDATE crm_plan_label l SET label = m.label
        FROM (SELECT e.id, min(l2.label) AS label
              FROM (SELECT client_a AS id, client_b AS other FROM crm_plan_pair
                    UNION ALL SELECT client_b, client_a FROM crm_plan_pair) e
              JOIN crm_plan_label l2 ON l2.client_id = e.other
              GROUP BY e.id) m
        WHERE m.id = l.client_id AND m.label < l.label;
        GET DIAGNOSTICS changed = ROW_COUNT;
        EXIT WHEN changed = 0;
    END LOOP;
    CREATE TEMP TABLE crm_plan_group ON COMMIT DROP AS
        SELECT dense_rank() OVER (ORDER BY l.label)::integer AS group_no, l.client_id FROM crm_plan_label l;
    INSERT INTO crm.dedupe_plan (origin)
    VALUES (format('duplicate_pairs(%s)', coalesce(min_score, crm.default_min_score()))) RETURNING id INTO plan;
    PERFORM crm_internal.dedupe_plan_fill(plan, 'pg_temp.crm_plan_group');
    DROP TABLE crm_plan_pair, crm_plan_label, crm_plan_group;
    RETURN plan;
END
$$;
COMMENT ON FUNCTION crm.create_dedupe_plan(double precision) IS
    'a manual dedupe plan from crm.duplicate_pairs(min_score): clients linked by candidate pairs form a group; returns its id';

-- What applying the plan will do, group by group, and what stands in the way.
CREATE FUNCTION crm.dedupe_plan_preview(plan_id bigint)
    RETURNS TABLE (group_no integer, main_id bigint, merge_ids bigint[], delete_ids bigint[],
                   unchanged_ids bigint[], choices jsonb, problems text[],
                   fills jsonb, conflicts jsonb, delete_blocked_by jsonb)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM crm_internal.require_data_model();
    RETURN QUERY
    SELECT b.group_no, b.main_id, b.merge_ids, b.delete_ids, b.unchanged_ids, b.choices,
           b.problems || coalesce((SELECT array_agg(format('client %s, to be deleted, has linked records: %s', d.key,
                                                           (SELECT string_agg(format('%s in %s', r.value, r.key), ', ' ORDER BY r.key)
                                                            FROM jsonb_each(d.value) AS r)) ORDER BY d.key::bigint)
                                   FROM jsonb_each(x.blocked) AS d), '{}'),
           x.fills, x.conflicts, x.blocked
    FROM (
    SELECT i.group_no,
           min(i.client_id) FILTER (WHERE i.is_main),
           coalesce(array_agg(i.client_id ORDER BY i.client_id) FILTER (WHERE i.action = 'merge' AND NOT i.is_main), '{}'),
           coalesce(array_agg(i.client_id ORDER BY i.client_id) FILTER (WHERE i.action = 'delete' AND NOT i.is_main), '{}'),
           coalesce(array_agg(i.client_id ORDER BY i.client_id) FILTER (WHERE i.action = 'nothing' AND NOT i.is_main), '{}'),
           (SELECT jsonb_object_agg(ch.choice, coalesce(to_jsonb(ch.client_id), to_jsonb(ch.value)))
            FROM crm.dedupe_plan_choice ch WHERE ch.plan_id = dedupe_plan_preview.plan_id AND ch.group_no = i.group_no),
           array_remove(ARRAY[
               CASE WHEN count(*) FILTER (WHERE i.is_main) = 0
                         AND count(*) FILTER (WHERE i.action IN ('merge', 'delete')) > 0
                    THEN 'no main record chosen' END,
               CASE WHEN count(*) FILTER (WHERE i.is_main) > 1 THEN 'more than one main record' END,
               CASE WHEN count(*) FILTER (WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = i.client_id)) > 0
                    THEN 'a record no longer exists: ' || string_agg(i.client_id::text, ', ')
                             FILTER (WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = i.client_id)) END],
               NULL)
           || coalesce((SELECT array_agg(format('%s: %s', r.rule, r.message) ORDER BY r.rule, r.source_id)
                        FROM crm_internal.merge_rule_check(
                                 array_agg(i.client_id) FILTER (WHERE i.action = 'merge' AND NOT i.is_main),
                                 min(i.client_id) FILTER (WHERE i.is_main)) r
                        WHERE r.enabled AND NOT r.passes
                          AND min(i.client_id) FILTER (WHERE i.is_main) IS NOT NULL
                          AND count(*) FILTER (WHERE i.action = 'merge' AND NOT i.is_main) > 0), '{}')
    FROM crm.dedupe_plan_item i
    WHERE i.plan_id = dedupe_plan_preview.plan_id
    GROUP BY i.group_no) AS b(group_no, main_id, merge_ids, delete_ids, unchanged_ids, choices, problems),
    -- MG-4 and what a delete would meet: the merge's fields (choices count
    -- as field_values), the linked records that refuse a delete
    LATERAL (
        SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('field', p.field, 'from', p.kept_from,
                                                             'value', p.client_values -> p.kept_from::text)), '[]')
                FROM crm_internal.merge_field_plan(b.main_id, b.merge_ids, b.choices - '{default_phone,default_email}'::text[]) p
                WHERE p.action = 'fill' AND b.main_id IS NOT NULL AND cardinality(b.merge_ids) > 0) AS fills,
               (SELECT coalesce(jsonb_agg(jsonb_build_object('field', p.field, 'values', p.client_values)), '[]')
                FROM crm_internal.merge_field_plan(b.main_id, b.merge_ids, b.choices - '{default_phone,default_email}'::text[]) p
                WHERE p.action = 'conflict' AND b.main_id IS NOT NULL AND cardinality(b.merge_ids) > 0) AS conflicts,
               (SELECT jsonb_object_agg(d.id::text, d.links)
                FROM (SELECT u.id, (SELECT jsonb_object_agg(crm_internal.relation_name(l.relation), l.row_count)
                                    FROM crm.client_links(u.id) l WHERE l.blocks_delete AND l.row_count > 0) AS links
                      FROM unnest(b.delete_ids) AS u(id)
                      WHERE EXISTS (SELECT FROM crm.client c WHERE c.id = u.id)) AS d
                WHERE d.links IS NOT NULL) AS blocked
    ) AS x
    ORDER BY b.group_no;
END
$$;
COMMENT ON FUNCTION crm.dedupe_plan_preview(bigint) IS
    'what applying a dedupe plan does per group (main record, merged, deleted, unchanged, choices), what would stop it, the fields the merge fills and those in conflict without a choice (MG-4), and the linked records that would refuse a delete';

-- SECURITY DEFINER, like crm.dedupe(): applying is crm's own act, audited
-- as one; a role applies the plans it made (administrators any), and every
-- merge and delete checks that the role reaches the clients.
CREATE FUNCTION crm.apply_dedupe_plan(plan_id bigint, strict boolean DEFAULT true) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    p record;
    g record;
    v text;
    total bigint;
    done bigint := 0;
    merged bigint := 0;
    deleted bigint := 0;
    started timestamptz := clock_timestamp();
    summary jsonb;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_supervisor('apply dedupe plans');
    SELECT * INTO p FROM crm.dedupe_plan d WHERE d.id = plan_id FOR UPDATE;
    -- another's plan is out of sight, as under row-level security
    IF NOT FOUND OR NOT (p.created_by = crm_internal.session_role()
                         OR crm_internal.sees_all(crm_internal.session_role())) THEN
        RAISE EXCEPTION 'dedupe plan % does not exist', plan_id USING ERRCODE = 'no_data_found';
    END IF;
    -- every client of the plan in the caller's reach, before anything of
    -- them is looked at with crm's rights (the preview's rules, the
    -- default contacts)
    PERFORM crm_internal.require_reach(ARRAY(SELECT i.client_id FROM crm.dedupe_plan_item i
                                             WHERE i.plan_id = p.id ORDER BY i.client_id),
                                       'apply a dedupe plan with');
    IF p.applied_at IS NOT NULL THEN
        RAISE EXCEPTION 'dedupe plan % was already applied', plan_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Applied at %s by %s.', p.applied_at, p.applied_by),
                  HINT = 'Create a new plan for what is left.';
    END IF;
    SELECT count(*) INTO total FROM crm.dedupe_plan_preview(plan_id) pv
    WHERE cardinality(pv.merge_ids) + cardinality(pv.delete_ids) > 0;
    -- MG-4: strict (the default), no group is merged while a field is in
    -- conflict without a choice; checked for all groups first (a group's
    -- problem, below, is said first)
    IF strict THEN
        SELECT * INTO g FROM crm.dedupe_plan_preview(plan_id) pv
        WHERE cardinality(pv.merge_ids) > 0 AND pv.conflicts <> '[]'
          AND NOT EXISTS (SELECT FROM crm.dedupe_plan_preview(plan_id) o
                          WHERE o.problems <> '{}' AND cardinality(o.merge_ids) + cardinality(o.delete_ids) > 0)
        ORDER BY pv.group_no LIMIT 1;
        IF FOUND THEN
            PERFORM crm_internal.merge_refuse_conflicts(g.conflicts,
                format('group %s of dedupe plan %s', g.group_no, plan_id),
                format('Choose the record whose value stays: INSERT INTO crm.dedupe_plan_choice (plan_id, group_no, choice, client_id) VALUES (%s, %s, %L, %s); crm.dedupe_plan_preview(%s) lists every conflict.  Or apply with strict => false to keep the main record''s values.',
                       plan_id, g.group_no, g.conflicts -> 0 ->> 'field', g.main_id, plan_id));
        END IF;
    END IF;

    FOR g IN SELECT * FROM crm.dedupe_plan_preview(plan_id) pv
             WHERE cardinality(pv.merge_ids) + cardinality(pv.delete_ids) > 0 LOOP
        IF g.problems <> '{}' THEN
            RAISE EXCEPTION 'dedupe plan % cannot be applied: group % has a problem', plan_id, g.group_no
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = array_to_string(g.problems, '; ') || '.',
                      HINT = format('Fix the group in crm.dedupe_plan_item (UPDATE its actions or main record) or set its records to nothing; see crm.dedupe_plan_preview(%s).', plan_id);
        END IF;
        IF cardinality(g.merge_ids) > 0 THEN
            PERFORM crm.merge_clients(g.merge_ids, g.main_id,
                (SELECT jsonb_object_agg(k, e.value) FROM jsonb_each(coalesce(g.choices, '{}')) e(k, value)
                 WHERE k NOT IN ('default_phone', 'default_email')),
                -- strict was checked above for every group
                'union', false);
            merged := merged + cardinality(g.merge_ids);
        END IF;
        FOREACH v IN ARRAY ARRAY['phone', 'email'] LOOP
            IF g.choices ? ('default_' || v) THEN
                UPDATE crm.contact k SET is_default = true
                WHERE k.client_id = g.main_id AND k.kind = v
                  AND lower(k.value) = lower(CASE v WHEN 'phone' THEN crm.normalize_phone(g.choices ->> ('default_' || v))
                                                    ELSE crm.normalize_email(g.choices ->> ('default_' || v)) END);
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'the default % of group % is not a contact of client %', v, g.group_no, g.main_id
                        USING ERRCODE = 'no_data_found',
                              DETAIL = format('Chosen: %s.', g.choices ->> ('default_' || v)),
                              HINT = 'Choose a value one of the group''s records has.';
                END IF;
            END IF;
        END LOOP;
        IF cardinality(g.delete_ids) > 0 THEN
            PERFORM crm.delete_client(d) FROM unnest(g.delete_ids) d;
            deleted := deleted + cardinality(g.delete_ids);
        END IF;
        done := done + 1;
        PERFORM crm_internal.report_progress('dedupe plan', done, total, started);
    END LOOP;
    summary := jsonb_build_object('groups', done, 'merged', merged, 'deleted', deleted);
    UPDATE crm.dedupe_plan d SET applied_at = now(), applied_by = crm_internal.session_role(), result = summary
    WHERE d.id = plan_id;
    PERFORM crm_internal.audit('dedupe plan', NULL, jsonb_build_object('plan_id', plan_id) || summary);
    RETURN summary;
END
$$;
REVOKE ALL ON FUNCTION crm.apply_dedupe_plan(bigint, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.create_dedupe_plan(text[]), crm.create_dedupe_plan(double precision) FROM PUBLIC;
COMMENT ON FUNCTION crm.apply_dedupe_plan(bigint, boolean) IS
    'applies a dedupe plan in one transaction: every group''s merges (fields empty on the main record filled; strict, the default: refused, CR004, while a field is in conflict without a choice), default contacts and deletes, or nothing at all';
--------------------------------------------------------------------------
-- Duplicate check on save (CL-9): crm.duplicate_check = notice | error | off
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('duplicate_check', $model$
CREATE TABLE crm.possible_duplicate (
    client_a     bigint NOT NULL,
    client_b     bigint NOT NULL,
    score        double precision NOT NULL,
    reasons      text[] NOT NULL,
    found_at     timestamptz NOT NULL DEFAULT now(),
    found_by     text NOT NULL DEFAULT crm_internal.session_role(),
    dismissed_at timestamptz,
    dismissed_by text,
    PRIMARY KEY (client_a, client_b),
    CONSTRAINT possible_duplicate_order CHECK (client_a < client_b)
);
-- no foreign keys on purpose: the pairs are derived data that a merge must
-- not move; the triggers drop the pairs of a client deleted or hidden
CREATE INDEX possible_duplicate_b_idx ON crm.possible_duplicate (client_b);
-- a pair is visible to whoever sees both clients (their row-level security)
ALTER TABLE crm.possible_duplicate ENABLE ROW LEVEL SECURITY;
CREATE POLICY possible_duplicate_both_visible ON crm.possible_duplicate
    USING (EXISTS (SELECT FROM crm.client c WHERE c.id = client_a)
           AND EXISTS (SELECT FROM crm.client c WHERE c.id = client_b));
COMMENT ON TABLE crm.possible_duplicate IS
    'pairs of clients the duplicate check found when one of them was saved (client_a < client_b); set dismissed_at to mark a pair as not duplicates: it is not reported again';
COMMENT ON COLUMN crm.possible_duplicate.client_a IS
    'one client of the pair, the smaller id (no foreign key: the pairs are derived data)';
COMMENT ON COLUMN crm.possible_duplicate.client_b IS 'the other client of the pair, the larger id';
COMMENT ON COLUMN crm.possible_duplicate.score IS
    'how alike the two are, from 0 to 1, as the latest check found';
COMMENT ON COLUMN crm.possible_duplicate.reasons IS
    'the evidence behind the score, in words, one item each';
COMMENT ON COLUMN crm.possible_duplicate.found_at IS 'when the pair was first found';
COMMENT ON COLUMN crm.possible_duplicate.found_by IS 'the role whose save found it first';
COMMENT ON COLUMN crm.possible_duplicate.dismissed_at IS
    'set by a user who judged the two different clients: the pair is kept and not reported again; null while open';
COMMENT ON COLUMN crm.possible_duplicate.dismissed_by IS 'who dismissed the pair';
CREATE TRIGGER possible_duplicate_stamp BEFORE INSERT OR UPDATE ON crm.possible_duplicate
    FOR EACH ROW EXECUTE FUNCTION crm_internal.possible_duplicate_stamp();
CREATE TRIGGER possible_duplicate_upsert BEFORE INSERT ON crm.possible_duplicate
    FOR EACH ROW EXECUTE FUNCTION crm_internal.possible_duplicate_upsert();
-- with the check off (an import, a merge) a saved client queues no event at
-- all (measured: 1.6 s of an import of 100,000 rows went to calls that
-- returned at once); a client hidden or deleted leaves its pairs always
CREATE TRIGGER client_check_duplicates
    AFTER INSERT OR UPDATE OF kind, first_name, last_name, company_name, city, postal_code,
                              address, pesel, nip, regon, birth_date, hidden_at
    ON crm.client FOR EACH ROW
    -- (written out: a trigger's condition is not planned, so a function
    -- here would not be inlined; crm_internal.check_duplicates() reads the
    -- same two settings)
    WHEN (NEW.hidden_at IS NOT NULL
          OR (coalesce(current_setting('crm.duplicate_check', true), 'notice') <> 'off'
              AND coalesce(current_setting('crm_merge.in_progress', true), '') <> 'on'))
    EXECUTE FUNCTION crm_internal.client_check_duplicates();
CREATE TRIGGER client_forget_duplicates AFTER DELETE ON crm.client
    FOR EACH ROW EXECUTE FUNCTION crm_internal.client_check_duplicates();
-- (not even queued while the check is off: a bulk write of a million
-- contacts would otherwise call it a million times to return at once)
CREATE TRIGGER contact_check_duplicates AFTER INSERT OR UPDATE OF value, client_id ON crm.contact
    FOR EACH ROW WHEN (coalesce(current_setting('crm.duplicate_check', true), 'notice') <> 'off')
    EXECUTE FUNCTION crm_internal.contact_check_duplicates();
$model$);

-- Who found a pair and who dismissed it, and when, are the server's to
-- say (a restore, by a trusted role, keeps the dumped ones).  Fires before
-- the upsert below (triggers fire in name order).
CREATE FUNCTION crm_internal.possible_duplicate_stamp() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF crm_internal.writer_is_trusted() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.found_at := now();
        NEW.found_by := crm_internal.session_role();
    ELSE
        NEW.found_at := OLD.found_at;
        NEW.found_by := OLD.found_by;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.dismissed_at IS DISTINCT FROM OLD.dismissed_at THEN
        NEW.dismissed_at := CASE WHEN NEW.dismissed_at IS NOT NULL THEN now() END;
        NEW.dismissed_by := CASE WHEN NEW.dismissed_at IS NOT NULL THEN crm_internal.session_role() END;
    ELSE
        NEW.dismissed_by := OLD.dismissed_by;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.possible_duplicate_stamp() IS
    'trigger: when a pair was found or dismissed, and by whom, are the server''s (the session''s role, now) unless a trusted role (a restore) writes';

-- A pair saved again (the check on save, a restore of a dump taken with
-- triggers on) updates the row there is: the newest score and reasons, the
-- first finding, a dismissal never lost.
CREATE FUNCTION crm_internal.possible_duplicate_upsert() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE crm.possible_duplicate p
    SET score = NEW.score, reasons = NEW.reasons,
        found_at = least(p.found_at, NEW.found_at),
        found_by = CASE WHEN NEW.found_at < p.found_at THEN NEW.found_by ELSE p.found_by END,
        dismissed_at = coalesce(p.dismissed_at, NEW.dismissed_at),
        dismissed_by = CASE WHEN p.dismissed_at IS NOT NULL THEN p.dismissed_by ELSE NEW.dismissed_by END
    WHERE p.client_a = NEW.client_a AND p.client_b = NEW.client_b;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.possible_duplicate_upsert() IS
    'trigger: a pair inserted again updates the recorded one (score, reasons), keeping the first finding and any dismissal';

-- Check one client: record its candidates, then notice or refuse.  A
-- pair already in crm.possible_duplicate (reported before, or dismissed)
-- is known: it is kept up to date but not reported or refused again.  The
-- search is crm_internal.duplicate_candidates_recorded(): the scores are
-- kept for other roles to read.
CREATE FUNCTION crm_internal.check_duplicates(client_id bigint) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    mode text := coalesce(current_setting('crm.duplicate_check', true), 'notice');
    merging boolean := coalesce(current_setting('crm_merge.in_progress', true), '') = 'on';
    found jsonb;
    best record;
    others text;
    units bigint[];
BEGIN
    IF mode = 'off' OR merging THEN
        RETURN;
    END IF;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'candidate_id', d.candidate_id, 'score', d.score, 'reasons', to_jsonb(d.reasons),
               'known', EXISTS (SELECT FROM crm.possible_duplicate p
                                WHERE p.client_a = least(client_id, d.candidate_id)
                                  AND p.client_b = greatest(client_id, d.candidate_id)))
               ORDER BY d.score DESC, d.candidate_id), '[]')
    INTO found
    FROM crm_internal.duplicate_candidates_recorded(client_id) d
    WHERE EXISTS (SELECT FROM crm.client c WHERE c.id = client_id
                                AND crm_internal.client_is_visible(c.hidden_at, c.anonymized_at));
    -- inside crm's SECURITY DEFINER functions (crm.unhide_client()) the
    -- search ran with crm's rights: the session's role hears only of the
    -- clients it reaches
    IF current_user::text <> crm_internal.session_role()
       AND NOT crm_internal.sees_all(crm_internal.session_role()) THEN
        units := crm_internal.scope_units(crm_internal.session_role());
        SELECT coalesce(jsonb_agg(f ORDER BY (f ->> 'score')::double precision DESC, (f ->> 'candidate_id')::bigint), '[]')
        INTO found
        FROM jsonb_array_elements(found) AS f
        WHERE EXISTS (SELECT FROM crm.client c
                      WHERE c.id = (f ->> 'candidate_id')::bigint AND c.unit_id = ANY (units));
    END IF;

    -- pairs of this client that no longer score are forgotten, dismissed ones kept
    DELETE FROM crm.possible_duplicate p
    WHERE client_id IN (p.client_a, p.client_b) AND p.dismissed_at IS NULL
      AND NOT EXISTS (SELECT FROM jsonb_to_recordset(found) AS f(candidate_id bigint)
                      WHERE f.candidate_id IN (p.client_a, p.client_b) AND f.candidate_id <> client_id);
    IF found = '[]' THEN
        -- the common case: no candidate
        RETURN;
    END IF;

    SELECT f.*, count(*) OVER () AS total INTO best
    FROM jsonb_to_recordset(found) AS f(candidate_id bigint, score double precision, reasons text[], known boolean)
    WHERE NOT f.known ORDER BY f.score DESC, f.candidate_id LIMIT 1;

    IF best.candidate_id IS NOT NULL AND mode = 'error' THEN
        RAISE EXCEPTION 'client % may be a duplicate of client %', client_id, best.candidate_id
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Score %s: %s.', round(best.score::numeric, 2), array_to_string(best.reasons, '; ')),
                  HINT = format('Use client %s instead, or SET crm.duplicate_check = notice to save it and review the pair in crm.possible_duplicate.',
                                best.candidate_id);
    END IF;

    INSERT INTO crm.possible_duplicate (client_a, client_b, score, reasons)
    SELECT least(client_id, f.candidate_id), greatest(client_id, f.candidate_id), f.score, f.reasons
    FROM jsonb_to_recordset(found) AS f(candidate_id bigint, score double precision, reasons text[])
    -- a recorded pair is updated by crm_internal.possible_duplicate_upsert; this is
    -- for one recorded meanwhile by a concurrent transaction
    ON CONFLICT (client_a, client_b) DO UPDATE SET score = EXCLUDED.score, reasons = EXCLUDED.reasons;

    IF best.candidate_id IS NOT NULL THEN
        SELECT string_agg(format('client %s (%s)', f.candidate_id, round(f.score::numeric, 2)), ', '
                          ORDER BY f.score DESC, f.candidate_id) INTO others
        FROM (SELECT * FROM jsonb_to_recordset(found) AS f(candidate_id bigint, score double precision, known boolean)
              WHERE NOT f.known ORDER BY f.score DESC, f.candidate_id LIMIT 3) f;
        RAISE NOTICE 'client % may be a duplicate of %', client_id, others
            USING DETAIL = format('Best: %s.%s', array_to_string(best.reasons, '; '),
                                  CASE WHEN best.total > 3 THEN format(' %s new candidates in all.', best.total)
                                       ELSE '' END),
                  HINT = 'See crm.possible_duplicate; merge with crm.merge_client(), or set dismissed_at if they are different clients.';
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.check_duplicates(bigint) IS
    'the duplicate check of one client as crm.duplicate_check says: record its candidates in crm.possible_duplicate and name new ones in a NOTICE, or refuse';

-- The pairs of a client deleted or hidden go, also those whose other
-- client the user cannot see: SECURITY DEFINER, and only for a client that
-- is gone or hidden, so it cannot remove anyone else's pairs.
CREATE FUNCTION crm_internal.forget_possible_duplicates(client_id bigint) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    DELETE FROM crm.possible_duplicate p
    WHERE forget_possible_duplicates.client_id IN (p.client_a, p.client_b)
      AND NOT EXISTS (SELECT FROM crm.client c
                      WHERE c.id = forget_possible_duplicates.client_id
                        AND crm_internal.client_is_visible(c.hidden_at, c.anonymized_at));
$$;
COMMENT ON FUNCTION crm_internal.forget_possible_duplicates(bigint) IS
    'drops the crm.possible_duplicate pairs of a client that is deleted or hidden (only such a client)';

CREATE FUNCTION crm_internal.client_check_duplicates() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.hidden_at IS NOT NULL) THEN
        PERFORM crm_internal.forget_possible_duplicates(OLD.id);
        RETURN NULL;
    END IF;
    PERFORM crm_internal.check_duplicates(NEW.id);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.client_check_duplicates() IS
    'trigger: the duplicate check of a client saved; a client deleted or hidden leaves crm.possible_duplicate';

CREATE FUNCTION crm_internal.contact_check_duplicates() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_internal.check_duplicates(NEW.client_id);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.contact_check_duplicates() IS 'trigger: the duplicate check of the client whose phone or e-mail was saved';
--------------------------------------------------------------------------
-- Consents and their history (GDPR: GD-1, GD-3)
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('consents', $model$
CREATE TABLE crm.consent (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (btrim(purpose) <> ''),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz,
    document_id bigint REFERENCES crm.document (id),
    CHECK (withdrawn_at >= granted_at)
);
CREATE INDEX consent_client_id_idx ON crm.consent (client_id);
CREATE UNIQUE INDEX consent_in_force_key ON crm.consent (client_id, purpose) WHERE withdrawn_at IS NULL;
CREATE INDEX consent_document_id_idx ON crm.consent (document_id);
COMMENT ON TABLE crm.consent IS
    'GDPR consents of a client, per purpose; in force while withdrawn_at is null; document_id points to the confirming document';
COMMENT ON COLUMN crm.consent.id IS 'the consent''s key';
COMMENT ON COLUMN crm.consent.client_id IS 'the client who consented; deleted with the client';
COMMENT ON COLUMN crm.consent.purpose IS
    'what the consent is for (marketing, phone contact...), free text; one in force per purpose';
COMMENT ON COLUMN crm.consent.granted_at IS 'when the consent was given; never changes';
COMMENT ON COLUMN crm.consent.withdrawn_at IS
    'when it was withdrawn, for good; null while in force';
COMMENT ON COLUMN crm.consent.document_id IS 'the document confirming the consent (crm.document)';

-- Every grant, withdrawal and removal of a consent, kept by triggers.
CREATE TABLE crm.consent_history (
    consent_id  bigint NOT NULL,
    event       text NOT NULL CHECK (event IN ('granted', 'withdrawn', 'removed')),
    client_id   bigint NOT NULL,
    purpose     text NOT NULL,
    at          timestamptz NOT NULL,
    by_role     text NOT NULL DEFAULT crm_internal.session_role(),
    document_id bigint,
    stated_at   timestamptz,
    -- each happens once to a consent
    PRIMARY KEY (consent_id, event)
);
CREATE INDEX consent_history_client_id_idx ON crm.consent_history (client_id, at);
COMMENT ON TABLE crm.consent_history IS
    'every consent granted, withdrawn or removed (a merge drops the source''s consents, MG-7), when and by which role';
COMMENT ON COLUMN crm.consent_history.consent_id IS
    'the consent (no foreign key: the history outlives it)';
COMMENT ON COLUMN crm.consent_history.event IS
    'granted, withdrawn or removed (the consent row deleted, as a merge does with the source''s)';
COMMENT ON COLUMN crm.consent_history.client_id IS 'the client the consent was of';
COMMENT ON COLUMN crm.consent_history.purpose IS 'what the consent was for';
COMMENT ON COLUMN crm.consent_history.at IS
    'when crm recorded it: the server''s time (now()) of the write, whatever dates the consent row states';
COMMENT ON COLUMN crm.consent_history.by_role IS
    'the session''s role that recorded it (crm_internal.session_role(): the role chosen with SET ROLE, else the login)';
COMMENT ON COLUMN crm.consent_history.document_id IS 'the confirming document at the time';
COMMENT ON COLUMN crm.consent_history.stated_at IS
    'the date the consent row stated for the event (its granted_at, its withdrawn_at), as written by the caller; null for a removal';
CREATE TRIGGER consent_history_upsert BEFORE INSERT ON crm.consent_history
    FOR EACH ROW EXECUTE FUNCTION crm_internal.consent_history_upsert();
CREATE TRIGGER consent_before_update BEFORE UPDATE ON crm.consent
    FOR EACH ROW EXECUTE FUNCTION crm_internal.consent_before_update();
CREATE TRIGGER consent_no_future_dates BEFORE INSERT OR UPDATE OF granted_at, withdrawn_at ON crm.consent
    FOR EACH ROW EXECUTE FUNCTION crm_internal.consent_no_future_dates();
CREATE TRIGGER consent_history_write AFTER INSERT OR UPDATE OF withdrawn_at OR DELETE ON crm.consent
    FOR EACH ROW EXECUTE FUNCTION crm_internal.consent_history_write();
CREATE TRIGGER consent_hide_client AFTER UPDATE OF withdrawn_at ON crm.consent
    FOR EACH ROW WHEN (OLD.withdrawn_at IS NULL AND NEW.withdrawn_at IS NOT NULL)
    EXECUTE FUNCTION crm_internal.consent_hide_client();
$model$);

-- A restore loads crm.consent, whose trigger writes history anew, and the
-- history itself, in either order (or at once): the history loaded wins
-- (its roles and times are the original ones), what the consent's trigger
-- writes (ON CONFLICT DO NOTHING) gives way.  A row from that trigger
-- (SECURITY DEFINER, so written as crm's owner) goes in as it is; any other
-- replaces the row of the same consent and event, if there is one: an
-- upsert, which needs UPDATE on the history (only its owner has it).  It
-- updates, then lets the row in: it never inserts itself, so this trigger
-- cannot fire itself again, whoever writes.
CREATE FUNCTION crm_internal.consent_history_upsert() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_trigger_depth() > 1 AND crm_internal.runs_as_owner_of('crm_internal.consent_history_write()') THEN
        RETURN NEW;
    END IF;
    UPDATE crm.consent_history h
    SET client_id = NEW.client_id, purpose = NEW.purpose, at = NEW.at, by_role = NEW.by_role,
        document_id = NEW.document_id, stated_at = NEW.stated_at
    WHERE h.consent_id = NEW.consent_id AND h.event = NEW.event;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.consent_history_upsert() IS
    'trigger: history inserted directly (a restore) replaces what the consent''s trigger recorded; never inserts itself (no recursion)';

-- A consent records what already happened: a date in the future is made
-- up.  A date in the past is kept as the consent row states it (a paper
-- consent entered later); the history records when crm learnt of it.  A
-- restore (run by the data model's owner or a superuser) loads the rows
-- as they were.
CREATE FUNCTION crm_internal.consent_no_future_dates() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF crm_internal.writer_is_trusted() THEN
        RETURN NEW;
    END IF;
    -- the server's clock now, not the start of the transaction: a client's
    -- own "now" taken after BEGIN is not in the future
    IF NEW.granted_at > clock_timestamp()
       AND (TG_OP = 'INSERT' OR NEW.granted_at IS DISTINCT FROM OLD.granted_at) THEN
        RAISE EXCEPTION 'granted_at of a consent cannot be in the future'
            USING ERRCODE = 'check_violation',
                  DETAIL = format('The consent of client %s to %s states granted_at %s.', NEW.client_id, NEW.purpose, NEW.granted_at),
                  HINT = 'Leave granted_at to its default (the server''s time), or state the date the client consented.';
    END IF;
    IF NEW.withdrawn_at > clock_timestamp()
       AND (TG_OP = 'INSERT' OR NEW.withdrawn_at IS DISTINCT FROM OLD.withdrawn_at) THEN
        RAISE EXCEPTION 'withdrawn_at of a consent cannot be in the future'
            USING ERRCODE = 'check_violation',
                  DETAIL = format('The consent of client %s to %s states withdrawn_at %s.', NEW.client_id, NEW.purpose, NEW.withdrawn_at),
                  HINT = format('Withdraw it when the client withdraws it: crm.withdraw_consent(%s, %L) records the server''s time.',
                                NEW.client_id, NEW.purpose);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.consent_no_future_dates() IS
    'trigger: a consent''s granted_at and withdrawn_at are not later than the server''s clock, unless a trusted role (a restore) writes';

-- A consent is a fact with a date: it is granted, then maybe withdrawn,
-- never rewritten.  A withdrawn consent stays withdrawn.
CREATE FUNCTION crm_internal.consent_before_update() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF (NEW.client_id, NEW.purpose, NEW.granted_at) IS DISTINCT FROM (OLD.client_id, OLD.purpose, OLD.granted_at)
       OR (OLD.withdrawn_at IS NOT NULL AND NEW.withdrawn_at IS DISTINCT FROM OLD.withdrawn_at) THEN
        RAISE EXCEPTION 'consent % cannot be rewritten', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'A consent''s client, purpose and date are its history; only its withdrawal and its document can be recorded.',
                  HINT = format('Withdraw it with crm.withdraw_consent(%s, %L) and grant a new one.', OLD.client_id, OLD.purpose);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.consent_before_update() IS
    'trigger: a consent''s client, purpose and grant date never change, and a withdrawal is final';

-- The history is written with crm's rights, so that roles writing consents
-- need no privilege on it and cannot make it up: when (at) and who
-- (by_role, the session's role) are the server's; the dates the consent
-- row states are kept beside them (stated_at).
CREATE FUNCTION crm_internal.consent_history_write() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a trigger function can be attached to any table: this one only to crm.consent
    IF TG_RELID <> 'crm.consent'::regclass THEN
        RAISE EXCEPTION 'crm_internal.consent_history_write() records crm.consent only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO crm.consent_history (consent_id, client_id, purpose, event, at, by_role, document_id, stated_at)
        VALUES (NEW.id, NEW.client_id, NEW.purpose, 'granted', now(), crm_internal.session_role(), NEW.document_id,
                NEW.granted_at)
        ON CONFLICT (consent_id, event) DO NOTHING;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.withdrawn_at IS NOT NULL
       AND (TG_OP = 'INSERT' OR OLD.withdrawn_at IS NULL) THEN
        INSERT INTO crm.consent_history (consent_id, client_id, purpose, event, at, by_role, document_id, stated_at)
        VALUES (NEW.id, NEW.client_id, NEW.purpose, 'withdrawn', now(), crm_internal.session_role(), NEW.document_id,
                NEW.withdrawn_at)
        ON CONFLICT (consent_id, event) DO NOTHING;
    END IF;
    IF TG_OP = 'DELETE' THEN
        INSERT INTO crm.consent_history (consent_id, client_id, purpose, event, at, by_role, document_id)
        VALUES (OLD.id, OLD.client_id, OLD.purpose, 'removed', now(), crm_internal.session_role(), OLD.document_id)
        ON CONFLICT (consent_id, event) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.consent_history_write() IS
    'trigger on crm.consent: records each grant, withdrawal and removal in crm.consent_history, with crm''s rights, the server''s time and the session''s role';
-- nobody attaches it elsewhere (a trigger's function is checked when it is created)
REVOKE EXECUTE ON FUNCTION crm_internal.consent_history_write() FROM PUBLIC;

-- the setting read through the library, so that the server's value counts
-- (a session that set it before the library was loaded set a placeholder)
CREATE FUNCTION crm_internal.hide_on_consent_withdrawal() RETURNS boolean
    AS 'MODULE_PATHNAME', 'hide_on_consent_withdrawal_setting' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm_internal.hide_on_consent_withdrawal() IS 'the setting crm.hide_on_consent_withdrawal (GD-3) in force';

-- GD-3, with the rights of whoever withdrew: a client who withdrew the last
-- consent in force drops out of the working views, if the database says so
-- (SECURITY DEFINER: hiding is crm's own act, audited; no role writes
-- hidden_at itself)
CREATE FUNCTION crm_internal.consent_hide_client() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a trigger function can be attached to any table: this one only to crm.consent
    IF TG_RELID <> 'crm.consent'::regclass THEN
        RAISE EXCEPTION 'crm_internal.consent_hide_client() hides for crm.consent only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF crm_internal.hide_on_consent_withdrawal()
       AND NOT EXISTS (SELECT FROM crm.consent c WHERE c.client_id = NEW.client_id AND c.withdrawn_at IS NULL) THEN
        UPDATE crm.client c SET hidden_at = now(), hidden_reason = 'consent withdrawn'
        WHERE c.id = NEW.client_id AND crm_internal.client_is_visible(c.hidden_at, c.anonymized_at);
        IF FOUND THEN
            PERFORM crm_internal.audit('hide', NEW.client_id, '{"reason": "consent withdrawn"}');
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.consent_hide_client() IS
    'trigger on crm.consent: hides (audited) a client whose last consent in force was withdrawn, if crm.hide_on_consent_withdrawal is on';
REVOKE EXECUTE ON FUNCTION crm_internal.consent_hide_client() FROM PUBLIC;

CREATE FUNCTION crm.grant_consent(client_id bigint, purpose text, document_id bigint DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c record := crm_internal.client_for_update(client_id);
    given record;
    id bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    SELECT * INTO given FROM crm.consent k
    WHERE k.client_id = c.id AND k.purpose = btrim(grant_consent.purpose) AND k.withdrawn_at IS NULL;
    IF FOUND THEN
        RAISE EXCEPTION 'client % already consents to %', c.id, given.purpose
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Consent %s was granted at %s.', given.id, given.granted_at),
                  HINT = 'Withdraw it first to record a new grant.';
    END IF;
    INSERT INTO crm.consent (client_id, purpose, document_id)
    VALUES (c.id, btrim(purpose), document_id) RETURNING consent.id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION crm.grant_consent(bigint, text, bigint) IS
    'records a client''s consent to a purpose, optionally with the document that confirms it; returns its id';

CREATE FUNCTION crm.withdraw_consent(client_id bigint, purpose text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c record := crm_internal.client_for_update(client_id);
    id bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    UPDATE crm.consent k SET withdrawn_at = greatest(now(), k.granted_at)
    WHERE k.client_id = c.id AND k.purpose = btrim(withdraw_consent.purpose) AND k.withdrawn_at IS NULL
    RETURNING k.id INTO id;
    IF id IS NULL THEN
        RAISE EXCEPTION 'client % has no consent to % in force', c.id, btrim(purpose)
            USING ERRCODE = 'no_data_found',
                  HINT = format('Its consents are in crm.consent (client_id = %s).', c.id);
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION crm.withdraw_consent(bigint, text) IS
    'withdraws a client''s consent to a purpose (hiding the client if it was the last one and crm.hide_on_consent_withdrawal is on); returns the consent''s id';
--------------------------------------------------------------------------
-- Personal data: the audit log, the registry of personal columns, the
-- right of access (GDPR, doc/gdpr.md)
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('personal_data', $model$
-- What was done to whom, without any personal data: who, when, which
-- client (by id), and counts.  Written by crm's own functions.
CREATE TABLE crm.audit_log (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL DEFAULT crm_internal.session_role(),
    action      text NOT NULL,
    client_id   bigint,
    unit_id     bigint,
    detail      jsonb
);
CREATE INDEX audit_log_client_id_idx ON crm.audit_log (client_id);
CREATE INDEX audit_log_at_idx ON crm.audit_log (at);
COMMENT ON TABLE crm.audit_log IS
    'what was done that must be accounted for (merges, undos, deletes, hides, anonymizations, dedupe runs, rule, setting and permission changes), by whom and when; never any personal data; append-only, written by crm''s functions only';
COMMENT ON COLUMN crm.audit_log.id IS 'the entry''s key';
COMMENT ON COLUMN crm.audit_log.at IS 'when it was done';
COMMENT ON COLUMN crm.audit_log.actor IS 'the session''s role that did it (session_user, or the role chosen with SET ROLE)';
COMMENT ON COLUMN crm.audit_log.action IS
    'what was done: merge, unmerge, delete, hide, unhide, anonymize, dedupe, dedupe plan, or a change of a rule, setting, assignment or permission';
COMMENT ON COLUMN crm.audit_log.unit_id IS
    'the client''s unit when it was done (row-level security shows an entry to the roles that reach that unit); null for what concerns no client';
COMMENT ON COLUMN crm.audit_log.client_id IS 'the client acted on, by id only';
COMMENT ON COLUMN crm.audit_log.detail IS
    'facts without personal data, JSON: who requested it and when, the merged clients, rows changed per table';

CREATE TABLE crm.personal_column (
    relation    regclass NOT NULL,
    column_name name NOT NULL,
    replacement text,
    PRIMARY KEY (relation, column_name)
);
COMMENT ON TABLE crm.personal_column IS
    'personal columns of user tables that reference crm.client: crm.anonymize() sets them to replacement (NULL by default) and crm.client_export() marks them; written by crm.set_personal_column()';
COMMENT ON COLUMN crm.personal_column.relation IS
    'a table of the database''s own that references crm.client';
COMMENT ON COLUMN crm.personal_column.column_name IS 'a column of it that holds personal data';
COMMENT ON COLUMN crm.personal_column.replacement IS
    'what crm.anonymize() writes there: null (default) or this text';
CREATE TRIGGER personal_column_check BEFORE INSERT OR UPDATE ON crm.personal_column
    FOR EACH ROW EXECUTE FUNCTION crm_internal.personal_column_check();
CREATE TRIGGER personal_column_writer BEFORE INSERT OR UPDATE OR DELETE ON crm.personal_column
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.set_personal_column()');

CREATE VIEW crm.personal_data WITH (security_invoker = true) AS
    SELECT b.relation, b.column_name, b.action, b.replacement, true AS builtin
    FROM crm_internal.personal_data_builtin() b
    UNION ALL
    SELECT p.relation, p.column_name, 'clear', p.replacement, false FROM crm.personal_column p;
COMMENT ON VIEW crm.personal_data IS
    'everything crm.anonymize() removes besides the client''s own fields: crm''s tables and the registered user columns';
COMMENT ON COLUMN crm.personal_data.relation IS 'a table holding a client''s personal data';
COMMENT ON COLUMN crm.personal_data.column_name IS
    'the personal column; null where the client''s rows are deleted whole';
COMMENT ON COLUMN crm.personal_data.action IS
    'delete (the client''s rows go) or clear (the column is set to replacement)';
COMMENT ON COLUMN crm.personal_data.replacement IS
    'what a cleared column becomes: null, or this text';
COMMENT ON COLUMN crm.personal_data.builtin IS
    'true for crm''s own tables, false for columns registered in crm.personal_column';
GRANT SELECT ON crm.personal_data, crm.personal_column TO PUBLIC;
$model$);

-- Personal data outside crm.client, which crm.anonymize() removes: crm's
-- own tables here, user tables an administrator registers in
-- crm.personal_column.  Tables whose rows are all personal are emptied
-- of the client's rows (action delete); the other columns are set to
-- their replacement (NULL, or a neutral text where NULL is not allowed).
CREATE FUNCTION crm_internal.personal_data_builtin()
    RETURNS TABLE (relation regclass, column_name name, action text, replacement text)
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT v.relation::regclass, v.column_name::name, v.action, v.replacement FROM (VALUES
    ('crm.contact',        NULL,                  'delete', NULL),
    ('crm.custom_value',   NULL,                  'delete', NULL),
    ('crm.contact_person', NULL,                  'delete', NULL),
    ('crm.vcard_outbox',   NULL,                  'delete', NULL),
    ('crm.document',       'title',               'clear',  'anonymized'),
    ('crm.document',       'file_name',           'clear',  NULL),
    ('crm.document',       'content',             'clear',  NULL),
    ('crm.document',       'storage_url',         'clear',  NULL),
    ('crm.vehicle',        'registration_number', 'clear',  NULL),
    ('crm.vehicle',        'vin',                 'clear',  NULL),
    ('crm.interaction',    'phone',               'clear',  NULL),
    ('crm.interaction',    'summary',             'clear',  NULL),
    ('crm.needs_analysis', 'answers',             'clear',  NULL),
    ('crm.needs_analysis', 'summary',             'clear',  NULL),
    ('crm.invoice',        'billed_name',         'clear',  NULL),
    ('crm.invoice',        'billed_address',      'clear',  NULL),
    ('crm.invoice',        'billed_nip',          'clear',  NULL),
    ('crm.task',           'title',               'clear',  'anonymized'),
    ('crm.task',           'notes',               'clear',  NULL),
    ('crm.case',           'title',               'clear',  'anonymized'),
    ('crm.case',           'description',         'clear',  NULL),
    ('crm.service_entry',  'description',         'clear',  NULL),
    ('crm.ticket',         'subject',             'clear',  'anonymized'),
    ('crm.ticket',         'description',         'clear',  NULL)) AS v(relation, column_name, action, replacement);
$$;
COMMENT ON FUNCTION crm_internal.personal_data_builtin() IS
    'the personal data crm.anonymize() removes from crm''s own linked tables: rows deleted, or columns set to a replacement';

-- A type whose casts and operators no table owner chose: built in
-- (below FirstNormalObjectId) or crm's own.  crm.anonymize() reads with
-- crm's rights only columns of such types.
CREATE FUNCTION crm_internal.trusted_type(t oid) RETURNS boolean
    LANGUAGE sql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT t < 16384 OR EXISTS (SELECT FROM pg_type y WHERE y.oid = t AND y.typnamespace = 'crm'::regnamespace);
END;
COMMENT ON FUNCTION crm_internal.trusted_type(oid) IS
    'internal: whether a type is built in or crm''s own (no table owner chose its casts or operators)';

CREATE FUNCTION crm_internal.personal_column_check() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    att pg_attribute;
BEGIN
    IF NEW.relation = 'crm.client'::regclass
       OR (SELECT c.relnamespace FROM pg_class c WHERE c.oid = NEW.relation) = 'crm'::regnamespace THEN
        RAISE EXCEPTION 'crm''s own tables are not registered here'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'crm.anonymize() knows the personal data of its own tables: see crm_internal.personal_data_builtin().';
    END IF;
    -- a warning, not an error: a restore loads this before the foreign keys
    IF NOT EXISTS (SELECT FROM pg_constraint con
                   WHERE con.contype = 'f' AND con.confrelid = 'crm.client'::regclass
                     AND con.conrelid = NEW.relation) THEN
        RAISE WARNING 'table % does not reference crm.client', NEW.relation
            USING DETAIL = 'crm.anonymize() finds a client''s rows through a foreign key to crm.client; it will not reach this table until it has one.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_class k WHERE k.oid = NEW.relation) THEN
        -- a table dropped since it was registered (a restore brings the row back)
        RAISE WARNING 'table % does not exist', NEW.relation::oid
            USING DETAIL = 'crm.anonymize() skips it; delete the row from crm.personal_column.';
        RETURN NEW;
    END IF;
    SELECT * INTO att FROM pg_attribute a
    WHERE a.attrelid = NEW.relation AND a.attname = NEW.column_name AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of table % does not exist', NEW.column_name, NEW.relation
            USING ERRCODE = 'undefined_column';
    END IF;
    IF NOT crm_internal.trusted_type(att.atttypid) THEN
        RAISE EXCEPTION 'column "%" of table % is of a type crm.anonymize() does not read', NEW.column_name, NEW.relation
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'Registered personal columns must be of built-in types: their values are checked with crm''s rights.';
    END IF;
    IF att.attnotnull AND NEW.replacement IS NULL THEN
        RAISE EXCEPTION 'column "%" of table % is NOT NULL: it needs a replacement', NEW.column_name, NEW.relation
            USING ERRCODE = 'not_null_violation',
                  HINT = 'Give a neutral value in replacement, such as ''anonymized''.';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.personal_column_check() IS
    'trigger: a registered personal column exists and can take its replacement; warns if its table does not reference crm.client';

-- Registering a personal column (administrators): what crm.anonymize()
-- clears in the database's own tables.
CREATE FUNCTION crm.set_personal_column(relation regclass, column_name name, replacement text DEFAULT NULL,
                                        registered boolean DEFAULT true)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('register personal columns');
    IF relation IS NULL OR column_name IS NULL OR registered IS NULL THEN
        RAISE EXCEPTION 'relation, column_name and registered must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- the table's trigger checks the column; the replacement is a neutral
    -- value of the administrator's, not personal data
    PERFORM crm_internal.write_setting('crm.personal_column',
                                       jsonb_build_object('relation', relation, 'column_name', column_name,
                                                          'replacement', replacement),
                                       registered, 'personal column');
END
$$;
COMMENT ON FUNCTION crm.set_personal_column(regclass, name, text, boolean) IS
    'administrators: registers a personal column of a table that references crm.client (crm.anonymize() sets it to replacement, null by default); registered => false takes it out; audited';
REVOKE ALL ON FUNCTION crm.set_personal_column(regclass, name, text, boolean) FROM PUBLIC;

-- The registered user columns per foreign key to crm.client: what
-- crm.anonymize() sets (sets) and how to find a row that kept its data
-- (left_over), both as SQL over alias t.
CREATE FUNCTION crm_internal.personal_column_keys()
    RETURNS TABLE (relation regclass, constraint_name name, columns name[], client_columns name[],
                   sets text, left_over text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.relation, r.constraint_name, r.columns, r.client_columns,
           string_agg(format('%I = %L', p.column_name, p.replacement), ', ' ORDER BY p.column_name),
           string_agg(format('t.%I IS DISTINCT FROM %L', p.column_name, p.replacement), ' OR '
                      ORDER BY p.column_name)
    FROM crm.client_references() r JOIN crm.personal_column p ON p.relation = r.relation
    GROUP BY r.relation, r.constraint_name, r.columns, r.client_columns
    ORDER BY r.relation::text, r.constraint_name;
$$;
COMMENT ON FUNCTION crm_internal.personal_column_keys() IS
    'internal: the registered personal columns of each foreign key to crm.client, as the SQL that clears them and that finds rows not cleared';

-- The right of access: everything the database holds about a client that
-- the caller may read, as one document.
CREATE FUNCTION crm.client_export(client_id bigint) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    -- a key may use crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c record;
    ref record;
    part record;
    rows jsonb;
    linked jsonb := '{}';
    parts jsonb := '{}';
    unreadable text[] := '{}';
    name text;
BEGIN
    PERFORM crm_internal.require_data_model();
    SELECT * INTO c FROM crm.client cl WHERE cl.id = client_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'client % does not exist', client_id USING ERRCODE = 'no_data_found';
    END IF;
    -- every table with a foreign key to crm.client, in any schema
    FOR ref IN SELECT * FROM crm.client_references() LOOP
        name := crm_internal.relation_name(ref.relation);
        IF NOT (has_schema_privilege((SELECT k.relnamespace FROM pg_class k WHERE k.oid = ref.relation), 'USAGE')
                AND has_table_privilege(ref.relation, 'SELECT')) THEN
            unreadable := unreadable || name;
            CONTINUE;
        END IF;
        EXECUTE format('SELECT jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text) FROM %s t WHERE %s',
                       ref.relation, crm_internal.client_reference_condition(ref.columns, ref.client_columns, 1))
            INTO rows USING c.id;
        IF rows IS NOT NULL THEN
            -- two keys from one table: one list
            linked := jsonb_set(linked, ARRAY[name], coalesce(linked -> name, '[]') || rows);
        END IF;
    END LOOP;
    -- what crm keeps about the client elsewhere, each part if the caller may read it
    FOR part IN
        SELECT * FROM (VALUES
            ('custom_fields', 'crm.client_custom_value',
             'SELECT coalesce(jsonb_object_agg(v.field, v.value), ''{}'') FROM crm.client_custom_value v
              WHERE v.client_id = $1'),
            ('consent_history', 'crm.consent_history',
             'SELECT coalesce(jsonb_agg(to_jsonb(h) ORDER BY h.at, h.consent_id, h.event), ''[]'')
              FROM crm.consent_history h WHERE h.client_id = $1'),
            ('merged_records', 'crm.merge_log',
             'SELECT coalesce(jsonb_agg(jsonb_build_object(
                         ''merge_id'', m.id, ''merged_at'', m.merged_at, ''merged_by'', m.merged_by,
                         ''source_ids'', m.source_ids, ''sources'', m.sources, ''undone_at'', m.undone_at)
                         ORDER BY m.id), ''[]'')
              FROM crm.merge_log m WHERE m.target_id = $1'),
            ('possible_duplicates', 'crm.possible_duplicate',
             'SELECT coalesce(jsonb_agg(jsonb_build_object(
                         ''other_client_id'', CASE WHEN p.client_a = $1 THEN p.client_b ELSE p.client_a END,
                         ''score'', p.score, ''found_at'', p.found_at, ''dismissed_at'', p.dismissed_at)
                         ORDER BY p.client_a, p.client_b), ''[]'')
              FROM crm.possible_duplicate p WHERE $1 IN (p.client_a, p.client_b)'),
            ('personal_data', 'crm.personal_data',
             'SELECT coalesce(jsonb_agg(jsonb_build_object(
                         ''table'', crm_internal.relation_name(d.relation), ''column'', d.column_name, ''action'', d.action)
                         ORDER BY d.relation::text, d.column_name), ''[]'')
              FROM crm.personal_data d WHERE $1 IS NOT NULL')) AS v(name, relation, query)
    LOOP
        IF has_table_privilege(part.relation, 'SELECT') THEN
            EXECUTE part.query INTO rows USING c.id;
            parts := parts || jsonb_build_object(part.name, rows);
        ELSE
            unreadable := unreadable || part.relation;
        END IF;
    END LOOP;
    RETURN jsonb_build_object('client', to_jsonb(c), 'linked', linked) || parts
           || jsonb_build_object('not_readable', to_jsonb(unreadable),
                                 -- an agent sees its own share of the contact history and
                                 -- tickets (AC-2): say so, a right of access needs them all
                                 'partial', to_jsonb(ARRAY(
                                     SELECT t FROM unnest(ARRAY['crm.interaction', 'crm.ticket']) AS t
                                     WHERE row_security_active(t::regclass)
                                       AND NOT crm_internal.sees_all_work(current_user::text))),
                                 'exported_at', now());
END
$$;
COMMENT ON FUNCTION crm.client_export(bigint) IS
    'the right of access: the client, its custom fields, the rows of every table referencing it (user tables too), consent history, merged records and duplicate pairs, as jsonb; tables the caller cannot read are listed, not read';
--------------------------------------------------------------------------
-- Anonymization, the right to be forgotten (GD-2)
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('anonymization', $model$
CREATE TABLE crm.anonymization_code (
    client_id    bigint NOT NULL,
    requested_by text NOT NULL DEFAULT crm_internal.session_role(),
    requested_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    salt         bytea NOT NULL,
    code_hash    bytea NOT NULL,
    PRIMARY KEY (client_id, requested_by)
);
COMMENT ON TABLE crm.anonymization_code IS
    'pending anonymization codes, as salted SHA-256 hashes; written only by crm.anonymization_code() and crm.anonymize() (row-level security without a policy: no other role reads or writes a row, whatever it was granted)';
COMMENT ON COLUMN crm.anonymization_code.client_id IS 'the client to anonymize';
COMMENT ON COLUMN crm.anonymization_code.requested_by IS
    'the session''s role that requested the code (crm_internal.session_role()): only it (or its members) can use it';
COMMENT ON COLUMN crm.anonymization_code.requested_at IS 'when the code was requested';
COMMENT ON COLUMN crm.anonymization_code.expires_at IS
    'when the code stops working, 15 minutes after the request';
COMMENT ON COLUMN crm.anonymization_code.salt IS 'random salt of the hash';
COMMENT ON COLUMN crm.anonymization_code.code_hash IS
    'SHA-256 of the salt and the code; the code itself is never stored';

-- crm's SECURITY DEFINER functions write it as its owner, who bypasses
-- row-level security; with no policy nobody else reads or writes a row,
-- even with privileges granted by hand
ALTER TABLE crm.anonymization_code ENABLE ROW LEVEL SECURITY;
$model$);

-- Anonymization asks for a code typed back (GD-2): requested by an
-- administrator, valid for a short time, used once, kept only as a salted
-- hash.
CREATE FUNCTION crm_internal.anonymization_code_validity() RETURNS interval
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    RETURN interval '15 minutes';
COMMENT ON FUNCTION crm_internal.anonymization_code_validity() IS 'how long an anonymization code is valid: 15 minutes';

-- Only an administrator gets a code, for a client it reaches; the code's
-- row is written here with crm's rights (nobody else writes the table),
-- and who asked, when and until when are the server's: a role cannot
-- choose its own code.
CREATE FUNCTION crm.anonymization_code(client_id bigint) RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c record;
    caller text := crm_internal.session_role();
    alphabet constant text := 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';  -- no 0/O, 1/I
    random bytea := uuid_send(gen_random_uuid());
    salt bytea := uuid_send(gen_random_uuid());
    bits bigint := 0;
    code text := '';
BEGIN
    PERFORM crm_internal.require_data_model();
    -- who asks first: a refusal says nothing of a client out of reach
    PERFORM crm_internal.require_admin('request an anonymization code');
    c := crm_internal.client_in_reach(client_id, 'anonymize');
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    -- 40 bits from the first 5 bytes of a version 4 UUID, all random
    FOR i IN 0..4 LOOP
        bits := bits * 256 + get_byte(random, i);
    END LOOP;
    FOR i IN 1..8 LOOP
        code := code || substr(alphabet, (bits % 32)::integer + 1, 1);
        bits := bits / 32;
    END LOOP;
    DELETE FROM crm.anonymization_code a WHERE a.client_id = c.id AND a.requested_by = caller;
    INSERT INTO crm.anonymization_code (client_id, requested_by, requested_at, expires_at, salt, code_hash)
    VALUES (c.id, caller, now(), now() + crm_internal.anonymization_code_validity(),
            salt, sha256(salt || convert_to(code, 'UTF8')));
    RETURN left(code, 4) || '-' || right(code, 4);
END
$$;
COMMENT ON FUNCTION crm.anonymization_code(bigint) IS
    'administrators: a one-time code for a client they reach, valid for crm_internal.anonymization_code_validity(), to type back into crm.anonymize() in a session of the same role';

-- The right to be forgotten (GD-2): irreversible, administrators only.  The
-- caller's right to change the client is checked first, with its rights;
-- the registered user tables are written with its rights too, so that
-- their triggers, defaults and index expressions never run with more.
-- crm's own data goes through crm_internal.anonymize_crm_data(), SECURITY
-- DEFINER: it checks its caller again (it can be called alone), then the
-- code, and reaches the journals the caller may not write.  A code is
-- issued only to an administrator, for a client it reaches
-- (crm.anonymization_code()), and works only in that role's sessions.
CREATE FUNCTION crm.anonymize(client_id bigint, confirmation_code text) RETURNS void
    LANGUAGE plpgsql
    -- a key may use crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c record;
    ref record;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('anonymize clients');
    c := crm_internal.client_for_update(client_id);
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    FOR ref IN SELECT * FROM crm_internal.personal_column_keys() LOOP
        EXECUTE format('UPDATE %s t SET %s WHERE %s', ref.relation, ref.sets,
                       crm_internal.client_reference_condition(ref.columns, ref.client_columns, 1)) USING c.id;
    END LOOP;
    PERFORM crm_internal.anonymize_crm_data(c.id, confirmation_code);
END
$$;
COMMENT ON FUNCTION crm.anonymize(bigint, text) IS
    'administrators: the right to be forgotten: removes every piece of the client''s personal data (see doc/gdpr.md) once the code from crm.anonymization_code() is typed back; irreversible';

CREATE FUNCTION crm_internal.anonymize_crm_data(client_id bigint, confirmation_code text)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    -- a key may use crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c record;
    typed text := upper(regexp_replace(coalesce(confirmation_code, ''), '[^A-Za-z0-9]', '', 'g'));
    code record;
    ids bigint[];
    ref record;
    n bigint;
    rows_total bigint;
    counts jsonb := '{}';
BEGIN
    PERFORM crm_internal.require_data_model();
    -- the caller first, then the client, then its codes: called directly,
    -- a refusal says nothing of a client out of reach or of its codes
    PERFORM crm_internal.require_admin('anonymize clients');
    c := crm_internal.client_in_reach(client_id, 'anonymize');
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    SELECT * INTO code FROM crm.anonymization_code a
    WHERE a.client_id = c.id AND a.code_hash = sha256(a.salt || convert_to(typed, 'UTF8'))
    ORDER BY a.expires_at DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'confirmation code does not match'
            USING ERRCODE = 'invalid_authorization_specification',
                  DETAIL = CASE WHEN EXISTS (SELECT FROM crm.anonymization_code a WHERE a.client_id = c.id)
                                THEN format('The code typed is not one issued for client %s.', c.id)
                                ELSE format('No code was requested for client %s.', c.id) END,
                  HINT = format('Request one with crm.anonymization_code(%s) and type it back as shown.', c.id);
    END IF;
    -- a code works in a session of the role that requested it (or of a
    -- member of that role): a code read over someone's shoulder does not
    IF NOT pg_has_role(crm_internal.session_role(), code.requested_by, 'MEMBER') THEN
        RAISE EXCEPTION 'confirmation code for client % was requested by another role', c.id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role %s requested it; this session is %s''s.', code.requested_by, crm_internal.session_role()),
                  HINT = format('Request your own with crm.anonymization_code(%s).', c.id);
    END IF;
    IF code.expires_at < clock_timestamp() THEN
        RAISE EXCEPTION 'confirmation code for client % has expired', c.id
            USING ERRCODE = 'invalid_authorization_specification',
                  DETAIL = format('It was valid until %s.', code.expires_at),
                  HINT = format('Request a new one with crm.anonymization_code(%s).', c.id);
    END IF;
    DELETE FROM crm.anonymization_code a WHERE a.client_id = c.id;

    -- this client and every client ever merged into it, at any depth: their
    -- rows now belong to this one, their copies are in the journal
    -- (a merge undone since gave its source back: that client is another)
    WITH RECURSIVE merged(id) AS (
        SELECT c.id
        UNION
        SELECT s.id FROM merged m JOIN crm.merge_log l ON l.target_id = m.id AND l.undone_at IS NULL,
                         unnest(l.source_ids) AS s(id)
    )
    SELECT array_agg(m.id ORDER BY m.id) INTO ids FROM merged m;

    -- the counts of names (crm.match_frequency) forget the client's names,
    -- and those of the clients merged into it since the counts were
    -- refreshed (they were counted as persons of their own): no count
    -- keeps an erased person, and a name no longer common goes.  Only
    -- persons the refresh counted are taken out (there before it, and not
    -- hidden then): merging clients made since into one to be erased must
    -- not lower a name's count below its bearers
    PERFORM crm_internal.uncount_match_frequencies(ARRAY(
        SELECT k.key
        FROM (SELECT c.kind, c.first_name, c.last_name, c.birth_date, c.created_at, c.hidden_at
              UNION ALL
              SELECT s ->> 'kind', s ->> 'first_name', s ->> 'last_name', (s ->> 'birth_date')::date,
                     (s ->> 'created_at')::timestamptz, (s ->> 'hidden_at')::timestamptz
              FROM crm.merge_log l, jsonb_array_elements(l.sources) AS s
              WHERE l.target_id = ANY (ids) AND l.undone_at IS NULL AND l.sources IS NOT NULL
                AND l.merged_at > (SELECT max(t.refreshed_at) FROM crm.match_frequency_total t)) p,
             unnest(crm_internal.match_frequency_keys(p.kind, p.first_name, p.last_name, p.birth_date)) AS k(key)
        WHERE p.created_at <= (SELECT max(t.refreshed_at) FROM crm.match_frequency_total t)
          AND (p.hidden_at IS NULL OR p.hidden_at > (SELECT max(t.refreshed_at) FROM crm.match_frequency_total t))));

    -- the journal keeps that merges happened, not what they copied of these
    -- clients: crm.unmerge() can never bring any of it back.  A merge still
    -- in place into them held only their data; one undone since holds
    -- another client's too, which stays.
    UPDATE crm.merge_log_row r SET row_data = NULL
    FROM crm.merge_log l
    WHERE r.merge_id = l.id AND r.row_data IS NOT NULL
      AND (r.client_id = ANY (ids) OR (l.target_id = ANY (ids) AND l.undone_at IS NULL));
    UPDATE crm.merge_log l
    SET sources = CASE WHEN l.source_ids && ids OR l.undone_at IS NULL THEN NULL ELSE l.sources END,
        target_before = CASE WHEN l.target_id = ANY (ids) THEN NULL ELSE l.target_before END,
        target_after = CASE WHEN l.target_id = ANY (ids) THEN NULL ELSE l.target_after END,
        field_values = NULL,
        conflicts = NULL,
        anonymized_at = coalesce(l.anonymized_at, now())
    WHERE l.target_id = ANY (ids) OR l.source_ids && ids;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        counts := counts || jsonb_build_object('crm.merge_log', n);
    END IF;

    DELETE FROM crm.possible_duplicate p WHERE p.client_a = ANY (ids) OR p.client_b = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        counts := counts || jsonb_build_object('crm.possible_duplicate', n);
    END IF;
    -- a dedupe plan's groups hold names and contacts: the client's go
    WITH gone AS (
        DELETE FROM crm.dedupe_plan_item i
        USING crm.dedupe_plan_item mine
        WHERE mine.client_id = ANY (ids) AND i.plan_id = mine.plan_id AND i.group_no = mine.group_no
        RETURNING i.plan_id, i.group_no
    )
    DELETE FROM crm.dedupe_plan_choice ch USING gone g
    WHERE ch.plan_id = g.plan_id AND ch.group_no = g.group_no;

    -- the registered user tables were written by crm.anonymize() with the
    -- caller's rights: rows it could not see or change would keep their
    -- data.  Checking reads them with crm's rights, so nothing whose
    -- behaviour their owner chose may run: their registered and key
    -- columns must be of built-in types (no user cast, operator or domain
    -- check), and every registration must still reach the table
    SELECT p.relation, p.column_name INTO ref FROM crm.personal_column p
    WHERE EXISTS (SELECT FROM pg_class k WHERE k.oid = p.relation)
      AND (NOT EXISTS (SELECT FROM crm.client_references() r WHERE r.relation = p.relation)
           OR NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = p.relation AND a.attname = p.column_name
                                                       AND a.attnum > 0 AND NOT a.attisdropped))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'registered personal column %.% cannot be reached', crm_internal.relation_name(ref.relation), ref.column_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The column no longer exists, or its table no longer references crm.client.',
                  HINT = 'Fix or delete the row in crm.personal_column.';
    END IF;
    SELECT r.relation, a.attname INTO ref
    FROM crm.client_references() r
    JOIN pg_attribute a ON a.attrelid = r.relation AND a.attnum > 0 AND NOT a.attisdropped
    WHERE EXISTS (SELECT FROM crm.personal_column p WHERE p.relation = r.relation)
      AND (a.attname = ANY (r.columns)
           OR EXISTS (SELECT FROM crm.personal_column p WHERE p.relation = r.relation AND p.column_name = a.attname))
      AND NOT crm_internal.trusted_type(a.atttypid)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'column %.% is of a type crm.anonymize() does not read', crm_internal.relation_name(ref.relation), ref.attname
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'Registered personal columns and their table''s key to crm.client must be of built-in types.',
                  HINT = 'Use text, varchar, jsonb, bigint and the like for them.';
    END IF;
    FOR ref IN SELECT * FROM crm_internal.personal_column_keys() LOOP
        EXECUTE format('SELECT count(*) FILTER (WHERE %s), count(*) FROM %s t WHERE %s', ref.left_over,
                       ref.relation, crm_internal.client_reference_condition(ref.columns, ref.client_columns, 1))
            INTO n, rows_total USING c.id;
        IF n > 0 THEN
            RAISE EXCEPTION 'table % still holds personal data of client %', crm_internal.relation_name(ref.relation), c.id
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format('%s of its rows were not cleared: row-level security hides them from the caller, or crm.anonymize() was not called.', n),
                      HINT = 'Call crm.anonymize() as a role that may update every row of the client in that table.';
        END IF;
        IF rows_total > 0 THEN
            counts := counts || jsonb_build_object(crm_internal.relation_name(ref.relation),
                rows_total + coalesce((counts ->> crm_internal.relation_name(ref.relation))::bigint, 0));
        END IF;
    END LOOP;

    -- consents in force end; their history has no personal data and stays
    UPDATE crm.consent k SET withdrawn_at = greatest(now(), k.granted_at)
    WHERE k.client_id = c.id AND k.withdrawn_at IS NULL;

    -- crm's linked tables, through their keys
    FOR ref IN
        SELECT r.relation, r.columns, r.client_columns,
               bool_or(d.action = 'delete') AS delete_rows,
               string_agg(format('%I = %L', d.column_name, d.replacement), ', ' ORDER BY d.column_name)
                   FILTER (WHERE d.action = 'clear') AS sets
        FROM crm.client_references() r JOIN crm_internal.personal_data_builtin() d ON d.relation = r.relation
        GROUP BY r.relation, r.constraint_name, r.columns, r.client_columns
        ORDER BY r.relation::text, r.constraint_name
    LOOP
        IF ref.delete_rows THEN
            EXECUTE format('DELETE FROM %s t WHERE %s', ref.relation,
                           crm_internal.client_reference_condition(ref.columns, ref.client_columns, 1)) USING c.id;
        ELSE
            EXECUTE format('UPDATE %s t SET %s WHERE %s', ref.relation, ref.sets,
                           crm_internal.client_reference_condition(ref.columns, ref.client_columns, 1)) USING c.id;
        END IF;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            counts := counts || jsonb_build_object(crm_internal.relation_name(ref.relation),
                                                   n + coalesce((counts ->> crm_internal.relation_name(ref.relation))::bigint, 0));
        END IF;
    END LOOP;

    -- the client itself, last: the keys above may read its fields
    UPDATE crm.client cl
    SET first_name = NULL, last_name = NULL, company_name = NULL, display_name = NULL,
        city = NULL, postal_code = NULL, address = NULL, pesel = NULL, nip = NULL, regon = NULL,
        birth_date = NULL, external_id = NULL, hidden_at = NULL, hidden_reason = NULL,
        anonymized_at = now()
    WHERE cl.id = c.id;

    PERFORM crm_internal.audit('anonymize', c.id, jsonb_build_object(
        'requested_by', code.requested_by, 'requested_at', code.requested_at,
        'merged_clients', to_jsonb(array_remove(ids, c.id)), 'rows', counts));
END
$$;
COMMENT ON FUNCTION crm_internal.anonymize_crm_data(bigint, text) IS
    'internal, called by crm.anonymize(): checks the caller (an administrator reaching the client) and uses the code, verifies the registered user tables were cleared, removes the client''s personal data from crm''s tables and journals, writes crm.audit_log';
REVOKE EXECUTE ON FUNCTION crm.anonymize(bigint, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION crm_internal.anonymize_crm_data(bigint, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION crm.anonymization_code(bigint) FROM PUBLIC;
--------------------------------------------------------------------------
-- Import (WB-2): a CSV file staged with COPY, a mapping from its columns to
-- client fields, contacts, custom fields, campaigns and segments, a
-- preview, and an atomic apply that creates the valid rows as clients and
-- records every invalid row with all its reasons (doc/working-with-the-base.md)
--
-- 1. crm.import_begin(columns) records a batch and creates the staging
--    table: a TEMP table of the session, one text column per file column,
--    into which psql's \copy loads the file (header, any client encoding);
-- 2. crm.import_preview(batch, mapping, n): the first n rows mapped, each
--    with its verdict and reasons;
-- 3. crm.import_apply(batch, mapping): in one transaction, the valid rows
--    become clients with their contacts, custom values and memberships,
--    the invalid ones go to crm.import_reject with the original row and
--    every reason, and one set-based duplicate pass records the pairs
--    involving the new clients in crm.possible_duplicate.
--
-- Everything runs with the caller's rights: row-level security and
-- privileges apply to every row written.  The staged rows are input: the
-- generated SQL names only columns of the batch (a whitelist, quoted with
-- %I) and targets of a fixed list; values are never part of the SQL text.
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('import', $model$
CREATE TABLE crm.import_batch (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    file_name   text,
    columns     text[] NOT NULL CHECK (cardinality(columns) > 0),
    staging     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT crm_internal.session_role(),
    mapping     jsonb,
    applied_at  timestamptz,
    result      jsonb
);
COMMENT ON TABLE crm.import_batch IS
    'imports (WB-2): the file''s columns, the staging table of the session that loads it, and once applied the mapping used and what it did';
COMMENT ON COLUMN crm.import_batch.id IS 'the batch''s number; its clients have source "import <id> row <n>"';
COMMENT ON COLUMN crm.import_batch.file_name IS 'the file''s name, as given to crm.import_begin(), for the record';
COMMENT ON COLUMN crm.import_batch.columns IS 'the file''s columns in order: the staging table''s columns and the names a mapping uses';
COMMENT ON COLUMN crm.import_batch.staging IS
    'the name of the staging table: a TEMP table of the session that called crm.import_begin() (pg_temp.<staging>)';
COMMENT ON COLUMN crm.import_batch.created_at IS 'when the batch was begun';
COMMENT ON COLUMN crm.import_batch.created_by IS 'the role that began it';
COMMENT ON COLUMN crm.import_batch.mapping IS 'the mapping crm.import_apply() used; null until applied';
COMMENT ON COLUMN crm.import_batch.applied_at IS 'when crm.import_apply() imported it (once); null until then';
COMMENT ON COLUMN crm.import_batch.result IS
    'what applying did: {"rows": n, "imported": n, "rejected": n, "contacts": n, "possible_duplicates": n}';

CREATE TABLE crm.import_reject (
    batch_id    bigint NOT NULL REFERENCES crm.import_batch (id) ON DELETE CASCADE,
    row_no      bigint NOT NULL,
    original    text[] NOT NULL,
    reasons     text[] NOT NULL CHECK (cardinality(reasons) > 0),
    PRIMARY KEY (batch_id, row_no)
);
COMMENT ON TABLE crm.import_reject IS
    'the rows of an import that were not imported: the original row and every reason';
COMMENT ON COLUMN crm.import_reject.batch_id IS 'the import batch (crm.import_batch)';
COMMENT ON COLUMN crm.import_reject.row_no IS 'the row''s number in the file: 1 is the first row after the header';
COMMENT ON COLUMN crm.import_reject.original IS
    'the row as staged, one value per column of the batch (crm.import_batch.columns), in the file''s order';
COMMENT ON COLUMN crm.import_reject.reasons IS
    'every reason the row was refused: "<column>: <the DETAIL the type raises>", or what the client lacks';
$model$);

--------------------------------------------------------------------------
-- Checks that never raise, for staged values
--------------------------------------------------------------------------

-- A date as typed in a file: YYYY-MM-DD or DD.MM.YYYY; NULL when it is
-- neither or no day of the calendar (crm_internal.import_date_problem says
-- which).  No exception is caught: 1,000,000 rows, no subtransaction each.
-- In C (src/importcheck.c): as an inlined expression of regular expressions
-- it took about a third of the mapping of 100,000 rows (and as a function
-- with a SET clause, 110 microseconds a date).  The rule, as that expression
-- said it: the value without leading and trailing spaces; DD.MM.YYYY (day
-- and month of one or two ASCII digits) read as YYYY-MM-DD; YYYY-MM-DD with
-- month and day of one or two digits, year 1 or later, month 1 to 12, a day
-- the month has (Gregorian leap years).  sql/import.sql compares the two.
CREATE FUNCTION crm_internal.import_date(value text) RETURNS date
    AS 'MODULE_PATHNAME', 'import_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm_internal.import_date(text) IS
    'a date typed as YYYY-MM-DD or DD.MM.YYYY, or NULL when it is neither or does not exist; never raises';

CREATE FUNCTION crm_internal.import_date_problem(value text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN crm_internal.import_date(value) IS NOT NULL THEN NULL
        WHEN btrim(value) ~ '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$|^[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}$'
        THEN format('The date %s does not exist.', btrim(value))
        ELSE format('"%s" is not a date written YYYY-MM-DD or DD.MM.YYYY.', value) END
$$;
COMMENT ON FUNCTION crm_internal.import_date_problem(text) IS
    'why a typed date is refused (no such day, or not written YYYY-MM-DD or DD.MM.YYYY); NULL when crm_internal.import_date() reads it';

-- What crm.set_custom_value() accepts for a number field (a decimal comma
-- too), without the exception: finite, an exponent of at most 3 digits.
-- Inlined like crm_internal.import_date().
CREATE FUNCTION crm_internal.import_number(value text) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN replace(btrim(value), ',', '.') ~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$'
            THEN replace(btrim(value), ',', '.')::numeric END;
COMMENT ON FUNCTION crm_internal.import_number(text) IS
    'a number as a custom number field takes it (decimal point or comma), or NULL when it is not one; never raises';

--------------------------------------------------------------------------
-- Batches and their staging tables
--------------------------------------------------------------------------

CREATE FUNCTION crm.import_begin(columns text[], file_name text DEFAULT NULL, staging text DEFAULT 'crm_import')
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    batch bigint;
    twice text;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF columns IS NULL OR cardinality(columns) = 0 OR cardinality(columns) > 1600
       OR array_position(columns, NULL) IS NOT NULL
       OR EXISTS (SELECT FROM unnest(columns) AS c WHERE c = '' OR octet_length(c) > 63) THEN
        RAISE EXCEPTION 'an import names its file''s columns, 1 to 1600 of them'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Each name is the column''s header as the file has it: not null, not empty, at most 63 bytes.',
                  HINT = 'For example: crm.import_begin(ARRAY[''Imię'', ''Nazwisko'', ''PESEL'', ''Telefon'']).';
    END IF;
    SELECT c INTO twice FROM unnest(columns) AS c GROUP BY c HAVING count(*) > 1 ORDER BY c LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'column "%" is named twice', twice
            USING ERRCODE = 'duplicate_column',
                  HINT = 'Give each column its own name here, and load the file with HEADER true (not match): COPY then skips the header line without comparing it.';
    END IF;
    -- crm_import_work, crm_import_new and crm_import_pairs are the import's own work tables
    IF staging IS NULL OR staging = '' OR octet_length(staging) > 63
       OR staging IN ('crm_import_work', 'crm_import_new', 'crm_import_pairs') THEN
        RAISE EXCEPTION 'invalid staging table name'
            USING ERRCODE = 'invalid_name',
                  DETAIL = format('The name is %s; crm_import_work, crm_import_new and crm_import_pairs are the import''s own.',
                                  coalesce(quote_literal(staging), 'NULL')),
                  HINT = 'Name the staging table with a plain name of at most 63 bytes, or leave the default crm_import.';
    END IF;
    IF to_regclass(format('pg_temp.%I', staging)) IS NOT NULL THEN
        RAISE EXCEPTION 'staging table pg_temp.% already exists', quote_ident(staging)
            USING ERRCODE = 'duplicate_table',
                  DETAIL = 'An earlier import of this session (or a table of yours) has that name.',
                  HINT = format('DROP TABLE pg_temp.%I, or name another staging table: crm.import_begin(columns, file_name, staging => ''...'').',
                                staging);
    END IF;
    EXECUTE format('CREATE TEMP TABLE %I (%s)', staging,
                   (SELECT string_agg(format('%I text', c), ', ' ORDER BY o) FROM unnest(columns) WITH ORDINALITY AS u(c, o)));
    INSERT INTO crm.import_batch (file_name, columns, staging) VALUES (file_name, columns, staging)
    RETURNING id INTO batch;
    RETURN batch;
END
$$;
COMMENT ON FUNCTION crm.import_begin(text[], text, text) IS
    'begins an import: records a batch for a file with these columns and creates its staging table pg_temp.<staging> (default crm_import, one text column each) for \copy; returns the batch''s number';

-- The staging table of a batch of this session, checked.
CREATE FUNCTION crm_internal.import_staging(batch_id bigint, for_apply boolean) RETURNS regclass
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    b record;
    staged regclass;
    missing text;
BEGIN
    PERFORM crm_internal.require_data_model();
    SELECT * INTO b FROM crm.import_batch x WHERE x.id = batch_id;
    IF NOT FOUND THEN
        -- the same words whether it does not exist or is another role's
        RAISE EXCEPTION 'import batch % does not exist', batch_id
            USING ERRCODE = 'no_data_found',
                  HINT = 'crm.import_begin() begins a batch; see crm.import_batch for yours.';
    END IF;
    IF for_apply AND b.applied_at IS NOT NULL THEN
        RAISE EXCEPTION 'import batch % was applied already', batch_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Its result: %s.', b.result),
                  HINT = 'A batch is imported once; begin a new one to import the file again.';
    END IF;
    staged := to_regclass(format('pg_temp.%I', b.staging));
    IF staged IS NULL THEN
        RAISE EXCEPTION 'the staged rows of import batch % are not in this session', batch_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('They were loaded into pg_temp.%I, a temporary table of the session that began the batch; it ends with that session.',
                                  b.staging),
                  HINT = 'Preview and apply in the session that called crm.import_begin() and loaded the file, or begin again.';
    END IF;
    SELECT string_agg(format('%I', c), ', ') INTO missing FROM unnest(b.columns) AS c
    WHERE NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = staged AND a.attname = c
                                                   AND a.attnum > 0 AND NOT a.attisdropped);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'staging table % lacks columns of import batch %', staged, batch_id
            USING ERRCODE = 'undefined_column',
                  DETAIL = format('Missing: %s.', missing),
                  HINT = 'Begin a new batch.';
    END IF;
    RETURN staged;
END
$$;
COMMENT ON FUNCTION crm_internal.import_staging(bigint, boolean) IS
    'internal: the staging table of an import batch (a TEMP table of this session), checked; for_apply refuses a batch applied already';

--------------------------------------------------------------------------
-- The mapping
--------------------------------------------------------------------------

-- The targets a mapping names, each with how it is written to the client:
-- the one list the generated SQL is built from.
CREATE FUNCTION crm.import_targets()
    RETURNS TABLE (target text, many boolean, description text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
    ('kind', false, 'person or company; when not mapped: company if the row has a company name and no last name, else person'),
    ('first_name', false, 'crm.client.first_name'),
    ('last_name', false, 'crm.client.last_name (a person needs one)'),
    ('company_name', false, 'crm.client.company_name (a company needs one)'),
    ('display_name', false, 'crm.client.display_name (default: the names)'),
    ('city', false, 'crm.client.city'),
    ('postal_code', false, 'crm.client.postal_code'),
    ('address', false, 'crm.client.address'),
    ('pesel', false, 'crm.client.pesel, checked as type crm.pesel checks it'),
    ('nip', false, 'crm.client.nip, checked as type crm.nip checks it'),
    ('regon', false, 'crm.client.regon, checked as type crm.regon checks it'),
    ('birth_date', false, 'crm.client.birth_date, written YYYY-MM-DD or DD.MM.YYYY; must agree with the PESEL'),
    ('language', false, 'crm.client.language: pl, en, de, cs or ro'),
    ('external_id', false, 'crm.client.external_id, the key in the source system'),
    ('owner', false, 'crm.client.owner, the account manager (a role name)'),
    ('unit_id', false, 'crm.client.unit_id, the number of a unit the importing role reaches'),
    ('phone', true, 'phones (crm.contact): the first of the row is its default'),
    ('email', true, 'e-mail addresses (crm.contact): the first of the row is its default'),
    ('campaign', true, 'campaigns by name (crm.campaign_member)'),
    ('segment', true, 'segments by name (crm.segment_member)'),
    ('custom', false, 'custom fields: {"<field name>": <column>, ...} (crm.custom_value)');
$$;
COMMENT ON FUNCTION crm.import_targets() IS
    'what an import mapping may name: client fields, phone, email, campaign, segment (many: several columns, or a column with a separator) and custom';

-- One spec of a mapping, read: a column of the batch or a constant, and a
-- separator for targets that take many values.  Raises on anything else.
CREATE FUNCTION crm_internal.import_spec(spec jsonb, target text, many boolean, columns text[], batch_id bigint,
                                         OUT col text, OUT constant text, OUT separator text, OUT label text)
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    IF jsonb_typeof(spec) = 'string' THEN
        col := spec #>> '{}';
    ELSIF jsonb_typeof(spec) = 'object'
          AND (SELECT bool_and(k IN ('column', 'value', 'separator')) FROM jsonb_object_keys(spec) AS k)
          AND (spec ? 'column') <> (spec ? 'value')
          AND jsonb_typeof(coalesce(spec -> 'column', spec -> 'value')) IN ('string', 'number')
          AND (NOT spec ? 'separator' OR (many AND jsonb_typeof(spec -> 'separator') = 'string'
                                           AND spec ->> 'separator' <> '')) THEN
        col := spec ->> 'column';
        constant := spec ->> 'value';
        separator := spec ->> 'separator';
    ELSE
        RAISE EXCEPTION 'invalid mapping of import target "%"', target
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is mapped to %s.', spec),
                  HINT = CASE WHEN many
                              THEN 'Map it to a column name, {"column": "<name>", "separator": ";"}, {"value": "<the same for every row>"}, or an array of these.'
                              ELSE 'Map it to a column name, {"column": "<name>"} or {"value": "<the same for every row>"}.' END;
    END IF;
    IF col IS NOT NULL AND NOT col = ANY (columns) THEN
        RAISE EXCEPTION 'column "%" is not in import batch %', col, batch_id
            USING ERRCODE = 'undefined_column',
                  DETAIL = format('Import target "%s" is mapped to it; the batch''s columns are: %s.',
                                  target, (SELECT string_agg(format('"%s"', c), ', ') FROM unnest(columns) AS c)),
                  HINT = 'Name a column as the file''s header has it (case and spaces count).';
    END IF;
    label := coalesce(col, target);
END
$$;
COMMENT ON FUNCTION crm_internal.import_spec(jsonb, text, boolean, text[], bigint) IS
    'internal: one target''s spec of an import mapping read (a column of the batch, or a constant; a separator for targets of many values), or 22023/42703';

-- A constant of a mapping is checked once, as the rows' values are.
CREATE FUNCTION crm_internal.import_refuse_constant(target text, constant text, problem text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'invalid value for import target "%": "%"', target, constant
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = problem,
                  HINT = 'Correct the value in the mapping, or map the target to a column.';
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.import_refuse_constant(text, text, text) IS
    'internal: 22023 for a constant of an import mapping that a row''s value would be rejected for';

-- The mapping, checked, as the SQL of the mapped rows: builds
-- pg_temp.crm_import_work (dropped at commit) from the staging table, the
-- first row_limit rows (NULL: all), one row per staged row: row_no,
-- original, the client's fields, phones, emails, campaign_ids, segment_ids,
-- one column custom_<field id> per custom field, and reasons (empty: the
-- row is imported).  Returns the custom fields mapped, [{id, type}].
CREATE FUNCTION crm_internal.import_map(batch_id bigint, mapping jsonb, row_limit bigint, for_apply boolean)
    RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    staged regclass := crm_internal.import_staging(batch_id, for_apply);
    columns text[] := (SELECT b.columns FROM crm.import_batch b WHERE b.id = batch_id);
    t record;
    s record;
    f record;
    item jsonb;
    raw text[] := '{}';        -- inner select list: text values of the staged row
    typed text[] := '{}';      -- outer select list
    reasons text[] := '{}';    -- scalar reasons (NULL when none)
    lists text[] := '{}';      -- arrays of reasons
    custom jsonb := '[]';
    many_expr text;
    n bigint;
    v text;
    needs_unit boolean;
    problem text;
BEGIN
    IF mapping IS NULL OR jsonb_typeof(mapping) <> 'object' THEN
        RAISE EXCEPTION 'an import mapping is a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is %s.', coalesce(jsonb_typeof(mapping), 'null')),
                  HINT = 'For example: {"last_name": "Nazwisko", "first_name": "Imię", "phone": ["Telefon"]}; crm.import_targets() lists the targets.';
    END IF;
    SELECT k INTO v FROM jsonb_object_keys(mapping) AS k
    WHERE NOT EXISTS (SELECT FROM crm.import_targets() x WHERE x.target = k) ORDER BY k LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unknown import target "%"', v
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A mapping''s keys are the fields it fills; its values name the file''s columns.',
                  HINT = format('Use %s.', (SELECT string_agg(x.target, ', ') FROM crm.import_targets() x));
    END IF;
    IF NOT (mapping ?| ARRAY['last_name', 'company_name']) THEN
        RAISE EXCEPTION 'the mapping fills neither last_name nor company_name'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A person needs a last name and a company a company name: every row would be rejected.',
                  HINT = 'Map last_name (persons) or company_name (companies) to a column.';
    END IF;

    -- client fields: the text of each (NULL when not mapped or empty)
    FOR t IN SELECT x.target FROM crm.import_targets() x WHERE NOT x.many AND x.target <> 'custom' LOOP
        IF NOT mapping ? t.target THEN
            raw := raw || format('NULL::text AS %I', t.target);
            CONTINUE;
        END IF;
        s := crm_internal.import_spec(mapping -> t.target, t.target, false, columns, batch_id);
        IF s.col IS NOT NULL THEN
            raw := raw || format('nullif(btrim(s.c%s), '''') AS %I', array_position(columns, s.col), t.target);
        ELSE
            raw := raw || format('nullif(btrim(%L::text), '''') AS %I', s.constant, t.target);
            problem := CASE t.target
                WHEN 'pesel' THEN crm.pesel_problem(s.constant)
                WHEN 'nip' THEN crm.nip_problem(s.constant)
                WHEN 'regon' THEN crm.regon_problem(s.constant)
                WHEN 'birth_date' THEN crm_internal.import_date_problem(s.constant)
                WHEN 'kind' THEN CASE WHEN lower(btrim(s.constant)) NOT IN ('person', 'company')
                                      THEN 'The kind of a client is person or company.' END
                WHEN 'language' THEN CASE WHEN lower(btrim(s.constant)) NOT IN ('pl', 'en', 'de', 'cs', 'ro')
                                          THEN 'The language is one of pl, en, de, cs, ro.' END
                WHEN 'unit_id' THEN CASE WHEN btrim(s.constant) !~ '^[0-9]{1,18}$' THEN 'A unit is given by its number.' END
            END;
            PERFORM crm_internal.import_refuse_constant(t.target, s.constant, problem);
        END IF;
        -- the label of the reasons: the file's column
        CASE t.target
        WHEN 'pesel', 'nip', 'regon' THEN
            reasons := reasons || format('CASE WHEN m.%1$I IS NOT NULL THEN %2$L || '': '' || crm.%1$s_problem(m.%1$I) END',
                                         t.target, s.label);
        WHEN 'birth_date' THEN
            reasons := reasons || format('CASE WHEN m.birth_date IS NOT NULL AND m.birth IS NULL THEN %L || '': '' || crm_internal.import_date_problem(m.birth_date) END',
                                         s.label);
        WHEN 'kind' THEN
            reasons := reasons || format('CASE WHEN lower(m.kind) NOT IN (''person'', ''company'') THEN %L || format('': "%%s" is neither person nor company.'', m.kind) END',
                                         s.label);
        WHEN 'language' THEN
            reasons := reasons || format('CASE WHEN lower(m.language) NOT IN (''pl'', ''en'', ''de'', ''cs'', ''ro'') THEN %L || format('': "%%s" is not one of the languages pl, en, de, cs, ro.'', m.language) END',
                                         s.label);
        WHEN 'unit_id' THEN
            reasons := reasons || format($r$CASE WHEN m.unit_id IS NULL THEN NULL
                                                 WHEN m.unit_id !~ '^[0-9]{1,18}$' THEN %1$L || format(': "%%s" is not the number of a unit.', m.unit_id)
                                                 WHEN NOT EXISTS (SELECT FROM crm.unit u WHERE u.id = m.unit_id::bigint)
                                                 THEN %1$L || format(': unit %%s does not exist.', m.unit_id)
                                                 WHEN NOT crm_internal.reaches_unit(crm_internal.session_role(), m.unit_id::bigint)
                                                 THEN %1$L || format(': role "%%s" does not reach unit %%s.', crm_internal.session_role(), m.unit_id) END$r$,
                                         s.label);
        ELSE
            NULL;
        END CASE;
    END LOOP;

    -- targets of many values: one text[] per spec (inner column
    -- "<target>#<n>"), each with its reasons; the target's values are
    -- theirs together
    FOR t IN SELECT x.target FROM crm.import_targets() x WHERE x.many LOOP
        many_expr := 'ARRAY[]::text[]';
        IF mapping ? t.target THEN
            FOR item, n IN SELECT e, o FROM jsonb_array_elements(CASE WHEN jsonb_typeof(mapping -> t.target) = 'array'
                                                                      THEN mapping -> t.target
                                                                      ELSE jsonb_build_array(mapping -> t.target) END)
                                          WITH ORDINALITY AS a(e, o) LOOP
                s := crm_internal.import_spec(item, t.target, true, columns, batch_id);
                IF s.constant IS NOT NULL THEN
                    SELECT string_agg(p, ' ') INTO problem
                    FROM unnest(crm_internal.import_items(s.constant, s.separator)) AS x,
                         LATERAL (SELECT CASE t.target
                                             WHEN 'phone' THEN crm.phone_problem(x)
                                             WHEN 'email' THEN crm.email_problem(x)
                                             WHEN 'campaign' THEN CASE WHEN NOT EXISTS (SELECT FROM crm.campaign c WHERE c.name = x)
                                                                       THEN format('Campaign "%s" does not exist.', x) END
                                             WHEN 'segment' THEN CASE WHEN NOT EXISTS (SELECT FROM crm.segment c WHERE c.name = x)
                                                                      THEN format('Segment "%s" does not exist.', x) END
                                         END AS p) AS q;
                    PERFORM crm_internal.import_refuse_constant(t.target, s.constant, problem);
                END IF;
                v := CASE WHEN s.col IS NOT NULL THEN format('s.c%s', array_position(columns, s.col))
                          ELSE format('%L::text', s.constant) END;
                -- one value a cell (the common case) without a function call
                raw := raw || CASE WHEN s.separator IS NULL
                                   THEN format('CASE WHEN btrim(%1$s) <> '''' THEN ARRAY[btrim(%1$s)] ELSE ''{}''::text[] END AS %2$I',
                                               v, t.target || '#' || n)
                                   ELSE format('crm_internal.import_items(%s, %L) AS %I', v, s.separator, t.target || '#' || n) END;
                many_expr := many_expr || format(' || m.%I', t.target || '#' || n);
                lists := lists || format('ARRAY(SELECT %L || '': '' || p FROM unnest(m.%I) AS x, LATERAL (SELECT %s AS p) AS q WHERE p IS NOT NULL)',
                                         s.label, t.target || '#' || n,
                                         CASE t.target
                                             WHEN 'phone' THEN 'crm.phone_problem(x)'
                                             WHEN 'email' THEN 'crm.email_problem(x)'
                                             WHEN 'campaign' THEN 'CASE WHEN NOT EXISTS (SELECT FROM crm.campaign c WHERE c.name = x) THEN format(''campaign "%s" does not exist.'', x) END'
                                             ELSE 'CASE WHEN NOT EXISTS (SELECT FROM crm.segment c WHERE c.name = x) THEN format(''segment "%s" does not exist.'', x) END'
                                         END);
            END LOOP;
        END IF;
        typed := typed || format('%s AS %I', many_expr, t.target);
    END LOOP;

    -- custom fields, by name
    IF mapping ? 'custom' THEN
        IF jsonb_typeof(mapping -> 'custom') <> 'object' THEN
            RAISE EXCEPTION 'invalid mapping of import target "custom"'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('It is mapped to %s.', mapping -> 'custom'),
                      HINT = 'Map it to an object of custom field names and columns: {"custom": {"Rating": "Ocena"}}.';
        END IF;
        FOR v, item IN SELECT * FROM jsonb_each(mapping -> 'custom') LOOP
            SELECT cf.id, cf.name, cf.type INTO f FROM crm.custom_field cf WHERE lower(cf.name) = lower(v);
            IF NOT FOUND THEN
                RAISE EXCEPTION 'custom field "%" does not exist', v
                    USING ERRCODE = 'undefined_object',
                          HINT = 'An administrator defines it first (crm.custom_field); names are compared ignoring case.';
            END IF;
            IF custom @> jsonb_build_array(jsonb_build_object('id', f.id)) THEN
                RAISE EXCEPTION 'custom field "%" is mapped twice', f.name
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            s := crm_internal.import_spec(item, 'custom ' || f.name, false, columns, batch_id);
            IF s.constant IS NOT NULL AND f.type = 'number' THEN
                PERFORM crm_internal.import_refuse_constant('custom ' || f.name, s.constant,
                    CASE WHEN crm_internal.import_number(s.constant) IS NULL THEN format('"%s" is not a number.', s.constant) END);
            END IF;
            raw := raw || format('nullif(btrim(%s), '''') AS %I',
                                 CASE WHEN s.col IS NOT NULL THEN format('s.c%s', array_position(columns, s.col))
                                      ELSE format('%L::text', s.constant) END,
                                 'custom_' || f.id);
            IF f.type = 'number' THEN
                reasons := reasons || format('CASE WHEN m.%1$I IS NOT NULL AND crm_internal.import_number(m.%1$I) IS NULL THEN %2$L || format('': "%%s" is not a number.'', m.%1$I) END',
                                             'custom_' || f.id, s.label);
            END IF;
            custom := custom || jsonb_build_array(jsonb_build_object('id', f.id, 'type', f.type));
        END LOOP;
    END IF;

    -- what the client as a whole needs; the PESEL and the birth date agree
    reasons := reasons
        || 'CASE WHEN m.client_kind = ''person'' AND m.last_name IS NULL THEN ''a person needs a last name'' END'::text
        || 'CASE WHEN m.client_kind = ''company'' AND m.company_name IS NULL THEN ''a company needs a company name'' END'::text
        || $r$CASE WHEN m.pesel IS NOT NULL AND m.birth IS NOT NULL
                        AND crm.pesel_problem(m.pesel) IS NULL
                        AND crm.pesel_birth_date(m.pesel::crm.pesel) <> m.birth
                   THEN format('birth date %s contradicts the PESEL: PESEL %s encodes the birth date %s.',
                               to_char(m.birth, 'YYYY-MM-DD'), m.pesel::crm.pesel,
                               to_char(crm.pesel_birth_date(m.pesel::crm.pesel), 'YYYY-MM-DD')) END$r$::text;
    -- a role bound to the structure adds clients to a unit it reaches: to
    -- its one unit when a row names none; with several, a row must name one
    needs_unit := row_security_active('crm.client'::regclass)
                  AND NOT crm_internal.sees_all(crm_internal.session_role())
                  AND crm_internal.home_unit(crm_internal.session_role()) IS NULL;
    IF needs_unit THEN
        reasons := reasons || format('CASE WHEN m.unit_id IS NULL THEN %L END',
                                     format('no unit: role "%s" works in several units (or none), so each row names one (map unit_id)',
                                            crm_internal.session_role()));
    END IF;

    IF to_regclass('pg_temp.crm_import_work') IS NOT NULL THEN
        DROP TABLE pg_temp.crm_import_work;
    END IF;
    EXECUTE format($q$
        CREATE TEMP TABLE crm_import_work ON COMMIT DROP AS
        SELECT m.*, %1$s,
               array_remove(ARRAY[%2$s]::text[], NULL) %3$s AS reasons
        FROM (SELECT CASE WHEN s.kind IS NOT NULL THEN lower(s.kind)
                          WHEN s.company_name IS NOT NULL AND s.last_name IS NULL THEN 'company'
                          ELSE 'person' END AS client_kind,
                     crm_internal.import_date(s.birth_date) AS birth,
                     s.*
              FROM (SELECT s.row_no, s.original, %4$s
                    -- the staged columns by position (c1, c2, ...): no name of
                    -- the file can meet row_no or original
                    FROM (SELECT row_number() OVER (ORDER BY t.ctid) AS row_no, ARRAY[%5$s]::text[] AS original, %8$s
                          FROM %6$s t ORDER BY t.ctid %7$s) AS s) AS s
              -- computed once a row, not once a mention
              OFFSET 0) AS m
        $q$,
        array_to_string(typed, ', '),
        array_to_string(reasons, ', '),
        (SELECT string_agg(' || ' || l, '') FROM unnest(lists) AS l),
        array_to_string(raw, ', '),
        (SELECT string_agg(format('t.%I', c), ', ' ORDER BY o) FROM unnest(columns) WITH ORDINALITY AS u(c, o)),
        staged,
        CASE WHEN row_limit IS NOT NULL THEN format('LIMIT %s', row_limit) ELSE '' END,
        (SELECT string_agg(format('t.%I AS c%s', c, o), ', ' ORDER BY o) FROM unnest(columns) WITH ORDINALITY AS u(c, o)));
    RETURN custom;
END
$$;
COMMENT ON FUNCTION crm_internal.import_map(bigint, jsonb, bigint, boolean) IS
    'internal: checks an import mapping and builds pg_temp.crm_import_work, the staged rows mapped with their reasons (row_limit rows, NULL: all); returns the custom fields mapped';

-- The values of one cell: itself, or split at the separator; trimmed,
-- empty ones left out.
CREATE FUNCTION crm_internal.import_items(cell text, separator text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(btrim(x) ORDER BY o), '{}')
    FROM unnest(CASE WHEN separator IS NULL THEN ARRAY[cell] ELSE string_to_array(cell, separator) END)
         WITH ORDINALITY AS u(x, o)
    WHERE btrim(x) <> ''
$$;
COMMENT ON FUNCTION crm_internal.import_items(text, text) IS
    'internal: the values of a staged cell (split at separator unless NULL), trimmed, empty ones left out';

--------------------------------------------------------------------------
-- Preview and apply
--------------------------------------------------------------------------

CREATE FUNCTION crm.import_preview(batch_id bigint, mapping jsonb, n integer DEFAULT 20)
    RETURNS TABLE (row_no bigint, verdict text, reasons text[], client jsonb, phones text[], emails text[],
                   campaigns text[], segments text[], custom jsonb)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    custom jsonb;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF n IS NULL OR n < 0 THEN
        RAISE EXCEPTION 'a preview shows 0 rows or more, not %', coalesce(n::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    custom := crm_internal.import_map(import_preview.batch_id, mapping, n, false);
    RETURN QUERY EXECUTE format($q$
        SELECT w.row_no,
               CASE WHEN cardinality(w.reasons) = 0 THEN 'import' ELSE 'reject' END,
               w.reasons,
               jsonb_strip_nulls(jsonb_build_object(
                   'kind', w.client_kind, 'first_name', w.first_name, 'last_name', w.last_name,
                   'company_name', w.company_name, 'display_name', w.display_name, 'city', w.city,
                   'postal_code', w.postal_code, 'address', w.address, 'pesel', w.pesel, 'nip', w.nip,
                   'regon', w.regon, 'birth_date', w.birth,
                   'language', lower(w.language), 'external_id', w.external_id, 'owner', w.owner,
                   'unit_id', w.unit_id)),
               w.phone, w.email, w.campaign, w.segment,
               %s
        FROM pg_temp.crm_import_work w ORDER BY w.row_no
        $q$,
        coalesce((SELECT 'jsonb_strip_nulls(jsonb_build_object(' ||
                         string_agg(format('%L, w.%I', f.name, 'custom_' || f.id), ', ') || '))'
                  FROM jsonb_to_recordset(custom) AS c(id bigint) JOIN crm.custom_field f ON f.id = c.id),
                 '''{}''::jsonb'));
    DROP TABLE pg_temp.crm_import_work;
END
$$;
COMMENT ON FUNCTION crm.import_preview(bigint, jsonb, integer) IS
    'the first n rows of an import batch as the mapping reads them, each with its verdict (import or reject) and every reason; changes nothing';

-- Atomic: one call, one transaction; the valid rows are imported and the
-- invalid ones recorded, or (on an error) nothing at all.  The check on
-- save is off for the call only (its SET clause): the new clients are
-- checked once, together, after the load.
CREATE FUNCTION crm.import_apply(batch_id bigint, mapping jsonb, find_duplicates boolean DEFAULT true)
    RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, crm, pg_temp
    SET crm.duplicate_check = off
    -- JIT compiled the big statements below for seconds of a run that
    -- their plain execution does not need
    SET jit = off
AS $$
#variable_conflict use_variable
DECLARE
    custom jsonb;
    f record;
    total bigint;
    imported bigint;
    rejected bigint;
    contacts bigint;
    pairs bigint := 0;
    summary jsonb;
BEGIN
    PERFORM crm_internal.require_data_model();
    -- one apply of a batch at a time, and once
    PERFORM FROM crm.import_batch b WHERE b.id = batch_id FOR UPDATE;
    custom := crm_internal.import_map(batch_id, mapping, NULL, true);
    SELECT count(*) INTO total FROM pg_temp.crm_import_work;

    INSERT INTO crm.import_reject (batch_id, row_no, original, reasons)
    SELECT batch_id, w.row_no, w.original, w.reasons FROM pg_temp.crm_import_work w
    WHERE cardinality(w.reasons) > 0;
    GET DIAGNOSTICS rejected = ROW_COUNT;

    -- the clients; source names the batch and the row, which ties each new
    -- id to its row (ids come from the sequence: roles do not choose them)
    CREATE TEMP TABLE crm_import_new (row_no bigint PRIMARY KEY, client_id bigint NOT NULL UNIQUE) ON COMMIT DROP;
    WITH made AS (
        INSERT INTO crm.client (kind, first_name, last_name, company_name, display_name, city, postal_code,
                                address, pesel, nip, regon, birth_date, language, external_id, owner, unit_id, source)
        SELECT w.client_kind, w.first_name, w.last_name, w.company_name, w.display_name, w.city, w.postal_code,
               w.address, w.pesel, w.nip, w.regon, w.birth,
               coalesce(lower(w.language), 'pl'), w.external_id, w.owner, w.unit_id::bigint,
               format('import %s row %s', batch_id, w.row_no)
        FROM pg_temp.crm_import_work w WHERE cardinality(w.reasons) = 0
        ORDER BY w.row_no
        RETURNING id, source)
    INSERT INTO pg_temp.crm_import_new (row_no, client_id)
    SELECT split_part(made.source, ' ', 4)::bigint, made.id FROM made;
    GET DIAGNOSTICS imported = ROW_COUNT;

    -- phones and e-mails, each once per client; the first of each kind is
    -- the default: written in the order of the row (client, kind, position)
    -- and none named a default, so that contact_normalize (C) writes each
    -- new client's first phone and first e-mail as its default (the client
    -- has none), one lock try and one probe a pair, where rows arriving as
    -- defaults cost a PL/pgSQL lock each (contact_insert_default)
    INSERT INTO crm.contact (client_id, kind, value)
    SELECT x.client_id, x.kind, x.value
    FROM (SELECT DISTINCT ON (n.client_id, v.kind, v.value) n.client_id, v.kind, v.value, v.ord
          FROM pg_temp.crm_import_work w JOIN pg_temp.crm_import_new n ON n.row_no = w.row_no,
               LATERAL (SELECT 'phone' AS kind, crm.normalize_phone(p) AS value, o AS ord
                        FROM unnest(w.phone) WITH ORDINALITY AS p(p, o)
                        UNION ALL
                        SELECT 'email', crm.normalize_email(e), o
                        FROM unnest(w.email) WITH ORDINALITY AS e(e, o)) AS v
          ORDER BY n.client_id, v.kind, v.value, v.ord) AS x
    ORDER BY x.client_id, x.kind, x.ord;
    GET DIAGNOSTICS contacts = ROW_COUNT;

    -- memberships and custom values in the order of the clients: each row's
    -- foreign key check then reads crm.client's pages in order, not at
    -- random (a hashed DISTINCT, or a hash join in batches, scrambles it: at
    -- 1,000,000 rows the segments took 39.5 s in hash order, 21.4 s in order)
    INSERT INTO crm.campaign_member (campaign_id, client_id)
    SELECT m.campaign_id, m.client_id
    FROM (SELECT DISTINCT c.id AS campaign_id, n.client_id
          FROM pg_temp.crm_import_work w JOIN pg_temp.crm_import_new n ON n.row_no = w.row_no
               CROSS JOIN LATERAL unnest(w.campaign) AS x JOIN crm.campaign c ON c.name = x) AS m
    ORDER BY m.client_id, m.campaign_id;
    INSERT INTO crm.segment_member (segment_id, client_id)
    SELECT m.segment_id, m.client_id
    FROM (SELECT DISTINCT c.id AS segment_id, n.client_id
          FROM pg_temp.crm_import_work w JOIN pg_temp.crm_import_new n ON n.row_no = w.row_no
               CROSS JOIN LATERAL unnest(w.segment) AS x JOIN crm.segment c ON c.name = x) AS m
    ORDER BY m.client_id, m.segment_id;

    FOR f IN SELECT * FROM jsonb_to_recordset(custom) AS c(id bigint, type text) LOOP
        EXECUTE format($q$
            INSERT INTO crm.custom_value (client_id, field_id, number_value, text_value)
            SELECT n.client_id, $1, %s, %s
            FROM pg_temp.crm_import_work w JOIN pg_temp.crm_import_new n ON n.row_no = w.row_no
            WHERE w.%I IS NOT NULL
            ORDER BY n.client_id
            $q$,
            CASE WHEN f.type = 'number' THEN format('crm_internal.import_number(w.%I)', 'custom_' || f.id) ELSE 'NULL' END,
            CASE WHEN f.type = 'text' THEN format('w.%I', 'custom_' || f.id) ELSE 'NULL' END,
            'custom_' || f.id)
        USING f.id;
    END LOOP;

    -- duplicates among the new clients and against the base: one pass over
    -- the visible base (crm.duplicate_pairs, as the caller; its variant for
    -- scores crm.possible_duplicate keeps), keeping the
    -- pairs with a new client in them: two probes of the new clients'
    -- index a pair (an IN list of 1,000,000 new ids outgrew work_mem and
    -- was scanned once a pair: the pass did not end in 10 minutes)
    IF find_duplicates AND imported > 0 THEN
        ANALYZE pg_temp.crm_import_new;
        CREATE TEMP TABLE crm_import_pairs ON COMMIT DROP AS
        SELECT p.client_a, p.client_b, p.score, p.reasons
        FROM crm_internal.duplicate_pairs_recorded() p
        WHERE EXISTS (SELECT FROM pg_temp.crm_import_new n WHERE n.client_id = p.client_a)
           OR EXISTS (SELECT FROM pg_temp.crm_import_new n WHERE n.client_id = p.client_b);
        -- a pair has no foreign key: the existing clients of the pairs are
        -- locked (FOR KEY SHARE, in id order, as merges lock theirs), so that
        -- a merge or delete of one of them waits for this import and then
        -- drops its pairs with it, and one that went first is waited for
        -- here and its client's pairs left out below (the pass's snapshot
        -- still saw the client: its pair would name a client merged away)
        PERFORM FROM crm.client c
        WHERE c.id IN (SELECT x.client_a FROM pg_temp.crm_import_pairs x
                       UNION SELECT x.client_b FROM pg_temp.crm_import_pairs x)
          AND NOT EXISTS (SELECT FROM pg_temp.crm_import_new n WHERE n.client_id = c.id)
        ORDER BY c.id
        FOR KEY SHARE OF c;
        INSERT INTO crm.possible_duplicate (client_a, client_b, score, reasons)
        SELECT p.client_a, p.client_b, p.score, p.reasons
        FROM pg_temp.crm_import_pairs p
        WHERE EXISTS (SELECT FROM crm.client c WHERE c.id = p.client_a)
          AND EXISTS (SELECT FROM crm.client c WHERE c.id = p.client_b)
        ON CONFLICT (client_a, client_b) DO UPDATE SET score = EXCLUDED.score, reasons = EXCLUDED.reasons;
        GET DIAGNOSTICS pairs = ROW_COUNT;
        DROP TABLE pg_temp.crm_import_pairs;
    END IF;

    summary := jsonb_build_object('rows', total, 'imported', imported, 'rejected', rejected,
                                 'contacts', contacts, 'possible_duplicates', pairs);
    UPDATE crm.import_batch b SET applied_at = now(), mapping = import_apply.mapping, result = summary
    WHERE b.id = batch_id;
    DROP TABLE pg_temp.crm_import_work, pg_temp.crm_import_new;
    RETURN summary;
END
$$;
COMMENT ON FUNCTION crm.import_apply(bigint, jsonb, boolean) IS
    'imports a batch atomically with the caller''s rights: valid rows become clients (with contacts, custom values, campaigns, segments), invalid ones go to crm.import_reject with every reason; then one duplicate pass records the new clients'' pairs in crm.possible_duplicate';
--------------------------------------------------------------------------
-- Import (WB-2) of an xlsx workbook: its first sheet, or a sheet named by
-- the caller, becomes the rows of an import batch's staging table, as a
-- CSV file loaded with \copy does (88_import.sql); crm.import_preview()
-- and crm.import_apply() then work on it unchanged
-- (doc/working-with-the-base.md, "An xlsx workbook").
--
-- The reader is C (src/xlsximport.c, src/core/xlsxread.c): libzip and
-- libxml2's streaming reader, with limits that stop zip bombs and huge
-- sheets.  Both functions run with the caller's rights, like the rest of
-- the import: the batch, its staging table and its rows are the caller's.
--------------------------------------------------------------------------

CREATE FUNCTION crm.xlsx_sheets(workbook bytea)
    RETURNS TABLE (sheet_no integer, name text, state text, part text)
    AS 'MODULE_PATHNAME', 'xlsx_sheets' LANGUAGE C STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION crm.xlsx_sheets(bytea) IS
    'the sheets of an xlsx workbook in the order of their tabs: number, name, state (visible, hidden, veryHidden) and the part of the zip that holds it';

CREATE FUNCTION crm.import_xlsx(workbook bytea, sheet text DEFAULT NULL, file_name text DEFAULT NULL,
                                staging text DEFAULT 'crm_import')
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'import_xlsx' LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION crm.import_xlsx(bytea, text, text, text) IS
    'begins an import from a sheet of an xlsx workbook (NULL: the first visible one): its first row with a value names the columns (crm.import_begin()), the rows after it fill the staging table pg_temp.<staging>; returns the batch''s number for crm.import_preview() and crm.import_apply()';
--------------------------------------------------------------------------
-- Reporting for BI tools: plain types, no function or operator of crm
-- needed by whoever queries
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model();
-- last in the model: the report reads the tables of every concept before it
SELECT crm_internal.data_model_part('reporting', $model$
-- One row per client, every column of a built-in type: a point-and-click
-- tool that sets its own search_path (crm not on it) filters with plain
-- text and number comparisons.  The counts are correlated subqueries on
-- the client_id indexes: a filtered report reads only its clients' rows,
-- and a query that does not select a count does not compute it.
CREATE VIEW crm.client_report WITH (security_invoker = true) AS
SELECT c.id, c.kind, c.display_name, c.first_name, c.last_name, c.company_name,
       c.city, c.postal_code,
       c.pesel::text AS pesel, c.nip::text AS nip, c.regon::text AS regon,
       CASE WHEN c.kind = 'person'
            THEN extract(year FROM coalesce(crm.pesel_birth_date(c.pesel), c.birth_date))::integer
       END AS birth_year,
       CASE WHEN c.kind = 'person' THEN crm.pesel_sex(c.pesel) END AS sex,
       c.unit_id, u.path AS unit_path, c.owner, c.created_at, c.last_contact_at,
       c.hidden_at IS NOT NULL AS hidden, c.anonymized_at IS NOT NULL AS anonymized,
       phone.value AS phone, email.value AS email,
       (SELECT count(*) FROM crm.contact k WHERE k.client_id = c.id) AS contacts,
       (SELECT count(*) FROM crm.policy p WHERE p.client_id = c.id) AS policies,
       (SELECT count(*) FROM crm.policy p
        WHERE p.client_id = c.id AND p.ends_on >= current_date) AS active_policies,
       (SELECT count(*) FROM crm.ticket t WHERE t.client_id = c.id) AS tickets,
       (SELECT count(*) FROM crm.ticket t
        WHERE t.client_id = c.id AND t.status IN ('new', 'open', 'pending')) AS open_tickets,
       (SELECT count(*) FROM crm.interaction i WHERE i.client_id = c.id) AS interactions,
       (SELECT count(*) FROM crm.document d WHERE d.client_id = c.id) AS documents,
       (SELECT count(*) FROM crm.offer o WHERE o.client_id = c.id) AS offers,
       (SELECT count(*) FROM crm.invoice v WHERE v.client_id = c.id) AS invoices,
       (SELECT count(*) FROM crm.task t WHERE t.client_id = c.id) AS tasks,
       (SELECT count(*) FROM crm.case k WHERE k.client_id = c.id) AS cases,
       (SELECT count(*) FROM crm.order o WHERE o.client_id = c.id) AS orders,
       (SELECT count(*) FROM crm.possible_duplicate d
        WHERE d.client_a = c.id AND d.dismissed_at IS NULL)
       + (SELECT count(*) FROM crm.possible_duplicate d
          WHERE d.client_b = c.id AND d.dismissed_at IS NULL) AS duplicate_candidates
FROM crm.client c
LEFT JOIN crm.contact phone ON phone.client_id = c.id AND phone.kind = 'phone' AND phone.is_default
LEFT JOIN crm.contact email ON email.client_id = c.id AND email.kind = 'email' AND email.is_default
LEFT JOIN crm.unit_tree u ON u.id = c.unit_id;
COMMENT ON VIEW crm.client_report IS
    'one row per client, hidden and anonymized ones included (flagged), for BI tools: identifiers as text, birth year and sex, unit path, default phone and e-mail, counts of linked records and of candidate duplicates; every column of a built-in type, so that no function or operator of schema crm is needed';
COMMENT ON COLUMN crm.client_report.id IS 'the client (crm.client.id)';
COMMENT ON COLUMN crm.client_report.kind IS 'person or company';
COMMENT ON COLUMN crm.client_report.display_name IS
    'the name shown in lists ("anonymized client <id>" for an anonymized client)';
COMMENT ON COLUMN crm.client_report.first_name IS 'a person''s first name';
COMMENT ON COLUMN crm.client_report.last_name IS 'a person''s last name';
COMMENT ON COLUMN crm.client_report.company_name IS 'a company''s name';
COMMENT ON COLUMN crm.client_report.city IS 'the city of the address';
COMMENT ON COLUMN crm.client_report.postal_code IS 'the postal code as typed';
COMMENT ON COLUMN crm.client_report.pesel IS 'the PESEL as text, 11 digits without separators';
COMMENT ON COLUMN crm.client_report.nip IS 'the NIP as text, 10 digits without separators or PL prefix';
COMMENT ON COLUMN crm.client_report.regon IS 'the REGON as text, 9 or 14 digits';
COMMENT ON COLUMN crm.client_report.birth_year IS
    'a person''s year of birth: from the PESEL, else from birth_date (typed for foreigners); null for a company or when unknown';
COMMENT ON COLUMN crm.client_report.sex IS
    'a person''s sex as the PESEL encodes it: M or F; null for a company or a person without PESEL';
COMMENT ON COLUMN crm.client_report.unit_id IS 'the client''s unit of the structure (crm.unit); null: none';
COMMENT ON COLUMN crm.client_report.unit_path IS
    'that unit''s path from the top of the structure, names joined by " / " (Kanał agencyjny / Oddział Kraków / Dział komunikacyjny)';
COMMENT ON COLUMN crm.client_report.owner IS 'the account manager: a role name';
COMMENT ON COLUMN crm.client_report.created_at IS 'when the client was created';
COMMENT ON COLUMN crm.client_report.last_contact_at IS
    'the latest contact in the contact history (notifications aside); null: never contacted';
COMMENT ON COLUMN crm.client_report.hidden IS
    'true for a client hidden by crm.hide_client() or a withdrawn consent: out of the working views';
COMMENT ON COLUMN crm.client_report.anonymized IS
    'true for a client anonymized by crm.anonymize(): no personal data left, records kept';
COMMENT ON COLUMN crm.client_report.phone IS 'the client''s default phone number, E.164 (+48221234567)';
COMMENT ON COLUMN crm.client_report.email IS 'the client''s default e-mail address';
COMMENT ON COLUMN crm.client_report.contacts IS 'how many phones and e-mail addresses the client has';
COMMENT ON COLUMN crm.client_report.policies IS 'how many policies the client holds, ended ones included';
COMMENT ON COLUMN crm.client_report.active_policies IS
    'how many of the client''s policies have not ended (ends_on today or later)';
COMMENT ON COLUMN crm.client_report.tickets IS 'how many tickets the client raised, closed ones included';
COMMENT ON COLUMN crm.client_report.open_tickets IS 'how many of the client''s tickets are new, open or pending';
COMMENT ON COLUMN crm.client_report.interactions IS
    'how many entries the client''s contact history has (crm.interaction, notifications included)';
COMMENT ON COLUMN crm.client_report.documents IS 'how many documents the client has (crm.document)';
COMMENT ON COLUMN crm.client_report.offers IS 'how many offers were made to the client (crm.offer)';
COMMENT ON COLUMN crm.client_report.invoices IS 'how many invoices were issued to the client (crm.invoice)';
COMMENT ON COLUMN crm.client_report.tasks IS 'how many tasks and calendar entries are about the client (crm.task), done ones included';
COMMENT ON COLUMN crm.client_report.cases IS 'how many cases the client has (crm.case), closed ones included';
COMMENT ON COLUMN crm.client_report.orders IS 'how many orders the client placed (crm.order)';
COMMENT ON COLUMN crm.client_report.duplicate_candidates IS
    'how many clients the duplicate check found the client may duplicate (crm.possible_duplicate, dismissed pairs aside, pairs with a client the reader cannot see aside)';
$model$);
--------------------------------------------------------------------------
-- Bulk actions on a selection of clients (WB-4, doc/working-with-the-base.md)
--
-- Every action takes the clients as an id array or as a filter of
-- crm.client_search() (a jsonb object), makes its change in one call (one
-- transaction: all or nothing) and returns how many clients changed.
--
-- They act as the caller (no SECURITY DEFINER): row-level security, the
-- table privileges and the tables' triggers decide as for any write of the
-- caller's.  An id the caller does not reach is refused like one that does
-- not exist (crm_internal.require_reach); a filter selects only what the
-- caller sees.  The work is done in steps of 5 % of the clients, each one
-- statement, with a progress NOTICE after each on long runs
-- (crm_internal.bulk_run, the one home of the steps).  Each step's
-- changed clients are audited (crm_internal.audit_bulk: one entry per
-- client, as the other audited acts).
--------------------------------------------------------------------------

-- The selection: distinct ids in order (rows are then locked in id order,
-- as elsewhere in crm), each reached by the caller.
CREATE FUNCTION crm_internal.bulk_ids(client_ids bigint[], action text) RETURNS bigint[]
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
    missing bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF client_ids IS NULL OR array_position(client_ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'a bulk action needs client ids, not null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass an array of client ids (ARRAY[]::bigint[] for none), or a filter as jsonb.';
    END IF;
    ids := ARRAY(SELECT DISTINCT u.id FROM unnest(client_ids) AS u(id) ORDER BY u.id);
    PERFORM crm_internal.require_reach(ids, action);
    -- what is left is an administrator's missing client
    SELECT min(u.id) INTO missing FROM unnest(ids) AS u(id)
    WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = u.id);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'client % does not exist', missing USING ERRCODE = 'no_data_found';
    END IF;
    RETURN ids;
END
$$;
COMMENT ON FUNCTION crm_internal.bulk_ids(bigint[], text) IS
    'internal to the bulk actions: the clients as distinct ids in order; 42501 for one out of the caller''s reach (the same as for one that does not exist), 02000 for a missing one (administrators)';

CREATE FUNCTION crm_internal.bulk_filter_ids(filter jsonb) RETURNS bigint[]
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY(SELECT s.id FROM crm_internal.client_search_ids(filter) AS s(id) ORDER BY s.id);
$$;
COMMENT ON FUNCTION crm_internal.bulk_filter_ids(jsonb) IS
    'internal to the bulk actions: the ids of the clients a crm.client_search() filter selects, as the caller sees them';

-- The audit of a bulk action: one entry per changed client, like crm's
-- other audited acts (crm.audit_log has the client and its unit, so that
-- row-level security shows each entry to the roles reaching that client).
-- SECURITY DEFINER because crm.audit_log is written by crm only; every crm
-- role may call it (the bulk actions act as the caller), so it checks first:
-- the caller reaches every client named, and what the entry states holds
-- now and, but for a removal, was done in this transaction (the client was
-- added to the campaign, was given that owner, got a task of that kind,
-- ...: its time is now()).  A role can thus record only what it did to
-- clients it reaches, under its own name.  detail holds ids and settings,
-- never personal data (no task title, no custom value).
CREATE FUNCTION crm_internal.audit_bulk(action text, client_ids bigint[], detail jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    untrue bigint;
    keys text[];
    detail_ok boolean;
    who text;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF coalesce(cardinality(client_ids), 0) = 0 THEN
        RETURN;
    END IF;
    PERFORM crm_internal.require_reach(client_ids, 'audit a bulk action on');
    detail := coalesce(detail, '{}');
    -- the entry says what the bulk function did, in its own keys and values
    -- only: no free text, no personal data, nothing that names what does
    -- not exist (the caller is any crm role)
    keys := CASE action WHEN 'bulk add to campaign' THEN ARRAY['campaign_id']
                        WHEN 'bulk remove from campaign' THEN ARRAY['campaign_id']
                        WHEN 'bulk add to segment' THEN ARRAY['segment_id']
                        WHEN 'bulk remove from segment' THEN ARRAY['segment_id']
                        WHEN 'bulk set custom value' THEN ARRAY['cleared', 'field_id']
                        WHEN 'bulk change owner' THEN ARRAY['owner']
                        WHEN 'bulk create task' THEN ARRAY['assignee', 'due_at', 'kind']
                        WHEN 'bulk assign price list' THEN ARRAY['price_list_id'] END;
    detail_ok := jsonb_typeof(detail) = 'object'
        AND (SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM jsonb_object_keys(detail) k) = keys
        AND CASE WHEN detail ? 'campaign_id' THEN EXISTS (SELECT FROM crm.campaign x WHERE x.id = (detail ->> 'campaign_id')::bigint)
                 WHEN detail ? 'segment_id' THEN EXISTS (SELECT FROM crm.segment x WHERE x.id = (detail ->> 'segment_id')::bigint)
                 WHEN detail ? 'field_id' THEN EXISTS (SELECT FROM crm.custom_field x WHERE x.id = (detail ->> 'field_id')::bigint)
                                               AND jsonb_typeof(detail -> 'cleared') = 'boolean'
                 WHEN detail ->> 'price_list_id' IS NOT NULL THEN EXISTS (SELECT FROM crm.price_list x WHERE x.id = (detail ->> 'price_list_id')::bigint)
                 WHEN detail ? 'owner' THEN jsonb_typeof(detail -> 'owner') IN ('string', 'null')
                                            AND coalesce(length(detail ->> 'owner'), 0) <= 63
                 WHEN detail ? 'kind' THEN jsonb_typeof(detail -> 'kind') = 'string' AND length(detail ->> 'kind') <= 63
                                           AND jsonb_typeof(detail -> 'assignee') IN ('string', 'null')
                                           AND coalesce(length(detail ->> 'assignee'), 0) <= 63
                                           AND jsonb_typeof(detail -> 'due_at') IN ('string', 'null')
                 ELSE true END;
    IF NOT coalesce(detail_ok, false) THEN
        RAISE EXCEPTION 'cannot audit "%" with that detail', action
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The audit log records bulk actions as crm''s bulk functions made them, in their own keys.',
                  HINT = 'Call the crm.bulk_* functions; they audit themselves.';
    END IF;
    SELECT min(u.id) INTO untrue FROM unnest(client_ids) AS u(id)
    WHERE NOT CASE action
        WHEN 'bulk add to campaign' THEN
            EXISTS (SELECT FROM crm.campaign_member m
                    WHERE m.client_id = u.id AND m.campaign_id = (detail ->> 'campaign_id')::bigint
                      AND m.added_at = now())
        WHEN 'bulk remove from campaign' THEN
            NOT EXISTS (SELECT FROM crm.campaign_member m
                        WHERE m.client_id = u.id AND m.campaign_id = (detail ->> 'campaign_id')::bigint)
        WHEN 'bulk add to segment' THEN
            EXISTS (SELECT FROM crm.segment_member m
                    WHERE m.client_id = u.id AND m.segment_id = (detail ->> 'segment_id')::bigint
                      AND m.added_at = now())
        WHEN 'bulk remove from segment' THEN
            NOT EXISTS (SELECT FROM crm.segment_member m
                        WHERE m.client_id = u.id AND m.segment_id = (detail ->> 'segment_id')::bigint)
        WHEN 'bulk set custom value' THEN
            CASE WHEN (detail ->> 'cleared')::boolean
                 THEN NOT EXISTS (SELECT FROM crm.custom_value v
                                  WHERE v.client_id = u.id AND v.field_id = (detail ->> 'field_id')::bigint)
                 ELSE EXISTS (SELECT FROM crm.custom_value v
                              WHERE v.client_id = u.id AND v.field_id = (detail ->> 'field_id')::bigint
                                AND v.updated_at = now()) END
        WHEN 'bulk change owner' THEN
            EXISTS (SELECT FROM crm.client c
                    WHERE c.id = u.id AND c.owner IS NOT DISTINCT FROM detail ->> 'owner'
                      AND c.updated_at = now())
        WHEN 'bulk create task' THEN
            EXISTS (SELECT FROM crm.task t
                    WHERE t.client_id = u.id AND t.created_at = now() AND t.kind = detail ->> 'kind')
        WHEN 'bulk assign price list' THEN
            CASE WHEN detail ->> 'price_list_id' IS NULL
                 THEN NOT EXISTS (SELECT FROM crm.client_price_list p WHERE p.client_id = u.id)
                 ELSE EXISTS (SELECT FROM crm.client_price_list p
                              WHERE p.client_id = u.id AND p.price_list_id = (detail ->> 'price_list_id')::bigint
                                AND p.assigned_at = now()) END
        ELSE false END;
    IF untrue IS NOT NULL THEN
        RAISE EXCEPTION 'cannot audit "%" for client %: it did not happen', action, untrue
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The audit log records bulk actions as crm''s bulk functions made them.',
                  HINT = 'Call the crm.bulk_* functions; they audit themselves.';
    END IF;
    -- crm_internal.audit(), for many clients in one statement; the actor
    -- read once (a function with a SET clause, called once a row, took
    -- about a third of a bulk change's own cost)
    who := crm_internal.session_role();
    INSERT INTO crm.audit_log (actor, action, client_id, unit_id, detail)
    SELECT who, audit_bulk.action, c.id, c.unit_id, detail
    FROM crm.client c WHERE c.id = ANY (client_ids);
END
$$;
COMMENT ON FUNCTION crm_internal.audit_bulk(text, bigint[], jsonb) IS
    'internal to the bulk actions: one crm.audit_log entry per client, after checking that the caller reaches each and that the action''s outcome holds for each';
-- crm's roles only (crm.create_roles() grants it to crm_agent, and so to
-- every level): a role outside them writes none of the tables anyway
REVOKE ALL ON FUNCTION crm_internal.audit_bulk(text, bigint[], jsonb) FROM PUBLIC;

--------------------------------------------------------------------------
-- Campaigns and segments
--------------------------------------------------------------------------

-- The steps of every bulk action, in one place: statement (crm's own text
-- in this file, never the caller's) changes the clients of one step, $1
-- (bigint[]), with the action's arguments $2 (jsonb), and returns the ids
-- of those it changed; they are audited with detail (crm_internal.audit_bulk),
-- and progress is reported after each step.  With the caller's rights, as
-- the actions themselves.
CREATE FUNCTION crm_internal.bulk_run(action text, ids bigint[], statement text, args jsonb, detail jsonb,
                                       skip_gone boolean DEFAULT false)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    part bigint[];
    done_ids bigint[];
    total bigint := cardinality(ids);
    step bigint := crm_internal.progress_step(cardinality(ids));
    changed bigint := 0;
    gone bigint;
    started timestamptz := clock_timestamp();
BEGIN
    FOR i IN 0 .. (total - 1) / step LOOP
        part := ids[i * step + 1 : (i + 1) * step];
        BEGIN
            EXECUTE statement INTO done_ids USING part, args;
        EXCEPTION WHEN foreign_key_violation THEN
            -- a client checked at the start was merged into another or
            -- deleted by a concurrent transaction (found by the soak test):
            -- a retryable conflict, not a broken reference of the caller's
            RAISE EXCEPTION '%: a client was merged away or deleted while the action ran', action
                USING ERRCODE = 'serialization_failure',
                      DETAIL = SQLERRM,
                      HINT = 'Run the action again: a client that no longer exists is then named in the error.';
        END;
        -- a statement that updates or deletes rows (the owner, a membership
        -- removed) skips, with no foreign key to fail, a client merged away
        -- or deleted since bulk_ids() checked it: the same error, unless the
        -- caller chose its clients by what may change meanwhile (skip_gone:
        -- crm.bulk_replace_owner()).  Checked only where some client of the
        -- step was left unchanged, in a statement of its own, which sees
        -- what the writer the step waited for committed
        IF NOT skip_gone AND coalesce(cardinality(done_ids), 0) < cardinality(part) THEN
            SELECT min(u.id) INTO gone FROM unnest(part) AS u(id)
            WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = u.id);
            IF gone IS NOT NULL THEN
                RAISE EXCEPTION '%: a client was merged away or deleted while the action ran', action
                    USING ERRCODE = 'serialization_failure',
                          DETAIL = format('Client %s no longer exists.', gone),
                          HINT = 'Run the action again: a client that no longer exists is then named in the error.';
            END IF;
        END IF;
        PERFORM crm_internal.audit_bulk(action, done_ids, detail);
        changed := changed + coalesce(cardinality(done_ids), 0);
        PERFORM crm_internal.report_progress(action, least((i + 1) * step, total), total, started);
    END LOOP;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION crm_internal.bulk_run(text, bigint[], text, jsonb, jsonb, boolean) IS
    'internal to the bulk actions: runs the action''s statement over the clients in steps of 5 %, audits each step''s changed clients and reports progress; the number changed; 40001 for a client merged away or deleted meanwhile (unless skip_gone)';

-- One body for the four membership actions: crm.campaign_member and
-- crm.segment_member have the same shape.
CREATE FUNCTION crm_internal.bulk_membership(client_ids bigint[], kind text, group_id bigint, member boolean)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    group_exists boolean;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF kind IS NULL OR kind NOT IN ('campaign', 'segment') THEN
        RAISE EXCEPTION 'clients are members of a campaign or a segment, not of "%"', kind
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF group_id IS NULL THEN
        RAISE EXCEPTION 'a bulk action on a % needs its id, not null', kind
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT FROM crm.%I x WHERE x.id = $1)', kind) INTO STRICT group_exists USING group_id;
    -- removing from a campaign that is not there removes nothing
    IF NOT group_exists AND member THEN
        RAISE EXCEPTION '% % does not exist', kind, group_id
            USING ERRCODE = 'no_data_found',
                  HINT = format('The %ss are in crm.%s.', kind, kind);
    END IF;
    RETURN crm_internal.bulk_run(
        format('bulk %s %s', CASE WHEN member THEN 'add to' ELSE 'remove from' END, kind),
        crm_internal.bulk_ids(client_ids, format('%s a %s', CASE WHEN member THEN 'add to' ELSE 'remove from' END, kind)),
        CASE WHEN member
             THEN format('WITH added AS (INSERT INTO crm.%1$I_member (%1$I_id, client_id)
                                         SELECT ($2 ->> ''id'')::bigint, u.id FROM unnest($1) AS u(id)
                                         ON CONFLICT DO NOTHING RETURNING client_id)
                          SELECT array_agg(a.client_id) FROM added a', kind)
             ELSE format('WITH gone AS (DELETE FROM crm.%1$I_member m
                                        WHERE m.%1$I_id = ($2 ->> ''id'')::bigint AND m.client_id = ANY ($1) RETURNING m.client_id)
                          SELECT array_agg(g.client_id) FROM gone g', kind) END,
        jsonb_build_object('id', group_id),
        jsonb_build_object(kind || '_id', group_id));
END
$$;
COMMENT ON FUNCTION crm_internal.bulk_membership(bigint[], text, bigint, boolean) IS
    'internal: adds clients to (member) or removes them from a campaign or segment (kind), audited, in steps with progress; the number changed';

CREATE FUNCTION crm.bulk_add_to_campaign(client_ids bigint[], campaign_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(client_ids, 'campaign', campaign_id, true);
COMMENT ON FUNCTION crm.bulk_add_to_campaign(bigint[], bigint) IS
    'adds the clients to the campaign; the number added (members already are not counted); audited';
CREATE FUNCTION crm.bulk_add_to_campaign(filter jsonb, campaign_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(crm_internal.bulk_filter_ids(filter), 'campaign', campaign_id, true);
COMMENT ON FUNCTION crm.bulk_add_to_campaign(jsonb, bigint) IS
    'adds the clients a crm.client_search() filter selects to the campaign; the number added; audited';

CREATE FUNCTION crm.bulk_remove_from_campaign(client_ids bigint[], campaign_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(client_ids, 'campaign', campaign_id, false);
COMMENT ON FUNCTION crm.bulk_remove_from_campaign(bigint[], bigint) IS
    'removes the clients from the campaign; the number removed; audited';
CREATE FUNCTION crm.bulk_remove_from_campaign(filter jsonb, campaign_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(crm_internal.bulk_filter_ids(filter), 'campaign', campaign_id, false);
COMMENT ON FUNCTION crm.bulk_remove_from_campaign(jsonb, bigint) IS
    'removes the clients a crm.client_search() filter selects from the campaign; the number removed; audited';

CREATE FUNCTION crm.bulk_add_to_segment(client_ids bigint[], segment_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(client_ids, 'segment', segment_id, true);
COMMENT ON FUNCTION crm.bulk_add_to_segment(bigint[], bigint) IS
    'adds the clients to the segment; the number added (members already are not counted); audited';
CREATE FUNCTION crm.bulk_add_to_segment(filter jsonb, segment_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(crm_internal.bulk_filter_ids(filter), 'segment', segment_id, true);
COMMENT ON FUNCTION crm.bulk_add_to_segment(jsonb, bigint) IS
    'adds the clients a crm.client_search() filter selects to the segment; the number added; audited';

CREATE FUNCTION crm.bulk_remove_from_segment(client_ids bigint[], segment_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(client_ids, 'segment', segment_id, false);
COMMENT ON FUNCTION crm.bulk_remove_from_segment(bigint[], bigint) IS
    'removes the clients from the segment; the number removed; audited';
CREATE FUNCTION crm.bulk_remove_from_segment(filter jsonb, segment_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(crm_internal.bulk_filter_ids(filter), 'segment', segment_id, false);
COMMENT ON FUNCTION crm.bulk_remove_from_segment(jsonb, bigint) IS
    'removes the clients a crm.client_search() filter selects from the segment; the number removed; audited';

--------------------------------------------------------------------------
-- A custom field
--------------------------------------------------------------------------

CREATE FUNCTION crm.bulk_set_custom_value(client_ids bigint[], field text, value text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v record;
BEGIN
    SELECT * INTO v FROM crm_internal.custom_field_value(field, value);
    RETURN crm_internal.bulk_run('bulk set custom value', crm_internal.bulk_ids(client_ids, 'set a custom field of'),
        CASE WHEN value IS NULL
             THEN 'WITH gone AS (DELETE FROM crm.custom_value cv
                                 WHERE cv.field_id = ($2 ->> ''field_id'')::bigint AND cv.client_id = ANY ($1)
                                 RETURNING cv.client_id)
                   SELECT array_agg(g.client_id) FROM gone g'
             -- a client that already has the value is not changed
             ELSE 'WITH written AS (
                       INSERT INTO crm.custom_value AS cv (client_id, field_id, number_value, text_value)
                       SELECT u.id, ($2 ->> ''field_id'')::bigint, ($2 ->> ''number_value'')::numeric, $2 ->> ''text_value''
                       FROM unnest($1) AS u(id)
                       ON CONFLICT (client_id, field_id) DO UPDATE
                           SET number_value = EXCLUDED.number_value, text_value = EXCLUDED.text_value
                           WHERE (cv.number_value, cv.text_value) IS DISTINCT FROM (EXCLUDED.number_value, EXCLUDED.text_value)
                       RETURNING cv.client_id)
                   SELECT array_agg(w.client_id) FROM written w' END,
        jsonb_build_object('field_id', v.field_id, 'number_value', v.number_value, 'text_value', v.text_value),
        jsonb_build_object('field_id', v.field_id, 'cleared', value IS NULL));
END
$$;
COMMENT ON FUNCTION crm.bulk_set_custom_value(bigint[], text, text) IS
    'sets a custom field (by name; the value parsed by its type, null clears it) on the clients; the number of clients whose value changed; audited (the field, never the value)';
CREATE FUNCTION crm.bulk_set_custom_value(filter jsonb, field text, value text) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm.bulk_set_custom_value(crm_internal.bulk_filter_ids(filter), field, value);
COMMENT ON FUNCTION crm.bulk_set_custom_value(jsonb, text, text) IS
    'sets a custom field on the clients a crm.client_search() filter selects (null clears it); the number changed; audited';

--------------------------------------------------------------------------
-- The account manager (crm.client.owner, a role name)
--------------------------------------------------------------------------

-- The owner change of the clients ids (distinct, in order, reached by the
-- caller: checked by the callers), the one statement of both actions below.
CREATE FUNCTION crm_internal.bulk_owner_run(ids bigint[], new_owner text, skip_gone boolean DEFAULT false) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_run('bulk change owner', ids,
        'WITH moved AS (UPDATE crm.client c SET owner = $2 ->> ''owner''
                        WHERE c.id = ANY ($1) AND c.owner IS DISTINCT FROM $2 ->> ''owner'' RETURNING c.id)
         SELECT array_agg(m.id) FROM moved m',
        jsonb_build_object('owner', new_owner),
        jsonb_build_object('owner', new_owner),
        skip_gone);
COMMENT ON FUNCTION crm_internal.bulk_owner_run(bigint[], text, boolean) IS
    'internal to crm.bulk_change_owner() and crm.bulk_replace_owner(): makes new_owner the account manager of the clients ids (distinct, in order, checked by the caller) in steps, audited; the number changed';

CREATE FUNCTION crm.bulk_change_owner(client_ids bigint[], new_owner text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_internal.require_data_model();
    -- an account manager is a role (null: none)
    IF new_owner IS NOT NULL THEN
        PERFORM crm_internal.require_role(new_owner);
    END IF;
    RETURN crm_internal.bulk_owner_run(crm_internal.bulk_ids(client_ids, 'change the owner of'), new_owner);
END
$$;
COMMENT ON FUNCTION crm.bulk_change_owner(bigint[], text) IS
    'makes new_owner (a role; null: none) the account manager of the clients; the number whose owner changed; audited';
CREATE FUNCTION crm.bulk_change_owner(filter jsonb, new_owner text) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm.bulk_change_owner(crm_internal.bulk_filter_ids(filter), new_owner);
COMMENT ON FUNCTION crm.bulk_change_owner(jsonb, text) IS
    'makes new_owner the account manager of the clients a crm.client_search() filter selects; the number changed; audited';

-- A leaving employee's clients, all of them (hidden ones too) that the
-- caller reaches, go to another.
CREATE FUNCTION crm.bulk_replace_owner(old_owner text, new_owner text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
BEGIN
    PERFORM crm_internal.require_data_model();
    IF old_owner IS NULL THEN
        RAISE EXCEPTION 'bulk_replace_owner needs the old owner'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'For the clients without an owner: crm.bulk_change_owner(''{"owner": null}''::jsonb, new_owner).';
    END IF;
    IF new_owner IS NOT NULL THEN
        PERFORM crm_internal.require_role(new_owner);
    END IF;
    -- ids read from crm.client by its key are distinct, in order and
    -- there: of crm_internal.bulk_ids() only the reach is left to check (its
    -- sort and its look-up of every id took 0.4 s of 100,000 clients); one
    -- deleted or merged away meanwhile is not changed, as one deleted after
    -- the check (skip_gone: it is no longer one of the old owner's clients)
    ids := ARRAY(SELECT c.id FROM crm.client c WHERE c.owner = old_owner ORDER BY c.id);
    PERFORM crm_internal.require_reach(ids, 'change the owner of');
    RETURN crm_internal.bulk_owner_run(ids, new_owner, true);
END
$$;
COMMENT ON FUNCTION crm.bulk_replace_owner(text, text) IS
    'hands every client of old_owner that the caller reaches (hidden ones too) to new_owner: an employee leaves; the number changed; audited';

--------------------------------------------------------------------------
-- Tasks
--------------------------------------------------------------------------

CREATE FUNCTION crm.bulk_create_task(client_ids bigint[], title text, due_at timestamptz DEFAULT NULL,
                                     assignee text DEFAULT NULL, kind text DEFAULT 'task', notes text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_internal.require_data_model();
    IF nullif(btrim(title), '') IS NULL THEN
        RAISE EXCEPTION 'a task needs a title' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN crm_internal.bulk_run('bulk create task', crm_internal.bulk_ids(client_ids, 'create a task for'),
        -- assigned to each client's account manager unless named
        'WITH made AS (INSERT INTO crm.task (client_id, kind, title, due_at, assignee, notes)
                       SELECT c.id, $2 ->> ''kind'', $2 ->> ''title'', ($2 ->> ''due_at'')::timestamptz,
                              coalesce($2 ->> ''assignee'', c.owner), $2 ->> ''notes''
                       FROM crm.client c WHERE c.id = ANY ($1) ORDER BY c.id
                       RETURNING client_id)
         SELECT array_agg(m.client_id) FROM made m',
        jsonb_build_object('kind', coalesce(kind, 'task'), 'title', btrim(title), 'due_at', due_at,
                           'assignee', assignee, 'notes', notes),
        jsonb_build_object('kind', coalesce(kind, 'task'), 'due_at', due_at, 'assignee', assignee));
END
$$;
COMMENT ON FUNCTION crm.bulk_create_task(bigint[], text, timestamptz, text, text, text) IS
    'creates the same task (kind task, call, meeting or event) for each client, assigned to assignee or else to the client''s account manager; the number created; audited (without the title)';
CREATE FUNCTION crm.bulk_create_task(filter jsonb, title text, due_at timestamptz DEFAULT NULL,
                                     assignee text DEFAULT NULL, kind text DEFAULT 'task', notes text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm.bulk_create_task(crm_internal.bulk_filter_ids(filter), title, due_at, assignee, kind, notes);
COMMENT ON FUNCTION crm.bulk_create_task(jsonb, text, timestamptz, text, text, text) IS
    'creates the same task for each client a crm.client_search() filter selects; the number created; audited';

--------------------------------------------------------------------------
-- Price lists
--------------------------------------------------------------------------

CREATE FUNCTION crm.bulk_assign_price_list(client_ids bigint[], price_list_id bigint) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM crm_internal.require_data_model();
    IF price_list_id IS NOT NULL AND NOT EXISTS (SELECT FROM crm.price_list p WHERE p.id = price_list_id) THEN
        RAISE EXCEPTION 'price list % does not exist', price_list_id
            USING ERRCODE = 'no_data_found', HINT = 'The price lists are in crm.price_list.';
    END IF;
    RETURN crm_internal.bulk_run('bulk assign price list', crm_internal.bulk_ids(client_ids, 'assign a price list to'),
        CASE WHEN price_list_id IS NULL
             THEN 'WITH gone AS (DELETE FROM crm.client_price_list p WHERE p.client_id = ANY ($1) RETURNING p.client_id)
                   SELECT array_agg(g.client_id) FROM gone g'
             ELSE 'WITH written AS (
                       INSERT INTO crm.client_price_list AS p (client_id, price_list_id)
                       SELECT u.id, ($2 ->> ''price_list_id'')::bigint FROM unnest($1) AS u(id)
                       ON CONFLICT (client_id) DO UPDATE SET price_list_id = EXCLUDED.price_list_id, assigned_at = now()
                           WHERE p.price_list_id <> EXCLUDED.price_list_id
                       RETURNING p.client_id)
                   SELECT array_agg(w.client_id) FROM written w' END,
        jsonb_build_object('price_list_id', price_list_id),
        jsonb_build_object('price_list_id', price_list_id));
END
$$;
COMMENT ON FUNCTION crm.bulk_assign_price_list(bigint[], bigint) IS
    'assigns the price list to the clients (null: takes theirs away); the number whose price list changed; audited';
CREATE FUNCTION crm.bulk_assign_price_list(filter jsonb, price_list_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm.bulk_assign_price_list(crm_internal.bulk_filter_ids(filter), price_list_id);
COMMENT ON FUNCTION crm.bulk_assign_price_list(jsonb, bigint) IS
    'assigns the price list to the clients a crm.client_search() filter selects (null: takes theirs away); the number changed; audited';
--------------------------------------------------------------------------
-- Export (WB-3): a filtered selection of clients with chosen columns, as
-- CSV through COPY and as an xlsx workbook (doc/working-with-the-base.md)
--------------------------------------------------------------------------

-- The one home of an export's query: the columns, checked against the
-- catalog, and the filter of crm.client_search() (its condition comes from
-- crm_internal.client_search_condition(), reaching the filter through the
-- SQL expression filter_sql).  Nothing the caller gives is pasted into the
-- text: column names become quoted identifiers (%I) of columns found in
-- pg_attribute, custom fields are referred to by id, the filter is reached
-- through filter_sql.  The text names crm's types without their schema
-- and compares them with crm's operators: it runs where crm is on the
-- search_path, as in the view that crm.export_clients() makes and in
-- crm.export_clients_xlsx().
CREATE FUNCTION crm_internal.export_query(filter jsonb, columns text[], filter_sql text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    cols text[] := coalesce(columns, ARRAY['id', 'kind', 'display_name', 'first_name', 'last_name',
                                           'company_name', 'pesel', 'nip', 'regon', 'city', 'postal_code',
                                           'address', 'phone', 'email', 'unit_path', 'owner', 'created_at',
                                           'last_contact_at']);
    col text;
    header text;
    headers text[] := '{}';
    exprs text[] := '{}';
    joins text := '';
    field record;
    n integer := 0;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF cardinality(cols) IS NULL OR cardinality(cols) = 0 THEN
        RAISE EXCEPTION 'an export needs at least one column'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give the columns as a text array, for example ''{id,last_name,phone}'', or NULL for the default set.';
    END IF;
    FOREACH col IN ARRAY cols LOOP
        n := n + 1;
        IF col IS NULL THEN
            RAISE EXCEPTION 'export column % is null', n
                USING ERRCODE = 'null_value_not_allowed',
                      HINT = 'Name every column: a column of crm.client, phone, email, unit_path or custom:<field name>.';
        ELSIF col IN ('phone', 'email') THEN
            -- the client's default phone or e-mail (exactly one per kind
            -- while it has any: src/sql/35_contacts.sql)
            header := col;
            exprs := exprs || format('export_%s.value', col);
            joins := joins || format(' LEFT JOIN crm.contact export_%1$s ON export_%1$s.client_id = c.id'
                                     ' AND export_%1$s.kind = %2$L AND export_%1$s.is_default', col, col);
        ELSIF col = 'unit_path' THEN
            header := col;
            exprs := exprs || 'export_unit.path'::text;
            joins := joins || ' LEFT JOIN crm.unit_tree export_unit ON export_unit.id = c.unit_id';
        ELSIF col LIKE 'custom:%' THEN
            SELECT f.id, f.name, f.type INTO field FROM crm.custom_field f WHERE lower(f.name) = lower(substr(col, 8));
            IF NOT FOUND THEN
                RAISE EXCEPTION 'custom field "%" does not exist', substr(col, 8)
                    USING ERRCODE = 'undefined_object',
                          DETAIL = format('Export column %s names it.', n),
                          HINT = 'The custom fields are listed in crm.custom_field.';
            END IF;
            header := 'custom:' || field.name;
            exprs := exprs || format('export_f%s.%s', field.id,
                                     CASE field.type WHEN 'number' THEN 'number_value' ELSE 'text_value' END);
            joins := joins || format(' LEFT JOIN crm.custom_value export_f%1$s ON export_f%1$s.client_id = c.id'
                                     ' AND export_f%1$s.field_id = %1$s', field.id);
        ELSE
            -- crm's columns and those a DBA added, by their exact name
            SELECT a.attname INTO header FROM pg_attribute a
            WHERE a.attrelid = 'crm.client'::regclass AND a.attname = col
              AND a.attnum > 0 AND NOT a.attisdropped;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'unrecognized export column "%"', col
                    USING ERRCODE = 'undefined_column',
                          DETAIL = format('Export column %s is neither a column of crm.client nor one of phone, email, unit_path, custom:<field name>.', n),
                          HINT = 'Columns of crm.client are named exactly as in \d crm.client (lower case); custom fields as custom:<field name>.';
            END IF;
            exprs := exprs || format('c.%I', header);
        END IF;
        IF header = ANY (headers) THEN
            RAISE EXCEPTION 'export column "%" is given twice', header
                USING ERRCODE = 'duplicate_column',
                      DETAIL = format('Export column %s repeats an earlier one.', n),
                      HINT = 'Name each column once.';
        END IF;
        headers := headers || header;
    END LOOP;

    RETURN format('SELECT %s FROM crm.client c%s WHERE %s ORDER BY c.id',
                  (SELECT string_agg(format('%s AS %I', e, h), ', ' ORDER BY i)
                   FROM unnest(exprs, headers) WITH ORDINALITY AS x(e, h, i)),
                  joins,
                  crm_internal.client_search_condition(filter, filter_sql));
END
$$;
COMMENT ON FUNCTION crm_internal.export_query(jsonb, text[], text) IS
    'internal to the exports: the query of crm.export_clients_sql(), the filter reached through the SQL expression filter_sql';

-- the filter as a quoted literal: the text stands alone
CREATE FUNCTION crm.export_clients_sql(filter jsonb, columns text[] DEFAULT NULL) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, crm, pg_temp
RETURN crm_internal.export_query(filter, columns, format('%L::jsonb', filter));
COMMENT ON FUNCTION crm.export_clients_sql(jsonb, text[]) IS
    'the query of an export: the clients crm.client_search(filter) selects, with the columns named (a column of crm.client, phone, email, unit_path, custom:<field name>; NULL: a default set), ordered by id; run it with crm on the search_path';

-- CSV through COPY: a temporary view of the export's query, which COPY (and
-- any client of the session) reads like a table.  The executor streams it:
-- no set-returning function collects the rows first.
CREATE FUNCTION crm.export_clients(filter jsonb, columns text[] DEFAULT NULL,
                                   view_name text DEFAULT 'client_export') RETURNS regclass
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    -- The filter is kept in a setting of this session, which the view
    -- reads, and not written into the view: a view's text is in the
    -- catalog, which every role of the database reads (pg_views), and a
    -- filter may hold personal data (a PESEL, a phone number).  The
    -- setting is the session's own; a rolled back call restores it.
    setting text := 'crm_export.filter_' || md5(coalesce(view_name, ''));
    query text := crm_internal.export_query(filter, columns, format('current_setting(%L)::jsonb', setting));
BEGIN
    IF coalesce(view_name, '') = '' THEN
        RAISE EXCEPTION 'the export''s view needs a name'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave view_name out for the default, client_export.';
    END IF;
    PERFORM set_config(setting, filter::text, false);
    -- the session's own temporary view, made again on every call (another
    -- kind of relation of that name is not dropped: DROP VIEW refuses it)
    IF to_regclass(format('pg_temp.%I', view_name)) IS NOT NULL THEN
        EXECUTE format('DROP VIEW pg_temp.%I', view_name);
    END IF;
    -- security_invoker: whoever reads the view reads with its own rights
    -- and row-level security, also after a SET ROLE in this session
    EXECUTE format('CREATE TEMPORARY VIEW %I WITH (security_invoker = true) AS %s', view_name, query);
    RETURN format('pg_temp.%I', view_name)::regclass;
END
$$;
COMMENT ON FUNCTION crm.export_clients(jsonb, text[], text) IS
    'an export as a temporary view of this session (default client_export): COPY (SELECT * FROM client_export) TO STDOUT WITH (FORMAT csv, HEADER); columns and filter as crm.export_clients_sql()';

-- xlsx: src/export.c writes the export's rows, typed, with libxlsxwriter in
-- its constant-memory mode.
CREATE FUNCTION crm.export_clients_xlsx(filter jsonb, columns text[] DEFAULT NULL) RETURNS bytea
    AS 'MODULE_PATHNAME', 'export_clients_xlsx' LANGUAGE C VOLATILE
    SET search_path = pg_catalog, crm, pg_temp;
COMMENT ON FUNCTION crm.export_clients_xlsx(jsonb, text[]) IS
    'an export as an xlsx workbook (bytea, at most 1 GB): a header row, then one row per client, numbers, dates and timestamps as typed cells; a sheet holds 1,048,575 clients, the next ones go on further sheets';

CREATE FUNCTION crm.export_clients_xlsx_file(filter jsonb, columns text[], path text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'export_clients_xlsx_file' LANGUAGE C VOLATILE
    SET search_path = pg_catalog, crm, pg_temp;
COMMENT ON FUNCTION crm.export_clients_xlsx_file(jsonb, text[], text) IS
    'an export written as an xlsx file on the server (absolute path; superusers and members of pg_write_server_files, as COPY TO a file); returns the number of clients written';
--------------------------------------------------------------------------
-- Business cards: a client as a vCard 4.0 (RFC 6350), and an outbox an
-- application reads to send cards by e-mail (WB-5,
-- doc/working-with-the-base.md)
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('vcard', $model$
CREATE TABLE crm.vcard_outbox (
    id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id    bigint NOT NULL REFERENCES crm.client (id) ON DELETE CASCADE,
    recipient    text NOT NULL,
    card         text NOT NULL,
    requested_by text NOT NULL DEFAULT crm_internal.session_role(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    CONSTRAINT vcard_outbox_sent_after CHECK (sent_at >= created_at)
);
CREATE INDEX vcard_outbox_client_id_idx ON crm.vcard_outbox (client_id);
CREATE INDEX vcard_outbox_unsent_idx ON crm.vcard_outbox (id) WHERE sent_at IS NULL;
COMMENT ON TABLE crm.vcard_outbox IS
    'business cards to send by e-mail: crm.send_vcard() queues one and notifies channel crm_vcard_outbox; the sending application sets sent_at';
COMMENT ON COLUMN crm.vcard_outbox.id IS 'the request''s key; the payload of the crm_vcard_outbox notification';
COMMENT ON COLUMN crm.vcard_outbox.client_id IS 'the client whose card it is; deleted with the client';
COMMENT ON COLUMN crm.vcard_outbox.recipient IS 'the e-mail address to send the card to, normalized';
COMMENT ON COLUMN crm.vcard_outbox.card IS
    'the card, crm.vcard() of the client when it was queued (set by a trigger: vCard 4.0 text, CRLF lines)';
COMMENT ON COLUMN crm.vcard_outbox.requested_by IS 'the role that queued it (set by a trigger)';
COMMENT ON COLUMN crm.vcard_outbox.created_at IS 'when it was queued (set by a trigger)';
COMMENT ON COLUMN crm.vcard_outbox.sent_at IS
    'when the application sent it; null while waiting (the only column an update may change)';
CREATE TRIGGER vcard_outbox_before_write BEFORE INSERT OR UPDATE ON crm.vcard_outbox
    FOR EACH ROW EXECUTE FUNCTION crm_internal.vcard_outbox_before_write();
CREATE TRIGGER vcard_outbox_notify AFTER INSERT ON crm.vcard_outbox
    FOR EACH ROW EXECUTE FUNCTION crm_internal.vcard_outbox_notify();
$model$);

-- The byte-level rules, in C (src/core/vcard.c): escaping, and folding at
-- 75 octets of UTF-8 without splitting a character.
CREATE FUNCTION crm_internal.vcard_escape(value text) RETURNS text
    AS 'MODULE_PATHNAME', 'vcard_escape' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm_internal.vcard_escape(text) IS
    'a vCard text value escaped (RFC 6350 3.4): \ , ; get a backslash, a line break becomes \n';
CREATE FUNCTION crm_internal.vcard_line(name text, value text) RETURNS text
    AS 'MODULE_PATHNAME', 'vcard_line' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm_internal.vcard_line(text, text) IS
    'a vCard content line "name:value" (value already escaped), folded at 75 octets of UTF-8 without splitting a character, ending in CRLF; null for a null value';

-- The card: what a business card says, nothing more (no PESEL, no birth
-- date).  Read with the caller's rights: a client it does not see is
-- refused as one that does not exist.
CREATE FUNCTION crm.vcard(client_id bigint) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c record;
    esc text[];
BEGIN
    PERFORM crm_internal.require_data_model();
    IF client_id IS NULL THEN
        RAISE EXCEPTION 'crm.vcard needs a client id' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM crm_internal.require_reach(ARRAY[client_id], 'make a card of');
    SELECT * INTO c FROM crm.client cl WHERE cl.id = client_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'client % does not exist', client_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    RETURN concat(
        crm_internal.vcard_line('BEGIN', 'VCARD'),
        crm_internal.vcard_line('VERSION', '4.0'),
        crm_internal.vcard_line('KIND', CASE c.kind WHEN 'company' THEN 'org' ELSE 'individual' END),
        crm_internal.vcard_line('FN', crm_internal.vcard_escape(c.display_name)),
        -- N: family; given; additional; prefixes; suffixes
        CASE WHEN c.kind = 'person' THEN
            crm_internal.vcard_line('N', concat_ws(';', crm_internal.vcard_escape(coalesce(c.last_name, '')),
                                                   crm_internal.vcard_escape(coalesce(c.first_name, '')), '', '', ''))
        END,
        crm_internal.vcard_line('ORG', crm_internal.vcard_escape(c.company_name)),
        -- phones as tel: URIs (E.164), the default one preferred
        (SELECT string_agg(crm_internal.vcard_line(
                    concat('TEL;VALUE=uri',
                           CASE WHEN k.is_default THEN ';PREF=1' END,
                           CASE lower(btrim(k.label)) WHEN 'mobile' THEN ';TYPE=cell' WHEN 'komórka' THEN ';TYPE=cell'
                                WHEN 'work' THEN ';TYPE=work' WHEN 'praca' THEN ';TYPE=work'
                                WHEN 'home' THEN ';TYPE=home' WHEN 'dom' THEN ';TYPE=home' END),
                    'tel:' || k.value), '' ORDER BY k.is_default DESC, k.created_at, k.id)
         FROM crm.contact k WHERE k.client_id = c.id AND k.kind = 'phone'),
        (SELECT string_agg(crm_internal.vcard_line(
                    concat('EMAIL', CASE WHEN k.is_default THEN ';PREF=1' END),
                    crm_internal.vcard_escape(k.value)), '' ORDER BY k.is_default DESC, k.created_at, k.id)
         FROM crm.contact k WHERE k.client_id = c.id AND k.kind = 'email'),
        -- ADR: post office box; extended; street; locality; region; postal code; country
        CASE WHEN num_nonnulls(c.address, c.city, c.postal_code) > 0 THEN
            crm_internal.vcard_line('ADR', concat_ws(';', '', '',
                                                     crm_internal.vcard_escape(coalesce(c.address, '')),
                                                     crm_internal.vcard_escape(coalesce(c.city, '')), '',
                                                     crm_internal.vcard_escape(coalesce(c.postal_code, '')), ''))
        END,
        crm_internal.vcard_line('LANG', c.language),
        crm_internal.vcard_line('REV', to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"')),
        crm_internal.vcard_line('END', 'VCARD'));
END
$$;
COMMENT ON FUNCTION crm.vcard(bigint) IS
    'the client''s business card as vCard 4.0 text (RFC 6350: UTF-8, CRLF, escaped, folded at 75 octets): name, company, phones, e-mails, address, language';

-- The outbox's rows say what crm made: the card of the client when it was
-- queued, by whom and when; an update only marks it sent.  A trusted
-- writer (a restore) keeps what it writes.
CREATE FUNCTION crm_internal.vcard_outbox_before_write() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF crm_internal.writer_is_trusted() AND TG_OP = 'INSERT' AND NEW.card IS NOT NULL THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF (NEW.id, NEW.client_id, NEW.recipient, NEW.card, NEW.requested_by, NEW.created_at)
           IS DISTINCT FROM (OLD.id, OLD.client_id, OLD.recipient, OLD.card, OLD.requested_by, OLD.created_at)
           AND NOT crm_internal.writer_is_trusted() THEN
            RAISE EXCEPTION 'only sent_at of a queued card changes'
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format('Outbox entry %s was queued for client %s.', OLD.id, OLD.client_id),
                      HINT = 'Queue a new card with crm.send_vcard(client_id, recipient).';
        END IF;
        -- marking a card sent stops its delivery: the role that queued it,
        -- or the sending application (the tables' owner, or a role that
        -- sees every client), not any role that reaches the client
        IF NEW.sent_at IS DISTINCT FROM OLD.sent_at AND NOT crm_internal.writer_is_trusted()
           AND OLD.requested_by IS DISTINCT FROM crm_internal.session_role()
           AND NOT crm_internal.sees_all(current_user::text) THEN
            RAISE EXCEPTION 'only the role that queued a card, or the sending application, marks it sent'
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format('Outbox entry %s was queued by another role.', OLD.id),
                      HINT = 'Let the application that sends the cards set sent_at.';
        END IF;
        RETURN NEW;
    END IF;
    IF NOT crm.is_valid_email(NEW.recipient) THEN
        RAISE EXCEPTION 'invalid recipient e-mail address'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('"%s" is not an e-mail address.', NEW.recipient);
    END IF;
    NEW.recipient := crm.normalize_email(btrim(NEW.recipient));
    NEW.card := crm.vcard(NEW.client_id);
    NEW.requested_by := crm_internal.session_role();
    NEW.created_at := now();
    NEW.sent_at := NULL;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.vcard_outbox_before_write() IS
    'trigger: a queued card is the client''s crm.vcard(), with its requester and time; an update may only set sent_at';

-- The payload is the entry's id only: any session may LISTEN on any
-- channel, and the card is personal data (row-level security guards it in
-- the table).
CREATE FUNCTION crm_internal.vcard_outbox_notify() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify('crm_vcard_outbox', NEW.id::text);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.vcard_outbox_notify() IS
    'trigger: notifies channel crm_vcard_outbox with the new entry''s id (nothing else: any session may listen)';

CREATE FUNCTION crm.send_vcard(client_id bigint, recipient text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    id bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    INSERT INTO crm.vcard_outbox (client_id, recipient, card)
    VALUES (client_id, recipient, NULL) RETURNING vcard_outbox.id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION crm.send_vcard(bigint, text) IS
    'queues the client''s card (crm.vcard) for recipient in crm.vcard_outbox and notifies channel crm_vcard_outbox (payload: the entry''s id); returns the id';
--------------------------------------------------------------------------
-- Trigger functions belong to crm's own tables
--
-- PostgreSQL checks EXECUTE on a trigger function when a trigger is
-- created, never when it fires.  Without EXECUTE no role can attach one of
-- crm's trigger functions to a table of its own (a temporary table): there
-- a SECURITY DEFINER one would act with the owner's rights on made-up rows
-- (locking or changing any client), and a C one would read columns of
-- types it does not expect.  crm's own triggers, created by the owner,
-- fire for every writer as before.  The functions that run with more
-- rights or read columns in C also check the table they fire on.
-- Every trigger function of the extension: this file comes after all that
-- define one.
--------------------------------------------------------------------------
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid FROM pg_catalog.pg_proc p
        WHERE p.pronamespace IN ('crm'::regnamespace, 'crm_internal'::regnamespace)
          AND p.prorettype = 'pg_catalog.trigger'::regtype
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;
--------------------------------------------------------------------------
-- Data model steps of earlier releases
--
-- Every upgrade script crm--A--B.sql ends with
-- SELECT crm_internal.data_model_step('A', 'B', $step$ ... $step$);
-- ('' as the step when the model does not change: the call is what moves
-- crm.data_model.version along) and the same call is appended here, so that the full install script of
-- every later release can migrate a model restored from a dump of A
-- (crm.install_data_model() applies the steps in order).  Before 1.0.0
-- the install script is edited in place and there is no step yet.
--------------------------------------------------------------------------
