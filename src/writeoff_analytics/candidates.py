"""Candidate lines: what a criteria set would write off in a ledger, on any engine.

``find_candidates(ledger, criteria, engine="duckdb"|"polars"|"spark")`` returns a frozen
:class:`Candidates`; every engine gives identical frames (docs/DESIGN.md, "Candidates").
This module owns the result (:class:`Candidates`, :data:`LINE_SCHEMA`, :data:`GROUP_SCHEMA`,
:func:`group_lines`) and the dispatch; the engines (:mod:`writeoff_analytics.engines`) never
import it back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl

from writeoff_analytics import queries
from writeoff_analytics.criteria.model import BalanceType
from writeoff_analytics.engines import load_engine
from writeoff_analytics.errors import CriteriaError
from writeoff_analytics.money import PL_MONEY, ZERO
from writeoff_analytics.writeoffs.audit import AuditAction
from writeoff_analytics.writeoffs.permissions import Config, Permission, require_permission

if TYPE_CHECKING:
    from writeoff_analytics.criteria.model import Criteria
    from writeoff_analytics.ledger.store import Ledger

#: Payer classes whose money, collected from a patient, may have to go back (refund review).
MEDICAID_CLASSES = ("MEDICAID", "MEDICAID_MANAGED_CARE")

#: The columns of ``Candidates.lines``, in order (docs/DESIGN.md).
LINE_SCHEMA: dict[str, pl.DataType] = {
    "charge_id": pl.String(),
    "encounter_id": pl.String(),
    "patient_id": pl.String(),
    "guarantor_id": pl.String(),
    "group_key": pl.String(),
    "date_of_service": pl.Date(),
    "age_days": pl.Int32(),
    "procedure_code": pl.String(),
    "provider_id": pl.String(),
    "location_id": pl.String(),
    "payer_id": pl.String(),
    "financial_class": pl.String(),
    "responsibility": pl.String(),
    "balance_type": pl.String(),
    "balance": PL_MONEY,
    "writeoff_amount": PL_MONEY,
}

#: The columns of ``Candidates.groups``, in order (docs/DESIGN.md).
GROUP_SCHEMA: dict[str, pl.DataType] = {
    "group_key": pl.String(),
    "patient_id": pl.String(),
    "first_date_of_service": pl.Date(),
    "last_date_of_service": pl.Date(),
    "max_age_days": pl.Int32(),
    "line_count": pl.Int64(),
    "balance_total": PL_MONEY,
}


@dataclass(frozen=True)
class Candidates:
    """The candidate lines of one search, and the same lines grouped at the write-off level.

    Attributes
    ----------
    criteria
        The criteria searched.
    as_of
        The aging date the search used (``criteria.as_of`` or the day it ran).
    generation
        The store generation the lines were computed at (a later write makes them stale).
    lines
        One row per candidate charge line, columns :data:`LINE_SCHEMA`, sorted by
        ``group_key, charge_id``.
    groups
        One row per group, columns :data:`GROUP_SCHEMA`, sorted by ``group_key``.
    """

    criteria: Criteria
    as_of: dt.date
    generation: int
    lines: pl.DataFrame
    groups: pl.DataFrame

    @property
    def line_count(self) -> int:
        """How many lines."""
        return self.lines.height

    @property
    def group_count(self) -> int:
        """How many groups."""
        return self.groups.height

    @property
    def total(self) -> Decimal:
        """The sum of the lines' write-off amounts, exact to the cent."""
        if self.lines.is_empty():
            return ZERO
        value = self.lines.get_column("writeoff_amount").sum()
        return Decimal(value).quantize(ZERO)


