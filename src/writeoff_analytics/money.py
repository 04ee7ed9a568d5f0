"""Money is exact: DECIMAL(18,2) in DuckDB, ``pl.Decimal(18, 2)`` in Polars, Decimal in Python.

Both engines round differently when a value enters a scale-2 decimal (DuckDB half away
from zero, Polars half to even: see TOOLCHAIN_NOTES.md), so values are quantized once,
here, with :data:`ROUNDING`, and never rounded by an engine on the way.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import polars as pl

#: The DuckDB type of every money column.
SQL_MONEY = "DECIMAL(18,2)"
#: The Polars type of every money column.
PL_MONEY = pl.Decimal(18, 2)
#: The one rounding rule (half away from zero, as DuckDB casts do).
ROUNDING = ROUND_HALF_UP
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: Largest absolute value DECIMAL(18,2) holds.
MAX_MONEY = Decimal("9999999999999999.99")

# ASCII digits only: ``\d`` also matches Arabic-Indic and fullwidth digits (issue 14).
_MONEY_RE = re.compile(r"^-?[0-9]{1,16}(\.[0-9]{1,2})?$")


def parse_money(text: str | Decimal | int) -> Decimal:
    """Parse a money value of the ledger format into an exact two-place Decimal.

    Parameters
    ----------
    text
        ``"1234.50"``, ``"-20"``, an ``int`` or a ``Decimal``; never a float.

    Returns
    -------
    Decimal
        The value with exactly two decimal places.

    Raises
    ------
    ValueError
        If the text is not a plain decimal with at most two places (no currency sign,
        no thousands separator), or it does not fit DECIMAL(18,2).

    Examples
    --------
    >>> parse_money("40")
    Decimal('40.00')
    >>> parse_money("-20.5")
    Decimal('-20.50')
    """
    if isinstance(text, float):  # a float near money is a bug
        msg = f"money must not be a float ({text!r}); pass a string or a Decimal"
        raise TypeError(msg)
    if isinstance(text, Decimal):
        if not text.is_finite():
            msg = f"{text} is not a finite amount"
            raise ValueError(msg)
        if text != text.quantize(CENT, rounding=ROUNDING):
            msg = f"{text} has more than 2 decimals; money allows 2"
            raise ValueError(msg)
        value = text.quantize(CENT)
    else:
        raw = str(text).strip()
        if not _MONEY_RE.match(raw):
            msg = money_problem(raw)
            raise ValueError(msg)
        try:
            value = Decimal(raw).quantize(CENT)
        except InvalidOperation as exc:  # pragma: no cover - regex guards it
            msg = f"{raw!r} is not a decimal number"
            raise ValueError(msg) from exc
    if abs(value) > MAX_MONEY:
        msg = f"{value} does not fit DECIMAL(18,2)"
        raise ValueError(msg)
    return value


def money_problem(raw: str) -> str:
    """Say why a text is not a money value of the ledger format (for error messages)."""
    if raw == "":
        return "empty; a money value is required"
    if "$" in raw or "," in raw:
        return "has a currency sign or thousands separator; write 1234.50"
    m = re.match(r"^-?[0-9]+\.([0-9]+)$", raw)
    if m and len(m.group(1)) > 2:
        return f"has {len(m.group(1))} decimals; money allows 2"
    if not raw.isascii():
        return "has characters other than ASCII digits, '-' and '.'; write 1234.50"
    if raw.startswith("(") and raw.endswith(")"):
        return "uses parentheses for a negative; write -20.00"
    return "is not a decimal number like 1234.50"


def quantize(value: Decimal) -> Decimal:
    """Round a Decimal to cents with the package's one rounding rule."""
    return value.quantize(CENT, rounding=ROUNDING)


def format_money(value: Decimal) -> str:
    """Format money for people: ``$1,234.50``, ``-$20.00``.

    Examples
    --------
    >>> format_money(Decimal("-1234.5"))
    '-$1,234.50'
    """
    q = quantize(value)
    sign = "-" if q < 0 else ""
    return f"{sign}${abs(q):,.2f}"
