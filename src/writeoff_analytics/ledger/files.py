"""An extract's table files: found by name, unpacked from a zip, read as text.

One table file is CSV, Parquet or Excel (``.xlsx``), named for its table (or for the vendor
mapping's file stem). :func:`read_header` checks the column names before any row is read
(a header over :data:`MAX_COLUMNS` columns or 1 MiB is refused at once);
:func:`read_table` reads the rows as text with their row numbers (``_row``), setting aside
rows with the wrong number of fields. Types are never guessed: the validator
(:mod:`.validate`) checks and casts.

A version-2 vendor mapping may declare, per CSV file, a delimiter, an encoding, lines to
skip before the header and patterns of lines to drop (``mapping.CsvOptions``): the file is
then decoded strictly and written to a temporary UTF-8 file without those lines before
DuckDB reads it; row numbers stay the file's (skipped and dropped lines count), and the
dropped lines are returned for the control totals. Rows whose money or date cells lack the
profile's declared shape are set aside here too (``VendorMapping.screen``).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import duckdb
import polars as pl

from writeoff_analytics import queries
from writeoff_analytics.errors import LedgerFormatError, RowProblem
from writeoff_analytics.ledger import xlsx
from writeoff_analytics.ledger.archive import ZipLimits, open_zip, unpack
from writeoff_analytics.ledger.schema import TABLES
from writeoff_analytics.ledger.store import DUCKDB_CONFIG
from writeoff_analytics.ledger.validate import INTERNAL_PREFIXES, ROW, is_internal

if TYPE_CHECKING:
    from writeoff_analytics.ledger.mapping import CsvOptions, VendorMapping
    from writeoff_analytics.ledger.schema import Table

#: Table file formats, in the order they are looked for.
EXTENSIONS = (".csv", ".parquet", ".xlsx")
#: The most columns a table file may have (the contract's and extras): a wider header is
#: refused before any row is read (100,000 columns took minutes and gigabytes to refuse).
MAX_COLUMNS = 1000
_HEADER_PROBE = 1 << 20


@contextmanager
def opened(
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


def locate(folder: Path, table: Table, vendor: VendorMapping | None) -> Path:
    """Return the one file of ``table`` in ``folder`` (by the mapping's file stem if any)."""
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


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 22):
                h.update(chunk)
    except OSError as exc:
        msg = f"cannot be read ({exc.strerror})"
        raise LedgerFormatError(msg, file=path.name) from exc
    return h.hexdigest()


def read_header(path: Path, table: Table, vendor: VendorMapping | None) -> tuple[str, ...]:
    """Return the file's column names, after checking the required ones are there."""
    if path.suffix == ".csv":
        names = _csv_header(path, _options(vendor, table))
    elif path.suffix == ".parquet":
        try:
            schema = pl.read_parquet_schema(path)
        except Exception as exc:  # polars raises several kinds for a broken file
            msg = f"cannot be read as Parquet ({first_line(exc)})"
            raise LedgerFormatError(msg, file=path.name) from exc
        names = list(schema)
        for name, dtype in schema.items():
            # A list or struct has no one text to check (casting it would fail mid-load).
            if dtype.is_nested() or dtype == pl.Object():
                msg = (
                    f"holds {dtype} values, not one value per cell; "
                    "export it as a plain column"
                )
                raise LedgerFormatError(msg, file=path.name, column=name)
    else:
        # ledger/xlsx.py: the sheet named like the table, values only (no formula, no merge)
        names = xlsx.header(path, (table.name, path.stem))
    if len(names) > MAX_COLUMNS:
        msg = (
            f"the header has {len(names):,} columns, over the {MAX_COLUMNS:,} a table may have "
            "(is this the right file?)"
        )
        raise LedgerFormatError(msg, file=path.name, row=1)
    seen: dict[str, str] = {}
    for n in names:
        first = seen.get(n.lower())
        if first is not None:
            msg = (
                f"column {n} appears twice in the header"
                if first == n
                else f"columns {first} and {n} differ only in case; keep one (names are lower case)"
            )
            raise LedgerFormatError(msg, file=path.name, row=1)
        seen[n.lower()] = n
        if is_internal(n):
            msg = (
                "is named like a column the loader makes (names starting with "
                f"{', '.join(INTERNAL_PREFIXES)}); rename it in the file and reload"
            )
            raise LedgerFormatError(msg, file=path.name, row=1, column=n)
    if vendor is not None:
        missing = vendor.missing_columns(table, names)
        renamed = vendor.renamed_header(table, names)
        twice = next((n for n in renamed if renamed.count(n) > 1), None)
        if twice is not None:
            msg = (f"column {twice} would appear twice once the mapping renames the header "
                   f"(an export column named like it is kept as it); rename one in the export")
            raise LedgerFormatError(msg, file=path.name, row=1 + _options(vendor, table).skip_lines)
    else:
        missing = [r for r in table.required if r not in names]
    header_row = 1 + (_options(vendor, table).skip_lines if path.suffix == ".csv" else 0)
    for source in missing:
        hint = next((n for n in names if n.lower() == source.lower()), None)
        extra = f" (found {hint}: column names are lower case)" if hint else ""
        what = "required column" if vendor is None or any(
            vendor.source_name(table.name, r) == source for r in table.required
        ) else "mapped column"
        msg = f"{what} {source} is missing{extra}; the header has: {', '.join(names)}"
        raise LedgerFormatError(
            msg,
            file=path.name,
            row=header_row,
        )
    return tuple(names)


