"""Issue 16: `writeoff verify` and the one-line refusals of history, report and reverse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import writeoff_analytics
from tests.batch_support import find, make_store
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.permissions import Config, Permission, current_user
from writeoff_analytics.writeoffs.receipts import Receipt, commit_batch

_SRC = str(Path(writeoff_analytics.__file__).resolve().parents[1])
_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([_SRC, os.environ.get("PYTHONPATH", "")])}
CONFIG_TOML = f"""
[users.{current_user()}]  # issue 16: the CLI acts as the login
permissions = ["mass_write_off", "approve_write_off", "mass_write_off_history", "reverse_write_off"]
"""


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "writeoff_analytics.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=_ENV,
    )


@pytest.fixture
def committed(tmp_path: Path) -> Receipt:
    ledger = make_store(tmp_path / "s.duckdb")
    (tmp_path / "writeoff.toml").write_text(CONFIG_TOML, encoding="utf-8")
    batch = Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING")
    return commit_batch(ledger, batch, user="sam", receipts_dir=tmp_path / "receipts",
                        config=Config(users={"sam": frozenset(Permission)}))


def test_verify_is_clean_on_an_untouched_store(tmp_path: Path, committed: Receipt) -> None:
    proc = _run(tmp_path, "verify", "--db", "s.duckdb")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "verified: 1 receipt(s) (files and lines) and 1 audit event(s) (1 hash-chained) in s.duckdb agree."
    ]


def test_verify_prints_each_problem_and_exits_1(tmp_path: Path, committed: Receipt) -> None:
    committed.csv_path.write_bytes(committed.csv_path.read_bytes().replace(b"-40.00", b"-4.00"))
    committed.json_path.unlink()
    with Ledger(tmp_path / "s.duckdb").connect() as con:
        con.execute("UPDATE audit_log SET detail = 'nothing' WHERE event_id = 1")
    proc = _run(tmp_path, "verify", "--db", "s.duckdb")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0] == "audit_log: event 1 was changed after it was written (its SHA-256 does not match it)"
    assert lines[1].startswith(f"WO-000001: {committed.csv_path} was changed after it was written")
    assert lines[2] == f"WO-000001: {committed.json_path} is missing"
    assert proc.stderr.startswith("writeoff verify: 3 problem(s) in 1 receipt(s)")
    assert not committed.json_path.exists()  # verify reads only


def test_verify_of_a_missing_store_is_one_line(tmp_path: Path) -> None:
    proc = _run(tmp_path, "verify", "--db", "nowhere.duckdb")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "writeoff verify: error: no ledger at nowhere.duckdb; run `writeoff load EXTRACT --db nowhere.duckdb` first."
    ]
    assert not (tmp_path / "nowhere.duckdb").exists()


@pytest.mark.parametrize("command", [
    ("history", "--receipt", "1"),
    ("report", "--receipt", "1", "--output", "r.xlsx"),
    ("reverse", "--receipt", "1", "--reason", "oops"),
])
def test_history_report_and_reverse_refuse_a_changed_csv_in_one_line(
    tmp_path: Path, committed: Receipt, command: tuple[str, ...]
) -> None:
    committed.csv_path.write_bytes(committed.csv_path.read_bytes().replace(b"-40.00", b"-4.00"))
    proc = _run(tmp_path, *command, "--db", "s.duckdb")
    assert proc.returncode == 1, proc.stdout
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"writeoff {command[0]}: error: receipt WO-000001 refused: ")
    assert str(committed.csv_path) in line
    assert not (tmp_path / "r.xlsx").exists()


def test_history_listing_says_mismatch_not_written(tmp_path: Path, committed: Receipt) -> None:
    with Ledger(tmp_path / "s.duckdb").connect() as con:
        con.execute("UPDATE writeoff_lines SET amount = amount - 1 WHERE line_no = 1")
    proc = _run(tmp_path, "history", "--format", "csv", "--db", "s.duckdb")
    assert proc.returncode == 0, proc.stderr
    header, row = proc.stdout.splitlines()
    assert header.endswith(",files_state") and row.endswith(",MISMATCH")


def test_report_rebuilds_a_deleted_csv_and_goes_ahead(tmp_path: Path, committed: Receipt) -> None:
    original = committed.csv_path.read_bytes()
    committed.csv_path.unlink()
    proc = _run(tmp_path, "report", "--receipt", "1", "--output", "r.html", "--db", "s.duckdb")
    assert proc.returncode == 0, proc.stderr
    assert committed.csv_path.read_bytes() == original
    assert _run(tmp_path, "verify", "--db", "s.duckdb").returncode == 0
