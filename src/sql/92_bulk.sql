--------------------------------------------------------------------------
-- Bulk actions on a selection of clients (WB-4, doc/working-with-the-base.md)
--
-- Every action takes the clients as an id array or as a filter of
-- crm.client_search() (a jsonb object), makes its change in one call (one
-- transaction: all or nothing) and returns how many clients changed.
--
-- They act as the caller (no SECURITY DEFINER): row-level security, the
-- table privileges and the tables' triggers decide as for any write of the
-- caller's.  An id the caller does not reach is refused like one that does
-- not exist (crm_internal.require_reach); a filter selects only what the
-- caller sees.  The work is done in steps of 5 % of the clients, each one
-- statement, with a progress NOTICE after each on long runs
-- (crm_internal.bulk_run, the one home of the steps).  Each step's
-- changed clients are audited (crm_internal.audit_bulk: one entry per
-- client, as the other audited acts).
--------------------------------------------------------------------------

-- The selection: distinct ids in order (rows are then locked in id order,
-- as elsewhere in crm), each reached by the caller.
CREATE FUNCTION crm_internal.bulk_ids(client_ids bigint[], action text) RETURNS bigint[]
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
    missing bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF client_ids IS NULL OR array_position(client_ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'a bulk action needs client ids, not null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass an array of client ids (ARRAY[]::bigint[] for none), or a filter as jsonb.';
    END IF;
    ids := ARRAY(SELECT DISTINCT u.id FROM unnest(client_ids) AS u(id) ORDER BY u.id);
    PERFORM crm_internal.require_reach(ids, action);
    -- what is left is an administrator's missing client
    SELECT min(u.id) INTO missing FROM unnest(ids) AS u(id)
    WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = u.id);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'client % does not exist', missing USING ERRCODE = 'no_data_found';
    END IF;
    RETURN ids;
END
$$;
COMMENT ON FUNCTION crm_internal.bulk_ids(bigint[], text) IS
    'internal to the bulk actions: the clients as distinct ids in order; 42501 for one out of the caller''s reach (the same as for one that does not exist), 02000 for a missing one (administrators)';

CREATE FUNCTION crm_internal.bulk_filter_ids(filter jsonb) RETURNS bigint[]
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY(SELECT s.id FROM crm_internal.client_search_ids(filter) AS s(id) ORDER BY s.id);
$$;
COMMENT ON FUNCTION crm_internal.bulk_filter_ids(jsonb) IS
    'internal to the bulk actions: the ids of the clients a crm.client_search() filter selects, as the caller sees them';

