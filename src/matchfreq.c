/*-------------------------------------------------------------------------
 *
 * matchfreq.c
 *	  Frequency-aware evidence (see doc/duplicates.md): an agreement on a
 *	  last name or first name, in the same spelling or another (the values
 *	  are counted by skeleton: crm_tf_value), weighs its evidence's weight plus
 *	  log2(u / p(value)), where p(value) is the share of the base's persons
 *	  with that value and u = sum of p(v)^2 the chance that two of them
 *	  agree at all, as Splink's term-frequency adjustment does: "Jan
 *	  Kowalski" is weak evidence in a base with a hundred of them.  Bounded
 *	  (matchfreq.h), each bound measured on bench/duplicates.sh and
 *	  bench/quality.sh (bench/README.md):
 *	  - whole bits, toward zero: crm's weights are whole numbers, so many
 *	    true pairs score exactly 0 bits, 0.5, the default threshold; a name
 *	    1.4 times as common as average cost them half a bit and recall
 *	    fell from 0.975 to 0.953 (20,000 clients, realistic names); in whole
 *	    bits only values at least twice as common as average lose a bit;
 *	  - at most 0: a rarer value weighs no more than its weight.  +1 or +2
 *	    for rare names made a parent and a child of one rare name at one
 *	    address one person (precision 0.9971 -> 0.9905 with +1, 0.9828
 *	    with +2), and the weights were set over all true pairs, rare names
 *	    among them;
 *	  - at least -3 bits, and a positive weight keeps at least 1 bit (or
 *	    itself, if smaller): the commonest name still counts.
 *	  And namesakes born the same day (crm_namesake_cap): a full name
 *	  (last and first name together) borne by n persons, with u the chance
 *	  that two persons share a birth date, gives any one of them about n u
 *	  namesakes born the same day; a pair with nothing but the names and the
 *	  date (and the city) in common is scored no higher than
 *	  log2(TF_NAMESAKE_SHARE / (n u)), rounded up to whole bits.  On
 *	  bench/quality.sh's sets at 1,000,000 clients, among such pairs, true
 *	  and false ones were about as many where n u was 0.005 (foreigners:
 *	  189 true, 170 false for n u from 0.005 to 0.01) and 0.004 (English:
 *	  159, 99 from 0.0025 to 0.005; 122, 174 from 0.005 to 0.01): a
 *	  duplicate sharing only that is about 1 record in 200, taken as 1/256.
 *	  Cities are not adjusted: same city weighs 1 by default, so a common
 *	  city cannot weigh less, and a small town's boost made households
 *	  (spouses, a parent and a child at one address) one person.
 *	  Where the counts come from (doc/duplicates.md, "Who sees the counts"):
 *	  crm.duplicate_pairs() counts the clients it read, as the caller
 *	  (crm_match_frequencies_count()); the searches of one client read
 *	  what crm.refresh_match_frequencies() (SQL) stored in
 *	  crm.match_frequency and crm.match_frequency_total, counts of the whole
 *	  base, only for a caller that reads every client, with the tables'
 *	  owner's rights (crm_as_owner(), datamodel.c), only those of the values
 *	  being scored; a value not there (rare at the refresh, or new since)
 *	  and every value of a field never refreshed get no adjustment.  Scores
 *	  recorded for other roles to read (MatchScoreReader) are weighed by no
 *	  count under row-level security.  And the SQL faces of the rules:
 *	    crm_internal.match_frequency_keys(kind, first_name, last_name, birth_date) -> text[]
 *	    crm_internal.common_name_bearers(field, u, clients, u_birth) -> float8
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "datamodel.h"
#include "matchfreq.h"
#include "namematch.h"

static const char *const field_names[TF_COUNT] = {"last_name", "first_name", "full_name", "birth_date"};

const char *
crm_tf_field_name(MatchTfField field)
{
	return field_names[field];
}

static int
field_of(const char *name)
{
	for (int k = 0; k < TF_COUNT; k++)
		if (strcmp(field_names[k], name) == 0)
			return k;
	return -1;
}

/* "last/first" into buf (TF_FULL_NAME_MAX bytes), or NULL: a name missing, or too long */
static const char *
full_name_key(const char *last, const char *first, char *buf)
{
	if (last == NULL || first == NULL || *last == '\0' || *first == '\0' ||
		snprintf(buf, TF_FULL_NAME_MAX, "%s/%s", last, first) >= TF_FULL_NAME_MAX)
		return NULL;
	return buf;
}

