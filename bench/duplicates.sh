#!/usr/bin/env bash
# bench/duplicates.sh: how good and how fast is fuzzy duplicate detection?
#
# Builds a realistic Polish base of CLIENTS clients (default 1,000,000) in a
# fresh database, with its own deterministic generator (SEED, default 42) and
# its own ground truth, then measures:
#   1. quality: crm.duplicate_pairs() at its default threshold, once, timed;
#      precision, recall and F1 against bench.truth, the error categories and
#      10 sample false positives and false negatives with names and reasons.
#      Target: F1 >= 0.95.  PAIRS_TIMEOUT (default 0: none) cuts the call; the
#      quality is then that of crm.duplicate_candidates() for the sample of
#      BASELINE_SAMPLE clients below, on the pairs that involve one of them;
#   2. baseline, in the same run: what a DBA writes today with pg_trgm: a GIN
#      trigram index on lower(first_name || ' ' || last_name) of persons and
#      on lower(company_name) of companies, and a self-join with
#      similarity >= 0.6 (the % operator, so that the index is used) blocked
#      on the same lower(city).  BASELINE=full runs it over the whole base
#      (cut by statement_timeout BASELINE_TIMEOUT, default 20min, and then
#      run on the sample instead); BASELINE=sample runs it from a fixed random
#      sample of BASELINE_SAMPLE clients (default 20,000) against the whole
#      base, and both methods are then scored on the pairs that involve a
#      sampled client; BASELINE=auto (default) is full up to 200,000 clients,
#      sample above;
#   3. latency: crm.duplicate_candidates(id) for ROUNDS (default 101) random
#      clients, each timed alone: median, p90, max.  Target: median < 5 ms;
#   4. insert cost: INSERTS (default 10,000) new clients, one INSERT each,
#      into crm.client with crm.duplicate_check = off (its triggers, b-tree
#      indexes and the GIN index of crm.match_keys), against a plain copy
#      (LIKE crm.client INCLUDING DEFAULTS, no index, no trigger) and the same
#      copy with crm.client's indexes but without the GIN one; and
#      CHECKED_INSERTS (default 1,000) with crm.duplicate_check = notice (the
#      check on save runs duplicate_candidates for each); interleaved in
#      batches of 1,000, each variant its own new clients; ms per insert
#      (plpgsql loop, clock_timestamp() around each INSERT) and ratios to the
#      plain copy.
#
# The base (all deterministic: every draw is a hash of a row number and the
# seed, so parallel plans and reruns give the same rows):
#   - entities ("real" clients): 85% persons, 15% companies.  Persons: ~130
#     first names and ~220 last names weighted by their frequency in Poland
#     (the ~220 common ones give 25% of last names, the other 75% come from a
#     generated long tail of ~100,000 such as Krolikowski, Szczęsiak), -ski/-ska
#     gender forms, 80 cities weighted by population, 'ul. <street> <n>[/<m>]';
#     a valid PESEL (unique, sex digit agreeing with the first name) for 70%,
#     birth_date left to the extension; a mobile (unique) for 80%, an e-mail
#     'first.last<n>@example.pl' for 50%.  Companies: '<Brand>[ <Word>]',
#     '<Surname> <Word>' or 'P.H.U. <Brand>' plus a legal form (Sp. z o.o.,
#     S.A., sp.j., Spółka Jawna, sp. k., or none), a valid unique NIP for 90%,
#     a phone for 85%, an e-mail for 60%;
#   - hard negatives, which are not duplicates: namesakes (common names meet
#     in every city), 4.0% of persons live as spouses (Kowalski/Kowalska, same
#     address, a shared landline, own PESELs, mobiles and e-mails) and 0.5% as
#     parent and child of the same first and last name (same address and
#     landline, both with their PESEL), and companies of the same name;
#   - duplicates: DUP_SHARE (default 0.05) of the records are a later record
#     of an entity (about 8% of the duplicated entities have two).  Each
#     duplicate independently: persons keep the PESEL 50% (when dropped, 40%
#     have the birth date typed instead), companies the NIP 55%; phone same
#     format 35% / another format 35% ('601-234-567', '0048601234567',
#     '(+48) 601 234 567', '601234567') / dropped 30%; e-mail same 35% /
#     upper-cased 15% / dropped 50%; location same 67% / address dropped 15% /
#     city and address dropped 8% / moved to another city 10%.  Person names:
#     a typo in the last name after its first letter 22%, diacritics dropped
#     12% (+8% independently), upper case 8%, first and last name swapped 6%,
#     a woman's new last name 2% (only with an identifier or contact kept);
#     a diminutive first name 25% of those that have one (most known to the
#     extension, a few not: Michaś, Pawełek ...), a typo in the first name 4%,
#     first name missing 3%.  Company names: a typo 15%, upper case 12%,
#     diacritics dropped 10%; the legal form written another way 35%
#     (Sp. z o.o. ~ spółka z ograniczoną odpowiedzialnością, S.A. ~ SA ...) or
#     dropped 10%.  A duplicate always keeps a link a person would accept: the
#     same PESEL/NIP, phone or e-mail, a typed birth date, or the same address
#     (a duplicate that drew none keeps its address: label forced_address).
#     Every draw is recorded in bench.dup.labels, so errors can be grouped;
#   - bench.truth(a, b), a < b: every pair of records of one entity.
#
# NAMES chooses how common names are (issue 12: frequency-aware evidence):
#   default    as above: 25% of last names from the ~220 common ones (Nowak about
#              0.75% of persons, the top -ski form about 0.3%), the rest from the
#              long tail; first names by their weights (Anna about 4% of persons);
#   realistic  closer to Poland's: 10% of last names from the common ones (Nowak
#              about 0.3%), the long tail drawn Zipf-like (every part of a
#              generated name skewed to its first entries), so that names come
#              in every frequency, from hundreds of bearers to one; first names
#              as in default;
#   common     a worst case: every name about as common as "Jan Kowalski" in
#              the default base: last names drawn uniformly from the 110 most
#              common, first names uniformly from the 50 most common of each
#              sex (about 75 bearers of each full name per 1,000,000 clients),
#              so that namesakes (other people of the same first and last name,
#              in other cities and at other addresses, many without PESEL) are
#              everywhere.
# The names' distribution is printed after the build (top last and first name
# shares, how many names have 100 or more bearers).
# After the build (and before step 1) crm.refresh_match_frequencies() is run
# when the extension has it, as a DBA would after a bulk load; TF=0 skips it.
#
# The base is loaded in JOBS (default 2) concurrent sessions, with
# crm.duplicate_check = off as for any bulk load; its time includes VACUUM ANALYZE.
#
# Runs against the server in PGHOST/PGPORT; tools/dev.sh bench starts one.
# RESUME=2 (or 3) starts at step 2 (or 3) on the database a run left (after
# a failure, or with KEEP=1), without building it again: to measure latency
# again under another server configuration, say.
# DUP_DB names the database (default crm_bench_dup); BUILD_ONLY=1 builds the
# base and its truth, keeps the database and stops (bench/quality.sh's
# polish set uses it).
# KEEP=1 keeps the database (crm_bench_dup) for a closer look afterwards:
# bench.truth, bench.found (our pairs), bench.fp, bench.fn (with the score
# and reasons crm.match_score gives the missed pairs), bench.bl_found,
# bench.dup (every duplicate with its labels), bench.entity.
set -euo pipefail
cd "$(dirname "$0")"
CLIENTS=${CLIENTS:-1000000}
DUP_SHARE=${DUP_SHARE:-0.05}
ROUNDS=${ROUNDS:-101}
SEED=${SEED:-42}
INSERTS=${INSERTS:-10000}
CHECKED_INSERTS=${CHECKED_INSERTS:-1000}
BASELINE=${BASELINE:-auto}
BASELINE_SAMPLE=${BASELINE_SAMPLE:-20000}
BASELINE_TIMEOUT=${BASELINE_TIMEOUT:-20min}
PAIRS_TIMEOUT=${PAIRS_TIMEOUT:-0}
KEEP=${KEEP:-0}
RESUME=${RESUME:-1}
JOBS=${JOBS:-2}
BIN=${PG_BINDIR:+$PG_BINDIR/}
DB=${DUP_DB:-crm_bench_dup}
BUILD_ONLY=${BUILD_ONLY:-0}
NAMES=${NAMES:-default}
TF=${TF:-1}
# the share of last names from the common list, and the skew of the long tail's parts
case $NAMES in
	default) LN_COMMON=0.25 TAIL_EXPO=1 ;;
	realistic) LN_COMMON=0.10 TAIL_EXPO=2 ;;
	common) LN_COMMON=1 TAIL_EXPO=1 ;;
	*) echo "bench/duplicates.sh: NAMES must be default, realistic or common, not $NAMES" >&2; exit 1 ;;
esac
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=("${BIN}psql" -X -q -v ON_ERROR_STOP=1 -d "$DB")

# entities and duplicates: E + D = CLIENTS, D = DUP_SHARE of the records
read -r ENTITIES DUPS DUP1 DUP2 <<<"$(awk -v n="$CLIENTS" -v s="$DUP_SHARE" 'BEGIN {
	d = int(n * s + 0.5); e = n - d; d1 = int(d / 1.08 + 0.5); if (d1 > e) d1 = e;
	d2 = d - d1; if (d2 > d1) d2 = d1; print e, d1 + d2, d1, d2 }')"
if [ "$BASELINE" = auto ]; then
	if [ "$CLIENTS" -le 200000 ]; then BASELINE=full; else BASELINE=sample; fi
fi
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
result() { "${PSQL[@]}" -c "INSERT INTO bench.result VALUES ('$1', '$2') ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"; }

if [ "$RESUME" -lt 2 ]; then
"${BIN}psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
echo "building a base of $CLIENTS clients: $ENTITIES entities, $DUPS duplicates ($DUP2 entities with two), seed $SEED, names $NAMES ..."
T0=$(now)
"${PSQL[@]}" -v seed="$SEED" -v entities="$ENTITIES" -v dup1="$DUP1" -v dup2="$DUP2" \
	-v names="$NAMES" -v ln_common="$LN_COMMON" -v tail_expo="$TAIL_EXPO" <<'SQL'
-- bulk load: the check on save would look for candidates of every row
SET crm.duplicate_check = off;
CREATE EXTENSION crm;
SELECT crm.install_data_model();
CREATE SCHEMA bench;
CREATE TABLE bench.result (k text PRIMARY KEY, v text);

