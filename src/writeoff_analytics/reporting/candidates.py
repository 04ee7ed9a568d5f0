"""The candidate report: criteria, totals, summaries by class and aging, largest groups, lines.

:func:`report_candidates` builds it from a ``find_candidates`` result; its main table
(``report.gt``) is the lines as a ``great_tables.GT``. PHI: ids only, never names or birth
dates.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl

from writeoff_analytics import queries
from writeoff_analytics.aging import BUCKET_LABELS, aging_bucket
from writeoff_analytics.ledger.quarantine import held_count, quarantined_charges
from writeoff_analytics.money import PL_MONEY, ZERO, format_money
from writeoff_analytics.reporting.page import FONT_FAMILY
from writeoff_analytics.reporting.report import Report
from writeoff_analytics.reporting.sections import section

if TYPE_CHECKING:
    from writeoff_analytics.candidates import Candidates
    from writeoff_analytics.ledger.store import Ledger
    from writeoff_analytics.reporting.model import Section

#: Groups shown in "Largest groups".
TOP_GROUPS = 20
#: The preset whose report shows the remittance evidence of its lines (issue 15, item 5).
EVIDENCE_PRESET = "timely-filing"


def report_candidates(
    candidates: Candidates, *, ledger: Ledger | None = None, max_lines: int | None = None
) -> Report:
    """Build the candidate report: criteria, totals, summaries, largest groups, the lines.

    Parameters
    ----------
    candidates
        The result of ``find_candidates``.
    ledger
        The store the candidates came from; when given, its extract fingerprint is shown,
        and the charges it holds in quarantine (no search finds them) are listed with why.
    max_lines
        Show at most this many lines in HTML and PDF (CSV and Excel always hold all).

    Returns
    -------
    Report
        Sections ``by_class_aging``, ``by_responsibility``, ``largest_groups``, ``held_back``
        (only when the store holds quarantined charges), ``lines`` (the main one), then
        ``evidence`` (only for the ``timely-filing`` preset with a ``ledger``: the 835 rows
        with a CAS or remark code posted to the lines).

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
    held = _held_back(ledger)
    sections = (
        section("by_class_aging", "Summary by financial class and aging (write-off amount)",
                by_class, money=(*buckets, "total"), total_row=True),
        section("by_responsibility", "By responsibility", by_resp, money=("amount",), total_row=True),
        section("largest_groups", f"Largest groups (top {min(TOP_GROUPS, groups.height)})", groups,
                money=("balance_total",)),
        *held,
        section("lines", "Lines", lines, money=("balance", "writeoff_amount"), columns=line_cols,
                note=note, shown=shown),
        *_evidence(ledger, candidates),
    )
    chart = _aging_chart(aged, buckets)
    return Report(
        title="Write-off candidates", facts=tuple(facts), sections=sections, lines=lines,
        total=total, main="lines", chart_svg=chart, money=("balance", "writeoff_amount"),
    )


def _held_back(ledger: Ledger | None) -> tuple[Section, ...]:
    """Issue 14: the quarantined charges, which no search returns, with why (none: no section)."""
    if ledger is None:
        return ()
    held = quarantined_charges(ledger)
    if not held.height:
        return ()
    n = held_count(held)
    title = f"Held back: {n:,} quarantined charge{'s' if n != 1 else ''}"
    note = "Not searched until a clean load (writeoff quarantine lists them); fix the rows named and reload."
    return (section("held_back", title, held, note=note),)


def _evidence(ledger: Ledger | None, candidates: Candidates) -> tuple[Section, ...]:
    """Issue 15: for a timely-filing report, the 835 rows saying why of each listed line.

    A line adjusted with CO-29 or CO-16/N-codes is not changed by the report; the rows
    (``835:<TRN02>:<CLP01>:<n>``: date, trace, CAS group and reason, remark codes) are
    shown so the reviewer sees the payer's own words before writing a balance off.
    """
    if ledger is None or candidates.criteria.preset != EVIDENCE_PRESET:
        return ()
    ids = sorted(set(candidates.lines.get_column("charge_id").to_list()))
    with ledger.connect() as con:
        rows = queries.frame(con, "select_remittance_evidence", charge_ids=ids)
    n = rows.get_column("charge_id").n_unique() if rows.height else 0
    title = f"Remittance evidence: {n:,} line{'s' if n != 1 else ''} with 835 adjustment or remark codes"
    note = (
        "The 835 rows posted to the listed lines; reference is the remittance's trace (TRN02), "
        "group and reason the CAS codes (CARC), remark codes the RARCs."
        if rows.height
        else "No 835 row with a CAS or remark code was posted to the listed lines."
    )
    return (section("evidence", title, rows, money=("amount",), note=note),)


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
        f'font-family="{FONT_FAMILY}, sans-serif">',
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


