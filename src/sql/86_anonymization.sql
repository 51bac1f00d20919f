--------------------------------------------------------------------------
-- Anonymization, the right to be forgotten (GD-2)
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('anonymization', $model$
CREATE TABLE crm.anonymization_code (
    client_id    bigint NOT NULL,
    requested_by text NOT NULL DEFAULT crm_internal.session_role(),
    requested_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    salt         bytea NOT NULL,
    code_hash    bytea NOT NULL,
    PRIMARY KEY (client_id, requested_by)
);
COMMENT ON TABLE crm.anonymization_code IS
    'pending anonymization codes, as salted SHA-256 hashes; written only by crm.anonymization_code() and crm.anonymize() (row-level security without a policy: no other role reads or writes a row, whatever it was granted)';
COMMENT ON COLUMN crm.anonymization_code.client_id IS 'the client to anonymize';
COMMENT ON COLUMN crm.anonymization_code.requested_by IS
    'the session''s role that requested the code (crm_internal.session_role()): only it (or its members) can use it';
COMMENT ON COLUMN crm.anonymization_code.requested_at IS 'when the code was requested';
COMMENT ON COLUMN crm.anonymization_code.expires_at IS
    'when the code stops working, 15 minutes after the request';
COMMENT ON COLUMN crm.anonymization_code.salt IS 'random salt of the hash';
COMMENT ON COLUMN crm.anonymization_code.code_hash IS
    'SHA-256 of the salt and the code; the code itself is never stored';

-- crm's SECURITY DEFINER functions write it as its owner, who bypasses
-- row-level security; with no policy nobody else reads or writes a row,
-- even with privileges granted by hand
ALTER TABLE crm.anonymization_code ENABLE ROW LEVEL SECURITY;
$model$);

-- Anonymization asks for a code typed back (GD-2): requested by an
-- administrator, valid for a short time, used once, kept only as a salted
-- hash.
CREATE FUNCTION crm_internal.anonymization_code_validity() RETURNS interval
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    RETURN interval '15 minutes';
COMMENT ON FUNCTION crm_internal.anonymization_code_validity() IS 'how long an anonymization code is valid: 15 minutes';

-- Only an administrator gets a code, for a client it reaches; the code's
-- row is written here with crm's rights (nobody else writes the table),
-- and who asked, when and until when are the server's: a role cannot
-- choose its own code.
CREATE FUNCTION crm.anonymization_code(client_id bigint) RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c record;
    caller text := crm_internal.session_role();
    alphabet constant text := 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';  -- no 0/O, 1/I
    random bytea := uuid_send(gen_random_uuid());
    salt bytea := uuid_send(gen_random_uuid());
    bits bigint := 0;
    code text := '';
BEGIN
    PERFORM crm_internal.require_data_model();
    -- who asks first: a refusal says nothing of a client out of reach
    PERFORM crm_internal.require_admin('request an anonymization code');
    c := crm_internal.client_in_reach(client_id, 'anonymize');
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    -- 40 bits from the first 5 bytes of a version 4 UUID, all random
    FOR i IN 0..4 LOOP
        bits := bits * 256 + get_byte(random, i);
    END LOOP;
    FOR i IN 1..8 LOOP
        code := code || substr(alphabet, (bits % 32)::integer + 1, 1);
        bits := bits / 32;
    END LOOP;
    DELETE FROM crm.anonymization_code a WHERE a.client_id = c.id AND a.requested_by = caller;
    INSERT INTO crm.anonymization_code (client_id, requested_by, requested_at, expires_at, salt, code_hash)
    VALUES (c.id, caller, now(), now() + crm_internal.anonymization_code_validity(),
            salt, sha256(salt || convert_to(code, 'UTF8')));
    RETURN left(code, 4) || '-' || right(code, 4);
END
$$;
COMMENT ON FUNCTION crm.anonymization_code(bigint) IS
    'administrators: a one-time code for a client they reach, valid for crm_internal.anonymization_code_validity(), to type back into crm.anonymize() in a session of the same role';

-- The right to be forgotten (GD-2): irreversible, administrators only.  The
-- caller's right to change the client is checked first, with its rights;
-- the registered user tables are written with its rights too, so that
-- their triggers, defaults and index expressions never run with more.
-- crm's own data goes through crm_internal.anonymize_crm_data(), SECURITY
-- DEFINER: it checks its caller again (it can be called alone), then the
-- code, and reaches the journals the caller may not write.  A code is
-- issued only to an administrator, for a client it reaches
-- (crm.anonymization_code()), and works only in that role's sessions.
CREATE FUNCTION crm.anonymize(client_id bigint, confirmation_code text) RETURNS void
    LANGUAGE plpgsql
    -- a key may use crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c record;
    ref record;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('anonymize clients');
    c := crm_internal.client_for_update(client_id);
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    FOR ref IN SELECT * FROM crm_internal.personal_column_keys() LOOP
        EXECUTE format('UPDATE %s t SET %s WHERE %s', ref.relation, ref.sets,
                       crm_internal.client_reference_condition(ref.columns, ref.client_columns, 1)) USING c.id;
    END LOOP;
    PERFORM crm_internal.anonymize_crm_data(c.id, confirmation_code);
