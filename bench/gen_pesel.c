/*
 * gen_pesel.c: print N valid PESELs, one per line, from a fixed seed.
 *
 *   bench/gen_pesel N [SEED]
 *
 * Birth dates are spread over 1920-2024 (so both the 1900s and the 2000s
 * month codes occur), serial numbers and sex at random.  The checksum is
 * computed here independently of the extension, so the benchmark also
 * cross-checks the parser: every line must load.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t state;

static uint32_t
next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t) (state >> 11);
}

static int
days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

int
main(int argc, char **argv)
{
	static const int w[10] = {1, 3, 7, 9, 1, 3, 7, 9, 1, 3};
	long		n = argc > 1 ? atol(argv[1]) : 1000000;

	state = argc > 2 ? strtoull(argv[2], NULL, 10) : 20261123;
	if (state == 0)
		state = 1;
	for (long i = 0; i < n; i++)
	{
		int			y = 1920 + (int) (next() % 105);
		int			m = 1 + (int) (next() % 12);
		int			d = 1 + (int) (next() % (uint32_t) days_in_month(y, m));
		int			code = m + (y >= 2000 ? 20 : 0);
		char		s[12];
		int			sum = 0;

		snprintf(s, sizeof(s), "%02d%02d%02d%04u", y % 100, code, d, next() % 10000);
		for (int k = 0; k < 10; k++)
			sum += (s[k] - '0') * w[k];
		printf("%s%d\n", s, (10 - sum % 10) % 10);
	}
	return 0;
}
