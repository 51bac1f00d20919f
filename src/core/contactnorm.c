/*-------------------------------------------------------------------------
 *
 * contactnorm.c
 *	  Phone numbers to E.164 and e-mail addresses to a canonical form.
 *
 * Phone numbers.  Digits of any script count; white space, dashes, dots,
 * slashes and parentheses are separators; a "+" (or a fullwidth one) may
 * only come before the first digit.  The country prefix is taken from:
 *	- a "+": the digits that follow are country code and number;
 *	- a leading "00": the same, the international call prefix;
 *	- otherwise the number is Polish: 9 digits, or 10 starting with the old
 *	  trunk "0", or 11 starting with 48 (the prefix typed without "+").
 * The country calling code must be one of the world's (libphonenumber's
 * metadata, in phonemeta.h; the codes are a prefix code, so at most one of
 * the first 1, 2 or 3 digits is one).  A "(0)" after the country code
 * ("+44 (0)20 7946 0958") is the national trunk prefix, which is not
 * dialled from abroad: it is dropped; so is a trunk prefix typed without
 * parentheses ("+44 020 ...", "+81 03 ...") when no number of the country
 * starts with the two digits it is typed with (Japan's numbers may start
 * with 00, never with 03), or when only the number without it has a
 * possible length ("+7 8 800 555 35 35").  A Polish number (+48) has exactly 9 digits after the prefix;
 * any other has at most 15 digits with its country code (E.164) and after
 * the code one of the lengths libphonenumber gives as possible for the
 * country (lengths dialled only locally, such as 7-digit numbers in +1,
 * are not).
 *
 * E-mail addresses.  Surrounding white space is dropped; exactly one "@";
 * the local part (at most 64 bytes, RFC 5322 "atext" characters or
 * non-ASCII letters, dots only between characters) is kept as typed, since
 * only the receiving server may interpret its case; the domain (labels of
 * letters, digits and inner hyphens, at least two, the last not numeric)
 * is lower-cased.  Quoted local parts and address literals are refused:
 * a CRM has no use for them and they hide typing errors.
 *
 *-------------------------------------------------------------------------
 */
#include "contactnorm.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/ustring.h>

#include "coreassert.h"
#include "phonemeta.h"
#include "unichar.h"

#define PHONE_SCAN_DIGITS 32

static bool
phone_fail(CrmPhoneError *err, CrmPhoneStatus status, int ndigits)
{
	err->status = status;
	err->ndigits = ndigits;
	return false;
}

static bool
is_phone_separator(int32_t c)
{
	return crm_is_space(c) || crm_is_dash(c) ||
		c == '.' || c == '/' || c == '(' || c == ')';
}

/* the table entry of a calling code, NULL if no country has it */
static int
calling_code_cmp(const void *key, const void *entry)
{
	return (int) *(const uint16_t *) key - (int) ((const CrmCallingCode *) entry)->code;
}

static const CrmCallingCode *
calling_code(int code)
{
	uint16_t	key;

	if (code <= 0 || code > 999)
		return NULL;
	key = (uint16_t) code;
	return bsearch(&key, crm_calling_codes, CRM_CALLING_CODE_COUNT,
				   sizeof(crm_calling_codes[0]), calling_code_cmp);
}

uint32_t
crm_phone_country_lengths(int code)
{
	const CrmCallingCode *cc = calling_code(code);

	return cc ? cc->lengths : 0;
}

static bool
length_possible(const CrmCallingCode *cc, int nlen)
{
	return nlen >= 0 && nlen < 32 && (cc->lengths & (1u << nlen)) != 0;
}

/* the n digits at s start with the trunk prefix and go on after it */
static bool
starts_with_trunk(const CrmCallingCode *cc, const uint8_t *s, int n)
{
	int			len = (int) strlen(cc->trunk);

	if (len == 0 || n <= len)
		return false;
	for (int k = 0; k < len; k++)
		if (s[k] != cc->trunk[k] - '0')
			return false;
	return true;
}

/*
 * The n digits at s start with the trunk prefix, and no national number of
 * the country starts with their first two digits.
 */
static bool
trunk_misplaced(const CrmCallingCode *cc, const uint8_t *s, int n)
{
	return starts_with_trunk(cc, s, n) && (cc->after_trunk & (1u << s[1])) == 0;
}

/*
 * Write "+" and the m digits at p (country code first), checking them
 * against the numbering plan of the country code.
 */
