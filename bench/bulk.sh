#!/usr/bin/env bash
# bench/bulk.sh: a bulk owner change over many clients (WB-4)
#
# Builds a base of CLIENTS clients (default 200,000) in a fresh database,
# MOVED of them (default 100,000) with account manager bench_a, then times
# ROUNDS (default 5) of each, in turns (the same rows go from bench_a to
# bench_b and back, so every round changes MOVED clients):
#   1. crm.bulk_replace_owner(old, new): a leaving employee's clients to
#      another: the selection, 20 steps of one UPDATE, the audit (one
#      crm.audit_log entry per client, after its check), progress;
#   2. baseline: the plain UPDATE crm.client SET owner = new WHERE owner =
#      old of the same rows (the table's own row trigger runs in both);
#   3. the same two as an agent (crm_agent, row-level security on) whose
#      unit holds all the clients: what row-level security adds.
# Reports the median and spread of each and the ratio of the medians.
# Target: the bulk change of 100,000 clients under 5 s (median).
#
# Runs against the server in PGHOST/PGPORT; tools/dev.sh bench starts one.
set -euo pipefail
cd "$(dirname "$0")"
CLIENTS=${CLIENTS:-200000}
MOVED=${MOVED:-100000}
ROUNDS=${ROUNDS:-5}
BIN=${PG_BINDIR:+$PG_BINDIR/}
DB=crm_bench_bulk
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1 -d "$DB")

"${BIN}psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
echo "building a base of $CLIENTS clients, $MOVED of them bench_a's ..."
"${PSQL[@]}" <<SQL
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_a') THEN CREATE ROLE bench_a NOLOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_b') THEN CREATE ROLE bench_b NOLOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_bulk_agent') THEN CREATE ROLE bench_bulk_agent NOLOGIN; END IF;
END \$\$;
CREATE EXTENSION crm;
SELECT crm.install_data_model();
-- the check on save is bench/duplicates.sh's: off while the base is built
SET crm.duplicate_check = off;
SELECT crm.create_roles();
GRANT crm_agent TO bench_bulk_agent;
INSERT INTO crm.unit (id, kind, name) VALUES (1, 'channel', 'Bench');
INSERT INTO crm.employee (login) VALUES ('bench_a'), ('bench_b'), ('bench_other');
INSERT INTO crm.client (first_name, last_name, city, unit_id, owner)
SELECT (ARRAY['Jan','Anna','Piotr','Katarzyna','Tomasz','Zofia'])[1 + g % 6],
       'Nazwisko' || g, (ARRAY['Kraków','Warszawa','Gdańsk','Łódź'])[1 + g % 4], 1,
       CASE WHEN g % ($CLIENTS / $MOVED) = 0 THEN 'bench_a' ELSE 'bench_other' END
FROM generate_series(1, $CLIENTS) AS g;
SELECT crm.user_unit('bench_bulk_agent', 1);
VACUUM ANALYZE crm.client;
CREATE SCHEMA bench;
GRANT USAGE ON SCHEMA bench TO PUBLIC;
CREATE TABLE bench.timing (what text, round int, ms float8, changed bigint);
GRANT INSERT ON bench.timing TO PUBLIC;
SQL

owner_now=bench_a
other() { [ "$1" = bench_a ] && echo bench_b || echo bench_a; }

# one timed statement, in its own transaction; $3 the SQL (returns a count)
timed() {
	local what=$1 round=$2 sql=$3 role=${4:-}
	"${PSQL[@]}" <<SQL
${role:+SET ROLE $role;}
DO \$\$
DECLARE
    t0 timestamptz := clock_timestamp();
    n bigint;
BEGIN
    EXECUTE \$q\$$sql\$q\$ INTO n;
    INSERT INTO bench.timing VALUES ('$what', $round, extract(epoch FROM clock_timestamp() - t0) * 1000, n);
END \$\$;
SQL
}

run_pair() {
	local label=$1 role=$2 round=$3 new
	new=$(other "$owner_now")
	timed "$label bulk_replace_owner" "$round" "SELECT crm.bulk_replace_owner('$owner_now', '$new')" "$role"
	owner_now=$new; new=$(other "$owner_now")
	timed "$label plain UPDATE" "$round" \
		"WITH u AS (UPDATE crm.client SET owner = '$new' WHERE owner = '$owner_now' RETURNING 1) SELECT count(*) FROM u" "$role"
	owner_now=$new
}

echo "timing $ROUNDS rounds as the superuser ..."
for r in $(seq 1 "$ROUNDS"); do run_pair "superuser:" "" "$r"; done
echo "enabling row-level security; timing $ROUNDS rounds as an agent ..."
"${PSQL[@]}" -c "SELECT crm.enable_row_security()" >/dev/null
for r in $(seq 1 "$ROUNDS"); do run_pair "agent (RLS):" bench_bulk_agent "$r"; done

"${PSQL[@]}" <<'SQL'
\pset footer off
SELECT what, count(*) AS rounds, min(changed) AS clients,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 0) AS median_ms,
       round(min(ms)::numeric, 0) AS min_ms, round(max(ms)::numeric, 0) AS max_ms
FROM bench.timing GROUP BY what ORDER BY what;
SELECT split_part(b.what, ' ', 1) AS who, round((b.med / p.med)::numeric, 2) AS bulk_over_plain
FROM (SELECT what, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS med FROM bench.timing
      WHERE what LIKE '%bulk_replace_owner' GROUP BY what) b
JOIN (SELECT what, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS med FROM bench.timing
      WHERE what LIKE '%plain UPDATE' GROUP BY what) p ON split_part(b.what, ' ', 1) = split_part(p.what, ' ', 1);
SELECT count(*) AS audit_entries FROM crm.audit_log WHERE action = 'bulk change owner';
SQL
"${BIN}psql" -X -q -d postgres -c "DROP DATABASE $DB"
