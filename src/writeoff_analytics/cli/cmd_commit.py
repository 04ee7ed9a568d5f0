"""`writeoff commit`: find candidates, build a batch and commit it as a receipt."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from writeoff_analytics.candidates import find_candidates
from writeoff_analytics.cli._access import (
    add_config_option,
    add_receipts_dir_option,
    add_user_option,
    config_of,
    receipts_dir_of,
    user_of,
)
from writeoff_analytics.cli._options import add_db_option, iso_date
from writeoff_analytics.cli._progress import working
from writeoff_analytics.criteria.files import read_criteria
from writeoff_analytics.criteria.presets import get_preset
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.money import format_money
from writeoff_analytics.reasons import Reason, parse_reason
from writeoff_analytics.writeoffs.audit import AuditAction
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.receipts import commit_batch

if TYPE_CHECKING:
    from writeoff_analytics.criteria.model import Criteria


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `commit` command."""
    p = sub.add_parser(
        "commit",
        help="write off what a preset or criteria file finds; prints the receipt number last",
        description=(
            "Find the candidates of a preset or criteria file, build a batch and commit it: the "
            "write-off lines go into the store and a receipt CSV + JSON are written, or nothing is. "
            "The receipt number is the last line printed."
        ),
    )
    add_db_option(p)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--preset", metavar="NAME", help="a preset name (shipped or from $WRITEOFF_PRESETS)"
    )
    what.add_argument(
        "--criteria", metavar="FILE",
        help="a criteria file (.toml or .json; fields at top level or under [criteria])",
    )
    p.add_argument(
        "--as-of", type=iso_date, metavar="DATE", help="aging date YYYY-MM-DD (default: today)"
    )
    p.add_argument(
        "--reason",
        required=True,
        metavar="REASON",
        help=f"reason code: {', '.join(r.value for r in Reason)}, or written like small-balance "
        "(CUSTOM needs --reason-text)",
    )
    p.add_argument(
        "--reason-text",
        metavar="TEXT",
        help="the custom reason's words; for FINANCIAL_HARDSHIP, the determination reference",
    )
    p.add_argument("--note", metavar="TEXT", help="a note kept in the receipt")
    p.add_argument(
        "--adjustment-code", metavar="CODE", help="the practice's adjustment code for the PM system"
    )
    add_user_option(p)
    p.add_argument("--approver", metavar="NAME", help="second approver (needed over the config's limit)")
    p.add_argument(
        "--exclude", nargs="+", default=[], metavar="GROUP_KEY", help="groups to leave out"
    )
    add_receipts_dir_option(p)
    add_config_option(p)
    p.set_defaults(handler=run)


def _criteria(args: argparse.Namespace) -> Criteria:
    if args.preset is not None:
        criteria = get_preset(args.preset).criteria
    else:
        criteria = read_criteria(args.criteria)
    if args.as_of is not None:
        criteria = criteria.replace(as_of=args.as_of)
    return criteria


def run(args: argparse.Namespace) -> int:
    """Commit one batch; the receipt number is the last line printed."""
    user = user_of(args, AuditAction.COMMIT)
    config = config_of(args)
    reason = parse_reason(args.reason)
    ledger = Ledger.open_existing(args.db)
    ledger.require_loaded()
    candidates = find_candidates(ledger, _criteria(args), config=config)
    hardship = reason is Reason.FINANCIAL_HARDSHIP
    batch = Batch.from_candidates(
        candidates,
        reason=reason,
        reason_text=None if hardship else args.reason_text,
        adjustment_code=args.adjustment_code,
        note=args.note,
        determination_reference=args.reason_text if hardship else None,
    )
    if args.exclude:
        batch = batch.exclude_groups(args.exclude)
    print(
        f"Batch: {batch.line_count} line(s) in {batch.group_count} group(s), "
        f"{format_money(batch.total)} of {batch.balance_type.value} balances, "
        f"reason {batch.reason.value} (as of {batch.as_of})"
    )
    with working(args, f"committing {batch.line_count:,} line(s)"):
        receipt = commit_batch(
            ledger,
            batch,
            user=user,
            approver=args.approver,
            receipts_dir=receipts_dir_of(args),
            config=config,
        )
    print(f"Receipt files: {receipt.csv_path} {receipt.json_path}")
    print(f"Written off {format_money(receipt.total)} in {receipt.line_count} line(s)")
    print(receipt.receipt_no)
    return 0
