--------------------------------------------------------------------------
-- Merge rules (MG-5..MG-7) and what a merge does with each table
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('merge_rules', $model$
-- The merge rules are on unless a row here switches one off.  A table, not
-- a setting: administrators decide for the database, through
-- crm.set_merge_rule() (the table belongs to the model's owner).
CREATE TABLE crm.merge_rule (
    rule    text PRIMARY KEY CHECK (rule IN ('structure', 'sync', 'consent')),
    enabled boolean NOT NULL
);
COMMENT ON TABLE crm.merge_rule IS
    'switches for the merge rules structure (MG-5), sync (MG-6) and consent (MG-7); a rule without a row is on; written by crm.set_merge_rule()';
CREATE TRIGGER merge_rule_writer BEFORE INSERT OR UPDATE OR DELETE ON crm.merge_rule
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.set_merge_rule()');
COMMENT ON COLUMN crm.merge_rule.rule IS
    'structure (MG-5: the target is in the source''s unit or below it), sync (MG-6: no synchronized client into an unsynchronized one) or consent (MG-7: a source with consents in force needs a target with some)';
COMMENT ON COLUMN crm.merge_rule.enabled IS
    'false switches the rule off for this database; a rule without a row is on';

-- What a merge does with the rows of a table that references clients.
CREATE TABLE crm.merge_table_rule (
    relation regclass PRIMARY KEY,
    action   text NOT NULL CHECK (action IN ('move', 'drop', 'function')),
    handler  text,
    CONSTRAINT merge_table_rule_handler CHECK ((action = 'function') = (handler IS NOT NULL))
);
COMMENT ON TABLE crm.merge_table_rule IS
    'per-table merge rules: move (the default) the source''s rows to the target, drop them, or call handler(source_id bigint, target_id bigint, merge_id bigint); written by crm.set_merge_table_rule()';
COMMENT ON COLUMN crm.merge_table_rule.relation IS 'a table whose rows reference crm.client';
COMMENT ON COLUMN crm.merge_table_rule.action IS
    'move (the source''s rows go to the target), drop (they are deleted, journaled) or function (handler deals with them)';
COMMENT ON COLUMN crm.merge_table_rule.handler IS
    'for action function: the function as regprocedure prints it, schema-qualified (schema.name(bigint,bigint,bigint)), owned by a superuser or the data model''s owner; null otherwise';
CREATE TRIGGER merge_table_rule_check BEFORE INSERT OR UPDATE ON crm.merge_table_rule
    FOR EACH ROW EXECUTE FUNCTION crm_internal.merge_table_rule_check();
CREATE TRIGGER merge_table_rule_writer BEFORE INSERT OR UPDATE OR DELETE ON crm.merge_table_rule
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.set_merge_table_rule()');
$model$);

--------------------------------------------------------------------------
-- Merging clients (MG-1 to MG-10): rules, registry, journal, undo
--------------------------------------------------------------------------

-- A table's schema-qualified name, whatever the search path.
CREATE FUNCTION crm_internal.relation_name(relation regclass) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN relation::text;
COMMENT ON FUNCTION crm_internal.relation_name(regclass) IS
    'a table''s schema-qualified name (as regclass prints it with no schema on the search path)';

CREATE FUNCTION crm_internal.merge_rule_enabled(rule text) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT r.enabled FROM crm.merge_rule r WHERE r.rule = merge_rule_enabled.rule), true);
$$;
COMMENT ON FUNCTION crm_internal.merge_rule_enabled(text) IS 'whether a merge rule is on in this database';

