/*
 * smoke_random.c: a deterministic driver for a fuzz target that needs no
 * libFuzzer, run by the test suite (make fuzz-smoke) for fuzz_vcard.c and
 * fuzz_xlsx_values.c.  Usage: smoke_X RUNS MAXLEN [SEED...]: RUNS inputs
 * of at most MAXLEN bytes from a fixed-seed generator, each a seed file
 * changed (bytes replaced, tokens the parsers care about inserted, cut
 * short) or, without seeds or one time in four, bytes drawn from those
 * tokens and random ones.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smokeutil.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* what the vCard writer and the xlsx value parsers look at */
static const char *const tokens[] = {
	"\\", ",", ";", "\r", "\n", "\r\n", " ", "_x", "_x005F_", "_xD83D__xDE00_", "_xDC00_", "_x0000_",
	"0", "1", "9", "-", ".", "e+", "E-", "1e308", "2958465", "60", "0.5", "A", "Z", "ZZZ", "AA1",
	"\xC5\x82", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xC3", "\x80", "\xFF", "yyyy-mm-dd", "h:mm", "[Red]",
	"\"", "0.00E+00"
};

#define NTOKENS (sizeof(tokens) / sizeof(tokens[0]))

int
main(int argc, char **argv)
{
	long		runs = argc > 1 ? atol(argv[1]) : 100000;
	size_t		maxlen = argc > 2 ? (size_t) atol(argv[2]) : 256;
	int			nseeds = argc > 3 ? argc - 3 : 0;
	uint8_t   **seeds = calloc((size_t) nseeds + 1, sizeof(uint8_t *));
	size_t	   *seedlen = calloc((size_t) nseeds + 1, sizeof(size_t));
	uint8_t    *buf = malloc(maxlen + 16);

	if (seeds == NULL || seedlen == NULL || buf == NULL || maxlen == 0)
		return 2;
	for (int k = 0; k < nseeds; k++)
	{
		seeds[k] = read_file(argv[3 + k], &seedlen[k]);
		LLVMFuzzerTestOneInput(seeds[k], seedlen[k]);
	}
	for (long r = 0; r < runs; r++)
	{
		size_t		len = 0;

		if (nseeds > 0 && next() % 4 != 0)
		{
			int			s = (int) (next() % (uint32_t) nseeds);

			len = seedlen[s] < maxlen ? seedlen[s] : maxlen;
			memcpy(buf, seeds[s], len);
			for (int m = 1 + (int) (next() % 4); m > 0; m--)
			{
				size_t		at = len ? next() % len : 0;

				switch (next() % 3)
				{
					case 0:		/* a byte replaced */
						if (len)
							buf[at] = (uint8_t) next();
						break;
					case 1:		/* a token inserted */
						{
							const char *t = tokens[next() % NTOKENS];
							size_t		tl = strlen(t);

							if (len + tl > maxlen)
								break;
							memmove(buf + at + tl, buf + at, len - at);
							memcpy(buf + at, t, tl);
							len += tl;
						}
						break;
					default:	/* cut short */
						len = at;
						break;
				}
			}
		}
		else
		{
			size_t		want = next() % (maxlen + 1);

			while (len < want)
			{
				if (next() % 2)
					buf[len++] = (uint8_t) next();
				else
				{
					const char *t = tokens[next() % NTOKENS];
					size_t		tl = strlen(t);

					if (len + tl > want)
						break;
					memcpy(buf + len, t, tl);
					len += tl;
				}
			}
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("%s: %ld inputs of at most %zu bytes (and %d seeds), no contract broken\n",
		   argv[0], runs, maxlen, nseeds);
	for (int k = 0; k < nseeds; k++)
		free(seeds[k]);
	free(seeds);
	free(seedlen);
	free(buf);
	return 0;
}
