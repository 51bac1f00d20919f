--
-- Duplicates: exact criteria (DU-1) and incoming-call identification (CL-8)
--
SELECT regress.reset();

-- how text compares: trimmed, single-spaced, case folded (diacritics kept)
SELECT input, crm.fold_text(input) AS folded
FROM (VALUES ('  Kowalski  '), (E'KOWALSKI\u00A0JAN'), (E'kowalski \t jan'), ('ŁÓDŹ'), ('Łódź'),
             ('Lodz'), ('Straße'), ('ǅ'), (''), ('   ')) AS t(input);
SELECT crm.fold_text(NULL) IS NULL AS null_in_null_out;

INSERT INTO crm.client (id, first_name, last_name, city, pesel, nip, kind, company_name, created_at) VALUES
    (1, 'Jan', 'Kowalski', 'Kraków', '44051401359', NULL, 'person', NULL, '2020-01-01'),
    (2, 'JAN', E'  KOWALSKI\u00A0', 'kraków', '440514-01359', NULL, 'person', NULL, '2021-01-01'),
    (3, 'Jan', 'Kowalski', 'Krakow', NULL, NULL, 'person', NULL, '2019-01-01'),
    (4, 'Anna', 'Nowak', 'Gdańsk', NULL, NULL, 'person', NULL, '2022-01-01'),
    (5, 'Anna', 'Nowak', 'Gdańsk', NULL, NULL, 'person', NULL, '2023-01-01'),
    (6, NULL, NULL, 'Kraków', NULL, 'PL 526-000-12-46', 'company', 'Agro-Pol', '2018-01-01'),
    (7, NULL, NULL, 'Kraków', NULL, '5260001246', 'company', 'AGRO-POL', '2024-01-01');
INSERT INTO crm.contact (client_id, kind, value) VALUES
    (1, 'phone', '601 234 567'), (2, 'phone', '+48 601-234-567'), (3, 'phone', '(22) 123 45 67'),
    (4, 'phone', '601 234 567'), (1, 'email', 'Jan.K@Example.com'), (2, 'email', 'jan.k@example.COM'),
    (6, 'email', 'biuro@agropol.pl'), (7, 'email', 'BIURO@agropol.pl');
INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'Karta', 'text'), (2, 'Punkty', 'number');
SELECT crm.set_custom_value(ARRAY[1, 2], 'Karta', ' GOLD '), crm.set_custom_value(3, 'Karta', 'gold'),
       crm.set_custom_value(ARRAY[4, 5], 'Punkty', '10');

-- DU-1: records agreeing on all the chosen criteria; the oldest marked
SELECT group_id, client_id, is_oldest, matched FROM crm.find_duplicates(ARRAY['first_name', 'last_name']);
SELECT group_id, client_id, is_oldest, matched FROM crm.find_duplicates(ARRAY['first_name', 'last_name', 'city']);
SELECT group_id, client_id, matched FROM crm.find_duplicates(ARRAY['pesel']);
SELECT group_id, client_id, matched FROM crm.find_duplicates(ARRAY['nip', 'email']);
SELECT group_id, client_id, matched FROM crm.find_duplicates(ARRAY['company_name']);
-- phones and e-mails: any of the client's, normalized; a client with two
-- phones can stand in two groups
SELECT group_id, client_id, matched FROM crm.find_duplicates(ARRAY['phone']);
SELECT group_id, client_id, matched FROM crm.find_duplicates(ARRAY['email', 'last_name']);
-- custom fields, by their type
SELECT group_id, client_id, matched FROM crm.find_duplicates(ARRAY['custom:karta']);
SELECT group_id, client_id, matched FROM crm.find_duplicates(ARRAY['custom:Punkty', 'last_name']);
-- seven criteria at most; empty values never agree
SELECT count(*) FROM crm.find_duplicates(ARRAY['first_name', 'last_name', 'city', 'phone', 'email',
                                               'custom:Karta', 'language']);
SELECT count(*) AS groups_on_empty_names FROM crm.find_duplicates(ARRAY['first_name']) WHERE client_id IN (6, 7);
-- hidden clients are not duplicates
SELECT crm.hide_client(2, 'test');
SELECT group_id, client_id FROM crm.find_duplicates(ARRAY['pesel']);
SELECT crm.unhide_client(2);

SELECT * FROM regress.error_of($$SELECT * FROM crm.find_duplicates(ARRAY[]::text[])$$);
SELECT * FROM regress.error_of($$SELECT * FROM crm.find_duplicates(ARRAY['first_name','last_name','city','phone','email','pesel','nip','regon'])$$);
SELECT * FROM regress.error_of($$SELECT * FROM crm.find_duplicates(ARRAY['city', 'city'])$$);
SELECT * FROM regress.error_of($$SELECT * FROM crm.find_duplicates(ARRAY['shoe_size'])$$);
SELECT * FROM regress.error_of($$SELECT * FROM crm.find_duplicates(ARRAY['created_at'])$$);
SELECT * FROM regress.error_of($$SELECT * FROM crm.find_duplicates(ARRAY['custom:Wzrost'])$$);
SELECT * FROM regress.error_of($$SELECT * FROM crm.find_duplicates(NULL)$$);

-- CL-8: an incoming number, typed in any format, finds the clients having it
SELECT input, array(SELECT crm.identify_phone(input)) AS clients
FROM (VALUES ('601234567'), ('+48 601 234 567'), ('0048601234567'), ('22 123 45 67'), ('500 000 000')) AS t(input);
SELECT crm.hide_client(4, 'test');
SELECT array(SELECT crm.identify_phone('601 234 567')) AS visible_clients;
SELECT * FROM regress.error_of($$SELECT crm.identify_phone('hello')$$);
SELECT count(*) AS none_for_null FROM crm.identify_phone(NULL);

SELECT regress.reset();
