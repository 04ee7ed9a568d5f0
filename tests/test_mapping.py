"""Vendor mapping profiles: a PM system's export read as a ledger extract."""

from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import writeoff_analytics as wa
from writeoff_analytics.errors import LedgerError, LedgerFormatError, RowProblem
from writeoff_analytics.ledger.load import read_extract
from writeoff_analytics.ledger.mapping import (
    NEGATIVE_FORMS,
    CsvOptions,
    DateFormat,
    MoneyFormat,
    load_mapping,
)
from writeoff_analytics.ledger.preview import preview_extract

DATA = Path(__file__).parent / "data"
PROFILE = Path(__file__).resolve().parents[1] / "docs" / "mappings" / "example_vendor.toml"


def test_vendor_export_loads_into_the_same_balances_as_the_canonical_one():
    canonical = wa.load_ledger(DATA / "small", ":memory:").balances()
    vendor = wa.load_ledger(DATA / "vendor", ":memory:", mapping=PROFILE).balances()
    assert vendor.schema == canonical.schema
    assert vendor.to_dicts() == canonical.to_dicts()


def test_profile_is_read():
    m = load_mapping(PROFILE)
    assert m.date_format == "%m/%d/%Y"
    assert m.money_format == "us"
    assert m.file_stem("charges") == "ChargeLines"
    assert m.contract_name("charges", "Charge") == "charge_amount"
    assert m.source_name("transactions", "responsibility") == "Bucket"


def test_vendor_problems_use_the_exports_file_and_contract_columns(tmp_path):
    folder = tmp_path / "v"
    shutil.copytree(DATA / "vendor", folder)
    p = folder / "ChargeLines.csv"
    p.write_text(
        p.read_text().replace(
            "C3,E2,36415,2,$25.50,P-COM,01/16/2026", "C3,E2,36415,2,$25.505,P-COM,16/01/2026"
        )
    )
    ex = read_extract(folder, mapping=PROFILE)
    assert list(ex.problems) == [
        RowProblem(
            "charges",
            "ChargeLines.csv",
            4,
            "charge_amount",
            "25.505",
            "has 3 decimals; money allows 2",
        ),
        RowProblem(
            "charges",
            "ChargeLines.csv",
            4,
            "posted_date",
            "16/01/2026",
            "is not a date in the form %m/%d/%Y (ASCII digits, four-digit year)",
        ),
    ]
    assert ex.records[("charges", 4)]["charge_amount"] == "25.505"


def test_missing_vendor_column_names_the_exports_column(tmp_path):
    folder = tmp_path / "v"
    shutil.copytree(DATA / "vendor", folder)
    p = folder / "Visits.csv"
    p.write_text(p.read_text().replace("Visit,Account,DOS", "Visit,Account,Service Date"))
    with pytest.raises(
        LedgerFormatError, match=r"^Visits\.csv, row 1: required column DOS is missing"
    ):
        read_extract(folder, mapping=PROFILE)


