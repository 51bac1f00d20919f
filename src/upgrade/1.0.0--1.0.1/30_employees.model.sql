-- CL-5: crm.employee, the known users; crm.client.owner and crm.task.assignee
-- reference it.  Every login already named (owners, task assignees) becomes
-- an employee, without a name or e-mail: a DBA reviews them after the
-- upgrade (doc/upgrades.md).
-- @source CREATE TABLE crm.employee (
-- 1.0.0 kept owners and assignees as typed: spaces around are trimmed and
-- a blank one cleared, so that "anna " does not become a second employee
UPDATE crm.client SET owner = nullif(btrim(owner), '')
WHERE owner IS DISTINCT FROM nullif(btrim(owner), '');
UPDATE crm.task SET assignee = nullif(btrim(assignee), '')
WHERE assignee IS DISTINCT FROM nullif(btrim(assignee), '');
INSERT INTO crm.employee (login)
SELECT c.owner FROM crm.client c WHERE c.owner IS NOT NULL
UNION
SELECT t.assignee FROM crm.task t WHERE t.assignee IS NOT NULL
ORDER BY 1;
-- logins only the merge journal remembers (the account manager of a
-- record merged away, or the kept one's before the merge): inactive
-- employees, so that undoing the merge can bring them back
INSERT INTO crm.employee (login, active)
SELECT DISTINCT o.login, false
FROM crm.merge_log l,
     LATERAL (SELECT s ->> 'owner' FROM jsonb_array_elements(l.sources) AS s
              UNION ALL SELECT l.target_before ->> 'owner') AS o(login)
WHERE btrim(o.login) <> ''
ON CONFLICT (login) DO NOTHING;
ALTER TABLE crm.client ADD CONSTRAINT client_owner_fkey
    FOREIGN KEY (owner) REFERENCES crm.employee (login) ON UPDATE CASCADE;
COMMENT ON COLUMN crm.client.owner IS
    'the account manager: a login of crm.employee (renamed with it)';
COMMENT ON COLUMN crm.client_overview.owner IS 'the account manager: a login of crm.employee';
ALTER TABLE crm.task ADD CONSTRAINT task_assignee_fkey
    FOREIGN KEY (assignee) REFERENCES crm.employee (login) ON UPDATE CASCADE;
COMMENT ON COLUMN crm.task.assignee IS
    'who is responsible for it (crm.employee); a team task''s employees are in crm.task_assignee';
