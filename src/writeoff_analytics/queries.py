"""Find, check and run the named SQL files of ``queries/``.

One query per file; the file stem is its name. The header declares what comes back and
the parameters::

    -- select_patient_lines: patient-side lines passing the payer and date filters.
    -- params: payer_ids VARCHAR[], dos_from DATE

Values always travel as bound ``$name`` parameters; SQL text is never built from values.
On load the ``-- params:`` line and the ``$names`` in the body must agree both ways; on run
the caller must pass exactly those names. A mismatch is a :class:`QueryError`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from writeoff_analytics.errors import QueryError

if TYPE_CHECKING:
    import duckdb
    import polars as pl

_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_STRING_RE = re.compile(r"'(?:[^']|'')*'")
_COMMENT_RE = re.compile(r"--[^\n]*")


@dataclass(frozen=True)
class Query:
    """One named SQL file: its text and the parameters it declares.

    Attributes
    ----------
    name
        The file stem.
    path
        The file.
    sql
        Its text, header included.
    param_types
        Each declared parameter, in header order, with its DuckDB type as written
        (``{"payer_ids": "VARCHAR[]", "dos_from": "DATE"}``).
    summary
        What comes back (the first header line).
    """

    name: str
    path: Path
    sql: str
    param_types: Mapping[str, str]
    summary: str

    @property
    def params(self) -> tuple[str, ...]:
        """The declared parameter names, in header order."""
        return tuple(self.param_types)


def queries_dir() -> Path:
    """Return the folder holding the query files.

    An installed wheel carries them as ``writeoff_analytics/queries``; a source checkout
    (editable install) reads the repository's top-level ``queries/``.
    """
    packaged = Path(str(resources.files("writeoff_analytics"))) / "queries"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "queries"
    if checkout.is_dir():
        return checkout
    msg = f"queries folder not found (looked in {packaged} and {checkout}); reinstall the package"
    raise QueryError(msg)


def _parse(path: Path) -> Query:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    name = path.stem
    if not lines or not lines[0].startswith(f"-- {name}:"):
        msg = f"{path.name}: the first line must be '-- {name}: <what comes back>'"
        raise QueryError(msg)
    summary = lines[0].split(":", 1)[1].strip()
    declared: dict[str, str] = {}
    seen_params = False
    for line in lines[1:]:
        if not line.startswith("--"):
            break
        if line.startswith("-- params:"):
            seen_params = True
            spec = line.split(":", 1)[1].strip()
            if spec and spec != "(none)":
                # "a VARCHAR[], b DECIMAL(18,2)": split on commas outside parentheses.
                for item in re.split(r",(?![^()]*\))", spec):
                    pname, _, ptype = item.strip().partition(" ")
                    if not pname:
                        msg = f"{path.name}: empty entry in the params line"
                        raise QueryError(msg)
                    if not ptype.strip():
                        msg = f"{path.name}: parameter {pname} has no declared type"
                        raise QueryError(msg)
                    if pname in declared:
                        msg = f"{path.name}: parameter {pname} is declared twice"
                        raise QueryError(msg)
                    declared[pname] = ptype.strip()
    if not seen_params:
        msg = f"{path.name}: the header must declare '-- params: name TYPE, ...' (or '(none)')"
        raise QueryError(msg)
    body = _COMMENT_RE.sub("", _STRING_RE.sub("''", text))
    used = set(_PARAM_RE.findall(body))
    if missing := sorted(used - set(declared)):
        msg = f"{path.name}: parameter(s) {', '.join(missing)} used in the body but not declared"
        raise QueryError(msg)
    if unused := sorted(set(declared) - used):
        msg = f"{path.name}: parameter(s) {', '.join(unused)} declared but not used in the body"
        raise QueryError(msg)
    return Query(
        name=name, path=path, sql=text, param_types=MappingProxyType(declared), summary=summary
    )


@functools.cache
def load(name: str) -> Query:
    """Load and check the query file ``queries/<name>.sql``.

    Raises
    ------
    QueryError
        If the file is missing or its header and body disagree.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        msg = f"{name!r} is not a query name (lower case, digits and _)"
        raise QueryError(msg)
    path = queries_dir() / f"{name}.sql"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in queries_dir().glob("*.sql")))
        msg = f"no query file {path.name} in {path.parent}; known: {known}"
        raise QueryError(msg)
    return _parse(path)


def all_queries() -> list[Query]:
    """Load every query file (tests check them all)."""
    return [load(p.stem) for p in sorted(queries_dir().glob("*.sql"))]


def run(con: duckdb.DuckDBPyConnection, name: str, /, **params: Any) -> list[tuple[Any, ...]]:
    """Run the named query with bound parameters and return all its rows (fetched to the end).

    Use :func:`frame` for a query whose rows should come back as a Polars frame.

    Parameters
    ----------
    con
        An open DuckDB connection.
    name
        The query's file stem.
    **params
        Exactly the parameters the file declares; ``None`` means an unset filter.

    Raises
    ------
    QueryError
        If a declared parameter is not passed or an undeclared one is.
    """
    query = _checked(name, params)
    if params:
        return con.execute(query.sql, params).fetchall()
    return con.execute(query.sql).fetchall()


def frame(con: duckdb.DuckDBPyConnection, name: str, /, **params: Any) -> pl.DataFrame:
    """Run the named single-statement query with bound parameters; return its rows as Polars.

    DECIMAL(18,2) arrives as ``pl.Decimal(18, 2)``, DATE as ``pl.Date`` (through Arrow).
    """
    query = _checked(name, params)
    result: pl.DataFrame = con.sql(query.sql, params=params or None).pl()
    return result


def _checked(name: str, params: dict[str, Any]) -> Query:
    query = load(name)
    passed = set(params)
    declared = set(query.params)
    if passed != declared:
        missing = sorted(declared - passed)
        extra = sorted(passed - declared)
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"not declared: {', '.join(extra)}")
        msg = f"{query.path.name}: parameters do not match ({'; '.join(parts)})"
        raise QueryError(msg)
    return query
