/*
 * smoke_main.c: a deterministic driver for fuzz_parsers.c that needs no
 * libFuzzer, run by the test suite (make fuzz-smoke).  It feeds N inputs
 * made from a fixed-seed generator: random bytes, valid identifiers, and
 * valid identifiers with digits changed, separators and Unicode digits or
 * spaces inserted, bytes cut.  It also counts how many valid identifiers
 * it made were accepted, so a parser that refused everything would fail.
 * First it checks the name tables (check_name_tables).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idparse.h"
#include "namematch.h"

/* the data tables themselves, to check what namematch.c relies on */
#include "diminutives.h"
#include "legalforms.h"

#include "smokeutil.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a valid identifier of the kind, as ASCII digits; the library fixes check digits */
static int
make_valid(CrmIdKind kind, char *out)
{
	CrmIdDigits d;
	CrmIdError	err;

	for (;;)
	{
		d.n = kind == CRM_PESEL ? 11 : kind == CRM_NIP ? 10 : (next() % 2 ? 9 : 14);
		for (int k = 0; k < d.n; k++)
			d.d[k] = next() % 10;
		if (kind == CRM_PESEL)
		{
			int			month = 1 + next() % 12;

			d.d[2] = (uint8_t) ((month + 20 * (next() % 5)) / 10);
			d.d[3] = (uint8_t) (month % 10);
			d.d[4] = (uint8_t) (next() % 3);
			d.d[5] = (uint8_t) (1 + next() % 8);
		}
		/* fix the check digits the library says are wrong, base first */
		for (int tries = 0; tries < 3 && !crm_id_check(kind, &d, &err); tries++)
		{
			if (err.status == CRM_ID_BAD_REGON_BASE)
				d.d[8] = (uint8_t) err.expected;
			else if (err.status == CRM_ID_BAD_CHECKSUM)
				d.d[d.n - 1] = (uint8_t) err.expected;
			else
				break;
		}
		if (crm_id_check(kind, &d, &err))
			return crm_id_digits_text(&d, out);
	}
}

static const char *const noise[] = {
	" ", "-", "\xC2\xA0", "\xE2\x80\x93", "\xE2\x80\x8B", "\xEF\xBC\x91",	/* fullwidth 1 */
	"\xD9\xA3", "PL", "pl", "x", "\xC3", "\xF0\x9F\x98\x80", "\t", "--", "0",
	"+", "+48 ", "00", "(", ")", ".", "@", "@example.com", "jan.kowalski", "\xC5\x81"	/* Ł */
};

/*
 * The name tables feed IMMUTABLE functions under the index
 * crm.client_match_keys_idx (see diminutives.h).  sql/name_tables.sql pins
 * the output of each entry it lists, but SQL cannot see an entry added:
 * the counts are pinned here.  A new count means a new entry: list it in
 * sql/name_tables.sql and REINDEX in the upgrade script.  Also checked:
 * what the lookups assume (sorted diminutives for bsearch, entries in
 * matching form, no legal form ending another).
 */
#define PINNED_DIMINUTIVES 223
#define PINNED_LEGAL_FORMS 26

static bool
is_matching_form(const char *s)
{
	char		out[128];
	int			n = crm_name_normalize(s, strlen(s), out, sizeof(out));

	return n >= 0 && strcmp(out, s) == 0;
}

