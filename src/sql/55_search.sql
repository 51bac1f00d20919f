--------------------------------------------------------------------------
-- Views and search for people and BI tools
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('search', $model$
CREATE VIEW crm.client_overview WITH (security_invoker = true) AS
SELECT c.id, c.kind, c.display_name, c.first_name, c.last_name, c.company_name,
       c.pesel, c.nip, c.regon, c.city, c.postal_code, c.address,
       phone.value AS phone, email.value AS email,
       c.unit_id, u.path AS unit_path, c.owner, c.synced,
       (SELECT count(*) FROM crm.policy p
        WHERE p.client_id = c.id AND p.ends_on >= current_date AND NOT p.preliminary) AS active_policies,
       (SELECT count(*) FROM crm.ticket t
        WHERE t.client_id = c.id AND t.status IN ('new', 'open', 'pending')) AS open_tickets,
       c.last_contact_at, c.created_at, c.updated_at
FROM crm.client c
LEFT JOIN crm.contact phone ON phone.client_id = c.id AND phone.kind = 'phone' AND phone.is_default
LEFT JOIN crm.contact email ON email.client_id = c.id AND email.kind = 'email' AND email.is_default
LEFT JOIN crm.unit_tree u ON u.id = c.unit_id
WHERE crm_internal.client_is_visible(c.hidden_at, c.anonymized_at);
COMMENT ON VIEW crm.client_overview IS
    'one row per visible client: identifiers, default phone and e-mail, unit path, owner, active policies, open tickets, last contact';
COMMENT ON COLUMN crm.client_overview.id IS 'the client (crm.client.id)';
COMMENT ON COLUMN crm.client_overview.kind IS 'person or company';
COMMENT ON COLUMN crm.client_overview.display_name IS 'the name shown in lists';
COMMENT ON COLUMN crm.client_overview.first_name IS 'a person''s first name';
COMMENT ON COLUMN crm.client_overview.last_name IS 'a person''s last name';
COMMENT ON COLUMN crm.client_overview.company_name IS 'a company''s name';
COMMENT ON COLUMN crm.client_overview.pesel IS
    'PESEL (type crm.pesel; crm.client_report gives it as text)';
COMMENT ON COLUMN crm.client_overview.nip IS
    'NIP (type crm.nip; crm.client_report gives it as text)';
COMMENT ON COLUMN crm.client_overview.regon IS
    'REGON (type crm.regon; crm.client_report gives it as text)';
COMMENT ON COLUMN crm.client_overview.city IS 'the city of the address';
COMMENT ON COLUMN crm.client_overview.postal_code IS 'the postal code';
COMMENT ON COLUMN crm.client_overview.address IS 'street, house and flat number';
COMMENT ON COLUMN crm.client_overview.phone IS 'the client''s default phone number, E.164';
COMMENT ON COLUMN crm.client_overview.email IS 'the client''s default e-mail address';
COMMENT ON COLUMN crm.client_overview.unit_id IS 'the client''s unit of the structure (crm.unit)';
COMMENT ON COLUMN crm.client_overview.unit_path IS
    'that unit''s path from the top of the structure, names joined by " / "';
COMMENT ON COLUMN crm.client_overview.owner IS 'the account manager: a login of crm.employee';
COMMENT ON COLUMN crm.client_overview.synced IS 'the client''s data is complete and synchronized';
COMMENT ON COLUMN crm.client_overview.active_policies IS
    'how many of the client''s issued policies have not ended (ends_on today or later; preliminary ones not counted)';
COMMENT ON COLUMN crm.client_overview.open_tickets IS
    'how many of the client''s tickets are new, open or pending';
COMMENT ON COLUMN crm.client_overview.last_contact_at IS
    'the latest contact in the contact history (notifications aside)';
COMMENT ON COLUMN crm.client_overview.created_at IS 'when the client was created';
COMMENT ON COLUMN crm.client_overview.updated_at IS 'when the client''s data last changed';

CREATE FUNCTION crm.client_search(filter jsonb) RETURNS SETOF crm.client
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, crm, pg_temp
AS $body$
    SELECT c.* FROM crm.client c
    WHERE c.id IN (SELECT crm_internal.client_search_ids(filter))
    ORDER BY c.id;
$body$;
COMMENT ON FUNCTION crm.client_search(jsonb) IS
    'clients matching a filter: {"field": value | "pattern%" | [values] | null | {">": v, "between": [a, b]}, ...}, criteria combined with AND; visible clients unless "hidden" says otherwise';
$model$);

