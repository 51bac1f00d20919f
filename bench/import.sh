#!/usr/bin/env bash
# bench/import.sh: what does an import with validation and the duplicate
# pass cost beside a plain COPY of the same file?
#
# Generates a CSV of N rows (default 1,000,000; a header, 9 columns: first
# and last name, PESEL, birth date, city, phone, e-mail, a number, a
# segment), about 2 % of them invalid (bad PESEL checksum, impossible date,
# unparsable phone) and about 1 % repeating an earlier row (duplicates for
# the pass to find).  Then, ROUNDS times (default 3), interleaved:
#   - plain: \copy into a TEMP table of text columns (the baseline);
#   - import: crm.import_begin + \copy into its staging table +
#     crm.import_apply (validation, clients, contacts, custom values,
#     segments, rejects, one duplicate pass), into an empty base, timed
#     step by step;
#   - floor: the rows the import wrote, copied into plain copies of its
#     tables (same columns, keys, indexes and foreign keys, no trigger): what
#     PostgreSQL's writes of those rows cost whatever crm does.
# Reports medians and the ratio to plain COPY.  Target: the import under
# 60 s at 1,000,000 rows.
#
# Runs against the server in PGHOST/PGPORT; tools/dev.sh bench starts one.
set -euo pipefail
cd "$(dirname "$0")"
N=${N:-1000000}
ROUNDS=${ROUNDS:-3}
PSQL=("${PG_BINDIR:+$PG_BINDIR/}psql" -X -q -v ON_ERROR_STOP=1)
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
DATA=$DIR/clients_$N.csv

"${PSQL[@]}" <<'SQL'
CREATE EXTENSION IF NOT EXISTS crm;
SELECT crm.install_data_model() IS NOT NULL AS installed \gset
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
CREATE TABLE bench.result (variant text, round int, step text, ms float8);
INSERT INTO crm.custom_field (name, type) SELECT 'Score', 'number'
WHERE NOT EXISTS (SELECT FROM crm.custom_field WHERE name = 'Score');
INSERT INTO crm.segment (name) SELECT s FROM unnest(ARRAY['A', 'B', 'C']) s
WHERE NOT EXISTS (SELECT FROM crm.segment g WHERE g.name = s);
SQL

# the file: names from small lists, PESELs with their checksum (each its
# own: birth date and serial number from the row's number), one in 50 rows
# broken, one in 100 a copy of an earlier row
"${PSQL[@]}" -c "COPY (
WITH base AS (
    SELECT i,
           (ARRAY['Jan','Anna','Piotr','Katarzyna','Tomasz','Agnieszka','Paweł','Małgorzata','Michał','Ewa'])[1 + i % 10] AS first_name,
           (ARRAY['Nowak','Kowalski','Wiśniewski','Wójcik','Kowalczyk','Kamiński','Lewandowski','Zieliński','Szymański','Woźniak','Dąbrowski','Kozłowski'])[1 + (i / 10) % 12]
               || '-' || (i % 9973) AS last_name,
           date '1940-01-01' + (i % 25000) AS born,
           (ARRAY['Kraków','Warszawa','Gdańsk','Łódź','Poznań'])[1 + i % 5] AS city,
           500000000 + i AS phone
    FROM generate_series(1, $N) AS i
), pesel AS (
    SELECT b.*, d10 || ((10 - (SELECT sum(substr(d10, k::int, 1)::int * w) FROM unnest('{1,3,7,9,1,3,7,9,1,3}'::int[]) WITH ORDINALITY AS x(w, k)) % 10) % 10) AS pesel
    FROM (SELECT b.*, to_char(b.born, 'YY') || to_char(extract(month FROM b.born) + CASE WHEN b.born >= date '2000-01-01' THEN 20 ELSE 0 END, 'FM00')
                      || to_char(b.born, 'DD') || to_char(b.i / 25000 % 10000, 'FM0000') AS d10
          FROM base b) b
), rows AS (
    SELECT p.i, p.first_name, p.last_name,
           CASE WHEN p.i % 150 = 1 THEN substr(p.pesel, 1, 10) || ((substr(p.pesel, 11, 1)::int + 1) % 10) ELSE p.pesel END AS pesel,
           CASE WHEN p.i % 150 = 2 THEN to_char(p.born, 'YYYY') || '-02-30' ELSE to_char(p.born, 'YYYY-MM-DD') END AS born,
           p.city,
           CASE WHEN p.i % 150 = 3 THEN '12-34' ELSE p.phone::text END AS phone,
           lower(p.first_name) || '.' || p.i || '@example.com' AS email,
           (p.i % 100)::text AS score,
           (ARRAY['A','B','C'])[1 + p.i % 3] AS segment
    FROM pesel p
)
SELECT r.first_name, r.last_name, r.pesel, r.born, r.city, r.phone, r.email, r.score, r.segment
FROM rows r
-- every 100th row once more, a little changed (the e-mail): a duplicate
UNION ALL
SELECT r.first_name, r.last_name, r.pesel, r.born, r.city, r.phone, 'x' || r.email, r.score, r.segment
FROM rows r WHERE r.i % 100 = 50 AND r.i % 150 > 3
) TO STDOUT WITH (FORMAT csv, HEADER true)" > "$DATA"
echo "file: $(wc -l < "$DATA") lines, $(du -h "$DATA" | cut -f1)"

