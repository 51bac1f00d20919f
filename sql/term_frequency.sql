--
-- term_frequency: frequency-aware evidence (issue 12).  An exact agreement
-- on a last name or first name weighs its weight plus log2(u / p(value)),
-- in whole bits from -3 to 0, once crm.refresh_match_frequencies() has
-- counted the base: a common name says less; the reasons say so.
-- Administrators refresh and read the counts; no other role reads them (nor
-- the reasons: they say "common", not how common).  crm.duplicate_pairs()
-- counts the clients it reads, as the caller; the searches of one client use
-- the refreshed counts of the whole base only for a caller that reads every
-- client.  crm.anonymize() takes an erased client's names out.
--
SELECT regress.reset();
SET client_min_messages = warning;
SELECT crm.create_roles() IS NOT NULL AS roles;
RESET client_min_messages;
CREATE ROLE regress_tf_agent NOLOGIN;
CREATE ROLE regress_tf_supervisor NOLOGIN;
CREATE ROLE regress_tf_admin NOLOGIN;
GRANT crm_agent TO regress_tf_agent;
GRANT crm_supervisor TO regress_tf_supervisor;
GRANT crm_admin TO regress_tf_admin;

-- the values counted, in the forms the scoring compares (diminutives as the
-- full name, names of persons only, the full name only with a birth date)
SELECT crm_internal.match_frequency_keys('person', 'Kasia', 'ŻÓŁĆ-Nowak', '1990-05-17') AS person,
       crm_internal.match_frequency_keys('person', 'Kasia', 'ŻÓŁĆ-Nowak', NULL) AS undated,
       crm_internal.match_frequency_keys('company', NULL, NULL, '1990-05-17') AS company,
       crm_internal.match_frequency_keys('person', NULL, NULL, NULL) AS nothing;

-- a base of 100 persons: 10 Nowaks in Kraków (two of them Jan), two Jan
-- Brzęczyszczykiewicz in Kraków, 88 people of other, distinct names in Poznań
INSERT INTO crm.client (id, kind, first_name, last_name, city, address)
SELECT g, 'person', CASE WHEN g <= 2 THEN 'Jan' ELSE (ARRAY['Anna', 'Piotr', 'Ewa'])[1 + g % 3] END,
       'Nowak', 'Kraków', 'ul. Długa ' || g
FROM generate_series(1, 10) g;
INSERT INTO crm.client (id, kind, first_name, last_name, city, address) VALUES
    (101, 'person', 'Jan', 'Brzęczyszczykiewicz', 'Kraków', 'ul. Polna 1'),
    (102, 'person', 'Jan', 'Brzęczyszczykiewicz', 'Kraków', 'ul. Leśna 7');
INSERT INTO crm.client (id, kind, first_name, last_name, city)
SELECT 200 + g, 'person', 'Ewa', 'Inna' || chr(97 + g % 26) || chr(97 + g / 26), 'Poznań'
FROM generate_series(1, 88) g;
-- the same pattern for a common and a rare name: same first and last name,
-- same city, other addresses (Jan Nowak 1 and 2; the two Brzęczyszczykiewicz)
CREATE VIEW regress.tf_pair AS
SELECT p.label, round(s.score::numeric, 4) AS score, s.reasons
FROM (VALUES ('common', 1, 2), ('rare', 101, 102)) AS p(label, a, b),
     LATERAL crm.match_score((SELECT c FROM crm.client c WHERE c.id = p.a),
                             (SELECT c FROM crm.client c WHERE c.id = p.b), NULL, crm.match_weights()) s;
-- (the agent below reads it: the view reads the clients with its owner's
-- rights, and crm.match_score() runs with the agent's)
GRANT SELECT ON regress.tf_pair TO regress_tf_agent, regress_tf_admin;

-- never refreshed: no adjustment, both pairs score alike
SELECT count(*) AS frequencies FROM crm.match_frequency;
SELECT * FROM regress.tf_pair ORDER BY label;
-- but crm.duplicate_pairs() counts the base it reads itself: adjusted
SELECT client_a, client_b, round(score::numeric, 4) AS score
FROM crm.duplicate_pairs(0) WHERE (client_a, client_b) IN ((1, 2), (101, 102)) ORDER BY 1;

-- an agent may not read the counts (they are of the whole base, clients
-- out of its reach included), nor refresh them, nor write them
SET ROLE regress_tf_agent;
SELECT err_code, err_message FROM regress.error_of($$SELECT count(*) FROM crm.match_frequency$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT count(*) FROM crm.match_frequency_total$$);
SELECT err_code, err_message, err_detail, err_hint FROM regress.error_of('SELECT crm.refresh_match_frequencies()');
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.match_frequency VALUES ('last_name', 'nowak', 1000)$$);
RESET ROLE;
-- nor does an administrator write them by hand: only through crm's function
SET ROLE regress_tf_admin;
SELECT err_code, err_message, err_hint FROM regress.error_of($$DELETE FROM crm.match_frequency$$);

