-- bench/quality_english.sql: the "english" set of bench/quality.sh.
--
-- English-speaking people without a national id: first names with nicknames
-- (Robert ~ Bob, Rob; Elizabeth ~ Liz, Beth) and spelling variants (Katherine ~
-- Catherine), street addresses ("12 Rosebud Avenue", "3/12 Rosebud Ave"),
-- suburbs or towns in the city column, 4-digit (Australian-like) or UK-like
-- postcodes, birth dates.
-- Needs bench/gen_common.sql and the psql variables entities, dup1, dup2.

-- first names, most common first: name, nicknames, other spellings
CREATE TABLE bench.efirst (sex text, ord int, name text, nick text[], variant text[]);
INSERT INTO bench.efirst
SELECT sex, o::int, split_part(x, ':', 1), string_to_array(nullif(split_part(x, ':', 2), ''), '/'),
       string_to_array(nullif(split_part(x, ':', 3), ''), '/')
FROM (VALUES
('M', '{James:Jim/Jimmy/Jamie,John:Jack/Johnny:Jon,Robert:Bob/Rob/Bobby/Robbie,Michael:Mike/Mick/Mickey,
  William:Bill/Will/Billy/Liam,David:Dave/Davy,Richard:Rick/Dick/Rich/Richie,Thomas:Tom/Tommy,Mark::Marc,
  Christopher:Chris/Kit:Kristopher,Daniel:Dan/Danny,Matthew:Matt:Mathew,Anthony:Tony:Antony,Paul,
  Andrew:Andy/Drew,Joseph:Joe/Joey,Peter:Pete,Steven:Steve:Stephen,Charles:Charlie/Chuck,Edward:Ed/Eddie/Ted/Ned,
  George,Benjamin:Ben/Benny,Samuel:Sam/Sammy,Alexander:Alex/Al/Sandy,Nicholas:Nick/Nicky:Nicolas,
  Jonathan:Jon/Jonny:Johnathan,Timothy:Tim/Timmy,Patrick:Pat/Paddy,Gregory:Greg,Kenneth:Ken/Kenny,
  Ronald:Ron/Ronnie,Lawrence:Larry:Laurence,Frederick:Fred/Freddie:Frederic,Henry:Harry/Hank,Gerald:Gerry/Jerry,
  Raymond:Ray,Nathan:Nate,Jacob:Jake,Zachary:Zach/Zack,Luke,Ryan,Jason,Adam,Kevin,Brian::Bryan,Gary,Scott,
  Oliver:Ollie,Philip:Phil:Phillip,Geoffrey:Geoff:Jeffrey,Alan:Al:Allan/Allen,Douglas:Doug,Malcolm:Mal,
  Stuart:Stu:Stewart,Graham::Graeme,Neil::Neal,Craig,Shane,Dylan,Harrison:Harry,Joshua:Josh,Benedict:Ben}'),
('F', '{Elizabeth:Liz/Beth/Betty/Lizzie/Eliza,Mary:Molly/Polly,Sarah:Sally:Sara,Margaret:Maggie/Peggy/Meg/Marge,
  Jennifer:Jen/Jenny,Katherine:Kate/Kathy/Katie/Kat:Catherine/Kathryn,Patricia:Pat/Patty/Trish,Susan:Sue/Suzy,
  Emma,Olivia:Liv,Jessica:Jess/Jessie,Rebecca:Becky/Becca:Rebekah,Victoria:Vicky/Tori,Deborah:Deb/Debbie:Debra,
  Laura,Rachel,Hannah,Amy,Lucy,Grace,Charlotte:Charlie/Lottie,Emily:Em,Sophie::Sophia,Chloe,Karen,Lisa,
  Michelle:Shelly,Nicole:Nicky,Kathleen:Kathy/Kath,Christine:Chris/Chrissy:Kristine,Jacqueline:Jackie,
  Abigail:Abby,Amanda:Mandy,Kimberly:Kim:Kimberley,Pamela:Pam,Barbara:Barb/Babs,Dorothy:Dot/Dottie,
  Theresa:Terry/Tess:Teresa,Cynthia:Cindy,Melissa:Mel/Missy,Stephanie:Steph,Natalie:Nat,Josephine:Jo/Josie,
  Eleanor:Ellie/Nell,Anne:Annie:Ann,Helen:Nell,Alexandra:Alex/Lexi/Sandra,Samantha:Sam/Sammy,Ashley::Ashleigh,
  Caroline:Carrie,Joanne:Jo,Louise:Lou,Gillian:Gill/Jill,Julie,Claire::Clare,Megan:Meg,Zoe,Ruby,Isabella:Bella/Izzy}')
) AS v(sex, l), unnest(string_to_array(regexp_replace(l, '[{}\s]', '', 'g'), ',')) WITH ORDINALITY AS u(x, o);
CREATE TABLE bench.epool AS
SELECT '{Smith,Jones,Williams,Brown,Taylor,Davies,Wilson,Evans,Thomas,Johnson,Roberts,Walker,Wright,Robinson,
         Thompson,White,Hughes,Edwards,Green,Hall,Wood,Harris,Lewis,Martin,Jackson,Clarke,Turner,Hill,Scott,Cooper,
         Morris,Ward,Moore,King,Watson,Baker,Harrison,Morgan,Patel,Young,Allen,Mitchell,James,Anderson,Phillips,Lee,
         Bell,Parker,Davis,Miller,Kelly,Campbell,Stewart,Murray,Murphy,Ryan,Walsh,OBrien,Byrne,McDonald,Reid,Fraser,
         Nguyen,Singh,Chen,Kumar,Russell,Henderson,Ross,Graham,Hamilton,Kennedy,Collins,Cook,Richardson,Howard,
         Clark,Carter,Shaw,Lloyd,Knight,Ellis,Marshall,Simpson,Gibson,Butler,Barnes,Mason,Hunt,Palmer,Holmes,
         Matthews,Fisher,Webb,Jenkins,Spencer,Rogers,Stevens,Dixon,Burton,Chapman,Mills,Grant}'::text[] AS ln,
       '{Ash,Brad,Brook,Craw,Dal,Fair,Hal,Hart,Kings,Lang,Mar,Mid,Nor,Old,Pem,Ram,Red,Ros,Shel,Stan,Thorn,Wad,Wes,
         Whit,Wood,Al,Ber,Black,Brom,Chad,Cold,Dun,Elm,Gar,Glad,Ham,Hay,Kirk,Lin,Mor,Pen,Rad,Sed,Staf,Sut,Tal,Wel,
         Win,Ather,Bux,Cal,Har,Lock,Pick,Rother,Sand,Thur,War}'::text[] AS pre,
       '{ford,ley,ton,well,wood,field,worth,by,ham,stone,more,brook,den,croft,ridge,shaw,wick,gate,low,cott,land,
         hurst,combe,bury}'::text[] AS suf,
       '{Rosebud,Acacia,Banksia,Wattle,Church,High,Station,Victoria,King,Queen,Park,Mill,Oak,Elm,Maple,Cedar,
         Willow,Bay,Beach,Hill,George,Albert,Railway,Bridge,School,Grange,Orchard,Kingfisher,Heather,Primrose,
         Jacaranda,Waratah,Ocean,Main,North,South,Lake,River,Forest,Meadow,Windsor,York,Cambridge,Oxford,Clarence,
         Elizabeth,Mary,Cross,Short,Nelson,Wellington,Princes,Hamilton,Chapel,Green,Manor,Springfield,Highfield,
         Fairview,Belmont,Ridgeway,Carrington,Ashgrove,Bellevue,Glenview,Marine,Tennyson,Wordsworth,Kipling,Banks}'::text[] AS st,
       '{Street:St,Road:Rd,Avenue:Ave,Drive:Dr,Court:Ct,Crescent:Cres,Place:Pl,Lane:Ln,Close:Cl,Parade:Pde,
         Terrace:Tce,Grove:Gr,Street:St,Road:Rd,Street:St,Avenue:Ave}'::text[] AS sty;
