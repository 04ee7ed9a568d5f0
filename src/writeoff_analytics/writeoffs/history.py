"""Receipt history: search receipts, show one with its lines, and reverse a receipt.

History is append-only: a reversal is a new receipt (``reversal_of`` links it) whose lines
are positive and name the lines they reverse; nothing is deleted, and balances come back.

Before a receipt is shown or reversed its files and lines are checked against the store
(``writeoffs/verify.py``, issue 16): a mismatch refuses naming the file, a missing file is
rebuilt and the rebuild audited; the listing shows ``MISMATCH`` (or ``MISSING``) instead of
``WRITTEN`` for a receipt that does not agree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from writeoff_analytics import queries
from writeoff_analytics.errors import HistoryError, PermissionDenied
from writeoff_analytics.money import PL_MONEY
from writeoff_analytics.writeoffs.audit import AuditAction, AuditOutcome, record_event
from writeoff_analytics.writeoffs.permissions import Permission
from writeoff_analytics.writeoffs.receipts import (
    WRITTEN,
    Receipt,
    ReceiptDraft,
    get_receipt,
    normalize_receipt_no,
    receipt_lines,
    record_receipt,
    repair_receipts,
)
from writeoff_analytics.writeoffs.verify import receipt_state, require_intact

if TYPE_CHECKING:
    from writeoff_analytics.ledger.store import Ledger
    from writeoff_analytics.writeoffs.permissions import Config

#: The reason code of every reversal receipt (its own words are in ``reason_text``).
REVERSAL_REASON = "REVERSAL"


@dataclass(frozen=True, eq=False)
class ReceiptDetail:
    """One receipt with its lines (``select_receipt_lines`` columns, ``reversed_by`` included)."""

    receipt: Receipt
    lines: pl.DataFrame

    @property
    def reversed_by(self) -> tuple[str, ...]:
        """The reversal receipts that reversed some of its lines."""
        col = self.lines.get_column("reversed_by").drop_nulls().unique().sort()
        return tuple(col.to_list())


def _require(ledger: Ledger, config: Config, user: str, permission: Permission, action: str, audit: AuditAction) -> None:
    try:
        config.require(user, permission, action)
    except PermissionDenied as exc:
        record_event(ledger, user=user, action=audit, outcome=AuditOutcome.REFUSED, detail=str(exc))
        raise


def search_receipts(
    ledger: Ledger,
    *,
    user: str,
    config: Config,
    receipt_no: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> pl.DataFrame:
    """Receipts by number and/or creation date range (inclusive), in number order.

    Columns: ``receipt_no created_at preparer approver balance_type reason_code reason_text
    line_count total_amount reversal_of files_state``; ``files_state`` is ``MISMATCH`` for a
    receipt whose files or lines do not agree with the store (``MISSING`` for a missing file
    that could not be rebuilt; one that could is rebuilt and audited).

    Raises
    ------
    PermissionDenied
        If ``user`` lacks ``mass_write_off_history``.
    HistoryError
        If ``receipt_no`` is given and unknown, or ``date_from`` is after ``date_to``.
    """
    if receipt_no is not None:
        receipt_no = normalize_receipt_no(receipt_no)
    _require(ledger, config, user, Permission.MASS_WRITE_OFF_HISTORY, "view write-off history", AuditAction.VIEW_HISTORY)
    if date_from is not None and date_to is not None and date_from > date_to:
        msg = f"date range refused: from {date_from} is after to {date_to}; swap them."
        raise HistoryError(msg)
    repair_receipts(ledger, user=user)
    with ledger.connect() as con:
        found = queries.frame(
            con, "select_receipts", receipt_no=receipt_no, date_from=date_from, date_to=date_to
        )
    if receipt_no is not None and found.is_empty():
        get_receipt(ledger, receipt_no)  # raises the unknown-receipt error
    states = [
        state if state != WRITTEN else receipt_state(ledger, number, user=user)
        for number, state in found.select("receipt_no", "files_state").rows()
    ]
    return found.with_columns(pl.Series("files_state", states, dtype=pl.String))


def show_receipt(ledger: Ledger, receipt_no: str, *, user: str, config: Config) -> ReceiptDetail:
    """One receipt with its lines.

    Raises
    ------
    PermissionDenied
        If ``user`` lacks ``mass_write_off_history``.
    HistoryError
        If the receipt is unknown.
    ReceiptMismatchError
        If its files or lines no longer match the store (a missing file is rebuilt instead).
    """
    receipt_no = normalize_receipt_no(receipt_no)
    _require(ledger, config, user, Permission.MASS_WRITE_OFF_HISTORY, "view write-off history", AuditAction.VIEW_HISTORY)
    repair_receipts(ledger, user=user)
    receipt = require_intact(ledger, receipt_no, user=user)
    return ReceiptDetail(receipt=receipt, lines=receipt_lines(ledger, receipt_no))


def reverse_receipt(
    ledger: Ledger,
    receipt_no: str,
    *,
    charge_ids: Sequence[str] | None = None,
    reason: str,
    user: str,
    receipts_dir: str | os.PathLike[str],
    config: Config,
) -> Receipt:
    """Reverse a whole receipt, or some of its lines, with a new linked reversal receipt.

    The reversal's lines are positive (they give the written-off amounts back) and name the
    lines they reverse; balances come back; nothing is deleted.

    Parameters
    ----------
    ledger
        The store.
    receipt_no
        The write-off receipt to reverse (``WO-000001``, ``wo-000001`` or ``1``).
    charge_ids
        Reverse only these charges' lines; ``None`` reverses every line not reversed yet.
    reason
        Why (kept in the reversal receipt).
    user
        Who reverses (needs ``reverse_write_off``).
    receipts_dir
        Where the reversal receipt's files go.
    config
        Permissions and export profile.

    Raises
    ------
    PermissionDenied
        If ``user`` lacks ``reverse_write_off``.
    HistoryError
        If the receipt is unknown or is itself a reversal, a charge is not on it, a line
        was reversed already, or the reason is empty. Refusals are audited.
    ReceiptMismatchError
        If the receipt's files or lines no longer match the store (nothing is reversed).
    """
    receipt_no = normalize_receipt_no(receipt_no)
    _require(ledger, config, user, Permission.REVERSE_WRITE_OFF, "reverse write-offs", AuditAction.REVERSE)
    try:
        with ledger.connect() as con:
            repair_receipts(ledger, user=user)
            text = (reason or "").strip()
            if not text:
                msg = f"reversal of {receipt_no} refused: give a reason (--reason TEXT)."
                raise HistoryError(msg)
            original = get_receipt(ledger, receipt_no)
            if original.reversal_of is not None:
                msg = (
                    f"{receipt_no} is itself a reversal (of {original.reversal_of}); a reversal "
                    "cannot be reversed: commit a new batch instead."
                )
                raise HistoryError(msg)
            require_intact(ledger, receipt_no, user=user)  # issue 16: refuse a receipt that was changed
            lines = receipt_lines(ledger, receipt_no)
            chosen = _choose_lines(receipt_no, lines, charge_ids)
            ids = chosen.get_column("charge_id").to_list()
            current = {
                row[0]: {"PATIENT": row[1], "INSURANCE": row[2]}
                for row in queries.run(con, "select_line_balances", charge_ids=ids)
            }
            if missing := sorted(set(ids) - set(current)):
                msg = (
                    f"charge(s) {', '.join(missing)} of {receipt_no} are not in the loaded extract; "
                    "load an extract holding them, then reverse."
                )
                raise HistoryError(msg)
            balance_before = [
                current[row["charge_id"]][row["bucket"]] for row in chosen.iter_rows(named=True)
            ]
            draft_lines = chosen.select(
                "charge_id",
                "encounter_id",
                "patient_id",
                "group_key",
                "bucket",
                "payer_id",
                (-pl.col("amount")).cast(PL_MONEY).alias("amount"),
                pl.Series("balance_before", balance_before, dtype=PL_MONEY),
                pl.col("transaction_id").alias("reverses_transaction_id"),
            )
            tx_ids = sorted(chosen.get_column("transaction_id").to_list())
            key = hashlib.sha256(
                "\0".join([REVERSAL_REASON, receipt_no, *tx_ids]).encode()
            ).hexdigest()
            draft = ReceiptDraft(
                batch_key=key,
                preparer=user,
                approver=None,
                balance_type=original.balance_type,
                reason_code=REVERSAL_REASON,
                reason_text=text,
                adjustment_code=original.adjustment_code,
                claim_status=None,
                note=None,
                determination_reference=None,
                criteria=original.criteria,
                as_of=original.as_of,
                reversal_of=receipt_no,
            )
            return record_receipt(
                ledger, draft, draft_lines, receipts_dir=receipts_dir, profile=config.export_profile
            )
    except HistoryError as exc:
        record_event(
            ledger,
            user=user,
            action=AuditAction.REVERSE,
            outcome=AuditOutcome.REFUSED,
            receipt_no=receipt_no,
            detail=str(exc),
        )
        raise


def _choose_lines(receipt_no: str, lines: pl.DataFrame, charge_ids: Sequence[str] | None) -> pl.DataFrame:
    open_lines = lines.filter(pl.col("reversed_by").is_null())
    if charge_ids is None:
        if open_lines.is_empty():
            msg = f"every line of {receipt_no} is reversed already; nothing to reverse."
            raise HistoryError(msg)
        return open_lines
    wanted = list(dict.fromkeys(charge_ids))
    on_receipt = set(lines.get_column("charge_id").to_list())
    if unknown := sorted(set(wanted) - on_receipt):
        msg = f"charge(s) {', '.join(unknown)} are not on receipt {receipt_no}; nothing was reversed."
        raise HistoryError(msg)
    done = sorted(set(wanted) - set(open_lines.get_column("charge_id").to_list()))
    if done:
        msg = f"charge(s) {', '.join(done)} of receipt {receipt_no} are reversed already; nothing was reversed."
        raise HistoryError(msg)
    return open_lines.filter(pl.col("charge_id").is_in(wanted))
