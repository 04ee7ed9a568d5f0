"""Reading one table from an ``.xlsx`` workbook: the sheet named, values only, as text.

fastexcel (calamine) reads the cells, but it gives a formula cell its cached result (0 when
the workbook was never recalculated) and says nothing of merged cells, so before it reads
a sheet we scan that sheet's XML once ourselves (an ``.xlsx`` is a zip of XML parts):

- **the sheet**: the one named like the table (or the mapping's file stem), in any case;
  else the workbook's only sheet; else the load is refused, listing the sheets;
- **formulas** are refused, naming the first cell ("save as values"): a cached result is
  not a value anyone typed, and none may be cached at all;
- **merged cells** are refused, naming the range (a merged header hides column names, a
  merged data range leaves its other cells empty);
- **error cells** (``#N/A``, ``#DIV/0!``) are refused: they would read as empty;
- **a workbook bomb** (a part over :data:`MAX_RATIO`:1 or the parts over
  :data:`MAX_UNPACKED`) is refused before anything is read: fastexcel holds a sheet in memory.

The scan streams the part with :func:`defusedxml.ElementTree.iterparse` (no entity
expansion, no external references) and keeps one row in memory. openpyxl would give
formulas but not merged cells in its streaming mode, and is not a dependency.

Cells holding an empty string are empty (null), like an empty CSV field; the header row's
names are taken as written (fastexcel would rename a duplicate ``a`` to ``a_1``).
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

import fastexcel
import polars as pl
from defusedxml import ElementTree

from writeoff_analytics.errors import LedgerFormatError, escaped

if TYPE_CHECKING:
    from pathlib import Path

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
#: A workbook part may unpack to at most this many times its packed size (a sheet's XML
#: packs 10-100x; a bomb 1,000x and more), and all parts together to at most MAX_UNPACKED.
MAX_RATIO = 500
MAX_UNPACKED = 4 * 2**30


@dataclass(frozen=True)
class Sheet:
    """The sheet a table is read from: its name and its header's row number (1-based)."""

    name: str
    header_row: int


def first_line(exc: object) -> str:
    """The first line of a library's error message."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def choose_sheet(path: Path, names: tuple[str, ...]) -> str:
    """The sheet to read: named like one of ``names`` (any case), else the only sheet.

    Raises
    ------
    LedgerFormatError
        If the workbook cannot be read, or has several sheets and none is so named.
    """
    _check_sizes(path)
    try:
        sheets = list(fastexcel.read_excel(path).sheet_names)
    except Exception as exc:  # fastexcel raises its own kinds for a broken workbook
        msg = f"cannot be read as an Excel workbook ({first_line(exc)})"
        raise LedgerFormatError(msg, file=path.name) from exc
    wanted = {n.lower() for n in names}
    named = [s for s in sheets if s.lower() in wanted]
    if len(named) == 1:
        return named[0]
    if len(sheets) == 1 and not named:
        return sheets[0]
    listed = ", ".join(repr(s) for s in sheets)
    msg = (
        f"has {len(sheets)} sheets ({escaped(listed)}) and {'several' if named else 'none'} "
        f"named {names[0]}; name the sheet to load {names[0]} or keep only that sheet"
    )
    raise LedgerFormatError(msg, file=path.name)


def _check_sizes(path: Path) -> None:
    """Refuse a workbook whose parts would unpack to far more than it holds (a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        msg = f"cannot be read as an Excel workbook ({first_line(exc)})"
        raise LedgerFormatError(msg, file=path.name) from exc
    total = sum(m.file_size for m in members)
    for m in members:
        if m.file_size > 2**20 and m.file_size > max(m.compress_size, 1) * MAX_RATIO:
            msg = (
                f"part {escaped(m.filename)} unpacks {m.file_size:,} bytes from "
                f"{m.compress_size:,} (over {MAX_RATIO}:1); refused as a zip bomb"
            )
            raise LedgerFormatError(msg, file=path.name)
    if total > MAX_UNPACKED:
        msg = f"unpacks to {total:,} bytes, over the {MAX_UNPACKED:,} a table file may hold"
        raise LedgerFormatError(msg, file=path.name)


def scan_sheet(path: Path, sheet: str) -> Sheet:
    """Check one sheet holds values only; return it with its header's row number.

    Raises
    ------
    LedgerFormatError
        On a formula, an error value or a merged range (naming sheet and cell), or a
        workbook whose parts cannot be read.
    """
    where = f"sheet {escaped(repr(sheet))}"
    try:
        with zipfile.ZipFile(path) as zf:
            part = _sheet_part(zf, sheet)
            with zf.open(part) as fh:
                return Sheet(sheet, _scan(fh, where, path.name))
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError) as exc:
        msg = f"cannot be read as an Excel workbook ({first_line(exc)})"
        raise LedgerFormatError(msg, file=path.name) from exc


