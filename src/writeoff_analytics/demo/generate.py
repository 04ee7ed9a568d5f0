"""A seeded generator of realistic, synthetic ledger extracts (LEDGER_FORMAT.md, version 1).

The demo ledger looks like a small medical practice over the three years before
``end_date``: a real payer mix (Medicare, Medicare Advantage, Medicaid and Medicaid managed
care that do not balance bill, commercial, TRICARE, workers' comp, auto, self-pay),
families under one guarantor, dual-eligible and QMB patients, coverage that starts or ends
mid-history, crossovers to secondary payers (some still pending), partial and full patient
payments, refunds, credit balances, prior write-offs, deceased and hardship patients, and
old insurance balances nobody worked. Every preset of CRITERIA.md finds candidates in it.

Everything is drawn with one :class:`numpy.random.Generator` in a fixed order and built
column-wise (NumPy + Polars, no per-row Python), so the same arguments give byte-identical
files and 10 million transactions take minutes, not hours. Money is integer cents until
it is written as text with exactly two decimals (or cast from that text to
``Decimal(18, 2)`` for Parquet): no float ever touches an amount. Names and birth dates are
made up from syllables; nothing here describes a real person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl

from writeoff_analytics._atomic import atomic_write
from writeoff_analytics.errors import DemoError
from writeoff_analytics.ledger.schema import TABLES_BY_NAME, ColumnType
from writeoff_analytics.ledger.snapshot import conform

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator, Mapping, Sequence

    from numpy.typing import NDArray

    Arr = NDArray[Any]
    I64 = NDArray[np.int64]
    BoolA = NDArray[np.bool_]

Format = Literal["csv", "parquet"]
#: Rows of the transactions table built (and written) at a time.
CHUNK_ROWS = 1_000_000
FORMATS: tuple[str, ...] = ("csv", "parquet")
DEFAULT_END_DATE = dt.date(2026, 11, 1)
#: Days of history before ``end_date`` (three years).
HISTORY_DAYS = 1096
#: Transactions per patient the default mix produces (measured), for ``transactions=N``.
TRANSACTIONS_PER_PATIENT = 17.0

_EPOCH = dt.date(1970, 1, 1)

# --- payers -------------------------------------------------------------------------------
# (payer_id, payer_name, financial_class, balance_bill_patient)
_PAYERS: tuple[tuple[str, str, str, bool], ...] = (
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
_K_MCR, _K_MA, _K_MCD, _K_COM, _K_TRI, _K_WC, _K_AUT, _K_OTH = range(8)
_PAYER_KIND = np.array([0, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 5, 6, 7, 7], dtype=np.int64)
#: allowed amount as basis points of the charge, by payer kind (before noise)
_ALLOWED_BP = np.array([5200, 5800, 4300, 7000, 5400, 8500, 9000, 6000], dtype=np.int64)
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

# --- procedures ---------------------------------------------------------------------------
# evaluation and management codes (first line of a visit) and their charge in cents
_EM_CODES = ("99212", "99213", "99214", "99215", "99203", "99204")
_EM_PRICE = np.array([9500, 14500, 21000, 29500, 19000, 28500], dtype=np.int64)
_EM_WEIGHT = np.array([0.12, 0.42, 0.30, 0.06, 0.06, 0.04])
# further lines: labs, tests, procedures (13 codes, a prime: distinct codes per visit)
_ANC_CODES = (
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
_TYPES = (
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
_R_NONE, _R_EFT, _R_XA, _R_XB, _R_PMT1, _R_PMT2, _R_RFD, _R_PRIOR, _R_IRFD = range(9)
# patient outcome of a balance left to the patient
_O_FULL, _O_PARTIAL, _O_SMALL, _O_OVER, _O_OVER_REFUND, _O_PRIOR, _O_UNPAID = range(7)
_OUTCOME_P = np.array([0.42, 0.12, 0.06, 0.025, 0.015, 0.05, 0.31])

_FIRST_SYL = (
    "Al",
    "Be",
    "Ca",
    "Da",
    "El",
    "Fa",
    "Ga",
    "Ha",
    "Il",
    "Jo",
    "Ka",
    "Le",
    "Ma",
    "No",
    "Ol",
    "Pe",
    "Ra",
    "Sa",
    "Te",
    "Va",
    "Wi",
    "Yo",
    "Za",
    "Mi",
    "Lu",
    "Ro",
    "Ni",
    "Co",
)
_NEXT_SYL = (
    "an",
    "ber",
    "cy",
    "da",
    "el",
    "fin",
    "go",
    "han",
    "ia",
    "jen",
    "kin",
    "la",
    "mon",
    "na",
    "ro",
    "sa",
    "ton",
    "vi",
    "wen",
    "ly",
    "ra",
    "son",
    "der",
    "mi",
    "ne",
    "tt",
)
_FIRST_END = ("a", "o", "y", "ie", "en", "el", "is", "on", "ah", "er")


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`generate_demo` wrote.

    Attributes
    ----------
    out_dir
        The extract folder.
    fmt
        ``"csv"`` or ``"parquet"``.
    seed, end_date
        The arguments it was made with.
    row_counts
        Rows per table, in the contract's table order.
    total_charge_amount
        Sum of ``charges.charge_amount``.
    total_transaction_amount
        Sum of ``transactions.amount`` (signed).
    files
        The files written, in table order.
    """

    out_dir: Path
    fmt: str
    seed: int
    end_date: dt.date
    row_counts: Mapping[str, int]
    total_charge_amount: Decimal
    total_transaction_amount: Decimal
    files: tuple[Path, ...]

    @property
    def patients(self) -> int:
        """Number of patients."""
        return self.row_counts["patients"]

    @property
    def transactions(self) -> int:
        """Number of transactions."""
        return self.row_counts["transactions"]


