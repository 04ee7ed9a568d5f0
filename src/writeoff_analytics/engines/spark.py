"""The Spark engine: ``queries/select_candidate_lines.sql`` on Spark, over one store's balances.

The store has already derived ``charge_balances`` (netting its committed write-offs), so
only the candidate query runs on Spark, in its practice-keyed form
(:mod:`~writeoff_analytics.engines.spark_sql`) with one practice, with the parameters the
DuckDB engine binds (:mod:`~writeoff_analytics.engines.query_params`): one meaning, three
engines. Many practices at once: :mod:`~writeoff_analytics.engines.spark_practices`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from writeoff_analytics.engines.query_params import sql_params
from writeoff_analytics.engines.spark_sql import run_query, to_polars
from writeoff_analytics.spark.read import PRACTICE

if TYPE_CHECKING:
    import datetime as dt

    from writeoff_analytics.criteria.model import Criteria
    from writeoff_analytics.ledger.store import Ledger

#: The practice id a single store's balances carry on Spark (one store = one practice).
_STORE_PRACTICE = "store"


def candidate_lines(ledger: Ledger, criteria: Criteria, as_of: dt.date) -> pl.DataFrame:
    """Run the candidate query on Spark over the store's balances; see ``engines.Engine``.

    The session is the active one, else :func:`~writeoff_analytics.spark.session.build_session`
    (``local[2]``).
    """
    from pyspark.sql import SparkSession

    from writeoff_analytics.spark.session import build_session

    spark = SparkSession.getActiveSession() or build_session()
    table = ledger.balances().with_columns(pl.lit(_STORE_PRACTICE).alias(PRACTICE)).to_arrow()
    balances = spark.createDataFrame(table)
    found = run_query(
        spark,
        "select_candidate_lines",
        {"charge_balances": balances},
        **sql_params(criteria, as_of),
    )
    return to_polars(found).drop(PRACTICE).sort("group_key", "charge_id")
