"""(Written independently of the engines, as a cross-check.) find_candidates on hand-built ledgers with known answers; every body runs on both engines.

The ledger is ``tests/criteria_scenario.py`` (its docstring lists every line and why).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from tests.conftest import EXAMPLE_TABLES, build_ledger
from tests.criteria_scenario import AS_OF, SCENARIO
from writeoff_analytics import find_candidates, find_credit_balances
from writeoff_analytics.candidates import GROUP_SCHEMA, LINE_SCHEMA, Candidates
from writeoff_analytics.criteria.model import Criteria
from writeoff_analytics.criteria.presets import criteria_from_preset
from writeoff_analytics.errors import CriteriaError, LedgerError
from writeoff_analytics.ledger.store import Ledger

D = Decimal


@pytest.fixture(params=["duckdb", "polars"])
def engine(request: pytest.FixtureRequest) -> str:
    """Every test body that takes ``engine`` runs on both engines (one meaning)."""
    return str(request.param)


@pytest.fixture(scope="module")
def example() -> Ledger:
    return build_ledger(**EXAMPLE_TABLES)


@pytest.fixture(scope="module")
def scenario() -> Ledger:
    return build_ledger(**SCENARIO)


def find(ledger: Ledger, engine: str, balance_type: str = "PATIENT",
         write_off_by: str = "PROCEDURE_LINE", **fields: Any) -> Candidates:
    fields.setdefault("as_of", AS_OF)
    found = find_candidates(ledger, Criteria(balance_type, write_off_by, **fields), engine=engine)
    assert found.lines.schema == LINE_SCHEMA
    assert found.groups.schema == GROUP_SCHEMA
    return found


def preset(ledger: Ledger, engine: str, name: str, **overrides: Any) -> Candidates:
    overrides.setdefault("as_of", AS_OF)
    return find_candidates(ledger, criteria_from_preset(name, **overrides), engine=engine)


def lines(found: Candidates) -> list[tuple[str, Decimal]]:
    """(charge_id, balance) in the order found."""
    return list(found.lines.select("charge_id", "balance").iter_rows())


def groups(found: Candidates) -> list[tuple[str, int, Decimal]]:
    """(group_key, line_count, balance_total) in the order found."""
    return list(found.groups.select("group_key", "line_count", "balance_total").iter_rows())


# -- the worked check of CRITERIA.md, on LEDGER_FORMAT.md's example -----------------------


def test_worked_check_c1_is_a_no_balance_billing_candidate_for_40(example, engine):
    found = preset(example, engine, "no-balance-billing", as_of="2026-06-01")
    assert found.lines.rows() == [
        ("C1", "E1", "0004567", None, "E1", dt.date(2026, 2, 27), 94, "99213", None, None,
         "P-MCR", "MEDICARE", "NOT_RESPONSIBLE", "PATIENT", D("40.00"), D("40.00")),
    ]
    assert found.groups.rows() == [
        ("E1", "0004567", dt.date(2026, 2, 27), dt.date(2026, 2, 27), 94, 1, D("40.00")),
    ]
    assert found.total == D("40.00")
    assert isinstance(found.total, Decimal)
    assert found.as_of == dt.date(2026, 6, 1)
    assert found.generation == example.generation()
    assert (found.line_count, found.group_count) == (1, 1)


def test_worked_check_c1_is_not_after_insurance_patient_responsible(example, engine):
    aipr = find(example, engine, responsibility="AFTER_INSURANCE_PATIENT_RESPONSIBLE")
    assert lines(aipr) == []
    assert lines(find(example, engine, responsibility="AFTER_INSURANCE")) == [("C1", D("40.00"))]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-08-25", []),  # 179 days old
        ("2026-08-26", [("C1", D("40.00"))]),  # 180 days old, no patient payment at all
    ],
)
def test_worked_check_c1_is_bad_debt_only_once_180_days_old(example, engine, as_of, expected):
    assert lines(preset(example, engine, "bad-debt", as_of=as_of)) == expected


def test_worked_check_bad_debt_waits_90_days_after_a_patient_payment(engine):
    tables = dict(EXAMPLE_TABLES)
    tables["transactions"] = [*EXAMPLE_TABLES["transactions"], {
        "transaction_id": "T5", "charge_id": "C1", "posted_date": "2026-09-15",
        "type": "PATIENT_PAYMENT", "responsibility": "PATIENT", "amount": "-5.00"}]
    ledger = build_ledger(**tables)
    assert lines(preset(ledger, engine, "bad-debt", as_of="2026-12-13")) == []  # 89 days
    assert lines(preset(ledger, engine, "bad-debt", as_of="2026-12-14")) == [("C1", D("35.00"))]


def test_worked_check_c1_is_never_small_balance_while_its_patient_owes_more_than_10(
    example, engine
):
    assert lines(preset(example, engine, "small-balance", as_of="2027-06-01")) == []
    # Once the patient's candidate lines add up to 10.00 or less, it is.
    tables = dict(EXAMPLE_TABLES)
    tables["transactions"] = [*EXAMPLE_TABLES["transactions"], {
        "transaction_id": "T5", "charge_id": "C1", "posted_date": "2026-03-20",
        "type": "PATIENT_PAYMENT", "responsibility": "PATIENT", "amount": "-30.00"}]
    paid = build_ledger(**tables)
    found = preset(paid, engine, "small-balance", as_of="2027-06-01")
    assert lines(found) == [("C1", D("10.00"))]
    assert groups(found) == [("0004567", 1, D("10.00"))]


# -- every preset on the scenario ---------------------------------------------------------


def test_no_balance_billing_finds_medicaid_secondary_and_qmb(scenario, engine):
    found = preset(scenario, engine, "no-balance-billing")
    # C4's Medicaid coverage ended before its date of service; C13 is a credit; C2 pending.
    assert lines(found) == [("C1", D("40.00")), ("C3", D("20.00"))]
    assert groups(found) == [("E1", 1, D("40.00")), ("E3", 1, D("20.00"))]
    assert found.total == D("60.00")
    assert found.lines.get_column("responsibility").to_list() == ["NOT_RESPONSIBLE"] * 2


def test_small_balance_keeps_patients_owing_10_or_less(scenario, engine):
    found = preset(scenario, engine, "small-balance")
    assert lines(found) == [("C5", D("6.00")), ("C6", D("3.00"))]
    assert groups(found) == [("P5", 1, D("6.00")), ("P6", 1, D("3.00"))]
    assert found.total == D("9.00")


def test_bad_debt(scenario, engine):
    found = preset(scenario, engine, "bad-debt")
    # C4 is 245 days old but its patient paid 47 days ago; C3 (139) and C8 (92) are too young.
    assert lines(found) == [
        ("C1", D("40.00")), ("C5", D("6.00")), ("C6", D("3.00")),
        ("C12", D("5.00")), ("C9", D("30.00")),
    ]
    assert groups(found) == [
        ("E1", 1, D("40.00")), ("E5", 1, D("6.00")), ("E6", 1, D("3.00")), ("E9", 2, D("35.00")),
    ]
    assert found.total == D("84.00")


@pytest.mark.parametrize(("as_of", "has_c4"), [("2026-12-13", False), ("2026-12-14", True)])
def test_bad_debt_days_since_patient_payment_is_inclusive(scenario, engine, as_of, has_c4):
    found = preset(scenario, engine, "bad-debt", as_of=as_of)
    assert ("C4" in found.lines.get_column("charge_id").to_list()) is has_c4


def test_deceased(scenario, engine):
    found = preset(scenario, engine, "deceased")
    assert lines(found) == [("C8", D("50.00"))]
    assert groups(found) == [("P8", 1, D("50.00"))]


def test_hardship(scenario, engine):
    found = preset(scenario, engine, "hardship")
    assert lines(found) == [("C12", D("5.00")), ("C9", D("30.00"))]
    assert groups(found) == [("P9", 2, D("35.00"))]
    assert found.total == D("35.00")


def test_timely_filing(scenario, engine):
    found = preset(scenario, engine, "timely-filing")
    assert found.lines.rows() == [
        ("C10", "E10", "P4", None, "C10", dt.date(2025, 1, 15), 655, "99213", None, None,
         "P-COM", "COMMERCIAL", "INSURANCE", "INSURANCE", D("80.00"), D("80.00")),
    ]
    assert found.total == D("80.00")


# -- the rules one by one ------------------------------------------------------------------


def test_every_open_patient_line_and_its_responsibility(scenario, engine):
    found = find(scenario, engine)
    got = found.lines.select("charge_id", "responsibility", "financial_class", "payer_id").rows()
    assert got == [
        ("C1", "NOT_RESPONSIBLE", "MEDICARE", "P-MCR"),
        ("C12", "AFTER_INSURANCE_PATIENT_RESPONSIBLE", "COMMERCIAL", "P-COM"),
        ("C3", "NOT_RESPONSIBLE", "MEDICARE", "P-MCR"),
        ("C4", "AFTER_INSURANCE_PATIENT_RESPONSIBLE", "COMMERCIAL", "P-COM"),
        ("C5", "SELF_PAY", "SELF_PAY", None),
        ("C6", "SELF_PAY", "SELF_PAY", None),
        ("C8", "SELF_PAY", "SELF_PAY", None),
        ("C9", "AFTER_INSURANCE_PATIENT_RESPONSIBLE", "COMMERCIAL", "P-COM"),
    ]
    assert found.total == D("174.00")


def test_pending_with_secondary_is_never_a_patient_candidate(scenario, engine):
    # C2 owes the patient 10.00 but 20.00 is still open with the secondary payer.
    assert lines(find(scenario, engine, patient_ids=["P2"])) == []
    assert lines(find(scenario, engine, "INSURANCE", patient_ids=["P2"])) == [("C2", D("20.00"))]


@pytest.mark.parametrize(
    ("responsibility", "expected"),
    [
        ("AFTER_INSURANCE", ["C1", "C12", "C3", "C4", "C9"]),
        ("SELF_PAY", ["C5", "C6", "C8"]),
        ("NOT_RESPONSIBLE", ["C1", "C3"]),
        ("AFTER_INSURANCE_PATIENT_RESPONSIBLE", ["C12", "C4", "C9"]),
    ],
)
def test_responsibility(scenario, engine, responsibility, expected):
    found = find(scenario, engine, responsibility=responsibility)
    assert found.lines.get_column("charge_id").to_list() == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("ALL", [("C10", D("80.00")), ("C11", D("15.00")), ("C2", D("20.00"))]),
        ("PRIMARY", [("C10", D("80.00"))]),
        ("SECONDARY", [("C2", D("20.00"))]),  # crossed over to the secondary SUP
        ("TERTIARY", []),
    ],
)
def test_role_of_the_current_insurance_payer(scenario, engine, role, expected):
    # C11's payer has no coverage on the date of service: no role, only ALL keeps it.
    assert lines(find(scenario, engine, "INSURANCE", role=role)) == expected


def test_insurance_line_payer_and_class_are_the_current_payer(scenario, engine):
    found = find(scenario, engine, "INSURANCE", financial_classes=["OTHER"])
    assert found.lines.select("charge_id", "payer_id", "financial_class").rows() == [
        ("C2", "P-SUP", "OTHER"),
    ]
    assert lines(find(scenario, engine, "INSURANCE", payer_ids=["P-MCR"])) == []
    assert lines(find(scenario, engine, "INSURANCE", payer_ids=["P-SUP"])) == [("C2", D("20.00"))]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"financial_classes": ["SELF_PAY"]}, ["C5", "C6", "C8"]),
        ({"financial_classes": ["MEDICARE"]}, ["C1", "C3"]),
        ({"financial_classes": ["SELF_PAY", "MEDICARE"]}, ["C1", "C3", "C5", "C6", "C8"]),
        ({"financial_classes": ["MEDICAID"]}, []),
        ({"payer_ids": ["P-COM"]}, ["C12", "C4", "C9"]),
        ({"payer_ids": ["P-COM"], "financial_classes": ["MEDICARE"]}, []),
    ],
)
def test_payer_and_class_filters_on_the_billed_payer(scenario, engine, fields, expected):
    assert find(scenario, engine, **fields).lines.get_column("charge_id").to_list() == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"dos_from": "2026-02-27", "dos_to": "2026-03-01"}, ["C1", "C4"]),
        ({"dos_from": "2026-04-30"}, ["C12", "C3", "C8", "C9"]),
        ({"dos_to": "2025-06-01"}, ["C5"]),
        ({"min_age_days": 245, "max_age_days": 247}, ["C1", "C4"]),
        ({"min_age_days": 488}, ["C5", "C6"]),
        ({"max_age_days": 92}, ["C8"]),
        ({"max_age_days": 91}, []),
    ],
)
def test_date_of_service_and_age_windows_are_inclusive(scenario, engine, fields, expected):
    assert find(scenario, engine, **fields).lines.get_column("charge_id").to_list() == expected


def test_age_days_is_counted_from_as_of(scenario, engine):
    found = find(scenario, engine, patient_ids=["P5", "P6"], as_of="2025-07-01")
    assert found.lines.select("charge_id", "age_days").rows() == [("C5", 30), ("C6", 0)]


def test_guarantor_grouping_puts_a_family_in_one_group(scenario, engine):
    found = find(scenario, engine, write_off_by="GUARANTOR", patient_ids=["P5", "P6"])
    assert found.lines.select("charge_id", "patient_id", "guarantor_id", "group_key").rows() == [
        ("C5", "P5", None, "P5"), ("C6", "P6", "P5", "P5"),
    ]
    assert found.groups.rows() == [
        ("P5", None, dt.date(2025, 6, 1), dt.date(2025, 7, 1), 518, 2, D("9.00")),
    ]
    # The balance range is measured on the family: 9.00 > 8.00 drops both lines together.
    assert lines(find(scenario, engine, write_off_by="GUARANTOR", max_balance="8.00")) == []
    by_patient = find(scenario, engine, write_off_by="PATIENT", max_balance="8.00")
    assert lines(by_patient) == [("C5", D("6.00")), ("C6", D("3.00"))]


@pytest.mark.parametrize(
    ("write_off_by", "low", "high", "expected"),
    [
        ("ENCOUNTER", "35.00", "35.00", ["C12", "C9"]),  # E9 = 30.00 + 5.00, kept together
        ("ENCOUNTER", "20.00", "34.99", ["C3", "C4"]),  # E9 dropped whole, though C9 fits
        ("PROCEDURE_LINE", "30.00", "34.99", ["C9"]),
        ("PATIENT", "35.00", None, ["C1", "C8", "C12", "C9"]),
        ("PATIENT", None, "5.00", ["C6"]),
        ("GUARANTOR", "9.00", "9.00", ["C5", "C6"]),
    ],
)
def test_balance_range_keeps_or_drops_a_group_together(
    scenario, engine, write_off_by, low, high, expected
):
    found = find(scenario, engine, write_off_by=write_off_by, min_balance=low, max_balance=high)
    assert found.lines.get_column("charge_id").to_list() == expected


def test_balance_range_counts_candidate_lines_only(scenario, engine):
    # E1 holds C1 (40.00) and the credit C13 (-15.00): the credit is not a candidate and
    # does not lower the group's balance.
    found = find(scenario, engine, write_off_by="ENCOUNTER", min_balance="40.00",
                 max_balance="40.00")
    assert lines(found) == [("C1", D("40.00"))]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"patient_ids": ["P4"]}, ["C4"]),
        ({"encounter_ids": ["E9"]}, ["C12", "C9"]),
        ({"encounter_ids": ["E9", "E1"], "patient_ids": ["P9"]}, ["C12", "C9"]),
        ({"provider_ids": ["DR2"]}, ["C12", "C4", "C9"]),
        ({"location_ids": ["L1"]}, ["C1", "C12", "C9"]),
        ({"procedure_codes": ["80053"]}, ["C12", "C5"]),
        ({"provider_ids": ["DR1"], "location_ids": ["L2"]}, []),
    ],
)
def test_pre_filters_and_line_filters(scenario, engine, fields, expected):
    assert find(scenario, engine, **fields).lines.get_column("charge_id").to_list() == expected


def test_patient_pre_filter_on_insurance_balances(scenario, engine):
    assert lines(find(scenario, engine, "INSURANCE", "ENCOUNTER", patient_ids=["P4"])) == [
        ("C10", D("80.00")),
    ]


def test_deceased_and_hardship_flags(scenario, engine):
    assert lines(find(scenario, engine, deceased=True)) == [("C8", D("50.00"))]
    assert lines(find(scenario, engine, financial_hardship=True)) == [
        ("C12", D("5.00")), ("C9", D("30.00")),
    ]
    assert lines(find(scenario, engine, deceased=True, financial_hardship=True)) == []


def test_credit_balances_are_never_candidates(scenario, engine):
    for balance_type in ("PATIENT", "INSURANCE"):
        found = find(scenario, engine, balance_type, "ENCOUNTER")
        assert "C7" not in found.lines.get_column("charge_id").to_list()
        assert "C13" not in found.lines.get_column("charge_id").to_list()
        assert "C14" not in found.lines.get_column("charge_id").to_list()


def test_as_of_defaults_to_today(scenario, engine):
    found = find_candidates(scenario, Criteria("PATIENT", "PATIENT", patient_ids=["P5"]),
                            engine=engine, today=dt.date(2025, 6, 11))
    assert found.as_of == dt.date(2025, 6, 11)
    assert found.lines.get_column("age_days").to_list() == [10]


def test_unknown_payer_refused_at_find_time(example, engine):
    c = Criteria("PATIENT", "ENCOUNTER", payer_ids=["P-NOPE", "P-MCR"])
    with pytest.raises(CriteriaError, match="unknown payer id P-NOPE; known: P-MCD, P-MCR"):
        find_candidates(example, c, engine=engine)


def test_unknown_engine_refused(example):
    with pytest.raises(CriteriaError, match="unknown engine spark; known: duckdb, polars"):
        find_candidates(example, Criteria("PATIENT", "ENCOUNTER"), engine="spark")  # type: ignore[arg-type]


def test_unloaded_store_says_what_to_do(engine):
    with pytest.raises(LedgerError, match="no extract is loaded"):
        find_candidates(Ledger(":memory:"), Criteria("PATIENT", "ENCOUNTER"), engine=engine)


def test_empty_result_keeps_the_schemas(scenario, engine):
    found = find(scenario, engine, patient_ids=["P7"])
    assert found.lines.is_empty() and found.groups.is_empty()
    assert found.total == D("0.00")


def test_candidates_are_stale_after_a_write(example, engine):
    found = find(example, engine)
    gen = example.generation()
    assert found.generation == gen


# -- credit balances ------------------------------------------------------------------------


def test_credit_balances_listed_for_refund_review(scenario):
    credits = find_credit_balances(scenario)
    assert credits.columns == [
        "charge_id", "encounter_id", "patient_id", "guarantor_id", "date_of_service",
        "procedure_code", "balance_type", "payer_id", "financial_class", "balance",
        "not_responsible", "medicaid_or_qmb",
    ]
    assert credits.schema["balance"] == pl.Decimal(18, 2)
    assert credits.select(
        "charge_id", "balance_type", "payer_id", "balance", "not_responsible", "medicaid_or_qmb"
    ).rows() == [
        ("C13", "PATIENT", "P-MCR", D("-15.00"), True, True),  # Medicaid patient paid: may go back
        ("C14", "INSURANCE", "P-COM", D("-10.00"), False, False),
        ("C7", "PATIENT", None, D("-20.00"), False, False),
    ]


def test_credit_balances_of_one_bucket(scenario):
    assert find_credit_balances(scenario, balance_type="INSURANCE").get_column(
        "charge_id").to_list() == ["C14"]
    assert find_credit_balances(scenario, balance_type="patient").get_column(
        "charge_id").to_list() == ["C13", "C7"]
    with pytest.raises(CriteriaError, match="unknown balance type BOTH; known: INSURANCE, PATIENT"):
        find_credit_balances(scenario, balance_type="BOTH")


def test_example_has_no_credit_balances(example):
    assert find_credit_balances(example).is_empty()
