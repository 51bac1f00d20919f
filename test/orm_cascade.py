#!/usr/bin/python3
"""test/orm_cascade.py: an ORM's cascading delete cannot remove business records.

The attack of issue 11 from a real driver: an ORM that cascades deletes in
application code (SQLAlchemy automap did this) deleted a client's policies,
case, ticket and vehicle one by one before the client.  Here, as an
application would, SQLAlchemy (Debian's python3-sqlalchemy 1.4 over
psycopg2) reflects schema crm with automap, gives every relationship from
crm.client to the tables linked to it cascade="all, delete-orphan", and
deletes a client that has a policy, a case, a ticket and a vehicle, as a
supervisor of the client's unit under crm's row-level security
(doc/security.md).  Checks that

  - the flush fails on a DELETE with SQLSTATE 42501 (no crm role may delete
    business records, nor crm.client);
  - every row is still there afterwards (counted as the superuser);
  - the right way works through the same driver: crm.delete_client(id)
    refuses with 23503 while records are linked, naming them in the DETAIL,
    and deletes a client without business records.

The database and the role are this test's own: it connects as the superuser
through PGHOST/PGPORT/PGUSER (tools/dev.sh test starts a server) and SET ROLEs
to a NOLOGIN role, so no password is needed.  Prints "N passed, M failed".
"""
import sys
import warnings

import psycopg2
import psycopg2.errors
import sqlalchemy as sa
from sqlalchemy.ext.automap import automap_base, generate_relationship
from sqlalchemy.orm import Session, interfaces

DB = "crm_orm_cascade"
ROLE = "crm_orm_supervisor"   # NOLOGIN: entered with SET ROLE only

# what the client to delete has, one row each (the table: its row)
LINKED = {
    "policy": "INSERT INTO crm.policy (client_id, number, insurer, starts_on, ends_on) "
              "VALUES (%(c)s, 'OC/ORM/1', 'PZU', '2026-01-01', '2026-12-31')",
    "case": "INSERT INTO crm.case (client_id, title) VALUES (%(c)s, 'Szkoda komunikacyjna')",
    "ticket": "INSERT INTO crm.ticket (client_id, subject) VALUES (%(c)s, 'Reklamacja')",
    "vehicle": "INSERT INTO crm.vehicle (client_id, registration_number, make) VALUES (%(c)s, 'KR 12345', 'Škoda')",
}


def connect(dbname):
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def cascade_from_client(base, direction, return_fn, attrname, local_cls, referred_cls, **kw):
    """automap's hook: what an application declares, the client's linked
    records "belong" to it and go with it (SQLAlchemy then deletes them one
    by one, before the client)"""
    if direction is interfaces.ONETOMANY and local_cls.__table__.name == "client":
        kw["cascade"] = "all, delete-orphan"
    return generate_relationship(base, direction, return_fn, attrname, local_cls, referred_cls, **kw)


