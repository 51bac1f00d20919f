--
-- training: crm.train_match_weights() learns the weights of duplicate
-- evidence from the base (EM over the blocked pairs, issue 12); the
-- searches use them unless a weight is pinned; administrators only
--
SELECT regress.reset();
SET client_min_messages = warning;
SELECT crm.create_roles() IS NOT NULL AS roles;
RESET client_min_messages;
CREATE ROLE regress_train_agent NOLOGIN;
CREATE ROLE regress_train_supervisor NOLOGIN;
CREATE ROLE regress_train_admin NOLOGIN;
GRANT crm_agent TO regress_train_agent;
GRANT crm_supervisor TO regress_train_supervisor;
GRANT crm_admin TO regress_train_admin;

-- every kind of evidence but the prior is a level of one comparison
SELECT count(*) AS evidence, count(*) FILTER (WHERE source = 'default') AS default_weights
FROM crm.match_weights_in_use;

--------------------------------------------------------------------------
-- A tiny base: nothing to learn from, the defaults stay
--------------------------------------------------------------------------
INSERT INTO crm.client (id, first_name, last_name, city) VALUES
    (1, 'Jan', 'Kowalski', 'Kraków'), (2, 'Jan', 'Kowalsky', 'Kraków'), (3, 'Anna', 'Nowak', 'Gdańsk');
SET ROLE regress_train_admin;
SELECT evidence, pairs, old_weight, new_weight, source FROM crm.train_match_weights() WHERE evidence = 'prior';
RESET ROLE;
SELECT clients, pairs, iterations, converged, match_share, stored, note FROM crm.match_training;
SELECT count(*) AS trained FROM crm.match_weight_trained;
SELECT count(*) FILTER (WHERE source <> 'default') AS not_default FROM crm.match_weights_in_use;
-- min_pairs => 1 lets it estimate, but three clients hold no duplicates to speak of
SET ROLE regress_train_admin;
SELECT count(*) AS rows FROM crm.train_match_weights(min_pairs => 1);
RESET ROLE;
SELECT pairs, iterations > 0 AS estimated, stored, note FROM crm.match_training ORDER BY id DESC LIMIT 1;
SELECT count(*) AS trained FROM crm.match_weight_trained;
SELECT regress.reset();

--------------------------------------------------------------------------
-- A base with known duplicates: 3,000 people, 300 of them entered again
-- (a typo in the last name, another city without address, no birth date,
-- the phone or not)
--------------------------------------------------------------------------
CREATE TEMP TABLE names AS SELECT
    ARRAY['Jan', 'Anna', 'Piotr', 'Maria', 'Krzysztof', 'Katarzyna', 'Andrzej', 'Małgorzata', 'Tomasz', 'Agnieszka',
          'Paweł', 'Barbara', 'Michał', 'Ewa', 'Marcin', 'Krystyna', 'Jakub', 'Elżbieta', 'Adam', 'Zofia'] AS fn,
    ARRAY['Nowak', 'Kowalski', 'Wiśniewski', 'Wójcik', 'Kowalczyk', 'Kamiński', 'Lewandowski', 'Zieliński',
          'Szymański', 'Woźniak', 'Dąbrowski', 'Kozłowski', 'Jankowski', 'Mazur', 'Kwiatkowski', 'Krawczyk',
          'Piotrowski', 'Grabowski', 'Nowakowski', 'Pawłowski', 'Michalski', 'Nowicki', 'Adamczyk', 'Dudek', 'Zając'] AS ln,
    ARRAY['Warszawa', 'Kraków', 'Łódź', 'Wrocław', 'Poznań', 'Gdańsk', 'Szczecin', 'Lublin'] AS city;
CREATE TEMP TABLE person AS
SELECT i,
       n.fn[1 + abs(hashint4(i * 3 + 1)) % 20] AS first_name,
       n.ln[1 + abs(hashint4(i * 3 + 2)) % 25] AS last_name,
       n.city[1 + abs(hashint4(i * 5 + 3)) % 8] AS city,
       'ul. ' || n.ln[1 + abs(hashint4(i * 7 + 4)) % 25] || 'a ' || (1 + abs(hashint4(i * 11)) % 120) AS address,
       date '1950-01-01' + abs(hashint4(i * 13)) % 18000 AS birth_date,
       '5' || lpad((abs(hashint4(i * 17)) % 100000000)::text, 8, '0') AS phone
