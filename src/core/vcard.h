/*
 * vcard.h
 *	  The byte-level rules of a vCard (RFC 6350): escaping of text values
 *	  and folding of content lines at 75 octets without splitting a UTF-8
 *	  character.  Plain C: no server headers (src/core/README.md).
 */
#ifndef CRM_VCARD_H
#define CRM_VCARD_H

#include <stddef.h>

/* octets of a content line before it is folded (RFC 6350, 3.2) */
#define CRM_VCARD_LINE_OCTETS 75

/* the most crm_vcard_escape() writes for len input bytes */
#define CRM_VCARD_ESCAPE_MAX(len) (2 * (len))

/*
 * Escapes a text value (RFC 6350, 3.4): backslash, comma and semicolon get
 * a backslash before them, a line break (CRLF, CR or LF) becomes \n.
 * Writes to out (CRM_VCARD_ESCAPE_MAX(len) bytes) and returns the length
 * written; no terminating NUL.
 */
extern size_t crm_vcard_escape(const char *in, size_t len, char *out);

/* the most crm_vcard_fold() writes for len input bytes (breaks and the final CRLF) */
#define CRM_VCARD_FOLD_MAX(len) ((len) + 3 * ((len) / 37 + 1) + 2)

/*
 * Folds one content line (RFC 6350, 3.2): no physical line is longer than
 * 75 octets; a continuation starts with CRLF and one space, which counts
 * in its 75.  A break never falls inside a UTF-8 sequence (a lead byte
 * and its continuation bytes 10xxxxxx stay together; bytes that are not
 * UTF-8 are single characters).  Ends the line with CRLF.  Writes to out
 * (CRM_VCARD_FOLD_MAX(len) bytes) and returns the length written; no
 * terminating NUL.
 */
extern size_t crm_vcard_fold(const char *in, size_t len, char *out);

#endif							/* CRM_VCARD_H */
