/*-------------------------------------------------------------------------
 *
 * datamodel.h
 *	  crm's data model as the C code sees it: the check that it is
 *	  installed (datamodel.c) and the conditions on its tables that the C
 *	  queries share.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_DATAMODEL_H
#define CRM_DATAMODEL_H

/* raise a clear error unless crm.install_data_model() has run at this version */
extern void crm_require_data_model(void);

/*
 * A visible client of crm.client, as an SQL condition on the row under
 * alias a (a string literal): neither hidden (crm.hide_client(), a last
 * consent withdrawn) nor anonymized, by the one SQL definition of it,
 * crm_internal.client_is_visible() (inlined by the planner).  Duplicate search looks only among
 * these, in every query, so that crm.duplicate_pairs() and
 * crm.duplicate_candidates() agree on whom they may propose:
 *		"SELECT c.* FROM crm.client c WHERE " CRM_CLIENT_VISIBLE("c")
 */
#define CRM_CLIENT_VISIBLE(a) \
	"crm_internal.client_is_visible(" a ".hidden_at, " a ".anonymized_at)"

#endif
