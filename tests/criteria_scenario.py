"""A hand-built ledger whose candidates are worked out by hand (tests/test_candidates.py).

As of 2026-11-01 (age in days in brackets); patient 0004567 is LEDGER_FORMAT.md's example.
- C1  0004567 E1: Medicare paid, 40.00 coinsurance to the patient, Medicaid secondary on the
      date of service -> not responsible; 40.00 (247). DR1, L1.
- C13 0004567 E1: Medicare paid in full, the patient paid 15.00 anyway -> credit -15.00 on the
      patient side of a not-responsible (Medicaid) patient: refund review, never a candidate.
- C2  P2 E2: Medicare paid 70.00, 10.00 to the patient and 20.00 crossed over to the secondary
      SUP, still pending (insurance 20.00): never a patient candidate; an INSURANCE line of a
      SECONDARY payer, class OTHER (214).
- C3  P3 E3: QMB on the Medicare coverage -> not responsible; 20.00 (139).
- C4  P4 E4: commercial; a Medicaid coverage that ENDED before the date of service; PR 25.00,
      patient paid 5.00 on 2026-09-15 -> 20.00, patient responsible (245). DR2, L2.
- C10 P4 E10: 80.00 insurance balance nobody worked, billed to COM, P4's primary (655).
- C5  P5 E5: self-pay 6.00 (518), procedure 80053.
- C6  P6 E6: self-pay 3.00 (488); P6's guarantor is P5.
- C7  P7 E7: self-pay 50.00, the patient paid 70.00 -> credit -20.00 (295).
- C11 P7 E7: billed COM, no coverage on file -> insurance 15.00, current payer without role.
- C14 P7 E7: billed COM, COM paid 110.00 on 100.00 -> insurance credit -10.00.
- C8  P8 E8: deceased, self-pay 50.00 (92).
- C9  P9 E9: financial hardship, commercial, 30.00 after insurance (185). DR2, L1.
- C12 P9 E9: commercial, 5.00 after insurance (185), procedure 80053. DR2, L1.
"""

from __future__ import annotations

from typing import Any

AS_OF = "2026-11-01"


def _tx(tid: str, charge: str, date: str, type_: str, bucket: str, amount: str,
        payer: str | None = None) -> dict[str, Any]:
    return {"transaction_id": tid, "charge_id": charge, "posted_date": date, "type": type_,
            "responsibility": bucket, "payer_id": payer, "amount": amount}


def _cov(patient: str, payer: str, priority: int, start: str, end: str | None = None,
         qmb: str | None = None) -> dict[str, Any]:
    return {"patient_id": patient, "payer_id": payer, "priority": str(priority),
            "effective_from": start, "effective_to": end, "qmb": qmb}


def _enc(eid: str, patient: str, dos: str, provider: str | None = None,
         location: str | None = None) -> dict[str, Any]:
    return {"encounter_id": eid, "patient_id": patient, "date_of_service": dos,
            "provider_id": provider, "location_id": location}


def _charge(cid: str, enc: str, amount: str, payer: str | None, code: str = "99213") -> dict[str, Any]:
    return {"charge_id": cid, "encounter_id": enc, "procedure_code": code, "charge_amount": amount,
            "billed_payer_id": payer, "posted_date": "2025-01-01"}


def _payer(pid: str, name: str, klass: str, balance_bill: str) -> dict[str, Any]:
    return {"payer_id": pid, "payer_name": name, "financial_class": klass,
            "balance_bill_patient": balance_bill}


