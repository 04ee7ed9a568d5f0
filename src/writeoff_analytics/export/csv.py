"""CSV export that spreadsheets cannot turn against their users, with exact money.

Every CSV the package writes goes through :func:`write_csv` (or :func:`csv_text`): a header
row; text cells starting with ``=`` ``+`` ``-`` ``@``, a tab or a carriage return get a
leading ``'`` (so Excel does not run them as formulas); money (any Decimal column) is written
with exactly two decimals (``1234.50``, ``-20.00``) and stays a number; dates are ISO.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from writeoff_analytics._atomic import atomic_write

if TYPE_CHECKING:
    import os
    from pathlib import Path

#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` ready for CSV: safe text cells, money as two-decimal text.

    Examples
    --------
    >>> from decimal import Decimal
    >>> f = pl.DataFrame({"id": ["+1", "A"], "amount": [Decimal("1234.5"), Decimal("-20")]},
    ...                  schema={"id": pl.String, "amount": pl.Decimal(18, 2)})
    >>> safe_frame(f).rows()
    [("'+1", '1234.50'), ('A', '-20.00')]
    """
    exprs: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype == pl.String:
            risky = pl.any_horizontal(*(column.str.starts_with(s) for s in FORMULA_STARTS))
            exprs.append(pl.when(risky).then(pl.lit("'") + column).otherwise(column).alias(name))
        elif isinstance(dtype, pl.Decimal):
            # Money keeps two places whatever the column's scale (a SUM widens precision).
            exprs.append(column.cast(pl.Decimal(38, 2)).cast(pl.String).alias(name))
        else:
            exprs.append(column)
    return frame.select(exprs)


def csv_text(frame: pl.DataFrame) -> str:
    """Return ``frame`` as CSV text (header row, safe cells, two-decimal money).

    Examples
    --------
    >>> from decimal import Decimal
    >>> print(csv_text(pl.DataFrame({"note": ["@x"], "amount": [Decimal("40")]})), end="")
    note,amount
    '@x,40.00
    """
    return safe_frame(frame).write_csv()


def write_csv(frame: pl.DataFrame, path: str | os.PathLike[str] | Path) -> None:
    """Write ``frame`` to ``path`` as CSV (see :func:`csv_text`), atomically."""
    text = csv_text(frame)
    with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
