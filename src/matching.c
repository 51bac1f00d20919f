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
#include "pgcompat.h"

#include "fmgr.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"

#include "matchforms.h"
#include "matchkeys.h"
#include "namematch.h"
#include "scoring.h"
#include "textinput.h"

/* the matching form of a text datum, palloc'd; *outlen its length */
static char *
normalized(text *t, int *outlen)
{
	return crm_normalized(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), outlen);
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

PG_FUNCTION_INFO_V1(name_similarity);
Datum
name_similarity(PG_FUNCTION_ARGS)
{
	int			la;
	int			lb;
	char	   *a = normalized(PG_GETARG_TEXT_PP(0), &la);
	char	   *b = normalized(PG_GETARG_TEXT_PP(1), &lb);

	PG_RETURN_FLOAT8(crm_name_similarity(a, la, b, lb));
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

/*
 * the blocking keys of a client: see crm_match_keys_of() in matchkeys.c;
 * arguments kind, first name, last name, company, city, address, postal
 * code, birth date (the last two newer: a call may leave them out)
 */
PG_FUNCTION_INFO_V1(match_keys);
Datum
match_keys(PG_FUNCTION_ARGS)
{
	char	   *forms[5] = {NULL, NULL, NULL, NULL, NULL};
	char	   *keys[CRM_MAX_NAME_KEYS];
	Datum		datums[CRM_MAX_NAME_KEYS];
	int			nkeys;
	MatchKeyFields f = {0};

	f.company = !PG_ARGISNULL(0) && strcmp(text_to_cstring(PG_GETARG_TEXT_PP(0)), "company") == 0;
	for (int k = 0; k < 5 && k + 1 < PG_NARGS(); k++)
	{
		int			n;

		if (!PG_ARGISNULL(k + 1))
			forms[k] = normalized(PG_GETARG_TEXT_PP(k + 1), &n);
	}
	if (forms[2])
		forms[2][crm_company_strip_legal_form(forms[2], strlen(forms[2]))] = '\0';
	if (forms[4])
		forms[4][crm_address_canonical(forms[4], strlen(forms[4]))] = '\0';
	f.first_n = forms[0];
	f.last_n = forms[1];
	f.company_n = forms[2];
	f.city_n = forms[3];
	f.address_n = forms[4];
	if (PG_NARGS() > 6 && !PG_ARGISNULL(6))
		f.postcode = crm_postcode_form(text_to_cstring(PG_GETARG_TEXT_PP(6)));
	if (PG_NARGS() > 7 && !PG_ARGISNULL(7))
	{
		f.has_birth = true;
		f.birth = PG_GETARG_DATEADT(7);
	}
	nkeys = crm_match_keys_of(&f, keys);
	if (nkeys == 0)
		PG_RETURN_NULL();
	for (int k = 0; k < nkeys; k++)
		datums[k] = CStringGetTextDatum(keys[k]);
	PG_RETURN_ARRAYTYPE_P(construct_array(datums, nkeys, TEXTOID, -1, false, TYPALIGN_INT));
}
