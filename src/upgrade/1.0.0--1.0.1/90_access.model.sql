-- The model's new tables and views belong to the model's owner (the step
-- runs as the role that updates the extension or installs the model), and
-- a database that uses crm's roles and row-level security gets them on
-- the new tables too: crm.create_roles() and crm.enable_row_security() are
-- run again (both idempotent) when they had been run before.
DO $access$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT m.relation, c.relkind
        FROM crm_internal.model_tables() m
        JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(m.relation)
        WHERE c.relowner <> crm_internal.model_owner()
    LOOP
        EXECUTE pg_catalog.format('ALTER %s %s OWNER TO %I',
                                  CASE r.relkind WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, r.relation,
                                  crm_internal.model_owner()::regrole::text);
    END LOOP;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles x WHERE x.rolname = 'crm_agent') THEN
        PERFORM crm_internal.create_roles();
    END IF;
    IF (SELECT c.relrowsecurity FROM pg_catalog.pg_class c WHERE c.oid = 'crm.client'::regclass) THEN
        PERFORM crm_internal.enable_row_security();
    END IF;
END
$access$;
