from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import writeoff_analytics
from tests.batch_support import AS_OF, EXPECTED, amounts, find, make_store
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.writeoffs.audit import audit_log
from writeoff_analytics.writeoffs.permissions import current_user
from writeoff_analytics.writeoffs.receipts import get_receipt

# The commands run in tmp_path (./writeoff.toml is read from there): import this checkout.
_SRC = str(Path(writeoff_analytics.__file__).resolve().parents[1])
_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([_SRC, os.environ.get("PYTHONPATH", "")])}

#: Who the commands run as (issue 16): the login, whatever --user says. It plays ana.
LOGIN = current_user()

CONFIG = f"""
[users.{LOGIN}]
permissions = ["mass_write_off", "mass_write_off_history"]
[users.sam]
permissions = ["mass_write_off", "approve_write_off", "mass_write_off_history", "reverse_write_off"]
[approval]
second_approver_over = "500.00"
"""


def _run(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "writeoff_analytics.cli", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_ENV,
    )


@pytest.fixture
def store(tmp_path):
    make_store(tmp_path / "s.duckdb")
    (tmp_path / "writeoff.toml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def _commit(tmp_path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _run(tmp_path, "commit", "--db", "s.duckdb", "--preset", "no-balance-billing",
                "--as-of", AS_OF.isoformat(), "--reason", "NO_BALANCE_BILLING", *extra)


def test_commit_prints_the_receipt_number_last_and_the_preset_then_finds_nothing(store):
    done = _commit(store, "--user", LOGIN, "--exclude", "E3", "--adjustment-code", "MCD",
                   "--note", "monthly")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "WO-000001"
    assert done.stderr == ""  # a config file is present: no note about open permissions
    ledger = Ledger(store / "s.duckdb")
    receipt = get_receipt(ledger, "WO-000001")
    assert (receipt.total, receipt.preparer, receipt.approver, receipt.adjustment_code, receipt.note) == (
        Decimal("77.84"), LOGIN, None, "MCD", "monthly")
    assert receipt.csv_path == store / "receipts" / "WO-000001.csv"  # beside the store by default
    assert find(ledger).line_count == 1  # only E3 (600.00) is left
    again = _commit(store, "--exclude", "E3")
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        "writeoff commit: error: the batch holds no lines: nothing to write off (select lines or change the criteria)."
    ]


_QUEUE = ("it needs a second approver holding 'approve_write_off', and the approval queue "
          "(`writeoff approvals`) is not built yet, so such a batch cannot be committed now.")


def test_commit_refusals_are_one_line_and_exit_1(store):
    over = _commit(store)
    assert over.returncode == 1
    assert over.stderr.splitlines() == [
        "writeoff commit: error: Batch total 677.84 is over the second-approver limit 500.00: no approver "
        f"was named; {_QUEUE}"
    ]
    # issue 16: naming sam, who holds approve_write_off, is not sam approving
    named = _commit(store, "--approver", "sam")
    assert named.returncode == 1
    assert named.stderr.splitlines() == [
        "writeoff commit: error: Batch total 677.84 is over the second-approver limit 500.00: approver "
        f"'sam' is not the login running this ({LOGIN!r}); an approver approves from their own login; {_QUEUE}"
    ]
    self_approved = _commit(store, "--approver", LOGIN)
    assert self_approved.returncode == 1 and f"{LOGIN!r} named themself as approver" in self_approved.stderr
    as_sam = _commit(store, "--user", "sam", "--approver", "sam")
    assert as_sam.returncode == 1
    assert as_sam.stderr.splitlines() == [
        f"writeoff commit: error: --user 'sam' is not the login running this ({LOGIN!r}): the acting user "
        "is always your login; drop --user, or log in as sam to act as them."
    ]
    (store / "viewer.toml").write_text(f'[users.{LOGIN}]\npermissions = ["mass_write_off_history"]\n', encoding="utf-8")
    viewer = _commit(store, "--exclude", "E3", "--config", "viewer.toml")
    assert viewer.returncode == 1
    assert f"User {LOGIN!r} may not find write-off candidates: the permission 'mass_write_off' is missing" in viewer.stderr
    custom = _commit(store, "--exclude", "E3", "--reason", "CUSTOM")
    assert custom.returncode == 1 and "CUSTOM needs its own text" in custom.stderr
    unknown = _commit(store, "--exclude", "E9")
    assert unknown.returncode == 1 and "unknown group key(s) E9" in unknown.stderr
    for proc in (over, named, self_approved, as_sam, viewer, custom, unknown):
        assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1
    ledger = Ledger(store / "s.duckdb")
    assert amounts(find(ledger)) == EXPECTED  # nothing changed
    refused = audit_log(ledger).filter(audit_log(ledger)["outcome"] == "REFUSED")
    assert refused.height == 5 and set(refused["user_name"]) == {LOGIN}  # never 'sam'
    assert any("--user 'sam'" in (d or "") for d in refused["detail"])


