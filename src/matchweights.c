/*-------------------------------------------------------------------------
 *
 * matchweights.c
 *	  The weights of duplicate evidence (see doc/duplicates.md): the
 *	  defaults, a site's own from crm.match_weight, and weights passed as
 *	  jsonb.  And their SQL face:
 *	    crm.match_weight_defaults() -> (evidence, weight, description)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "datamodel.h"
#include "matchweights.h"

/*
 * Each kind of evidence, in the order of MatchEvidence: its name, its
 * default weight (log2 of m/u, see doc/duplicates.md) and what it means.
 * crm.match_weight_defaults() lists this; crm.match_weight overrides it.
 */
static const struct
{
	const char *name;
	double		weight;
	const char *description;
}			evidence[] = {
	{"prior", -9, "log2 of the prior odds that two clients sharing a blocking key are one"},
	{"pesel", 12, "same PESEL"},
	{"pesel_typo", 6, "PESELs one typo apart"},
	{"pesel_differ", -10, "different PESELs"},
	{"nip", 12, "same NIP"},
	{"nip_typo", 6, "NIPs one typo apart"},
	{"nip_differ", -10, "different NIPs"},
	{"regon", 10, "same REGON (a 14-digit local unit agrees with its 9-digit unit)"},
	{"regon_typo", 5, "REGONs one typo apart"},
	{"regon_differ", -8, "different REGONs"},
	{"phone", 7, "a phone number in common"},
	{"email", 8, "an e-mail address in common"},
	{"last_name", 4, "same last name (matching form)"},
	{"last_name_spelling", 4, "last names spelled another way: the same skeleton (transliterations of one Cyrillic name: Ovcharyk ~ Owczaryk)"},
	{"last_name_similar", 2, "last names with Jaro-Winkler similarity of 0.9 or more, or of four letters or more and one typo apart (Chen ~ Chan)"},
	{"last_name_gender", 0, "last names in the two gender forms (-ski/-ska): neutral, counts only with other evidence"},
	{"last_name_differ", -5, "different last names"},
	{"names_swapped", 6, "first and last name swapped, or the same name words in another order with more on one side (Halyna Oliferska ~ Oliferska Halyna Jurijiwna)"},
	{"first_name", 3, "same first name, diminutives counted as the full name"},
	{"first_name_spelling", 3, "first names spelled another way (the same skeleton: Mykhailo ~ Michajło), or a second name on one side (Oksana ~ Oksana Petrivna)"},
	{"first_name_similar", 1, "first names with similarity of 0.9 or more, one typo apart, an initial for the name (J. ~ James), or with the same consonants in their skeletons, three or more (the forms of one name in two languages: Alaksandr ~ Aleksander)"},
	{"first_name_differ", -7, "different first names (a spouse, a parent, a child: a strong sign of another person)"},
	{"company", 6, "same company name without legal form"},
	{"company_similar", 3, "company names with similarity of 0.92 or more"},
	{"company_differ", -5, "different company names"},
	{"birth_date", 5, "same birth date (when not both have a PESEL)"},
	{"birth_date_close", 2, "birth dates one typing mistake apart: day and month swapped, two neighbouring digits swapped, or one digit different (when not both have a PESEL)"},
	{"birth_date_differ", -6, "different birth dates (when not both have a PESEL)"},
	{"city", 1, "same city"},
	{"city_similar", 0.5, "cities of four letters or more one typo apart (Sopot ~ Spot)"},
	{"city_differ", -1, "different cities"},
	{"postcode", 1.5, "same postal code (letters and digits compared: 22-276 ~ 22276); the city then counts no more"},
	{"postcode_close", 0.5, "postal codes one typo apart"},
	{"postcode_differ", -0.5, "different postal codes"},
	{"address", 3, "same address (street types one way: Avenue ~ Ave, ulica ~ ul.)"},
	{"address_similar", 2, "addresses with the same house numbers (or one's among the other's: a flat number on one side) and street words at most two typos apart"},
};

StaticAssertDecl(lengthof(evidence) == EV_COUNT, "one entry for each kind of evidence");

/*
 * The comparisons scoring.c makes, each with its levels: the kinds of
 * evidence it may find for a pair, at most one (or none).  A new kind of
 * evidence goes into the comparison that finds it (the training checks
 * that every kind is in exactly one).  Names swapped is a level of the
 * last name: a pair with swapped names has no first-name comparison.
 */
