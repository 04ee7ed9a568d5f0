"""Match an 835 claim to the ledger: its charges by a claim key, each line to one charge.

The claim key is chosen per import (:class:`MatchKey`): CLP01 is an ``encounter_id``
(default), a PM claim number in the charges' optional ``claim_id`` column, or a patient
control number (the ``patient_id``; the claim's charges are then that patient's). Each
service line then matches one of those charges (docs/spec/X12_835_POSTING.md):

1. by REF*6R (line item control number) = ``charge_id``, else
2. by procedure code (and modifiers, when the charges carry a ``modifiers`` column) and
   the line's own service date (DTM*472), else the claim's dates (DTM*232..233), against
   the date of service of the charge's encounter; of several, the one whose charge amount
   is the line's.

Ambiguous matches are refused, never guessed: two charges that fit a line equally well
and differ in anything the ledger records (units, payer, posted date, any column but
``charge_id``) are a refusal; charges identical but for their id are taken in id order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import polars as pl

from writeoff_analytics.ledger.schema import TransactionType
from writeoff_analytics.sources.x12_835.reversals import PostedClaims

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from writeoff_analytics.sources.x12_835.remittance import Claim

__all__ = [
    "CLAIM_ID_COLUMN",
    "MODIFIERS_COLUMN",
    "LedgerView",
    "MatchKey",
    "ledger_view",
    "match_lines",
]

#: Optional charges column holding the PM system's claim number (``--match claim``).
CLAIM_ID_COLUMN = "claim_id"
#: Optional charges column holding procedure modifiers (``25``, ``25:59`` or ``25,59``).
MODIFIERS_COLUMN = "modifiers"


class MatchKey(StrEnum):
    """What CLP01 (the patient control number) is in the ledger."""

    ENCOUNTER = "encounter"  # encounters.encounter_id
    CLAIM = "claim"  # charges.claim_id (optional column)
    PATIENT_CONTROL = "patient-control"  # patients.patient_id (the patient account number)


@dataclass
class LedgerView:
    """What matching and posting need of the ledger, read once per import."""

    encounters: dict[str, dt.date]
    charges_by_encounter: dict[str, list[dict[str, Any]]]
    charges_by_claim: dict[str, list[dict[str, Any]]]
    charges_by_patient: dict[str, list[dict[str, Any]]]
    charges: dict[str, dict[str, Any]]
    payers: set[str]
    payers_by_name: dict[str, str]
    transaction_ids: set[str]
    posted_charges: set[str]
    current_payer: dict[str, str | None]
    posted: PostedClaims
    has_claim_ids: bool


def ledger_view(frames: Mapping[str, pl.DataFrame], balances: pl.DataFrame) -> LedgerView:
    """Index the snapshot's frames for matching (charges sorted by ``charge_id``)."""
    encounters = frames["encounters"]
    enc = {r["encounter_id"]: r["date_of_service"] for r in encounters.iter_rows(named=True)}
    patient_of = dict(zip(encounters["encounter_id"], encounters["patient_id"], strict=True))
    charges: dict[str, dict[str, Any]] = {}
    by_enc: dict[str, list[dict[str, Any]]] = {}
    by_claim: dict[str, list[dict[str, Any]]] = {}
    by_patient: dict[str, list[dict[str, Any]]] = {}
    charge_frame = frames["charges"]
    has_claim_ids = CLAIM_ID_COLUMN in charge_frame.columns
    for r in charge_frame.sort("charge_id").iter_rows(named=True):
        charges[r["charge_id"]] = r
        by_enc.setdefault(r["encounter_id"], []).append(r)
        if r["encounter_id"] in patient_of:
            by_patient.setdefault(patient_of[r["encounter_id"]], []).append(r)
        if has_claim_ids and r[CLAIM_ID_COLUMN]:
            by_claim.setdefault(str(r[CLAIM_ID_COLUMN]).strip(), []).append(r)
    payers = frames["payers"]
    tx = frames["transactions"]
    insurance_posted = tx.filter(
        pl.col("type").is_in(
            [TransactionType.INSURANCE_PAYMENT, TransactionType.INSURANCE_ADJUSTMENT]
        )
    )
    return LedgerView(
        encounters=enc,
        charges_by_encounter=by_enc,
        charges_by_claim=by_claim,
        charges_by_patient=by_patient,
        charges=charges,
        payers=set(payers["payer_id"].to_list()),
        payers_by_name={
            str(n).strip().casefold(): pid
            for pid, n in zip(payers["payer_id"], payers["payer_name"], strict=True)
        },
        transaction_ids=set(tx["transaction_id"].to_list()),
        posted_charges=set(insurance_posted["charge_id"].to_list()),
        current_payer=dict(zip(balances["charge_id"], balances["current_payer_id"], strict=True)),
        posted=PostedClaims.from_transactions(tx),
        has_claim_ids=has_claim_ids,
    )


