--
-- Databases that are not UTF-8: the parsers read the server encoding.
--
SELECT current_database() AS regress_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS crm_latin2;
DROP DATABASE IF EXISTS crm_sql_ascii;
RESET client_min_messages;
CREATE DATABASE crm_latin2 TEMPLATE template0 ENCODING 'LATIN2' LC_COLLATE 'C' LC_CTYPE 'C';
CREATE DATABASE crm_sql_ascii TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C';

\c crm_latin2
SET client_encoding = 'UTF8';
CREATE EXTENSION crm;
-- a no-break space is byte 0xA0 in LATIN2; it is still a space
SELECT E'440514\u00A001359'::crm.pesel AS pesel, E'PL\u00A05260001246'::crm.nip AS nip,
       crm.is_valid_regon(E'123\u00A0456\u00A0785') AS regon_valid;
-- a Polish letter is named by its code point
SELECT 'Łódź 44051401359'::crm.pesel;

\c crm_sql_ascii
CREATE EXTENSION crm;
-- SQL_ASCII stores bytes as given; they are read as UTF-8
SELECT E'440514\xC2\xA001359'::crm.pesel AS pesel;
-- a byte that is not UTF-8 is named (the detail only: the message would
-- repeat the raw byte, which a UTF-8 client cannot show)
DO $$
DECLARE
    detail text;
    input text;
BEGIN
    FOREACH input IN ARRAY ARRAY[E'4405140\xC3(1359', E'4405140\xFF1359', E'\xE2\x80'] LOOP
        BEGIN
            PERFORM input::crm.pesel;
        EXCEPTION WHEN invalid_text_representation THEN
            GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
            RAISE NOTICE '%', detail;
        END;
    END LOOP;
END
$$;
SELECT crm.is_valid_pesel(E'4405140\xFF1359') AS invalid_byte;

\c :regress_db
DROP DATABASE crm_latin2;
DROP DATABASE crm_sql_ascii;
