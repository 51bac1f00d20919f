/*-------------------------------------------------------------------------
 *
 * clientrow.c
 *	  The light path of an update of crm.client: one that changes only the
 *	  client's assignment (owner, unit_id, synced, language).
 *
 * crm.client's row trigger crm_internal.client_before_write() (PL/pgSQL,
 * src/sql/30_clients.sql) trims the names, keeps the system fields, checks
 * the PESEL against the birth date, recomputes the display name and
 * compares the whole row as JSON for updated_at: some 50 us a row.  An
 * update that changes none of the fields it looks at (a bulk owner change,
 * a move to another unit) needs none of that, only updated_at.  So the
 * table has two update triggers:
 *
 *	 client_before_update		WHEN (NOT crm_internal.client_update_is_light(OLD, NEW))
 *								the PL/pgSQL function, as on insert;
 *	 client_before_update_light	WHEN (crm_internal.client_update_is_light(OLD, NEW))
 *								crm_internal.client_update_light(): updated_at
 *								only, now() if an assignment column changed,
 *								else the old value (as the full trigger would).
 *
 * "Light" is decided by exclusion: every column but the four assignment
 * columns and updated_at must be unchanged (byte for byte, after
 * detoasting), so a column added later gets the full trigger by default.
 *
 * And the plain path of an insert: a client whose row needs nothing but
 * trimming and defaults (see crm_internal.client_insert_plain below).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"
#include "pgcompat.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "datamodel.h"

PG_FUNCTION_INFO_V1(client_update_is_light);
PG_FUNCTION_INFO_V1(client_update_light);
PG_FUNCTION_INFO_V1(client_insert_plain);

/* src/pesel.c */
extern Datum pesel_birth_date(PG_FUNCTION_ARGS);

/* the columns a light update may change; updated_at is the trigger's own */
static bool
is_assignment_column(const char *name)
{
	return strcmp(name, "owner") == 0 || strcmp(name, "unit_id") == 0 ||
		strcmp(name, "synced") == 0 || strcmp(name, "language") == 0;
}

/* whether column i (0-based) holds the same value in both rows */
static bool
same_value(TupleDesc desc, int i, Datum *v1, bool *n1, Datum *v2, bool *n2)
{
	Form_pg_attribute att = TupleDescAttr(desc, i);

	if (n1[i] || n2[i])
		return n1[i] && n2[i];
	return datum_image_eq(v1[i], v2[i], att->attbyval, att->attlen);
}

/*
 * Whether the update from old_row to new_row changes nothing but the
 * assignment columns (and updated_at).  Compares the rows' values as they
 * are stored (a column of another image, even an equal one, counts as
 * changed: the full trigger then decides).
 */
static bool
update_is_light(TupleDesc desc, HeapTuple oldtup, HeapTuple newtup,
				bool *assignment_changed)
{
	int			natts = desc->natts;
	Datum	   *v1 = palloc(natts * sizeof(Datum));
	Datum	   *v2 = palloc(natts * sizeof(Datum));
	bool	   *n1 = palloc(natts * sizeof(bool));
	bool	   *n2 = palloc(natts * sizeof(bool));
	bool		light = true;

	*assignment_changed = false;
	heap_deform_tuple(oldtup, desc, v1, n1);
	heap_deform_tuple(newtup, desc, v2, n2);
	for (int i = 0; i < natts && light; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);

		if (att->attisdropped || strcmp(name, "updated_at") == 0)
			continue;
		if (is_assignment_column(name))
		{
			if (!same_value(desc, i, v1, n1, v2, n2))
				*assignment_changed = true;
		}
		else if (!same_value(desc, i, v1, n1, v2, n2))
			light = false;
	}
	pfree(v1);
	pfree(v2);
	pfree(n1);
	pfree(n2);
	return light;
}

/*
 * crm_internal.client_update_is_light(old record, new record) boolean: the
 * WHEN condition of crm.client's two update triggers.
 */
/* crm.client's row type, as client_update_is_light() last looked it up */
static Oid	client_type = InvalidOid;

