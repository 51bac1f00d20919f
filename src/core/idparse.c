/*-------------------------------------------------------------------------
 *
 * idparse.c
 *	  Parsing and checking of PESEL, NIP and REGON (see idparse.h).
 *
 * Input grammar, shared by the three identifiers:
 *	- digits are any Unicode decimal digit (ASCII, fullwidth, Arabic-Indic
 *	  ...: ICU's general category Nd), read as their value;
 *	- white space (ASCII, no-break space and every other Unicode white space)
 *	  and invisible default-ignorable characters (zero-width space, soft
 *	  hyphen, byte order mark) may stand anywhere;
 *	- dashes (hyphen-minus, en and em dash, any Unicode Pd character, the
 *	  minus sign) may stand only between digits;
 *	- a NIP may start with the country prefix "PL" in any case.
 * Anything else is refused, at the first offending character.
 *
 *-------------------------------------------------------------------------
 */
#include "idparse.h"

#include <limits.h>
#include <string.h>

#include "coreassert.h"
#include "unichar.h"

static const int pesel_weights[10] = {1, 3, 7, 9, 1, 3, 7, 9, 1, 3};
static const int nip_weights[9] = {6, 5, 7, 2, 3, 4, 5, 6, 7};
static const int regon9_weights[8] = {8, 9, 2, 3, 4, 5, 6, 7};
static const int regon14_weights[13] = {2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8};

#define REGON_LOCAL_UNITS	INT64_C(100000)	/* 10^5: the last 5 of 14 digits */
#define REGON_MAX_14		INT64_C(100000000000000)	/* 10^14 */

const char *
crm_id_name(CrmIdKind kind)
{
	switch (kind)
	{
		case CRM_PESEL:
			return "pesel";
		case CRM_NIP:
			return "nip";
		case CRM_REGON:
			return "regon";
	}
	return "?";
}

static bool
length_ok(CrmIdKind kind, int n)
{
	switch (kind)
	{
		case CRM_PESEL:
			return n == 11;
		case CRM_NIP:
			return n == 10;
		case CRM_REGON:
			return n == 9 || n == 14;
	}
	return false;
}

static bool
fail(CrmIdError *err, CrmIdStatus status)
{
	err->status = status;
	return false;
}

bool
crm_id_parse(CrmIdKind kind, const char *str, size_t len,
			 int64_t *value, CrmIdError *err)
{
	const uint8_t *s = (const uint8_t *) str;
	int32_t		length;
	int32_t		i = 0;
	int			position = 0;
	int			ndigits = 0;
	int			pending_dash = 0;	/* position of a dash not yet followed by a digit */
	bool		dash_allowed = false;	/* a digit or the prefix came before */
	bool		prefix_allowed = (kind == CRM_NIP);
	CrmIdDigits digits;

	memset(err, 0, sizeof(*err));

	/* SQL text is at most 1 GB; anything longer cannot be an identifier */
	if (len > (size_t) INT32_MAX)
	{
		err->ndigits = INT_MAX;
		return fail(err, CRM_ID_BAD_LENGTH);
	}
	length = (int32_t) len;

	/*
	 * The common case, plain ASCII digits of the right length, needs no
	 * scanning: it runs once per row of a COPY.
	 */
	if (length_ok(kind, length))
	{
		int64_t		v = 0;

		for (i = 0; i < length; i++)
		{
			unsigned	d = (unsigned) (s[i] - '0');

			if (d > 9)
				break;
			CRM_ASSERT(i < CRM_ID_MAX_DIGITS);
			digits.d[i] = (uint8_t) d;
			v = v * 10 + d;
		}
		if (i == length)
		{
			digits.n = length;
			if (!crm_id_check(kind, &digits, err))
				return false;
			*value = kind == CRM_REGON ? crm_id_encode(kind, &digits) : v;
			return true;
		}
		i = 0;
	}

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
			return fail(err, CRM_ID_BAD_ENCODING);
		}

		digit = crm_decimal_digit(c);
		if (digit >= 0)
		{
			if (ndigits < CRM_ID_MAX_DIGITS)
				digits.d[ndigits] = (uint8_t) digit;
			if (ndigits < INT_MAX)
				ndigits++;
			pending_dash = 0;
			dash_allowed = true;
			prefix_allowed = false;
		}
		else if (crm_is_space(c))
			continue;
		else if (crm_is_dash(c) && dash_allowed)
		{
			if (pending_dash == 0)
				pending_dash = position;
		}
		else if (crm_is_dash(c))
		{
			err->position = position;
			err->codepoint = c;
			return fail(err, CRM_ID_BAD_SEPARATOR);
		}
		else if (prefix_allowed && (c == 'P' || c == 'p') &&
				 i < length && (s[i] == 'L' || s[i] == 'l'))
		{
			i++;
			position++;
			prefix_allowed = false;
			dash_allowed = true;
		}
		else
		{
			err->position = position;
			err->codepoint = c;
			return fail(err, CRM_ID_BAD_CHARACTER);
		}
	}

	if (pending_dash != 0)
	{
		err->position = pending_dash;
		err->codepoint = '-';
		return fail(err, CRM_ID_BAD_SEPARATOR);
	}

	err->ndigits = ndigits;
	if (!length_ok(kind, ndigits))
		return fail(err, CRM_ID_BAD_LENGTH);

	/* a length of the kind: every digit was kept */
	CRM_ASSERT(ndigits >= 1 && ndigits <= CRM_ID_MAX_DIGITS);
	digits.n = ndigits;
	if (!crm_id_check(kind, &digits, err))
		return false;

	*value = crm_id_encode(kind, &digits);
	return true;
}

