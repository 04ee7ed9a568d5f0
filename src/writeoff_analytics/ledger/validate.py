"""The rules of LEDGER_FORMAT.md, checked set-wise over a table read as text.

Each table arrives as a Polars frame whose contract columns hold text (or, from Parquet,
values already of the contract's type) plus ``_row``, the row's spreadsheet row number
(header = row 1, first data row = 2). The checks are Polars expressions over whole
columns; only the rows that break a rule ever reach Python, to build their messages.

Decisions (also in ``docs/LOADING.md``):

- A row with any problem is rejected whole; every problem of the row is reported.
- Duplicate ids: the first row holding an id (lowest row number) is kept, every later
  row with the same id is rejected, even when the first was rejected for another reason.
- References resolve against the rows *kept* from the referenced table, so a row pointing
  at a rejected row is rejected too (charge -> encounter -> patient, coverage ->
  patient and payer, charge.billed_payer_id -> payer, transaction -> charge and payer).
- Empty cells are null; a value is never trimmed or re-cased (``' 12.50'`` is refused).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from writeoff_analytics.errors import RowProblem
from writeoff_analytics.ledger.schema import (
    FALSE_WORDS,
    TABLES_BY_NAME,
    TRUE_WORDS,
    Column,
    ColumnType,
    Table,
)
from writeoff_analytics.ledger.snapshot import polars_schema
from writeoff_analytics.money import PL_MONEY, money_problem

if TYPE_CHECKING:
    from collections.abc import Mapping

#: The row-number column every raw frame carries.
ROW = "_row"
#: The work columns validation adds (``_bad_amount``...): a file's column may not be named so.
INTERNAL_PREFIXES = (ROW, "_reject", "_bad_", "_typed_", "_dup_", "_ref_")


def is_internal(name: str) -> bool:
    """Whether a column name could collide with a work column of the loader.

    Examples
    --------
    >>> is_internal("_typed_amount"), is_internal("_row"), is_internal("row")
    (True, True, False)
    """
    return name.startswith(INTERNAL_PREFIXES)

# ASCII digits only: ``\d`` (Python and Polars alike) also matches Arabic-Indic and fullwidth
# digits, which the casts below would then turn into NULL (issue 14).
_MONEY_RE = r"^-?[0-9]{1,16}(\.[0-9]{1,2})?$"
_INT_RE = r"^[+-]?[0-9]{1,9}$"
_ISO_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: The years a ledger date may have.
YEARS = (1900, 2199)
#: strftime codes a date format may use, as the ASCII text each accepts.
_DATE_CODES = {"%Y": "[0-9]{4}", "%m": "[0-9]{1,2}", "%d": "[0-9]{1,2}"}
_BOOL_WORDS = sorted(TRUE_WORDS | FALSE_WORDS)
#: Characters an id or code may not hold (issue 14): C0 and C1 controls, DEL, and the bidi
#: embeddings, overrides and isolates, which make a terminal or report show one id as another.
_CONTROL_CLASS = r"[\x00-\x1F\x7F-\x9F\x{202A}-\x{202E}\x{2066}-\x{2069}]"
_CONTROL_PY = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class TableResult:
    """One table after validation.

    Attributes
    ----------
    frame
        The kept rows, typed as the contract says (extra columns as text), no ``_row``.
    problems
        Every problem found, ordered by row then column.
    rejected
        The rejected rows as read (text), with ``_row``.
    set_aside
        Rows the reader already rejected (wrong field count), by row, as text.
    """

    table: str
    file: str
    frame: pl.DataFrame
    problems: tuple[RowProblem, ...]
    rejected: pl.DataFrame
    set_aside: Mapping[int, Mapping[str, str | None]] = field(default_factory=dict)


def validate_table(
    table: Table,
    raw: pl.DataFrame,
    *,
    file: str,
    kept: Mapping[str, TableResult],
    date_format: str | None = None,
    set_aside: Mapping[int, Mapping[str, str | None]] | None = None,
) -> TableResult:
    """Check one table against the contract and cast its kept rows.

    Parameters
    ----------
    table
        The contract table (``schema.TABLES``).
    raw
        Its rows as read: ``_row`` plus the file's columns (every contract column present).
    file
        The file name used in messages (``charges.csv``).
    kept
        The results of the tables already validated, for references.
    set_aside
        Rows the reader rejected already (by row, as text): references to their ids are
        reported as references to a rejected row.
    date_format
        A ``strftime`` format for date columns other than ISO (vendor mappings); ``None``
        means ``YYYY-MM-DD``.

    Returns
    -------
    TableResult
        Kept rows typed, problems, rejected rows.
    """
    schema = polars_schema(table)
    checks: list[pl.Expr] = []
    typed: list[pl.Expr] = []
    flags: list[str] = []
    for col in table.columns:
        if col.name not in raw.columns:
            typed.append(pl.lit(None, dtype=schema[col.name]).alias(col.name))
            continue
        dtype = raw.schema[col.name]
        bad, value = _column_check(col, dtype, schema[col.name], date_format)
        flag = f"_bad_{col.name}"
        # Each cell's typed value is computed with its check, in one pass (the check and
        # the cast share their parsing: a regex match, a date parse).
        checks.extend([bad.alias(flag), value.alias(_typed(col.name))])
        flags.append(flag)
        typed.append(pl.col(_typed(col.name)).alias(col.name))
        if col.unique:
            dup = f"_dup_{col.name}"
            checks.append(
                (pl.col(col.name).is_not_null() & ~pl.col(col.name).is_first_distinct()).alias(dup)
            )
            flags.append(dup)
    extras = [c for c in raw.columns if c != ROW and c not in schema]
    # References: against the rows kept from the referenced table (a rejected row's
    # dependants are rejected too).
    ref_flags: list[str] = []
    for col in table.columns:
        if col.references is None or col.name not in raw.columns:
            continue
        target_table, target_col = col.references
        target = kept[target_table].frame.get_column(target_col)
        flag = f"_ref_{col.name}"
        checks.append(
            (pl.col(col.name).is_not_null() & ~pl.col(col.name).is_in(target.implode())).alias(flag)
        )
        ref_flags.append(flag)
    all_flags = flags + ref_flags
    any_bad = pl.any_horizontal([pl.col(f) for f in all_flags]) if all_flags else pl.lit(False)
    # Lazily, so that common subexpressions are computed once (an eager frame does not).
    work = raw.with_columns(checks).with_columns(any_bad.alias("_reject"))
    bad_rows = work.filter(pl.col("_reject"))
    # The common case (nothing rejected) takes the typed columns as they are, no copy.
    good = work.filter(~pl.col("_reject")) if bad_rows.height else work
    frame = good.select(typed + [pl.col(c).cast(pl.String) for c in extras])
    del good, work
    problems = _problems(table, raw, bad_rows, file=file, kept=kept, date_format=date_format)
    rejected = bad_rows.select([ROW, *[c for c in raw.columns if c != ROW]])
    return TableResult(
        table=table.name,
        file=file,
        frame=frame,
        problems=problems,
        rejected=rejected.with_columns(pl.all().exclude(ROW).cast(pl.String)),
        set_aside=dict(set_aside or {}),
    )


def _typed(name: str) -> str:
    """The work column holding ``name``'s typed value."""
    return f"_typed_{name}"


