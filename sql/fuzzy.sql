--
-- Fuzzy duplicate candidates: blocking keys, evidence, scores, reasons
--
SELECT regress.reset();

-- an empty base has no pairs
SELECT count(*) AS pairs FROM crm.duplicate_pairs();

-- blocking keys: name in any order, diminutives, diacritics; companies without legal form
SELECT crm.match_keys('person', 'Kasia', 'Żółć-Nowak', NULL, 'Kraków', 'ul. Długa 5'), crm.match_keys('person', 'Katarzyna', 'ZOLC NOWAK', NULL, NULL, NULL),
       crm.match_keys('person', NULL, 'Nowak', NULL, 'Kraków', NULL), crm.match_keys('person', 'Jan', NULL, NULL, NULL, NULL),
       crm.match_keys('company', NULL, NULL, 'Agro-Pol Sp. z o.o.', 'KRAKÓW', 'Długa 5');
SELECT crm.typo_distance('44051401359', '44051401395') AS transposed,
       crm.typo_distance('44051401359', '44051401358') AS wrong_digit,
       crm.typo_distance('44051401359', '4405140135') AS dropped,
       crm.typo_distance('abc', 'xyzabcxyz') AS far, crm.typo_distance('', '') AS none;

INSERT INTO crm.client (id, kind, first_name, last_name, company_name, city, address, pesel, nip, birth_date, created_at) VALUES
    (1,  'person', 'Jan', 'Kowalski', NULL, 'Kraków', 'ul. Długa 5', '44051401052', NULL, NULL, '2020-01-01'),
    (2,  'person', 'Jan', 'Kowalsky', NULL, 'Krakow', NULL, '44051401502', NULL, NULL, '2021-01-01'),   -- typos
    (3,  'person', 'Kowalski', 'Jan', NULL, 'Kraków', 'UL. DŁUGA 5', NULL, NULL, NULL, '2021-06-01'),  -- swapped
    (4,  'person', 'Kasia', 'Nowak', NULL, 'Gdańsk', NULL, NULL, NULL, NULL, '2022-01-01'),
    (5,  'person', 'Katarzyna', 'NOWAK', NULL, 'Gdansk', NULL, NULL, NULL, NULL, '2022-02-01'),         -- diminutive
    (6,  'person', 'Anna', 'Kowalska', NULL, 'Kraków', NULL, NULL, NULL, NULL, '2022-03-01'),          -- the wife
    (7,  'person', 'Jan', 'Kowalski', NULL, 'Kraków', NULL, '02270803624', NULL, NULL, '2022-04-01'),  -- namesake, other PESEL
    (8,  'company', NULL, NULL, 'Agro-Pol Sp. z o.o.', 'Kraków', NULL, NULL, '5260001246', NULL, '2018-01-01'),
    (9,  'company', NULL, NULL, 'AGRO POL SPÓŁKA Z OGRANICZONĄ ODPOWIEDZIALNOŚCIĄ', 'Kraków', NULL, NULL, NULL, NULL, '2019-01-01'),
    (10, 'company', NULL, NULL, 'Agro-Pol S.A.', 'Poznań', NULL, NULL, '7740001454', NULL, '2019-02-01'),
    (11, 'person', 'Piotr', 'Wiśniewski', NULL, NULL, NULL, NULL, NULL, '1980-05-05', '2019-03-01'),
    (12, 'person', 'Piotr', 'Wisniewski', NULL, NULL, NULL, NULL, NULL, '1980-05-05', '2019-04-01');
INSERT INTO crm.contact (client_id, kind, value) VALUES
    (1, 'phone', '601 234 567'), (6, 'phone', '+48 601-234-567'), (4, 'email', 'kasia@example.com'),
    (5, 'email', 'KASIA@example.com'), (9, 'phone', '12 345 67 89'), (8, 'phone', '+48123456789');

