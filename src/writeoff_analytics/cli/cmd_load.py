"""``writeoff load EXTRACT [--db PATH] [--rejects PATH] [--mapping PROFILE] [--preview]``.

Loads an extract into the store, prints row counts and control totals per table and a
rejects summary. Exit 0 when loaded (with rejected rows within the guard), 1 with a one-line
error on a fatal problem or a load the guard refuses (``--accept-rejected-share``,
``--accept-empty-tables`` lift it). ``--preview`` prints the first rows of each table as
read (no PHI) and the control totals, and loads nothing (``ledger/preview.py``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from writeoff_analytics.cli._access import add_config_option, config_of
from writeoff_analytics.cli._options import add_db_option, output_file
from writeoff_analytics.cli._progress import progress_bar
from writeoff_analytics.errors import LedgerError, escaped
from writeoff_analytics.ledger.controls import DEFAULT_MAX_REJECT_SHARE, LoadGuard, parse_share
from writeoff_analytics.ledger.load import REJECTS_FILE, load_extract
from writeoff_analytics.ledger.preview import preview_extract
from writeoff_analytics.ledger.schema import TABLES
from writeoff_analytics.ledger.store import Ledger

if TYPE_CHECKING:
    import argparse

#: How many problems are printed in full.
SHOWN_PROBLEMS = 5


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``load`` command."""
    p = sub.add_parser(
        "load",
        help="load a ledger extract (folder or .zip) into the store",
        description="Load a ledger extract (a folder or .zip of CSV, Parquet or .xlsx tables) "
        "into the store, replacing the previous snapshot in one transaction.",
    )
    p.add_argument("extract", type=Path, metavar="EXTRACT", help="the extract folder or .zip")
    add_db_option(p)
    p.add_argument(
        "--rejects",
        type=output_file,
        default=None,
        metavar="FILE",
        help=f"where to write the rejected rows (default {REJECTS_FILE} beside the store)",
    )
    p.add_argument(
        "--mapping", type=Path, default=None, metavar="FILE", help="a vendor mapping profile (TOML)"
    )
    p.add_argument(
        "--accept-rejected-share",
        metavar="PCT",
        default=None,
        help="load even when up to PCT%% of a table's rows are rejected (default 1%%); the "
        "charges whose rows were rejected keep the wrong balance until a clean load",
    )
    p.add_argument(
        "--accept-empty-tables",
        action="store_true",
        help="load even when a table ends with no rows (every row rejected, or an empty file "
        "replacing rows the store holds): its balances would be lost",
    )
    p.add_argument(
        "--preview",
        action="store_true",
        help="print the first rows of each table as read (ids, amounts, dates of service) and "
        "the control totals; load nothing (no store is created or changed)",
    )
    add_config_option(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the extract and print what was loaded and rejected."""
    guard = LoadGuard(
        max_reject_share=(
            parse_share(args.accept_rejected_share)
            if args.accept_rejected_share is not None
            else DEFAULT_MAX_REJECT_SHARE
        ),
        accept_empty_tables=args.accept_empty_tables,
    )
    if not args.extract.exists():
        msg = f"no extract at {args.extract}; give a folder or .zip of the ledger's tables"
        raise LedgerError(msg)
    if args.preview:
        for line in preview_extract(args.extract, mapping=args.mapping).lines():
            print(line)
        return 0
    ledger = Ledger(args.db)
    with progress_bar(args, f"loading {args.extract}") as report_progress:
        report = load_extract(
            ledger,
            args.extract,
            mapping=args.mapping,
            rejects=args.rejects,
            progress=report_progress,
            guard=guard,
            config=config_of(args, notice=False),
        )
    print(f"Loaded {args.extract} into {args.db} (import {report.import_id}).")
    width = max(len(t.name) for t in TABLES)
    rejected = {f.table: f.rejected for f in report.files}
    for table in TABLES:
        extra = f"  ({rejected[table.name]:,} rejected)" if rejected.get(table.name) else ""
        print(f"  {table.name:<{width}}  {report.row_counts[table.name]:>12,}{extra}")
    print("Control totals:")
    for control in report.controls:
        print(f"  {control.describe()}")
    if report.quarantined:  # issue 14: held out of every candidate search until a clean load
        print(f"{report.quarantined:,} charge(s) quarantined, held out of every candidate search "
              f"until a clean load; list them: writeoff quarantine --db {args.db}")
    if not report.problems:
        print("No rows rejected.")
        return 0
    target = args.rejects or (
        None if ledger.is_memory else Path(ledger.path).with_name(REJECTS_FILE)
    )
    where = f"; fix them in {target} and reload" if target is not None else ""
    print(f"{report.rejected_rows:,} row(s) rejected{where}:")
    counts = Counter((p.table, _reason_kind(p.reason)) for p in report.problems)
    for (name, reason), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {name}: {n:,} x {escaped(reason)}")
    print("First problems:")
    for p in report.problems[:SHOWN_PROBLEMS]:
        print(f"  {p}")  # escaped, and a PHI column's value withheld (RowProblem.__str__)
    return 0


def _reason_kind(reason: str) -> str:
    """Return the reason without the parts that name one row (ids, row numbers)."""
    kind = reason.split(";")[0]
    if " was rejected (" in reason:
        return f"{reason.split()[0]} refers to a rejected row"
    if " is not in " in reason:
        return f"{reason.split()[0]} refers to a missing row"
    if kind.startswith("has ") and "fields" in kind:
        return "wrong number of fields"
    return kind
