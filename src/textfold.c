/*-------------------------------------------------------------------------
 *
 * textfold.c
 *	  crm.fold_text(text): the form in which duplicate criteria compare
 *	  text: white space trimmed and collapsed, Unicode case folding (ICU),
 *	  so "  KOWALSKI  Jan", "kowalski jan" and "Kowalski\u00A0Jan" agree in
 *	  any database collation (lower() folds only ASCII under "C").
 *	  Diacritics stay: exact criteria keep Łódź and Lodz apart.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"
#include "pgcompat.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include <unicode/uchar.h>
#include <unicode/ustring.h>

#include "textinput.h"
#include "unichar.h"

PG_FUNCTION_INFO_V1(fold_text);
Datum
fold_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(t);
	const uint8_t *s = (const uint8_t *) crm_text_as_utf8(VARDATA_ANY(t), &len);
	StringInfoData spaced;
	UChar	   *src;
	UChar	   *folded;
	int32_t		srclen;
	int32_t		foldlen;
	int32_t		outlen;
	char	   *out;
	UErrorCode	status = U_ZERO_ERROR;
	int32_t		i = 0;
	bool		pending_space = false;

	if (len > (size_t) (MaxAllocSize / 8))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("text too long to fold")));

	/* spaces: none at the ends, one between words; bytes that are not UTF-8 stay */
	initStringInfo(&spaced);
	while (i < (int32_t) len)
	{
		int32_t		start = i;
		int32_t		c = crm_next_char(s, &i, (int32_t) len);

		if (c >= 0 && crm_is_space(c))
		{
			pending_space = spaced.len > 0;
			continue;
		}
		if (pending_space)
			appendStringInfoChar(&spaced, ' ');
		pending_space = false;
		appendBinaryStringInfo(&spaced, (const char *) s + start, i - start);
	}

	src = palloc(sizeof(UChar) * (spaced.len + 1));
	u_strFromUTF8Lenient(src, spaced.len + 1, &srclen, spaced.data, spaced.len, &status);
	if (U_FAILURE(status))
		elog(ERROR, "could not convert text to UTF-16: %s", u_errorName(status));
	/* full case folding can triple the length (U+0390 and the like) */
	folded = palloc(sizeof(UChar) * (3 * srclen + 1));
	foldlen = u_strFoldCase(folded, 3 * srclen + 1, src, srclen, U_FOLD_CASE_DEFAULT, &status);
	if (U_FAILURE(status))
		elog(ERROR, "could not fold case: %s", u_errorName(status));
	out = palloc(3 * foldlen + 1);
	u_strToUTF8(out, 3 * foldlen + 1, &outlen, folded, foldlen, &status);
	if (U_FAILURE(status))
		elog(ERROR, "could not convert text to UTF-8: %s", u_errorName(status));
	out[outlen] = '\0';
	PG_RETURN_TEXT_P(cstring_to_text(crm_utf8_to_server(out)));
}
