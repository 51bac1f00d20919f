--
-- access: crm's roles, reach by structure (AC-3), agent permissions (AC-2),
-- a journal and an audit log no one else writes, and the attacks of the
-- security review, tried as low-privileged roles
--
SELECT regress.reset();
SELECT crm.create_roles();
-- a second call changes nothing and keeps the grants exact
SELECT crm.create_roles() IS NOT NULL AS again;
SELECT crm.enable_row_security();
SELECT crm.enable_row_security();

CREATE ROLE regress_agent_krk NOLOGIN;      -- an agent in Kraków
CREATE ROLE regress_agent_gda NOLOGIN;      -- an agent in Gdańsk
CREATE ROLE regress_sup_krk NOLOGIN;        -- a supervisor in Kraków
CREATE ROLE regress_admin NOLOGIN;          -- an administrator
CREATE ROLE regress_outsider NOLOGIN;       -- no crm role at all
GRANT crm_agent TO regress_agent_krk, regress_agent_gda;
GRANT crm_supervisor TO regress_sup_krk;
GRANT crm_admin TO regress_admin;

INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Agencja'), (2, 1, 'branch', 'Kraków'), (3, 2, 'department', 'Komunikacja'),
    (4, 1, 'branch', 'Gdańsk');
INSERT INTO crm.campaign (id, name) VALUES (1, 'Odnowienia OC'), (2, 'Wiosna');
INSERT INTO crm.client (id, first_name, last_name, city, pesel, unit_id) VALUES
    (1, 'Jan', 'Kowalski', 'Kraków', '44051401359', 2),
    (2, 'Jan', 'Kowalski', 'Kraków', NULL, 3),
    (3, 'Anna', 'Nowak', 'Gdańsk', '85020500028', 4),
    (4, 'Piotr', 'Zieliński', 'Warszawa', NULL, NULL),
    (5, 'Anna', 'Nowak', 'Gdańsk', '85020500028', 4);
INSERT INTO crm.policy (client_id, number, insurer, starts_on, ends_on) VALUES
    (1, 'OC/1', 'PZU', '2026-01-01', '2026-12-31'), (3, 'OC/3', 'Warta', '2026-01-01', '2026-12-31');
INSERT INTO crm.interaction (id, client_id, channel, campaign_id, agent, summary) VALUES
    (1, 1, 'call', 1, 'regress_agent_krk', 'own call, own campaign'),
    (2, 1, 'call', 1, 'someone_else', 'another agent''s call'),
    (3, 1, 'call', 2, 'regress_agent_krk', 'own call, another campaign'),
    (4, 1, 'notification', NULL, NULL, 'automatic');
INSERT INTO crm.ticket (id, client_id, subject, campaign_id, assignee) VALUES
    (1, 1, 'mine', 1, 'regress_agent_krk'),
    (2, 1, 'unassigned', 1, NULL),
    (3, 1, 'someone else''s', 1, 'someone_else'),
    (4, 1, 'mine, another campaign', 2, 'regress_agent_krk');
SELECT regress.sync_identities();

-- assignments are an administrator's, through functions, and audited
SET ROLE regress_sup_krk;
SELECT * FROM regress.error_of($$SELECT crm.user_unit('regress_sup_krk', 1)$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.user_unit (role_name, unit_id, assigned_by) VALUES ('regress_sup_krk', 1, 'x')$$);
RESET ROLE;
SET ROLE regress_admin;
SELECT crm.user_unit('regress_agent_krk', 2), crm.user_unit('regress_sup_krk', 2),
       crm.user_unit('regress_agent_gda', 4), crm.user_unit('regress_agent_krk', 2) AS again;
