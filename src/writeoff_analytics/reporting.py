"""Reports with great-tables: candidates, one receipt, history and compliance.

Each ``report_*`` function returns a frozen :class:`Report`: its sections are
``great_tables.GT`` objects (analysts keep chaining ``.tab_header()``) with the Polars
frames under them, and it exports to HTML, PDF (WeasyPrint, A4 landscape, page numbers,
repeated table headers), CSV (one row per line, formula-safe) and Excel (money as numbers
with a currency format). Money stays ``Decimal`` until it is formatted here for people.
PHI: reports carry ids only, never names or birth dates.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from great_tables import GT, loc, style

from writeoff_analytics import queries
from writeoff_analytics._atomic import atomic_write, atomic_write_bytes
from writeoff_analytics.aging import AGING_BUCKETS, BUCKET_LABELS, aging_bucket
from writeoff_analytics.errors import CriteriaError, HistoryError
from writeoff_analytics.export.csv import formula_safe
from writeoff_analytics.money import PL_MONEY, ZERO, format_money
from writeoff_analytics.reasons import WAIVER_REASONS

if TYPE_CHECKING:
    import os

    from writeoff_analytics.candidates import Candidates
    from writeoff_analytics.ledger.store import Ledger

#: Rows per ``<table>`` of a long lines section in HTML/PDF: WeasyPrint lays out each
#: table whole before paginating it, so one 20,000-row table costs far more than many
#: small ones (each repeats its header, and ``thead`` repeats on every page too).
LINES_CHUNK = 400
#: A lines section longer than this is drawn straight into PDF pages (``_pdf_lines``).
FAST_PDF_LINES = 1000
#: A lines section up to this long follows the summaries on the same page in PDF.
_SHORT_LINES = 25
#: Groups shown in "Largest groups".
TOP_GROUPS = 20

_MONEY_FORMAT = "$#,##0.00;-$#,##0.00"
_LABELS = {
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
    "reason_code": "Reason",
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


@dataclass(frozen=True)
class Report:
    """A report: facts at the top, an optional chart, then sections; exportable.

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
        """Return the section named ``key``."""
        for s in self.sections:
            if s.key == key:
                return s
        msg = f"report {self.title!r} has no section {key!r}; it has {', '.join(s.key for s in self.sections)}"
        raise KeyError(msg)

    def _repr_html_(self) -> str:
        return _document(self, pdf=False)

    def to_html_string(self) -> str:
        """The whole report as one self-contained HTML document."""
        return _document(self, pdf=False)

    def to_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the report as a self-contained HTML file; return its path."""
        with atomic_write(path, "w", encoding="utf-8") as fh:
            fh.write(_document(self, pdf=False))
        return Path(path)

    def to_pdf(self, path: str | os.PathLike[str]) -> Path:
        """Write the report as an A4 landscape PDF with page numbers and repeated headers.

        The pages are laid out by WeasyPrint; a lines section longer than
        :data:`FAST_PDF_LINES` rows is drawn directly (``_pdf_lines``) and appended, so a
        20,000-line report takes seconds, not minutes.
        """
        atomic_write_bytes(path, _pdf_bytes(self))
        return Path(path)

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write one row per line; money as plain ``1234.50``; text cells formula-safe."""
        with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(_csv_text(self.lines))
        return Path(path)

    def to_xlsx(self, path: str | os.PathLike[str]) -> Path:
        """Write an Excel workbook: a summary sheet, one sheet per section, and the lines."""
        atomic_write_bytes(path, _xlsx_bytes(self))
        return Path(path)

    def save(self, path: str | os.PathLike[str], fmt: str | None = None) -> Path:
        """Write the report in ``fmt`` (html, pdf, csv, xlsx; default: the path's suffix)."""
        kind = (fmt or Path(path).suffix.lstrip(".")).lower()
        writers = {"html": self.to_html, "pdf": self.to_pdf, "csv": self.to_csv, "xlsx": self.to_xlsx}
        if kind not in writers:
            msg = f"unknown report format {kind!r}; use one of {', '.join(writers)}"
            raise ValueError(msg)
        return writers[kind](path)


# ---------------------------------------------------------------------------- candidates


