-- bench/quality_eval.sql: scores one set of bench/quality.sh in its database.
-- Needs crm.client, crm.contact, bench.truth (a < b), bench.rec (client_id,
-- eid, copy_no, labels, household), bench.result, bench.prf; psql variable set.
\set ON_ERROR_STOP 1
SET crm.duplicate_check = off;

-- 0. the frequencies of names and cities (frequency-aware evidence), as a DBA
-- runs it after a bulk load, when this version of crm has them
SELECT to_regprocedure('crm.refresh_match_frequencies()') IS NOT NULL AS have_tf \gset
\if :have_tf
SELECT crm.refresh_match_frequencies() \g /dev/null
\endif

-- 1. crm.duplicate_pairs() at its default threshold, timed
-- (its NOTICEs shown: the progress, and what each blocking pass gave on a run of 5 s or more)
SET client_min_messages = notice;
SELECT clock_timestamp() AS t0 \gset
CREATE TABLE bench.found AS SELECT client_a, client_b, score, reasons FROM crm.duplicate_pairs();
INSERT INTO bench.result VALUES ('pairs_s', round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 2));
RESET client_min_messages;
ALTER TABLE bench.found ADD PRIMARY KEY (client_a, client_b);

-- 2. baselines: what a DBA writes with pg_trgm (psql variable baseline: off
-- skips them, for bases too large for the trigram self-join; the bench.*_found
-- tables are then empty and the summary shows '-')
\if :baseline
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE FUNCTION bench.fullname(c crm.client) RETURNS text LANGUAGE sql IMMUTABLE
    RETURN lower(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, ''));
CREATE INDEX bench_trgm_person_idx ON crm.client
    USING gin (lower(coalesce(first_name, '') || ' ' || last_name) gin_trgm_ops) WHERE kind = 'person';
CREATE INDEX bench_trgm_company_idx ON crm.client USING gin (lower(company_name) gin_trgm_ops) WHERE kind = 'company';
ANALYZE crm.client;
--   a. similarity >= 0.6 of the full name (company name) within one lower(city), as bench/duplicates.sh's
SELECT clock_timestamp() AS t0 \gset
SET pg_trgm.similarity_threshold = 0.6;
CREATE TABLE bench.bl_found AS
SELECT a.id AS a, b.id AS b FROM crm.client a JOIN crm.client b
    ON lower(coalesce(b.first_name, '') || ' ' || b.last_name) % lower(coalesce(a.first_name, '') || ' ' || a.last_name)
   AND lower(b.city) = lower(a.city) AND a.id < b.id
WHERE a.kind = 'person' AND b.kind = 'person'
UNION ALL
SELECT a.id, b.id FROM crm.client a JOIN crm.client b
    ON lower(b.company_name) % lower(a.company_name) AND lower(b.city) = lower(a.city) AND a.id < b.id
WHERE a.kind = 'company' AND b.kind = 'company';
INSERT INTO bench.result VALUES ('bl_s', round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 2));
--   b. birth-date blocking + trigram: the same birth date, similarity >= 0.5 of the full name
SELECT clock_timestamp() AS t0 \gset
CREATE TABLE bench.bd_found AS
SELECT a.id AS a, b.id AS b FROM crm.client a JOIN crm.client b ON b.birth_date = a.birth_date AND a.id < b.id
WHERE a.kind = 'person' AND b.kind = 'person'
  AND similarity(lower(coalesce(a.first_name, '') || ' ' || a.last_name),
                 lower(coalesce(b.first_name, '') || ' ' || b.last_name)) >= 0.5;
INSERT INTO bench.result VALUES ('bd_s', round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 2));
DROP INDEX crm.bench_trgm_person_idx, crm.bench_trgm_company_idx;
\else
CREATE TABLE bench.bl_found (a bigint, b bigint);
CREATE TABLE bench.bd_found (a bigint, b bigint);
\endif

