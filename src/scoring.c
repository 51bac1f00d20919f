/*-------------------------------------------------------------------------
 *
 * scoring.c
 *	  The score and reasons of a pair of clients (see doc/duplicates.md):
 *	  each piece of evidence adds its weight (matchweights.c), a log2
 *	  likelihood ratio, to the prior; the score is 1 / (1 + 2^-total).  The
 *	  clients are compared in their matching forms (matchforms.c); an exact
 *	  agreement on a name is weighed by how common the value is in
 *	  the base (matchfreq.c), when its frequencies were refreshed.  And its
 *	  SQL face:
 *	    crm.match_score(a crm.client, b crm.client, shared text[], w jsonb,
 *	                    OUT score double precision, OUT reasons text[])
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"
#include "pgcompat.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "datematch.h"
#include "namematch.h"
#include "scoring.h"

/* Jaro-Winkler of two matching forms, word order ignored */
double
crm_name_similarity(const char *a, int la, const char *b, int lb)
{
	double		sim = crm_jaro_winkler(a, la, b, lb);

	/* "Kowalski Jan" and "Jan Kowalski" are the same person */
	if (sim < 1.0 && memchr(a, ' ', la) != NULL && memchr(b, ' ', lb) != NULL)
	{
		char	   *sa = crm_sorted_words(a, la);
		char	   *sb = crm_sorted_words(b, lb);

		sim = Max(sim, crm_jaro_winkler(sa, strlen(sa), sb, strlen(sb)));
		pfree(sa);
		pfree(sb);
	}
	/* the bounds of SQL's crm.name_similarity() and of the levels compared to it */
	Assert(sim >= 0.0 && sim <= 1.0);
	return sim;
}

/*-------------------------------------------------------------------------
 * The score of a pair
 *-------------------------------------------------------------------------
 */

typedef struct Reason
{
	int			ord;
	char	   *text;
} Reason;

typedef struct Scoring
{
	const MatchWeights *weights;
	const MatchFrequencies *freq;
	double		adjust;			/* for the next found(): frequency adjustment */
	char	   *note;			/* and its words in the reason */
	double		total;
	bool		explain;		/* build the reasons too */
	const MatchBound *bound;	/* stop early below it (crm_match_score_bounded) */
	int			section;		/* the comparisons being made, for the Assert in found() */
	MatchEvidenceSet found;		/* the kinds of evidence found */
	int			nreasons;
	Reason		reasons[16];
} Scoring;

/* " (+4)", " (-0.5)", " (+3.46)": a weight in a reason, two places at most */
static void
append_weight(StringInfo buf, double w)
{
	char		num[64];
	char	   *end;

	snprintf(num, sizeof num, "%+.2f", fabs(w) < 0.005 ? 0.0 : w);
	end = num + strlen(num) - 1;
	while (*end == '0')
		*end-- = '\0';
	if (*end == '.')
		*end = '\0';
	appendStringInfo(buf, " (%s)", num);
}

/* evidence ev was found; its reason (only built when explaining) */
static void
found(Scoring *s, int ord, MatchEvidence ev, const char *fmt,...) pg_attribute_printf(4, 5);

static void
found(Scoring *s, int ord, MatchEvidence ev, const char *fmt,...)
{
	double		w = s->weights->w[ev] + s->adjust;
	char	   *note = s->note;

	/* bounded: no evidence of a section whose gain was already counted out */
	Assert(s->bound == NULL || s->bound->section_of[ev] >= s->section);
	s->adjust = 0;
	s->note = NULL;
	s->total += w;
	s->found |= CRM_EVIDENCE_BIT(ev);
	/* a neutral weight says nothing, but the gender form is worth showing */
	if (!s->explain || (w == 0 && ev != EV_LAST_NAME_GENDER && note == NULL) || s->nreasons == lengthof(s->reasons))
		return;
	{
		StringInfoData buf;
		va_list		args;
		int			needed;

		initStringInfo(&buf);
		for (;;)
		{
			va_start(args, fmt);
			needed = appendStringInfoVA(&buf, fmt, args);
			va_end(args);
			if (needed == 0)
				break;
			enlargeStringInfo(&buf, needed);
		}
		/* the weight it added: "(+4)", or what a frequency made of it */
		if (note)
			appendStringInfoString(&buf, note);
		else
			append_weight(&buf, w);
		Assert(s->nreasons < (int) lengthof(s->reasons));
		s->reasons[s->nreasons].ord = ord;
		s->reasons[s->nreasons].text = buf.data;
		s->nreasons++;
	}
}

/*
 * An exact agreement on field, whose value is v: its weight adjusted by how
 * common v is (matchfreq.c), for the next found(), and said in its reason:
 * "(common, weighs 1 instead of 4)".  Not how common: the counts are of the
 * whole base, which the caller may not reach (doc/duplicates.md); the
 * reason tells no more than the score does.
 */
static void
frequency(Scoring *s, MatchTfField field, const char *v, MatchEvidence ev)
{
	double		w = s->weights->w[ev];

	s->adjust = crm_tf_adjustment(s->freq, field, v, w);
	/* crm_match_score_bounded() counts on it */
	Assert(s->adjust <= 0);
	if (s->explain && fabs(s->adjust) >= 0.05)
		s->note = psprintf(" (%s, weighs %g instead of %g)",
						   s->adjust < 0 ? "common" : "uncommon", w + s->adjust, w);
}

/*
 * Evidence ev weighs adjust more (0 or less) for the next found(), and its
 * reason says why: "(<why>: weighs 0 instead of 2)".
 */
static void
weigh_less(Scoring *s, MatchEvidence ev, double adjust, const char *why)
{
	double		w = s->weights->w[ev];

	Assert(adjust <= 0);
	s->adjust = adjust;
	if (s->explain)
		s->note = psprintf(" (%s: weighs %g instead of %g)", why, w + adjust, w);
}

static int
compare_reasons(const void *a, const void *b)
{
	const Reason *ra = a;
	const Reason *rb = b;

	if (ra->ord != rb->ord)
		return ra->ord < rb->ord ? -1 : 1;
	return strcmp(ra->text, rb->text);
}

/* a field as typed, "" when NULL, for the reasons */
static const char *
typed(const MatchClient *c, MatchField f)
{
	const char *s = crm_match_field(c, f);

	return s ? s : "";
}

static bool
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/*
 * A similarity as the reasons show it: rounded to two places by the very
 * functions of round(crm.name_similarity(a, b)::numeric, 2).
 */
