"""Nothing unreadable becomes money (issue 14): strict ASCII values, a cell is read or rejected.

Each case plants one cell in a copy of ``tests/data/small`` (or of the vendor export) and
asserts the row is rejected naming the column, the other rows are kept exactly, and no kept
row holds NULL where the file had text.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from writeoff_analytics.errors import LedgerError
from writeoff_analytics.ledger.load import read_extract
from writeoff_analytics.ledger.mapping import load_mapping
from writeoff_analytics.ledger.validate import date_format_regex
from writeoff_analytics.money import parse_money

DATA = Path(__file__).parent / "data"
PROFILE = Path(__file__).resolve().parents[1] / "docs" / "mappings" / "example_vendor.toml"

#: (file, old text, new text, column) – T9 is C5's patient payment of -30.00.
CANONICAL_CASES = {
    "arabic_indic_money": ("transactions.csv", "-30.00,,,CC55", "-٣٠.٠٠,,,CC55", "amount"),
    "fullwidth_money": ("transactions.csv", "-30.00,,,CC55", "-３０.００,,,CC55", "amount"),
    "persian_money": ("transactions.csv", "-30.00,,,CC55", "-۳۰.۰۰,,,CC55", "amount"),
    "fullwidth_date": ("transactions.csv", "C5,2026-04-20", "C5,２０２６-04-20", "posted_date"),
    "arabic_indic_integer": ("charges.csv", "C5,E4,99212,1,", "C5,E4,99212,١,", "units"),
    "superscript_integer": ("charges.csv", "C5,E4,99212,1,", "C5,E4,99212,²,", "units"),
}


def _plant(tmp_path: Path, source: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "x"
    shutil.copytree(source, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize("case", sorted(CANONICAL_CASES))
def test_non_ascii_digits_are_rejected_never_null(tmp_path, case):
    file, old, new, column = CANONICAL_CASES[case]
    ex = read_extract(_plant(tmp_path, DATA / "small", file, old, new))
    problems = [p for p in ex.problems if p.file == file]
    assert [p.column for p in problems] == [column]
    assert problems[0].row is not None
    # good rows are kept, and nothing kept is NULL where the file had text
    table = file.removesuffix(".csv")
    kept = ex.frames[table]
    assert kept.height == read_extract(DATA / "small").frames[table].height - 1
    assert kept.get_column(column).null_count() == (
        read_extract(DATA / "small").frames[table].get_column(column).null_count()
    )


def test_python_money_parser_refuses_non_ascii_digits():
    for text in ("٣٠.٠٠", "１２.３５", "۳۰"):
        with pytest.raises(ValueError, match="ASCII"):
            parse_money(text)
    assert parse_money("30.00") == Decimal("30.00")


def test_us_money_keeps_only_real_thousands_separators(tmp_path):
    folder = _plant(tmp_path, DATA / "vendor", "Postings.csv", "($30.00),,,CC55", '"150,00",,,CC55')
    ex = read_extract(folder, mapping=PROFILE)
    problems = [p for p in ex.problems if p.column == "amount"]
    assert len(problems) == 1
    assert problems[0].value == "150,00"
    amounts = ex.frames["transactions"].get_column("amount").to_list()
    assert Decimal("15000.00") not in amounts and Decimal("150.00") not in amounts


def test_us_money_still_reads_us_amounts(tmp_path):
    folder = _plant(tmp_path, DATA / "vendor", "Postings.csv", "($30.00),,,CC55", '"($1,030.00)",,,CC55')
    ex = read_extract(folder, mapping=PROFILE)
    assert [p for p in ex.problems if p.column == "amount"] == []
    t9 = ex.frames["transactions"].filter(pl.col("transaction_id") == "T9")
    assert t9.get_column("amount").to_list() == [Decimal("-1030.00")]


@pytest.mark.parametrize("value", ["4/20/26", "04/20/0026", "4/20/２０２６", "04-20-2026"])
def test_mapped_dates_need_four_ascii_digit_years(tmp_path, value):
    folder = _plant(tmp_path, DATA / "vendor", "Postings.csv", "C5,04/20/2026", f"C5,{value}")
    ex = read_extract(folder, mapping=PROFILE)
    problems = [p for p in ex.problems if p.column == "posted_date"]
    assert len(problems) == 1 and problems[0].value == value
    expected = "outside 1900-2199" if value == "04/20/0026" else "four-digit year"
    assert expected in problems[0].reason
    assert "T9" not in ex.frames["transactions"].get_column("transaction_id").to_list()


def test_iso_dates_outside_the_ledger_years_are_rejected(tmp_path):
    folder = _plant(tmp_path, DATA / "small", "transactions.csv", "C5,2026-04-20", "C5,0026-04-20")
    ex = read_extract(folder)
    [problem] = [p for p in ex.problems if p.column == "posted_date"]
    assert problem.reason == "has the year 0026, outside 1900-2199; check the date format"


def test_two_digit_year_formats_are_refused_in_a_profile(tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text(PROFILE.read_text().replace('date = "MM/DD/YYYY"', 'date = "MM/DD/YY"'))
    assert 'date = "MM/DD/YY"' in profile.read_text()
    with pytest.raises(LedgerError, match="two-digit year"):
        load_mapping(profile)


def test_date_format_regex():
    assert date_format_regex("%Y-%m-%d") == "^[0-9]{4}\\-[0-9]{1,2}\\-[0-9]{1,2}$"
    with pytest.raises(ValueError, match="%y"):
        date_format_regex("%m/%d/%y")
