/*-------------------------------------------------------------------------
 *
 * vcard.c
 *	  The server glue of src/core/vcard.c, for crm.vcard():
 *	    crm_internal.vcard_escape(value text): a text value escaped
 *	    crm_internal.vcard_line(name text, value text): "name:value" as a
 *	        content line, folded at 75 octets of UTF-8, ending in CRLF
 *	  The octets counted are those of the UTF-8 form whatever the server
 *	  encoding: a card is UTF-8 (RFC 6350), which an application reads with
 *	  client_encoding UTF8.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"
#include "pgcompat.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "textinput.h"
#include "vcard.h"

PG_FUNCTION_INFO_V1(vcard_escape);
Datum
vcard_escape(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(t);
	text	   *result;

	/* the server encodings are ASCII-safe: \ , ; CR LF are those bytes only */
	if (len > (MaxAllocSize - VARHDRSZ) / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vCard value too long"),
				 errdetail("The value has %zu bytes.", len)));
	result = (text *) palloc(VARHDRSZ + CRM_VCARD_ESCAPE_MAX(len));
	SET_VARSIZE(result, VARHDRSZ + crm_vcard_escape(VARDATA_ANY(t), len, VARDATA(result)));
	PG_RETURN_TEXT_P(result);
}

PG_FUNCTION_INFO_V1(vcard_line);
Datum
vcard_line(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	text	   *value = PG_GETARG_TEXT_PP(1);
	size_t		namelen = VARSIZE_ANY_EXHDR(name);
	size_t		valuelen = VARSIZE_ANY_EXHDR(value);
	size_t		len;
	char	   *line;
	const char *utf8;
	char	   *folded;
	size_t		foldedlen;

	if (namelen == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a vCard content line needs a property name")));
	if (namelen + valuelen > MaxAllocSize / 4)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vCard content line too long"),
				 errdetail("The line has %zu bytes.", namelen + 1 + valuelen)));
	len = namelen + 1 + valuelen;
	line = palloc(len + 1);
	memcpy(line, VARDATA_ANY(name), namelen);
	line[namelen] = ':';
	memcpy(line + namelen + 1, VARDATA_ANY(value), valuelen);
	line[len] = '\0';

	utf8 = crm_text_as_utf8(line, &len);
	folded = palloc(CRM_VCARD_FOLD_MAX(len) + 1);
	foldedlen = crm_vcard_fold(utf8, len, folded);
	folded[foldedlen] = '\0';
	PG_RETURN_TEXT_P(cstring_to_text(crm_utf8_to_server(folded)));
}
