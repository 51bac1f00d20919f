--
-- access_settings: crm's settings (merge rules, per-table merge rules,
-- weights of duplicate evidence, personal columns) are written only by
-- administrators, through crm's setters, each change audited; nothing in
-- crm runs code that a role other than a superuser or the data model's
-- owner wrote (issue 11)
--
SELECT regress.reset();
SET client_min_messages = warning;

-- crm's group roles: crm.create_roles() once every function it grants
-- exists; meanwhile the part of it this test needs (the settings: read by
-- agents, set by administrators)
DO $$
BEGIN
    PERFORM crm.create_roles();
EXCEPTION WHEN undefined_function THEN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crm_agent') THEN
        CREATE ROLE crm_agent NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crm_supervisor') THEN
        CREATE ROLE crm_supervisor NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crm_admin') THEN
        CREATE ROLE crm_admin NOLOGIN;
    END IF;
    GRANT crm_agent TO crm_supervisor;
    GRANT crm_supervisor TO crm_admin;
    GRANT SELECT ON crm.merge_rule, crm.merge_table_rule, crm.match_weight, crm.personal_column TO crm_agent;
    GRANT EXECUTE ON FUNCTION crm.set_merge_rule(text, boolean),
                              crm.set_merge_table_rule(regclass, text, regprocedure),
                              crm.set_match_weight(text, double precision),
                              crm.set_personal_column(regclass, name, text, boolean) TO crm_admin;
END
$$;
RESET client_min_messages;

CREATE ROLE regress_set_agent NOLOGIN;
CREATE ROLE regress_set_admin NOLOGIN;
GRANT crm_agent TO regress_set_agent;
GRANT crm_admin TO regress_set_admin;
-- the administrator may create functions (its own code) in schema regress
GRANT CREATE ON SCHEMA regress TO regress_set_admin;

-- a table of the database's own that references clients, and two clients
CREATE TABLE regress.loyalty (client_id bigint REFERENCES crm.client (id), points int, note text);
CREATE TABLE regress.unlinked (id int, note text);
INSERT INTO crm.client (id, first_name, last_name) VALUES (1, 'Jan', 'Kowalski'), (2, 'Jan', 'Kowalsky');
INSERT INTO regress.loyalty VALUES (2, 10, 'likes calls');
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_set_%' ORDER BY 1;

--------------------------------------------------------------------------
-- An agent writes no setting
--------------------------------------------------------------------------
SET ROLE regress_set_agent;
-- it reads them ...
SELECT count(*) AS rules FROM crm.merge_rule;
-- ... but writes none of the four tables
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.merge_rule VALUES ('structure', false)$$);
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.merge_table_rule VALUES ('regress.loyalty', 'function', 'regress.evil(bigint,bigint,bigint)')$$);
SELECT err_code, err_message FROM regress.error_of($$UPDATE crm.match_weight SET weight = -100$$);
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.personal_column VALUES ('regress.loyalty', 'note', NULL)$$);
-- and may not call the setters
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.set_merge_rule('structure', false)$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.set_merge_table_rule('regress.loyalty', 'drop')$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.set_match_weight('prior', -100)$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.set_personal_column('regress.loyalty', 'note')$$);
RESET ROLE;

-- the old README's grant (GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN
-- SCHEMA crm TO ...) and EXECUTE granted by mistake do not make it one:
-- the tables take writes only from their owner, the setters only from
-- administrators
GRANT INSERT, UPDATE, DELETE ON crm.merge_rule, crm.merge_table_rule, crm.match_weight, crm.personal_column
    TO regress_set_agent;
GRANT EXECUTE ON FUNCTION crm.set_merge_rule(text, boolean),
                          crm.set_merge_table_rule(regclass, text, regprocedure),
                          crm.set_match_weight(text, double precision),
                          crm.set_personal_column(regclass, name, text, boolean) TO regress_set_agent;
