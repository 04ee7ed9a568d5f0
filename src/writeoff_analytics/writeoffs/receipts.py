"""Committing a batch: receipt numbers, the store's write-off lines and the receipt files.

Crash protocol (a commit either happens whole or not at all, and is never done twice):

1. Under the store's exclusive lock, every line is re-checked against the *current* balance;
   a line whose balance changed since the batch was built refuses the whole batch.
2. One transaction records the write-off lines, nets them into ``charge_balances``, records
   the receipt with ``files_state = 'PENDING'`` (and the CSV's SHA-256, the folder and the
   export profile, so the files can be rebuilt byte for byte) and appends the audit event.
3. The CSV, then the JSON manifest, are written to temporary names and renamed into place.
4. The receipt is marked ``WRITTEN``.

A crash before step 2 commits leaves nothing; after it, the receipt is in the store and
:func:`repair_receipts` (run by every later commit, reversal and history view) rewrites its
files from the store. Committing the same batch again returns the same receipt; re-running
the commit after such a crash (its search now finds nothing, the lines being written off)
finishes the interrupted receipt and returns it. The receipts folder is checked writable
before step 2, and a folder that became unwritable later holds back only its own receipts.

Tamper evidence (issue 16): step 2 also records the manifest's SHA-256 and the SHA-256 of
the lines (:func:`lines_sha256`) beside their count and total; ``writeoffs/verify.py``
compares files and lines with them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from writeoff_analytics import queries
from writeoff_analytics._atomic import atomic_write
from writeoff_analytics._faults import CRASH_ENV as CRASH_ENV  # re-exported: the crash tests' name
from writeoff_analytics._faults import crash_point
from writeoff_analytics.errors import (
    BatchError,
    HistoryError,
    LedgerError,
    PermissionDenied,
    ReceiptsFolderError,
)
from writeoff_analytics.export.profile import ExportProfile, profile_from_dict
from writeoff_analytics.money import CENT, PL_MONEY
from writeoff_analytics.writeoffs.audit import AuditAction, AuditOutcome, record_event
from writeoff_analytics.writeoffs.permissions import current_user
from writeoff_analytics.writeoffs.receipt_csv import render_receipt_csv

if TYPE_CHECKING:
    from writeoff_analytics.ledger.store import Ledger
    from writeoff_analytics.writeoffs.batches import Batch
    from writeoff_analytics.writeoffs.permissions import Config

RECEIPT_PREFIX = "WO-"
#: The steps of a commit a crash test can kill it at (``$WRITEOFF_TEST_CRASH_AT``, :data:`CRASH_ENV`).
CRASH_STEPS = ("before_commit", "before_files", "during_csv", "between_files", "during_json", "after_files")
PENDING = "PENDING"
WRITTEN = "WRITTEN"

#: The lines :func:`record_receipt` takes: the signed change of one bucket of one charge.
DRAFT_LINE_SCHEMA: dict[str, pl.DataType] = {
    "charge_id": pl.String(),
    "encounter_id": pl.String(),
    "patient_id": pl.String(),
    "group_key": pl.String(),
    "bucket": pl.String(),
    "payer_id": pl.String(),
    "amount": PL_MONEY,
    "balance_before": PL_MONEY,
    "reverses_transaction_id": pl.String(),
}

_TEXT_FIELDS = (
    "reason_code",
    "reason_text",
    "adjustment_code",
    "claim_status",
    "note",
    "determination_reference",
    "reversal_of",
)


@dataclass(frozen=True)
class Receipt:
    """A committed write-off or reversal, as recorded in the store.

    ``total`` is what the receipt moves (a positive amount); its lines are negative for a
    write-off and positive for a reversal. ``files_state`` is ``WRITTEN`` once both files
    are in place.
    """

    receipt_no: str
    batch_key: str
    created_at: dt.datetime
    preparer: str
    approver: str | None
    balance_type: str
    reason_code: str
    reason_text: str
    adjustment_code: str | None
    claim_status: str | None
    note: str | None
    determination_reference: str | None
    criteria: Mapping[str, Any] = field(repr=False)
    as_of: dt.date
    ledger_fingerprint: str
    line_count: int
    total: Decimal
    csv_sha256: str
    reversal_of: str | None
    files_state: str
    files_dir: Path
    export_profile: ExportProfile = field(repr=False)
    #: The manifest's SHA-256 and the lines' (:func:`lines_sha256`); None on receipts made before issue 16.
    json_sha256: str | None = None
    lines_sha256: str | None = None

    @property
    def csv_path(self) -> Path:
        """The receipt CSV (transactions layout, or the export profile's)."""
        return self.files_dir / f"{self.receipt_no}.csv"

    @property
    def json_path(self) -> Path:
        """The receipt manifest."""
        return self.files_dir / f"{self.receipt_no}.json"

    def manifest(self) -> dict[str, Any]:
        """The JSON manifest written beside the CSV."""
        return {
            "receipt_no": self.receipt_no,
            "batch_key": self.batch_key,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "preparer": self.preparer,
            "approver": self.approver,
            "balance_type": self.balance_type,
            "reason": {"code": self.reason_code, "text": self.reason_text},
            "adjustment_code": self.adjustment_code,
            "claim_status": self.claim_status,
            "note": self.note,
            "determination_reference": self.determination_reference,
            "criteria": dict(self.criteria),
            "as_of": self.as_of.isoformat(),
            "ledger_fingerprint": self.ledger_fingerprint,
            "line_count": self.line_count,
            "total": str(self.total),
            "csv_file": self.csv_path.name,
            "csv_sha256": self.csv_sha256,
            "export_profile": self.export_profile.name,
            "reversal_of": self.reversal_of,
        }

    @classmethod
    def _from_row(cls, row: Mapping[str, Any]) -> Receipt:
        return cls(
            receipt_no=row["receipt_no"],
            batch_key=row["batch_key"],
            created_at=row["created_at"],
            preparer=row["preparer"],
            approver=row["approver"],
            balance_type=row["balance_type"],
            reason_code=row["reason_code"],
            reason_text=row["reason_text"],
            adjustment_code=row["adjustment_code"],
            claim_status=row["claim_status"],
            note=row["note"],
            determination_reference=row["determination_reference"],
            criteria=json.loads(row["criteria_json"]),
            as_of=row["as_of"],
            ledger_fingerprint=row["ledger_fingerprint"],
            line_count=int(row["line_count"]),
            total=Decimal(row["total_amount"]).quantize(CENT),
            csv_sha256=row["csv_sha256"],
            reversal_of=row["reversal_of"],
            files_state=row["files_state"],
            files_dir=Path(row["files_dir"]),
            export_profile=profile_from_dict(
                json.loads(row["export_profile_json"]), source="stored export profile"
            ),
            json_sha256=row.get("json_sha256"),
            lines_sha256=row.get("lines_sha256"),
        )

    def manifest_bytes(self) -> bytes:
        """The JSON manifest file's bytes, exactly as written."""
        return (json.dumps(self.manifest(), indent=2) + "\n").encode("utf-8")


@dataclass(frozen=True)
class ReceiptDraft:
    """What a receipt records besides its lines (built by :func:`commit_batch` and reversals)."""

    batch_key: str
    preparer: str
    approver: str | None
    balance_type: str
    reason_code: str
    reason_text: str
    adjustment_code: str | None
    claim_status: str | None
    note: str | None
    determination_reference: str | None
    criteria: Mapping[str, Any]
    as_of: dt.date
    reversal_of: str | None = None


def receipt_number(seq: int) -> str:
    """The receipt number of sequence number ``seq``.

    Examples
    --------
    >>> receipt_number(7)
    'WO-000007'
    """
    return f"{RECEIPT_PREFIX}{seq:06d}"


_RECEIPT_NO = re.compile(r"(?:WO-?)?0*([1-9][0-9]{0,8})", re.IGNORECASE)  # ASCII digits only


def normalize_receipt_no(text: str | int) -> str:
    """The receipt number people mean: ``WO-000001``, ``wo-000001`` and ``1`` are all WO-000001.

    Every command and every function taking a receipt number reads it through here.

    Raises
    ------
    HistoryError
        If the text is not a receipt number.

    Examples
    --------
    >>> [normalize_receipt_no(t) for t in ("WO-000001", "wo-000001", "1", " 12 ")]
    ['WO-000001', 'WO-000001', 'WO-000001', 'WO-000012']
    """
    match = _RECEIPT_NO.fullmatch(str(text).strip())
    if match is None:
        msg = f"{str(text)!r} is not a receipt number; write WO-000001 (or 1)."
        raise HistoryError(msg)
    return receipt_number(int(match.group(1)))


def get_receipt(ledger: Ledger, receipt_no: str) -> Receipt:
    """Return the receipt ``receipt_no`` (``WO-000001``, ``wo-000001`` or ``1``) as the store records it.

    Raises
    ------
    HistoryError
        If the text is not a receipt number, or there is no such receipt.
    """
    receipt_no = normalize_receipt_no(receipt_no)
    with ledger.connect() as con:
        rows = queries.frame(con, "select_receipt", receipt_no=receipt_no).to_dicts()
    if not rows:
        msg = f"unknown receipt {receipt_no!r}: no receipt with that number in {ledger.path}."
        raise HistoryError(msg)
    return Receipt._from_row(rows[0])


def receipt_lines(ledger: Ledger, receipt_no: str) -> pl.DataFrame:
    """The lines of one receipt, in line order, with ``reversed_by`` (the reversing receipt)."""
    with ledger.connect() as con:
        return queries.frame(con, "select_receipt_lines", receipt_no=normalize_receipt_no(receipt_no))


def commit_batch(
    ledger: Ledger,
    batch: Batch,
    *,
    user: str,
    approver: str | None = None,
    receipts_dir: str | os.PathLike[str],
    config: Config,
) -> Receipt:
    """Write a batch off: store lines, net balances, write the receipt files; all or nothing.

    Parameters
    ----------
    ledger
        The store the batch's candidates came from.
    batch
        The lines and amounts to write off.
    user
        Who commits (needs ``mass_write_off``).
    approver
        A different user holding ``approve_write_off``; required when the total is over the
        config's ``second_approver_over``.
    receipts_dir
        Where ``<receipt>.csv`` and ``<receipt>.json`` go.
    config
        Permissions, approval limit and export profile.

    Returns
    -------
    Receipt
        The new receipt, or the one this same batch was committed as before.

    Raises
    ------
    PermissionDenied
        If ``user`` or ``approver`` lacks a permission, or a second approver is missing.
    BatchError
        If the batch is empty, or any line's balance changed since the batch was built
        (``charge_ids`` names them); nothing is written then but the audit event.
    """
    ledger.require_loaded()
    key = batch.batch_key
    try:
        if batch.line_count == 0:
            config.require_commit(user, approver, batch.total)  # a retry needs the same permission
            finished = _finish_interrupted(ledger, batch, user)
            if finished is not None:
                return finished
            msg = "the batch holds no lines: nothing to write off (select lines or change the criteria)."
            raise BatchError(msg)
        config.require_commit(user, approver, batch.total)
    except (BatchError, PermissionDenied) as exc:
        record_event(ledger, user=user, action=AuditAction.COMMIT, outcome=AuditOutcome.REFUSED, detail=str(exc))
        raise
    with ledger.connect() as con:
        repair_receipts(ledger, user=user)
        existing = queries.run(con, "select_receipt_by_batch_key", batch_key=key)
        if existing:
            receipt_no = str(existing[0][0])
            record_event(
                ledger,
                user=user,
                action=AuditAction.COMMIT,
                outcome=AuditOutcome.REPEATED,
                receipt_no=receipt_no,
                detail="the same batch was committed again; its receipt is returned",
            )
            return get_receipt(ledger, receipt_no)
        lines = batch.lines
        stale = _stale_lines(con, lines)
        if stale:
            shown = ", ".join(stale[:20]) + (f" and {len(stale) - 20} more" if len(stale) > 20 else "")
            msg = (
                f"batch refused: the balance of {len(stale)} line(s) changed since the batch was "
                f"built (charge {shown}); search again and rebuild the batch. Nothing was written off."
            )
            record_event(ledger, user=user, action=AuditAction.COMMIT, outcome=AuditOutcome.REFUSED, detail=msg)
            raise BatchError(msg, charge_ids=stale)
        draft = ReceiptDraft(
            batch_key=key,
            preparer=user,
            approver=approver,
            balance_type=batch.balance_type.value,
            reason_code=batch.reason.value,
            reason_text=batch.reason_text,
            adjustment_code=batch.adjustment_code,
            claim_status=batch.claim_status,
            note=batch.note,
            determination_reference=batch.determination_reference,
            criteria=batch.criteria.to_dict(),
            as_of=batch.as_of,
        )
        draft_lines = lines.select(
            "charge_id",
            "encounter_id",
            "patient_id",
            "group_key",
            pl.col("balance_type").alias("bucket"),
            pl.when(pl.col("balance_type") == "INSURANCE").then(pl.col("payer_id")).alias("payer_id"),
            (-pl.col("writeoff_amount")).cast(PL_MONEY).alias("amount"),
            pl.col("balance").alias("balance_before"),
            pl.lit(None, dtype=pl.String).alias("reverses_transaction_id"),
        )
        return record_receipt(
            ledger, draft, draft_lines, receipts_dir=receipts_dir, profile=config.export_profile
        )


def _finish_interrupted(ledger: Ledger, batch: Batch, user: str) -> Receipt | None:
    """The receipt of this same commit interrupted after the store committed, its files finished.

    Re-running a commit after such a crash searches again and finds nothing (its lines are
    written off); the PENDING receipt of the same preparer, criteria, reason and as-of date
    is the commit being retried.
    """
    with ledger.connect() as con:
        rows = queries.run(
            con,
            "select_interrupted_receipt",
            preparer=user,
            criteria_json=json.dumps(batch.criteria.to_dict(), sort_keys=True),
            reason_code=batch.reason.value,
            as_of=batch.as_of,
        )
        if not rows:
            return None
        receipt_no = str(rows[0][0])
        repair_receipts(ledger, user=user)
        receipt = get_receipt(ledger, receipt_no)
        if receipt.files_state != WRITTEN:
            msg = (
                f"receipt {receipt_no} (this commit, interrupted after the store committed) could "
                f"not be finished: its folder {receipt.files_dir} cannot be written; fix it and run again."
            )
            raise LedgerError(msg)
        record_event(
            ledger,
            user=user,
            action=AuditAction.COMMIT,
            outcome=AuditOutcome.REPEATED,
            receipt_no=receipt_no,
            detail="the commit was run again after an interruption; its receipt files were finished",
        )
        return receipt


def check_folder_writable(folder: str | os.PathLike[str]) -> None:
    """Refuse a receipts folder that cannot be created or written (before anything is committed).

    Raises
    ------
    ReceiptsFolderError
        If the folder cannot be made, or a file cannot be created in it.
    """
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".writeoff-probe.", suffix=".tmp", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ReceiptsFolderError(str(path), exc.strerror or type(exc).__name__) from None


#: The columns of ``writeoff_lines`` a receipt's :func:`lines_sha256` covers, in this order.
HASHED_LINE_COLUMNS = (
    "receipt_no", "line_no", "transaction_id", "charge_id", "encounter_id", "patient_id", "group_key",
    "bucket", "payer_id", "amount", "balance_before", "posted_date", "reverses_transaction_id",
)


def lines_sha256(lines: pl.DataFrame) -> str:
    """The SHA-256 of a receipt's stored lines (``select_receipt_lines``), one JSON array a line.

    Values are written as text (amounts with their two decimals, dates ISO), so the hash only
    changes when a line does.
    """
    digest = hashlib.sha256()
    for row in lines.select(list(HASHED_LINE_COLUMNS)).iter_rows():
        values = [None if v is None else str(v) for v in row]
        digest.update(json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


def record_receipt(
    ledger: Ledger,
    draft: ReceiptDraft,
    lines: pl.DataFrame,
    *,
    receipts_dir: str | os.PathLike[str],
    profile: ExportProfile,
) -> Receipt:
    """Record a checked receipt and write its files (steps 2-4 of the crash protocol).

    The one write path of write-offs and reversals; callers hold the store lock and have
    checked permissions and balances.

    Parameters
    ----------
    ledger
        The store.
    draft
        The receipt's details.
    lines
        Columns :data:`DRAFT_LINE_SCHEMA`, in line order; ``amount`` signed.
    receipts_dir
        Where the files go.
    profile
        The CSV layout (kept with the receipt).
    """
    folder = Path(receipts_dir).resolve()
    action = AuditAction.REVERSE if draft.reversal_of else AuditAction.COMMIT
    try:
        check_folder_writable(folder)  # issue 16: refuse before the store commits, not after
    except ReceiptsFolderError as exc:
        record_event(ledger, user=draft.preparer, action=action, outcome=AuditOutcome.REFUSED, detail=str(exc))
        raise
    today = dt.date.today()
    created_at = dt.datetime.now().replace(microsecond=0)
    fingerprint = ledger.fingerprint() or ""
    with ledger.transaction() as con:
        ((seq,),) = queries.run(con, "select_next_receipt_seq")
        receipt_no = receipt_number(int(seq))
        staged = lines.select(list(DRAFT_LINE_SCHEMA)).cast(DRAFT_LINE_SCHEMA).with_columns(  # type: ignore[arg-type]  # dict[str, DataType] is accepted
            pl.lit(receipt_no).alias("receipt_no"),
            pl.int_range(1, pl.len() + 1, dtype=pl.Int32).alias("line_no"),
            pl.lit(today).alias("posted_date"),
        ).with_columns(
            pl.format("{}-{}", pl.lit(receipt_no), pl.col("line_no").cast(pl.String).str.zfill(4)).alias(
                "transaction_id"
            )
        )
        con.register("staged_writeoff_lines", staged.to_arrow())
        try:
            queries.run(con, "insert_writeoff_lines")
        finally:
            con.unregister("staged_writeoff_lines")
        queries.run(con, "apply_writeoff_lines", receipt_no=receipt_no)
        stored_lines = queries.frame(con, "select_receipt_lines", receipt_no=receipt_no)
        texts = {name: getattr(draft, name) for name in _TEXT_FIELDS}
        csv_bytes = render_receipt_csv(profile, receipt_no, texts, stored_lines)
        queries.run(
            con,
            "insert_receipt",
            receipt_no=receipt_no,
            seq=int(seq),
            batch_key=draft.batch_key,
            created_at=created_at,
            preparer=draft.preparer,
            approver=draft.approver,
            balance_type=draft.balance_type,
            reason_code=draft.reason_code,
            reason_text=draft.reason_text,
            adjustment_code=draft.adjustment_code,
            claim_status=draft.claim_status,
            note=draft.note,
            determination_reference=draft.determination_reference,
            criteria_json=json.dumps(dict(draft.criteria), sort_keys=True),
            as_of=draft.as_of,
            ledger_fingerprint=fingerprint,
            csv_sha256=hashlib.sha256(csv_bytes).hexdigest(),
            reversal_of=draft.reversal_of,
            files_dir=str(folder),
            export_profile_json=json.dumps(profile.to_dict(), sort_keys=True),
        )
        queries.run(
            con,
            "update_receipt_seals",
            receipt_no=receipt_no,
            json_sha256=hashlib.sha256(get_receipt(ledger, receipt_no).manifest_bytes()).hexdigest(),
            lines_sha256=lines_sha256(stored_lines),
        )
        record_event(
            ledger,
            user=draft.preparer,
            action=action,
            outcome=AuditOutcome.DONE,
            receipt_no=receipt_no,
            detail=f"{len(stored_lines)} line(s), reversal of {draft.reversal_of}"
            if draft.reversal_of
            else f"{len(stored_lines)} line(s), approver {draft.approver or '-'}",
        )
        crash_point("before_commit")
    crash_point("before_files")
    return _write_files(ledger, receipt_no)


def repair_receipts(ledger: Ledger, *, user: str | None = None) -> tuple[str, ...]:
    """Finish every receipt whose files were not known to be written (after a crash).

    The files are rebuilt from the store, byte for byte as the commit would have written
    them, and the receipt is marked written. Every commit, reversal and history view runs
    this first.

    A receipt whose folder cannot be written (gone, read-only) is skipped and stays PENDING:
    the skip is audited (``REPAIR``, ``REFUSED``, naming the folder) and the other receipts
    are finished all the same; ``history`` lists it as PENDING and ``writeoff verify``
    reports it until its folder is fixed.

    Returns
    -------
    tuple[str, ...]
        The receipt numbers finished.
    """
    done = []
    with ledger.connect() as con:
        if not ledger.is_loaded():
            return ()
        for (receipt_no,) in queries.run(con, "select_pending_receipts"):
            try:
                _write_files(ledger, str(receipt_no))
            except LedgerError as exc:  # issue 16: one bad folder never blocks the others
                record_event(
                    ledger,
                    user=user or current_user(),
                    action=AuditAction.REPAIR,
                    outcome=AuditOutcome.REFUSED,
                    receipt_no=str(receipt_no),
                    detail=str(exc),
                )
                continue
            record_event(
                ledger,
                user=user or current_user(),
                action=AuditAction.REPAIR,
                outcome=AuditOutcome.DONE,
                receipt_no=str(receipt_no),
                detail="receipt files finished after an interrupted commit",
            )
            done.append(str(receipt_no))
    return tuple(done)


def receipt_csv_bytes(receipt: Receipt, stored_lines: pl.DataFrame) -> bytes:
    """The receipt CSV as the store rebuilds it from ``stored_lines`` (``select_receipt_lines``)."""
    texts = {name: getattr(receipt, name) for name in _TEXT_FIELDS}
    return render_receipt_csv(receipt.export_profile, receipt.receipt_no, texts, stored_lines)


def write_receipt_files(ledger: Ledger, receipt_no: str) -> Receipt:
    """Write a receipt's CSV and JSON from the store (byte for byte) and mark it WRITTEN.

    Raises
    ------
    LedgerError
        If the CSV rebuilt from the store does not match its recorded SHA-256, or the folder
        cannot be written.
    """
    return _write_files(ledger, normalize_receipt_no(receipt_no))


def _write_files(ledger: Ledger, receipt_no: str) -> Receipt:
    with ledger.connect() as con:
        receipt = get_receipt(ledger, receipt_no)
        csv_bytes = receipt_csv_bytes(receipt, queries.frame(con, "select_receipt_lines", receipt_no=receipt_no))
        if hashlib.sha256(csv_bytes).hexdigest() != receipt.csv_sha256:
            msg = (
                f"receipt {receipt_no}: the CSV rebuilt from the store does not match its recorded "
                "SHA-256; the store was changed outside writeoff. Restore it from a backup."
            )
            raise LedgerError(msg)
        folder = receipt.files_dir
        try:
            for leftover in [*folder.glob(f".{receipt_no}.csv.*.tmp"), *folder.glob(f".{receipt_no}.json.*.tmp")]:
                leftover.unlink(missing_ok=True)
            with atomic_write(receipt.csv_path, "wb") as fh:
                half = len(csv_bytes) // 2
                fh.write(csv_bytes[:half])  # type: ignore[arg-type]  # binary mode
                fh.flush()
                crash_point("during_csv")
                fh.write(csv_bytes[half:])  # type: ignore[arg-type]  # binary mode
            crash_point("between_files")
            manifest = receipt.manifest_bytes()
            with atomic_write(receipt.json_path, "wb") as fh:
                fh.write(manifest[: len(manifest) // 2])  # type: ignore[arg-type]  # binary mode
                fh.flush()
                crash_point("during_json")
                fh.write(manifest[len(manifest) // 2 :])  # type: ignore[arg-type]  # binary mode
        except OSError as exc:
            msg = (
                f"receipt {receipt_no} is committed in the store but its files could not be written "
                f"to {folder} ({exc.strerror}); fix the folder, then any later commit, history view "
                "or repair_receipts() writes them."
            )
            raise LedgerError(msg) from None
        crash_point("after_files")
        queries.run(con, "update_receipt_written", receipt_no=receipt_no)
    return get_receipt(ledger, receipt_no)


def _stale_lines(con: Any, lines: pl.DataFrame) -> list[str]:
    # Issue 4: every amount is re-checked against the balance as it is now, under the lock:
    # the line's bucket must still hold exactly the balance the batch saw, and the amount
    # must lie between one cent and that balance. Done as one join, in the batch's order.
    current = queries.frame(
        con, "select_line_balances", charge_ids=lines.get_column("charge_id").to_list()
    )
    now = (
        pl.when(pl.col("balance_type") == "PATIENT")
        .then(pl.col("patient_balance"))
        .when(pl.col("balance_type") == "INSURANCE")
        .then(pl.col("insurance_balance"))
    )
    fresh = (
        now.is_not_null()
        & (now == pl.col("balance"))
        & (pl.col("writeoff_amount") >= CENT)
        & (pl.col("writeoff_amount") <= now)
    )
    checked = lines.select("charge_id", "balance_type", "balance", "writeoff_amount").join(
        current, on="charge_id", how="left", maintain_order="left"
    )
    stale = checked.filter(~fresh.fill_null(False)).get_column("charge_id")
    return [str(charge_id) for charge_id in stale.to_list()]
