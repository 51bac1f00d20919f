--------------------------------------------------------------------------
-- Duplicate check on save (CL-9): crm.duplicate_check = notice | error | off
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('duplicate_check', $model$
CREATE TABLE crm.possible_duplicate (
    client_a     bigint NOT NULL,
    client_b     bigint NOT NULL,
    score        double precision NOT NULL,
    reasons      text[] NOT NULL,
    found_at     timestamptz NOT NULL DEFAULT now(),
    found_by     text NOT NULL DEFAULT crm_internal.session_role(),
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
COMMENT ON COLUMN crm.possible_duplicate.client_a IS
    'one client of the pair, the smaller id (no foreign key: the pairs are derived data)';
COMMENT ON COLUMN crm.possible_duplicate.client_b IS 'the other client of the pair, the larger id';
COMMENT ON COLUMN crm.possible_duplicate.score IS
    'how alike the two are, from 0 to 1, as the latest check found';
COMMENT ON COLUMN crm.possible_duplicate.reasons IS
    'the evidence behind the score, in words, one item each';
COMMENT ON COLUMN crm.possible_duplicate.found_at IS 'when the pair was first found';
COMMENT ON COLUMN crm.possible_duplicate.found_by IS 'the role whose save found it first';
COMMENT ON COLUMN crm.possible_duplicate.dismissed_at IS
    'set by a user who judged the two different clients: the pair is kept and not reported again; null while open';
COMMENT ON COLUMN crm.possible_duplicate.dismissed_by IS 'who dismissed the pair';
CREATE TRIGGER possible_duplicate_stamp BEFORE INSERT OR UPDATE ON crm.possible_duplicate
    FOR EACH ROW EXECUTE FUNCTION crm_internal.possible_duplicate_stamp();
CREATE TRIGGER possible_duplicate_upsert BEFORE INSERT ON crm.possible_duplicate
    FOR EACH ROW EXECUTE FUNCTION crm_internal.possible_duplicate_upsert();
-- with the check off (an import, a merge) a saved client queues no event at
-- all (measured: 1.6 s of an import of 100,000 rows went to calls that
-- returned at once); a client hidden or deleted leaves its pairs always
CREATE TRIGGER client_check_duplicates
    AFTER INSERT OR UPDATE OF kind, first_name, last_name, company_name, city, postal_code,
                              address, pesel, nip, regon, birth_date, hidden_at
    ON crm.client FOR EACH ROW
    -- (written out: a trigger's condition is not planned, so a function
    -- here would not be inlined; crm_internal.check_duplicates() reads the
    -- same two settings)
    WHEN (NEW.hidden_at IS NOT NULL
          OR (coalesce(current_setting('crm.duplicate_check', true), 'notice') <> 'off'
              AND coalesce(current_setting('crm_merge.in_progress', true), '') <> 'on'))
    EXECUTE FUNCTION crm_internal.client_check_duplicates();
CREATE TRIGGER client_forget_duplicates AFTER DELETE ON crm.client
    FOR EACH ROW EXECUTE FUNCTION crm_internal.client_check_duplicates();
-- (not even queued while the check is off: a bulk write of a million
-- contacts would otherwise call it a million times to return at once)
CREATE TRIGGER contact_check_duplicates AFTER INSERT OR UPDATE OF value, client_id ON crm.contact
    FOR EACH ROW WHEN (coalesce(current_setting('crm.duplicate_check', true), 'notice') <> 'off')
    EXECUTE FUNCTION crm_internal.contact_check_duplicates();
$model$);

-- Who found a pair and who dismissed it, and when, are the server's to
-- say (a restore, by a trusted role, keeps the dumped ones).  Fires before
-- the upsert below (triggers fire in name order).
CREATE FUNCTION crm_internal.possible_duplicate_stamp() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF crm_internal.writer_is_trusted() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.found_at := now();
        NEW.found_by := crm_internal.session_role();
    ELSE
        NEW.found_at := OLD.found_at;
        NEW.found_by := OLD.found_by;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.dismissed_at IS DISTINCT FROM OLD.dismissed_at THEN
        NEW.dismissed_at := CASE WHEN NEW.dismissed_at IS NOT NULL THEN now() END;
        NEW.dismissed_by := CASE WHEN NEW.dismissed_at IS NOT NULL THEN crm_internal.session_role() END;
    ELSE
        NEW.dismissed_by := OLD.dismissed_by;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.possible_duplicate_stamp() IS
    'trigger: when a pair was found or dismissed, and by whom, are the server''s (the session''s role, now) unless a trusted role (a restore) writes';

-- A pair saved again (the check on save, a restore of a dump taken with
-- triggers on) updates the row there is: the newest score and reasons, the
-- first finding, a dismissal never lost.
CREATE FUNCTION crm_internal.possible_duplicate_upsert() RETURNS trigger
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
COMMENT ON FUNCTION crm_internal.possible_duplicate_upsert() IS
    'trigger: a pair inserted again updates the recorded one (score, reasons), keeping the first finding and any dismissal';

-- Check one client: record its candidates, then notice or refuse.  A
-- pair already in crm.possible_duplicate (reported before, or dismissed)
-- is known: it is kept up to date but not reported or refused again.  The
-- search is crm_internal.duplicate_candidates_recorded(): the scores are
-- kept for other roles to read.
CREATE FUNCTION crm_internal.check_duplicates(client_id bigint) RETURNS void
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
    units bigint[];
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
    FROM crm_internal.duplicate_candidates_recorded(client_id) d
    WHERE EXISTS (SELECT FROM crm.client c WHERE c.id = client_id
                                AND crm_internal.client_is_visible(c.hidden_at, c.anonymized_at));
    -- inside crm's SECURITY DEFINER functions (crm.unhide_client()) the
    -- search ran with crm's rights: the session's role hears only of the
    -- clients it reaches
    IF current_user::text <> crm_internal.session_role()
       AND NOT crm_internal.sees_all(crm_internal.session_role()) THEN
        units := crm_internal.scope_units(crm_internal.session_role());
        SELECT coalesce(jsonb_agg(f ORDER BY (f ->> 'score')::double precision DESC, (f ->> 'candidate_id')::bigint), '[]')
        INTO found
        FROM jsonb_array_elements(found) AS f
        WHERE EXISTS (SELECT FROM crm.client c
                      WHERE c.id = (f ->> 'candidate_id')::bigint AND c.unit_id = ANY (units));
    END IF;

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
    FROM jsonb_to_recordset(found) AS f(candidate_id bigint, score double precision, reasons text[], known boolean)
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
    FROM jsonb_to_recordset(found) AS f(candidate_id bigint, score double precision, reasons text[])
    -- a recorded pair is updated by crm_internal.possible_duplicate_upsert; this is
    -- for one recorded meanwhile by a concurrent transaction
    ON CONFLICT (client_a, client_b) DO UPDATE SET score = EXCLUDED.score, reasons = EXCLUDED.reasons;

    IF best.candidate_id IS NOT NULL THEN
        SELECT string_agg(format('client %s (%s)', f.candidate_id, round(f.score::numeric, 2)), ', '
                          ORDER BY f.score DESC, f.candidate_id) INTO others
        FROM (SELECT * FROM jsonb_to_recordset(found) AS f(candidate_id bigint, score double precision, known boolean)
              WHERE NOT f.known ORDER BY f.score DESC, f.candidate_id LIMIT 3) f;
        RAISE NOTICE 'client % may be a duplicate of %', client_id, others
            USING DETAIL = format('Best: %s.%s', array_to_string(best.reasons, '; '),
                                  CASE WHEN best.total > 3 THEN format(' %s new candidates in all.', best.total)
                                       ELSE '' END),
                  HINT = 'See crm.possible_duplicate; merge with crm.merge_client(), or set dismissed_at if they are different clients.';
    END IF;
END
$$;
COMMENT ON FUNCTION crm_internal.check_duplicates(bigint) IS
    'the duplicate check of one client as crm.duplicate_check says: record its candidates in crm.possible_duplicate and name new ones in a NOTICE, or refuse';

-- The pairs of a client deleted or hidden go, also those whose other
-- client the user cannot see: SECURITY DEFINER, and only for a client that
-- is gone or hidden, so it cannot remove anyone else's pairs.
CREATE FUNCTION crm_internal.forget_possible_duplicates(client_id bigint) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    DELETE FROM crm.possible_duplicate p
    WHERE forget_possible_duplicates.client_id IN (p.client_a, p.client_b)
      AND NOT EXISTS (SELECT FROM crm.client c
                      WHERE c.id = forget_possible_duplicates.client_id
                        AND crm_internal.client_is_visible(c.hidden_at, c.anonymized_at));
$$;
COMMENT ON FUNCTION crm_internal.forget_possible_duplicates(bigint) IS
    'drops the crm.possible_duplicate pairs of a client that is deleted or hidden (only such a client)';

CREATE FUNCTION crm_internal.client_check_duplicates() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.hidden_at IS NOT NULL) THEN
        PERFORM crm_internal.forget_possible_duplicates(OLD.id);
        RETURN NULL;
    END IF;
    PERFORM crm_internal.check_duplicates(NEW.id);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.client_check_duplicates() IS
    'trigger: the duplicate check of a client saved; a client deleted or hidden leaves crm.possible_duplicate';

CREATE FUNCTION crm_internal.contact_check_duplicates() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_internal.check_duplicates(NEW.client_id);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.contact_check_duplicates() IS 'trigger: the duplicate check of the client whose phone or e-mail was saved';
