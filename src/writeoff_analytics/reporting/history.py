"""The history and compliance report: the receipts created in a date range, summarised.

Write-offs by reason, financial class and month (reversals deducted from the reason of the
receipt they reverse), reversals, hardship write-offs and their determination references,
flagged waivers of Medicare/Medicaid patients, and credit balances waiting for refund review.
The write-off's reason is ``writeoff_reason`` in every frame and export (in a CSV,
``reason_code`` is a posting's CARC: see :mod:`writeoff_analytics.export.csv`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from writeoff_analytics import queries
from writeoff_analytics.export.csv import WRITEOFF_REASON
from writeoff_analytics.money import PL_MONEY, format_money
from writeoff_analytics.reasons import WAIVER_REASONS
from writeoff_analytics.reporting.report import Report
from writeoff_analytics.reporting.sections import section, total_of

if TYPE_CHECKING:
    from writeoff_analytics.ledger.store import Ledger


def report_history(ledger: Ledger, date_from: dt.date | str, date_to: dt.date | str) -> Report:
    """Build the history and compliance report of the receipts created in a date range.

    Parameters
    ----------
    ledger
        The store.
    date_from, date_to
        The first and last day (inclusive) of receipt creation; ISO text is accepted.

    Returns
    -------
    Report
        Lines keyed by ``writeoff_reason`` (the receipt's reason code); sections
        ``by_reason`` (the main one), ``by_class``, ``by_month``, ``reversals``,
        ``hardship``, ``waivers`` (Medicare/Medicaid patients' lines with a courtesy,
        administrative or custom reason) and ``credits`` (credit balances waiting for
        refund review). ``total`` is the net amount written off (reversals deducted).
    """
    from writeoff_analytics.candidates import find_credit_balances

    start, end = _as_date(date_from), _as_date(date_to)
    if start > end:
        msg = f"the history range starts {start} after it ends {end}; swap the dates"
        raise ValueError(msg)
    with ledger.connect() as con:
        lines = queries.frame(con, "select_history_lines", date_from=start, date_to=end)
        receipts = queries.frame(con, "select_history_receipts", date_from=start, date_to=end)
    credits = find_credit_balances(ledger)
    # export/csv.py: a CSV's reason_code is a posting's CARC; the write-off's reason has its own name
    lines = lines.rename({"reason_code": WRITEOFF_REASON})
    receipts = receipts.rename({"reason_code": WRITEOFF_REASON})
    lines = lines.with_columns(
        pl.col("amount").cast(PL_MONEY),
        (-pl.col("amount")).cast(PL_MONEY).alias("written_off_amount"),
        pl.col("reversal_of").is_not_null().alias("is_reversal"),
    )
    net = total_of(lines, "written_off_amount")
    is_rev = pl.col("is_reversal")
    written = -pl.col("amount")

    def by(key: str) -> pl.DataFrame:
        return (
            lines.group_by(key)
            .agg(
                pl.col("receipt_no").n_unique().cast(pl.Int64).alias("receipts"),
                pl.len().cast(pl.Int64).alias("lines"),
                written.filter(~is_rev).sum().cast(PL_MONEY).alias("written_off"),
                pl.col("amount").filter(is_rev).sum().cast(PL_MONEY).alias("reversed"),
                written.sum().cast(PL_MONEY).alias("net"),
            )
            .sort(key)
        )

    reversal_rows = receipts.filter(pl.col("reversal_of").is_not_null()).select(
        "receipt_no", "created_date", "reversal_of", "preparer", "line_count",
        pl.col("total_amount").cast(PL_MONEY), pl.col("reason_text").alias("reversal_reason"),
    )
    hardship = receipts.filter(
        (pl.col(WRITEOFF_REASON) == "FINANCIAL_HARDSHIP") & pl.col("reversal_of").is_null()
    ).select(
        "receipt_no", "created_date", "preparer", "approver",
        pl.col("determination_reference").fill_null("MISSING"), "line_count",
        pl.col("total_amount").cast(PL_MONEY),
    )
    waivers = lines.filter(
        pl.col(WRITEOFF_REASON).is_in(sorted(WAIVER_REASONS)) & pl.col("government_patient") & ~is_rev
    ).select(
        "receipt_no", "created_date", WRITEOFF_REASON, "patient_id", "charge_id", "financial_class",
        "written_off_amount", "reversed_by",
    )
    credit_rows = credits.select(
        "charge_id", "encounter_id", "patient_id", "date_of_service", "balance_type", "payer_id",
        "financial_class", pl.col("balance").cast(PL_MONEY), "not_responsible",
    )
    writeoffs = receipts.filter(pl.col("reversal_of").is_null()).height
    gross = total_of(lines.filter(~is_rev), "written_off_amount")
    facts = (
        ("Period", f"{start} to {end}"),
        ("Receipts", f"{receipts.height:,} ({writeoffs:,} write-offs, {receipts.height - writeoffs:,} reversals)"),
        ("Lines", f"{lines.height:,}"),
        ("Written off", format_money(gross)),
        ("Reversed", format_money(gross - net)),
        ("Total", f"{format_money(net)} net written off (write-offs less reversals)"),
        ("Flagged waivers", f"{waivers.height:,} lines of Medicare/Medicaid patients with a courtesy, administrative or custom reason"),
        ("Credit balances", f"{credits.height:,} lines waiting for refund review (as of the loaded extract)"),
    )
    flows = ("written_off", "reversed", "net")
    sections = (
        section("by_reason", "Write-offs by reason", by(WRITEOFF_REASON), money=flows, total_row=True),
        section("by_class", "Write-offs by financial class", by("financial_class"), money=flows, total_row=True),
        section("by_month", "Write-offs by month", by("month"), money=flows, total_row=True),
        section("reversals", "Reversals", reversal_rows, money=("total_amount",)),
        section("hardship", "Financial hardship write-offs and their determination references",
                hardship, money=("total_amount",)),
        section("waivers", "Flagged: Medicare/Medicaid patients written off for courtesy, administrative or custom reasons",
                waivers, money=("written_off_amount",),
                note="Routine waivers of what Medicare and Medicaid patients owe are a compliance risk; review each."),
        section("credits", "Credit balances waiting for refund review", credit_rows, money=("balance",)),
    )
    csv_lines = lines.drop("is_reversal")
    return Report(
        title="Write-off history and compliance", facts=facts, sections=sections, lines=csv_lines,
        total=net, main="by_reason", money=("amount", "written_off_amount"),
    )


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        msg = f"{value!r} is not a date; write YYYY-MM-DD"
        raise ValueError(msg) from None


