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
 *	     names and cities (matchfreq.c, read once), and return those at or
 *	     above min_score, best first, with their reasons.
 *
 *	  Memory: about 300 bytes per client and 8 per compared pair, freed at
 *	  the end.  Progress NOTICEs as crm_internal.report_progress() gives them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "datamodel.h"
#include "matchforms.h"
#include "matchfreq.h"
#include "matchkeys.h"
#include "matchweights.h"
#include "progress.h"
#include "scoring.h"

#define FETCH_ROWS 10000

typedef struct KeyEntry
{
	uint64		hash;
	uint32		client;			/* index in Base.clients */
} KeyEntry;

typedef struct Contact
{
	uint64		hash;			/* of "kind:value" */
	char	   *text;			/* "kind:value", value in lower case */
} Contact;

typedef struct Base
{
	MatchClient *clients;		/* by id */
	uint32		nclients;
	Contact    *contacts;		/* by client, then text */
	uint32	   *first_contact;	/* of client k: first_contact[k] up to
								 * first_contact[k + 1] */
	uint32		ncontacts;
	uint64	   *common;			/* hashes of contacts in too large blocks, sorted */
	uint32		ncommon;
} Base;

typedef struct Found
{
	uint32		a;
	uint32		b;
	double		score;
} Found;

static uint64
key_hash(const char *s)
{
	return hash_bytes_extended((const unsigned char *) s, strlen(s), 0x63726d);
}

static int
compare_keys(const void *x, const void *y)
{
	const KeyEntry *a = x;
	const KeyEntry *b = y;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	return a->client < b->client ? -1 : a->client > b->client;
}

static int
compare_uint64(const void *x, const void *y)
{
	uint64		a = *(const uint64 *) x;
	uint64		b = *(const uint64 *) y;

	return a < b ? -1 : a > b;
}

static int
compare_found(const void *x, const void *y)
{
	const Found *a = x;
	const Found *b = y;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

/* a growing array in the work context */
static void *
grow(void *array, Size elem, uint64 *cap, uint64 needed)
{
	if (needed <= *cap)
		return array;
	*cap = Max(needed, *cap * 2);
	return array ? repalloc_huge(array, *cap * elem) : MemoryContextAllocHuge(CurrentMemoryContext, *cap * elem);
}

/* 1. the visible clients, by id, with their matching forms */
static void
read_clients(Base *base, MemoryContext work, TimestampTz started)
{
	Portal		portal;
	MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "crm pairs scratch",
												  ALLOCSET_DEFAULT_SIZES);
	MatchColumns cols;
	bool		have_cols = false;
	uint64		cap = 0;
	int64		total;
	bool		isnull;

	if (SPI_execute("SELECT count(*) FROM crm.client c WHERE " CRM_CLIENT_VISIBLE("c"), true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not count the clients");
	total = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	portal = SPI_cursor_open_with_args(NULL,
									   "SELECT c.* FROM crm.client c "
									   "WHERE " CRM_CLIENT_VISIBLE("c") " ORDER BY c.id",
									   0, NULL, NULL, NULL, true, CURSOR_OPT_NO_SCROLL);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		if (!have_cols)
		{
			crm_match_columns(SPI_tuptable->tupdesc, &cols);
			have_cols = true;
		}
		{
			MemoryContext old = MemoryContextSwitchTo(work);

			base->clients = grow(base->clients, sizeof(MatchClient), &cap,
								 (uint64) base->nclients + SPI_processed);
			MemoryContextSwitchTo(old);
		}
		for (uint64 k = 0; k < SPI_processed; k++)
		{
			MemoryContext old = MemoryContextSwitchTo(scratch);

			CHECK_FOR_INTERRUPTS();
			crm_match_client_from_tuple(&base->clients[base->nclients], SPI_tuptable->vals[k],
										SPI_tuptable->tupdesc, &cols, work);
			MemoryContextSwitchTo(old);
			MemoryContextReset(scratch);
			base->nclients++;
			crm_report_progress("duplicate_pairs: reading clients", base->nclients, total, started);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(scratch);
}

static int
compare_client_id(const void *key, const void *elem)
{
	int64		id = *(const int64 *) key;
	int64		other = ((const MatchClient *) elem)->id;

	return id < other ? -1 : id > other;
}

/* the phones and e-mails of the clients read, grouped by client */
static void
read_contacts(Base *base, MemoryContext work)
{
	Portal		portal;
	uint64		cap = 0;
	uint32		next = 0;		/* the client whose contacts come next */

	base->first_contact = MemoryContextAllocHuge(work, sizeof(uint32) * ((Size) base->nclients + 1));
	portal = SPI_cursor_open_with_args(NULL,
									   "SELECT DISTINCT x.client_id, x.kind || ':' || lower(x.value) COLLATE \"C\" "
									   "FROM crm.contact x ORDER BY 1, 2",
									   0, NULL, NULL, NULL, true, CURSOR_OPT_NO_SCROLL);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		for (uint64 k = 0; k < SPI_processed; k++)
		{
			bool		isnull;
			int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1, &isnull));
			MatchClient *c = bsearch(&id, base->clients, base->nclients, sizeof(MatchClient),
									 compare_client_id);
			MemoryContext old;
			uint32		idx;

			CHECK_FOR_INTERRUPTS();
			if (c == NULL)
				continue;		/* hidden, or not visible to the caller */
			idx = (uint32) (c - base->clients);
			while (next <= idx)
				base->first_contact[next++] = base->ncontacts;
			old = MemoryContextSwitchTo(work);
			base->contacts = grow(base->contacts, sizeof(Contact), &cap, (uint64) base->ncontacts + 1);
			base->contacts[base->ncontacts].text = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[k],
																					 SPI_tuptable->tupdesc, 2,
																					 &isnull));
			MemoryContextSwitchTo(old);
			base->contacts[base->ncontacts].hash = key_hash(base->contacts[base->ncontacts].text);
			base->ncontacts++;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	while (next <= base->nclients)
		base->first_contact[next++] = base->ncontacts;
}