SELECT crm.user_campaign('regress_agent_krk', 1);
SELECT * FROM regress.error_of($$SELECT crm.user_unit('regress_nobody', 2)$$);
SELECT * FROM regress.error_of($$SELECT crm.grant_agent_permission('regress_agent_krk', 'everything')$$);
RESET ROLE;
SELECT actor, action, detail FROM crm.audit_log ORDER BY id;
-- the roles' grants and the policies are the data model's owner's to make,
-- even for a role given the functions by hand
GRANT EXECUTE ON FUNCTION crm.create_roles(), crm.enable_row_security() TO regress_admin;
SET ROLE regress_admin;
SELECT * FROM regress.error_of('SELECT crm.create_roles()');
SELECT * FROM regress.error_of('SELECT crm.enable_row_security()');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION crm.create_roles(), crm.enable_row_security() FROM regress_admin;

--
-- AC-3: a role reaches the clients of its units and the units below them,
-- and every record linked to them, wherever it reads
--
SET ROLE regress_agent_krk;
SELECT id, display_name, unit_id FROM crm.client ORDER BY id;
SELECT id FROM crm.client_overview ORDER BY id;
SELECT client_id, number FROM crm.policy ORDER BY id;
SELECT id FROM crm.client_search('{"last_name": "Kowalski"}') ORDER BY id;
-- the duplicates of other units are not its business (the superuser's view below)
SELECT client_a, client_b FROM crm.duplicate_pairs() ORDER BY 1, 2;
RESET ROLE;
SELECT client_a, client_b FROM crm.duplicate_pairs() ORDER BY 1, 2;
SET ROLE regress_agent_krk;
SELECT count(*) AS other_units_clients FROM crm.client WHERE unit_id = 4 OR unit_id IS NULL;
-- a new client goes to the agent's unit; one in another unit is refused
INSERT INTO crm.client (first_name, last_name) VALUES ('Ewa', 'Mazur') RETURNING unit_id;
SELECT id AS ewa_id FROM crm.client WHERE last_name = 'Mazur' \gset
SELECT * FROM regress.error_of($$INSERT INTO crm.client (first_name, last_name, unit_id) VALUES ('Ewa', 'Mazur', 4)$$);
-- hiding is crm.hide_client()'s (a supervisor's, audited), not an UPDATE's
SELECT * FROM regress.error_of('UPDATE crm.client SET hidden_at = now() WHERE id = 1');
-- an agent's export of a client says what AC-2 left out of it
SELECT crm.client_export(1) -> 'partial' AS partial;
-- ids come from the sequences: a chosen one could probe for a hidden
-- client (a duplicate key says it exists) or take the sequence's next ones
SELECT * FROM regress.error_of($$INSERT INTO crm.client (id, first_name, last_name) VALUES (3, 'Ewa', 'Mazur')$$);
SELECT * FROM regress.error_of($$UPDATE crm.client SET id = 99 WHERE last_name = 'Mazur'$$);
-- an agent records its own contacts, not another agent's
SELECT * FROM regress.error_of($$INSERT INTO crm.interaction (client_id, channel, agent) VALUES (1, 'call', 'regress_agent_gda')$$);
INSERT INTO crm.interaction (client_id, channel, agent, summary) VALUES (1, 'call', 'regress_agent_krk', 'logged by the agent');
-- and when a duplicate pair was found or dismissed, and by whom, is the server's to say
INSERT INTO crm.possible_duplicate (client_a, client_b, score, reasons, found_at, found_by)
VALUES (1, 2, 0.9, '{same name}', '2001-01-01', 'regress_admin');
UPDATE crm.possible_duplicate SET dismissed_at = '2001-01-01', dismissed_by = 'regress_admin';
SELECT found_at > '2020-01-01' AS found_now, found_by, dismissed_at > '2020-01-01' AS dismissed_now, dismissed_by
FROM crm.possible_duplicate;
-- another unit's client cannot be changed, or moved there
UPDATE crm.client SET city = 'Sopot' WHERE id = 3;
SELECT * FROM regress.error_of(format('UPDATE crm.client SET unit_id = 4 WHERE id = %s', :ewa_id));
-- nor can records be linked to it
SELECT * FROM regress.error_of($$INSERT INTO crm.policy (client_id, number) VALUES (3, 'X/1')$$);
RESET ROLE;
SET ROLE regress_agent_gda;
SELECT id, display_name FROM crm.client ORDER BY id;
SELECT client_id, number FROM crm.policy ORDER BY id;
RESET ROLE;
-- a role with no crm role reads nothing
SET ROLE regress_outsider;
SELECT * FROM regress.error_of('SELECT count(*) FROM crm.client');
RESET ROLE;

