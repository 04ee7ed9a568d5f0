from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tests.batch_support import (
    EXPECTED,
    EXPECTED_TOTAL,
    amounts,
    child_commit,
    count_rows,
    find,
    frames,
    make_store,
    read_manifest,
    with_receipt_rows,
    writeoff_totals,
)
from writeoff_analytics.errors import BatchError, LedgerError, ReceiptsFolderError
from writeoff_analytics.export.profile import profile_from_dict
from writeoff_analytics.ledger.snapshot import rederive, replace_snapshot
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.writeoffs import receipts as receipts_module
from writeoff_analytics.writeoffs.audit import audit_log
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.permissions import Config, Permission
from writeoff_analytics.writeoffs.receipts import (
    CRASH_ENV,
    CRASH_STEPS,
    commit_batch,
    get_receipt,
    repair_receipts,
)

CONFIG = Config(users={"ana": frozenset(Permission), "sam": frozenset(Permission)})


def _batch(ledger, **kw):
    return Batch.from_candidates(find(ledger), reason=kw.pop("reason", "NO_BALANCE_BILLING"), **kw)


def _commit(ledger, batch, tmp_path, config=CONFIG, **kw):
    return commit_batch(ledger, batch, user=kw.pop("user", "ana"), receipts_dir=tmp_path / "receipts", config=config, **kw)


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("charge_id")


def test_commit_writes_the_receipt_and_nets_the_balances(tmp_path):
    ledger = make_store()
    candidates = find(ledger)
    batch = Batch.from_candidates(candidates, reason="NO_BALANCE_BILLING", adjustment_code="MCD-WO",
                                  claim_status="CLOSED", note="monthly run")
    receipt = _commit(ledger, batch, tmp_path)
    assert receipt.receipt_no == "WO-000001"
    assert receipt.total == candidates.total == EXPECTED_TOTAL
    assert isinstance(receipt.total, Decimal)
    assert (receipt.line_count, receipt.files_state, receipt.preparer) == (4, "WRITTEN", "ana")
    # the CSV: transactions layout plus reason, adjustment code and claim status
    rows = list(csv.DictReader(io.StringIO(receipt.csv_path.read_text(encoding="utf-8"))))
    assert list(rows[0]) == [
        "transaction_id", "charge_id", "posted_date", "type", "responsibility", "payer_id", "amount",
        "group_code", "reason_code", "reference", "writeoff_reason", "adjustment_code", "claim_status",
    ]
    assert [(r["transaction_id"], r["charge_id"], r["amount"]) for r in rows] == [
        ("WO-000001-0001", "C1", "-40.00"),
        ("WO-000001-0002", "C2", "-12.34"),
        ("WO-000001-0003", "C3", "-25.50"),
        ("WO-000001-0004", "C4", "-600.00"),
    ]
    assert {(r["type"], r["responsibility"], r["reference"], r["writeoff_reason"], r["adjustment_code"],
             r["claim_status"], r["payer_id"]) for r in rows} == {
        ("PATIENT_ADJUSTMENT", "PATIENT", "WO-000001", "NO_BALANCE_BILLING", "MCD-WO", "CLOSED", "")
    }
    assert sum(Decimal(r["amount"]) for r in rows) == -EXPECTED_TOTAL
    # the manifest
    manifest = read_manifest(receipt.json_path)
    assert manifest["csv_sha256"] == hashlib.sha256(receipt.csv_path.read_bytes()).hexdigest()
    assert manifest["csv_sha256"] == receipt.csv_sha256
    assert {k: manifest[k] for k in ("receipt_no", "batch_key", "preparer", "approver", "as_of", "line_count",
                                     "total", "note", "reversal_of")} == {
        "receipt_no": "WO-000001", "batch_key": batch.batch_key, "preparer": "ana", "approver": None,
        "as_of": "2026-06-01", "line_count": 4, "total": "677.84", "note": "monthly run", "reversal_of": None,
    }
    assert manifest["criteria"] == batch.criteria.to_dict()
    assert manifest["reason"] == {"code": "NO_BALANCE_BILLING", "text": batch.reason_text}
    assert manifest["ledger_fingerprint"] == ledger.fingerprint()
    assert set(manifest) >= {"created_at", "ledger_fingerprint", "criteria"}
    assert sorted(p.name for p in (tmp_path / "receipts").iterdir()) == ["WO-000001.csv", "WO-000001.json"]
    # balances net out: the same criteria find nothing, and the incremental update is a re-derive
    after = ledger.balances()
    assert dict(after.select("charge_id", "patient_balance").iter_rows()) == {
        "C1": Decimal("0.00"), "C2": Decimal("0.00"), "C3": Decimal("0.00"), "C4": Decimal("0.00"),
        "C5": Decimal("30.00"),
    }
    assert find(ledger).line_count == 0
    rederive(ledger)
    assert _sorted(ledger.balances()).equals(_sorted(after))


