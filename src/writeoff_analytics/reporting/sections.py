"""Turning a frame into a report section: its ``great_tables.GT`` view, labels, money format.

The builders only pick the frame, its columns, its money columns and a title; this module
makes the one look every report table has (STYLE.md: builders return a ``GT`` and pick
columns, labels and money formats): currency for money, ISO dates, the labels of
:data:`~writeoff_analytics.reporting.model.LABELS`, an optional bold total row.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import polars as pl
from great_tables import GT, loc, style

from writeoff_analytics.money import ZERO
from writeoff_analytics.reporting.model import Section, label


def table(key: str, frame: pl.DataFrame, money: Sequence[str] = ()) -> GT:
    """Return ``frame`` as a ``GT`` with the report look; its id is ``wo-<key>``.

    Parameters
    ----------
    key
        The section's key (``by_class_aging`` gives the table id ``wo-by-class-aging``).
    frame
        The rows to show.
    money
        The money columns: currency format, right-aligned.

    Examples
    --------
    >>> from decimal import Decimal
    >>> f = pl.DataFrame({"charge_id": ["C1"], "balance": [Decimal("1234.50")]})
    >>> html = table("lines", f, money=["balance"]).as_raw_html()
    >>> "$1,234.50" in html and 'id="wo-lines"' in html and "Balance amount" in html
    True
    """
    gt = GT(frame, id=f"wo-{key.replace('_', '-')}")
    present = [c for c in money if c in frame.columns]
    if present:
        gt = gt.fmt_currency(columns=present, currency="USD")
    dates = [c for c, t in frame.schema.items() if t == pl.Date]
    if dates:
        gt = gt.fmt_date(columns=dates, date_style="iso")
    labels: dict[str, Any] = {c: label(c) for c in frame.columns}
    gt = gt.cols_label(labels).sub_missing(missing_text="").tab_options(
        table_margin_left="0px", table_font_size="8pt", data_row_padding="2px",
        column_labels_padding="3px",
    )
    if present:
        gt = gt.cols_align(align="right", columns=present)
    return gt


def section(
    key: str,
    title: str,
    frame: pl.DataFrame,
    *,
    money: Sequence[str] = (),
    columns: Sequence[str] | None = None,
    total_row: bool = False,
    note: str = "",
    shown: int | None = None,
    footer: str = "",
) -> Section:
    """Return a :class:`Section` of ``frame``; its ``gt`` shows ``columns`` of the shown rows.

    ``total_row`` adds a bold row summing the money and line-count columns (counts of
    distinct ids do not add up, so they are left empty).
    """
    shown_frame = frame if shown is None else frame.head(shown)
    if columns is not None:
        shown_frame = shown_frame.select(columns)
    if total_row and frame.height:
        totals: dict[str, Any] = {}
        first = shown_frame.columns[0]
        for c, dtype in shown_frame.schema.items():
            if c == first and dtype == pl.String:
                totals[c] = "Total"
            elif c in money or c in ("lines", "line_count"):  # counts of distinct ids do not add up
                value = shown_frame.get_column(c).sum()
                totals[c] = Decimal(value).quantize(ZERO) if c in money else value
            else:
                totals[c] = None
        shown_frame = pl.concat(
            [shown_frame, pl.DataFrame([totals], schema=shown_frame.schema)], how="vertical"
        )
    gt = table(key, shown_frame, money)
    if total_row and frame.height:
        gt = gt.tab_style(style=style.text(weight="bold"), locations=loc.body(rows=[shown_frame.height - 1]))
    return Section(key=key, title=title, frame=frame, gt=gt, money=tuple(money), note=note,
                   shown=shown, columns=tuple(columns or frame.columns), footer=footer)


def total_of(frame: pl.DataFrame, column: str) -> Decimal:
    """The exact sum of a money column (``0.00`` for no rows).

    Examples
    --------
    >>> from decimal import Decimal
    >>> total_of(pl.DataFrame({"a": [Decimal("1.10"), Decimal("-0.05")]}), "a")
    Decimal('1.05')
    """
    if frame.is_empty():
        return ZERO
    return Decimal(frame.get_column(column).sum()).quantize(ZERO)
