#!/usr/bin/env bash
# bench/export.sh: the export (WB-3) of N clients (default 1,000,000) as CSV
# in bounded memory, and as xlsx.
#
# Fills crm.client with N generated clients, each with a default phone, a
# default e-mail and a custom number field (contacts and values loaded with
# their triggers off: the load is not what is measured), then, ROUNDS times
# (default 3), interleaved:
#   - baseline: COPY crm.client TO STDOUT WITH (FORMAT csv, HEADER), every
#     column of the table, no join, no filter, no order;
#   - same_columns: crm.export_clients('{}', <every column of crm.client>):
#     the same columns through the export's view (visible clients, by id);
#   - client_search: COPY (SELECT * FROM crm.client_search('{}')), the same
#     rows from a set-returning function (collected whole before COPY reads);
#   - default: crm.export_clients('{}'), the default columns (default phone
#     and e-mail, unit path: three joins);
#   - chosen: a filter ({"kind": "person"}) and six columns with the custom field;
# each through psql into a file, timing the whole COPY and sampling the
# backend's private memory (RssAnon of /proc/<pid>/status, every 50 ms) and
# its peak resident set (VmHWM, which also counts the shared buffers it
# touched), and the temporary files it wrote (pg_stat_database).  Then the
# xlsx export of XLSX_N clients (default 100,000), as bytea and as a file.
#
# Runs against the server in PGHOST/PGPORT, on this machine (it reads the
# backend's /proc); tools/dev.sh bench export starts one.
set -euo pipefail
cd "$(dirname "$0")"
N=${N:-1000000}
ROUNDS=${ROUNDS:-3}
XLSX_N=${XLSX_N:-100000}
PSQL=("${PG_BINDIR:+$PG_BINDIR/}psql" -X -q -v ON_ERROR_STOP=1)
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

"${PSQL[@]}" -c "CREATE EXTENSION IF NOT EXISTS crm" -c "SELECT crm.install_data_model()" >/dev/null
# a base of N clients made by an earlier run is used again
HAVE=$("${PSQL[@]}" -At -c "SELECT count(*) FROM crm.client")
[ "$HAVE" = "$N" ] || "${PSQL[@]}" <<SQL
SET crm.duplicate_check = off;
TRUNCATE crm.client, crm.contact, crm.custom_value, crm.custom_field, crm.unit RESTART IDENTITY CASCADE;
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Kanał agencyjny'), (2, 1, 'branch', 'Oddział Kraków'), (3, 2, 'department', 'Dział komunikacyjny'),
    (4, 1, 'branch', 'Oddział Gdańsk');
INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'Liczba aut', 'number');
INSERT INTO crm.employee (login) SELECT 'agent_' || i FROM generate_series(0, 49) AS i ON CONFLICT DO NOTHING;
INSERT INTO crm.client (kind, first_name, last_name, company_name, city, postal_code, address, unit_id, owner, created_at)
SELECT CASE WHEN i % 10 = 0 THEN 'company' ELSE 'person' END,
       CASE WHEN i % 10 <> 0 THEN (ARRAY['Jan','Anna','Piotr','Katarzyna','Tomasz','Zofia'])[1 + i % 6] END,
       CASE WHEN i % 10 <> 0 THEN (ARRAY['Kowalski','Nowak','Wiśniewska','Wójcik','Kamiński','Lewandowska'])[1 + i % 6] END,
       CASE WHEN i % 10 = 0 THEN 'Firma ' || i || ' sp. z o.o.' END,
       (ARRAY['Kraków','Gdańsk','Warszawa','Łódź'])[1 + i % 4], lpad((i % 100000)::text, 5, '0'),
       'ul. Długa ' || (i % 200) || ', m. ' || (i % 30), 1 + i % 4, 'agent_' || (i % 50),
       timestamptz '2020-01-01' + i * interval '1 minute'
FROM generate_series(1, $N) i;
ALTER TABLE crm.contact DISABLE TRIGGER USER;
ALTER TABLE crm.custom_value DISABLE TRIGGER USER;
INSERT INTO crm.contact (client_id, kind, value, is_default)
SELECT id, 'phone', '+48' || (600000000 + id), true FROM crm.client
UNION ALL
SELECT id, 'email', 'klient' || id || '@example.com', true FROM crm.client;
INSERT INTO crm.custom_value (client_id, field_id, number_value) SELECT id, 1, id % 7 FROM crm.client;
ALTER TABLE crm.contact ENABLE TRIGGER USER;
ALTER TABLE crm.custom_value ENABLE TRIGGER USER;
VACUUM ANALYZE crm.client, crm.contact, crm.custom_value;
SQL