def test_exclude_criteria_file_and_hardship_reference(store):
    (store / "c.toml").write_text(
        '[criteria]\nbalance_type = "PATIENT"\nwrite_off_by = "ENCOUNTER"\nresponsibility = "NOT_RESPONSIBLE"\n',
        encoding="utf-8",
    )
    done = _run(store, "commit", "--db", "s.duckdb", "--criteria", "c.toml", "--reason", "FINANCIAL_HARDSHIP",
                "--reason-text", "HD-2026-17", "--exclude", "E1", "E3")
    assert done.returncode == 0, done.stderr
    receipt = get_receipt(Ledger(store / "s.duckdb"), done.stdout.splitlines()[-1])
    assert (receipt.reason_code, receipt.determination_reference, receipt.total) == (
        "FINANCIAL_HARDSHIP", "HD-2026-17", Decimal("25.50"))
    no_ref = _run(store, "commit", "--db", "s.duckdb", "--criteria", "c.toml", "--reason", "FINANCIAL_HARDSHIP",
                  )
    assert no_ref.returncode == 1 and "needs the reference" in no_ref.stderr


def test_history_formats_and_reverse(store):
    assert _commit(store, "--exclude", "E3").returncode == 0
    table = _run(store, "history", "--db", "s.duckdb")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[1].split()[0] == "WO-000001"
    as_csv = _run(store, "history", "--db", "s.duckdb", "--format", "csv", "--from", "2020-01-01")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["receipt_no"], r["total_amount"], r["preparer"]) for r in rows] == [("WO-000001", "77.84", LOGIN)]
    none = _run(store, "history", "--db", "s.duckdb", "--format", "json", "--to", "2020-01-01")
    assert json.loads(none.stdout) == []
    shown = _run(store, "history", "--db", "s.duckdb", "--receipt", "WO-000001", "--format", "json")
    body = json.loads(shown.stdout)
    assert body["receipt"]["total"] == "77.84"
    assert [(line["charge_id"], line["amount"]) for line in body["lines"]] == [
        ("C1", "-40.00"), ("C2", "-12.34"), ("C3", "-25.50")]
    denied = _run(store, "reverse", "--db", "s.duckdb", "--receipt", "WO-000001", "--reason", "oops")
    assert denied.returncode == 1 and "'reverse_write_off' is missing" in denied.stderr
    (store / "writeoff.toml").write_text(CONFIG.replace('"mass_write_off_history"]', '"mass_write_off_history", "reverse_write_off"]', 1), encoding="utf-8")
    done = _run(store, "reverse", "--db", "s.duckdb", "--receipt", "WO-000001", "--charge-id", "C2",
                "--reason", "oops")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "WO-000002"
    assert amounts(find(Ledger(store / "s.duckdb"))) == {"C2": Decimal("12.34"), "C4": Decimal("600.00")}
    unknown = _run(store, "reverse", "--db", "s.duckdb", "--receipt", "WO-000404", "--reason", "x")
    assert unknown.returncode == 1
    assert unknown.stderr.splitlines() == [
        "writeoff reverse: error: unknown receipt 'WO-000404': no receipt with that number in s.duckdb."
    ]
    missing = _run(store, "history", "--db", "s.duckdb", "--receipt", "WO-000404")
    assert missing.returncode == 1 and "unknown receipt 'WO-000404'" in missing.stderr


def test_without_a_config_file_the_cli_says_so_once(tmp_path):
    make_store(tmp_path / "s.duckdb")
    done = _commit(tmp_path, "--exclude", "E3")
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if "no config file" in line]
    assert len(notes) == 1 and "holds every permission" in notes[0]
    assert done.stdout.splitlines()[-1] == "WO-000001"
