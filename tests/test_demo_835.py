"""The demo ledger's 835 (data/demo/remittance_demo.835) posts onto the demo, to the cent."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl

from tests.conftest import DEMO_DIR, build_ledger
from tests.test_x12_835 import _pyx12
from writeoff_analytics import Criteria, load_ledger, queries
from writeoff_analytics.candidates import find_candidates
from writeoff_analytics.criteria.presets import criteria_from_preset
from writeoff_analytics.reporting.candidates import report_candidates
from writeoff_analytics.sources.x12_835 import Outcome, import_835

if TYPE_CHECKING:
    from pathlib import Path

    from writeoff_analytics.ledger.store import Ledger

REMITTANCE = DEMO_DIR / "remittance_demo.835"
D = Decimal
#: charge -> (insurance_balance, patient_balance) before and after the import.
BEFORE = {
    "C0009591": (D("210.00"), D("0.00")),  # E0005569, paid: CO-45 and PR-2 coinsurance
    "C0009592": (D("85.00"), D("0.00")),
    "C0009697": (D("210.00"), D("0.00")),  # E0005633, QMB (N781), forwarded to Medicaid (19)
    "C0003253": (D("210.00"), D("0.00")),  # E0001902, denied (4) CO-29 timely filing
    "C0009840": (D("285.00"), D("0.00")),  # E0005715, predetermination (25): nothing
}
AFTER = {
    "C0009591": (D("0.00"), D("25.68")),
    "C0009592": (D("0.00"), D("3.39")),
    "C0009697": (D("0.00"), D("25.68")),
    "C0003253": (D("0.00"), D("0.00")),
    "C0009840": (D("285.00"), D("0.00")),
}


def _balances(frame: pl.DataFrame) -> dict[str, tuple[Decimal, Decimal]]:
    rows = frame.filter(pl.col("charge_id").is_in(list(BEFORE))).select(
        "charge_id", "insurance_balance", "patient_balance"
    )
    return {r[0]: (r[1], r[2]) for r in rows.iter_rows()}


def test_demo_835_posts_to_the_cent_and_once(tmp_path: Path) -> None:
    ledger = load_ledger(DEMO_DIR, tmp_path / "demo.duckdb")
    before = ledger.balances()
    assert _balances(before) == BEFORE
    report = import_835(ledger, [REMITTANCE])
    assert [(o.claim, o.status, o.outcome) for o in report.outcomes] == [
        ("E0005569", "1", Outcome.POSTED),
        ("E0005633", "19", Outcome.POSTED),
        ("E0001902", "4", Outcome.POSTED),
        ("E0005715", "25", Outcome.REPORTED),
    ]
    (f,) = report.files
    assert (f.paid_total, f.posted_paid_total) == (D("219.00"), D("219.00"))
    # the predetermination's 285.00 of CAS is read, not posted
    assert (f.adjustments_total, f.posted_adjustments_total) == (D("781.00"), D("496.00"))
    assert report.transactions_added == 13
    with ledger.connect() as con:
        transactions = queries.frame(con, "select_snapshot_transactions")
    rows = transactions.filter(pl.col("transaction_id").str.starts_with("835:"))
    got = sorted(
        (
            r["charge_id"],
            r["type"],
            r["responsibility"],
            r["amount"],
            r["group_code"],
            r["reason_code"],
            r["remark_codes"],
        )
        for r in rows.iter_rows(named=True)
    )
    assert got == sorted(
        [
            ("C0009591", "INSURANCE_PAYMENT", "INSURANCE", D("-102.72"), None, None, None),
            ("C0009591", "INSURANCE_ADJUSTMENT", "INSURANCE", D("-81.60"), "CO", "45", None),
            ("C0009591", "TRANSFER", "INSURANCE", D("-25.68"), "PR", "2", None),
            ("C0009591", "TRANSFER", "PATIENT", D("25.68"), "PR", "2", None),
            ("C0009592", "INSURANCE_PAYMENT", "INSURANCE", D("-13.56"), None, None, None),
            ("C0009592", "INSURANCE_ADJUSTMENT", "INSURANCE", D("-68.05"), "CO", "45", None),
            ("C0009592", "TRANSFER", "INSURANCE", D("-3.39"), "PR", "2", None),
            ("C0009592", "TRANSFER", "PATIENT", D("3.39"), "PR", "2", None),
            ("C0009697", "INSURANCE_PAYMENT", "INSURANCE", D("-102.72"), None, None, "N781"),
            ("C0009697", "INSURANCE_ADJUSTMENT", "INSURANCE", D("-81.60"), "CO", "45", "N781"),
            ("C0009697", "TRANSFER", "INSURANCE", D("-25.68"), "PR", "2", "N781"),
            ("C0009697", "TRANSFER", "PATIENT", D("25.68"), "PR", "2", "N781"),
            ("C0003253", "INSURANCE_ADJUSTMENT", "INSURANCE", D("-210.00"), "CO", "29", None),
        ]
    )
    assert all(isinstance(a, Decimal) for a in rows["amount"])
    assert set(rows["payer_id"].drop_nulls()) == {"MCR01"}
    assert set(rows["reference"]) == {"EFT20261030MCR"}
    after = ledger.balances()
    assert _balances(after) == AFTER
    # nothing else moved
    others = pl.col("charge_id").is_in(list(BEFORE)).not_()
    cols = ["charge_id", "insurance_balance", "patient_balance"]
    assert (
        after.filter(others)
        .select(cols)
        .sort("charge_id")
        .equals(before.filter(others).select(cols).sort("charge_id"))
    )
    # the QMB line is not the patient's to pay (N781)
    qmb = after.filter(pl.col("charge_id") == "C0009697")["not_responsible"].item()
    assert qmb is True

    again = import_835(ledger, [REMITTANCE])
    assert again.transactions_added == 0
    assert [o.outcome for o in again.outcomes] == [
        Outcome.SKIPPED,
        Outcome.SKIPPED,
        Outcome.SKIPPED,
        Outcome.REPORTED,
    ]
    assert _balances(ledger.balances()) == AFTER


def test_demo_835_is_valid_5010_for_pyx12() -> None:
    reading = _pyx12(REMITTANCE)
    assert reading is not None
    assert (reading.claims, reading.lines, reading.findings) == (4, 5, [])


def test_demo_835_command_exits_0(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    cli = [sys.executable, "-m", "writeoff_analytics.cli"]
    load = subprocess.run(
        [*cli, "load", str(DEMO_DIR), "--db", str(db)], capture_output=True, text=True, timeout=300
    )
    assert load.returncode == 0, load.stderr
    proc = subprocess.run(
        [*cli, "import-835", str(REMITTANCE), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "claims: 3 posted, 0 skipped, 0 refused, 0 unmatched, 1 reported" in proc.stdout
    assert "13 transactions added" in proc.stdout
    assert not list(tmp_path.glob("*.csv"))  # everything that should post posted


# ----------------------------------------------------------------------------- evidence
# Issue 15, item 5: the timely-filing report shows the 835 rows (CARC/RARC) of its lines.


def _tx(tid: str, charge: str, date: str, kind: str, amount: str, **kw: str) -> dict[str, str]:
    return {
        "transaction_id": tid,
        "charge_id": charge,
        "posted_date": date,
        "type": kind,
        "responsibility": "INSURANCE",
        "payer_id": "P-MCR",
        "amount": amount,
        **kw,
    }


def _evidence_ledger() -> Ledger:
    """C1 denied CO-16/N290 then the denial reversed (open, old); C2 old, no 835; C3 young."""
    charges = [
        ("C1", "E1", "2025-01-10", "200.00"),
        ("C2", "E2", "2025-02-10", "150.00"),
        ("C3", "E3", "2026-10-01", "100.00"),
    ]
    return build_ledger(
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
            {"encounter_id": e, "patient_id": "PT1", "date_of_service": dos}
            for _, e, dos, _ in charges
        ],
        charges=[
            {
                "charge_id": c,
                "encounter_id": e,
                "procedure_code": "99213",
                "charge_amount": amount,
                "billed_payer_id": "P-MCR",
                "posted_date": dos,
            }
            for c, e, dos, amount in charges
        ],
        transactions=[
            _tx("835:EFT1:E1:1", "C1", "2025-03-01", "INSURANCE_ADJUSTMENT", "-200.00",
                group_code="CO", reason_code="16", remark_codes="N290", reference="EFT1"),
            _tx("835:EFT2:E1:1", "C1", "2025-04-01", "INSURANCE_ADJUSTMENT", "200.00",
                group_code="CO", reason_code="16", remark_codes="N290", reference="EFT2"),
            _tx("835:EFT2:E1:2", "C1", "2025-04-01", "INSURANCE_PAYMENT", "0.00",
                reference="EFT2"),
            _tx("T1", "C2", "2025-03-01", "INSURANCE_ADJUSTMENT", "-10.00",
                group_code="CO", reason_code="45", reference="CHK9"),
            _tx("835:EFT3:E3:1", "C3", "2026-10-20", "INSURANCE_ADJUSTMENT", "-20.00",
                group_code="CO", reason_code="45", reference="EFT3"),
        ],
    )  # fmt: skip


def test_timely_filing_report_shows_the_remittance_evidence() -> None:
    ledger = _evidence_ledger()
    found = find_candidates(ledger, criteria_from_preset("timely-filing", as_of="2026-11-01"))
    assert sorted(found.lines["charge_id"].to_list()) == ["C1", "C2"]
    report = report_candidates(found, ledger=ledger)
    assert [s.key for s in report.sections][-2:] == ["lines", "evidence"]
    evidence = report.section("evidence")
    assert evidence.title == "Remittance evidence: 1 line with 835 adjustment or remark codes"
    rows = evidence.frame.select(
        "charge_id", "transaction_id", "posted_date", "reference", "amount",
        "group_code", "reason_code", "remark_codes",
    ).rows()  # fmt: skip
    assert rows == [
        ("C1", "835:EFT1:E1:1", date(2025, 3, 1), "EFT1", D("-200.00"), "CO", "16", "N290"),
        ("C1", "835:EFT2:E1:1", date(2025, 4, 1), "EFT2", D("200.00"), "CO", "16", "N290"),
    ]
    assert "N290" in evidence.gt.as_raw_html()
    # other presets, and a report without its store, have no evidence section
    other = find_candidates(ledger, Criteria("INSURANCE", "PROCEDURE_LINE", as_of="2026-11-01"))
    assert "evidence" not in [s.key for s in report_candidates(other, ledger=ledger).sections]
    assert "evidence" not in [s.key for s in report_candidates(found).sections]


def test_timely_filing_report_on_the_demo_after_its_835(tmp_path: Path) -> None:
    ledger = load_ledger(DEMO_DIR, tmp_path / "demo.duckdb")
    import_835(ledger, [REMITTANCE])
    found = find_candidates(ledger, criteria_from_preset("timely-filing", as_of="2026-11-01"))
    # the CO-29 denial left nothing open on C0003253, so it is not listed, nor its evidence
    assert "C0003253" not in found.lines["charge_id"].to_list()
    evidence = report_candidates(found, ledger=ledger).section("evidence")
    assert evidence.frame.height == 0
    assert evidence.note == "No 835 row with a CAS or remark code was posted to the listed lines."
