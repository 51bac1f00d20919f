-- The data tables behind the IMMUTABLE name functions that an index is
-- built on (crm.client_match_keys_idx): every entry of the diminutives
-- (src/core/diminutives.h) and of the legal forms (src/core/legalforms.h),
-- with the output it gives.  A change to an entry changes keys already
-- stored in that index: if this test fails because a table changed, the
-- upgrade script must REINDEX (see the tables' comments), and this file
-- lists the new entries.  (fuzz/smoke_main.c counts the entries, so an
-- entry added without a line here fails too.)
SET client_min_messages = warning;

-- every diminutive: its full name, and the keys the index stores for it
SELECT d AS diminutive, crm.first_name_canonical(d) AS full_name,
       crm.match_keys('person', d, 'Nowak', NULL, NULL, NULL) AS keys
FROM (VALUES ('abby'), ('adas'), ('aga'), ('alex'), ('ally'), ('andy'), ('ania'),
             ('anka'), ('antek'), ('asia'), ('barb'), ('bartek'), ('basia'), ('becky'),
             ('ben'), ('bess'), ('beth'), ('betty'), ('bill'), ('billy'), ('bob'),
             ('bobby'), ('bogus'), ('catherine'), ('cathy'), ('charlie'), ('chris'),
             ('chuck'), ('cindy'), ('dan'), ('danka'), ('danny'), ('darek'), ('dave'),
             ('davy'), ('debbie'), ('dick'), ('don'), ('drew'), ('ed'), ('eddie'),
             ('edek'), ('ela'), ('em'), ('ewka'), ('franek'), ('fred'), ('freddie'),
             ('gabrysia'), ('geoff'), ('gosia'), ('greg'), ('grzes'), ('grzesiek'),
             ('hal'), ('hania'), ('harry'), ('heniek'), ('iza'), ('jack'), ('jamie'),
             ('janek'), ('jas'), ('jeff'), ('jen'), ('jenny'), ('jerry'), ('jess'),
             ('jim'), ('jimmy'), ('joe'), ('joey'), ('johnny'), ('jola'), ('julka'),
             ('jurek'), ('kasia'), ('kaska'), ('kate'), ('kathryn'), ('kathy'),
             ('katie'), ('kim'), ('krzys'), ('krzysiek'), ('kuba'), ('larry'), ('libby'),
             ('liz'), ('lizzie'), ('maciek'), ('magda'), ('maggie'), ('malgosia'),
             ('mandy'), ('marysia'), ('matt'), ('meg'), ('mick'), ('mike'), ('mikey'),
             ('mirek'), ('monia'), ('natalka'), ('nate'), ('nick'), ('ola'), ('olek'),
             ('pam'), ('peggy'), ('phil'), ('piotrek'), ('renia'), ('rich'), ('richie'),
             ('rick'), ('ricky'), ('rob'), ('robbie'), ('ron'), ('rysiek'), ('sandy'),
             ('slawek'), ('staszek'), ('stephen'), ('steve'), ('stevie'), ('sue'),
             ('susie'), ('tadek'), ('ted'), ('tereska'), ('tim'), ('tom'), ('tomek'),
             ('tommy'), ('tony'), ('vicky'), ('will'), ('willy'), ('wlodek'), ('wojtek'),
             ('zbyszek'), ('zenek'), ('zosia')) AS v(d);

-- every legal form: cut from a company name, as the index stores it
SELECT f AS legal_form, crm.normalize_company('Alfa Beta ' || f) AS company,
       crm.match_keys('company', NULL, NULL, 'Alfa Beta ' || f, NULL, NULL) AS keys
FROM (VALUES ('spolka z ograniczona odpowiedzialnoscia'),
             ('spolka komandytowo akcyjna'), ('spolka komandytowa'),
             ('spolka partnerska'), ('spolka akcyjna'), ('spolka cywilna'),
             ('spolka jawna'), ('spolka z o o'), ('sp z o o'), ('sp z oo'),
             ('sp k a'), ('sp j'), ('sp k'), ('sp p'), ('ska'), ('s c'),
             ('s a'), ('sa'), ('s r o'), ('sro'), ('gmbh'), ('ltd'),
             ('limited'), ('inc'), ('llc'), ('plc')) AS v(f);

-- a legal form alone stays (none listed): never the whole name, and no form
-- ends another, which would be cut first and leave the rest of the longer
SELECT f AS legal_form, crm.normalize_company(f) AS cut_to
FROM (VALUES ('spolka z ograniczona odpowiedzialnoscia'),
             ('spolka komandytowo akcyjna'), ('spolka komandytowa'),
             ('spolka partnerska'), ('spolka akcyjna'), ('spolka cywilna'),
             ('spolka jawna'), ('spolka z o o'), ('sp z o o'), ('sp z oo'),
             ('sp k a'), ('sp j'), ('sp k'), ('sp p'), ('ska'), ('s c'),
             ('s a'), ('sa'), ('s r o'), ('sro'), ('gmbh'), ('ltd'),
             ('limited'), ('inc'), ('llc'), ('plc')) AS v(f)
WHERE crm.normalize_company(f) <> f;
