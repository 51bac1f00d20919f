/*-------------------------------------------------------------------------
 *
 * identifier.c
 *	  Input, output, binary I/O, validity tests and problem texts of the
 *	  identifier types crm.pesel, crm.nip and crm.regon.
 *
 * The three types share one representation (an int64 passed by value, see
 * idparse.h) and one set of SQL-callable functions, instantiated per type
 * by CRM_ID_SQL_FUNCTIONS at the end of this file.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"
#include "pgcompat.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"

#include "identifier.h"
#include "textinput.h"

/* how the identifier is written in prose */
static const char *
id_label(CrmIdKind kind)
{
	switch (kind)
	{
		case CRM_PESEL:
			return "PESEL";
		case CRM_NIP:
			return "NIP";
		case CRM_REGON:
			return "REGON";
	}
	return "?";
}

/*
 * Why a value is not a valid identifier of the kind: the DETAIL of the
 * types' input errors and the value of crm.<kind>_problem; palloc'd.
 */
char *
crm_identifier_problem(CrmIdKind kind, const CrmIdError *e)
{
	const char *label = id_label(kind);
	const char *given = e->ndigits == 1 ? "digit was" : "digits were";

	switch (e->status)
	{
		case CRM_ID_OK:
			break;
		case CRM_ID_BAD_ENCODING:
			return crm_bad_byte_problem(e->codepoint, e->position);
		case CRM_ID_BAD_CHARACTER:
			return psprintf("Character %s at position %d is not a digit.",
							crm_describe_character(e->codepoint), e->position);
		case CRM_ID_BAD_SEPARATOR:
			return psprintf("The dash at position %d does not stand between two digits.",
							e->position);
		case CRM_ID_BAD_LENGTH:
			if (kind == CRM_REGON)
				return psprintf("A REGON has 9 or 14 digits, but %d %s given.",
								e->ndigits, given);
			return psprintf("A %s has %d digits, but %d %s given.",
							label, kind == CRM_PESEL ? 11 : 10, e->ndigits, given);
		case CRM_ID_BAD_MONTH:
			return psprintf("Digits 3-4 give the month code %02d, which is no month of any century "
							"(01-12 in the 1900s, +20 in the 2000s, +40 in the 2100s, "
							"+60 in the 2200s, +80 in the 1800s).",
							e->month);
		case CRM_ID_BAD_DATE:
			return psprintf("Digits 1-6 give the birth date %04d-%02d-%02d, which does not exist.",
							e->year, e->month, e->day);
		case CRM_ID_BAD_CHECKSUM:
			return psprintf("The check digit is %d, but the checksum of the other digits requires %d.",
							e->given, e->expected);
		case CRM_ID_NO_CHECK_DIGIT:
			return pstrdup("The weighted sum of the first 9 digits leaves remainder 10 modulo 11, "
						   "so no check digit can make it a valid NIP.");
		case CRM_ID_BAD_REGON_BASE:
			return psprintf("The first 9 digits of a 14-digit REGON must be a valid REGON, "
							"but their check digit is %d where the checksum requires %d.",
							e->given, e->expected);
	}
	return NULL;
}

static int
identifier_errhint(CrmIdKind kind, const CrmIdError *e)
{
	switch (e->status)
	{
		case CRM_ID_BAD_CHARACTER:
		case CRM_ID_BAD_SEPARATOR:
			if (kind == CRM_NIP)
				return errhint("A NIP may contain only digits, spaces and dashes between digits, "
							   "after an optional \"PL\" prefix.");
			return errhint("A %s may contain only digits, spaces and dashes between digits.",
						   id_label(kind));
		case CRM_ID_BAD_CHECKSUM:
		case CRM_ID_NO_CHECK_DIGIT:
		case CRM_ID_BAD_REGON_BASE:
			return errhint("Check the digits against the source document: one of them is mistyped.");
		default:
			return 0;
	}
}

/*
 * Parse text in the server encoding.  On failure report through escontext
 * (raised on PostgreSQL 15) and return false.
 */
static bool
identifier_parse(CrmIdKind kind, const char *str, int64 *value,
				 Node *escontext)
{
	size_t		len = strlen(str);
	const char *utf8 = crm_text_as_utf8(str, &len);
	CrmIdError	err;
	int64_t		v;

	if (crm_id_parse(kind, utf8, len, &v, &err))
	{
		*value = v;
		return true;
	}
	errsave(escontext,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"",
					crm_id_name(kind), str),
			 errdetail("%s", crm_identifier_problem(kind, &err)),
			 identifier_errhint(kind, &err)));
	return false;
}

