"""Files that are not 835s are refused as what they are; refusals keep the reader's place."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.test_x12_835 import CLAIM_FILES, DATA, _835, _write
from tests.test_x12_835_outcome import _store
from tests.test_x12_835_statuses import _ledger
from writeoff_analytics.errors import ImportError835
from writeoff_analytics.sources.x12_835 import Position, import_835, parse_835

CLAIM_837 = DATA / "synthetic__837P_professional_claim.837"


def test_the_837_files_are_listed():
    assert CLAIM_837 in CLAIM_FILES


@pytest.mark.parametrize("path", CLAIM_FILES, ids=lambda p: p.name)
def test_an_837_is_refused_as_a_claim_file_with_its_place(path):
    with pytest.raises(ImportError835) as info:
        parse_835(path)
    st = path.read_bytes().index(b"ST*837")
    assert str(info.value).startswith(
        f"{path}, segment 3 (byte {st}), ST: an 837 claim file (ST*837, 005010X222A1), "
        "not an 835 remittance"
    )
    report = import_835(_ledger(), [path])
    (f,) = report.files
    assert f.refused == str(info.value) and report.transactions_added == 0


def test_the_cli_refuses_an_837_with_one_line_and_exit_1(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "writeoff_analytics.cli",
            "import-835",
            str(CLAIM_837),
            "--db",
            str(_store(tmp_path)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == (
        "writeoff import-835: error: nothing was posted (1 of 1 file(s) refused)\n"
    )
    assert f"{CLAIM_837}: refused: {CLAIM_837}, segment 3 (byte" in done.stdout
    assert "an 837 claim file (ST*837, 005010X222A1), not an 835 remittance" in done.stdout


def test_an_837_transaction_set_beside_an_835_is_skipped_and_said_so(tmp_path):
    text = _835(["CLP*E1*1*200.00*200.00**MB*PCN1", "SVC*HC:99213*200.00*200.00"])
    text = text.replace(
        "GE*1*1~", "ST*837*0002*005010X222A1~\nBHT*0019*00*1*20260302~\nSE*3*0002~\nGE*2*1~"
    )
    path = _write(tmp_path, "mixed.835", text)
    rem = parse_835(path)
    assert len(rem.claims) == 1
    (skipped,) = [p for p in rem.problems if p.segment_id == "ST"]
    assert skipped.reason == "an 837 claim file, not an 835 remittance; skipped"
    # ISA GS, ST BPR TRN DTM N1 N1 LX CLP SVC SE, then the 837's ST
    assert skipped.position == Position(13, path.read_bytes().index(b"ST*837"))


def test_a_file_without_any_835_keeps_the_place_of_what_it_found(tmp_path):
    text = _835([]).replace("ST*835*0001", "ST*277*0001")
    path = _write(tmp_path, "s.277", text)
    with pytest.raises(ImportError835) as info:
        parse_835(path)
    st = path.read_bytes().index(b"ST*277")
    assert str(info.value) == (
        f"{path}, segment 3 (byte {st}), ST: transaction set '277', not an 835 remittance; "
        "no 835 transaction set (ST*835 .. SE) could be read"
    )


def test_a_malformed_svc_is_not_followed_by_a_cas_total(tmp_path):
    body = [
        "CLP*E1*1*100.00*80.00**MB*PCN1",
        "SVC*HC*100.00*80.00",  # no procedure code
        "DTM*472*20260227",
        "CAS*CO*45*20.00",
    ]
    path = _write(tmp_path, "svc.835", _835(body, paid="80.00"))
    svc = path.read_bytes().index(b"SVC*")
    rem = parse_835(path)
    assert [(p.position.segment, p.segment_id, p.claim) for p in rem.errors] == [  # type: ignore[union-attr]
        (11, "SVC", "E1")
    ]
    assert "CAS" not in rem.errors[0].reason and "total" not in rem.errors[0].reason
    (claim,) = rem.claims
    assert claim.errors == (
        f"segment 11 (byte {svc}) SVC: service line cannot be read: SVC01 'HC', SVC02 '100.00', "
        "SVC03 '80.00' (procedure, charge and paid amounts are required)",
    )
    report = import_835(_ledger(), [_write(tmp_path, "svc2.835", _835(body, paid="80.00"))])
    (outcome,) = report.outcomes
    assert (outcome.outcome.value, outcome.segment) == ("refused", 10)
    assert outcome.reason == claim.errors[0]