--
-- AC-2: what an agent sees of others' work is what an administrator grants
--
SET ROLE regress_agent_krk;
SELECT id, summary FROM crm.contact_history ORDER BY id;
SELECT id, subject FROM crm.ticket ORDER BY id;
-- what an agent does not see it does not change either
UPDATE crm.interaction SET summary = summary || ' (seen)';
UPDATE crm.ticket SET priority = 'high';
RESET ROLE;
SELECT id, summary FROM crm.interaction WHERE summary LIKE '%(seen)' ORDER BY id;
SELECT id, priority FROM crm.ticket WHERE priority = 'high' ORDER BY id;
UPDATE crm.interaction SET summary = replace(summary, ' (seen)', '');
UPDATE crm.ticket SET priority = 'normal';
SET ROLE regress_admin;
SELECT crm.grant_agent_permission('regress_agent_krk', p.permission) FROM crm.agent_permissions() p
WHERE p.permission IN ('other_agents_contacts', 'tickets_unassigned');
RESET ROLE;
SET ROLE regress_agent_krk;
SELECT id, summary FROM crm.contact_history ORDER BY id;
SELECT id, subject FROM crm.ticket ORDER BY id;
RESET ROLE;
SET ROLE regress_admin;
SELECT crm.grant_agent_permission('regress_agent_krk', p.permission) FROM crm.agent_permissions() p
WHERE p.permission IN ('history_all_campaigns', 'tickets_other_campaigns', 'tickets_other_agents');
RESET ROLE;
SET ROLE regress_agent_krk;
SELECT id, summary FROM crm.contact_history ORDER BY id;
SELECT id, subject FROM crm.ticket ORDER BY id;
RESET ROLE;
-- the client's last contact is the latest of all its contacts, also those
-- the agent does not see
SET ROLE regress_agent_krk;
UPDATE crm.interaction SET occurred_at = occurred_at - interval '1 day' WHERE id = 1;
RESET ROLE;
SELECT last_contact_at = (SELECT max(occurred_at) FROM crm.interaction WHERE client_id = 1 AND channel <> 'notification')
       AS last_contact_right
FROM crm.client WHERE id = 1;
-- a supervisor sees all the work on the clients it reaches
SET ROLE regress_sup_krk;
SELECT count(*) AS contacts, (SELECT count(*) FROM crm.ticket) AS tickets FROM crm.interaction;
RESET ROLE;

--
-- who may do what: agents edit, supervisors also merge, hide and delete in
-- their units, administrators everything; a refusal is 42501 and says the
-- same of a client out of reach as of one that does not exist
--
SET ROLE regress_agent_krk;
SELECT * FROM regress.error_of('SELECT crm.merge_client(2, 1)');
SELECT * FROM regress.error_of('SELECT crm.hide_client(2)');
SELECT * FROM regress.error_of('SELECT crm.anonymization_code(2)');
RESET ROLE;
SET ROLE regress_sup_krk;
SELECT * FROM regress.error_of('SELECT crm.merge_client(3, 1)');
SELECT * FROM regress.error_of('SELECT crm.merge_client(999, 1)');
SELECT * FROM regress.error_of('SELECT crm.merge_preview(ARRAY[3], 1)');
SELECT * FROM regress.error_of('SELECT crm.hide_client(3)');
SELECT * FROM regress.error_of('SELECT crm.hide_client(999)');
SELECT * FROM regress.error_of('SELECT crm.delete_client(3)');
SELECT * FROM regress.error_of('SELECT crm.anonymization_code(1)');
-- within its units it merges (the structure rule too: into the unit below)
SELECT crm.merge_preview(ARRAY[1], 2) -> 'can_merge' AS can_merge;
SELECT crm.merge_client(1, 2) AS merge_id \gset
SELECT merged_by, target_id, source_ids FROM crm.merge_log;
SELECT crm.hide_client(:ewa_id, 'left'), crm.unhide_client(:ewa_id), crm.delete_client(:ewa_id);
RESET ROLE;
-- unhiding runs the duplicate check on save with crm's rights: the
-- supervisor hears only of the duplicates it reaches (Anna Nowak of Gdańsk
-- has the same PESEL)
INSERT INTO crm.client (id, first_name, last_name, pesel, unit_id, hidden_at) VALUES
    (40, 'Anna', 'Nowak', '85020500028', 2, now()), (41, 'Anna', 'Nowak', '85020500028', 3, NULL);
