/*-------------------------------------------------------------------------
 *
 * matchkeys.c
 *	  The blocking keys of a client: only clients that share a key are
 *	  compared, by crm.duplicate_pairs() (pairs.c), crm.duplicate_candidates()
 *	  (candidates.c) and, through crm.match_keys() (matching.c), the GIN
 *	  index crm.client_match_keys_idx.  The keys are stored in that index:
 *	  a change to what they are needs a REINDEX in the upgrade script.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "matchforms.h"
#include "matchkeys.h"
#include "namematch.h"

/*
 * A person has, every name word canonical (a diminutive as the full name)
 * and in its skeleton (crm_name_skeleton: the spellings of other
 * transliterations alike),
 *   n:<first and last name words, in alphabetical order>
 *     same name in any order, diminutive or spelling of diacritics;
 *   f:<canonical first name>|<first 3 letters of the last name>
 *     a typo after the third letter of the last name;
 *   l:<last name>|<initial of the canonical first name>
 *     a typo in the first name;
 * a company c:<company name without legal form, words in order>; and
 * either, with an address:
 *   a:<city>|<address>
 *     a typo anywhere in the name of someone at the same address.
 */
int
crm_match_keys_of(bool company, const char *first_n, const char *last_n,
				  const char *company_n, const char *city_n, const char *address_n,
				  char **keys)
{
	int			nkeys = 0;

	if (company)
	{
		if (company_n == NULL)
			return 0;
		if (*company_n)
			keys[nkeys++] = psprintf("c:%s", crm_sorted_words(company_n, strlen(company_n)));
	}
	else
	{
		char	   *first = "";

		if (last_n == NULL || *last_n == '\0')
			return 0;
		/* spellings of one name from other transliterations in one block */
		last_n = crm_skeleton(last_n);
		if (first_n)
		{
			/* each word of a double first name canonical: Kasia Ola */
			char	   *copy = pstrdup(first_n);

			for (char *w = strtok(copy, " "); w != NULL; w = strtok(NULL, " "))
			{
				const char *full = crm_first_name_canonical(w);
				char	   *sk = crm_skeleton(full ? full : w);

				first = *first ? psprintf("%s %s", first, sk) : sk;
			}
		}
		{
			char	   *both = *first ? psprintf("%s %s", first, last_n) : pstrdup(last_n);

			keys[nkeys++] = psprintf("n:%s", crm_sorted_words(both, strlen(both)));
		}
		if (*first)
		{
			const char *sp = strchr(first, ' ');

			keys[nkeys++] = psprintf("f:%.*s|%.3s", sp ? (int) (sp - first) : (int) strlen(first),
									 first, last_n);
			keys[nkeys++] = psprintf("l:%s|%c", last_n, first[0]);
		}
	}
	if (nkeys > 0 && city_n && address_n && *city_n && *address_n)
		keys[nkeys++] = psprintf("a:%s|%s", city_n, address_n);
	return nkeys;
}
