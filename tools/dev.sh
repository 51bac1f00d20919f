#!/usr/bin/env bash
# tools/dev.sh: build crm and run it in a throwaway PostgreSQL cluster.
#
#   tools/dev.sh demo      the product on a small realistic sample (tools/demo.sql)
#   tools/dev.sh test      the whole test suite; exits non-zero on any failure
#   tools/dev.sh test NAME...  while developing: build, then only pg_regress's setup and sql/NAME.sql
#                              (or test/NAME.py, e.g. phones; or test/NAME.sh, e.g. upgrade)
#   tools/dev.sh sanitize  the whole suite against crm built with AddressSanitizer, UBSan and
#                          assertions; fails on any report in the server's log (about 7 minutes)
#   tools/dev.sh bench [NAME...]  the benchmarks of bench/, or only bench/NAME.sh (long; not part of test)
#   tools/dev.sh soak [SECONDS [SESSIONS]]  many writers at once (test/soak.sh; default 300 s, 8 sessions), then invariants
#   tools/dev.sh fuzz [N [NAME...]]  libFuzzer on every parser of typed-in text (parsers), the
#                          vCard writer (vcard), the xlsx reader's values (xlsx-values) and
#                          workbooks (xlsx), or the NAMEs, N inputs each (default 10 million; long)
#   tools/dev.sh psql [ARGS]  psql on a fresh cluster with crm installed (ARGS go to psql)
#
# Works on a fresh Debian 12 as root: missing packages come from apt-get.  As
# root the server runs as the OS user "postgres"; as an ordinary user it runs
# as that user, and installing the extension needs sudo.  The cluster lives in
# a temporary directory, listens on a Unix socket there (trusted: only its
# user may enter) and, for the JDBC test, on 127.0.0.1 (loopback only, with
# passwords), and is stopped and removed on exit.  PG_MAJOR selects the
# server's major version (default 15, Debian 12's; tools/debian13.sh runs this
# script with PG_MAJOR=17 in a Debian 13 root), PG_CONFIG a server built elsewhere.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PG_MAJOR=${PG_MAJOR:-15}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
# libxlsxwriter-dev and pkg-config: the xlsx exports (src/export.c); libzip-dev
# and libxml2-dev: the xlsx imports (src/core/xlsxread.c)
PACKAGES="postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR libicu-dev libxlsxwriter-dev libzip-dev libxml2-dev pkg-config make gcc libc6-dev"

say() { printf '\n== %s\n' "$*"; }
die() { printf 'tools/dev.sh: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else die "need root for: $* (run as root, or install sudo)"
	fi
}

ensure_packages() {
	local missing=()
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
}

