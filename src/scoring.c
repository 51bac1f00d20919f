/*-------------------------------------------------------------------------
 *
 * scoring.c
 *	  The score and reasons of a pair of clients (see doc/duplicates.md):
 *	  each piece of evidence adds its weight, a log2 likelihood ratio, to
 *	  the prior; the score is 1 / (1 + 2^-total).  And its SQL face:
 *	    crm.match_score(a crm.client, b crm.client, shared text[], w jsonb,
 *	                    OUT score double precision, OUT reasons text[])
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

#include "identifier.h"
#include "namematch.h"
#include "scoring.h"
#include "textinput.h"

/*
 * Each kind of evidence, in the order of MatchEvidence: its name, its
 * default weight (log2 of m/u, see doc/duplicates.md) and what it means.
 * crm.match_weight_defaults() lists this; crm.match_weight overrides it.
 */
static const struct
{
	const char *name;
	double		weight;
	const char *description;
}			evidence[] = {
	{"prior", -9, "log2 of the prior odds that two clients sharing a blocking key are one"},
	{"pesel", 12, "same PESEL"},
	{"pesel_typo", 6, "PESELs one typo apart"},
	{"pesel_differ", -10, "different PESELs"},
	{"nip", 12, "same NIP"},
	{"nip_typo", 6, "NIPs one typo apart"},
	{"nip_differ", -10, "different NIPs"},
	{"regon", 10, "same REGON (a 14-digit local unit agrees with its 9-digit unit)"},
	{"regon_typo", 5, "REGONs one typo apart"},
	{"regon_differ", -8, "different REGONs"},
	{"phone", 7, "a phone number in common"},
	{"email", 8, "an e-mail address in common"},
	{"last_name", 4, "same last name (matching form)"},
	{"last_name_similar", 2, "last names with Jaro-Winkler similarity of 0.9 or more"},
	{"last_name_gender", 0, "last names in the two gender forms (-ski/-ska): neutral, counts only with other evidence"},
	{"last_name_differ", -5, "different last names"},
	{"names_swapped", 6, "first and last name swapped"},
	{"first_name", 3, "same first name, diminutives counted as the full name"},
	{"first_name_similar", 1, "first names with similarity of 0.9 or more, or one typo apart"},
	{"first_name_differ", -7, "different first names (a spouse, a parent, a child: a strong sign of another person)"},
	{"company", 6, "same company name without legal form"},
	{"company_similar", 3, "company names with similarity of 0.92 or more"},
	{"company_differ", -5, "different company names"},
	{"birth_date", 4, "same birth date (when not both have a PESEL)"},
	{"birth_date_differ", -6, "different birth dates (when not both have a PESEL)"},
	{"city", 1, "same city"},
	{"city_differ", -1, "different cities"},
	{"address", 3, "same address"},
};

StaticAssertDecl(lengthof(evidence) == EV_COUNT, "one entry for each kind of evidence");

/* the default weights, and the site's own from crm.match_weight (SPI connected) */
void
crm_match_weights_load(MatchWeights *weights)
{
	for (int k = 0; k < EV_COUNT; k++)
		weights->w[k] = evidence[k].weight;
	if (SPI_execute("SELECT w.evidence, w.weight FROM crm.match_weight w", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read crm.match_weight");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		char	   *name = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
		double		w = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));

		/* crm.match_weight_check refuses unknown names: skip any left over */
		for (int k = 0; k < EV_COUNT; k++)
			if (strcmp(evidence[k].name, name) == 0)
				weights->w[k] = w;
	}
	SPI_freetuptable(SPI_tuptable);
}

