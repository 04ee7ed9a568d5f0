"""`writeoff quarantine`: list the charges held out of every candidate search, with why."""

from __future__ import annotations

import argparse
import json
import sys

from writeoff_analytics.cli._access import add_config_option, require_of
from writeoff_analytics.cli._options import add_db_option
from writeoff_analytics.errors import escaped
from writeoff_analytics.export.csv import csv_text
from writeoff_analytics.ledger.quarantine import QUARANTINE_COLUMNS, held_count, quarantined_charges
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.writeoffs.audit import AuditAction
from writeoff_analytics.writeoffs.permissions import Permission


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `quarantine` command."""
    p = sub.add_parser(
        "quarantine",
        help="list the charges held out of every candidate search, with why",
        description="List the quarantined charges: those with a rejected row of their own, of "
        "their encounter or of their transactions in the last load, or whose committed "
        "write-off no longer matches them or exceeds their balance. They stay out of every "
        "candidate search until a clean load. Reads the store only; it never creates one.",
    )
    add_db_option(p)
    p.add_argument(
        "--format", choices=("table", "csv", "json"), default="table",
        help="output format (default table)",
    )
    add_config_option(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the quarantined charges, one row per reason."""
    ledger = Ledger.open_existing(args.db)
    require_of(args, ledger, Permission.MASS_WRITE_OFF_HISTORY, "view write-off history", AuditAction.VIEW_HISTORY)
    held = quarantined_charges(ledger)
    columns = list(QUARANTINE_COLUMNS)
    if args.format == "json":
        json.dump(held.select(columns).to_dicts(), sys.stdout, indent=2)
        print()
        return 0
    if args.format == "csv":
        sys.stdout.write(csv_text(held.select(columns)))
        return 0
    if not held.height:
        print("No charge is quarantined.")
        return 0
    n = held_count(held)
    print(f"{n:,} charge(s) quarantined, held out of every candidate search until a clean load:")
    # ids reach the terminal escaped (a store loaded before ids were checked may hold controls)
    cells = [["" if v is None else escaped(str(v)) for v in row] for row in held.select(columns).rows()]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    # The reason is last and left unpadded: it is the long column.
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    return 0
