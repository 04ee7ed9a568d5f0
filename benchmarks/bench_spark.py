"""Time the Spark engine beside DuckDB at one size: derive balances, then one preset.

Usage (the lead runs 1M and 10M; keep it small on a shared machine)::

    PYTHONPATH=src python -m benchmarks.bench_spark 200000 --practices 10 --master local[2]

``run(transactions)`` returns the figures as a dict (no timing asserts anywhere). The
demo generator makes one extract of about ``transactions`` transactions; DuckDB loads it
as one file store, and it is split into ``practices`` practices (families kept together)
and written to disk as a multi-practice extract. Then every in-process frame and the
store are let go, and only then does Spark start and read the extract from disk: the
Python process and the JVM never hold the ten-million-row tables at the same time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from writeoff_analytics.demo import (
    build_demo_frames,
    patients_for_transactions,
    split_frames,
    write_practices,
)
from writeoff_analytics.ledger.schema import TABLES
from writeoff_analytics.ledger.snapshot import conform, replace_snapshot
from writeoff_analytics.ledger.store import Ledger

if TYPE_CHECKING:
    import polars as pl

PRESET = "bad-debt"
GB = 1024**3


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
        from writeoff_analytics.engines.spark_practices import find_candidates_spark
    except ImportError:
        return None
    return find_candidates, find_candidates_spark


def _peak_rss_self() -> int:
    """This process's peak resident memory since it started (``VmHWM``), in bytes.

    Not ``ru_maxrss``: that also counts the size of the process that forked this one.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux


def _peak_rss_children() -> int:
    """The largest peak resident memory (``VmHWM``) of this process's live children, in bytes.

    The JVM of a local Spark session is one of them; read before the session stops.
    """
    peak = 0
    me = str(os.getpid())
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[1] != me:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
        except (OSError, IndexError, ValueError):
            continue
    return peak


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(
    transactions: int,
    *,
    practices: int = 10,
    master: str = "local[2]",
    fmt: str = "parquet",
    preset: str = PRESET,
    as_of: dt.date = dt.date(2026, 11, 1),
    driver_memory: str | None = None,
) -> dict[str, Any]:
    """Time DuckDB and Spark on a demo ledger of about ``transactions`` transactions.

    Returns
    -------
    dict
        Sizes and seconds: ``duckdb_load_derive`` (frames into a file store, balances
        derived), ``duckdb_preset``, ``split_write`` (the multi-practice extract written),
        ``spark_session``, ``spark_derive`` (read + derive + count), ``spark_preset`` (read +
        derive + preset, collected into one ``Candidates`` per practice), the candidate
        counts and totals of both engines, the peak memory of Python before Spark
        (``python_peak_rss_before_spark``) and of the Spark JVM (``jvm_peak_rss``), and the
        load average at start and end.
    """
    from writeoff_analytics.spark.session import LOCAL_DRIVER_MEMORY

    figures: dict[str, Any] = {"transactions_asked": transactions, "practices": practices,
                               "master": master, "format": fmt, "preset": preset,
                               "driver_memory": driver_memory or (LOCAL_DRIVER_MEMORY if master.startswith("local") else None),
                               "load_start": _load()}
    runner = _candidates_runner()
    criteria = None
    if runner is not None:
        from writeoff_analytics.criteria.presets import criteria_from_preset

        criteria = criteria_from_preset(preset, as_of=as_of)
    with tempfile.TemporaryDirectory(prefix="bench_spark_") as tmp:
        root = Path(tmp) / "extract"
        _duckdb_and_extract(figures, transactions, practices, fmt, root, Path(tmp) / "bench.duckdb", criteria)
        # Let the frames go before the JVM starts (the store is a file, closed after each use).
        gc.collect()
        figures["python_peak_rss_before_spark"] = _peak_rss_self()
        try:
            _spark(figures, root, master, driver_memory, criteria, runner)
        except Exception as exc:  # keep DuckDB's figures; say why Spark stopped
            figures["error"] = error_text(exc)
    figures["load_end"] = _load()
    return figures


def error_text(exc: BaseException) -> str:
    """The first line of an error and, for a Java error, its last ``Caused by:`` line.

    A ``Py4JJavaError``'s first line names only the Java call (``o796.getResult``); the
    reason is in the Java stack trace's causes.
    """
    lines = [ln.strip() for ln in str(exc).splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("at ")]
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}"
    causes = [ln for ln in lines if ln.startswith("Caused by:")]
    return text + (f" | {causes[-1][:400]}" if causes else "")


def _duckdb_and_extract(
    figures: dict[str, Any], transactions: int, practices: int, fmt: str, root: Path, db: Path,
    criteria: Any,
) -> None:
    """Build the frames, load them into a DuckDB file store, run the preset, write the extract."""
    frames = _typed(build_demo_frames(patients=patients_for_transactions(transactions)))
    figures["transactions"] = frames["transactions"].height
    figures["charges"] = frames["charges"].height
    start = time.perf_counter()
    write_practices(split_frames(frames, practices), root, fmt=fmt)
    figures["split_write"] = round(time.perf_counter() - start, 2)
    ledger = Ledger(db)
    start = time.perf_counter()
    replace_snapshot(ledger, frames, source="bench")
    figures["duckdb_load_derive"] = round(time.perf_counter() - start, 2)
    del frames
    runner = _candidates_runner()
    if runner is not None and criteria is not None:
        figures["duckdb_preset"], found = _timed(lambda: runner[0](ledger, criteria))
        figures["duckdb_lines"], figures["duckdb_total"] = found.line_count, str(found.total)


def _spark(
    figures: dict[str, Any], root: Path, master: str, driver_memory: str | None, criteria: Any,
    runner: tuple[Callable[..., Any], Callable[..., Any]] | None,
) -> None:
    from writeoff_analytics.engines.spark_sql import derive_balances
    from writeoff_analytics.spark.read import read_extract
    from writeoff_analytics.spark.session import build_session

    figures["spark_session"], spark = _timed(lambda: build_session(master, driver_memory=driver_memory))
    try:
        figures["spark_derive"], rows = _timed(
            lambda: derive_balances(spark, read_extract(spark, root).tables).count()
        )
        figures["spark_balance_rows"] = rows
        if runner is not None and criteria is not None:
            crit = criteria
            figures["spark_preset"], by_practice = _timed(lambda: runner[1](spark, root, crit))
            figures["spark_lines"] = sum(c.line_count for c in by_practice.values())
            figures["spark_total"] = str(sum((c.total for c in by_practice.values()), start=0))
        figures["jvm_peak_rss"] = _peak_rss_children()
    finally:
        spark.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transactions", type=int)
    parser.add_argument("--practices", type=int, default=10)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default=None, help="spark.driver.memory (default: the engine's)")
    parser.add_argument("--format", dest="fmt", choices=["csv", "parquet"], default="parquet")
    parser.add_argument("--preset", default=PRESET)
    args = parser.parse_args(argv)
    figures = run(args.transactions, practices=args.practices, master=args.master,
                  fmt=args.fmt, preset=args.preset, driver_memory=args.driver_memory)
    json.dump(figures, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
