"""Our query files on Spark: the Spark form of a DuckDB file (SQLGlot plus a practice key), and running it.

This is :mod:`writeoff_analytics.queries` for Spark. There is one definition of every
rule: the DuckDB files of ``queries/``. For Spark, a file is (1) transpiled by SQLGlot
(``read="duckdb", write="spark"``), then (2) re-parsed as Spark SQL and given a
**practice key** by :func:`add_practice_key`, an AST transformation:

- every ``SELECT`` that is not a bare ``*`` gets ``<source>.practice_id`` in its select
  list (``<source>`` = the table, CTE or subquery in its ``FROM``), so every CTE, derived
  table and result carries the practice;
- every ``JOIN ... ON cond`` becomes ``JOIN ... ON <joined>.practice_id =
  <source>.practice_id AND (cond)`` (``USING (...)`` gets ``practice_id`` added);
- every ``GROUP BY`` and every window's ``PARTITION BY`` starts with ``practice_id``; an
  aggregate with no ``GROUP BY`` is grouped by ``practice_id``;
- a correlated ``[NOT] EXISTS (subquery)`` gets ``inner.practice_id = outer.practice_id``
  in its ``WHERE``; an ``x IN (SELECT y ...)`` becomes ``(practice_id, x) IN (SELECT
  practice_id, y ...)``;
- the outermost ``ORDER BY`` is dropped (a Spark result is a set; the engine orders lines
  per practice, as ``Candidates`` requires).

Ids are unique within a practice only, so these are exactly the places where two practices'
rows could meet. Constructs the transformation cannot make practice-safe (a scalar
subquery, a comma or ``CROSS JOIN``, ``GROUP BY 1``) are refused with a
:class:`~writeoff_analytics.errors.QueryError` rather than run with a wrong meaning.

``$name`` parameters become Spark named parameters ``:name`` wrapped in a ``CAST`` to the
type the file's ``-- params:`` line declares (:attr:`~writeoff_analytics.queries.Query.param_types`),
so a ``None`` (unset filter) or an empty list is typed, and values are bound by Spark
(:func:`run_query`: ``spark.sql(sql, args=...)``), never written into the SQL text.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
import sqlglot
from sqlglot import exp

from writeoff_analytics import queries
from writeoff_analytics.errors import QueryError
from writeoff_analytics.spark.read import PRACTICE

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

#: Store tables a Spark run starts empty (an extract has no committed write-offs or quarantine here).
_STORE_TABLES = ("writeoff_lines", "quarantined_charges")


@dataclass(frozen=True)
class SparkQuery:
    """A query file in its Spark form.

    Attributes
    ----------
    name
        The query's file stem.
    sql
        Spark SQL with ``:name`` parameters, keyed by ``practice_id``.
    param_types
        Each declared parameter and its Spark SQL type (``ARRAY<STRING>``, ``DATE``, ...).
    tables
        The tables the query reads (before renaming), sorted.
    """

    name: str
    sql: str
    param_types: Mapping[str, str]
    tables: tuple[str, ...]


def spark_param_types(query: queries.Query) -> dict[str, str]:
    """The declared parameters of ``query`` with their types as Spark SQL types.

    Examples
    --------
    >>> spark_param_types(queries.load("select_credit_balances"))
    {'balance_type': 'STRING', 'medicaid_classes': 'ARRAY<STRING>'}
    """
    return {
        name: exp.DataType.build(duckdb_type, dialect="duckdb").sql("spark")
        for name, duckdb_type in query.param_types.items()
    }


@functools.cache
def spark_query(name: str, table_names: tuple[tuple[str, str], ...] = ()) -> SparkQuery:
    """Load query file ``name`` and derive its practice-keyed Spark SQL.

    Parameters
    ----------
    name
        The query's file stem (``derive_charge_balances``, ``select_candidate_lines_...``).
    table_names
        ``(table, spark_name)`` pairs: read ``spark_name`` where the file reads ``table``
        (the engine's per-call temporary views). The original name stays as the alias,
        so every qualified column still resolves.

    Returns
    -------
    SparkQuery
        The Spark SQL, its parameter types and the tables it reads.

    Raises
    ------
    QueryError
        If SQLGlot cannot read the file or it holds a construct the practice key cannot be
        added to safely.
    """
    query = queries.load(name)
    param_types = spark_param_types(query)
    try:
        spark_text = sqlglot.transpile(query.sql, read="duckdb", write="spark", comments=False)
    except sqlglot.errors.SqlglotError as exc:
        msg = f"{query.path.name}: SQLGlot cannot transpile it to Spark SQL ({exc})"
        raise QueryError(msg) from exc
    if len(spark_text) != 1:
        msg = f"{query.path.name}: holds {len(spark_text)} statements; the Spark engine runs one"
        raise QueryError(msg)
    tree = sqlglot.parse_one(spark_text[0], read="spark")
    if isinstance(tree, exp.Create):
        # CREATE [OR REPLACE] TABLE x AS <query>: Spark returns the query as a DataFrame.
        inner = tree.expression
        if not isinstance(inner, exp.Query):
            msg = f"{query.path.name}: only CREATE TABLE ... AS SELECT can run on Spark"
            raise QueryError(msg)
        tree = inner
    if not isinstance(tree, exp.Query):
        msg = f"{query.path.name}: the Spark engine runs queries only, not {tree.key.upper()}"
        raise QueryError(msg)
    try:
        tree = add_practice_key(tree)
    except QueryError as exc:
        msg = f"{query.path.name}: {exc}"
        raise QueryError(msg) from exc
    tree = _type_params(tree, param_types, query.path.name)
    tables = _read_tables(tree)
    tree = _rename_tables(tree, dict(table_names))
    return SparkQuery(
        name=name,
        sql=tree.sql(dialect="spark", comments=False),
        param_types=param_types,
        tables=tables,
    )


def add_practice_key(tree: exp.Query, column: str = PRACTICE) -> exp.Query:
    """Return a copy of ``tree`` with ``column`` added to every key, join and group.

    See the module docstring for the rules.

    Raises
    ------
    QueryError
        For a construct that cannot be keyed safely (scalar subquery, comma or cross join,
        ``GROUP BY`` ordinal, a join without ``ON``/``USING``).

    Examples
    --------
    >>> import sqlglot
    >>> q = sqlglot.parse_one(
    ...     "SELECT c.id, sum(t.x) AS s FROM charges AS c JOIN tx AS t ON t.cid = c.id GROUP BY c.id",
    ...     read="spark")
    >>> print(add_practice_key(q).sql("spark"))
    SELECT c.id, SUM(t.x) AS s, c.practice_id AS practice_id FROM charges AS c JOIN tx AS t ON t.practice_id = c.practice_id AND (t.cid = c.id) GROUP BY c.practice_id, c.id
    """
    tree = tree.copy()
    # Outermost ORDER BY: a Spark result is a set (the engine sorts per practice).
    if isinstance(tree, exp.Select | exp.SetOperation) and tree.args.get("order"):
        tree.set("order", None)
    selects = list(tree.find_all(exp.Select))
    for select in selects:
        _key_select(select, column)
    return tree


def _source_name(select: exp.Select) -> str:
    from_ = select.args.get("from_")
    if from_ is None:
        msg = "a SELECT without FROM cannot carry the practice key"
        raise QueryError(msg)
    source = from_.this
    name = source.alias_or_name
    if not name:
        msg = f"the FROM source {source.sql('spark')!r} needs an alias to carry the practice key"
        raise QueryError(msg)
    return str(name)


def _col(table: str, column: str) -> exp.Column:
    return exp.column(column, table=table)


def _is_scope_of(node: exp.Expression, select: exp.Select) -> bool:
    """Whether ``node``'s nearest enclosing SELECT is ``select``."""
    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Select):
        parent = parent.parent
    return parent is select


