/*
 * fuzz_xlsx_values.c: libFuzzer target for the xlsx reader's value parsing
 * (src/core/xlsxread.c), without the zip and the XML around it: a cell's
 * value as a sheet may hold it, run through the reader's own static
 * functions (the file is included here whole, so the fuzz build needs no
 * other entry points into it).  The first byte chooses what is parsed, the
 * rest (up to a NUL) is the text.
 *
 * Beyond "no crash, no sanitizer report", the contracts:
 *	- _xHHHH_ escapes (unescape): decoding never lengthens the text, a text
 *	  without "_x" comes back unchanged, and ASCII written as _x00HH_
 *	  escapes decodes to itself;
 *	- numbers (format_number): integers come back as written, any other
 *	  finite number as at most 15 significant digits equal to it within
 *	  their precision, never "-0";
 *	- dates (format_date, both date systems): ISO 8601 text of a valid
 *	  date and time, or the number when the serial is no date; the civil
 *	  calendar (civil_from_days) agrees with its inverse;
 *	- cell references (parse_column, xlsx_column_name): a column's letters
 *	  and its number convert into each other;
 *	- number formats (format_kind): one of the kinds.
 * Build and run: make fuzz-xlsx-values FUZZ_RUNS=10000000 (or tools/dev.sh fuzz).
 */
#include <stdbool.h>

#include "xlsxread.c"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) \
	do { if (!(cond)) { fprintf(stderr, "contract broken: %s (line %d)\n", #cond, __LINE__); abort(); } } while (0)

/* days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil): civil_from_days' inverse */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long	era;
	unsigned	yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned) (y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long) doe - 719468;
}

static bool
is_leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
days_in_month(long long y, unsigned m)
{
	static const unsigned mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : mdays[m];
}

/* "YYYY-MM-DD" (4 or 5 digits of year) at s: its length, 0 if not a valid date */
static size_t
check_iso_date(const char *s)
{
	size_t		ny = strspn(s, "0123456789");
	long long	y;
	unsigned	m,
				d;

	if ((ny != 4 && ny != 5) || s[ny] != '-' || strspn(s + ny + 1, "0123456789") != 2 ||
		s[ny + 3] != '-' || strspn(s + ny + 4, "0123456789") < 2)
		return 0;
	y = strtoll(s, NULL, 10);
	m = (unsigned) ((s[ny + 1] - '0') * 10 + (s[ny + 2] - '0'));
	d = (unsigned) ((s[ny + 4] - '0') * 10 + (s[ny + 5] - '0'));
	if (m < 1 || m > 12 || d < 1)
		return 0;
	/* the Lotus 1-2-3 day that never was: 1900-02-29 */
	if (d > days_in_month(y, m) && !(y == 1900 && m == 2 && d == 29))
		return 0;
	return ny + 6;
}

/* "HH:MM:SS" at s, a time of day */
static bool
check_iso_time(const char *s)
{
	return strlen(s) == 8 && strspn(s, "0123456789:") == 8 && s[2] == ':' && s[5] == ':' &&
		(s[0] - '0') * 10 + (s[1] - '0') < 24 && s[3] < '6' && s[6] < '6';
}

static void
check_unescape(const char *text, size_t n)
{
	char	   *copy = malloc(n + 1);
	char	   *esc;
	size_t		m;
	size_t		ascii = 0;

	REQUIRE(copy != NULL);
	memcpy(copy, text, n + 1);
	m = unescape(copy, n);
	REQUIRE(m <= n && copy[m] == '\0');
	if (strstr(text, "_x") == NULL)
		REQUIRE(m == n && memcmp(copy, text, n) == 0);
	free(copy);

	/* the ASCII of the text (NUL excluded), each byte escaped */
	esc = malloc(7 * n + 1);
	REQUIRE(esc != NULL);
	copy = malloc(n + 1);
	REQUIRE(copy != NULL);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) text[i] < 0x80)
		{
			copy[ascii] = text[i];
			snprintf(esc + 7 * ascii, 8, "_x%04X_", (unsigned) (unsigned char) text[i]);
			ascii++;
		}
	copy[ascii] = '\0';
	m = unescape(esc, 7 * ascii);
	REQUIRE(m == ascii && memcmp(esc, copy, ascii) == 0);
	free(esc);
	free(copy);
}

