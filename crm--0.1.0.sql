/* crm--0.1.0.sql: install script of the crm extension */

\echo Use "CREATE EXTENSION crm" to load this file. \quit

-- The types and functions are for everyone; the tables are not: their
-- privileges are the DBA's to grant.
GRANT USAGE ON SCHEMA crm TO PUBLIC;

--------------------------------------------------------------------------
-- Identifier types: crm.pesel, crm.nip, crm.regon
--
-- The three share one design, so one loop creates what they share: an
-- 8-byte pass-by-value type stored as int8 (src/idparse.h tells the
-- encoding), its I/O functions, the validity test, comparison operators
-- backed by the built-in int8 functions, btree and hash operator classes
-- and casts from and to text.  Their own functions follow the loop.
--------------------------------------------------------------------------

DO $generate$
DECLARE
    t   record;
    op  record;
BEGIN
    FOR t IN
        SELECT * FROM (VALUES
            ('pesel', 'PESEL', 'Polish personal identity number PESEL: 11 digits, checksum and birth date checked'),
            ('nip',   'NIP',   'Polish tax identification number NIP: 10 digits, checksum checked'),
            ('regon', 'REGON', 'Polish business register number REGON: 9 or 14 digits, checksums checked')
        ) AS v(name, label, description)
    LOOP
        EXECUTE format('CREATE TYPE crm.%1$s', t.name);

        EXECUTE format($sql$
            CREATE FUNCTION crm.%1$s_in(cstring) RETURNS crm.%1$s
                AS 'MODULE_PATHNAME', '%1$s_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            CREATE FUNCTION crm.%1$s_out(crm.%1$s) RETURNS cstring
                AS 'MODULE_PATHNAME', '%1$s_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            CREATE FUNCTION crm.%1$s_recv(internal) RETURNS crm.%1$s
                AS 'MODULE_PATHNAME', '%1$s_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            CREATE FUNCTION crm.%1$s_send(crm.%1$s) RETURNS bytea
                AS 'MODULE_PATHNAME', '%1$s_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

            CREATE TYPE crm.%1$s (
                INPUT = crm.%1$s_in,
                OUTPUT = crm.%1$s_out,
                RECEIVE = crm.%1$s_recv,
                SEND = crm.%1$s_send,
                LIKE = pg_catalog.int8,
                CATEGORY = 'U'
            );
            COMMENT ON TYPE crm.%1$s IS %3$L;
            COMMENT ON FUNCTION crm.%1$s_in(cstring) IS 'I/O: parse a %2$s from text';
            COMMENT ON FUNCTION crm.%1$s_out(crm.%1$s) IS 'I/O: the %2$s as its digits';
            COMMENT ON FUNCTION crm.%1$s_recv(internal) IS 'I/O: binary input, checked as text input is';
            COMMENT ON FUNCTION crm.%1$s_send(crm.%1$s) IS 'I/O: binary output (the int8 wire format)';

            CREATE FUNCTION crm.is_valid_%1$s(text) RETURNS boolean
                AS 'MODULE_PATHNAME', 'is_valid_%1$s' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            COMMENT ON FUNCTION crm.is_valid_%1$s(text) IS
                'true if the text is a valid %2$s, in any accepted format; never raises an error';

            CREATE CAST (text AS crm.%1$s) WITH INOUT;
            CREATE CAST (crm.%1$s AS text) WITH INOUT AS ASSIGNMENT;
            COMMENT ON CAST (text AS crm.%1$s) IS 'parse and check a %2$s';
            COMMENT ON CAST (crm.%1$s AS text) IS 'the %2$s as its digits';

            CREATE FUNCTION crm.%1$s_cmp(crm.%1$s, crm.%1$s) RETURNS integer
                AS 'btint8cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
            CREATE FUNCTION crm.%1$s_sortsupport(internal) RETURNS void
                AS 'btint8sortsupport' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
            CREATE FUNCTION crm.%1$s_hash(crm.%1$s) RETURNS integer
                AS 'hashint8' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
            CREATE FUNCTION crm.%1$s_hash_extended(crm.%1$s, bigint) RETURNS bigint
                AS 'hashint8extended' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
            COMMENT ON FUNCTION crm.%1$s_cmp(crm.%1$s, crm.%1$s) IS 'btree support: compare two %2$s values';
            COMMENT ON FUNCTION crm.%1$s_sortsupport(internal) IS 'btree support: sort support';
            COMMENT ON FUNCTION crm.%1$s_hash(crm.%1$s) IS 'hash support: hash a %2$s';
            COMMENT ON FUNCTION crm.%1$s_hash_extended(crm.%1$s, bigint) IS 'hash support: hash a %2$s with a seed';
            $sql$, t.name, t.label, t.description);

        FOR op IN
            SELECT * FROM (VALUES
                ('eq', '=',  'int8eq', '=',  '<>', 'eqsel',       'eqjoinsel',       ', HASHES, MERGES', 'equal'),
                ('ne', '<>', 'int8ne', '<>', '=',  'neqsel',      'neqjoinsel',      '',                 'not equal'),
                ('lt', '<',  'int8lt', '>',  '>=', 'scalarltsel', 'scalarltjoinsel', '',                 'less than'),
                ('le', '<=', 'int8le', '>=', '>',  'scalarlesel', 'scalarlejoinsel', '',                 'less than or equal'),
                ('gt', '>',  'int8gt', '<',  '<=', 'scalargtsel', 'scalargtjoinsel', '',                 'greater than'),
                ('ge', '>=', 'int8ge', '<=', '<',  'scalargesel', 'scalargejoinsel', '',                 'greater than or equal')
            ) AS v(fn, oper, internal, commutator, negator, rest, joinsel, extra, meaning)
        LOOP
            EXECUTE format($sql$
                CREATE FUNCTION crm.%1$s_%2$s(crm.%1$s, crm.%1$s) RETURNS boolean
                    AS %3$L LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
                COMMENT ON FUNCTION crm.%1$s_%2$s(crm.%1$s, crm.%1$s) IS 'implementation of %4$s operator';
                CREATE OPERATOR crm.%4$s (
                    LEFTARG = crm.%1$s, RIGHTARG = crm.%1$s,
                    FUNCTION = crm.%1$s_%2$s,
                    COMMUTATOR = OPERATOR(crm.%5$s), NEGATOR = OPERATOR(crm.%6$s),
                    RESTRICT = pg_catalog.%7$s, JOIN = pg_catalog.%8$s %9$s
                );
                COMMENT ON OPERATOR crm.%4$s (crm.%1$s, crm.%1$s) IS %10$L;
                $sql$, t.name, op.fn, op.internal, op.oper, op.commutator, op.negator,
                op.rest, op.joinsel, op.extra, op.meaning);
        END LOOP;

        EXECUTE format($sql$
            CREATE OPERATOR CLASS crm.%1$s_ops DEFAULT FOR TYPE crm.%1$s USING btree AS
                OPERATOR 1 crm.<,
                OPERATOR 2 crm.<=,
                OPERATOR 3 crm.=,
                OPERATOR 4 crm.>=,
                OPERATOR 5 crm.>,
                FUNCTION 1 crm.%1$s_cmp(crm.%1$s, crm.%1$s),
                FUNCTION 2 crm.%1$s_sortsupport(internal),
                -- equal values are bitwise equal: btree deduplication applies
                FUNCTION 4 pg_catalog.btequalimage(oid);
            CREATE OPERATOR CLASS crm.%1$s_ops DEFAULT FOR TYPE crm.%1$s USING hash AS
                OPERATOR 1 crm.=,
                FUNCTION 1 crm.%1$s_hash(crm.%1$s),
                FUNCTION 2 crm.%1$s_hash_extended(crm.%1$s, bigint);
            $sql$, t.name);
    END LOOP;
END
$generate$;

-- What each identifier tells --------------------------------------------

CREATE FUNCTION crm.pesel_birth_date(crm.pesel) RETURNS date
    AS 'MODULE_PATHNAME', 'pesel_birth_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.pesel_birth_date(crm.pesel) IS
    'birth date encoded in a PESEL (digits 1-6, the century in the month)';

CREATE FUNCTION crm.pesel_sex(crm.pesel) RETURNS text
    AS 'MODULE_PATHNAME', 'pesel_sex' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.pesel_sex(crm.pesel) IS
    'sex encoded in a PESEL: M (digit 10 odd) or F (even)';

CREATE FUNCTION crm.nip_format(crm.nip) RETURNS text
    AS 'MODULE_PATHNAME', 'nip_format' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.nip_format(crm.nip) IS
    'a NIP in the customary 123-456-32-18 grouping';

CREATE FUNCTION crm.regon_base(crm.regon) RETURNS crm.regon
    AS 'MODULE_PATHNAME', 'regon_base' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.regon_base(crm.regon) IS
    'the 9-digit REGON of the company a 14-digit REGON of a local unit belongs to (a 9-digit REGON is returned as it is)';

--------------------------------------------------------------------------
-- Contact points: normalization (src/contactnorm.c)
--------------------------------------------------------------------------

CREATE FUNCTION crm.normalize_phone(text) RETURNS text
    AS 'MODULE_PATHNAME', 'normalize_phone' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.normalize_phone(text) IS
    'a phone number in E.164 (+48601234567): +48 when no country prefix is typed; raises on an invalid number';

CREATE FUNCTION crm.is_valid_phone(text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'is_valid_phone' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.is_valid_phone(text) IS
    'true if crm.normalize_phone accepts the text; never raises an error';

CREATE FUNCTION crm.normalize_email(text) RETURNS text
    AS 'MODULE_PATHNAME', 'normalize_email' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.normalize_email(text) IS
    'an e-mail address trimmed, with its domain lower-cased; raises on an invalid address';

CREATE FUNCTION crm.is_valid_email(text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'is_valid_email' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.is_valid_email(text) IS
    'true if crm.normalize_email accepts the text; never raises an error';

--------------------------------------------------------------------------
-- The organisation's structure: channel > branch > department
--------------------------------------------------------------------------

CREATE TABLE crm.unit (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    parent_id   bigint REFERENCES crm.unit (id),
    kind        text NOT NULL CHECK (kind IN ('channel', 'branch', 'department')),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT unit_sibling_name_key UNIQUE NULLS NOT DISTINCT (parent_id, name)
);
CREATE INDEX unit_parent_id_idx ON crm.unit (parent_id);
COMMENT ON TABLE crm.unit IS
    'units of the organisation''s structure, a tree: channels contain branches, branches contain departments';
COMMENT ON COLUMN crm.unit.kind IS 'channel, branch or department; strictly below the parent''s kind';

CREATE FUNCTION crm.unit_rank(kind text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE kind WHEN 'channel' THEN 3 WHEN 'branch' THEN 2 WHEN 'department' THEN 1 END;
COMMENT ON FUNCTION crm.unit_rank(text) IS
    'level of a unit kind: channel 3, branch 2, department 1';

-- A child's kind is strictly below its parent's.  That also rules out
-- cycles: ranks strictly fall along every path.
CREATE FUNCTION crm.unit_check_kind() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parent_kind text;
    child record;
BEGIN
    IF NEW.parent_id IS NOT NULL THEN
        -- FOR SHARE: the parent's kind cannot change until this commits
        SELECT u.kind INTO parent_kind FROM crm.unit u WHERE u.id = NEW.parent_id FOR SHARE;
        -- a missing parent is the foreign key's to report
        IF FOUND AND crm.unit_rank(parent_kind) <= crm.unit_rank(NEW.kind) THEN
            RAISE EXCEPTION 'a % cannot be placed under a %', NEW.kind, parent_kind
                USING ERRCODE = 'check_violation',
                      DETAIL = format('Unit %s ("%s") would be a child of unit %s, a %s.',
                                      NEW.id, NEW.name, NEW.parent_id, parent_kind),
                      HINT = 'Channels contain branches and departments; branches contain departments.';
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.kind IS DISTINCT FROM OLD.kind THEN
        SELECT u.id, u.kind INTO child FROM crm.unit u
        WHERE u.parent_id = NEW.id AND crm.unit_rank(u.kind) >= crm.unit_rank(NEW.kind)
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'unit % cannot become a % while it contains a %', NEW.id, NEW.kind, child.kind
                USING ERRCODE = 'check_violation',
                      DETAIL = format('Unit %s is a %s and a child of unit %s.', child.id, child.kind, NEW.id),
                      HINT = 'Move or change the child units first.';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm.unit_check_kind() IS 'trigger: a unit''s kind is below its parent''s and above its children''s';
CREATE TRIGGER unit_check_kind BEFORE INSERT OR UPDATE OF parent_id, kind ON crm.unit
    FOR EACH ROW EXECUTE FUNCTION crm.unit_check_kind();

CREATE VIEW crm.unit_tree WITH (security_invoker = true) AS
WITH RECURSIVE tree AS (
    SELECT u.id, u.parent_id, u.kind, u.name, 1 AS depth,
           ARRAY[u.id] AS ancestors, u.name AS path
    FROM crm.unit u WHERE u.parent_id IS NULL
    UNION ALL
    SELECT u.id, u.parent_id, u.kind, u.name, t.depth + 1,
           t.ancestors || u.id, t.path || ' / ' || u.name
    FROM crm.unit u JOIN tree t ON u.parent_id = t.id
)
SELECT id, parent_id, kind, name, depth, ancestors, path FROM tree;
COMMENT ON VIEW crm.unit_tree IS
    'every unit with its depth, its ancestors'' ids from the root (itself last) and its path ("Channel / Branch / Department")';

CREATE FUNCTION crm.unit_contains(ancestor_id bigint, unit_id bigint) RETURNS boolean
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH RECURSIVE up AS (
        SELECT u.id, u.parent_id FROM crm.unit u WHERE u.id = unit_id
        UNION ALL
        SELECT u.id, u.parent_id FROM crm.unit u JOIN up ON u.id = up.parent_id
    )
    SELECT EXISTS (SELECT 1 FROM up WHERE up.id = ancestor_id);
END;
COMMENT ON FUNCTION crm.unit_contains(bigint, bigint) IS
    'true if unit_id is ancestor_id or lies below it in the structure';

--------------------------------------------------------------------------
-- Clients
--------------------------------------------------------------------------

CREATE TABLE crm.client (
    id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'company')),
    first_name      text,
    last_name       text,
    company_name    text,
    display_name    text NOT NULL,
    city            text,
    postal_code     text,
    address         text,
    pesel           crm.pesel,
    nip             crm.nip,
    regon           crm.regon,
    birth_date      date,
    language        text NOT NULL DEFAULT 'pl' CHECK (language IN ('pl', 'en', 'de', 'cs', 'ro')),
    external_id     text,
    unit_id         bigint REFERENCES crm.unit (id),
    owner           text,
    synced          boolean NOT NULL DEFAULT false,
    source          text NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    last_contact_at timestamptz,
    hidden_at       timestamptz,
    hidden_reason   text,
    anonymized_at   timestamptz,
    CONSTRAINT client_person_last_name CHECK (kind <> 'person' OR last_name IS NOT NULL OR anonymized_at IS NOT NULL),
    CONSTRAINT client_company_name CHECK (kind <> 'company' OR company_name IS NOT NULL OR anonymized_at IS NOT NULL),
    CONSTRAINT client_hidden_reason CHECK (hidden_reason IS NULL OR hidden_at IS NOT NULL),
    -- an anonymized client holds no personal data, ever again (crm.anonymize)
    CONSTRAINT client_anonymized CHECK (anonymized_at IS NULL OR (
        first_name IS NULL AND last_name IS NULL AND company_name IS NULL AND city IS NULL
        AND postal_code IS NULL AND address IS NULL AND pesel IS NULL AND nip IS NULL
        AND regon IS NULL AND birth_date IS NULL AND external_id IS NULL AND hidden_at IS NULL))
);
COMMENT ON TABLE crm.client IS
    'clients, persons and companies; identifiers are indexed but not unique: real bases hold duplicates';
COMMENT ON COLUMN crm.client.display_name IS
    'the name shown in lists: "first last" or the company name unless set otherwise';
COMMENT ON COLUMN crm.client.birth_date IS
    'taken from the PESEL when there is one (a contradiction is refused); typed for foreigners';
COMMENT ON COLUMN crm.client.owner IS 'the account manager: a role name';
COMMENT ON COLUMN crm.client.anonymized_at IS
    'set by crm.anonymize(): the client''s personal data is gone for good; the record stays for what the law keeps (policies, invoices)';
COMMENT ON COLUMN crm.client.synced IS 'the client''s data is complete and synchronized (merge rule MG-6)';
COMMENT ON COLUMN crm.client.source IS
    'how the client was created (default: the application_name of the session); read-only after insert';
COMMENT ON COLUMN crm.client.created_at IS 'read-only after insert';
COMMENT ON COLUMN crm.client.last_contact_at IS
    'the latest contact in crm.interaction (notifications aside); kept by a trigger, read-only';
COMMENT ON COLUMN crm.client.hidden_at IS
    'set by crm.hide_client(): the client left or withdrew consent; hidden clients drop out of the working views';

CREATE INDEX client_pesel_idx ON crm.client (pesel);
CREATE INDEX client_nip_idx ON crm.client (nip);
CREATE INDEX client_regon_idx ON crm.client (regon);
CREATE INDEX client_last_name_idx ON crm.client (lower(last_name) text_pattern_ops);
CREATE INDEX client_company_name_idx ON crm.client (lower(company_name) text_pattern_ops);
CREATE INDEX client_city_idx ON crm.client (lower(city) text_pattern_ops);
CREATE INDEX client_external_id_idx ON crm.client (external_id);
CREATE INDEX client_unit_id_idx ON crm.client (unit_id);
CREATE INDEX client_owner_idx ON crm.client (owner);
CREATE INDEX client_created_at_idx ON crm.client (created_at);

CREATE FUNCTION crm.client_default_display_name(kind text, first_name text, last_name text, company_name text)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE kind WHEN 'company' THEN company_name
                     ELSE concat_ws(' ', first_name, last_name) END;
COMMENT ON FUNCTION crm.client_default_display_name(text, text, text, text) IS
    'the display name a client gets unless one is set: "first last" for a person, the company name for a company';

-- System fields and derived fields.  Updates never change created_at and
-- source; last_contact_at always holds what the contact history says.
CREATE FUNCTION crm.client_before_write() RETURNS trigger
    LANGUAGE plpgsql
    -- compares PESELs, whose operators live in crm (writable by its owner only)
    SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    pesel_date date;
    old_default text;
BEGIN
    NEW.first_name := nullif(btrim(NEW.first_name), '');
    NEW.last_name := nullif(btrim(NEW.last_name), '');
    NEW.company_name := nullif(btrim(NEW.company_name), '');
    NEW.display_name := nullif(btrim(NEW.display_name), '');
    NEW.city := nullif(btrim(NEW.city), '');
    NEW.postal_code := nullif(btrim(NEW.postal_code), '');
    NEW.address := nullif(btrim(NEW.address), '');
    NEW.external_id := nullif(btrim(NEW.external_id), '');
    -- anonymization is for good, and only crm.anonymize() does it: its
    -- SECURITY DEFINER part runs as crm's owner (so does a restore)
    IF (TG_OP = 'INSERT' AND NEW.anonymized_at IS NOT NULL)
       OR (TG_OP = 'UPDATE' AND OLD.anonymized_at IS NULL AND NEW.anonymized_at IS NOT NULL) THEN
        IF NOT crm.runs_as_owner_of('crm.anonymize_crm_data(bigint, text)') THEN
            RAISE EXCEPTION 'anonymized_at is set by crm.anonymize() only'
                USING ERRCODE = 'insufficient_privilege',
                      HINT = format('Request a code with crm.anonymization_code(%s), then call crm.anonymize(%s, code).',
                                    NEW.id, NEW.id);
        END IF;
    END IF;
    IF NEW.anonymized_at IS NOT NULL THEN
        -- nothing to require of a record without personal data
        NULL;
    ELSIF NEW.kind = 'person' AND NEW.last_name IS NULL THEN
        RAISE EXCEPTION 'a person needs a last name'
            USING ERRCODE = 'check_violation',
                  HINT = 'Set last_name; for a company set kind = ''company'' and company_name.';
    ELSIF NEW.kind = 'company' AND NEW.company_name IS NULL THEN
        RAISE EXCEPTION 'a company needs a company name'
            USING ERRCODE = 'check_violation',
                  HINT = 'Set company_name; for a person set kind = ''person'' and last_name.';
    END IF;

    IF TG_OP = 'INSERT' THEN
        NEW.created_at := coalesce(NEW.created_at, now());
        NEW.updated_at := coalesce(NEW.updated_at, NEW.created_at);
        NEW.source := coalesce(nullif(btrim(NEW.source), ''),
                               nullif(current_setting('application_name'), ''), 'sql');
        NEW.display_name := coalesce(NEW.display_name,
            crm.client_default_display_name(NEW.kind, NEW.first_name, NEW.last_name, NEW.company_name));
    ELSE
        NEW.created_at := OLD.created_at;
        NEW.source := OLD.source;
        -- once anonymized, for good
        IF OLD.anonymized_at IS NOT NULL THEN
            NEW.anonymized_at := OLD.anonymized_at;
        END IF;
        -- only the contact history decides the last contact: whatever an
        -- update writes there (crm.interaction's trigger writes anything to
        -- ask) becomes the value the history gives
        IF NEW.last_contact_at IS DISTINCT FROM OLD.last_contact_at THEN
            NEW.last_contact_at := crm.client_last_contact(NEW.id);
        END IF;
        -- updated_at follows the client's data, not its system fields
        NEW.updated_at := CASE
            WHEN to_jsonb(NEW) - '{last_contact_at,updated_at}'::text[]
                 IS DISTINCT FROM to_jsonb(OLD) - '{last_contact_at,updated_at}'::text[]
            THEN now() ELSE OLD.updated_at END;
        -- the display name follows the names unless it was set otherwise
        old_default := crm.client_default_display_name(OLD.kind, OLD.first_name, OLD.last_name, OLD.company_name);
        IF NEW.display_name IS NULL
           OR (NEW.display_name = OLD.display_name AND OLD.display_name = old_default) THEN
            NEW.display_name :=
                crm.client_default_display_name(NEW.kind, NEW.first_name, NEW.last_name, NEW.company_name);
        END IF;
    END IF;

    IF NEW.anonymized_at IS NOT NULL THEN
        NEW.display_name := format('anonymized client %s', NEW.id);
    END IF;

    IF NEW.pesel IS NOT NULL THEN
        pesel_date := crm.pesel_birth_date(NEW.pesel);
        IF NEW.birth_date IS NULL
           OR (TG_OP = 'UPDATE' AND NEW.pesel IS DISTINCT FROM OLD.pesel
               AND NEW.birth_date IS NOT DISTINCT FROM OLD.birth_date) THEN
            NEW.birth_date := pesel_date;
        ELSIF NEW.birth_date <> pesel_date THEN
            RAISE EXCEPTION 'birth date % contradicts the PESEL', to_char(NEW.birth_date, 'YYYY-MM-DD')
                USING ERRCODE = 'check_violation',
                      DETAIL = format('PESEL %s encodes the birth date %s.',
                                      NEW.pesel, to_char(pesel_date, 'YYYY-MM-DD')),
                      HINT = 'Correct the PESEL or the birth date, or leave the birth date empty to take it from the PESEL.';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm.client_before_write() IS
    'trigger: trims names, fills display name and birth date, keeps the read-only system fields';
CREATE TRIGGER client_before_write BEFORE INSERT OR UPDATE ON crm.client
    FOR EACH ROW EXECUTE FUNCTION crm.client_before_write();

--------------------------------------------------------------------------
-- Contact points: any number of phones and e-mails, one default of each
--------------------------------------------------------------------------

CREATE TABLE crm.contact (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('phone', 'email')),
    value       text NOT NULL,
    is_default  boolean NOT NULL DEFAULT false,
    label       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contact_client_value_key UNIQUE (client_id, kind, value),
    -- at most one default, checked at commit: an UPDATE may set the new
    -- default before the trigger clears the old one
    CONSTRAINT contact_one_default EXCLUDE USING btree (client_id WITH =, kind WITH =)
        WHERE (is_default) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX contact_value_idx ON crm.contact (kind, value);
CREATE INDEX contact_value_lower_idx ON crm.contact (kind, lower(value) text_pattern_ops);
COMMENT ON TABLE crm.contact IS
    'phones (E.164) and e-mail addresses of clients; exactly one default of each kind while the client has any';
COMMENT ON COLUMN crm.contact.is_default IS
    'the default phone or e-mail; setting it on one row clears it on the others; kept at commit';
COMMENT ON COLUMN crm.contact.label IS 'free label: mobile, work, home...';

-- The default bookkeeping, in three steps:
--  1. before a write: lock the client's contacts (an advisory lock per
--     client, taken in id order, so no privilege is needed and concurrent
--     writers of one client's contacts queue); normalize the value; an
--     INSERT that names its row the default clears the old default at once
--     (so a restore, which inserts every row with its flag, keeps the right
--     one); a contact moved to a client that has a default is not its default;
--  2. after an UPDATE that makes a row the default: clear the others (after,
--     so that "SET is_default = (id = 5)" over all rows works);
--  3. at commit: a client that has contacts of a kind but no default of it
--     gets its oldest one as the default.
CREATE FUNCTION crm.contact_before_write() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('crm.contact', id))
    FROM (SELECT DISTINCT unnest(CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW.client_id]
                                            WHEN 'DELETE' THEN ARRAY[OLD.client_id]
                                            ELSE ARRAY[OLD.client_id, NEW.client_id] END) AS id
          ORDER BY 1) AS clients;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    -- an anonymized client takes no personal data again
    PERFORM crm.refuse_anonymized(c) FROM crm.client c WHERE c.id = NEW.client_id AND c.anonymized_at IS NOT NULL;

    IF TG_OP = 'INSERT' OR NEW.value IS DISTINCT FROM OLD.value OR NEW.kind IS DISTINCT FROM OLD.kind THEN
        NEW.value := CASE NEW.kind WHEN 'phone' THEN crm.normalize_phone(NEW.value)
                                   WHEN 'email' THEN crm.normalize_email(NEW.value)
                                   ELSE NEW.value END;
    END IF;
    IF TG_OP = 'INSERT' AND NEW.is_default THEN
        UPDATE crm.contact c SET is_default = false
        WHERE c.client_id = NEW.client_id AND c.kind = NEW.kind AND c.is_default;
    ELSIF TG_OP = 'UPDATE' AND NEW.is_default
          AND (NEW.client_id <> OLD.client_id OR NEW.kind <> OLD.kind)
          AND EXISTS (SELECT FROM crm.contact c
                      WHERE c.client_id = NEW.client_id AND c.kind = NEW.kind AND c.is_default
                        AND c.id <> NEW.id) THEN
        NEW.is_default := false;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm.contact_before_write() IS
    'trigger: locks the client''s contacts, normalizes phones and e-mails, lets an inserted default replace the old one';
