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
from writeoff_analytics.ledger.schema import TABLES, ColumnType, Table
from writeoff_analytics.money import PL_MONEY

if TYPE_CHECKING:
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
    staged = {t.name: conform(t, frames[t.name]) for t in TABLES}
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
    staged_rejects = pl.DataFrame(rows, schema=_REJECTS_SCHEMA)
    row_counts = {name: df.height for name, df in staged.items()}
    fingerprint = fingerprint_of(files) if files else _frames_fingerprint(staged)
    files_json = json.dumps([f.__dict__ for f in files])
    with ledger.transaction() as con:
        for name, df in staged.items():
            con.register(f"staged_{name}", df.to_arrow())
        con.register("staged_rejects", staged_rejects.to_arrow())
        try:
            queries.run(con, "replace_snapshot")
            (row,) = queries.run(
                con,
                "insert_import_log",
                source=source,
                fingerprint=fingerprint,
                files_json=files_json,
                row_counts_json=json.dumps(row_counts),
                rejected_rows=len({(p.table, p.row) for p in problems if p.row is not None}),
            )
            import_id = int(row[0])
            queries.run(con, "insert_rejects", import_id=import_id)
            queries.run(con, "derive_charge_balances")
        finally:
            for name in [*staged, "rejects"]:
                con.unregister(f"staged_{name}")
    return ImportReport(
        import_id=import_id,
        source=source,
        fingerprint=fingerprint,
        files=tuple(files),
        row_counts=row_counts,
        problems=tuple(problems),
    )


def rederive(ledger: Ledger) -> None:
    """Rebuild the derived balances from the loaded extract and committed write-offs."""
    ledger.require_loaded()
    with ledger.transaction() as con:
        queries.run(con, "derive_charge_balances")


def _frames_fingerprint(frames: Mapping[str, pl.DataFrame]) -> str:
    h = hashlib.sha256()
    for name in sorted(frames):
        h.update(name.encode())
        h.update(str(frames[name].hash_rows().sum()).encode())
    return h.hexdigest()