static bool
check_name_tables(void)
{
	size_t		ndim = sizeof(diminutives) / sizeof(diminutives[0]);
	size_t		nforms = sizeof(legal_forms) / sizeof(legal_forms[0]);
	bool		ok = true;

	if (ndim != PINNED_DIMINUTIVES || nforms != PINNED_LEGAL_FORMS)
	{
		fprintf(stderr, "name tables: %zu diminutives, %zu legal forms; pinned %d and %d: "
				"list the change in sql/name_tables.sql, REINDEX in the upgrade script, "
				"then pin the new counts in fuzz/smoke_main.c\n",
				ndim, nforms, PINNED_DIMINUTIVES, PINNED_LEGAL_FORMS);
		ok = false;
	}
	for (size_t k = 0; k < ndim; k++)
	{
		const char *full = crm_first_name_canonical(diminutives[k][0]);

		if (k > 0 && strcmp(diminutives[k - 1][0], diminutives[k][0]) >= 0)
		{
			fprintf(stderr, "diminutives.h: \"%s\" out of strcmp order (bsearch)\n", diminutives[k][0]);
			ok = false;
		}
		if (!is_matching_form(diminutives[k][0]) || !is_matching_form(diminutives[k][1]))
		{
			fprintf(stderr, "diminutives.h: {\"%s\", \"%s\"} not in matching form\n",
					diminutives[k][0], diminutives[k][1]);
			ok = false;
		}
		if (full == NULL || strcmp(full, diminutives[k][1]) != 0)
		{
			fprintf(stderr, "diminutives.h: \"%s\" not found\n", diminutives[k][0]);
			ok = false;
		}
	}
	/* the nicknames of several names: sorted, in matching form, found */
	for (size_t k = 0; k < sizeof(nicknames_of_several) / sizeof(nicknames_of_several[0]); k++)
	{
		const char *names = crm_first_name_several(nicknames_of_several[k][0]);

		if (k > 0 && strcmp(nicknames_of_several[k - 1][0], nicknames_of_several[k][0]) >= 0)
		{
			fprintf(stderr, "diminutives.h: nickname \"%s\" out of strcmp order (bsearch)\n",
					nicknames_of_several[k][0]);
			ok = false;
		}
		if (!is_matching_form(nicknames_of_several[k][0]) || !is_matching_form(nicknames_of_several[k][1]) ||
			names == NULL || strcmp(names, nicknames_of_several[k][1]) != 0)
		{
			fprintf(stderr, "diminutives.h: nickname {\"%s\", \"%s\"} not in matching form or not found\n",
					nicknames_of_several[k][0], nicknames_of_several[k][1]);
			ok = false;
		}
	}
	for (size_t k = 0; k < nforms; k++)
	{
		size_t		kl = strlen(legal_forms[k]);

		if (!is_matching_form(legal_forms[k]))
		{
			fprintf(stderr, "legalforms.h: \"%s\" not in matching form\n", legal_forms[k]);
			ok = false;
		}
		for (size_t j = 0; j < nforms; j++)
		{
			size_t		jl = strlen(legal_forms[j]);

			if (jl > kl && legal_forms[j][jl - kl - 1] == ' ' &&
				strcmp(legal_forms[j] + jl - kl, legal_forms[k]) == 0)
			{
				fprintf(stderr, "legalforms.h: \"%s\" ends \"%s\"\n", legal_forms[k], legal_forms[j]);
				ok = false;
			}
		}
	}
	return ok;
}

int
main(int argc, char **argv)
{
	long		runs = argc > 1 ? atol(argv[1]) : 1000000;
	long		accepted = 0;
	uint8_t		buf[96];

	if (!check_name_tables())
		return 1;

	for (long r = 0; r < runs; r++)
	{
		size_t		len = 0;
		int			mode = next() % 4;

		if (mode == 0)
		{
			len = next() % 40;
			for (size_t k = 0; k < len; k++)
				buf[k] = (uint8_t) next();
		}
		else
		{
			CrmIdKind	kind = (CrmIdKind) (next() % 3);
			CrmIdError	err;
			int64_t		value;
			char		id[CRM_ID_MAX_DIGITS + 1];
			int			n = make_valid(kind, id);

			if (!crm_id_parse(kind, id, (size_t) n, &value, &err))
			{
				fprintf(stderr, "valid %s \"%s\" refused\n", crm_id_name(kind), id);
				return 1;
			}
			accepted++;
			memcpy(buf, id, (size_t) n);
			len = (size_t) n;
			/* mode 2: change a digit; mode 3: insert noise */
			for (int m = 0; m < (mode == 1 ? 0 : 1 + (int) (next() % 3)); m++)
			{
				size_t		at = len ? next() % len : 0;

				if (mode == 2)
					buf[at] = (uint8_t) ('0' + next() % 10);
				else
				{
					const char *s = noise[next() % (sizeof(noise) / sizeof(noise[0]))];
					size_t		sl = strlen(s);

					if (len + sl > sizeof(buf))
						break;
					memmove(buf + at + sl, buf + at, len - at);
					memcpy(buf + at, s, sl);
					len += sl;
				}
			}
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("fuzz smoke: name tables checked (%d diminutives, %d legal forms); "
		   "%ld inputs, %ld generated valid identifiers accepted, no contract broken\n",
		   PINNED_DIMINUTIVES, PINNED_LEGAL_FORMS, runs, accepted);
	return 0;
}
