/*-------------------------------------------------------------------------
 *
 * matchfreq.h
 *	  Frequency-aware evidence (matchfreq.c, doc/duplicates.md): how common
 *	  a last name or first name is in this base, from
 *	  crm.match_frequency (written by crm.refresh_match_frequencies()), and
 *	  the term-frequency adjustment of an exact agreement on it.  The
 *	  scoring (scoring.c) takes them as a MatchFrequencies, NULL for none.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_MATCHFREQ_H
#define CRM_MATCHFREQ_H

#include "postgres.h"

#include "matchforms.h"

/* the fields whose values' frequencies are kept, in the order of their names */
typedef enum MatchTfField
{
	TF_LAST_NAME,				/* MF_LAST_SK of persons: one name in any spelling */
	TF_FIRST_NAME,				/* MF_FIRST1_SK of persons: the first word, canonical */
	TF_FULL_NAME,				/* both, "last/first": one person's name in any spelling */
	TF_BIRTH_DATE,				/* only its total: the chance two persons share a birth date */
	TF_COUNT
} MatchTfField;

/*
 * Bounds of the adjustment log2(u / p(value)), in bits added to the
 * agreement's weight (measured: matchfreq.c): whole bits toward zero, at
 * least TF_MIN_ADJUST, at most TF_MAX_ADJUST (a rare value weighs no more
 * than the weight), and an adjusted positive weight never under
 * TF_MIN_WEIGHT (or its own weight, if smaller).
 */
#define TF_MIN_ADJUST	(-3.0)
#define TF_MAX_ADJUST	0.0
#define TF_MIN_WEIGHT	1.0

/*
 * Namesakes born the same day (crm_namesake_cap): a full name borne by n
 * persons gives any one of them about n * u namesakes born the same day by
 * chance, u the chance that two persons share a birth date.  A pair with
 * nothing but the full name and the birth date (and the city) in common is
 * one person with odds of about TF_NAMESAKE_SHARE / (n * u): the share of
 * records whose duplicate shares only that against the namesakes expected.
 * Its score is capped there, in whole bits rounded up (the counts are said
 * only in bands of powers of two).  Measured (matchfreq.c):
 * bench/quality.sh's foreigners and English-speaking sets at 1,000,000
 * clients both gave about 1 in 200; 1 in 256 is taken.  Full names are
 * kept only from TF_NAMESAKE_MIN_BEARERS bearers on, and where the cap is
 * 4 bits or less (the most such a pair scores with the default weights):
 * crm_common_name_bearers().
 */
#define TF_NAMESAKE_SHARE		(1.0 / 256)
#define TF_NAMESAKE_MIN_BEARERS	32

/* the longest "last/first" key looked up (a longer full name is never adjusted) */
#define TF_FULL_NAME_MAX	256

typedef struct MatchFreqEntry
{
	uint64		hash;			/* of the field and the value */
	int			field;
	const char *value;
	double		bearers;		/* clients with the value */
} MatchFreqEntry;

typedef struct MatchFrequencies
{
	bool		known[TF_COUNT];	/* the field's frequencies were refreshed */
	double		clients[TF_COUNT];	/* clients with the field, at the refresh */
	double		u[TF_COUNT];	/* sum of p(v)^2: two persons' chance agreement */
	MatchFreqEntry *entries;	/* sorted by hash */
	int			nentries;
} MatchFrequencies;

/*
 * How many bearers make a value of field common enough to weigh less
 * (crm.match_frequency keeps only those), given the field's chance u of
 * agreement among clients persons and u_birth, a same birth date's; 0 for
 * none.  Also crm_internal.common_name_bearers() in SQL.
 */
extern double crm_common_name_bearers(MatchTfField field, double u, double clients, double u_birth);

/* the name of a field in crm.match_frequency */
extern const char *crm_tf_field_name(MatchTfField field);

/*
 * The matching form of client c's field, as the frequencies count it, or
 * NULL (none, or no values of the field are kept: TF_BIRTH_DATE); buf, of
 * TF_FULL_NAME_MAX bytes, holds a full name's.
 */
extern const char *crm_tf_value(const MatchClient *c, MatchTfField field, char *buf);

/*
 * Who reads the scores weighed: the caller itself (what it is shown), or
 * every role that reads crm.possible_duplicate, where the check on save and
 * the import's duplicate pass record them.  Under row-level security on
 * crm.client those readers reach different clients than the role that
 * scored: a recorded score weighed by counts of the scorer's reach (an
 * administrator's: the whole base) would tell them of clients out of their
 * own (an attacker review), so recorded scores are weighed by no count
 * then.
 */
typedef enum MatchScoreReader
{
	SCORES_FOR_CALLER,
	SCORES_RECORDED
} MatchScoreReader;

/*
 * The frequencies of one client's values (crm.duplicate_candidates,
 * crm.match_score: every agreement is on one of its values), from
 * crm.match_frequency (SPI connected) into memory of dest, read with the
 * rights of its owner, restored before it returns or raises.  Those counts
 * are of the whole base: they are used only when the caller, and the role
 * it acts for inside crm's SECURITY DEFINER functions, read every client
 * (crm_internal.reads_whole_base(), src/sql/46_access.sql); for any other
 * caller, and a base never refreshed, every field is unknown: no
 * adjustment (doc/duplicates.md, "Who sees the counts").
 */
extern void crm_match_frequencies_load(MatchFrequencies *freq, const MatchClient *client, MatchScoreReader reader,
									   MemoryContext dest);

/*
 * The frequencies counted over the clients themselves, into memory of
 * dest: crm.duplicate_pairs counts the visible base it has read, as the
 * caller, so its counts are of what the caller reaches and always current.
 * The same values, totals and kept names as crm.refresh_match_frequencies()
 * would store for that base.
 */
extern void crm_match_frequencies_count(MatchFrequencies *freq, const MatchClient *clients, uint32 nclients,
										MatchScoreReader reader, MemoryContext dest);

/*
 * The adjustment (bits) of an exact agreement on value of field, bounded
 * (see above) given the evidence's weight; 0 when the field or the value is
 * not known.  Only this leaves the counts (no count itself: see
 * doc/duplicates.md).
 */
extern double crm_tf_adjustment(const MatchFrequencies *freq, MatchTfField field, const char *value,
								double weight);

/*
 * The most (bits) a pair whose full name (TF_FULL_NAME, a's) agrees, born
 * the same day, with nothing but the names and the city besides, may score:
 * see TF_NAMESAKE_SHARE; +infinity when the counts do not know the name
 * (rare) or the base was never counted.
 */
extern double crm_namesake_cap(const MatchFrequencies *freq, const MatchClient *a);

#endif							/* CRM_MATCHFREQ_H */
