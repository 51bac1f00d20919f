/*-------------------------------------------------------------------------
 *
 * export.c
 *	  Export (WB-3) as an xlsx workbook: crm.export_clients_xlsx() and
 *	  crm.export_clients_xlsx_file().
 *
 * The query is crm.export_clients_sql()'s (src/sql/92_export.sql: the one
 * home of the columns and the filter); it runs through an SPI cursor with
 * the caller's rights, so row-level security applies, and its rows go one
 * batch at a time to libxlsxwriter (Debian's libxlsxwriter-dev) in its
 * constant-memory mode, which writes each row to a temporary file as soon
 * as the next begins.  Memory stays bounded whatever the number of rows:
 * one batch of tuples, one row of cells.
 *
 * Cells are typed: numbers (integers, numeric, floats) as numbers, dates
 * and timestamps as dates with a date format (timestamps with time zone in
 * the session's TimeZone: a spreadsheet has none), booleans as booleans,
 * everything else as text through its type's output function (crm.pesel
 * gives its digits).  What a spreadsheet cannot hold exactly stays text:
 * a number of more than 15 significant digits, a date before 1900 or
 * infinite.  A sheet holds 1,048,576 rows; an export of more clients goes
 * on in further sheets, each with its header row: no row cap.
 *
 * Where the workbook goes: crm.export_clients_xlsx() returns it as bytea,
 * which a client receives whole, and a bytea holds at most 1 GB;
 * crm.export_clients_xlsx_file() writes it on the server, where COPY TO a
 * file writes (superusers and members of pg_write_server_files).  The
 * workbook is written first in the server's temporary-file directory
 * (base/pgsql_tmp, emptied by a restart), then read back or moved to its
 * place.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"
#include "pgcompat.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_authid.h"
#include "catalog/pg_tablespace_d.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include <xlsxwriter.h>

#include "datamodel.h"

PG_FUNCTION_INFO_V1(export_clients_xlsx);
PG_FUNCTION_INFO_V1(export_clients_xlsx_file);

#define EXPORT_FETCH_ROWS	1000
/* the characters of a cell (LXW_STR_MAX in libxlsxwriter's sources) */
#define EXPORT_CELL_CHARS	32767
/* a spreadsheet's numbers are doubles: 15 significant digits are exact */
#define EXPORT_NUMBER_DIGITS	15

typedef enum ExportCellKind
{
	CELL_NUMBER,				/* written as a number when exact */
	CELL_BOOLEAN,
	CELL_DATE,
	CELL_TIMESTAMP,
	CELL_TIMESTAMPTZ,
	CELL_TEXT					/* the type's output function */
} ExportCellKind;

typedef struct ExportColumn
{
	ExportCellKind kind;
	Oid			typoutput;
	bool		typisvarlena;
} ExportColumn;

typedef struct ExportWriter
{
	lxw_workbook *workbook;
	lxw_worksheet *sheet;
	lxw_format *header_format;
	lxw_format *date_format;
	lxw_format *timestamp_format;
	int			nsheets;
	lxw_row_t	row;			/* the next row of the current sheet */
	int			ncolumns;
	ExportColumn *columns;
	TupleDesc	tupdesc;		/* the query's, copied */
	StringInfoData text;		/* a cell's text, escaped */
} ExportWriter;

static const char *cell_text(ExportWriter *w, const char *text);

static void
check_lxw(lxw_error err, const char *what)
{
	if (err != LXW_NO_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("could not write the xlsx workbook: %s", lxw_strerror(err)),
				 errdetail("libxlsxwriter failed while %s.", what)));
}

static ExportCellKind
cell_kind(Oid type)
{
	switch (getBaseType(type))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			return CELL_NUMBER;
		case BOOLOID:
			return CELL_BOOLEAN;
		case DATEOID:
			return CELL_DATE;
		case TIMESTAMPOID:
			return CELL_TIMESTAMP;
		case TIMESTAMPTZOID:
			return CELL_TIMESTAMPTZ;
		default:
			return CELL_TEXT;
	}
}

/*
 * A new sheet ("clients", then "clients 2", ...) with the header row.
 */
static void
new_sheet(ExportWriter *w)
{
	char		name[32];

	w->nsheets++;
	if (w->nsheets == 1)
		strlcpy(name, "clients", sizeof(name));
	else
		snprintf(name, sizeof(name), "clients %d", w->nsheets);
	w->sheet = workbook_add_worksheet(w->workbook, name);
	if (w->sheet == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("could not write the xlsx workbook: no sheet \"%s\"", name)));
	for (int i = 0; i < w->ncolumns; i++)
		check_lxw(worksheet_write_string(w->sheet, 0, (lxw_col_t) i,
										 cell_text(w, NameStr(TupleDescAttr(w->tupdesc, i)->attname)),
										 w->header_format),
				  "writing the header row");
	w->row = 1;
}

