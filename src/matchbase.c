/*-------------------------------------------------------------------------
 *
 * matchbase.c
 *	  The visible base in memory, and its blocked pairs (matchbase.h), for
 *	  crm.duplicate_pairs() (pairs.c) and crm.train_match_weights()
 *	  (training.c):
 *
 *	  1. read every visible client that is not anonymized (as the current
 *	     role: row-level security applies) and its phones and e-mails, and
 *	     compute each one's matching forms once;
 *	  2. blocking: every client's keys (crm.match_keys, PESEL, NIP, the
 *	     9-digit REGON, each phone and e-mail) as 64-bit hashes, sorted;
 *	     clients sharing a key are a pair, except in blocks larger than
 *	     crm.max_block_size() (a call centre's number, the commonest names).
 *
 *	  Memory: about 300 bytes per client and 8 per pair.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "datamodel.h"
#include "matchbase.h"
#include "scoring.h"
#include "matchkeys.h"
#include "progress.h"

#define FETCH_ROWS 10000

typedef struct KeyEntry
{
	uint64		hash;
	uint32		client;			/* index in MatchBase.clients */
	uint8		pass;			/* the blocking pass of the key (MatchPass) */
} KeyEntry;


static uint64
key_hash(const char *s)
{
	return hash_bytes_extended((const unsigned char *) s, strlen(s), 0x63726d);
}

/*
 * The sorts of the blocking (millions of keys and pairs at 1,000,000
 * clients) are sort_template.h's, specialized to their element types: no
 * comparison through a function pointer.  Each order is total, so the
 * result is that of any other correct sort.
 */
#define ST_SORT sort_key_entries
#define ST_ELEMENT_TYPE KeyEntry
#define ST_COMPARE(x, y) \
	((x)->hash != (y)->hash ? ((x)->hash < (y)->hash ? -1 : 1) : \
	 ((x)->client < (y)->client ? -1 : (x)->client > (y)->client))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

#define ST_SORT sort_uint64
#define ST_ELEMENT_TYPE uint64
#define ST_COMPARE(x, y) (*(x) < *(y) ? -1 : *(x) > *(y))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* whether h is in the sorted array v of n */
static bool
in_sorted_uint64(const uint64 *v, uint32 n, uint64 h)
{
	uint32		lo = 0;
	uint32		hi = n;

	while (lo < hi)
	{
		uint32		mid = lo + (hi - lo) / 2;

		if (v[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo] == h;
}

/* a growing array in the current context */
void *
crm_grow_array(void *array, Size elem, uint64 *cap, uint64 needed)
{
	/* it stays in the context it was made in: the current one, every call */
	Assert(array == NULL || GetMemoryChunkContext(array) == CurrentMemoryContext);
	if (needed <= *cap)
		return array;
	*cap = Max(needed, *cap * 2);
	return array ? repalloc_huge(array, *cap * elem) : MemoryContextAllocHuge(CurrentMemoryContext, *cap * elem);
}

/* 1. the visible clients, by id, with their matching forms */
static void
read_clients(MatchBase *base, MemoryContext work, const char *what, TimestampTz started)
{
	Portal		portal;
	MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "crm base scratch",
												  ALLOCSET_DEFAULT_SIZES);
	MatchColumns cols;
	bool		have_cols = false;
	uint64		cap = 0;
	int64		total;
	bool		isnull;
	char	   *label = psprintf("%s: reading clients", what);

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

			base->clients = crm_grow_array(base->clients, sizeof(MatchClient), &cap,
								 (uint64) base->nclients + SPI_processed);
			MemoryContextSwitchTo(old);
		}
		for (uint64 k = 0; k < SPI_processed; k++)
		{
			MemoryContext old = MemoryContextSwitchTo(scratch);

			CHECK_FOR_INTERRUPTS();
			Assert(base->nclients < cap);
			crm_match_client_from_tuple(&base->clients[base->nclients], SPI_tuptable->vals[k],
										SPI_tuptable->tupdesc, &cols, work);
			MemoryContextSwitchTo(old);
			MemoryContextReset(scratch);
			/* ORDER BY c.id, the primary key: read_contacts' bsearch counts on it */
			Assert(base->nclients == 0 ||
				   base->clients[base->nclients - 1].id < base->clients[base->nclients].id);
			base->nclients++;
			crm_report_progress(label, base->nclients, total, started);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(scratch);
	pfree(label);
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
read_contacts(MatchBase *base, MemoryContext work)
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
			/* ORDER BY 1, as the clients: a client's contacts come together */
			Assert(idx + 1 >= next);
			while (next <= idx)
				base->first_contact[next++] = base->ncontacts;
			old = MemoryContextSwitchTo(work);
			base->contacts = crm_grow_array(base->contacts, sizeof(MatchContact), &cap, (uint64) base->ncontacts + 1);
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
	Assert(base->first_contact[0] == 0 && base->first_contact[base->nclients] == base->ncontacts);
}

/* 2. every client's keys, sorted by hash */
static KeyEntry *
block_keys(MatchBase *base, uint64 *nkeys_out)
{
	MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "crm base keys",
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
		Assert(n >= 0 && n <= (int) lengthof(names));
		MemoryContextSwitchTo(old);

		keys = crm_grow_array(keys, sizeof(KeyEntry), &cap,
					nkeys + n + (base->first_contact[i + 1] - base->first_contact[i]));
		for (int k = 0; k < n; k++)
		{
			keys[nkeys].hash = key_hash(names[k]);
			keys[nkeys].pass = crm_match_key_pass(names[k]);
			keys[nkeys++].client = i;
		}
		for (uint32 k = base->first_contact[i]; k < base->first_contact[i + 1]; k++)
		{
			keys[nkeys].hash = base->contacts[k].hash;
			keys[nkeys].pass = MP_CONTACT;
			keys[nkeys++].client = i;
		}
		Assert(nkeys <= cap);
		MemoryContextReset(scratch);
	}
	MemoryContextDelete(scratch);
	if (nkeys > 1)
		sort_key_entries(keys, nkeys);
	*nkeys_out = nkeys;
	return keys;
}

