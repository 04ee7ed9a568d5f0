"""Candidates in every practice of a multi-practice extract at once, on Spark.

The balances are derived on Spark by ``queries/derive_charge_balances.sql`` and searched by
``queries/select_candidate_lines.sql``, both in their practice-keyed form
(:mod:`~writeoff_analytics.engines.spark_sql`); each practice's lines come back as the
:class:`~writeoff_analytics.candidates.Candidates` the other engines give for its ledger.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

import polars as pl

from writeoff_analytics.candidates import LINE_SCHEMA, Candidates, group_lines
from writeoff_analytics.engines.query_params import sql_params
from writeoff_analytics.engines.spark_sql import derive_balances, run_query, to_polars
from writeoff_analytics.errors import LedgerError
from writeoff_analytics.spark.read import (
    PRACTICE,
    Format,
    SparkExtract,
    is_zip,
    opened_extract,
    read_extract,
)

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from pyspark.sql import DataFrame, SparkSession

    from writeoff_analytics.criteria.model import Criteria


def _candidate_lines(
    spark: SparkSession,
    tables: Mapping[str, DataFrame],
    criteria: Criteria,
    as_of: dt.date,
    *,
    balances: DataFrame | None = None,
) -> DataFrame:
    """The candidate lines of ``criteria`` in every practice, as a lazy Spark DataFrame.

    ``queries/select_candidate_lines.sql`` in its Spark form, with the parameters the
    DuckDB engine binds (:func:`~writeoff_analytics.engines.query_params.sql_params`).
    Columns: :data:`~writeoff_analytics.candidates.LINE_SCHEMA`, then ``practice_id``.
    ``balances``: the extract's balances already derived (else derived here).
    """
    if balances is None:
        balances = derive_balances(spark, tables)
    return run_query(
        spark,
        "select_candidate_lines",
        {**tables, "charge_balances": balances},
        **sql_params(criteria, as_of),
    )


def find_candidates_spark(
    spark: SparkSession,
    extract: SparkExtract | str | os.PathLike[str],
    criteria: Criteria,
    *,
    practice_ids: Iterable[str] | None = None,
    today: dt.date | None = None,
    fmt: Format = "auto",
    balances: DataFrame | None = None,
) -> dict[str, Candidates]:
    """Find the candidates of ``criteria`` in every practice of a multi-practice extract, on Spark.

    Parameters
    ----------
    spark
        The session (:func:`~writeoff_analytics.spark.session.build_session`).
    extract
        A folder of ``practice=<id>/`` extracts (path or URI), a local ``.zip`` of one
        (local masters only: it is unpacked on this machine), or one already read.
    criteria
        What to look for (CRITERIA.md).
    practice_ids
        Only these practices (the others' folders are not read); ``None`` = all.
    today
        The aging date when ``criteria.as_of`` is unset (default: the local date).
    fmt
        ``"auto"``, ``"csv"`` or ``"parquet"`` (see :func:`read_extract`).
    balances
        The extract's balances already derived (:func:`derive_balances`, perhaps cached),
        to run several criteria over one extract without deriving each time.

    Returns
    -------
    dict[str, Candidates]
        One :class:`Candidates` per practice, in practice order, each exactly what the DuckDB
        engine gives for that practice's ledger (same columns, dtypes, rows and order), so
        batches, receipts and reports take it as they are; ``generation`` is 0 (an extract,
        not a store). Practices without candidates are present with empty frames.

    Raises
    ------
    CriteriaError
        If ``payer_ids`` names a payer no practice read holds.
    LedgerError
        If the extract cannot be read (see :func:`read_extract` and
        :func:`~writeoff_analytics.spark.read.opened_extract`), or a zip is given to a
        session whose executors are on other machines.
    """
    from pyspark.sql import functions as F

    as_of = criteria.resolved_as_of(today)
    if not isinstance(extract, SparkExtract):
        source = os.fspath(extract)
        if is_zip(source):
            _require_local(spark, source)
        # A zip is unpacked for the time of this search (read and collected inside).
        with opened_extract(source) as folder:
            read = read_extract(spark, folder, fmt=fmt, practice_ids=practice_ids)
            return find_candidates_spark(
                spark, read, criteria, practice_ids=practice_ids, today=today, balances=balances
            )
    tables = dict(extract.tables)
    if practice_ids is not None:
        wanted = sorted(set(practice_ids))
        tables = {n: f.where(F.col(PRACTICE).isin(wanted)) for n, f in tables.items()}
    if criteria.payer_ids is not None:
        # A payer id no practice holds is a mistake (CRITERIA.md); a practice that lacks
        # one of the ids simply has no lines for it.
        known = tables["payers"].select("payer_id").distinct().toArrow().column(0).to_pylist()
        criteria.check_payers(str(p) for p in known if p is not None)
    if balances is not None:
        if practice_ids is not None:
            balances = balances.where(F.col(PRACTICE).isin(sorted(set(practice_ids))))
        lines = to_polars(_candidate_lines(spark, tables, criteria, as_of, balances=balances))
    else:
        # The candidate query reads the balances twice (lines, group totals): derive them
        # once, kept by Spark (memory, then disk) for this search only.
        derived = derive_balances(spark, tables).persist()
        try:
            lines = to_polars(_candidate_lines(spark, tables, criteria, as_of, balances=derived))
        finally:
            derived.unpersist()
    if practice_ids is not None:
        practices: list[str] = sorted(set(practice_ids))
    elif extract.practice_ids is not None:
        practices = list(extract.practice_ids)
    else:
        column = tables["charges"].select(PRACTICE).distinct().toArrow().column(0)
        practices = sorted({str(p) for p in column.to_pylist()})
    parts = {
        str(key[0]): part for key, part in lines.partition_by(PRACTICE, as_dict=True).items()
    }
    out: dict[str, Candidates] = {}
    for practice in practices:
        part = parts.get(practice)
        frame = (
            pl.DataFrame(schema=LINE_SCHEMA)
            if part is None
            else part.select(list(LINE_SCHEMA)).cast(LINE_SCHEMA).sort("group_key", "charge_id")  # type: ignore[arg-type]  # dict[str, DataType] is accepted
        )
        out[practice] = Candidates(
            criteria=criteria, as_of=as_of, generation=0, lines=frame, groups=group_lines(frame)
        )
    return out


def _require_local(spark: SparkSession, source: str) -> None:
    """Refuse a zip on a cluster: it is unpacked here, where other machines cannot read it."""
    master = str(spark.sparkContext.master)
    if not master.startswith("local"):
        msg = (
            f"{source}: a .zip is unpacked on this machine, which the executors of {master} "
            "cannot read; unpack it where they can (HDFS, S3, a shared mount) and give that folder"
        )
        raise LedgerError(msg)


