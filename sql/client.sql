--
-- The structure tree and the client record
--
SELECT regress.reset();

-- structure: channel > branch > department
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Agency channel'),
    (2, 1, 'branch', 'Kraków'),
    (3, 2, 'department', 'Motor'),
    (4, 1, 'branch', 'Warszawa'),
    (5, 1, 'department', 'Head office'),   -- a department directly in a channel
    (6, NULL, 'channel', 'Direct channel');
SELECT regress.sync_identities();
SELECT id, kind, depth, ancestors, path FROM crm.unit_tree ORDER BY id;

-- a child's kind must be below its parent's; that rules out cycles too
SELECT * FROM regress.error_of($$INSERT INTO crm.unit (parent_id, kind, name) VALUES (3, 'branch', 'Nowa Huta')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.unit (parent_id, kind, name) VALUES (2, 'branch', 'Nowa Huta')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.unit (parent_id, kind, name) VALUES (1, 'channel', 'Sub')$$);
SELECT * FROM regress.error_of($$UPDATE crm.unit SET parent_id = 3 WHERE id = 2$$);
SELECT * FROM regress.error_of($$UPDATE crm.unit SET parent_id = 1 WHERE id = 1$$);
SELECT * FROM regress.error_of($$UPDATE crm.unit SET kind = 'department' WHERE id = 2$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.unit (parent_id, kind, name) VALUES (1, 'branch', 'Kraków')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.unit (parent_id, kind, name) VALUES (99, 'branch', 'Gdańsk')$$);
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.unit (kind, name) VALUES ('region', 'Południe')$$);
SELECT * FROM regress.error_of($$DELETE FROM crm.unit WHERE id = 2$$);

SELECT a AS ancestor, u AS unit, crm.unit_contains(a, u) AS contains
FROM (VALUES (1, 3), (2, 3), (3, 3), (4, 3), (3, 2), (6, 3)) AS t(a, u);

-- clients: a person needs a last name, a company a company name
INSERT INTO crm.employee (login) VALUES ('agent_anna'), ('agent_new');   -- the account managers below
INSERT INTO crm.client (id, kind, first_name, last_name, pesel, unit_id, owner, source)
VALUES (1, 'person', '  Jan ', 'Kowalski', '44051401359', 3, 'agent_anna', 'import');
INSERT INTO crm.client (id, kind, company_name, nip, regon, city, unit_id)
VALUES (2, 'company', 'Agro-Pol S.A.', 'PL 777-000-28-95', '732295135', 'Kraków', 2);
INSERT INTO crm.client (id, first_name, last_name, birth_date, language, city)
VALUES (3, 'John', 'Smith', '1980-07-04', 'en', 'Kraków');   -- a foreigner: no PESEL
SELECT id, kind, display_name, first_name, pesel, nip, birth_date, language, source, synced,
       created_at = updated_at AS untouched, hidden_at
FROM crm.client ORDER BY id;

SELECT regress.sync_identities();
SELECT * FROM regress.error_of($$INSERT INTO crm.client (kind, first_name) VALUES ('person', 'Anna')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.client (kind, first_name, last_name) VALUES ('person', 'Anna', '   ')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.client (kind, last_name) VALUES ('company', 'Nowak')$$);
SELECT * FROM regress.error_of($$UPDATE crm.client SET company_name = NULL WHERE id = 2$$);
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.client (kind, last_name) VALUES ('robot', 'R2')$$);
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.client (last_name, language) VALUES ('Nowak', 'fr')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.client (last_name, pesel) VALUES ('Nowak', '85020500029')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.client (last_name, unit_id) VALUES ('Nowak', 99)$$);

-- the birth date comes from the PESEL; a contradiction is refused
SELECT * FROM regress.error_of($$INSERT INTO crm.client (last_name, pesel, birth_date) VALUES ('Nowak', '85020500028', '1985-02-06')$$);
INSERT INTO crm.client (id, first_name, last_name, pesel, birth_date)
VALUES (4, 'Anna', 'Nowak', '85020500028', '1985-02-05');
-- a new PESEL brings its own birth date, unless one is given with it
UPDATE crm.client SET pesel = '00222900016' WHERE id = 4;
SELECT id, pesel, birth_date FROM crm.client WHERE id = 4;
SELECT * FROM regress.error_of($$UPDATE crm.client SET pesel = '44051401359', birth_date = '1999-01-01' WHERE id = 4$$);
-- a foreigner's birth date is typed
UPDATE crm.client SET birth_date = '1981-07-04' WHERE id = 3;
SELECT id, birth_date FROM crm.client WHERE id = 3;

-- identifiers are not unique: real bases hold duplicates
INSERT INTO crm.client (id, first_name, last_name, pesel) VALUES (5, 'Jan', 'Kowalsky', '440514-01359');
SELECT id, display_name FROM crm.client WHERE pesel = '44051401359' ORDER BY id;

-- created_at, source and last_contact_at are read-only to updates;
-- updated_at follows every change; the display name follows the names
UPDATE crm.client SET created_at = '2000-01-01', source = 'hacked', last_contact_at = '2000-01-01',
                      first_name = 'Janusz'
