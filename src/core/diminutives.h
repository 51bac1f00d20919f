/*-------------------------------------------------------------------------
 *
 * diminutives.h
 *	  Data table: Polish first-name diminutives, English nicknames and
 *	  spelling variants (Bob, Liz, Kathryn), and the full name each stands
 *	  for, in matching form (namematch.c, crm_first_name_canonical).
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
	{"abby", "abigail"}, {"adas", "adam"}, {"aga", "agnieszka"}, {"alex", "alexander"},
	{"ally", "alison"}, {"andy", "andrew"}, {"ania", "anna"}, {"anka", "anna"},
	{"antek", "antoni"}, {"asia", "joanna"}, {"barb", "barbara"}, {"bartek", "bartlomiej"},
	{"basia", "barbara"}, {"becky", "rebecca"}, {"ben", "benjamin"}, {"bess", "elizabeth"},
	{"beth", "elizabeth"}, {"betty", "elizabeth"}, {"bill", "william"}, {"billy", "william"},
	{"bob", "robert"}, {"bobby", "robert"}, {"bogus", "boguslaw"}, {"catherine", "katherine"},
	{"cathy", "katherine"}, {"charlie", "charles"}, {"chris", "christopher"},
	{"chuck", "charles"}, {"cindy", "cynthia"}, {"dan", "daniel"}, {"danka", "danuta"},
	{"danny", "daniel"}, {"darek", "dariusz"}, {"dave", "david"}, {"davy", "david"},
	{"debbie", "deborah"}, {"dick", "richard"}, {"don", "donald"}, {"drew", "andrew"},
	{"ed", "edward"}, {"eddie", "edward"}, {"edek", "edward"}, {"ela", "elzbieta"},
	{"em", "emily"}, {"ewka", "ewa"}, {"franek", "franciszek"}, {"fred", "frederick"},
	{"freddie", "frederick"}, {"gabrysia", "gabriela"}, {"geoff", "geoffrey"},
	{"gosia", "malgorzata"}, {"greg", "gregory"}, {"grzes", "grzegorz"}, {"grzesiek", "grzegorz"},
	{"hal", "henry"}, {"hania", "hanna"}, {"harry", "henry"}, {"heniek", "henryk"},
	{"iza", "izabela"}, {"jack", "john"}, {"jamie", "james"}, {"janek", "jan"}, {"jas", "jan"},
	{"jeff", "jeffrey"}, {"jen", "jennifer"}, {"jenny", "jennifer"}, {"jerry", "gerald"},
	{"jess", "jessica"}, {"jim", "james"}, {"jimmy", "james"}, {"joe", "joseph"},
	{"joey", "joseph"}, {"johnny", "john"}, {"jola", "jolanta"}, {"julka", "julia"},
	{"jurek", "jerzy"}, {"kasia", "katarzyna"}, {"kaska", "katarzyna"}, {"kate", "katherine"},
	{"kathryn", "katherine"}, {"kathy", "katherine"}, {"katie", "katherine"}, {"kim", "kimberly"},
	{"krzys", "krzysztof"}, {"krzysiek", "krzysztof"}, {"kuba", "jakub"}, {"larry", "lawrence"},
	{"libby", "elizabeth"}, {"liz", "elizabeth"}, {"lizzie", "elizabeth"}, {"maciek", "maciej"},
	{"magda", "magdalena"}, {"maggie", "margaret"}, {"malgosia", "malgorzata"},
	{"mandy", "amanda"}, {"marysia", "maria"}, {"matt", "matthew"}, {"meg", "margaret"},
	{"mick", "michael"}, {"mike", "michael"}, {"mikey", "michael"}, {"mirek", "miroslaw"},
	{"monia", "monika"}, {"natalka", "natalia"}, {"nate", "nathan"}, {"nick", "nicholas"},
	{"ola", "aleksandra"}, {"olek", "aleksander"}, {"pam", "pamela"}, {"peggy", "margaret"},
	{"phil", "philip"}, {"piotrek", "piotr"}, {"renia", "renata"}, {"rich", "richard"},
	{"richie", "richard"}, {"rick", "richard"}, {"ricky", "richard"}, {"rob", "robert"},
	{"robbie", "robert"}, {"ron", "ronald"}, {"rysiek", "ryszard"}, {"sandy", "sandra"},
	{"slawek", "slawomir"}, {"staszek", "stanislaw"}, {"stephen", "steven"}, {"steve", "steven"},
	{"stevie", "steven"}, {"sue", "susan"}, {"susie", "susan"}, {"tadek", "tadeusz"},
	{"ted", "edward"}, {"tereska", "teresa"}, {"tim", "timothy"}, {"tom", "thomas"},
	{"tomek", "tomasz"}, {"tommy", "thomas"}, {"tony", "anthony"}, {"vicky", "victoria"},
	{"will", "william"}, {"willy", "william"}, {"wlodek", "wlodzimierz"}, {"wojtek", "wojciech"},
	{"zbyszek", "zbigniew"}, {"zenek", "zenon"}, {"zosia", "zofia"}
};

#endif							/* CRM_DIMINUTIVES_H */
