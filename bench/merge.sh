#!/usr/bin/env bash
# bench/merge.sh: how long does a merge take on a big base?
#
# Builds a base of CLIENTS clients (default 1,000,000) in a fresh database,
# then:
#   1. latency: ROUNDS (default 21) merges of a client with 1,000 linked rows
#      across 10 tables (100 each: history, policies, documents, tasks,
#      tickets, offers, vehicles, service entries, invoices, cases) and its
#      phone into another client; median and spread.  (A client has a few
#      phones, not 100: a contact's move runs row triggers, about 0.1 ms each.)  Baseline, in the same run: the
#      same rows moved by hand-written UPDATEs and the client deleted, which
#      is the least any merge must do (no rules, no journal, no folding);
#   2. throughput: merges per second of typical duplicates (one row in each
#      of the 10 tables and a phone) with pgbench at 1 and 8 concurrent
#      sessions, BENCH_SECONDS (default 10) each, from a pool of SMALL_PAIRS
#      pairs shared by both (default 1,000 x BENCH_SECONDS).  The figure is
#      the merges journaled in crm.merge_log during the phase over the
#      phase's duration on the server's clock (start of its first merge to
#      the end of pgbench), shown beside pgbench's tps; the run fails if
#      pgbench's transaction count is not the number of merges journaled or
#      the two rates differ by more than MAX_DISAGREEMENT percent (default
#      3).  A transaction that finds no pair left aborts its pgbench client:
#      a phase that used up the pool is reported as such, with no figure,
#      and the run fails (raise SMALL_PAIRS).
# Target: the 1,000-row merge under 50 ms (median).
#
# Runs against the server in PGHOST/PGPORT; tools/dev.sh bench starts one.
set -euo pipefail
cd "$(dirname "$0")"
CLIENTS=${CLIENTS:-1000000}
ROUNDS=${ROUNDS:-21}
SECONDS_EACH=${BENCH_SECONDS:-10}
SMALL_PAIRS=${SMALL_PAIRS:-$((1000 * SECONDS_EACH))}
BIN=${PG_BINDIR:+$PG_BINDIR/}
DB=crm_bench_merge
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1 -d "$DB")

"${BIN}psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
echo "building a base of $CLIENTS clients ..."
"${PSQL[@]}" <<SQL
CREATE EXTENSION crm;
SELECT crm.install_data_model();
CREATE SCHEMA bench;
INSERT INTO crm.unit (id, kind, name) VALUES (1, 'channel', 'Bench');
INSERT INTO crm.client (first_name, last_name, city, unit_id)
SELECT (ARRAY['Jan','Anna','Piotr','Katarzyna','Tomasz','Zofia'])[1 + g % 6],
       'Nazwisko' || g, (ARRAY['Kraków','Warszawa','Gdańsk','Łódź'])[1 + g % 4], 1
FROM generate_series(1, $CLIENTS) AS g;
ANALYZE crm.client;

-- pairs (source, target) of fresh clients; each source gets rows_per_table
-- rows in each of 10 tables
CREATE TABLE bench.pair (id int PRIMARY KEY, source_id bigint, target_id bigint);
CREATE FUNCTION bench.make_pairs(first int, n int, rows_per_table int) RETURNS void
LANGUAGE plpgsql AS \$\$
DECLARE
    s bigint;
    t bigint;
