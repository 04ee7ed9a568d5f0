"""`writeoff reverse`: reverse a receipt, or some of its lines, with a linked reversal receipt."""

from __future__ import annotations

import argparse

from writeoff_analytics.cli._access import (
    add_config_option,
    add_receipts_dir_option,
    add_user_option,
    config_of,
    receipts_dir_of,
    user_of,
)
from writeoff_analytics.cli._options import add_db_option, receipt_no
from writeoff_analytics.cli._progress import working
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.money import format_money
from writeoff_analytics.writeoffs.audit import AuditAction
from writeoff_analytics.writeoffs.history import reverse_receipt


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `reverse` command."""
    p = sub.add_parser(
        "reverse",
        help="reverse a write-off receipt (or some lines); prints the reversal receipt number last",
        description="Reverse a write-off receipt, or some of its lines, with a new linked "
        "reversal receipt; the balances come back and nothing is deleted.",
    )
    add_db_option(p)
    p.add_argument(
        "--receipt", required=True, type=receipt_no, metavar="N",
        help="the receipt to reverse: WO-000001 (or wo-000001, or 1)",
    )
    p.add_argument(
        "--charge-id", nargs="+", default=None, metavar="ID", help="reverse only these charges' lines"
    )
    p.add_argument("--reason", required=True, metavar="TEXT", help="why it is reversed")
    add_user_option(p)
    add_receipts_dir_option(p)
    add_config_option(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Reverse; the reversal receipt number is the last line printed."""
    user = user_of(args, AuditAction.REVERSE)
    config = config_of(args)
    ledger = Ledger.open_existing(args.db)
    ledger.require_loaded()
    with working(args, f"reversing {args.receipt}"):
        receipt = reverse_receipt(
            ledger,
            args.receipt,
            charge_ids=args.charge_id,
            reason=args.reason,
            user=user,
            receipts_dir=receipts_dir_of(args),
            config=config,
        )
    print(f"Reversed {receipt.line_count} line(s) of {args.receipt}: {format_money(receipt.total)} written back")
    print(f"Receipt files: {receipt.csv_path} {receipt.json_path}")
    print(receipt.receipt_no)
    return 0
