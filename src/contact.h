/*-------------------------------------------------------------------------
 *
 * contact.h
 *	  Problem texts of phone numbers and e-mail addresses (src/contact.c):
 *	  the DETAIL of the normalizers' errors, for any caller that reports
 *	  why a value is invalid.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_CONTACT_H
#define CRM_CONTACT_H

#include "postgres.h"

#include "contactnorm.h"

/* palloc'd text of why the value is invalid (err->status is not OK) */
extern char *crm_phone_problem(const CrmPhoneError *err);
extern char *crm_email_problem(const CrmEmailError *err);

#endif							/* CRM_CONTACT_H */
