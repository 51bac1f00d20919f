#!/usr/bin/env bash
# test/replication.sh: logical replication of crm's data model to a read
# replica (doc/schema.md, "Logical replication and read replicas").
#
# In the cluster of PGHOST/PGPORT (wal_level=logical; tools/dev.sh test
# starts one), two databases:
#   publisher   CREATE EXTENSION crm; crm.install_data_model(); the sample
#               base (tools/sample.sql, which also makes the user table
#               public.client_note); a publication FOR TABLES IN SCHEMA crm
#               and TABLE public.client_note;
#   subscriber  CREATE EXTENSION crm; crm.install_data_model(); the user
#               table; a subscription to the publication (its slot made
#               beforehand with pg_create_logical_replication_slot(): in
#               one cluster CREATE SUBSCRIPTION cannot make its own).
# The sample arrives by the initial copy; then, streamed, the publisher
# adds clients with contacts and contact history, updates, merges, undoes
# a merge, hides, anonymizes and deletes.  Checks:
#   - every published table is in sync (the initial copy ends with every
#     table 'r'), and every table of schema crm is published;
#   - after the changes, every published table has the same rows (count
#     and digest) on both sides: the model's triggers do not fire when the
#     subscriber applies changes (session_replication_role = replica), so
#     what they derived (normalized contacts, default flags, last contact,
#     journals, duplicate pairs) arrives as data;
#   - crm.data_model is each database's own record: published with the
#     schema, its changes are not applied by a subscriber (the product's
#     trigger crm_internal.data_model_local), so both keep their own row and
#     the same version;
#   - the subscriber serves BI: crm.client_report, crm.client_overview,
#     crm.duplicate_candidates() and crm.client_search() give what they
#     give on the publisher;
#   - identity sequences are not replicated: after a failover (subscription
#     disabled, the subscriber written to) a new client collides with a
#     replicated id until the sequences are moved past max(id), then not.
# Prints "N passed, M failed"; exits non-zero when a check failed (a failed
# step of the set-up stops it at once).  Subscription, slot and databases
# are removed on exit, whatever happened.  REPL_TIMEOUT (default 60)
# bounds each wait in seconds; REPL_SHOW=1 prints what was compared.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PG_BINDIR:+$PG_BINDIR/}
PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1)
WORK=$(mktemp -d)
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PUB=crm_repl_pub SUB=crm_repl_sub
PUBLICATION=crm_repl SUBSCRIPTION=crm_repl_sub SLOT=crm_repl_slot
TIMEOUT=${REPL_TIMEOUT:-60}
T0=$(date +%s.%N)

cleanup() {
	# a subscription's slot lives in the publisher: detach it first, so
	# that DROP SUBSCRIPTION does not try to reach it
	"${PSQL[@]}" -d $SUB -c "ALTER SUBSCRIPTION $SUBSCRIPTION DISABLE" \
		-c "ALTER SUBSCRIPTION $SUBSCRIPTION SET (slot_name = NONE)" \
		-c "DROP SUBSCRIPTION $SUBSCRIPTION" >/dev/null 2>&1 || true
	# the walsender of a disabled subscription takes a moment to go
	local i
	for i in $(seq 1 100); do
		"${PSQL[@]}" -d postgres -At -c \
			"SELECT count(*) FROM pg_replication_slots WHERE database = '$PUB' AND active" \
			2>/dev/null | grep -qx 0 && break
		sleep 0.1
	done
	# the subscription's slot, and any slot a table's initial copy left
	# behind (DROP DATABASE refuses while its database has one)
	"${PSQL[@]}" -d postgres -c \
		"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '$PUB' AND NOT active" \
		>/dev/null 2>&1 || true
	"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $SUB" -c "DROP DATABASE IF EXISTS $PUB" \
		>/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

passed=0 failed=0
summary() { echo "$passed passed, $failed failed"; }
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); printf 'FAILED: %s\n' "$*" >&2; }
# same NAME FILE_PUB FILE_SUB: the two files are identical (else the diff)
same() {
	if diff -u "$2" "$3" >"$WORK/diff" 2>&1; then pass; else fail "$1"; head -60 "$WORK/diff" >&2; fi
}
# has NAME FILE REGEX: a line of FILE matches
has() {
	if grep -Eq -- "$3" "$2"; then pass; else
		fail "$1 (no line matching '$3' in $(basename "$2"):)"; head -40 "$2" | sed 's/^/    /' >&2; fi
}
# the server's log, when the test knows where it is (tools/dev.sh says)
server_log() {
	if [ -n "${SANDBOX:-}" ] && [ -r "$SANDBOX/server.log" ]; then
		echo "server log (last lines):" >&2; tail -30 "$SANDBOX/server.log" | sed 's/^/    /' >&2
	fi
}
# wait_for NAME DB SQL: poll until SQL (one boolean) is true, at most TIMEOUT s
wait_for() {
	local deadline=$(($(date +%s) + TIMEOUT))
	while :; do
		if [ "$("${PSQL[@]}" -d "$2" -At -c "$3" 2>"$WORK/wait.err")" = t ]; then pass; return 0; fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			fail "$1: not within ${TIMEOUT} s"; cat "$WORK/wait.err" >&2; server_log; return 1
		fi
		sleep 0.1
	done
}

