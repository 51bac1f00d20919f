/*
 * fuzz_parsers.c: libFuzzer target for the parsers of typed-in data: PESEL,
 * NIP and REGON (idparse.c), phone numbers and e-mail addresses
 * (contactnorm.c), the name matching of namematch.c, and the dates typed in
 * an imported file (importdate.c).
 *
 * Every input goes through each parser.  Beyond "no crash, no sanitizer
 * report", it checks their contracts.  Identifiers (and, for plain digit
 * strings, agreement with an independent statement of the checksums):
 *	- a failure names a status and, for character errors, a position inside
 *	  the input;
 *	- a success gives a value that decodes to digits of a valid length that
 *	  pass the checks, and whose canonical text parses back to the same value.
 * Build and run: make fuzz-parsers FUZZ_RUNS=10000000 (or tools/dev.sh fuzz).
 */
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include "contactnorm.h"
#include "idparse.h"
#include "datematch.h"
#include "importdate.h"
#include "namematch.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) \
	do { if (!(cond)) { fprintf(stderr, "contract broken: %s (line %d)\n", #cond, __LINE__); abort(); } } while (0)

/*
 * The identifier rules (doc/types.md) restated independently of idparse.c, for inputs made of
 * plain ASCII digits only: the parser must agree with it.
 */
static bool
reference_valid(CrmIdKind kind, const uint8_t *s, size_t n)
{
	static const int mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			v[CRM_ID_MAX_DIGITS];
	int			sum = 0;

	if (n > CRM_ID_MAX_DIGITS)
		return false;
	for (size_t k = 0; k < n; k++)
		v[k] = s[k] - '0';

	if (kind == CRM_PESEL)
	{
		static const int w[10] = {1, 3, 7, 9, 1, 3, 7, 9, 1, 3};
		int			mm,
					month,
					year,
					day,
					dim;

		if (n != 11)
			return false;
		mm = v[2] * 10 + v[3];
		if (mm >= 81 && mm <= 92)
			year = 1800, month = mm - 80;
		else if (mm >= 1 && mm <= 12)
			year = 1900, month = mm;
		else if (mm >= 21 && mm <= 32)
			year = 2000, month = mm - 20;
		else if (mm >= 41 && mm <= 52)
			year = 2100, month = mm - 40;
		else if (mm >= 61 && mm <= 72)
			year = 2200, month = mm - 60;
		else
			return false;
		year += v[0] * 10 + v[1];
		day = v[4] * 10 + v[5];
		dim = mdays[month];
		if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
			dim = 29;
		if (day < 1 || day > dim)
			return false;
		for (int k = 0; k < 10; k++)
			sum += w[k] * v[k];
		return (10 - sum % 10) % 10 == v[10];
	}
	if (kind == CRM_NIP)
	{
		static const int w[9] = {6, 5, 7, 2, 3, 4, 5, 6, 7};

		if (n != 10)
			return false;
		for (int k = 0; k < 9; k++)
			sum += w[k] * v[k];
		return sum % 11 != 10 && sum % 11 == v[9];
	}
	/* REGON */
	{
		static const int w9[8] = {8, 9, 2, 3, 4, 5, 6, 7};
		static const int w14[13] = {2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8};
		int			sum9 = 0;

		if (n != 9 && n != 14)
			return false;
		for (int k = 0; k < 8; k++)
			sum9 += w9[k] * v[k];
		if (sum9 % 11 % 10 != v[8])
			return false;
		if (n == 9)
			return true;
		for (int k = 0; k < 13; k++)
			sum += w14[k] * v[k];
		return sum % 11 % 10 == v[13];
	}
}

static bool
all_ascii_digits(const uint8_t *s, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (s[k] < '0' || s[k] > '9')
			return false;
	return true;
}

static void
check_kind(CrmIdKind kind, const uint8_t *data, size_t size)
{
	CrmIdError	err;
	CrmIdError	err2;
	CrmIdDigits digits;
	int64_t		value;
	int64_t		again;
	char		text[CRM_ID_MAX_DIGITS + 1];
	int			n;

	bool		ok = crm_id_parse(kind, (const char *) data, size, &value, &err);

	if (size > 0 && all_ascii_digits(data, size))
		REQUIRE(ok == reference_valid(kind, data, size));
	if (!ok)
	{
		REQUIRE(err.status != CRM_ID_OK);
		if (err.status == CRM_ID_BAD_CHARACTER || err.status == CRM_ID_BAD_ENCODING ||
			err.status == CRM_ID_BAD_SEPARATOR)
			REQUIRE(err.position >= 1 && (size_t) err.position <= size);
		if (err.status == CRM_ID_BAD_CHECKSUM || err.status == CRM_ID_BAD_REGON_BASE)
			REQUIRE(err.expected >= 0 && err.expected <= 9 && err.given != err.expected);
		return;
	}
	REQUIRE(crm_id_decode(kind, value, &digits));
	REQUIRE(crm_id_check(kind, &digits, &err2));
	REQUIRE(crm_id_encode(kind, &digits) == value);
	n = crm_id_digits_text(&digits, text);
	REQUIRE(n == digits.n);
	REQUIRE(crm_id_parse(kind, text, (size_t) n, &again, &err2) && again == value);
	if (kind == CRM_REGON)
	{
		int64_t		base = crm_regon_base(value);

		REQUIRE(crm_id_decode(kind, base, &digits) && digits.n == 9);
		REQUIRE(crm_id_check(kind, &digits, &err2));
	}
}

/*
 * a normalized phone is "+" and at most 15 digits, starts with a known
 * country calling code followed by a number of a length possible there,
 * and normalizes to itself
 */
static void
check_phone(const uint8_t *data, size_t size)
{
	char		out[CRM_PHONE_BUFSIZE];
	char		again[CRM_PHONE_BUFSIZE];
	CrmPhoneError err;
	size_t		n;
	uint32_t	lengths = 0;
	size_t		codelen = 0;
	int			code = 0;

	if (!crm_phone_normalize((const char *) data, size, out, &err))
	{
		REQUIRE(err.status != CRM_PHONE_OK);
		if (err.status == CRM_PHONE_BAD_CHARACTER || err.status == CRM_PHONE_BAD_ENCODING ||
			err.status == CRM_PHONE_MISPLACED_PLUS)
			REQUIRE(err.position >= 1 && (size_t) err.position <= size);
		return;
	}
	n = strlen(out);
	REQUIRE(out[0] == '+' && n >= 3 && n <= 1 + CRM_PHONE_MAX_DIGITS);
	for (size_t k = 1; k < n; k++)
		REQUIRE(out[k] >= '0' && out[k] <= '9');
	while (lengths == 0 && codelen < 3)
	{
		code = code * 10 + (out[1 + codelen++] - '0');
		lengths = crm_phone_country_lengths(code);
	}
	REQUIRE(lengths != 0 && (lengths & (1u << (n - 1 - codelen))) != 0);
	REQUIRE(crm_phone_normalize(out, n, again, &err) && strcmp(out, again) == 0);
}

/* a normalized e-mail fits its limits, has one "@", and normalizes to itself */
static void
check_email(const uint8_t *data, size_t size)
{
	char		out[CRM_EMAIL_BUFSIZE];
	char		again[CRM_EMAIL_BUFSIZE];
	CrmEmailError err;
	size_t		n;

	if (!crm_email_normalize((const char *) data, size, out, &err))
	{
		REQUIRE(err.status != CRM_EMAIL_OK);
		return;
	}
	n = strlen(out);
	REQUIRE(n >= 5 && n < CRM_EMAIL_BUFSIZE);
	REQUIRE(strchr(out, '@') != NULL && strchr(out, '@') == strrchr(out, '@'));
	REQUIRE(crm_email_normalize(out, n, again, &err) && strcmp(out, again) == 0);
}

/*
 * A name's matching form is lower-case ASCII letters and digits in words one
 * space apart, and its own matching form; Jaro-Winkler stays in [0, 1] and
 * is 1 for a name against itself.
 */
static void
check_name(const uint8_t *data, size_t size)
{
	char		out[512];
	char		again[512];
	int			n = crm_name_normalize((const char *) data, size, out, sizeof(out));
	double		sim;

	REQUIRE(n >= 0 && n < (int) sizeof(out) && (size_t) n == strlen(out));
	for (int k = 0; k < n; k++)
		REQUIRE((out[k] >= 'a' && out[k] <= 'z') || (out[k] >= '0' && out[k] <= '9') ||
				(out[k] == ' ' && k > 0 && k < n - 1 && out[k - 1] != ' '));
	REQUIRE(crm_name_normalize(out, n, again, sizeof(again)) == n && strcmp(out, again) == 0);
	REQUIRE(crm_company_strip_legal_form(again, n) <= n);
	/* an address's matching form: never longer, and a fixed point */
	{
		char		addr[512];
		char		addr2[512];
		int			na;

		memcpy(addr, out, (size_t) n + 1);
		na = crm_address_canonical(addr, n);
		REQUIRE(na >= 0 && na <= n && (size_t) na == strlen(addr));
		memcpy(addr2, addr, (size_t) na + 1);
		REQUIRE(crm_address_canonical(addr2, na) == na && strcmp(addr, addr2) == 0);
	}
	/* a name's skeleton: never longer, letters, digits and single spaces, a fixed point */
	{
		char		sk[512];
		char		sk2[512];
		int			ns = crm_name_skeleton(out, sk, sizeof(sk));

		REQUIRE(ns >= 0 && ns <= n && (size_t) ns == strlen(sk));
		for (int k = 0; k < ns; k++)
			REQUIRE((sk[k] >= 'a' && sk[k] <= 'z') || (sk[k] >= '0' && sk[k] <= '9') || sk[k] == ' ');
		REQUIRE(crm_name_skeleton(sk, sk2, sizeof(sk2)) == ns && strcmp(sk, sk2) == 0);
	}
	/*
	 * typo distances of the two halves of the input (at the first '|', or
	 * the middle): symmetric, the linear test agreeing with the distance
	 */
	{
		const char *a = (const char *) data;
		const char *bar = memchr(data, '|', size);
		int			la = bar ? (int) (bar - a) : (int) size / 2;
		const char *b = a + la + (bar ? 1 : 0);
		int			lb = (int) size - la - (bar ? 1 : 0);
		int			d1 = crm_typo_distance(a, la, b, lb, 2);

		REQUIRE(d1 >= 0 && d1 <= 3);
		REQUIRE(crm_typo_distance(b, lb, a, la, 2) == d1);
		REQUIRE(crm_typo_at_most_one(a, la, b, lb) == (d1 <= 1));
		REQUIRE(crm_typo_at_most_one(b, lb, a, la) == (d1 <= 1));
		REQUIRE(d1 == 0 ? la == lb && memcmp(a, b, (size_t) la) == 0 : true);
	}
	/* dates one typo apart: symmetric, never a date and itself */
	if (size >= 6)
	{
		int			y1 = 1000 + data[0] * 35 % 9000, m1 = 1 + data[1] % 12, d1 = 1 + data[2] % 31;
		int			y2 = 1000 + data[3] * 35 % 9000, m2 = 1 + data[4] % 12, d2 = 1 + data[5] % 31;

		REQUIRE(crm_dates_one_typo(y1, m1, d1, y2, m2, d2) == crm_dates_one_typo(y2, m2, d2, y1, m1, d1));
		REQUIRE(!crm_dates_one_typo(y1, m1, d1, y1, m1, d1));
		/* the blocking form: 8 digits; day and month swapped, and the year's
		 * last two digits swapped, give the same */
		{
			char		f1[9],
						f2[9];

			REQUIRE(crm_date_block_form(y1, m1, d1, f1));
			REQUIRE(strlen(f1) == 8 && strspn(f1, "0123456789") == 8);
			if (d1 <= 12)
			{
				REQUIRE(crm_date_block_form(y1, d1, m1, f2));
				REQUIRE(strcmp(f1, f2) == 0);
			}
			REQUIRE(crm_date_block_form(y1 - y1 % 100 + (y1 % 10) * 10 + (y1 / 10) % 10, m1, d1, f2));
			REQUIRE(strcmp(f1, f2) == 0);
			REQUIRE(!crm_date_block_form(y1 + 9000, m1, d1, f2));
		}
	}
	sim = crm_jaro_winkler(out, n, (const char *) data, (int) size);
	REQUIRE(sim >= 0.0 && sim <= 1.0);
	REQUIRE(crm_jaro_winkler(out, n, out, n) == 1.0);
}

/*
 * An import date: a date accepted is a real one (checked here on its own
 * terms), and both written forms of it read back as the same date; a plain
 * YYYY-MM-DD of ten ASCII bytes is accepted exactly when it is a real date.
 */
static void
check_import_date(const uint8_t *data, size_t size)
{
	static const int mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			y,
				m,
				d;
	bool		ok = crm_import_date_parse((const char *) data, size, &y, &m, &d);

	if (size == 10 && data[4] == '-' && data[7] == '-' && all_ascii_digits(data, 4) &&
		all_ascii_digits(data + 5, 2) && all_ascii_digits(data + 8, 2))
	{
		int			ry = (data[0] - '0') * 1000 + (data[1] - '0') * 100 + (data[2] - '0') * 10 + (data[3] - '0');
		int			rm = (data[5] - '0') * 10 + (data[6] - '0');
		int			rd = (data[8] - '0') * 10 + (data[9] - '0');
		bool		real = ry >= 1 && rm >= 1 && rm <= 12 && rd >= 1 &&
			rd <= mdays[rm] + (rm == 2 && ((ry % 4 == 0 && ry % 100 != 0) || ry % 400 == 0));

		REQUIRE(ok == real);
		if (ok)
			REQUIRE(y == ry && m == rm && d == rd);
	}
	if (ok)
	{
		char		buf[32];
		int			y2,
					m2,
					d2;
		int			dim = mdays[m] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));

		REQUIRE(y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= dim);
		snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
		REQUIRE(crm_import_date_parse(buf, strlen(buf), &y2, &m2, &d2) && y2 == y && m2 == m && d2 == d);
		snprintf(buf, sizeof(buf), " %d.%d.%04d ", d, m, y);
		REQUIRE(crm_import_date_parse(buf, strlen(buf), &y2, &m2, &d2) && y2 == y && m2 == m && d2 == d);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_kind(CRM_PESEL, data, size);
	check_kind(CRM_NIP, data, size);
	check_kind(CRM_REGON, data, size);
	check_phone(data, size);
	check_email(data, size);
	check_name(data, size);
	check_import_date(data, size);
	return 0;
}
