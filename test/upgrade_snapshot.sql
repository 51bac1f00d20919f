-- test/upgrade_snapshot.sql: what test/upgrade.sh compares between an
-- upgraded database and a fresh one (the data model's schema is compared
-- separately, with pg_dump).  Run with psql -At -v since='<timestamptz>':
-- timestamps taken at or after :'since' (the test's start) are written as
-- "now", so that two databases loaded a few seconds apart compare equal.
-- Output: lines "== <part>: <object>" followed by its definition.
SET client_min_messages = warning;
SELECT set_config('crm_test.since', :'since', false) \g /dev/null

CREATE TEMP TABLE snap (part text, object text, def text);

-- (a) the extension's members, each with its definition
WITH m AS (
    SELECT d.classid, d.objid
    FROM pg_depend d
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
      AND d.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'crm')
)
INSERT INTO snap
SELECT 'member', pg_describe_object(m.classid, m.objid, 0),
    CASE m.classid
    WHEN 'pg_proc'::regclass THEN (
        SELECT CASE WHEN p.prokind = 'a' THEN (
                   SELECT format('aggregate kind %s transfn %s finalfn %s combinefn %s serialfn %s deserialfn %s sortop %s stype %s initval %s finalmodify %s',
                                 a.aggkind, a.aggtransfn::regprocedure, a.aggfinalfn::regprocedure,
                                 a.aggcombinefn::regprocedure, a.aggserialfn::regprocedure,
                                 a.aggdeserialfn::regprocedure, a.aggsortop::regoperator,
                                 a.aggtranstype::regtype, a.agginitval, a.aggfinalmodify)
                   FROM pg_aggregate a WHERE a.aggfnoid = p.oid)
               ELSE pg_get_functiondef(p.oid) END
               || E'\nacl ' || coalesce(p.proacl::text, '(default)')
        FROM pg_proc p WHERE p.oid = m.objid)
    WHEN 'pg_type'::regclass THEN (
        SELECT format(E'type %s len %s byval %s category %s preferred %s delim %s\ninput %s output %s receive %s send %s modin %s modout %s analyze %s subscript %s\nalign %s storage %s notnull %s base %s default %s collation %s elem %s array %s relation %s acl %s',
                      t.typtype, t.typlen, t.typbyval, t.typcategory, t.typispreferred, t.typdelim,
                      t.typinput::regprocedure, t.typoutput::regprocedure, t.typreceive::regprocedure,
                      t.typsend::regprocedure, t.typmodin::regprocedure, t.typmodout::regprocedure,
                      t.typanalyze::regprocedure, t.typsubscript::regprocedure,
                      t.typalign, t.typstorage, t.typnotnull, format_type(t.typbasetype, t.typtypmod),
                      t.typdefault, t.typcollation::regcollation, t.typelem::regtype,
                      t.typarray::regtype, t.typrelid::regclass, t.typacl)
            || coalesce(E'\nlabels ' || (SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)
                                          FROM pg_enum e WHERE e.enumtypid = t.oid), '')
            || coalesce(E'\nconstraints ' || (SELECT string_agg(c.conname || ' ' || pg_get_constraintdef(c.oid), ', ' ORDER BY c.conname)
                                               FROM pg_constraint c WHERE c.contypid = t.oid), '')
            || coalesce(E'\nattributes ' || (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                                              FROM pg_attribute a
                                              WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '')
        FROM pg_type t WHERE t.oid = m.objid)
    WHEN 'pg_operator'::regclass THEN (
        SELECT format('operator %s(%s, %s) returns %s code %s rest %s join %s commutator %s negator %s merges %s hashes %s',
                      o.oprname, o.oprleft::regtype, o.oprright::regtype, o.oprresult::regtype,
                      o.oprcode::regprocedure, o.oprrest::regprocedure, o.oprjoin::regprocedure,
                      o.oprcom::regoperator, o.oprnegate::regoperator, o.oprcanmerge, o.oprcanhash)
        FROM pg_operator o WHERE o.oid = m.objid)
    WHEN 'pg_cast'::regclass THEN (
        SELECT format('context %s method %s function %s', c.castcontext, c.castmethod, c.castfunc::regprocedure)
        FROM pg_cast c WHERE c.oid = m.objid)
    WHEN 'pg_opclass'::regclass THEN (
        SELECT format('method %s input %s default %s storage %s %s',
                      am.amname, c.opcintype::regtype, c.opcdefault, c.opckeytype::regtype,
                      pg_describe_object('pg_opfamily'::regclass, c.opcfamily, 0))
        FROM pg_opclass c JOIN pg_am am ON am.oid = c.opcmethod WHERE c.oid = m.objid)
    WHEN 'pg_opfamily'::regclass THEN (
        SELECT coalesce(string_agg(x, E'\n' ORDER BY x), '(empty)') FROM (
            SELECT format('operator %s %s %s %s', o.amopstrategy, o.amopopr::regoperator,
                          o.amoppurpose, o.amopsortfamily) AS x
            FROM pg_amop o WHERE o.amopfamily = m.objid
            UNION ALL
            SELECT format('function %s (%s, %s) %s', p.amprocnum, p.amproclefttype::regtype,
                          p.amprocrighttype::regtype, p.amproc::regprocedure)
            FROM pg_amproc p WHERE p.amprocfamily = m.objid) f)
    WHEN 'pg_class'::regclass THEN (
        SELECT format('kind %s acl %s', c.relkind, c.relacl)
            || coalesce(E'\n' || (SELECT string_agg(format('column %s %s%s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                                                            CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                                                            CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END,
                                                            coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')), E'\n' ORDER BY a.attnum)
                                   FROM pg_attribute a
                                   LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
            || coalesce(E'\n' || (SELECT string_agg(pg_get_indexdef(i.indexrelid), E'\n' ORDER BY 1)
                                   FROM pg_index i WHERE i.indrelid = c.oid), '')
            || coalesce(E'\n' || (SELECT string_agg('constraint ' || k.conname || ' ' || pg_get_constraintdef(k.oid), E'\n' ORDER BY k.conname)
                                   FROM pg_constraint k WHERE k.conrelid = c.oid), '')
            || coalesce(E'\n' || (SELECT string_agg(pg_get_triggerdef(g.oid), E'\n' ORDER BY g.tgname)
                                   FROM pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal), '')
            || CASE WHEN c.relkind IN ('v', 'm') THEN E'\n' || pg_get_viewdef(c.oid) ELSE '' END
            || coalesce(E'\n' || (SELECT format('sequence %s start %s increment %s min %s max %s cache %s cycle %s',
                                                s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
                                   FROM pg_sequence s WHERE s.seqrelid = c.oid), '')
        FROM pg_class c WHERE c.oid = m.objid)
    WHEN 'pg_namespace'::regclass THEN (
        SELECT format('schema acl %s', n.nspacl) FROM pg_namespace n WHERE n.oid = m.objid)
    ELSE '(definition not compared: ' || m.classid::regclass || ')'
    END
    || coalesce(E'\ncomment ' || (SELECT d.description FROM pg_description d
                                   WHERE d.classoid = m.classid AND d.objoid = m.objid AND d.objsubid = 0), '')
FROM m;

INSERT INTO snap
SELECT 'extension', e.extname,
       format('version %s schema %s relocatable %s config %s condition %s',
              e.extversion, e.extnamespace::regnamespace, e.extrelocatable, e.extconfig::regclass[], e.extcondition)
FROM pg_extension e WHERE e.extname = 'crm';

-- the rows of the extension's own tables.  crm_internal.data_model_part is
-- left out on purpose: after an upgrade it keeps the parts of the version
-- first installed (crm.install_data_model() runs them, then the registered
-- steps), so its text differs from a fresh install's by construction;
-- test/upgrade.sh checks what it is for by installing the data model in a
-- database upgraded before it had one.
DO $$
DECLARE
    r record;
    rows text;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS tbl
        FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
          AND d.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'crm')
          AND c.relkind = 'r' AND c.oid <> 'crm_internal.data_model_part'::regclass
    LOOP
        EXECUTE format('SELECT coalesce(string_agg(t::text, E''\n'' ORDER BY t::text), ''(empty)'') FROM %s t', r.tbl) INTO rows;
        INSERT INTO snap VALUES ('extension table rows', r.tbl::text, rows);
    END LOOP;
END
$$;

-- (b) no relation of schema crm is an extension member: the data model is
-- the database's (pg_dump dumps it, a DBA may alter it)
INSERT INTO snap
SELECT 'PROBLEM', 'data model relations that are extension members',
       string_agg(c.oid::regclass::text, ', ' ORDER BY c.oid::regclass::text)
FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'crm')
  AND c.relnamespace = 'crm'::regnamespace
HAVING count(*) > 0;

-- (c) the model's version is the extension's
INSERT INTO snap
SELECT 'PROBLEM', 'data model version differs from the extension version',
       format('crm.data_model.version %s, extension %s', (SELECT m.version FROM crm.data_model m), e.extversion)
FROM pg_extension e
WHERE e.extname = 'crm' AND e.extversion IS DISTINCT FROM (SELECT m.version FROM crm.data_model m);

-- (d) the data: every table of the model, its row count and a digest of its
-- rows (columns by name, so that the digest does not depend on their
-- order, which pg_dump compares), and every sequence's position.
-- crm.data_model is left out: its row records when and how this model
-- came to be (installed_at, migrated_at), which differs by construction;
-- its version is checked above.  Two kinds of values differ between two
-- loads of the same population and are normalized:
-- - timestamps of the test's day (or the next: a run across midnight),
--   in columns and inside JSON (the journals, the audit log), are "now";
--   the sample's own timestamps are older;
-- - the random salt of an anonymization code and the hash made with it
--   are compared by length.
DO $$
DECLARE
    r record;
    cols text;
    n bigint;
    digest text;
    since timestamptz := current_setting('crm_test.since')::timestamptz;
    today text := format('(%s|%s)[ T][0-9:.]+([+-][0-9:]+)?',
                         to_char(since, 'YYYY-MM-DD'), to_char(since + interval '1 day', 'YYYY-MM-DD'));
BEGIN
    FOR r IN SELECT c.oid FROM pg_class c
             WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind IN ('r', 'p')
               AND c.oid <> 'crm.data_model'::regclass LOOP
        SELECT string_agg(CASE WHEN (r.oid, a.attname) IN (('crm.anonymization_code'::regclass, 'salt'),
                                                           ('crm.anonymization_code'::regclass, 'code_hash'))
                               THEN format('octet_length(t.%I)', a.attname)
                               ELSE format('t.%I', a.attname) END,
                          ', ' ORDER BY a.attname)
        INTO cols
        FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped;
        EXECUTE format('SELECT count(*), md5(coalesce(string_agg(x, E''\n'' ORDER BY x), '''')) '
                       'FROM (SELECT regexp_replace(ROW(%s)::text, %L, ''now'', ''g'') AS x FROM %s t) s',
                       cols, today, r.oid::regclass)
            INTO n, digest;
        INSERT INTO snap VALUES ('data', r.oid::regclass::text, format('rows %s digest %s', n, digest));
    END LOOP;
    FOR r IN SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind = 'S' LOOP
        EXECUTE format('SELECT last_value FROM %s', r.oid::regclass) INTO n;
        INSERT INTO snap VALUES ('sequence', r.oid::regclass::text, format('at %s', n));
    END LOOP;
END
$$;

SELECT format(E'== %s: %s\n%s', part, object, def) FROM snap ORDER BY part, object;