CLIENT_COLUMNS=$("${PSQL[@]}" -At -c "SELECT '{' || string_agg(attname, ',' ORDER BY attnum) || '}' FROM pg_attribute
	WHERE attrelid = 'crm.client'::regclass AND attnum > 0 AND NOT attisdropped")

# run_copy NAME 'SQL before' 'COPY ...': one measured export; prints
# "NAME seconds rss_anon_peak_kB vmhwm_kB temp_bytes rows"
run_copy() {
	local name=$1 before=$2 copy=$3 tag="crm_bench_export_$1_$$"
	local t0 t1 pid peak=0 anon hwm=0 temp0 temp1 rows
	temp0=$("${PSQL[@]}" -At -c "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
	t0=$(date +%s.%N)
	PGAPPNAME=$tag "${PSQL[@]}" -c '\o /dev/null' -c "$before" -c "SELECT pg_sleep(0.3)" -c '\o' -c "$copy" > "$OUT/$name.csv" &
	local job=$!
	pid=""
	while [ -z "$pid" ] && kill -0 $job 2>/dev/null; do
		pid=$("${PSQL[@]}" -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$tag'")
	done
	while [ -n "$pid" ] && kill -0 $job 2>/dev/null && [ -r /proc/$pid/status ]; do
		anon=$(awk '/^RssAnon:/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
		hwm=$(awk '/^VmHWM:/ {print $2}' /proc/$pid/status 2>/dev/null || echo "$hwm")
		[ -n "$anon" ] && [ "$anon" -gt "$peak" ] && peak=$anon
		sleep 0.05
	done
	wait $job
	t1=$(date +%s.%N)
	sleep 0.6   # the statistics collector's report of temporary files
	temp1=$("${PSQL[@]}" -At -c "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
	rows=$(($(wc -l < "$OUT/$name.csv") - 1))
	echo "$name $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a - 0.3 }') $peak $hwm $((temp1 - temp0)) $rows"
	rm -f "$OUT/$name.csv"
}

echo "== CSV export of $N clients (seconds; backend's private memory peak and VmHWM in kB; temporary files)"
: > "$OUT/results"
for round in $(seq 1 "$ROUNDS"); do
	run_copy baseline "SELECT 1" \
		"COPY crm.client TO STDOUT WITH (FORMAT csv, HEADER)" >> "$OUT/results"
	run_copy same_columns "SELECT crm.export_clients('{}', '$CLIENT_COLUMNS')" \
		"COPY (SELECT * FROM client_export) TO STDOUT WITH (FORMAT csv, HEADER)" >> "$OUT/results"
	# crm.client_search('{}'): the same rows from a set-returning function,
	# which the executor collects whole before COPY reads the first
	run_copy client_search "SELECT 1" \
		"COPY (SELECT * FROM crm.client_search('{}')) TO STDOUT WITH (FORMAT csv, HEADER)" >> "$OUT/results"
	run_copy default "SELECT crm.export_clients('{}')" \
		"COPY (SELECT * FROM client_export) TO STDOUT WITH (FORMAT csv, HEADER)" >> "$OUT/results"
	run_copy chosen "SELECT crm.export_clients('{\"kind\": \"person\"}', '{id,first_name,last_name,city,phone,custom:Liczba aut}')" \
		"COPY (SELECT * FROM client_export) TO STDOUT WITH (FORMAT csv, HEADER)" >> "$OUT/results"
done
# medians per variant, and the ratio of each to the baseline's median
sort -k1,1 -k2,2n "$OUT/results" | awk -v rounds="$ROUNDS" '
	{ n[$1]++; if (n[$1] == int((rounds + 1) / 2)) { t[$1] = $2; m[$1] = $3; h[$1] = $4; tb[$1] = $5; r[$1] = $6 } }
	END {
		printf "%-13s %9s %9s %14s %12s %16s %9s\n", "variant", "median s", "ratio", "RssAnon peak", "VmHWM", "temp files MB", "rows"
		split("baseline same_columns client_search default chosen", order, " ")
		for (i = 1; i <= 5; i++) { v = order[i]
			printf "%-13s %9.2f %8.2fx %11.1f MB %9.1f MB %16.1f %9d\n", v, t[v], t[v] / t["baseline"], m[v] / 1024, h[v] / 1024, tb[v] / 1048576, r[v] }
	}'
"${PSQL[@]}" -At -c "SHOW work_mem" -c "SHOW shared_buffers" | paste -sd' ' | sed 's/^/work_mem, shared_buffers: /'

echo "== xlsx export of $XLSX_N clients (the default columns)"
FILTER="{\"id\": {\"<=\": $XLSX_N}}"
for round in $(seq 1 "$ROUNDS"); do
	"${PSQL[@]}" -At <<SQL
\timing off
SELECT clock_timestamp() AS t0 \gset
SELECT length(crm.export_clients_xlsx('$FILTER')) AS bytes \gset
SELECT format('bytea: %s s, %s MB; backend VmHWM %s', round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 2),
              round(:bytes / 1048576.0, 1),
              (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\s+(\d+ kB)'))[1]);
SELECT clock_timestamp() AS t0 \gset
SELECT crm.export_clients_xlsx_file('$FILTER', NULL, current_setting('data_directory') || '/bench_export.xlsx') AS clients \gset
SELECT format('file:  %s s, %s clients; backend VmHWM %s',
              round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 2), :clients,
              (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\s+(\d+ kB)'))[1]);
SQL
done
