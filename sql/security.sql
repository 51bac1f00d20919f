--
-- security: ordinary roles, privileges, and names planted to capture ours
--
SELECT regress.reset();
CREATE ROLE regress_crm_clerk NOLOGIN;
CREATE ROLE regress_crm_intruder NOLOGIN;

-- everyone may use the types and the pure functions ...
SET ROLE regress_crm_clerk;
SELECT '44051401359'::crm.pesel AS pesel, crm.pesel_birth_date('44051401359') AS born,
       crm.normalize_phone('601 234 567') AS phone, crm.is_valid_nip('5260001246') AS nip_ok;
CREATE TEMP TABLE my_import (p crm.pesel, n crm.nip, r crm.regon);
INSERT INTO my_import VALUES ('440514-01359', 'PL5260001246', '123456785');
SELECT * FROM my_import;
DROP TABLE my_import;
-- ... but the data is the DBA's to grant, and the schema is not a playground
SELECT * FROM regress.error_of('SELECT count(*) FROM crm.client');
SELECT * FROM regress.error_of('CREATE TABLE crm.mine (x int)');
SELECT * FROM regress.error_of($$SELECT crm.delete_client(1)$$);
RESET ROLE;

-- a contact-centre clerk may add clients, contacts and history, not edit
-- clients: the system fields its writes keep need only column privileges
GRANT SELECT, INSERT ON crm.client, crm.contact, crm.interaction TO regress_crm_clerk;
GRANT UPDATE (is_default) ON crm.contact TO regress_crm_clerk;
GRANT UPDATE (last_contact_at) ON crm.client TO regress_crm_clerk;
INSERT INTO crm.client (id, first_name, last_name) VALUES (1, 'Jan', 'Kowalski');
INSERT INTO crm.contact (client_id, kind, value) VALUES (1, 'phone', '601 234 567');
SET ROLE regress_crm_clerk;
INSERT INTO crm.contact (client_id, kind, value, is_default) VALUES (1, 'phone', '602 000 000', true);
INSERT INTO crm.interaction (client_id, channel, occurred_at) VALUES (1, 'call', '2026-03-01 10:00+01');
SELECT * FROM regress.error_of($$UPDATE crm.client SET last_name = 'X' WHERE id = 1$$);
-- and what it may write there is only what the history says
UPDATE crm.client SET last_contact_at = '2099-01-01' WHERE id = 1;
RESET ROLE;
-- the system fields followed: one default phone, last contact recorded
SELECT value, is_default FROM crm.contact ORDER BY id;
SELECT last_contact_at FROM crm.client WHERE id = 1;

-- objects planted in a schema searched first do not capture the
-- extension's names: every function pins its search_path
GRANT CREATE ON SCHEMA public TO regress_crm_intruder;
SET ROLE regress_crm_intruder;
CREATE FUNCTION public.btrim(text) RETURNS text LANGUAGE sql AS $$ SELECT 'captured' $$;
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT 'captured' $$;
CREATE FUNCTION public.nullif(text, text) RETURNS text LANGUAGE sql AS $$ SELECT 'captured' $$;
CREATE FUNCTION public.concat_ws(text, text, text) RETURNS text LANGUAGE sql AS $$ SELECT 'captured' $$;
CREATE FUNCTION public.pesel_eq_hook(crm.pesel, crm.pesel) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'captured'; RETURN true; END $$;
CREATE OPERATOR public.= (LEFTARG = crm.pesel, RIGHTARG = crm.pesel, FUNCTION = public.pesel_eq_hook);
RESET ROLE;
SET search_path = public, crm, pg_catalog;
INSERT INTO crm.client (id, first_name, last_name, pesel) VALUES (2, ' Anna ', 'Nowak', '85020500028');
UPDATE crm.client SET pesel = '00222900016' WHERE id = 2;
SELECT id, first_name, display_name, birth_date FROM crm.client WHERE id = 2;
SELECT id FROM crm.client_search('{"last_name": "NOWAK", "pesel": "00222900016"}');
SELECT relation, row_count FROM crm.client_links(1) WHERE row_count > 0 ORDER BY relation::text;
RESET search_path;

-- the duplicate check runs with the user's rights: under row-level
-- security a clerk is told only of clients it may see, and reads only the
-- pairs of two such clients
SELECT regress.reset();
GRANT SELECT, INSERT, UPDATE, DELETE ON crm.possible_duplicate TO regress_crm_clerk;
ALTER TABLE crm.client ENABLE ROW LEVEL SECURITY;
CREATE POLICY client_own ON crm.client USING (owner = current_user);
INSERT INTO crm.employee (login) VALUES ('regress_crm_clerk'), ('someone_else');
INSERT INTO crm.client (id, first_name, last_name, city, pesel, owner) VALUES
    (1, 'Jan', 'Kowalski', 'Kraków', '44051401052', 'regress_crm_clerk'),
    (2, 'Anna', 'Nowak', 'Gdańsk', '85020500028', 'someone_else');