def patients_for_transactions(transactions: int) -> int:
    """Return the patient count whose demo lands near ``transactions`` transactions."""
    return max(1, round(transactions / TRANSACTIONS_PER_PATIENT))


def generate_demo(
    out_dir: str | os.PathLike[str],
    *,
    patients: int = 2000,
    seed: int = 7,
    end_date: dt.date = DEFAULT_END_DATE,
    fmt: Format | str = "csv",
    transactions: int | None = None,
) -> DemoSummary:
    """Write a synthetic, realistic ledger extract into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write the six tables into (created if missing; files replaced atomically).
    patients
        Number of patients (ignored when ``transactions`` is given).
    seed
        Seed of the random generator; the same arguments give byte-identical files.
    end_date
        Date of the extract: history covers the three years before it, and nothing is
        dated on or after it.
    fmt
        ``"csv"`` (money as text with two decimals) or ``"parquet"`` (contract dtypes).
    transactions
        If set, choose the patient count so the extract holds about this many
        transactions (for benchmarks).

    Returns
    -------
    DemoSummary
        Row counts, totals and the files written.

    Raises
    ------
    DemoError
        If the format is unknown or a count is below 1.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     summary = generate_demo(tmp, patients=20)
    >>> summary.row_counts["patients"]
    20
    """
    if fmt not in FORMATS:
        msg = f"demo format {fmt!r} is unknown; use one of: {', '.join(FORMATS)}"
        raise DemoError(msg)
    if transactions is not None:
        if transactions < 1:
            msg = f"transactions must be at least 1 (got {transactions})"
            raise DemoError(msg)
        patients = patients_for_transactions(transactions)
    if patients < 1:
        msg = f"patients must be at least 1 (got {patients})"
        raise DemoError(msg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    counts: dict[str, int] = {}
    totals: dict[str, Decimal] = {}
    # one table at a time: each frame is written and dropped before the next is built
    for name, chunks in _iter_frames(patients, seed, end_date):
        path = out / f"{name}.{fmt}"
        money = "charge_amount" if name == "charges" else "amount"
        rows, total = _write(chunks, name, path, fmt, money)
        files.append(path)
        counts[name] = rows
        if name in ("charges", "transactions"):
            totals[name] = total
    return DemoSummary(
        out_dir=out,
        fmt=str(fmt),
        seed=seed,
        end_date=end_date,
        row_counts=counts,
        total_charge_amount=totals["charges"],
        total_transaction_amount=totals["transactions"],
        files=tuple(files),
    )


def build_demo_frames(
    *, patients: int = 2000, seed: int = 7, end_date: dt.date = DEFAULT_END_DATE
) -> dict[str, pl.DataFrame]:
    """Build the six tables of a demo extract as Polars frames, in memory.

    Ids, codes and money are text exactly as the CSV holds them (money with two
    decimals), dates are ``pl.Date``, booleans ``pl.Boolean``, integers ``pl.Int32``.
    """
    return {
        name: pl.concat(list(chunks), rechunk=True)
        for name, chunks in _iter_frames(patients, seed, end_date)
    }


def _iter_frames(
    patients: int, seed: int, end_date: dt.date
) -> Iterator[tuple[str, Iterator[pl.DataFrame]]]:
    """Draw everything (in one fixed order), then yield each table as slices of rows."""
    rng = np.random.Generator(np.random.PCG64(seed))
    end = (end_date - _EPOCH).days
    start = end - HISTORY_DAYS
    pat = _patients(rng, patients, start, end)
    cov = _coverages(rng, pat, start, end)
    enc = _encounters(rng, pat, start, end)
    _deaths(rng, pat, enc, end)
    ch = _charges(rng, pat, cov, enc, end)
    tx = _transactions(rng, pat, ch, end)
    yield "payers", iter([_payers_frame()])
    yield "patients", iter([_patients_frame(rng, pat)])
    yield "coverages", iter([_coverages_frame(rng, pat, cov)])
    yield "encounters", iter([_encounters_frame(pat, enc)])
    yield "charges", iter([_charges_frame(enc, ch)])
    yield "transactions", _transactions_frames(ch, tx)


# --- drawing ------------------------------------------------------------------------------


def _between(rng: np.random.Generator, lo: int, hi: int, n: int) -> I64:
    """``n`` integers uniform on ``lo..hi`` inclusive."""
    return rng.integers(lo, hi + 1, n, dtype=np.int64)


def _pct(values: I64, bp: I64) -> I64:
    """``values * bp / 10000`` in integer cents, rounded down (never float)."""
    return (values * bp) // 10000


def _patients(rng: np.random.Generator, n: int, start: int, end: int) -> dict[str, Arr]:
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
        _between(rng, 65, 94, n),
        np.where(rank > 0, _between(rng, 4, 24, n), _between(rng, 22, 64, n)),
    )
    age_y = np.where(seg == _SEG_AGEIN, _between(rng, 65, 67, n), age_y)
    dob = end - age_y * 365 - _between(rng, 0, 364, n)
    # patient ids: increasing with random gaps, 7+ digits with leading zeros
    ids = 1000 + np.cumsum(_between(rng, 1, 7, n))
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