-- one client's candidates, best first, with reasons a person can read
SELECT candidate_id, round(score::numeric, 3) AS score, reasons FROM crm.duplicate_candidates(1);
SELECT candidate_id, round(score::numeric, 3) AS score, reasons FROM crm.duplicate_candidates(4);
SELECT candidate_id, round(score::numeric, 3) AS score, reasons FROM crm.duplicate_candidates(8);
SELECT candidate_id, round(score::numeric, 3) AS score, reasons FROM crm.duplicate_candidates(11);
-- the threshold: 0 shows every compared client, the wife and the namesake too
SELECT candidate_id, round(score::numeric, 3) AS score, reasons FROM crm.duplicate_candidates(1, 0);
-- symmetric
SELECT bool_and(a.score = b.score) AS symmetric
FROM crm.duplicate_pairs(0) p,
     LATERAL (SELECT score FROM crm.duplicate_candidates(p.client_a, 0) WHERE candidate_id = p.client_b) a,
     LATERAL (SELECT score FROM crm.duplicate_candidates(p.client_b, 0) WHERE candidate_id = p.client_a) b;

-- the whole base: the same pairs, each once, a < b
SELECT client_a, client_b, round(score::numeric, 3) AS score, reasons FROM crm.duplicate_pairs();

-- hidden clients are not candidates, but can look for theirs
SELECT crm.hide_client(2, 'test');
SELECT candidate_id FROM crm.duplicate_candidates(1);
SELECT candidate_id FROM crm.duplicate_candidates(2);
SELECT count(*) FROM crm.duplicate_pairs() WHERE 2 IN (client_a, client_b);

-- weights are tunable: a stricter prior leaves only the strongest evidence
SELECT crm.set_match_weight('prior', -16);
SELECT evidence, weight, default_weight, changed FROM crm.match_weights_in_use WHERE evidence IN ('prior', 'pesel');
SELECT client_a, client_b, round(score::numeric, 3) AS score FROM crm.duplicate_pairs();
SELECT crm.set_match_weight('prior', NULL);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.set_match_weight('priors', 1)$$);
SELECT * FROM regress.error_of($$SELECT crm.set_match_weight('prior', 101)$$);
SELECT count(*) AS weights FROM crm.match_weight;
SELECT count(*) AS pairs_again FROM crm.duplicate_pairs();

-- an unknown client has no candidates
SELECT count(*) FROM crm.duplicate_candidates(999);

-- the blocking keys are indexed
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM crm.client
WHERE crm.match_keys(kind, first_name, last_name, company_name, city, address, postal_code, birth_date) && '{n:jan kowalski}';
RESET enable_seqscan;

--
-- CL-9: the duplicate check on save (crm.duplicate_check; setup turned it
-- off for the other tests)
--
SELECT regress.reset();
SET crm.duplicate_check = 'maybe';
SET crm.duplicate_check = notice;
SHOW crm.duplicate_check;
INSERT INTO crm.client (id, kind, first_name, last_name, city, pesel, created_at) VALUES
    (1, 'person', 'Katarzyna', 'Nowak', 'Gdańsk', NULL, '2020-01-01'),
    (2, 'person', 'Jan', 'Kowalski', 'Kraków', '44051401052', '2020-01-01');
INSERT INTO crm.contact (client_id, kind, value) VALUES (1, 'email', 'kasia@example.com');
-- like client 1 but nothing shared beyond the name and city: below the
-- threshold, saved quietly
INSERT INTO crm.client (id, kind, first_name, last_name, city, created_at)
VALUES (3, 'person', 'Kasia', 'NOWAK', 'Gdansk', '2021-01-01');
-- the same e-mail makes it a candidate: named and recorded
INSERT INTO crm.contact (client_id, kind, value) VALUES (3, 'email', 'Kasia@Example.com');
SELECT client_a, client_b, round(score::numeric, 3) AS score, reasons, dismissed_at FROM crm.possible_duplicate;
-- a known pair is checked again on change, its record updated, no second notice
UPDATE crm.client SET address = 'ul. Morska 1' WHERE id = 1;
UPDATE crm.client SET address = 'ul. Morska 1' WHERE id = 3;
SELECT client_a, client_b, round(score::numeric, 3) AS score, reasons[5] FROM crm.possible_duplicate;
-- a change of a column the check does not read does not check
INSERT INTO crm.employee (login) VALUES ('agent1');
UPDATE crm.client SET owner = 'agent1' WHERE id = 3;
-- dismissed pairs stay dismissed and quiet
UPDATE crm.possible_duplicate SET dismissed_at = now(), dismissed_by = 'agent1' WHERE client_a = 1 AND client_b = 3;
UPDATE crm.client SET city = 'Gdańsk' WHERE id = 3;
SELECT client_a, client_b, dismissed_by FROM crm.possible_duplicate;
-- a pair inserted again (as a restore does) updates it, the dismissal kept
INSERT INTO crm.possible_duplicate (client_a, client_b, score, reasons, found_at)
VALUES (1, 3, 0.5, '{restored}', '2020-01-01');
SELECT client_a, client_b, score, reasons, found_at, dismissed_by FROM crm.possible_duplicate;