def is_code(col: Column) -> bool:
    """Whether a column holds an id or a code (no control or bidi character allowed)."""
    return col.type is ColumnType.ID or (
        col.type is ColumnType.STRING and col.name.endswith(("_code", "_codes"))
    )


def _column_check(
    col: Column, dtype: pl.DataType, target: pl.DataType, date_format: str | None
) -> tuple[pl.Expr, pl.Expr]:
    """Return (is this cell bad, its typed value) for one column."""
    v = pl.col(col.name)
    missing = v.is_null()
    if dtype == target and not isinstance(dtype, pl.String):
        # Parquet/Excel cell already holding the contract's type: only null and range.
        ok = pl.lit(True)
        value = v
    elif col.type in (ColumnType.ID, ColumnType.STRING):
        # Ids and codes are printed and matched: no control or bidi character. Free text
        # (names, a payer name over two lines) is never printed raw and keeps its rows.
        ok = ~v.str.contains(_CONTROL_CLASS) if is_code(col) else pl.lit(True)
        value = v
    elif col.type is ColumnType.ENUM:
        ok = v.is_in(list(col.enum))
        value = v
    elif col.type is ColumnType.BOOL:
        low = v.str.to_lowercase()
        ok = low.is_in(_BOOL_WORDS)
        value = pl.when(missing).then(None).otherwise(low.is_in(sorted(TRUE_WORDS)))
    elif col.type is ColumnType.INTEGER:
        ok = v.str.contains(_INT_RE)
        value = pl.when(ok).then(v).otherwise(None).cast(pl.Int32, strict=False)
    elif col.type is ColumnType.DATE:
        if date_format is None:
            parsed = v.str.to_date("%Y-%m-%d", strict=False)
            ok = v.str.contains(_ISO_DATE_RE) & parsed.is_not_null()
        else:
            parsed = v.str.to_date(date_format, strict=False)
            ok = v.str.contains(date_format_regex(date_format)) & parsed.is_not_null()
        # A year outside 1900-2199 is a misread export (a two-digit year read as 0026),
        # never a date of this ledger.
        ok = ok & parsed.dt.year().is_between(YEARS[0], YEARS[1])
        value = parsed
    else:  # MONEY
        ok = v.str.contains(_MONEY_RE)
        value = pl.when(ok).then(v).otherwise(None).cast(PL_MONEY, strict=False)
    # Nothing unreadable becomes NULL: a cell that passed its pattern but did not convert is
    # bad too (the typed value is what is stored).
    bad = ~missing & (~ok | value.is_null())
    if col.minimum is not None:
        bad = bad | (~missing & ok & (value < col.minimum))
    if col.maximum is not None:
        bad = bad | (~missing & ok & (value > col.maximum))
    if col.required:
        bad = bad | missing
    return bad, value


