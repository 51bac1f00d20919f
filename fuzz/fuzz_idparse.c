/*
 * fuzz_idparse.c: libFuzzer target for the PESEL, NIP and REGON parsers.
 *
 * Every input is parsed as each of the three identifiers.  Beyond "no
 * crash, no sanitizer report", it checks the parser's contract:
 *	- a failure names a status and, for character errors, a position inside
 *	  the input;
 *	- a success gives a value that decodes to digits of a valid length that
 *	  pass the checks, and whose canonical text parses back to the same value.
 * Build and run: make fuzz FUZZ_RUNS=10000000 (or tools/dev.sh fuzz).
 */
#include <stdio.h>
#include <stdlib.h>

#include "idparse.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) \
	do { if (!(cond)) { fprintf(stderr, "contract broken: %s (line %d)\n", #cond, __LINE__); abort(); } } while (0)

static void
check_kind(CrmIdKind kind, const uint8_t *data, size_t size)
{
	CrmIdError	err;
	CrmIdError	err2;
	CrmIdDigits digits;
	int64_t		value;
	int64_t		again;
	char		text[CRM_ID_MAX_DIGITS + 1];
	int			n;

	if (!crm_id_parse(kind, (const char *) data, size, &value, &err))
	{
		REQUIRE(err.status != CRM_ID_OK);
		if (err.status == CRM_ID_BAD_CHARACTER || err.status == CRM_ID_BAD_ENCODING ||
			err.status == CRM_ID_BAD_SEPARATOR)
			REQUIRE(err.position >= 1 && (size_t) err.position <= size);
		if (err.status == CRM_ID_BAD_CHECKSUM || err.status == CRM_ID_BAD_REGON_BASE)
			REQUIRE(err.expected >= 0 && err.expected <= 9 && err.given != err.expected);
		return;
	}
	REQUIRE(crm_id_decode(kind, value, &digits));
	REQUIRE(crm_id_check(kind, &digits, &err2));
	REQUIRE(crm_id_encode(kind, &digits) == value);
	n = crm_id_digits_text(&digits, text);
	REQUIRE(n == digits.n);
	REQUIRE(crm_id_parse(kind, text, (size_t) n, &again, &err2) && again == value);
	if (kind == CRM_REGON)
	{
		int64_t		base = crm_regon_base(value);

		REQUIRE(crm_id_decode(kind, base, &digits) && digits.n == 9);
		REQUIRE(crm_id_check(kind, &digits, &err2));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_kind(CRM_PESEL, data, size);
	check_kind(CRM_NIP, data, size);
	check_kind(CRM_REGON, data, size);
	return 0;
}
