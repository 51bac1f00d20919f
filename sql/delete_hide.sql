--
-- Removing a client: delete only what has no linked business records;
-- hide instead of delete
--
SELECT regress.reset();
INSERT INTO crm.client (id, first_name, last_name) VALUES
    (1, 'Jan', 'Kowalski'), (2, 'Anna', 'Nowak'), (3, 'Piotr', 'Zieliński'), (4, 'Ewa', 'Wójcik');
INSERT INTO crm.contact (client_id, kind, value) VALUES (1, 'phone', '601234567'), (2, 'phone', '601234568'),
                                                        (2, 'email', 'anna@example.com');
INSERT INTO crm.segment (id, name) VALUES (1, 'VIP');
INSERT INTO crm.segment_member VALUES (1, 2), (1, 1);
INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'Hobby', 'text');
SELECT crm.set_custom_value(ARRAY[1, 2], 'Hobby', 'golf');
INSERT INTO crm.consent (client_id, purpose) VALUES (2, 'marketing_phone');
INSERT INTO crm.policy (client_id, number, insurer, starts_on, ends_on) VALUES
    (1, 'P1', 'PZU', '2025-01-01', '2025-12-31'), (1, 'P2', 'PZU', '2026-01-01', '2026-12-31');
INSERT INTO crm.invoice (client_id, number) VALUES (1, 'FV/1');
INSERT INTO crm.interaction (client_id, channel) VALUES (1, 'call'), (3, 'call');
INSERT INTO crm.document (client_id, title) VALUES (3, 'Skan dowodu');

-- refused with the list of what is linked, and a hint to merge first
SELECT * FROM regress.error_of('SELECT crm.delete_client(1)');
-- a plain DELETE is refused the same way: no business record is lost by cascade
SELECT * FROM regress.error_of('DELETE FROM crm.client WHERE id = 3');
SELECT * FROM regress.error_of('DELETE FROM crm.client');
SELECT count(*) AS clients, (SELECT count(*) FROM crm.policy) AS policies FROM crm.client;

-- a client with only contacts, memberships, custom values and consents goes, with them
SELECT crm.delete_client(2);
SELECT (SELECT count(*) FROM crm.client WHERE id = 2) AS client,
       (SELECT count(*) FROM crm.contact WHERE client_id = 2) AS contacts,
       (SELECT count(*) FROM crm.segment_member WHERE client_id = 2) AS memberships,
       (SELECT count(*) FROM crm.custom_value WHERE client_id = 2) AS custom_values,
       (SELECT count(*) FROM crm.consent WHERE client_id = 2) AS consents;
DELETE FROM crm.client WHERE id = 4;
SELECT * FROM regress.error_of('SELECT crm.delete_client(2)');
SELECT * FROM regress.error_of('SELECT crm.delete_client(NULL)');

-- user tables that reference clients count too, found from the catalog
CREATE TABLE public.loyalty_card (
    card_no text PRIMARY KEY,
    holder bigint NOT NULL REFERENCES crm.client (id)
);
CREATE TABLE public.client_note (
    id serial PRIMARY KEY,
    client_id bigint REFERENCES crm.client (id) ON DELETE CASCADE,
    note text
);
INSERT INTO crm.client (id, last_name) VALUES (5, 'Lewandowska'), (6, 'Kamiński');
INSERT INTO public.loyalty_card VALUES ('LC-1', 5);
INSERT INTO public.client_note (client_id, note) VALUES (6, 'prefers e-mail');
SELECT relation, on_delete, blocks_delete, row_count
FROM crm.client_links(5) WHERE row_count > 0 OR relation::text LIKE 'public.%' ORDER BY relation::text;
SELECT * FROM regress.error_of('SELECT crm.delete_client(5)');
-- a user table declared ON DELETE CASCADE belongs to the client: it goes with it
SELECT crm.delete_client(6);
SELECT count(*) AS notes FROM public.client_note;
DROP TABLE public.loyalty_card, public.client_note;

-- a partitioned table counts once; a foreign key of two columns is followed
-- on both; a table in a schema with an odd name is quoted
CREATE TABLE public.visit (id int, client_id bigint REFERENCES crm.client (id), at date)
    PARTITION BY RANGE (at);
CREATE TABLE public.visit_2026 PARTITION OF public.visit FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE crm.client ADD CONSTRAINT client_id_kind_key UNIQUE (id, kind);
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."Person Card" (
    "Client Id" bigint, "Kind" text,
    FOREIGN KEY ("Client Id", "Kind") REFERENCES crm.client (id, kind)
);
INSERT INTO public.visit VALUES (1, 5, '2026-05-05');
INSERT INTO "Odd Schema"."Person Card" VALUES (5, 'person'), (5, 'person');
SELECT relation, on_delete, row_count FROM crm.client_links(5) WHERE row_count > 0 ORDER BY relation::text;
-- a table the caller may not read has an unknown count; its key still guards it
CREATE ROLE regress_crm_deleter;
GRANT SELECT, DELETE ON ALL TABLES IN SCHEMA crm TO regress_crm_deleter;
SET ROLE regress_crm_deleter;
SELECT relation, row_count FROM crm.client_links(5) WHERE row_count IS DISTINCT FROM 0 ORDER BY relation::text;
-- deleting is crm.delete_client()'s, which only crm's roles may call
SELECT err_code, err_message, err_detail FROM regress.error_of('SELECT crm.delete_client(5)');
RESET ROLE;
-- and it counts every table, with crm's rights
SELECT err_code, err_message, err_detail FROM regress.error_of('SELECT crm.delete_client(5)');
REVOKE ALL ON ALL TABLES IN SCHEMA crm FROM regress_crm_deleter;
DROP ROLE regress_crm_deleter;
DROP TABLE public.visit, "Odd Schema"."Person Card";
DROP SCHEMA "Odd Schema";
ALTER TABLE crm.client DROP CONSTRAINT client_id_kind_key;

-- hiding: the client keeps everything but leaves the working views
INSERT INTO crm.ticket (client_id, subject) VALUES (1, 'Reklamacja');
SELECT id, display_name, phone, active_policies, open_tickets FROM crm.client_overview ORDER BY id;
SELECT crm.hide_client(1, 'withdrew consent');
SELECT id, hidden_at IS NOT NULL AS hidden, hidden_reason FROM crm.client WHERE id = 1;
SELECT id FROM crm.client_overview ORDER BY id;
SELECT count(*) AS policies_kept FROM crm.policy WHERE client_id = 1;
SELECT err_code, err_message, err_hint FROM regress.error_of($$SELECT crm.hide_client(1, 'again')$$);
SELECT * FROM regress.error_of($$SELECT crm.hide_client(42, 'left')$$);
SELECT crm.unhide_client(1);
SELECT id FROM crm.client_overview ORDER BY id;
SELECT * FROM regress.error_of('SELECT crm.unhide_client(1)');
-- a reason is optional; without hidden_at there is no reason
SELECT crm.hide_client(3);
SELECT id, hidden_reason FROM crm.client WHERE hidden_at IS NOT NULL ORDER BY id;
SELECT err_code, err_message FROM regress.error_of($$UPDATE crm.client SET hidden_at = NULL, hidden_reason = 'x' WHERE id = 3$$);

SELECT regress.reset();
