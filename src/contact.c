/*-------------------------------------------------------------------------
 *
 * contact.c
 *	  SQL functions normalizing contact points: crm.normalize_phone,
 *	  crm.normalize_email, their non-raising validity tests and the
 *	  problem texts (crm.phone_problem, crm.email_problem).  The rules are
 *	  in contactnorm.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"
#include "pgcompat.h"

#include "fmgr.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "contact.h"
#include "datamodel.h"
#include "textinput.h"

/* "7, 9 or 10" */
static char *
lengths_text(uint32_t lengths)
{
	StringInfoData buf;
	int			count = 0;
	int			seen = 0;

	for (int n = 0; n < 32; n++)
		count += (lengths >> n) & 1;
	initStringInfo(&buf);
	for (int n = 0; n < 32; n++)
	{
		if (((lengths >> n) & 1) == 0)
			continue;
		seen++;
		if (seen > 1)
			appendStringInfoString(&buf, seen == count ? " or " : ", ");
		appendStringInfo(&buf, "%d", n);
	}
	return buf.data;
}

/* "+9, +99 or +999": the codes tried, from the first digits */
static char *
codes_tried_text(int digits, int ndigits)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int k = 1; k <= ndigits; k++)
	{
		int			code = digits;

		for (int j = k; j < ndigits; j++)
			code /= 10;
		if (k > 1)
			appendStringInfoString(&buf, k == ndigits ? " or " : ", ");
		appendStringInfo(&buf, "+%d", code);
	}
	return buf.data;
}

/*
 * Why a phone number is invalid: the DETAIL of crm.normalize_phone's error
 * and the value of crm.phone_problem.
 */
char *
crm_phone_problem(const CrmPhoneError *e)
{
	switch (e->status)
	{
		case CRM_PHONE_OK:
			break;
		case CRM_PHONE_BAD_ENCODING:
			return crm_bad_byte_problem(e->codepoint, e->position);
		case CRM_PHONE_BAD_CHARACTER:
			return psprintf("Character %s at position %d is not allowed in a phone number.",
							crm_describe_character(e->codepoint), e->position);
		case CRM_PHONE_MISPLACED_PLUS:
			return psprintf("The \"+\" at position %d does not stand before the first digit.",
							e->position);
		case CRM_PHONE_NO_DIGITS:
			return pstrdup("The value contains no digits.");
		case CRM_PHONE_NATIONAL_LENGTH:
			return psprintf("A number without a country prefix is taken as Polish and must have 9 digits, but %d %s given.",
							e->ndigits, e->ndigits == 1 ? "digit was" : "digits were");
		case CRM_PHONE_POLISH_LENGTH:
			return psprintf("A Polish number has 9 digits after the prefix +48, but %d %s given.",
							e->ndigits, e->ndigits == 1 ? "digit was" : "digits were");
		case CRM_PHONE_BAD_COUNTRY:
			return pstrdup("No country code starts with 0.");
		case CRM_PHONE_UNKNOWN_COUNTRY:
			return psprintf("Unknown country calling code: no country's code is %s.",
							codes_tried_text(e->country, e->ndigits));
		case CRM_PHONE_TOO_LONG:
			return psprintf("An international number has at most %d digits with its country code (E.164), but %d were given.",
							CRM_PHONE_MAX_DIGITS, e->ndigits);
		case CRM_PHONE_COUNTRY_LENGTH:
			return psprintf("Length not possible for country +%d: a number there has %s digits after the country code, but %d %s given.",
							e->country, lengths_text(e->lengths), e->ndigits,
							e->ndigits == 1 ? "was" : "were");
	}
	return NULL;
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
		case CRM_PHONE_UNKNOWN_COUNTRY:
			return errhint("Type a foreign number with its country prefix, for example +49 30 1234567.");
		default:
			return 0;
	}
}

/*
 * Why an e-mail address is invalid: the DETAIL of crm.normalize_email's
 * error and the value of crm.email_problem.
 */
