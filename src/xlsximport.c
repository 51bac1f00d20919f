/*-------------------------------------------------------------------------
 *
 * xlsximport.c
 *	  Import (WB-2) of an xlsx workbook: crm.xlsx_sheets() and
 *	  crm.import_xlsx().
 *
 * The workbook is read by src/core/xlsxread.c (libzip and libxml2's
 * streaming reader, no server headers); this file turns its errors into
 * ereports and its rows into the rows of an import batch's staging table,
 * the same table psql's \copy fills for a CSV file (src/sql/88_import.sql):
 * crm.import_begin() is called with the sheet's header row as the columns,
 * then each following row with a value is inserted, so preview and apply
 * work on it unchanged.
 *
 * Everything runs with the caller's rights (SPI, no SECURITY DEFINER): the
 * batch and the staging table are the caller's, as with a CSV file.  The
 * staging table's name is given by the caller and quoted as an identifier;
 * no value of the workbook is ever part of a statement's text (the values
 * are parameters).
 *
 * Memory: the reader's (malloc'd: the shared strings, the styles, one row,
 * libxml2's and libzip's state) is released when the function returns, and
 * on an error by a callback of the memory context the function made
 * (deleted with the transaction's), so an error in the middle (a limit, a
 * row the staging table refuses, a cancel) leaks nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"
#include "pgcompat.h"

#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "datamodel.h"
#include "xlsxread.h"

PG_FUNCTION_INFO_V1(xlsx_sheets);
PG_FUNCTION_INFO_V1(import_xlsx);

/* the staging table's columns: a table has at most 1600 */
#define XLSX_IMPORT_COLUMNS 1600

/*
 * The limits (doc/working-with-the-base.md, "Importing an xlsx workbook"):
 * far above a real workbook of a CRM's clients (a workbook inflates to
 * about 10 times its size: 2.8 MB to 28.8 MB in bench/import_xlsx.sh's),
 * far below what would hold a backend for long or fill its memory.
 */
/* the reader asks this every few thousand XML nodes: a cancel or a
 * statement timeout stops a long read (then CHECK_FOR_INTERRUPTS raises) */
static int
interrupt_pending(void)
{
	return QueryCancelPending || ProcDiePending;
}

static const XlsxLimits import_limits = {
	.max_total = UINT64CONST(1024) * 1024 * 1024,	/* 1 GB inflated in all */
	.max_entry = UINT64CONST(512) * 1024 * 1024,	/* 512 MB one part */
	.max_ratio = 100,			/* inflated / compressed, ... */
	.ratio_grace = UINT64CONST(1024) * 1024,	/* ... past its first MB */
	.max_rows = XLSX_MAX_ROWS,
	.max_columns = XLSX_IMPORT_COLUMNS,
	.max_strings = 4 * 1024 * 1024,
	.max_string_bytes = UINT64CONST(256) * 1024 * 1024,
	.max_cell_chars = XLSX_MAX_CELL_CHARS,
	/* a row of a staging table: PostgreSQL's own tuple limit is 1 GB, but a
	 * few kB of spreadsheet can name one long shared string in every cell */
	.max_row_bytes = UINT64CONST(16) * 1024 * 1024,
	.interrupted = interrupt_pending
};

/* the reader of a call, closed on return or by the context's callback */
typedef struct OpenBook
{
	XlsxBook   *book;
	MemoryContextCallback cb;
} OpenBook;

static void
close_book(void *arg)
{
	OpenBook   *ob = arg;

	if (ob->book)
		xlsx_close(ob->book);
	ob->book = NULL;
}