static int
weighted_sum(const uint8_t *d, const int *weights, int n)
{
	int			sum = 0;

	for (int k = 0; k < n; k++)
		sum += d[k] * weights[k];
	return sum;
}

static bool
check_digit(const CrmIdDigits *digits, int at, int expected, CrmIdStatus status,
			CrmIdError *err)
{
	if (digits->d[at] == expected)
		return true;
	err->given = digits->d[at];
	err->expected = expected;
	return fail(err, status);
}

static bool
is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int
crm_days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return (month == 2 && is_leap(year)) ? 29 : days[month - 1];
}

bool
crm_pesel_date(const CrmIdDigits *digits, int *year, int *month, int *day)
{
	/* the month code carries the century: +80 1800s, +0 1900s, ... +60 2200s */
	static const int century[5] = {1900, 2000, 2100, 2200, 1800};
	const uint8_t *d = digits->d;
	int			code = d[2] * 10 + d[3];

	*year = century[code / 20] + d[0] * 10 + d[1];
	*month = code % 20;
	*day = d[4] * 10 + d[5];
	return *month >= 1 && *month <= 12;
}

bool
crm_pesel_is_male(const CrmIdDigits *digits)
{
	return digits->d[9] % 2 == 1;
}

bool
crm_id_check(CrmIdKind kind, const CrmIdDigits *digits, CrmIdError *err)
{
	const uint8_t *d = digits->d;
	int			sum;

	err->ndigits = digits->n;
	if (!length_ok(kind, digits->n))
		return fail(err, CRM_ID_BAD_LENGTH);

	switch (kind)
	{
		case CRM_PESEL:
			if (!crm_pesel_date(digits, &err->year, &err->month, &err->day))
			{
				err->month = d[2] * 10 + d[3];
				return fail(err, CRM_ID_BAD_MONTH);
			}
			if (err->day < 1 || err->day > crm_days_in_month(err->year, err->month))
				return fail(err, CRM_ID_BAD_DATE);
			sum = weighted_sum(d, pesel_weights, 10);
			return check_digit(digits, 10, (10 - sum % 10) % 10,
							   CRM_ID_BAD_CHECKSUM, err);

		case CRM_NIP:
			sum = weighted_sum(d, nip_weights, 9) % 11;
			if (sum == 10)
				return fail(err, CRM_ID_NO_CHECK_DIGIT);
			return check_digit(digits, 9, sum, CRM_ID_BAD_CHECKSUM, err);

		case CRM_REGON:
			if (digits->n == 14)
			{
				sum = weighted_sum(d, regon14_weights, 13) % 11;
				if (!check_digit(digits, 13, sum % 10, CRM_ID_BAD_CHECKSUM, err))
					return false;
			}
			sum = weighted_sum(d, regon9_weights, 8) % 11;
			return check_digit(digits, 8, sum % 10,
							   digits->n == 14 ? CRM_ID_BAD_REGON_BASE : CRM_ID_BAD_CHECKSUM,
							   err);
	}
	return false;
}

static int64_t
digits_value(const uint8_t *d, int from, int to)
{
	int64_t		v = 0;

	for (int k = from; k < to; k++)
		v = v * 10 + d[k];
	return v;
}

static void
value_digits(int64_t v, uint8_t *d, int n)
{
	for (int k = n - 1; k >= 0; k--)
	{
		d[k] = (uint8_t) (v % 10);
		v /= 10;
	}
	/* crm_id_decode checked that v has at most n digits */
	CRM_ASSERT(v == 0);
}

int64_t
crm_id_encode(CrmIdKind kind, const CrmIdDigits *digits)
{
	int64_t		local;

	if (kind != CRM_REGON)
		return digits_value(digits->d, 0, digits->n);

	local = digits->n == 14 ? digits_value(digits->d, 9, 14) : 0;
	return (digits_value(digits->d, 0, 9) * REGON_LOCAL_UNITS + local) * 2 +
		(digits->n == 14);
}

bool
crm_id_decode(CrmIdKind kind, int64_t value, CrmIdDigits *digits)
{
	int64_t		limit;
	int64_t		x;

	if (value < 0)
		return false;

	switch (kind)
	{
		case CRM_PESEL:
		case CRM_NIP:
			digits->n = kind == CRM_PESEL ? 11 : 10;
			limit = kind == CRM_PESEL ? INT64_C(100000000000) : INT64_C(10000000000);
			if (value >= limit)
				return false;
			value_digits(value, digits->d, digits->n);
			return true;

		case CRM_REGON:
			x = value / 2;
			if (x >= REGON_MAX_14)
				return false;
			if (value % 2 == 1)
			{
				digits->n = 14;
				value_digits(x, digits->d, 14);
				return true;
			}
			if (x % REGON_LOCAL_UNITS != 0)
				return false;
			digits->n = 9;
			value_digits(x / REGON_LOCAL_UNITS, digits->d, 9);
			return true;
	}
	return false;
}

int
crm_id_digits_text(const CrmIdDigits *digits, char *buf)
{
	CRM_ASSERT(digits->n >= 0 && digits->n <= CRM_ID_MAX_DIGITS);
	for (int k = 0; k < digits->n; k++)
		buf[k] = (char) ('0' + digits->d[k]);
	buf[digits->n] = '\0';
	return digits->n;
}

int64_t
crm_regon_base(int64_t value)
{
	return (value / 2 / REGON_LOCAL_UNITS) * REGON_LOCAL_UNITS * 2;
}
