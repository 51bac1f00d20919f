#!/usr/bin/python3
"""test/reflection.py: a BI tool or an ORM can read schema crm unaided.

Creates a database with crm and its data model, reflects every table and
view of schema crm with SQLAlchemy (Debian's python3-sqlalchemy 1.4 over
psycopg2): columns with their types and comments, primary keys, foreign
keys, indexes, unique and check constraints, table comments.  Fails on

  - any warning SQLAlchemy gives that is not in ALLOWED below, and on an
    allowed warning about anything but what it names;
  - a table, view or column without a comment;
  - a primary key, a foreign key or an index (on plain columns) that did
    not come through.

Runs against the server in PGHOST/PGPORT/PGUSER (tools/dev.sh test starts
one).  Prints "N passed, M failed".
"""
import re
import sys
import warnings

import psycopg2
import sqlalchemy as sa

DB = "crm_reflection"

# Warnings that cannot be prevented short of changing the data model, each
# with why.  A warning matching none of these fails the test.
ALLOWED = [
    # crm.pesel, crm.nip and crm.regon are base types written in C (input
    # validation with check digits, binary storage, their own operators):
    # SQLAlchemy's PostgreSQL dialect knows only the built-in types and
    # domains, and reflects these columns as NullType.  A domain over text
    # would be known, but would lose the validation on input and the
    # compact storage; a BI tool reads them as text through the casts, or
    # through crm.client_report, which gives them as text.
    # Indexes on expressions: SQLAlchemy 1.4 reflects only indexes on plain
    # columns (2.0 reflects expressions) and skips these with a warning.
    # They are what makes case-insensitive search fast (lower(last_name),
    # lower(city), upper(vin)...), a custom field's name unique whatever its
    # case, and the fuzzy duplicate search possible (the GIN index on
    # crm.match_keys(...)).  Indexing stored generated columns instead would
    # add columns to the tables that every merge, export and anonymization
    # would carry, for no gain to the database.
    (re.compile(r'^Skipped unsupported reflection of expression-based index [a-z_]+$'),
     "expression indexes"),
    (re.compile(r'^Did not recognize type \'crm\.(pesel|nip|regon)\' of column \'[a-z_]+\'$'),
     "crm's identifier base types"),
]


