#!/usr/bin/env bash
# test/upgrade.sh: an upgraded crm equals a fresh install of the version it
# was upgraded to (doc/upgrades.md).
#
# The check, for every released version V frozen in releases/crm--V.sql:
#   X  CREATE EXTENSION crm VERSION 'V'; install_data_model(); population;
#      ALTER EXTENSION crm UPDATE TO the current version
#   Z  CREATE EXTENSION crm VERSION 'V'; ALTER EXTENSION crm UPDATE TO the
#      current version; install_data_model(); population
#   Y  CREATE EXTENSION crm (the current version); install_data_model();
#      population
# X and Z must equal Y: the extension's members with their definitions,
# the extension's own tables, the data model (pg_dump --schema-only of
# schema crm), no model relation left an extension member, the model's
# version equal to the extension's, and every table's rows and sequence
# (test/upgrade_snapshot.sql).  The population is releases/sample--V.sql
# if it exists (the sample that worked on V's model), else tools/sample.sql.
#
# Self-test: while there is no older release the check would pass by
# having nothing to do, so it also runs on a synthetic next version N
# (CURRENT+harness: a new function, a new column, index, table and model
# function) written into the server's extension directory for the run,
# checked through the same code as the releases: a correct upgrade script
# must compare equal; one without the model step, one without the new
# function, one changing the model by hand (not through data_model_step),
# and a released script changed after its release must be reported.  And
# a dump of the current version restored under N must be refused by crm's
# functions (55000) until crm.install_data_model() migrates it, and then
# equal a fresh N.
#
# Runs against the server in PGHOST/PGPORT (tools/dev.sh test starts one
# and holds the lock that makes writing into its extension directory safe).
# Prints "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PG_BINDIR:+$PG_BINDIR/}
PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1)
PG_CONFIG=${PG_CONFIG:-${BIN}pg_config}
EXTDIR=$("$PG_CONFIG" --sharedir)/extension
CURRENT=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" crm.control)
NEXT="$CURRENT+harness"
SYNTHETIC=("$EXTDIR/crm--$NEXT.sql" "$EXTDIR/crm--$CURRENT--$NEXT.sql")
DBS=(crm_up_fresh crm_up_upgraded crm_up_upgraded_empty crm_up_dumped crm_up_restored)
SUDO=()
[ -w "$EXTDIR" ] || SUDO=(sudo)
WORK=$(mktemp -d)
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

cleanup() {
	local rc=$?
	"${SUDO[@]}" rm -f "${SYNTHETIC[@]}"
	for db in "${DBS[@]}"; do
		"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db" || true
	done
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
# a run killed before its trap leaves the synthetic files behind
"${SUDO[@]}" rm -f "${SYNTHETIC[@]}"

# timestamps taken from here on are "now" in the snapshots
SINCE=$("${PSQL[@]}" -d postgres -Atc 'SELECT now()')
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAILED: $*"; }

newdb() {
	"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
}

population() {
	if [ -f "releases/sample--$1.sql" ]; then echo "releases/sample--$1.sql"; else echo tools/sample.sql; fi
}

# build DB HOW FROM TO POPULATION: a database at version TO, made HOW.
# Every database uses crm's roles and row-level security (made before the
# upgrade where there is one): an upgrade must grant and protect the new
# tables as a fresh install does.
# A BI role granted a view of the model, as a DBA would: an upgrade that
# makes the view again must keep the grant.
SECURED=(-c 'SELECT crm.create_roles()' -c 'SELECT crm.enable_row_security()'
	-c 'DO $$ BEGIN CREATE ROLE crm_upgrade_bi NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$'
	-c 'GRANT SELECT ON crm.client_overview, crm.contact_history TO crm_upgrade_bi')
# An older release's sample may lack rows a newer model needs first (1.0.1:
# the employees its owners name): test/upgrade_prelude/SAMPLE holds them,
# as the upgrade's data migration makes them, and is loaded before the
# sample into a model that is already at the newer version.
prelude() {
	local file
	file=test/upgrade_prelude/$(basename "$1")
	if [ -f "$file" ]; then echo -f "$file"; fi
}
build() {
	local db=$1 how=$2 from=$3 to=$4 pop=$5
	newdb "$db"
	case $how in
		fresh)
			"${PSQL[@]}" -d "$db" -c "CREATE EXTENSION crm VERSION '$to'" \
				-c 'SELECT crm.install_data_model()' "${SECURED[@]}" $(prelude "$pop") -f "$pop" ;;
		upgraded)
			"${PSQL[@]}" -d "$db" -c "CREATE EXTENSION crm VERSION '$from'" \
				-c 'SELECT crm.install_data_model()' "${SECURED[@]}" -f "$pop" \
				-c "ALTER EXTENSION crm UPDATE TO '$to'" ;;
		upgraded_empty)
			"${PSQL[@]}" -d "$db" -c "CREATE EXTENSION crm VERSION '$from'" \
				-c "ALTER EXTENSION crm UPDATE TO '$to'" \
				-c 'SELECT crm.install_data_model()' "${SECURED[@]}" $(prelude "$pop") -f "$pop" ;;
	esac >/dev/null
}

