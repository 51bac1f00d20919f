--
-- team tasks (Ready_TM): one task for several employees, in one of the
-- client's cases, done when every part is, with "notify me when done"
-- (NOTIFY crm_task_done at commit); row-level security, merge and unmerge
--
SELECT regress.reset();
SELECT crm.create_roles() IS NOT NULL AS roles;
SELECT crm.enable_row_security() IS NOT NULL AS row_security;

CREATE ROLE regress_tt_agent NOLOGIN;       -- an agent in Kraków, an employee
CREATE ROLE regress_tt_gda NOLOGIN;         -- an agent in Gdańsk, not an employee
CREATE ROLE regress_tt_sup NOLOGIN;         -- a supervisor in Kraków
GRANT crm_agent TO regress_tt_agent, regress_tt_gda;
GRANT crm_supervisor TO regress_tt_sup;

INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Agencja'), (2, 1, 'branch', 'Kraków'), (3, 1, 'branch', 'Gdańsk');
SELECT crm.user_unit('regress_tt_agent', 2), crm.user_unit('regress_tt_gda', 3), crm.user_unit('regress_tt_sup', 2);
INSERT INTO crm.employee (login, full_name, active) VALUES
    ('regress_tt_agent', 'Grzegorz Wójcik', true),
    ('anna.nowak', 'Anna Nowak', true),
    ('łukasz.żak', 'Łukasz Żak', true),
    ('jerzy.mazur', 'Jerzy Mazur', false);
INSERT INTO crm.client (id, first_name, last_name, pesel, city, unit_id, owner) VALUES
    (1, 'Jan', 'Kowalski', '44051401359', 'Kraków', 2, 'anna.nowak'),
    (2, 'Jan', 'Kowalski', '44051401359', 'Kraków', 2, NULL),
    (3, 'Katarzyna', 'Wiśniewska', '90031212347', 'Gdańsk', 3, NULL);
INSERT INTO crm.case (id, client_id, title, kind) VALUES
    (1, 1, 'Szkoda komunikacyjna 03/2026', 'szkoda'),
    (2, 2, 'Reklamacja składki', 'reklamacja'),
    (3, 3, 'Szkoda mieszkaniowa', 'szkoda');
SELECT regress.sync_identities();

--
-- creating: an agent, for a client of its unit, in the client's case
--
SET ROLE regress_tt_agent;
SELECT crm.create_team_task(1, 'Zebrać dokumenty szkody', ARRAY['regress_tt_agent', 'anna.nowak', 'anna.nowak'],
                            case_id => 1, due_at => '2026-03-20 12:00+01', notify_when_done => true) AS task;
SELECT id, client_id, title, assignee, case_id, notify_when_done, notify_employee, notified_at, done_at FROM crm.task;
SELECT task_id, employee, done_at FROM crm.task_assignee ORDER BY employee;
-- refused: a case of another client (and one out of sight, in the same
-- words), an unknown or inactive employee, no employees, a client out of reach
SELECT * FROM regress.error_of($$SELECT crm.create_team_task(1, 'Oferta', ARRAY['anna.nowak'], case_id => 2)$$);
SELECT * FROM regress.error_of($$SELECT crm.create_team_task(1, 'Oferta', ARRAY['anna.nowak'], case_id => 3)$$);
SELECT * FROM regress.error_of($$SELECT crm.create_team_task(1, 'Oferta', ARRAY['anna.nowak', 'lukasz.zak'])$$);
SELECT * FROM regress.error_of($$SELECT crm.create_team_task(1, 'Oferta', ARRAY['jerzy.mazur'])$$);
SELECT * FROM regress.error_of($$SELECT crm.create_team_task(1, 'Oferta', ARRAY[]::text[])$$);
SELECT * FROM regress.error_of($$SELECT crm.create_team_task(1, ' ', ARRAY['anna.nowak'])$$);
SELECT * FROM regress.error_of($$SELECT crm.create_team_task(3, 'Oferta', ARRAY['anna.nowak'])$$);
-- the case rule holds for a plain insert too (checked at commit)
SELECT * FROM regress.error_of($$INSERT INTO crm.task (client_id, title, case_id) VALUES (1, 'Ręcznie', 2)$$);
RESET ROLE;
-- who asks to be told must be an employee
SET ROLE regress_tt_gda;
SELECT * FROM regress.error_of($$SELECT crm.create_team_task(3, 'Oględziny', ARRAY['łukasz.żak'], case_id => 3, notify_when_done => true)$$);
SELECT crm.create_team_task(3, 'Oględziny', ARRAY['łukasz.żak'], case_id => 3) AS gdansk_task \gset
-- row-level security: a team task's employees are seen with the task
SELECT id, client_id FROM crm.task ORDER BY id;
SELECT task_id, employee FROM crm.task_assignee ORDER BY task_id, employee;
SELECT * FROM regress.error_of($$SELECT crm.complete_task(1, 'anna.nowak')$$);
RESET ROLE;
SET ROLE regress_tt_agent;
SELECT id, client_id FROM crm.task ORDER BY id;
SELECT task_id, employee FROM crm.task_assignee ORDER BY task_id, employee;
SELECT * FROM regress.error_of(format('SELECT crm.complete_task(%s, %L)', :gdansk_task, 'łukasz.żak'));
SELECT * FROM regress.error_of(format('INSERT INTO crm.task_assignee (task_id, employee) VALUES (%s, %L)', :gdansk_task, 'anna.nowak'));
RESET ROLE;

