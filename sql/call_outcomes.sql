--
-- call_outcomes: the details of a call (or an e-mail's text) in the
-- contact history, the search filters on them, and crm.record_call(): the
-- call an agent records on the client it chose after crm.identify_phone()
-- (FCC).  Tried as agents under row-level security.
--
SELECT regress.reset();
SELECT crm.create_roles() IS NOT NULL AS roles_granted;
SELECT crm.enable_row_security() IS NOT NULL AS row_security;
CREATE ROLE regress_co_agent NOLOGIN;   -- an agent in Kraków, campaign "Odnowienia OC"
CREATE ROLE regress_co_gda NOLOGIN;     -- an agent in Gdańsk
GRANT crm_agent TO regress_co_agent, regress_co_gda;

INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Sieć'), (2, 1, 'branch', 'Kraków'), (3, 1, 'branch', 'Gdańsk');
INSERT INTO crm.campaign (id, name, status) VALUES (1, 'Odnowienia OC', 'active'), (2, 'Wiosna 2026', 'active');
INSERT INTO crm.client (id, first_name, last_name, city, pesel, unit_id) VALUES
    (1, 'Jan', 'Kowalski', 'Kraków', '44051401359', 2),
    (2, 'Jan', 'Kowalski', 'Kraków', NULL, 2),
    (3, 'Anna', 'Nowak', 'Gdańsk', '85020500028', 3),
    (4, 'Zofia', 'Wójcik', 'Kraków', NULL, 2),
    (5, 'Łukasz', 'Żółkiewski', 'Kraków', NULL, 2);
INSERT INTO crm.contact (client_id, kind, value, is_default) VALUES
    (1, 'phone', '601 234 567', true), (2, 'phone', '+48601234567', true), (3, 'phone', '601-234-567', true),
    (4, 'phone', '601234567', true), (5, 'phone', '502 111 222', true);
SELECT regress.sync_identities();
SELECT crm.hide_client(4, 'prośba klientki');
SELECT crm.user_unit('regress_co_agent', 2) AS agent, crm.user_unit('regress_co_gda', 3) AS gda,
       crm.user_campaign('regress_co_agent', 1) AS campaign, crm.user_campaign('regress_co_gda', 2) AS gda_campaign;

--
-- The call details: recorded with a contact, shown by crm.contact_history,
-- and modified_by/modified_at kept by crm (null until the contact changes)
--
INSERT INTO crm.interaction (id, client_id, channel, direction, occurred_at, campaign_id, agent, phone,
                             call_type, call_status, classifier, attempts, callback_at)
VALUES (1, 1, 'call', 'outbound', '2026-11-02 09:00+01', 1, 'regress_co_agent', '601 234 567',
        'preview', 'no_answer', NULL, 1, NULL),
       (2, 1, 'call', 'outbound', '2026-11-03 09:30+01', 1, 'regress_co_agent', '601 234 567',
        'preview', 'answered', 'oddzwonić', 2, '2026-12-15 10:00+01'),
       (3, 3, 'call', 'outbound', '2026-11-03 10:00+01', 2, 'regress_co_gda', '601 234 567',
        'predictive', 'busy', NULL, 3, NULL);
SELECT regress.sync_identities();
-- an e-mail the agent records: who changed it last is crm's to say
SET ROLE regress_co_agent;
INSERT INTO crm.interaction (client_id, channel, direction, occurred_at, email_body, modified_by, modified_at)
VALUES (5, 'email', 'inbound', '2026-11-04 08:00+01',
        'Dzień dobry, proszę o ofertę OC dla Skody Octavii. Łukasz Żółkiewski', 'regress_co_faker', '2020-01-01');
RESET ROLE;
SELECT id, agent, call_type, call_status, classifier, attempts, callback_at, modified_by, modified_at, email_body IS NOT NULL AS email
FROM crm.contact_history ORDER BY id;
-- a restore (a trusted role: the model's owner, a superuser) loads them as dumped
BEGIN;
INSERT INTO crm.interaction (client_id, channel, summary, modified_by, modified_at)
VALUES (5, 'letter', 'Pismo w sprawie polisy', 'regress_co_agent', '2026-11-05 12:00+01')
RETURNING modified_by, modified_at;
ROLLBACK;
-- values out of their lists are refused
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.interaction (client_id, channel, call_status) VALUES (1, 'call', 'odebrane')$$);
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.interaction (client_id, channel, attempts) VALUES (1, 'call', 0)$$);
-- the agent changes its contact: it is the last modifier; it cannot name another
SET ROLE regress_co_agent;
UPDATE crm.interaction SET classifier = 'umówione spotkanie', modified_by = 'regress_co_faker' WHERE id = 2;
RESET ROLE;
SELECT id, classifier, modified_by, modified_at BETWEEN now() - interval '1 hour' AND now() AS modified_now FROM crm.interaction WHERE id IN (1, 2) ORDER BY id;
-- a merge moving contacts changes none of them
SELECT crm.merge_client(2, 1) IS NOT NULL AS merged;
SELECT id, client_id, modified_by FROM crm.interaction WHERE id IN (1, 2) ORDER BY id;

