#!/usr/bin/python3
"""test/phones.py: crm.normalize_phone against libphonenumber.

Debian's python3-phonenumbers (libphonenumber's metadata, the same version
tools/gen_phonemeta.py read, see src/core/phonemeta.h) over psycopg2, in a
database of its own on the server in PGHOST/PGPORT/PGUSER (tools/dev.sh test
starts one).

1. Example numbers: the example number of every region (and non-geographic
   entity) for every number type, typed as E.164, in the international
   format (with spaces), with the 00 prefix, with the national trunk prefix
   after the country code where libphonenumber itself reads that as the same
   number (+44 020 ...), and for +48 in the national format with and without
   the old trunk 0: each must normalize to libphonenumber's E.164.
2. Random '+CC digits' strings (seeded): crm accepts <=> libphonenumber says
   the number is possible (is_possible_number_with_reason is IS_POSSIBLE:
   local-only lengths excluded) with at most 15 digits; where both accept,
   the E.164 forms must be the same.  A disagreement fails the test unless
   it falls in one of the EXPLAINED classes below, each checked by its own
   test against libphonenumber, not taken on trust.

Prints the agreement counts and "N passed, M failed".
"""
import random
import sys

import phonenumbers
import psycopg2
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonenumberutil import ValidationResult

DB = "crm_phones"
SEED = 20261201
RANDOM_COUNT = 5000

TYPES = [getattr(PhoneNumberType, name) for name in dir(PhoneNumberType)
         if name.isupper() and name not in ("UNKNOWN", "FIXED_LINE_OR_MOBILE")]


def connect(dbname):
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def main_metadata(code):
    region = phonenumbers.region_code_for_country_code(code)
    if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return PhoneMetadata.metadata_for_nongeo_region(code)
    return PhoneMetadata.metadata_for_region(region)


def e164(n):
    return phonenumbers.format_number(n, PhoneNumberFormat.E164)


def example_numbers():
    """(source, number) for every region and number type"""
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for t in TYPES:
            n = phonenumbers.example_number_for_type(region, t)
            if n is not None:
                yield "%s type %d" % (region, t), n
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        n = phonenumbers.example_number_for_non_geo_entity(code)
        if n is not None:
            yield "+%d" % code, n


def typings(n):
    """the ways the example number is typed, each with the expected E.164"""
    expected = e164(n)
    cc = n.country_code
    nsn = phonenumbers.national_significant_number(n)
    yield expected, expected, None
    yield phonenumbers.format_number(n, PhoneNumberFormat.INTERNATIONAL), expected, None
    yield "00%d %s" % (cc, nsn), expected, None
    md = main_metadata(cc)
    trunk = md.national_prefix if md is not None else None
    if trunk:
        typed = "+%d %s %s" % (cc, trunk, nsn)
        try:
            if e164(phonenumbers.parse(typed, None)) == expected:
                yield typed, expected, "+%d%s%s" % (cc, trunk, nsn)
        except phonenumbers.NumberParseException:
            pass
    if cc == 48:
        yield phonenumbers.format_number(n, PhoneNumberFormat.NATIONAL), expected, None
        yield "0" + nsn, expected, None
        yield nsn, expected, None


def libphonenumber_verdict(typed):
    """(possible, e164 or None, parsed number or None)"""
    try:
        n = phonenumbers.parse(typed, None)
    except phonenumbers.NumberParseException:
        return False, None, None
    reason = phonenumbers.is_possible_number_with_reason(n)
    digits = len(str(n.country_code)) + len(phonenumbers.national_significant_number(n))
    possible = reason == ValidationResult.IS_POSSIBLE and digits <= 15
    return possible, e164(n), n


# ------------------------------------------------------------------------
# Disagreements with an explanation: each is a predicate over (the country
# code libphonenumber read, the digits typed after it, crm's verdict,
# libphonenumber's verdict, libphonenumber's parse).