-- error: the record is refused, nothing of it is saved
SET crm.duplicate_check = error;
INSERT INTO crm.client (id, kind, first_name, last_name, city, pesel, created_at)
VALUES (4, 'person', 'Jan', 'Kowalsky', 'Kraków', '44051401052', '2022-01-01');
SELECT count(*) AS saved FROM crm.client WHERE id = 4;
-- a record that looks like no one is saved
INSERT INTO crm.client (id, kind, first_name, last_name, city, created_at)
VALUES (5, 'person', 'Zenon', 'Bąk', 'Opole', '2022-01-01');
-- and a known pair does not block saving either of its clients
UPDATE crm.client SET city = 'Sopot' WHERE id = 3;

-- off: nothing checked, nothing recorded
SET crm.duplicate_check = off;
INSERT INTO crm.client (id, kind, first_name, last_name, city, pesel, created_at)
VALUES (6, 'person', 'Jan', 'Kowalski', 'Kraków', '44051401052', '2022-01-01');
SELECT count(*) AS pairs_with_6 FROM crm.possible_duplicate WHERE 6 IN (client_a, client_b);

-- a client hidden, deleted or merged leaves its pairs
SET crm.duplicate_check = notice;
UPDATE crm.client SET first_name = 'Jan' WHERE id = 6;
SELECT client_a, client_b FROM crm.possible_duplicate ORDER BY 1, 2;
SELECT crm.hide_client(2, 'test');
SELECT client_a, client_b FROM crm.possible_duplicate ORDER BY 1, 2;
SELECT crm.merge_client(3, 1) AS merge_id \gset
SELECT client_a, client_b FROM crm.possible_duplicate ORDER BY 1, 2;
-- merging and undoing create no client: even in error mode they go through
SET crm.duplicate_check = error;
SELECT crm.unmerge(:merge_id);
SELECT crm.merge_client(3, 1) > :merge_id AS merged_again;
RESET crm.duplicate_check;

-- any two rows can be scored; a first name one typo away is similar, not different
SELECT m.score > 0 AS scored, m.reasons
FROM crm.match_score(
    jsonb_populate_record(NULL::crm.client, '{"kind": "person", "first_name": "Piotr", "last_name": "Nowak"}'),
    jsonb_populate_record(NULL::crm.client, '{"kind": "person", "first_name": "Pietr", "last_name": "Nowak"}'),
    '{}', crm.match_weights()) AS m;

-- a birth date typed with one mistake (day and month swapped, two digits
-- swapped, one digit different) is weak evidence for, not strong evidence
-- against; two dates further apart are different.  A date one typo away
-- corroborates: with nothing but the names agreeing it weighs nothing (any
-- common name has a bearer whose date is one typo away), with the same
-- postal code (or address, phone, identifier) it weighs its weight
SELECT to_char(b.born, 'YYYY-MM-DD') AS born, round(m.score::numeric, 2) AS score,
       (SELECT r FROM unnest(m.reasons) r WHERE r LIKE '%birth date%') AS birth_reason,
       round(p.score::numeric, 2) AS with_postcode,
       (SELECT r FROM unnest(p.reasons) r WHERE r LIKE '%birth date%') AS birth_reason_with_postcode
