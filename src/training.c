/*-------------------------------------------------------------------------
 *
 * training.c
 *	  The weights of duplicate evidence learnt from the base itself
 *	  (see doc/duplicates.md, "Training the weights"): Fellegi-Sunter m and
 *	  u estimated by EM over the blocked pairs, the very pairs
 *	  crm.duplicate_pairs() compares.
 *
 *	  1. read the visible base and block it (matchbase.c, as
 *	     crm.duplicate_pairs() does);
 *	  2. compare each pair (scoring.c): its comparison vector is the set of
 *	     the kinds of evidence found, at most one level per comparison of
 *	     crm_match_comparisons (matchweights.c); identical vectors are
 *	     grouped with their counts (a few hundred or thousand patterns);
 *	  3. u over random pairs of the whole base (a seeded sample, reported);
 *	  4. EM over the patterns, from the current weights: the first E-step
 *	     takes each pattern's posterior as its score under the weights in
 *	     use; each M-step estimates the match share lambda and m and u of
 *	     every level of every comparison (none_is_missing(): "none" is
 *	     missing data in a comparison of several levels, a level "not in
 *	     common" in one of a single level), under the constraints of
 *	     the match class (Winkler's constrained EM: m of a "*_differ"
 *	     level at most max_differ_m; with differ_default, m of a level
 *	     whose default weight is 0 or less at most u * 2^default); each
 *	     E-step the posteriors from them; until no parameter moves by
 *	     tolerance or more, or max_iterations.  prior_pairs > 0: MAP-EM,
 *	     a Dirichlet prior of that many pairs centred on the m and u the
 *	     default weights imply on this base.
 *
 *	  The weight of a level is log2(m/u) and the prior's log2(lambda / (1 -
 *	  lambda)), clamped to -100..100.  m and u are smoothed by half a pair
 *	  per level (a level never seen among the matches gets a large negative
 *	  weight, not log(0)).  Levels shown by fewer than MIN_LEVEL_PAIRS
 *	  pairs are not trained: their weight stays the default.  Scoring gives
 *	  the level "none" no weight (absent is no evidence), as the defaults.
 *
 *	  Measured (bench/quality.sh, doc/duplicates.md): on the bench's sets
 *	  the trained weights are still worse than the defaults.  Without the
 *	  constraints the duplicates' class takes in households (same address,
 *	  surname, landline); with them it comes close to the true pairs and
 *	  beats the defaults on the foreigners' set, but loses recall on the
 *	  Polish and English ones.  The prior's row says how the match share
 *	  compares with what the weights in use before implied.
 *
 *	    crm_internal.estimate_match_weights(max_iterations integer,
 *	        tolerance double precision, min_pairs bigint, sample_pairs integer,
 *	        max_differ_m double precision, prior_pairs double precision,
 *	        differ_default boolean)
 *
 *	  returns one row per kind of evidence with the run's figures on each
 *	  (and, when nothing is to be stored, why: too few pairs, almost no
 *	  duplicates found);
 *	  crm.train_match_weights() (SQL, administrators) stores them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "datamodel.h"
#include "matchbase.h"
#include "matchweights.h"
#include "progress.h"
#include "scoring.h"

/* a level shown by fewer pairs keeps its default weight */
#define MIN_LEVEL_PAIRS 20
/* an EM that finds fewer duplicate pairs than this stores nothing */
#define MIN_MATCHES 10.0
/* half a pair per level: no m or u of 0 (a weight of minus infinity) */
#define SMOOTHING 0.5
#define MAX_WEIGHT 100.0
/* the random pairs are the same run after run on the same base */
#define SAMPLE_SEED UINT64CONST(0x63726d747261696e)
#define MAX_COMPARISONS 32

typedef struct Pattern
{
	MatchEvidenceSet set;		/* the hash key */
	uint64		count;
} Pattern;

/* m and u of each level of each comparison; level nlevels[c] is "none" */
typedef struct Params
{
	double		lambda;
	double		m[MAX_COMPARISONS][CRM_MAX_LEVELS + 1];
	double		u[MAX_COMPARISONS][CRM_MAX_LEVELS + 1];
} Params;