def polish_nine(cc, digits, crm_ok, lib_ok, n):
    """+48: crm takes exactly 9 digits (every Polish number in use since the
    2005 numbering plan has 9); libphonenumber's metadata lists 6, 7, 8 and 10
    as possible lengths for a few short or special ranges"""
    return cc == 48 and lib_ok and not crm_ok and len(digits) != 9


def trunk_kept(cc, digits, crm_ok, lib_ok, n):
    """the number starts with the country's trunk prefix, whose digit no
    number of the country starts with: crm drops the prefix and finds the
    rest too short or too long; libphonenumber keeps the prefix when the
    rest has an impossible length and counts it into the length, so calls
    the number "possible" although it can never be valid (is_valid_number
    is False and the national number starts with the trunk digit)"""
    md = main_metadata(cc) if n is not None else None
    if not lib_ok or crm_ok or md is None:
        return False
    trunk = md.national_prefix or ""
    nsn = phonenumbers.national_significant_number(n)
    return (trunk != "" and nsn.startswith(trunk) and digits.startswith(trunk)
            and not phonenumbers.is_valid_number(n))


def other_national_prefix(cc, digits, crm_ok, lib_ok, n):
    """libphonenumber strips, besides the trunk prefix, other prefixes its
    metadata gives for parsing (national_prefix_for_parsing: carrier
    selection codes, the old mobile "1" of Mexico, Argentina's "15"...) or
    transforms the number (national_prefix_transform_rule): it reads other
    digits than were typed after the country code, and the lengths differ.
    crm keeps what was typed (dropping only the plain trunk prefix): such a
    number typed with a carrier code is not in E.164 form"""
    md = main_metadata(cc) if n is not None else None
    if md is None:
        return False
    nsn = phonenumbers.national_significant_number(n)
    trunk = md.national_prefix or ""
    return nsn != digits and not (trunk and digits == trunk + nsn)


def both_invalid(got, n):
    """both accept, with different E.164 forms: libphonenumber strips a
    national prefix (its national_prefix_for_parsing) where crm keeps the
    digits as typed because numbers of the country can start with that digit
    or the prefix is typed twice ("+213 00 ...").  Checked: neither reading
    is a valid number for libphonenumber (is_valid_number), so no real
    number is stored wrongly"""
    mine = phonenumbers.parse(got, None)
    return not phonenumbers.is_valid_number(mine) and not phonenumbers.is_valid_number(n)


EXPLAINED = [polish_nine, trunk_kept, other_national_prefix]


def random_numbers(rng):
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    for _ in range(RANDOM_COUNT):
        if rng.random() < 0.8:
            cc = rng.choice(codes)
        else:
            cc = rng.randint(1, 999)
        md = main_metadata(cc) if cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE else None
        # lengths around the country's possible ones, sometimes anything
        if md is not None and rng.random() < 0.7:
            length = rng.choice(md.general_desc.possible_length) + rng.choice([-1, 0, 0, 0, 1])
        else:
            length = rng.randint(1, 16)
        length = max(length, 1)
        digits = "".join(rng.choice("0123456789") for _ in range(length))
        # sometimes the trunk prefix typed after the country code
        if md is not None and md.national_prefix and rng.random() < 0.15:
            digits = md.national_prefix + digits
        yield cc, digits


