--------------------------------------------------------------------------
-- Team tasks: one task for several employees, linked to a case, with
-- "notify me when done" (Ready_TM)
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('team_tasks', $model$
CREATE TABLE crm.task_assignee (
    task_id     bigint NOT NULL REFERENCES crm.task (id) ON DELETE CASCADE,
    employee    text NOT NULL REFERENCES crm.employee (login) ON UPDATE CASCADE,
    done_at     timestamptz,
    PRIMARY KEY (task_id, employee)
);
CREATE INDEX task_assignee_employee_idx ON crm.task_assignee (employee);
COMMENT ON TABLE crm.task_assignee IS
    'the employees of a team task (crm.create_team_task), each with their part; the task is done when every part is (crm.complete_task)';
COMMENT ON COLUMN crm.task_assignee.task_id IS 'the task (crm.task); its rows go with it';
COMMENT ON COLUMN crm.task_assignee.employee IS 'an employee the task is assigned to (crm.employee)';
COMMENT ON COLUMN crm.task_assignee.done_at IS 'when this employee''s part was done; null while open';

-- crm.task.case_id: created after crm."case" (40_linked_records.sql
-- creates crm.task first); the name is the one ADD COLUMN ... REFERENCES
-- gives it in an upgrade
ALTER TABLE crm.task ADD CONSTRAINT task_case_id_fkey FOREIGN KEY (case_id) REFERENCES crm."case" (id);
CREATE INDEX task_case_id_idx ON crm.task (case_id) WHERE case_id IS NOT NULL;
-- a task's case is a case of the task's client: checked at commit, so that
-- a merge moves a client's cases and tasks in any order
CREATE CONSTRAINT TRIGGER task_case_client AFTER INSERT OR UPDATE OF case_id, client_id ON crm.task
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.case_id IS NOT NULL)
    EXECUTE FUNCTION crm_internal.task_case_client_check();
CREATE CONSTRAINT TRIGGER case_task_client AFTER UPDATE OF client_id ON crm.case
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.client_id IS DISTINCT FROM NEW.client_id)
    EXECUTE FUNCTION crm_internal.task_case_client_check();
-- done (crm.complete_task(), or done_at set directly): the one who asked
-- is told, once
CREATE TRIGGER task_done_notify BEFORE UPDATE OF done_at ON crm.task
    FOR EACH ROW WHEN (NEW.done_at IS NOT NULL AND OLD.done_at IS NULL
                       AND NEW.notify_when_done AND NEW.notified_at IS NULL)
    EXECUTE FUNCTION crm_internal.task_done_notify();
CREATE TRIGGER task_done_notify_insert BEFORE INSERT ON crm.task
    FOR EACH ROW WHEN (NEW.done_at IS NOT NULL AND NEW.notify_when_done AND NEW.notified_at IS NULL)
    EXECUTE FUNCTION crm_internal.task_done_notify();

$model$);

-- The check behind both constraint triggers, on the rows as they stand at
-- commit.  SECURITY DEFINER: it must see every task of the case and the
-- case of the task, whatever the writer's row-level security lets it see;
-- its refusals name only the row the writer wrote.
CREATE FUNCTION crm_internal.task_case_client_check() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    task_client bigint;
    case_client bigint;
