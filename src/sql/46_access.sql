--------------------------------------------------------------------------
-- Access: who may do what, and where (AC-1..AC-3, doc/security.md)
--
-- What a role may do is its privileges: crm.create_roles() makes the group
-- roles crm_agent, crm_supervisor and crm_admin and grants each exactly
-- what it needs.  Where it may do it is the structure: crm.user_unit()
-- assigns a role to units, and row-level security (created on the
-- ordinary tables by crm.enable_row_security(), so that dumps keep it)
-- shows a role the clients of its units and of the units below, with every
-- record linked to them.  Administrators see everything.
--
-- crm's own state (the merge journal, the audit log, consent history,
-- anonymization codes, the settings and these assignments) belongs to the
-- data model's owner and is written only by crm's SECURITY DEFINER
-- functions, which check their caller first.  The caller is the session's
-- role: session_user, or the role chosen with SET ROLE
-- (crm_internal.session_role()).
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('access', $model$
CREATE TABLE crm.user_unit (
    role_name   text NOT NULL,
    unit_id     bigint NOT NULL REFERENCES crm.unit (id) ON DELETE CASCADE,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    assigned_by text NOT NULL DEFAULT crm_internal.session_role(),
    PRIMARY KEY (role_name, unit_id)
);
CREATE INDEX user_unit_unit_id_idx ON crm.user_unit (unit_id);
COMMENT ON TABLE crm.user_unit IS
    'where people work (AC-3): a role (a login or a group of them) works in these units and the units below them; written by crm.user_unit()';
COMMENT ON COLUMN crm.user_unit.role_name IS 'the role: a login role, or a group role whose members all work there';
COMMENT ON COLUMN crm.user_unit.unit_id IS 'the unit (crm.unit); the role also reaches every unit below it';
COMMENT ON COLUMN crm.user_unit.assigned_at IS 'when the assignment was made';
COMMENT ON COLUMN crm.user_unit.assigned_by IS 'the role that made it';

CREATE TABLE crm.user_campaign (
    role_name   text NOT NULL,
    campaign_id bigint NOT NULL REFERENCES crm.campaign (id) ON DELETE CASCADE,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    assigned_by text NOT NULL DEFAULT crm_internal.session_role(),
    PRIMARY KEY (role_name, campaign_id)
);
CREATE INDEX user_campaign_campaign_id_idx ON crm.user_campaign (campaign_id);
COMMENT ON TABLE crm.user_campaign IS
    'the campaigns an agent works in: its contact history and tickets of other campaigns need a permission (AC-2); written by crm.user_campaign()';
COMMENT ON COLUMN crm.user_campaign.role_name IS 'the role: a login role, or a group role';
COMMENT ON COLUMN crm.user_campaign.campaign_id IS 'the campaign (crm.campaign)';
COMMENT ON COLUMN crm.user_campaign.assigned_at IS 'when the assignment was made';
COMMENT ON COLUMN crm.user_campaign.assigned_by IS 'the role that made it';

CREATE TABLE crm.user_permission (
    role_name   text NOT NULL,
    permission  text NOT NULL CHECK (crm_internal.is_agent_permission(permission)),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    granted_by  text NOT NULL DEFAULT crm_internal.session_role(),
    PRIMARY KEY (role_name, permission)
);
COMMENT ON TABLE crm.user_permission IS
    'the agent permissions of AC-2 an administrator granted (crm.grant_agent_permission()); see crm.agent_permissions()';
COMMENT ON COLUMN crm.user_permission.role_name IS 'the role: a login role, or a group role';
COMMENT ON COLUMN crm.user_permission.permission IS 'one of crm.agent_permissions()';
COMMENT ON COLUMN crm.user_permission.granted_at IS 'when it was granted';
COMMENT ON COLUMN crm.user_permission.granted_by IS 'the role that granted it';
-- who works where is no secret inside the CRM, and the row-level security
-- of every role reads it
GRANT SELECT ON crm.user_unit, crm.user_campaign, crm.user_permission TO PUBLIC;
-- the structure too: the row-level security of every role walks it
GRANT SELECT ON crm.unit TO PUBLIC;
$model$);

--------------------------------------------------------------------------
-- Who is asking
--------------------------------------------------------------------------

-- The role crm acts for: the session's role, as SET ROLE chose it.  Inside
-- a SECURITY DEFINER function current_user is the function's owner; the
-- session's role is who called.  (A SECURITY DEFINER function of another
-- role in between does not change it: crm acts for the session.)
CREATE FUNCTION crm_internal.session_role() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN current_setting('role') = 'none' THEN session_user::text ELSE current_setting('role') END;
COMMENT ON FUNCTION crm_internal.session_role() IS
    'the role crm acts for: the role chosen with SET ROLE, else session_user (inside crm''s SECURITY DEFINER functions, the caller)';

-- The owner of the data model: the role that installed it (or was handed
-- its tables).  It and superusers are crm's trusted roles.
CREATE FUNCTION crm_internal.model_owner() RETURNS oid
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT c.relowner FROM pg_class c WHERE c.oid = to_regclass('crm.data_model'));
END
$$;
COMMENT ON FUNCTION crm_internal.model_owner() IS 'the owner of the data model (of crm.data_model)';

CREATE FUNCTION crm_internal.is_trusted_role(role_id oid) RETURNS boolean
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.oid = role_id), false)
           OR coalesce(pg_has_role(role_id, crm_internal.model_owner(), 'USAGE'), false);
END
$$;
COMMENT ON FUNCTION crm_internal.is_trusted_role(oid) IS
    'internal: a superuser, or the data model''s owner or a role with its rights (crm runs code and names only such roles wrote)';

-- Whether the role writing now (current_user: a trigger's writer, a
-- restore) is trusted: crm's triggers let such a writer set what they set
-- for anyone else (history times, who found a pair), so that a restore
-- brings back the dumped values.
CREATE FUNCTION crm_internal.writer_is_trusted() RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN crm_internal.is_trusted_role((SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user));
END
$$;
COMMENT ON FUNCTION crm_internal.writer_is_trusted() IS
    'internal: whether the current role is trusted (a superuser, the data model''s owner or a role with its rights): a restore''s writer';

-- Whether a role acts with the rights of a crm group role (inherited:
-- a member without INHERIT gets them after SET ROLE).
CREATE FUNCTION crm_internal.has_crm_role(role_name text, crm_role text) RETURNS boolean
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles g WHERE g.rolname = crm_role) THEN
        RETURN false;
    END IF;
    RETURN pg_has_role(role_name, crm_role, 'USAGE');