def _options(vendor: VendorMapping | None, table: Table) -> CsvOptions:
    """The CSV options of the table's file (the contract's when there is no mapping)."""
    from writeoff_analytics.ledger.mapping import CsvOptions

    return vendor.csv_options(table.name) if vendor is not None else CsvOptions()


def _csv_header(path: Path, options: CsvOptions) -> list[str]:
    if options.needs_text_pass:
        line = _text_header(path, options).encode("utf-8")
    else:
        with open(path, "rb") as fh:
            head = fh.read(_HEADER_PROBE)
        if not head.strip():
            msg = "is empty; a table file needs at least its header row"
            raise LedgerFormatError(msg, file=path.name)
        line, newline, _ = head.partition(b"\n")
        if not newline and b"\r" in line:
            msg = "has CR-only line endings (classic Mac); save it with LF or CRLF line endings"
            raise LedgerFormatError(msg, file=path.name)
        if not newline and len(head) == _HEADER_PROBE:
            _header_too_long(path)
    delim = options.delimiter.encode("utf-8")
    if line.count(delim) >= MAX_COLUMNS:
        msg = (
            f"the header has {line.count(delim) + 1:,} columns, over the {MAX_COLUMNS:,} a "
            "table may have (is this the right file?)"
        )
        raise LedgerFormatError(msg, file=path.name, row=1 + options.skip_lines)
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
    fields = next(csv.reader([text], delimiter=options.delimiter), [])
    names = [f.strip() for f in fields]
    if not any(names):
        msg = "is empty; a table file needs at least its header row"
        raise LedgerFormatError(msg, file=path.name)
    if "" in names:
        msg = f"the header has an empty column name (column {names.index('') + 1})"
        raise LedgerFormatError(
            msg,
            file=path.name,
            row=1 + options.skip_lines,
        )
    return names


def _header_too_long(path: Path) -> None:
    msg = (
        f"the header line is longer than {_HEADER_PROBE // 2**20} MiB; a table has at most "
        f"{MAX_COLUMNS:,} columns of short names (is this the right file?)"
    )
    raise LedgerFormatError(msg, file=path.name, row=1)


# --- a mapping's CSV text options: decoded, lines skipped and dropped, before DuckDB ------

#: The longest physical line a mapped CSV may have (characters).
_LINE_LIMIT = 16 << 20


@dataclass(frozen=True)
class Dropped:
    """A line a mapping's ``drop`` pattern removed (a footer or total), by row and pattern."""

    row: int
    pattern: str


