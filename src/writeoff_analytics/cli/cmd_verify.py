"""`writeoff verify`: check the audit chain, every receipt's files and lines against the store."""

from __future__ import annotations

import argparse
import sys

from writeoff_analytics.cli._access import add_config_option, require_of
from writeoff_analytics.cli._options import add_db_option
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.writeoffs.audit import AuditAction
from writeoff_analytics.writeoffs.permissions import Permission
from writeoff_analytics.writeoffs.verify import verify_store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `verify` command."""
    p = sub.add_parser(
        "verify",
        help="check the audit chain and every receipt's files and lines; exit 1 on any mismatch",
        description="Check the audit log's hash chain, every receipt's CSV and JSON (in the "
        "folders the store recorded) and every receipt's lines against the totals and hashes "
        "recorded at commit. Prints each problem on one line and exits 1 if there is any, "
        "else a summary line and 0. Reads only: a missing file is reported, not rebuilt.",
    )
    add_db_option(p)
    add_config_option(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print every problem (exit 1) or the summary (exit 0)."""
    ledger = Ledger.open_existing(args.db)
    require_of(args, ledger, Permission.MASS_WRITE_OFF_HISTORY, "view write-off history", AuditAction.VIEW_HISTORY)
    report = verify_store(ledger)
    for problem in report.problems:
        print(problem.message)
    if report.ok:
        print(report.summary())
        return 0
    print(f"writeoff verify: {report.summary()}", file=sys.stderr)
    return 1
