"""The demo's people and their insurance: payers, patient segments, households, coverage.

Everything is drawn as parallel NumPy arrays, one entry per patient, with the caller's
random generator: the order of the draws is part of the demo's bytes, so a function here
draws exactly what it always drew. :mod:`.billing` bills these patients; :mod:`.tables`
turns both into the extract's tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Arr = NDArray[Any]
    I64 = NDArray[np.int64]


# --- payers -------------------------------------------------------------------------------
# (payer_id, payer_name, financial_class, balance_bill_patient)
PAYERS: tuple[tuple[str, str, str, bool], ...] = (
    ("MCR01", "Medicare Part B", "MEDICARE", True),
    ("MA01", "Humana Gold Plus HMO (Medicare Advantage)", "MEDICARE_ADVANTAGE", True),
    ("MA02", "AARP Medicare Advantage Choice PPO", "MEDICARE_ADVANTAGE", True),
    ("MCD01", "State Medicaid", "MEDICAID", False),
    ("MMC01", "CareSource Medicaid Managed Care", "MEDICAID_MANAGED_CARE", False),
    ("MMC02", "Molina Healthcare Medicaid", "MEDICAID_MANAGED_CARE", False),
    ("COM01", "Blue Cross Blue Shield PPO", "COMMERCIAL", True),
    ("COM02", "Aetna Choice POS II", "COMMERCIAL", True),
    ("COM03", "Cigna Open Access Plus", "COMMERCIAL", True),
    ("COM04", "UnitedHealthcare Choice Plus", "COMMERCIAL", True),
    ("TRI01", "TRICARE East", "TRICARE", True),
    ("WC01", "State Workers' Compensation Fund", "WORKERS_COMP", True),
    ("AUT01", "Progressive Auto PIP", "AUTO", True),
    ("SUP01", "Medicare Supplement Plan G", "OTHER", True),
    ("SUP02", "Mutual of Omaha Medicare Supplement", "OTHER", True),
)
_MCR, _MA1, _MA2, _MCD, _MMC1, _MMC2 = 0, 1, 2, 3, 4, 5
_COM = (6, 7, 8, 9)
_TRI, _WC, _AUT, _SUP1, _SUP2 = 10, 11, 12, 13, 14
# class codes of the payers, for pricing and patient-share rules
K_MCR, K_MA, K_MCD, K_COM, K_TRI, K_WC, K_AUT, K_OTH = range(8)
PAYER_KIND = np.array([0, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 5, 6, 7, 7], dtype=np.int64)
#: allowed amount as basis points of the charge, by payer kind (before noise)
ALLOWED_BP = np.array([5200, 5800, 4300, 7000, 5400, 8500, 9000, 6000], dtype=np.int64)
#: the plan a patient moves to when a coverage ends mid-history (Medicare -> Medicare
#: Advantage, one Medicaid plan to another, TRICARE -> commercial)
_NEXT_PLAN = np.array([_MA1, _MA2, _MCR, _MMC1, _MMC2, _MCD, 7, 8, 9, 6, 6, -1, -1, -1, -1])

# --- patient segments ---------------------------------------------------------------------
# name, share, primary payer choices (none = self-pay), secondary choices, elderly, family
_SEGMENTS: tuple[tuple[str, float, tuple[int, ...], tuple[int, ...], bool, bool], ...] = (
    ("self_pay", 0.07, (), (), False, True),
    ("commercial", 0.38, _COM, (), False, True),
    ("commercial_2", 0.03, _COM, _COM, False, True),
    ("medicare", 0.10, (_MCR,), (), True, False),
    ("medicare_supplement", 0.08, (_MCR,), (_SUP1, _SUP2), True, False),
    ("dual_eligible", 0.05, (_MCR,), (_MCD, _MCD, _MMC1, _MMC2), True, False),
    ("qmb", 0.02, (_MCR,), (_MCD,), True, False),
    ("medicare_advantage", 0.08, (_MA1, _MA2), (), True, False),
    ("medicaid", 0.05, (_MCD,), (), False, True),
    ("medicaid_managed", 0.06, (_MMC1, _MMC2), (), False, True),
    ("tricare", 0.03, (_TRI,), (), False, True),
    ("workers_comp", 0.015, (_WC,), (), False, False),
    ("auto", 0.01, (_AUT,), (), False, False),
    ("aging_in", 0.025, _COM, (), True, False),
)
_SEG_SELF, _SEG_QMB, _SEG_WC, _SEG_AUTO, _SEG_AGEIN = 0, 6, 11, 12, 13

# --- drawing ------------------------------------------------------------------------------


def between(rng: np.random.Generator, lo: int, hi: int, n: int) -> I64:
    """``n`` integers uniform on ``lo..hi`` inclusive."""
    return rng.integers(lo, hi + 1, n, dtype=np.int64)


def pct(values: I64, bp: I64) -> I64:
    """``values * bp / 10000`` in integer cents, rounded down (never float)."""
    return (values * bp) // 10000


def draw_patients(rng: np.random.Generator, n: int, start: int, end: int) -> dict[str, Arr]:
    """Draw ``n`` patients: households, segment, guarantor, birth date, id and flags."""
    # Households: a segment is drawn per household; families (size 2-4) share the head's
    # segment and have the head as guarantor. Elderly and injury segments live alone.
    shares = np.array([s[1] for s in _SEGMENTS])
    hh_seg = rng.choice(len(_SEGMENTS), n, p=shares / shares.sum())
    family_ok = np.array([s[5] for s in _SEGMENTS])[hh_seg]
    size = rng.choice(4, n, p=[0.62, 0.18, 0.13, 0.07]) + 1
    size = np.where(family_ok, size, 1)
    hh_of = np.repeat(np.arange(n), size)[:n]
    first_of_hh = np.concatenate(([0], np.cumsum(size)))[hh_of]
    rank = np.arange(n) - first_of_hh  # 0 = head of household
    seg = hh_seg[hh_of]
    elderly = np.array([s[4] for s in _SEGMENTS])[seg]
    has_family = size[hh_of] > 1
    guarantor = np.where(has_family & (rank > 0), first_of_hh, -1)
    # ages in years at the end date: elderly 65-94 (aging-in 65-67), heads 22-64,
    # dependants 4-24 (old enough to have had every visit of the history)
    age_y = np.where(
        elderly,
        between(rng, 65, 94, n),
        np.where(rank > 0, between(rng, 4, 24, n), between(rng, 22, 64, n)),
    )
    age_y = np.where(seg == _SEG_AGEIN, between(rng, 65, 67, n), age_y)
    dob = end - age_y * 365 - between(rng, 0, 364, n)
    # patient ids: increasing with random gaps, 7+ digits with leading zeros
    ids = 1000 + np.cumsum(between(rng, 1, 7, n))
    hardship = rng.random(n)
    return {
        "seg": seg,
        "hh": hh_of,
        "guarantor": guarantor,
        "dob": dob,
        "ids": ids,
        "hardship": np.where(hardship < 0.03, 1, np.where(hardship < 0.15, 0, -1)),
        "visit_p": np.where(elderly, 1 / 3.8, 1 / 2.5),
        "deceased": np.full(n, -1, dtype=np.int64),
    }


def draw_coverages(
    rng: np.random.Generator, pat: dict[str, Arr], start: int, end: int
) -> dict[str, Arr]:
    """Draw each patient's coverage: an A row, maybe B and C rows.

    A is the primary, B a secondary with A's dates, C a new primary from the day after A
    ends (aging into Medicare, a plan change).
    """
    seg = pat["seg"]
    n = seg.size
    # primary and secondary payer of each segment, drawn per household so families match
    prim = np.full(n, -1, dtype=np.int64)
    sec = np.full(n, -1, dtype=np.int64)
    u_p = rng.random(n)
    u_s = rng.random(n)
    hh = pat["hh"]
    for k, (_name, _share, prims, secs, _eld, _fam) in enumerate(_SEGMENTS):
        mask = seg == k
        if prims:
            prim[mask] = np.array(prims)[(u_p[hh][mask] * len(prims)).astype(np.int64)]
        if secs:
            sec[mask] = np.array(secs)[(u_s[hh][mask] * len(secs)).astype(np.int64)]
    # half of QMB patients have no Medicaid secondary (QMB only)
    sec = np.where((seg == _SEG_QMB) & (u_s < 0.5), -1, sec)
    # a commercial secondary is never the primary's own plan
    sec = np.where((sec >= 0) & (sec == prim), _COM[0] + (sec - _COM[0] + 1) % 4, sec)
    change = rng.choice(4, n, p=[0.84, 0.07, 0.05, 0.04])  # none, starts late, ends, switches
    a_from = start - between(rng, 30, 3000, n)
    a_to = np.full(n, -1, dtype=np.int64)
    late = change == 1
    a_from = np.where(late, start + between(rng, 60, 700, n), a_from)
    ends = np.isin(change, (2, 3)) | (seg == _SEG_AGEIN)
    a_to = np.where(ends, start + between(rng, 150, 900, n), a_to)
    injury = np.isin(seg, (_SEG_WC, _SEG_AUTO))
    inj_from = start + between(rng, 0, 850, n)
    a_from = np.where(injury, inj_from, a_from)
    a_to = np.where(injury, inj_from + between(rng, 120, 360, n), a_to)
    a_to = np.where(a_to >= end, -1, a_to)
    # C row: aging into Medicare, or another plan of the same kind
    c_payer = np.where(
        seg == _SEG_AGEIN,
        _MCR,
        np.where(
            np.isin(prim, _COM),
            _COM[0] + (prim - _COM[0] + 1 + (u_s * 3).astype(np.int64)) % 4,
            _NEXT_PLAN[np.maximum(prim, 0)],
        ),
    )
    has_c = (a_to >= 0) & ((change == 3) | (seg == _SEG_AGEIN)) & ~injury & (prim >= 0)
    qmb = seg == _SEG_QMB
    # the profile flag "patient not responsible": every workers' comp policy, a few others
    not_resp = (seg == _SEG_WC) | (rng.random(n) < 0.004)
    return {
        "prim": prim,
        "sec": sec,
        "a_from": a_from,
        "a_to": a_to,
        "has_c": has_c,
        "c_payer": np.where(has_c, c_payer, -1),
        "c_from": a_to + 1,
        "qmb": qmb,
        "not_resp": not_resp & (prim >= 0),
    }


def mark_deaths(
    rng: np.random.Generator, pat: dict[str, Arr], enc: dict[str, Arr], end: int
) -> None:
    """Mark some patients deceased a while after their last visit."""
    n = pat["seg"].size
    elderly = np.array([s[4] for s in _SEGMENTS])[pat["seg"]]
    dies = rng.random(n) < np.where(elderly, 0.06, 0.006)
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, enc["pidx"], enc["dos"])
    when = np.minimum(last + between(rng, 3, 240, n), end - 1)
    pat["deceased"] = np.where(dies & (last >= 0), when, -1)
