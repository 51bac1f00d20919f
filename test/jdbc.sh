#!/usr/bin/env bash
# test/jdbc.sh: crm from a real driver, pgjdbc (test/jdbc/CrmDriverTest.java).
#
# Makes a database with crm and its data model, and an application role
# that is not a superuser, a member of crm_admin (doc/security.md: it writes
# clients of every unit and merges them); then runs the
# Java test over TCP on 127.0.0.1 as that role, on a default connection.  A
# second login, a supervisor of one unit (crm_supervisor, crm.user_unit), is
# what the Java test checks crm's refusals and row-level security through
# (doc/security.md): 42501 with DETAIL and HINT, and its unit's clients only.
# Runs against
# the server in PGHOST/PGPORT (tools/dev.sh test starts one, listening on
# 127.0.0.1 with password authentication).  Needs java and pgjdbc
# (Debian: default-jre-headless, libpostgresql-jdbc-java).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${PG_BINDIR:+$PG_BINDIR/}
PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1)
JAR=${PGJDBC_JAR:-/usr/share/java/postgresql.jar}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

[ -r "$JAR" ] || { echo "test/jdbc.sh: no pgjdbc at $JAR (install libpostgresql-jdbc-java)" >&2; exit 1; }
command -v java >/dev/null || { echo "test/jdbc.sh: no java (install default-jre-headless)" >&2; exit 1; }

# passwords of this run only: TCP connections need one (scram-sha-256)
CRM_JDBC_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
CRM_JDBC_SUP_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export CRM_JDBC_PASSWORD CRM_JDBC_SUP_PASSWORD

"${PSQL[@]}" -d postgres -c 'DROP DATABASE IF EXISTS crm_jdbc' \
	-c 'DROP ROLE IF EXISTS crm_jdbc_app' -c 'DROP ROLE IF EXISTS crm_jdbc_sup' \
	-c 'CREATE DATABASE crm_jdbc'
# on stdin, so that the passwords are never on a command line (psql's -v
# would put them there: they are read from the environment with \getenv)
"${PSQL[@]}" -d crm_jdbc >/dev/null <<'SQL'
\getenv password CRM_JDBC_PASSWORD
\getenv sup_password CRM_JDBC_SUP_PASSWORD
CREATE ROLE crm_jdbc_app LOGIN PASSWORD :'password';
CREATE ROLE crm_jdbc_sup LOGIN PASSWORD :'sup_password';
CREATE EXTENSION crm;
SELECT crm.install_data_model();
-- the operators of crm's types are found on the search path (doc/types.md)
ALTER DATABASE crm_jdbc SET search_path = "$user", public, crm;
-- an application that writes clients of every unit, with the duplicate
-- check on save, and merges them: crm's administrator role
-- (doc/security.md), under crm's row-level security
SELECT crm.create_roles();
SELECT crm.enable_row_security();
GRANT crm_admin TO crm_jdbc_app;
-- a supervisor in Kraków (unit 2 and the department below it), and clients
-- of Kraków, of the department and of Gdańsk
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Agencja'), (2, 1, 'branch', 'Kraków'), (3, 2, 'department', 'Komunikacja'),
    (4, 1, 'branch', 'Gdańsk');
GRANT crm_supervisor TO crm_jdbc_sup;
SELECT crm.user_unit('crm_jdbc_sup', 2);
INSERT INTO crm.client (first_name, last_name, city, unit_id) VALUES
    ('Piotr', 'Zieliński', 'Kraków', 2), ('Ewa', 'Mazur', 'Kraków', 3), ('Anna', 'Nowak', 'Gdańsk', 4);
SQL

java -cp "$JAR" test/jdbc/CrmDriverTest.java "jdbc:postgresql://127.0.0.1:${PGPORT}/crm_jdbc" crm_jdbc_app crm_jdbc_sup