typedef struct Model
{
	int			ncomp;
	int			nlevels[MAX_COMPARISONS];
	int			comparison_of[EV_COUNT];	/* -1: the prior */
	int			level_of[EV_COUNT];
	/* levels whose default weight is 0 or less; levels "*_differ" (m_step()) */
	bool		bounded[MAX_COMPARISONS][CRM_MAX_LEVELS + 1];
	bool		differ[MAX_COMPARISONS][CRM_MAX_LEVELS + 1];
} Model;

/* the comparisons and their levels; every kind of evidence in exactly one */
static void
model_init(Model *model)
{
	if (crm_match_ncomparisons > MAX_COMPARISONS)
		elog(ERROR, "too many comparisons for the training: %d", crm_match_ncomparisons);
	model->ncomp = crm_match_ncomparisons;
	for (int k = 0; k < EV_COUNT; k++)
		model->comparison_of[k] = -1;
	for (int c = 0; c < model->ncomp; c++)
	{
		int			n = 0;

		while (n < CRM_MAX_LEVELS && crm_match_comparisons[c].levels[n] != EV_PRIOR)
		{
			MatchEvidence ev = crm_match_comparisons[c].levels[n];

			if (model->comparison_of[ev] != -1)
				elog(ERROR, "evidence \"%s\" is in two comparisons", crm_match_evidence_name(ev));
			model->comparison_of[ev] = c;
			model->level_of[ev] = n++;
		}
		model->nlevels[c] = n;
		for (int l = 0; l <= CRM_MAX_LEVELS; l++)
			model->bounded[c][l] = model->differ[c][l] = false;
		for (int l = 0; l < n; l++)
		{
			MatchEvidence ev = crm_match_comparisons[c].levels[l];
			const char *name = crm_match_evidence_name(ev);
			size_t		len = strlen(name);

			model->differ[c][l] = len > 7 && strcmp(name + len - 7, "_differ") == 0;
			model->bounded[c][l] = model->differ[c][l] || crm_match_evidence_default(ev) <= 0;
		}
	}
	for (int k = 1; k < EV_COUNT; k++)
		if (model->comparison_of[k] == -1)
			elog(ERROR, "evidence \"%s\" is in no comparison", crm_match_evidence_name(k));
}

/* the level of comparison c in a set of evidence found: nlevels[c] for none */
static int
level_in(const Model *model, int c, MatchEvidenceSet set)
{
	for (int l = 0; l < model->nlevels[c]; l++)
		if (set & CRM_EVIDENCE_BIT(crm_match_comparisons[c].levels[l]))
			return l;
	return model->nlevels[c];
}

/*
 * Whether the level "none" of comparison c is missing data, no evidence
 * either way, as the score counts it: so for a comparison of several
 * levels (PESEL: same, a typo, different; none: one of the two has none).
 * Counted as a level of its own, it made the class of a client (a company
 * has no first name, a person no company name) the estimate's "match" at
 * 1,000,000 clients.  A comparison of one level (a phone in common) has
 * no other way to say "not the same": there none is a level.  (The
 * address, same or similar, is of two levels: none a level of it, "not in
 * common", was measured worse with max_differ_m 0.05 alone on two of
 * bench/quality.sh's sets, F1 0.772 / 0.637 / 0.950 against 0.821 / 0.833
 * / 0.900 on polish, foreigners, english.)
 */
static bool
none_is_missing(const Model *model, int c)
{
	return model->nlevels[c] >= 2;
}

static double
clamp_weight(double w)
{
	if (isnan(w))
		return 0;
	return Max(-MAX_WEIGHT, Min(MAX_WEIGHT, w));
}

/*
 * M-step: lambda, m and u from the posteriors of the patterns; the
 * largest change of any parameter from *p.
 */
