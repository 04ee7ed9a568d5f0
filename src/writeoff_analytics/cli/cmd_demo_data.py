"""``writeoff demo-data``: write a synthetic demo ledger extract (:mod:`..demo`)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from writeoff_analytics.demo.generate import DEFAULT_END_DATE, FORMATS, generate_demo


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo-data`` command."""
    p = sub.add_parser(
        "demo-data",
        help="write a synthetic demo ledger extract",
        description="Write a seeded, synthetic ledger extract in the canonical format "
        "(same arguments, byte-identical files).",
    )
    p.add_argument("--out", type=Path, required=True, help="folder to write the six tables into")
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--patients", type=int, default=2000, help="number of patients (default 2000)"
    )
    size.add_argument(
        "--transactions",
        type=int,
        default=None,
        help="aim for about this many transactions instead (benchmarks)",
    )
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--format", choices=FORMATS, default="csv", dest="fmt", help="file format")
    p.add_argument(
        "--end-date",
        type=_iso_date,
        default=DEFAULT_END_DATE,
        help=f"date of the extract, YYYY-MM-DD (default {DEFAULT_END_DATE.isoformat()})",
    )
    p.set_defaults(handler=_run)


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        msg = f"{text!r} is not a date like 2026-11-01"
        raise argparse.ArgumentTypeError(msg) from None


def _run(args: argparse.Namespace) -> int:
    summary = generate_demo(
        args.out,
        patients=args.patients,
        seed=args.seed,
        end_date=args.end_date,
        fmt=args.fmt,
        transactions=args.transactions,
    )
    print(
        f"wrote a synthetic demo ledger to {summary.out_dir} ({summary.fmt}, seed {summary.seed}, "
        f"as of {summary.end_date.isoformat()})"
    )
    for table, rows in summary.row_counts.items():
        print(f"  {table:<13}{rows:>12,}")
    print(f"  total charges {summary.total_charge_amount:>12}")
    return 0