def test_committing_the_same_batch_twice_returns_the_same_receipt(tmp_path):
    ledger = make_store()
    batch = _batch(ledger)
    first = _commit(ledger, batch, tmp_path)
    again = _commit(ledger, batch, tmp_path)
    assert again == first
    assert count_rows(ledger, "receipts") == 1 and count_rows(ledger, "writeoff_lines") == 4
    assert writeoff_totals(ledger)["C4"] == Decimal("-600.00")
    assert audit_log(ledger).get_column("outcome").to_list() == ["DONE", "REPEATED"]


def test_receipt_numbers_are_sequential(tmp_path):
    ledger = make_store()
    first = _commit(ledger, _batch(ledger).exclude_groups(["E3"]), tmp_path)
    second = _commit(ledger, _batch(ledger), tmp_path)
    assert (first.receipt_no, second.receipt_no) == ("WO-000001", "WO-000002")
    assert (first.total, second.total) == (Decimal("77.84"), Decimal("600.00"))


def test_a_lowered_amount_leaves_the_rest_of_the_balance(tmp_path):
    ledger = make_store()
    receipt = _commit(ledger, _batch(ledger).with_amount("C4", "100.00"), tmp_path)
    assert receipt.total == Decimal("177.84")
    assert amounts(find(ledger)) == {"C4": Decimal("500.00")}
    after = ledger.balances()
    rederive(ledger)
    assert _sorted(ledger.balances()).equals(_sorted(after))


def test_a_stale_line_refuses_the_whole_batch_naming_it(tmp_path):
    ledger = make_store()
    mine = _batch(ledger)  # built before the other commit
    theirs = _batch(ledger).exclude_groups(["E1", "E2"])  # C4 only
    _commit(ledger, theirs, tmp_path, user="sam")
    before = ledger.balances()
    with pytest.raises(BatchError, match=r"changed since the batch was built \(charge C4\)") as info:
        _commit(ledger, mine, tmp_path)
    assert info.value.charge_ids == ("C4",)
    assert count_rows(ledger, "receipts") == 1
    assert _sorted(ledger.balances()).equals(_sorted(before))
    assert sorted(p.name for p in (tmp_path / "receipts").iterdir()) == ["WO-000001.csv", "WO-000001.json"]
    assert audit_log(ledger).select("user_name", "outcome").rows() == [("sam", "DONE"), ("ana", "REFUSED")]


def test_an_empty_batch_is_refused(tmp_path):
    ledger = make_store()
    with pytest.raises(BatchError, match="no lines"):
        _commit(ledger, _batch(ledger).exclude_groups(["E1", "E2", "E3"]), tmp_path)
    assert count_rows(ledger, "receipts") == 0


def test_a_receipt_csv_loaded_back_with_the_extract_gives_the_same_balances(tmp_path):
    ledger = make_store()
    receipt = _commit(ledger, _batch(ledger).with_amount("C1", "10.00"), tmp_path)
    after_commit = _sorted(ledger.balances())
    extract = with_receipt_rows(frames(), receipt.csv_path)
    replace_snapshot(ledger, extract, source="later extract")
    assert _sorted(ledger.balances()).equals(after_commit)
    assert amounts(find(ledger)) == {"C1": Decimal("30.00")}


