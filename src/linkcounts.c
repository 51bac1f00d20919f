/*-------------------------------------------------------------------------
 *
 * linkcounts.c
 *	  crm.client_links()'s counting query, planned once per session.
 *
 * crm.client_links(client_id) counts the rows of every table that
 * references crm.client, in one UNION ALL query built from the catalog
 * (src/sql/45_client_links.sql).  Planning that query costs more than
 * running it, and merges and deletes ask for every source, so the plan is
 * kept for the session.
 *
 * It is kept here, in the backend's memory, and not as a named prepared
 * statement: a session's prepared statements are the session's users' to
 * DEALLOCATE and PREPARE again under the same name, and crm's SECURITY
 * DEFINER functions (merge, delete) call crm.client_links(): a statement
 * planted under the name crm looks for would run with crm's owner's rights.
 * No SQL reaches this cache.  The plans are SPI's kept plans: the plan
 * cache replans them after DDL, checks privileges when each runs, and
 * replans for another role where row-level security applies, so a plan
 * made in an agent's call and used in a merge (as crm's owner) is correct
 * for each.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(client_link_counts);

/* the queries planned so far in this session, with their plans */
typedef struct LinkQuery
{
	char	   *query;			/* in TopMemoryContext */
	SPIPlanPtr	plan;			/* kept (SPI_keepplan) */
	struct LinkQuery *next;
} LinkQuery;

static LinkQuery *link_queries = NULL;

/*
 * Calls under way: a query may call crm_internal.client_link_counts()
 * itself, and a nested call must neither plan into the cache nor evict from
 * it (the entry it would free may be the plan its caller is running).
 */
static int	link_depth = 0;

/* a new foreign key or other privileges make another text: a handful per session */
#define MAX_LINK_QUERIES 32

static SPIPlanPtr
link_query_plan(const char *query)
{
	LinkQuery  *q;
	LinkQuery  *last = NULL;
	LinkQuery  *before_last = NULL;
	int			n = 0;
	Oid			argtypes[1] = {INT8OID};
	SPIPlanPtr	plan;

	/* only the outermost call plans into the cache (see link_depth) */
	Assert(link_depth == 1);
	for (q = link_queries; q != NULL; q = q->next, n++)
	{
		if (strcmp(q->query, query) == 0)
			return q->plan;
		before_last = last;
		last = q;
	}
	/* bounded below */
	Assert(n <= MAX_LINK_QUERIES);
	plan = SPI_prepare(query, 1, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not plan crm.client_links()'s query: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "could not keep crm.client_links()'s plan");
	/* bounded: the oldest goes when the list is full */
	if (n >= MAX_LINK_QUERIES)
	{
		Assert(last != NULL && before_last != NULL);
		before_last->next = NULL;
		SPI_freeplan(last->plan);
		pfree(last->query);
		pfree(last);
	}
	q = MemoryContextAlloc(TopMemoryContext, sizeof(LinkQuery));
	q->query = MemoryContextStrdup(TopMemoryContext, query);
	q->plan = plan;
	q->next = link_queries;
	link_queries = q;
	return plan;
}

/*
 * crm_internal.client_link_counts(query text, client_id bigint):
 * the rows of query, a SELECT with parameter $1 (bigint) whose columns are
 * those of crm.client_links(), run with the caller's rights.
 */
Datum
client_link_counts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *query;
	Datum		values[1];
	char		nulls[1] = {' '};
	SPIPlanPtr	plan;
	int			ret;
	uint64		i;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	values[0] = PG_GETARG_DATUM(1);

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PG_TRY();
	{
		if (link_depth++ == 0)
			plan = link_query_plan(query);
		else
		{
			/* nested: a plan of its own, gone with this call's SPI */
			Oid			argtypes[1] = {INT8OID};

			plan = SPI_prepare(query, 1, argtypes);
			if (plan == NULL)
				elog(ERROR, "could not plan crm.client_links()'s query: %s",
					 SPI_result_code_string(SPI_result));
		}
		ret = SPI_execute_plan(plan, values, nulls, true, 0);
	}
	PG_FINALLY();
	{
		link_depth--;
		Assert(link_depth >= 0);
	}
	PG_END_TRY();
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "crm.client_links()'s query failed: %s", SPI_result_code_string(ret));
	if (SPI_tuptable->tupdesc->natts != rsinfo->setDesc->natts)
		elog(ERROR, "crm.client_links()'s query returns %d columns, not %d",
			 SPI_tuptable->tupdesc->natts, rsinfo->setDesc->natts);
	for (i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
	SPI_finish();
	return (Datum) 0;
}