static double
m_step(const Model *model, Pattern *patterns, uint8 *levels, const double *post, int npatterns,
	   double max_differ_m, bool differ_default, const Params *centre, double prior_pairs, Params *p)
{
	Params		next;
	double		matches = 0;
	double		others = 0;
	double		change = 0;

	memset(&next, 0, sizeof(next));
	for (int i = 0; i < npatterns; i++)
	{
		double		n = (double) patterns[i].count;

		matches += n * post[i];
		others += n * (1 - post[i]);
		for (int c = 0; c < model->ncomp; c++)
		{
			next.m[c][levels[i * model->ncomp + c]] += n * post[i];
			next.u[c][levels[i * model->ncomp + c]] += n * (1 - post[i]);
		}
	}
	next.lambda = matches / (matches + others);
	for (int c = 0; c < model->ncomp; c++)
	{
		int			none = model->nlevels[c];
		bool		missing = none_is_missing(model, c);

		/* a missing comparison: m and u over the pairs that have it */
		double		m_total = missing ? matches - next.m[c][none] : matches;
		double		u_total = missing ? others - next.u[c][none] : others;
		int			nlevels = missing ? none : none + 1;

		for (int l = 0; l <= none; l++)
		{
			if (missing && l == none)
				next.m[c][l] = next.u[c][l] = 1;	/* no evidence */
			else
			{
				/* MAP: prior_pairs pairs' worth of the defaults' m and u */
				double		m_prior = centre ? prior_pairs * centre->m[c][l] : 0;
				double		u_prior = centre ? prior_pairs * centre->u[c][l] : 0;
				double		total_prior = centre ? prior_pairs : 0;

				next.m[c][l] = (next.m[c][l] + SMOOTHING + m_prior) / (m_total + SMOOTHING * nlevels + total_prior);
				next.u[c][l] = (next.u[c][l] + SMOOTHING + u_prior) / (u_total + SMOOTHING * nlevels + total_prior);
			}
		}

		/*
		 * The constraints (Winkler): a duplicate rarely shows a
		 * disagreement.  m of a level "*_differ" is at most max_differ_m;
		 * with differ_default, m of every level whose default weight is 0
		 * or less (the disagreements, and last names in the two gender
		 * forms: a husband and a wife) is at most u * 2^default, its weight
		 * no higher than the default's.  The comparison's other levels
		 * share the rest in their estimated proportions.  u stays the
		 * estimate.
		 */
		{
			double		bounded = 0;
			double		unbounded = 0;
			bool		capped = false;
			bool		constrained[CRM_MAX_LEVELS + 1];

			for (int l = 0; l < nlevels; l++)
			{
				double		cap = 1;

				if (model->differ[c][l])
					cap = max_differ_m;
				if (differ_default && model->bounded[c][l])
					cap = Min(cap, next.u[c][l] *
							  pow(2.0, crm_match_evidence_default(crm_match_comparisons[c].levels[l])));
				constrained[l] = cap < 1;
				if (next.m[c][l] > cap)
				{
					next.m[c][l] = cap;
					capped = true;
				}
				if (constrained[l])
					bounded += next.m[c][l];
				else
					unbounded += next.m[c][l];
			}
			if (capped && unbounded > 0 && bounded < 1)
				for (int l = 0; l < nlevels; l++)
					if (!constrained[l])
						next.m[c][l] *= (1 - bounded) / unbounded;
		}
		for (int l = 0; l <= none; l++)
		{
			change = Max(change, fabs(next.m[c][l] - p->m[c][l]));
			change = Max(change, fabs(next.u[c][l] - p->u[c][l]));
		}
	}
	change = Max(change, fabs(next.lambda - p->lambda));
	*p = next;
	return change;
}

/* E-step: each pattern's posterior probability of a match under p */
static void
e_step(const Model *model, uint8 *levels, int npatterns, const Params *p, double *post)
{
	double		lambda = Max(1e-12, Min(1 - 1e-12, p->lambda));

	for (int i = 0; i < npatterns; i++)
	{
		double		logodds = log(lambda) - log(1 - lambda);

		for (int c = 0; c < model->ncomp; c++)
		{
			int			l = levels[i * model->ncomp + c];

			logodds += log(p->m[c][l]) - log(p->u[c][l]);
		}
		post[i] = 1 / (1 + exp(-logodds));
	}
}