-- crm's settings (the merge rules, the per-table rules, the weights of
-- duplicate evidence, the personal columns) steer what crm's functions do
-- with other roles' rights: only the data model's owner and superusers
-- write them, in practice through the administrators' SECURITY DEFINER
-- setters (crm.set_merge_rule() ...).  A statement trigger holds that even
-- where a broad grant (GRANT ... ON ALL TABLES IN SCHEMA crm) gave a role
-- INSERT or UPDATE on them.  TG_ARGV[0]: the setter to name in the hint.
CREATE FUNCTION crm_internal.settings_writer_check() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT crm_internal.writer_is_trusted() THEN
        RAISE EXCEPTION 'permission denied to change %.%', TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('crm''s settings are written only by the data model''s owner (%s) or a superuser, not by role %s.',
                                  crm_internal.model_owner()::regrole, current_user),
                  HINT = format('An administrator (a member of crm_admin) calls %s.', TG_ARGV[0]);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.settings_writer_check() IS
    'statement trigger on crm''s settings tables: 42501 unless the writer is the data model''s owner (or a member of it) or a superuser; administrators use the crm.set_* functions';

-- A merge handler as crm.merge_table_rule stores it (regprocedure text),
-- resolved: null if it names no function of (bigint, bigint, bigint)
-- (to_regprocedure() of PostgreSQL 15 still raises on malformed text).
CREATE FUNCTION crm_internal.merge_handler(handler text) RETURNS regprocedure
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    BEGIN
        f := to_regprocedure(handler);
    EXCEPTION WHEN OTHERS THEN
        RETURN NULL;
    END;
    IF f IS NULL OR NOT EXISTS (SELECT FROM pg_proc p WHERE p.oid = f AND p.prokind = 'f'
                                AND p.proargtypes = '20 20 20'::oidvector) THEN
        RETURN NULL;
    END IF;
    RETURN f;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_handler(text) IS
    'internal: the function a stored merge handler names, if it is a function of (bigint, bigint, bigint); null otherwise';

-- A handler's schema-qualified name, whatever the search path: stored with
-- its arguments' types, called with them (they pick exactly this function).
CREATE FUNCTION crm_internal.merge_handler_name(handler regprocedure) RETURNS text
    LANGUAGE sql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('%I.%I', n.nspname, p.proname)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = handler;
$$;
COMMENT ON FUNCTION crm_internal.merge_handler_name(regprocedure) IS
    'internal: the schema-qualified name of a merge handler';