def main():
    failures = []
    passed = 0

    def check(ok, what):
        nonlocal passed
        if ok:
            passed += 1
            print(f"ok   {what}")
        else:
            failures.append(what)
            print(f"FAIL {what}")

    engine = None
    admin = connect("postgres")
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB}")
        cur.execute(f"DROP ROLE IF EXISTS {ROLE}")
        cur.execute(f"CREATE DATABASE {DB}")
    try:
        # set up as the superuser: crm, its model, roles and row-level
        # security; a supervisor of unit 2 (Kraków), and its clients
        su = connect(DB)
        with su.cursor() as cur:
            cur.execute("SET client_min_messages = warning")
            cur.execute("CREATE EXTENSION crm")
            cur.execute("SELECT crm.install_data_model()")
            cur.execute("SELECT crm.create_roles()")
            cur.execute("SELECT crm.enable_row_security()")
            cur.execute(f"CREATE ROLE {ROLE} NOLOGIN")
            cur.execute(f"GRANT crm_supervisor TO {ROLE}")
            cur.execute("INSERT INTO crm.unit (id, parent_id, kind, name) VALUES "
                        "(1, NULL, 'channel', 'Agencja'), (2, 1, 'branch', 'Kraków')")
            cur.execute("SELECT crm.user_unit(%s, 2)", (ROLE,))
            cur.execute("INSERT INTO crm.client (first_name, last_name, city, unit_id) "
                        "VALUES ('Jan', 'Kowalski', 'Kraków', 2) RETURNING id")
            client_id = cur.fetchone()[0]
            for sql in LINKED.values():
                cur.execute(sql, {"c": client_id})
            # the client's own records, which may go with it
            cur.execute("INSERT INTO crm.contact (client_id, kind, value) VALUES (%s, 'phone', '601 234 567')",
                        (client_id,))
            # a client with no business record, for crm.delete_client()
            cur.execute("INSERT INTO crm.client (first_name, last_name, city, unit_id) "
                        "VALUES ('Ewa', 'Mazur', 'Kraków', 2) RETURNING id")
            bare_id = cur.fetchone()[0]
            cur.execute("INSERT INTO crm.contact (client_id, kind, value) VALUES (%s, 'email', 'ewa@example.com')",
                        (bare_id,))

        def counts():
            with su.cursor() as cur:
                cur.execute("""SELECT (SELECT count(*) FROM crm.client WHERE id = %(c)s),
                                      (SELECT count(*) FROM crm.policy WHERE client_id = %(c)s),
                                      (SELECT count(*) FROM crm.case WHERE client_id = %(c)s),
                                      (SELECT count(*) FROM crm.ticket WHERE client_id = %(c)s),
                                      (SELECT count(*) FROM crm.vehicle WHERE client_id = %(c)s),
                                      (SELECT count(*) FROM crm.contact WHERE client_id = %(c)s)""",
                            {"c": client_id})
                return dict(zip(["client", "policy", "case", "ticket", "vehicle", "contact"], cur.fetchone()))

        before = counts()
        check(before == {"client": 1, "policy": 1, "case": 1, "ticket": 1, "vehicle": 1, "contact": 1},
              f"the client and its records are there: {before}")

        # the application: one connection (the superuser's, over the Unix
        # socket) on which every session SET ROLEs to the person's role,
        # as doc/security.md advises
        engine = sa.create_engine(f"postgresql+psycopg2:///{DB}")

        @sa.event.listens_for(engine, "connect")
        def as_supervisor(dbapi_conn, _record):
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET ROLE {ROLE}")
            dbapi_conn.commit()

        # a column named as the table it references (crm.task_assignee.employee,
        # crm.employee) would get automap's relationship of the same name:
        # SQLAlchemy's documented fix, another name for the relationship
        def name_for_scalar_relationship(base, local_cls, referred_cls, constraint):
            name = referred_cls.__name__.lower()
            return name + "_ref" if name in local_cls.__table__.columns else name

        Base = automap_base()
        with warnings.catch_warnings():
            # crm's identifier types and expression indexes: see test/reflection.py
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            Base.prepare(autoload_with=engine, schema="crm", generate_relationship=cascade_from_client,
                         name_for_scalar_relationship=name_for_scalar_relationship)
        Client = Base.classes.client
        rels = {r.key: r for r in sa.inspect(Client).relationships}
        cascading = sorted(k for k, r in rels.items() if r.cascade.delete and r.cascade.delete_orphan)
        wanted = [f"{t}_collection" for t in LINKED]
        check(all(w in cascading for w in wanted),
              f"automap: crm.client cascades deletes to {', '.join(cascading)}")

        # 1. the ORM's cascade: session.delete(client); commit
        statements = []

        @sa.event.listens_for(engine, "before_cursor_execute")
        def record(_conn, _cursor, statement, _params, _context, _executemany):
            statements.append(statement)

        with Session(engine) as session:
            who = session.connection().exec_driver_sql("SELECT current_user").scalar()
            check(who == ROLE, f"the session acts as {who}")
            client = session.get(Client, client_id)
            check(client is not None and all(len(getattr(client, w)) == 1 for w in wanted),
                  "the supervisor loads the client with its policy, case, ticket and vehicle")
            session.delete(client)
            err = None
            try:
                session.commit()
            except sa.exc.DBAPIError as e:
                err = e
                session.rollback()
        deletes = [s.split("WHERE")[0].strip() for s in statements if s.lstrip().upper().startswith("DELETE")]
        print(f"  the ORM's deletes: {deletes}")
        check(err is not None, "session.delete(client); session.commit() fails")
        if err is not None:
            orig = err.orig
            print(f"  {type(orig).__name__}: {str(orig).splitlines()[0]}")
            check(orig.pgcode == "42501" and isinstance(orig, psycopg2.errors.InsufficientPrivilege),
                  f"psycopg2 reports SQLSTATE 42501 (got {orig.pgcode})")
            check(err.statement.lstrip().upper().startswith("DELETE")
                  and orig.diag.message_primary.startswith("permission denied for table "),
                  f"the refused statement is the ORM's DELETE: {err.statement.split('WHERE')[0].strip()!r}")
        after = counts()
        check(after == before, f"every row is still there: {after}")

        # the ORM stops at its first DELETE: each of the others is refused
        # too, one by one, and so is the client's own once its contacts
        # (which the supervisor may delete) have gone first
        def orm_delete(load):
            with Session(engine) as session:
                obj = load(session)
                session.delete(obj)
                try:
                    session.commit()
                    return None
                except sa.exc.DBAPIError as e:
                    session.rollback()
                    return e

        for table in LINKED:
            e = orm_delete(lambda s, t=table: getattr(s.get(Client, client_id), f"{t}_collection")[0])
            check(e is not None and e.orig.pgcode == "42501" and e.statement.lstrip().upper().startswith("DELETE"),
                  f"the ORM's DELETE of the {table} alone: "
                  f"{e.orig.pgcode + ' ' + e.orig.diag.message_primary if e is not None else 'deleted'}")
        e = orm_delete(lambda s: s.get(Client, bare_id))
        check(e is not None and e.orig.pgcode == "42501" and e.statement.lstrip().upper().startswith("DELETE FROM CRM.CLIENT"),
              f"the ORM's DELETE of a client without business records: "
              f"{e.orig.pgcode + ' ' + e.orig.diag.message_primary if e is not None else 'deleted'}")
        check(counts() == before, "still every row there")

        # 2. the right way, through the same driver and role: crm.delete_client()
        app = connect(DB)
        with app.cursor() as cur:
            cur.execute(f"SET ROLE {ROLE}")
            try:
                cur.execute("SELECT crm.delete_client(%s)", (client_id,))
                check(False, "crm.delete_client() refuses a client with linked records")
            except psycopg2.Error as e:
                detail = e.diag.message_detail or ""
                print(f"  {e.pgcode}: {e.diag.message_primary}; DETAIL: {detail}")
                check(e.pgcode == "23503", f"crm.delete_client() of a client with records: SQLSTATE {e.pgcode}")
                check(all(f"1 in crm.{t}" in detail for t in ("policy", "vehicle", "ticket"))
                      and '1 in crm."case"' in detail,
                      "its DETAIL lists the linked policy, case, ticket and vehicle")
            cur.execute("SELECT crm.delete_client(%s)", (bare_id,))
            check(True, "crm.delete_client() deletes a client without business records")
        app.close()
        with su.cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM crm.client WHERE id = %(b)s), "
                        "(SELECT count(*) FROM crm.contact WHERE client_id = %(b)s), "
                        "(SELECT count(*) FROM crm.audit_log WHERE action = 'delete' AND client_id = %(b)s)",
                        {"b": bare_id})
            gone = cur.fetchone()
        check(gone == (0, 0, 1), f"it is gone with its contact, and audited: {gone}")
        check(counts() == before, "the client with records is untouched")
        su.close()
    finally:
        if engine is not None:
            engine.dispose()
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
            cur.execute(f"DROP ROLE IF EXISTS {ROLE}")
        admin.close()

    for f in failures:
        print("FAIL:", f)
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