/*
 * The pairs of clients sharing a key in a block of at most its pass's cap
 * (base->caps), distinct; what each pass gave in base->passes.  A key's
 * hash may stand for keys of two passes (never seen: 64 bits); the block is
 * then counted under the pass of its first entry.
 */
static uint64 *
block_pairs(MatchBase *base, KeyEntry *keys, uint64 nkeys, uint64 *npairs_out)
{
	uint64		npairs = 0;
	uint64		counted PG_USED_FOR_ASSERTS_ONLY;
	uint64		commoncap = 0;
	uint64	   *pairs;
	uint64		start;

	memset(base->passes, 0, sizeof(base->passes));
	/* how many, to allocate once */
	for (start = 0; start < nkeys;)
	{
		uint64		end = start + 1;
		uint64		n;
		MatchPassStats *ps = &base->passes[keys[start].pass];

		Assert(keys[start].pass < MP_COUNT);
		while (end < nkeys && keys[end].hash == keys[start].hash)
			end++;
		n = end - start;
		if (n >= 2 && n <= (uint64) base->caps[keys[start].pass])
		{
			npairs += n * (n - 1) / 2;
			ps->blocks++;
			ps->pairs += n * (n - 1) / 2;
			ps->largest = Max(ps->largest, n);
		}
		else if (n >= 2)
		{
			ps->capped_blocks++;
			ps->capped_clients += n;
		}
		start = end;
	}
	pairs = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint64) * Max(npairs, 1));
	counted = npairs;
	npairs = 0;
	for (start = 0; start < nkeys;)
	{
		uint64		end = start + 1;
		uint64		n;
		uint64		cap = (uint64) base->caps[keys[start].pass];

		CHECK_FOR_INTERRUPTS();
		while (end < nkeys && keys[end].hash == keys[start].hash)
			end++;
		n = end - start;
		if (n >= 2 && n <= cap)
		{
			for (uint64 i = start; i < end; i++)
				for (uint64 j = i + 1; j < end; j++)
					if (keys[i].client != keys[j].client)
					{
						/* sorted by (hash, client): a < b, as the pairs' users expect */
						Assert(keys[i].client < keys[j].client);
						pairs[npairs++] = ((uint64) keys[i].client << 32) | keys[j].client;
					}
		}
		else if (n > cap)
		{
			/* a phone or e-mail this common is no evidence either */
			base->common = crm_grow_array(base->common, sizeof(uint64), &commoncap, (uint64) base->ncommon + 1);
			base->common[base->ncommon++] = keys[start].hash;
		}
		start = end;
	}
	/* the block sizes counted above, less a client's pairs with itself */
	Assert(npairs <= counted);
	if (npairs > 1)
		sort_uint64(pairs, npairs);
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

/*
 * The phones and e-mails clients a and b have in common (not too common
 * ones), in the order of a's (by text).  Most compared pairs share none,
 * and a client has few: each of a's is looked for among b's by its hash
 * first, the text compared only when the hashes agree.
 */
