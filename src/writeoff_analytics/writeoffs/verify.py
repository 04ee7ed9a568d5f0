"""Tamper evidence: checking the audit chain, every receipt's files and its lines against the store.

What the store recorded at commit is the reference (issue 16): a receipt's ``csv_sha256``
and ``json_sha256`` (its files), ``line_count``, ``total_amount`` and ``lines_sha256`` (its
lines in ``writeoff_lines``), and the audit log's hash chain (``writeoffs/audit.py``).

- :func:`verify_store` reads only and reports every problem (``writeoff verify``).
- :func:`require_intact` is what history, receipt reports and reversals run before they use
  a receipt: a changed file, or lines changed in the store, refuse with
  :class:`~writeoff_analytics.errors.ReceiptMismatchError` naming the file; a missing file is
  rebuilt byte for byte from the store and the rebuild audited (``REPAIR``).
- :func:`receipt_state` is what the history listing shows instead of ``WRITTEN`` when a
  receipt's files or lines do not agree (``MISMATCH``, or ``MISSING`` when a missing file
  could not be rebuilt).

Receipts made before issue 16 carry no ``json_sha256`` or ``lines_sha256``: their JSON is
compared with the manifest rebuilt from the store, their lines with the count, the total
and the CSV rebuilt from them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from writeoff_analytics import queries
from writeoff_analytics.errors import LedgerError, ReceiptMismatchError
from writeoff_analytics.money import CENT, format_money
from writeoff_analytics.writeoffs.audit import AuditAction, AuditOutcome, event_sha256, record_event
from writeoff_analytics.writeoffs.receipts import (
    PENDING,
    WRITTEN,
    Receipt,
    get_receipt,
    lines_sha256,
    receipt_csv_bytes,
    receipt_lines,
    write_receipt_files,
)

if TYPE_CHECKING:
    from pathlib import Path

    from writeoff_analytics.ledger.store import Ledger

#: What the history listing shows for a receipt whose files or lines do not agree with the store.
MISMATCH = "MISMATCH"
#: What it shows for a receipt with a missing file that could not be rebuilt (its folder).
MISSING = "MISSING"
#: The ``file`` of a problem with the lines in the store, and with the audit log.
LINES_FILE = "writeoff_lines"
AUDIT_FILE = "audit_log"


class ProblemKind(StrEnum):
    """What kind of disagreement a :class:`Problem` is."""

    #: A receipt file is not there (it can be rebuilt from the store).
    MISSING = "MISSING"
    #: A receipt file's bytes differ from the SHA-256 recorded at commit.
    CHANGED = "CHANGED"
    #: The store's lines (or the receipt's row) differ from what the receipt recorded.
    STORE = "STORE"
    #: The receipt's files were never written (an interrupted commit not finished yet).
    PENDING = "PENDING"
    #: The audit log's hash chain breaks.
    CHAIN = "CHAIN"


@dataclass(frozen=True)
class Problem:
    """One disagreement, said in one line (``message`` names the receipt and the file)."""

    kind: ProblemKind
    receipt_no: str | None
    file: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify_store` found: every problem, and how much was checked."""

    store: str
    receipts: int
    events: int
    hashed_events: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """Whether everything agrees."""
        return not self.problems

    def summary(self) -> str:
        """One line: what was checked and the outcome."""
        checked = (
            f"{self.receipts} receipt(s) (files and lines) and {self.events} audit event(s) "
            f"({self.hashed_events} hash-chained) in {self.store}"
        )
        if self.ok:
            return f"verified: {checked} agree."
        return f"{len(self.problems)} problem(s) in {checked}."


def _sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def check_receipt(ledger: Ledger, receipt_no: str) -> list[Problem]:
    """Every disagreement between one receipt, its files and its lines in the store (reads only)."""
    receipt = get_receipt(ledger, receipt_no)
    no = receipt.receipt_no
    problems = _check_lines(ledger, receipt)
    expected_json = hashlib.sha256(receipt.manifest_bytes()).hexdigest()
    if receipt.json_sha256 is not None and receipt.json_sha256 != expected_json:
        problems.append(Problem(ProblemKind.STORE, no, "receipts", (
            f"{no}: its row in the store's receipts table was changed after the commit (its "
            "manifest no longer matches the recorded JSON SHA-256)")))
    if receipt.files_state == PENDING:
        problems.append(Problem(ProblemKind.PENDING, no, str(receipt.csv_path), (
            f"{no}: files not written yet in {receipt.files_dir} (an interrupted commit); "
            "any commit or history view finishes them once the folder can be written")))
        return problems
    recorded = {receipt.csv_path: receipt.csv_sha256, receipt.json_path: receipt.json_sha256 or expected_json}
    for path, sha in recorded.items():
        found = _sha256_of(path)
        if found is None:
            problems.append(Problem(ProblemKind.MISSING, no, str(path), f"{no}: {path} is missing"))
        elif found != sha:
            problems.append(Problem(ProblemKind.CHANGED, no, str(path), (
                f"{no}: {path} was changed after it was written (SHA-256 {found[:12]}..., "
                f"recorded {sha[:12]}...)")))
    return problems