FROM unnest(ARRAY['1974-03-12', '1974-12-03', '1947-03-12', '1974-03-21', '1974-03-13', '1974-05-19']::date[]) AS b(born),
     crm.match_score(
         jsonb_populate_record(NULL::crm.client, '{"kind": "person", "first_name": "Oksana", "last_name": "Kovalenko", "birth_date": "1974-03-12"}'),
         jsonb_populate_record(NULL::crm.client, jsonb_build_object('kind', 'person', 'first_name', 'Oksana',
                                                                    'last_name', 'Kovalenko', 'birth_date', b.born)),
         '{}', crm.match_weights()) AS m,
     crm.match_score(
         jsonb_populate_record(NULL::crm.client, '{"kind": "person", "first_name": "Oksana", "last_name": "Kovalenko", "birth_date": "1974-03-12", "postal_code": "02-495"}'),
         jsonb_populate_record(NULL::crm.client, jsonb_build_object('kind', 'person', 'first_name', 'Oksana',
                                                                    'last_name', 'Kovalenko', 'birth_date', b.born,
                                                                    'postal_code', '02-495')),
         '{}', crm.match_weights()) AS p;

-- a same birth date beside last names only loosely alike (Jaro-Winkler, or
-- another transliteration and a typo: other families' names, Klymski ~
-- Klymyk, Shevchenko ~ Sawczenko) counts only where more agrees (here the postal
-- code); beside a plain typo (Bakradze ~ Bakradse) it weighs its weight
SELECT x.a, x.b, round(m.score::numeric, 2) AS score,
       (SELECT r FROM unnest(m.reasons) r WHERE r LIKE '%birth date%') AS birth_reason,
       round(p.score::numeric, 2) AS with_postcode,
       (SELECT r FROM unnest(p.reasons) r WHERE r LIKE '%birth date%') AS birth_reason_with_postcode
FROM (VALUES ('Klymski', 'Klymyk'), ('Shevchenko', 'Sawczenko'), ('Bakradze', 'Bakradse')) AS x(a, b),
     crm.match_score(
         jsonb_populate_record(NULL::crm.client, jsonb_build_object('kind', 'person', 'first_name', 'Bohdan', 'last_name', x.a,
                                                                    'birth_date', '1982-08-03', 'city', 'Warszawa')),
         jsonb_populate_record(NULL::crm.client, jsonb_build_object('kind', 'person', 'first_name', 'Bohdan', 'last_name', x.b,
                                                                    'birth_date', '1982-08-03', 'city', 'Warszawa')),
         '{}', crm.match_weights()) AS m,
     crm.match_score(
         jsonb_populate_record(NULL::crm.client, jsonb_build_object('kind', 'person', 'first_name', 'Bohdan', 'last_name', x.a,
                                                                    'birth_date', '1982-08-03', 'city', 'Warszawa', 'postal_code', '02-495')),
         jsonb_populate_record(NULL::crm.client, jsonb_build_object('kind', 'person', 'first_name', 'Bohdan', 'last_name', x.b,
                                                                    'birth_date', '1982-08-03', 'city', 'Warszawa', 'postal_code', '02-495')),
         '{}', crm.match_weights()) AS p
ORDER BY x.a;

-- addresses in their matching form: a street type written one way, the
-- word for street and the flat marker gone (the key of the same address)
SELECT a.address, crm.match_keys('person', 'Jan', 'Nowak', NULL, 'Kraków', a.address) AS keys
FROM unnest(ARRAY['ul. Długa 5 m. 3', 'Długa 5/3', 'ulica Długa 5/3', '53 Bellevue Avenue', '53 Bellevue Ave',
                  'Aleja Róż 7', 'al. Róż 7']) AS a(address);
SELECT m.reasons
FROM crm.match_score(
    jsonb_populate_record(NULL::crm.client, '{"kind": "person", "first_name": "John", "last_name": "Jones", "city": "Tuggeranong", "address": "53 Bellevue Ave"}'),
    jsonb_populate_record(NULL::crm.client, '{"kind": "person", "first_name": "John", "last_name": "Jones", "city": "Tuggeranong", "address": "53 Bellevue Avenue"}'),
    '{}', crm.match_weights()) AS m;

