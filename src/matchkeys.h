/*-------------------------------------------------------------------------
 *
 * matchkeys.h
 *	  The blocking keys of a client (matchkeys.c): the clients that
 *	  duplicate search compares are those that share a key; crm.match_keys()
 *	  gives them to SQL and its GIN index.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_MATCHKEYS_H
#define CRM_MATCHKEYS_H

#include "postgres.h"

#include "utils/date.h"

/* what the keys are made of: matching forms (matchforms.h), NULL when none */
typedef struct MatchKeyFields
{
	bool		company;
	const char *first_n;
	const char *last_n;
	const char *company_n;
	const char *city_n;
	const char *address_n;		/* canonical (crm_address_canonical) */
	const char *postcode;		/* crm_postcode_form */
	bool		has_birth;
	DateADT		birth;
} MatchKeyFields;

/*
 * The blocking keys of a client (see matchkeys.c); writes up to
 * CRM_MAX_NAME_KEYS palloc'd strings to keys and returns how many.
 */
#define CRM_MAX_NAME_KEYS 7
extern int	crm_match_keys_of(const MatchKeyFields *f, char **keys);

/*
 * The blocking passes: the kinds of key of crm_match_keys_of (by their
 * prefix), identifiers (pesel:, nip:, regon:), phones and e-mails.
 */
typedef enum MatchPass
{
	MP_NAME, MP_FIRST, MP_LAST, MP_BIRTH, MP_POSTCODE, MP_ADDRESS, MP_COMPANY, MP_ID, MP_CONTACT,
	MP_COUNT
} MatchPass;

/* the pass of a key of crm_match_keys_of, or of an identifier's (MP_ID) */
extern MatchPass crm_match_key_pass(const char *key);
extern const char *crm_match_pass_name(MatchPass pass);

/*
 * The largest block a pass compares, given crm.max_block_size(): a tenth
 * of it (20 by default) for the typo passes f: and l:, whose blocks gather
 * the bearers of a common first or last name (see matchkeys.c); the size
 * itself for the others.
 */
extern int	crm_match_pass_cap(MatchPass pass, int max_block);

/* the fields of the keys of a client read by matchforms.c */
struct MatchClient;
extern void crm_match_key_fields(const struct MatchClient *c, MatchKeyFields *f);

#endif							/* CRM_MATCHKEYS_H */
