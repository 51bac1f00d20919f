#!/usr/bin/python3
"""test/export_xlsx.py: the xlsx export read by a reader we did not write.

Creates a database with crm, its data model, crm's roles and row-level
security, a few clients whose values try the writer (numbers, dates,
timestamps, booleans, text with control characters, underscores that look
like OOXML escapes, Polish letters, a PESEL), and reads the workbooks of
crm.export_clients_xlsx() and crm.export_clients_xlsx_file() with openpyxl
(Debian's python3-openpyxl): the header row, every cell's type and value,
and that an agent's workbook holds only the clients it may see.

Runs against the server in PGHOST/PGPORT/PGUSER (tools/dev.sh test starts
one).  Prints "N passed, M failed".
"""
import datetime
import decimal
import io
import os
import sys

import openpyxl
import psycopg2
from openpyxl.utils.escape import unescape

DB = "crm_export_xlsx"

SETUP = r"""
CREATE EXTENSION crm;
SELECT crm.install_data_model();
SELECT crm.create_roles();
SELECT crm.enable_row_security();
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crm_export_agent') THEN
        CREATE ROLE crm_export_agent NOLOGIN;
    END IF;
END $$;
GRANT crm_agent TO crm_export_agent;
INSERT INTO crm.unit (id, parent_id, kind, name) VALUES
    (1, NULL, 'channel', 'Agencja'), (2, 1, 'branch', 'Kraków'), (3, 1, 'branch', 'Gdańsk');
SELECT crm.user_unit('crm_export_agent', 2);
INSERT INTO crm.custom_field (id, name, type) VALUES (1, 'Liczba aut', 'number'), (2, 'Uwagi', 'text');
INSERT INTO crm.client (id, first_name, last_name, city, pesel, birth_date, unit_id, synced, created_at, address) VALUES
    (1, 'Jan', 'Kowalski', 'Kraków', '44051401359', NULL, 2, true, '2024-03-01 10:00:05+01', 'ul. Długa 5'),
    (2, 'Zażółć', 'Gęślą-Jaźń', 'Kraków', NULL, '1899-12-31', 2, false, '2024-06-15 23:30:00+02',
     E'tab\tnew\nline, bell\x07, _x0041_ stays'),
    (3, 'Anna', 'Nowak', 'Gdańsk', NULL, '1990-05-17', 3, false, '2025-01-10 08:00:00+01', NULL);
SELECT crm.set_custom_value(1, 'Liczba aut', '2,5'),
       crm.set_custom_value(2, 'Liczba aut', '12345678901234567890'),
       crm.set_custom_value(3, 'Uwagi', 'VIP');
"""

COLUMNS = ["id", "first_name", "last_name", "pesel", "birth_date", "synced", "created_at",
           "address", "custom:Liczba aut", "custom:Uwagi"]

WARSAW = datetime.timezone(datetime.timedelta(hours=1))


def expected_rows():
    return {
        # the birth date comes from the PESEL
        1: [1, "Jan", "Kowalski", "44051401359", datetime.datetime(1944, 5, 14), True,
            datetime.datetime(2024, 3, 1, 10, 0, 5), "ul. Długa 5", 2.5, None],
        # a date before 1900 stays text; a number of 20 digits too
        2: [2, "Zażółć", "Gęślą-Jaźń", None, "1899-12-31", False,
            datetime.datetime(2024, 6, 15, 23, 30, 0),
            "tab\tnew\nline, bell\x07, _x0041_ stays", "12345678901234567890", None],
        3: [3, "Anna", "Nowak", None, datetime.datetime(1990, 5, 17), False,
            datetime.datetime(2025, 1, 10, 8, 0, 0), None, None, "VIP"],
    }


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what} {detail}")


def read_sheet(data):
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    # A control character is written as _xHHHH_ (ECMA-376 ST_Xstring), which
    # Excel and LibreOffice read back; openpyxl 3.0 decodes it in shared
    # strings but not in the inline strings of a constant-memory workbook,
    # so its own decoder is applied here
    rows = [[unescape(v) if isinstance(v, str) else v for v in r]
            for r in ws.iter_rows(values_only=True)]
    return wb, rows


def compare(checks, label, rows, ids):
    want = expected_rows()
    checks.check(f"{label}: header", rows[0] == COLUMNS, repr(rows[0]))
    got_ids = [r[0] for r in rows[1:]]
    checks.check(f"{label}: the clients", got_ids == ids, repr(got_ids))
    for r in rows[1:]:
        exp = want.get(r[0])
        if exp is None:
            continue
        for name, got, wanted in zip(COLUMNS, r, exp):
            ok = got == wanted and type(got) is type(wanted) or (
                isinstance(wanted, float) and isinstance(got, (int, float)) and abs(got - wanted) < 1e-9)
            checks.check(f"{label}: client {r[0]} {name}", ok, f"got {got!r}, wanted {wanted!r}")


def main():
    checks = Checks()
    admin = psycopg2.connect(dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB}")
        cur.execute(f"CREATE DATABASE {DB}")
    try:
        conn = psycopg2.connect(dbname=DB)
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute(SETUP)
        cur.execute("SET TimeZone = 'Europe/Warsaw'")
        cur.execute("SET search_path = public, crm")

        cur.execute("SELECT crm.export_clients_xlsx('{}', %s)", (COLUMNS,))
        wb, rows = read_sheet(bytes(cur.fetchone()[0]))
        checks.check("one sheet, named clients", wb.sheetnames == ["clients"], repr(wb.sheetnames))
        compare(checks, "superuser", rows, [1, 2, 3])
        # the types: a date and a timestamp carry a date format
        ws = wb.worksheets[0]
        checks.check("a date cell is formatted as a date",
                     ws.cell(row=4, column=5).number_format == "yyyy-mm-dd",
                     ws.cell(row=4, column=5).number_format)
        checks.check("a header cell is bold", ws.cell(row=1, column=1).font.b is True)

        # an agent of Kraków: its clients only
        cur.execute("SET ROLE crm_export_agent")
        cur.execute("SELECT crm.export_clients_xlsx('{}', %s)", (COLUMNS,))
        _, rows = read_sheet(bytes(cur.fetchone()[0]))
        compare(checks, "agent", rows, [1, 2])
        cur.execute("RESET ROLE")

        # the filter language, an empty result
        cur.execute("""SELECT crm.export_clients_xlsx('{"city": "Gdańsk"}', %s)""", (COLUMNS,))
        _, rows = read_sheet(bytes(cur.fetchone()[0]))
        compare(checks, "filtered", rows, [3])
        cur.execute("""SELECT crm.export_clients_xlsx('{"id": -1}', %s)""", (COLUMNS,))
        _, rows = read_sheet(bytes(cur.fetchone()[0]))
        checks.check("no client: the header alone", rows == [COLUMNS], repr(rows))

        # a file on the server, written whole
        cur.execute("SHOW data_directory")
        path = os.path.join(cur.fetchone()[0], "export_test.xlsx")
        cur.execute("SELECT crm.export_clients_xlsx_file('{}', %s, %s)", (COLUMNS, path))
        checks.check("the file variant counts its clients", cur.fetchone()[0] == 3)
        with open(path, "rb") as f:
            _, rows = read_sheet(f.read())
        compare(checks, "file", rows, [1, 2, 3])
        checks.check("no temporary file left beside it",
                     not [n for n in os.listdir(os.path.dirname(path)) if n.startswith("export_test.xlsx.")])
        os.unlink(path)
        cur.close()
        conn.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {DB}")
            cur.execute("DROP ROLE IF EXISTS crm_export_agent")
        admin.close()
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
