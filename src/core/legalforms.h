/*-------------------------------------------------------------------------
 *
 * legalforms.h
 *	  Data table: company legal forms as they read in matching form, which
 *	  crm_company_strip_legal_form() (namematch.c) cuts from the end of a
 *	  company name.
 *
 * CHANGING AN ENTRY CHANGES STORED INDEX KEYS.  The table decides the
 * output of IMMUTABLE functions that indexes are built on:
 *	- crm.match_keys(), the expression of the GIN index
 *	  crm.client_match_keys_idx (key "c:" is the name without legal form);
 *	- crm.normalize_company(), which a site may index itself.
 * PostgreSQL does not recompute an index when a function's result changes,
 * so after a change the old keys stay in the index and lookups of the new
 * ones miss those clients: duplicates go unfound, silently.  The upgrade
 * script of the release that adds, removes or changes an entry must
 * therefore REINDEX crm.client_match_keys_idx inside its data model step
 * (crm_internal.data_model_step('A', 'B', 'REINDEX INDEX
 * crm.client_match_keys_idx; ...'): the index is the data model's, absent
 * from a database without it; doc/upgrades.md), and the release notes
 * must tell DBAs to REINDEX every index of their own whose expression
 * calls these functions (pg_depend lists them: classid pg_class, refobjid
 * the function).  sql/name_tables.sql pins the output
 * of every entry, so a change cannot pass the tests unnoticed: update its
 * expected output and write the REINDEX in the same commit.
 *
 * Entries are normalized (crm_name_normalize: ASCII, lower case, words one
 * space apart).  The first entry that ends the name as whole words is cut,
 * then the search starts again ("alfa sp z o o sp k" -> "alfa").  No entry
 * ends another at a word boundary today; one that ever does must come
 * after the longer form, or only its tail would be cut.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_LEGALFORMS_H
#define CRM_LEGALFORMS_H

static const char *const legal_forms[] = {
	"spolka z ograniczona odpowiedzialnoscia", "spolka komandytowo akcyjna",
	"spolka komandytowa", "spolka partnerska", "spolka akcyjna", "spolka cywilna",
	"spolka jawna", "spolka z o o", "sp z o o", "sp z oo", "sp k a", "sp j", "sp k", "sp p",
	"ska", "s c", "s a", "sa", "s r o", "sro", "gmbh", "ltd", "limited", "inc", "llc", "plc"
};

#endif							/* CRM_LEGALFORMS_H */
