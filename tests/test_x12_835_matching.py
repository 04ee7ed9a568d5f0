"""835 claims match by the chosen key, lines by REF*6R, code and their own dates; never guessed."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from tests.conftest import make_frames
from tests.test_x12_835 import _835, _balances, _write
from writeoff_analytics.errors import LedgerError
from writeoff_analytics.ledger.snapshot import replace_snapshot
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.sources.x12_835 import import_835

D = Decimal
PAYERS = [
    {
        "payer_id": "P-MCR",
        "payer_name": "Test Medicare",
        "financial_class": "MEDICARE",
        "balance_bill_patient": "true",
    }
]


def _charge(
    cid: str, enc: str, code: str = "97110", amount: str = "100.00", **kw: str
) -> dict[str, str]:
    return {
        "charge_id": cid,
        "encounter_id": enc,
        "procedure_code": code,
        "charge_amount": amount,
        "billed_payer_id": "P-MCR",
        "posted_date": "2026-03-01",
        **kw,
    }


def _ledger(
    charges: list[dict[str, str]],
    *,
    extra: dict[str, list[Any]] | None = None,
    path: str = ":memory:",
) -> Ledger:
    """Three therapy visits of PT1; ``extra`` adds charges columns (claim_id, modifiers)."""
    frames = make_frames(
        payers=PAYERS,
        patients=[{"patient_id": "PT1"}],
        encounters=[
            {"encounter_id": "V1", "patient_id": "PT1", "date_of_service": "2026-02-02"},
            {"encounter_id": "V2", "patient_id": "PT1", "date_of_service": "2026-02-09"},
            {"encounter_id": "V3", "patient_id": "PT1", "date_of_service": "2026-02-16"},
        ],
        charges=charges,
    )
    if extra:
        frames["charges"] = frames["charges"].with_columns(
            pl.Series(name, values, dtype=pl.String) for name, values in extra.items()
        )
    ledger = Ledger(path)
    replace_snapshot(ledger, frames, source="test")
    return ledger


THERAPY = [_charge("C1", "V1"), _charge("C2", "V2"), _charge("C3", "V3", code="97140")]
CLAIM_IDS = {"claim_id": ["CLM-7", "CLM-7", "CLM-8"]}


def _multi_date(pcn: str) -> list[str]:
    """One claim paying two visits' 97110, each line with its own DTM*472."""
    return [
        f"CLP*{pcn}*1*200.00*160.00**MB*ICN1",
        "SVC*HC:97110*100.00*80.00",
        "DTM*472*20260209",
        "CAS*CO*45*20.00",
        "SVC*HC:97110*100.00*80.00",
        "DTM*472*20260202",
        "CAS*CO*45*20.00",
    ]


def test_a_multi_date_claim_posts_each_line_on_its_own_date_by_claim_id(tmp_path):
    ledger = _ledger(THERAPY, extra=CLAIM_IDS)
    report = import_835(
        ledger, [_write(tmp_path, "m.835", _835(_multi_date("CLM-7")))], match="claim"
    )
    assert [(o.claim, o.outcome.value) for o in report.outcomes] == [("CLM-7", "posted")]
    assert {k: v[:2] for k, v in _balances(ledger).items()} == {
        "C1": (D("0.00"), D("0.00")),
        "C2": (D("0.00"), D("0.00")),
        "C3": (D("100.00"), D("0.00")),
    }


def test_a_multi_date_claim_by_patient_control_number(tmp_path):
    ledger = _ledger(THERAPY)
    path = _write(tmp_path, "m.835", _835(_multi_date("PT1")))
    report = import_835(ledger, [path], match="patient-control")
    assert [o.outcome.value for o in report.outcomes] == ["posted"]
    assert _balances(ledger)["C1"][:2] == _balances(ledger)["C2"][:2] == (D("0.00"), D("0.00"))


