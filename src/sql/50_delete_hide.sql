--------------------------------------------------------------------------
-- Removing and hiding clients
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model()
SELECT crm_internal.data_model_part('delete_hide', $model$
CREATE TRIGGER client_before_delete BEFORE DELETE ON crm.client
    FOR EACH ROW EXECUTE FUNCTION crm_internal.client_before_delete();
$model$);

-- Deleting a client never loses a business record by cascade: rows that
-- reference it through a foreign key without ON DELETE CASCADE (or SET
-- NULL) block the delete; cascading ones (contacts, memberships, custom
-- values, consents, price list) are the client's own and go with it.
CREATE FUNCTION crm_internal.client_before_delete() RETURNS trigger
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
COMMENT ON FUNCTION crm_internal.client_before_delete() IS
    'trigger: refuses to delete a client that business records are linked to, saying which';

-- Deleting, hiding and unhiding are crm's own acts (SECURITY DEFINER):
-- audited, and done only to clients the session's role reaches.  No role
-- is granted DELETE on crm.client: crm.delete_client() is the way.
CREATE FUNCTION crm.delete_client(client_id bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_supervisor('delete clients');
    c := crm_internal.client_in_reach(client_id, 'delete');
    -- recorded first, while the client's unit is there to record
    PERFORM crm_internal.audit('delete', c.id, NULL);
    DELETE FROM crm.client cl WHERE cl.id = c.id;
END
$$;
COMMENT ON FUNCTION crm.delete_client(bigint) IS
    'deletes a client with its contacts, memberships, custom values and consents; refuses (23503) while business records are linked to it';

CREATE FUNCTION crm.hide_client(client_id bigint, reason text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_supervisor('hide clients');
    c := crm_internal.client_in_reach(client_id, 'hide');
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    IF c.hidden_at IS NOT NULL THEN
        RAISE EXCEPTION 'client % is already hidden', c.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It was hidden at %s%s.', c.hidden_at,
                                  coalesce(format(' (%s)', c.hidden_reason), '')),
                  HINT = format('Use crm.unhide_client(%s) to bring it back.', c.id);
    END IF;
    UPDATE crm.client cl SET hidden_at = now(), hidden_reason = nullif(btrim(reason), '')
    WHERE cl.id = c.id;
    PERFORM crm_internal.audit('hide', c.id, NULL);
END
$$;
COMMENT ON FUNCTION crm.hide_client(bigint, text) IS
    'hides a client who left or withdrew consent: it keeps its records but drops out of the working views';

CREATE FUNCTION crm.unhide_client(client_id bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
BEGIN
    PERFORM crm_internal.require_data_model();
    PERFORM crm_internal.require_supervisor('unhide clients');
    c := crm_internal.client_in_reach(client_id, 'unhide');
    PERFORM crm_internal.refuse_anonymized(c.id, c.anonymized_at);
    IF c.hidden_at IS NULL THEN
        RAISE EXCEPTION 'client % is not hidden', c.id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE crm.client cl SET hidden_at = NULL, hidden_reason = NULL WHERE cl.id = c.id;
    PERFORM crm_internal.audit('unhide', c.id, NULL);
END
$$;
COMMENT ON FUNCTION crm.unhide_client(bigint) IS 'brings a hidden client back into the working views';
REVOKE ALL ON FUNCTION crm.delete_client(bigint), crm.hide_client(bigint, text), crm.unhide_client(bigint) FROM PUBLIC;
