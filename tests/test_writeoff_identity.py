"""Write-offs follow the charge, not the id (issue 14 item 4): a committed write-off remembers
the charge it was made on; a reload whose charge no longer matches, or whose balance the
write-off now exceeds, quarantines the charge and says why; nothing is netted silently."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from tests.quarantine_support import (
    SMALL,
    SMALL_PATIENT,
    extract,
    load,
    patient_lines,
    replace_line,
)
from writeoff_analytics.candidates import find_candidates
from writeoff_analytics.criteria.model import Criteria
from writeoff_analytics.ledger.quarantine import quarantined_charges
from writeoff_analytics.ledger.snapshot import rederive
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.history import reverse_receipt
from writeoff_analytics.writeoffs.permissions import Config, Permission
from writeoff_analytics.writeoffs.receipts import commit_batch, receipt_lines

CONFIG = Config(users={"ana": frozenset(Permission)})
#: The PM system reused C2 for another charge: encounter E4, 99212, 25.00, self-pay.
REUSED_C2 = "C2,E4,99212,1,25.00,,2026-04-02"


@pytest.fixture(params=["duckdb", "polars"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _write_off_c2(ledger: Ledger, tmp_path, engine: str) -> str:
    """Commit C2's patient balance (30.00) and return the receipt number."""
    criteria = Criteria("PATIENT", "PROCEDURE_LINE", patient_ids=["0000120"], procedure_codes=["99214"])
    found = find_candidates(ledger, criteria, engine=engine)
    assert found.lines["charge_id"].to_list() == ["C2"]
    batch = Batch.from_candidates(found, reason="SMALL_BALANCE")
    receipt = commit_batch(ledger, batch, user="ana", receipts_dir=tmp_path / "receipts", config=CONFIG)
    return receipt.receipt_no


def _reused_c2_extract(tmp_path):
    charges = replace_line((SMALL / "charges.csv").read_text(encoding="utf-8"), "C2,", REUSED_C2)
    transactions = (SMALL / "transactions.csv").read_text(encoding="utf-8")
    for t in ("T5,", "T6,", "T7,", "T8,"):
        transactions = replace_line(transactions, t, None)
    return extract(tmp_path, "reused", charges=charges, transactions=transactions)


def _balances(ledger: Ledger) -> dict[str, tuple[Decimal, Decimal]]:
    return {r["charge_id"]: (r["patient_balance"], r["insurance_balance"]) for r in ledger.balances().iter_rows(named=True)}


def test_a_write_off_line_remembers_its_charge(tmp_path, engine):
    ledger = Ledger(str(tmp_path / "store.duckdb"))
    load(ledger, extract(tmp_path))
    receipt_no = _write_off_c2(ledger, tmp_path, engine)
    with ledger.connect() as con:
        rows = con.execute(
            "SELECT encounter_id, charge_date_of_service, charge_procedure_code, charge_amount "
            "FROM writeoff_lines WHERE receipt_no = ?", [receipt_no]
        ).fetchall()
    assert rows == [("E2", dt.date(2026, 1, 15), "99214", Decimal("150.00"))]
    assert receipt_lines(ledger, receipt_no)["amount"].to_list() == [Decimal("-30.00")]


def test_reloading_the_same_extract_nets_the_write_off_and_holds_nothing(tmp_path, engine):
    ledger = Ledger(str(tmp_path / "store.duckdb"))
    load(ledger, extract(tmp_path))
    _write_off_c2(ledger, tmp_path, engine)
    report = load(ledger, extract(tmp_path, "again"))
    assert report.quarantined == 0
    assert _balances(ledger)["C2"] == (Decimal("0.00"), Decimal("0.00"))
    assert patient_lines(ledger, engine) == {k: v for k, v in SMALL_PATIENT.items() if k != "C2"}


def test_a_reused_charge_id_is_quarantined_and_not_netted(tmp_path, engine):
    ledger = Ledger(str(tmp_path / "store.duckdb"))
    load(ledger, extract(tmp_path))
    receipt_no = _write_off_c2(ledger, tmp_path, engine)
    report = load(ledger, _reused_c2_extract(tmp_path))
    assert report.quarantined == 1
    (row,) = quarantined_charges(ledger).to_dicts()
    assert row["charge_id"] == "C2"
    assert (row["source_table"], row["source_row"]) == ("writeoff_lines", 1)
    assert row["reason"] == (
        f"write-off {receipt_no} was made on charge C2 of E2, 2026-01-15, 99214, 150.00; the new "
        "extract's C2 is E4, 2026-04-01, 99212, 25.00; the write-off is not netted (reverse it or "
        "correct the extract)"
    )
    balances = _balances(ledger)
    # Netted by id, the new C2 would read 25.00 - 30.00 = -5.00 (the issue's 37 negative balances).
    assert balances["C2"] == (Decimal("25.00"), Decimal("0.00"))
    assert all(p >= 0 and i >= 0 for p, i in balances.values())
    found = patient_lines(ledger, engine)
    assert "C2" not in found
    assert found == {k: v for k, v in SMALL_PATIENT.items() if k != "C2"}
    # A full re-derive agrees with the load.
    rederive(ledger)
    assert _balances(ledger) == balances


