"""Vendor mapping profiles: a PM system's export read as a ledger extract."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import writeoff_analytics as wa
from writeoff_analytics.errors import LedgerError, LedgerFormatError, RowProblem
from writeoff_analytics.ledger.load import read_extract
from writeoff_analytics.ledger.mapping import load_mapping

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
