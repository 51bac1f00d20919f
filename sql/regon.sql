--
-- crm.regon: 9 digits (weights 8,9,2,3,4,5,6,7) or 14 digits (weights
-- 2,4,8,5,0,9,7,3,6,1,2,4,8) whose first 9 are a valid REGON; mod 11, 10 -> 0
--

SELECT v AS input, v::crm.regon AS regon, crm.regon_base(v::crm.regon) AS base,
       length(v::crm.regon::text) AS digits
FROM (VALUES ('123456785'), ('732295135'), ('012345675'),  -- leading zero kept
             ('000000000'),
             ('100000050'),                                -- remainder 10 gives check digit 0
             ('12345678512347'), ('73229513500018'), ('01234567500008'),
             ('12345678500010'),                           -- remainder 10 in the 14-digit sum
             ('123-456-785'), ('12345678 51234 7'), (' 123 456 785 ')) AS t(v);

-- a 9-digit REGON and the 14-digit REGONs of its local units are distinct,
-- and sort in the order of their digits
SELECT r FROM (VALUES ('12345678512347'::crm.regon), ('123456785'), ('012345675'),
                      ('01234567500008'), ('732295135')) AS t(r)
ORDER BY r;
SELECT '123456785'::crm.regon = '12345678500010'::crm.regon AS same;
SELECT crm.regon_base('12345678512347') = '123456785'::crm.regon AS base_matches;

SELECT '12345678412341'::crm.regon;

-- refusals
SELECT v AS input, e.*
FROM (VALUES (''), ('12345678'), ('1234567851'), ('1234567851234'), ('123456785123478'),
             ('123456784'),            -- checksum
             ('12345678512348'),       -- 14-digit checksum
             ('12345678412341'),       -- 14-digit checksum right, first 9 digits wrong
             ('12345678412340'),       -- both wrong: the 14-digit checksum is reported
             ('12345678X'), ('REGON 123456785')) AS t(v),
     regress.input_error(v, 'crm.regon') AS e;

SELECT v AS input, crm.is_valid_regon(v) AS valid
FROM (VALUES ('123456785'), ('12345678512347'), ('12345678412341'), ('123456784'),
             ('1234567851'), (NULL)) AS t(v);

-- why a text is no REGON: the type's DETAIL, NULL when valid (for staging tables)
SELECT v AS input, crm.regon_problem(v) AS problem,
       crm.regon_problem(v) IS NOT DISTINCT FROM e.err_detail AS same_as_error
FROM (VALUES ('123456785'), ('123456784'), ('12345678412341'), ('1234567851'), (NULL)) AS t(v)
     LEFT JOIN LATERAL regress.input_error(v, 'crm.regon') e ON true;

SELECT NULL::crm.regon AS regon, crm.regon_base(NULL) AS base;