"${PSQL[@]}" -d postgres -At -c 'SHOW wal_level' >"$WORK/wal_level.txt"
if [ "$(cat "$WORK/wal_level.txt")" != logical ]; then
	fail "wal_level is $(cat "$WORK/wal_level.txt"), not logical (start the server with -c wal_level=logical)"
	summary; exit 1
fi
pass

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $SUB" -c "DROP DATABASE IF EXISTS $PUB" \
	-c "CREATE DATABASE $PUB TEMPLATE template0" -c "CREATE DATABASE $SUB TEMPLATE template0"

# the publisher: crm, its model, the sample base (copied at subscription)
"${PSQL[@]}" -d $PUB -c 'CREATE EXTENSION crm' -c 'SELECT crm.install_data_model()' -f tools/sample.sql >/dev/null
# crm's assignments (crm.user_unit and the rest) are published too
"${PSQL[@]}" -d $PUB -c "SELECT crm.user_unit(current_user::text, 2), crm.user_campaign(current_user::text, 1),
                               crm.grant_agent_permission(current_user::text, 'tickets_unassigned')" >/dev/null
"${PSQL[@]}" -d $PUB -c "CREATE PUBLICATION $PUBLICATION FOR TABLES IN SCHEMA crm, TABLE public.client_note" \
	-c "SELECT pg_create_logical_replication_slot('$SLOT', 'pgoutput')" >/dev/null

# the subscriber: the same extension and model, and the user's table as
# the publisher has it (DDL is not replicated)
"${PSQL[@]}" -d $SUB -c 'CREATE EXTENSION crm' -c 'SELECT crm.install_data_model()' >/dev/null
"${BIN}pg_dump" --schema-only -t public.client_note -d $PUB | "${PSQL[@]}" -d $SUB >/dev/null
"${PSQL[@]}" -d $SUB -c "CREATE SUBSCRIPTION $SUBSCRIPTION
    CONNECTION 'host=$PGHOST port=$PGPORT user=${PGUSER:-postgres} dbname=$PUB'
    PUBLICATION $PUBLICATION WITH (create_slot = false, slot_name = '$SLOT')" >/dev/null

# every table of schema crm is published (a table left out would silently
# stay behind on the replica)
"${PSQL[@]}" -d $PUB -At >"$WORK/unpublished.txt" <<SQL
SELECT 'unpublished: ' || c.oid::regclass FROM pg_class c
WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind IN ('r', 'p')
  AND c.oid::regclass::text NOT IN (SELECT format('%I.%I', schemaname, tablename)
                                    FROM pg_publication_tables WHERE pubname = '$PUBLICATION');
SELECT 'published: ' || count(*) FROM pg_publication_tables WHERE pubname = '$PUBLICATION';
SQL
if grep '^unpublished' "$WORK/unpublished.txt" >&2; then fail "tables of crm left out of the publication"; else pass; fi
NTABLES=$(sed -n 's/^published: //p' "$WORK/unpublished.txt")

