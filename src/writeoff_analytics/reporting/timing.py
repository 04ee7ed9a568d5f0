"""Timing the candidate PDF, for ``benchmarks/bench_report.py``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from writeoff_analytics.reporting.candidates import report_candidates

if TYPE_CHECKING:
    import os
    from pathlib import Path

    from writeoff_analytics.candidates import Candidates


@dataclass(frozen=True)
class PdfTiming:
    """What :func:`measure_candidate_pdf` saw."""

    lines: int
    seconds_build: float
    seconds_pdf: float
    pages: int
    path: Path


def measure_candidate_pdf(candidates: Candidates, path: str | os.PathLike[str]) -> PdfTiming:
    """Time building a candidate report and writing it as PDF (for ``benchmarks/``)."""
    t0 = time.perf_counter()
    report = report_candidates(candidates)
    t1 = time.perf_counter()
    out = report.to_pdf(path)
    t2 = time.perf_counter()
    from pypdf import PdfReader

    pages = len(PdfReader(out).pages)
    return PdfTiming(candidates.line_count, t1 - t0, t2 - t1, pages, out)
