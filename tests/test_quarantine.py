"""Quarantine (issue 14 item 3): a charge with a rejected row of its own, of its encounter or
of its transactions is held out of every candidate search until a clean load, with why."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.quarantine_support import (
    SMALL,
    SMALL_PATIENT,
    extract,
    load,
    patient_lines,
    replace_line,
)
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


# --- where the quarantine is listed: CLI, load output, report, screen ------------------------


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from writeoff_analytics.cli import main

    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_load_prints_the_quarantined_count_and_the_command_to_list_them(tmp_path, capsys):
    db = tmp_path / "store.duckdb"
    folder = _bad_payment_extract(tmp_path)
    status, out, err = _cli(capsys, "load", str(folder), "--db", str(db), "--accept-rejected-share", "100%")
    assert status == 0, err
    assert (f"1 charge(s) quarantined, held out of every candidate search until a clean load; "
            f"list them: writeoff quarantine --db {db}") in out.splitlines()
    status, out, err = _cli(capsys, "load", str(extract(tmp_path, "clean")), "--db", str(db))
    assert status == 0, err
    assert "quarantined" not in out


def test_quarantine_command_lists_held_charges_as_table_csv_and_json(tmp_path, capsys):
    import json

    db = tmp_path / "store.duckdb"
    load(Ledger(str(db)), extract(tmp_path, encounters=["E4,0000777,2026-04-03,DR02,LOC1"]))
    status, out, err = _cli(capsys, "quarantine", "--db", str(db))
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "2 charge(s) quarantined, held out of every candidate search until a clean load:"
    assert lines[1].split() == ["charge_id", "reason", "source_table", "source_row"]
    assert lines[2].startswith("C5 ") and lines[3].startswith("C6 ")
    assert "encounters" in lines[2] and lines[2].rstrip().endswith("6")
    status, out, _ = _cli(capsys, "quarantine", "--db", str(db), "--format", "csv")
    rows = out.splitlines()
    assert rows[0] == "charge_id,reason,source_table,source_row"
    assert [r.split(",")[0] for r in rows[1:]] == ["C5", "C6"]
    assert all(r.endswith(",encounters,6") for r in rows[1:])
    status, out, _ = _cli(capsys, "quarantine", "--db", str(db), "--format", "json")
    body = json.loads(out)
    assert [(r["charge_id"], r["source_table"], r["source_row"]) for r in body] == [
        ("C5", "encounters", 6), ("C6", "encounters", 6),
    ]
    assert body[0]["reason"].startswith("encounters row 6 (encounter E4) was rejected (")


def test_quarantine_command_on_a_clean_store_and_never_creates_one(tmp_path, capsys):
    db = tmp_path / "store.duckdb"
    load(Ledger(str(db)), extract(tmp_path))
    assert _cli(capsys, "quarantine", "--db", str(db))[:2] == (0, "No charge is quarantined.\n")
    assert _cli(capsys, "quarantine", "--db", str(db), "--format", "json")[:2] == (0, "[]\n")
    missing = tmp_path / "nowhere" / "x.duckdb"
    status, out, err = _cli(capsys, "quarantine", "--db", str(missing))
    assert (status, out) == (1, "")
    assert err == f"writeoff quarantine: error: no ledger at {missing}; run `writeoff load EXTRACT --db {missing}` first.\n"
    assert not missing.parent.exists()


def test_the_candidate_report_lists_held_charges(tmp_path):
    from writeoff_analytics.candidates import find_candidates
    from writeoff_analytics.criteria.model import Criteria
    from writeoff_analytics.reporting import report_candidates

    ledger = Ledger(":memory:")
    load(ledger, _bad_payment_extract(tmp_path))
    found = find_candidates(ledger, Criteria("PATIENT", "PROCEDURE_LINE"))
    report = report_candidates(found, ledger=ledger)
    assert [s.key for s in report.sections] == [
        "by_class_aging", "by_responsibility", "largest_groups", "held_back", "lines",
    ]
    held = report.section("held_back")
    assert held.title == "Held back: 1 quarantined charge"
    assert held.frame["charge_id"].to_list() == ["C5"]
    assert "transactions row 10 was rejected" in held.frame["reason"][0]
    assert "C5" not in report.lines["charge_id"].to_list()
    # A clean store, or no store given: no such section.
    clean = Ledger(":memory:")
    load(clean, extract(tmp_path, "clean"))
    keys = [s.key for s in report_candidates(find_candidates(clean, Criteria("PATIENT", "PROCEDURE_LINE")), ledger=clean).sections]
    assert "held_back" not in keys
    assert "held_back" not in [s.key for s in report_candidates(found).sections]


def test_the_mass_write_off_screen_says_which_charges_are_held_back(tmp_path, monkeypatch):
    from writeoff_analytics.widgets import MassWriteOff

    monkeypatch.chdir(tmp_path)
    ledger = Ledger(":memory:")
    load(ledger, _bad_payment_extract(tmp_path))
    screen = MassWriteOff(ledger, user="ana", receipts_dir=tmp_path / "receipts", reports_dir=tmp_path / "reports")
    screen.set_fields(as_of="2026-11-01")
    assert screen.held_box.value.startswith("<i class='wo-held'>1 charge held back: C5 (transactions row 10 was rejected (")
    assert "writeoff quarantine" in screen.held_box.value
    assert screen.candidates is not None
    assert "C5" not in screen.candidates.lines["charge_id"].to_list()
    clean = Ledger(":memory:")
    load(clean, extract(tmp_path, "clean"))
    assert MassWriteOff(clean, user="ana", receipts_dir=tmp_path / "r2").held_box.value == ""


def test_a_payment_row_with_a_field_too_many_quarantines_its_charge(tmp_path, engine):
    # An unquoted thousands comma: the row has 11 fields for 10 columns and is rejected whole.
    text = (SMALL / "transactions.csv").read_text(encoding="utf-8")
    folder = extract(tmp_path, transactions=replace_line(text, "T8,", "T8,C2,2026-03-01,PATIENT_PAYMENT,PATIENT,,-1,020.00,,,CASH1"))
    ledger = Ledger(":memory:")
    report = load(ledger, folder)
    assert report.quarantined == 1
    assert quarantined_charges(ledger)["charge_id"].to_list() == ["C2"]
    assert "C2" not in patient_lines(ledger, engine)
