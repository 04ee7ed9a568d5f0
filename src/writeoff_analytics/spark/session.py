"""Build the Spark session the Spark engine runs in, from a ``--spark-master`` URL.

``local[2]`` runs Spark inside this process's JVM on two cores (Java 17 is enough);
``spark://host:7077``, ``yarn`` or ``k8s://...`` send the same work to a cluster
(docs/SPARK.md). The session is configured so that the engine's meaning does not depend
on cluster defaults: ANSI SQL (an overflowing or unparsable value fails the job instead of
becoming null), UTC dates, and partition folder values kept as text (``practice=007`` is
practice ``"007"``, never the number 7).

Spark is an optional extra (``pip install 'writeoff_analytics[spark]'``: PySpark, and
sqlglot for the transpile); :func:`require_spark` refuses, naming the extra, when it is
not installed. This module itself imports neither, so the CLI can read its defaults.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import warnings
from typing import TYPE_CHECKING

from writeoff_analytics.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: The master used when none is given: two local cores.
DEFAULT_MASTER = "local[2]"

#: The JVM heap of a ``local[...]`` session when none is given. On a local master the
#: driver JVM is also the only executor: it holds the cached balances, the shuffle buffers,
#: broadcast join tables and every task result on its way back to Python. With Spark's own
#: default (1g) a ten-million-transaction search failed (a lost task result; a broadcast
#: table that did not fit) or ran twice as slowly; 4g ran it (benchmarks/SPARK_NOTES.md).
#: On a cluster the cluster's settings decide unless a value is given.
LOCAL_DRIVER_MEMORY = "4g"

#: The optional extra the Spark engine needs, as ``pip`` takes it.
SPARK_EXTRA = "writeoff_analytics[spark]"
#: The modules that extra brings (the top-level import names of its distributions).
SPARK_MODULES = ("pyspark", "sqlglot")

_MEMORY = re.compile(r"^[1-9][0-9]*[kmgt]$")

#: Settings the engine's results depend on; applied to every session it builds.
ENGINE_CONF: dict[str, str] = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    # practice=007 must stay the text "007" (ids are strings, LEDGER_FORMAT.md).
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}

#: Settings that only make sense on one machine (local[...] masters).
LOCAL_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.adaptive.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}


def require_spark() -> None:
    """Refuse, naming the optional extra, unless PySpark and sqlglot are installed.

    Call it where Spark is first needed, before importing ``pyspark`` or ``sqlglot``; it
    only looks the modules up (nothing is imported, no JVM starts).

    Raises
    ------
    ConfigError
        If a module of the ``spark`` extra is not installed; the message says how to
        install it.
    """
    missing = [name for name in SPARK_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        msg = (
            f"the Spark engine needs the optional extra: pip install '{SPARK_EXTRA}' "
            f"(not installed here: {', '.join(missing)})"
        )
        raise ConfigError(msg)


def build_session(
    master: str = DEFAULT_MASTER,
    *,
    app_name: str = "writeoff_analytics",
    driver_memory: str | None = None,
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """Start (or reuse) a Spark session for the Spark engine.

    Parameters
    ----------
    master
        A Spark master URL: ``local[2]`` (default), ``local[*]``, ``spark://host:7077``,
        ``yarn``, ``k8s://https://host:443``.
    app_name
        The application name the cluster shows.
    driver_memory
        The driver JVM's heap, e.g. ``"4g"`` or ``"512m"`` (``spark.driver.memory``). Default
        on a ``local[...]`` master: :data:`LOCAL_DRIVER_MEMORY`; elsewhere the cluster's
        setting. It takes effect only when this call starts the JVM (the first session of
        the process).
    conf
        Extra Spark settings (e.g. ``{"spark.executor.memory": "8g"}``); they override the
        local defaults but not :data:`ENGINE_CONF`, which the results depend on.

    Returns
    -------
    SparkSession
        The session; a session already running in this process is reused (Spark allows one
        per JVM) and given :data:`ENGINE_CONF`.

    Raises
    ------
    ConfigError
        If ``driver_memory`` is not a size such as ``4g`` or ``512m``, or the ``spark``
        extra is not installed (:func:`require_spark`).
    """
    require_spark()
    from pyspark.sql import SparkSession

    if driver_memory is not None and not _MEMORY.match(driver_memory.lower()):
        msg = f"driver memory {driver_memory!r} is not a size; give e.g. 4g or 512m"
        raise ConfigError(msg)
    _quiet_pandas_check()
    builder = SparkSession.builder.master(master).appName(app_name)
    settings: dict[str, str] = {}
    local = master.startswith("local")
    if local:
        settings.update(LOCAL_CONF)
        settings["spark.driver.memory"] = LOCAL_DRIVER_MEMORY
        # A Python worker, if Spark ever starts one, runs this interpreter, not `python3`.
        settings["spark.pyspark.python"] = sys.executable
    if driver_memory is not None:
        settings["spark.driver.memory"] = driver_memory.lower()
    settings.update(conf or {})
    settings.update(ENGINE_CONF)
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if local:
        # One machine: Spark's WARN lines (glob lookups, loopback host) are noise here.
        session.sparkContext.setLogLevel("ERROR")
    apply_engine_conf(session)
    return session


def _quiet_pandas_check() -> None:
    """Import PySpark's optional-dependency probe once, without its pandas>=3 FutureWarning.

    PySpark imports ``pyspark.testing.utils`` lazily while converting Python values, which
    warns that pandas >= 3 is not fully supported; the engine converts through Arrow and
    never through pandas, so the warning says nothing about our results.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        import pyspark.testing.utils  # noqa: F401


def apply_engine_conf(spark: SparkSession) -> None:
    """Set :data:`ENGINE_CONF` on a running session (one built elsewhere, e.g. a notebook's)."""
    for key, value in ENGINE_CONF.items():
        spark.conf.set(key, value)
