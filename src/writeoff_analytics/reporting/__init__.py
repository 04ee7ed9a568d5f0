"""Reports with great-tables: candidates, one receipt, history and compliance.

Each ``report_*`` function returns a frozen :class:`Report`: its sections are
``great_tables.GT`` objects (analysts keep chaining ``.tab_header()``) with the Polars
frames under them, and it exports to HTML, PDF (WeasyPrint, A4 landscape, page numbers,
repeated table headers), CSV (one row per line, formula-safe) and Excel (money as numbers
with a currency format). Money stays ``Decimal`` until it is formatted for people.
PHI: reports carry ids only, never names or birth dates.

The package: ``model`` (what a report is), ``sections`` (a frame as a ``GT``), one builder
per report (``candidates``, ``receipt``, ``history``), ``report`` (the :class:`Report` and
its exports), one writer per format (``html``, ``pdf`` with its helper ``_pdf_lines``; CSV
and Excel are :mod:`writeoff_analytics.export.csv` and :mod:`writeoff_analytics.export.xlsx`),
``page`` (page geometry and fonts, defined once).
"""

from __future__ import annotations

from writeoff_analytics.aging import AGING_BUCKETS
from writeoff_analytics.reporting.candidates import report_candidates
from writeoff_analytics.reporting.history import report_history
from writeoff_analytics.reporting.model import Section
from writeoff_analytics.reporting.receipt import report_receipt
from writeoff_analytics.reporting.report import Report

__all__ = [
    "AGING_BUCKETS",
    "Report",
    "Section",
    "report_candidates",
    "report_history",
    "report_receipt",
]
