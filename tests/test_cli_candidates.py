"""``writeoff candidates`` run as a subprocess on a small store (the criteria scenario)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import polars as pl
import pytest

from tests.conftest import build_ledger
from tests.criteria_scenario import SCENARIO
from writeoff_analytics.candidates import GROUP_SCHEMA, LINE_SCHEMA


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli") / "ledger.duckdb"
    build_ledger(str(path), **SCENARIO)
    return str(path)


def writeoff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "writeoff_analytics.cli", "candidates", *args],
        capture_output=True, text=True, timeout=120,
    )


def test_csv_has_a_header_and_the_line_columns_with_two_decimal_money(store):
    proc = writeoff("--db", store, "--preset", "bad-debt", "--as-of", "2026-11-01",
                    "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        ",".join(LINE_SCHEMA),
        "C1,E1,0004567,,E1,2026-02-27,247,99213,DR1,L1,P-MCR,MEDICARE,NOT_RESPONSIBLE,PATIENT,40.00,40.00",
        "C5,E5,P5,,E5,2025-06-01,518,80053,,,,SELF_PAY,SELF_PAY,PATIENT,6.00,6.00",
        "C6,E6,P6,P5,E6,2025-07-01,488,99213,,,,SELF_PAY,SELF_PAY,PATIENT,3.00,3.00",
        "C12,E9,P9,,E9,2026-04-30,185,80053,DR2,L1,P-COM,COMMERCIAL,"
        "AFTER_INSURANCE_PATIENT_RESPONSIBLE,PATIENT,5.00,5.00",
        "C9,E9,P9,,E9,2026-04-30,185,99213,DR2,L1,P-COM,COMMERCIAL,"
        "AFTER_INSURANCE_PATIENT_RESPONSIBLE,PATIENT,30.00,30.00",
    ]


def test_group_csv_to_a_file(store, tmp_path):
    out = tmp_path / "groups.csv"
    proc = writeoff("--db", store, "--preset", "bad-debt", "--as-of", "2026-11-01",
                    "--group", "--format", "csv", "--output", str(out), "--engine", "polars")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "4 groups written to" in proc.stderr
    assert out.read_text(encoding="utf-8").splitlines() == [
        ",".join(GROUP_SCHEMA),
        "E1,0004567,2026-02-27,2026-02-27,247,1,40.00",
        "E5,P5,2025-06-01,2025-06-01,518,1,6.00",
        "E6,P6,2025-07-01,2025-07-01,488,1,3.00",
        "E9,P9,2026-04-30,2026-04-30,185,2,35.00",
    ]


def test_table_prints_a_summary_then_rows(store):
    proc = writeoff("--db", store, "--preset", "no-balance-billing", "--as-of", "2026-11-01")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == "Criteria: Patient balances, written off by encounter; responsibility: " \
                     "not responsible; as of 2026-11-01"
    assert out[1] == "As of 2026-11-01: 2 lines in 2 groups, total $60.00"
    assert out[2] == "First 2 of 2 lines:"
    assert "| C1 " in proc.stdout and "| C3 " in proc.stdout
    assert "$40.00" in proc.stdout
    assert "not shown" not in proc.stdout  # every line is shown


def test_json_keeps_money_exact(store):
    proc = writeoff("--db", store, "--preset", "hardship", "--as-of", "2026-11-01",
                    "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["total"] == "35.00"
    assert doc["criteria"]["preset"] == "hardship"
    assert [(r["charge_id"], r["balance"]) for r in doc["lines"]] == [
        ("C12", "5.00"), ("C9", "30.00"),
    ]


def test_parquet_keeps_the_dtypes(store, tmp_path):
    out = tmp_path / "lines.parquet"
    proc = writeoff("--db", store, "--preset", "timely-filing", "--as-of", "2026-11-01",
                    "--format", "parquet", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    frame = pl.read_parquet(out)
    assert frame.schema == LINE_SCHEMA
    assert frame.select("charge_id", "balance").rows() == [("C10", Decimal("80.00"))]


def test_criteria_file_and_pre_filters(store, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('balance_type = "PATIENT"\nwrite_off_by = "GUARANTOR"\n'
                    'max_balance = "9.00"\n', encoding="utf-8")
    proc = writeoff("--db", store, "--criteria", str(path), "--as-of", "2026-11-01",
                    "--format", "csv", "--group")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1:] == ["P5,,2025-06-01,2025-07-01,518,2,9.00"]
    proc = writeoff("--db", store, "--criteria", str(path), "--as-of", "2026-11-01",
                    "--format", "csv", "--patient-id", "P6", "--encounter-id", "E6", "E5")
    assert [row.split(",")[0] for row in proc.stdout.splitlines()[1:]] == ["C6"]


def test_user_presets_file(store, tmp_path):
    path = tmp_path / "presets.toml"
    path.write_text('[tiny]\nreason = "COURTESY"\n[tiny.criteria]\nbalance_type = "PATIENT"\n'
                    'write_off_by = "PATIENT"\nmax_balance = "3.00"\n', encoding="utf-8")
    proc = writeoff("--db", store, "--preset", "tiny", "--presets", str(path),
                    "--as-of", "2026-11-01", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert [row.split(",")[0] for row in proc.stdout.splitlines()[1:]] == ["C6"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "nope"], "unknown preset nope; known: bad-debt"),
        (["--preset", "bad-debt", "--as-of", "11/01/2026"],
         "argument --as-of: '11/01/2026' is not a date; write YYYY-MM-DD"),
        (["--preset", "timely-filing", "--format", "parquet"], "--format parquet needs --output"),
    ],
)
def test_errors_are_one_line_and_exit_1(store, args, message):
    proc = writeoff("--db", store, *args)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("writeoff candidates: error: ")
    assert message in proc.stderr


def test_a_bad_criteria_file_names_the_file(store, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('balance_type = "INSURANCE"\nwrite_off_by = "GUARANTOR"\n', encoding="utf-8")
    proc = writeoff("--db", store, "--criteria", str(path))
    assert proc.returncode == 1
    assert f"criteria file {path}: write_off_by GUARANTOR does not apply" in proc.stderr


def test_missing_store_is_not_created(tmp_path):
    path = tmp_path / "none.duckdb"
    proc = writeoff("--db", str(path), "--preset", "bad-debt")
    assert proc.returncode == 1
    assert f"no ledger at {path}; run `writeoff load EXTRACT --db {path}` first." in proc.stderr
    assert not path.exists()
