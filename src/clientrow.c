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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/datum.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(client_update_is_light);
PG_FUNCTION_INFO_V1(client_update_light);

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
	if (typid != HeapTupleHeaderGetTypeId(newh) || typmod != HeapTupleHeaderGetTypMod(newh))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("client_update_is_light compares two rows of one table"),
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
