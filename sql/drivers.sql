--
-- Drivers: parameters bound as text or varchar (JDBC setString sends
-- varchar, most drivers text) are taken by crm.pesel, crm.nip and
-- crm.regon columns and operators; scores are double precision.  The
-- implicit casts from text and varchar must not make plain SQL ambiguous.
-- test/jdbc/CrmDriverTest.java does the same from pgjdbc.
--
SELECT regress.reset();

-- the casts: implicit into the types, only on assignment back to text, and
-- nothing implicit out of an identifier type (were there, pesel = text
-- could mean text = text as well)
SELECT castsource::regtype, casttarget::regtype, castcontext
FROM pg_cast
WHERE casttarget IN ('crm.pesel'::regtype, 'crm.nip'::regtype, 'crm.regon'::regtype)
   OR castsource IN ('crm.pesel'::regtype, 'crm.nip'::regtype, 'crm.regon'::regtype)
ORDER BY castsource::regtype::text, casttarget::regtype::text;
-- the operators on an identifier take the identifier on both sides
SELECT count(*) AS mixed_operators FROM pg_operator
WHERE oprnamespace = 'crm'::regnamespace AND oprleft <> oprright;
-- no function name of crm has an overload with an identifier argument and
-- another of as many arguments, so a text argument cannot make a call ambiguous
SELECT p.oid::regprocedure AS ambiguous_candidate
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace
  AND p.proargtypes::oid[] && ARRAY['crm.pesel'::regtype, 'crm.nip'::regtype, 'crm.regon'::regtype]::oid[]
  AND EXISTS (SELECT FROM pg_proc q
              WHERE q.pronamespace = p.pronamespace AND q.proname = p.proname
                AND q.oid <> p.oid AND q.pronargs = p.pronargs)
ORDER BY p.oid::regprocedure::text;

CREATE TABLE regress.typed_text (id int, t text, v varchar(20), n_t text, n_v varchar, r_t text, r_v varchar);
INSERT INTO regress.typed_text VALUES
    (1, '44051401359', '44051401359', '5260001246', '526-000-12-46', '123456785', '123456785'),
    (2, '8502 0500 028', '850205-00028', 'PL 777 000 28 95', '7770002895', '12345678512347', '12345678512347');
INSERT INTO crm.client (id, first_name, last_name, city, pesel, kind, company_name) VALUES
    (1, 'Jan', 'Kowalski', 'Kraków', '44051401359', 'person', NULL),
    (2, 'Anna', 'Nowak', 'Gdańsk', '85020500028', 'person', NULL);
INSERT INTO crm.client (id, city, nip, regon, kind, company_name) VALUES
    (3, 'Kraków', '5260001246', '123456785', 'company', 'Agro-Pol'),
    (4, 'Gdańsk', '7770002895', '12345678512347', 'company', 'Bud-Mar');
SELECT regress.sync_identities();

-- comparisons: literals, text and varchar on either side, all six
-- operators; the values are compared as identifiers (spacing and dashes
-- do not count), which text equality would not do
SELECT c.id, x.id AS row,
       c.pesel = x.t AS p_eq_t, x.t = c.pesel AS t_eq_p, c.pesel = x.v AS p_eq_v, x.v = c.pesel AS v_eq_p,
       c.pesel <> x.t AS ne, c.pesel < x.v AS lt, x.t <= c.pesel AS le, c.pesel > x.t AS gt, x.v >= c.pesel AS ge
FROM crm.client c CROSS JOIN regress.typed_text x
WHERE c.kind = 'person' ORDER BY 1, 2;
SELECT c.id, x.id AS row, c.nip = x.n_t AS n_t, x.n_v = c.nip AS n_v, c.regon = x.r_t AS r_t, x.r_v = c.regon AS r_v
FROM crm.client c CROSS JOIN regress.typed_text x
WHERE c.kind = 'company' ORDER BY 1, 2;
SELECT id FROM crm.client WHERE pesel = '440514-01359' OR '526 000 12 46' = nip ORDER BY id;
-- the plan shows the text converted to the identifier, once, and the index used
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM crm.client c WHERE pesel = '44051401359'::text;
EXPLAIN (COSTS OFF) SELECT id FROM crm.client c WHERE '5260001246'::varchar = nip;
RESET enable_seqscan;
-- text and varchar among themselves keep text's operators: these differ as text
SELECT t = v AS t_eq_v, v = t AS v_eq_t, v = v::varchar AS v_eq_v, t = '8502 0500 028' AS t_eq_lit,
       v LIKE '85%' AS v_like, length(v) AS length, v || t AS v_cat_t, pg_typeof(v || v) AS cat_type