BEGIN
    FOR i IN first .. first + n - 1 LOOP
        INSERT INTO crm.client (last_name, unit_id) VALUES ('Źródło' || i, 1) RETURNING id INTO s;
        INSERT INTO crm.client (last_name, unit_id) VALUES ('Cel' || i, 1) RETURNING id INTO t;
        INSERT INTO bench.pair VALUES (i, s, t);
        INSERT INTO crm.contact (client_id, kind, value) VALUES (s, 'phone', '+48' || (500000000 + i));
        INSERT INTO crm.interaction (client_id, channel, occurred_at)
            SELECT s, 'call', now() - g * interval '1 hour' FROM generate_series(1, rows_per_table) g;
        INSERT INTO crm.policy (client_id, number, insurer, starts_on, ends_on)
            SELECT s, 'B/' || i || '/' || g, 'PZU', '2026-01-01', '2026-12-31' FROM generate_series(1, rows_per_table) g;
        INSERT INTO crm.document (client_id, title) SELECT s, 'Skan ' || g FROM generate_series(1, rows_per_table) g;
        INSERT INTO crm.task (client_id, title) SELECT s, 'Zadanie ' || g FROM generate_series(1, rows_per_table) g;
        INSERT INTO crm.ticket (client_id, subject) SELECT s, 'Zgłoszenie ' || g FROM generate_series(1, rows_per_table) g;
        INSERT INTO crm.offer (client_id, product) SELECT s, 'OC' FROM generate_series(1, rows_per_table) g;
        INSERT INTO crm.vehicle (client_id, make) SELECT s, 'Skoda' FROM generate_series(1, rows_per_table) g;
        INSERT INTO crm.service_entry (client_id, kind) SELECT s, 'repair' FROM generate_series(1, rows_per_table) g;
        INSERT INTO crm.invoice (client_id, number)
            SELECT s, 'FV/' || i || '/' || g FROM generate_series(1, rows_per_table) g;
        INSERT INTO crm.case (client_id, title) SELECT s, 'Sprawa ' || g FROM generate_series(1, rows_per_table) g;
    END LOOP;
END
\$\$;
SELECT bench.make_pairs(1, 2 * $ROUNDS, 100);
SELECT bench.make_pairs(100000, $SMALL_PAIRS, 1);
ANALYZE;
CREATE SEQUENCE bench.next_small START 100000;

-- the least a merge must do, written by hand for these 10 tables
CREATE FUNCTION bench.move_by_hand(s bigint, t bigint) RETURNS void
LANGUAGE plpgsql AS \$\$
BEGIN
    UPDATE crm.contact SET client_id = t WHERE client_id = s;
    UPDATE crm.case SET client_id = t WHERE client_id = s;
    UPDATE crm.interaction SET client_id = t WHERE client_id = s;
    UPDATE crm.policy SET client_id = t WHERE client_id = s;
    UPDATE crm.document SET client_id = t WHERE client_id = s;
    UPDATE crm.task SET client_id = t WHERE client_id = s;
    UPDATE crm.ticket SET client_id = t WHERE client_id = s;
    UPDATE crm.offer SET client_id = t WHERE client_id = s;
    UPDATE crm.vehicle SET client_id = t WHERE client_id = s;
    UPDATE crm.service_entry SET client_id = t WHERE client_id = s;
    UPDATE crm.invoice SET client_id = t WHERE client_id = s;
    DELETE FROM crm.client WHERE id = s;
END
\$\$;
SQL

# 1. latency: one statement each, in autocommit (commit-time work counted),
# merges and hand moves interleaved
LAT=$(mktemp)
{
	echo '\timing on'
	for i in $(seq 1 "$ROUNDS"); do
		echo "SELECT 'merge' AS kind, crm.merge_client(source_id, target_id) FROM bench.pair WHERE id = $i;"
		echo "SELECT 'hand' AS kind, bench.move_by_hand(source_id, target_id) FROM bench.pair WHERE id = $((ROUNDS + i));"
	done
} | "${PSQL[@]}" -At -F ' ' > "$LAT"
"${PSQL[@]}" -c "CREATE TABLE bench.latency (kind text, ms float8)"
paste -d ' ' <(grep -E '^(merge|hand) ' "$LAT" | cut -d' ' -f1) <(grep '^Time:' "$LAT" | awk '{print $2}') |
	"${PSQL[@]}" -c "COPY bench.latency FROM STDIN WITH (DELIMITER ' ')"
rm -f "$LAT"
echo
echo "Merge of a client with 1,001 linked rows in 11 tables, base of $CLIENTS clients, $ROUNDS rounds (ms)"
"${PSQL[@]}" -P footer=off <<'SQL'
WITH s AS (
    SELECT kind, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS median,
           min(ms) AS min, percentile_cont(0.9) WITHIN GROUP (ORDER BY ms) AS p90
    FROM bench.latency GROUP BY kind)
SELECT CASE s.kind WHEN 'merge' THEN 'crm.merge_client' ELSE 'UPDATEs by hand (baseline)' END AS "how",
       round(s.median::numeric, 1) AS median_ms, round(s.min::numeric, 1) AS min_ms,
       round(s.p90::numeric, 1) AS p90_ms,
       round((s.median / h.median)::numeric, 2) AS ratio_to_baseline
