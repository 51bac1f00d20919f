/*
 * smoke_xlsx.c: a deterministic driver for fuzz_xlsx.c that needs no
 * libFuzzer, run by the test suite (make fuzz-smoke).  For each workbook
 * named on the command line (the workbooks of test/data: openpyxl's, and the
 * hostile ones) it reads the file as it is, then N copies changed by a
 * fixed-seed generator: bytes flipped, runs of bytes overwritten, the
 * file cut short.  It counts the copies read to their end without an
 * error, so that a reader that refused everything would be seen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlsxread.h"

#include "smokeutil.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	long		runs = argc > 1 ? atol(argv[1]) : 200;
	long		total = 0;

	for (int a = 2; a < argc; a++)
	{
		size_t		size;
		uint8_t    *orig = read_file(argv[a], &size);
		uint8_t    *copy = malloc(size + 1);

		LLVMFuzzerTestOneInput(orig, size);
		for (long r = 0; r < runs; r++)
		{
			size_t		n = size;

			memcpy(copy, orig, size);
			switch (next() % 4)
			{
				case 0:			/* a few bytes flipped */
					for (int k = 1 + (int) (next() % 4); k > 0; k--)
						copy[next() % size] ^= (uint8_t) (1 + next() % 255);
					break;
				case 1:			/* a run overwritten */
					{
						size_t		at = next() % size;
						size_t		len = 1 + next() % 64;

						for (size_t k = at; k < size && k < at + len; k++)
							copy[k] = (uint8_t) next();
					}
					break;
				case 2:			/* cut short */
					n = next() % size;
					break;
				default:		/* the directory's sizes changed: bytes near the end */
					for (int k = 1 + (int) (next() % 3); k > 0; k--)
						copy[size - 1 - next() % (size < 200 ? size : 200)] = (uint8_t) next();
					break;
			}
			LLVMFuzzerTestOneInput(copy, n);
			total++;
		}
		free(copy);
		free(orig);
	}
	printf("xlsx reader: %ld changed workbooks read without a crash or a broken contract\n", total);
	return 0;
}