def test_bad_profiles_are_refused(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text("[columns.charges]\ncharge_total = 'Charge'\n")
    with pytest.raises(LedgerError, match=r"unknown column charges\.charge_total"):
        load_mapping(p)
    p.write_text("[formats]\nmoney = 'euro'\n")
    with pytest.raises(LedgerError, match=r"formats\.money 'euro' is not one of plain, us"):
        load_mapping(p)
    p.write_text("not toml [")
    with pytest.raises(LedgerError, match="cannot be read"):
        load_mapping(p)


# --- version 2 ------------------------------------------------------------------------------

EUROPEAN = PROFILE.with_name("example_european.toml")
US = PROFILE.with_name("example_us.toml")


def _copy(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(DATA / "vendor" / name, folder)
    return folder


def _replace(path: Path, old: str, new: str, encoding: str = "utf-8") -> None:
    text = path.read_text(encoding=encoding)
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding=encoding, newline="")


def test_version_1_profiles_read_as_before():
    m = load_mapping(PROFILE)
    assert (m.version, m.money, m.pivot_date, m.csv) == (1, None, None, {})
    assert m.csv_options("charges") == CsvOptions()


def test_version_2_profile_is_read():
    m = load_mapping(EUROPEAN)
    assert m.version == 2
    assert m.csv_options("charges") == CsvOptions(";", "cp1252", 1, ("^Summe", "^;+$"))
    assert m.money == MoneyFormat(",", ".", ("-x", "x-"))
    assert m.date_format == "%d.%m.%Y"
    us = load_mapping(US)
    assert us.csv_options("transactions").drop == ("^Grand Total,",)
    assert us.csv_options("charges") == CsvOptions()
    assert us.pivot_date == DateFormat("%m/%d/%y", 1950)
    assert us.date_format is None  # the mapping writes the four-digit year; ISO is checked
    assert us.source_name("patients", "guarantor_id") == "Account"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.234,50", "1234.50"),
        ("1234,50", "1234.50"),
        ("-1.234.567,05", "-1234567.05"),
        ("20,00-", "-20.00"),
        ("0,5", "0.5"),
        ("7", "7"),
        ("1,2345", "1.2345"),  # the shape holds; the contract then refuses 4 decimals
        ("12.50", None),  # a point is a thousands separator here: 12.50 is no amount
        ("1.23,45", None),
        ("(20,00)", None),  # a form not declared
        ("20,00 CR", None),
        ("$12,00", None),
        ("1 234,50", None),
        ("١٢,٥٠", None),
    ],
)
def test_money_shapes_are_declared_never_guessed(value, expected):
    m = MoneyFormat(",", ".", ("-x", "x-"))
    ok, text = m.rewrite(pl.col("v"))
    got = pl.DataFrame({"v": [value]}).select(ok.alias("ok"), text.alias("t")).row(0)
    assert got == ((True, expected) if expected is not None else (False, value))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("$1,234.50", "1234.50"), ("($20.00)", "-20.00"), ("1234.50", "1234.50"),
     ("20.00 CR", "-20.00"), ("$5.00-", "-5.00"), ("-$5.00", "-5.00"),
     ("150,00", None), ("1,23.00", None), ("$-5.00", None), ("€5.00", None)],
)
def test_us_shapes_with_every_negative_form(value, expected):
    m = MoneyFormat(".", ",", NEGATIVE_FORMS, "$")
    ok, text = m.rewrite(pl.col("v"))
    got = pl.DataFrame({"v": [value]}).select(ok.alias("ok"), text.alias("t")).row(0)
    assert got == ((True, expected) if expected is not None else (False, value))


def test_a_money_cell_of_another_shape_rejects_its_row_with_the_declared_form(tmp_path):
    folder = _copy(tmp_path, "european")
    # T9's -30,00 written as 30.00- (a point where the profile declares a comma)
    _replace(folder / "Buchungen.csv", ";-30,00;", ";-30.00;", "cp1252")
    ex = read_extract(folder, mapping=EUROPEAN)
    assert [(p.file, p.row, p.column, p.value) for p in ex.problems] == [
        ("Buchungen.csv", 12, "amount", "-30.00")
    ]
    assert ex.problems[0].reason == (
        "is not an amount in the profile's form (decimal ',', thousands '.', negatives -x or "
        "x-, like 1.234,50)"
    )
    assert ex.records[("transactions", 12)]["amount"] == "-30.00"
    assert ex.frames["transactions"].height == 8