void
crm_id_get_digits(CrmIdKind kind, int64 value, CrmIdDigits *digits)
{
	if (!crm_id_decode(kind, value, digits))
		elog(ERROR, "corrupt %s value " INT64_FORMAT, crm_id_name(kind), value);
}

static Datum
identifier_in(FunctionCallInfo fcinfo, CrmIdKind kind)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int64		value;

	if (!identifier_parse(kind, str, &value, fcinfo->context))
		PG_RETURN_NULL();
	PG_RETURN_INT64(value);
}

static Datum
identifier_out(FunctionCallInfo fcinfo, CrmIdKind kind)
{
	char	   *buf = palloc(CRM_ID_MAX_DIGITS + 1);
	CrmIdDigits digits;

	crm_id_get_digits(kind, PG_GETARG_INT64(0), &digits);
	crm_id_digits_text(&digits, buf);
	PG_RETURN_CSTRING(buf);
}

/*
 * Binary input is the int8 wire format.  The value is checked exactly as
 * text input is, so COPY (FORMAT binary) cannot bring in an invalid value.
 */
static Datum
identifier_recv(FunctionCallInfo fcinfo, CrmIdKind kind)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int64		value = pq_getmsgint64(buf);
	CrmIdDigits digits;
	CrmIdError	err;
	char		text[CRM_ID_MAX_DIGITS + 1];

	if (!crm_id_decode(kind, value, &digits))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external value for type %s: " INT64_FORMAT,
						crm_id_name(kind), value),
				 errdetail("The number does not encode a %s.", id_label(kind))));
	if (!crm_id_check(kind, &digits, &err))
	{
		crm_id_digits_text(&digits, text);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid external value for type %s: \"%s\"",
						crm_id_name(kind), text),
				 errdetail("%s", crm_identifier_problem(kind, &err))));
	}
	PG_RETURN_INT64(value);
}

static Datum
identifier_send(FunctionCallInfo fcinfo)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, PG_GETARG_INT64(0));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* is_valid_<type>(text): the parser without raising, for cleaning imports */
static Datum
identifier_is_valid(FunctionCallInfo fcinfo, CrmIdKind kind)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(t);
	const char *utf8 = crm_text_as_utf8(VARDATA_ANY(t), &len);
	CrmIdError	err;
	int64_t		value;

	PG_RETURN_BOOL(crm_id_parse(kind, utf8, len, &value, &err));
}

/* <type>_problem(text): why the text is no valid value, NULL when it is one */
static Datum
identifier_problem(FunctionCallInfo fcinfo, CrmIdKind kind)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(t);
	const char *utf8 = crm_text_as_utf8(VARDATA_ANY(t), &len);
	CrmIdError	err;
	int64_t		value;

	if (crm_id_parse(kind, utf8, len, &value, &err))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(crm_identifier_problem(kind, &err)));
}

#define CRM_ID_SQL_FUNCTIONS(name, kind) \
PG_FUNCTION_INFO_V1(name##_in); \
Datum name##_in(PG_FUNCTION_ARGS) { return identifier_in(fcinfo, kind); } \
PG_FUNCTION_INFO_V1(name##_out); \
Datum name##_out(PG_FUNCTION_ARGS) { return identifier_out(fcinfo, kind); } \
PG_FUNCTION_INFO_V1(name##_recv); \
Datum name##_recv(PG_FUNCTION_ARGS) { return identifier_recv(fcinfo, kind); } \
PG_FUNCTION_INFO_V1(name##_send); \
Datum name##_send(PG_FUNCTION_ARGS) { return identifier_send(fcinfo); } \
PG_FUNCTION_INFO_V1(is_valid_##name); \
Datum is_valid_##name(PG_FUNCTION_ARGS) { return identifier_is_valid(fcinfo, kind); } \
PG_FUNCTION_INFO_V1(name##_problem); \
Datum name##_problem(PG_FUNCTION_ARGS) { return identifier_problem(fcinfo, kind); }

CRM_ID_SQL_FUNCTIONS(pesel, CRM_PESEL)
CRM_ID_SQL_FUNCTIONS(nip, CRM_NIP)
CRM_ID_SQL_FUNCTIONS(regon, CRM_REGON)
