-- Loaded by test/upgrade.sh before releases/sample--1.0.0.sql into a model
-- at 1.0.1 or later: the employees that 1.0.0's sample names as owners and
-- task assignees, as the 1.0.0 -> 1.0.1 step makes them from the data
-- (a login, nothing else: a DBA completes them).
INSERT INTO crm.employee (login) VALUES ('agent_anna'), ('agent_piotr');