SET ROLE regress_set_agent;
SELECT * FROM regress.error_of($$INSERT INTO crm.merge_rule VALUES ('structure', false)$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$INSERT INTO crm.merge_table_rule VALUES ('regress.loyalty', 'drop', NULL)$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$INSERT INTO crm.match_weight VALUES ('prior', 100)$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$DELETE FROM crm.personal_column$$);
SELECT * FROM regress.error_of($$SELECT crm.set_merge_rule('structure', false)$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.set_merge_table_rule('regress.loyalty', 'drop')$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.set_match_weight('prior', -100)$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.set_personal_column('regress.loyalty', 'note')$$);
RESET ROLE;
REVOKE ALL ON crm.merge_rule, crm.merge_table_rule, crm.match_weight, crm.personal_column FROM regress_set_agent;
REVOKE ALL ON FUNCTION crm.set_merge_rule(text, boolean),
                       crm.set_merge_table_rule(regclass, text, regprocedure),
                       crm.set_match_weight(text, double precision),
                       crm.set_personal_column(regclass, name, text, boolean) FROM regress_set_agent;
-- nothing was written, nothing audited
SELECT (SELECT count(*) FROM crm.merge_rule) + (SELECT count(*) FROM crm.merge_table_rule)
       + (SELECT count(*) FROM crm.match_weight) + (SELECT count(*) FROM crm.personal_column) AS settings,
       (SELECT count(*) FROM crm.audit_log) AS audited;

--------------------------------------------------------------------------
-- An administrator (not a superuser) sets them through the setters
--------------------------------------------------------------------------
SET ROLE regress_set_admin;
-- not by writing the tables
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.merge_rule VALUES ('structure', false)$$);
-- merge rules off, on, back to the default
SELECT crm.set_merge_rule('consent', false);
SELECT crm.set_merge_rule('sync', true);
SELECT crm.set_merge_rule('sync', true);     -- no change, not audited
SELECT rule, enabled FROM crm.merge_rule ORDER BY rule;
SELECT crm.set_merge_rule('sync', NULL);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.set_merge_rule('structures', false)$$);
-- per-table rules: drop, move, none
SELECT crm.set_merge_table_rule('regress.loyalty', 'drop');
SELECT relation, action, handler FROM crm.merge_table_rule;
SELECT crm.set_merge_table_rule('regress.loyalty', 'move');
SELECT crm.set_merge_table_rule('regress.loyalty', NULL);
SELECT err_code, err_message, err_detail, err_hint FROM regress.error_of($$SELECT crm.set_merge_table_rule('regress.unlinked', 'drop')$$);
-- weights: set, changed, back to the default; checked
SELECT crm.set_match_weight('email', 9);
SELECT crm.set_match_weight('email', 8.5);
SELECT evidence, weight, changed FROM crm.match_weights_in_use WHERE evidence = 'email';
SELECT crm.set_match_weight('email', NULL);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.set_match_weight('e-mail', 9)$$);
SELECT err_code, err_message, err_detail FROM regress.error_of($$SELECT crm.set_match_weight('email', 'NaN')$$);
-- personal columns: registered, a replacement, taken out; checked
SELECT crm.set_personal_column('regress.loyalty', 'note');
SELECT crm.set_personal_column('regress.loyalty', 'note', 'anonymized');
SELECT relation, column_name, replacement FROM crm.personal_column;
SELECT crm.set_personal_column('regress.loyalty', 'note', registered => false);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.set_personal_column('regress.loyalty', 'nope')$$);
RESET ROLE;
-- every change audited: who, what, ids and values (no personal data)
SELECT action, actor, client_id, detail FROM crm.audit_log ORDER BY id;
SELECT (SELECT count(*) FROM crm.merge_rule) + (SELECT count(*) FROM crm.merge_table_rule)
       + (SELECT count(*) FROM crm.match_weight) + (SELECT count(*) FROM crm.personal_column) AS settings;

--------------------------------------------------------------------------
-- The issue's attack: a handler of the administrator's own, run by a
-- superuser's merge
--------------------------------------------------------------------------
SET ROLE regress_set_admin;
CREATE FUNCTION regress.evil(source_id bigint, target_id bigint, merge_id bigint) RETURNS void
    LANGUAGE plpgsql AS $$ BEGIN ALTER ROLE regress_set_admin SUPERUSER; END $$;
