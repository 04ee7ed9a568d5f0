"""Time every preset on both engines over a synthetic ``charge_balances`` of N charges.

    PYTHONPATH=src python benchmarks/bench_candidates.py --charges 1000000 --db /tmp/bench.duckdb

The table is built directly (random but seeded values of the derived-balances shape), so
the benchmark times the candidate search alone, as a preset re-run after a load does.
Prints the median seconds of ``--runs`` runs per preset and engine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path

import numpy as np
import polars as pl

from writeoff_analytics import find_candidates
from writeoff_analytics.criteria.presets import load_presets
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.money import PL_MONEY

PAYERS = pl.DataFrame({
    "payer_id": [f"P{i:02d}" for i in range(8)],
    "payer_name": [f"Payer {i}" for i in range(8)],
    "financial_class": ["MEDICARE", "MEDICAID", "COMMERCIAL", "COMMERCIAL", "TRICARE",
                        "MEDICARE_ADVANTAGE", "MEDICAID_MANAGED_CARE", "OTHER"],
    "balance_bill_patient": [True, False, True, True, True, True, False, True],
})


def synthetic_balances(n: int, seed: int = 7) -> pl.DataFrame:
    """A frame shaped like ``charge_balances`` with ``n`` charges."""
    rng = np.random.default_rng(seed)
    n_enc, n_pat = max(n * 2 // 5, 1), max(n // 10, 1)
    enc = rng.integers(0, n_enc, n)
    pat = enc % n_pat
    day0 = dt.date(2023, 1, 1)
    dos = pl.Series(rng.integers(0, 1400, n)).cast(pl.Int32)
    payer_ix = rng.integers(0, 10, n)  # 8, 9 -> self-pay
    billed = np.where(payer_ix < 8, payer_ix, -1)
    classes = PAYERS.get_column("financial_class").to_list()
    cents_ins = np.where(rng.random(n) < 0.15, rng.integers(-2000, 50000, n), 0)
    cents_pat = np.where(rng.random(n) < 0.6, rng.integers(-500, 30000, n), 0)
    cents_pat = np.where(rng.random(n) < 0.2, rng.integers(1, 1200, n), cents_pat)
    frame = pl.DataFrame({
        "charge_id": [f"C{i:08d}" for i in range(n)],
        "encounter_id": [f"E{i:08d}" for i in enc],
        "patient_id": [f"{i:07d}" for i in pat],
        "guarantor_id": [f"{(i // 2) * 2:07d}" if i % 3 == 0 else None for i in pat],
        "date_of_service": dos,
        "provider_id": [f"DR{i}" for i in rng.integers(0, 40, n)],
        "location_id": [f"L{i}" for i in rng.integers(0, 6, n)],
        "procedure_code": [("99213", "99214", "80053", "36415", "93000")[i]
                           for i in rng.integers(0, 5, n)],
        "units": pl.Series(np.ones(n, dtype=np.int32)),
        "charge_amount": pl.Series((rng.integers(1000, 60000, n)).astype(np.int64)),
        "billed_payer_id": [f"P{i:02d}" if i >= 0 else None for i in billed],
        "posted_date": dos,
        "insurance_balance": pl.Series(cents_ins.astype(np.int64)),
        "patient_balance": pl.Series(cents_pat.astype(np.int64)),
        "current_payer_id": [f"P{i:02d}" if i >= 0 else None for i in billed],
        "last_patient_payment_date": [None if r > 0.3 else day0 + dt.timedelta(int(d))
                                      for r, d in zip(rng.random(n), rng.integers(0, 1500, n),
                                                      strict=True)],
        "not_responsible": pl.Series(rng.random(n) < 0.1),
        "deceased_date": [dt.date(2025, 5, 1) if pat_i % 97 == 0 else None for pat_i in pat],
        "financial_hardship": pl.Series(pat % 53 == 0),
        "patient_financial_class": [classes[i] if i >= 0 else "SELF_PAY" for i in billed],
        "insurance_financial_class": [classes[i] if i >= 0 else "SELF_PAY" for i in billed],
        "current_payer_role": [int(r) if b >= 0 else None
                               for r, b in zip(rng.integers(1, 4, n), billed, strict=True)],
    }, strict=False)
    return frame.with_columns(
        (pl.lit(day0) + pl.duration(days=pl.col("date_of_service"))).cast(pl.Date).alias("date_of_service"),
        (pl.lit(day0) + pl.duration(days=pl.col("posted_date"))).cast(pl.Date).alias("posted_date"),
        (pl.col("charge_amount").cast(pl.Decimal(18, 0)) / 100).cast(PL_MONEY),
        (pl.col("insurance_balance").cast(pl.Decimal(18, 0)) / 100).cast(PL_MONEY),
        (pl.col("patient_balance").cast(pl.Decimal(18, 0)) / 100).cast(PL_MONEY),
        pl.col("current_payer_role").cast(pl.Int32),
    )


def build_store(path: Path, n: int) -> Ledger:
    """A store holding only ``payers`` and a synthetic ``charge_balances``."""
    path.unlink(missing_ok=True)
    ledger = Ledger(path)
    balances = synthetic_balances(n)  # noqa: F841 - read by DuckDB's replacement scan
    payers = PAYERS  # noqa: F841 - read by DuckDB's replacement scan
    with ledger.transaction() as con:
        con.execute("CREATE OR REPLACE TABLE payers AS SELECT * FROM payers").fetchall()
        con.execute(
            "CREATE OR REPLACE TABLE charge_balances AS SELECT * FROM balances ORDER BY charge_id"
        ).fetchall()
    return ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--charges", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/bench_candidates.duckdb"))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="keep an existing --db")
    args = parser.parse_args()
    t0 = time.perf_counter()
    ledger = Ledger(args.db) if args.reuse and args.db.exists() else build_store(args.db, args.charges)
    print(f"store ready in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    ledger.balances()
    print(f"balances cached (first Polars use) in {time.perf_counter() - t0:.2f} s")
    today = dt.date(2026, 11, 1)
    # Wall seconds, and this process's CPU seconds (all threads): on a shared machine the
    # second tells more about the code than the first.
    print(f"{'preset':20} {'engine':7} {'median s':>9} {'cpu s':>7} {'lines':>9} {'total':>16}")
    for name, preset in load_presets().items():
        for engine in ("duckdb", "polars"):
            times, cpu = [], []
            for _ in range(args.runs):
                t, c = time.perf_counter(), time.process_time()
                found = find_candidates(ledger, preset.criteria, engine=engine, today=today)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            print(f"{name:20} {engine:7} {statistics.median(times):9.3f} "
                  f"{statistics.median(cpu):7.3f} {found.line_count:9d} {found.total:16}")


if __name__ == "__main__":
    main()