CREATE TRIGGER contact_before_write BEFORE INSERT OR UPDATE OR DELETE ON crm.contact
    FOR EACH ROW EXECUTE FUNCTION crm.contact_before_write();

CREATE FUNCTION crm.contact_after_update() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT FROM crm.contact c WHERE c.id = NEW.id AND c.is_default) THEN
        UPDATE crm.contact c SET is_default = false
        WHERE c.client_id = NEW.client_id AND c.kind = NEW.kind AND c.is_default AND c.id <> NEW.id;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm.contact_after_update() IS
    'trigger: a contact made the default clears the client''s other default of its kind';
CREATE TRIGGER contact_after_update AFTER UPDATE OF is_default, client_id, kind ON crm.contact
    FOR EACH ROW WHEN (NEW.is_default) EXECUTE FUNCTION crm.contact_after_update();

CREATE FUNCTION crm.contact_keep_default() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    side record;
BEGIN
    FOR side IN
        SELECT DISTINCT s.client_id, s.kind
        FROM (SELECT NEW.client_id, NEW.kind WHERE TG_OP <> 'DELETE'
              UNION ALL
              SELECT OLD.client_id, OLD.kind WHERE TG_OP <> 'INSERT') AS s(client_id, kind)
    LOOP
        IF NOT EXISTS (SELECT FROM crm.contact c
                       WHERE c.client_id = side.client_id AND c.kind = side.kind AND c.is_default) THEN
            UPDATE crm.contact c SET is_default = true
            WHERE c.id = (SELECT min(o.id) FROM crm.contact o
                          WHERE o.client_id = side.client_id AND o.kind = side.kind);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm.contact_keep_default() IS
    'trigger, at commit: a client with contacts of a kind has a default of it (the oldest, unless one was chosen)';
CREATE CONSTRAINT TRIGGER contact_keep_default AFTER INSERT OR UPDATE OR DELETE ON crm.contact
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION crm.contact_keep_default();

--------------------------------------------------------------------------
-- Segments and campaigns
--------------------------------------------------------------------------

CREATE TABLE crm.segment (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE crm.segment IS 'segments group clients; a client can be in many';

CREATE TABLE crm.segment_member (
    segment_id  bigint NOT NULL REFERENCES crm.segment (id) ON DELETE CASCADE,
    client_id   bigint NOT NULL REFERENCES crm.client (id) ON DELETE CASCADE,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (segment_id, client_id)
);
CREATE INDEX segment_member_client_id_idx ON crm.segment_member (client_id);
COMMENT ON TABLE crm.segment_member IS 'which clients are in which segment';

CREATE TABLE crm.campaign (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    status      text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'active', 'finished')),
    starts_on   date,
    ends_on     date,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on >= starts_on)
);
COMMENT ON TABLE crm.campaign IS 'campaigns (sales, calling, mailing); a client can be in many';

CREATE TABLE crm.campaign_member (
    campaign_id bigint NOT NULL REFERENCES crm.campaign (id) ON DELETE CASCADE,
    client_id   bigint NOT NULL REFERENCES crm.client (id) ON DELETE CASCADE,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, client_id)
);
CREATE INDEX campaign_member_client_id_idx ON crm.campaign_member (client_id);
COMMENT ON TABLE crm.campaign_member IS 'which clients are in which campaign';

--------------------------------------------------------------------------
-- Custom fields: defined by an administrator, typed number or text
--------------------------------------------------------------------------

CREATE TABLE crm.custom_field (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    type        text NOT NULL CHECK (type IN ('number', 'text')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX custom_field_name_key ON crm.custom_field (lower(name));
COMMENT ON TABLE crm.custom_field IS
    'custom client fields: a field''s type (number or text) cannot change, only its name; deleting a field deletes its values';

CREATE FUNCTION crm.custom_field_keep_type() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'cannot change the type of custom field "%"', OLD.name
        USING ERRCODE = 'feature_not_supported',
              DETAIL = format('The field holds %s values; only its name can change.', OLD.type),
              HINT = format('Create a new %s field and copy the values into it.', NEW.type);
END
$$;
COMMENT ON FUNCTION crm.custom_field_keep_type() IS 'trigger: refuses to change a custom field''s type';
CREATE TRIGGER custom_field_keep_type BEFORE UPDATE OF type ON crm.custom_field
    FOR EACH ROW WHEN (NEW.type IS DISTINCT FROM OLD.type)
    EXECUTE FUNCTION crm.custom_field_keep_type();

CREATE TABLE crm.custom_value (
    client_id    bigint NOT NULL REFERENCES crm.client (id) ON DELETE CASCADE,
    field_id     bigint NOT NULL REFERENCES crm.custom_field (id) ON DELETE CASCADE,
    number_value numeric,
    text_value   text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, field_id),
    CONSTRAINT custom_value_one_value CHECK (num_nonnulls(number_value, text_value) = 1),
    CONSTRAINT custom_value_finite CHECK (number_value NOT IN ('NaN', 'Infinity', '-Infinity'))
);
CREATE INDEX custom_value_number_idx ON crm.custom_value (field_id, number_value);
CREATE INDEX custom_value_text_idx ON crm.custom_value (field_id, lower(text_value) text_pattern_ops);
COMMENT ON TABLE crm.custom_value IS
    'custom field values: number_value for number fields, text_value for text fields';

CREATE FUNCTION crm.custom_value_check_type() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    field crm.custom_field;
BEGIN
    -- an anonymized client takes no personal data again
    PERFORM crm.refuse_anonymized(c) FROM crm.client c WHERE c.id = NEW.client_id AND c.anonymized_at IS NOT NULL;
    SELECT * INTO field FROM crm.custom_field f WHERE f.id = NEW.field_id;
    IF FOUND AND (field.type = 'number') <> (NEW.number_value IS NOT NULL) THEN
        RAISE EXCEPTION 'custom field "%" holds % values', field.name, field.type
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('A value was written to %s.',
                                  CASE WHEN NEW.number_value IS NULL THEN 'text_value' ELSE 'number_value' END),
                  HINT = format('Write it to %s_value, or use crm.set_custom_value().', field.type);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm.custom_value_check_type() IS
    'trigger: a number field takes only number_value, a text field only text_value';
CREATE TRIGGER custom_value_check_type BEFORE INSERT OR UPDATE ON crm.custom_value
    FOR EACH ROW EXECUTE FUNCTION crm.custom_value_check_type();

-- Set (or, with NULL, clear) a custom field on many clients at once.
CREATE FUNCTION crm.set_custom_value(client_ids bigint[], field text, value text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f crm.custom_field;
    parsed numeric;
    missing bigint;
    n bigint;
BEGIN
    SELECT * INTO f FROM crm.custom_field cf WHERE lower(cf.name) = lower(field);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'custom field "%" does not exist', field
            USING ERRCODE = 'undefined_object',
                  HINT = 'Define it first: INSERT INTO crm.custom_field (name, type) VALUES (...).';
    END IF;
    SELECT min(u.id) INTO missing FROM unnest(client_ids) AS u(id)
    WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = u.id);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'client % does not exist', missing USING ERRCODE = 'no_data_found';
    END IF;

    IF value IS NULL THEN
        DELETE FROM crm.custom_value v WHERE v.field_id = f.id AND v.client_id = ANY (client_ids);
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
    END IF;
    IF f.type = 'number' THEN
        BEGIN
            parsed := replace(btrim(value), ',', '.')::numeric;
            IF parsed IN ('NaN', 'Infinity', '-Infinity') THEN
                RAISE invalid_text_representation;
            END IF;
        EXCEPTION WHEN invalid_text_representation THEN
            RAISE EXCEPTION 'custom field "%" takes numbers', f.name
                USING ERRCODE = 'invalid_text_representation',
                      DETAIL = format('"%s" is not a number.', value);
        END;
    END IF;
    INSERT INTO crm.custom_value AS v (client_id, field_id, number_value, text_value)
    SELECT DISTINCT u.id, f.id, parsed, CASE WHEN f.type = 'text' THEN value END
    FROM unnest(client_ids) AS u(id)
    ON CONFLICT (client_id, field_id) DO UPDATE
        SET number_value = EXCLUDED.number_value, text_value = EXCLUDED.text_value;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION crm.set_custom_value(bigint[], text, text) IS
    'sets a custom field (by name) on many clients at once, parsing the value by the field''s type (NULL clears it); returns the rows written';

CREATE FUNCTION crm.set_custom_value(client_id bigint, field text, value text) RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    RETURN crm.set_custom_value(ARRAY[client_id], field, value);
COMMENT ON FUNCTION crm.set_custom_value(bigint, text, text) IS
    'sets a custom field (by name) on one client, parsing the value by the field''s type (NULL clears it)';

CREATE VIEW crm.client_custom_value WITH (security_invoker = true) AS
SELECT v.client_id, f.id AS field_id, f.name AS field, f.type,
       coalesce(v.number_value::text, v.text_value) AS value,
       v.number_value, v.text_value, v.updated_at
FROM crm.custom_value v JOIN crm.custom_field f ON f.id = v.field_id;
COMMENT ON VIEW crm.client_custom_value IS 'custom field values with their field names and types';

--------------------------------------------------------------------------
-- Documents and consents (GDPR)
--------------------------------------------------------------------------

CREATE TABLE crm.document (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    kind        text NOT NULL DEFAULT 'other' CHECK (btrim(kind) <> ''),
    title       text NOT NULL,
    file_name   text,
    mime_type   text,
    content     bytea,
    storage_url text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX document_client_id_idx ON crm.document (client_id);
COMMENT ON TABLE crm.document IS
    'documents and scans of a client; kind consent_confirmation marks a document that confirms a consent';
COMMENT ON COLUMN crm.document.kind IS
    'free text: consent_confirmation, contract, scan, invoice_copy, other...';

CREATE TABLE crm.consent (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (btrim(purpose) <> ''),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz,
    document_id bigint REFERENCES crm.document (id),
    CHECK (withdrawn_at >= granted_at)
);
CREATE INDEX consent_client_id_idx ON crm.consent (client_id);
CREATE UNIQUE INDEX consent_in_force_key ON crm.consent (client_id, purpose) WHERE withdrawn_at IS NULL;
CREATE INDEX consent_document_id_idx ON crm.consent (document_id);
COMMENT ON TABLE crm.consent IS
    'GDPR consents of a client, per purpose; in force while withdrawn_at is null; document_id points to the confirming document';

--------------------------------------------------------------------------
-- Vehicles and policies
--------------------------------------------------------------------------

CREATE TABLE crm.vehicle (
    id                  bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id           bigint NOT NULL REFERENCES crm.client (id),
    registration_number text,
    vin                 text,
    make                text,
    model               text,
    production_year     integer CHECK (production_year BETWEEN 1885 AND 2200),
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vehicle_client_id_idx ON crm.vehicle (client_id);
CREATE INDEX vehicle_registration_number_idx ON crm.vehicle (upper(registration_number));
CREATE INDEX vehicle_vin_idx ON crm.vehicle (upper(vin));
COMMENT ON TABLE crm.vehicle IS 'vehicles of a client';

CREATE TABLE crm.policy (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    number      text NOT NULL,
    insurer     text NOT NULL,
    product     text,
    starts_on   date NOT NULL,
    ends_on     date NOT NULL,
    is_foreign  boolean NOT NULL DEFAULT false,
    agent       text,
    premium     numeric(14, 2),
    vehicle_id  bigint REFERENCES crm.vehicle (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT policy_number_key UNIQUE (insurer, number),
    CHECK (ends_on >= starts_on)
);
CREATE INDEX policy_client_id_idx ON crm.policy (client_id, ends_on);
CREATE INDEX policy_vehicle_id_idx ON crm.policy (vehicle_id);
COMMENT ON TABLE crm.policy IS
    'insurance policies of a client; is_foreign marks a policy issued by another agent';

CREATE VIEW crm.client_policy WITH (security_invoker = true) AS
SELECT p.id, p.client_id, p.number, p.insurer, p.product, p.starts_on, p.ends_on,
       CASE WHEN p.ends_on < current_date THEN 'archived' ELSE 'active' END AS status,
       p.is_foreign, p.agent, p.premium, p.vehicle_id, p.created_at
FROM crm.policy p;
COMMENT ON VIEW crm.client_policy IS
    'policies with their status by today''s date: active until the protection period ends (policies that start later included), archived after';

--------------------------------------------------------------------------
-- Contact history
--------------------------------------------------------------------------

CREATE TABLE crm.interaction (
    id                  bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id           bigint NOT NULL REFERENCES crm.client (id),
    original_client_id  bigint NOT NULL,
    channel             text NOT NULL
        CHECK (channel IN ('call', 'email', 'sms', 'chat', 'meeting', 'letter', 'notification')),
    direction           text CHECK (direction IN ('inbound', 'outbound')),
    occurred_at         timestamptz NOT NULL DEFAULT now(),
    campaign_id         bigint REFERENCES crm.campaign (id),
    agent               text,
    phone               text,
    duration            interval,
    summary             text
);
CREATE INDEX interaction_client_id_idx ON crm.interaction (client_id, occurred_at);
CREATE INDEX interaction_original_client_id_idx ON crm.interaction (original_client_id);
CREATE INDEX interaction_campaign_id_idx ON crm.interaction (campaign_id);
COMMENT ON TABLE crm.interaction IS
    'contact history: calls, e-mails, messages, meetings, automatic notifications';
COMMENT ON COLUMN crm.interaction.original_client_id IS
    'the client record the contact happened on; set on insert, never changed (after a merge it still names the merged record)';
COMMENT ON COLUMN crm.interaction.phone IS 'the phone number of the other side, E.164 (a caller id that is no number is kept as given)';

CREATE FUNCTION crm.client_last_contact(client_id bigint) RETURNS timestamptz
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT max(i.occurred_at) FROM crm.interaction i
    WHERE i.client_id = client_last_contact.client_id AND i.channel <> 'notification';
END;
COMMENT ON FUNCTION crm.client_last_contact(bigint) IS
    'the latest contact with a client in its contact history (automatic notifications are not contacts)';

CREATE FUNCTION crm.interaction_before_write() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.original_client_id := coalesce(NEW.original_client_id, NEW.client_id);
    ELSE
        NEW.original_client_id := OLD.original_client_id;
    END IF;
    -- a caller id that is no phone number ("anonymous", 112) stays as given:
    -- the contact happened all the same
    IF crm.is_valid_phone(NEW.phone) THEN
        NEW.phone := crm.normalize_phone(NEW.phone);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm.interaction_before_write() IS
    'trigger: sets original_client_id on insert and keeps it; normalizes the phone number';
CREATE TRIGGER interaction_before_write BEFORE INSERT OR UPDATE ON crm.interaction
    FOR EACH ROW EXECUTE FUNCTION crm.interaction_before_write();

-- crm.client.last_contact_at follows the history, once per statement (a
-- bulk load or a merge moving many contacts updates each client once).  The
-- clients' rows are locked first, in id order, so that concurrent writers
-- of one client's history take turns; the update asks crm.client's trigger
-- to recompute the value (crm.client_before_write accepts no other).
CREATE FUNCTION crm.interaction_after_write() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT n.client_id) INTO ids FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT o.client_id) INTO ids FROM old_rows o;
    ELSE
        -- the clients of rows whose client, time or channel changed
        SELECT array_agg(DISTINCT x.client_id) INTO ids
        FROM old_rows o JOIN new_rows n ON n.id = o.id,
             LATERAL (VALUES (o.client_id), (n.client_id)) AS x(client_id)
        WHERE (o.client_id, o.occurred_at, o.channel) IS DISTINCT FROM (n.client_id, n.occurred_at, n.channel);
    END IF;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM FROM crm.client c WHERE c.id = ANY (ids) ORDER BY c.id FOR NO KEY UPDATE;

    IF TG_OP = 'INSERT' THEN
        -- a newer contact is the last one; an older one changes nothing
        UPDATE crm.client c SET last_contact_at = m.latest
        FROM (SELECT n.client_id, max(n.occurred_at) AS latest FROM new_rows n
              WHERE n.channel <> 'notification' GROUP BY n.client_id) AS m
        WHERE c.id = m.client_id AND (c.last_contact_at IS NULL OR c.last_contact_at < m.latest);
    ELSE
        -- writing any other value makes the client's trigger recompute it
        UPDATE crm.client c
        SET last_contact_at = CASE WHEN c.last_contact_at IS NULL THEN '-infinity'::timestamptz END
        WHERE c.id = ANY (ids);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm.interaction_after_write() IS
    'trigger: keeps crm.client.last_contact_at at the latest contact';
CREATE TRIGGER interaction_after_insert AFTER INSERT ON crm.interaction
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm.interaction_after_write();
CREATE TRIGGER interaction_after_update AFTER UPDATE ON crm.interaction
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm.interaction_after_write();
CREATE TRIGGER interaction_after_delete AFTER DELETE ON crm.interaction
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm.interaction_after_write();

CREATE VIEW crm.contact_history WITH (security_invoker = true) AS
SELECT i.id, i.client_id, c.display_name, i.occurred_at, i.channel, i.direction,
       i.original_client_id AS on_record, i.original_client_id <> i.client_id AS from_merged_record,
       i.campaign_id, cp.name AS campaign, i.agent, i.phone, i.duration, i.summary
FROM crm.interaction i
JOIN crm.client c ON c.id = i.client_id
LEFT JOIN crm.campaign cp ON cp.id = i.campaign_id
ORDER BY i.occurred_at DESC, i.id DESC;
COMMENT ON VIEW crm.contact_history IS
    'contact history, newest first; on_record is the client record the contact happened on (a merged record after a merge)';

--------------------------------------------------------------------------
-- Sales and service records
--------------------------------------------------------------------------

CREATE TABLE crm.offer (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    number      text,
    product     text,
    status      text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'sent', 'accepted', 'rejected', 'expired')),
    amount      numeric(14, 2),
    valid_until date,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offer_client_id_idx ON crm.offer (client_id);
COMMENT ON TABLE crm.offer IS 'offers made to a client';

CREATE TABLE crm.needs_analysis (
    id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id    bigint NOT NULL REFERENCES crm.client (id),
    performed_at timestamptz NOT NULL DEFAULT now(),
    agent        text,
    answers      jsonb,
    summary      text
);
CREATE INDEX needs_analysis_client_id_idx ON crm.needs_analysis (client_id);
COMMENT ON TABLE crm.needs_analysis IS 'needs analyses of a client (questionnaire answers)';

CREATE TABLE crm.invoice (
    id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id       bigint NOT NULL REFERENCES crm.client (id),
    number          text NOT NULL UNIQUE,
    issued_on       date NOT NULL DEFAULT current_date,
    due_on          date,
    net_amount      numeric(14, 2),
    gross_amount    numeric(14, 2),
    currency        text NOT NULL DEFAULT 'PLN',
    status          text NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'paid', 'cancelled')),
    billed_name     text,
    billed_address  text,
    billed_nip      crm.nip,
    needs_refresh   boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoice_client_id_idx ON crm.invoice (client_id);
COMMENT ON TABLE crm.invoice IS 'invoices issued to a client, with the billed party''s data as issued';
COMMENT ON COLUMN crm.invoice.needs_refresh IS
    'the client changed (a merge): the billed party''s data can be regenerated from the client';

CREATE TABLE crm.payment (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    invoice_id  bigint REFERENCES crm.invoice (id),
    paid_on     date NOT NULL DEFAULT current_date,
    amount      numeric(14, 2) NOT NULL,
    method      text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_client_id_idx ON crm.payment (client_id);
CREATE INDEX payment_invoice_id_idx ON crm.payment (invoice_id);
COMMENT ON TABLE crm.payment IS 'payments of a client, for an invoice or on account';

CREATE TABLE crm.task (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    kind        text NOT NULL DEFAULT 'task' CHECK (kind IN ('task', 'call', 'meeting', 'event')),
    title       text NOT NULL,
    starts_at   timestamptz,
    ends_at     timestamptz,
    due_at      timestamptz,
    assignee    text,
    done_at     timestamptz,
    notes       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at >= starts_at)
);
CREATE INDEX task_client_id_idx ON crm.task (client_id);
CREATE INDEX task_assignee_due_idx ON crm.task (assignee, due_at) WHERE done_at IS NULL;
COMMENT ON TABLE crm.task IS 'calendar entries and tasks about a client';

CREATE TABLE crm.case (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    title       text NOT NULL,
    kind        text,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    opened_at   timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz,
    description text
);
CREATE INDEX case_client_id_idx ON crm.case (client_id);
COMMENT ON TABLE crm.case IS 'cases (matters) of a client; unqualified, the name must be quoted ("case" is an SQL keyword)';

CREATE TABLE crm.contact_person (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    first_name  text,
    last_name   text NOT NULL,
    role        text,
    phone       text,
    email       text,
    notes       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_person_client_id_idx ON crm.contact_person (client_id);
COMMENT ON TABLE crm.contact_person IS 'contact persons at a client (a company''s employees, a person''s proxy)';

CREATE FUNCTION crm.contact_person_normalize() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.phone := crm.normalize_phone(nullif(btrim(NEW.phone), ''));
    NEW.email := crm.normalize_email(nullif(btrim(NEW.email), ''));
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm.contact_person_normalize() IS 'trigger: normalizes a contact person''s phone and e-mail';
CREATE TRIGGER contact_person_normalize BEFORE INSERT OR UPDATE OF phone, email ON crm.contact_person
    FOR EACH ROW EXECUTE FUNCTION crm.contact_person_normalize();

CREATE TABLE crm.service_entry (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    kind        text NOT NULL CHECK (kind IN ('complaint', 'vehicle_sold', 'repair', 'inspection', 'other')),
    occurred_on date NOT NULL DEFAULT current_date,
    vehicle_id  bigint REFERENCES crm.vehicle (id),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX service_entry_client_id_idx ON crm.service_entry (client_id);
CREATE INDEX service_entry_vehicle_id_idx ON crm.service_entry (vehicle_id);
COMMENT ON TABLE crm.service_entry IS 'service entries: complaints, sold vehicles, repairs';

CREATE TABLE crm.ticket (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id   bigint NOT NULL REFERENCES crm.client (id),
    subject     text NOT NULL,
    status      text NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'open', 'pending', 'resolved', 'closed')),
    priority    text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    type        text,
    source      text,
    campaign_id bigint REFERENCES crm.campaign (id),
    assignee    text,
    sla_due_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    description text
);
CREATE INDEX ticket_client_id_idx ON crm.ticket (client_id);
CREATE INDEX ticket_open_idx ON crm.ticket (client_id) WHERE status IN ('new', 'open', 'pending');
CREATE INDEX ticket_campaign_id_idx ON crm.ticket (campaign_id);
COMMENT ON TABLE crm.ticket IS 'tickets (requests, complaints) with status and SLA; open = new, open or pending';

--------------------------------------------------------------------------
-- Products, price lists and orders
--------------------------------------------------------------------------

