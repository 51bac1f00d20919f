#!/usr/bin/env bash
# bench/ticket_history.sh: what the ticket history (crm.ticket_history,
# 1.0.1) costs a statement writing many tickets: an INSERT ... SELECT of
# TICKETS tickets (default 100,000) for 10,000 clients, then an UPDATE of
# every ticket's status, with the history's statement triggers enabled and,
# in the same run, disabled (the tickets' other triggers and keys as they
# are).  Each round is its own pair; figures are medians of ROUNDS (default
# 3) in ms, and their ratio.  Every ticket gets one history row on insert
# and one on a status change: about one more row written per ticket.
#
# Runs against the server in PGHOST/PGPORT; tools/dev.sh bench starts one.
set -euo pipefail
TICKETS=${TICKETS:-100000}
ROUNDS=${ROUNDS:-3}
DB=crm_bench_ticket_history
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION crm;
SELECT crm.install_data_model();
INSERT INTO crm.client (first_name, last_name, city)
SELECT 'Jan', 'Kowalski' || g, 'Kraków' FROM generate_series(1, 10000) g;
CREATE TABLE timing (round int, history boolean, statement text, ms float8);
SQL
for round in $(seq 1 "$ROUNDS"); do
	for history in false true; do
		action=$([ "$history" = true ] && echo ENABLE || echo DISABLE)
		"${PSQL[@]}" -d "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
ALTER TABLE crm.ticket $action TRIGGER ticket_history_insert, $action TRIGGER ticket_history_update;
TRUNCATE crm.ticket CASCADE;
DO \$\$
DECLARE t timestamptz;
BEGIN
    t := clock_timestamp();
    INSERT INTO crm.ticket (client_id, subject, status)
    SELECT 1 + g % 10000, 'zgłoszenie ' || g, 'new' FROM generate_series(1, $TICKETS) g;
    INSERT INTO timing VALUES ($round, $history, 'insert', extract(epoch FROM clock_timestamp() - t) * 1000);
    t := clock_timestamp();
    UPDATE crm.ticket SET status = 'open';
    INSERT INTO timing VALUES ($round, $history, 'status update', extract(epoch FROM clock_timestamp() - t) * 1000);
END
\$\$;
SQL
	done
done
echo "ticket history: $TICKETS tickets, medians of $ROUNDS rounds (ms)"
"${PSQL[@]}" -d "$DB" -c "
SELECT statement,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE NOT history)::numeric, 0) AS without_history,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE history)::numeric, 0) AS with_history,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE history)
              / percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE NOT history))::numeric, 2) AS ratio
FROM timing GROUP BY statement ORDER BY statement DESC"
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"
