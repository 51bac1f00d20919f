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

#include "utils/datetime.h"

#include "datematch.h"
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
 *   b:<birth date's block form>|<initials of the first and last name, in order>
 *     names spelled far apart or swapped, born the same day, or on a day
 *     typed with two digits swapped (crm_date_block_form);
 *   p:<postal code>|l:<last name> and p:<postal code>|f:<canonical first name>
 *     a first name missing or unlike, a last name changed (marriage) or
 *     mistyped at its start, in one postal code;
 * a company c:<company name without legal form, words in order>; and
 * either, with an address:
 *   a:<city>|<address>
 *     a typo anywhere in the name of someone at the same address.
 */
int
crm_match_keys_of(const MatchKeyFields *f, char **keys)
{
	int			nkeys = 0;

	if (f->company)
	{
		if (f->company_n == NULL)
			return 0;
		if (*f->company_n)
			keys[nkeys++] = psprintf("c:%s", crm_sorted_words(f->company_n, strlen(f->company_n)));
	}
	else
	{
		char	   *first = "";
		char	   *last_n;

		if (f->last_n == NULL || *f->last_n == '\0')
			return 0;
		/* spellings of one name from other transliterations in one block */
		last_n = crm_skeleton(f->last_n);
		if (*last_n == '\0')
			return 0;
		if (f->first_n)
		{
			/* each word of a double first name canonical: Kasia Ola */
			char	   *copy = pstrdup(f->first_n);

			for (char *w = strtok(copy, " "); w != NULL; w = strtok(NULL, " "))
			{
				const char *full = crm_first_name_canonical(w);
				char	   *sk = crm_skeleton(full ? full : w);

				if (*sk)
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
		if (f->has_birth && !DATE_NOT_FINITE(f->birth))
		{
			int			y,
						m,
						d;
			char		form[9];

			j2date(f->birth + POSTGRES_EPOCH_JDATE, &y, &m, &d);
			if (crm_date_block_form(y, m, d, form))
			{
				char		i1 = *first ? first[0] : '-';
				char		i2 = last_n[0];

				keys[nkeys++] = psprintf("b:%s|%c%c", form, Min(i1, i2), Max(i1, i2));
			}
		}
		if (f->postcode && *f->postcode)
		{
			const char *sp = strchr(first, ' ');

			keys[nkeys++] = psprintf("p:%s|l:%s", f->postcode, last_n);
			if (*first)
				keys[nkeys++] = psprintf("p:%s|f:%.*s", f->postcode,
										 sp ? (int) (sp - first) : (int) strlen(first), first);
		}
	}
	if (nkeys > 0 && f->city_n && f->address_n && *f->city_n && *f->address_n)
		keys[nkeys++] = psprintf("a:%s|%s", f->city_n, f->address_n);
	Assert(nkeys <= CRM_MAX_NAME_KEYS);
	return nkeys;
}

void
crm_match_key_fields(const MatchClient *c, MatchKeyFields *f)
{
	f->company = c->company;
	f->first_n = crm_match_field(c, MF_FIRST_N);
	f->last_n = crm_match_field(c, MF_LAST_N);
	f->company_n = crm_match_field(c, MF_COMPANY_N);
	f->city_n = crm_match_field(c, MF_CITY_N);
	f->address_n = crm_match_field(c, MF_ADDRESS_N);
	f->postcode = crm_match_field(c, MF_POSTCODE);
	f->has_birth = c->has_birth;
	f->birth = c->birth;
}

/* the blocking passes, by the key's prefix (crm_match_keys_of) */
static const char *const pass_names[MP_COUNT] = {
	"n: names", "f: first name + last's start", "l: last name + initial", "b: birth date + initials",
	"p: postal code + name", "a: city + address", "c: company", "identifiers", "phones and e-mails"
};

const char *
crm_match_pass_name(MatchPass pass)
{
	return pass_names[pass];
}

MatchPass
crm_match_key_pass(const char *key)
{
	if (key[0] != '\0' && key[1] == ':')
		switch (key[0])
		{
			case 'n':
				return MP_NAME;
			case 'f':
				return MP_FIRST;
			case 'l':
				return MP_LAST;
			case 'b':
				return MP_BIRTH;
			case 'p':
				return MP_POSTCODE;
			case 'a':
				return MP_ADDRESS;
			case 'c':
				return MP_COMPANY;
		}
	return MP_ID;
}

int
crm_match_pass_cap(MatchPass pass, int max_block)
{
	/*
	 * f: and l: are for a typo in the other name: a block of them is the
	 * bearers of one first name with one start of a last name, or of one
	 * last name with one initial, and the pairs of a block of 200 are
	 * namesakes but for the typo.  On bench/quality.sh's foreigners at
	 * 1,000,000 clients (first names 15 % and more of their origin) they gave
	 * 47 of 60 million pairs, and 20 instead of 200 lost 48 of 70,046 true
	 * pairs found, which also meet by birth date, postal code or address.
	 */
	if (pass == MP_FIRST || pass == MP_LAST)
		return Max(max_block / 10, 2);
	if (pass == MP_NAME)
		return Max(max_block / 2, 2);
	/*
	 * p: gathers the bearers of one last name, or of one first name, in one
	 * postal code: small where postal codes are (Poland's 22-276), a suburb
	 * where they are coarse (bench/quality.sh's English set: 22 of 30
	 * million pairs at 1,000,000 clients from blocks of up to 200)
	 */
	if (pass == MP_POSTCODE)
		return Max(max_block / 4, 2);
	return max_block;
}
