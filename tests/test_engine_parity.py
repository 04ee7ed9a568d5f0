"""One meaning on two engines: random ledgers, random valid criteria, identical frames."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.conftest import build_ledger
from writeoff_analytics import Criteria, CriteriaError, find_candidates
from writeoff_analytics.engines import ENGINES, Engine, load_engine

CLASSES = ["MEDICARE", "MEDICAID", "COMMERCIAL", "OTHER"]
TYPES = ["INSURANCE_PAYMENT", "INSURANCE_ADJUSTMENT", "TRANSFER", "PATIENT_PAYMENT", "PATIENT_ADJUSTMENT", "REFUND"]
BASE = dt.date(2025, 1, 1)
# Few distinct values, so that boundaries (equal ages, dates, totals) are hit often.
DAYS = [0, 30, 60, 90, 120]
AGES = [0, 30, 60, 90]
CENTS = [0, 1, 500, 1000, 2550]
BOUNDS = [0, 1, 500, 1000, 1500, 2550, 3050]


def _day(n: int) -> str:
    return (BASE + dt.timedelta(days=n)).isoformat()


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


@st.composite
def ledgers(draw):
    n_payers = draw(st.integers(1, 3))
    payers = [{"payer_id": f"Y{i}", "payer_name": f"Payer {i}", "financial_class": draw(st.sampled_from(CLASSES)),
               "balance_bill_patient": draw(st.sampled_from(["true", "false"]))} for i in range(n_payers)]
    pids = [f"Y{i}" for i in range(n_payers)]
    n_pat = draw(st.integers(1, 4))
    patients = []
    for i in range(n_pat):
        patients.append({
            "patient_id": f"0{i}",
            "guarantor_id": draw(st.sampled_from([None, *[f"0{j}" for j in range(n_pat)]])),
            "deceased_date": draw(st.sampled_from([None, _day(300)])),
            "financial_hardship": draw(st.sampled_from([None, "true", "false"])),
        })
    coverages = []
    for i in range(n_pat):
        for _ in range(draw(st.integers(0, 2))):
            start = draw(st.sampled_from([0, 30, 60, 90]))
            coverages.append({
                "patient_id": f"0{i}", "payer_id": draw(st.sampled_from(pids)), "priority": str(draw(st.integers(1, 3))),
                "effective_from": _day(start),
                "effective_to": draw(st.sampled_from([None, _day(start + draw(st.sampled_from([0, 30, 90])))])),
                "qmb": draw(st.sampled_from([None, "true", "false"])),
                "patient_responsible": draw(st.sampled_from([None, "true", "false"])),
            })
    encounters, charges, transactions = [], [], []
    for e in range(draw(st.integers(1, 6))):
        encounters.append({"encounter_id": f"E{e}", "patient_id": f"0{draw(st.integers(0, n_pat - 1))}",
                           "date_of_service": _day(draw(st.sampled_from(DAYS))),
                           "provider_id": draw(st.sampled_from([None, "PA", "PB"])),
                           "location_id": draw(st.sampled_from([None, "LA", "LB"]))})
        for c in range(draw(st.integers(1, 3))):
            cid = f"C{e}_{c}"
            charges.append({"charge_id": cid, "encounter_id": f"E{e}", "procedure_code": draw(st.sampled_from(["99213", "80053"])),
                            "charge_amount": _money(draw(st.sampled_from(CENTS))),
                            "billed_payer_id": draw(st.sampled_from([None, *pids])), "posted_date": _day(0)})
            for t in range(draw(st.integers(0, 5))):
                transactions.append({
                    "transaction_id": f"T{cid}_{t}", "charge_id": cid, "posted_date": _day(draw(st.sampled_from(DAYS))),
                    "type": draw(st.sampled_from(TYPES)), "responsibility": draw(st.sampled_from(["INSURANCE", "PATIENT"])),
                    "payer_id": draw(st.sampled_from([None, *pids])), "amount": _money(draw(st.sampled_from(CENTS)) * draw(st.sampled_from([-1, 1]))),
                })
    return {"payers": payers, "patients": patients, "coverages": coverages, "encounters": encounters,
            "charges": charges, "transactions": transactions}


@st.composite
def criteria_for(draw, tables):
    bt = draw(st.sampled_from(["PATIENT", "INSURANCE"]))
    by = draw(st.sampled_from(["GUARANTOR", "PATIENT", "ENCOUNTER", "PROCEDURE_LINE"] if bt == "PATIENT" else ["ENCOUNTER", "PROCEDURE_LINE"]))
    opt = lambda s: draw(st.one_of(st.none(), s))  # noqa: E731
    payer_ids = [p["payer_id"] for p in tables["payers"]]
    kw = {
        "responsibility": opt(st.sampled_from(["AFTER_INSURANCE", "SELF_PAY", "NOT_RESPONSIBLE", "AFTER_INSURANCE_PATIENT_RESPONSIBLE"])) if bt == "PATIENT" else None,
        "role": draw(st.sampled_from(["ALL", "PRIMARY", "SECONDARY", "TERTIARY"])) if bt == "INSURANCE" else "ALL",
        "financial_classes": opt(st.sets(st.sampled_from([*CLASSES, "SELF_PAY"]), min_size=1)),
        "payer_ids": opt(st.sets(st.sampled_from(payer_ids), min_size=1)),
        "dos_from": opt(st.sampled_from(DAYS).map(_day)),
        "dos_to": opt(st.sampled_from(DAYS).map(_day)),
        "min_age_days": opt(st.sampled_from(AGES)),
        "max_age_days": opt(st.sampled_from(AGES)),
        "min_days_since_patient_payment": opt(st.sampled_from(AGES)),
        "min_balance": opt(st.sampled_from(BOUNDS).map(_money)),
        "max_balance": opt(st.sampled_from(BOUNDS).map(_money)),
        "patient_ids": opt(st.sets(st.sampled_from([p["patient_id"] for p in tables["patients"]]), min_size=1)),
        "provider_ids": opt(st.sets(st.sampled_from(["PA", "PB"]), min_size=1)),
        "location_ids": opt(st.sets(st.sampled_from(["LA", "LB"]), min_size=1)),
        "procedure_codes": opt(st.sets(st.sampled_from(["99213", "80053"]), min_size=1)),
        "deceased": draw(st.booleans()),
        "financial_hardship": draw(st.booleans()),
        "as_of": _day(draw(st.sampled_from([90, 120, 180]))),
    }
    try:
        return Criteria(bt, by, **kw)
    except CriteriaError:
        assume(False)
        raise


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_duckdb_and_polars_find_the_same_lines_and_cents(data):
    tables = data.draw(ledgers())
    ledger = build_ledger(**tables)
    for _ in range(4):
        criteria = data.draw(criteria_for(tables))
        a = find_candidates(ledger, criteria, engine="duckdb")
        b = find_candidates(ledger, criteria, engine="polars")
        assert a.lines.equals(b.lines), (criteria, a.lines, b.lines)
        assert a.groups.equals(b.groups)
        assert a.total == b.total


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers())
def test_the_class_of_each_buckets_payer_is_derived_once_in_the_balances(tables):
    # docs/DESIGN.md: PATIENT -> the billed payer's class, INSURANCE -> the current payer's,
    # SELF_PAY when the line has no such payer; every query and engine reads these columns.
    ledger = build_ledger(**tables)
    classes = {p["payer_id"]: p["financial_class"] for p in tables["payers"]}
    rows = ledger.balances().to_dicts()
    assert rows
    for row in rows:
        assert row["patient_financial_class"] == classes.get(row["billed_payer_id"], "SELF_PAY")
        assert row["insurance_financial_class"] == classes.get(row["current_payer_id"], "SELF_PAY")


def _public_functions(module):
    return {
        name: inspect.signature(value)
        for name, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")
    }


def test_every_engine_defines_the_same_functions_with_the_same_signatures():
    assert ENGINES == ("duckdb", "polars", "spark")
    wanted = {
        name: inspect.signature(getattr(Engine, name)).replace(
            parameters=list(inspect.signature(getattr(Engine, name)).parameters.values())[1:]
        )
        for name in ("candidate_lines",)
    }
    for name in ENGINES:
        module = load_engine(name)
        assert module is importlib.import_module(f"writeoff_analytics.engines.{name}")
        assert _public_functions(module) == wanted, name


def test_an_unknown_engine_is_refused_naming_the_known_ones():
    with pytest.raises(CriteriaError, match="unknown engine sqlite; known: duckdb, polars, spark") as info:
        load_engine("sqlite")
    assert info.value.field == "engine"


def test_importing_the_package_imports_neither_pyspark_nor_sqlglot():
    # Both come with the optional spark extra; the registry imports an engine when asked.
    code = (
        "import sys, writeoff_analytics, writeoff_analytics.engines, writeoff_analytics.candidates; "
        "bad = sorted(m for m in ('pyspark', 'sqlglot') if m in sys.modules); "
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_both_engines_hold_out_the_same_quarantined_charges(data):
    """issue 14: charges named by a rejected transactions row are in no engine's results."""
    from tests.conftest import make_frames
    from writeoff_analytics.errors import RowProblem
    from writeoff_analytics.ledger.snapshot import replace_snapshot
    from writeoff_analytics.ledger.store import Ledger

    tables = data.draw(ledgers())
    charge_ids = sorted({c["charge_id"] for c in tables.get("charges", [])})
    held = data.draw(st.sets(st.sampled_from(charge_ids))) if charge_ids else set()
    problems = [RowProblem("transactions", "transactions.csv", 1000 + i, "amount", "x", "is not money")
                for i, _ in enumerate(sorted(held))]
    records = {("transactions", 1000 + i): {"charge_id": cid} for i, cid in enumerate(sorted(held))}
    ledger = Ledger(":memory:")
    replace_snapshot(ledger, make_frames(**tables), source="test", problems=problems, records=records)
    assert set(ledger.balances().filter(quarantined=True)["charge_id"].to_list()) == held
    for _ in range(3):
        criteria = data.draw(criteria_for(tables))
        a = find_candidates(ledger, criteria, engine="duckdb")
        b = find_candidates(ledger, criteria, engine="polars")
        assert a.lines.equals(b.lines), (criteria, a.lines, b.lines)
        assert not held & set(a.lines["charge_id"].to_list())