def _coverages(
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
    a_from = start - _between(rng, 30, 3000, n)
    a_to = np.full(n, -1, dtype=np.int64)
    late = change == 1
    a_from = np.where(late, start + _between(rng, 60, 700, n), a_from)
    ends = np.isin(change, (2, 3)) | (seg == _SEG_AGEIN)
    a_to = np.where(ends, start + _between(rng, 150, 900, n), a_to)
    injury = np.isin(seg, (_SEG_WC, _SEG_AUTO))
    inj_from = start + _between(rng, 0, 850, n)
    a_from = np.where(injury, inj_from, a_from)
    a_to = np.where(injury, inj_from + _between(rng, 120, 360, n), a_to)
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


def _encounters(
    rng: np.random.Generator, pat: dict[str, Arr], start: int, end: int
) -> dict[str, Arr]:
    n = pat["seg"].size
    visits = rng.geometric(pat["visit_p"])
    pidx = np.repeat(np.arange(n), visits)
    m = pidx.size
    dos = _between(rng, start, end - 1, m)
    # encounter ids follow dates of service, as a PM system numbers visits
    order = np.lexsort((pidx, dos))
    pidx, dos = pidx[order], dos[order]
    return {
        "pidx": pidx,
        "dos": dos,
        "provider": _between(rng, 1, 12, m),
        "location": rng.choice(3, m, p=[0.6, 0.3, 0.1]) + 1,
    }


def _deaths(rng: np.random.Generator, pat: dict[str, Arr], enc: dict[str, Arr], end: int) -> None:
    """Mark some patients deceased a while after their last visit."""
    n = pat["seg"].size
    elderly = np.array([s[4] for s in _SEGMENTS])[pat["seg"]]
    dies = rng.random(n) < np.where(elderly, 0.06, 0.006)
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, enc["pidx"], enc["dos"])
    when = np.minimum(last + _between(rng, 3, 240, n), end - 1)
    pat["deceased"] = np.where(dies & (last >= 0), when, -1)