UPDATE bench.epool SET ln = (SELECT array_agg(btrim(x) ORDER BY o) FROM unnest(ln) WITH ORDINALITY AS u(x, o)),
    pre = (SELECT array_agg(btrim(x) ORDER BY o) FROM unnest(pre) WITH ORDINALITY AS u(x, o)),
    suf = (SELECT array_agg(btrim(x) ORDER BY o) FROM unnest(suf) WITH ORDINALITY AS u(x, o)),
    st = (SELECT array_agg(btrim(x) ORDER BY o) FROM unnest(st) WITH ORDINALITY AS u(x, o)),
    sty = (SELECT array_agg(btrim(x) ORDER BY o) FROM unnest(sty) WITH ORDINALITY AS u(x, o));
UPDATE bench.epool SET ln = array_replace(ln, 'OBrien', 'O''Brien');
-- suburbs and towns: name, postcode (4 digits) or outward code (UK-like), weight
CREATE TABLE bench.esub (name text, pc text, w float8);
INSERT INTO bench.esub VALUES
    ('Frankston', '3199', 5), ('Mornington', '3931', 3), ('Rosebud', '3939', 2), ('Glenroy', '3046', 3),
    ('Dandenong', '3175', 4), ('Footscray', '3011', 3), ('Brunswick', '3056', 3), ('Geelong', '3220', 5),
    ('Ballarat', '3350', 4), ('Bendigo', '3550', 4), ('Parramatta', '2150', 5), ('Bankstown', '2200', 4),
    ('Penrith', '2750', 4), ('Liverpool', '2170', 4), ('Manly', '2095', 2), ('Bondi', '2026', 2),
    ('Newcastle', '2300', 5), ('Wollongong', '2500', 5), ('Toowong', '4066', 2), ('Ipswich', '4305', 4),
    ('Southport', '4215', 4), ('Toowoomba', '4350', 4), ('Cairns', '4870', 3), ('Townsville', '4810', 4),
    ('Fremantle', '6160', 3), ('Joondalup', '6027', 3), ('Bunbury', '6230', 2), ('Glenelg', '5045', 2),
    ('Elizabeth', '5112', 2), ('Mount Gambier', '5290', 2), ('Sandy Bay', '7005', 2), ('Launceston', '7250', 3),
    ('Palmerston', '0830', 2), ('Belconnen', '2617', 3), ('Tuggeranong', '2900', 3), ('Queanbeyan', '2620', 2),
    ('Harrogate', 'HG1', 3), ('Bromley', 'BR1', 4), ('Croydon', 'CR0', 5), ('Reading', 'RG1', 5),
    ('Guildford', 'GU1', 3), ('Stockport', 'SK1', 4), ('Bolton', 'BL1', 4), ('Wigan', 'WN1', 3),
    ('Cheltenham', 'GL50', 3), ('Exeter', 'EX1', 4), ('Norwich', 'NR1', 4), ('Ipswich', 'IP1', 3),
    ('Swindon', 'SN1', 4), ('Luton', 'LU1', 4), ('Watford', 'WD17', 3), ('Slough', 'SL1', 3),
    ('Chester', 'CH1', 3), ('Lancaster', 'LA1', 2), ('Durham', 'DH1', 2), ('Bangor', 'LL57', 1),
    ('Paisley', 'PA1', 2), ('Dundee', 'DD1', 3), ('Swansea', 'SA1', 4), ('Belfast', 'BT1', 4);
