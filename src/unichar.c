/*-------------------------------------------------------------------------
 *
 * unichar.c
 *	  Character classes shared by the parsers of typed-in data.
 *
 * ASCII is answered without ICU; the rest by ICU's character properties.
 *
 *-------------------------------------------------------------------------
 */
#include "unichar.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

int32_t
crm_next_char(const uint8_t *s, int32_t *i, int32_t len)
{
	int32_t		c = s[*i];

	if (c < 0x80)
		(*i)++;
	else
		U8_NEXT(s, *i, len, c);
	return c;
}

int
crm_decimal_digit(int32_t c)
{
	if (c < 0x80)
		return (c >= '0' && c <= '9') ? c - '0' : -1;
	return u_isdigit(c) ? u_charDigitValue(c) : -1;
}

bool
crm_is_space(int32_t c)
{
	if (c < 0x80)
		return c == ' ' || (c >= '\t' && c <= '\r');
	return u_isUWhiteSpace(c) ||
		u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT);
}

bool
crm_is_dash(int32_t c)
{
	if (c < 0x80)
		return c == '-';
	return u_charType(c) == U_DASH_PUNCTUATION || c == 0x2212;	/* minus sign */
}
