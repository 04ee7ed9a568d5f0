"""Read a multi-practice extract (LEDGER_FORMAT.md, "Many practices") into Spark DataFrames.

A multi-practice extract is a folder of ordinary extracts named Hive-style,
``practice=<practice_id>/``, each holding the six tables as ``<table>.csv`` or
``<table>.parquet``. Spark discovers the ``practice=`` folders itself (so the same call
reads a local folder, HDFS or object storage), and the folder value becomes the text
column ``practice_id`` (``practice=007`` is ``"007"``: partition type inference is off).

Types are declared, never inferred: CSV cells are read as text and converted by the
contract of :mod:`writeoff_analytics.ledger.schema` (ids and strings stay text, money is
``DECIMAL(18,2)`` from its text, dates ISO, booleans by the contract's words). A value
that does not parse fails the Spark job with the table, column and value; a Parquet money
column stored as a float is refused before anything runs (money is never float).

A ``.zip`` of a multi-practice extract is unpacked, member by member, into a temporary
folder that lives as long as the ``with opened_extract(...)`` block (Spark reads files,
not zip members); member names that would land outside it are refused.
"""

from __future__ import annotations

import csv
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from writeoff_analytics.errors import LedgerError, LedgerFormatError
from writeoff_analytics.ledger.archive import ZipLimits, check_sizes, open_zip, plan, write
from writeoff_analytics.ledger.schema import FALSE_WORDS, TABLES, TRUE_WORDS, ColumnType, Table

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

Format = Literal["auto", "csv", "parquet"]

#: The text column naming each row's practice (from its ``practice=<id>/`` folder); the
#: Spark form of every query keys its joins and groups by it (``engines/spark_sql.py``).
PRACTICE = "practice_id"

#: Spark SQL type of each contract type.
SPARK_TYPES: dict[ColumnType, str] = {
    ColumnType.ID: "string",
    ColumnType.STRING: "string",
    ColumnType.ENUM: "string",
    ColumnType.DATE: "date",
    ColumnType.MONEY: "decimal(18,2)",
    ColumnType.BOOL: "boolean",
    ColumnType.INTEGER: "int",
}

#: Money text the contract accepts (money.parse_money's rule).
_MONEY_PATTERN = r"^-?[0-9]{1,16}(\.[0-9]{1,2})?$"
_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_PARTITION = "practice"
#: Table files a practice folder of a zip may hold (anything else in the zip is skipped).
_TABLE_FILES = frozenset(f"{t.name}.{kind}" for t in TABLES for kind in ("csv", "parquet"))


@dataclass(frozen=True)
class SparkExtract:
    """A multi-practice extract as Spark DataFrames, one per contract table.

    Attributes
    ----------
    source
        The folder (path or URI) it was read from.
    tables
        Each contract table with its contract columns in order, typed, then ``practice_id``.
    practice_ids
        The practices found (local folders) or asked for; ``None`` when not listed.
    """

    source: str
    tables: Mapping[str, DataFrame]
    practice_ids: tuple[str, ...] | None


def practice_folders(path: Path) -> dict[str, Path]:
    """The ``practice=<id>`` folders of a local multi-practice extract, by practice id.

    Raises
    ------
    LedgerError
        If ``path`` is not a folder or holds no ``practice=`` folder.
    """
    if is_zip(path) and path.is_file():
        msg = f"{path}: a .zip is unpacked first: with opened_extract(path) as folder: ..."
        raise LedgerError(msg)
    if not path.is_dir():
        msg = f"{path}: not a folder; a multi-practice extract is a folder of practice=<id>/ folders"
        raise LedgerError(msg)
    found = {
        child.name.split("=", 1)[1]: child
        for child in sorted(path.iterdir())
        if child.is_dir() and child.name.startswith(f"{_PARTITION}=") and child.name != f"{_PARTITION}="
    }
    if not found:
        msg = (
            f"{path}: no practice=<id>/ folders; a multi-practice extract holds one ordinary "
            "extract per practice (LEDGER_FORMAT.md, 'Many practices')"
        )
        raise LedgerError(msg)
    return found


