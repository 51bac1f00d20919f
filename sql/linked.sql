--
-- Records linked to a client: policies, contact history, custom fields,
-- segments and campaigns, and the rest of CL-6
--
SELECT regress.reset();
INSERT INTO crm.client (id, first_name, last_name) VALUES (1, 'Jan', 'Kowalski'), (2, 'Anna', 'Nowak');

-- policies: active while the protection period lasts, archived after
INSERT INTO crm.vehicle (id, client_id, registration_number, vin, make, model, production_year)
VALUES (1, 1, 'KR 12345', 'WVWZZZ1JZXW000001', 'Skoda', 'Octavia', 2019);
INSERT INTO crm.policy (id, client_id, number, insurer, product, starts_on, ends_on, is_foreign, vehicle_id) VALUES
    (1, 1, 'OC/2020/1', 'PZU', 'OC', current_date - 900, current_date - 535, false, 1),
    (2, 1, 'OC/2024/7', 'PZU', 'OC', current_date - 100, current_date + 265, false, 1),
    (3, 1, 'AC-77', 'Warta', 'AC', current_date + 10, current_date + 375, true, 1),
    (4, 2, 'NNW-1', 'Allianz', 'NNW', current_date - 365, current_date, false, NULL);
SELECT regress.sync_identities();
SELECT id, client_id, number, status, is_foreign FROM crm.client_policy ORDER BY id;
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.policy (client_id, number, insurer, starts_on, ends_on) VALUES (1, 'X', 'PZU', '2024-02-01', '2024-01-01')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.policy (client_id, number, insurer, starts_on, ends_on) VALUES (1, 'OC/2024/7', 'PZU', '2024-01-01', '2025-01-01')$$);

-- contact history: original_client_id is set on insert and never changes
INSERT INTO crm.interaction (id, client_id, channel, direction, occurred_at, phone, summary) VALUES
    (1, 1, 'call', 'inbound', '2026-01-10 10:00+01', '601 234 567', 'asks about OC renewal'),
    (2, 1, 'email', 'outbound', '2026-01-12 09:30+01', NULL, 'offer sent'),
    (3, 1, 'notification', 'outbound', '2026-01-20 08:00+01', NULL, 'payment reminder (automatic)'),
    (4, 2, 'call', 'outbound', '2026-01-15 16:45+01', '+48 500 100 200', 'no answer');
SELECT id, client_id, original_client_id, phone FROM crm.interaction ORDER BY id;
-- last contact follows the history; automatic notifications do not count
SELECT id, last_contact_at FROM crm.client ORDER BY id;
-- moving a contact to another client keeps the record it happened on
UPDATE crm.interaction SET client_id = 2, original_client_id = 2 WHERE id = 2;
SELECT id, client_id, original_client_id FROM crm.interaction WHERE id = 2;
SELECT id, last_contact_at FROM crm.client ORDER BY id;
-- the history view: newest first, says on which record each contact happened
SELECT id, client_id, display_name, occurred_at, channel, on_record, from_merged_record, summary
FROM crm.contact_history;
DELETE FROM crm.interaction WHERE id = 4;
SELECT id, last_contact_at FROM crm.client ORDER BY id;
-- a contact that turns out to be an automatic notification, or moves in time
UPDATE crm.interaction SET channel = 'notification' WHERE id = 2;
SELECT id, last_contact_at FROM crm.client ORDER BY id;
UPDATE crm.interaction SET channel = 'email', occurred_at = '2026-02-01 12:00+01' WHERE id = 2;
SELECT id, last_contact_at FROM crm.client ORDER BY id;
-- a caller id that is no number is kept as given
SELECT regress.sync_identities();
INSERT INTO crm.interaction (client_id, channel, direction, occurred_at, phone)
VALUES (1, 'call', 'inbound', '2025-12-24 18:00+01', 'anonymous') RETURNING phone;

