--
-- typed_custom_fields: custom fields typed pesel, nip and regon, checked by
-- crm's types and kept as their digits, however written (crm.set_custom_value,
-- crm.bulk_set_custom_value, INSERT and UPDATE, an import), searched in any
-- format, merged like the others
--
SELECT regress.reset();
SELECT crm.create_roles() IS NOT NULL AS roles;
SELECT crm.enable_row_security() IS NOT NULL AS row_security;
CREATE ROLE regress_tcf_agent NOLOGIN;   -- an agent in Poznań
GRANT crm_agent TO regress_tcf_agent;
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES (1, NULL, 'channel', 'Agencja'), (2, 1, 'branch', 'Poznań'), (3, 1, 'branch', 'Wrocław');
SELECT crm.user_unit('regress_tcf_agent', 2);

INSERT INTO crm.custom_field (id, name, type) VALUES
    (1, 'PESEL współmałżonka', 'pesel'), (2, 'NIP pracodawcy', 'nip'),
    (3, 'REGON oddziału', 'regon'), (4, 'Uwagi', 'text'), (5, 'Liczba aut', 'number');
SELECT regress.sync_identities();
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.custom_field (name, type) VALUES ('Konto', 'iban')$$);
-- a field's type stays what it was
SELECT * FROM regress.error_of($$UPDATE crm.custom_field SET type = 'text' WHERE id = 1$$);
INSERT INTO crm.client (id, first_name, last_name, city, unit_id) VALUES
    (1, 'Grzegorz', 'Wiśniewski', 'Poznań', 2),
    (2, 'Grzegorz', 'Wiśniewski', 'Poznań', 2),
    (3, 'Jadwiga', 'Kaczmarek', 'Wrocław', 3),
    (4, 'Bożena', 'Pawłowska', 'Poznań', 2);
SELECT regress.sync_identities();

-- crm.set_custom_value(): any accepted format, kept as the digits
SELECT crm.set_custom_value(1, 'PESEL współmałżonka', '440514-01359'),
       crm.set_custom_value(ARRAY[1, 2], 'nip pracodawcy', 'PL 526-000-12-46'),
       crm.set_custom_value(1, 'Uwagi', ' 526-000-12-46 ');
-- an invalid value: the type's error, with its DETAIL and HINT
SELECT * FROM regress.error_of($$SELECT crm.set_custom_value(1, 'PESEL współmałżonka', '44051401358')$$);
SELECT * FROM regress.error_of($$SELECT crm.set_custom_value(1, 'REGON oddziału', '12345678')$$);
SELECT * FROM regress.error_of($$SELECT crm.set_custom_value(1, 'NIP pracodawcy', 'brak')$$);
-- crm.bulk_set_custom_value()
SELECT crm.bulk_set_custom_value(ARRAY[2, 3], 'REGON oddziału', '123-456-785');
SELECT * FROM regress.error_of($$SELECT crm.bulk_set_custom_value(ARRAY[2, 3], 'REGON oddziału', '123456784')$$);
-- INSERT and UPDATE of crm.custom_value: checked, made canonical
INSERT INTO crm.custom_value (client_id, field_id, text_value) VALUES
    (3, 1, '850205 00028'), (3, 4, 'dowolny tekst 123'), (4, 2, '1234563218');
SELECT * FROM regress.error_of($$INSERT INTO crm.custom_value (client_id, field_id, text_value) VALUES (2, 1, '85020500027')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.custom_value (client_id, field_id, number_value) VALUES (2, 1, 85020500028)$$);
UPDATE crm.custom_value SET text_value = ' 00222900016' WHERE client_id = 3 AND field_id = 1;
SELECT * FROM regress.error_of($$UPDATE crm.custom_value SET text_value = 'abc' WHERE client_id = 3 AND field_id = 1$$);
SELECT client_id, field, type, value, number_value, text_value FROM crm.client_custom_value ORDER BY client_id, field_id;

