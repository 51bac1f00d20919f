--------------------------------------------------------------------------
-- Employees: the known users that clients and tasks name (CL-5)
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('employees', $model$
CREATE TABLE crm.employee (
    login       text PRIMARY KEY CHECK (btrim(login) <> ''),
    full_name   text,
    email       text,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE crm.employee IS
    'the CRM''s users that clients (account manager) and tasks (assignees) name; administrators write, everyone reads; an employee who leaves is made inactive, not deleted';
COMMENT ON COLUMN crm.employee.login IS
    'the login the application or the database role uses; renaming it renames it in crm.client.owner and the tasks (ON UPDATE CASCADE)';
COMMENT ON COLUMN crm.employee.full_name IS 'the employee''s name as shown to people (Anna Nowak)';
COMMENT ON COLUMN crm.employee.email IS 'the employee''s work e-mail address';
COMMENT ON COLUMN crm.employee.active IS
    'false once the employee left: still named by old records, no longer given clients or tasks';
COMMENT ON COLUMN crm.employee.created_at IS 'when the employee was recorded';

$model$);

-- One home for "this login is an employee who may be given work": the
-- refusals of the bulk owner change and the team tasks.  crm.employee is
-- read by every crm role: naming the login reveals nothing.
CREATE FUNCTION crm_internal.require_employee(login text, what text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    is_active boolean;
BEGIN
    SELECT e.active INTO is_active FROM crm.employee e WHERE e.login = require_employee.login;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown employee "%"', login
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Login "%s" (%s) is not in crm.employee.', login, what),
                  HINT = 'Check the spelling, or have an administrator add it to crm.employee first.';
    END IF;
    IF NOT is_active THEN
        RAISE EXCEPTION 'employee "%" is inactive', login
            USING ERRCODE = 'check_violation',
                  DETAIL = format('Login "%s" (%s) is marked inactive in crm.employee: it gets no new clients or tasks.',
                                  login, what),
                  HINT = 'Choose an active employee, or have an administrator set crm.employee.active again.';
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.require_employee(text, text) IS
    'internal: 23503 unless login is in crm.employee, 23514 if it is inactive; what says what it was given as';