def _charges(
    rng: np.random.Generator,
    pat: dict[str, Arr],
    cov: dict[str, Arr],
    enc: dict[str, Arr],
    end: int,
) -> dict[str, Arr]:
    m = enc["dos"].size
    lines = rng.choice(4, m, p=[0.55, 0.25, 0.12, 0.08]) + 1
    eidx = np.repeat(np.arange(m), lines)
    k = eidx.size
    line_no = np.arange(k) - np.concatenate(([0], np.cumsum(lines)))[eidx]
    em = rng.choice(len(_EM_CODES), m, p=_EM_WEIGHT)[eidx]
    anc = (_between(rng, 0, 12, m)[eidx] + line_no * 5) % len(_ANC_CODES)
    is_em = line_no == 0
    code = np.where(is_em, em, len(_EM_CODES) + anc)
    units = np.where(~is_em & (anc == _UNITS_CODE), _between(rng, 1, 4, k), 1)
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


def _transactions(
    rng: np.random.Generator,
    pat: dict[str, Arr],
    ch: dict[str, Arr],
    end: int,
) -> dict[str, Arr]:
    """Every posting of every charge, as parallel arrays sorted by (date, charge, step)."""
    k = ch["amount"].size
    amt, p1, p2, posted = ch["amount"], ch["p1"], ch["p2"], ch["posted"]
    insured = p1 >= 0
    kind1 = _PAYER_KIND[np.maximum(p1, 0)]
    kind2 = _PAYER_KIND[np.maximum(p2, 0)]
    has2 = p2 >= 0
    u = rng.random((12, k))
    # --- primary adjudication
    d1 = posted + _between(rng, 14, 75, k)
    never1 = insured & (u[0] < 0.015)  # never answered: old insurance balance
    adj1 = insured & ~never1
    allowed = _pct(amt, _ALLOWED_BP[kind1] + _between(rng, -600, 600, k))
    contractual = amt - allowed
    coins = _pct(allowed, np.full(k, 2000))
    copay = np.minimum(rng.choice(np.array([2000, 2500, 3000, 4000]), k), allowed)
    small_copay = np.minimum(_between(rng, 100, 400, k), allowed)
    deductible = _pct(allowed, _between(rng, 5000, 10000, k))
    em = ch["is_em"]
    r = u[1]
    pr, reason = _select(
        [
            ((kind1 == _K_MCR) & (r < 0.10), deductible, 1),
            ((kind1 == _K_MCR), coins, 2),
            ((kind1 == _K_MA) & em, copay, 3),
            ((kind1 == _K_MA) & (r < 0.3), coins, 2),
            ((kind1 == _K_MCD) & (r < 0.10), small_copay, 3),
            ((kind1 == _K_COM) & (r < 0.15), allowed, 1),
            ((kind1 == _K_COM) & em, copay, 3),
            ((kind1 == _K_COM) & (r < 0.55), coins, 2),
            ((kind1 == _K_TRI) & em, np.minimum(copay, 1500), 3),
            ((kind1 == _K_WC) & (r < 0.08), coins, 2),
            ((kind1 == _K_AUT) & (r < 0.25), deductible, 1),
        ]
    )
    pr = np.where(adj1, pr, 0)
    paid1 = allowed - pr
    co45_1 = adj1 & (u[2] >= 0.012)  # else the contractual was never posted: old balance
    ins_over = adj1 & ~has2 & (u[3] < 0.012)
    ins_extra = np.where(ins_over, _between(rng, 500, 5000, k), 0)
    paid1 = paid1 + ins_extra
    ins_refund = ins_over & (u[4] < 0.5)
    d_irfd = d1 + _between(rng, 20, 90, k)
    # --- the patient share: crossed over to the secondary, or left to the patient
    xfer1 = adj1 & (pr > 0)
    cross = xfer1 & has2
    d2 = d1 + _between(rng, 10, 45, k)
    never2 = cross & (u[5] < 0.06)  # crossover never answered: pending with the secondary
    adj2 = cross & ~never2
    medicaid2 = kind2 == _K_MCD
    paid2 = np.where(
        medicaid2,
        _pct(pr, _between(rng, 0, 6000, k)),
        np.where(u[6] < 0.8, pr, _pct(pr, _between(rng, 3000, 9000, k))),
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
    dp1 = opened + _between(rng, 15, 150, k)
    dp2 = dp1 + _between(rng, 20, 90, k)
    extra = _between(rng, 500, 5000, k)
    remainder = _between(rng, 100, 999, k)
    part = _pct(balance, _between(rng, 2000, 8000, k))
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
        _pct(balance - part, _between(rng, 3000, 7000, k)),
        0,
    )
    refund = live & (outcome == _O_OVER_REFUND)
    d_rfd = dp1 + _between(rng, 10, 60, k)
    prior = live & (outcome == _O_PRIOR)
    d_prior = opened + _between(rng, 120, 400, k)

    none = np.full(k, -1, dtype=np.int64)
    zero = np.zeros(k, dtype=np.int64)
    ins, pt = 0, 1
    # step, mask, date, type, bucket, payer, amount, group, reason, reference kind
    slots = (
        (0, adj1 & (paid1 > 0), d1, _T_IPAY, ins, p1, -paid1, 0, zero, _R_EFT),
        (1, co45_1 & (contractual > 0), d1, _T_IADJ, ins, p1, -contractual, 1, zero + 45, _R_EFT),
        (2, xfer1, d1, _T_XFER, ins, p1, -pr, 2, reason, _R_XA),
        (3, xfer1 & has2, d1, _T_XFER, ins, p2, pr, 2, reason, _R_XA),
        (3, xfer1 & ~has2, d1, _T_XFER, pt, none, pr, 2, reason, _R_XA),
        (4, ins_refund, d_irfd, _T_REF, ins, p1, ins_extra, 0, zero, _R_IRFD),
        (5, adj2 & (paid2 > 0), d2, _T_IPAY, ins, p2, -paid2, 0, zero, _R_EFT),
        (6, co45_2, d2, _T_IADJ, ins, p2, -rest2, 1, zero + 45, _R_EFT),
        (7, to_pt2, d2, _T_XFER, ins, p2, -rest2, 2, zero + 2, _R_XB),
        (8, to_pt2, d2, _T_XFER, pt, none, rest2, 2, zero + 2, _R_XB),
        (9, pay1 > 0, dp1, _T_PPAY, pt, none, -pay1, 0, zero, _R_PMT1),
        (10, pay2 > 0, dp2, _T_PPAY, pt, none, -pay2, 0, zero, _R_PMT2),
        (11, refund, d_rfd, _T_REF, pt, none, extra, 0, zero, _R_RFD),
        (12, prior, d_prior, _T_PADJ, pt, none, -balance, 0, zero, _R_PRIOR),
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


# --- frames -------------------------------------------------------------------------------


def _ids(prefix: str, numbers: Arr, width: int | None = None) -> pl.Series:
    """``prefix`` + zero-padded numbers, e.g. ``E0000042``."""
    if width is None:
        width = max(7, len(str(int(numbers.max())))) if numbers.size else 7
    digits = pl.Series(numbers.astype(np.int64)).cast(pl.String).str.zfill(width)
    if not prefix:
        return digits
    return pl.select(pl.concat_str(pl.lit(prefix), pl.lit(digits))).to_series()


def _dates(days: Arr, *, nullable: bool = False) -> pl.Series:
    s = pl.Series(days.astype(np.int32))
    if nullable:
        s = pl.select(pl.when(pl.lit(s) >= 0).then(pl.lit(s))).to_series()
    return s.cast(pl.Date)


def _money_text(cents: pl.Expr) -> pl.Expr:
    """Integer cents as text with exactly two decimals (``-20.05``)."""
    a = cents.abs()
    return pl.concat_str(
        pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (a // 100).cast(pl.String),
        pl.lit("."),
        (a % 100).cast(pl.String).str.zfill(2),
    )


def _lookup(codes: Arr, names: tuple[str, ...]) -> pl.Series:
    """Map integer codes to names (code -1 -> null)."""
    table = pl.Series(names, dtype=pl.String)
    idx = pl.Series(codes.astype(np.int64))
    return pl.select(
        pl.when(pl.lit(idx) >= 0).then(pl.lit(table).gather(pl.lit(idx).clip(0)))
    ).to_series()


def _payers_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "payer_id": [p[0] for p in _PAYERS],
            "payer_name": [p[1] for p in _PAYERS],
            "financial_class": [p[2] for p in _PAYERS],
            "balance_bill_patient": [p[3] for p in _PAYERS],
        },
        schema={
            "payer_id": pl.String,
            "payer_name": pl.String,
            "financial_class": pl.String,
            "balance_bill_patient": pl.Boolean,
        },
    )