/* 2. every client's keys, sorted by hash */
static KeyEntry *
block_keys(Base *base, uint64 *nkeys_out)
{
	MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "crm pairs keys",
												  ALLOCSET_DEFAULT_SIZES);
	KeyEntry   *keys = NULL;
	uint64		cap = 0;
	uint64		nkeys = 0;

	for (uint32 i = 0; i < base->nclients; i++)
	{
		const MatchClient *c = &base->clients[i];
		char	   *names[CRM_MAX_NAME_KEYS + 3];
		MatchKeyFields kf;
		int			n;
		MemoryContext old = MemoryContextSwitchTo(scratch);

		CHECK_FOR_INTERRUPTS();
		crm_match_key_fields(c, &kf);
		n = crm_match_keys_of(&kf, names);
		if (crm_match_field(c, MF_PESEL))
			names[n++] = psprintf("pesel:%s", crm_match_field(c, MF_PESEL));
		if (crm_match_field(c, MF_NIP))
			names[n++] = psprintf("nip:%s", crm_match_field(c, MF_NIP));
		if (crm_match_field(c, MF_REGON))
			names[n++] = psprintf("regon:%.9s", crm_match_field(c, MF_REGON));
		MemoryContextSwitchTo(old);

		keys = grow(keys, sizeof(KeyEntry), &cap,
					nkeys + n + (base->first_contact[i + 1] - base->first_contact[i]));
		for (int k = 0; k < n; k++)
		{
			keys[nkeys].hash = key_hash(names[k]);
			keys[nkeys++].client = i;
		}
		for (uint32 k = base->first_contact[i]; k < base->first_contact[i + 1]; k++)
		{
			keys[nkeys].hash = base->contacts[k].hash;
			keys[nkeys++].client = i;
		}
		MemoryContextReset(scratch);
	}
	MemoryContextDelete(scratch);
	if (nkeys > 1)
		qsort(keys, nkeys, sizeof(KeyEntry), compare_keys);
	*nkeys_out = nkeys;
	return keys;
}

/* the pairs of clients sharing a key in a block of at most max_block, distinct */
static uint64 *
block_pairs(Base *base, KeyEntry *keys, uint64 nkeys, int max_block, uint64 *npairs_out)
{
	uint64		npairs = 0;
	uint64		commoncap = 0;
	uint64	   *pairs;
	uint64		start;

	/* how many, to allocate once */
	for (start = 0; start < nkeys;)
	{
		uint64		end = start + 1;
		uint64		n;

		while (end < nkeys && keys[end].hash == keys[start].hash)
			end++;
		n = end - start;
		if (n >= 2 && n <= (uint64) max_block)
			npairs += n * (n - 1) / 2;
		start = end;
	}
	pairs = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint64) * Max(npairs, 1));
	npairs = 0;
	for (start = 0; start < nkeys;)
	{
		uint64		end = start + 1;
		uint64		n;

		CHECK_FOR_INTERRUPTS();
		while (end < nkeys && keys[end].hash == keys[start].hash)
			end++;
		n = end - start;
		if (n >= 2 && n <= (uint64) max_block)
		{
			for (uint64 i = start; i < end; i++)
				for (uint64 j = i + 1; j < end; j++)
					if (keys[i].client != keys[j].client)
						pairs[npairs++] = ((uint64) keys[i].client << 32) | keys[j].client;
		}
		else if (n > (uint64) max_block)
		{
			/* a phone or e-mail this common is no evidence either */
			base->common = grow(base->common, sizeof(uint64), &commoncap, (uint64) base->ncommon + 1);
			base->common[base->ncommon++] = keys[start].hash;
		}
		start = end;
	}
	if (npairs > 1)
		qsort(pairs, npairs, sizeof(uint64), compare_uint64);
	/* distinct: clients sharing several keys are one pair */
	{
		uint64		kept = 0;

		for (uint64 k = 0; k < npairs; k++)
			if (kept == 0 || pairs[kept - 1] != pairs[k])
				pairs[kept++] = pairs[k];
		npairs = kept;
	}
	*npairs_out = npairs;
	return pairs;
}