Datum
client_update_is_light(PG_FUNCTION_ARGS)
{
	HeapTupleHeader oldh;
	HeapTupleHeader newh;
	Oid			typid;
	int32		typmod;
	TupleDesc	desc;
	HeapTupleData oldtup;
	HeapTupleData newtup;
	bool		assignment_changed;
	bool		light;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	oldh = PG_GETARG_HEAPTUPLEHEADER(0);
	newh = PG_GETARG_HEAPTUPLEHEADER(1);
	typid = HeapTupleHeaderGetTypeId(oldh);
	typmod = HeapTupleHeaderGetTypMod(oldh);
	/*
	 * rows of crm.client only: a row of another type, of the caller's own
	 * making, would be read with columns of types this code does not expect.
	 * The row type is looked up once a session (this runs for every updated
	 * row), again only when a row of another type comes: a model installed
	 * anew has a new type.
	 */
	if (typid != client_type)
		client_type = get_rel_type_id(get_relname_relid("client", get_namespace_oid("crm", false)));
	if (typid != HeapTupleHeaderGetTypeId(newh) || typmod != HeapTupleHeaderGetTypMod(newh) ||
		typid != client_type)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("client_update_is_light compares two rows of crm.client"),
				 errhint("Call it as the WHEN condition of crm.client's update triggers: (OLD, NEW).")));
	desc = lookup_rowtype_tupdesc(typid, typmod);
	oldtup.t_len = HeapTupleHeaderGetDatumLength(oldh);
	ItemPointerSetInvalid(&oldtup.t_self);
	oldtup.t_tableOid = InvalidOid;
	oldtup.t_data = oldh;
	newtup.t_len = HeapTupleHeaderGetDatumLength(newh);
	ItemPointerSetInvalid(&newtup.t_self);
	newtup.t_tableOid = InvalidOid;
	newtup.t_data = newh;
	light = update_is_light(desc, &oldtup, &newtup, &assignment_changed);
	ReleaseTupleDesc(desc);
	PG_RETURN_BOOL(light);
}

/*
 * crm_internal.client_update_light(): trigger BEFORE UPDATE FOR EACH ROW on
 * crm.client, for a light update only (its WHEN condition): updated_at is
 * now() when an assignment column changed, else the old value, as
 * crm_internal.client_before_write() would have set it.  An update that is
 * not light (another trigger changed the row since) is left as it is, for
 * the full trigger.
 */
Datum
client_update_light(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	oldtup;
	HeapTuple	newtup;
	bool		assignment_changed;
	int			updated_at = 0;
	Datum		value;
	bool		isnull = false;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || !TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("client_update_light must be fired before update, for each row")));
	crm_require_trigger_table(RelationGetRelid(trigdata->tg_relation), "client", "client_update_light");
	desc = trigdata->tg_relation->rd_att;
	oldtup = trigdata->tg_trigtuple;
	newtup = trigdata->tg_newtuple;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), "updated_at") == 0)
			updated_at = i + 1;
	}
	if (updated_at == 0 || TupleDescAttr(desc, updated_at - 1)->atttypid != TIMESTAMPTZOID)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("client_update_light needs a column updated_at of type timestamptz"),
				 errdetail("It was fired on table \"%s\".", RelationGetRelationName(trigdata->tg_relation))));
	if (!update_is_light(desc, oldtup, newtup, &assignment_changed))
		return PointerGetDatum(newtup);
	if (assignment_changed)
		value = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	else
		value = heap_getattr(oldtup, updated_at, desc, &isnull);
	return PointerGetDatum(heap_modify_tuple_by_cols(newtup, desc, 1, &updated_at, &value, &isnull));
}

/* the column of crm.client named name (1-based), or an error */
static int
client_column(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i + 1;
	}
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("client_insert_plain needs a column %s", name)));
	return 0;					/* keep the compiler quiet */
}

/* nullif(btrim(value), ''): spaces only, as btrim(text) */
static void
trim_text(Datum *value, bool *isnull)
{
	text	   *t;
	const char *p;
	int			len;
	int			start = 0;

	if (*isnull)
		return;
	t = DatumGetTextPP(*value);
	p = VARDATA_ANY(t);
	len = VARSIZE_ANY_EXHDR(t);
	while (start < len && p[start] == ' ')
		start++;
	while (len > start && p[len - 1] == ' ')
		len--;
	if (len == start)
		*isnull = true;
	else if (start > 0 || len < (int) VARSIZE_ANY_EXHDR(t))
		*value = PointerGetDatum(cstring_to_text_with_len(p + start, len - start));
	else
		*value = PointerGetDatum(t);
}

