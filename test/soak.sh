#!/usr/bin/env bash
# test/soak.sh: many writers at once for a while, then invariants.
#
#   SOAK_SECONDS=300 SOAK_CLIENTS=8 bash test/soak.sh   (tools/dev.sh soak: 5 minutes, 8 clients)
#   tools/dev.sh test runs a short version (SOAK_SECONDS=20, 4 clients)
#
# A base of SOAK_BASE persons (test/soak.sql: each with two phones, an e-mail,
# a policy and a task, a last name and a PESEL of its own) in database
# crm_soak with crm's roles and row-level security on; then pgbench (loopback,
# the Unix socket) runs SOAK_CLIENTS sessions of soak_admin, a member of
# crm_admin only (not a superuser), for SOAK_SECONDS, each transaction one of:
# a new person with contacts, policy and task (30), an update of a client and
# of its default phone (20), a duplicate check (20), a merge of two random
# clients (10), an unmerge of a random merge (5), a hide or unhide (5), an
# anonymization (3), a bulk action over 20 clients (5).  Refusals are counted
# by SQLSTATE; deadlocks and serialization failures are retried by pgbench
# (--max-tries) and counted in its report.  At the end:
#   - errors: only the documented refusals listed in ALLOWED below;
#   - every client that ever existed exists, or is the source of exactly one
#     merge in place (journaled, not undone), and no such source exists;
#   - every committed merge and unmerge is in the journal;
#   - rows conserved: policies and tasks one per client ever made (merges move
#     them), contacts three per client ever made less those anonymizations
#     erased (counted in their audit rows);
#   - one default phone and one default e-mail per client that has any;
#   - no last name or PESEL of an anonymized client (or of a client merged
#     into it) in any row of any table outside schema soak.
# Prints the transactions per second, the errors by SQLSTATE and each
# invariant; exits non-zero when one fails.  Runs against the server in
# PGHOST/PGPORT (tools/dev.sh starts one).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PG_BINDIR:+$PG_BINDIR/}
SECONDS_=${SOAK_SECONDS:-20}
CLIENTS=${SOAK_CLIENTS:-4}
BASE=${SOAK_BASE:-2000}
DB=crm_soak
PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1)
WORK=$(mktemp -d)
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
# the refusals crm documents for these actions (doc/merge.md, doc/gdpr.md):
#   55000 object_not_in_prerequisite_state: a merge undone out of order, a
#         client merged or anonymized meanwhile;
#   P0002 no_data_found: the client was merged away by another session;
#   23514 check_violation: a merge the structure or sync rules forbid;
#   55P03 lock_not_available: a client held by another merge
ALLOWED="55000 P0002 23514 55P03"

cleanup() {
	"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS soak_admin, $(seq -s, -f 'soak_agent%g' 0 6)" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
cleanup
WORK=$(mktemp -d)
trap cleanup EXIT

"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB"
start=$(date +%s%N)
"${PSQL[@]}" -d $DB -v base="$BASE" -f test/soak.sql
echo "soak: base of $BASE persons made in $(( ($(date +%s%N) - start) / 1000000 )) ms"

weights="insert@30 update@20 check@20 merge@10 unmerge@5 hide@5 anonymize@3 bulk@5"
args=()
for w in $weights; do
	echo "SELECT soak.act_${w%@*}();" >"$WORK/${w%@*}.sql"
	args+=(-f "$WORK/${w%@*}.sql@${w#*@}")
done
echo "soak: $CLIENTS sessions of soak_admin for $SECONDS_ s ($weights)"
"${BIN}pgbench" -n -U soak_admin -c "$CLIENTS" -j 2 -T "$SECONDS_" --max-tries=20 --failures-detailed \
	"${args[@]}" "$DB" >"$WORK/pgbench.out" 2>"$WORK/pgbench.err" ||
	{ cat "$WORK/pgbench.out" "$WORK/pgbench.err"; echo "FAILED: pgbench"; exit 1; }
grep -E '^(number of transactions actually processed|number of failed|number of serialization|number of deadlock|number of transactions retried|total number of retries|tps)' "$WORK/pgbench.out" | sed 's/^/  /'
if [ -s "$WORK/pgbench.err" ]; then
	echo "  pgbench said:"; sed 's/^/    /' "$WORK/pgbench.err" | sort | uniq -c | sort -rn | head -20
fi

"${PSQL[@]}" -d $DB -v allowed="$ALLOWED" <<'SQL' | tee "$WORK/checks.out"
\pset format unaligned
\pset tuples_only on
SELECT format('  actions committed: %s', string_agg(action || ' ' || n, ', ' ORDER BY action))
FROM (SELECT action, count(*) AS n FROM soak.ledger GROUP BY action) a;
SELECT format('  refused: %s %s x%s (%s)', action, sqlstate, count(*), min(message))
FROM soak.error GROUP BY action, sqlstate ORDER BY action, sqlstate;

CREATE TEMP TABLE check_result (name text, ok boolean, detail text);

INSERT INTO check_result
SELECT 'errors: only documented refusals', count(*) = 0,
       coalesce(string_agg(DISTINCT sqlstate || ' (' || action || ')', ', '), '')
FROM soak.error WHERE sqlstate <> ALL (string_to_array(:'allowed', ' '));

WITH active AS (
    SELECT s.id, count(*) AS merges
    FROM crm.merge_log l, unnest(l.source_ids) s(id) WHERE l.undone_at IS NULL GROUP BY s.id),
missing AS (SELECT e.id FROM soak.client_ever e WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = e.id))
INSERT INTO check_result
SELECT 'every client exists or was merged away, once, in the journal',
       (SELECT count(*) FROM missing m WHERE NOT EXISTS (SELECT FROM active a WHERE a.id = m.id)) = 0
       AND (SELECT count(*) FROM active a WHERE a.merges > 1 OR EXISTS (SELECT FROM crm.client c WHERE c.id = a.id)) = 0,
       format('%s clients ever, %s now, %s merged away; unaccounted %s, sources still there or merged twice %s',
              (SELECT count(*) FROM soak.client_ever), (SELECT count(*) FROM crm.client),
              (SELECT count(*) FROM missing),
              (SELECT count(*) FROM missing m WHERE NOT EXISTS (SELECT FROM active a WHERE a.id = m.id)),
              (SELECT count(*) FROM active a WHERE a.merges > 1 OR EXISTS (SELECT FROM crm.client c WHERE c.id = a.id)));

