-- bench/access_base.sql: the base of bench/access.sh (psql variable clients).
-- Deterministic (every draw is arithmetic on the row number).
--
-- Structure: 1 channel (unit 1), 10 branches (2..11), 5 departments each
-- (12..61; branch b's are 12 + 5 (b - 2) .. + 4).  A client's unit is one of
-- the 50 departments (5/6 of clients) or one of the 10 branches (1/6): a
-- branch reaches 1/10 of the base.
-- Clients: half have one of 100 common last names (Kowalski among them:
-- 0.5% of the base), half a unique one; every client a phone (its default),
-- every other one an e-mail; 0..4 contacts in the history (2 on average),
-- 1 in 4 handled by bench_agent, 1 in 10 a notification (no agent); 0..2
-- policies (1 on average); 1 in 5 an open ticket, half of them assigned to
-- bench_agent.
SET crm.duplicate_check = off;
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES (1, NULL, 'channel', 'Bench');
INSERT INTO crm.unit (id, parent_id, kind, name)
SELECT b, 1, 'branch', 'Branch ' || b FROM generate_series(2, 11) b;
INSERT INTO crm.unit (id, parent_id, kind, name)
SELECT 12 + 5 * (b - 2) + d, b, 'department', 'Department ' || b || '.' || d
FROM generate_series(2, 11) b, generate_series(0, 4) d;
SELECT setval(pg_get_serial_sequence('crm.unit', 'id'), 100);

INSERT INTO crm.client (id, first_name, last_name, city, unit_id)
SELECT g,
       (ARRAY['Jan','Anna','Piotr','Katarzyna','Tomasz','Zofia','Marek','Ewa','Paweł','Agnieszka'])[1 + (g / 7) % 10],
       CASE WHEN g % 2 = 0
            THEN (ARRAY['Nowak','Kowalski','Wiśniewski','Wójcik','Kowalczyk','Kamiński','Lewandowski','Zieliński',
                        'Szymański','Woźniak','Dąbrowski','Kozłowski','Jankowski','Mazur','Wojciechowski',
                        'Kwiatkowski','Krawczyk','Kaczmarek','Piotrowski','Grabowski','Zając','Pawłowski',
                        'Michalski','Król','Wieczorek','Jabłoński','Wróbel','Nowakowski','Majewski','Olszewski',
                        'Stępień','Malinowski','Jaworski','Adamczyk','Dudek','Nowicki','Pawlak','Górski','Witkowski',
                        'Walczak','Sikora','Baran','Rutkowski','Michalak','Szewczyk','Ostrowski','Tomaszewski',
                        'Pietrzak','Zalewski','Wróblewski','Marciniak','Jasiński','Zawadzki','Bąk','Jakubowski',
                        'Sadowski','Duda','Włodarczyk','Wilk','Chmielewski','Borkowski','Sokołowski','Szczepański',
                        'Sawicki','Lis','Kucharski','Kalinowski','Wysocki','Mazurek','Kubiak','Maciejewski',
                        'Czarnecki','Kołodziej','Urbański','Kaźmierczak','Sobczak','Konieczny','Głowacki',
                        'Zakrzewski','Krajewski','Krupa','Wasilewski','Laskowski','Ziółkowski','Gajewski',
                        'Szulc','Mróz','Brzeziński','Makowski','Przybylski','Kaczmarczyk','Borowski','Czerwiński',
                        'Sikorski','Baranowski','Szymczak','Błaszczyk','Andrzejewski','Leszczyński','Cieślak'])[1 + (g / 2) % 100]
            ELSE 'Nazwisko' || g END,
       (ARRAY['Kraków','Warszawa','Gdańsk','Łódź','Poznań','Wrocław'])[1 + g % 6],
       CASE WHEN g % 6 = 5 THEN 2 + (g / 6) % 10 ELSE 12 + (g / 6) % 50 END
FROM generate_series(1, :clients) AS g;
SELECT setval(pg_get_serial_sequence('crm.client', 'id'), :clients);

-- contacts in transactions of 2,000 clients: a write of crm.contact takes
-- an advisory lock per client (more in one transaction run out of lock slots)
CREATE PROCEDURE bench.add_contacts(n int) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('crm.duplicate_check', 'off', false);
    FOR f IN 1 .. n BY 2000 LOOP
        INSERT INTO crm.contact (client_id, kind, value, is_default)
        SELECT g, 'phone', '+48' || (500000000 + g), true FROM generate_series(f, least(n, f + 1999)) g;
        INSERT INTO crm.contact (client_id, kind, value, is_default)
        SELECT g, 'email', 'client' || g || '@example.pl', true
        FROM generate_series(f, least(n, f + 1999)) g WHERE g % 2 = 1;
        COMMIT;
    END LOOP;
END
$$;
CALL bench.add_contacts(:clients);

INSERT INTO crm.interaction (client_id, channel, direction, occurred_at, agent, summary)
SELECT g,
       CASE WHEN (g + k) % 10 = 0 THEN 'notification' ELSE 'call' END,
       CASE WHEN (g + k) % 10 = 0 THEN 'outbound' ELSE 'inbound' END,
       timestamptz '2025-01-01' + (g % 1000) * interval '1 hour' + k * interval '1 day',
       CASE WHEN (g + k) % 10 = 0 THEN NULL WHEN (g + k) % 4 = 0 THEN 'bench_agent' ELSE 'agent_' || (g + k) % 20 END,
       'Rozmowa ' || k
FROM generate_series(1, :clients) g, generate_series(1, g % 5) k;

INSERT INTO crm.policy (client_id, number, insurer, starts_on, ends_on)
SELECT g, 'P/' || g || '/' || k, 'PZU', date '2026-01-01', date '2026-12-31'
FROM generate_series(1, :clients) g, generate_series(1, g % 3) k;

INSERT INTO crm.ticket (client_id, subject, status, assignee)
SELECT g, 'Zgłoszenie', 'open', CASE WHEN g % 10 = 0 THEN 'bench_agent' END
FROM generate_series(5, :clients, 5) g;

-- merge pairs: fresh clients in department 12 (branch 2), each source with
-- a phone, 2 contacts in the history, a policy and a ticket
CREATE TABLE bench.pair (id int PRIMARY KEY, source_id bigint, target_id bigint, merge_id bigint);
GRANT SELECT, UPDATE ON bench.pair TO PUBLIC;
CREATE FUNCTION bench.make_pairs(n int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    s bigint;
    t bigint;
BEGIN
    FOR i IN 1 .. n LOOP
        INSERT INTO crm.client (first_name, last_name, unit_id) VALUES ('Jan', 'Źródło' || i, 12) RETURNING id INTO s;
        INSERT INTO crm.client (first_name, last_name, unit_id) VALUES ('Jan', 'Cel' || i, 12) RETURNING id INTO t;
        INSERT INTO bench.pair VALUES (i, s, t);
        INSERT INTO crm.contact (client_id, kind, value) VALUES (s, 'phone', '+48' || (700000000 + i));
        INSERT INTO crm.contact (client_id, kind, value) VALUES (t, 'phone', '+48' || (800000000 + i));
        INSERT INTO crm.interaction (client_id, channel, occurred_at, agent)
            SELECT s, 'call', now() - k * interval '1 day', 'bench_agent' FROM generate_series(1, 2) k;
        INSERT INTO crm.policy (client_id, number, insurer, starts_on, ends_on)
            VALUES (s, 'M/' || i, 'PZU', '2026-01-01', '2026-12-31');
        INSERT INTO crm.ticket (client_id, subject, status) VALUES (s, 'Zgłoszenie', 'open');
    END LOOP;
END
$$;
SELECT bench.make_pairs(:pairs);
VACUUM ANALYZE;
