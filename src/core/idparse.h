/*-------------------------------------------------------------------------
 *
 * idparse.h
 *	  Parsing and checking of the Polish identifiers PESEL, NIP and REGON.
 *
 * This module is plain C plus ICU's character properties: it includes no
 * PostgreSQL header, so the fuzz target in fuzz/ builds it outside the
 * server.  The SQL glue (src/identifier.c) turns a CrmIdError into an
 * ereport with the right wording.
 *
 * Values are kept as int64 so that the SQL types can be 8-byte,
 * pass-by-value types compared with the built-in int8 functions:
 *	- PESEL: the 11 digits read as a number (leading zeros are implied by the
 *	  fixed length);
 *	- NIP: the 10 digits read as a number;
 *	- REGON: (first 9 digits * 10^5 + last 5 digits) * 2 + is_14_digits, so
 *	  a 9-digit REGON sorts just before the 14-digit REGONs of its local
 *	  units, which is the order of the digit strings.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_IDPARSE_H
#define CRM_IDPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum CrmIdKind
{
	CRM_PESEL,
	CRM_NIP,
	CRM_REGON
} CrmIdKind;

/* the longest identifier: a 14-digit REGON */
#define CRM_ID_MAX_DIGITS 14

typedef enum CrmIdStatus
{
	CRM_ID_OK = 0,
	CRM_ID_BAD_ENCODING,		/* not UTF-8: position, codepoint = the byte */
	CRM_ID_BAD_CHARACTER,		/* position, codepoint */
	CRM_ID_BAD_SEPARATOR,		/* a dash not between digits: position */
	CRM_ID_BAD_LENGTH,			/* ndigits */
	CRM_ID_BAD_MONTH,			/* PESEL month code: month */
	CRM_ID_BAD_DATE,			/* PESEL date that does not exist: year, month, day */
	CRM_ID_BAD_CHECKSUM,		/* given, expected */
	CRM_ID_NO_CHECK_DIGIT,		/* NIP whose weighted sum mod 11 is 10 */
	CRM_ID_BAD_REGON_BASE		/* 14-digit REGON, first 9 digits: given, expected */
} CrmIdStatus;

typedef struct CrmIdError
{
	CrmIdStatus status;
	int			position;		/* 1-based character position in the input */
	int32_t		codepoint;		/* offending character (or byte) */
	int			ndigits;		/* digits found */
	int			given;			/* check digit found */
	int			expected;		/* check digit the checksum requires */
	int			year;			/* PESEL date as decoded */
	int			month;
	int			day;
} CrmIdError;

/* the digits of an identifier, most significant first */
typedef struct CrmIdDigits
{
	int			n;
	uint8_t		d[CRM_ID_MAX_DIGITS];
} CrmIdDigits;

extern const char *crm_id_name(CrmIdKind kind);

/*
 * Parse UTF-8 text into a value.  On failure returns false and fills *err;
 * never reads outside str[0 .. len-1] (str needs no terminator).
 */
extern bool crm_id_parse(CrmIdKind kind, const char *str, size_t len,
						 int64_t *value, CrmIdError *err);

/* Check digits (length, PESEL date, checksums). */
extern bool crm_id_check(CrmIdKind kind, const CrmIdDigits *digits,
						 CrmIdError *err);

/* Value <-> digits.  crm_id_decode returns false for an unencodable value. */
extern bool crm_id_decode(CrmIdKind kind, int64_t value, CrmIdDigits *digits);
extern int64_t crm_id_encode(CrmIdKind kind, const CrmIdDigits *digits);

/*
 * Canonical ASCII digits into buf (at least CRM_ID_MAX_DIGITS + 1 bytes),
 * NUL-terminated; returns the number of digits.
 */
extern int	crm_id_digits_text(const CrmIdDigits *digits, char *buf);

/* the days of a month (1-12) of a year of the Gregorian calendar */
extern int	crm_days_in_month(int year, int month);

/* PESEL: birth date (false if the month code is invalid) and sex digit */
extern bool crm_pesel_date(const CrmIdDigits *digits,
						   int *year, int *month, int *day);
extern bool crm_pesel_is_male(const CrmIdDigits *digits);

/* REGON: the 9-digit REGON of a 14-digit one (itself for a 9-digit one) */
extern int64_t crm_regon_base(int64_t value);

#endif							/* CRM_IDPARSE_H */