INSERT INTO bench.result
SELECT m || '_' || k, v FROM (
    SELECT 'crm' AS m, count(t.a) AS tp, count(*) - count(t.a) AS fp, (SELECT count(*) FROM bench.truth) - count(t.a) AS fn
    FROM bench.found f LEFT JOIN bench.truth t ON t.a = f.client_a AND t.b = f.client_b
    UNION ALL
    SELECT 'bl', count(t.a), count(*) - count(t.a), (SELECT count(*) FROM bench.truth) - count(t.a)
    FROM bench.bl_found f LEFT JOIN bench.truth t ON t.a = f.a AND t.b = f.b
    HAVING :'baseline'::boolean
    UNION ALL
    SELECT 'bd', count(t.a), count(*) - count(t.a), (SELECT count(*) FROM bench.truth) - count(t.a)
    FROM bench.bd_found f LEFT JOIN bench.truth t ON t.a = f.a AND t.b = f.b
    HAVING :'baseline'::boolean) c,
    LATERAL bench.prf(c.tp, c.fp, c.fn) m,
    LATERAL (VALUES ('tp', c.tp::text), ('fp', c.fp::text), ('fn', c.fn::text),
                    ('p', m.p::text), ('r', m.r::text), ('f1', m.f1::text)) AS v(k, v);
INSERT INTO bench.result
SELECT 'clients', count(*)::text FROM crm.client
UNION ALL SELECT 'true_pairs', count(*)::text FROM bench.truth
UNION ALL SELECT 'dup_records', count(*)::text FROM bench.rec WHERE copy_no > 0;

-- 3. the misses: the score crm.match_score gives them, and whether they share a
-- block at all (a name/address key of crm.match_keys, an identifier, a phone or
-- an e-mail: an approximation of the passes of duplicate_pairs)
DO $$
BEGIN
    EXECUTE (SELECT format('CREATE FUNCTION bench.keys(c crm.client) RETURNS text[] LANGUAGE sql STABLE '
                           'RETURN crm.match_keys(%s)',
                           string_agg(format('c.%I', a.n), ', ' ORDER BY a.o))
             FROM pg_proc p, unnest(p.proargnames) WITH ORDINALITY AS a(n, o)
             WHERE p.oid = (SELECT min(oid) FROM pg_proc WHERE proname = 'match_keys'
                            AND pronamespace = 'crm'::regnamespace));
