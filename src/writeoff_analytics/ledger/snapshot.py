"""Replace a store's extract snapshot in one transaction and derive its balances.

Every way into the store (a canonical extract, a vendor mapping, an 835 import, Synthea,
test fixtures) ends here, with frames that already hold the contract's types, so the
derived balances have one definition: ``queries/derive_charge_balances.sql``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from writeoff_analytics import queries
from writeoff_analytics.errors import LedgerError, RowProblem
from writeoff_analytics.ledger.quarantine import derive_quarantine
from writeoff_analytics.ledger.schema import TABLES, ColumnType, Table
from writeoff_analytics.money import PL_MONEY

if TYPE_CHECKING:
    import duckdb

    from writeoff_analytics.ledger.controls import TableControl
    from writeoff_analytics.ledger.store import Ledger

_PL_TYPES: dict[ColumnType, pl.DataType] = {
    ColumnType.ID: pl.String(),
    ColumnType.STRING: pl.String(),
    ColumnType.DATE: pl.Date(),
    ColumnType.MONEY: PL_MONEY,
    ColumnType.BOOL: pl.Boolean(),
    ColumnType.INTEGER: pl.Int32(),
    ColumnType.ENUM: pl.String(),
}


def polars_schema(table: Table) -> dict[str, pl.DataType]:
    """The Polars dtypes of a contract table's columns."""
    return {c.name: _PL_TYPES[c.type] for c in table.columns}


@dataclass(frozen=True)
class FileRecord:
    """One file of an extract as it was loaded: name, SHA-256, rows read and rows rejected."""

    table: str
    file: str
    sha256: str
    rows: int
    rejected: int


@dataclass(frozen=True)
class ImportReport:
    """What one load did: its id, source, fingerprint, per-table counts and every problem found."""

    import_id: int
    source: str
    fingerprint: str
    files: tuple[FileRecord, ...]
    row_counts: Mapping[str, int]
    problems: tuple[RowProblem, ...] = field(default=())
    #: The control totals of each table (loads of an extract; empty for other sources).
    controls: tuple[TableControl, ...] = field(default=())
    #: How many charges are quarantined after this load (``ledger/quarantine.py``).
    quarantined: int = 0

    @property
    def rejected_rows(self) -> int:
        """How many distinct rows were set aside."""
        return len({(p.table, p.row) for p in self.problems if p.row is not None})


