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

if [ "$mode" = upgrade ]; then
	echo "-- crm upgrade script $from to $to, built by the Makefile from $dir/"
	echo
	printf '%s\n' "\\echo Use \"ALTER EXTENSION crm UPDATE TO '$to'\" to load this file. \\quit"
	for f in "$dir"/*.sql; do
		case $f in
		*.model.sql) ;;
		*) [ -e "$f" ] && { echo; cat "$f"; } ;;
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
	if grep -q '\$step\$' "$f"; then
		echo "upgrade_script.sh: $f contains \$step\$" >&2
		exit 1
	fi
	cat "$f"
done
echo "\$step\$);"
