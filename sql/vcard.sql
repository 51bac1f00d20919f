--
-- vcard: a client's business card as vCard 4.0 (WB-5): escaping, folding
-- at 75 octets of UTF-8, CRLF; the outbox an application sends from.
-- test/vcard.py reads the cards with a parser crm did not write.
--
SELECT regress.reset();

-- escaping (RFC 6350 3.4): \ , ; and line breaks
SELECT crm_internal.vcard_escape(E'a\\b,c;d\ne\r\nf\rg') AS escaped;
SELECT crm_internal.vcard_escape('') AS empty, crm_internal.vcard_escape(NULL) IS NULL AS null_stays;
-- folding: 75 octets a line, continuation lines start with a space and
-- hold 74 more; a line of exactly 75 octets is not folded
SELECT replace(crm_internal.vcard_line('NOTE', repeat('x', 70)), E'\r\n', '<CRLF>') AS exactly_75;
SELECT replace(crm_internal.vcard_line('NOTE', repeat('x', 71)), E'\r\n', '<CRLF>') AS folded_76;
-- long Polish text: two-octet letters are never split, every physical line
-- has at most 75 octets and only a continuation starts with a space
SELECT crm_internal.vcard_line('NOTE', repeat('Zażółć gęślą jaźń. ', 12)) AS polish \gset
SELECT n, octet_length(l) AS octets, left(l, 1) = ' ' AS continues, l
FROM unnest(string_to_array(rtrim(:'polish', E'\r\n'), E'\r\n')) WITH ORDINALITY AS x(l, n);
-- unfolded (CRLF and one space removed), it is the line again
SELECT replace(rtrim(:'polish', E'\r\n'), E'\r\n ', '') = 'NOTE:' || repeat('Zażółć gęślą jaźń. ', 12) AS unfolds;
-- four-octet characters (emoji) too
SELECT max(octet_length(l)) AS longest, bool_and(convert_to(l, 'UTF8') IS NOT NULL) AS whole
FROM unnest(string_to_array(rtrim(crm_internal.vcard_line('NOTE', repeat('🚗ż', 40)), E'\r\n'), E'\r\n')) AS l;
SELECT * FROM regress.error_of($$SELECT crm_internal.vcard_line('', 'x')$$);

-- a person with phones, e-mails, an address with a comma and a semicolon
INSERT INTO crm.client (id, first_name, last_name, city, postal_code, address) VALUES
    (1, 'Zdzisław', 'Brzęczyszczykiewicz-Wąsowicz', 'Kraków', '30-001',
     'ul. Świętego Floriana 12/4; klatka B, II piętro, wejście od podwórza (domofon 14)');
INSERT INTO crm.contact (client_id, kind, value, is_default, label) VALUES
    (1, 'phone', '601 234 567', true, 'komórka'), (1, 'phone', '12 345 67 89', false, 'praca'),
    (1, 'email', 'Zdzislaw.B@Example.PL', true, NULL);
INSERT INTO crm.client (id, kind, company_name, display_name, city) VALUES
    (2, 'company', 'Auto-Serwis "Łoś", Kowalski; Nowak sp.j.', 'Auto-Serwis Łoś', 'Gdańsk');
INSERT INTO crm.client (id, first_name, last_name) VALUES (3, NULL, 'Nowak');
SELECT regress.sync_identities();
-- (REV, the time of the last change, shown as <updated_at>)
CREATE FUNCTION pg_temp.shown(card text) RETURNS text LANGUAGE sql
    RETURN regexp_replace(replace(card, E'\r\n', E'\n'), 'REV:\d{8}T\d{6}Z', 'REV:<updated_at>');
SELECT pg_temp.shown(crm.vcard(1)) AS card_1;
SELECT pg_temp.shown(crm.vcard(2)) AS card_2;
SELECT pg_temp.shown(crm.vcard(3)) AS card_3;
SELECT crm.vcard(1) LIKE '%' || to_char((SELECT updated_at FROM crm.client WHERE id = 1) AT TIME ZONE 'UTC', '"REV:"YYYYMMDD"T"HH24MISS"Z"') || '%' AS rev_is_updated_at;
-- every line ends in CRLF and has at most 75 octets
SELECT bool_and(octet_length(l) <= 75) AS short_lines, count(*) AS lines
FROM unnest(string_to_array(crm.vcard(1), E'\r\n')) AS l;
SELECT crm.vcard(1) LIKE E'%\r\n' AND crm.vcard(1) NOT LIKE E'%\r\n\r\n' AND replace(crm.vcard(1), E'\r\n', '') !~ E'[\r\n]' AS crlf_only;
SELECT * FROM regress.error_of($$SELECT crm.vcard(99)$$);
SELECT * FROM regress.error_of($$SELECT crm.vcard(NULL)$$);

--
-- the outbox: queued with the card as it is, notified, marked sent
--
SELECT crm.send_vcard(1, ' Biuro@Firma.PL ') AS outbox_id \gset
SELECT id, client_id, recipient, card = crm.vcard(1) AS card_is_the_clients, requested_by = current_user AS by_me,
       sent_at FROM crm.vcard_outbox;
SELECT * FROM regress.error_of($$SELECT crm.send_vcard(1, 'not an address')$$);
-- the card is crm's: neither an insert nor an update sets it
CREATE ROLE regress_vcard_agent NOLOGIN;
CREATE ROLE regress_vcard_other NOLOGIN;
SELECT crm.create_roles() IS NOT NULL AS roles;
SELECT crm.enable_row_security() IS NOT NULL AS row_security;
GRANT crm_agent TO regress_vcard_agent, regress_vcard_other;
INSERT INTO crm.unit (id, kind, name) VALUES (1, 'channel', 'Agencja'), (2, 'channel', 'Sieć');
UPDATE crm.client SET unit_id = 1;
SELECT crm.user_unit('regress_vcard_agent', 1), crm.user_unit('regress_vcard_other', 2);
SET ROLE regress_vcard_agent;
INSERT INTO crm.vcard_outbox (client_id, recipient, card, requested_by)
VALUES (2, 'jan@example.com', 'BEGIN:VCARD forged', 'someone_else') RETURNING id AS forged_id \gset
SELECT card = crm.vcard(2) AS card_is_the_clients, requested_by FROM crm.vcard_outbox WHERE id = :forged_id;
SELECT * FROM regress.error_of(format($$UPDATE crm.vcard_outbox SET card = 'x' WHERE id = %s$$, :outbox_id));
-- a card another role queued is not the agent's to mark sent (that would
-- stop its delivery): the role that queued it, or the sending application
SELECT * FROM regress.error_of(format($$UPDATE crm.vcard_outbox SET sent_at = now() WHERE id = %s$$, :outbox_id));
UPDATE crm.vcard_outbox SET sent_at = now() WHERE id = :forged_id AND sent_at IS NULL;
SELECT id, sent_at IS NOT NULL AS sent FROM crm.vcard_outbox ORDER BY id;
RESET ROLE;
-- a role of another unit sees no card and makes none
SET ROLE regress_vcard_other;
SELECT count(*) AS cards_seen FROM crm.vcard_outbox;
SELECT * FROM regress.error_of($$SELECT crm.vcard(1)$$);
SELECT * FROM regress.error_of($$SELECT crm.send_vcard(1, 'x@example.com')$$);
RESET ROLE;

SELECT regress.reset();
DROP OWNED BY regress_vcard_agent, regress_vcard_other;
DROP ROLE regress_vcard_agent, regress_vcard_other;
