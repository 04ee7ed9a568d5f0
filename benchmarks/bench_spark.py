"""Time the Spark engine beside DuckDB at one size: derive balances, then one preset.

Usage (the lead runs 1M and 10M; keep it small on a shared machine)::

    PYTHONPATH=src python -m benchmarks.bench_spark 200000 --practices 10 --master local[2]

``run(transactions)`` returns the figures as a dict (no timing asserts anywhere). The
demo generator makes one extract of about ``transactions`` transactions; it is split into
``practices`` practices (families kept together) and written as a multi-practice extract
for Spark; DuckDB loads the same rows as one store.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from writeoff_analytics.demo import build_demo_frames, patients_for_transactions
from writeoff_analytics.ledger.schema import TABLES
from writeoff_analytics.ledger.snapshot import conform, replace_snapshot
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.spark.split import split_frames, write_practices

if TYPE_CHECKING:
    import polars as pl

PRESET = "bad-debt"


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return round(time.perf_counter() - start, 2), value


def _typed(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return {t.name: conform(t, frames[t.name]) for t in TABLES}


def _candidates_runner() -> tuple[Callable[..., Any], Callable[..., Any]] | None:
    """The DuckDB and Spark candidate functions, when the criteria engine is present."""
    try:
        from writeoff_analytics.candidates import find_candidates
        from writeoff_analytics.spark.engine import find_candidates_spark
    except ImportError:
        return None
    return find_candidates, find_candidates_spark


def run(
    transactions: int,
    *,
    practices: int = 10,
    master: str = "local[2]",
    fmt: str = "parquet",
    preset: str = PRESET,
    as_of: dt.date = dt.date(2026, 11, 1),
) -> dict[str, Any]:
    """Time DuckDB and Spark on a demo ledger of about ``transactions`` transactions.

    Returns
    -------
    dict
        Sizes and seconds: ``duckdb_load_derive``, ``duckdb_preset``, ``spark_session``,
        ``spark_derive`` (read + derive + count), ``spark_preset`` (read + derive + preset,
        collected), and the candidate counts and totals of both engines when available.
    """
    figures: dict[str, Any] = {"transactions_asked": transactions, "practices": practices,
                               "master": master, "format": fmt, "preset": preset}
    frames = _typed(build_demo_frames(patients=patients_for_transactions(transactions)))
    figures["transactions"] = frames["transactions"].height
    figures["charges"] = frames["charges"].height

    ledger = Ledger(":memory:")
    typed = frames
    figures["duckdb_load_derive"], _ = _timed(lambda: replace_snapshot(ledger, typed, source="bench"))
    runner = _candidates_runner()
    criteria = None
    if runner is not None:
        from writeoff_analytics.criteria.presets import criteria_from_preset

        criteria = criteria_from_preset(preset, as_of=as_of)
        figures["duckdb_preset"], found = _timed(lambda: runner[0](ledger, criteria))
        figures["duckdb_lines"], figures["duckdb_total"] = found.line_count, str(found.total)

    from writeoff_analytics.spark.engine import derive_balances
    from writeoff_analytics.spark.read import read_extract
    from writeoff_analytics.spark.session import build_session

    with tempfile.TemporaryDirectory(prefix="bench_spark_") as tmp:
        root = write_practices(split_frames(frames, practices), Path(tmp), fmt=fmt)
        figures["spark_session"], spark = _timed(lambda: build_session(master))
        figures["spark_derive"], rows = _timed(
            lambda: derive_balances(spark, read_extract(spark, root).tables).count()
        )
        figures["spark_balance_rows"] = rows
        if runner is not None and criteria is not None:
            crit = criteria
            figures["spark_preset"], by_practice = _timed(lambda: runner[1](spark, root, crit))
            figures["spark_lines"] = sum(c.line_count for c in by_practice.values())
            figures["spark_total"] = str(sum((c.total for c in by_practice.values()), start=0))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transactions", type=int)
    parser.add_argument("--practices", type=int, default=10)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--format", dest="fmt", choices=["csv", "parquet"], default="parquet")
    parser.add_argument("--preset", default=PRESET)
    args = parser.parse_args(argv)
    figures = run(args.transactions, practices=args.practices, master=args.master,
                  fmt=args.fmt, preset=args.preset)
    json.dump(figures, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