def report_candidates(
    candidates: Candidates, *, ledger: Ledger | None = None, max_lines: int | None = None
) -> Report:
    """Build the candidate report: criteria, totals, summaries, largest groups, the lines.

    Parameters
    ----------
    candidates
        The result of ``find_candidates``.
    ledger
        The store the candidates came from; when given, its extract fingerprint is shown.
    max_lines
        Show at most this many lines in HTML and PDF (CSV and Excel always hold all).

    Returns
    -------
    Report
        Sections ``by_class_aging``, ``by_responsibility``, ``largest_groups``, ``lines``
        (the main one).

    Examples
    --------
    >>> from writeoff_analytics import Criteria
    >>> from writeoff_analytics.candidates import find_candidates
    >>> from tests.conftest import EXAMPLE_TABLES, build_ledger
    >>> ledger = build_ledger(**EXAMPLE_TABLES)
    >>> c = find_candidates(ledger, Criteria("PATIENT", "ENCOUNTER", as_of="2026-11-01"))
    >>> report = report_candidates(c)
    >>> report.total, dict(report.facts)["Total"], [s.key for s in report.sections]
    (Decimal('40.00'), '$40.00', ['by_class_aging', 'by_responsibility', 'largest_groups', 'lines'])
    >>> html = report.gt.tab_header(title="Encounter E1").as_raw_html()
    """
    lines = candidates.lines
    total = candidates.total
    aged = lines.with_columns(aging_bucket())
    facts = [
        ("Criteria", candidates.criteria.describe()),
        ("As of", candidates.as_of.isoformat()),
        ("Groups", f"{candidates.group_count:,}"),
        ("Lines", f"{candidates.line_count:,}"),
        ("Total", format_money(total)),
    ]
    if ledger is not None and (fp := ledger.fingerprint()) is not None:
        facts.append(("Extract", fp[:16]))
    if candidates.criteria.preset:
        facts.insert(0, ("Preset", str(candidates.criteria.preset)))

    buckets = list(BUCKET_LABELS)
    by_class = _class_aging(aged, buckets)
    by_resp = (
        aged.group_by("responsibility")
        .agg(
            pl.col("group_key").n_unique().cast(pl.Int64).alias("groups"),
            pl.len().cast(pl.Int64).alias("lines"),
            pl.col("writeoff_amount").sum().cast(PL_MONEY).alias("amount"),
        )
        .sort("responsibility")
    )
    groups = candidates.groups.sort(["balance_total", "group_key"], descending=[True, False]).head(
        TOP_GROUPS
    )
    shown = None if max_lines is None or max_lines >= lines.height else max_lines
    note = "" if shown is None else f"The first {shown:,} of {lines.height:,} lines; the CSV and Excel files hold all of them."
    line_cols = [
        "group_key", "charge_id", "encounter_id", "patient_id", "date_of_service", "age_days",
        "procedure_code", "payer_id", "financial_class", "responsibility", "balance_type",
        "balance", "writeoff_amount",
    ]
    sections = (
        _section("by_class_aging", "Summary by financial class and aging (write-off amount)",
                 by_class, money=(*buckets, "total"), total_row=True),
        _section("by_responsibility", "By responsibility", by_resp, money=("amount",), total_row=True),
        _section("largest_groups", f"Largest groups (top {min(TOP_GROUPS, groups.height)})", groups,
                 money=("balance_total",)),
        _section("lines", "Lines", lines, money=("balance", "writeoff_amount"), columns=line_cols,
                 note=note, shown=shown),
    )
    chart = _aging_chart(aged, buckets)
    return Report(
        title="Write-off candidates", facts=tuple(facts), sections=sections, lines=lines,
        total=total, main="lines", chart_svg=chart, money=("balance", "writeoff_amount"),
    )


def _class_aging(aged: pl.DataFrame, buckets: Sequence[str]) -> pl.DataFrame:
    amount = pl.col("writeoff_amount")
    out = aged.group_by("financial_class").agg(
        pl.len().cast(pl.Int64).alias("lines"),
        *[amount.filter(pl.col("aging_bucket") == b).sum().cast(PL_MONEY).alias(b) for b in buckets],
        amount.sum().cast(PL_MONEY).alias("total"),
    )
    schema = {"financial_class": pl.String, "lines": pl.Int64, **dict.fromkeys(buckets, PL_MONEY), "total": PL_MONEY}
    return out.sort("financial_class").cast(schema) if out.height else pl.DataFrame(schema=schema)  # type: ignore[arg-type]  # dict of dtypes is accepted


