#!/usr/bin/python3
"""Generate src/core/phonemeta.h from libphonenumber's metadata.

Run with Debian's Python and its python3-phonenumbers package (a Python
first on PATH, such as a pyenv one, may lack it):

    apt-get install python3-phonenumbers
    /usr/bin/python3 tools/gen_phonemeta.py > src/core/phonemeta.h

For every country calling code the header gives:
  - the possible lengths of a national number (significant number, after
    the calling code), as a bit mask (bit n: n digits), taken from the
    general description of the code's main region, the same one
    libphonenumber's is_possible_number reads; lengths that can only be
    dialled locally (possible_length_local_only) are left out;
  - the national (trunk) prefix of the main region, "" if none;
  - the digits a national number can start with, as a bit mask (bit d:
    digit d), and the digits that can follow the trunk prefix's digit at
    the start of a national number, derived exactly from the
    national_number_pattern of the general description of every region
    sharing the code, by walking the parsed regular expression (not
    sampled from example numbers).
"""

import sys

try:
    import re._parser as sre_parse
    import re._constants as sre_c
except ImportError:  # Python < 3.11
    import sre_parse
    import sre_constants as sre_c

import phonenumbers
from phonenumbers import PhoneMetadata

DIGITS = frozenset('0123456789')


def first_chars(items):
    """(set of first characters, nullable) of a parsed sequence."""
    first = set()
    for op, av in items:
        f, nullable = first_of_item(op, av)
        first |= f
        if not nullable:
            return first, False
    return first, True


def first_of_item(op, av):
    if op == sre_c.LITERAL:
        return {chr(av)}, False
    if op == sre_c.NOT_LITERAL:
        return DIGITS - {chr(av)}, False
    if op == sre_c.ANY:
        return set(DIGITS), False
    if op == sre_c.IN:
        chars = set()
        negate = False
        for iop, iav in av:
            if iop == sre_c.NEGATE:
                negate = True
            elif iop == sre_c.LITERAL:
                chars.add(chr(iav))
            elif iop == sre_c.RANGE:
                chars |= {chr(c) for c in range(iav[0], iav[1] + 1)}
            elif iop == sre_c.CATEGORY and iav == sre_c.CATEGORY_DIGIT:
                chars |= DIGITS
            else:
                raise ValueError('unhandled class item %r %r' % (iop, iav))
        return (DIGITS - chars) if negate else chars, False
    if op == sre_c.SUBPATTERN:
        return first_chars(av[-1])
    if op == sre_c.BRANCH:
        first = set()
        nullable = False
        for alt in av[1]:
            f, n = first_chars(alt)
            first |= f
            nullable = nullable or n
        return first, nullable
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
        lo, _hi, sub = av
        f, n = first_chars(sub)
        return f, n or lo == 0
    if op == sre_c.AT:
        return set(), True
    raise ValueError('unhandled pattern item %r %r' % (op, av))


def seq_prefixes(items, k):
    """the strings of length k a parsed sequence's matches start with (and
    whole matches shorter than k)"""
    result = {""}
    for op, av in items:
        grown = set()
        for s in result:
            if len(s) >= k:
                grown.add(s)
            else:
                for t in item_prefixes(op, av, k - len(s)):
                    grown.add(s + t)
        result = grown
    return result


def item_prefixes(op, av, m):
    if op in (sre_c.LITERAL, sre_c.NOT_LITERAL, sre_c.ANY, sre_c.IN):
        return first_of_item(op, av)[0]
    if op == sre_c.SUBPATTERN:
        return seq_prefixes(av[-1], m)
    if op == sre_c.BRANCH:
        out = set()
        for alt in av[1]:
            out |= seq_prefixes(alt, m)
        return out
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
        lo, hi, sub = av
        out = set()
        # each copy matches at least one character (checked below), so m
        # copies reach the k-th character
        if first_chars(sub)[1]:
            raise ValueError('repeat of a pattern that matches the empty string')
        for r in range(min(lo, m), min(hi, m) + 1):
            out |= seq_prefixes(list(sub) * r, m)
        return out
    if op == sre_c.AT:
        return {""}
    raise ValueError('unhandled pattern item %r %r' % (op, av))


