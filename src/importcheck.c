/*-------------------------------------------------------------------------
 *
 * importcheck.c
 *	  Import (WB-2): a staged date read in C, crm_internal.import_date().
 *
 * The mapping of an import (crm_internal.import_map() in
 * src/sql/88_import.sql) reads every row's birth date once.  As an inlined
 * SQL expression of regular expressions it cost about 18 microseconds a row
 * (a third of the whole mapping of 100,000 rows); this is the same rule in
 * a few comparisons.  It never raises: a value that is no date gives NULL,
 * and crm_internal.import_date_problem() says why.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"
#include "pgcompat.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/date.h"
#include "utils/datetime.h"

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
 * A field of 1 or 2 digits ending at a separator (or the end): its value and
 * length; false when it is none.
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

/*
 * crm_internal.import_date(value text) RETURNS date: the value without
 * leading and trailing spaces (btrim) written YYYY-MM-DD (month and day of
 * one or two digits) or DD.MM.YYYY (day and month of one or two), year 1 or
 * later, a day the month has (the Gregorian leap years); else NULL.  The
 * digits are ASCII.  The rule of the SQL expression it replaces, which the
 * import regression test compares it with.
 */
PG_FUNCTION_INFO_V1(import_date);
Datum
import_date(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(t);
	const char *end = s + VARSIZE_ANY_EXHDR(t);
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
			PG_RETURN_NULL();
		s += 5;
		if (!read_short(s, end, '-', &month, &n))
			PG_RETURN_NULL();
		s += n + 1;
		if (!read_short(s, end, '\0', &day, &n))
			PG_RETURN_NULL();
	}
	else
	{
		/* D[D].M[M].YYYY */
		if (!read_short(s, end, '.', &day, &n))
			PG_RETURN_NULL();
		s += n + 1;
		if (!read_short(s, end, '.', &month, &n))
			PG_RETURN_NULL();
		s += n + 1;
		if (end - s != 4 || !read_digits(s, 4, &year))
			PG_RETURN_NULL();
	}

	/* the server's own table of the months' days (datetime.h) */
	if (year < 1 || month < 1 || month > 12 || day < 1 || day > day_tab[isleap(year)][month - 1])
		PG_RETURN_NULL();
	PG_RETURN_DATEADT(date2j(year, month, day) - POSTGRES_EPOCH_JDATE);
}