def _aging_chart(aged: pl.DataFrame, buckets: Sequence[str]) -> str:
    """A small inline SVG bar chart of the write-off amount per aging bucket."""
    sums = dict.fromkeys(buckets, ZERO)
    counts = dict.fromkeys(buckets, 0)
    if aged.height:
        rows = aged.group_by("aging_bucket").agg(
            pl.col("writeoff_amount").sum().cast(PL_MONEY).alias("amount"), pl.len().alias("n")
        )
        for b, amount, n in rows.iter_rows():
            sums[b] = Decimal(amount)
            counts[b] = int(n)
    top = max([*sums.values(), Decimal("0.01")])
    width, height, left, base, bar_w, gap = 720, 190, 10, 150, 80, 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Write-off amount by aging bucket" '
        'font-family="DejaVu Sans, sans-serif">',
        f'<line x1="{left}" y1="{base}" x2="{left + len(buckets) * (bar_w + gap)}" y2="{base}" stroke="#666" stroke-width="1"/>',
    ]
    for i, b in enumerate(buckets):
        x = left + i * (bar_w + gap)
        h = int(Decimal(110) * max(sums[b], ZERO) / top) if top > 0 else 0
        parts.append(f'<rect x="{x}" y="{base - h}" width="{bar_w}" height="{h}" fill="#4a78b5"/>')
        parts.append(
            f'<text x="{x + bar_w / 2}" y="{base - h - 14}" font-size="10" text-anchor="middle">'
            f"{html.escape(format_money(sums[b]))}</text>"
        )
        parts.append(
            f'<text x="{x + bar_w / 2}" y="{base - h - 3}" font-size="9" fill="#555" text-anchor="middle">'
            f"{counts[b]:,} lines</text>"
        )
        parts.append(
            f'<text x="{x + bar_w / 2}" y="{base + 14}" font-size="10" text-anchor="middle">'
            f"{html.escape(b)} days</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


# ------------------------------------------------------------------------------- receipt


def report_receipt(ledger: Ledger, receipt_no: str) -> Report:
    """Build the report of one committed receipt: header, control totals, the lines.

    Signs follow the store and the receipt CSV: a write-off's lines are negative, a
    reversal's positive; ``receipts.total_amount`` (the manifest's ``total``) is what the
    receipt moves, positive. :attr:`Report.total` is the signed sum of the lines, the sum of
    the receipt CSV's ``amount`` column.

    Parameters
    ----------
    ledger
        The store holding the receipt.
    receipt_no
        ``WO-000001`` and so on.

    Returns
    -------
    Report
        Sections ``control`` and ``lines`` (the main one). A reversal says which receipt
        it reverses; a reversed receipt says which receipts reversed it. The control totals
        check the line count, the total and the receipt CSV's SHA-256 against the file.

    Raises
    ------
    HistoryError
        If the store holds no receipt with that number.
    """
    with ledger.connect() as con:
        head = queries.frame(con, "select_report_receipt", receipt_no=receipt_no)
        lines = queries.frame(con, "select_report_receipt_lines", receipt_no=receipt_no)
    if head.is_empty():
        msg = f"receipt {receipt_no} is not in {ledger.path}; check the number (writeoff history)"
        raise HistoryError(msg)
    r = head.row(0, named=True)
    lines = lines.with_columns(pl.col("amount").cast(PL_MONEY))
    lines_total = _sum(lines, "amount")  # signed, as in the receipt CSV
    moved = Decimal(r["total_amount"]).quantize(ZERO)  # positive: what the receipt moves
    reversal = r["reversal_of"] is not None
    expected_total = moved if reversal else -moved
    kind = "Reversal" if reversal else "Write-off"
    csv_path = Path(r["files_dir"]) / f"{r['receipt_no']}.csv"
    facts: list[tuple[str, str]] = [
        ("Receipt", f"{r['receipt_no']} ({kind.lower()})"),
        ("Created", str(r["created_at"])[:19]),
        ("Preparer", r["preparer"]),
        ("Approver", r["approver"] or "(none)"),
        ("Reason", f"{r['reason_code']}: {r['reason_text']}"),
        ("Adjustment code", r["adjustment_code"] or "(none)"),
    ]
    if r["claim_status"]:
        facts.append(("Claim status", r["claim_status"]))
    if reversal:
        facts.append(("Reverses", _reverses_words(r, lines.height)))
    if r["reversed_by"]:
        facts.append(("Reversed by", r["reversed_by"]))
    if r["determination_reference"]:
        facts.append(("Determination reference", r["determination_reference"]))
    if r["note"]:
        facts.append(("Note", r["note"]))
    facts += [
        ("Criteria", _criteria_words(r["criteria_json"])),
        ("As of", str(r["as_of"])),
        ("Balance type", r["balance_type"]),
        ("Lines", f"{r['line_count']:,}"),
        ("Amount given back" if reversal else "Amount written off", format_money(moved)),
        ("Total", f"{format_money(lines_total)} (the sum of the lines: the signed change of the balances, "
                  "as in the receipt CSV)"),
        ("Receipt CSV", str(csv_path)),
        ("CSV SHA-256", r["csv_sha256"]),
    ]
    found_sha, sha_agrees = _file_sha256(csv_path, r["csv_sha256"])
    control = pl.DataFrame(
        {
            "check": ["Line count", "Total of the lines", "Receipt CSV SHA-256"],
            "recorded": [f"{r['line_count']:,}", format_money(expected_total), r["csv_sha256"]],
            "found": [f"{lines.height:,}", format_money(lines_total), found_sha],
            "agrees": [
                "yes" if r["line_count"] == lines.height else "NO",
                "yes" if expected_total == lines_total else "NO",
                sha_agrees,
            ],
        }
    )
    line_cols = [
        "line_no", "transaction_id", "charge_id", "encounter_id", "patient_id", "group_key",
        "date_of_service", "procedure_code", "bucket", "payer_id", "financial_class", "amount",
        "reverses_transaction_id" if reversal else "reversed_by",
    ]
    if lines.get_column("payer_id").null_count() == lines.height:
        line_cols.remove("payer_id")  # PATIENT lines name no payer (their class is the billed payer's)
    sections = (
        _section("control", "Control totals", control),
        _section("lines", "Lines", lines, money=("amount",), columns=line_cols,
                 footer=f"Total of the {lines.height:,} lines: {format_money(lines_total)}"),
    )
    return Report(
        title=f"{kind} receipt {r['receipt_no']}", facts=tuple(facts), sections=sections,
        lines=lines, total=lines_total, main="lines", money=("amount",),
    )


def _reverses_words(r: dict[str, Any], lines: int) -> str:
    """``WO-000001 (DECEASED, created 2026-11-23 10:00:00; 3 of its 94 lines)``."""
    if r["original_reason_code"] is None:  # the reversed receipt is not in this store
        return str(r["reversal_of"])
    return (
        f"{r['reversal_of']} ({r['original_reason_code']}, created {str(r['original_created_at'])[:19]}; "
        f"{lines:,} of its {r['original_line_count']:,} lines)"
    )


def _file_sha256(path: Path, recorded: str) -> tuple[str, str]:
    """What the receipt CSV on disk hashes to, and whether it agrees with the store."""
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "file not found", "not checked"
    except OSError as exc:
        return f"file unreadable ({exc.strerror})", "not checked"
    return digest, "yes" if digest == recorded else "NO"


def _criteria_words(text: str | None) -> str:
    if not text:
        return "(none)"
    from writeoff_analytics.criteria.model import Criteria

    try:
        return Criteria.from_dict(json.loads(text)).describe()
    except (ValueError, TypeError, CriteriaError):
        return text


# ------------------------------------------------------------------------------- history


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
        Sections ``by_reason`` (the main one), ``by_class``, ``by_month``, ``reversals``,
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
    lines = lines.with_columns(
        pl.col("amount").cast(PL_MONEY),
        (-pl.col("amount")).cast(PL_MONEY).alias("written_off_amount"),
        pl.col("reversal_of").is_not_null().alias("is_reversal"),
    )
    net = _sum(lines, "written_off_amount")
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
        (pl.col("reason_code") == "FINANCIAL_HARDSHIP") & pl.col("reversal_of").is_null()
    ).select(
        "receipt_no", "created_date", "preparer", "approver",
        pl.col("determination_reference").fill_null("MISSING"), "line_count",
        pl.col("total_amount").cast(PL_MONEY),
    )
    waivers = lines.filter(
        pl.col("reason_code").is_in(sorted(WAIVER_REASONS)) & pl.col("government_patient") & ~is_rev
    ).select(
        "receipt_no", "created_date", "reason_code", "patient_id", "charge_id", "financial_class",
        "written_off_amount", "reversed_by",
    )
    credit_rows = credits.select(
        "charge_id", "encounter_id", "patient_id", "date_of_service", "balance_type", "payer_id",
        "financial_class", pl.col("balance").cast(PL_MONEY), "not_responsible",
    )
    writeoffs = receipts.filter(pl.col("reversal_of").is_null()).height
    gross = _sum(lines.filter(~is_rev), "written_off_amount")
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
        _section("by_reason", "Write-offs by reason", by("reason_code"), money=flows, total_row=True),
        _section("by_class", "Write-offs by financial class", by("financial_class"), money=flows, total_row=True),
        _section("by_month", "Write-offs by month", by("month"), money=flows, total_row=True),
        _section("reversals", "Reversals", reversal_rows, money=("total_amount",)),
        _section("hardship", "Financial hardship write-offs and their determination references",
                 hardship, money=("total_amount",)),
        _section("waivers", "Flagged: Medicare/Medicaid patients written off for courtesy, administrative or custom reasons",
                 waivers, money=("written_off_amount",),
                 note="Routine waivers of what Medicare and Medicaid patients owe are a compliance risk; review each."),
        _section("credits", "Credit balances waiting for refund review", credit_rows, money=("balance",)),
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


