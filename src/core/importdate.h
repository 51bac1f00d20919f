/*-------------------------------------------------------------------------
 *
 * importdate.h
 *	  A date typed in an imported file (crm_internal.import_date(),
 *	  src/importcheck.c).  Plain C, no server headers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_IMPORTDATE_H
#define CRM_IMPORTDATE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The len bytes at s, without leading and trailing spaces, written
 * YYYY-MM-DD (month and day of one or two digits) or DD.MM.YYYY (day and
 * month of one or two), ASCII digits, year 1 or later, a day the month has
 * (Gregorian leap years): true and the date; else false (nothing written).
 * Never reads past s + len.
 */
extern bool crm_import_date_parse(const char *s, size_t len, int *year, int *month, int *day);

#endif							/* CRM_IMPORTDATE_H */
