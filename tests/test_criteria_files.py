"""The one reader of criteria files: TOML or JSON, fields at top level or under ``criteria``."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from writeoff_analytics.criteria.files import read_criteria, read_criteria_file
from writeoff_analytics.criteria.model import Criteria
from writeoff_analytics.errors import CriteriaError
from writeoff_analytics.reasons import Reason

FIELDS = {
    "balance_type": "PATIENT",
    "write_off_by": "ENCOUNTER",
    "max_balance": "9.00",
    "min_age_days": 120,
    "financial_classes": ["SELF_PAY", "COMMERCIAL"],
}
EXPECTED = Criteria(
    "PATIENT", "ENCOUNTER", max_balance="9.00", min_age_days=120,
    financial_classes=["SELF_PAY", "COMMERCIAL"],
)

TOML_FIELDS = """balance_type = "PATIENT"
write_off_by = "ENCOUNTER"
max_balance = "9.00"
min_age_days = 120
financial_classes = ["SELF_PAY", "COMMERCIAL"]
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def four_files(tmp_path: Path) -> dict[str, Path]:
    """The same criteria in the four shapes a person may write them."""
    return {
        "toml top level": _write(tmp_path, "a.toml", TOML_FIELDS),
        "toml [criteria]": _write(tmp_path, "b.toml", 'reason = "SMALL_BALANCE"\n[criteria]\n' + TOML_FIELDS),
        "json top level": _write(tmp_path, "c.json", json.dumps(FIELDS)),
        "json criteria": _write(tmp_path, "d.JSON", json.dumps({"reason": "small-balance", "criteria": FIELDS})),
    }


def test_every_shape_reads_as_the_same_criteria(four_files: dict[str, Path]) -> None:
    read = {shape: read_criteria(path) for shape, path in four_files.items()}
    assert all(c == EXPECTED for c in read.values()), read
    assert all(c.max_balance == Decimal("9.00") for c in read.values())


def test_the_reason_beside_the_criteria_is_kept(four_files: dict[str, Path]) -> None:
    assert read_criteria_file(four_files["toml [criteria]"]).reason is Reason.SMALL_BALANCE
    assert read_criteria_file(four_files["json criteria"]).reason is Reason.SMALL_BALANCE
    assert read_criteria_file(four_files["toml top level"]).reason is None


def test_overrides_replace_the_file_fields(four_files: dict[str, Path]) -> None:
    got = read_criteria(four_files["json criteria"], as_of=dt.date(2026, 11, 1), patient_ids=["P5"])
    assert got == Criteria(
        "PATIENT", "ENCOUNTER", max_balance="9.00", min_age_days=120,
        financial_classes=["SELF_PAY", "COMMERCIAL"], as_of=dt.date(2026, 11, 1), patient_ids=["P5"],
    )


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("x.yaml", "balance_type: PATIENT", "x.yaml: must end in .toml or .json (not .yaml)."),
        ("x", "{}", "x: must end in .toml or .json (not no suffix)."),
        ("x.toml", "balance_type = ", "x.toml: not valid TOML ("),
        ("x.json", "{balance_type: 1}", "x.json: not valid JSON ("),
        ("x.json", "[1, 2]", "x.json: must hold a JSON object of criteria fields."),
        ("x.toml", 'balance_type = "PATIENT"\nwrite_off_by = "PATIENT"\ncolour = "red"\n',
         "x.toml: unknown field(s) colour; known:"),
        ("x.toml", 'colour = "red"\n[criteria]\nbalance_type = "PATIENT"\nwrite_off_by = "PATIENT"\n',
         "x.toml: unknown key(s) colour beside the criteria table; known: criteria, reason, description."),
        ("x.json", '{"criteria": 3}', "x.json: 'criteria' must be a table of criteria fields."),
        ("x.toml", 'reason = "NICE"\nbalance_type = "PATIENT"\nwrite_off_by = "PATIENT"\n',
         "x.toml: unknown reason 'NICE'; use one of"),
        ("x.toml", 'balance_type = "INSURANCE"\nwrite_off_by = "GUARANTOR"\n',
         "x.toml: write_off_by GUARANTOR does not apply"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_naming_it(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(CriteriaError) as caught:
        read_criteria_file(path)
    assert f"criteria file {tmp_path / message}" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_file_or_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CriteriaError, match=r"criteria file .*nope\.json: cannot be read \(No such file"):
        read_criteria(tmp_path / "nope.json")
    with pytest.raises(CriteriaError, match=r"criteria file .*nope\.toml: cannot be read \(No such file"):
        read_criteria(tmp_path / "nope.toml")
    (tmp_path / "d.toml").mkdir()
    with pytest.raises(CriteriaError, match=r"d\.toml: is a folder"):
        read_criteria(tmp_path / "d.toml")


def test_a_receipts_criteria_json_reads_back(tmp_path: Path) -> None:
    """What a receipt stores (``Criteria.to_dict``) is a criteria file every command accepts."""
    criteria = EXPECTED.replace(as_of=dt.date(2026, 11, 1))
    path = _write(tmp_path, "from-receipt.json", json.dumps({"criteria": criteria.to_dict()}))
    assert read_criteria(path) == criteria
