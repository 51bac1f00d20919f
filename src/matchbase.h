/*-------------------------------------------------------------------------
 *
 * matchbase.h
 *	  The visible base in memory for duplicate search over the whole base
 *	  (matchbase.c): every visible client's matching forms, phones and
 *	  e-mails, and the blocked pairs (clients sharing a blocking key).
 *	  Shared by crm.duplicate_pairs() (pairs.c) and the training of the
 *	  weights (training.c), so that both see exactly the same pairs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_MATCHBASE_H
#define CRM_MATCHBASE_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "matchforms.h"
#include "matchkeys.h"
#include "matchfreq.h"
#include "matchweights.h"
#include "scoring.h"

typedef struct MatchContact
{
	uint64		hash;			/* of "kind:value" */
	char	   *text;			/* "kind:value", value in lower case */
} MatchContact;

/* what one pass gave: its blocks of two or more, their pairs, the blocks over the cap */
typedef struct MatchPassStats
{
	uint64		blocks;
	uint64		pairs;			/* before the pairs of several passes are made one */
	uint64		capped_blocks;
	uint64		capped_clients;
	uint64		largest;		/* the largest block kept */
} MatchPassStats;

typedef struct MatchBase
{
	MatchClient *clients;		/* by id */
	uint32		nclients;
	MatchContact *contacts;		/* by client, then text */
	uint32	   *first_contact;	/* of client k: first_contact[k] up to
								 * first_contact[k + 1] */
	uint32		ncontacts;
	uint64	   *common;			/* hashes of contacts in too large blocks, sorted */
	uint32		ncommon;
	MatchPassStats passes[MP_COUNT];	/* of crm_match_base_pairs */
	int			caps[MP_COUNT]; /* the largest block compared, per pass */
} MatchBase;

/*
 * Read every visible client that is not anonymized (with the current
 * role's rights: row-level security applies) and its phones and e-mails
 * into base, allocated in work (SPI connected).  what names the run in the
 * progress NOTICEs ("duplicate_pairs").
 */
extern void crm_match_base_read(MatchBase *base, MemoryContext work, const char *what,
								TimestampTz started);

/*
 * The distinct pairs of clients sharing a blocking key in a block of at
 * most max_block clients, sorted, each as (a << 32) | b with a < b
 * (indexes in base->clients), allocated in the current context.  Records
 * the too common phones and e-mails in base->common.
 */
/* what each blocking pass gave: a NOTICE (DEBUG1 for a run under 5 s) */
extern void crm_match_base_report(const MatchBase *base, const char *what, uint64 npairs,
								  TimestampTz started);

extern uint64 *crm_match_base_pairs(MatchBase *base, int max_block, uint64 *npairs);

/* the phones and e-mails clients a and b have in common (not too common ones) */
extern int	crm_match_base_shared(const MatchBase *base, uint32 a, uint32 b,
								  const char **shared, int cap);

/*
 * The score of pair (a << 32) | b (a < b, indexes in base->clients, as
 * crm_match_base_pairs() gives them), with the
 * phones and e-mails the two have in common, and the kinds of evidence
 * found when evidence is not NULL (crm_match_score_found); what scoring
 * allocates goes in scratch, reset before returning.
 */
extern double crm_match_base_score(const MatchBase *base, uint64 pair, const MatchWeights *weights,
								   const MatchFrequencies *freq, MemoryContext scratch,
								   MatchEvidenceSet *evidence);

/*
 * The same, or 0 as soon as the pair can no longer reach bound's min_score
 * (crm_match_score_bounded): for crm.duplicate_pairs().
 */
extern double crm_match_base_score_bounded(const MatchBase *base, uint64 pair, const MatchWeights *weights,
										   const MatchFrequencies *freq, MemoryContext scratch,
										   const MatchBound *bound);

/* a growing array in the current context */
extern void *crm_grow_array(void *array, Size elem, uint64 *cap, uint64 needed);

#endif							/* CRM_MATCHBASE_H */
