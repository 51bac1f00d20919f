#!/usr/bin/env bash
# bench/import_xlsx.sh: how long does the import of a 5 MB xlsx workbook
# take, beside a plain COPY of the same rows as CSV?
#
# Generates with openpyxl (Debian's python3-openpyxl, as a spreadsheet
# writes it: shared strings, numbers, date cells) a workbook of N rows
# (default 110,000, about 5 MB; a header, 9 columns: first and last name,
# PESEL as text, birth date as a date cell, city, phone as a number,
# e-mail, a number, a segment) and the same rows as a CSV file.  Then,
# ROUNDS times (default 5), interleaved:
#   - copy: \copy of the CSV into a TEMP table of text columns (baseline);
#   - read: crm.import_xlsx() of the workbook (unzip, parse, stage);
#   - apply (first round only: it takes minutes): crm.import_apply() of
#     that batch (validation, clients, contacts, custom values, segments,
#     the duplicate pass), into an empty base, and the read in the same
#     session.
# Reports medians and the ratio of read to copy.
#
# Runs against the server in PGHOST/PGPORT; tools/dev.sh bench starts one.
set -euo pipefail
cd "$(dirname "$0")"
N=${N:-110000}
ROUNDS=${ROUNDS:-5}
PSQL=("${PG_BINDIR:+$PG_BINDIR/}psql" -X -q -v ON_ERROR_STOP=1)
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT

/usr/bin/python3 - "$N" "$DIR" <<'PY'
import csv, datetime, os, sys
import openpyxl
n, out = int(sys.argv[1]), sys.argv[2]
first = ['Jan', 'Anna', 'Piotr', 'Katarzyna', 'Tomasz', 'Agnieszka', 'Paweł', 'Małgorzata', 'Michał', 'Ewa']
last = ['Nowak', 'Kowalski', 'Wiśniewski', 'Wójcik', 'Kowalczyk', 'Kamiński', 'Lewandowski', 'Zieliński']
cities = ['Kraków', 'Warszawa', 'Gdańsk', 'Łódź', 'Poznań']
def pesel(born, serial):
    m = born.month + (20 if born.year >= 2000 else 0)
    d = '%02d%02d%02d%04d' % (born.year % 100, m, born.day, serial % 10000)
    s = sum(int(c) * w for c, w in zip(d, [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]))
    return d + str((10 - s % 10) % 10)
wb = openpyxl.Workbook(write_only=True)
ws = wb.create_sheet('Klienci')
header = ['first_name', 'last_name', 'pesel', 'born', 'city', 'phone', 'email', 'score', 'segment']
ws.append(header)
with open(os.path.join(out, 'clients.csv'), 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(header)
    for i in range(1, n + 1):
        born = datetime.date(1940, 1, 1) + datetime.timedelta(days=i % 25000)
        row = [first[i % 10], '%s-%d' % (last[i // 10 % 8], i % 9973), pesel(born, i // 25000 + i),
               born, cities[i % 5], 500000000 + i, '%s.%d@example.com' % (first[i % 10].lower(), i),
               i % 100 / 4, 'ABC'[i % 3]]
        ws.append(row)
        w.writerow([born.isoformat() if isinstance(v, datetime.date) else v for v in row])
wb.save(os.path.join(out, 'clients.xlsx'))
PY
echo "workbook: $N rows, $(stat -c %s "$DIR/clients.xlsx") bytes; the same rows as CSV: $(stat -c %s "$DIR/clients.csv") bytes"
base64 -w0 "$DIR/clients.xlsx" > "$DIR/clients.b64"

"${PSQL[@]}" <<'SQL'
CREATE EXTENSION IF NOT EXISTS crm;
SELECT crm.install_data_model() IS NOT NULL AS installed \gset
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
CREATE TABLE bench.result (variant text, round int, ms float8);
CREATE TABLE bench.workbook (data bytea);
INSERT INTO crm.custom_field (name, type) SELECT 'Score', 'number'
WHERE NOT EXISTS (SELECT FROM crm.custom_field WHERE name = 'Score');
INSERT INTO crm.segment (name) SELECT s FROM unnest(ARRAY['A', 'B', 'C']) s
WHERE NOT EXISTS (SELECT FROM crm.segment g WHERE g.name = s);
SQL
# the workbook as a client sends it (psql reads the base64 file itself)
"${PSQL[@]}" <<SQL
\\set b64 \`cat $DIR/clients.b64\`
INSERT INTO bench.workbook SELECT decode(:'b64', 'base64');
SQL

MAPPING='{"first_name": "first_name", "last_name": "last_name", "pesel": "pesel", "birth_date": "born", "city": "city", "phone": "phone", "email": "email", "custom": {"Score": "score"}, "segment": "segment"}'
ms() { date +%s%N; }
for r in $(seq 1 "$ROUNDS"); do
	t0=$(ms)
	"${PSQL[@]}" -c "CREATE TEMP TABLE plain (a text, b text, c text, d text, e text, f text, g text, h text, i text)" \
		-c "\\copy plain FROM '$DIR/clients.csv' WITH (FORMAT csv, HEADER true)"
	t1=$(ms)
	"${PSQL[@]}" -c "SELECT crm.import_xlsx(data) FROM bench.workbook" >/dev/null
	t2=$(ms)
	# the whole import, once (the first round): read and apply in one
	# session (the staging table is the session's)
	[ "$r" = 1 ] || { "${PSQL[@]}" -c "INSERT INTO bench.result VALUES ('copy', $r, ($t1 - $t0) / 1e6), ('read', $r, ($t2 - $t1) / 1e6)"; continue; }
	"${PSQL[@]}" -v mapping="$MAPPING" >"$DIR/apply.out" <<'SQL'
SELECT clock_timestamp() AS t0 \gset
SELECT crm.import_xlsx(data) AS batch FROM bench.workbook \gset
SELECT clock_timestamp() AS t1 \gset
SELECT crm.import_apply(:batch, :'mapping') AS result \gset
SELECT extract(epoch FROM clock_timestamp() - :'t1'::timestamptz) * 1000 AS apply_ms,
       extract(epoch FROM :'t1'::timestamptz - :'t0'::timestamptz) * 1000 AS read_ms \gset
INSERT INTO bench.result VALUES ('apply', 0, :apply_ms), ('read in the apply session', 0, :read_ms);
\echo :result
SQL
	"${PSQL[@]}" -c "UPDATE bench.result SET round = $r WHERE round = 0" \
		-c "INSERT INTO bench.result VALUES ('copy', $r, ($t1 - $t0) / 1e6), ('read', $r, ($t2 - $t1) / 1e6)"
	echo "round $r: $(cat "$DIR/apply.out")"
	"${PSQL[@]}" -c "TRUNCATE crm.import_reject, crm.import_batch, crm.possible_duplicate, crm.custom_value, crm.segment_member, crm.contact, crm.client RESTART IDENTITY CASCADE" >/dev/null
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"${PSQL[@]}" -P footer=off <<'SQL'
SELECT variant, count(*) AS rounds, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric) AS median_ms,
       round(min(ms)::numeric) AS min_ms, round(max(ms)::numeric) AS max_ms
FROM bench.result GROUP BY variant ORDER BY median_ms;
SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE variant = 'read')
       / percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE variant = 'copy'))::numeric, 1) AS read_over_copy
FROM bench.result;
SQL
