--
-- bulk: the bulk actions of WB-4 over ids and filters, atomic, audited,
-- within the caller's reach (row-level security); the refresh of invoices
-- after a merge (MG-9)
--
SELECT regress.reset();
SELECT crm.create_roles() IS NOT NULL AS roles;
SELECT crm.enable_row_security() IS NOT NULL AS row_security;
CREATE ROLE regress_bulk_agent NOLOGIN;     -- an agent in Kraków
CREATE ROLE regress_bulk_admin NOLOGIN;     -- an administrator
CREATE ROLE regress_bulk_leaver NOLOGIN;    -- an account manager who leaves
CREATE ROLE regress_bulk_heir NOLOGIN;      -- who takes the clients over
GRANT crm_agent TO regress_bulk_agent;
GRANT crm_admin TO regress_bulk_admin;

INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Agencja'), (2, 1, 'branch', 'Kraków'), (3, 1, 'branch', 'Gdańsk');
INSERT INTO crm.campaign (id, name) VALUES (1, 'Odnowienia OC');
INSERT INTO crm.segment (id, name) VALUES (1, 'Flota');
INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'Hobby', 'text'), (2, 'Liczba aut', 'number');
INSERT INTO crm.price_list (id, name) VALUES (1, 'Cennik 2026'), (2, 'Cennik VIP');
-- clients 1-4 in Kraków, 5-6 in Gdańsk; 4 hidden
-- account managers and assignees are employees (crm.employee)
INSERT INTO crm.employee (login) VALUES ('regress_bulk_leaver'), ('regress_bulk_heir'), ('regress_bulk_agent');
INSERT INTO crm.client (id, first_name, last_name, city, unit_id, owner) VALUES
    (1, 'Jan', 'Kowalski', 'Kraków', 2, 'regress_bulk_leaver'),
    (2, 'Anna', 'Kowalska', 'Kraków', 2, 'regress_bulk_leaver'),
    (3, 'Piotr', 'Nowak', 'Wieliczka', 2, NULL),
    (4, 'Ewa', 'Kowalczyk', 'Kraków', 2, 'regress_bulk_leaver'),
    (5, 'Adam', 'Kowalski', 'Gdańsk', 3, 'regress_bulk_leaver'),
    (6, 'Ola', 'Zielińska', 'Gdańsk', 3, NULL);
UPDATE crm.client SET hidden_at = now() WHERE id = 4;
INSERT INTO crm.campaign_member (campaign_id, client_id) VALUES (1, 1);
SELECT regress.sync_identities();
SET ROLE regress_bulk_admin;
SELECT crm.user_unit('regress_bulk_agent', 2);
RESET ROLE;