char *
crm_email_problem(const CrmEmailError *e)
{
	switch (e->status)
	{
		case CRM_EMAIL_OK:
			break;
		case CRM_EMAIL_BAD_ENCODING:
			return crm_bad_byte_problem(e->codepoint, e->position);
		case CRM_EMAIL_EMPTY:
			return pstrdup("The value is empty.");
		case CRM_EMAIL_TOO_LONG:
			return psprintf("An e-mail address has at most %d bytes, but this one has %d.",
							CRM_EMAIL_MAX_LENGTH, e->length);
		case CRM_EMAIL_NO_AT:
			return pstrdup("The address has no \"@\".");
		case CRM_EMAIL_MANY_AT:
			return psprintf("The \"@\" at position %d is a second one.", e->position);
		case CRM_EMAIL_BAD_CHARACTER:
			return psprintf("Character %s at position %d is not allowed in an e-mail address.",
							crm_describe_character(e->codepoint), e->position);
		case CRM_EMAIL_LOCAL_EMPTY:
			return pstrdup("Nothing stands before the \"@\".");
		case CRM_EMAIL_LOCAL_TOO_LONG:
			return psprintf("The part before the \"@\" has at most %d bytes, but this one has %d.",
							CRM_EMAIL_MAX_LOCAL, e->length);
		case CRM_EMAIL_LOCAL_DOTS:
			return psprintf("The dot at position %d starts or ends the part before the \"@\", or follows another dot.",
							e->position);
		case CRM_EMAIL_DOMAIN_EMPTY:
			return pstrdup("Nothing stands after the \"@\".");
		case CRM_EMAIL_DOMAIN_NO_DOT:
			return pstrdup("The domain after the \"@\" has no dot.");
		case CRM_EMAIL_LABEL_EMPTY:
			return psprintf("The domain has an empty part at position %d.", e->position);
		case CRM_EMAIL_LABEL_TOO_LONG:
			return psprintf("The part of the domain at position %d has %d bytes; at most %d are allowed.",
							e->position, e->length, CRM_EMAIL_MAX_LABEL);
		case CRM_EMAIL_LABEL_HYPHEN:
			return psprintf("The hyphen at position %d starts or ends a part of the domain.",
							e->position);
		case CRM_EMAIL_TLD_NUMERIC:
			return psprintf("The last part of the domain, at position %d, is a number.", e->position);
	}
	return NULL;
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
				 errdetail("%s", crm_phone_problem(&err)),
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
				 errdetail("%s", crm_email_problem(&err))));
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

/* <kind>_problem(text): why the value is invalid, NULL when it is valid */
PG_FUNCTION_INFO_V1(phone_problem);
Datum
phone_problem(PG_FUNCTION_ARGS)
{
	char		out[CRM_PHONE_BUFSIZE];
	CrmPhoneError err;

	if (phone_parse(PG_GETARG_TEXT_PP(0), out, &err))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(crm_phone_problem(&err)));
}

PG_FUNCTION_INFO_V1(email_problem);
Datum
email_problem(PG_FUNCTION_ARGS)
{
	char		out[CRM_EMAIL_BUFSIZE];
	CrmEmailError err;

	if (email_parse(PG_GETARG_TEXT_PP(0), out, &err))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(crm_email_problem(&err)));
}

/*
 * The first default of a client's phones or e-mails, set on the row as it is
 * inserted (no row written twice).  Per statement (the trigger's fn_extra
 * lives as long as the statement's executor state) the pairs (client, kind)
 * already decided: the first row of a pair decides it.
 */
typedef struct ContactPair
{
	int64		client_id;
	int64		kind;			/* 0 phone, 1 e-mail */
} ContactPair;

typedef struct ContactStatement
{
	HTAB	   *pairs;			/* ContactPair, decided in this statement */
	Oid			default_index;	/* contact_one_default: the defaults only */
	Oid			client_rel;		/* crm.client */
	Oid			client_pkey;	/* client_pkey */
	AttrNumber	client_id_att;	/* crm.client.id */
	int			id_att;
	int			client_att;
	int			default_att;
	bool		usable;			/* all of the above found */
} ContactStatement;