/*
 * Text for a cell: XML 1.0 has no control characters but tab, newline and
 * carriage return, and libxlsxwriter writes them as they are (the sheet
 * would not open); OOXML writes a character as _xHHHH_ (ECMA-376, Part 1,
 * 22.9.2.19, ST_Xstring), and an underscore that would read as the start
 * of one as _x005F_, so that every reader gets the text back exactly.
 */
static const char *
cell_text(ExportWriter *w, const char *text)
{
	/* the workbook's XML is UTF-8, whatever the database's encoding */
	const char *s = pg_server_to_any(text, strlen(text), PG_UTF8);
	const char *p;

	for (p = s; *p; p++)
		if (((unsigned char) *p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == '_')
			break;
	if (*p == '\0')
		return s;

	resetStringInfo(&w->text);
	for (p = s; *p; p++)
	{
		unsigned char ch = (unsigned char) *p;

		if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
			appendStringInfo(&w->text, "_x%04X_", ch);
		else if (ch == '_' && p[1] == 'x' && strspn(p + 2, "0123456789abcdefABCDEF") >= 4 && p[6] == '_')
			appendStringInfoString(&w->text, "_x005F_");
		else
			appendStringInfoChar(&w->text, (char) ch);
	}
	return w->text.data;
}

static void
write_text(ExportWriter *w, lxw_col_t col, const char *s, uint64 client)
{
	lxw_error	err = worksheet_write_string(w->sheet, w->row, col, cell_text(w, s), NULL);

	if (err == LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("value too long for an xlsx cell"),
				 errdetail("Column \"%s\" of exported row %llu has %d characters; a cell holds at most %d.",
						   NameStr(TupleDescAttr(w->tupdesc, col)->attname),
						   (unsigned long long) client, pg_mbstrlen(s), EXPORT_CELL_CHARS),
				 errhint("Leave the column out of the workbook, or export it as CSV (crm.export_clients).")));
	check_lxw(err, "writing a text cell");
}

/* a number's text, when a double holds it exactly */
static bool
exact_number(const char *s, double *value)
{
	int			digits = 0;
	bool		leading = true;
	char	   *end;

	for (const char *p = s; *p && *p != 'e' && *p != 'E'; p++)
	{
		if (*p >= '1' && *p <= '9')
			leading = false;
		if (*p >= '0' && *p <= '9' && !leading)
			digits++;
	}
	if (digits > EXPORT_NUMBER_DIGITS)
		return false;
	*value = strtod(s, &end);
	return *end == '\0' && isfinite(*value);
}

static bool
to_lxw_datetime(struct pg_tm *tm, fsec_t fsec, lxw_datetime *dt)
{
	/* the 1900 date system starts on 1 January 1900, and ends with 9999 */
	if (tm->tm_year < 1900 || tm->tm_year > 9999)
		return false;
	dt->year = tm->tm_year;
	dt->month = tm->tm_mon;
	dt->day = tm->tm_mday;
	dt->hour = tm->tm_hour;
	dt->min = tm->tm_min;
	dt->sec = tm->tm_sec + fsec / 1000000.0;
	return true;
}

