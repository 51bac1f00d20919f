--
-- policy_documents: documents and photos of a policy (crm.document.policy_id),
-- preliminary (wstępna) policies and crm.issue_policy(), a merge and its
-- undo moving documents with their policies, agents under row-level security
--
SELECT regress.reset();
SELECT crm.create_roles() IS NOT NULL AS roles;
SELECT crm.enable_row_security() IS NOT NULL AS row_security;
CREATE ROLE regress_pd_agent_krk NOLOGIN;   -- an agent in Kraków
CREATE ROLE regress_pd_agent_gda NOLOGIN;   -- an agent in Gdańsk
CREATE ROLE regress_pd_sup_krk NOLOGIN;     -- a supervisor in Kraków
GRANT crm_agent TO regress_pd_agent_krk, regress_pd_agent_gda;
GRANT crm_supervisor TO regress_pd_sup_krk;

INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Agencja'), (2, 1, 'branch', 'Kraków'), (4, 1, 'branch', 'Gdańsk');
SELECT crm.user_unit('regress_pd_agent_krk', 2), crm.user_unit('regress_pd_sup_krk', 2),
       crm.user_unit('regress_pd_agent_gda', 4);
INSERT INTO crm.client (id, first_name, last_name, city, pesel, unit_id) VALUES
    (1, 'Zofia', 'Wójcik', 'Kraków', '44051401359', 2),
    (2, 'Zofia', 'Wójcik', 'Kraków', NULL, 2),
    (3, 'Łukasz', 'Dąbrowski', 'Gdańsk', '85020500028', 4);
-- issued policies (the dates keep the status independent of today)
INSERT INTO crm.policy (id, client_id, number, insurer, product, starts_on, ends_on, is_foreign) VALUES
    (10, 1, 'OC/2026/001', 'PZU', 'OC', '2026-01-01', '2099-12-31', false),
    (11, 2, 'AC/77', 'Warta', 'AC', '2019-01-01', '2019-12-31', false),
    (12, 3, 'DOM/5', 'Allianz', 'dom', '2026-01-01', '2099-12-31', false);
-- preliminary ones: without a number yet, or with one; a foreign one
INSERT INTO crm.policy (id, client_id, number, insurer, product, starts_on, ends_on, is_foreign, preliminary) VALUES
    (13, 1, NULL, 'PZU', 'NNW', '2027-01-01', '2099-12-31', false, true),
    (14, 2, 'WST/9', 'Ergo Hestia', 'OC', '2027-01-01', '2099-12-31', true, true),
    (15, 3, NULL, 'Allianz', 'OC', '2027-01-01', '2099-12-31', false, true),
    (16, 1, NULL, 'PZU', 'AC', '2027-01-01', '2099-12-31', false, true);
SELECT regress.sync_identities();
-- an issued policy has its number
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.policy (client_id, insurer, starts_on, ends_on) VALUES (1, 'PZU', '2026-01-01', '2026-12-31')$$);
SELECT err_code, err_message FROM regress.error_of($$UPDATE crm.policy SET number = NULL WHERE id = 10$$);

-- documents and photos: the client's own, and a policy's
INSERT INTO crm.document (id, client_id, kind, title, file_name, mime_type, policy_id) VALUES
    (1, 1, 'consent_confirmation', 'Zgoda RODO', 'zgoda.pdf', 'application/pdf', NULL),
    (2, 1, 'contract', 'Umowa OC', 'umowa_oc.pdf', 'application/pdf', 10),
    (3, 1, 'photo', 'Zdjęcie samochodu', 'przód.jpg', 'image/jpeg', 10),
    (4, 2, 'photo', 'Szkoda — tył', 'tył.png', 'image/png', 11),
    (5, 3, 'scan', 'Dokumentacja medyczna', 'skan.pdf', 'application/pdf', 12);
SELECT regress.sync_identities();
-- a document attached to a policy concerns the policy's client
SELECT * FROM regress.error_of($$INSERT INTO crm.document (client_id, kind, title, policy_id) VALUES (1, 'photo', 'Cudzy dom', 12)$$);
SELECT * FROM regress.error_of($$UPDATE crm.document SET policy_id = 11 WHERE id = 2$$);
SELECT * FROM regress.error_of($$UPDATE crm.document SET client_id = 2 WHERE id = 3$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.document (client_id, title, policy_id) VALUES (1, 'Nic', 999)$$);
-- a policy with documents is not deleted from under them
SELECT * FROM regress.error_of($$DELETE FROM crm.policy WHERE id = 10$$);

SELECT id, client_id, number, insurer, status, is_foreign, documents
FROM crm.client_policy ORDER BY id;
SELECT id, active_policies FROM crm.client_overview ORDER BY id;
SELECT id, policies, active_policies FROM crm.client_report ORDER BY id;