def pattern_starts(pattern):
    """bit mask per first digit d of the digits that can follow it"""
    masks = [0] * 10
    for s in seq_prefixes(sre_parse.parse(pattern), 2):
        if len(s) == 2:
            masks[int(s[0])] |= 1 << int(s[1])
    return masks


def pattern_first_digits(pattern):
    first, nullable = first_chars(sre_parse.parse(pattern))
    if nullable or not first <= DIGITS:
        raise ValueError('pattern %r: first characters %r' % (pattern, first))
    return first


def metadata(region, code):
    if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return PhoneMetadata.metadata_for_nongeo_region(code)
    return PhoneMetadata.metadata_for_region(region)


def main():
    rows = []
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
        main_md = metadata(regions[0], code)
        lengths = 0
        for n in main_md.general_desc.possible_length:
            if n > 0:
                lengths |= 1 << n
        first = set()
        starts = [0] * 10
        for region in regions:
            md = metadata(region, code)
            if md is not None and md.general_desc.national_number_pattern:
                first |= pattern_first_digits(md.general_desc.national_number_pattern)
                for d, mask in enumerate(pattern_starts(md.general_desc.national_number_pattern)):
                    starts[d] |= mask
        firstmask = sum(1 << int(d) for d in first)
        trunk = main_md.national_prefix or ''
        if not trunk.isdigit() and trunk != '':
            raise ValueError('code %d: trunk prefix %r' % (code, trunk))
        for d in range(10):
            if bool(starts[d]) != bool(firstmask >> d & 1):
                raise ValueError('code %d: first digits and starts disagree at %d' % (code, d))
        # only the trunk digit's row is kept: what can follow it
        after_trunk = starts[int(trunk[0])] if trunk else 0
        rows.append((code, lengths, trunk, firstmask, after_trunk, regions))

    out = sys.stdout
    out.write('''/*-------------------------------------------------------------------------
 *
 * phonemeta.h
 *	  The world's country calling codes, from libphonenumber's metadata:
 *	  possible lengths of national numbers, national (trunk) prefix, and
 *	  the digits national numbers start with.  Data of contactnorm.c.
 *
 * GENERATED by tools/gen_phonemeta.py from python3-phonenumbers %s
 * (libphonenumber's metadata); do not edit.  To regenerate:
 *	  apt-get install python3-phonenumbers
 *	  /usr/bin/python3 tools/gen_phonemeta.py > src/core/phonemeta.h
 * A change of the table changes which phone numbers are accepted; stored
 * contacts are not re-checked (the normalized values stay valid E.164).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_PHONEMETA_H
#define CRM_PHONEMETA_H

#include <stdint.h>

#define CRM_PHONEMETA_VERSION "%s"

typedef struct CrmCallingCode
{
	uint16_t	code;			/* country calling code, 1-3 digits */
	uint32_t	lengths;		/* bit n: a national number may have n digits */
	uint16_t	first_digits;	/* bit d: a national number may start with d */
	uint16_t	after_trunk;	/* bit d: a national number may start with the
								 * trunk prefix's digit followed by d */
	char		trunk[3];		/* national (trunk) prefix, "" if none */
} CrmCallingCode;

/* sorted by code */
static const CrmCallingCode crm_calling_codes[] = {
''' % (phonenumbers.__version__, phonenumbers.__version__))
    for code, lengths, trunk, firstmask, after_trunk, regions in rows:
        if len(trunk) > 2:
            raise ValueError('code %d: trunk prefix %r too long' % (code, trunk))
        lens = ','.join(str(n) for n in range(32) if lengths >> n & 1)
        out.write('\t{%d, 0x%08X, 0x%03X, 0x%03X, "%s"},\t/* %s; lengths %s */\n'
                  % (code, lengths, firstmask, after_trunk, trunk, ' '.join(regions[:6])
                     + (' ...' if len(regions) > 6 else ''), lens))
    out.write('''};

#define CRM_CALLING_CODE_COUNT (sizeof(crm_calling_codes) / sizeof(crm_calling_codes[0]))

#endif							/* CRM_PHONEMETA_H */
''')


if __name__ == '__main__':
    main()
