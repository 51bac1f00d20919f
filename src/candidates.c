/*-------------------------------------------------------------------------
 *
 * candidates.c
 *	  crm.duplicate_candidates(client_id bigint, min_score double precision) for one
 *	  client, the check on save's search:
 *
 *	  1. the client's blocking keys (crm.match_keys, PESEL, NIP, REGON, its
 *	     phones and e-mails), each looked up with a LIMIT of
 *	     crm.max_block_size() + 1: a larger block (the commonest names, a
 *	     call centre's number) says nothing and is left out, as in
 *	     crm.duplicate_pairs;
 *	  2. the clients found read in one query, as the caller (row-level
 *	     security applies), and scored in C (scoring.c), the phones and
 *	     e-mails in common taken from the contact blocks themselves, the
 *	     frequencies of the client's own names and city looked up once
 *	     (matchfreq.c: one indexed query).
 *
 *	  The queries are prepared once per session, with generic plans (see
 *	  plan()).
 *
 *	  The key lookups of step 1 run as the owner of crm.client.  Under
 *	  row-level security the planner may not use an index for a condition
 *	  whose operator is not leakproof (&& on the match keys, lower() on the
 *	  contacts, crm's identifier operators) ahead of the policy: the lookups
 *	  became sequential scans, 65 to 190 times slower for every role that
 *	  row-level security binds, administrators included (bench/access.sh).
 *	  As the owner they use the indexes; then every client they found is
 *	  kept only if the caller sees it, asked as the caller (by primary key,
 *	  whose operator is leakproof), so the result is what the caller's
 *	  row-level security allows, crm's policies and a DBA's own alike.  The
 *	  lookups read only crm's tables with crm's functions and operators, in
 *	  plans made under the function's pinned search_path; nothing of theirs
 *	  is returned before the caller's check.  A block is cut at
 *	  crm.max_block_size() over the visible clients the caller reaches by
 *	  crm's structure (Q_REACH), so that its size tells nothing of others.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "datamodel.h"
#include "matchforms.h"
#include "matchfreq.h"
#include "matchkeys.h"
#include "matchweights.h"
#include "scoring.h"

/*
 * The client itself, the search settings and the caller's reach (Q_REACH
 * below), in one query as the caller.  Not CRM_CLIENT_VISIBLE: a hidden
 * client may look for its own duplicates (doc/duplicates.md); an
 * anonymized one has nothing left to match.  crm_row_security: whether
 * row-level security binds the caller on crm.client at all; if not, it sees
 * every client the lookups find, and Q_SEEN has nothing to remove.
 */
#define Q_ME \
	"SELECT coalesce($2, crm.default_min_score()) AS crm_min_score, " \
	"       crm.max_block_size() AS crm_max_block, " \
	"       r.crm_reach_all, " \
	"       CASE WHEN r.crm_reach_all THEN '{}'::bigint[] " \
	"            ELSE crm_internal.scope_units(current_user::text) END AS crm_reach_units, " \
	"       row_security_active('crm.client'::regclass) AS crm_row_security, c.* " \
	"FROM crm.client c CROSS JOIN LATERAL (" Q_REACH_ALL ") r " \
	"WHERE c.id = $1 AND c.anonymized_at IS NULL"
/*
 * The lookups below run as the owner (see the head of this file) and cut
 * each block at a cap: the cap counts the clients the caller reaches under
 * crm's structure, passed in (all: everyone, or no row-level security on
 * crm.client; else the caller's units), so that a block's size says
 * nothing of clients out of reach.
 */
/* (unit_id + 0: a filter, never an index condition; the key's index finds the block) */
#define IN_REACH(alias, all, units) "(" all " OR " alias ".unit_id + 0 = ANY (" units "))"
/*
 * Q_REACH: whether the caller reaches every client, and its units (as the
 * caller): all where row-level security does not bind it on crm.client, or
 * binds it by policies of the DBA's own rather than crm's
 * (crm.enable_row_security()); asked in Q_ME, once the client is found.
 */
#define Q_REACH_ALL \
	"SELECT CASE WHEN NOT row_security_active('crm.client'::regclass) THEN true " \
	"            WHEN NOT EXISTS (SELECT FROM pg_catalog.pg_policy p " \
	"                             WHERE p.polrelid = 'crm.client'::regclass AND p.polname = 'crm_reach') " \
	"            THEN true " \
	"            ELSE crm_internal.sees_all(current_user::text) END AS crm_reach_all"
/*
 * The blocks of the phones and e-mails of client $1 (named, for the
 * evidence) and of its identifiers $3-$5: their visible clients, as in
 * crm.duplicate_pairs, each block cut at $2.
 */
