--------------------------------------------------------------------------
-- Duplicates by exact criteria (DU-1, DU-2, CL-8), call identification, bulk dedupe
--------------------------------------------------------------------------

CREATE FUNCTION crm.fold_text(value text) RETURNS text
    AS 'MODULE_PATHNAME', 'fold_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.fold_text(text) IS
    'text as duplicate criteria compare it: white space trimmed and collapsed to single spaces, Unicode case folding (diacritics kept)';

CREATE FUNCTION crm.identify_phone(phone text) RETURNS SETOF bigint
    LANGUAGE plpgsql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM crm_internal.require_data_model();
    RETURN QUERY
    SELECT DISTINCT k.client_id
    FROM crm.contact k JOIN crm.client c ON c.id = k.client_id
    WHERE k.kind = 'phone' AND k.value = crm.normalize_phone(identify_phone.phone)
      AND crm_internal.client_is_visible(c.hidden_at, c.anonymized_at)
    ORDER BY k.client_id;
END
$$;
COMMENT ON FUNCTION crm.identify_phone(text) IS
    'incoming-call identification: the visible clients that have this phone number, typed in any format';

-- The fields a duplicate criterion can name besides phone, email and
-- custom:<name>: every column of crm.client but the id and the system's
-- timestamps.
CREATE FUNCTION crm.find_duplicates(criteria text[])
    RETURNS TABLE (group_id bigint, client_id bigint, is_oldest boolean,
                   created_at timestamptz, display_name text, matched jsonb)
    LANGUAGE plpgsql STABLE
    -- the criteria compare crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    parts text[] := '{}';
    joins text := '';
    crit text;
    typ regtype;
    field record;
    n int := 0;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF criteria IS NULL OR array_position(criteria, NULL) IS NOT NULL
       OR cardinality(criteria) NOT BETWEEN 1 AND 7 THEN
        RAISE EXCEPTION 'duplicates are found by 1 to 7 criteria, not %', coalesce(cardinality(criteria), 0)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example: crm.find_duplicates(ARRAY[''last_name'', ''phone'']).';
    END IF;
    IF (SELECT count(DISTINCT x) FROM unnest(criteria) AS x) < cardinality(criteria) THEN
        RAISE EXCEPTION 'a criterion is named twice: %', array_to_string(criteria, ', ')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    FOREACH crit IN ARRAY criteria LOOP
        n := n + 1;
        IF crit IN ('phone', 'email') THEN
            -- any of the client's phones (E.164) or e-mails (case folded)
            joins := joins || format(' JOIN crm.contact k%1$s ON k%1$s.client_id = c.id AND k%1$s.kind = %2$L', n, crit);
            parts := parts || CASE crit WHEN 'phone' THEN format('k%s.value', n)
                                        ELSE format('crm.fold_text(k%s.value)', n) END;
        ELSIF crit LIKE 'custom:%' THEN
            SELECT * INTO field FROM crm.custom_field f WHERE lower(f.name) = lower(substr(crit, 8));
            IF NOT FOUND THEN
                RAISE EXCEPTION 'custom field "%" does not exist', substr(crit, 8) USING ERRCODE = 'undefined_object';
            END IF;
            joins := joins || format(' JOIN crm.custom_value v%1$s ON v%1$s.client_id = c.id AND v%1$s.field_id = %2$s',
                                     n, field.id);
            parts := parts || CASE field.type WHEN 'number' THEN format('v%s.number_value::text', n)
                                              ELSE format('crm.fold_text(v%s.text_value)', n) END;
        ELSE
            SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
            WHERE a.attrelid = 'crm.client'::regclass AND a.attname = crit AND a.attnum > 0 AND NOT a.attisdropped
              AND a.attname NOT IN ('id', 'created_at', 'updated_at', 'last_contact_at', 'hidden_at', 'hidden_reason',
                                    'anonymized_at');
            IF NOT FOUND THEN
                RAISE EXCEPTION 'unrecognized duplicate criterion "%"', crit
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Name a field of crm.client (first_name, last_name, company_name, city, address, pesel, nip, regon, external_id, ...), phone, email or custom:<field name>.';
            END IF;
            parts := parts || CASE WHEN typ IN ('text'::regtype, 'character varying'::regtype)
                                   THEN format('crm.fold_text(c.%I)', crit)
                                   ELSE format('c.%I::text', crit) END;
        END IF;
    END LOOP;

    -- a client with several phones can stand in several groups
    RETURN QUERY EXECUTE format($q$
        WITH keyed AS (
            SELECT DISTINCT c.id, c.created_at, c.display_name, ARRAY[%1$s] AS key
            FROM crm.client c%2$s
            WHERE crm_internal.client_is_visible(c.hidden_at, c.anonymized_at) AND %3$s
        ), numbered AS (
            SELECT k.key, row_number() OVER (ORDER BY min(k.id), k.key) AS group_id
            FROM keyed k GROUP BY k.key HAVING count(*) > 1
        )
        SELECT g.group_id, k.id,
               row_number() OVER (PARTITION BY g.group_id ORDER BY k.created_at, k.id) = 1,
               k.created_at, k.display_name, jsonb_object($1, k.key)
        FROM numbered g JOIN keyed k ON k.key = g.key
        ORDER BY g.group_id, k.created_at, k.id
        $q$,
        array_to_string(parts, ', '), joins,
        (SELECT string_agg(format('%1$s IS NOT NULL AND %1$s <> %2$L', p, ''), ' AND ') FROM unnest(parts) AS p))
        USING criteria;