-- rnd, upick, wpick, ascii, pesel_check, pesel, typo, prf
\i gen_common.sql
CREATE FUNCTION bench.female_form(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN t ~ '(ski|cki|dzki)$' OR t ~ '[^aeiou]ny$' THEN left(t, -1) || 'a' ELSE t END;
CREATE FUNCTION bench.nip_sum(s text) RETURNS int
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (6 * substr(s, 1, 1)::int + 5 * substr(s, 2, 1)::int + 7 * substr(s, 3, 1)::int
            + 2 * substr(s, 4, 1)::int + 3 * substr(s, 5, 1)::int + 4 * substr(s, 6, 1)::int
            + 5 * substr(s, 7, 1)::int + 6 * substr(s, 8, 1)::int + 7 * substr(s, 9, 1)::int) % 11;
-- a check digit of 10 makes no NIP: the 9th digit moves on by one (the sum by 7 or -63)
CREATE FUNCTION bench.nip(s8 text, d9 int) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN bench.nip_sum(s8 || d9) <> 10 THEN s8 || d9 || bench.nip_sum(s8 || d9)
                ELSE s8 || ((d9 + 1) % 10) || bench.nip_sum(s8 || ((d9 + 1) % 10)) END;
CREATE FUNCTION bench.phone_format(n text, r float8) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN r < 0.25 THEN substr(n, 1, 3) || '-' || substr(n, 4, 3) || '-' || substr(n, 7, 3)
                WHEN r < 0.5 THEN '0048' || n
                WHEN r < 0.75 THEN '(+48) ' || substr(n, 1, 3) || ' ' || substr(n, 4, 3) || ' ' || substr(n, 7, 3)
                ELSE n END;
CREATE FUNCTION bench.legal_variant(f text, r float8) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE f
        WHEN 'Sp. z o.o.' THEN bench.upick('{spółka z ograniczoną odpowiedzialnością,SP. Z O.O.,sp. z o. o.,Spółka z o.o.}', r)
        WHEN 'S.A.' THEN bench.upick('{SA,Spółka Akcyjna,S.A}', r)
        WHEN 'sp.j.' THEN bench.upick('{Spółka Jawna,sp. j.}', r)
        WHEN 'Spółka Jawna' THEN bench.upick('{sp.j.,SPÓŁKA JAWNA}', r)
        WHEN 'sp. k.' THEN bench.upick('{spółka komandytowa,Sp.k.}', r)
        ELSE f END;

-- the word lists: name, weight (thousands of bearers or inhabitants), extra
CREATE TABLE bench.list (list text, name text, weight float8, extra text);
INSERT INTO bench.list (list, name, weight)
SELECT 'female', n, w FROM (VALUES
    ('Anna', 1150), ('Maria', 790), ('Katarzyna', 620), ('Małgorzata', 600), ('Agnieszka', 560),
    ('Barbara', 470), ('Ewa', 470), ('Krystyna', 400), ('Magdalena', 400), ('Elżbieta', 400),
    ('Joanna', 400), ('Aleksandra', 340), ('Monika', 320), ('Zofia', 300), ('Teresa', 280),
    ('Natalia', 280), ('Julia', 280), ('Karolina', 280), ('Danuta', 270), ('Marta', 275),
    ('Beata', 260), ('Dorota', 250), ('Halina', 240), ('Jadwiga', 230), ('Jolanta', 225),
    ('Iwona', 215), ('Grażyna', 205), ('Janina', 200), ('Alicja', 200), ('Zuzanna', 200),
    ('Paulina', 200), ('Wiktoria', 185), ('Justyna', 180), ('Renata', 175), ('Urszula', 170),
    ('Irena', 165), ('Sylwia', 165), ('Helena', 160), ('Agata', 160), ('Hanna', 155),
    ('Patrycja', 150), ('Emilia', 145), ('Izabela', 140), ('Weronika', 140), ('Dominika', 135),
    ('Ewelina', 130), ('Oliwia', 125), ('Kinga', 110), ('Martyna', 110), ('Wanda', 105),
    ('Stanisława', 100), ('Bożena', 100), ('Maja', 100), ('Lena', 95), ('Gabriela', 95),
    ('Edyta', 90), ('Amelia', 90), ('Klaudia', 90), ('Milena', 70), ('Marianna', 60),
    ('Ilona', 60), ('Lucyna', 60), ('Mirosława', 60), ('Wioletta', 55), ('Genowefa', 50),
    ('Łucja', 40), ('Henryka', 40)) AS v(n, w)
UNION ALL
SELECT 'male', n, w FROM (VALUES
    ('Piotr', 720), ('Krzysztof', 660), ('Andrzej', 600), ('Tomasz', 560), ('Jan', 550),
    ('Paweł', 510), ('Michał', 490), ('Marcin', 450), ('Jakub', 410), ('Adam', 390),
    ('Stanisław', 380), ('Marek', 370), ('Łukasz', 360), ('Grzegorz', 345), ('Mateusz', 330),
    ('Wojciech', 315), ('Mariusz', 295), ('Dariusz', 285), ('Zbigniew', 265), ('Jerzy', 255),
    ('Maciej', 250), ('Rafał', 245), ('Józef', 235), ('Kamil', 230), ('Robert', 225),
    ('Tadeusz', 220), ('Jacek', 205), ('Kacper', 200), ('Ryszard', 200), ('Szymon', 195),
    ('Bartosz', 190), ('Kazimierz', 180), ('Dawid', 175), ('Sebastian', 170), ('Janusz', 165),
    ('Daniel', 160), ('Jarosław', 155), ('Roman', 145), ('Mirosław', 140), ('Henryk', 135),
    ('Antoni', 130), ('Filip', 130), ('Damian', 125), ('Przemysław', 120), ('Sławomir', 115),
    ('Artur', 115), ('Waldemar', 110), ('Patryk', 105), ('Władysław', 100), ('Leszek', 100),
    ('Zdzisław', 95), ('Bogdan', 95), ('Mikołaj', 90), ('Aleksander', 90), ('Bartłomiej', 85),
    ('Edward', 80), ('Wiesław', 80), ('Franciszek', 80), ('Czesław', 75), ('Radosław', 70),
    ('Hubert', 50), ('Wiktor', 50), ('Włodzimierz', 45), ('Igor', 45), ('Zenon', 40),
    ('Oskar', 40), ('Norbert', 35)) AS v(n, w)
UNION ALL
-- male forms; bench.female_form() gives the female ones
SELECT 'last', n, w FROM (VALUES
    ('Nowak', 200), ('Kowalski', 140), ('Wiśniewski', 110), ('Wójcik', 100), ('Kowalczyk', 98),
    ('Kamiński', 95), ('Lewandowski', 93), ('Zieliński', 91), ('Szymański', 89), ('Woźniak', 89),
    ('Dąbrowski', 86), ('Kozłowski', 76), ('Jankowski', 68), ('Mazur', 67), ('Wojciechowski', 67),
    ('Kwiatkowski', 66), ('Krawczyk', 64), ('Kaczmarek', 63), ('Piotrowski', 62), ('Grabowski', 59),
    ('Zając', 55), ('Pawłowski', 55), ('Michalski', 54), ('Król', 53), ('Wieczorek', 51),
    ('Jabłoński', 51), ('Wróbel', 50), ('Nowakowski', 50), ('Majewski', 49), ('Olszewski', 48),
    ('Stępień', 47), ('Malinowski', 47), ('Jaworski', 47), ('Adamczyk', 47), ('Dudek', 46),
    ('Nowicki', 45), ('Pawlak', 44), ('Górski', 44), ('Witkowski', 43), ('Walczak', 43),
    ('Sikora', 42), ('Baran', 41), ('Rutkowski', 41), ('Michalak', 41), ('Szewczyk', 40),
    ('Ostrowski', 40), ('Tomaszewski', 39), ('Pietrzak', 39), ('Zalewski', 38), ('Wróblewski', 38),
    ('Marciniak', 38), ('Jasiński', 37), ('Zawadzki', 37), ('Bąk', 37), ('Jakubowski', 36),
    ('Sadowski', 36), ('Duda', 36), ('Włodarczyk', 35), ('Wilk', 35), ('Chmielewski', 34),
    ('Borkowski', 34), ('Sokołowski', 33), ('Szczepański', 33), ('Sawicki', 33), ('Lis', 33),
    ('Kucharski', 33), ('Kalinowski', 32), ('Wysocki', 32), ('Mazurek', 32), ('Kubiak', 32),
    ('Maciejewski', 32), ('Czarnecki', 31), ('Kołodziej', 31), ('Urbański', 30), ('Kaźmierczak', 30),
    ('Sobczak', 30), ('Konieczny', 30), ('Głowacki', 30), ('Zakrzewski', 29), ('Krajewski', 29),
    ('Krupa', 29), ('Laskowski', 28), ('Ziółkowski', 28), ('Gajewski', 28), ('Mróz', 28),
    ('Brzeziński', 28), ('Szulc', 28), ('Makowski', 28), ('Czerwiński', 27), ('Baranowski', 27),
    ('Szymczak', 27), ('Kaczmarczyk', 27), ('Przybylski', 26), ('Cieślak', 26), ('Borowski', 26),
    ('Błaszczyk', 26), ('Andrzejewski', 26), ('Górecki', 25), ('Leśniak', 25), ('Sikorski', 25),
    ('Wawrzyniak', 25), ('Kołodziejczyk', 24), ('Chojnacki', 24), ('Wasilewski', 24), ('Szczepaniak', 24),
    ('Kaczorowski', 23), ('Lewicki', 23), ('Domański', 23), ('Przybysz', 23), ('Sowa', 23),
    ('Kozieł', 22), ('Kasprzak', 22), ('Gołębiowski', 22), ('Jankowiak', 22), ('Banaś', 22),
    ('Wójtowicz', 21), ('Stasiak', 21), ('Fijałkowski', 21), ('Kowalewski', 21), ('Markowski', 21),
    ('Sobczyk', 20), ('Bielecki', 20), ('Tomczyk', 20), ('Milczarek', 20), ('Czajkowski', 20),
    ('Kurek', 20), ('Żak', 20), ('Nowacki', 19), ('Rogalski', 19), ('Grzelak', 19),
    ('Olejniczak', 19), ('Bednarek', 19), ('Mikołajczyk', 19), ('Pietrzyk', 19), ('Marczak', 18),
    ('Lipiński', 18), ('Dziedzic', 18), ('Ryba', 18), ('Kowal', 18), ('Bielawski', 18),
    ('Sobolewski', 18), ('Piątek', 18), ('Przybyła', 17), ('Piasecki', 17), ('Morawski', 17),
    ('Jędrzejewski', 17), ('Sosnowski', 17), ('Chmiel', 17), ('Kuś', 17), ('Wrona', 17),
    ('Kaczmarski', 16), ('Kasprzyk', 16), ('Bednarczyk', 16), ('Matuszewski', 16), ('Rybak', 16),
    ('Pawlik', 16), ('Szostak', 16), ('Stachowiak', 16), ('Skiba', 16), ('Cieślik', 16),
    ('Kędzierski', 15), ('Zych', 15), ('Kozak', 15), ('Tomczak', 15), ('Czech', 15),
    ('Dobrowolski', 15), ('Szydłowski', 15), ('Orłowski', 15), ('Lach', 15), ('Kurowski', 15),
    ('Gutowski', 14), ('Ziętek', 14), ('Kowalik', 14), ('Mazurkiewicz', 14), ('Wojtczak', 14),
    ('Radomski', 14), ('Kubacki', 14), ('Hajduk', 14), ('Sienkiewicz', 14), ('Kałuża', 14),
    ('Ptak', 13), ('Kołakowski', 13), ('Rogowski', 13), ('Wojtas', 13),
    ('Kostrzewa', 13), ('Nowosielski', 13), ('Kopeć', 13), ('Tkaczyk', 13), ('Marek', 13),
    ('Bogusz', 12), ('Frankowski', 12), ('Kozik', 12), ('Janik', 12),
    ('Skowroński', 12), ('Florczak', 12), ('Mucha', 12), ('Gil', 12), ('Ciesielski', 12),
    ('Kubiszyn', 11), ('Szczęsny', 11), ('Majchrzak', 11), ('Wojda', 11), ('Lisowski', 11),
    ('Kania', 11), ('Grzybowski', 11), ('Żukowski', 11), ('Mielczarek', 11), ('Bartkowiak', 11),
    ('Bukowski', 10), ('Jurek', 10), ('Pająk', 10), ('Kruk', 10), ('Ślusarczyk', 10),
    ('Świątek', 10), ('Wolski', 10), ('Gawroński', 10), ('Leszczyński', 10), ('Stefański', 10)) AS v(n, w)
UNION ALL
SELECT 'street', n, 1 FROM unnest('{Polna,Leśna,Słoneczna,Krótka,Szkolna,Ogrodowa,Lipowa,Brzozowa,Łąkowa,Kwiatowa,
    Sosnowa,Kościelna,Akacjowa,Parkowa,Zielona,Kolejowa,Sportowa,Dębowa,Kościuszki,Mickiewicza,Długa,
    Jana Pawła II,Słowackiego,Sienkiewicza,Wiejska,Klonowa,Cicha,Wesoła,Piękna,Graniczna,Spacerowa,
    3 Maja,Źródlana,Żeromskiego,Reymonta,Konopnickiej,Kasztanowa,Jasna,Nowa,Chopina,Kopernika,Różana,
    Wrzosowa,Jaśminowa,Wierzbowa,Topolowa,Prusa,Piłsudskiego,Armii Krajowej,Grunwaldzka,Warszawska,
    Krakowska,Kolorowa,Młyńska,Ogrodowa,Fabryczna,Zamkowa,Rynek,Mostowa,Wodna}'::text[]) AS n
UNION ALL
SELECT 'legal', n, w FROM (VALUES ('Sp. z o.o.', 45), ('S.A.', 5), ('sp.j.', 12), ('Spółka Jawna', 5),
                                  ('sp. k.', 8), ('', 25)) AS v(n, w);
UPDATE bench.list SET name = btrim(name) WHERE list = 'street';
INSERT INTO bench.list (list, name, weight, extra)
SELECT 'city', n, w, a FROM (VALUES
    ('Warszawa', 1860, '22'), ('Kraków', 800, '12'), ('Wrocław', 670, '71'), ('Łódź', 660, '42'),
    ('Poznań', 540, '61'), ('Gdańsk', 490, '58'), ('Szczecin', 390, '91'), ('Bydgoszcz', 330, '52'),
    ('Lublin', 330, '81'), ('Białystok', 295, '85'), ('Katowice', 285, '32'), ('Gdynia', 245, '58'),
    ('Częstochowa', 210, '34'), ('Radom', 200, '48'), ('Rzeszów', 198, '17'), ('Toruń', 198, '56'),
    ('Sosnowiec', 193, '32'), ('Kielce', 186, '41'), ('Gliwice', 175, '32'), ('Olsztyn', 170, '89'),
    ('Zabrze', 170, '32'), ('Bielsko-Biała', 169, '33'), ('Bytom', 160, '32'), ('Zielona Góra', 139, '68'),
    ('Rybnik', 136, '32'), ('Ruda Śląska', 135, '32'), ('Opole', 127, '77'), ('Tychy', 127, '32'),
    ('Gorzów Wielkopolski', 122, '95'), ('Elbląg', 118, '55'), ('Płock', 118, '24'), ('Wałbrzych', 110, '74'),
    ('Włocławek', 108, '54'), ('Tarnów', 107, '14'), ('Chorzów', 106, '32'), ('Koszalin', 106, '94'),
    ('Kalisz', 99, '62'), ('Legnica', 99, '76'), ('Grudziądz', 94, '56'), ('Jaworzno', 90, '32'),
    ('Słupsk', 89, '59'), ('Jastrzębie-Zdrój', 87, '32'), ('Nowy Sącz', 83, '18'), ('Jelenia Góra', 78, '75'),
    ('Siedlce', 77, '25'), ('Mysłowice', 75, '32'), ('Konin', 72, '63'), ('Piła', 72, '67'),
    ('Piotrków Trybunalski', 71, '44'), ('Inowrocław', 71, '52'), ('Lubin', 71, '76'),
    ('Ostrów Wielkopolski', 71, '62'), ('Suwałki', 69, '87'), ('Stargard', 67, '91'), ('Gniezno', 67, '61'),
    ('Ostrowiec Świętokrzyski', 67, '41'), ('Siemianowice Śląskie', 66, '32'), ('Głogów', 66, '76'),
    ('Pabianice', 64, '42'), ('Leszno', 63, '65'), ('Zamość', 62, '84'), ('Łomża', 62, '86'),
    ('Żory', 62, '32'), ('Chełm', 62, '82'), ('Pruszków', 62, '22'), ('Ełk', 61, '87'),
    ('Mielec', 60, '17'), ('Przemyśl', 60, '16'), ('Stalowa Wola', 60, '15'), ('Świdnica', 56, '74'),
    ('Legionowo', 54, '22'), ('Piaseczno', 50, '22'), ('Puławy', 47, '81'), ('Otwock', 44, '22'),
    ('Oświęcim', 37, '33'), ('Sopot', 35, '58'), ('Pruszcz Gdański', 32, '58'), ('Zakopane', 27, '18'),
    ('Wieliczka', 24, '12'), ('Skawina', 24, '12')) AS v(n, w, a);
-- full first name -> a diminutive; extra = 'unknown' for forms crm.first_name_canonical does not know
INSERT INTO bench.list (list, name, weight, extra)
SELECT 'diminutive', f || ':' || d, 1, u FROM (VALUES
    ('Katarzyna', 'Kasia', NULL), ('Małgorzata', 'Gosia', NULL), ('Jakub', 'Kuba', NULL),
    ('Aleksandra', 'Ola', NULL), ('Tomasz', 'Tomek', NULL), ('Piotr', 'Piotrek', NULL),
    ('Krzysztof', 'Krzyś', NULL), ('Wojciech', 'Wojtek', NULL), ('Grzegorz', 'Grześ', NULL),
    ('Jan', 'Janek', NULL), ('Anna', 'Ania', NULL), ('Agnieszka', 'Aga', NULL), ('Joanna', 'Asia', NULL),
    ('Barbara', 'Basia', NULL), ('Bartłomiej', 'Bartek', NULL), ('Danuta', 'Danka', NULL),
    ('Dariusz', 'Darek', NULL), ('Edward', 'Edek', NULL), ('Elżbieta', 'Ela', NULL), ('Ewa', 'Ewka', NULL),
    ('Franciszek', 'Franek', NULL), ('Gabriela', 'Gabrysia', NULL), ('Hanna', 'Hania', NULL),
    ('Henryk', 'Heniek', NULL), ('Izabela', 'Iza', NULL), ('Jolanta', 'Jola', NULL), ('Julia', 'Julka', NULL),
    ('Jerzy', 'Jurek', NULL), ('Maciej', 'Maciek', NULL), ('Magdalena', 'Magda', NULL),
    ('Maria', 'Marysia', NULL), ('Mirosław', 'Mirek', NULL), ('Monika', 'Monia', NULL),
    ('Natalia', 'Natalka', NULL), ('Aleksander', 'Olek', NULL), ('Ryszard', 'Rysiek', NULL),
    ('Sławomir', 'Sławek', NULL), ('Stanisław', 'Staszek', NULL), ('Tadeusz', 'Tadek', NULL),
    ('Teresa', 'Tereska', NULL), ('Włodzimierz', 'Włodek', NULL), ('Zbigniew', 'Zbyszek', NULL),
    ('Zenon', 'Zenek', NULL), ('Zofia', 'Zosia', NULL), ('Renata', 'Renia', NULL),
    ('Antoni', 'Antek', NULL), ('Adam', 'Adaś', NULL),
    ('Michał', 'Michaś', 'unknown'), ('Paweł', 'Pawełek', 'unknown'), ('Marcin', 'Marcinek', 'unknown'),
    ('Dorota', 'Dorotka', 'unknown'), ('Agata', 'Agatka', 'unknown'), ('Beata', 'Beatka', 'unknown')) AS v(f, d, u);

CREATE TABLE bench.pool AS
SELECT list, array_agg(name ORDER BY ord) AS names, array_agg(extra ORDER BY ord) AS extras,
       array_agg(cum ORDER BY ord) AS cum
FROM (SELECT list, name, extra, row_number() OVER w AS ord,
             coalesce(sum(weight) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                 / sum(weight) OVER (PARTITION BY list) AS cum
      FROM (SELECT list, name, max(weight) AS weight, max(extra) AS extra FROM bench.list GROUP BY list, name) l
      WINDOW w AS (PARTITION BY list ORDER BY weight DESC, name)) s
GROUP BY list;
INSERT INTO bench.pool (list, names) VALUES
    ('onset', '{K,M,S,W,P,B,G,D,Ch,Kr,Z,J,L,R,Sz,T,N,Gr,Br,Pr,St,Sk,Cz,Dr,Kl,Tr,Wr,Ł,Sł,Gł,Bł,Chm,Szcz,
               Ż,Ś,H,F,Mr,Zi,Pi,Ko}'),
    ('vowel', '{a,o,e,i,u,y,ą,ę,ó}'),
    ('coda', '{"",l,r,n,k,s,w,ł,m,d,b,t,ch,c,sz,rz}'),
    ('mid', '{"","","",an,ar,el,ec,ic,ik,ow,ul,ur,ys}'),
    ('suffix', '{ski,owski,ewski,iński,ak,ek,czyk,iak,owicz,ewicz,uk,ała}'),
    ('mobile', '{50,51,53,57,60,66,69,72,73,78,79,88}'),
    ('brand1', '{Agro,Bud,Trans,Med,Eko,Tech,Pol,Inter,Euro,Mega,Auto,Elektro,Hydro,Termo,Info,Net,Stal,
                Drew,Met,Kom,Fin,Logi,Bio,Farm,Gastro,Moto,Opti,Proj,Serw,Tele,Tex,Chem,Dom,Geo,Mar,Nord,
                Omni,Prima,Rol,Vita}'),
    ('brand2', '{pol,max,bud,mex,tex,net,med,trans,tech,kom,lux,plast,stal,met,rol,serwis,gaz,dom,sped,
                land,tor,ex,ix,on,ar,is,ma,ko,san,vit}'),
    ('word', '{Serwis,Polska,Group,Logistyka,Consulting,Development,Trade,Systemy,Instalacje,Budownictwo,
              Handel,Usługi,Transport,Projekt,Energia}'),
    ('cprefix', '{P.H.U.,F.H.U.,P.P.H.U.,Zakład Usługowy,Przedsiębiorstwo Handlowe,Firma Handlowa}');
UPDATE bench.pool SET names = (SELECT array_agg(btrim(x) ORDER BY o) FROM unnest(names) WITH ORDINALITY AS u(x, o))
WHERE cum IS NULL;
-- NAMES: the share of last names from the common list, the skew of the tail's parts
CREATE TABLE bench.names_param AS SELECT :'names'::text AS names, :ln_common::float8 AS ln_common,
                                         :tail_expo::float8 AS tail_expo;
-- NAMES=common: the most common names only, each as likely (the lists are
-- ordered most common first)
UPDATE bench.pool
SET names = names[1:CASE list WHEN 'last' THEN 110 ELSE 50 END],
    cum = ARRAY(SELECT (k - 1)::float8 / CASE list WHEN 'last' THEN 110 ELSE 50 END
                FROM generate_series(1, CASE list WHEN 'last' THEN 110 ELSE 50 END) k)
WHERE :'names' = 'common' AND list IN ('last', 'female', 'male');

-- entities lo..hi; households pair the entities 2p-1 (head) and 2p
CREATE FUNCTION bench.entities(lo bigint, hi bigint)
RETURNS TABLE (eid bigint, kind text, sex text, first_name text, last_name text, company_core text,
               legal_form text, city text, address text, pesel text, nip text, phone text,
               landline text, email text, household bigint, hh_role text, created_at timestamptz)
LANGUAGE sql STABLE AS $f$
WITH p AS (
    SELECT max(names) FILTER (WHERE list = 'female') AS fem, max(cum) FILTER (WHERE list = 'female') AS fem_c,
           max(names) FILTER (WHERE list = 'male') AS mal, max(cum) FILTER (WHERE list = 'male') AS mal_c,
           max(names) FILTER (WHERE list = 'last') AS ln, max(cum) FILTER (WHERE list = 'last') AS ln_c,
           max(names) FILTER (WHERE list = 'city') AS ci, max(cum) FILTER (WHERE list = 'city') AS ci_c,
           max(extras) FILTER (WHERE list = 'city') AS ci_area,
           max(names) FILTER (WHERE list = 'legal') AS lf, max(cum) FILTER (WHERE list = 'legal') AS lf_c,
           max(names) FILTER (WHERE list = 'street') AS st, max(names) FILTER (WHERE list = 'onset') AS ons,
           max(names) FILTER (WHERE list = 'vowel') AS vow, max(names) FILTER (WHERE list = 'coda') AS cod,
           max(names) FILTER (WHERE list = 'mid') AS mi, max(names) FILTER (WHERE list = 'suffix') AS su,
           max(names) FILTER (WHERE list = 'mobile') AS mo, max(names) FILTER (WHERE list = 'brand1') AS b1,
           max(names) FILTER (WHERE list = 'brand2') AS b2, max(names) FILTER (WHERE list = 'word') AS wo,
           max(names) FILTER (WHERE list = 'cprefix') AS cp,
           (SELECT n.ln_common FROM bench.names_param n) AS ln_common,
           (SELECT n.tail_expo FROM bench.names_param n) AS tail_expo
    FROM bench.pool
)
SELECT g, k.kind, s.sex, nm.first_name,
       CASE WHEN k.kind = 'person' THEN CASE s.sex WHEN 'F' THEN bench.female_form(nm.ln) ELSE nm.ln END END,
       co.core, co.legal, loc.city, loc.address,
       CASE WHEN k.kind = 'person' AND (r.role IN ('junior') OR (r.role = 'head' AND h.hr >= 0.04)
                                        OR bench.rnd(g, 15) < 0.7)
            THEN bench.pesel(d.bd, (((d.q % 1000) * 379 + d.di * 7) % 1000)::int,
                             (2 * ((d.q / 1000) % 5) + CASE s.sex WHEN 'M' THEN 1 ELSE 0 END)::int) END,
       CASE WHEN k.kind = 'company' AND bench.rnd(g, 25) < 0.9
            THEN bench.nip(((g * 7919 + 1234567) % 90000000 + 10000000)::text, floor(bench.rnd(g, 26) * 10)::int) END,
       CASE WHEN k.kind = 'person' AND bench.rnd(g, 16) < 0.8
              OR k.kind = 'company' AND bench.rnd(g, 16) < 0.425
            THEN bench.upick(p.mo, bench.rnd(g, 17)) || lpad(((g * 7919 + 5555555) % 10000000)::text, 7, '0')
            WHEN k.kind = 'company' AND bench.rnd(g, 16) < 0.85
            THEN loc.area || lpad(((g * 104729 + 7777777) % 10000000)::text, 7, '0') END,
       CASE WHEN r.role IS NOT NULL
            THEN loc.area || lpad(((k.hk * 104729 + 7777777) % 10000000)::text, 7, '0') END,
       CASE WHEN k.kind = 'person' AND bench.rnd(g, 18) < 0.5
            THEN lower(bench.ascii(nm.first_name || '.'
                                   || CASE s.sex WHEN 'F' THEN bench.female_form(nm.ln) ELSE nm.ln END))
                 || g || '@example.pl'
            WHEN k.kind = 'company' AND bench.rnd(g, 18) < 0.6
            THEN 'biuro.' || lower(bench.ascii(split_part(co.core, ' ', 1))) || g
                 || bench.upick('{@example.pl,@example.com}', bench.rnd(g, 29)) END,
       CASE WHEN r.role IS NOT NULL THEN h.pair END, r.role,
       timestamptz '2015-01-01 08:00' + bench.rnd(g, 19) * interval '3000 days'
FROM p, generate_series(lo, hi) AS g,
LATERAL (SELECT (g + 1) / 2 AS pair, bench.rnd((g + 1) / 2, 2) AS hr) h,
LATERAL (SELECT CASE WHEN h.hr < 0.045 AND (g % 2 = 0 OR g + 1 <= hi)
                     THEN CASE WHEN g % 2 = 1 THEN 'head' WHEN h.hr < 0.04 THEN 'spouse' ELSE 'junior' END
                END AS role) r,
LATERAL (SELECT CASE WHEN r.role IS NOT NULL THEN 2 * h.pair - 1 ELSE g END AS hk,
                CASE WHEN r.role IS NULL AND bench.rnd(g, 1) < 0.15 THEN 'company' ELSE 'person' END AS kind) k,
LATERAL (SELECT CASE WHEN (bench.rnd(k.hk, 3) < 0.52) <> (r.role IS NOT DISTINCT FROM 'spouse')
                     THEN 'F' ELSE 'M' END AS sex) s,
LATERAL (SELECT CASE WHEN k.kind = 'company' THEN NULL
                     WHEN s.sex = 'F' THEN bench.wpick(p.fem, p.fem_c,
                                                       bench.rnd(CASE WHEN r.role = 'junior' THEN k.hk ELSE g END, 4))
                     ELSE bench.wpick(p.mal, p.mal_c, bench.rnd(CASE WHEN r.role = 'junior' THEN k.hk ELSE g END, 4))
                END AS first_name,
                CASE WHEN bench.rnd(k.hk, 5) < p.ln_common THEN bench.wpick(p.ln, p.ln_c, bench.rnd(k.hk, 6))
                     -- onset (skewed to the common ones), vowel, coda, middle, suffix: Krolikowski;
                     -- NAMES=realistic skews every part (tail_expo): a Zipf-like tail
                     ELSE bench.upick(p.ons, bench.rnd(k.hk, 7) ^ (1.5 * p.tail_expo))
                          || bench.upick(p.vow, bench.rnd(k.hk, 60) ^ p.tail_expo)
                          || bench.upick(p.cod, bench.rnd(k.hk, 61) ^ p.tail_expo)
                          || bench.upick(p.mi, bench.rnd(k.hk, 8) ^ p.tail_expo)
                          || bench.upick(p.su, bench.rnd(k.hk, 9) ^ p.tail_expo) END AS ln) nm,
LATERAL (SELECT width_bucket(bench.rnd(k.hk, 10), p.ci_c) AS ci) cx,
LATERAL (SELECT p.ci[cx.ci] AS city, p.ci_area[cx.ci] AS area,
                'ul. ' || bench.upick(p.st, bench.rnd(k.hk, 11)) || ' ' || (1 + floor(bench.rnd(k.hk, 12) * 120))
                || CASE WHEN bench.rnd(k.hk, 13) < 0.6 THEN '/' || (1 + floor(bench.rnd(k.hk, 14) * 60)) ELSE '' END
                    AS address) loc,
LATERAL (SELECT (g * 16007) % 24000 AS di, g / 24000 AS q,
                date '1940-01-01' + ((g * 16007) % 24000)::int AS bd) d,
LATERAL (SELECT CASE WHEN k.kind <> 'company' THEN NULL
                     WHEN bench.rnd(g, 20) < 0.55
                     THEN bench.upick(p.b1, bench.rnd(g, 21)) || bench.upick(p.b2, bench.rnd(g, 22))
                          || CASE WHEN bench.rnd(g, 27) < 0.4 THEN ' ' || bench.upick(p.wo, bench.rnd(g, 23)) ELSE '' END
                     WHEN bench.rnd(g, 20) < 0.8
                     THEN nm.ln || ' ' || bench.upick(p.wo, bench.rnd(g, 23))
                     ELSE bench.upick(p.cp, bench.rnd(g, 28)) || ' '
                          || bench.upick(p.b1, bench.rnd(g, 21)) || bench.upick(p.b2, bench.rnd(g, 22)) END AS core,
                CASE WHEN k.kind = 'company' THEN bench.wpick(p.lf, p.lf_c, bench.rnd(g, 24)) END AS legal) co
$f$;

CREATE FUNCTION bench.company_name(core text, legal text) RETURNS text
    LANGUAGE sql IMMUTABLE RETURN core || CASE WHEN coalesce(legal, '') <> '' THEN ' ' || legal ELSE '' END;
CREATE FUNCTION bench.phone_show(n text) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN left(n, 1) IN ('5', '6', '7', '8')
                THEN '+48 ' || substr(n, 1, 3) || ' ' || substr(n, 4, 3) || ' ' || substr(n, 7, 3)
                ELSE '+48 ' || substr(n, 1, 2) || ' ' || substr(n, 3, 3) || ' ' || substr(n, 6, 2) || ' ' || substr(n, 8, 2) END;

CREATE TABLE bench.entity AS SELECT * FROM bench.entities(1, :entities);
ALTER TABLE bench.entity ADD PRIMARY KEY (eid);

-- the duplicates: copy 1 of dup1 entities, copy 2 of the first dup2 of them
CREATE TABLE bench.dup AS
WITH chosen AS (
    SELECT e.eid, row_number() OVER (ORDER BY bench.rnd(e.eid, 30), e.eid) AS rk FROM bench.entity e
), d AS (
    SELECT c.eid, 1 AS copy_no FROM chosen c WHERE c.rk <= :dup1
    UNION ALL SELECT c.eid, 2 FROM chosen c WHERE c.rk <= :dup2
), p AS (
    SELECT max(names) FILTER (WHERE list = 'city') AS ci, max(cum) FILTER (WHERE list = 'city') AS ci_c,
           max(names) FILTER (WHERE list = 'street') AS st,
           max(names) FILTER (WHERE list = 'last') AS ln, max(cum) FILTER (WHERE list = 'last') AS ln_c,
           max(names) FILTER (WHERE list = 'diminutive') AS dim, max(extras) FILTER (WHERE list = 'diminutive') AS dim_x
    FROM bench.pool
), x AS (
    SELECT e.*, d.copy_no, e.eid * 4 + d.copy_no AS dk,
           (SELECT u.o FROM unnest(p.dim) WITH ORDINALITY AS u(v, o)
            WHERE split_part(u.v, ':', 1) = e.first_name) AS dim_i
    FROM d JOIN bench.entity e USING (eid) CROSS JOIN p
), f AS (
    SELECT x.*,
           CASE WHEN x.kind = 'person' THEN x.pesel IS NOT NULL AND bench.rnd(dk, 31) < 0.5
                ELSE x.nip IS NOT NULL AND bench.rnd(dk, 31) < 0.55 END AS keep_id,
           CASE WHEN x.phone IS NULL THEN 'none' WHEN bench.rnd(dk, 32) < 0.35 THEN 'same'
                WHEN bench.rnd(dk, 32) < 0.70 THEN 'reformatted' ELSE 'dropped' END AS ph,
           CASE WHEN x.email IS NULL THEN 'none' WHEN bench.rnd(dk, 34) < 0.35 THEN 'same'
                WHEN bench.rnd(dk, 34) < 0.50 THEN 'upper' ELSE 'dropped' END AS em,
           CASE WHEN bench.rnd(dk, 37) < 0.10 THEN 'moved' WHEN bench.rnd(dk, 37) < 0.18 THEN 'city_dropped'
                WHEN bench.rnd(dk, 37) < 0.33 THEN 'address_dropped' ELSE 'same' END AS loc0
    FROM x
), g AS (
    SELECT f.*,
           f.kind = 'person' AND f.pesel IS NOT NULL AND NOT f.keep_id AND bench.rnd(dk, 36) < 0.4 AS typed_bd,
           f.keep_id OR f.ph IN ('same', 'reformatted') OR f.em IN ('same', 'upper') AS strong
    FROM f
), h AS (
    SELECT g.*,
           CASE WHEN g.strong OR g.typed_bd OR g.loc0 = 'same' THEN g.loc0 ELSE 'same' END AS loc,
           NOT (g.strong OR g.typed_bd OR g.loc0 = 'same') AS forced,
           CASE WHEN g.kind = 'company' THEN
                    CASE WHEN bench.rnd(dk, 51) < 0.15 THEN 'typo' WHEN bench.rnd(dk, 51) < 0.27 THEN 'upper'
                         WHEN bench.rnd(dk, 51) < 0.37 THEN 'no_diacritics' ELSE 'none' END
                WHEN bench.rnd(dk, 40) < 0.22 THEN 'typo_last' WHEN bench.rnd(dk, 40) < 0.34 THEN 'no_diacritics'
                WHEN bench.rnd(dk, 40) < 0.42 THEN 'upper' WHEN bench.rnd(dk, 40) < 0.48 THEN 'swapped'
                WHEN bench.rnd(dk, 40) < 0.50 AND g.sex = 'F' AND g.strong THEN 'new_last_name'
                ELSE 'none' END AS nm,
           g.kind = 'person' AND g.dim_i IS NOT NULL AND bench.rnd(dk, 41) < 0.25 AS dim,
           g.kind = 'person' AND bench.rnd(dk, 42) < 0.04 AS ftypo,
           g.kind = 'person' AND bench.rnd(dk, 43) < 0.03 AS fmiss,
           bench.rnd(dk, 44) < 0.08 AS noacc,
           CASE WHEN g.kind = 'company' AND coalesce(g.legal_form, '') <> '' THEN
                CASE WHEN bench.rnd(dk, 50) < 0.35 THEN 'variant' WHEN bench.rnd(dk, 50) < 0.45 THEN 'dropped'
                     ELSE 'same' END END AS lf
    FROM g
), n1 AS (
    -- names: corrupted step by step
    SELECT h.*,
           CASE WHEN h.dim THEN split_part(p.dim[h.dim_i], ':', 2) ELSE h.first_name END AS fn0,
           CASE WHEN h.nm = 'typo_last' THEN bench.typo(h.last_name, bench.rnd(dk, 45), bench.rnd(dk, 46))
                WHEN h.nm = 'new_last_name' THEN bench.female_form(bench.wpick(p.ln, p.ln_c, bench.rnd(dk, 47)))
                ELSE h.last_name END AS ln0,
           CASE WHEN h.nm = 'typo' THEN bench.typo(h.company_core, bench.rnd(dk, 45), bench.rnd(dk, 46))
                ELSE h.company_core END AS cc0,
           CASE h.lf WHEN 'variant' THEN bench.legal_variant(h.legal_form, bench.rnd(dk, 52))
                     WHEN 'dropped' THEN '' ELSE h.legal_form END AS lf0,
           CASE WHEN h.loc = 'moved' THEN bench.wpick(p.ci, p.ci_c, bench.rnd(dk, 38))
                WHEN h.loc = 'city_dropped' THEN NULL ELSE h.city END AS city0,
           CASE WHEN h.loc = 'moved'
                THEN 'ul. ' || bench.upick(p.st, bench.rnd(dk, 39)) || ' ' || (1 + floor(bench.rnd(dk, 48) * 120))
                WHEN h.loc IN ('city_dropped', 'address_dropped') THEN NULL ELSE h.address END AS addr0,
           p.dim_x[h.dim_i] AS dim_unknown
    FROM h CROSS JOIN p
), n2 AS (
    SELECT n1.*,
           CASE WHEN n1.ftypo THEN bench.typo(n1.fn0, bench.rnd(dk, 53), bench.rnd(dk, 54)) ELSE n1.fn0 END AS fn1,
           n1.nm = 'no_diacritics' OR n1.noacc AS ascii
    FROM n1
), n3 AS (
    SELECT n2.*,
           CASE WHEN n2.ascii THEN bench.ascii(n2.fn1) ELSE n2.fn1 END AS fn2,
           CASE WHEN n2.ascii THEN bench.ascii(n2.ln0) ELSE n2.ln0 END AS ln2,
           CASE WHEN n2.ascii THEN bench.ascii(n2.cc0) ELSE n2.cc0 END AS cc2,
           CASE WHEN n2.ascii THEN bench.ascii(n2.city0) ELSE n2.city0 END AS city2,
           CASE WHEN n2.ascii THEN bench.ascii(n2.addr0) ELSE n2.addr0 END AS addr2
    FROM n2
)
SELECT (:entities + row_number() OVER (ORDER BY n3.eid, n3.copy_no))::bigint AS client_id,
       n3.eid, n3.copy_no, n3.kind,
       CASE WHEN n3.kind <> 'person' THEN NULL
            WHEN n3.nm = 'swapped' THEN n3.ln2
            WHEN n3.fmiss THEN NULL
            WHEN n3.nm = 'upper' AND bench.rnd(dk, 55) < 0.5 THEN upper(n3.fn2)
            ELSE n3.fn2 END AS first_name,
       CASE WHEN n3.kind <> 'person' THEN NULL
            WHEN n3.nm = 'swapped' THEN coalesce(n3.fn2, n3.ln2)
            WHEN n3.nm = 'upper' THEN upper(n3.ln2)
            ELSE n3.ln2 END AS last_name,
       CASE WHEN n3.kind = 'company'
            THEN CASE WHEN n3.nm = 'upper' THEN upper(bench.company_name(n3.cc2, n3.lf0))
                      ELSE bench.company_name(n3.cc2, n3.lf0) END END AS company_name,
       n3.city2 AS city, n3.addr2 AS address,
       CASE WHEN n3.kind = 'person' AND n3.keep_id THEN n3.pesel END AS pesel,
       CASE WHEN n3.kind = 'company' AND n3.keep_id THEN n3.nip END AS nip,
       CASE WHEN n3.typed_bd THEN n3.pesel END AS pesel_for_bd,
       CASE n3.ph WHEN 'same' THEN bench.phone_show(n3.phone)
                  WHEN 'reformatted' THEN bench.phone_format(n3.phone, bench.rnd(dk, 33)) END AS phone,
       CASE WHEN n3.landline IS NOT NULL AND bench.rnd(dk, 56) < 0.5 THEN bench.phone_show(n3.landline) END AS landline,
       CASE n3.em WHEN 'same' THEN n3.email WHEN 'upper' THEN upper(n3.email) END AS email,
       n3.created_at + (30 + bench.rnd(dk, 57) * 800) * interval '1 day' AS created_at,
       array_remove(ARRAY[
           CASE WHEN n3.nm <> 'none' THEN n3.nm END,
           CASE WHEN n3.noacc AND n3.nm <> 'no_diacritics' THEN 'no_diacritics' END,
           CASE WHEN n3.dim THEN CASE WHEN n3.dim_unknown IS NULL THEN 'diminutive' ELSE 'diminutive_unknown' END END,
           CASE WHEN n3.ftypo THEN 'typo_first' END,
           CASE WHEN n3.fmiss AND n3.nm <> 'swapped' THEN 'first_name_missing' END,
           CASE WHEN n3.lf IS NOT NULL AND n3.lf <> 'same' THEN 'legal_form_' || n3.lf END,
           CASE WHEN n3.kind = 'person' THEN CASE WHEN n3.pesel IS NULL THEN 'no_pesel'
                                                  WHEN n3.keep_id THEN 'pesel_kept' ELSE 'pesel_dropped' END
                ELSE CASE WHEN n3.nip IS NULL THEN 'no_nip' WHEN n3.keep_id THEN 'nip_kept' ELSE 'nip_dropped' END END,
           CASE WHEN n3.typed_bd THEN 'birth_date_typed' END,
           'phone_' || n3.ph, 'email_' || n3.em, 'location_' || n3.loc,
           CASE WHEN n3.forced THEN 'forced_address' END,
           CASE WHEN n3.hh_role IS NOT NULL THEN 'household_' || n3.hh_role END], NULL) AS labels
FROM n3;

SQL
# the records and their contacts, in JOBS concurrent sessions (the check on
# save off, as for any bulk load)
parallel() {
	local sql pids=() k
	sql=$(cat)
	for k in $(seq 0 $((JOBS - 1))); do
		PGOPTIONS="$PGOPTIONS -c crm.duplicate_check=off" "${PSQL[@]}" -v part="$k" -v parts="$JOBS" <<<"$sql" &
		pids+=($!)
	done
	for k in "${pids[@]}"; do wait "$k"; done
}
parallel <<'SQL'
-- originals keep the entity's number as their id
INSERT INTO crm.client (id, kind, first_name, last_name, company_name, city, address, pesel, nip,
                        source, created_at)
SELECT e.eid, e.kind, e.first_name, e.last_name, bench.company_name(e.company_core, e.legal_form),
       e.city, e.address, e.pesel::crm.pesel, e.nip::crm.nip, 'import', e.created_at
FROM bench.entity e WHERE e.eid % :parts = :part ORDER BY e.eid;
INSERT INTO crm.client (id, kind, first_name, last_name, company_name, city, address, pesel, nip,
                        birth_date, source, created_at)
SELECT d.client_id, d.kind, d.first_name, d.last_name, d.company_name, d.city, d.address,
       d.pesel::crm.pesel, d.nip::crm.nip,
       crm.pesel_birth_date(d.pesel_for_bd::crm.pesel), 'web', d.created_at
FROM bench.dup d WHERE d.client_id % :parts = :part ORDER BY d.client_id;
SQL
"${PSQL[@]}" <<'SQL'
DO $$ BEGIN PERFORM setval(pg_get_serial_sequence('crm.client', 'id'), (SELECT max(id) FROM crm.client)); END $$;

-- contacts: the trigger of crm.contact takes a lock per client, so they go
-- in by transactions of 1,000 clients per session
CREATE TABLE bench.contact_stage AS
SELECT e.eid AS client_id, 'phone' AS kind, bench.phone_show(e.phone) AS value, true AS is_default,
       CASE WHEN e.kind = 'person' THEN 'mobile' END AS label
FROM bench.entity e WHERE e.phone IS NOT NULL
UNION ALL
SELECT e.eid, 'phone', bench.phone_show(e.landline), e.phone IS NULL, 'home'
FROM bench.entity e WHERE e.landline IS NOT NULL
UNION ALL
SELECT e.eid, 'email', e.email, true, NULL FROM bench.entity e WHERE e.email IS NOT NULL
UNION ALL
SELECT d.client_id, 'phone', v.value, v.dflt, v.label
FROM bench.dup d, LATERAL (VALUES (d.phone, true, 'mobile'), (d.landline, d.phone IS NULL, 'home')) AS v(value, dflt, label)
WHERE v.value IS NOT NULL
UNION ALL
SELECT d.client_id, 'email', d.email, true, NULL FROM bench.dup d WHERE d.email IS NOT NULL;
CREATE INDEX ON bench.contact_stage (client_id);
SQL
parallel <<'SQL'
CALL bench.load_contacts(1000 * :parts, :part, :parts);
SQL
"${PSQL[@]}" <<'SQL'
-- the ground truth: every pair of records of one entity
CREATE TABLE bench.rec AS
SELECT e.eid AS client_id, e.eid, 0 AS copy_no, '{}'::text[] AS labels FROM bench.entity e
UNION ALL SELECT d.client_id, d.eid, d.copy_no, d.labels FROM bench.dup d;
ALTER TABLE bench.rec ADD PRIMARY KEY (client_id);
CREATE TABLE bench.truth (a bigint, b bigint, PRIMARY KEY (a, b), CHECK (a < b));
INSERT INTO bench.truth
SELECT x.client_id, y.client_id FROM bench.rec x JOIN bench.rec y ON y.eid = x.eid AND y.client_id > x.client_id
WHERE x.eid IN (SELECT eid FROM bench.dup);
VACUUM ANALYZE;
SQL
T1=$(now)
BUILD_S=$(secs "$T0" "$T1")
result build_s "$BUILD_S"
"${PSQL[@]}" -At <<'SQL'
SELECT format('built in %s s: %s clients (%s persons, %s companies), %s contacts, %s true pairs; '
              || 'persons with PESEL %s%%, households %s, duplicate records %s',
              (SELECT v FROM bench.result WHERE k = 'build_s'),
              count(*), count(*) FILTER (WHERE kind = 'person'), count(*) FILTER (WHERE kind = 'company'),
              (SELECT count(*) FROM crm.contact), (SELECT count(*) FROM bench.truth),
              round(100.0 * count(pesel) / nullif(count(*) FILTER (WHERE kind = 'person'), 0), 1),
              (SELECT count(DISTINCT household) FROM bench.entity), (SELECT count(*) FROM bench.dup))
FROM crm.client;
-- how common the names are (NAMES): the top shares among persons, and how
-- many last names (as typed, gender forms apart) and full names have many bearers
WITH p AS (SELECT first_name, last_name FROM crm.client WHERE kind = 'person'),
ln AS (SELECT last_name, count(*) AS n FROM p GROUP BY 1),
fn AS (SELECT first_name, count(*) AS n FROM p WHERE first_name IS NOT NULL GROUP BY 1),
full_name AS (SELECT first_name, last_name, count(*) AS n FROM p GROUP BY 1, 2)
SELECT format('names: top last name %s %s%% of persons, top first name %s %s%%; last names with >= 100 bearers %s, '
              || '>= 10 %s, one bearer %s of %s; full names with >= 10 bearers %s, largest %s (%s)',
              (SELECT l.last_name FROM ln l ORDER BY l.n DESC, l.last_name LIMIT 1),
              (SELECT round(100.0 * max(n) / (SELECT count(*) FROM p), 2) FROM ln),
              (SELECT f.first_name FROM fn f ORDER BY f.n DESC, f.first_name LIMIT 1),
              (SELECT round(100.0 * max(n) / (SELECT count(*) FROM p), 2) FROM fn),
              (SELECT count(*) FROM ln WHERE n >= 100), (SELECT count(*) FROM ln WHERE n >= 10),
              (SELECT count(*) FROM ln WHERE n = 1), (SELECT count(*) FROM ln),
              (SELECT count(*) FROM full_name WHERE n >= 10),
              (SELECT max(n) FROM full_name),
              (SELECT f.first_name || ' ' || f.last_name FROM full_name f ORDER BY f.n DESC, f.first_name, f.last_name LIMIT 1));
SQL

# BUILD_ONLY=1 (bench/quality.sh's polish set): the base and its truth only, kept
if [ "$BUILD_ONLY" = 1 ]; then exit 0; fi

# the frequencies of names and cities (frequency-aware evidence), when this
# version of crm has them: as a DBA runs it after a bulk load
if [ "$TF" = 1 ]; then
	"${PSQL[@]}" -At <<'SQL'
SELECT to_regprocedure('crm.refresh_match_frequencies()') IS NOT NULL AS have_tf \gset
\if :have_tf
SELECT clock_timestamp() AS t0 \gset
SELECT 'crm.refresh_match_frequencies(): ' || crm.refresh_match_frequencies()::text;
INSERT INTO bench.result
VALUES ('tf_refresh_s', round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1))
ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v;
SELECT '   in ' || v || ' s' FROM bench.result WHERE k = 'tf_refresh_s';
\else
SELECT 'no crm.refresh_match_frequencies() in this version: scores without frequencies';
\endif
SQL
fi

# 1. quality of crm.duplicate_pairs() at its default threshold
echo
echo "1. crm.duplicate_pairs() at the default threshold ..."
# the sample of the fallbacks: BASELINE_SAMPLE random clients
"${PSQL[@]}" -v baseline_sample="$BASELINE_SAMPLE" <<'SQL'
CREATE TABLE bench.probe AS
SELECT id FROM crm.client ORDER BY bench.rnd(id, 90), id LIMIT :baseline_sample;
ALTER TABLE bench.probe ADD PRIMARY KEY (id);
-- which pairs are scored: all ('full') or those with a sampled client ('sample')
CREATE TABLE bench.scope (method text PRIMARY KEY, mode text);
CREATE FUNCTION bench.in_scope(m text, a bigint, b bigint) RETURNS boolean LANGUAGE sql STABLE
    RETURN (SELECT s.mode FROM bench.scope s WHERE s.method = m) = 'full'
           OR EXISTS (SELECT FROM bench.probe p WHERE p.id IN (a, b));
SQL
OURS=full
T0=$(now)
if "${PSQL[@]}" -c "SET statement_timeout = '$PAIRS_TIMEOUT'" \
	-c "CREATE TABLE bench.found AS SELECT client_a, client_b, score, reasons FROM crm.duplicate_pairs()"; then
	T1=$(now)
	result pairs_s "$(secs "$T0" "$T1")"
else
	T1=$(now)
	OURS=sample
	BASELINE=sample
	result pairs_s "did not finish in $PAIRS_TIMEOUT"
	echo "   duplicate_pairs() did not finish within $PAIRS_TIMEOUT: scoring crm.duplicate_candidates() of the $BASELINE_SAMPLE sampled clients instead"
	T0=$(now)
	"${PSQL[@]}" -c "CREATE TABLE bench.found AS
		SELECT DISTINCT ON (least(p.id, c.candidate_id), greatest(p.id, c.candidate_id))
		       least(p.id, c.candidate_id) AS client_a, greatest(p.id, c.candidate_id) AS client_b, c.score, c.reasons
		FROM bench.probe p CROSS JOIN LATERAL crm.duplicate_candidates(p.id) c ORDER BY 1, 2, 3 DESC"
	T1=$(now)
	result pairs_sample_s "$(secs "$T0" "$T1")"
fi
"${PSQL[@]}" -P footer=off -v ours="$OURS" <<'SQL'
INSERT INTO bench.scope VALUES ('ours', :'ours');
ALTER TABLE bench.found ADD PRIMARY KEY (client_a, client_b);
-- what each pair is: a true pair, or a hard negative of which kind
CREATE FUNCTION bench.relation(a bigint, b bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN ra.eid = rb.eid THEN 'duplicate'
                WHEN ea.household IS NOT NULL AND ea.household = eb.household
                THEN 'household: ' || CASE WHEN 'junior' IN (ea.hh_role, eb.hh_role) THEN 'parent and child of one name'
                                           ELSE 'spouses' END
                WHEN ca.kind <> cb.kind THEN 'person and company'
                WHEN ca.kind = 'company'
                THEN CASE WHEN crm.normalize_company(ca.company_name) = crm.normalize_company(cb.company_name)
                          THEN 'companies of one name' ELSE 'companies, similar names' END
                WHEN crm.first_name_canonical(ea.first_name) = crm.first_name_canonical(eb.first_name)
                     AND crm.normalize_name(ea.last_name) = crm.normalize_name(eb.last_name)
                THEN 'namesakes' || CASE WHEN ca.city = cb.city THEN ' in one city' ELSE '' END
                ELSE 'persons, other' END
    FROM bench.rec ra JOIN bench.entity ea ON ea.eid = ra.eid, bench.rec rb JOIN bench.entity eb ON eb.eid = rb.eid,
         crm.client ca, crm.client cb
    WHERE ra.client_id = a AND rb.client_id = b AND ca.id = a AND cb.id = b
$$;
CREATE FUNCTION bench.show(id bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT concat_ws(' | ', c.id || ' ' || c.display_name, c.city, c.address, c.pesel::text, c.nip::text,
                     c.birth_date::text,
                     (SELECT string_agg(x.value, ' ' ORDER BY x.value) FROM crm.contact x WHERE x.client_id = c.id))
    FROM crm.client c WHERE c.id = show.id
$$;
-- the blocking keys of a client, whatever columns crm.match_keys takes
-- (its parameters are named after them)
DO $$
BEGIN
    EXECUTE (SELECT format('CREATE FUNCTION bench.keys(c crm.client) RETURNS text[] LANGUAGE sql STABLE '
                           'RETURN crm.match_keys(%s)',
                           string_agg(format('c.%I', a.n), ', ' ORDER BY a.o))
             FROM pg_proc p, unnest(p.proargnames) WITH ORDINALITY AS a(n, o)
             WHERE p.oid = (SELECT min(oid) FROM pg_proc WHERE proname = 'match_keys'
                            AND pronamespace = 'crm'::regnamespace));
END
$$;
-- a reason without its values: 'same phone', 'last name similar'
CREATE FUNCTION bench.evidence(reason text) RETURNS text LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN reason ~ '^same (phone|e-mail) ' THEN substring(reason FROM '^same \S+')
                WHEN reason ~ '^same birth date' THEN 'same birth date'
                ELSE regexp_replace(reason, ':.*| one typo away.*', '') END;

CREATE TABLE bench.fp AS
SELECT f.*, bench.relation(f.client_a, f.client_b) AS relation
FROM bench.found f WHERE NOT EXISTS (SELECT FROM bench.truth t WHERE t.a = f.client_a AND t.b = f.client_b)
                    AND bench.in_scope('ours', f.client_a, f.client_b);
-- the false negatives, scored as duplicate_candidates would score them
CREATE TABLE bench.fn AS
SELECT t.a, t.b, m.score, m.reasons,
       ARRAY(SELECT DISTINCT l FROM (SELECT unnest(r.labels) FROM bench.rec r WHERE r.client_id IN (t.a, t.b)
                                     UNION ALL SELECT 'pair_of_two_duplicates'
                                     WHERE (SELECT min(r.copy_no) FROM bench.rec r WHERE r.client_id IN (t.a, t.b)) > 0
                                    ) AS u(l) ORDER BY l) AS labels,
       CASE WHEN m.score >= crm.default_min_score()
            THEN CASE WHEN bench.keys(ca) && bench.keys(cb)
                           OR ca.pesel::text = cb.pesel::text OR ca.nip::text = cb.nip::text OR cardinality(sh.shared) > 0
                      THEN 'not compared: its keys are in blocks over crm.max_block_size()'
                      ELSE 'not compared: no blocking key in common' END
            ELSE 'compared, scored under the threshold' END AS why
FROM bench.truth t
JOIN crm.client ca ON ca.id = t.a JOIN crm.client cb ON cb.id = t.b
CROSS JOIN LATERAL (SELECT ARRAY(SELECT x.kind || ':' || lower(x.value) FROM crm.contact x JOIN crm.contact y
                                     ON y.kind = x.kind AND lower(y.value) = lower(x.value)
                                 WHERE x.client_id = t.a AND y.client_id = t.b ORDER BY 1) AS shared) sh
CROSS JOIN LATERAL crm.match_score(ca, cb, sh.shared, crm.match_weights()) AS m
WHERE NOT EXISTS (SELECT FROM bench.found f WHERE f.client_a = t.a AND f.client_b = t.b)
  AND bench.in_scope('ours', t.a, t.b);

INSERT INTO bench.result
SELECT 'ours_' || k, v FROM (
    SELECT (SELECT count(*) FROM bench.found f WHERE bench.in_scope('ours', f.client_a, f.client_b))
           - (SELECT count(*) FROM bench.fp) AS tp,
           (SELECT count(*) FROM bench.fp) AS fp, (SELECT count(*) FROM bench.fn) AS fn) c,
    LATERAL bench.prf(c.tp, c.fp, c.fn) m,
    LATERAL (VALUES ('tp', c.tp::text), ('fp', c.fp::text), ('fn', c.fn::text),
                    ('p', m.p::text), ('r', m.r::text), ('f1', m.f1::text)) AS v(k, v);

\echo
SELECT (SELECT mode FROM bench.scope WHERE method = 'ours') AS pairs_scored,
       (SELECT v FROM bench.result WHERE k = 'pairs_s') AS seconds,
       (SELECT count(*) FROM bench.truth t WHERE bench.in_scope('ours', t.a, t.b)) AS true_pairs,
       (SELECT count(*) FROM bench.found f WHERE bench.in_scope('ours', f.client_a, f.client_b)) AS found,
       max(v) FILTER (WHERE k = 'ours_tp') AS tp, max(v) FILTER (WHERE k = 'ours_fp') AS fp,
       max(v) FILTER (WHERE k = 'ours_fn') AS fn, max(v) FILTER (WHERE k = 'ours_p') AS precision,
       max(v) FILTER (WHERE k = 'ours_r') AS recall, max(v) FILTER (WHERE k = 'ours_f1') AS f1
FROM bench.result;
\echo 'false positives by relation'
SELECT relation, count(*), round(avg(score)::numeric, 2) AS avg_score FROM bench.fp GROUP BY 1 ORDER BY 2 DESC;
\echo 'false negatives by cause'
SELECT why, count(*) FROM bench.fn GROUP BY 1 ORDER BY 2 DESC;
\echo 'false negatives by what the generator did (a pair counts under each of its labels), against all true pairs'
SELECT l AS label, count(*) FILTER (WHERE fn.a IS NOT NULL) AS fn, count(*) AS true_pairs,
       round(100.0 * count(*) FILTER (WHERE fn.a IS NOT NULL) / count(*), 1) AS fn_pct
FROM bench.truth t
CROSS JOIN LATERAL (SELECT DISTINCT l FROM (SELECT unnest(r.labels) FROM bench.rec r WHERE r.client_id IN (t.a, t.b)
                                            UNION ALL SELECT 'pair_of_two_duplicates'
                                            WHERE (SELECT min(r.copy_no) FROM bench.rec r
                                                   WHERE r.client_id IN (t.a, t.b)) > 0) AS u(l)) ls
LEFT JOIN bench.fn ON fn.a = t.a AND fn.b = t.b
WHERE bench.in_scope('ours', t.a, t.b)
GROUP BY l HAVING count(*) FILTER (WHERE fn.a IS NOT NULL) > 0 ORDER BY 2 DESC, 1 LIMIT 20;
\echo 'evidence in the false negatives that were compared'
SELECT bench.evidence(reason) AS evidence, count(*)
FROM bench.fn, unnest(reasons) AS reason WHERE why LIKE 'compared%' GROUP BY 1 ORDER BY 2 DESC LIMIT 15;
\echo 'evidence in the false positives'
SELECT bench.evidence(reason) AS evidence, count(*)
FROM bench.fp, unnest(reasons) AS reason GROUP BY 1 ORDER BY 2 DESC LIMIT 15;
\echo '10 false positives (best scores first)'
SELECT round(score::numeric, 3) AS score, relation, bench.show(client_a) AS a, bench.show(client_b) AS b,
       array_to_string(reasons, '; ') AS reasons
FROM bench.fp ORDER BY score DESC, client_a, client_b LIMIT 10;
\echo '10 false negatives (a sample)'
SELECT round(score::numeric, 3) AS score, why, array_to_string(labels, ',') AS labels,
       bench.show(a) AS a, bench.show(b) AS b, array_to_string(reasons, '; ') AS reasons
FROM bench.fn ORDER BY hashint8(a + b), a LIMIT 10;
SQL

fi  # RESUME < 2

if [ "$RESUME" -le 2 ]; then
# 2. baseline: pg_trgm similarity >= 0.6 within one city
echo
echo "2. baseline: pg_trgm self-join (similarity >= 0.6, same lower(city)), mode $BASELINE ..."
T0=$(now)
"${PSQL[@]}" -v baseline_sample="$BASELINE_SAMPLE" <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS bench_trgm_person_idx ON crm.client
    USING gin (lower(coalesce(first_name, '') || ' ' || last_name) gin_trgm_ops) WHERE kind = 'person';
CREATE INDEX IF NOT EXISTS bench_trgm_company_idx ON crm.client
    USING gin (lower(company_name) gin_trgm_ops) WHERE kind = 'company';
ANALYZE crm.client;
SQL
T1=$(now)
result baseline_index_s "$(secs "$T0" "$T1")"
baseline_full() {
	"${PSQL[@]}" <<SQL
SET statement_timeout = '$BASELINE_TIMEOUT';
SET pg_trgm.similarity_threshold = 0.6;
CREATE TABLE bench.bl_found AS
SELECT a.id AS a, b.id AS b FROM crm.client a JOIN crm.client b
    ON lower(coalesce(b.first_name, '') || ' ' || b.last_name) % lower(coalesce(a.first_name, '') || ' ' || a.last_name)
   AND lower(b.city) = lower(a.city) AND a.id < b.id
WHERE a.kind = 'person' AND b.kind = 'person'
UNION ALL
SELECT a.id, b.id FROM crm.client a JOIN crm.client b
    ON lower(b.company_name) % lower(a.company_name) AND lower(b.city) = lower(a.city) AND a.id < b.id
WHERE a.kind = 'company' AND b.kind = 'company';
SQL
}
baseline_sample() {
	"${PSQL[@]}" <<'SQL'
SET pg_trgm.similarity_threshold = 0.6;
DROP TABLE IF EXISTS bench.bl_found;
CREATE TABLE bench.bl_found AS
SELECT DISTINCT least(x.a, x.bid) AS a, greatest(x.a, x.bid) AS b FROM (
    SELECT a.id, b.id AS bid FROM bench.probe p JOIN crm.client a ON a.id = p.id JOIN crm.client b
        ON lower(coalesce(b.first_name, '') || ' ' || b.last_name) % lower(coalesce(a.first_name, '') || ' ' || a.last_name)
       AND lower(b.city) = lower(a.city) AND a.id <> b.id
    WHERE a.kind = 'person' AND b.kind = 'person'
    UNION ALL
    SELECT a.id, b.id FROM bench.probe p JOIN crm.client a ON a.id = p.id JOIN crm.client b
        ON lower(b.company_name) % lower(a.company_name) AND lower(b.city) = lower(a.city) AND a.id <> b.id
    WHERE a.kind = 'company' AND b.kind = 'company') AS x(a, bid);
SQL
}
BL_NOTE=""
if [ "$BASELINE" = full ]; then
	T0=$(now)
	if baseline_full; then
		T1=$(now)
		result baseline_s "$(secs "$T0" "$T1")"
	else
		T1=$(now)
		BL_NOTE="full self-join did not finish within $BASELINE_TIMEOUT; "
		echo "   the full self-join did not finish within $BASELINE_TIMEOUT: running it on the sample instead"
		result baseline_full_s "did not finish in $BASELINE_TIMEOUT"
		BASELINE=sample
	fi
fi
if [ "$BASELINE" = sample ]; then
	T0=$(now)
	baseline_sample
	T1=$(now)
	result baseline_s "$(secs "$T0" "$T1")"
	BL_NOTE="${BL_NOTE}sample: the pairs that involve one of $BASELINE_SAMPLE random clients (bench.probe), both methods"
else
	BL_NOTE="full base, both methods"
fi
result baseline_mode "$BL_NOTE"
"${PSQL[@]}" -P footer=off -v mode="$BASELINE" <<'SQL'
ALTER TABLE bench.bl_found ADD PRIMARY KEY (a, b);
INSERT INTO bench.scope VALUES ('bl', :'mode');
INSERT INTO bench.result
SELECT m || '_' || k, v FROM (
    SELECT 'bl' AS m, count(*) FILTER (WHERE t.a IS NOT NULL) AS tp, count(*) FILTER (WHERE t.a IS NULL) AS fp,
           (SELECT count(*) FROM bench.truth t2 WHERE bench.in_scope('bl', t2.a, t2.b)
                AND NOT EXISTS (SELECT FROM bench.bl_found f2 WHERE f2.a = t2.a AND f2.b = t2.b)) AS fn
    FROM bench.bl_found f LEFT JOIN bench.truth t ON t.a = f.a AND t.b = f.b
    UNION ALL
    SELECT 'oursscope', count(*) FILTER (WHERE t.a IS NOT NULL), count(*) FILTER (WHERE t.a IS NULL),
           (SELECT count(*) FROM bench.truth t2 WHERE bench.in_scope('bl', t2.a, t2.b)
                AND NOT EXISTS (SELECT FROM bench.found f2 WHERE f2.client_a = t2.a AND f2.client_b = t2.b))
    FROM bench.found f LEFT JOIN bench.truth t ON t.a = f.client_a AND t.b = f.client_b
    WHERE bench.in_scope('bl', f.client_a, f.client_b)) c,
    LATERAL bench.prf(c.tp, c.fp, c.fn) m,
    LATERAL (VALUES ('tp', c.tp::text), ('fp', c.fp::text), ('fn', c.fn::text),
                    ('p', m.p::text), ('r', m.r::text), ('f1', m.f1::text)) AS v(k, v);
\echo
SELECT (SELECT v FROM bench.result WHERE k = 'baseline_mode') AS compared_on;
SELECT CASE m WHEN 'bl' THEN 'pg_trgm baseline' ELSE 'crm.duplicate_pairs()' END AS method,
       max(v) FILTER (WHERE k = m || '_tp') AS tp, max(v) FILTER (WHERE k = m || '_fp') AS fp,
       max(v) FILTER (WHERE k = m || '_fn') AS fn, max(v) FILTER (WHERE k = m || '_p') AS precision,
       max(v) FILTER (WHERE k = m || '_r') AS recall, max(v) FILTER (WHERE k = m || '_f1') AS f1
FROM bench.result, (VALUES ('bl'), ('oursscope')) AS x(m) GROUP BY m ORDER BY m;
\echo 'baseline false positives by relation'
SELECT bench.relation(f.a, f.b) AS relation, count(*)
FROM bench.bl_found f WHERE NOT EXISTS (SELECT FROM bench.truth t WHERE t.a = f.a AND t.b = f.b)
GROUP BY 1 ORDER BY 2 DESC;
DROP INDEX crm.bench_trgm_person_idx, crm.bench_trgm_company_idx;
SQL
fi  # RESUME <= 2

# 3. latency of crm.duplicate_candidates(id), one client at a time
echo
echo "3. crm.duplicate_candidates(id) for $ROUNDS random clients ..."
"${PSQL[@]}" -P footer=off -v rounds="$ROUNDS" <<'SQL'
DROP TABLE IF EXISTS bench.latency;
CREATE TABLE bench.latency (id bigint, ms float8, candidates int);
INSERT INTO bench.latency (id)
SELECT id FROM crm.client ORDER BY bench.rnd(id, 95), id LIMIT :rounds;
DO $$
DECLARE
    r record;
    t timestamptz;
    n int;
BEGIN
    FOR r IN SELECT id FROM bench.latency ORDER BY bench.rnd(id, 96), id LOOP
        t := clock_timestamp();
        SELECT count(*) INTO n FROM crm.duplicate_candidates(r.id);
        UPDATE bench.latency SET ms = 1000 * extract(epoch FROM clock_timestamp() - t), candidates = n
        WHERE id = r.id;
    END LOOP;
END
$$;
INSERT INTO bench.result
SELECT k, round(v::numeric, 2)::text FROM (
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS median,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY ms) AS p90, max(ms) AS max, avg(candidates) AS cand
    FROM bench.latency) l,
    LATERAL (VALUES ('cand_median_ms', l.median), ('cand_p90_ms', l.p90), ('cand_max_ms', l.max),
                    ('cand_avg_candidates', l.cand)) AS v(k, v)
ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v;
SELECT max(v) FILTER (WHERE k = 'cand_median_ms') AS median_ms, max(v) FILTER (WHERE k = 'cand_p90_ms') AS p90_ms,
       max(v) FILTER (WHERE k = 'cand_max_ms') AS max_ms,
       max(v) FILTER (WHERE k = 'cand_avg_candidates') AS avg_candidates
FROM bench.result;
SQL

# 4. insert cost, one INSERT each, in batches of 1,000 interleaved
echo
echo "4. $INSERTS inserts, one statement each ($CHECKED_INSERTS with the check on save) ..."
"${PSQL[@]}" -P footer=off -v inserts="$INSERTS" -v checked="$CHECKED_INSERTS" -v clients="$CLIENTS" <<'SQL'
-- a rerun (RESUME=3) starts from the base as built
DROP TABLE IF EXISTS bench.newc, bench.plain, bench.plain_btree, bench.ins, bench.plan;
DELETE FROM crm.client WHERE id > :clients;
CREATE TABLE bench.newc AS
SELECT row_number() OVER (ORDER BY eid) AS n, kind, first_name, last_name,
       bench.company_name(company_core, legal_form) AS company_name, city, address,
       pesel::crm.pesel AS pesel, nip::crm.nip AS nip, created_at
FROM bench.entities(:clients + 1, :clients + 4 * :inserts);
-- no index, no trigger; and the same with crm.client's indexes but the GIN one
CREATE TABLE bench.plain (LIKE crm.client INCLUDING DEFAULTS INCLUDING IDENTITY);
CREATE TABLE bench.plain_btree (LIKE crm.client INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES);
DO $$
DECLARE
    i text;
BEGIN
    FOR i IN SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
             JOIN pg_am am ON am.oid = c.relam
             WHERE x.indrelid = 'bench.plain_btree'::regclass AND am.amname = 'gin' LOOP
        EXECUTE format('DROP INDEX bench.%I', i);
    END LOOP;
END
$$;
CREATE TABLE bench.ins (variant text, n int, ms float8);
CREATE OR REPLACE PROCEDURE bench.insert_batch(variant text, first int, cnt int) LANGUAGE plpgsql AS $$
DECLARE
    r record;
    t timestamptz;
BEGIN
    PERFORM set_config('crm.duplicate_check', CASE variant WHEN 'crm.client, check on save' THEN 'notice' ELSE 'off' END, false);
    FOR r IN SELECT * FROM bench.newc WHERE n BETWEEN first AND first + cnt - 1 ORDER BY n LOOP
        t := clock_timestamp();
        IF variant LIKE 'crm.client%' THEN
            INSERT INTO crm.client (kind, first_name, last_name, company_name, display_name, city, address,
                                    pesel, nip, source, created_at, updated_at)
            VALUES (r.kind, r.first_name, r.last_name, r.company_name,
                    crm_internal.client_default_display_name(r.kind, r.first_name, r.last_name, r.company_name),
                    r.city, r.address, r.pesel, r.nip, 'bench', r.created_at, r.created_at);
        ELSIF variant = 'plain copy' THEN
            INSERT INTO bench.plain (kind, first_name, last_name, company_name, display_name, city, address,
                                     pesel, nip, source, created_at, updated_at)
            VALUES (r.kind, r.first_name, r.last_name, r.company_name,
                    crm_internal.client_default_display_name(r.kind, r.first_name, r.last_name, r.company_name),
                    r.city, r.address, r.pesel, r.nip, 'bench', r.created_at, r.created_at);
        ELSE
            INSERT INTO bench.plain_btree (kind, first_name, last_name, company_name, display_name, city, address,
                                           pesel, nip, source, created_at, updated_at)
            VALUES (r.kind, r.first_name, r.last_name, r.company_name,
                    crm_internal.client_default_display_name(r.kind, r.first_name, r.last_name, r.company_name),
                    r.city, r.address, r.pesel, r.nip, 'bench', r.created_at, r.created_at);
        END IF;
        INSERT INTO bench.ins VALUES (variant, r.n, 1000 * extract(epoch FROM clock_timestamp() - t));
    END LOOP;
    COMMIT;
END
$$;
CREATE TABLE bench.plan (variant text, k int, cnt int);
INSERT INTO bench.plan VALUES ('plain copy', 0, :inserts), ('copy with the b-tree indexes', 1, :inserts),
                              ('crm.client, check off', 2, :inserts), ('crm.client, check on save', 3, :checked);
DO $$
DECLARE
    total int := (SELECT count(*) FROM bench.newc) / 4;
    v record;
BEGIN
    FOR b IN 0 .. (total - 1) / 1000 LOOP
        -- each variant its own new clients: the check on save must not find the others'
        FOR v IN SELECT * FROM bench.plan WHERE cnt > b * 1000 ORDER BY k LOOP
            CALL bench.insert_batch(v.variant, v.k * total + b * 1000 + 1, least(1000, v.cnt - b * 1000));
        END LOOP;
    END LOOP;
END
$$;
SQL

"${PSQL[@]}" -P footer=off <<'SQL'
INSERT INTO bench.result
SELECT 'ins_' || variant, round(avg(ms)::numeric, 3)::text FROM bench.ins GROUP BY variant
ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v;
SELECT i.variant, count(*) AS inserts, round(avg(i.ms)::numeric, 3) AS avg_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY i.ms)::numeric, 3) AS median_ms,
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY i.ms)::numeric, 3) AS p99_ms,
       round((avg(i.ms) / (SELECT avg(ms) FROM bench.ins WHERE variant = 'plain copy'))::numeric, 2) AS ratio_to_plain