CREATE FUNCTION regress.evil_definer(source_id bigint, target_id bigint, merge_id bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN ALTER ROLE regress_set_admin SUPERUSER; END $$;
-- refused: the administrator owns it
SELECT * FROM regress.error_of($$SELECT crm.set_merge_table_rule('regress.loyalty', 'function', 'regress.evil(bigint, bigint, bigint)')$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.set_merge_table_rule('regress.loyalty', 'function', 'regress.evil_definer(bigint, bigint, bigint)')$$);
-- and not as a row of the table
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.merge_table_rule VALUES ('regress.loyalty', 'function', 'regress.evil(bigint,bigint,bigint)')$$);
RESET ROLE;
SELECT count(*) AS table_rules FROM crm.merge_table_rule;

-- a handler the data model's owner (here a superuser) wrote is accepted
CREATE TABLE regress.handler_calls (source_id bigint, target_id bigint);
CREATE FUNCTION regress.fair(source_id bigint, target_id bigint, merge_id bigint) RETURNS void
    LANGUAGE sql AS $$
    INSERT INTO regress.handler_calls VALUES (source_id, target_id);
    UPDATE regress.loyalty SET client_id = target_id WHERE client_id = source_id;
$$;
SET ROLE regress_set_admin;
SELECT crm.set_merge_table_rule('regress.loyalty', 'function', 'regress.fair(bigint, bigint, bigint)');
-- but not a function of another signature
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.set_merge_table_rule('regress.loyalty', 'function', 'pg_catalog.lower(text)')$$);
RESET ROLE;
SELECT relation, action, handler FROM crm.merge_table_rule;
SELECT action, actor, detail FROM crm.audit_log WHERE action = 'merge table rule' ORDER BY id DESC LIMIT 1;

-- the rule is checked again when a merge runs it: handed over to the
-- administrator since, the function no longer runs, not even in a
-- superuser's merge
ALTER FUNCTION regress.fair(bigint, bigint, bigint) OWNER TO regress_set_admin;
SELECT * FROM regress.error_of('SELECT crm.merge_client(2, 1)');
-- a row written straight into the table (by its owner) pointing at the
-- administrator's function: a warning, and merges refuse to run it
DELETE FROM crm.merge_table_rule;
INSERT INTO crm.merge_table_rule VALUES ('regress.loyalty', 'function', 'regress.evil(bigint,bigint,bigint)');
SELECT * FROM regress.error_of('SELECT crm.merge_client(2, 1)');
-- the attack failed: the administrator is no superuser, nothing merged
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_set_%' ORDER BY 1;
SELECT count(*) AS clients, (SELECT count(*) FROM crm.merge_log) AS merges FROM crm.client;
-- a handler that is gone: the merge says so
DELETE FROM crm.merge_table_rule;
ALTER FUNCTION regress.fair(bigint, bigint, bigint) OWNER TO CURRENT_USER;
INSERT INTO crm.merge_table_rule VALUES ('regress.loyalty', 'function', 'regress.fair(bigint,bigint,bigint)');
ALTER FUNCTION regress.fair(bigint, bigint, bigint) RENAME TO fair_renamed;
SELECT * FROM regress.error_of('SELECT crm.merge_client(2, 1)');
-- a trusted handler runs
ALTER FUNCTION regress.fair_renamed(bigint, bigint, bigint) RENAME TO fair;
SELECT crm.merge_client(2, 1) IS NOT NULL AS merged;
SELECT * FROM regress.handler_calls;
SELECT client_id, points FROM regress.loyalty;

-- cleanup
SELECT regress.reset();
DROP TABLE regress.loyalty, regress.unlinked, regress.handler_calls;
DROP FUNCTION regress.fair(bigint, bigint, bigint);
REVOKE CREATE ON SCHEMA regress FROM regress_set_admin;
DROP OWNED BY regress_set_admin, regress_set_agent;
DROP ROLE regress_set_admin, regress_set_agent;
