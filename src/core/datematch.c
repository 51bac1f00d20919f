/*-------------------------------------------------------------------------
 *
 * datematch.c
 *	  Birth dates one typing mistake apart (datematch.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>

#include "coreassert.h"
#include "datematch.h"

bool
crm_dates_one_typo(int y1, int m1, int d1, int y2, int m2, int d2)
{
	char		a[9];
	char		b[9];
	int			differ = 0;
	int			first = -1;

	if (y1 < 1000 || y1 > 9999 || y2 < 1000 || y2 > 9999)
		return false;
	if (y1 == y2 && m1 == m2 && d1 == d2)
		return false;
	/* day and month swapped: 2074-03-12 for 2074-12-03 */
	if (y1 == y2 && m1 == d2 && d1 == m2)
		return true;
	snprintf(a, sizeof a, "%04d%02d%02d", y1, m1, d1);
	snprintf(b, sizeof b, "%04d%02d%02d", y2, m2, d2);
	for (int k = 0; k < 8; k++)
		if (a[k] != b[k])
		{
			if (differ++ == 0)
				first = k;
		}
	/* one digit different */
	if (differ == 1)
		return true;
	/* two neighbouring digits swapped */
	return differ == 2 && first < 7 && a[first] == b[first + 1] && a[first + 1] == b[first];
}

bool
crm_date_block_form(int y, int m, int d, char out[9])
{
	int			y3 = (y / 10) % 10;
	int			y4 = y % 10;
	int			lo = m < d ? m : d;
	int			hi = m < d ? d : m;
	int			n;

	if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	n = snprintf(out, 9, "%02d%d%d%02d%02d", y / 100, y3 < y4 ? y3 : y4, y3 < y4 ? y4 : y3, lo, hi);
	/* the ranges checked above: eight digits, never cut */
	CRM_ASSERT(n == 8);
	(void) n;
	return true;
}