const MatchComparison crm_match_comparisons[] = {
	{"pesel", {EV_PESEL, EV_PESEL_TYPO, EV_PESEL_DIFFER}},
	{"nip", {EV_NIP, EV_NIP_TYPO, EV_NIP_DIFFER}},
	{"regon", {EV_REGON, EV_REGON_TYPO, EV_REGON_DIFFER}},
	{"phone", {EV_PHONE}},
	{"email", {EV_EMAIL}},
	{"last_name", {EV_LAST_NAME, EV_LAST_NAME_SPELLING, EV_NAMES_SWAPPED, EV_LAST_NAME_GENDER,
	EV_LAST_NAME_SIMILAR, EV_LAST_NAME_DIFFER}},
	{"first_name", {EV_FIRST_NAME, EV_FIRST_NAME_SPELLING, EV_FIRST_NAME_SIMILAR, EV_FIRST_NAME_DIFFER}},
	{"company", {EV_COMPANY, EV_COMPANY_SIMILAR, EV_COMPANY_DIFFER}},
	{"birth_date", {EV_BIRTH_DATE, EV_BIRTH_DATE_CLOSE, EV_BIRTH_DATE_DIFFER}},
	/* a shared postal code stands for the city (scoring.c) */
	{"location", {EV_POSTCODE, EV_CITY, EV_CITY_SIMILAR, EV_CITY_DIFFER}},
	{"postcode", {EV_POSTCODE_CLOSE, EV_POSTCODE_DIFFER}},
	{"address", {EV_ADDRESS, EV_ADDRESS_SIMILAR}},
};

const int	crm_match_ncomparisons = lengthof(crm_match_comparisons);

const char *
crm_match_evidence_name(MatchEvidence ev)
{
	Assert(ev >= 0 && ev < EV_COUNT);
	return evidence[ev].name;
}

double
crm_match_evidence_default(MatchEvidence ev)
{
	Assert(ev >= 0 && ev < EV_COUNT);
	return evidence[ev].weight;
}

/*
 * The weights in use (SPI connected): the site's own from crm.match_weight
 * (pinned), else the trained one from crm.match_weight_trained
 * (crm.train_match_weights()), else the default; as the view
 * crm.match_weights_in_use shows them.
 */
/* trained first, pinned after: the pinned weight wins */
#define Q_WEIGHTS \
	"SELECT t.evidence, t.weight, 1 FROM crm.match_weight_trained t " \
	"UNION ALL SELECT w.evidence, w.weight, 2 FROM crm.match_weight w ORDER BY 3"

static SPIPlanPtr weights_plan;

void
crm_match_weights_load(MatchWeights *weights)
{
	for (int k = 0; k < EV_COUNT; k++)
		weights->w[k] = evidence[k].weight;
	/*
	 * Read on every call (a weight changed in this transaction counts at
	 * once), with a plan prepared once per session: parsing and planning it
	 * on every call was most of its cost in the check on save.
	 */
	if (SPI_execute_plan(crm_kept_plan(&weights_plan, Q_WEIGHTS, 0, NULL, 0), NULL, NULL, true, 0) !=
		SPI_OK_SELECT)
		elog(ERROR, "could not read crm.match_weight and crm.match_weight_trained");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		char	   *name = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
		double		w = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));

		/*
		 * crm_internal.match_weight_check refuses unknown names: skip any
		 * left over (a kind of evidence a later version dropped)
		 */
		for (int k = 0; k < EV_COUNT; k++)
			if (strcmp(evidence[k].name, name) == 0)
				weights->w[k] = w;
	}
	SPI_freetuptable(SPI_tuptable);
}

PG_FUNCTION_INFO_V1(match_weight_defaults);
Datum
match_weight_defaults(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int k = 0; k < EV_COUNT; k++)
	{
		Datum		values[3] = {CStringGetTextDatum(evidence[k].name), Float8GetDatum(evidence[k].weight),
		CStringGetTextDatum(evidence[k].description)};
		bool		nulls[3] = {false, false, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

void
crm_match_weights_from_jsonb(MatchWeights *weights, Jsonb *json)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken r;
	int			current = -1;

	memset(weights, 0, sizeof(*weights));
	if (!JB_ROOT_IS_OBJECT(json))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("duplicate weights must be a JSON object"),
				 errhint("Pass crm.match_weights().")));
	it = JsonbIteratorInit(&json->root);
	while ((r = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (r == WJB_KEY)
		{
			char	   *key = pnstrdup(v.val.string.val, v.val.string.len);

			for (current = 0; current < EV_COUNT; current++)
				if (strcmp(evidence[current].name, key) == 0)
					break;
			if (current == EV_COUNT)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown duplicate evidence \"%s\"", key),
						 errdetail("The evidence a weight can be given for is listed by crm.match_weight_defaults().")));
		}
		else if (r == WJB_VALUE)
		{
			if (v.type != jbvNumeric)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the weight of duplicate evidence \"%s\" must be a number",
								evidence[current].name)));
			weights->w[current] = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
																	 NumericGetDatum(v.val.numeric)));
			/* as crm.set_match_weight(): an unbounded one made scores NaN (+inf and -inf) */
			if (!(weights->w[current] >= -100 && weights->w[current] <= 100))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("the weight of duplicate evidence \"%s\" is out of range", evidence[current].name),
						 errdetail("A weight is a log2 likelihood ratio from -100 to 100; %g was given.",
								   weights->w[current]),
						 errhint("Pass crm.match_weights(), or weights from -100 to 100.")));
		}
	}
}
