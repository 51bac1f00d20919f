/*
 * fuzz_xlsx.c: libFuzzer target for the xlsx reader (src/core/xlsxread.c):
 * an input is a workbook; every sheet is read to its end.
 *
 * Beyond "no crash, no leak, no sanitizer report": an error names its kind
 * and a message; a row has at least one cell,
 * each cell's column is within the limit and its text non-empty and at
 * most the limit's characters.  The limits are small, so that the fuzzer
 * reaches them.
 * Build and run: make fuzz-xlsx FUZZ_RUNS=1000000.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlsxread.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) \
	do { if (!(cond)) { fprintf(stderr, "contract broken: %s (line %d)\n", #cond, __LINE__); abort(); } } while (0)

static const XlsxLimits fuzz_limits = {
	.max_total = 8 * 1024 * 1024,
	.max_entry = 4 * 1024 * 1024,
	.max_ratio = 100,
	.ratio_grace = 64 * 1024,
	.max_rows = 10000,
	.max_columns = 200,
	.max_strings = 10000,
	.max_string_bytes = 1024 * 1024,
	.max_cell_chars = 1000,
	.max_row_bytes = 64 * 1024
};

static void
check_error(const XlsxError *err)
{
	REQUIRE(err->kind != XLSX_ERR_NONE);
	REQUIRE(err->message[0] != '\0');
	REQUIRE((err->kind == XLSX_ERR_LIMIT) == (err->limit != XLSX_LIMIT_NONE));
}

static void
read_sheet(const uint8_t *data, size_t size, const char *name)
{
	XlsxError	err;
	XlsxBook   *book = xlsx_open(data, size, &fuzz_limits, &err);
	XlsxRow		row;
	int			rc;

	if (book == NULL)
	{
		check_error(&err);
		return;
	}
	if (xlsx_open_sheet(book, name, &err) < 0)
	{
		check_error(&err);
		xlsx_close(book);
		return;
	}
	while ((rc = xlsx_next_row(book, &row, &err)) == 1)
	{
		REQUIRE(row.ncells > 0);
		REQUIRE(row.number >= 1 && row.number <= fuzz_limits.max_rows);
		for (uint32_t i = 0; i < row.ncells; i++)
		{
			REQUIRE(row.cells[i].column >= 1 && row.cells[i].column <= fuzz_limits.max_columns);
			REQUIRE(row.cells[i].text[0] != '\0');
			REQUIRE(strlen(row.cells[i].text) <= (size_t) fuzz_limits.max_cell_chars * 4);
		}
	}
	if (rc < 0)
		check_error(&err);
	xlsx_close(book);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	XlsxError	err;
	XlsxBook   *book = xlsx_open(data, size, &fuzz_limits, &err);
	int			n;

	if (book == NULL)
	{
		check_error(&err);
		return 0;
	}
	n = xlsx_sheet_count(book);
	REQUIRE(n >= 1);
	for (int i = 0; i < n; i++)
	{
		const XlsxSheetInfo *s = xlsx_sheet(book, i);

		REQUIRE(s && s->name && s->state);
	}
	/* each sheet, by name, and the first visible */
	for (int i = 0; i < n && i < 4; i++)
		read_sheet(data, size, xlsx_sheet(book, i)->name);
	xlsx_close(book);
	read_sheet(data, size, NULL);
	return 0;
}
