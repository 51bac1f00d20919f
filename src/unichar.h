/*-------------------------------------------------------------------------
 *
 * unichar.h
 *	  Character classes shared by the parsers of typed-in data (identifiers,
 *	  phone numbers, e-mail addresses): plain C plus ICU, no server headers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_UNICHAR_H
#define CRM_UNICHAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decode the code point at s[*i] (advancing *i); negative for a byte that
 * does not start a well-formed UTF-8 sequence (then *i moves past it).
 * s holds len bytes, len at most INT32_MAX.
 */
extern int32_t crm_next_char(const uint8_t *s, int32_t *i, int32_t len);

/* the value of a Unicode decimal digit (general category Nd), else -1 */
extern int	crm_decimal_digit(int32_t c);

/* white space, or an invisible default-ignorable character (ZWSP, BOM, SHY) */
extern bool crm_is_space(int32_t c);

/* a dash: hyphen-minus, any Unicode Pd character, the minus sign */
extern bool crm_is_dash(int32_t c);

#endif							/* CRM_UNICHAR_H */