static ContactStatement *
contact_statement(FunctionCallInfo fcinfo, Relation rel)
{
	ContactStatement *st = (ContactStatement *) fcinfo->flinfo->fn_extra;
	Oid			nsp;
	HASHCTL		ctl;

	if (st != NULL)
		return st;
	st = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ContactStatement));
	nsp = RelationGetNamespace(rel);
	st->id_att = SPI_fnumber(rel->rd_att, "id");
	st->client_att = SPI_fnumber(rel->rd_att, "client_id");
	st->default_att = SPI_fnumber(rel->rd_att, "is_default");
	st->default_index = get_relname_relid("contact_one_default", nsp);
	st->client_rel = get_relname_relid("client", nsp);
	st->client_pkey = get_relname_relid("client_pkey", nsp);
	st->client_id_att = OidIsValid(st->client_rel) ? get_attnum(st->client_rel, "id") : InvalidAttrNumber;
	st->usable = st->id_att > 0 && st->client_att > 0 && st->default_att > 0 &&
		OidIsValid(st->default_index) && OidIsValid(st->client_pkey) &&
		st->client_id_att != InvalidAttrNumber;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(ContactPair);
	ctl.entrysize = sizeof(ContactPair);
	ctl.hcxt = fcinfo->flinfo->fn_mcxt;
	st->pairs = hash_create("crm contact pairs", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	fcinfo->flinfo->fn_extra = st;
	return st;
}

/*
 * Lock the client's crm.client row (FOR NO KEY UPDATE, as every writer of
 * a client's defaults does): false when it is not there or, without wait,
 * when another transaction holds it.  The INSERT row trigger does not wait
 * (contact_normalize): it neither stalls on nor tells of a client the
 * writer may not see, since a row that row-level security then refuses
 * ends the statement, and the lock.  A row arriving as a default waits
 * (contact_lock_client), once its WHEN clause found that the writer sees
 * the client.
 */
static bool
contact_lock_client_row(ContactStatement *st, int64 client_id, bool wait)
{
	Relation	crel;
	Snapshot	snap;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	ItemPointerData tid;
	bool		found;
	bool		locked = false;

	/*
	 * (REPEATABLE READ and SERIALIZABLE: the version the transaction's
	 * snapshot sees, and a client updated since is a serialization failure,
	 * as SELECT ... FOR NO KEY UPDATE has it; READ COMMITTED: the newest
	 * version)
	 */
	bool		xact_snapshot = IsolationUsesXactSnapshot();

	crel = table_open(st->client_rel, RowShareLock);
	snap = RegisterSnapshot(xact_snapshot ? GetTransactionSnapshot() : GetLatestSnapshot());
	ScanKeyInit(&key, st->client_id_att, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(client_id));
	scan = systable_beginscan(crel, st->client_pkey, true, snap, 1, &key);
	tup = systable_getnext(scan);
	found = HeapTupleIsValid(tup);
	if (found)
	{
		tid = tup->t_self;

		/*
		 * A version this transaction wrote (a client it inserted, as an
		 * import does a million times, or updated): no other transaction
		 * sees the client's newest version, or it waits for this one as
		 * for a lock, so nobody else writes its defaults meanwhile; the
		 * lock, a write of the client's row, is not needed.
		 */
		if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
			locked = true;
	}
	systable_endscan(scan);
	if (found && !locked)
	{
		TupleTableSlot *slot = table_slot_create(crel, NULL);
		TM_FailureData tmfd;
		TM_Result	res;

		res = table_tuple_lock(crel, &tid, snap, slot, GetCurrentCommandId(true),
							   LockTupleNoKeyExclusive, wait ? LockWaitBlock : LockWaitSkip,
							   xact_snapshot ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &tmfd);
		locked = (res == TM_Ok);
		ExecDropSingleTupleTableSlot(slot);
		if (wait && xact_snapshot && (res == TM_Updated || res == TM_Deleted))
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent update"),
					 errdetail("Client %lld was changed by another transaction while its contacts were written.",
							   (long long) client_id)));
	}
	UnregisterSnapshot(snap);
	table_close(crel, NoLock);
	return locked;
}

