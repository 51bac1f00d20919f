--
-- setup: helpers shared by the tests that follow (run first)
--
CREATE SCHEMA regress;

-- The operators of crm's types live in schema crm: a database that uses
-- them puts crm on its search_path, as doc/types.md tells.  Each test is a
-- new session, so this applies to all that follow.
DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET search_path = "$user", public, crm',
                   current_database());
END $$;

-- What an input raises, as a row: sqlstate '00000' when accepted.  This is
-- pg_input_error_info() of PostgreSQL 16, plus the hint, for 15.
CREATE FUNCTION regress.input_error(value text, type regtype)
RETURNS TABLE (err_code text, err_message text, err_detail text, err_hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT %L::%s', value, type);
    err_code := '00000';
    RETURN NEXT;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE,
        err_message = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL,
        err_hint = PG_EXCEPTION_HINT;
    RETURN NEXT;
END
$$;
SELECT * FROM regress.input_error('abc', 'integer');
SELECT * FROM regress.input_error('12', 'integer');