def test_a_custom_export_profile_shapes_the_csv_and_cells_cannot_be_formulas(tmp_path):
    profile = profile_from_dict(
        {
            "name": "acme",
            "date_format": "%m/%d/%Y",
            "columns": ["Facility", "charge_id", "posted_date", "amount", "adjustment_code", "note", "reference"],
            "headers": {"charge_id": "ChargeNo", "amount": "Amt"},
            "constants": {"Facility": "=MAIN", "Batch": "@x"},
        }
    )
    config = Config(users=CONFIG.users, export_profile=profile)
    ledger = make_store()
    batch = _batch(ledger, adjustment_code="+ADJ", note="-note\twith tab").exclude_groups(["E2", "E3"])
    receipt = _commit(ledger, batch, tmp_path, config=config)
    text = receipt.csv_path.read_text(encoding="utf-8")
    today = receipt.created_at.date().strftime("%m/%d/%Y")
    assert text.splitlines() == [
        "Facility,ChargeNo,posted_date,Amt,adjustment_code,note,reference,Batch",
        f"'=MAIN,C1,{today},-40.00,'+ADJ,'-note\twith tab,WO-000001,'@x",
        f"'=MAIN,C2,{today},-12.34,'+ADJ,'-note\twith tab,WO-000001,'@x",
    ]
    assert read_manifest(receipt.json_path)["export_profile"] == "acme"


# -- crash safety ---------------------------------------------------------------------------


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


@pytest.mark.parametrize("step", CRASH_STEPS)
def test_a_commit_killed_at_any_step_leaves_all_or_nothing_and_a_retry_completes_it(tmp_path, step):
    db = tmp_path / "store.duckdb"
    ledger = make_store(db)
    before = _sorted(ledger.balances())
    folder = tmp_path / "receipts"
    args = {"db": str(db), "batch": _batch(ledger), "user": "ana", "receipts_dir": str(folder), "config": CONFIG}
    killed = child_commit(args, env={**os.environ, CRASH_ENV: step})
    out, err = killed.communicate(timeout=120)
    assert killed.returncode == -9, (out, err)
    ledger = Ledger(str(db))  # reopen as a new process would
    with ledger.connect() as con:
        recorded = con.execute("SELECT receipt_no, files_state, csv_sha256 FROM receipts").fetchall()
    if step == "before_commit":
        # nothing: no receipt, no lines, no files, balances as they were
        assert recorded == [] and count_rows(ledger, "writeoff_lines") == 0
        assert _sorted(ledger.balances()).equals(before)
        assert _visible(folder) == []
    else:
        # the whole write-off is in the store; files are absent or whole, never partial
        assert [r[:2] for r in recorded] == [("WO-000001", "PENDING")]
        assert count_rows(ledger, "writeoff_lines") == 4
        csv_file = folder / "WO-000001.csv"
        if csv_file.exists():
            assert hashlib.sha256(csv_file.read_bytes()).hexdigest() == recorded[0][2]
        if (folder / "WO-000001.json").exists():
            assert read_manifest(folder / "WO-000001.json")["csv_sha256"] == recorded[0][2]
    retry = child_commit(args)
    out, err = retry.communicate(timeout=120)
    assert retry.returncode == 0, err
    assert out.strip().splitlines()[-1] == "WO-000001"
    receipt = get_receipt(ledger, "WO-000001")
    assert receipt.files_state == "WRITTEN" and receipt.total == EXPECTED_TOTAL
    assert sorted(p.name for p in folder.iterdir()) == ["WO-000001.csv", "WO-000001.json"]  # no temp files
    assert hashlib.sha256(receipt.csv_path.read_bytes()).hexdigest() == receipt.csv_sha256
    assert read_manifest(receipt.json_path)["csv_sha256"] == receipt.csv_sha256
    assert count_rows(ledger, "receipts") == 1 and count_rows(ledger, "writeoff_lines") == 4
    assert writeoff_totals(ledger) == {k: -v for k, v in EXPECTED.items()}
    assert find(ledger).line_count == 0


def test_repair_finishes_pending_files_without_a_retry(tmp_path):
    db = tmp_path / "store.duckdb"
    ledger = make_store(db)
    folder = tmp_path / "receipts"
    args = {"db": str(db), "batch": _batch(ledger), "user": "ana", "receipts_dir": str(folder), "config": CONFIG}
    killed = child_commit(args, env={**os.environ, CRASH_ENV: "during_csv"})
    killed.communicate(timeout=120)
    assert killed.returncode == -9
    assert any(p.name.startswith(".WO-000001.csv.") for p in folder.iterdir())  # the partial temp file
    ledger = Ledger(str(db))
    assert repair_receipts(ledger, user="ops") == ("WO-000001",)
    assert sorted(p.name for p in folder.iterdir()) == ["WO-000001.csv", "WO-000001.json"]
    assert get_receipt(ledger, "WO-000001").files_state == "WRITTEN"
    assert repair_receipts(ledger) == ()
    assert audit_log(ledger).filter(pl.col("action") == "REPAIR").get_column("user_name").to_list() == ["ops"]


