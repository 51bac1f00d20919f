-- test/soak.sql: the soak's base and actions (run by test/soak.sh as the
-- database owner, a superuser; the actions then run as soak_admin, a login
-- role that is a member of crm_admin only).
--
-- Every client's last name is a token of its own ("Soak" and letters, from
-- its number) and its PESEL is valid and unique, so that the end can look
-- for an anonymized client's data in every table and tell exactly which
-- rows should exist.  Each action is a function that catches its error,
-- counts it by SQLSTATE in soak.error and returns; deadlocks and
-- serialization failures are raised again for pgbench to retry.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION crm;
SELECT crm.install_data_model() IS NOT NULL AS installed \gset
SELECT crm.create_roles() IS NOT NULL AS roles \gset
SELECT crm.enable_row_security() IS NOT NULL AS rls \gset

CREATE SCHEMA soak;
-- what the actions did (a row per action that committed)
CREATE TABLE soak.ledger (
    action    text NOT NULL,
    client_id bigint,
    n         integer NOT NULL DEFAULT 1,
    at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- the errors the actions met, by SQLSTATE
CREATE TABLE soak.error (
    action   text NOT NULL,
    sqlstate text NOT NULL,
    message  text NOT NULL
);
-- the last names and PESELs of anonymized clients (and of the clients merged
-- into them), looked for everywhere at the end
CREATE TABLE soak.forgotten (token text PRIMARY KEY);
-- every client id that ever existed
CREATE TABLE soak.client_ever (id bigint PRIMARY KEY);
CREATE SEQUENCE soak.person_seq;

-- a name token of its own for person n: "Soak" and n in letters (never an
-- English or Polish word, so found only where a soak client's data is)
CREATE FUNCTION soak.token(n bigint) RETURNS text LANGUAGE sql IMMUTABLE
RETURN 'Soak' || translate(to_hex(n), '0123456789', 'ghijklmnop');

-- a valid PESEL of its own for person n (n < 100,000,000)
CREATE FUNCTION soak.pesel(n bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    born date := date '1950-01-01' + (n % 18000)::int;
    serial int := (n / 18000)::int % 10000;
    mm int := extract(month FROM born)::int + CASE WHEN born >= date '2000-01-01' THEN 20 ELSE 0 END;
    digits text := to_char(born, 'YY') || lpad(mm::text, 2, '0') || to_char(born, 'DD') || lpad(serial::text, 4, '0');
    weights int[] := ARRAY[1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
    s int := 0;
BEGIN
    FOR i IN 1..10 LOOP
        s := s + substr(digits, i, 1)::int * weights[i];
    END LOOP;
    RETURN digits || ((10 - s % 10) % 10)::text;
END
$$;

CREATE FUNCTION soak.failed(action text, state text, message text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF state IN ('40001', '40P01') THEN
        -- pgbench retries these (--max-tries); counted in its report
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message;
    END IF;
    INSERT INTO soak.error VALUES (action, state, message);
END
$$;

-- a random client that is neither hidden nor anonymized
CREATE FUNCTION soak.some_client() RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT c.id FROM crm.client c
    WHERE c.id >= (SELECT floor(random() * max(e.id))::bigint FROM soak.client_ever e)
      AND c.hidden_at IS NULL AND c.anonymized_at IS NULL
    ORDER BY c.id LIMIT 1
$$;

-- person n: the one home of what a soak client is made of
CREATE FUNCTION soak.person(n bigint, OUT first_name text, OUT last_name text, OUT city text,
                            OUT address text, OUT pesel text, OUT owner text,
                            OUT phone1 text, OUT phone2 text, OUT email text)
LANGUAGE sql IMMUTABLE AS $$
    SELECT (ARRAY['Jan', 'Anna', 'Piotr', 'Maria', 'Tomasz', 'Ewa'])[1 + n % 6], soak.token(n),
           (ARRAY['Kraków', 'Gdańsk', 'Poznań', 'Łódź'])[1 + n % 4], 'ul. Długa ' || (n % 200 + 1),
           soak.pesel(n), 'soak_agent' || n % 7,
           '+48 5' || lpad((n * 2 % 100000000)::text, 8, '0'), '+48 6' || lpad((n * 2 % 100000000)::text, 8, '0'),
           lower(soak.token(n)) || '@example.com'
$$;

-- persons first..last, each with two phones, an e-mail, a policy and a
-- task, in one statement per table; returns how many
CREATE FUNCTION soak.add_persons(first bigint, last bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n_made bigint;
BEGIN
    CREATE TEMP TABLE made AS
    WITH ins AS (
        INSERT INTO crm.client (first_name, last_name, city, address, pesel, unit_id, owner, source)
        SELECT p.first_name, p.last_name, p.city, p.address, p.pesel::crm.pesel,
               (SELECT u.id FROM crm.unit u WHERE u.kind = 'channel' ORDER BY u.id LIMIT 1), p.owner, 'soak'
        FROM generate_series(first, last) n, soak.person(n) p
        RETURNING client.id, client.last_name)
    SELECT ins.id, p.* FROM ins, generate_series(first, last) n, soak.person(n) p WHERE p.last_name = ins.last_name;
    INSERT INTO soak.client_ever SELECT m.id FROM made m;
    INSERT INTO crm.contact (client_id, kind, value)
    SELECT m.id, k.kind, k.value FROM made m,
           LATERAL (VALUES ('phone', m.phone1), ('phone', m.phone2), ('email', m.email)) k(kind, value);
    INSERT INTO crm.policy (client_id, number, insurer, starts_on, ends_on)
    SELECT m.id, 'P/' || m.id, 'PZU', date '2026-01-01', date '2026-12-31' FROM made m;
    INSERT INTO crm.task (client_id, title) SELECT m.id, 'call back' FROM made m;
    SELECT count(*) INTO n_made FROM made;
    DROP TABLE made;
    RETURN n_made;
END
$$;

CREATE FUNCTION soak.act_insert() RETURNS void LANGUAGE plpgsql AS $$
DECLARE n bigint := nextval('soak.person_seq');
BEGIN
    PERFORM soak.add_persons(n, n);
    INSERT INTO soak.ledger (action, client_id) VALUES ('insert', n);
EXCEPTION WHEN OTHERS THEN
    PERFORM soak.failed('insert', SQLSTATE, SQLERRM);
END
$$;

CREATE FUNCTION soak.act_update() RETURNS void LANGUAGE plpgsql AS $$
DECLARE cid bigint := soak.some_client();
BEGIN
    UPDATE crm.client c SET address = 'ul. Krótka ' || (random() * 100)::int, city = 'Warszawa'
    WHERE c.id = cid;
    -- and a contact: a new default phone
    UPDATE crm.contact k SET is_default = true
    WHERE k.id = (SELECT k2.id FROM crm.contact k2 WHERE k2.client_id = cid AND k2.kind = 'phone'
                  ORDER BY random() LIMIT 1);
    INSERT INTO soak.ledger (action, client_id) VALUES ('update', cid);
EXCEPTION WHEN OTHERS THEN
    PERFORM soak.failed('update', SQLSTATE, SQLERRM);
END
$$;

CREATE FUNCTION soak.act_check() RETURNS void LANGUAGE plpgsql AS $$
DECLARE cid bigint := soak.some_client();
BEGIN
    PERFORM FROM crm.duplicate_candidates(cid);
    INSERT INTO soak.ledger (action, client_id) VALUES ('check', cid);
EXCEPTION WHEN OTHERS THEN
    PERFORM soak.failed('check', SQLSTATE, SQLERRM);
END
$$;

CREATE FUNCTION soak.act_merge() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    source bigint := soak.some_client();
    target bigint := soak.some_client();
BEGIN
    IF source IS NULL OR target IS NULL OR source = target THEN
        RETURN;
    END IF;
    PERFORM crm.merge_client(source, target);
    INSERT INTO soak.ledger (action, client_id) VALUES ('merge', target);
EXCEPTION WHEN OTHERS THEN
    PERFORM soak.failed('merge', SQLSTATE, SQLERRM);
END
$$;

CREATE FUNCTION soak.act_unmerge() RETURNS void LANGUAGE plpgsql AS $$
DECLARE m bigint;
BEGIN
    SELECT l.id INTO m FROM crm.merge_log l
    WHERE l.undone_at IS NULL AND l.anonymized_at IS NULL
    ORDER BY random() LIMIT 1;
    IF m IS NULL THEN
        RETURN;
    END IF;
    PERFORM crm.unmerge(m);
    INSERT INTO soak.ledger (action, client_id) VALUES ('unmerge', m);
EXCEPTION WHEN OTHERS THEN
    PERFORM soak.failed('unmerge', SQLSTATE, SQLERRM);
END
$$;

CREATE FUNCTION soak.act_hide() RETURNS void LANGUAGE plpgsql AS $$
DECLARE cid bigint;
BEGIN
    IF random() < 0.5 THEN
        cid := soak.some_client();
        PERFORM crm.hide_client(cid, 'soak');
        INSERT INTO soak.ledger (action, client_id) VALUES ('hide', cid);
    ELSE
        SELECT c.id INTO cid FROM crm.client c WHERE c.hidden_at IS NOT NULL ORDER BY random() LIMIT 1;
        IF cid IS NOT NULL THEN
            PERFORM crm.unhide_client(cid);
            INSERT INTO soak.ledger (action, client_id) VALUES ('unhide', cid);
        END IF;
    END IF;
EXCEPTION WHEN OTHERS THEN
    PERFORM soak.failed('hide', SQLSTATE, SQLERRM);
END
$$;

-- the right to be forgotten: first note what must vanish (the client's and
-- every client's merged into it, at any depth, names and PESELs), then erase
CREATE FUNCTION soak.act_anonymize() RETURNS void LANGUAGE plpgsql AS $$
DECLARE cid bigint := soak.some_client();
BEGIN
    IF cid IS NULL THEN
        RETURN;
    END IF;
    WITH RECURSIVE merged(id) AS (
        SELECT cid
        UNION
        SELECT s.id FROM merged m JOIN crm.merge_log l ON l.target_id = m.id AND l.undone_at IS NULL,
                         unnest(l.source_ids) AS s(id)
    )
    INSERT INTO soak.forgotten
    SELECT DISTINCT t
    FROM (SELECT c.last_name, c.pesel::text FROM crm.client c WHERE c.id = cid
          UNION ALL
          SELECT s ->> 'last_name', s ->> 'pesel'
          FROM crm.merge_log l, jsonb_array_elements(l.sources) s
          WHERE l.target_id IN (SELECT m.id FROM merged m) AND l.undone_at IS NULL) p(last_name, pesel),
         LATERAL (VALUES (p.last_name), (p.pesel)) v(t)
    WHERE t IS NOT NULL
    ON CONFLICT DO NOTHING;
    PERFORM crm.anonymize(cid, crm.anonymization_code(cid));
    INSERT INTO soak.ledger (action, client_id) VALUES ('anonymize', cid);
EXCEPTION WHEN OTHERS THEN
    PERFORM soak.failed('anonymize', SQLSTATE, SQLERRM);
END
$$;

CREATE FUNCTION soak.act_bulk() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[] := ARRAY(SELECT soak.some_client() FROM generate_series(1, 20));
    n bigint;
BEGIN
    IF random() < 0.5 THEN
        n := crm.bulk_add_to_segment(ids, (SELECT s.id FROM crm.segment s ORDER BY random() LIMIT 1));
    ELSE
        n := crm.bulk_change_owner(ids, 'soak_agent' || (random() * 6)::int);
    END IF;
    INSERT INTO soak.ledger (action, n) VALUES ('bulk', n);
EXCEPTION WHEN OTHERS THEN
    PERFORM soak.failed('bulk', SQLSTATE, SQLERRM);
END
$$;

-- the base: persons 1..base, made as the soak makes them
INSERT INTO crm.unit (kind, name) VALUES ('channel', 'Soak channel');
INSERT INTO crm.segment (name) SELECT 'soak segment ' || i FROM generate_series(1, 3) i;
-- account managers: owners are roles that exist, and employees (crm.employee)
DO $$ BEGIN
    FOR i IN 0..6 LOOP
        EXECUTE format('CREATE ROLE soak_agent%s NOLOGIN', i);
    END LOOP;
END $$;
INSERT INTO crm.employee (login, full_name)
SELECT 'soak_agent' || i, 'Agent ' || i FROM generate_series(0, 6) AS i;
SELECT soak.add_persons(1, :base) AS base_clients \gset
SELECT setval('soak.person_seq', :base) AS person_seq \gset
CREATE ROLE soak_admin LOGIN;
GRANT crm_admin TO soak_admin;
GRANT USAGE ON SCHEMA soak TO soak_admin;
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA soak TO soak_admin;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA soak TO soak_admin;
ANALYZE;
