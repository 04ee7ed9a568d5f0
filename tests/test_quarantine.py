"""Quarantine (issue 14 item 3): a charge with a rejected row of its own, of its encounter or
of its transactions is held out of every candidate search until a clean load, with why."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.quarantine_support import SMALL_PATIENT, extract, load, patient_lines, replace_line
from writeoff_analytics.ledger.quarantine import describe_held, quarantined_charges
from writeoff_analytics.ledger.store import Ledger

#: T9 (C5's patient payment of -30.00) with a letter O for a zero: rejected, so C5 reads 80.00.
BAD_PAYMENT = "T9,C5,2026-04-20,PATIENT_PAYMENT,PATIENT,,-3O.00,,,CC55"


@pytest.fixture(params=["duckdb", "polars"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _bad_payment_extract(tmp_path):
    text = (extract(tmp_path, "base") / "transactions.csv").read_text(encoding="utf-8")
    return extract(tmp_path, transactions=replace_line(text, "T9,", BAD_PAYMENT))


def test_a_clean_load_quarantines_nothing(tmp_path, engine):
    ledger = Ledger(":memory:")
    report = load(ledger, extract(tmp_path))
    assert report.quarantined == 0
    assert quarantined_charges(ledger).height == 0
    assert patient_lines(ledger, engine) == SMALL_PATIENT


def test_a_rejected_payment_row_quarantines_its_charge(tmp_path, engine):
    ledger = Ledger(":memory:")
    report = load(ledger, _bad_payment_extract(tmp_path))
    assert report.rejected_rows == 1
    assert report.quarantined == 1
    # Without the quarantine C5 would be a candidate at 80.00: the missing payment's 30.00 too.
    (c5,) = ledger.balances().filter(charge_id="C5").iter_rows(named=True)
    assert c5["patient_balance"] == Decimal("80.00")
    assert c5["quarantined"] is True
    found = patient_lines(ledger, engine)
    assert "C5" not in found
    assert found == {k: v for k, v in SMALL_PATIENT.items() if k != "C5"}
    rows = quarantined_charges(ledger).to_dicts()
    assert [(r["charge_id"], r["source_table"], r["source_row"]) for r in rows] == [("C5", "transactions", 10)]
    assert rows[0]["reason"].startswith("transactions row 10 was rejected (amount: ")
    assert "balance may be wrong" in rows[0]["reason"]


def test_a_duplicate_charge_row_quarantines_the_kept_charge(tmp_path, engine):
    ledger = Ledger(":memory:")
    report = load(ledger, extract(tmp_path, charges=["C6,E4,81002,1,99.00,,2026-04-02"]))
    assert report.quarantined == 1
    rows = quarantined_charges(ledger).to_dicts()
    assert [(r["charge_id"], r["source_table"], r["source_row"]) for r in rows] == [("C6", "charges", 8)]
    assert "duplicate charge_id" in rows[0]["reason"]
    assert patient_lines(ledger, engine) == {k: v for k, v in SMALL_PATIENT.items() if k != "C6"}


def test_a_duplicate_encounter_row_quarantines_its_charges(tmp_path, engine):
    ledger = Ledger(":memory:")
    report = load(ledger, extract(tmp_path, encounters=["E4,0000777,2026-04-03,DR02,LOC1"]))
    assert report.quarantined == 2
    rows = quarantined_charges(ledger).to_dicts()
    assert sorted((r["charge_id"], r["source_table"], r["source_row"]) for r in rows) == [
        ("C5", "encounters", 6), ("C6", "encounters", 6),
    ]
    assert "(encounter E4) was rejected" in rows[0]["reason"]
    assert patient_lines(ledger, engine) == {"C1": Decimal("40.00"), "C2": Decimal("30.00")}


def test_a_clean_reload_releases_the_quarantine(tmp_path, engine):
    ledger = Ledger(str(tmp_path / "store.duckdb"))
    load(ledger, _bad_payment_extract(tmp_path))
    assert "C5" not in patient_lines(ledger, engine)
    report = load(ledger, extract(tmp_path, "clean"))
    assert report.quarantined == 0
    assert quarantined_charges(ledger).height == 0
    assert patient_lines(ledger, engine) == SMALL_PATIENT


def test_the_quarantine_survives_a_reopen_and_a_rederive(tmp_path, engine):
    from writeoff_analytics.ledger.snapshot import rederive

    db = tmp_path / "store.duckdb"
    load(Ledger(str(db)), _bad_payment_extract(tmp_path))
    ledger = Ledger.open_existing(db)
    rederive(ledger)
    assert ledger.balances().filter(quarantined=True)["charge_id"].to_list() == ["C5"]
    assert "C5" not in patient_lines(ledger, engine)


def test_describe_held_names_each_charge_with_its_first_reason(tmp_path):
    ledger = Ledger(":memory:")
    load(ledger, extract(tmp_path, encounters=["E4,0000777,2026-04-03,DR02,LOC1"]))
    text = describe_held(quarantined_charges(ledger))
    assert text.startswith("2 charges held back: C5 (encounters row 6 (encounter E4) was rejected (")
    assert "; C6 (encounters row 6" in text