def _key_select(select: exp.Select, column: str) -> None:
    parent = select.parent
    if isinstance(parent, exp.Exists):
        _key_exists(parent, select, column)
        return
    if isinstance(parent, exp.Subquery):
        holder = parent.parent
        if isinstance(holder, exp.In):
            _key_in_subquery(holder, select, column)
        elif holder is not None and not isinstance(
            holder, exp.From | exp.Join | exp.SetOperation | exp.Subquery | exp.CTE
        ):
            msg = (
                f"a scalar subquery ({select.sql('spark')!r}) cannot carry the practice key; "
                "write it as a join"
            )
            raise QueryError(msg)
    source = _source_name(select)
    key = _col(source, column)

    # Joins: the joined side's practice equals the FROM source's.
    for join in select.args.get("joins") or []:
        joined = join.this.alias_or_name
        if join.args.get("using"):
            join.set("using", [*join.args["using"], exp.to_identifier(column)])
            continue
        on = join.args.get("on")
        if on is None or not joined:
            msg = f"join {join.sql('spark')!r} has no ON/USING; write it as a JOIN ... ON"
            raise QueryError(msg)
        match = exp.EQ(this=_col(str(joined), column), expression=key.copy())
        join.set("on", exp.and_(match, exp.paren(on.copy(), copy=False), copy=False))

    # Groups.
    group = select.args.get("group")
    if group is not None:
        if group.args.get("all"):
            pass  # GROUP BY ALL groups by every non-aggregate select item, practice_id included
        else:
            items = list(group.expressions)
            if any(isinstance(i, exp.Literal) for i in items):
                msg = "GROUP BY by position cannot carry the practice key; name the columns"
                raise QueryError(msg)
            if not any(_is_practice(i, column) for i in items):
                group.set("expressions", [key.copy(), *items])
    elif _has_own_aggregate(select):
        select.set("group", exp.Group(expressions=[key.copy()]))

    # Windows in this SELECT's own scope.
    for window in select.find_all(exp.Window):
        if not _is_scope_of(window, select):
            continue
        parts = list(window.args.get("partition_by") or [])
        if not any(_is_practice(p, column) for p in parts):
            window.set("partition_by", [key.copy(), *parts])

    # The select list.
    projections = list(select.expressions)
    # `*` and `x.*` already bring practice_id (every source carries it).
    has_star = any(
        isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star))
        for p in projections
    )
    if not has_star and not any(p.alias_or_name == column for p in projections):
        select.set("expressions", [*projections, exp.alias_(key.copy(), column)])


