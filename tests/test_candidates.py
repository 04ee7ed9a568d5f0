"""Candidates on a hand-built ledger with answers worked out by hand (tests/scenario.py).

Every test runs on both engines through the ``engine`` fixture.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLE_TABLES, build_ledger
from tests.scenario import AS_OF, SCENARIO
from writeoff_analytics import Criteria, CriteriaError, criteria_from_preset, find_candidates
from writeoff_analytics.candidates import (
    GROUP_SCHEMA,
    LINE_SCHEMA,
    find_credit_balances,
    group_lines,
)

D = Decimal


@pytest.fixture(scope="module")
def ledger():
    return build_ledger(**SCENARIO)


def lines_of(ledger, criteria, engine):
    c = find_candidates(ledger, criteria, engine=engine)
    return {row["charge_id"]: row["writeoff_amount"] for row in c.lines.to_dicts()}, c


def preset(name, **kw):
    return criteria_from_preset(name, **{"as_of": AS_OF, **kw})


def test_frames_have_the_pinned_columns_and_types(ledger, engine):
    c = find_candidates(ledger, preset("no-balance-billing"), engine=engine)
    assert dict(c.lines.schema) == LINE_SCHEMA
    assert dict(c.groups.schema) == GROUP_SCHEMA
    assert c.as_of == dt.date(2026, 11, 1)
    assert isinstance(c.total, Decimal)


def test_no_balance_billing_finds_medicaid_secondary_and_qmb(ledger, engine):
    got, c = lines_of(ledger, preset("no-balance-billing"), engine)
    assert got == {"C1": D("40.00"), "C3": D("20.00")}
    assert c.total == D("60.00")
    row = c.lines.row(0, named=True)
    assert row["responsibility"] == "NOT_RESPONSIBLE"
    assert row["financial_class"] == "MEDICARE" and row["payer_id"] == "MCR"
    assert row["age_days"] == 247 and row["group_key"] == "E1"


def test_coverage_ended_before_the_visit_does_not_make_the_patient_not_responsible(ledger, engine):
    got, _ = lines_of(ledger, Criteria("PATIENT", "ENCOUNTER", responsibility="AFTER_INSURANCE_PATIENT_RESPONSIBLE", as_of=AS_OF), engine)
    assert got == {"C4": D("20.00"), "C9": D("30.00")}


def test_responsibilities(ledger, engine):
    after, _ = lines_of(ledger, Criteria("PATIENT", "PROCEDURE_LINE", responsibility="AFTER_INSURANCE", as_of=AS_OF), engine)
    assert after == {"C1": D("40.00"), "C3": D("20.00"), "C4": D("20.00"), "C9": D("30.00")}
    self_pay, c = lines_of(ledger, Criteria("PATIENT", "PROCEDURE_LINE", responsibility="SELF_PAY", as_of=AS_OF), engine)
    assert self_pay == {"C5": D("6.00"), "C6": D("3.00"), "C8": D("50.00")}
    assert set(c.lines["financial_class"]) == {"SELF_PAY"}


def test_line_pending_with_a_secondary_is_never_a_patient_candidate(ledger, engine):
    got, _ = lines_of(ledger, Criteria("PATIENT", "PROCEDURE_LINE", as_of=AS_OF), engine)
    assert "C2" not in got
    assert "C7" not in got  # a credit
    assert sum(got.values()) == D("169.00")


def test_small_balance_groups_by_patient_or_guarantor(ledger, engine):
    got, c = lines_of(ledger, preset("small-balance"), engine)
    assert got == {"C5": D("6.00"), "C6": D("3.00")}
    assert c.group_count == 2
    by_guarantor, g = lines_of(ledger, preset("small-balance", write_off_by="GUARANTOR"), engine)
    assert by_guarantor == got and g.group_count == 1
    assert g.groups.row(0, named=True)["balance_total"] == D("9.00")
    assert g.groups.row(0, named=True)["patient_id"] is None  # two patients
    # the balance range keeps or drops a whole group: 9.00 > 8.00 drops the family...
    none, _ = lines_of(ledger, preset("small-balance", write_off_by="GUARANTOR", max_balance="8.00"), engine)
    assert none == {}
    # ...while each patient alone is under it
    both, _ = lines_of(ledger, preset("small-balance", max_balance="8.00"), engine)
    assert both == got
    lower, _ = lines_of(ledger, preset("small-balance", min_balance="4.00"), engine)
    assert lower == {"C5": D("6.00")}


def test_worked_check_c1_is_never_small_while_over_ten(ledger, engine):
    got, _ = lines_of(ledger, preset("small-balance", max_balance="39.99", patient_ids=["0004567"]), engine)
    assert got == {}
    got, _ = lines_of(ledger, preset("small-balance", max_balance="40.00", patient_ids=["0004567"]), engine)
    assert got == {"C1": D("40.00")}


def test_bad_debt_needs_age_and_no_recent_patient_payment(ledger, engine):
    got, _ = lines_of(ledger, preset("bad-debt"), engine)
    assert got == {"C1": D("40.00"), "C5": D("6.00"), "C6": D("3.00"), "C9": D("30.00")}
    # C1 is 180 days old on 2026-08-26, not the day before
    young, _ = lines_of(ledger, preset("bad-debt", as_of="2026-08-25", patient_ids=["0004567"]), engine)
    old, _ = lines_of(ledger, preset("bad-debt", as_of="2026-08-26", patient_ids=["0004567"]), engine)
    assert (young, old) == ({}, {"C1": D("40.00")})
    # C4 (245 days) is blocked by its payment of 2026-09-15 until 90 days have passed
    blocked, _ = lines_of(ledger, preset("bad-debt", patient_ids=["P4"]), engine)
    free, _ = lines_of(ledger, preset("bad-debt", patient_ids=["P4"], as_of="2026-12-14"), engine)
    assert (blocked, free) == ({}, {"C4": D("20.00")})


def test_a_payment_posted_after_as_of_still_blocks_bad_debt(engine):
    tables = copy.deepcopy(EXAMPLE_TABLES)
    tables["transactions"].append({
        "transaction_id": "T5", "charge_id": "C1", "posted_date": "2026-12-01", "type": "PATIENT_PAYMENT",
        "responsibility": "PATIENT", "amount": "-10.00"})
    ledger = build_ledger(**tables)
    got, _ = lines_of(ledger, preset("bad-debt", as_of="2026-11-01"), engine)
    assert got == {}
    got, _ = lines_of(ledger, preset("no-balance-billing"), engine)
    assert got == {"C1": D("30.00")}


def test_deceased_and_hardship(ledger, engine):
    assert lines_of(ledger, preset("deceased"), engine)[0] == {"C8": D("50.00")}
    assert lines_of(ledger, preset("hardship"), engine)[0] == {"C9": D("30.00")}


def test_timely_filing_and_roles(ledger, engine):
    assert lines_of(ledger, preset("timely-filing"), engine)[0] == {"C10": D("80.00")}
    assert lines_of(ledger, preset("timely-filing", role="PRIMARY"), engine)[0] == {"C10": D("80.00")}
    assert lines_of(ledger, preset("timely-filing", role="SECONDARY"), engine)[0] == {}
    # C2 crossed over: its current payer is the supplement, secondary on the date of service
    secondary, c = lines_of(ledger, Criteria("INSURANCE", "PROCEDURE_LINE", role="SECONDARY", as_of=AS_OF), engine)
    assert secondary == {"C2": D("10.00")}
    assert c.lines.row(0, named=True)["payer_id"] == "SUP"
    assert c.lines.row(0, named=True)["financial_class"] == "OTHER"
    assert c.lines.row(0, named=True)["responsibility"] == "INSURANCE"
    everything, _ = lines_of(ledger, Criteria("INSURANCE", "ENCOUNTER", as_of=AS_OF), engine)
    assert everything == {"C2": D("10.00"), "C10": D("80.00")}


def test_payer_class_and_line_filters(ledger, engine):
    pat = Criteria("PATIENT", "PROCEDURE_LINE", as_of=AS_OF)
    assert set(lines_of(ledger, pat.replace(financial_classes=["SELF_PAY"]), engine)[0]) == {"C5", "C6", "C8"}
    assert set(lines_of(ledger, pat.replace(financial_classes=["MEDICARE", "COMMERCIAL"]), engine)[0]) == {"C1", "C3", "C4", "C9"}
    assert set(lines_of(ledger, pat.replace(payer_ids=["COM"]), engine)[0]) == {"C4", "C9"}
    assert set(lines_of(ledger, pat.replace(provider_ids=["PRV2"]), engine)[0]) == {"C9"}
    assert set(lines_of(ledger, pat.replace(location_ids=["L2"]), engine)[0]) == {"C5"}
    assert set(lines_of(ledger, pat.replace(procedure_codes=["99214"]), engine)[0]) == {"C9"}
    assert set(lines_of(ledger, pat.replace(encounter_ids=["E4", "E5"]), engine)[0]) == {"C4", "C5"}


def test_date_and_age_windows_are_inclusive(ledger, engine):
    pat = Criteria("PATIENT", "PROCEDURE_LINE", as_of=AS_OF)
    assert set(lines_of(ledger, pat.replace(dos_from="2026-02-27", dos_to="2026-03-01"), engine)[0]) == {"C1", "C4"}
    assert set(lines_of(ledger, pat.replace(min_age_days=245, max_age_days=247), engine)[0]) == {"C1", "C4"}


def test_unknown_payer_is_refused_when_criteria_meet_the_ledger(ledger, engine):
    with pytest.raises(CriteriaError, match="unknown payer id NOPE; known: COM, MCD, MCR, SUP"):
        find_candidates(ledger, Criteria("PATIENT", "PATIENT", payer_ids=["NOPE"]), engine=engine)


def test_credit_balances_are_listed_apart(ledger):
    credits = find_credit_balances(ledger)
    assert credits.select("charge_id", "balance_type", "balance").rows() == [("C7", "PATIENT", D("-20.00"))]
    assert credits.row(0, named=True)["not_responsible"] is False
    assert credits.row(0, named=True)["medicaid_or_qmb"] is False


def test_credit_of_a_medicaid_patient_is_marked(engine):
    tables = copy.deepcopy(EXAMPLE_TABLES)
    tables["transactions"].append({
        "transaction_id": "T5", "charge_id": "C1", "posted_date": "2026-03-10", "type": "PATIENT_PAYMENT",
        "responsibility": "PATIENT", "amount": "-50.00"})
    ledger = build_ledger(**tables)
    credits = find_credit_balances(ledger)
    assert credits.select("charge_id", "balance", "not_responsible", "medicaid_or_qmb").rows() == [("C1", D("-10.00"), True, True)]
    assert find_candidates(ledger, preset("no-balance-billing"), engine=engine).line_count == 0


def test_the_same_criteria_after_a_write_are_computed_at_the_new_generation(ledger, engine):
    before = find_candidates(ledger, preset("deceased"), engine=engine).generation
    assert before == ledger.generation()


# ------------------------------------------------------------------ group_lines on its own

_LINE = st.fixed_dictionaries({
    "group_key": st.sampled_from(["G1", "G2", "G10", "G9"]),
    "patient_id": st.sampled_from(["P1", "P2"]),
    "date_of_service": st.dates(dt.date(2025, 1, 1), dt.date(2026, 10, 31)),
    "balance": st.decimals(D("0.01"), D("99999.99"), places=2),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(_LINE, max_size=30), st.randoms(use_true_random=False))
def test_group_lines_matches_plain_python_in_any_line_order(rows, rnd):
    as_of = dt.date(2026, 11, 1)
    for i, row in enumerate(rows):
        row["charge_id"] = f"C{i:03d}"
        row["age_days"] = (as_of - row["date_of_service"]).days
    expected = {}
    for row in rows:
        g = expected.setdefault(row["group_key"], {"patients": set(), "dates": [], "total": D(0)})
        g["patients"].add(row["patient_id"])
        g["dates"].append(row["date_of_service"])
        g["total"] += row["balance"]
    wanted = ("charge_id", "group_key", "patient_id", "date_of_service", "age_days", "balance")
    base = {k: LINE_SCHEMA[k] for k in wanted}
    sorted_rows = sorted(rows, key=lambda r: (r["group_key"], r["charge_id"]))
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    for order in (sorted_rows, shuffled):
        frame = pl.DataFrame(order, schema=base).cast(base)
        groups = group_lines(frame)
        assert dict(groups.schema) == GROUP_SCHEMA
        assert groups.get_column("group_key").to_list() == sorted(expected)
        for got in groups.to_dicts():
            want = expected[got["group_key"]]
            one = next(iter(want["patients"])) if len(want["patients"]) == 1 else None
            assert got["patient_id"] == one
            assert got["line_count"] == len(want["dates"])
            assert got["balance_total"] == want["total"]
            assert got["first_date_of_service"] == min(want["dates"])
            assert got["last_date_of_service"] == max(want["dates"])
            assert got["max_age_days"] == (as_of - min(want["dates"])).days