#define Q_BLOCKS \
	"SELECT x.kind || ':' || x.value, " \
	"       ARRAY(SELECT y.client_id FROM crm.contact y JOIN crm.client o ON o.id = y.client_id " \
	"             WHERE y.kind = x.kind AND lower(y.value) = x.value " \
	"               AND " CRM_CLIENT_VISIBLE("o") " AND " IN_REACH("o", "$6", "$7") " LIMIT $2) " \
	"FROM (SELECT DISTINCT c.kind, lower(c.value) AS value FROM crm.contact c WHERE c.client_id = $1) x " \
	"UNION ALL " \
	"SELECT NULL, ARRAY(SELECT o.id FROM crm.client o WHERE o.pesel = $3::crm.pesel " \
	"                   AND " CRM_CLIENT_VISIBLE("o") " AND " IN_REACH("o", "$6", "$7") " LIMIT $2) " \
	"WHERE $3 IS NOT NULL " \
	"UNION ALL " \
	"SELECT NULL, ARRAY(SELECT o.id FROM crm.client o WHERE o.nip = $4::crm.nip " \
	"                   AND " CRM_CLIENT_VISIBLE("o") " AND " IN_REACH("o", "$6", "$7") " LIMIT $2) " \
	"WHERE $4 IS NOT NULL " \
	"UNION ALL " \
	"SELECT NULL, ARRAY(SELECT o.id FROM crm.client o WHERE o.regon = $5::crm.regon " \
	"                   AND " CRM_CLIENT_VISIBLE("o") " AND " IN_REACH("o", "$6", "$7") " LIMIT $2) " \
	"WHERE $5 IS NOT NULL"
/*
 * The visible clients of each name and address key $1 (the GIN index
 * answers), at most $2 of each, read whole: they are the candidates.
 */
#define Q_KEY_ROWS \
	"SELECT k.n AS crm_key_no, o.* FROM unnest($1::text[]) WITH ORDINALITY AS k(key, n), " \
	"LATERAL (SELECT o.* FROM crm.client o " \
	"         WHERE crm.match_keys(o.kind, o.first_name, o.last_name, o.company_name, " \
	"                              o.city, o.address, o.postal_code, o.birth_date) && ARRAY[k.key] " \
	"           AND " CRM_CLIENT_VISIBLE("o") " AND " IN_REACH("o", "$3", "$4") " LIMIT $2) o"
/* the other candidates: found by a contact or an identifier */
#define Q_ROWS \
	"SELECT c.* FROM crm.client c " \
	"WHERE c.id = ANY ($1) AND " CRM_CLIENT_VISIBLE("c")
/* which of the clients $1 the caller sees (run as the caller) */
#define Q_SEEN \
	"SELECT c.id FROM crm.client c WHERE c.id = ANY ($1) ORDER BY c.id"

enum
{
	P_ME, P_BLOCKS, P_KEY_ROWS, P_ROWS, P_SEEN, NPLANS
};

static SPIPlanPtr plans[NPLANS];

static SPIPlanPtr
plan(int which)
{
	static const char *const queries[NPLANS] = {Q_ME, Q_BLOCKS, Q_KEY_ROWS, Q_ROWS, Q_SEEN};
	static const Oid types[NPLANS][7] = {
		{INT8OID, FLOAT8OID},
		{INT8OID, INT4OID, TEXTOID, TEXTOID, TEXTOID, BOOLOID, INT8ARRAYOID},
		{TEXTARRAYOID, INT4OID, BOOLOID, INT8ARRAYOID},
		{INT8ARRAYOID}, {INT8ARRAYOID}
	};
	static const int nargs[NPLANS] = {2, 7, 4, 1, 1};

	/*
	 * A generic plan, made once: the plan cache would otherwise plan most
	 * of these queries again on every call (a custom plan that knows an
	 * array's length or a NULL identifier looks cheaper than the generic
	 * one), which was about a fifth of the check on save.  The plans are
	 * the same index scans either way, and a LIMIT here only tells a block
	 * too large to use, so the results are too.
	 */
	return crm_kept_plan(&plans[which], queries[which], nargs[which], (Oid *) types[which],
						 CURSOR_OPT_GENERIC_PLAN);
}

static void
run(int which, Datum *args, const char *nulls)
{
	int			rc = SPI_execute_plan(plan(which), args, nulls, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "duplicate_candidates: %s", SPI_result_code_string(rc));
}

/* one of the plans, run as the owner of crm.client (crm_as_owner()) */
typedef struct OwnerRun
{
	int			which;
	Datum	   *args;
	const char *nulls;
} OwnerRun;

