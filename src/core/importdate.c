/*-------------------------------------------------------------------------
 *
 * importdate.c
 *	  A date typed in an imported file (importdate.h).  The mapping of an
 *	  import (crm_internal.import_map(), src/sql/88_import.sql) reads every
 *	  row's birth date once; as an inlined SQL expression of regular
 *	  expressions it cost about 18 microseconds a row, this rule a few
 *	  comparisons.  The import regression test compares the two on 80,785
 *	  typed values; fuzz/fuzz_parsers.c checks its contract.
 *
 *-------------------------------------------------------------------------
 */
#include "importdate.h"

#include "idparse.h"

/* n ASCII digits at s as a number; false when one is not a digit */
static bool
read_digits(const char *s, int n, int *out)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/*
 * A field of 1 or 2 digits at s, ending at sep (or, for sep '\0', at end):
 * its value and length; false when it is none.
 */
static bool
read_short(const char *s, const char *end, char sep, int *out, int *len)
{
	int			n = 0;

	while (s + n < end && n < 3 && s[n] >= '0' && s[n] <= '9')
		n++;
	if (n < 1 || n > 2)
		return false;
	if (sep != '\0' ? (s + n >= end || s[n] != sep) : s + n != end)
		return false;
	*len = n;
	return read_digits(s, n, out);
}

bool
crm_import_date_parse(const char *s, size_t len, int *year_out, int *month_out, int *day_out)
{
	const char *end = s + len;
	int			year,
				month,
				day,
				n;

	while (s < end && *s == ' ')
		s++;
	while (end > s && end[-1] == ' ')
		end--;

	if (end - s > 4 && s[4] == '-')
	{
		/* YYYY-M[M]-D[D] */
		if (!read_digits(s, 4, &year))
			return false;
		s += 5;
		if (!read_short(s, end, '-', &month, &n))
			return false;
		s += n + 1;
		if (!read_short(s, end, '\0', &day, &n))
			return false;
	}
	else
	{
		/* D[D].M[M].YYYY */
		if (!read_short(s, end, '.', &day, &n))
			return false;
		s += n + 1;
		if (!read_short(s, end, '.', &month, &n))
			return false;
		s += n + 1;
		if (end - s != 4 || !read_digits(s, 4, &year))
			return false;
	}
	if (year < 1 || month < 1 || month > 12 || day < 1 || day > crm_days_in_month(year, month))
		return false;
	*year_out = year;
	*month_out = month;
	*day_out = day;
	return true;
}
