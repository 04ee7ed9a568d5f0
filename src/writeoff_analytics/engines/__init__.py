"""The candidate search on each engine: one module per engine, the same functions in each.

Every engine module (``duckdb``, ``polars``, ``spark``) defines exactly the functions of
:class:`Engine`, with the same signatures (``tests/test_engine_parity.py`` checks it), so
``find_candidates`` runs any of them the same way::

    load_engine("polars").candidate_lines(ledger, criteria, as_of)

Modules are imported when first asked for, so importing this package (or
``writeoff_analytics``) never imports SQLGlot or PySpark, which come with the optional
``spark`` extra. Helpers that are not engines live beside them: ``query_params`` (the
criteria as the parameters of ``select_candidate_lines.sql``), ``spark_sql`` (query files
on Spark) and ``spark_practices`` (the search over a multi-practice extract).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

from writeoff_analytics.errors import CriteriaError

if TYPE_CHECKING:
    import datetime as dt

    import polars as pl

    from writeoff_analytics.criteria.model import Criteria
    from writeoff_analytics.ledger.store import Ledger

#: Engine name -> the module that implements it.
_MODULES = {
    "duckdb": "writeoff_analytics.engines.duckdb",
    "polars": "writeoff_analytics.engines.polars",
    "spark": "writeoff_analytics.engines.spark",
}
#: The engines ``find_candidates`` runs on.
ENGINES = tuple(_MODULES)


class Engine(Protocol):
    """What every engine module defines."""

    def candidate_lines(self, ledger: Ledger, criteria: Criteria, as_of: dt.date) -> pl.DataFrame:
        """Return the candidate lines of ``criteria`` in a loaded store, aged at ``as_of``.

        The caller holds the store's connection (``ledger.connect()``) and has checked that
        an extract is loaded. The frame has the columns of ``candidates.LINE_SCHEMA`` (other
        columns are dropped by the caller), sorted by ``group_key, charge_id``.
        """
        ...


def load_engine(name: str) -> Engine:
    """Return the engine module called ``name``, importing it on first use.

    Raises
    ------
    CriteriaError
        If no engine has that name (the message lists the known ones).

    Examples
    --------
    >>> load_engine("duckdb").__name__
    'writeoff_analytics.engines.duckdb'
    >>> load_engine("pandas")
    Traceback (most recent call last):
    ...
    writeoff_analytics.errors.CriteriaError: ...
    """
    module = _MODULES.get(name)
    if module is None:
        exc = CriteriaError.unknown("engine", [name], ENGINES, field="engine")
        raise exc
    if name == "spark":
        from writeoff_analytics.spark.session import require_spark

        require_spark()  # without the extra: one error naming it, not an ImportError
    engine: Engine = importlib.import_module(module)  # each module defines the Engine functions
    return engine
