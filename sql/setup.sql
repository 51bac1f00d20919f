--
-- setup: helpers shared by the tests that follow (run first)
--
-- CREATE EXTENSION crm (pg_regress --load-extension) installed the logic;
-- the tables are the database's, created once for every test that follows
SELECT crm.install_data_model();
-- a second call changes nothing
SELECT crm.install_data_model();

CREATE SCHEMA regress;
GRANT USAGE ON SCHEMA regress TO PUBLIC;

-- The operators of crm's types live in schema crm: a database that uses
-- them puts crm on its search_path, as doc/types.md tells.  Each test is a
-- new session, so this applies to all that follow.
DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET search_path = "$user", public, crm',
                   current_database());
    -- the duplicate check on save stays out of the tests that are not
    -- about it; fuzzy turns it on
    EXECUTE format('ALTER DATABASE %I SET crm.duplicate_check = off', current_database());
END $$;

-- What a statement raises, as a row: sqlstate '00000' when it succeeds.
CREATE FUNCTION regress.error_of(statement text)
RETURNS TABLE (err_code text, err_message text, err_detail text, err_hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    err_code := '00000';
    RETURN NEXT;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE,
        err_message = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL,
        err_hint = PG_EXCEPTION_HINT;
    RETURN NEXT;
END
$$;

-- What an input raises: pg_input_error_info() of PostgreSQL 16, plus the
-- hint, for 15.
CREATE FUNCTION regress.input_error(value text, type regtype)
RETURNS TABLE (err_code text, err_message text, err_detail text, err_hint text)
LANGUAGE sql
AS $$ SELECT * FROM regress.error_of(format('SELECT %L::%s', value, type)) $$;

-- Empty every table of the extension (tests that write data start and end
-- with it, so that each stands alone).
CREATE FUNCTION regress.reset() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE (SELECT 'TRUNCATE ' || string_agg(c.oid::regclass::text, ', ') || ' RESTART IDENTITY CASCADE'
             FROM pg_class c WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind = 'r'
               AND c.oid <> 'crm.data_model'::regclass);
END
$$;

-- After rows were inserted with explicit ids, let the identity columns
-- continue after the largest id.
CREATE FUNCTION regress.sync_identities() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT a.attrelid::regclass AS tbl, a.attname
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             WHERE c.relnamespace = 'crm'::regnamespace AND a.attidentity <> '' LOOP
        EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), coalesce(max(%I), 0) + 1, false) FROM %s',
                       r.tbl, r.attname, r.attname, r.tbl);
    END LOOP;
END
$$;

SELECT * FROM regress.input_error('abc', 'integer');
SELECT * FROM regress.input_error('12', 'integer');