END
$$;
COMMENT ON FUNCTION crm.anonymize(bigint, text) IS
    'administrators: the right to be forgotten: removes every piece of the client''s personal data (see doc/gdpr.md) once the code from crm.anonymization_code() is typed back; irreversible';

CREATE FUNCTION crm_internal.anonymize_crm_data(client_id bigint, confirmation_code text)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    -- a key may use crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c record;
    typed text := upper(regexp_replace(coalesce(confirmation_code, ''), '[^A-Za-z0-9]', '', 'g'));
    code record;
    ids bigint[];
    ref record;
    n bigint;
    rows_total bigint;
    counts jsonb := '{}';
BEGIN
    PERFORM crm_internal.require_data_model();
    -- the caller first, then the client, then its codes: called directly,
    -- a refusal says nothing of a client out of reach or of its codes
    PERFORM crm_internal.require_admin('anonymize clients');
    c := crm_internal.client_in_reach(client_id, 'anonymize');
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    SELECT * INTO code FROM crm.anonymization_code a
    WHERE a.client_id = c.id AND a.code_hash = sha256(a.salt || convert_to(typed, 'UTF8'))
    ORDER BY a.expires_at DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'confirmation code does not match'
            USING ERRCODE = 'invalid_authorization_specification',
                  DETAIL = CASE WHEN EXISTS (SELECT FROM crm.anonymization_code a WHERE a.client_id = c.id)
                                THEN format('The code typed is not one issued for client %s.', c.id)
                                ELSE format('No code was requested for client %s.', c.id) END,
                  HINT = format('Request one with crm.anonymization_code(%s) and type it back as shown.', c.id);
    END IF;
    -- a code works in a session of the role that requested it (or of a
    -- member of that role): a code read over someone's shoulder does not
    IF NOT pg_has_role(crm_internal.session_role(), code.requested_by, 'MEMBER') THEN
        RAISE EXCEPTION 'confirmation code for client % was requested by another role', c.id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role %s requested it; this session is %s''s.', code.requested_by, crm_internal.session_role()),
                  HINT = format('Request your own with crm.anonymization_code(%s).', c.id);
    END IF;
    IF code.expires_at < clock_timestamp() THEN
        RAISE EXCEPTION 'confirmation code for client % has expired', c.id
            USING ERRCODE = 'invalid_authorization_specification',
                  DETAIL = format('It was valid until %s.', code.expires_at),
                  HINT = format('Request a new one with crm.anonymization_code(%s).', c.id);
    END IF;
    DELETE FROM crm.anonymization_code a WHERE a.client_id = c.id;

    -- this client and every client ever merged into it, at any depth: their
    -- rows now belong to this one, their copies are in the journal
    -- (a merge undone since gave its source back: that client is another)
    WITH RECURSIVE merged(id) AS (
        SELECT c.id
        UNION
        SELECT s.id FROM merged m JOIN crm.merge_log l ON l.target_id = m.id AND l.undone_at IS NULL,
                         unnest(l.source_ids) AS s(id)
    )
    SELECT array_agg(m.id ORDER BY m.id) INTO ids FROM merged m;

    -- the counts of names (crm.match_frequency) forget the client's names,
    -- and those of the clients merged into it since the counts were
    -- refreshed (they were counted as persons of their own): no count
    -- keeps an erased person, and a name no longer common goes.  Only
    -- persons the refresh counted are taken out (there before it, and not
    -- hidden then): merging clients made since into one to be erased must
    -- not lower a name's count below its bearers
    PERFORM crm_internal.uncount_match_frequencies(ARRAY(
        SELECT k.key
        FROM (SELECT c.kind, c.first_name, c.last_name, c.birth_date, c.created_at, c.hidden_at
              UNION ALL
              SELECT s ->> 'kind', s ->> 'first_name', s ->> 'last_name', (s ->> 'birth_date')::date,
                     (s ->> 'created_at')::timestamptz, (s ->> 'hidden_at')::timestamptz
              FROM crm.merge_log l, jsonb_array_elements(l.sources) AS s
              WHERE l.target_id = ANY (ids) AND l.undone_at IS NULL AND l.sources IS NOT NULL
                AND l.merged_at > (SELECT max(t.refreshed_at) FROM crm.match_frequency_total t)) p,
             unnest(crm_internal.match_frequency_keys(p.kind, p.first_name, p.last_name, p.birth_date)) AS k(key)
        WHERE p.created_at <= (SELECT max(t.refreshed_at) FROM crm.match_frequency_total t)
          AND (p.hidden_at IS NULL OR p.hidden_at > (SELECT max(t.refreshed_at) FROM crm.match_frequency_total t))));

    -- the journal keeps that merges happened, not what they copied of these
    -- clients: crm.unmerge() can never bring any of it back.  A merge still
    -- in place into them held only their data; one undone since holds
    -- another client's too, which stays.
    UPDATE crm.merge_log_row r SET row_data = NULL
    FROM crm.merge_log l
    WHERE r.merge_id = l.id AND r.row_data IS NOT NULL
      AND (r.client_id = ANY (ids) OR (l.target_id = ANY (ids) AND l.undone_at IS NULL));
    UPDATE crm.merge_log l
    SET sources = CASE WHEN l.source_ids && ids OR l.undone_at IS NULL THEN NULL ELSE l.sources END,
        target_before = CASE WHEN l.target_id = ANY (ids) THEN NULL ELSE l.target_before END,
        target_after = CASE WHEN l.target_id = ANY (ids) THEN NULL ELSE l.target_after END,
        field_values = NULL,
        conflicts = NULL,
        anonymized_at = coalesce(l.anonymized_at, now())
    WHERE l.target_id = ANY (ids) OR l.source_ids && ids;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        counts := counts || jsonb_build_object('crm.merge_log', n);
    END IF;

    -- the delete journal likewise, for these clients and the duplicates of
    -- them deleted by a dedupe (the same person): a delete undone since
    -- keeps that it happened, not its copies (crm.undo_delete() refuses it)
    UPDATE crm.delete_log_row r SET row_data = NULL
    FROM crm.delete_log d
    WHERE r.delete_id = d.id AND (d.client_id = ANY (ids) OR d.duplicate_of = ANY (ids)) AND r.row_data IS NOT NULL;
    UPDATE crm.delete_log d SET client_row = NULL, reason = NULL, anonymized_at = coalesce(d.anonymized_at, now())
    WHERE d.client_id = ANY (ids) OR d.duplicate_of = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        counts := counts || jsonb_build_object('crm.delete_log', n);
    END IF;

    DELETE FROM crm.possible_duplicate p WHERE p.client_a = ANY (ids) OR p.client_b = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        counts := counts || jsonb_build_object('crm.possible_duplicate', n);
    END IF;
    -- a dedupe plan's groups hold names and contacts: the client's go
    WITH gone AS (
        DELETE FROM crm.dedupe_plan_item i
        USING crm.dedupe_plan_item mine
        WHERE mine.client_id = ANY (ids) AND i.plan_id = mine.plan_id AND i.group_no = mine.group_no
        RETURNING i.plan_id, i.group_no
    )
    DELETE FROM crm.dedupe_plan_choice ch USING gone g
    WHERE ch.plan_id = g.plan_id AND ch.group_no = g.group_no;

    -- the registered user tables were written by crm.anonymize() with the
    -- caller's rights: rows it could not see or change would keep their
    -- data.  Checking reads them with crm's rights, so nothing whose
    -- behaviour their owner chose may run: their registered and key
    -- columns must be of built-in types (no user cast, operator or domain
    -- check), and every registration must still reach the table
    SELECT p.relation, p.column_name INTO ref FROM crm.personal_column p
    WHERE EXISTS (SELECT FROM pg_class k WHERE k.oid = p.relation)
      AND (NOT EXISTS (SELECT FROM crm.client_references() r WHERE r.relation = p.relation)
           OR NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = p.relation AND a.attname = p.column_name
                                                       AND a.attnum > 0 AND NOT a.attisdropped))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'registered personal column %.% cannot be reached', crm_internal.relation_name(ref.relation), ref.column_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The column no longer exists, or its table no longer references crm.client.',
                  HINT = 'Fix or delete the row in crm.personal_column.';
    END IF;
    SELECT r.relation, a.attname INTO ref
    FROM crm.client_references() r
    JOIN pg_attribute a ON a.attrelid = r.relation AND a.attnum > 0 AND NOT a.attisdropped
    WHERE EXISTS (SELECT FROM crm.personal_column p WHERE p.relation = r.relation)
      AND (a.attname = ANY (r.columns)
           OR EXISTS (SELECT FROM crm.personal_column p WHERE p.relation = r.relation AND p.column_name = a.attname))
      AND NOT crm_internal.trusted_type(a.atttypid)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'column %.% is of a type crm.anonymize() does not read', crm_internal.relation_name(ref.relation), ref.attname
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'Registered personal columns and their table''s key to crm.client must be of built-in types.',
                  HINT = 'Use text, varchar, jsonb, bigint and the like for them.';
    END IF;
    FOR ref IN SELECT * FROM crm_internal.personal_column_keys() LOOP
        EXECUTE format('SELECT count(*) FILTER (WHERE %s), count(*) FROM %s t WHERE %s', ref.left_over,
                       ref.relation, crm_internal.client_reference_condition(ref.columns, ref.client_columns, 1))
            INTO n, rows_total USING c.id;
        IF n > 0 THEN
            RAISE EXCEPTION 'table % still holds personal data of client %', crm_internal.relation_name(ref.relation), c.id
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format('%s of its rows were not cleared: row-level security hides them from the caller, or crm.anonymize() was not called.', n),
                      HINT = 'Call crm.anonymize() as a role that may update every row of the client in that table.';
        END IF;
        IF rows_total > 0 THEN
            counts := counts || jsonb_build_object(crm_internal.relation_name(ref.relation),
                rows_total + coalesce((counts ->> crm_internal.relation_name(ref.relation))::bigint, 0));
        END IF;
    END LOOP;

    -- consents in force end; their history has no personal data and stays
    UPDATE crm.consent k SET withdrawn_at = greatest(now(), k.granted_at)
    WHERE k.client_id = c.id AND k.withdrawn_at IS NULL;

    -- crm's linked tables, through their keys
    FOR ref IN
        SELECT r.relation, r.columns, r.client_columns,
               bool_or(d.action = 'delete') AS delete_rows,
               string_agg(format('%I = %L', d.column_name, d.replacement), ', ' ORDER BY d.column_name)
                   FILTER (WHERE d.action = 'clear') AS sets
        FROM crm.client_references() r JOIN crm_internal.personal_data_builtin() d ON d.relation = r.relation
        GROUP BY r.relation, r.constraint_name, r.columns, r.client_columns
        ORDER BY r.relation::text, r.constraint_name
    LOOP
        IF ref.delete_rows THEN
            EXECUTE format('DELETE FROM %s t WHERE %s', ref.relation,
                           crm_internal.client_reference_condition(ref.columns, ref.client_columns, 1)) USING c.id;
        ELSE
            EXECUTE format('UPDATE %s t SET %s WHERE %s', ref.relation, ref.sets,
                           crm_internal.client_reference_condition(ref.columns, ref.client_columns, 1)) USING c.id;
        END IF;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            counts := counts || jsonb_build_object(crm_internal.relation_name(ref.relation),
                                                   n + coalesce((counts ->> crm_internal.relation_name(ref.relation))::bigint, 0));
        END IF;
    END LOOP;

    -- the notes of its tickets' history (the tickets were merged into it
    -- with their history); the statuses stay
    UPDATE crm.ticket_history h SET note = NULL
    FROM crm.ticket t
    WHERE t.id = h.ticket_id AND t.client_id = c.id AND h.note IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        counts := counts || jsonb_build_object('crm.ticket_history', n);
    END IF;

    -- the client itself, last: the keys above may read its fields
    UPDATE crm.client cl
    SET first_name = NULL, last_name = NULL, company_name = NULL, display_name = NULL,
        city = NULL, postal_code = NULL, address = NULL, pesel = NULL, nip = NULL, regon = NULL,
        birth_date = NULL, external_id = NULL, hidden_at = NULL, hidden_reason = NULL,
        anonymized_at = now()
    WHERE cl.id = c.id;

    PERFORM crm_internal.audit('anonymize', c.id, jsonb_build_object(
        'requested_by', code.requested_by, 'requested_at', code.requested_at,
        'merged_clients', to_jsonb(array_remove(ids, c.id)), 'rows', counts));
END
$$;
COMMENT ON FUNCTION crm_internal.anonymize_crm_data(bigint, text) IS
    'internal, called by crm.anonymize(): checks the caller (an administrator reaching the client) and uses the code, verifies the registered user tables were cleared, removes the client''s personal data from crm''s tables and journals, writes crm.audit_log';
REVOKE EXECUTE ON FUNCTION crm.anonymize(bigint, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION crm_internal.anonymize_crm_data(bigint, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION crm.anonymization_code(bigint) FROM PUBLIC;
