"""The HTML the mass write-off screen shows of a batch: totals, breakdown bars, a group's lines.

Presentation only: the numbers come from the package (``Batch.total``, ``amount_by_aging``,
``format_money``); these functions only lay them out, escaped.
"""

from __future__ import annotations

import html
import os
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from writeoff_analytics.aging import amount_by_aging
from writeoff_analytics.ledger.quarantine import describe_held
from writeoff_analytics.money import PL_MONEY, ZERO, format_money

if TYPE_CHECKING:
    from collections.abc import Mapping

    from writeoff_analytics.writeoffs.batches import Batch

#: The columns of the refund review list, as far as the credit lines have them.
_CREDIT_COLUMNS = ("charge_id", "encounter_id", "patient_id", "date_of_service", "payer_id",
                   "financial_class", "balance")
#: How many credit lines the list shows.
_CREDIT_ROWS = 200


def error(text: str) -> str:
    """A message in red (the class every writeoff widget styles as an error)."""
    return f'<span class="wo-error">{html.escape(text)}</span>'


def totals_html(batch: Batch, of_total: Decimal, words: tuple[str, str]) -> str:
    """``4 encounters · 5 lines · $225.50 selected of $225.50`` (``words``: one, many groups)."""
    groups, lines = batch.group_count, batch.line_count
    return (
        f"{groups:,} {words[0] if groups == 1 else words[1]} · "
        f"{lines:,} line{'' if lines == 1 else 's'} · "
        f"{format_money(batch.total)} selected of {format_money(of_total)}"
    )


def breakdown_html(lines: pl.DataFrame) -> str:
    """Bars of the write-off amounts by financial class and by aging bucket."""
    if lines.is_empty():
        return ""
    by_class = (
        lines.group_by("financial_class")
        .agg(pl.col("writeoff_amount").sum().cast(PL_MONEY).alias("s"))
        .sort("s", "financial_class", descending=[True, False])
    )
    return (
        "<div style='display:flex; gap:48px; align-items:flex-start'>"
        + _bars("By financial class", [(r[0], Decimal(r[1])) for r in by_class.iter_rows()])
        + _bars("By age (days)", amount_by_aging(lines))
        + "</div>"
    )


def _bars(title: str, items: list[tuple[str, Decimal]]) -> str:
    top = max((v for _, v in items), default=ZERO)
    rows = []
    for label, value in items:
        width = int(value * 120 / top) if top > 0 else 0
        rows.append(
            f"<tr><td>{html.escape(label)}</td><td align=right>{format_money(value)}</td>"
            f"<td><span class='wo-bar' style='width:{width}px'></span></td></tr>"
        )
    return (f"<table class='wo-breakdown'><tr><th colspan=3 align=left>{title}</th></tr>"
            f"{''.join(rows)}</table>")


def lines_html(group: pl.DataFrame, amounts: Mapping[str, Decimal]) -> str:
    """A group's candidate lines with what the batch writes off of each (``-``: deselected)."""
    rows = "".join(
        f"<tr><td>{html.escape(r['charge_id'])}</td><td>{r['date_of_service']}</td>"
        f"<td>{html.escape(r['procedure_code'] or '')}</td>"
        f"<td>{html.escape(r['payer_id'] or '')}</td><td>{r['financial_class']}</td>"
        f"<td align=right>{format_money(r['balance'])}</td><td align=right>"
        f"{format_money(amounts[r['charge_id']]) if r['charge_id'] in amounts else '-'}"
        "</td></tr>"
        for r in group.to_dicts()
    )
    return (
        "<table class='wo-lines'><tr><th>Charge</th><th>DOS</th><th>Procedure</th>"
        "<th>Payer</th><th>Class</th><th>Balance</th><th>Write off</th></tr>"
        f"{rows}</table>"
    )


def credits_note(credits: pl.DataFrame) -> str:
    """How many credit balances await refund review, and their sum."""
    n = credits.height
    total = (
        ZERO if credits.is_empty()
        else Decimal(credits.select(pl.col("balance").sum().cast(PL_MONEY)).item())
    )
    return (
        f"<i>Credit balances are never written off: {n:,} line{'' if n == 1 else 's'}, "
        f"{format_money(total)}, await refund review.</i>"
    )


def credits_html(credits: pl.DataFrame) -> str:
    """The first credit lines as a scrolling table (empty when there are none)."""
    if credits.is_empty():
        return ""
    cols = [c for c in _CREDIT_COLUMNS if c in credits.columns]
    rows = "".join(
        "<tr>" + "".join(
            f"<td align=right>{format_money(r[c])}</td>" if c == "balance"
            else f"<td>{html.escape('' if r[c] is None else str(r[c]))}</td>" for c in cols
        ) + "</tr>"
        for r in credits.head(_CREDIT_ROWS).to_dicts()
    )
    head = "".join(f"<th>{c.replace('_', ' ').capitalize()}</th>" for c in cols)
    return ("<div style='max-height:220px; overflow:auto'><table class='wo-lines'>"
            f"<tr>{head}</tr>{rows}</table></div>")


def held_back_html(held: pl.DataFrame) -> str:
    """``2 charges held back: C5 (...); C6 (...)``: the quarantined charges, escaped (empty: none).

    Takes ``ledger.quarantine.quarantined_charges``' frame; no search returns those charges.
    """
    text = describe_held(held)
    if not text:
        return ""
    return (f"<i class='wo-held'>{html.escape(text)} (not searched until a clean load; "
            "<code>writeoff quarantine</code> lists them all)</i>")


def link(path: Path) -> str:
    """A link to a file, relative to the kernel's folder (the notebook's), as JupyterLab opens it."""
    try:
        target = os.path.relpath(path, Path.cwd())
    except ValueError:
        target = str(path)
    return f'<a href="{html.escape(target)}" target="_blank">{html.escape(path.name)}</a>'