CREATE TABLE crm.product (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    unit_price  numeric(14, 2),
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE crm.product IS 'products that can be ordered';

CREATE TABLE crm.price_list (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    currency    text NOT NULL DEFAULT 'PLN',
    valid_from  date,
    valid_to    date,
    CHECK (valid_to >= valid_from)
);
COMMENT ON TABLE crm.price_list IS 'price lists';

CREATE TABLE crm.price_list_item (
    price_list_id bigint NOT NULL REFERENCES crm.price_list (id) ON DELETE CASCADE,
    product_id    bigint NOT NULL REFERENCES crm.product (id),
    price         numeric(14, 2) NOT NULL,
    PRIMARY KEY (price_list_id, product_id)
);
CREATE INDEX price_list_item_product_id_idx ON crm.price_list_item (product_id);
COMMENT ON TABLE crm.price_list_item IS 'the price of a product in a price list';

CREATE TABLE crm.client_price_list (
    client_id     bigint PRIMARY KEY REFERENCES crm.client (id) ON DELETE CASCADE,
    price_list_id bigint NOT NULL REFERENCES crm.price_list (id),
    assigned_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX client_price_list_price_list_id_idx ON crm.client_price_list (price_list_id);
COMMENT ON TABLE crm.client_price_list IS 'the price list assigned to a client (one at most)';

CREATE TABLE crm.order (
    id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    client_id     bigint NOT NULL REFERENCES crm.client (id),
    number        text,
    status        text NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'confirmed', 'shipped', 'delivered', 'cancelled')),
    ordered_at    timestamptz NOT NULL DEFAULT now(),
    price_list_id bigint REFERENCES crm.price_list (id),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_client_id_idx ON crm.order (client_id);
CREATE INDEX order_price_list_id_idx ON crm.order (price_list_id);
COMMENT ON TABLE crm.order IS 'orders of a client; unqualified, the name must be quoted ("order" is an SQL keyword)';

CREATE TABLE crm.order_line (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES crm.order (id) ON DELETE CASCADE,
    product_id  bigint NOT NULL REFERENCES crm.product (id),
    quantity    numeric(14, 3) NOT NULL CHECK (quantity > 0),
    unit_price  numeric(14, 2) NOT NULL
);
CREATE INDEX order_line_order_id_idx ON crm.order_line (order_id);
CREATE INDEX order_line_product_id_idx ON crm.order_line (product_id);
COMMENT ON TABLE crm.order_line IS 'lines of an order';

--------------------------------------------------------------------------
-- Removing and hiding clients
--------------------------------------------------------------------------

-- Every foreign key that references crm.client, in any schema, found from
-- the catalog at call time: the extension's tables and the user's alike.
-- One home for that discovery: deleting, linking, merging and undoing use it.
CREATE FUNCTION crm.client_references()
    RETURNS TABLE (relation regclass, constraint_name name, on_delete "char",
                   columns name[], client_columns name[])
    -- PL/pgSQL, not SQL, for its cached plan: merges and deletes call it often
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT con.conrelid::regclass, con.conname, con.confdeltype,
           ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.n),
           ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.n)
    FROM pg_constraint con
    WHERE con.contype = 'f' AND con.confrelid = 'crm.client'::regclass
      AND con.conparentid = 0      -- a partitioned table once, not per partition
    ORDER BY con.conrelid::regclass::text, con.conname;
END
$$;
COMMENT ON FUNCTION crm.client_references() IS
    'every foreign key to crm.client in any schema: the referencing table, its columns and the client columns they reference';

-- The SQL condition "the row at alias t references the client whose id is
-- the parameter $n", for one foreign key.
CREATE FUNCTION crm.client_reference_condition(columns name[], client_columns name[], param integer,
                                               alias text DEFAULT 't')
    RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- the usual key, one column referencing the id, needs no lookup
    IF client_columns = '{id}' THEN
        RETURN format('%I.%I = $%s', alias, columns[1], param);
    END IF;
    RETURN format('(%s) = (SELECT %s FROM crm.client c WHERE c.id = $%s)',
                  (SELECT string_agg(format('%I.%I', alias, c), ', ') FROM unnest(columns) AS c),
                  (SELECT string_agg(format('c.%I', c), ', ') FROM unnest(client_columns) AS c),
                  param);
END
$$;
COMMENT ON FUNCTION crm.client_reference_condition(name[], name[], integer, text) IS
    'internal: SQL text matching the rows (alias t) that reference the client whose id is parameter $param';

-- How many rows of each table reference a client, in one query (a merge
-- and a delete ask for every table at once).  Tables the caller may not
-- read get NULL: their foreign keys still guard them.
CREATE FUNCTION crm.client_links(client_id bigint)
    RETURNS TABLE (relation regclass, constraint_name name, on_delete text,
                   blocks_delete boolean, row_count bigint, columns name[], client_columns name[])
    -- volatile: it prepares its query once per session (below)
    LANGUAGE plpgsql VOLATILE
    -- a key may use crm's types, whose operators live in crm (writable by its owner only)
    SET search_path = pg_catalog, crm, pg_temp
    -- the prepared query is planned once
    SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    query text;
    prepared text;
BEGIN
    SELECT string_agg(format(
               'SELECT %s::oid::regclass, %L::name, %L::"char", %s, %L::name[], %L::name[]',
               r.relation::oid, r.constraint_name, r.on_delete,
               CASE WHEN has_schema_privilege((SELECT c.relnamespace FROM pg_class c WHERE c.oid = r.relation), 'USAGE')
                         AND has_table_privilege(r.relation, 'SELECT')
                    THEN format('(SELECT count(*) FROM %s t WHERE %s)', r.relation,
                                crm.client_reference_condition(r.columns, r.client_columns, 1))
                    ELSE 'NULL::bigint' END,
               r.columns, r.client_columns),
           ' UNION ALL ' ORDER BY r.relation::text, r.constraint_name)
    INTO query
    FROM crm.client_references() r;
    IF query IS NULL THEN
        RETURN;
    END IF;
    -- Planning a count over every table costs more than running it, and a
    -- merge or a delete asks each time: the query is prepared once per
    -- session, named after its text (a new foreign key, or another role's
    -- privileges, make another text), and prepared again if a pooler
    -- deallocated it.
    prepared := 'crm_client_links_' || md5(query);
    IF NOT EXISTS (SELECT FROM pg_prepared_statements p WHERE p.name = prepared) THEN
        EXECUTE format(
            'PREPARE %I(bigint) AS
             SELECT l.rel, l.con, CASE l.del WHEN ''a'' THEN ''no action'' WHEN ''r'' THEN ''restrict''
                                             WHEN ''c'' THEN ''cascade'' WHEN ''n'' THEN ''set null''
                                             WHEN ''d'' THEN ''set default'' END,
                    l.del IN (''a'', ''r''), l.n, l.cols, l.client_cols
             FROM (%s) AS l(rel, con, del, n, cols, client_cols)', prepared, query);
    END IF;
    RETURN QUERY EXECUTE format('EXECUTE %I(%s)', prepared, client_links.client_id);
END
$$;
COMMENT ON FUNCTION crm.client_links(bigint) IS
    'every foreign key to crm.client, in any schema, with how many rows reference the client (NULL where the caller may not read them), whether they block deleting it, and its columns';

-- One home for "lock this client, or say it does not exist".
CREATE FUNCTION crm.client_for_update(client_id bigint) RETURNS crm.client
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c crm.client;
BEGIN
    IF client_id IS NULL THEN
        RAISE EXCEPTION 'client id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO c FROM crm.client cl WHERE cl.id = client_for_update.client_id FOR UPDATE;
    IF NOT FOUND THEN
        -- row-level security may let the role read a client it may not change
        IF EXISTS (SELECT FROM crm.client cl WHERE cl.id = client_for_update.client_id) THEN
            RAISE EXCEPTION 'permission denied to change client %', client_id
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'Row-level security lets this role read the client, not change it.';
        END IF;
        RAISE EXCEPTION 'client % does not exist', client_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION crm.client_for_update(bigint) IS
    'locks a client row for update and returns it; raises no_data_found if there is none';

-- Whether the code running now runs as the owner of a SECURITY DEFINER
-- function, that is from inside it: how crm's triggers tell its own
-- privileged writes from anyone else's.
CREATE FUNCTION crm.runs_as_owner_of(f regprocedure) RETURNS boolean
    LANGUAGE sql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT current_user = p.proowner::regrole::text FROM pg_proc p WHERE p.oid = f;
END;
COMMENT ON FUNCTION crm.runs_as_owner_of(regprocedure) IS
    'internal: whether the current role is the owner of function f (inside f, when f is SECURITY DEFINER)';

-- One home for "this client was anonymized: nothing more to do with it".
CREATE FUNCTION crm.refuse_anonymized(c crm.client) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF c.anonymized_at IS NOT NULL THEN
        RAISE EXCEPTION 'client % is anonymized', c.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It was anonymized at %s; its record only keeps what the law requires.',
                                  c.anonymized_at);
    END IF;
END
$$;
COMMENT ON FUNCTION crm.refuse_anonymized(crm.client) IS
    'internal: raises 55000 if the client is anonymized';

-- Deleting a client never loses a business record by cascade: rows that
-- reference it through a foreign key without ON DELETE CASCADE (or SET
-- NULL) block the delete; cascading ones (contacts, memberships, custom
-- values, consents, price list) are the client's own and go with it.
CREATE FUNCTION crm.client_before_delete() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    linked text;
BEGIN
    -- a merge has moved every linked row and checked that none is left just
    -- before it deletes its sources, so it spares this recount (a session
    -- that sets the flag by hand gains nothing: the foreign keys still refuse
    -- what this trigger would, and cascading rows go with any delete)
    IF current_setting('crm_merge.source_id', true) = OLD.id::text THEN
        RETURN OLD;
    END IF;
    SELECT string_agg(format('%s in %s', l.row_count, l.relation), ', ' ORDER BY l.relation::text)
    INTO linked
    FROM crm.client_links(OLD.id) l
    WHERE l.blocks_delete AND l.row_count > 0;
    IF linked IS NOT NULL THEN
        RAISE EXCEPTION 'cannot delete client % because records are linked to it', OLD.id
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Linked records: %s.', linked),
                  HINT = format('Merge client %s into the client that should keep these records, '
                                'or hide it with crm.hide_client(%s, reason).', OLD.id, OLD.id);
    END IF;
    RETURN OLD;
END
$$;
COMMENT ON FUNCTION crm.client_before_delete() IS
    'trigger: refuses to delete a client that business records are linked to, saying which';
CREATE TRIGGER client_before_delete BEFORE DELETE ON crm.client
    FOR EACH ROW EXECUTE FUNCTION crm.client_before_delete();

CREATE FUNCTION crm.delete_client(client_id bigint) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF client_id IS NULL THEN
        RAISE EXCEPTION 'client id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- DELETE privilege suffices: no row lock is taken before the delete
    DELETE FROM crm.client c WHERE c.id = delete_client.client_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'client % does not exist', client_id USING ERRCODE = 'no_data_found';
    END IF;
END
$$;
COMMENT ON FUNCTION crm.delete_client(bigint) IS
    'deletes a client with its contacts, memberships, custom values and consents; refuses (23503) while business records are linked to it';

CREATE FUNCTION crm.hide_client(client_id bigint, reason text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c crm.client := crm.client_for_update(client_id);
BEGIN
    PERFORM crm.refuse_anonymized(c);
    IF c.hidden_at IS NOT NULL THEN
        RAISE EXCEPTION 'client % is already hidden', c.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It was hidden at %s%s.', c.hidden_at,
                                  coalesce(format(' (%s)', c.hidden_reason), '')),
                  HINT = format('Use crm.unhide_client(%s) to bring it back.', c.id);
    END IF;
    UPDATE crm.client cl SET hidden_at = now(), hidden_reason = nullif(btrim(reason), '')
    WHERE cl.id = c.id;
END
$$;
COMMENT ON FUNCTION crm.hide_client(bigint, text) IS
    'hides a client who left or withdrew consent: it keeps its records but drops out of the working views';

CREATE FUNCTION crm.unhide_client(client_id bigint) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c crm.client := crm.client_for_update(client_id);
BEGIN
    PERFORM crm.refuse_anonymized(c);
    IF c.hidden_at IS NULL THEN
        RAISE EXCEPTION 'client % is not hidden', c.id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE crm.client cl SET hidden_at = NULL, hidden_reason = NULL WHERE cl.id = c.id;
END
$$;
COMMENT ON FUNCTION crm.unhide_client(bigint) IS 'brings a hidden client back into the working views';

--------------------------------------------------------------------------
-- Views and search for people and BI tools
--------------------------------------------------------------------------

CREATE VIEW crm.client_overview WITH (security_invoker = true) AS
SELECT c.id, c.kind, c.display_name, c.first_name, c.last_name, c.company_name,
       c.pesel, c.nip, c.regon, c.city, c.postal_code, c.address,
       phone.value AS phone, email.value AS email,
       c.unit_id, u.path AS unit_path, c.owner, c.synced,
       (SELECT count(*) FROM crm.policy p
        WHERE p.client_id = c.id AND p.ends_on >= current_date) AS active_policies,
       (SELECT count(*) FROM crm.ticket t
        WHERE t.client_id = c.id AND t.status IN ('new', 'open', 'pending')) AS open_tickets,
       c.last_contact_at, c.created_at, c.updated_at
FROM crm.client c
LEFT JOIN crm.contact phone ON phone.client_id = c.id AND phone.kind = 'phone' AND phone.is_default
LEFT JOIN crm.contact email ON email.client_id = c.id AND email.kind = 'email' AND email.is_default
LEFT JOIN crm.unit_tree u ON u.id = c.unit_id
WHERE c.hidden_at IS NULL;
COMMENT ON VIEW crm.client_overview IS
    'one row per visible client: identifiers, default phone and e-mail, unit path, owner, active policies, open tickets, last contact';