PG_FUNCTION_INFO_V1(match_weight_defaults);
Datum
match_weight_defaults(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int k = 0; k < EV_COUNT; k++)
	{
		Datum		values[3] = {CStringGetTextDatum(evidence[k].name), Float8GetDatum(evidence[k].weight),
		CStringGetTextDatum(evidence[k].description)};
		bool		nulls[3] = {false, false, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

void
crm_match_weights_from_jsonb(MatchWeights *weights, Jsonb *json)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken r;
	int			current = -1;

	memset(weights, 0, sizeof(*weights));
	if (!JB_ROOT_IS_OBJECT(json))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("duplicate weights must be a JSON object"),
				 errhint("Pass crm.match_weights().")));
	it = JsonbIteratorInit(&json->root);
	while ((r = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (r == WJB_KEY)
		{
			char	   *key = pnstrdup(v.val.string.val, v.val.string.len);

			for (current = 0; current < EV_COUNT; current++)
				if (strcmp(evidence[current].name, key) == 0)
					break;
			if (current == EV_COUNT)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown duplicate evidence \"%s\"", key),
						 errdetail("The evidence a weight can be given for is listed by crm.match_weight_defaults().")));
		}
		else if (r == WJB_VALUE)
		{
			if (v.type != jbvNumeric)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the weight of duplicate evidence \"%s\" must be a number",
								evidence[current].name)));
			weights->w[current] = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
																	 NumericGetDatum(v.val.numeric)));
		}
	}
}

/*-------------------------------------------------------------------------
 * A client's matching forms
 *-------------------------------------------------------------------------
 */

char *
crm_normalized(const char *str, size_t len, int *outlen)
{
	const char *s = crm_text_as_utf8(str, &len);
	size_t		cap = 4 * Min(len, (size_t) 4096) + 16;
	char	   *out = palloc(cap);
	int			n = crm_name_normalize(s, len, out, cap);

	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("could not transliterate a name"),
				 errdetail("ICU transform \"Any-Latin; Latin-ASCII\" is not available or failed.")));
	*outlen = n;
	return out;
}

static int
column(TupleDesc desc, const char *name)
{
	for (int k = 0; k < desc->natts; k++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, k);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return k;
	}
	elog(ERROR, "crm.client has no column \"%s\"", name);
	return -1;					/* keep the compiler quiet */
}

void
crm_match_columns(TupleDesc desc, MatchColumns *cols)
{
	cols->id = column(desc, "id");
	cols->kind = column(desc, "kind");
	cols->first_name = column(desc, "first_name");
	cols->last_name = column(desc, "last_name");
	cols->company_name = column(desc, "company_name");
	cols->city = column(desc, "city");
	cols->address = column(desc, "address");
	cols->pesel = column(desc, "pesel");
	cols->nip = column(desc, "nip");
	cols->regon = column(desc, "regon");
	cols->birth_date = column(desc, "birth_date");
}

/* a text column as a C string in the server encoding, or NULL */
static char *
text_field(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, col + 1, desc, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static char *
identifier_field(HeapTuple tuple, TupleDesc desc, int col, CrmIdKind kind)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, col + 1, desc, &isnull);
	CrmIdDigits digits;
	char	   *buf;

	if (isnull)
		return NULL;
	buf = palloc(CRM_ID_MAX_DIGITS + 1);
	crm_id_get_digits(kind, DatumGetInt64(d), &digits);
	crm_id_digits_text(&digits, buf);
	return buf;
}

static char *
normalized_or_null(const char *s)
{
	int			n;

	return s ? crm_normalized(s, strlen(s), &n) : NULL;
}

/*
 * Fill c from a row of crm.client.  Scratch memory comes from the current
 * context; c->buf, the only thing kept, from dest.
 */
