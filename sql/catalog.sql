--
-- catalog: what the extension installs, and the niceties every object owes
--

-- every function, type, operator, operator class and cast has a comment
SELECT pg_describe_object(classid, objid, objsubid) AS uncommented
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'crm')
  AND deptype = 'e'
  AND classid IN ('pg_proc'::regclass, 'pg_type'::regclass, 'pg_operator'::regclass,
                  'pg_cast'::regclass, 'pg_class'::regclass)
  AND obj_description(objid, classid::regclass::text) IS NULL
ORDER BY 1;

-- every function states its volatility and parallel safety on purpose:
-- the identifier functions are immutable, strict and parallel safe
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.proisstrict
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace
  AND (p.provolatile <> 'i' OR p.proparallel <> 's' OR NOT p.proisstrict)
ORDER BY 1::text;

-- no function is SECURITY DEFINER without a pinned search_path
SELECT p.oid::regprocedure AS unsafe_definer
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace AND p.prosecdef
  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');

-- the public interface
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace
  AND p.proname !~ '_(in|out|recv|send|cmp|sortsupport|hash|hash_extended|eq|ne|lt|le|gt|ge)$'
ORDER BY 1::text;

SELECT extname, extversion, extrelocatable, extnamespace::regnamespace
FROM pg_extension WHERE extname = 'crm';
