/*-------------------------------------------------------------------------
 *
 * scoring.h
 *	  Duplicate scoring (scoring.c): the Fellegi-Sunter score and reasons
 *	  of a pair of clients, from their matching forms (matchforms.h) and
 *	  the weights of the evidence (matchweights.h).  Used by
 *	  crm.match_score() (scoring.c), crm.duplicate_pairs() (pairs.c) and
 *	  crm.duplicate_candidates() (candidates.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_SCORING_H
#define CRM_SCORING_H

#include "postgres.h"

#include "matchforms.h"
#include "matchfreq.h"
#include "matchweights.h"

/* Jaro-Winkler similarity of two matching forms, word order ignored */
extern double crm_name_similarity(const char *a, int la, const char *b, int lb);

/*
 * The score (0..1) of a pair.  shared: the phones and e-mails they have in
 * common as "phone:+48601234567", "email:jan@x.pl".  freq: how common the
 * names are (matchfreq.h), NULL for no frequency adjustment.  With reasons
 * non-NULL also the readable reasons, as a text[] Datum.  With evidence
 * non-NULL also the kinds of evidence found (one bit per MatchEvidence, at
 * most one per comparison of crm_match_comparisons), for the training of
 * the weights (training.c).
 */
extern double crm_match_score_found(const MatchClient *a, const MatchClient *b,
									const char *const *shared, int nshared,
									const MatchWeights *weights, const MatchFrequencies *freq,
									Datum *reasons, MatchEvidenceSet *evidence);

/* the score (and reasons) only */
static inline double
crm_match_score(const MatchClient *a, const MatchClient *b,
				const char *const *shared, int nshared,
				const MatchWeights *weights, const MatchFrequencies *freq, Datum *reasons)
{
	return crm_match_score_found(a, b, shared, nshared, weights, freq, reasons, NULL);
}

/*
 * For crm_match_score_bounded(): the total that min_score needs, and the
 * most each section of the scoring can add with these weights
 * (crm_match_bound_init; scoring.c says how).
 */
typedef struct MatchBound
{
	bool		on;				/* false: no bound (min_score at an end, or an
								 * unknown comparison) */
	double		need;
	double		phone, email, names, company, birth, location, address;
	int			section_of[EV_COUNT];	/* for an Assert */
} MatchBound;

extern void crm_match_bound_init(MatchBound *bound, const MatchWeights *weights, double min_score);

/*
 * The score of crm_match_score(), or 0 as soon as the pair can no longer
 * reach bound's min_score: only for a search that keeps the pairs at or
 * above min_score (crm.duplicate_pairs()).  No reasons, no evidence.
 */
extern double crm_match_score_bounded(const MatchClient *a, const MatchClient *b,
									  const char *const *shared, int nshared,
									  const MatchWeights *weights, const MatchFrequencies *freq,
									  const MatchBound *bound);

#endif							/* CRM_SCORING_H */
