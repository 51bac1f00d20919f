/*
 * xlsxread.h: an xlsx workbook read as rows of text, without the server.
 *
 * The workbook is a zip (libzip, read from memory) of XML parts (libxml2's
 * streaming xmlTextReader: a sheet is never held whole).  What it gives:
 * the sheets by name (workbook.xml and its relationships), then the rows of
 * one sheet, each cell as UTF-8 text: shared and inline strings (with the
 * standard's _xHHHH_ escapes decoded), numbers (15 significant digits, as
 * a spreadsheet shows them; integers as written), booleans (true/false),
 * dates of a cell whose style has a date format as ISO 8601 text
 * (YYYY-MM-DD, YYYY-MM-DD HH:MM:SS, HH:MM:SS; the 1900 and 1904 date
 * systems), formulas' cached values, error values as written (#N/A).
 *
 * Limits (XlsxLimits) stop zip bombs and huge sheets: the bytes inflated
 * in all and per part (counted while inflating, not taken from the zip's
 * directory, which may lie), the ratio of inflated to compressed bytes,
 * the rows and columns of a sheet, the number and the bytes of the shared
 * strings, the characters of a cell.
 *
 * Errors come back as a return value with an XlsxError (kind, message,
 * detail); nothing longjmps.  Memory is malloc'd and released by
 * xlsx_close(), which may be called at any point, also after an error.
 */
#ifndef CRM_XLSXREAD_H
#define CRM_XLSXREAD_H

#include <stddef.h>
#include <stdint.h>

typedef enum XlsxErrorKind
{
	XLSX_ERR_NONE = 0,
	XLSX_ERR_ZIP,				/* not a zip, or a corrupt one */
	XLSX_ERR_FORMAT,			/* a zip, but not a well-formed workbook */
	XLSX_ERR_LIMIT,				/* over one of XlsxLimits */
	XLSX_ERR_NO_SHEET,			/* no sheet of that name */
	XLSX_ERR_MEMORY,			/* malloc failed */
	XLSX_ERR_INTERRUPTED		/* limits.interrupted() said stop */
} XlsxErrorKind;

/* which limit (with XLSX_ERR_LIMIT) */
typedef enum XlsxLimitKind
{
	XLSX_LIMIT_NONE = 0,
	XLSX_LIMIT_TOTAL,
	XLSX_LIMIT_ENTRY,
	XLSX_LIMIT_RATIO,
	XLSX_LIMIT_ROWS,
	XLSX_LIMIT_COLUMNS,
	XLSX_LIMIT_STRINGS,
	XLSX_LIMIT_STRING_BYTES,
	XLSX_LIMIT_CELL,
	XLSX_LIMIT_ROW_BYTES
} XlsxLimitKind;

typedef struct XlsxError
{
	XlsxErrorKind kind;
	XlsxLimitKind limit;
	char		message[160];	/* short, lower case */
	char		detail[400];	/* the facts: part, row, cell, sizes */
} XlsxError;

typedef struct XlsxLimits
{
	uint64_t	max_total;		/* bytes inflated, all parts read together */
	uint64_t	max_entry;		/* bytes inflated from one part */
	uint32_t	max_ratio;		/* inflated / compressed bytes of a part ... */
	uint64_t	ratio_grace;	/* ... checked once it has inflated this much */
	uint32_t	max_rows;		/* rows of a sheet (the row numbers) */
	uint32_t	max_columns;	/* columns of a sheet (the column letters) */
	uint32_t	max_strings;	/* shared strings */
	uint64_t	max_string_bytes;	/* their UTF-8 bytes together */
	uint32_t	max_cell_chars; /* characters of one cell's text */
	uint64_t	max_row_bytes;	/* UTF-8 bytes of one row's cells together (a
								 * shared string is copied into every cell
								 * that refers to it) */

	/*
	 * Asked every few thousand XML nodes: nonzero stops the reading with
	 * XLSX_ERR_INTERRUPTED (the server's pending cancel or timeout); NULL:
	 * never.  It must return, not jump.
	 */
	int			(*interrupted) (void);
} XlsxLimits;

/* Excel's own: 1,048,576 rows, 16,384 columns, 32,767 characters a cell */
#define XLSX_MAX_ROWS		1048576
#define XLSX_MAX_COLUMNS	16384
#define XLSX_MAX_CELL_CHARS 32767

typedef struct XlsxSheetInfo
{
	char	   *name;			/* as the workbook names it */
	char	   *part;			/* its part in the zip: xl/worksheets/sheet1.xml */
	char	   *state;			/* visible, hidden or veryHidden */
} XlsxSheetInfo;

typedef struct XlsxCell
{
	uint32_t	column;			/* 1 = A */
	const char *text;			/* UTF-8, never empty (empty cells are left out) */
} XlsxCell;

typedef struct XlsxRow
{
	uint32_t	number;			/* the sheet's row number, 1 = the first */
	uint32_t	ncells;
	const XlsxCell *cells;		/* in the order of the sheet */
} XlsxRow;

typedef struct XlsxBook XlsxBook;

/*
 * Opens a workbook held in memory (data stays the caller's and must outlive
 * the book): the zip, the workbook's sheets, its date system and the
 * styles.  NULL on error (err says why).
 */
extern XlsxBook *xlsx_open(const void *data, size_t size, const XlsxLimits *limits, XlsxError *err);

extern int	xlsx_sheet_count(const XlsxBook *book);
extern const XlsxSheetInfo *xlsx_sheet(const XlsxBook *book, int i);
extern int	xlsx_date1904(const XlsxBook *book);

/*
 * Starts reading a sheet: by name (NULL: the first), with the shared
 * strings.  0 on success, -1 on error.
 */
extern int	xlsx_open_sheet(XlsxBook *book, const char *name, XlsxError *err);

/*
 * The next row that has at least one cell with a value: 1 and *row (valid
 * until the next call), 0 at the end of the sheet, -1 on error.
 */
extern int	xlsx_next_row(XlsxBook *book, XlsxRow *row, XlsxError *err);

/* "A" for 1, "AA" for 27; buf of 4 bytes at least */
extern void xlsx_column_name(uint32_t column, char *buf);

/* bytes inflated so far, all parts */
extern uint64_t xlsx_inflated(const XlsxBook *book);

extern void xlsx_close(XlsxBook *book);

#endif