static char *
two_places(double sim)
{
	Datum		n = DirectFunctionCall1(float8_numeric, Float8GetDatum(sim));

	n = DirectFunctionCall2(numeric_round, n, Int32GetDatum(2));
	return DatumGetCString(DirectFunctionCall1(numeric_out, n));
}

/* "similar" as crm.name_similarity(a, b) >= bound compares in SQL */
static bool
at_least(double sim, double bound)
{
	return sim >= bound;
}

/* -ski/-ska, -cki/-cka, -dzki/-dzka */
static bool
gender_form(const char *s)
{
	size_t		n = strlen(s);

	if (n < 3 || (s[n - 1] != 'a' && s[n - 1] != 'i'))
		return false;
	return (s[n - 3] == 's' && s[n - 2] == 'k') || (s[n - 3] == 'c' && s[n - 2] == 'k') ||
		(n >= 4 && s[n - 4] == 'd' && s[n - 3] == 'z' && s[n - 2] == 'k');
}

static double
similarity(const char *a, const char *b)
{
	return crm_name_similarity(a, strlen(a), b, strlen(b));
}

/*
 * Two names that are not the same (matching forms an, bn; as typed at, bt):
 * similar, with a Jaro-Winkler similarity of at least bound and, if
 * max_typos > 0, at most that many typing mistakes apart (crm_typo_distance),
 * or different.
 */
static void
similar_or_differ(Scoring *s, int ord, MatchEvidence similar, MatchEvidence differ, double bound, int max_typos,
				  const char *label, const char *an, const char *bn, const char *at, const char *bt)
{
	double		sim = similarity(an, bn);

	if (at_least(sim, bound) &&
		(max_typos <= 0 || crm_typo_distance(an, strlen(an), bn, strlen(bn), max_typos) <= max_typos))
		found(s, ord, similar, "%s similar: %s ~ %s %s", label, at, bt, s->explain ? two_places(sim) : "");
	else
		found(s, ord, differ, "different %ss: %s, %s", label, at, bt);
}

/* one typo apart (crm_typo_distance), both of at least min_len letters */
static bool
one_typo(const char *a, const char *b, size_t min_len)
{
	return strlen(a) >= min_len && strlen(b) >= min_len &&
		crm_typo_at_most_one(a, strlen(a), b, strlen(b));
}

/* two skeletons (MF_*_SK) one typo apart, both of at least min_len letters */
static bool
skeletons_one_typo(const MatchClient *a, MatchField fa, const MatchClient *b, MatchField fb, size_t min_len)
{
	const char *x = crm_match_field(a, fa);
	const char *y = crm_match_field(b, fb);

	return x != NULL && y != NULL && one_typo(x, y, min_len);
}

/*
 * The consonants of a skeleton (crm_name_skeleton), in order: the forms of
 * one name in two languages differ in their vowels (Alaksandr ~ Aleksander:
 * lksndr).  Writes at most outlen - 1 letters.
 */
static int
consonants(const char *sk, char *out, int outlen)
{
	int			n = 0;

	for (; *sk && n < outlen - 1; sk++)
		if (!strchr("aeiouy ", *sk))
			out[n++] = *sk;
	out[n] = '\0';
	return n;
}

static bool
same_consonants(const char *a, const char *b)
{
	char		ca[64];
	char		cb[64];

	if (a == NULL || b == NULL || strlen(a) >= sizeof ca || strlen(b) >= sizeof cb)
		return false;
	return consonants(a, ca, sizeof ca) >= 3 && consonants(b, cb, sizeof cb) >= 3 && strcmp(ca, cb) == 0;
}

/* the next word of s at or after *pos (spaces apart): its start and length, 0 at the end */
static int
next_word(const char *s, int *pos, const char **word)
{
	int			p = *pos;
	int			start;

	while (s[p] == ' ')
		p++;
	start = p;
	while (s[p] && s[p] != ' ')
		p++;
	*pos = p;
	*word = s + start;
	return p - start;
}

/* whether the word w (len letters) is among the words of s */
static bool
has_word(const char *s, const char *w, int len)
{
	const char *x;
	int			pos = 0;
	int			n;

	while ((n = next_word(s, &pos, &x)) > 0)
		if (n == len && memcmp(x, w, len) == 0)
			return true;
	return false;
}

/* every word of a among those of b, a not empty */
static bool
words_within(const char *a, const char *b)
{
	const char *w;
	int			pos = 0;
	int			n;
	bool		any = false;

	while ((n = next_word(a, &pos, &w)) > 0)
	{
		if (!has_word(b, w, n))
			return false;
		any = true;
	}
	return any;
}

/*
 * A first name a nickname of several names (Sam: Samuel, Samantha) and the
 * other one of those names, or both nicknames of one of them (Sam ~
 * Sammy): af, bf normalized (MF_FIRST_N), ac, bc canonical.
 */
static bool
nickname_of_several(const char *af, const char *ac, const char *bf, const char *bc)
{
	const char *as = af ? crm_first_name_several(af) : NULL;
	const char *bs = bf ? crm_first_name_several(bf) : NULL;
	const char *w;
	int			pos = 0;
	int			n;

	if (as && has_word(as, bc, strlen(bc)))
		return true;
	if (bs && has_word(bs, ac, strlen(ac)))
		return true;
	if (as && bs)
		while ((n = next_word(as, &pos, &w)) > 0)
			if (has_word(bs, w, n))
				return true;
	return false;
}

/*
 * Two different addresses that are one address typed apart: the same house
 * numbers, or one's numbers all among the other's (a flat number on one
 * side only), and street words at most two typos apart (ADDRESS_TYPO); or
 * the same street words and house numbers one typo apart, a digit more or
 * less or two swapped: 12 ~ 21, 12 ~ 112, not 5 ~ 7 (ADDRESS_NUMBER_TYPO).  The numbers and the words of each address are its
 * MF_ADDRESS_NUMS and MF_ADDRESS_WORDS (matchforms.c), made once per client.
 */
typedef enum AddressLevel
{
	ADDRESS_OTHER, ADDRESS_TYPO, ADDRESS_NUMBER_TYPO
} AddressLevel;

/*
 * The same characters, in any order: of two numbers one typo apart and of
 * one length, a transposition (12 ~ 21), not another digit (5 ~ 7: another
 * house, as likely a neighbour as a typo).
 */
static bool
same_digits(const char *a, const char *b)
{
	int			count[256] = {0};

	for (; *a; a++)
		count[(unsigned char) *a]++;
	for (; *b; b++)
		count[(unsigned char) *b]--;
	for (int k = 0; k < 256; k++)
		if (count[k] != 0)
			return false;
	return true;
}

