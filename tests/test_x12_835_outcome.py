"""The import's outcome: per-claim results, the summary, exit statuses and the unposted CSV."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections import Counter
from typing import TYPE_CHECKING

from tests.conftest import build_ledger
from tests.test_x12_835 import _835, _write
from tests.test_x12_835_statuses import _paid

if TYPE_CHECKING:
    from pathlib import Path

UNPOSTED_HEADER = [
    "file",
    "segment",
    "byte_offset",
    "patient_control_number",
    "claim_status",
    "payer_claim_control_number",
    "paid_amount",
    "outcome",
    "reason",
]


def _store(tmp_path: Path) -> Path:
    db = tmp_path / "ledger.duckdb"
    build_ledger(
        str(db),
        payers=[
            {
                "payer_id": "P-MCR",
                "payer_name": "Test Medicare",
                "financial_class": "MEDICARE",
                "balance_bill_patient": "true",
            }
        ],
        patients=[{"patient_id": "PT1"}],
        encounters=[
            {"encounter_id": "E1", "patient_id": "PT1", "date_of_service": "2026-02-27"},
            {"encounter_id": "E2", "patient_id": "PT1", "date_of_service": "2026-02-27"},
        ],
        charges=[
            {
                "charge_id": "C1",
                "encounter_id": "E1",
                "procedure_code": "99213",
                "charge_amount": "200.00",
                "billed_payer_id": "P-MCR",
                "posted_date": "2026-02-27",
            },
            {
                "charge_id": "C2",
                "encounter_id": "E2",
                "procedure_code": "99214",
                "charge_amount": "300.00",
                "billed_payer_id": "P-MCR",
                "posted_date": "2026-02-27",
            },
        ],
    )
    return db


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "writeoff_analytics.cli", "import-835", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def _summary(stdout: str) -> dict[str, int]:
    (line,) = [ln for ln in stdout.splitlines() if ln.startswith("claims: ")]
    return {m[2]: int(m[1]) for m in re.finditer(r"(\d+) (\w+)", line)}


MIXED = [
    *_paid("1"),  # E1 posts
    "CLP*E9*1*50.00*50.00**MB*X9",  # no such encounter: unmatched
    "SVC*HC:99213*50.00*50.00",
    "CLP*E2*25*300.00*0*300.00*MB*X2",  # predetermination: reported
    "SVC*HC:99214*300.00*0",
    "CAS*PR*1*300.00",
    *_paid("22", clp07="X3", paid="50.00", sign="-"),  # reverses nothing: refused
    "CLP*E2*1*300.00*200.00**MB*X4",  # unreadable CAS amount: refused
    "SVC*HC:99214*300.00*200.00",
    "CAS*CO*45*100.005",
]


def test_a_partial_import_exits_3_and_writes_the_unposted_claims(tmp_path):
    db = _store(tmp_path)
    path = _write(tmp_path, "mixed.835", _835(MIXED, trace="T1"))
    unposted = tmp_path / "out" / "unposted.csv"
    unposted.parent.mkdir()
    done = _cli(str(path), "--db", str(db), "--unposted", str(unposted))
    assert done.returncode == 3, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr == (
        "writeoff import-835: partial: 4 transactions posted, 3 claim(s) refused or unmatched, "
        f"0 file(s) refused; the 4 unposted claim(s) are listed in {unposted}\n"
    )
    summary = _summary(done.stdout)
    assert summary == {"posted": 1, "skipped": 0, "refused": 2, "unmatched": 1, "reported": 1}
    with unposted.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == UNPOSTED_HEADER
    counts = Counter(r["outcome"] for r in rows)
    assert {o: counts[o] for o in summary if o != "posted"} == {
        o: n for o, n in summary.items() if o != "posted"
    }
    data = path.read_bytes()
    for r in rows:  # every row names its CLP by segment number and byte offset
        assert r["file"] == str(path)
        assert data[int(r["byte_offset"]) :].startswith(
            b"CLP*" + r["patient_control_number"].encode()
        )
    by_claim = {(r["patient_control_number"], r["outcome"]): r for r in rows}
    assert set(by_claim) == {
        ("E9", "unmatched"),
        ("E2", "reported"),
        ("E1", "refused"),
        ("E2", "refused"),
    }
    assert by_claim["E9", "unmatched"]["reason"].startswith("no encounter 'E9' in the ledger")
    assert by_claim["E1", "refused"]["paid_amount"] == "-50.00"
    assert by_claim["E1", "refused"]["claim_status"] == "22"
    assert "'100.005' cannot be read" in by_claim["E2", "refused"]["reason"]


def test_an_import_that_posts_nothing_exits_1_with_one_line(tmp_path):
    db = _store(tmp_path)
    path = _write(tmp_path, "ok.835", _835(_paid("1"), trace="T1"))
    first = _cli(str(path), "--db", str(db))
    assert (first.returncode, first.stderr) == (0, "")
    assert _summary(first.stdout)["posted"] == 1
    assert not (tmp_path / "import-835-unposted.csv").exists()
    again = _cli(str(path), "--db", str(db))
    assert again.returncode == 1
    csv_path = tmp_path / "import-835-unposted.csv"
    assert again.stderr == (
        "writeoff import-835: error: nothing was posted (0 posted, 1 skipped, 0 refused, "
        f"0 unmatched, 0 reported); the 1 unposted claim(s) are listed in {csv_path}\n"
    )
    with csv_path.open(newline="", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["patient_control_number"], row["outcome"]) == ("E1", "skipped")


def test_a_predetermination_alone_posts_nothing_and_exits_1(tmp_path):
    db = _store(tmp_path)
    body = ["CLP*E2*25*300.00*0*300.00*MB*X2", "SVC*HC:99214*300.00*0", "CAS*PR*1*300.00"]
    done = _cli(str(_write(tmp_path, "p.835", _835(body))), "--db", str(db))
    assert done.returncode == 1
    assert done.stderr.startswith(
        "writeoff import-835: error: nothing was posted (0 posted, 0 skipped, 0 refused, "
        "0 unmatched, 1 reported)"
    )
    assert done.stderr.count("\n") == 1


def test_an_unwritable_unposted_csv_does_not_hide_what_was_posted(tmp_path):
    db = _store(tmp_path)
    path = _write(tmp_path, "mixed.835", _835(MIXED, trace="T1"))
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    nowhere = tmp_path / "a-file" / "unposted.csv"
    done = _cli(str(path), "--db", str(db), "--unposted", str(nowhere))
    assert done.returncode == 3
    assert done.stderr.startswith("writeoff import-835: partial: 4 transactions posted, ")
    assert f"the unposted claims could not be written to {nowhere}" in done.stderr
    assert done.stderr.count("\n") == 1 and not nowhere.exists()
