"""Vendor mapping profiles: read a practice-management system's export as a ledger extract.

A profile is a TOML file (see ``docs/mappings/``). Version 1 (no ``version`` key)::

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

Version 2 (``version = 2``) adds how the files are written and declares value shapes::

    [csv]                        # every file (a [files.<table>] table may override)
    delimiter = ";"
    encoding = "cp1252"          # decoded to UTF-8 before the CSV reader; never guessed
    skip_lines = 1               # lines before the header (a title line)
    drop = ['^Total', '^;+$']    # lines dropped by pattern (counted and reported)

    [files.charges]
    name = "Leistungen"          # the file stem, plus any [csv] key for this file only

    [formats]
    date = {format = "MM/DD/YY", pivot = 1950}   # 50-99: 1950-1999, 00-49: 2000-2049
    money = {decimal = ",", thousands = ".", negatives = ["-x", "x-"], symbol = ""}

A money or date cell that does not have the declared shape rejects its row (the reader
sets it aside, :meth:`VendorMapping.screen`); nothing is guessed. One export column may
feed several contract columns (``patient_id = "Account"`` and ``guarantor_id =
"Account"``). A mapped column missing from the file is refused, optional or not (version
2). An export column named like a contract column that the profile maps to another
column is kept as an extra column ``export_<name>``, never read as the contract's.

The mapping only renames and rewrites text; every rule of the contract is then checked
as for a canonical extract, so a mapped export is validated the same way.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from writeoff_analytics.errors import LedgerError, RowProblem
from writeoff_analytics.ledger.schema import TABLES_BY_NAME, ColumnType, Table
from writeoff_analytics.ledger.validate import ROW, YEARS, date_format_regex

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping, Sequence

_DATE_TOKENS = (("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d"), ("YY", "%y"))
_MONEY_FORMATS = ("plain", "us")
#: A US-style amount: optional sign or parentheses, optional $, commas only between groups
#: of three ASCII digits (the decimals are checked by the contract, with its message).
_US_MONEY_RE = r"^(-?\$?-?[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?|-?\$?-?[0-9]+(\.[0-9]+)?|\(\$?[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?\)|\(\$?[0-9]+(\.[0-9]+)?\))$"
#: How an export column named like a contract column mapped elsewhere is kept.
EXTRA_PREFIX = "export_"
#: The negative forms a version-2 money format may declare (``x`` is the amount).
NEGATIVE_FORMS = ("-x", "(x)", "x-", "x CR")
_DECIMALS = (".", ",")
_THOUSANDS = ("", ",", ".", " ", "'")
_TOP_KEYS = {1: {"version", "name", "files", "columns", "values", "formats"}}
_TOP_KEYS[2] = _TOP_KEYS[1] | {"csv"}
_CSV_KEYS = ("delimiter", "encoding", "skip_lines", "drop")
_MONEY_KEYS = ("decimal", "thousands", "negatives", "symbol")
_DATE_KEYS = ("format", "pivot")
_UTF8 = ("utf-8", "utf_8")


@dataclass(frozen=True)
class CsvOptions:
    """How one CSV file of an export is written (version 2; the defaults are the contract's).

    Attributes
    ----------
    delimiter
        The field separator (one character).
    encoding
        A Python codec name; the file is decoded with it before the CSV reader (``utf-16``
        needs its byte order mark; declare ``utf-16-le`` or ``utf-16-be`` otherwise).
    skip_lines
        Lines before the header (titles, report dates); they still count as rows.
    drop
        Regular expressions matched against each raw line after the header (a footer, a
        total, a line of empty fields): a matching line is dropped and reported.
    """

    delimiter: str = ","
    encoding: str = "utf-8"
    skip_lines: int = 0
    drop: tuple[str, ...] = ()

    @property
    def needs_text_pass(self) -> bool:
        """Whether the file must be decoded and filtered before the CSV reader."""
        return self.encoding not in _UTF8 or bool(self.skip_lines) or bool(self.drop)


@dataclass(frozen=True)
class MoneyFormat:
    """A declared money shape (version 2): separators, negative forms, currency symbol.

    Examples
    --------
    >>> m = MoneyFormat(decimal=",", thousands=".", negatives=("-x",))
    >>> m.describe()
    "decimal ',', thousands '.', negatives -x, like 1.234,50"
    """

    decimal: str = "."
    thousands: str = ""
    negatives: tuple[str, ...] = ("-x",)
    symbol: str = ""

    def number_regex(self) -> str:
        """The amount without sign: digits (grouped by ``thousands``, if any), decimals."""
        whole = "[0-9]+"
        if self.thousands:
            whole = f"(?:[0-9]{{1,3}}(?:{_esc(self.thousands)}[0-9]{{3}})+|[0-9]+)"
        symbol = f"(?:{_esc(self.symbol)})?" if self.symbol else ""
        return f"{symbol}({whole}(?:{_esc(self.decimal)}[0-9]+)?)"

    def form_regexes(self) -> dict[str, str]:
        """One anchored regex per allowed form (``"x"`` and each negative), group 1 the number."""
        x = self.number_regex()
        shapes = {"x": f"{x}", "-x": f"-{x}", "(x)": rf"\({x}\)", "x-": f"{x}-", "x CR": f"{x} CR"}
        return {k: f"^{v}$" for k, v in shapes.items() if k == "x" or k in self.negatives}

    def describe(self) -> str:
        """The declared shape in words, with an example."""
        sep = f"thousands {self.thousands!r}" if self.thousands else "no thousands separator"
        example = f"1{self.thousands}234{self.decimal}50"
        symbol = f", symbol {self.symbol!r}" if self.symbol else ""
        return (f"decimal {self.decimal!r}, {sep}, negatives {' or '.join(self.negatives)}"
                f"{symbol}, like {self.symbol}{example}")

    def rewrite(self, e: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """Return (does the cell have a declared form, its contract text ``-1234.50``)."""
        forms = self.form_regexes()
        ok = pl.any_horizontal([e.str.contains(p) for p in forms.values()])
        out: Any = pl
        for name, pattern in forms.items():
            number = e.str.extract(pattern, 1)
            if self.thousands:
                number = number.str.replace_all(self.thousands, "", literal=True)
            if self.decimal != ".":
                number = number.str.replace(self.decimal, ".", literal=True)
            text = number if name == "x" else pl.concat_str([pl.lit("-"), number])
            out = out.when(e.str.contains(pattern)).then(text)
        return ok, out.otherwise(e)


@dataclass(frozen=True)
class DateFormat:
    """A declared date format with two-digit years read by a pivot (version 2).

    ``pivot = 1950``: ``50``-``99`` are 1950-1999 and ``00``-``49`` are 2000-2049.
    """

    format: str
    pivot: int

    def regex(self) -> str:
        """The strict pattern of the format (ASCII digits)."""
        return date_format_regex(self.format, pivot=self.pivot)

    def describe(self) -> str:
        """The format in words."""
        first = self.pivot % 100
        century = self.pivot - first
        return (f"{self.format} (two-digit years by the pivot {self.pivot}: "
                f"{first:02d}-99 are {century + first}-{century + 99}, "
                f"00-{first - 1:02d} are {century + 100}-{century + 100 + first - 1})"
                if first else f"{self.format} (two-digit years are {century}-{century + 99})")

    def rewrite(self, e: pl.Expr) -> pl.Expr:
        """The cell as an ISO date text (``YYYY-MM-DD``), for cells that match :meth:`regex`."""
        groups: list[str] = []
        pattern = []
        i = 0
        fmt = self.format
        while i < len(fmt):
            if fmt[i] == "%":
                code = fmt[i : i + 2]
                groups.append(code)
                pattern.append({"%Y": "([0-9]{4})", "%y": "([0-9]{2})"}.get(code, "([0-9]{1,2})"))
                i += 2
            else:
                pattern.append(re.escape(fmt[i]))
                i += 1
        regex = "^" + "".join(pattern) + "$"
        part = {code: e.str.extract(regex, n + 1) for n, code in enumerate(groups)}
        if "%y" in part:
            yy = part["%y"].cast(pl.Int32)
            first, century = self.pivot % 100, self.pivot - self.pivot % 100
            year = pl.when(yy >= first).then(yy + century).otherwise(yy + century + 100)
            year_text = year.cast(pl.String)
        else:
            year_text = part["%Y"]
        return pl.concat_str(
            [year_text, pl.lit("-"), part["%m"].str.zfill(2), pl.lit("-"), part["%d"].str.zfill(2)]
        )


@dataclass(frozen=True)
class VendorMapping:
    """A loaded mapping profile (see the module docstring for the TOML layout)."""

    name: str = "mapping"
    files: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    #: The strftime format the validator reads dates with (``None``: ISO, also when a
    #: pivot format is rewritten to ISO by :meth:`apply`).
    date_format: str | None = None
    money_format: str = "plain"
    version: int = 1
    #: CSV options per table (version 2; a table not named reads the contract's CSV).
    csv: Mapping[str, CsvOptions] = field(default_factory=dict)
    #: The declared money shape (version 2), or ``None``.
    money: MoneyFormat | None = None
    #: The declared two-digit-year date format (version 2), or ``None``.
    pivot_date: DateFormat | None = None

    def file_stem(self, table: str) -> str:
        """Return the export's file stem for a contract table."""
        return self.files.get(table, table)

    def csv_options(self, table: str) -> CsvOptions:
        """How the table's CSV file is written."""
        return self.csv.get(table, CsvOptions())

    def contract_name(self, table: str, source: str) -> str:
        """Return the contract name of an export column (the first, if it feeds several).

        An unmapped export column named like a contract column the profile maps to another
        export column is ``export_<name>``; any other unmapped column keeps its name.
        """
        mapped = self.columns.get(table, {})
        for contract, src in mapped.items():
            if src == source:
                return contract
        if source in mapped:
            return f"{EXTRA_PREFIX}{source}"
        return source

    def source_name(self, table: str, contract: str) -> str:
        """Return the export's name of a contract column."""
        return self.columns.get(table, {}).get(contract, contract)

    def missing_columns(self, table: Table, header: Sequence[str]) -> list[str]:
        """The export names of the columns this file must have but does not, in contract order.

        Required columns always; in version 2 also every optional column the profile maps
        (a mapped column missing is a wrong profile or a wrong file, never an empty column).
        """
        mapped = self.columns.get(table.name, {})
        missing = []
        for col in table.columns:
            source = self.source_name(table.name, col.name)
            if source in header:
                continue
            if col.required or (self.version >= 2 and col.name in mapped):
                missing.append(source)
        return list(dict.fromkeys(missing))

    def renamed_header(self, table: Table, header: Sequence[str]) -> list[str]:
        """The frame's column names after :meth:`apply` (contract columns first)."""
        mapped = self.columns.get(table.name, {})
        used: set[str] = set()
        out: list[str] = []
        for col in table.columns:
            source = mapped.get(col.name, col.name)
            if source in header:
                out.append(col.name)
                used.add(source)
        out.extend(self.contract_name(table.name, c) for c in header if c not in used)
        return out

    def apply(self, table: Table, raw: pl.DataFrame) -> pl.DataFrame:
        """Rename an export table's columns and rewrite its values into the contract's text.

        Version 2 money and two-digit-year dates are rewritten for cells of the declared
        shape; :meth:`screen` has set aside the rows with any other (the reader calls it).
        """
        mapped = self.columns.get(table.name, {})
        used: set[str] = set()
        selected: list[pl.Expr] = []
        if ROW in raw.columns:
            selected.append(pl.col(ROW))
            used.add(ROW)
        for col in table.columns:
            source = mapped.get(col.name, col.name)
            if source in raw.columns:
                selected.append(pl.col(source).alias(col.name))
                used.add(source)
        for c in raw.columns:
            if c not in used:
                selected.append(pl.col(c).alias(self.contract_name(table.name, c)))
        df = raw.select(selected)
        exprs: list[pl.Expr] = []
        for col in table.columns:
            if col.name not in df.columns or df.schema[col.name] != pl.String:
                continue
            e = pl.col(col.name)
            changed = False
            codes = self.values.get(table.name, {}).get(col.name)
            if codes:
                e = e.replace(dict(codes))
                changed = True
            if col.type is ColumnType.MONEY and self.money is not None:
                _ok, e = self.money.rewrite(e)
                changed = True
            elif col.type is ColumnType.MONEY and self.money_format == "us":
                # '$1,234.50' -> '1234.50'; '(20.00)' -> '-20.00'. Only a US amount is
                # rewritten (commas between groups of three digits): '150,00' is left as it
                # is, and refused by the contract's check, never read as 15000.00.
                us = e.str.contains(_US_MONEY_RE)
                plain = e.str.replace_all(r"[$,]", "").str.replace(r"^\((.*)\)$", "-$1")
                e = pl.when(us).then(plain).otherwise(e)
                changed = True
            if col.type is ColumnType.DATE and self.pivot_date is not None:
                e = pl.when(e.str.contains(self.pivot_date.regex())).then(
                    self.pivot_date.rewrite(e)
                ).otherwise(e)
                changed = True
            if changed:
                exprs.append(e.alias(col.name))
        return df.with_columns(exprs) if exprs else df

    def screen(
        self, table: Table, raw: pl.DataFrame, file: str
    ) -> tuple[pl.DataFrame, list[RowProblem], dict[int, dict[str, str | None]]]:
        """Set aside the rows whose money or two-digit-year date cells lack the declared shape.

        ``raw`` has the export's column names and ``_row``. Returns the other rows, one
        problem per bad cell (named by its contract column; PHI values not shown) and the
        set-aside rows' text by row, as the reader returns rows it cannot split.
        """
        checks: list[tuple[str, str, pl.Expr, str]] = []
        for col in table.columns:
            source = self.source_name(table.name, col.name)
            if source not in raw.columns or raw.schema[source] != pl.String:
                continue
            v = pl.col(source)
            if col.type is ColumnType.MONEY and self.money is not None:
                ok, _ = self.money.rewrite(v)
                why = f"is not an amount in the profile's form ({self.money.describe()})"
            elif col.type is ColumnType.DATE and self.pivot_date is not None:
                ok = v.str.contains(self.pivot_date.regex())
                why = f"is not a date in the form {self.pivot_date.describe()}"
            else:
                continue
            checks.append((col.name, source, (v.is_not_null() & ~ok).alias(f"_shape_{col.name}"),
                           why))
        if not checks or raw.is_empty():
            return raw, [], {}
        flagged = raw.with_columns([c[2] for c in checks])
        any_bad = pl.any_horizontal([pl.col(f"_shape_{c[0]}") for c in checks])
        bad_rows = flagged.filter(any_bad)
        if bad_rows.is_empty():
            return raw, [], {}
        problems: list[RowProblem] = []
        records: dict[int, dict[str, str | None]] = {}
        phi = {c.name for c in table.columns if c.phi}
        names = [c for c in raw.columns if c != ROW]
        for rec in bad_rows.iter_rows(named=True):
            row = int(rec[ROW])
            records[row] = {c: None if rec[c] is None else str(rec[c]) for c in names}
            for contract, source, _e, why in checks:
                if rec[f"_shape_{contract}"]:
                    shown = None if contract in phi else str(rec[source])
                    problems.append(RowProblem(table.name, file, row, contract, shown, why))
        kept = flagged.filter(~any_bad).select(raw.columns)
        return kept, problems, records


def load_mapping(path: str | os.PathLike[str]) -> VendorMapping:
    """Read a mapping profile from a TOML file.

    Raises
    ------
    LedgerError
        If the file cannot be read or names unknown keys, tables, columns or formats.
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        msg = f"mapping profile {p.name} cannot be read ({exc}); check the path and TOML syntax"
        raise LedgerError(msg) from exc
    where = f"mapping profile {p.name}"
    version = data.get("version", 1)
    if version not in (1, 2) or isinstance(version, bool):
        msg = f"{where}: version {version!r} is not 1 or 2"
        raise LedgerError(msg)
    _known_keys(data, _TOP_KEYS[version], where, version)
    defaults = _csv_options(data.get("csv", {}), CsvOptions(), f"{where} [csv]")
    files: dict[str, str] = {}
    csv: dict[str, CsvOptions] = {}
    raw_files = data.get("files", {})
    if not isinstance(raw_files, dict):
        msg = f'{where} [files]: expected table = "file stem" pairs'
        raise LedgerError(msg)
    for table, spec in raw_files.items():
        _check_table(table, p.name)
        if isinstance(spec, dict) and version >= 2:
            _known_keys(spec, {"name", *_CSV_KEYS}, f"{where} [files.{table}]", version)
            if "name" in spec:
                files[table] = _text(spec["name"], f"{where} [files.{table}] name")
            csv[table] = _csv_options(spec, defaults, f"{where} [files.{table}]")
        else:
            files[table] = _text(spec, f"{where} [files] {table}")
    if version >= 2:
        for table in TABLES_BY_NAME:
            csv.setdefault(table, defaults)
    columns: dict[str, dict[str, str]] = {}
    for table, cols in _table(data.get("columns", {}), f"{where} [columns]").items():
        _check_table(table, p.name)
        columns[table] = _str_table(cols, f"{p.name} [columns.{table}]")
        for contract in columns[table]:
            _check_column(table, contract, p.name)
    values: dict[str, dict[str, dict[str, str]]] = {}
    for table, cols in _table(data.get("values", {}), f"{where} [values]").items():
        _check_table(table, p.name)
        values[table] = {}
        for col, codes in _table(cols, f"{where} [values.{table}]").items():
            _check_column(table, col, p.name)
            values[table][col] = _str_table(codes, f"{p.name} [values.{table}.{col}]")
    formats = _table(data.get("formats", {}), f"{where} [formats]")
    _known_keys(formats, {"date", "money"}, f"{where} [formats]", version)
    date, pivot_date = _date_format(formats.get("date"), f"{where}: formats.date", version)
    money_format = "plain"
    money: MoneyFormat | None = None
    raw_money = formats.get("money", "plain")
    if isinstance(raw_money, dict) and version >= 2:
        money = _money_format(raw_money, f"{where}: formats.money")
    elif raw_money not in _MONEY_FORMATS:
        known = ", ".join(_MONEY_FORMATS)
        more = " (or, with version = 2, a table {decimal, thousands, negatives, symbol})"
        msg = f"{where}: formats.money {raw_money!r} is not one of {known}{more}"
        raise LedgerError(msg)
    else:
        money_format = str(raw_money)
    return VendorMapping(
        name=str(data.get("name", p.stem)),
        files=files,
        columns=columns,
        values=values,
        date_format=date,
        money_format=money_format,
        version=int(version),
        csv=csv,
        money=money,
        pivot_date=pivot_date,
    )


def _date_format(
    raw: object, where: str, version: int
) -> tuple[str | None, DateFormat | None]:
    """(the validator's strftime format, the pivot format rewritten by the mapping)."""
    if raw is None:
        return None, None
    pivot: int | None = None
    if isinstance(raw, dict) and version >= 2:
        _known_keys(raw, set(_DATE_KEYS), where, version)
        fmt = _text(raw.get("format"), f"{where}.format")
        if "pivot" in raw:
            pivot = raw["pivot"]
            if not isinstance(pivot, int) or isinstance(pivot, bool) or not (
                YEARS[0] <= pivot <= YEARS[1] - 99
            ):
                msg = f"{where}.pivot must be a year from {YEARS[0]} to {YEARS[1] - 99}, not {pivot!r}"
                raise LedgerError(msg)
    else:
        fmt = _text(raw, where)
    if "%" not in fmt:
        for token, code in _DATE_TOKENS:
            fmt = fmt.replace(token, code)
    try:
        date_format_regex(fmt, pivot=pivot)
    except ValueError as exc:
        hint = "" if version >= 2 else " (a pivot year needs version = 2)"
        msg = f"{where}: {exc}{hint}"
        raise LedgerError(msg) from exc
    if pivot is None:
        return fmt, None
    if "%y" not in fmt:
        msg = f"{where}: pivot {pivot} is declared but {fmt!r} has no two-digit year (YY)"
        raise LedgerError(msg)
    return None, DateFormat(fmt, pivot)


def _money_format(raw: Mapping[str, Any], where: str) -> MoneyFormat:
    _known_keys(raw, set(_MONEY_KEYS), where, 2)
    decimal = raw.get("decimal", ".")
    thousands = raw.get("thousands", "")
    symbol = raw.get("symbol", "")
    negatives = raw.get("negatives", ["-x"])
    if decimal not in _DECIMALS:
        msg = f"{where}.decimal {decimal!r} is not one of {', '.join(map(repr, _DECIMALS))}"
        raise LedgerError(msg)
    if thousands not in _THOUSANDS or thousands == decimal:
        msg = (f"{where}.thousands {thousands!r} is not one of "
               f"{', '.join(map(repr, _THOUSANDS))} other than the decimal mark")
        raise LedgerError(msg)
    if not isinstance(symbol, str) or any(ch.isdigit() or ch in "-()., '" for ch in symbol):
        msg = f"{where}.symbol {symbol!r} must be text without digits, signs or separators"
        raise LedgerError(msg)
    if (not isinstance(negatives, list) or not negatives
            or any(n not in NEGATIVE_FORMS for n in negatives)):
        msg = (f"{where}.negatives {negatives!r} must be a list of one or more of "
               f"{', '.join(map(repr, NEGATIVE_FORMS))}")
        raise LedgerError(msg)
    return MoneyFormat(str(decimal), str(thousands), tuple(dict.fromkeys(negatives)), symbol)


def _csv_options(raw: object, base: CsvOptions, where: str) -> CsvOptions:
    spec = _table(raw, where)
    _known_keys(spec, {"name", *_CSV_KEYS}, where, 2)
    delimiter = spec.get("delimiter", base.delimiter)
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n":
        msg = f"{where}: delimiter {delimiter!r} must be one character (not a quote or line break)"
        raise LedgerError(msg)
    encoding = spec.get("encoding", base.encoding)
    try:
        info = codecs.lookup(_text(encoding, f"{where}: encoding"))
    except LookupError:
        msg = f"{where}: encoding {encoding!r} is not known; use e.g. utf-8, cp1252, latin-1, utf-16"
        raise LedgerError(msg) from None
    if not getattr(info, "_is_text_encoding", True):
        msg = f"{where}: {encoding!r} is not a text encoding"
        raise LedgerError(msg)
    skip = spec.get("skip_lines", base.skip_lines)
    if not isinstance(skip, int) or isinstance(skip, bool) or not 0 <= skip <= 100:
        msg = f"{where}: skip_lines must be a whole number from 0 to 100, not {skip!r}"
        raise LedgerError(msg)
    drop = spec.get("drop", list(base.drop))
    if isinstance(drop, str):
        drop = [drop]
    if not isinstance(drop, list) or not all(isinstance(d, str) and d for d in drop):
        msg = f"{where}: drop must be a list of regular expressions"
        raise LedgerError(msg)
    for pattern in drop:
        try:
            re.compile(pattern)
        except re.error as exc:
            msg = f"{where}: drop pattern {pattern!r} is not a regular expression ({exc})"
            raise LedgerError(msg) from None
    return CsvOptions(delimiter, info.name, skip, tuple(drop))


def _known_keys(obj: Mapping[str, Any], known: set[str], where: str, version: int) -> None:
    unknown = sorted(set(obj) - known)
    if unknown:
        hint = " (version-2 keys need version = 2)" if version < 2 else ""
        msg = (f"{where}: unknown key(s) {', '.join(unknown)}; known: "
               f"{', '.join(sorted(known))}{hint}")
        raise LedgerError(msg)


def _table(obj: object, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        msg = f"{where}: expected a table"
        raise LedgerError(msg)
    return obj


def _text(obj: object, where: str) -> str:
    if not isinstance(obj, str) or not obj:
        msg = f"{where}: expected text, not {obj!r}"
        raise LedgerError(msg)
    return obj


def _esc(text: str) -> str:
    """A literal for Polars' (Rust) regular expressions: punctuation escaped, nothing else."""
    return "".join(f"\\{ch}" if ch in r"\.+*?()|[]{}^$#&-~" else ch for ch in text)


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
