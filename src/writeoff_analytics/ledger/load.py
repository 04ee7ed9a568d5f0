"""Read, validate and load a ledger extract (a folder or ``.zip`` of CSV, Parquet or Excel).

Reading never guesses a type: CSV is read by DuckDB with every column as text and a fixed
dialect (comma, double quotes, header row); the validator (:mod:`.validate`) then checks
and casts each column set-wise. Only rows that break a rule go through Python.

Fatal problems raise one :class:`~writeoff_analytics.errors.LedgerFormatError` and leave
the store as it was: a missing table, a missing required column, an unreadable or empty
file, non-UTF-8 bytes. Missing tables and columns are found before the store is opened;
a problem found while reading a file's rows rolls back the load's one transaction (the
tables stored before it included). A row with the wrong number of fields (a short or long
row) is a row problem: that row is rejected and the rest of the file loads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from writeoff_analytics import queries
from writeoff_analytics.export.csv import source_cell, write_rows_file
from writeoff_analytics.ledger.controls import LoadGuard, LoadRefused, TableControl, table_control
from writeoff_analytics.ledger.files import (
    locate,
    opened,
    read_header,
    read_table,
    sha256_of,
)
from writeoff_analytics.ledger.mapping import VendorMapping, load_mapping
from writeoff_analytics.ledger.schema import TABLES, Table
from writeoff_analytics.ledger.snapshot import FileRecord, ImportReport, SnapshotWriter
from writeoff_analytics.ledger.store import DEFAULT_DB, Ledger
from writeoff_analytics.ledger.validate import ROW, TableResult, validate_table
from writeoff_analytics.writeoffs.audit import AuditAction
from writeoff_analytics.writeoffs.permissions import Config, Permission, require_permission

if TYPE_CHECKING:
    import os

    import polars as pl

    from writeoff_analytics.errors import RowProblem

#: ``progress(stage, fraction)``: called as a load goes on (fraction 0..1).
Progress = Callable[[str, float], None]
#: Name of the rejects file written beside a file store.
REJECTS_FILE = "rejects.csv"



@dataclass(frozen=True)
class Extract:
    """An extract read and validated, not yet loaded.

    Attributes
    ----------
    source
        The path read.
    frames
        One typed frame per contract table: the kept rows (contract columns first, extras
        after, as text).
    files
        One record per file read (name, SHA-256, rows, rows rejected).
    problems
        Every row problem, by table order, row, column.
    records
        The raw text of each rejected row by ``(table, row)``.
    columns
        Each table's column names as the file had them (for ``rejects.csv``).
    """

    source: str
    frames: Mapping[str, pl.DataFrame]
    files: tuple[FileRecord, ...]
    problems: tuple[RowProblem, ...]
    records: Mapping[tuple[str, int], Mapping[str, str | None]]
    columns: Mapping[str, tuple[str, ...]]

    @property
    def rejected_rows(self) -> int:
        """How many rows were set aside."""
        return len(self.records)


def read_extract(
    path: str | os.PathLike[str],
    *,
    mapping: str | os.PathLike[str] | VendorMapping | None = None,
    progress: Progress | None = None,
) -> Extract:
    """Read and validate a ledger extract without touching any store.

    Parameters
    ----------
    path
        A folder holding the six tables, or a ``.zip`` of one. Each table is
        ``<table>.csv``, ``<table>.parquet`` or ``<table>.xlsx``.
    mapping
        A vendor mapping profile (TOML path or a loaded mapping) that renames files and
        columns and converts formats before validation; ``None`` for the canonical format.
    progress
        Optional ``progress(stage, fraction)`` callback.

    Returns
    -------
    Extract
        Typed frames of the kept rows, file records, problems and rejected rows' text.

    Raises
    ------
    LedgerFormatError
        A missing table or required column, an unreadable, empty or non-UTF-8 file.

    Examples
    --------
    >>> ex = read_extract("tests/data/small")
    >>> ex.frames["charges"].height, len(ex.problems)
    (6, 0)
    """
    vendor = _vendor(mapping)
    report = progress or (lambda stage, fraction: None)
    with opened(Path(path), vendor) as folder:
        reader = _TableReader(folder, vendor)
        frames = {table.name: result.frame for table, result in reader.tables(report)}
    report("validated", 1.0)
    return reader.extract(str(path), frames)


TABLES_BY: dict[str, Table] = {t.name: t for t in TABLES}


def load_extract(
    ledger: Ledger,
    path: str | os.PathLike[str],
    *,
    mapping: str | os.PathLike[str] | VendorMapping | None = None,
    progress: Progress | None = None,
    rejects: str | os.PathLike[str] | None = None,
    guard: LoadGuard | None = None,
    config: Config | None = None,
) -> ImportReport:
    """Read, validate and load an extract into ``ledger``, replacing its snapshot.

    The load is one transaction: on any error the store is left exactly as it was.
    Before the new snapshot replaces the current one, ``guard`` (default
    :class:`~writeoff_analytics.ledger.controls.LoadGuard`: no table may end empty, at most
    1% of any table's rows rejected) checks the control totals; a refused load changes
    nothing but ``rejects.csv``. The report carries the control totals of every table, and
    the store logs them (``import_controls``).
    Rejected rows are stored (the ``rejects`` table) and written to ``rejects.csv``
    (the original columns plus ``table``, ``row`` and ``problem``) so they can be fixed
    and reloaded.

    Parameters
    ----------
    ledger
        The store.
    path
        The extract (see :func:`read_extract`).
    mapping
        A vendor mapping profile, or ``None``.
    progress
        Optional ``progress(stage, fraction)`` callback (the widget's progress bar).
    rejects
        Where to write the rejects file; default ``rejects.csv`` beside a file store
        (none for an in-memory store). An old file there is removed when nothing is rejected.
    guard
        What the load may do before it is refused (see :class:`LoadGuard`).

    Returns
    -------
    ImportReport
        Import id, fingerprint, row counts and problems.

    Raises
    ------
    LedgerFormatError
        On a fatal problem (nothing is changed).
    LoadRefused
        If the load breaks the guard (nothing is changed; ``rejects.csv`` is written).

    Examples
    --------
    >>> report = load_extract(Ledger(":memory:"), "tests/data/small")
    >>> report.row_counts["transactions"], report.rejected_rows
    (9, 0)
    """
    require_permission(ledger, Permission.LOAD_LEDGER, "load the ledger", AuditAction.LOAD, config=config)  # issue 16
    report = progress or (lambda stage, fraction: None)
    vendor = _vendor(mapping)
    with opened(Path(path), vendor) as folder:
        # Missing tables and columns, duplicated files: found before the store is touched.
        reader = _TableReader(folder, vendor)
        # One transaction from the first table written to the balances derived: an error
        # (or a killed process) on the way leaves the previous snapshot whole. Each table
        # goes into the store as soon as it is validated and its frame is let go before the
        # next is read, so memory holds one table, not six.
        refused: LoadRefused | None = None
        try:
            with ledger.transaction() as con:
                if ledger.is_loaded():
                    reader.previous = dict(queries.run(con, "select_snapshot_row_counts"))
                writer = SnapshotWriter(con)
                for table, validated in reader.tables(lambda s, f: report(s, f * 0.8)):
                    writer.put(table, validated.frame)
                    del validated
                extract = reader.extract(str(path), {})
                (guard or LoadGuard()).check(reader.controls)
                report("storing", 0.8)
                result = writer.finish(
                    source=extract.source,
                    files=extract.files,
                    problems=extract.problems,
                    records=extract.records,
                    controls=reader.controls,
                )
        except LoadRefused as exc:
            refused = exc
    target = (
        Path(rejects)
        if rejects is not None
        else (None if ledger.is_memory else Path(ledger.path).with_name(REJECTS_FILE))
    )
    if target is not None:
        write_rejects(extract, target)
    if refused is not None:
        raise refused
    report("done", 1.0)
    return result


def load_ledger(
    path: str | os.PathLike[str],
    db: str | os.PathLike[str] = DEFAULT_DB,
    *,
    mapping: str | os.PathLike[str] | VendorMapping | None = None,
) -> Ledger:
    """Load an extract into the store ``db`` and return the store.

    Examples
    --------
    >>> ledger = load_ledger("tests/data/small", ":memory:")
    >>> ledger.balances().height
    6
    """
    ledger = Ledger(db)
    load_extract(ledger, path, mapping=mapping)
    return ledger


def write_rejects(extract: Extract, target: Path) -> None:
    """Write the rejected rows as a CSV: ``table,row,problem`` then the original columns.

    Text cells that a spreadsheet would run as a formula get a leading ``'``; numbers stay
    numbers. With nothing rejected, an old file at ``target`` is removed.
    """
    if not extract.records:
        if target.exists():
            target.unlink()
        return
    columns: list[str] = []
    for table in TABLES:
        for c in extract.columns.get(table.name, ()):
            if c not in columns:
                columns.append(c)
    reasons: dict[tuple[str, int], list[str]] = {}
    for p in extract.problems:
        if p.row is not None:
            reasons.setdefault((p.table, p.row), []).append(
                p.reason if p.column is None else f"{p.column}: {p.reason}"
            )
    order = {t.name: i for i, t in enumerate(TABLES)}
    rows = (
        [name, str(row), source_cell("; ".join(reasons.get((name, row), []))),
         *(source_cell(extract.records[(name, row)].get(c)) for c in columns)]
        for name, row in sorted(extract.records, key=lambda k: (order[k[0]], k[1]))
    )
    # export/csv.py: the one CSV writer; a plain number stays as written, so a fixed file loads
    write_rows_file(target, ["table", "row", "problem", *columns], rows)


# --- reading table by table -------------------------------------------------------------


def _vendor(mapping: str | os.PathLike[str] | VendorMapping | None) -> VendorMapping | None:
    if mapping is None or isinstance(mapping, VendorMapping):
        return mapping
    return load_mapping(mapping)


#: The columns other tables reference, by table: all a validated table must keep once
#: its frame has gone into the store (references resolve against the rows kept).
_REFERENCED: dict[str, tuple[str, ...]] = {
    t.name: tuple(
        dict.fromkeys(
            c.references[1]
            for other in TABLES
            for c in other.columns
            if c.references is not None and c.references[0] == t.name
        )
    )
    for t in TABLES
}


class _TableReader:
    """Reads and validates an extract's tables one at a time, in load order.

    Creating it finds the six files and checks their headers (the fatal problems that need
    no reading of rows); :meth:`tables` then yields each table validated, and afterwards
    keeps of it only what later tables and the report need (referenced ids, rejected rows).
    """

    def __init__(self, folder: Path, vendor: VendorMapping | None) -> None:
        self.vendor = vendor
        self.located = {t.name: locate(folder, t, vendor) for t in TABLES}
        self.headers = {
            name: read_header(p, TABLES_BY[name], vendor) for name, p in self.located.items()
        }
        self.files = {name: p.name for name, p in self.located.items()}
        self.digests: dict[str, str] = {}
        self.read_problems: dict[str, list[RowProblem]] = {}
        self.ragged: dict[str, dict[int, dict[str, str | None]]] = {}
        self.columns: dict[str, tuple[str, ...]] = {}
        self.kept: dict[str, TableResult] = {}
        self.heights: dict[str, int] = {}
        self.controls: list[TableControl] = []
        #: Rows per table of the snapshot this load replaces (None: a first load).
        self.previous: Mapping[str, int] | None = None

    def tables(self, report: Progress) -> Iterator[tuple[Table, TableResult]]:
        """Yield ``(table, result)`` in load order; the caller should drop ``result`` after use."""
        vendor = self.vendor
        for i, table in enumerate(TABLES):
            p = self.located[table.name]
            report(f"reading {p.name}", i / len(TABLES))
            self.digests[table.name] = sha256_of(p)
            raw, problems, bad, dropped = read_table(p, table, self.headers[table.name], vendor)
            if vendor is not None:
                raw = vendor.apply(table, raw)
                bad = {
                    row: {vendor.contract_name(table.name, k): v for k, v in rec.items()}
                    for row, rec in bad.items()
                }
            # rejects.csv uses contract names (a mapping's renames applied)
            self.columns[table.name] = tuple(c for c in raw.columns if c != ROW)
            self.read_problems[table.name] = problems
            self.ragged[table.name] = bad
            result = validate_table(
                table,
                raw,
                file=self.files[table.name],
                kept=self.kept,
                date_format=vendor.date_format if vendor is not None else None,
                set_aside=bad,
            )
            del raw
            self.heights[table.name] = result.frame.height
            self.controls.append(
                table_control(
                    table,
                    file=result.file,
                    kept=result.frame,
                    rejected=result.rejected,
                    set_aside=bad,
                    previous_rows=None if self.previous is None else self.previous[table.name],
                    dropped_rows=tuple(d.row for d in dropped),
                )
            )
            self.kept[table.name] = result
            yield table, result
            self.kept[table.name] = dataclasses.replace(
                result, frame=result.frame.select(_REFERENCED[table.name])
            )
            del result

    def extract(self, source: str, frames: Mapping[str, pl.DataFrame]) -> Extract:
        """The :class:`Extract` of the tables read (``frames``: those the caller kept)."""
        return _assemble(
            source,
            self.kept,
            self.heights,
            frames,
            self.files,
            self.digests,
            self.read_problems,
            self.ragged,
            self.columns,
        )


def _assemble(
    source: str,
    results: Mapping[str, TableResult],
    heights: Mapping[str, int],
    frames: Mapping[str, pl.DataFrame],
    files: Mapping[str, str],
    digests: Mapping[str, str],
    read_problems: Mapping[str, list[RowProblem]],
    ragged: Mapping[str, dict[int, dict[str, str | None]]],
    headers: Mapping[str, tuple[str, ...]],
) -> Extract:
    problems: list[RowProblem] = []
    records: dict[tuple[str, int], dict[str, str | None]] = {}
    file_records: list[FileRecord] = []
    for table in TABLES:
        res = results[table.name]
        table_problems = sorted(
            [*read_problems[table.name], *res.problems],
            key=lambda p: (p.row or 0, p.column or ""),
        )
        problems.extend(table_problems)
        for row, rec in ragged[table.name].items():
            records[(table.name, row)] = rec
        for rec_any in res.rejected.iter_rows(named=True):
            row = int(rec_any.pop(ROW))
            records[(table.name, row)] = {k: _text(v) for k, v in rec_any.items()}
        rejected = len(ragged[table.name]) + res.rejected.height
        file_records.append(
            FileRecord(
                table=table.name,
                file=files[table.name],
                sha256=digests[table.name],
                rows=heights[table.name] + rejected,
                rejected=rejected,
            )
        )
    return Extract(
        source=source,
        frames=dict(frames),
        files=tuple(file_records),
        problems=tuple(problems),
        records=records,
        columns=dict(headers),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
