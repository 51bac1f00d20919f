-- bench/gen_common.sql: the deterministic generator helpers shared by
-- bench/duplicates.sh and bench/quality.sh (\i'd from bench/, in schema bench).
-- Needs the psql variable seed: every draw is a hash of a key and the seed,
-- so parallel plans and reruns give the same rows.
-- a uniform draw in [0, 1) from a key and a salt: the same on every run
CREATE FUNCTION bench.rnd(k bigint, salt int) RETURNS float8
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (hashint8extended(k, :seed::bigint * 1000 + salt) & 281474976710655)::float8 / 281474976710656;
CREATE FUNCTION bench.upick(a text[], r float8) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN a[1 + floor(r * cardinality(a))::int];
-- a weighted draw: cum holds the lower bound of each name's share
CREATE FUNCTION bench.wpick(a text[], cum float8[], r float8) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN a[width_bucket(r, cum)];
CREATE FUNCTION bench.ascii(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN translate(t, 'ąćęłńóśźżĄĆĘŁŃÓŚŹŻ', 'acelnoszzACELNOSZZ');
CREATE FUNCTION bench.pesel_check(s text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN s || ((10 - (substr(s, 1, 1)::int + 3 * substr(s, 2, 1)::int + 7 * substr(s, 3, 1)::int
                        + 9 * substr(s, 4, 1)::int + substr(s, 5, 1)::int + 3 * substr(s, 6, 1)::int
                        + 7 * substr(s, 7, 1)::int + 9 * substr(s, 8, 1)::int + substr(s, 9, 1)::int
                        + 3 * substr(s, 10, 1)::int) % 10) % 10)::text;
-- YYMMDD (month + 20 from 2000), serial ZZZ, sex digit X (odd: male), check
CREATE FUNCTION bench.pesel(bd date, zzz int, x int) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN bench.pesel_check(to_char(bd, 'YY')
        || lpad((extract(month FROM bd)::int + CASE WHEN bd >= date '2000-01-01' THEN 20 ELSE 0 END)::text, 2, '0')
        || to_char(bd, 'DD') || lpad(zzz::text, 3, '0') || x::text);
-- one typo at a position after the first letter: substitution, transposition
-- of neighbours, deletion or a doubled letter
CREATE FUNCTION bench.typo(s text, r1 float8, r2 float8) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    n int := char_length(s);
    p int := 2 + floor(r1 * (char_length(s) - 1))::int;
    c text;
BEGIN
    IF n < 3 THEN
        RETURN s;
    END IF;
    c := substr(s, p, 1);
    IF r2 < 0.4 THEN
        RETURN overlay(s PLACING CASE WHEN c = 'e' THEN 'a' WHEN c IN ('a', 'o') THEN 'e'
                                      WHEN c = 'i' THEN 'y' WHEN c = 'y' THEN 'i'
                                      WHEN c = 'k' THEN 'c' ELSE 'o' END FROM p FOR 1);
    ELSIF r2 < 0.7 THEN
        IF p = n THEN p := n - 1; END IF;
        IF substr(s, p, 1) = substr(s, p + 1, 1) THEN
            RETURN overlay(s PLACING '' FROM p FOR 1);
        END IF;
        RETURN overlay(s PLACING substr(s, p + 1, 1) || substr(s, p, 1) FROM p FOR 2);
    ELSIF r2 < 0.9 THEN
        RETURN overlay(s PLACING '' FROM p FOR 1);
    END IF;
    RETURN overlay(s PLACING c || c FROM p FOR 1);
END
$$;
-- precision, recall, F1 from counts
CREATE FUNCTION bench.prf(tp bigint, fp bigint, fn bigint, OUT p numeric, OUT r numeric, OUT f1 numeric)
    LANGUAGE sql IMMUTABLE
    RETURN ROW(round(tp::numeric / nullif(tp + fp, 0), 4), round(tp::numeric / nullif(tp + fn, 0), 4),
               round(2 * tp::numeric / nullif(2 * tp + fp + fn, 0), 4));
-- contacts from bench.contact_stage (client_id, kind, value, is_default, label):
-- the trigger of crm.contact takes a lock per client, so they go in by
-- transactions of step clients per session
CREATE PROCEDURE bench.load_contacts(step int, part int, parts int) LANGUAGE plpgsql AS $$
DECLARE
    top bigint := (SELECT max(client_id) FROM bench.contact_stage);
BEGIN
    FOR lo IN 0 .. top BY step LOOP
        INSERT INTO crm.contact (client_id, kind, value, is_default, label)
        SELECT s.client_id, s.kind, s.value, s.is_default, s.label FROM bench.contact_stage s
        WHERE s.client_id > lo AND s.client_id <= lo + step AND s.client_id % parts = part
        ORDER BY s.client_id, s.kind, NOT s.is_default;
        COMMIT;
    END LOOP;
END
$$;
-- lists weighted by rank: a list written most common first gets the weight
-- 1 / rank^expo; cum holds the lower bound of each entry's share (bench.wpick)
CREATE FUNCTION bench.zipf_cum(n int, expo float8) RETURNS float8[]
    LANGUAGE sql IMMUTABLE
    RETURN (SELECT array_agg(c ORDER BY k) FROM (
                SELECT k, coalesce(sum(w) OVER (ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                          / sum(w) OVER () AS c
                FROM (SELECT k, 1 / power(k, expo) AS w FROM generate_series(1, n) k) x) y);
-- birth dates as people mistype them: day and month swapped (when both can be
-- a month), the year's last two digits swapped (1974 -> 1947), one digit of
-- the day, month or year's last two mistyped (another valid date)
CREATE FUNCTION bench.date_dm_swap(d date) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN extract(day FROM d) <= 12 AND extract(day FROM d) <> extract(month FROM d)
                THEN make_date(extract(year FROM d)::int, extract(day FROM d)::int, extract(month FROM d)::int) END;
CREATE FUNCTION bench.date_year_swap(d date) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN to_char(d, 'YYYY') LIKE '19__' AND substr(to_char(d, 'YYYY'), 3, 1) <> substr(to_char(d, 'YYYY'), 4, 1)
                     AND substr(to_char(d, 'YYYY'), 4, 1) <> '0'
                     AND to_char(d, 'MM-DD') <> '02-29'
                THEN make_date(('19' || substr(to_char(d, 'YYYY'), 4, 1) || substr(to_char(d, 'YYYY'), 3, 1))::int,
                               extract(month FROM d)::int, extract(day FROM d)::int) END;
CREATE FUNCTION bench.date_typo(d date, r1 float8, r2 float8) RETURNS date
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    s text := to_char(d, 'YYYYMMDD');
    -- positions 3-8: the year's last two digits, the month, the day
    p int := 3 + floor(r1 * 6)::int;
    c int;
    t date;
BEGIN
    FOR i IN 1 .. 9 LOOP
        c := (substr(s, p, 1)::int + 1 + floor(r2 * 9)::int + i - 1) % 10;
        IF c <> substr(s, p, 1)::int THEN
            BEGIN
                t := to_date(overlay(s PLACING c::text FROM p FOR 1), 'YYYYMMDD');
                IF to_char(t, 'YYYYMMDD') = overlay(s PLACING c::text FROM p FOR 1) AND t < date '2010-01-01' THEN
                    RETURN t;
                END IF;
            EXCEPTION WHEN OTHERS THEN
                NULL;
            END;
        END IF;
    END LOOP;
    RETURN d + 1;
END
$$;
-- a typo in a string of digits and letters (a postcode, a house number): one
-- character replaced by a neighbouring digit, or two neighbours swapped
CREATE FUNCTION bench.code_typo(s text, r1 float8, r2 float8) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    pos int[] := ARRAY(SELECT o::int FROM regexp_split_to_table(s, '') WITH ORDINALITY AS u(ch, o) WHERE ch ~ '[0-9]');
    p int;
BEGIN
    IF cardinality(pos) = 0 THEN
        RETURN s;
    END IF;
    p := pos[1 + floor(r1 * cardinality(pos))::int];
    IF r2 < 0.5 AND p < char_length(s) AND substr(s, p + 1, 1) ~ '[0-9]' AND substr(s, p + 1, 1) <> substr(s, p, 1) THEN
        RETURN overlay(s PLACING substr(s, p + 1, 1) || substr(s, p, 1) FROM p FOR 2);
    END IF;
    RETURN overlay(s PLACING ((substr(s, p, 1)::int + CASE WHEN r2 < 0.75 THEN 1 ELSE 9 END) % 10)::text FROM p FOR 1);
END
$$;