def _is_practice(node: exp.Expression, column: str) -> bool:
    return isinstance(node, exp.Column) and node.name == column


def _has_own_aggregate(select: exp.Select) -> bool:
    for projection in select.expressions:
        for agg in projection.find_all(exp.AggFunc):
            inside_window = any(isinstance(a, exp.Window) for a in _ancestors(agg, projection))
            if not inside_window and _is_scope_of(agg, select):
                return True
    return False


def _ancestors(node: exp.Expr, stop: exp.Expr) -> list[exp.Expr]:
    out: list[exp.Expr] = []
    parent: exp.Expr | None = node.parent
    while parent is not None and parent is not stop:
        out.append(parent)
        parent = parent.parent
    return out


def _outer_select(node: exp.Expression) -> exp.Select:
    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Select):
        parent = parent.parent
    if parent is None:
        msg = "a subquery outside any SELECT cannot carry the practice key"
        raise QueryError(msg)
    return parent


def _key_exists(exists: exp.Exists, select: exp.Select, column: str) -> None:
    """Correlate ``[NOT] EXISTS (SELECT ...)`` on the practice as well."""
    outer = _source_name(_outer_select(exists))
    inner = _source_name(select)
    for join in select.args.get("joins") or []:
        if not join.args.get("on") or not join.this.alias_or_name:
            msg = f"join {join.sql('spark')!r} has no ON; write it as a JOIN ... ON"
            raise QueryError(msg)
        match = exp.EQ(this=_col(str(join.this.alias_or_name), column), expression=_col(inner, column))
        join.set("on", exp.and_(match, exp.paren(join.args["on"].copy()), copy=False))
    match = exp.EQ(this=_col(inner, column), expression=_col(outer, column))
    where = select.args.get("where")
    if where is None:
        select.set("where", exp.Where(this=match))
    else:
        where.set("this", exp.and_(exp.paren(where.this.copy(), copy=False), match, copy=False))


def _key_in_subquery(node: exp.In, select: exp.Select, column: str) -> None:
    """``x IN (SELECT y ...)`` -> ``(practice_id, x) IN (SELECT practice_id, y ...)``."""
    outer = _source_name(_outer_select(node))
    left = node.this
    node.set("this", exp.Tuple(expressions=[_col(outer, column), left.copy()]))
    inner = _source_name(select)
    select.set("expressions", [exp.alias_(_col(inner, column), column), *select.expressions])


def _type_params(tree: exp.Query, types: Mapping[str, str], file: str) -> exp.Query:
    """Wrap every ``:name`` in a CAST to its declared type (typed NULLs and empty lists)."""
    used: set[str] = set()

    def wrap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name:
            if node.name not in types:
                msg = f"{file}: parameter {node.name} is used but not declared"
                raise QueryError(msg)
            used.add(node.name)
            target = exp.DataType.build(types[node.name], dialect="spark")
            if isinstance(node.parent, exp.Cast) and node.parent.to == target:
                return node
            return exp.cast(node.copy(), target)
        return node

    return tree.transform(wrap, copy=True)  # type: ignore[return-value]  # a Query stays a Query


def _read_tables(tree: exp.Query) -> tuple[str, ...]:
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    names = {t.name for t in tree.find_all(exp.Table) if t.name not in ctes}
    return tuple(sorted(names))


def _rename_tables(tree: exp.Query, names: Mapping[str, str]) -> exp.Query:
    if not names:
        return tree
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tree = tree.copy()
    for table in list(tree.find_all(exp.Table)):
        original = table.name
        if original in ctes or original not in names:
            continue
        alias = table.alias or original
        table.set("this", exp.to_identifier(names[original]))
        table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return tree


# Running ------------------------------------------------------------------------------


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
