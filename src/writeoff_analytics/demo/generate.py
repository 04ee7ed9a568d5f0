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

This module is the entry point and the order of the draws; the parts live beside it:
:mod:`.world` (payers, patients, coverage), :mod:`.billing` (visits, charges, postings),
:mod:`.tables` (the six tables as text frames) and :mod:`.files` (CSV or Parquet on disk).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from writeoff_analytics.demo.billing import draw_charges, draw_encounters, draw_transactions
from writeoff_analytics.demo.files import write_table
from writeoff_analytics.demo.tables import (
    charges_frame,
    coverages_frame,
    encounters_frame,
    patients_frame,
    payers_frame,
    transactions_frames,
)
from writeoff_analytics.demo.world import draw_coverages, draw_patients, mark_deaths
from writeoff_analytics.errors import DemoError

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator, Mapping

Format = Literal["csv", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "parquet")
DEFAULT_END_DATE = dt.date(2026, 11, 1)
#: Days of history before ``end_date`` (three years).
HISTORY_DAYS = 1096
#: Transactions per patient the default mix produces (measured), for ``transactions=N``.
TRANSACTIONS_PER_PATIENT = 17.0

_EPOCH = dt.date(1970, 1, 1)


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
        rows, total = write_table(chunks, name, path, fmt, money)
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
    pat = draw_patients(rng, patients, start, end)
    cov = draw_coverages(rng, pat, start, end)
    enc = draw_encounters(rng, pat, start, end)
    mark_deaths(rng, pat, enc, end)
    ch = draw_charges(rng, pat, cov, enc, end)
    tx = draw_transactions(rng, pat, ch, end)
    yield "payers", iter([payers_frame()])
    yield "patients", iter([patients_frame(rng, pat)])
    yield "coverages", iter([coverages_frame(rng, pat, cov)])
    yield "encounters", iter([encounters_frame(pat, enc)])
    yield "charges", iter([charges_frame(enc, ch)])
    yield "transactions", transactions_frames(ch, tx)
