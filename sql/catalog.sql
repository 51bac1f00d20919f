--
-- catalog: what the extension installs, and the niceties every object owes
--

-- every function, type, operator, cast, table and view has a comment
SELECT pg_describe_object(classid, objid, objsubid) AS uncommented
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'crm')
  AND deptype = 'e'
  AND (classid IN ('pg_proc'::regclass, 'pg_type'::regclass, 'pg_operator'::regclass, 'pg_cast'::regclass)
       OR (classid = 'pg_class'::regclass AND (SELECT relkind FROM pg_class WHERE oid = objid) IN ('r', 'v')))
  AND obj_description(objid, classid::regclass::text) IS NULL
ORDER BY 1;

-- the C functions (types, normalization) are immutable, strict, parallel safe;
-- match_keys alone is not strict: a client has a key with some names null
SELECT p.oid::regprocedure AS c_function, p.provolatile, p.proparallel, p.proisstrict
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace AND p.prolang IN (13, 12) -- c, internal
  AND (p.provolatile <> 'i' OR p.proparallel <> 's' OR NOT p.proisstrict)
ORDER BY p.oid::regprocedure::text;

-- nothing that writes is parallel safe
SELECT p.oid::regprocedure AS volatile_but_parallel_safe
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace AND p.provolatile = 'v' AND p.proparallel = 's';

-- every SQL and PL/pgSQL function pins a search_path with pg_catalog first
-- and pg_temp last, so that objects a user plants cannot capture its names
SELECT p.oid::regprocedure AS unpinned, p.proconfig
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace AND p.prolang NOT IN (13, 12)
  AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c
                  WHERE c ~ '^search_path=pg_catalog(, crm)?, pg_temp$')
ORDER BY p.oid::regprocedure::text;

-- no function is SECURITY DEFINER without a pinned search_path
SELECT p.oid::regprocedure AS unsafe_definer
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace AND p.prosecdef
  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');

-- views apply the querying user's privileges and row-level security
SELECT c.oid::regclass AS view_without_security_invoker
FROM pg_class c
WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind = 'v'
  AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false);

-- pg_dump keeps every table's data and every identity sequence's state (but
-- pending anonymization codes, which live minutes)
SELECT c.oid::regclass AS not_dumped
FROM pg_class c
WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind IN ('r', 'S')
  AND NOT EXISTS (SELECT FROM pg_extension e WHERE e.extname = 'crm' AND c.oid = ANY (e.extconfig))
ORDER BY c.oid::regclass::text;

-- every foreign key to crm.client has an index led by its column
SELECT con.conrelid::regclass AS unindexed_fk
FROM pg_constraint con
WHERE con.contype = 'f' AND con.confrelid = 'crm.client'::regclass
  AND NOT EXISTS (SELECT FROM pg_index i
                  WHERE i.indrelid = con.conrelid AND i.indkey[0] = con.conkey[1]);

-- the interface
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace
  AND p.prorettype <> 'trigger'::regtype
  AND p.proname !~ '_(in|out|recv|send|cmp|sortsupport|hash|hash_extended|eq|ne|lt|le|gt|ge)$'
ORDER BY p.oid::regprocedure::text;
SELECT c.relname AS relation, c.relkind
FROM pg_class c WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind IN ('r', 'v')
ORDER BY c.relkind, c.relname;

SELECT extname, extversion, extrelocatable, extnamespace::regnamespace
FROM pg_extension WHERE extname = 'crm';
