"""Excel tables (ledger/xlsx.py): values only, empty strings empty, the sheet named."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter

from writeoff_analytics.errors import LedgerFormatError
from writeoff_analytics.ledger.load import load_extract, read_extract
from writeoff_analytics.ledger.store import Ledger

SMALL = Path(__file__).parent / "data" / "small"


def _rows(table: str) -> list[list[str]]:
    with open(SMALL / f"{table}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write_xlsx(path: Path, rows: list[list[str]], *, sheet: str = "Sheet1", extra_sheets=(), edit=None):
    """Write rows as text cells (an empty field as an empty-string cell); ``edit(ws)`` after."""
    wb = xlsxwriter.Workbook(str(path))
    for name in extra_sheets:
        wb.add_worksheet(name).write_string(0, 0, "notes")
    ws = wb.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            ws.write_string(r, c, value)
    if edit is not None:
        edit(wb, ws)
    wb.close()


def extract_with_xlsx(tmp_path: Path, table: str = "charges", **kwargs) -> Path:
    folder = tmp_path / "x"
    shutil.copytree(SMALL, folder)
    (folder / f"{table}.csv").unlink()
    write_xlsx(folder / f"{table}.xlsx", _rows(table), **kwargs)
    return folder


def test_an_xlsx_of_text_cells_loads_like_its_csv(tmp_path):
    folder = extract_with_xlsx(tmp_path)
    ex = read_extract(folder)
    assert ex.problems == ()
    assert ex.frames["charges"].equals(read_extract(SMALL).frames["charges"])


def test_empty_string_cells_are_empty(tmp_path):
    # The file holds "" in billed_payer_id cells (the CSV's empty fields): stored as NULL.
    folder = extract_with_xlsx(tmp_path)
    rows = _rows("charges")
    assert any(r[5] == "" for r in rows[1:])
    charges = read_extract(folder).frames["charges"]
    assert charges.filter(charges["billed_payer_id"] == "").height == 0
    assert charges["billed_payer_id"].null_count() == sum(r[5] == "" for r in rows[1:])


def test_an_empty_string_in_a_required_money_cell_is_a_rejected_row(tmp_path):
    rows = _rows("charges")
    rows[2][4] = ""
    folder = tmp_path / "x"
    shutil.copytree(SMALL, folder)
    (folder / "charges.csv").unlink()
    write_xlsx(folder / "charges.xlsx", rows)
    (problem, *_) = read_extract(folder).problems
    assert (problem.file, problem.row, problem.column) == ("charges.xlsx", 3, "charge_amount")
    assert problem.reason == "empty; a value is required"


@pytest.mark.parametrize("cached", [None, 150])
def test_a_formula_cell_is_refused_naming_file_sheet_and_cell(tmp_path, cached):
    def edit(wb, ws):
        ws.write_formula("E3", "=100+50", None, cached)

    folder = extract_with_xlsx(tmp_path, sheet="charges", edit=edit)
    with pytest.raises(LedgerFormatError) as info:
        read_extract(folder)
    assert str(info.value) == (
        "charges.xlsx: sheet 'charges', cell E3: holds a formula; a table file holds values "
        "only (save as values: copy the sheet, paste special > values) and reload"
    )


def test_a_formula_refusal_leaves_the_store_as_it_was(tmp_path):
    ledger = Ledger(tmp_path / "l.duckdb")
    load_extract(ledger, SMALL)
    before = ledger.balances()
    folder = extract_with_xlsx(tmp_path, edit=lambda wb, ws: ws.write_formula("E2", "=1+1", None, 2))
    with pytest.raises(LedgerFormatError, match="cell E2: holds a formula"):
        load_extract(ledger, folder)
    assert ledger.balances().equals(before)


def test_merged_header_cells_are_refused(tmp_path):
    def edit(wb, ws):
        ws.merge_range("E1:F1", "charge_amount")

    folder = extract_with_xlsx(tmp_path, edit=edit)
    with pytest.raises(LedgerFormatError) as info:
        read_extract(folder)
    assert str(info.value) == (
        "charges.xlsx: sheet 'Sheet1': cells E1:F1 are merged (in the header); unmerge them so "
        "each column has its own name and each cell its own value, and reload"
    )


def test_merged_data_cells_are_refused_too(tmp_path):
    folder = extract_with_xlsx(tmp_path, edit=lambda wb, ws: ws.merge_range("A3:B3", "C2"))
    with pytest.raises(LedgerFormatError, match=r"cells A3:B3 are merged \(in a row\)"):
        read_extract(folder)


def test_the_sheet_named_like_the_table_is_read(tmp_path):
    folder = extract_with_xlsx(tmp_path, sheet="Charges", extra_sheets=("Notes", "Totals"))
    assert read_extract(folder).frames["charges"].height == 6


def test_several_sheets_none_named_like_the_table_are_refused_listing_them(tmp_path):
    folder = extract_with_xlsx(tmp_path, sheet="Export", extra_sheets=("Notes",))
    with pytest.raises(LedgerFormatError) as info:
        read_extract(folder)
    assert str(info.value) == (
        "charges.xlsx: has 2 sheets ('Notes', 'Export') and none named charges; name the "
        "sheet to load charges or keep only that sheet"
    )


def test_an_error_value_cell_is_refused(tmp_path):
    def edit(wb, ws):
        ws.write_formula("E2", "=1/0", None, "#DIV/0!")

    folder = extract_with_xlsx(tmp_path, edit=edit)
    # A formula is found first (it is one); the cell is named either way.
    with pytest.raises(LedgerFormatError, match="cell E2"):
        read_extract(folder)


def test_duplicate_header_names_are_refused_as_written(tmp_path):
    rows = _rows("charges")
    rows[0].append("units")
    for r in rows[1:]:
        r.append("1")
    folder = tmp_path / "x"
    shutil.copytree(SMALL, folder)
    (folder / "charges.csv").unlink()
    write_xlsx(folder / "charges.xlsx", rows)
    with pytest.raises(LedgerFormatError, match="column units appears twice in the header"):
        read_extract(folder)


def test_numbers_and_dates_typed_in_excel_load_exactly(tmp_path):
    import datetime as dt

    def edit(wb, ws):
        date = wb.add_format({"num_format": "yyyy-mm-dd"})
        ws.write_number("E2", 200)
        ws.write_number("E3", 150.5)
        ws.write_datetime("G2", dt.datetime(2026, 2, 27), date)

    folder = extract_with_xlsx(tmp_path, edit=edit)
    charges = read_extract(folder).frames["charges"].sort("charge_id")
    assert charges["charge_amount"][:2].to_list() == [Decimal("200.00"), Decimal("150.50")]
    assert str(charges["posted_date"][0]) == "2026-02-27"