END
$$;
COMMENT ON FUNCTION crm_internal.has_crm_role(text, text) IS
    'internal: whether the role has the rights of crm group role crm_role (false if that role does not exist)';

-- Administrators see and reach every client; so do the model's owner,
-- superusers and roles that bypass row-level security.
-- Superusers and BYPASSRLS roles: no policy applies to them.
CREATE FUNCTION crm_internal.bypasses_row_security(role_name text) RETURNS boolean
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    RETURN coalesce((SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.rolname = role_name), false);
END
$$;
COMMENT ON FUNCTION crm_internal.bypasses_row_security(text) IS
    'whether the role is a superuser or has BYPASSRLS (no row-level security policy applies to it)';

CREATE FUNCTION crm_internal.sees_all(role_name text) RETURNS boolean
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    RETURN (
        SELECT crm_internal.bypasses_row_security(role_name)
               OR coalesce(pg_has_role(role_name, crm_internal.model_owner(), 'USAGE'), false)
               OR crm_internal.has_crm_role(role_name, 'crm_admin'));
END
$$;
COMMENT ON FUNCTION crm_internal.sees_all(text) IS
    'whether the role reaches every client: crm_admin, the data model''s owner, superusers, BYPASSRLS roles';

-- Whether the role reads every client of crm.client: row-level security is
-- off on it, or the role bypasses it, or crm's policy by structure
-- (crm.enable_row_security()) lets it reach all (crm_internal.sees_all())
-- and no restrictive policy of the DBA's own narrows that.  What is counted
-- over the whole base (the names' frequencies, src/matchfreq.c) weighs only
-- such roles' scores: a role reaching part of the base could otherwise
-- learn from a score whether a name has bearers out of its reach.
CREATE FUNCTION crm_internal.reads_whole_base(role_name text) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    client regclass := to_regclass('crm.client');
BEGIN
    RETURN client IS NOT NULL AND (
        -- (with row-level security off, a role that may read the table at all)
        (NOT (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = client)
         AND coalesce(has_table_privilege(role_name, client, 'SELECT'), false))
        OR crm_internal.bypasses_row_security(role_name)
        OR (EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = client AND p.polname = 'crm_reach')
            AND NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = client AND NOT p.polpermissive)
            AND crm_internal.sees_all(role_name)));
END
$$;
COMMENT ON FUNCTION crm_internal.reads_whole_base(text) IS
    'whether the role reads every client: no row-level security on crm.client, a role that bypasses it, or one crm''s policy lets reach all (crm_internal.sees_all()) with no restrictive policy besides';

-- Supervisors (and administrators) see all the contact history and
-- tickets of the clients they reach; agents what AC-2 grants them.
CREATE FUNCTION crm_internal.sees_all_work(role_name text) RETURNS boolean
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN crm_internal.sees_all(role_name) OR crm_internal.has_crm_role(role_name, 'crm_supervisor');
END
$$;
COMMENT ON FUNCTION crm_internal.sees_all_work(text) IS
    'whether the role sees every contact and ticket of the clients it reaches (supervisors, administrators) rather than what AC-2 grants an agent';

-- The units a role works in (its own assignments and those of the group
-- roles it has the rights of) and every unit below them.
CREATE FUNCTION crm_internal.scope_units(role_name text) RETURNS bigint[]
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    RETURN (
        WITH RECURSIVE reach(id) AS (
            SELECT uu.unit_id FROM crm.user_unit uu JOIN pg_roles r ON r.rolname = uu.role_name
            WHERE pg_has_role(scope_units.role_name, r.oid, 'USAGE')
            UNION
            SELECT u.id FROM crm.unit u JOIN reach ON u.parent_id = reach.id
        )
        SELECT coalesce(array_agg(reach.id ORDER BY reach.id), '{}') FROM reach);
END
$$;
COMMENT ON FUNCTION crm_internal.scope_units(text) IS
    'the units a role works in (crm.user_unit, its groups'' too) and every unit below them';

CREATE FUNCTION crm_internal.scope_campaigns(role_name text) RETURNS bigint[]
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    RETURN (
        SELECT coalesce(array_agg(DISTINCT uc.campaign_id), '{}')
        FROM crm.user_campaign uc JOIN pg_roles r ON r.rolname = uc.role_name
        WHERE pg_has_role(scope_campaigns.role_name, r.oid, 'USAGE'));
END
$$;
COMMENT ON FUNCTION crm_internal.scope_campaigns(text) IS
    'the campaigns a role works in (crm.user_campaign, its groups'' too)';

