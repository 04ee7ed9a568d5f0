r"""The one CSV writer: every CSV the package writes goes through this module.

Receipts (through :mod:`~writeoff_analytics.export.profile`), reports, candidate lists,
``writeoff history --format csv`` and the loader's ``rejects.csv`` all write with
:func:`write_rows` / :func:`rows_text` (cells made by :func:`csv_cell` or
:func:`source_cell`) or, for a Polars frame, :func:`csv_text` / :func:`write_csv`, which
make the same cells column by column. One dialect and one rule for every cell:

- a header row, then one row per record; ``,`` between cells, ``\n`` at line ends, a cell
  quoted only when it holds a comma, a quote or a line break (Python's ``csv`` module);
- money (any ``Decimal``) is a number with exactly two decimals: ``1234.50``, ``-20.00``
  (no currency sign, no thousands separator, never a leading ``'``);
- integers stay numbers, booleans are ``true``/``false``, dates ISO ``2026-01-31`` (a
  receipt's export profile may choose another date format), timestamps
  ``2026-01-31 09:30:00``, a missing value an empty cell;
- text cells starting with ``=`` ``+`` ``-`` ``@``, a tab or a carriage return get a
  leading ``'`` so a spreadsheet never runs them as formulas (STYLE.md); the text of a
  source file's cell echoed back (rejects) keeps a plain number as it was written.

Column names follow the input contract (docs/spec/LEDGER_FORMAT.md). In the transactions
layout ``reason_code`` is the X12 claim adjustment reason code (CARC: ``45``, ``2``) of a
posting, so a CSV column named ``reason_code`` holds a CARC and nothing else (a receipt's
is empty: a write-off has no CARC). The reason a write-off was made (``DECEASED``,
``SMALL_BALANCE``) is :data:`WRITEOFF_REASON` (``writeoff_reason``) in every CSV: the
receipt CSV, the history and report CSVs and ``writeoff history --format csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import IO, TYPE_CHECKING

import polars as pl

from writeoff_analytics._atomic import atomic_write
from writeoff_analytics.money import quantize

if TYPE_CHECKING:
    import os
    from pathlib import Path

#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The CSV column of a write-off's reason code (``reason_code`` is a posting's CARC).
WRITEOFF_REASON = "writeoff_reason"
#: How a timestamp is written.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

_PLAIN_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")  # ASCII digits only (issue 14)
#: :data:`FORMULA_STARTS` as one pattern, for Polars.
_FORMULA_START_RE = "^[" + "".join(re.escape(c) for c in FORMULA_STARTS) + "]"


def formula_safe(text: str) -> str:
    """Return ``text`` with a leading ``'`` if a spreadsheet would run it as a formula (STYLE.md).

    Examples
    --------
    >>> formula_safe("=HYPERLINK(1)"), formula_safe("C1")
    ("'=HYPERLINK(1)", 'C1')
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_cell(value: object) -> object:
    """Return ``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula.

    Numbers, dates and ``None`` come back unchanged.

    Examples
    --------
    >>> safe_cell("=1+2")
    "'=1+2"
    >>> safe_cell("-20.00"), safe_cell("P-MCR"), safe_cell(3)
    ("'-20.00", 'P-MCR', 3)
    """
    return formula_safe(value) if isinstance(value, str) else value


def money_cell(value: Decimal) -> str:
    """Return an amount as a CSV cell: a plain number with two decimals.

    Examples
    --------
    >>> money_cell(Decimal("1234.5")), money_cell(Decimal("-20")), money_cell(Decimal("-0.00"))
    ('1234.50', '-20.00', '0.00')
    """
    text = f"{quantize(value):f}"
    return "0.00" if text == "-0.00" else text