-- crm.client_search(): a comparison of expr with the filter value that the
-- SQL expression src reaches inside the filter ($1); bound is that value,
-- read here only for its shape.  No filter value is pasted into the SQL.
CREATE FUNCTION crm.search_compare(expr text, kind text, typ regtype, op text, src text, bound jsonb)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN CASE
    -- a bare date compared with a timestamp means that whole day
    WHEN kind = 'timestamp' AND coalesce(bound #>> '{}', '') ~ '^\d{4}-\d{2}-\d{2}$' THEN
        CASE op
        WHEN '='  THEN format('(%1$s >= (%2$s #>> ''{}'')::date AND %1$s < (%2$s #>> ''{}'')::date + 1)', expr, src)
        WHEN '>'  THEN format('%s >= (%s #>> ''{}'')::date + 1', expr, src)
        WHEN '>=' THEN format('%s >= (%s #>> ''{}'')::date', expr, src)
        WHEN '<'  THEN format('%s < (%s #>> ''{}'')::date', expr, src)
        WHEN '<=' THEN format('%s < (%s #>> ''{}'')::date + 1', expr, src) END
    ELSE format('%s %s (%s #>> ''{}'')::%s', expr, op, src, typ)
END;
COMMENT ON FUNCTION crm.search_compare(text, text, regtype, text, text, jsonb) IS
    'internal to crm.client_search(): one comparison of a field with a filter value';

-- crm.client_search(): the predicate for one filter field (see doc/schema.md).
CREATE FUNCTION crm.search_predicate(field text, expr text, kind text, typ regtype, src text, val jsonb)
    RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parts text[] := '{}';
    op text;
    bound jsonb;
    v text := format('(%s #>> ''{}'')', src);   -- the value as text
    pattern boolean := jsonb_typeof(val) = 'string' AND val #>> '{}' LIKE '%\%%';
BEGIN
    CASE jsonb_typeof(val)
    WHEN 'null' THEN
        RETURN format('%s IS NULL', expr);
    WHEN 'array' THEN
        FOR i IN 0 .. jsonb_array_length(val) - 1 LOOP
            parts := parts || crm.search_predicate(field, expr, kind, typ, format('(%s -> %s)', src, i), val -> i);
        END LOOP;
        RETURN CASE WHEN cardinality(parts) = 0 THEN 'false'
                    ELSE '(' || array_to_string(parts, ' OR ') || ')' END;
    WHEN 'object' THEN
        IF kind NOT IN ('number', 'date', 'timestamp') THEN
            RAISE EXCEPTION 'filter field "%" takes no comparison operators', field
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Give a value, a pattern with %, a list of values or null.';
        END IF;
        FOR op, bound IN SELECT * FROM jsonb_each(val) LOOP
            IF op = 'between' THEN
                IF jsonb_typeof(bound) <> 'array' OR jsonb_array_length(bound) <> 2 THEN
                    RAISE EXCEPTION 'filter field "%": "between" takes an array of two values', field
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                -- a null bound leaves that end open
                IF jsonb_typeof(bound -> 0) <> 'null' THEN
                    parts := parts || crm.search_compare(expr, kind, typ, '>=',
                                                         format('(%s -> ''between'' -> 0)', src), bound -> 0);
                END IF;
                IF jsonb_typeof(bound -> 1) <> 'null' THEN
                    parts := parts || crm.search_compare(expr, kind, typ, '<=',
                                                         format('(%s -> ''between'' -> 1)', src), bound -> 1);
                END IF;
            ELSIF op IN ('=', '>', '>=', '<', '<=') AND jsonb_typeof(bound) IN ('null', 'object', 'array') THEN
                RAISE EXCEPTION 'filter field "%": operator "%" takes one value', field, op
                    USING ERRCODE = 'invalid_parameter_value';
            ELSIF op IN ('=', '>', '>=', '<', '<=') THEN
                parts := parts || crm.search_compare(expr, kind, typ, op, format('(%s -> %L)', src, op), bound);
            ELSE
                RAISE EXCEPTION 'filter field "%": unrecognized operator "%"', field, op
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Use =, >, >=, <, <= or between.';
            END IF;
        END LOOP;
        RETURN CASE WHEN cardinality(parts) = 0 THEN 'true'
                    ELSE '(' || array_to_string(parts, ' AND ') || ')' END;
    ELSE
        RETURN CASE kind
            WHEN 'text' THEN
                format(CASE WHEN pattern THEN 'lower(%s) LIKE lower(%s)' ELSE 'lower(%s) = lower(%s)' END, expr, v)
            WHEN 'identifier' THEN
                CASE WHEN pattern THEN format('%s::text LIKE %s', expr, v)
                     ELSE format('%s = %s::%s', expr, v, typ) END
            WHEN 'phone' THEN
                CASE WHEN pattern THEN format('%s LIKE %s', expr, v)
                     ELSE format('%s = crm.normalize_phone(%s)', expr, v) END
            WHEN 'email' THEN
                CASE WHEN pattern THEN format('lower(%s) LIKE lower(%s)', expr, v)
                     ELSE format('lower(%s) = lower(crm.normalize_email(%s))', expr, v) END
            WHEN 'reference' THEN   -- a campaign or segment, by id or by name
                CASE WHEN jsonb_typeof(val) = 'number' THEN format('x.id = %s::bigint', v)
                     WHEN pattern THEN format('lower(x.name) LIKE lower(%s)', v)
                     ELSE format('lower(x.name) = lower(%s)', v) END
            ELSE crm.search_compare(expr, kind, typ, '=', src, val)
        END;
    END CASE;
END
$$;
COMMENT ON FUNCTION crm.search_predicate(text, text, text, regtype, text, jsonb) IS
    'internal to crm.client_search(): the SQL predicate for one filter field';

CREATE FUNCTION crm.client_search(filter jsonb) RETURNS SETOF crm.client
    LANGUAGE plpgsql STABLE
    -- the predicates compare crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
DECLARE
    conds text[] := '{}';
    key text;
    val jsonb;
    src text;
    typ regtype;
    kind text;
    field crm.custom_field;
    exists_sql text;
    hidden text := 'visible';
BEGIN
    IF filter IS NULL OR jsonb_typeof(filter) <> 'object' THEN
        RAISE EXCEPTION 'client search filter must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example: {"last_name": "Kowal%", "city": "Kraków"}.';
    END IF;

    FOR key, val IN SELECT * FROM jsonb_each(filter) LOOP
        src := format('($1 -> %L)', key);
        exists_sql := NULL;
        IF key = 'hidden' THEN
            hidden := CASE val WHEN 'true' THEN 'hidden' WHEN 'false' THEN 'visible'
                               WHEN '"any"' THEN 'any' END;
            IF hidden IS NULL THEN
                RAISE EXCEPTION 'filter field "hidden" takes true, false or "any"'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
        ELSIF key IN ('phone', 'email') THEN
            exists_sql := format('SELECT FROM crm.contact k WHERE k.client_id = c.id AND k.kind = %L', key);
            IF jsonb_typeof(val) <> 'null' THEN
                exists_sql := exists_sql || ' AND '
                    || crm.search_predicate(key, 'k.value', key, 'text', src, val);
            END IF;
        ELSIF key IN ('campaign', 'segment') THEN
            exists_sql := format('SELECT FROM crm.%1$s_member m JOIN crm.%1$s x ON x.id = m.%1$s_id '
                                 'WHERE m.client_id = c.id', key);
            IF jsonb_typeof(val) <> 'null' THEN
                exists_sql := exists_sql || ' AND '
                    || crm.search_predicate(key, 'x.name', 'reference', 'text', src, val);
            END IF;
        ELSIF key = 'unit_within' THEN
            IF jsonb_typeof(val) <> 'number' THEN
                RAISE EXCEPTION 'filter field "unit_within" takes a unit id'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            conds := conds || format('crm.unit_contains((%s #>> ''{}'')::bigint, c.unit_id)', src);
        ELSIF key LIKE 'custom:%' THEN
            SELECT * INTO field FROM crm.custom_field f WHERE lower(f.name) = lower(substr(key, 8));
            IF NOT FOUND THEN
                RAISE EXCEPTION 'custom field "%" does not exist', substr(key, 8)
                    USING ERRCODE = 'undefined_object';
            END IF;
            exists_sql := format('SELECT FROM crm.custom_value v WHERE v.client_id = c.id AND v.field_id = %s',
                                 field.id);
            IF jsonb_typeof(val) <> 'null' THEN
                exists_sql := exists_sql || ' AND '
                    || CASE field.type
                       WHEN 'number' THEN crm.search_predicate(key, 'v.number_value', 'number', 'numeric', src, val)
                       ELSE crm.search_predicate(key, 'v.text_value', 'text', 'text', src, val) END;
            END IF;
        ELSE
            SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
            WHERE a.attrelid = 'crm.client'::regclass AND a.attname = key
              AND a.attnum > 0 AND NOT a.attisdropped;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'unrecognized client search filter field "%"', key
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Filter on a column of crm.client, on phone, email, campaign, segment, '
                                 'unit_within, hidden or custom:<field name>.';
            END IF;
            kind := CASE
                WHEN typ IN ('text'::regtype, 'character varying'::regtype) THEN 'text'
                WHEN typ IN ('crm.pesel'::regtype, 'crm.nip'::regtype, 'crm.regon'::regtype) THEN 'identifier'
                WHEN typ IN ('bigint'::regtype, 'integer'::regtype, 'numeric'::regtype) THEN 'number'
                WHEN typ = 'date'::regtype THEN 'date'
                WHEN typ = 'timestamp with time zone'::regtype THEN 'timestamp'
                ELSE 'value' END;
            conds := conds || crm.search_predicate(key, format('c.%I', key), kind, typ, src, val);
        END IF;
        IF exists_sql IS NOT NULL THEN
            conds := conds || format(CASE WHEN jsonb_typeof(val) = 'null' THEN 'NOT EXISTS (%s)'
                                          ELSE 'EXISTS (%s)' END, exists_sql);
        END IF;
    END LOOP;

    IF hidden = 'visible' THEN
        conds := conds || 'c.hidden_at IS NULL'::text;
    ELSIF hidden = 'hidden' THEN
        conds := conds || 'c.hidden_at IS NOT NULL'::text;
    END IF;
    RETURN QUERY EXECUTE format('SELECT c.* FROM crm.client c WHERE %s ORDER BY c.id',
                                CASE WHEN cardinality(conds) = 0 THEN 'true'
                                     ELSE array_to_string(conds, ' AND ') END)
        USING filter;
END
$$;
COMMENT ON FUNCTION crm.client_search(jsonb) IS
    'clients matching a filter: {"field": value | "pattern%" | [values] | null | {">": v, "between": [a, b]}, ...}, criteria combined with AND; visible clients unless "hidden" says otherwise';

--------------------------------------------------------------------------
-- Merging clients (SPEC section 4): rules, registry, journal, undo
--------------------------------------------------------------------------

-- A table's schema-qualified name, whatever the search path.
CREATE FUNCTION crm.relation_name(relation regclass) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN relation::text;
COMMENT ON FUNCTION crm.relation_name(regclass) IS
    'a table''s schema-qualified name (as regclass prints it with no schema on the search path)';

-- The merge rules are on unless a row here switches one off.  A table, not
-- a setting: only whoever may write it (the DBA) decides for the database.
CREATE TABLE crm.merge_rule (
    rule    text PRIMARY KEY CHECK (rule IN ('structure', 'sync', 'consent')),
    enabled boolean NOT NULL
);
COMMENT ON TABLE crm.merge_rule IS
    'switches for the merge rules structure (MG-5), sync (MG-6) and consent (MG-7); a rule without a row is on';

CREATE FUNCTION crm.merge_rule_enabled(rule text) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT coalesce((SELECT r.enabled FROM crm.merge_rule r WHERE r.rule = merge_rule_enabled.rule), true);
END;
COMMENT ON FUNCTION crm.merge_rule_enabled(text) IS 'whether a merge rule is on in this database';

-- What a merge does with the rows of a table that references clients.
CREATE TABLE crm.merge_table_rule (
    relation regclass PRIMARY KEY,
    action   text NOT NULL CHECK (action IN ('move', 'drop', 'function')),
    handler  text,
    CONSTRAINT merge_table_rule_handler CHECK ((action = 'function') = (handler IS NOT NULL))
);
COMMENT ON TABLE crm.merge_table_rule IS
    'per-table merge rules: move (the default) the source''s rows to the target, drop them, or call handler(source_id bigint, target_id bigint, merge_id bigint)';

CREATE FUNCTION crm.merge_table_rule_check() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    IF NEW.handler IS NOT NULL AND to_regprocedure(NEW.handler || '(bigint,bigint,bigint)') IS NULL THEN
        RAISE EXCEPTION 'merge handler %(bigint, bigint, bigint) does not exist', NEW.handler
            USING ERRCODE = 'undefined_function',
                  HINT = 'Give a schema-qualified function taking (source_id bigint, target_id bigint, merge_id bigint).';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm.merge_table_rule_check() IS 'trigger: a merge handler must exist with the right arguments';
CREATE TRIGGER merge_table_rule_check BEFORE INSERT OR UPDATE ON crm.merge_table_rule
    FOR EACH ROW EXECUTE FUNCTION crm.merge_table_rule_check();

-- The journal: every merge, and every row it moved, dropped or folded.
CREATE TABLE crm.merge_log (
    id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    merged_at     timestamptz NOT NULL DEFAULT now(),
    merged_by     text NOT NULL DEFAULT current_user,
    target_id     bigint NOT NULL,
    source_ids    bigint[] NOT NULL,
    sources       jsonb,
    target_before jsonb,
    target_after  jsonb,
    field_values  jsonb,
    contacts      text NOT NULL,
    undone_at     timestamptz,
    undone_by     text,
    -- set by crm.anonymize(): the copies above are gone, the merge stays done
    anonymized_at timestamptz,
    CONSTRAINT merge_log_copies CHECK (anonymized_at IS NOT NULL OR (sources IS NOT NULL AND target_before IS NOT NULL))
);
CREATE INDEX merge_log_target_id_idx ON crm.merge_log (target_id);
CREATE INDEX merge_log_source_ids_idx ON crm.merge_log USING gin (source_ids);
COMMENT ON TABLE crm.merge_log IS
    'every merge: when, who, the target, the source clients'' rows, the target before and after, the choices made; undone_at once crm.unmerge() undid it';

CREATE TABLE crm.merge_log_row (
    merge_id  bigint NOT NULL REFERENCES crm.merge_log (id) ON DELETE CASCADE,
    client_id bigint NOT NULL,
    relation  regclass NOT NULL,
    constraint_name name,
    action    text NOT NULL CHECK (action IN ('moved', 'dropped', 'folded', 'function')),
    row_key   jsonb,
    row_data  jsonb
);
CREATE INDEX merge_log_row_merge_id_idx ON crm.merge_log_row (merge_id, relation);
COMMENT ON TABLE crm.merge_log_row IS
    'what a merge did to each table, per client it took rows from: moved (row_key: the array of the moved rows'' primary keys; row_data: the rows themselves for a contact, or where the table has no primary key), dropped or folded (row_data: one row), function (a handler ran)';

-- The fields a merge may take from a source (field_values); the others are
-- system fields or the structure's business.
CREATE FUNCTION crm.merge_fields() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN ARRAY['kind', 'first_name', 'last_name', 'company_name', 'display_name', 'city',
             'postal_code', 'address', 'pesel', 'nip', 'regon', 'birth_date', 'language',
             'external_id', 'owner'];
COMMENT ON FUNCTION crm.merge_fields() IS 'the client fields whose value a merge can take from a source';

-- The fields an undo leaves as they are: identity and the system's own.
CREATE FUNCTION crm.merge_system_fields() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN ARRAY['id', 'created_at', 'source', 'updated_at', 'last_contact_at', 'hidden_at', 'hidden_reason',
             'anonymized_at'];
COMMENT ON FUNCTION crm.merge_system_fields() IS
    'the client fields an undo leaves alone: the id and the fields the system keeps';

-- What a merge does with one table: the registry's rule, else the built-in
-- one (consents are not carried, MG-7; contacts follow the contacts mode).
CREATE FUNCTION crm.merge_table_action(relation regclass, contacts text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT coalesce(
        (SELECT r.action FROM crm.merge_table_rule r WHERE r.relation = merge_table_action.relation),
        CASE WHEN relation = 'crm.consent'::regclass THEN 'drop'
             WHEN relation = 'crm.contact'::regclass AND contacts = 'target' THEN 'drop'
             ELSE 'move' END);
END;
COMMENT ON FUNCTION crm.merge_table_action(regclass, text) IS
    'internal: move, drop or function, for the rows of a table in a merge';

-- The merge rules for each source into the target: one row per rule and
-- source, whether it passes, and the error that refuses it.  One home for
-- the rules: crm.merge_clients() raises the first failure, crm.merge_preview()
-- shows them all.
CREATE FUNCTION crm.merge_rule_check(target_id bigint, source_ids bigint[])
    RETURNS TABLE (rule text, source_id bigint, enabled boolean, passes boolean,
                   sqlstate text, message text, detail text, hint text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    t crm.client;
    s crm.client;
    t_path text;
    s_path text;
    s_consents bigint;
    t_consents bigint;
    reverse_hint text;
BEGIN
    SELECT * INTO t FROM crm.client c WHERE c.id = merge_rule_check.target_id;
    SELECT count(*) INTO t_consents FROM crm.consent k
    WHERE k.client_id = t.id AND k.withdrawn_at IS NULL;
    FOR s IN SELECT c.* FROM crm.client c WHERE c.id = ANY (source_ids) ORDER BY c.id LOOP
        source_id := s.id;
        SELECT count(*) INTO s_consents FROM crm.consent k
        WHERE k.client_id = s.id AND k.withdrawn_at IS NULL;
        -- the reverse merge is the fix only if every enabled rule lets it pass
        reverse_hint := CASE WHEN
                (NOT crm.merge_rule_enabled('structure')
                 OR t.unit_id IS NULL OR (s.unit_id IS NOT NULL AND crm.unit_contains(t.unit_id, s.unit_id)))
                AND (NOT crm.merge_rule_enabled('sync') OR NOT (t.synced AND NOT s.synced))
                AND (NOT crm.merge_rule_enabled('consent') OR NOT (t_consents > 0 AND s_consents = 0))
            THEN format('Merge client %s into client %s instead.', t.id, s.id) END;

        -- MG-5: the target's unit is the source's or lies below it (no unit: the top)
        rule := 'structure';
        enabled := crm.merge_rule_enabled(rule);
        passes := s.unit_id IS NULL OR (t.unit_id IS NOT NULL AND crm.unit_contains(s.unit_id, t.unit_id));
        IF NOT passes THEN   -- the paths only for the message
            t_path := coalesce((SELECT u.path FROM crm.unit_tree u WHERE u.id = t.unit_id), 'no unit');
            s_path := coalesce((SELECT u.path FROM crm.unit_tree u WHERE u.id = s.unit_id), 'no unit');
        END IF;
        sqlstate := 'CR001';
        message := format('cannot merge client %s into client %s: the target is not in the source''s part of the structure',
                          s.id, t.id);
        detail := format('Client %s is in unit %s (%s); client %s is in unit %s (%s). A client can be merged only into a client in its own unit or below it.',
                         s.id, coalesce(s.unit_id::text, 'none'), s_path,
                         t.id, coalesce(t.unit_id::text, 'none'), t_path);
        hint := coalesce(reverse_hint, 'Move one of the clients to a unit within the other''s first.');
        RETURN NEXT;

        -- MG-6: a synchronized client does not go into an unsynchronized one
        rule := 'sync';
        enabled := crm.merge_rule_enabled(rule);
        passes := NOT (s.synced AND NOT t.synced);
        sqlstate := 'CR002';
        message := format('cannot merge synchronized client %s into unsynchronized client %s', s.id, t.id);
        detail := format('Client %s is synchronized (its data is complete); client %s is not.', s.id, t.id);
        hint := coalesce(reverse_hint, format('Complete client %s''s data and mark it synchronized first.', t.id));
        RETURN NEXT;

        -- MG-7: consents are not carried, so a source with consents needs a
        -- target that has its own
        rule := 'consent';
        enabled := crm.merge_rule_enabled(rule);
        passes := NOT (s_consents > 0 AND t_consents = 0);
        sqlstate := 'CR003';
        message := format('cannot merge client %s, which has consents, into client %s, which has none', s.id, t.id);
        detail := format('Client %s has %s consent(s) in force; client %s has none, and consents are not carried by a merge (their confirming documents are).',
                         s.id, s_consents, t.id);
        hint := coalesce(reverse_hint, format('Record client %s''s consents first.', t.id));
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION crm.merge_rule_check(bigint, bigint[]) IS
    'the merge rules (structure, sync, consent) for each source into the target: enabled, passes, and the refusal''s SQLSTATE, message, detail and hint';

-- Checks that need no lock: arguments.  Raises.
CREATE FUNCTION crm.merge_check_arguments(target_id bigint, source_ids bigint[], field_values jsonb, contacts text)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    key text;
    val jsonb;
    dup bigint;
BEGIN
    IF target_id IS NULL OR source_ids IS NULL OR array_position(source_ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'client ids must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF cardinality(source_ids) = 0 THEN
        RAISE EXCEPTION 'no client to merge into client %', target_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF target_id = ANY (source_ids) THEN
        RAISE EXCEPTION 'cannot merge client % into itself', target_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT s INTO dup FROM unnest(source_ids) AS s GROUP BY s HAVING count(*) > 1 LIMIT 1;
    IF dup IS NOT NULL THEN
        RAISE EXCEPTION 'client % is named twice among the clients to merge', dup
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF contacts IS NULL OR contacts NOT IN ('union', 'target') THEN
        RAISE EXCEPTION 'unrecognized contacts mode "%"', contacts
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''union'' (keep every phone and e-mail of all clients) or ''target'' (keep only the target''s).';
    END IF;
    IF field_values IS NOT NULL THEN
        IF jsonb_typeof(field_values) <> 'object' THEN
            RAISE EXCEPTION 'field_values must be a JSON object of field names and client ids'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'For example: {"city": 12, "custom:Hobby": 12}.';
        END IF;
        FOR key, val IN SELECT * FROM jsonb_each(field_values) LOOP
            IF NOT (key = ANY (crm.merge_fields()) OR key LIKE 'custom:%') THEN
                RAISE EXCEPTION 'field "%" cannot be chosen in a merge', key
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Choose among ' || array_to_string(crm.merge_fields(), ', ')
                                 || ' and custom:<field name>.';
            END IF;
            IF jsonb_typeof(val) <> 'number'
               OR NOT ((val #>> '{}')::numeric = target_id OR (val #>> '{}')::numeric = ANY (source_ids)) THEN
                RAISE EXCEPTION 'field "%" must name one of the merged clients, not %', key, val
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = format('Give %s or one of %s.', target_id, array_to_string(source_ids, ', '));
            END IF;
        END LOOP;
    END IF;
END
$$;
COMMENT ON FUNCTION crm.merge_check_arguments(bigint, bigint[], jsonb, text) IS
    'internal: refuses malformed merge arguments';

-- A table as a merge reads and writes it: a plain table without its
-- inheritance children (they are tables of their own), a partitioned one whole.
CREATE FUNCTION crm.relation_scan(relation regclass) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN (SELECT c.relkind FROM pg_class c WHERE c.oid = relation) = 'r'
            THEN 'ONLY ' || relation::text ELSE relation::text END;
COMMENT ON FUNCTION crm.relation_scan(regclass) IS
    'internal: ONLY table for a plain table, the table for a partitioned one';

CREATE FUNCTION crm.merge_refuse_removal(relation regclass, dependent regclass) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'cannot merge: rows of % that the merge would remove have rows of % depending on them',
                    relation, dependent
        USING ERRCODE = 'feature_not_supported',
              DETAIL = format('Removing them would delete or detach rows of %s by its foreign key, out of the merge''s journal.',
                              dependent),
              HINT = format('Register a rule for %s in crm.merge_table_rule (move them elsewhere in a function), or move the dependent rows first.',
                            relation);
END
$$;
COMMENT ON FUNCTION crm.merge_refuse_removal(regclass, regclass) IS
    'internal: refuses a merge that would fold or drop rows other rows cascade from';

-- The SQL conditions under which a row of the source (alias t) cannot move
-- to the target (parameter $2) without breaking a unique index: one per
-- unique index (no expression, no predicate) that holds every key column.
CREATE FUNCTION crm.merge_fold_conditions(relation regclass, columns name[], client_columns name[])
    RETURNS SETOF text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT format('EXISTS (SELECT FROM %s x WHERE %s%s)', relation,
                  crm.client_reference_condition(columns, client_columns, 2, 'x'),
                  (SELECT coalesce(string_agg(format(' AND x.%1$I = t.%1$I', a.attname), ''), '')
                   FROM unnest(i.indkey) AS k(attnum)
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                   WHERE a.attname <> ALL (columns)))
    FROM pg_index i
    WHERE i.indrelid = relation AND i.indisunique AND i.indpred IS NULL
      AND 0 <> ALL (i.indkey::int2[])
      AND (SELECT array_agg(a.attname) FROM unnest(i.indkey) AS k(attnum)
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) @> columns;
END
$$;
COMMENT ON FUNCTION crm.merge_fold_conditions(regclass, name[], name[]) IS
    'internal: SQL conditions under which a source''s row (alias t) would break a unique index if moved to the target ($2)';

-- Journal, then move, drop or fold the rows of one table from a source to
-- the target.  A row whose move would break a unique index that holds the
-- foreign key (the same segment twice, the same phone twice) is folded into
-- the target's row: the source's row is journaled and removed.
CREATE FUNCTION crm.merge_table(merge_id bigint, relation regclass, constraint_name name,
                                columns name[], client_columns name[],
                                source_id bigint, target_id bigint, contacts text)
    RETURNS void
    LANGUAGE plpgsql
    -- keys may use crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    of_source text := crm.client_reference_condition(columns, client_columns, 1);
    action text := crm.merge_table_action(relation, contacts);
    -- a plain table's inheritance children are their own tables
    scan text := crm.relation_scan(relation);
    pk_cols name[];
    row_key text;
    clash text;
    assign text;
    dependent regclass;
    clashes boolean;
BEGIN
    IF action = 'function' THEN
        EXECUTE format('SELECT %s($1, $2, $3)',
                       (SELECT r.handler FROM crm.merge_table_rule r WHERE r.relation = merge_table.relation))
            USING source_id, target_id, merge_id;
        INSERT INTO crm.merge_log_row (merge_id, client_id, relation, constraint_name, action)
        VALUES (merge_id, source_id, relation, constraint_name, 'function');
        RETURN;
    END IF;

    -- a key to columns other than the id must find them on the target
    IF client_columns <> '{id}' AND EXISTS (
           SELECT FROM crm.client c, LATERAL jsonb_each(to_jsonb(c)) AS f(col, val)
           WHERE c.id = target_id AND f.col = ANY (client_columns) AND f.val = 'null') THEN
        RAISE EXCEPTION 'cannot merge into client %: % references its % and the target has none',
                        target_id, crm.relation_name(relation), array_to_string(client_columns, ', ')
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Give the target values for those fields first, or move those rows by hand.';
    END IF;

    -- removing rows (drop, fold) must not take other rows with them unseen
    SELECT con.conrelid::regclass INTO dependent FROM pg_constraint con
    WHERE con.contype = 'f' AND con.confrelid = relation AND con.confdeltype IN ('c', 'n', 'd')
    LIMIT 1;

    IF action = 'drop' THEN
        IF dependent IS NOT NULL THEN
            PERFORM crm.merge_refuse_removal(relation, dependent);
        END IF;
        EXECUTE format('WITH gone AS (DELETE FROM %s t WHERE %s RETURNING t.*)
                        INSERT INTO crm.merge_log_row (merge_id, client_id, relation, action, row_data)
                        SELECT $2, $1, %L, ''dropped'', to_jsonb(t) FROM gone t',
                       scan, of_source, relation)
            USING source_id, merge_id;
        RETURN;
    END IF;

    -- fold: rows that would break a unique index holding the key; journaled
    -- in the statement that removes them
    FOR clash IN SELECT * FROM crm.merge_fold_conditions(relation, columns, client_columns) LOOP
        IF dependent IS NOT NULL THEN
            EXECUTE format('SELECT EXISTS (SELECT FROM %s t WHERE %s AND %s)', scan, of_source, clash)
                INTO clashes USING source_id, target_id;
            IF clashes THEN
                PERFORM crm.merge_refuse_removal(relation, dependent);
            END IF;
        END IF;
        EXECUTE format('WITH gone AS (DELETE FROM %s t WHERE %s AND %s RETURNING t.*)
                        INSERT INTO crm.merge_log_row (merge_id, client_id, relation, action, row_data)
                        SELECT $3, $1, %L, ''folded'', to_jsonb(t) FROM gone t',
                       scan, of_source, clash, relation)
            USING source_id, target_id, merge_id;
    END LOOP;

    -- move, journaling each row by its primary key; a table without one
    -- journals whole rows (such a merge cannot be undone automatically)
    SELECT array_agg(a.attname ORDER BY k.n) INTO pk_cols
    FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
    JOIN pg_attribute a ON a.attnum = k.attnum
    WHERE i.indrelid = relation AND i.indisprimary AND a.attrelid = relation;
    -- one journal row per table: the moved rows' keys (rows where there is no key)
    row_key := CASE WHEN pk_cols IS NULL THEN 'NULL'
                    ELSE format('jsonb_agg(jsonb_build_object(%s))',
                                (SELECT string_agg(format('%L, t.%I', c, c), ', ') FROM unnest(pk_cols) AS c)) END;
    assign := CASE WHEN client_columns = '{id}' THEN format('%I = $2', columns[1])
                   ELSE format('(%s) = (SELECT %s FROM crm.client c WHERE c.id = $2)',
                               (SELECT string_agg(format('%I', c), ', ') FROM unnest(columns) AS c),
                               (SELECT string_agg(format('c.%I', c), ', ') FROM unnest(client_columns) AS c)) END;
    -- MG-9: invoices moved to the target can be regenerated with its data
    IF relation = 'crm.invoice'::regclass THEN
        assign := assign || ', needs_refresh = true';
    END IF;
    IF relation = 'crm.contact'::regclass THEN
        -- a moved contact may lose its default flag (the target's stays):
        -- journal the row as it was, then move
        EXECUTE format('INSERT INTO crm.merge_log_row (merge_id, client_id, relation, constraint_name, action, row_key, row_data)
                        SELECT $2, $1, %L, %L, ''moved'', %s, jsonb_agg(to_jsonb(t)) FROM %s t WHERE %s HAVING count(*) > 0',
                       relation, constraint_name, row_key, scan, of_source)
            USING source_id, merge_id;
        EXECUTE format('UPDATE %s t SET %s WHERE %s', scan, assign, of_source)
            USING source_id, target_id;
    ELSE
        EXECUTE format('WITH moved AS (UPDATE %s t SET %s WHERE %s RETURNING %s)
                        INSERT INTO crm.merge_log_row (merge_id, client_id, relation, constraint_name, action, row_key, row_data)
                        SELECT $3, $1, %L, %L, ''moved'', %s, %s FROM moved t HAVING count(*) > 0',
                       scan, assign, of_source,
                       CASE WHEN pk_cols IS NULL THEN 't.*'
                            ELSE (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(pk_cols) AS c) END,
                       relation, constraint_name, row_key,
                       CASE WHEN pk_cols IS NULL THEN 'jsonb_agg(to_jsonb(t))' ELSE 'NULL' END)
            USING source_id, target_id, merge_id;
    END IF;
END
$$;
COMMENT ON FUNCTION crm.merge_table(bigint, regclass, name, name[], name[], bigint, bigint, text) IS
    'internal: moves, folds or drops the rows of one table from a source client to the target, journaling them';

-- Lock the clients of a merge, in id order, so that concurrent merges never
-- deadlock, and then their contacts' advisory locks.  Raises for a missing
-- or hidden client.
CREATE FUNCTION crm.merge_lock_clients(ids bigint[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    missing bigint;
    merged crm.merge_log;
    hidden crm.client;
BEGIN
    -- the rows first, then the contacts' advisory locks: a writer that holds
    -- a client's row (a linked row's foreign key) before its contacts' lock
    -- then finishes before the merge goes on
    PERFORM FROM crm.client c WHERE c.id = ANY (ids) ORDER BY c.id FOR UPDATE;
    PERFORM pg_advisory_xact_lock(hashtextextended('crm.contact', id))
    FROM unnest(ids) AS id ORDER BY id;
    SELECT min(u.id) INTO missing FROM unnest(ids) AS u(id)
    WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = u.id);
    IF missing IS NOT NULL THEN
        SELECT * INTO merged FROM crm.merge_log m
        WHERE m.source_ids @> ARRAY[missing] AND m.undone_at IS NULL
        ORDER BY m.id DESC LIMIT 1;
        RAISE EXCEPTION 'client % does not exist', missing
            USING ERRCODE = 'no_data_found',
                  HINT = CASE WHEN merged.id IS NOT NULL
                              THEN format('It was merged into client %s (merge %s).', merged.target_id, merged.id)
                              ELSE 'Check the client id.' END;
    END IF;
    PERFORM crm.refuse_anonymized(c) FROM crm.client c WHERE c.id = ANY (ids) ORDER BY c.id;
    SELECT * INTO hidden FROM crm.client c WHERE c.id = ANY (ids) AND c.hidden_at IS NOT NULL ORDER BY c.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'client % is hidden', hidden.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It was hidden at %s%s.', hidden.hidden_at,
                                  coalesce(format(' (%s)', hidden.hidden_reason), '')),
                  HINT = format('Unhide it with crm.unhide_client(%s) first.', hidden.id);
    END IF;
END
$$;
COMMENT ON FUNCTION crm.merge_lock_clients(bigint[]) IS
    'internal: locks the clients of a merge in id order; refuses missing and hidden ones';

CREATE FUNCTION crm.merge_clients(target_id bigint, source_ids bigint[], field_values jsonb DEFAULT NULL,
                                  contacts text DEFAULT 'union')
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    merge_id bigint;
    failure record;
    ref record;
    src bigint;
    key text;
    val jsonb;
    field crm.custom_field;
    picked_from bigint;
    picked text;
    left_behind text;
BEGIN
    PERFORM crm.merge_check_arguments(target_id, source_ids, field_values, contacts);
    PERFORM crm.merge_lock_clients(target_id || source_ids);
    -- a merge creates no new client: the duplicate check on save stays out
    PERFORM set_config('crm_merge.in_progress', 'on', true);

    SELECT * INTO failure FROM crm.merge_rule_check(target_id, source_ids) r
    WHERE r.enabled AND NOT r.passes
    ORDER BY array_position(ARRAY['structure', 'sync', 'consent'], r.rule), r.source_id
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = failure.sqlstate, MESSAGE = failure.message,
                              DETAIL = failure.detail, HINT = failure.hint;
    END IF;

    INSERT INTO crm.merge_log (target_id, source_ids, sources, target_before, field_values, contacts)
    SELECT merge_clients.target_id, merge_clients.source_ids,
           (SELECT jsonb_agg(to_jsonb(c) ORDER BY c.id) FROM crm.client c WHERE c.id = ANY (merge_clients.source_ids)),
           (SELECT to_jsonb(c) FROM crm.client c WHERE c.id = merge_clients.target_id),
           merge_clients.field_values, merge_clients.contacts
    RETURNING id INTO merge_id;

    -- a custom field taken from a source: the target's own value steps aside
    -- (journaled), so the source's moves in
    FOR key, val IN SELECT * FROM jsonb_each(coalesce(field_values, '{}')) WHERE jsonb_each.key LIKE 'custom:%' LOOP
        picked_from := (val #>> '{}')::bigint;
        SELECT * INTO field FROM crm.custom_field f WHERE lower(f.name) = lower(substr(key, 8));
        IF NOT FOUND THEN
            RAISE EXCEPTION 'custom field "%" does not exist', substr(key, 8) USING ERRCODE = 'undefined_object';
        END IF;
        IF picked_from <> target_id AND EXISTS (SELECT FROM crm.custom_value v
                                               WHERE v.client_id = picked_from AND v.field_id = field.id) THEN
            INSERT INTO crm.merge_log_row (merge_id, client_id, relation, action, row_data)
            SELECT merge_id, v.client_id, 'crm.custom_value'::regclass, 'dropped', to_jsonb(v)
            FROM crm.custom_value v WHERE v.client_id = target_id AND v.field_id = field.id;
            DELETE FROM crm.custom_value v WHERE v.client_id = target_id AND v.field_id = field.id;
            -- and the other sources' values of the field are folded
            INSERT INTO crm.merge_log_row (merge_id, client_id, relation, action, row_data)
            SELECT merge_id, v.client_id, 'crm.custom_value'::regclass, 'folded', to_jsonb(v)
            FROM crm.custom_value v
            WHERE v.field_id = field.id AND v.client_id = ANY (source_ids) AND v.client_id <> picked_from;
            DELETE FROM crm.custom_value v
            WHERE v.field_id = field.id AND v.client_id = ANY (source_ids) AND v.client_id <> picked_from;
        END IF;
    END LOOP;

    -- every row of every table that references a source moves to the target;
    -- rows the caller cannot see would be left behind, so such a table stops it
    FOREACH src IN ARRAY source_ids LOOP
        FOR ref IN SELECT * FROM crm.client_links(src) l WHERE l.row_count IS DISTINCT FROM 0 LOOP
            IF ref.row_count IS NULL OR row_security_active(ref.relation) THEN
                RAISE EXCEPTION 'cannot merge client %: % may hold rows of it that you cannot see', src,
                                crm.relation_name(ref.relation)
                    USING ERRCODE = 'insufficient_privilege',
                          DETAIL = CASE WHEN ref.row_count IS NULL THEN 'You may not read that table.'
                                        ELSE 'Row-level security applies to you on that table.' END,
                          HINT = 'Merge as a role that sees every row of every table linked to clients.';
            END IF;
            PERFORM crm.merge_table(merge_id, ref.relation, ref.constraint_name, ref.columns,
                                    ref.client_columns, src, target_id, contacts);
        END LOOP;
        -- nothing may be left (a trigger may have added rows meanwhile)
        SELECT string_agg(format('%s in %s', l.row_count, crm.relation_name(l.relation)), ', ')
        INTO left_behind FROM crm.client_links(src) l WHERE l.row_count > 0;
        IF left_behind IS NOT NULL THEN
            RAISE EXCEPTION 'cannot merge client %: rows of it were added during the merge', src
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('Still linked: %s.', left_behind),
                      HINT = 'Merge again; if triggers of yours add rows for the merged client, register a rule for their table in crm.merge_table_rule.';
        END IF;
    END LOOP;

    -- the field values chosen from a source (MG-4), in one update (a kind
    -- and the name it needs go together); the others stay the target's
    SELECT string_agg(format('%1$I = (jsonb_populate_record(NULL::crm.client, $1 -> %2$L)).%1$I', e.key, e.value #>> '{}'), ', ')
    INTO picked
    FROM jsonb_each(coalesce(field_values, '{}')) AS e
    WHERE e.key NOT LIKE 'custom:%' AND (e.value #>> '{}')::bigint <> target_id;
    IF picked IS NOT NULL THEN
        EXECUTE format('UPDATE crm.client c SET %s WHERE c.id = $2', picked)
            USING (SELECT jsonb_object_agg(s ->> 'id', s)
                   FROM jsonb_array_elements((SELECT m.sources FROM crm.merge_log m WHERE m.id = merge_id)) AS s),
                  target_id;
    END IF;

    -- the sources go; everything linked to them was moved and checked above,
    -- so their delete trigger need not count it all again
    FOREACH src IN ARRAY source_ids LOOP
        PERFORM set_config('crm_merge.source_id', src::text, true);
        DELETE FROM crm.client c WHERE c.id = src;
    END LOOP;
    PERFORM set_config('crm_merge.source_id', '', true);
    UPDATE crm.merge_log m SET target_after = (SELECT to_jsonb(c) FROM crm.client c WHERE c.id = target_id)
    WHERE m.id = merge_id;
    PERFORM set_config('crm_merge.in_progress', '', true);
    RETURN merge_id;
END
$$;
COMMENT ON FUNCTION crm.merge_clients(bigint, bigint[], jsonb, text) IS
    'merges several source clients into the target, all or nothing: every linked row moves (user tables too), rules checked, everything journaled; returns the merge id';

CREATE FUNCTION crm.merge_client(source_id bigint, target_id bigint, field_values jsonb DEFAULT NULL,
                                 contacts text DEFAULT 'union')
    RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
RETURN crm.merge_clients(target_id, ARRAY[source_id], field_values, contacts);
COMMENT ON FUNCTION crm.merge_client(bigint, bigint, jsonb, text) IS
    'merges the source ("incorrect") client into the target ("correct") one; returns the merge id in crm.merge_log';

CREATE FUNCTION crm.merge_preview(target_id bigint, source_ids bigint[]) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    ids bigint[] := target_id || source_ids;
    problems jsonb := '[]';
    tables jsonb := '[]';
    warnings jsonb := '[]';
    fields jsonb := '[]';
    ref record;
    src bigint;
    moving bigint;
    folding bigint;
    n bigint;
    clash text;
    indexed boolean;
    f text;
    vals jsonb;
    rules jsonb;
BEGIN
    BEGIN
        PERFORM crm.merge_check_arguments(target_id, source_ids, NULL, 'union');
    EXCEPTION WHEN OTHERS THEN
        problems := problems || jsonb_build_object('sqlstate', SQLSTATE, 'message', SQLERRM);
    END;
    problems := problems || coalesce((
        SELECT jsonb_agg(jsonb_build_object('sqlstate', 'P0002', 'message', format('client %s does not exist', u.id)))
        FROM unnest(ids) AS u(id)
        WHERE u.id IS NOT NULL AND NOT EXISTS (SELECT FROM crm.client c WHERE c.id = u.id)), '[]');
    problems := problems || coalesce((
        SELECT jsonb_agg(jsonb_build_object('sqlstate', '55000', 'message', format('client %s is hidden', c.id)))
        FROM crm.client c WHERE c.id = ANY (ids) AND c.hidden_at IS NOT NULL), '[]');
    problems := problems || coalesce((
        SELECT jsonb_agg(jsonb_build_object('sqlstate', '55000', 'message', format('client %s is anonymized', c.id)))
        FROM crm.client c WHERE c.id = ANY (ids) AND c.anonymized_at IS NOT NULL), '[]');

    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'rule', r.rule, 'source_id', r.source_id, 'enabled', r.enabled, 'passes', r.passes)
               || CASE WHEN r.passes THEN '{}'::jsonb
                       ELSE jsonb_build_object('sqlstate', r.sqlstate, 'message', r.message,
                                               'detail', r.detail, 'hint', r.hint) END
               ORDER BY r.source_id, r.rule), '[]')
    INTO rules
    FROM crm.merge_rule_check(target_id, source_ids) r;

    -- what happens to each table's rows (the counts of crm.client_links:
    -- a table the caller may not read is reported, not read)
    FOR ref IN SELECT * FROM crm.client_references() LOOP
        moving := 0;
        folding := 0;
        FOREACH src IN ARRAY coalesce(source_ids, '{}') LOOP
            SELECT l.row_count INTO n FROM crm.client_links(src) l
            WHERE l.relation = ref.relation AND l.constraint_name = ref.constraint_name;
            IF n IS NULL THEN
                IF EXISTS (SELECT FROM crm.client c WHERE c.id = src) THEN
                    problems := problems || jsonb_build_object('sqlstate', '42501', 'message',
                        format('%s may hold rows of client %s that you cannot see', crm.relation_name(ref.relation), src));
                END IF;
                CONTINUE;
            END IF;
            IF n > 0 AND row_security_active(ref.relation) THEN
                problems := problems || jsonb_build_object('sqlstate', '42501', 'message',
                    format('row-level security on %s may hide rows of client %s from you', crm.relation_name(ref.relation), src));
            END IF;
            moving := moving + n;
            CONTINUE WHEN n = 0;
            FOR clash IN SELECT * FROM crm.merge_fold_conditions(ref.relation, ref.columns, ref.client_columns) LOOP
                EXECUTE format('SELECT count(*) FROM %s t WHERE %s AND %s', crm.relation_scan(ref.relation),
                               crm.client_reference_condition(ref.columns, ref.client_columns, 1), clash)
                    INTO n USING src, target_id;
                folding := folding + n;
            END LOOP;
        END LOOP;
        IF moving > 0 AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = ref.relation AND i.indisprimary) THEN
            warnings := warnings || to_jsonb(format(
                'table %s has no primary key: its rows will move, but the merge cannot be undone',
                crm.relation_name(ref.relation)));
        END IF;
        indexed := EXISTS (SELECT FROM pg_index i WHERE i.indrelid = ref.relation
                           AND (SELECT array_agg(a.attname ORDER BY k.n)
                                FROM unnest(i.indkey[0:cardinality(ref.columns) - 1]) WITH ORDINALITY AS k(attnum, n)
                                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
                               @> ref.columns);
        IF NOT indexed THEN
            warnings := warnings || to_jsonb(format(
                'table %s has no index on (%s): merging a client reads the whole table; create one',
                crm.relation_name(ref.relation), array_to_string(ref.columns, ', ')));
        END IF;
        IF moving > 0 THEN
            tables := tables || jsonb_build_object(
                'table', crm.relation_name(ref.relation), 'constraint', ref.constraint_name,
                'action', crm.merge_table_action(ref.relation, 'union'),
                'action_if_contacts_target', crm.merge_table_action(ref.relation, 'target'),
                'rows', moving, 'fold_into_target', folding);
        END IF;
    END LOOP;

    -- the fields whose values differ between the records, with each one's value
    FOREACH f IN ARRAY crm.merge_fields() LOOP
        SELECT jsonb_object_agg(c.id::text, to_jsonb(c) -> f ORDER BY c.id) INTO vals
        FROM crm.client c WHERE c.id = ANY (ids);
        IF (SELECT count(DISTINCT v) FROM jsonb_each(coalesce(vals, '{}')) AS e(k, v)) > 1 THEN
            fields := fields || jsonb_build_object('field', f, 'values', vals);
        END IF;
    END LOOP;
    FOR f, vals IN
        SELECT 'custom:' || cf.name,
               jsonb_object_agg(c.id::text, coalesce(to_jsonb(v.number_value), to_jsonb(v.text_value)) ORDER BY c.id)
        FROM crm.custom_field cf CROSS JOIN crm.client c
        LEFT JOIN crm.custom_value v ON v.field_id = cf.id AND v.client_id = c.id
        WHERE c.id = ANY (ids)
        GROUP BY cf.id, cf.name
        HAVING count(DISTINCT coalesce(v.number_value::text, v.text_value)) + max(CASE WHEN v.client_id IS NULL THEN 1 ELSE 0 END) > 1
        ORDER BY cf.name
    LOOP
        fields := fields || jsonb_build_object('field', f, 'values', vals);
    END LOOP;

    RETURN jsonb_build_object(
        'target_id', target_id,
        'source_ids', to_jsonb(source_ids),
        'can_merge', jsonb_array_length(problems) = 0
                     AND NOT EXISTS (SELECT FROM jsonb_array_elements(rules) r
                                     WHERE (r ->> 'enabled')::boolean AND NOT (r ->> 'passes')::boolean),
        'problems', problems,
        'rules', rules,
        'tables', tables,
        'fields', fields,
        'contacts', jsonb_build_object(
            'union', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'kind', k.kind, 'value', k.value, 'clients', k.clients,
                                'default', k.target_default) ORDER BY k.kind, k.value), '[]')
                      FROM (SELECT c.kind, c.value, jsonb_agg(c.client_id ORDER BY c.client_id) AS clients,
                                   bool_or(c.is_default AND c.client_id = merge_preview.target_id) AS target_default
                            FROM crm.contact c WHERE c.client_id = ANY (ids)
                            GROUP BY c.kind, c.value) AS k),
            'target_drops', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                       'client_id', c.client_id, 'kind', c.kind, 'value', c.value)
                                       ORDER BY c.client_id, c.kind, c.value), '[]')
                             FROM crm.contact c WHERE c.client_id = ANY (source_ids)
                               AND NOT EXISTS (SELECT FROM crm.contact t
                                               WHERE t.client_id = merge_preview.target_id
                                                 AND t.kind = c.kind AND t.value = c.value))),
        'warnings', warnings);
