"""Every well-formed 835 sample posts, onto a ledger generated to match it, to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl
import pytest

from tests.conftest import make_frames
from tests.test_x12_835 import SAMPLES, _balances
from writeoff_analytics.ledger.snapshot import replace_snapshot
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.sources.x12_835 import import_835, parse_835
from writeoff_analytics.sources.x12_835.remittance import POSTED_STATUSES

if TYPE_CHECKING:
    from pathlib import Path

    from writeoff_analytics.sources.x12_835 import Remittance

ZERO = Decimal("0.00")


def _ledger_by_claim_id(rem: Remittance) -> Ledger:
    """One encounter per (CLP01, service date), one charge per line, ``claim_id`` = CLP01."""
    encounters: dict[tuple[str, str], dict[str, str]] = {}
    charges: list[dict[str, str]] = []
    claim_ids: list[str] = []
    for claim in rem.claims:
        pcn = claim.patient_control_number
        units = [
            (ln.service_date or claim.statement_date, ln.procedure_code, abs(ln.charge))
            for ln in claim.lines
        ]
        if not claim.lines:
            units = [(claim.statement_date, "CLAIM", abs(claim.charge))]
        for date, code, amount in units:
            dos = date.isoformat() if date else "2000-01-01"
            enc = encounters.setdefault(
                (pcn, dos),
                {
                    "encounter_id": f"V{len(encounters) + 1}",
                    "patient_id": "PT-" + pcn,
                    "date_of_service": dos,
                },
            )
            charges.append(
                {
                    "charge_id": f"CH{len(charges) + 1:03d}",
                    "encounter_id": enc["encounter_id"],
                    "procedure_code": code,
                    "charge_amount": str(amount),
                    "billed_payer_id": "P-1",
                    "posted_date": dos,
                }
            )
            claim_ids.append(pcn)
    frames = make_frames(
        payers=[
            {
                "payer_id": "P-1",
                "payer_name": "Sample payer",
                "financial_class": "COMMERCIAL",
                "balance_bill_patient": "true",
            }
        ],
        patients=[
            {"patient_id": p} for p in sorted({e["patient_id"] for e in encounters.values()})
        ],
        encounters=list(encounters.values()),
        charges=charges,
    )
    frames["charges"] = frames["charges"].with_columns(pl.Series("claim_id", claim_ids))
    ledger = Ledger(":memory:")
    replace_snapshot(ledger, frames, source="test")
    return ledger


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_postable_claim_of_a_sample_posts_to_the_cent(path: Path):
    rem = parse_835(path)
    ledger = _ledger_by_claim_id(rem)
    before = _balances(ledger)
    report = import_835(ledger, [path], payer_id="P-1", match="claim")
    (f,) = report.files
    postable = [c for c in rem.claims if not c.errors and c.status in POSTED_STATUSES]
    posted = [o for o in f.outcomes if o.outcome == "posted"]
    assert [(o.claim, o.segment) for o in posted] == [
        (c.patient_control_number, c.position.segment) for c in postable
    ]
    assert f.posted_paid_total == sum((c.paid for c in postable), ZERO)
    assert f.posted_adjustments_total == sum((c.adjustment_total for c in postable), ZERO)
    # what left the insurance side is exactly CLP03 of the posted claims
    after = _balances(ledger)
    moved = sum((before[k][0] - after[k][0] for k in before), ZERO)
    assert moved == sum((c.charge for c in postable), ZERO)
    to_patient = sum((after[k][1] - before[k][1] for k in before), ZERO)
    assert to_patient == sum(
        (
            a.amount
            for c in postable
            for a in c.adjustments + tuple(x for ln in c.lines for x in ln.adjustments)
            if a.group == "PR"
        ),
        ZERO,
    )
    others = [o for o in f.outcomes if o.outcome != "posted"]
    assert all(o.outcome in ("refused", "reported") for o in others), others