-- The audit of a bulk action: one entry per changed client, like crm's
-- other audited acts (crm.audit_log has the client and its unit, so that
-- row-level security shows each entry to the roles reaching that client).
-- SECURITY DEFINER because crm.audit_log is written by crm only; every crm
-- role may call it (the bulk actions act as the caller), so it checks first:
-- the caller reaches every client named, and what the entry states holds
-- now and, but for a removal, was done in this transaction (the client was
-- added to the campaign, was given that owner, got a task of that kind,
-- ...: its time is now()).  A role can thus record only what it did to
-- clients it reaches, under its own name.  detail holds ids and settings,
-- never personal data (no task title, no custom value).
CREATE FUNCTION crm_internal.audit_bulk(action text, client_ids bigint[], detail jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    untrue bigint;
    keys text[];
    detail_ok boolean;
    who text;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF coalesce(cardinality(client_ids), 0) = 0 THEN
        RETURN;
    END IF;
    PERFORM crm_internal.require_reach(client_ids, 'audit a bulk action on');
    detail := coalesce(detail, '{}');
    -- the entry says what the bulk function did, in its own keys and values
    -- only: no free text, no personal data, nothing that names what does
    -- not exist (the caller is any crm role)
    keys := CASE action WHEN 'bulk add to campaign' THEN ARRAY['campaign_id']
                        WHEN 'bulk remove from campaign' THEN ARRAY['campaign_id']
                        WHEN 'bulk add to segment' THEN ARRAY['segment_id']
                        WHEN 'bulk remove from segment' THEN ARRAY['segment_id']
                        WHEN 'bulk set custom value' THEN ARRAY['cleared', 'field_id']
                        WHEN 'bulk change owner' THEN ARRAY['owner']
                        WHEN 'bulk create task' THEN ARRAY['assignee', 'due_at', 'kind']
                        WHEN 'bulk assign price list' THEN ARRAY['price_list_id'] END;
    detail_ok := jsonb_typeof(detail) = 'object'
        AND (SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM jsonb_object_keys(detail) k) = keys
        AND CASE WHEN detail ? 'campaign_id' THEN EXISTS (SELECT FROM crm.campaign x WHERE x.id = (detail ->> 'campaign_id')::bigint)
                 WHEN detail ? 'segment_id' THEN EXISTS (SELECT FROM crm.segment x WHERE x.id = (detail ->> 'segment_id')::bigint)
                 WHEN detail ? 'field_id' THEN EXISTS (SELECT FROM crm.custom_field x WHERE x.id = (detail ->> 'field_id')::bigint)
                                               AND jsonb_typeof(detail -> 'cleared') = 'boolean'
                 WHEN detail ->> 'price_list_id' IS NOT NULL THEN EXISTS (SELECT FROM crm.price_list x WHERE x.id = (detail ->> 'price_list_id')::bigint)
                 WHEN detail ? 'owner' THEN jsonb_typeof(detail -> 'owner') IN ('string', 'null')
                                            AND coalesce(length(detail ->> 'owner'), 0) <= 63
                 WHEN detail ? 'kind' THEN jsonb_typeof(detail -> 'kind') = 'string' AND length(detail ->> 'kind') <= 63
                                           AND jsonb_typeof(detail -> 'assignee') IN ('string', 'null')
                                           AND coalesce(length(detail ->> 'assignee'), 0) <= 63
                                           AND jsonb_typeof(detail -> 'due_at') IN ('string', 'null')
                 ELSE true END;
    IF NOT coalesce(detail_ok, false) THEN
        RAISE EXCEPTION 'cannot audit "%" with that detail', action
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The audit log records bulk actions as crm''s bulk functions made them, in their own keys.',
                  HINT = 'Call the crm.bulk_* functions; they audit themselves.';
    END IF;
    SELECT min(u.id) INTO untrue FROM unnest(client_ids) AS u(id)
    WHERE NOT CASE action
        WHEN 'bulk add to campaign' THEN
            EXISTS (SELECT FROM crm.campaign_member m
                    WHERE m.client_id = u.id AND m.campaign_id = (detail ->> 'campaign_id')::bigint
                      AND m.added_at = now())
        WHEN 'bulk remove from campaign' THEN
            NOT EXISTS (SELECT FROM crm.campaign_member m
                        WHERE m.client_id = u.id AND m.campaign_id = (detail ->> 'campaign_id')::bigint)
        WHEN 'bulk add to segment' THEN
            EXISTS (SELECT FROM crm.segment_member m
                    WHERE m.client_id = u.id AND m.segment_id = (detail ->> 'segment_id')::bigint
                      AND m.added_at = now())
        WHEN 'bulk remove from segment' THEN
            NOT EXISTS (SELECT FROM crm.segment_member m
                        WHERE m.client_id = u.id AND m.segment_id = (detail ->> 'segment_id')::bigint)
        WHEN 'bulk set custom value' THEN
            CASE WHEN (detail ->> 'cleared')::boolean
                 THEN NOT EXISTS (SELECT FROM crm.custom_value v
                                  WHERE v.client_id = u.id AND v.field_id = (detail ->> 'field_id')::bigint)
                 ELSE EXISTS (SELECT FROM crm.custom_value v
                              WHERE v.client_id = u.id AND v.field_id = (detail ->> 'field_id')::bigint
                                AND v.updated_at = now()) END
        WHEN 'bulk change owner' THEN
            EXISTS (SELECT FROM crm.client c
                    WHERE c.id = u.id AND c.owner IS NOT DISTINCT FROM detail ->> 'owner'
                      AND c.updated_at = now())
        WHEN 'bulk create task' THEN
            EXISTS (SELECT FROM crm.task t
                    WHERE t.client_id = u.id AND t.created_at = now() AND t.kind = detail ->> 'kind')
        WHEN 'bulk assign price list' THEN
            CASE WHEN detail ->> 'price_list_id' IS NULL
                 THEN NOT EXISTS (SELECT FROM crm.client_price_list p WHERE p.client_id = u.id)
                 ELSE EXISTS (SELECT FROM crm.client_price_list p
                              WHERE p.client_id = u.id AND p.price_list_id = (detail ->> 'price_list_id')::bigint
                                AND p.assigned_at = now()) END
        ELSE false END;
    IF untrue IS NOT NULL THEN
        RAISE EXCEPTION 'cannot audit "%" for client %: it did not happen', action, untrue
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The audit log records bulk actions as crm''s bulk functions made them.',
                  HINT = 'Call the crm.bulk_* functions; they audit themselves.';
    END IF;
    -- crm_internal.audit(), for many clients in one statement; the actor
    -- read once (a function with a SET clause, called once a row, took
    -- about a third of a bulk change's own cost)
    who := crm_internal.session_role();
    INSERT INTO crm.audit_log (actor, action, client_id, unit_id, detail)
    SELECT who, audit_bulk.action, c.id, c.unit_id, detail
    FROM crm.client c WHERE c.id = ANY (client_ids);
END
$$;
COMMENT ON FUNCTION crm_internal.audit_bulk(text, bigint[], jsonb) IS
    'internal to the bulk actions: one crm.audit_log entry per client, after checking that the caller reaches each and that the action''s outcome holds for each';
-- crm's roles only (crm.create_roles() grants it to crm_agent, and so to
-- every level): a role outside them writes none of the tables anyway
REVOKE ALL ON FUNCTION crm_internal.audit_bulk(text, bigint[], jsonb) FROM PUBLIC;

--------------------------------------------------------------------------
-- Campaigns and segments
--------------------------------------------------------------------------

-- The steps of every bulk action, in one place: statement (crm's own text
-- in this file, never the caller's) changes the clients of one step, $1
-- (bigint[]), with the action's arguments $2 (jsonb), and returns the ids
-- of those it changed; they are audited with detail (crm_internal.audit_bulk),
-- and progress is reported after each step.  With the caller's rights, as
-- the actions themselves.
CREATE FUNCTION crm_internal.bulk_run(action text, ids bigint[], statement text, args jsonb, detail jsonb,
                                       skip_gone boolean DEFAULT false)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    part bigint[];
    done_ids bigint[];
    total bigint := cardinality(ids);
    step bigint := crm_internal.progress_step(cardinality(ids));
    changed bigint := 0;
    gone bigint;
    started timestamptz := clock_timestamp();
BEGIN
    FOR i IN 0 .. (total - 1) / step LOOP
        part := ids[i * step + 1 : (i + 1) * step];
        BEGIN
            EXECUTE statement INTO done_ids USING part, args;
        EXCEPTION WHEN foreign_key_violation THEN
            -- a client checked at the start was merged into another or
            -- deleted by a concurrent transaction (found by the soak test):
            -- a retryable conflict, not a broken reference of the caller's
            RAISE EXCEPTION '%: a client was merged away or deleted while the action ran', action
                USING ERRCODE = 'serialization_failure',
                      DETAIL = SQLERRM,
                      HINT = 'Run the action again: a client that no longer exists is then named in the error.';
        END;
        -- a statement that updates or deletes rows (the owner, a membership
        -- removed) skips, with no foreign key to fail, a client merged away
        -- or deleted since bulk_ids() checked it: the same error, unless the
        -- caller chose its clients by what may change meanwhile (skip_gone:
        -- crm.bulk_replace_owner()).  Checked only where some client of the
        -- step was left unchanged, in a statement of its own, which sees
        -- what the writer the step waited for committed
        IF NOT skip_gone AND coalesce(cardinality(done_ids), 0) < cardinality(part) THEN
            SELECT min(u.id) INTO gone FROM unnest(part) AS u(id)
            WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = u.id);
            IF gone IS NOT NULL THEN
                RAISE EXCEPTION '%: a client was merged away or deleted while the action ran', action
                    USING ERRCODE = 'serialization_failure',
                          DETAIL = format('Client %s no longer exists.', gone),
                          HINT = 'Run the action again: a client that no longer exists is then named in the error.';
            END IF;
        END IF;
        PERFORM crm_internal.audit_bulk(action, done_ids, detail);
        changed := changed + coalesce(cardinality(done_ids), 0);
        PERFORM crm_internal.report_progress(action, least((i + 1) * step, total), total, started);
    END LOOP;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION crm_internal.bulk_run(text, bigint[], text, jsonb, jsonb, boolean) IS
    'internal to the bulk actions: runs the action''s statement over the clients in steps of 5 %, audits each step''s changed clients and reports progress; the number changed; 40001 for a client merged away or deleted meanwhile (unless skip_gone)';

-- One body for the four membership actions: crm.campaign_member and
-- crm.segment_member have the same shape.
CREATE FUNCTION crm_internal.bulk_membership(client_ids bigint[], kind text, group_id bigint, member boolean)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    group_exists boolean;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF kind IS NULL OR kind NOT IN ('campaign', 'segment') THEN
        RAISE EXCEPTION 'clients are members of a campaign or a segment, not of "%"', kind
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF group_id IS NULL THEN
        RAISE EXCEPTION 'a bulk action on a % needs its id, not null', kind
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT FROM crm.%I x WHERE x.id = $1)', kind) INTO STRICT group_exists USING group_id;
    -- removing from a campaign that is not there removes nothing
    IF NOT group_exists AND member THEN
        RAISE EXCEPTION '% % does not exist', kind, group_id
            USING ERRCODE = 'no_data_found',
                  HINT = format('The %ss are in crm.%s.', kind, kind);
    END IF;
    RETURN crm_internal.bulk_run(
        format('bulk %s %s', CASE WHEN member THEN 'add to' ELSE 'remove from' END, kind),
        crm_internal.bulk_ids(client_ids, format('%s a %s', CASE WHEN member THEN 'add to' ELSE 'remove from' END, kind)),
        CASE WHEN member
             THEN format('WITH added AS (INSERT INTO crm.%1$I_member (%1$I_id, client_id)
                                         SELECT ($2 ->> ''id'')::bigint, u.id FROM unnest($1) AS u(id)
                                         ON CONFLICT DO NOTHING RETURNING client_id)
                          SELECT array_agg(a.client_id) FROM added a', kind)
             ELSE format('WITH gone AS (DELETE FROM crm.%1$I_member m
                                        WHERE m.%1$I_id = ($2 ->> ''id'')::bigint AND m.client_id = ANY ($1) RETURNING m.client_id)
                          SELECT array_agg(g.client_id) FROM gone g', kind) END,
        jsonb_build_object('id', group_id),
        jsonb_build_object(kind || '_id', group_id));
