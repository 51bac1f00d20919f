/*-------------------------------------------------------------------------
 *
 * diminutives.h
 *	  Data tables: Polish first-name diminutives, English nicknames and
 *	  spelling variants (Bob, Liz, Kathryn), and the full name each stands
 *	  for, in matching form (namematch.c, crm_first_name_canonical); and
 *	  the nicknames of several names (crm_first_name_several).
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
	{"allan", "alan"}, {"allen", "alan"}, {"ally", "alison"}, {"andy", "andrew"},
	{"ania", "anna"}, {"anka", "anna"}, {"ann", "anne"}, {"annie", "anne"},
	{"antek", "antoni"}, {"antony", "anthony"}, {"ashleigh", "ashley"}, {"asia", "joanna"},
	{"babs", "barbara"}, {"barb", "barbara"}, {"bartek", "bartlomiej"},
	{"basia", "barbara"}, {"becca", "rebecca"}, {"becky", "rebecca"},
	{"bella", "isabella"}, {"ben", "benjamin"}, {"benny", "benjamin"},
	{"bess", "elizabeth"}, {"beth", "elizabeth"}, {"betty", "elizabeth"},
	{"bill", "william"}, {"billy", "william"}, {"bob", "robert"}, {"bobby", "robert"},
	{"bogus", "boguslaw"}, {"bryan", "brian"}, {"catherine", "katherine"},
	{"cathy", "katherine"}, {"charlie", "charles"}, {"chris", "christopher"},
	{"chrissy", "christine"}, {"chuck", "charles"}, {"cindy", "cynthia"},
	{"clare", "claire"}, {"dan", "daniel"}, {"danka", "danuta"}, {"danny", "daniel"},
	{"darek", "dariusz"}, {"dave", "david"}, {"davy", "david"}, {"deb", "deborah"},
	{"debbie", "deborah"}, {"debra", "deborah"}, {"dick", "richard"}, {"don", "donald"},
	{"dot", "dorothy"}, {"dottie", "dorothy"}, {"doug", "douglas"}, {"drew", "andrew"},
	{"ed", "edward"}, {"eddie", "edward"}, {"edek", "edward"}, {"ela", "elzbieta"},
	{"em", "emily"}, {"ewka", "ewa"}, {"franek", "franciszek"}, {"fred", "frederick"},
	{"freddie", "frederick"}, {"frederic", "frederick"}, {"gabe", "gabriel"},
	{"gabrysia", "gabriela"}, {"geoff", "geoffrey"}, {"gill", "gillian"},
	{"gosia", "malgorzata"}, {"graeme", "graham"}, {"greg", "gregory"},
	{"grzes", "grzegorz"}, {"grzesiek", "grzegorz"}, {"hal", "henry"}, {"hania", "hanna"},
	{"hank", "henry"}, {"harry", "henry"}, {"heniek", "henryk"}, {"iza", "izabela"},
	{"izzy", "isabella"}, {"jack", "john"}, {"jake", "jacob"}, {"jamie", "james"},
	{"janek", "jan"}, {"jas", "jan"}, {"jeff", "jeffrey"}, {"jen", "jennifer"},
	{"jenny", "jennifer"}, {"jerry", "gerald"}, {"jess", "jessica"}, {"jessie", "jessica"},
	{"jill", "gillian"}, {"jim", "james"}, {"jimmy", "james"}, {"joe", "joseph"},
	{"joey", "joseph"}, {"johnathan", "jonathan"}, {"johnny", "john"}, {"jola", "jolanta"},
	{"josh", "joshua"}, {"josie", "josephine"}, {"julka", "julia"}, {"jurek", "jerzy"},
	{"kasia", "katarzyna"}, {"kaska", "katarzyna"}, {"kat", "katherine"},
	{"kate", "katherine"}, {"kathryn", "katherine"}, {"kathy", "katherine"},
	{"katie", "katherine"}, {"ken", "kenneth"}, {"kenny", "kenneth"}, {"kim", "kimberly"},
	{"kimberley", "kimberly"}, {"kristine", "christine"}, {"kristopher", "christopher"},
	{"krzys", "krzysztof"}, {"krzysiek", "krzysztof"}, {"kuba", "jakub"},
	{"larry", "lawrence"}, {"laurence", "lawrence"}, {"lexi", "alexandra"},
	{"liam", "william"}, {"libby", "elizabeth"}, {"liv", "olivia"}, {"liz", "elizabeth"},
	{"lizzie", "elizabeth"}, {"lottie", "charlotte"}, {"maciek", "maciej"},
	{"magda", "magdalena"}, {"maggie", "margaret"}, {"mal", "malcolm"},
	{"malgosia", "malgorzata"}, {"mandy", "amanda"}, {"marc", "mark"},
	{"marge", "margaret"}, {"marysia", "maria"}, {"mathew", "matthew"},
	{"matt", "matthew"}, {"meg", "margaret"}, {"mick", "michael"}, {"mickey", "michael"},
	{"mike", "michael"}, {"mikey", "michael"}, {"mirek", "miroslaw"}, {"missy", "melissa"},
	{"molly", "mary"}, {"monia", "monika"}, {"natalka", "natalia"}, {"nate", "nathan"},
	{"neal", "neil"}, {"ned", "edward"}, {"nick", "nicholas"}, {"nicolas", "nicholas"},
	{"ola", "aleksandra"}, {"olek", "aleksander"}, {"ollie", "oliver"},
	{"paddy", "patrick"}, {"pam", "pamela"}, {"patty", "patricia"}, {"peggy", "margaret"},
	{"pete", "peter"}, {"phil", "philip"}, {"phillip", "philip"}, {"piotrek", "piotr"},
	{"polly", "mary"}, {"ray", "raymond"}, {"rebekah", "rebecca"}, {"reggie", "reginald"},
	{"renia", "renata"}, {"rich", "richard"}, {"richie", "richard"}, {"rick", "richard"},
	{"ricky", "richard"}, {"rob", "robert"}, {"robbie", "robert"}, {"ron", "ronald"},
	{"ronnie", "ronald"}, {"russ", "russell"}, {"rysiek", "ryszard"}, {"sally", "sarah"},
	{"sandy", "sandra"}, {"sara", "sarah"}, {"shelly", "michelle"}, {"slawek", "slawomir"},
	{"staszek", "stanislaw"}, {"steph", "stephanie"}, {"stephen", "steven"},
	{"steve", "steven"}, {"stevie", "steven"}, {"stewart", "stuart"}, {"stu", "stuart"},
	{"sue", "susan"}, {"susie", "susan"}, {"suzy", "susan"}, {"tadek", "tadeusz"},
	{"ted", "edward"}, {"tereska", "teresa"}, {"tess", "teresa"}, {"theresa", "teresa"},
	{"tim", "timothy"}, {"timmy", "timothy"}, {"tom", "thomas"}, {"tomek", "tomasz"},
	{"tommy", "thomas"}, {"tony", "anthony"}, {"tori", "victoria"}, {"trish", "patricia"},
	{"vicky", "victoria"}, {"wally", "walter"}, {"walt", "walter"}, {"will", "william"},
	{"willy", "william"}, {"wlodek", "wlodzimierz"}, {"wojtek", "wojciech"},
	{"zach", "zachary"}, {"zack", "zachary"}, {"zbyszek", "zbigniew"}, {"zenek", "zenon"},
	{"zosia", "zofia"}
};


/*
 * {nickname, the full names it may stand for, one space apart}: nicknames
 * of several names (Sam: Samuel, Samantha; Pat: Patrick, Patricia), whose
 * full names are the canonical forms of the table above (a nickname there
 * too, as Kathy for Katherine, lists only its other names here).  Read by
 * the score alone (crm_first_name_several, scoring.c: "first name a
 * nickname of"), never by a key or an index: a change needs no REINDEX.
 * Sorted by nickname in strcmp() order: the lookup is a bsearch().
 */
