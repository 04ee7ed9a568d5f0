"""`writeoff load`: counts, rejects summary, exit status, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "writeoff_analytics.cli", "load", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_load_prints_counts_and_exits_0(tmp_path):
    db = tmp_path / "s.duckdb"
    done = _run(str(DATA / "small"), "--db", str(db))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"Loaded {DATA / 'small'} into {db} (import 1)."
    assert lines[1].split() == ["payers", "3"]
    assert lines[6].split() == ["transactions", "9"]
    assert lines[7] == "Control totals:"
    assert lines[12] == "  charges.csv: 6 read, 6 kept, 0 rejected; charge_amount read $587.85, stored $587.85"
    assert lines[-1] == "No rows rejected."
    assert done.stderr == ""


def test_rejects_are_summarised_and_written(tmp_path):
    db = tmp_path / "s.duckdb"
    rejects = tmp_path / "fix" / "bad.csv"
    done = _run(
        str(DATA / "broken" / "money_currency_sign"), "--db", str(db), "--rejects", str(rejects),
        "--accept-rejected-share", "50%",
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "  charges                  5  (1 rejected)" in out
    assert f"5 row(s) rejected; fix them in {rejects} and reload:" in out
    assert "  transactions: 4 x charge_id refers to a rejected row" in out
    assert "  charges: 1 x has a currency sign or thousands separator" in out
    assert (
        "  charges.csv, row 3, column charge_amount: '$1,234.50': has a currency sign or "
        "thousands separator; write 1234.50"
    ) in out
    assert rejects.read_text(encoding="utf-8").startswith("table,row,problem,payer_id,")


def test_default_rejects_file_is_beside_the_store(tmp_path):
    db = tmp_path / "store" / "s.duckdb"
    done = _run(str(DATA / "broken" / "short_row"), "--db", str(db), "--accept-rejected-share", "12")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "store" / "rejects.csv").is_file()
    assert "transactions: 1 x wrong number of fields" in done.stdout


def test_fatal_problem_is_one_line_and_exit_1(tmp_path):
    done = _run(str(DATA / "broken" / "non_utf8"), "--db", str(tmp_path / "s.duckdb"))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "writeoff load: error: patients.csv, row 4: is not UTF-8: bytes that UTF-8 does not allow "
        "at byte offset 192 of the file; save the file as UTF-8 and reload\n"
    )


def test_missing_extract_and_bad_mapping_are_one_line(tmp_path):
    done = _run(str(tmp_path / "nope"), "--db", str(tmp_path / "s.duckdb"))
    assert (done.returncode, done.stderr.count("\n")) == (1, 1)
    assert "Traceback" not in done.stderr
    bad = tmp_path / "m.toml"
    bad.write_text("[columns.nonsense]\nx = 'y'\n")
    done = _run(str(DATA / "small"), "--db", str(tmp_path / "s.duckdb"), "--mapping", str(bad))
    assert done.returncode == 1
    assert done.stderr == (
        "writeoff load: error: mapping profile m.toml: unknown table 'nonsense'; known: payers, "
        "patients, coverages, encounters, charges, transactions\n"
    )
