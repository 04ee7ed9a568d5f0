"""Vendor mapping profiles: read a practice-management system's export as a ledger extract.

A profile is a TOML file (see ``docs/mappings/example_vendor.toml``)::

    name = "Example PM"

    [files]                      # contract table = the export's file stem
    charges = "ChargeLines"

    [columns.charges]            # contract column = the export's column name
    charge_id = "Line ID"

    [formats]
    date = "MM/DD/YYYY"          # or a strftime format such as "%m/%d/%Y"
    money = "us"                 # also accept $1,234.50 and (20.00) for -20.00

    [values.patients.financial_hardship]   # export value = contract value
    "Yes" = "true"

The mapping only renames and rewrites text; every rule of the contract is then checked
as for a canonical extract, so a mapped export is validated the same way.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from writeoff_analytics.errors import LedgerError
from writeoff_analytics.ledger.schema import TABLES_BY_NAME, ColumnType, Table
from writeoff_analytics.ledger.validate import date_format_regex

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

_DATE_TOKENS = (("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d"), ("YY", "%y"))
_MONEY_FORMATS = ("plain", "us")
#: A US-style amount: optional sign or parentheses, optional $, commas only between groups
#: of three ASCII digits (the decimals are checked by the contract, with its message).
_US_MONEY_RE = r"^(-?\$?-?[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?|-?\$?-?[0-9]+(\.[0-9]+)?|\(\$?[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?\)|\(\$?[0-9]+(\.[0-9]+)?\))$"


@dataclass(frozen=True)
class VendorMapping:
    """A loaded mapping profile (see the module docstring for the TOML layout)."""

    name: str = "mapping"
    files: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    date_format: str | None = None
    money_format: str = "plain"

    def file_stem(self, table: str) -> str:
        """Return the export's file stem for a contract table."""
        return self.files.get(table, table)

    def contract_name(self, table: str, source: str) -> str:
        """Return the contract name of an export column (unchanged if not mapped)."""
        for contract, src in self.columns.get(table, {}).items():
            if src == source:
                return contract
        return source

    def source_name(self, table: str, contract: str) -> str:
        """Return the export's name of a contract column."""
        return self.columns.get(table, {}).get(contract, contract)

    def apply(self, table: Table, raw: pl.DataFrame) -> pl.DataFrame:
        """Rename an export table's columns and rewrite its values into the contract's text."""
        renames = {c: self.contract_name(table.name, c) for c in raw.columns}
        df = raw.rename({k: v for k, v in renames.items() if k != v})
        exprs: list[pl.Expr] = []
        for col in table.columns:
            if col.name not in df.columns or df.schema[col.name] != pl.String:
                continue
            e = pl.col(col.name)
            codes = self.values.get(table.name, {}).get(col.name)
            if codes:
                e = e.replace(dict(codes))
            if col.type is ColumnType.MONEY and self.money_format == "us":
                # '$1,234.50' -> '1234.50'; '(20.00)' -> '-20.00'. Only a US amount is
                # rewritten (commas between groups of three digits): '150,00' is left as it
                # is, and refused by the contract's check, never read as 15000.00.
                us = e.str.contains(_US_MONEY_RE)
                plain = e.str.replace_all(r"[$,]", "").str.replace(r"^\((.*)\)$", "-$1")
                e = pl.when(us).then(plain).otherwise(e)
            if codes or (col.type is ColumnType.MONEY and self.money_format == "us"):
                exprs.append(e.alias(col.name))
        return df.with_columns(exprs) if exprs else df


def load_mapping(path: str | os.PathLike[str]) -> VendorMapping:
    """Read a mapping profile from a TOML file.

    Raises
    ------
    LedgerError
        If the file cannot be read or names unknown tables, columns or formats.
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        msg = f"mapping profile {p.name} cannot be read ({exc}); check the path and TOML syntax"
        raise LedgerError(msg) from exc
    files = _str_table(data.get("files", {}), f"{p.name} [files]")
    for table in files:
        _check_table(table, p.name)
    columns: dict[str, dict[str, str]] = {}
    for table, cols in data.get("columns", {}).items():
        _check_table(table, p.name)
        columns[table] = _str_table(cols, f"{p.name} [columns.{table}]")
        for contract in columns[table]:
            _check_column(table, contract, p.name)
    values: dict[str, dict[str, dict[str, str]]] = {}
    for table, cols in data.get("values", {}).items():
        _check_table(table, p.name)
        values[table] = {}
        for col, codes in cols.items():
            _check_column(table, col, p.name)
            values[table][col] = _str_table(codes, f"{p.name} [values.{table}.{col}]")
    formats = data.get("formats", {})
    date = formats.get("date")
    if date is not None and "%" not in date:
        for token, code in _DATE_TOKENS:
            date = date.replace(token, code)
    if date is not None:
        try:
            date_format_regex(date)
        except ValueError as exc:
            msg = f"mapping profile {p.name}: formats.date: {exc}"
            raise LedgerError(msg) from exc
    money = formats.get("money", "plain")
    if money not in _MONEY_FORMATS:
        known = ", ".join(_MONEY_FORMATS)
        msg = f"mapping profile {p.name}: formats.money {money!r} is not one of {known}"
        raise LedgerError(msg)
    return VendorMapping(
        name=str(data.get("name", p.stem)),
        files=files,
        columns=columns,
        values=values,
        date_format=date,
        money_format=money,
    )


def _str_table(obj: object, where: str) -> dict[str, str]:
    if not isinstance(obj, dict) or not all(isinstance(v, str) for v in obj.values()):
        msg = f'mapping profile {where}: expected name = "text" pairs'
        raise LedgerError(msg)
    return {str(k): str(v) for k, v in obj.items()}


def _check_table(table: str, profile: str) -> None:
    if table not in TABLES_BY_NAME:
        known = ", ".join(TABLES_BY_NAME)
        msg = f"mapping profile {profile}: unknown table {table!r}; known: {known}"
        raise LedgerError(msg)


def _check_column(table: str, column: str, profile: str) -> None:
    known = [c.name for c in TABLES_BY_NAME[table].columns]
    if column not in known:
        msg = (
            f"mapping profile {profile}: unknown column {table}.{column}; known: {', '.join(known)}"
        )
        raise LedgerError(msg)