-- a policy moved to another client takes its documents along
UPDATE crm.policy SET client_id = 2 WHERE id = 10;
SELECT id, client_id, policy_id FROM crm.document ORDER BY id;
UPDATE crm.policy SET client_id = 1 WHERE id = 10;
SELECT id, client_id, policy_id FROM crm.document ORDER BY id;

-- issuing a preliminary policy
SELECT * FROM regress.error_of('SELECT crm.issue_policy(13)');
SELECT * FROM regress.error_of($$SELECT crm.issue_policy(13, '  ')$$);
SELECT * FROM regress.error_of($$SELECT crm.issue_policy(13, 'OC/2026/001')$$);
SELECT crm.issue_policy(13, ' NNW/2027/13 ');
SELECT * FROM regress.error_of($$SELECT crm.issue_policy(13, 'NNW/2027/14')$$);
SELECT * FROM regress.error_of('SELECT crm.issue_policy(999)');
SELECT * FROM regress.error_of('SELECT crm.issue_policy(NULL)');
-- the number recorded before is kept; a foreign policy stays foreign
SELECT crm.issue_policy(14);
SELECT p.id, p.number, v.status, p.is_foreign, p.preliminary
FROM crm.policy p JOIN crm.client_policy v USING (id) WHERE p.id IN (13, 14) ORDER BY p.id;

-- a merge moves documents with their policies (documents first, by the
-- journal's order: the check waits for the policies)
SET ROLE regress_pd_sup_krk;
SELECT crm.merge_client(2, 1) AS merge_id \gset
RESET ROLE;
SELECT d.id, d.client_id, d.policy_id, p.client_id AS policy_client
FROM crm.document d LEFT JOIN crm.policy p ON p.id = d.policy_id ORDER BY d.id;
SELECT id, client_id, status, documents FROM crm.client_policy WHERE client_id IN (1, 2) ORDER BY id;
-- undone: each goes back to the record it came from
SET ROLE regress_pd_sup_krk;
SELECT crm.unmerge(:merge_id) AS restored;
RESET ROLE;
SELECT d.id, d.client_id, d.policy_id, p.client_id AS policy_client
FROM crm.document d LEFT JOIN crm.policy p ON p.id = d.policy_id ORDER BY d.id;
-- merged again, and a photo of the merged record attached meanwhile to a
-- policy of the kept one: the undo would split them, so it is refused
SET ROLE regress_pd_sup_krk;
SELECT crm.merge_client(2, 1) AS merge_id \gset
UPDATE crm.document SET policy_id = 10 WHERE id = 4;
SELECT * FROM regress.error_of(format('SELECT crm.unmerge(%s)', :merge_id));
SELECT id, client_id, policy_id FROM crm.document WHERE id = 4;
-- detached again, the undo goes through
UPDATE crm.document SET policy_id = NULL WHERE id = 4;
SELECT crm.unmerge(:merge_id) AS restored;
RESET ROLE;
SELECT id, client_id, policy_id FROM crm.document WHERE id = 4;
SELECT id, client_id FROM crm.policy ORDER BY id;

-- agents see the policies and documents of their units' clients only
SET ROLE regress_pd_agent_gda;
SELECT id, client_id, number, status, documents FROM crm.client_policy ORDER BY id;
SELECT id, client_id, title, policy_id FROM crm.document ORDER BY id;
-- Kraków's preliminary policy is one it cannot find, like a missing one
SELECT * FROM regress.error_of('SELECT crm.issue_policy(16)');
SELECT * FROM regress.error_of('SELECT crm.issue_policy(9999)');
SELECT crm.issue_policy(15, 'OC/GDA/15');
RESET ROLE;
SET ROLE regress_pd_agent_krk;
-- a photo of its own client's policy, recorded as an agent
INSERT INTO crm.document (client_id, kind, title, mime_type, policy_id)
VALUES (1, 'photo', 'Zdjęcie licznika', 'image/jpeg', 10) RETURNING client_id, kind, policy_id;
-- Gdańsk's policy: refused without naming its client
SELECT * FROM regress.error_of($$INSERT INTO crm.document (client_id, kind, title, policy_id) VALUES (1, 'photo', 'X', 12)$$);
-- a preliminary policy recorded and issued by the agent
INSERT INTO crm.policy (client_id, insurer, product, starts_on, ends_on, preliminary)
VALUES (2, 'Generali', 'OC', '2027-03-01', '2099-12-31', true) RETURNING id AS agent_policy \gset
SELECT status FROM crm.client_policy WHERE id = :agent_policy;
SELECT crm.issue_policy(:agent_policy, 'GEN/1');
SELECT status, number FROM crm.client_policy WHERE id = :agent_policy;
SELECT id, client_id, status, documents FROM crm.client_policy ORDER BY id;
RESET ROLE;

SELECT regress.reset();
DROP OWNED BY regress_pd_agent_krk, regress_pd_agent_gda, regress_pd_sup_krk;
DROP ROLE regress_pd_agent_krk, regress_pd_agent_gda, regress_pd_sup_krk;