# ------------------------------------------------------------------------------ sections


def _sum(frame: pl.DataFrame, column: str) -> Decimal:
    if frame.is_empty():
        return ZERO
    return Decimal(frame.get_column(column).sum()).quantize(ZERO)


def _section(
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
    gt = _gt(key, shown_frame, money)
    if total_row and frame.height:
        gt = gt.tab_style(style=style.text(weight="bold"), locations=loc.body(rows=[shown_frame.height - 1]))
    return Section(key=key, title=title, frame=frame, gt=gt, money=tuple(money), note=note,
                   shown=shown, columns=tuple(columns or frame.columns), footer=footer)


def _gt(key: str, frame: pl.DataFrame, money: Sequence[str]) -> GT:
    gt = GT(frame, id=f"wo-{key.replace('_', '-')}")
    present = [c for c in money if c in frame.columns]
    if present:
        gt = gt.fmt_currency(columns=present, currency="USD")
    dates = [c for c, t in frame.schema.items() if t == pl.Date]
    if dates:
        gt = gt.fmt_date(columns=dates, date_style="iso")
    labels: dict[str, Any] = {c: _LABELS.get(c, c) for c in frame.columns}
    gt = gt.cols_label(labels).sub_missing(missing_text="").tab_options(
        table_margin_left="0px", table_font_size="8pt", data_row_padding="2px",
        column_labels_padding="3px",
    )
    if present:
        gt = gt.cols_align(align="right", columns=present)
    return gt


# ---------------------------------------------------------------------------- HTML / PDF

_CSS = """
body { font-family: 'DejaVu Sans', sans-serif; font-size: 8.5pt; color: #222; margin: 0; }
h1 { font-size: 15pt; margin: 0 0 4pt 0; string-set: title content(); }
h2 { font-size: 11pt; margin: 14pt 0 3pt 0; break-after: avoid; }
p.note { margin: 0 0 4pt 0; color: #555; }
table.facts { border-collapse: collapse; margin: 4pt 0 8pt 0; }
table.facts th { text-align: left; padding: 1pt 10pt 1pt 0; vertical-align: top; white-space: nowrap; color: #444; }
table.facts td { padding: 1pt 0; }
table.lines { border-collapse: collapse; width: 100%; font-size: 7pt; margin: 0; }
table.lines th { text-align: left; border-bottom: 1.2pt solid #444; padding: 2pt 3pt; }
table.lines td { padding: 0.8pt 3pt; border-bottom: 0.3pt solid #ddd; white-space: nowrap; }
table.lines .r { text-align: right; }
div.chart { margin: 4pt 0 6pt 0; }
.gt_table { font-size: 8pt !important; }
div[id^="wo-"] { break-inside: avoid; }
div.long div[id^="wo-"] { break-inside: auto; }
p.total { margin: 3pt 0 0 0; font-weight: bold; }
"""

_PRINT_CSS = """
@page {
  size: A4 landscape; margin: 12mm 11mm 14mm 11mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 7.5pt 'DejaVu Sans', sans-serif; color: #555; }
  @bottom-left { content: string(title); font: 7.5pt 'DejaVu Sans', sans-serif; color: #555; }
}
thead { display: table-header-group; }
tr { break-inside: avoid; }
h2.lines { break-before: page; }
"""


def _document(
    report: Report, *, pdf: bool, skip: str | None = None, total_pages: int | None = None
) -> str:
    out = io.StringIO()
    out.write('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">')
    out.write(f"<title>{html.escape(report.title)}</title><style>{_CSS}")
    if pdf:
        out.write(_PRINT_CSS)
    if total_pages is not None:  # more pages follow this document
        out.write(f'@page {{ @bottom-right {{ content: "Page " counter(page) " of {int(total_pages)}"; }} }}')
    out.write("</style></head><body>")
    out.write(f"<h1>{html.escape(report.title)}</h1>")
    out.write('<table class="facts">')
    for label, text in report.facts:
        out.write(f"<tr><th>{html.escape(label)}</th><td>{html.escape(text)}</td></tr>")
    out.write("</table>")
    if report.chart_svg:
        out.write(f'<h2>Aging distribution</h2><div class="chart">{report.chart_svg}</div>')
    for s in report.sections:
        if s.key == skip:
            continue
        # a long lines table starts on its own page; a short one follows the header
        shown = s.frame.height if s.shown is None else s.shown
        cls = ' class="lines"' if s.key == "lines" and shown > _SHORT_LINES else ""
        out.write(f"<h2{cls}>{html.escape(s.title)}</h2>")
        if s.note:
            out.write(f'<p class="note">{html.escape(s.note)}</p>')
        if s.frame.is_empty():
            out.write('<p class="note">None.</p>')
        elif s.key == "lines":
            _write_lines_table(out, s)
        elif s.frame.height > _SHORT_LINES:
            # a long table may break across pages (its header repeats); kept whole, it would
            # leave its heading alone at the foot of a page
            out.write(f'<div class="long">{s.gt.as_raw_html()}</div>')
        else:
            out.write(s.gt.as_raw_html())
        if s.footer and not s.frame.is_empty():
            out.write(f'<p class="total">{html.escape(s.footer)}</p>')
    out.write("</body></html>")
    return out.getvalue()


def _pdf_bytes(report: Report) -> bytes:
    import weasyprint  # imported here: it takes most of a second

    long = next(
        (s for s in report.sections
         if s.key == "lines" and (s.frame.height if s.shown is None else s.shown) > FAST_PDF_LINES),
        None,
    )
    if long is None:
        data = weasyprint.HTML(string=_document(report, pdf=True)).write_pdf()
        assert data is not None  # no target given: write_pdf returns the bytes
        return bytes(data)
    from pypdf import PdfReader, PdfWriter

    from writeoff_analytics import _pdf_lines

    labels, rows, right = _lines_text(long)
    extra = _pdf_lines.page_count(len(rows) + (1 if long.footer else 0))
    front_pages = len(weasyprint.HTML(string=_document(report, pdf=True, skip="lines")).render().pages)
    total = front_pages + extra
    front = weasyprint.HTML(
        string=_document(report, pdf=True, skip="lines", total_pages=total)
    ).write_pdf()
    assert front is not None
    back = _pdf_lines.draw_rows(
        title=report.title, heading=long.title, note=long.note, labels=labels, rows=rows,
        right=right, first_page=front_pages + 1, total_pages=total, footer=long.footer,
    )
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(front)))
    writer.append(PdfReader(io.BytesIO(back)))
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _lines_text(section: Section) -> tuple[list[str], list[tuple[str, ...]], list[bool]]:
    """The shown lines of a section as text cells: labels, rows, right-aligned columns."""
    frame = section.frame if section.shown is None else section.frame.head(section.shown)
    columns = list(section.columns)
    frame = frame.select(columns)
    money = set(section.money)
    text = frame.select(
        [
            _money_text(pl.col(c)).alias(c) if c in money else pl.col(c).cast(pl.String).fill_null("")
            for c in columns
        ]
    )
    right = [c in money or frame.schema[c].is_numeric() for c in columns]
    return [_LABELS.get(c, c) for c in columns], text.rows(), right


