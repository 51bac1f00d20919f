#!/usr/bin/env bash
# bench/access.sh: what does access control (issue 11) cost?
#
# Builds a base (bench/access_base.sql): 1 channel, 10 branches, 5
# departments each; CLIENTS clients (default 100,000) spread over the 60
# units, each with a phone (half an e-mail too), 2 contacts in the history
# and 1 policy on average, 1 in 5 an open ticket; then crm.create_roles()
# and three login roles: bench_agent (crm_agent) and bench_supervisor
# (crm_supervisor), each assigned branch 2 (1/10 of the base), and
# bench_admin (crm_admin).  Each operation below is timed ROUNDS times
# (default 21) per role, on the server (clock_timestamp() around an EXECUTE
# in a SECURITY INVOKER function, one autocommit statement each, roles and
# operations interleaved round by round), in two phases of the same run:
#   1. "no RLS": roles and grants made, crm.enable_row_security() not run
#      yet: the baseline for the policies' cost, same roles, same grants;
#   2. "RLS":    after crm.enable_row_security().
# The superuser bypasses row-level security: its figure in phase 2 is the
# "same query, RLS bypassed" baseline, and its phase 2 / phase 1 ratio shows
# the drift between the phases (it should be ~1.0).
#
# Operations:
#   count        SELECT count(*) FROM crm.client
#   overview     SELECT * FROM crm.client_overview WHERE last_name = 'Kowalski'
#   history      SELECT * FROM crm.contact_history WHERE client_id = <one client of branch 2, 4 contacts>
#   search       SELECT * FROM crm.client_search('{"last_name": "Kowalski%"}')
#   candidates   SELECT * FROM crm.duplicate_candidates(<a Kowalski of branch 2>)
#   pairs        SELECT * FROM crm.duplicate_pairs()  (PAIRS_ROUNDS times, default 5; PAIRS_ROUNDS=0 skips)
#   insert bulk  1,000 clients in one INSERT ... SELECT, then their 1,000 phones in another
#                (crm.duplicate_check = off: the check on save is bench/duplicates.sh's), rolled
#                back after the clock stops, so that the base stays as built
#   insert rows  the same, one INSERT per client and one per phone (2,000 statements in PL/pgSQL)
#   merge        crm.merge_client() of a pair of branch 2 (the source with a phone, 2 contacts
#                in the history, a policy, a ticket), supervisor/admin/superuser
#   unmerge      crm.unmerge() of that merge
# Reported: median and p95 (ms) per operation and role in each phase, the
# ratio RLS / no RLS (the policies' cost for that role) and, in phase 2, the
# ratio to the superuser (RLS bypassed).  EXPLAIN=1 also prints the plans
# (EXPLAIN ANALYZE) of the queries as bench_agent with RLS on.
#
# Runs against the server in PGHOST/PGPORT; tools/dev.sh bench access starts
# one and runs this script alone (tools/dev.sh bench runs every bench/*.sh).
# It creates the login roles bench_agent, bench_supervisor and bench_admin
# (and crm's group roles if missing) and drops what it created at the end.
set -euo pipefail
cd "$(dirname "$0")"
CLIENTS=${CLIENTS:-100000}
ROUNDS=${ROUNDS:-21}
PAIRS_ROUNDS=${PAIRS_ROUNDS:-5}
BIN=${PG_BINDIR:+$PG_BINDIR/}
DB=crm_bench_access
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1 -d "$DB")
ROLES="bench_agent bench_supervisor bench_admin"

# crm's group roles are cluster-wide: drop them at the end only if this run made them
had_groups=$("${BIN}psql" -X -At -d postgres -c "SELECT count(*) FROM pg_roles WHERE rolname IN ('crm_agent','crm_supervisor','crm_admin')")
cleanup() {
	"${BIN}psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
	for r in $ROLES; do
		"${BIN}psql" -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1 || true
	done
	if [ "$had_groups" = 0 ]; then
		"${BIN}psql" -X -q -d postgres -c "DROP ROLE IF EXISTS crm_admin" -c "DROP ROLE IF EXISTS crm_supervisor" \
			-c "DROP ROLE IF EXISTS crm_agent" >/dev/null 2>&1 || true
	fi
}
[ "${KEEP:-0}" = 1 ] || trap cleanup EXIT

"${BIN}psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
for r in $ROLES; do
	"${BIN}psql" -X -q -d postgres -c "DROP ROLE IF EXISTS $r" -c "CREATE ROLE $r LOGIN"
done
echo "building a base of $CLIENTS clients ..."
start=$(date +%s)
"${PSQL[@]}" >/dev/null <<SQL
CREATE EXTENSION crm;
SELECT crm.install_data_model();
CREATE SCHEMA bench;
GRANT USAGE ON SCHEMA bench TO PUBLIC;
\set clients $CLIENTS
\set pairs $((5 * ROUNDS))
\i access_base.sql
SELECT crm.create_roles();
GRANT crm_agent TO bench_agent;
GRANT crm_supervisor TO bench_supervisor;
GRANT crm_admin TO bench_admin;
SELECT crm.user_unit('bench_agent', 2), crm.user_unit('bench_supervisor', 2);