FROM generate_series(1, 3000) i, names n;
INSERT INTO crm.client (id, kind, first_name, last_name, city, address, birth_date)
SELECT i, 'person', first_name, last_name, city, address, birth_date FROM person;
INSERT INTO crm.contact (client_id, kind, value) SELECT i, 'phone', phone FROM person WHERE i % 3 <> 0;
-- client 10000 + i is client i again (i a multiple of 10)
INSERT INTO crm.client (id, kind, first_name, last_name, city, address, birth_date)
SELECT 10000 + i, 'person', first_name,
       CASE WHEN i / 10 % 3 = 0 THEN overlay(last_name PLACING 'x' FROM 3 FOR 1) ELSE last_name END,
       CASE WHEN i / 10 % 4 = 0 THEN 'Radom' ELSE city END,
       CASE WHEN i / 10 % 4 = 0 THEN NULL ELSE address END,
       CASE WHEN i / 10 % 5 = 0 THEN NULL ELSE birth_date END
FROM person WHERE i % 10 = 0;
INSERT INTO crm.contact (client_id, kind, value)
SELECT 10000 + i, 'phone', phone FROM person WHERE i % 10 = 0 AND i / 10 % 2 = 0;
SELECT count(*) AS clients FROM crm.client;

-- with the default weights
CREATE TEMP TABLE found_default AS SELECT client_a, client_b FROM crm.duplicate_pairs();
CREATE TEMP TABLE score_default AS
SELECT (crm.match_score(a, b, '{}', crm.match_weights())).score
FROM crm.client a, crm.client b WHERE a.id = 30 AND b.id = 10030;

--------------------------------------------------------------------------
-- Administrators only
--------------------------------------------------------------------------
SET ROLE regress_train_agent;
SELECT err_code, err_message FROM regress.error_of($$SELECT * FROM crm.train_match_weights()$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.forget_trained_match_weights()$$);
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.match_weight_trained VALUES ('prior', 100)$$);
SELECT err_code FROM regress.error_of($$SELECT * FROM crm_internal.estimate_match_weights(25, 0.0001, 1000, 100, 0.05, 0, false)$$);
-- it reads the weights, not the runs (which name the administrators who ran them)
SELECT count(*) AS trained FROM crm.match_weight_trained;
SELECT err_code, err_message FROM regress.error_of($$SELECT trained_by FROM crm.match_training$$);
SET ROLE regress_train_supervisor;
SELECT err_code, err_message, err_detail FROM regress.error_of($$SELECT * FROM crm.train_match_weights()$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT count(*) FROM crm.match_training$$);
RESET ROLE;
-- a broad grant does not let a role write them either
GRANT INSERT, DELETE ON crm.match_weight_trained, crm.match_training TO regress_train_agent;
SET ROLE regress_train_agent;
SELECT err_code, err_message, err_hint FROM regress.error_of($$DELETE FROM crm.match_weight_trained$$);
SELECT err_code, err_message, err_hint FROM regress.error_of($$DELETE FROM crm.match_training$$);
RESET ROLE;
REVOKE ALL ON crm.match_weight_trained, crm.match_training FROM regress_train_agent;
SELECT count(*) AS runs FROM crm.match_training;

