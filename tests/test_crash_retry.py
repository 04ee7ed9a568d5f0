"""Issue 16, item 7: a retried commit finishes the interrupted receipt; bad folders stay local.

The crash tests kill the command with ``WRITEOFF_TEST_CRASH_AT`` (as in test_receipts.py);
the retry is the same command line run again, whose search now finds nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import writeoff_analytics
from tests.batch_support import AS_OF, EXPECTED_TOTAL, child_commit, count_rows, find, make_store
from writeoff_analytics.errors import BatchError, ReceiptsFolderError
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.writeoffs.audit import audit_log
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.history import reverse_receipt, search_receipts
from writeoff_analytics.writeoffs.permissions import Config, Permission, current_user
from writeoff_analytics.writeoffs.receipts import (
    CRASH_ENV,
    CRASH_STEPS,
    commit_batch,
    get_receipt,
    repair_receipts,
)
from writeoff_analytics.writeoffs.verify import ProblemKind, verify_store

_SRC = str(Path(writeoff_analytics.__file__).resolve().parents[1])
_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([_SRC, os.environ.get("PYTHONPATH", "")])}
CONFIG_TOML = f"""
[users.{current_user()}]  # issue 16: the CLI acts as the login
permissions = ["mass_write_off", "approve_write_off", "mass_write_off_history", "reverse_write_off"]
"""
CONFIG = Config(users={"ana": frozenset(Permission), "sam": frozenset(Permission)})
AFTER_THE_STORE_COMMITTED = CRASH_STEPS[CRASH_STEPS.index("before_files"):]


def _commit(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "writeoff_analytics.cli", "commit", "--db", "s.duckdb",
         "--preset", "no-balance-billing", "--as-of", AS_OF.isoformat(), "--reason", "NO_BALANCE_BILLING"],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=env or _ENV,
    )


@pytest.mark.parametrize("step", AFTER_THE_STORE_COMMITTED)
def test_rerunning_a_killed_commit_finishes_its_receipt_and_prints_its_number(tmp_path: Path, step: str) -> None:
    make_store(tmp_path / "s.duckdb")
    (tmp_path / "writeoff.toml").write_text(CONFIG_TOML, encoding="utf-8")
    killed = _commit(tmp_path, env={**_ENV, CRASH_ENV: step})
    assert killed.returncode == -9, killed.stderr
    ledger = Ledger(tmp_path / "s.duckdb")
    assert get_receipt(ledger, "WO-000001").files_state == "PENDING"
    assert find(ledger).line_count == 0  # the lines are written off: the search finds nothing now

    retry = _commit(tmp_path)
    assert retry.returncode == 0, retry.stderr
    assert retry.stdout.splitlines()[-1] == "WO-000001"
    receipt = get_receipt(ledger, "WO-000001")
    assert receipt.files_state == "WRITTEN" and receipt.total == EXPECTED_TOTAL
    assert hashlib.sha256(receipt.csv_path.read_bytes()).hexdigest() == receipt.csv_sha256
    assert sorted(p.name for p in receipt.files_dir.iterdir()) == ["WO-000001.csv", "WO-000001.json"]
    assert count_rows(ledger, "receipts") == 1
    last = audit_log(ledger).row(-1, named=True)
    assert (last["action"], last["outcome"], last["receipt_no"]) == ("COMMIT", "REPEATED", "WO-000001")
    assert "run again after an interruption" in last["detail"]
    assert verify_store(ledger).ok

    # once finished, the same command has nothing left to do
    again = _commit(tmp_path)
    assert again.returncode == 1
    assert "the batch holds no lines" in again.stderr


def test_an_empty_batch_of_other_criteria_does_not_pick_up_a_pending_receipt(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    ledger = make_store(db)
    batch = Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING")
    args = {"db": str(db), "batch": batch, "user": "ana", "receipts_dir": str(tmp_path / "r"), "config": CONFIG}
    killed = child_commit(args, env={**os.environ, CRASH_ENV: "before_files"})
    killed.communicate(timeout=120)
    assert killed.returncode == -9
    ledger = Ledger(db)
    empty = Batch.from_candidates(find(ledger), reason="BAD_DEBT")  # another reason: not the same commit
    with pytest.raises(BatchError, match="the batch holds no lines"):
        commit_batch(ledger, empty, user="ana", receipts_dir=tmp_path / "r", config=CONFIG)
    with pytest.raises(BatchError, match="the batch holds no lines"):  # another preparer
        commit_batch(ledger, Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING"),
                     user="sam", receipts_dir=tmp_path / "r", config=CONFIG)
    assert get_receipt(ledger, "WO-000001").files_state == "PENDING"


def test_an_unwritable_folder_is_refused_before_a_reversal_commits(tmp_path: Path) -> None:
    ledger = make_store()
    receipt = commit_batch(ledger, Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING"),
                           user="ana", receipts_dir=tmp_path / "ok", config=CONFIG)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(ReceiptsFolderError, match="nothing was committed") as err:
        reverse_receipt(ledger, receipt.receipt_no, reason="oops", user="sam",
                        receipts_dir=blocker / "receipts", config=CONFIG)
    assert err.value.folder == str(blocker / "receipts")
    assert count_rows(ledger, "receipts") == 1 and count_rows(ledger, "writeoff_lines") == 4
    refusal = audit_log(ledger).row(-1, named=True)
    assert (refusal["action"], refusal["outcome"]) == ("REVERSE", "REFUSED")


def test_one_unwritable_folder_does_not_block_other_receipts(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    ledger = make_store(db)
    bad = tmp_path / "bad"
    first = Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING").exclude_groups(["E3"])
    args = {"db": str(db), "batch": first, "user": "ana", "receipts_dir": str(bad), "config": CONFIG}
    killed = child_commit(args, env={**os.environ, CRASH_ENV: "before_files"})
    killed.communicate(timeout=120)
    assert killed.returncode == -9
    shutil.rmtree(bad)
    bad.write_text("the folder became a file", encoding="utf-8")  # WO-000001's folder cannot be written

    ledger = Ledger(db)
    good = tmp_path / "good"
    second = commit_batch(ledger, Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING"),
                          user="sam", receipts_dir=good, config=CONFIG)
    assert second.receipt_no == "WO-000002" and second.files_state == "WRITTEN"
    assert sorted(p.name for p in good.iterdir()) == ["WO-000002.csv", "WO-000002.json"]
    skipped = audit_log(ledger).filter((pl.col("action") == "REPAIR") & (pl.col("outcome") == "REFUSED"))
    assert skipped.get_column("receipt_no").to_list() == ["WO-000001"]
    assert str(bad) in skipped.item(0, "detail")

    # history and reversals of other receipts go on; the pending one says so
    listed = search_receipts(ledger, user="sam", config=CONFIG)
    assert listed.select("receipt_no", "files_state").rows() == [("WO-000001", "PENDING"), ("WO-000002", "WRITTEN")]
    reversal = reverse_receipt(ledger, "WO-000002", reason="oops", user="sam", receipts_dir=good, config=CONFIG)
    assert reversal.receipt_no == "WO-000003" and reversal.files_state == "WRITTEN"
    problems = verify_store(ledger).problems
    assert [(p.kind, p.receipt_no) for p in problems] == [(ProblemKind.PENDING, "WO-000001")]

    # once the folder is fixed, it is finished like any other
    bad.unlink()
    assert repair_receipts(ledger) == ("WO-000001",)
    assert verify_store(ledger).ok