-- one name from several transliterations, and a second name (patronymic)
-- on one side only, are the same name
SELECT x.a, x.b, m.reasons
FROM (VALUES ('Mykhailo', 'Ovcharyk', 'Michajło', 'Owczaryk'), ('Vitaliy', 'Tsipuria', 'Witalij', 'Cipurija'),
             ('Oksana', 'Kovalenko', 'Oksana Petrivna', 'Kowalenko')) AS n(af, al, bf, bl),
     LATERAL (SELECT n.af || ' ' || n.al AS a, n.bf || ' ' || n.bl AS b) AS x(a, b),
     crm.match_score(
         jsonb_populate_record(NULL::crm.client, jsonb_build_object('kind', 'person', 'first_name', n.af, 'last_name', n.al)),
         jsonb_populate_record(NULL::crm.client, jsonb_build_object('kind', 'person', 'first_name', n.bf, 'last_name', n.bl)),
         '{}', crm.match_weights()) AS m;
SELECT crm.match_keys('person', 'Mykhailo', 'Ovcharyk', NULL, NULL, NULL) = crm.match_keys('person', 'Michajło', 'Owczaryk', NULL, NULL, NULL)
       AS same_keys;

-- comparators with levels: a last name one typo apart, an initial, a first
-- name in another language's form, names in another order with a second
-- name, a city mistyped, a postal code (the city then not counted twice),
-- an address mistyped or with a flat number on one side only
SELECT n.case_, round(m.score::numeric, 3) AS score, m.reasons
FROM (VALUES
    ('typo in a short last name', '{"first_name": "James", "last_name": "Chen", "birth_date": "1969-10-24"}'::jsonb,
                                  '{"first_name": "James", "last_name": "Chan", "birth_date": "1969-10-24"}'::jsonb),
    ('an initial', '{"first_name": "J.", "last_name": "Fisher", "postal_code": "NR1 1LH"}',
                   '{"first_name": "James", "last_name": "Fisher", "postal_code": "nr11lh"}'),
    ('another language''s form', '{"first_name": "Alaksandr", "last_name": "Kowalczyk", "city": "Sopot"}',
                                 '{"first_name": "Aleksander", "last_name": "Kowalczyk", "city": "Spot"}'),
    ('another order, a second name', '{"first_name": "Hałyna", "last_name": "Oliferśka", "birth_date": "1987-12-11"}',
                                     '{"first_name": "Oliferska", "last_name": "Halyna Jurijiwna", "birth_date": "1987-12-11"}'),
    ('a postal code and its city', '{"first_name": "Jan", "last_name": "Nowak", "city": "Kraków", "postal_code": "31-042"}',
                                   '{"first_name": "Jan", "last_name": "Nowak", "city": "Krakow", "postal_code": "31042"}'),
    ('moved', '{"first_name": "Jan", "last_name": "Nowak", "city": "Kraków", "postal_code": "31-042"}',
              '{"first_name": "Jan", "last_name": "Nowak", "city": "Gdańsk", "postal_code": "80-001"}'),
    ('address typo', '{"first_name": "Robert", "last_name": "Fisher", "address": "10 Elm Close"}',
                     '{"first_name": "Robert", "last_name": "Fisher", "address": "10 Em Cl"}'),
    ('flat on one side', '{"first_name": "Jan", "last_name": "Nowak", "address": "ul. Długa 5"}',
                         '{"first_name": "Jan", "last_name": "Nowak", "address": "Długa 5/3"}'),
    ('another house', '{"first_name": "Jan", "last_name": "Nowak", "address": "ul. Długa 5"}',
                      '{"first_name": "Jan", "last_name": "Nowak", "address": "ul. Długa 7"}')
    ) AS n(case_, a, b),
    crm.match_score(jsonb_populate_record(NULL::crm.client, n.a || '{"kind": "person"}'),
                    jsonb_populate_record(NULL::crm.client, n.b || '{"kind": "person"}'),
                    '{}', crm.match_weights()) AS m;
