/*-------------------------------------------------------------------------
 *
 * namematch.h
 *	  Name matching for duplicate detection: normalization (ICU
 *	  transliteration to ASCII, case, punctuation), company legal forms,
 *	  Polish diminutives, Jaro-Winkler similarity.  Plain C plus ICU, no
 *	  server headers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_NAMEMATCH_H
#define CRM_NAMEMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A name in its matching form: transliterated to ASCII (Ł -> l, ż -> z,
 * é -> e, ß -> ss, Cyrillic to Latin), lower case, every run of characters
 * that are not letters or digits one space, no space at the ends.  Writes
 * at most cap - 1 bytes and a terminator into out; returns the length, or
 * -1 if the text cannot be transliterated.
 */
extern int	crm_name_normalize(const char *utf8, size_t len, char *out, size_t cap);

/*
 * The skeleton of a normalized name: the spellings one name gets from
 * different transliterations of Cyrillic (Polish, English, German, the
 * Ukrainian national system, the server's own transliteration of Cyrillic
 * text) written alike.  Michajło, Mychajło, Mykhailo, Mykhaylo and Михайло
 * are "mixailo"; Owczaryk, Ovcharyk, Owtscharyk and Овчарик "ovxarik";
 * Witalij, Vitaliy, Vitalii "vitali"; Cipurija, Tsipuria "xipuria": kh, ch,
 * cz, tsch, ts, tz, c and h one letter (x: the ASCII fold writes ч and ц
 * alike), shch and szcz "sx", sh, sz and sch "s", zh "z", w "v", y and j
 * "i", and a letter doubled once.
 * Writes at most cap - 1 bytes and a terminator; never longer than its
 * input.  For blocking and for comparing names, never for display.
 */
extern int	crm_name_skeleton(const char *norm, char *out, size_t cap);

/*
 * A normalized address in its matching form, in place; returns the new
 * length.  Street types are written one way (avenue and ave: ave; street:
 * st; road: rd; aleja: al; osiedle: os ...), the word for street that
 * Polish addresses may or may not carry (ul, ulica) goes, and so does the
 * flat marker between a house and a flat number (5 m 3: 5 3, as 5/3 is).
 * Never longer than its input.
 */
extern int	crm_address_canonical(char *norm, int len);

/*
 * A normalized company name without its legal form ("sp z o o", "s a",
 * "spolka jawna", "sp j", "gmbh" ...), in place; returns the new length.
 */
extern int	crm_company_strip_legal_form(char *norm, int len);

/* the full first name of a normalized Polish diminutive, or NULL */
extern const char *crm_first_name_canonical(const char *norm);

/*
 * The full names, one space apart, a normalized nickname of several names
 * may stand for (Sam: "samantha samuel"), or NULL; a nickname of one name
 * is crm_first_name_canonical's.
 */
extern const char *crm_first_name_several(const char *norm);

/* Jaro-Winkler similarity of two byte strings, in [0, 1] */
extern double crm_jaro_winkler(const char *a, int la, const char *b, int lb);

/*
 * Optimal-string-alignment distance (Damerau-Levenshtein without repeated
 * edits of one substring): insertions, deletions, substitutions and
 * transpositions of adjacent bytes.  Stops counting at max + 1.
 */
extern int	crm_typo_distance(const char *a, int la, const char *b, int lb, int max);

/* crm_typo_distance(a, la, b, lb, 1) <= 1, in linear time */
extern bool crm_typo_at_most_one(const char *a, int la, const char *b, int lb);

#endif							/* CRM_NAMEMATCH_H */
