--------------------------------------------------------------------------
-- Invoices after a merge (MG-9, doc/working-with-the-base.md)
--
-- A merge moves the source's invoices to the target and flags them
-- (crm.invoice.needs_refresh, src/sql/62_merge.sql); an undo flags them
-- again.  Refreshing writes the billed party's data from the client now
-- holding each flagged invoice and clears the flag.
--------------------------------------------------------------------------

-- As the caller: row-level security and the privileges on crm.invoice
-- decide which invoices it refreshes (those of the clients it reaches).
CREATE FUNCTION crm.refresh_invoices(client_id bigint DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    n bigint;
BEGIN
    PERFORM crm_internal.require_data_model();
    IF client_id IS NOT NULL THEN
        PERFORM crm_internal.require_reach(ARRAY[client_id], 'refresh the invoices of');
    END IF;
    -- the billed name is the legal one (a person's first and last name, a
    -- company's name), not a display name set otherwise
    UPDATE crm.invoice i
    SET billed_name = nullif(crm_internal.client_default_display_name(c.kind, c.first_name, c.last_name, c.company_name), ''),
        billed_address = nullif(concat_ws(', ', c.address, nullif(concat_ws(' ', c.postal_code, c.city), '')), ''),
        billed_nip = c.nip,
        needs_refresh = false
    FROM crm.client c
    WHERE c.id = i.client_id AND i.needs_refresh
      AND (client_id IS NULL OR i.client_id = client_id);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION crm.refresh_invoices(bigint) IS
    'MG-9: writes the billed name, address and NIP of the flagged invoices (needs_refresh, set by a merge) from the client now holding them, and clears the flag; of one client or of all the caller reaches; the number refreshed';
