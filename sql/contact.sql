--
-- Contact points: phone numbers to E.164, e-mail addresses, default contacts
--
SELECT regress.reset();

-- phone numbers as people type them
SELECT input, crm.normalize_phone(input) AS e164
FROM (VALUES ('601234567'), ('601 234 567'), ('601-234-567'), ('601.234.567'),
             ('(22) 123 45 67'), ('22/123-45-67'), ('0 22 123 45 67'), ('022 123 45 67'),
             ('+48 601 234 567'), ('+48601234567'), ('+48 (22) 123-45-67'), ('(+48) 601 234 567'),
             ('0048 601 234 567'), ('0048601234567'), ('48 601 234 567'), ('48601234567'),
             ('  601 234 567  '), (E'601\u00A0234\u00A0567'), (E'601\u2013234\u2013567'),
             (E'\uFF16\uFF10\uFF11 234 567'), (E'\uFF0B48 601 234 567'), ('+49 30 1234567'),
             ('0049 30 1234567'), ('+1 (212) 555-0123'), ('+44 20 7946 0958'), ('+420 601 234 567'),
             ('+380 44 123 4567'), ('+7 495 123-45-67'), ('+353 1 234 5678'), ('+298 123456'),
             ('+86 10 1234 5678'), ('+48-601-234-567'), ('+ 48 601 234 567'),
             ('+44 (0)20 7946 0958'), ('+49 (0)30 1234567'), ('+48 (0) 601 234 567'),
             ('0044 (0)20 7946 0958'), ('(0) 22 123 45 67'),
             -- a trunk prefix typed without parentheses is dropped where no
             -- number starts with the digits it is typed with (GB 0, US 1,
             -- HU 06, JP 03 and 0120 but not 00), kept where numbers do
             -- start so (IT 06), unless only the rest has a possible length
             -- (RU 8 800)
             ('+44 020 7946 0958'), ('+1 1 212 555 0123'), ('+36 06 1 234 5678'),
             ('+81 03-1234-5678'), ('+81 0120-123-456'), ('+39 06 1234 5678'),
             ('+7 8 800 555 35 35'),
             -- lengths from libphonenumber's metadata: Austria 4-13 digits,
             -- Niue 4 or 7, the international freephone +800 8
             ('+43 1 2345'), ('+683 4002'), ('+800 1234 5678')) AS t(input);

-- refusals: 22P02 with what is wrong
SELECT input, e.err_code, e.err_message, e.err_detail, e.err_hint
FROM (VALUES (''), ('   '), ('phone'), ('601 234 56'), ('6012345678'), ('601 234 567 ext. 12'),
             ('601+234567'), ('++48 601 234 567'), ('+48 601 234 56'), ('+48 601 234 5678'),
             ('+0 123 456 789'), ('+49 301'), ('+1 234 567 890 123 456'), ('0048 22 123'),
             ('601#234#567'), ('601 234 567 0000000000000000000000000000000'),
             -- calling codes and lengths of the world's numbering plans
             ('+999 68047334'), ('+3'), ('0099 123 4567'), ('+44 20 79'), ('+44 0 0 20 7946 0958'),
             ('+1 212 555 012'), ('+420 601 234 56'), ('+49 30 1234 5678 9012'),
             ('+800 1234 567')) AS t(input),
     regress.error_of(format('SELECT crm.normalize_phone(%L)', input)) e;

-- the problem texts: the DETAIL of the error, NULL for a valid number
SELECT input, crm.phone_problem(input) AS problem
FROM (VALUES ('601 234 567'), ('+44 20 7946 0958'), ('+999 68047334'), ('+44 20 79'),
             ('+48 601 234 56'), ('phone'), (NULL)) AS t(input);
SELECT count(*) AS numbers,
       count(*) FILTER (WHERE crm.phone_problem(input) IS NOT DISTINCT FROM e.err_detail) AS same_text
FROM (VALUES ('601 234 567'), (''), ('phone'), ('601+234567'), ('6012345678'), ('+48 601 234 56'),
             ('+0 123'), ('+999 68047334'), ('+44 20 79'), ('+1 234 567 890 123 456'),
             ('+49 301')) AS t(input)
     LEFT JOIN LATERAL regress.error_of(format('SELECT crm.normalize_phone(%L)', input)) e ON true;

