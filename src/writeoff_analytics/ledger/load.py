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

import csv
import dataclasses
import hashlib
import io
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from writeoff_analytics import queries
from writeoff_analytics.errors import LedgerFormatError, RowProblem
from writeoff_analytics.export.csv import source_cell, write_rows_file
from writeoff_analytics.ledger.archive import ZipLimits, open_zip, unpack
from writeoff_analytics.ledger.controls import LoadGuard, LoadRefused, TableControl, table_control
from writeoff_analytics.ledger.mapping import VendorMapping, load_mapping
from writeoff_analytics.ledger.schema import TABLES, Table
from writeoff_analytics.ledger.snapshot import FileRecord, ImportReport, SnapshotWriter
from writeoff_analytics.ledger.store import DEFAULT_DB, DUCKDB_CONFIG, Ledger
from writeoff_analytics.ledger.validate import ROW, TableResult, validate_table

if TYPE_CHECKING:
    import os

#: Table file formats, in the order they are looked for.
EXTENSIONS = (".csv", ".parquet", ".xlsx")
#: ``progress(stage, fraction)``: called as a load goes on (fraction 0..1).
Progress = Callable[[str, float], None]
#: Name of the rejects file written beside a file store.
REJECTS_FILE = "rejects.csv"

_HEADER_PROBE = 1 << 20
#: The most columns a table file may have (the contract's and extras): a wider header is
#: refused before any row is read (100,000 columns took minutes and gigabytes to refuse).
MAX_COLUMNS = 1000


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
    with _opened(Path(path), vendor) as folder:
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
    report = progress or (lambda stage, fraction: None)
    vendor = _vendor(mapping)
    with _opened(Path(path), vendor) as folder:
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
        self.located = {t.name: _locate(folder, t, vendor) for t in TABLES}
        self.headers = {
            name: _header(p, TABLES_BY[name], vendor) for name, p in self.located.items()
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
            self.digests[table.name] = _sha256(p)
            raw, problems, bad = _read_table(p, table, self.headers[table.name])
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
                    result,
                    set_aside=bad,
                    previous_rows=None if self.previous is None else self.previous[table.name],
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


# --- finding and reading files ---------------------------------------------------------


@contextmanager
def _opened(
    path: Path, vendor: VendorMapping | None = None, limits: ZipLimits | None = None
) -> Iterator[Path]:
    """Yield a folder holding the extract's files (a zip is unpacked to a temporary one)."""
    if path.is_dir():
        yield path
        return
    if not path.exists():
        msg = "no such folder or .zip; give the path of an extract"
        raise LedgerFormatError(msg, file=str(path))
    if path.suffix.lower() != ".zip":
        msg = (
            "is neither a folder nor a .zip; an extract is a folder of table files or a zip of one"
        )
        raise LedgerFormatError(
            msg,
            file=str(path),
        )
    wanted = {
        f"{vendor.file_stem(t.name) if vendor is not None else t.name}{ext}".lower(): (
            f"{vendor.file_stem(t.name) if vendor is not None else t.name}{ext}"
        )
        for t in TABLES
        for ext in EXTENSIONS
    }

    def want(parts: tuple[str, ...]) -> Path | None:
        # Only the table files, found by name in any case, at any depth; nothing else.
        name = wanted.get(parts[-1].lower())
        return Path(name) if name is not None else None

    with open_zip(path) as zf, tempfile.TemporaryDirectory(prefix="writeoff-extract-") as tmp:
        unpack(zf, path, Path(tmp), want, limits=limits)
        yield Path(tmp)


def _locate(folder: Path, table: Table, vendor: VendorMapping | None) -> Path:
    stem = vendor.file_stem(table.name) if vendor is not None else table.name
    found = [folder / f"{stem}{ext}" for ext in EXTENSIONS if (folder / f"{stem}{ext}").is_file()]
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        msg = f"table {table.name} is there more than once ({names}); keep one file per table"
        raise LedgerFormatError(
            msg,
            file=folder.name or str(folder),
        )
    if not found:
        msg = f"table {table.name} is missing: expected {stem}.csv, {stem}.parquet or {stem}.xlsx"
        raise LedgerFormatError(
            msg,
            file=str(folder),
        )
    return found[0]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 22):
                h.update(chunk)
    except OSError as exc:
        msg = f"cannot be read ({exc.strerror})"
        raise LedgerFormatError(msg, file=path.name) from exc
    return h.hexdigest()


