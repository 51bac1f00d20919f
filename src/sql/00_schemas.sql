-- crm install script, built by the Makefile from src/sql/NN_concept.sql in order

\echo Use "CREATE EXTENSION crm" to load this file. \quit

--------------------------------------------------------------------------
-- Schemas
--
-- crm: what users call and query: the types, the public functions, and
--      (created by crm.install_data_model(), not by this script) the
--      tables and views of the data model.  \df crm.* is the manual.
-- crm_internal: the machinery: trigger functions, catalog helpers, the
--      types' support functions, the pieces of the public functions.
--      Nothing there is meant to be called by users; it may change in any
--      release.
--------------------------------------------------------------------------

-- The types and functions are for everyone; the tables are not:
-- crm.create_roles() grants crm's roles what each needs (doc/security.md).
GRANT USAGE ON SCHEMA crm TO PUBLIC;

CREATE SCHEMA crm_internal;
COMMENT ON SCHEMA crm_internal IS
    'internals of the crm extension (trigger functions, helpers): not an interface';
-- the triggers and views of the data model call into it with the rights of
-- whoever writes or reads the tables
GRANT USAGE ON SCHEMA crm_internal TO PUBLIC;

-- Functions with string bodies are checked when they are called, not here
-- (CREATE EXTENSION runs its script with check_function_bodies off): many
-- read the data model's tables, which crm.install_data_model() creates
-- later.  For the same reason no function of this script has an SQL-standard
-- body (BEGIN ATOMIC, RETURN) or an argument or result typed by one of
-- those tables: both are resolved at once.
