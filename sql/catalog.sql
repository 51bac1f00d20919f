--
-- catalog: what the extension installs, and the niceties every object owes
--

-- every function, type, operator, cast, table and view of the extension
-- has a comment, and so has every table, view and function of the data model
-- (not the array types and tables' row types PostgreSQL makes along: from
-- version 17 on they are members of the extension too; a table's comment is
-- checked below)
SELECT pg_describe_object(classid, objid, objsubid) AS uncommented
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'crm')
  AND deptype = 'e'
  AND (classid IN ('pg_proc'::regclass, 'pg_type'::regclass, 'pg_operator'::regclass, 'pg_cast'::regclass)
       OR (classid = 'pg_class'::regclass AND (SELECT relkind FROM pg_class WHERE oid = objid) IN ('r', 'v')))
  AND NOT (classid = 'pg_type'::regclass
           AND (SELECT t.typcategory = 'A' OR c.relkind IN ('r', 'v')
                FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid
                WHERE t.oid = objid))
  AND obj_description(objid, classid::regclass::text) IS NULL
UNION ALL
SELECT pg_describe_object('pg_class'::regclass, c.oid, 0)
FROM pg_class c
WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind IN ('r', 'v')
  AND obj_description(c.oid, 'pg_class') IS NULL
UNION ALL
SELECT pg_describe_object('pg_proc'::regclass, p.oid, 0)
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL
ORDER BY 1;

-- every column of every table and view of the data model has a comment,
-- so that \d+, BI tools and reflecting ORMs say what a field means
-- (test/reflection.py checks what SQLAlchemy reads of them)
SELECT c.oid::regclass AS relation, a.attname AS uncommented_column
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND col_description(c.oid, a.attnum) IS NULL
ORDER BY 1, 2;

-- the extension owns the logic, the database the data: no table, view or
-- sequence of schema crm belongs to the extension, and the extension's own
-- tables (the data model's source) live in crm_internal
SELECT pg_describe_object(d.classid, d.objid, 0) AS misplaced, c.relnamespace::regnamespace
FROM pg_depend d JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'crm')
  AND c.relnamespace <> 'crm_internal'::regnamespace
ORDER BY 1;

-- the C functions (types, normalization) are immutable, strict, parallel safe;
-- match_keys and crm_internal.match_frequency_keys are not strict: a client
-- has keys with some names null; nor crm_internal.common_name_bearers: a
-- base without birth dates has no u_birth
SELECT p.oid::regprocedure AS c_function, p.provolatile, p.proparallel, p.proisstrict
FROM pg_proc p
WHERE p.pronamespace IN ('crm'::regnamespace, 'crm_internal'::regnamespace) AND p.prolang IN (13, 12) -- c, internal
  AND (p.provolatile <> 'i' OR p.proparallel <> 's' OR NOT p.proisstrict)
ORDER BY p.oid::regprocedure::text;

-- nothing that writes is parallel safe
SELECT p.oid::regprocedure AS volatile_but_parallel_safe
FROM pg_proc p
WHERE p.pronamespace IN ('crm'::regnamespace, 'crm_internal'::regnamespace) AND p.provolatile = 'v' AND p.proparallel = 's';

-- every SQL and PL/pgSQL function pins a search_path with pg_catalog first
-- and pg_temp last, so that objects a user plants cannot capture its names;
-- but a function with an SQL-standard body that names nothing (its names
-- were bound when it was created, and without a SET clause the planner
-- inlines it)
SELECT p.oid::regprocedure AS unpinned, p.proconfig
FROM pg_proc p
WHERE p.pronamespace IN ('crm'::regnamespace, 'crm_internal'::regnamespace) AND p.prolang NOT IN (13, 12)
  AND NOT (p.prosqlbody IS NOT NULL AND p.proconfig IS NULL
           AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                             AND d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass, 'pg_class'::regclass)))
  AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c
                  WHERE c ~ '^search_path=pg_catalog(, crm)?, pg_temp$')
ORDER BY p.oid::regprocedure::text;

-- no function is SECURITY DEFINER without a pinned search_path
SELECT p.oid::regprocedure AS unsafe_definer
FROM pg_proc p
WHERE p.pronamespace IN ('crm'::regnamespace, 'crm_internal'::regnamespace) AND p.prosecdef
  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');

-- views apply the querying user's privileges and row-level security
SELECT c.oid::regclass AS view_without_security_invoker
FROM pg_class c
WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind = 'v'
  AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false);

-- the extension registers no configuration table: pg_dump dumps the data
-- model as it dumps any table
SELECT extconfig AS config_tables FROM pg_extension WHERE extname = 'crm';

-- every table of the data model has a primary key: logical replication
-- (and distributed engines) need a replica identity for UPDATE and DELETE
SELECT c.oid::regclass AS without_primary_key
FROM pg_class c
WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary);

-- every foreign key to crm.client has an index led by its column
SELECT con.conrelid::regclass AS unindexed_fk
FROM pg_constraint con
WHERE con.contype = 'f' AND con.confrelid = 'crm.client'::regclass
  AND NOT EXISTS (SELECT FROM pg_index i
                  WHERE i.indrelid = con.conrelid AND i.indkey[0] = con.conkey[1]);

-- the interface: \df crm.* is the user's manual (the machinery lives in
-- crm_internal)
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace
ORDER BY p.oid::regprocedure::text;
-- every argument of a public function has a name (callers may name them)
SELECT p.oid::regprocedure AS unnamed_argument
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace AND p.pronargs > 0
  AND (p.proargnames IS NULL
       OR EXISTS (SELECT FROM unnest(p.proargnames,
                                     coalesce(p.proargmodes, array_fill('i'::"char", ARRAY[p.pronargs]))) AS a(name, mode)
                  WHERE a.mode IN ('i', 'b', 'v') AND a.name = ''));
-- no trigger function or type support function among them
SELECT p.oid::regprocedure AS machinery_in_crm
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace
  AND (p.prorettype IN ('trigger'::regtype, 'cstring'::regtype)
       OR 'internal'::regtype = ANY (p.proargtypes::regtype[]));
SELECT c.relname AS relation, c.relkind
FROM pg_class c WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind IN ('r', 'v')
ORDER BY c.relkind, c.relname;

-- access (doc/security.md): every table and view of the data model has its
-- category in crm_internal.model_tables(), which crm.create_roles() grants
-- by, and the list names nothing else
SELECT coalesce(c.oid::regclass::text, m.relation) AS not_in_both, m.category
FROM (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind IN ('r', 'v')) c
FULL JOIN crm_internal.model_tables() m ON to_regclass(m.relation) = c.oid
WHERE c.oid IS NULL OR m.relation IS NULL;
-- every function granted to a crm role exists and is not PUBLIC's
SELECT f.function_signature AS granted_but_public
FROM crm_internal.role_functions() f
WHERE has_function_privilege('public', f.function_signature::regprocedure, 'EXECUTE');
-- the SECURITY DEFINER functions: each checks its caller first (doc/security.md)
SELECT p.oid::regprocedure AS security_definer
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
WHERE p.prosecdef AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'crm')
ORDER BY p.oid::regprocedure::text;

SELECT extname, extversion, extrelocatable, extnamespace::regnamespace
FROM pg_extension WHERE extname = 'crm';