ALTER TABLE bench.epool ADD sub text[], ADD sub_pc text[], ADD sub_c float8[];
UPDATE bench.epool SET
    sub = (SELECT array_agg(name ORDER BY w DESC, name, pc) FROM bench.esub),
    sub_pc = (SELECT array_agg(pc ORDER BY w DESC, name, pc) FROM bench.esub),
    sub_c = (SELECT array_agg(c ORDER BY w DESC, name, pc) FROM (
                 SELECT name, pc, w, coalesce(sum(w) OVER (ORDER BY w DESC, name, pc ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                                     / sum(w) OVER () AS c FROM bench.esub) x);
CREATE TABLE bench.efpool AS
SELECT sex, array_agg(name ORDER BY ord) AS names, bench.zipf_cum(count(*)::int, 0.8) AS cum FROM bench.efirst GROUP BY sex;

-- a postcode: the suburb's 4 digits, or the outward code and an inward "9XX"
CREATE FUNCTION bench.en_postcode(pc text, r float8) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN pc ~ '^[0-9]{4}$' THEN pc
                ELSE pc || ' ' || floor(r * 10)::int || substr('ABDEFGHJLNPQRSTUWXYZ', 1 + floor(r * 1000)::int % 20, 1)
                     || substr('ABDEFGHJLNPQRSTUWXYZ', 1 + floor(r * 100000)::int % 20, 1) END;
CREATE FUNCTION bench.en_phone(g bigint, uk boolean) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN uk THEN '+447' || lpad(((g * 7919 + 123456789) % 1000000000)::text, 9, '0')
                ELSE '+614' || lpad(((g * 7919 + 12345678) % 100000000)::text, 8, '0') END;

CREATE TABLE bench.eent0 AS
SELECT g AS eid, s.sex,
       (SELECT bench.wpick(f.names, f.cum, bench.rnd(g, 3)) FROM bench.efpool f WHERE f.sex = s.sex) AS first_name,
       CASE WHEN bench.rnd(g, 4) < 0.45 THEN bench.wpick(p.ln, bench.zipf_cum(cardinality(p.ln), 0.7), bench.rnd(g, 5))
            ELSE bench.upick(p.pre, bench.rnd(g, 5)) || bench.upick(p.suf, bench.rnd(g, 6)) END AS last_name,
       CASE WHEN bench.rnd(g, 7) < 0.92 THEN date '1940-01-01' + floor(bench.rnd(g, 8) * 23000)::int END AS bd,
       bench.wpick(p.sub, p.sub_c, bench.rnd(g, 9)) AS suburb,
       bench.wpick(p.sub_pc, p.sub_c, bench.rnd(g, 9)) AS pc0,
       CASE WHEN bench.rnd(g, 10) < 0.15 THEN (1 + floor(bench.rnd(g, 11) * 12)) || '/' ELSE '' END
           || (1 + floor(power(bench.rnd(g, 12), 1.5) * 250)) AS number,
       bench.upick(p.st, bench.rnd(g, 13)) AS street,
       bench.upick(p.sty, bench.rnd(g, 14)) AS stype,
       bench.rnd(g, 15) < 0.3 AS abbrev,
       bench.rnd(g, 16) < 0.65 AS has_phone,
       bench.rnd(g, 17) < 0.45 AS has_email,
       h.role, h.pair
FROM bench.epool p, generate_series(1, :entities) AS g,
LATERAL (SELECT CASE WHEN bench.rnd(g, 2) < 0.5 THEN 'F' ELSE 'M' END AS sex) s,
LATERAL (SELECT (g + 1) / 2 AS pair,
                CASE WHEN bench.rnd((g + 1) / 2, 22) < 0.15 AND (g % 2 = 0 OR g + 1 <= :entities)
                     THEN CASE WHEN g % 2 = 1 THEN 'head'
                               WHEN bench.rnd((g + 1) / 2, 23) < 0.55 THEN 'spouse'
                               WHEN bench.rnd((g + 1) / 2, 23) < 0.85 THEN 'child' ELSE 'sibling' END END AS role) h;
-- household members: the head's address and mostly its surname; spouses of
-- the other sex; a child sometimes of the parent's first name (a "junior")
CREATE TABLE bench.eent AS
SELECT e.eid, CASE WHEN e.role = 'spouse' THEN CASE hd.sex WHEN 'F' THEN 'M' ELSE 'F' END ELSE e.sex END AS sex,
       CASE WHEN e.role = 'child' AND bench.rnd(e.eid, 24) < 0.1 THEN hd.first_name ELSE e.first_name END AS first_name,
       CASE WHEN hd.eid IS NOT NULL AND (e.role <> 'spouse' OR bench.rnd(e.eid, 25) < 0.8) THEN hd.last_name
            ELSE e.last_name END AS last_name,
       CASE e.role WHEN 'spouse' THEN hd.bd + (floor(bench.rnd(e.eid, 26) * 3000) - 1500)::int
                   WHEN 'child' THEN CASE WHEN hd.bd + (7300 + floor(bench.rnd(e.eid, 26) * 5500))::int <= date '2007-12-31'
                                     THEN hd.bd + (7300 + floor(bench.rnd(e.eid, 26) * 5500))::int
                                     ELSE date '2007-12-31' - floor(bench.rnd(e.eid, 65) * 2500)::int END
                   WHEN 'sibling' THEN hd.bd + (floor(bench.rnd(e.eid, 26) * 5800) - 2900)::int
                   ELSE e.bd END AS bd,
       coalesce(hd.suburb, e.suburb) AS suburb, coalesce(hd.pc0, e.pc0) AS pc0,
       coalesce(hd.number, e.number) AS number, coalesce(hd.street, e.street) AS street,
       coalesce(hd.stype, e.stype) AS stype, coalesce(hd.abbrev, e.abbrev) AS abbrev,
       e.has_phone, e.has_email, e.role, CASE WHEN e.role IS NOT NULL THEN e.pair END AS household,
       coalesce(hd.eid, e.eid) AS hk
FROM bench.eent0 e LEFT JOIN bench.eent0 hd ON e.role IN ('spouse', 'child', 'sibling') AND hd.eid = e.eid - 1;
UPDATE bench.eent e SET first_name = (SELECT bench.wpick(f.names, f.cum, bench.rnd(e.eid, 27)) FROM bench.efpool f WHERE f.sex = e.sex)
WHERE e.role = 'spouse';
ALTER TABLE bench.eent ADD PRIMARY KEY (eid);
ALTER TABLE bench.eent ADD postcode text, ADD phone text, ADD email text;
UPDATE bench.eent e SET
    postcode = bench.en_postcode(pc0, bench.rnd(hk, 28)),
    phone = CASE WHEN has_phone THEN bench.en_phone(eid, pc0 !~ '^[0-9]') END,
    email = CASE WHEN has_email THEN lower(regexp_replace(first_name || '.' || last_name, '[^A-Za-z.]', '', 'g')) || eid
                                     || bench.upick('{@example.com,@example.com.au,@example.co.uk}', bench.rnd(eid, 29)) END;
UPDATE bench.eent e SET bd = NULL WHERE bd > date '2007-12-31';
CREATE FUNCTION bench.en_address(number text, street text, stype text, abbrev boolean) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN number || ' ' || street || ' ' || split_part(stype, ':', CASE WHEN abbrev THEN 2 ELSE 1 END);

CREATE TABLE bench.edup AS
WITH chosen AS (
    SELECT e.eid, row_number() OVER (ORDER BY bench.rnd(e.eid, 30), e.eid) AS rk FROM bench.eent e
), d AS (
    SELECT c.eid, 1 AS copy_no FROM chosen c WHERE c.rk <= :dup1
    UNION ALL SELECT c.eid, 2 FROM chosen c WHERE c.rk <= :dup2
), x AS (
    SELECT e.*, d.copy_no, e.eid * 4 + d.copy_no AS dk,
           (SELECT f.nick FROM bench.efirst f WHERE f.name = e.first_name AND f.sex = e.sex) AS nicks,
           (SELECT f.variant FROM bench.efirst f WHERE f.name = e.first_name AND f.sex = e.sex) AS variants
    FROM d JOIN bench.eent e USING (eid)
), f AS (
    SELECT x.*,
           CASE WHEN x.phone IS NULL THEN 'none' WHEN bench.rnd(dk, 31) < 0.30 THEN 'same'
                WHEN bench.rnd(dk, 31) < 0.50 THEN 'reformatted' ELSE 'dropped' END AS ph,
           CASE WHEN x.email IS NULL THEN 'none' WHEN bench.rnd(dk, 32) < 0.30 THEN 'same' ELSE 'dropped' END AS em,
           CASE WHEN bench.rnd(dk, 33) < 0.10 THEN 'moved' WHEN bench.rnd(dk, 33) < 0.18 THEN 'address_dropped'
                WHEN bench.rnd(dk, 33) < 0.36 THEN 'abbreviation' WHEN bench.rnd(dk, 33) < 0.46 THEN 'street_typo'
                WHEN bench.rnd(dk, 33) < 0.50 THEN 'number_typo' WHEN bench.rnd(dk, 33) < 0.54 THEN 'unit_dropped'
                ELSE 'same' END AS loc0,
           CASE WHEN x.bd IS NULL THEN 'none' WHEN bench.rnd(dk, 34) < 0.55 THEN 'same'
                WHEN bench.rnd(dk, 34) < 0.63 THEN 'dm_swapped' WHEN bench.rnd(dk, 34) < 0.67 THEN 'year_digits_swapped'
                WHEN bench.rnd(dk, 34) < 0.75 THEN 'digit_typo' WHEN bench.rnd(dk, 34) < 0.90 THEN 'missing'
                ELSE 'same' END AS bd0,
           CASE WHEN x.nicks IS NOT NULL AND bench.rnd(dk, 35) < 0.22 THEN 'nickname'
                WHEN x.variants IS NOT NULL AND bench.rnd(dk, 35) < 0.30 THEN 'spelling_variant'
                WHEN bench.rnd(dk, 35) < 0.38 THEN 'typo_first' WHEN bench.rnd(dk, 35) < 0.41 THEN 'initial_only'
                WHEN bench.rnd(dk, 35) < 0.45 THEN 'first_name_missing' ELSE 'none' END AS fnm
    FROM x
), g AS (
    SELECT f.*,
           CASE f.bd0 WHEN 'same' THEN f.bd WHEN 'dm_swapped' THEN bench.date_dm_swap(f.bd)
                      WHEN 'year_digits_swapped' THEN bench.date_year_swap(f.bd)
                      WHEN 'digit_typo' THEN bench.date_typo(f.bd, bench.rnd(dk, 36), bench.rnd(dk, 37)) END AS bd1,
           f.ph IN ('same', 'reformatted') OR f.em = 'same' AS strong
    FROM f
), h AS (
    SELECT g.*,
           CASE WHEN g.bd0 NOT IN ('missing', 'none') AND g.bd1 IS NULL THEN 'same' ELSE g.bd0 END AS bdl,
           CASE WHEN g.strong OR g.bd0 IN ('same', 'dm_swapped', 'year_digits_swapped', 'digit_typo')
                     OR g.loc0 NOT IN ('moved', 'address_dropped') THEN g.loc0 ELSE 'same' END AS loc,
           NOT (g.strong OR g.bd0 IN ('same', 'dm_swapped', 'year_digits_swapped', 'digit_typo')
                OR g.loc0 NOT IN ('moved', 'address_dropped')) AS forced,
           CASE WHEN bench.rnd(dk, 38) < 0.12 THEN 'typo_last' WHEN bench.rnd(dk, 38) < 0.17 THEN 'swapped'
                WHEN bench.rnd(dk, 38) < 0.21 THEN 'upper'
                WHEN bench.rnd(dk, 38) < 0.25 AND g.sex = 'F' AND (g.strong OR g.bd0 = 'same') THEN 'married_name'
                ELSE 'none' END AS nm,
           bench.rnd(dk, 39) < 0.10 AS sub_typo, bench.rnd(dk, 40) < 0.05 AS sub_missing,
           bench.rnd(dk, 41) < 0.08 AS pc_typo, bench.rnd(dk, 42) < 0.08 AS pc_missing
    FROM g
), n AS (
    SELECT h.*,
           CASE h.fnm WHEN 'nickname' THEN bench.upick(h.nicks, bench.rnd(dk, 43))
                      WHEN 'spelling_variant' THEN bench.upick(h.variants, bench.rnd(dk, 43))
                      WHEN 'typo_first' THEN bench.typo(h.first_name, bench.rnd(dk, 43), bench.rnd(dk, 44))
                      WHEN 'initial_only' THEN left(h.first_name, 1) || '.'
                      WHEN 'first_name_missing' THEN NULL ELSE h.first_name END AS fn0,
           CASE h.nm WHEN 'typo_last' THEN bench.typo(h.last_name, bench.rnd(dk, 45), bench.rnd(dk, 46))
                     WHEN 'married_name' THEN CASE WHEN bench.rnd(dk, 47) < 0.5
                                                   THEN bench.wpick(p.ln, bench.zipf_cum(cardinality(p.ln), 0.7), bench.rnd(dk, 48))
                                                   ELSE bench.upick(p.pre, bench.rnd(dk, 48)) || bench.upick(p.suf, bench.rnd(dk, 49)) END
                     ELSE h.last_name END AS ln0
    FROM h CROSS JOIN bench.epool p
)
SELECT (:entities + row_number() OVER (ORDER BY n.eid, n.copy_no))::bigint AS client_id, n.eid, n.copy_no,
       CASE WHEN n.nm = 'swapped' THEN n.ln0 WHEN n.nm = 'upper' THEN upper(n.fn0) ELSE n.fn0 END AS first_name,
       CASE WHEN n.nm = 'swapped' THEN coalesce(n.fn0, n.ln0) WHEN n.nm = 'upper' THEN upper(n.ln0) ELSE n.ln0 END AS last_name,
       CASE WHEN n.loc = 'moved' THEN bench.wpick(p.sub, p.sub_c, bench.rnd(n.dk, 50))
            WHEN n.sub_missing THEN NULL
            WHEN n.sub_typo THEN bench.typo(n.suburb, bench.rnd(n.dk, 51), bench.rnd(n.dk, 52))
            ELSE n.suburb END AS city,
       CASE WHEN n.pc_missing THEN NULL
            WHEN n.loc = 'moved' THEN bench.en_postcode(bench.wpick(p.sub_pc, p.sub_c, bench.rnd(n.dk, 50)), bench.rnd(n.dk, 53))
            WHEN n.pc_typo THEN bench.code_typo(n.postcode, bench.rnd(n.dk, 54), bench.rnd(n.dk, 55))
            ELSE n.postcode END AS postal_code,
       CASE n.loc WHEN 'moved' THEN bench.en_address((1 + floor(bench.rnd(n.dk, 56) * 250))::text, bench.upick(p.st, bench.rnd(n.dk, 57)),
                                                     bench.upick(p.sty, bench.rnd(n.dk, 58)), bench.rnd(n.dk, 59) < 0.3)
                  WHEN 'address_dropped' THEN NULL
                  WHEN 'abbreviation' THEN bench.en_address(n.number, n.street, n.stype, NOT n.abbrev)
                  WHEN 'street_typo' THEN bench.en_address(n.number, bench.typo(n.street, bench.rnd(n.dk, 60), bench.rnd(n.dk, 61)), n.stype, n.abbrev)
                  WHEN 'number_typo' THEN bench.en_address(bench.code_typo(n.number, bench.rnd(n.dk, 60), bench.rnd(n.dk, 61)), n.street, n.stype, n.abbrev)
                  WHEN 'unit_dropped' THEN bench.en_address(regexp_replace(n.number, '^.*/', ''), n.street, n.stype, n.abbrev)
                  ELSE bench.en_address(n.number, n.street, n.stype, n.abbrev) END AS address,
       CASE WHEN n.bd0 IN ('missing', 'none') THEN NULL ELSE coalesce(n.bd1, n.bd) END AS birth_date,
       CASE n.ph WHEN 'same' THEN n.phone
                 WHEN 'reformatted' THEN substr(n.phone, 1, 3) || ' ' || substr(n.phone, 4, 3) || ' ' || substr(n.phone, 7, 3) || ' ' || substr(n.phone, 10) END AS phone,
       CASE n.em WHEN 'same' THEN n.email END AS email,
       array_remove(ARRAY[
           CASE WHEN n.fnm <> 'none' THEN n.fnm END,
           CASE WHEN n.nm <> 'none' THEN n.nm END,
           'birth_date_' || n.bdl,
           'phone_' || n.ph, 'email_' || n.em, 'location_' || n.loc,
           CASE WHEN n.loc = 'unit_dropped' AND n.number !~ '/' THEN 'no_unit' END,
           CASE WHEN n.sub_typo AND n.loc <> 'moved' AND NOT n.sub_missing THEN 'suburb_typo' END,
           CASE WHEN n.sub_missing AND n.loc <> 'moved' THEN 'suburb_missing' END,
           CASE WHEN n.pc_typo AND n.loc <> 'moved' AND NOT n.pc_missing THEN 'postcode_typo' END,
           CASE WHEN n.pc_missing THEN 'postcode_missing' END,
           CASE WHEN n.forced THEN 'forced_address' END,
           CASE WHEN n.role IS NOT NULL THEN 'household_' || n.role END], NULL) AS labels
FROM n CROSS JOIN bench.epool p;

INSERT INTO crm.client (id, kind, first_name, last_name, city, postal_code, address, birth_date, language, source, created_at)
SELECT e.eid, 'person', e.first_name, e.last_name, e.suburb, e.postcode, bench.en_address(e.number, e.street, e.stype, e.abbrev),
       e.bd, 'en', 'import', timestamptz '2018-01-01' + bench.rnd(e.eid, 64) * interval '1500 days'
FROM bench.eent e ORDER BY e.eid;
INSERT INTO crm.client (id, kind, first_name, last_name, city, postal_code, address, birth_date, language, source, created_at)
SELECT d.client_id, 'person', d.first_name, d.last_name, d.city, d.postal_code, d.address, d.birth_date, 'en',
       'web', timestamptz '2022-03-01' + bench.rnd(d.client_id, 64) * interval '1000 days'
FROM bench.edup d ORDER BY d.client_id;
CREATE TABLE bench.contact_stage AS
SELECT e.eid AS client_id, 'phone' AS kind, e.phone AS value, true AS is_default, 'mobile' AS label
FROM bench.eent e WHERE e.phone IS NOT NULL
UNION ALL SELECT e.eid, 'email', e.email, true, NULL FROM bench.eent e WHERE e.email IS NOT NULL
UNION ALL SELECT d.client_id, 'phone', d.phone, true, 'mobile' FROM bench.edup d WHERE d.phone IS NOT NULL
UNION ALL SELECT d.client_id, 'email', d.email, true, NULL FROM bench.edup d WHERE d.email IS NOT NULL;
DELETE FROM bench.contact_stage WHERE kind = 'phone' AND NOT crm.is_valid_phone(value);

CREATE TABLE bench.rec AS
SELECT e.eid AS client_id, e.eid, 0 AS copy_no,
       CASE WHEN e.role IS NOT NULL THEN ARRAY['household_' || e.role] ELSE '{}' END AS labels, e.household
FROM bench.eent e
UNION ALL SELECT d.client_id, d.eid, d.copy_no, d.labels, e.household FROM bench.edup d JOIN bench.eent e USING (eid);
