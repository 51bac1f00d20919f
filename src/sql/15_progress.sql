--------------------------------------------------------------------------
-- Progress of long runs
--------------------------------------------------------------------------

-- Progress of a long run, as a NOTICE every 5 % of the work (at most 20),
-- only for runs of at least 1,000 items that have taken 5 seconds: the
-- count done and the time left at the rate so far (src/progress.c).
CREATE FUNCTION crm_internal.report_progress(what text, done bigint, total bigint, started timestamptz)
    RETURNS void
    AS 'MODULE_PATHNAME', 'report_progress' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION crm_internal.report_progress(text, bigint, bigint, timestamptz) IS
    'a NOTICE with counts and the time left every 5 % of a run of 1,000 items or more, once it has taken 5 s';

-- A set-based run (the bulk actions) works in steps of this size and
-- reports after each: one statement per 5 % of the work.
CREATE FUNCTION crm_internal.progress_step(total bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'progress_step' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crm_internal.progress_step(bigint) IS
    'the work between two progress NOTICEs of crm_internal.report_progress(): 5 % of total (all of it below 1,000 items)';