FROM bench.ins i GROUP BY i.variant ORDER BY avg(i.ms);
SQL

# summary
echo
echo "Summary"
"${PSQL[@]}" -At -F ': ' -v clients="$CLIENTS" -v share="$DUP_SHARE" -v seed="$SEED" <<'SQL'
CREATE OR REPLACE FUNCTION bench.r(key text) RETURNS text LANGUAGE sql STABLE
    RETURN coalesce((SELECT v FROM bench.result WHERE k = key), '-');
SELECT '  clients', format('%s (dup share %s, seed %s, %s true pairs)', :clients, :'share', :seed,
                           (SELECT count(*) FROM bench.truth))
UNION ALL SELECT '  build', bench.r('build_s') || ' s'
UNION ALL SELECT '  crm.refresh_match_frequencies()', bench.r('tf_refresh_s') || ' s'
UNION ALL SELECT '  duplicate_pairs()', bench.r('pairs_s') || CASE WHEN bench.r('pairs_sample_s') = '-' THEN ' s'
                 ELSE '; candidates of the sample instead: ' || bench.r('pairs_sample_s') || ' s' END
UNION ALL SELECT '  ours, ' || CASE (SELECT mode FROM bench.scope WHERE method = 'ours') WHEN 'full' THEN 'whole base'
                 ELSE 'sample' END,
                 format('P %s  R %s  F1 %s  (TP %s FP %s FN %s; target F1 >= 0.95)',
                 bench.r('ours_p'), bench.r('ours_r'), bench.r('ours_f1'), bench.r('ours_tp'), bench.r('ours_fp'), bench.r('ours_fn'))
