#!/usr/bin/env bash
# test/dump_restore.sh: a DBA's round trip through pg_dump and pg_restore.
#
# The source database holds crm with tools/sample.sql (rows in every table,
# a merged client, an anonymized client, a user table referencing clients,
# custom fields) and what a DBA adds to crm's tables: NOT NULL columns with
# defaults (crm.client, crm.contact), an index and an expression index for a
# report, an audit trigger of the DBA's own, row-level security on
# crm.client with a policy for an agents' role, a column comment, grants,
# and two tables of the DBA's (schema dba); and crm's own roles and
# row-level security by structure (crm.create_roles(),
# crm.enable_row_security(), crm.user_unit()), which must come back whole.  It is dumped with
# pg_dump -Fc and restored twice: serially with --exit-on-error into db A,
# and with pg_restore -j 2 into db B.  Then, for A and B against the source:
#   - restores said nothing (exit status 0, empty stderr);
#   - crm.install_data_model() has nothing to do;
#   - the schema-only pg_dump of the whole database is identical;
#   - every table's rows and every sequence's position are identical;
#   - each DBA addition is in the catalogs (compared with the source's, and
#     present there);
#   - the product works: RLS filters for the agents' role, a new client gets a
#     fresh id, duplicate candidates, undo of the dumped merge, a new merge
#     and its undo, the DBA's trigger fires.
# Runs against the server in PGHOST/PGPORT (tools/dev.sh test starts one).
# Prints "N passed, M failed"; exits non-zero when a check failed (a failed
# step of the source's setup stops it at once).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PG_BINDIR:+$PG_BINDIR/}
PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1)
WORK=$(mktemp -d)
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
SRC=crm_dump_src A=crm_dump_serial B=crm_dump_parallel
# roles are cluster-wide: this script's own names, created if missing,
# dropped at the end (after the databases that hold their grants)
ROLE=crm_dump_agent
CRM_ROLE=crm_dump_crm_agent

cleanup() {
	"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $SRC" -c "DROP DATABASE IF EXISTS $A" \
		-c "DROP DATABASE IF EXISTS $B" -c "DROP ROLE IF EXISTS $ROLE" -c "DROP ROLE IF EXISTS $CRM_ROLE" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); printf 'FAILED: %s\n' "$*" >&2; }
# same NAME FILE_SRC FILE_OTHER: the two files are identical (else the diff)
same() {
	if diff -u "$2" "$3" >"$WORK/diff" 2>&1; then pass; else fail "$1"; head -60 "$WORK/diff" >&2; fi
}
# has NAME FILE REGEX: a line of FILE matches
has() {
	if grep -Eq -- "$3" "$2"; then pass; else
		fail "$1 (no line matching '$3' in $(basename "$2"):)"; head -40 "$2" | sed 's/^/    /' >&2; fi
}

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $SRC" -c "DROP DATABASE IF EXISTS $A" \
	-c "DROP DATABASE IF EXISTS $B" -c "CREATE DATABASE $SRC TEMPLATE template0" \
	-c "CREATE DATABASE $A TEMPLATE template0" -c "CREATE DATABASE $B TEMPLATE template0" \
	-c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN CREATE ROLE $ROLE NOLOGIN; END IF; END \$\$" \
	-c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$CRM_ROLE') THEN CREATE ROLE $CRM_ROLE NOLOGIN; END IF; END \$\$"

"${PSQL[@]}" -d $SRC -c 'CREATE EXTENSION crm' -c 'SELECT crm.install_data_model()' -f tools/sample.sql >/dev/null

# What a DBA adds once crm is in production.
"${PSQL[@]}" -d $SRC -v role=$ROLE -v crm_role=$CRM_ROLE >/dev/null <<'SQL'
-- crm's roles, row-level security by structure, a person in Oddział Kraków
SELECT crm.create_roles();
SELECT crm.enable_row_security();
GRANT crm_agent TO :"crm_role";
SELECT crm.user_unit(:'crm_role', 2), crm.user_campaign(:'crm_role', 1),
       crm.grant_agent_permission(:'crm_role', 'tickets_unassigned');