END
$$;
CREATE FUNCTION bench.show(id bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT concat_ws(' | ', c.id || ' ' || c.display_name, c.birth_date::text, c.city, c.postal_code, c.address,
                     c.pesel::text, c.nip::text,
                     (SELECT string_agg(x.value, ' ' ORDER BY x.value) FROM crm.contact x WHERE x.client_id = c.id))
    FROM crm.client c WHERE c.id = show.id
$$;
CREATE TABLE bench.fn AS
SELECT t.a, t.b, m.score, m.reasons,
       ARRAY(SELECT DISTINCT l FROM (SELECT unnest(r.labels) FROM bench.rec r WHERE r.client_id IN (t.a, t.b)
                                     UNION ALL SELECT 'pair_of_two_duplicates'
                                     WHERE (SELECT min(r.copy_no) FROM bench.rec r WHERE r.client_id IN (t.a, t.b)) > 0
                                    ) AS u(l) ORDER BY l) AS labels,
       (coalesce(bench.keys(ca) && bench.keys(cb), false) OR coalesce(ca.pesel::text = cb.pesel::text OR ca.nip::text = cb.nip::text, false)
        OR cardinality(sh.shared) > 0) AS shares_block,
       -- the same without the city-and-address key (a:): the only link of many misses
       (ARRAY(SELECT k FROM unnest(bench.keys(ca)) k WHERE k NOT LIKE 'a:%')
            && ARRAY(SELECT k FROM unnest(bench.keys(cb)) k WHERE k NOT LIKE 'a:%')
        OR coalesce(ca.pesel::text = cb.pesel::text OR ca.nip::text = cb.nip::text, false) OR cardinality(sh.shared) > 0) AS shares_nonaddr
FROM bench.truth t
JOIN crm.client ca ON ca.id = t.a JOIN crm.client cb ON cb.id = t.b
CROSS JOIN LATERAL (SELECT ARRAY(SELECT x.kind || ':' || lower(x.value) FROM crm.contact x JOIN crm.contact y
                                     ON y.kind = x.kind AND lower(y.value) = lower(x.value)
                                 WHERE x.client_id = t.a AND y.client_id = t.b ORDER BY 1) AS shared) sh
CROSS JOIN LATERAL crm.match_score(ca, cb, sh.shared, crm.match_weights()) AS m
WHERE NOT EXISTS (SELECT FROM bench.found f WHERE f.client_a = t.a AND f.client_b = t.b);
ALTER TABLE bench.fn ADD why text;
UPDATE bench.fn SET why = CASE WHEN NOT shares_block AND score >= crm.default_min_score() THEN 'no_block_would_pass'
                               WHEN NOT shares_block THEN 'no_block_below'
                               WHEN score < crm.default_min_score() THEN 'block_below'
                               ELSE 'block_above' END;
INSERT INTO bench.result
SELECT 'fn_' || w, count(fn.a)::text
FROM unnest('{no_block_would_pass,no_block_below,block_below,block_above}'::text[]) w LEFT JOIN bench.fn ON fn.why = w
GROUP BY w
UNION ALL SELECT 'fn_address_only', count(*)::text FROM bench.fn WHERE shares_block AND NOT shares_nonaddr;
-- the false positives, by relation
CREATE TABLE bench.fp AS
SELECT f.*, CASE WHEN ra.household = rb.household THEN 'household'
                 WHEN crm.normalize_name(ca.last_name) = crm.normalize_name(cb.last_name)
                      AND crm.normalize_name(ca.first_name) = crm.normalize_name(cb.first_name) THEN 'namesakes'
                 WHEN crm.normalize_name(ca.last_name) = crm.normalize_name(cb.last_name) THEN 'same last name'
                 ELSE 'other' END AS relation
FROM bench.found f JOIN bench.rec ra ON ra.client_id = f.client_a JOIN bench.rec rb ON rb.client_id = f.client_b
JOIN crm.client ca ON ca.id = f.client_a JOIN crm.client cb ON cb.id = f.client_b
WHERE ra.eid <> rb.eid;

\echo
\echo :set': crm.duplicate_pairs() and the baselines'
SELECT m AS method, max(v) FILTER (WHERE k = m || '_tp') AS tp, max(v) FILTER (WHERE k = m || '_fp') AS fp,
       max(v) FILTER (WHERE k = m || '_fn') AS fn, max(v) FILTER (WHERE k = m || '_p') AS precision,
       max(v) FILTER (WHERE k = m || '_r') AS recall, max(v) FILTER (WHERE k = m || '_f1') AS f1,
       max(v) FILTER (WHERE k = CASE m WHEN 'crm' THEN 'pairs' ELSE m END || '_s') AS seconds
FROM bench.result, (VALUES ('crm'), ('bl'), ('bd')) AS x(m) GROUP BY m ORDER BY m DESC;
\echo :set': crm false negatives by cause (no_block: the pair shares no key, identifier, phone or e-mail; would_pass: crm.match_score >= the default threshold)'
SELECT why, count(*), round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct,
       count(*) FILTER (WHERE shares_block AND NOT shares_nonaddr) AS only_via_address_key
FROM bench.fn GROUP BY 1 ORDER BY 2 DESC;
\echo :set': crm false negatives by what the generator did (a pair counts under each of its labels), against all true pairs'
SELECT l AS label, count(*) FILTER (WHERE fn.a IS NOT NULL) AS fn, count(*) AS true_pairs,
       round(100.0 * count(*) FILTER (WHERE fn.a IS NOT NULL) / count(*), 1) AS fn_pct_of_label,
       round(100.0 * count(*) FILTER (WHERE fn.a IS NOT NULL) / nullif((SELECT count(*) FROM bench.fn), 0), 1) AS pct_of_fn
FROM bench.truth t
CROSS JOIN LATERAL (SELECT DISTINCT l FROM (SELECT unnest(r.labels) FROM bench.rec r WHERE r.client_id IN (t.a, t.b)
                                            UNION ALL SELECT 'pair_of_two_duplicates'
                                            WHERE (SELECT min(r.copy_no) FROM bench.rec r
                                                   WHERE r.client_id IN (t.a, t.b)) > 0) AS u(l)) ls
LEFT JOIN bench.fn ON fn.a = t.a AND fn.b = t.b
GROUP BY l HAVING count(*) FILTER (WHERE fn.a IS NOT NULL) > 0 ORDER BY 2 DESC, 1 LIMIT 15;
-- the summary's list: perturbations only (not what was kept), with the share of
-- the true pairs carrying the label that were missed
INSERT INTO bench.result
SELECT 'top_labels', string_agg(format('%s %s/%s', l, fn, n), ', ' ORDER BY fn DESC, l) FROM (
    SELECT l, count(*) FILTER (WHERE fn.a IS NOT NULL) AS fn, count(*) AS n
    FROM bench.truth t
    CROSS JOIN LATERAL (SELECT DISTINCT l FROM bench.rec r, unnest(r.labels) l WHERE r.client_id IN (t.a, t.b)) ls
    LEFT JOIN bench.fn ON fn.a = t.a AND fn.b = t.b
    WHERE l !~ '(_same|_none|_kept|_pesel)$|^(origin_|household_|email_|phone_)|^translit_.*>'
    GROUP BY l HAVING count(*) FILTER (WHERE fn.a IS NOT NULL) > 0 ORDER BY 2 DESC, 1 LIMIT 6) x;
\echo :set': crm false positives by relation'
SELECT relation, count(*), round(avg(score)::numeric, 3) AS avg_score FROM bench.fp GROUP BY 1 ORDER BY 2 DESC;
-- the false positives by the evidence that made them (from their reasons:
-- identifiers, shared contacts, names, birth date, address), and how common
-- their names are in the base: the bearers of the pair's first name, of its
-- last name, and of the two together (the namesakes, matching forms)
CREATE TEMP TABLE fp_bearers AS
SELECT x.f, x.l, count(*) AS both_n
FROM (SELECT DISTINCT crm.normalize_name(first_name) AS f, crm.normalize_name(last_name) AS l
      FROM crm.client WHERE id IN (SELECT client_a FROM bench.fp)) x
JOIN crm.client c ON c.kind = 'person' AND crm.normalize_name(c.first_name) = x.f AND crm.normalize_name(c.last_name) = x.l
GROUP BY 1, 2;
\echo :set': crm false positives by the evidence that made them (names: both the same, in any spelling; birth: same, one typo apart, different, missing on a side), with the median bearers of their full name (namesakes in the base: the first client of the pair)'
SELECT concat_ws(' + ',
                 CASE WHEN r ~ '(same|one typo away: )(PESEL|NIP|REGON)' THEN 'identifier' END,
                 CASE WHEN r ~ 'same (phone|e-mail)' THEN 'shared contact' END,
                 CASE WHEN r ~ '(same last name|first and last name swapped|same names in another order)'
                       AND r ~ '(same first name|first name diminutive|first and last name swapped|same names in another order)'
                      THEN 'same names' ELSE 'names alike or differ' END,
                 CASE WHEN r ~ 'same birth date' THEN 'same birth date'
                      WHEN r ~ 'birth dates one typo apart' THEN 'birth dates one typo apart'
                      WHEN r ~ 'different birth dates' THEN 'different birth dates' ELSE 'no birth date on a side' END,
                 CASE WHEN r ~ 'same address|address similar|address with the house' THEN 'address' END,
                 CASE WHEN r ~ 'same postal code' THEN 'postal code' WHEN r ~ 'same city' THEN 'city' END) AS evidence,
       count(*), round(avg(score)::numeric, 3) AS avg_score,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY b.both_n) AS median_namesakes,
       min(b.both_n) AS min_namesakes
