--
-- What the three identifier types share: storage, operators, operator
-- classes, indexes, joins, casts and binary COPY.
--

-- 8 bytes, passed by value, like int8
SELECT typname, typlen, typbyval, typalign, typstorage, typcategory
FROM pg_type WHERE oid IN ('crm.pesel'::regtype, 'crm.nip'::regtype, 'crm.regon'::regtype)
ORDER BY typname;
SELECT pg_column_size('44051401359'::crm.pesel) AS pesel, pg_column_size('5260001246'::crm.nip) AS nip,
       pg_column_size('12345678512347'::crm.regon) AS regon;

-- operator classes are complete and sound
SELECT opcname, amname
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE opcnamespace = 'crm'::regnamespace ORDER BY opcname, amname;
SELECT opcname FROM pg_opclass
WHERE opcnamespace = 'crm'::regnamespace AND NOT amvalidate(oid);

-- comparison operators
SELECT a, b, a = b AS eq, a <> b AS ne, a < b AS lt, a <= b AS le, a > b AS gt, a >= b AS ge
FROM (VALUES ('44051401359'::crm.pesel, '85020500028'::crm.pesel),
             ('85020500028', '44051401359'),
             ('85020500028', '8502 0500 028')) AS t(a, b);
SELECT '5260001246'::crm.nip < '7770002895'::crm.nip AS nip_lt,
       '123456785'::crm.regon < '12345678512347'::crm.regon AS regon_lt;

-- a customer table: same NIP typed twice is one value; UNIQUE works on it
CREATE TABLE firm (id int PRIMARY KEY, nip crm.nip, regon crm.regon, owner_pesel crm.pesel);
INSERT INTO firm VALUES
    (1, '526-000-12-46', '123456785', '44051401359'),
    (2, 'PL5260001246', '12345678512347', '85020500028'),
    (3, '1234563218', '732295135', '44051401359'),
    (4, '777 000 28 95', '012345675', NULL),
    (5, NULL, NULL, '00222900016');
SELECT nip, count(*) FROM firm GROUP BY nip ORDER BY nip;
SELECT DISTINCT owner_pesel FROM firm ORDER BY 1;
SELECT crm.regon_base(regon) AS company, count(*) FROM firm WHERE regon IS NOT NULL
GROUP BY 1 ORDER BY 1;
CREATE UNIQUE INDEX firm_nip_key ON firm (nip);
DELETE FROM firm WHERE id = 2;
CREATE UNIQUE INDEX firm_nip_key ON firm (nip);
INSERT INTO firm VALUES (6, 'PL 526 000 12 46', NULL, NULL);
CREATE INDEX firm_pesel_hash ON firm USING hash (owner_pesel);
CREATE INDEX firm_regon ON firm (regon);

-- the planner uses the indexes, and hash and merge joins
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM firm WHERE nip = '5260001246';
SELECT id FROM firm WHERE nip = '526-000-12-46';
EXPLAIN (COSTS OFF) SELECT id FROM firm WHERE owner_pesel = '44051401359';
SELECT id FROM firm WHERE owner_pesel = '44051401359' ORDER BY id;
EXPLAIN (COSTS OFF) SELECT id FROM firm WHERE regon >= '123456785' AND regon < '732295135';
SELECT id FROM firm WHERE regon >= '123456785' AND regon < '732295135';
-- all local units of a company, through an expression index
CREATE INDEX firm_regon_base ON firm (crm.regon_base(regon));
EXPLAIN (COSTS OFF) SELECT id FROM firm WHERE crm.regon_base(regon) = '123456785';
RESET enable_seqscan;

CREATE TABLE person (pesel crm.pesel, name text);
INSERT INTO person VALUES ('44051401359', 'Jan Kowalski'), ('85020500028', 'Anna Nowak'),
                          ('00222900016', 'Zofia Wiśniewska');
