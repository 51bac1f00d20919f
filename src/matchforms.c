/*-------------------------------------------------------------------------
 *
 * matchforms.c
 *	  A client's matching forms (see matchforms.h): its names, city and
 *	  address normalized as namematch.c does it, the first name as the full
 *	  name of a diminutive, the company without its legal form, the
 *	  identifiers as digits, read once from a row of crm.client and kept in
 *	  one allocation, since crm.duplicate_pairs() holds a whole base so.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "identifier.h"
#include "matchforms.h"
#include "namematch.h"
#include "textinput.h"

char *
crm_normalized(const char *str, size_t len, int *outlen)
{
	const char *s = crm_text_as_utf8(str, &len);
	size_t		cap = 4 * Min(len, (size_t) 4096) + 16;
	char	   *out = palloc(cap);
	int			n = crm_name_normalize(s, len, out, cap);

	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("could not transliterate a name"),
				 errdetail("ICU transform \"Any-Latin; Latin-ASCII\" is not available or failed.")));
	*outlen = n;
	return out;
}

/*
 * The position of a column of a client row, checked for its type: rows
 * come from crm.client, whose columns a DBA may alter, or from any caller
 * of crm.match_score(record, record, ...).  Reading a column as the wrong
 * type would read garbage (or crash), so a mismatch is an error.  A text
 * column may also be varchar (the same representation).
 */
static int
column_or_none(TupleDesc desc, const char *name, Oid type, bool required)
{
	for (int k = 0; k < desc->natts; k++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, k);

		if (att->attisdropped || strcmp(NameStr(att->attname), name) != 0)
			continue;
		if (att->atttypid != type && !(type == TEXTOID && att->atttypid == VARCHAROID))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of a client row is of type %s, not %s",
							name, format_type_be(att->atttypid), format_type_be(type)),
					 errhint("Duplicate matching reads rows of crm.client with its original column types.")));
		return k;
	}
	if (!required)
		return -1;
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("a client row has no column \"%s\"", name),
			 errhint("Pass rows of crm.client.")));
	return -1;					/* keep the compiler quiet */
}

static int
column(TupleDesc desc, const char *name, Oid type)
{
	return column_or_none(desc, name, type, true);
}

/*
 * The OIDs of crm's identifier types, looked up once per schema crm: they
 * change only with the extension, which a DROP/CREATE EXTENSION gives a new
 * schema.  crm_match_columns() runs for every candidate search.
 */
typedef struct CrmIdTypes
{
	Oid			schema;
	Oid			pesel,
				nip,
				regon;
} CrmIdTypes;

static Oid
crm_type(Oid schema, const char *name)
{
	Oid			type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(name),
									   ObjectIdGetDatum(schema));

	if (!OidIsValid(type))
		elog(ERROR, "type crm.%s does not exist", name);
	return type;
}

static const CrmIdTypes *
crm_id_types(void)
{
	static CrmIdTypes types;
	Oid			schema = get_namespace_oid("crm", false);

	if (types.schema != schema)
	{
		types.pesel = crm_type(schema, "pesel");
		types.nip = crm_type(schema, "nip");
		types.regon = crm_type(schema, "regon");
		types.schema = schema;
	}
	return &types;
}

void
crm_match_columns(TupleDesc desc, MatchColumns *cols)
{
	const CrmIdTypes *types = crm_id_types();

	cols->id = column(desc, "id", INT8OID);
	cols->kind = column(desc, "kind", TEXTOID);
	cols->first_name = column(desc, "first_name", TEXTOID);
	cols->last_name = column(desc, "last_name", TEXTOID);
	cols->company_name = column(desc, "company_name", TEXTOID);
	cols->city = column(desc, "city", TEXTOID);
	cols->address = column(desc, "address", TEXTOID);
	cols->pesel = column(desc, "pesel", types->pesel);
	cols->nip = column(desc, "nip", types->nip);
	cols->regon = column(desc, "regon", types->regon);
	cols->birth_date = column(desc, "birth_date", DATEOID);
	/* newer than the other columns: a record of crm.match_score may lack it */
	cols->postal_code = column_or_none(desc, "postal_code", TEXTOID, false);
}

