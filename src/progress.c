/*-------------------------------------------------------------------------
 *
 * progress.c
 *	  Progress of a long run, as a person at psql expects it: a NOTICE
 *	  every 5 % of the work (at most 20), only for runs of 1,000 items or
 *	  more and once the run has taken 5 seconds (a quick run is quiet),
 *	  with the count done and the time left at the rate so far.
 *	    crm_internal.report_progress(what text, done bigint, total bigint,
 *	                        started timestamptz)
 *	    crm_internal.progress_step(total bigint): the size of that 5 %, for
 *	                        a set-based run that works in steps of it
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "progress.h"

/* the work between two NOTICEs: 5 % of it (all of a run too short to report) */
int64
crm_progress_step(int64 total)
{
	if (total < 1000)
		return Max(total, 1);
	return total / 20;
}

void
crm_report_progress(const char *what, int64 done, int64 total, TimestampTz started)
{
	int64		step = crm_progress_step(total);
	double		elapsed;

	if (total < 1000 || done <= 0 || done >= total || done % step != 0)
		return;
	elapsed = (double) (GetCurrentTimestamp() - started) / USECS_PER_SEC;
	if (elapsed < 5)
		return;
	ereport(NOTICE,
			(errmsg("%s: " INT64_FORMAT " of " INT64_FORMAT " done (%d %%), about %.0f s left",
					what, done, total, (int) (100 * done / total),
					elapsed / done * (total - done))));
}

PG_FUNCTION_INFO_V1(report_progress);
Datum
report_progress(PG_FUNCTION_ARGS)
{
	crm_report_progress(text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_GETARG_INT64(1),
						PG_GETARG_INT64(2), PG_GETARG_TIMESTAMPTZ(3));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(progress_step);
Datum
progress_step(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(crm_progress_step(PG_GETARG_INT64(0)));
}
