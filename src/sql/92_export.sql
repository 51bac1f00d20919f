--------------------------------------------------------------------------
-- Export (WB-3): a filtered selection of clients with chosen columns, as
-- CSV through COPY and as an xlsx workbook (doc/working-with-the-base.md)
--------------------------------------------------------------------------

-- The one home of an export's query: the columns, checked against the
-- catalog, and the filter of crm.client_search() (its condition comes from
-- crm_internal.client_search_condition(), reaching the filter through the
-- SQL expression filter_sql).  Nothing the caller gives is pasted into the
-- text: column names become quoted identifiers (%I) of columns found in
-- pg_attribute, custom fields are referred to by id, the filter is reached
-- through filter_sql.  The text names crm's types without their schema
-- and compares them with crm's operators: it runs where crm is on the
-- search_path, as in the view that crm.export_clients() makes and in
-- crm.export_clients_xlsx().
CREATE FUNCTION crm_internal.export_query(filter jsonb, columns text[], filter_sql text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    cols text[] := coalesce(columns, ARRAY['id', 'kind', 'display_name', 'first_name', 'last_name',
                                           'company_name', 'pesel', 'nip', 'regon', 'city', 'postal_code',
                                           'address', 'phone', 'email', 'unit_path', 'owner', 'created_at',
                                           'last_contact_at']);
    col text;
    header text;
    headers text[] := '{}';
    exprs text[] := '{}';
    joins text := '';
    field record;
    n integer := 0;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF cardinality(cols) IS NULL OR cardinality(cols) = 0 THEN
        RAISE EXCEPTION 'an export needs at least one column'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give the columns as a text array, for example ''{id,last_name,phone}'', or NULL for the default set.';
    END IF;
    FOREACH col IN ARRAY cols LOOP
        n := n + 1;
        IF col IS NULL THEN
            RAISE EXCEPTION 'export column % is null', n
                USING ERRCODE = 'null_value_not_allowed',
                      HINT = 'Name every column: a column of crm.client, phone, email, unit_path or custom:<field name>.';
        ELSIF col IN ('phone', 'email') THEN
            -- the client's default phone or e-mail (exactly one per kind
            -- while it has any: src/sql/35_contacts.sql)
            header := col;
            exprs := exprs || format('export_%s.value', col);
            joins := joins || format(' LEFT JOIN crm.contact export_%1$s ON export_%1$s.client_id = c.id'
                                     ' AND export_%1$s.kind = %2$L AND export_%1$s.is_default', col, col);
        ELSIF col = 'unit_path' THEN
            header := col;
            exprs := exprs || 'export_unit.path'::text;
            joins := joins || ' LEFT JOIN crm.unit_tree export_unit ON export_unit.id = c.unit_id';
        ELSIF col LIKE 'custom:%' THEN
            SELECT f.id, f.name, f.type INTO field FROM crm.custom_field f WHERE lower(f.name) = lower(substr(col, 8));
            IF NOT FOUND THEN
                RAISE EXCEPTION 'custom field "%" does not exist', substr(col, 8)
                    USING ERRCODE = 'undefined_object',
                          DETAIL = format('Export column %s names it.', n),
                          HINT = 'The custom fields are listed in crm.custom_field.';
            END IF;
            header := 'custom:' || field.name;
            exprs := exprs || format('export_f%s.%s', field.id,
                                     CASE field.type WHEN 'number' THEN 'number_value' ELSE 'text_value' END);
            joins := joins || format(' LEFT JOIN crm.custom_value export_f%1$s ON export_f%1$s.client_id = c.id'
                                     ' AND export_f%1$s.field_id = %1$s', field.id);
        ELSE
            -- crm's columns and those a DBA added, by their exact name
            SELECT a.attname INTO header FROM pg_attribute a
            WHERE a.attrelid = 'crm.client'::regclass AND a.attname = col
              AND a.attnum > 0 AND NOT a.attisdropped;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'unrecognized export column "%"', col
                    USING ERRCODE = 'undefined_column',
                          DETAIL = format('Export column %s is neither a column of crm.client nor one of phone, email, unit_path, custom:<field name>.', n),
                          HINT = 'Columns of crm.client are named exactly as in \d crm.client (lower case); custom fields as custom:<field name>.';
            END IF;
            exprs := exprs || format('c.%I', header);
        END IF;
        IF header = ANY (headers) THEN
            RAISE EXCEPTION 'export column "%" is given twice', header
                USING ERRCODE = 'duplicate_column',
                      DETAIL = format('Export column %s repeats an earlier one.', n),
                      HINT = 'Name each column once.';
        END IF;
        headers := headers || header;
    END LOOP;

    RETURN format('SELECT %s FROM crm.client c%s WHERE %s ORDER BY c.id',
                  (SELECT string_agg(format('%s AS %I', e, h), ', ' ORDER BY i)
                   FROM unnest(exprs, headers) WITH ORDINALITY AS x(e, h, i)),
                  joins,
                  crm_internal.client_search_condition(filter, filter_sql));