SET ROLE regress_sup_krk;
SET crm.duplicate_check = notice;
SELECT crm.unhide_client(40);
RESET crm.duplicate_check;
SELECT client_a, client_b, found_by FROM crm.possible_duplicate WHERE 40 IN (client_a, client_b) ORDER BY 1, 2;
RESET ROLE;
SELECT client_a, client_b, found_by FROM crm.possible_duplicate WHERE 40 IN (client_a, client_b) ORDER BY 1, 2;
DELETE FROM crm.client WHERE id IN (40, 41);
-- merges, hides and deletes are in the audit log: who, when, ids and counts
SELECT actor, action, client_id, unit_id, detail FROM crm.audit_log
WHERE action NOT LIKE '%unit' AND action NOT LIKE '%campaign' AND action NOT LIKE '%permission' ORDER BY id;
-- the supervisor reads the entries of its units, the agent none
SET ROLE regress_sup_krk;
SELECT action, client_id FROM crm.audit_log ORDER BY id;
RESET ROLE;
SET ROLE regress_agent_krk;
SELECT * FROM regress.error_of('SELECT count(*) FROM crm.audit_log');
RESET ROLE;

--
-- attack 1 of the review: a forged journal row made a superuser's undo
-- write pg_authid.  No crm role may write the journal ...
--
SET ROLE regress_sup_krk;
SELECT * FROM regress.error_of(format($$INSERT INTO crm.merge_log_row (merge_id, client_id, relation, action, row_data)
    VALUES (%s, 1, 'pg_catalog.pg_authid', 'dropped', '{"rolname": "regress_evil", "rolsuper": true}')$$, :merge_id));