def is_zip(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` names a local ``.zip`` (rather than a folder or a URI)."""
    text = os.fspath(source)
    return "://" not in text and text.lower().endswith(".zip")


@contextmanager
def opened_extract(source: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a multi-practice extract as something Spark can read: a folder or a URI.

    A folder or a URI is yielded as it is. A local ``.zip`` is unpacked into a temporary
    folder, which is deleted when the block ends: read and collect inside the block.

    Parameters
    ----------
    source
        A folder, a URI (``hdfs://...``), or a ``.zip`` holding ``practice=<id>/`` folders
        (at its top or under one folder), each with the practice's table files.

    Yields
    ------
    str
        The folder (or URI) to give :func:`read_extract`.

    Raises
    ------
    LedgerFormatError
        If the zip cannot be read, a member name is absolute, climbs out with ``..`` or is
        a link, the practice folders sit under different folders, a practice folder holds
        a table twice, or there is no ``practice=<id>/`` folder with a table file.

    Examples
    --------
    >>> with opened_extract("billing_extract/") as folder:
    ...     folder
    'billing_extract/'
    """
    if not is_zip(source):
        yield os.fspath(source)
        return
    path = Path(source)
    with open_zip(path) as archive, tempfile.TemporaryDirectory(
        prefix="writeoff-spark-extract-"
    ) as tmp:
        root = Path(tmp)
        members = _practice_members(archive, path)
        check_sizes(members, path, root, ZipLimits())
        write(archive, members, path, root)
        yield str(root)


def _practice_members(archive: zipfile.ZipFile, path: Path) -> list[tuple[zipfile.ZipInfo, Path]]:
    """The table files of the zip's practice folders, each to ``practice=<id>/<table file>``.

    Every name is checked before anything is written (:func:`archive.plan`), so a bad zip
    leaves nothing behind.
    """
    parents: set[tuple[str, ...]] = set()

    def want(parts: tuple[str, ...]) -> Path | None:
        *folders, base = parts
        if not folders or not folders[-1].startswith(f"{_PARTITION}="):
            return None  # not in a practice folder (a README, a manifest): not the extract
        practice = folders[-1].split("=", 1)[1]
        if not practice:
            msg = f"member {'/'.join(parts)}: the folder practice= names no practice"
            raise LedgerFormatError(msg, file=str(path))
        if base.lower() not in _TABLE_FILES:
            return None
        parents.add(tuple(folders[:-1]))
        return Path(f"{_PARTITION}={practice}") / base.lower()

    members = plan(archive, path, want)
    if not members:
        msg = (
            "holds no practice=<id>/ folder with a table file; a multi-practice zip holds one "
            "ordinary extract per practice (LEDGER_FORMAT.md, 'Many practices')"
        )
        raise LedgerFormatError(msg, file=str(path))
    if len(parents) > 1:
        shown = ", ".join(sorted("/".join(p) or "(top)" for p in parents))
        msg = f"holds practice folders under different folders ({shown}); keep one extract per zip"
        raise LedgerFormatError(msg, file=str(path))
    return members


def read_extract(
    spark: SparkSession,
    source: str | Path,
    *,
    fmt: Format = "auto",
    practice_ids: Iterable[str] | None = None,
) -> SparkExtract:
    """Read a multi-practice extract into typed Spark DataFrames keyed by ``practice_id``.

    Parameters
    ----------
    spark
        The session (:func:`~writeoff_analytics.spark.session.build_session`).
    source
        A local folder, or a URI Spark can read (``hdfs://...``, ``s3a://...``); a ``.zip``
        is read inside ``with opened_extract(zip) as folder``.
    fmt
        ``"auto"`` (local folders only: each table is CSV or Parquet, per practice), or
        ``"csv"``/``"parquet"`` for every table.
    practice_ids
        Read only these practices (Spark prunes the other folders); ``None`` = all.

    Returns
    -------
    SparkExtract
        The six tables; nothing is read until an action runs.

    Raises
    ------
    LedgerError
        If the folder holds no practice folders, a practice lacks a table, or a practice
        asked for is not there.
    LedgerFormatError
        If a table lacks a required column or a Parquet money column is a float.
    """
    text = str(source)
    wanted = None if practice_ids is None else tuple(sorted(set(practice_ids)))
    found: tuple[str, ...] | None = None
    # table -> [(format, paths or glob)]
    plan: dict[str, list[tuple[str, list[str]]]] = {}
    if "://" not in text:
        folders = practice_folders(Path(text))
        found = tuple(folders)
        if wanted is not None:
            unknown = sorted(set(wanted) - set(found))
            if unknown:
                msg = (
                    f"{text}: no folder for practice(s) {', '.join(unknown)}; "
                    f"found: {', '.join(found)}"
                )
                raise LedgerError(msg)
            folders = {p: folders[p] for p in wanted}
        for table in TABLES:
            plan[table.name] = _local_files(table.name, folders, fmt)
    else:
        if fmt == "auto":
            msg = f"{text}: give the format (csv or parquet) for an extract that is not a local folder"
            raise LedgerError(msg)
        base = text.rstrip("/")
        plan = {t.name: [(fmt, [f"{base}/{_PARTITION}=*/{t.name}.{fmt}"])] for t in TABLES}
    tables: dict[str, DataFrame] = {}
    for table in TABLES:
        parts = [_read_table(spark, text, table, kind, paths) for kind, paths in plan[table.name]]
        frame = parts[0]
        for extra in parts[1:]:
            frame = frame.unionByName(extra)
        if wanted is not None:
            from pyspark.sql import functions as F

            # Spark prunes the other practice=... folders (a partition filter).
            frame = frame.where(F.col(PRACTICE).isin(list(wanted)))
        tables[table.name] = frame
    return SparkExtract(source=text, tables=tables, practice_ids=wanted or found)


def _local_files(
    table: str, folders: Mapping[str, Path], fmt: Format
) -> list[tuple[str, list[str]]]:
    files: dict[str, list[str]] = {}
    for practice, folder in folders.items():
        have = [k for k in ("parquet", "csv") if (folder / f"{table}.{k}").is_file()]
        if fmt != "auto":
            have = [k for k in have if k == fmt]
        if not have:
            wanted = f"{table}.{fmt}" if fmt != "auto" else f"{table}.csv or {table}.parquet"
            msg = f"practice {practice}: {folder} has no {wanted}; every practice holds the six tables"
            raise LedgerError(msg)
        files.setdefault(have[0], []).append(str(folder / f"{table}.{have[0]}"))
    return sorted(files.items())


def _read_table(
    spark: SparkSession, root: str, table: Table, kind: str, paths: list[str]
) -> DataFrame:
    # basePath makes Spark read practice=<id> from each file's folder (partition discovery).
    reader = spark.read.option("basePath", root.rstrip("/"))
    if kind != "csv":
        return _typed(reader.parquet(*paths), table, from_text=False)
    reader = (
        reader.option("header", "true")
        .option("mode", "FAILFAST")
        .option("multiLine", "true")
        .option("escape", '"')
    )
    if "://" in root:
        # Every cell as text (no inference; Spark reads the header line), then converted.
        return _typed(reader.option("inferSchema", "false").csv(paths), table, from_text=True)
    # Local files: the header is read here, so Spark need not run a job to find the columns;
    # files sharing a header are read together, each column declared as text.
    from pyspark.sql.types import StringType, StructField, StructType

    by_header: dict[tuple[str, ...], list[str]] = {}
    for path in paths:
        by_header.setdefault(_csv_header(Path(path)), []).append(path)
    parts = []
    for header, group in sorted(by_header.items()):
        schema = StructType([StructField(name, StringType(), True) for name in header])
        parts.append(_typed(reader.schema(schema).csv(group), table, from_text=True))
    frame = parts[0]
    for extra in parts[1:]:
        frame = frame.unionByName(extra)
    return frame


def _csv_header(path: Path) -> tuple[str, ...]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        row = next(csv.reader(handle), None)
    if not row:
        msg = "the file is empty; the first line must name the columns"
        raise LedgerFormatError(msg, file=str(path))
    return tuple(row)


def _typed(raw: DataFrame, table: Table, *, from_text: bool) -> DataFrame:
    from pyspark.sql import functions as F

    present = {c.lower(): c for c in raw.columns}
    types = dict(raw.dtypes)
    exprs: list[Column] = []
    for column in table.columns:
        spark_type = SPARK_TYPES[column.type]
        name = present.get(column.name)
        if name is None:
            if column.required:
                msg = f"required column {column.name} is missing"
                raise LedgerFormatError(
                    msg,
                    file=f"{table.name}.csv/.parquet",
                    column=column.name,
                )
            exprs.append(F.lit(None).cast(spark_type).alias(column.name))
            continue
        if from_text:
            exprs.append(_from_text(F.col(f"`{name}`"), table, column.name, column.type))
        else:
            if column.type is ColumnType.MONEY and types[name] in {"float", "double"}:
                msg = "money is stored as a float; store it as text or DECIMAL(18,2)"
                raise LedgerFormatError(
                    msg,
                    file=f"{table.name}.parquet",
                    column=column.name,
                )
            exprs.append(F.col(f"`{name}`").cast(spark_type).alias(column.name))
    exprs.append(F.col(_PARTITION).cast("string").alias(PRACTICE))
    return raw.select(*exprs)


def _from_text(col: Column, table: Table, name: str, kind: ColumnType) -> Column:
    """Convert one CSV text column by its contract type; a bad value fails the job."""
    from pyspark.sql import functions as F

    text = F.when(col == "", None).otherwise(col)
    where = f"{table.name}.csv, column {name}: "
    if kind in {ColumnType.ID, ColumnType.STRING, ColumnType.ENUM}:
        return text.alias(name)
    if kind is ColumnType.MONEY:
        ok = text.rlike(_MONEY_PATTERN)
        bad = F.raise_error(F.concat(F.lit(where), text, F.lit(" is not money (e.g. 1234.50)")))
        value = F.when(text.isNull(), None).when(ok, text.cast("decimal(18,2)")).otherwise(bad)
        return value.cast("decimal(18,2)").alias(name)
    if kind is ColumnType.DATE:
        ok = text.rlike(_DATE_PATTERN)
        bad = F.raise_error(F.concat(F.lit(where), text, F.lit(" is not a date (YYYY-MM-DD)")))
        value = F.when(text.isNull(), None).when(ok, F.to_date(text, "yyyy-MM-dd")).otherwise(bad)
        return value.cast("date").alias(name)
    if kind is ColumnType.BOOL:
        word = F.lower(F.trim(text))
        bad = F.raise_error(F.concat(F.lit(where), text, F.lit(" is not true or false")))
        value = (
            F.when(text.isNull(), None)
            .when(word.isin(sorted(TRUE_WORDS)), F.lit(True))
            .when(word.isin(sorted(FALSE_WORDS)), F.lit(False))
            .otherwise(bad)
        )
        return value.cast("boolean").alias(name)
    # INTEGER: ANSI mode makes a non-number fail the job.
    return text.cast("int").alias(name)