def connect(dbname):
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def main():
    failures = []
    passed = 0

    engine = None
    admin = connect("postgres")
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB}")
        cur.execute(f"CREATE DATABASE {DB}")
    try:
        with connect(DB) as conn, conn.cursor() as cur:
            cur.execute("SET client_min_messages = warning")
            cur.execute("CREATE EXTENSION crm")
            cur.execute("SELECT crm.install_data_model()")
        conn.close()

        engine = sa.create_engine(f"postgresql+psycopg2:///{DB}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            insp = sa.inspect(engine)
            tables = insp.get_table_names(schema="crm")
            views = insp.get_view_names(schema="crm")
            reflected = {}
            for name in tables + views:
                reflected[name] = {
                    "kind": "table" if name in tables else "view",
                    "columns": insp.get_columns(name, schema="crm"),
                    "pk": insp.get_pk_constraint(name, schema="crm"),
                    "fks": insp.get_foreign_keys(name, schema="crm"),
                    "indexes": insp.get_indexes(name, schema="crm"),
                    "uniques": insp.get_unique_constraints(name, schema="crm"),
                    "checks": insp.get_check_constraints(name, schema="crm"),
                    "comment": insp.get_table_comment(name, schema="crm")["text"],
                }
            # and the way an ORM does it: MetaData.reflect, views too
            meta = sa.MetaData()
            meta.reflect(bind=engine, schema="crm", views=True)

        # 1. warnings: only the allowed ones
        allowed_seen = {}
        for w in caught:
            text = str(w.message)
            why = next((why for pattern, why in ALLOWED if pattern.match(text)), None)
            if why is None:
                failures.append(f"warning {w.category.__name__}: {text}")
            else:
                allowed_seen[text] = why
        passed += 1 if not any(f.startswith("warning") for f in failures) else 0
        for text, why in sorted(allowed_seen.items()):
            print(f"allowed warning ({why}): {text}")

        # what the catalog says, to check the reflection against it
        with connect(DB) as conn, conn.cursor() as cur:
            cur.execute("""
                SELECT c.relname, count(*) FILTER (WHERE con.contype = 'f'),
                       -- SQLAlchemy 1.4 (Debian 12) reflects the indexes on plain
                       -- columns (those of unique and exclusion constraints too),
                       -- not those on expressions (allowed warnings above); 2.0
                       -- (Debian 13) reflects both
                       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid AND NOT i.indisprimary
                          AND (i.indexprs IS NULL OR %(expressions)s)),
                       c.relkind,
                       (SELECT array_agg(a.attname::text ORDER BY k.n)
                        FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n), pg_attribute a
                        WHERE i.indrelid = c.oid AND i.indisprimary
                          AND a.attrelid = c.oid AND a.attnum = k.attnum)
                FROM pg_class c LEFT JOIN pg_constraint con ON con.conrelid = c.oid
                WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind IN ('r', 'v')
                GROUP BY c.oid, c.relname, c.relkind""",
                {"expressions": int(sa.__version__.split(".")[0]) >= 2})
            catalog = {r[0]: {"fks": r[1], "indexes": r[2], "kind": r[3], "pk": r[4] or []}
                       for r in cur.fetchall()}
        conn.close()

        # 2. every table and view reflected, with its comment and every column's
        if set(reflected) != set(catalog):
            failures.append(f"reflected {sorted(reflected)} but the catalog has {sorted(catalog)}")
        else:
            passed += 1
        if set(meta.tables) != {f"crm.{n}" for n in catalog}:
            failures.append(f"MetaData.reflect found {sorted(meta.tables)}")
        else:
            passed += 1
        columns = 0
        for name, r in sorted(reflected.items()):
            if not r["comment"]:
                failures.append(f"{r['kind']} crm.{name} has no comment")
            for col in r["columns"]:
                columns += 1
                if not col.get("comment"):
                    failures.append(f"column crm.{name}.{col['name']} has no comment")
                if isinstance(col["type"], sa.types.NullType) and not re.match(r'^(pesel|nip|regon|billed_nip)$', col["name"]):
                    failures.append(f"column crm.{name}.{col['name']}: type not reflected")
            # MetaData.reflect carries the comments too
            t = meta.tables[f"crm.{name}"]
            missing = [c.name for c in t.columns if not c.comment]
            if missing or not t.comment:
                failures.append(f"MetaData.reflect lost comments of crm.{name}: {missing or 'the table'}")
            # 3. keys and indexes came through
            if r["kind"] == "table":
                # (crm.merge_log_row, a journal, has none: none to reflect)
                if r["pk"]["constrained_columns"] != catalog[name]["pk"]:
                    failures.append(f"table crm.{name}: primary key {r['pk']['constrained_columns']} reflected, "
                                    f"not {catalog[name]['pk']}")
                if len(r["fks"]) != catalog[name]["fks"]:
                    failures.append(f"table crm.{name}: {len(r['fks'])} foreign keys reflected of {catalog[name]['fks']}")
                if len(r["indexes"]) != catalog[name]["indexes"]:
                    failures.append(f"table crm.{name}: {len(r['indexes'])} indexes reflected of {catalog[name]['indexes']}: "
                                    f"{sorted(i['name'] for i in r['indexes'])}")
        if not any(f.startswith(("table", "view", "column", "MetaData")) for f in failures):
            passed += 1
        print(f"reflected {len(tables)} tables and {len(views)} views of schema crm, {columns} columns")
    finally:
        if engine is not None:
            engine.dispose()
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.close()

    for f in failures:
        print("FAIL:", f)
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