def _check_lines(ledger: Ledger, receipt: Receipt) -> list[Problem]:
    no = receipt.receipt_no
    with ledger.connect() as con:
        ((count, total),) = queries.run(con, "select_receipt_line_totals", receipt_no=no)
    lines = receipt_lines(ledger, no)
    total = Decimal(total).quantize(CENT)
    if int(count) != receipt.line_count or total != receipt.total:
        return [Problem(ProblemKind.STORE, no, LINES_FILE, (
            f"{no}: the store's {LINES_FILE} hold {int(count)} line(s) moving {format_money(total)}, "
            f"the receipt recorded {receipt.line_count} moving {format_money(receipt.total)}"))]
    if receipt.lines_sha256 is not None and lines_sha256(lines) != receipt.lines_sha256:
        return [Problem(ProblemKind.STORE, no, LINES_FILE, (
            f"{no}: the receipt's lines in {LINES_FILE} were changed after the commit "
            "(their SHA-256 is not the recorded one)"))]
    if hashlib.sha256(receipt_csv_bytes(receipt, lines)).hexdigest() != receipt.csv_sha256:
        return [Problem(ProblemKind.STORE, no, LINES_FILE, (
            f"{no}: the CSV rebuilt from the store's {LINES_FILE} and receipt row differs from "
            "the recorded CSV SHA-256 (the store was changed after the commit)"))]
    return []


def check_audit_chain(ledger: Ledger) -> tuple[list[Problem], int, int]:
    """The audit chain's breaks, the number of events and of hashed events (reads only).

    Events written before the chain existed carry no hash and are skipped; the chain starts
    at the first hashed event. After it, every event must be hashed, match its hash and
    name the hash of the event before it; ``store_meta.audit_head`` must name the last one.
    """
    with ledger.connect() as con:
        events = queries.frame(con, "select_audit_chain").to_dicts()
        head_rows = queries.run(con, "select_audit_head_meta")
    problems: list[Problem] = []

    def broken(text: str) -> None:
        problems.append(Problem(ProblemKind.CHAIN, None, AUDIT_FILE, f"{AUDIT_FILE}: {text}"))

    previous: dict[str, object] | None = None
    hashed: dict[str, object] = {}
    for event in events:
        eid = event["event_id"]
        if event["event_sha256"] is None:
            if previous is not None:
                broken(f"event {eid} carries no hash after the chain started (written outside writeoff)")
            continue
        hashed[f"{eid} {event['event_sha256']}"] = eid
        if event_sha256(event) != event["event_sha256"]:
            broken(f"event {eid} was changed after it was written (its SHA-256 does not match it)")
        if previous is None:
            if event["prev_sha256"] is not None:
                broken(f"event {eid} chains to an event that is no longer in the log (deleted)")
        elif event["prev_sha256"] != previous["event_sha256"]:
            broken(f"event {eid} does not chain to event {previous['event_id']}: an event between "
                   "them was deleted or changed")
        previous = event
    # The head is written just after its event (the same transaction inside a commit): it may
    # lag behind the log after a crash between the two, but it never names an event not there.
    head = str(head_rows[0][0]) if head_rows else None
    if (head is None and hashed) or (head is not None and head not in hashed):
        last = None if previous is None else f"{previous['event_id']} {previous['event_sha256']}"
        broken(f"the newest event is not the one the store recorded (store_meta says {head or 'none'}, "
               f"the log ends at {last or 'none'}): events were deleted from the end or changed")
    return problems, len(events), len(hashed)


def verify_store(ledger: Ledger) -> VerifyReport:
    """Check the audit chain, every receipt's files (in the folders the store recorded) and lines.

    Reads only: a missing file is reported, not rebuilt (history and reports rebuild it).

    Returns
    -------
    VerifyReport
        Every problem, one line each; ``ok`` when there is none.
    """
    problems, events, hashed = check_audit_chain(ledger)
    with ledger.connect() as con:
        numbers = [str(r[0]) for r in queries.run(con, "select_all_receipt_nos")]
    for receipt_no in numbers:
        problems += check_receipt(ledger, receipt_no)
    return VerifyReport(ledger.path, len(numbers), events, hashed, tuple(problems))


def require_intact(ledger: Ledger, receipt_no: str, *, user: str) -> Receipt:
    """Check one receipt before it is used; rebuild a missing file (audited); refuse a mismatch.

    Raises
    ------
    ReceiptMismatchError
        If a file was changed, or the store's lines no longer match the receipt (``file``
        names the first; nothing is rebuilt then, so the evidence stays).
    LedgerError
        If a missing file cannot be rebuilt (its folder cannot be written).
    """
    problems = check_receipt(ledger, receipt_no)
    receipt = get_receipt(ledger, receipt_no)
    blocking = [p for p in problems if p.kind in (ProblemKind.CHANGED, ProblemKind.STORE)]
    if blocking:
        raise ReceiptMismatchError(receipt.receipt_no, blocking[0].file, [p.message for p in blocking])
    missing = [p.file for p in problems if p.kind is ProblemKind.MISSING]
    if missing:
        receipt = write_receipt_files(ledger, receipt.receipt_no)
        record_event(
            ledger,
            user=user,
            action=AuditAction.REPAIR,
            outcome=AuditOutcome.DONE,
            receipt_no=receipt.receipt_no,
            detail=f"missing receipt file(s) rebuilt from the store: {', '.join(missing)}",
        )
    return receipt


def receipt_state(ledger: Ledger, receipt_no: str, *, user: str) -> str:
    """What the history listing shows: ``WRITTEN``, ``PENDING``, ``MISMATCH`` or ``MISSING``.

    A missing file is rebuilt (audited) first, as :func:`require_intact` does.
    """
    problems = check_receipt(ledger, receipt_no)
    if any(p.kind in (ProblemKind.CHANGED, ProblemKind.STORE) for p in problems):
        return MISMATCH
    if any(p.kind is ProblemKind.PENDING for p in problems):
        return PENDING
    if problems:
        try:
            require_intact(ledger, receipt_no, user=user)
        except LedgerError:
            return MISSING
    return WRITTEN