/* a text column as a C string in the server encoding, or NULL (also for no column) */
static char *
text_field(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d;

	if (col < 0)
		return NULL;
	d = heap_getattr(tuple, col + 1, desc, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static char *
identifier_field(HeapTuple tuple, TupleDesc desc, int col, CrmIdKind kind)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, col + 1, desc, &isnull);
	CrmIdDigits digits;
	char	   *buf;

	if (isnull)
		return NULL;
	buf = palloc(CRM_ID_MAX_DIGITS + 1);
	crm_id_get_digits(kind, DatumGetInt64(d), &digits);
	crm_id_digits_text(&digits, buf);
	return buf;
}

char *
crm_skeleton(const char *norm)
{
	char	   *out;

	if (norm == NULL)
		return NULL;
	out = palloc(strlen(norm) + 1);
	crm_name_skeleton(norm, out, strlen(norm) + 1);
	return out;
}

char *
crm_first_word_canonical(const char *first_n)
{
	const char *sp = strchr(first_n, ' ');
	char	   *word = sp ? pnstrdup(first_n, sp - first_n) : pstrdup(first_n);
	const char *full = crm_first_name_canonical(word);

	return full ? pstrdup(full) : word;
}

/*
 * An address in matching form split into its numbers and its other words,
 * each in order one space apart: "6 80 heather ct" gives "6 80" and
 * "heather ct" (for address_similar() of scoring.c); NULL, NULL for none.
 */
static void
address_parts(const char *s, char **numbers, char **words)
{
	size_t		len = s ? strlen(s) : 0;
	char	   *nums;
	char	   *rest;
	int			nn = 0;
	int			nw = 0;

	*numbers = *words = NULL;
	if (s == NULL)
		return;
	nums = palloc(len + 1);
	rest = palloc(len + 1);
	while (*s)
	{
		const char *w;
		bool		digits = true;
		char	   *to;
		int		   *n;

		while (*s == ' ')
			s++;
		w = s;
		while (*s && *s != ' ')
		{
			if (*s < '0' || *s > '9')
				digits = false;
			s++;
		}
		if (s == w)
			break;
		to = digits ? nums : rest;
		n = digits ? &nn : &nw;
		if (*n > 0)
			to[(*n)++] = ' ';
		memcpy(to + *n, w, s - w);
		*n += s - w;
	}
	nums[nn] = '\0';
	rest[nw] = '\0';
	*numbers = nums;
	*words = rest;
}

char *
crm_postcode_form(const char *s)
{
	char	   *out;
	int			n = 0;

	if (s == NULL)
		return NULL;
	out = palloc(strlen(s) + 1);
	for (; *s; s++)
		if ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z'))
			out[n++] = *s;
		else if (*s >= 'A' && *s <= 'Z')
			out[n++] = *s - 'A' + 'a';
	out[n] = '\0';
	if (n == 0)
	{
		pfree(out);
		return NULL;
	}
	return out;
}

static char *
normalized_or_null(const char *s)
{
	int			n;

	return s ? crm_normalized(s, strlen(s), &n) : NULL;
}

/*
 * Fill c from a row of crm.client.  Scratch memory comes from the current
 * context; c->buf, the only thing kept, from dest.
 */