def _claim_charges(
    claim: Claim, view: LedgerView, key: MatchKey
) -> tuple[list[dict[str, Any]] | None, str]:
    """The charges CLP01 names under ``key``, or ``None`` and why none."""
    pcn = claim.patient_control_number
    if key is MatchKey.CLAIM:
        if not view.has_claim_ids:
            return None, (
                f"--match claim needs the optional charges column {CLAIM_ID_COLUMN!r} "
                "(the PM system's claim number), which this ledger lacks"
            )
        found = view.charges_by_claim.get(pcn)
        return found, "" if found else f"no charge with claim_id {pcn!r} in the ledger (CLP01)"
    if key is MatchKey.PATIENT_CONTROL:
        found = view.charges_by_patient.get(pcn)
        return found, "" if found else (
            f"no charge of patient {pcn!r} in the ledger (CLP01 is matched to patient_id)"
        )
    if pcn not in view.encounters:
        return None, f"no encounter {pcn!r} in the ledger (CLP01 is matched to encounter_id)"
    return view.charges_by_encounter.get(pcn, []), ""


def _modifiers(charge: Mapping[str, Any]) -> tuple[str, ...] | None:
    raw = charge.get(MODIFIERS_COLUMN)
    if raw is None:
        return None
    return tuple(m for m in str(raw).replace(",", ":").split(":") if m.strip())


def _interchangeable(charges: list[dict[str, Any]]) -> bool:
    """Charges that differ in nothing but their id: taking the first is no guess."""
    first = {k: v for k, v in charges[0].items() if k != "charge_id"}
    return all({k: v for k, v in c.items() if k != "charge_id"} == first for c in charges[1:])


def match_lines(
    claim: Claim, view: LedgerView, key: MatchKey = MatchKey.ENCOUNTER
) -> tuple[dict[int, str], list[str]]:
    """Map each posting unit (line index, or -1 for a claim without lines) to a charge id.

    Returns the matches and, when any unit cannot be matched or is ambiguous, the reasons
    (then the claim is not posted).
    """
    pcn = claim.patient_control_number
    candidates, why = _claim_charges(claim, view, key)
    if candidates is None or why:
        return {}, [why]
    if not claim.lines:
        if len(candidates) == 1:
            return {-1: candidates[0]["charge_id"]}, []
        return {}, [
            f"the claim has no service lines and {key.value} {pcn!r} has {len(candidates)} "
            "charges; a claim-level payment is not spread over charges"
        ]
    ids = {c["charge_id"] for c in candidates}
    dos_of = {c["charge_id"]: view.encounters.get(c["encounter_id"]) for c in candidates}
    claim_from = claim.statement_date
    claim_to = claim.statement_end_date or claim_from
    reasons: list[str] = []
    used: set[str] = set()
    matched: dict[int, str] = {}
    for i, ln in enumerate(claim.lines):
        cn = ln.control_number
        if cn is not None and cn in view.charges:
            if cn not in ids:
                reasons.append(
                    f"line {ln.position}: REF*6R {cn!r} is a charge of encounter "
                    f"{view.charges[cn]['encounter_id']!r}, not of {key.value} {pcn!r}"
                )
                continue
            matched[i] = cn
            used.add(cn)
            continue
        if ln.service_date is not None:
            fits = [c for c in candidates if dos_of[c["charge_id"]] == ln.service_date]
            when = f"service date {ln.service_date}"
        elif claim_from is not None and claim_to is not None:
            fits = [
                c
                for c in candidates
                if (d := dos_of[c["charge_id"]]) is not None and claim_from <= d <= claim_to
            ]
            when = f"claim dates {claim_from}..{claim_to}"
        else:
            fits, when = list(candidates), "no date"
        if not fits and key is MatchKey.ENCOUNTER and ln.service_date is not None:
            reasons.append(
                f"line {ln.position} {ln.procedure_code}: service date {ln.service_date} is not "
                f"the date of service {view.encounters[pcn]} of encounter {pcn!r}"
            )
            continue
        same_code = [
            c
            for c in fits
            if c["procedure_code"] == ln.procedure_code
            and c["charge_id"] not in used
            and (_modifiers(c) is None or _modifiers(c) == ln.modifiers)
        ]
        exact = [c for c in same_code if c["charge_amount"] == ln.charge] or same_code
        if not exact:
            via = f"REF*6R {cn!r} is not a charge, and " if cn is not None else ""
            reasons.append(
                f"line {ln.position}: {via}{key.value} {pcn!r} has no unmatched charge with "
                f"procedure code {ln.procedure_code!r} on {when}"
            )
            continue
        if len(exact) > 1 and not _interchangeable(exact):
            reasons.append(
                f"line {ln.position} {ln.procedure_code} ({when}): ambiguous, charges "
                f"{', '.join(c['charge_id'] for c in exact)} fit it equally; not guessed "
                "(send REF*6R = charge_id, or tell them apart by date or amount)"
            )
            continue
        matched[i] = exact[0]["charge_id"]
        used.add(exact[0]["charge_id"])
    return matched, reasons