END
$$;
COMMENT ON FUNCTION crm.merge_preview(bigint, bigint[]) IS
    'what merging the sources into the target would do, before anything happens: problems, rules, rows per table (moved, folded, dropped), differing fields, contacts kept or dropped, warnings';

-- SQL matching a moved row's journal entry (alias e: its key, or the row
-- where the table has no primary key) to the row t: by the primary key, less
-- the key columns the move changed (a key of only those leaves the target's
-- one row), or by its contents.
CREATE FUNCTION crm.merge_row_match(relation regclass, columns name[]) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT CASE
        WHEN pk.n = 0 THEN
            format('to_jsonb(t) - %L::text[] = e.item - %L::text[]', columns, columns)
        WHEN pk.cols IS NULL THEN 'true'
        ELSE format('(%s) = (SELECT %s FROM jsonb_populate_record(NULL::%s, e.item) k)',
                    (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(pk.cols) AS c),
                    (SELECT string_agg(format('k.%I', c), ', ') FROM unnest(pk.cols) AS c),
                    relation) END
    FROM (SELECT count(*) AS n,
                 array_agg(a.attname ORDER BY k.n) FILTER (WHERE a.attname <> ALL (columns)) AS cols
          FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attnum = k.attnum
          WHERE i.indrelid = relation AND i.indisprimary AND a.attrelid = relation) AS pk;
END;
COMMENT ON FUNCTION crm.merge_row_match(regclass, name[]) IS
    'internal: SQL text matching a journaled moved row (alias e) to its row in the table (alias t)';

CREATE FUNCTION crm.unmerge(merge_id bigint) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    m crm.merge_log;
    later crm.merge_log;
    grp record;
    ref record;
    found_rows bigint;
    field text;
    cols text;
    r_cols text;
BEGIN
    -- an undo brings back records the check on save knew: it stays out
    PERFORM set_config('crm_merge.in_progress', 'on', true);
    SELECT * INTO m FROM crm.merge_log l WHERE l.id = unmerge.merge_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'merge % does not exist', merge_id USING ERRCODE = 'no_data_found';
    END IF;
    IF m.anonymized_at IS NOT NULL THEN
        RAISE EXCEPTION 'merge % cannot be undone', merge_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('A client of it was anonymized at %s: the copies an undo needs are gone for good.',
                                  m.anonymized_at);
    END IF;
    IF m.undone_at IS NOT NULL THEN
        RAISE EXCEPTION 'merge % was already undone', merge_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('%s undid it at %s.', m.undone_by, m.undone_at);
    END IF;
    IF EXISTS (SELECT FROM crm.merge_log_row r WHERE r.merge_id = m.id AND r.action = 'function') THEN
        RAISE EXCEPTION 'merge % cannot be undone', m.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Merge handlers ran for %s; what they did is theirs to undo.',
                                  (SELECT string_agg(DISTINCT crm.relation_name(r.relation), ', ') FROM crm.merge_log_row r
                                   WHERE r.merge_id = m.id AND r.action = 'function'));
    END IF;

    IF EXISTS (SELECT FROM crm.merge_log_row r
               WHERE r.merge_id = m.id AND r.action = 'moved' AND r.row_key IS NULL) THEN
        RAISE EXCEPTION 'merge % cannot be undone', m.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It moved rows of %s, which has no primary key to find them by.',
                                  (SELECT string_agg(DISTINCT crm.relation_name(r.relation), ', ') FROM crm.merge_log_row r
                                   WHERE r.merge_id = m.id AND r.action = 'moved' AND r.row_key IS NULL));
    END IF;
    -- later merges into the same target may have folded into what this one
    -- brought: they are undone first, last first
    SELECT * INTO later FROM crm.merge_log l
    WHERE l.target_id = m.target_id AND l.id > m.id AND l.undone_at IS NULL
    ORDER BY l.id DESC LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cannot undo merge %: merge % merged into client % since', m.id, later.id, m.target_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Undo merge %s first.', later.id);
    END IF;

    PERFORM FROM crm.client c WHERE c.id = m.target_id FOR UPDATE;
    PERFORM pg_advisory_xact_lock(hashtextextended('crm.contact', id))
    FROM unnest(m.target_id || m.source_ids) AS id ORDER BY id;
    PERFORM FROM crm.client c WHERE c.id = m.target_id;
    IF NOT FOUND THEN
        SELECT * INTO later FROM crm.merge_log l
        WHERE l.source_ids @> ARRAY[m.target_id] AND l.undone_at IS NULL AND l.id > m.id
        ORDER BY l.id DESC LIMIT 1;
        RAISE EXCEPTION 'cannot undo merge %: client % no longer exists', m.id, m.target_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = CASE WHEN later.id IS NOT NULL
                              THEN format('Merge %s merged it into client %s since: undo merge %s first.',
                                          later.id, later.target_id, later.id)
                              ELSE 'It was deleted since; the merge cannot be undone.' END;
    END IF;
    IF EXISTS (SELECT FROM crm.client c WHERE c.id = ANY (m.source_ids)) THEN
        RAISE EXCEPTION 'cannot undo merge %: client % exists again', m.id,
                        (SELECT min(c.id) FROM crm.client c WHERE c.id = ANY (m.source_ids))
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    -- the fields the merge changed (chosen, or derived from them: a PESEL's
    -- birth date) still hold what it set
    FOR field IN SELECT b.key FROM jsonb_each(m.target_before) AS b
                 WHERE b.key <> ALL (crm.merge_system_fields())
                   AND b.value IS DISTINCT FROM m.target_after -> b.key LOOP
        IF (SELECT to_jsonb(c) -> field FROM crm.client c WHERE c.id = m.target_id)
           IS DISTINCT FROM m.target_after -> field THEN
            RAISE EXCEPTION 'cannot undo merge %: field % of client % changed since', m.id, field, m.target_id
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The merge set it to %s; it is now %s.', m.target_after -> field,
                                      (SELECT to_jsonb(c) -> field FROM crm.client c WHERE c.id = m.target_id));
        END IF;
    END LOOP;

    -- every moved row is still where the merge put it
    FOR grp IN SELECT r.relation, r.constraint_name,
                      sum(jsonb_array_length(coalesce(r.row_key, r.row_data))) AS moved
               FROM crm.merge_log_row r WHERE r.merge_id = m.id AND r.action = 'moved'
               GROUP BY r.relation, r.constraint_name LOOP
        SELECT * INTO ref FROM crm.client_references() x
        WHERE x.relation = grp.relation AND x.constraint_name = grp.constraint_name;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'cannot undo merge %: the foreign key % of % is gone',
                            m.id, grp.constraint_name, crm.relation_name(grp.relation)
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        EXECUTE format('SELECT count(*) FROM %s t, crm.merge_log_row j,
                             jsonb_array_elements(coalesce(j.row_key, j.row_data)) AS e(item)
                        WHERE j.merge_id = $1 AND j.relation = $3 AND j.constraint_name = $4 AND j.action = ''moved''
                          AND %s AND %s',
                       crm.relation_scan(grp.relation), crm.merge_row_match(grp.relation, ref.columns),
                       crm.client_reference_condition(ref.columns, ref.client_columns, 2))
            INTO found_rows USING m.id, m.target_id, grp.relation, grp.constraint_name;
        IF found_rows <> grp.moved THEN
            RAISE EXCEPTION 'cannot undo merge %: % of the % rows it moved into % were deleted or moved since',
                            m.id, grp.moved - found_rows, grp.moved, crm.relation_name(grp.relation)
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Put those rows back on the client first, or correct the records by hand.';
        END IF;
    END LOOP;

    -- undo: the source clients come back with their ids ...
    INSERT INTO crm.client SELECT * FROM jsonb_populate_recordset(NULL::crm.client, m.sources);
    -- ... their rows move back ...
    FOR grp IN SELECT DISTINCT r.relation, r.constraint_name
               FROM crm.merge_log_row r WHERE r.merge_id = m.id AND r.action = 'moved' LOOP
        SELECT * INTO ref FROM crm.client_references() x
        WHERE x.relation = grp.relation AND x.constraint_name = grp.constraint_name;
        EXECUTE format('UPDATE %s t SET (%s) = (SELECT %s FROM crm.client c WHERE c.id = j.client_id)%s
                        FROM crm.merge_log_row j,
                             jsonb_array_elements(coalesce(j.row_key, j.row_data)) WITH ORDINALITY AS e(item, n)
                        WHERE j.merge_id = $1 AND j.relation = $3 AND j.constraint_name = $4 AND j.action = ''moved''
                          AND %s AND %s',
                       crm.relation_scan(grp.relation),
                       (SELECT string_agg(format('%I', c), ', ') FROM unnest(ref.columns) AS c),
                       (SELECT string_agg(format('c.%I', c), ', ') FROM unnest(ref.client_columns) AS c),
                       CASE grp.relation
                            WHEN 'crm.contact'::regclass
                            THEN ', is_default = (j.row_data -> (e.n::int - 1) ->> ''is_default'')::boolean'
                            -- MG-9 both ways: the billed party's data may need the source's again
                            WHEN 'crm.invoice'::regclass THEN ', needs_refresh = true'
                            ELSE '' END,
                       crm.merge_row_match(grp.relation, ref.columns),
                       crm.client_reference_condition(ref.columns, ref.client_columns, 2))
            USING m.id, m.target_id, grp.relation, grp.constraint_name;
        -- rows changed by another session since the check would be skipped
        GET DIAGNOSTICS found_rows = ROW_COUNT;
        IF found_rows <> (SELECT sum(jsonb_array_length(coalesce(r.row_key, r.row_data))) FROM crm.merge_log_row r
                          WHERE r.merge_id = m.id AND r.relation = grp.relation
                            AND r.constraint_name = grp.constraint_name AND r.action = 'moved') THEN
            RAISE EXCEPTION 'cannot undo merge %: rows it moved into % changed while it was undone', m.id,
                            crm.relation_name(grp.relation)
                USING ERRCODE = 'serialization_failure', HINT = 'Try again.';
        END IF;
    END LOOP;
    -- ... what was dropped or folded is restored ...
    -- (a table whose rows reference another restored one's comes after it:
    -- consents after the documents confirming them)
    FOR grp IN SELECT r.relation FROM crm.merge_log_row r
               WHERE r.merge_id = m.id AND r.action IN ('dropped', 'folded')
               GROUP BY r.relation
               ORDER BY EXISTS (SELECT FROM pg_constraint con, crm.merge_log_row o
                                WHERE con.contype = 'f' AND con.conrelid = r.relation
                                  AND o.merge_id = m.id AND o.relation <> r.relation
                                  AND con.confrelid = o.relation),
                        r.relation::text LOOP
        SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum),
               string_agg(format('r.%I', a.attname), ', ' ORDER BY a.attnum)
        INTO cols, r_cols
        FROM pg_attribute a
        WHERE a.attrelid = grp.relation AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
        BEGIN
            EXECUTE format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE
                            SELECT %s FROM crm.merge_log_row j,
                                 LATERAL jsonb_populate_record(NULL::%s, j.row_data) AS r
                            WHERE j.merge_id = $1 AND j.relation = $2 AND j.action IN (''dropped'', ''folded'')',
                           grp.relation, cols, r_cols, grp.relation)
                USING m.id, grp.relation;
        EXCEPTION WHEN unique_violation OR exclusion_violation OR foreign_key_violation THEN
            RAISE EXCEPTION 'cannot undo merge %: a row it removed from % no longer fits', m.id,
                            crm.relation_name(grp.relation)
                USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = SQLERRM,
                      HINT = 'A row added since clashes with it, or a row it refers to was deleted since.';
        END;
    END LOOP;
    -- ... and the target's fields are what they were, in one update
    SELECT string_agg(format('%1$I = (jsonb_populate_record(NULL::crm.client, $1)).%1$I', b.key), ', ')
    INTO cols
    FROM jsonb_each(m.target_before) AS b
    WHERE b.key <> ALL (crm.merge_system_fields()) AND b.value IS DISTINCT FROM m.target_after -> b.key;
    IF cols IS NOT NULL THEN
        EXECUTE format('UPDATE crm.client c SET %s WHERE c.id = $2', cols) USING m.target_before, m.target_id;
    END IF;

    UPDATE crm.merge_log l SET undone_at = now(), undone_by = current_user WHERE l.id = m.id;
    PERFORM set_config('crm_merge.in_progress', '', true);
    RETURN m.source_ids[1];
