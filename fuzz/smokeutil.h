/*
 * smokeutil.h: what the deterministic fuzz drivers (smoke_main.c,
 * smoke_random.c, smoke_xlsx.c; make fuzz-smoke) share: a fixed-seed
 * xorshift generator, so every run feeds the same inputs, and reading a
 * seed file whole.  Included by one driver per program.
 */
#ifndef CRM_SMOKEUTIL_H
#define CRM_SMOKEUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static inline uint32_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t) (rng >> 16);
}

/* the file's bytes (one more allocated), exiting with status 2 when unreadable */
static inline uint8_t *
read_file(const char *path, size_t *size)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *data;
	long		n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
	{
		perror(path);
		exit(2);
	}
	data = malloc((size_t) n + 1);
	if (data == NULL || fread(data, 1, (size_t) n, f) != (size_t) n)
	{
		perror(path);
		exit(2);
	}
	fclose(f);
	*size = (size_t) n;
	return data;
}

#endif							/* CRM_SMOKEUTIL_H */