def _write_lines_table(out: io.StringIO, section: Section) -> None:
    """Write a lines section as plain chunked HTML tables.

    great-tables formats cell by cell (about 0.5 ms a cell), too slow for 20,000 lines, so
    the lines are formatted with Polars and written here in the same columns and labels.
    """
    frame = section.frame if section.shown is None else section.frame.head(section.shown)
    columns = list(section.columns)
    frame = frame.select(columns)
    money = set(section.money)
    text = frame.select(
        [
            _money_text(pl.col(c)).alias(c) if c in money else pl.col(c).cast(pl.String).fill_null("")
            for c in columns
        ]
    )
    right = {c for c in columns if c in money or frame.schema[c].is_numeric()}
    head = "".join(
        f'<th class="r">{html.escape(_LABELS.get(c, c))}</th>' if c in right
        else f"<th>{html.escape(_LABELS.get(c, c))}</th>"
        for c in columns
    )
    open_cells = ['<td class="r">' if c in right else "<td>" for c in columns]
    for start in range(0, text.height, LINES_CHUNK):
        out.write(f'<table class="lines"><thead><tr>{head}</tr></thead><tbody>')
        for row in text.slice(start, LINES_CHUNK).iter_rows():
            out.write("<tr>")
            for opener, value in zip(open_cells, row, strict=True):
                out.write(opener)
                out.write(html.escape(value))
                out.write("</td>")
            out.write("</tr>")
        out.write("</tbody></table>")