END
$$;
COMMENT ON FUNCTION crm.unmerge(bigint) IS
    'undoes a merge: the source clients come back with their ids, their rows move back, what was dropped or folded returns; refuses (55000) where later changes make that unsafe; returns the (first) restored client id';

REVOKE ALL ON FUNCTION crm.merge_clients(bigint, bigint[], jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.merge_client(bigint, bigint, jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.unmerge(bigint) FROM PUBLIC;

--------------------------------------------------------------------------
-- Duplicates (SPEC section 5, CL-8): exact criteria, call identification
--------------------------------------------------------------------------

CREATE FUNCTION crm.fold_text(text) RETURNS text
    AS 'MODULE_PATHNAME', 'fold_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.fold_text(text) IS
    'text as duplicate criteria compare it: white space trimmed and collapsed to single spaces, Unicode case folding (diacritics kept)';

CREATE FUNCTION crm.identify_phone(phone text) RETURNS SETOF bigint
    LANGUAGE sql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT DISTINCT k.client_id
    FROM crm.contact k JOIN crm.client c ON c.id = k.client_id
    WHERE k.kind = 'phone' AND k.value = crm.normalize_phone(identify_phone.phone)
      AND c.hidden_at IS NULL
    ORDER BY k.client_id;
END;
COMMENT ON FUNCTION crm.identify_phone(text) IS
    'incoming-call identification: the visible clients that have this phone number, typed in any format';

-- Name matching (fuzzy duplicates).  IMMUTABLE like fold_text: the forms
-- come from ICU's transliteration rules, so an index on them is rebuilt
-- after an ICU major upgrade, as for any ICU collation.
CREATE FUNCTION crm.normalize_name(text) RETURNS text
    AS 'MODULE_PATHNAME', 'normalize_name' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.normalize_name(text) IS
    'the matching form of a name: transliterated to ASCII (Ł -> l, é -> e, Cyrillic to Latin), lower case, punctuation and spacing reduced to single spaces';

CREATE FUNCTION crm.normalize_company(text) RETURNS text
    AS 'MODULE_PATHNAME', 'normalize_company' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.normalize_company(text) IS
    'the matching form of a company name without its legal form (sp. z o.o., S.A., sp.j., GmbH ...)';

CREATE FUNCTION crm.first_name_canonical(text) RETURNS text
    AS 'MODULE_PATHNAME', 'first_name_canonical' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.first_name_canonical(text) IS
    'the full form of a Polish first name given as a diminutive (Kasia -> katarzyna), otherwise its matching form';

CREATE FUNCTION crm.name_similarity(text, text) RETURNS real
    AS 'MODULE_PATHNAME', 'name_similarity' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.name_similarity(text, text) IS
    'Jaro-Winkler similarity (0..1) of the matching forms of two names, word order ignored';

CREATE FUNCTION crm.typo_distance(text, text) RETURNS integer
    AS 'MODULE_PATHNAME', 'typo_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.typo_distance(text, text) IS
    'edits apart (insertion, deletion, substitution, transposition of neighbours), counted up to 3; 4 means more';

CREATE FUNCTION crm.match_keys(kind text, first_name text, last_name text, company_name text,
                               city text, address text)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'match_keys' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm.match_keys(text, text, text, text, text, text) IS
    'the blocking keys of a client for fuzzy duplicate search (see doc/duplicates.md); indexed with GIN';
CREATE INDEX client_match_keys_idx ON crm.client
    USING gin (crm.match_keys(kind, first_name, last_name, company_name, city, address))
    -- no pending list: lookups after many inserts stay as fast (measured:
    -- a candidates median of 23.5 ms with a full pending list, 4.4 ms without)
    WITH (fastupdate = off);

-- Fellegi-Sunter weights: log2(m/u) of each kind of evidence, m the
-- share of true duplicate pairs that show it and u the share of other
-- pairs.  The score of a pair is 1 / (1 + 2^-(prior + sum of its weights)).
-- The defaults live in C with the scoring (src/scoring.c); crm.match_weight holds a site's own values, so
-- a dump restores them over a fresh install without conflict.
CREATE FUNCTION crm.match_weight_defaults()
    RETURNS TABLE (evidence text, weight real, description text)
    AS 'MODULE_PATHNAME', 'match_weight_defaults' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm.match_weight_defaults() IS
    'the default weights of duplicate evidence (log2 likelihood ratios) with what each means';

CREATE TABLE crm.match_weight (
    evidence    text PRIMARY KEY,
    weight      real NOT NULL CHECK (weight BETWEEN -100 AND 100)
);
COMMENT ON TABLE crm.match_weight IS
    'a site''s own weights of duplicate evidence, over crm.match_weight_defaults(); delete a row to go back to the default';

CREATE FUNCTION crm.match_weight_check() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM crm.match_weight_defaults() d WHERE d.evidence = NEW.evidence) THEN
        RAISE EXCEPTION 'unknown duplicate evidence "%"', NEW.evidence
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The evidence a weight can be given for is listed by crm.match_weight_defaults().',
                  HINT = format('Use one of: %s.', (SELECT string_agg(d.evidence, ', ' ORDER BY d.evidence)
                                                   FROM crm.match_weight_defaults() d));
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm.match_weight_check() IS 'trigger: a weight is for evidence the scoring knows';
CREATE TRIGGER match_weight_check BEFORE INSERT OR UPDATE ON crm.match_weight
    FOR EACH ROW EXECUTE FUNCTION crm.match_weight_check();

CREATE VIEW crm.match_weights_in_use WITH (security_invoker = true) AS
    SELECT d.evidence, coalesce(w.weight, d.weight) AS weight, d.weight AS default_weight,
           w.weight IS NOT NULL AS changed, d.description
    FROM crm.match_weight_defaults() d LEFT JOIN crm.match_weight w USING (evidence);
COMMENT ON VIEW crm.match_weights_in_use IS 'the weights duplicate scoring uses now: the site''s own or the default';
-- everyone who may search for duplicates reads the weights; changing them is the DBA's
GRANT SELECT ON crm.match_weight, crm.match_weights_in_use TO PUBLIC;

-- the weights in use as one jsonb object, the w of crm.match_score()
CREATE FUNCTION crm.match_weights() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT jsonb_object_agg(u.evidence, u.weight) FROM crm.match_weights_in_use u;
END;
COMMENT ON FUNCTION crm.match_weights() IS 'the weights in use as one jsonb object: the w of crm.match_score()';

-- The score and the reasons of one pair of clients, in C (src/scoring.c,
-- which the searches use directly).  shared: the phones and e-mails they
-- have in common, as 'phone:+48601234567' (e-mails compared in lower case:
-- contacts keep the case they were typed in); w: crm.match_weights().
CREATE FUNCTION crm.match_score(a crm.client, b crm.client, shared text[], w jsonb,
                                OUT score real, OUT reasons text[])
    AS 'MODULE_PATHNAME', 'match_score' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm.match_score(crm.client, crm.client, text[], jsonb) IS
    'score (0..1) and readable reasons of one pair of clients under the weights w; shared lists their common phones and e-mails';

-- the default threshold of the candidate searches
CREATE FUNCTION crm.default_min_score() RETURNS real
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    RETURN 0.5;
COMMENT ON FUNCTION crm.default_min_score() IS 'the min_score of the duplicate searches when none is given: 0.5';

-- Blocks larger than this are not compared pair by pair (a phone shared
-- by a whole call centre, the commonest names): see doc/duplicates.md.
CREATE FUNCTION crm.max_block_size() RETURNS integer
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    RETURN 200;
COMMENT ON FUNCTION crm.max_block_size() IS 'blocking keys shared by more visible clients than this are skipped: 200';

-- in C (src/candidates.c): the blocks of the client's keys through the
-- indexes, each cut at crm.max_block_size() + 1, then one read of the
-- clients found and scoring as in crm.match_score
CREATE FUNCTION crm.duplicate_candidates(client_id bigint, min_score real DEFAULT NULL)
    RETURNS TABLE (candidate_id bigint, score real, reasons text[])
    AS 'MODULE_PATHNAME', 'duplicate_candidates' LANGUAGE C STABLE
    -- the identifier operators live in crm
    SET search_path = pg_catalog, crm, pg_temp;
COMMENT ON FUNCTION crm.duplicate_candidates(bigint, real) IS
    'fuzzy duplicate candidates for one client, best first: score (0..1) and the reasons';

-- in C (src/pairs.c): reads the visible base once, blocks on hashed keys
-- and scores each pair with crm.match_score's code
CREATE FUNCTION crm.duplicate_pairs(min_score real DEFAULT NULL)
    RETURNS TABLE (client_a bigint, client_b bigint, score real, reasons text[])
    AS 'MODULE_PATHNAME', 'duplicate_pairs' LANGUAGE C STABLE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION crm.duplicate_pairs(real) IS
    'fuzzy duplicate pairs over all visible clients, best first; only clients sharing a blocking key are compared';

-- The fields a duplicate criterion can name besides phone, email and
-- custom:<name>: every column of crm.client but the id and the system's
-- timestamps.
CREATE FUNCTION crm.find_duplicates(criteria text[])
    RETURNS TABLE (group_id bigint, client_id bigint, is_oldest boolean,
                   created_at timestamptz, display_name text, matched jsonb)
    LANGUAGE plpgsql STABLE
    -- the criteria compare crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    parts text[] := '{}';
    joins text := '';
    crit text;
    typ regtype;
    field crm.custom_field;
    n int := 0;
BEGIN
    IF criteria IS NULL OR array_position(criteria, NULL) IS NOT NULL
       OR cardinality(criteria) NOT BETWEEN 1 AND 7 THEN
        RAISE EXCEPTION 'duplicates are found by 1 to 7 criteria, not %', coalesce(cardinality(criteria), 0)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example: crm.find_duplicates(ARRAY[''last_name'', ''phone'']).';
    END IF;
    IF (SELECT count(DISTINCT x) FROM unnest(criteria) AS x) < cardinality(criteria) THEN
        RAISE EXCEPTION 'a criterion is named twice: %', array_to_string(criteria, ', ')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    FOREACH crit IN ARRAY criteria LOOP
        n := n + 1;
        IF crit IN ('phone', 'email') THEN
            -- any of the client's phones (E.164) or e-mails (case folded)
            joins := joins || format(' JOIN crm.contact k%1$s ON k%1$s.client_id = c.id AND k%1$s.kind = %2$L', n, crit);
            parts := parts || CASE crit WHEN 'phone' THEN format('k%s.value', n)
                                        ELSE format('crm.fold_text(k%s.value)', n) END;
        ELSIF crit LIKE 'custom:%' THEN
            SELECT * INTO field FROM crm.custom_field f WHERE lower(f.name) = lower(substr(crit, 8));
            IF NOT FOUND THEN
                RAISE EXCEPTION 'custom field "%" does not exist', substr(crit, 8) USING ERRCODE = 'undefined_object';
            END IF;
            joins := joins || format(' JOIN crm.custom_value v%1$s ON v%1$s.client_id = c.id AND v%1$s.field_id = %2$s',
                                     n, field.id);
            parts := parts || CASE field.type WHEN 'number' THEN format('v%s.number_value::text', n)
                                              ELSE format('crm.fold_text(v%s.text_value)', n) END;
        ELSE
            SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
            WHERE a.attrelid = 'crm.client'::regclass AND a.attname = crit AND a.attnum > 0 AND NOT a.attisdropped
              AND a.attname NOT IN ('id', 'created_at', 'updated_at', 'last_contact_at', 'hidden_at', 'hidden_reason',
                                    'anonymized_at');
            IF NOT FOUND THEN
                RAISE EXCEPTION 'unrecognized duplicate criterion "%"', crit
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Name a field of crm.client (first_name, last_name, company_name, city, address, pesel, nip, regon, external_id, ...), phone, email or custom:<field name>.';
            END IF;
            parts := parts || CASE WHEN typ IN ('text'::regtype, 'character varying'::regtype)
                                   THEN format('crm.fold_text(c.%I)', crit)
                                   ELSE format('c.%I::text', crit) END;
        END IF;
    END LOOP;

    -- a client with several phones can stand in several groups
    RETURN QUERY EXECUTE format($q$
        WITH keyed AS (
            SELECT DISTINCT c.id, c.created_at, c.display_name, ARRAY[%1$s] AS key
            FROM crm.client c%2$s
            WHERE c.hidden_at IS NULL AND c.anonymized_at IS NULL AND %3$s
        ), numbered AS (
            SELECT k.key, row_number() OVER (ORDER BY min(k.id), k.key) AS group_id
            FROM keyed k GROUP BY k.key HAVING count(*) > 1
        )
        SELECT g.group_id, k.id,
               row_number() OVER (PARTITION BY g.group_id ORDER BY k.created_at, k.id) = 1,
               k.created_at, k.display_name, jsonb_object($1, k.key)
        FROM numbered g JOIN keyed k ON k.key = g.key
        ORDER BY g.group_id, k.created_at, k.id
        $q$,
        array_to_string(parts, ', '), joins,
        (SELECT string_agg(format('%1$s IS NOT NULL AND %1$s <> %2$L', p, ''), ' AND ') FROM unnest(parts) AS p))
        USING criteria;
END
$$;
COMMENT ON FUNCTION crm.find_duplicates(text[]) IS
    'groups of two or more visible clients that agree on all of 1 to 7 criteria (fields, phone, email, custom:<name>), compared trimmed and case folded; is_oldest marks the earliest created record of each group';

-- Progress of a long run, as a NOTICE every 5 % of the work (at most 20),
-- only for runs of at least 1,000 items that have taken 5 seconds: the
-- count done and the time left at the rate so far (src/progress.c).
CREATE FUNCTION crm.report_progress(what text, done bigint, total bigint, started timestamptz)
    RETURNS void
    AS 'MODULE_PATHNAME', 'report_progress' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION crm.report_progress(text, bigint, bigint, timestamptz) IS
    'a NOTICE with counts and the time left every 5 % of a run of 1,000 items or more, once it has taken 5 s';

CREATE FUNCTION crm.dedupe(criteria text[], action text) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    g record;
    newest crm.client;
    fields jsonb;
    groups bigint := 0;
    total bigint;
    merged bigint := 0;
    deleted bigint := 0;
    skipped jsonb := '[]';
    victim bigint;
    started timestamptz := clock_timestamp();
BEGIN
    IF action IS NULL OR action NOT IN ('merge', 'delete') THEN
        RAISE EXCEPTION 'unknown dedupe action "%"', action
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''merge'' (into the oldest record) or ''delete'' (all but the oldest).';
    END IF;
    CREATE TEMP TABLE crm_dedupe_group ON COMMIT DROP AS
        SELECT d.group_id, d.client_id, d.is_oldest, d.created_at FROM crm.find_duplicates(criteria) d;
    SELECT count(DISTINCT d.group_id) INTO total FROM crm_dedupe_group d;

    FOR g IN
        SELECT d.group_id,
               (array_agg(d.client_id ORDER BY d.is_oldest DESC, d.created_at, d.client_id))[1] AS keep,
               array_agg(d.client_id ORDER BY d.created_at, d.client_id) FILTER (WHERE NOT d.is_oldest) AS others,
               (array_agg(d.client_id ORDER BY d.created_at DESC, d.client_id DESC))[1] AS newest_id
        FROM crm_dedupe_group d GROUP BY d.group_id ORDER BY d.group_id
    LOOP
        groups := groups + 1;
        IF action = 'merge' THEN
            -- field values from the newest record wherever it has one
            SELECT * INTO newest FROM crm.client c WHERE c.id = g.newest_id;
            SELECT jsonb_object_agg(f, g.newest_id) INTO fields
            FROM unnest(crm.merge_fields()) f
            WHERE g.newest_id <> g.keep AND to_jsonb(newest) ->> f IS NOT NULL;
            BEGIN
                PERFORM crm.merge_clients(g.keep, g.others, fields, 'union');
                merged := merged + cardinality(g.others);
            EXCEPTION
                WHEN insufficient_privilege OR undefined_function OR undefined_table THEN
                    RAISE;
                WHEN OTHERS THEN
                -- a merge rule refused the group: it stays as it was
                skipped := skipped || jsonb_build_object('group_id', g.group_id, 'kept', g.keep,
                                                         'clients', to_jsonb(g.others), 'reason', SQLERRM);
            END;
        ELSE
            FOREACH victim IN ARRAY g.others LOOP
                BEGIN
                    PERFORM crm.delete_client(victim);
                    deleted := deleted + 1;
                EXCEPTION WHEN foreign_key_violation THEN
                    skipped := skipped || jsonb_build_object('group_id', g.group_id, 'kept', g.keep,
                                                             'clients', jsonb_build_array(victim),
                                                             'reason', 'has linked business records: ' || SQLERRM);
                END;
            END LOOP;
        END IF;
        PERFORM crm.report_progress('dedupe', groups, total, started);
    END LOOP;
    DROP TABLE crm_dedupe_group;
    RETURN jsonb_build_object('groups', groups, 'merged', merged, 'deleted', deleted,
                              'skipped', (SELECT coalesce(sum(jsonb_array_length(s -> 'clients')), 0)
                                          FROM jsonb_array_elements(skipped) s),
                              'skipped_detail', skipped);
END
$$;
REVOKE ALL ON FUNCTION crm.dedupe(text[], text) FROM PUBLIC;
COMMENT ON FUNCTION crm.dedupe(text[], text) IS
    'bulk dedupe of the find_duplicates groups: merge each into its oldest record (field values from the newest) or delete all but the oldest, skipping and reporting what a rule or a linked business record protects';

-- A manual dedupe plan (SPEC DU-3): proposed groups the user reviews and
-- edits with plain UPDATEs, previews, and applies in one transaction.
-- The plan tables name clients without foreign keys: a merge must not
-- carry plan rows along; apply checks every client still exists.
CREATE TABLE crm.dedupe_plan (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    origin      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT current_user,
    applied_at  timestamptz,
    applied_by  text,
    result      jsonb
);
COMMENT ON TABLE crm.dedupe_plan IS
    'manual dedupe plans: where the groups came from, and when and by whom the plan was applied';

CREATE TABLE crm.dedupe_plan_item (
    plan_id     bigint NOT NULL REFERENCES crm.dedupe_plan (id) ON DELETE CASCADE,
    group_no    integer NOT NULL,
    client_id   bigint NOT NULL,
    is_main     boolean NOT NULL DEFAULT false,
    action      text NOT NULL DEFAULT 'merge' CHECK (action IN ('merge', 'delete', 'nothing')),
    display_name text,
    created_at  timestamptz,
    PRIMARY KEY (plan_id, client_id),
    -- one main record per group, checked at commit: one UPDATE can move it
    CONSTRAINT dedupe_plan_item_one_main EXCLUDE USING btree (plan_id WITH =, group_no WITH =)
        WHERE (is_main) DEFERRABLE INITIALLY DEFERRED
);
COMMENT ON TABLE crm.dedupe_plan_item IS
    'the records of a plan''s groups: is_main marks the record to keep (its action is ignored); the others are merged into it, deleted, or left (nothing)';

CREATE TABLE crm.dedupe_plan_choice (
    plan_id     bigint NOT NULL REFERENCES crm.dedupe_plan (id) ON DELETE CASCADE,
    group_no    integer NOT NULL,
    choice      text NOT NULL,
    client_id   bigint,
    value       text,
    PRIMARY KEY (plan_id, group_no, choice),
    CONSTRAINT dedupe_plan_choice_kind CHECK (
        (choice IN ('default_phone', 'default_email') AND value IS NOT NULL AND client_id IS NULL)
        OR (choice NOT IN ('default_phone', 'default_email') AND client_id IS NOT NULL AND value IS NULL))
);
COMMENT ON TABLE crm.dedupe_plan_choice IS
    'per group: a field''s value taken from a record (choice = field name or custom:<name>, client_id), or the default phone/e-mail after the merge (choice = default_phone/default_email, value)';

-- Plans are built from the exact groups of find_duplicates or from the
-- connected pairs of duplicate_pairs.
CREATE FUNCTION crm.dedupe_plan_fill(plan_id bigint, groups regclass) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    -- groups: a temporary table (group_no integer, client_id bigint);
    -- numbered again in the order of their oldest records
    EXECUTE format($q$
        INSERT INTO crm.dedupe_plan_item (plan_id, group_no, client_id, is_main, display_name, created_at)
        SELECT %s, dense_rank() OVER (ORDER BY x.group_oldest, x.group_no), x.id, x.rn = 1,
               x.display_name, x.created_at
        FROM (SELECT g.group_no, c.id, c.display_name, c.created_at,
                     row_number() OVER (PARTITION BY g.group_no ORDER BY c.created_at, c.id) AS rn,
                     min(c.created_at) OVER (PARTITION BY g.group_no) AS group_oldest
              FROM %s g JOIN crm.client c ON c.id = g.client_id) x$q$, plan_id, groups);
    RETURN plan_id;
END
$$;
COMMENT ON FUNCTION crm.dedupe_plan_fill(bigint, regclass) IS
    'fills a new plan with groups, the oldest record of each as the main one and the others to merge';

CREATE FUNCTION crm.dedupe_plan_create(criteria text[]) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    plan bigint;
BEGIN
    CREATE TEMP TABLE crm_plan_group ON COMMIT DROP AS
        SELECT d.group_id::integer AS group_no, d.client_id FROM crm.find_duplicates(criteria) d;
    INSERT INTO crm.dedupe_plan (origin) VALUES (format('find_duplicates(%s)', criteria)) RETURNING id INTO plan;
    PERFORM crm.dedupe_plan_fill(plan, 'pg_temp.crm_plan_group');
    DROP TABLE crm_plan_group;
    RETURN plan;
END
$$;
COMMENT ON FUNCTION crm.dedupe_plan_create(text[]) IS
    'a manual dedupe plan from the groups of crm.find_duplicates(criteria); returns its id';

CREATE FUNCTION crm.dedupe_plan_create(min_score real) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    plan bigint;
    changed bigint;
BEGIN
    -- clients joined by candidate pairs form one group: each takes the
    -- smallest id it is connected to
    CREATE TEMP TABLE crm_plan_pair ON COMMIT DROP AS
        SELECT p.client_a, p.client_b FROM crm.duplicate_pairs(min_score) p;
    CREATE TEMP TABLE crm_plan_label ON COMMIT DROP AS
        SELECT x.id AS client_id, x.id AS label
        FROM (SELECT client_a AS id FROM crm_plan_pair UNION SELECT client_b FROM crm_plan_pair) x;
    LOOP
        UPDATE crm_plan_label l SET label = m.label
        FROM (SELECT e.id, min(l2.label) AS label
              FROM (SELECT client_a AS id, client_b AS other FROM crm_plan_pair
                    UNION ALL SELECT client_b, client_a FROM crm_plan_pair) e
              JOIN crm_plan_label l2 ON l2.client_id = e.other
              GROUP BY e.id) m
        WHERE m.id = l.client_id AND m.label < l.label;
        GET DIAGNOSTICS changed = ROW_COUNT;
        EXIT WHEN changed = 0;
    END LOOP;
    CREATE TEMP TABLE crm_plan_group ON COMMIT DROP AS
        SELECT dense_rank() OVER (ORDER BY l.label)::integer AS group_no, l.client_id FROM crm_plan_label l;
    INSERT INTO crm.dedupe_plan (origin)
    VALUES (format('duplicate_pairs(%s)', coalesce(min_score, crm.default_min_score()))) RETURNING id INTO plan;
    PERFORM crm.dedupe_plan_fill(plan, 'pg_temp.crm_plan_group');
    DROP TABLE crm_plan_pair, crm_plan_label, crm_plan_group;
    RETURN plan;
END
$$;
COMMENT ON FUNCTION crm.dedupe_plan_create(real) IS
    'a manual dedupe plan from crm.duplicate_pairs(min_score): clients linked by candidate pairs form a group; returns its id';

-- What applying the plan will do, group by group, and what stands in the way.
CREATE FUNCTION crm.dedupe_plan_preview(plan_id bigint)
    RETURNS TABLE (group_no integer, main_id bigint, merge_ids bigint[], delete_ids bigint[],
                   unchanged_ids bigint[], choices jsonb, problems text[])
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT i.group_no,
           min(i.client_id) FILTER (WHERE i.is_main),
           coalesce(array_agg(i.client_id ORDER BY i.client_id) FILTER (WHERE i.action = 'merge' AND NOT i.is_main), '{}'),
           coalesce(array_agg(i.client_id ORDER BY i.client_id) FILTER (WHERE i.action = 'delete' AND NOT i.is_main), '{}'),
           coalesce(array_agg(i.client_id ORDER BY i.client_id) FILTER (WHERE i.action = 'nothing' AND NOT i.is_main), '{}'),
           (SELECT jsonb_object_agg(ch.choice, coalesce(to_jsonb(ch.client_id), to_jsonb(ch.value)))
            FROM crm.dedupe_plan_choice ch WHERE ch.plan_id = dedupe_plan_preview.plan_id AND ch.group_no = i.group_no),
           array_remove(ARRAY[
               CASE WHEN count(*) FILTER (WHERE i.is_main) = 0
                         AND count(*) FILTER (WHERE i.action IN ('merge', 'delete')) > 0
                    THEN 'no main record chosen' END,
               CASE WHEN count(*) FILTER (WHERE i.is_main) > 1 THEN 'more than one main record' END,
               CASE WHEN count(*) FILTER (WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = i.client_id)) > 0
                    THEN 'a record no longer exists: ' || string_agg(i.client_id::text, ', ')
                             FILTER (WHERE NOT EXISTS (SELECT FROM crm.client c WHERE c.id = i.client_id)) END],
               NULL)
           || coalesce((SELECT array_agg(format('%s: %s', r.rule, r.message) ORDER BY r.rule, r.source_id)
                        FROM crm.merge_rule_check(
                                 min(i.client_id) FILTER (WHERE i.is_main),
                                 array_agg(i.client_id) FILTER (WHERE i.action = 'merge' AND NOT i.is_main)) r
                        WHERE r.enabled AND NOT r.passes
                          AND min(i.client_id) FILTER (WHERE i.is_main) IS NOT NULL
                          AND count(*) FILTER (WHERE i.action = 'merge' AND NOT i.is_main) > 0), '{}')
    FROM crm.dedupe_plan_item i
    WHERE i.plan_id = dedupe_plan_preview.plan_id
    GROUP BY i.group_no
    ORDER BY i.group_no;
