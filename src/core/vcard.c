/*
 * vcard.c
 *	  Escaping and folding of vCard content lines (RFC 6350), byte by byte:
 *	  the folding counts octets of UTF-8 and must not split a character,
 *	  which is clearer on bytes than in SQL.  The card itself (which
 *	  properties, from which columns) is SQL: crm.vcard().
 */
#include "vcard.h"

#include "coreassert.h"

size_t
crm_vcard_escape(const char *in, size_t len, char *out)
{
	size_t		o = 0;

	for (size_t i = 0; i < len; i++)
	{
		char		c = in[i];

		switch (c)
		{
			case '\\':
			case ',':
			case ';':
				out[o++] = '\\';
				out[o++] = c;
				break;
			case '\r':
				/* CRLF is one break */
				if (i + 1 < len && in[i + 1] == '\n')
					i++;
				/* FALLTHROUGH */
			case '\n':
				out[o++] = '\\';
				out[o++] = 'n';
				break;
			default:
				out[o++] = c;
		}
	}
	CRM_ASSERT(o <= CRM_VCARD_ESCAPE_MAX(len));
	return o;
}

/* the length of the character starting at in[i]: a lead byte and its continuation bytes */
static size_t
char_length(const unsigned char *in, size_t i, size_t len)
{
	size_t		n = 1;
	size_t		want;

	if (in[i] < 0xC0 || in[i] > 0xF4)
		return 1;				/* ASCII, a stray continuation byte, not UTF-8 */
	want = in[i] >= 0xF0 ? 4 : in[i] >= 0xE0 ? 3 : 2;
	while (n < want && i + n < len && (in[i + n] & 0xC0) == 0x80)
		n++;
	CRM_ASSERT(n >= 1 && n <= 4 && i + n <= len);
	return n;
}

size_t
crm_vcard_fold(const char *in, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *) in;
	size_t		o = 0;
	size_t		line = 0;		/* octets on the current physical line */
	size_t		i = 0;

	while (i < len)
	{
		size_t		n = char_length(s, i, len);

		if (line + n > CRM_VCARD_LINE_OCTETS)
		{
			out[o++] = '\r';
			out[o++] = '\n';
			out[o++] = ' ';
			line = 1;
		}
		for (size_t k = 0; k < n; k++)
			out[o++] = in[i + k];
		line += n;
		i += n;
		/* a character is 4 octets at most: a break always leaves room for it */
		CRM_ASSERT(line <= CRM_VCARD_LINE_OCTETS);
	}
	out[o++] = '\r';
	out[o++] = '\n';
	CRM_ASSERT(o <= CRM_VCARD_FOLD_MAX(len));
	return o;
}