SCENARIO: dict[str, list[dict[str, Any]]] = {
    "payers": [
        _payer("P-MCR", "Medicare", "MEDICARE", "true"),
        _payer("P-MCD", "Medicaid", "MEDICAID", "false"),
        _payer("P-COM", "Commercial", "COMMERCIAL", "true"),
        _payer("P-SUP", "Supplement", "OTHER", "true"),
    ],
    "patients": [
        {"patient_id": "0004567"},
        {"patient_id": "P2"},
        {"patient_id": "P3"},
        {"patient_id": "P4"},
        {"patient_id": "P5"},
        {"patient_id": "P6", "guarantor_id": "P5"},
        {"patient_id": "P7"},
        {"patient_id": "P8", "deceased_date": "2026-09-01"},
        {"patient_id": "P9", "financial_hardship": "true"},
    ],
    "coverages": [
        _cov("0004567", "P-MCR", 1, "2025-01-01"),
        _cov("0004567", "P-MCD", 2, "2025-01-01"),
        _cov("P2", "P-MCR", 1, "2025-01-01"),
        _cov("P2", "P-SUP", 2, "2025-01-01"),
        _cov("P3", "P-MCR", 1, "2025-01-01", qmb="true"),
        _cov("P4", "P-COM", 1, "2024-01-01"),
        _cov("P4", "P-MCD", 2, "2024-01-01", end="2026-02-28"),  # ended the day before E4
        _cov("P9", "P-COM", 1, "2025-01-01"),
    ],
    "encounters": [
        _enc("E1", "0004567", "2026-02-27", "DR1", "L1"),
        _enc("E2", "P2", "2026-04-01"),
        _enc("E3", "P3", "2026-06-15"),
        _enc("E4", "P4", "2026-03-01", "DR2", "L2"),
        _enc("E10", "P4", "2025-01-15"),
        _enc("E5", "P5", "2025-06-01"),
        _enc("E6", "P6", "2025-07-01"),
        _enc("E7", "P7", "2026-01-10"),
        _enc("E8", "P8", "2026-08-01"),
        _enc("E9", "P9", "2026-04-30", "DR2", "L1"),
    ],
    "charges": [
        _charge("C1", "E1", "200.00", "P-MCR"),
        _charge("C13", "E1", "100.00", "P-MCR"),
        _charge("C2", "E2", "100.00", "P-MCR"),
        _charge("C3", "E3", "100.00", "P-MCR"),
        _charge("C4", "E4", "150.00", "P-COM"),
        _charge("C10", "E10", "80.00", "P-COM"),
        _charge("C5", "E5", "6.00", None, code="80053"),
        _charge("C6", "E6", "3.00", None),
        _charge("C7", "E7", "50.00", None),
        _charge("C11", "E7", "15.00", "P-COM"),
        _charge("C14", "E7", "100.00", "P-COM"),
        _charge("C8", "E8", "50.00", None),
        _charge("C9", "E9", "130.00", "P-COM"),
        _charge("C12", "E9", "50.00", "P-COM", code="80053"),
    ],
    "transactions": [
        # C1: LEDGER_FORMAT.md's example
        _tx("T01", "C1", "2026-03-02", "INSURANCE_PAYMENT", "INSURANCE", "-120.00", "P-MCR"),
        _tx("T02", "C1", "2026-03-02", "INSURANCE_ADJUSTMENT", "INSURANCE", "-40.00", "P-MCR"),
        _tx("T03", "C1", "2026-03-02", "TRANSFER", "INSURANCE", "-40.00", "P-MCR"),
        _tx("T04", "C1", "2026-03-02", "TRANSFER", "PATIENT", "40.00"),
        # C13: paid in full, patient paid too
        _tx("T05", "C13", "2026-03-02", "INSURANCE_PAYMENT", "INSURANCE", "-100.00", "P-MCR"),
        _tx("T06", "C13", "2026-03-05", "PATIENT_PAYMENT", "PATIENT", "-15.00"),
        # C2: crossover to the secondary, pending
        _tx("T07", "C2", "2026-04-20", "INSURANCE_PAYMENT", "INSURANCE", "-70.00", "P-MCR"),
        _tx("T08", "C2", "2026-04-20", "TRANSFER", "INSURANCE", "-30.00", "P-MCR"),
        _tx("T09", "C2", "2026-04-20", "TRANSFER", "PATIENT", "10.00"),
        _tx("T10", "C2", "2026-04-20", "TRANSFER", "INSURANCE", "20.00", "P-SUP"),
        # C3: QMB
        _tx("T11", "C3", "2026-07-01", "INSURANCE_PAYMENT", "INSURANCE", "-80.00", "P-MCR"),
        _tx("T12", "C3", "2026-07-01", "TRANSFER", "INSURANCE", "-20.00", "P-MCR"),
        _tx("T13", "C3", "2026-07-01", "TRANSFER", "PATIENT", "20.00"),
        # C4: commercial, PR 25.00, patient paid 5.00
        _tx("T14", "C4", "2026-03-20", "INSURANCE_PAYMENT", "INSURANCE", "-100.00", "P-COM"),
        _tx("T15", "C4", "2026-03-20", "INSURANCE_ADJUSTMENT", "INSURANCE", "-25.00", "P-COM"),
        _tx("T16", "C4", "2026-03-20", "TRANSFER", "INSURANCE", "-25.00", "P-COM"),
        _tx("T17", "C4", "2026-03-20", "TRANSFER", "PATIENT", "25.00"),
        _tx("T18", "C4", "2026-09-15", "PATIENT_PAYMENT", "PATIENT", "-5.00"),
        # C7: self-pay overpaid
        _tx("T19", "C7", "2026-02-01", "PATIENT_PAYMENT", "PATIENT", "-70.00"),
        # C14: insurance overpaid
        _tx("T20", "C14", "2026-02-01", "INSURANCE_PAYMENT", "INSURANCE", "-110.00", "P-COM"),
        # C9: commercial, 30.00 to the patient
        _tx("T21", "C9", "2026-05-20", "INSURANCE_PAYMENT", "INSURANCE", "-100.00", "P-COM"),
        _tx("T22", "C9", "2026-05-20", "TRANSFER", "INSURANCE", "-30.00", "P-COM"),
        _tx("T23", "C9", "2026-05-20", "TRANSFER", "PATIENT", "30.00"),
        # C12: commercial, 5.00 to the patient
        _tx("T24", "C12", "2026-05-20", "INSURANCE_PAYMENT", "INSURANCE", "-45.00", "P-COM"),
        _tx("T25", "C12", "2026-05-20", "TRANSFER", "INSURANCE", "-5.00", "P-COM"),
        _tx("T26", "C12", "2026-05-20", "TRANSFER", "PATIENT", "5.00"),
    ],
}