END;
COMMENT ON FUNCTION crm.dedupe_plan_preview(bigint) IS
    'what applying a dedupe plan does per group (main record, merged, deleted, unchanged, choices) and what would stop it';

CREATE FUNCTION crm.dedupe_plan_apply(plan_id bigint) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    p crm.dedupe_plan;
    g record;
    v text;
    total bigint;
    done bigint := 0;
    merged bigint := 0;
    deleted bigint := 0;
    started timestamptz := clock_timestamp();
    summary jsonb;
BEGIN
    SELECT * INTO p FROM crm.dedupe_plan d WHERE d.id = plan_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'dedupe plan % does not exist', plan_id USING ERRCODE = 'no_data_found';
    END IF;
    IF p.applied_at IS NOT NULL THEN
        RAISE EXCEPTION 'dedupe plan % was already applied', plan_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Applied at %s by %s.', p.applied_at, p.applied_by),
                  HINT = 'Create a new plan for what is left.';
    END IF;
    SELECT count(*) INTO total FROM crm.dedupe_plan_preview(plan_id) pv
    WHERE cardinality(pv.merge_ids) + cardinality(pv.delete_ids) > 0;

    FOR g IN SELECT * FROM crm.dedupe_plan_preview(plan_id) pv
             WHERE cardinality(pv.merge_ids) + cardinality(pv.delete_ids) > 0 LOOP
        IF g.problems <> '{}' THEN
            RAISE EXCEPTION 'dedupe plan % cannot be applied: group % has a problem', plan_id, g.group_no
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = array_to_string(g.problems, '; ') || '.',
                      HINT = format('Fix the group in crm.dedupe_plan_item (UPDATE its actions or main record) or set its records to nothing; see crm.dedupe_plan_preview(%s).', plan_id);
        END IF;
        IF cardinality(g.merge_ids) > 0 THEN
            PERFORM crm.merge_clients(g.main_id, g.merge_ids,
                (SELECT jsonb_object_agg(k, e.value) FROM jsonb_each(coalesce(g.choices, '{}')) e(k, value)
                 WHERE k NOT IN ('default_phone', 'default_email')),
                'union');
            merged := merged + cardinality(g.merge_ids);
        END IF;
        FOREACH v IN ARRAY ARRAY['phone', 'email'] LOOP
            IF g.choices ? ('default_' || v) THEN
                UPDATE crm.contact k SET is_default = true
                WHERE k.client_id = g.main_id AND k.kind = v
                  AND lower(k.value) = lower(CASE v WHEN 'phone' THEN crm.normalize_phone(g.choices ->> ('default_' || v))
                                                    ELSE crm.normalize_email(g.choices ->> ('default_' || v)) END);
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'the default % of group % is not a contact of client %', v, g.group_no, g.main_id
                        USING ERRCODE = 'no_data_found',
                              DETAIL = format('Chosen: %s.', g.choices ->> ('default_' || v)),
                              HINT = 'Choose a value one of the group''s records has.';
                END IF;
            END IF;
        END LOOP;
        IF cardinality(g.delete_ids) > 0 THEN
            PERFORM crm.delete_client(d) FROM unnest(g.delete_ids) d;
            deleted := deleted + cardinality(g.delete_ids);
        END IF;
        done := done + 1;
        PERFORM crm.report_progress('dedupe plan', done, total, started);
    END LOOP;
    summary := jsonb_build_object('groups', done, 'merged', merged, 'deleted', deleted);
    UPDATE crm.dedupe_plan d SET applied_at = now(), applied_by = current_user, result = summary
    WHERE d.id = plan_id;
    RETURN summary;
END
$$;
REVOKE ALL ON FUNCTION crm.dedupe_plan_apply(bigint) FROM PUBLIC;
COMMENT ON FUNCTION crm.dedupe_plan_apply(bigint) IS
    'applies a dedupe plan in one transaction: every group''s merges, default contacts and deletes, or nothing at all';

--------------------------------------------------------------------------
-- Duplicate check on save (SPEC CL-9): crm.duplicate_check = notice | error | off
--------------------------------------------------------------------------

CREATE TABLE crm.possible_duplicate (
    client_a     bigint NOT NULL,
    client_b     bigint NOT NULL,
    score        real NOT NULL,
    reasons      text[] NOT NULL,
    found_at     timestamptz NOT NULL DEFAULT now(),
    found_by     text NOT NULL DEFAULT current_user,
    dismissed_at timestamptz,
    dismissed_by text,
    PRIMARY KEY (client_a, client_b),
    CONSTRAINT possible_duplicate_order CHECK (client_a < client_b)
);
-- no foreign keys on purpose: the pairs are derived data that a merge must
-- not move; the triggers drop the pairs of a client deleted or hidden
CREATE INDEX possible_duplicate_b_idx ON crm.possible_duplicate (client_b);
-- a pair is visible to whoever sees both clients (their row-level security)
ALTER TABLE crm.possible_duplicate ENABLE ROW LEVEL SECURITY;
CREATE POLICY possible_duplicate_both_visible ON crm.possible_duplicate
    USING (EXISTS (SELECT FROM crm.client c WHERE c.id = client_a)
           AND EXISTS (SELECT FROM crm.client c WHERE c.id = client_b));
COMMENT ON TABLE crm.possible_duplicate IS
    'pairs of clients the duplicate check found when one of them was saved (client_a < client_b); set dismissed_at to mark a pair as not duplicates: it is not reported again';

-- A pair saved again (the check on save, a restore of a dump taken with
-- triggers on) updates the row there is: the newest score and reasons, the
-- first finding, a dismissal never lost.
CREATE FUNCTION crm.possible_duplicate_upsert() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE crm.possible_duplicate p
    SET score = NEW.score, reasons = NEW.reasons,
        found_at = least(p.found_at, NEW.found_at),
        found_by = CASE WHEN NEW.found_at < p.found_at THEN NEW.found_by ELSE p.found_by END,
        dismissed_at = coalesce(p.dismissed_at, NEW.dismissed_at),
        dismissed_by = CASE WHEN p.dismissed_at IS NOT NULL THEN p.dismissed_by ELSE NEW.dismissed_by END
    WHERE p.client_a = NEW.client_a AND p.client_b = NEW.client_b;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm.possible_duplicate_upsert() IS
    'trigger: a pair inserted again updates the recorded one (score, reasons), keeping the first finding and any dismissal';
CREATE TRIGGER possible_duplicate_upsert BEFORE INSERT ON crm.possible_duplicate
    FOR EACH ROW EXECUTE FUNCTION crm.possible_duplicate_upsert();

-- Check one client: record its candidates, then notice or refuse.  A
-- pair already in crm.possible_duplicate (reported before, or dismissed)
-- is known: it is kept up to date but not reported or refused again.
CREATE FUNCTION crm.check_duplicates(client_id bigint) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    mode text := coalesce(current_setting('crm.duplicate_check', true), 'notice');
    merging boolean := coalesce(current_setting('crm_merge.in_progress', true), '') = 'on';
    found jsonb;
    best record;
    others text;
BEGIN
    IF mode = 'off' OR merging THEN
        RETURN;
    END IF;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'candidate_id', d.candidate_id, 'score', d.score, 'reasons', to_jsonb(d.reasons),
               'known', EXISTS (SELECT FROM crm.possible_duplicate p
                                WHERE p.client_a = least(client_id, d.candidate_id)
                                  AND p.client_b = greatest(client_id, d.candidate_id)))
               ORDER BY d.score DESC, d.candidate_id), '[]')
    INTO found
    FROM crm.duplicate_candidates(client_id) d
    WHERE EXISTS (SELECT FROM crm.client c WHERE c.id = client_id AND c.hidden_at IS NULL);

    -- pairs of this client that no longer score are forgotten, dismissed ones kept
    DELETE FROM crm.possible_duplicate p
    WHERE client_id IN (p.client_a, p.client_b) AND p.dismissed_at IS NULL
      AND NOT EXISTS (SELECT FROM jsonb_to_recordset(found) AS f(candidate_id bigint)
                      WHERE f.candidate_id IN (p.client_a, p.client_b) AND f.candidate_id <> client_id);
    IF found = '[]' THEN
        -- the common case: no candidate
        RETURN;
    END IF;

    SELECT f.*, count(*) OVER () AS total INTO best
    FROM jsonb_to_recordset(found) AS f(candidate_id bigint, score real, reasons text[], known boolean)
    WHERE NOT f.known ORDER BY f.score DESC, f.candidate_id LIMIT 1;

    IF best.candidate_id IS NOT NULL AND mode = 'error' THEN
        RAISE EXCEPTION 'client % may be a duplicate of client %', client_id, best.candidate_id
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Score %s: %s.', round(best.score::numeric, 2), array_to_string(best.reasons, '; ')),
                  HINT = format('Use client %s instead, or SET crm.duplicate_check = notice to save it and review the pair in crm.possible_duplicate.',
                                best.candidate_id);
    END IF;

    INSERT INTO crm.possible_duplicate (client_a, client_b, score, reasons)
    SELECT least(client_id, f.candidate_id), greatest(client_id, f.candidate_id), f.score, f.reasons
    FROM jsonb_to_recordset(found) AS f(candidate_id bigint, score real, reasons text[])
    -- a recorded pair is updated by crm.possible_duplicate_upsert; this is
    -- for one recorded meanwhile by a concurrent transaction
    ON CONFLICT (client_a, client_b) DO UPDATE SET score = EXCLUDED.score, reasons = EXCLUDED.reasons;

    IF best.candidate_id IS NOT NULL THEN
        SELECT string_agg(format('client %s (%s)', f.candidate_id, round(f.score::numeric, 2)), ', '
                          ORDER BY f.score DESC, f.candidate_id) INTO others
        FROM (SELECT * FROM jsonb_to_recordset(found) AS f(candidate_id bigint, score real, known boolean)
              WHERE NOT f.known ORDER BY f.score DESC, f.candidate_id LIMIT 3) f;
        RAISE NOTICE 'client % may be a duplicate of %', client_id, others
            USING DETAIL = format('Best: %s.%s', array_to_string(best.reasons, '; '),
                                  CASE WHEN best.total > 3 THEN format(' %s new candidates in all.', best.total)
                                       ELSE '' END),
                  HINT = 'See crm.possible_duplicate; merge with crm.merge_client(), or set dismissed_at if they are different clients.';
    END IF;
END
$$;
COMMENT ON FUNCTION crm.check_duplicates(bigint) IS
    'the duplicate check of one client as crm.duplicate_check says: record its candidates in crm.possible_duplicate and name new ones in a NOTICE, or refuse';

-- The pairs of a client deleted or hidden go, also those whose other
-- client the user cannot see: SECURITY DEFINER, and only for a client that
-- is gone or hidden, so it cannot remove anyone else's pairs.
CREATE FUNCTION crm.forget_possible_duplicates(client_id bigint) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    DELETE FROM crm.possible_duplicate p
    WHERE forget_possible_duplicates.client_id IN (p.client_a, p.client_b)
      AND NOT EXISTS (SELECT FROM crm.client c
                      WHERE c.id = forget_possible_duplicates.client_id AND c.hidden_at IS NULL);
END;
COMMENT ON FUNCTION crm.forget_possible_duplicates(bigint) IS
    'drops the crm.possible_duplicate pairs of a client that is deleted or hidden (only such a client)';

CREATE FUNCTION crm.client_check_duplicates() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.hidden_at IS NOT NULL) THEN
        PERFORM crm.forget_possible_duplicates(OLD.id);
        RETURN NULL;
    END IF;
    PERFORM crm.check_duplicates(NEW.id);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm.client_check_duplicates() IS
    'trigger: the duplicate check of a client saved; a client deleted or hidden leaves crm.possible_duplicate';
CREATE TRIGGER client_check_duplicates
    AFTER INSERT OR DELETE OR UPDATE OF kind, first_name, last_name, company_name, city, address,
                                        pesel, nip, regon, birth_date, hidden_at
    ON crm.client FOR EACH ROW EXECUTE FUNCTION crm.client_check_duplicates();

CREATE FUNCTION crm.contact_check_duplicates() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm.check_duplicates(NEW.client_id);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm.contact_check_duplicates() IS 'trigger: the duplicate check of the client whose phone or e-mail was saved';
CREATE TRIGGER contact_check_duplicates AFTER INSERT OR UPDATE OF value, client_id ON crm.contact
    FOR EACH ROW EXECUTE FUNCTION crm.contact_check_duplicates();

--------------------------------------------------------------------------
-- GDPR (RODO): consents with their history, the right of access, and
-- anonymization, the right to be forgotten (doc/gdpr.md)
--------------------------------------------------------------------------

-- What was done to whom, without any personal data: who, when, which
-- client (by id), and counts.  Written by crm's own functions.
CREATE TABLE crm.audit_log (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL DEFAULT session_user,
    action      text NOT NULL,
    client_id   bigint,
    detail      jsonb
);
CREATE INDEX audit_log_client_id_idx ON crm.audit_log (client_id);
COMMENT ON TABLE crm.audit_log IS
    'acts on clients that must be accounted for (anonymization), with who and when; never any personal data';

-- Every grant, withdrawal and removal of a consent, kept by triggers.
CREATE TABLE crm.consent_history (
    consent_id  bigint NOT NULL,
    event       text NOT NULL CHECK (event IN ('granted', 'withdrawn', 'removed')),
    client_id   bigint NOT NULL,
    purpose     text NOT NULL,
    at          timestamptz NOT NULL,
    by_role     text NOT NULL DEFAULT current_user,
    document_id bigint,
    -- each happens once to a consent
    PRIMARY KEY (consent_id, event)
);
CREATE INDEX consent_history_client_id_idx ON crm.consent_history (client_id, at);
COMMENT ON TABLE crm.consent_history IS
    'every consent granted, withdrawn or removed (a merge drops the source''s consents, MG-7), when and by which role';

