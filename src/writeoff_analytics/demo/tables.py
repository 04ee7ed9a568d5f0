"""The six tables of a demo extract as Polars frames, built from the drawn arrays.

Ids, codes and money are text exactly as the CSV holds them (money with two decimals, from
integer cents), dates are ``pl.Date``, booleans ``pl.Boolean``, integers ``pl.Int32``.
Names are made up from syllables; nothing here describes a real person. The transactions
table comes in slices of :data:`CHUNK_ROWS` rows so 10 million rows never sit in memory as
text at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from writeoff_analytics.demo.billing import (
    ANC_CODES,
    EM_CODES,
    R_EFT,
    R_IRFD,
    R_PMT1,
    R_PMT2,
    R_PRIOR,
    R_RFD,
    R_XA,
    R_XB,
    TYPES,
)
from writeoff_analytics.demo.world import PAYERS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from numpy.typing import NDArray

    Arr = NDArray[Any]

#: Rows of the transactions table built (and written) at a time.
CHUNK_ROWS = 1_000_000

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


def payers_frame() -> pl.DataFrame:
    """The payers table: every payer of the demo practice, whether billed or not."""
    return pl.DataFrame(
        {
            "payer_id": [p[0] for p in PAYERS],
            "payer_name": [p[1] for p in PAYERS],
            "financial_class": [p[2] for p in PAYERS],
            "balance_bill_patient": [p[3] for p in PAYERS],
        },
        schema={
            "payer_id": pl.String,
            "payer_name": pl.String,
            "financial_class": pl.String,
            "balance_bill_patient": pl.Boolean,
        },
    )


_PAYER_IDS = tuple(p[0] for p in PAYERS)


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


def patients_frame(rng: np.random.Generator, pat: dict[str, Arr]) -> pl.DataFrame:
    """The patients table; draws the made-up names (after every other draw of the arrays)."""
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


def coverages_frame(
    rng: np.random.Generator, pat: dict[str, Arr], cov: dict[str, Arr]
) -> pl.DataFrame:
    """The coverages table: A, B and C rows by patient, start and priority; draws member ids."""
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


def encounters_frame(pat: dict[str, Arr], enc: dict[str, Arr]) -> pl.DataFrame:
    """The encounters table: one row per visit."""
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


def charges_frame(enc: dict[str, Arr], ch: dict[str, Arr]) -> pl.DataFrame:
    """The charges table: one row per charge line, money as text."""
    k = ch["amount"].size
    m = enc["dos"].size
    width = max(7, len(str(m)))
    return pl.DataFrame(
        {
            "charge_id": _ids("C", np.arange(1, k + 1)),
            "encounter_id": _ids("E", ch["eidx"] + 1, width),
            "procedure_code": _lookup(ch["code"], EM_CODES + ANC_CODES),
            "units": pl.Series(ch["units"].astype(np.int32)),
            "charge_amount": pl.select(_money_text(pl.lit(pl.Series(ch["amount"])))).to_series(),
            "billed_payer_id": _lookup(ch["p1"], _PAYER_IDS),
            "posted_date": _dates(ch["posted"]),
        }
    )


def transactions_frames(ch: dict[str, Arr], tx: dict[str, Arr]) -> Iterator[pl.DataFrame]:
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
            "type": _lookup(tx["type"], TYPES),
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
        pl.when(ref == R_EFT)
        .then(pl.concat_str(pl.lit("EFT"), pl.col("payer_id"), date_text))
        .when(ref == R_XA)
        .then(pl.concat_str(pl.lit("X"), digits, pl.lit("A")))
        .when(ref == R_XB)
        .then(pl.concat_str(pl.lit("X"), digits, pl.lit("B")))
        .when(ref == R_PMT1)
        .then(pl.concat_str(pl.lit("PMT"), digits, pl.lit("1")))
        .when(ref == R_PMT2)
        .then(pl.concat_str(pl.lit("PMT"), digits, pl.lit("2")))
        .when(ref == R_RFD)
        .then(pl.concat_str(pl.lit("RFD"), digits))
        .when(ref == R_IRFD)
        .then(pl.concat_str(pl.lit("RFD"), pl.col("payer_id"), digits))
        .when(ref == R_PRIOR)
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