--
-- completing: done when every part is; the notification is sent at commit,
-- once, and a completion rolled back tells no one.  psql prints each
-- notification it receives; written to a file and read back without the
-- server process's number, which changes from run to run.
--
SELECT '/tmp/crm_regress_team_tasks_' || current_setting('port') || '.out' AS notifications \gset
LISTEN crm_task_done;
-- an employee working under its own login marks its own part only:
-- Anna's is marked by a supervisor
SET ROLE regress_tt_agent;
SELECT * FROM regress.error_of('SELECT crm.complete_task(1, ''anna.nowak'')');
SET ROLE regress_tt_sup;
\o :notifications
SELECT crm.complete_task(1, 'anna.nowak') AS all_done;
SELECT crm.complete_task(1, 'anna.nowak') AS again;
SET ROLE regress_tt_agent;
BEGIN;
SELECT crm.complete_task(1) AS all_done_then_rolled_back;
ROLLBACK;
SELECT crm.complete_task(1) AS all_done;
SELECT crm.complete_task(1) AS once_more;
\o
RESET ROLE;
\a \t
SELECT regexp_replace(pg_read_file(:'notifications'), 'PID [0-9]+', 'PID n', 'g') AS psql_output;
\a \t
\! rm -f /tmp/crm_regress_team_tasks_*.out
SELECT id, done_at IS NOT NULL AS done, notified_at IS NOT NULL AS notified FROM crm.task WHERE id = 1;
SELECT employee, done_at IS NOT NULL AS done FROM crm.task_assignee WHERE task_id = 1 ORDER BY employee;
-- not one of the task's employees
SET ROLE regress_tt_agent;
SELECT crm.create_team_task(2, 'Odpowiedź na reklamację', ARRAY['łukasz.żak'], case_id => 2, notify_when_done => true) AS task \gset
SELECT * FROM regress.error_of(format('SELECT crm.complete_task(%s)', :task));
SELECT * FROM regress.error_of('SELECT crm.complete_task(999)');
RESET ROLE;
-- the old way, done_at set directly, notifies too
\o :notifications
UPDATE crm.task SET done_at = '2026-03-21 09:00+01' WHERE id = :task;
\o
\a \t
SELECT regexp_replace(pg_read_file(:'notifications'), 'PID [0-9]+', 'PID n', 'g') AS psql_output;
\a \t
\! rm -f /tmp/crm_regress_team_tasks_*.out
UNLISTEN crm_task_done;
SELECT id, notified_at IS NOT NULL AS notified FROM crm.task WHERE id = :task;

--
-- merge: a client's tasks and cases move together to the kept client, so
-- a task's case stays the task's client's; unmerge brings both back
--
SET ROLE regress_tt_sup;
SELECT crm.merge_client(2, 1) AS merge_id \gset
SELECT t.id, t.client_id, t.case_id, k.client_id AS case_client
FROM crm.task t LEFT JOIN crm.case k ON k.id = t.case_id ORDER BY t.id;
SELECT crm.unmerge(:merge_id) IS NOT NULL AS unmerged;
SELECT t.id, t.client_id, t.case_id, k.client_id AS case_client
FROM crm.task t LEFT JOIN crm.case k ON k.id = t.case_id ORDER BY t.id;
RESET ROLE;
-- a case moved alone, leaving its tasks with another client, is refused
SELECT * FROM regress.error_of($$UPDATE crm.case SET client_id = 1 WHERE id = 2$$);
-- deleting a task takes its employees with it
DELETE FROM crm.task WHERE id = 1;
SELECT task_id, employee FROM crm.task_assignee ORDER BY task_id, employee;
-- anonymizing the client clears a team task's title as any task's; its
-- employees, case and notification state stay
SELECT crm.anonymization_code(2) AS code \gset
SELECT crm.anonymize(2, :'code') IS NOT NULL AS anonymized;
SELECT t.id, t.title, t.case_id, t.notified_at IS NOT NULL AS notified, array_agg(a.employee) AS employees
FROM crm.task t JOIN crm.task_assignee a ON a.task_id = t.id WHERE t.client_id = 2 GROUP BY t.id;

SELECT regress.reset();
DROP OWNED BY regress_tt_agent, regress_tt_gda, regress_tt_sup;
DROP ROLE regress_tt_agent, regress_tt_gda, regress_tt_sup;
