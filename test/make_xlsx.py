#!/usr/bin/python3
"""test/make_xlsx.py: the xlsx workbooks of sql/import_xlsx.sql.

Written by openpyxl (Debian's python3-openpyxl), a spreadsheet writer crm
did not write, except the hostile ones, which are zip archives made here
with Python's zipfile so that they are exactly as bad as meant.  The
generated files are committed in test/data/ (a few kB each); run this
again after changing it:

    /usr/bin/python3 test/make_xlsx.py test/data

Files:
  import_clients.xlsx   sheets "Ukryta" (hidden), "Klienci" (the CSV test's
                        rows, with real dates, numbers and Polish text) and
                        "Inne" (every other reason, blank rows, a column
                        without a heading, cells skipping columns)
  import_1904.xlsx      a workbook of the 1904 date system
  import_wide.xlsx      a cell in column 1601 (past a staging table's 1600)
  import_stray.xlsx     a cell to the right of the header's columns
  bomb.xlsx             a sheet part of 50 MB of spaces deflated to ~50 kB
  bomb_lying.xlsx       the same, its zip directory claiming 2 GB compressed
  long_row.xlsx         one 20,000-character shared string in 1,000 cells of a row
  doctype.xlsx          a sheet part with a DOCTYPE (the billion laughs)
  badxml.xlsx           a sheet part that is not well-formed XML
"""
import datetime
import io
import os
import sys
import zipfile

import openpyxl
from openpyxl.utils.datetime import CALENDAR_MAC_1904


def clients(path):
    wb = openpyxl.Workbook()
    hidden = wb.active
    hidden.title = "Ukryta"
    hidden.sheet_state = "hidden"
    hidden.append(["not", "imported"])

    ws = wb.create_sheet("Klienci")
    ws.append(["Imię", "Nazwisko", "Firma", "PESEL", "NIP", "Data urodzenia", "Telefon",
               "E-mail", "Ocena", "Kampania", "Segmenty"])
    rows = [
        # numbers as numbers: a PESEL and a phone typed into a spreadsheet
        ["Jan", "Kowalski", None, 44051401359, None, None, 601234567,
         "jan.kowalski@example.com", 5, "Wiosna", "VIP,Gold"],
        ["Anna", "Nowak", None, "44051401358", None, None, "602 111 222", None, None, None, None],
        ["Piotr", None, None, None, None, None, "603 000 111", None, None, None, None],
        [None, None, "Agro-Pol Sp. z o.o.", None, "123-456-32-18", None, "22 123 45 67",
         "Biuro@AgroPol.pl", None, "Wiosna", "VIP"],
        # a real date cell (with a date format) and text a date cannot be
        ["Zofia", "Wiśniewska", None, None, None, "2023-02-30", 12, "zofia@", "abc", "Jesień", None],
        ["Jan", "Kowalski", None, "44051401359", None, None, "+48 601-234-567", None, None, None, None],
        ["Tomasz", "Zieliński", None, 90072301237, None, datetime.date(1990, 7, 23), None, None,
         4.5, None, "Gold"],
        ['Ewa "Ewka"', "Mazur-Żak", None, None, None, None, "600 100 200", None, "2,5", None, None],
        ["Krystyna", "Wójcik", None, "44023012343", None, datetime.datetime(1944, 2, 23, 0, 0),
         None, None, 0.1 + 0.2, None, None],
    ]
    for r in rows:
        ws.append(r)
    # the birth dates as a Polish spreadsheet shows them
    for row in ws.iter_rows(min_row=2, min_col=6, max_col=6):
        for c in row:
            if isinstance(c.value, (datetime.date, datetime.datetime)):
                c.number_format = "dd.mm.yyyy"

    other = wb.create_sheet("Inne")
    # column L has no heading; a blank row; cells that skip columns
    other.append(["kind", "first", "last", "company", "pesel", "born", "nip", "regon", "lang",
                  "unit", "phones", None, "notes"])
    other.append(["person", "Adam", "Lis", None, "85020500028", datetime.date(1985, 2, 5), None, None,
                  "en", 1, "601 000 001; 601 000 002", None, "first note"])
    other.append(["robot", "Ewa", "Kot"])
    other.append([])
    other.append(["person", "Ewa", "Kot", None, "85020500028", datetime.date(1985, 2, 6)])
    other.append(["company", None, None, None, None, None, 1234563219, 123456784])
    other.append(["company", None, None, "Bud-Mar", None, None, 5260001223, 123456785, "xx", 7,
                  "601 000 003;+999"])
    other.append(["person", "Olga", "Wrona", None, None, "1999-1-2", None, None, None, "abc",
                  "601 000 004;;601 000 004", "stray in L"])
    other.append(["person", "Olga", "Sowa", None, None, "02/01/1999", None, None, "PL", None, None,
                  None, "a note, with a comma\nand a line break"])
    other.append(["person", "Jerzy", "Bool", None, None, None, None, None, None, None, None, True,
                  "zażółć gęślą jaźń"])
    other.cell(row=other.max_row, column=6).value = datetime.datetime(2000, 1, 1, 12, 30, 15)
    other.cell(row=other.max_row, column=6).number_format = "yyyy-mm-dd hh:mm:ss"
    wb.save(path)


