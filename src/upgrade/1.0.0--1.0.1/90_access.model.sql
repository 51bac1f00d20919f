-- The model's new tables and views belong to the model's owner (the step
-- runs as the role that updates the extension or installs the model), the
-- views made again get back the grants they had (00_views.model.sql), and
-- a database that uses crm's roles and row-level security gets them on
-- the new tables too: crm.create_roles() and crm.enable_row_security() are
-- run again (both idempotent) when they had been run before in this
-- database.
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
        EXECUTE pg_catalog.format('ALTER %s %s OWNER TO %s',
                                  CASE r.relkind WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, r.relation,
                                  crm_internal.model_owner()::regrole);
    END LOOP;
    -- (crm's roles are the cluster's: whether this database granted them)
    IF EXISTS (SELECT FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
               WHERE c.oid = 'crm.client'::regclass
                 AND a.grantee = (SELECT x.oid FROM pg_catalog.pg_roles x WHERE x.rolname = 'crm_agent')) THEN
        PERFORM crm_internal.create_roles();
    END IF;
    IF (SELECT c.relrowsecurity FROM pg_catalog.pg_class c WHERE c.oid = 'crm.client'::regclass) THEN
        PERFORM crm_internal.enable_row_security();
    END IF;
    -- the grants on the views made again (00_views.model.sql), after crm's
    -- roles' own (as they were first), in their order
    FOR r IN
        SELECT v.key AS relation, a.grantee, a.privilege_type, a.is_grantable
        FROM pg_catalog.jsonb_each(coalesce(nullif(pg_catalog.current_setting('crm_upgrade.view_acl', true), ''), '{}')::jsonb) v,
             LATERAL pg_catalog.aclexplode(ARRAY(SELECT pg_catalog.jsonb_array_elements_text(v.value))::aclitem[]) a
        WHERE a.grantee <> crm_internal.model_owner()
    LOOP
        EXECUTE pg_catalog.format('GRANT %s ON %s TO %s%s', r.privilege_type, r.relation,
                                  CASE r.grantee WHEN 0 THEN 'PUBLIC' ELSE r.grantee::regrole::text END,
                                  CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$access$;
