/*-------------------------------------------------------------------------
 *
 * scoring.h
 *	  Duplicate scoring: a client's matching forms, its blocking keys, and
 *	  the Fellegi-Sunter score and reasons of a pair of clients.  One home
 *	  for the evidence, used by crm.match_score() (scoring.c),
 *	  crm.match_keys() (matching.c) and crm.duplicate_pairs() (pairs.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_SCORING_H
#define CRM_SCORING_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/date.h"
#include "utils/jsonb.h"

/*
 * The kinds of evidence, in the order of their names in scoring.c; the
 * defaults and their meaning are crm.match_weight_defaults() (SQL).
 */
typedef enum MatchEvidence
{
	EV_PRIOR,
	EV_PESEL, EV_PESEL_TYPO, EV_PESEL_DIFFER,
	EV_NIP, EV_NIP_TYPO, EV_NIP_DIFFER,
	EV_REGON, EV_REGON_TYPO, EV_REGON_DIFFER,
	EV_PHONE, EV_EMAIL,
	EV_LAST_NAME, EV_LAST_NAME_SIMILAR, EV_LAST_NAME_GENDER, EV_LAST_NAME_DIFFER,
	EV_NAMES_SWAPPED,
	EV_FIRST_NAME, EV_FIRST_NAME_SIMILAR, EV_FIRST_NAME_DIFFER,
	EV_COMPANY, EV_COMPANY_SIMILAR, EV_COMPANY_DIFFER,
	EV_BIRTH_DATE, EV_BIRTH_DATE_DIFFER,
	EV_CITY, EV_CITY_DIFFER,
	EV_ADDRESS,
	EV_COUNT
} MatchEvidence;

typedef struct MatchWeights
{
	double		w[EV_COUNT];
} MatchWeights;

/* the weights in use: defaults and crm.match_weight (SPI connected) */
extern void crm_match_weights_load(MatchWeights *weights);

/* weights from a jsonb object {evidence: weight} (crm.match_weights()) */
extern void crm_match_weights_from_jsonb(MatchWeights *weights, Jsonb *json);

/* the fields of a client the scoring reads, as typed and in matching form */
typedef enum MatchField
{
	MF_FIRST, MF_LAST, MF_COMPANY, MF_CITY, MF_ADDRESS,	/* as typed */
	MF_FIRST_N,					/* matching form of the first name */
	MF_FIRST_CANON,				/* the same, a diminutive as the full name */
	MF_LAST_N,					/* matching form of the last name */
	MF_LAST_CANON,				/* the last name read as a first name */
	MF_COMPANY_N,				/* the company name without legal form */
	MF_CITY_N, MF_ADDRESS_N,
	MF_PESEL, MF_NIP, MF_REGON, /* digits */
	MF_COUNT
} MatchField;

#define MF_NULL (-1)

typedef struct MatchClient
{
	int64		id;
	bool		person;
	bool		company;
	bool		has_birth;
	DateADT		birth;
	char	   *buf;			/* every field, each NUL-terminated */
	int32		off[MF_COUNT];	/* offset of each field in buf, or MF_NULL */
} MatchClient;

static inline const char *
crm_match_field(const MatchClient *c, MatchField f)
{
	return c->off[f] == MF_NULL ? NULL : c->buf + c->off[f];
}

/* where the fields are in a row of crm.client (attribute numbers - 1) */
typedef struct MatchColumns
{
	int			id, kind, first_name, last_name, company_name, city, address,
				pesel, nip, regon, birth_date;
} MatchColumns;

extern void crm_match_columns(TupleDesc desc, MatchColumns *cols);
extern void crm_match_client_from_tuple(MatchClient *c, HeapTuple tuple, TupleDesc desc,
										const MatchColumns *cols, MemoryContext dest);

/* the matching form of some text in the server encoding, palloc'd */
extern char *crm_normalized(const char *str, size_t len, int *outlen);

/* Jaro-Winkler similarity of two matching forms, word order ignored */
extern double crm_name_similarity(const char *a, int la, const char *b, int lb);

/*
 * The blocking keys of a client (see matching.c); writes up to
 * CRM_MAX_NAME_KEYS palloc'd strings to keys and returns how many.
 */
#define CRM_MAX_NAME_KEYS 4
extern int	crm_match_keys_of(bool company, const char *first_n, const char *last_n,
							  const char *company_n, const char *city_n, const char *address_n,
							  char **keys);

/*
 * The score (0..1) of a pair.  shared: the phones and e-mails they have in
 * common as "phone:+48601234567", "email:jan@x.pl".  With reasons non-NULL
 * also the readable reasons, as a text[] Datum.
 */
extern double crm_match_score(const MatchClient *a, const MatchClient *b,
							  const char *const *shared, int nshared,
							  const MatchWeights *weights, Datum *reasons);

#endif							/* CRM_SCORING_H */