COLS="ARRAY['first_name','last_name','pesel','born','city','phone','email','score','segment']"
MAPPING='{"first_name": "first_name", "last_name": "last_name", "pesel": "pesel", "birth_date": "born", "city": "city", "phone": "phone", "email": "email", "custom": {"Score": "score"}, "segment": "segment"}'

now() { date +%s.%N; }
record() { "${PSQL[@]}" -c "INSERT INTO bench.result VALUES ('$1', $2, '$3', $4)"; }

for round in $(seq 1 "$ROUNDS"); do
	# plain COPY of the same file into a table of text columns
	"${PSQL[@]}" -c "TRUNCATE crm.client, crm.possible_duplicate, crm.import_batch CASCADE"
	t0=$(now)
	"${PSQL[@]}" <<SQL
CREATE TEMP TABLE plain (first_name text, last_name text, pesel text, born text, city text, phone text, email text, score text, segment text);
\\copy plain FROM '$DATA' WITH (FORMAT csv, HEADER true)
SQL
	t1=$(now)
	record plain "$round" copy "$(awk "BEGIN { print ($t1 - $t0) * 1000 }")"

	# the import, in one session: begin, \copy, apply (atomic)
	"${PSQL[@]}" -v cols="$COLS" -v mapping="$MAPPING" <<SQL
\\set t0 \`date +%s.%N\`
SELECT crm.import_begin(:cols, 'bench.csv') AS batch \\gset
\\copy crm_import FROM '$DATA' WITH (FORMAT csv, HEADER match)
\\set t1 \`date +%s.%N\`
SELECT crm.import_apply(:batch, :'mapping') AS result \\gset
\\set t2 \`date +%s.%N\`
INSERT INTO bench.result VALUES ('import', $round, 'copy', (:t1 - :t0) * 1000),
                                ('import', $round, 'apply', (:t2 - :t1) * 1000),
                                ('import', $round, 'total', (:t2 - :t0) * 1000);
SELECT :'result' AS result;
SQL

	# the floor: the very rows the import wrote, into plain copies of its
	# tables (their columns, defaults, checks, keys and every index, the GIN
	# index of the blocking keys included, and their foreign keys; no
	# trigger, no validation, no mapping, no duplicate pass): what writing
	# them costs in PostgreSQL whatever crm does, in the order the import
	# writes them
	"${PSQL[@]}" <<'SQL'
DROP SCHEMA IF EXISTS bench_floor CASCADE;
CREATE SCHEMA bench_floor;
CREATE TABLE bench_floor.client (LIKE crm.client INCLUDING ALL);
CREATE TABLE bench_floor.contact (LIKE crm.contact INCLUDING ALL);
ALTER TABLE bench_floor.contact ADD FOREIGN KEY (client_id) REFERENCES bench_floor.client (id) ON DELETE CASCADE;
CREATE TABLE bench_floor.segment_member (LIKE crm.segment_member INCLUDING ALL);
ALTER TABLE bench_floor.segment_member ADD FOREIGN KEY (client_id) REFERENCES bench_floor.client (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (segment_id) REFERENCES crm.segment (id) ON DELETE CASCADE;
CREATE TABLE bench_floor.custom_value (LIKE crm.custom_value INCLUDING ALL);
ALTER TABLE bench_floor.custom_value ADD FOREIGN KEY (client_id) REFERENCES bench_floor.client (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (field_id) REFERENCES crm.custom_field (id) ON DELETE CASCADE;
SQL
	"${PSQL[@]}" <<SQL
\\set t0 \`date +%s.%N\`
BEGIN;
INSERT INTO bench_floor.client SELECT * FROM crm.client ORDER BY id;
INSERT INTO bench_floor.contact SELECT * FROM crm.contact ORDER BY client_id, kind, id;
INSERT INTO bench_floor.segment_member SELECT * FROM crm.segment_member ORDER BY client_id, segment_id;
INSERT INTO bench_floor.custom_value SELECT * FROM crm.custom_value ORDER BY client_id;
COMMIT;
\\set t1 \`date +%s.%N\`
INSERT INTO bench.result VALUES ('floor', $round, 'writes', (:t1 - :t0) * 1000);
DROP SCHEMA bench_floor CASCADE;
SQL
done

"${PSQL[@]}" -P pager=off <<'SQL'
\echo medians (ms)
SELECT variant, step, count(*) AS rounds,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric) AS median_ms,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)
              / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms) FROM bench.result r WHERE r.variant = 'plain'))::numeric, 1)
           AS x_plain_copy
FROM bench.result GROUP BY variant, step ORDER BY variant DESC, step;
SELECT (SELECT count(*) FROM crm.client) AS clients, (SELECT count(*) FROM crm.contact) AS contacts,
       (SELECT count(*) FROM crm.import_reject) AS rejects, (SELECT count(*) FROM crm.possible_duplicate) AS pairs;
SQL
