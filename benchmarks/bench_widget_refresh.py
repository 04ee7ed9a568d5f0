"""Time the mass write-off screen's own code paths on a synthetic ledger (measure, never assert).

    PYTHONPATH=src python benchmarks/bench_widget_refresh.py --encounters 100000

Prints seconds for: a criterion change until the totals are refreshed (through the widget's
observer, as a click would), a tick, a page turn, "select none" and a sort, over all groups.
The ledger is self-pay: one encounter per patient, 1-3 charges each, no transactions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from writeoff_analytics.ledger.schema import TABLES
from writeoff_analytics.ledger.snapshot import polars_schema, replace_snapshot
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.money import PL_MONEY
from writeoff_analytics.widgets import MassWriteOff, _api


def synthetic_ledger(n: int, path: str) -> Ledger:
    ids = pl.int_range(0, n, eager=True)
    encounters = pl.DataFrame({"i": ids}).select(
        encounter_id=pl.lit("E") + pl.col("i").cast(pl.String).str.zfill(7),
        patient_id=pl.lit("P") + pl.col("i").cast(pl.String).str.zfill(7),
        date_of_service=pl.lit(dt.date(2024, 1, 1)) + pl.duration(days=pl.col("i") % 700),
    )
    charges = (
        encounters.select("encounter_id", "date_of_service")
        .with_columns(k=(pl.int_range(0, n) % 3) + 1)
        .with_columns(k=pl.int_ranges(0, "k")).explode("k")
        .with_columns(
            charge_id=pl.col("encounter_id") + "-" + pl.col("k").cast(pl.String),
            charge_amount=((pl.int_range(0, pl.len()) % 50_000) + 100).cast(PL_MONEY) / 100,
            posted_date=pl.col("date_of_service"),
            procedure_code=pl.lit("99213"),
        )
        .with_columns(pl.col("charge_amount").cast(PL_MONEY))
        .select("charge_id", "encounter_id", "procedure_code", "charge_amount", "posted_date")
    )
    empty = {t.name: pl.DataFrame(schema=polars_schema(t)) for t in TABLES}
    frames = {**empty, "patients": encounters.select("patient_id"), "encounters": encounters,
              "charges": charges}
    ledger = Ledger(path)
    replace_snapshot(ledger, frames, source="synthetic")
    return ledger


def _best(fn: object, repeat: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--encounters", type=int, default=100_000)
    parser.add_argument("--engine", default="duckdb", choices=["duckdb", "polars"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ledger = synthetic_ledger(args.encounters, str(Path(tmp) / "bench.duckdb"))
        print(f"ledger: {ledger.balances().height:,} charges, built in "
              f"{time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        screen = MassWriteOff(ledger, user="bench", receipts_dir=Path(tmp) / "r",
                              engine=args.engine)
        print(f"open screen: {time.perf_counter() - t0:.2f} s, {screen.selected_groups:,} groups, "
              f"{screen.selected_lines:,} lines, {screen.selected_total}")
        ages = iter(["30", "60", "90", "120", "150", "180"] * 2)
        criteria = screen.criteria
        report = {
            "search alone (find)": lambda: _api.find(ledger, criteria, engine=args.engine),
            "criterion change -> totals": lambda: screen.timed_change("min_age_days", next(ages)),
            "tick one group": lambda: screen.grid.toggle(screen.grid.rows.options[0][1]),
            "page turn": lambda: screen.grid.turn(1),
            "select none, then all": lambda: (screen.grid.select_none(),
                                              screen.grid.select_all()),
            "sort by balance, flip order": lambda: (
                setattr(screen.grid, "sort_by", "balance_total"),
                setattr(screen.grid, "descending", not screen.grid.descending)),
        }
        for name, fn in report.items():
            best, median = _best(fn)
            print(f"{name:28s} best {best * 1000:8.1f} ms   median {median * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