static AddressLevel
address_similar(const MatchClient *a, const MatchClient *b)
{
	const char *na = crm_match_field(a, MF_ADDRESS_NUMS);
	const char *nb = crm_match_field(b, MF_ADDRESS_NUMS);
	const char *wa = crm_match_field(a, MF_ADDRESS_WORDS);
	const char *wb = crm_match_field(b, MF_ADDRESS_WORDS);

	if (na == NULL || nb == NULL || wa == NULL || wb == NULL || strlen(wa) < 3 || strlen(wb) < 3)
		return ADDRESS_OTHER;
	if ((words_within(na, nb) || words_within(nb, na)) &&
		crm_typo_distance(wa, strlen(wa), wb, strlen(wb), 3) <= 2)
		return ADDRESS_TYPO;
	if (*na && *nb && strcmp(wa, wb) == 0 && crm_typo_distance(na, strlen(na), nb, strlen(nb), 2) <= 1 &&
		(strlen(na) != strlen(nb) || same_digits(na, nb)))
		return ADDRESS_NUMBER_TYPO;
	return ADDRESS_OTHER;
}

/*
 * Every name word (skeletons) of one among the other's, two words at least:
 * the same person written in another order with a second name on one side
 * (Halyna Oliferska ~ Oliferska Halyna Jurijiwna).
 */
static int
count_words(const char *s)
{
	const char *w;
	int			pos = 0;
	int			n = 0;

	if (s == NULL)
		return 0;
	while (next_word(s, &pos, &w) > 0)
		n++;
	return n;
}

static bool
name_words_in(const MatchClient *c, const char *w, int len)
{
	const char *first = crm_match_field(c, MF_FIRST_SK);
	const char *last = crm_match_field(c, MF_LAST_SK);

	return (first && has_word(first, w, len)) || (last && has_word(last, w, len));
}

static bool
name_words_within(const MatchClient *a, const MatchClient *b)
{
	MatchField	fields[2] = {MF_FIRST_SK, MF_LAST_SK};
	int			na = count_words(crm_match_field(a, MF_FIRST_SK)) + count_words(crm_match_field(a, MF_LAST_SK));
	int			nb = count_words(crm_match_field(b, MF_FIRST_SK)) + count_words(crm_match_field(b, MF_LAST_SK));

	if (na > nb)
	{
		const MatchClient *t = a;

		a = b;
		b = t;
		na = nb;
	}
	if (na < 2)
		return false;
	for (int k = 0; k < 2; k++)
	{
		const char *f = crm_match_field(a, fields[k]);
		const char *w;
		int			pos = 0;
		int			n;

		if (f == NULL)
			continue;
		while ((n = next_word(f, &pos, &w)) > 0)
			if (!name_words_in(b, w, n))
				return false;
	}
	return true;
}

static char *
date_text(DateADT d)
{
	int			y,
				m,
				day;

	if (DATE_NOT_FINITE(d))
		return pstrdup(DATE_IS_NOBEGIN(d) ? "-infinity" : "infinity");
	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
	return psprintf("%04d-%02d-%02d", y, m, day);
}

/*
 * Whether evidence beyond the names and the city agrees, for a birth date
 * to count in full (a date one typo away; the same date among many
 * namesakes): an identifier the same or one typo away, a phone or e-mail
 * in common (found before the birth date), or the same or a mistyped
 * postal code, the same or a similar address (compared later).
 */
static bool
birth_date_corroborated(const Scoring *s, const MatchClient *a, const MatchClient *b)
{
	const MatchEvidenceSet ids = CRM_EVIDENCE_BIT(EV_PESEL) | CRM_EVIDENCE_BIT(EV_PESEL_TYPO) |
		CRM_EVIDENCE_BIT(EV_NIP) | CRM_EVIDENCE_BIT(EV_NIP_TYPO) |
		CRM_EVIDENCE_BIT(EV_REGON) | CRM_EVIDENCE_BIT(EV_REGON_TYPO) |
		CRM_EVIDENCE_BIT(EV_PHONE) | CRM_EVIDENCE_BIT(EV_EMAIL);
	const char *ap = crm_match_field(a, MF_POSTCODE);
	const char *bp = crm_match_field(b, MF_POSTCODE);
	const char *aa = crm_match_field(a, MF_ADDRESS_N);
	const char *ba = crm_match_field(b, MF_ADDRESS_N);

	if (s->found & ids)
		return true;
	if (ap && bp && (strcmp(ap, bp) == 0 || one_typo(ap, bp, 3)))
		return true;
	return aa && ba && *aa && *ba && (strcmp(aa, ba) == 0 || address_similar(a, b) != ADDRESS_OTHER);
}

/*-------------------------------------------------------------------------
 * Bounded scoring (crm_match_score_bounded): crm.duplicate_pairs() keeps
 * only the pairs whose score reaches min_score, and most blocked pairs are
 * far below it.  Between the sections of the scoring (identifiers, phones
 * and e-mails, names, company, birth date, location, address), a pair whose
 * total so far plus the most the remaining sections could add is below the
 * total that min_score needs is given up.  The most a section can add is the
 * largest weight of its comparisons' levels, 0 when negative (a comparison
 * may find nothing), counted only where the section applies to the pair
 * (persons' names, companies' names, a birth date on both sides ...).  A
 * pair not given up is scored in full, in the same order: its score is the
 * one crm_match_score() gives, bit for bit.
 *
 * This holds only while nothing but the weights adds to the total: the
 * term-frequency adjustment (matchfreq.c) may only lower a weight
 * (TF_MAX_ADJUST <= 0: the bound is off otherwise, and frequency() asserts
 * it of every adjustment).  Every comparison
 * of crm_match_comparisons must belong to a section below, and every kind
 * of evidence to a comparison: otherwise the bound is off (crm_match_bound_init
 * says so), and found() asserts that no section finds evidence of one
 * already counted out.
 *-------------------------------------------------------------------------
 */

enum
{
	SEC_IDS, SEC_CONTACTS, SEC_NAMES, SEC_COMPANY, SEC_BIRTH, SEC_LOCATION, SEC_ADDRESS, SEC_END
};

static const struct
{
	const char *comparison;
	int			section;
}			comparison_sections[] = {
	{"pesel", SEC_IDS}, {"nip", SEC_IDS}, {"regon", SEC_IDS},
	{"phone", SEC_CONTACTS}, {"email", SEC_CONTACTS},
	{"last_name", SEC_NAMES}, {"first_name", SEC_NAMES},
	{"company", SEC_COMPANY},
	{"birth_date", SEC_BIRTH},
	{"location", SEC_LOCATION}, {"postcode", SEC_LOCATION},
	{"address", SEC_ADDRESS},
};

