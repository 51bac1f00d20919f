--------------------------------------------------------------------------
-- Tickets and calls: the history of a ticket (its statuses and notes), a
-- ticket opened from a call, and the call an agent records on the client
-- it chose after an incoming-call identification (FCC)
--------------------------------------------------------------------------

-- A ticket opened from a call keeps the caller's number as crm keeps
-- phones: E.164; a caller id that is no number ("anonymous") as given.
CREATE FUNCTION crm_internal.ticket_source_number() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.source_number := nullif(btrim(NEW.source_number), '');
    IF crm.is_valid_phone(NEW.source_number) THEN
        NEW.source_number := crm.normalize_phone(NEW.source_number);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION crm_internal.ticket_source_number() IS
    'trigger: normalizes a ticket''s source_number to E.164 (a caller id that is no number stays as given)';
-- nobody attaches it elsewhere (src/sql/98_trigger_functions.sql)
REVOKE EXECUTE ON FUNCTION crm_internal.ticket_source_number() FROM PUBLIC;

-- The history is written with crm's rights, once per statement (an import
-- or a bulk update writes many tickets at once), so that the roles that
-- write tickets need no privilege on it and cannot make it up: when and
-- who (the session's role) are the server's.  A new ticket gets an entry
-- of its first status; an update one per ticket whose status changed.
CREATE FUNCTION crm_internal.ticket_history_write() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a trigger function can be attached to any table: this one only to crm.ticket
    PERFORM crm_internal.require_trigger_table(TG_RELID, 'ticket', 'ticket_history_write');
    IF TG_OP = 'INSERT' THEN
        INSERT INTO crm.ticket_history (ticket_id, changed_at, changed_by, from_status, to_status)
        SELECT n.id, now(), crm_internal.session_role(), NULL, n.status FROM new_rows n ORDER BY n.id;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO crm.ticket_history (ticket_id, changed_at, changed_by, from_status, to_status)
        SELECT n.id, now(), crm_internal.session_role(), o.status, n.status
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE n.status IS DISTINCT FROM o.status
        ORDER BY n.id;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION crm_internal.ticket_history_write() IS
    'trigger on crm.ticket, once per statement: records each new ticket''s status and each status change in crm.ticket_history, with crm''s rights, the server''s time and the session''s role';
-- nobody attaches it elsewhere (a trigger's function is checked when it is created)
REVOKE EXECUTE ON FUNCTION crm_internal.ticket_history_write() FROM PUBLIC;

-- Whether a role sees a ticket as crm's row-level security shows it: the
-- ticket's client in its reach (AC-3) and, for an agent, the ticket its
-- own, unassigned or another's as its permissions say, in its campaigns or
-- with the permission for others (AC-2).  Without row-level security, any
-- role that may read crm.ticket sees them all.  crm.add_ticket_note()
-- (SECURITY DEFINER) asks it for its caller.
CREATE FUNCTION crm_internal.sees_ticket(role_name text, ticket_id bigint) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    t record;
BEGIN
    SELECT k.id, k.assignee, k.campaign_id, c.unit_id INTO t
    FROM crm.ticket k JOIN crm.client c ON c.id = k.client_id
    WHERE k.id = ticket_id;
    IF NOT FOUND OR NOT coalesce(has_table_privilege(role_name, 'crm.ticket', 'SELECT'), false) THEN
        RETURN false;
    END IF;
    IF (SELECT k.relrowsecurity FROM pg_class k WHERE k.oid = 'crm.client'::regclass)
       AND NOT coalesce(crm_internal.reaches_unit(role_name, t.unit_id), false) THEN
        RETURN false;
    END IF;
    IF NOT (SELECT k.relrowsecurity FROM pg_class k WHERE k.oid = 'crm.ticket'::regclass)
       OR crm_internal.sees_all_work(role_name) THEN
        RETURN true;
    END IF;
    RETURN coalesce(
        (t.assignee = role_name
         OR (t.assignee IS NULL AND crm_internal.has_agent_permission(role_name, 'tickets_unassigned'))
         OR (t.assignee <> role_name AND crm_internal.has_agent_permission(role_name, 'tickets_other_agents')))
        AND (t.campaign_id IS NULL OR t.campaign_id = ANY (crm_internal.scope_campaigns(role_name))
             OR crm_internal.has_agent_permission(role_name, 'tickets_other_campaigns')),
        false);
END
$$;
COMMENT ON FUNCTION crm_internal.sees_ticket(text, bigint) IS
    'internal: whether the role sees the ticket as crm''s row-level security shows it (its client in reach, AC-2 for agents); false for a ticket that does not exist';

-- A note on a ticket: an entry of its history, written with crm's rights
-- for a caller that sees the ticket.  A ticket it does not see gets the
-- same refusal as one that does not exist.
CREATE FUNCTION crm.add_ticket_note(ticket_id bigint, note text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    caller text := crm_internal.session_role();
    t record;
    visible boolean := false;
    id bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    -- seen first, locked then (no lock on a ticket the caller does not
    -- see): the status the note is written at changes not until we commit
    IF crm_internal.sees_ticket(caller, ticket_id) THEN
        SELECT k.status, c.id AS client_id, c.anonymized_at INTO t
        FROM crm.ticket k JOIN crm.client c ON c.id = k.client_id
        WHERE k.id = ticket_id
        FOR SHARE OF k;
        visible := FOUND;
    END IF;
    IF NOT visible THEN
        RAISE EXCEPTION 'permission denied to add a note to ticket %', ticket_id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role "%s" sees the tickets of the clients of its units, and of them those its agent permissions show; this ticket does not exist or is not one of them.', caller),
                  HINT = 'An administrator assigns units with crm.user_unit() and campaigns with crm.user_campaign(), and grants agent permissions with crm.grant_agent_permission().';
    END IF;
    IF note IS NULL OR btrim(note) = '' THEN
        RAISE EXCEPTION 'a ticket note must not be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The note for ticket %s was %s.', ticket_id, CASE WHEN note IS NULL THEN 'null' ELSE 'blank' END),
                  HINT = 'Give the note''s text.';
    END IF;
    PERFORM crm_internal.refuse_anonymized(t.client_id, t.anonymized_at);
    INSERT INTO crm.ticket_history (ticket_id, changed_at, changed_by, from_status, to_status, note)
    VALUES (ticket_id, now(), caller, t.status, t.status, note)
    RETURNING ticket_history.id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION crm.add_ticket_note(bigint, text) IS
    'adds a note to a ticket the caller sees (as row-level security shows tickets); returns the crm.ticket_history entry''s id; a ticket it does not see is refused as one that does not exist';
REVOKE ALL ON FUNCTION crm.add_ticket_note(bigint, text) FROM PUBLIC;

-- FCC: after crm.identify_phone() showed the records that carry the
-- caller's number and the agent chose one (or another it found by
-- search), the application records the call on it in one call: the client
-- joins the call's campaign, and the contact goes to its history with the
-- agent as its handler.  It runs with the caller's rights: row-level
-- security decides what it may see and write.
CREATE FUNCTION crm.record_call(phone text, client_id bigint, campaign_id bigint DEFAULT NULL,
                                direction text DEFAULT 'inbound', call_status text DEFAULT NULL,
                                summary text DEFAULT NULL, call_type text DEFAULT NULL,
                                classifier text DEFAULT NULL, attempts integer DEFAULT NULL,
                                callback_at timestamptz DEFAULT NULL, duration interval DEFAULT NULL,
                                recording_ref text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c record;
    id bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    SELECT k.id, k.hidden_at, k.anonymized_at INTO c FROM crm.client k WHERE k.id = client_id;
    IF NOT FOUND THEN
        IF row_security_active('crm.client'::regclass) THEN
            PERFORM crm_internal.refuse_out_of_reach(format('record a call on client %s', client_id),
                                                     'this client does not exist or lies outside them');
        END IF;
        RAISE EXCEPTION 'client % does not exist', client_id
            USING ERRCODE = 'no_data_found',
                  HINT = 'A client merged into another is gone: record the call on the client it was merged into.';
    END IF;
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    IF c.hidden_at IS NOT NULL THEN
        RAISE EXCEPTION 'client % is hidden', c.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It was hidden at %s.', c.hidden_at),
                  HINT = 'Record the call on another of the identified records, or have a supervisor unhide it with crm.unhide_client().';
    END IF;
    IF phone IS NULL OR btrim(phone) = '' THEN
        RAISE EXCEPTION 'the caller''s number must be given'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the caller id as the telephony gave it (a withheld one as "anonymous").';
    END IF;
    IF campaign_id IS NOT NULL THEN
        IF NOT EXISTS (SELECT FROM crm.campaign k WHERE k.id = campaign_id) THEN
            RAISE EXCEPTION 'campaign % does not exist', campaign_id USING ERRCODE = 'no_data_found';
        END IF;
        -- AC-2: an agent's contacts in a campaign it does not work in would
        -- be out of its own sight
        IF row_security_active('crm.interaction'::regclass)
           AND NOT crm_internal.sees_all_work(current_user::text)
           AND NOT campaign_id = ANY (crm_internal.scope_campaigns(current_user::text))
           AND NOT crm_internal.has_agent_permission(current_user::text, 'history_all_campaigns') THEN
            RAISE EXCEPTION 'permission denied to record a call in campaign %', campaign_id
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format('Role "%s" does not work in campaign %s.', current_user, campaign_id),
                      HINT = 'An administrator assigns campaigns with crm.user_campaign(role, campaign).';
        END IF;
        INSERT INTO crm.campaign_member (campaign_id, client_id) VALUES (campaign_id, c.id)
        ON CONFLICT DO NOTHING;
    END IF;
    INSERT INTO crm.interaction (client_id, channel, direction, campaign_id, agent, phone, duration, summary,
                                 call_type, call_status, classifier, attempts, callback_at, recording_ref)
    VALUES (c.id, 'call', direction, campaign_id, current_user::text, btrim(phone), duration, summary,
            call_type, call_status, classifier, attempts, callback_at, recording_ref)
    RETURNING interaction.id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION crm.record_call(text, bigint, bigint, text, text, text, text, text, integer, timestamptz, interval, text) IS
    'FCC: records a call on the client the agent chose (after crm.identify_phone(), or any it found): adds the client to the call''s campaign, writes the contact (channel call, the number in E.164, the caller as agent) and returns its crm.interaction id; with the caller''s rights';
