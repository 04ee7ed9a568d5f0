"""835 claim statuses (CLP02) and reversals post as docs/spec/X12_835_POSTING.md says."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl
import pytest

from tests.conftest import build_ledger
from tests.test_x12_835 import _835, _balances, _transactions, _write
from writeoff_analytics.sources.x12_835 import import_835

if TYPE_CHECKING:
    from pathlib import Path

    from writeoff_analytics.ledger.store import Ledger

D = Decimal
OTHER_PAYER = "N1*PR*TEST MEDICAID*XV*P-MCD"


def _ledger() -> Ledger:
    return build_ledger(
        payers=[
            {
                "payer_id": "P-MCR",
                "payer_name": "Test Medicare",
                "financial_class": "MEDICARE",
                "balance_bill_patient": "true",
            },
            {
                "payer_id": "P-MCD",
                "payer_name": "Test Medicaid",
                "financial_class": "MEDICAID",
                "balance_bill_patient": "true",
            },
        ],
        patients=[{"patient_id": "PT1"}],
        encounters=[{"encounter_id": "E1", "patient_id": "PT1", "date_of_service": "2026-02-27"}],
        charges=[
            {
                "charge_id": "C1",
                "encounter_id": "E1",
                "procedure_code": "99213",
                "charge_amount": "200.00",
                "billed_payer_id": "P-MCR",
                "posted_date": "2026-02-27",
            }
        ],
    )


def _paid(status: str, *, clp07: str = "PCN1", paid: str = "120.00", sign: str = "") -> list[str]:
    """A claim of E1 paying ``paid`` of 200.00, CO-45 40.00, the rest PR-2 (signed by ``sign``)."""
    rest = D("200.00") - D(paid) - D("40.00")
    return [
        f"CLP*E1*{status}*{sign}200.00*{sign}{paid}*{sign}{rest}*MB*{clp07}",
        f"SVC*HC:99213*{sign}200.00*{sign}{paid}",
        "DTM*472*20260227",
        f"CAS*CO*45*{sign}40.00",
        f"CAS*PR*2*{sign}{rest}",
    ]


def _file(
    tmp_path: Path, name: str, body: list[str], *, trace: str, payer: str | None = None
) -> Path:
    text = _835(body, trace=trace, date="20260302")
    if payer is not None:
        text = text.replace("N1*PR*TEST MEDICARE*XV*P-MCR", payer)
    return _write(tmp_path, name, text)


def _outcomes(report: object) -> list[tuple[str, str | None, str]]:
    return [(o.claim, o.status, o.outcome.value) for o in report.outcomes]  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- statuses


@pytest.mark.parametrize("status", ["1", "2", "3", "19", "20", "21"])
def test_processed_claims_post_as_the_835_says(tmp_path, status):
    ledger = _ledger()
    report = import_835(ledger, [_file(tmp_path, "a.835", _paid(status), trace="T1")])
    assert _outcomes(report) == [("E1", status, "posted")]
    assert _balances(ledger)["C1"] == (D("0.00"), D("40.00"), False)
    tx = _transactions(ledger)
    assert set(tx["claim_status"]) == {status}
    assert set(tx["payer_claim_control_number"]) == {"PCN1"}
    assert set(tx["payer_id"].drop_nulls()) == {"P-MCR"}


@pytest.mark.parametrize(
    ("cas", "balance"),
    [
        ("CAS*CO*50*200.00", (D("0.00"), D("0.00"))),  # not medically necessary: adjusted off
        ("CAS*PR*204*200.00", (D("0.00"), D("200.00"))),  # not covered: the patient's
        ("CAS*OA*18*200.00", (D("0.00"), D("0.00"))),  # duplicate claim
    ],
)
def test_a_denial_posts_its_adjustments_where_the_carc_puts_them(tmp_path, cas, balance):
    ledger = _ledger()
    body = ["CLP*E1*4*200.00*0*200.00*MB*PCN1", "SVC*HC:99213*200.00*0", "DTM*472*20260227", cas]
    report = import_835(ledger, [_file(tmp_path, "d.835", body, trace="T1")])
    assert _outcomes(report) == [("E1", "4", "posted")]
    assert _balances(ledger)["C1"][:2] == balance
    tx = _transactions(ledger)
    assert tx.filter(pl.col("type") == "INSURANCE_PAYMENT").height == 0
    assert tx["reason_code"].drop_nulls().unique().to_list() == [cas.split("*")[2]]


@pytest.mark.parametrize(
    ("status", "why"),
    [("25", "predetermination (CLP02 25)"), ("23", "not our claim (CLP02 23)")],
)
def test_predeterminations_and_not_our_claims_post_nothing_and_are_reported(tmp_path, status, why):
    ledger = _ledger()
    # the estimate says the patient would owe 200.00: nothing of it may reach the ledger
    body = [
        f"CLP*E1*{status}*200.00*0*200.00*MB*PCN1",
        "SVC*HC:99213*200.00*0",
        "DTM*472*20260227",
        "CAS*PR*1*200.00",
    ]
    path = _file(tmp_path, "p.835", body, trace="T1")
    report = import_835(ledger, [path])
    assert report.transactions_added == 0 and report.import_report is None
    assert _balances(ledger)["C1"] == (D("200.00"), D("0.00"), False)
    (outcome,) = report.outcomes
    assert (outcome.claim, outcome.status, outcome.outcome.value) == ("E1", status, "reported")
    clp = path.read_bytes().index(b"CLP*")  # segment 10: ISA GS ST BPR TRN DTM N1 N1 LX CLP
    assert (outcome.file, outcome.segment, outcome.offset) == (str(path), 10, clp)
    assert outcome.reason.startswith(why)
    assert report.counts["reported"] == 1 and report.counts["posted"] == 0


def test_an_unknown_status_is_refused(tmp_path):
    ledger = _ledger()
    report = import_835(ledger, [_file(tmp_path, "u.835", _paid("7"), trace="T1")])
    assert _outcomes(report) == [("E1", "7", "refused")]
    assert report.transactions_added == 0
    assert "claim status (CLP02) '7' is not one of" in report.outcomes[0].reason


# ----------------------------------------------------------------------------- reversals


def test_a_reversal_without_its_original_is_refused_and_moves_nothing(tmp_path):
    ledger = _ledger()
    rev = _file(tmp_path, "r.835", _paid("22", sign="-"), trace="T2")
    report = import_835(ledger, [rev])
    assert _outcomes(report) == [("E1", "22", "refused")]
    assert report.transactions_added == 0
    assert _balances(ledger)["C1"] == (D("200.00"), D("0.00"), False)  # never doubled
    (err,) = report.files[0].errors
    clp = rev.read_bytes().index(b"CLP*")
    assert (err.position.segment, err.position.offset) == (10, clp)  # type: ignore[union-attr]
    assert err.reason == (
        "reversal (CLP02 22) of no posted payment: no earlier payment of payer claim control "
        "number (CLP07) 'PCN1', nor of claim 'E1' (CLP01) paid 120.00 from payer 'P-MCR' is in "
        "the ledger; not posted (import the original remittance first)"
    )


def test_a_reversal_posts_once_and_a_repeat_is_refused_or_skipped(tmp_path):
    ledger = _ledger()
    import_835(ledger, [_file(tmp_path, "o.835", _paid("1"), trace="T1")])
    assert _balances(ledger)["C1"] == (D("0.00"), D("40.00"), False)
    rev = _file(tmp_path, "r.835", _paid("22", sign="-"), trace="T2")
    first = import_835(ledger, [rev])
    assert _outcomes(first) == [("E1", "22", "posted")]
    assert _balances(ledger)["C1"] == (D("200.00"), D("0.00"), False)
    after = _transactions(ledger)
    # the same remittance again: skipped by its ids
    again = import_835(ledger, [rev])
    assert _outcomes(again) == [("E1", "22", "skipped")]
    # the same reversal resent in another remittance: already reversed, refused
    resent = import_835(ledger, [_file(tmp_path, "r2.835", _paid("22", sign="-"), trace="T3")])
    assert _outcomes(resent) == [("E1", "22", "refused")]
    assert "already reversed" in resent.outcomes[0].reason
    assert "(trace T1) was reversed by trace T2" in resent.outcomes[0].reason
    assert _transactions(ledger).equals(after)
    assert _balances(ledger)["C1"] == (D("200.00"), D("0.00"), False)  # never negative


def test_a_correction_after_a_reversal_posts_and_can_be_reversed_in_turn(tmp_path):
    ledger = _ledger()
    import_835(ledger, [_file(tmp_path, "o.835", _paid("1"), trace="T1")])
    # the payer's usual pair in one remittance: reversal of PCN1, then the corrected claim
    body = [*_paid("22", sign="-"), *_paid("1", clp07="PCN2", paid="150.00")]
    report = import_835(ledger, [_file(tmp_path, "rc.835", body, trace="T2")])
    assert _outcomes(report) == [("E1", "22", "posted"), ("E1", "1", "posted")]
    assert _balances(ledger)["C1"] == (D("0.00"), D("10.00"), False)
    rev2 = _paid("22", clp07="PCN2", paid="150.00", sign="-")
    second = import_835(ledger, [_file(tmp_path, "r2.835", rev2, trace="T3")])
    assert _outcomes(second) == [("E1", "22", "posted")]
    assert _balances(ledger)["C1"] == (D("200.00"), D("0.00"), False)


def test_a_reversal_without_clp07_matches_by_claim_and_amount(tmp_path):
    ledger = _ledger()
    import_835(ledger, [_file(tmp_path, "o.835", _paid("1", clp07=""), trace="T1")])
    wrong = _file(tmp_path, "w.835", _paid("22", clp07="", paid="110.00", sign="-"), trace="T2")
    refused = import_835(ledger, [wrong])
    assert _outcomes(refused) == [("E1", "22", "refused")]
    assert "claim 'E1' (CLP01) paid 110.00" in refused.outcomes[0].reason
    right = _file(tmp_path, "r.835", _paid("22", clp07="", sign="-"), trace="T3")
    assert _outcomes(import_835(ledger, [right])) == [("E1", "22", "posted")]
    assert _balances(ledger)["C1"] == (D("200.00"), D("0.00"), False)


def test_a_reversal_of_a_different_amount_than_its_clp07_payment_is_refused(tmp_path):
    ledger = _ledger()
    import_835(ledger, [_file(tmp_path, "o.835", _paid("1"), trace="T1")])
    rev = _file(tmp_path, "r.835", _paid("22", paid="100.00", sign="-"), trace="T2")
    report = import_835(ledger, [rev])
    assert _outcomes(report) == [("E1", "22", "refused")]
    assert report.outcomes[0].reason == (
        "the payment with payer claim control number (CLP07) 'PCN1' paid 120.00, the reversal "
        "takes back 100.00: a reversal undoes a whole payment; not posted"
    )


def test_a_reversal_from_another_payer_is_refused(tmp_path):
    ledger = _ledger()
    import_835(ledger, [_file(tmp_path, "o.835", _paid("1"), trace="T1")])
    rev = _file(tmp_path, "r.835", _paid("22", sign="-"), trace="T2", payer=OTHER_PAYER)
    report = import_835(ledger, [rev])
    assert _outcomes(report) == [("E1", "22", "refused")]
    assert "from payer 'P-MCD'" in report.outcomes[0].reason
    assert _balances(ledger)["C1"] == (D("0.00"), D("40.00"), False)


def test_a_file_imported_again_after_its_reversal_found_its_original_posts_nothing_twice(
    tmp_path,
):
    ledger = _ledger()
    # reversal (refused: its original is not in yet), then the corrected claim (posted)
    body = [*_paid("22", sign="-"), *_paid("1", clp07="PCN2", paid="150.00")]
    pair = _file(tmp_path, "rc.835", body, trace="T2")
    first = import_835(ledger, [pair])
    assert _outcomes(first) == [("E1", "22", "refused"), ("E1", "1", "posted")]
    assert _balances(ledger)["C1"] == (D("0.00"), D("10.00"), False)
    import_835(ledger, [_file(tmp_path, "o.835", _paid("1"), trace="T1")])  # the original
    again = import_835(ledger, [pair])
    # the reversal now posts; the correction keeps its ids and is skipped, not posted twice
    assert _outcomes(again) == [("E1", "22", "posted"), ("E1", "1", "skipped")]
    assert _balances(ledger)["C1"] == (D("0.00"), D("10.00"), False)
    ids = _transactions(ledger)["transaction_id"].to_list()
    assert len(ids) == len(set(ids)) == 12  # 4 rows each: original, reversal, correction