-- Why a merge must not run this handler: null if it may.  Only code a
-- trusted role (a superuser, the data model's owner) owns runs inside a
-- merge, whoever merges: a merge (SECURITY DEFINER) would run a function
-- of another owner with crm's owner's rights.
CREATE FUNCTION crm_internal.merge_handler_untrusted(handler regprocedure) RETURNS text
    LANGUAGE sql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('Function %s belongs to role %s, which is neither a superuser nor the data model''s owner (%s); a merge would run it with crm''s owner''s rights.',
                  handler, p.proowner::regrole, crm_internal.model_owner()::regrole)
    FROM pg_proc p
    WHERE p.oid = handler AND NOT crm_internal.is_trusted_role(p.proowner);
$$;
COMMENT ON FUNCTION crm_internal.merge_handler_untrusted(regprocedure) IS
    'internal: why a merge must not run this handler (its owner is neither a superuser nor the data model''s owner), as an error detail; null if it may';

CREATE FUNCTION crm_internal.merge_table_rule_check() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    f regprocedure;
    untrusted text;
BEGIN
    IF NEW.handler IS NOT NULL THEN
        f := crm_internal.merge_handler(NEW.handler);
        IF f IS NULL THEN
            RAISE EXCEPTION 'merge handler % is not a function of (bigint, bigint, bigint)', NEW.handler
                USING ERRCODE = 'undefined_function',
                      HINT = 'Give a schema-qualified function taking (source_id bigint, target_id bigint, merge_id bigint), as in public.f(bigint,bigint,bigint); crm.set_merge_table_rule() stores it so.';
        END IF;
        -- a warning, not an error: a restore may load this before the
        -- functions' owners are set; a merge refuses to run it meanwhile
        untrusted := crm_internal.merge_handler_untrusted(f);
        IF untrusted IS NOT NULL THEN
            RAISE WARNING 'merges will refuse to run merge handler %', f
                USING DETAIL = untrusted,
                      HINT = 'Have the data model''s owner or a superuser own the function.';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_table_rule_check() IS
    'trigger: a merge handler must name a function of (bigint, bigint, bigint); warns when its owner is not trusted (merges refuse to run it)';

-- The administrators' switches (MG-5..MG-7).
CREATE FUNCTION crm.set_merge_rule(rule text, enabled boolean) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('change merge rules');
    IF rule IS NULL OR rule NOT IN ('structure', 'sync', 'consent') THEN
        RAISE EXCEPTION 'unknown merge rule "%"', rule
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of: structure, sync, consent.';
    END IF;
    PERFORM crm_internal.write_setting('crm.merge_rule', jsonb_build_object('rule', rule, 'enabled', enabled),
                                       enabled IS NOT NULL, 'merge rule');
END
$$;
COMMENT ON FUNCTION crm.set_merge_rule(text, boolean) IS
    'administrators: switches the merge rule structure, sync or consent on (true) or off (false) for the database; null goes back to the default (on); audited';

-- What a merge does with one table that references clients.
CREATE FUNCTION crm.set_merge_table_rule(relation regclass, action text, handler regprocedure DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    handler_text text;
    untrusted text;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('change merge table rules');
    IF relation IS NULL THEN
        RAISE EXCEPTION 'relation must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT FROM crm.client_references() r WHERE r.relation = set_merge_table_rule.relation) THEN
        RAISE EXCEPTION 'table % does not reference crm.client', relation
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A merge rule is for a table with a foreign key to crm.client.',
                  HINT = 'Add the foreign key first.';
    END IF;
    IF action IS NOT NULL AND action NOT IN ('move', 'drop', 'function') THEN
        RAISE EXCEPTION 'unknown merge table action "%"', action
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of: move, drop, function (null deletes the rule).';
    END IF;
    IF action IS DISTINCT FROM 'function' AND handler IS NOT NULL THEN
        RAISE EXCEPTION 'a merge handler is only for action function'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Action %s takes no handler; %s was given.', coalesce(action, 'null'), handler);
    END IF;
    IF action = 'function' THEN
        IF handler IS NULL THEN
            RAISE EXCEPTION 'action function needs a handler'
                USING ERRCODE = 'null_value_not_allowed',
                      HINT = 'Give a function of (source_id bigint, target_id bigint, merge_id bigint).';
        END IF;
        IF crm_internal.merge_handler(handler::text) IS NULL THEN
            RAISE EXCEPTION 'merge handler % is not a function of (bigint, bigint, bigint)', handler
                USING ERRCODE = 'undefined_function',
                      HINT = 'A merge calls handler(source_id bigint, target_id bigint, merge_id bigint).';
        END IF;
        untrusted := crm_internal.merge_handler_untrusted(handler);
        IF untrusted IS NOT NULL THEN
            RAISE EXCEPTION 'permission denied to register merge handler %', handler
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = untrusted,
                      HINT = format('Have the data model''s owner (%s) or a superuser create the function, or take it over (ALTER FUNCTION ... OWNER TO %s), then register it.',
                                    crm_internal.model_owner()::regrole, crm_internal.model_owner()::regrole);
        END IF;
        -- schema-qualified whatever the search path; the merge resolves it again
        handler_text := crm_internal.merge_handler_name(handler) || '(bigint,bigint,bigint)';
    END IF;
    PERFORM crm_internal.write_setting('crm.merge_table_rule',
                                       jsonb_build_object('relation', relation, 'action', action, 'handler', handler_text),
                                       action IS NOT NULL, 'merge table rule');
END
$$;
COMMENT ON FUNCTION crm.set_merge_table_rule(regclass, text, regprocedure) IS
    'administrators: what a merge does with a table that references crm.client: move (its rows go to the target), drop (deleted, journaled) or function (handler(source_id, target_id, merge_id), owned by a superuser or the data model''s owner); action null deletes the rule; audited';
REVOKE ALL ON FUNCTION crm.set_merge_rule(text, boolean),
                       crm.set_merge_table_rule(regclass, text, regprocedure) FROM PUBLIC;

-- The fields a merge may take from a source (field_values), read from the
-- table as it is: crm.client's columns, a DBA's own added ones too, then the
-- custom fields (custom:<name>).  Not the system's fields, nor the
-- structure's (unit_id, synced: the merge rules' business).
CREATE FUNCTION crm.merge_fields() RETURNS text[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regclass('crm.client') IS NULL THEN
        RETURN '{}';
    END IF;
    RETURN ARRAY(
        SELECT f.name
        FROM (SELECT a.attname::text AS name, 1 AS part, a.attnum AS pos
              FROM pg_attribute a
              WHERE a.attrelid = 'crm.client'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                AND a.attgenerated = ''
                AND a.attname <> ALL (crm_internal.merge_system_fields() || '{unit_id,synced}'::text[])
              UNION ALL
              SELECT 'custom:' || cf.name, 2, 0 FROM crm.custom_field cf) AS f
        ORDER BY f.part, f.pos, f.name);
END
$$;
COMMENT ON FUNCTION crm.merge_fields() IS
    'the client fields whose value a merge can take from a source: crm.client''s columns (a DBA''s own too) but the system''s and the structure''s, then custom:<name> for each custom field';

-- MG-4: what a merge does with each field, one home for the merge, its
-- preview and the dedupe plan.  Empty: null, or an empty string (a display
-- name that only follows the names too).  A row per
-- field where something is to decide:
--   fill      the target's is empty, the sources that have one agree: the
--             value is taken from the first of them (kept_from);
--   conflict  two records hold different values and field_values says
--             nothing: kept_from is the target (or, the target's being
--             empty, the first source that has one);
--   chosen    field_values names the record whose value stays (kept_from).
-- client_values: every record's value, {"<client id>": value}.
CREATE FUNCTION crm_internal.merge_field_plan(target_id bigint, source_ids bigint[], field_values jsonb)
    RETURNS TABLE (field text, action text, kept_from bigint, client_values jsonb)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    ids bigint[] := target_id || source_ids;
    fields text[] := crm.merge_fields();
BEGIN
    RETURN QUERY
    WITH val AS (
        -- a display name that only follows the names counts as empty: the
        -- names are the fields, it follows them
        SELECT c.id, f.key AS field,
               CASE WHEN f.key = 'display_name' AND c.display_name IS NOT DISTINCT FROM
                         crm_internal.client_default_display_name(c.kind, c.first_name, c.last_name, c.company_name)
                    THEN 'null'::jsonb ELSE f.value END
        FROM crm.client c, jsonb_each(to_jsonb(c)) AS f
        WHERE c.id = ANY (ids) AND f.key = ANY (fields)
        UNION ALL
        SELECT c.id, 'custom:' || cf.name, coalesce(to_jsonb(v.number_value), to_jsonb(v.text_value), 'null')
        FROM crm.client c CROSS JOIN crm.custom_field cf
        LEFT JOIN crm.custom_value v ON v.client_id = c.id AND v.field_id = cf.id
        WHERE c.id = ANY (ids)
    ), marked AS (
        SELECT v.*, array_position(ids, v.id) AS pos,
               v.value IS NOT NULL AND v.value NOT IN ('null'::jsonb, '""'::jsonb) AS filled,
               (SELECT (e.value #>> '{}')::bigint FROM jsonb_each(coalesce(field_values, '{}')) AS e
                WHERE e.key = v.field OR (e.key LIKE 'custom:%' AND lower(e.key) = lower(v.field))
                LIMIT 1) AS chosen
        FROM val v
    ), per_field AS (
        SELECT m.field,
               min(m.chosen) AS chosen,
               bool_or(m.filled AND m.id = target_id) AS target_filled,
               count(DISTINCT m.value) FILTER (WHERE m.filled) AS distinct_values,
               bool_or(m.filled AND m.id <> target_id) AS source_filled,
               (array_agg(m.id ORDER BY m.pos) FILTER (WHERE m.filled))[1] AS first_filled,
               jsonb_object_agg(m.id::text, m.value ORDER BY m.pos) AS client_values,
               min(array_position(fields, m.field)) AS ord
        FROM marked m
        GROUP BY m.field
    )
    SELECT p.field,
           CASE WHEN p.chosen IS NOT NULL THEN 'chosen'
                WHEN p.distinct_values > 1 THEN 'conflict'
                ELSE 'fill' END,
           coalesce(p.chosen, CASE WHEN p.target_filled THEN target_id ELSE p.first_filled END),
           p.client_values
    FROM per_field p
    WHERE p.chosen IS NOT NULL OR p.distinct_values > 1 OR (NOT p.target_filled AND p.source_filled)
    ORDER BY p.ord, p.field;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_field_plan(bigint, bigint[], jsonb) IS
    'internal, MG-4: per field of a merge, fill (empty on the target, taken from a source), conflict (different values, no choice) or chosen, the record whose value stays, and every record''s value';
-- (executable by any role: it reads with the caller's rights, which the
-- dedupe plan's preview has)

-- The refusal of a strict merge (CR004): the one home of its words, for
-- crm.merge_clients() and crm.apply_dedupe_plan().  The DETAIL names the
-- fields and the records holding a value, not the values (server logs keep
-- DETAILs).
CREATE FUNCTION crm_internal.merge_refuse_conflicts(conflicts jsonb, what text, hint text)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    RAISE EXCEPTION 'cannot merge %: % field(s) hold different values and no choice was given', what,
                    jsonb_array_length(conflicts)
        USING ERRCODE = 'CR004',
              DETAIL = 'Fields in conflict: ' || (
                  SELECT string_agg(format('%s (clients %s)', c ->> 'field',
                                           (SELECT string_agg(k.key, ', ' ORDER BY k.key::bigint)
                                            FROM jsonb_each(coalesce(c -> 'client_values', c -> 'values')) AS k
                                            WHERE k.value NOT IN ('null'::jsonb, '""'::jsonb))),
                                    '; ' ORDER BY o.n)
                  FROM jsonb_array_elements(conflicts) WITH ORDINALITY AS o(c, n)) || '.',
              HINT = hint;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_refuse_conflicts(jsonb, text, text) IS
    'internal: raises CR004, a strict merge refused while fields hold different values without a choice';

-- The fields an undo leaves as they are: identity and the system's own.
CREATE FUNCTION crm_internal.merge_system_fields() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN ARRAY['id', 'created_at', 'source', 'updated_at', 'last_contact_at', 'hidden_at', 'hidden_reason',
             'anonymized_at'];
COMMENT ON FUNCTION crm_internal.merge_system_fields() IS
    'the client fields an undo leaves alone: the id and the fields the system keeps';

-- What a merge does with one table: the registry's rule, else the built-in
-- one (consents are not carried, MG-7; contacts follow the contacts mode).
CREATE FUNCTION crm_internal.merge_table_action(relation regclass, contacts text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        (SELECT r.action FROM crm.merge_table_rule r WHERE r.relation = merge_table_action.relation),
        CASE WHEN relation = 'crm.consent'::regclass THEN 'drop'
             WHEN relation = 'crm.contact'::regclass AND contacts = 'target' THEN 'drop'
             ELSE 'move' END);
$$;
COMMENT ON FUNCTION crm_internal.merge_table_action(regclass, text) IS
    'internal: move, drop or function, for the rows of a table in a merge';

-- The merge rules for each source into the target: one row per rule and
-- source, whether it passes, and the error that refuses it.  One home for
-- the rules: crm.merge_clients() raises the first failure, crm.merge_preview()
-- shows them all.
CREATE FUNCTION crm_internal.merge_rule_check(source_ids bigint[], target_id bigint)
    RETURNS TABLE (rule text, source_id bigint, enabled boolean, passes boolean,
                   sqlstate text, message text, detail text, hint text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    t record;
    s record;
    t_path text;
    s_path text;
    s_consents bigint;
    t_consents bigint;
    reverse_hint text;
BEGIN
    SELECT * INTO t FROM crm.client c WHERE c.id = merge_rule_check.target_id;
    SELECT count(*) INTO t_consents FROM crm.consent k
    WHERE k.client_id = t.id AND k.withdrawn_at IS NULL;
    FOR s IN SELECT c.* FROM crm.client c WHERE c.id = ANY (source_ids) ORDER BY c.id LOOP
        source_id := s.id;
        SELECT count(*) INTO s_consents FROM crm.consent k
        WHERE k.client_id = s.id AND k.withdrawn_at IS NULL;
        -- the reverse merge is the fix only if every enabled rule lets it pass
        reverse_hint := CASE WHEN
                (NOT crm_internal.merge_rule_enabled('structure')
                 OR t.unit_id IS NULL OR (s.unit_id IS NOT NULL AND crm.unit_contains(t.unit_id, s.unit_id)))
                AND (NOT crm_internal.merge_rule_enabled('sync') OR NOT (t.synced AND NOT s.synced))
                AND (NOT crm_internal.merge_rule_enabled('consent') OR NOT (t_consents > 0 AND s_consents = 0))
            THEN format('Merge client %s into client %s instead.', t.id, s.id) END;

        -- MG-5: the target's unit is the source's or lies below it (no unit: the top)
        rule := 'structure';
        enabled := crm_internal.merge_rule_enabled(rule);
        passes := s.unit_id IS NULL OR (t.unit_id IS NOT NULL AND crm.unit_contains(s.unit_id, t.unit_id));
        IF NOT passes THEN   -- the paths only for the message
            t_path := coalesce((SELECT u.path FROM crm.unit_tree u WHERE u.id = t.unit_id), 'no unit');
            s_path := coalesce((SELECT u.path FROM crm.unit_tree u WHERE u.id = s.unit_id), 'no unit');
        END IF;
        sqlstate := 'CR001';
        message := format('cannot merge client %s into client %s: the target is not in the source''s part of the structure',
                          s.id, t.id);
        detail := format('Client %s is in unit %s (%s); client %s is in unit %s (%s). A client can be merged only into a client in its own unit or below it.',
                         s.id, coalesce(s.unit_id::text, 'none'), s_path,
                         t.id, coalesce(t.unit_id::text, 'none'), t_path);
        hint := coalesce(reverse_hint, 'Move one of the clients to a unit within the other''s first.');
        RETURN NEXT;

        -- MG-6: a synchronized client does not go into an unsynchronized one
        rule := 'sync';
        enabled := crm_internal.merge_rule_enabled(rule);
        passes := NOT (s.synced AND NOT t.synced);
        sqlstate := 'CR002';
        message := format('cannot merge synchronized client %s into unsynchronized client %s', s.id, t.id);
        detail := format('Client %s is synchronized (its data is complete); client %s is not.', s.id, t.id);
        hint := coalesce(reverse_hint, format('Complete client %s''s data and mark it synchronized first.', t.id));
        RETURN NEXT;

        -- MG-7: consents are not carried, so a source with consents needs a
        -- target that has its own
        rule := 'consent';
        enabled := crm_internal.merge_rule_enabled(rule);
        passes := NOT (s_consents > 0 AND t_consents = 0);
        sqlstate := 'CR003';
        message := format('cannot merge client %s, which has consents, into client %s, which has none', s.id, t.id);
        detail := format('Client %s has %s consent(s) in force; client %s has none, and consents are not carried by a merge (their confirming documents are).',
                         s.id, s_consents, t.id);
        hint := coalesce(reverse_hint, format('Record client %s''s consents first.', t.id));
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_rule_check(bigint[], bigint) IS
    'the merge rules (structure, sync, consent) for each source into the target: enabled, passes, and the refusal''s SQLSTATE, message, detail and hint';
