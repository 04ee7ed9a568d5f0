"""``writeoff demo-data``: write a synthetic demo ledger extract (:mod:`..demo`)."""

from __future__ import annotations

import argparse

from writeoff_analytics.cli._options import iso_date, output_folder
from writeoff_analytics.cli._progress import working
from writeoff_analytics.demo.generate import DEFAULT_END_DATE, FORMATS, generate_demo
from writeoff_analytics.errors import DemoError
from writeoff_analytics.money import format_money


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo-data`` command."""
    p = sub.add_parser(
        "demo-data",
        help="write a synthetic demo ledger extract",
        description="Write a seeded, synthetic ledger extract in the canonical format "
        "(same arguments, byte-identical files).",
    )
    p.add_argument(
        "--out", type=output_folder, required=True, metavar="DIR",
        help="folder to write the six tables into (must be empty or new, unless --force)",
    )
    p.add_argument(
        "--force", action="store_true", help="write into --out even if it holds files already"
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--patients", type=int, metavar="N", default=2000, help="number of patients (default 2000)"
    )
    size.add_argument(
        "--transactions",
        type=int,
        default=None,
        metavar="N",
        help="aim for about this many transactions instead (benchmarks)",
    )
    p.add_argument("--seed", type=int, default=7, metavar="N", help="random seed (default 7)")
    p.add_argument(
        "--format", choices=FORMATS, default="csv", dest="fmt",
        help="the format of the files written (default csv)",
    )
    p.add_argument(
        "--end-date",
        type=iso_date,
        default=DEFAULT_END_DATE,
        metavar="DATE",
        help=f"date of the extract, YYYY-MM-DD (default {DEFAULT_END_DATE.isoformat()})",
    )
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    if not args.force and args.out.is_dir() and any(args.out.iterdir()):
        msg = f"{args.out} is not empty; pass --force to write into it, or choose another --out"
        raise DemoError(msg)
    with working(args, f"writing a demo ledger to {args.out}"):
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
    print(f"  total charges {format_money(summary.total_charge_amount):>12}")
    return 0