--
-- an agent of Kraków: a filter selects what it sees, ids it does not
-- reach are refused like missing ones, and nothing is half done
--
SET ROLE regress_bulk_agent;
SELECT id FROM crm.client ORDER BY id;
-- by ids: client 1 already is a member, so one client changed
SELECT crm.bulk_add_to_campaign(ARRAY[1, 2, 2], 1);
-- by a filter: Kowal% in Kraków's view are 1 and 2 (4 is hidden, 5 is Gdańsk's)
SELECT crm.bulk_add_to_segment('{"last_name": "Kowal%"}'::jsonb, 1);
-- a client of Gdańsk and a missing one: the same refusal, nothing written
SELECT * FROM regress.error_of($$SELECT crm.bulk_add_to_segment(ARRAY[3, 5], 1)$$);
SELECT * FROM regress.error_of($$SELECT crm.bulk_add_to_segment(ARRAY[3, 99], 1)$$);
SELECT * FROM regress.error_of($$SELECT crm.bulk_add_to_segment(ARRAY[3, NULL], 1)$$);
SELECT * FROM regress.error_of($$SELECT crm.bulk_add_to_campaign(ARRAY[3], 42)$$);
SELECT client_id FROM crm.segment_member WHERE segment_id = 1 ORDER BY client_id;
-- removing
SELECT crm.bulk_remove_from_campaign('{"campaign": "Odnowienia OC"}'::jsonb, 1);
SELECT crm.bulk_remove_from_campaign(ARRAY[1, 2], 1) AS again;
SELECT crm.bulk_remove_from_segment(ARRAY[2], 1);
-- a custom field: set, the same value again (nothing changes), cleared
SELECT crm.bulk_set_custom_value('{"city": "Kraków"}'::jsonb, 'hobby', 'żeglarstwo; golf, brydż');
SELECT crm.bulk_set_custom_value(ARRAY[1, 2, 3], 'Hobby', 'żeglarstwo; golf, brydż');
SELECT crm.bulk_set_custom_value(ARRAY[3], 'liczba aut', '2,5');
SELECT * FROM regress.error_of($$SELECT crm.bulk_set_custom_value(ARRAY[1], 'liczba aut', 'dwa')$$);
SELECT * FROM regress.error_of($$SELECT crm.bulk_set_custom_value(ARRAY[1], 'nie ma', 'x')$$);
SELECT client_id, field, value FROM crm.client_custom_value ORDER BY client_id, field;
SELECT crm.bulk_set_custom_value(ARRAY[2], 'Hobby', NULL) AS cleared;
-- tasks: one per client, for its account manager unless named
SELECT crm.bulk_create_task(ARRAY[1, 3], 'Zadzwonić w sprawie OC', '2026-12-01 10:00+01');
SELECT crm.bulk_create_task('{"id": [2]}'::jsonb, 'Spotkanie', assignee => 'regress_bulk_agent', kind => 'meeting');
SELECT * FROM regress.error_of($$SELECT crm.bulk_create_task(ARRAY[1], '  ')$$);
SELECT * FROM regress.error_of($$SELECT crm.bulk_create_task(ARRAY[1], 'x', kind => 'party')$$);
SELECT client_id, kind, title, due_at, assignee FROM crm.task ORDER BY id;
-- price lists: assigned, changed, the same again, taken away
SELECT crm.bulk_assign_price_list(ARRAY[1, 2], 1);
SELECT crm.bulk_assign_price_list(ARRAY[1, 2, 3], 1);
SELECT crm.bulk_assign_price_list('{"id": [2]}'::jsonb, 2);
SELECT * FROM regress.error_of($$SELECT crm.bulk_assign_price_list(ARRAY[1], 7)$$);
SELECT client_id, price_list_id FROM crm.client_price_list ORDER BY client_id;
SELECT crm.bulk_assign_price_list(ARRAY[3], NULL) AS taken_away;
-- the owner: the leaving employee's clients that the agent reaches (hidden
-- client 4 too), not Gdańsk's client 5
SELECT crm.bulk_replace_owner('regress_bulk_leaver', 'regress_bulk_heir');
SELECT * FROM regress.error_of($$SELECT crm.bulk_change_owner(ARRAY[3], 'regress_nobody')$$);
SELECT crm.bulk_change_owner(ARRAY[3], 'regress_bulk_heir');
-- the audit log cannot be told what did not happen
SELECT * FROM regress.error_of($$SELECT crm_internal.audit_bulk('bulk change owner', ARRAY[3], '{"owner": "someone"}')$$);
-- (true, but not done now: client 3 got that owner in an earlier transaction)
SELECT err_code, err_message FROM regress.error_of($$SELECT crm_internal.audit_bulk('bulk change owner', ARRAY[3], '{"owner": "regress_bulk_heir"}')$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm_internal.audit_bulk('anything else', ARRAY[3], '{}')$$);
SELECT * FROM regress.error_of($$SELECT crm_internal.audit_bulk('bulk change owner', ARRAY[5], '{"owner": "regress_bulk_leaver"}')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.audit_log (action, client_id) VALUES ('bulk change owner', 3)$$);
-- nor in words of the caller's own: only the action's keys, naming what exists
SELECT err_code, err_message FROM regress.error_of($$SELECT crm_internal.audit_bulk('bulk remove from campaign', ARRAY[3], '{"campaign_id": 424242}')$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm_internal.audit_bulk('bulk remove from campaign', ARRAY[3], '{"campaign_id": 1, "note": "done by the administrator"}')$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm_internal.audit_bulk('bulk change owner', ARRAY[3], jsonb_build_object('owner', repeat('x', 100000)))$$);
RESET ROLE;
SELECT id, owner FROM crm.client ORDER BY id;
SELECT campaign_id, client_id FROM crm.campaign_member ORDER BY 1, 2;
-- what the agent did, one entry per client changed, no personal data
SELECT actor, action, client_id, unit_id, detail FROM crm.audit_log WHERE action LIKE 'bulk %' ORDER BY id;

