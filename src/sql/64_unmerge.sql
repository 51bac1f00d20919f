--------------------------------------------------------------------------
-- Undoing a merge
--------------------------------------------------------------------------

-- SQL matching a moved row's journal entry (alias e: its key, or the row
-- where the table has no primary key) to the row t: by the primary key, less
-- the key columns the move changed (a key of only those leaves the target's
-- one row), or by its contents.
CREATE FUNCTION crm_internal.merge_row_match(relation regclass, columns name[]) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT CASE
        WHEN pk.n = 0 THEN
            format('to_jsonb(t) - %L::text[] = e.item - %L::text[]', columns, columns)
        WHEN pk.cols IS NULL THEN 'true'
        ELSE format('(%s) = (SELECT %s FROM jsonb_populate_record(NULL::%s, e.item) k)',
                    (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(pk.cols) AS c),
                    (SELECT string_agg(format('k.%I', c), ', ') FROM unnest(pk.cols) AS c),
                    relation) END
    FROM (SELECT count(*) AS n,
                 array_agg(a.attname ORDER BY k.n) FILTER (WHERE a.attname <> ALL (columns)) AS cols
          FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attnum = k.attnum
          WHERE i.indrelid = relation AND i.indisprimary AND a.attrelid = relation) AS pk;
END;
COMMENT ON FUNCTION crm_internal.merge_row_match(regclass, name[]) IS
    'internal: SQL text matching a journaled moved row (alias e) to its row in the table (alias t)';

-- One way to put journaled rows back, for every journal that keeps copies
-- of rows (crm.merge_log_row, crm.delete_log_row): rows, a JSON array of
-- to_jsonb() copies of one table's rows, go in again with their ids
-- (OVERRIDING SYSTEM VALUE); a column added to the table since takes its
-- default, as it did for the rows there then.  Returns how many went in.
CREATE FUNCTION crm_internal.restore_rows(relation regclass, rows jsonb) RETURNS bigint
    LANGUAGE plpgsql
    -- a key may use crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    cols text;
    r_cols text;
    n bigint;
BEGIN
    IF rows IS NULL OR jsonb_array_length(rows) = 0 THEN
        RETURN 0;
    END IF;
    SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum),
           string_agg(format('r.%I', a.attname), ', ' ORDER BY a.attnum)
    INTO cols, r_cols
    FROM pg_attribute a
    WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      AND EXISTS (SELECT FROM jsonb_array_elements(rows) AS e(item) WHERE e.item ? a.attname);
    EXECUTE format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM jsonb_populate_recordset(NULL::%s, $1) AS r',
                   relation, cols, r_cols, relation)
        USING rows;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION crm_internal.restore_rows(regclass, jsonb) IS
    'internal: inserts journaled copies of rows (a JSON array) back into their table with their ids; returns the count';

-- The order in which journaled rows of several tables go back: a table
-- whose rows reference another's (by a foreign key) after it (consents
-- after the documents confirming them, order lines after their orders);
-- deleting goes the other way.
CREATE FUNCTION crm_internal.restore_order(relations regclass[])
    RETURNS TABLE (relation regclass, level integer)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH RECURSIVE edge(child, parent) AS (
        SELECT DISTINCT con.conrelid::regclass, con.confrelid::regclass
        FROM pg_constraint con
        WHERE con.contype = 'f' AND con.conrelid = ANY (relations) AND con.confrelid = ANY (relations)
          AND con.conrelid <> con.confrelid
    ), walk(relation, level) AS (
        SELECT DISTINCT r.r, 0 FROM unnest(relations) AS r(r)
        UNION
        -- bounded: a cycle of foreign keys stops at the number of tables
        SELECT e.child, w.level + 1 FROM walk w JOIN edge e ON e.parent = w.relation
        WHERE w.level < cardinality(relations)
    )
    SELECT w.relation, max(w.level) FROM walk w GROUP BY w.relation ORDER BY max(w.level), w.relation::text;
END;
COMMENT ON FUNCTION crm_internal.restore_order(regclass[]) IS
    'internal: the tables in the order their journaled rows go back (level 0 first; a table referencing another comes after it)';

-- SECURITY DEFINER, like the merge: the journal it reads is written only
-- by crm.merge_clients() (no other role may write crm.merge_log or
-- crm.merge_log_row), and it still acts only on tables that reference
-- crm.client and whose code is trusted roles'.  The session's role must
-- reach the merge's clients.
CREATE FUNCTION crm.unmerge(merge_id bigint) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    m record;
    caller text := crm_internal.session_role();
    scoped boolean;
    units bigint[];
    journaled boolean;
    later record;
    grp record;
    ref record;
    found_rows bigint;
    problem text;
    field text;
    cols text;