build_and_install() {
	# warnings are errors here (the headers of PostgreSQL 15 and 17 are clean); CRM_CFLAGS= to relax
	local flags=${CRM_CFLAGS--Werror}

	say "building and installing crm${CRM_BUILD_NAME:+ ($CRM_BUILD_NAME)}"
	# make sees no change of flags: objects built with others (a sanitize
	# run's, or the reverse) are cleaned first
	if [ "$(cat .crm-build-flags 2>/dev/null)" != "$flags" ]; then
		make -s PG_CONFIG="$PG_CONFIG" clean >/dev/null
	fi
	make -s PG_CONFIG="$PG_CONFIG" CRM_CFLAGS="$flags" >/dev/null
	printf '%s\n' "$flags" >.crm-build-flags
	as_root make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

free_port() {
	local port
	for port in $(seq 54329 54999); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
			[ ! -e "/tmp/.s.PGSQL.$port" ] && [ ! -e "/var/run/postgresql/.s.PGSQL.$port" ]; then
			echo "$port"; return 0
		fi
	done
	die "no free port in 54329-54999"
}

# Start a cluster; export PGHOST/PGPORT/PGUSER/PGDATABASE; stop it on exit.
# SERVER_ENV (NAME=VALUE words) goes into the server's environment.
start_cluster() {
	local run_as=()
	SANDBOX=$(mktemp -d /tmp/crm-pg.XXXXXX)
	trap stop_cluster EXIT
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$SANDBOX"
		# from a directory the postgres user may enter
		run_as=(env -C / runuser -u postgres --)
	fi
	PORT=$(free_port)
	say "starting a throwaway cluster in $SANDBOX (port $PORT)"
	# TCP is open to every local user: there a password is needed, and
	# only the JDBC test's roles have one; wal_level=logical for
	# test/replication.sh (a publisher and a subscriber database)
	"${run_as[@]}" "$PG_BINDIR/initdb" -D "$SANDBOX/data" -U postgres \
		--auth-local=trust --auth-host=scram-sha-256 \
		-E UTF8 --locale=C.UTF-8 >"$SANDBOX/initdb.log" 2>&1 ||
		{ cat "$SANDBOX/initdb.log"; die "initdb failed"; }
	"${run_as[@]}" env ${SERVER_ENV[@]+"${SERVER_ENV[@]}"} "$PG_BINDIR/pg_ctl" -D "$SANDBOX/data" -l "$SANDBOX/server.log" -w \
		-o "-c listen_addresses=127.0.0.1 -c unix_socket_directories='$SANDBOX' -c unix_socket_permissions=0700 -p $PORT -c fsync=off -c wal_level=logical" \
		start >/dev/null || { cat "$SANDBOX/server.log"; die "server did not start"; }
	STOP_CMD=("${run_as[@]}" "$PG_BINDIR/pg_ctl" -D "$SANDBOX/data" -m fast -w stop)
	export PGHOST=$SANDBOX PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
}

# (as the EXIT trap; or called with the exit status to end with)
stop_cluster() {
	local rc=${1:-$?}
	if [ -n "${STOP_CMD:-}" ]; then
		"${STOP_CMD[@]}" >/dev/null 2>&1 || true
	fi
	if [ -n "${SANDBOX:-}" ]; then
		rm -rf "$SANDBOX"
	fi
	exit $rc
}

# What the suite needs beyond the build: the driver test's pgjdbc, and a
# Java runtime unless there is one; the reflection and ORM tests' SQLAlchemy
# and psycopg2; the vCard test's vobject; the xlsx export's reader,
# openpyxl; test/phones.py's python3-phonenumbers (libphonenumber's metadata).
suite_packages() {
	ensure_packages libpostgresql-jdbc-java python3 python3-sqlalchemy python3-psycopg2 \
		python3-openpyxl python3-phonenumbers python3-vobject
	command -v java >/dev/null || ensure_packages default-jre-headless
}

# The whole suite, against the cluster started: tools/dev.sh test and
# tools/dev.sh sanitize.  PG_REGRESS_COUNTS is set to pg_regress's and the
# isolation tester's summary lines.
run_suite() {
	local out

	say "pg_regress and isolation tests"
	out=$(mktemp)
	make -s PG_CONFIG="$PG_CONFIG" installcheck ENCODING=UTF8 NO_LOCALE=1 2>&1 | tee "$out" ||
		{ cat regression.diffs output_iso/regression.diffs 2>/dev/null | head -300; rm -f "$out"; exit 1; }
	PG_REGRESS_COUNTS=$(grep -E 'All [0-9]+ tests passed' "$out" | sed 's/^[# ]*//; s/[. ]*$//' | paste -sd, - | sed 's/,/, /g')
	rm -f "$out"
	say "dump and restore"
	bash test/dump_restore.sh
	say "logical replication: a subscriber database as a read replica"
	SANDBOX=$SANDBOX bash test/replication.sh
	say "pgjdbc: the types and scores from a real driver"
	bash test/jdbc.sh
	say "upgrades"
	PG_CONFIG="$PG_CONFIG" bash test/upgrade.sh
	say "schema reflection (SQLAlchemy)"
	# Debian's interpreter, which has Debian's modules (a pyenv or venv
	# python3 first on PATH would not)
	/usr/bin/python3 test/reflection.py
	say "an ORM's cascading delete (SQLAlchemy automap) against crm's roles"
	/usr/bin/python3 test/orm_cascade.py
	say "the xlsx export read by openpyxl"
	/usr/bin/python3 test/export_xlsx.py
	say "phone numbers against libphonenumber (python3-phonenumbers)"
	/usr/bin/python3 test/phones.py
	say "vCard: the cards read by a parser crm did not write (vobject), the outbox's LISTEN/NOTIFY"
	/usr/bin/python3 test/vcard.py
	say "soak: 4 sessions of crm_admin's actions for 20 s, then the invariants (tools/dev.sh soak: longer)"
	SOAK_SECONDS=20 SOAK_CLIENTS=4 bash test/soak.sh
}

# The first line of each report in the server's log that a sanitizer or an
# assertion wrote: AddressSanitizer's, UBSan's, an Assert()'s TRAP; and the
# backends ended by a signal (ASan's abort, or a crash none of them explains).
sanitizer_reports() {
	grep -E 'ERROR: AddressSanitizer|runtime error:|^TRAP: ' "$1" || true
}
crashes() {
	grep -E 'was terminated by signal' "$1" || true
}

cmd=${1:-}
case "$cmd" in
	demo|test|sanitize|bench|fuzz|psql|soak) shift ;;
	*) sed -n '2,20p' "$0"; [ -z "$cmd" ] || die "unrecognized command \"$cmd\""; exit 2 ;;
