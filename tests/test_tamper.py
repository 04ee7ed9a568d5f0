"""Issue 16, item 6: every tampering case is detected; history, reports and reversals refuse it.

Each case edits what a commit left (a receipt file, the store's lines, the audit log) the
way someone with a text editor or a SQL client would, then checks that the library notices.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.batch_support import count_rows, find, make_store
from writeoff_analytics.errors import ReceiptMismatchError
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.writeoffs.audit import (
    AuditAction,
    AuditOutcome,
    audit_log,
    event_sha256,
    record_event,
)
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.history import reverse_receipt, search_receipts, show_receipt
from writeoff_analytics.writeoffs.permissions import Config, Permission
from writeoff_analytics.writeoffs.receipts import Receipt, commit_batch, get_receipt
from writeoff_analytics.writeoffs.verify import ProblemKind, check_audit_chain, verify_store

CONFIG = Config(users={"ana": frozenset(Permission), "sam": frozenset(Permission)})


def _committed(tmp_path: Path) -> tuple[Ledger, Receipt]:
    ledger = make_store()
    batch = Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING")
    receipt = commit_batch(ledger, batch, user="ana", receipts_dir=tmp_path / "receipts", config=CONFIG)
    assert verify_store(ledger).ok
    return ledger, receipt


def _kinds(ledger: Ledger) -> list[tuple[ProblemKind, str]]:
    return [(p.kind, p.file) for p in verify_store(ledger).problems]


def _refused_everywhere(ledger: Ledger, receipt: Receipt, file: str, tmp_path: Path) -> None:
    """History (show), the listing and a reversal all refuse; nothing is reversed."""
    with pytest.raises(ReceiptMismatchError) as shown:
        show_receipt(ledger, receipt.receipt_no, user="sam", config=CONFIG)
    assert shown.value.file == file and file in str(shown.value)
    assert shown.value.receipt_no == receipt.receipt_no
    with pytest.raises(ReceiptMismatchError, match="refused"):
        reverse_receipt(ledger, receipt.receipt_no, reason="oops", user="sam",
                        receipts_dir=tmp_path / "receipts", config=CONFIG)
    assert count_rows(ledger, "receipts") == 1  # no reversal was made
    refusal = audit_log(ledger).filter(pl.col("action") == "REVERSE").row(-1, named=True)
    assert refusal["outcome"] == "REFUSED" and file in refusal["detail"]
    listed = search_receipts(ledger, user="sam", config=CONFIG)
    assert listed.get_column("files_state").to_list() == ["MISMATCH"]


def test_an_edited_csv_is_refused_naming_it(tmp_path: Path) -> None:
    ledger, receipt = _committed(tmp_path)
    receipt.csv_path.write_bytes(receipt.csv_path.read_bytes().replace(b"-40.00", b"-4.00"))
    assert _kinds(ledger) == [(ProblemKind.CHANGED, str(receipt.csv_path))]
    _refused_everywhere(ledger, receipt, str(receipt.csv_path), tmp_path)
    assert b"-4.00" in receipt.csv_path.read_bytes()  # the evidence is left as found


def test_an_edited_json_is_refused_naming_it(tmp_path: Path) -> None:
    ledger, receipt = _committed(tmp_path)
    receipt.json_path.write_text(receipt.json_path.read_text().replace('"ana"', '"sam"'), encoding="utf-8")
    assert _kinds(ledger) == [(ProblemKind.CHANGED, str(receipt.json_path))]
    _refused_everywhere(ledger, receipt, str(receipt.json_path), tmp_path)


@pytest.mark.parametrize("which", ["csv", "json", "both"])
def test_a_deleted_file_is_rebuilt_byte_for_byte_and_the_rebuild_audited(tmp_path: Path, which: str) -> None:
    ledger, receipt = _committed(tmp_path)
    paths = {"csv": [receipt.csv_path], "json": [receipt.json_path], "both": [receipt.csv_path, receipt.json_path]}
    originals = {p: p.read_bytes() for p in (receipt.csv_path, receipt.json_path)}
    for path in paths[which]:
        path.unlink()
    assert _kinds(ledger) == [(ProblemKind.MISSING, str(p)) for p in paths[which]]
    assert not any(p.exists() for p in paths[which])  # verify only reads
    detail = show_receipt(ledger, receipt.receipt_no, user="sam", config=CONFIG)
    assert detail.receipt.files_state == "WRITTEN"
    assert {p: p.read_bytes() for p in originals} == originals
    assert hashlib.sha256(receipt.csv_path.read_bytes()).hexdigest() == receipt.csv_sha256
    repair = audit_log(ledger).filter(pl.col("action") == "REPAIR")
    assert repair.select("user_name", "outcome", "receipt_no").rows() == [("sam", "DONE", receipt.receipt_no)]
    assert all(str(p) in repair.item(0, "detail") for p in paths[which])
    assert verify_store(ledger).ok


def test_the_listing_rebuilds_a_deleted_file_and_says_written(tmp_path: Path) -> None:
    ledger, receipt = _committed(tmp_path)
    original = receipt.json_path.read_bytes()
    receipt.json_path.unlink()
    assert search_receipts(ledger, user="sam", config=CONFIG).get_column("files_state").to_list() == ["WRITTEN"]
    assert receipt.json_path.read_bytes() == original
    assert audit_log(ledger).filter(pl.col("action") == "REPAIR").height == 1


def test_an_amount_changed_in_the_store_is_refused(tmp_path: Path) -> None:
    ledger, receipt = _committed(tmp_path)
    with ledger.connect() as con:
        con.execute("UPDATE writeoff_lines SET amount = amount + 1 WHERE receipt_no = ? AND line_no = 1",
                    [receipt.receipt_no])
    problems = verify_store(ledger).problems
    assert [(p.kind, p.file) for p in problems] == [(ProblemKind.STORE, "writeoff_lines")]
    assert problems[0].message == (
        "WO-000001: the store's writeoff_lines hold 4 line(s) moving $676.84, the receipt recorded 4 moving $677.84")
    _refused_everywhere(ledger, receipt, "writeoff_lines", tmp_path)


def test_amounts_moved_between_lines_keep_the_total_but_not_the_hash(tmp_path: Path) -> None:
    ledger, receipt = _committed(tmp_path)
    with ledger.connect() as con:
        con.execute("UPDATE writeoff_lines SET amount = amount + 1 WHERE receipt_no = ? AND line_no = 1",
                    [receipt.receipt_no])
        con.execute("UPDATE writeoff_lines SET amount = amount - 1 WHERE receipt_no = ? AND line_no = 2",
                    [receipt.receipt_no])
    problems = verify_store(ledger).problems
    assert [(p.kind, p.file) for p in problems] == [(ProblemKind.STORE, "writeoff_lines")]
    assert "were changed after the commit" in problems[0].message
    _refused_everywhere(ledger, receipt, "writeoff_lines", tmp_path)


def test_a_changed_receipt_row_is_detected(tmp_path: Path) -> None:
    ledger, receipt = _committed(tmp_path)
    with ledger.connect() as con:
        con.execute("UPDATE receipts SET approver = 'sam' WHERE receipt_no = ?", [receipt.receipt_no])
    assert _kinds(ledger) == [(ProblemKind.STORE, "receipts")]  # the files still match what was recorded
    _refused_everywhere(ledger, receipt, "receipts", tmp_path)


def _three_events(tmp_path: Path) -> Ledger:
    ledger, _receipt = _committed(tmp_path)  # event 1: the commit
    for n in (2, 3):
        record_event(ledger, user="ana", action=AuditAction.COMMIT, outcome=AuditOutcome.REFUSED, detail=f"n{n}")
    assert check_audit_chain(ledger) == ([], 3, 3)
    return ledger


def test_an_edited_audit_event_breaks_the_chain(tmp_path: Path) -> None:
    ledger = _three_events(tmp_path)
    with ledger.connect() as con:
        con.execute("UPDATE audit_log SET user_name = 'sam' WHERE event_id = 1")
    problems, _, _ = check_audit_chain(ledger)
    assert [p.message for p in problems] == [
        "audit_log: event 1 was changed after it was written (its SHA-256 does not match it)"]
    assert not verify_store(ledger).ok


def test_an_edited_event_with_its_hash_recomputed_breaks_the_next_link(tmp_path: Path) -> None:
    ledger = _three_events(tmp_path)
    with ledger.connect() as con:
        event = con.sql("SELECT * FROM audit_log WHERE event_id = 2").pl().row(0, named=True)
        event["detail"] = "nothing happened"
        con.execute("UPDATE audit_log SET detail = ?, event_sha256 = ? WHERE event_id = 2",
                    [event["detail"], event_sha256(event)])
    problems, _, _ = check_audit_chain(ledger)
    assert [p.message for p in problems] == [
        "audit_log: event 3 does not chain to event 2: an event between them was deleted or changed"]


@pytest.mark.parametrize(("event_id", "says"), [
    (1, "event 2 chains to an event that is no longer in the log"),
    (2, "event 3 does not chain to event 1"),
    (3, "the newest event is not the one the store recorded"),
])
def test_a_deleted_audit_event_breaks_the_chain(tmp_path: Path, event_id: int, says: str) -> None:
    ledger = _three_events(tmp_path)
    with ledger.connect() as con:
        con.execute("DELETE FROM audit_log WHERE event_id = ?", [event_id])
    problems, _, _ = check_audit_chain(ledger)
    assert len(problems) == 1 and says in problems[0].message


def test_a_head_that_lags_is_no_break_but_one_naming_a_deleted_event_is(tmp_path: Path) -> None:
    ledger = _three_events(tmp_path)
    with ledger.connect() as con:
        (sha2,) = con.execute("SELECT event_sha256 FROM audit_log WHERE event_id = 2").fetchone() or ("",)
        # a crash between event 3 and its head: the head still names event 2
        con.execute("UPDATE store_meta SET value = ? WHERE key = 'audit_head'", [f"2 {sha2}"])
    assert check_audit_chain(ledger) == ([], 3, 3)
    with ledger.connect() as con:
        con.execute("DELETE FROM audit_log WHERE event_id = 3")
        con.execute("DELETE FROM audit_log WHERE event_id = 2")
    problems, _, _ = check_audit_chain(ledger)
    assert [p.message.split(" (")[0] for p in problems] == ["audit_log: the newest event is not the one the store recorded"]


def test_an_old_store_gains_the_columns_and_its_chain_starts_at_the_first_hashed_event(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("""
        CREATE TABLE audit_log (event_id INTEGER PRIMARY KEY, occurred_at TIMESTAMP NOT NULL,
            user_name VARCHAR NOT NULL, action VARCHAR NOT NULL, outcome VARCHAR NOT NULL,
            receipt_no VARCHAR, detail VARCHAR);
        INSERT INTO audit_log VALUES (1, TIMESTAMP '2026-01-02 03:04:05', 'ana', 'COMMIT', 'REFUSED', NULL, 'old');
    """)
    con.close()
    ledger = Ledger(db)  # create_store adds the columns (ALTER TABLE ... ADD COLUMN IF NOT EXISTS)
    assert check_audit_chain(ledger) == ([], 1, 0)
    record_event(ledger, user="ana", action=AuditAction.COMMIT, outcome=AuditOutcome.REFUSED, detail="new")
    record_event(ledger, user="ana", action=AuditAction.COMMIT, outcome=AuditOutcome.REFUSED, detail="newer")
    assert check_audit_chain(ledger) == ([], 3, 2)
    chain = audit_log(ledger).get_column("event_id").to_list()
    assert chain == [1, 2, 3]
    with ledger.connect() as c:
        c.execute("UPDATE audit_log SET event_sha256 = NULL, prev_sha256 = NULL WHERE event_id = 3")
    problems, _, _ = check_audit_chain(ledger)
    assert any("event 3 carries no hash" in p.message for p in problems)


def test_a_reversal_of_an_intact_receipt_still_works_and_verifies(tmp_path: Path) -> None:
    ledger, receipt = _committed(tmp_path)
    reversal = reverse_receipt(ledger, receipt.receipt_no, reason="wrong batch", user="sam",
                               receipts_dir=tmp_path / "receipts", config=CONFIG)
    assert get_receipt(ledger, reversal.receipt_no).files_state == "WRITTEN"
    report = verify_store(ledger)
    assert report.ok and report.receipts == 2 and report.summary().startswith("verified: 2 receipt(s)")


def test_the_screens_receipt_report_refuses_an_edited_csv(tmp_path: Path) -> None:
    from writeoff_analytics.widgets import _api

    ledger, receipt = _committed(tmp_path)
    receipt.csv_path.write_bytes(receipt.csv_path.read_bytes().replace(b"-40.00", b"-4.00"))
    with pytest.raises(ReceiptMismatchError) as err:
        _api.receipt_report(ledger, receipt.receipt_no, tmp_path / "r.html")
    assert err.value.file == str(receipt.csv_path)
    assert not (tmp_path / "r.html").exists()