def test_two_digit_years_need_a_declared_pivot(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text("version = 2\n[formats]\ndate = 'MM/DD/YY'\n")
    with pytest.raises(LedgerError, match=r"uses %y; .*declare a pivot year"):
        load_mapping(p)
    p.write_text("[formats]\ndate = {format = 'MM/DD/YY', pivot = 1950}\n")  # version 1
    with pytest.raises(LedgerError, match="formats.date: expected text"):
        load_mapping(p)
    p.write_text("version = 2\n[formats]\ndate = {format = 'MM/DD/YYYY', pivot = 1950}\n")
    with pytest.raises(LedgerError, match="has no two-digit year"):
        load_mapping(p)
    p.write_text("version = 2\n[formats]\ndate = {format = 'MM/DD/YY', pivot = 1850}\n")
    with pytest.raises(LedgerError, match="pivot must be a year from 1900 to 2100"):
        load_mapping(p)


def test_the_pivot_decides_the_century_and_other_shapes_are_rejected(tmp_path):
    folder = _copy(tmp_path, "us_pivot")
    _replace(folder / "Accounts.csv", "04/01/50", "04/01/49")  # 2049 by the pivot 1950
    _replace(folder / "Visits.csv", "E2,0000120,01/15/26", "E2,0000120,01/15/2026")
    ex = read_extract(folder, mapping=US)
    born = dict(zip(ex.frames["patients"]["patient_id"], ex.frames["patients"]["date_of_birth"],
                    strict=True))
    assert born["0004567"].year == 2049
    assert born["0000120"].year == 1978
    assert born["0000777"].year == 2010
    visit = [p for p in ex.problems if p.file == "Visits.csv"]
    assert [(p.row, p.column, p.value) for p in visit] == [(3, "date_of_service", "01/15/2026")]
    assert visit[0].reason == (
        "is not a date in the form %m/%d/%y (two-digit years by the pivot 1950: 50-99 are "
        "1950-1999, 00-49 are 2000-2049)"
    )


def test_birth_dates_of_another_shape_are_rejected_without_showing_them(tmp_path):
    folder = _copy(tmp_path, "us_pivot")
    _replace(folder / "Accounts.csv", "11/30/78", "11/30/1978")
    ex = read_extract(folder, mapping=US)
    bad = [p for p in ex.problems if p.file == "Accounts.csv"]
    assert [(p.row, p.column, p.value) for p in bad] == [(3, "date_of_birth", None)]


def test_one_export_column_feeds_two_contract_columns():
    ex = read_extract(DATA / "vendor" / "us_pivot", mapping=US)
    patients = ex.frames["patients"]
    assert patients["guarantor_id"].to_list() == patients["patient_id"].to_list()
    assert patients["patient_id"].to_list() == ["0004567", "0000120", "0000777"]


def test_an_export_column_named_like_a_mapped_contract_column_is_kept_aside():
    ex = read_extract(DATA / "vendor" / "us_pivot", mapping=US)
    tx = ex.frames["transactions"]
    assert tx["export_amount"].unique().to_list() == ["999.99"]
    assert tx["amount"].sum() == Decimal("-310.00")


def test_a_column_named_like_the_contract_does_not_stand_in_for_the_mapped_one(tmp_path):
    folder = _copy(tmp_path, "us_pivot")
    _replace(folder / "Postings.csv", "Net Amt", "Net Amount")
    with pytest.raises(
        LedgerFormatError, match=r"^Postings\.csv, row 1: required column Net Amt is missing"
    ):
        read_extract(folder, mapping=US)


def test_a_mapped_optional_column_missing_is_refused(tmp_path):
    folder = _copy(tmp_path, "us_pivot")
    _replace(folder / "Charges.csv", "Carrier", "Payer")
    with pytest.raises(
        LedgerFormatError, match=r"^Charges\.csv, row 1: mapped column Carrier is missing"
    ):
        read_extract(folder, mapping=US)


def test_title_lines_and_dropped_lines_keep_the_files_row_numbers(tmp_path):
    folder = _copy(tmp_path, "european")
    # Leistungen.csv: title (row 1), header (2), an empty-fields line (3), C1 (4) ... C6 (9)
    _replace(folder / "Leistungen.csv", "C5;E4;99212;1;80,00", "C5;E4;99212;0;80,00", "cp1252")
    ex = read_extract(folder, mapping=EUROPEAN, )
    bad = [p for p in ex.problems if p.file == "Leistungen.csv"]
    assert [(p.row, p.column) for p in bad] == [(8, "units")]


def test_dropped_lines_are_reported_in_the_control_totals():
    p = preview_extract(DATA / "vendor" / "european", mapping=EUROPEAN)
    assert [c.dropped_rows for c in p.controls][4] == (3, 10, 11)
    assert "3 line(s) dropped by the mapping's patterns (rows 3, 10, 11)" in p.controls[4].describe()


def test_bytes_the_declared_encoding_lacks_are_refused(tmp_path):
    folder = _copy(tmp_path, "european")
    path = folder / "Faelle.csv"
    path.write_bytes(path.read_bytes().replace(b"DR01;LOC1", b"DR\x81;LOC1"))
    with pytest.raises(LedgerFormatError, match=r"^Faelle\.csv, row \d+: is not cp1252"):
        read_extract(folder, mapping=EUROPEAN)


@pytest.mark.parametrize(("encoding", "declared"), [("utf-16", "utf-16"), ("utf-16-le", "utf-16-le")])
def test_utf16_is_read_when_declared(tmp_path, encoding, declared):
    folder = _copy(tmp_path, "european")
    for f in folder.iterdir():
        f.write_bytes(f.read_bytes().decode("cp1252").encode(encoding))
    profile = tmp_path / "p.toml"
    profile.write_text(EUROPEAN.read_text(encoding="utf-8").replace('"cp1252"', f'"{declared}"'),
                       encoding="utf-8")
    ex = read_extract(folder, mapping=profile)
    assert ex.problems == ()
    assert ex.frames["transactions"]["amount"].sum() == Decimal("-310.00")


def test_utf16_without_a_byte_order_mark_is_not_guessed(tmp_path):
    folder = _copy(tmp_path, "european")
    for f in folder.iterdir():
        f.write_bytes(f.read_bytes().decode("cp1252").encode("utf-16-le"))
    profile = tmp_path / "p.toml"
    profile.write_text(EUROPEAN.read_text(encoding="utf-8").replace('"cp1252"', '"utf-16"'),
                       encoding="utf-8")
    with pytest.raises(LedgerFormatError, match="has no utf-16 byte order mark; .*utf-16-le or utf-16-be"):
        read_extract(folder, mapping=profile)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("version = 2\ncolour = 'red'\n", r"unknown key\(s\) colour; known: columns, csv"),
        ("[csv]\ndelimiter = ';'\n", r"unknown key\(s\) csv; .*version-2 keys need version = 2"),
        ("version = 2\n[csv]\ndelim = ';'\n", r"\[csv\]: unknown key\(s\) delim"),
        ("version = 2\n[csv]\ndelimiter = ';;'\n", "must be one character"),
        ("version = 2\n[csv]\nencoding = 'klingon'\n", "encoding 'klingon' is not known"),
        ("version = 2\n[csv]\nencoding = 'rot13'\n", "is not a text encoding"),
        ("version = 2\n[csv]\ndrop = ['(']\n", "is not a regular expression"),
        ("version = 2\n[csv]\nskip_lines = -1\n", "skip_lines must be a whole number"),
        ("version = 2\n[files.charges]\nname = 'X'\nsep = ';'\n", r"\[files.charges\]: unknown key\(s\) sep"),
        ("version = 2\n[formats]\nmoney = {decimal = ',', thousands = ','}\n", "other than the decimal mark"),
        ("version = 2\n[formats]\nmoney = {negatives = ['x DR']}\n", "negatives .* must be a list"),
        ("version = 2\n[formats]\nmoney = {decimals = ','}\n", r"unknown key\(s\) decimals"),
        ("version = 2\n[formats]\ncurrency = '$'\n", r"\[formats\]: unknown key\(s\) currency"),
        ("version = 3\n", "version 3 is not 1 or 2"),
        ("[formats]\nmoney = {decimal = ','}\n", r"formats.money .* is not one of plain, us"),
    ],
)
def test_bad_version_2_profiles_are_refused_naming_the_key(tmp_path, toml, message):
    p = tmp_path / "p.toml"
    p.write_text(toml, encoding="utf-8")
    with pytest.raises(LedgerError, match=message):
        load_mapping(p)


