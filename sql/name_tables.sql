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
FROM (VALUES ('abby'), ('adas'), ('aga'), ('alex'), ('allan'), ('allen'), ('ally'),
             ('andy'), ('ania'), ('anka'), ('ann'), ('annie'), ('antek'), ('antony'),
             ('ashleigh'), ('asia'), ('babs'), ('barb'), ('bartek'), ('basia'),
             ('becca'), ('becky'), ('bella'), ('ben'), ('benny'), ('bess'), ('beth'),
             ('betty'), ('bill'), ('billy'), ('bob'), ('bobby'), ('bogus'), ('bryan'),
             ('catherine'), ('cathy'), ('charlie'), ('chris'), ('chrissy'), ('chuck'),
             ('cindy'), ('clare'), ('dan'), ('danka'), ('danny'), ('darek'), ('dave'),
             ('davy'), ('deb'), ('debbie'), ('debra'), ('dick'), ('don'), ('dot'),
             ('dottie'), ('doug'), ('drew'), ('ed'), ('eddie'), ('edek'), ('ela'),
             ('em'), ('ewka'), ('franek'), ('fred'), ('freddie'), ('frederic'), ('gabe'),
             ('gabrysia'), ('geoff'), ('gill'), ('gosia'), ('graeme'), ('greg'),
             ('grzes'), ('grzesiek'), ('hal'), ('hania'), ('hank'), ('harry'),
             ('heniek'), ('iza'), ('izzy'), ('jack'), ('jake'), ('jamie'), ('janek'),
             ('jas'), ('jeff'), ('jen'), ('jenny'), ('jerry'), ('jess'), ('jessie'),
             ('jill'), ('jim'), ('jimmy'), ('joe'), ('joey'), ('johnathan'), ('johnny'),
             ('jola'), ('josh'), ('josie'), ('julka'), ('jurek'), ('kasia'), ('kaska'),
             ('kat'), ('kate'), ('kathryn'), ('kathy'), ('katie'), ('ken'), ('kenny'),
             ('kim'), ('kimberley'), ('kristine'), ('kristopher'), ('krzys'),
             ('krzysiek'), ('kuba'), ('larry'), ('laurence'), ('lexi'), ('liam'),
             ('libby'), ('liv'), ('liz'), ('lizzie'), ('lottie'), ('maciek'), ('magda'),
             ('maggie'), ('mal'), ('malgosia'), ('mandy'), ('marc'), ('marge'),
             ('marysia'), ('mathew'), ('matt'), ('meg'), ('mick'), ('mickey'), ('mike'),
             ('mikey'), ('mirek'), ('missy'), ('molly'), ('monia'), ('natalka'),
             ('nate'), ('neal'), ('ned'), ('nick'), ('nicolas'), ('ola'), ('olek'),
             ('ollie'), ('paddy'), ('pam'), ('patty'), ('peggy'), ('pete'), ('phil'),
             ('phillip'), ('piotrek'), ('polly'), ('ray'), ('rebekah'), ('reggie'),
             ('renia'), ('rich'), ('richie'), ('rick'), ('ricky'), ('rob'), ('robbie'),
             ('ron'), ('ronnie'), ('russ'), ('rysiek'), ('sally'), ('sandy'), ('sara'),
             ('shelly'), ('slawek'), ('staszek'), ('steph'), ('stephen'), ('steve'),
             ('stevie'), ('stewart'), ('stu'), ('sue'), ('susie'), ('suzy'), ('tadek'),
             ('ted'), ('tereska'), ('tess'), ('theresa'), ('tim'), ('timmy'), ('tom'),
             ('tomek'), ('tommy'), ('tony'), ('tori'), ('trish'), ('vicky'), ('wally'),
             ('walt'), ('will'), ('willy'), ('wlodek'), ('wojtek'), ('zach'), ('zack'),
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
