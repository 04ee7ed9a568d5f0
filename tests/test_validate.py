"""The validator on real broken files: one defect each, exact messages, good rows kept."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from writeoff_analytics.errors import LedgerFormatError, RowProblem
from writeoff_analytics.ledger.load import read_extract
from writeoff_analytics.ledger.schema import TABLES

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small"
BROKEN = DATA / "broken"
SMALL_COUNTS = {
    "payers": 3,
    "patients": 3,
    "coverages": 4,
    "encounters": 4,
    "charges": 6,
    "transactions": 9,
}

ROW_DEFECTS = {
    "bad_date": (
        [
            RowProblem(
                "encounters",
                "encounters.csv",
                4,
                "date_of_service",
                "03/10/2026",
                "is not an ISO date; write YYYY-MM-DD",
            ),
            RowProblem(
                "charges",
                "charges.csv",
                5,
                "encounter_id",
                "E3",
                "encounter_id E3 was rejected (encounters.csv, row 4); fix that row and reload",
            ),
        ],
        {"encounters": 3, "charges": 5},
    ),
    "money_three_decimals": (
        [
            RowProblem(
                "charges",
                "charges.csv",
                4,
                "charge_amount",
                "12.345",
                "has 3 decimals; money allows 2",
            )
        ],
        {"charges": 5},
    ),
    "money_currency_sign": (
        [
            RowProblem(
                "charges",
                "charges.csv",
                3,
                "charge_amount",
                "$1,234.50",
                "has a currency sign or thousands separator; write 1234.50",
            )
        ]
        + [
            RowProblem(
                "transactions",
                "transactions.csv",
                row,
                "charge_id",
                "C2",
                "charge_id C2 was rejected (charges.csv, row 3); fix that row and reload",
            )
            for row in (6, 7, 8, 9)
        ],
        {"charges": 5, "transactions": 5},
    ),
    "duplicate_id": (
        [
            RowProblem(
                "transactions",
                "transactions.csv",
                7,
                "transaction_id",
                "T5",
                "duplicate transaction_id; the first row with it (row 6) is kept",
            )
        ],
        {"transactions": 8},
    ),
    "orphan_charge": (
        [
            RowProblem(
                "charges",
                "charges.csv",
                8,
                "encounter_id",
                "E99",
                "encounter_id E99 is not in encounters.csv",
            )
        ],
        {"charges": 6},
    ),
    "unknown_enum": (
        [
            RowProblem(
                "transactions",
                "transactions.csv",
                9,
                "type",
                "PAYMENT",
                "is not one of INSURANCE_PAYMENT, INSURANCE_ADJUSTMENT, TRANSFER, "
                "PATIENT_PAYMENT, PATIENT_ADJUSTMENT, REFUND",
            )
        ],
        {"transactions": 8},
    ),
    "short_row": (
        [
            RowProblem(
                "transactions",
                "transactions.csv",
                10,
                None,
                None,
                "has 7 fields; the header has 10 (a short or long row: check for a missing or "
                "extra comma, or an unclosed quote)",
            )
        ],
        {"transactions": 8},
    ),
}


@pytest.mark.parametrize("defect", sorted(ROW_DEFECTS))
def test_row_defect_gives_exact_problems_and_keeps_good_rows(defect):
    expected, counts = ROW_DEFECTS[defect]
    ex = read_extract(BROKEN / defect)
    assert list(ex.problems) == expected
    assert {t: f.height for t, f in ex.frames.items()} == {**SMALL_COUNTS, **counts}
    # every rejected row's text is kept for rejects.csv
    assert set(ex.records) == {(p.table, p.row) for p in expected}


def test_message_shape_of_the_style_guide():
    ex = read_extract(BROKEN / "money_three_decimals")
    assert (
        str(ex.problems[0])
        == "charges.csv, row 4, column charge_amount: '12.345': has 3 decimals; money allows 2"
    )


def test_good_rows_around_a_bad_one_are_kept_exactly():
    ex = read_extract(BROKEN / "money_three_decimals")
    charges = ex.frames["charges"]
    assert charges["charge_id"].to_list() == ["C1", "C2", "C4", "C5", "C6"]
    assert charges["charge_amount"].to_list() == [
        Decimal("200.00"),
        Decimal("150.00"),
        Decimal("120.00"),
        Decimal("80.00"),
        Decimal("12.35"),
    ]


def test_short_row_keeps_its_text_and_the_rows_after_it():
    ex = read_extract(BROKEN / "short_row")
    rec = ex.records[("transactions", 10)]
    assert rec["transaction_id"] == "T9"
    assert rec["amount"] == "-30.00"
    assert rec["reference"] is None
    assert ex.frames["transactions"]["transaction_id"].to_list() == [f"T{i}" for i in range(1, 9)]


FATAL = {
    "missing_column": (
        "charges.csv",
        1,
        "required column charge_amount is missing; the header has: "
        "charge_id, encounter_id, procedure_code, units, billed_payer_id, posted_date",
    ),
    "non_utf8": (
        "patients.csv",
        4,
        "is not UTF-8: bytes that UTF-8 does not allow at byte offset 192 "
        "of the file; save the file as UTF-8 and reload",
    ),
    "empty_file": ("coverages.csv", None, "is empty; a table file needs at least its header row"),
}


@pytest.mark.parametrize("defect", sorted(FATAL))
def test_fatal_defect_is_one_clear_error(defect):
    file, row, reason = FATAL[defect]
    with pytest.raises(LedgerFormatError) as info:
        read_extract(BROKEN / defect)
    err = info.value
    assert (err.file, err.row, err.reason) == (file, row, reason)
    assert str(err).startswith(file)


def test_missing_table_is_fatal(tmp_path):
    for t in TABLES:
        if t.name != "payers":
            (tmp_path / f"{t.name}.csv").write_bytes((SMALL / f"{t.name}.csv").read_bytes())
    with pytest.raises(LedgerFormatError, match=r"table payers is missing: expected payers.csv"):
        read_extract(tmp_path)


def _copy_small(tmp_path: Path) -> Path:
    for t in TABLES:
        (tmp_path / f"{t.name}.csv").write_bytes((SMALL / f"{t.name}.csv").read_bytes())
    return tmp_path


def _edit(folder: Path, table: str, old: str, new: str) -> None:
    p = folder / f"{table}.csv"
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("table", "old", "new", "column", "value", "reason"),
    [
        (
            "payers",
            "MEDICAID,false",
            "MEDICAID,nope",
            "balance_bill_patient",
            "nope",
            "is not a boolean; use true/false (also t/f, 1/0, y/n)",
        ),
        ("payers", "P-COM,Acme Health", "P-COM,", "payer_name", None, "empty; a value is required"),
        (
            "coverages",
            "P-MCD,2,",
            "P-MCD,0,",
            "priority",
            "0",
            "is below 1; priority must be at least 1",
        ),
        ("coverages", "P-MCD,2,", "P-MCD,two,", "priority", "two", "is not a whole number"),
        (
            "charges",
            "C4,E3,99213,,120.00",
            "C4,E3,99213,,-120.00",
            "charge_amount",
            "-120.00",
            "is negative; charge_amount must be 0 or more",
        ),
        (
            "charges",
            "C4,E3,99213,,120.00",
            "C4,E3,99213,,(20.00)",
            "charge_amount",
            "(20.00)",
            "uses parentheses for a negative; write -20.00",
        ),
        (
            "encounters",
            "2026-03-10",
            "2026-02-30",
            "date_of_service",
            "2026-02-30",
            "is not a calendar date",
        ),
        (
            "charges",
            "C5,E4,99212,1,80.00,,",
            "C5,E4,99212,1,80.00,P-NONE,",
            "billed_payer_id",
            "P-NONE",
            "payer_id P-NONE is not in payers.csv",
        ),
    ],
)
def test_cell_rules(tmp_path, table, old, new, column, value, reason):
    folder = _copy_small(tmp_path)
    _edit(folder, table, old, new)
    problems = [p for p in read_extract(folder).problems if p.table == table]
    assert [(p.column, p.value, p.reason) for p in problems] == [(column, value, reason)]


def test_ids_keep_leading_zeros_and_extra_columns_are_kept(tmp_path):
    folder = _copy_small(tmp_path)
    p = folder / "patients.csv"
    lines = p.read_text().splitlines()
    p.write_text(
        "\n".join([lines[0] + ",mrn"] + [f"{line},00{i}" for i, line in enumerate(lines[1:])])
        + "\n"
    )
    patients = read_extract(folder).frames["patients"]
    assert patients["patient_id"].to_list() == ["0004567", "0000120", "0000777"]
    assert patients["mrn"].to_list() == ["000", "001", "002"]
    assert patients.schema["mrn"] == pl.String


def test_quoted_field_with_line_break_counts_as_one_row(tmp_path):
    folder = _copy_small(tmp_path)
    _edit(folder, "payers", "P-MCR,Medicare,", 'P-MCR,"Medicare\nPart B",')
    _edit(
        folder, "payers", "P-COM,Acme Health,COMMERCIAL,true", "P-COM,Acme Health,COMMERCIAL,maybe"
    )
    (problem,) = [p for p in read_extract(folder).problems if p.table == "payers"]
    assert (problem.row, problem.column) == (4, "balance_bill_patient")


def test_every_problem_of_a_row_is_reported(tmp_path):
    folder = _copy_small(tmp_path)
    _edit(
        folder,
        "charges",
        "C3,E2,36415,2,25.50,P-COM,2026-01-16",
        "C3,E2,36415,x,25.505,P-COM,16/01/2026",
    )
    problems = read_extract(folder).problems
    assert [(p.row, p.column) for p in problems] == [
        (4, "charge_amount"),
        (4, "posted_date"),
        (4, "units"),
    ]


def test_windows_line_endings_and_a_byte_order_mark_are_read(tmp_path):
    for t in TABLES:
        text = (SMALL / f"{t.name}.csv").read_text().replace("\n", "\r\n")
        (tmp_path / f"{t.name}.csv").write_text(
            ("\ufeff" if t.name == "payers" else "") + text, newline=""
        )
    ex = read_extract(tmp_path)
    assert ex.problems == ()
    assert ex.frames["payers"].columns[0] == "payer_id"
    assert ex.frames["transactions"]["reference"].to_list()[-1] == "CC55"


def test_a_short_rows_dependants_name_it_as_rejected(tmp_path):
    folder = _copy_small(tmp_path)
    _edit(folder, "charges", "C5,E4,99212,1,80.00,,2026-04-02", "C5,E4,99212,1")
    problems = read_extract(folder).problems
    assert [str(p) for p in problems] == [
        "charges.csv, row 6: has 4 fields; the header has 7 (a short or long row: check for a "
        "missing or extra comma, or an unclosed quote)",
        "transactions.csv, row 10, column charge_id: 'C5': charge_id C5 was rejected "
        "(charges.csv, row 6); fix that row and reload",
    ]
