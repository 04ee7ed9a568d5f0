"""The shared CSV writer: formula-safe text, two-decimal money, header row, atomic file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from writeoff_analytics.export.csv import csv_text, safe_cell, write_csv


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
