"""A hand-built ledger whose candidates are worked out by hand (tests/test_candidates.py).

As of 2026-11-01 (ages in days):
- C1  P1 0004567: LEDGER_FORMAT.md's example; Medicaid secondary -> not responsible; 40.00 (247)
- C2  P2: Medicare paid, 10.00 to the patient and 10.00 crossed over to the secondary SUP,
      still pending (insurance 10.00): never a patient candidate (214)
- C3  P3: QMB on the Medicare coverage -> not responsible; 20.00 (139)
- C4  P4: commercial; a Medicaid coverage that ENDED before the date of service; PR 25.00,
      patient paid 5.00 on 2026-09-15 -> 20.00 after insurance, patient responsible (245)
- C5  P5 self-pay 6.00 (518); C6 P6 self-pay 3.00 (488), P6's guarantor is P5
- C7  P7: a credit of -20.00 on the patient side (never a candidate)
- C8  P8 deceased, self-pay 50.00 (92)
- C9  P9 financial hardship, commercial, 30.00 after insurance (184)
- C10 P4: 80.00 insurance balance nobody worked, billed to COM (primary) (655)
"""

from __future__ import annotations

AS_OF = "2026-11-01"


def _tx(tid, charge, date, type_, bucket, amount, payer=None, group=None, reason=None, ref=None):
    return {
        "transaction_id": tid, "charge_id": charge, "posted_date": date, "type": type_,
        "responsibility": bucket, "payer_id": payer, "amount": amount, "group_code": group,
        "reason_code": reason, "reference": ref,
    }


def _cov(patient, payer, priority, start, end=None, qmb=None):
    return {"patient_id": patient, "payer_id": payer, "priority": priority, "effective_from": start,
            "effective_to": end, "qmb": qmb}


def _charge(cid, enc, amount, payer, dos, code="99213"):
    return {"charge_id": cid, "encounter_id": enc, "procedure_code": code, "charge_amount": amount,
            "billed_payer_id": payer, "posted_date": dos}