-- a record without a postal_code column is still a client row
SELECT (crm.match_score(r, r, '{}', crm.match_weights())).reasons
FROM (SELECT 1::bigint AS id, 'person' AS kind, 'Jan' AS first_name, 'Nowak' AS last_name, NULL::text AS company_name,
             'Kraków' AS city, NULL::text AS address, NULL::crm.pesel AS pesel, NULL::crm.nip AS nip,
             NULL::crm.regon AS regon, '1980-01-01'::date AS birth_date) r;

-- the birth-date key: dates one transposition apart (year digits, day and
-- month) share it, with the initials of the names in any order; the postal
-- code keys: with the last name, with the first name
SELECT d.birth_date, k.keys
FROM unnest(ARRAY['1974-03-12', '1947-03-12', '1974-12-03', '1974-03-13']::date[]) AS d(birth_date),
     LATERAL (SELECT array_to_string(crm.match_keys('person', 'Halyna', 'Oliferska', NULL, NULL, NULL, NULL, d.birth_date),
                                     ' ') AS keys) k;
SELECT crm.match_keys('person', 'Halyna', 'Oliferska', NULL, NULL, NULL, NULL, '1987-12-11')
       && crm.match_keys('person', 'Oliferska', 'Halyna Jurijiwna', NULL, NULL, NULL, NULL, '1987-12-11') AS swapped_share_a_key,
       crm.match_keys('person', 'Anastasija', 'Karpenko', NULL, NULL, NULL, '87-549', NULL)
       && crm.match_keys('person', 'Anastasija', 'Prychodak', NULL, NULL, NULL, '87549', NULL) AS married_share_a_key,
       crm.match_keys('company', NULL, NULL, 'Agro-Pol', NULL, NULL, '31-042', '1990-01-01') AS company_keys;

-- match_score takes rows of crm.client; another row is refused, never
-- read as if it were one (a city that is a number, a missing column, two
-- rows of different types)
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.match_score(r, r, '{}', crm.match_weights())
    FROM (SELECT 1::bigint AS id, 'person' AS kind, 'Jan' AS first_name, 'Nowak' AS last_name, NULL::text AS company_name,
                 42 AS city) r$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.match_score(ROW(1), ROW(1), '{}', crm.match_weights())$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.match_score(
    jsonb_populate_record(NULL::crm.client, '{"kind": "person"}'), jsonb_populate_record(NULL::crm.unit, '{}'),
    '{}', crm.match_weights())$$);
-- weights passed by hand are bounded as crm.set_match_weight() bounds them:
-- an unbounded pair (+1e308 and -1e308 agreeing at once) made the score NaN
SELECT err_code, err_message, err_detail FROM regress.error_of($$SELECT crm.match_score(r, r, NULL,
        crm.match_weights() || '{"last_name": 1e308, "city": -1e308}')
    FROM jsonb_populate_record(NULL::crm.client,
                               '{"id": 1, "kind": "person", "first_name": "Jan", "last_name": "Nowak", "city": "Kraków"}') r$$);

-- a value of a named composite type does not record the layout it was made
-- with, and any role may alter its own types: such rows are refused, only
-- rows of crm.client and anonymous records (whose layouts never change) are
-- read; an anonymous record may carry more columns than the client's
CREATE TYPE regress.client_like AS (extra integer, id bigint, kind text, first_name text, last_name text,
    company_name text, city text, address text, pesel crm.pesel, nip crm.nip, regon crm.regon, birth_date date);
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.match_score(r, r, NULL, crm.match_weights())
    FROM (SELECT ROW(1, 7, 'person', 'Jan', 'Nowak', NULL, 'Kraków', 'Długa 1', NULL, NULL, NULL, NULL)::regress.client_like AS r) x$$);
DROP TYPE regress.client_like;
SELECT (crm.match_score(r, r, NULL, crm.match_weights())).reasons
FROM (SELECT 'x' AS extra, 7::bigint AS id, 'person' AS kind, 'Jan' AS first_name, 'Nowak' AS last_name,
             NULL::text AS company_name, 'Kraków' AS city, 'Długa 1' AS address, NULL::crm.pesel AS pesel,
             NULL::crm.nip AS nip, NULL::crm.regon AS regon, NULL::date AS birth_date) r;
