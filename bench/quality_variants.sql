-- bench/quality_variants.sql: one more training variant on a set of
-- bench/quality.sh (TRAIN_VARIANTS): crm.train_match_weights(:args), then
-- crm.duplicate_pairs() with the weights, precision, recall and F1 against
-- the truth on one line; the weights forgotten after
CREATE TEMP TABLE v_trained AS SELECT * FROM crm.train_match_weights(:args);
CREATE TEMP TABLE v_found AS SELECT client_a, client_b FROM crm.duplicate_pairs();
SELECT :'set' AS set, :'args' AS variant, round(r.match_share::numeric, 5) AS lambda, r.iterations, r.converged,
       c.tp, c.fp, c.fn, m.p AS precision, m.r AS recall, m.f1
FROM (SELECT count(t.a) AS tp, count(*) - count(t.a) AS fp, (SELECT count(*) FROM bench.truth) - count(t.a) AS fn
      FROM v_found f LEFT JOIN bench.truth t ON t.a = f.client_a AND t.b = f.client_b) c,
     LATERAL bench.prf(c.tp, c.fp, c.fn) m,
     (SELECT * FROM crm.match_training ORDER BY id DESC LIMIT 1) r;
SELECT crm.forget_trained_match_weights() AS forgotten \gset
DROP TABLE v_trained, v_found;
