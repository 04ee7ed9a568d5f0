"""`writeoff commit`: find candidates, build a batch and commit it as a receipt."""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path

from writeoff_analytics.candidates import find_candidates
from writeoff_analytics.cli import add_db_option
from writeoff_analytics.cli._access import (
    add_config_option,
    add_receipts_dir_option,
    add_user_option,
    config_of,
    iso_date,
    receipts_dir_of,
    user_of,
)
from writeoff_analytics.criteria.model import Criteria
from writeoff_analytics.criteria.presets import get_preset
from writeoff_analytics.errors import CriteriaError
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.reasons import Reason
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.receipts import commit_batch


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
    what.add_argument("--preset", help="a preset name (shipped or from $WRITEOFF_PRESETS)")
    what.add_argument("--criteria", type=Path, help="a criteria file (TOML or JSON, CRITERIA.md fields)")
    p.add_argument("--as-of", type=iso_date, help="aging date YYYY-MM-DD (default: today)")
    p.add_argument(
        "--reason",
        required=True,
        help=f"reason code: {', '.join(r.value for r in Reason)} (CUSTOM needs --reason-text)",
    )
    p.add_argument(
        "--reason-text",
        help="the custom reason's words; for FINANCIAL_HARDSHIP, the determination reference",
    )
    p.add_argument("--note", help="a note kept in the receipt")
    p.add_argument("--adjustment-code", help="the practice's adjustment code for the PM system")
    add_user_option(p)
    p.add_argument("--approver", help="second approver (needed over the config's limit)")
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
        path = Path(args.criteria)
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        except OSError as exc:
            msg = f"criteria file {path}: cannot be read ({exc.strerror})."
            raise CriteriaError(msg) from None
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            msg = f"criteria file {path}: not valid {path.suffix.lstrip('.').upper() or 'TOML'} ({exc})."
            raise CriteriaError(msg) from None
        if isinstance(data.get("criteria"), dict):
            data = data["criteria"]
        criteria = Criteria.from_dict(data)
    if args.as_of is not None:
        criteria = criteria.replace(as_of=args.as_of)
    return criteria


def run(args: argparse.Namespace) -> int:
    """Commit one batch; the receipt number is the last line printed."""
    user = user_of(args)
    config = config_of(args)
    ledger = Ledger(args.db)
    ledger.require_loaded()
    candidates = find_candidates(ledger, _criteria(args))
    reason = str(args.reason).strip().upper()
    hardship = reason == Reason.FINANCIAL_HARDSHIP.value
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
    print(f"Batch: {batch.describe()} (as of {batch.as_of})")
    receipt = commit_batch(
        ledger,
        batch,
        user=user,
        approver=args.approver,
        receipts_dir=receipts_dir_of(args),
        config=config,
    )
    print(f"Receipt files: {receipt.csv_path} {receipt.json_path}")
    print(f"Written off: {receipt.line_count} line(s), total {receipt.total}")
    print(receipt.receipt_no)
    return 0
