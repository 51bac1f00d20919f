/*-------------------------------------------------------------------------
 *
 * datamodel.c
 *	  The check every function that needs crm's data model makes first.
 *
 * The extension owns the logic; the tables are the database's, created by
 * crm.install_data_model() (src/sql/05_data_model.sql).  A function that
 * reads or writes them calls crm_require_data_model() (C) or
 * crm_internal.require_data_model() (SQL) so that a database without the
 * model, or with a model of another version (a dump of an older release
 * restored under a newer extension), gets an error that says what to do
 * instead of "relation does not exist" or a missing column.
 *
 * The answer is cached per session and keyed on crm.data_model's OID: a
 * model dropped and installed again, or restored, is a new relation and is
 * checked anew.  The upgrade script that changes the extension's version
 * migrates the model in the same transaction, so a cached "yes" stays true.
 *
 * And the one home of running a lookup with a table owner's rights
 * (crm_as_owner()): the duplicate search's key lookups (candidates.c) and
 * the counts of names (matchfreq.c), which no crm role may read itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "datamodel.h"

PG_FUNCTION_INFO_V1(require_data_model);
PG_FUNCTION_INFO_V1(require_trigger_table);

static Oid	checked_model = InvalidOid;

void
crm_require_data_model(void)
{
	Oid			nsp = get_namespace_oid("crm", true);
	Oid			model = OidIsValid(nsp) ? get_relname_relid("data_model", nsp) : InvalidOid;
	char	   *installed;
	char	   *extension;

	if (!OidIsValid(model))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("crm's data model is not installed in this database"),
				 errdetail("CREATE EXTENSION crm installs the functions and types; the tables are created separately."),
				 errhint("Run SELECT crm.install_data_model(); as a superuser (the tables will belong to that role).")));
	if (model == checked_model)
		return;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT (SELECT m.version FROM crm.data_model m), "
					"(SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'crm')",
					true, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read crm.data_model");
	installed = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	extension = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (installed == NULL || extension == NULL || strcmp(installed, extension) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("crm's data model is at version %s, the extension at %s",
						installed ? installed : "(none)", extension ? extension : "(none)"),
				 errdetail("The tables were created by another version of crm, as when a dump of another release is restored."),
				 errhint("A model of an older version: run SELECT crm.install_data_model(); as a superuser to migrate it.  "
						 "Of a newer version: install that version of crm.")));
	SPI_finish();
	checked_model = model;
}

/*
 * crm_internal.require_data_model(): the same, for SQL and PL/pgSQL.
 */
Datum
require_data_model(PG_FUNCTION_ARGS)
{
	crm_require_data_model();
	PG_RETURN_VOID();
}

void
crm_require_trigger_table(Oid relid, const char *relname, const char *funcname)
{
	Oid			crm = get_namespace_oid("crm", true);
	char	   *fired_on = get_rel_name(relid);

	if (!OidIsValid(crm) || get_rel_namespace(relid) != crm || fired_on == NULL ||
		strcmp(fired_on, relname) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger function %s fires on crm.%s only", funcname, relname),
				 errdetail("It was fired on table \"%s\".", fired_on ? fired_on : "?"),
				 errhint("Do not attach crm's trigger functions to other tables.")));
}

/*
 * crm_internal.require_trigger_table(fired_on oid, table_name text,
 * function_name text): the same check for the PL/pgSQL trigger functions
 * (TG_RELID)
 */
Datum
require_trigger_table(PG_FUNCTION_ARGS)
{
	crm_require_trigger_table(PG_GETARG_OID(0), text_to_cstring(PG_GETARG_TEXT_PP(1)),
							  text_to_cstring(PG_GETARG_TEXT_PP(2)));
	PG_RETURN_VOID();
}

Oid
crm_table_owner(const char *relname)
{
	Oid			relid = get_relname_relid(relname, get_namespace_oid("crm", false));
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"crm.%s\" does not exist", relname),
				 errhint("Run SELECT crm.install_data_model(); as a superuser.")));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

void
crm_as_owner(Oid owner, CrmOwnerWork work, void *arg)
{
	Oid			save_user;
	int			save_sec;

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		work(arg);
	}
	PG_FINALLY();
	{
		/* also on error: whoever catches it (a PL/pgSQL handler) is the caller again */
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
}

SPIPlanPtr
crm_kept_plan(SPIPlanPtr *slot, const char *query, int nargs, Oid *argtypes, int cursor_options)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	p = SPI_prepare_cursor(query, nargs, argtypes, cursor_options);

		if (p == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", query, SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*slot = p;
	}
	return *slot;
}
