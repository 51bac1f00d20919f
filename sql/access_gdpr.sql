--
-- access_gdpr: consents and anonymization under crm's access control
-- (issue 11), attacked by low-privileged roles (SET ROLE, never a
-- superuser): consent history stamped by the server, anonymization codes
-- written only by crm, and refusals that say nothing of a client out of
-- reach.
--
SELECT regress.reset();
-- what row-level security the tables had before: restored at the end
CREATE TEMP TABLE rls_before AS
SELECT c.oid AS relid, c.relrowsecurity FROM pg_class c WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind = 'r';
CREATE TEMP TABLE policies_before AS
SELECT p.polrelid, p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = 'crm'::regnamespace;

-- a network with two branches, a client in each
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Sieć'), (2, 1, 'branch', 'Warszawa'), (3, 1, 'branch', 'Kraków');
INSERT INTO crm.client (id, first_name, last_name, unit_id) VALUES
    (1, 'Jan', 'Kowalski', 2), (2, 'Ewa', 'Lis', 3);
SELECT regress.sync_identities();
SELECT crm.create_roles() LIKE '%granted crm_agent, crm_supervisor and crm_admin their rights%' AS roles_granted;
SELECT crm.enable_row_security();
CREATE ROLE regress_ag_agent NOLOGIN;      -- an agent in Warszawa
CREATE ROLE regress_ag_writer NOLOGIN;     -- an agent in Warszawa, with more grants on the history
CREATE ROLE regress_ag_officer NOLOGIN;    -- an agent in Kraków, handed the anonymization functions
CREATE ROLE regress_ag_admin NOLOGIN;      -- an administrator, assigned to Kraków
GRANT crm_agent TO regress_ag_agent, regress_ag_writer, regress_ag_officer;
GRANT crm_admin TO regress_ag_admin;
SELECT crm.user_unit('regress_ag_agent', 2) AS agent, crm.user_unit('regress_ag_writer', 2) AS writer,
       crm.user_unit('regress_ag_officer', 3) AS officer, crm.user_unit('regress_ag_admin', 3) AS admin;
-- crm.create_roles() lets every crm role call the anonymization functions,
-- which refuse all but administrators with a hint; their internal part is crm_admin's only
SELECT r.rolname, p.oid::regprocedure AS function
FROM pg_proc p, aclexplode(p.proacl) a JOIN pg_roles r ON r.oid = a.grantee
WHERE p.oid IN ('crm.anonymization_code(bigint)'::regprocedure, 'crm.anonymize(bigint, text)'::regprocedure,
                'crm_internal.anonymize_crm_data(bigint, text)'::regprocedure)
  AND a.privilege_type = 'EXECUTE' AND r.rolname NOT IN (SELECT u.usename FROM pg_user u WHERE u.usesuper)
ORDER BY 1, 2::text;

--
-- Attack 4: consent dates.  The history records when crm learnt of a
-- consent (the server's time) and who told it (the session's role); the
-- dates the consent row states are kept beside them, and a date in the
-- future is refused.
--
SET ROLE regress_ag_agent;
SELECT * FROM regress.error_of($$INSERT INTO crm.consent (client_id, purpose, granted_at) VALUES (1, 'marketing', '2099-12-31')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.consent (client_id, purpose, granted_at, withdrawn_at)
                                 VALUES (1, 'marketing', '2001-01-01', '2099-12-31')$$);
-- a consent given on paper long ago keeps its date, stated
INSERT INTO crm.consent (client_id, purpose, granted_at) VALUES (1, 'marketing', '2001-01-01');
INSERT INTO crm.consent (client_id, purpose, granted_at, withdrawn_at) VALUES (1, 'phone', '2001-01-01', '2001-06-01');
-- a withdrawal dated in the future: refused; withdrawn now: recorded now
SELECT * FROM regress.error_of($$UPDATE crm.consent SET withdrawn_at = '2099-12-31' WHERE purpose = 'marketing'$$);
SELECT crm.withdraw_consent(1, 'marketing') AS withdrawn;
SELECT consent_id, event,
       CASE WHEN stated_at > now() - interval '1 hour' THEN 'now' ELSE stated_at::text END AS stated_at,
       at > now() - interval '1 hour' AS at_server_time, by_role
FROM crm.consent_history ORDER BY consent_id, event;
-- the history is crm's: the agent reads it, and cannot write it
SELECT err_code, err_message FROM regress.error_of($$UPDATE crm.consent_history SET at = '2001-01-01'$$);
SELECT err_code, err_message FROM regress.error_of($$DELETE FROM crm.consent_history$$);
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.consent_history (consent_id, event, client_id, purpose, at, by_role)
                                                    VALUES (1, 'granted', 1, 'marketing', '2001-01-01', 'nobody')$$);
RESET ROLE;

-- a role granted INSERT and UPDATE on the history by hand: its insert
-- goes through the upsert trigger once (no recursion), and row-level
-- security (a policy for reading only) still keeps the history crm's
GRANT INSERT, UPDATE ON crm.consent_history TO regress_ag_writer;
SET ROLE regress_ag_writer;
SELECT * FROM regress.error_of($$INSERT INTO crm.consent_history (consent_id, event, client_id, purpose, at, by_role)
                                 VALUES (4, 'withdrawn', 1, 'phone', '2030-01-01', 'nobody')$$);
