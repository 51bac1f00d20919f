/*-------------------------------------------------------------------------
 *
 * identifier.h
 *	  SQL glue shared by the identifier types crm.pesel, crm.nip and
 *	  crm.regon (src/identifier.c), for their type-specific functions in
 *	  pesel.c, nip.c and regon.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_IDENTIFIER_H
#define CRM_IDENTIFIER_H

#include "postgres.h"

#include "idparse.h"

/* The digits of a stored value; an error if it is not a valid value. */
extern void crm_id_get_digits(CrmIdKind kind, int64 value, CrmIdDigits *digits);

/* palloc'd text of why a value is invalid (err->status is not OK) */
extern char *crm_identifier_problem(CrmIdKind kind, const CrmIdError *err);

#endif							/* CRM_IDENTIFIER_H */