SELECT * FROM regress.error_of(format($$UPDATE crm.merge_log SET sources = '[]' WHERE id = %s$$, :merge_id));
SELECT * FROM regress.error_of(format($$DELETE FROM crm.merge_log_row WHERE merge_id = %s$$, :merge_id));
RESET ROLE;
-- ... and an undo verifies what the journal names: a row planted there
-- by hand (by crm's owner) naming a table that does not reference clients
-- stops it, and nothing is written
INSERT INTO crm.merge_log_row (merge_id, client_id, relation, action, row_data)
VALUES (:merge_id, 1, 'pg_catalog.pg_authid', 'dropped', '{"rolname": "regress_evil", "rolsuper": true}');
SET ROLE regress_admin;
SELECT * FROM regress.error_of(format('SELECT crm.unmerge(%s)', :merge_id));
RESET ROLE;
SELECT count(*) AS evil_roles FROM pg_roles WHERE rolname = 'regress_evil';
DELETE FROM crm.merge_log_row WHERE relation = 'pg_catalog.pg_authid'::regclass;
-- a supervisor of another unit cannot undo it, and is told no more than of
-- a merge that does not exist
SET ROLE regress_admin;
SELECT crm.user_unit('regress_sup_krk', 4);
SELECT crm.user_unit('regress_sup_krk', 2, false);
RESET ROLE;
SET ROLE regress_sup_krk;
SELECT * FROM regress.error_of(format('SELECT crm.unmerge(%s)', :merge_id));
SELECT * FROM regress.error_of('SELECT crm.unmerge(999)');
RESET ROLE;
SET ROLE regress_admin;
SELECT crm.user_unit('regress_sup_krk', 4, false), crm.user_unit('regress_sup_krk', 2);
RESET ROLE;
-- its own supervisor can
SET ROLE regress_sup_krk;
SELECT crm.unmerge(:merge_id) AS restored;
RESET ROLE;

-- the candidate search cuts a block at crm.max_block_size() clients,
-- counting those the caller reaches: how many out of its reach share a
-- value tells nothing (the second attacker review counted them by where
-- the cut fell)
CREATE TEMP TABLE shared_phone (id bigint, unit_id bigint);
WITH c AS (INSERT INTO crm.client (first_name, last_name, unit_id)
           SELECT 'Klient', 'Nr' || g, CASE WHEN g <= crm.max_block_size() - 1 THEN 2 ELSE 4 END
           FROM generate_series(1, crm.max_block_size() + 1) AS g
           RETURNING id, unit_id)
INSERT INTO shared_phone SELECT id, unit_id FROM c;
INSERT INTO crm.contact (client_id, kind, value) SELECT id, 'phone', '609 000 000' FROM shared_phone;
SELECT unit_id, count(*) FROM shared_phone GROUP BY unit_id ORDER BY unit_id;
SELECT min(id) AS probe FROM shared_phone \gset
SET ROLE regress_agent_krk;
SELECT count(*) > 0 AS block_kept FROM crm.duplicate_candidates(:probe);
RESET ROLE;
DELETE FROM crm.contact WHERE value = '+48609000000';
DELETE FROM crm.client WHERE id IN (SELECT id FROM shared_phone);

-- crm keeps no prepared statement in the session that a role could
-- replace: crm.client_links() plans its count once per session in the
-- backend's memory, so nothing planted under a name runs inside crm's
-- SECURITY DEFINER functions (found by the attacker review)
SET ROLE regress_sup_krk;
SELECT count(*) > 0 AS links FROM crm.client_links(2);
SELECT count(*) AS prepared_statements FROM pg_prepared_statements;
-- and a query that calls the cache again from inside (more times than it
-- keeps plans) never frees the plan its caller is running (code review)
SELECT count(*) AS nested_calls FROM generate_series(1, 40) AS g,
  LATERAL crm_internal.client_link_counts(
    format('SELECT NULL::regclass, NULL::name, NULL::text, NULL::boolean, (SELECT count(*) FROM crm_internal.client_link_counts(%L, 1)) + $1 * 0, NULL::name[], NULL::name[]',
           format('SELECT NULL::regclass, NULL::name, NULL::text, NULL::boolean, %s::bigint + $1 * 0, NULL::name[], NULL::name[]', g)), 1);
RESET ROLE;

--
-- attack 2: registries and logs are not writable by crm's roles
--
SET ROLE regress_agent_krk;
SELECT * FROM regress.error_of($$INSERT INTO crm.merge_table_rule (relation, action, handler) VALUES ('crm.policy', 'function', 'public.evil')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.merge_rule (rule, enabled) VALUES ('structure', false)$$);
SELECT * FROM regress.error_of($$UPDATE crm.match_weight SET weight = -100$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.anonymization_code (client_id, salt, code_hash) VALUES (1, '\x00', '\x00')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.consent_history (consent_id, event, client_id, purpose, at) VALUES (1, 'granted', 1, 'x', now())$$);
RESET ROLE;
-- the audit log is append-only for every crm role, administrators too
SET ROLE regress_admin;
SELECT * FROM regress.error_of('UPDATE crm.audit_log SET actor = ''nobody''');
SELECT * FROM regress.error_of('DELETE FROM crm.audit_log');
SELECT * FROM regress.error_of('TRUNCATE crm.audit_log');
SELECT * FROM regress.error_of($$INSERT INTO crm.audit_log (action) VALUES ('forged')$$);
SELECT * FROM regress.error_of($$SELECT crm_internal.audit('forged', NULL)$$);
RESET ROLE;

--
-- attack 3: the journal has row-level security: a role that does not
-- reach a merge's clients reads nothing of them there
--
SET ROLE regress_sup_krk;
SELECT crm.merge_client(1, 2) AS merge_id \gset
RESET ROLE;
SET ROLE regress_agent_gda;
SELECT count(*) AS merges, (SELECT count(*) FROM crm.merge_log_row) AS journal_rows FROM crm.merge_log;
SELECT * FROM regress.error_of('SELECT crm.client_export(2) IS NOT NULL');
RESET ROLE;
SET ROLE regress_agent_krk;
SELECT count(*) AS merges, (SELECT count(*) FROM crm.merge_log_row) > 0 AS journal_rows FROM crm.merge_log;
SELECT jsonb_array_length(crm.client_export(2) -> 'merged_records') AS merged_records;
RESET ROLE;
-- (the security review of 2026-12-02) a merge's journal holds its
-- sources' rows: a role that reaches the target but not every source (a
-- merge across units by a higher supervisor, or a source unmerged back to
-- its unit) reads none of it; the administrator does
INSERT INTO crm.merge_log (target_id, source_ids, sources, target_before, contacts)
SELECT 1, ARRAY[5], jsonb_build_array(to_jsonb(c)), '{}', 'union' FROM crm.client c WHERE c.id = 5
RETURNING id AS cross_merge \gset
SET ROLE regress_agent_krk;
SELECT count(*) AS cross_unit_merges_seen FROM crm.merge_log WHERE id = :cross_merge;
RESET ROLE;
SET ROLE regress_sup_krk;
SELECT count(*) AS cross_unit_merges_seen FROM crm.merge_log WHERE id = :cross_merge;
RESET ROLE;
SET ROLE regress_admin;
SELECT count(*) AS cross_unit_merges_seen FROM crm.merge_log WHERE id = :cross_merge;
RESET ROLE;
DELETE FROM crm.merge_log WHERE id = :cross_merge;