END
$$;
COMMENT ON FUNCTION crm_internal.bulk_membership(bigint[], text, bigint, boolean) IS
    'internal: adds clients to (member) or removes them from a campaign or segment (kind), audited, in steps with progress; the number changed';

CREATE FUNCTION crm.bulk_add_to_campaign(client_ids bigint[], campaign_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(client_ids, 'campaign', campaign_id, true);
COMMENT ON FUNCTION crm.bulk_add_to_campaign(bigint[], bigint) IS
    'adds the clients to the campaign; the number added (members already are not counted); audited';
CREATE FUNCTION crm.bulk_add_to_campaign(filter jsonb, campaign_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(crm_internal.bulk_filter_ids(filter), 'campaign', campaign_id, true);
COMMENT ON FUNCTION crm.bulk_add_to_campaign(jsonb, bigint) IS
    'adds the clients a crm.client_search() filter selects to the campaign; the number added; audited';

CREATE FUNCTION crm.bulk_remove_from_campaign(client_ids bigint[], campaign_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(client_ids, 'campaign', campaign_id, false);
COMMENT ON FUNCTION crm.bulk_remove_from_campaign(bigint[], bigint) IS
    'removes the clients from the campaign; the number removed; audited';
CREATE FUNCTION crm.bulk_remove_from_campaign(filter jsonb, campaign_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(crm_internal.bulk_filter_ids(filter), 'campaign', campaign_id, false);
COMMENT ON FUNCTION crm.bulk_remove_from_campaign(jsonb, bigint) IS
    'removes the clients a crm.client_search() filter selects from the campaign; the number removed; audited';

CREATE FUNCTION crm.bulk_add_to_segment(client_ids bigint[], segment_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(client_ids, 'segment', segment_id, true);
COMMENT ON FUNCTION crm.bulk_add_to_segment(bigint[], bigint) IS
    'adds the clients to the segment; the number added (members already are not counted); audited';
CREATE FUNCTION crm.bulk_add_to_segment(filter jsonb, segment_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(crm_internal.bulk_filter_ids(filter), 'segment', segment_id, true);
COMMENT ON FUNCTION crm.bulk_add_to_segment(jsonb, bigint) IS
    'adds the clients a crm.client_search() filter selects to the segment; the number added; audited';

CREATE FUNCTION crm.bulk_remove_from_segment(client_ids bigint[], segment_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(client_ids, 'segment', segment_id, false);
COMMENT ON FUNCTION crm.bulk_remove_from_segment(bigint[], bigint) IS
    'removes the clients from the segment; the number removed; audited';
CREATE FUNCTION crm.bulk_remove_from_segment(filter jsonb, segment_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_membership(crm_internal.bulk_filter_ids(filter), 'segment', segment_id, false);
COMMENT ON FUNCTION crm.bulk_remove_from_segment(jsonb, bigint) IS
    'removes the clients a crm.client_search() filter selects from the segment; the number removed; audited';

--------------------------------------------------------------------------
-- A custom field
--------------------------------------------------------------------------

CREATE FUNCTION crm.bulk_set_custom_value(client_ids bigint[], field text, value text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v record;
BEGIN
    SELECT * INTO v FROM crm_internal.custom_field_value(field, value);
    RETURN crm_internal.bulk_run('bulk set custom value', crm_internal.bulk_ids(client_ids, 'set a custom field of'),
        CASE WHEN value IS NULL
             THEN 'WITH gone AS (DELETE FROM crm.custom_value cv
                                 WHERE cv.field_id = ($2 ->> ''field_id'')::bigint AND cv.client_id = ANY ($1)
                                 RETURNING cv.client_id)
                   SELECT array_agg(g.client_id) FROM gone g'
             -- a client that already has the value is not changed
             ELSE 'WITH written AS (
                       INSERT INTO crm.custom_value AS cv (client_id, field_id, number_value, text_value)
                       SELECT u.id, ($2 ->> ''field_id'')::bigint, ($2 ->> ''number_value'')::numeric, $2 ->> ''text_value''
                       FROM unnest($1) AS u(id)
                       ON CONFLICT (client_id, field_id) DO UPDATE
                           SET number_value = EXCLUDED.number_value, text_value = EXCLUDED.text_value
                           WHERE (cv.number_value, cv.text_value) IS DISTINCT FROM (EXCLUDED.number_value, EXCLUDED.text_value)
                       RETURNING cv.client_id)
                   SELECT array_agg(w.client_id) FROM written w' END,
        jsonb_build_object('field_id', v.field_id, 'number_value', v.number_value, 'text_value', v.text_value),
        jsonb_build_object('field_id', v.field_id, 'cleared', value IS NULL));
END
$$;
COMMENT ON FUNCTION crm.bulk_set_custom_value(bigint[], text, text) IS
    'sets a custom field (by name; the value parsed by its type, null clears it) on the clients; the number of clients whose value changed; audited (the field, never the value)';
CREATE FUNCTION crm.bulk_set_custom_value(filter jsonb, field text, value text) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm.bulk_set_custom_value(crm_internal.bulk_filter_ids(filter), field, value);
COMMENT ON FUNCTION crm.bulk_set_custom_value(jsonb, text, text) IS
    'sets a custom field on the clients a crm.client_search() filter selects (null clears it); the number changed; audited';

--------------------------------------------------------------------------
-- The account manager (crm.client.owner, a login of crm.employee)
--------------------------------------------------------------------------

-- The owner change of the clients ids (distinct, in order, reached by the
-- caller: checked by the callers), the one statement of both actions below.
CREATE FUNCTION crm_internal.bulk_owner_run(ids bigint[], new_owner text, skip_gone boolean DEFAULT false) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm_internal.bulk_run('bulk change owner', ids,
        'WITH moved AS (UPDATE crm.client c SET owner = $2 ->> ''owner''
                        WHERE c.id = ANY ($1) AND c.owner IS DISTINCT FROM $2 ->> ''owner'' RETURNING c.id)
         SELECT array_agg(m.id) FROM moved m',
        jsonb_build_object('owner', new_owner),
        jsonb_build_object('owner', new_owner),
        skip_gone);
COMMENT ON FUNCTION crm_internal.bulk_owner_run(bigint[], text, boolean) IS
    'internal to crm.bulk_change_owner() and crm.bulk_replace_owner(): makes new_owner the account manager of the clients ids (distinct, in order, checked by the caller) in steps, audited; the number changed';

CREATE FUNCTION crm.bulk_change_owner(client_ids bigint[], new_owner text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_internal.require_data_model();
    -- an account manager is an active employee (null: none)
    IF new_owner IS NOT NULL THEN
        PERFORM crm_internal.require_employee(new_owner, 'the new account manager');
    END IF;
    RETURN crm_internal.bulk_owner_run(crm_internal.bulk_ids(client_ids, 'change the owner of'), new_owner);
END
$$;
COMMENT ON FUNCTION crm.bulk_change_owner(bigint[], text) IS
    'makes new_owner (an active login of crm.employee; null: none) the account manager of the clients; the number whose owner changed; audited';

CREATE FUNCTION crm.bulk_change_owner(filter jsonb, new_owner text) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm.bulk_change_owner(crm_internal.bulk_filter_ids(filter), new_owner);
COMMENT ON FUNCTION crm.bulk_change_owner(jsonb, text) IS
    'makes new_owner the account manager of the clients a crm.client_search() filter selects; the number changed; audited';

-- A leaving employee's clients, all of them (hidden ones too) that the
-- caller reaches, go to another.
CREATE FUNCTION crm.bulk_replace_owner(old_owner text, new_owner text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
BEGIN
    PERFORM crm_internal.require_data_model();
    IF old_owner IS NULL THEN
        RAISE EXCEPTION 'bulk_replace_owner needs the old owner'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'For the clients without an owner: crm.bulk_change_owner(''{"owner": null}''::jsonb, new_owner).';
    END IF;
    IF new_owner IS NOT NULL THEN
        PERFORM crm_internal.require_employee(new_owner, 'the new account manager');
    END IF;
    -- ids read from crm.client by its key are distinct, in order and
    -- there: of crm_internal.bulk_ids() only the reach is left to check (its
    -- sort and its look-up of every id took 0.4 s of 100,000 clients); one
    -- deleted or merged away meanwhile is not changed, as one deleted after
    -- the check (skip_gone: it is no longer one of the old owner's clients)
    ids := ARRAY(SELECT c.id FROM crm.client c WHERE c.owner = old_owner ORDER BY c.id);
    PERFORM crm_internal.require_reach(ids, 'change the owner of');
    RETURN crm_internal.bulk_owner_run(ids, new_owner, true);
END
$$;
COMMENT ON FUNCTION crm.bulk_replace_owner(text, text) IS
    'hands every client of old_owner that the caller reaches (hidden ones too) to new_owner: an employee leaves; the number changed; audited';

--------------------------------------------------------------------------
-- Tasks
--------------------------------------------------------------------------

CREATE FUNCTION crm.bulk_create_task(client_ids bigint[], title text, due_at timestamptz DEFAULT NULL,
                                     assignee text DEFAULT NULL, kind text DEFAULT 'task', notes text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_internal.require_data_model();
    IF nullif(btrim(title), '') IS NULL THEN
        RAISE EXCEPTION 'a task needs a title' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF assignee IS NOT NULL THEN
        PERFORM crm_internal.require_employee(assignee, 'the tasks'' assignee');
    END IF;
    RETURN crm_internal.bulk_run('bulk create task', crm_internal.bulk_ids(client_ids, 'create a task for'),
        -- assigned to each client's account manager unless named
        'WITH made AS (INSERT INTO crm.task (client_id, kind, title, due_at, assignee, notes)
                       SELECT c.id, $2 ->> ''kind'', $2 ->> ''title'', ($2 ->> ''due_at'')::timestamptz,
                              coalesce($2 ->> ''assignee'', c.owner), $2 ->> ''notes''
                       FROM crm.client c WHERE c.id = ANY ($1) ORDER BY c.id
                       RETURNING client_id)
         SELECT array_agg(m.client_id) FROM made m',
        jsonb_build_object('kind', coalesce(kind, 'task'), 'title', btrim(title), 'due_at', due_at,
                           'assignee', assignee, 'notes', notes),
        jsonb_build_object('kind', coalesce(kind, 'task'), 'due_at', due_at, 'assignee', assignee));
END
$$;
COMMENT ON FUNCTION crm.bulk_create_task(bigint[], text, timestamptz, text, text, text) IS
    'creates the same task (kind task, call, meeting or event) for each client, assigned to assignee or else to the client''s account manager; the number created; audited (without the title)';

CREATE FUNCTION crm.bulk_create_task(filter jsonb, title text, due_at timestamptz DEFAULT NULL,
                                     assignee text DEFAULT NULL, kind text DEFAULT 'task', notes text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm.bulk_create_task(crm_internal.bulk_filter_ids(filter), title, due_at, assignee, kind, notes);
COMMENT ON FUNCTION crm.bulk_create_task(jsonb, text, timestamptz, text, text, text) IS
    'creates the same task for each client a crm.client_search() filter selects; the number created; audited';

--------------------------------------------------------------------------
-- Price lists
--------------------------------------------------------------------------

CREATE FUNCTION crm.bulk_assign_price_list(client_ids bigint[], price_list_id bigint) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM crm_internal.require_data_model();
    IF price_list_id IS NOT NULL AND NOT EXISTS (SELECT FROM crm.price_list p WHERE p.id = price_list_id) THEN
        RAISE EXCEPTION 'price list % does not exist', price_list_id
            USING ERRCODE = 'no_data_found', HINT = 'The price lists are in crm.price_list.';
    END IF;
    RETURN crm_internal.bulk_run('bulk assign price list', crm_internal.bulk_ids(client_ids, 'assign a price list to'),
        CASE WHEN price_list_id IS NULL
             THEN 'WITH gone AS (DELETE FROM crm.client_price_list p WHERE p.client_id = ANY ($1) RETURNING p.client_id)
                   SELECT array_agg(g.client_id) FROM gone g'
             ELSE 'WITH written AS (
                       INSERT INTO crm.client_price_list AS p (client_id, price_list_id)
                       SELECT u.id, ($2 ->> ''price_list_id'')::bigint FROM unnest($1) AS u(id)
                       ON CONFLICT (client_id) DO UPDATE SET price_list_id = EXCLUDED.price_list_id, assigned_at = now()
                           WHERE p.price_list_id <> EXCLUDED.price_list_id
                       RETURNING p.client_id)
                   SELECT array_agg(w.client_id) FROM written w' END,
        jsonb_build_object('price_list_id', price_list_id),
        jsonb_build_object('price_list_id', price_list_id));
END
$$;
COMMENT ON FUNCTION crm.bulk_assign_price_list(bigint[], bigint) IS
    'assigns the price list to the clients (null: takes theirs away); the number whose price list changed; audited';
CREATE FUNCTION crm.bulk_assign_price_list(filter jsonb, price_list_id bigint) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm.bulk_assign_price_list(crm_internal.bulk_filter_ids(filter), price_list_id);
COMMENT ON FUNCTION crm.bulk_assign_price_list(jsonb, bigint) IS
    'assigns the price list to the clients a crm.client_search() filter selects (null: takes theirs away); the number changed; audited';