_PAYER_IDS = tuple(p[0] for p in _PAYERS)


def _patient_ids(pat: dict[str, Arr], idx: Arr) -> pl.Series:
    width = max(7, len(str(int(pat["ids"].max()))))
    return _ids("", pat["ids"][idx], width)


def _syllable_names(rng: np.random.Generator, n: int, *, first: bool) -> pl.Series:
    head = pl.Series(_FIRST_SYL).gather(rng.integers(0, len(_FIRST_SYL), n))
    mid = pl.Series(_NEXT_SYL).gather(rng.integers(0, len(_NEXT_SYL), n))
    if first:
        tail = pl.Series(_FIRST_END).gather(rng.integers(0, len(_FIRST_END), n))
    else:
        extra = pl.Series(_NEXT_SYL).gather(rng.integers(0, len(_NEXT_SYL), n))
        keep = pl.Series(rng.random(n) < 0.5)
        tail = pl.select(
            pl.when(pl.lit(keep)).then(pl.lit(extra)).otherwise(pl.lit(""))
        ).to_series()
    return pl.select(pl.concat_str(pl.lit(head), pl.lit(mid), pl.lit(tail))).to_series()


def _patients_frame(rng: np.random.Generator, pat: dict[str, Arr]) -> pl.DataFrame:
    n = pat["seg"].size
    everyone = np.arange(n)
    ids = _patient_ids(pat, everyone)
    last_of_hh = _syllable_names(rng, n, first=False).gather(pat["hh"])
    hardship = pl.Series(pat["hardship"])
    return pl.DataFrame(
        {
            "patient_id": ids,
            "guarantor_id": pl.select(
                pl.when(pl.lit(pl.Series(pat["guarantor"])) >= 0).then(
                    pl.lit(ids).gather(pl.lit(pl.Series(np.maximum(pat["guarantor"], 0))))
                )
            ).to_series(),
            "last_name": last_of_hh,
            "first_name": _syllable_names(rng, n, first=True),
            "date_of_birth": _dates(pat["dob"]),
            "deceased_date": _dates(pat["deceased"], nullable=True),
            "financial_hardship": pl.select(
                pl.when(pl.lit(hardship) >= 0).then(pl.lit(hardship) == 1)
            ).to_series(),
        }
    )


