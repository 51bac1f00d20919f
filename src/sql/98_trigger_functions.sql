--------------------------------------------------------------------------
-- Trigger functions belong to crm's own tables
--
-- PostgreSQL checks EXECUTE on a trigger function when a trigger is
-- created, never when it fires.  Without EXECUTE no role can attach one of
-- crm's trigger functions to a table of its own (a temporary table): there
-- a SECURITY DEFINER one would act with the owner's rights on made-up rows
-- (locking or changing any client), and a C one would read columns of
-- types it does not expect.  crm's own triggers, created by the owner,
-- fire for every writer as before.  The functions that run with more
-- rights or read columns in C also check the table they fire on.
-- Every trigger function of the extension: this file comes after all that
-- define one.
--------------------------------------------------------------------------
DO $trigger_functions$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid FROM pg_catalog.pg_proc p
        WHERE p.pronamespace IN ('crm'::regnamespace, 'crm_internal'::regnamespace)
          AND p.prorettype = 'pg_catalog.trigger'::regtype
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$trigger_functions$;
