/*-------------------------------------------------------------------------
 *
 * pesel.c
 *	  What a PESEL tells about its holder: birth date and sex.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"

#include "identifier.h"

PG_FUNCTION_INFO_V1(pesel_birth_date);
Datum
pesel_birth_date(PG_FUNCTION_ARGS)
{
	CrmIdDigits digits;
	int			year,
				month,
				day;

	crm_id_get_digits(CRM_PESEL, PG_GETARG_INT64(0), &digits);
	if (!crm_pesel_date(&digits, &year, &month, &day))
		elog(ERROR, "corrupt pesel value " INT64_FORMAT, PG_GETARG_INT64(0));
	PG_RETURN_DATEADT(date2j(year, month, day) - POSTGRES_EPOCH_JDATE);
}

/* digit 10 is odd for men and even for women */
PG_FUNCTION_INFO_V1(pesel_sex);
Datum
pesel_sex(PG_FUNCTION_ARGS)
{
	CrmIdDigits digits;

	crm_id_get_digits(CRM_PESEL, PG_GETARG_INT64(0), &digits);
	PG_RETURN_TEXT_P(cstring_to_text(crm_pesel_is_male(&digits) ? "M" : "F"));
}
