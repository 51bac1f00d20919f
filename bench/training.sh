#!/usr/bin/env bash
# bench/training.sh: how long does crm.train_match_weights() take, and what
# do the trained weights do to the quality of crm.duplicate_pairs()?
#
#   CLIENTS=1000000 tools/dev.sh bench training     # default CLIENTS=200000, SEED=42
#
# Builds bench/duplicates.sh's Polish base with its ground truth
# (BUILD_ONLY=1, database crm_bench_train), then, timed:
#   1. crm.duplicate_pairs() with the default weights: P, R, F1;
#   2. crm.train_match_weights(): the run (pairs, patterns, iterations,
#      converged, lambda) and the weights that changed most;
#   3. crm.duplicate_pairs() with the trained weights: P, R, F1.
# KEEP=1 keeps the database.
set -euo pipefail
cd "$(dirname "$0")"
CLIENTS=${CLIENTS:-200000}
SEED=${SEED:-42}
KEEP=${KEEP:-0}
DB=crm_bench_train
BIN=${PG_BINDIR:+$PG_BINDIR/}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1 -d "$DB")

echo "== building $CLIENTS clients (bench/duplicates.sh, seed $SEED) ..."
DUP_DB=$DB BUILD_ONLY=1 CLIENTS=$CLIENTS SEED=$SEED bash duplicates.sh >/dev/null
"${PSQL[@]}" -P footer=off <<'SQL'
SET crm.duplicate_check = off;
CREATE OR REPLACE FUNCTION bench.score(pairs regclass) RETURNS TABLE (tp bigint, fp bigint, fn bigint, p numeric, r numeric, f1 numeric)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT c.tp, c.fp, c.fn, round(c.tp::numeric / nullif(c.tp + c.fp, 0), 3), round(c.tp::numeric / nullif(c.tp + c.fn, 0), 3),
                round(2 * c.tp::numeric / nullif(2 * c.tp + c.fp + c.fn, 0), 3)
         FROM (SELECT count(t.a) AS tp, count(*) - count(t.a) AS fp, (SELECT count(*) FROM bench.truth) - count(t.a) AS fn
               FROM %s f LEFT JOIN bench.truth t ON t.a = f.client_a AND t.b = f.client_b) c', pairs);
END
$$;
\timing on
\echo 1. crm.duplicate_pairs(), default weights
CREATE TABLE bench.found_default AS SELECT client_a, client_b FROM crm.duplicate_pairs();
\echo 2. crm.train_match_weights()
CREATE TABLE bench.trained AS SELECT * FROM crm.train_match_weights();
\echo 3. crm.duplicate_pairs(), trained weights
CREATE TABLE bench.found_trained AS SELECT client_a, client_b FROM crm.duplicate_pairs();
\timing off
SELECT clients, pairs, patterns, iterations, converged, round(match_share::numeric, 5) AS lambda, stored, note
FROM crm.match_training ORDER BY id DESC LIMIT 1;
SELECT evidence, pairs, round(m::numeric, 4) AS m, round(u::numeric, 5) AS u, round(u_random::numeric, 6) AS u_random,
       old_weight, round(new_weight::numeric, 2) AS new_weight, source
FROM bench.trained ORDER BY evidence <> 'prior', abs(new_weight - old_weight) DESC;
SELECT 'default' AS weights, * FROM bench.score('bench.found_default')
UNION ALL SELECT 'trained', * FROM bench.score('bench.found_trained');
SQL
if [ "$KEEP" != 1 ]; then "${BIN}psql" -X -q -d postgres -c "DROP DATABASE $DB"; fi