def _header(path: Path, table: Table, vendor: VendorMapping | None) -> tuple[str, ...]:
    """Return the file's column names, after checking the required ones are there."""
    if path.suffix == ".csv":
        names = _csv_header(path)
    elif path.suffix == ".parquet":
        try:
            names = list(pl.read_parquet_schema(path))
        except Exception as exc:  # polars raises several kinds for a broken file
            msg = f"cannot be read as Parquet ({_first_line(exc)})"
            raise LedgerFormatError(msg, file=path.name) from exc
    else:
        try:
            names = list(pl.read_excel(path, infer_schema_length=0).columns)
        except Exception as exc:  # fastexcel raises its own kinds
            msg = f"cannot be read as an Excel workbook ({_first_line(exc)})"
            raise LedgerFormatError(msg, file=path.name) from exc
    if len(names) > MAX_COLUMNS:
        msg = (
            f"the header has {len(names):,} columns, over the {MAX_COLUMNS:,} a table may have "
            "(is this the right file?)"
        )
        raise LedgerFormatError(msg, file=path.name, row=1)
    seen: set[str] = set()
    for n in names:
        if n in seen:
            msg = f"column {n} appears twice in the header"
            raise LedgerFormatError(msg, file=path.name, row=1)
        seen.add(n)
    contract = [vendor.contract_name(table.name, n) for n in names] if vendor else list(names)
    for required in table.required:
        if required not in contract:
            source = vendor.source_name(table.name, required) if vendor else required
            hint = next((n for n in names if n.lower() == source.lower()), None)
            extra = f" (found {hint}: column names are lower case)" if hint else ""
            msg = f"required column {source} is missing{extra}; the header has: {', '.join(names)}"
            raise LedgerFormatError(
                msg,
                file=path.name,
                row=1,
            )
    return tuple(names)