static void
write_cell(ExportWriter *w, int i, Datum value, uint64 client)
{
	ExportColumn *c = &w->columns[i];
	lxw_col_t	col = (lxw_col_t) i;
	lxw_datetime dt;
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	double		number;

	switch (c->kind)
	{
		case CELL_BOOLEAN:
			check_lxw(worksheet_write_boolean(w->sheet, w->row, col, DatumGetBool(value), NULL),
					  "writing a boolean cell");
			return;
		case CELL_DATE:
			{
				DateADT		d = DatumGetDateADT(value);

				if (!DATE_NOT_FINITE(d))
				{
					j2date(d + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
					tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
					if (to_lxw_datetime(&tm, 0, &dt))
					{
						check_lxw(worksheet_write_datetime(w->sheet, w->row, col, &dt, w->date_format),
								  "writing a date cell");
						return;
					}
				}
				break;
			}
		case CELL_TIMESTAMP:
		case CELL_TIMESTAMPTZ:
			{
				Timestamp	t = DatumGetTimestamp(value);

				if (!TIMESTAMP_NOT_FINITE(t) &&
					timestamp2tm(t, c->kind == CELL_TIMESTAMPTZ ? &tz : NULL, &tm, &fsec, NULL, NULL) == 0 &&
					to_lxw_datetime(&tm, fsec, &dt))
				{
					check_lxw(worksheet_write_datetime(w->sheet, w->row, col, &dt, w->timestamp_format),
							  "writing a timestamp cell");
					return;
				}
				break;
			}
		case CELL_NUMBER:
			{
				char	   *s = OidOutputFunctionCall(c->typoutput, value);

				if (exact_number(s, &number))
				{
					check_lxw(worksheet_write_number(w->sheet, w->row, col, number, NULL),
							  "writing a number cell");
					return;
				}
				write_text(w, col, s, client);
				return;
			}
		case CELL_TEXT:
			break;
	}
	write_text(w, col, OidOutputFunctionCall(c->typoutput, value), client);
}

/* the server's temporary-file directory (base/pgsql_tmp), made if need be */
static void
temporary_directory(char *dir)
{
	TempTablespacePath(dir, DEFAULTTABLESPACE_OID);
	/* made by the first temporary file the server needs; maybe not yet */
	if (MakePGDirectory(dir) < 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", dir)));
}

/*
 * Write the export of (filter, columns) into a workbook at path; returns
 * the number of clients written.  Runs inside the caller's SPI connection.
 */
static uint64
write_workbook(Datum filter, Datum columns, bool columns_null, const char *path)
{
	ExportWriter w = {0};
	lxw_workbook_options options = {.constant_memory = LXW_TRUE,
		.tmpdir = NULL, .use_zip64 = LXW_TRUE};
	char		tmpdir[MAXPGPATH];
	Oid			argtypes[2] = {JSONBOID, TEXTARRAYOID};
	Datum		args[2] = {filter, columns};
	char		nulls[2] = {' ', columns_null ? 'n' : ' '};
	char	   *query;
	bool		isnull;
	Portal		portal;
	volatile uint64 clients = 0;
	MemoryContext rowcxt;

	/* the query: crm.export_clients_sql() checks the columns and the filter */
	if (SPI_execute_with_args("SELECT crm.export_clients_sql($1, $2)", 2, argtypes, args, nulls,
							  true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not build the export's query");
	query = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	/* libxlsxwriter's row files go where the server's temporary files go */
	temporary_directory(tmpdir);
	options.tmpdir = tmpdir;

	portal = SPI_cursor_open_with_args(NULL, query, 0, NULL, NULL, NULL, true, CURSOR_OPT_NO_SCROLL);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "crm xlsx row", ALLOCSET_DEFAULT_SIZES);
	initStringInfo(&w.text);

	PG_TRY();
	{
		w.workbook = workbook_new_opt(path, &options);
		if (w.workbook == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
					 errmsg("could not start an xlsx workbook")));
		w.header_format = workbook_add_format(w.workbook);
		format_set_bold(w.header_format);
		w.date_format = workbook_add_format(w.workbook);
		format_set_num_format(w.date_format, "yyyy-mm-dd");
		w.timestamp_format = workbook_add_format(w.workbook);
		format_set_num_format(w.timestamp_format, "yyyy-mm-dd hh:mm:ss");

		for (;;)
		{
			SPI_cursor_fetch(portal, true, EXPORT_FETCH_ROWS);
			if (w.columns == NULL)
			{
				/* the first fetch, even of no rows, gives the columns */
				w.tupdesc = CreateTupleDescCopy(SPI_tuptable->tupdesc);
				w.ncolumns = w.tupdesc->natts;
				w.columns = palloc(sizeof(ExportColumn) * w.ncolumns);
				for (int i = 0; i < w.ncolumns; i++)
				{
					Oid			type = TupleDescAttr(w.tupdesc, i)->atttypid;

					w.columns[i].kind = cell_kind(type);
					getTypeOutputInfo(type, &w.columns[i].typoutput, &w.columns[i].typisvarlena);
				}
				new_sheet(&w);
			}
			if (SPI_processed == 0)
				break;
			for (uint64 k = 0; k < SPI_processed; k++)
			{
				HeapTuple	tuple = SPI_tuptable->vals[k];
				MemoryContext old;

				CHECK_FOR_INTERRUPTS();
				if (w.row >= LXW_ROW_MAX)
					new_sheet(&w);
				clients++;
				old = MemoryContextSwitchTo(rowcxt);
				for (int i = 0; i < w.ncolumns; i++)
				{
					Datum		value = SPI_getbinval(tuple, SPI_tuptable->tupdesc, i + 1, &isnull);

					if (!isnull)
						write_cell(&w, i, value, clients);
				}
				MemoryContextSwitchTo(old);
				MemoryContextReset(rowcxt);
				w.row++;
			}
			SPI_freetuptable(SPI_tuptable);
		}
		SPI_cursor_close(portal);
		{
			lxw_workbook *wb = w.workbook;

			/* workbook_close() frees the workbook, whatever it returns */
			w.workbook = NULL;
			check_lxw(workbook_close(wb), "writing the file");
		}
	}
	PG_CATCH();
	{
		if (w.workbook != NULL)
			lxw_workbook_free(w.workbook);
		unlink(path);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextDelete(rowcxt);
	return clients;
}

/* a path for a workbook in the server's temporary-file directory */
static char *
temporary_workbook_path(void)
{
	static uint32 counter = 0;
	char		dir[MAXPGPATH];

	temporary_directory(dir);
	/* the prefix of the server's temporary files: a restart removes it */
	return psprintf("%s/%s%d.crm_export.%u.xlsx", dir, PG_TEMP_FILE_PREFIX, MyProcPid, counter++);
}

/*
 * crm.export_clients_xlsx(filter jsonb, columns text[]) → bytea
 */
Datum
export_clients_xlsx(PG_FUNCTION_ARGS)
{
	char	   *path;
	/* set in PG_TRY, read after it (gcc -Wclobbered with the sanitizers' flags) */
	bytea	   *volatile result = NULL;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("client search filter must be a JSON object"),
				 errhint("For example: {\"last_name\": \"Kowal%%\", \"city\": \"Kraków\"}, or {} for every visible client.")));
	crm_require_data_model();
	path = temporary_workbook_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PG_TRY();
	{
		struct stat st;
		FILE	   *f;

		write_workbook(PG_GETARG_DATUM(0), PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1),
					   PG_ARGISNULL(1), path);
		if (stat(path, &st) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", path)));
		if ((Size) st.st_size > MaxAllocSize - VARHDRSZ)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("xlsx workbook too large for a bytea"),
					 errdetail("The workbook has %lld bytes; a bytea holds at most %zu.",
							   (long long) st.st_size, (size_t) (MaxAllocSize - VARHDRSZ)),
					 errhint("Export fewer clients at a time, write the workbook on the server with crm.export_clients_xlsx_file(), or export CSV with crm.export_clients().")));
		result = (bytea *) SPI_palloc(st.st_size + VARHDRSZ);
		SET_VARSIZE(result, st.st_size + VARHDRSZ);
		f = AllocateFile(path, PG_BINARY_R);
		if (f == NULL)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not open file \"%s\" for reading: %m", path)));
		if (fread(VARDATA(result), 1, st.st_size, f) != (size_t) st.st_size)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", path)));
		FreeFile(f);
	}
	PG_FINALLY();
	{
		unlink(path);
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_BYTEA_P(result);
}

