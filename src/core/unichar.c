/*-------------------------------------------------------------------------
 *
 * unichar.c
 *	  Character classes shared by the parsers of typed-in data: the
 *	  non-ASCII halves, answered by ICU's character properties (the ASCII
 *	  halves are inline in unichar.h).
 *
 *-------------------------------------------------------------------------
 */
#include "unichar.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

int32_t
crm_next_char_multibyte(const uint8_t *s, int32_t *i, int32_t len)
{
	int32_t		c;

	U8_NEXT(s, *i, len, c);
	return c;
}

int
crm_decimal_digit_unicode(int32_t c)
{
	return u_isdigit(c) ? u_charDigitValue(c) : -1;
}

bool
crm_is_space_unicode(int32_t c)
{
	return u_isUWhiteSpace(c) ||
		u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT);
}

bool
crm_is_dash_unicode(int32_t c)
{
	return u_charType(c) == U_DASH_PUNCTUATION || c == 0x2212;	/* minus sign */
}