INSERT INTO check_result
SELECT 'every merge and unmerge journaled',
       (SELECT count(*) FROM crm.merge_log) = (SELECT count(*) FROM soak.ledger WHERE action = 'merge')
       AND (SELECT count(*) FROM crm.merge_log WHERE undone_at IS NOT NULL) = (SELECT count(*) FROM soak.ledger WHERE action = 'unmerge'),
       format('merges: %s committed, %s journaled; unmerges: %s committed, %s journaled',
              (SELECT count(*) FROM soak.ledger WHERE action = 'merge'), (SELECT count(*) FROM crm.merge_log),
              (SELECT count(*) FROM soak.ledger WHERE action = 'unmerge'),
              (SELECT count(*) FROM crm.merge_log WHERE undone_at IS NOT NULL));

WITH ever AS (SELECT count(*) AS n FROM soak.client_ever),
erased AS (SELECT coalesce(sum((a.detail #>> '{rows,crm.contact}')::bigint), 0) AS n
           FROM crm.audit_log a WHERE a.action = 'anonymize')
INSERT INTO check_result
SELECT 'rows conserved (policies, tasks, contacts)',
       (SELECT count(*) FROM crm.policy) = ever.n AND (SELECT count(*) FROM crm.task) = ever.n
       AND (SELECT count(*) FROM crm.contact) = 3 * ever.n - erased.n,
       format('clients ever %s: policies %s, tasks %s, contacts %s (expected %s: %s erased by anonymization)',
              ever.n, (SELECT count(*) FROM crm.policy), (SELECT count(*) FROM crm.task),
              (SELECT count(*) FROM crm.contact), 3 * ever.n - erased.n, erased.n)
FROM ever, erased;

INSERT INTO check_result
SELECT 'one default per client and kind', count(*) = 0, count(*) || ' (client, kind) without exactly one default'
FROM (SELECT client_id, kind FROM crm.contact GROUP BY client_id, kind
      HAVING count(*) FILTER (WHERE is_default) <> 1) d;

-- every row of every table outside soak, as text, searched for the tokens
DO $$
DECLARE
    t record;
    hits bigint := 0;
    n bigint;
    found text := '';
BEGIN
    FOR t IN SELECT c.oid::regclass AS rel FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
             WHERE c.relkind = 'r' AND s.nspname NOT IN ('soak', 'pg_catalog', 'information_schema', 'pg_toast')
    LOOP
        EXECUTE format($q$SELECT count(*) FROM %s r,
                         LATERAL regexp_matches(r::text, '(Soak[a-p]+|[0-9]{11})', 'g') m(tok)
                         WHERE m.tok[1] IN (SELECT f.token FROM soak.forgotten f)$q$, t.rel) INTO n;
        IF n > 0 THEN
            hits := hits + n;
            found := found || format(' %s: %s', t.rel, n);
        END IF;
    END LOOP;
    INSERT INTO check_result
    SELECT 'no anonymized client''s name or PESEL anywhere', hits = 0,
           format('%s tokens of %s anonymized clients looked for in every table;', (SELECT count(*) FROM soak.forgotten),
                  (SELECT count(*) FROM crm.client WHERE anonymized_at IS NOT NULL))
           || CASE WHEN hits = 0 THEN ' none found' ELSE ' found' || found END;
END
$$;

SELECT format('%s %s: %s', CASE WHEN ok THEN 'ok  ' ELSE 'FAILED:' END, name, detail) FROM check_result;
SELECT format('%s passed, %s failed', count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok)) FROM check_result;
SQL
! grep -q '^FAILED' "$WORK/checks.out"