-- A restore loads crm.consent, whose trigger writes history anew, and the
-- history itself, in either order (or at once): the history loaded wins
-- (its roles and times are the original ones), what the consent's trigger
-- writes (ON CONFLICT DO NOTHING) gives way.  A row from that trigger
-- (SECURITY DEFINER, so written as crm's owner) goes in as it is; any other
-- is upserted, which needs UPDATE on the history: only its owner has it.
CREATE FUNCTION crm.consent_history_upsert() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_trigger_depth() > 1 AND crm.runs_as_owner_of('crm.consent_history_write()') THEN
        RETURN NEW;
    END IF;
    INSERT INTO crm.consent_history AS h (consent_id, event, client_id, purpose, at, by_role, document_id)
    VALUES (NEW.consent_id, NEW.event, NEW.client_id, NEW.purpose, NEW.at, NEW.by_role, NEW.document_id)
    ON CONFLICT (consent_id, event) DO UPDATE
    SET client_id = EXCLUDED.client_id, purpose = EXCLUDED.purpose, at = EXCLUDED.at,
        by_role = EXCLUDED.by_role, document_id = EXCLUDED.document_id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm.consent_history_upsert() IS
    'trigger: history inserted directly (a restore) replaces what the consent''s trigger recorded';
CREATE TRIGGER consent_history_upsert BEFORE INSERT ON crm.consent_history
    FOR EACH ROW EXECUTE FUNCTION crm.consent_history_upsert();

-- A consent is a fact with a date: it is granted, then maybe withdrawn,
-- never rewritten.  A withdrawn consent stays withdrawn.
CREATE FUNCTION crm.consent_before_update() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF (NEW.client_id, NEW.purpose, NEW.granted_at) IS DISTINCT FROM (OLD.client_id, OLD.purpose, OLD.granted_at)
       OR (OLD.withdrawn_at IS NOT NULL AND NEW.withdrawn_at IS DISTINCT FROM OLD.withdrawn_at) THEN
        RAISE EXCEPTION 'consent % cannot be rewritten', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'A consent''s client, purpose and date are its history; only its withdrawal and its document can be recorded.',
                  HINT = format('Withdraw it with crm.withdraw_consent(%s, %L) and grant a new one.', OLD.client_id, OLD.purpose);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm.consent_before_update() IS
    'trigger: a consent''s client, purpose and grant date never change, and a withdrawal is final';
CREATE TRIGGER consent_before_update BEFORE UPDATE ON crm.consent
    FOR EACH ROW EXECUTE FUNCTION crm.consent_before_update();

-- The history is written with crm's rights, so that roles writing consents
-- need no privilege on it and cannot make it up.  by_role is the session's
-- role (the login), which SET ROLE does not change.
CREATE FUNCTION crm.consent_history_write() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a trigger function can be attached to any table: this one only to crm.consent
    IF TG_RELID <> 'crm.consent'::regclass THEN
        RAISE EXCEPTION 'crm.consent_history_write() records crm.consent only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO crm.consent_history (consent_id, client_id, purpose, event, at, by_role, document_id)
        VALUES (NEW.id, NEW.client_id, NEW.purpose, 'granted', NEW.granted_at, session_user, NEW.document_id)
        ON CONFLICT (consent_id, event) DO NOTHING;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.withdrawn_at IS NOT NULL
       AND (TG_OP = 'INSERT' OR OLD.withdrawn_at IS NULL) THEN
        INSERT INTO crm.consent_history (consent_id, client_id, purpose, event, at, by_role, document_id)
        VALUES (NEW.id, NEW.client_id, NEW.purpose, 'withdrawn', NEW.withdrawn_at, session_user, NEW.document_id)
        ON CONFLICT (consent_id, event) DO NOTHING;
    END IF;
    IF TG_OP = 'DELETE' THEN
        INSERT INTO crm.consent_history (consent_id, client_id, purpose, event, at, by_role, document_id)
        VALUES (OLD.id, OLD.client_id, OLD.purpose, 'removed', now(), session_user, OLD.document_id)
        ON CONFLICT (consent_id, event) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm.consent_history_write() IS
    'trigger on crm.consent: records each grant, withdrawal and removal in crm.consent_history, with crm''s rights';
CREATE TRIGGER consent_history_write AFTER INSERT OR UPDATE OF withdrawn_at OR DELETE ON crm.consent
    FOR EACH ROW EXECUTE FUNCTION crm.consent_history_write();
-- nobody attaches it elsewhere (a trigger's function is checked when it is created)
REVOKE EXECUTE ON FUNCTION crm.consent_history_write() FROM PUBLIC;

-- GD-3, with the rights of whoever withdrew: a client who withdrew the last
-- consent in force drops out of the working views, if the database says so
CREATE FUNCTION crm.consent_hide_client() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF crm.hide_on_consent_withdrawal()
       AND NOT EXISTS (SELECT FROM crm.consent c WHERE c.client_id = NEW.client_id AND c.withdrawn_at IS NULL) THEN
        UPDATE crm.client c SET hidden_at = now(), hidden_reason = 'consent withdrawn'
        WHERE c.id = NEW.client_id AND c.hidden_at IS NULL AND c.anonymized_at IS NULL;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm.consent_hide_client() IS
    'trigger: hides a client whose last consent in force was withdrawn, if crm.hide_on_consent_withdrawal is on';
CREATE TRIGGER consent_hide_client AFTER UPDATE OF withdrawn_at ON crm.consent
    FOR EACH ROW WHEN (OLD.withdrawn_at IS NULL AND NEW.withdrawn_at IS NOT NULL)
    EXECUTE FUNCTION crm.consent_hide_client();

CREATE FUNCTION crm.grant_consent(client_id bigint, purpose text, document_id bigint DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c crm.client := crm.client_for_update(client_id);
    given crm.consent;
    id bigint;
BEGIN
    PERFORM crm.refuse_anonymized(c);
    SELECT * INTO given FROM crm.consent k
    WHERE k.client_id = c.id AND k.purpose = btrim(grant_consent.purpose) AND k.withdrawn_at IS NULL;
    IF FOUND THEN
        RAISE EXCEPTION 'client % already consents to %', c.id, given.purpose
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Consent %s was granted at %s.', given.id, given.granted_at),
                  HINT = 'Withdraw it first to record a new grant.';
    END IF;
    INSERT INTO crm.consent (client_id, purpose, document_id)
    VALUES (c.id, btrim(purpose), document_id) RETURNING consent.id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION crm.grant_consent(bigint, text, bigint) IS
    'records a client''s consent to a purpose, optionally with the document that confirms it; returns its id';

CREATE FUNCTION crm.withdraw_consent(client_id bigint, purpose text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c crm.client := crm.client_for_update(client_id);
    id bigint;
BEGIN
    UPDATE crm.consent k SET withdrawn_at = greatest(now(), k.granted_at)
    WHERE k.client_id = c.id AND k.purpose = btrim(withdraw_consent.purpose) AND k.withdrawn_at IS NULL
    RETURNING k.id INTO id;
    IF id IS NULL THEN
        RAISE EXCEPTION 'client % has no consent to % in force', c.id, btrim(purpose)
            USING ERRCODE = 'no_data_found',
                  HINT = format('Its consents are in crm.consent (client_id = %s).', c.id);
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION crm.withdraw_consent(bigint, text) IS
    'withdraws a client''s consent to a purpose (hiding the client if it was the last one and crm.hide_on_consent_withdrawal is on); returns the consent''s id';

-- Personal data outside crm.client, which crm.anonymize() removes: crm's
-- own tables here, user tables an administrator registers in
-- crm.personal_column.  Tables whose rows are all personal are emptied
-- of the client's rows (action delete); the other columns are set to
-- their replacement (NULL, or a neutral text where NULL is not allowed).
CREATE FUNCTION crm.personal_data_builtin()
    RETURNS TABLE (relation regclass, column_name name, action text, replacement text)
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT v.relation::regclass, v.column_name::name, v.action, v.replacement FROM (VALUES
    ('crm.contact',        NULL,                  'delete', NULL),
    ('crm.custom_value',   NULL,                  'delete', NULL),
    ('crm.contact_person', NULL,                  'delete', NULL),
    ('crm.document',       'title',               'clear',  'anonymized'),
    ('crm.document',       'file_name',           'clear',  NULL),
    ('crm.document',       'content',             'clear',  NULL),
    ('crm.document',       'storage_url',         'clear',  NULL),
    ('crm.vehicle',        'registration_number', 'clear',  NULL),
    ('crm.vehicle',        'vin',                 'clear',  NULL),
    ('crm.interaction',    'phone',               'clear',  NULL),
    ('crm.interaction',    'summary',             'clear',  NULL),
    ('crm.needs_analysis', 'answers',             'clear',  NULL),
    ('crm.needs_analysis', 'summary',             'clear',  NULL),
    ('crm.invoice',        'billed_name',         'clear',  NULL),
    ('crm.invoice',        'billed_address',      'clear',  NULL),
    ('crm.invoice',        'billed_nip',          'clear',  NULL),
    ('crm.task',           'title',               'clear',  'anonymized'),
    ('crm.task',           'notes',               'clear',  NULL),
    ('crm.case',           'title',               'clear',  'anonymized'),
    ('crm.case',           'description',         'clear',  NULL),
    ('crm.service_entry',  'description',         'clear',  NULL),
    ('crm.ticket',         'subject',             'clear',  'anonymized'),
    ('crm.ticket',         'description',         'clear',  NULL)) AS v(relation, column_name, action, replacement);
END;
COMMENT ON FUNCTION crm.personal_data_builtin() IS
    'the personal data crm.anonymize() removes from crm''s own linked tables: rows deleted, or columns set to a replacement';

-- A type whose casts and operators no table owner chose: built in
-- (below FirstNormalObjectId) or crm's own.  crm.anonymize() reads with
-- crm's rights only columns of such types.
CREATE FUNCTION crm.trusted_type(t oid) RETURNS boolean
    LANGUAGE sql STABLE STRICT
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT t < 16384 OR EXISTS (SELECT FROM pg_type y WHERE y.oid = t AND y.typnamespace = 'crm'::regnamespace);
END;
COMMENT ON FUNCTION crm.trusted_type(oid) IS
    'internal: whether a type is built in or crm''s own (no table owner chose its casts or operators)';

CREATE TABLE crm.personal_column (
    relation    regclass NOT NULL,
    column_name name NOT NULL,
    replacement text,
    PRIMARY KEY (relation, column_name)
);
COMMENT ON TABLE crm.personal_column IS
    'personal columns of user tables that reference crm.client: crm.anonymize() sets them to replacement (NULL by default) and crm.client_export() marks them';

CREATE FUNCTION crm.personal_column_check() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    att pg_attribute;
BEGIN
    IF NEW.relation = 'crm.client'::regclass
       OR (SELECT c.relnamespace FROM pg_class c WHERE c.oid = NEW.relation) = 'crm'::regnamespace THEN
        RAISE EXCEPTION 'crm''s own tables are not registered here'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'crm.anonymize() knows the personal data of its own tables: see crm.personal_data_builtin().';
    END IF;
    -- a warning, not an error: a restore loads this before the foreign keys
    IF NOT EXISTS (SELECT FROM pg_constraint con
                   WHERE con.contype = 'f' AND con.confrelid = 'crm.client'::regclass
                     AND con.conrelid = NEW.relation) THEN
        RAISE WARNING 'table % does not reference crm.client', NEW.relation
            USING DETAIL = 'crm.anonymize() finds a client''s rows through a foreign key to crm.client; it will not reach this table until it has one.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_class k WHERE k.oid = NEW.relation) THEN
        -- a table dropped since it was registered (a restore brings the row back)
        RAISE WARNING 'table % does not exist', NEW.relation::oid
            USING DETAIL = 'crm.anonymize() skips it; delete the row from crm.personal_column.';
        RETURN NEW;
    END IF;
    SELECT * INTO att FROM pg_attribute a
    WHERE a.attrelid = NEW.relation AND a.attname = NEW.column_name AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of table % does not exist', NEW.column_name, NEW.relation
            USING ERRCODE = 'undefined_column';
    END IF;
    IF NOT crm.trusted_type(att.atttypid) THEN
        RAISE EXCEPTION 'column "%" of table % is of a type crm.anonymize() does not read', NEW.column_name, NEW.relation
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'Registered personal columns must be of built-in types: their values are checked with crm''s rights.';
    END IF;
    IF att.attnotnull AND NEW.replacement IS NULL THEN
        RAISE EXCEPTION 'column "%" of table % is NOT NULL: it needs a replacement', NEW.column_name, NEW.relation
            USING ERRCODE = 'not_null_violation',
                  HINT = 'Give a neutral value in replacement, such as ''anonymized''.';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm.personal_column_check() IS
    'trigger: a registered personal column exists and can take its replacement; warns if its table does not reference crm.client';
CREATE TRIGGER personal_column_check BEFORE INSERT OR UPDATE ON crm.personal_column
    FOR EACH ROW EXECUTE FUNCTION crm.personal_column_check();

-- The registered user columns per foreign key to crm.client: what
-- crm.anonymize() sets (sets) and how to find a row that kept its data
-- (left_over), both as SQL over alias t.
CREATE FUNCTION crm.personal_column_keys()
    RETURNS TABLE (relation regclass, constraint_name name, columns name[], client_columns name[],
                   sets text, left_over text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT r.relation, r.constraint_name, r.columns, r.client_columns,
           string_agg(format('%I = %L', p.column_name, p.replacement), ', ' ORDER BY p.column_name),
           string_agg(format('t.%I IS DISTINCT FROM %L', p.column_name, p.replacement), ' OR '
                      ORDER BY p.column_name)
    FROM crm.client_references() r JOIN crm.personal_column p ON p.relation = r.relation
    GROUP BY r.relation, r.constraint_name, r.columns, r.client_columns
    ORDER BY r.relation::text, r.constraint_name;
END;
COMMENT ON FUNCTION crm.personal_column_keys() IS
    'internal: the registered personal columns of each foreign key to crm.client, as the SQL that clears them and that finds rows not cleared';

CREATE VIEW crm.personal_data WITH (security_invoker = true) AS
    SELECT b.relation, b.column_name, b.action, b.replacement, true AS builtin
    FROM crm.personal_data_builtin() b
    UNION ALL
    SELECT p.relation, p.column_name, 'clear', p.replacement, false FROM crm.personal_column p;
COMMENT ON VIEW crm.personal_data IS
    'everything crm.anonymize() removes besides the client''s own fields: crm''s tables and the registered user columns';
GRANT SELECT ON crm.personal_data, crm.personal_column TO PUBLIC;

-- the setting read through the library, so that the server's value counts
-- (a session that set it before the library was loaded set a placeholder)
CREATE FUNCTION crm.hide_on_consent_withdrawal() RETURNS boolean
    AS 'MODULE_PATHNAME', 'hide_on_consent_withdrawal_setting' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm.hide_on_consent_withdrawal() IS 'the setting crm.hide_on_consent_withdrawal (GD-3) in force';

-- The right of access: everything the database holds about a client that
-- the caller may read, as one document.
CREATE FUNCTION crm.client_export(client_id bigint) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    -- a key may use crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c crm.client;
    ref record;
    part record;
    rows jsonb;
    linked jsonb := '{}';
    parts jsonb := '{}';
    unreadable text[] := '{}';
    name text;
BEGIN
    SELECT * INTO c FROM crm.client cl WHERE cl.id = client_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'client % does not exist', client_id USING ERRCODE = 'no_data_found';
    END IF;
    -- every table with a foreign key to crm.client, in any schema
    FOR ref IN SELECT * FROM crm.client_references() LOOP
        name := crm.relation_name(ref.relation);
        IF NOT (has_schema_privilege((SELECT k.relnamespace FROM pg_class k WHERE k.oid = ref.relation), 'USAGE')
                AND has_table_privilege(ref.relation, 'SELECT')) THEN
            unreadable := unreadable || name;
            CONTINUE;
        END IF;
        EXECUTE format('SELECT jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text) FROM %s t WHERE %s',
                       ref.relation, crm.client_reference_condition(ref.columns, ref.client_columns, 1))
            INTO rows USING c.id;
        IF rows IS NOT NULL THEN
            -- two keys from one table: one list
            linked := jsonb_set(linked, ARRAY[name], coalesce(linked -> name, '[]') || rows);
        END IF;
    END LOOP;
    -- what crm keeps about the client elsewhere, each part if the caller may read it
    FOR part IN
        SELECT * FROM (VALUES
            ('custom_fields', 'crm.client_custom_value',
             'SELECT coalesce(jsonb_object_agg(v.field, v.value), ''{}'') FROM crm.client_custom_value v
              WHERE v.client_id = $1'),
            ('consent_history', 'crm.consent_history',
             'SELECT coalesce(jsonb_agg(to_jsonb(h) ORDER BY h.at, h.consent_id, h.event), ''[]'')
              FROM crm.consent_history h WHERE h.client_id = $1'),
            ('merged_records', 'crm.merge_log',
             'SELECT coalesce(jsonb_agg(jsonb_build_object(
                         ''merge_id'', m.id, ''merged_at'', m.merged_at, ''merged_by'', m.merged_by,
                         ''source_ids'', m.source_ids, ''sources'', m.sources, ''undone_at'', m.undone_at)
                         ORDER BY m.id), ''[]'')
              FROM crm.merge_log m WHERE m.target_id = $1'),
            ('possible_duplicates', 'crm.possible_duplicate',
             'SELECT coalesce(jsonb_agg(jsonb_build_object(
                         ''other_client_id'', CASE WHEN p.client_a = $1 THEN p.client_b ELSE p.client_a END,
                         ''score'', p.score, ''found_at'', p.found_at, ''dismissed_at'', p.dismissed_at)
                         ORDER BY p.client_a, p.client_b), ''[]'')
              FROM crm.possible_duplicate p WHERE $1 IN (p.client_a, p.client_b)'),
            ('personal_data', 'crm.personal_data',
             'SELECT coalesce(jsonb_agg(jsonb_build_object(
                         ''table'', crm.relation_name(d.relation), ''column'', d.column_name, ''action'', d.action)
                         ORDER BY d.relation::text, d.column_name), ''[]'')
              FROM crm.personal_data d WHERE $1 IS NOT NULL')) AS v(name, relation, query)
    LOOP
        IF has_table_privilege(part.relation, 'SELECT') THEN
            EXECUTE part.query INTO rows USING c.id;
            parts := parts || jsonb_build_object(part.name, rows);
        ELSE
            unreadable := unreadable || part.relation;
        END IF;
    END LOOP;
    RETURN jsonb_build_object('client', to_jsonb(c), 'linked', linked) || parts
           || jsonb_build_object('not_readable', to_jsonb(unreadable), 'exported_at', now());
END
$$;
COMMENT ON FUNCTION crm.client_export(bigint) IS
    'the right of access: the client, its custom fields, the rows of every table referencing it (user tables too), consent history, merged records and duplicate pairs, as jsonb; tables the caller cannot read are listed, not read';

-- Anonymization asks for a code typed back (GD-2): requested by someone
-- who may change the client, valid for a short time, used once, kept only
-- as a salted hash.
CREATE FUNCTION crm.anonymization_code_validity() RETURNS interval
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    RETURN interval '15 minutes';
COMMENT ON FUNCTION crm.anonymization_code_validity() IS 'how long an anonymization code is valid: 15 minutes';

CREATE TABLE crm.anonymization_code (
    client_id    bigint NOT NULL,
    requested_by text NOT NULL DEFAULT current_user,
    requested_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    salt         bytea NOT NULL,
    code_hash    bytea NOT NULL,
    PRIMARY KEY (client_id, requested_by)
);
COMMENT ON TABLE crm.anonymization_code IS
    'pending anonymization codes, as salted SHA-256 hashes; a role sees and writes only its own, for clients it may change';

-- Whether the current role may change a client: lock it as that role
-- (its privileges and row-level security), or say no.
CREATE FUNCTION crm.may_change_client(client_id bigint) RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM FROM crm.client c WHERE c.id = may_change_client.client_id FOR UPDATE;
    RETURN FOUND;
EXCEPTION WHEN insufficient_privilege THEN
    RETURN false;
END
$$;
COMMENT ON FUNCTION crm.may_change_client(bigint) IS
    'whether the current role may change (lock for update) the client, under its privileges and row-level security';

ALTER TABLE crm.anonymization_code ENABLE ROW LEVEL SECURITY;
CREATE POLICY anonymization_code_own ON crm.anonymization_code
    USING (requested_by = current_user)
    WITH CHECK (requested_by = current_user AND crm.may_change_client(client_id));

-- who asked and when are the server's to say, and a code lives 15 minutes
CREATE FUNCTION crm.anonymization_code_before_insert() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.requested_by := current_user;
    NEW.requested_at := now();
    NEW.expires_at := now() + crm.anonymization_code_validity();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm.anonymization_code_before_insert() IS
    'trigger: a code is requested by the current role, now, and expires after crm.anonymization_code_validity()';
CREATE TRIGGER anonymization_code_before_insert BEFORE INSERT ON crm.anonymization_code
    FOR EACH ROW EXECUTE FUNCTION crm.anonymization_code_before_insert();

CREATE FUNCTION crm.anonymization_code(client_id bigint) RETURNS text
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    -- the caller must be allowed to change the client (row-level security too)
    c crm.client := crm.client_for_update(client_id);
    alphabet constant text := 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';  -- no 0/O, 1/I
    random bytea := uuid_send(gen_random_uuid());
    salt bytea := uuid_send(gen_random_uuid());
    bits bigint := 0;
    code text := '';
BEGIN
    PERFORM crm.refuse_anonymized(c);
    -- 40 bits from the first 5 bytes of a version 4 UUID, all random
    FOR i IN 0..4 LOOP
        bits := bits * 256 + get_byte(random, i);
    END LOOP;
    FOR i IN 1..8 LOOP
        code := code || substr(alphabet, (bits % 32)::integer + 1, 1);
        bits := bits / 32;
    END LOOP;
    DELETE FROM crm.anonymization_code a WHERE a.client_id = c.id AND a.requested_by = current_user;
    INSERT INTO crm.anonymization_code (client_id, salt, code_hash)
    VALUES (c.id, salt, sha256(salt || convert_to(code, 'UTF8')));
    RETURN left(code, 4) || '-' || right(code, 4);
END
$$;
COMMENT ON FUNCTION crm.anonymization_code(bigint) IS
    'a one-time code, valid for crm.anonymization_code_validity(), to type back into crm.anonymize(); requires the right to change the client';

-- The right to be forgotten (GD-2): irreversible.  The caller's right to
-- change the client is checked first, with its rights; the registered user
-- tables are written with its rights too, so that their triggers, defaults
-- and index expressions never run with more.  crm's own data goes through
-- crm.anonymize_crm_data(), SECURITY DEFINER: it reaches the journals the
-- caller may not write.  The code is the right there: a role gets one only
-- for a client it may change (crm.anonymization_code, and the code table's
-- policy), and it works only in that role's sessions.
CREATE FUNCTION crm.anonymize(client_id bigint, confirmation_code text) RETURNS void
    LANGUAGE plpgsql
    -- a key may use crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c crm.client := crm.client_for_update(client_id);
    ref record;
BEGIN
    PERFORM crm.refuse_anonymized(c);
    FOR ref IN SELECT * FROM crm.personal_column_keys() LOOP
        EXECUTE format('UPDATE %s t SET %s WHERE %s', ref.relation, ref.sets,
                       crm.client_reference_condition(ref.columns, ref.client_columns, 1)) USING c.id;
    END LOOP;
    PERFORM crm.anonymize_crm_data(c.id, confirmation_code);
END
$$;
COMMENT ON FUNCTION crm.anonymize(bigint, text) IS
    'the right to be forgotten: removes every piece of the client''s personal data (see doc/gdpr.md) once the code from crm.anonymization_code() is typed back; irreversible';

CREATE FUNCTION crm.anonymize_crm_data(client_id bigint, confirmation_code text)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    -- a key may use crm's types, whose operators live in crm
    SET search_path = pg_catalog, crm, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c crm.client;
    typed text := upper(regexp_replace(coalesce(confirmation_code, ''), '[^A-Za-z0-9]', '', 'g'));
    code crm.anonymization_code;
    ids bigint[];
    ref record;
    n bigint;
    rows_total bigint;
    counts jsonb := '{}';
BEGIN
    SELECT * INTO c FROM crm.client cl WHERE cl.id = client_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'client % does not exist', client_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM crm.refuse_anonymized(c);
    SELECT * INTO code FROM crm.anonymization_code a
    WHERE a.client_id = c.id AND a.code_hash = sha256(a.salt || convert_to(typed, 'UTF8'))
    ORDER BY a.expires_at DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'confirmation code does not match'
            USING ERRCODE = 'invalid_authorization_specification',
                  DETAIL = CASE WHEN EXISTS (SELECT FROM crm.anonymization_code a WHERE a.client_id = c.id)
                                THEN format('The code typed is not one issued for client %s.', c.id)
                                ELSE format('No code was requested for client %s.', c.id) END,
                  HINT = format('Request one with crm.anonymization_code(%s) and type it back as shown.', c.id);
    END IF;
    -- a code works in a session of the role that requested it (or of a
    -- member of that role): a code read over someone's shoulder does not
    IF NOT pg_has_role(session_user, code.requested_by, 'MEMBER') THEN
        RAISE EXCEPTION 'confirmation code for client % was requested by another role', c.id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role %s requested it; this session is %s''s.', code.requested_by, session_user),
                  HINT = format('Request your own with crm.anonymization_code(%s).', c.id);
    END IF;
    IF code.expires_at < clock_timestamp() THEN
        RAISE EXCEPTION 'confirmation code for client % has expired', c.id
            USING ERRCODE = 'invalid_authorization_specification',
                  DETAIL = format('It was valid until %s.', code.expires_at),
                  HINT = format('Request a new one with crm.anonymization_code(%s).', c.id);
    END IF;
    DELETE FROM crm.anonymization_code a WHERE a.client_id = c.id;

    -- this client and every client ever merged into it, at any depth: their
    -- rows now belong to this one, their copies are in the journal
    -- (a merge undone since gave its source back: that client is another)
    WITH RECURSIVE merged(id) AS (
        SELECT c.id
        UNION
        SELECT s.id FROM merged m JOIN crm.merge_log l ON l.target_id = m.id AND l.undone_at IS NULL,
                         unnest(l.source_ids) AS s(id)
    )
    SELECT array_agg(m.id ORDER BY m.id) INTO ids FROM merged m;

    -- the journal keeps that merges happened, not what they copied of these
    -- clients: crm.unmerge() can never bring any of it back.  A merge still
    -- in place into them held only their data; one undone since holds
    -- another client's too, which stays.
    UPDATE crm.merge_log_row r SET row_data = NULL
    FROM crm.merge_log l
    WHERE r.merge_id = l.id AND r.row_data IS NOT NULL
      AND (r.client_id = ANY (ids) OR (l.target_id = ANY (ids) AND l.undone_at IS NULL));
    UPDATE crm.merge_log l
    SET sources = CASE WHEN l.source_ids && ids OR l.undone_at IS NULL THEN NULL ELSE l.sources END,
        target_before = CASE WHEN l.target_id = ANY (ids) THEN NULL ELSE l.target_before END,
        target_after = CASE WHEN l.target_id = ANY (ids) THEN NULL ELSE l.target_after END,
        field_values = NULL,
        anonymized_at = coalesce(l.anonymized_at, now())
    WHERE l.target_id = ANY (ids) OR l.source_ids && ids;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        counts := counts || jsonb_build_object('crm.merge_log', n);
    END IF;

    DELETE FROM crm.possible_duplicate p WHERE p.client_a = ANY (ids) OR p.client_b = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        counts := counts || jsonb_build_object('crm.possible_duplicate', n);
    END IF;
    -- a dedupe plan's groups hold names and contacts: the client's go
    WITH gone AS (
        DELETE FROM crm.dedupe_plan_item i
        USING crm.dedupe_plan_item mine
        WHERE mine.client_id = ANY (ids) AND i.plan_id = mine.plan_id AND i.group_no = mine.group_no
        RETURNING i.plan_id, i.group_no
    )
    DELETE FROM crm.dedupe_plan_choice ch USING gone g
    WHERE ch.plan_id = g.plan_id AND ch.group_no = g.group_no;

    -- the registered user tables were written by crm.anonymize() with the
    -- caller's rights: rows it could not see or change would keep their
    -- data.  Checking reads them with crm's rights, so nothing whose
    -- behaviour their owner chose may run: their registered and key
    -- columns must be of built-in types (no user cast, operator or domain
    -- check), and every registration must still reach the table
    SELECT p.relation, p.column_name INTO ref FROM crm.personal_column p
    WHERE EXISTS (SELECT FROM pg_class k WHERE k.oid = p.relation)
      AND (NOT EXISTS (SELECT FROM crm.client_references() r WHERE r.relation = p.relation)
           OR NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = p.relation AND a.attname = p.column_name
                                                       AND a.attnum > 0 AND NOT a.attisdropped))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'registered personal column %.% cannot be reached', crm.relation_name(ref.relation), ref.column_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The column no longer exists, or its table no longer references crm.client.',
                  HINT = 'Fix or delete the row in crm.personal_column.';
    END IF;
    SELECT r.relation, a.attname INTO ref
    FROM crm.client_references() r
    JOIN pg_attribute a ON a.attrelid = r.relation AND a.attnum > 0 AND NOT a.attisdropped
    WHERE EXISTS (SELECT FROM crm.personal_column p WHERE p.relation = r.relation)
      AND (a.attname = ANY (r.columns)
           OR EXISTS (SELECT FROM crm.personal_column p WHERE p.relation = r.relation AND p.column_name = a.attname))
      AND NOT crm.trusted_type(a.atttypid)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'column %.% is of a type crm.anonymize() does not read', crm.relation_name(ref.relation), ref.attname
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'Registered personal columns and their table''s key to crm.client must be of built-in types.',
                  HINT = 'Use text, varchar, jsonb, bigint and the like for them.';
    END IF;
    FOR ref IN SELECT * FROM crm.personal_column_keys() LOOP
        EXECUTE format('SELECT count(*) FILTER (WHERE %s), count(*) FROM %s t WHERE %s', ref.left_over,
                       ref.relation, crm.client_reference_condition(ref.columns, ref.client_columns, 1))
            INTO n, rows_total USING c.id;
        IF n > 0 THEN
            RAISE EXCEPTION 'table % still holds personal data of client %', crm.relation_name(ref.relation), c.id
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format('%s of its rows were not cleared: row-level security hides them from the caller, or crm.anonymize() was not called.', n),
                      HINT = 'Call crm.anonymize() as a role that may update every row of the client in that table.';
        END IF;
        IF rows_total > 0 THEN
            counts := counts || jsonb_build_object(crm.relation_name(ref.relation),
                rows_total + coalesce((counts ->> crm.relation_name(ref.relation))::bigint, 0));
        END IF;
    END LOOP;

    -- consents in force end; their history has no personal data and stays
    UPDATE crm.consent k SET withdrawn_at = greatest(now(), k.granted_at)
    WHERE k.client_id = c.id AND k.withdrawn_at IS NULL;

    -- crm's linked tables, through their keys; the contacts' check at
    -- commit runs now, with this function's rights
    SET CONSTRAINTS crm.contact_keep_default IMMEDIATE;
    FOR ref IN
        SELECT r.relation, r.columns, r.client_columns,
               bool_or(d.action = 'delete') AS delete_rows,
               string_agg(format('%I = %L', d.column_name, d.replacement), ', ' ORDER BY d.column_name)
                   FILTER (WHERE d.action = 'clear') AS sets
        FROM crm.client_references() r JOIN crm.personal_data_builtin() d ON d.relation = r.relation
        GROUP BY r.relation, r.constraint_name, r.columns, r.client_columns
        ORDER BY r.relation::text, r.constraint_name
    LOOP
        IF ref.delete_rows THEN
            EXECUTE format('DELETE FROM %s t WHERE %s', ref.relation,
                           crm.client_reference_condition(ref.columns, ref.client_columns, 1)) USING c.id;
        ELSE
            EXECUTE format('UPDATE %s t SET %s WHERE %s', ref.relation, ref.sets,
                           crm.client_reference_condition(ref.columns, ref.client_columns, 1)) USING c.id;
        END IF;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            counts := counts || jsonb_build_object(crm.relation_name(ref.relation),
                                                   n + coalesce((counts ->> crm.relation_name(ref.relation))::bigint, 0));
        END IF;
    END LOOP;

    SET CONSTRAINTS crm.contact_keep_default DEFERRED;

    -- the client itself, last: the keys above may read its fields
    UPDATE crm.client cl
    SET first_name = NULL, last_name = NULL, company_name = NULL, display_name = NULL,
        city = NULL, postal_code = NULL, address = NULL, pesel = NULL, nip = NULL, regon = NULL,
        birth_date = NULL, external_id = NULL, hidden_at = NULL, hidden_reason = NULL,
        anonymized_at = now()
    WHERE cl.id = c.id;

    INSERT INTO crm.audit_log (action, client_id, detail)
    VALUES ('anonymize', c.id, jsonb_build_object(
        'requested_by', code.requested_by, 'requested_at', code.requested_at,
        'merged_clients', to_jsonb(array_remove(ids, c.id)), 'rows', counts));
END
$$;
COMMENT ON FUNCTION crm.anonymize_crm_data(bigint, text) IS
    'internal, called by crm.anonymize(): checks and uses the code, verifies the registered user tables were cleared, removes the client''s personal data from crm''s tables and journals, writes crm.audit_log';
REVOKE EXECUTE ON FUNCTION crm.anonymize(bigint, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION crm.anonymize_crm_data(bigint, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION crm.anonymization_code(bigint) FROM PUBLIC;

--------------------------------------------------------------------------
-- pg_dump keeps the data of every table and the state of every sequence
--------------------------------------------------------------------------

DO $register$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS tbl, pg_catalog.pg_get_serial_sequence(c.oid::regclass::text, a.attname) AS seq
        FROM pg_catalog.pg_class c
        LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attidentity <> ''
        WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind = 'r'
          -- pending anonymization codes live minutes: a dump does not keep them
          AND c.oid <> 'crm.anonymization_code'::regclass
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(r.tbl, '');
        IF r.seq IS NOT NULL THEN
            PERFORM pg_catalog.pg_extension_config_dump(r.seq, '');
        END IF;
    END LOOP;
END
$register$;
