/*-------------------------------------------------------------------------
 *
 * crm.c
 *	  Module entry point of the crm extension.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#if PG_VERSION_NUM >= 180000
PG_MODULE_MAGIC_EXT(.name = "crm", .version = CRM_VERSION);
#else
PG_MODULE_MAGIC;
#endif

void		_PG_init(void);

void
_PG_init(void)
{
	/* every setting of this extension is named crm.* */
	MarkGUCPrefixReserved("crm");
}