/* the phones and e-mails clients a and b have in common (not too common ones) */
static int
shared_contacts(const Base *base, uint32 a, uint32 b, const char **shared, int cap)
{
	uint32		i = base->first_contact[a];
	uint32		j = base->first_contact[b];
	int			n = 0;

	while (i < base->first_contact[a + 1] && j < base->first_contact[b + 1] && n < cap)
	{
		int			cmp = strcmp(base->contacts[i].text, base->contacts[j].text);

		if (cmp == 0)
		{
			uint64		h = base->contacts[i].hash;

			if (base->ncommon == 0 ||
				bsearch(&h, base->common, base->ncommon, sizeof(uint64), compare_uint64) == NULL)
				shared[n++] = base->contacts[i].text;
			i++, j++;
		}
		else if (cmp < 0)
			i++;
		else
			j++;
	}
	return n;
}

PG_FUNCTION_INFO_V1(duplicate_pairs);
Datum
duplicate_pairs(PG_FUNCTION_ARGS)
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
	Base		base = {0};
	KeyEntry   *keys;
	uint64		nkeys;
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
	/* how common each name and city is: all of them, once */
	crm_match_frequencies_load(&freq, NULL, work);
	if (SPI_execute_with_args("SELECT coalesce($1, crm.default_min_score()), crm.max_block_size()",
							  1, argtypes, args, argnulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the duplicate search settings");
	min_score = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	max_block = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

	read_clients(&base, work, started);
	read_contacts(&base, work);

	old = MemoryContextSwitchTo(work);
	keys = block_keys(&base, &nkeys);
	pairs = block_pairs(&base, keys, nkeys, max_block, &npairs);
	if (keys)
		pfree(keys);

	/* 3. score every pair; what scoring allocates goes with each pair */
	started = GetCurrentTimestamp();
	{
		MemoryContext scratch = AllocSetContextCreate(work, "crm pairs scoring", ALLOCSET_DEFAULT_SIZES);

		for (uint64 k = 0; k < npairs; k++)
		{
			uint32		a = (uint32) (pairs[k] >> 32);
			uint32		b = (uint32) pairs[k];
			const char *shared[16];
			int			nshared = shared_contacts(&base, a, b, shared, lengthof(shared));
			double		score;

			CHECK_FOR_INTERRUPTS();
			MemoryContextSwitchTo(scratch);
			score = crm_match_score(&base.clients[a], &base.clients[b], shared, nshared, &weights, &freq, NULL);
			MemoryContextSwitchTo(work);
			MemoryContextReset(scratch);
			if (score >= min_score)
			{
				found = grow(found, sizeof(Found), &foundcap, nfound + 1);
				found[nfound].a = a;
				found[nfound].b = b;
				found[nfound++].score = score;
			}
			crm_report_progress("duplicate_pairs: scoring pairs", k + 1, npairs, started);
		}
		MemoryContextDelete(scratch);
	}
	if (nfound > 1)
		qsort(found, nfound, sizeof(Found), compare_found);

	/* the pairs found, best first, with their reasons */
	{
		MemoryContext row = AllocSetContextCreate(work, "crm pairs row", ALLOCSET_DEFAULT_SIZES);

		for (uint64 k = 0; k < nfound; k++)
		{
			const char *shared[16];
			int			nshared = shared_contacts(&base, found[k].a, found[k].b, shared, lengthof(shared));
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};

			MemoryContextSwitchTo(row);
			values[0] = Int64GetDatum(base.clients[found[k].a].id);
			values[1] = Int64GetDatum(base.clients[found[k].b].id);
			values[2] = Float8GetDatum(crm_match_score(&base.clients[found[k].a], &base.clients[found[k].b],
													   shared, nshared, &weights, &freq, &values[3]));
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
