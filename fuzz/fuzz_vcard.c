/*
 * fuzz_vcard.c: libFuzzer target for the vCard writer's byte rules
 * (src/core/vcard.c): an input is a text value as a client's column may
 * hold it, escaped (crm_vcard_escape) and then folded as a content line
 * (crm_vcard_fold), as crm.vcard() does.
 *
 * Beyond "no crash, no sanitizer report", the contracts of RFC 6350 that
 * the card's readers count on:
 *	- the escaped text is within CRM_VCARD_ESCAPE_MAX, has no line break,
 *	  every backslash, comma and semicolon is escaped, and unescaping gives
 *	  the input back with its line breaks (CRLF, CR, LF) as LF;
 *	- the folded line is within CRM_VCARD_FOLD_MAX, ends with its one CRLF,
 *	  no physical line is longer than 75 octets, and unfolding (removing
 *	  each CRLF and the space after it) gives the escaped text back;
 *	- for valid UTF-8, no fold falls inside a character.
 * Build and run: make fuzz-vcard FUZZ_RUNS=10000000 (or tools/dev.sh fuzz).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vcard.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) \
	do { if (!(cond)) { fprintf(stderr, "contract broken: %s (line %d)\n", #cond, __LINE__); abort(); } } while (0)

/* well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF) */
static bool
valid_utf8(const uint8_t *s, size_t n)
{
	size_t		i = 0;

	while (i < n)
	{
		uint8_t		c = s[i];
		size_t		len;
		uint32_t	cp;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
			(len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		i += len;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *) data;
	char	   *esc = malloc(CRM_VCARD_ESCAPE_MAX(size) + 1);
	char	   *fold;
	char	   *back;
	size_t		ne;
	size_t		nf;
	size_t		nb = 0;
	size_t		line = 0;

	REQUIRE(esc != NULL);
	ne = crm_vcard_escape(in, size, esc);
	REQUIRE(ne >= size && ne <= CRM_VCARD_ESCAPE_MAX(size));

	/* unescaped: the input, its line breaks made LF */
	back = malloc(size + 1);
	REQUIRE(back != NULL);
	for (size_t i = 0; i < ne; i++)
	{
		REQUIRE(esc[i] != '\r' && esc[i] != '\n');
		if (esc[i] == '\\')
		{
			REQUIRE(i + 1 < ne);
			i++;
			REQUIRE(esc[i] == '\\' || esc[i] == ',' || esc[i] == ';' || esc[i] == 'n');
			back[nb++] = esc[i] == 'n' ? '\n' : esc[i];
		}
		else
		{
			REQUIRE(esc[i] != ',' && esc[i] != ';');
			back[nb++] = esc[i];
		}
	}
	{
		size_t		k = 0;

		for (size_t i = 0; i < size; i++)
		{
			char		want = data[i] == '\r' ? '\n' : (char) data[i];

			if (data[i] == '\r' && i + 1 < size && data[i + 1] == '\n')
				i++;
			REQUIRE(k < nb && back[k] == want);
			k++;
		}
		REQUIRE(k == nb);
	}
	free(back);

	/* folded: physical lines of 75 octets at most, unfolding gives esc back */
	fold = malloc(CRM_VCARD_FOLD_MAX(ne) + 1);
	REQUIRE(fold != NULL);
	nf = crm_vcard_fold(esc, ne, fold);
	REQUIRE(nf >= ne + 2 && nf <= CRM_VCARD_FOLD_MAX(ne));
	REQUIRE(fold[nf - 2] == '\r' && fold[nf - 1] == '\n');
	nb = 0;
	for (size_t i = 0; i < nf - 2; i++)
	{
		if (fold[i] == '\r')
		{
			/* a fold: CRLF and a space, never at the start, never doubled */
			REQUIRE(i + 2 < nf - 2 && fold[i + 1] == '\n' && fold[i + 2] == ' ');
			REQUIRE(line > 0);
			if (valid_utf8((const uint8_t *) esc, ne))
				REQUIRE(((uint8_t) fold[i + 3] & 0xC0) != 0x80);
			i += 2;
			line = 1;
			continue;
		}
		REQUIRE(fold[i] == esc[nb]);
		nb++;
		line++;
		REQUIRE(line <= CRM_VCARD_LINE_OCTETS);
	}
	REQUIRE(nb == ne);
	free(fold);
	free(esc);
	return 0;
}
