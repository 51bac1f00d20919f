-- Team tasks (Ready_TM): crm.task's case, notification request and state;
-- crm.task_assignee, the employees of a task
ALTER TABLE crm.task ADD COLUMN case_id bigint REFERENCES crm."case" (id);
ALTER TABLE crm.task ADD COLUMN notify_when_done boolean NOT NULL DEFAULT false;
ALTER TABLE crm.task ADD COLUMN notify_employee text REFERENCES crm.employee (login) ON UPDATE CASCADE;
ALTER TABLE crm.task ADD COLUMN notified_at timestamptz;
COMMENT ON COLUMN crm.task.case_id IS 'the case (crm."case") the task belongs to; a case of the task''s client';
COMMENT ON COLUMN crm.task.notify_when_done IS
    'when the task is done, notify notify_employee (NOTIFY crm_task_done, once)';
COMMENT ON COLUMN crm.task.notify_employee IS 'who asked to be told when the task is done (crm.employee)';
COMMENT ON COLUMN crm.task.notified_at IS 'when the done notification was sent; null until then';
-- @source CREATE TABLE crm.task_assignee (
CREATE INDEX task_case_id_idx ON crm.task (case_id) WHERE case_id IS NOT NULL;
-- @source CREATE CONSTRAINT TRIGGER task_case_client