void
crm_match_client_from_tuple(MatchClient *c, HeapTuple tuple, TupleDesc desc,
							const MatchColumns *cols, MemoryContext dest)
{
	char	   *f[MF_COUNT];
	char	   *kind = text_field(tuple, desc, cols->kind);
	bool		isnull;
	Datum		d;
	size_t		total = 0;
	char	   *p;

	c->id = DatumGetInt64(heap_getattr(tuple, cols->id + 1, desc, &isnull));
	c->person = kind != NULL && strcmp(kind, "person") == 0;
	c->company = kind != NULL && strcmp(kind, "company") == 0;
	d = heap_getattr(tuple, cols->birth_date + 1, desc, &isnull);
	c->has_birth = !isnull;
	c->birth = isnull ? 0 : DatumGetDateADT(d);

	f[MF_FIRST] = text_field(tuple, desc, cols->first_name);
	f[MF_LAST] = text_field(tuple, desc, cols->last_name);
	f[MF_COMPANY] = text_field(tuple, desc, cols->company_name);
	f[MF_CITY] = text_field(tuple, desc, cols->city);
	f[MF_ADDRESS] = text_field(tuple, desc, cols->address);
	f[MF_FIRST_N] = normalized_or_null(f[MF_FIRST]);
	f[MF_LAST_N] = normalized_or_null(f[MF_LAST]);
	f[MF_FIRST_CANON] = NULL;
	if (f[MF_FIRST_N])
	{
		const char *full = crm_first_name_canonical(f[MF_FIRST_N]);

		f[MF_FIRST_CANON] = full ? pstrdup(full) : f[MF_FIRST_N];
	}
	f[MF_LAST_CANON] = NULL;
	if (f[MF_LAST_N])
	{
		const char *full = crm_first_name_canonical(f[MF_LAST_N]);

		f[MF_LAST_CANON] = full ? pstrdup(full) : f[MF_LAST_N];
	}
	f[MF_COMPANY_N] = normalized_or_null(f[MF_COMPANY]);
	if (f[MF_COMPANY_N])
		f[MF_COMPANY_N][crm_company_strip_legal_form(f[MF_COMPANY_N], strlen(f[MF_COMPANY_N]))] = '\0';
	f[MF_CITY_N] = normalized_or_null(f[MF_CITY]);
	f[MF_ADDRESS_N] = normalized_or_null(f[MF_ADDRESS]);
	if (f[MF_ADDRESS_N])
		f[MF_ADDRESS_N][crm_address_canonical(f[MF_ADDRESS_N], strlen(f[MF_ADDRESS_N]))] = '\0';
	f[MF_LAST_SK] = crm_skeleton(f[MF_LAST_N]);
	f[MF_FIRST_SK] = crm_skeleton(f[MF_FIRST_CANON]);
	f[MF_FIRST1_SK] = f[MF_FIRST_N] ? crm_skeleton(crm_first_word_canonical(f[MF_FIRST_N])) : NULL;
	address_parts(f[MF_ADDRESS_N], &f[MF_ADDRESS_NUMS], &f[MF_ADDRESS_WORDS]);
	f[MF_POSTAL] = text_field(tuple, desc, cols->postal_code);
	f[MF_POSTCODE] = crm_postcode_form(f[MF_POSTAL]);
	f[MF_PESEL] = identifier_field(tuple, desc, cols->pesel, CRM_PESEL);
	f[MF_NIP] = identifier_field(tuple, desc, cols->nip, CRM_NIP);
	f[MF_REGON] = identifier_field(tuple, desc, cols->regon, CRM_REGON);

	/* one allocation for all of it: a whole base is held this way */
	for (int k = 0; k < MF_COUNT; k++)
		if (f[k])
			total += strlen(f[k]) + 1;
	c->buf = p = MemoryContextAlloc(dest, Max(total, 1));
	for (int k = 0; k < MF_COUNT; k++)
	{
		size_t		n;

		if (f[k] == NULL)
		{
			c->off[k] = MF_NULL;
			continue;
		}
		n = strlen(f[k]) + 1;
		memcpy(p, f[k], n);
		c->off[k] = (int32) (p - c->buf);
		p += n;
	}
}

static int
compare_words(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* the words of a matching form in alphabetical order, one space apart */
char *
crm_sorted_words(const char *s, int len)
{
	char	   *copy = pnstrdup(s, len);
	char	  **words = palloc(sizeof(char *) * (len / 2 + 1));
	int			nwords = 0;
	char	   *out = palloc(len + 1);
	int			n = 0;

	for (char *w = strtok(copy, " "); w != NULL; w = strtok(NULL, " "))
		words[nwords++] = w;
	qsort(words, nwords, sizeof(char *), compare_words);
	for (int k = 0; k < nwords; k++)
	{
		if (k > 0)
			out[n++] = ' ';
		memcpy(out + n, words[k], strlen(words[k]));
		n += strlen(words[k]);
	}
	out[n] = '\0';
	pfree(words);
	pfree(copy);
	return out;
}
