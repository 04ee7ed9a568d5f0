"""Previewing an extract as a load would read it, without loading it.

:func:`preview_extract` reads and validates an extract (through a vendor mapping, if any)
exactly as :func:`~writeoff_analytics.ledger.load.load_extract` does, and returns the first
rows of each table as mapped and the control totals; no store is opened, created or
changed. The rows show ids, codes, amounts and the ledger's dates (service, posting,
coverage), never names, member ids, birth or death dates (PHI).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from writeoff_analytics.ledger.controls import LoadGuard
from writeoff_analytics.ledger.files import opened
from writeoff_analytics.ledger.load import _TableReader
from writeoff_analytics.ledger.mapping import VendorMapping, load_mapping
from writeoff_analytics.ledger.schema import ColumnType, Table

if TYPE_CHECKING:
    import os

    import polars as pl

    from writeoff_analytics.errors import RowProblem
    from writeoff_analytics.ledger.controls import TableControl

#: Dates and texts a preview shows (other dates are a person's: birth, death; other texts
#: are names or a person's member id).
_SHOWN_NAMED = frozenset({
    "date_of_service", "posted_date", "effective_from", "effective_to",
    "procedure_code", "payer_name", "group_code", "reason_code",
})
_SHOWN_TYPES = frozenset(
    {ColumnType.ID, ColumnType.MONEY, ColumnType.ENUM, ColumnType.INTEGER, ColumnType.BOOL}
)
#: How many problems :meth:`Preview.lines` lists in full.
SHOWN_PROBLEMS = 5


@dataclass(frozen=True)
class TablePreview:
    """One table as a load would read it: its first kept rows (shown columns) and totals."""

    table: str
    file: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    control: TableControl


@dataclass(frozen=True)
class Preview:
    """What loading an extract would do, computed without loading it.

    Attributes
    ----------
    source
        The extract read.
    mapping
        The profile's name, or ``None`` for a canonical extract.
    tables
        One :class:`TablePreview` per table, in load order.
    problems
        Every row problem the load would report.
    """

    source: str
    mapping: str | None
    tables: tuple[TablePreview, ...]
    problems: tuple[RowProblem, ...]

    @property
    def controls(self) -> tuple[TableControl, ...]:
        """The control totals of every table (as a load prints them)."""
        return tuple(t.control for t in self.tables)

    def lines(self) -> list[str]:
        """The preview as lines for a terminal (ids escaped, no PHI)."""
        how = f" with the mapping {self.mapping!r}" if self.mapping else ""
        out = [f"Preview of {self.source}{how} (nothing is loaded):"]
        for t in self.tables:
            shown = len(t.rows)
            out.append(f"{t.table} ({t.file}): first {shown:,} of {t.control.rows_kept:,} rows kept")
            if not shown:
                continue
            widths = [
                max(len(c), *(len(r[i]) for r in t.rows)) for i, c in enumerate(t.columns)
            ]
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(t.columns, widths, strict=True)).rstrip())
            for r in t.rows:
                out.append("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
        out.append("Control totals:")
        out.extend(f"  {c.describe()}" for c in self.controls)
        rejected = sum(c.rows_rejected for c in self.controls)
        if not rejected:
            out.append("No rows would be rejected.")
            return out
        out.append(f"{rejected:,} row(s) would be rejected; first problems:")
        out.extend(f"  {_escape(str(p))}" for p in self.problems[:SHOWN_PROBLEMS])
        breaches = LoadGuard().breaches(self.controls)
        if breaches:
            out.append("A load would be refused (default guard):")
            out.extend(f"  {b}" for b in breaches)
        return out


def preview_extract(
    path: str | os.PathLike[str],
    *,
    mapping: str | os.PathLike[str] | VendorMapping | None = None,
    rows: int = 5,
) -> Preview:
    """Read and check an extract as a load would, and return its first rows and control totals.

    Nothing is loaded: no store is opened, created or changed, no ``rejects.csv`` written.

    Parameters
    ----------
    path
        The extract (a folder or ``.zip``).
    mapping
        A vendor mapping profile (TOML path or loaded), or ``None`` for a canonical extract.
    rows
        How many kept rows of each table to show.

    Returns
    -------
    Preview
        The first rows of each table as mapped (ids, codes, amounts, dates of service; no
        PHI), the control totals (with lines a profile dropped) and the row problems.

    Raises
    ------
    LedgerFormatError
        On a problem that would stop the load (a missing table or column, an unreadable file).

    Examples
    --------
    >>> p = preview_extract("tests/data/vendor/european", mapping="docs/mappings/example_european.toml", rows=2)
    >>> p.tables[4].columns[:4], p.tables[4].rows[0][:4]
    (('charge_id', 'encounter_id', 'procedure_code', 'units'), ('C1', 'E1', '99213', '1'))
    >>> p.controls[4].describe()
    "Leistungen.csv: 6 read, 6 kept, 0 rejected; charge_amount read $587.85, stored $587.85; 3 line(s) dropped by the mapping's patterns (rows 3, 10, 11)"
    """
    vendor = (
        mapping if mapping is None or isinstance(mapping, VendorMapping) else load_mapping(mapping)
    )
    tables: list[TablePreview] = []
    with opened(Path(path), vendor) as folder:
        reader = _TableReader(folder, vendor)
        for table, result in reader.tables(lambda stage, fraction: None):
            columns = _shown_columns(table, result.frame)
            head = result.frame.head(rows).select(columns)
            tables.append(
                TablePreview(
                    table=table.name,
                    file=result.file,
                    columns=tuple(columns),
                    rows=tuple(tuple(_cell(v) for v in r) for r in head.iter_rows()),
                    control=reader.controls[-1],
                )
            )
            del result
        extract = reader.extract(str(path), {})
    return Preview(
        source=str(path),
        mapping=vendor.name if vendor is not None else None,
        tables=tuple(tables),
        problems=extract.problems,
    )


def _shown_columns(table: Table, frame: pl.DataFrame) -> list[str]:
    return [
        c.name
        for c in table.columns
        if c.name in frame.columns
        and not c.phi
        and (c.type in _SHOWN_TYPES or c.name in _SHOWN_NAMED)
    ]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (Decimal, dt.date)):
        return str(value)
    return _escape(str(value))


def _escape(text: str) -> str:
    """Control characters shown as escapes, never sent raw to a terminal."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
