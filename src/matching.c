/*-------------------------------------------------------------------------
 *
 * matching.c
 *	  SQL face of the name matching in namematch.c:
 *	    crm.normalize_name(text)        the matching form of a person's name
 *	    crm.normalize_company(text)     the same, without the legal form
 *	    crm.first_name_canonical(text)  Kasia -> katarzyna, Jan -> jan
 *	    crm.name_similarity(text, text) Jaro-Winkler on matching forms,
 *	                                    word order ignored
 *	    crm.typo_distance(text, text)   edits and transpositions apart
 *	    crm.match_keys(...)             the blocking keys of a client
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "namematch.h"
#include "textinput.h"

/* the matching form of a text datum, palloc'd; *outlen its length */
static char *
normalized(text *t, int *outlen)
{
	size_t		len = VARSIZE_ANY_EXHDR(t);
	const char *s = crm_text_as_utf8(VARDATA_ANY(t), &len);
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

PG_FUNCTION_INFO_V1(normalize_name);
Datum
normalize_name(PG_FUNCTION_ARGS)
{
	int			n;
	char	   *s = normalized(PG_GETARG_TEXT_PP(0), &n);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(s, n));
}

PG_FUNCTION_INFO_V1(normalize_company);
Datum
normalize_company(PG_FUNCTION_ARGS)
{
	int			n;
	char	   *s = normalized(PG_GETARG_TEXT_PP(0), &n);

	n = crm_company_strip_legal_form(s, n);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(s, n));
}

PG_FUNCTION_INFO_V1(first_name_canonical);
Datum
first_name_canonical(PG_FUNCTION_ARGS)
{
	int			n;
	char	   *s = normalized(PG_GETARG_TEXT_PP(0), &n);
	const char *full = crm_first_name_canonical(s);

	PG_RETURN_TEXT_P(full ? cstring_to_text(full) : cstring_to_text_with_len(s, n));
}

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
	return out;
}

PG_FUNCTION_INFO_V1(name_similarity);
Datum
name_similarity(PG_FUNCTION_ARGS)
{
	int			la;
	int			lb;
	char	   *a = normalized(PG_GETARG_TEXT_PP(0), &la);
	char	   *b = normalized(PG_GETARG_TEXT_PP(1), &lb);
	double		sim = crm_jaro_winkler(a, la, b, lb);

	/* "Kowalski Jan" and "Jan Kowalski" are the same person */
	if (sim < 1.0 && memchr(a, ' ', la) != NULL && memchr(b, ' ', lb) != NULL)
	{
		char	   *sa = sorted_words(a, la);
		char	   *sb = sorted_words(b, lb);

		sim = Max(sim, crm_jaro_winkler(sa, strlen(sa), sb, strlen(sb)));
	}
	PG_RETURN_FLOAT4((float4) sim);
}

PG_FUNCTION_INFO_V1(typo_distance);
Datum
typo_distance(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);

	/* beyond 3 the count means nothing for matching: "more than 3" is 4 */
	PG_RETURN_INT32(crm_typo_distance(VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a),
									  VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), 3));
}

/* the first word of a matching form (itself if one word), palloc'd */
static char *
first_word(const char *s)
{
	const char *sp = strchr(s, ' ');

	return sp ? pnstrdup(s, sp - s) : pstrdup(s);
}

/*
 * The blocking keys of a client: two clients are compared only if they
 * share a key (or an identifier, phone or e-mail).  A person has
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
PG_FUNCTION_INFO_V1(match_keys);
Datum
match_keys(PG_FUNCTION_ARGS)
{
	Datum		keys[4];
	int			nkeys = 0;
	bool		company = !PG_ARGISNULL(0) &&
		strcmp(text_to_cstring(PG_GETARG_TEXT_PP(0)), "company") == 0;

	if (company)
	{
		int			n;
		char	   *name;

		if (PG_ARGISNULL(3))
			PG_RETURN_NULL();
		name = normalized(PG_GETARG_TEXT_PP(3), &n);
		n = crm_company_strip_legal_form(name, n);
		if (n > 0)
			keys[nkeys++] = PointerGetDatum(cstring_to_text(psprintf("c:%s", sorted_words(name, n))));
	}
	else
	{
		int			nl = 0;
		char	   *last = PG_ARGISNULL(2) ? "" : normalized(PG_GETARG_TEXT_PP(2), &nl);
		char	   *first = "";

		if (!PG_ARGISNULL(1))
		{
			int			nf;
			char	   *f = normalized(PG_GETARG_TEXT_PP(1), &nf);

			/* each word of a double first name canonical: Kasia Ola */
			for (char *w = strtok(f, " "); w != NULL; w = strtok(NULL, " "))
			{
				const char *full = crm_first_name_canonical(w);

				first = *first ? psprintf("%s %s", first, full ? full : w) : pstrdup(full ? full : w);
			}
		}
		if (nl == 0)
			PG_RETURN_NULL();
		{
			char	   *both = *first ? psprintf("%s %s", first, last) : last;

			keys[nkeys++] = PointerGetDatum(cstring_to_text(psprintf("n:%s", sorted_words(both, strlen(both)))));
		}
		if (*first)
		{
			keys[nkeys++] = PointerGetDatum(cstring_to_text(psprintf("f:%s|%.3s", first_word(first), last)));
			keys[nkeys++] = PointerGetDatum(cstring_to_text(psprintf("l:%s|%c", last, first[0])));
		}
	}
	/* an install script of 0.1.0 before the address key declared 4 arguments */
	if (nkeys > 0 && PG_NARGS() >= 6 && !PG_ARGISNULL(4) && !PG_ARGISNULL(5))
	{
		int			nc;
		int			na;
		char	   *city = normalized(PG_GETARG_TEXT_PP(4), &nc);
		char	   *address = normalized(PG_GETARG_TEXT_PP(5), &na);

		if (nc > 0 && na > 0)
			keys[nkeys++] = PointerGetDatum(cstring_to_text(psprintf("a:%s|%s", city, address)));
	}
	if (nkeys == 0)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(construct_array(keys, nkeys, TEXTOID, -1, false, TYPALIGN_INT));
}