static const char *const nicknames_of_several[][2] = {
	{"al", "alan albert alexander alfred"},
	{"alex", "alexandra"},
	{"ben", "benedict"},
	{"bert", "albert gilbert herbert robert"},
	{"charlie", "charlotte"},
	{"chris", "christina christine"},
	{"dan", "danielle"},
	{"danny", "danielle"},
	{"ellie", "eleanor elizabeth ellen"},
	{"em", "emma"},
	{"fran", "frances francis"},
	{"frankie", "frances frank"},
	{"fred", "alfred"},
	{"freddie", "alfred"},
	{"gerry", "gerald geraldine"},
	{"harry", "harrison"},
	{"jackie", "jacqueline john"},
	{"jo", "joanna joanne josephine"},
	{"johnny", "jonathan"},
	{"jon", "john jonathan"},
	{"jonny", "john jonathan"},
	{"kath", "katherine kathleen"},
	{"kathy", "kathleen"},
	{"kit", "christopher katherine"},
	{"lou", "louis louise"},
	{"max", "maximilian maxwell"},
	{"meg", "megan"},
	{"mel", "melanie melissa"},
	{"nat", "natalia natalie nathan nathaniel"},
	{"nell", "eleanor ellen helen"},
	{"nellie", "eleanor ellen helen"},
	{"nicky", "nicholas nicole"},
	{"pat", "patricia patrick"},
	{"sam", "samantha samuel"},
	{"sammy", "samantha samuel"},
	{"sandy", "alexander alexandra"},
	{"terry", "teresa terence"},
	{"tony", "antonia"},
	{"vic", "victor victoria"}
};

#endif							/* CRM_DIMINUTIVES_H */