def _coverages_frame(
    rng: np.random.Generator, pat: dict[str, Arr], cov: dict[str, Arr]
) -> pl.DataFrame:
    n = cov["prim"].size
    a = np.flatnonzero(cov["prim"] >= 0)
    b = np.flatnonzero(cov["sec"] >= 0)
    c = np.flatnonzero(cov["has_c"])
    pidx = np.concatenate((a, b, c))
    payer = np.concatenate((cov["prim"][a], cov["sec"][b], cov["c_payer"][c]))
    priority = np.concatenate((np.ones(a.size), np.full(b.size, 2), np.ones(c.size)))
    frm = np.concatenate((cov["a_from"][a], cov["a_from"][b], cov["c_from"][c]))
    to = np.concatenate((cov["a_to"][a], cov["a_to"][b], np.full(c.size, -1)))
    # QMB is a Medicare beneficiary's status: flagged on the Medicare row
    qmb = np.concatenate((cov["qmb"][a], np.zeros(b.size, bool), np.zeros(c.size, bool)))
    not_resp = np.concatenate((cov["not_resp"][a], np.zeros(b.size + c.size, bool)))
    order = np.lexsort((priority, frm, pidx))
    member = rng.integers(10**8, 10**9, n)[pidx]
    frame = pl.DataFrame(
        {
            "patient_id": _patient_ids(pat, pidx),
            "payer_id": _lookup(payer, _PAYER_IDS),
            "priority": pl.Series(priority.astype(np.int32)),
            "effective_from": _dates(frm),
            "effective_to": _dates(to, nullable=True),
            "member_id": _ids("M", member * 10 + payer % 10, 10),
            "qmb": pl.select(pl.when(pl.lit(pl.Series(qmb))).then(True)).to_series(),
            "patient_responsible": pl.select(
                pl.when(pl.lit(pl.Series(not_resp))).then(False)
            ).to_series(),
        }
    )
    return frame[order]