const char *
crm_tf_value(const MatchClient *c, MatchTfField field, char *buf)
{
	const char *v = NULL;

	if (!c->person)
		return NULL;
	switch (field)
	{
		case TF_LAST_NAME:
			v = crm_match_field(c, MF_LAST_SK);
			break;
		case TF_FIRST_NAME:
			v = crm_match_field(c, MF_FIRST1_SK);
			break;
		case TF_FULL_NAME:
			v = full_name_key(crm_match_field(c, MF_LAST_SK), crm_match_field(c, MF_FIRST1_SK), buf);
			break;
		case TF_BIRTH_DATE:
		case TF_COUNT:
			break;
	}
	return v && *v ? v : NULL;
}

static uint64
entry_hash(int field, const char *value)
{
	return hash_bytes_extended((const unsigned char *) value, strlen(value), (uint64) field + 0x746601);
}

static int
compare_entries(const void *x, const void *y)
{
	const MatchFreqEntry *a = x;
	const MatchFreqEntry *b = y;

	return a->hash < b->hash ? -1 : a->hash > b->hash;
}

double
crm_common_name_bearers(MatchTfField field, double u, double clients, double u_birth)
{
	switch (field)
	{
		case TF_LAST_NAME:
		case TF_FIRST_NAME:
			/* log2(u / share) is -1 or less (whole bits toward zero) */
			return Max(2.0, 2 * u * clients);
		case TF_FULL_NAME:
			/* the namesakes' cap is 4 bits or less */
			return u_birth > 0 ? Max(TF_NAMESAKE_MIN_BEARERS, TF_NAMESAKE_SHARE / 16 / u_birth) : 0;
		case TF_BIRTH_DATE:
		case TF_COUNT:
			break;
	}
	return 0;
}

/* the totals of crm.match_frequency_total in the current SPI result */
static void
read_totals(MatchFrequencies *freq, int fieldcol, int clientscol, int ucol)
{
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		char	   *name = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, fieldcol);
		int			f = name ? field_of(name) : -1;
		double		clients;
		double		u;

		if (f < 0 || freq->known[f])
			continue;
		clients = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, clientscol, &isnull));
		if (isnull)
			continue;
		u = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, ucol, &isnull));
		if (isnull || clients <= 0 || u <= 0)
			continue;
		freq->known[f] = true;
		freq->clients[f] = clients;
		freq->u[f] = u;
	}
}

/*
 * The query runs as the owner of crm.match_frequency (crm_as_owner():
 * no crm role reads the counts, doc/duplicates.md), so every name in it
 * is schema-qualified, operators and types too: nothing the caller put on
 * its search_path may run with the owner's rights.
 *
 * Q_ONE: the one client's values ($1: last name, first name, full name) and the
 * totals, in one indexed look-up per field: a subquery by the primary key,
 * not a join, whose plan (generic after the first runs) could be a hash
 * join over the whole of crm.match_frequency, as it was: 1 ms per call at
 * 17,000 names kept.
 */
#define Q_ONE \
	"SELECT t.field, t.clients::pg_catalog.float8, t.u, " \
	"       (SELECT f.bearers::pg_catalog.float8 FROM crm.match_frequency f " \
	"        WHERE f.field OPERATOR(pg_catalog.=) t.field " \
	"          AND f.value OPERATOR(pg_catalog.=) ($1::pg_catalog.text[])[" \
	"                CASE WHEN t.field OPERATOR(pg_catalog.=) 'last_name' THEN 1 " \
	"                     WHEN t.field OPERATOR(pg_catalog.=) 'first_name' THEN 2 " \
	"                     WHEN t.field OPERATOR(pg_catalog.=) 'full_name' THEN 3 END]) " \
	"FROM crm.match_frequency_total t"

