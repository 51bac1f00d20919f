#!/usr/bin/env bash
# bench/copy_pesel.sh: what does validation cost when loading PESELs?
#
# Loads the same N generated valid PESELs (default 1,000,000) with COPY into
#   - a crm.pesel column,
#   - a bigint column (the baseline: no validation at all),
#   - a text column with a PL/pgSQL checksum CHECK (the naive alternative),
# ROUNDS times each (default 11), interleaved so that drift hits all three
# alike, for logged and for unlogged tables, and reports medians and ratios
# to bigint.  Target: crm.pesel within 1.15x of bigint.  It also times the
# input functions alone (a cast over the values already in a text column),
# which tells the parser's cost per value without COPY's.
#
# Runs against the server in PGHOST/PGPORT; tools/dev.sh bench starts one.
# The data file must be readable by the server: it is written to $SANDBOX
# (tools/dev.sh sets it) or to a fresh temporary directory.
set -euo pipefail
cd "$(dirname "$0")"
N=${N:-1000000}
ROUNDS=${ROUNDS:-11}
PSQL=("${PG_BINDIR:+$PG_BINDIR/}psql" -X -q -v ON_ERROR_STOP=1)
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
if [ -n "${SANDBOX:-}" ]; then
	DIR=$SANDBOX
else
	# the server reads the file: make it reachable for another OS user
	DIR=$(mktemp -d)
	chmod 755 "$DIR"
	trap 'rm -rf "$DIR"' EXIT
fi
DATA=$DIR/pesel_$N.txt

cc -O2 -o gen_pesel gen_pesel.c
./gen_pesel "$N" > "$DATA"
chmod a+r "$DATA"

"${PSQL[@]}" <<SQL
CREATE EXTENSION IF NOT EXISTS crm;
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
-- the check a DBA writes without the extension: the checksum only
CREATE FUNCTION bench.pesel_ok(p text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS \$\$
DECLARE
    w int[] := '{1,3,7,9,1,3,7,9,1,3}';
    s int := 0;
BEGIN
    IF p !~ '^[0-9]{11}\$' THEN
        RETURN false;
    END IF;
    FOR i IN 1..10 LOOP
        s := s + w[i] * substr(p, i, 1)::int;
    END LOOP;
    RETURN (10 - s % 10) % 10 = substr(p, 11, 1)::int;
END
\$\$;
CREATE TABLE bench.result (variant text, logged boolean, round int, ms float8);
CREATE FUNCTION bench.time(query text) RETURNS float8
LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    EXECUTE query;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
\$\$;
CREATE FUNCTION bench.load(tbl text, file text) RETURNS float8
LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz;
BEGIN
    EXECUTE format('TRUNCATE %s', tbl);
    t0 := clock_timestamp();
    EXECUTE format('COPY %s FROM %L', tbl, file);
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
\$\$;
SQL

for logged in true false; do
	kind=$([ $logged = true ] && echo "" || echo UNLOGGED)
	"${PSQL[@]}" <<SQL
DROP TABLE IF EXISTS bench.t_pesel, bench.t_bigint, bench.t_text_check;
CREATE $kind TABLE bench.t_pesel (p crm.pesel);
CREATE $kind TABLE bench.t_bigint (p bigint);
CREATE $kind TABLE bench.t_text_check (p text CHECK (bench.pesel_ok(p)));
SQL
	for round in $(seq 1 "$ROUNDS"); do
		# rotate the order each round
		variants=(pesel bigint text_check)
		for k in 0 1 2; do
			v=${variants[$(((k + round) % 3))]}
			"${PSQL[@]}" -c "INSERT INTO bench.result
				SELECT '$v', $logged, $round, bench.load('bench.t_$v', '$DATA')"
		done
	done
done

"${PSQL[@]}" -P footer=off <<SQL
\echo
\echo COPY of $N valid PESELs, median of $ROUNDS rounds (ms); ratio to bigint in the same run
WITH m AS (
    SELECT variant, logged, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS median_ms
    FROM bench.result GROUP BY variant, logged)
SELECT CASE WHEN m.logged THEN 'logged' ELSE 'unlogged' END AS "table",
       CASE m.variant WHEN 'pesel' THEN 'crm.pesel'
                      WHEN 'bigint' THEN 'bigint (baseline)'
                      ELSE 'text + PL/pgSQL CHECK' END AS "column",
       round(m.median_ms::numeric, 0) AS median_ms,
       round((m.median_ms / b.median_ms)::numeric, 3) AS ratio
FROM m JOIN m b ON b.logged = m.logged AND b.variant = 'bigint'
ORDER BY m.logged DESC, array_position(ARRAY['bigint','pesel','text_check'], m.variant);
SELECT count(*) = $N AS all_rows_loaded FROM bench.t_pesel;

-- the input functions alone: cast the same values from a text column
TRUNCATE bench.result;
DO \$\$
BEGIN
    FOR round IN 1..$ROUNDS LOOP
        INSERT INTO bench.result SELECT 'bigint', true, round,
            bench.time('SELECT count(p::bigint) FROM bench.t_text_check');
        INSERT INTO bench.result SELECT 'pesel', true, round,
            bench.time('SELECT count(p::crm.pesel) FROM bench.t_text_check');
        INSERT INTO bench.result SELECT 'text', true, round,
            bench.time('SELECT count(p) FROM bench.t_text_check');
    END LOOP;
END
\$\$;
\echo
\echo Input function alone: a cast of $N text values, median of $ROUNDS rounds
WITH m AS (SELECT variant, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS median_ms
           FROM bench.result GROUP BY variant)
SELECT CASE m.variant WHEN 'text' THEN 'no cast (scan only)' WHEN 'bigint' THEN 'text::bigint'
                      ELSE 'text::crm.pesel' END AS "query",
       round(m.median_ms::numeric, 0) AS median_ms,
       round(((m.median_ms - t.median_ms) * 1e6 / $N)::numeric, 1) AS ns_per_value_over_scan
FROM m, m t WHERE t.variant = 'text'
ORDER BY m.median_ms;
DROP SCHEMA bench CASCADE;
SQL
