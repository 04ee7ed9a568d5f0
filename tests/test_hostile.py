"""The hostile corpus (issue 14, Done when): every case loads exactly or is refused in one line.

Each case of ``tests/data/hostile/`` (made by ``tests/hostile_cases.py``; a few made here,
see ``GENERATED``) is tests/data/small with some files replaced. It is loaded with
``writeoff load`` (in-process, ``cli.main``) over a store already holding tests/data/small:

- ``ok``: exit 0 and the balances are the literal Decimals below; no contract cell is NULL
  where tests/data/small has text (the null counts of every contract column are small's);
- ``refused``: exit 1, exactly one line on stderr matching the pattern, no traceback, and
  the store query-identical to before (every snapshot table, the balances, the logs).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.hostile_cases import GENERATED, HOSTILE, SMALL, SMALL_BALANCES, files, generated
from writeoff_analytics.cli import main
from writeoff_analytics.ledger.load import load_extract
from writeoff_analytics.ledger.schema import TABLES
from writeoff_analytics.ledger.store import Ledger

D = Decimal
#: The store tables a refused load must leave as they were.
STORE_TABLES = (*(t.name for t in TABLES), "charge_balances", "import_log", "rejects", "writeoff_lines")


@dataclass(frozen=True)
class Expect:
    outcome: str  # "ok" or "refused"
    match: str = ""  # refused: a regex the one stderr line must contain
    balances: dict[str, tuple[Decimal, Decimal]] = field(default_factory=lambda: SMALL_BALANCES)


def ok(**changed: tuple[Decimal, Decimal]) -> Expect:
    return Expect("ok", balances={**SMALL_BALANCES, **changed})


def refused(match: str) -> Expect:
    return Expect("refused", match)


GUARD_SHARE = r"load refused, the store keeps its previous snapshot: transactions\.(csv|parquet): 1 of 9 rows rejected"
GUARD_EMPTY = r"load refused, .*no transactions would be left \(the store holds 9\)"
NOT_UTF8 = r"is not UTF-8"

#: case -> expected outcome (see tests/data/hostile/README.md for why each case is there).
CASES: dict[str, Expect] = {
    # line endings and encodings
    "crlf_line_endings": ok(),
    "cr_only_line_endings": refused(r"transactions\.csv: has CR-only line endings"),
    "mixed_line_endings": refused(r"transactions\.csv: cannot be read as CSV"),
    "utf8_bom": ok(),
    "utf16_with_bom": refused(r"transactions\.csv, row 1: " + NOT_UTF8),
    "only_bom": refused(r"transactions\.csv: is empty"),
    "empty_file": refused(r"transactions\.csv: is empty"),
    "nul_byte_in_id": refused(GUARD_SHARE),
    "latin1_name": refused(r"patients\.csv, row 2: " + NOT_UTF8),
    "quoted_newline_in_id": refused(GUARD_SHARE),
    "very_long_header_name": refused(r"charges\.csv: all 6 rows rejected"),
    # archives and files
    "truncated_zip": refused(r"extract\.zip: cannot be read as a zip"),
    "not_a_zip": refused(r"extract\.zip: cannot be read as a zip"),
    "garbage_parquet": refused(r"transactions\.parquet: cannot be read as Parquet"),
    "two_files_one_table": refused(r"table transactions is there more than once"),
    "zip_bomb": refused(r"member transactions\.csv unpacks 64\.0 MiB .* refused as a zip bomb"),
    "header_100000_columns": refused(r"the header has 100,000 columns, over the 1,000"),
    "very_long_line": refused(r"transactions\.csv: 1 of 10 rows rejected"),
    "folder_named_like_a_file": refused(r"table transactions is missing"),
    "broken_symlink": refused(r"table transactions is missing"),
    # Parquet types
    "parquet_list_column": refused(r"column reason_code: holds List\(String\) values"),
    "parquet_struct_column": refused(r"column remit: holds Struct\("),
    "parquet_list_money": refused(r"column amount: holds List\(String\) values"),
    "parquet_float_money": ok(),  # every float prints with at most 2 decimals: read exactly
    "parquet_float_money_inexact": refused(GUARD_SHARE),  # 0.30000000000000004
    "parquet_decimal_38_10": ok(C5=(D("0.00"), D("54.50"))),  # T9 -25.5000000000
    # columns named like the loader's
    "column_named_row": refused(r"column _row: is named like a column the loader makes"),
    "column_named_typed_amount": refused(r"column _typed_amount: is named like a column"),
    "column_named_bad_amount": refused(r"column _bad_amount: is named like a column"),
    "column_named_reject": refused(r"column _reject: is named like a column"),
    "column_named_practice_id": ok(),  # an extra column like any other
    "duplicate_header_differing_in_case": refused(r"columns amount and Amount differ only in case"),
    "header_names_with_spaces": ok(),  # header names are trimmed, values never
    # money
    "amount_17_digits": refused(GUARD_SHARE),
    "amount_1e400": refused(GUARD_SHARE),
    "amount_99999999999999999_99": refused(GUARD_SHARE),
    "arabic_indic_digits": refused(GUARD_SHARE),
    "fullwidth_digits": refused(GUARD_SHARE),
    "superscript_digits": refused(GUARD_SHARE),
    "nbsp_in_money": refused(GUARD_SHARE),
    "leading_space_in_money": refused(GUARD_SHARE),
    "trailing_space_in_money": refused(GUARD_SHARE),
    "nan_money": refused(GUARD_SHARE),
    "inf_money": refused(GUARD_SHARE),
    "plus_sign_money": refused(GUARD_SHARE),
    "exponent_money": refused(GUARD_SHARE),
    "negative_zero_money": ok(C5=(D("0.00"), D("80.00"))),  # T9 -0.00 pays nothing
    "three_decimals": refused(GUARD_SHARE),
    # dates and rows
    "two_digit_year": refused(GUARD_SHARE),
    "us_date_two_digit_year": refused(GUARD_SHARE),
    "header_only_transactions": refused(GUARD_EMPTY),
    "all_transactions_rejected": refused(GUARD_EMPTY),
    "short_row": refused(GUARD_SHARE),
    # ids
    "escape_sequence_in_id": refused(GUARD_SHARE),
    "c1_control_in_id": refused(GUARD_SHARE),
    "del_in_id": refused(GUARD_SHARE),
    "bidi_override_in_id": refused(GUARD_SHARE),
    "bidi_isolate_in_code": refused(r"charges\.csv: 1 of 6 rows rejected"),
    "birth_date_rejected": refused(r"patients\.csv: 1 of 3 rows rejected"),
    # spreadsheets
    "xlsx_empty_string_cells": ok(),
    "xlsx_formula_cell": refused(r"transactions\.xlsx: sheet 'Sheet1', cell G10: holds a formula"),
    "xlsx_formula_without_cached_value": refused(r"sheet 'Sheet1', cell G10: holds a formula"),
    "xlsx_merged_header": refused(r"sheet 'Sheet1': cells H1:I1 are merged \(in the header\)"),
    "xlsx_bomb": refused(r"transactions\.xlsx: part xl/worksheets/sheet1\.xml unpacks .* refused as a zip bomb"),
    "xlsx_two_sheets_none_named": refused(r"has 2 sheets \('Export', 'Totals'\) and none named"),
}


@pytest.fixture(scope="module")
def base_store(tmp_path_factory) -> Path:
    """A store file holding tests/data/small (copied for each case)."""
    db = tmp_path_factory.mktemp("hostile-base") / "ledger.duckdb"
    load_extract(Ledger(db), SMALL)
    return db


def build_extract(case: str, work: Path) -> Path:
    """tests/data/small with the case's files in place of small's (or the case's zip)."""
    overlay = work / "overlay"
    overlay.mkdir()
    if case in GENERATED:
        generated(case, overlay)
    else:
        for f in (HOSTILE / case).iterdir():
            shutil.copy(f, overlay / f.name)
    if (overlay / "extract.zip").is_file():
        return overlay / "extract.zip"
    extract = work / "extract"
    shutil.copytree(SMALL, extract)
    for f in sorted(overlay.iterdir()):
        table, _, ext = f.name.partition(".")
        if ext != "csv" and case != "two_files_one_table":
            (extract / f"{table}.csv").unlink()
        target = extract / f.name
        target.unlink(missing_ok=True)
        if f.is_symlink():
            target.symlink_to(f.readlink())
        elif f.is_dir():
            target.mkdir()
        else:
            shutil.copy(f, target)
    return extract


def store_contents(db: Path) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in STORE_TABLES}
    finally:
        con.close()