def main():
    admin = connect("postgres")
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB}")
        cur.execute(f"CREATE DATABASE {DB}")
    failures = []
    passed = 0
    try:
        conn = connect(DB)
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION crm")

            # 1. example numbers
            cases = []
            for source, n in example_numbers():
                for typed, expected, trunk_kept_form in typings(n):
                    cases.append((source, typed, expected, trunk_kept_form))
            cur.execute("SELECT t, crm.phone_problem(t), CASE WHEN crm.is_valid_phone(t) "
                        "THEN crm.normalize_phone(t) END FROM unnest(%s::text[]) AS t",
                        ([c[1] for c in cases],))
            rows = cur.fetchall()
            examples_ok = 0
            trunk_digit_starts = 0
            local_only = 0
            for (source, typed, expected, trunk_kept_form), (_t, problem, got) in zip(cases, rows):
                if got == expected:
                    examples_ok += 1
                elif got is None and phonenumbers.is_possible_number_with_reason(
                        phonenumbers.parse(expected, None)) == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
                    # EXPLAINED: a number of a length libphonenumber gives
                    # as local only for its country code (Canada's 7-digit
                    # 310-xxxx numbers under +1, whose numbers otherwise
                    # have 10 digits): not reachable from abroad, not a
                    # possible E.164 number, refused like every local-only
                    # length
                    local_only += 1
                elif got is not None and got == trunk_kept_form:
                    # EXPLAINED (and a limit of crm): the trunk prefix typed
                    # after the country code of a country some of whose
                    # numbers start with the trunk digit (Thailand's 0:
                    # 001800 numbers), where the number is as long with the
                    # prefix as without: crm keeps the digits as typed;
                    # libphonenumber tells them apart by the full patterns
                    trunk_digit_starts += 1
                else:
                    failures.append("example %s typed %r: crm gives %r (%s), libphonenumber %s"
                                    % (source, typed, got, problem, expected))
            print("example numbers: %d of %d typings normalize to libphonenumber's E.164 "
                  "(%d numbers, %d regions and non-geographic codes); explained: trunk prefix "
                  "kept where numbers can start with its digit %d, local-only length %d"
                  % (examples_ok, len(cases), len({c[2] for c in cases}),
                     len(phonenumbers.SUPPORTED_REGIONS)
                     + len(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS), trunk_digit_starts,
                     local_only))
            passed += examples_ok + trunk_digit_starts + local_only

            # 2. random '+CC digits'
            rng = random.Random(SEED)
            numbers = list(random_numbers(rng))
            typed = ["+%d %s" % (cc, digits) for cc, digits in numbers]
            cur.execute("SELECT t, crm.phone_problem(t), CASE WHEN crm.is_valid_phone(t) "
                        "THEN crm.normalize_phone(t) END FROM unnest(%s::text[]) AS t", (typed,))
            rows = cur.fetchall()
            counts = {"both accept": 0, "both refuse": 0}
            explained = {f.__name__: 0 for f in EXPLAINED + [both_invalid]}
            unexplained = 0
            for (cc, digits), t, (_t, problem, got) in zip(numbers, typed, rows):
                lib_ok, lib_e164, n = libphonenumber_verdict(t)
                crm_ok = got is not None
                if n is not None:
                    cc = n.country_code
                    digits = "".join(ch for ch in t if ch.isdigit())[len(str(cc)):]
                if crm_ok == lib_ok:
                    if crm_ok and got != lib_e164:
                        if both_invalid(got, n):
                            explained["both_invalid"] += 1
                            passed += 1
                            continue
                        if other_national_prefix(cc, digits, crm_ok, lib_ok, n):
                            explained["other_national_prefix"] += 1
                            passed += 1
                            continue
                        failures.append("%r: crm gives %s, libphonenumber %s" % (t, got, lib_e164))
                        unexplained += 1
                        continue
                    counts["both accept" if crm_ok else "both refuse"] += 1
                    passed += 1
                    continue
                for f in EXPLAINED:
                    if f(cc, digits, crm_ok, lib_ok, n):
                        explained[f.__name__] += 1
                        passed += 1
                        break
                else:
                    unexplained += 1
                    failures.append("%r: crm %s (%s), libphonenumber %s (%s)"
                                    % (t, "accepts " + got if crm_ok else "refuses", problem,
                                       "possible" if lib_ok else "not possible", lib_e164))
            agree = counts["both accept"] + counts["both refuse"]
            print("random numbers (seed %d): %d of %d agree (%d accepted by both, %d refused by both); "
                  "disagreements explained: %s; unexplained: %d"
                  % (SEED, agree, len(numbers), counts["both accept"], counts["both refuse"],
                     ", ".join("%s %d" % kv for kv in explained.items()), unexplained))
        conn.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {DB}")
        admin.close()

    for f in failures[:60]:
        print("FAIL:", f)
    if len(failures) > 60:
        print("... and %d more" % (len(failures) - 60))
    print("%d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
