--------------------------------------------------------------------------
-- Reporting for BI tools: plain types, no function or operator of crm
-- needed by whoever queries
--------------------------------------------------------------------------

-- data model (tables, views, triggers): run by crm.install_data_model();
-- last in the model: the report reads the tables of every concept before it
SELECT crm_internal.data_model_part('reporting', $model$
-- One row per client, every column of a built-in type: a point-and-click
-- tool that sets its own search_path (crm not on it) filters with plain
-- text and number comparisons.  The counts are correlated subqueries on
-- the client_id indexes: a filtered report reads only its clients' rows,
-- and a query that does not select a count does not compute it.
CREATE VIEW crm.client_report WITH (security_invoker = true) AS
SELECT c.id, c.kind, c.display_name, c.first_name, c.last_name, c.company_name,
       c.city, c.postal_code,
       c.pesel::text AS pesel, c.nip::text AS nip, c.regon::text AS regon,
       CASE WHEN c.kind = 'person'
            THEN extract(year FROM coalesce(crm.pesel_birth_date(c.pesel), c.birth_date))::integer
       END AS birth_year,
       CASE WHEN c.kind = 'person' THEN crm.pesel_sex(c.pesel) END AS sex,
       c.unit_id, u.path AS unit_path, c.owner, c.created_at, c.last_contact_at,
       c.hidden_at IS NOT NULL AS hidden, c.anonymized_at IS NOT NULL AS anonymized,
       phone.value AS phone, email.value AS email,
       (SELECT count(*) FROM crm.contact k WHERE k.client_id = c.id) AS contacts,
       (SELECT count(*) FROM crm.policy p WHERE p.client_id = c.id) AS policies,
       (SELECT count(*) FROM crm.policy p
        WHERE p.client_id = c.id AND p.ends_on >= current_date AND NOT p.preliminary) AS active_policies,
       (SELECT count(*) FROM crm.ticket t WHERE t.client_id = c.id) AS tickets,
       (SELECT count(*) FROM crm.ticket t
        WHERE t.client_id = c.id AND t.status IN ('new', 'open', 'pending')) AS open_tickets,
       (SELECT count(*) FROM crm.interaction i WHERE i.client_id = c.id) AS interactions,
       (SELECT count(*) FROM crm.document d WHERE d.client_id = c.id) AS documents,
       (SELECT count(*) FROM crm.offer o WHERE o.client_id = c.id) AS offers,
       (SELECT count(*) FROM crm.invoice v WHERE v.client_id = c.id) AS invoices,
       (SELECT count(*) FROM crm.task t WHERE t.client_id = c.id) AS tasks,
       (SELECT count(*) FROM crm.case k WHERE k.client_id = c.id) AS cases,
       (SELECT count(*) FROM crm.order o WHERE o.client_id = c.id) AS orders,
       (SELECT count(*) FROM crm.possible_duplicate d
        WHERE d.client_a = c.id AND d.dismissed_at IS NULL)
       + (SELECT count(*) FROM crm.possible_duplicate d
          WHERE d.client_b = c.id AND d.dismissed_at IS NULL) AS duplicate_candidates
FROM crm.client c
LEFT JOIN crm.contact phone ON phone.client_id = c.id AND phone.kind = 'phone' AND phone.is_default
LEFT JOIN crm.contact email ON email.client_id = c.id AND email.kind = 'email' AND email.is_default
LEFT JOIN crm.unit_tree u ON u.id = c.unit_id;
COMMENT ON VIEW crm.client_report IS
    'one row per client, hidden and anonymized ones included (flagged), for BI tools: identifiers as text, birth year and sex, unit path, default phone and e-mail, counts of linked records and of candidate duplicates; every column of a built-in type, so that no function or operator of schema crm is needed';
COMMENT ON COLUMN crm.client_report.id IS 'the client (crm.client.id)';
COMMENT ON COLUMN crm.client_report.kind IS 'person or company';
COMMENT ON COLUMN crm.client_report.display_name IS
    'the name shown in lists ("anonymized client <id>" for an anonymized client)';
COMMENT ON COLUMN crm.client_report.first_name IS 'a person''s first name';
COMMENT ON COLUMN crm.client_report.last_name IS 'a person''s last name';
COMMENT ON COLUMN crm.client_report.company_name IS 'a company''s name';
COMMENT ON COLUMN crm.client_report.city IS 'the city of the address';
COMMENT ON COLUMN crm.client_report.postal_code IS 'the postal code as typed';
COMMENT ON COLUMN crm.client_report.pesel IS 'the PESEL as text, 11 digits without separators';
COMMENT ON COLUMN crm.client_report.nip IS 'the NIP as text, 10 digits without separators or PL prefix';
COMMENT ON COLUMN crm.client_report.regon IS 'the REGON as text, 9 or 14 digits';
COMMENT ON COLUMN crm.client_report.birth_year IS
    'a person''s year of birth: from the PESEL, else from birth_date (typed for foreigners); null for a company or when unknown';
COMMENT ON COLUMN crm.client_report.sex IS
    'a person''s sex as the PESEL encodes it: M or F; null for a company or a person without PESEL';
COMMENT ON COLUMN crm.client_report.unit_id IS 'the client''s unit of the structure (crm.unit); null: none';
COMMENT ON COLUMN crm.client_report.unit_path IS
    'that unit''s path from the top of the structure, names joined by " / " (Kanał agencyjny / Oddział Kraków / Dział komunikacyjny)';
COMMENT ON COLUMN crm.client_report.owner IS 'the account manager: a role name';
COMMENT ON COLUMN crm.client_report.created_at IS 'when the client was created';
COMMENT ON COLUMN crm.client_report.last_contact_at IS
    'the latest contact in the contact history (notifications aside); null: never contacted';
COMMENT ON COLUMN crm.client_report.hidden IS
    'true for a client hidden by crm.hide_client() or a withdrawn consent: out of the working views';
COMMENT ON COLUMN crm.client_report.anonymized IS
    'true for a client anonymized by crm.anonymize(): no personal data left, records kept';
COMMENT ON COLUMN crm.client_report.phone IS 'the client''s default phone number, E.164 (+48221234567)';
COMMENT ON COLUMN crm.client_report.email IS 'the client''s default e-mail address';
COMMENT ON COLUMN crm.client_report.contacts IS 'how many phones and e-mail addresses the client has';
COMMENT ON COLUMN crm.client_report.policies IS 'how many policies the client holds, ended ones included';
COMMENT ON COLUMN crm.client_report.active_policies IS
    'how many of the client''s issued policies have not ended (ends_on today or later; preliminary ones not counted)';
COMMENT ON COLUMN crm.client_report.tickets IS 'how many tickets the client raised, closed ones included';
COMMENT ON COLUMN crm.client_report.open_tickets IS 'how many of the client''s tickets are new, open or pending';
COMMENT ON COLUMN crm.client_report.interactions IS
    'how many entries the client''s contact history has (crm.interaction, notifications included)';
COMMENT ON COLUMN crm.client_report.documents IS 'how many documents the client has (crm.document)';
COMMENT ON COLUMN crm.client_report.offers IS 'how many offers were made to the client (crm.offer)';
COMMENT ON COLUMN crm.client_report.invoices IS 'how many invoices were issued to the client (crm.invoice)';
COMMENT ON COLUMN crm.client_report.tasks IS 'how many tasks and calendar entries are about the client (crm.task), done ones included';
COMMENT ON COLUMN crm.client_report.cases IS 'how many cases the client has (crm.case), closed ones included';
COMMENT ON COLUMN crm.client_report.orders IS 'how many orders the client placed (crm.order)';
COMMENT ON COLUMN crm.client_report.duplicate_candidates IS
    'how many clients the duplicate check found the client may duplicate (crm.possible_duplicate, dismissed pairs aside, pairs with a client the reader cannot see aside)';

$model$);