def null_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            f"{t.name}.{c.name}": con.execute(
                f"SELECT count(*) - count({c.name}) FROM {t.name}"
            ).fetchall()[0][0]
            for t in TABLES
            for c in t.columns
        }
    finally:
        con.close()


def balances(db: Path) -> dict[str, tuple[Decimal, Decimal]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT charge_id, insurance_balance, patient_balance FROM charge_balances"
        ).fetchall()
    finally:
        con.close()
    return {r[0]: (r[1], r[2]) for r in rows}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_case_loads_exactly_or_is_refused_in_one_line(case, base_store, tmp_path, capsys):
    expect = CASES[case]
    db = tmp_path / "ledger.duckdb"
    shutil.copy(base_store, db)
    before = store_contents(db)
    small_nulls = null_counts(db)
    extract = build_extract(case, tmp_path)
    capsys.readouterr()
    status = main(["load", str(extract), "--db", str(db), "--quiet"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if expect.outcome == "ok":
        assert (status, err) == (0, ""), err
        got = balances(db)
        assert got == expect.balances
        assert all(isinstance(v, Decimal) for pair in got.values() for v in pair)
        assert null_counts(db) == small_nulls  # no NULL where the file had text
    else:
        assert status == 1
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("writeoff load: error: ")
        assert re.search(expect.match, lines[0]), lines[0]
        assert "unexpected" not in lines[0]  # a refusal we meant, not a caught bug
        assert store_contents(db) == before


def test_every_case_is_in_the_table_and_the_readme():
    made = set(files()) | set(GENERATED)
    assert set(CASES) == made
    assert len(CASES) >= 40
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", readme, re.MULTILINE))
    assert listed == made
    committed = {p.name for p in HOSTILE.iterdir() if p.is_dir()}
    assert committed == set(files())


@pytest.mark.parametrize("case", sorted(files()))
def test_the_committed_files_are_what_hostile_cases_makes(case):
    # Every byte is ours and can be made again: `python -m tests.hostile_cases`.
    for name, data in files()[case].items():
        assert (HOSTILE / case / name).read_bytes() == data, (case, name)
    assert {p.name for p in (HOSTILE / case).iterdir()} == set(files()[case])


# --- what the load prints (issue 14 item 8) -----------------------------------------------


def _load_accepting(case: str, tmp_path: Path, base_store: Path, capsys) -> tuple[str, Path]:
    db = tmp_path / "ledger.duckdb"
    shutil.copy(base_store, db)
    extract = build_extract(case, tmp_path)
    capsys.readouterr()
    status = main(["load", str(extract), "--db", str(db), "--quiet", "--accept-rejected-share", "100"])
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    return out, db


def test_a_rejected_birth_date_is_withheld_from_the_output(tmp_path, base_store, capsys):
    out, db = _load_accepting("birth_date_rejected", tmp_path, base_store, capsys)
    assert "30/11/1978" not in out
    assert "Sample" not in out and "Bob" not in out
    assert "patients.csv, row 3, column date_of_birth: (value withheld): is not an ISO date" in out
    # The user's own rejects file keeps the row's text, to fix it.
    assert "30/11/1978" in (db.parent / "rejects.csv").read_text(encoding="utf-8")
    con = duckdb.connect(str(db), read_only=True)
    try:
        values = con.execute(
            "SELECT value FROM rejects WHERE column_name = 'date_of_birth'"
        ).fetchall()
    finally:
        con.close()
    assert values == [(None,)]


def test_an_id_with_a_control_sequence_is_printed_escaped(tmp_path, base_store, capsys):
    out, _ = _load_accepting("escape_sequence_in_id", tmp_path, base_store, capsys)
    assert "\x1b" not in out
    assert (
        "transactions.csv, row 6, column transaction_id: 'T5\\x1b[2J': holds U+001B, a control "
        "or bidi character; ids and codes must be printable text (check the export)"
    ) in out


def test_a_bidi_override_is_printed_escaped(tmp_path, base_store, capsys):
    out, _ = _load_accepting("bidi_override_in_id", tmp_path, base_store, capsys)
    assert "\u202e" not in out
    assert "'\\u202eT5': holds U+202E" in out


@pytest.mark.parametrize("char", ["\x00", "\t", "\x1b", "\x7f", "\x85", "\x9b", "\u202a", "\u202e", "\u2066", "\u2069"])
def test_every_control_and_bidi_character_is_escaped(char):
    from writeoff_analytics.errors import RowProblem, escaped

    text = escaped(f"T{char}1")
    assert char not in text and text.isprintable()
    problem = RowProblem("transactions", "t.csv", 2, "transaction_id", f"T{char}1", "bad")
    assert str(problem).isprintable()


@pytest.mark.parametrize("case", ["xlsx_formula_cell", "zip_bomb", "birth_date_rejected"])
def test_a_refusal_from_a_real_process_is_one_line(case, base_store, tmp_path):
    # The in-process runs above catch what main() catches; a real process shows what a user sees.
    import os
    import subprocess
    import sys

    db = tmp_path / "ledger.duckdb"
    shutil.copy(base_store, db)
    before = store_contents(db)
    extract = build_extract(case, tmp_path)
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    env.pop("WRITEOFF_TRACEBACK", None)
    done = subprocess.run(
        [sys.executable, "-m", "writeoff_analytics.cli", "load", str(extract), "--db", str(db)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert re.search(CASES[case].match, done.stderr)
    assert "Traceback" not in done.stdout + done.stderr
    assert "30/11/1978" not in done.stdout + done.stderr
    assert store_contents(db) == before