BEGIN
    -- crm's own two triggers only (its EXECUTE is revoked: no other can be made)
    IF TG_RELID NOT IN ('crm.task'::regclass, 'crm."case"'::regclass) THEN
        RAISE EXCEPTION 'crm_internal.task_case_client_check() fires on crm.task and crm."case" only'
            USING ERRCODE = 'feature_not_supported';
    END IF;
    IF TG_RELID = 'crm.task'::regclass THEN
        SELECT t.client_id, c.client_id INTO task_client, case_client
        FROM crm.task t LEFT JOIN crm."case" c ON c.id = t.case_id
        WHERE t.id = NEW.id AND t.case_id IS NOT NULL;
        IF FOUND AND case_client IS DISTINCT FROM task_client THEN
            RAISE EXCEPTION 'case % is not a case of client %', NEW.case_id, task_client
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Task %s is about client %s; its case must be about the same client.',
                                      NEW.id, task_client),
                      HINT = 'Link the task to one of its client''s cases, or to none (case_id NULL).';
        END IF;
    ELSE
        SELECT c.client_id INTO case_client FROM crm."case" c WHERE c.id = NEW.id;
        IF FOUND AND EXISTS (SELECT FROM crm.task t WHERE t.case_id = NEW.id AND t.client_id <> case_client) THEN
            RAISE EXCEPTION 'case % has tasks of another client', NEW.id
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Case %s is now about client %s, and tasks linked to it are not.',
                                      NEW.id, case_client),
                      HINT = 'Move the case''s tasks with it (crm.merge_client() moves both), or unlink them (case_id NULL).';
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.task_case_client_check() IS
    'constraint trigger (deferred) on crm.task and crm."case": a task''s case is a case of the task''s client';
REVOKE ALL ON FUNCTION crm_internal.task_case_client_check() FROM PUBLIC;

-- A NOTIFY is delivered at commit only: a completion rolled back tells no
-- one.  Any session may LISTEN on any channel, whatever it may read: the
-- payload holds ids only (the task, and the login to tell), as the vCard
-- outbox's does; the application reads the task itself with the rights of
-- the one told (row-level security).
CREATE FUNCTION crm_internal.task_done_notify() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify('crm_task_done', jsonb_build_object(
        'task_id', NEW.id, 'notify_employee', NEW.notify_employee)::text);
    NEW.notified_at := now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.task_done_notify() IS
    'trigger: a task asking for it became done: notifies channel crm_task_done (JSON: task_id, notify_employee; ids only, as any session may listen) and sets notified_at';
REVOKE ALL ON FUNCTION crm_internal.task_done_notify() FROM PUBLIC;

CREATE FUNCTION crm.create_team_task(client_id bigint, title text, employees text[], case_id bigint DEFAULT NULL,
                                     due_at timestamptz DEFAULT NULL, notify_when_done boolean DEFAULT false)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c record;
    team text[];
    e text;
    asker text;
    task_id bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF nullif(btrim(title), '') IS NULL THEN
        RAISE EXCEPTION 'a task needs a title' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- the employees, each once, in the order given; the first is responsible
    team := ARRAY(SELECT x FROM unnest(employees) WITH ORDINALITY AS u(x, o)
                  WHERE x IS NOT NULL GROUP BY x ORDER BY min(o));
    IF cardinality(team) = 0 OR array_position(employees, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'a team task needs its employees'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('employees is %s.', coalesce(employees::text, 'NULL')),
                  HINT = 'Name one login of crm.employee or more: ARRAY[''anna.nowak'', ''piotr.wisniewski''].';
    END IF;
    FOREACH e IN ARRAY team LOOP
        PERFORM crm_internal.require_employee(e, 'an employee of the task');
    END LOOP;
    c := crm_internal.client_in_reach(client_id, 'create a task for');
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    IF case_id IS NOT NULL
       AND NOT EXISTS (SELECT FROM crm."case" k WHERE k.id = case_id AND k.client_id = c.id) THEN
        -- the same words for a case of another client and one out of sight
        RAISE EXCEPTION 'case % is not a case of client %', case_id, c.id
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Client %s has no case %s that role "%s" can see.',
                                  c.id, case_id, crm_internal.session_role()),
                  HINT = format('Pick one of the client''s cases (SELECT id, title FROM crm."case" WHERE client_id = %s), or none.', c.id);
    END IF;
    IF notify_when_done THEN
        asker := crm_internal.session_role();
        IF NOT EXISTS (SELECT FROM crm.employee x WHERE x.login = asker) THEN
            RAISE EXCEPTION 'unknown employee "%"', asker
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('The notification goes to the caller, login "%s", which is not in crm.employee.', asker),
                      HINT = 'Have an administrator add it to crm.employee, or create the task without notify_when_done.';
        END IF;
    END IF;
    INSERT INTO crm.task AS t (client_id, kind, title, due_at, assignee, case_id, notify_when_done, notify_employee)
    VALUES (c.id, 'task', btrim(title), due_at, team[1], case_id, coalesce(notify_when_done, false), asker)
    RETURNING t.id INTO task_id;
    INSERT INTO crm.task_assignee (task_id, employee)
    SELECT task_id, x FROM unnest(team) AS x;
    RETURN task_id;