-- the administrator refreshes: one pass, counts returned and audited
SELECT crm.refresh_match_frequencies();
RESET ROLE;
SELECT action, actor, client_id, detail FROM crm.audit_log WHERE action = 'match frequencies' ORDER BY id;
SELECT field, clients, distinct_values, round(u::numeric, 4) AS u FROM crm.match_frequency_total ORDER BY field;
SELECT field, value, bearers FROM crm.match_frequency ORDER BY field, bearers DESC, value;

-- now the common name weighs less (Nowak: 1 in 10, u 0.019: log2(0.019 /
-- 0.1) = -2.4, -2 in whole bits) and the reason says how common it is; Jan
-- (4 of 100) is rarer than average and Brzęczyszczykiewicz about average:
-- they weigh their weights, no more
SELECT * FROM regress.tf_pair ORDER BY label;
-- the searches score alike
SELECT client_a, client_b, round(score::numeric, 4) AS score, reasons
FROM crm.duplicate_pairs(0) WHERE (client_a, client_b) IN ((1, 2), (101, 102)) ORDER BY 1;
SELECT candidate_id, round(score::numeric, 4) AS score, reasons
FROM crm.duplicate_candidates(1, 0) WHERE candidate_id = 2;
SELECT candidate_id, round(score::numeric, 4) AS score
FROM crm.duplicate_candidates(101, 0) WHERE candidate_id = 102;

-- an administrator reads the counts (it reaches every client: they tell it
-- nothing new); a supervisor does not
SET ROLE regress_tf_admin;
SELECT field, value, bearers FROM crm.match_frequency WHERE value = 'novak';
RESET ROLE;
SET ROLE regress_tf_supervisor;
SELECT err_code, err_message FROM regress.error_of($$SELECT count(*) FROM crm.match_frequency$$);
RESET ROLE;

-- an agent that reaches Kraków (row-level security: the Nowaks and the
-- Brzęczyszczykiewicz, not Poznań).  Counts of the whole base would tell it
-- of clients out of its reach, so its searches of one client weigh no name
-- by frequency (crm.match_score(), crm.duplicate_candidates()), and
-- crm.duplicate_pairs() counts the 12 clients it reaches, among whom Nowak
-- (10 of 12) is no commoner than average: no adjustment either
SELECT crm.enable_row_security() IS NOT NULL AS row_security;
INSERT INTO crm.unit (id, kind, name) VALUES (1, 'branch', 'Kraków'), (2, 'branch', 'Gdańsk');
UPDATE crm.client SET unit_id = 1 WHERE city = 'Kraków';
SET ROLE regress_tf_admin;
SELECT crm.user_unit('regress_tf_agent', 1);
RESET ROLE;
SELECT crm_internal.reads_whole_base('regress_tf_agent') AS agent_reads_all,
       crm_internal.reads_whole_base('regress_tf_supervisor') AS supervisor_reads_all,
       crm_internal.reads_whole_base('regress_tf_admin') AS admin_reads_all;
