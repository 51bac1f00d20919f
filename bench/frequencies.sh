#!/usr/bin/env bash
# bench/frequencies.sh: what frequency-aware evidence (issue 12) costs, with
# and without, on one base in one server:
#   1. bench/duplicates.sh whole (CLIENTS, NAMES, SEED, BASELINE_SAMPLE ... as
#      there) with crm.refresh_match_frequencies() run after the build
#      (its time), database kept;
#   2. crm.match_frequency emptied: the candidate search's latency and the
#      insert cost again (duplicates.sh RESUME=3), now without frequencies;
#   3. refreshed again: the same once more with them (A/B/A: the spread
#      between 1 and 3 is the machine's noise).
# The quality with and without: duplicates.sh on the same SEED and NAMES
# under the previous version (the generator is deterministic).
#
#   CLIENTS=1000000 NAMES=realistic BASELINE_SAMPLE=5000 tools/dev.sh bench frequencies
set -euo pipefail
cd "$(dirname "$0")"
BIN=${PG_BINDIR:+$PG_BINDIR/}
DB=${DUP_DB:-crm_bench_dup}
PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1 -d "$DB")
export DUP_DB=$DB

echo "== 1. bench/duplicates.sh with frequencies"
KEEP=1 TF=1 bash duplicates.sh

echo
echo "== 2. the same base without frequencies: latency and insert cost"
"${PSQL[@]}" -c "DELETE FROM crm.match_frequency" -c "DELETE FROM crm.match_frequency_total"
KEEP=1 RESUME=3 bash duplicates.sh | sed -n '/^Summary/,$p' | grep -E "candidates|insert"

echo
echo "== 3. refreshed again: latency and insert cost with frequencies"
"${PSQL[@]}" -At -c "SELECT crm.refresh_match_frequencies()"
KEEP=${KEEP:-0} RESUME=3 bash duplicates.sh | sed -n '/^Summary/,$p' | grep -E "candidates|insert|kept"