def test_unwritable_receipts_folder_is_refused_before_anything_is_committed(tmp_path):
    # Issue 16: the folder is checked before the store commits (it used to commit PENDING).
    ledger = make_store()
    blocker = tmp_path / "receipts"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(ReceiptsFolderError, match="receipts folder .*receipts cannot be written") as err:
        commit_batch(ledger, _batch(ledger), user="ana", receipts_dir=blocker, config=CONFIG)
    assert err.value.folder == str(blocker)
    assert count_rows(ledger, "receipts") == 0 and count_rows(ledger, "writeoff_lines") == 0
    blocker.unlink()
    assert commit_batch(ledger, _batch(ledger), user="ana", receipts_dir=blocker, config=CONFIG).receipt_no == "WO-000001"


def test_a_folder_failing_after_the_commit_keeps_the_receipt_pending_and_says_so(tmp_path, monkeypatch):
    ledger = make_store()
    folder = tmp_path / "receipts"

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(receipts_module, "atomic_write", refuse)
    with pytest.raises(LedgerError, match="WO-000001 is committed in the store but its files could not be written"):
        commit_batch(ledger, _batch(ledger), user="ana", receipts_dir=folder, config=CONFIG)
    assert get_receipt(ledger, "WO-000001").files_state == "PENDING"
    monkeypatch.undo()
    assert repair_receipts(ledger) == ("WO-000001",)
    assert (folder / "WO-000001.csv").is_file()


def test_two_processes_committing_overlapping_batches_one_wins(tmp_path):
    db = tmp_path / "store.duckdb"
    ledger = make_store(db)
    folder = str(tmp_path / "receipts")
    first = _batch(ledger).exclude_groups(["E3"])  # C1 C2 C3
    second = _batch(ledger).exclude_groups(["E1"])  # C3 C4: C3 overlaps
    procs = [
        child_commit({"db": str(db), "batch": b, "user": u, "receipts_dir": folder, "config": Config.open_to(u)})
        for b, u in ((first, "ana"), (second, "sam"))
    ]
    results = [(p.communicate(timeout=120), p.returncode) for p in procs]
    codes = sorted(code for _out, code in results)
    assert codes == [0, 3], results
    refused = next(out for (out, _err), code in results if code == 3)
    assert refused.strip() == "REFUSED C3"
    ledger = Ledger(str(db))
    assert count_rows(ledger, "receipts") == 1
    totals = writeoff_totals(ledger)
    for charge_id, written_off in totals.items():
        assert -written_off <= EXPECTED[charge_id]
    assert -totals["C3"] == EXPECTED["C3"]  # written off exactly once
    after = _sorted(ledger.balances())
    rederive(ledger)
    assert _sorted(ledger.balances()).equals(after)


def test_an_insurance_write_off_adjusts_the_insurance_bucket_of_the_current_payer(tmp_path):
    from writeoff_analytics.candidates import find_candidates
    from writeoff_analytics.criteria.model import Criteria

    ledger = make_store()
    extract = frames()
    charges = extract["charges"]
    extra = charges.filter(pl.col("charge_id") == "C5").with_columns(
        pl.lit("C6").alias("charge_id"), pl.lit("E4").alias("encounter_id")
    )
    extract["charges"] = pl.concat([charges, extra])  # C6: billed to P-COM, nothing paid yet
    replace_snapshot(ledger, extract, source="with C6")
    criteria = Criteria("INSURANCE", "PROCEDURE_LINE", payer_ids=["P-COM"], min_balance="100.00", as_of="2026-06-01")
    candidates = find_candidates(ledger, criteria)
    assert amounts(candidates) == {"C6": Decimal("120.00")}
    receipt = _commit(ledger, Batch.from_candidates(candidates, reason="TIMELY_FILING").with_amount("C6", "100.00"),
                      tmp_path)
    rows = list(csv.DictReader(io.StringIO(receipt.csv_path.read_text(encoding="utf-8"))))
    assert [(r["charge_id"], r["type"], r["responsibility"], r["payer_id"], r["amount"]) for r in rows] == [
        ("C6", "INSURANCE_ADJUSTMENT", "INSURANCE", "P-COM", "-100.00")
    ]
    after = _sorted(ledger.balances())
    assert after.filter(pl.col("charge_id") == "C6").select("insurance_balance", "patient_balance").row(0) == (
        Decimal("20.00"), Decimal("0.00"))
    rederive(ledger)
    assert _sorted(ledger.balances()).equals(after)
    replace_snapshot(ledger, with_receipt_rows(extract, receipt.csv_path), source="later")
    assert _sorted(ledger.balances()).equals(after)