# the initial copy: every published table reaches 'r' (ready)
t_sub=$(date +%s.%N)
wait_for "initial sync of $NTABLES tables" $SUB \
	"SELECT count(*) = $NTABLES AND bool_and(r.srsubstate = 'r') FROM pg_subscription_rel r
	 JOIN pg_subscription s ON s.oid = r.srsubid WHERE s.subname = '$SUBSCRIPTION'" || { summary; exit 1; }
t_sync=$(date +%s.%N)

# streamed changes: what agents and the back office do in a day
"${PSQL[@]}" -d $PUB >/dev/null <<'SQL'
SET search_path = "$user", public, crm;
-- new clients with their phones and e-mails, and a call
INSERT INTO crm.client (id, kind, first_name, last_name, pesel, city, unit_id, source) VALUES
    (101, 'person', 'Anna', 'Nowicka', '85020312340', 'Kraków', 3, 'call-centre'),
    (102, 'person', 'Jan', 'Próbny', NULL, 'Poznań', 5, 'web-form');
INSERT INTO crm.contact (client_id, kind, value, label) VALUES
    (101, 'phone', '605 100 200', 'mobile'), (101, 'email', 'Anna.Nowicka@Example.PL', NULL),
    (101, 'phone', '12 300 40 50', 'home'), (102, 'phone', '+48 606 700 800', NULL);
INSERT INTO crm.interaction (client_id, channel, direction, agent, phone, summary)
VALUES (101, 'call', 'inbound', 'agent_anna', '+48605100200', 'pierwsza rozmowa');
INSERT INTO public.client_note VALUES (3, 101, 'prosi o ofertę OC');
-- an update: a move, and another default phone
UPDATE crm.client SET city = 'Wieliczka', postal_code = '32-020' WHERE id = 101;
UPDATE crm.contact SET is_default = true WHERE client_id = 101 AND value = '+48123004050';
-- a merge (Piotr Zielinski into Piotr Zieliński), and the undo of the
-- sample's merge (Tomek out of Tomasz again)
SELECT crm.merge_client(4, 3);
SELECT crm.unmerge(id) FROM crm.merge_log WHERE target_id = 11 AND undone_at IS NULL;
-- a hide, an anonymization
SELECT crm.hide_client(5, 'wycofała zgodę');
SELECT crm.anonymize(6, crm.anonymization_code(6));
-- deletes: a contact, a note, a client with its contacts
DELETE FROM crm.contact WHERE client_id = 101 AND kind = 'email';
DELETE FROM public.client_note WHERE id = 3;
SELECT crm.delete_client(102);
SQL
TARGET=$("${PSQL[@]}" -d $PUB -At -c 'SELECT pg_current_wal_lsn()')
# caught up: the subscriber has applied the publisher's WAL up to TARGET
# (what it reports back; pg_stat_replication on the publisher shows it)
wait_for "subscriber caught up with $TARGET" $PUB \
	"SELECT coalesce(bool_and(replay_lsn >= '$TARGET'), false) FROM pg_stat_replication
	 WHERE application_name = '$SUBSCRIPTION'" || true
t_caught=$(date +%s.%N)