/* whether the client has a default of the kind (latest snapshot: call it with the client locked) */
static bool
contact_has_default(ContactStatement *st, Relation rel, int64 client_id, Datum kind, int kind_att)
{
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&keys[0], st->client_att, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(client_id));
	ScanKeyEntryInitialize(&keys[1], 0, kind_att, BTEqualStrategyNumber, InvalidOid,
						   TupleDescAttr(rel->rd_att, kind_att - 1)->attcollation,
						   F_TEXTEQ, kind);
	scan = systable_beginscan(rel, st->default_index, true, snap, 2, keys);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, st->default_att, rel->rd_att, &isnull);

		found = !isnull && DatumGetBool(d);
	}
	systable_endscan(scan);
	UnregisterSnapshot(snap);
	return found;
}

/*
 * crm_internal.contact_normalize(): BEFORE INSERT OR UPDATE OF value, kind
 * row trigger on crm.contact.  Writes the value in its normal form (E.164
 * for a phone, the domain lower-cased for an e-mail), raising the same
 * errors as crm.normalize_phone() and crm.normalize_email().  In C because it
 * runs once per row: a bulk INSERT of a million contacts pays it a million
 * times (bench/bulk_contacts.sh); the rest of the default bookkeeping is per
 * statement (crm_internal.contact_after_statement() in src/sql/35_contacts.sql).
 *
 * On INSERT it also gives a client its first default: the first row of the
 * statement for a client and kind, when it is not a default itself, locks
 * the client (without waiting, see contact_try_lock_client) and, if the
 * client then has no default of the kind (latest snapshot: no other writer
 * can add one while the lock is held), is inserted as the default.  When the
 * lock is busy the row stays as it is and the statement trigger, which
 * waits for the lock, gives the default.
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
	int			kind_no;
	Datum		new_values[2];
	bool		new_nulls[2] = {false, false};
	int			new_cols[2];
	int			ncols = 0;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		elog(ERROR, "contact_normalize: not called as a BEFORE INSERT or UPDATE row trigger");
	crm_require_trigger_table(RelationGetRelid(trigdata->tg_relation), "contact", "contact_normalize");

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
	{
		normal = DirectFunctionCall1(normalize_phone, value);
		kind_no = 0;
	}
	else if (strcmp(kind_str, "email") == 0)
	{
		normal = DirectFunctionCall1(normalize_email, value);
		kind_no = 1;
	}
	else
		return PointerGetDatum(tuple);	/* the CHECK on kind refuses it */

	new_cols[ncols] = value_att;
	new_values[ncols++] = normal;

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		ContactStatement *st = contact_statement(fcinfo, trigdata->tg_relation);
		Datum		client = heap_getattr(tuple, st->client_att, tupdesc, &isnull);

		if (st->usable && !isnull)
		{
			ContactPair pair;
			bool		seen;
			Datum		is_default = heap_getattr(tuple, st->default_att, tupdesc, &isnull);

			memset(&pair, 0, sizeof(pair));
			pair.client_id = DatumGetInt64(client);
			pair.kind = kind_no;
			hash_search(st->pairs, &pair, HASH_ENTER, &seen);
			if (!seen && !isnull && !DatumGetBool(is_default) &&
				contact_lock_client_row(st, pair.client_id, false) &&
				!contact_has_default(st, trigdata->tg_relation, pair.client_id, kind, kind_att))
			{
				new_cols[ncols] = st->default_att;
				new_values[ncols++] = BoolGetDatum(true);
			}
		}
	}

	if (ncols > 0)
		tuple = heap_modify_tuple_by_cols(tuple, tupdesc, ncols, new_cols, new_values, new_nulls);
	return PointerGetDatum(tuple);
}

/*
 * crm_internal.contact_lock_client(): BEFORE INSERT or UPDATE row trigger on
 * crm.contact, for a row arriving as a default (the WHEN clauses of
 * contact_insert_default and contact_update_default, src/sql/35_contacts.sql):
 * locks its client's row, waiting for another writer of the client's
 * defaults, before the row is written.  Two sessions each writing a default
 * of one client would otherwise deadlock, the first's commit-time check of
 * the exclusion constraint waiting for the second's row while the second
 * waits for the first's lock.  In C, as the row's own step: the lock is the
 * trigger's, whatever the writer's rights on crm.client (it writes the
 * client's contacts, and the client's defaults are the client's); in
 * PL/pgSQL it was a SECURITY DEFINER call a row, 2 of the 4 s of an UPDATE
 * choosing 50,000 clients' defaults (bench/bulk_contacts.sh).
 */