def test_reversing_the_mismatched_write_off_keeps_incremental_and_full_balances_equal(tmp_path, engine):
    ledger = Ledger(str(tmp_path / "store.duckdb"))
    load(ledger, extract(tmp_path))
    receipt_no = _write_off_c2(ledger, tmp_path, engine)
    load(ledger, _reused_c2_extract(tmp_path))
    reverse_receipt(ledger, receipt_no, reason="made on another charge", user="ana",
                    receipts_dir=tmp_path / "receipts", config=CONFIG)
    incremental = _balances(ledger)
    assert incremental["C2"] == (Decimal("25.00"), Decimal("0.00"))
    rederive(ledger)
    assert _balances(ledger) == incremental
    # The reversal's line copies the identity of the line it reverses.
    with ledger.connect() as con:
        rows = con.execute(
            "SELECT charge_date_of_service, charge_procedure_code, charge_amount FROM writeoff_lines ORDER BY receipt_no"
        ).fetchall()
    assert rows[0] == rows[1] == (dt.date(2026, 1, 15), "99214", Decimal("150.00"))
    # The next load finds the write-off reversed: nothing left to hold.
    assert load(ledger, tmp_path / "reused").quarantined == 0
    assert patient_lines(ledger, engine)["C2"] == Decimal("25.00")


def test_a_write_off_exceeding_the_new_balance_is_quarantined(tmp_path, engine):
    ledger = Ledger(str(tmp_path / "store.duckdb"))
    load(ledger, extract(tmp_path))
    receipt_no = _write_off_c2(ledger, tmp_path, engine)
    # The patient paid 20.00 more after the write-off: the extract leaves 10.00, the write-off took 30.00.
    report = load(ledger, extract(tmp_path, "paid", transactions=["T10,C2,2026-05-01,PATIENT_PAYMENT,PATIENT,,-20.00,,,CASH9"]))
    assert report.quarantined == 1
    (row,) = quarantined_charges(ledger).to_dicts()
    assert row["charge_id"] == "C2"
    assert row["source_table"] == "writeoff_lines"
    assert row["reason"] == (
        f"write-off {receipt_no} of 30.00 on the PATIENT balance of C2 exceeds the new extract's "
        "balance 10.00; netted, the balance is -20.00 (reverse the excess or correct the extract)"
    )
    # Made on this very charge, the write-off stays netted (docs/DESIGN.md), and the charge is held.
    assert _balances(ledger)["C2"] == (Decimal("-20.00"), Decimal("0.00"))
    assert "C2" not in patient_lines(ledger, engine)


def _forget_identity(db) -> None:
    """Make the store's write-off lines look like a store from before issue 14 (no identity)."""
    con = duckdb.connect(str(db))
    try:
        con.execute("UPDATE writeoff_lines SET charge_date_of_service = NULL, charge_procedure_code = NULL, charge_amount = NULL")
    finally:
        con.close()


def test_an_old_write_off_without_identity_is_matched_by_id_as_before(tmp_path, engine):
    db = tmp_path / "store.duckdb"
    ledger = Ledger(str(db))
    load(ledger, extract(tmp_path))
    _write_off_c2(ledger, tmp_path, engine)
    _forget_identity(db)
    ledger = Ledger(str(db))
    assert load(ledger, extract(tmp_path, "again")).quarantined == 0
    assert _balances(ledger)["C2"] == (Decimal("0.00"), Decimal("0.00"))
    # Reused id: netted by id as before (unknown identity), and now held since it overdraws.
    report = load(ledger, _reused_c2_extract(tmp_path))
    assert _balances(ledger)["C2"] == (Decimal("-5.00"), Decimal("0.00"))
    assert report.quarantined == 1
    assert "exceeds the new extract's balance 25.00" in quarantined_charges(ledger)["reason"][0]
    assert "C2" not in patient_lines(ledger, engine)


def test_a_store_from_before_issue_14_is_migrated_on_open(tmp_path, engine):
    db = tmp_path / "store.duckdb"
    ledger = Ledger(str(db))
    load(ledger, extract(tmp_path))
    _write_off_c2(ledger, tmp_path, engine)
    con = duckdb.connect(str(db))
    try:
        for column in ("charge_date_of_service", "charge_procedure_code", "charge_amount"):
            con.execute(f"ALTER TABLE writeoff_lines DROP COLUMN {column}")
        con.execute("ALTER TABLE charge_balances DROP COLUMN quarantined")
        con.execute("DROP TABLE quarantined_charges")
    finally:
        con.close()
    old = Ledger.open_existing(db)
    assert old.balances()["quarantined"].to_list() == [False] * 6
    assert patient_lines(old, engine) == {k: v for k, v in SMALL_PATIENT.items() if k != "C2"}
    assert load(old, _reused_c2_extract(tmp_path)).quarantined == 1
    assert _balances(old)["C2"] == (Decimal("-5.00"), Decimal("0.00"))
