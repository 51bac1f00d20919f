/*-------------------------------------------------------------------------
 *
 * matchforms.h
 *	  A client's matching forms: the fields of a row of crm.client that
 *	  duplicate search reads, as typed and in matching form (matchforms.c),
 *	  for the blocking keys (matchkeys.c) and the score (scoring.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_MATCHFORMS_H
#define CRM_MATCHFORMS_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/date.h"

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
	MF_LAST_SK,					/* skeleton of the last name (transliterations alike) */
	MF_FIRST_SK,				/* skeleton of the canonical first name */
	MF_FIRST1_SK,				/* skeleton of the canonical first word of the first name */
	MF_ADDRESS_NUMS,			/* the numbers of MF_ADDRESS_N: "6 80" of "6 80 heather ct" */
	MF_ADDRESS_WORDS,			/* its other words: "heather ct" */
	MF_POSTAL,					/* the postal code as typed */
	MF_POSTCODE,				/* the postal code: letters and digits, lower case */
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
	int			postal_code;	/* -1: a record without one (crm.match_score) */
} MatchColumns;

extern void crm_match_columns(TupleDesc desc, MatchColumns *cols);
extern void crm_match_client_from_tuple(MatchClient *c, HeapTuple tuple, TupleDesc desc,
										const MatchColumns *cols, MemoryContext dest);

/* the matching form of some text in the server encoding, palloc'd */
extern char *crm_normalized(const char *str, size_t len, int *outlen);

/* a postal code's matching form: its letters and digits in lower case (22-276, NR1 1LH), palloc'd; NULL when none */
extern char *crm_postcode_form(const char *s);

/* the words of a matching form in alphabetical order, one space apart, palloc'd */
extern char *crm_sorted_words(const char *s, int len);

/* the skeleton of a matching form (crm_name_skeleton), palloc'd; NULL for NULL */
extern char *crm_skeleton(const char *norm);

/* the canonical form (a diminutive as the full name) of the first word of a first name, palloc'd */
extern char *crm_first_word_canonical(const char *first_n);

#endif							/* CRM_MATCHFORMS_H */