SCENARIO = {
    "payers": [
        {"payer_id": "MCR", "payer_name": "Medicare", "financial_class": "MEDICARE", "balance_bill_patient": "true"},
        {"payer_id": "MCD", "payer_name": "Medicaid", "financial_class": "MEDICAID", "balance_bill_patient": "false"},
        {"payer_id": "COM", "payer_name": "Commercial", "financial_class": "COMMERCIAL", "balance_bill_patient": "true"},
        {"payer_id": "SUP", "payer_name": "Supplement", "financial_class": "OTHER", "balance_bill_patient": "true"},
    ],
    "patients": [
        {"patient_id": "0004567"}, {"patient_id": "P2"}, {"patient_id": "P3"}, {"patient_id": "P4"},
        {"patient_id": "P5"}, {"patient_id": "P6", "guarantor_id": "P5"}, {"patient_id": "P7"},
        {"patient_id": "P8", "deceased_date": "2026-09-01"},
        {"patient_id": "P9", "financial_hardship": "true"},
    ],
    "coverages": [
        _cov("0004567", "MCR", "1", "2025-01-01"), _cov("0004567", "MCD", "2", "2025-01-01"),
        _cov("P2", "MCR", "1", "2025-01-01"), _cov("P2", "SUP", "2", "2025-01-01"),
        _cov("P3", "MCR", "1", "2025-01-01", qmb="true"),
        _cov("P4", "COM", "1", "2024-01-01"), _cov("P4", "MCD", "2", "2024-01-01", "2025-12-31"),
        _cov("P7", "COM", "1", "2024-01-01"), _cov("P9", "COM", "1", "2024-01-01"),
    ],
    "encounters": [
        {"encounter_id": "E1", "patient_id": "0004567", "date_of_service": "2026-02-27", "provider_id": "PRV1", "location_id": "L1"},
        {"encounter_id": "E2", "patient_id": "P2", "date_of_service": "2026-04-01", "provider_id": "PRV1", "location_id": "L1"},
        {"encounter_id": "E3", "patient_id": "P3", "date_of_service": "2026-06-15", "provider_id": "PRV1", "location_id": "L1"},
        {"encounter_id": "E4", "patient_id": "P4", "date_of_service": "2026-03-01", "provider_id": "PRV1", "location_id": "L1"},
        {"encounter_id": "E5", "patient_id": "P5", "date_of_service": "2025-06-01", "provider_id": "PRV1", "location_id": "L2"},
        {"encounter_id": "E6", "patient_id": "P6", "date_of_service": "2025-07-01", "provider_id": "PRV1", "location_id": "L1"},
        {"encounter_id": "E7", "patient_id": "P7", "date_of_service": "2026-01-10", "provider_id": "PRV1", "location_id": "L1"},
        {"encounter_id": "E8", "patient_id": "P8", "date_of_service": "2026-08-01", "provider_id": "PRV1", "location_id": "L1"},
        {"encounter_id": "E9", "patient_id": "P9", "date_of_service": "2026-05-01", "provider_id": "PRV2", "location_id": "L1"},
        {"encounter_id": "E10", "patient_id": "P4", "date_of_service": "2025-01-15", "provider_id": "PRV1", "location_id": "L1"},
    ],
    "charges": [
        _charge("C1", "E1", "200.00", "MCR", "2026-02-27"),
        _charge("C2", "E2", "100.00", "MCR", "2026-04-01"),
        _charge("C3", "E3", "100.00", "MCR", "2026-06-15"),
        _charge("C4", "E4", "150.00", "COM", "2026-03-01"),
        _charge("C5", "E5", "6.00", None, "2025-06-01"),
        _charge("C6", "E6", "3.00", None, "2025-07-01"),
        _charge("C7", "E7", "100.00", "COM", "2026-01-10"),
        _charge("C8", "E8", "50.00", None, "2026-08-01"),
        _charge("C9", "E9", "130.00", "COM", "2026-05-01", code="99214"),
        _charge("C10", "E10", "80.00", "COM", "2025-01-15", code="80053"),
    ],
    "transactions": [
        _tx("T1", "C1", "2026-03-02", "INSURANCE_PAYMENT", "INSURANCE", "-120.00", "MCR", ref="EFT881"),
        _tx("T2", "C1", "2026-03-02", "INSURANCE_ADJUSTMENT", "INSURANCE", "-40.00", "MCR", "CO", "45", "EFT881"),
        _tx("T3", "C1", "2026-03-02", "TRANSFER", "INSURANCE", "-40.00", "MCR", "PR", "2", "X1"),
        _tx("T4", "C1", "2026-03-02", "TRANSFER", "PATIENT", "40.00", None, "PR", "2", "X1"),
        _tx("T20", "C2", "2026-04-20", "INSURANCE_PAYMENT", "INSURANCE", "-60.00", "MCR", ref="EFT2"),
        _tx("T21", "C2", "2026-04-20", "INSURANCE_ADJUSTMENT", "INSURANCE", "-20.00", "MCR", "CO", "45", "EFT2"),
        _tx("T22", "C2", "2026-04-20", "TRANSFER", "INSURANCE", "-10.00", "MCR", "PR", "2", "X2"),
        _tx("T23", "C2", "2026-04-20", "TRANSFER", "PATIENT", "10.00", None, "PR", "2", "X2"),
        _tx("T24", "C2", "2026-04-21", "TRANSFER", "INSURANCE", "-10.00", "MCR", ref="X3"),
        _tx("T25", "C2", "2026-04-21", "TRANSFER", "INSURANCE", "10.00", "SUP", ref="X3"),
        _tx("T30", "C3", "2026-07-01", "INSURANCE_PAYMENT", "INSURANCE", "-80.00", "MCR", ref="EFT3"),
        _tx("T31", "C3", "2026-07-01", "TRANSFER", "INSURANCE", "-20.00", "MCR", "PR", "2", "X4"),
        _tx("T32", "C3", "2026-07-01", "TRANSFER", "PATIENT", "20.00", None, "PR", "2", "X4"),
        _tx("T40", "C4", "2026-03-20", "INSURANCE_PAYMENT", "INSURANCE", "-100.00", "COM", ref="EFT4"),
        _tx("T41", "C4", "2026-03-20", "INSURANCE_ADJUSTMENT", "INSURANCE", "-25.00", "COM", "CO", "45", "EFT4"),
        _tx("T42", "C4", "2026-03-20", "TRANSFER", "INSURANCE", "-25.00", "COM", "PR", "1", "X5"),
        _tx("T43", "C4", "2026-03-20", "TRANSFER", "PATIENT", "25.00", None, "PR", "1", "X5"),
        _tx("T44", "C4", "2026-09-15", "PATIENT_PAYMENT", "PATIENT", "-5.00", ref="CHK44"),
        _tx("T70", "C7", "2026-02-01", "INSURANCE_PAYMENT", "INSURANCE", "-100.00", "COM", ref="EFT7"),
        _tx("T71", "C7", "2026-01-10", "PATIENT_PAYMENT", "PATIENT", "-20.00", ref="CASH71"),
        _tx("T90", "C9", "2026-05-20", "INSURANCE_PAYMENT", "INSURANCE", "-90.00", "COM", ref="EFT9"),
        _tx("T91", "C9", "2026-05-20", "INSURANCE_ADJUSTMENT", "INSURANCE", "-10.00", "COM", "CO", "45", "EFT9"),
        _tx("T92", "C9", "2026-05-20", "TRANSFER", "INSURANCE", "-30.00", "COM", "PR", "2", "X9"),
        _tx("T93", "C9", "2026-05-20", "TRANSFER", "PATIENT", "30.00", None, "PR", "2", "X9"),
    ],
}
