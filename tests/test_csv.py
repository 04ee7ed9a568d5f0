"""The shared CSV writer: formula-safe text, two-decimal money, header row, atomic file."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import polars as pl
import pytest

from writeoff_analytics.export.csv import (
    WRITEOFF_REASON,
    cell_frame,
    csv_cell,
    csv_text,
    formula_safe,
    money_cell,
    rows_text,
    safe_cell,
    source_cell,
    write_csv,
)


def test_safe_cell():
    for risky in ("=SUM(A1)", "+1", "-1", "@cmd", "\tx", "\rx"):
        assert safe_cell(risky) == "'" + risky
    assert safe_cell("P-MCR") == "P-MCR"
    assert safe_cell(None) is None
    assert safe_cell(Decimal("-20.00")) == Decimal("-20.00")


def test_csv_text_and_file(tmp_path):
    frame = pl.DataFrame(
        {
            "id": ["=1+1", "A,B", None],
            "when": [dt.date(2026, 1, 2), None, dt.date(2026, 3, 4)],
            "amount": [Decimal("1234.5"), Decimal("-20"), None],
            "total": [Decimal("0.1"), Decimal("0"), Decimal("3")],
            "n": [1, 2, 3],
            "flag": [True, False, None],
        },
        schema={"id": pl.String, "when": pl.Date, "amount": pl.Decimal(18, 2),
                "total": pl.Decimal(38, 2), "n": pl.Int64, "flag": pl.Boolean},
    )
    expected = (
        "id,when,amount,total,n,flag\n"
        "'=1+1,2026-01-02,1234.50,0.10,1,true\n"
        '"A,B",,-20.00,0.00,2,false\n'
        ",2026-03-04,,3.00,3,\n"
    )
    assert csv_text(frame) == expected
    path = tmp_path / "out" / "x.csv"
    write_csv(frame, path)
    assert path.read_bytes() == expected.encode("utf-8")


def test_money_is_one_way_in_every_path():
    # two decimals, a plain number, negative as -20.00, whatever the scale it arrives in
    values = [Decimal("1234.5"), Decimal("-20"), Decimal("0"), Decimal("-0.00"), Decimal("0.05")]
    expected = ["1234.50", "-20.00", "0.00", "0.00", "0.05"]
    assert [money_cell(v) for v in values] == expected
    assert [csv_cell(v) for v in values] == expected
    for dtype in (pl.Decimal(18, 2), pl.Decimal(38, 2), pl.Decimal(18, 4)):
        frame = pl.DataFrame({"amount": values}, schema={"amount": dtype})
        assert cell_frame(frame).get_column("amount").to_list() == expected


TRICKY = [
    "=1+1", "+1", "-C5", "@E5", "\tx", "\rx", "a\rb", "two\nlines", 'say "hi"', "A,B", "", " lead",
    "P-MCR", "'quoted", None,
]


@pytest.mark.parametrize("rows", [3, len(TRICKY)])
def test_a_frame_and_its_rows_give_the_same_bytes(rows):
    # csv_text writes a frame column by column (Polars); write_rows writes Python cells: the
    # one writer must give the same bytes either way, whatever the cells hold
    n = rows
    frame = pl.DataFrame(
        {
            "text": TRICKY[:n],
            "amount": [Decimal(f"-{i}.5") if i % 4 else None for i in range(n)],
            "day": [dt.date(2026, 1, 1 + i) if i % 3 else None for i in range(n)],
            "at": [dt.datetime(2026, 1, 2, 9, 30, i, 500) if i % 5 else None for i in range(n)],
            "n": [i if i % 2 else None for i in range(n)],
            "flag": [bool(i % 2) if i % 3 else None for i in range(n)],
        },
        schema={"text": pl.String, "amount": pl.Decimal(18, 2), "day": pl.Date,
                "at": pl.Datetime("us"), "n": pl.Int64, "flag": pl.Boolean},
    )
    by_rows = rows_text(frame.columns, ([csv_cell(v) for v in row] for row in frame.iter_rows()))
    assert csv_text(frame) == by_rows
    for column in frame.columns:  # one column, and a frame without a carriage return
        one = frame.select(column)
        assert csv_text(one) == rows_text([column], ([csv_cell(v)] for v in one.get_column(column)))
    plain = frame.filter(~pl.col("text").str.contains("\r", literal=True).fill_null(False))
    assert csv_text(plain) == rows_text(plain.columns, ([csv_cell(v) for v in r] for r in plain.iter_rows()))
    # and it reads back (a carriage return inside a cell is left unquoted, as receipts have
    # always been written, and Python's csv reader refuses it: read back the rest)
    back = list(csv.reader(io.StringIO(csv_text(plain))))
    assert back[0] == plain.columns
    assert [r[0] for r in back[1:]] == [formula_safe(t) for t in plain.get_column("text").fill_null("")]
    assert [r[1] for r in back[1:]] == [csv_cell(v) for v in plain.get_column("amount")]


def test_source_cells_keep_numbers_as_written():
    assert [source_cell(v) for v in ("-100.00", "12.345", "7", "$1,234.50", "-C5", "=x", None)] == [
        "-100.00", "12.345", "7", "$1,234.50", "'-C5", "'=x", ""]
    assert rows_text(["table", "amount"], [["charges", source_cell("-1")]]) == "table,amount\ncharges,-1\n"


def test_reason_code_is_the_carc_and_writeoff_reason_the_write_off_reason_in_every_csv(
    tmp_path, capsys, monkeypatch
):
    # LEDGER_FORMAT.md: in the transactions layout reason_code is the X12 CARC; the reason a
    # write-off was made is writeoff_reason in the receipt, history and report CSVs alike
    from tests.batch_support import find, make_store
    from writeoff_analytics.cli import main
    from writeoff_analytics.reporting import report_history
    from writeoff_analytics.writeoffs.batches import Batch
    from writeoff_analytics.writeoffs.permissions import Config, Permission
    from writeoff_analytics.writeoffs.receipts import commit_batch

    ledger = make_store(tmp_path / "s.duckdb")
    config = Config(users={"ana": frozenset(Permission)})
    receipt = commit_batch(ledger, Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING"),
                           user="ana", receipts_dir=tmp_path / "receipts", config=config)
    on_file = list(csv.DictReader(io.StringIO(receipt.csv_path.read_text(encoding="utf-8"))))
    assert {(r["reason_code"], r[WRITEOFF_REASON]) for r in on_file} == {("", "NO_BALANCE_BILLING")}
    today = dt.date.today()
    report_csv = report_history(ledger, today, today).to_csv(tmp_path / "h.csv")
    history = list(csv.DictReader(io.StringIO(report_csv.read_text(encoding="utf-8"))))
    assert "reason_code" not in history[0]
    assert {r[WRITEOFF_REASON] for r in history} == {"NO_BALANCE_BILLING"}
    monkeypatch.chdir(tmp_path)
    assert main(["history", "--db", str(tmp_path / "s.duckdb"), "--format", "csv", "--from", str(today)]) == 0
    listed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert "reason_code" not in listed[0]
    assert [(r["receipt_no"], r[WRITEOFF_REASON], r["total_amount"]) for r in listed] == [
        (receipt.receipt_no, "NO_BALANCE_BILLING", "677.84")]
