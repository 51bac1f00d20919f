#!/usr/bin/env bash
# bench/quality.sh: how good is duplicate detection on data of several kinds?
#
#   tools/dev.sh bench quality            # CLIENTS=20000 per set, SEED=42
#   SETS="foreigners english" CLIENTS=5000 tools/dev.sh bench quality
#
# Builds one database per set (crm_q_<set>), each with its own crm.client
# rows, its ground truth (bench.truth: every pair of records of one entity)
# and labels of what the generator did to each duplicate (bench.rec.labels),
# all deterministic (bench.rnd: a hash of a row number and SEED; helpers in
# bench/gen_common.sql, shared with bench/duplicates.sh).  The sets:
#   polish      bench/duplicates.sh's base (BUILD_ONLY=1), DUP_SHARE 0.05;
#   foreigners  bench/quality_foreigners.sql: Ukrainians, Belarusians, Russians,
#               Georgians living in Poland, names in mixed transliterations;
#   english     bench/quality_english.sql: English-speaking people, nicknames,
#               street addresses, suburbs and postcodes, no national id;
# (DUP_SHARE, default 0.07, of the records of the last two are duplicates.)
# Then, for each set (bench/quality_eval.sql): crm.duplicate_pairs() at its
# default threshold (timed); two pg_trgm baselines in the same run: the full
# name's similarity >= 0.6 within one lower(city) (bench/duplicates.sh's), and
# birth-date blocking + trigram (same birth date, similarity >= 0.5);
# precision, recall, F1 of each; the missed true pairs by cause (no blocking
# key, identifier, phone or e-mail in common vs shares one and scored under
# the threshold, from crm.match_score) and by label.  One summary table at the end.
# TRAIN=1 (the default) also trains the weights on each set (crm.train_match_weights(),
# timed) and runs crm.duplicate_pairs() again with them ("trained" in the summary),
# then forgets them; TRAIN=0 skips that.  TRAIN_ARGS: its arguments, e.g.
# TRAIN_ARGS="max_differ_m => 1" (the unconstrained EM).  TRAIN_VARIANTS: more
# argument lists, separated by ';', each trained and scored on each set after
# the rest (bench/quality_variants.sql, one line each), e.g.
#   TRAIN_VARIANTS="max_differ_m => 0.02;prior_pairs => 100" tools/dev.sh bench quality
# BASELINE=on|off|auto (auto: on up to 200,000 clients per set): the pg_trgm
# baselines; their self-joins take too long on larger sets, e.g.
#   CLIENTS=1000000 SETS="foreigners english" TRAIN=0 tools/dev.sh bench quality
# KEEP=1 keeps the databases (bench.found, bench.fn, bench.fp, bench.rec ...).
set -euo pipefail
cd "$(dirname "$0")"
CLIENTS=${CLIENTS:-20000}
SEED=${SEED:-42}
DUP_SHARE=${DUP_SHARE:-0.07}
SETS=${SETS:-polish foreigners english}
KEEP=${KEEP:-0}
TRAIN=${TRAIN:-1}
TRAIN_ARGS=${TRAIN_ARGS:-}
TRAIN_VARIANTS=${TRAIN_VARIANTS:-}
BASELINE=${BASELINE:-auto}
[ "$BASELINE" = auto ] && { [ "$CLIENTS" -le 200000 ] && BASELINE=on || BASELINE=off; }
[ "$TRAIN" = 1 ] && TRAIN_VAR=true || TRAIN_VAR=false
BIN=${PG_BINDIR:+$PG_BINDIR/}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# entities and duplicates: E + D = CLIENTS, D = DUP_SHARE of the records,
# about 8% of the duplicated entities with two
read -r ENTITIES DUP1 DUP2 <<<"$(awk -v n="$CLIENTS" -v s="$DUP_SHARE" 'BEGIN {
	d = int(n * s + 0.5); e = n - d; d1 = int(d / 1.08 + 0.5); if (d1 > e) d1 = e;
	d2 = d - d1; if (d2 > d1) d2 = d1; print e, d1, d2 }')"

