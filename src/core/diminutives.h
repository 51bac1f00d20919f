/*-------------------------------------------------------------------------
 *
 * diminutives.h
 *	  Data table: Polish first-name diminutives and the full name each
 *	  stands for, in matching form (namematch.c, crm_first_name_canonical).
 *
 * CHANGING AN ENTRY CHANGES STORED INDEX KEYS.  The table decides the
 * output of IMMUTABLE functions that indexes are built on:
 *	- crm.match_keys(), the expression of the GIN index
 *	  crm.client_match_keys_idx (keys "n:", "f:" and "l:" hold the full
 *	  first name);
 *	- crm.first_name_canonical(), which a site may index itself.
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
 * Entries are normalized (crm_name_normalize: ASCII, lower case) and
 * sorted by diminutive in strcmp() order: the lookup is a bsearch().
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_DIMINUTIVES_H
#define CRM_DIMINUTIVES_H

/* {diminutive, full first name} */
static const char *const diminutives[][2] = {
	{"adas", "adam"}, {"aga", "agnieszka"}, {"ania", "anna"}, {"anka", "anna"},
	{"antek", "antoni"}, {"asia", "joanna"}, {"bartek", "bartlomiej"}, {"basia", "barbara"},
	{"bogus", "boguslaw"}, {"danka", "danuta"}, {"darek", "dariusz"}, {"edek", "edward"},
	{"ela", "elzbieta"}, {"ewka", "ewa"}, {"franek", "franciszek"}, {"gabrysia", "gabriela"},
	{"gosia", "malgorzata"}, {"grzes", "grzegorz"}, {"grzesiek", "grzegorz"}, {"hania", "hanna"},
	{"heniek", "henryk"}, {"iza", "izabela"}, {"janek", "jan"}, {"jas", "jan"},
	{"jola", "jolanta"}, {"julka", "julia"}, {"jurek", "jerzy"}, {"kasia", "katarzyna"},
	{"kaska", "katarzyna"}, {"krzys", "krzysztof"}, {"krzysiek", "krzysztof"}, {"kuba", "jakub"},
	{"maciek", "maciej"}, {"magda", "magdalena"}, {"malgosia", "malgorzata"}, {"marysia", "maria"},
	{"mirek", "miroslaw"}, {"monia", "monika"}, {"natalka", "natalia"}, {"ola", "aleksandra"},
	{"olek", "aleksander"}, {"piotrek", "piotr"}, {"renia", "renata"}, {"rysiek", "ryszard"},
	{"slawek", "slawomir"}, {"staszek", "stanislaw"}, {"tadek", "tadeusz"}, {"tereska", "teresa"},
	{"tomek", "tomasz"}, {"wlodek", "wlodzimierz"}, {"wojtek", "wojciech"}, {"zbyszek", "zbigniew"},
	{"zenek", "zenon"}, {"zosia", "zofia"}
};

#endif							/* CRM_DIMINUTIVES_H */