void
crm_match_client_from_tuple(MatchClient *c, HeapTuple tuple, TupleDesc desc,
							const MatchColumns *cols, MemoryContext dest)
{
	char	   *f[MF_COUNT];
	char	   *kind = text_field(tuple, desc, cols->kind);
	bool		isnull;
	Datum		d;
	size_t		total = 0;
	char	   *p;

	c->id = DatumGetInt64(heap_getattr(tuple, cols->id + 1, desc, &isnull));
	c->person = kind != NULL && strcmp(kind, "person") == 0;
	c->company = kind != NULL && strcmp(kind, "company") == 0;
	d = heap_getattr(tuple, cols->birth_date + 1, desc, &isnull);
	c->has_birth = !isnull;
	c->birth = isnull ? 0 : DatumGetDateADT(d);

	f[MF_FIRST] = text_field(tuple, desc, cols->first_name);
	f[MF_LAST] = text_field(tuple, desc, cols->last_name);
	f[MF_COMPANY] = text_field(tuple, desc, cols->company_name);
	f[MF_CITY] = text_field(tuple, desc, cols->city);
	f[MF_ADDRESS] = text_field(tuple, desc, cols->address);
	f[MF_FIRST_N] = normalized_or_null(f[MF_FIRST]);
	f[MF_LAST_N] = normalized_or_null(f[MF_LAST]);
	f[MF_FIRST_CANON] = NULL;
	if (f[MF_FIRST_N])
	{
		const char *full = crm_first_name_canonical(f[MF_FIRST_N]);

		f[MF_FIRST_CANON] = full ? pstrdup(full) : f[MF_FIRST_N];
	}
	f[MF_LAST_CANON] = NULL;
	if (f[MF_LAST_N])
	{
		const char *full = crm_first_name_canonical(f[MF_LAST_N]);

		f[MF_LAST_CANON] = full ? pstrdup(full) : f[MF_LAST_N];
	}
	f[MF_COMPANY_N] = normalized_or_null(f[MF_COMPANY]);
	if (f[MF_COMPANY_N])
		f[MF_COMPANY_N][crm_company_strip_legal_form(f[MF_COMPANY_N], strlen(f[MF_COMPANY_N]))] = '\0';
	f[MF_CITY_N] = normalized_or_null(f[MF_CITY]);
	f[MF_ADDRESS_N] = normalized_or_null(f[MF_ADDRESS]);
	f[MF_PESEL] = identifier_field(tuple, desc, cols->pesel, CRM_PESEL);
	f[MF_NIP] = identifier_field(tuple, desc, cols->nip, CRM_NIP);
	f[MF_REGON] = identifier_field(tuple, desc, cols->regon, CRM_REGON);

	/* one allocation for all of it: a whole base is held this way */
	for (int k = 0; k < MF_COUNT; k++)
		if (f[k])
			total += strlen(f[k]) + 1;
	c->buf = p = MemoryContextAlloc(dest, Max(total, 1));
	for (int k = 0; k < MF_COUNT; k++)
	{
		size_t		n;

		if (f[k] == NULL)
		{
			c->off[k] = MF_NULL;
			continue;
		}
		n = strlen(f[k]) + 1;
		memcpy(p, f[k], n);
		c->off[k] = (int32) (p - c->buf);
		p += n;
	}
}

/*-------------------------------------------------------------------------
 * Blocking keys
 *-------------------------------------------------------------------------
 */