FROM regress.typed_text WHERE id = 2;
-- two different identifier types do not compare (no implicit cast between them)
SELECT * FROM regress.error_of($$SELECT pesel = nip FROM crm.client$$);

-- IN lists, ANY over an array of text, a subquery of text
SELECT id FROM crm.client WHERE pesel IN ('44051401359', '00222900016') ORDER BY id;
SELECT c.id FROM crm.client c, regress.typed_text x WHERE c.pesel IN (x.t, x.v) ORDER BY 1;
SELECT id FROM crm.client WHERE pesel IN ('85020500028'::text, '00222900016'::varchar) ORDER BY id;
SELECT id FROM crm.client WHERE pesel = ANY (ARRAY['44051401359', '850205-00028']::text[]) ORDER BY id;
SELECT id FROM crm.client WHERE nip IN (SELECT n_v FROM regress.typed_text) ORDER BY id;
SELECT id FROM crm.client WHERE regon NOT IN (SELECT r_t FROM regress.typed_text WHERE id = 1) ORDER BY id;

-- COALESCE, CASE and UNION over an identifier and text: the identifier
-- types are not of the string category, so PostgreSQL will not pick a
-- common type for them (as for integer and text); literals do resolve,
-- and a cast says which one is meant
SELECT * FROM regress.error_of($$SELECT coalesce(c.pesel, x.t) FROM crm.client c, regress.typed_text x$$);
SELECT * FROM regress.error_of($$SELECT CASE WHEN true THEN pesel ELSE 'x'::text END FROM crm.client$$);
SELECT * FROM regress.error_of($$SELECT pesel FROM crm.client UNION SELECT t FROM regress.typed_text$$);
SELECT coalesce(pesel, '00222900016') AS with_literal, pg_typeof(coalesce(pesel, '00222900016'))
FROM crm.client WHERE id IN (1, 3) ORDER BY id;
SELECT CASE WHEN id = 1 THEN pesel ELSE '850205-00028' END AS case_literal FROM crm.client WHERE id IN (1, 2) ORDER BY id;
SELECT coalesce(c.pesel, x.t::crm.pesel) AS as_pesel, coalesce(c.pesel::text, x.t) AS as_text
FROM crm.client c JOIN regress.typed_text x ON x.id = 2 WHERE c.id = 3;
SELECT pesel FROM crm.client WHERE id = 1 UNION SELECT t::crm.pesel FROM regress.typed_text ORDER BY 1;
SELECT v FROM (VALUES ('44051401359'::crm.pesel), ('850205-00028')) AS t(v) ORDER BY 1;

-- || gives text: the identifier's digits joined with the text; LIKE has
-- no identifier form (an identifier is not a string): the error says to
-- cast, and pesel::text LIKE matches on the digits
SELECT 'PESEL ' || pesel AS label, pg_typeof(pesel || '') AS type FROM crm.client WHERE id = 1;
SELECT nip || ' / ' || regon AS pair, nip || x.n_t AS with_text FROM crm.client, regress.typed_text x
WHERE crm.client.id = 3 AND x.id = 1;
SELECT * FROM regress.error_of($$SELECT pesel LIKE '44%' FROM crm.client$$);
SELECT id FROM crm.client WHERE pesel::text LIKE '44%';

-- prepared statements with text and varchar parameters: INSERT, UPDATE, WHERE
PREPARE ins_t(text, text, text) AS
    INSERT INTO crm.client (first_name, last_name, kind, pesel, company_name, nip, regon)
    VALUES ('Zofia', 'Wiśniewska', 'person', $1, NULL, $2, $3) RETURNING id, pesel, nip, regon;
PREPARE ins_v(varchar, varchar, varchar) AS
    INSERT INTO crm.client (kind, company_name, pesel, nip, regon)
    VALUES ('company', 'Rol-Mex', $1, $2, $3) RETURNING id, pesel, nip, regon;