def date_format_regex(date_format: str, *, pivot: int | None = None) -> str:
    """The strict pattern of a strftime date format: ASCII digits, four-digit years only.

    ``%y`` (two digits) is read only when a pivot year is declared (a vendor mapping's
    ``date = {format = "MM/DD/YY", pivot = 1950}``); the mapping then writes the year out.

    Raises
    ------
    ValueError
        If the format uses a code other than ``%Y %m %d``, or ``%y`` without a pivot (a
        two-digit year is never guessed into a century).

    Examples
    --------
    >>> date_format_regex("%m/%d/%Y")
    '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$'
    >>> date_format_regex("%m/%d/%y", pivot=1950)
    '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{2}$'
    """
    codes = dict(_DATE_CODES)
    if pivot is not None:
        codes["%y"] = "[0-9]{2}"
    out = []
    i = 0
    while i < len(date_format):
        if date_format[i] == "%":
            code = date_format[i : i + 2]
            if code not in codes:
                msg = (f"date format {date_format!r} uses {code}; only %Y (four digits), %m and "
                       "%d are read, so no two-digit year is guessed into a century"
                       + ("" if code != "%y" else " (declare a pivot year to read %y)"))
                raise ValueError(msg)
            out.append(codes[code])
            i += 2
        else:
            out.append(re.escape(date_format[i]))
            i += 1
    return "^" + "".join(out) + "$"


