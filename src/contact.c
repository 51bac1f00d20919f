/*-------------------------------------------------------------------------
 *
 * contact.c
 *	  SQL functions normalizing contact points: crm.normalize_phone,
 *	  crm.normalize_email and their non-raising validity tests.  The rules
 *	  are in contactnorm.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "access/htup_details.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "contactnorm.h"
#include "textinput.h"

static int
phone_errdetail(const CrmPhoneError *e)
{
	switch (e->status)
	{
		case CRM_PHONE_OK:
			break;
		case CRM_PHONE_BAD_ENCODING:
			return crm_errdetail_bad_byte(e->codepoint, e->position);
		case CRM_PHONE_BAD_CHARACTER:
			return errdetail("Character %s at position %d is not allowed in a phone number.",
							 crm_describe_character(e->codepoint), e->position);
		case CRM_PHONE_MISPLACED_PLUS:
			return errdetail("The \"+\" at position %d does not stand before the first digit.",
							 e->position);
		case CRM_PHONE_NO_DIGITS:
			return errdetail("The value contains no digits.");
		case CRM_PHONE_NATIONAL_LENGTH:
			return errdetail_plural("A number without a country prefix is taken as Polish and must have 9 digits, but %d digit was given.",
									"A number without a country prefix is taken as Polish and must have 9 digits, but %d digits were given.",
									e->ndigits, e->ndigits);
		case CRM_PHONE_POLISH_LENGTH:
			return errdetail_plural("A Polish number has 9 digits after the prefix +48, but %d digit was given.",
									"A Polish number has 9 digits after the prefix +48, but %d digits were given.",
									e->ndigits, e->ndigits);
		case CRM_PHONE_BAD_COUNTRY:
			return errdetail("No country code starts with 0.");
		case CRM_PHONE_TOO_SHORT:
			return errdetail("An international number has at least %d digits with its country code, but %d were given.",
							 CRM_PHONE_MIN_DIGITS, e->ndigits);
		case CRM_PHONE_TOO_LONG:
			return errdetail("An international number has at most %d digits with its country code (E.164), but %d were given.",
							 CRM_PHONE_MAX_DIGITS, e->ndigits);
	}
	return 0;
}

static int
phone_errhint(const CrmPhoneError *e)
{
	switch (e->status)
	{
		case CRM_PHONE_BAD_CHARACTER:
		case CRM_PHONE_MISPLACED_PLUS:
			return errhint("Type digits, with spaces, dashes, dots, slashes or parentheses between them, "
						   "and \"+\" or \"00\" before a country prefix.");
		case CRM_PHONE_NATIONAL_LENGTH:
		case CRM_PHONE_BAD_COUNTRY:
			return errhint("Type a foreign number with its country prefix, for example +49 30 1234567.");
		default:
			return 0;
	}
}

static int
email_errdetail(const CrmEmailError *e)
{
	switch (e->status)
	{
		case CRM_EMAIL_OK:
			break;
		case CRM_EMAIL_BAD_ENCODING:
			return crm_errdetail_bad_byte(e->codepoint, e->position);
		case CRM_EMAIL_EMPTY:
			return errdetail("The value is empty.");
		case CRM_EMAIL_TOO_LONG:
			return errdetail("An e-mail address has at most %d bytes, but this one has %d.",
							 CRM_EMAIL_MAX_LENGTH, e->length);
		case CRM_EMAIL_NO_AT:
			return errdetail("The address has no \"@\".");
		case CRM_EMAIL_MANY_AT:
			return errdetail("The \"@\" at position %d is a second one.", e->position);
		case CRM_EMAIL_BAD_CHARACTER:
			return errdetail("Character %s at position %d is not allowed in an e-mail address.",
							 crm_describe_character(e->codepoint), e->position);
		case CRM_EMAIL_LOCAL_EMPTY:
			return errdetail("Nothing stands before the \"@\".");
		case CRM_EMAIL_LOCAL_TOO_LONG:
			return errdetail("The part before the \"@\" has at most %d bytes, but this one has %d.",
							 CRM_EMAIL_MAX_LOCAL, e->length);
		case CRM_EMAIL_LOCAL_DOTS:
			return errdetail("The dot at position %d starts or ends the part before the \"@\", or follows another dot.",
							 e->position);
		case CRM_EMAIL_DOMAIN_EMPTY:
			return errdetail("Nothing stands after the \"@\".");
		case CRM_EMAIL_DOMAIN_NO_DOT:
			return errdetail("The domain after the \"@\" has no dot.");
		case CRM_EMAIL_LABEL_EMPTY:
			return errdetail("The domain has an empty part at position %d.", e->position);
		case CRM_EMAIL_LABEL_TOO_LONG:
			return errdetail("The part of the domain at position %d has %d bytes; at most %d are allowed.",
							 e->position, e->length, CRM_EMAIL_MAX_LABEL);
		case CRM_EMAIL_LABEL_HYPHEN:
			return errdetail("The hyphen at position %d starts or ends a part of the domain.",
							 e->position);
		case CRM_EMAIL_TLD_NUMERIC:
			return errdetail("The last part of the domain, at position %d, is a number.", e->position);
	}
	return 0;
}

static bool
phone_parse(text *t, char *out, CrmPhoneError *err)
{
	size_t		len = VARSIZE_ANY_EXHDR(t);
	const char *utf8 = crm_text_as_utf8(VARDATA_ANY(t), &len);

	return crm_phone_normalize(utf8, len, out, err);
}

static bool
email_parse(text *t, char *out, CrmEmailError *err)
{
	size_t		len = VARSIZE_ANY_EXHDR(t);
	const char *utf8 = crm_text_as_utf8(VARDATA_ANY(t), &len);

	return crm_email_normalize(utf8, len, out, err);
}

PG_FUNCTION_INFO_V1(normalize_phone);
Datum
normalize_phone(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char		out[CRM_PHONE_BUFSIZE];
	CrmPhoneError err;

	if (!phone_parse(t, out, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid phone number: \"%s\"", text_to_cstring(t)),
				 phone_errdetail(&err),
				 phone_errhint(&err)));
	PG_RETURN_TEXT_P(cstring_to_text(out));
}

PG_FUNCTION_INFO_V1(is_valid_phone);
Datum
is_valid_phone(PG_FUNCTION_ARGS)
{
	char		out[CRM_PHONE_BUFSIZE];
	CrmPhoneError err;

	PG_RETURN_BOOL(phone_parse(PG_GETARG_TEXT_PP(0), out, &err));
}

PG_FUNCTION_INFO_V1(normalize_email);
Datum
normalize_email(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char		out[CRM_EMAIL_BUFSIZE];
	CrmEmailError err;

	if (!email_parse(t, out, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid e-mail address: \"%s\"", text_to_cstring(t)),
				 email_errdetail(&err)));
	PG_RETURN_TEXT_P(cstring_to_text(crm_utf8_to_server(out)));
}

PG_FUNCTION_INFO_V1(is_valid_email);
Datum
is_valid_email(PG_FUNCTION_ARGS)
{
	char		out[CRM_EMAIL_BUFSIZE];
	CrmEmailError err;

	PG_RETURN_BOOL(email_parse(PG_GETARG_TEXT_PP(0), out, &err));
}

/*
 * crm_internal.contact_normalize(): BEFORE INSERT OR UPDATE OF value, kind
 * row trigger on crm.contact.  Writes the value in its normal form (E.164
 * for a phone, the domain lower-cased for an e-mail), raising the same
 * errors as crm.normalize_phone() and crm.normalize_email().  In C because it
 * runs once per row: a bulk INSERT of a million contacts pays it a million
 * times (bench/bulk_contacts.sh); the default bookkeeping is per statement
 * (crm_internal.contact_after_statement() in src/sql/35_contacts.sql).
 */