def _csv_header(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        head = fh.read(_HEADER_PROBE)
    if not head.strip():
        msg = "is empty; a table file needs at least its header row"
        raise LedgerFormatError(msg, file=path.name)
    line, newline, _ = head.partition(b"\n")
    if not newline and len(head) == _HEADER_PROBE:
        msg = (
            f"the header line is longer than {_HEADER_PROBE // 2**20} MiB; a table has at most "
            f"{MAX_COLUMNS:,} columns of short names (is this the right file?)"
        )
        raise LedgerFormatError(msg, file=path.name, row=1)
    if line.count(b",") >= MAX_COLUMNS:
        msg = (
            f"the header has {line.count(b',') + 1:,} columns, over the {MAX_COLUMNS:,} a "
            "table may have (is this the right file?)"
        )
        raise LedgerFormatError(msg, file=path.name, row=1)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = (
            f"is not UTF-8: bytes that UTF-8 does not allow at byte {exc.start} of the header; "
            "save the file as UTF-8 and reload"
        )
        raise LedgerFormatError(
            msg,
            file=path.name,
            row=1,
        ) from exc
    text = text.removeprefix("\ufeff").rstrip("\r")
    fields = next(csv.reader([text]), [])
    names = [f.strip() for f in fields]
    if not any(names):
        msg = "is empty; a table file needs at least its header row"
        raise LedgerFormatError(msg, file=path.name)
    if "" in names:
        msg = f"the header has an empty column name (column {names.index('') + 1})"
        raise LedgerFormatError(
            msg,
            file=path.name,
            row=1,
        )
    return names


def _read_table(
    path: Path, table: Table, header: tuple[str, ...]
) -> tuple[pl.DataFrame, list[RowProblem], dict[int, dict[str, str | None]]]:
    """Read one file: the rows as text with ``_row``, ragged-row problems and their text."""
    if path.suffix == ".csv":
        return _read_csv(path, table, header)
    if path.suffix == ".parquet":
        try:
            df = pl.read_parquet(path)
        except Exception as exc:  # polars raises several kinds for a broken file
            msg = f"cannot be read as Parquet ({_first_line(exc)})"
            raise LedgerFormatError(msg, file=path.name) from exc
        # A decimal of another scale is read as its text, trailing zeros past the cents
        # dropped (200.000 is 200.00; 12.345 stays and is refused: 3 decimals).
        df = df.with_columns(
            [
                pl.col(c).cast(pl.String).str.replace(r"^(-?\d+\.\d\d)0+$", "$1")
                if isinstance(t, pl.Decimal)
                else pl.col(c).cast(pl.String)
                for c, t in df.schema.items()
                if not _kept_typed(t)
            ]
        )
    else:
        try:
            df = pl.read_excel(path, infer_schema_length=0)
        except Exception as exc:  # fastexcel raises its own kinds
            msg = f"cannot be read as an Excel workbook ({_first_line(exc)})"
            raise LedgerFormatError(msg, file=path.name) from exc
        # Excel date cells come back as 'YYYY-MM-DD 00:00:00' text.
        df = df.with_columns(
            pl.all().cast(pl.String).str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1")
        )
    df = df.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    return df, [], {}


def _kept_typed(dtype: pl.DataType) -> bool:
    """Parquet types that hold contract values exactly (others are read as text)."""
    from writeoff_analytics.money import PL_MONEY

    return dtype in (pl.String(), pl.Date(), pl.Boolean(), pl.Int32(), PL_MONEY)


def _read_csv(
    path: Path, table: Table, header: tuple[str, ...]
) -> tuple[pl.DataFrame, list[RowProblem], dict[int, dict[str, str | None]]]:
    config: dict[str, str | bool | int | float | list[str]] = {**DUCKDB_CONFIG}
    con = duckdb.connect(":memory:", config=config)
    try:
        columns = {name: "VARCHAR" for name in header}
        try:
            df = queries.frame(con, "read_extract_csv", path=str(path), columns=columns)
            rejects = queries.run(con, "select_csv_rejects")
        except duckdb.Error as exc:
            msg = f"cannot be read as CSV ({_first_line(exc)})"
            raise LedgerFormatError(msg, file=path.name) from exc
    finally:
        con.close()
    problems: list[RowProblem] = []
    bad: dict[int, dict[str, str | None]] = {}
    for row, byte, _column, kind, line, message in rejects:
        row = int(row)
        if kind == "INVALID ENCODING" or "unicode" in str(message).lower():
            msg = (
                f"is not UTF-8: bytes that UTF-8 does not allow at byte offset {byte} of the file; "
                "save the file as UTF-8 and reload"
            )
            raise LedgerFormatError(
                msg,
                file=path.name,
                row=row,
            )
        fields = _split_line(str(line or ""))
        if kind in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
            reason = (
                f"has {len(fields)} fields; the header has {len(header)} "
                "(a short or long row: check for a missing or extra comma, or an unclosed quote)"
            )
        else:
            reason = f"cannot be read as CSV: {_first_line(message)}"
        if row in bad:
            continue
        problems.append(RowProblem(table.name, path.name, row, None, None, reason))
        padded = fields + [None] * (len(header) - len(fields))
        bad[row] = dict(zip(header, padded[: len(header)], strict=True))
    # One select, not with_columns then select: adding the one-chunk row numbers with
    # with_columns would copy every text column into one chunk too (1.6 GB at 10M rows).
    return df.select([_row_numbers(df.height, sorted(bad)).alias(ROW), *header]), problems, bad


def _row_numbers(height: int, skipped: list[int]) -> pl.Series:
    """Spreadsheet row numbers of the kept rows: 2, 3, ... leaving out the rejected ones."""
    base = pl.int_range(2, height + 2, dtype=pl.Int64, eager=True)
    if not skipped:
        return base
    # The k-th kept row is the k-th number >= 2 not in `skipped`: shift by how many skipped
    # rows come before it (skipped is sorted and small).
    out = base
    for s in skipped:
        out = out + (out >= s).cast(pl.Int64)
    return out


def _split_line(line: str) -> list[str | None]:
    try:
        fields = next(csv.reader(io.StringIO(line)), [])
    except csv.Error:
        return [line]
    return [f if f != "" else None for f in fields]


def _first_line(exc: object) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


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
