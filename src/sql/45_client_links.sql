--------------------------------------------------------------------------
-- What links to a client: the foreign keys that reference crm.client, the
-- rows behind them, and locking a client before changing it
--------------------------------------------------------------------------

-- Every foreign key that references crm.client, in any schema, found from
-- the catalog at call time: the extension's tables and the user's alike.
-- One home for that discovery: deleting, linking, merging and undoing use it.
CREATE FUNCTION crm.client_references()
    RETURNS TABLE (relation regclass, constraint_name name, on_delete "char",
                   columns name[], client_columns name[])
    -- PL/pgSQL, not SQL, for its cached plan: merges and deletes call it often
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_internal.require_data_model();
    RETURN QUERY
    SELECT con.conrelid::regclass, con.conname, con.confdeltype,
           ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.n),
           ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.n)
    FROM pg_constraint con
    WHERE con.contype = 'f' AND con.confrelid = 'crm.client'::regclass
      AND con.conparentid = 0      -- a partitioned table once, not per partition
    ORDER BY con.conrelid::regclass::text, con.conname;
END
$$;
COMMENT ON FUNCTION crm.client_references() IS
    'every foreign key to crm.client in any schema: the referencing table, its columns and the client columns they reference';

-- The SQL condition "the row at alias t references the client whose id is
-- the parameter $n", for one foreign key.
CREATE FUNCTION crm_internal.client_reference_condition(columns name[], client_columns name[], param integer,
                                               alias text DEFAULT 't')
    RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- the usual key, one column referencing the id, needs no lookup
    IF client_columns = '{id}' THEN
        RETURN format('%I.%I = $%s', alias, columns[1], param);
    END IF;
    RETURN format('(%s) = (SELECT %s FROM crm.client c WHERE c.id = $%s)',
                  (SELECT string_agg(format('%I.%I', alias, c), ', ') FROM unnest(columns) AS c),
                  (SELECT string_agg(format('c.%I', c), ', ') FROM unnest(client_columns) AS c),
                  param);
END
$$;
COMMENT ON FUNCTION crm_internal.client_reference_condition(name[], name[], integer, text) IS
    'internal: SQL text matching the rows (alias t) that reference the client whose id is parameter $param';

-- How many rows of each table reference a client, in one query (a merge
-- and a delete ask for every table at once).  Tables the caller may not
-- read get NULL: their foreign keys still guard them.
CREATE FUNCTION crm.client_links(client_id bigint)
    RETURNS TABLE (relation regclass, constraint_name name, on_delete text,
                   blocks_delete boolean, row_count bigint, columns name[], client_columns name[])
    -- volatile: a merge asks again after its own writes
    LANGUAGE plpgsql VOLATILE
    -- a key may use crm's types, whose operators live in crm (writable by its owner only)
    SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    query text;
BEGIN
    PERFORM crm_internal.require_data_model();
    SELECT string_agg(format(
               'SELECT %s::oid::regclass, %L::name, %L::"char", %s, %L::name[], %L::name[]',
               r.relation::oid, r.constraint_name, r.on_delete,
               CASE WHEN has_schema_privilege((SELECT c.relnamespace FROM pg_class c WHERE c.oid = r.relation), 'USAGE')
                         AND has_table_privilege(r.relation, 'SELECT')
                    THEN format('(SELECT count(*) FROM %s t WHERE %s)', r.relation,
                                crm_internal.client_reference_condition(r.columns, r.client_columns, 1))
                    ELSE 'NULL::bigint' END,
               r.columns, r.client_columns),
           ' UNION ALL ' ORDER BY r.relation::text, r.constraint_name)
    INTO query
    FROM crm.client_references() r;
    IF query IS NULL THEN
        RETURN;
    END IF;
    -- Planning a count over every table costs more than running it, and a
    -- merge or a delete asks each time: crm_internal.client_link_counts()
    -- plans each text once per session, in the backend's memory (never as
    -- a named prepared statement, which the session's user could replace:
    -- src/linkcounts.c).  A new foreign key, or another role's privileges,
    -- make another text.
    RETURN QUERY SELECT * FROM crm_internal.client_link_counts(format(
        'SELECT l.rel, l.con, CASE l.del WHEN ''a'' THEN ''no action'' WHEN ''r'' THEN ''restrict''
                                        WHEN ''c'' THEN ''cascade'' WHEN ''n'' THEN ''set null''
                                        WHEN ''d'' THEN ''set default'' END,
                l.del IN (''a'', ''r''), l.n, l.cols, l.client_cols
         FROM (%s) AS l(rel, con, del, n, cols, client_cols)', query), client_links.client_id);
END
$$;
COMMENT ON FUNCTION crm.client_links(bigint) IS
    'every foreign key to crm.client, in any schema, with how many rows reference the client (NULL where the caller may not read them), whether they block deleting it, and its columns';

-- The plan cache behind crm.client_links() (src/linkcounts.c): runs a
-- query with one bigint parameter, planned once per session, with the
-- caller's rights.
CREATE FUNCTION crm_internal.client_link_counts(query text, client_id bigint)
    RETURNS TABLE (relation regclass, constraint_name name, on_delete text,
                   blocks_delete boolean, row_count bigint, columns name[], client_columns name[])
    AS 'MODULE_PATHNAME', 'client_link_counts' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION crm_internal.client_link_counts(text, bigint) IS
    'internal: runs crm.client_links()''s counting query (parameter $1 the client) with the caller''s rights, its plan kept for the session in the backend''s memory';

-- One home for "lock this client, or say it does not exist".
-- (returns a crm.client row, declared record: the table is the data
-- model's, created after this function)
CREATE FUNCTION crm_internal.client_for_update(client_id bigint) RETURNS record
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF client_id IS NULL THEN
        RAISE EXCEPTION 'client id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO c FROM crm.client cl WHERE cl.id = client_for_update.client_id FOR UPDATE;
    IF NOT FOUND THEN
        -- row-level security may let the role read a client it may not change
        IF EXISTS (SELECT FROM crm.client cl WHERE cl.id = client_for_update.client_id) THEN
            RAISE EXCEPTION 'permission denied to change client %', client_id
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'Row-level security lets this role read the client, not change it.';
        END IF;
        RAISE EXCEPTION 'client % does not exist', client_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION crm_internal.client_for_update(bigint) IS
    'locks a client row for update and returns it; raises no_data_found if there is none';

-- Whether the code running now runs as the owner of a SECURITY DEFINER
-- function, that is from inside it: how crm's triggers tell its own
-- privileged writes from anyone else's.
CREATE FUNCTION crm_internal.runs_as_owner_of(f regprocedure) RETURNS boolean
    LANGUAGE sql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT current_user = p.proowner::regrole::text FROM pg_proc p WHERE p.oid = f;
END;
COMMENT ON FUNCTION crm_internal.runs_as_owner_of(regprocedure) IS
    'internal: whether the current role is the owner of function f (inside f, when f is SECURITY DEFINER)';

-- One home for "this client was anonymized: nothing more to do with it".
CREATE FUNCTION crm_internal.refuse_anonymized(client_id bigint, anonymized_at timestamptz) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF anonymized_at IS NOT NULL THEN
        RAISE EXCEPTION 'client % is anonymized', client_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It was anonymized at %s; its record only keeps what the law requires.',
                                  anonymized_at);
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.refuse_anonymized(bigint, timestamptz) IS
    'internal: raises 55000 if the client is anonymized';