T_ALL=$(now)
for set in $SETS; do
	DB=crm_q_$set
	PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1 -d "$DB")
	echo
	echo "== set $set: building $CLIENTS clients (seed $SEED) ..."
	T0=$(now)
	case $set in
	polish)
		DUP_DB=$DB BUILD_ONLY=1 CLIENTS=$CLIENTS SEED=$SEED DUP_SHARE=0.05 bash duplicates.sh
		"${PSQL[@]}" <<-'SQL'
			ALTER TABLE bench.rec ADD household bigint;
			UPDATE bench.rec r SET household = e.household FROM bench.entity e WHERE e.eid = r.eid;
		SQL
		;;
	foreigners | english)
		"${BIN}psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
		"${PSQL[@]}" -v seed="$SEED" -v entities="$ENTITIES" -v dup1="$DUP1" -v dup2="$DUP2" <<-SQL
			SET crm.duplicate_check = off;
			CREATE EXTENSION crm;
			DO \$\$ BEGIN PERFORM crm.install_data_model(); END \$\$;
			CREATE SCHEMA bench;
			CREATE TABLE bench.result (k text PRIMARY KEY, v text);
			\i gen_common.sql
			\i quality_$set.sql
			-- every pair of records of one entity
			ALTER TABLE bench.rec ADD PRIMARY KEY (client_id);
			CREATE TABLE bench.truth (a bigint, b bigint, PRIMARY KEY (a, b), CHECK (a < b));
			INSERT INTO bench.truth
			SELECT x.client_id, y.client_id FROM bench.rec x JOIN bench.rec y ON y.eid = x.eid AND y.client_id > x.client_id;
			DO \$\$ BEGIN PERFORM setval(pg_get_serial_sequence('crm.client', 'id'), (SELECT max(id) FROM crm.client)); END \$\$;
			CREATE INDEX ON bench.contact_stage (client_id);
			CALL bench.load_contacts(1000, 0, 1);
			VACUUM ANALYZE;
		SQL
		;;
	*) echo "bench/quality.sh: no set $set (polish, foreigners, english)" >&2; exit 1 ;;
	esac
	T1=$(now)
	"${PSQL[@]}" -c "INSERT INTO bench.result VALUES ('build_s', '$(secs "$T0" "$T1")') ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
	"${PSQL[@]}" -At <<-'SQL'
		SELECT format('built in %s s: %s clients, %s duplicate records, %s true pairs, %s contacts; with a birth date %s%%, a PESEL %s%%',
		              (SELECT v FROM bench.result WHERE k = 'build_s'), count(*),
		              (SELECT count(*) FROM bench.rec WHERE copy_no > 0), (SELECT count(*) FROM bench.truth),
		              (SELECT count(*) FROM crm.contact),
		              round(100.0 * count(birth_date) / count(*), 1), round(100.0 * count(pesel) / count(*), 1))
		FROM crm.client;
		SELECT 'e.g. ' || string_agg(concat_ws(' | ', display_name, birth_date, city, postal_code, address), E'\n     ' ORDER BY id)
		FROM (SELECT * FROM crm.client ORDER BY hashint8(id) LIMIT 4) c;
	SQL
	"${PSQL[@]}" -P footer=off -v set="$set" -v train="$TRAIN_VAR" -v train_args="$TRAIN_ARGS" -v baseline="$BASELINE" -f quality_eval.sql
	if [ -n "$TRAIN_VARIANTS" ]; then
		IFS=';' read -r -a variants <<<"$TRAIN_VARIANTS"
		for args in "${variants[@]}"; do
			"${PSQL[@]}" -P footer=off -v set="$set" -v args="$args" -f quality_variants.sql
		done
	fi
done

echo
echo "Summary: $CLIENTS clients per set, seed $SEED, $(secs "$T_ALL" "$(now)") s in all"
{
	printf 'set|clients|true pairs|crm P|crm R|crm F1|trained P|trained R|trained F1|train s|trgm P|trgm R|trgm F1|bd+trgm P|bd+trgm R|bd+trgm F1|crm pairs s\n'
	for set in $SETS; do
		"${BIN}psql" -X -q -At -F '|' -d "crm_q_$set" -v set="$set" <<-'SQL'
			CREATE OR REPLACE FUNCTION bench.r(key text) RETURNS text LANGUAGE sql STABLE
			    RETURN coalesce((SELECT v FROM bench.result WHERE k = key), '-');
			SELECT :'set', bench.r('clients'), bench.r('true_pairs'), bench.r('crm_p'), bench.r('crm_r'), bench.r('crm_f1'),
			       bench.r('tr_p'), bench.r('tr_r'), bench.r('tr_f1'), bench.r('train_s'),
			       bench.r('bl_p'), bench.r('bl_r'), bench.r('bl_f1'), bench.r('bd_p'), bench.r('bd_r'), bench.r('bd_f1'),
			       bench.r('pairs_s');
		SQL
	done
} | column -t -s '|'
echo
echo "crm's missed true pairs: no_block = no name/address key, identifier, phone or e-mail in common (would_pass: crm.match_score >= threshold anyway); block = shares one, score under the threshold (below) or over it (above: a capped block); a: key only = the only block they share is city+address"
{
	printf 'set|missed|no_block would_pass|no_block below|block below|block above|of block: a: key only|top labels among misses\n'
	for set in $SETS; do
		"${BIN}psql" -X -q -At -F '|' -d "crm_q_$set" -v set="$set" <<-'SQL'
			SELECT :'set', bench.r('crm_fn'),
			       format('%s (%s%%)', bench.r('fn_no_block_would_pass'), round(100.0 * bench.r('fn_no_block_would_pass')::int / nullif(bench.r('crm_fn')::int, 0))),
			       format('%s (%s%%)', bench.r('fn_no_block_below'), round(100.0 * bench.r('fn_no_block_below')::int / nullif(bench.r('crm_fn')::int, 0))),
			       format('%s (%s%%)', bench.r('fn_block_below'), round(100.0 * bench.r('fn_block_below')::int / nullif(bench.r('crm_fn')::int, 0))),
			       format('%s (%s%%)', bench.r('fn_block_above'), round(100.0 * bench.r('fn_block_above')::int / nullif(bench.r('crm_fn')::int, 0))),
			       bench.r('fn_address_only'), bench.r('top_labels');
		SQL
	done
} | column -t -s '|'
if [ "$KEEP" != 1 ]; then
	for set in $SETS; do "${BIN}psql" -X -q -d postgres -c "DROP DATABASE crm_q_$set"; done
fi
