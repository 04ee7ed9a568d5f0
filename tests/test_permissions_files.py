"""Files we write are the owner's only (group-readable in a group-shared folder): issue 14 item 8.

The store and its ``.wal``, receipts, reports and ``rejects.csv`` are created 0600 (0640,
the store 0660, when the folder has the setgid bit), whatever the process's umask was.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.batch_support import find, make_store
from writeoff_analytics import _atomic
from writeoff_analytics.ledger.load import load_extract
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.reporting import report_candidates
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.permissions import Config, Permission
from writeoff_analytics.writeoffs.receipts import commit_batch

SMALL = Path(__file__).parent / "data" / "small"
CONFIG = Config(users={"ana": frozenset(Permission)})


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The most open umask a user could have: every file would be world-writable."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _rejecting_extract(tmp_path: Path) -> Path:
    folder = tmp_path / "extract"
    shutil.copytree(SMALL, folder)
    p = folder / "payers.csv"
    p.write_text(p.read_text() + "P-X,Other,NOT_A_CLASS,true\n")
    return folder


def test_store_wal_lock_and_rejects_are_the_owners_only(tmp_path, open_umask):
    db = tmp_path / "data" / "ledger.duckdb"
    ledger = Ledger(db)
    load_extract(ledger, _rejecting_extract(tmp_path), guard=_lenient())
    assert mode(db) == 0o600
    assert mode(db.with_name("ledger.duckdb.lock")) == 0o600
    assert mode(db.with_name("rejects.csv")) == 0o600
    assert mode(db.parent) == 0o700  # the folder we made for it
    assert os.umask(0) == 0  # the caller's umask is given back


def _lenient():
    from decimal import Decimal

    from writeoff_analytics.ledger.controls import LoadGuard

    return LoadGuard(max_reject_share=Decimal("1"))


def test_the_wal_is_made_under_the_private_umask(tmp_path, open_umask):
    db = tmp_path / "l.duckdb"
    ledger = Ledger(db)
    load_extract(ledger, SMALL)
    with ledger.connect() as con:
        # A committed write sits in the .wal until the store is closed: it holds data too.
        con.execute("CREATE TABLE probe AS SELECT range AS x FROM range(10)").fetchall()
        wal = tmp_path / "l.duckdb.wal"
        assert mode(wal) == 0o600
    assert mode(db) == 0o600


def test_receipts_and_reports_are_the_owners_only(tmp_path, open_umask):
    ledger = make_store(tmp_path / "l.duckdb")
    candidates = find(ledger)
    receipt = commit_batch(
        ledger,
        Batch.from_candidates(candidates, reason="NO_BALANCE_BILLING"),
        user="ana",
        receipts_dir=tmp_path / "receipts",
        config=CONFIG,
    )
    written = [Path(receipt.csv_path), Path(receipt.json_path)]
    report = report_candidates(candidates)
    written += [report.to_csv(tmp_path / "out" / "c.csv"), report.save(tmp_path / "out" / "c.html")]
    for path in written:
        assert mode(path) == 0o600, path
    assert mode(tmp_path / "l.duckdb") == 0o600


def test_a_group_shared_folder_gives_the_group_read_and_the_store_write(tmp_path, open_umask):
    shared = tmp_path / "team"
    shared.mkdir()
    shared.chmod(0o2770)  # setgid: the team's folder
    db = shared / "ledger.duckdb"
    ledger = Ledger(db)
    load_extract(ledger, _rejecting_extract(tmp_path), guard=_lenient())
    assert mode(db) == 0o660  # colleagues write the store
    assert mode(shared / "ledger.duckdb.lock") == 0o660
    assert mode(shared / "rejects.csv") == 0o640  # files written whole: group reads
    report = report_candidates(find(ledger))
    assert mode(report.to_csv(shared / "reports" / "c.csv")) == 0o640
    assert mode(shared / "reports") & stat.S_ISGID  # the new folder stays shared
    assert mode(shared / "reports") & 0o007 == 0


def test_an_existing_file_replaced_whole_gets_a_new_files_mode(tmp_path, open_umask):
    target = tmp_path / "r.csv"
    target.write_text("old\n")
    target.chmod(0o644)
    _atomic.atomic_write_bytes(target, b"new\n")
    assert mode(target) == 0o600
    assert target.read_bytes() == b"new\n"


def test_is_group_shared_looks_at_the_nearest_existing_folder(tmp_path):
    shared = tmp_path / "team"
    shared.mkdir()
    shared.chmod(0o2770)
    assert _atomic.is_group_shared(shared / "not" / "yet")
    assert not _atomic.is_group_shared(tmp_path / "elsewhere")