-- the harness: SECURITY INVOKER, so the query runs as the role SET ROLE chose
CREATE TABLE bench.sample (phase text, op text, who text, round int, ms float8, nrows bigint);
GRANT INSERT ON bench.sample TO PUBLIC;
CREATE SEQUENCE bench.tag;
GRANT USAGE ON SEQUENCE bench.tag TO PUBLIC;
CREATE FUNCTION bench.t(phase text, op text, who text, round int, q text) RETURNS void
LANGUAGE plpgsql AS \$\$
DECLARE
    t0 timestamptz;
    ms float8;
    n bigint;
BEGIN
    t0 := clock_timestamp();
    EXECUTE q;
    ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
    GET DIAGNOSTICS n = ROW_COUNT;
    INSERT INTO bench.sample VALUES (phase, op, who, round, ms, n);
END
\$\$;
-- the same for the inserts, rolled back after the clock stops (a
-- subtransaction): every round inserts into the base as built
CREATE FUNCTION bench.t_undo(phase text, op text, who text, round int, q text) RETURNS void
LANGUAGE plpgsql AS \$\$
DECLARE
    t0 timestamptz;
    ms float8;
BEGIN
    BEGIN
        t0 := clock_timestamp();
        EXECUTE q;
        ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
        RAISE EXCEPTION 'bench: undo' USING ERRCODE = 'P0001';
    EXCEPTION WHEN SQLSTATE 'P0001' THEN
        NULL;
    END;
    INSERT INTO bench.sample VALUES (phase, op, who, round, ms, NULL);
END
\$\$;
-- 1,000 clients of unit 12 and a phone each: in two statements, or row by row
CREATE FUNCTION bench.insert_bulk() RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE
    tag bigint := nextval('bench.tag');
    ids bigint[];
BEGIN
    PERFORM set_config('crm.duplicate_check', 'off', true);
    WITH n AS (
        INSERT INTO crm.client (first_name, last_name, city, unit_id)
        SELECT 'Jan', 'Wstawiony' || tag || 'x' || g, 'Kraków', 12 FROM generate_series(1, 1000) g
        RETURNING id)
    SELECT array_agg(id) INTO ids FROM n;
    INSERT INTO crm.contact (client_id, kind, value)
    SELECT id, 'phone', '+48' || (600000000 + id) FROM unnest(ids) id;
END
\$\$;
CREATE FUNCTION bench.insert_rows() RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE
    tag bigint := nextval('bench.tag');
    id bigint;
BEGIN
    PERFORM set_config('crm.duplicate_check', 'off', true);
    FOR g IN 1 .. 1000 LOOP
        INSERT INTO crm.client (first_name, last_name, city, unit_id)
        VALUES ('Jan', 'Wstawiony' || tag || 'x' || g, 'Kraków', 12) RETURNING crm.client.id INTO id;
        INSERT INTO crm.contact (client_id, kind, value) VALUES (id, 'phone', '+48' || (600000000 + id));
    END LOOP;
END
\$\$;
CREATE FUNCTION bench.merge(phase text, who text, round int, pair_no int) RETURNS void
LANGUAGE plpgsql AS \$\$
DECLARE
    t0 timestamptz;
    m bigint;
BEGIN
    t0 := clock_timestamp();
    SELECT crm.merge_client(p.source_id, p.target_id) INTO STRICT m FROM bench.pair p WHERE p.id = pair_no;
    INSERT INTO bench.sample VALUES (phase, 'merge', who, round, 1000 * extract(epoch FROM clock_timestamp() - t0), 1);
    UPDATE bench.pair SET merge_id = m WHERE id = pair_no;
END
\$\$;
CREATE FUNCTION bench.unmerge(phase text, who text, round int, pair_no int) RETURNS void
LANGUAGE plpgsql AS \$\$
DECLARE
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    PERFORM crm.unmerge(p.merge_id) FROM bench.pair p WHERE p.id = pair_no;
    INSERT INTO bench.sample VALUES (phase, 'unmerge', who, round, 1000 * extract(epoch FROM clock_timestamp() - t0), 1);
END
\$\$;
SQL
echo "built in $(($(date +%s) - start)) s"

# the clients the one-client operations read: in department 12 (branch 2)
HIST=$("${PSQL[@]}" -At -c "SELECT min(id) FROM crm.client WHERE unit_id = 12 AND id % 5 = 4")
CAND=$("${PSQL[@]}" -At -c "SELECT min(id) FROM crm.client WHERE unit_id = 12 AND last_name = 'Kowalski'")