esac

# One run at a time per server installation: every run installs its build
# into the server's directories, so two checkouts tested at once against
# one installation would replace each other's extension mid-test (runs
# against copies of it, PG_CONFIG=/elsewhere/bin/pg_config, go on side by
# side).  The lock file is made writable by all, so that runs of several OS
# users share it (flock works on a descriptor opened for reading too).
LOCK_FILE="${TMPDIR:-/tmp}/crm-dev.$(printf '%s' "$PG_CONFIG" | cksum | cut -d' ' -f1).lock"
[ -e "$LOCK_FILE" ] || (umask 000 && : >"$LOCK_FILE") 2>/dev/null || true
exec 9<"$LOCK_FILE"
flock 9

ensure_packages $PACKAGES
PG_BINDIR=$("$PG_CONFIG" --bindir)
export PG_BINDIR
case "$cmd" in
	demo)
		build_and_install
		start_cluster
		say "running tools/demo.sql"
		# unbuffered, so that errors show where they happen
		stdbuf -o0 "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -f tools/demo.sql 2>&1
		;;
	test)
		suite_packages
		build_and_install
		say "src/core/ free of server headers; the fuzz targets' smoke drivers (gcc, ASan + UBSan)"
		make -s PG_CONFIG="$PG_CONFIG" fuzz-smoke
		start_cluster
		if [ $# -gt 0 ]; then
			# NAME: sql/NAME.sql (pg_regress), test/NAME.py (Debian's
			# python3) or test/NAME.sh (bash)
			regress=()
			pytests=()
			shtests=()
			for name in "$@"; do
				if [ -f "sql/$name.sql" ]; then
					regress+=("$name")
				elif [ -f "test/$name.py" ]; then
					pytests+=("$name")
				elif [ -f "test/$name.sh" ]; then
					shtests+=("$name")
				else
					die "no test sql/$name.sql, test/$name.py or test/$name.sh"
				fi
			done
			if [ ${#regress[@]} -gt 0 ]; then
				say "pg_regress: setup ${regress[*]} (only these; the whole suite is tools/dev.sh test)"
				make -s PG_CONFIG="$PG_CONFIG" installcheck ENCODING=UTF8 NO_LOCALE=1 REGRESS="setup ${regress[*]}" ISOLATION= ||
					{ cat regression.diffs 2>/dev/null | head -300; exit 1; }
			fi
			for name in ${pytests[@]+"${pytests[@]}"}; do
				say "test/$name.py"
				/usr/bin/python3 "test/$name.py"
			done
			for name in ${shtests[@]+"${shtests[@]}"}; do
				say "test/$name.sh"
				SANDBOX=$SANDBOX PG_CONFIG="$PG_CONFIG" bash "test/$name.sh"
			done
			exit 0
		fi
		run_suite
		;;
	sanitize)
		# crm built with AddressSanitizer, UBSan and assertions (Assert(),
		# CRM_ASSERT: -DUSE_ASSERT_CHECKING); the server's binaries are
		# Debian's, so ASan's runtime is preloaded into the server
		# (LD_PRELOAD through pg_ctl's environment), with tools/asan_nonls.c,
		# without which the server hangs at start in bindtextdomain()
		suite_packages
		started=$SECONDS
		libasan=$(gcc -print-file-name=libasan.so)
		[ -e "$libasan" ] || die "no libasan.so for gcc (Debian: libgcc-12-dev)"
		libasan=$(readlink -f "$libasan")
		CRM_CFLAGS="-Werror -DUSE_ASSERT_CHECKING -fsanitize=address,undefined -fno-omit-frame-pointer" \
			CRM_BUILD_NAME="AddressSanitizer, UBSan, assertions" build_and_install
		shim_dir=$(mktemp -d /tmp/crm-asan.XXXXXX)
		gcc -shared -fPIC -O1 -Wall -Wextra -Wno-unused-parameter -Werror \
			-o "$shim_dir/asan_nonls.so" tools/asan_nonls.c
		chmod 755 "$shim_dir" "$shim_dir/asan_nonls.so"
		# detect_leaks=0: a server's memory contexts live to the end of the
		# process, which LeakSanitizer takes for leaks; abort_on_error=1: a
		# backend ASan stops dies by SIGABRT, which the postmaster takes for
		# a crash and recovers from (ASan's own exit(1) would pass for a
		# FATAL and leave the backend's shared state behind); halt_on_error=0:
		# every UBSan report goes to the log, which is read at the end
		SERVER_ENV=("LD_PRELOAD=$libasan $shim_dir/asan_nonls.so"
			"ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:print_stacktrace=1"
			"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=0")
		start_cluster
		# the server's log is read before start_cluster's trap removes it
		# (the cluster is stopped first, so that nothing is still writing)
		sanitize_done() {
			local rc=$? reports crashed

			"${STOP_CMD[@]}" >/dev/null 2>&1 || true
			STOP_CMD=()
			reports=$(sanitizer_reports "$SANDBOX/server.log" | grep -c . || true)
			crashed=$(crashes "$SANDBOX/server.log" | grep -c . || true)
			rm -rf "$shim_dir"
			if [ "$reports" != 0 ] || [ "$crashed" != 0 ]; then
				say "sanitizer or assertion reports, crashes in the server's log:"
				grep -E -A30 'ERROR: AddressSanitizer|runtime error:|^TRAP: |was terminated by signal' \
					"$SANDBOX/server.log" | head -300
				rc=1
			fi
			say "sanitize: ${PG_REGRESS_COUNTS:-pg_regress failed or did not run}; $reports sanitizer or assertion reports, $crashed backends ended by a signal; $((SECONDS - started)) s"
			stop_cluster "$rc"
		}
		trap sanitize_done EXIT
		run_suite
		;;
	soak)
		build_and_install
		start_cluster
		say "soak: test/soak.sh"
		SOAK_SECONDS=${1:-300} SOAK_CLIENTS=${2:-8} bash test/soak.sh
		;;
	bench)
		build_and_install
		start_cluster
		# tools/dev.sh bench NAME...: only bench/NAME.sh (e.g. access)
		benches=()
		for name in "$@"; do
			[ -f "bench/$name.sh" ] || die "no benchmark bench/$name.sh"
			benches+=("bench/$name.sh")
		done
		[ ${#benches[@]} -gt 0 ] || benches=(bench/*.sh)
		for b in "${benches[@]}"; do
			say "$b"
			SANDBOX=$SANDBOX bash "$b"
		done
		;;
	fuzz)
		ensure_packages clang libclang-rt-14-dev
		runs=${1:-10000000}
		[ $# -gt 0 ] && shift
		targets=()
		for name in "$@"; do
			case "$name" in
				parsers|vcard|xlsx-values|xlsx) targets+=("fuzz-$name") ;;
				*) die "no fuzz target \"$name\" (parsers, vcard, xlsx-values, xlsx)" ;;
			esac
		done
		# one after the other (libFuzzer takes a core each)
		for target in ${targets[@]+"${targets[@]}"}; do
			say "make $target, $runs inputs"
			make -s PG_CONFIG="$PG_CONFIG" "$target" FUZZ_RUNS="$runs"
		done
		[ ${#targets[@]} -gt 0 ] || make -s PG_CONFIG="$PG_CONFIG" fuzz FUZZ_RUNS="$runs"
		;;
	psql)
		build_and_install
		start_cluster
		"$PG_BINDIR/psql" -X -q -c 'CREATE EXTENSION crm' -c 'SELECT crm.install_data_model()' \
			-c 'ALTER DATABASE postgres SET search_path = "$user", public, crm'
		# arguments go to psql: tools/dev.sh psql -f script.sql runs a script
		"$PG_BINDIR/psql" -X "$@"
		;;
esac
