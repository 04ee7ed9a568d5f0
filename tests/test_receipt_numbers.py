"""Receipt numbers over a long life: unique, sequential from WO-000001, never reused.

The rule (``writeoffs/receipts.py``, ``queries/select_next_receipt_seq.sql``, DESIGN.md
"Receipt numbers ``WO-000001``, sequential per store, never reused"): a receipt takes the
next number when its transaction commits. A reversal is a receipt and takes its own number.
Nothing that leaves no receipt in the store consumes a number: a refused commit or
reversal, the same batch committed again (it returns its receipt), a process killed before
the commit. A commit that reached the store keeps its number even if its files could not
be written or its process was killed afterwards; the retry returns that same receipt.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from tests.batch_support import child_commit, find, frames, make_store
from writeoff_analytics.errors import (
    BatchError,
    HistoryError,
    LedgerError,
    PermissionDenied,
    ReceiptsFolderError,
)
from writeoff_analytics.ledger.snapshot import replace_snapshot
from writeoff_analytics.writeoffs import receipts as receipts_module
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.history import reverse_receipt, search_receipts
from writeoff_analytics.writeoffs.permissions import Config, Permission
from writeoff_analytics.writeoffs.receipts import (
    CRASH_ENV,
    commit_batch,
    get_receipt,
    receipt_lines,
    repair_receipts,
)

if TYPE_CHECKING:
    from writeoff_analytics.ledger.store import Ledger

CONFIG = Config(users={"ana": frozenset(Permission), "viewer": frozenset({Permission.MASS_WRITE_OFF_HISTORY})})


def _batch(ledger: Ledger, amounts: dict[str, str | None]) -> Batch:
    """A batch of just these candidate lines, each at the given amount (``None``: the whole balance)."""
    candidates = find(ledger)
    batch = Batch.from_candidates(candidates, reason="NO_BALANCE_BILLING")
    batch = batch.exclude_lines([c for c in candidates.lines["charge_id"] if c not in amounts])
    for charge_id, amount in amounts.items():
        if amount is not None:
            batch = batch.with_amount(charge_id, amount)
    return batch


def _numbers(ledger: Ledger) -> list[str]:
    with ledger.connect() as con:
        return [r[0] for r in con.execute("SELECT receipt_no FROM receipts ORDER BY receipt_no").fetchall()]


def _in_child(db: Path, batch: Batch, folder: Path, crash_at: str | None = None) -> tuple[int, str]:
    env = {**os.environ, CRASH_ENV: crash_at} if crash_at else None
    proc = child_commit({"db": str(db), "batch": batch, "user": "ana", "receipts_dir": str(folder),
                         "config": CONFIG}, env=env)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, -9), err
    return proc.returncode, out.strip()


@pytest.mark.slow
def test_receipt_numbers_stay_sequential_unique_and_are_never_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "store.duckdb"
    folder = tmp_path / "receipts"
    ledger = make_store(db)

    def commit(batch: Batch, user: str = "ana", receipts_dir: Path = folder) -> str:
        return commit_batch(ledger, batch, user=user, receipts_dir=receipts_dir, config=CONFIG).receipt_no

    def reverse(receipt_no: str, charge_ids: list[str] | None = None, user: str = "ana",
                reason: str = "posted in error") -> str:
        return reverse_receipt(ledger, receipt_no, charge_ids=charge_ids, reason=reason, user=user,
                               receipts_dir=folder, config=CONFIG).receipt_no

    stale = _batch(ledger, {"C1": "1.00"})
    first = _batch(ledger, {"C1": "1.00"})
    assert commit(first) == "WO-000001"
    # the same batch again returns its receipt; refusals leave no receipt: none takes a number
    assert commit(first) == "WO-000001"
    with pytest.raises(BatchError, match="no lines"):
        commit(_batch(ledger, {}))
    with pytest.raises(BatchError, match=r"changed since the batch was built \(charge C1\)"):
        commit(stale.with_amount("C1", "2.00"))
    with pytest.raises(PermissionDenied):
        commit(_batch(ledger, {"C2": None}), user="viewer")
    assert commit(_batch(ledger, {"C2": None, "C3": None})) == "WO-000002"

    # a reversal takes its own number; refused reversals take none
    assert reverse("WO-000002") == "WO-000003"
    for refused, match in ((lambda: reverse("WO-000002"), "every line of WO-000002 is reversed already"),
                           (lambda: reverse("WO-000003"), "WO-000003 is itself a reversal"),
                           (lambda: reverse("WO-000099"), "unknown receipt 'WO-000099'"),
                           (lambda: reverse("WO-000001", reason=" "), "give a reason"),
                           (lambda: reverse("WO-000001", charge_ids=["C4"]), "not on receipt WO-000001")):
        with pytest.raises(HistoryError, match=match):
            refused()
    with pytest.raises(PermissionDenied):
        reverse("WO-000001", user="viewer")
    # the same search after the reversal is a new batch, with a new number
    assert commit(_batch(ledger, {"C2": None, "C3": None, "C4": "100.00"})) == "WO-000004"
    assert reverse("WO-000004", charge_ids=["C3"]) == "WO-000005"
    with pytest.raises(HistoryError, match="C3 of receipt WO-000004 are reversed already"):
        reverse("WO-000004", charge_ids=["C3"])
    assert reverse("WO-000004") == "WO-000006"  # the rest: C2 and C4

    # killed before the commit: no receipt, no number; killed after it: the number is taken,
    # and the retry returns that receipt instead of taking another
    crashed = _batch(ledger, {"C3": "5.00"})
    assert _in_child(db, crashed, folder, crash_at="before_commit") == (-9, "")
    assert _numbers(ledger) == [f"WO-{i:06d}" for i in range(1, 7)]
    assert _in_child(db, crashed, folder, crash_at="before_files") == (-9, "")
    assert get_receipt(ledger, "WO-000007").files_state == "PENDING"
    assert _in_child(db, crashed, folder) == (0, "WO-000007")
    assert _in_child(db, _batch(ledger, {"C3": "5.00"}), folder, crash_at="during_csv") == (-9, "")
    # the next commit first repairs WO-000008's files, then takes WO-000009
    assert commit(_batch(ledger, {"C4": "1.00"})) == "WO-000009"
    assert get_receipt(ledger, "WO-000008").files_state == "WRITTEN"

    # a reload of the extract keeps the count going
    replace_snapshot(ledger, frames(), source="the extract again")
    assert commit(_batch(ledger, {"C4": "1.00"})) == "WO-000010"

    # a folder that cannot be written is refused before the store commits: no number taken
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(ReceiptsFolderError, match="nothing was committed"):
        commit(_batch(ledger, {"C4": "1.00"}), receipts_dir=blocked)
    blocked.unlink()
    assert _numbers(ledger) == [f"WO-{i:06d}" for i in range(1, 11)]

    # files failing after the commit: the receipt is in the store and keeps its number
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    with monkeypatch.context() as patched:
        patched.setattr(receipts_module, "atomic_write", refuse)
        with pytest.raises(LedgerError, match="WO-000011 is committed in the store"):
            commit(_batch(ledger, {"C4": "1.00"}), receipts_dir=blocked)
    assert repair_receipts(ledger) == ("WO-000011",)

    # many more: a commit of one cent each round, every third one reversed, some repeated
    expected = 11
    for round_no in range(12):
        batch = _batch(ledger, {"C1": "0.01"})
        expected += 1
        number = commit(batch)
        assert number == f"WO-{expected:06d}"
        if round_no % 4 == 1:
            assert commit(batch) == number
        if round_no % 3 == 2:
            expected += 1
            assert reverse(number) == f"WO-{expected:06d}"
    assert expected == 27

    # what the store and the folder hold: every number once, in order, no gap, no reuse
    everything = [f"WO-{i:06d}" for i in range(1, expected + 1)]
    listed = search_receipts(ledger, user="viewer", config=CONFIG)
    assert listed.get_column("receipt_no").to_list() == everything == _numbers(ledger)
    with ledger.connect() as con:
        seqs = [r[0] for r in con.execute("SELECT seq FROM receipts ORDER BY receipt_no").fetchall()]
    assert seqs == list(range(1, expected + 1))
    assert listed.get_column("created_at").is_sorted()
    reversals = listed.filter(pl.col("reversal_of").is_not_null())
    assert reversals.height == 7
    for number, original in reversals.select("receipt_no", "reversal_of").rows():
        assert original < number
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"{n}.{ext}" for n in everything if n != "WO-000011" for ext in ("csv", "json"))
    assert sorted(p.name for p in blocked.iterdir()) == ["WO-000011.csv", "WO-000011.json"]
    # each line's transaction id is its receipt's number and line number, unique over the store
    ids = []
    for number in everything:
        lines = receipt_lines(ledger, number)
        assert lines.height > 0
        ids += lines.get_column("transaction_id").to_list()
        assert lines.get_column("transaction_id").to_list() == [
            f"{number}-{i:04d}" for i in range(1, lines.height + 1)]
    assert len(ids) == len(set(ids))
    # and the amounts add up: 1.00 + 0.01 x 12 off C1, less the 4 cents reversed
    with ledger.connect() as con:
        (c1,) = con.execute("SELECT sum(amount) FROM writeoff_lines WHERE charge_id = 'C1'").fetchone() or (None,)
    assert c1 == Decimal("-1.08")