def conform(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """Put a frame into the contract's column order and dtypes, keeping extra columns after them.

    The frame's contract columns must already hold values of the right kind (this casts
    dtypes, it does not parse text); missing optional columns are added as nulls.
    """
    schema = polars_schema(table)
    exprs = []
    for name, dtype in schema.items():
        if name in frame.columns:
            exprs.append(pl.col(name).cast(dtype, strict=True))
        else:
            if table.column(name).required:
                msg = f"{table.name}: required column {name} is missing"
                raise LedgerError(msg)
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    extras = [pl.col(c).cast(pl.String) for c in frame.columns if c not in schema]
    return frame.select(exprs + extras)


def fingerprint_of(files: Sequence[FileRecord]) -> str:
    """One SHA-256 over the files' names and digests, in table order."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: (f.table, f.file)):
        h.update(f"{f.table}\0{f.file}\0{f.sha256}\n".encode())
    return h.hexdigest()


_REJECTS_SCHEMA = {
    "table_name": pl.String,
    "file": pl.String,
    "row_number": pl.Int32,
    "column_name": pl.String,
    "value": pl.String,
    "reason": pl.String,
    "record_json": pl.String,
}


def replace_snapshot(
    ledger: Ledger,
    frames: Mapping[str, pl.DataFrame],
    *,
    source: str,
    files: Sequence[FileRecord] = (),
    problems: Sequence[RowProblem] = (),
    records: Mapping[tuple[str, int], Mapping[str, Any]] | None = None,
    keep_quarantine: bool = False,
) -> ImportReport:
    """Replace the store's extract with ``frames`` and derive balances, all in one transaction.

    Parameters
    ----------
    ledger
        The store.
    frames
        One frame per contract table, already validated and typed (see :func:`conform`).
    source
        Where the extract came from (a path), for the import log.
    files
        The files read, for the fingerprint and the import log.
    problems
        Every problem found; rows named there were left out of ``frames``.
    records
        The raw text of rejected rows by ``(table, row)``, kept so users can fix and reload.
    keep_quarantine
        Keep the quarantine earlier loads derived from their rejects: for an import that
        adds to the snapshot (an 835), which is not a clean load. Otherwise the quarantine
        is derived from this load alone (``ledger/quarantine.py``).

    Returns
    -------
    ImportReport
        The import's id, fingerprint and counts.

    Raises
    ------
    LedgerError
        If a table is missing; the store is then left exactly as it was.
    """
    missing = [t.name for t in TABLES if t.name not in frames]
    if missing:
        msg = f"cannot replace the snapshot: table(s) {', '.join(missing)} missing"
        raise LedgerError(msg)
    with ledger.transaction() as con:
        writer = SnapshotWriter(con, hash_frames=not files)
        for t in TABLES:
            writer.put(t, frames[t.name])
        return writer.finish(
            source=source, files=files, problems=problems, records=records,
            keep_quarantine=keep_quarantine,
        )


class SnapshotWriter:
    """Write a new snapshot into a store table by table, inside a transaction the caller holds.

    Each :meth:`put` replaces one extract table at once, so a loader can free a table's
    frame before it reads the next (peak memory: one table, not six); :meth:`finish` logs
    the import, stores the rejects and derives the balances. Nothing is visible to other
    connections until the caller's transaction commits, and a rollback (an error, a killed
    process) leaves the previous snapshot whole.

    Parameters
    ----------
    con
        A connection inside an open transaction (``Ledger.transaction()``).
    hash_frames
        Fingerprint the snapshot from the frames' rows (for callers that have no files).

    Examples
    --------
    >>> from writeoff_analytics.ledger.load import read_extract
    >>> from writeoff_analytics.ledger.store import Ledger
    >>> extract, ledger = read_extract("tests/data/small"), Ledger(":memory:")
    >>> with ledger.transaction() as con:
    ...     writer = SnapshotWriter(con)
    ...     for t in TABLES:
    ...         _ = writer.put(t, extract.frames[t.name])
    ...     report = writer.finish(source="small", files=extract.files)
    >>> report.row_counts["charges"]
    6
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, *, hash_frames: bool = False) -> None:
        self._con = con
        self._hash_frames = hash_frames
        self._rows: dict[str, int] = {}
        self._hashes: dict[str, str] = {}

    def put(self, table: Table, frame: pl.DataFrame) -> int:
        """Replace ``table`` in the store with ``frame`` (conformed first); return its rows."""
        staged = conform(table, frame)
        if self._hash_frames:
            self._hashes[table.name] = str(staged.hash_rows().sum())
        name = f"staged_{table.name}"
        self._con.register(name, staged.to_arrow())
        try:
            # The six tables have no row order of their own (every reader sorts), so DuckDB
            # may write them in parallel without keeping the frame's order: about half the
            # CPU time and a smaller file than an order-keeping insert.
            queries.run(self._con, "set_unordered_inserts")
            try:
                queries.run(self._con, f"replace_{table.name}")
            finally:
                queries.run(self._con, "reset_unordered_inserts")
        finally:
            self._con.unregister(name)
        self._rows[table.name] = staged.height
        return staged.height

    def finish(
        self,
        *,
        source: str,
        files: Sequence[FileRecord] = (),
        problems: Sequence[RowProblem] = (),
        records: Mapping[tuple[str, int], Mapping[str, Any]] | None = None,
        controls: Sequence[TableControl] = (),
        keep_quarantine: bool = False,
    ) -> ImportReport:
        """Log the import, its control totals and rejects, derive the balances; return the report.

        The quarantine is derived last, from the stored rejects and the new balances
        (``keep_quarantine``: see :func:`replace_snapshot`).

        Raises
        ------
        LedgerError
            If a table was not put.
        """
        missing = [t.name for t in TABLES if t.name not in self._rows]
        if missing:
            msg = f"cannot replace the snapshot: table(s) {', '.join(missing)} missing"
            raise LedgerError(msg)
        row_counts = {t.name: self._rows[t.name] for t in TABLES}
        fingerprint = fingerprint_of(files) if files else self._frames_fingerprint()
        rows = [
            {
                "table_name": p.table,
                "file": p.file,
                "row_number": p.row,
                "column_name": p.column,
                "value": p.value,
                "reason": p.reason,
                "record_json": json.dumps(records.get((p.table, p.row)), default=str)
                if records and p.row is not None and (p.table, p.row) in records
                else None,
            }
            for p in problems
        ]
        con = self._con
        con.register("staged_rejects", pl.DataFrame(rows, schema=_REJECTS_SCHEMA).to_arrow())
        try:
            (row,) = queries.run(
                con,
                "insert_import_log",
                source=source,
                fingerprint=fingerprint,
                files_json=json.dumps([f.__dict__ for f in files]),
                row_counts_json=json.dumps(row_counts),
                rejected_rows=len({(p.table, p.row) for p in problems if p.row is not None}),
            )
            import_id = int(row[0])
            queries.run(con, "insert_rejects", import_id=import_id)
        finally:
            con.unregister("staged_rejects")
        if controls:
            con.register("staged_controls", _controls_frame(controls).to_arrow())
            try:
                queries.run(con, "insert_import_controls", import_id=import_id)
            finally:
                con.unregister("staged_controls")
        queries.run(con, "derive_charge_balances")
        quarantined = derive_quarantine(con, keep_previous=keep_quarantine)
        return ImportReport(
            import_id=import_id,
            source=source,
            fingerprint=fingerprint,
            files=tuple(files),
            row_counts=row_counts,
            problems=tuple(problems),
            controls=tuple(controls),
            quarantined=quarantined,
        )

    def _frames_fingerprint(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self._hashes):
            h.update(name.encode())
            h.update(self._hashes[name].encode())
        return h.hexdigest()


_CONTROLS_SCHEMA: dict[str, pl.DataType] = {
    "table_name": pl.String(), "file": pl.String(), "rows_read": pl.Int64(),
    "rows_kept": pl.Int64(), "previous_rows": pl.Int64(), "money_column": pl.String(),
    "read_total": PL_MONEY, "stored_total": PL_MONEY, "unreadable_cells": pl.Int64(),
}


def _controls_frame(controls: Sequence[TableControl]) -> pl.DataFrame:
    """One row per table and money column (a table without money: one row, money null)."""
    rows: list[dict[str, Any]] = []
    for c in controls:
        base = {"table_name": c.table, "file": c.file, "rows_read": c.rows_read,
                "rows_kept": c.rows_kept, "previous_rows": c.previous_rows}
        if not c.money:
            rows.append({**base, "money_column": None, "read_total": None,
                         "stored_total": None, "unreadable_cells": None})
        for m in c.money:
            rows.append({**base, "money_column": m.column, "read_total": m.read_total,
                         "stored_total": m.stored_total, "unreadable_cells": m.unreadable_cells})
    return pl.DataFrame(rows, schema=_CONTROLS_SCHEMA)


def rederive(ledger: Ledger) -> None:
    """Rebuild the derived balances from the loaded extract and committed write-offs."""
    ledger.require_loaded()
    with ledger.transaction() as con:
        queries.run(con, "derive_charge_balances")