END
$$;
COMMENT ON FUNCTION crm.find_duplicates(text[]) IS
    'groups of two or more visible clients that agree on all of 1 to 7 criteria (fields, phone, email, custom:<name>), compared trimmed and case folded; is_oldest marks the earliest created record of each group';

-- SECURITY DEFINER: a dedupe run is crm's own act, audited as one; it
-- finds the groups with crm's rights and keeps, for a role bound to the
-- structure, only the clients it reaches; every merge and delete checks
-- that again.
CREATE FUNCTION crm.dedupe(criteria text[], action text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    g record;
    newest record;
    fields jsonb;
    groups bigint := 0;
    total bigint;
    merged bigint := 0;
    deleted bigint := 0;
    journal bigint[] := '{}';
    skipped jsonb := '[]';
    victim bigint;
    units bigint[];
    started timestamptz := clock_timestamp();
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_supervisor('dedupe clients');
    IF action IS NULL OR action NOT IN ('merge', 'delete', 'delete_with_data') THEN
        RAISE EXCEPTION 'unknown dedupe action "%"', action
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''merge'' (into the oldest record), ''delete'' (all but the oldest) or ''delete_with_data'' (all but the oldest with their linked records, administrators only).';
    END IF;
    -- FCC: the duplicates go with everything linked to them, journaled
    -- (crm.delete_client_with_data(), undone with crm.undo_delete())
    IF action = 'delete_with_data' THEN
        PERFORM crm_internal.require_admin('dedupe clients with their data');
    END IF;
    CREATE TEMP TABLE crm_dedupe_group ON COMMIT DROP AS
        SELECT d.group_id, d.client_id, d.is_oldest, d.created_at FROM crm.find_duplicates(criteria) d;
    -- a role bound to the structure dedupes the clients it reaches: the
    -- others leave their groups, the oldest left is the one kept
    IF NOT crm_internal.sees_all(crm_internal.session_role()) THEN
        units := crm_internal.scope_units(crm_internal.session_role());
        DELETE FROM pg_temp.crm_dedupe_group d
        WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = d.client_id AND c.unit_id = ANY (units));
        DELETE FROM pg_temp.crm_dedupe_group d
        WHERE d.group_id IN (SELECT x.group_id FROM pg_temp.crm_dedupe_group x GROUP BY x.group_id HAVING count(*) < 2);
        UPDATE pg_temp.crm_dedupe_group d SET is_oldest = (d.client_id = k.keep)
        FROM (SELECT x.group_id, (array_agg(x.client_id ORDER BY x.is_oldest DESC, x.created_at, x.client_id))[1] AS keep
              FROM pg_temp.crm_dedupe_group x GROUP BY x.group_id) k
        WHERE k.group_id = d.group_id;
    END IF;
    SELECT count(DISTINCT d.group_id) INTO total FROM pg_temp.crm_dedupe_group d;

    FOR g IN
        SELECT d.group_id,
               (array_agg(d.client_id ORDER BY d.is_oldest DESC, d.created_at, d.client_id))[1] AS keep,
               array_agg(d.client_id ORDER BY d.created_at, d.client_id) FILTER (WHERE NOT d.is_oldest) AS others,
               (array_agg(d.client_id ORDER BY d.created_at DESC, d.client_id DESC))[1] AS newest_id
        FROM pg_temp.crm_dedupe_group d GROUP BY d.group_id ORDER BY d.group_id
    LOOP
        groups := groups + 1;
        IF action = 'merge' THEN
            -- field values from the newest record wherever it has one
            SELECT * INTO newest FROM crm.client c WHERE c.id = g.newest_id;
            SELECT jsonb_object_agg(f, g.newest_id) INTO fields
            FROM unnest(crm.merge_fields()) f
            WHERE g.newest_id <> g.keep AND to_jsonb(newest) ->> f IS NOT NULL;
            BEGIN
                PERFORM crm.merge_clients(g.others, g.keep, fields, 'union');
                merged := merged + cardinality(g.others);
            EXCEPTION
                WHEN insufficient_privilege OR undefined_function OR undefined_table THEN
                    RAISE;
                WHEN OTHERS THEN
                -- a merge rule refused the group: it stays as it was
                skipped := skipped || jsonb_build_object('group_id', g.group_id, 'kept', g.keep,
                                                         'clients', to_jsonb(g.others), 'reason', SQLERRM);
            END;
        ELSIF action = 'delete_with_data' THEN
            FOREACH victim IN ARRAY g.others LOOP
                BEGIN
                    journal := journal || crm.delete_client_with_data(victim, format('dedupe %s', criteria), g.keep);
                    deleted := deleted + 1;
                EXCEPTION WHEN object_not_in_prerequisite_state THEN
                    skipped := skipped || jsonb_build_object('group_id', g.group_id, 'kept', g.keep,
                                                             'clients', jsonb_build_array(victim),
                                                             'reason', SQLERRM);
                END;
            END LOOP;
        ELSE
            FOREACH victim IN ARRAY g.others LOOP
                BEGIN
                    PERFORM crm.delete_client(victim);
                    deleted := deleted + 1;
                EXCEPTION WHEN foreign_key_violation THEN
                    skipped := skipped || jsonb_build_object('group_id', g.group_id, 'kept', g.keep,
                                                             'clients', jsonb_build_array(victim),
                                                             'reason', 'has linked business records: ' || SQLERRM);
                END;
            END LOOP;
        END IF;
        PERFORM crm_internal.report_progress('dedupe', groups, total, started);
    END LOOP;
    DROP TABLE pg_temp.crm_dedupe_group;
    PERFORM crm_internal.audit('dedupe', NULL, jsonb_build_object(
        'criteria', to_jsonb(criteria), 'action', action, 'groups', groups, 'merged', merged, 'deleted', deleted,
        'skipped_clients', (SELECT coalesce(jsonb_agg(c), '[]') FROM jsonb_array_elements(skipped) s,
                                   jsonb_array_elements(s -> 'clients') c)));
    RETURN jsonb_build_object('groups', groups, 'merged', merged, 'deleted', deleted,
                              'skipped', (SELECT coalesce(sum(jsonb_array_length(s -> 'clients')), 0)
                                          FROM jsonb_array_elements(skipped) s),
                              'skipped_detail', skipped)
           -- the journal's ids, for crm.undo_delete()
           || CASE WHEN action = 'delete_with_data' THEN jsonb_build_object('delete_ids', to_jsonb(journal))
                   ELSE '{}' END;
END
$$;
REVOKE ALL ON FUNCTION crm.dedupe(text[], text) FROM PUBLIC;
COMMENT ON FUNCTION crm.dedupe(text[], text) IS
    'bulk dedupe of the find_duplicates groups: merge each into its oldest record (field values from the newest) or delete all but the oldest, skipping and reporting what a rule or a linked business record protects; delete_with_data (administrators): delete all but the oldest with their linked records, journaled (delete_ids, for crm.undo_delete())';
