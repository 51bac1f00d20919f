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
# RUNS=N (default 1) times each crm.duplicate_pairs() and the training N times
# and prints the median.
# Equivalence of a change that must not change results (issue 12's speed work):
# OUT=dir saves the whole output of both crm.duplicate_pairs() calls (pairs,
# scores, reasons) and the trained weights as text files in dir; REF=dir (the
# OUT of another build on the same CLIENTS, SEED and NAMES) compares them with
# this build's: the rows of each side missing from the other (EXCEPT ALL both
# ways; 0 / 0 is equal) and whether the weights' files are byte-identical.
# PERF=file records a perf profile (perf record -g) of the backend during the
# default-weights crm.duplicate_pairs().
set -euo pipefail
cd "$(dirname "$0")"
CLIENTS=${CLIENTS:-200000}
SEED=${SEED:-42}
KEEP=${KEEP:-0}
RUNS=${RUNS:-1}
OUT=${OUT:-}
REF=${REF:-}
PERF=${PERF:-}
DB=crm_bench_train
BIN=${PG_BINDIR:+$PG_BINDIR/}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1 -d "$DB")

echo "== building $CLIENTS clients (bench/duplicates.sh, seed $SEED) ..."
DUP_DB=$DB BUILD_ONLY=1 CLIENTS=$CLIENTS SEED=$SEED bash duplicates.sh >/dev/null
PSQL_VARS=(-v runs="$RUNS" -v runs_gt1="$([ "$RUNS" -gt 1 ] && echo on || echo off)")
[ -z "$PERF" ] || PSQL_VARS+=(-v perf="$PERF")
"${PSQL[@]}" -P footer=off "${PSQL_VARS[@]}" <<'SQL'
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
CREATE FUNCTION bench.median_s(q text, n int) RETURNS TABLE (median_s numeric, runs text)
LANGUAGE plpgsql AS $$
DECLARE t timestamptz; d float8[] := '{}';
BEGIN
    FOR i IN 1..n LOOP
        t := clock_timestamp();
        EXECUTE q;
        d := d || extract(epoch FROM clock_timestamp() - t)::float8;
    END LOOP;
    RETURN QUERY SELECT round(percentile_disc(0.5) WITHIN GROUP (ORDER BY x)::numeric, 2),
                        (SELECT string_agg(round(y::numeric, 2)::text, ' ') FROM unnest(d) y)
                 FROM unnest(d) x;
END
$$;
SELECT pg_backend_pid() AS backend \gset
\timing on
\echo 1. crm.duplicate_pairs(), default weights
\if :{?perf}
\setenv BENCH_PERF :perf
\setenv BENCH_BACKEND :backend
\! perf record -F 499 -g -o "$BENCH_PERF" -p "$BENCH_BACKEND" >/dev/null 2>&1 & echo $! > "$BENCH_PERF.pid"; sleep 1
\endif
CREATE TABLE bench.found_default AS SELECT * FROM crm.duplicate_pairs();
\if :{?perf}
\! kill -INT "$(cat "$BENCH_PERF.pid")"; sleep 3; rm -f "$BENCH_PERF.pid"
\endif
\echo 2. crm.train_match_weights()
CREATE TABLE bench.trained AS SELECT * FROM crm.train_match_weights();
CREATE TABLE bench.weights_trained AS SELECT crm.match_weights() AS w;
\echo 3. crm.duplicate_pairs(), trained weights
CREATE TABLE bench.found_trained AS SELECT * FROM crm.duplicate_pairs();
\timing off
\if :runs_gt1
SELECT 'pairs, trained weights' AS what, * FROM bench.median_s('SELECT count(*) FROM crm.duplicate_pairs()', :runs);
SELECT 'training' AS what, * FROM bench.median_s('SELECT count(*) FROM crm.train_match_weights()', :runs);
SELECT 'pairs, default weights' AS what, * FROM bench.median_s('SELECT crm.forget_trained_match_weights(); SELECT count(*) FROM crm.duplicate_pairs()', :runs);
\endif
SELECT clients, pairs, patterns, iterations, converged, round(match_share::numeric, 5) AS lambda, stored, note
FROM crm.match_training ORDER BY id DESC LIMIT 1;
SELECT evidence, pairs, round(m::numeric, 4) AS m, round(u::numeric, 5) AS u, round(u_random::numeric, 6) AS u_random,
       old_weight, round(new_weight::numeric, 2) AS new_weight, source
FROM bench.trained ORDER BY evidence <> 'prior', abs(new_weight - old_weight) DESC;
SELECT 'default' AS weights, * FROM bench.score('bench.found_default')
UNION ALL SELECT 'trained', * FROM bench.score('bench.found_trained');
SQL
if [ -n "$OUT" ]; then
	mkdir -p "$OUT"
	for t in found_default found_trained; do
		"${PSQL[@]}" -c "\\copy (SELECT * FROM bench.$t ORDER BY client_a, client_b) TO '$OUT/$t.tsv'"
	done
	"${PSQL[@]}" -c "\\copy (SELECT w FROM bench.weights_trained) TO '$OUT/weights.tsv'"
	"${PSQL[@]}" -c "\\copy (SELECT * FROM bench.trained ORDER BY 1) TO '$OUT/trained.tsv'"
	"${PSQL[@]}" -c "\\copy (SELECT clients, pairs, patterns, iterations, converged, match_share, stored, note FROM crm.match_training ORDER BY id LIMIT 1) TO '$OUT/training_run.tsv'"
fi
if [ -n "$REF" ]; then
	echo "== equivalence with $REF"
	for t in found_default found_trained; do
		"${PSQL[@]}" -c "CREATE TABLE bench.ref_$t (LIKE bench.$t)" \
			-c "\\copy bench.ref_$t FROM '$REF/$t.tsv'"
		"${PSQL[@]}" -P footer=off -c "SELECT '$t' AS output, (SELECT count(*) FROM bench.$t) AS rows,
			(SELECT count(*) FROM (SELECT * FROM bench.$t EXCEPT ALL SELECT * FROM bench.ref_$t) x) AS only_here,
			(SELECT count(*) FROM (SELECT * FROM bench.ref_$t EXCEPT ALL SELECT * FROM bench.$t) x) AS only_ref"
	done
	if [ -n "$OUT" ]; then
		for f in weights trained training_run; do
			if cmp -s "$OUT/$f.tsv" "$REF/$f.tsv"; then echo "$f: byte-identical"; else echo "$f: DIFFERENT"; fi
		done
	fi
fi
if [ "$KEEP" != 1 ]; then "${BIN}psql" -X -q -d postgres -c "DROP DATABASE $DB"; fi