SET ROLE regress_tf_agent;
SELECT count(*) AS clients_seen FROM crm.client;
SELECT * FROM regress.tf_pair ORDER BY label;
SELECT client_a, client_b, round(score::numeric, 4) AS score, reasons
FROM crm.duplicate_pairs(0) WHERE (client_a, client_b) IN ((1, 2), (101, 102)) ORDER BY 1;
SELECT candidate_id, round(score::numeric, 4) AS score, reasons
FROM crm.duplicate_candidates(1, 0) WHERE candidate_id = 2;
RESET ROLE;
-- the administrator reads every client: the refreshed counts weigh its
-- searches, as they did before row-level security
SET ROLE regress_tf_admin;
SELECT * FROM regress.tf_pair WHERE label = 'common';
SELECT candidate_id, round(score::numeric, 4) AS score FROM crm.duplicate_candidates(1, 0) WHERE candidate_id = 2;
-- but what the check on save records in crm.possible_duplicate, which other
-- roles read (the agent reads the pair of its two clients), is weighed by
-- no count under row-level security: a score weighed by the administrator's
-- whole base would tell the agent of clients out of its reach (an attacker
-- review); so is what an import's duplicate pass records
-- (a Jan Nowak saved at client 1's address, as client 10001)
RESET ROLE;
SELECT setval(pg_get_serial_sequence('crm.client', 'id'), 10000) AS next_id_after;
SET ROLE regress_tf_admin;
SET crm.duplicate_check = notice;
INSERT INTO crm.client (kind, first_name, last_name, city, address, unit_id)
VALUES ('person', 'Jan', 'Nowak', 'Kraków', 'ul. Długa 1', 1);
RESET crm.duplicate_check;
SELECT round(score::numeric, 4) AS admin_score FROM crm.duplicate_candidates(10001, 0) WHERE candidate_id = 1;
RESET ROLE;
SET ROLE regress_tf_agent;
SELECT round(score::numeric, 4) AS score, reasons
FROM crm.possible_duplicate WHERE (client_a, client_b) = (1, 10001);
RESET ROLE;
DELETE FROM crm.client WHERE id = 10001;
SET ROLE regress_tf_admin;
-- the owner's lookup names its types in full: a type of the caller's making
-- (here a temporary float8 that no count fits, which the administrator's
-- own queries do pick up) is never used with the owner's rights
CREATE DOMAIN pg_temp.float8 AS double precision CHECK (VALUE < 0);
SELECT err_code, err_message FROM regress.error_of($$SELECT 5::float8$$);
SELECT * FROM regress.tf_pair WHERE label = 'common';
DROP DOMAIN pg_temp.float8;
RESET ROLE;

-- an error inside the owner's lookup (here: a column gone) gives the caller
-- back its own rights: the administrator, still unable to write the counts
-- by hand; the lookup's kept plan works again once the column is back
BEGIN;
ALTER TABLE crm.match_frequency_total RENAME COLUMN u TO u_gone;
SET ROLE regress_tf_admin;
SELECT err_code, err_message FROM regress.error_of($$SELECT * FROM regress.tf_pair$$);
SELECT current_user AS still, (SELECT err_code FROM regress.error_of($$DELETE FROM crm.match_frequency$$)) AS writes_counts;
RESET ROLE;
ROLLBACK;
SET ROLE regress_tf_admin;
SELECT * FROM regress.tf_pair WHERE label = 'common';
RESET ROLE;

-- a name new since the refresh (not counted) gets no adjustment
INSERT INTO crm.client (id, kind, first_name, last_name, city) VALUES
    (301, 'person', 'Zenobia', 'Zzyzx', 'Poznań'), (302, 'person', 'Zenobia', 'Zzyzx', 'Poznań');
SELECT round(s.score::numeric, 4) AS score, s.reasons
FROM crm.match_score((SELECT c FROM crm.client c WHERE c.id = 301), (SELECT c FROM crm.client c WHERE c.id = 302),
                     NULL, crm.match_weights()) s;

-- a common value's agreement still counts: the adjustment is at least -3
-- bits and leaves at least 1 bit, or the weight itself if smaller (this
-- site's 0.5 for the last name stays 0.5, and the reason says nothing)
SELECT crm.set_match_weight('last_name', 0.5);
SELECT * FROM regress.tf_pair WHERE label = 'common';
SELECT crm.set_match_weight('last_name', NULL);

-- only common names are kept (crm_internal.common_name_bearers(): 2 u
-- persons, 4.96 here): the rare Brzęczyszczykiewicz, held by two, is not,
-- so whether a look-up finds a row (which PostgreSQL's statistics show any
-- role) says no more than the score
SELECT field, round(crm_internal.common_name_bearers(field, u, clients, NULL)::numeric, 2) AS common_from
FROM crm.match_frequency_total ORDER BY field;
SELECT count(*) AS rare_kept FROM crm.match_frequency
WHERE value = crm.normalize_name('Brzęczyszczykiewicz');

-- crm.anonymize() takes the erased client's names out of the counts: a
-- common one counts one person less; no row holds an erased name (searched
-- as the gdpr test searches: matching forms, anywhere).  A client made
-- since the refresh was never counted: erasing it leaves the counts alone,
-- as does erasing clients made since and merged into one.
INSERT INTO crm.client (id, kind, first_name, last_name, city) VALUES
    (401, 'person', 'Anna', 'Nowak', 'Poznań'), (402, 'person', 'Anna', 'Nowak', 'Gdańsk');
SET ROLE regress_tf_admin;
SELECT crm.merge_client(402, 401) IS NOT NULL AS merged_new;
RESET ROLE;
CREATE FUNCTION pg_temp.erase(id bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL ROLE regress_tf_admin;
    PERFORM crm.anonymize(id, crm.anonymization_code(id));
END $$;
SELECT pg_temp.erase(101), pg_temp.erase(3), pg_temp.erase(401);
SELECT field, value, bearers FROM crm.match_frequency ORDER BY field, bearers DESC, value;
SELECT count(*) AS erased_name_left FROM crm.match_frequency f
WHERE crm.normalize_name(f::text) LIKE '%' || crm.normalize_name('Brzęczyszczykiewicz') || '%';

-- Namesakes born the same day: a full name borne by n persons gives each
-- about n u_birth namesakes born the same day by chance (u_birth: the
-- chance two persons share a birth date).  A pair with nothing but the
-- names and the birth date (and the city) in common has its names and date
-- weigh at most log2((1/256) / (n u_birth)) bits, rounded up: the same date
-- weighs less, never below 0.  Full names are kept from 32 bearers on, of
-- the persons with a birth date.  1,002 persons born on 999 days (u_birth
-- about 1/1,000): 42 Adam Wiśniewski (0.042 namesakes born on each one's
-- day: a cap of -3 bits), two Ewa Rzadkowska (rare: no cap).  The session's
-- superuser reads every client: the refreshed counts weigh its searches.
INSERT INTO crm.client (id, kind, first_name, last_name, city, address, birth_date)
SELECT 1000 + g, 'person', 'Ewa', 'Osoba' || chr(97 + g % 26) || chr(97 + g / 26 % 26) || chr(97 + g / 676),
       'Sopot', 'ul. Morska ' || g, date '1950-01-01' + g
FROM generate_series(1, 958) g;
INSERT INTO crm.client (id, kind, first_name, last_name, city, address, birth_date)
SELECT 3000 + g, 'person', 'Adam', 'Wiśniewski', 'Gdańsk', 'ul. Długa ' || g, date '1970-01-01' + g
FROM generate_series(1, 40) g;
INSERT INTO crm.client (id, kind, first_name, last_name, city, address, birth_date) VALUES
    (3100, 'person', 'Ewa', 'Rzadkowska', 'Gdańsk', 'ul. Polna 3', '1985-05-05'),
    (3101, 'person', 'Ewa', 'Rzadkowska', 'Gdańsk', 'ul. Leśna 9', '1985-05-05');
-- Adam Wiśniewski 3001's twin record, born the same day (nothing else in
-- common but the city) and one at his address; an undated one, not counted
INSERT INTO crm.client (id, kind, first_name, last_name, city, address, birth_date) VALUES
    (3041, 'person', 'Adam', 'Wisniewski', 'Gdańsk', 'ul. Szeroka 5', date '1970-01-02'),
    (3042, 'person', 'Adam', 'Wiśniewski', 'Gdańsk', 'ul. Długa 1', date '1970-01-02'),
    (3043, 'person', 'Adam', 'Wiśniewski', 'Gdańsk', 'ul. Krótka 2', NULL);
SET ROLE regress_tf_admin;
SELECT crm.refresh_match_frequencies() -> 'full_name' AS full_names;
SELECT field, clients, distinct_values, round(u::numeric, 6) AS u,
       round(crm_internal.common_name_bearers(field, u, clients,
             (SELECT b.u FROM crm.match_frequency_total b WHERE b.field = 'birth_date'))::numeric, 2) AS common_from
FROM crm.match_frequency_total ORDER BY field;
SELECT field, value, bearers FROM crm.match_frequency WHERE field = 'full_name' ORDER BY value;
RESET ROLE;
CREATE VIEW regress.namesake_pair AS
SELECT p.label, round(s.score::numeric, 4) AS score, s.reasons
FROM (VALUES ('common, names and city only', 3001, 3041), ('common, the same address too', 3001, 3042),
             ('rare, names and city only', 3100, 3101)) AS p(label, a, b),
     LATERAL crm.match_score((SELECT c FROM crm.client c WHERE c.id = p.a),
                             (SELECT c FROM crm.client c WHERE c.id = p.b), NULL, crm.match_weights()) s;
GRANT SELECT ON regress.namesake_pair TO regress_tf_agent;
SELECT * FROM regress.namesake_pair ORDER BY label;
-- the searches score alike
SELECT client_a, client_b, round(score::numeric, 4) AS score
FROM crm.duplicate_pairs(0) WHERE (client_a, client_b) IN ((3001, 3041), (3001, 3042), (3100, 3101)) ORDER BY 1, 2;
SELECT candidate_id, round(score::numeric, 4) AS score
FROM crm.duplicate_candidates(3001, 0) WHERE candidate_id IN (3041, 3042) ORDER BY 1;
-- erasing a dated Wiśniewski counts his full name one person less; the
-- undated one, never counted in it, leaves it alone
SELECT pg_temp.erase(3040), pg_temp.erase(3043);
SELECT field, value, bearers FROM crm.match_frequency WHERE field = 'full_name' ORDER BY value;

-- An agent that reaches Gdańsk too (the Wiśniewski and the Rzadkowska): its
-- searches of one client have no cap (no count of the whole base), and its
-- crm.duplicate_pairs() counts the clients it reaches, where 42 of 57 dated
-- persons are Adam Wiśniewski: a harder cap
UPDATE crm.client SET unit_id = 2 WHERE city = 'Gdańsk';
SET ROLE regress_tf_admin;
SELECT crm.user_unit('regress_tf_agent', 2);
RESET ROLE;
SET ROLE regress_tf_agent;
SELECT * FROM regress.namesake_pair WHERE label LIKE 'common, names%';
CREATE TEMP TABLE agent_pairs AS
SELECT client_a, client_b, round(score::numeric, 4) AS score, reasons
FROM crm.duplicate_pairs(0) WHERE (client_a, client_b) IN ((3001, 3041), (3100, 3101));
SELECT * FROM agent_pairs ORDER BY 1, 2;
RESET ROLE;
-- Planting (two attacker reviews): a role that could see a count of the
-- whole base, or a score weighed by one, could plant clients of a name in
-- its own unit and learn from the scores whether the name has bearers out
-- of its reach.  Here 200 more Adam Wiśniewski come out of the agent's
-- reach (Sopot, no unit) and the counts are refreshed: the administrator's
-- scores change, the agent's do not, in either search
SELECT round(score::numeric, 4) AS admin_score_before FROM crm.duplicate_pairs(0)
WHERE (client_a, client_b) = (3001, 3041);
INSERT INTO crm.client (id, kind, first_name, last_name, city, address, birth_date)
SELECT 6000 + g, 'person', 'Adam', 'Wiśniewski', 'Sopot', 'ul. Dworcowa ' || g, date '1940-01-01' + g
FROM generate_series(1, 200) g;
SET ROLE regress_tf_admin;
SELECT crm.refresh_match_frequencies() IS NOT NULL AS refreshed;
RESET ROLE;
SELECT round(score::numeric, 4) AS admin_score_after FROM crm.duplicate_pairs(0)
WHERE (client_a, client_b) = (3001, 3041);
SET ROLE regress_tf_agent;
SELECT count(*) AS agent_pairs_changed FROM (
    (SELECT client_a, client_b, round(score::numeric, 4), reasons
     FROM crm.duplicate_pairs(0) WHERE (client_a, client_b) IN ((3001, 3041), (3100, 3101))
     EXCEPT SELECT * FROM agent_pairs)
    UNION ALL
    (SELECT * FROM agent_pairs
     EXCEPT SELECT client_a, client_b, round(score::numeric, 4), reasons
     FROM crm.duplicate_pairs(0) WHERE (client_a, client_b) IN ((3001, 3041), (3100, 3101)))) d;
SELECT * FROM regress.namesake_pair WHERE label LIKE 'common, names%';
RESET ROLE;
DELETE FROM crm.client WHERE id > 6000;

-- a pile of one birth date (a placeholder typed for "unknown", or planted)
-- counts at most 4 times a date's average: the chance of a shared birth
-- date barely moves (1/u from about 1,000 to about 980, not to 30)
INSERT INTO crm.client (id, kind, first_name, last_name, city, birth_date)
SELECT 5000 + g, 'person', 'Ewa', 'Zastępcza' || g, 'Sopot', date '1900-01-01'
FROM generate_series(1, 300) g;
SET ROLE regress_tf_admin;
SELECT crm.refresh_match_frequencies() IS NOT NULL AS refreshed;
SELECT clients, distinct_values, round(1 / u) AS one_in FROM crm.match_frequency_total WHERE field = 'birth_date';
RESET ROLE;
DROP VIEW regress.namesake_pair;

-- cleanup
DROP VIEW regress.tf_pair;
SELECT regress.reset();
DROP OWNED BY regress_tf_admin, regress_tf_supervisor, regress_tf_agent;
DROP ROLE regress_tf_admin, regress_tf_supervisor, regress_tf_agent;
