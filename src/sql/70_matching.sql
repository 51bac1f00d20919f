--------------------------------------------------------------------------
-- Fuzzy matching: names, blocking keys, weights, scores, candidate searches
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('matching', $model$
CREATE INDEX client_match_keys_idx ON crm.client
    USING gin (crm.match_keys(kind, first_name, last_name, company_name, city, address,
                              postal_code, birth_date))
    -- no pending list: lookups after many inserts stay as fast (measured:
    -- a candidates median of 23.5 ms with a full pending list, 4.4 ms without)
    WITH (fastupdate = off);

CREATE TABLE crm.match_weight (
    evidence    text PRIMARY KEY,
    weight      double precision NOT NULL CHECK (weight BETWEEN -100 AND 100)
);
COMMENT ON TABLE crm.match_weight IS
    'a site''s own weights of duplicate evidence, over crm.match_weight_defaults(); written by crm.set_match_weight() (null: back to the default)';
COMMENT ON COLUMN crm.match_weight.evidence IS
    'a kind of duplicate evidence, one that crm.match_weight_defaults() lists';
COMMENT ON COLUMN crm.match_weight.weight IS
    'this site''s weight for it, a log2 likelihood ratio from -100 to 100: positive speaks for a duplicate, negative against';
CREATE TRIGGER match_weight_check BEFORE INSERT OR UPDATE ON crm.match_weight
    FOR EACH ROW EXECUTE FUNCTION crm_internal.match_weight_check();
CREATE TRIGGER match_weight_writer BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm.match_weight
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.set_match_weight()');

-- The weights learnt from this base by crm.train_match_weights() (EM over
-- the blocked pairs, doc/duplicates.md): used where no weight is pinned in
-- crm.match_weight; crm.forget_trained_match_weights() empties it.
CREATE TABLE crm.match_weight_trained (
    evidence    text PRIMARY KEY,
    weight      double precision NOT NULL CHECK (weight BETWEEN -100 AND 100),
    m           double precision CHECK (m BETWEEN 0 AND 1),
    u           double precision CHECK (u BETWEEN 0 AND 1),
    trained_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE crm.match_weight_trained IS
    'weights of duplicate evidence learnt from this base by crm.train_match_weights(): used unless pinned in crm.match_weight; crm.forget_trained_match_weights() goes back to the defaults';
COMMENT ON COLUMN crm.match_weight_trained.evidence IS
    'a kind of duplicate evidence, one that crm.match_weight_defaults() lists (prior: the match share of the blocked pairs)';
COMMENT ON COLUMN crm.match_weight_trained.weight IS
    'the trained weight, log2(m/u) (the prior: log2 of the match share''s odds), from -100 to 100';
COMMENT ON COLUMN crm.match_weight_trained.m IS
    'estimated share of the duplicate pairs among the blocked pairs that show the evidence (null for the prior)';
COMMENT ON COLUMN crm.match_weight_trained.u IS
    'estimated share of the other blocked pairs that show the evidence (null for the prior)';
COMMENT ON COLUMN crm.match_weight_trained.trained_at IS 'when crm.train_match_weights() stored it';
CREATE TRIGGER match_weight_trained_check BEFORE INSERT OR UPDATE ON crm.match_weight_trained
    FOR EACH ROW EXECUTE FUNCTION crm_internal.match_weight_check();
CREATE TRIGGER match_weight_trained_writer BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm.match_weight_trained
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.train_match_weights()');

-- one row per run of crm.train_match_weights(): what it saw and found,
-- stored or not (counts and estimates only, no personal data); read by
-- administrators only (crm_internal.model_tables(): trained_by names them)
CREATE TABLE crm.match_training (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trained_at    timestamptz NOT NULL DEFAULT now(),
    trained_by    text NOT NULL,
    clients       bigint NOT NULL,
    pairs         bigint NOT NULL,
    patterns      integer NOT NULL,
    iterations    integer NOT NULL,
    converged     boolean NOT NULL,
    match_share   double precision,
    stored        boolean NOT NULL,
    note          text
);
COMMENT ON TABLE crm.match_training IS
    'the runs of crm.train_match_weights(): clients and blocked pairs seen, distinct comparison patterns, EM iterations, convergence, the match share, whether the weights were stored and why not; read by administrators only';
COMMENT ON COLUMN crm.match_training.id IS 'the run';
COMMENT ON COLUMN crm.match_training.trained_at IS 'when it ran';
COMMENT ON COLUMN crm.match_training.trained_by IS 'the session''s role that ran it (an administrator)';
COMMENT ON COLUMN crm.match_training.clients IS 'the visible clients read (the whole base: it runs as crm''s owner)';
COMMENT ON COLUMN crm.match_training.pairs IS 'the pairs of clients sharing a blocking key: the pairs crm.duplicate_pairs() compares';
COMMENT ON COLUMN crm.match_training.patterns IS 'the distinct comparison vectors among them (the EM runs over these, with their counts)';
COMMENT ON COLUMN crm.match_training.iterations IS 'EM iterations done (0: not estimated)';
COMMENT ON COLUMN crm.match_training.converged IS 'true when no parameter moved by the tolerance or more before max_iterations';
COMMENT ON COLUMN crm.match_training.match_share IS 'the estimated share of duplicates among the pairs (lambda)';
COMMENT ON COLUMN crm.match_training.stored IS 'whether the weights were stored in crm.match_weight_trained';
COMMENT ON COLUMN crm.match_training.note IS 'why the weights were not stored, if they were not';
CREATE TRIGGER match_training_writer BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm.match_training
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.train_match_weights()');

CREATE VIEW crm.match_weights_in_use WITH (security_invoker = true) AS
    SELECT d.evidence, coalesce(w.weight, t.weight, d.weight) AS weight, d.weight AS default_weight,
           w.weight IS NOT NULL AS changed, d.description,
           CASE WHEN w.weight IS NOT NULL THEN 'pinned' WHEN t.weight IS NOT NULL THEN 'trained' ELSE 'default' END
               AS source,
           t.weight AS trained_weight
    FROM crm.match_weight_defaults() d
    LEFT JOIN crm.match_weight w USING (evidence)
    LEFT JOIN crm.match_weight_trained t USING (evidence);
COMMENT ON VIEW crm.match_weights_in_use IS
    'the weights duplicate scoring uses now: the site''s pinned one, else the trained one, else the default';
COMMENT ON COLUMN crm.match_weights_in_use.evidence IS 'a kind of duplicate evidence';
COMMENT ON COLUMN crm.match_weights_in_use.weight IS
    'the weight scoring uses: this site''s pinned one, else the trained one, else the default (log2 likelihood ratio)';
COMMENT ON COLUMN crm.match_weights_in_use.default_weight IS
    'crm''s default weight for the evidence';
COMMENT ON COLUMN crm.match_weights_in_use.changed IS
    'true when this site pinned its own weight (crm.match_weight)';
COMMENT ON COLUMN crm.match_weights_in_use.description IS 'what the evidence is';
COMMENT ON COLUMN crm.match_weights_in_use.source IS
    'where the weight comes from: pinned (crm.set_match_weight()), trained (crm.train_match_weights()) or default';
COMMENT ON COLUMN crm.match_weights_in_use.trained_weight IS
    'the weight crm.train_match_weights() learnt, if any (in use unless pinned)';
-- everyone who may search for duplicates reads the weights; administrators
-- change them (crm.set_match_weight(), crm.train_match_weights())
GRANT SELECT ON crm.match_weight, crm.match_weight_trained, crm.match_weights_in_use TO PUBLIC;

-- Frequency-aware evidence (doc/duplicates.md): how common each last name,
-- first name and full name of a person is in this base, for the searches
-- of one client (crm.duplicate_candidates(), the check on save,
-- crm.match_score()), counted by crm.refresh_match_frequencies()
-- (administrators, on demand or on a schedule; no trigger: an insert must
-- not pay for it, nor wait on the counter of a common name).
-- crm.duplicate_pairs() does not read them: it counts the base it reads,
-- as the caller.  Only the names common enough to weigh less are kept
-- (crm_internal.common_name_bearers()): a rare name would weigh its full
-- weight anyway, and whether it is kept would tell whether someone else
-- bears it; rare names and values new since the refresh get no adjustment.
-- The counts are of the whole base: only administrators read them
-- (crm_internal.model_tables()), and the scoring uses them (reading those
-- of the names it scores with the owner's rights, src/matchfreq.c) only
-- for a caller that reads every client (crm_internal.reads_whole_base());
-- crm.anonymize() takes an erased client's names out
-- (crm_internal.uncount_match_frequencies()).
CREATE TABLE crm.match_frequency (
    field       text NOT NULL CHECK (field IN ('last_name', 'first_name', 'full_name')),
    value       text NOT NULL,
    bearers     bigint NOT NULL CHECK (bearers >= 2),
    PRIMARY KEY (field, value)
);
COMMENT ON TABLE crm.match_frequency IS
    'how many visible persons have each common last name, first name and full name (skeletons: one name in any transliteration; only those common enough to weigh less, crm_internal.common_name_bearers()), for frequency-aware duplicate scores; written by crm.refresh_match_frequencies(), read by administrators only (they count clients out of other roles'' reach)';
COMMENT ON COLUMN crm.match_frequency.field IS
    'last_name, first_name (its first word, diminutives as the full name) or full_name (the two: last/first), of persons';
COMMENT ON COLUMN crm.match_frequency.value IS
    'the value''s skeleton: its matching form (crm.normalize_name(), crm.first_name_canonical()) with the spellings of other transliterations alike (Kravchenko, Krawczenko: kravxenko)';
COMMENT ON COLUMN crm.match_frequency.bearers IS 'how many visible persons had it at the refresh (2 or more)';
CREATE TRIGGER match_frequency_writer BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm.match_frequency
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.refresh_match_frequencies()');

CREATE TABLE crm.match_frequency_total (
    field           text PRIMARY KEY CHECK (field IN ('last_name', 'first_name', 'full_name', 'birth_date')),
    clients         bigint NOT NULL CHECK (clients > 0),
    distinct_values bigint NOT NULL,
    u               double precision NOT NULL CHECK (u > 0 AND u <= 1),
    refreshed_at    timestamptz NOT NULL
);
COMMENT ON TABLE crm.match_frequency_total IS
    'per field of crm.match_frequency, and for birth_date (no values kept): the persons counted and the chance u that two of them agree; a field without a row gets no frequency adjustment; written by crm.refresh_match_frequencies(), read by administrators only';
COMMENT ON COLUMN crm.match_frequency_total.field IS 'last_name, first_name, full_name or birth_date';
COMMENT ON COLUMN crm.match_frequency_total.clients IS 'visible persons with the field at the refresh';
COMMENT ON COLUMN crm.match_frequency_total.distinct_values IS 'how many values they had, those held by one client included';
COMMENT ON COLUMN crm.match_frequency_total.u IS
    'sum of p(v)^2 over the values: the chance that two persons agree on the field; an agreement on a last or first name v weighs log2(u / p(v)) more, in whole bits, from -3 to 0; birth_date''s u makes the namesakes born the same day of a full name borne by n about n u';
COMMENT ON COLUMN crm.match_frequency_total.refreshed_at IS 'when crm.refresh_match_frequencies() counted them';
CREATE TRIGGER match_frequency_total_writer BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm.match_frequency_total
    FOR EACH STATEMENT EXECUTE FUNCTION crm_internal.settings_writer_check('crm.refresh_match_frequencies()');
$model$);

-- Name matching (fuzzy duplicates).  IMMUTABLE like fold_text: the forms
-- come from ICU's transliteration rules, so an index on them is rebuilt
-- after an ICU major upgrade, as for any ICU collation.
CREATE FUNCTION crm.normalize_name(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'normalize_name' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.normalize_name(text) IS
    'the matching form of a name: transliterated to ASCII (Ł -> l, é -> e, Cyrillic to Latin), lower case, punctuation and spacing reduced to single spaces';

CREATE FUNCTION crm.normalize_company(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'normalize_company' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.normalize_company(text) IS
    'the matching form of a company name without its legal form (sp. z o.o., S.A., sp.j., GmbH ...)';

CREATE FUNCTION crm.first_name_canonical(first_name text) RETURNS text
    AS 'MODULE_PATHNAME', 'first_name_canonical' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.first_name_canonical(text) IS
    'the full form of a Polish first name given as a diminutive (Kasia -> katarzyna), otherwise its matching form';

CREATE FUNCTION crm.name_similarity(a text, b text) RETURNS double precision
    AS 'MODULE_PATHNAME', 'name_similarity' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.name_similarity(text, text) IS
    'Jaro-Winkler similarity (0..1) of the matching forms of two names, word order ignored';

CREATE FUNCTION crm.typo_distance(a text, b text) RETURNS integer
    AS 'MODULE_PATHNAME', 'typo_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm.typo_distance(text, text) IS
    'edits apart (insertion, deletion, substitution, transposition of neighbours), counted up to 3; 4 means more';

CREATE FUNCTION crm.match_keys(kind text, first_name text, last_name text, company_name text,
                               city text, address text, postal_code text DEFAULT NULL,
                               birth_date date DEFAULT NULL)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'match_keys' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm.match_keys(text, text, text, text, text, text, text, date) IS
    'the blocking keys of a client for fuzzy duplicate search (see doc/duplicates.md); indexed with GIN';

-- Fellegi-Sunter weights: log2(m/u) of each kind of evidence, m the
-- share of true duplicate pairs that show it and u the share of other
-- pairs.  The score of a pair is 1 / (1 + 2^-(prior + sum of its weights)).
-- The defaults live in C with the weights (src/matchweights.c); crm.match_weight holds a site's own values, so
-- a dump restores them over a fresh install without conflict.
CREATE FUNCTION crm.match_weight_defaults()
    RETURNS TABLE (evidence text, weight double precision, description text)
    AS 'MODULE_PATHNAME', 'match_weight_defaults' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm.match_weight_defaults() IS
    'the default weights of duplicate evidence (log2 likelihood ratios) with what each means';

CREATE FUNCTION crm_internal.match_weight_check() RETURNS trigger
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
COMMENT ON FUNCTION crm_internal.match_weight_check() IS 'trigger: a weight is for evidence the scoring knows';

-- A site's own weight (administrators): it decides which clients are
-- shown as duplicates of which, for everyone.
CREATE FUNCTION crm.set_match_weight(evidence text, weight double precision) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('change the weights of duplicate evidence');
    IF evidence IS NULL THEN
        RAISE EXCEPTION 'evidence must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT (weight BETWEEN -100 AND 100) THEN
        RAISE EXCEPTION 'weight % is out of range', weight
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = 'A weight is a log2 likelihood ratio from -100 to 100.';
    END IF;
    -- the table's trigger checks the evidence
    PERFORM crm_internal.write_setting('crm.match_weight', jsonb_build_object('evidence', evidence, 'weight', weight),
                                       weight IS NOT NULL, 'match weight');
END
$$;
COMMENT ON FUNCTION crm.set_match_weight(text, double precision) IS
    'administrators: this site''s weight (-100 to 100) of a kind of duplicate evidence (crm.match_weight_defaults()); null goes back to the default; audited';
REVOKE ALL ON FUNCTION crm.set_match_weight(text, double precision) FROM PUBLIC;

-- the weights in use as one jsonb object, the w of crm.match_score()
CREATE FUNCTION crm.match_weights() RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_internal.require_data_model();
    RETURN (
    SELECT jsonb_object_agg(u.evidence, u.weight) FROM crm.match_weights_in_use u);
END
$$;
COMMENT ON FUNCTION crm.match_weights() IS 'the weights in use as one jsonb object: the w of crm.match_score()';

-- Training the weights on this base (doc/duplicates.md, "Training the
-- weights"): the estimate in C (src/training.c), over exactly the pairs
-- crm.duplicate_pairs() compares; one row per kind of evidence, the run's
-- figures on each, and refusal: why nothing is to be stored.
CREATE FUNCTION crm_internal.estimate_match_weights(max_iterations integer, tolerance double precision,
                                                    min_pairs bigint, sample_pairs integer,
                                                    max_differ_m double precision, prior_pairs double precision,
                                                    differ_default boolean)
    RETURNS TABLE (ord integer, evidence text, comparison text, pairs bigint, m double precision,
                   u double precision, u_random double precision, old_weight double precision,
                   weight double precision, note text, clients bigint, blocked_pairs bigint,
                   patterns integer, iterations integer, converged boolean, match_share double precision,
                   refusal text)
    AS 'MODULE_PATHNAME', 'estimate_match_weights' LANGUAGE C VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION crm_internal.estimate_match_weights(integer, double precision, bigint, integer, double precision, double precision, boolean) IS
    'internal, for crm.train_match_weights(): Fellegi-Sunter m and u by EM over the blocked pairs of the visible base, one row per kind of evidence';
REVOKE ALL ON FUNCTION crm_internal.estimate_match_weights(integer, double precision, bigint, integer, double precision, double precision, boolean) FROM PUBLIC;

-- Administrators: learn the weights from the base (EM) and use them where
-- no weight is pinned.  SECURITY DEFINER: it reads the whole base as crm's
-- owner (every client, whatever the caller's units), but stores and
-- returns only weights and counts.  A base too small (fewer than min_pairs
-- blocked pairs) or one where the estimate finds almost no duplicates
-- stores nothing (a WARNING says why): the weights in use stay.
CREATE FUNCTION crm.train_match_weights(max_iterations integer DEFAULT 25,
                                        tolerance double precision DEFAULT 0.0001,
                                        min_pairs bigint DEFAULT 1000,
                                        sample_pairs integer DEFAULT 100000,
                                        max_differ_m double precision DEFAULT 1,
                                        prior_pairs double precision DEFAULT 0,
                                        differ_default boolean DEFAULT true)
    RETURNS TABLE (evidence text, pairs bigint, m double precision, u double precision,
                   u_random double precision, old_weight double precision, new_weight double precision,
                   source text, note text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    est jsonb;
    run record;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('train the weights of duplicate evidence');
    IF max_iterations IS NULL OR tolerance IS NULL OR min_pairs IS NULL OR sample_pairs IS NULL
       OR max_differ_m IS NULL OR prior_pairs IS NULL
       OR differ_default IS NULL THEN
        RAISE EXCEPTION 'the arguments of crm.train_match_weights() must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Leave an argument out for its default.';
    END IF;
    SELECT jsonb_agg(to_jsonb(e) ORDER BY e.ord) INTO est
    FROM crm_internal.estimate_match_weights(max_iterations, tolerance, min_pairs, sample_pairs, max_differ_m, prior_pairs,
                                             differ_default) e;
    SELECT * INTO run
    FROM jsonb_to_record(est -> 0) AS r(clients bigint, blocked_pairs bigint, patterns integer, iterations integer,
                                        converged boolean, match_share double precision, refusal text);
    INSERT INTO crm.match_training (trained_by, clients, pairs, patterns, iterations, converged, match_share,
                                    stored, note)
    VALUES (crm_internal.session_role(), run.clients, run.blocked_pairs, run.patterns, run.iterations,
            run.converged, run.match_share, run.refusal IS NULL, run.refusal);
    IF run.refusal IS NULL THEN
        DELETE FROM crm.match_weight_trained;
        INSERT INTO crm.match_weight_trained (evidence, weight, m, u)
        SELECT x.evidence, x.weight, x.m, x.u
        FROM jsonb_to_recordset(est) AS x(evidence text, weight double precision, m double precision, u double precision)
        WHERE x.weight IS NOT NULL;
        IF NOT run.converged THEN
            RAISE WARNING 'the estimate did not converge within max_iterations (%)', run.iterations
                USING DETAIL = 'The weights of the last iteration are stored.',
                      HINT = 'Call crm.train_match_weights() again with more max_iterations or a larger tolerance.';
        END IF;
    ELSE
        RAISE WARNING 'the weights of duplicate evidence were not trained'
            USING DETAIL = run.refusal || '.  The weights in use stay as they were.',
                  HINT = 'Train on a larger base, or pin weights with crm.set_match_weight().';
    END IF;
    PERFORM crm_internal.audit('train match weights', NULL,
                               jsonb_build_object('clients', run.clients, 'pairs', run.blocked_pairs,
                                                  'patterns', run.patterns, 'iterations', run.iterations,
                                                  'converged', run.converged, 'stored', run.refusal IS NULL));
    RETURN QUERY
    SELECT x.evidence, x.pairs, x.m, x.u, x.u_random, x.old_weight, w.weight, w.source, x.note
    FROM jsonb_to_recordset(est) AS x(ord integer, evidence text, pairs bigint, m double precision,
                                      u double precision, u_random double precision,
                                      old_weight double precision, note text)
    JOIN crm.match_weights_in_use w ON w.evidence = x.evidence
    ORDER BY x.ord;
END
$$;
COMMENT ON FUNCTION crm.train_match_weights(integer, double precision, bigint, integer, double precision, double precision, boolean) IS
    'administrators: learns the weights of duplicate evidence from the whole base (Fellegi-Sunter m and u by EM over the blocked pairs) and uses them where none is pinned; one row per evidence with m, u, the old and the new weight; audited (counts only)';
REVOKE ALL ON FUNCTION crm.train_match_weights(integer, double precision, bigint, integer, double precision, double precision, boolean) FROM PUBLIC;

-- Administrators: back to the defaults (the pinned weights stay)
CREATE FUNCTION crm.forget_trained_match_weights() RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    forgotten bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('forget the trained weights of duplicate evidence');
    DELETE FROM crm.match_weight_trained;
    GET DIAGNOSTICS forgotten = ROW_COUNT;
    IF forgotten > 0 THEN
        PERFORM crm_internal.audit('forget trained match weights', NULL, jsonb_build_object('weights', forgotten));
    END IF;
    RETURN forgotten;
END
$$;
COMMENT ON FUNCTION crm.forget_trained_match_weights() IS
    'administrators: drops the weights crm.train_match_weights() learnt (scoring goes back to the defaults; pinned weights stay); the number dropped; audited';
REVOKE ALL ON FUNCTION crm.forget_trained_match_weights() FROM PUBLIC;

-- The score and the reasons of one pair of clients, in C (src/scoring.c,
-- which the searches use directly).  shared: the phones and e-mails they
-- have in common, as 'phone:+48601234567' (e-mails compared in lower case:
-- contacts keep the case they were typed in); w: crm.match_weights().
-- a and b are rows of crm.client (record: the table is the data model's)
CREATE FUNCTION crm.match_score(a record, b record, shared text[], w jsonb,
                                OUT score double precision, OUT reasons text[])
    AS 'MODULE_PATHNAME', 'match_score' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm.match_score(record, record, text[], jsonb) IS
    'score (0..1) and readable reasons of one pair of clients under the weights w; shared lists their common phones and e-mails';

-- The values crm.refresh_match_frequencies() counts, in the matching forms
-- the scoring compares (src/matchfreq.c).
CREATE FUNCTION crm_internal.match_frequency_keys(kind text, first_name text, last_name text, birth_date date)
    RETURNS text[]
    AS 'MODULE_PATHNAME', 'match_frequency_keys' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm_internal.match_frequency_keys(text, text, text, date) IS
    'internal: ''last_name:<skeleton>'', ''first_name:<skeleton of the canonical first word>'' and, with a birth date, ''full_name:<last/first>'' of a person, the values whose frequencies weigh duplicate evidence';

-- How many bearers make a name common enough to weigh less, the least
-- count whose adjustment (src/matchfreq.c) is not zero; crm.match_frequency
-- keeps only such names.  A last or first name: its share of the persons at
-- least twice the chance u that two persons agree on the field (whole bits
-- toward zero).  A full name: 32 bearers or more, and enough that the
-- namesakes' cap is 4 bits or less, the most a pair of namesakes born the
-- same day scores with the default weights; none without birth dates.  In C
-- (crm_common_name_bearers()), where crm.duplicate_pairs() counts the names
-- of the base it reads by the same rule.
CREATE FUNCTION crm_internal.common_name_bearers(field text, u double precision, clients bigint,
                                                 u_birth double precision)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'common_name_bearers' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION crm_internal.common_name_bearers(text, double precision, bigint, double precision) IS
    'internal: the bearers from which a value of field (chance u of agreement among clients persons; u_birth: of a same birth date) weighs less (crm.match_frequency keeps only those)';

-- An erased client's names out of the counts (crm.anonymize()): keys are
-- crm_internal.match_frequency_keys() of the names, one per person counted
-- at the refresh.  Each count falls by the times its key comes; a name no
-- longer common goes, as the refresh would not keep it.  Called with the data model's owner's rights
-- (crm_internal.anonymize_crm_data()); the totals, which hold no name,
-- stay as counted until the next refresh.
CREATE FUNCTION crm_internal.uncount_match_frequencies(keys text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM crm.match_frequency f
    USING (SELECT split_part(k.key, ':', 1) AS field, substr(k.key, strpos(k.key, ':') + 1) AS value, count(*) AS n
           FROM unnest(keys) AS k(key) GROUP BY 1, 2) u, crm.match_frequency_total t
    WHERE f.field = u.field AND f.value = u.value AND t.field = f.field
      AND (f.bearers - u.n < crm_internal.common_name_bearers(
               t.field, t.u, t.clients, (SELECT b.u FROM crm.match_frequency_total b WHERE b.field = 'birth_date')));
    UPDATE crm.match_frequency f SET bearers = f.bearers - u.n
    FROM (SELECT split_part(k.key, ':', 1) AS field, substr(k.key, strpos(k.key, ':') + 1) AS value, count(*) AS n
          FROM unnest(keys) AS k(key) GROUP BY 1, 2) u
    WHERE f.field = u.field AND f.value = u.value;
END
$$;
COMMENT ON FUNCTION crm_internal.uncount_match_frequencies(text[]) IS
    'internal, called by crm.anonymize(): takes the keys (crm_internal.match_frequency_keys()) of an erased client''s names out of crm.match_frequency; a name no longer common goes';
REVOKE ALL ON FUNCTION crm_internal.uncount_match_frequencies(text[]) FROM PUBLIC;

-- Count how common each last name and first name is (administrators):
-- one pass over the visible clients, grouped; the tables are replaced in one
-- transaction (readers keep the old counts until it commits).  Run after a
-- bulk load and on a schedule (pg_cron: nightly); see doc/duplicates.md.
CREATE FUNCTION crm.refresh_match_frequencies() RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    counted jsonb;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_admin('refresh the frequencies of names');
    -- one refresh at a time; readers are not blocked
    LOCK TABLE crm.match_frequency, crm.match_frequency_total IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM crm.match_frequency;
    DELETE FROM crm.match_frequency_total;
    CREATE TEMP TABLE crm_match_frequency_count ON COMMIT DROP AS
    SELECT split_part(k.key, ':', 1) AS field, substr(k.key, strpos(k.key, ':') + 1) AS value, count(*) AS bearers
    FROM crm.client c,
         unnest(crm_internal.match_frequency_keys(c.kind, c.first_name, c.last_name, c.birth_date)) AS k(key)
    WHERE c.kind = 'person' AND crm_internal.client_is_visible(c.hidden_at, c.anonymized_at)
    GROUP BY 1, 2;
    INSERT INTO crm.match_frequency_total (field, clients, distinct_values, u, refreshed_at)
    SELECT f.field, sum(f.bearers), count(*), sum(f.bearers::float8 ^ 2) / (sum(f.bearers)::float8 ^ 2), now()
    FROM pg_temp.crm_match_frequency_count f GROUP BY f.field;
    -- the birth dates: only their total (how likely two persons share one),
    -- each date counted at most 4 times the average: a pile of one date (a
    -- placeholder such as 1900-01-01, anyone's inserts) would make every
    -- same birth date look common
    INSERT INTO crm.match_frequency_total (field, clients, distinct_values, u, refreshed_at)
    SELECT 'birth_date', sum(d.n), count(*), sum(least(d.n, d.most)::float8 ^ 2) / (sum(least(d.n, d.most))::float8 ^ 2), now()
    FROM (SELECT count(*) AS n, 4.0 * sum(count(*)) OVER () / count(*) OVER () AS most
          FROM crm.client c
          WHERE c.kind = 'person' AND c.birth_date IS NOT NULL
            AND crm_internal.client_is_visible(c.hidden_at, c.anonymized_at)
          GROUP BY c.birth_date) d
    HAVING count(*) > 0;
    -- only the names common enough to weigh less (crm_tf_adjustment(),
    -- src/matchfreq.c: log2(u / share) is -1 or less, so bearers >= 2 u
    -- clients): whether a name is kept, which any role could tell from the
    -- lookups' statistics, then says no more than its score does
    INSERT INTO crm.match_frequency (field, value, bearers)
    SELECT f.field, f.value, f.bearers
    FROM pg_temp.crm_match_frequency_count f JOIN crm.match_frequency_total t USING (field)
    WHERE f.bearers >= crm_internal.common_name_bearers(t.field, t.u, t.clients,
              (SELECT b.u FROM crm.match_frequency_total b WHERE b.field = 'birth_date'));
    DROP TABLE pg_temp.crm_match_frequency_count;
    SELECT jsonb_object_agg(t.field, jsonb_build_object('clients', t.clients, 'values', t.distinct_values,
                                                        'kept', (SELECT count(*) FROM crm.match_frequency f
                                                                 WHERE f.field = t.field))
                            ORDER BY t.field)
    INTO counted FROM crm.match_frequency_total t;
    counted := coalesce(counted, '{}');
    PERFORM crm_internal.audit('match frequencies', NULL, counted);
    RETURN counted;
END
$$;
COMMENT ON FUNCTION crm.refresh_match_frequencies() IS
    'administrators: count how common each last name and first name is among the visible persons (crm.match_frequency), for frequency-aware duplicate scores; returns and audits the counts';
REVOKE ALL ON FUNCTION crm.refresh_match_frequencies() FROM PUBLIC;

-- the default threshold of the candidate searches
CREATE FUNCTION crm.default_min_score() RETURNS double precision
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
COMMENT ON FUNCTION crm.max_block_size() IS 'blocking keys shared by more visible clients than this are skipped: 200 (the full-name key n: half of it, the typo keys f: and l: a tenth)';

-- in C (src/candidates.c): the blocks of the client's keys through the
-- indexes, each cut at crm.max_block_size() + 1, then one read of the
-- clients found and scoring as in crm.match_score
CREATE FUNCTION crm.duplicate_candidates(client_id bigint, min_score double precision DEFAULT NULL)
    RETURNS TABLE (candidate_id bigint, score double precision, reasons text[])
    AS 'MODULE_PATHNAME', 'duplicate_candidates' LANGUAGE C STABLE
    -- the identifier operators live in crm
    SET search_path = pg_catalog, crm, pg_temp;
COMMENT ON FUNCTION crm.duplicate_candidates(bigint, double precision) IS
    'fuzzy duplicate candidates for one client, best first: score (0..1) and the reasons';

-- in C (src/pairs.c): reads the visible base once, blocks on hashed keys
-- and scores each pair with crm.match_score's code
CREATE FUNCTION crm.duplicate_pairs(min_score double precision DEFAULT NULL)
    RETURNS TABLE (client_a bigint, client_b bigint, score double precision, reasons text[])
    AS 'MODULE_PATHNAME', 'duplicate_pairs' LANGUAGE C STABLE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION crm.duplicate_pairs(double precision) IS
    'fuzzy duplicate pairs over all visible clients, best first; only clients sharing a blocking key are compared';

-- The same searches for scores that crm.possible_duplicate keeps, which
-- other roles than the one that searched read (the check on save, the
-- import's duplicate pass): under row-level security on crm.client, weighed
-- by no frequency count, since a count of the searcher's reach would tell
-- a reader of clients out of its own (src/matchfreq.h, MatchScoreReader).
CREATE FUNCTION crm_internal.duplicate_candidates_recorded(client_id bigint, min_score double precision DEFAULT NULL)
    RETURNS TABLE (candidate_id bigint, score double precision, reasons text[])
    AS 'MODULE_PATHNAME', 'duplicate_candidates_recorded' LANGUAGE C STABLE
    SET search_path = pg_catalog, crm, pg_temp;
COMMENT ON FUNCTION crm_internal.duplicate_candidates_recorded(bigint, double precision) IS
    'internal: crm.duplicate_candidates() for the scores crm.possible_duplicate keeps (no frequency weighing under row-level security)';
CREATE FUNCTION crm_internal.duplicate_pairs_recorded(min_score double precision DEFAULT NULL)
    RETURNS TABLE (client_a bigint, client_b bigint, score double precision, reasons text[])
    AS 'MODULE_PATHNAME', 'duplicate_pairs_recorded' LANGUAGE C STABLE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION crm_internal.duplicate_pairs_recorded(double precision) IS
    'internal: crm.duplicate_pairs() for the scores crm.possible_duplicate keeps (no frequency weighing under row-level security)';