-- crm.client_search(): a comparison of expr with the filter value that the
-- SQL expression src reaches inside the filter ($1); bound is that value,
-- read here only for its shape.  No filter value is pasted into the SQL.
CREATE FUNCTION crm_internal.search_compare(expr text, kind text, typ regtype, op text, src text, bound jsonb)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN CASE
    -- a bare date compared with a timestamp means that whole day
    WHEN kind = 'timestamp' AND coalesce(bound #>> '{}', '') ~ '^\d{4}-\d{2}-\d{2}$' THEN
        CASE op
        WHEN '='  THEN format('(%1$s >= (%2$s #>> ''{}'')::date AND %1$s < (%2$s #>> ''{}'')::date + 1)', expr, src)
        WHEN '>'  THEN format('%s >= (%s #>> ''{}'')::date + 1', expr, src)
        WHEN '>=' THEN format('%s >= (%s #>> ''{}'')::date', expr, src)
        WHEN '<'  THEN format('%s < (%s #>> ''{}'')::date', expr, src)
        WHEN '<=' THEN format('%s < (%s #>> ''{}'')::date + 1', expr, src) END
    ELSE format('%s %s (%s #>> ''{}'')::%s', expr, op, src, typ)
END;
COMMENT ON FUNCTION crm_internal.search_compare(text, text, regtype, text, text, jsonb) IS
    'internal to crm.client_search(): one comparison of a field with a filter value';

-- crm.client_search(): the predicate for one filter field (see doc/schema.md).
CREATE FUNCTION crm_internal.search_predicate(field text, expr text, kind text, typ regtype, src text, val jsonb)
    RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parts text[] := '{}';
    op text;
    bound jsonb;
    v text := format('(%s #>> ''{}'')', src);   -- the value as text
    pattern boolean := jsonb_typeof(val) = 'string' AND val #>> '{}' LIKE '%\%%';
BEGIN
    CASE jsonb_typeof(val)
    WHEN 'null' THEN
        RETURN format('%s IS NULL', expr);
    WHEN 'array' THEN
        FOR i IN 0 .. jsonb_array_length(val) - 1 LOOP
            parts := parts || crm_internal.search_predicate(field, expr, kind, typ, format('(%s -> %s)', src, i), val -> i);
        END LOOP;
        RETURN CASE WHEN cardinality(parts) = 0 THEN 'false'
                    ELSE '(' || array_to_string(parts, ' OR ') || ')' END;
    WHEN 'object' THEN
        IF kind NOT IN ('number', 'date', 'timestamp') THEN
            RAISE EXCEPTION 'filter field "%" takes no comparison operators', field
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Give a value, a pattern with %, a list of values or null.';
        END IF;
        FOR op, bound IN SELECT * FROM jsonb_each(val) LOOP
            IF op = 'between' THEN
                IF jsonb_typeof(bound) <> 'array' OR jsonb_array_length(bound) <> 2 THEN
                    RAISE EXCEPTION 'filter field "%": "between" takes an array of two values', field
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                -- a null bound leaves that end open
                IF jsonb_typeof(bound -> 0) <> 'null' THEN
                    parts := parts || crm_internal.search_compare(expr, kind, typ, '>=',
                                                         format('(%s -> ''between'' -> 0)', src), bound -> 0);
                END IF;
                IF jsonb_typeof(bound -> 1) <> 'null' THEN
                    parts := parts || crm_internal.search_compare(expr, kind, typ, '<=',
                                                         format('(%s -> ''between'' -> 1)', src), bound -> 1);
                END IF;
            ELSIF op IN ('=', '>', '>=', '<', '<=') AND jsonb_typeof(bound) IN ('null', 'object', 'array') THEN
                RAISE EXCEPTION 'filter field "%": operator "%" takes one value', field, op
                    USING ERRCODE = 'invalid_parameter_value';
            ELSIF op IN ('=', '>', '>=', '<', '<=') THEN
                parts := parts || crm_internal.search_compare(expr, kind, typ, op, format('(%s -> %L)', src, op), bound);
            ELSE
                RAISE EXCEPTION 'filter field "%": unrecognized operator "%"', field, op
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Use =, >, >=, <, <= or between.';
            END IF;
        END LOOP;
        RETURN CASE WHEN cardinality(parts) = 0 THEN 'true'
                    ELSE '(' || array_to_string(parts, ' AND ') || ')' END;
    ELSE
        RETURN CASE kind
            WHEN 'text' THEN
                format(CASE WHEN pattern THEN 'lower(%s) LIKE lower(%s)' ELSE 'lower(%s) = lower(%s)' END, expr, v)
            WHEN 'identifier' THEN
                CASE WHEN pattern THEN format('%s::text LIKE %s', expr, v)
                     ELSE format('%s = %s::%s', expr, v, typ) END
            WHEN 'phone' THEN
                CASE WHEN pattern THEN format('%s LIKE %s', expr, v)
                     ELSE format('%s = crm.normalize_phone(%s)', expr, v) END
            WHEN 'email' THEN
                CASE WHEN pattern THEN format('lower(%s) LIKE lower(%s)', expr, v)
                     ELSE format('lower(%s) = lower(crm.normalize_email(%s))', expr, v) END
            WHEN 'reference' THEN   -- a campaign or segment, by id or by name
                CASE WHEN jsonb_typeof(val) = 'number' THEN format('x.id = %s::bigint', v)
                     WHEN pattern THEN format('lower(x.name) LIKE lower(%s)', v)
                     ELSE format('lower(x.name) = lower(%s)', v) END
            ELSE crm_internal.search_compare(expr, kind, typ, '=', src, val)
        END;
    END CASE;
END
$$;
COMMENT ON FUNCTION crm_internal.search_predicate(text, text, text, regtype, text, jsonb) IS
    'internal to crm.client_search(): the SQL predicate for one filter field';

-- The condition on crm.client c that a filter makes, as SQL text: the
-- one home of the filter language, shared by crm.client_search() (through
-- client_search_ids() below) and the exports (src/sql/92_export.sql).
-- filter_sql is the SQL expression that reaches the filter where the
-- condition runs: '$1' for a parameter, or the filter quoted as a literal
-- (format('%L::jsonb', filter)) for a view; filter itself is read only for
-- its keys and the shapes of its values.  The text names crm's types
-- without their schema and compares them with crm's operators: it is
-- resolved under search_path pg_catalog, crm (as the callers pin it).
CREATE FUNCTION crm_internal.client_search_condition(filter jsonb, filter_sql text) RETURNS text
    LANGUAGE plpgsql STABLE
    -- the predicates compare crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    conds text[] := '{}';
    key text;
    val jsonb;
    src text;
    typ regtype;
    kind text;
    field record;
    exists_sql text;
    hidden text := 'visible';
    -- the contact-history keys: one contact must match them all
    contact_conds text[] := '{}';
    contact_key record;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF filter IS NULL OR jsonb_typeof(filter) <> 'object' THEN
        RAISE EXCEPTION 'client search filter must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example: {"last_name": "Kowal%", "city": "Kraków"}.';
    END IF;

    FOR key, val IN SELECT * FROM jsonb_each(filter) LOOP
        src := format('(%s -> %L)', filter_sql, key);
        exists_sql := NULL;
        IF key = 'hidden' THEN
            hidden := CASE val WHEN 'true' THEN 'hidden' WHEN 'false' THEN 'visible'
                               WHEN '"any"' THEN 'any' END;
            IF hidden IS NULL THEN
                RAISE EXCEPTION 'filter field "hidden" takes true, false or "any"'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
        ELSIF key IN ('phone', 'email') THEN
            exists_sql := format('SELECT FROM crm.contact k WHERE k.client_id = c.id AND k.kind = %L', key);
            IF jsonb_typeof(val) <> 'null' THEN
                exists_sql := exists_sql || ' AND '
                    || crm_internal.search_predicate(key, 'k.value', key, 'text', src, val);
            END IF;
        ELSIF key IN ('campaign', 'segment') THEN
            exists_sql := format('SELECT FROM crm.%1$s_member m JOIN crm.%1$s x ON x.id = m.%1$s_id '
                                 'WHERE m.client_id = c.id', key);
            IF jsonb_typeof(val) <> 'null' THEN
                exists_sql := exists_sql || ' AND '
                    || crm_internal.search_predicate(key, 'x.name', 'reference', 'text', src, val);
            END IF;
        ELSIF key IN ('call_type', 'call_status', 'classifier', 'attempts', 'min_attempts', 'callback_at',
                      'callback_before', 'callback_after', 'modified_by', 'modified_at', 'recording_ref',
                      'email_body') THEN
            -- a client having a contact (crm.interaction) with these details
            SELECT * INTO contact_key FROM (VALUES
                ('call_type', 'call_type', 'text', 'text'::regtype, NULL),
                ('call_status', 'call_status', 'text', 'text', NULL),
                ('classifier', 'classifier', 'text', 'text', NULL),
                ('attempts', 'attempts', 'number', 'integer', NULL),
                ('min_attempts', 'attempts', 'number', 'integer', '>='),
                ('callback_at', 'callback_at', 'timestamp', 'timestamptz', NULL),
                ('callback_before', 'callback_at', 'timestamp', 'timestamptz', '<'),
                ('callback_after', 'callback_at', 'timestamp', 'timestamptz', '>'),
                ('modified_by', 'modified_by', 'text', 'text', NULL),
                ('modified_at', 'modified_at', 'timestamp', 'timestamptz', NULL),
                ('recording_ref', 'recording_ref', 'text', 'text', NULL),
                ('email_body', 'email_body', 'text', 'text', NULL)) AS v(name, col, kind, typ, op)
            WHERE v.name = key;
            IF contact_key.op IS NULL THEN
                contact_conds := contact_conds || crm_internal.search_predicate(
                    key, format('i.%I', contact_key.col), contact_key.kind, contact_key.typ, src, val);
            ELSIF jsonb_typeof(val) NOT IN ('number', 'string') THEN
                RAISE EXCEPTION 'filter field "%" takes one value', key
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = CASE contact_key.kind WHEN 'number' THEN 'For example: {"min_attempts": 3}.'
                                 ELSE format('For example: {"%s": "2026-06-30"}.', key) END;
            ELSE
                contact_conds := contact_conds || crm_internal.search_compare(
                    format('i.%I', contact_key.col), contact_key.kind, contact_key.typ, contact_key.op, src, val);
            END IF;
        ELSIF key = 'unit_within' THEN
            IF jsonb_typeof(val) <> 'number' THEN
                RAISE EXCEPTION 'filter field "unit_within" takes a unit id'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            conds := conds || format('crm.unit_contains((%s #>> ''{}'')::bigint, c.unit_id)', src);
        ELSIF key LIKE 'custom:%' THEN
            SELECT * INTO field FROM crm.custom_field f WHERE lower(f.name) = lower(substr(key, 8));
            IF NOT FOUND THEN
                RAISE EXCEPTION 'custom field "%" does not exist', substr(key, 8)
                    USING ERRCODE = 'undefined_object';
            END IF;
            exists_sql := format('SELECT FROM crm.custom_value v WHERE v.client_id = c.id AND v.field_id = %s',
                                 field.id);
            IF jsonb_typeof(val) <> 'null' THEN
                exists_sql := exists_sql || ' AND '
                    || CASE field.type
                       WHEN 'number' THEN crm_internal.search_predicate(key, 'v.number_value', 'number', 'numeric', src, val)
                       -- a PESEL, NIP or REGON in any format finds its digits
                       WHEN 'pesel' THEN crm_internal.search_predicate(key, 'v.text_value::crm.pesel', 'identifier', 'crm.pesel', src, val)
                       WHEN 'nip' THEN crm_internal.search_predicate(key, 'v.text_value::crm.nip', 'identifier', 'crm.nip', src, val)
                       WHEN 'regon' THEN crm_internal.search_predicate(key, 'v.text_value::crm.regon', 'identifier', 'crm.regon', src, val)
                       ELSE crm_internal.search_predicate(key, 'v.text_value', 'text', 'text', src, val) END;
            END IF;
        ELSE
            SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
            WHERE a.attrelid = 'crm.client'::regclass AND a.attname = key
              AND a.attnum > 0 AND NOT a.attisdropped;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'unrecognized client search filter field "%"', key
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Filter on a column of crm.client, on phone, email, campaign, segment, '
                                 'unit_within, hidden, custom:<field name> or a contact''s call_type, call_status, '
                                 'classifier, attempts, min_attempts, callback_at, callback_before, callback_after, '
                                 'modified_by, modified_at, recording_ref, email_body.';
            END IF;
            kind := CASE
                WHEN typ IN ('text'::regtype, 'character varying'::regtype) THEN 'text'
                WHEN typ IN ('crm.pesel'::regtype, 'crm.nip'::regtype, 'crm.regon'::regtype) THEN 'identifier'
                WHEN typ IN ('bigint'::regtype, 'integer'::regtype, 'numeric'::regtype) THEN 'number'
                WHEN typ = 'date'::regtype THEN 'date'
                WHEN typ = 'timestamp with time zone'::regtype THEN 'timestamp'
                ELSE 'value' END;
            conds := conds || crm_internal.search_predicate(key, format('c.%I', key), kind, typ, src, val);
        END IF;
        IF exists_sql IS NOT NULL THEN
            conds := conds || format(CASE WHEN jsonb_typeof(val) = 'null' THEN 'NOT EXISTS (%s)'
                                          ELSE 'EXISTS (%s)' END, exists_sql);
        END IF;
    END LOOP;

    IF cardinality(contact_conds) > 0 THEN
        conds := conds || format('EXISTS (SELECT FROM crm.interaction i WHERE i.client_id = c.id AND %s)',
                                 array_to_string(contact_conds, ' AND '));
    END IF;
    IF hidden = 'visible' THEN
        conds := conds || 'crm_internal.client_is_visible(c.hidden_at, c.anonymized_at)'::text;
    ELSIF hidden = 'hidden' THEN
        conds := conds || 'c.hidden_at IS NOT NULL'::text;
    END IF;
    RETURN CASE WHEN cardinality(conds) = 0 THEN 'true'
                ELSE array_to_string(conds, ' AND ') END;
END
$$;
COMMENT ON FUNCTION crm_internal.client_search_condition(jsonb, text) IS
    'internal to crm.client_search() and the exports: the SQL condition on crm.client c that a filter makes, reaching the filter through filter_sql';

-- The ids of the clients a filter selects; crm.client_search() (part of
-- the data model above: it returns rows of crm.client) returns their rows.
CREATE FUNCTION crm_internal.client_search_ids(filter jsonb) RETURNS SETOF bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, crm, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT c.id FROM crm.client c WHERE %s',
                                crm_internal.client_search_condition(filter, '$1'))
        USING filter;
END
$$;
COMMENT ON FUNCTION crm_internal.client_search_ids(jsonb) IS
    'internal to crm.client_search(): the ids of the clients its filter selects, read with the caller''s rights (the filter''s syntax: crm.client_search)';