static bool
phone_international(const uint8_t *p, int m, char *out, CrmPhoneError *err)
{
	const CrmCallingCode *cc = NULL;
	const uint8_t *national;
	int			codelen = 0;
	int			code = 0;
	int			nlen;

	if (m == 0)
		return phone_fail(err, CRM_PHONE_NO_DIGITS, 0);
	if (p[0] == 0)
		return phone_fail(err, CRM_PHONE_BAD_COUNTRY, m);

	/* calling codes are a prefix code: at most one of 1, 2, 3 digits fits */
	while (cc == NULL && codelen < 3 && codelen < m)
	{
		code = code * 10 + p[codelen++];
		cc = calling_code(code);
	}
	if (cc == NULL)
	{
		err->country = code;
		return phone_fail(err, CRM_PHONE_UNKNOWN_COUNTRY, codelen);
	}
	err->country = code;
	err->lengths = cc->lengths;
	national = p + codelen;
	nlen = m - codelen;
	CRM_ASSERT(codelen >= 1 && codelen <= 3 && nlen >= 0);

	/*
	 * "+44 020 ...", "+81 03 ...": the national trunk prefix, not dialled
	 * from abroad, is dropped when no number of the country starts with the
	 * digits it is typed with (trunk_misplaced); and, where the number
	 * could start so, when only the number without the prefix has a
	 * possible length ("+7 8 800 555 35 35").  Never when the rest would
	 * again be a misplaced trunk prefix ("+44 0 0 ..."): a normalized number
	 * normalizes to itself.
	 */
	if (trunk_misplaced(cc, national, nlen))
	{
		int			rest = nlen - (int) strlen(cc->trunk);

		if (!trunk_misplaced(cc, national + nlen - rest, rest))
		{
			national += nlen - rest;
			nlen = rest;
		}
	}
	else if (starts_with_trunk(cc, national, nlen))
	{
		int			rest = nlen - (int) strlen(cc->trunk);

		if (!length_possible(cc, nlen) && length_possible(cc, rest) &&
			!trunk_misplaced(cc, national + nlen - rest, rest))
		{
			national += nlen - rest;
			nlen = rest;
		}
	}

	if (code == 48 && nlen != 9)
		return phone_fail(err, CRM_PHONE_POLISH_LENGTH, nlen);
	if (codelen + nlen > CRM_PHONE_MAX_DIGITS)
		return phone_fail(err, CRM_PHONE_TOO_LONG, codelen + nlen);
	if (!length_possible(cc, nlen))
		return phone_fail(err, CRM_PHONE_COUNTRY_LENGTH, nlen);

	/* the trunk prefix dropped is a prefix of the national number */
	CRM_ASSERT(nlen >= 0 && national >= p + codelen && national + nlen == p + m);
	/* "+", the digits, the NUL */
	CRM_ASSERT(codelen + nlen + 2 <= CRM_PHONE_BUFSIZE);
	out[0] = '+';
	for (int k = 0; k < codelen; k++)
		out[k + 1] = (char) ('0' + p[k]);
	for (int k = 0; k < nlen; k++)
		out[codelen + k + 1] = (char) ('0' + national[k]);
	out[codelen + nlen + 1] = '\0';
	return true;
}

bool
crm_phone_normalize(const char *str, size_t len, char *out, CrmPhoneError *err)
{
	const uint8_t *s = (const uint8_t *) str;
	uint8_t		d[PHONE_SCAN_DIGITS + 2];
	uint8_t		polish[2 + 9] = {4, 8};
	int32_t		length;
	int32_t		i = 0;
	int			position = 0;
	int			n = 0;
	bool		plus = false;

	memset(err, 0, sizeof(*err));
	if (len > (size_t) INT32_MAX)
		return phone_fail(err, CRM_PHONE_TOO_LONG, INT_MAX);
	length = (int32_t) len;

	while (i < length)
	{
		int32_t		start = i;
		int32_t		c = crm_next_char(s, &i, length);
		int			digit;

		position++;
		if (c < 0)
		{
			err->position = position;
			err->codepoint = s[start];
			return phone_fail(err, CRM_PHONE_BAD_ENCODING, n);
		}
		digit = crm_decimal_digit(c);
		if (digit >= 0)
		{
			if (n < PHONE_SCAN_DIGITS)
				d[n] = (uint8_t) digit;
			if (n < INT_MAX)
				n++;
		}
		else if (c == '+' || c == 0xFF0B)
		{
			if (n > 0 || plus)
			{
				err->position = position;
				err->codepoint = c;
				return phone_fail(err, CRM_PHONE_MISPLACED_PLUS, n);
			}
			plus = true;
		}
		else if (c == '(' && i + 1 < length && s[i] == '0' && s[i + 1] == ')' &&
				 n > 0 && (plus || (n >= 3 && d[0] == 0 && d[1] == 0)))
		{
			/* "+44 (0)20 ...": the national trunk 0, not dialled from abroad */
			i += 2;
			position += 2;
		}
		else if (!is_phone_separator(c))
		{
			err->position = position;
			err->codepoint = c;
			return phone_fail(err, CRM_PHONE_BAD_CHARACTER, n);
		}
	}

	if (n == 0)
		return phone_fail(err, CRM_PHONE_NO_DIGITS, 0);
	if (n > PHONE_SCAN_DIGITS)
		return phone_fail(err, CRM_PHONE_TOO_LONG, n);
	if (plus)
		return phone_international(d, n, out, err);
	if (n >= 2 && d[0] == 0 && d[1] == 0)
		return phone_international(d + 2, n - 2, out, err);
	if (n == 11 && d[0] == 4 && d[1] == 8)
		return phone_international(d, n, out, err);
	if (n == 9 || (n == 10 && d[0] == 0))
	{
		memcpy(polish + 2, d + (n - 9), 9);
		return phone_international(polish, 2 + 9, out, err);
	}
	return phone_fail(err, CRM_PHONE_NATIONAL_LENGTH, n);
}

