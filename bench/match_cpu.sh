#!/usr/bin/env bash
# bench/match_cpu.sh: issue 12's speed figures on a shared machine.
#
#   tools/dev.sh bench match_cpu     # builds the base first (bench/duplicates.sh BUILD_ONLY=1)
#   bash bench/match_cpu.sh          # on a server of your own, on the base a run left
#
# On a machine other work shares, wall time measures the others as much as
# crm.  The server's backend reports its own time on a CPU and its time
# waiting for one (/proc/PID/schedstat, read through pg_read_file(): the
# server runs on this host and the bench connects as a superuser): its CPU
# time is what an idle machine's wall time would be, save for the waits on
# disk (none here: the base fits in shared_buffers after the first read)
# and the slowdown of caches shared with the other work (so CPU times under
# load are upper bounds).  Each figure is given both ways, with the run
# queue's wait that separates them.  On the base of bench/duplicates.sh
# (DUP_DB, default crm_bench_dup; CLIENTS as it was built with, default
# 1,000,000; built first when the database is missing, NAMES=realistic):
#   1. crm.refresh_match_frequencies(), as after a bulk load;
#   2. crm.duplicate_pairs() (RUNS times, default 3: the median);
#   3. crm.train_match_weights(), then the trained weights forgotten;
#   4. crm.duplicate_candidates(id) for ROUNDS (default 201) random clients:
#      the median wall time, and CPU time per call;
#   5. INSERTS (default 1000) new persons inserted one statement each with
#      crm.duplicate_check = off and as many with notice, alternating in
#      batches of 100: CPU time per insert, and what the check adds.
# Targets (issue 12): pairs < 30 s, candidates < 5 ms median, the check on
# save < 1 ms added per insert, training < 60 s, at 1,000,000 clients.
set -euo pipefail
cd "$(dirname "$0")"
DB=${DUP_DB:-crm_bench_dup}
CLIENTS=${CLIENTS:-1000000}
RUNS=${RUNS:-3}
ROUNDS=${ROUNDS:-201}
INSERTS=${INSERTS:-1000}
BIN=${PG_BINDIR:+$PG_BINDIR/}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