WHERE id = 1;
SELECT id, display_name, source, created_at > '2001-01-01' AS created_kept, last_contact_at,
       updated_at >= created_at AS updated
FROM crm.client WHERE id = 1;
-- not from another trigger either
CREATE TABLE forge (x int);
CREATE FUNCTION forge_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE crm.client SET created_at = '2000-01-01', source = 'forged', last_contact_at = '2099-01-01'
    WHERE id = 1;
    RETURN NULL;
END $$;
CREATE TRIGGER forge AFTER INSERT ON forge FOR EACH ROW EXECUTE FUNCTION forge_trigger();
INSERT INTO forge VALUES (1);
SELECT id, source, created_at > '2001-01-01' AS created_kept, last_contact_at FROM crm.client WHERE id = 1;
DROP TABLE forge;
DROP FUNCTION forge_trigger();
-- writing only a system field changes nothing, not even updated_at
SELECT updated_at AS before FROM crm.client WHERE id = 1 \gset
UPDATE crm.client SET last_contact_at = now(), created_at = now() WHERE id = 1;
SELECT updated_at = :'before' AS updated_at_kept FROM crm.client WHERE id = 1;

-- an update of the assignment alone (owner, unit_id, synced, language) takes
-- the light path (a C trigger, src/clientrow.c): updated_at only
SELECT tgname, pg_get_triggerdef(oid) ~ 'WHEN' AS conditional FROM pg_trigger
WHERE tgrelid = 'crm.client'::regclass AND NOT tgisinternal ORDER BY tgname;
SELECT crm_internal.client_update_is_light(c, c) AS same_row_light FROM crm.client c WHERE id = 1;
BEGIN;
UPDATE crm.client SET owner = 'agent_new', synced = true, language = 'en' WHERE id = 1;
SELECT owner, synced, language, updated_at = now() AS touched, updated_at > created_at AS after_creation
FROM crm.client WHERE id = 1;
ROLLBACK;
-- nothing changed: updated_at kept
UPDATE crm.client SET owner = owner, unit_id = unit_id WHERE id = 1;
SELECT updated_at = :'before' AS updated_at_kept FROM crm.client WHERE id = 1;
-- with any other column the full trigger runs: trims, keeps the system fields
BEGIN;
UPDATE crm.client SET owner = 'agent_new', first_name = '  Janusz ', created_at = '2000-01-01' WHERE id = 1;
SELECT owner, first_name, display_name, created_at > '2001-01-01' AS created_kept, updated_at = now() AS touched
FROM crm.client WHERE id = 1;
ROLLBACK;
BEGIN;
UPDATE crm.client SET owner = 'agent_new', source = 'forged' WHERE id = 1;
SELECT owner, source, updated_at = now() AS touched FROM crm.client WHERE id = 1;
ROLLBACK;
-- the light trigger refuses any other use
SELECT * FROM regress.error_of($$SELECT crm_internal.client_update_light()$$);
-- a plain new client is trimmed and completed in C, as the PL/pgSQL
-- function does for the others (here: a unit to find would be one)
BEGIN;
INSERT INTO crm.client (id, first_name, last_name, city, postal_code, pesel, source, unit_id)
VALUES (70, '  Ala ', ' Nowak  ', ' ', '', '44051401359', '  ', NULL),
       (71, NULL, 'Lis', NULL, NULL, NULL, ' crm-test ', NULL)
RETURNING id, first_name, last_name, display_name, city, postal_code, birth_date, source,
          created_at = now() AS created_now, updated_at = created_at AS updated_created;
INSERT INTO crm.client (id, kind, company_name, display_name, created_at, updated_at)
VALUES (72, 'company', ' Firma  Sp. z o.o. ', '   ', '2020-01-01', NULL)
RETURNING id, kind, company_name, display_name, created_at, updated_at = created_at AS updated_created;
ROLLBACK;
SELECT * FROM regress.error_of($$SELECT crm_internal.client_insert_plain()$$);

-- a display name set by hand stays
UPDATE crm.client SET display_name = 'Kowalski Janusz (VIP)' WHERE id = 1;
UPDATE crm.client SET first_name = 'Jan' WHERE id = 1;
SELECT id, display_name FROM crm.client WHERE id = 1;
-- emptied, it is derived again
UPDATE crm.client SET display_name = '' WHERE id = 1;
SELECT id, display_name FROM crm.client WHERE id = 1;

-- the source defaults to the session's application_name
SET application_name = 'broker-portal';
INSERT INTO crm.client (id, last_name) VALUES (6, 'Wiśniewska') RETURNING source;
RESET application_name;

-- the indexes that common filters and the duplicate functions use
SELECT indexname FROM pg_indexes WHERE schemaname = 'crm' AND tablename = 'client' ORDER BY 1;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM crm.client WHERE pesel = '44051401359';
EXPLAIN (COSTS OFF) SELECT id FROM crm.client WHERE lower(last_name) LIKE 'kowal%';
RESET enable_seqscan;

SELECT regress.reset();