StaticAssertDecl(TF_LAST_NAME == 0 && TF_FIRST_NAME == 1 && TF_FULL_NAME == 2 && TF_BIRTH_DATE == 3 &&
				 TF_COUNT == 4, "Q_ONE takes the last name first, then the first name, then the full name");

static SPIPlanPtr one_plan;

typedef struct FreqLoad
{
	MatchFrequencies *freq;
	const MatchClient *client;
	MemoryContext dest;
} FreqLoad;

/* crm_match_frequencies_load()'s read, as the owner (crm_as_owner()) */
static void
load_as_owner(void *arg)
{
	FreqLoad   *l = arg;
	MatchFrequencies *freq = l->freq;
	Datum		vals[TF_COUNT];
	bool		nulls[TF_COUNT];
	int			dims[1] = {TF_COUNT};
	int			lbs[1] = {1};
	Datum		arg1;
	const char *values[TF_COUNT];
	char		buf[TF_FULL_NAME_MAX];

	for (int k = 0; k < TF_COUNT; k++)
	{
		values[k] = crm_tf_value(l->client, k, buf);
		nulls[k] = values[k] == NULL;
		vals[k] = values[k] ? CStringGetTextDatum(values[k]) : (Datum) 0;
	}
	arg1 = PointerGetDatum(construct_md_array(vals, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	if (SPI_execute_plan(crm_kept_plan(&one_plan, Q_ONE, 1, (Oid[]) {TEXTARRAYOID}, 0),
						 &arg1, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read crm.match_frequency");
	read_totals(freq, 1, 2, 3);
	freq->entries = MemoryContextAlloc(l->dest, sizeof(MatchFreqEntry) * TF_COUNT);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		HeapTuple	t = SPI_tuptable->vals[r];
		char	   *name = SPI_getvalue(t, SPI_tuptable->tupdesc, 1);
		int			f = name ? field_of(name) : -1;
		Datum		d = SPI_getbinval(t, SPI_tuptable->tupdesc, 4, &isnull);

		/* NULL: a value not counted (the common case); never read as a number */
		if (f < 0 || !freq->known[f] || isnull || values[f] == NULL || freq->nentries == TF_COUNT)
			continue;
		freq->entries[freq->nentries].hash = entry_hash(f, values[f]);
		freq->entries[freq->nentries].field = f;
		freq->entries[freq->nentries].value = MemoryContextStrdup(l->dest, values[f]);
		freq->entries[freq->nentries].bearers = DatumGetFloat8(d);
		freq->nentries++;
	}
	SPI_freetuptable(SPI_tuptable);
}

/* whether row-level security is on for crm.client (true when there is no crm.client) */
static bool
client_row_security(void)
{
	Oid			relid = get_relname_relid("client", get_namespace_oid("crm", true));
	HeapTuple	tup;
	bool		rls = true;

	if (!OidIsValid(relid))
		return true;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		rls = ((Form_pg_class) GETSTRUCT(tup))->relrowsecurity;
		ReleaseSysCache(tup);
	}
	return rls;
}

/*
 * Whether the caller may be scored with counts of the whole base: it reads
 * every client, and so does the role it acts for inside crm's SECURITY
 * DEFINER functions (crm_internal.reads_whole_base(), asked as the
 * caller).  A role that reaches part of the base could otherwise learn, by
 * planting clients of a rare name in its own unit until the name is
 * counted, whether the name has a bearer out of its reach (an attacker
 * review; doc/duplicates.md, "Who sees the counts").  Row-level security
 * off on crm.client (every reader reads all): no query, only the caller's
 * privilege to read the table.
 */
#define Q_READS_ALL \
	"SELECT crm_internal.reads_whole_base(current_user::pg_catalog.text) " \
	"AND (current_user::pg_catalog.text OPERATOR(pg_catalog.=) crm_internal.session_role() " \
	"     OR crm_internal.reads_whole_base(crm_internal.session_role()))"

static SPIPlanPtr reads_all_plan;

static bool
caller_reads_whole_base(void)
{
	bool		rls;
	bool		isnull;

	/*
	 * row-level security off: every role that may read crm.client reads all
	 * of it (one that may not: no count, though crm.match_score() scores
	 * records it makes up)
	 */
	if (!client_row_security())
	{
		Oid			relid = get_relname_relid("client", get_namespace_oid("crm", true));

		return OidIsValid(relid) && pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
	}
	/* planned once a session (the catalog reads are the functions') */
	if (SPI_execute_plan(crm_kept_plan(&reads_all_plan, Q_READS_ALL, 0, NULL, 0), NULL, NULL, true, 1) !=
		SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not ask whether the caller reads every client");
	rls = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return !isnull && rls;
}

void
crm_match_frequencies_load(MatchFrequencies *freq, const MatchClient *client, MatchScoreReader reader,
						   MemoryContext dest)
{
	FreqLoad	l = {freq, client, dest};

	memset(freq, 0, sizeof(*freq));
	if (reader == SCORES_RECORDED && client_row_security())
		return;
	/* crm.match_score() scores ROW(...) records without the data model too */
	if (!OidIsValid(get_relname_relid("match_frequency_total", get_namespace_oid("crm", true))))
		return;
	if (!caller_reads_whole_base())
		return;
	crm_as_owner(crm_table_owner("match_frequency"), load_as_owner, &l);
	if (freq->nentries > 1)
		qsort(freq->entries, freq->nentries, sizeof(MatchFreqEntry), compare_entries);
}

/* by hash, then field, then value: equal values side by side */
static int
compare_values(const void *x, const void *y)
{
	const MatchFreqEntry *a = x;
	const MatchFreqEntry *b = y;
	int			c = compare_entries(x, y);

	if (c != 0)
		return c;
	if (a->field != b->field)
		return a->field < b->field ? -1 : 1;
	return strcmp(a->value, b->value);
}

static int
compare_dates(const void *x, const void *y)
{
	DateADT		a = *(const DateADT *) x;
	DateADT		b = *(const DateADT *) y;

	return a < b ? -1 : a > b;
}

/*
 * The chance that two dated persons share a birth date, each date counted
 * at most 4 times the average: a pile of one date (a placeholder such as
 * 1900-01-01, anyone's inserts) would make every same birth date look
 * common.  0 for no dated person.
 */
static double
birth_date_u(const MatchClient *clients, uint32 nclients, double *dated)
{
	DateADT    *d = palloc(sizeof(DateADT) * Max(nclients, 1));
	uint32		n = 0;
	uint32		distinct = 0;
	double		most;
	double		sum = 0;
	double		sum2 = 0;

	for (uint32 k = 0; k < nclients; k++)
		if (clients[k].person && clients[k].has_birth)
			d[n++] = clients[k].birth;
	*dated = n;
	if (n == 0)
	{
		pfree(d);
		return 0;
	}
	qsort(d, n, sizeof(DateADT), compare_dates);
	for (uint32 k = 0; k < n; k++)
		if (k == 0 || d[k] != d[k - 1])
			distinct++;
	most = 4.0 * n / distinct;
	for (uint32 k = 0; k < n;)
	{
		uint32		run = 1;
		double		c;

		while (k + run < n && d[k + run] == d[k])
			run++;
		c = Min((double) run, most);
		sum += c;
		sum2 += c * c;
		k += run;
	}
	pfree(d);
	return sum2 / (sum * sum);
}

void
crm_match_frequencies_count(MatchFrequencies *freq, const MatchClient *clients, uint32 nclients,
							MatchScoreReader reader, MemoryContext dest)
{
	MemoryContext old;
	MatchFreqEntry *all;
	MatchFreqEntry *kept[TF_BIRTH_DATE];
	int			nkept[TF_BIRTH_DATE];
	double		dated;
	double		u_birth;

	memset(freq, 0, sizeof(*freq));
	if (reader == SCORES_RECORDED && client_row_security())
		return;
	old = MemoryContextSwitchTo(dest);
	all = MemoryContextAllocHuge(dest, sizeof(MatchFreqEntry) * Max(nclients, 1));
	u_birth = birth_date_u(clients, nclients, &dated);
	if (u_birth > 0)
	{
		freq->known[TF_BIRTH_DATE] = true;
		freq->clients[TF_BIRTH_DATE] = dated;
		freq->u[TF_BIRTH_DATE] = u_birth;
	}
	/* each field in turn: its values sorted, counted, the common ones kept */
	for (int f = 0; f < TF_BIRTH_DATE; f++)
	{
		uint32		n = 0;
		double		sum2 = 0;
		double		least;

		kept[f] = NULL;
		nkept[f] = 0;
		for (uint32 k = 0; k < nclients; k++)
		{
			char		buf[TF_FULL_NAME_MAX];
			const char *v;

			/* full names of dated persons only, as match_frequency_keys() */
			if (f == TF_FULL_NAME && !clients[k].has_birth)
				continue;
			if ((v = crm_tf_value(&clients[k], f, buf)) == NULL)
				continue;
			all[n].hash = entry_hash(f, v);
			all[n].field = f;
			all[n].value = v == buf ? pstrdup(buf) : v;
			all[n].bearers = 1;
			n++;
		}
		if (n == 0)
			continue;
		qsort(all, n, sizeof(MatchFreqEntry), compare_values);
		/* one entry per value, its bearers counted */
		{
			uint32		m = 0;

			for (uint32 k = 0; k < n; k++)
			{
				if (m > 0 && compare_values(&all[m - 1], &all[k]) == 0)
					all[m - 1].bearers++;
				else
					all[m++] = all[k];
			}
			for (uint32 k = 0; k < m; k++)
				sum2 += all[k].bearers * all[k].bearers;
			freq->known[f] = true;
			freq->clients[f] = n;
			freq->u[f] = sum2 / ((double) n * n);
			least = crm_common_name_bearers(f, freq->u[f], n, u_birth);
			if (least <= 0)
				continue;
			for (uint32 k = 0; k < m; k++)
				if (all[k].bearers >= least)
					nkept[f]++;
			kept[f] = palloc(sizeof(MatchFreqEntry) * Max(nkept[f], 1));
			nkept[f] = 0;
			for (uint32 k = 0; k < m; k++)
				if (all[k].bearers >= least)
					kept[f][nkept[f]++] = all[k];
		}
	}
	/* (the values of full names not kept stay in dest until the search ends: about 40 bytes a dated person) */
	pfree(all);
	freq->entries = palloc(sizeof(MatchFreqEntry) * Max(nkept[0] + nkept[1] + nkept[2], 1));
	for (int f = 0; f < TF_BIRTH_DATE; f++)
		if (kept[f] != NULL)
		{
			memcpy(freq->entries + freq->nentries, kept[f], sizeof(MatchFreqEntry) * nkept[f]);
			freq->nentries += nkept[f];
			pfree(kept[f]);
		}
	if (freq->nentries > 1)
		qsort(freq->entries, freq->nentries, sizeof(MatchFreqEntry), compare_entries);
	MemoryContextSwitchTo(old);
}

static const MatchFreqEntry *
lookup(const MatchFrequencies *freq, int field, const char *value)
{
	uint64		h = entry_hash(field, value);
	int			lo = 0;
	int			hi = freq->nentries;

	/* the first entry of hash h or more */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (freq->entries[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < freq->nentries && freq->entries[lo].hash == h; lo++)
		if (freq->entries[lo].field == field && strcmp(freq->entries[lo].value, value) == 0)
			return &freq->entries[lo];
	return NULL;
}

double
crm_tf_adjustment(const MatchFrequencies *freq, MatchTfField field, const char *value, double weight)
{
	const MatchFreqEntry *e;
	double		adj;

	/* the adjustment scales evidence for a duplicate, not a site's odd weight */
	if (freq == NULL || value == NULL || *value == '\0' || !freq->known[field] || weight <= 0)
		return 0;
	e = lookup(freq, field, value);
	if (e == NULL || e->bearers <= 0)
		return 0;
	adj = log2(freq->u[field] * freq->clients[field] / e->bearers);
	/* whole bits, toward zero: see TF_MIN_ADJUST */
	adj = trunc(adj);
	adj = Max(adj, TF_MIN_ADJUST);
	adj = Min(adj, TF_MAX_ADJUST);
	if (weight + adj < Min(weight, TF_MIN_WEIGHT))
		adj = Min(weight, TF_MIN_WEIGHT) - weight;
	return adj;
}

double
crm_namesake_cap(const MatchFrequencies *freq, const MatchClient *a)
{
	char		buf[TF_FULL_NAME_MAX];
	const char *v;
	const MatchFreqEntry *e;

	if (freq == NULL || !freq->known[TF_FULL_NAME] || !freq->known[TF_BIRTH_DATE])
		return get_float8_infinity();
	v = crm_tf_value(a, TF_FULL_NAME, buf);
	if (v == NULL || (e = lookup(freq, TF_FULL_NAME, v)) == NULL || e->bearers < TF_NAMESAKE_MIN_BEARERS)
		return get_float8_infinity();
	/* log2 of the odds, in whole bits rounded up: a band, not a count */
	return ceil(log2(TF_NAMESAKE_SHARE / (e->bearers * freq->u[TF_BIRTH_DATE])));
}

/*
 * crm_internal.common_name_bearers(field, u, clients, u_birth): the SQL face
 * of crm_common_name_bearers(), for crm.refresh_match_frequencies() and
 * crm_internal.uncount_match_frequencies(); NULL for an unknown field.
 */
PG_FUNCTION_INFO_V1(common_name_bearers);
Datum
common_name_bearers(PG_FUNCTION_ARGS)
{
	int			f;
	double		least;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	f = field_of(TextDatumGetCString(PG_GETARG_DATUM(0)));
	if (f < 0 || f == TF_BIRTH_DATE)
		PG_RETURN_NULL();
	least = crm_common_name_bearers(f, PG_GETARG_FLOAT8(1), (double) PG_GETARG_INT64(2),
									PG_ARGISNULL(3) ? 0 : PG_GETARG_FLOAT8(3));
	if (least <= 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(least);
}

/*
 * crm_internal.match_frequency_keys(kind, first_name, last_name, birth_date)
 * of a person: 'last_name:<skeleton>', 'first_name:<skeleton of the
 * canonical first word>', and, with a birth date (the namesakes' cap weighs
 * a same birth date), 'full_name:<the two, last/first>': the values
 * crm.refresh_match_frequencies() counts, in the very matching forms the
 * scoring compares (matchforms.c).
 */
PG_FUNCTION_INFO_V1(match_frequency_keys);
Datum
match_frequency_keys(PG_FUNCTION_ARGS)
{
	Datum		keys[TF_COUNT];
	int			n = 0;
	bool		person = !PG_ARGISNULL(0) && strcmp(TextDatumGetCString(PG_GETARG_DATUM(0)), "person") == 0;
	int			len;
	char	   *last = "";
	char	   *first = "";
	char		buf[TF_FULL_NAME_MAX];

	if (person && !PG_ARGISNULL(2))
	{
		char	   *s = TextDatumGetCString(PG_GETARG_DATUM(2));

		last = crm_skeleton(crm_normalized(s, strlen(s), &len));
		if (*last)
			keys[n++] = CStringGetTextDatum(psprintf("%s:%s", field_names[TF_LAST_NAME], last));
	}
	if (person && !PG_ARGISNULL(1))
	{
		char	   *s = TextDatumGetCString(PG_GETARG_DATUM(1));
		char	   *norm = crm_normalized(s, strlen(s), &len);

		first = *norm ? crm_skeleton(crm_first_word_canonical(norm)) : "";
		if (*first)
			keys[n++] = CStringGetTextDatum(psprintf("%s:%s", field_names[TF_FIRST_NAME], first));
	}
	/* the same forms as crm_tf_value()'s */
	if (!PG_ARGISNULL(3) && full_name_key(last, first, buf))
		keys[n++] = CStringGetTextDatum(psprintf("%s:%s", field_names[TF_FULL_NAME], buf));
	PG_RETURN_ARRAYTYPE_P(construct_array(keys, n, TEXTOID, -1, false, TYPALIGN_INT));
}