/* the largest weight of a comparison's levels, 0 at least */
static double
comparison_gain(const MatchWeights *weights, const char *name)
{
	double		gain = 0;

	for (int k = 0; k < crm_match_ncomparisons; k++)
		if (strcmp(crm_match_comparisons[k].name, name) == 0)
			for (int l = 0; l < CRM_MAX_LEVELS && crm_match_comparisons[k].levels[l] != EV_PRIOR; l++)
				gain = Max(gain, weights->w[crm_match_comparisons[k].levels[l]]);
	return gain;
}

void
crm_match_bound_init(MatchBound *bound, const MatchWeights *weights, double min_score)
{
	bool		covered[EV_COUNT] = {false};

	memset(bound, 0, sizeof(*bound));
	/* scores at the ends: no bound (1.0 needs a total past 53 bits) */
	if (!(min_score > 0 && min_score < 1))
		return;
	/* an adjustment that could raise a weight: no bound (a float constant: no StaticAssert) */
	if (TF_MAX_ADJUST > 0)
		return;
	for (int ev = 0; ev < EV_COUNT; ev++)
		bound->section_of[ev] = SEC_END;
	for (int k = 0; k < crm_match_ncomparisons; k++)
	{
		int			section = -1;

		for (int c = 0; c < (int) lengthof(comparison_sections); c++)
			if (strcmp(crm_match_comparisons[k].name, comparison_sections[c].comparison) == 0)
				section = comparison_sections[c].section;
		if (section < 0)
		{
			elog(DEBUG1, "comparison %s has no section: scoring unbounded", crm_match_comparisons[k].name);
			return;
		}
		for (int l = 0; l < CRM_MAX_LEVELS && crm_match_comparisons[k].levels[l] != EV_PRIOR; l++)
		{
			covered[crm_match_comparisons[k].levels[l]] = true;
			bound->section_of[crm_match_comparisons[k].levels[l]] = section;
		}
	}
	for (int ev = EV_PRIOR + 1; ev < EV_COUNT; ev++)
		if (!covered[ev])
		{
			elog(DEBUG1, "evidence %s is in no comparison: scoring unbounded", crm_match_evidence_name(ev));
			return;
		}
	bound->phone = comparison_gain(weights, "phone");
	bound->email = comparison_gain(weights, "email");
	bound->names = comparison_gain(weights, "last_name") + comparison_gain(weights, "first_name");
	bound->company = comparison_gain(weights, "company");
	bound->birth = comparison_gain(weights, "birth_date");
	/* a shared postal code stands for the city; else the city and the postal codes' level */
	bound->location = Max(Max(weights->w[EV_POSTCODE], 0),
						  comparison_gain(weights, "location") + comparison_gain(weights, "postcode"));
	bound->address = comparison_gain(weights, "address");
	/* 1 / (1 + 2^-total) >= min_score; a margin far above the sums' rounding */
	bound->need = log2(min_score / (1 - min_score)) - 1e-6;
	/* min_score in (0, 1), checked above: a finite total */
	Assert(isfinite(bound->need));
	bound->on = true;
}

/*
 * Whether the pair can no longer reach the bound: its total so far and the
 * most the sections still to come can add (rest[section], sections from
 * the next on) fall short.
 */
#define GIVE_UP(s, rest, next) \
	((s).bound != NULL && ((s).section = (next), (s).total + (rest)[(next)] < (s).bound->need))

static double score_pair(const MatchClient *a, const MatchClient *b,
						 const char *const *shared, int nshared,
						 const MatchWeights *weights, const MatchFrequencies *freq,
						 Datum *reasons, MatchEvidenceSet *evidence, const MatchBound *bound);

double
crm_match_score_found(const MatchClient *a, const MatchClient *b,
					  const char *const *shared, int nshared,
					  const MatchWeights *weights, const MatchFrequencies *freq,
					  Datum *reasons, MatchEvidenceSet *evidence)
{
	return score_pair(a, b, shared, nshared, weights, freq, reasons, evidence, NULL);
}

double
crm_match_score_bounded(const MatchClient *a, const MatchClient *b,
						const char *const *shared, int nshared,
						const MatchWeights *weights, const MatchFrequencies *freq,
						const MatchBound *bound)
{
	return score_pair(a, b, shared, nshared, weights, freq, NULL, NULL, bound->on ? bound : NULL);
}

/*
 * The score; with bound non-NULL (never with reasons or evidence: those
 * need every comparison) 0 as soon as the pair cannot reach it.
 */
