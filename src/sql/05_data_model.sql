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
    -- A GRANT or REVOKE run by an extension's script is recorded as the
    -- object's initial privileges (pg_init_privs), which pg_dump leaves out
    -- of dumps: the grants a step made on the model (the new tables' for
    -- crm's roles) would be lost by a dump and restore.  The model's objects
    -- are the database's: they have no initial privileges.
    DELETE FROM pg_catalog.pg_init_privs i
    WHERE (pg_catalog.pg_identify_object(i.classoid, i.objoid, 0)).schema = 'crm'
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                      WHERE d.classid = i.classoid AND d.objid = i.objoid AND d.deptype = 'e');
END
$$;
COMMENT ON FUNCTION crm_internal.release_data_model_objects(text[]) IS
    'upgrade scripts only: the objects a model step created (members now, not in before) are the database''s, not the extension''s, and no model object keeps initial privileges (pg_init_privs) from the step';
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