SET crm.duplicate_check = notice;
SET ROLE regress_crm_clerk;
INSERT INTO crm.client (id, first_name, last_name, city, pesel, owner)
VALUES (3, 'Jan', 'Kowalski', 'Kraków', '44051401052', 'regress_crm_clerk');
INSERT INTO crm.client (id, first_name, last_name, city, pesel, owner)
VALUES (4, 'Anna', 'Nowak', 'Gdańsk', '85020500028', 'regress_crm_clerk');
SELECT client_a, client_b FROM crm.possible_duplicate ORDER BY 1, 2;
RESET ROLE;
-- the owner, who sees both, records the other pair; the clerk still sees one
UPDATE crm.client SET city = 'Gdańsk' WHERE id = 4;
SELECT client_a, client_b FROM crm.possible_duplicate ORDER BY 1, 2;
SET ROLE regress_crm_clerk;
SELECT client_a, client_b FROM crm.possible_duplicate ORDER BY 1, 2;
RESET ROLE;
RESET crm.duplicate_check;
DROP POLICY client_own ON crm.client;
ALTER TABLE crm.client DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON crm.possible_duplicate FROM regress_crm_clerk;

DROP OPERATOR public.= (crm.pesel, crm.pesel);
DROP FUNCTION public.btrim(text), public.lower(text), public.nullif(text, text),
              public.concat_ws(text, text, text), public.pesel_eq_hook(crm.pesel, crm.pesel);
REVOKE CREATE ON SCHEMA public FROM regress_crm_intruder;
SELECT regress.reset();

-- crm's trigger functions fire on crm's tables only.  No role may attach
-- one to a table of its own: a SECURITY DEFINER one would lock or change
-- any client from made-up rows, a C one would read columns of other types
SELECT p.oid::regprocedure AS trigger_function_public_may_execute
FROM pg_proc p
WHERE p.pronamespace IN ('crm'::regnamespace, 'crm_internal'::regnamespace)
  AND p.prorettype = 'trigger'::regtype AND has_function_privilege('public', p.oid, 'EXECUTE');
SET ROLE regress_crm_intruder;
CREATE TEMP TABLE k (id bigint, client_id bigint, kind integer, value text, is_default boolean);
SELECT err_code, err_message FROM regress.error_of($$CREATE TRIGGER k BEFORE INSERT ON k FOR EACH ROW
                                                    EXECUTE FUNCTION crm_internal.contact_normalize()$$);
SELECT err_code, err_message FROM regress.error_of($$CREATE TRIGGER k AFTER INSERT ON k REFERENCING NEW TABLE AS new_rows
                                                    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.contact_after_statement()$$);
SELECT err_code, err_message FROM regress.error_of($$CREATE TRIGGER k BEFORE INSERT ON k FOR EACH ROW
                                                    EXECUTE FUNCTION crm_internal.contact_lock_client()$$);
SELECT err_code, err_message FROM regress.error_of($$CREATE TRIGGER k BEFORE INSERT ON k FOR EACH ROW
                                                    EXECUTE FUNCTION crm_internal.client_insert_plain()$$);
SELECT err_code, err_message FROM regress.error_of($$CREATE TRIGGER k BEFORE UPDATE ON k FOR EACH ROW
                                                    EXECUTE FUNCTION crm_internal.client_update_light()$$);
DROP TABLE k;
-- nor give the light-update predicate rows of its own making
CREATE TEMP TABLE r (id bigint, owner bigint);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm_internal.client_update_is_light(r, r) FROM (VALUES (1::bigint, 2::bigint)) r(id, owner)$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm_internal.client_update_is_light(r, r) FROM (SELECT 1::bigint, 2::bigint) r$$);
INSERT INTO r VALUES (1, 2);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm_internal.client_update_is_light(r, r) FROM r$$);
DROP TABLE r;
RESET ROLE;
-- and a role that may (here the superuser) meets the functions' own check
CREATE TEMP TABLE k (id bigint, client_id bigint, kind integer, value text, is_default boolean,
                     first_name integer, last_name text);
CREATE TRIGGER k1 BEFORE INSERT ON k FOR EACH ROW EXECUTE FUNCTION crm_internal.contact_normalize();
SELECT * FROM regress.error_of($$INSERT INTO k VALUES (1, 1, 7, 'x', false)$$);
DROP TRIGGER k1 ON k;
CREATE TRIGGER k2 BEFORE INSERT ON k FOR EACH ROW EXECUTE FUNCTION crm_internal.client_insert_plain();
SELECT * FROM regress.error_of($$INSERT INTO k (id, first_name, last_name) VALUES (1, 12345, 'x')$$);
DROP TRIGGER k2 ON k;
CREATE TRIGGER k3 BEFORE UPDATE ON k FOR EACH ROW EXECUTE FUNCTION crm_internal.client_update_light();
INSERT INTO k (id, client_id) VALUES (1, 1);
SELECT * FROM regress.error_of($$UPDATE k SET client_id = 2$$);
DROP TRIGGER k3 ON k;
CREATE TRIGGER k4 AFTER INSERT ON k REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.contact_after_statement();
SELECT * FROM regress.error_of($$INSERT INTO k VALUES (-1, 1, 7, 'x', true)$$);
DROP TRIGGER k4 ON k;
CREATE TRIGGER k5 BEFORE INSERT ON k FOR EACH ROW EXECUTE FUNCTION crm_internal.contact_lock_client();
SELECT * FROM regress.error_of($$INSERT INTO k VALUES (-1, 1, 7, 'x', true)$$);
DROP TABLE k;

REVOKE ALL ON crm.client, crm.contact, crm.interaction FROM regress_crm_clerk;
DROP ROLE regress_crm_clerk, regress_crm_intruder;