def date1904(path):
    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "Mac"
    ws.append(["Nazwisko", "Data urodzenia", "Godzina"])
    ws.append(["Nowak", datetime.date(1990, 7, 23), datetime.time(8, 15, 30)])
    ws.append(["Kowalska", datetime.date(1904, 1, 1), None])
    wb.save(path)


def wide(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Nazwisko"])
    ws.append(["Nowak"])
    ws.cell(row=2, column=1601).value = "too far"
    wb.save(path)


def stray(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Imię", "Nazwisko"])
    ws.append(["Jan", "Nowak"])
    ws.cell(row=3, column=4).value = "a note to the right"
    wb.save(path)


CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?>'
                 '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 '<Default Extension="xml" ContentType="application/xml"/></Types>')
ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
             '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
             '</Relationships>')
WORKBOOK = ('<?xml version="1.0" encoding="UTF-8"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?>'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                 '</Relationships>')
SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_TAIL = '</sheetData></worksheet>'


def handmade(path, sheet):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)


def lying_directory(path, sheet):
    """handmade(), then the central directory claims the sheet part is 2 GB
    compressed: a limit on the ratio that trusted it would be off"""
    handmade(path, sheet)
    data = bytearray(open(path, "rb").read())
    name = b"xl/worksheets/sheet1.xml"
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_len = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + name_len] == name:
            data[at + 20:at + 24] = (0x7FFFFFFF).to_bytes(4, "little")
            break
        at = data.find(b"PK\x01\x02", at + 4)
    assert at >= 0
    open(path, "wb").write(bytes(data))


def long_row(path):
    """one shared string of 20,000 characters named by 1,000 cells of a row:
    a 20 MB row from a workbook of a few kB"""
    rels = WORKBOOK_RELS.replace('</Relationships>',
                                 '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    cells = "".join(f'<c t="s"><v>0</v></c>' for _ in range(1000))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr("xl/sharedStrings.xml",
                   '<?xml version="1.0" encoding="UTF-8"?>'
                   '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
                   '<si><t>' + "Kowalski " * 2222 + '</t></si></sst>')
        z.writestr("xl/worksheets/sheet1.xml", SHEET_HEAD + '<row r="1">' + cells + '</row>' + SHEET_TAIL)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "test/data"
    clients(os.path.join(out, "import_clients.xlsx"))
    date1904(os.path.join(out, "import_1904.xlsx"))
    wide(os.path.join(out, "import_wide.xlsx"))
    stray(os.path.join(out, "import_stray.xlsx"))
    handmade(os.path.join(out, "bomb.xlsx"),
             SHEET_HEAD + '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
             + " " * (50 * 1024 * 1024) + SHEET_TAIL)
    lying_directory(os.path.join(out, "bomb_lying.xlsx"),
                    SHEET_HEAD + '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
                    + " " * (50 * 1024 * 1024) + SHEET_TAIL)
    long_row(os.path.join(out, "long_row.xlsx"))
    handmade(os.path.join(out, "doctype.xlsx"),
             '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
             '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
             '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row>' + SHEET_TAIL)
    handmade(os.path.join(out, "badxml.xlsx"),
             SHEET_HEAD + '<row r="1"><c r="A1" t="inlineStr"><is><t>Nazwisko</t></is></c></row>'
             '<row r="2"><c r="A2" t="inlineStr"><is><t>Nowak</is></c></row>' + SHEET_TAIL)


if __name__ == "__main__":
    main()
