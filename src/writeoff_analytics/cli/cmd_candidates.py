"""``writeoff candidates``: list what a preset or a criteria file would write off.

    writeoff candidates --preset small-balance --as-of 2026-11-01
    writeoff candidates --criteria mine.toml --group --format csv --output groups.csv

``--criteria FILE`` holds :class:`~writeoff_analytics.criteria.model.Criteria` fields, read
by :func:`~writeoff_analytics.criteria.files.read_criteria_file` (TOML or JSON, at top level
or under ``[criteria]``).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl

from writeoff_analytics._atomic import atomic_write, atomic_write_bytes
from writeoff_analytics.candidates import find_candidates
from writeoff_analytics.cli._access import add_config_option, config_of
from writeoff_analytics.cli._options import add_db_option, iso_date, output_file
from writeoff_analytics.cli._spark import add_spark_options
from writeoff_analytics.criteria.files import read_criteria
from writeoff_analytics.criteria.presets import criteria_from_preset
from writeoff_analytics.engines import ENGINES
from writeoff_analytics.errors import CriteriaError
from writeoff_analytics.export.csv import csv_text
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.money import format_money

if TYPE_CHECKING:
    from writeoff_analytics.candidates import Candidates
    from writeoff_analytics.criteria.model import Criteria

FORMATS = ("table", "csv", "json", "parquet")
#: Rows the table format shows after its summary.
TABLE_ROWS = 20
#: The line columns the table format shows (csv, json and parquet carry them all).
TABLE_LINE_COLUMNS = (
    "charge_id", "group_key", "patient_id", "date_of_service", "age_days", "procedure_code",
    "payer_id", "financial_class", "responsibility", "balance",
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``candidates`` command."""
    p = sub.add_parser(
        "candidates",
        help="list the lines a preset or criteria file would write off",
        description="List the candidate lines (or groups) of a preset or a criteria file.",
    )
    add_db_option(p)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--preset", metavar="NAME", help="a shipped or user preset")
    which.add_argument(
        "--criteria", metavar="FILE",
        help="a criteria file (.toml or .json; fields at top level or under [criteria])",
    )
    p.add_argument("--presets", metavar="FILE", help="a user presets file")
    p.add_argument(
        "--as-of", type=iso_date, metavar="DATE", help="the aging date, YYYY-MM-DD (default today)"
    )
    p.add_argument(
        "--patient-id", nargs="+", action="extend", metavar="ID", help="only these patients"
    )
    p.add_argument(
        "--encounter-id", nargs="+", action="extend", metavar="ID", help="only these encounters"
    )
    p.add_argument(
        "--engine", choices=ENGINES, default="duckdb", help="the engine that searches (default duckdb)"
    )
    p.add_argument("--group", action="store_true", help="one row per write-off group")
    p.add_argument(
        "--format", choices=FORMATS, default=None,
        help=f"output format (default: the --output suffix .csv/.json/.parquet, else table, "
        f"which shows the first {TABLE_ROWS} rows)",
    )
    p.add_argument(
        "--output", type=output_file, metavar="PATH", help="write here (default stdout)"
    )
    spark = p.add_argument_group("Spark (--engine spark --extract DIR: a multi-practice extract)")
    add_spark_options(spark, extract_required=False)
    add_config_option(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Find the candidates and write them in the chosen format."""
    criteria = _criteria(args)
    if args.extract is not None:
        if args.engine != "spark":
            msg = "--extract reads a multi-practice extract on Spark; add --engine spark."
            raise CriteriaError(msg, field="engine")
        from writeoff_analytics.cli._spark import run_spark

        return run_spark(args, criteria)
    args.format = _output_format(args)
    if args.format == "parquet" and args.output is None:
        msg = "--format parquet needs --output PATH (it is a binary file)."
        raise CriteriaError(msg, field="format")
    found = find_candidates(
        Ledger.open_existing(args.db), criteria, engine=args.engine, config=config_of(args, notice=False)
    )
    frame = found.groups if args.group else found.lines
    if args.format == "parquet":
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        atomic_write_bytes(args.output, buffer.getvalue())
    else:
        text = {
            "table": _table,
            "csv": lambda f, c: csv_text(f),
            "json": _json,
        }[args.format](frame, found)
        if args.output is None:
            sys.stdout.write(text)
        else:
            with atomic_write(args.output, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
    if args.output is not None:
        what = "groups" if args.group else "lines"
        print(f"{frame.height} {what} written to {args.output}", file=sys.stderr)
    return 0


def _output_format(args: argparse.Namespace) -> str:
    """``--format``, else the ``--output`` suffix's format, else table; a mismatch is refused."""
    suffix = None if args.output is None else args.output.suffix.lower()
    by_suffix = {".csv": "csv", ".json": "json", ".parquet": "parquet"}.get(suffix or "")
    if args.format is None:
        return by_suffix or "table"
    if by_suffix is not None and by_suffix != args.format:
        msg = (
            f"--format {args.format} does not match --output {args.output} ({suffix}); "
            f"name the file for its format or drop --format"
        )
        raise CriteriaError(msg, field="format")
    return str(args.format)


def _criteria(args: argparse.Namespace) -> Criteria:
    overrides: dict[str, Any] = {}
    if args.as_of is not None:
        overrides["as_of"] = args.as_of
    if args.patient_id:
        overrides["patient_ids"] = args.patient_id
    if args.encounter_id:
        overrides["encounter_ids"] = args.encounter_id
    if args.preset is not None:
        return criteria_from_preset(args.preset, presets_file=args.presets, **overrides)
    return read_criteria(args.criteria, **overrides)


def _table(frame: pl.DataFrame, found: Candidates) -> str:
    lines = [
        f"Criteria: {found.criteria.describe()}",
        f"As of {found.as_of}: {found.line_count} lines in {found.group_count} groups, "
        f"total {format_money(found.total)}",
    ]
    if frame.is_empty():
        lines.append("No candidates.")
        return "\n".join(lines) + "\n"
    is_groups = frame is found.groups
    shown = min(frame.height, TABLE_ROWS)
    lines.append(f"First {shown} of {frame.height} {'groups' if is_groups else 'lines'}:")
    if not is_groups:
        frame = frame.select(TABLE_LINE_COLUMNS)
    with pl.Config(
        tbl_rows=TABLE_ROWS,
        tbl_cols=-1,
        tbl_width_chars=250,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_formatting="ASCII_MARKDOWN",
        fmt_str_lengths=60,
    ):
        lines.append(str(_money_as_text(frame.head(TABLE_ROWS))))
    if hidden := frame.height - shown:
        what = "groups" if is_groups else "lines"
        lines.append(
            f"{hidden:,} more {what} not shown; to get them all, use --format csv "
            "(or json, or parquet with --output FILE)."
        )
    return "\n".join(lines) + "\n"


def _money_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """The money columns as people read them ($1,086.30), for the table only."""
    money = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Decimal)]
    return frame.with_columns(
        pl.Series(name, [None if v is None else format_money(v) for v in frame.get_column(name)], pl.String)
        for name in money
    )


def _json(frame: pl.DataFrame, found: Candidates) -> str:
    rows = [{k: _jsonable(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]
    doc = {
        "criteria": found.criteria.to_dict(),
        "as_of": found.as_of.isoformat(),
        "generation": found.generation,
        "line_count": found.line_count,
        "group_count": found.group_count,
        "total": str(found.total),
        "groups" if frame is found.groups else "lines": rows,
    }
    return json.dumps(doc, indent=2) + "\n"


def _jsonable(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)  # money stays exact: "40.00"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