def _encounters_frame(pat: dict[str, Arr], enc: dict[str, Arr]) -> pl.DataFrame:
    m = enc["dos"].size
    return pl.DataFrame(
        {
            "encounter_id": _ids("E", np.arange(1, m + 1)),
            "patient_id": _patient_ids(pat, enc["pidx"]),
            "date_of_service": _dates(enc["dos"]),
            "provider_id": _ids("PRV", enc["provider"], 3),
            "location_id": _ids("LOC", enc["location"], 2),
        }
    )


def _charges_frame(enc: dict[str, Arr], ch: dict[str, Arr]) -> pl.DataFrame:
    k = ch["amount"].size
    m = enc["dos"].size
    width = max(7, len(str(m)))
    return pl.DataFrame(
        {
            "charge_id": _ids("C", np.arange(1, k + 1)),
            "encounter_id": _ids("E", ch["eidx"] + 1, width),
            "procedure_code": _lookup(ch["code"], _EM_CODES + _ANC_CODES),
            "units": pl.Series(ch["units"].astype(np.int32)),
            "charge_amount": pl.select(_money_text(pl.lit(pl.Series(ch["amount"])))).to_series(),
            "billed_payer_id": _lookup(ch["p1"], _PAYER_IDS),
            "posted_date": _dates(ch["posted"]),
        }
    )


def _transactions_frames(ch: dict[str, Arr], tx: dict[str, Arr]) -> Iterator[pl.DataFrame]:
    """Yield the transactions table in slices of :data:`CHUNK_ROWS` rows (at least one).

    Building the text columns of 10 million rows at once would hold several full string
    columns at a time; slices bound that, and they concatenate to the same table.
    """
    n = tx["charge"].size
    width = max(7, len(str(n)))
    for lo in range(0, max(n, 1), CHUNK_ROWS):
        part = {c: v[lo : lo + CHUNK_ROWS] for c, v in tx.items()}
        yield _transactions_frame(ch, part, first_id=lo + 1, width=width)