queries() {  # op<TAB>SQL of the read operations
	printf '%s\t%s\n' \
		count "SELECT count(*) FROM crm.client" \
		overview "SELECT * FROM crm.client_overview WHERE last_name = 'Kowalski'" \
		history "SELECT * FROM crm.contact_history WHERE client_id = $HIST" \
		search "SELECT * FROM crm.client_search('{\"last_name\": \"Kowalski%\"}')" \
		candidates "SELECT * FROM crm.duplicate_candidates($CAND)" \
		pairs "SELECT * FROM crm.duplicate_pairs()" \
		"insert bulk" "SELECT bench.insert_bulk()" \
		"insert rows" "SELECT bench.insert_rows()"
}

as_role() {  # the SQL that makes the session act as this bench role
	case $1 in
		superuser) echo "RESET ROLE;" ;;
		*) echo "SET ROLE bench_$1;" ;;
	esac
}

# one psql script per phase: round by round, each operation for every role,
# the roles' order rotated each round; each statement in autocommit
script() {
	local phase=$1 who=("${@:2}") n=$(($# - 1))
	for round in $(seq 1 "$ROUNDS"); do
		while IFS=$'\t' read -r op sql; do
			[ "$op" = pairs ] && [ "$round" -gt "$PAIRS_ROUNDS" ] && continue
			for k in $(seq 0 $((n - 1))); do
				w=${who[$(((k + round) % n))]}
				as_role "$w"
				printf "SELECT bench.%s('%s', '%s', '%s', %d, \$q\$%s\$q\$);\n" \
					"$(case $op in insert*) echo t_undo ;; *) echo t ;; esac)" "$phase" "$op" "$w" "$round" "$sql"
			done
		done < <(queries)
		for k in $(seq 0 $((n - 1))); do
			w=${who[$(((k + round) % n))]}
			[ "$w" = agent ] && continue   # agents may not merge
			PAIR=$((PAIR + 1))
			as_role "$w"
			echo "SELECT bench.merge('$phase', '$w', $round, $PAIR);"
			echo "SELECT bench.unmerge('$phase', '$w', $round, $PAIR);"
		done
		echo "RESET ROLE;"
	done
}

PAIR=0
echo "phase 1: roles and grants, no row-level security ($ROUNDS rounds) ..."
script norls superuser agent supervisor > /tmp/crm_bench_access.$$.sql
"${PSQL[@]}" -f /tmp/crm_bench_access.$$.sql >/dev/null
echo "phase 2: crm.enable_row_security() ($ROUNDS rounds) ..."
"${PSQL[@]}" -At -c "SELECT crm.enable_row_security()"
script rls superuser agent supervisor admin > /tmp/crm_bench_access.$$.sql
"${PSQL[@]}" -f /tmp/crm_bench_access.$$.sql >/dev/null
rm -f /tmp/crm_bench_access.$$.sql

echo
echo "Access control, $CLIENTS clients, agent and supervisor in branch 2 (1/10 of the base): ms, median (p95) of $ROUNDS rounds ($PAIRS_ROUNDS for pairs)"
"${PSQL[@]}" -P footer=off <<'SQL'
WITH s AS (
    SELECT phase, op, who, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS med,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95, max(nrows) AS nrows
    FROM bench.sample GROUP BY phase, op, who),
ops(op, k) AS (VALUES ('count', 1), ('overview', 2), ('history', 3), ('search', 4), ('candidates', 5),
                      ('pairs', 6), ('insert bulk', 7), ('insert rows', 8), ('merge', 9), ('unmerge', 10)),
roles(who, k) AS (VALUES ('superuser', 1), ('agent', 2), ('supervisor', 3), ('admin', 4))
SELECT o.op AS operation, r.who AS "role",
       CASE WHEN o.op LIKE 'insert%' OR o.op LIKE '%merge' THEN '' ELSE coalesce(y.nrows::text, '') END AS "rows",
       coalesce(round(n.med::numeric, 2) || ' (' || round(n.p95::numeric, 2) || ')', '-') AS "no RLS",
       round(y.med::numeric, 2) || ' (' || round(y.p95::numeric, 2) || ')' AS "RLS on",
       coalesce(round((y.med / n.med)::numeric, 2)::text, '-') AS "x no RLS",
       round((y.med / su.med)::numeric, 2) AS "x superuser"
FROM ops o CROSS JOIN roles r
JOIN s y ON y.phase = 'rls' AND y.op = o.op AND y.who = r.who
LEFT JOIN s n ON n.phase = 'norls' AND n.op = o.op AND n.who = r.who
LEFT JOIN s su ON su.phase = 'rls' AND su.op = o.op AND su.who = 'superuser'
ORDER BY o.k, r.k;
SQL
echo "(x no RLS: the same role before crm.enable_row_security(); x superuser: the superuser, which bypasses RLS, in the same phase.)"

if [ "${EXPLAIN:-0}" = 1 ]; then
	echo
	echo "Plans as bench_agent with RLS on"
	while IFS=$'\t' read -r op sql; do
		case $op in insert*|pairs) continue ;; esac
		echo "-- $op: $sql"
		"${PSQL[@]}" -c "SET ROLE bench_agent" -c "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF) $sql"
	done < <(queries)
fi