def test_a_multi_date_claim_does_not_match_one_encounter(tmp_path):
    ledger = _ledger(THERAPY)
    report = import_835(ledger, [_write(tmp_path, "m.835", _835(_multi_date("V1")))])
    (outcome,) = report.outcomes
    assert outcome.outcome.value == "unmatched"
    assert "service date 2026-02-09 is not the date of service 2026-02-02 of encounter 'V1'" in (
        outcome.reason
    )


def test_match_claim_needs_the_claim_id_column(tmp_path):
    ledger = _ledger(THERAPY)
    report = import_835(
        ledger, [_write(tmp_path, "m.835", _835(_multi_date("CLM-7")))], match="claim"
    )
    (outcome,) = report.outcomes
    assert outcome.outcome.value == "unmatched"
    assert outcome.reason == (
        "--match claim needs the optional charges column 'claim_id' (the PM system's claim "
        "number), which this ledger lacks"
    )


def test_an_unknown_match_key_is_refused():
    with pytest.raises(LedgerError, match="match key 'visit' is not one of encounter, claim"):
        import_835(_ledger(THERAPY), [], match="visit")


def test_lines_without_dates_match_within_the_claims_dates(tmp_path):
    ledger = _ledger(THERAPY, extra=CLAIM_IDS)
    body = [
        "CLP*CLM-7*1*100.00*80.00**MB*ICN1",
        "DTM*232*20260208",
        "DTM*233*20260210",
        "SVC*HC:97110*100.00*80.00",
        "CAS*CO*45*20.00",
    ]
    report = import_835(ledger, [_write(tmp_path, "d.835", _835(body))], match="claim")
    assert [o.outcome.value for o in report.outcomes] == ["posted"]
    assert _balances(ledger)["C2"][:2] == (D("0.00"), D("0.00"))  # the 02-09 visit, not 02-02
    assert _balances(ledger)["C1"][:2] == (D("100.00"), D("0.00"))


def test_ambiguous_lines_are_refused_never_guessed(tmp_path):
    # two 97110 on the same visit that the ledger tells apart (units): which one was paid?
    charges = [_charge("C1", "V1", units="1"), _charge("C2", "V1", units="2")]
    ledger = _ledger(charges)
    body = ["CLP*V1*1*100.00*80.00**MB*ICN1", "SVC*HC:97110*100.00*80.00", "CAS*CO*45*20.00"]
    report = import_835(ledger, [_write(tmp_path, "a.835", _835(body))])
    (outcome,) = report.outcomes
    assert outcome.outcome.value == "unmatched"
    assert "ambiguous, charges C1, C2 fit it equally; not guessed" in outcome.reason
    assert report.transactions_added == 0
    # REF*6R settles it
    body.insert(2, "REF*6R*C2")
    report = import_835(ledger, [_write(tmp_path, "b.835", _835(body, trace="T2"))])
    assert [o.outcome.value for o in report.outcomes] == ["posted"]
    assert _balances(ledger)["C2"][:2] == (D("0.00"), D("0.00"))


def test_modifiers_tell_lines_apart_when_charges_carry_them(tmp_path):
    charges = [_charge("C1", "V1"), _charge("C2", "V1")]
    ledger = _ledger(charges, extra={"modifiers": ["GP", "GP:59"]})
    body = ["CLP*V1*1*100.00*80.00**MB*ICN1", "SVC*HC:97110:GP:59*100.00*80.00", "CAS*CO*45*20.00"]
    report = import_835(ledger, [_write(tmp_path, "m.835", _835(body))])
    assert [o.outcome.value for o in report.outcomes] == ["posted"]
    assert {k: v[0] for k, v in _balances(ledger).items()} == {"C1": D("100.00"), "C2": D("0.00")}


def test_the_cli_takes_the_match_key(tmp_path):
    db = tmp_path / "ledger.duckdb"
    _ledger(THERAPY, extra=CLAIM_IDS, path=str(db))
    path = _write(tmp_path, "m.835", _835(_multi_date("CLM-7")))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "writeoff_analytics.cli",
            "import-835",
            str(path),
            "--db",
            str(db),
            "--match",
            "claim",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert "claims: 1 posted, 0 skipped, 0 refused, 0 unmatched, 0 reported" in done.stdout