@contextmanager
def _text_file(path: Path, options: CsvOptions) -> Iterator[TextIO]:
    """The file opened as text in its declared encoding (strict; a BOM-less utf-16 refused)."""
    codec = options.encoding
    if codec in ("utf-16", "utf-32"):
        with open(path, "rb") as raw:
            bom = raw.read(4)
        marks = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) if codec == "utf-16" else (
            codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
        if not bom.startswith(marks):
            msg = (f"has no {codec} byte order mark; the profile must say which: "
                   f"{codec}-le or {codec}-be (the byte order is never guessed)")
            raise LedgerFormatError(msg, file=path.name)
    if codec == "utf-8":
        codec = "utf-8-sig"
    try:
        fh = open(path, encoding=codec, errors="strict", newline="")
    except OSError as exc:
        msg = f"cannot be read ({exc.strerror})"
        raise LedgerFormatError(msg, file=path.name) from exc
    with fh:
        yield fh


def _decode_error(path: Path, options: CsvOptions, row: int, exc: UnicodeError) -> LedgerFormatError:
    msg = (f"is not {options.encoding}: bytes that {options.encoding} does not allow in or near "
           f"row {row} ({first_line(exc)}); check the profile's encoding or save the file in it")
    return LedgerFormatError(msg, file=path.name, row=row)


def _text_header(path: Path, options: CsvOptions) -> str:
    """The header line of a mapped CSV, after ``skip_lines`` lines (decoded)."""
    row = 1
    with _text_file(path, options) as fh:
        try:
            for _ in range(options.skip_lines):
                fh.readline(_HEADER_PROBE)
                row += 1
            line = fh.readline(_HEADER_PROBE)
        except UnicodeError as exc:
            raise _decode_error(path, options, row, exc) from exc
    if len(line) == _HEADER_PROBE and not line.endswith(("\n", "\r")):
        _header_too_long(path)
    if not line.strip():
        what = f"after the {options.skip_lines} line(s) the profile skips" if options.skip_lines else ""
        msg = f"is empty{' ' + what if what else ''}; a table file needs at least its header row"
        raise LedgerFormatError(msg, file=path.name)
    return line.rstrip("\r\n")


def _text_pass(path: Path, options: CsvOptions, out: Path) -> tuple[list[int], list[Dropped]]:
    """Write the file as UTF-8 without skipped, dropped and blank lines.

    Returns the rows not written after the header (dropped and blank, for row numbers) and
    the dropped lines. Rows count records (a quoted line break stays in its row); the
    skipped lines before the header count as rows.
    """
    patterns = [(p, re.compile(p)) for p in options.drop]
    gaps: list[int] = []
    dropped: list[Dropped] = []
    row = 0
    with _text_file(path, options) as fh, open(out, "w", encoding="utf-8", newline="") as dst:
        try:
            for _ in range(options.skip_lines):
                fh.readline(_LINE_LIMIT)
                row += 1
            record: list[str] = []
            in_quote = False
            header = True
            while True:
                line = fh.readline(_LINE_LIMIT)
                if not line:
                    break
                if len(line) == _LINE_LIMIT and not line.endswith(("\n", "\r")):
                    msg = f"has a line longer than {_LINE_LIMIT >> 20} MiB characters"
                    raise LedgerFormatError(msg, file=path.name, row=row + 1)
                record.append(line)
                if line.count('"') % 2:
                    in_quote = not in_quote
                if in_quote:
                    continue
                row += 1
                text = "".join(record)
                record = []
                body = text.rstrip("\r\n")
                if header:
                    header = False
                elif body == "":
                    gaps.append(row)
                    continue
                else:
                    hit = next((p for p, rx in patterns if rx.search(body)), None)
                    if hit is not None:
                        gaps.append(row)
                        dropped.append(Dropped(row, hit))
                        continue
                dst.write(body + "\n")
            if record:  # an unclosed quote at the end: DuckDB reports the row
                dst.write("".join(record))
        except UnicodeError as exc:
            raise _decode_error(path, options, row + 1, exc) from exc
    return gaps, dropped


def read_table(
    path: Path, table: Table, header: tuple[str, ...], vendor: VendorMapping | None = None
) -> tuple[pl.DataFrame, list[RowProblem], dict[int, dict[str, str | None]], tuple[Dropped, ...]]:
    """Read one file: rows as text with ``_row``, set-aside rows, lines dropped by pattern.

    A row is set aside when it has the wrong number of fields, or (with a mapping) a money
    or date cell without the profile's declared shape (:meth:`VendorMapping.screen`).
    """
    df, problems, bad, dropped = _read_rows(path, table, header, vendor)
    if vendor is not None:
        df, more, more_bad = vendor.screen(table, df, path.name)
        problems.extend(more)
        bad.update(more_bad)
    return df, problems, bad, dropped


def _read_rows(
    path: Path, table: Table, header: tuple[str, ...], vendor: VendorMapping | None
) -> tuple[pl.DataFrame, list[RowProblem], dict[int, dict[str, str | None]], tuple[Dropped, ...]]:
    if path.suffix == ".csv":
        return _read_csv(path, table, header, _options(vendor, table))
    if path.suffix == ".parquet":
        try:
            df = pl.read_parquet(path)
        except Exception as exc:  # polars raises several kinds for a broken file
            msg = f"cannot be read as Parquet ({first_line(exc)})"
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
        first, df = xlsx.rows(path, (table.name, path.stem), header)
        return df.with_row_index(ROW, offset=first).with_columns(pl.col(ROW).cast(pl.Int64)), [], {}, ()
    df = df.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    return df, [], {}, ()


def _kept_typed(dtype: pl.DataType) -> bool:
    """Parquet types that hold contract values exactly (others are read as text)."""
    from writeoff_analytics.money import PL_MONEY

    return dtype in (pl.String(), pl.Date(), pl.Boolean(), pl.Int32(), PL_MONEY)


def _read_csv(
    path: Path, table: Table, header: tuple[str, ...], options: CsvOptions
) -> tuple[pl.DataFrame, list[RowProblem], dict[int, dict[str, str | None]], tuple[Dropped, ...]]:
    if not options.needs_text_pass:
        df, problems, bad = _duckdb_csv(path, path.name, table, header, options.delimiter)
        return df, problems, bad, ()
    with tempfile.TemporaryDirectory(prefix="writeoff-csv-") as tmp:
        plain = Path(tmp) / "table.csv"
        gaps, dropped = _text_pass(path, options, plain)
        df, problems, bad = _duckdb_csv(plain, path.name, table, header, options.delimiter)
    # Row numbers of the file as written: the skipped lines and the rows left out count.
    df = df.with_columns(_shifted(pl.col(ROW), options.skip_lines, gaps).alias(ROW))
    fix = {r: _shift_one(r, options.skip_lines, gaps) for r in bad}
    problems = [
        RowProblem(p.table, p.file, fix.get(p.row, p.row) if p.row is not None else None,
                   p.column, p.value, p.reason)
        for p in problems
    ]
    return df, problems, {fix[r]: rec for r, rec in bad.items()}, tuple(dropped)


def _shift_one(row: int, skip: int, gaps: list[int]) -> int:
    out = row + skip
    for g in gaps:
        out += out >= g
    return out


def _shifted(rows: pl.Expr, skip: int, gaps: list[int]) -> pl.Expr:
    out = rows + skip
    for g in gaps:  # in increasing order, as _shift_one
        out = out + (out >= g).cast(pl.Int64)
    return out


def _duckdb_csv(
    path: Path, name: str, table: Table, header: tuple[str, ...], delimiter: str
) -> tuple[pl.DataFrame, list[RowProblem], dict[int, dict[str, str | None]]]:
    config: dict[str, str | bool | int | float | list[str]] = {**DUCKDB_CONFIG}
    con = duckdb.connect(":memory:", config=config)
    try:
        columns = {name: "VARCHAR" for name in header}
        try:
            df = queries.frame(
                con, "read_extract_csv", path=str(path), columns=columns, delim=delimiter
            )
            rejects = queries.run(con, "select_csv_rejects")
        except duckdb.Error as exc:
            msg = f"cannot be read as CSV ({first_line(exc)})"
            raise LedgerFormatError(msg, file=name) from exc
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
                file=name,
                row=row,
            )
        fields = _split_line(str(line or ""), delimiter)
        if kind in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
            reason = (
                f"has {len(fields)} fields; the header has {len(header)} "
                "(a short or long row: check for a missing or extra comma, or an unclosed quote)"
            )
        else:
            reason = f"cannot be read as CSV: {first_line(message)}"
        if row in bad:
            continue
        problems.append(RowProblem(table.name, name, row, None, None, reason))
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


def _split_line(line: str, delimiter: str = ",") -> list[str | None]:
    try:
        fields = next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
    except csv.Error:
        return [line]
    return [f if f != "" else None for f in fields]


def first_line(exc: object) -> str:
    """The first line of an exception's message (a library's error for a one-line message)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