static void
check_number(const char *text)
{
	Buf			out = {0};
	const char *digits = text[0] == '-' ? text + 1 : text;
	char	   *end;
	double		d;

	format_number(text, &out);
	REQUIRE(out.data != NULL || text[0] == '\0');
	if (text[0] == '\0')
	{
		buf_free(&out);
		return;
	}
	if (*digits && strspn(digits, "0123456789") == strlen(digits) && strlen(digits) <= 30)
		REQUIRE(strcmp(out.data, text) == 0);
	else
	{
		errno = 0;
		d = strtod(text, &end);
		if (end != text && *end == '\0' && isfinite(d))
		{
			double		back = strtod(out.data, &end);

			REQUIRE(*end == '\0' && strcmp(out.data, "-0") != 0);
			REQUIRE(fabs(back - d) <= fabs(d) * 1e-14 || (fabs(d) < 1e-300 && fabs(back) < 1e-300));
		}
		else
			REQUIRE(strcmp(out.data, text) == 0);
	}
	buf_free(&out);
}

static void
check_date(const char *text, int kind, int date1904)
{
	XlsxBook	book;
	Buf			out = {0};
	Buf			number = {0};

	memset(&book, 0, sizeof(book));
	book.date1904 = date1904;
	format_date(&book, text, kind, &out);
	format_number(text, &number);
	if (out.data == NULL || (number.data != NULL && strcmp(out.data, number.data) == 0))
	{
		/* not a date: the number as it is shown */
		REQUIRE((out.data == NULL) == (number.data == NULL));
	}
	else if (kind == FMT_TIME)
		REQUIRE(check_iso_time(out.data));
	else
	{
		size_t		n = check_iso_date(out.data);

		REQUIRE(n > 0);
		if (kind == FMT_DATE)
			REQUIRE(out.data[n] == '\0');
		else
			REQUIRE(out.data[n] == ' ' && check_iso_time(out.data + n + 1));
	}
	buf_free(&out);
	buf_free(&number);
}

static void
check_civil(const uint8_t *data, size_t size)
{
	long long	z = 0;
	long long	y;
	unsigned	m,
				d;

	/* days within 9999 years either side */
	for (size_t i = 0; i < size && i < 4; i++)
		z = z << 8 | data[i];
	z = z % 7304850 - 3652425;
	civil_from_days(z, &y, &m, &d);
	REQUIRE(m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m));
	REQUIRE(days_from_civil(y, m, d) == z);
}

static void
check_column(const char *text, const uint8_t *data, size_t size)
{
	char		name[8];
	char		ref[16];
	uint32_t	col = parse_column(text);
	uint32_t	c = 0;

	if (col != 0)
	{
		size_t		letters = strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");

		REQUIRE(col <= 18278 && letters >= 1 && letters <= 3);
		xlsx_column_name(col, name);
		REQUIRE(strlen(name) == letters && memcmp(name, text, letters) == 0);
	}
	for (size_t i = 0; i < size && i < 4; i++)
		c = c << 8 | data[i];
	xlsx_column_name(c, name);
	REQUIRE(strlen(name) <= 7 && strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(name));
	REQUIRE((c == 0) == (name[0] == '\0'));
	if (c >= 1 && c <= 18278)
	{
		snprintf(ref, sizeof(ref), "%s%u", name, (unsigned) (data[0] % 100));
		REQUIRE(parse_column(ref) == c);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;
	size_t		n;
	int			kind;

	if (size == 0)
		return 0;
	text = malloc(size);
	REQUIRE(text != NULL);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	n = strlen(text);
	switch (data[0] % 6)
	{
		case 0:
			check_unescape(text, n);
			break;
		case 1:
			check_number(text);
			break;
		case 2:
			check_date(text, FMT_DATE + data[0] / 6 % 3, data[0] / 18 % 2);
			break;
		case 3:
			check_civil(data + 1, size - 1);
			break;
		case 4:
			check_column(text, data + 1, size - 1);
			break;
		default:
			kind = format_kind(text);
			REQUIRE(kind >= FMT_NUMBER && kind <= FMT_TIME);
			kind = builtin_kind(strtol(text, NULL, 10));
			REQUIRE(kind >= FMT_NUMBER && kind <= FMT_TIME);
			break;
	}
	free(text);
	return 0;
}
