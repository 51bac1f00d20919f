#!/bin/sh
# tools/upgrade_script.sh MODE src/upgrade/A--B: print, from the sources of
# one release's changes (doc/upgrades.md "Releasing"),
#   MODE upgrade: the upgrade script crm--A--B.sql: the logic files
#                 (NN_concept.sql, in order), then the model step;
#   MODE step:    the model step alone, the call to
#                 crm_internal.data_model_step('A', 'B', ...) made of the
#                 model files (NN_concept.model.sql, in order); the full
#                 install script of every later version ends with it, so
#                 that a dump of A restores into it.
#
# A line "-- @source TEXT" in those files stands for the block of
# src/sql/*.sql whose first line starts with TEXT (exactly one must), up to
# the first empty line outside dollar quotes: a function with its COMMENT and REVOKE, a table or
# view of the model with its indexes, comments and triggers.  So a changed
# or new object has one source, src/sql; "CREATE FUNCTION" and "CREATE
# VIEW" become "CREATE OR REPLACE ..." (a change CREATE OR REPLACE cannot
# make, such as a new result type, needs a DROP before the line).
# The Makefile runs it; the scripts it builds are not committed.
set -eu
mode=$1
dir=${2%/}
name=$(basename "$dir")
from=${name%%--*}
to=${name#*--}
case $name in
*--*) ;;
*) echo "upgrade_script.sh: $dir is not named FROM--TO" >&2; exit 2 ;;
esac
sources=$(dirname "$0")/../src/sql

# expand FILE: FILE with its "-- @source" lines replaced by their blocks
expand() {
	awk -v file="$1" '
	function block(text,    f, line, n, out, inblock, cmd, quotes, copy) {
		n = 0
		cmd = "ls " sources "/*.sql"
		while ((cmd | getline f) > 0) {
			inblock = 0
			while ((getline line < f) > 0) {
				if (!inblock && index(line, text) == 1) {
					n++; inblock = 1; quotes = 0
					sub(/^CREATE FUNCTION /, "CREATE OR REPLACE FUNCTION ", line)
					sub(/^CREATE VIEW /, "CREATE OR REPLACE VIEW ", line)
					out = line
				} else if (inblock) {
					if (line == "" && quotes % 2 == 0) { inblock = 0; continue }
					out = out "\n" line
				} else continue
				# dollar quotes opened and closed ($$, $tag$)
				copy = line
				quotes += gsub(/\$[A-Za-z_]*\$/, "", copy)
			}
			close(f)
		}
		close(cmd)
		if (n != 1) {
			printf "upgrade_script.sh: %s: \"-- @source %s\" matches %d blocks of src/sql (one is needed)\n", file, text, n > "/dev/stderr"
			exit 1
		}
		return out
	}
	/^-- @source / { text = substr($0, 12); print block(text); print ""; next }
	{ print }
	' sources="$sources" "$1"
}

if [ "$mode" = upgrade ]; then
	echo "-- crm upgrade script $from to $to, built by the Makefile from $dir/"
	echo
	printf '%s\n' "\\echo Use \"ALTER EXTENSION crm UPDATE TO '$to'\" to load this file. \\quit"
	for f in "$dir"/*.sql; do
		case $f in
		*.model.sql) ;;
		*) [ -e "$f" ] && { echo; expand "$f"; } ;;
		esac
	done
	echo
elif [ "$mode" != step ]; then
	echo "usage: upgrade_script.sh upgrade|step src/upgrade/FROM--TO" >&2
	exit 2
fi

echo "-- the data model's step from $from to $to ($dir/*.model.sql)"
echo "SELECT crm_internal.data_model_step('$from', '$to', \$step\$"
for f in "$dir"/*.model.sql; do
	[ -e "$f" ] || continue
	text=$(expand "$f")
	case $text in
	*'$step$'*) echo "upgrade_script.sh: $f contains \$step\$" >&2; exit 1 ;;
	esac
	printf '%s\n' "$text"
done
echo "\$step\$);"
