/*-------------------------------------------------------------------------
 *
 * contactnorm.h
 *	  Normalization of contact points: phone numbers to E.164, e-mail
 *	  addresses to a trimmed form with a lower-case domain.  Plain C plus
 *	  ICU, no server headers (fuzzed outside the server like idparse.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_CONTACTNORM_H
#define CRM_CONTACTNORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* E.164: at most 15 digits after the "+" */
#define CRM_PHONE_MAX_DIGITS 15
#define CRM_PHONE_BUFSIZE (CRM_PHONE_MAX_DIGITS + 2)

typedef enum CrmPhoneStatus
{
	CRM_PHONE_OK = 0,
	CRM_PHONE_BAD_ENCODING,		/* position, codepoint = byte */
	CRM_PHONE_BAD_CHARACTER,	/* position, codepoint */
	CRM_PHONE_MISPLACED_PLUS,	/* position */
	CRM_PHONE_NO_DIGITS,
	CRM_PHONE_NATIONAL_LENGTH,	/* no country prefix and not 9 digits: ndigits */
	CRM_PHONE_POLISH_LENGTH,	/* +48 and not 9 more digits: ndigits (national) */
	CRM_PHONE_BAD_COUNTRY,		/* country code starts with 0 */
	CRM_PHONE_UNKNOWN_COUNTRY,	/* no calling code starts the number: country
								 * = its first (up to 3) digits, ndigits of them */
	CRM_PHONE_TOO_LONG,			/* ndigits (with the country code) */
	CRM_PHONE_COUNTRY_LENGTH	/* country, lengths, ndigits (national) */
} CrmPhoneStatus;

typedef struct CrmPhoneError
{
	CrmPhoneStatus status;
	int			position;		/* 1-based character position */
	int32_t		codepoint;
	int			ndigits;
	int			country;		/* calling code (or digits tried) */
	uint32_t	lengths;		/* bit n: the country's numbers may have n digits */
} CrmPhoneError;

/*
 * The possible lengths of the national numbers of a country calling code
 * (bit n: n digits), 0 if no country has the code (libphonenumber's
 * metadata, phonemeta.h).
 */
extern uint32_t crm_phone_country_lengths(int code);

/*
 * Normalize a phone number typed in any customary way to E.164, "+" and
 * digits, into out (CRM_PHONE_BUFSIZE bytes).  A number without a country
 * prefix is Polish (+48).  The country calling code must be one of the
 * world's, and the number after it as long as one of that country's.  On
 * failure returns false and fills *err.
 */
extern bool crm_phone_normalize(const char *str, size_t len, char *out,
								CrmPhoneError *err);

#define CRM_EMAIL_MAX_LENGTH 254	/* octets, RFC 5321 path limit less <> */
#define CRM_EMAIL_MAX_LOCAL 64
#define CRM_EMAIL_MAX_LABEL 63
/* lower-casing may grow UTF-8 text up to 3 times */
#define CRM_EMAIL_BUFSIZE (3 * CRM_EMAIL_MAX_LENGTH + 1)

typedef enum CrmEmailStatus
{
	CRM_EMAIL_OK = 0,
	CRM_EMAIL_BAD_ENCODING,		/* position, codepoint = byte */
	CRM_EMAIL_EMPTY,
	CRM_EMAIL_TOO_LONG,			/* length */
	CRM_EMAIL_NO_AT,
	CRM_EMAIL_MANY_AT,			/* position of the second "@" */
	CRM_EMAIL_BAD_CHARACTER,	/* position, codepoint */
	CRM_EMAIL_LOCAL_EMPTY,
	CRM_EMAIL_LOCAL_TOO_LONG,	/* length */
	CRM_EMAIL_LOCAL_DOTS,		/* leading, trailing or double dot: position */
	CRM_EMAIL_DOMAIN_EMPTY,
	CRM_EMAIL_DOMAIN_NO_DOT,
	CRM_EMAIL_LABEL_EMPTY,		/* position */
	CRM_EMAIL_LABEL_TOO_LONG,	/* position, length */
	CRM_EMAIL_LABEL_HYPHEN,		/* position */
	CRM_EMAIL_TLD_NUMERIC
} CrmEmailStatus;

typedef struct CrmEmailError
{
	CrmEmailStatus status;
	int			position;		/* 1-based character position in the trimmed input */
	int32_t		codepoint;
	int			length;
} CrmEmailError;

/*
 * Normalize an e-mail address: surrounding white space removed, the domain
 * lower-cased (Unicode domains stay Unicode), the local part kept as typed.
 * out has CRM_EMAIL_BUFSIZE bytes.  On failure returns false and fills *err.
 */
extern bool crm_email_normalize(const char *str, size_t len, char *out,
								CrmEmailError *err);

#endif							/* CRM_CONTACTNORM_H */
