-- bench/quality_foreigners.sql: the "foreigners" set of bench/quality.sh.
--
-- People living in Poland of Ukrainian, Belarusian, Russian and Georgian
-- origin.  Names are written here in Cyrillic (lower case) and every record
-- spells them through one transliteration (bench.translit): Polish (Mychajło,
-- Witalij, Żanna, Owczaryk, Cipurija), Polish with i for и (Michajło), English
-- (Mykhailo, Vitaliy, Zhanna, Ovcharyk, Tsipuria), German (Michajlo, Witali,
-- Schanna, Owtscharyk), the Ukrainian national system (Mykhailo, Vitalii,
-- Nataliia), or the Cyrillic original.  The second name (patronymic) goes into
-- first_name ("Oksana Petrivna") on some records.
-- Needs bench/gen_common.sql and the psql variables entities, dup1, dup2.

-- Cyrillic (lower case) -> Latin in one system; lang: ua, by, ru, ge (Georgian
-- names in their Russian spelling)
CREATE FUNCTION bench.translit(cyr text, lang text, sys text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    s text := cyr;
    vow constant text := 'аеєиіїоуюяыэёaeiouy';
    io text; so text;     -- a soft vowel at the start / after a vowel, after a consonant
    r text[];
BEGIN
    IF sys = 'cyr' THEN
        RETURN initcap(s);
    END IF;
    IF lang IN ('ru', 'ge') THEN
        s := translate(s, 'ги', 'ґі');
    END IF;
    IF lang IN ('ru', 'ge', 'by') THEN
        -- a Russian or Belarusian е is iotated at the start and after a vowel
        s := regexp_replace(s, '(^|[\s-]|[' || vow || 'ьъ])е', '\1є', 'g');
        IF sys IN ('pl', 'pl2') AND lang <> 'ge' THEN
            -- and soft after a consonant: Siergiej, Lebiediew
            s := regexp_replace(s, '([бвґгдзклмнпрстфх])е', '\1є', 'g');
        END IF;
    END IF;
    IF sys = 'de' THEN
        s := regexp_replace(s, '([' || vow || '])с([' || vow || '])', '\1сс\2', 'g');
        s := regexp_replace(s, '[иі]й$', 'і');
    END IF;
    IF sys = 'en' THEN
        s := regexp_replace(s, '([иі])й', 'іy', 'g');
    END IF;
    IF sys = 'pl2' THEN
        s := translate(s, 'и', 'і');
    END IF;
    -- the soft sign before a soft vowel iotates it
    s := regexp_replace(s, 'ь([яюєё])', 'ъ\1', 'g');
    -- soft vowels: я а, ю у, є е, ё о
    FOR i IN 1 .. 4 LOOP
        so := substr('яюєё', i, 1);
        io := substr('aueo', i, 1);
        IF sys = 'en' THEN
            s := regexp_replace(s, '(і)' || so, '\1' || io, 'g');
        END IF;
        IF sys = 'ua' THEN
            -- the national system: y- at the start of a word only
            s := regexp_replace(s, '(^|[\s-])' || so, '\1y' || io, 'g');
        ELSE
            s := regexp_replace(s, '(^|[\s-]|[' || vow || 'ъ])' || so,
                                '\1' || CASE sys WHEN 'en' THEN 'y' ELSE 'j' END || io, 'g');
        END IF;
        IF sys IN ('pl', 'pl2') THEN
            s := regexp_replace(s, 'л' || so, 'l' || io, 'g');
        END IF;
        s := regexp_replace(s, so, CASE sys WHEN 'en' THEN 'y' WHEN 'de' THEN 'j' ELSE 'i' END || io, 'g');
    END LOOP;
    s := replace(s, 'ъ', '');
    -- ї, й
    s := regexp_replace(s, '(^|[\s-])ї', '\1' || CASE WHEN sys IN ('en', 'ua') THEN 'yi' ELSE 'ji' END, 'g');
    s := replace(s, 'ї', CASE sys WHEN 'en' THEN 'yi' WHEN 'ua' THEN 'i' ELSE 'ji' END);
    IF sys = 'ua' THEN
        s := regexp_replace(s, '(^|[\s-])й', '\1y', 'g');
        s := replace(s, 'й', 'i');
    ELSE
        s := replace(s, 'й', CASE sys WHEN 'en' THEN 'y' ELSE 'j' END);
    END IF;
    -- л and the soft sign
    IF sys IN ('pl', 'pl2') THEN
        s := regexp_replace(s, 'л(ь|і)', 'l\1', 'g');
        s := replace(s, 'л', 'ł');
        s := replace(replace(replace(replace(s, 'нь', 'ń'), 'сь', 'ś'), 'зь', 'ź'), 'ць', 'ć');
    END IF;
    s := replace(s, 'ь', '');
    r := CASE WHEN sys IN ('pl', 'pl2')
              THEN '{щ,szcz,ш,sz,ч,cz,х,ch,ц,c,ж,ż,в,w,г,h,ґ,g,и,y,ы,y,э,e,ў,u}'::text[]
              WHEN sys = 'de'
              THEN '{щ,schtsch,ш,sch,ч,tsch,х,ch,ц,z,ж,sch,з,s,в,w,г,h,ґ,g,и,y,ы,y,э,e,ў,w}'::text[]
              ELSE '{щ,shch,ш,sh,ч,ch,х,kh,ц,ts,ж,zh,в,v,г,h,ґ,g,и,y,ы,y,э,e,ў,u}'::text[] END;
    FOR i IN 1 .. cardinality(r) BY 2 LOOP
        s := replace(s, r[i], r[i + 1]);
    END LOOP;
    s := translate(s, 'абдезіклмнопрстуфл', 'abdeziklmnoprstufl');
    RETURN initcap(s);
END
$$;

-- a postcode NN-NNN from its first digits
CREATE FUNCTION bench.pl_postcode(head text, r float8) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN left(head || lpad(floor(r * 10 ^ (5 - char_length(head)))::text, 5 - char_length(head), '0'), 2) || '-'
           || right(head || lpad(floor(r * 10 ^ (5 - char_length(head)))::text, 5 - char_length(head), '0'), 3);

-- the female form of a surname
CREATE FUNCTION bench.fem_surname(s text, lang text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN lang = 'ge' THEN s
                WHEN s ~ '(ов|ев|ёв|ин|ын)$' THEN s || 'а'
                WHEN s ~ '(оў|ёў|аў)$' THEN left(s, -1) || 'ва'
                WHEN s ~ 'ський$|цький$' THEN left(s, -2) || 'а'
                WHEN s ~ '(ский|цкий)$' THEN left(s, -2) || 'ая'
                WHEN s ~ '(скі|цкі)$' THEN s || 'я'
                ELSE s END;

CREATE TABLE bench.flist (list text, lang text, sex text, names text[], extras text[]);
INSERT INTO bench.flist (list, lang, sex, names) VALUES
('first', 'ua', 'F', '{оксана,олена,наталія,тетяна,юлія,ірина,світлана,людмила,галина,марія,ганна,катерина,вікторія,
    анастасія,ольга,надія,валентина,жанна,лариса,дарина,софія,христина,яна,інна,алла,віра,уляна,зоряна,любов,олеся}'),
('first', 'ua', 'M', '{олександр,сергій,андрій,володимир,михайло,віталій,дмитро,юрій,олег,іван,василь,микола,петро,
    богдан,тарас,ярослав,максим,віктор,євген,артем,павло,роман,ігор,григорій,степан,анатолій,валерій,денис,руслан,назар}'),
('first', 'ru', 'F', '{елена,татьяна,наталья,ольга,ирина,светлана,екатерина,юлия,анна,мария,жанна,ксения,людмила,
    галина,евгения,дарья,алёна,марина,валентина,надежда}'),
('first', 'ru', 'M', '{александр,сергей,дмитрий,андрей,алексей,михаил,виталий,николай,евгений,юрий,илья,владимир,
    игорь,олег,павел,артём,фёдор,василий,константин,денис}'),
('first', 'by', 'F', '{алеся,святлана,вольга,наталля,таццяна,марыя,вераніка,ганна,ірына,юлія,кацярына,алена}'),
('first', 'by', 'M', '{аляксандр,мікалай,уладзімір,сяргей,андрэй,дзмітрый,павел,алесь,віктар,юрый,аляксей,ігар}'),
('first', 'ge', 'F', '{нино,тамара,мариам,кетеван,эка,натия,софико,майя,тамар,анна,нана,лика}'),
('first', 'ge', 'M', '{георгий,давид,ираклий,леван,гиорги,тамаз,заза,нодар,реваз,шота,лаша,бесик,гоча,вахтанг}'),
-- surnames: the common ones, most common first (male forms)
('last', 'ua', NULL, '{шевченко,коваленко,бондаренко,ткаченко,кравченко,олійник,шевчук,коваль,поліщук,бойко,ткачук,
    мельник,савченко,руденко,мороз,лисенко,марченко,петренко,клименко,гончаренко,павленко,кузьменко,іваненко,
    харченко,литвиненко,щербак,яковенко,сидоренко,овчарик,юрченко,левченко,костенко,гаврилюк,пономаренко,карпенко,
    романюк,білик,гнатюк,кушнір,ярошенко,ковальчук,мартинюк,бондар,приходько,тимошенко,ковальський,вишневський,
    савицький,заїка,їжак}'),
('last', 'ru', NULL, '{иванов,смирнов,кузнецов,попов,соколов,лебедев,козлов,новиков,морозов,петров,волков,соловьёв,
    васильев,зайцев,павлов,семёнов,голубев,виноградов,богданов,воробьёв,фёдоров,михайлов,беляев,тарасов,белов,
    орлов,киселёв,макаров,андреев,ковалёв,ильин,гусев,титов,кузьмин,баранов,куликов,алексеев,степанов,яковлев,
    сорокин,высоцкий}'),
('last', 'by', NULL, '{новік,мельнік,шаўчэнка,ковальчык,жук,бондар,лукашэвіч,кавалёў,казлоў,навіцкі,грыневіч,
    марозаў,кузняцоў,васілеўскі,карпенка,сідарэнка,яўменаў,шыманскі}'),
('last', 'ge', NULL, '{беридзе,капанадзе,гелашвили,мамаладзе,ципурия,кварацхелия,церетели,джапаридзе,хачидзе,
    чхеидзе,гогоберидзе,ломидзе,абашидзе,бакрадзе,гиоргадзе,квиташвили,нижарадзе,маисурадзе,джавахишвили,
    метревели,цхакая,габуния,шенгелия,кобахидзе,табатадзе}'),
-- a long tail: stem + suffix
('stem', 'ua', NULL, '{коваль,ткач,мельн,бонд,шевч,кравч,гончар,лис,мороз,петр,павл,іван,сидор,марч,руд,клим,харч,
    литвин,левч,кост,гаврил,пономар,карп,роман,гнат,ярош,мартин,приход,дяч,тимош,кушн,білоус,сав,кузьм,яков,юрч,
    онищ,гриц,дорош,остап,панас,хомич,федор,яким,семен,зінч,чорн,білан,гуц,пилип,стець,оліфер,щерб,жур,горб}'),
('suffix', 'ua', NULL, '{енко,ук,юк,чук,ак,ик,ець,ишин,ів,ський}'),
('stem', 'ru', NULL, '{смирн,кузнец,соколь,лебед,козл,новик,мороз,петр,волк,зайц,павл,семен,голуб,виноград,
    богдан,тарас,бел,орл,кисел,макар,андре,ковал,гус,тит,баран,кулик,степан,яковл,сорок,журавл,медвед,гончар,
    щегл,поляк,тихон,крыл,жук,савель,фомин,грачев}'),
('suffix', 'ru', NULL, '{ов,ев,ин,ский,ихин,енков}'),
('stem', 'by', NULL, '{кавал,казл,новік,мельн,жук,грын,мароз,кузняц,васіл,карп,сідар,шыман,лукаш,бахар,дуб,
    рак,ярмол,пашкев,станкев,куп}'),
('suffix', 'by', NULL, '{оў,ёнак,евіч,ка,чык,скі,енка,овіч}'),
('stem', 'ge', NULL, '{берид,капан,гелаш,мамал,ципур,кварацх,джапар,хачид,чхеид,гогобер,ломид,абаш,бакрад,
    гиоргад,квиташ,нижарад,маисурад,джавах,метрев,цхака,габун,шенгел,кобах,табатад,мчедл,сулак,тедор,окуджав}'),
('suffix', 'ge', NULL, '{идзе,вили,ия,ели,ани,уа,адзе,швили}');
-- patronymics, male:female
INSERT INTO bench.flist (list, lang, sex, names) VALUES
('patronymic', 'ua', NULL, '{петрович:петрівна,іванович:іванівна,михайлович:михайлівна,олександрович:олександрівна,
    васильович:василівна,миколайович:миколаївна,сергійович:сергіївна,володимирович:володимирівна,
    юрійович:юріївна,григорович:григорівна,степанович:степанівна,анатолійович:анатоліївна,вікторович:вікторівна,
    андрійович:андріївна,богданович:богданівна,ярославович:ярославівна}'),
('patronymic', 'ru', NULL, '{иванович:ивановна,сергеевич:сергеевна,александрович:александровна,михайлович:михайловна,
    николаевич:николаевна,владимирович:владимировна,петрович:петровна,викторович:викторовна,юрьевич:юрьевна,
    алексеевич:алексеевна,васильевич:васильевна,андреевич:андреевна}'),
('patronymic', 'by', NULL, '{іванавіч:іванаўна,аляксандравіч:аляксандраўна,мікалаевіч:мікалаеўна,сяргеевіч:сяргееўна,
    уладзіміравіч:уладзіміраўна,пятровіч:пятроўна,віктаравіч:віктараўна}');
-- first names as a Polish clerk may write them: the Polish equivalent
INSERT INTO bench.flist (list, lang, sex, names) VALUES
('polonized', NULL, NULL, '{олександр:Aleksander,александр:Aleksander,аляксандр:Aleksander,михайло:Michał,
    михаил:Michał,іван:Jan,петро:Piotr,андрій:Andrzej,андрей:Andrzej,андрэй:Andrzej,сергій:Sergiusz,сергей:Sergiusz,
    юрій:Jerzy,юрий:Jerzy,юрый:Jerzy,георгий:Jerzy,василь:Bazyli,василий:Bazyli,микола:Mikołaj,николай:Mikołaj,
    мікалай:Mikołaj,павло:Paweł,павел:Paweł,григорій:Grzegorz,степан:Szczepan,дмитро:Dymitr,дмитрий:Dymitr,
    євген:Eugeniusz,евгений:Eugeniusz,віктор:Wiktor,віктар:Wiktor,володимир:Włodzimierz,владимир:Włodzimierz,
    уладзімір:Włodzimierz,ярослав:Jarosław,давид:Dawid,олена:Helena,елена:Helena,алена:Helena,наталія:Natalia,
    наталья:Natalia,наталля:Natalia,катерина:Katarzyna,екатерина:Katarzyna,кацярына:Katarzyna,марія:Maria,
    мария:Maria,марыя:Maria,ганна:Anna,анна:Anna,ольга:Olga,вольга:Olga,тетяна:Tatiana,татьяна:Tatiana,
    таццяна:Tatiana,юлія:Julia,юлия:Julia,ірина:Irena,ирина:Irena,ірына:Irena,софія:Zofia,вікторія:Wiktoria,
    анастасія:Anastazja,людмила:Ludmiła,галина:Halina,надія:Nadzieja,світлана:Swietłana,светлана:Swietłana,
    святлана:Swietłana,валентина:Walentyna,христина:Krystyna,віра:Wiera,ксения:Ksenia}');
UPDATE bench.flist SET names = (SELECT array_agg(btrim(x) ORDER BY o) FROM unnest(names) WITH ORDINALITY AS u(x, o));
-- where foreigners live: city, first two digits of its postcodes, weight
CREATE TABLE bench.fcity (name text, pc text, w float8);
INSERT INTO bench.fcity VALUES
    ('Warszawa', '0', 30), ('Wrocław', '5', 12), ('Kraków', '3', 11), ('Poznań', '6', 7), ('Gdańsk', '80', 6),
    ('Łódź', '9', 5), ('Katowice', '40', 4), ('Lublin', '20', 4), ('Rzeszów', '35', 3), ('Szczecin', '7', 3),
    ('Gdynia', '81', 2), ('Bydgoszcz', '85', 2), ('Białystok', '15', 2), ('Toruń', '87', 1.5), ('Olsztyn', '10', 1),
    ('Opole', '45', 1), ('Zielona Góra', '65', 1), ('Kielce', '25', 1), ('Chełm', '22', 1), ('Przemyśl', '37', 1),
    ('Legnica', '59', 1), ('Piaseczno', '05', 1), ('Pruszków', '05', 1), ('Sopot', '81', 0.5);
CREATE TABLE bench.fpool AS
SELECT (SELECT array_agg(name ORDER BY w DESC, name) FROM bench.fcity) AS ci,
       (SELECT array_agg(pc ORDER BY w DESC, name) FROM bench.fcity) AS ci_pc,
       (SELECT array_agg(c ORDER BY w DESC, name) FROM (
            SELECT name, w, coalesce(sum(w) OVER (ORDER BY w DESC, name ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                            / sum(w) OVER () AS c FROM bench.fcity) x) AS ci_c,
       '{Marszałkowska,Puławska,Grochowska,Wolska,Górczewska,Legnicka,Grabiszyńska,Kościuszki,Mickiewicza,
         Sienkiewicza,Słowackiego,Piłsudskiego,Krakowska,Warszawska,Lipowa,Polna,Leśna,Ogrodowa,Długa,Kolejowa,
         Zielona,Szkolna,Różana,Kwiatowa,Jana Pawła II,Armii Krajowej,Grunwaldzka,Reymonta,Żeromskiego,Chopina,
         Kopernika,Prusa,Wrocławska,Dworcowa,Fabryczna,Przemysłowa,Okrzei,Targowa,Ząbkowska,Modlińska}'::text[] AS st;

-- the entities; households pair 2p-1 (head) and 2p
CREATE TABLE bench.fent0 AS
SELECT g AS eid, l.lang, s.sex,
       CASE WHEN bench.rnd(g, 3) < 0.97 THEN
           (SELECT bench.wpick(f.names, bench.zipf_cum(cardinality(f.names), 0.7), bench.rnd(g, 4))
            FROM bench.flist f WHERE f.list = 'first' AND f.lang = l.lang AND f.sex = s.sex) END AS first_cyr,
       -- Georgians have none; some records of the others carry it
       (SELECT split_part(bench.upick(f.names, bench.rnd(g, 5)), ':', CASE s.sex WHEN 'M' THEN 1 ELSE 2 END)
        FROM bench.flist f WHERE f.list = 'patronymic' AND f.lang = l.lang) AS patr_cyr,
       CASE WHEN bench.rnd(g, 6) < 0.35
            THEN (SELECT bench.wpick(f.names, bench.zipf_cum(cardinality(f.names), 0.6), bench.rnd(g, 7))
                  FROM bench.flist f WHERE f.list = 'last' AND f.lang = l.lang)
            ELSE (SELECT bench.upick(f.names, bench.rnd(g, 7)) FROM bench.flist f WHERE f.list = 'stem' AND f.lang = l.lang)
                 || (SELECT bench.upick(f.names, bench.rnd(g, 8)) FROM bench.flist f WHERE f.list = 'suffix' AND f.lang = l.lang)
       END AS last_male,
       date '1950-01-01' + floor(power(bench.rnd(g, 9), 0.8) * 20000)::int AS bd,
       bench.wpick(p.ci, p.ci_c, bench.rnd(g, 10)) AS city,
       bench.wpick(p.ci_pc, p.ci_c, bench.rnd(g, 10)) AS pc2,
       'ul. ' || bench.upick(p.st, bench.rnd(g, 11)) || ' ' || (1 + floor(bench.rnd(g, 12) * 150))
           || CASE WHEN bench.rnd(g, 13) < 0.7 THEN '/' || (1 + floor(bench.rnd(g, 14) * 80)) ELSE '' END AS address,
       CASE WHEN bench.rnd(g, 15) < 0.35 THEN true ELSE false END AS has_pesel,
       CASE WHEN bench.rnd(g, 16) < 0.85
            THEN CASE WHEN bench.rnd(g, 17) < 0.75
                      THEN '+48' || bench.upick('{50,51,53,57,60,66,69,72,73,78,79,88}', bench.rnd(g, 18))
                           || lpad(((g::bigint * 7919 + 5555555) % 10000000)::text, 7, '0')
                      ELSE '+380' || bench.upick('{50,63,66,67,68,73,93,95,96,97,98,99}', bench.rnd(g, 18))
                           || lpad(((g::bigint * 7919 + 3333333) % 10000000)::text, 7, '0') END END AS phone,
       bench.rnd(g, 19) < 0.35 AS has_email,
       -- the system of the first record
       CASE WHEN bench.rnd(g, 20) < 0.35 THEN 'pl' WHEN bench.rnd(g, 20) < 0.50 THEN 'pl2'
            WHEN bench.rnd(g, 20) < 0.75 THEN 'en' WHEN bench.rnd(g, 20) < 0.87 THEN 'ua'
            WHEN bench.rnd(g, 20) < 0.93 THEN 'de' ELSE 'cyr' END AS sys0,
       bench.rnd(g, 21) < 0.3 AS with_patr,
       h.role, h.pair
FROM bench.fpool p, generate_series(1, :entities) AS g,
LATERAL (SELECT CASE WHEN bench.rnd(g, 2) < 0.5 THEN 'F' ELSE 'M' END AS sex) s,
LATERAL (SELECT (g + 1) / 2 AS pair,
                CASE WHEN bench.rnd((g + 1) / 2, 22) < 0.14 AND (g % 2 = 0 OR g + 1 <= :entities)
                     THEN CASE WHEN g % 2 = 1 THEN 'head'
                               WHEN bench.rnd((g + 1) / 2, 23) < 0.55 THEN 'spouse'
                               WHEN bench.rnd((g + 1) / 2, 23) < 0.85 THEN 'child' ELSE 'sibling' END END AS role) h,
-- a household member is of the head's origin
LATERAL (SELECT CASE WHEN h.role IN ('spouse', 'child', 'sibling') THEN g - 1 ELSE g END AS lk) k,
LATERAL (SELECT CASE WHEN bench.rnd(k.lk, 1) < 0.68 THEN 'ua' WHEN bench.rnd(k.lk, 1) < 0.80 THEN 'by'
                     WHEN bench.rnd(k.lk, 1) < 0.90 THEN 'ru' ELSE 'ge' END AS lang) l;

-- household members take the head's surname, address, city, and often its
-- phone and transliteration; spouses are of the other sex
CREATE TABLE bench.fent AS
SELECT e.eid, e.lang,
       CASE WHEN e.role = 'spouse' THEN CASE hd.sex WHEN 'F' THEN 'M' ELSE 'F' END ELSE e.sex END AS sex,
       e.first_cyr, e.patr_cyr,
       coalesce(hd.last_male, e.last_male) AS last_male,
       CASE e.role WHEN 'spouse' THEN hd.bd + (floor(bench.rnd(e.eid, 24) * 3000) - 1500)::int
                   WHEN 'child' THEN CASE WHEN hd.bd + (7300 + floor(bench.rnd(e.eid, 24) * 5500))::int <= date '2007-12-31'
                                     THEN hd.bd + (7300 + floor(bench.rnd(e.eid, 24) * 5500))::int
                                     ELSE date '2007-12-31' - floor(bench.rnd(e.eid, 65) * 2500)::int END
                   WHEN 'sibling' THEN hd.bd + (floor(bench.rnd(e.eid, 24) * 5800) - 2900)::int
                   ELSE e.bd END AS bd,
       coalesce(hd.city, e.city) AS city, coalesce(hd.pc2, e.pc2) AS pc2, coalesce(hd.address, e.address) AS address,
       e.has_pesel,
       CASE WHEN hd.eid IS NOT NULL AND bench.rnd(e.eid, 25) < 0.3 THEN hd.phone ELSE e.phone END AS phone,
       e.has_email,
       CASE WHEN hd.eid IS NOT NULL AND bench.rnd(e.eid, 26) < 0.7 THEN hd.sys0 ELSE e.sys0 END AS sys0,
       e.with_patr, e.role, CASE WHEN e.role IS NOT NULL THEN e.pair END AS household
FROM bench.fent0 e LEFT JOIN bench.fent0 hd ON e.role IN ('spouse', 'child', 'sibling') AND hd.eid = e.eid - 1;
-- a spouse's own first name and patronymic of the spouse's sex
UPDATE bench.fent e SET
    first_cyr = (SELECT bench.wpick(f.names, bench.zipf_cum(cardinality(f.names), 0.7), bench.rnd(e.eid, 27))
                 FROM bench.flist f WHERE f.list = 'first' AND f.lang = e.lang AND f.sex = e.sex),
    patr_cyr = (SELECT split_part(bench.upick(f.names, bench.rnd(e.eid, 5)), ':', CASE e.sex WHEN 'M' THEN 1 ELSE 2 END)
                FROM bench.flist f WHERE f.list = 'patronymic' AND f.lang = e.lang)
WHERE e.role = 'spouse';
ALTER TABLE bench.fent ADD PRIMARY KEY (eid);
ALTER TABLE bench.fent ADD last_cyr text, ADD postcode text, ADD pesel text, ADD email text;
UPDATE bench.fent e SET
    last_cyr = CASE sex WHEN 'F' THEN bench.fem_surname(last_male, lang) ELSE last_male END,
    postcode = bench.pl_postcode(pc2, bench.rnd(coalesce(household * 2 - 1, eid), 28)),
    pesel = CASE WHEN has_pesel THEN bench.pesel(bd, (eid % 1000)::int,
                                                 (2 * ((eid / 1000) % 5) + CASE sex WHEN 'M' THEN 1 ELSE 0 END)::int) END;
UPDATE bench.fent e SET email = lower(bench.translit(coalesce(first_cyr, 'x'), lang, 'en') || '.'
                                      || bench.translit(last_cyr, lang, 'en')) || eid || '@example.com'
WHERE has_email;
-- a PESEL two entities would share (same date, serial 5,000 apart) is dropped
UPDATE bench.fent SET pesel = NULL
WHERE pesel IN (SELECT pesel FROM bench.fent WHERE pesel IS NOT NULL GROUP BY 1 HAVING count(*) > 1);

-- a name as one record writes it
CREATE FUNCTION bench.fname(first_cyr text, patr_cyr text, with_patr boolean, lang text, sys text) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN first_cyr IS NULL THEN NULL
                ELSE bench.translit(first_cyr, lang, sys)
                     || CASE WHEN with_patr AND patr_cyr IS NOT NULL THEN ' ' || bench.translit(patr_cyr, lang, sys) ELSE '' END END;

-- the duplicates: copy 1 of dup1 entities, copy 2 of the first dup2 of them
CREATE TABLE bench.fdup AS
WITH chosen AS (
    SELECT e.eid, row_number() OVER (ORDER BY bench.rnd(e.eid, 30), e.eid) AS rk FROM bench.fent e
), d AS (
    SELECT c.eid, 1 AS copy_no FROM chosen c WHERE c.rk <= :dup1
    UNION ALL SELECT c.eid, 2 FROM chosen c WHERE c.rk <= :dup2
), x AS (
    SELECT e.*, d.copy_no, e.eid * 4 + d.copy_no AS dk FROM d JOIN bench.fent e USING (eid)
), f AS (
    SELECT x.*,
           CASE WHEN bench.rnd(dk, 31) < 0.55
                THEN bench.upick(array_remove('{pl,pl2,en,ua,de,cyr}'::text[], x.sys0), bench.rnd(dk, 32))
                ELSE x.sys0 END AS sys,
           x.pesel IS NOT NULL AND bench.rnd(dk, 33) < 0.45 AS keep_pesel,
           CASE WHEN x.phone IS NULL THEN 'none' WHEN bench.rnd(dk, 34) < 0.35 THEN 'same'
                WHEN bench.rnd(dk, 34) < 0.55 THEN 'reformatted' ELSE 'dropped' END AS ph,
           CASE WHEN x.email IS NULL THEN 'none' WHEN bench.rnd(dk, 35) < 0.30 THEN 'same'
                WHEN bench.rnd(dk, 35) < 0.40 THEN 'upper' ELSE 'dropped' END AS em,
           CASE WHEN bench.rnd(dk, 36) < 0.12 THEN 'moved' WHEN bench.rnd(dk, 36) < 0.16 THEN 'location_dropped'
                WHEN bench.rnd(dk, 36) < 0.24 THEN 'address_dropped' WHEN bench.rnd(dk, 36) < 0.36 THEN 'street_typo'
                WHEN bench.rnd(dk, 36) < 0.42 THEN 'city_typo' ELSE 'same' END AS loc0,
           CASE WHEN bench.rnd(dk, 37) < 0.45 THEN 'same' WHEN bench.rnd(dk, 37) < 0.53 THEN 'dm_swapped'
                WHEN bench.rnd(dk, 37) < 0.58 THEN 'year_digits_swapped' WHEN bench.rnd(dk, 37) < 0.66 THEN 'digit_typo'
                WHEN bench.rnd(dk, 37) < 0.80 THEN 'missing' ELSE 'same' END AS bd0,
           bench.rnd(dk, 38) < 0.3 AS with_patr1
    FROM x
), g AS (
    SELECT f.*,
           CASE WHEN f.keep_pesel THEN f.bd
                ELSE CASE f.bd0 WHEN 'same' THEN f.bd WHEN 'dm_swapped' THEN bench.date_dm_swap(f.bd)
                                WHEN 'year_digits_swapped' THEN bench.date_year_swap(f.bd)
                                WHEN 'digit_typo' THEN bench.date_typo(f.bd, bench.rnd(dk, 39), bench.rnd(dk, 40)) END END AS bd1,
           f.keep_pesel OR f.ph IN ('same', 'reformatted') OR f.em IN ('same', 'upper') AS strong
    FROM f
), h AS (
    SELECT g.*,
           -- day and month alike, or no year to swap: the date stays
           CASE WHEN g.keep_pesel THEN 'pesel' WHEN g.bd0 <> 'missing' AND g.bd1 IS NULL THEN 'same' ELSE g.bd0 END AS bdl,
           -- a duplicate a person would still accept: an identifier or contact, the
           -- birth date as typed, or the address
           CASE WHEN g.strong OR g.bd0 IN ('same', 'dm_swapped', 'year_digits_swapped', 'digit_typo')
                     OR g.loc0 NOT IN ('moved', 'location_dropped', 'address_dropped') THEN g.loc0 ELSE 'same' END AS loc,
           NOT (g.strong OR g.bd0 IN ('same', 'dm_swapped', 'year_digits_swapped', 'digit_typo')
                OR g.loc0 NOT IN ('moved', 'location_dropped', 'address_dropped')) AS forced,
           CASE WHEN bench.rnd(dk, 41) < 0.12 THEN 'typo_last' WHEN bench.rnd(dk, 41) < 0.17 THEN 'swapped'
                WHEN bench.rnd(dk, 41) < 0.22 THEN 'upper'
                WHEN bench.rnd(dk, 41) < 0.28 AND g.sex = 'F' AND (g.strong OR g.bd0 = 'same') THEN 'married_name'
                ELSE 'none' END AS nm,
           g.first_cyr IS NOT NULL AND bench.rnd(dk, 42) < 0.08 AS ftypo,
           g.first_cyr IS NOT NULL AND bench.rnd(dk, 43) < 0.03 AS fmiss,
           g.sys <> 'cyr' AND bench.rnd(dk, 44) < 0.08
               AND EXISTS (SELECT FROM bench.flist p, unnest(p.names) u WHERE p.list = 'polonized'
                           AND split_part(u, ':', 1) = g.first_cyr) AS polon,
           bench.rnd(dk, 45) < 0.10 AS pc_typo,
           bench.rnd(dk, 46) < 0.12 AS pc_missing
    FROM g
), n AS (
    SELECT h.*,
           CASE WHEN h.fmiss THEN NULL
                WHEN h.polon THEN (SELECT split_part(u, ':', 2) FROM bench.flist p, unnest(p.names) u
                                   WHERE p.list = 'polonized' AND split_part(u, ':', 1) = h.first_cyr)
                                  || CASE WHEN h.with_patr1 AND h.patr_cyr IS NOT NULL
                                          THEN ' ' || bench.translit(h.patr_cyr, h.lang, h.sys) ELSE '' END
                ELSE bench.fname(h.first_cyr, h.patr_cyr, h.with_patr1, h.lang, h.sys) END AS fn0,
           CASE WHEN h.nm = 'married_name'
                THEN bench.translit(bench.fem_surname(
                         (SELECT bench.upick(f.names, bench.rnd(h.dk, 47)) FROM bench.flist f WHERE f.list = 'stem' AND f.lang = h.lang)
                         || (SELECT bench.upick(f.names, bench.rnd(h.dk, 48)) FROM bench.flist f WHERE f.list = 'suffix' AND f.lang = h.lang),
                         h.lang), h.lang, h.sys)
                ELSE bench.translit(h.last_cyr, h.lang, h.sys) END AS ln0
    FROM h
)
SELECT (:entities + row_number() OVER (ORDER BY n.eid, n.copy_no))::bigint AS client_id, n.eid, n.copy_no,
       CASE WHEN n.nm = 'swapped' THEN n.ln0
            WHEN n.ftypo AND n.sys <> 'cyr' THEN bench.typo(n.fn0, bench.rnd(n.dk, 49), bench.rnd(n.dk, 50))
            WHEN n.nm = 'upper' THEN upper(n.fn0) ELSE n.fn0 END AS first_name,
       CASE WHEN n.nm = 'swapped' THEN coalesce(n.fn0, n.ln0)
            WHEN n.nm = 'typo_last' AND n.sys <> 'cyr' THEN bench.typo(n.ln0, bench.rnd(n.dk, 51), bench.rnd(n.dk, 52))
            WHEN n.nm = 'upper' THEN upper(n.ln0) ELSE n.ln0 END AS last_name,
       CASE WHEN n.loc = 'moved' THEN bench.wpick(p.ci, p.ci_c, bench.rnd(n.dk, 53))
            WHEN n.loc = 'location_dropped' THEN NULL
            WHEN n.loc = 'city_typo' THEN bench.typo(n.city, bench.rnd(n.dk, 54), bench.rnd(n.dk, 55))
            ELSE n.city END AS city,
       CASE WHEN n.loc IN ('location_dropped') OR n.pc_missing THEN NULL
            WHEN n.loc = 'moved' THEN bench.pl_postcode(bench.wpick(p.ci_pc, p.ci_c, bench.rnd(n.dk, 53)), bench.rnd(n.dk, 56))
            WHEN n.pc_typo THEN bench.code_typo(n.postcode, bench.rnd(n.dk, 57), bench.rnd(n.dk, 58))
            ELSE n.postcode END AS postal_code,
       CASE WHEN n.loc = 'moved' THEN 'ul. ' || bench.upick(p.st, bench.rnd(n.dk, 59)) || ' ' || (1 + floor(bench.rnd(n.dk, 60) * 150))
            WHEN n.loc IN ('location_dropped', 'address_dropped') THEN NULL
            WHEN n.loc = 'street_typo'
            THEN CASE WHEN bench.rnd(n.dk, 61) < 0.6 THEN 'ul. ' || bench.typo(substr(n.address, 5), bench.rnd(n.dk, 62), bench.rnd(n.dk, 63))
                      WHEN bench.rnd(n.dk, 61) < 0.8 THEN substr(n.address, 5)
                      ELSE bench.code_typo(n.address, bench.rnd(n.dk, 62), bench.rnd(n.dk, 63)) END
            ELSE n.address END AS address,
       CASE WHEN n.keep_pesel THEN n.pesel END AS pesel,
       CASE WHEN n.keep_pesel THEN n.bd WHEN n.bd0 = 'missing' THEN NULL ELSE coalesce(n.bd1, n.bd) END AS birth_date,
       CASE n.ph WHEN 'same' THEN n.phone
                 WHEN 'reformatted' THEN CASE WHEN n.phone LIKE '+48%' THEN substr(n.phone, 4, 3) || ' ' || substr(n.phone, 7, 3) || ' ' || substr(n.phone, 10)
                                              ELSE '00' || substr(n.phone, 2, 3) || ' ' || substr(n.phone, 5, 2) || ' ' || substr(n.phone, 7) END END AS phone,
       CASE n.em WHEN 'same' THEN n.email WHEN 'upper' THEN upper(n.email) END AS email,
       array_remove(ARRAY[
           CASE WHEN n.sys <> n.sys0 THEN 'translit_changed' END,
           CASE WHEN n.sys <> n.sys0 THEN 'translit_' || n.sys0 || '>' || n.sys END,
           CASE WHEN 'cyr' IN (n.sys, n.sys0) AND n.sys <> n.sys0 THEN 'cyrillic_one_side' END,
           CASE WHEN n.with_patr <> n.with_patr1 AND n.patr_cyr IS NOT NULL AND NOT n.fmiss THEN 'second_name_one_side' END,
           CASE WHEN n.nm <> 'none' THEN n.nm END,
           CASE WHEN n.polon THEN 'polonized_first' END,
           CASE WHEN n.ftypo THEN 'typo_first' END,
           CASE WHEN n.fmiss THEN 'first_name_missing' END,
           'birth_date_' || n.bdl,
           CASE WHEN n.pesel IS NULL THEN 'no_pesel' WHEN n.keep_pesel THEN 'pesel_kept' ELSE 'pesel_dropped' END,
           'phone_' || n.ph, 'email_' || n.em, 'location_' || n.loc,
           CASE WHEN n.pc_typo AND n.loc NOT IN ('moved', 'location_dropped') AND NOT n.pc_missing THEN 'postcode_typo' END,
           CASE WHEN n.pc_missing THEN 'postcode_missing' END,
           CASE WHEN n.forced THEN 'forced_address' END,
           'origin_' || n.lang,
           CASE WHEN n.role IS NOT NULL THEN 'household_' || n.role END], NULL) AS labels
FROM n CROSS JOIN bench.fpool p;

-- the records and their contacts
INSERT INTO crm.client (id, kind, first_name, last_name, city, postal_code, address, pesel, birth_date, source, created_at)
SELECT e.eid, 'person', bench.fname(e.first_cyr, e.patr_cyr, e.with_patr, e.lang, e.sys0),
       bench.translit(e.last_cyr, e.lang, e.sys0), e.city, e.postcode, e.address, e.pesel::crm.pesel, e.bd,
       'import', timestamptz '2018-01-01' + bench.rnd(e.eid, 64) * interval '1500 days'
FROM bench.fent e ORDER BY e.eid;
INSERT INTO crm.client (id, kind, first_name, last_name, city, postal_code, address, pesel, birth_date, source, created_at)
SELECT d.client_id, 'person', d.first_name, d.last_name, d.city, d.postal_code, d.address, d.pesel::crm.pesel,
       d.birth_date, 'web', timestamptz '2022-03-01' + bench.rnd(d.client_id, 64) * interval '1000 days'
FROM bench.fdup d ORDER BY d.client_id;
CREATE TABLE bench.contact_stage AS
SELECT e.eid AS client_id, 'phone' AS kind, e.phone AS value, true AS is_default, 'mobile' AS label
FROM bench.fent e WHERE e.phone IS NOT NULL
UNION ALL SELECT e.eid, 'email', e.email, true, NULL FROM bench.fent e WHERE e.email IS NOT NULL
UNION ALL SELECT d.client_id, 'phone', d.phone, true, 'mobile' FROM bench.fdup d WHERE d.phone IS NOT NULL
UNION ALL SELECT d.client_id, 'email', d.email, true, NULL FROM bench.fdup d WHERE d.email IS NOT NULL;
DELETE FROM bench.contact_stage WHERE kind = 'phone' AND NOT crm.is_valid_phone(value);

-- the truth and the labels
CREATE TABLE bench.rec AS
SELECT e.eid AS client_id, e.eid, 0 AS copy_no,
       ARRAY['origin_' || e.lang] || CASE WHEN e.role IS NOT NULL THEN ARRAY['household_' || e.role] ELSE '{}' END AS labels,
       e.household
FROM bench.fent e
UNION ALL SELECT d.client_id, d.eid, d.copy_no, d.labels, e.household FROM bench.fdup d JOIN bench.fent e USING (eid);
