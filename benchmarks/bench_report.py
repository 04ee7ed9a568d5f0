"""Benchmark: a PDF of an N-line candidate report (issue 6: 20,000 lines in under a minute).

Run by hand, never in the test suite::

    PYTHONPATH=src python -m benchmarks.bench_report 20000

Prints the seconds to build the report and to write the PDF, and the page count.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

from writeoff_analytics.candidates import LINE_SCHEMA, Candidates, group_lines
from writeoff_analytics.criteria.model import Criteria
from writeoff_analytics.reporting import report_candidates

CLASSES = ("MEDICARE", "MEDICAID", "COMMERCIAL", "SELF_PAY", "TRICARE")
RESPONSIBILITY = ("AFTER_INSURANCE_PATIENT_RESPONSIBLE", "NOT_RESPONSIBLE", "SELF_PAY")


def synthetic_candidates(n: int, *, as_of: dt.date = dt.date(2026, 11, 1)) -> Candidates:
    """N deterministic candidate lines, about three per group."""
    rows = []
    for i in range(n):
        age = 10 + (i * 37) % 900
        rows.append({
            "charge_id": f"C{i:07d}", "encounter_id": f"E{i // 2:07d}", "patient_id": f"P{i // 3:07d}",
            "guarantor_id": None, "group_key": f"P{i // 3:07d}",
            "date_of_service": as_of - dt.timedelta(days=age), "age_days": age,
            "procedure_code": f"99{210 + i % 5}", "provider_id": f"DR{i % 7}", "location_id": "L1",
            "payer_id": f"PAY{i % 5}", "financial_class": CLASSES[i % 5],
            "responsibility": RESPONSIBILITY[i % 3], "balance_type": "PATIENT",
            "balance": Decimal(i % 5000) / 100 + Decimal("0.01"),
        })
    lines = pl.DataFrame(rows).with_columns(pl.col("balance").alias("writeoff_amount"))
    lines = lines.select(list(LINE_SCHEMA)).cast(LINE_SCHEMA).sort("group_key", "charge_id")  # type: ignore[arg-type]
    crit = Criteria("PATIENT", "PATIENT", as_of=as_of)
    return Candidates(criteria=crit, as_of=as_of, generation=0, lines=lines, groups=group_lines(lines))


@dataclass(frozen=True)
class PdfTiming:
    """What :func:`measure_candidate_pdf` saw."""

    lines: int
    seconds_build: float
    seconds_pdf: float
    pages: int
    path: Path


def measure_candidate_pdf(candidates: Candidates, path: str | os.PathLike[str]) -> PdfTiming:
    """Time building a candidate report and writing it as PDF."""
    from pypdf import PdfReader

    t0 = time.perf_counter()
    report = report_candidates(candidates)
    t1 = time.perf_counter()
    out = report.to_pdf(path)
    t2 = time.perf_counter()
    pages = len(PdfReader(out).pages)
    return PdfTiming(candidates.line_count, t1 - t0, t2 - t1, pages, out)


def bench_candidate_pdf(n: int = 20_000, out: Path = Path("benchmarks/work/candidates.pdf")) -> PdfTiming:
    """Build an N-line candidate report and write its PDF; return the timing."""
    return measure_candidate_pdf(synthetic_candidates(n), out)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    t = bench_candidate_pdf(n)
    print(f"{t.lines} lines: report {t.seconds_build:.1f} s, PDF {t.seconds_pdf:.1f} s, "
          f"{t.pages} pages, {t.path}")