FROM (SELECT fp.*, array_to_string(fp.reasons, '; ') AS r FROM bench.fp) fp
JOIN crm.client ca ON ca.id = fp.client_a
LEFT JOIN fp_bearers b ON b.f = crm.normalize_name(ca.first_name) AND b.l = crm.normalize_name(ca.last_name)
GROUP BY 1 ORDER BY 2 DESC LIMIT 15;
INSERT INTO bench.result
SELECT 'fp_causes', string_agg(format('%s %s', evidence, n), ', ' ORDER BY n DESC, evidence) FROM (
    SELECT CASE WHEN r ~ 'same (phone|e-mail)' THEN 'contact'
                WHEN r ~ '(same|one typo away: )(PESEL|NIP|REGON)' THEN 'identifier'
                WHEN r ~ 'same address|address similar|address with the house' THEN 'address'
                WHEN r ~ 'same birth date' THEN 'names+same_bd'
                WHEN r ~ 'birth dates one typo apart' THEN 'names+close_bd'
                ELSE 'names_only' END AS evidence, count(*) AS n
    FROM (SELECT array_to_string(reasons, '; ') AS r FROM bench.fp) x GROUP BY 1) y;
\echo :set': 6 false negatives (a sample)'
SELECT round(score::numeric, 3) AS score, why, bench.show(a) AS a, bench.show(b) AS b,
       array_to_string(labels, ',') AS labels
