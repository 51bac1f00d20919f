--------------------------------------------------------------------------
-- Merge rules (MG-5..MG-7) and what a merge does with each table
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('merge_rules', $model$
-- The merge rules are on unless a row here switches one off.  A table, not
-- a setting: only whoever may write it (the DBA) decides for the database.
CREATE TABLE crm.merge_rule (
    rule    text PRIMARY KEY CHECK (rule IN ('structure', 'sync', 'consent')),
    enabled boolean NOT NULL
);
COMMENT ON TABLE crm.merge_rule IS
    'switches for the merge rules structure (MG-5), sync (MG-6) and consent (MG-7); a rule without a row is on';
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
    'per-table merge rules: move (the default) the source''s rows to the target, drop them, or call handler(source_id bigint, target_id bigint, merge_id bigint)';
COMMENT ON COLUMN crm.merge_table_rule.relation IS 'a table whose rows reference crm.client';
COMMENT ON COLUMN crm.merge_table_rule.action IS
    'move (the source''s rows go to the target), drop (they are deleted, journaled) or function (handler deals with them)';
COMMENT ON COLUMN crm.merge_table_rule.handler IS
    'for action function: a schema-qualified function (source_id bigint, target_id bigint, merge_id bigint); null otherwise';
CREATE TRIGGER merge_table_rule_check BEFORE INSERT OR UPDATE ON crm.merge_table_rule
    FOR EACH ROW EXECUTE FUNCTION crm_internal.merge_table_rule_check();
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

CREATE FUNCTION crm_internal.merge_table_rule_check() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    IF NEW.handler IS NOT NULL AND to_regprocedure(NEW.handler || '(bigint,bigint,bigint)') IS NULL THEN
        RAISE EXCEPTION 'merge handler %(bigint, bigint, bigint) does not exist', NEW.handler
            USING ERRCODE = 'undefined_function',
                  HINT = 'Give a schema-qualified function taking (source_id bigint, target_id bigint, merge_id bigint).';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.merge_table_rule_check() IS 'trigger: a merge handler must exist with the right arguments';

-- The fields a merge may take from a source (field_values); the others are
-- system fields or the structure's business.
CREATE FUNCTION crm.merge_fields() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN ARRAY['kind', 'first_name', 'last_name', 'company_name', 'display_name', 'city',
             'postal_code', 'address', 'pesel', 'nip', 'regon', 'birth_date', 'language',
             'external_id', 'owner'];
COMMENT ON FUNCTION crm.merge_fields() IS 'the client fields whose value a merge can take from a source';

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
