/*-------------------------------------------------------------------------
 *
 * datamodel.h
 *	  crm's data model as the C code sees it: the check that it is
 *	  installed (datamodel.c) and the conditions on its tables that the C
 *	  queries share.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_DATAMODEL_H
#define CRM_DATAMODEL_H

#include "executor/spi.h"


/* raise a clear error unless crm.install_data_model() has run at this version */
extern void crm_require_data_model(void);

/*
 * Refuse, before reading any column, to run trigger function funcname on
 * a table (relid, the trigger's) other than crm.<relname>: a trigger function attached to a
 * table of the caller's own (a temporary table with columns of other
 * types) would otherwise read its rows as crm's.
 */
extern void crm_require_trigger_table(Oid relid, const char *relname, const char *funcname);

/*
 * The plan of query kept in *slot for the session (SPI connected): prepared
 * (SPI_prepare_cursor() with cursor_options, 0 for none) and kept
 * (SPI_keepplan()) on the first call, the same plan after.  A plan the
 * plan cache must re-check against a changed table is made again by the
 * cache itself.
 */
extern SPIPlanPtr crm_kept_plan(SPIPlanPtr *slot, const char *query, int nargs, Oid *argtypes,
								int cursor_options);

/* the owner of table crm.<relname> of the data model */
extern Oid	crm_table_owner(const char *relname);

/*
 * Run work(arg) as role owner (a table's owner, crm_table_owner()): with
 * its rights, as the server's RI triggers run their checks, and in a
 * restricted operation (no SET ROLE, no temporary objects).  The caller's
 * user id and security context are back when it returns, and when it
 * raises an error too (PG_FINALLY), before anything else runs.  The work
 * must read only crm's tables with schema-qualified names and pg_catalog's
 * operators and types (OPERATOR(pg_catalog.=), pg_catalog.float8): nothing
 * of the caller's search_path may run with the owner's rights.
 */
typedef void (*CrmOwnerWork) (void *arg);
extern void crm_as_owner(Oid owner, CrmOwnerWork work, void *arg);

/*
 * A visible client of crm.client, as an SQL condition on the row under
 * alias a (a string literal): neither hidden (crm.hide_client(), a last
 * consent withdrawn) nor anonymized, by the one SQL definition of it,
 * crm_internal.client_is_visible() (inlined by the planner).  Duplicate search looks only among
 * these, in every query, so that crm.duplicate_pairs() and
 * crm.duplicate_candidates() agree on whom they may propose:
 *		"SELECT c.* FROM crm.client c WHERE " CRM_CLIENT_VISIBLE("c")
 */
#define CRM_CLIENT_VISIBLE(a) \
	"crm_internal.client_is_visible(" a ".hidden_at, " a ".anonymized_at)"

#endif
