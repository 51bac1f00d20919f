/*-------------------------------------------------------------------------
 *
 * nip.c
 *	  NIP presentation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "identifier.h"

/* the customary 123-456-32-18 grouping */
PG_FUNCTION_INFO_V1(nip_format);
Datum
nip_format(PG_FUNCTION_ARGS)
{
	static const int group_end[4] = {3, 6, 8, 10};
	CrmIdDigits digits;
	char		buf[16];
	int			len = 0;
	int			k = 0;

	crm_id_get_digits(CRM_NIP, PG_GETARG_INT64(0), &digits);
	for (int g = 0; g < 4; g++)
	{
		if (g > 0)
			buf[len++] = '-';
		for (; k < group_end[g]; k++)
			buf[len++] = (char) ('0' + digits.d[k]);
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf, len));
}