def csv_cell(value: object, *, date_format: str | None = None) -> str:
    """Return the CSV cell of one value (the rules of this module's docstring).

    Parameters
    ----------
    value
        ``None``, a ``Decimal`` (money), ``bool``, ``int``, date, timestamp or text.
    date_format
        A ``strftime`` format for dates (an export profile's); ISO when ``None``.

    Examples
    --------
    >>> [csv_cell(v) for v in (None, Decimal("-20"), 7, True, dt.date(2026, 1, 31), "=A1", "P-MCR")]
    ['', '-20.00', '7', 'true', '2026-01-31', "'=A1", 'P-MCR']
    >>> csv_cell(dt.datetime(2026, 1, 31, 9, 30, 5, 120)), csv_cell(dt.date(2026, 1, 31), date_format="%m/%d/%Y")
    ('2026-01-31 09:30:05', '01/31/2026')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return money_cell(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.datetime):
        return formula_safe(value.strftime(TIMESTAMP_FORMAT))
    if isinstance(value, dt.date):
        return formula_safe(value.isoformat() if date_format is None else value.strftime(date_format))
    return formula_safe(str(value))


def source_cell(text: str | None) -> str:
    """Return a source file's cell text echoed back (rejects.csv): a plain number as written.

    The text is not parsed: ``12.345`` stays ``12.345`` (it may be why the row was
    rejected), so a fixed file loads again; other text is made formula-safe.

    Examples
    --------
    >>> source_cell("-100.00"), source_cell("12.345"), source_cell("-C5"), source_cell(None)
    ('-100.00', '12.345', "'-C5", '')
    """
    if text is None:
        return ""
    return text if _PLAIN_NUMBER.match(text) else formula_safe(text)


def write_rows(out: IO[str], header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Write a header row and rows of cells (made by :func:`csv_cell` or :func:`source_cell`).

    Header cells are made formula-safe; row cells are written as given.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([formula_safe(h) for h in header])
    writer.writerows(rows)


def rows_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Return :func:`write_rows`' text.

    Examples
    --------
    >>> print(rows_text(["id", "amount"], [[csv_cell("A,B"), csv_cell(Decimal("-20"))]]), end="")
    id,amount
    "A,B",-20.00
    """
    out = io.StringIO()
    write_rows(out, header, rows)
    return out.getvalue()


def write_rows_file(
    path: str | os.PathLike[str] | Path, header: Sequence[str], rows: Iterable[Sequence[str]]
) -> None:
    """Write :func:`write_rows`' text to ``path`` atomically (UTF-8)."""
    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        write_rows(fh, header, rows)


def cell_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` as text cells, column by column, by :func:`csv_cell`'s rules.

    Examples
    --------
    >>> f = pl.DataFrame({"id": ["+1", "A"], "amount": [Decimal("1234.5"), Decimal("-20")]},
    ...                  schema={"id": pl.String, "amount": pl.Decimal(18, 2)})
    >>> cell_frame(f).rows()
    [("'+1", '1234.50'), ('A', '-20.00')]
    """
    exprs: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.Decimal):
            # Money keeps two places whatever the column's scale (a SUM widens precision).
            text = column.cast(pl.Decimal(38, 2)).cast(pl.String)
            text = pl.when(text == "-0.00").then(pl.lit("0.00")).otherwise(text)
        elif dtype == pl.Boolean:
            text = pl.when(column).then(pl.lit("true")).otherwise(pl.lit("false"))
        elif dtype.is_numeric():
            text = column.cast(pl.String)
        elif isinstance(dtype, pl.Datetime):
            text = _safe_expr(column.dt.strftime(TIMESTAMP_FORMAT))
        elif dtype == pl.Date:
            text = column.cast(pl.String)
        else:
            text = _safe_expr(column.cast(pl.String))
        exprs.append(pl.when(column.is_null()).then(pl.lit("")).otherwise(text).alias(name))
    return frame.select(exprs)


def _safe_expr(text: pl.Expr) -> pl.Expr:
    risky = text.str.contains(_FORMULA_START_RE)
    return pl.when(risky).then(pl.lit("'") + text).otherwise(text)


def csv_text(frame: pl.DataFrame) -> str:
    """Return ``frame`` as CSV text: :func:`cell_frame`'s cells written as :func:`write_rows` does.

    The rows are written by Polars (a million lines in about a second) when that gives the
    very bytes :func:`write_rows` gives: an empty cell is left unquoted, and a frame with
    one column or a cell holding a carriage return (which Polars quotes and Python's
    ``csv`` does not) goes through :func:`write_rows` itself.

    Examples
    --------
    >>> print(csv_text(pl.DataFrame({"note": ["@x"], "amount": [Decimal("40")]})), end="")
    note,amount
    '@x,40.00
    """
    cells = cell_frame(frame)
    header = rows_text(frame.columns, ())
    if cells.width < 2 or cells.is_empty() or _has_carriage_return(cells):
        return rows_text(frame.columns, cells.iter_rows())
    # csv.writer leaves an empty cell unquoted; Polars writes "" for an empty string, so
    # empty cells are handed over as nulls (written as nothing)
    body = cells.select(pl.when(pl.all() == "").then(None).otherwise(pl.all()).name.keep())
    return header + body.write_csv(include_header=False, line_terminator="\n")


def _has_carriage_return(cells: pl.DataFrame) -> bool:
    found = cells.select(pl.any_horizontal(pl.all().str.contains("\r", literal=True)).any())
    return bool(found.item())


def write_csv(frame: pl.DataFrame, path: str | os.PathLike[str] | Path) -> None:
    """Write ``frame`` to ``path`` as CSV (see :func:`csv_text`), atomically (UTF-8)."""
    text = csv_text(frame)
    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
