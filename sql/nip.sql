--
-- crm.nip: 10 digits, weights 6,5,7,2,3,4,5,6,7 mod 11; remainder 10 never valid
--

-- the formats people type: dashes, spaces, the PL prefix in any case
SELECT v AS input, v::crm.nip AS nip, crm.nip_format(v::crm.nip) AS formatted
FROM (VALUES ('5260001246'), ('526-000-12-46'), ('526-00-01-246'), ('526 000 12 46'),
             ('PL5260001246'), ('pl5260001246'), ('Pl 526-000-12-46'), ('pL-5260001246'),
             ('  PL 526 000 12 46  '), ('1234563218'), ('7770002895')) AS t(v);

-- all zeros passes the checksum (the algorithm allows it; see doc/types.md)
SELECT '0000000000'::crm.nip AS nip;

SELECT 'PL 526-000-12-47'::crm.nip;
SELECT 'DE5260001246'::crm.nip;

-- refusals
SELECT v AS input, e.*
FROM (VALUES (''), ('PL'), ('526000124'), ('52600012460'), ('5260001247'),
             ('1234560020'),           -- remainder 10: no check digit fits
             ('1234560021'),
             ('DE5260001246'), ('PLPL5260001246'), ('5260001246PL'), ('526PL0001246'),
             ('P5260001246'), ('PL-'), ('-PL5260001246'), ('526.000.12.46'),
             ('526/000/12/46')) AS t(v),
     regress.input_error(v, 'crm.nip') AS e;

SELECT v AS input, crm.is_valid_nip(v) AS valid
FROM (VALUES ('5260001246'), ('PL 526-000-12-46'), ('5260001247'), ('1234560020'),
             ('DE5260001246'), (NULL)) AS t(v);

-- why a text is no NIP: the type's DETAIL, NULL when valid (for staging tables)
SELECT v AS input, crm.nip_problem(v) AS problem,
       crm.nip_problem(v) IS NOT DISTINCT FROM e.err_detail AS same_as_error
FROM (VALUES ('PL 526-000-12-46'), ('5260001247'), ('1234560020'), ('526.000.12.46'), (NULL)) AS t(v)
     LEFT JOIN LATERAL regress.input_error(v, 'crm.nip') e ON true;

SELECT NULL::crm.nip AS nip, crm.nip_format(NULL) AS formatted;
