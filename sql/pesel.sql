--
-- crm.pesel: 11 digits, checksum, birth date with the century in the month
--

-- valid values across all five centuries, with birth date and sex
SELECT v::crm.pesel AS pesel,
       crm.pesel_birth_date(v::crm.pesel) AS birth_date,
       crm.pesel_sex(v::crm.pesel) AS sex
FROM (VALUES ('44051401359'),          -- 1944-05-14, man
             ('85020500028'),          -- 1985-02-05, woman
             ('00810100019'),          -- 1800-01-01: month + 80
             ('99923100014'),          -- 1899-12-31
             ('00022800013'),          -- 1900-02-28
             ('88022900018'),          -- 1988-02-29, leap year
             ('00222900016'),          -- 2000-02-29: month + 20, 2000 is leap
             ('04222900014'),          -- 2004-02-29
             ('01270300018'),          -- 2001-07-03
             ('99323100016'),          -- 2099-12-31
             ('00410100017'),          -- 2100-01-01: month + 40
             ('00422800015'),          -- 2100-02-28
             ('99461500013'),          -- 2199-06-15
             ('00630100015'),          -- 2200-03-01: month + 60
             ('04822900012'),          -- 1804-02-29, leap year in the 1800s
             ('04622900016'),          -- 2204-02-29, leap year in the 2200s
             ('99723100018')) AS t(v); -- 2299-12-31

-- accepted formats: surrounding white space, inner spaces and dashes
SELECT v AS input, v::crm.pesel AS pesel
FROM (VALUES ('  44051401359  '), (E'\t44051401359\n'), ('440514 01359'),
             ('440514-01359'), ('44 05 14 013 59'), ('4-4-0-5-1-4-0-1-3-5-9'),
             ('44051401359 '), ('440514 - 01359'), ('440514--01359')) AS t(v);

-- the full error as psql shows it
SELECT '44051401358'::crm.pesel;
SELECT 'PESEL 44051401359'::crm.pesel;

-- every kind of refusal: SQLSTATE 22P02 with what is wrong in the detail
SELECT v AS input, e.*
FROM (VALUES (''), ('   '), ('4'), ('4405140135'), ('440514013599'), ('4405140135999999999'),
             ('4405140135x'), ('44O51401359'), ('+44051401359'), ('44051401359.'),
             ('-44051401359'), ('44051401359-'), ('44051401359 -'), ('4405 - '),
             ('44130101359'), ('44000101359'), ('44930101359'), ('44333101359'),
             ('85023000011'),          -- 1985-02-30
             ('00022900010'),          -- 1900-02-29: 1900 is not leap
             ('00422900012'),          -- 2100-02-29: 2100 is not leap
             ('00822900014'),          -- 1800-02-29: 1800 is not leap
             ('00622900018'),          -- 2200-02-29: 2200 is not leap
             ('85043100010'),          -- 1985-04-31
             ('85020000019'),          -- day 00
             ('44051401358'),          -- checksum
             ('44051401395')) AS t(v), -- two digits swapped
     regress.input_error(v, 'crm.pesel') AS e;

-- the non-raising test agrees with the type, and passes NULL through
SELECT v AS input, crm.is_valid_pesel(v) AS valid
FROM (VALUES ('44051401359'), (' 440514-01359 '), ('44051401358'), ('4405140135'),
             ('85023000011'), ('abc'), (''), (NULL)) AS t(v);

-- why a text is no PESEL: the type's DETAIL, NULL when valid (for staging tables)
SELECT v AS input, crm.pesel_problem(v) AS problem,
       crm.pesel_problem(v) IS NOT DISTINCT FROM e.err_detail AS same_as_error
FROM (VALUES ('44051401359'), ('4405140135'), ('44051401358'), ('85023000011'), ('44130101359'), ('4405140135x'), ('4405 - '), (NULL)) AS t(v)
     LEFT JOIN LATERAL regress.input_error(v, 'crm.pesel') e ON true;

-- NULL in, NULL out
SELECT NULL::crm.pesel AS pesel, crm.pesel_birth_date(NULL) AS birth_date,
       crm.pesel_sex(NULL) AS sex;

-- a table column refuses bad rows and keeps the good ones canonical
CREATE TABLE pesel_t (id int, p crm.pesel);
INSERT INTO pesel_t VALUES (1, '440514 01359'), (2, '85020500028');
INSERT INTO pesel_t VALUES (3, '85020500029');
SELECT * FROM pesel_t ORDER BY id;
DROP TABLE pesel_t;