static double
score_pair(const MatchClient *a, const MatchClient *b,
		   const char *const *shared, int nshared,
		   const MatchWeights *weights, const MatchFrequencies *freq,
		   Datum *reasons, MatchEvidenceSet *evidence, const MatchBound *bound)
{
	Scoring		s = {.weights = weights, .freq = freq, .total = weights->w[EV_PRIOR], .explain = reasons != NULL,
	.bound = bound};
	double		rest[SEC_END + 1] = {0};
	static const struct
	{
		MatchField	field;
		MatchEvidence ev;
		const char *label;
	}			ids[] = {
		{MF_PESEL, EV_PESEL, "PESEL"}, {MF_NIP, EV_NIP, "NIP"}, {MF_REGON, EV_REGON, "REGON"}
	};
	bool		persons = a->person && b->person;
	bool		swapped = false;
	bool		swapped_typo = false;
	bool		reordered = false;
	bool		loose_last = false; /* last names similar only by Jaro-Winkler or by skeleton and a typo */

	Assert(bound == NULL || (reasons == NULL && evidence == NULL));
	if (bound)
	{
		const char *aa = crm_match_field(a, MF_ADDRESS_N);
		const char *ba = crm_match_field(b, MF_ADDRESS_N);

		/* rest[k]: the most sections k and after can add to this pair */
		rest[SEC_END] = 0;
		rest[SEC_ADDRESS] = (aa && ba && *aa && *ba) ? bound->address : 0;
		rest[SEC_LOCATION] = rest[SEC_ADDRESS] + bound->location;
		rest[SEC_BIRTH] = rest[SEC_LOCATION] +
			(a->has_birth && b->has_birth &&
			 (crm_match_field(a, MF_PESEL) == NULL || crm_match_field(b, MF_PESEL) == NULL) ? bound->birth : 0);
		rest[SEC_COMPANY] = rest[SEC_BIRTH] + (a->company && b->company ? bound->company : 0);
		rest[SEC_NAMES] = rest[SEC_COMPANY] + (persons ? bound->names : 0);
		rest[SEC_CONTACTS] = rest[SEC_NAMES] + (nshared > 0 ? bound->phone + bound->email : 0);
		rest[SEC_IDS] = rest[SEC_CONTACTS];		/* not used */
	}

	/* identifiers: same, one typo apart, different */
	for (int k = 0; k < (int) lengthof(ids); k++)
	{
		const char *av = crm_match_field(a, ids[k].field);
		const char *bv = crm_match_field(b, ids[k].field);

		if (av == NULL || bv == NULL)
			continue;
		/* a 14-digit local unit agrees with its 9-digit unit */
		if (strcmp(av, bv) == 0 || (ids[k].field == MF_REGON && strncmp(av, bv, 9) == 0))
			found(&s, 1 + k, ids[k].ev, "same %s", ids[k].label);
		/* not equal: at most one typo is one */
		else if (crm_typo_at_most_one(av, strlen(av), bv, strlen(bv)))
			found(&s, 1 + k, ids[k].ev + 1, "%s one typo away: %s ~ %s", ids[k].label, av, bv);
		else
			found(&s, 1 + k, ids[k].ev + 2, "different %s: %s, %s", ids[k].label, av, bv);
	}
	if (GIVE_UP(s, rest, SEC_CONTACTS))
		return 0;

	/* phones and e-mails in common: each kind counts once, shown by its least value */
	{
		const char *phone = NULL;
		const char *email = NULL;

		for (int k = 0; k < nshared; k++)
		{
			if (strncmp(shared[k], "phone:", 6) == 0 && (!phone || strcmp(shared[k] + 6, phone) < 0))
				phone = shared[k] + 6;
			else if (strncmp(shared[k], "email:", 6) == 0 && (!email || strcmp(shared[k] + 6, email) < 0))
				email = shared[k] + 6;
		}
		if (phone)
			found(&s, 4, EV_PHONE, "same phone %s", phone);
		if (email)
			found(&s, 4, EV_EMAIL, "same e-mail %s", email);
	}
	if (GIVE_UP(s, rest, SEC_NAMES))
		return 0;

	if (persons)
	{
		const char *al = typed(a, MF_LAST_N);
		const char *bl = typed(b, MF_LAST_N);
		const char *af = crm_match_field(a, MF_FIRST_CANON);
		const char *bf = crm_match_field(b, MF_FIRST_CANON);

		/* a person always has a last name, unless anonymized: no evidence */
		bool		both = crm_match_field(a, MF_LAST_N) && crm_match_field(b, MF_LAST_N);

		swapped = both && strcmp(al, bl) != 0 &&
			((same(al, crm_match_field(b, MF_FIRST_N)) && same(af, crm_match_field(b, MF_LAST_CANON))) ||
			 /* a diminutive on the swapped side: Kingsby Betty ~ Elizabeth Kingsby */
			 (same(crm_match_field(a, MF_LAST_CANON), bf) && same(af, crm_match_field(b, MF_LAST_CANON))) ||
			 /* spelled another way too */
			 (!same(crm_match_field(a, MF_LAST_SK), crm_match_field(b, MF_LAST_SK)) &&
			  same(crm_match_field(a, MF_LAST_SK), crm_match_field(b, MF_FIRST_SK)) &&
			  same(crm_match_field(a, MF_FIRST_SK), crm_match_field(b, MF_LAST_SK))));
		/* swapped with one typo: Kowalsky Jan ~ Jan Kowalski */
		swapped_typo = both && !swapped && strcmp(al, bl) != 0 &&
			(same(crm_match_field(a, MF_LAST_SK), crm_match_field(b, MF_FIRST_SK)) ||
			 skeletons_one_typo(a, MF_LAST_SK, b, MF_FIRST_SK, 4)) &&
			(same(crm_match_field(a, MF_FIRST_SK), crm_match_field(b, MF_LAST_SK)) ||
			 skeletons_one_typo(a, MF_FIRST_SK, b, MF_LAST_SK, 4)) &&
			!same(crm_match_field(a, MF_LAST_SK), crm_match_field(b, MF_LAST_SK)) &&
			!skeletons_one_typo(a, MF_LAST_SK, b, MF_LAST_SK, 1);
		reordered = both && !swapped && !swapped_typo && strcmp(al, bl) != 0 &&
			!same(crm_match_field(a, MF_LAST_SK), crm_match_field(b, MF_LAST_SK)) &&
			name_words_within(a, b);
		if (!both)
			;
		else if (strcmp(al, bl) == 0)
		{
			frequency(&s, TF_LAST_NAME, crm_match_field(a, MF_LAST_SK), EV_LAST_NAME);
			found(&s, 5, EV_LAST_NAME, "same last name: %s", typed(a, MF_LAST));
		}
		else if (same(crm_match_field(a, MF_LAST_SK), crm_match_field(b, MF_LAST_SK)))
		{
			/* one name in two spellings: as common as the name (counted by skeleton) */
			frequency(&s, TF_LAST_NAME, crm_match_field(a, MF_LAST_SK), EV_LAST_NAME_SPELLING);
			found(&s, 5, EV_LAST_NAME_SPELLING, "same last name, spelled another way: %s ~ %s",
				  typed(a, MF_LAST), typed(b, MF_LAST));
		}
		else if (swapped)
			found(&s, 5, EV_NAMES_SWAPPED, "first and last name swapped: %s %s ~ %s %s",
				  typed(a, MF_FIRST), typed(a, MF_LAST), typed(b, MF_FIRST), typed(b, MF_LAST));
		else if (swapped_typo)
			found(&s, 5, EV_NAMES_SWAPPED, "first and last name swapped, one typo away: %s %s ~ %s %s",
				  typed(a, MF_FIRST), typed(a, MF_LAST), typed(b, MF_FIRST), typed(b, MF_LAST));
		else if (reordered)
			found(&s, 5, EV_NAMES_SWAPPED, "the same names in another order: %s %s ~ %s %s",
				  typed(a, MF_FIRST), typed(a, MF_LAST), typed(b, MF_FIRST), typed(b, MF_LAST));
		else if (gender_form(al) && gender_form(bl) && strlen(al) == strlen(bl) &&
				 strncmp(al, bl, strlen(al) - 1) == 0)
			found(&s, 5, EV_LAST_NAME_GENDER, "last name in the other gender form: %s ~ %s",
				  typed(a, MF_LAST), typed(b, MF_LAST));
		else if (one_typo(al, bl, 4))
			found(&s, 5, EV_LAST_NAME_SIMILAR, "last name one typo away: %s ~ %s",
				  typed(a, MF_LAST), typed(b, MF_LAST));
		/* Owczaryk ~ Ovcharik: another transliteration and a typo */
		else if ((loose_last = skeletons_one_typo(a, MF_LAST_SK, b, MF_LAST_SK, 4)))
			found(&s, 5, EV_LAST_NAME_SIMILAR, "last name spelled another way, one typo away: %s ~ %s",
				  typed(a, MF_LAST), typed(b, MF_LAST));
		else
		{
			/*
			 * Jaro-Winkler weighs the start: Szewczenko ~ Szewczuk (0.92),
			 * Bondarenko ~ Bondar are two surnames of one stem, three or
			 * more edits apart; a last name mistyped is two at most (on
			 * bench/quality.sh's foreigners at 1,000,000 the similar level
			 * held 479 false pairs and 93 true ones more than two apart)
			 */
			similar_or_differ(&s, 5, EV_LAST_NAME_SIMILAR, EV_LAST_NAME_DIFFER, 0.9, 2, "last name", al, bl,
							  typed(a, MF_LAST), typed(b, MF_LAST));
			loose_last = (s.found & CRM_EVIDENCE_BIT(EV_LAST_NAME_SIMILAR)) != 0;
		}

		if (af && bf && *af && *bf && !swapped && !swapped_typo && !reordered)
		{
			if (strcmp(af, bf) == 0)
			{
				frequency(&s, TF_FIRST_NAME, crm_match_field(a, MF_FIRST1_SK), EV_FIRST_NAME);
				if (same(crm_match_field(a, MF_FIRST_N), crm_match_field(b, MF_FIRST_N)))
					found(&s, 6, EV_FIRST_NAME, "same first name: %s", typed(a, MF_FIRST));
				else
					found(&s, 6, EV_FIRST_NAME, "first name diminutive: %s ~ %s",
						  typed(a, MF_FIRST), typed(b, MF_FIRST));
			}
			else if (same(crm_match_field(a, MF_FIRST_SK), crm_match_field(b, MF_FIRST_SK)))
			{
				frequency(&s, TF_FIRST_NAME, crm_match_field(a, MF_FIRST1_SK), EV_FIRST_NAME_SPELLING);
				found(&s, 6, EV_FIRST_NAME_SPELLING, "same first name, spelled another way: %s ~ %s",
					  typed(a, MF_FIRST), typed(b, MF_FIRST));
			}
			/* a second name (a patronymic) on one side only: Oksana ~ Oksana Petrivna */
			else if ((strchr(af, ' ') != NULL) != (strchr(bf, ' ') != NULL) &&
					 same(crm_match_field(a, MF_FIRST1_SK), crm_match_field(b, MF_FIRST1_SK)))
			{
				frequency(&s, TF_FIRST_NAME, crm_match_field(a, MF_FIRST1_SK), EV_FIRST_NAME_SPELLING);
				found(&s, 6, EV_FIRST_NAME_SPELLING, "same first name, a second name on one side: %s ~ %s",
					  typed(a, MF_FIRST), typed(b, MF_FIRST));
			}
			/* Sam ~ Samantha, Sam ~ Sammy */
			else if (nickname_of_several(crm_match_field(a, MF_FIRST_N), af, crm_match_field(b, MF_FIRST_N), bf))
				found(&s, 6, EV_FIRST_NAME_SIMILAR, "first name a nickname of several names: %s ~ %s",
					  typed(a, MF_FIRST), typed(b, MF_FIRST));
			else if (at_least(similarity(af, bf), 0.9) || one_typo(af, bf, 1))
				found(&s, 6, EV_FIRST_NAME_SIMILAR, "first name similar: %s ~ %s",
					  typed(a, MF_FIRST), typed(b, MF_FIRST));
			/* Mykhailo ~ Michajlo with a typo; Oleksandr ~ Oleksndr Ivanovych */
			else if (skeletons_one_typo(a, MF_FIRST_SK, b, MF_FIRST_SK, 3))
				found(&s, 6, EV_FIRST_NAME_SIMILAR, "first name spelled another way, one typo away: %s ~ %s",
					  typed(a, MF_FIRST), typed(b, MF_FIRST));
			else if ((strchr(af, ' ') != NULL) != (strchr(bf, ' ') != NULL) &&
					 skeletons_one_typo(a, MF_FIRST1_SK, b, MF_FIRST1_SK, 3))
				found(&s, 6, EV_FIRST_NAME_SIMILAR, "first name one typo away, a second name on one side: %s ~ %s",
					  typed(a, MF_FIRST), typed(b, MF_FIRST));
			/* an initial for the name: J. ~ James */
			else if ((af[1] == '\0' || bf[1] == '\0') && af[0] == bf[0])
				found(&s, 6, EV_FIRST_NAME_SIMILAR, "first name's initial: %s ~ %s",
					  typed(a, MF_FIRST), typed(b, MF_FIRST));
			else if (same_consonants(crm_match_field(a, MF_FIRST_SK), crm_match_field(b, MF_FIRST_SK)))
				found(&s, 6, EV_FIRST_NAME_SIMILAR, "first name in another language's form: %s ~ %s",
					  typed(a, MF_FIRST), typed(b, MF_FIRST));
			/* Ołeksandr Iwanowycz ~ Aleksander */
			else if ((strchr(af, ' ') != NULL) != (strchr(bf, ' ') != NULL) &&
					 same_consonants(crm_match_field(a, MF_FIRST1_SK), crm_match_field(b, MF_FIRST1_SK)))
				found(&s, 6, EV_FIRST_NAME_SIMILAR, "first name in another language's form, a second name on one side: %s ~ %s",
					  typed(a, MF_FIRST), typed(b, MF_FIRST));
			else
				found(&s, 6, EV_FIRST_NAME_DIFFER, "different first names: %s, %s",
					  typed(a, MF_FIRST), typed(b, MF_FIRST));
		}
	}

	if (GIVE_UP(s, rest, SEC_COMPANY))
		return 0;
	if (a->company && b->company && crm_match_field(a, MF_COMPANY_N) && crm_match_field(b, MF_COMPANY_N))
	{
		const char *ac = typed(a, MF_COMPANY_N);
		const char *bc = typed(b, MF_COMPANY_N);

		if (strcmp(ac, bc) == 0)
			found(&s, 7, EV_COMPANY, "same company name: %s ~ %s", typed(a, MF_COMPANY), typed(b, MF_COMPANY));
		else
			similar_or_differ(&s, 7, EV_COMPANY_SIMILAR, EV_COMPANY_DIFFER, 0.92, 0, "company name", ac, bc,
							  typed(a, MF_COMPANY), typed(b, MF_COMPANY));
	}

	if (GIVE_UP(s, rest, SEC_BIRTH))
		return 0;
	/* a birth date says something of its own only where a PESEL does not */
	if (a->has_birth && b->has_birth &&
		(crm_match_field(a, MF_PESEL) == NULL || crm_match_field(b, MF_PESEL) == NULL))
	{
		int			ya = 0, ma = 0, da = 0, yb = 0, mb = 0, db = 0;

		if (a->birth != b->birth && !DATE_NOT_FINITE(a->birth) && !DATE_NOT_FINITE(b->birth))
		{
			j2date(a->birth + POSTGRES_EPOCH_JDATE, &ya, &ma, &da);
			j2date(b->birth + POSTGRES_EPOCH_JDATE, &yb, &mb, &db);
		}
		if (a->birth == b->birth)
		{
			/*
			 * Namesakes born the same day: where the full name is borne by
			 * so many that some of them share a birth date by chance, a
			 * pair with nothing but the names and the date in common is
			 * scored no higher than the odds the counts give
			 * (crm_namesake_cap(), matchfreq.c): the date weighs less, never
			 * below 0.  The names' own adjustments are bounded (each keeps
			 * a bit): on bench/quality.sh's foreigners at 1,000,000 such
			 * pairs were 983 of the 2,662 false ones.
			 */
			const MatchEvidenceSet last = CRM_EVIDENCE_BIT(EV_LAST_NAME) | CRM_EVIDENCE_BIT(EV_LAST_NAME_SPELLING);
			const MatchEvidenceSet first = CRM_EVIDENCE_BIT(EV_FIRST_NAME) | CRM_EVIDENCE_BIT(EV_FIRST_NAME_SPELLING);
			double		w = s.weights->w[EV_BIRTH_DATE];

			/*
			 * Last names alike only loosely (Jaro-Winkler, or another
			 * transliteration and a typo: Klymski ~ Klymyk, Melniuk ~ Melnyk,
			 * Shevchenko ~ Sawczenko are other families' names): whatever
			 * the first names, the date corroborates only where more
			 * agrees, as a date one typo away does (on bench/quality.sh's
			 * foreigners at 1,000,000, with the same first name: 135 true
			 * and 433 false pairs held by the date alone; on the
			 * English-speaking set 2 and 70).
			 */
			if (w > 0 && (loose_last || ((s.found & last) && (s.found & first))) &&
				!birth_date_corroborated(&s, a, b))
			{
				double		cap;

				if (loose_last)
					weigh_less(&s, EV_BIRTH_DATE, -w,
							   "last names only alike, nothing but the names and the city agree");
				else if (s.total + w > (cap = crm_namesake_cap(s.freq, a)))
					weigh_less(&s, EV_BIRTH_DATE, Max(cap - (s.total + w), -w),
							   "a common full name, nothing but the names and the city agree");
			}
			found(&s, 8, EV_BIRTH_DATE, "same birth date %s", s.explain ? date_text(a->birth) : "");
		}
		else if (ya != 0 && crm_dates_one_typo(ya, ma, da, yb, mb, db))
		{
			/*
			 * A date one typo away corroborates, it does not stand alone
			 * with the names: a date has about 30 others one typing mistake
			 * away over the 60 years of a base's birth dates (1 in 700), so a
			 * name shared by 700 persons has on average one bearer whose date
			 * is one typo from anyone's.  It weighs its weight where
			 * something more than the names and the city agrees (an
			 * identifier, a phone or e-mail, the postal code, the address),
			 * nothing otherwise (1,355 false pairs against 108 true ones
			 * among such pairs on bench/quality.sh's foreigners at 1,000,000).
			 */
			double		w = s.weights->w[EV_BIRTH_DATE_CLOSE];

			if (w > 0 && !birth_date_corroborated(&s, a, b))
				weigh_less(&s, EV_BIRTH_DATE_CLOSE, -w, "nothing but the names and the city agree");
			found(&s, 8, EV_BIRTH_DATE_CLOSE, "birth dates one typo apart: %s, %s",
				  s.explain ? date_text(a->birth) : "", s.explain ? date_text(b->birth) : "");
		}
		else
			found(&s, 8, EV_BIRTH_DATE_DIFFER, "different birth dates: %s, %s",
				  s.explain ? date_text(a->birth) : "", s.explain ? date_text(b->birth) : "");
	}

	if (GIVE_UP(s, rest, SEC_LOCATION))
		return 0;

	/*
	 * Where they live: the same postal code says it all (a postal code lies
	 * in one town: counting the city too would count one fact twice);
	 * otherwise the city, and a postal code mistyped or different.
	 */
	{
		const char *ap = crm_match_field(a, MF_POSTCODE);
		const char *bp = crm_match_field(b, MF_POSTCODE);
		bool		same_postcode = same(ap, bp);

		if (same_postcode)
			found(&s, 9, EV_POSTCODE, "same postal code: %s", typed(a, MF_POSTAL));
		else if (crm_match_field(a, MF_CITY) && crm_match_field(b, MF_CITY))
		{
			if (same(crm_match_field(a, MF_CITY_N), crm_match_field(b, MF_CITY_N)))
				found(&s, 9, EV_CITY, "same city: %s", typed(a, MF_CITY));
			else if (one_typo(typed(a, MF_CITY_N), typed(b, MF_CITY_N), 4))
				found(&s, 9, EV_CITY_SIMILAR, "city one typo away: %s ~ %s", typed(a, MF_CITY), typed(b, MF_CITY));
			else
				found(&s, 9, EV_CITY_DIFFER, "different cities: %s, %s", typed(a, MF_CITY), typed(b, MF_CITY));
		}
		/*
		 * A postal code of another town says again what the different
		 * cities said: counted once, by the cities.
		 */
		if (ap && bp && !same_postcode)
		{
			if (one_typo(ap, bp, 3))
				found(&s, 10, EV_POSTCODE_CLOSE, "postal codes one typo apart: %s ~ %s",
					  typed(a, MF_POSTAL), typed(b, MF_POSTAL));
			else if (!(s.found & CRM_EVIDENCE_BIT(EV_CITY_DIFFER)))
				found(&s, 10, EV_POSTCODE_DIFFER, "different postal codes: %s, %s",
					  typed(a, MF_POSTAL), typed(b, MF_POSTAL));
		}
	}

	if (GIVE_UP(s, rest, SEC_ADDRESS))
		return 0;
	{
		const char *aa = crm_match_field(a, MF_ADDRESS_N);
		const char *ba = crm_match_field(b, MF_ADDRESS_N);

		if (aa && ba && *aa && *ba)
		{
			if (strcmp(aa, ba) == 0)
				found(&s, 11, EV_ADDRESS, "same address: %s", typed(a, MF_ADDRESS));
			else
				switch (address_similar(a, b))
				{
					case ADDRESS_TYPO:
						found(&s, 11, EV_ADDRESS_SIMILAR, "address similar: %s ~ %s",
							  typed(a, MF_ADDRESS), typed(b, MF_ADDRESS));
						break;
					case ADDRESS_NUMBER_TYPO:
						found(&s, 11, EV_ADDRESS_SIMILAR, "address with the house number one typo away: %s ~ %s",
							  typed(a, MF_ADDRESS), typed(b, MF_ADDRESS));
						break;
					case ADDRESS_OTHER:
						break;
				}
		}
	}

	if (reasons)
	{
		Datum	   *texts = palloc(sizeof(Datum) * Max(s.nreasons, 1));

		qsort(s.reasons, s.nreasons, sizeof(Reason), compare_reasons);
		for (int k = 0; k < s.nreasons; k++)
			texts[k] = CStringGetTextDatum(s.reasons[k].text);
		*reasons = PointerGetDatum(construct_array(texts, s.nreasons, TEXTOID, -1, false, TYPALIGN_INT));
	}
	if (evidence)
		*evidence = s.found;
	{
		double		score = 1.0 / (1.0 + pow(2.0, -s.total));

		/*
		 * In [0, 1] whatever the total: 2^-total is at least 0.  (A total
		 * of NaN, from weights of both infinities, gives NaN, which no
		 * min_score keeps; the comparisons are written to let it by.)
		 */
		Assert(!(score < 0.0 || score > 1.0));
		return score;
	}
}