END
$$;
COMMENT ON FUNCTION crm.create_team_task(bigint, text, text[], bigint, timestamptz, boolean) IS
    'creates one task about a client for several employees (active logins of crm.employee; the first is its assignee), optionally in one of the client''s cases; notify_when_done: the caller is told (NOTIFY crm_task_done) when every part is done; returns the task''s id';

CREATE FUNCTION crm.complete_task(task_id bigint, employee text DEFAULT NULL) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    t record;
    who text := coalesce(employee, crm_internal.session_role());
    open_parts bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF task_id IS NULL THEN
        RAISE EXCEPTION 'task id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- one completion of a task at a time: the last part done sees all done
    SELECT k.id, k.done_at INTO t FROM crm.task k WHERE k.id = task_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'task % does not exist', task_id
            USING ERRCODE = 'no_data_found',
                  DETAIL = format('Or role "%s" cannot see it: it sees the tasks of the clients of its units.',
                                  crm_internal.session_role());
    END IF;
    -- an employee working under its own login marks its own part only
    -- (another's as a supervisor or administrator); a role that is no
    -- employee (an application's, which knows its users) names the employee
    IF who <> crm_internal.session_role() AND NOT crm_internal.sees_all_work(crm_internal.session_role())
       AND EXISTS (SELECT FROM crm.employee e WHERE e.login = crm_internal.session_role()) THEN
        RAISE EXCEPTION 'permission denied to complete the part of "%" in task %', who, t.id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role "%s" marks its own part done only.', crm_internal.session_role()),
                  HINT = 'Call crm.complete_task(task_id) as that employee, or ask a supervisor.';
    END IF;
    IF EXISTS (SELECT FROM crm.task_assignee a WHERE a.task_id = t.id) THEN
        UPDATE crm.task_assignee a SET done_at = now()
        WHERE a.task_id = t.id AND a.employee = who AND a.done_at IS NULL;
        IF NOT FOUND AND NOT EXISTS (SELECT FROM crm.task_assignee a WHERE a.task_id = t.id AND a.employee = who) THEN
            RAISE EXCEPTION 'employee "%" is not assigned to task %', who, t.id
                USING ERRCODE = 'no_data_found',
                      DETAIL = format('Task %s is assigned to %s.', t.id,
                                      (SELECT string_agg(format('"%s"', a.employee), ', ' ORDER BY a.employee)
                                       FROM crm.task_assignee a WHERE a.task_id = t.id)),
                      HINT = 'Name one of them (complete_task(task_id, employee)); without it, the caller''s part is marked.';
        END IF;
        SELECT count(*) INTO open_parts FROM crm.task_assignee a WHERE a.task_id = t.id AND a.done_at IS NULL;
    ELSE
        -- a task of one person (not made by crm.create_team_task)
        open_parts := 0;
    END IF;
    IF open_parts = 0 AND t.done_at IS NULL THEN
        UPDATE crm.task k SET done_at = now() WHERE k.id = t.id;
        RETURN true;
    END IF;
    RETURN open_parts = 0 OR t.done_at IS NOT NULL;
END
$$;
COMMENT ON FUNCTION crm.complete_task(bigint, text) IS
    'marks employee''s part of a task done (default: the caller''s login; a caller that is an employee marks another''s only as a supervisor or administrator); true when the whole task is done (every part is: then its done_at is set and, if asked, crm_task_done is notified)';
