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