/*
 * crm.export_clients_xlsx_file(filter jsonb, columns text[], path text) → bigint
 */
Datum
export_clients_xlsx_file(PG_FUNCTION_ARGS)
{
	char	   *path;
	char	   *tmp;
	uint64		clients;

	/* the rule of COPY TO a file (src/backend/commands/copy.c) */
	if (!has_privs_of_role(GetUserId(), ROLE_PG_WRITE_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to write an xlsx file on the server"),
				 errdetail("Only superusers and roles with the privileges of pg_write_server_files may write files on the server."),
				 errhint("crm.export_clients_xlsx() returns the workbook to the client instead.")));
	crm_require_data_model();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("client search filter must be a JSON object"),
				 errhint("For example: {\"last_name\": \"Kowal%%\", \"city\": \"Kraków\"}, or {} for every visible client.")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the xlsx file needs a path")));
	path = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (!is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("relative path not allowed for an xlsx file on the server"),
				 errdetail("The path given was \"%s\".", path),
				 errhint("Give an absolute path, as COPY TO a file needs.")));

	/*
	 * Written beside its place and renamed into it when whole, so that a
	 * failed export leaves neither half a workbook nor a missing old one.
	 */
	tmp = psprintf("%s.%d.tmp", path, MyProcPid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	clients = write_workbook(PG_GETARG_DATUM(0), PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1),
							 PG_ARGISNULL(1), tmp);
	SPI_finish();
	if (rename(tmp, path) != 0)
	{
		int			save_errno = errno;

		unlink(tmp);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not rename file \"%s\" to \"%s\": %m", tmp, path)));
	}
	PG_RETURN_INT64((int64) clients);
}
