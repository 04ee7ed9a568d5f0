"""`writeoff history`: list receipts by number or date range, or show one with its lines."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from writeoff_analytics.cli._access import (
    add_config_option,
    add_user_option,
    config_of,
    user_of,
)
from writeoff_analytics.cli._options import add_db_option, iso_date, receipt_no
from writeoff_analytics.export.csv import WRITEOFF_REASON, csv_text
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.money import format_money
from writeoff_analytics.writeoffs.audit import AuditAction
from writeoff_analytics.writeoffs.history import search_receipts, show_receipt

if TYPE_CHECKING:
    import polars as pl

_RECEIPT_COLUMNS = (
    "receipt_no", "created_at", "preparer", "approver", "reason_code", "line_count", "total_amount",
    "reversal_of", "files_state",
)
_LINE_COLUMNS = (
    "line_no", "transaction_id", "charge_id", "encounter_id", "group_key", "bucket", "amount",
    "balance_before", "posted_date", "reverses_transaction_id", "reversed_by",
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `history` command."""
    p = sub.add_parser(
        "history",
        help="list write-off receipts, or show one with its lines",
        description="List the write-off receipts of a date range, or show one receipt with "
        "its lines. Reads the store only; it never creates one.",
    )
    add_db_option(p)
    p.add_argument(
        "--receipt", type=receipt_no, metavar="N",
        help="show this receipt with its lines: WO-000001 (or wo-000001, or 1)",
    )
    p.add_argument(
        "--from", dest="date_from", type=iso_date, metavar="DATE", help="created on or after (YYYY-MM-DD)"
    )
    p.add_argument(
        "--to", dest="date_to", type=iso_date, metavar="DATE", help="created on or before (YYYY-MM-DD)"
    )
    p.add_argument(
        "--format", choices=("table", "csv", "json"), default="table",
        help="output format (default table; csv and json keep amounts as plain numbers)",
    )
    add_user_option(p)
    add_config_option(p)
    p.set_defaults(handler=run)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal | dt.date):
        return _text(value)
    return value


def _emit(frame: pl.DataFrame, columns: Sequence[str], fmt: str) -> None:
    rows = frame.select(list(columns)).rows()
    if fmt == "json":
        json.dump([{c: _json_value(v) for c, v in zip(columns, row, strict=True)} for row in rows],
                  sys.stdout, indent=2)
        print()
    elif fmt == "csv":
        # export/csv.py, the one CSV writer: in a CSV, reason_code is a CARC (LEDGER_FORMAT.md)
        picked = frame.select(list(columns)).rename({"reason_code": WRITEOFF_REASON}, strict=False)
        sys.stdout.write(csv_text(picked))
    else:
        cells = [[format_money(v) if isinstance(v, Decimal) else _text(v) for v in row] for row in rows]
        widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
        for r in cells:
            print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
        if not cells:
            print("(no receipts)")


def run(args: argparse.Namespace) -> int:
    """Print receipts, or one receipt and its lines."""
    user = user_of(args, AuditAction.VIEW_HISTORY)
    config = config_of(args, notice=False)  # reading history changes nothing: no notice
    ledger = Ledger.open_existing(args.db)
    if args.receipt is None:
        found = search_receipts(
            ledger, user=user, config=config, date_from=args.date_from, date_to=args.date_to
        )
        _emit(found, _RECEIPT_COLUMNS, args.format)
        return 0
    detail = show_receipt(ledger, args.receipt, user=user, config=config)
    if args.format == "json":
        body = {
            "receipt": {**detail.receipt.manifest(), "files_state": detail.receipt.files_state},
            "lines": [
                {c: _json_value(v) for c, v in row.items()}
                for row in detail.lines.select(list(_LINE_COLUMNS)).to_dicts()
            ],
        }
        json.dump(body, sys.stdout, indent=2)
        print()
        return 0
    if args.format == "table":
        r = detail.receipt
        print(f"Receipt {r.receipt_no}  created {_text(r.created_at)}  by {r.preparer}"
              f"  approver {r.approver or '-'}")
        print(f"Reason {r.reason_code}: {r.reason_text}")
        if r.reversal_of:
            print(f"Reversal of {r.reversal_of}")
        if detail.reversed_by:
            print(f"Reversed by {', '.join(detail.reversed_by)}")
        moved = "written back" if r.reversal_of else "written off"
        print(f"{r.line_count} line(s), {moved} {format_money(r.total)}, files {r.files_state}: {r.csv_path}")
    _emit(detail.lines, _LINE_COLUMNS, args.format)
    return 0