--
-- attack 6: an ORM that cascades deletes in application code deletes the
-- client's business records one by one first: no crm role may delete them
--
SET ROLE regress_sup_krk;
SELECT * FROM regress.error_of('DELETE FROM crm.policy WHERE client_id = 2');
SELECT * FROM regress.error_of('DELETE FROM crm.interaction WHERE client_id = 2');
SELECT * FROM regress.error_of('DELETE FROM crm.ticket WHERE client_id = 2');
SELECT * FROM regress.error_of('DELETE FROM crm.client WHERE id = 2');
-- the client's own records (contacts, memberships) it may delete
INSERT INTO crm.contact (client_id, kind, value) VALUES (2, 'phone', '601 234 567');
DELETE FROM crm.contact WHERE client_id = 2;
RESET ROLE;
SELECT count(*) AS policies, (SELECT count(*) FROM crm.interaction) AS contacts,
       (SELECT count(*) FROM crm.ticket) AS tickets FROM crm.policy;

-- an administrator reaches every client, without units
SET ROLE regress_admin;
SELECT count(*) AS clients FROM crm.client;
RESET ROLE;

-- crm writes with its owner's rights only tables whose code is trusted
-- roles': a table of another owner linked to clients stops a merge
CREATE ROLE regress_app NOLOGIN;
GRANT USAGE ON SCHEMA crm TO regress_app;
GRANT REFERENCES ON crm.client TO regress_app;
GRANT CREATE ON SCHEMA public TO regress_app;
SET ROLE regress_app;
CREATE TABLE public.app_note (id int PRIMARY KEY, client_id bigint REFERENCES crm.client (id));
RESET ROLE;
INSERT INTO public.app_note VALUES (1, 2);
INSERT INTO crm.client (id, first_name, last_name, unit_id) VALUES (20, 'Jan', 'Kowalski', 3);
SET ROLE regress_sup_krk;
SELECT * FROM regress.error_of('SELECT crm.merge_client(2, 20)');
RESET ROLE;
DROP TABLE public.app_note;
-- a partition of a table of crm's owner counts as well: a write reaches it
CREATE TABLE public.app_visit (client_id bigint REFERENCES crm.client (id), at date) PARTITION BY RANGE (at);
CREATE TABLE public.app_visit_2026 PARTITION OF public.app_visit FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE public.app_visit_2026 OWNER TO regress_app;
INSERT INTO public.app_visit VALUES (2, '2026-05-05');
SET ROLE regress_sup_krk;
SELECT err_code, err_message, err_detail FROM regress.error_of('SELECT crm.merge_client(2, 20)');
RESET ROLE;
DROP TABLE public.app_visit;
-- so do a role that may add triggers, and a trigger running another role's function
CREATE TABLE public.app_memo (id int PRIMARY KEY, client_id bigint REFERENCES crm.client (id));
INSERT INTO public.app_memo VALUES (1, 2);
GRANT TRIGGER ON public.app_memo TO regress_app;
SET ROLE regress_sup_krk;
SELECT err_code, err_detail FROM regress.error_of('SELECT crm.merge_client(2, 20)');
RESET ROLE;
REVOKE TRIGGER ON public.app_memo FROM regress_app;
SET ROLE regress_app;
CREATE FUNCTION public.app_memo_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
RESET ROLE;
CREATE TRIGGER app_memo_touch BEFORE UPDATE ON public.app_memo FOR EACH ROW EXECUTE FUNCTION public.app_memo_touch();
SET ROLE regress_sup_krk;
SELECT err_code, err_detail FROM regress.error_of('SELECT crm.merge_client(2, 20)');
RESET ROLE;
DROP TABLE public.app_memo;
DROP FUNCTION public.app_memo_touch();
REVOKE CREATE ON SCHEMA public FROM regress_app;
REVOKE ALL ON crm.client FROM regress_app;
REVOKE USAGE ON SCHEMA crm FROM regress_app;
DROP ROLE regress_app;