PG_FUNCTION_INFO_V1(contact_lock_client);
Datum
contact_lock_client(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;
	ContactStatement *st;
	Datum		client;
	bool		isnull;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		elog(ERROR, "contact_lock_client: not called as a BEFORE INSERT or UPDATE row trigger");
	crm_require_trigger_table(RelationGetRelid(trigdata->tg_relation), "contact", "contact_lock_client");
	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	st = contact_statement(fcinfo, trigdata->tg_relation);
	client = heap_getattr(tuple, st->client_att, trigdata->tg_relation->rd_att, &isnull);
	/* a client not there: the foreign key refuses the row */
	if (st->usable && !isnull)
		(void) contact_lock_client_row(st, DatumGetInt64(client), true);
	return PointerGetDatum(tuple);
}

/*
 * crm_internal.writer_sees_client(client_id bigint) RETURNS boolean: whether
 * the role writing a contact sees its client, with its own rights and
 * row-level security (a plain read that never waits for a lock), for the
 * WHEN clauses above.  A writer without row-level security on crm.contact
 * (its owner, a role with its rights, before crm.enable_row_security())
 * writes for any client, and may not read crm.client at all: true, with no
 * query.
 */
#define Q_SEES_CLIENT \
	"SELECT EXISTS (SELECT FROM crm.client c WHERE c.id OPERATOR(pg_catalog.=) $1)"

PG_FUNCTION_INFO_V1(writer_sees_client);
Datum
writer_sees_client(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	Oid			nsp = get_namespace_oid("crm", false);
	Oid			contact = get_relname_relid("contact", nsp);
	Datum		arg = PG_GETARG_DATUM(0);
	bool		isnull;
	bool		sees;

	if (!OidIsValid(contact) || check_enable_rls(contact, InvalidOid, true) != RLS_ENABLED)
		PG_RETURN_BOOL(true);
	SPI_connect();
	if (SPI_execute_plan(crm_kept_plan(&plan, Q_SEES_CLIENT, 1, (Oid[]) {INT8OID}, 0), &arg, NULL, true, 1) !=
		SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read crm.client");
	sees = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	PG_RETURN_BOOL(!isnull && sees);
}

/*
 * The statement trigger's own writes: while crm_internal.contact_after_statement()
 * clears or sets defaults with its own UPDATE, the statement trigger that
 * UPDATE fires (one trigger level deeper) has nothing to do: the clients are
 * locked and the rows it wrote leave one default per client and kind.  The
 * depth of that level is kept here, in the backend, where no role can set it
 * (crm_internal.contact_own_write is the trigger's owner's only), and is
 * forgotten when a transaction or subtransaction aborts.
 */
static int	contact_own_depth = 0;
static bool contact_callbacks = false;

static void
contact_xact_callback(XactEvent event, void *arg)
{
	contact_own_depth = 0;
}

static void
contact_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		contact_own_depth = 0;
}

/*
 * crm_internal.contact_own_write(depth integer) RETURNS integer: sets the
 * trigger depth whose contact statement triggers are the bookkeeping's own
 * (0: none) and returns the one set before; with NULL, only returns it.
 */
PG_FUNCTION_INFO_V1(contact_own_write);
Datum
contact_own_write(PG_FUNCTION_ARGS)
{
	int			previous = contact_own_depth;

	if (!PG_ARGISNULL(0))
	{
		if (!contact_callbacks)
		{
			RegisterXactCallback(contact_xact_callback, NULL);
			RegisterSubXactCallback(contact_subxact_callback, NULL);
			contact_callbacks = true;
		}
		contact_own_depth = PG_GETARG_INT32(0);
	}
	PG_RETURN_INT32(previous);
}