/*-------------------------------------------------------------------------
 * crm.match_score(a, b, shared, w)
 *-------------------------------------------------------------------------
 */

/* what one call site keeps between calls: the weights of the last w */
typedef struct ScoreCache
{
	Oid			client_type;	/* crm.client's row type, found on first use */
	TupleDesc	desc;
	MatchColumns cols;
	Jsonb	   *json;
	MatchWeights weights;
} ScoreCache;

static void
client_from_datum(ScoreCache *cache, HeapTupleHeader row, MatchClient *c, MemoryContext dest)
{
	HeapTupleData tuple;

	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = row;
	crm_match_client_from_tuple(c, &tuple, cache->desc, &cache->cols, dest);
}

PG_FUNCTION_INFO_V1(match_score);
Datum
match_score(PG_FUNCTION_ARGS)
{
	ScoreCache *cache = fcinfo->flinfo->fn_extra;
	HeapTupleHeader ra;
	HeapTupleHeader rb;
	Jsonb	   *json;
	MatchClient a;
	MatchClient b;
	MatchFrequencies freq;
	char	  **shared = NULL;
	int			nshared = 0;
	TupleDesc	result_desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	ra = PG_GETARG_HEAPTUPLEHEADER(0);
	rb = PG_GETARG_HEAPTUPLEHEADER(1);
	json = PG_GETARG_JSONB_P(3);

	if (cache == NULL)
		cache = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ScoreCache));
	if (HeapTupleHeaderGetTypeId(ra) != HeapTupleHeaderGetTypeId(rb) ||
		HeapTupleHeaderGetTypMod(ra) != HeapTupleHeaderGetTypMod(rb))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("arguments a and b of crm.match_score must be rows of the same type"),
				 errhint("Pass two rows of crm.client.")));

	/*
	 * Only rows of crm.client or anonymous records (ROW(...), a subquery's
	 * row).  A value of a named composite type does not record the layout
	 * it was made with: altered after the value was made (by its owner, any
	 * role, a temporary table's row type), it would be read with the new
	 * layout, past its data.  crm.client's row type changes only by its
	 * owner's ALTER TABLE, and an anonymous record's layout never changes.
	 */
	if (HeapTupleHeaderGetTypeId(ra) != RECORDOID)
	{
		if (!OidIsValid(cache->client_type))
			cache->client_type = get_rel_type_id(get_relname_relid("client",
																   get_namespace_oid("crm", false)));
		if (HeapTupleHeaderGetTypeId(ra) != cache->client_type)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("crm.match_score takes rows of crm.client, not of %s",
							format_type_be(HeapTupleHeaderGetTypeId(ra))),
					 errhint("Pass rows of crm.client, or anonymous records: ROW(...) or a subquery's row.")));
	}

	/*
	 * The row type's current layout: crm.client's may change between two
	 * calls of one query (its owner's ALTER TABLE), so it is looked up every
	 * call and the columns found again when it changed.
	 */
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(ra),
												  HeapTupleHeaderGetTypMod(ra));

		if (cache->desc == NULL || !equalTupleDescs(desc, cache->desc))
		{
			MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

			if (cache->desc)
				FreeTupleDesc(cache->desc);
			cache->desc = CreateTupleDescCopy(desc);
			MemoryContextSwitchTo(old);
			crm_match_columns(cache->desc, &cache->cols);
		}
		ReleaseTupleDesc(desc);
	}
	if (HeapTupleHeaderGetNatts(ra) > cache->desc->natts ||
		HeapTupleHeaderGetNatts(rb) > cache->desc->natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("a row passed to crm.match_score does not match its type's current layout"),
				 errdetail("The row has more columns than its type now has.")));
	/* the same weights call after call: parsed once */
	if (cache->json == NULL || VARSIZE(cache->json) != VARSIZE(json) ||
		memcmp(cache->json, json, VARSIZE(json)) != 0)
	{
		crm_match_weights_from_jsonb(&cache->weights, json);
		if (cache->json)
			pfree(cache->json);
		cache->json = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE(json));
		memcpy(cache->json, json, VARSIZE(json));
	}

	client_from_datum(cache, ra, &a, CurrentMemoryContext);
	client_from_datum(cache, rb, &b, CurrentMemoryContext);
	if (!PG_ARGISNULL(2))
	{
		Datum	   *elems;
		bool	   *enulls;

		deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &enulls, &nshared);
		shared = palloc(sizeof(char *) * Max(nshared, 1));
		for (int k = 0; k < nshared; k++)
			shared[k] = enulls[k] ? "" : TextDatumGetCString(elems[k]);
	}

	/* how common a's names and city are (an agreement is on one of a's values) */
	{
		MemoryContext here = CurrentMemoryContext;

		SPI_connect();
		crm_match_frequencies_load(&freq, &a, SCORES_FOR_CALLER, here);
		SPI_finish();
	}
	values[0] = Float8GetDatum(crm_match_score(&a, &b, (const char *const *) shared, nshared,
											   &cache->weights, &freq, &values[1]));
	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "crm.match_score must return a record");
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(result_desc), values, nulls)));
}
