"""`writeoff import-835 FILE... [--db PATH]`: post X12 835 remittances onto the loaded ledger."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from writeoff_analytics.cli._options import add_db_option
from writeoff_analytics.cli._progress import working
from writeoff_analytics.errors import LedgerError
from writeoff_analytics.money import format_money

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `import-835` command."""
    p = sub.add_parser(
        "import-835",
        help="post X12 835 remittances (payments, adjustments, patient responsibility)",
        description=(
            "Read X12 835 files and post each claim payment onto the loaded ledger, matched to "
            "its charges. Prints, per file: claims, lines, matched claims, paid and adjustment "
            "totals (read and posted), PLB adjustments and every problem with its position."
        ),
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="835 files")
    p.add_argument(
        "--payer-id", default=None, metavar="ID", help="ledger payer of these remittances"
    )
    add_db_option(p)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from writeoff_analytics.ledger.store import Ledger
    from writeoff_analytics.sources.x12_835 import ERROR, import_835

    if missing := [str(f) for f in args.files if not f.is_file()]:
        msg = f"no 835 file at {', '.join(missing)}; nothing was imported"
        raise LedgerError(msg)
    ledger = Ledger.open_existing(args.db)
    with working(args, f"posting {len(args.files)} 835 file(s)"):
        report = import_835(ledger, args.files, payer_id=args.payer_id)
    status = 0
    for f in report.files:
        if f.refused is not None:
            print(f"{f.file}: refused: {f.refused}")
            status = 1
            continue
        errors = sum(1 for p in f.problems if p.severity == ERROR)
        print(
            f"{f.file}: claims {f.claims}, lines {f.lines}, matched {f.matched}, "
            f"paid {format_money(f.paid_total)} (posted {format_money(f.posted_paid_total)}), "
            f"adjustments {format_money(f.adjustments_total)} "
            f"(posted {format_money(f.posted_adjustments_total)}), "
            f"PLB {len(f.provider_adjustments)}, "
            f"problems {errors} errors / {len(f.problems) - errors} warnings"
        )
        for plb in f.provider_adjustments:
            print(
                f"  PLB {plb.position}: provider {plb.provider_id} {plb.reason} "
                f"{plb.reference or ''} {format_money(plb.amount)} (reported, not posted)"
            )
        for problem in f.problems:
            print(f"  {problem}")
    print(f"{report.transactions_added} transactions added to {args.db}")
    if status:
        refused = sum(1 for f in report.files if f.refused is not None)
        print(
            f"writeoff import-835: error: {refused} of {len(report.files)} file(s) refused "
            "(listed above); the others were posted",
            file=sys.stderr,
        )
    return status
