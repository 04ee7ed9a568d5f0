"""A small ledger for the batch, receipt and history tests, and the candidates it offers.

Four encounters of patients whose Medicaid coverage forbids balance billing leave patient
balances after Medicare (NOT_RESPONSIBLE, the ``no-balance-billing`` preset); one commercial
patient's balance is the patient's to pay and never a candidate.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from tests.conftest import build_ledger, make_frames
from writeoff_analytics.candidates import Candidates, find_candidates
from writeoff_analytics.criteria.presets import criteria_from_preset
from writeoff_analytics.ledger.schema import TRANSACTIONS
from writeoff_analytics.ledger.snapshot import conform, polars_schema
from writeoff_analytics.money import PL_MONEY

if TYPE_CHECKING:
    from writeoff_analytics.criteria.model import Criteria
    from writeoff_analytics.ledger.store import Ledger

AS_OF = dt.date(2026, 6, 1)
#: The ``no-balance-billing`` preset (PATIENT, ENCOUNTER, NOT_RESPONSIBLE) aged at AS_OF.
CRITERIA = criteria_from_preset("no-balance-billing", as_of=AS_OF)

#: charge -> (encounter, amount, patient part left after insurance)
_CHARGES = {
    "C1": ("E1", "200.00", "40.00"),
    "C2": ("E1", "100.00", "12.34"),
    "C3": ("E2", "150.00", "25.50"),
    "C4": ("E3", "1000.00", "600.00"),
    "C5": ("E4", "120.00", "30.00"),
}
#: What the candidates hold: every charge but C5 (patient 0003 is responsible).
EXPECTED = {"C1": Decimal("40.00"), "C2": Decimal("12.34"), "C3": Decimal("25.50"), "C4": Decimal("600.00")}
EXPECTED_TOTAL = Decimal("677.84")


def _transactions() -> list[dict[str, str]]:
    rows = []
    for charge_id, (_enc, amount, patient) in _CHARGES.items():
        payer = "P-COM" if charge_id == "C5" else "P-MCR"
        rest = Decimal(amount) - Decimal(patient)
        paid = (rest * Decimal("0.75")).quantize(Decimal("0.01"))
        adjusted = rest - paid
        base = {"charge_id": charge_id, "posted_date": "2026-03-02"}
        rows += [
            {**base, "transaction_id": f"{charge_id}-P", "type": "INSURANCE_PAYMENT",
             "responsibility": "INSURANCE", "payer_id": payer, "amount": str(-paid), "reference": "EFT1"},
            {**base, "transaction_id": f"{charge_id}-A", "type": "INSURANCE_ADJUSTMENT",
             "responsibility": "INSURANCE", "payer_id": payer, "amount": str(-adjusted),
             "group_code": "CO", "reason_code": "45", "reference": "EFT1"},
            {**base, "transaction_id": f"{charge_id}-T1", "type": "TRANSFER",
             "responsibility": "INSURANCE", "payer_id": payer, "amount": f"-{patient}",
             "group_code": "PR", "reason_code": "2", "reference": f"X-{charge_id}"},
            {**base, "transaction_id": f"{charge_id}-T2", "type": "TRANSFER",
             "responsibility": "PATIENT", "amount": patient,
             "group_code": "PR", "reason_code": "2", "reference": f"X-{charge_id}"},
        ]
    return rows


TABLES: dict[str, list[dict[str, str]]] = {
    "payers": [
        {"payer_id": "P-MCR", "payer_name": "Medicare", "financial_class": "MEDICARE", "balance_bill_patient": "true"},
        {"payer_id": "P-MCD", "payer_name": "Medicaid", "financial_class": "MEDICAID", "balance_bill_patient": "false"},
        {"payer_id": "P-COM", "payer_name": "Commercial", "financial_class": "COMMERCIAL", "balance_bill_patient": "true"},
    ],
    "patients": [
        {"patient_id": "0001", "guarantor_id": "G1"},
        {"patient_id": "0002"},
        {"patient_id": "0003"},
    ],
    "coverages": [
        {"patient_id": "0001", "payer_id": "P-MCR", "priority": "1", "effective_from": "2025-01-01"},
        {"patient_id": "0001", "payer_id": "P-MCD", "priority": "2", "effective_from": "2025-01-01"},
        {"patient_id": "0002", "payer_id": "P-MCR", "priority": "1", "effective_from": "2025-01-01"},
        {"patient_id": "0002", "payer_id": "P-MCD", "priority": "2", "effective_from": "2025-01-01"},
        {"patient_id": "0003", "payer_id": "P-COM", "priority": "1", "effective_from": "2025-01-01"},
    ],
    "encounters": [
        {"encounter_id": "E1", "patient_id": "0001", "date_of_service": "2026-01-10"},
        {"encounter_id": "E2", "patient_id": "0001", "date_of_service": "2026-02-10"},
        {"encounter_id": "E3", "patient_id": "0002", "date_of_service": "2026-02-20"},
        {"encounter_id": "E4", "patient_id": "0003", "date_of_service": "2026-03-01"},
    ],
    "charges": [
        {"charge_id": cid, "encounter_id": enc, "procedure_code": "99213", "charge_amount": amount,
         "billed_payer_id": "P-COM" if cid == "C5" else "P-MCR", "posted_date": "2026-03-01"}
        for cid, (enc, amount, _patient) in _CHARGES.items()
    ],
    "transactions": _transactions(),
}


def frames() -> dict[str, pl.DataFrame]:
    """The tables as typed frames (for replace_snapshot)."""
    return make_frames(**TABLES)


def make_store(path: str | Path = ":memory:") -> Ledger:
    """A store holding :data:`TABLES`."""
    return build_ledger(str(path), **TABLES)


def find(ledger: Ledger, criteria: Criteria = CRITERIA) -> Candidates:
    """The candidates of ``criteria`` (default: the ``no-balance-billing`` preset) in ``ledger``."""
    return find_candidates(ledger, criteria)


def amounts(candidates: Candidates) -> dict[str, Decimal]:
    """charge_id -> writeoff_amount."""
    return dict(candidates.lines.select("charge_id", "writeoff_amount").iter_rows())


def writeoff_totals(ledger: Ledger) -> dict[str, Decimal]:
    """Net write-off per charge over every receipt (negative = written off)."""
    with ledger.connect() as con:
        rows = con.execute(
            "SELECT charge_id, sum(amount) FROM writeoff_lines GROUP BY charge_id ORDER BY charge_id"
        ).fetchall()
    return {r[0]: Decimal(r[1]) for r in rows}


def count_rows(ledger: Ledger, table: str) -> int:
    """Rows in one of the persistent tables."""
    assert table in {"receipts", "writeoff_lines", "audit_log"}
    with ledger.connect() as con:
        queries = {
            "receipts": "SELECT count(*) FROM receipts",
            "writeoff_lines": "SELECT count(*) FROM writeoff_lines",
            "audit_log": "SELECT count(*) FROM audit_log",
        }
        return int(con.execute(queries[table]).fetchall()[0][0])


CHILD = """
import os, pickle, sys
from writeoff_analytics.errors import BatchError
from writeoff_analytics.ledger.schema import TRANSACTIONS
from writeoff_analytics.ledger.snapshot import conform, polars_schema
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.money import PL_MONEY
from writeoff_analytics.writeoffs.permissions import Config
from writeoff_analytics.writeoffs.receipts import commit_batch
args = pickle.loads(bytes.fromhex(sys.argv[1]))
ledger = Ledger(args["db"])
try:
    receipt = commit_batch(ledger, args["batch"], user=args["user"], approver=args.get("approver"),
                           receipts_dir=args["receipts_dir"], config=args["config"])
except BatchError as exc:
    print("REFUSED", ",".join(exc.charge_ids))
    sys.exit(3)
print(receipt.receipt_no)
"""


def child_commit(args: dict[str, Any], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start a process committing ``args["batch"]`` (pickled) into ``args["db"]``."""
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, pickle.dumps(args).hex()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_manifest(path: Path) -> dict[str, Any]:
    """A receipt's JSON manifest."""
    return dict(json.loads(path.read_text(encoding="utf-8")))


def with_receipt_rows(extract: dict[str, pl.DataFrame], csv_path: Path) -> dict[str, pl.DataFrame]:
    """The extract with a receipt CSV's rows appended to its transactions (a later PM export)."""
    schema = polars_schema(TRANSACTIONS)
    read = pl.read_csv(csv_path, infer_schema=False)
    # the receipt carries the transactions columns it needs; the others (optional) are null
    added = read.select([c for c in schema if c in read.columns]).with_columns(
        pl.col("posted_date").str.to_date(),
        pl.col("amount").cast(PL_MONEY),
    )
    added = conform(TRANSACTIONS, added)
    return {**extract, "transactions": pl.concat([extract["transactions"], added])}