END
$$;
COMMENT ON FUNCTION crm_internal.export_query(jsonb, text[], text) IS
    'internal to the exports: the query of crm.export_clients_sql(), the filter reached through the SQL expression filter_sql';

-- the filter as a quoted literal: the text stands alone
CREATE FUNCTION crm.export_clients_sql(filter jsonb, columns text[] DEFAULT NULL) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, crm, pg_temp
RETURN crm_internal.export_query(filter, columns, format('%L::jsonb', filter));
COMMENT ON FUNCTION crm.export_clients_sql(jsonb, text[]) IS
    'the query of an export: the clients crm.client_search(filter) selects, with the columns named (a column of crm.client, phone, email, unit_path, custom:<field name>; NULL: a default set), ordered by id; run it with crm on the search_path';

-- CSV through COPY: a temporary view of the export's query, which COPY (and
-- any client of the session) reads like a table.  The executor streams it:
-- no set-returning function collects the rows first.
CREATE FUNCTION crm.export_clients(filter jsonb, columns text[] DEFAULT NULL,
                                   view_name text DEFAULT 'client_export') RETURNS regclass
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    -- The filter is kept in a setting of this session, which the view
    -- reads, and not written into the view: a view's text is in the
    -- catalog, which every role of the database reads (pg_views), and a
    -- filter may hold personal data (a PESEL, a phone number).  The
    -- setting is the session's own; a rolled back call restores it.
    setting text := 'crm_export.filter_' || md5(coalesce(view_name, ''));
    query text := crm_internal.export_query(filter, columns, format('current_setting(%L)::jsonb', setting));
BEGIN
    IF coalesce(view_name, '') = '' THEN
        RAISE EXCEPTION 'the export''s view needs a name'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave view_name out for the default, client_export.';
    END IF;
    PERFORM set_config(setting, filter::text, false);
    -- the session's own temporary view, made again on every call (another
    -- kind of relation of that name is not dropped: DROP VIEW refuses it)
    IF to_regclass(format('pg_temp.%I', view_name)) IS NOT NULL THEN
        EXECUTE format('DROP VIEW pg_temp.%I', view_name);
    END IF;
    -- security_invoker: whoever reads the view reads with its own rights
    -- and row-level security, also after a SET ROLE in this session
    EXECUTE format('CREATE TEMPORARY VIEW %I WITH (security_invoker = true) AS %s', view_name, query);
    RETURN format('pg_temp.%I', view_name)::regclass;
END
$$;
COMMENT ON FUNCTION crm.export_clients(jsonb, text[], text) IS
    'an export as a temporary view of this session (default client_export): COPY (SELECT * FROM client_export) TO STDOUT WITH (FORMAT csv, HEADER); columns and filter as crm.export_clients_sql()';

-- xlsx: src/export.c writes the export's rows, typed, with libxlsxwriter in
-- its constant-memory mode.
CREATE FUNCTION crm.export_clients_xlsx(filter jsonb, columns text[] DEFAULT NULL) RETURNS bytea
    AS 'MODULE_PATHNAME', 'export_clients_xlsx' LANGUAGE C VOLATILE
    SET search_path = pg_catalog, crm, pg_temp;
COMMENT ON FUNCTION crm.export_clients_xlsx(jsonb, text[]) IS
    'an export as an xlsx workbook (bytea, at most 1 GB): a header row, then one row per client, numbers, dates and timestamps as typed cells; a sheet holds 1,048,575 clients, the next ones go on further sheets';

CREATE FUNCTION crm.export_clients_xlsx_file(filter jsonb, columns text[], path text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'export_clients_xlsx_file' LANGUAGE C VOLATILE
    SET search_path = pg_catalog, crm, pg_temp;
COMMENT ON FUNCTION crm.export_clients_xlsx_file(jsonb, text[], text) IS
    'an export written as an xlsx file on the server (absolute path; superusers and members of pg_write_server_files, as COPY TO a file); returns the number of clients written';
