"""The one Excel writer: a summary sheet, then one sheet per table, money as numbers.

Money cells are numbers with a currency format (``$#,##0.00;-$#,##0.00``), so a
spreadsheet sums them; dates are dates. The workbook is built in memory and returned as
bytes (the caller writes it atomically).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from decimal import Decimal

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
    >>> data = xlsx_bytes("T", [("Total", "$1.00")], Decimal("1.00"),
    ...                   [Sheet("Lines", pl.DataFrame({"amount": [Decimal("1.00")]}), ("amount",))])
    >>> data[:2]
    b'PK'
    """
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    bold = wb.add_format({"bold": True})
    money_fmt = wb.add_format({"num_format": MONEY_FORMAT})
    summary = wb.add_worksheet(SUMMARY_SHEET)
    summary.write(0, 0, title, wb.add_format({"bold": True, "font_size": 14}))
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
    formats: Any = {c: MONEY_FORMAT for c in money if c in frame.columns}
    if frame.is_empty():
        ws = wb.add_worksheet(name)
        for j, c in enumerate(frame.columns):
            ws.write_string(0, j, c)
        return
    frame.write_excel(
        workbook=wb, worksheet=name, column_formats=formats or None,
        dtype_formats={pl.Date: "yyyy-mm-dd"}, autofit=True, table_style=None,
    )