SELECT '601 234 56'::text AS typed, crm.normalize_phone('601 234 56');

SELECT input, crm.is_valid_phone(input) AS valid
FROM (VALUES ('601 234 567'), ('+48 601 234 56'), ('phone'), (NULL)) AS t(input);

-- e-mail addresses: trimmed, the domain lower-cased, the local part as typed
SELECT input, crm.normalize_email(input) AS normalized
FROM (VALUES ('jan.kowalski@example.com'), ('  Jan.Kowalski@Example.COM  '), (E'\u00A0anna@WP.PL\t'),
             ('biuro+crm@firma.com.pl'), ('o''brien@example.ie'), ('zofia@ŁÓDŹ.PL'), ('józef@poczta.pl'),
             ('a@b.co'), ('x_y-z@sub-domain.example.org'), ('user@xn--d1acufc.xn--p1ai')) AS t(input);

SELECT left(input, 40) AS input, e.err_code, left(e.err_message, 60) AS err_message, e.err_detail
FROM (VALUES (''), ('  '), ('jan.kowalski'), ('jan@kowalski@example.com'), ('@example.com'),
             ('jan@'), ('jan kowalski@example.com'), ('jan@example'), ('.jan@example.com'),
             ('jan.@example.com'), ('jan..k@example.com'), ('jan@.example.com'), ('jan@example..com'),
             ('jan@example.com.'), ('jan@-example.com'), ('jan@example-.com'), ('jan@example.123'),
             ('jan@exa_mple.com'), ('"jan"@example.com'), ('jan@[192.168.0.1]'),
             (repeat('x', 65) || '@example.com'), ('jan@' || repeat('x', 64) || '.com'),
             ('jan@' || repeat('abcdefghi.', 26) || 'pl')) AS t(input),
     regress.error_of(format('SELECT crm.normalize_email(%L)', input)) e;

SELECT 'jan@example'::text AS typed, crm.normalize_email('jan@example');

SELECT input, crm.is_valid_email(input) AS valid
FROM (VALUES ('jan@example.com'), ('jan@example'), (NULL)) AS t(input);

SELECT input, crm.email_problem(input) AS problem,
       crm.email_problem(input) IS NOT DISTINCT FROM e.err_detail AS same_as_error
FROM (VALUES ('jan@example.com'), ('jan@example'), ('jan'), ('jan@exa_mple.com'), (NULL)) AS t(input)
     LEFT JOIN LATERAL regress.error_of(format('SELECT crm.normalize_email(%L)', input)) e ON true;

--
-- crm.contact: normalized on write, exactly one default of each kind
--
INSERT INTO crm.client (id, first_name, last_name) VALUES (1, 'Jan', 'Kowalski'), (2, 'Anna', 'Nowak');
INSERT INTO crm.contact (client_id, kind, value) VALUES
    (1, 'phone', '601 234 567'), (1, 'phone', '(22) 123-45-67'),
    (1, 'email', ' Jan.Kowalski@Example.COM ');
SELECT client_id, kind, value, is_default FROM crm.contact ORDER BY id;

-- the same number typed differently is the same contact
INSERT INTO crm.contact (client_id, kind, value) VALUES (1, 'phone', '+48 601-234-567');
-- an invalid one is refused
INSERT INTO crm.contact (client_id, kind, value) VALUES (1, 'phone', '123');
INSERT INTO crm.contact (client_id, kind, value) VALUES (1, 'email', 'jan.kowalski(at)example.com');

-- a new default takes over
INSERT INTO crm.contact (client_id, kind, value, is_default) VALUES (1, 'phone', '+49 30 1234567', true);
SELECT client_id, kind, value, is_default FROM crm.contact WHERE client_id = 1 ORDER BY id;
UPDATE crm.contact SET is_default = true WHERE value = '+48221234567';
SELECT client_id, kind, value, is_default FROM crm.contact WHERE client_id = 1 ORDER BY id;

-- deleting the default makes the oldest remaining one the default
DELETE FROM crm.contact WHERE value = '+48221234567';
SELECT client_id, kind, value, is_default FROM crm.contact WHERE client_id = 1 ORDER BY id;

