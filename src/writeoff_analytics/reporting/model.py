"""What a report is: facts, sections (a frame and its ``great_tables.GT``), lines, a total.

The values here hold no rendering: the builders (``candidates``, ``receipt``, ``history``)
make them, the writers (``html``, ``pdf``; CSV and Excel in ``export/``) read them, and
:class:`~writeoff_analytics.reporting.report.Report` joins them. Column labels shown to
people live here too (:data:`LABELS`), so every format names a column the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal

    import polars as pl
    from great_tables import GT

#: The heading of each column in HTML, PDF and the great-tables views.
LABELS = {
    "charge_id": "Charge",
    "encounter_id": "Encounter",
    "patient_id": "Patient",
    "guarantor_id": "Guarantor",
    "group_key": "Group",
    "date_of_service": "Date of service",
    "age_days": "Age (days)",
    "procedure_code": "Procedure",
    "provider_id": "Provider",
    "location_id": "Location",
    "payer_id": "Payer",
    "financial_class": "Financial class",
    "responsibility": "Responsibility",
    "balance_type": "Type",
    "balance": "Balance amount",
    "writeoff_amount": "Write-off",
    "aging_bucket": "Aging",
    "lines": "Lines",
    "groups": "Groups",
    "amount": "Amount",
    "line_no": "Line",
    "transaction_id": "Transaction",
    "bucket": "Bucket",
    "posted_date": "Posted",
    "reverses_transaction_id": "Reverses",
    "receipt_no": "Receipt",
    "created_date": "Date",
    "writeoff_reason": "Reason",
    "reason_text": "Reason",
    "reversal_of": "Reverses receipt",
    "determination_reference": "Determination ref.",
    "preparer": "Preparer",
    "approver": "Approver",
    "month": "Month",
    "receipts": "Receipts",
    "written_off": "Written off",
    "reversed": "Reversed",
    "net": "Net",
    "first_date_of_service": "First DOS",
    "last_date_of_service": "Last DOS",
    "max_age_days": "Max age",
    "line_count": "Lines",
    "balance_total": "Balance",
    "total": "Total",
    "flag": "Flag",
    "not_responsible": "Not responsible",
    "note": "Note",
    "total_amount": "Total",
    "check": "Check",
    "recorded": "Recorded in the store",
    "found": "Found",
    "agrees": "Agrees",
    "reversed_by": "Reversed by",
    "reversal_reason": "Why reversed",
    "written_off_amount": "Written off",
}


def label(column: str) -> str:
    """The heading of ``column`` (its name when it has no label).

    Examples
    --------
    >>> label("writeoff_amount"), label("xyz")
    ('Write-off', 'xyz')
    """
    return LABELS.get(column, column)


@dataclass(frozen=True)
class Section:
    """One titled table of a report: the data frame and the great-tables view of it.

    Attributes
    ----------
    key
        A short stable name (``"by_class_aging"``), also the Excel sheet name.
    title
        The heading shown above the table.
    frame
        The data, money as ``Decimal(18,2)``.
    gt
        The formatted table (currency, dates, labels).
    money
        The money columns of ``frame``.
    note
        A sentence under the heading (e.g. "first 500 of 20,000 lines").
    shown
        How many rows HTML and PDF show (``None``: all); CSV and Excel always hold all.
    columns
        The columns HTML and PDF show, in order (``frame`` may hold more).
    footer
        A line under the table (e.g. the total of a receipt's lines).
    """

    key: str
    title: str
    frame: pl.DataFrame
    gt: GT
    money: tuple[str, ...] = ()
    note: str = ""
    shown: int | None = None
    columns: tuple[str, ...] = ()
    footer: str = ""

    @property
    def shown_rows(self) -> int:
        """How many rows HTML and PDF show."""
        return self.frame.height if self.shown is None else self.shown

    def shown_frame(self) -> pl.DataFrame:
        """The rows and columns HTML and PDF show."""
        frame = self.frame if self.shown is None else self.frame.head(self.shown)
        return frame.select(list(self.columns))


@dataclass(frozen=True)
class ReportContent:
    """A report's content: facts at the top, an optional chart, then sections.

    Attributes
    ----------
    title
        The report's title.
    facts
        ``(label, text)`` pairs shown under the title (criteria in words, as-of, totals).
    sections
        The tables, in reading order.
    lines
        One row per line (candidate, receipt or history line): what CSV exports.
    total
        The report's total amount, exact (also shown in ``facts``).
    main
        The key of the section :attr:`gt` returns.
    chart_svg
        An inline SVG chart shown after the facts ("" for none).
    money
        The money columns of ``lines``.
    """

    title: str
    facts: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    lines: pl.DataFrame
    total: Decimal
    main: str
    chart_svg: str = ""
    money: tuple[str, ...] = field(default=())

    @property
    def gt(self) -> GT:
        """The main table as a ``great_tables.GT`` (keep chaining ``.tab_header()``)."""
        return self.section(self.main).gt

    def section(self, key: str) -> Section:
        """Return the section named ``key``.

        Raises
        ------
        KeyError
            If the report has no such section; the message lists the ones it has.
        """
        for s in self.sections:
            if s.key == key:
                return s
        msg = f"report {self.title!r} has no section {key!r}; it has {', '.join(s.key for s in self.sections)}"
        raise KeyError(msg)