static void
report(const XlsxError *err, XlsxBook *book)
{
	int			code;
	const char *hint;

	switch (err->kind)
	{
		case XLSX_ERR_ZIP:
		case XLSX_ERR_FORMAT:
			code = ERRCODE_INVALID_BINARY_REPRESENTATION;
			hint = "Pass the bytes of an .xlsx file unchanged (psql: \\set wb `base64 -w0 file.xlsx`, then decode(:'wb', 'base64')); "
				"a workbook a spreadsheet cannot open either, save again as Excel 2007-365 (.xlsx).";
			break;
		case XLSX_ERR_LIMIT:
			code = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			switch (err->limit)
			{
				case XLSX_LIMIT_COLUMNS:
					hint = "A staging table has at most 1600 columns: delete the columns not imported, or move the stray cell.";
					break;
				case XLSX_LIMIT_CELL:
					hint = "A cell of a spreadsheet holds at most 32,767 characters: shorten it.";
					break;
				case XLSX_LIMIT_ROW_BYTES:
					hint = "Shorten the row's texts, or save the sheet as CSV and load it with \\copy.";
					break;
				case XLSX_LIMIT_RATIO:
					hint = "A workbook that compresses this much is a zip bomb, or a sheet of empty formatted cells: "
						"clear the unused rows and columns and save it again, or save the sheet as CSV and load it with \\copy.";
					break;
				default:
					hint = "Split the workbook into smaller ones, or save the sheet as CSV and load it with \\copy (no such limit).";
					break;
			}
			break;
		case XLSX_ERR_MEMORY:
			code = ERRCODE_OUT_OF_MEMORY;
			hint = NULL;
			break;
		case XLSX_ERR_INTERRUPTED:
			/* the server's own cancel or timeout error, when it is one */
			CHECK_FOR_INTERRUPTS();
			code = ERRCODE_QUERY_CANCELED;
			hint = NULL;
			break;
		default:
			code = ERRCODE_INTERNAL_ERROR;
			hint = NULL;
			break;
	}
	ereport(ERROR,
			(errcode(code),
			 errmsg("%s", err->message),
			 errdetail("%s", err->detail),
			 hint ? errhint("%s", hint) : 0));
}

/* the workbook's sheets, as a text for a DETAIL: "Klienci", "Arkusz2" */
static char *
sheet_list(XlsxBook *book)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < xlsx_sheet_count(book); i++)
	{
		char	   *name = pg_any_to_server(xlsx_sheet(book, i)->name,
											strlen(xlsx_sheet(book, i)->name), PG_UTF8);

		appendStringInfo(&s, "%s\"%s\"", i ? ", " : "", name);
	}
	return s.data;
}

/*
 * Opens the workbook of argument 0 in a context of its own whose deletion
 * closes it.
 */
static OpenBook *
open_book(FunctionCallInfo fcinfo, MemoryContext *cxt_out)
{
	bytea	   *wb;
	MemoryContext cxt;
	OpenBook   *ob;
	XlsxError	err;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the workbook is null"),
				 errhint("Pass the bytes of an .xlsx file.")));
	wb = PG_GETARG_BYTEA_PP(0);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "crm xlsx import", ALLOCSET_DEFAULT_SIZES);
	ob = MemoryContextAllocZero(cxt, sizeof(OpenBook));
	ob->cb.func = close_book;
	ob->cb.arg = ob;
	MemoryContextRegisterResetCallback(cxt, &ob->cb);
	ob->book = xlsx_open(VARDATA_ANY(wb), VARSIZE_ANY_EXHDR(wb), &import_limits, &err);
	if (ob->book == NULL)
		report(&err, NULL);
	/* a book has a sheet at least: xlsx_open refuses one without */
	Assert(xlsx_sheet_count(ob->book) >= 1);
	*cxt_out = cxt;
	return ob;
}

/*
 * crm.xlsx_sheets(workbook bytea) RETURNS TABLE (sheet_no, name, state, part)
 */
