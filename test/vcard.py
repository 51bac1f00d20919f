#!/usr/bin/python3
"""test/vcard.py: crm.vcard() read by a parser crm did not write, and the outbox.

The cards are read by vobject (Debian's python3-vobject 0.9.6), which parses
vCards of any VERSION with its vCard 3.0 rules: unfolding (CRLF and one
white space removed) and the unescaping of \\ \\, \\; \\n are the same in
RFC 6350 (4.0), and N, ADR and ORG are split into their components.  So
vobject checks what is byte-level and easy to get wrong; what only 4.0 has
(KIND, TEL as a tel: URI, PREF) it reads as plain properties.  Checks, for
clients with long Polish names and addresses full of \\ , ; and line breaks:

  - the card is UTF-8 as a whole (a fold inside a character would break the
    decoding), every physical line ends in CRLF and has at most 75 octets,
    and a continuation line starts with one space;
  - vobject reads it, and FN, N, ORG, ADR, TEL and EMAIL give back exactly
    the client's values;
  - the outbox as an application uses it: LISTEN crm_vcard_outbox, queue a
    card with crm.send_vcard() in another session, receive the entry's id as
    the payload at commit (and nothing else), read the card, mark it sent.

The database is this test's own: it connects as the superuser through
PGHOST/PGPORT/PGUSER (tools/dev.sh test starts a server).
Prints "N passed, M failed".
"""
import select
import sys

import psycopg2
import vobject

DB = "crm_vcard"

ADDRESS = "ul. Świętego Floriana 12/4; klatka B, II piętro\\skrytka\nwejście od podwórza, domofon 14"
CLIENTS = [
    # id, kind, first, last, company, city, postal code, address
    (1, "person", "Zdzisław Łukasz", "Brzęczyszczykiewicz-Wąsowicz", None, "Kraków", "30-001", ADDRESS),
    (2, "company", None, None, "Przedsiębiorstwo Handlowo-Usługowe „Żółć”, Kowalski; Nowak i Wspólnicy sp.j.",
     "Gdańsk-Oliwa", "80-001", "al. Grunwaldzka 472, budynek C; piętro 3"),
    (3, "person", None, "Ąę", None, None, None, None),
]


def connect(dbname):
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def main():
    failed = 0
    passed = 0

    def check(name, ok, detail=""):
        nonlocal failed, passed
        if ok:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name} {detail}")

    admin = connect("postgres")
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB}")
        cur.execute(f"CREATE DATABASE {DB}")
    try:
        conn = connect(DB)
        cur = conn.cursor()
        cur.execute("SET client_encoding = 'UTF8'")
        cur.execute("CREATE EXTENSION crm")
        cur.execute("SELECT crm.install_data_model()")
        for c in CLIENTS:
            cur.execute("INSERT INTO crm.client (id, kind, first_name, last_name, company_name, city, postal_code, address)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", c)
        cur.execute("INSERT INTO crm.contact (client_id, kind, value, is_default, label) VALUES"
                    " (1, 'phone', '601 234 567', true, 'komórka'), (1, 'phone', '+49 30 1234567', false, 'praca'),"
                    " (1, 'email', 'zdzislaw@example.pl', true, NULL), (2, 'email', 'biuro@zolc.pl', true, NULL)")

        for c in CLIENTS:
            cid, kind, first, last, company, city, postal, address = c
            cur.execute("SELECT convert_to(crm.vcard(%s), 'UTF8')", (cid,))
            raw = bytes(cur.fetchone()[0])
            try:
                text = raw.decode("utf-8", errors="strict")
                check(f"card {cid}: UTF-8 as a whole (no character split by a fold)", True)
            except UnicodeDecodeError as e:
                check(f"card {cid}: UTF-8 as a whole (no character split by a fold)", False, str(e))
                continue
            lines = raw.split(b"\r\n")
            check(f"card {cid}: ends in CRLF, no bare CR or LF", raw.endswith(b"\r\n") and lines[-1] == b""
                  and all(b"\r" not in l and b"\n" not in l for l in lines))
            check(f"card {cid}: lines of at most 75 octets", all(len(l) <= 75 for l in lines),
                  str([len(l) for l in lines]))
            check(f"card {cid}: folded where long", cid == 3 or any(l.startswith(b" ") for l in lines))

            card = vobject.readOne(text)
            check(f"card {cid}: vobject reads VERSION 4.0", card.version.value == "4.0")
            fn = " ".join(x for x in (first, last) if x) if kind == "person" else company
            check(f"card {cid}: FN", card.fn.value == fn, repr(card.fn.value))
            if kind == "person":
                check(f"card {cid}: N", (card.n.value.family, card.n.value.given) == (last, first or ""),
                      repr(card.n.value))
            else:
                check(f"card {cid}: ORG", card.org.value == [company], repr(card.org.value))
                check(f"card {cid}: no N for a company", "n" not in card.contents)
            if address or city:
                adr = card.adr.value
                check(f"card {cid}: ADR", (adr.street, adr.city, adr.code) == (address or "", city or "", postal or ""),
                      repr((adr.street, adr.city, adr.code)))
            else:
                check(f"card {cid}: no ADR without an address", "adr" not in card.contents)
            if cid == 1:
                tels = [(t.value, t.params.get("PREF"), t.params.get("TYPE")) for t in card.contents["tel"]]
                check("card 1: TEL as tel: URIs, the default preferred",
                      tels == [("tel:+48601234567", ["1"], ["cell"]), ("tel:+49301234567", None, ["work"])], repr(tels))
                check("card 1: EMAIL", card.email.value == "zdzislaw@example.pl" and card.email.params.get("PREF") == ["1"])

        # the outbox, as an application uses it
        listener = connect(DB)
        lcur = listener.cursor()
        lcur.execute("LISTEN crm_vcard_outbox")
        sender = psycopg2.connect(dbname=DB)     # a transaction: notified at commit
        scur = sender.cursor()
        scur.execute("SELECT crm.send_vcard(2, 'klient@example.com')")
        queued = scur.fetchone()[0]
        select.select([listener], [], [], 0.5)
        listener.poll()
        check("outbox: nothing is notified before the commit", not listener.notifies)
        sender.commit()
        if select.select([listener], [], [], 10) != ([], [], []):
            listener.poll()
        payloads = [n.payload for n in listener.notifies if n.channel == "crm_vcard_outbox"]
        check("outbox: the payload is the entry's id only", payloads == [str(queued)], repr(payloads))
        lcur.execute("SELECT recipient, card FROM crm.vcard_outbox WHERE id = %s AND sent_at IS NULL"
                     " FOR UPDATE SKIP LOCKED", (queued,))
        recipient, card = lcur.fetchone()
        check("outbox: the card is readable and parses", recipient == "klient@example.com"
              and vobject.readOne(card).org.value == [CLIENTS[1][4]])
        lcur.execute("UPDATE crm.vcard_outbox SET sent_at = now() WHERE id = %s", (queued,))
        lcur.execute("SELECT count(*) FROM crm.vcard_outbox WHERE sent_at IS NULL")
        check("outbox: marked sent", lcur.fetchone()[0] == 0)
        sender.close()
        listener.close()
        conn.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {DB}")
        admin.close()

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
