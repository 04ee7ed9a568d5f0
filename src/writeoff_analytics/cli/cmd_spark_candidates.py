"""``writeoff spark-candidates``: find a preset's candidates in every practice of a multi-practice extract, on Spark.

The Spark options (:func:`add_spark_options`) and the run (:func:`run_spark`) are kept apart
from the parser so that ``writeoff candidates --engine spark`` can take them as they are.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from writeoff_analytics.criteria.presets import criteria_from_preset
from writeoff_analytics.errors import LedgerError
from writeoff_analytics.spark.session import DEFAULT_MASTER, LOCAL_DRIVER_MEMORY, require_spark

if TYPE_CHECKING:
    from writeoff_analytics.criteria.model import Criteria


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``spark-candidates`` command."""
    p = sub.add_parser(
        "spark-candidates",
        help="find a preset's candidates in every practice of a multi-practice extract (Spark)",
        description="Read a multi-practice extract (practice=<id>/ folders) with Spark, "
        "derive the balances and list each practice's candidates for a preset "
        "(docs/SPARK.md). The same command runs on a cluster with --spark-master.",
    )
    p.add_argument("--preset", required=True, help="preset name (e.g. bad-debt)")
    p.add_argument("--presets", default=None, help="a user presets file (TOML) to add names from")
    p.add_argument(
        "--as-of", type=_iso_date, default=None, help="aging date, YYYY-MM-DD (default today)"
    )
    add_spark_options(p)
    p.set_defaults(handler=_run)


def add_spark_options(p: argparse.ArgumentParser) -> None:
    """Add ``--extract``, ``--spark-master``, ``--format`` and ``--practice``."""
    p.add_argument(
        "--extract",
        required=True,
        help="multi-practice extract: a folder or .zip (or hdfs://, s3a:// URI) of practice=<id>/ folders",
    )
    p.add_argument(
        "--spark-master",
        default=DEFAULT_MASTER,
        help=f"Spark master: local[N], spark://host:7077, yarn, k8s://... (default {DEFAULT_MASTER})",
    )
    add_driver_memory_option(p)
    p.add_argument(
        "--format",
        dest="extract_format",
        choices=["auto", "csv", "parquet"],
        default="auto",
        help="table format (auto: per file, local folders only)",
    )
    p.add_argument(
        "--practice",
        dest="practices",
        action="append",
        default=None,
        help="search only this practice (repeat for several; default all)",
    )


def add_driver_memory_option(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--spark-driver-memory`` (``spark.driver.memory``)."""
    p.add_argument(
        "--spark-driver-memory",
        default=None,
        metavar="SIZE",
        help=f"driver JVM heap, e.g. 4g (default on local[N]: {LOCAL_DRIVER_MEMORY}; "
        "on a cluster: its own setting)",
    )


def run_spark(args: argparse.Namespace, criteria: Criteria) -> int:
    """Run ``criteria`` on Spark over ``args.extract``; print one line per practice and a total."""
    require_spark()  # without the extra: one error naming it, not an ImportError
    from writeoff_analytics.engines.spark_practices import find_candidates_spark
    from writeoff_analytics.money import ZERO
    from writeoff_analytics.spark.read import is_zip, opened_extract, practice_folders
    from writeoff_analytics.spark.session import build_session

    if is_zip(args.extract) and not args.spark_master.startswith("local"):
        msg = (
            f"{args.extract}: a .zip is unpacked on this machine, which the executors of "
            f"{args.spark_master} cannot read; unpack it where they can and give that folder"
        )
        raise LedgerError(msg)
    # A zip is unpacked (and checked) before Spark starts, and removed when the search ends.
    with opened_extract(args.extract) as extract:
        if "://" not in extract:
            practice_folders(Path(extract))  # a wrong folder is refused before Spark starts
        spark = build_session(args.spark_master, driver_memory=args.spark_driver_memory)
        found = find_candidates_spark(
            spark, extract, criteria, practice_ids=args.practices, fmt=args.extract_format
        )
    print(criteria.describe())
    print(f"{'practice':<20} {'groups':>8} {'lines':>8} {'total':>16}")
    total = ZERO
    for practice, candidates in found.items():
        total += candidates.total
        print(
            f"{practice:<20} {candidates.group_count:>8} {candidates.line_count:>8} "
            f"{candidates.total:>16}"
        )
    lines = sum(c.line_count for c in found.values())
    print(f"{'all practices':<20} {'':>8} {lines:>8} {total:>16}")
    return 0


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        msg = f"{text!r} is not a date like 2026-11-01"
        raise argparse.ArgumentTypeError(msg) from None


def _run(args: argparse.Namespace) -> int:
    overrides = {"as_of": args.as_of} if args.as_of is not None else {}
    criteria = criteria_from_preset(args.preset, presets_file=args.presets, **overrides)
    return run_spark(args, criteria)
