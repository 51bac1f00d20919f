--
-- What copy-paste brings: Unicode spaces and dashes, digits of other scripts.
-- (The database is UTF-8; identifier_encoding covers the others.)
--
SELECT label, v::crm.pesel AS pesel
FROM (VALUES ('no-break space',        E'440514\u00A001359'),
             ('narrow no-break space', E'440514\u202F01359'),
             ('ideographic space',     E'\u3000440514 01359\u3000'),
             ('em space',              E'440514\u200301359'),
             ('zero-width space',      E'440514\u200B01359'),
             ('byte order mark',       E'\uFEFF44051401359'),
             ('soft hyphen',           E'440514\u00AD01359'),
             ('en dash',               E'440514\u201301359'),
             ('em dash',               E'440514\u201401359'),
             ('non-breaking hyphen',   E'440514\u201101359'),
             ('minus sign',            E'440514\u221201359'),
             ('fullwidth digits',      E'\uFF14\uFF14\uFF10\uFF15\uFF11\uFF14\uFF10\uFF11\uFF13\uFF15\uFF19'),
             ('Arabic-Indic digits',   E'\u0664\u0664\u0660\u0665\u0661\u0664\u0660\u0661\u0663\u0665\u0669'),
             ('Devanagari digits',     E'\u096A\u096A\u0966\u096B\u0967\u096A\u0966\u0967\u0969\u096B\u096F'),
             ('mathematical bold',     E'\U0001D7D2\U0001D7D2\U0001D7CE\U0001D7D3\U0001D7CF\U0001D7D2\U0001D7CE\U0001D7CF\U0001D7D1\U0001D7D3\U0001D7D7'),
             ('mixed scripts',         E'44\uFF10514\u2013\u0660\u0661359')) AS t(label, v);

SELECT E'PL\u00A0526\u2013000\u201312\u201346'::crm.nip AS nip,
       E'\uFF11\uFF12\uFF13456785'::crm.regon AS regon;

-- digit-like characters that are not decimal digits are refused; positions
-- count characters, not bytes
SELECT label, e.err_code, e.err_detail
FROM (VALUES ('superscript two',     E'4405140135\u00B2'),
              ('circled digit one',   E'\u246044051401359'),
              ('Roman numeral',       E'4405140135\u2160'),
              ('letter after Polish', E'Łódź 44051401359'),
              ('emoji',               E'44051401359\U0001F600'),
              ('fraction',            E'4405140135\u00BD'),
              ('leading en dash',     E'\u201344051401359'),
              ('combining mark',      E'44051401359\u0301'),
              ('control character',   E'4405140\u000713599')) AS t(label, v),
     regress.input_error(v, 'crm.pesel') AS e;

SELECT crm.is_valid_pesel(E'\uFF14\uFF14\uFF10\uFF15\uFF11\uFF14\uFF10\uFF11\uFF13\uFF15\uFF19') AS fullwidth,
       crm.is_valid_nip(E'PL\u00A05260001246') AS nbsp,
       crm.is_valid_regon(E'123\u2013456\u2013785') AS en_dash;