/*
 * crm_internal.client_insert_plain(): trigger BEFORE INSERT FOR EACH ROW on
 * crm.client for a plain new client, which its WHEN condition picks: not
 * anonymized, with a unit or written without row-level security, with the
 * name its kind needs, and a birth date that is empty or agrees with the
 * PESEL.  Everything else (the refusals, a unit to find, anonymization) is
 * crm_internal.client_before_write()'s, whose insert path this does the
 * rest of, with the same results: the names and address trimmed (empty:
 * null), created_at now() unless given, updated_at created_at unless
 * given, source trimmed or the session's application_name or "sql", the
 * display name "first last" (a company's name) unless given, the birth
 * date the PESEL's.  Measured: 2 us a client where the PL/pgSQL function
 * takes 30 us (doc/working-with-the-base.md).
 */
Datum
client_insert_plain(PG_FUNCTION_ARGS)
{
	static const char *const trimmed[] = {"first_name", "last_name", "company_name", "display_name",
	"city", "postal_code", "address", "external_id", "source"};
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tuple;
	int			natts;
	Datum	   *values;
	bool	   *nulls;
	int			kind,
				first_name,
				last_name,
				company_name,
				display_name,
				source,
				created_at,
				updated_at,
				pesel,
				birth_date;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || !TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("client_insert_plain must be fired before insert, for each row")));
	crm_require_trigger_table(RelationGetRelid(trigdata->tg_relation), "client", "client_insert_plain");
	desc = trigdata->tg_relation->rd_att;
	tuple = trigdata->tg_trigtuple;
	natts = desc->natts;
	values = palloc(natts * sizeof(Datum));
	nulls = palloc(natts * sizeof(bool));
	heap_deform_tuple(tuple, desc, values, nulls);

	for (int k = 0; k < (int) lengthof(trimmed); k++)
	{
		int			i = client_column(desc, trimmed[k]) - 1;

		trim_text(&values[i], &nulls[i]);
	}
	kind = client_column(desc, "kind") - 1;
	first_name = client_column(desc, "first_name") - 1;
	last_name = client_column(desc, "last_name") - 1;
	company_name = client_column(desc, "company_name") - 1;
	display_name = client_column(desc, "display_name") - 1;
	source = client_column(desc, "source") - 1;
	created_at = client_column(desc, "created_at") - 1;
	updated_at = client_column(desc, "updated_at") - 1;
	pesel = client_column(desc, "pesel") - 1;
	birth_date = client_column(desc, "birth_date") - 1;

	if (nulls[created_at])
	{
		values[created_at] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
		nulls[created_at] = false;
	}
	if (nulls[updated_at])
	{
		values[updated_at] = values[created_at];
		nulls[updated_at] = false;
	}
	if (nulls[source])
	{
		const char *app = GetConfigOption("application_name", true, false);

		values[source] = CStringGetTextDatum(app != NULL && app[0] != '\0' ? app : "sql");
		nulls[source] = false;
	}
	if (nulls[display_name])
	{
		bool		company = !nulls[kind] && strcmp(TextDatumGetCString(values[kind]), "company") == 0;

		if (company)
		{
			values[display_name] = values[company_name];
			nulls[display_name] = nulls[company_name];
		}
		else if (!nulls[first_name] || !nulls[last_name])
		{
			/* concat_ws(' ', first_name, last_name) */
			StringInfoData buf;

			initStringInfo(&buf);
			if (!nulls[first_name])
				appendStringInfoString(&buf, TextDatumGetCString(values[first_name]));
			if (!nulls[first_name] && !nulls[last_name])
				appendStringInfoChar(&buf, ' ');
			if (!nulls[last_name])
				appendStringInfoString(&buf, TextDatumGetCString(values[last_name]));
			values[display_name] = CStringGetTextDatum(buf.data);
			nulls[display_name] = false;
		}
		else
		{
			/* concat_ws of two nulls: the empty string */
			values[display_name] = CStringGetTextDatum("");
			nulls[display_name] = false;
		}
	}
	if (!nulls[pesel] && nulls[birth_date])
	{
		values[birth_date] = DirectFunctionCall1(pesel_birth_date, values[pesel]);
		nulls[birth_date] = false;
	}
	return PointerGetDatum(heap_form_tuple(desc, values, nulls));
}