PG_FUNCTION_INFO_V1(contact_normalize);
Datum
contact_normalize(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	int			kind_att;
	int			value_att;
	bool		isnull;
	Datum		kind;
	Datum		value;
	Datum		normal;
	char	   *kind_str;
	bool		replace = true;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		elog(ERROR, "contact_normalize: not called as a BEFORE INSERT or UPDATE row trigger");

	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	tupdesc = trigdata->tg_relation->rd_att;
	kind_att = SPI_fnumber(tupdesc, "kind");
	value_att = SPI_fnumber(tupdesc, "value");
	if (kind_att <= 0 || value_att <= 0)
		elog(ERROR, "contact_normalize: table %s has no columns kind and value",
			 RelationGetRelationName(trigdata->tg_relation));

	kind = heap_getattr(tuple, kind_att, tupdesc, &isnull);
	if (isnull)
		return PointerGetDatum(tuple);	/* NOT NULL refuses it */
	value = heap_getattr(tuple, value_att, tupdesc, &isnull);
	if (isnull)
		return PointerGetDatum(tuple);

	kind_str = TextDatumGetCString(kind);
	if (strcmp(kind_str, "phone") == 0)
		normal = DirectFunctionCall1(normalize_phone, value);
	else if (strcmp(kind_str, "email") == 0)
		normal = DirectFunctionCall1(normalize_email, value);
	else
		replace = false;		/* the CHECK on kind refuses it */

	if (replace)
	{
		bool		nulls[1] = {false};
		int			cols[1] = {value_att};

		tuple = heap_modify_tuple_by_cols(tuple, tupdesc, 1, cols, &normal, nulls);
	}
	return PointerGetDatum(tuple);
}
