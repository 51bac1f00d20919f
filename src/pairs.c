/*-------------------------------------------------------------------------
 *
 * pairs.c
 *	  crm.duplicate_pairs(min_score double precision) over the whole visible base:
 *
 *	  1. read every visible client that is not anonymized (as the caller:
 *	     row-level security applies) and its phones and e-mails, and compute each one's
 *	     matching forms once;
 *	  2. blocking: every client's keys (crm.match_keys, PESEL, NIP, the
 *	     9-digit REGON, each phone and e-mail) as 64-bit hashes, sorted;
 *	     clients sharing a key are compared, except in blocks larger than
 *	     crm.max_block_size() (a call centre's number, the commonest names);
 *	  3. score each distinct pair (scoring.c), with the frequencies of
 *	     names (matchfreq.c: counted once over the clients read, what the
 *	     caller reaches), and return those at or above
 *	     min_score, best first, with their reasons.
 *
 *	  Memory: about 300 bytes per client (and 40 more per dated person for
 *	  the counts of full names) and 8 per compared pair, freed at the end.
 *	  Progress NOTICEs as crm_internal.report_progress() gives them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "datamodel.h"
#include "matchbase.h"
#include "matchfreq.h"
#include "matchweights.h"
#include "progress.h"
#include "scoring.h"

typedef struct Found
{
	uint32		a;
	uint32		b;
	double		score;
} Found;

/* best first, then by a and b: a total order (sort_template.h, inlined) */
#define ST_SORT sort_found
#define ST_ELEMENT_TYPE Found
#define ST_COMPARE(x, y) \
	((x)->score != (y)->score ? ((x)->score > (y)->score ? -1 : 1) : \
	 (x)->a != (y)->a ? ((x)->a < (y)->a ? -1 : 1) : \
	 ((x)->b < (y)->b ? -1 : (x)->b > (y)->b))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/*
 * The pairs go by a: b is the client far away in memory.  The scoring loop
 * prefetches the second client of the pair PREFETCH_AHEAD * 2 ahead, and
 * its fields (buf) PREFETCH_AHEAD ahead.
 */
#define PREFETCH_AHEAD 8
#if defined(__GNUC__) || defined(__clang__)
#define crm_prefetch(p) __builtin_prefetch(p)
#else
#define crm_prefetch(p) ((void) 0)
#endif

static Datum pairs_of_base(FunctionCallInfo fcinfo, MatchScoreReader reader);

/* crm.duplicate_pairs(min_score): the caller's search */
PG_FUNCTION_INFO_V1(duplicate_pairs);
Datum
duplicate_pairs(PG_FUNCTION_ARGS)
{
	return pairs_of_base(fcinfo, SCORES_FOR_CALLER);
}

/*
 * crm_internal.duplicate_pairs_recorded(min_score): the import's duplicate
 * pass, whose scores crm.possible_duplicate keeps for other roles to read
 * (MatchScoreReader, matchfreq.h)
 */
PG_FUNCTION_INFO_V1(duplicate_pairs_recorded);
Datum
duplicate_pairs_recorded(PG_FUNCTION_ARGS)
{
	return pairs_of_base(fcinfo, SCORES_RECORDED);
}

static Datum
pairs_of_base(FunctionCallInfo fcinfo, MatchScoreReader reader)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext work = AllocSetContextCreate(CurrentMemoryContext, "crm duplicate_pairs",
											   ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	Oid			argtypes[1] = {FLOAT8OID};
	Datum		args[1];
	char		argnulls[1];
	bool		isnull;
	MatchWeights weights;
	MatchFrequencies freq;
	double		min_score;
	int			max_block;
	MatchBase	base = {0};
	MatchBound	bound;
	uint64	   *pairs;
	uint64		npairs;
	Found	   *found = NULL;
	uint64		nfound = 0;
	uint64		foundcap = 0;
	TimestampTz started = GetCurrentTimestamp();

	crm_require_data_model();
	InitMaterializedSRF(fcinfo, 0);
	args[0] = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	argnulls[0] = PG_ARGISNULL(0) ? 'n' : ' ';

	SPI_connect();
	crm_match_weights_load(&weights);
	if (SPI_execute_with_args("SELECT coalesce($1, crm.default_min_score()), crm.max_block_size()",
							  1, argtypes, args, argnulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the duplicate search settings");
	min_score = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	max_block = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

	crm_match_base_read(&base, work, "duplicate_pairs", started);
	/*
	 * how common the base's names are: counted over the clients read, as
	 * the caller, so only over what it reaches (matchfreq.c)
	 */
	crm_match_frequencies_count(&freq, base.clients, base.nclients, reader, work);

	old = MemoryContextSwitchTo(work);
	pairs = crm_match_base_pairs(&base, max_block, &npairs);
	crm_match_base_report(&base, "duplicate_pairs", npairs, started);

	/*
	 * 3. score every pair, giving up on a pair as soon as it cannot reach
	 * min_score (crm_match_score_bounded: the pairs kept have the very score
	 * of crm_match_score); what scoring allocates goes with each pair
	 */
	crm_match_bound_init(&bound, &weights, min_score);
	started = GetCurrentTimestamp();
	{
		MemoryContext scratch = AllocSetContextCreate(work, "crm pairs scoring", ALLOCSET_DEFAULT_SIZES);

		for (uint64 k = 0; k < npairs; k++)
		{
			double		score;

			CHECK_FOR_INTERRUPTS();
			if (k + 2 * PREFETCH_AHEAD < npairs)
				crm_prefetch(&base.clients[(uint32) pairs[k + 2 * PREFETCH_AHEAD]]);
			if (k + PREFETCH_AHEAD < npairs)
				crm_prefetch(base.clients[(uint32) pairs[k + PREFETCH_AHEAD]].buf);
			score = crm_match_base_score_bounded(&base, pairs[k], &weights, &freq, scratch, &bound);
			if (score >= min_score)
			{
				Assert(foundcap == 0 || GetMemoryChunkContext(found) == work);
				found = crm_grow_array(found, sizeof(Found), &foundcap, nfound + 1);
				found[nfound].a = (uint32) (pairs[k] >> 32);
				found[nfound].b = (uint32) pairs[k];
				found[nfound++].score = score;
			}
			crm_report_progress("duplicate_pairs: scoring pairs", k + 1, npairs, started);
		}
		MemoryContextDelete(scratch);
	}
	if (nfound > 1)
		sort_found(found, nfound);

	/* the pairs found, best first, with their reasons */
	{
		MemoryContext row = AllocSetContextCreate(work, "crm pairs row", ALLOCSET_DEFAULT_SIZES);

		for (uint64 k = 0; k < nfound; k++)
		{
			const char *shared[16];
			int			nshared = crm_match_base_shared(&base, found[k].a, found[k].b, shared, lengthof(shared));
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};

			Assert(found[k].a < found[k].b && found[k].b < base.nclients);
			MemoryContextSwitchTo(row);
			values[0] = Int64GetDatum(base.clients[found[k].a].id);
			values[1] = Int64GetDatum(base.clients[found[k].b].id);
			values[2] = Float8GetDatum(crm_match_score(&base.clients[found[k].a], &base.clients[found[k].b],
													   shared, nshared, &weights, &freq, &values[3]));
			/* a pair kept by the bounded scoring has its full score, bit for bit (scoring.c) */
			Assert(DatumGetFloat8(values[2]) == found[k].score);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			MemoryContextSwitchTo(work);
			MemoryContextReset(row);
		}
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
	MemoryContextDelete(work);
	return (Datum) 0;
}