-- an agent writes them too (its own units' clients), by hand
SET ROLE regress_tcf_agent;
INSERT INTO crm.custom_value (client_id, field_id, text_value) VALUES (4, 1, '900723-01237');
SELECT * FROM regress.error_of($$INSERT INTO crm.custom_value (client_id, field_id, text_value) VALUES (4, 3, '123456784')$$);
SELECT crm.set_custom_value(4, 'REGON oddziału', '12-34-56-78-5');
SELECT client_id, field, value FROM crm.client_custom_value ORDER BY client_id, field_id;
RESET ROLE;

-- search: a value in any format finds the digits; patterns; missing values
SELECT t.f AS filter, ARRAY(SELECT c.id FROM crm.client_search(t.f::jsonb) c ORDER BY c.id) AS ids
FROM (VALUES
    ('{"custom:PESEL współmałżonka": "440514-01359"}'),
    ('{"custom:pesel współmałżonka": "85020500028"}'),
    ('{"custom:PESEL współmałżonka": "00222900016"}'),
    ('{"custom:NIP pracodawcy": "526-000-12-46"}'),
    ('{"custom:NIP pracodawcy": ["PL5260001246", "123-456-32-18"]}'),
    ('{"custom:REGON oddziału": "123 456 785"}'),
    ('{"custom:PESEL współmałżonka": "4405%"}'),
    ('{"custom:PESEL współmałżonka": null}'),
    ('{"custom:Uwagi": "dowolny%"}')) AS t(f);
SELECT * FROM regress.error_of($$SELECT * FROM crm.client_search('{"custom:PESEL współmałżonka": "123"}')$$);

-- an import: a bad PESEL, NIP or REGON is a rejected row with its reason
SELECT crm.import_begin(ARRAY['Imię', 'Nazwisko', 'PESEL małżonka', 'NIP pracodawcy', 'REGON'], 'typed.csv') AS batch \gset
INSERT INTO pg_temp.crm_import VALUES
    ('Ewa', 'Kamińska', '90072301237', '526 000 12 46', '123456785'),
    ('Jerzy', 'Lewandowski', '90072301238', '', ''),
    ('Małgorzata', 'Szymańska', '', 'PL1234563218', '12345678'),
    ('Paweł', 'Woźniak', '', '', '');
\set mapping '{"first_name": "Imię", "last_name": "Nazwisko", "unit_id": {"value": "2"}, "custom": {"PESEL współmałżonka": "PESEL małżonka", "nip pracodawcy": "NIP pracodawcy", "REGON oddziału": "REGON"}}'
SELECT row_no, verdict, reasons, custom FROM crm.import_preview(:batch, :'mapping', 10);
-- a constant that no row could take is refused before anything is read
SELECT * FROM regress.error_of(format('SELECT crm.import_preview(%s, %L)', :batch,
    '{"last_name": "Nazwisko", "custom": {"NIP pracodawcy": {"value": "526-000-12-47"}}}'));
SELECT crm.import_apply(:batch, :'mapping', find_duplicates => false) - 'batch_id' AS applied;
SELECT c.last_name, v.field, v.value
FROM crm.client c JOIN crm.client_custom_value v ON v.client_id = c.id
WHERE c.id > 4 ORDER BY c.last_name, v.field_id;

-- a merge: a value the target lacks is taken from the source, one it has
-- stays unless the source's is chosen
SELECT crm.set_custom_value(2, 'NIP pracodawcy', '123-456-32-18');
SELECT client_id, field, value FROM crm.client_custom_value WHERE client_id IN (1, 2) ORDER BY client_id, field_id;
SELECT crm.merge_client(2, 1, '{"custom:NIP pracodawcy": 2}') AS merge_id \gset
SELECT client_id, field, value FROM crm.client_custom_value WHERE client_id IN (1, 2) ORDER BY client_id, field_id;
SELECT field_values FROM crm.merge_log WHERE id = :merge_id;
SELECT crm.unmerge(:merge_id) AS restored;
SELECT client_id, field, value FROM crm.client_custom_value WHERE client_id IN (1, 2) ORDER BY client_id, field_id;

SELECT regress.reset();
DROP OWNED BY regress_tcf_agent;
DROP ROLE regress_tcf_agent;