PG_FUNCTION_INFO_V1(estimate_match_weights);
Datum
estimate_match_weights(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		max_iterations = PG_GETARG_INT32(0);
	double		tolerance = PG_GETARG_FLOAT8(1);
	int64		min_pairs = PG_GETARG_INT64(2);
	int32		sample_pairs = PG_GETARG_INT32(3);
	double		max_differ_m = PG_GETARG_FLOAT8(4);
	double		prior_pairs = PG_GETARG_FLOAT8(5);
	bool		differ_default = PG_GETARG_BOOL(6);
	Params		centre;
	MemoryContext work = AllocSetContextCreate(CurrentMemoryContext, "crm training",
											   ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	Model		model;
	MatchWeights weights;
	bool		pinned[EV_COUNT] = {0};
	int			max_block;
	bool		isnull;
	MatchBase	base = {0};
	uint64	   *pairs;
	uint64		npairs;
	HTAB	   *groups;
	HASHCTL		ctl;
	Pattern    *patterns;
	int			npatterns = 0;
	uint8	   *levels;
	double	   *post;
	uint64		shown[EV_COUNT] = {0};
	double		u_random[EV_COUNT];
	uint64		nsample = 0;
	Params		params;
	int			iterations = 0;
	bool		converged = false;
	const char *refusal = NULL;
	double		match_share = 0;
	double		before_expected = 0;	/* duplicates by the weights in use */
	uint64		before_over = 0;	/* pairs they score 0.5 or more */
	TimestampTz started = GetCurrentTimestamp();

	crm_require_data_model();
	InitMaterializedSRF(fcinfo, 0);
	model_init(&model);
	if (max_iterations < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_iterations must be at least 1")));
	if (!(tolerance > 0) || isinf(tolerance))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tolerance must be a finite number greater than zero")));
	if (sample_pairs < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample_pairs must not be negative")));
	if (!(max_differ_m > 0 && max_differ_m <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_differ_m must be greater than 0 and at most 1")));
	if (!(prior_pairs >= 0) || isinf(prior_pairs))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prior_pairs must be a finite number, not negative")));

	SPI_connect();
	crm_match_weights_load(&weights);
	if (SPI_execute("SELECT w.evidence FROM crm.match_weight w", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read crm.match_weight");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);

		for (int k = 0; k < EV_COUNT; k++)
			if (strcmp(crm_match_evidence_name(k), name) == 0)
				pinned[k] = true;
	}
	if (SPI_execute("SELECT crm.max_block_size()", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read crm.max_block_size()");
	max_block = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	/* 1. the base and its blocked pairs, as crm.duplicate_pairs() */
	crm_match_base_read(&base, work, "train_match_weights", started);
	old = MemoryContextSwitchTo(work);
	pairs = crm_match_base_pairs(&base, max_block, &npairs);

	/* 2. each pair's comparison vector, grouped */
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(MatchEvidenceSet);
	ctl.entrysize = sizeof(Pattern);
	ctl.hcxt = work;
	groups = hash_create("crm training patterns", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	started = GetCurrentTimestamp();
	{
		MemoryContext scratch = AllocSetContextCreate(work, "crm training scoring", ALLOCSET_DEFAULT_SIZES);

		for (uint64 k = 0; k < npairs; k++)
		{
			MatchEvidenceSet set;
			Pattern    *pattern;
			bool		found;

			CHECK_FOR_INTERRUPTS();
			crm_match_base_score(&base, pairs[k], &weights, NULL, scratch, &set);
			pattern = hash_search(groups, &set, HASH_ENTER, &found);
			if (!found)
				pattern->count = 0;
			pattern->count++;
			crm_report_progress("train_match_weights: comparing pairs", k + 1, npairs, started);
		}

		/* 3. u over random pairs of the whole base, for the report */
		memset(u_random, 0, sizeof(u_random));
		if (base.nclients >= 2 && sample_pairs > 0)
		{
			pg_prng_state rng;
			uint64		all = (uint64) base.nclients * (base.nclients - 1) / 2;

			pg_prng_seed(&rng, SAMPLE_SEED);
			nsample = Min((uint64) sample_pairs, all);
			for (uint64 k = 0; k < nsample; k++)
			{
				uint32		a = (uint32) pg_prng_uint64_range(&rng, 0, base.nclients - 1);
				uint32		b = (uint32) pg_prng_uint64_range(&rng, 0, base.nclients - 2);
				MatchEvidenceSet set;

				CHECK_FOR_INTERRUPTS();
				if (b >= a)
					b++;		/* two different clients */
				if (a > b)
				{
					uint32		t = a;

					a = b;
					b = t;
				}
				crm_match_base_score(&base, ((uint64) a << 32) | b, &weights, NULL, scratch, &set);
				for (int ev = 1; ev < EV_COUNT; ev++)
					if (set & CRM_EVIDENCE_BIT(ev))
						u_random[ev]++;
			}
			for (int ev = 1; ev < EV_COUNT; ev++)
				u_random[ev] /= (double) nsample;
		}
		MemoryContextDelete(scratch);
	}
	pfree(pairs);

	npatterns = (int) hash_get_num_entries(groups);
	patterns = palloc(sizeof(Pattern) * Max(npatterns, 1));
	{
		HASH_SEQ_STATUS seq;
		Pattern    *p;
		int			i = 0;

		hash_seq_init(&seq, groups);
		while ((p = hash_seq_search(&seq)) != NULL)
			patterns[i++] = *p;
	}
	levels = palloc(sizeof(uint8) * Max(npatterns, 1) * model.ncomp);
	post = palloc(sizeof(double) * Max(npatterns, 1));
	for (int i = 0; i < npatterns; i++)
	{
		for (int c = 0; c < model.ncomp; c++)
			levels[i * model.ncomp + c] = (uint8) level_in(&model, c, patterns[i].set);
		for (int ev = 1; ev < EV_COUNT; ev++)
			if (patterns[i].set & CRM_EVIDENCE_BIT(ev))
				shown[ev] += patterns[i].count;
	}

	/* 4. EM, from the posteriors under the weights in use */
	memset(&params, 0, sizeof(params));
	if (npairs < (uint64) Max(min_pairs, 1))
		refusal = psprintf("Pairs of clients sharing a blocking key: " UINT64_FORMAT ", fewer than min_pairs (" INT64_FORMAT ")",
						   npairs, min_pairs);
	else
	{
		/*
		 * The prior's centre: m and u the default weights imply on this
		 * base (one M-step from the posteriors they give)
		 */
		memset(&centre, 0, sizeof(centre));
		if (prior_pairs > 0)
		{
			for (int i = 0; i < npatterns; i++)
			{
				double		total = crm_match_evidence_default(EV_PRIOR);

				for (int ev = 1; ev < EV_COUNT; ev++)
					if (patterns[i].set & CRM_EVIDENCE_BIT(ev))
						total += crm_match_evidence_default(ev);
				post[i] = 1 / (1 + pow(2.0, -total));
			}
			m_step(&model, patterns, levels, post, npatterns, 1, false, NULL, 0, &centre);
		}
		for (int i = 0; i < npatterns; i++)
		{
			double		total = weights.w[EV_PRIOR];

			for (int ev = 1; ev < EV_COUNT; ev++)
				if (patterns[i].set & CRM_EVIDENCE_BIT(ev))
					total += weights.w[ev];
			post[i] = 1 / (1 + pow(2.0, -total));
			before_expected += post[i] * patterns[i].count;
			if (total >= 0)
				before_over += patterns[i].count;
		}
		for (iterations = 1; iterations <= max_iterations; iterations++)
		{
			double		change = m_step(&model, patterns, levels, post, npatterns, max_differ_m, differ_default,
								   prior_pairs > 0 ? &centre : NULL, prior_pairs, &params);

			CHECK_FOR_INTERRUPTS();
			if (iterations > 1 && change < tolerance)
			{
				converged = true;
				break;
			}
			e_step(&model, levels, npatterns, &params, post);
		}
		if (!converged)
			iterations = max_iterations;
		match_share = params.lambda;
		if (params.lambda * npairs < MIN_MATCHES)
			refusal = psprintf("The estimate finds almost no duplicates among the " UINT64_FORMAT " pairs (%.1f)",
							   npairs, params.lambda * npairs);
	}
	MemoryContextSwitchTo(old);

	/* one row per kind of evidence, the run's figures on each */
	for (int ev = 0; ev < EV_COUNT; ev++)
	{
		Datum		values[17];
		bool		nulls[17] = {0};
		int			c = model.comparison_of[ev];
		bool		estimated = iterations > 0;
		double		m = 0,
					u = 0,
					trained = 0;
		const char *note = NULL;

		if (estimated && ev == EV_PRIOR)
			trained = clamp_weight(log2(params.lambda) - log2(1 - params.lambda));
		else if (estimated)
		{
			m = params.m[c][model.level_of[ev]];
			u = params.u[c][model.level_of[ev]];
			trained = clamp_weight(log2(m) - log2(u));
		}
		if (!estimated)
			note = "not trained";
		else if (ev != EV_PRIOR && shown[ev] < MIN_LEVEL_PAIRS)
			note = psprintf("shown by " UINT64_FORMAT " pairs, fewer than %d: default weight kept",
							shown[ev], MIN_LEVEL_PAIRS);
		else if (pinned[ev])
			note = "pinned by crm.set_match_weight(): the pinned weight stays in use";
		else if (ev == EV_PRIOR)
			note = psprintf("match share %.5f (%.0f of the " UINT64_FORMAT " pairs); by the weights in use before: %.5f (%.0f, "
							UINT64_FORMAT " scored 0.5 or more)",
							params.lambda, params.lambda * npairs, npairs,
							npairs > 0 ? before_expected / npairs : 0, before_expected, before_over);

		values[0] = Int32GetDatum(ev);
		values[1] = CStringGetTextDatum(crm_match_evidence_name(ev));
		values[2] = c >= 0 ? CStringGetTextDatum(crm_match_comparisons[c].name) : (Datum) 0;
		nulls[2] = c < 0;
		values[3] = Int64GetDatum(ev == EV_PRIOR ? (int64) npairs : (int64) shown[ev]);
		values[4] = Float8GetDatum(m);
		nulls[4] = !estimated || ev == EV_PRIOR;
		values[5] = Float8GetDatum(u);
		nulls[5] = !estimated || ev == EV_PRIOR;
		values[6] = Float8GetDatum(u_random[ev]);
		nulls[6] = ev == EV_PRIOR || nsample == 0;
		values[7] = Float8GetDatum(weights.w[ev]);
		/* the weight to store: none for a level too rarely shown */
		values[8] = Float8GetDatum(trained);
		nulls[8] = !estimated || (ev != EV_PRIOR && shown[ev] < MIN_LEVEL_PAIRS);
		values[9] = note ? CStringGetTextDatum(note) : (Datum) 0;
		nulls[9] = note == NULL;
		values[10] = Int64GetDatum(base.nclients);
		values[11] = Int64GetDatum((int64) npairs);
		values[12] = Int32GetDatum(npatterns);
		values[13] = Int32GetDatum(iterations);
		values[14] = BoolGetDatum(converged);
		values[15] = Float8GetDatum(match_share);
		nulls[15] = !estimated;
		/* why nothing is to be stored, if so */
		values[16] = refusal ? CStringGetTextDatum(refusal) : (Datum) 0;
		nulls[16] = refusal == NULL;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	MemoryContextDelete(work);
	return (Datum) 0;
}
