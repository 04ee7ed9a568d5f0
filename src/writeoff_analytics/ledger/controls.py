"""Control totals of a load, and the guard that refuses a load that would lose the ledger.

Every load counts, per table, the rows read, kept and rejected, and per money column the sum
read from the file against the sum stored (a rejected row's readable amount is read but not
stored; an unreadable amount is counted, never summed). Before the new snapshot replaces the
current one, :class:`LoadGuard` compares them with the store and refuses, with the figures:

- a table that would drop to zero rows (the file had rows but all were rejected, or the file
  is empty while the store holds rows): paid balances would reappear as open;
- a table with more than ``max_reject_share`` of its rows rejected (default 1%): every charge
  whose payment was rejected would stay a candidate at the wrong balance.

Each guard is lifted only by an option that names the risk (``accept_empty_tables``,
``max_reject_share``); docs/LOADING.md lists them with the CLI flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from writeoff_analytics.errors import LedgerError
from writeoff_analytics.ledger.schema import ColumnType
from writeoff_analytics.money import ZERO, format_money, parse_money

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import polars as pl

    from writeoff_analytics.ledger.schema import Table

#: The share of a table's rows a load may reject unless told otherwise.
DEFAULT_MAX_REJECT_SHARE = Decimal("0.01")
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class MoneyControl:
    """One money column of one table: the sum read from the file against the sum stored."""

    column: str
    read_total: Decimal
    stored_total: Decimal
    unreadable_cells: int

    @property
    def rejected_total(self) -> Decimal:
        """The readable amounts of rejected rows (read, not stored)."""
        return self.read_total - self.stored_total


@dataclass(frozen=True)
class TableControl:
    """The control totals of one table of a load."""

    table: str
    file: str
    rows_read: int
    rows_kept: int
    previous_rows: int | None
    money: tuple[MoneyControl, ...] = field(default=())
    #: Rows a vendor mapping's ``drop`` patterns removed (footers, totals): not read.
    dropped_rows: tuple[int, ...] = field(default=())

    @property
    def rows_rejected(self) -> int:
        """Rows read but not kept."""
        return self.rows_read - self.rows_kept

    @property
    def reject_share(self) -> Decimal:
        """Rejected rows over rows read (0 when the file had no rows)."""
        if self.rows_read == 0:
            return ZERO
        return Decimal(self.rows_rejected) / Decimal(self.rows_read)

    def describe(self) -> str:
        """One line for people: ``transactions.csv: 9 read, 8 kept, 1 rejected; amount …``.

        Examples
        --------
        >>> c = TableControl("charges", "charges.csv", 6, 5, 6,
        ...                  (MoneyControl("charge_amount", Decimal("587.85"), Decimal("575.50"), 0),))
        >>> c.describe()
        'charges.csv: 6 read, 5 kept, 1 rejected (16.7%); charge_amount read $587.85, stored $575.50'
        """
        parts = [f"{self.file}: {self.rows_read:,} read, {self.rows_kept:,} kept, "
                 f"{self.rows_rejected:,} rejected"]
        if self.rows_rejected:
            parts[0] += f" ({percent(self.reject_share)})"
        for m in self.money:
            text = (f"{m.column} read {format_money(m.read_total)}, "
                    f"stored {format_money(m.stored_total)}")
            if m.unreadable_cells:
                text += f", {m.unreadable_cells:,} unreadable"
            parts.append(text)
        if self.dropped_rows:
            rows = ", ".join(map(str, self.dropped_rows[:5]))
            more = ", ..." if len(self.dropped_rows) > 5 else ""
            parts.append(f"{len(self.dropped_rows):,} line(s) dropped by the mapping's patterns "
                         f"(rows {rows}{more})")
        return "; ".join(parts)


def percent(share: Decimal, *, up: bool = False) -> str:
    """A share as a percentage with one decimal, without float.

    ``up`` rounds up, so a limit quoted back to the user is never below the share.

    Examples
    --------
    >>> percent(Decimal(1) / Decimal(3)), percent(Decimal("0.01")), percent(Decimal(1))
    ('33.3%', '1%', '100%')
    >>> percent(Decimal(1) / Decimal(9), up=True)
    '11.2%'
    """
    rounding = ROUND_CEILING if up else ROUND_HALF_UP
    value = (share * _HUNDRED).quantize(Decimal("0.1"), rounding=rounding)
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return f"{text}%"


class LoadRefused(LedgerError):
    """A load the guard refused: the store keeps its previous snapshot.

    Attributes
    ----------
    controls
        The control totals of every table read.
    breaches
        One sentence per guard broken.
    """

    def __init__(self, breaches: Sequence[str], controls: Sequence[TableControl]) -> None:
        self.breaches = tuple(breaches)
        self.controls = tuple(controls)
        msg = ("load refused, the store keeps its previous snapshot: " + "; ".join(self.breaches))
        super().__init__(msg)


@dataclass(frozen=True)
class LoadGuard:
    """What a load may do to the ledger before it is refused.

    Parameters
    ----------
    max_reject_share
        The largest share of any table's rows that may be rejected (``Decimal("0.01")``:
        1%; ``Decimal(1)`` lifts the guard).
    accept_empty_tables
        Let a table end with zero rows although its file had rows or the store held some.

    Examples
    --------
    >>> LoadGuard().check([TableControl("transactions", "transactions.csv", 9, 0, 9)])
    Traceback (most recent call last):
    ...
    writeoff_analytics.ledger.controls.LoadRefused: load refused, the store keeps its previous snapshot: transactions.csv: all 9 rows rejected, no transactions would be left (the store holds 9); fix them (rejects.csv) or pass accept_empty_tables (--accept-empty-tables)
    """

    max_reject_share: Decimal = DEFAULT_MAX_REJECT_SHARE
    accept_empty_tables: bool = False

    def __post_init__(self) -> None:
        share = self.max_reject_share
        if not isinstance(share, Decimal) or not share.is_finite() or not ZERO <= share <= 1:
            msg = f"max_reject_share must be a Decimal from 0 to 1, not {share!r}"
            raise LedgerError(msg)

    def breaches(self, controls: Sequence[TableControl]) -> list[str]:
        """One sentence per guard the controls break (empty: the load may go on)."""
        out: list[str] = []
        for c in controls:
            if c.rows_kept == 0 and not self.accept_empty_tables:
                held = f" (the store holds {c.previous_rows:,})" if c.previous_rows else ""
                if c.rows_read:
                    what = f"all {c.rows_read:,} rows rejected"
                elif c.previous_rows:
                    what = "the file has no rows"
                else:
                    continue  # an empty table in a first load: nothing is lost
                out.append(f"{c.file}: {what}, no {c.table} would be left{held}; fix them "
                           "(rejects.csv) or pass accept_empty_tables (--accept-empty-tables)")
            elif c.rows_kept and c.reject_share > self.max_reject_share:
                out.append(
                    f"{c.file}: {c.rows_rejected:,} of {c.rows_read:,} rows rejected "
                    f"({percent(c.reject_share)}), over the {percent(self.max_reject_share)} "
                    "allowed; fix them (rejects.csv) or raise max_reject_share "
                    f"(--accept-rejected-share {percent(c.reject_share, up=True)})"
                )
        return out

    def check(self, controls: Sequence[TableControl]) -> None:
        """Raise :class:`LoadRefused` if the controls break a guard."""
        found = self.breaches(controls)
        if found:
            raise LoadRefused(found, controls)


def parse_share(text: str) -> Decimal:
    """Read a percentage given as ``5%`` or ``5`` (``0.5`` is half a percent) as a share.

    Examples
    --------
    >>> parse_share("5%"), parse_share("100"), parse_share("0.5")
    (Decimal('0.05'), Decimal('1'), Decimal('0.005'))
    """
    raw = text.strip().removesuffix("%").strip()
    try:
        if not raw.isascii():
            raise InvalidOperation
        value = Decimal(raw)
    except InvalidOperation:
        msg = f"{text!r} is not a percentage; write 5% or 5"
        raise LedgerError(msg) from None
    if not value.is_finite() or not 0 <= value <= _HUNDRED:
        msg = f"{text!r} is not a percentage from 0 to 100"
        raise LedgerError(msg)
    return (value / _HUNDRED).normalize()


def table_control(
    table: Table,
    *,
    file: str,
    kept: pl.DataFrame,
    rejected: pl.DataFrame,
    set_aside: Mapping[int, object],
    previous_rows: int | None,
    dropped_rows: tuple[int, ...] = (),
) -> TableControl:
    """The control totals of one validated table.

    ``kept`` holds the rows kept (typed, whole), ``rejected`` the rejected rows as read
    (text), ``set_aside`` the rows the reader could not split into columns.
    """
    money: list[MoneyControl] = []
    for col in table.columns:
        if col.type is not ColumnType.MONEY:
            continue
        stored = _sum(kept, col.name)
        rejected_read = ZERO
        unreadable = len(set_aside)  # a ragged row's fields cannot be trusted to their columns
        if col.name in rejected.columns:
            for value in rejected.get_column(col.name).to_list():
                if value is None or value == "":
                    continue
                try:
                    rejected_read += parse_money(str(value))
                except ValueError:
                    unreadable += 1
        money.append(MoneyControl(col.name, stored + rejected_read, stored, unreadable))
    return TableControl(
        table=table.name,
        file=file,
        rows_read=kept.height + rejected.height + len(set_aside),
        rows_kept=kept.height,
        previous_rows=previous_rows,
        money=tuple(money),
        dropped_rows=dropped_rows,
    )


def _sum(frame: pl.DataFrame, column: str) -> Decimal:
    if frame.is_empty() or column not in frame.columns:
        return ZERO
    value = frame.get_column(column).sum()
    return ZERO if value is None else Decimal(value).quantize(ZERO)
