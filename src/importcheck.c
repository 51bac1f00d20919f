/*-------------------------------------------------------------------------
 *
 * importcheck.c
 *	  Import (WB-2): a staged date read in C, crm_internal.import_date().
 *
 * The rule is src/core/importdate.c's (fuzzed there).  It never raises: a
 * value that is no date gives NULL, and crm_internal.import_date_problem()
 * says why.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"
#include "pgcompat.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/date.h"
#include "utils/datetime.h"

#include "importdate.h"

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
	int			year,
				month,
				day;

	if (!crm_import_date_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &year, &month, &day))
		PG_RETURN_NULL();
	PG_RETURN_DATEADT(date2j(year, month, day) - POSTGRES_EPOCH_JDATE);
}