def test_preview_loads_nothing_and_shows_no_phi(tmp_path):
    db = tmp_path / "store" / "s.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "writeoff_analytics.cli", "load", str(DATA / "vendor" / "us_pivot"),
         "--mapping", str(US), "--preview", "--db", str(db)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert not db.exists() and not db.parent.exists()
    assert "transactions (Postings.csv): first 5 of 9 rows kept" in out
    assert "  T1              C1         2026-03-02   INSURANCE_PAYMENT" in out
    assert ("  Postings.csv: 9 read, 9 kept, 0 rejected; amount read -$310.00, stored -$310.00; "
            "1 line(s) dropped by the mapping's patterns (rows 11)") in out
    for phi in ("Testpatient", "Ann", "1950-04-01", "04/01/50", "1EG4TE5MK72"):
        assert phi not in out
    assert out.splitlines()[-1] == "No rows would be rejected."


def test_preview_counts_what_a_load_would_reject(tmp_path):
    folder = _copy(tmp_path, "us_pivot")
    _replace(folder / "Postings.csv", "($30.00)", "-30.00")  # '-x' is not declared
    p = preview_extract(folder, mapping=US, rows=1)
    assert [c.rows_rejected for c in p.controls] == [0, 0, 0, 0, 0, 1]
    assert p.controls[5].money[0].unreadable_cells == 1
    assert p.lines()[-4:] == [
        "1 row(s) would be rejected; first problems:",
        "  Postings.csv, row 10, column amount: '-30.00': is not an amount in the profile's form "
        "(decimal '.', thousands ',', negatives (x), symbol '$', like $1,234.50)",
        "A load would be refused (default guard):",
        "  Postings.csv: 1 of 9 rows rejected (11.1%), over the 1% allowed; fix them "
        "(rejects.csv) or raise max_reject_share (--accept-rejected-share 11.2%)",
    ]