# snapshot DB OUT: OUT.catalog (test/upgrade_snapshot.sql), OUT.model (pg_dump)
snapshot() {
	"${PSQL[@]}" -d "$1" -At -v since="$SINCE" -f test/upgrade_snapshot.sql >"$2.catalog"
	# the schema-only dump of schema crm.  Only \restrict and \unrestrict
	# are left out: their key is random in every dump (pg_dump 15.14 on).
	# Nothing else: both databases are on one server and owned by one role,
	# so even the "Owner:" comments and ALTER ... OWNER lines must agree.
	"${BIN}pg_dump" --schema-only -n crm -d "$1" | grep -v '^\\\(un\)\?restrict ' >"$2.model"
}

# differ LABEL EXPECTED ACTUAL: 0 when the snapshots agree and show no
# PROBLEM; else the differences, "-" the expected (fresh) side
differ() {
	local label=$1 want=$2 got=$3 status=0 part
	for part in catalog model; do
		if ! diff -u --label "fresh $CURRENT_TARGET ($part)" --label "$label ($part)" \
			"$want.$part" "$got.$part" >"$got.$part.diff"; then
			echo "  $label: the $part differs from a fresh install:"
			head -n 60 "$got.$part.diff" | sed 's/^/    /'
			[ "$(wc -l <"$got.$part.diff")" -le 60 ] || echo "    ... ($(wc -l <"$got.$part.diff") lines in all)"
			status=1
		fi
	done
	if grep -A1 '^== PROBLEM' "$got.catalog" "$want.catalog" | sed 's/^/  /'; then status=1; fi
	return $status
}

# check FROM TO POPULATION: X and Z (above) against Y; 0 when both agree
check() {
	local from=$1 to=$2 pop=$3 status=0
	CURRENT_TARGET=$to
	local fresh
	fresh="$WORK/fresh-$to-$(basename "$pop" .sql)"
	if [ ! -f "$fresh.catalog" ]; then
		build crm_up_fresh fresh "$to" "$to" "$pop"
		snapshot crm_up_fresh "$fresh"
	fi
	build crm_up_upgraded upgraded "$from" "$to" "$pop"
	snapshot crm_up_upgraded "$WORK/upgraded"
	differ "upgraded $from -> $to" "$fresh" "$WORK/upgraded" || status=1
	build crm_up_upgraded_empty upgraded_empty "$from" "$to" "$pop"
	snapshot crm_up_upgraded_empty "$WORK/upgraded_empty"
	differ "upgraded $from -> $to, then install_data_model()" "$fresh" "$WORK/upgraded_empty" || status=1
	return $status
}