-- unsetting the only default puts it back: while a client has contacts of a
-- kind, one of them is the default
UPDATE crm.contact SET is_default = false WHERE client_id = 1 AND kind = 'email';
SELECT client_id, kind, value, is_default FROM crm.contact WHERE client_id = 1 AND kind = 'email';

-- several at once: the first becomes the default
INSERT INTO crm.contact (client_id, kind, value) VALUES
    (2, 'email', 'anna@example.com'), (2, 'email', 'a.nowak@firma.pl');
-- and of two defaults in one statement, the last one named wins
INSERT INTO crm.contact (client_id, kind, value, is_default) VALUES
    (2, 'phone', '500 100 200', true), (2, 'phone', '500 100 300', true);
SELECT client_id, kind, value, is_default FROM crm.contact WHERE client_id = 2 ORDER BY id;
SELECT client_id, kind, count(*) FILTER (WHERE is_default) AS defaults
FROM crm.contact GROUP BY 1, 2 ORDER BY 1, 2;

-- a contact moved to another client does not take that client's default
UPDATE crm.contact SET client_id = 2 WHERE client_id = 1 AND kind = 'phone' AND is_default;
SELECT client_id, kind, value, is_default FROM crm.contact ORDER BY client_id, kind, id;

-- choosing the default among all of a client's phones in one statement
UPDATE crm.contact SET is_default = (value = '+48500100200') WHERE client_id = 2 AND kind = 'phone';
SELECT value, is_default FROM crm.contact WHERE client_id = 2 AND kind = 'phone' ORDER BY id;

-- rows inserted together keep the flags they name, whatever their order
-- (this is how pg_restore brings them back)
INSERT INTO crm.client (id, last_name) VALUES (3, 'Zieliński');
INSERT INTO crm.contact (client_id, kind, value, is_default) VALUES
    (3, 'phone', '600 000 001', false), (3, 'phone', '600 000 002', true), (3, 'phone', '600 000 003', false);
SELECT value, is_default FROM crm.contact WHERE client_id = 3 ORDER BY id;
-- also when a row without the flag comes first (written as the client's first
-- default, then replaced by the default named after it) and ids are not in
-- the order of the rows
INSERT INTO crm.client (id, last_name) VALUES (4, 'Wójcik');
INSERT INTO crm.contact (id, client_id, kind, value, is_default) VALUES
    (1003, 4, 'phone', '600 000 013', false), (1001, 4, 'phone', '600 000 011', true),
    (1002, 4, 'phone', '600 000 012', false);
SELECT id, value, is_default FROM crm.contact WHERE client_id = 4 ORDER BY id;
DELETE FROM crm.client WHERE id = 4;

-- changing a contact's kind, and deleting all of a kind
UPDATE crm.contact SET kind = 'email', value = 'z@example.com' WHERE value = '+48600000002';
SELECT kind, value, is_default FROM crm.contact WHERE client_id = 3 ORDER BY id;
DELETE FROM crm.contact WHERE client_id = 3 AND kind = 'phone';
SELECT kind, value, is_default FROM crm.contact WHERE client_id = 3 ORDER BY id;

-- importing with ON CONFLICT DO NOTHING, naming the conflict or not (the
-- local part of an address keeps its case: Z@ and z@ are two addresses)
INSERT INTO crm.contact (client_id, kind, value) VALUES (3, 'email', 'Z@Example.com')
ON CONFLICT (client_id, kind, value) DO NOTHING;
SELECT err_code, err_message FROM regress.error_of(
    $$INSERT INTO crm.contact (client_id, kind, value) VALUES (3, 'email', 'z@example.com') ON CONFLICT DO NOTHING$$);
SELECT count(*) AS emails FROM crm.contact WHERE client_id = 3;

-- contact persons and interactions normalize their phones and e-mails too
INSERT INTO crm.contact_person (client_id, first_name, last_name, phone, email)
VALUES (1, 'Ewa', 'Kowalska', '0048 (12) 345 67 89', 'Ewa@Firma.PL')
RETURNING phone, email;

SELECT regress.reset();