RESET ROLE;
REVOKE INSERT, UPDATE ON crm.consent_history FROM regress_ag_writer;
SELECT consent_id, event, stated_at, by_role FROM crm.consent_history WHERE consent_id = 4 ORDER BY event;

--
-- Attack 5: anonymization.  Only an administrator gets a code, and only
-- crm writes the code table; the definer part checks its caller first.
--
-- the administrator reaches every client, its own unit's or not
SET ROLE regress_ag_admin;
CREATE TEMP TABLE admin_code AS SELECT crm.anonymization_code(1) AS code;
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.anonymization_code(99)$$);
RESET ROLE;
SELECT client_id, requested_by, expires_at - requested_at AS valid_for FROM crm.anonymization_code;

-- an agent of Kraków, handed the functions as an older recipe did: client
-- 1 (Warszawa, with a pending code) and client 99 (none) get the same
-- answer, from each function
GRANT EXECUTE ON FUNCTION crm.anonymization_code(bigint), crm.anonymize(bigint, text),
                          crm_internal.anonymize_crm_data(bigint, text) TO regress_ag_officer;
SET ROLE regress_ag_officer;
SELECT count(*) AS clients_seen FROM crm.client;
SELECT f.fn, hidden.err_code, hidden.err_message, hidden.err_detail, hidden.err_hint,
       row(hidden.*) = row(missing.*) AS same_as_missing
FROM (VALUES ('crm_internal.anonymize_crm_data(%s, ''AAAA-AAAA'')'), ('crm.anonymize(%s, ''AAAA-AAAA'')'),
             ('crm.anonymization_code(%s)')) AS f(fn),
     LATERAL regress.error_of('SELECT ' || format(f.fn, 1)) hidden,
     LATERAL regress.error_of('SELECT ' || format(f.fn, 99)) missing;
-- the code of client 1 was not touched
RESET ROLE;
SELECT count(*) AS codes FROM crm.anonymization_code;
REVOKE EXECUTE ON FUNCTION crm.anonymization_code(bigint), crm.anonymize(bigint, text),
                           crm_internal.anonymize_crm_data(bigint, text) FROM regress_ag_officer;

-- an agent chooses no code of its own: no privilege on the table, and
-- with privileges granted by hand row-level security lets no row in
SET ROLE regress_ag_agent;
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.anonymization_code(1)$$);
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.anonymization_code (client_id, salt, code_hash)
                                                    VALUES (1, '\x00', sha256('\x00'::bytea || convert_to('AAAAAAAA', 'UTF8')))$$);
RESET ROLE;
GRANT SELECT, INSERT, UPDATE, DELETE ON crm.anonymization_code TO regress_ag_agent;
SET ROLE regress_ag_agent;
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.anonymization_code (client_id, salt, code_hash)
                                                    VALUES (1, '\x00', sha256('\x00'::bytea || convert_to('AAAAAAAA', 'UTF8')))$$);
SELECT count(*) AS codes_seen FROM crm.anonymization_code;
UPDATE crm.anonymization_code SET expires_at = now() + interval '1 year';
RESET ROLE;
REVOKE ALL ON crm.anonymization_code FROM regress_ag_agent;
SELECT client_id, requested_by, expires_at - requested_at AS valid_for FROM crm.anonymization_code;

-- the administrator's own code works in its own session
SET ROLE regress_ag_admin;
SELECT crm.anonymize(1, (SELECT code FROM admin_code));
RESET ROLE;
SELECT id, display_name, anonymized_at IS NOT NULL AS anonymized FROM crm.client ORDER BY id;
SELECT action, client_id, actor, detail ->> 'requested_by' AS requested_by FROM crm.audit_log
WHERE action = 'anonymize';

--
-- Clean up: the roles, their grants, the policies made here
--
DROP TABLE admin_code;
SELECT regress.reset();
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT p.polrelid::regclass AS rel, p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
             WHERE c.relnamespace = 'crm'::regnamespace
               AND (p.polrelid, p.polname) NOT IN (SELECT b.polrelid, b.polname FROM policies_before b) LOOP
        EXECUTE format('DROP POLICY %I ON %s', r.polname, r.rel);
    END LOOP;
    FOR r IN SELECT b.relid::regclass AS rel FROM rls_before b JOIN pg_class c ON c.oid = b.relid
             WHERE c.relrowsecurity AND NOT b.relrowsecurity LOOP
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', r.rel);
    END LOOP;
END
$$;
DROP TABLE rls_before, policies_before;
DROP OWNED BY regress_ag_agent, regress_ag_writer, regress_ag_officer, regress_ag_admin,
              crm_agent, crm_supervisor, crm_admin;
DROP ROLE regress_ag_agent, regress_ag_writer, regress_ag_officer, regress_ag_admin,
          crm_admin, crm_supervisor, crm_agent;