CREATE SCHEMA dba;
-- which units an agent works in (a unit and everything below it)
CREATE TABLE dba.agent_unit (
    agent   name NOT NULL,
    unit_id bigint NOT NULL REFERENCES crm.unit (id),
    PRIMARY KEY (agent, unit_id)
);
INSERT INTO dba.agent_unit VALUES (:'role', 2);   -- Oddział Kraków

-- an audit of changes to clients, written whoever changes them
CREATE TABLE dba.client_change (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id  bigint NOT NULL,
    op         text NOT NULL,
    changed_by name NOT NULL DEFAULT session_user,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION dba.client_change_log() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, dba AS $$
BEGIN
    INSERT INTO dba.client_change (client_id, op) VALUES (OLD.id, TG_OP);
    RETURN NULL;
END
$$;
CREATE TRIGGER client_change_log AFTER UPDATE OR DELETE ON crm.client
    FOR EACH ROW EXECUTE FUNCTION dba.client_change_log();

-- the sales department's segment code, and what its reports read
ALTER TABLE crm.client ADD COLUMN segment_code text NOT NULL DEFAULT 'STD';
COMMENT ON COLUMN crm.client.segment_code IS 'kod segmentu sprzedaży (dział sprzedaży); STD gdy nieprzypisany';
UPDATE crm.client SET segment_code = 'VIP' WHERE id IN (1, 7);
UPDATE crm.client SET segment_code = 'FLOTA' WHERE id IN (4, 8);
CREATE INDEX client_segment_code_idx ON crm.client (segment_code);
-- and the call centre's flag on phones and e-mails it has confirmed
ALTER TABLE crm.contact ADD COLUMN verified boolean NOT NULL DEFAULT false;
CREATE INDEX client_report_city_month_idx ON crm.client
    (lower(city), date_trunc('month', created_at AT TIME ZONE 'Europe/Warsaw')) WHERE hidden_at IS NULL;

-- agents see and write the clients of their units only
ALTER TABLE crm.client ENABLE ROW LEVEL SECURITY;
CREATE POLICY client_agent_unit ON crm.client TO :"role"
    USING (EXISTS (SELECT FROM dba.agent_unit a
                   WHERE a.agent = current_user AND crm.unit_contains(a.unit_id, client.unit_id)));
GRANT USAGE ON SCHEMA dba TO :"role";
GRANT SELECT ON dba.agent_unit TO :"role";
GRANT SELECT ON crm.unit TO :"role";
GRANT SELECT, INSERT, UPDATE ON crm.client, crm.contact TO :"role";
GRANT SELECT, INSERT, UPDATE, DELETE ON crm.possible_duplicate TO :"role";
SQL

# dump; restore serially (stops at the first error) and in parallel (goes
# on after errors, so its stderr is what tells)
if "${BIN}pg_dump" -Fc -d $SRC -f "$WORK/crm.dump" 2>"$WORK/dump.err" && [ ! -s "$WORK/dump.err" ]; then
	pass; else fail "pg_dump -Fc"; cat "$WORK/dump.err" >&2; fi
t0=$(date +%s.%N)
if "${BIN}pg_restore" --exit-on-error -d $A "$WORK/crm.dump" 2>"$WORK/restore_a.err" && [ ! -s "$WORK/restore_a.err" ]; then
	pass; else fail "pg_restore --exit-on-error"; head -40 "$WORK/restore_a.err" >&2; fi
t1=$(date +%s.%N)
if "${BIN}pg_restore" -j 2 -d $B "$WORK/crm.dump" 2>"$WORK/restore_b.err" && [ ! -s "$WORK/restore_b.err" ]; then
	pass; else fail "pg_restore -j 2"; head -40 "$WORK/restore_b.err" >&2; fi
t2=$(date +%s.%N)

# crm.install_data_model() on a restored database finds its model whole
for db in $A $B; do
	"${PSQL[@]}" -d $db -At -c 'SELECT crm.install_data_model()' >"$WORK/install_$db.txt" || true
	has "install_data_model on $db" "$WORK/install_$db.txt" '^crm data model .* is installed: nothing to do$'
done

# every object's definition: the schema-only dump of the whole database
# (\restrict carries a random key per run)
schema() {
	"${BIN}pg_dump" --schema-only -d "$1" | grep -Ev '^\\(un)?restrict '
}
schema $SRC >"$WORK/schema_src.sql" || true
for db in $A $B; do
	schema $db >"$WORK/schema_$db.sql" || true
	same "schema of $db" "$WORK/schema_src.sql" "$WORK/schema_$db.sql"
done

# every table outside the system schemas: row count and a digest of its rows
# in a stable order; every sequence: its position
snapshot() {
	"${PSQL[@]}" -d "$1" -At 2>&1 <<'SQL'
DO $$
DECLARE
    r record;
    n bigint;
    digest text;
BEGIN
    FOR r IN SELECT c.oid::regclass AS rel, c.relkind FROM pg_class c
             WHERE c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace,
                                          'pg_toast'::regnamespace)
               AND c.relkind IN ('r', 'S') ORDER BY c.relkind, c.oid::regclass::text LOOP
        IF r.relkind = 'r' THEN
            EXECUTE format('SELECT count(*), md5(coalesce(string_agg(t::text, E''\n'' ORDER BY t::text), '''')) FROM %s t', r.rel)
                INTO n, digest;
            RAISE WARNING 'table % rows % digest %', r.rel, n, digest;
        ELSE
            EXECUTE format('SELECT last_value FROM %s', r.rel) INTO n;
            RAISE WARNING 'sequence % at %', r.rel, n;
        END IF;
    END LOOP;
END
$$;
SQL
}
snapshot $SRC >"$WORK/data_src.txt" || true
# (the extension's own crm_internal.data_model_step stays empty until a
# release changes the data model)
if grep ' rows 0 ' "$WORK/data_src.txt" | grep -v ' crm_internal\.' >"$WORK/empty.txt"; then
	fail "the source leaves tables empty:"; cat "$WORK/empty.txt" >&2
else pass; fi
for db in $A $B; do
	snapshot $db >"$WORK/data_$db.txt" || true
	same "rows of $db" "$WORK/data_src.txt" "$WORK/data_$db.txt"
done

# the DBA's additions, as the catalogs define them
additions() {
	"${PSQL[@]}" -d "$1" -At <<'SQL'
SELECT 'column: ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' not null ' || a.attnotnull
       || ' default ' || pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE (a.attrelid, a.attname) IN (('crm.client'::regclass, 'segment_code'), ('crm.contact'::regclass, 'verified'))
ORDER BY a.attname;
SELECT 'comment: ' || col_description('crm.client'::regclass, a.attnum)
FROM pg_attribute a WHERE a.attrelid = 'crm.client'::regclass AND a.attname = 'segment_code';
SELECT 'index: ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'crm.client'::regclass AND c.relname IN ('client_segment_code_idx', 'client_report_city_month_idx')
ORDER BY c.relname;
SELECT 'trigger: ' || pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
       || ' function ' || p.prosecdef || ' ' || array_to_string(p.proconfig, ',')
FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
WHERE t.tgrelid = 'crm.client'::regclass AND t.tgname = 'client_change_log';
SELECT 'row security: ' || relrowsecurity || ' forced ' || relforcerowsecurity FROM pg_class WHERE oid = 'crm.client'::regclass;
SELECT 'policy: ' || policyname || ' ' || permissive || ' ' || roles::text || ' ' || cmd
       || ' using ' || regexp_replace(qual, '\s+', ' ', 'g') || ' check ' || coalesce(with_check, '-')
FROM pg_policies WHERE schemaname = 'crm' AND tablename = 'client' ORDER BY policyname;
SELECT 'grant: ' || oid::regclass || ' ' || array_to_string(relacl, ',') FROM pg_class
WHERE oid IN ('crm.client'::regclass, 'crm.contact'::regclass, 'crm.unit'::regclass, 'crm.possible_duplicate'::regclass,
              'dba.agent_unit'::regclass)
ORDER BY oid::regclass::text;
SELECT 'grant: schema dba ' || array_to_string(nspacl, ',') FROM pg_namespace WHERE nspname = 'dba';
SELECT 'crm policies: ' || count(*) || ' on ' || count(DISTINCT tablename) || ' tables, row security on all '
       || bool_and((SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = format('%I.%I', schemaname, tablename)::regclass))
FROM pg_policies WHERE schemaname = 'crm' AND policyname IN ('crm_reach', 'crm_agent_grants');
SELECT 'crm grants: agent reads clients ' || has_table_privilege('crm_agent', 'crm.client', 'SELECT')
       || ', updates last_name ' || has_column_privilege('crm_agent', 'crm.client', 'last_name', 'UPDATE')
       || ', chooses ids ' || has_column_privilege('crm_agent', 'crm.client', 'id', 'INSERT')
       || ', deletes policies ' || has_table_privilege('crm_agent', 'crm.policy', 'DELETE');
SQL
}
additions $SRC >"$WORK/additions_src.txt" 2>&1 || true
# each one is there in the source, spelled as the DBA wrote it
has "column in source" "$WORK/additions_src.txt" "^column: segment_code text not null true default 'STD'::text$"
has "column in source" "$WORK/additions_src.txt" "^column: verified boolean not null true default false$"
has "comment in source" "$WORK/additions_src.txt" '^comment: kod segmentu'
has "index in source" "$WORK/additions_src.txt" '^index: CREATE INDEX client_segment_code_idx ON crm.client USING btree \(segment_code\)$'
has "expression index in source" "$WORK/additions_src.txt" "^index: CREATE INDEX client_report_city_month_idx .*lower\(city\).*WHERE \(hidden_at IS NULL\)$"
has "trigger in source" "$WORK/additions_src.txt" '^trigger: CREATE TRIGGER client_change_log AFTER DELETE OR UPDATE ON crm.client .* enabled O function true search_path=pg_catalog, dba$'
has "row security in source" "$WORK/additions_src.txt" '^row security: true forced false$'
has "policy in source" "$WORK/additions_src.txt" "^policy: client_agent_unit PERMISSIVE \{$ROLE\} ALL using .*unit_contains"
has "grant in source" "$WORK/additions_src.txt" "^grant: crm.client .*$ROLE=arw/"
has "crm's policies in source" "$WORK/additions_src.txt" '^crm policies: [0-9]+ on [0-9]+ tables, row security on all true$'
has "crm's grants in source" "$WORK/additions_src.txt" '^crm grants: agent reads clients true, updates last_name true, chooses ids false, deletes policies false$'
for db in $A $B; do
	additions $db >"$WORK/additions_$db.txt" 2>&1 || true
	same "DBA additions in $db" "$WORK/additions_src.txt" "$WORK/additions_$db.txt"
done

# the product at work, the same in the source and after each restore
behaviour() {
	"${PSQL[@]}" -d "$1" -At -v role=$ROLE -v crm_role=$CRM_ROLE 2>&1 <<'SQL'
SELECT now() AS started \gset
SELECT 'clients: ' || count(*) FROM crm.client;
-- row-level security: the agent of Oddział Kraków sees its clients only,
-- may add one there (with a fresh id), and not elsewhere
SET ROLE :"role";
SELECT 'agent sees: ' || string_agg(id::text, ',' ORDER BY id) FROM crm.client;
WITH n AS (INSERT INTO crm.client (kind, first_name, last_name, unit_id) VALUES ('person', 'Ewa', 'Nowak', 3) RETURNING id)
SELECT 'agent adds client ' || id FROM n;
DO $$ BEGIN
    INSERT INTO crm.client (kind, first_name, last_name, unit_id) VALUES ('person', 'Jan', 'Obcy', 5);
    RAISE EXCEPTION 'the agent added a client to a unit it does not work in';
EXCEPTION WHEN insufficient_privilege THEN
END $$;
SELECT 'agent refused outside its units';
RESET ROLE;
-- crm's own: a crm agent of Oddział Kraków sees the same clients
SET ROLE :"crm_role";
SELECT 'crm agent sees: ' || string_agg(id::text, ',' ORDER BY id) FROM crm.client WHERE id < 100;
RESET ROLE;
-- a new client gets an id above every taken one
WITH n AS (INSERT INTO crm.client (last_name) VALUES ('Nowy') RETURNING id)
SELECT 'new client id ' || id || ' fresh ' || (id > (SELECT max(id) FROM crm.client)) FROM n;
-- fuzzy duplicates
SELECT 'candidates of 1: ' || string_agg(candidate_id || ' ' || round(score::numeric, 3), ', ' ORDER BY candidate_id)
FROM crm.duplicate_candidates(1);
-- the merge made before the dump (Tomek into Tomasz) can be undone; the
-- rows it brings back (a client, a folded contact) get the defaults of the
-- columns added since
SELECT 'undo dumped merge: ' || crm.unmerge(id) FROM crm.merge_log WHERE target_id = 11 AND undone_at IS NULL;
SELECT 'client 12 back with interactions: ' || count(*) FROM crm.interaction WHERE client_id = 12;
-- a merge now, and its undo, bring client 4 back as it was (the DBA's
-- column too)
CREATE TEMP TABLE before AS SELECT c::text AS row FROM crm.client c WHERE id = 4;
SELECT crm.merge_client(4, 3) AS merge_id \gset
SELECT 'merge ' || :merge_id || ', client 4 after it: ' || count(*) FROM crm.client WHERE id = 4;
SELECT 'undo: ' || crm.unmerge(:merge_id);
SELECT 'client 4 as before: ' || ((SELECT c::text FROM crm.client c WHERE id = 4) = row) FROM before;
-- the DBA's trigger recorded the changes
SELECT 'audited since start: ' || string_agg(op, ',' ORDER BY id) FROM dba.client_change WHERE changed_at >= :'started';
SQL
}
behaviour $SRC >"$WORK/behaviour_src.txt" || true
has "RLS filters for the agent" "$WORK/behaviour_src.txt" '^agent sees: 1,2,5,7,8,9,11$'
has "agent adds a client in its unit" "$WORK/behaviour_src.txt" '^agent adds client [0-9]+$'
has "crm's RLS by structure" "$WORK/behaviour_src.txt" '^crm agent sees: 1,2,5,7,8,9,11,'
has "RLS refuses the agent elsewhere" "$WORK/behaviour_src.txt" '^agent refused outside its units$'
has "fresh id" "$WORK/behaviour_src.txt" '^new client id [0-9]+ fresh true$'
has "duplicate candidates" "$WORK/behaviour_src.txt" '^candidates of 1: 2 '
has "undo of the dumped merge" "$WORK/behaviour_src.txt" '^client 12 back with interactions: [1-9]'
has "merge" "$WORK/behaviour_src.txt" '^merge [0-9]+, client 4 after it: 0$'
has "merge undone" "$WORK/behaviour_src.txt" '^client 4 as before: true$'
has "DBA's trigger fires" "$WORK/behaviour_src.txt" '^audited since start: .*DELETE'
for db in $A $B; do
	behaviour $db >"$WORK/behaviour_$db.txt" || true
	same "the product on $db" "$WORK/behaviour_src.txt" "$WORK/behaviour_$db.txt"
done

printf 'dump_restore: %s tables, %s sequences; restore %.1f s serial, %.1f s with -j 2\n' \
	"$(grep -c '^WARNING:  table' "$WORK/data_src.txt")" "$(grep -c '^WARNING:  sequence' "$WORK/data_src.txt")" \
	"$(awk "BEGIN { print $t1 - $t0 }")" "$(awk "BEGIN { print $t2 - $t1 }")"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