def _transactions_frame(
    ch: dict[str, Arr], tx: dict[str, Arr], *, first_id: int, width: int
) -> pl.DataFrame:
    n = tx["charge"].size
    k = ch["amount"].size
    cwidth = max(7, len(str(k)))
    charge_ids = _ids("C", tx["charge"] + 1, cwidth)
    frame = pl.DataFrame(
        {
            "transaction_id": _ids("T", np.arange(first_id, first_id + n), width),
            "charge_id": charge_ids,
            "posted_date": _dates(tx["date"]),
            "type": _lookup(tx["type"], _TYPES),
            "responsibility": _lookup(tx["bucket"], ("INSURANCE", "PATIENT")),
            "payer_id": _lookup(tx["payer"], _PAYER_IDS),
            "_cents": pl.Series(tx["amount"]),
            "_group": pl.Series(tx["group"]),
            "_reason": pl.Series(tx["reason"]),
            "_ref": pl.Series(tx["ref"]),
        }
    )
    ref = pl.col("_ref")
    digits = pl.col("charge_id").str.slice(1)
    date_text = pl.col("posted_date").dt.strftime("%y%m%d")
    return frame.select(
        "transaction_id",
        "charge_id",
        "posted_date",
        "type",
        "responsibility",
        "payer_id",
        _money_text(pl.col("_cents")).alias("amount"),
        pl.when(pl.col("_group") > 0)
        .then(pl.col("_group").replace_strict({1: "CO", 2: "PR"}, return_dtype=pl.String))
        .alias("group_code"),
        pl.when(pl.col("_reason") > 0).then(pl.col("_reason").cast(pl.String)).alias("reason_code"),
        pl.when(ref == _R_EFT)
        .then(pl.concat_str(pl.lit("EFT"), pl.col("payer_id"), date_text))
        .when(ref == _R_XA)
        .then(pl.concat_str(pl.lit("X"), digits, pl.lit("A")))
        .when(ref == _R_XB)
        .then(pl.concat_str(pl.lit("X"), digits, pl.lit("B")))
        .when(ref == _R_PMT1)
        .then(pl.concat_str(pl.lit("PMT"), digits, pl.lit("1")))
        .when(ref == _R_PMT2)
        .then(pl.concat_str(pl.lit("PMT"), digits, pl.lit("2")))
        .when(ref == _R_RFD)
        .then(pl.concat_str(pl.lit("RFD"), digits))
        .when(ref == _R_IRFD)
        .then(pl.concat_str(pl.lit("RFD"), pl.col("payer_id"), digits))
        .when(ref == _R_PRIOR)
        .then(
            pl.concat_str(
                pl.lit("PRIOR-"),
                pl.col("posted_date").dt.year().cast(pl.String),
                pl.lit("-"),
                digits,
            )
        )
        .alias("reference"),
    )


# --- writing ------------------------------------------------------------------------------


def _write(
    chunks: Iterator[pl.DataFrame], table: str, path: Path, fmt: str, money_column: str
) -> tuple[int, Decimal]:
    """Write a table's slices to ``path`` atomically; return its rows and the sum of a money column.

    CSV is streamed slice by slice (header once); Parquet is written from the whole typed
    table, so its row groups do not depend on how the rows were sliced.
    """
    rows = 0
    total = Decimal("0.00")
    if fmt == "csv":
        with atomic_write(path, "wb") as fh:
            for i, chunk in enumerate(chunks):
                chunk.write_csv(fh, include_header=i == 0, line_terminator="\n")
                rows += chunk.height
                if money_column in chunk.columns:
                    total += _text_sum(chunk[money_column])
    else:
        schema = TABLES_BY_NAME[table]
        money = [c.name for c in schema.columns if c.type is ColumnType.MONEY]
        typed = pl.concat(
            [
                conform(schema, c.with_columns(pl.col(m).cast(pl.Decimal(18, 2)) for m in money))
                for c in chunks
            ],
            rechunk=True,
        )
        rows = typed.height
        if money_column in typed.columns:
            total = _text_sum(typed[money_column])
        with atomic_write(path, "wb") as fh:
            typed.write_parquet(fh, compression="zstd", statistics=True)  # type: ignore[arg-type]  # binary handle
    # the temporary file was private (0600); an extract is meant to be shared and loaded
    path.chmod(0o644)
    return rows, total


def _text_sum(money: pl.Series) -> Decimal:
    """Exact sum of money (text with two decimals, or Decimal(18, 2)); casting is exact."""
    total = money.cast(pl.Decimal(18, 2)).sum()
    return Decimal(total).quantize(Decimal("0.01")) if total is not None else Decimal("0.00")
