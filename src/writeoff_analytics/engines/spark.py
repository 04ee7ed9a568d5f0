"""Run the query files on Spark over many practices at once: balances, then candidates.

Every query runs in the practice-keyed Spark form :mod:`~writeoff_analytics.engines.spark_sql`
derives from the DuckDB file, over per-call temporary views, with values bound by Spark.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import polars as pl
import sqlglot
from sqlglot import exp

from writeoff_analytics import queries
from writeoff_analytics.candidates import LINE_SCHEMA, Candidates, group_lines
from writeoff_analytics.engines.spark_sql import PRACTICE, spark_query
from writeoff_analytics.errors import LedgerError, QueryError
from writeoff_analytics.spark.read import Format, SparkExtract, is_zip, opened_extract, read_extract

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from writeoff_analytics.criteria.model import Criteria

#: Store tables a Spark run starts empty (the extract has no committed write-offs here).
_STORE_TABLES = ("writeoff_lines",)


@functools.cache
def store_table_columns(table: str) -> tuple[tuple[str, str], ...]:
    """The columns of a store table with their Spark types, from ``queries/create_store.sql``.

    Examples
    --------
    >>> store_table_columns("writeoff_lines")[:2]
    (('receipt_no', 'STRING'), ('line_no', 'INT'))
    """
    for statement in sqlglot.parse(queries.load("create_store").sql, read="duckdb"):
        if not isinstance(statement, exp.Create) or not isinstance(statement.this, exp.Schema):
            continue
        if statement.this.this.name != table:
            continue
        columns = [
            (c.name, c.args["kind"].sql("spark"))
            for c in statement.this.expressions
            if isinstance(c, exp.ColumnDef)
        ]
        return (*columns, (PRACTICE, "STRING"))
    msg = f"create_store.sql: no table {table}"
    raise QueryError(msg)


def empty_store_table(spark: SparkSession, table: str) -> DataFrame:
    """An empty store table, made in the JVM.

    (``createDataFrame([])`` would start Python workers to turn an empty list into rows.)
    """
    from pyspark.sql import functions as F

    columns = store_table_columns(table)
    return spark.range(0).select(*[F.lit(None).cast(kind).alias(name) for name, kind in columns])


@contextmanager
def _views(spark: SparkSession, tables: Mapping[str, DataFrame]) -> Iterator[dict[str, str]]:
    """Register ``tables`` as temporary views with names unique to this call."""
    token = uuid.uuid4().hex[:12]
    names = {name: f"wo_{token}_{name}" for name in tables}
    try:
        for name, frame in tables.items():
            frame.createOrReplaceTempView(names[name])
        yield names
    finally:
        for view in names.values():
            spark.catalog.dropTempView(view)


def run_query(
    spark: SparkSession, name: str, tables: Mapping[str, DataFrame], /, **params: Any
) -> DataFrame:
    """Run query file ``name`` on Spark, practice by practice, with bound parameters.

    Parameters
    ----------
    spark
        The session.
    name
        The query's file stem; it runs in the form :func:`spark_query` derives.
    tables
        A DataFrame, with a ``practice_id`` column, for every table the query reads
        (store tables such as ``writeoff_lines`` start empty when not given).
    **params
        Exactly the parameters the file declares (``None`` = unset filter). They are bound
        by Spark as typed literals; no value ever becomes SQL text.

    Raises
    ------
    QueryError
        If the parameters do not match the file, or a table it reads is not given.
    """
    query = spark_query(name)
    declared = set(query.param_types)
    if set(params) != declared:
        missing = sorted(declared - set(params))
        extra = sorted(set(params) - declared)
        msg = f"{name}.sql on Spark: parameters do not match (missing {missing}; not declared {extra})"
        raise QueryError(msg)
    given = dict(tables)
    for table in query.tables:
        if table not in given and table in _STORE_TABLES:
            given[table] = empty_store_table(spark, table)
    missing_tables = sorted(set(query.tables) - set(given))
    if missing_tables:
        msg = f"{name}.sql on Spark reads {', '.join(missing_tables)}, which were not given"
        raise QueryError(msg)
    needed = {t: given[t] for t in query.tables}
    with _views(spark, needed) as names:
        renamed = spark_query(name, tuple(sorted(names.items())))
        args = {p: _literal(v, query.param_types[p]) for p, v in params.items()}
        return spark.sql(renamed.sql, args=args or None)


def _literal(value: Any, spark_type: str) -> Column:
    """A parameter value as a Spark literal column (the SQL casts it to ``spark_type``)."""
    from pyspark.sql import functions as F

    if value is None:
        return F.lit(None)
    if spark_type.upper().startswith("ARRAY"):
        items = sorted(value) if isinstance(value, set | frozenset) else list(value)
        return F.array(*[F.lit(v) for v in items])
    return F.lit(value)


def derive_balances(spark: SparkSession, tables: Mapping[str, DataFrame]) -> DataFrame:
    """Derive ``charge_balances`` (docs/DESIGN.md) for every practice, from the six tables.

    The same ``queries/derive_charge_balances.sql`` the DuckDB store runs, in its Spark
    form: one row per ``(practice_id, charge_id)`` with the DuckDB columns, then
    ``practice_id``.

    Parameters
    ----------
    spark
        The session.
    tables
        The six contract tables, each with a ``practice_id`` column
        (:func:`~writeoff_analytics.spark.read.read_extract`).

    Returns
    -------
    DataFrame
        Unordered and lazy; nothing runs until an action.
    """
    return run_query(spark, "derive_charge_balances", tables)


def to_polars(frame: DataFrame) -> pl.DataFrame:
    """Collect a Spark DataFrame to Polars through Arrow (``DECIMAL(18,2)`` stays ``Decimal(18, 2)``).

    Never through pandas: money would pass through Python objects or floats there.
    """
    table = frame.toArrow()
    result = pl.from_arrow(table)
    assert isinstance(result, pl.DataFrame)  # a Table gives a DataFrame
    return result


def candidate_lines(
    spark: SparkSession,
    tables: Mapping[str, DataFrame],
    criteria: Criteria,
    as_of: dt.date,
    *,
    balances: DataFrame | None = None,
) -> DataFrame:
    """The candidate lines of ``criteria`` in every practice, as a lazy Spark DataFrame.

    ``queries/select_candidate_lines.sql`` in its Spark form, with the parameters the
    DuckDB engine binds (``criteria.to_sql.sql_params``): one meaning, two engines.
    Columns: :data:`~writeoff_analytics.candidates.LINE_SCHEMA`, then ``practice_id``.
    """
    from writeoff_analytics.engines.duckdb import sql_params

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
        lines = to_polars(candidate_lines(spark, tables, criteria, as_of, balances=balances))
    else:
        # The candidate query reads the balances twice (lines, group totals): derive them
        # once, kept by Spark (memory, then disk) for this search only.
        derived = derive_balances(spark, tables).persist()
        try:
            lines = to_polars(candidate_lines(spark, tables, criteria, as_of, balances=derived))
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


#: The practice id a single store's balances carry on Spark (one store = one practice).
STORE_PRACTICE = "store"


def store_candidate_lines(
    balances: pl.DataFrame, criteria: Criteria, as_of: dt.date, *, spark: SparkSession | None = None
) -> pl.DataFrame:
    """Run the candidate query on Spark over one store's derived balances (``engine="spark"``).

    The store has already derived ``charge_balances`` (netting its committed write-offs),
    so only ``select_candidate_lines.sql`` runs on Spark, in its practice-keyed form with one
    practice. Used by ``find_candidates(ledger, criteria, engine="spark")``, whose result
    carries the store's generation and feeds batches and commits like the other engines'.

    Parameters
    ----------
    balances
        ``Ledger.balances()``.
    criteria, as_of
        As for the DuckDB engine.
    spark
        A session; default: the active one, else :func:`build_session` (``local[2]``).

    Returns
    -------
    pl.DataFrame
        The :data:`~writeoff_analytics.candidates.LINE_SCHEMA` columns, sorted by
        ``group_key, charge_id``.
    """
    from pyspark.sql import SparkSession

    from writeoff_analytics.spark.session import build_session

    session = spark or SparkSession.getActiveSession() or build_session()
    table = balances.with_columns(pl.lit(STORE_PRACTICE).alias(PRACTICE)).to_arrow()
    frame = session.createDataFrame(table)
    lines = to_polars(candidate_lines(session, {}, criteria, as_of, balances=frame))
    if lines.is_empty():
        return pl.DataFrame(schema=LINE_SCHEMA)
    return lines.select(list(LINE_SCHEMA)).cast(LINE_SCHEMA).sort("group_key", "charge_id")  # type: ignore[arg-type]  # dict[str, DataType] is accepted