def test_profile_renders_each_cell_exactly_column_by_column():
    # render_columns formats repeated texts and dates once: the cells must still be exactly
    # what each value alone gives (a formula is neutralised every time). Money is written one
    # way in every CSV (export/csv.py): two decimals, so 1.0 and 1.00 are both 1.00.
    profile = profile_from_dict(
        {"columns": ["charge_id", "posted_date", "amount", "note", "line_no", "claim_status"],
         "date_format": "%m/%d/%Y", "constants": {"source": "=cmd"}},
        source="test",
    )
    day = dt.date(2026, 11, 2)
    rows = [
        {"charge_id": "=SUM(A1)", "posted_date": day, "amount": Decimal("1.0"), "note": 'a "b", c',
         "line_no": 1},
        {"charge_id": "=SUM(A1)", "posted_date": day, "amount": Decimal("1.00"), "note": "two\nlines",
         "line_no": 2},
        {"charge_id": "C3", "posted_date": None, "amount": Decimal("-0.05"), "note": None, "line_no": 3},
    ]
    expected = (
        b"charge_id,posted_date,amount,note,line_no,claim_status,source\n"
        b"'=SUM(A1),11/02/2026,1.00,\"a \"\"b\"\", c\",1,,'=cmd\n"
        b"'=SUM(A1),11/02/2026,1.00,\"two\nlines\",2,,'=cmd\n"
        b"C3,,-0.05,,3,,'=cmd\n"
    )
    assert profile.render(rows) == expected
    columns = {c: [r.get(c) for r in rows] for c in ("charge_id", "posted_date", "amount", "note", "line_no")}
    assert profile.render_columns(columns, 3) == expected
    with pytest.raises(ValueError, match="2 value"):
        profile.render_columns({**columns, "amount": columns["amount"][:2]}, 3)


def test_the_recheck_names_every_kind_of_stale_line_in_batch_order():
    from writeoff_analytics.money import PL_MONEY
    from writeoff_analytics.writeoffs.receipts import _stale_lines

    ledger = make_store()
    now = {r["charge_id"]: r for r in ledger.balances().to_dicts()}
    c1, c4 = now["C1"]["patient_balance"], now["C4"]["patient_balance"]
    rows = [
        ("C4", "PATIENT", c4, c4),  # fresh: the whole balance
        ("C1", "PATIENT", c1, Decimal("0.00")),  # stale: less than a cent
        ("C1", "PATIENT", c1, c1 + Decimal("0.01")),  # stale: more than the balance
        ("C1", "PATIENT", c1 + Decimal("1"), c1),  # stale: the balance moved
        ("C1", "INSURANCE", c1, c1),  # stale unless the insurance bucket holds the same
        ("NOPE", "PATIENT", c1, c1),  # stale: the charge is gone
        ("C4", "PATIENT", c4, Decimal("0.01")),  # fresh: one cent
    ]
    lines = pl.DataFrame(
        rows, schema={"charge_id": pl.String, "balance_type": pl.String, "balance": PL_MONEY,
                      "writeoff_amount": PL_MONEY}, orient="row",
    )
    expected = [r[0] for r in rows[1:6] if not (r[1] == "INSURANCE" and now["C1"]["insurance_balance"] == c1)]
    with ledger.connect() as con:
        assert _stale_lines(con, lines) == expected
