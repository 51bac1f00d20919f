/*-------------------------------------------------------------------------
 *
 * textinput.h
 *	  Server-side helpers for parsing typed-in text: the parsers (idparse.c,
 *	  contactnorm.c) read UTF-8, the server may use another encoding, and
 *	  error details name the offending character.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_TEXTINPUT_H
#define CRM_TEXTINPUT_H

#include "postgres.h"

/*
 * Soft input errors (pg_input_is_valid) exist from PostgreSQL 16; before
 * that every input error is raised.
 */
#if PG_VERSION_NUM < 160000
#define errsave(context, ...) \
	do { (void) (context); ereport(ERROR, __VA_ARGS__); } while (0)
#endif

/* str (len bytes, server encoding) as UTF-8; *len is updated */
extern const char *crm_text_as_utf8(const char *str, size_t *len);

/* UTF-8 result of a parser in the server encoding */
extern char *crm_utf8_to_server(const char *utf8);

/* "x" (U+0078) where the character can be shown, else U+0078 */
extern char *crm_describe_character(int32 c);

/* the problem text (DETAIL) of a byte that is not UTF-8, palloc'd */
extern char *crm_bad_byte_problem(int32 byte, int position);

#endif							/* CRM_TEXTINPUT_H */
