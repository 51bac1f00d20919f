/*-------------------------------------------------------------------------
 *
 * textinput.c
 *	  Server-side helpers for parsing typed-in text (see textinput.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "common/string.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "textinput.h"

/*
 * ASCII is the same in every server encoding, so only text with high-bit
 * bytes in a database of another encoding is converted (SQL_ASCII gives no
 * guarantee; its bytes are read as UTF-8).  An encoding with no conversion
 * to UTF-8 (MULE_INTERNAL) keeps its ASCII and has each other character
 * replaced by U+FFFD: never a digit, space or dash, so the parsers refuse
 * it without raising anything but their own error.
 */
const char *
crm_text_as_utf8(const char *str, size_t *len)
{
	int			encoding = GetDatabaseEncoding();
	char	   *converted;
	StringInfoData buf;

	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII)
		return str;
	for (size_t k = 0; k < *len; k++)
	{
		if (!IS_HIGHBIT_SET(str[k]))
			continue;
		if (OidIsValid(FindDefaultConversionProc(encoding, PG_UTF8)))
		{
			converted = pg_server_to_any(str, (int) *len, PG_UTF8);
			if (converted != str)
				*len = strlen(converted);
			return converted;
		}
		initStringInfo(&buf);
		for (size_t j = 0; j < *len;)
		{
			if (IS_HIGHBIT_SET(str[j]))
			{
				appendStringInfoString(&buf, "\xEF\xBF\xBD");
				j += Min((size_t) pg_encoding_mblen(encoding, str + j), *len - j);
			}
			else
				appendStringInfoChar(&buf, str[j++]);
		}
		*len = buf.len;
		return buf.data;
	}
	return str;
}

char *
crm_utf8_to_server(const char *utf8)
{
	int			encoding = GetDatabaseEncoding();
	int			len = (int) strlen(utf8);

	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII || pg_is_ascii(utf8))
		return pstrdup(utf8);
	return pg_any_to_server(utf8, len, PG_UTF8);
}

char *
crm_describe_character(int32 c)
{
	bool		visible;

	if (c < 0x80)
		visible = c > 0x20 && c < 0x7f;
	else
		visible = GetDatabaseEncoding() == PG_UTF8 && u_isgraph(c);

	if (visible)
	{
		uint8_t		utf8[U8_MAX_LENGTH + 1];
		int32_t		n = 0;
		UBool		error = false;

		U8_APPEND(utf8, n, U8_MAX_LENGTH, c, error);
		if (!error)
		{
			utf8[n] = '\0';
			return psprintf("\"%s\" (U+%04X)", (char *) utf8, (unsigned) c);
		}
	}
	return psprintf("U+%04X", (unsigned) c);
}

char *
crm_bad_byte_problem(int32 byte, int position)
{
	return psprintf("Byte 0x%02X at position %d is not valid UTF-8.",
					(unsigned) byte, position);
}