FROM s, s h WHERE h.kind = 'hand' ORDER BY s.kind DESC;
SQL

# 2. throughput of typical merges (10 linked rows)
SCRIPT=$(mktemp)
# The id is taken once (a scalar subquery), not once per row scanned.  \gset
# needs exactly one row back: once the pairs are used up the query matches
# none and pgbench aborts the client ("expected one row, got 0") instead of
# counting an empty transaction as a merge.
echo "SELECT crm.merge_client(p.source_id, p.target_id) AS merge_id FROM bench.pair p WHERE p.id = (SELECT nextval('bench.next_small')) \gset" > "$SCRIPT"
LAST_PAIR=$((100000 + SMALL_PAIRS - 1))
FAILED=0
echo
echo "Merges per second of clients with 11 linked rows (pgbench, ${SECONDS_EACH}s each, $SMALL_PAIRS pairs for all sessions)"
for c in 1 8; do
	before=$("${PSQL[@]}" -At -c "SELECT coalesce(max(id), 0) FROM crm.merge_log")
	rc=0
	out=$("${BIN}pgbench" -n -f "$SCRIPT" -c "$c" -j "$((c < 2 ? 1 : 2))" -T "$SECONDS_EACH" "$DB" 2>&1) || rc=$?
	# what the database did: the merges journaled in this phase, over the
	# phase's duration measured on the server's clock, from the start of its
	# first merge (connections already made) to now (all sessions done);
	# and the last pair taken
	read -r journaled secs taken <<<"$("${PSQL[@]}" -At -F ' ' -c "
	    SELECT count(*), round(coalesce(extract(epoch FROM clock_timestamp() - min(merged_at)), 0), 3),
	           (SELECT CASE WHEN is_called THEN last_value ELSE 99999 END FROM bench.next_small)
	    FROM crm.merge_log WHERE id > $before")"
	tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")
	txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
	rate=$(LC_ALL=C awk -v n="$journaled" -v s="$secs" 'BEGIN { printf "%.1f", (s > 0 ? n / s : 0) }')
	tps=${tps:+$(LC_ALL=C awk -v t="$tps" 'BEGIN { printf "%.1f", t }')}
	if [ "$taken" -gt "$LAST_PAIR" ]; then
		# no throughput: the sessions ran out of pairs before the time was up
		printf '  %d session(s): PAIRS USED UP after %d merges journaled in %s s of %s s; no throughput (SMALL_PAIRS=%d too few for this rate: raise it)\n' \
			"$c" "$journaled" "$secs" "$SECONDS_EACH" "$SMALL_PAIRS"
		grep -m1 'expected one row' <<<"$out" | sed 's/^/    /' || true
		FAILED=1
		break
	fi
	if [ "$rc" -ne 0 ] || [ -z "$tps" ] || [ -z "$txns" ]; then
		printf '  %d session(s): pgbench failed (exit %d):\n%s\n' "$c" "$rc" "$out"
		FAILED=1
		break
	fi
	printf '  %d session(s): %s merges/s journaled (%d merges in %s s); pgbench: %s merges/s (%d transactions)\n' \
		"$c" "$rate" "$journaled" "$secs" "$tps" "$txns"
	# every transaction counted must be a merge journaled, and the two rates
	# must agree within MAX_DISAGREEMENT percent (default 3)
	if [ "$txns" -ne "$journaled" ] ||
		! LC_ALL=C awk -v r="$rate" -v t="$tps" -v m="${MAX_DISAGREEMENT:-3}" \
			'BEGIN { exit !(r > 0 && (t - r < 0 ? r - t : t - r) / r * 100 <= m) }'; then
		printf '  %d session(s): pgbench (%d transactions, %s/s) and the journal (%d merges, %s/s) DISAGREE\n' \
			"$c" "$txns" "$tps" "$journaled" "$rate"
		FAILED=1
		break
	fi
done
rm -f "$SCRIPT"
"${PSQL[@]}" -At -c "SELECT 'merges journaled: ' || count(*) FROM crm.merge_log"
"${BIN}psql" -X -q -d postgres -c "DROP DATABASE $DB"
[ "$FAILED" = 0 ] || { echo "bench/merge.sh: the throughput figures above are not valid" >&2; exit 1; }
