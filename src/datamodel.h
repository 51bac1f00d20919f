/*
 * datamodel.h
 *	  The check that crm's data model is installed (src/datamodel.c).
 */
#ifndef CRM_DATAMODEL_H
#define CRM_DATAMODEL_H

/* raise a clear error unless crm.install_data_model() has run at this version */
extern void crm_require_data_model(void);

#endif