# the streamed changes reached the publisher's tables (else comparing
# would prove little)
"${PSQL[@]}" -d $PUB -At >"$WORK/changes.txt" <<'SQL'
SELECT 'client 101 contacts: ' || string_agg(value || CASE WHEN is_default THEN '*' ELSE '' END, ',' ORDER BY value)
FROM crm.contact WHERE client_id = 101;
SELECT 'client 4 merged: ' || NOT EXISTS (SELECT FROM crm.client WHERE id = 4);
SELECT 'client 12 back: ' || EXISTS (SELECT FROM crm.client WHERE id = 12);
SELECT 'client 5 hidden: ' || (hidden_at IS NOT NULL) FROM crm.client WHERE id = 5;
SELECT 'client 6 anonymized: ' || (anonymized_at IS NOT NULL AND pesel IS NULL AND last_name IS NULL) FROM crm.client WHERE id = 6;
SELECT 'client 101 last contact: ' || (last_contact_at IS NOT NULL) FROM crm.client WHERE id = 101;
SELECT 'client 102 deleted: ' || NOT EXISTS (SELECT FROM crm.client WHERE id = 102);
SQL
has "streamed: inserts with contacts, an update" "$WORK/changes.txt" '^client 101 contacts: \+48123004050\*,\+48605100200$'
has "streamed: a merge" "$WORK/changes.txt" '^client 4 merged: true$'
has "streamed: an unmerge" "$WORK/changes.txt" '^client 12 back: true$'
has "streamed: a hide" "$WORK/changes.txt" '^client 5 hidden: true$'
has "streamed: an anonymization" "$WORK/changes.txt" '^client 6 anonymized: true$'
has "streamed: a call sets the client's last contact (a trigger)" "$WORK/changes.txt" '^client 101 last contact: true$'
has "streamed: a delete" "$WORK/changes.txt" '^client 102 deleted: true$'

