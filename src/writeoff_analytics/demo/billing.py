"""The demo practice's billing over three years: visits, charge lines and every posting.

Visits and their charge lines (E/M codes, labs, procedures), then every transaction of every
charge: the primary's adjudication, crossovers to the secondary (some never answered),
transfers to the patient, patient payments (full, partial, small remainders, overpayments),
refunds, prior write-offs and old balances nobody worked. Money is integer cents here;
nothing is a float. Draws use the caller's generator in a fixed order (see :mod:`.world`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from writeoff_analytics.demo.world import (
    ALLOWED_BP,
    K_AUT,
    K_COM,
    K_MA,
    K_MCD,
    K_MCR,
    K_TRI,
    K_WC,
    PAYER_KIND,
    between,
    pct,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    Arr = NDArray[Any]
    I64 = NDArray[np.int64]
    BoolA = NDArray[np.bool_]


# --- procedures ---------------------------------------------------------------------------
# evaluation and management codes (first line of a visit) and their charge in cents
EM_CODES = ("99212", "99213", "99214", "99215", "99203", "99204")
_EM_PRICE = np.array([9500, 14500, 21000, 29500, 19000, 28500], dtype=np.int64)
_EM_WEIGHT = np.array([0.12, 0.42, 0.30, 0.06, 0.06, 0.04])
# further lines: labs, tests, procedures (13 codes, a prime: distinct codes per visit)
ANC_CODES = (
    "36415",
    "80053",
    "85025",
    "93000",
    "80061",
    "83036",
    "90471",
    "90686",
    "71046",
    "97110",
    "20610",
    "81002",
    "87880",
)
_ANC_PRICE = np.array(
    [1800, 6200, 3800, 8500, 5500, 4500, 3000, 4800, 12000, 6800, 18000, 1500, 3200],
    dtype=np.int64,
)
_UNITS_CODE = 9  # 97110 (therapeutic exercise) is billed in 15-minute units

# --- transactions -------------------------------------------------------------------------
TYPES = (
    "INSURANCE_PAYMENT",
    "INSURANCE_ADJUSTMENT",
    "TRANSFER",
    "PATIENT_PAYMENT",
    "PATIENT_ADJUSTMENT",
    "REFUND",
)
_T_IPAY, _T_IADJ, _T_XFER, _T_PPAY, _T_PADJ, _T_REF = range(6)
_GROUPS = ("", "CO", "PR")
# reference kinds: how the reference text is built
R_NONE, R_EFT, R_XA, R_XB, R_PMT1, R_PMT2, R_RFD, R_PRIOR, R_IRFD = range(9)
# patient outcome of a balance left to the patient
_O_FULL, _O_PARTIAL, _O_SMALL, _O_OVER, _O_OVER_REFUND, _O_PRIOR, _O_UNPAID = range(7)
_OUTCOME_P = np.array([0.42, 0.12, 0.06, 0.025, 0.015, 0.05, 0.31])


def draw_encounters(
    rng: np.random.Generator, pat: dict[str, Arr], start: int, end: int
) -> dict[str, Arr]:
    """Draw every visit of every patient, numbered in date-of-service order."""
    n = pat["seg"].size
    visits = rng.geometric(pat["visit_p"])
    pidx = np.repeat(np.arange(n), visits)
    m = pidx.size
    dos = between(rng, start, end - 1, m)
    # encounter ids follow dates of service, as a PM system numbers visits
    order = np.lexsort((pidx, dos))
    pidx, dos = pidx[order], dos[order]
    return {
        "pidx": pidx,
        "dos": dos,
        "provider": between(rng, 1, 12, m),
        "location": rng.choice(3, m, p=[0.6, 0.3, 0.1]) + 1,
    }


def draw_charges(
    rng: np.random.Generator,
    pat: dict[str, Arr],
    cov: dict[str, Arr],
    enc: dict[str, Arr],
    end: int,
) -> dict[str, Arr]:
    """Draw the charge lines of every visit and the payer each was billed to first."""
    m = enc["dos"].size
    lines = rng.choice(4, m, p=[0.55, 0.25, 0.12, 0.08]) + 1
    eidx = np.repeat(np.arange(m), lines)
    k = eidx.size
    line_no = np.arange(k) - np.concatenate(([0], np.cumsum(lines)))[eidx]
    em = rng.choice(len(EM_CODES), m, p=_EM_WEIGHT)[eidx]
    anc = (between(rng, 0, 12, m)[eidx] + line_no * 5) % len(ANC_CODES)
    is_em = line_no == 0
    code = np.where(is_em, em, len(EM_CODES) + anc)
    units = np.where(~is_em & (anc == _UNITS_CODE), between(rng, 1, 4, k), 1)
    price = np.where(is_em, _EM_PRICE[em], _ANC_PRICE[anc])
    amount = price * units
    dos = enc["dos"][eidx]
    posted = np.minimum(dos + rng.choice(5, k, p=[0.3, 0.35, 0.2, 0.1, 0.05]), end - 1)
    # the payer billed first: the primary in effect on the date of service
    p = enc["pidx"][eidx]
    a_on = (
        (cov["prim"][p] >= 0)
        & (cov["a_from"][p] <= dos)
        & ((cov["a_to"][p] < 0) | (dos <= cov["a_to"][p]))
    )
    c_on = cov["has_c"][p] & (dos >= cov["c_from"][p])
    p1 = np.where(a_on, cov["prim"][p], np.where(c_on, cov["c_payer"][p], -1))
    p2 = np.where(a_on, cov["sec"][p], -1)
    return {
        "eidx": eidx,
        "pidx": p,
        "code": code,
        "units": units,
        "amount": amount,
        "posted": posted,
        "dos": dos,
        "is_em": is_em,
        "p1": p1,
        "p2": p2,
    }


def draw_transactions(
    rng: np.random.Generator,
    pat: dict[str, Arr],
    ch: dict[str, Arr],
    end: int,
) -> dict[str, Arr]:
    """Every posting of every charge, as parallel arrays sorted by (date, charge, step)."""
    k = ch["amount"].size
    amt, p1, p2, posted = ch["amount"], ch["p1"], ch["p2"], ch["posted"]
    insured = p1 >= 0
    kind1 = PAYER_KIND[np.maximum(p1, 0)]
    kind2 = PAYER_KIND[np.maximum(p2, 0)]
    has2 = p2 >= 0
    u = rng.random((12, k))
    # --- primary adjudication
    d1 = posted + between(rng, 14, 75, k)
    never1 = insured & (u[0] < 0.015)  # never answered: old insurance balance
    adj1 = insured & ~never1
    allowed = pct(amt, ALLOWED_BP[kind1] + between(rng, -600, 600, k))
    contractual = amt - allowed
    coins = pct(allowed, np.full(k, 2000))
    copay = np.minimum(rng.choice(np.array([2000, 2500, 3000, 4000]), k), allowed)
    small_copay = np.minimum(between(rng, 100, 400, k), allowed)
    deductible = pct(allowed, between(rng, 5000, 10000, k))
    em = ch["is_em"]
    r = u[1]
    pr, reason = _select(
        [
            ((kind1 == K_MCR) & (r < 0.10), deductible, 1),
            ((kind1 == K_MCR), coins, 2),
            ((kind1 == K_MA) & em, copay, 3),
            ((kind1 == K_MA) & (r < 0.3), coins, 2),
            ((kind1 == K_MCD) & (r < 0.10), small_copay, 3),
            ((kind1 == K_COM) & (r < 0.15), allowed, 1),
            ((kind1 == K_COM) & em, copay, 3),
            ((kind1 == K_COM) & (r < 0.55), coins, 2),
            ((kind1 == K_TRI) & em, np.minimum(copay, 1500), 3),
            ((kind1 == K_WC) & (r < 0.08), coins, 2),
            ((kind1 == K_AUT) & (r < 0.25), deductible, 1),
        ]
    )
    pr = np.where(adj1, pr, 0)
    paid1 = allowed - pr
    co45_1 = adj1 & (u[2] >= 0.012)  # else the contractual was never posted: old balance
    ins_over = adj1 & ~has2 & (u[3] < 0.012)
    ins_extra = np.where(ins_over, between(rng, 500, 5000, k), 0)
    paid1 = paid1 + ins_extra
    ins_refund = ins_over & (u[4] < 0.5)
    d_irfd = d1 + between(rng, 20, 90, k)
    # --- the patient share: crossed over to the secondary, or left to the patient
    xfer1 = adj1 & (pr > 0)
    cross = xfer1 & has2
    d2 = d1 + between(rng, 10, 45, k)
    never2 = cross & (u[5] < 0.06)  # crossover never answered: pending with the secondary
    adj2 = cross & ~never2
    medicaid2 = kind2 == K_MCD
    paid2 = np.where(
        medicaid2,
        pct(pr, between(rng, 0, 6000, k)),
        np.where(u[6] < 0.8, pr, pct(pr, between(rng, 3000, 9000, k))),
    )
    rest2 = pr - paid2
    # Medicaid adjusts what it does not pay; some billers moved it to the patient instead
    to_pt2 = adj2 & (rest2 > 0) & (~medicaid2 | (u[7] < 0.45))
    co45_2 = adj2 & (rest2 > 0) & ~to_pt2
    # --- the patient bucket
    self_pay = ~insured
    balance = np.where(self_pay, amt, np.where(cross, np.where(to_pt2, rest2, 0), pr))
    opened = np.where(self_pay, posted, np.where(cross, d2, d1))
    bucket_open = self_pay | (xfer1 & ~has2) | to_pt2
    outcome = rng.choice(len(_OUTCOME_P), k, p=_OUTCOME_P)
    flagged = (pat["deceased"][ch["pidx"]] >= 0) | (pat["hardship"][ch["pidx"]] == 1)
    outcome = np.where(flagged & (u[8] < 0.75), _O_UNPAID, outcome)
    live = bucket_open & (balance > 0)
    dp1 = opened + between(rng, 15, 150, k)
    dp2 = dp1 + between(rng, 20, 90, k)
    extra = between(rng, 500, 5000, k)
    remainder = between(rng, 100, 999, k)
    part = pct(balance, between(rng, 2000, 8000, k))
    pay1 = np.select(
        [
            outcome == _O_FULL,
            outcome == _O_PARTIAL,
            outcome == _O_SMALL,
            (outcome == _O_OVER) | (outcome == _O_OVER_REFUND),
        ],
        [balance, part, balance - remainder, balance + extra],
        0,
    )
    pay1 = np.where(live, pay1, 0)
    pay2 = np.where(
        live & (outcome == _O_PARTIAL) & (u[9] < 0.5),
        pct(balance - part, between(rng, 3000, 7000, k)),
        0,
    )
    refund = live & (outcome == _O_OVER_REFUND)
    d_rfd = dp1 + between(rng, 10, 60, k)
    prior = live & (outcome == _O_PRIOR)
    d_prior = opened + between(rng, 120, 400, k)

    none = np.full(k, -1, dtype=np.int64)
    zero = np.zeros(k, dtype=np.int64)
    ins, pt = 0, 1
    # step, mask, date, type, bucket, payer, amount, group, reason, reference kind
    slots = (
        (0, adj1 & (paid1 > 0), d1, _T_IPAY, ins, p1, -paid1, 0, zero, R_EFT),
        (1, co45_1 & (contractual > 0), d1, _T_IADJ, ins, p1, -contractual, 1, zero + 45, R_EFT),
        (2, xfer1, d1, _T_XFER, ins, p1, -pr, 2, reason, R_XA),
        (3, xfer1 & has2, d1, _T_XFER, ins, p2, pr, 2, reason, R_XA),
        (3, xfer1 & ~has2, d1, _T_XFER, pt, none, pr, 2, reason, R_XA),
        (4, ins_refund, d_irfd, _T_REF, ins, p1, ins_extra, 0, zero, R_IRFD),
        (5, adj2 & (paid2 > 0), d2, _T_IPAY, ins, p2, -paid2, 0, zero, R_EFT),
        (6, co45_2, d2, _T_IADJ, ins, p2, -rest2, 1, zero + 45, R_EFT),
        (7, to_pt2, d2, _T_XFER, ins, p2, -rest2, 2, zero + 2, R_XB),
        (8, to_pt2, d2, _T_XFER, pt, none, rest2, 2, zero + 2, R_XB),
        (9, pay1 > 0, dp1, _T_PPAY, pt, none, -pay1, 0, zero, R_PMT1),
        (10, pay2 > 0, dp2, _T_PPAY, pt, none, -pay2, 0, zero, R_PMT2),
        (11, refund, d_rfd, _T_REF, pt, none, extra, 0, zero, R_RFD),
        (12, prior, d_prior, _T_PADJ, pt, none, -balance, 0, zero, R_PRIOR),
    )
    parts: dict[str, list[Arr]] = {
        c: []
        for c in (
            "charge",
            "date",
            "step",
            "type",
            "bucket",
            "payer",
            "amount",
            "group",
            "reason",
            "ref",
        )
    }
    for step, mask, date, ttype, bucket, payer, amount, group, rsn, ref in slots:
        idx = np.flatnonzero(mask & (date < end))
        # small dtypes: at 10 million rows every byte per row is 10 MB
        parts["charge"].append(idx)
        parts["date"].append(date[idx].astype(np.int32))
        parts["step"].append(np.full(idx.size, step, dtype=np.int8))
        parts["type"].append(np.full(idx.size, ttype, dtype=np.int8))
        parts["bucket"].append(np.full(idx.size, bucket, dtype=np.int8))
        parts["payer"].append(payer[idx].astype(np.int8))
        parts["amount"].append(amount[idx])
        parts["group"].append(np.full(idx.size, group, dtype=np.int8))
        parts["reason"].append(rsn[idx].astype(np.int8))
        parts["ref"].append(np.full(idx.size, ref, dtype=np.int8))
    cols = {c: np.concatenate(v) for c, v in parts.items()}
    order = np.lexsort((cols["step"], cols["charge"], cols["date"]))
    return {c: v[order] for c, v in cols.items()}


def _select(rules: Sequence[tuple[BoolA, I64, int]]) -> tuple[I64, I64]:
    """Per row, the value and reason code of the first rule whose condition holds (else 0, 0)."""
    conds = [c for c, _v, _r in rules]
    values = [v for _c, v, _r in rules]
    reasons = [np.full(v.shape, r, dtype=np.int64) for _c, v, r in rules]
    return np.select(conds, values, 0), np.select(conds, reasons, 0)
