"""The DuckDB engine: ``queries/select_candidate_lines.sql`` on the store's connection.

Every criterion is a bound parameter (:mod:`~writeoff_analytics.engines.query_params`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from writeoff_analytics import queries
from writeoff_analytics.engines.query_params import sql_params

if TYPE_CHECKING:
    import datetime as dt

    import polars as pl

    from writeoff_analytics.criteria.model import Criteria
    from writeoff_analytics.ledger.store import Ledger


def candidate_lines(ledger: Ledger, criteria: Criteria, as_of: dt.date) -> pl.DataFrame:
    """Run the candidate query in the store; return its lines (see ``engines.Engine``)."""
    with ledger.connect() as con:
        return queries.frame(con, "select_candidate_lines", **sql_params(criteria, as_of))
