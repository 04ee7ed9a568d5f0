"""``writeoff spark-candidates``: find a preset's candidates in every practice of a multi-practice extract, on Spark.

The Spark options and the run live in :mod:`._spark`, shared with ``writeoff candidates
--engine spark``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from writeoff_analytics.cli._options import iso_date
from writeoff_analytics.cli._spark import add_spark_options, run_spark
from writeoff_analytics.criteria.presets import criteria_from_preset

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``spark-candidates`` command."""
    p = sub.add_parser(
        "spark-candidates",
        help="find a preset's candidates in every practice of a multi-practice extract (Spark)",
        description="Read a multi-practice extract (practice=<id>/ folders) with Spark, "
        "derive the balances and list each practice's candidates for a preset "
        "(docs/SPARK.md). The same command runs on a cluster with --spark-master.",
    )
    p.add_argument("--preset", required=True, metavar="NAME", help="preset name (e.g. bad-debt)")
    p.add_argument(
        "--presets", default=None, metavar="FILE", help="a user presets file (TOML) to add names from"
    )
    p.add_argument(
        "--as-of", type=iso_date, default=None, metavar="DATE",
        help="aging date, YYYY-MM-DD (default today)",
    )
    add_spark_options(p, extract_required=True)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    overrides = {"as_of": args.as_of} if args.as_of is not None else {}
    criteria = criteria_from_preset(args.preset, presets_file=args.presets, **overrides)
    return run_spark(args, criteria)