--
-- Search: clients having a contact with these details (all the details
-- of a filter met by one contact)
--
SELECT id FROM crm.client_search('{"call_status": "answered"}');
SELECT id FROM crm.client_search('{"call_status": ["busy", "no_answer"]}');
SELECT id FROM crm.client_search('{"call_status": "no_answer", "classifier": "umówione%"}');
SELECT id FROM crm.client_search('{"call_status": "answered", "classifier": "umówione%"}');
SELECT id FROM crm.client_search('{"classifier": "Umówione Spotkanie"}');
SELECT id FROM crm.client_search('{"call_type": "predictive"}');
SELECT id FROM crm.client_search('{"min_attempts": 2}');
SELECT id FROM crm.client_search('{"attempts": {"between": [3, 5]}}');
SELECT id FROM crm.client_search('{"callback_before": "2026-12-16"}');
SELECT id FROM crm.client_search('{"callback_before": "2026-12-15"}');
SELECT id FROM crm.client_search('{"callback_after": "2026-12-14", "callback_before": "2026-12-16"}');
SELECT id FROM crm.client_search('{"callback_at": {">=": "2026-12-01"}}');
SELECT id FROM crm.client_search('{"modified_by": "regress_co_agent"}');
SELECT id FROM crm.client_search('{"email_body": "%octavi%"}');
SELECT id FROM crm.client_search('{"recording_ref": null}');
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT * FROM crm.client_search('{"min_attempts": [1, 2]}')$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT * FROM crm.client_search('{"classifier": {">": "a"}}')$$);
-- an agent's search sees its own reach only (and, of the contact
-- history, what AC-2 shows it)
SET ROLE regress_co_gda;
SELECT id FROM crm.client_search('{"min_attempts": 1}');
RESET ROLE;

--
-- FCC: the caller's number identifies the records; the agent chooses one
-- and crm.record_call() adds it to the call's campaign and records the call
--
SET ROLE regress_co_agent;
SELECT i.id, c.display_name FROM crm.identify_phone('601 234 567') AS i(id) JOIN crm.client c ON c.id = i.id;
SELECT crm.record_call('601 234 567', 1, 1, call_status => 'answered', summary => 'Klient odnawia OC na 2027 r.',
                       call_type => 'manual', classifier => 'sprzedaż', duration => '00:04:30') AS call_id \gset
SELECT id, client_id, channel, direction, campaign_id, agent, phone, call_status, classifier, duration, summary
FROM crm.contact_history WHERE id = :call_id;
-- a client it found otherwise (not among the identified ones) joins the
-- campaign too; a second call changes no membership
SELECT crm.record_call('+48 601 234 567', 5, 1, 'inbound', 'answered') IS NOT NULL AS recorded;
SELECT crm.record_call('601234567', 5, 1, 'outbound', 'voicemail', attempts => 2,
                       callback_at => '2026-12-20 12:00+01') IS NOT NULL AS recorded_again;
SELECT client_id FROM crm.campaign_member WHERE campaign_id = 1 ORDER BY 1;
SELECT client_id, phone, direction, call_status, attempts FROM crm.interaction WHERE client_id = 5 AND channel = 'call' ORDER BY id;
-- what it cannot choose: a client out of its reach and one that does not
-- exist get one answer; a hidden client, a merged-away one, a campaign it
-- does not work in, no number, a status out of the list
SELECT c.id, e.err_code, e.err_message, e.err_detail, e.err_hint
FROM unnest(ARRAY[3, 999]) AS c(id), regress.error_of(format('SELECT crm.record_call(''601 234 567'', %s, 1)', c.id)) e
ORDER BY c.id;
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.record_call('601 234 567', 4, 1)$$);
SELECT * FROM regress.error_of($$SELECT crm.record_call('601 234 567', 2, 1)$$);
SELECT * FROM regress.error_of($$SELECT crm.record_call('601 234 567', 1, 2)$$);
SELECT * FROM regress.error_of($$SELECT crm.record_call('601 234 567', 1, 99)$$);
SELECT * FROM regress.error_of($$SELECT crm.record_call(NULL, 1, 1)$$);
SELECT err_code, err_message FROM regress.error_of($$SELECT crm.record_call('601 234 567', 1, 1, call_status => 'odebrane')$$);
-- a withheld number is recorded as given
SELECT crm.record_call('anonymous', 1) AS anonymous_call \gset
SELECT phone, direction, campaign_id FROM crm.interaction WHERE id = :anonymous_call;
RESET ROLE;
-- nothing was written by the refused calls: the agent's contacts per
-- client (client 1: two before, two recorded; client 5: the e-mail, two
-- recorded), and the campaign's members
SELECT client_id, count(*) AS calls FROM crm.interaction WHERE agent = 'regress_co_agent' AND direction IS NOT NULL
GROUP BY client_id ORDER BY 1;
SELECT campaign_id, client_id FROM crm.campaign_member ORDER BY 1, 2;

--
-- The right to be forgotten clears the e-mail's text and the recording's
-- reference with the rest
--
UPDATE crm.interaction SET recording_ref = 'nagrania/2026/11/04/5-1.wav' WHERE client_id = 5 AND channel = 'call';
CREATE TEMP TABLE code AS SELECT crm.anonymization_code(5) AS code;
SELECT crm.anonymize(5, (SELECT code FROM code));
DROP TABLE code;
SELECT id, phone, summary, email_body, recording_ref, call_status FROM crm.interaction WHERE client_id = 5 ORDER BY id;

SELECT regress.reset();
DROP OWNED BY regress_co_agent, regress_co_gda;
DROP ROLE regress_co_agent, regress_co_gda;