FROM bench.fn ORDER BY hashint8(a + b), a LIMIT 6;
\echo :set': 6 false positives (a sample), with the reasons'
SELECT round(f.score::numeric, 3) AS score, f.relation, bench.show(f.client_a) AS a, bench.show(f.client_b) AS b,
       array_to_string(f.reasons, '; ') AS reasons
FROM bench.fp f ORDER BY hashint8(f.client_a + f.client_b), f.client_a LIMIT 6;

-- 4. trained weights (crm.train_match_weights(), timed), then crm.duplicate_pairs()
-- again with them; the weights forgotten after (TRAIN=0: skipped)
\if :train
SELECT clock_timestamp() AS t0 \gset
CREATE TABLE bench.trained AS SELECT * FROM crm.train_match_weights(:train_args);
INSERT INTO bench.result VALUES ('train_s', round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 2));
INSERT INTO bench.result
SELECT 'train_' || k, v FROM crm.match_training r,
    LATERAL (VALUES ('pairs', r.pairs::text), ('patterns', r.patterns::text), ('iterations', r.iterations::text),
                    ('converged', r.converged::text), ('lambda', round(r.match_share::numeric, 5)::text),
                    ('stored', r.stored::text)) AS v(k, v)
WHERE r.id = (SELECT max(id) FROM crm.match_training);
SELECT clock_timestamp() AS t0 \gset
CREATE TABLE bench.tr_found AS SELECT client_a, client_b, score FROM crm.duplicate_pairs();
INSERT INTO bench.result VALUES ('tr_pairs_s', round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 2));
INSERT INTO bench.result
SELECT 'tr_' || k, v FROM (
    SELECT count(t.a) AS tp, count(*) - count(t.a) AS fp, (SELECT count(*) FROM bench.truth) - count(t.a) AS fn
    FROM bench.tr_found f LEFT JOIN bench.truth t ON t.a = f.client_a AND t.b = f.client_b) c,
    LATERAL bench.prf(c.tp, c.fp, c.fn) m,
    LATERAL (VALUES ('tp', c.tp::text), ('fp', c.fp::text), ('fn', c.fn::text),
                    ('p', m.p::text), ('r', m.r::text), ('f1', m.f1::text)) AS v(k, v);
\echo :set': crm.train_match_weights(): the run, and crm.duplicate_pairs() with the trained weights'
SELECT max(v) FILTER (WHERE k = 'train_s') AS train_s, max(v) FILTER (WHERE k = 'train_pairs') AS pairs,
       max(v) FILTER (WHERE k = 'train_patterns') AS patterns, max(v) FILTER (WHERE k = 'train_iterations') AS iterations,
       max(v) FILTER (WHERE k = 'train_converged') AS converged, max(v) FILTER (WHERE k = 'train_lambda') AS lambda,
       max(v) FILTER (WHERE k = 'train_stored') AS stored,
       max(v) FILTER (WHERE k = 'tr_tp') AS tp, max(v) FILTER (WHERE k = 'tr_fp') AS fp, max(v) FILTER (WHERE k = 'tr_fn') AS fn,
       max(v) FILTER (WHERE k = 'tr_p') AS precision, max(v) FILTER (WHERE k = 'tr_r') AS recall,
       max(v) FILTER (WHERE k = 'tr_f1') AS f1
FROM bench.result;
\echo :set': the weights that changed most'
SELECT evidence, pairs, round(m::numeric, 4) AS m, round(u::numeric, 5) AS u, round(u_random::numeric, 6) AS u_random,
       old_weight, round(new_weight::numeric, 2) AS new_weight
FROM bench.trained WHERE source = 'trained' ORDER BY abs(new_weight - old_weight) DESC LIMIT 12;
SELECT crm.forget_trained_match_weights() AS forgotten \gset
\endif