static void
owner_run(void *arg)
{
	OwnerRun   *r = arg;

	run(r->which, r->args, r->nulls);
}

/* Run a query as the owner of crm.client (the key lookups: see the head of this file). */
static void
run_as_owner(Oid owner, int which, Datum *args, const char *nulls)
{
	OwnerRun	r = {which, args, nulls};

	crm_as_owner(owner, owner_run, &r);
}

typedef struct CandidateBlock
{
	char	   *contact;		/* "kind:value" for a contact block, or NULL */
	int64	   *ids;
	int			nids;
} CandidateBlock;

/* a block from an int8[] column, unless it is NULL or larger than cap */
static bool
block_from(CandidateBlock *b, HeapTuple tuple, TupleDesc desc, int col, int cap)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);
	Datum	   *elems;
	bool	   *enulls;
	int			n;

	if (isnull)
		return false;
	deconstruct_array(DatumGetArrayTypeP(d), INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &enulls, &n);
	if (n == 0 || n > cap)
		return false;
	b->contact = NULL;
	b->nids = n;
	b->ids = palloc(sizeof(int64) * n);
	for (int k = 0; k < n; k++)
		b->ids[k] = DatumGetInt64(elems[k]);
	return true;
}

static int
compare_int64(const void *x, const void *y)
{
	int64		a = *(const int64 *) x;
	int64		b = *(const int64 *) y;

	return a < b ? -1 : a > b;
}

/* a row of Q_KEY_ROWS: the key it came for, the client, its place */
typedef struct KeyRow
{
	int			key;
	int64		id;
	int			row;
} KeyRow;

static int
compare_key_rows(const void *x, const void *y)
{
	const KeyRow *a = x;
	const KeyRow *b = y;

	return a->id < b->id ? -1 : a->id > b->id;
}

typedef struct Candidate
{
	MatchClient client;
	double		score;
} Candidate;

static int
compare_candidate_id(const void *key, const void *elem)
{
	int64		id = *(const int64 *) key;
	int64		other = ((const Candidate *) elem)->client.id;

	return id < other ? -1 : id > other;
}

static int
compare_candidates(const void *x, const void *y)
{
	const Candidate *a = x;
	const Candidate *b = y;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->client.id < b->client.id ? -1 : a->client.id > b->client.id;
}

/* the phones and e-mails of the contact blocks that hold client id */
static int
shared_with(const CandidateBlock *blocks, int nblocks, int64 id, const char **shared, int cap)
{
	int			n = 0;

	for (int k = 0; k < nblocks && n < cap; k++)
		if (blocks[k].contact &&
			bsearch(&id, blocks[k].ids, blocks[k].nids, sizeof(int64), compare_int64) != NULL)
			shared[n++] = blocks[k].contact;
	return n;
}

static Datum candidates(FunctionCallInfo fcinfo, MatchScoreReader reader);

/* crm.duplicate_candidates(client_id, min_score): the caller's search */
PG_FUNCTION_INFO_V1(duplicate_candidates);
Datum
duplicate_candidates(PG_FUNCTION_ARGS)
{
	return candidates(fcinfo, SCORES_FOR_CALLER);
}

/*
 * crm_internal.duplicate_candidates_recorded(client_id): the check on
 * save's, whose scores crm.possible_duplicate keeps for other roles to read
 * (MatchScoreReader, matchfreq.h)
 */
PG_FUNCTION_INFO_V1(duplicate_candidates_recorded);
Datum
duplicate_candidates_recorded(PG_FUNCTION_ARGS)
{
	return candidates(fcinfo, SCORES_RECORDED);
}

