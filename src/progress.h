/*-------------------------------------------------------------------------
 *
 * progress.h
 *	  NOTICEs of the progress of a long run (progress.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_PROGRESS_H
#define CRM_PROGRESS_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* the work between two NOTICEs: 5 % of total (all of it below 1,000) */
extern int64 crm_progress_step(int64 total);

/* a NOTICE when done is a multiple of 5 % of total (total >= 1000) */
extern void crm_report_progress(const char *what, int64 done, int64 total, TimestampTz started);

#endif							/* CRM_PROGRESS_H */
