/*-------------------------------------------------------------------------
 *
 * matchweights.h
 *	  The weights of duplicate evidence: each kind of evidence, its default
 *	  weight (a log2 likelihood ratio), a site's own from crm.match_weight,
 *	  weights passed as jsonb (matchweights.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_MATCHWEIGHTS_H
#define CRM_MATCHWEIGHTS_H

#include "postgres.h"

#include "utils/jsonb.h"

/*
 * The kinds of evidence, in the order of their names in matchweights.c; the
 * defaults and their meaning are crm.match_weight_defaults() (SQL).
 */
typedef enum MatchEvidence
{
	EV_PRIOR,
	EV_PESEL, EV_PESEL_TYPO, EV_PESEL_DIFFER,
	EV_NIP, EV_NIP_TYPO, EV_NIP_DIFFER,
	EV_REGON, EV_REGON_TYPO, EV_REGON_DIFFER,
	EV_PHONE, EV_EMAIL,
	EV_LAST_NAME, EV_LAST_NAME_SPELLING, EV_LAST_NAME_SIMILAR, EV_LAST_NAME_GENDER, EV_LAST_NAME_DIFFER,
	EV_NAMES_SWAPPED,
	EV_FIRST_NAME, EV_FIRST_NAME_SPELLING, EV_FIRST_NAME_SIMILAR, EV_FIRST_NAME_DIFFER,
	EV_COMPANY, EV_COMPANY_SIMILAR, EV_COMPANY_DIFFER,
	EV_BIRTH_DATE, EV_BIRTH_DATE_CLOSE, EV_BIRTH_DATE_DIFFER,
	EV_CITY, EV_CITY_SIMILAR, EV_CITY_DIFFER,
	EV_POSTCODE, EV_POSTCODE_CLOSE, EV_POSTCODE_DIFFER,
	EV_ADDRESS, EV_ADDRESS_SIMILAR,
	EV_COUNT
} MatchEvidence;

StaticAssertDecl(EV_COUNT <= 64, "a set of evidence kinds fits in a uint64 (MatchEvidenceSet)");

/* a set of kinds of evidence: bit k for MatchEvidence k */
typedef uint64 MatchEvidenceSet;

#define CRM_EVIDENCE_BIT(ev) (UINT64CONST(1) << (ev))

/*
 * The comparisons of a pair (scoring.c), each with the kinds of evidence
 * it may find, at most one of them per pair (its level; none found: the
 * level "none").  Every kind but EV_PRIOR is in exactly one comparison.
 * The training (training.c) estimates m and u per comparison over these.
 */
#define CRM_MAX_LEVELS 8

typedef struct MatchComparison
{
	const char *name;
	MatchEvidence levels[CRM_MAX_LEVELS];	/* ends at the first EV_PRIOR */
} MatchComparison;

extern const MatchComparison crm_match_comparisons[];
extern const int crm_match_ncomparisons;

typedef struct MatchWeights
{
	double		w[EV_COUNT];
} MatchWeights;

/* a kind of evidence's name and default weight */
extern const char *crm_match_evidence_name(MatchEvidence ev);
extern double crm_match_evidence_default(MatchEvidence ev);

/* the weights in use: defaults and crm.match_weight (SPI connected) */
extern void crm_match_weights_load(MatchWeights *weights);

/* weights from a jsonb object {evidence: weight} (crm.match_weights()) */
extern void crm_match_weights_from_jsonb(MatchWeights *weights, Jsonb *json);

#endif							/* CRM_MATCHWEIGHTS_H */