def _money_text(col: pl.Expr) -> pl.Expr:
    """``$1,234.50`` / ``-$20.00`` for a Decimal(18,2) column, vectorised."""
    s = col.cast(pl.String)
    neg = s.str.starts_with("-")
    digits = s.str.strip_prefix("-")
    whole = digits.str.split(".").list.first()
    cents = digits.str.split(".").list.last()
    grouped = (
        whole.str.reverse().str.replace_all(r"(\d{3})", "$1,").str.reverse().str.strip_prefix(",")
    )
    return pl.when(col.is_null()).then(pl.lit("")).otherwise(
        pl.when(neg).then(pl.lit("-$")).otherwise(pl.lit("$")) + grouped + pl.lit(".") + cents
    )


# ------------------------------------------------------------------------------ CSV / Excel


def _csv_text(frame: pl.DataFrame) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(frame.columns)
    kinds = [t for t in frame.schema.values()]
    for row in frame.iter_rows():
        writer.writerow([_csv_cell(v, k) for v, k in zip(row, kinds, strict=True)])
    return buf.getvalue()


def _csv_cell(value: object, kind: pl.DataType) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value.quantize(ZERO))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | int):
        return str(value)
    return formula_safe(str(value))


def _xlsx_bytes(report: Report) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    bold = wb.add_format({"bold": True})
    money_fmt = wb.add_format({"num_format": _MONEY_FORMAT})
    summary = wb.add_worksheet("Report")
    summary.write(0, 0, report.title, wb.add_format({"bold": True, "font_size": 14}))
    for i, (label, text) in enumerate(report.facts, start=2):
        summary.write_string(i, 0, label, bold)
        summary.write_string(i, 1, text)
    summary.write_string(len(report.facts) + 3, 0, "Total (number)", bold)
    summary.write_number(len(report.facts) + 3, 1, report.total, money_fmt)
    summary.set_column(0, 0, 24)
    summary.set_column(1, 1, 100)
    used = {"Report"}
    for s in report.sections:
        name = _sheet_name(s.key if s.key != "lines" else "Lines", used)
        _write_sheet(wb, name, s.frame, s.money)
    if all(s.key != "lines" for s in report.sections):
        _write_sheet(wb, _sheet_name("Lines", used), report.lines, report.money)
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
    formats: Any = {c: _MONEY_FORMAT for c in money if c in frame.columns}
    if frame.is_empty():
        ws = wb.add_worksheet(name)
        for j, c in enumerate(frame.columns):
            ws.write_string(0, j, c)
        return
    frame.write_excel(
        workbook=wb, worksheet=name, column_formats=formats or None,
        dtype_formats={pl.Date: "yyyy-mm-dd"}, autofit=True, table_style=None,
    )


__all__ = [
    "AGING_BUCKETS",
    "Report",
    "Section",
    "report_candidates",
    "report_history",
    "report_receipt",
]