static Datum
candidates(FunctionCallInfo fcinfo, MatchScoreReader reader)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		client_id;
	MatchWeights weights;
	MatchFrequencies freq;
	MatchColumns cols;
	MatchClient me;
	double		min_score;
	int			cap;
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	bool		isnull;
	CandidateBlock	   *blocks;
	int			nblocks = 0;
	char	   *keys[CRM_MAX_NAME_KEYS];
	int			nkeys;
	MatchKeyFields kf;
	int64	   *ids;
	int			nids = 0;
	Candidate  *cands;
	int			ncands;
	MemoryContext caller = CurrentMemoryContext;
	Datum		reach_all;
	Datum		reach_units;
	bool		row_security;
	Oid			owner;

	crm_require_data_model();
	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	client_id = PG_GETARG_INT64(0);

	SPI_connect();

	/* the client; one the caller cannot see, or anonymized, has no candidates */
	args[0] = Int64GetDatum(client_id);
	args[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	nulls[1] = PG_ARGISNULL(1) ? 'n' : ' ';
	run(P_ME, args, nulls);
	if (SPI_processed == 0)
	{
		SPI_finish();
		return (Datum) 0;
	}
	nulls[1] = ' ';
	min_score = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	cap = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	/* the caller's reach, for the caps of the lookups */
	reach_all = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	if (isnull)
		reach_all = BoolGetDatum(false);
	reach_units = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull);
	/* no units: none reached (the tuple lives until SPI_finish) */
	if (isnull)
		reach_units = PointerGetDatum(construct_empty_array(INT8OID));
	row_security = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull));
	if (isnull)
		row_security = true;
	crm_match_columns(SPI_tuptable->tupdesc, &cols);
	crm_match_client_from_tuple(&me, SPI_tuptable->vals[0], SPI_tuptable->tupdesc, &cols,
								CurrentMemoryContext);
	crm_match_weights_load(&weights);
	/* how common the client's own names and city are: every agreement is on one of them */
	crm_match_frequencies_load(&freq, &me, reader, CurrentMemoryContext);
	owner = crm_table_owner("client");

	/* 1. the contact and identifier blocks */
	{
		Datum		bargs[7];
		char		bnulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
		MatchField	idf[3] = {MF_PESEL, MF_NIP, MF_REGON};

		bargs[0] = Int64GetDatum(client_id);
		bargs[1] = Int32GetDatum(cap + 1);
		bargs[5] = reach_all;
		bargs[6] = reach_units;
		for (int k = 0; k < 3; k++)
		{
			const char *v = crm_match_field(&me, idf[k]);

			bargs[2 + k] = v ? CStringGetTextDatum(v) : (Datum) 0;
			bnulls[2 + k] = v ? ' ' : 'n';
		}
		run_as_owner(owner, P_BLOCKS, bargs, bnulls);
	}
	blocks = palloc(sizeof(CandidateBlock) * Max(SPI_processed, 1));
	for (uint64 r = 0; r < SPI_processed; r++)
		if (block_from(&blocks[nblocks], SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, cap))
			blocks[nblocks++].contact = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
	for (int k = 0; k < nblocks; k++)
		qsort(blocks[k].ids, blocks[k].nids, sizeof(int64), compare_int64);

	/* 2. the clients of the name and address keys, read once each */
	crm_match_key_fields(&me, &kf);
	nkeys = crm_match_keys_of(&kf, keys);
	Assert(nkeys >= 0 && nkeys <= CRM_MAX_NAME_KEYS);
	ncands = 0;
	cands = NULL;
	if (nkeys > 0)
	{
		Datum		kd[CRM_MAX_NAME_KEYS];
		Datum		kargs[4];
		char		knulls[4] = {' ', ' ', ' ', ' '};
		int			per_key[CRM_MAX_NAME_KEYS + 1] = {0};
		KeyRow	   *rows;
		int			nrows = 0;
		int			keycol;

		for (int k = 0; k < nkeys; k++)
			kd[k] = CStringGetTextDatum(keys[k]);
		kargs[0] = PointerGetDatum(construct_array(kd, nkeys, TEXTOID, -1, false, TYPALIGN_INT));
		kargs[1] = Int32GetDatum(cap + 1);
		kargs[2] = reach_all;
		kargs[3] = reach_units;
		run_as_owner(owner, P_KEY_ROWS, kargs, knulls);
		keycol = SPI_fnumber(SPI_tuptable->tupdesc, "crm_key_no");
		crm_match_columns(SPI_tuptable->tupdesc, &cols);
		rows = palloc(sizeof(KeyRow) * Max(SPI_processed, 1));
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	t = SPI_tuptable->vals[r];

			rows[r].key = (int) DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, keycol, &isnull));
			rows[r].id = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, cols.id + 1, &isnull));
			rows[r].row = (int) r;
			if (rows[r].key >= 1 && rows[r].key <= nkeys)
				per_key[rows[r].key]++;
		}
		/* a key shared by more clients than its pass's cap says nothing */
		for (int k = 1; k <= nkeys; k++)
			if (per_key[k] > crm_match_pass_cap(crm_match_key_pass(keys[k - 1]), cap))
				per_key[k] = cap + 1;
		for (uint64 r = 0; r < SPI_processed; r++)
			if (rows[r].key >= 1 && rows[r].key <= nkeys && per_key[rows[r].key] <= cap &&
				rows[r].id != client_id)
				rows[nrows++] = rows[r];
		qsort(rows, nrows, sizeof(KeyRow), compare_key_rows);
		cands = palloc(sizeof(Candidate) * Max(nrows, 1));
		for (int r = 0; r < nrows; r++)
		{
			if (r > 0 && rows[r].id == rows[r - 1].id)
				continue;
			CHECK_FOR_INTERRUPTS();
			crm_match_client_from_tuple(&cands[ncands++].client, SPI_tuptable->vals[rows[r].row],
										SPI_tuptable->tupdesc, &cols, CurrentMemoryContext);
			/* rows sorted by id, duplicates skipped: strictly in id order */
			Assert(ncands == 1 || cands[ncands - 2].client.id < cands[ncands - 1].client.id);
		}
		/*
		 * the caller's row-level security: keep the clients it sees (all of
		 * them if none binds it)
		 */
		if (ncands > 0 && row_security)
		{
			Datum	   *elems = palloc(sizeof(Datum) * ncands);
			int			kept = 0;
			uint64		seen = 0;

			for (int k = 0; k < ncands; k++)
				elems[k] = Int64GetDatum(cands[k].client.id);
			args[0] = PointerGetDatum(construct_array(elems, ncands, INT8OID, sizeof(int64),
													  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
			run(P_SEEN, args, nulls);
			/* both in id order */
			for (int k = 0; k < ncands; k++)
			{
				while (seen < SPI_processed &&
					   DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[seen], SPI_tuptable->tupdesc, 1, &isnull))
					   < cands[k].client.id)
					seen++;
				if (seen < SPI_processed &&
					DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[seen], SPI_tuptable->tupdesc, 1, &isnull))
					== cands[k].client.id)
					cands[kept++] = cands[k];
			}
			ncands = kept;
		}
	}

	/* 3. the clients of the other blocks not read yet */
	nids = 0;
	for (int k = 0; k < nblocks; k++)
		nids += blocks[k].nids;
	ids = palloc(sizeof(int64) * Max(nids, 1));
	nids = 0;
	for (int k = 0; k < nblocks; k++)
		for (int j = 0; j < blocks[k].nids; j++)
		{
			int64		id = blocks[k].ids[j];

			/* the candidates read so far are in id order (asserted above) */
			if (id != client_id &&
				(ncands == 0 || bsearch(&id, cands, ncands, sizeof(Candidate), compare_candidate_id) == NULL))
				ids[nids++] = id;
		}
	qsort(ids, nids, sizeof(int64), compare_int64);
	{
		int			kept = 0;

		for (int k = 0; k < nids; k++)
			if (kept == 0 || ids[kept - 1] != ids[k])
				ids[kept++] = ids[k];
		nids = kept;
	}
	Assert(ncands >= 0 && nids >= 0);
	if (nids > 0)
	{
		Datum	   *elems = palloc(sizeof(Datum) * nids);

		for (int k = 0; k < nids; k++)
			elems[k] = Int64GetDatum(ids[k]);
		args[0] = PointerGetDatum(construct_array(elems, nids, INT8OID, sizeof(int64),
												  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		run(P_ROWS, args, nulls);
		crm_match_columns(SPI_tuptable->tupdesc, &cols);
		cands = cands ? repalloc(cands, sizeof(Candidate) * (ncands + SPI_processed))
			: palloc(sizeof(Candidate) * Max(SPI_processed, 1));
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			CHECK_FOR_INTERRUPTS();
			crm_match_client_from_tuple(&cands[ncands++].client, SPI_tuptable->vals[r],
										SPI_tuptable->tupdesc, &cols, CurrentMemoryContext);
		}
	}

	/* 4. score them */
	{
		int			kept = 0;

		for (int k = 0; k < ncands; k++)
		{
			const char *shared[16];
			int			nshared = shared_with(blocks, nblocks, cands[k].client.id, shared, lengthof(shared));

			cands[k].score = crm_match_score(&me, &cands[k].client, shared, nshared, &weights, &freq, NULL);
			if (cands[k].score >= min_score)
				cands[kept++] = cands[k];
		}
		ncands = kept;
	}
	if (ncands > 1)
		qsort(cands, ncands, sizeof(Candidate), compare_candidates);
	for (int k = 0; k < ncands; k++)
	{
		const char *shared[16];
		int			nshared = shared_with(blocks, nblocks, cands[k].client.id, shared, lengthof(shared));
		Datum		values[3];
		bool		vnulls[3] = {false, false, false};

		values[0] = Int64GetDatum(cands[k].client.id);
		values[1] = Float8GetDatum(crm_match_score(&me, &cands[k].client, shared, nshared, &weights,
												   &freq, &values[2]));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, vnulls);
	}
	SPI_finish();
	/* SPI_finish went back to the context of SPI_connect's caller */
	Assert(CurrentMemoryContext == caller);
	MemoryContextSwitchTo(caller);
	return (Datum) 0;
}