def group_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Group candidate lines at their ``group_key`` into the :data:`GROUP_SCHEMA` columns.

    ``patient_id`` is null for a group spanning several patients (a guarantor's family);
    ``balance_total`` sums ``balance`` exactly (widened, then back to DECIMAL(18,2)).
    Groups come out sorted by ``group_key`` whatever the order of ``lines``.
    """
    if lines.is_empty():
        return pl.DataFrame(schema=GROUP_SCHEMA)
    # Lines found come sorted by group_key: a group is then a run of equal keys. Numbered by
    # rle_id (non-decreasing, so flagged sorted), the runs are grouped as slices, without
    # hashing any text. Eager on purpose: the same plan run lazily took 4x as long (807k
    # lines at 10M transactions: 0.04 s eager, 0.16 s lazy, 0.40 s hashing the text keys).
    # Lines in another order are sorted first.
    if not lines.get_column("group_key").is_sorted():
        lines = lines.sort("group_key", maintain_order=True)
    groups = (
        lines.with_columns(pl.col("group_key").rle_id().set_sorted().alias("_run"))
        .group_by("_run", maintain_order=True)
        .agg(
            pl.col("group_key").first(),
            pl.col("patient_id").first().alias("_patient"),
            (pl.col("patient_id").n_unique() == 1).alias("_one_patient"),
            pl.col("date_of_service").min().alias("first_date_of_service"),
            pl.col("date_of_service").max().alias("last_date_of_service"),
            pl.col("age_days").max().alias("max_age_days"),
            pl.len().cast(pl.Int64).alias("line_count"),
            pl.col("balance").sum().cast(PL_MONEY).alias("balance_total"),
        )
        .with_columns(
            pl.when(pl.col("_one_patient")).then(pl.col("_patient")).alias("patient_id")
        )
    )
    return groups.select(list(GROUP_SCHEMA)).cast(GROUP_SCHEMA)  # type: ignore[arg-type]  # dict[str, DataType] is accepted


def find_candidates(
    ledger: Ledger,
    criteria: Criteria,
    *,
    engine: str = "duckdb",
    today: dt.date | None = None,
    config: Config | None = None,
) -> Candidates:
    """Return the charge lines that ``criteria`` would write off, and their groups.

    Parameters
    ----------
    ledger
        A store with an extract loaded.
    criteria
        What to look for (CRITERIA.md).
    engine
        ``"duckdb"`` (the SQL of ``queries/select_candidate_lines.sql``), ``"polars"``
        (Polars expressions over the store's balances) or ``"spark"`` (the same SQL file on
        Spark, over the store's balances): a name of ``engines.ENGINES``; all give
        identical frames.
    today
        The aging date when ``criteria.as_of`` is unset (default: the local date).

    Returns
    -------
    Candidates
        Lines sorted by ``group_key, charge_id``; ``writeoff_amount`` is the whole balance.

    Raises
    ------
    CriteriaError
        If the criteria name a payer the ledger does not hold, or the engine is unknown.
    LedgerError
        If no extract is loaded.

    Examples
    --------
    >>> from writeoff_analytics import Criteria
    >>> from tests.conftest import EXAMPLE_TABLES, build_ledger
    >>> ledger = build_ledger(**EXAMPLE_TABLES)
    >>> c = find_candidates(ledger, Criteria("PATIENT", "ENCOUNTER", responsibility="NOT_RESPONSIBLE",
    ...                                       as_of="2026-11-01"))
    >>> c.line_count, c.total
    (1, Decimal('40.00'))
    """
    require_permission(ledger, Permission.MASS_WRITE_OFF, "find write-off candidates", AuditAction.FIND_CANDIDATES, config=config)  # issue 16
    search = load_engine(engine)
    as_of = criteria.resolved_as_of(today)
    # One connection for the whole search: a file store is opened once (it is not free), and
    # the generation, the payers and the lines are read under the same lock (the engines'
    # own ``ledger.connect()`` reuses this one).
    with ledger.connect():
        ledger.require_loaded()
        if criteria.payer_ids is not None:
            criteria.check_payers(ledger.frame("payers").get_column("payer_id").to_list())
        generation = ledger.generation()
        lines = search.candidate_lines(ledger, criteria, as_of)
    lines = lines.select(list(LINE_SCHEMA)).cast(LINE_SCHEMA)  # type: ignore[arg-type]  # dict[str, DataType] is accepted
    return Candidates(
        criteria=criteria, as_of=as_of, generation=generation, lines=lines,
        groups=group_lines(lines),
    )


def find_credit_balances(
    ledger: Ledger, *, balance_type: BalanceType | str | None = None
) -> pl.DataFrame:
    """List the lines with a credit (negative) balance, for refund review; never candidates.

    Parameters
    ----------
    ledger
        A loaded store.
    balance_type
        ``PATIENT`` or ``INSURANCE`` to list one bucket; ``None`` lists both.

    Returns
    -------
    pl.DataFrame
        One row per charge and bucket in credit, sorted by ``charge_id, balance_type``:
        ``charge_id encounter_id patient_id guarantor_id date_of_service procedure_code
        balance_type payer_id financial_class balance not_responsible medicaid_or_qmb``.
        ``not_responsible`` is the patient-not-responsible flag on the date of service
        (Medicaid-type coverage, QMB or profile flag); ``medicaid_or_qmb`` is that flag or a
        Medicaid-class payer on the line: money collected that may have to go back.

    Raises
    ------
    CriteriaError
        If ``balance_type`` is not PATIENT or INSURANCE.
    """
    bucket = None
    if balance_type is not None:
        try:
            bucket = BalanceType(str(balance_type).strip().upper()).value
        except ValueError:
            what = "balance type"
            known = [b.value for b in BalanceType]
            exc = CriteriaError.unknown(what, [str(balance_type)], known, field="balance_type")
            raise exc from None
    with ledger.connect() as con:
        ledger.require_loaded()
        return queries.frame(
            con,
            "select_credit_balances",
            balance_type=bucket,
            medicaid_classes=list(MEDICAID_CLASSES),
        )

