"""Every derived rule of ``queries/derive_charge_balances.sql``, held by name on both engines.

Each test builds a tiny ledger by hand whose answer is worked out in its comments, with
traps for the likely misreadings (the highest priority instead of the lowest, a coverage
that ended the day before the date of service, a remark code on another charge of the same
encounter, ``T10`` sorted after ``T9``, ...). The rules are docs/DESIGN.md's "Pinned
meanings" and "Real-world sources" and LEDGER_FORMAT.md's "Derived quantities"; the
answers are literal, never computed by a second copy of the rules.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tests.batch_support import TABLES as BATCH_TABLES
from tests.batch_support import with_receipt_rows
from tests.conftest import build_ledger, make_frames
from writeoff_analytics.candidates import find_candidates
from writeoff_analytics.criteria.model import Criteria
from writeoff_analytics.criteria.presets import criteria_from_preset
from writeoff_analytics.ledger.snapshot import rederive, replace_snapshot
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.history import reverse_receipt
from writeoff_analytics.writeoffs.permissions import Config, Permission
from writeoff_analytics.writeoffs.receipts import commit_batch

if TYPE_CHECKING:
    from writeoff_analytics.ledger.store import Ledger

D = Decimal
AS_OF = "2026-11-01"
DOS = "2026-03-01"

# --- tiny ledger builders ------------------------------------------------------------------


def _payer(pid: str, klass: str, balance_bill: str = "true") -> dict[str, Any]:
    return {"payer_id": pid, "payer_name": f"Payer {pid}", "financial_class": klass,
            "balance_bill_patient": balance_bill}


def _cov(patient: str, payer: str, priority: int, start: str = "2025-01-01", end: str | None = None,
         **flags: str) -> dict[str, Any]:
    return {"patient_id": patient, "payer_id": payer, "priority": str(priority),
            "effective_from": start, "effective_to": end, **flags}


def _enc(eid: str, patient: str, dos: str = DOS) -> dict[str, Any]:
    return {"encounter_id": eid, "patient_id": patient, "date_of_service": dos}


def _charge(cid: str, enc: str, amount: str, payer: str | None) -> dict[str, Any]:
    return {"charge_id": cid, "encounter_id": enc, "procedure_code": "99213", "charge_amount": amount,
            "billed_payer_id": payer, "posted_date": DOS}


def _tx(tid: str, charge: str, date: str, type_: str, bucket: str, amount: str, payer: str | None = None,
        **more: str) -> dict[str, Any]:
    return {"transaction_id": tid, "charge_id": charge, "posted_date": date, "type": type_,
            "responsibility": bucket, "payer_id": payer, "amount": amount, **more}


def _after_insurance(charge: str, payer: str, paid: str, left: str, **remit: str) -> list[dict[str, Any]]:
    """The payer pays ``paid`` and moves ``left`` to the patient (PR-2); ``remit`` marks the payment."""
    return [
        _tx(f"{charge}-P", charge, "2026-03-20", "INSURANCE_PAYMENT", "INSURANCE", f"-{paid}", payer, **remit),
        _tx(f"{charge}-T1", charge, "2026-03-20", "TRANSFER", "INSURANCE", f"-{left}", payer,
            group_code="PR", reason_code="2"),
        _tx(f"{charge}-T2", charge, "2026-03-20", "TRANSFER", "PATIENT", left, group_code="PR", reason_code="2"),
    ]


def _find(ledger: Ledger, engine: str, balance_type: str = "PATIENT", **fields: Any) -> list[tuple[Any, ...]]:
    """(charge_id, payer_id, financial_class, responsibility, balance) of every candidate line."""
    fields.setdefault("as_of", AS_OF)
    found = find_candidates(ledger, Criteria(balance_type, "PROCEDURE_LINE", **fields), engine=engine)
    rows = found.lines.select("charge_id", "payer_id", "financial_class", "responsibility", "balance").rows()
    for row in rows:
        assert isinstance(row[4], Decimal)
    return rows


def _ids(ledger: Ledger, engine: str, balance_type: str = "PATIENT", **fields: Any) -> list[str]:
    return [row[0] for row in _find(ledger, engine, balance_type, **fields)]


# --- the current insurance payer -----------------------------------------------------------


def test_current_insurance_payer_is_the_latest_positive_insurance_row_with_a_payer(engine):
    ledger = build_ledger(
        payers=[_payer("P-A", "COMMERCIAL"), _payer("P-B", "MEDICARE"), _payer("P-C", "MEDICAID"),
                _payer("P-D", "WORKERS_COMP"), _payer("P-E", "OTHER"), _payer("P-F", "TRICARE")],
        patients=[{"patient_id": "X"}],
        encounters=[_enc("E1", "X")],
        charges=[_charge("C1", "E1", "100.00", "P-A"), _charge("C2", "E1", "30.00", "P-A"),
                 _charge("C3", "E1", "25.00", "P-A")],
        transactions=[
            # C1, insurance opens at 100.00 with P-A.
            # T99 is the greatest id but the earliest date: posted_date comes first.
            _tx("T99", "C1", "2026-02-28", "TRANSFER", "INSURANCE", "10.00", "P-F"),
            _tx("T1", "C1", "2026-03-01", "TRANSFER", "INSURANCE", "-110.00", "P-A"),
            # same day: "T9" > "T10" as strings (as numbers it would be the other way)
            _tx("T10", "C1", "2026-03-01", "TRANSFER", "INSURANCE", "50.00", "P-C"),
            _tx("T9", "C1", "2026-03-01", "TRANSFER", "INSURANCE", "50.00", "P-B"),
            # later rows that do not name a payer: amount 0 (not > 0), no payer_id, a negative row
            _tx("T20", "C1", "2026-03-05", "TRANSFER", "INSURANCE", "0.00", "P-D"),
            _tx("T21", "C1", "2026-03-06", "TRANSFER", "INSURANCE", "5.00"),
            _tx("T22", "C1", "2026-03-06", "TRANSFER", "INSURANCE", "-5.00"),
            _tx("T23", "C1", "2026-03-07", "INSURANCE_PAYMENT", "INSURANCE", "-10.00", "P-E"),
            # C2: only a payment (negative): the billed payer stays current
            _tx("T30", "C2", "2026-03-10", "INSURANCE_PAYMENT", "INSURANCE", "-10.00", "P-A"),
            # C3: a positive INSURANCE row without a payer: passed over, the billed payer stays
            _tx("T40", "C3", "2026-03-10", "TRANSFER", "INSURANCE", "-25.00", "P-A"),
            _tx("T41", "C3", "2026-03-11", "TRANSFER", "INSURANCE", "25.00"),
        ],
    )
    assert _find(ledger, engine, "INSURANCE") == [
        ("C1", "P-B", "MEDICARE", "INSURANCE", D("90.00")),
        ("C2", "P-A", "COMMERCIAL", "INSURANCE", D("20.00")),
        ("C3", "P-A", "COMMERCIAL", "INSURANCE", D("25.00")),
    ]
    assert _ids(ledger, engine, "INSURANCE", payer_ids={"P-B"}) == ["C1"]
    assert _ids(ledger, engine, "INSURANCE", payer_ids={"P-A"}) == ["C2", "C3"]


# --- the role of the current payer ---------------------------------------------------------


def _role_ledger() -> Ledger:
    return build_ledger(
        payers=[_payer("P-A", "COMMERCIAL"), _payer("P-B", "MEDICARE")],
        patients=[{"patient_id": "X"}, {"patient_id": "Y"}, {"patient_id": "Z"}],
        coverages=[
            # X's coverages of P-A; on the date of service 2026-03-01 only priorities 2 and 3 are in effect
            _cov("X", "P-A", 1, "2025-01-01", "2026-02-28"),  # ended the day before
            _cov("X", "P-A", 1, "2026-03-02"),  # starts the day after
            _cov("X", "P-A", 3, "2025-01-01"),
            _cov("X", "P-A", 2, DOS, DOS),  # starts and ends on the day itself
            _cov("X", "P-B", 1, "2025-01-01"),  # another payer: not the role of P-A
            _cov("Y", "P-A", 1, "2025-01-01"),  # another patient
            _cov("Y", "P-B", 2, "2025-01-01"),
            _cov("Z", "P-B", 3, "2025-01-01"),
        ],
        encounters=[_enc("E1", "X"), _enc("E2", "Y"), _enc("E3", "Z")],
        charges=[
            _charge("C1", "E1", "100.00", "P-B"),  # billed P-B (X's primary), crossed over to P-A
            _charge("C2", "E2", "40.00", "P-B"),  # Y: P-B is secondary
            _charge("C3", "E3", "70.00", "P-A"),  # Z has no coverage of P-A at all
        ],
        transactions=[
            _tx("T1", "C1", "2026-03-10", "INSURANCE_PAYMENT", "INSURANCE", "-60.00", "P-B"),
            _tx("T2", "C1", "2026-03-10", "TRANSFER", "INSURANCE", "-40.00", "P-B"),
            _tx("T3", "C1", "2026-03-10", "TRANSFER", "INSURANCE", "40.00", "P-A"),
        ],
    )


def test_role_is_the_lowest_priority_of_the_current_payers_coverages_in_effect(engine):
    ledger = _role_ledger()
    assert _find(ledger, engine, "INSURANCE") == [
        ("C1", "P-A", "COMMERCIAL", "INSURANCE", D("40.00")),
        ("C2", "P-B", "MEDICARE", "INSURANCE", D("40.00")),
        ("C3", "P-A", "COMMERCIAL", "INSURANCE", D("70.00")),
    ]
    # C1: P-A priority 2 (lowest number in effect); C2: P-B priority 2; C3: no role (ALL only)
    assert _ids(ledger, engine, "INSURANCE", role="ALL") == ["C1", "C2", "C3"]
    assert _ids(ledger, engine, "INSURANCE", role="PRIMARY") == []
    assert _ids(ledger, engine, "INSURANCE", role="SECONDARY") == ["C1", "C2"]
    assert _ids(ledger, engine, "INSURANCE", role="TERTIARY") == []
    roles = dict(ledger.balances().select("charge_id", "current_payer_role").rows())
    assert roles == {"C1": 2, "C2": 2, "C3": None}


# --- the patient not responsible -----------------------------------------------------------


def test_patient_not_responsible_from_the_coverages_in_effect_on_the_date_of_service(engine):
    ledger = build_ledger(
        payers=[_payer("P-MCR", "MEDICARE"), _payer("P-MCD", "MEDICAID", balance_bill="false"),
                _payer("P-COM", "COMMERCIAL")],
        patients=[{"patient_id": p} for p in ("MCD", "MCD-ENDED", "MCD-LATER", "QMB", "QMB-NO", "FLAG",
                                              "FLAG-YES", "FLAG-NULL", "PLAIN")],
        coverages=[
            # a Medicaid-type coverage (payer does not balance bill), even as a secondary
            _cov("MCD", "P-MCR", 1), _cov("MCD", "P-MCD", 2),
            _cov("MCD-ENDED", "P-MCR", 1), _cov("MCD-ENDED", "P-MCD", 2, "2025-01-01", "2026-02-28"),
            _cov("MCD-LATER", "P-MCR", 1), _cov("MCD-LATER", "P-MCD", 2, "2026-03-02"),
            # QMB on the Medicare coverage itself
            _cov("QMB", "P-MCR", 1, qmb="true"),
            _cov("QMB-NO", "P-MCR", 1, qmb="false"),
            # the insurance profile's flag: false = not responsible, null = responsible
            _cov("FLAG", "P-COM", 1, patient_responsible="false"),
            _cov("FLAG-YES", "P-COM", 1, patient_responsible="true"),
            _cov("FLAG-NULL", "P-COM", 1),
            _cov("PLAIN", "P-COM", 1),
        ],
        encounters=[_enc(f"E-{p}", p) for p in ("MCD", "MCD-ENDED", "MCD-LATER", "QMB", "QMB-NO", "FLAG",
                                                 "FLAG-YES", "FLAG-NULL", "PLAIN")]
        + [_enc("E-PLAIN-2", "PLAIN", "2026-04-01")],
        charges=[
            _charge("C01", "E-MCD", "100.00", "P-MCR"),
            _charge("C02", "E-MCD", "50.00", "P-MCR"),  # same encounter: not responsible too
            _charge("C03", "E-MCD-ENDED", "100.00", "P-MCR"),
            _charge("C04", "E-MCD-LATER", "100.00", "P-MCR"),
            _charge("C05", "E-QMB", "100.00", "P-MCR"),
            _charge("C06", "E-QMB-NO", "100.00", "P-MCR"),
            _charge("C07", "E-FLAG", "100.00", "P-COM"),
            _charge("C08", "E-FLAG-YES", "100.00", "P-COM"),
            _charge("C09", "E-FLAG-NULL", "100.00", "P-COM"),
            _charge("C10", "E-PLAIN", "100.00", "P-COM"),
            _charge("C11", "E-PLAIN-2", "9.00", None),  # self-pay
        ],
        transactions=[
            *_after_insurance("C01", "P-MCR", "80.00", "20.00"),
            *_after_insurance("C02", "P-MCR", "40.00", "10.00"),
            *_after_insurance("C03", "P-MCR", "80.00", "20.00"),
            *_after_insurance("C04", "P-MCR", "80.00", "20.00"),
            *_after_insurance("C05", "P-MCR", "80.00", "20.00"),
            *_after_insurance("C06", "P-MCR", "80.00", "20.00"),
            *_after_insurance("C07", "P-COM", "70.00", "30.00"),
            *_after_insurance("C08", "P-COM", "70.00", "30.00"),
            *_after_insurance("C09", "P-COM", "70.00", "30.00"),
            *_after_insurance("C10", "P-COM", "70.00", "30.00"),
        ],
    )
    nr, ai = "NOT_RESPONSIBLE", "AFTER_INSURANCE_PATIENT_RESPONSIBLE"
    assert _find(ledger, engine) == [
        ("C01", "P-MCR", "MEDICARE", nr, D("20.00")),
        ("C02", "P-MCR", "MEDICARE", nr, D("10.00")),
        ("C03", "P-MCR", "MEDICARE", ai, D("20.00")),
        ("C04", "P-MCR", "MEDICARE", ai, D("20.00")),
        ("C05", "P-MCR", "MEDICARE", nr, D("20.00")),
        ("C06", "P-MCR", "MEDICARE", ai, D("20.00")),
        ("C07", "P-COM", "COMMERCIAL", nr, D("30.00")),
        ("C08", "P-COM", "COMMERCIAL", ai, D("30.00")),
        ("C09", "P-COM", "COMMERCIAL", ai, D("30.00")),
        ("C10", "P-COM", "COMMERCIAL", ai, D("30.00")),
        ("C11", None, "SELF_PAY", "SELF_PAY", D("9.00")),
    ]
    assert _ids(ledger, engine, responsibility="NOT_RESPONSIBLE") == ["C01", "C02", "C05", "C07"]
    assert _ids(ledger, engine, responsibility="AFTER_INSURANCE_PATIENT_RESPONSIBLE") == [
        "C03", "C04", "C06", "C08", "C09", "C10"]
    assert _ids(ledger, engine, responsibility="AFTER_INSURANCE") == [
        "C01", "C02", "C03", "C04", "C05", "C06", "C07", "C08", "C09", "C10"]
    assert _ids(ledger, engine, responsibility="SELF_PAY") == ["C11"]


def test_patient_not_responsible_from_remark_codes_and_oa_209_on_that_charge_only(engine):
    marks: dict[str, dict[str, str]] = {
        "C01": {"remark_codes": "N781"},
        "C02": {"remark_codes": "MA01,N782"},
        "C03": {"remark_codes": "M15, N783 ,MA18"},
        "C04": {"group_code": "OA", "reason_code": "209"},
        # look-alikes that are not the QMB remarks or OA-209
        "C05": {"remark_codes": "N784"},
        "C06": {"remark_codes": "N7810,XN781"},
        "C07": {"remark_codes": "N78"},
        "C08": {"group_code": "CO", "reason_code": "209"},
        "C09": {"group_code": "OA", "reason_code": "23"},
        "C10": {},
    }
    charges = [_charge(cid, "E1", "100.00", "P-MCR") for cid in marks]
    transactions = [t for cid, remit in marks.items() for t in _after_insurance(cid, "P-MCR", "80.00", "20.00", **remit)]
    # E2: the remark is on C11 only; C12, another charge of the same encounter, stays responsible
    charges += [_charge("C11", "E2", "100.00", "P-MCR"), _charge("C12", "E2", "100.00", "P-MCR")]
    transactions += [*_after_insurance("C11", "P-MCR", "80.00", "20.00", remark_codes="N781"),
                     *_after_insurance("C12", "P-MCR", "80.00", "20.00")]
    # C13: the mark is on a later zero-amount row, not on the payment
    charges.append(_charge("C13", "E2", "100.00", "P-MCR"))
    transactions += [*_after_insurance("C13", "P-MCR", "80.00", "20.00"),
                     _tx("C13-Z", "C13", "2026-03-21", "INSURANCE_ADJUSTMENT", "INSURANCE", "0.00", "P-MCR",
                         group_code="OA", reason_code="209")]
    ledger = build_ledger(
        payers=[_payer("P-MCR", "MEDICARE")],
        patients=[{"patient_id": "X"}],
        coverages=[_cov("X", "P-MCR", 1)],
        encounters=[_enc("E1", "X"), _enc("E2", "X", "2026-03-05")],
        charges=charges,
        transactions=transactions,
    )
    assert _ids(ledger, engine, responsibility="NOT_RESPONSIBLE") == ["C01", "C02", "C03", "C04", "C11", "C13"]
    assert _ids(ledger, engine, responsibility="AFTER_INSURANCE_PATIENT_RESPONSIBLE") == [
        "C05", "C06", "C07", "C08", "C09", "C10", "C12"]
    assert {row[4] for row in _find(ledger, engine)} == {D("20.00")}


# --- the line's payer and its class --------------------------------------------------------


def test_line_financial_class_is_the_line_payers_class_else_self_pay(engine):
    ledger = build_ledger(
        payers=[_payer("P-COM", "COMMERCIAL"), _payer("P-SUP", "OTHER")],
        patients=[{"patient_id": "X"}],
        coverages=[_cov("X", "P-COM", 1), _cov("X", "P-SUP", 2)],
        encounters=[_enc("E1", "X")],
        charges=[
            _charge("C1", "E1", "100.00", "P-COM"),  # crossed over to P-SUP, which left 10.00 to the patient
            _charge("C2", "E1", "100.00", "P-COM"),  # crossed over to P-SUP, pending there
            _charge("C3", "E1", "12.00", None),  # self-pay
        ],
        transactions=[
            _tx("T1", "C1", "2026-03-10", "INSURANCE_PAYMENT", "INSURANCE", "-70.00", "P-COM"),
            _tx("T2", "C1", "2026-03-10", "TRANSFER", "INSURANCE", "-30.00", "P-COM"),
            _tx("T3", "C1", "2026-03-10", "TRANSFER", "INSURANCE", "30.00", "P-SUP"),
            _tx("T4", "C1", "2026-04-10", "INSURANCE_PAYMENT", "INSURANCE", "-20.00", "P-SUP"),
            _tx("T5", "C1", "2026-04-10", "TRANSFER", "INSURANCE", "-10.00", "P-SUP"),
            _tx("T6", "C1", "2026-04-10", "TRANSFER", "PATIENT", "10.00"),
            _tx("T7", "C2", "2026-03-10", "INSURANCE_PAYMENT", "INSURANCE", "-70.00", "P-COM"),
            _tx("T8", "C2", "2026-03-10", "TRANSFER", "INSURANCE", "-30.00", "P-COM"),
            _tx("T9", "C2", "2026-03-10", "TRANSFER", "INSURANCE", "30.00", "P-SUP"),
        ],
    )
    # PATIENT lines: the billed payer and its class (not the current payer's); none -> SELF_PAY
    assert _find(ledger, engine) == [
        ("C1", "P-COM", "COMMERCIAL", "AFTER_INSURANCE_PATIENT_RESPONSIBLE", D("10.00")),
        ("C3", None, "SELF_PAY", "SELF_PAY", D("12.00")),
    ]
    assert _ids(ledger, engine, financial_classes={"SELF_PAY"}) == ["C3"]
    assert _ids(ledger, engine, financial_classes={"OTHER"}) == []
    assert _ids(ledger, engine, financial_classes={"COMMERCIAL", "SELF_PAY"}) == ["C1", "C3"]
    # INSURANCE lines: the current payer and its class
    assert _find(ledger, engine, "INSURANCE") == [("C2", "P-SUP", "OTHER", "INSURANCE", D("30.00"))]
    assert _ids(ledger, engine, "INSURANCE", financial_classes={"COMMERCIAL"}) == []
    assert _ids(ledger, engine, "INSURANCE", financial_classes={"OTHER"}) == ["C2"]


# --- the last patient payment --------------------------------------------------------------


def test_min_days_since_patient_payment_keeps_a_payment_on_the_boundary_day(engine):
    # as_of 2026-11-01 less 90 days is 2026-08-03: a payment that day keeps the line, a day later blocks it
    assert dt.date(2026, 11, 1) - dt.timedelta(days=90) == dt.date(2026, 8, 3)

    def paid(tid: str, charge: str, date: str, amount: str = "-5.00") -> dict[str, Any]:
        return _tx(tid, charge, date, "PATIENT_PAYMENT", "PATIENT", amount)

    ledger = build_ledger(
        payers=[],
        patients=[{"patient_id": "X"}],
        encounters=[_enc("E1", "X", "2025-06-01")],
        charges=[_charge(f"C{i}", "E1", "50.00", None) for i in range(1, 8)],
        transactions=[
            paid("T1", "C1", "2026-08-03"),  # on the boundary day: kept
            paid("T2", "C2", "2026-08-04"),  # the day after: blocked
            # C3: never paid: kept
            paid("T4", "C4", "2026-11-05"),  # after as_of (the extract is a snapshot): blocked
            paid("T5a", "C5", "2026-01-01"), paid("T5b", "C5", "2026-08-04"),  # the latest counts: blocked
            paid("T6a", "C6", "2026-08-04"), paid("T6b", "C6", "2026-01-01"),  # in either order
            # C7: a later patient adjustment is not a payment: kept
            paid("T7a", "C7", "2026-08-01"),
            _tx("T7b", "C7", "2026-10-01", "PATIENT_ADJUSTMENT", "PATIENT", "-1.00"),
        ],
    )
    assert _find(ledger, engine, min_days_since_patient_payment=90) == [
        ("C1", None, "SELF_PAY", "SELF_PAY", D("45.00")),
        ("C3", None, "SELF_PAY", "SELF_PAY", D("50.00")),
        ("C7", None, "SELF_PAY", "SELF_PAY", D("44.00")),
    ]
    assert _ids(ledger, engine, min_days_since_patient_payment=91) == ["C3", "C7"]
    assert _ids(ledger, engine, min_days_since_patient_payment=89) == ["C1", "C2", "C3", "C5", "C6", "C7"]
    assert _ids(ledger, engine) == ["C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    last = dict(ledger.balances().select("charge_id", "last_patient_payment_date").rows())
    assert last == {"C1": dt.date(2026, 8, 3), "C2": dt.date(2026, 8, 4), "C3": None, "C4": dt.date(2026, 11, 5),
                    "C5": dt.date(2026, 8, 4), "C6": dt.date(2026, 8, 4), "C7": dt.date(2026, 8, 1)}


# --- deceased and financial hardship --------------------------------------------------------


def test_deceased_and_financial_hardship_come_from_the_patient(engine):
    patients = [
        {"patient_id": "DEAD", "deceased_date": "2026-09-01"},
        {"patient_id": "HARD", "financial_hardship": "true"},
        {"patient_id": "EASY", "financial_hardship": "false"},
        {"patient_id": "NULL"},  # hardship null = false
        {"patient_id": "G-DEAD", "guarantor_id": "DEAD"},  # a guarantor's death is not the patient's
    ]
    ids = [p["patient_id"] for p in patients]
    ledger = build_ledger(
        payers=[],
        patients=patients,
        encounters=[_enc(f"E-{p}", p) for p in ids],
        charges=[_charge(f"C-{p}", f"E-{p}", "25.00", None) for p in ids],
    )
    assert _ids(ledger, engine) == ["C-DEAD", "C-EASY", "C-G-DEAD", "C-HARD", "C-NULL"]
    assert _ids(ledger, engine, deceased=True) == ["C-DEAD"]
    assert _ids(ledger, engine, financial_hardship=True) == ["C-HARD"]
    assert _ids(ledger, engine, deceased=True, financial_hardship=True) == []


# --- committed write-offs -------------------------------------------------------------------


def test_committed_write_offs_are_netted_out_once(engine, tmp_path):
    """A write-off committed here lowers the balance; a later extract carrying its rows does not lower it again."""
    config = Config(users={"ana": frozenset(Permission)})
    criteria = criteria_from_preset("no-balance-billing", as_of="2026-06-01")
    ledger = build_ledger(**BATCH_TABLES)

    def remaining() -> dict[str, Decimal]:
        found = find_candidates(ledger, criteria, engine=engine)
        return dict(found.lines.select("charge_id", "balance").rows())

    assert remaining() == {"C1": D("40.00"), "C2": D("12.34"), "C3": D("25.50"), "C4": D("600.00")}
    batch = Batch.from_candidates(find_candidates(ledger, criteria, engine=engine), reason="NO_BALANCE_BILLING")
    receipt = commit_batch(ledger, batch.exclude_lines(["C2"]).with_amount("C4", "100.00"), user="ana",
                           receipts_dir=tmp_path, config=config)
    assert receipt.total == D("165.50")
    after = {"C2": D("12.34"), "C4": D("500.00")}
    assert remaining() == after
    # the same extract derived again: the store's write-off lines still count
    rederive(ledger)
    assert remaining() == after
    replace_snapshot(ledger, make_frames(**BATCH_TABLES), source="the same extract again")
    assert remaining() == after
    # a later extract that carries the receipt's rows: counted once, not twice
    carried = with_receipt_rows(make_frames(**BATCH_TABLES), receipt.csv_path)
    replace_snapshot(ledger, carried, source="a later extract")
    assert remaining() == after
    # ... and one that carries only the C4 row of it: C1 and C3 still come from the store
    only_c4 = {**carried, "transactions": carried["transactions"].filter(
        (carried["transactions"]["reference"] != receipt.receipt_no) | (carried["transactions"]["charge_id"] == "C4"))}
    replace_snapshot(ledger, only_c4, source="a partial extract")
    assert remaining() == after
    # a reversal gives the amounts back
    reverse_receipt(ledger, receipt.receipt_no, charge_ids=["C4"], reason="posted in error", user="ana",
                    receipts_dir=tmp_path, config=config)
    assert remaining() == {"C2": D("12.34"), "C4": D("600.00")}