-- an administrator reaches all: a missing id is named
SET ROLE regress_bulk_admin;
SELECT * FROM regress.error_of($$SELECT crm.bulk_add_to_segment(ARRAY[5, 99], 1)$$);
SELECT crm.bulk_add_to_segment('{"city": ["Kraków", "Gdańsk"], "hidden": "any"}'::jsonb, 1);
SELECT crm.bulk_change_owner('{"owner": null, "hidden": "any"}'::jsonb, 'regress_bulk_heir');
RESET ROLE;

-- progress: a NOTICE every 5 % once a run has taken 5 s; the steps are
-- 5 % of the clients (this run is too quick to report)
SELECT crm_internal.progress_step(100000) AS step_100000, crm_internal.progress_step(999) AS step_999,
       crm_internal.progress_step(0) AS step_0;
INSERT INTO crm.client (first_name, last_name, unit_id)
SELECT 'Klient', 'Numer ' || g, 2 FROM generate_series(1, 2500) g;
SET ROLE regress_bulk_agent;
SELECT crm.bulk_add_to_campaign('{"last_name": "Numer %"}'::jsonb, 1);
RESET ROLE;
-- atomic: a failure in the last of the 20 steps undoes the first 19 (the
-- last client refused by a constraint made for the test)
SELECT max(id) AS last_id FROM crm.client WHERE last_name LIKE 'Numer %' \gset
SELECT format('ALTER TABLE crm.custom_value ADD CONSTRAINT regress_refuse_last CHECK (client_id <> %s)', :last_id) \gexec
SET ROLE regress_bulk_agent;
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.bulk_set_custom_value('{"last_name": "Numer %"}'::jsonb, 'Hobby', 'x')$$);
SELECT count(*) AS hobbies_of_numbered FROM crm.custom_value v JOIN crm.client c ON c.id = v.client_id
WHERE c.last_name LIKE 'Numer %';
RESET ROLE;
ALTER TABLE crm.custom_value DROP CONSTRAINT regress_refuse_last;

--
-- MG-9: after a merge the moved invoices are flagged; crm.refresh_invoices
-- writes the billed party's data from the client now holding them
--
INSERT INTO crm.client (id, kind, company_name, nip, city, postal_code, address, unit_id) VALUES
    (9100, 'company', 'Auto-Serwis sp. z o.o.', '5261040828', 'Kraków', '30-001', 'ul. Długa 1', 2),
    (9101, 'company', 'Auto Serwis', NULL, 'Krakow', NULL, NULL, 2);
INSERT INTO crm.invoice (client_id, number, billed_name, billed_address) VALUES
    (9101, 'FV/1/2026', 'Auto Serwis', 'Krakow'),
    (9100, 'FV/2/2026', 'Auto-Serwis sp. z o.o.', 'ul. Długa 1, 30-001 Kraków'),
    (5, 'FV/3/2026', 'Adam Kowalski', 'Gdańsk');
SELECT crm.merge_client(9101, 9100) IS NOT NULL AS merged;
SELECT number, client_id, billed_name, billed_address, billed_nip, needs_refresh FROM crm.invoice ORDER BY number;
SET ROLE regress_bulk_agent;
SELECT crm.refresh_invoices(9100);
SELECT crm.refresh_invoices() AS again;
RESET ROLE;
SELECT number, client_id, billed_name, billed_address, billed_nip, needs_refresh FROM crm.invoice ORDER BY number;
-- an agent refreshes only what it sees: not Gdańsk's invoice
UPDATE crm.invoice SET needs_refresh = true;
SET ROLE regress_bulk_agent;
SELECT crm.refresh_invoices() AS krakow_only;
SELECT * FROM regress.error_of($$SELECT crm.refresh_invoices(5)$$);
RESET ROLE;
SELECT number, needs_refresh FROM crm.invoice ORDER BY number;

SELECT regress.reset();
DROP OWNED BY regress_bulk_agent, regress_bulk_admin, regress_bulk_leaver, regress_bulk_heir;
DROP ROLE regress_bulk_agent, regress_bulk_admin, regress_bulk_leaver, regress_bulk_heir;