Datum
xlsx_sheets(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext cxt;
	OpenBook   *ob;

	InitMaterializedSRF(fcinfo, 0);
	ob = open_book(fcinfo, &cxt);
	for (int i = 0; i < xlsx_sheet_count(ob->book); i++)
	{
		const XlsxSheetInfo *s = xlsx_sheet(ob->book, i);
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = Int32GetDatum(i + 1);
		values[1] = CStringGetTextDatum(pg_any_to_server(s->name, strlen(s->name), PG_UTF8));
		values[2] = CStringGetTextDatum(pg_any_to_server(s->state, strlen(s->state), PG_UTF8));
		if (s->part)
			values[3] = CStringGetTextDatum(pg_any_to_server(s->part, strlen(s->part), PG_UTF8));
		else
			nulls[3] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(cxt);
	return (Datum) 0;
}

/* a cell's text in the server's encoding */
static char *
cell_text(const char *utf8)
{
	return pg_any_to_server(utf8, strlen(utf8), PG_UTF8);
}

/*
 * crm.import_xlsx(workbook bytea, sheet text, file_name text, staging text)
 * RETURNS bigint: the batch.
 */
Datum
import_xlsx(PG_FUNCTION_ARGS)
{
	MemoryContext cxt;
	MemoryContext rowcxt;
	MemoryContext oldcxt;
	OpenBook   *ob;
	XlsxError	err;
	XlsxRow		row;
	const char *sheet = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *sheet_utf8 = NULL;
	int			rc;
	int			ncols = 0;
	uint32_t	header_row;
	char	  **names;
	Datum	   *name_datums;
	Datum		args[3];
	char		argnulls[3];
	Oid			argtypes[3] = {TEXTARRAYOID, TEXTOID, TEXTOID};
	bool		isnull;
	int64		batch;
	StringInfoData sql;
	Oid		   *types;
	Datum	   *values;
	char	   *nulls;
	SPIPlanPtr	plan;
	char		ref[8];

	/* the batch needs the data model: say so first, whatever the workbook */
	crm_require_data_model();
	ob = open_book(fcinfo, &cxt);
	if (sheet)
		sheet_utf8 = pg_server_to_any(sheet, strlen(sheet), PG_UTF8);
	if (xlsx_open_sheet(ob->book, sheet_utf8, &err) < 0)
	{
		if (err.kind == XLSX_ERR_NO_SHEET)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the workbook has no sheet \"%s\"", sheet),
					 errdetail("Its sheets: %s.", sheet_list(ob->book)),
					 errhint("Name one of them (case is ignored), or pass NULL for the first; crm.xlsx_sheets() lists them.")));
		report(&err, ob->book);
	}

	/* the header row: the first with a value */
	rc = xlsx_next_row(ob->book, &row, &err);
	if (rc < 0)
		report(&err, ob->book);
	if (rc == 0)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("the sheet is empty"),
				 errdetail("Sheet %s of the workbook has no cell with a value.",
						   sheet ? quote_literal_cstr(sheet) : "1"),
				 errhint("The first row with a value is the header: the columns' names.")));
	header_row = row.number;
	for (uint32_t i = 0; i < row.ncells; i++)
		ncols = Max(ncols, (int) row.cells[i].column);
	/* a row has a cell; the reader's limit on columns is a table's */
	Assert(row.ncells >= 1 && ncols >= 1 && ncols <= XLSX_IMPORT_COLUMNS);
	names = palloc0(sizeof(char *) * ncols);
	name_datums = palloc(sizeof(Datum) * ncols);
	for (uint32_t i = 0; i < row.ncells; i++)
	{
		int			c = (int) row.cells[i].column - 1;
		char	   *name = cell_text(row.cells[i].text);

		/* XML's spaces and line breaks around a heading are no part of a name */
		if (names[c] == NULL)
			names[c] = pstrdup(name);
	}
	for (int c = 0; c < ncols; c++)
	{
		char	   *trimmed;
		size_t		len;

		xlsx_column_name((uint32_t) c + 1, ref);
		if (names[c] == NULL)
			names[c] = pstrdup(ref);	/* a column without a heading: its letter */
		trimmed = names[c];
		while (*trimmed == ' ' || *trimmed == '\t' || *trimmed == '\n' || *trimmed == '\r')
			trimmed++;
		len = strlen(trimmed);
		while (len > 0 && (trimmed[len - 1] == ' ' || trimmed[len - 1] == '\t' ||
						   trimmed[len - 1] == '\n' || trimmed[len - 1] == '\r'))
			trimmed[--len] = '\0';
		names[c] = *trimmed ? trimmed : pstrdup(ref);
		if (strlen(names[c]) > NAMEDATALEN - 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("heading of column %s is too long", ref),
					 errdetail("Cell %s%u holds %zu bytes; a column's name has at most %d.",
							   ref, header_row, strlen(names[c]), NAMEDATALEN - 1),
					 errhint("Shorten the heading in the workbook.")));
		for (int d = 0; d < c; d++)
			if (strcmp(names[d], names[c]) == 0)
			{
				char		first[8];

				xlsx_column_name((uint32_t) d + 1, first);
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" is named twice", names[c]),
						 errdetail("Cells %s%u and %s%u of the header row hold the same heading.",
								   first, header_row, ref, header_row),
						 errhint("Give each column its own heading in the workbook (\"Telefon\", \"Telefon 2\").")));
			}
		name_datums[c] = CStringGetTextDatum(names[c]);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* the batch and its staging table, as for a CSV file */
	args[0] = PointerGetDatum(construct_array(name_datums, ncols, TEXTOID, -1, false, TYPALIGN_INT));
	argnulls[0] = ' ';
	args[1] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	argnulls[1] = PG_ARGISNULL(2) ? 'n' : ' ';
	args[2] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	argnulls[2] = PG_ARGISNULL(3) ? 'n' : ' ';
	if (SPI_execute_with_args("SELECT crm.import_begin($1, $2, $3)", 3, argtypes, args, argnulls,
							  false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "crm.import_begin() returned no batch");
	batch = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	/* its rows: one prepared INSERT, the values as parameters */
	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO pg_temp.%s VALUES (",
					 quote_identifier(PG_ARGISNULL(3) ? "crm_import" : text_to_cstring(PG_GETARG_TEXT_PP(3))));
	types = palloc(sizeof(Oid) * ncols);
	values = palloc(sizeof(Datum) * ncols);
	nulls = palloc(ncols);
	for (int c = 0; c < ncols; c++)
	{
		appendStringInfo(&sql, "%s$%d", c ? ", " : "", c + 1);
		types[c] = TEXTOID;
	}
	appendStringInfoChar(&sql, ')');
	plan = SPI_prepare(sql.data, ncols, types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "crm xlsx import row", ALLOCSET_DEFAULT_SIZES);
	while ((rc = xlsx_next_row(ob->book, &row, &err)) == 1)
	{
		CHECK_FOR_INTERRUPTS();
		oldcxt = MemoryContextSwitchTo(rowcxt);
		memset(nulls, 'n', ncols);
		for (uint32_t i = 0; i < row.ncells; i++)
		{
			int			c = (int) row.cells[i].column - 1;

			Assert(c >= 0 && c < XLSX_IMPORT_COLUMNS);
			if (c >= ncols)
			{
				char		last[8];

				xlsx_column_name(row.cells[i].column, ref);
				xlsx_column_name((uint32_t) ncols, last);
				ereport(ERROR,
						(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
						 errmsg("cell %s%u is outside the header's columns", ref, row.number),
						 errdetail("The header (row %u) has columns A to %s; cell %s%u holds \"%s\".",
								   header_row, last, ref, row.number, cell_text(row.cells[i].text)),
						 errhint("Give the column a heading in row %u, or clear the cell.", header_row)));
			}
			values[c] = CStringGetTextDatum(cell_text(row.cells[i].text));
			nulls[c] = ' ';
		}
		if (SPI_execute_plan(plan, values, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "the insert into the staging table failed");
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(rowcxt);
	}
	if (rc < 0)
		report(&err, ob->book);

	SPI_finish();
	MemoryContextDelete(cxt);
	PG_RETURN_INT64(batch);
}
