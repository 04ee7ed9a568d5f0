"""The one Excel writer: a summary sheet, then one sheet per table, money as numbers.

Money cells are numbers with a currency format (``$#,##0.00;-$#,##0.00``), so a
spreadsheet sums them; dates are dates. Every text cell is written with ``write_string``,
never ``write``: an id such as ``=HYPERLINK(...)`` stays inert text, never a live formula
(issue 16; the workbook also turns xlsxwriter's ``strings_to_formulas`` and
``strings_to_urls`` off). The workbook is built in memory and returned as bytes (the caller
writes it atomically).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

#: The number format of money cells.
MONEY_FORMAT = "$#,##0.00;-$#,##0.00"
#: The name of the summary sheet.
SUMMARY_SHEET = "Report"


@dataclass(frozen=True)
class Sheet:
    """One table of a workbook.

    Attributes
    ----------
    name
        The sheet name (cut to 28 characters; a repeated name gets ``_2``, ``_3``).
    frame
        The rows, money as ``Decimal``.
    money
        The money columns of ``frame``.
    """

    name: str
    frame: pl.DataFrame
    money: tuple[str, ...] = ()


def xlsx_bytes(
    title: str, facts: Sequence[tuple[str, str]], total: Decimal, sheets: Sequence[Sheet]
) -> bytes:
    """Return a workbook: a summary sheet (title, facts, the total as a number), then ``sheets``.

    Examples
    --------
    >>> from decimal import Decimal
    >>> import polars as pl
    >>> data = xlsx_bytes("T", [("Total", "$1.00")], Decimal("1.00"),
    ...                   [Sheet("Lines", pl.DataFrame({"amount": [Decimal("1.00")]}), ("amount",))])
    >>> data[:2]
    b'PK'
    """
    import xlsxwriter

    buf = io.BytesIO()
    # Text is text: no string a cell holds becomes a formula or a link (issue 16).
    wb = xlsxwriter.Workbook(
        buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    bold = wb.add_format({"bold": True})
    money_fmt = wb.add_format({"num_format": MONEY_FORMAT})
    summary = wb.add_worksheet(SUMMARY_SHEET)
    summary.write_string(0, 0, title, wb.add_format({"bold": True, "font_size": 14}))
    for i, (label, text) in enumerate(facts, start=2):
        summary.write_string(i, 0, label, bold)
        summary.write_string(i, 1, text)
    summary.write_string(len(facts) + 3, 0, "Total (number)", bold)
    summary.write_number(len(facts) + 3, 1, total, money_fmt)
    summary.set_column(0, 0, 24)
    summary.set_column(1, 1, 100)
    used = {SUMMARY_SHEET}
    for sheet in sheets:
        _write_sheet(wb, _sheet_name(sheet.name, used), sheet.frame, sheet.money)
    wb.close()
    return buf.getvalue()


def _sheet_name(name: str, used: set[str]) -> str:
    base = name[:28]
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}_{n}", n + 1
    used.add(candidate)
    return candidate


def _write_sheet(wb: Any, name: str, frame: pl.DataFrame, money: Sequence[str]) -> None:
    """One table: a bold header row, then each cell by its type (text always ``write_string``)."""
    ws = wb.add_worksheet(name)
    bold = wb.add_format({"bold": True})
    money_fmt = wb.add_format({"num_format": MONEY_FORMAT})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    time_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    widths = [len(c) for c in frame.columns]
    for j, column in enumerate(frame.columns):
        ws.write_string(0, j, column, bold)
    for j, column in enumerate(frame.columns):
        is_money = column in money
        for i, value in enumerate(frame.get_column(column).to_list(), start=1):
            shown = _write_cell(ws, i, j, value, money_fmt if is_money else None, date_fmt, time_fmt)
            widths[j] = max(widths[j], shown)
    for j, width in enumerate(widths):
        ws.set_column(j, j, min(width + 2, 60))


def _write_cell(ws: Any, row: int, col: int, value: Any, money_fmt: Any, date_fmt: Any, time_fmt: Any) -> int:
    """Write one cell; return the width its text needs. Only numbers and dates are typed."""
    if value is None:
        return 0
    if isinstance(value, bool):
        ws.write_boolean(row, col, value)
        return 5
    if isinstance(value, Decimal | int | float):
        ws.write_number(row, col, value, money_fmt)
        return len(str(value)) + (4 if money_fmt is not None else 0)
    if isinstance(value, dt.datetime):
        ws.write_datetime(row, col, value, time_fmt)
        return 19
    if isinstance(value, dt.date):
        ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), date_fmt)
        return 10
    text = str(value)
    ws.write_string(row, col, text)  # issue 16: never write(): "=..." stays text
    return len(text)
