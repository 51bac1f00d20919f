-- The step drops and makes again four views of the model (an extension's
-- script may not replace what the extension does not own): client_policy,
-- client_overview, client_report (10_policies) and contact_history
-- (22_call_outcomes).  A view of the DBA's built on one of them would make
-- the drop fail: refused first, with what to do.  The grants given on them
-- are kept for 90_access.model.sql to give again.
DO $views$
DECLARE
    remade regclass[] := ARRAY['crm.client_policy', 'crm.client_overview', 'crm.client_report',
                               'crm.contact_history']::regclass[];
    dependents text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT pg_catalog.format('%s depends on %s',
               (SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
                JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = r.ev_class),
               'crm.' || (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = d.refobjid)), '; ')
    INTO dependents
    FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
    WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
      AND d.refobjid = ANY (remade) AND r.ev_class <> ALL (remade);
    IF dependents IS NOT NULL THEN
        RAISE EXCEPTION 'cannot upgrade crm''s data model: views depend on views it makes again'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('%s; crm 1.0.1 drops and makes again crm.client_policy, crm.client_overview, crm.client_report and crm.contact_history, with new columns.',
                                             dependents),
                  HINT = 'Drop those views, upgrade, then create them again.';
    END IF;
    PERFORM pg_catalog.set_config('crm_upgrade.view_acl',
        (SELECT pg_catalog.jsonb_object_agg(c.oid::regclass::text, c.relacl::text[])
         FROM pg_catalog.pg_class c WHERE c.oid = ANY (remade) AND c.relacl IS NOT NULL)::text, true);
END
$views$;