int
crm_match_base_shared(const MatchBase *base, uint32 a, uint32 b, const char **shared, int cap)
{
	uint32		bfrom = base->first_contact[b];
	uint32		bto = base->first_contact[b + 1];
	uint32		ato = base->first_contact[a + 1];
	int			n = 0;

	Assert(a < base->nclients && b < base->nclients && cap >= 0);

	/* many on both sides: one merge of the two sorted lists */
	if ((uint64) (ato - base->first_contact[a]) * (bto - bfrom) > 64)
	{
		uint32		i = base->first_contact[a];
		uint32		j = bfrom;

		while (i < ato && j < bto && n < cap)
		{
			int			cmp = strcmp(base->contacts[i].text, base->contacts[j].text);

			if (cmp == 0)
			{
				uint64		h = base->contacts[i].hash;

				if (base->ncommon == 0 || !in_sorted_uint64(base->common, base->ncommon, h))
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
	for (uint32 i = base->first_contact[a]; i < ato && n < cap; i++)
	{
		uint64		h = base->contacts[i].hash;

		/* a client's contacts are distinct: one of b's at most */
		for (uint32 j = bfrom; j < bto; j++)
		{
			if (base->contacts[j].hash != h || strcmp(base->contacts[i].text, base->contacts[j].text) != 0)
				continue;
			if (base->ncommon == 0 || !in_sorted_uint64(base->common, base->ncommon, h))
				shared[n++] = base->contacts[i].text;
			break;
		}
	}
	return n;
}

double
crm_match_base_score(const MatchBase *base, uint64 pair, const MatchWeights *weights,
					 const MatchFrequencies *freq, MemoryContext scratch, MatchEvidenceSet *evidence)
{
	uint32		a = (uint32) (pair >> 32);
	uint32		b = (uint32) pair;
	const char *shared[16];
	int			nshared = crm_match_base_shared(base, a, b, shared, lengthof(shared));
	MemoryContext old;
	double		score;

	/* reset below: it must not be the caller's context */
	Assert(a < b && scratch != CurrentMemoryContext);
	old = MemoryContextSwitchTo(scratch);
	score = crm_match_score_found(&base->clients[a], &base->clients[b], shared, nshared,
								  weights, freq, NULL, evidence);
	MemoryContextSwitchTo(old);
	MemoryContextReset(scratch);
	return score;
}

double
crm_match_base_score_bounded(const MatchBase *base, uint64 pair, const MatchWeights *weights,
							 const MatchFrequencies *freq, MemoryContext scratch, const MatchBound *bound)
{
	uint32		a = (uint32) (pair >> 32);
	uint32		b = (uint32) pair;
	const char *shared[16];
	int			nshared = crm_match_base_shared(base, a, b, shared, lengthof(shared));
	MemoryContext old;
	double		score;

	Assert(a < b && scratch != CurrentMemoryContext);
	old = MemoryContextSwitchTo(scratch);
	score = crm_match_score_bounded(&base->clients[a], &base->clients[b], shared, nshared,
									weights, freq, bound);
	MemoryContextSwitchTo(old);
	MemoryContextReset(scratch);
	return score;
}

void
crm_match_base_read(MatchBase *base, MemoryContext work, const char *what, TimestampTz started)
{
	read_clients(base, work, what, started);
	read_contacts(base, work);
}

/*
 * What each blocking pass gave, and the blocks over its cap, in one NOTICE
 * (DEBUG1 for a run shorter than 5 s, as progress NOTICEs: a test's small
 * base says nothing):
 *   duplicate_pairs: 9554686 distinct pairs from the blocks
 *   DETAIL: Per blocking pass: ...: n: names 104513, 7182576, 100, over 100: 589 (111130); ...
 */
void
crm_match_base_report(const MatchBase *base, const char *what, uint64 npairs, TimestampTz started)
{
	StringInfoData buf;
	bool		first = true;

	initStringInfo(&buf);
	for (int p = 0; p < MP_COUNT; p++)
	{
		const MatchPassStats *ps = &base->passes[p];

		if (ps->blocks == 0 && ps->capped_blocks == 0)
			continue;
		appendStringInfo(&buf, "%s%s " UINT64_FORMAT ", " UINT64_FORMAT ", " UINT64_FORMAT ", over %d: " UINT64_FORMAT " (" UINT64_FORMAT ")",
						 first ? "" : "; ", crm_match_pass_name(p), ps->blocks, ps->pairs, ps->largest,
						 base->caps[p], ps->capped_blocks, ps->capped_clients);
		first = false;
	}
	ereport((GetCurrentTimestamp() - started) / USECS_PER_SEC >= 5 ? NOTICE : DEBUG1,
			(errmsg("%s: " UINT64_FORMAT " distinct pairs from the blocks", what, npairs),
			 errdetail("Per blocking pass: blocks of two or more, their pairs, the largest block compared, "
					   "the blocks over the pass's cap (their clients): %s.", buf.data)));
	pfree(buf.data);
}

uint64 *
crm_match_base_pairs(MatchBase *base, int max_block, uint64 *npairs)
{
	uint64		nkeys;
	KeyEntry   *keys;
	uint64	   *pairs;

	for (int p = 0; p < MP_COUNT; p++)
		base->caps[p] = crm_match_pass_cap(p, max_block);
	keys = block_keys(base, &nkeys);
	pairs = block_pairs(base, keys, nkeys, npairs);

	if (keys)
		pfree(keys);
	return pairs;
}