UNION ALL SELECT '  compared on', bench.r('baseline_mode')
UNION ALL SELECT '  ours', format('P %s  R %s  F1 %s', bench.r('oursscope_p'), bench.r('oursscope_r'), bench.r('oursscope_f1'))
UNION ALL SELECT '  pg_trgm baseline', format('P %s  R %s  F1 %s  in %s s (+ %s s for its indexes)%s',
                 bench.r('bl_p'), bench.r('bl_r'), bench.r('bl_f1'), bench.r('baseline_s'), bench.r('baseline_index_s'),
                 CASE WHEN bench.r('baseline_full_s') <> '-' THEN '; full self-join ' || bench.r('baseline_full_s') ELSE '' END)
UNION ALL SELECT '  duplicate_candidates()', format('median %s ms, p90 %s ms, max %s ms (target median < 5 ms)',
                 bench.r('cand_median_ms'), bench.r('cand_p90_ms'), bench.r('cand_max_ms'))
UNION ALL SELECT '  insert, plain copy', bench.r('ins_plain copy') || ' ms'
UNION ALL SELECT '  insert, copy with b-trees', format('%s ms (x%s)', bench.r('ins_copy with the b-tree indexes'),
                 round(bench.r('ins_copy with the b-tree indexes')::numeric / bench.r('ins_plain copy')::numeric, 2))
UNION ALL SELECT '  insert, crm.client check off', format('%s ms (x%s)', bench.r('ins_crm.client, check off'),
                 round(bench.r('ins_crm.client, check off')::numeric / bench.r('ins_plain copy')::numeric, 2))
UNION ALL SELECT '  insert, crm.client check on save', format('%s ms (x%s)', bench.r('ins_crm.client, check on save'),
                 round(bench.r('ins_crm.client, check on save')::numeric / bench.r('ins_plain copy')::numeric, 2));
SQL
if [ "$KEEP" = 1 ]; then
	echo "database $DB kept (KEEP=1)"
else
	"${BIN}psql" -X -q -d postgres -c "DROP DATABASE $DB"
fi