EXECUTE ins_t('00222900016', '1234563218', '732295135');
EXECUTE ins_v(NULL, 'PL1234563218', '012345675');
PREPARE upd_t(text, bigint) AS UPDATE crm.client SET pesel = $1 WHERE id = $2 RETURNING id, pesel;
PREPARE upd_v(varchar, varchar, bigint) AS UPDATE crm.client SET nip = $1, regon = $2 WHERE id = $3 RETURNING id, nip, regon;
EXECUTE upd_t('850205 00028', 5);
EXECUTE upd_v('777-000-28-95', '12345678512347', 6);
PREPARE sel_t(text) AS SELECT id FROM crm.client WHERE pesel = $1 ORDER BY id;
PREPARE sel_v(varchar, varchar) AS SELECT id FROM crm.client WHERE nip = $1 OR $2 = regon ORDER BY id;
EXECUTE sel_t('85020500028');
EXECUTE sel_v('7770002895', '123456785');
-- the parameter types as the server sees them: the statement took them as declared
SELECT name, parameter_types FROM pg_prepared_statements ORDER BY name;

-- invalid input raises 22P02 with the same detail and hint, whichever the way in
SELECT * FROM regress.error_of($$SELECT '44051401358'::crm.pesel$$);
SELECT * FROM regress.error_of($$EXECUTE ins_t('44051401358', NULL, NULL)$$);
SELECT * FROM regress.error_of($$EXECUTE upd_t('44051401358', 1)$$);
SELECT * FROM regress.error_of($$EXECUTE sel_t('44051401358')$$);
SELECT * FROM regress.error_of($$EXECUTE ins_v(NULL, '5260001247', NULL)$$);
SELECT * FROM regress.error_of($$EXECUTE upd_v(NULL, '123456784', 1)$$);
-- comparing with text converts the text: text that is not an identifier
-- is an error, not a mismatch (crm.is_valid_pesel() tests it first)
SELECT * FROM regress.error_of($$SELECT id FROM crm.client WHERE pesel = 'Kowalski'::text$$);
SELECT id FROM crm.client WHERE crm.is_valid_pesel('Kowalski') AND pesel = 'Kowalski'::text;

-- the identifier functions take text and varchar as they take literals;
-- the text-only functions keep their text argument
SELECT crm.pesel_birth_date(t) AS birth, crm.pesel_sex(v) AS sex, crm.nip_format(n_v) AS nip,
       crm.regon_base(r_t) AS base, crm.is_valid_pesel(v) AS valid
FROM regress.typed_text ORDER BY id;

-- scores are double precision: parameters of any numeric type resolve
SELECT pg_typeof(crm.default_min_score()) AS default_min_score,
       pg_typeof(crm.name_similarity('Jan', 'Jana')) AS name_similarity,
       round(crm.name_similarity('Kowalski', 'Kowalsky')::numeric, 4) AS similarity;
SELECT a.attrelid::regclass AS relation, a.attname, a.atttypid::regtype
FROM pg_attribute a
WHERE a.attrelid IN ('crm.possible_duplicate'::regclass, 'crm.match_weight'::regclass)
  AND a.attname IN ('score', 'weight') ORDER BY a.attrelid::regclass::text;
SELECT p.oid::regprocedure AS function, p.proallargtypes::regtype[] AS all_types
FROM pg_proc p
WHERE p.pronamespace = 'crm'::regnamespace
  AND p.proname IN ('duplicate_candidates', 'duplicate_pairs', 'match_score', 'match_weight_defaults', 'create_dedupe_plan')
ORDER BY p.oid::regprocedure::text;
INSERT INTO crm.client (id, first_name, last_name, city, pesel, kind) VALUES
    (10, 'Jan', 'Kowalski', 'Kraków', '44051401359', 'person');
PREPARE cand_d(bigint, double precision) AS
    SELECT candidate_id, round(score::numeric, 4) AS score, pg_typeof(score) AS type
    FROM crm.duplicate_candidates($1, $2);
PREPARE cand_r(bigint, real) AS SELECT candidate_id FROM crm.duplicate_candidates($1, $2);
PREPARE cand_n(bigint, numeric) AS SELECT candidate_id FROM crm.duplicate_candidates($1, $2);
EXECUTE cand_d(10, 0.9);
EXECUTE cand_r(10, 0.9);
EXECUTE cand_n(10, 0.9);
SELECT client_a, client_b, round(score::numeric, 4) AS score FROM crm.duplicate_pairs(0.9);

DEALLOCATE ALL;
DROP TABLE regress.typed_text;
SELECT regress.reset();