if [ -z "$("${BIN}psql" -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
	echo "building the base ($CLIENTS clients, names ${NAMES:-realistic}) ..."
	CLIENTS=$CLIENTS NAMES=${NAMES:-realistic} BUILD_ONLY=1 DUP_DB=$DB bash duplicates.sh | tail -3
fi

"${BIN}psql" -X -q -v ON_ERROR_STOP=1 -d "$DB" -P footer=off \
	-v runs="$RUNS" -v rounds="$ROUNDS" -v inserts="$INSERTS" -v clients="$CLIENTS" <<'SQL'
SET crm.duplicate_check = off;
-- this backend's time on a CPU and waiting for one, in ms
CREATE OR REPLACE FUNCTION bench.sched() RETURNS TABLE (cpu_ms float8, wait_ms float8) LANGUAGE sql AS $$
    SELECT split_part(s, ' ', 1)::float8 / 1e6, split_part(s, ' ', 2)::float8 / 1e6
    FROM pg_read_file('/proc/' || pg_backend_pid() || '/schedstat') AS s
$$;
DROP TABLE IF EXISTS bench.cpu;
CREATE TABLE bench.cpu (id serial, step text, run int, wall_ms float8, cpu_ms float8, wait_ms float8);
CREATE OR REPLACE PROCEDURE bench.measure(step text, run int, query text) LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    s0 record;
    s1 record;
BEGIN
    SELECT * INTO s0 FROM bench.sched();
    t0 := clock_timestamp();
    EXECUTE query;
    SELECT * INTO s1 FROM bench.sched();
    INSERT INTO bench.cpu (step, run, wall_ms, cpu_ms, wait_ms) VALUES (step, run, 1000 * extract(epoch FROM clock_timestamp() - t0),
                                  s1.cpu_ms - s0.cpu_ms, s1.wait_ms - s0.wait_ms);
END
$$;

\echo '1. crm.refresh_match_frequencies()'
CALL bench.measure('refresh_match_frequencies()', 1, 'SELECT crm.refresh_match_frequencies()');
\echo '2. crm.duplicate_pairs()'
SELECT format('CALL bench.measure(%L, %s, %L)', 'duplicate_pairs()', r, 'SELECT count(*) FROM crm.duplicate_pairs()')
FROM generate_series(1, :runs) r \gexec
\echo '3. crm.train_match_weights()'
CALL bench.measure('train_match_weights()', 1, 'SELECT count(*) FROM crm.train_match_weights()');
SELECT crm.forget_trained_match_weights() IS NOT NULL AS forgotten \gset

\echo '4. crm.duplicate_candidates(id), one client at a time'
SELECT format('CALL bench.measure(%L, %s, %L)', 'duplicate_candidates(id)', n,
              format('SELECT count(*) FROM crm.duplicate_candidates(%s)', id))
FROM (SELECT row_number() OVER () AS n, id FROM crm.client ORDER BY bench.rnd(id, 97), id LIMIT :rounds) c \gexec

\echo '5. inserts, check on save off and on, alternating in batches of 100'
DELETE FROM crm.client WHERE id > :clients;
DROP TABLE IF EXISTS bench.cpu_newc;
CREATE TABLE bench.cpu_newc AS
SELECT row_number() OVER (ORDER BY eid) AS n, kind, first_name, last_name, city, address,
       pesel::crm.pesel AS pesel, created_at
FROM bench.entities(:clients + 1, :clients + 2 * :inserts) WHERE kind = 'person';
CREATE OR REPLACE PROCEDURE bench.insert_some(check_mode text, first bigint, cnt int) LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    PERFORM set_config('crm.duplicate_check', check_mode, true);
    FOR r IN SELECT * FROM bench.cpu_newc WHERE n BETWEEN first AND first + cnt - 1 ORDER BY n LOOP
        INSERT INTO crm.client (kind, first_name, last_name, display_name, city, address, pesel, source, created_at, updated_at)
        VALUES (r.kind, r.first_name, r.last_name,
                crm_internal.client_default_display_name(r.kind, r.first_name, r.last_name, NULL), r.city, r.address, r.pesel,
                'bench', r.created_at, r.created_at);
    END LOOP;
END
$$;
SET client_min_messages = warning;
SELECT format('CALL bench.measure(%L, %s, %L)', 'insert, check ' || m, b,
              format('CALL bench.insert_some(%L, %s, 100)', m, 1 + b * 200 + CASE m WHEN 'off' THEN 0 ELSE 100 END))
FROM generate_series(0, (SELECT count(*) FROM bench.cpu_newc)::int / 200 - 1) b, (VALUES ('off'), ('notice')) AS v(m)
ORDER BY b, m DESC \gexec
RESET client_min_messages;
DELETE FROM crm.client WHERE id > :clients;

\echo
\echo 'Summary: medians per run (per call for candidates, per insert for inserts), wall and the backend''s CPU time, ms'
WITH per AS (
    SELECT id, step, wall_ms / CASE WHEN step LIKE 'insert%' THEN 100 ELSE 1 END AS wall_ms,
           cpu_ms / CASE WHEN step LIKE 'insert%' THEN 100 ELSE 1 END AS cpu_ms,
           wait_ms / CASE WHEN step LIKE 'insert%' THEN 100 ELSE 1 END AS wait_ms
    FROM bench.cpu)
SELECT step, count(*) AS runs,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY wall_ms)::numeric, 3) AS wall_median,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY cpu_ms)::numeric, 3) AS cpu_median,
       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY cpu_ms)::numeric, 3) AS cpu_p90,
       round(avg(wait_ms)::numeric, 3) AS run_queue_wait_avg
FROM per GROUP BY step ORDER BY min(id);
SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY c.cpu_ms) FILTER (WHERE c.step = 'insert, check notice')
            - percentile_cont(0.5) WITHIN GROUP (ORDER BY c.cpu_ms) FILTER (WHERE c.step = 'insert, check off'))::numeric / 100, 3)
       AS check_on_save_adds_cpu_ms_per_insert
FROM bench.cpu c;
SQL