--------------------------------------------------------------------------
-- Training
--------------------------------------------------------------------------
SET ROLE regress_train_admin;
SELECT err_code, err_message FROM regress.error_of($$SELECT * FROM crm.train_match_weights(max_iterations => 0)$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT * FROM crm.train_match_weights(tolerance => 0)$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT * FROM crm.train_match_weights(sample_pairs => NULL)$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT * FROM crm.train_match_weights(max_differ_m => 0)$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT * FROM crm.train_match_weights(max_differ_m => 1.5)$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT * FROM crm.train_match_weights(prior_pairs => -1)$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT * FROM crm.train_match_weights(differ_default => NULL)$$);
CREATE TEMP TABLE report AS SELECT * FROM crm.train_match_weights();
-- an administrator reads the runs (agents and supervisors do not: above)
SELECT count(*) AS runs, max(trained_by) AS by FROM crm.match_training;
RESET ROLE;
-- the run: the whole base (it runs as crm's owner), converged, about as
-- many duplicates as there are (300 pairs)
SELECT clients, pairs > 10000 AS pairs, patterns BETWEEN 10 AND 1000 AS patterns, iterations <= 25 AS iterations,
       converged, round(match_share * pairs / 100) * 100 AS duplicates, stored, note, trained_by
FROM crm.match_training ORDER BY id DESC LIMIT 1;
-- what it found: agreement speaks for a duplicate, disagreement against;
-- a level seen too rarely keeps its default
SELECT evidence, pairs >= 20 AS seen, m IS NOT NULL AS estimated, source,
       CASE WHEN source = 'trained' THEN sign(new_weight) END AS sign,
       new_weight = old_weight AS unchanged, note IS NOT NULL AS noted
FROM report ORDER BY evidence <> 'prior', evidence;
-- the constraint: a duplicate rarely shows a disagreement (differ_default:
-- a level whose default weight is 0 or less is not trained above it)
SELECT count(*) AS bounded_levels, count(*) FILTER (WHERE r.new_weight <= d.weight + 1e-9) AS within_bound
FROM report r JOIN crm.match_weight_defaults() d USING (evidence)
WHERE d.weight <= 0 AND r.evidence <> 'prior' AND r.source = 'trained';
-- max_differ_m bounds m of every *_differ level (the estimate alone: nothing stored)
SELECT count(*) AS differ_levels, count(*) FILTER (WHERE m <= 0.02 + 1e-9) AS within_bound
FROM crm_internal.estimate_match_weights(25, 0.0001, 1000, 100000, 0.02, 0, true)
WHERE evidence LIKE '%\_differ' AND m IS NOT NULL;
-- the prior's note: the match share against what the weights in use before implied
SELECT regexp_replace(note, '[0-9.]+', 'N', 'g') AS prior_note FROM report WHERE evidence = 'prior';
SELECT count(*) FILTER (WHERE m BETWEEN 0 AND 1 AND u BETWEEN 0 AND 1) = count(m) AS probabilities,
       count(*) FILTER (WHERE u_random BETWEEN 0 AND 1) = count(*) - 1 AS sampled
FROM report;
-- stored, with m and u
SELECT t.evidence, t.weight = r.new_weight AS reported, t.m IS NULL = (t.evidence = 'prior') AS m_unless_prior
FROM crm.match_weight_trained t JOIN report r USING (evidence) ORDER BY t.evidence;
-- audited: counts, no personal data
SELECT action, actor, client_id, array(SELECT jsonb_object_keys(detail) ORDER BY 1) AS detail
FROM crm.audit_log WHERE action LIKE '%match weights%' ORDER BY id;

-- in use: the view, crm.match_weights(), the scores and the searches
SELECT source, count(*) FROM crm.match_weights_in_use GROUP BY source ORDER BY source;
SELECT (crm.match_weights() ->> 'prior')::float8 = (SELECT weight FROM crm.match_weight_trained WHERE evidence = 'prior')
       AS trained_prior;
SELECT (crm.match_score(a, b, '{}', crm.match_weights())).score <> (SELECT score FROM score_default) AS score_changed
FROM crm.client a, crm.client b WHERE a.id = 30 AND b.id = 10030;
CREATE TEMP TABLE found_trained AS SELECT client_a, client_b FROM crm.duplicate_pairs();
SELECT f.weights, count(*) FILTER (WHERE f.client_b = f.client_a + 10000) AS true_pairs,
       count(*) FILTER (WHERE f.client_b <> f.client_a + 10000) AS false_pairs
FROM (SELECT 'default' AS weights, * FROM found_default UNION ALL SELECT 'trained', * FROM found_trained) f
GROUP BY f.weights ORDER BY f.weights;
-- the candidate search (and the check on save) weigh the same
SELECT count(*) = (SELECT count(*) FROM found_trained WHERE 30 IN (client_a, client_b)) AS candidates_agree
FROM crm.duplicate_candidates(30);

--------------------------------------------------------------------------
-- A pinned weight wins, trained again or not
--------------------------------------------------------------------------
SET ROLE regress_train_admin;
SELECT crm.set_match_weight('address', 1);
SELECT evidence, weight, source, trained_weight IS NOT NULL AS trained FROM crm.match_weights_in_use WHERE evidence = 'address';
SELECT evidence, new_weight, source, note FROM crm.train_match_weights() WHERE evidence = 'address';
SELECT crm.match_weights() ->> 'address' AS address;
-- not converged in one iteration: stored, with a warning
SELECT count(*) AS rows FROM crm.train_match_weights(max_iterations => 1);
RESET ROLE;
SELECT iterations, converged, stored FROM crm.match_training ORDER BY id DESC LIMIT 1;

--------------------------------------------------------------------------
-- Forgetting goes back to the defaults; the pinned weight stays
--------------------------------------------------------------------------
SET ROLE regress_train_admin;
SELECT crm.forget_trained_match_weights() > 0 AS forgotten;
SELECT crm.forget_trained_match_weights() AS again;
RESET ROLE;
SELECT source, count(*) FROM crm.match_weights_in_use GROUP BY source ORDER BY source;
SELECT action, detail FROM crm.audit_log WHERE action = 'forget trained match weights';
SET ROLE regress_train_admin;
SELECT crm.set_match_weight('address', NULL);
RESET ROLE;
SELECT (crm.match_score(a, b, '{}', crm.match_weights())).score = (SELECT score FROM score_default) AS default_score
FROM crm.client a, crm.client b WHERE a.id = 30 AND b.id = 10030;

-- cleanup
SELECT regress.reset();
DROP TABLE names, person, found_default, found_trained, score_default, report;
DROP OWNED BY regress_train_agent, regress_train_supervisor, regress_train_admin;
DROP ROLE regress_train_agent, regress_train_supervisor, regress_train_admin;