def _problems(
    table: Table,
    raw: pl.DataFrame,
    bad_rows: pl.DataFrame,
    *,
    file: str,
    kept: Mapping[str, TableResult],
    date_format: str | None,
) -> tuple[RowProblem, ...]:
    """Build the messages of the (few) rejected rows, in Python."""
    if bad_rows.height == 0:
        return ()
    problems: list[RowProblem] = []
    first_rows: dict[str, dict[Any, int]] = {}
    for col in table.columns:
        if col.unique and col.name in raw.columns:
            dup_values = bad_rows.filter(pl.col(f"_dup_{col.name}")).get_column(col.name)
            if dup_values.len():
                firsts = (
                    raw.filter(pl.col(col.name).is_in(dup_values.implode()))
                    .group_by(col.name)
                    .agg(pl.col(ROW).min())
                )
                first_rows[col.name] = dict(zip(firsts[col.name], firsts[ROW], strict=True))
    rejected_keys = {name: _rejected_keys(result) for name, result in kept.items()}
    present = [c for c in table.columns if c.name in raw.columns]
    for rec in bad_rows.iter_rows(named=True):
        row = int(rec[ROW])
        for col in present:
            value = rec[col.name]
            text = None if value is None else str(value)
            if rec[f"_bad_{col.name}"]:
                reason = _reason(col, text, date_format)
                # PHI (names, birth dates): the message names the column and the reason only.
                shown_value = None if col.phi else text
                problems.append(
                    RowProblem(
                        table.name, file, row, col.name, shown_value, reason, withheld=col.phi
                    )
                )
            if col.unique and rec[f"_dup_{col.name}"]:
                first = first_rows[col.name][value]
                reason = f"duplicate {col.name}; the first row with it (row {first}) is kept"
                problems.append(RowProblem(table.name, file, row, col.name, text, reason))
            if col.references is not None and rec.get(f"_ref_{col.name}"):
                target_table, target_col = col.references
                target_file = kept[target_table].file
                where = rejected_keys[target_table].get((target_col, text))
                if where is not None:
                    reason = (
                        f"{target_col} {text} was rejected ({target_file}, row {where}); "
                        "fix that row and reload"
                    )
                else:
                    reason = f"{target_col} {text} is not in {target_file}"
                problems.append(RowProblem(table.name, file, row, col.name, text, reason))
    return tuple(problems)


def _rejected_keys(result: TableResult) -> dict[tuple[str, str | None], int]:
    """(key column, value) -> row of the first rejected row holding it."""
    key = TABLES_BY_NAME[result.table].key
    if key is None or key not in result.rejected.columns:
        return {}
    out: dict[tuple[str, str | None], int] = {}
    for value, row in zip(result.rejected[key], result.rejected[ROW], strict=True):
        out.setdefault((key, value), int(row))
    for row, rec in sorted(result.set_aside.items()):
        out.setdefault((key, rec.get(key)), row)
    return out


def _year_of(text: str, date_format: str | None) -> int | None:
    """The year of a date text that reads as a date in its format, else None."""
    fmt = date_format or "%Y-%m-%d"
    if not re.match(date_format_regex(fmt), text):
        return None
    try:
        return dt.datetime.strptime(text, fmt).year
    except ValueError:
        return None


def _reason(col: Column, text: str | None, date_format: str | None) -> str:
    """Why one cell is refused (called for bad cells only)."""
    if text is None or text == "":
        return "empty; a value is required"
    kind = col.type
    if is_code(col):
        bad = _CONTROL_PY.search(text)
        if bad is not None:
            return (
                f"holds U+{ord(bad.group()):04X}, a control or bidi character; ids and codes "
                "must be printable text (check the export)"
            )
    if kind is ColumnType.MONEY:
        if re.match(_MONEY_RE, text):
            return f"is negative; {col.name} must be 0 or more"
        return money_problem(text)
    if kind is ColumnType.ENUM:
        return f"is not one of {', '.join(col.enum)}"
    if kind is ColumnType.BOOL:
        return "is not a boolean; use true/false (also t/f, 1/0, y/n)"
    if kind is ColumnType.INTEGER:
        if not re.match(_INT_RE, text):
            return "is not a whole number"
        if col.minimum is not None and int(text) < col.minimum:
            return f"is below {col.minimum}; {col.name} must be at least {col.minimum}"
        return f"is above {col.maximum}; {col.name} must be at most {col.maximum}"
    if kind is ColumnType.DATE:
        year = _year_of(text, date_format)
        if year is not None and not YEARS[0] <= year <= YEARS[1]:
            if col.phi:  # the year of a birth date is withheld too
                return f"has a year outside {YEARS[0]}-{YEARS[1]}; check the date format"
            return f"has the year {year:04d}, outside {YEARS[0]}-{YEARS[1]}; check the date format"
        if date_format is not None:
            return f"is not a date in the form {date_format} (ASCII digits, four-digit year)"
        if re.match(_ISO_DATE_RE, text):
            return "is not a calendar date"
        return "is not an ISO date; write YYYY-MM-DD"
    return "is refused"  # pragma: no cover - ids and strings fail when empty or on a control