# every published table: row count and a digest of its rows in a stable
# order; crm.data_model apart (below)
TABLES=$("${PSQL[@]}" -d $PUB -At -c "SELECT string_agg(format('%I.%I', schemaname, tablename), ' ' ORDER BY 1)
	FROM pg_publication_tables WHERE pubname = '$PUBLICATION' AND (schemaname, tablename) <> ('crm', 'data_model')")
snapshot() {
	local t
	for t in $TABLES; do
		printf "SELECT '%s rows ' || count(*) || ' digest ' || md5(coalesce(string_agg(t::text, E'\\\\n' ORDER BY t::text), '')) FROM %s t;\n" "$t" "$t"
	done | "${PSQL[@]}" -d "$1" -At 2>&1
}
snapshot $PUB >"$WORK/rows_pub.txt" || true
snapshot $SUB >"$WORK/rows_sub.txt" || true
if grep -v ' crm_internal\.' "$WORK/rows_pub.txt" | grep ' rows 0 ' >"$WORK/empty.txt"; then
	fail "the publisher leaves published tables empty:"; cat "$WORK/empty.txt" >&2
else pass; fi
same "rows of every published table" "$WORK/rows_pub.txt" "$WORK/rows_sub.txt"

# crm.data_model: each database's record of its own model (when and by
# whom installed; the version its tables follow).  It is published with
# the schema, but a subscriber keeps its own row: the initial copy would
# otherwise collide with it, and a version streamed ahead of the
# subscriber's own upgrade would make ALTER EXTENSION crm UPDATE there skip
# the model's step.  Its change on the publisher (as an upgrade makes it)
# does not reach the subscriber, and the two versions agree.
"${PSQL[@]}" -d $PUB -c 'UPDATE crm.data_model SET migrated_at = now()' >/dev/null
TARGET=$("${PSQL[@]}" -d $PUB -At -c 'SELECT pg_current_wal_lsn()')
wait_for "subscriber caught up with $TARGET" $PUB \
	"SELECT coalesce(bool_and(replay_lsn >= '$TARGET'), false) FROM pg_stat_replication
	 WHERE application_name = '$SUBSCRIPTION'" || true
model() {
	"${PSQL[@]}" -d "$1" -At -c "SELECT version, installed_at, migrated_at IS NOT NULL FROM crm.data_model" 2>&1
}
model $PUB >"$WORK/model_pub.txt" || true
model $SUB >"$WORK/model_sub.txt" || true
if [ "$(cut -d'|' -f1 "$WORK/model_pub.txt")" = "$(cut -d'|' -f1 "$WORK/model_sub.txt")" ] &&
	[ -n "$(cut -d'|' -f1 "$WORK/model_sub.txt")" ]; then pass; else
	fail "crm.data_model: the same version on both sides"; cat "$WORK/model_pub.txt" "$WORK/model_sub.txt" >&2; fi
if [ "$(cut -d'|' -f2 "$WORK/model_pub.txt")" != "$(cut -d'|' -f2 "$WORK/model_sub.txt")" ]; then pass; else
	fail "crm.data_model: the subscriber keeps its own row"; cat "$WORK/model_pub.txt" "$WORK/model_sub.txt" >&2; fi
has "crm.data_model: the publisher's change is not applied on the subscriber" "$WORK/model_sub.txt" '\|f$'

# the subscriber as a read replica for BI: the report view, the overview,
# a duplicate search, a search
bi() {
	"${PSQL[@]}" -d "$1" -At 2>&1 <<'SQL'
SET search_path = "$user", public, crm;
SELECT 'client_report rows ' || count(*) || ' digest ' || md5(coalesce(string_agg(r::text, E'\n' ORDER BY r::text), ''))
FROM crm.client_report r;
SELECT 'client_overview rows ' || count(*) || ' digest ' || md5(coalesce(string_agg(o::text, E'\n' ORDER BY o::text), ''))
FROM crm.client_overview o;
SELECT 'candidates of 1: ' || string_agg(candidate_id || ' ' || round(score::numeric, 3), ', ' ORDER BY candidate_id)
FROM crm.duplicate_candidates(1);
SELECT 'search by phone: ' || string_agg(id::text, ',' ORDER BY id) FROM crm.client_search('{"phone": "605-100-200"}');
SQL
}
bi $PUB >"$WORK/bi_pub.txt" || true
bi $SUB >"$WORK/bi_sub.txt" || true
has "crm.client_report on the publisher" "$WORK/bi_pub.txt" '^client_report rows [1-9]'
has "crm.client_search() on the publisher" "$WORK/bi_pub.txt" '^search by phone: 101$'
same "BI queries on the subscriber" "$WORK/bi_pub.txt" "$WORK/bi_sub.txt"

# failover: the subscription stops and the subscriber takes writes.  The
# identity sequences were not replicated (still at their start there), so
# a new client takes an id a replicated client has; moving every identity
# sequence past its column's max(id) fixes it.
"${PSQL[@]}" -d $SUB -c "ALTER SUBSCRIPTION $SUBSCRIPTION DISABLE" >/dev/null
"${PSQL[@]}" -d $SUB -At >"$WORK/failover.txt" 2>&1 <<'SQL' || true
DO $$ BEGIN
    INSERT INTO crm.client (last_name) VALUES ('Po awarii');
    RAISE WARNING 'no collision';
EXCEPTION WHEN unique_violation THEN
    RAISE WARNING 'collision: %', SQLERRM;
END $$;
-- the fix, as doc/schema.md gives it
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT a.attrelid::regclass AS rel, a.attname
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             WHERE c.relnamespace = 'crm'::regnamespace AND a.attidentity <> '' AND NOT a.attisdropped LOOP
        EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), coalesce(max(%I), 0) + 1, false) FROM %s',
                       r.rel::text, r.attname, r.attname, r.rel);
    END LOOP;
END $$;
WITH n AS (INSERT INTO crm.client (last_name) VALUES ('Po awarii') RETURNING id)
SELECT 'after setval: new client ' || id || ' fresh ' || (id > (SELECT max(id) FROM crm.client)) FROM n;
SQL
has "failover: an identity sequence not replicated collides" "$WORK/failover.txt" 'collision: duplicate key value violates unique constraint "client_pkey"'
has "failover: after setval from max(id), new ids are fresh" "$WORK/failover.txt" '^after setval: new client [0-9]+ fresh true$'

printf 'replication: %s tables; initial copy %.1f s, streamed changes applied %.1f s after, whole test %.1f s\n' \
	"$NTABLES" "$(awk "BEGIN { print $t_sync - $t_sub }")" "$(awk "BEGIN { print $t_caught - $t_sync }")" \
	"$(awk "BEGIN { print $(date +%s.%N) - $T0 }")"
[ -z "${REPL_SHOW:-}" ] || head -100 "$WORK"/rows_pub.txt "$WORK"/model_*.txt "$WORK"/bi_*.txt "$WORK"/failover.txt "$WORK"/changes.txt
summary
[ "$failed" = 0 ]
