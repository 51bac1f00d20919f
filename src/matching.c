/*-------------------------------------------------------------------------
 *
 * matching.c
 *	  SQL face of the name matching in namematch.c:
 *	    crm.normalize_name(text)        the matching form of a person's name
 *	    crm.normalize_company(text)     the same, without the legal form
 *	    crm.first_name_canonical(text)  Kasia -> katarzyna, Jan -> jan
 *	    crm.name_similarity(text, text) Jaro-Winkler on matching forms,
 *	                                    word order ignored
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
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
