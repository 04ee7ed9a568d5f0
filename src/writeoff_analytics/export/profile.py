"""Export profiles: how a receipt CSV is laid out so a PM system's importer takes it as is.

The default profile writes the transactions layout of LEDGER_FORMAT.md plus the write-off's
reason, adjustment code and claim status. A profile (TOML) picks the columns and their order,
renames headers, sets the date format and adds constant columns::

    name = "acme-pm"
    date_format = "%m/%d/%Y"
    columns = ["charge_id", "posted_date", "amount", "adjustment_code", "reference", "Facility"]
    [headers]
    charge_id = "ChargeNo"
    [constants]
    Facility = "MAIN"

Cells are made and written by the one CSV writer (:mod:`writeoff_analytics.export.csv`):
text cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a
leading ``'`` so a spreadsheet never runs them; amounts stay numbers with two decimals.
``reason_code`` is the transactions layout's CARC (empty: a write-off has none); the
write-off's own reason is ``writeoff_reason``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from writeoff_analytics._toml import read_toml
from writeoff_analytics.errors import ConfigError
from writeoff_analytics.export.csv import WRITEOFF_REASON, csv_cell, formula_safe, rows_text

#: The transactions layout of LEDGER_FORMAT.md, then what the write-off adds.
DEFAULT_COLUMNS: tuple[str, ...] = (
    "transaction_id",
    "charge_id",
    "posted_date",
    "type",
    "responsibility",
    "payer_id",
    "amount",
    "group_code",
    "reason_code",
    "reference",
    WRITEOFF_REASON,
    "adjustment_code",
    "claim_status",
)

#: Every field a receipt line offers to a profile.
LINE_FIELDS: frozenset[str] = frozenset(
    {
        *DEFAULT_COLUMNS,
        "receipt_no",
        "line_no",
        "encounter_id",
        "patient_id",
        "group_key",
        "reason_text",
        "note",
        "determination_reference",
        "reverses_transaction_id",
        "reversal_of",
    }
)

#: Fields written as numbers, never neutralised.
_NUMBER_FIELDS = frozenset({"amount", "line_no"})


@dataclass(frozen=True)
class ExportProfile:
    """The layout of a receipt CSV.

    Attributes
    ----------
    name
        A label kept in the receipt's manifest.
    columns
        Line fields and constant names, in output order.
    headers
        Header to write for a field (default: the field's name).
    date_format
        ``strftime`` format of dates.
    constants
        Columns holding the same text on every row.
    """

    name: str = "transactions"
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    headers: Mapping[str, str] = field(default_factory=dict)
    date_format: str = "%Y-%m-%d"
    constants: Mapping[str, str] = field(default_factory=dict)

    def header(self) -> list[str]:
        """The header row."""
        return [formula_safe(self.headers.get(c, c)) for c in self.columns]

    def render(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        """The CSV bytes (UTF-8, header row, newline line ends) of receipt lines ``rows``."""
        wanted = [c for c in self.columns if c not in self.constants]
        return self.render_columns({c: [row.get(c) for row in rows] for c in wanted}, len(rows))

    def render_columns(self, columns: Mapping[str, Sequence[Any]], height: int) -> bytes:
        """The same bytes as :meth:`render`, from ``height`` lines held column by column.

        A column the profile writes but ``columns`` lacks is empty, as a missing key is in
        :meth:`render`. Cells are made a column at a time and repeated texts and dates are
        formatted once: a 100,000-line receipt renders in a fraction of a second.
        """
        cells = [self._cells(c, columns.get(c), height) for c in self.columns]
        return rows_text(self.header(), zip(*cells, strict=True)).encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (kept with each receipt so its files can be rewritten identically)."""
        return {
            "name": self.name,
            "columns": list(self.columns),
            "headers": dict(self.headers),
            "date_format": self.date_format,
            "constants": dict(self.constants),
        }

    def _cells(self, column: str, values: Sequence[Any] | None, height: int) -> list[str]:
        if column in self.constants:
            return [formula_safe(self.constants[column])] * height
        if values is None:
            return [""] * height
        if len(values) != height:
            msg = f"export column {column} holds {len(values)} value(s) for {height} line(s)"
            raise ValueError(msg)
        out: list[str] = []
        known: dict[object, str] = {}
        for value in values:
            # Texts and dates repeat (payer, reason, posted date): format each once. Only
            # these two types are remembered: equal numbers may print differently (1.0, 1.00).
            if type(value) is str or type(value) is dt.date:
                cell = known.get(value)
                if cell is None:
                    cell = known[value] = self._cell(column, value)
            else:
                cell = self._cell(column, value)
            out.append(cell)
        return out

    def _cell(self, column: str, value: Any) -> str:
        if column in _NUMBER_FIELDS and not isinstance(value, Decimal | int | dt.date | None):
            msg = f"export column {column} must hold a number, got {value!r}"
            raise ConfigError(msg)
        return csv_cell(value, date_format=self.date_format)


DEFAULT_PROFILE = ExportProfile()


def profile_from_dict(data: Mapping[str, Any], *, source: str = "profile") -> ExportProfile:
    """Build an :class:`ExportProfile` from a mapping (a TOML table or a stored JSON).

    Constants not listed in ``columns`` are added at the end.

    Raises
    ------
    ConfigError
        On an unknown key or column, a header for an unknown column, or a bad date format.
    """
    known_keys = {"name", "columns", "headers", "date_format", "constants"}
    if unknown := sorted(set(data) - known_keys):
        msg = f"{source}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known_keys))}."
        raise ConfigError(msg)
    constants = {str(k): str(v) for k, v in dict(data.get("constants", {})).items()}
    if clash := sorted(set(constants) & LINE_FIELDS):
        msg = f"{source}: constant column(s) {', '.join(clash)} would hide a line field; rename them."
        raise ConfigError(msg)
    columns = [str(c) for c in data.get("columns", DEFAULT_COLUMNS)]
    columns += [c for c in constants if c not in columns]
    if unknown := sorted(set(columns) - LINE_FIELDS - set(constants)):
        msg = (
            f"{source}: unknown column(s) {', '.join(unknown)}; a column is a constant or one "
            f"of {', '.join(sorted(LINE_FIELDS))}."
        )
        raise ConfigError(msg)
    if len(set(columns)) != len(columns):
        msg = f"{source}: a column is listed twice."
        raise ConfigError(msg)
    headers = {str(k): str(v) for k, v in dict(data.get("headers", {})).items()}
    if unknown := sorted(set(headers) - set(columns)):
        msg = f"{source}: header(s) for column(s) not written: {', '.join(unknown)}."
        raise ConfigError(msg)
    date_format = str(data.get("date_format", "%Y-%m-%d"))
    try:
        sample = dt.date(2026, 1, 31).strftime(date_format)
    except ValueError as exc:
        msg = f"{source}: date_format {date_format!r} is not a strftime format ({exc})."
        raise ConfigError(msg) from None
    if "31" not in sample:
        msg = f"{source}: date_format {date_format!r} does not write the day of month."
        raise ConfigError(msg)
    return ExportProfile(
        name=str(data.get("name", "custom")),
        columns=tuple(columns),
        headers=dict(headers),
        date_format=date_format,
        constants=dict(constants),
    )


def load_export_profile(path: str | os.PathLike[str]) -> ExportProfile:
    """Read an export profile TOML file.

    Raises
    ------
    ConfigError
        If the file is missing, not TOML, or not a valid profile.
    """
    file = Path(path)
    data = read_toml(file, "export profile", ConfigError)
    return profile_from_dict(data, source=f"export profile {file}")
