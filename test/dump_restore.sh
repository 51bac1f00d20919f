#!/usr/bin/env bash
# test/dump_restore.sh: pg_dump and pg_restore keep everything crm holds.
#
# Loads tools/sample.sql (rows in every table, a hidden client, contact
# history recorded on another record, a default contact that is not the
# first one) into a database, dumps it, restores the dump into a fresh
# database, and compares every table of schema crm row by row, and the
# identity sequences.  Runs against the server in PGHOST/PGPORT (tools/dev.sh
# test starts one).  Prints "1 passed, 0 failed" or the differences.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PG_BINDIR:+$PG_BINDIR/}
PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

"${PSQL[@]}" -d postgres -c 'DROP DATABASE IF EXISTS crm_dump_src' -c 'DROP DATABASE IF EXISTS crm_dump_dst' \
	-c 'CREATE DATABASE crm_dump_src' -c 'CREATE DATABASE crm_dump_dst'
"${PSQL[@]}" -d crm_dump_src -c 'CREATE EXTENSION crm' -c 'SELECT crm.install_data_model()' -f tools/sample.sql >/dev/null

"${BIN}pg_dump" -Fc -d crm_dump_src -f "$WORK/crm.dump"
"${BIN}pg_restore" --exit-on-error -d crm_dump_dst "$WORK/crm.dump"

# every table: row count and a digest of its rows in a stable order;
# every identity sequence: its position
snapshot() {
	"${PSQL[@]}" -d "$1" -At <<'SQL'
DO $$
DECLARE
    r record;
    n bigint;
    digest text;
BEGIN
    -- every table of the data model
    FOR r IN SELECT c.oid::regclass AS tbl FROM pg_class c
             WHERE c.relnamespace = 'crm'::regnamespace
               AND c.relkind = 'r' ORDER BY c.oid::regclass::text LOOP
        EXECUTE format('SELECT count(*), md5(coalesce(string_agg(t::text, E''\n'' ORDER BY t::text), '''')) FROM %s t', r.tbl)
            INTO n, digest;
        RAISE WARNING 'table % rows % digest %', r.tbl, n, digest;
    END LOOP;
    FOR r IN SELECT c.oid::regclass AS seq FROM pg_class c
             WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind = 'S' ORDER BY c.oid::regclass::text LOOP
        EXECUTE format('SELECT last_value FROM %s', r.seq) INTO n;
        RAISE WARNING 'sequence % at %', r.seq, n;
    END LOOP;
END
$$;
SQL
}
snapshot crm_dump_src 2>"$WORK/src.txt"
snapshot crm_dump_dst 2>"$WORK/dst.txt"

status=0
if ! diff -u "$WORK/src.txt" "$WORK/dst.txt"; then
	echo "dump_restore: the restored database differs from the dumped one" >&2
	status=1
fi
if [ "$(grep -c ' rows 0 ' "$WORK/src.txt")" != 0 ]; then
	echo "dump_restore: the sample leaves these tables empty:" >&2
	grep ' rows 0 ' "$WORK/src.txt" >&2
	status=1
fi
# a new client in the restored database gets the next id, not a taken one
"${PSQL[@]}" -d crm_dump_dst -c "INSERT INTO crm.client (last_name) VALUES ('Nowy')" || status=1

"${PSQL[@]}" -d postgres -c 'DROP DATABASE crm_dump_src' -c 'DROP DATABASE crm_dump_dst'
echo "dump_restore: $(grep -c '^WARNING:  table' "$WORK/src.txt") tables, $(grep -c '^WARNING:  sequence' "$WORK/src.txt") sequences compared"
if [ $status = 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $status