SET enable_nestloop = off;
SET enable_mergejoin = off;
EXPLAIN (COSTS OFF) SELECT f.id, p.name FROM firm f JOIN person p ON p.pesel = f.owner_pesel;
SELECT f.id, p.name FROM firm f JOIN person p ON p.pesel = f.owner_pesel ORDER BY f.id;
SET enable_hashjoin = off;
SET enable_mergejoin = on;
EXPLAIN (COSTS OFF) SELECT f.id, p.name FROM firm f JOIN person p ON p.pesel = f.owner_pesel;
SELECT f.id, p.name FROM firm f JOIN person p ON p.pesel = f.owner_pesel ORDER BY f.id;
RESET enable_nestloop;
RESET enable_mergejoin;
RESET enable_hashjoin;

-- casts: implicit from text and varchar, assignment to text (sql/drivers.sql
-- tests what the implicit ones make work and that nothing turns ambiguous)
SELECT castsource::regtype, casttarget::regtype, castcontext, castmethod
FROM pg_cast WHERE 'crm'::regnamespace IN
    ((SELECT typnamespace FROM pg_type WHERE oid = castsource),
     (SELECT typnamespace FROM pg_type WHERE oid = casttarget))
ORDER BY castsource::regtype::text, casttarget::regtype::text;
SELECT '44051401359'::text::crm.pesel, ('5260001246'::crm.nip)::text || '!' AS nip_text;
CREATE TABLE t_text (v text);
INSERT INTO t_text SELECT nip FROM firm WHERE id = 1;
SELECT v FROM t_text;
SELECT 'x'::varchar::crm.regon;
SELECT 44051401359::crm.pesel;

-- binary COPY round-trip goes through send and receive
\copy (SELECT id, nip, regon, owner_pesel FROM firm ORDER BY id) TO 'results/identifier_ops.bin' WITH (FORMAT binary)
CREATE TABLE firm_copy (LIKE firm);
\copy firm_copy FROM 'results/identifier_ops.bin' WITH (FORMAT binary)
SELECT * FROM firm_copy ORDER BY id;
SELECT count(*) AS differing FROM (
    (SELECT id, nip, regon, owner_pesel FROM firm EXCEPT SELECT * FROM firm_copy)
    UNION ALL
    (SELECT * FROM firm_copy EXCEPT SELECT id, nip, regon, owner_pesel FROM firm)) d;

-- binary input is checked like text input: an int8 on the wire is not
-- trusted to be a valid identifier
CREATE TABLE wire (p bigint, n bigint, r bigint);
INSERT INTO wire VALUES (44051401358, 5260001246, 24691356800000);  -- REGON 123456784
\copy wire (p) TO 'results/identifier_ops_p.bin' WITH (FORMAT binary)
\copy wire (r) TO 'results/identifier_ops_r.bin' WITH (FORMAT binary)
CREATE TABLE typed (p crm.pesel, r crm.regon);
\copy typed (p) FROM 'results/identifier_ops_p.bin' WITH (FORMAT binary)
\copy typed (r) FROM 'results/identifier_ops_r.bin' WITH (FORMAT binary)
UPDATE wire SET p = -1, r = 24691357000002;  -- not an encoding of any REGON
\copy wire (p) TO 'results/identifier_ops_p.bin' WITH (FORMAT binary)
\copy wire (r) TO 'results/identifier_ops_r.bin' WITH (FORMAT binary)
\copy typed (p) FROM 'results/identifier_ops_p.bin' WITH (FORMAT binary)
\copy typed (r) FROM 'results/identifier_ops_r.bin' WITH (FORMAT binary)
UPDATE wire SET p = 44051401359, r = 24691357000000;  -- REGON 123456785
\copy wire (p, r) TO 'results/identifier_ops_p.bin' WITH (FORMAT binary)
\copy typed (p, r) FROM 'results/identifier_ops_p.bin' WITH (FORMAT binary)
SELECT * FROM typed;

-- without crm on the search_path the operators are still reachable by name
SET search_path = public;
SELECT '44051401359'::crm.pesel OPERATOR(crm.=) '440514-01359' AS qualified;
SELECT '44051401359'::crm.pesel = '440514-01359' AS unqualified;
RESET search_path;

DROP TABLE firm, firm_copy, person, t_text, wire, typed;
