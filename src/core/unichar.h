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

/* the non-ASCII halves, answered by ICU (unichar.c) */
extern int32_t crm_next_char_multibyte(const uint8_t *s, int32_t *i, int32_t len);
extern int	crm_decimal_digit_unicode(int32_t c);
extern bool crm_is_space_unicode(int32_t c);
extern bool crm_is_dash_unicode(int32_t c);

/*
 * Decode the code point at s[*i] (advancing *i); negative for a byte that
 * does not start a well-formed UTF-8 sequence (then *i moves past it).
 * s holds len bytes, len at most INT32_MAX.  ASCII is answered inline: the
 * parsers run once per row of a COPY.
 */
static inline int32_t
crm_next_char(const uint8_t *s, int32_t *i, int32_t len)
{
	if (s[*i] < 0x80)
		return s[(*i)++];
	return crm_next_char_multibyte(s, i, len);
}

/* the value of a Unicode decimal digit (general category Nd), else -1 */
static inline int
crm_decimal_digit(int32_t c)
{
	if (c < 0x80)
		return (c >= '0' && c <= '9') ? c - '0' : -1;
	return crm_decimal_digit_unicode(c);
}

/* white space, or an invisible default-ignorable character (ZWSP, BOM, SHY) */
static inline bool
crm_is_space(int32_t c)
{
	if (c < 0x80)
		return c == ' ' || (c >= '\t' && c <= '\r');
	return crm_is_space_unicode(c);
}

/* a dash: hyphen-minus, any Unicode Pd character, the minus sign */
static inline bool
crm_is_dash(int32_t c)
{
	if (c < 0x80)
		return c == '-';
	return crm_is_dash_unicode(c);
}

#endif							/* CRM_UNICHAR_H */
