-- Documents and photos of a policy: crm.document.policy_id, checked by a
-- constraint trigger; a policy's documents follow it to another client.
ALTER TABLE crm.document ADD COLUMN policy_id bigint REFERENCES crm.policy (id);
CREATE INDEX document_policy_id_idx ON crm.document (policy_id);
COMMENT ON TABLE crm.document IS
    'documents, scans and photos of a client, or of one of its policies (policy_id); kind consent_confirmation marks a document that confirms a consent';
COMMENT ON COLUMN crm.document.kind IS
    'free text: consent_confirmation, contract, scan, photo (with an image/* mime_type), invoice_copy, other...';
COMMENT ON COLUMN crm.document.policy_id IS
    'the policy the document or photo belongs to (crm.policy), a policy of the same client; null: the client''s own; follows its policy when the policy moves';
CREATE CONSTRAINT TRIGGER document_policy_client AFTER INSERT OR UPDATE OF client_id, policy_id ON crm.document
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW WHEN (NEW.policy_id IS NOT NULL)
    EXECUTE FUNCTION crm_internal.document_policy_check();
-- Preliminary policies: recorded before they are issued, maybe without a
-- number yet (every existing policy is an issued one)
ALTER TABLE crm.policy ADD COLUMN preliminary boolean NOT NULL DEFAULT false,
    ALTER COLUMN number DROP NOT NULL,
    ADD CONSTRAINT policy_number_issued CHECK (preliminary OR number IS NOT NULL);
COMMENT ON TABLE crm.policy IS
    'insurance policies of a client; is_foreign marks a policy issued by another agent, preliminary one recorded before it is issued (crm.issue_policy())';
COMMENT ON COLUMN crm.policy.client_id IS
    'the policyholder; the policy''s documents (crm.document.policy_id) follow it when it changes';
COMMENT ON COLUMN crm.policy.number IS
    'the policy number, unique per insurer; a preliminary policy may have none yet';
COMMENT ON COLUMN crm.policy.preliminary IS
    'true for a preliminary (wstępna) policy, recorded before it is issued: its number may be missing; crm.issue_policy() turns it into a full one';
CREATE TRIGGER policy_documents_follow AFTER UPDATE OF client_id ON crm.policy
    FOR EACH ROW WHEN (NEW.client_id IS DISTINCT FROM OLD.client_id)
    EXECUTE FUNCTION crm_internal.policy_documents_follow();
-- status preliminary, the documents of each policy (a new column at the
-- end); a preliminary policy is not an active one.  Views of the model are
-- the database's, not the extension's: dropped and made again (an upgrade
-- script may not replace what the extension does not own); the step gives
-- crm's roles their grants again.
DROP VIEW crm.client_policy;
-- @source CREATE VIEW crm.client_policy
DROP VIEW crm.client_overview;
-- @source CREATE VIEW crm.client_overview
DROP VIEW crm.client_report;
-- @source CREATE VIEW crm.client_report
