"""Synthea import: the sample loads, reconciles to the cent, shows no-balance-billing cases."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from writeoff_analytics import queries
from writeoff_analytics.errors import LedgerFormatError
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.sources.synthea import financial_class_of, load_synthea, read_synthea

SAMPLE = Path(__file__).parent / "data" / "synthea"
D = Decimal
MEDICAID = "7c4411ce-02f1-39b5-b9ec-dfbea9ad3c1a"


def _raw(name: str) -> pl.DataFrame:
    return pl.read_csv(SAMPLE / f"{name}.csv", infer_schema=False)


def _money(value: str | None) -> Decimal:
    return D(value) if value else D("0")


def _copy_sample(tmp_path: Path) -> Path:
    folder = tmp_path / "synthea"
    shutil.copytree(SAMPLE, folder)
    return folder


def test_the_sample_loads():
    ledger = Ledger(":memory:")
    report = load_synthea(ledger, SAMPLE)
    assert report.import_report.row_counts == {
        "payers": 9,
        "patients": 8,
        "coverages": 169,
        "encounters": 81,
        "charges": 163,
        "transactions": 385,
    }
    assert report.extract.problems == ()
    payers = ledger.frame("payers")
    classes = dict(zip(payers["payer_name"], payers["financial_class"], strict=True))
    assert classes["Medicaid"] == "MEDICAID" and classes["Medicare"] == "MEDICARE"
    assert classes["Aetna"] == "COMMERCIAL"
    assert "NO_INSURANCE" not in classes  # self-pay: no payer
    assert payers.filter(~pl.col("balance_bill_patient"))["payer_name"].sort().to_list() == [
        "Dual Eligible",
        "Medicaid",
    ]
    charges = report.extract.frames["charges"]
    assert charges.schema["procedure_code"] == pl.String
    assert "185345009" in charges["procedure_code"].to_list()  # SNOMED, kept as text
    first = charges.filter(pl.col("charge_id") == "47cd1dc0-2b8b-b518-8ebb-cb5e4728bd87").row(
        0, named=True
    )
    assert first["charge_amount"] == D("77.49") and isinstance(first["charge_amount"], Decimal)
    assert first["posted_date"] == dt.date(2023, 1, 27)
    assert first["billed_payer_id"] == "42c4fca7-f8a9-3cd1-982a-dd9751bf3e2a"  # Anthem, primary
    # NO_INSURANCE claims are self-pay
    self_pay = charges.filter(pl.col("billed_payer_id").is_null()).height
    assert self_pay == 64


def test_every_claim_reconciles_to_the_cent():
    ledger = Ledger(":memory:")
    report = load_synthea(ledger, SAMPLE)
    with ledger.connect() as con:
        charges = queries.frame(con, "select_snapshot_charges").select("charge_id", "claim_id")
    balances = ledger.balances().join(charges, on="charge_id")
    ledger_left = {
        row[0]: row[1]
        for row in balances.group_by("claim_id")
        .agg((pl.col("insurance_balance") + pl.col("patient_balance")).sum())
        .rows()
    }
    ct = _raw("claims_transactions")
    overpaid = {}
    for (claim_id,), rows in ct.group_by(["CLAIMID"]):
        charged = sum((_money(x) for x in rows.filter(pl.col("TYPE") == "CHARGE")["AMOUNT"]), D(0))
        paid = sum((_money(x) for x in rows["PAYMENTS"]), D(0))
        adjusted = sum((_money(x) for x in rows["ADJUSTMENTS"]), D(0))
        moved_out = sum(
            (_money(x) for x in rows.filter(pl.col("TYPE") == "TRANSFEROUT")["TRANSFERS"]), D(0)
        )
        moved_in = sum(
            (_money(x) for x in rows.filter(pl.col("TYPE") == "TRANSFERIN")["AMOUNT"]), D(0)
        )
        assert moved_in == moved_out  # transfers move balance, they never pay it
        # what Synthea leaves owing is what the ledger leaves owing, to the cent
        assert ledger_left[claim_id] == charged - paid - adjusted, claim_id
        if charged - paid - adjusted != 0:
            overpaid[claim_id] = charged - paid - adjusted
    # every claim ends paid, except six whose copay (80.00) exceeds the charge (77.49)
    assert overpaid == dict(report.extract.overpaid_claims)
    assert sorted(overpaid.values()) == [D("-2.51")] * 6


def test_medicaid_patient_responsibility_left_once_final_patient_payments_are_set_aside():
    # Without the option every claim is paid: no patient balance at all.
    paid = Ledger(":memory:")
    load_synthea(paid, SAMPLE)
    assert paid.balances().filter(pl.col("patient_balance") > 0).height == 0

    ledger = Ledger(":memory:")
    report = load_synthea(ledger, SAMPLE, set_aside_final_patient_payments=True)
    assert len(report.extract.set_aside) == 129
    found = ledger.balances().filter(
        (pl.col("patient_balance") > 0)
        & (pl.col("insurance_balance") == 0)
        & pl.col("not_responsible")
    )
    assert sorted(found["patient_balance"].to_list()) == [
        D("0.87"),
        D("0.87"),
        D("0.87"),
        D("6.46"),
        D("7.03"),
        D("25.83"),
    ]
    assert set(found["billed_payer_id"]) == {MEDICAID}
    assert set(found["patient_financial_class"]) == {"MEDICAID"}
    # the same amounts are what Synthea transferred to the patient on Medicaid claims
    claims = _raw("claims").filter(pl.col("PRIMARYPATIENTINSURANCEID") == MEDICAID)["Id"]
    ct = _raw("claims_transactions")
    moved = ct.filter(
        pl.col("CLAIMID").is_in(claims.implode())
        & (pl.col("TYPE") == "TRANSFERIN")
        & (pl.col("TRANSFERTYPE") == "p")
    )["AMOUNT"]
    assert sorted(D(x) for x in moved) == sorted(found["patient_balance"].to_list())
    # patient balances of payers that may balance bill stay candidates of other presets
    others = ledger.balances().filter((pl.col("patient_balance") > 0) & ~pl.col("not_responsible"))
    assert others.height > 0
    # and the no-balance-billing preset finds exactly those lines, on both engines
    from writeoff_analytics import criteria_from_preset, find_candidates

    for engine in ("duckdb", "polars"):
        cands = find_candidates(ledger, criteria_from_preset("no-balance-billing", as_of="2026-11-01"), engine=engine)
        assert sorted(cands.lines["writeoff_amount"].to_list()) == sorted(found["patient_balance"].to_list())
        assert cands.total == D("41.93")


def test_start_date_end_date_layout_gives_the_same_coverages(tmp_path):
    folder = _copy_sample(tmp_path)
    transitions = _raw("payer_transitions")
    later = transitions.rename({"START_YEAR": "START_DATE", "END_YEAR": "END_DATE"}).with_columns(
        pl.col("START_DATE").str.slice(0, 10), pl.col("END_DATE").str.slice(0, 10)
    )
    later.write_csv(folder / "payer_transitions.csv")
    a = read_synthea(SAMPLE).frames["coverages"]
    b = read_synthea(folder).frames["coverages"]
    assert b.height == 169 and a.equals(b)
    first = b.row(0, named=True)
    # Synthea's end is the next period's start: the period ends the day before
    assert (first["effective_from"], first["effective_to"]) == (
        dt.date(2014, 10, 14),
        dt.date(2015, 10, 19),
    )


def test_plain_years_cover_whole_years(tmp_path):
    folder = _copy_sample(tmp_path)
    pl.DataFrame(
        {
            "PATIENT": ["3edac2e3-d223-6fae-d515-daf96ef6bc76"],
            "START_YEAR": ["2014"],
            "END_YEAR": ["2015"],
            "PAYER": [MEDICAID],
            "SECONDARY_PAYER": [""],
        }
    ).write_csv(folder / "payer_transitions.csv")
    cov = read_synthea(folder).frames["coverages"]
    assert cov.select("effective_from", "effective_to", "priority").rows() == [
        (dt.date(2014, 1, 1), dt.date(2015, 12, 31), 1)
    ]


def test_a_layout_without_dates_is_refused(tmp_path):
    folder = _copy_sample(tmp_path)
    _raw("payer_transitions").drop("START_YEAR").write_csv(folder / "payer_transitions.csv")
    with pytest.raises(LedgerFormatError, match=r"needs START_YEAR and END_YEAR .* or START_DATE"):
        read_synthea(folder)


def test_a_missing_file_is_refused(tmp_path):
    folder = _copy_sample(tmp_path)
    (folder / "claims.csv").unlink()
    with pytest.raises(LedgerFormatError, match=r"has no claims\.csv"):
        read_synthea(folder)


def test_bad_money_is_reported_not_invented(tmp_path):
    folder = _copy_sample(tmp_path)
    ct = _raw("claims_transactions")
    ct = ct.with_columns(
        pl.when(pl.col("ID") == "47cd1dc0-2b8b-b518-8ebb-cb5e4728bd87")
        .then(pl.lit("77.495"))
        .otherwise(pl.col("AMOUNT"))
        .alias("AMOUNT")
    )
    ct.write_csv(folder / "claims_transactions.csv")
    extract = read_synthea(folder)
    first = extract.problems[0]
    assert (first.row, first.column, first.value) == (2, "AMOUNT", "77.495")
    assert "3 decimals" in first.reason
    assert "47cd1dc0-2b8b-b518-8ebb-cb5e4728bd87" not in extract.frames["charges"]["charge_id"]


def test_financial_classes_from_names():
    assert financial_class_of("Dual Eligible").value == "MEDICAID"
    assert financial_class_of("UnitedHealthcare").value == "COMMERCIAL"
    assert financial_class_of("NO_INSURANCE") is None


def test_cli_import_synthea(tmp_path):
    db = tmp_path / "s.duckdb"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "writeoff_analytics.cli",
            "import-synthea",
            str(SAMPLE),
            "--db",
            str(db),
            "--set-aside-final-patient-payments",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "charges 163, transactions 256" in done.stdout
    assert "set aside 129 final patient payments" in done.stdout
    assert Ledger(db).balances().height == 163