static int
compare_words(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* the words of a matching form in alphabetical order, one space apart */
static char *
sorted_words(const char *s, int len)
{
	char	   *copy = pnstrdup(s, len);
	char	  **words = palloc(sizeof(char *) * (len / 2 + 1));
	int			nwords = 0;
	char	   *out = palloc(len + 1);
	int			n = 0;

	for (char *w = strtok(copy, " "); w != NULL; w = strtok(NULL, " "))
		words[nwords++] = w;
	qsort(words, nwords, sizeof(char *), compare_words);
	for (int k = 0; k < nwords; k++)
	{
		if (k > 0)
			out[n++] = ' ';
		memcpy(out + n, words[k], strlen(words[k]));
		n += strlen(words[k]);
	}
	out[n] = '\0';
	pfree(words);
	pfree(copy);
	return out;
}

/* Jaro-Winkler of two matching forms, word order ignored */
double
crm_name_similarity(const char *a, int la, const char *b, int lb)
{
	double		sim = crm_jaro_winkler(a, la, b, lb);

	/* "Kowalski Jan" and "Jan Kowalski" are the same person */
	if (sim < 1.0 && memchr(a, ' ', la) != NULL && memchr(b, ' ', lb) != NULL)
	{
		char	   *sa = sorted_words(a, la);
		char	   *sb = sorted_words(b, lb);

		sim = Max(sim, crm_jaro_winkler(sa, strlen(sa), sb, strlen(sb)));
		pfree(sa);
		pfree(sb);
	}
	return sim;
}

/*
 * A person has
 *   n:<first and last name words, canonical, in alphabetical order>
 *     same name in any order, diminutive or spelling of diacritics;
 *   f:<canonical first name>|<first 3 letters of the last name>
 *     a typo after the third letter of the last name;
 *   l:<last name>|<initial of the canonical first name>
 *     a typo in the first name;
 * a company c:<company name without legal form, words in order>; and
 * either, with an address:
 *   a:<city>|<address>
 *     a typo anywhere in the name of someone at the same address.
 */
int
crm_match_keys_of(bool company, const char *first_n, const char *last_n,
				  const char *company_n, const char *city_n, const char *address_n,
				  char **keys)
{
	int			nkeys = 0;

	if (company)
	{
		if (company_n == NULL)
			return 0;
		if (*company_n)
			keys[nkeys++] = psprintf("c:%s", sorted_words(company_n, strlen(company_n)));
	}
	else
	{
		char	   *first = "";

		if (last_n == NULL || *last_n == '\0')
			return 0;
		if (first_n)
		{
			/* each word of a double first name canonical: Kasia Ola */
			char	   *copy = pstrdup(first_n);

			for (char *w = strtok(copy, " "); w != NULL; w = strtok(NULL, " "))
			{
				const char *full = crm_first_name_canonical(w);

				first = *first ? psprintf("%s %s", first, full ? full : w) : pstrdup(full ? full : w);
			}
		}
		{
			char	   *both = *first ? psprintf("%s %s", first, last_n) : pstrdup(last_n);

			keys[nkeys++] = psprintf("n:%s", sorted_words(both, strlen(both)));
		}
		if (*first)
		{
			const char *sp = strchr(first, ' ');

			keys[nkeys++] = psprintf("f:%.*s|%.3s", sp ? (int) (sp - first) : (int) strlen(first),
									 first, last_n);
			keys[nkeys++] = psprintf("l:%s|%c", last_n, first[0]);
		}
	}
	if (nkeys > 0 && city_n && address_n && *city_n && *address_n)
		keys[nkeys++] = psprintf("a:%s|%s", city_n, address_n);
	return nkeys;
}

/*-------------------------------------------------------------------------
 * The score of a pair
 *-------------------------------------------------------------------------
 */

typedef struct Reason
{
	int			ord;
	char	   *text;
} Reason;

typedef struct Scoring
{
	const MatchWeights *weights;
	double		total;
	bool		explain;		/* build the reasons too */
	int			nreasons;
	Reason		reasons[16];
} Scoring;

/* evidence ev was found; its reason (only built when explaining) */
static void
found(Scoring *s, int ord, MatchEvidence ev, const char *fmt,...) pg_attribute_printf(4, 5);

static void
found(Scoring *s, int ord, MatchEvidence ev, const char *fmt,...)
{
	double		w = s->weights->w[ev];

	s->total += w;
	/* a neutral weight says nothing, but the gender form is worth showing */
	if (!s->explain || (w == 0 && ev != EV_LAST_NAME_GENDER) || s->nreasons == lengthof(s->reasons))
		return;
	{
		StringInfoData buf;
		va_list		args;
		int			needed;

		initStringInfo(&buf);
		for (;;)
		{
			va_start(args, fmt);
			needed = appendStringInfoVA(&buf, fmt, args);
			va_end(args);
			if (needed == 0)
				break;
			enlargeStringInfo(&buf, needed);
		}
		s->reasons[s->nreasons].ord = ord;
		s->reasons[s->nreasons].text = buf.data;
		s->nreasons++;
	}
}

static int
compare_reasons(const void *a, const void *b)
{
	const Reason *ra = a;
	const Reason *rb = b;

	if (ra->ord != rb->ord)
		return ra->ord < rb->ord ? -1 : 1;
	return strcmp(ra->text, rb->text);
}

/* a field as typed, "" when NULL, for the reasons */
static const char *
typed(const MatchClient *c, MatchField f)
{
	const char *s = crm_match_field(c, f);

	return s ? s : "";
}

static bool
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/*
 * A similarity as the reasons show it: rounded to two places by the very
 * functions of round(crm.name_similarity(a, b)::numeric, 2).
 */
static char *
two_places(double sim)
{
	Datum		n = DirectFunctionCall1(float8_numeric, Float8GetDatum(sim));

	n = DirectFunctionCall2(numeric_round, n, Int32GetDatum(2));
	return DatumGetCString(DirectFunctionCall1(numeric_out, n));
}

/* "similar" as crm.name_similarity(a, b) >= bound compares in SQL */
static bool
at_least(double sim, double bound)
{
	return sim >= bound;
}

/* -ski/-ska, -cki/-cka, -dzki/-dzka */
static bool
gender_form(const char *s)
{
	size_t		n = strlen(s);

	if (n < 3 || (s[n - 1] != 'a' && s[n - 1] != 'i'))
		return false;
	return (s[n - 3] == 's' && s[n - 2] == 'k') || (s[n - 3] == 'c' && s[n - 2] == 'k') ||
		(n >= 4 && s[n - 4] == 'd' && s[n - 3] == 'z' && s[n - 2] == 'k');
}

static double
similarity(const char *a, const char *b)
{
	return crm_name_similarity(a, strlen(a), b, strlen(b));
}

/*
 * Two names that are not the same (matching forms an, bn; as typed at, bt):
 * similar, with a Jaro-Winkler similarity of at least bound, or different.
 */
static void
similar_or_differ(Scoring *s, int ord, MatchEvidence similar, MatchEvidence differ, double bound,
				  const char *label, const char *an, const char *bn, const char *at, const char *bt)
{
	double		sim = similarity(an, bn);

	if (at_least(sim, bound))
		found(s, ord, similar, "%s similar: %s ~ %s %s", label, at, bt, s->explain ? two_places(sim) : "");
	else
		found(s, ord, differ, "different %ss: %s, %s", label, at, bt);
}

static char *
date_text(DateADT d)
{
	int			y,
				m,
				day;

	if (DATE_NOT_FINITE(d))
		return pstrdup(DATE_IS_NOBEGIN(d) ? "-infinity" : "infinity");
	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
	return psprintf("%04d-%02d-%02d", y, m, day);
}

double
crm_match_score(const MatchClient *a, const MatchClient *b,
				const char *const *shared, int nshared,
				const MatchWeights *weights, Datum *reasons)
{
	Scoring		s = {.weights = weights, .total = weights->w[EV_PRIOR], .explain = reasons != NULL};
	static const struct
	{
		MatchField	field;
		MatchEvidence ev;
		const char *label;
	}			ids[] = {
		{MF_PESEL, EV_PESEL, "PESEL"}, {MF_NIP, EV_NIP, "NIP"}, {MF_REGON, EV_REGON, "REGON"}
	};
	bool		persons = a->person && b->person;
	bool		swapped = false;

	/* identifiers: same, one typo apart, different */
	for (int k = 0; k < (int) lengthof(ids); k++)
	{
		const char *av = crm_match_field(a, ids[k].field);
		const char *bv = crm_match_field(b, ids[k].field);

		if (av == NULL || bv == NULL)
			continue;
		/* a 14-digit local unit agrees with its 9-digit unit */
		if (strcmp(av, bv) == 0 || (ids[k].field == MF_REGON && strncmp(av, bv, 9) == 0))
			found(&s, 1 + k, ids[k].ev, "same %s", ids[k].label);
		else if (crm_typo_distance(av, strlen(av), bv, strlen(bv), 3) == 1)
			found(&s, 1 + k, ids[k].ev + 1, "%s one typo away: %s ~ %s", ids[k].label, av, bv);
		else
			found(&s, 1 + k, ids[k].ev + 2, "different %s: %s, %s", ids[k].label, av, bv);
	}

	/* phones and e-mails in common: each kind counts once, shown by its least value */
	{
		const char *phone = NULL;
		const char *email = NULL;

		for (int k = 0; k < nshared; k++)
		{
			if (strncmp(shared[k], "phone:", 6) == 0 && (!phone || strcmp(shared[k] + 6, phone) < 0))
				phone = shared[k] + 6;
			else if (strncmp(shared[k], "email:", 6) == 0 && (!email || strcmp(shared[k] + 6, email) < 0))
				email = shared[k] + 6;
		}
		if (phone)
			found(&s, 4, EV_PHONE, "same phone %s", phone);
		if (email)
			found(&s, 4, EV_EMAIL, "same e-mail %s", email);
	}

	if (persons)
	{
		const char *al = typed(a, MF_LAST_N);
		const char *bl = typed(b, MF_LAST_N);
		const char *af = crm_match_field(a, MF_FIRST_CANON);
		const char *bf = crm_match_field(b, MF_FIRST_CANON);

		/* a person always has a last name, unless anonymized: no evidence */
		bool		both = crm_match_field(a, MF_LAST_N) && crm_match_field(b, MF_LAST_N);

		swapped = both && strcmp(al, bl) != 0 && same(al, crm_match_field(b, MF_FIRST_N)) &&
			same(af, crm_match_field(b, MF_LAST_CANON));
		if (!both)
			;
		else if (strcmp(al, bl) == 0)
			found(&s, 5, EV_LAST_NAME, "same last name: %s", typed(a, MF_LAST));
		else if (swapped)
			found(&s, 5, EV_NAMES_SWAPPED, "first and last name swapped: %s %s ~ %s %s",
				  typed(a, MF_FIRST), typed(a, MF_LAST), typed(b, MF_FIRST), typed(b, MF_LAST));
		else if (gender_form(al) && gender_form(bl) && strlen(al) == strlen(bl) &&
				 strncmp(al, bl, strlen(al) - 1) == 0)
			found(&s, 5, EV_LAST_NAME_GENDER, "last name in the other gender form: %s ~ %s",
				  typed(a, MF_LAST), typed(b, MF_LAST));
		else
			similar_or_differ(&s, 5, EV_LAST_NAME_SIMILAR, EV_LAST_NAME_DIFFER, 0.9, "last name", al, bl,
							  typed(a, MF_LAST), typed(b, MF_LAST));

		if (af && bf && *af && *bf && !swapped)
		{
			if (strcmp(af, bf) == 0)
			{
				if (same(crm_match_field(a, MF_FIRST_N), crm_match_field(b, MF_FIRST_N)))
					found(&s, 6, EV_FIRST_NAME, "same first name: %s", typed(a, MF_FIRST));
				else
					found(&s, 6, EV_FIRST_NAME, "first name diminutive: %s ~ %s",
						  typed(a, MF_FIRST), typed(b, MF_FIRST));
			}
			else if (at_least(similarity(af, bf), 0.9) ||
					 crm_typo_distance(af, strlen(af), bf, strlen(bf), 3) <= 1)
				found(&s, 6, EV_FIRST_NAME_SIMILAR, "first name similar: %s ~ %s",
					  typed(a, MF_FIRST), typed(b, MF_FIRST));
			else
				found(&s, 6, EV_FIRST_NAME_DIFFER, "different first names: %s, %s",
					  typed(a, MF_FIRST), typed(b, MF_FIRST));
		}
	}

	if (a->company && b->company && crm_match_field(a, MF_COMPANY_N) && crm_match_field(b, MF_COMPANY_N))
	{
		const char *ac = typed(a, MF_COMPANY_N);
		const char *bc = typed(b, MF_COMPANY_N);

		if (strcmp(ac, bc) == 0)
			found(&s, 7, EV_COMPANY, "same company name: %s ~ %s", typed(a, MF_COMPANY), typed(b, MF_COMPANY));
		else
			similar_or_differ(&s, 7, EV_COMPANY_SIMILAR, EV_COMPANY_DIFFER, 0.92, "company name", ac, bc,
							  typed(a, MF_COMPANY), typed(b, MF_COMPANY));
	}

	/* a birth date says something of its own only where a PESEL does not */
	if (a->has_birth && b->has_birth &&
		(crm_match_field(a, MF_PESEL) == NULL || crm_match_field(b, MF_PESEL) == NULL))
	{
		if (a->birth == b->birth)
			found(&s, 8, EV_BIRTH_DATE, "same birth date %s", s.explain ? date_text(a->birth) : "");
		else
			found(&s, 8, EV_BIRTH_DATE_DIFFER, "different birth dates: %s, %s",
				  s.explain ? date_text(a->birth) : "", s.explain ? date_text(b->birth) : "");
	}

	if (crm_match_field(a, MF_CITY) && crm_match_field(b, MF_CITY))
	{
		if (same(crm_match_field(a, MF_CITY_N), crm_match_field(b, MF_CITY_N)))
			found(&s, 9, EV_CITY, "same city: %s", typed(a, MF_CITY));
		else
			found(&s, 9, EV_CITY_DIFFER, "different cities: %s, %s", typed(a, MF_CITY), typed(b, MF_CITY));
	}

	if (same(crm_match_field(a, MF_ADDRESS_N), crm_match_field(b, MF_ADDRESS_N)) &&
		*crm_match_field(a, MF_ADDRESS_N))
		found(&s, 10, EV_ADDRESS, "same address: %s", typed(a, MF_ADDRESS));

	if (reasons)
	{
		Datum	   *texts = palloc(sizeof(Datum) * Max(s.nreasons, 1));

		qsort(s.reasons, s.nreasons, sizeof(Reason), compare_reasons);
		for (int k = 0; k < s.nreasons; k++)
			texts[k] = CStringGetTextDatum(s.reasons[k].text);
		*reasons = PointerGetDatum(construct_array(texts, s.nreasons, TEXTOID, -1, false, TYPALIGN_INT));
	}
	return 1.0 / (1.0 + pow(2.0, -s.total));
}

/*-------------------------------------------------------------------------
 * crm.match_score(a, b, shared, w)
 *-------------------------------------------------------------------------
 */

/* what one call site keeps between calls: the weights of the last w */
typedef struct ScoreCache
{
	Oid			rowtype;
	int32		rowtypmod;
	TupleDesc	desc;
	MatchColumns cols;
	Jsonb	   *json;
	MatchWeights weights;
} ScoreCache;

static void
client_from_datum(ScoreCache *cache, HeapTupleHeader row, MatchClient *c, MemoryContext dest)
{
	HeapTupleData tuple;

	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = row;
	crm_match_client_from_tuple(c, &tuple, cache->desc, &cache->cols, dest);
}

PG_FUNCTION_INFO_V1(match_score);
Datum
match_score(PG_FUNCTION_ARGS)
{
	ScoreCache *cache = fcinfo->flinfo->fn_extra;
	HeapTupleHeader ra;
	HeapTupleHeader rb;
	Jsonb	   *json;
	MatchClient a;
	MatchClient b;
	char	  **shared = NULL;
	int			nshared = 0;
	TupleDesc	result_desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	ra = PG_GETARG_HEAPTUPLEHEADER(0);
	rb = PG_GETARG_HEAPTUPLEHEADER(1);
	json = PG_GETARG_JSONB_P(3);

	if (cache == NULL)
		cache = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ScoreCache));
	if (HeapTupleHeaderGetTypeId(ra) != HeapTupleHeaderGetTypeId(rb) ||
		HeapTupleHeaderGetTypMod(ra) != HeapTupleHeaderGetTypMod(rb))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("arguments a and b of crm.match_score must be rows of the same type"),
				 errhint("Pass two rows of crm.client.")));
	if (cache->desc == NULL || cache->rowtype != HeapTupleHeaderGetTypeId(ra) ||
		cache->rowtypmod != HeapTupleHeaderGetTypMod(ra))
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(ra),
												  HeapTupleHeaderGetTypMod(ra));
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		cache->desc = CreateTupleDescCopy(desc);
		ReleaseTupleDesc(desc);
		MemoryContextSwitchTo(old);
		cache->rowtype = HeapTupleHeaderGetTypeId(ra);
		cache->rowtypmod = HeapTupleHeaderGetTypMod(ra);
		crm_match_columns(cache->desc, &cache->cols);
	}
	/* the same weights call after call: parsed once */
	if (cache->json == NULL || VARSIZE(cache->json) != VARSIZE(json) ||
		memcmp(cache->json, json, VARSIZE(json)) != 0)
	{
		crm_match_weights_from_jsonb(&cache->weights, json);
		if (cache->json)
			pfree(cache->json);
		cache->json = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE(json));
		memcpy(cache->json, json, VARSIZE(json));
	}

	client_from_datum(cache, ra, &a, CurrentMemoryContext);
	client_from_datum(cache, rb, &b, CurrentMemoryContext);
	if (!PG_ARGISNULL(2))
	{
		Datum	   *elems;
		bool	   *enulls;

		deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &enulls, &nshared);
		shared = palloc(sizeof(char *) * Max(nshared, 1));
		for (int k = 0; k < nshared; k++)
			shared[k] = enulls[k] ? "" : TextDatumGetCString(elems[k]);
	}

	values[0] = Float8GetDatum(crm_match_score(&a, &b, (const char *const *) shared, nshared,
											   &cache->weights, &values[1]));
	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "crm.match_score must return a record");
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(result_desc), values, nulls)));
}
