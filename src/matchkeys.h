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

/*
 * The blocking keys of a client (see matchkeys.c); writes up to
 * CRM_MAX_NAME_KEYS palloc'd strings to keys and returns how many.
 */
#define CRM_MAX_NAME_KEYS 4
extern int	crm_match_keys_of(bool company, const char *first_n, const char *last_n,
							  const char *company_n, const char *city_n, const char *address_n,
							  char **keys);

#endif							/* CRM_MATCHKEYS_H */
