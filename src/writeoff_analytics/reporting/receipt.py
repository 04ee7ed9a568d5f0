"""The receipt report: one committed receipt's header, control totals and lines.

The control totals check the store against the receipt's files (line count, total and the
CSV's SHA-256), so a changed or missing file shows as "NO" / "not checked".
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from writeoff_analytics import queries
from writeoff_analytics.errors import CriteriaError, HistoryError
from writeoff_analytics.money import PL_MONEY, ZERO, format_money
from writeoff_analytics.reporting.report import Report
from writeoff_analytics.reporting.sections import section, total_of

if TYPE_CHECKING:
    from writeoff_analytics.ledger.store import Ledger


def report_receipt(ledger: Ledger, receipt_no: str) -> Report:
    """Build the report of one committed receipt: header, control totals, the lines.

    Signs follow the store and the receipt CSV: a write-off's lines are negative, a
    reversal's positive; ``receipts.total_amount`` (the manifest's ``total``) is what the
    receipt moves, positive. :attr:`Report.total` is the signed sum of the lines, the sum of
    the receipt CSV's ``amount`` column.

    Parameters
    ----------
    ledger
        The store holding the receipt.
    receipt_no
        ``WO-000001`` and so on.

    Returns
    -------
    Report
        Sections ``control`` and ``lines`` (the main one). A reversal says which receipt
        it reverses; a reversed receipt says which receipts reversed it. The control totals
        check the line count, the total and the receipt CSV's SHA-256 against the file.

    Raises
    ------
    HistoryError
        If the store holds no receipt with that number.
    """
    with ledger.connect() as con:
        head = queries.frame(con, "select_report_receipt", receipt_no=receipt_no)
        lines = queries.frame(con, "select_report_receipt_lines", receipt_no=receipt_no)
    if head.is_empty():
        msg = f"receipt {receipt_no} is not in {ledger.path}; check the number (writeoff history)"
        raise HistoryError(msg)
    r = head.row(0, named=True)
    lines = lines.with_columns(pl.col("amount").cast(PL_MONEY))
    lines_total = total_of(lines, "amount")  # signed, as in the receipt CSV
    moved = Decimal(r["total_amount"]).quantize(ZERO)  # positive: what the receipt moves
    reversal = r["reversal_of"] is not None
    expected_total = moved if reversal else -moved
    kind = "Reversal" if reversal else "Write-off"
    csv_path = Path(r["files_dir"]) / f"{r['receipt_no']}.csv"
    facts: list[tuple[str, str]] = [
        ("Receipt", f"{r['receipt_no']} ({kind.lower()})"),
        ("Created", str(r["created_at"])[:19]),
        ("Preparer", r["preparer"]),
        ("Approver", r["approver"] or "(none)"),
        ("Reason", f"{r['reason_code']}: {r['reason_text']}"),
        ("Adjustment code", r["adjustment_code"] or "(none)"),
    ]
    if r["claim_status"]:
        facts.append(("Claim status", r["claim_status"]))
    if reversal:
        facts.append(("Reverses", _reverses_words(r, lines.height)))
    if r["reversed_by"]:
        facts.append(("Reversed by", r["reversed_by"]))
    if r["determination_reference"]:
        facts.append(("Determination reference", r["determination_reference"]))
    if r["note"]:
        facts.append(("Note", r["note"]))
    facts += [
        ("Criteria", _criteria_words(r["criteria_json"])),
        ("As of", str(r["as_of"])),
        ("Balance type", r["balance_type"]),
        ("Lines", f"{r['line_count']:,}"),
        ("Amount given back" if reversal else "Amount written off", format_money(moved)),
        ("Total", f"{format_money(lines_total)} (the sum of the lines: the signed change of the balances, "
                  "as in the receipt CSV)"),
        ("Receipt CSV", str(csv_path)),
        ("CSV SHA-256", r["csv_sha256"]),
    ]
    found_sha, sha_agrees = _file_sha256(csv_path, r["csv_sha256"])
    control = pl.DataFrame(
        {
            "check": ["Line count", "Total of the lines", "Receipt CSV SHA-256"],
            "recorded": [f"{r['line_count']:,}", format_money(expected_total), r["csv_sha256"]],
            "found": [f"{lines.height:,}", format_money(lines_total), found_sha],
            "agrees": [
                "yes" if r["line_count"] == lines.height else "NO",
                "yes" if expected_total == lines_total else "NO",
                sha_agrees,
            ],
        }
    )
    line_cols = [
        "line_no", "transaction_id", "charge_id", "encounter_id", "patient_id", "group_key",
        "date_of_service", "procedure_code", "bucket", "payer_id", "financial_class", "amount",
        "reverses_transaction_id" if reversal else "reversed_by",
    ]
    if lines.get_column("payer_id").null_count() == lines.height:
        line_cols.remove("payer_id")  # PATIENT lines name no payer (their class is the billed payer's)
    sections = (
        section("control", "Control totals", control),
        section("lines", "Lines", lines, money=("amount",), columns=line_cols,
                footer=f"Total of the {lines.height:,} lines: {format_money(lines_total)}"),
    )
    return Report(
        title=f"{kind} receipt {r['receipt_no']}", facts=tuple(facts), sections=sections,
        lines=lines, total=lines_total, main="lines", money=("amount",),
    )


def _reverses_words(r: dict[str, Any], lines: int) -> str:
    """``WO-000001 (DECEASED, created 2026-11-23 10:00:00; 3 of its 94 lines)``."""
    if r["original_reason_code"] is None:  # the reversed receipt is not in this store
        return str(r["reversal_of"])
    return (
        f"{r['reversal_of']} ({r['original_reason_code']}, created {str(r['original_created_at'])[:19]}; "
        f"{lines:,} of its {r['original_line_count']:,} lines)"
    )


def _file_sha256(path: Path, recorded: str) -> tuple[str, str]:
    """What the receipt CSV on disk hashes to, and whether it agrees with the store."""
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "file not found", "not checked"
    except OSError as exc:
        return f"file unreadable ({exc.strerror})", "not checked"
    return digest, "yes" if digest == recorded else "NO"


def _criteria_words(text: str | None) -> str:
    if not text:
        return "(none)"
    from writeoff_analytics.criteria.model import Criteria

    try:
        return Criteria.from_dict(json.loads(text)).describe()
    except (ValueError, TypeError, CriteriaError):
        return text

