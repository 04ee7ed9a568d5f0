"""Shared fixtures: hand-built ledgers from literal rows, the demo ledger, engines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from writeoff_analytics.ledger.schema import FALSE_WORDS, TABLES, TRUE_WORDS, ColumnType
from writeoff_analytics.ledger.snapshot import polars_schema, replace_snapshot
from writeoff_analytics.ledger.store import Ledger

REPO = Path(__file__).resolve().parents[1]
DEMO_DIR = REPO / "data" / "demo"

Rows = Sequence[Mapping[str, Any]]


def _cell(kind: ColumnType, value: Any) -> Any:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return value
    if kind is ColumnType.MONEY:
        return Decimal(value)
    if kind is ColumnType.DATE:
        return dt.date.fromisoformat(value)
    if kind is ColumnType.BOOL:
        low = value.lower()
        assert low in TRUE_WORDS | FALSE_WORDS, value
        return low in TRUE_WORDS
    if kind is ColumnType.INTEGER:
        return int(value)
    return value


def make_frames(**tables: Rows) -> dict[str, pl.DataFrame]:
    """Typed frames from literal rows (strings are parsed as the contract says); absent tables are empty."""
    frames = {}
    for table in TABLES:
        schema = polars_schema(table)
        rows = tables.get(table.name, [])
        data = [
            {c.name: _cell(c.type, row.get(c.name)) for c in table.columns} for row in rows
        ]
        frames[table.name] = pl.DataFrame(data, schema=schema)
    return frames


def build_ledger(path: str = ":memory:", **tables: Rows) -> Ledger:
    """A store holding exactly the given rows, balances derived."""
    ledger = Ledger(path)
    replace_snapshot(ledger, make_frames(**tables), source="test")
    return ledger


@pytest.fixture
def make_ledger() -> Callable[..., Ledger]:
    """``make_ledger(payers=[...], charges=[...], ...)`` -> an in-memory :class:`Ledger`."""
    return build_ledger


#: LEDGER_FORMAT.md's example: one Medicaid-secondary encounter, 40.00 left to the patient.
EXAMPLE_TABLES: dict[str, Rows] = {
    "payers": [
        {"payer_id": "P-MCR", "payer_name": "Medicare", "financial_class": "MEDICARE", "balance_bill_patient": "true"},
        {"payer_id": "P-MCD", "payer_name": "Medicaid", "financial_class": "MEDICAID", "balance_bill_patient": "false"},
    ],
    "patients": [{"patient_id": "0004567"}],
    "coverages": [
        {"patient_id": "0004567", "payer_id": "P-MCR", "priority": "1", "effective_from": "2025-01-01"},
        {"patient_id": "0004567", "payer_id": "P-MCD", "priority": "2", "effective_from": "2025-01-01"},
    ],
    "encounters": [{"encounter_id": "E1", "patient_id": "0004567", "date_of_service": "2026-02-27"}],
    "charges": [
        {"charge_id": "C1", "encounter_id": "E1", "procedure_code": "99213", "charge_amount": "200.00",
         "billed_payer_id": "P-MCR", "posted_date": "2026-02-27"},
    ],
    "transactions": [
        {"transaction_id": "T1", "charge_id": "C1", "posted_date": "2026-03-02", "type": "INSURANCE_PAYMENT",
         "responsibility": "INSURANCE", "payer_id": "P-MCR", "amount": "-120.00", "reference": "EFT881"},
        {"transaction_id": "T2", "charge_id": "C1", "posted_date": "2026-03-02", "type": "INSURANCE_ADJUSTMENT",
         "responsibility": "INSURANCE", "payer_id": "P-MCR", "amount": "-40.00", "group_code": "CO",
         "reason_code": "45", "reference": "EFT881"},
        {"transaction_id": "T3", "charge_id": "C1", "posted_date": "2026-03-02", "type": "TRANSFER",
         "responsibility": "INSURANCE", "payer_id": "P-MCR", "amount": "-40.00", "group_code": "PR",
         "reason_code": "2", "reference": "X1"},
        {"transaction_id": "T4", "charge_id": "C1", "posted_date": "2026-03-02", "type": "TRANSFER",
         "responsibility": "PATIENT", "amount": "40.00", "group_code": "PR", "reason_code": "2",
         "reference": "X1"},
    ],
}


@pytest.fixture
def example_ledger() -> Ledger:
    """The LEDGER_FORMAT.md example, in memory."""
    return build_ledger(**EXAMPLE_TABLES)


@pytest.fixture(params=["duckdb", "polars"])
def engine(request: pytest.FixtureRequest) -> str:
    """Every test body that takes ``engine`` runs on both engines (one meaning)."""
    return str(request.param)
