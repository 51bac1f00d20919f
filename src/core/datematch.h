/*-------------------------------------------------------------------------
 *
 * datematch.h
 *	  Birth dates for duplicate detection: whether two dates are one typing
 *	  mistake apart.  Plain C, no server headers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_DATEMATCH_H
#define CRM_DATEMATCH_H

#include <stdbool.h>

/*
 * Whether two different dates (year, month 1-12, day 1-31) are one typing
 * mistake apart, as a date typed by hand goes wrong: day and month swapped
 * (03-12 for 12-03), two neighbouring digits swapped (1974 for 1947, 21 for
 * 12), or one digit different, all in the eight digits YYYYMMDD.  False for
 * equal dates and for years outside 1000-9999.
 */
extern bool crm_dates_one_typo(int y1, int m1, int d1, int y2, int m2, int d2);

/*
 * A form of a date (year 1000-9999, month, day) that the dates one
 * transposition away share: 1974-03-12, 1947-03-12 and 1974-12-03 all give
 * "19471203" (the year's last two digits in order, then month and day in
 * order).  Writes 8 digits and a NUL to out; false (nothing written) for a
 * year outside 1000-9999.  For blocking, not for comparing.
 */
extern bool crm_date_block_form(int y, int m, int d, char out[9]);

#endif							/* CRM_DATEMATCH_H */
