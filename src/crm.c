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

#include "coreassert.h"

#if PG_VERSION_NUM >= 180000
PG_MODULE_MAGIC_EXT(.name = "crm", .version = CRM_VERSION);
#else
PG_MODULE_MAGIC;
#endif

void		_PG_init(void);

#ifdef USE_ASSERT_CHECKING
/*
 * CRM_ASSERT's failure in the server-free code (src/core/coreassert.h),
 * which cannot call Assert() itself: the same report and abort as Assert().
 */
void
crm_core_assert_failed(const char *condition, const char *file, int line)
{
#if PG_VERSION_NUM >= 160000
	ExceptionalCondition(condition, file, line);
#else
	ExceptionalCondition(condition, "FailedAssertion", file, line);
#endif
}
#endif

PG_FUNCTION_INFO_V1(hide_on_consent_withdrawal_setting);

/* crm.duplicate_check: what the duplicate trigger does (read in SQL) */
static const struct config_enum_entry duplicate_check_options[] = {
	{"notice", 0, false},
	{"error", 1, false},
	{"off", 2, false},
	{NULL, 0, false}
};
static int	duplicate_check = 0;

/* crm.hide_on_consent_withdrawal: GD-3 (read in SQL) */
static bool hide_on_consent_withdrawal = false;

void
_PG_init(void)
{
	DefineCustomEnumVariable("crm.duplicate_check",
							 "What saving a client that looks like a duplicate does.",
							 "notice: save it, name the candidates in a NOTICE and record them in crm.possible_duplicate; "
							 "error: refuse it; off: check nothing (bulk loads).",
							 &duplicate_check, 0, duplicate_check_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("crm.hide_on_consent_withdrawal",
							 "Whether withdrawing a client's last consent in force hides the client.",
							 "GD-3; set it per database (ALTER DATABASE ... SET) to make it the rule.",
							 &hide_on_consent_withdrawal, false,
							 /* a rule of the database, not a user's choice */
							 PGC_SUSET, 0, NULL, NULL, NULL);
	/* every setting of this extension is named crm.* */
	MarkGUCPrefixReserved("crm");
}

/*
 * crm_internal.hide_on_consent_withdrawal(): the setting's value in force.  Read
 * here rather than with current_setting(): a session that set the name
 * before this library was loaded set a placeholder, which loading it
 * discards for a setting only superusers may change.
 */
Datum
hide_on_consent_withdrawal_setting(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(hide_on_consent_withdrawal);
}