-- dedupe within reach: a supervisor's plan and run see the duplicates of
-- its units only; Gdańsk's Anna Nowak (clients 3 and 5) stays as it is
INSERT INTO crm.client (id, first_name, last_name, unit_id) VALUES (30, 'Ewa', 'Mazur', 2), (31, 'Ewa', 'Mazur', 3);
SET ROLE regress_agent_krk;
SELECT * FROM regress.error_of($$SELECT crm.dedupe(ARRAY['first_name', 'last_name'], 'merge')$$);
RESET ROLE;
SET ROLE regress_sup_krk;
SELECT crm.create_dedupe_plan(ARRAY['first_name', 'last_name']) AS plan_id \gset
SELECT group_no, client_id, is_main FROM crm.dedupe_plan_item WHERE plan_id = :plan_id ORDER BY group_no, client_id;
SELECT crm.dedupe(ARRAY['first_name', 'last_name'], 'merge') - 'skipped_detail' AS dedupe;
-- a plan of its own naming clients out of its reach is refused before
-- anything of them is looked at (a default phone chosen for Gdańsk's
-- client would have told whether it has that phone, and changed it)
INSERT INTO crm.dedupe_plan (origin) VALUES ('by hand') RETURNING id AS hand_plan \gset
INSERT INTO crm.dedupe_plan_item (plan_id, group_no, client_id, is_main, action)
VALUES (:hand_plan, 1, 3, true, 'merge'), (:hand_plan, 1, 5, false, 'delete');
INSERT INTO crm.dedupe_plan_choice (plan_id, group_no, choice, value) VALUES (:hand_plan, 1, 'default_phone', '601000000');
SELECT * FROM regress.error_of(format('SELECT crm.apply_dedupe_plan(%s)', :hand_plan));
RESET ROLE;
SELECT id, display_name, unit_id FROM crm.client ORDER BY id;
SELECT actor, action, detail - 'criteria' AS detail FROM crm.audit_log WHERE action = 'dedupe';

SELECT regress.reset();
DROP OWNED BY regress_agent_krk, regress_agent_gda, regress_sup_krk, regress_admin, regress_outsider;
DROP ROLE regress_agent_krk, regress_agent_gda, regress_sup_krk, regress_admin, regress_outsider;
-- the tests that follow run as the superuser, whom row-level security does not bind
