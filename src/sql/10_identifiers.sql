--------------------------------------------------------------------------
-- Identifier types: crm.pesel, crm.nip, crm.regon
--
-- The three share one design, so one loop creates what they share: an
-- 8-byte pass-by-value type stored as int8 (src/core/idparse.h tells the
-- encoding), its I/O functions, the validity test, comparison operators
-- backed by the built-in int8 functions, btree and hash operator classes
-- and casts from text and varchar and to text.  Their own functions follow
-- the loop.
--------------------------------------------------------------------------

DO $generate$
DECLARE
    t   record;
    op  record;
BEGIN
    FOR t IN
        SELECT * FROM (VALUES
            ('pesel', 'PESEL', 'Polish personal identity number PESEL: 11 digits, checksum and birth date checked'),
            ('nip',   'NIP',   'Polish tax identification number NIP: 10 digits, checksum checked'),
            ('regon', 'REGON', 'Polish business register number REGON: 9 or 14 digits, checksums checked')
        ) AS v(name, label, description)
    LOOP
        EXECUTE format('CREATE TYPE crm.%1$s', t.name);

        EXECUTE format($sql$
            CREATE FUNCTION crm_internal.%1$s_in(cstring) RETURNS crm.%1$s
                AS 'MODULE_PATHNAME', '%1$s_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            CREATE FUNCTION crm_internal.%1$s_out(crm.%1$s) RETURNS cstring
                AS 'MODULE_PATHNAME', '%1$s_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            CREATE FUNCTION crm_internal.%1$s_recv(internal) RETURNS crm.%1$s
                AS 'MODULE_PATHNAME', '%1$s_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            CREATE FUNCTION crm_internal.%1$s_send(crm.%1$s) RETURNS bytea
                AS 'MODULE_PATHNAME', '%1$s_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

            CREATE TYPE crm.%1$s (
                INPUT = crm_internal.%1$s_in,
                OUTPUT = crm_internal.%1$s_out,
                RECEIVE = crm_internal.%1$s_recv,
                SEND = crm_internal.%1$s_send,
                LIKE = pg_catalog.int8,
                CATEGORY = 'U'
            );
            COMMENT ON TYPE crm.%1$s IS %3$L;
            COMMENT ON FUNCTION crm_internal.%1$s_in(cstring) IS 'I/O: parse a %2$s from text';
            COMMENT ON FUNCTION crm_internal.%1$s_out(crm.%1$s) IS 'I/O: the %2$s as its digits';
            COMMENT ON FUNCTION crm_internal.%1$s_recv(internal) IS 'I/O: binary input, checked as text input is';
            COMMENT ON FUNCTION crm_internal.%1$s_send(crm.%1$s) IS 'I/O: binary output (the int8 wire format)';

            CREATE FUNCTION crm.is_valid_%1$s(value text) RETURNS boolean
                AS 'MODULE_PATHNAME', 'is_valid_%1$s' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            COMMENT ON FUNCTION crm.is_valid_%1$s(text) IS
                'true if the text is a valid %2$s, in any accepted format; never raises an error';

            CREATE FUNCTION crm.%1$s_problem(value text) RETURNS text
                AS 'MODULE_PATHNAME', '%1$s_problem' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            COMMENT ON FUNCTION crm.%1$s_problem(text) IS
                'why the text is not a valid %2$s (the DETAIL the type''s input error gives), NULL when it is valid; never raises an error';

            -- Implicit from text and varchar, so that a parameter a driver
            -- binds as a string (JDBC setString sends varchar) is stored,
            -- updated and compared as the type.  Back to text only on
            -- assignment: were it implicit too, pesel = text would match
            -- both the identifier's = and text's = and be ambiguous; now it
            -- has one reading, the identifier's (see doc/types.md).
            CREATE CAST (text AS crm.%1$s) WITH INOUT AS IMPLICIT;
            CREATE CAST (varchar AS crm.%1$s) WITH INOUT AS IMPLICIT;
            CREATE CAST (crm.%1$s AS text) WITH INOUT AS ASSIGNMENT;
            COMMENT ON CAST (text AS crm.%1$s) IS 'parse and check a %2$s';
            COMMENT ON CAST (varchar AS crm.%1$s) IS 'parse and check a %2$s';
            COMMENT ON CAST (crm.%1$s AS text) IS 'the %2$s as its digits';

            CREATE FUNCTION crm_internal.%1$s_cmp(crm.%1$s, crm.%1$s) RETURNS integer
                AS 'btint8cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
            CREATE FUNCTION crm_internal.%1$s_sortsupport(internal) RETURNS void
                AS 'btint8sortsupport' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
            CREATE FUNCTION crm_internal.%1$s_hash(crm.%1$s) RETURNS integer
                AS 'hashint8' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
            CREATE FUNCTION crm_internal.%1$s_hash_extended(crm.%1$s, bigint) RETURNS bigint
                AS 'hashint8extended' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
            COMMENT ON FUNCTION crm_internal.%1$s_cmp(crm.%1$s, crm.%1$s) IS 'btree support: compare two %2$s values';
            COMMENT ON FUNCTION crm_internal.%1$s_sortsupport(internal) IS 'btree support: sort support';
            COMMENT ON FUNCTION crm_internal.%1$s_hash(crm.%1$s) IS 'hash support: hash a %2$s';
            COMMENT ON FUNCTION crm_internal.%1$s_hash_extended(crm.%1$s, bigint) IS 'hash support: hash a %2$s with a seed';
            $sql$, t.name, t.label, t.description);

        FOR op IN
            SELECT * FROM (VALUES
                ('eq', '=',  'int8eq', '=',  '<>', 'eqsel',       'eqjoinsel',       ', HASHES, MERGES', 'equal'),
                ('ne', '<>', 'int8ne', '<>', '=',  'neqsel',      'neqjoinsel',      '',                 'not equal'),
                ('lt', '<',  'int8lt', '>',  '>=', 'scalarltsel', 'scalarltjoinsel', '',                 'less than'),
                ('le', '<=', 'int8le', '>=', '>',  'scalarlesel', 'scalarlejoinsel', '',                 'less than or equal'),
                ('gt', '>',  'int8gt', '<',  '<=', 'scalargtsel', 'scalargtjoinsel', '',                 'greater than'),
                ('ge', '>=', 'int8ge', '<=', '<',  'scalargesel', 'scalargejoinsel', '',                 'greater than or equal')
            ) AS v(fn, oper, internal, commutator, negator, rest, joinsel, extra, meaning)
        LOOP
            EXECUTE format($sql$
                CREATE FUNCTION crm_internal.%1$s_%2$s(crm.%1$s, crm.%1$s) RETURNS boolean
                    AS %3$L LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
                COMMENT ON FUNCTION crm_internal.%1$s_%2$s(crm.%1$s, crm.%1$s) IS 'implementation of %4$s operator';
                CREATE OPERATOR crm.%4$s (
                    LEFTARG = crm.%1$s, RIGHTARG = crm.%1$s,
                    FUNCTION = crm_internal.%1$s_%2$s,
                    COMMUTATOR = OPERATOR(crm.%5$s), NEGATOR = OPERATOR(crm.%6$s),
                    RESTRICT = pg_catalog.%7$s, JOIN = pg_catalog.%8$s %9$s
                );
                COMMENT ON OPERATOR crm.%4$s (crm.%1$s, crm.%1$s) IS %10$L;
                $sql$, t.name, op.fn, op.internal, op.oper, op.commutator, op.negator,
                op.rest, op.joinsel, op.extra, op.meaning);
        END LOOP;

        EXECUTE format($sql$
            CREATE OPERATOR CLASS crm.%1$s_ops DEFAULT FOR TYPE crm.%1$s USING btree AS
                OPERATOR 1 crm.<,
                OPERATOR 2 crm.<=,
                OPERATOR 3 crm.=,
                OPERATOR 4 crm.>=,
                OPERATOR 5 crm.>,
                FUNCTION 1 crm_internal.%1$s_cmp(crm.%1$s, crm.%1$s),
                FUNCTION 2 crm_internal.%1$s_sortsupport(internal),
                -- equal values are bitwise equal: btree deduplication applies
                FUNCTION 4 pg_catalog.btequalimage(oid);
            CREATE OPERATOR CLASS crm.%1$s_ops DEFAULT FOR TYPE crm.%1$s USING hash AS
                OPERATOR 1 crm.=,
                FUNCTION 1 crm_internal.%1$s_hash(crm.%1$s),
                FUNCTION 2 crm_internal.%1$s_hash_extended(crm.%1$s, bigint);
            $sql$, t.name);
    END LOOP;
END
$generate$;

-- What each identifier tells --------------------------------------------

CREATE FUNCTION crm.pesel_birth_date(pesel crm.pesel) RETURNS date
    AS 'MODULE_PATHNAME', 'pesel_birth_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.pesel_birth_date(crm.pesel) IS
    'birth date encoded in a PESEL (digits 1-6, the century in the month)';

CREATE FUNCTION crm.pesel_sex(pesel crm.pesel) RETURNS text
    AS 'MODULE_PATHNAME', 'pesel_sex' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.pesel_sex(crm.pesel) IS
    'sex encoded in a PESEL: M (digit 10 odd) or F (even)';

CREATE FUNCTION crm.nip_format(nip crm.nip) RETURNS text
    AS 'MODULE_PATHNAME', 'nip_format' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.nip_format(crm.nip) IS
    'a NIP in the customary 123-456-32-18 grouping';

CREATE FUNCTION crm.regon_base(regon crm.regon) RETURNS crm.regon
    AS 'MODULE_PATHNAME', 'regon_base' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.regon_base(crm.regon) IS
    'the 9-digit REGON of the company a 14-digit REGON of a local unit belongs to (a 9-digit REGON is returned as it is)';