def _sheet_part(zf: zipfile.ZipFile, sheet: str) -> str:
    """The zip member holding ``sheet``: workbook.xml names it, its rels give the part."""
    workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rid = next(
        s.get(f"{_REL}id") for s in workbook.iter(f"{_MAIN}sheet") if s.get("name") == sheet
    )
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    target = next(r.get("Target", "") for r in rels.iter(f"{_PKG_REL}Relationship") if r.get("Id") == rid)
    # A target is relative to xl/ unless it starts with '/'.
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")


def _scan(fh: object, where: str, file: str) -> int:
    """Stream a sheet part: refuse formulas, error values, merged cells; find the header row."""
    header_row: int | None = None
    row_no = 0
    col_no = 0
    cell = ""
    for event, elem in ElementTree.iterparse(fh, events=("start", "end")):
        tag = elem.tag.rpartition("}")[2]
        if event == "start":
            if tag == "row":
                # ``r`` is optional in the format: count rows when it is absent.
                row_no = int(elem.get("r") or row_no + 1)
                col_no = 0
            elif tag == "c":
                col_no += 1
                cell = elem.get("r") or f"{_column_letters(col_no)}{row_no}"
                if elem.get("t") == "e":
                    msg = (
                        f"{where}, cell {cell}: holds an error value; fix the cell or save the "
                        "sheet as values and reload"
                    )
                    raise LedgerFormatError(msg, file=file)
            elif tag == "f":
                msg = (
                    f"{where}, cell {cell}: holds a formula; a table file holds values only "
                    "(save as values: copy the sheet, paste special > values) and reload"
                )
                raise LedgerFormatError(msg, file=file)
            elif tag == "mergeCell":
                ref = elem.get("ref", "")
                first = ref.split(":")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                part = "the header" if header_row is None or first == str(header_row) else "a row"
                msg = (
                    f"{where}: cells {escaped(ref)} are merged (in {part}); unmerge them so "
                    "each column has its own name and each cell its own value, and reload"
                )
                raise LedgerFormatError(msg, file=file)
        elif tag == "c":
            if header_row is None and any(
                child.tag in (f"{_MAIN}v", f"{_MAIN}is") for child in elem
            ):
                header_row = row_no
        elif tag == "row":
            elem.clear()  # keep one row in memory
    return header_row or 1


def _column_letters(n: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


def header(path: Path, names: tuple[str, ...]) -> list[str]:
    """The column names of the table's sheet (checked: values only), as written.

    Parameters
    ----------
    names
        The names the sheet may have: the table's, the file's stem.

    Raises
    ------
    LedgerFormatError
        No sheet to read, a formula, an error value, merged cells, an empty column name.
    """
    sheet = scan_sheet(path, choose_sheet(path, names))
    head = _load(path, sheet, n_rows=1)
    columns = [None if v is None else str(v).strip() for v in (head.row(0) if head.height else ())]
    where = f"sheet {escaped(repr(sheet.name))}, row {sheet.header_row}"
    if not columns:
        msg = f"{where}: the sheet is empty; a table needs at least its header row"
        raise LedgerFormatError(msg, file=path.name)
    for i, name in enumerate(columns):
        if not name:
            msg = (
                f"{where}: the header has an empty column name (column "
                f"{_column_letters(i + 1)}); name every column that holds values"
            )
            raise LedgerFormatError(msg, file=path.name)
    return [c for c in columns if c]


def rows(path: Path, names: tuple[str, ...], columns: tuple[str, ...]) -> tuple[int, pl.DataFrame]:
    """The sheet's data rows as text (empty strings null), and the row number of the first.

    Raises
    ------
    LedgerFormatError
        As :func:`header` (the sheet is checked again: it is read again).
    """
    sheet = scan_sheet(path, choose_sheet(path, names))
    df = _load(path, sheet, n_rows=None)
    body = df.slice(1)
    if body.width != len(columns):
        msg = f"sheet {escaped(repr(sheet.name))} changed while it was read; reload"
        raise LedgerFormatError(msg, file=path.name)
    body.columns = list(columns)
    body = body.with_columns(
        [
            # An empty-string cell is empty (null), as in CSV; Excel date cells come back
            # as 'YYYY-MM-DD 00:00:00' text.
            pl.when(pl.col(c) == "")
            .then(None)
            .otherwise(pl.col(c).str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1"))
            .alias(c)
            for c in columns
        ]
    )
    return sheet.header_row + 1, body


def _load(path: Path, sheet: Sheet, *, n_rows: int | None) -> pl.DataFrame:
    """The sheet's cells as text, the header row included (fastexcel skips empty top rows)."""
    try:
        loaded = fastexcel.read_excel(path).load_sheet(
            sheet.name, header_row=None, n_rows=n_rows, dtypes="string"
        )
        return loaded.to_polars()
    except Exception as exc:  # fastexcel raises its own kinds
        msg = f"cannot be read as an Excel workbook ({first_line(exc)})"
        raise LedgerFormatError(msg, file=path.name) from exc
