from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import polars as pl
import pytest

from tests.batch_support import (
    EXPECTED,
    amounts,
    count_rows,
    find,
    frames,
    make_store,
    with_receipt_rows,
)
from writeoff_analytics.errors import HistoryError
from writeoff_analytics.ledger.snapshot import rederive, replace_snapshot
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.history import reverse_receipt, search_receipts, show_receipt
from writeoff_analytics.writeoffs.permissions import Config, Permission
from writeoff_analytics.writeoffs.receipts import commit_batch

CONFIG = Config(users={"ana": frozenset(Permission)})


@pytest.fixture
def committed(tmp_path):
    ledger = make_store()
    before = find(ledger)
    first = commit_batch(ledger, Batch.from_candidates(before, reason="NO_BALANCE_BILLING").exclude_groups(["E3"]),
                         user="ana", receipts_dir=tmp_path, config=CONFIG)
    second = commit_batch(ledger, Batch.from_candidates(find(ledger), reason="BAD_DEBT"),
                          user="ana", receipts_dir=tmp_path, config=CONFIG)
    return ledger, before, first, second


def _reverse(ledger, receipt_no, tmp_path, **kw):
    return reverse_receipt(ledger, receipt_no, reason=kw.pop("reason", "posted in error"), user="ana",
                           receipts_dir=tmp_path, config=CONFIG, **kw)


def test_search_by_number_and_by_date_range(committed):
    ledger, _before, first, _second = committed
    every = search_receipts(ledger, user="ana", config=CONFIG)
    assert every.select("receipt_no", "line_count", "total_amount", "reason_code").rows() == [
        ("WO-000001", 3, Decimal("77.84"), "NO_BALANCE_BILLING"),
        ("WO-000002", 1, Decimal("600.00"), "BAD_DEBT"),
    ]
    one = search_receipts(ledger, user="ana", config=CONFIG, receipt_no="WO-000002")
    assert one.get_column("receipt_no").to_list() == ["WO-000002"]
    today = first.created_at.date()
    assert search_receipts(ledger, user="ana", config=CONFIG, date_from=today, date_to=today).height == 2
    assert search_receipts(ledger, user="ana", config=CONFIG, date_to=today - dt.timedelta(days=1)).height == 0
    assert search_receipts(ledger, user="ana", config=CONFIG, date_from=today + dt.timedelta(days=1)).height == 0
    with pytest.raises(HistoryError, match="unknown receipt 'WO-000009'"):
        search_receipts(ledger, user="ana", config=CONFIG, receipt_no="WO-000009")
    with pytest.raises(HistoryError, match="is after"):
        search_receipts(ledger, user="ana", config=CONFIG, date_from=today, date_to=today - dt.timedelta(days=1))


def test_show_one_receipt_with_its_lines(committed):
    ledger, _before, first, _second = committed
    detail = show_receipt(ledger, "WO-000001", user="ana", config=CONFIG)
    assert detail.receipt == first
    assert detail.lines.select("line_no", "charge_id", "amount", "balance_before").rows() == [
        (1, "C1", Decimal("-40.00"), Decimal("40.00")),
        (2, "C2", Decimal("-12.34"), Decimal("12.34")),
        (3, "C3", Decimal("-25.50"), Decimal("25.50")),
    ]
    assert detail.reversed_by == ()
    with pytest.raises(HistoryError, match="unknown receipt 'WO-000009'"):  # WO-9 is WO-000009
        show_receipt(ledger, "WO-9", user="ana", config=CONFIG)
    assert show_receipt(ledger, "wo-1", user="ana", config=CONFIG).receipt == first
    with pytest.raises(HistoryError, match="'WO-first' is not a receipt number; write WO-000001"):
        show_receipt(ledger, "WO-first", user="ana", config=CONFIG)


def test_reversing_a_whole_receipt_brings_the_lines_back(committed, tmp_path):
    ledger, before, _first, _second = committed
    assert find(ledger).line_count == 0
    reversal = _reverse(ledger, "WO-000002", tmp_path)
    assert (reversal.receipt_no, reversal.reversal_of, reversal.total) == ("WO-000003", "WO-000002", Decimal("600.00"))
    assert (reversal.reason_code, reversal.reason_text) == ("REVERSAL", "posted in error")
    rows = list(csv.DictReader(io.StringIO(reversal.csv_path.read_text(encoding="utf-8"))))
    assert [(r["charge_id"], r["amount"], r["reference"]) for r in rows] == [("C4", "600.00", "WO-000003")]
    assert amounts(find(ledger)) == {"C4": Decimal("600.00")}
    _reverse(ledger, "WO-000001", tmp_path)
    again = find(ledger)
    assert again.lines.drop("age_days").equals(before.lines.drop("age_days"))  # the same lines again
    assert amounts(again) == EXPECTED
    # nothing deleted: the original lines are still there, marked reversed
    assert count_rows(ledger, "writeoff_lines") == 8 and count_rows(ledger, "receipts") == 4
    assert show_receipt(ledger, "WO-000002", user="ana", config=CONFIG).reversed_by == ("WO-000003",)
    after = ledger.balances().sort("charge_id")
    rederive(ledger)
    assert ledger.balances().sort("charge_id").equals(after)


def test_partial_reversal_then_the_rest_then_nothing_left(committed, tmp_path):
    ledger, _before, _first, _second = committed
    part = _reverse(ledger, "WO-000001", tmp_path, charge_ids=["C2"])
    assert (part.line_count, part.total) == (1, Decimal("12.34"))
    assert amounts(find(ledger)) == {"C2": Decimal("12.34")}
    with pytest.raises(HistoryError, match="C2 of receipt WO-000001 are reversed already"):
        _reverse(ledger, "WO-000001", tmp_path, charge_ids=["C2"])
    with pytest.raises(HistoryError, match=r"charge\(s\) C4 are not on receipt WO-000001"):
        _reverse(ledger, "WO-000001", tmp_path, charge_ids=["C4"])
    rest = _reverse(ledger, "WO-000001", tmp_path)
    assert (rest.line_count, rest.total) == (2, Decimal("65.50"))
    with pytest.raises(HistoryError, match="every line of WO-000001 is reversed already"):
        _reverse(ledger, "WO-000001", tmp_path)
    with pytest.raises(HistoryError, match="WO-000003 is itself a reversal"):
        _reverse(ledger, "WO-000003", tmp_path)
    with pytest.raises(HistoryError, match="unknown receipt 'WO-000042'"):
        _reverse(ledger, "WO-000042", tmp_path)
    with pytest.raises(HistoryError, match="give a reason"):
        _reverse(ledger, "WO-000002", tmp_path, reason="  ")
    assert count_rows(ledger, "receipts") == 4


def test_write_off_and_reversal_csvs_loaded_back_give_the_same_balances(committed, tmp_path):
    ledger, _before, first, second = committed
    reversal = _reverse(ledger, "WO-000001", tmp_path, charge_ids=["C1"])
    expected = ledger.balances().sort("charge_id")
    extract = frames()
    for receipt in (first, second, reversal):
        extract = with_receipt_rows(extract, receipt.csv_path)
    replace_snapshot(ledger, extract, source="later extract")
    assert ledger.balances().sort("charge_id").equals(expected)
    assert ledger.balances().filter(pl.col("charge_id") == "C1").get_column("patient_balance").item() == Decimal("40.00")