/* ---------------------------------------------------------------- e-mail */

static bool
email_fail(CrmEmailError *err, CrmEmailStatus status, int position)
{
	err->status = status;
	err->position = position;
	return false;
}

/* RFC 5322 atext, plus non-ASCII letters, digits and marks (RFC 6531) */
static bool
is_local_char(int32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') ||
			(c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
	return u_isalnum(c) || (U_GET_GC_MASK(c) & U_GC_M_MASK) != 0;
}

static bool
is_label_char(int32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-';
	return u_isalnum(c) || (U_GET_GC_MASK(c) & U_GC_M_MASK) != 0;
}

/*
 * Lower-case the UTF-8 domain into out (cap bytes, NUL-terminated) and set
 * *outlen; false if it does not fit.
 */
static bool
lower_domain(const char *domain, int32_t len, char *out, int32_t cap, int32_t *outlen)
{
	UChar		src[CRM_EMAIL_MAX_LENGTH];
	UChar		low[3 * CRM_EMAIL_MAX_LENGTH];
	int32_t		srclen,
				lowlen;
	UErrorCode	status = U_ZERO_ERROR;
	bool		ascii = true;

	for (int32_t k = 0; k < len; k++)
		ascii &= (unsigned char) domain[k] < 0x80;
	if (ascii)
	{
		if (len >= cap)
			return false;
		for (int32_t k = 0; k < len; k++)
			out[k] = (char) ((domain[k] >= 'A' && domain[k] <= 'Z') ? domain[k] + 32 : domain[k]);
		out[len] = '\0';
		*outlen = len;
		return true;
	}

	u_strFromUTF8(src, CRM_EMAIL_MAX_LENGTH, &srclen, domain, len, &status);
	if (U_FAILURE(status))
		return false;
	lowlen = u_strToLower(low, 3 * CRM_EMAIL_MAX_LENGTH, src, srclen, "", &status);
	if (U_FAILURE(status))
		return false;
	u_strToUTF8(out, cap, outlen, low, lowlen, &status);
	return U_SUCCESS(status) && status != U_STRING_NOT_TERMINATED_WARNING;
}

/*
 * Check a trimmed, domain-lower-cased address s (len bytes, "@" at byte
 * at).  Positions are reported from pos0 + 1, the input's first character.
 */
static bool
email_validate(const uint8_t *s, int32_t len, int32_t at, int pos0, CrmEmailError *err)
{
	bool		in_domain = false;
	bool		prev_dot = true;	/* a part may not start with a dot */
	bool		prev_hyphen = false;
	bool		label_numeric = true;
	int			labels = 1;
	int32_t		label_start = at + 1;
	int			label_pos = 0;
	int			position = pos0;
	int32_t		i = 0;

	if (len > CRM_EMAIL_MAX_LENGTH)
	{
		err->length = len;
		return email_fail(err, CRM_EMAIL_TOO_LONG, 0);
	}
	if (at == 0)
		return email_fail(err, CRM_EMAIL_LOCAL_EMPTY, pos0 + 1);
	if (at > CRM_EMAIL_MAX_LOCAL)
	{
		err->length = at;
		return email_fail(err, CRM_EMAIL_LOCAL_TOO_LONG, pos0 + 1);
	}
	if (at + 1 == len)
		return email_fail(err, CRM_EMAIL_DOMAIN_EMPTY, 0);

	while (i < len)
	{
		int32_t		start = i;
		int32_t		c = crm_next_char(s, &i, len);

		position++;
		if (start == at)
		{
			if (prev_dot)
				return email_fail(err, CRM_EMAIL_LOCAL_DOTS, position - 1);
			in_domain = true;
			prev_dot = true;
			prev_hyphen = false;
			label_numeric = true;
			label_pos = position + 1;
			continue;
		}
		if (c == '.')
		{
			if (prev_dot)
				return email_fail(err, in_domain ? CRM_EMAIL_LABEL_EMPTY : CRM_EMAIL_LOCAL_DOTS,
								  position);
			if (in_domain)
			{
				if (prev_hyphen)
					return email_fail(err, CRM_EMAIL_LABEL_HYPHEN, position - 1);
				if (start - label_start > CRM_EMAIL_MAX_LABEL)
				{
					err->length = start - label_start;
					return email_fail(err, CRM_EMAIL_LABEL_TOO_LONG, label_pos);
				}
				labels++;
				label_start = i;
				label_pos = position + 1;
				label_numeric = true;
			}
			prev_dot = true;
			continue;
		}
		if (in_domain ? !is_label_char(c) : !is_local_char(c))
		{
			err->codepoint = c;
			return email_fail(err, CRM_EMAIL_BAD_CHARACTER, position);
		}
		if (in_domain && c == '-' && prev_dot)
			return email_fail(err, CRM_EMAIL_LABEL_HYPHEN, position);
		prev_hyphen = (c == '-');
		label_numeric &= (c >= '0' && c <= '9');
		prev_dot = false;
	}
	if (prev_dot)
		return email_fail(err, CRM_EMAIL_LABEL_EMPTY, position + 1);
	if (prev_hyphen)
		return email_fail(err, CRM_EMAIL_LABEL_HYPHEN, position);
	if (len - label_start > CRM_EMAIL_MAX_LABEL)
	{
		err->length = len - label_start;
		return email_fail(err, CRM_EMAIL_LABEL_TOO_LONG, label_pos);
	}
	if (labels < 2)
		return email_fail(err, CRM_EMAIL_DOMAIN_NO_DOT, 0);
	if (label_numeric)
		return email_fail(err, CRM_EMAIL_TLD_NUMERIC, label_pos);
	return true;
}

bool
crm_email_normalize(const char *str, size_t len, char *out, CrmEmailError *err)
{
	const uint8_t *s = (const uint8_t *) str;
	int32_t		length;
	int32_t		i = 0;
	int32_t		first = -1;		/* first and after-last non-space bytes */
	int32_t		last = 0;
	int32_t		at = -1;		/* byte offset of the "@" */
	int			first_pos = 0;
	int			position = 0;
	int32_t		local_len;
	int32_t		domain_len;

	memset(err, 0, sizeof(*err));
	if (len > (size_t) INT32_MAX)
	{
		err->length = INT_MAX;
		return email_fail(err, CRM_EMAIL_TOO_LONG, 0);
	}
	length = (int32_t) len;

	/* encoding, trimming, the "@" */
	while (i < length)
	{
		int32_t		start = i;
		int32_t		c = crm_next_char(s, &i, length);

		position++;
		if (c < 0)
		{
			err->codepoint = s[start];
			return email_fail(err, CRM_EMAIL_BAD_ENCODING, position);
		}
		if (crm_is_space(c))
			continue;
		if (first < 0)
		{
			first = start;
			first_pos = position;
		}
		last = i;
		if (c == '@')
		{
			if (at >= 0)
				return email_fail(err, CRM_EMAIL_MANY_AT, position);
			at = start;
		}
	}
	if (first < 0)
		return email_fail(err, CRM_EMAIL_EMPTY, 0);
	if (last - first > CRM_EMAIL_MAX_LENGTH)
	{
		err->length = last - first;
		return email_fail(err, CRM_EMAIL_TOO_LONG, 0);
	}
	if (at < 0)
		return email_fail(err, CRM_EMAIL_NO_AT, 0);

	/*
	 * Lower-case the domain first, then check the result: lower-casing may
	 * lengthen text (U+023E is 2 bytes, its lower case 3), and the limits
	 * hold for what is stored.
	 */
	local_len = at - first;
	/* the local part and its "@" fit, the domain gets the rest */
	CRM_ASSERT(local_len >= 0 && local_len < CRM_EMAIL_MAX_LENGTH &&
			   local_len + 1 < CRM_EMAIL_BUFSIZE);
	memcpy(out, s + first, (size_t) local_len + 1);
	if (!lower_domain((const char *) s + at + 1, last - at - 1,
					  out + local_len + 1, CRM_EMAIL_BUFSIZE - local_len - 1, &domain_len))
	{
		err->length = last - first;
		return email_fail(err, CRM_EMAIL_TOO_LONG, 0);
	}
	return email_validate((const uint8_t *) out, local_len + 1 + domain_len, local_len,
						  first_pos - 1, err);
}