-- custom fields: a number field takes only numbers; the type never changes
INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'Liczba dzieci', 'number'), (2, 'Hobby', 'text');
SELECT regress.sync_identities();
SELECT crm.set_custom_value(1, 'liczba dzieci', '2');
SELECT crm.set_custom_value(ARRAY[1, 2], 'Hobby', 'żeglarstwo');   -- many clients at once
SELECT crm.set_custom_value(2, 'Liczba dzieci', ' 1,5 ');           -- a decimal comma is read
SELECT client_id, field, type, value FROM crm.client_custom_value ORDER BY client_id, field;
SELECT * FROM regress.error_of($$SELECT crm.set_custom_value(1, 'Liczba dzieci', 'dwoje')$$);
SELECT * FROM regress.error_of($$SELECT crm.set_custom_value(1, 'Liczba dzieci', 'NaN')$$);
SELECT err_code, err_message FROM regress.error_of($$UPDATE crm.custom_value SET number_value = 'Infinity' WHERE client_id = 1 AND field_id = 1$$);
SELECT * FROM regress.error_of($$SELECT crm.set_custom_value(1, 'Wzrost', '180')$$);
SELECT * FROM regress.error_of($$SELECT crm.set_custom_value(ARRAY[1, 99], 'Hobby', 'x')$$);
-- a value in the wrong column: an insert is checked once per statement
-- (after the table's own constraints), an update row by row
BEGIN;
DELETE FROM crm.custom_value WHERE client_id = 2;
SELECT * FROM regress.error_of($$INSERT INTO crm.custom_value (client_id, field_id, text_value) VALUES (2, 1, 'trzy')$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.custom_value (client_id, field_id, number_value) VALUES (2, 2, 1)$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.custom_value (client_id, field_id, number_value) SELECT 2, 1, 3 UNION ALL SELECT 2, 2, 4$$);
ROLLBACK;
-- both columns: the table's constraint
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.custom_value (client_id, field_id, number_value, text_value) VALUES (2, 2, 1, 'x')$$);
SELECT * FROM regress.error_of($$UPDATE crm.custom_value SET number_value = NULL, text_value = 'trzy' WHERE client_id = 2 AND field_id = 1$$);
SELECT * FROM regress.error_of($$UPDATE crm.custom_field SET type = 'text' WHERE id = 1$$);
SELECT * FROM regress.error_of($$INSERT INTO crm.custom_field (name, type) VALUES ('hobby', 'text')$$);
SELECT err_code, err_message FROM regress.error_of($$INSERT INTO crm.custom_field (name, type) VALUES ('Data', 'date')$$);
-- renaming is fine
UPDATE crm.custom_field SET name = 'Dzieci' WHERE id = 1;
SELECT crm.set_custom_value(1, 'Hobby', NULL);                      -- NULL clears
-- deleting a field deletes its values
DELETE FROM crm.custom_field WHERE id = 1;
SELECT client_id, field, value FROM crm.client_custom_value ORDER BY client_id, field;

-- segments and campaigns: a client in many of each
INSERT INTO crm.segment (id, name) VALUES (1, 'VIP'), (2, 'Flota');
INSERT INTO crm.campaign (id, name, status) VALUES (1, 'Odnowienia OC 2026', 'active'), (2, 'Wiosna', 'planned');
INSERT INTO crm.segment_member (segment_id, client_id) VALUES (1, 1), (2, 1), (1, 2);
INSERT INTO crm.campaign_member (campaign_id, client_id) VALUES (1, 1), (2, 1);
SELECT * FROM regress.error_of($$INSERT INTO crm.segment_member (segment_id, client_id) VALUES (1, 1)$$);
SELECT s.name, array_agg(m.client_id ORDER BY m.client_id) AS clients
FROM crm.segment s JOIN crm.segment_member m ON m.segment_id = s.id GROUP BY s.name ORDER BY 1;

-- the other linked records, each a real table with a client_id
INSERT INTO crm.document (id, client_id, kind, title) VALUES
    (1, 1, 'consent_confirmation', 'Zgoda marketingowa - skan'), (2, 1, 'contract', 'Umowa');
INSERT INTO crm.consent (client_id, purpose, document_id) VALUES (1, 'marketing_email', 1);
SELECT * FROM regress.error_of($$INSERT INTO crm.consent (client_id, purpose) VALUES (1, 'marketing_email')$$);
INSERT INTO crm.offer (client_id, number, product, status, amount) VALUES (1, 'OF/1', 'AC', 'sent', 1200);
INSERT INTO crm.needs_analysis (client_id, answers) VALUES (1, '{"children": 2, "car": true}');
INSERT INTO crm.invoice (id, client_id, number, gross_amount, billed_name) VALUES (1, 1, 'FV/2026/1', 1476, 'Jan Kowalski');
INSERT INTO crm.payment (client_id, invoice_id, amount) VALUES (1, 1, 1476);
INSERT INTO crm.employee (login) VALUES ('agent_anna');
INSERT INTO crm.task (client_id, kind, title, due_at, assignee) VALUES (1, 'call', 'Zadzwonić w sprawie AC', '2026-02-01 10:00+01', 'agent_anna');
INSERT INTO crm.case (client_id, title) VALUES (1, 'Szkoda komunikacyjna');
INSERT INTO crm.contact_person (client_id, first_name, last_name, role) VALUES (2, 'Piotr', 'Nowak', 'pełnomocnik');
INSERT INTO crm.service_entry (client_id, kind, vehicle_id, description) VALUES (1, 'vehicle_sold', 1, 'Sprzedaż Octavii');
INSERT INTO crm.ticket (client_id, subject, status, sla_due_at) VALUES
    (1, 'Reklamacja', 'open', '2026-02-01 12:00+01'), (1, 'Pytanie', 'closed', NULL), (2, 'Zwrot', 'new', NULL);
INSERT INTO crm.product (id, code, name, unit_price) VALUES (1, 'OC', 'Ubezpieczenie OC', 800);
INSERT INTO crm.price_list (id, name) VALUES (1, 'Cennik 2026');
INSERT INTO crm.price_list_item (price_list_id, product_id, price) VALUES (1, 1, 750);
INSERT INTO crm.client_price_list (client_id, price_list_id) VALUES (1, 1);
INSERT INTO crm.order (id, client_id, number, price_list_id) VALUES (1, 1, 'ZAM/1', 1);
INSERT INTO crm.order_line (order_id, product_id, quantity, unit_price) VALUES (1, 1, 1, 750);

-- every table that references a client, with how many rows and whether
-- they block deleting it
SELECT relation, on_delete, blocks_delete, row_count FROM crm.client_links(1) ORDER BY relation::text;

SELECT regress.reset();