# releases DIR TARGET BUILT: every released script DIR/crm--V.sql: the one of
# TARGET must be BUILT (TARGET's script as built now: a release is frozen),
# the others must upgrade to TARGET and then equal a fresh TARGET.  0 when
# all do; prints what it checked.
releases() {
	local dir=$1 target=$2 built=$3 status=0 script v path
	for script in "$dir"/crm--*.sql; do
		[ -e "$script" ] || continue
		v=${script#"$dir"/crm--}
		v=${v%.sql}
		if [ "$v" = "$target" ]; then
			if cmp -s "$script" "$built"; then echo "  crm--$v.sql is the frozen release"
			else echo "  crm--$v.sql as built now differs from the released $script: ship changes in a new version"; status=1
			fi
			continue
		fi
		path=$("${PSQL[@]}" -d postgres -Atc "SELECT path FROM pg_extension_update_paths('crm') WHERE source = '$v' AND target = '$target'")
		if [ -z "$path" ]; then
			echo "  no upgrade path from $v to $target"; status=1
		elif check "$v" "$target" "$(population "$v")"; then
			echo "  upgrade $v -> $target ($path) equals a fresh install"
		else
			echo "  upgrade $v -> $target ($path) differs from a fresh install"; status=1
		fi
	done
	return $status
}

echo "== upgrades from the released versions (releases/) to $CURRENT"
if ! ls releases/crm--*.sql >/dev/null 2>&1; then
	echo "(no release in releases/ yet: nothing to upgrade from)"
elif releases releases "$CURRENT" "crm--$CURRENT.sql"; then
	pass "every release upgrades to $CURRENT as a fresh install"
else
	fail "an upgrade to $CURRENT (above)"
fi

echo "== self-test on a synthetic version $NEXT"
# The model change of N: a column and an index on a model table, a new
# table (with an identity sequence), a new model function.  Registered for
# fresh installs as a model part, and as the step from CURRENT for
# upgrades and restored dumps, as a release would (doc/upgrades.md).  The
# column is on crm.unit, not crm.client: the merge journal keeps JSON
# copies of client rows written before the upgrade, without a new client
# column, which the check rightly reports (doc/upgrades.md says what a
# step adding one does about them).
MODEL_CHANGE='
ALTER TABLE crm.unit ADD COLUMN harness_tier text NOT NULL DEFAULT '\''standard'\'';
CREATE INDEX unit_harness_tier ON crm.unit (harness_tier);
CREATE TABLE crm.harness_note (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id bigint NOT NULL REFERENCES crm.client (id),
    note      text NOT NULL
);
CREATE FUNCTION crm.harness_notes(client bigint) RETURNS bigint LANGUAGE sql STABLE
    AS $f$SELECT count(*) FROM crm.harness_note n WHERE n.client_id = client$f$;
'
LOGIC_CHANGE="CREATE FUNCTION crm.harness_answer() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 42';"
STEP="SELECT crm_internal.data_model_step('$CURRENT', '$NEXT', \$step\$$MODEL_CHANGE\$step\$);"

{
	cat "$EXTDIR/crm--$CURRENT.sql"
	echo "$LOGIC_CHANGE"
	echo "SELECT crm_internal.data_model_part('harness', \$model\$$MODEL_CHANGE\$model\$);"
	echo "$STEP"
} >"$WORK/full.sql"
"${SUDO[@]}" cp "$WORK/full.sql" "$EXTDIR/crm--$NEXT.sql"

# the self-test's releases folder: CURRENT released, and NEXT
mkdir "$WORK/releases"
cp "$EXTDIR/crm--$CURRENT.sql" "$WORK/releases/"
cp "$WORK/full.sql" "$WORK/releases/crm--$NEXT.sql"

# upgrade_script CONTENTS...: the upgrade script CURRENT -> NEXT
upgrade_script() {
	printf '%s\n' "$@" >"$WORK/upgrade.sql"
	"${SUDO[@]}" cp "$WORK/upgrade.sql" "$EXTDIR/crm--$CURRENT--$NEXT.sql"
}
# self_check LABEL EXPECTED_STATUS MUST_MENTION CONTENTS...
self_check() {
	local label=$1 expected=$2 mention=$3 status=0
	shift 3
	upgrade_script "$@"
	releases "$WORK/releases" "$NEXT" "$WORK/full.sql" >"$WORK/report" 2>&1 || status=$?
	if [ $status != "$expected" ]; then
		cat "$WORK/report"
		fail "$label: the harness exited $status, expected $expected"
	elif [ -n "$mention" ] && ! grep -q -- "$mention" "$WORK/report"; then
		cat "$WORK/report"
		fail "$label: the report does not mention $mention"
	else
		pass "$label"
		[ $status = 0 ] || head -n 12 "$WORK/report" | sed 's/^/    | /'
	fi
}
self_check "correct upgrade script: equal to a fresh install" 0 "" "$LOGIC_CHANGE" "$STEP"
self_check "upgrade script without the model step: reported" 1 "harness_tier" "$LOGIC_CHANGE"
self_check "upgrade script without the new function: reported" 1 "harness_answer" "$STEP"
# the model changed by hand, not through data_model_step: the new table,
# its sequence and the model function stay extension members (pg_dump
# would leave them out) and the step is not registered for restored dumps
self_check "upgrade script changing the model without data_model_step: reported" 1 \
	"data model relations that are extension members" \
	"$LOGIC_CHANGE" "$MODEL_CHANGE" "UPDATE crm.data_model SET version = '$NEXT';"
# a released script that changed after its release
echo "SELECT 1;" >>"$WORK/releases/crm--$NEXT.sql"
self_check "a released script that changed: reported" 1 "differs from the released" "$LOGIC_CHANGE" "$STEP"

# A dump of CURRENT restored under NEXT.  pg_dump writes CREATE SCHEMA crm
# and CREATE EXTENSION crm without a version: the restoring server's
# default.  crm.control's default is CURRENT here (it is shared by every
# run on this machine), so the target database gets crm at NEXT first, as
# those two entries would on a server whose default is NEXT, and the rest
# of the dump is restored (pg_restore -L without them).
upgrade_script "$LOGIC_CHANGE" "$STEP"
# (the population the self-checks above used for CURRENT: its release's
# sample once CURRENT is released, so that their fresh NEXT is the same)
DUMP_POP=$(population "$CURRENT")
newdb crm_up_dumped
"${PSQL[@]}" -d crm_up_dumped -c 'CREATE EXTENSION crm' -c 'SELECT crm.install_data_model()' "${SECURED[@]}" -f "$DUMP_POP" >/dev/null
"${BIN}pg_dump" -Fc -d crm_up_dumped -f "$WORK/dump"
"${BIN}pg_restore" -f - "$WORK/dump" | grep -x 'CREATE EXTENSION IF NOT EXISTS crm WITH SCHEMA crm;' >/dev/null ||
	fail "pg_dump no longer writes CREATE EXTENSION crm without a version: revisit this test"
"${BIN}pg_restore" -l "$WORK/dump" | grep -vE '^[0-9]+; [0-9]+ [0-9]+ (SCHEMA - crm|EXTENSION - crm|COMMENT - EXTENSION crm) ' >"$WORK/dump.list"
[ "$(("$("${BIN}pg_restore" -l "$WORK/dump" | grep -c '^[0-9]')" - "$(grep -c '^[0-9]' "$WORK/dump.list")"))" = 3 ] ||
	fail "the dump's list of entries has changed: revisit this test"
newdb crm_up_restored
"${PSQL[@]}" -d crm_up_restored -c "CREATE EXTENSION crm VERSION '$NEXT'"
"${BIN}pg_restore" --exit-on-error -L "$WORK/dump.list" -d crm_up_restored "$WORK/dump"
if "${PSQL[@]}" -d crm_up_restored -v VERBOSITY=verbose -c "SELECT count(*) FROM crm.client_search('{}')" >"$WORK/refused" 2>&1; then
	fail "crm.client_search() ran on a model of $CURRENT under crm $NEXT"
elif grep -q "ERROR:  55000: crm's data model is at version $CURRENT, the extension at $NEXT" "$WORK/refused"; then
	pass "a restored $CURRENT model is refused under $NEXT until migrated (55000)"
else
	cat "$WORK/refused"
	fail "a restored $CURRENT model under $NEXT: not the expected 55000 error"
fi
migrated=$("${PSQL[@]}" -d crm_up_restored -Atc 'SELECT crm.install_data_model()')
CURRENT_TARGET=$NEXT
snapshot crm_up_restored "$WORK/restored"
if [ "$migrated" = "crm data model migrated: $CURRENT -> $NEXT" ] &&
	differ "restored from $CURRENT, migrated" "$WORK/fresh-$NEXT-$(basename "$DUMP_POP" .sql)" "$WORK/restored"; then
	pass "install_data_model() migrated the restored model ($migrated): equal to a fresh install"
else
	fail "install_data_model() on the restored model said \"$migrated\"; not equal to a fresh install"
fi

echo "upgrade: ${SECONDS}s"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