-- The permissions an administrator grants agents (AC-2).
CREATE FUNCTION crm.agent_permissions()
    RETURNS TABLE (permission text, description text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
    ('history_all_campaigns', 'contact history of the clients it reaches from every campaign, not only its own campaigns'),
    ('other_agents_contacts', 'contacts (crm.interaction) handled by other agents, not only its own'),
    ('tickets_other_campaigns', 'tickets of the clients it reaches from every campaign, not only its own campaigns'),
    ('tickets_unassigned', 'tickets assigned to nobody'),
    ('tickets_other_agents', 'tickets assigned to other agents');
$$;
COMMENT ON FUNCTION crm.agent_permissions() IS
    'the agent permissions of AC-2 (crm.grant_agent_permission()): what each lets an agent see beyond its own contacts and tickets';

CREATE FUNCTION crm_internal.is_agent_permission(permission text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN EXISTS (SELECT FROM crm.agent_permissions() p WHERE p.permission = is_agent_permission.permission);
COMMENT ON FUNCTION crm_internal.is_agent_permission(text) IS 'whether the text names one of crm.agent_permissions()';

CREATE FUNCTION crm_internal.has_agent_permission(role_name text, permission text) RETURNS boolean
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    RETURN (
        SELECT EXISTS (SELECT FROM crm.user_permission p JOIN pg_roles r ON r.rolname = p.role_name
                       WHERE p.permission = has_agent_permission.permission
                         AND pg_has_role(has_agent_permission.role_name, r.oid, 'USAGE')));
END
$$;
COMMENT ON FUNCTION crm_internal.has_agent_permission(text, text) IS
    'whether the role (or a group role it has the rights of) was granted the agent permission';

-- The one unit a role was assigned (directly or through a group role), if
-- it was assigned exactly one: where its new clients go by default.
CREATE FUNCTION crm_internal.home_unit(role_name text) RETURNS bigint
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    RETURN (
        SELECT CASE WHEN count(DISTINCT uu.unit_id) = 1 THEN min(uu.unit_id) END
        FROM crm.user_unit uu JOIN pg_roles r ON r.rolname = uu.role_name
        WHERE pg_has_role(home_unit.role_name, r.oid, 'USAGE'));
END
$$;
COMMENT ON FUNCTION crm_internal.home_unit(text) IS
    'the unit a role works in if it was assigned exactly one (crm.user_unit): where its new clients go unless they name one';

-- Whether a role reaches a client of this unit (no unit: the top of the
-- structure, administrators only).
CREATE FUNCTION crm_internal.reaches_unit(role_name text, unit_id bigint) RETURNS boolean
    -- PL/pgSQL for its cached plan: row-level security asks once per query
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN crm_internal.sees_all(role_name) OR unit_id = ANY (crm_internal.scope_units(role_name));
END
$$;
COMMENT ON FUNCTION crm_internal.reaches_unit(text, bigint) IS
    'whether the role reaches the clients of the unit: an administrator, or the unit is one of its units or below one';

--------------------------------------------------------------------------
-- Checks of crm's SECURITY DEFINER functions
--------------------------------------------------------------------------

-- One home for the refusal of what lies outside the caller's reach: the
-- same words whether it exists or not.
CREATE FUNCTION crm_internal.refuse_out_of_reach(what text, fact text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'permission denied to %', what
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = format('Role "%s" reaches only the clients of its units and the units below them; %s.',
                              crm_internal.session_role(), fact),
              HINT = 'An administrator assigns units with crm.user_unit(role, unit).';
END
$$;
COMMENT ON FUNCTION crm_internal.refuse_out_of_reach(text, text) IS
    'internal: raises 42501 "permission denied to <what>" for something outside the session''s role''s reach, saying no more than fact';

-- One home for "the caller may act on these clients": they exist and lie
-- in the caller's part of the structure.  A client out of reach gets the
-- same answer as one that does not exist: a refusal says nothing of what
-- the caller cannot see.  Administrators pass (a missing client is then
-- the caller's function's to report).
CREATE FUNCTION crm_internal.require_reach(client_ids bigint[], action text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    caller text := crm_internal.session_role();
    units bigint[];
    outside bigint;
BEGIN
    IF crm_internal.sees_all(caller) THEN
        RETURN;
    END IF;
    units := crm_internal.scope_units(caller);
    SELECT min(u.id) INTO outside FROM unnest(client_ids) AS u(id)
    WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = u.id AND c.unit_id = ANY (units));
    IF outside IS NOT NULL THEN
        PERFORM crm_internal.refuse_out_of_reach(format('%s client %s', action, outside), 'this client does not exist or lies outside them');
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.require_reach(bigint[], text) IS
    'internal: 42501 unless the session''s role reaches every client (an administrator, or each lies in its units); the same refusal for a client that does not exist';

-- Locks and returns one client the caller reaches.
CREATE FUNCTION crm_internal.client_in_reach(client_id bigint, action text) RETURNS record
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    IF client_id IS NOT NULL THEN
        PERFORM crm_internal.require_reach(ARRAY[client_id], action);
    END IF;
    c := crm_internal.client_for_update(client_id);
    -- its unit was checked before the lock: check again under it
    PERFORM crm_internal.require_reach(ARRAY[client_id], action);
    RETURN c;
END
$$;
COMMENT ON FUNCTION crm_internal.client_in_reach(bigint, text) IS
    'internal: locks and returns a client the session''s role reaches; 42501 (the same for a client that does not exist) otherwise';

-- Whether crm may write a table with its owner's rights: writing runs the
-- table's triggers, so they must be code of trusted roles (superusers, the
-- data model's owner), and no other role may add any.  NULL when it may;
-- else why not, as a sentence for an errdetail.
CREATE FUNCTION crm_internal.untrusted_code(relation regclass) RETURNS text
    -- PL/pgSQL, step by step: the few tables first, then their owners, grants
    -- and triggers (as one SQL query the planner checked every role in
    -- pg_class: 0.6 ms a table, every merge)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- the table and, partitioned, every partition (a write reaches theirs)
    tables oid[] := ARRAY(SELECT relation::oid UNION SELECT t.relid FROM pg_partition_tree(relation) t);
    r record;
    g record;
BEGIN
    FOR r IN SELECT c.oid, c.relowner, c.relacl FROM pg_class c WHERE c.oid = ANY (tables)
             ORDER BY c.oid::regclass::text LOOP
        IF NOT crm_internal.is_trusted_role(r.relowner) THEN
            RETURN format('%s belongs to role %s.',
                          CASE WHEN r.oid = relation THEN 'It' ELSE format('Its partition %s', r.oid::regclass) END,
                          r.relowner::regrole);
        END IF;
        FOR g IN SELECT a.grantee FROM aclexplode(r.relacl) a
                 WHERE a.privilege_type = 'TRIGGER' AND a.grantee <> r.relowner LOOP
            IF g.grantee = 0 OR NOT crm_internal.is_trusted_role(g.grantee) THEN
                RETURN format('Role %s may add triggers to %s.',
                              coalesce(nullif(g.grantee, 0)::regrole::text, 'PUBLIC'), r.oid::regclass);
            END IF;
        END LOOP;
    END LOOP;
    FOR r IN SELECT t.tgname, t.tgrelid, p.oid AS fn, p.proowner
             FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
             WHERE t.tgrelid = ANY (tables) AND NOT t.tgisinternal AND t.tgenabled <> 'D'
             ORDER BY t.tgname LOOP
        IF NOT crm_internal.is_trusted_role(r.proowner) THEN
            RETURN format('Trigger %s of %s runs function %s of role %s.', r.tgname, r.tgrelid::regclass,
                          r.fn::regprocedure, r.proowner::regrole);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.untrusted_code(regclass) IS
    'internal: null if crm may write the table with its owner''s rights (its owner, trigger functions and TRIGGER grantees, its partitions'' too, are trusted roles); else why not';

CREATE FUNCTION crm_internal.require_trusted_table(relation regclass, action text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    why text := crm_internal.untrusted_code(relation);
BEGIN
    IF why IS NOT NULL THEN
        RAISE EXCEPTION 'cannot %: crm does not write table % with its owner''s rights', action, relation
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = why || ' Its code would run with the rights of crm''s owner.',
                  HINT = 'Make a superuser or the data model''s owner the owner of the table and of its trigger functions, and revoke TRIGGER on it from other roles.';
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.require_trusted_table(regclass, text) IS
    'internal: 42501 unless crm may write the table with its owner''s rights (crm_internal.untrusted_code())';

-- Only the data model's owner (or a role with its rights): what changes
-- its tables' grants and policies.
CREATE FUNCTION crm_internal.require_model_owner(action text, why text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pg_has_role(current_user, crm_internal.model_owner(), 'USAGE') THEN
        RAISE EXCEPTION 'permission denied to %', action
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = why,
                  HINT = format('Run it as %s, the owner of the data model.', crm_internal.model_owner()::regrole);
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.require_model_owner(text, text) IS
    'internal: 42501 unless the current role has the rights of the data model''s owner';

-- Only administrators: settings, assignments, anonymization.
CREATE FUNCTION crm_internal.require_admin(action text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT crm_internal.sees_all(crm_internal.session_role()) THEN
        RAISE EXCEPTION 'permission denied to %', action
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role "%s" is not a crm administrator.', crm_internal.session_role()),
                  HINT = 'An administrator (a member of crm_admin) does this.';
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.require_admin(text) IS
    'internal: 42501 unless the session''s role is a crm administrator (crm_admin, the model''s owner, a superuser)';

-- Supervisors and administrators: merging, undoing, hiding, deleting,
-- deduplicating.  Every crm role may call these functions, so that an agent
-- is told why not rather than only "permission denied for function".
CREATE FUNCTION crm_internal.require_supervisor(action text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT crm_internal.sees_all_work(crm_internal.session_role()) THEN
        RAISE EXCEPTION 'permission denied to %', action
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role "%s" is not a crm supervisor or administrator.', crm_internal.session_role()),
                  HINT = 'A supervisor (a member of crm_supervisor) does this within its units.';
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.require_supervisor(text) IS
    'internal: 42501 unless the session''s role is a crm supervisor or administrator';

--------------------------------------------------------------------------
-- The audit log's one writer
--------------------------------------------------------------------------

-- Called only from crm's SECURITY DEFINER functions (no one else may
-- execute it): who (the session's role) and when are the server's.
-- detail holds ids and counts, never personal data.
CREATE FUNCTION crm_internal.audit(action text, client_id bigint, detail jsonb DEFAULT NULL) RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO crm.audit_log (actor, action, client_id, unit_id, detail)
    VALUES (crm_internal.session_role(), audit.action, audit.client_id,
            (SELECT c.unit_id FROM crm.client c WHERE c.id = audit.client_id), audit.detail);
$$;
COMMENT ON FUNCTION crm_internal.audit(text, bigint, jsonb) IS
    'internal, for crm''s SECURITY DEFINER functions only: appends to crm.audit_log (the session''s role, now, ids and counts)';
REVOKE ALL ON FUNCTION crm_internal.audit(text, bigint, jsonb) FROM PUBLIC;

--------------------------------------------------------------------------
-- Writing crm's settings and assignments
--------------------------------------------------------------------------

-- One home for the administrators' setters (assignments here, rules,
-- weights and personal columns in their concepts' files): record a
-- setting (keep) or take it back (not keep), by the table's primary key,
-- and audit what changed.  setting names columns of the table; relation is
-- always one of crm's settings tables, named by crm's SECURITY DEFINER
-- functions (no one else may execute this).
CREATE FUNCTION crm_internal.write_setting(relation regclass, setting jsonb, keep boolean, audit_action text)
    RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cols text[] := ARRAY(SELECT jsonb_object_keys(setting));
    keys text[];
    rest text[];
    changed bigint;
BEGIN
    SELECT array_agg(a.attname::text ORDER BY k.n) INTO keys
    FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
    JOIN pg_attribute a ON a.attnum = k.attnum
    WHERE i.indrelid = relation AND i.indisprimary AND a.attrelid = relation;
    rest := ARRAY(SELECT c FROM unnest(cols) AS c WHERE c <> ALL (keys));
    IF keep THEN
        EXECUTE format('INSERT INTO %s AS t (%s) SELECT %s FROM jsonb_populate_record(NULL::%s, $1) r ON CONFLICT (%s) %s',
                       relation,
                       (SELECT string_agg(format('%I', c), ', ') FROM unnest(cols) AS c),
                       (SELECT string_agg(format('r.%I', c), ', ') FROM unnest(cols) AS c),
                       relation,
                       (SELECT string_agg(format('%I', c), ', ') FROM unnest(keys) AS c),
                       CASE WHEN cardinality(rest) = 0 THEN 'DO NOTHING'
                            ELSE format('DO UPDATE SET (%s) = ROW(%s) WHERE (%s) IS DISTINCT FROM (%s)',
                                        (SELECT string_agg(format('%I', c), ', ') FROM unnest(rest) AS c),
                                        (SELECT string_agg(format('EXCLUDED.%I', c), ', ') FROM unnest(rest) AS c),
                                        (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(rest) AS c),
                                        (SELECT string_agg(format('EXCLUDED.%I', c), ', ') FROM unnest(rest) AS c)) END)
            USING setting;
    ELSE
        EXECUTE format('DELETE FROM %s t WHERE (%s) = (SELECT %s FROM jsonb_populate_record(NULL::%s, $1) r)',
                       relation,
                       (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(keys) AS c),
                       (SELECT string_agg(format('r.%I', c), ', ') FROM unnest(keys) AS c),
                       relation)
            USING setting;
    END IF;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed > 0 THEN
        PERFORM crm_internal.audit(audit_action, NULL,
                                   setting || CASE WHEN keep THEN '{}'::jsonb ELSE '{"removed": true}'::jsonb END);
    END IF;
    RETURN changed > 0;
END
$$;
COMMENT ON FUNCTION crm_internal.write_setting(regclass, jsonb, boolean, text) IS
    'internal, for crm''s setters only: records (keep) or takes back a row of a settings table by its primary key, and audits a change; true if something changed';
REVOKE ALL ON FUNCTION crm_internal.write_setting(regclass, jsonb, boolean, text) FROM PUBLIC;

--------------------------------------------------------------------------
-- Assignments and permissions (administrators)
--------------------------------------------------------------------------

CREATE FUNCTION crm_internal.require_role(role_name text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = role_name) THEN
        RAISE EXCEPTION 'role "%" does not exist', role_name
            USING ERRCODE = 'undefined_object',
                  HINT = 'Create the login role first (CREATE ROLE ... LOGIN), then grant it crm_agent, crm_supervisor or crm_admin.';
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.require_role(text) IS 'internal: 42704 unless the role exists';

CREATE FUNCTION crm.user_unit(role_name text, unit_id bigint, assigned boolean DEFAULT true) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('assign units');
    PERFORM crm_internal.require_role(role_name);
    IF NOT EXISTS (SELECT FROM crm.unit u WHERE u.id = unit_id) THEN
        RAISE EXCEPTION 'unit % does not exist', unit_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN crm_internal.write_setting('crm.user_unit', jsonb_build_object('role_name', role_name, 'unit_id', unit_id),
                                      coalesce(assigned, true), 'user unit');
END
$$;
COMMENT ON FUNCTION crm.user_unit(text, bigint, boolean) IS
    'administrators: the role works in the unit and every unit below it (assigned => false takes that back); true if something changed';

CREATE FUNCTION crm.user_campaign(role_name text, campaign_id bigint, assigned boolean DEFAULT true) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('assign campaigns');
    PERFORM crm_internal.require_role(role_name);
    IF NOT EXISTS (SELECT FROM crm.campaign c WHERE c.id = campaign_id) THEN
        RAISE EXCEPTION 'campaign % does not exist', campaign_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN crm_internal.write_setting('crm.user_campaign',
                                      jsonb_build_object('role_name', role_name, 'campaign_id', campaign_id),
                                      coalesce(assigned, true), 'user campaign');
END
$$;
COMMENT ON FUNCTION crm.user_campaign(text, bigint, boolean) IS
    'administrators: the role works in the campaign (assigned => false takes that back); true if something changed';

CREATE FUNCTION crm.grant_agent_permission(role_name text, permission text, granted boolean DEFAULT true)
    RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('grant agent permissions');
    PERFORM crm_internal.require_role(role_name);
    IF NOT crm_internal.is_agent_permission(permission) THEN
        RAISE EXCEPTION 'unknown agent permission "%"', permission
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Use one of: %s.', (SELECT string_agg(p.permission, ', ') FROM crm.agent_permissions() p));
    END IF;
    RETURN crm_internal.write_setting('crm.user_permission',
                                      jsonb_build_object('role_name', role_name, 'permission', permission),
                                      coalesce(granted, true), 'agent permission');
END
$$;
COMMENT ON FUNCTION crm.grant_agent_permission(text, text, boolean) IS
    'administrators: grants (granted => false: revokes) one of crm.agent_permissions() to a role; true if something changed';
REVOKE ALL ON FUNCTION crm.user_unit(text, bigint, boolean), crm.user_campaign(text, bigint, boolean),
                       crm.grant_agent_permission(text, text, boolean) FROM PUBLIC;

--------------------------------------------------------------------------
-- The roles and their grants
--------------------------------------------------------------------------

-- The data model's tables by what roles do with them.  One home for the
-- lists: crm.create_roles() grants by them, crm.enable_row_security()
-- protects the client data by them, and the catalog test checks that
-- every table of the model is in exactly one.
CREATE FUNCTION crm_internal.model_tables()
    RETURNS TABLE (relation text, category text)
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
    -- the structure and the catalogs: everyone reads, administrators write
    ('crm.unit', 'reference'), ('crm.segment', 'reference'), ('crm.campaign', 'reference'),
    ('crm.custom_field', 'reference'), ('crm.product', 'reference'), ('crm.price_list', 'reference'),
    ('crm.price_list_item', 'reference'), ('crm.employee', 'reference'),
    -- clients and the records linked to them: read and written in reach;
    -- the client's own (contacts, memberships, custom values, its price
    -- list) may be deleted, a business record only by crm's own functions
    ('crm.client', 'client'),
    ('crm.contact', 'client own'), ('crm.segment_member', 'client own'), ('crm.campaign_member', 'client own'),
    ('crm.custom_value', 'client own'), ('crm.client_price_list', 'client own'),
    ('crm.consent', 'business'), ('crm.document', 'business'), ('crm.vehicle', 'business'),
    ('crm.policy', 'business'), ('crm.interaction', 'business'), ('crm.offer', 'business'),
    ('crm.needs_analysis', 'business'), ('crm.invoice', 'business'), ('crm.payment', 'business'),
    ('crm.task', 'business'), ('crm.case', 'business'), ('crm.contact_person', 'business'),
    ('crm.service_entry', 'business'), ('crm.ticket', 'business'), ('crm.order', 'business'),
    ('crm.order_line', 'business'), ('crm.vcard_outbox', 'business'), ('crm.task_assignee', 'business'),
    -- the duplicate check on save records pairs with the saver's rights
    ('crm.possible_duplicate', 'pairs'),
    -- manual dedupe plans: made, edited and applied by supervisors
    ('crm.dedupe_plan', 'plan'), ('crm.dedupe_plan_item', 'plan'), ('crm.dedupe_plan_choice', 'plan'),
    -- imports: begun, applied and read by the role that imports (its rights)
    ('crm.import_batch', 'import'), ('crm.import_reject', 'import'),
    -- crm's own state: read (in reach), written only by crm's functions
    ('crm.merge_log', 'journal'), ('crm.merge_log_row', 'journal'), ('crm.consent_history', 'journal'),
    ('crm.ticket_history', 'journal'),
    ('crm.audit_log', 'audit'),
    ('crm.anonymization_code', 'secret'),
    -- crm's own state about the whole base, whatever a role reaches, or
    -- naming administrators: read by administrators only (the counts of
    -- names, which would tell of clients out of reach; the training runs,
    -- with the role that ran each)
    ('crm.match_training', 'admin'), ('crm.match_frequency', 'admin'), ('crm.match_frequency_total', 'admin'),
    -- the delete journal: copies of deleted clients' rows, for administrators' undo
    ('crm.delete_log', 'admin'), ('crm.delete_log_row', 'admin'),
    ('crm.merge_rule', 'setting'), ('crm.merge_table_rule', 'setting'), ('crm.match_weight', 'setting'),
    ('crm.match_weight_trained', 'setting'),
    ('crm.personal_column', 'setting'), ('crm.user_unit', 'setting'), ('crm.user_campaign', 'setting'),
    ('crm.user_permission', 'setting'), ('crm.data_model', 'setting'),
    -- the views read the tables with the reader's rights (security_invoker)
    ('crm.unit_tree', 'view'), ('crm.client_overview', 'view'), ('crm.client_report', 'view'),
    ('crm.client_policy', 'view'), ('crm.contact_history', 'view'), ('crm.client_custom_value', 'view'),
    ('crm.match_weights_in_use', 'view'), ('crm.personal_data', 'view');
$$;
COMMENT ON FUNCTION crm_internal.model_tables() IS
    'the data model''s tables and views by category (reference, client, client own, business, pairs, plan, import, journal, audit, secret, admin, setting, view): what crm.create_roles() grants and crm.enable_row_security() protects';

-- The columns roles may write: all but identity and generated ones, as a
-- list for GRANT (a column a DBA adds later is granted by the next
-- crm.create_roles()).
CREATE FUNCTION crm_internal.writable_columns(relation text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum)
    FROM pg_attribute a
    WHERE a.attrelid = to_regclass(relation) AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attidentity = '' AND a.attgenerated = ''
      -- hiding, unhiding and anonymizing are crm's functions' (audited)
      AND NOT (to_regclass(relation) = 'crm.client'::regclass
               AND a.attname IN ('hidden_at', 'hidden_reason', 'anonymized_at'));
$$;
COMMENT ON FUNCTION crm_internal.writable_columns(text) IS
    'internal: the columns of a table crm''s roles may insert and update (not identity or generated ones, nor crm.client''s hidden_at, hidden_reason, anonymized_at), as a list for GRANT';

-- The functions of crm's roles (revoked from PUBLIC where they are
-- defined), with the role each needs.  crm.create_roles() grants EXECUTE on
-- them to every crm role, and each checks the level itself
-- (crm_internal.require_supervisor(), require_admin()), so that an agent
-- hears why not and what to do; crm_internal's are granted to the level only.
CREATE FUNCTION crm_internal.role_functions()
    RETURNS TABLE (crm_role text, function_signature text)
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
    ('crm_supervisor', 'crm.merge_clients(bigint[], bigint, jsonb, text, boolean)'),
    ('crm_supervisor', 'crm.merge_client(bigint, bigint, jsonb, text, boolean)'),
    ('crm_supervisor', 'crm.merge_preview(bigint[], bigint)'),
    ('crm_supervisor', 'crm.unmerge(bigint)'),
    ('crm_supervisor', 'crm.hide_client(bigint, text)'),
    ('crm_supervisor', 'crm.unhide_client(bigint)'),
    ('crm_supervisor', 'crm.delete_client(bigint)'),
    ('crm_supervisor', 'crm.dedupe(text[], text)'),
    ('crm_supervisor', 'crm.create_dedupe_plan(text[])'),
    ('crm_supervisor', 'crm.create_dedupe_plan(double precision)'),
    ('crm_supervisor', 'crm.apply_dedupe_plan(bigint, boolean, boolean)'),
    -- the bulk actions act as the caller and audit through it (checks first)
    ('crm_agent', 'crm_internal.audit_bulk(text, bigint[], jsonb)'),
    -- written with crm's rights for a ticket the caller sees
    ('crm_agent', 'crm.add_ticket_note(bigint, text)'),
    ('crm_admin', 'crm.anonymization_code(bigint)'),
    ('crm_admin', 'crm.anonymize(bigint, text)'),
    ('crm_admin', 'crm.delete_client_with_data(bigint, text, bigint)'),
    ('crm_admin', 'crm.undo_delete(bigint)'),
    ('crm_admin', 'crm_internal.anonymize_crm_data(bigint, text)'),
    ('crm_admin', 'crm.user_unit(text, bigint, boolean)'),
    ('crm_admin', 'crm.user_campaign(text, bigint, boolean)'),
    ('crm_admin', 'crm.grant_agent_permission(text, text, boolean)'),
    ('crm_admin', 'crm.set_merge_rule(text, boolean)'),
    ('crm_admin', 'crm.set_merge_table_rule(regclass, text, regprocedure)'),
    ('crm_admin', 'crm.set_match_weight(text, double precision)'),
    ('crm_admin', 'crm.refresh_match_frequencies()'),
    ('crm_admin', 'crm.train_match_weights(integer, double precision, bigint, integer, double precision, double precision, boolean)'),
    ('crm_admin', 'crm.forget_trained_match_weights()'),
    ('crm_admin', 'crm.set_personal_column(regclass, name, text, boolean)');
$$;
COMMENT ON FUNCTION crm_internal.role_functions() IS
    'the functions of crm''s roles, with the role each needs: revoked from PUBLIC, granted by crm.create_roles() to every crm role (crm_internal''s to that role only), each checking the level itself';

CREATE FUNCTION crm.create_roles() RETURNS text
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_model_owner('create crm''s roles',
                                             'The grants are on the data model''s tables, which only their owner grants.');
    RETURN crm_internal.create_roles();
END
$$;
COMMENT ON FUNCTION crm.create_roles() IS
    'creates (if missing) the group roles crm_agent, crm_supervisor, crm_admin and grants each exactly what it needs; run by the data model''s owner; idempotent';

-- The work of crm.create_roles(), without its checks: also run by a data
-- model step, on a model whose version is not yet recorded, so that the
-- tables a new version adds are granted as a fresh install's are.
CREATE FUNCTION crm_internal.create_roles() RETURNS text
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    made text[] := '{}';
BEGIN
    FOR r IN SELECT * FROM unnest(ARRAY['crm_agent', 'crm_supervisor', 'crm_admin']) AS g(name) LOOP
        IF NOT EXISTS (SELECT FROM pg_roles x WHERE x.rolname = r.name) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r.name);
            made := made || r.name;
        END IF;
    END LOOP;
    COMMENT ON ROLE crm_agent IS 'crm: agents read and edit the clients of their units and add linked records';
    COMMENT ON ROLE crm_supervisor IS 'crm: an agent who also merges, hides, deletes and dedupes within its units';
    COMMENT ON ROLE crm_admin IS 'crm: sees every client; anonymizes, dedupes the whole base, manages the structure, catalogs, rules, weights and assignments';
    -- each level has the rights of the one below
    IF NOT pg_has_role('crm_supervisor', 'crm_agent', 'MEMBER') THEN
        GRANT crm_agent TO crm_supervisor;
    END IF;
    IF NOT pg_has_role('crm_admin', 'crm_supervisor', 'MEMBER') THEN
        GRANT crm_supervisor TO crm_admin;
    END IF;

    -- exactly these grants: what an earlier version or a hand granted goes
    FOR r IN SELECT m.relation FROM crm_internal.model_tables() m WHERE to_regclass(m.relation) IS NOT NULL LOOP
        EXECUTE format('REVOKE ALL ON %s FROM crm_agent, crm_supervisor, crm_admin', r.relation);
    END LOOP;
    FOR r IN SELECT m.relation, m.category FROM crm_internal.model_tables() m
             WHERE to_regclass(m.relation) IS NOT NULL LOOP
        IF r.category <> 'secret' THEN
            EXECUTE format('GRANT SELECT ON %s TO %I', r.relation,
                           CASE WHEN r.category IN ('audit', 'plan') THEN 'crm_supervisor'
                                WHEN r.category = 'admin' THEN 'crm_admin' ELSE 'crm_agent' END);
        END IF;
        -- rows get their ids from their sequences: a role that chose ids
        -- could take those of rows it cannot see (and learn they exist) or
        -- the sequence's next ones (and stop everyone's inserts)
        IF r.category IN ('client', 'client own', 'business', 'pairs') THEN
            EXECUTE format('GRANT INSERT (%1$s), UPDATE (%1$s) ON %2$s TO crm_agent',
                           crm_internal.writable_columns(r.relation), r.relation);
        END IF;
        IF r.category IN ('client own', 'pairs') THEN
            EXECUTE format('GRANT DELETE ON %s TO crm_agent', r.relation);
        END IF;
        -- a plan is made by crm.create_dedupe_plan() (its origin; the rest
        -- is the server's) and applied by crm.apply_dedupe_plan(); its
        -- groups are edited by hand
        IF r.relation = 'crm.dedupe_plan' THEN
            EXECUTE format('GRANT INSERT (origin) ON %s TO crm_supervisor', r.relation);
        ELSIF r.category = 'plan' THEN
            EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %s TO crm_supervisor', r.relation);
        END IF;
        IF r.category = 'reference' THEN
            EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %s TO crm_admin', r.relation);
        END IF;
        -- an import writes its batch and rejects with the importer's rights
        IF r.category = 'import' THEN
            EXECUTE format('GRANT INSERT (%1$s), UPDATE (%1$s), DELETE ON %2$s TO crm_agent',
                           crm_internal.writable_columns(r.relation), r.relation);
        END IF;
    END LOOP;
    -- the identity sequences of the tables a role inserts into
    FOR r IN SELECT s.seq, m.category
             FROM crm_internal.model_tables() m,
                  LATERAL (SELECT d.objid::regclass AS seq FROM pg_depend d
                           WHERE d.refobjid = to_regclass(m.relation) AND d.classid = 'pg_class'::regclass
                             AND d.deptype = 'i'
                             AND (SELECT c.relkind FROM pg_class c WHERE c.oid = d.objid) = 'S') s
             WHERE m.category IN ('client', 'client own', 'business', 'pairs', 'plan', 'reference', 'import') LOOP
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %I', r.seq,
                       CASE r.category WHEN 'plan' THEN 'crm_supervisor' WHEN 'reference' THEN 'crm_admin'
                                       ELSE 'crm_agent' END);
    END LOOP;
    FOR r IN SELECT f.crm_role, f.function_signature FROM crm_internal.role_functions() f LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', r.function_signature,
                       CASE WHEN r.function_signature LIKE 'crm\_internal.%' THEN r.crm_role ELSE 'crm_agent' END);
    END LOOP;
    RETURN CASE WHEN cardinality(made) > 0 THEN format('created %s; ', array_to_string(made, ', ')) ELSE '' END
           || 'granted crm_agent, crm_supervisor and crm_admin their rights; '
           || 'GRANT crm_agent (or crm_supervisor, crm_admin) TO a login role, and crm.user_unit() assigns it its units';
END
$$;
COMMENT ON FUNCTION crm_internal.create_roles() IS
    'internal: crm.create_roles() without its checks (also run by data model steps)';
REVOKE ALL ON FUNCTION crm_internal.create_roles() FROM PUBLIC;

--------------------------------------------------------------------------
-- Row-level security by structure
--------------------------------------------------------------------------

-- The policies, by table: made on the ordinary tables by a call (not by
-- the extension's script), so that pg_dump keeps them with the tables.
-- Each reads the session's assignments once per query (the sub-selects
-- are init plans), not once per row.
CREATE FUNCTION crm_internal.row_security_policies()
    RETURNS TABLE (relation text, policy_name text, definition text)
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH reach(sql) AS (VALUES (
        '(SELECT crm_internal.sees_all(current_user::text)) OR unit_id = ANY ((SELECT crm_internal.scope_units(current_user::text))::bigint[])')),
    linked(sql) AS (VALUES (
        '(SELECT crm_internal.sees_all(current_user::text)) OR EXISTS (SELECT FROM crm.client c WHERE c.id = client_id)')),
    -- AC-2: what an agent sees of the work of others and of other campaigns
    agent_work(who, campaign, perm_other, perm_campaigns) AS (VALUES (
        'agent IS NULL OR agent = current_user::text',
        'campaign_id IS NULL OR campaign_id = ANY ((SELECT crm_internal.scope_campaigns(current_user::text))::bigint[])',
        '(SELECT crm_internal.has_agent_permission(current_user::text, ''other_agents_contacts''))',
        '(SELECT crm_internal.has_agent_permission(current_user::text, ''history_all_campaigns''))')),
    -- what an agent does not see it does not change either
    agent_commands(name, command) AS (VALUES ('crm_agent_grants', 'SELECT'), ('crm_agent_grants_update', 'UPDATE'))
    SELECT 'crm.client', 'crm_reach', format('FOR ALL USING (%1$s) WITH CHECK (%1$s)', reach.sql) FROM reach
    UNION ALL
    SELECT m.relation, 'crm_reach', format('FOR ALL USING (%1$s) WITH CHECK (%1$s)', linked.sql)
    FROM crm_internal.model_tables() m, linked
    WHERE m.category IN ('client own', 'business') AND m.relation NOT IN ('crm.order_line', 'crm.task_assignee')
    UNION ALL
    SELECT 'crm.order_line', 'crm_reach',
           'FOR ALL USING (EXISTS (SELECT FROM crm."order" o WHERE o.id = order_id)) WITH CHECK (EXISTS (SELECT FROM crm."order" o WHERE o.id = order_id))'
    UNION ALL
    -- a team task's employees: with their task
    SELECT 'crm.task_assignee', 'crm_reach',
           'FOR ALL USING (EXISTS (SELECT FROM crm.task t WHERE t.id = task_id)) WITH CHECK (EXISTS (SELECT FROM crm.task t WHERE t.id = task_id))'
    UNION ALL
    SELECT 'crm.interaction', p.name,
           format('AS RESTRICTIVE FOR %s USING ((SELECT crm_internal.sees_all_work(current_user::text)) OR ((%s OR %s) AND (%s OR %s)))',
                  p.command, a.who, a.perm_other, a.campaign, a.perm_campaigns)
    FROM agent_work a, agent_commands p
    UNION ALL
    -- an agent records the contacts it handles (or no one's), not another's
    SELECT 'crm.interaction', 'crm_agent_own_contacts',
           'AS RESTRICTIVE FOR INSERT WITH CHECK ((SELECT crm_internal.sees_all_work(current_user::text)) OR agent IS NULL OR agent = current_user::text)'
    UNION ALL
    SELECT 'crm.ticket', p.name,
           'AS RESTRICTIVE FOR ' || p.command || ' USING ((SELECT crm_internal.sees_all_work(current_user::text)) OR ('
           || '(assignee = current_user::text'
           || ' OR (assignee IS NULL AND (SELECT crm_internal.has_agent_permission(current_user::text, ''tickets_unassigned'')))'
           || ' OR (assignee <> current_user::text AND (SELECT crm_internal.has_agent_permission(current_user::text, ''tickets_other_agents''))))'
           || ' AND (campaign_id IS NULL OR campaign_id = ANY ((SELECT crm_internal.scope_campaigns(current_user::text))::bigint[])'
           || ' OR (SELECT crm_internal.has_agent_permission(current_user::text, ''tickets_other_campaigns'')))))'
    FROM agent_commands p
    UNION ALL
    -- crm's journals: a merge is seen with its target and only by a role
    -- that reached every source when it was merged (the journal holds the
    -- sources' rows: after an unmerge, or a merge across units by a
    -- supervisor, a source may be out of the role's reach); a history with
    -- its client
    SELECT 'crm.merge_log', 'crm_reach',
           'FOR SELECT USING ((SELECT crm_internal.sees_all(current_user::text)) OR (EXISTS (SELECT FROM crm.client c WHERE c.id = target_id)'
           || ' AND NOT EXISTS (SELECT FROM jsonb_array_elements(sources) s'
           || ' WHERE ((s.value ->> ''unit_id'')::bigint = ANY ((SELECT crm_internal.scope_units(current_user::text))::bigint[])) IS NOT TRUE)))'
    UNION ALL
    SELECT 'crm.merge_log_row', 'crm_reach',
           'FOR SELECT USING (EXISTS (SELECT FROM crm.merge_log m WHERE m.id = merge_id))'
    UNION ALL
    SELECT 'crm.consent_history', 'crm_reach', format('FOR SELECT USING (%s)', linked.sql) FROM linked
    UNION ALL
    -- a ticket's history is seen exactly when its ticket is
    SELECT 'crm.ticket_history', 'crm_reach',
           'FOR SELECT USING (EXISTS (SELECT FROM crm.ticket t WHERE t.id = ticket_id))'
    UNION ALL
    -- the audit log: entries about clients of the role's units
    SELECT 'crm.audit_log', 'crm_reach', format('FOR SELECT USING (%s)', reach.sql) FROM reach
    UNION ALL
    -- dedupe plans: their maker's, and administrators'
    SELECT 'crm.dedupe_plan', 'crm_reach',
           'FOR ALL USING ((SELECT crm_internal.sees_all(current_user::text)) OR created_by = current_user::text) WITH CHECK ((SELECT crm_internal.sees_all(current_user::text)) OR created_by = current_user::text)'
    UNION ALL
    SELECT p.relation, 'crm_reach',
           'FOR ALL USING (EXISTS (SELECT FROM crm.dedupe_plan p WHERE p.id = plan_id)) WITH CHECK (EXISTS (SELECT FROM crm.dedupe_plan p WHERE p.id = plan_id))'
    FROM (VALUES ('crm.dedupe_plan_item'), ('crm.dedupe_plan_choice')) AS p(relation)
    UNION ALL
    -- imports: their importer's, and administrators'
    SELECT 'crm.import_batch', 'crm_reach',
           'FOR ALL USING ((SELECT crm_internal.sees_all(current_user::text)) OR created_by = current_user::text) WITH CHECK ((SELECT crm_internal.sees_all(current_user::text)) OR created_by = current_user::text)'
    UNION ALL
    SELECT 'crm.import_reject', 'crm_reach',
           'FOR ALL USING (EXISTS (SELECT FROM crm.import_batch b WHERE b.id = batch_id)) WITH CHECK (EXISTS (SELECT FROM crm.import_batch b WHERE b.id = batch_id))';
$$;
COMMENT ON FUNCTION crm_internal.row_security_policies() IS
    'the row-level security policies crm.enable_row_security() makes: by structure on clients, every linked table, the journals and the audit log; AC-2 on contacts and tickets';

CREATE FUNCTION crm.enable_row_security() RETURNS text
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_model_owner('enable row-level security on crm''s tables',
                                             'Policies are made on the data model''s tables, by their owner.');
    RETURN crm_internal.enable_row_security();
END
$$;
COMMENT ON FUNCTION crm.enable_row_security() IS
    'makes (or makes again) crm''s row-level security policies on the data model''s tables: by structure (crm.user_unit) on clients, every linked table, the journals and the audit log, AC-2 on contacts and tickets; run by the data model''s owner; idempotent';

-- The work of crm.enable_row_security(), without its checks (also run by a
-- data model step: the policies of a new version's tables)
CREATE FUNCTION crm_internal.enable_row_security() RETURNS text
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    tables text[] := '{}';
BEGIN
    FOR p IN SELECT * FROM crm_internal.row_security_policies() LOOP
        IF NOT p.relation = ANY (tables) THEN
            EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p.relation);
            tables := tables || p.relation;
        END IF;
        -- made again: a newer version's policy replaces the older one
        IF EXISTS (SELECT FROM pg_policy x WHERE x.polrelid = p.relation::regclass AND x.polname = p.policy_name) THEN
            EXECUTE format('DROP POLICY %I ON %s', p.policy_name, p.relation);
        END IF;
        EXECUTE format('CREATE POLICY %I ON %s %s', p.policy_name, p.relation, p.definition);
    END LOOP;
    RETURN format('row-level security by structure on %s tables', cardinality(tables));
END
$$;
COMMENT ON FUNCTION crm_internal.enable_row_security() IS
    'internal: crm.enable_row_security() without its checks (also run by data model steps)';
REVOKE ALL ON FUNCTION crm_internal.enable_row_security() FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.create_roles(), crm.enable_row_security() FROM PUBLIC;
