"""The Spark options and run that ``candidates --engine spark`` and ``spark-candidates`` share.

Kept apart from both commands' parsers so that no command imports another.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from writeoff_analytics.cli._progress import working
from writeoff_analytics.errors import LedgerError
from writeoff_analytics.spark.session import DEFAULT_MASTER, LOCAL_DRIVER_MEMORY, require_spark

if TYPE_CHECKING:
    from writeoff_analytics.criteria.model import Criteria

#: The table formats ``--input-format`` reads (``auto``: by each file's suffix).
INPUT_FORMATS = ("auto", "csv", "parquet")


def add_spark_options(
    p: argparse.ArgumentParser | argparse._ArgumentGroup, *, extract_required: bool
) -> None:
    """Add ``--extract``, ``--spark-master``, ``--spark-driver-memory``, ``--input-format``, ``--practice``."""
    p.add_argument(
        "--extract",
        required=extract_required,
        metavar="DIR",
        help="multi-practice extract: a folder or .zip (or hdfs://, s3a:// URI) of practice=<id>/ folders",
    )
    p.add_argument(
        "--spark-master",
        default=DEFAULT_MASTER,
        metavar="URL",
        help=f"Spark master: local[N], spark://host:7077, yarn, k8s://... (default {DEFAULT_MASTER})",
    )
    p.add_argument(
        "--spark-driver-memory",
        default=None,
        metavar="SIZE",
        help=f"driver JVM heap, e.g. 4g (default on local[N]: {LOCAL_DRIVER_MEMORY}; "
        "on a cluster: its own setting)",
    )
    p.add_argument(
        "--input-format",
        dest="extract_format",
        choices=INPUT_FORMATS,
        default="auto",
        help="the extract's table format (auto: by each file's suffix, local folders only)",
    )
    p.add_argument(
        "--practice",
        dest="practices",
        action="append",
        default=None,
        metavar="ID",
        help="search only this practice (repeat for several; default all)",
    )


def run_spark(args: argparse.Namespace, criteria: Criteria) -> int:
    """Run ``criteria`` on Spark over ``args.extract``; print one line per practice and a total."""
    require_spark()  # without the extra: one error naming it, not an ImportError
    from writeoff_analytics.engines.spark_practices import find_candidates_spark
    from writeoff_analytics.money import ZERO, format_money
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
        with working(args, f"searching {args.extract} on Spark ({args.spark_master})"):
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
            f"{format_money(candidates.total):>16}"
        )
    lines = sum(c.line_count for c in found.values())
    print(f"{'all practices':<20} {'':>8} {lines:>8} {format_money(total):>16}")
    return 0
