/*-------------------------------------------------------------------------
 *
 * regon.c
 *	  REGON structure: a 14-digit REGON of a local unit extends the 9-digit
 *	  REGON of its company.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "identifier.h"

PG_FUNCTION_INFO_V1(regon_base);
Datum
regon_base(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(crm_regon_base(PG_GETARG_INT64(0)));
}
