/*
 * coreassert.h
 *	  CRM_ASSERT(condition): an assertion in the server-free code
 *	  (src/core/README.md), which may not include PostgreSQL's headers and
 *	  so cannot use Assert() itself.
 *
 *	  In the server build (the Makefile defines CRM_SERVER_BUILD) it is
 *	  Assert(): checked only when USE_ASSERT_CHECKING is defined (a server
 *	  built with --enable-cassert, or tools/dev.sh sanitize), and a failure
 *	  goes to ExceptionalCondition(), by crm_core_assert_failed() in
 *	  src/crm.c, which writes the TRAP line to the server log and aborts.
 *	  Outside the server (the fuzz targets and their smoke drivers) it is the
 *	  C library's assert(), on unless NDEBUG.
 *
 *	  An assertion states what holds by construction, never what input may
 *	  break: input is checked and refused by return value.
 */
#ifndef CRM_COREASSERT_H
#define CRM_COREASSERT_H

#ifdef CRM_SERVER_BUILD

#ifdef USE_ASSERT_CHECKING
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn))
#endif
extern void crm_core_assert_failed(const char *condition, const char *file, int line);

#define CRM_ASSERT(condition) \
	((condition) ? (void) 0 : crm_core_assert_failed(#condition, __FILE__, __LINE__))
#else
#define CRM_ASSERT(condition) ((void) 1)
#endif

#else							/* not the server: the fuzz builds */

#include <assert.h>

#define CRM_ASSERT(condition) assert(condition)

#endif							/* CRM_SERVER_BUILD */

#endif							/* CRM_COREASSERT_H */