BEGIN
    PERFORM crm_internal.require_data_model();
    -- an undo brings back records the check on save knew: it stays out
    PERFORM set_config('crm_merge.in_progress', 'on', true);
    PERFORM crm_internal.require_supervisor('undo merges');
    scoped := NOT crm_internal.sees_all(caller);
    units := crm_internal.scope_units(caller);
    -- AC-3: a merge whose clients the caller does not reach gets the same
    -- answer as one that does not exist; checked before the lock, so that a
    -- refused caller never waits on another's undo of it
    SELECT * INTO m FROM crm.merge_log l WHERE l.id = unmerge.merge_id;
    journaled := FOUND;
    IF scoped AND (NOT journaled
                   OR NOT EXISTS (SELECT FROM crm.client c WHERE c.id = m.target_id AND c.unit_id = ANY (units))
                   OR EXISTS (SELECT FROM jsonb_array_elements(m.sources) AS s
                              WHERE NOT coalesce((s ->> 'unit_id')::bigint = ANY (units), false))) THEN
        PERFORM crm_internal.refuse_out_of_reach(format('undo merge %s', merge_id),
                                                 'this merge does not exist or its clients lie outside them');
    END IF;
    SELECT * INTO m FROM crm.merge_log l WHERE l.id = unmerge.merge_id FOR UPDATE;
    journaled := FOUND;
    IF NOT journaled THEN
        RAISE EXCEPTION 'merge % does not exist', merge_id USING ERRCODE = 'no_data_found';
    END IF;
    IF m.anonymized_at IS NOT NULL THEN
        RAISE EXCEPTION 'merge % cannot be undone', merge_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('A client of it was anonymized at %s: the copies an undo needs are gone for good.',
                                  m.anonymized_at);
    END IF;
    IF m.undone_at IS NOT NULL THEN
        RAISE EXCEPTION 'merge % was already undone', merge_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('%s undid it at %s.', m.undone_by, m.undone_at);
    END IF;
    IF EXISTS (SELECT FROM crm.merge_log_row r WHERE r.merge_id = m.id AND r.action = 'function') THEN
        RAISE EXCEPTION 'merge % cannot be undone', m.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Merge handlers ran for %s; what they did is theirs to undo.',
                                  (SELECT string_agg(DISTINCT crm_internal.relation_name(r.relation), ', ') FROM crm.merge_log_row r
                                   WHERE r.merge_id = m.id AND r.action = 'function'));
    END IF;

    IF EXISTS (SELECT FROM crm.merge_log_row r
               WHERE r.merge_id = m.id AND r.action = 'moved' AND r.row_key IS NULL) THEN
        RAISE EXCEPTION 'merge % cannot be undone', m.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It moved rows of %s, which has no primary key to find them by.',
                                  (SELECT string_agg(DISTINCT crm_internal.relation_name(r.relation), ', ') FROM crm.merge_log_row r
                                   WHERE r.merge_id = m.id AND r.action = 'moved' AND r.row_key IS NULL));
    END IF;
    -- the target locked first (a merge into it holds it until it commits):
    -- a merge into it committed while this undo waited is seen below
    PERFORM FROM crm.client c WHERE c.id = m.target_id FOR UPDATE;
    -- later merges into the same target may have folded into what this one
    -- brought: they are undone first, last first
    SELECT * INTO later FROM crm.merge_log l
    WHERE l.target_id = m.target_id AND l.id > m.id AND l.undone_at IS NULL
    ORDER BY l.id DESC LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cannot undo merge %: merge % merged into client % since', m.id, later.id, m.target_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Undo merge %s first.', later.id);
    END IF;

    PERFORM FROM crm.client c WHERE c.id = m.target_id;
    IF NOT FOUND THEN
        SELECT * INTO later FROM crm.merge_log l
        WHERE l.source_ids @> ARRAY[m.target_id] AND l.undone_at IS NULL AND l.id > m.id
        ORDER BY l.id DESC LIMIT 1;
        RAISE EXCEPTION 'cannot undo merge %: client % no longer exists', m.id, m.target_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = CASE WHEN later.id IS NOT NULL
                              THEN format('Merge %s merged it into client %s since: undo merge %s first.',
                                          later.id, later.target_id, later.id)
                              ELSE 'It was deleted since; the merge cannot be undone.' END;
    END IF;
    IF EXISTS (SELECT FROM crm.client c WHERE c.id = ANY (m.source_ids)) THEN
        RAISE EXCEPTION 'cannot undo merge %: client % exists again', m.id,
                        (SELECT min(c.id) FROM crm.client c WHERE c.id = ANY (m.source_ids))
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    -- the fields the merge changed (chosen, or derived from them: a PESEL's
    -- birth date) still hold what it set
    FOR field IN SELECT b.key FROM jsonb_each(m.target_before) AS b
                 WHERE b.key <> ALL (crm_internal.merge_system_fields())
                   AND b.value IS DISTINCT FROM m.target_after -> b.key LOOP
        IF (SELECT to_jsonb(c) -> field FROM crm.client c WHERE c.id = m.target_id)
           IS DISTINCT FROM m.target_after -> field THEN
            RAISE EXCEPTION 'cannot undo merge %: field % of client % changed since', m.id, field, m.target_id
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The merge set it to %s; it is now %s.', m.target_after -> field,
                                      (SELECT to_jsonb(c) -> field FROM crm.client c WHERE c.id = m.target_id));
        END IF;
    END LOOP;

    -- every table the journal names still references crm.client, and crm
    -- may still write it
    FOR grp IN SELECT DISTINCT r.relation FROM crm.merge_log_row r WHERE r.merge_id = m.id LOOP
        IF NOT EXISTS (SELECT FROM crm.client_references() x WHERE x.relation = grp.relation) THEN
            RAISE EXCEPTION 'cannot undo merge %: table % does not reference crm.client', m.id,
                            crm_internal.relation_name(grp.relation)
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'The journal names a table no merge writes: correct the records by hand.';
        END IF;
        PERFORM crm_internal.require_trusted_table(grp.relation, format('undo merge %s', m.id));
    END LOOP;

    -- every moved row is still where the merge put it
    FOR grp IN SELECT r.relation, r.constraint_name,
                      sum(jsonb_array_length(coalesce(r.row_key, r.row_data))) AS moved
               FROM crm.merge_log_row r WHERE r.merge_id = m.id AND r.action = 'moved'
               GROUP BY r.relation, r.constraint_name LOOP
        SELECT * INTO ref FROM crm.client_references() x
        WHERE x.relation = grp.relation AND x.constraint_name = grp.constraint_name;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'cannot undo merge %: the foreign key % of % is gone',
                            m.id, grp.constraint_name, crm_internal.relation_name(grp.relation)
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        EXECUTE format('SELECT count(*) FROM %s t, crm.merge_log_row j,
                             jsonb_array_elements(coalesce(j.row_key, j.row_data)) AS e(item)
                        WHERE j.merge_id = $1 AND j.relation = $3 AND j.constraint_name = $4 AND j.action = ''moved''
                          AND %s AND %s',
                       crm_internal.relation_scan(grp.relation), crm_internal.merge_row_match(grp.relation, ref.columns),
                       crm_internal.client_reference_condition(ref.columns, ref.client_columns, 2))
            INTO found_rows USING m.id, m.target_id, grp.relation, grp.constraint_name;
        IF found_rows <> grp.moved THEN
            RAISE EXCEPTION 'cannot undo merge %: % of the % rows it moved into % were deleted or moved since',
                            m.id, grp.moved - found_rows, grp.moved, crm_internal.relation_name(grp.relation)
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Put those rows back on the client first, or correct the records by hand.';
        END IF;
    END LOOP;

    -- undo: the source clients come back with their ids ...
    -- (only the columns the journal holds: a column added to the table since
    -- the merge takes its default, as it did for the rows there then)
    BEGIN
        PERFORM crm_internal.restore_rows('crm.client', m.sources);
    EXCEPTION WHEN foreign_key_violation OR check_violation THEN
        RAISE EXCEPTION 'cannot undo merge %: a merged client no longer fits', m.id
            USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = SQLERRM,
                  HINT = 'Its unit was deleted since, or its account manager is no longer a login of crm.employee (renamed or removed since): add that login back (as an inactive employee) or correct the journal''s copy.';
    END;
    -- ... their rows move back (a document and its policy one after the
    -- other: their check waits until both have) ...
    SET CONSTRAINTS crm.document_policy_client DEFERRED;
    FOR grp IN SELECT DISTINCT r.relation, r.constraint_name
               FROM crm.merge_log_row r WHERE r.merge_id = m.id AND r.action = 'moved' LOOP
        SELECT * INTO ref FROM crm.client_references() x
        WHERE x.relation = grp.relation AND x.constraint_name = grp.constraint_name;
        EXECUTE format('UPDATE %s t SET (%s) = (SELECT %s FROM crm.client c WHERE c.id = j.client_id)%s
                        FROM crm.merge_log_row j,
                             jsonb_array_elements(coalesce(j.row_key, j.row_data)) WITH ORDINALITY AS e(item, n)
                        WHERE j.merge_id = $1 AND j.relation = $3 AND j.constraint_name = $4 AND j.action = ''moved''
                          AND %s AND %s',
                       crm_internal.relation_scan(grp.relation),
                       (SELECT string_agg(format('%I', c), ', ') FROM unnest(ref.columns) AS c),
                       (SELECT string_agg(format('c.%I', c), ', ') FROM unnest(ref.client_columns) AS c),
                       CASE grp.relation
                            WHEN 'crm.contact'::regclass
                            THEN ', is_default = (j.row_data -> (e.n::int - 1) ->> ''is_default'')::boolean'
                            -- MG-9 both ways: the billed party's data may need the source's again
                            WHEN 'crm.invoice'::regclass THEN ', needs_refresh = true'
                            ELSE '' END,
                       crm_internal.merge_row_match(grp.relation, ref.columns),
                       crm_internal.client_reference_condition(ref.columns, ref.client_columns, 2))
            USING m.id, m.target_id, grp.relation, grp.constraint_name;
        -- rows changed by another session since the check would be skipped
        GET DIAGNOSTICS found_rows = ROW_COUNT;
        IF found_rows <> (SELECT sum(jsonb_array_length(coalesce(r.row_key, r.row_data))) FROM crm.merge_log_row r
                          WHERE r.merge_id = m.id AND r.relation = grp.relation
                            AND r.constraint_name = grp.constraint_name AND r.action = 'moved') THEN
            RAISE EXCEPTION 'cannot undo merge %: rows it moved into % changed while it was undone', m.id,
                            crm_internal.relation_name(grp.relation)
                USING ERRCODE = 'serialization_failure', HINT = 'Try again.';
        END IF;
    END LOOP;
    -- ... what was dropped or folded is restored (into tables that still
    -- reference crm.client: the journal names no other) ...
    -- (a table whose rows reference another restored one's comes after it:
    -- consents after the documents confirming them)
    FOR grp IN SELECT o.relation
               FROM crm_internal.restore_order(ARRAY(
                        SELECT DISTINCT r.relation FROM crm.merge_log_row r
                        WHERE r.merge_id = m.id AND r.action IN ('dropped', 'folded'))) AS o LOOP
        BEGIN
            PERFORM crm_internal.restore_rows(grp.relation,
                (SELECT jsonb_agg(j.row_data ORDER BY j.id) FROM crm.merge_log_row j
                 WHERE j.merge_id = m.id AND j.relation = grp.relation AND j.action IN ('dropped', 'folded')));
        EXCEPTION WHEN unique_violation OR exclusion_violation OR foreign_key_violation THEN
            RAISE EXCEPTION 'cannot undo merge %: a row it removed from % no longer fits', m.id,
                            crm_internal.relation_name(grp.relation)
                USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = SQLERRM,
                      HINT = 'A row added since clashes with it, or a row it refers to was deleted since.';
        END;
    END LOOP;
    -- a document attached since the merge to a policy of another record
    -- stops the undo here
    BEGIN
        SET CONSTRAINTS crm.document_policy_client IMMEDIATE;
    EXCEPTION WHEN check_violation THEN
        GET STACKED DIAGNOSTICS problem = PG_EXCEPTION_DETAIL;
        RAISE EXCEPTION 'cannot undo merge %: %', m.id, SQLERRM
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = problem || ' The document was attached to the policy after the merge; undone, they would belong to different clients.',
                  HINT = 'Detach the document (policy_id = NULL) or attach it to a policy of its own record, then undo the merge again.';
    END;
    -- ... and the target's fields are what they were, in one update
    SELECT string_agg(format('%1$I = (jsonb_populate_record(NULL::crm.client, $1)).%1$I', b.key), ', ')
    INTO cols
    FROM jsonb_each(m.target_before) AS b
    WHERE b.key <> ALL (crm_internal.merge_system_fields()) AND b.value IS DISTINCT FROM m.target_after -> b.key;
    IF cols IS NOT NULL THEN
        EXECUTE format('UPDATE crm.client c SET %s WHERE c.id = $2', cols) USING m.target_before, m.target_id;
    END IF;

    UPDATE crm.merge_log l SET undone_at = now(), undone_by = caller WHERE l.id = m.id;
    PERFORM crm_internal.audit('unmerge', m.target_id,
                               jsonb_build_object('merge_id', m.id, 'restored', to_jsonb(m.source_ids)));
    PERFORM set_config('crm_merge.in_progress', '', true);
    RETURN m.source_ids[1];
END
$$;
COMMENT ON FUNCTION crm.unmerge(bigint) IS
    'undoes a merge: the source clients come back with their ids, their rows move back, what was dropped or folded returns; refuses (55000) where later changes make that unsafe; returns the (first) restored client id';
REVOKE ALL ON FUNCTION crm.unmerge(bigint) FROM PUBLIC;
