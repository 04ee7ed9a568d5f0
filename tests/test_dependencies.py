"""Every third-party import in src/ is a declared dependency; Spark is an optional extra.

The imports are read with ``ast`` (module level, inside functions and classes; not the
type-only ``if TYPE_CHECKING:`` blocks, which never run), mapped to distributions with
``importlib.metadata.packages_distributions()`` and looked up in pyproject.toml: the core
``[project] dependencies``, or the ``spark`` extra for the modules only the Spark engine
uses. A core module must not reach a Spark distribution at import time, even through other
modules, so ``pip install .`` without extras imports every core module.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import pytest

from writeoff_analytics.errors import ConfigError, WriteoffError
from writeoff_analytics.spark import session

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PACKAGE = "writeoff_analytics"
#: Modules only the Spark engine uses: they may import the ``spark`` extra.
SPARK_ONLY = (
    f"{PACKAGE}.engines.spark",
    f"{PACKAGE}.engines.spark_sql",
    f"{PACKAGE}.engines.spark_practices",
    f"{PACKAGE}.spark",
)
EXTRA_HINT = "pip install 'writeoff_analytics[spark]'"


# --- reading imports ----------------------------------------------------------------------


class _Imports(ast.NodeVisitor):
    """Absolute imports of a module: every one that can run, and those run at import time."""

    def __init__(self) -> None:
        self.runtime: set[str] = set()
        self.at_import: set[str] = set()
        self._depth = 0  # inside a function body

    def _add(self, name: str) -> None:
        self.runtime.add(name)
        if self._depth == 0:
            self.at_import.add(name)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or node.module is None:
            return  # relative: our own package (src/ has none today)
        self._add(node.module)
        # `from pkg import mod` imports pkg.mod when mod is a module
        for alias in node.names:
            self._add(f"{node.module}.{alias.name}")

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        is_type_checking = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        if not is_type_checking:
            for child in node.body:
                self.visit(child)
        for child in node.orelse:
            self.visit(child)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function
    visit_Lambda = _visit_function


def read_imports(source: str) -> _Imports:
    """The absolute imports of a module's source (see :class:`_Imports`)."""
    found = _Imports()
    found.visit(ast.parse(source))
    return found


def src_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    modules = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


MODULES = src_modules()
IMPORTS = {name: read_imports(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def is_spark_only(module: str) -> bool:
    return any(module == m or module.startswith(f"{m}.") for m in SPARK_ONLY)


def third_party(names: set[str]) -> set[str]:
    """Top-level names of imports that are neither the standard library nor our package."""
    tops = {n.split(".")[0] for n in names}
    return {t for t in tops if t != PACKAGE and t not in sys.stdlib_module_names}


# --- reading what is declared -----------------------------------------------------------------


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them (``great_tables`` == ``Great-Tables``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return normalize(match.group(1))


PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
CORE = {requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
EXTRAS = {
    extra: {requirement_name(r) for r in reqs}
    for extra, reqs in PYPROJECT["project"]["optional-dependencies"].items()
}
SPARK = EXTRAS["spark"]
DISTRIBUTIONS = {
    name: {normalize(d) for d in dists}
    for name, dists in importlib.metadata.packages_distributions().items()
}


def distributions_of(name: str) -> set[str]:
    dists = DISTRIBUTIONS.get(name)
    assert dists, f"{name!r} is imported in src/ but no installed distribution provides it"
    return dists


# --- the rules ------------------------------------------------------------------------------


def test_every_runtime_import_is_declared() -> None:
    undeclared = []
    for module, found in IMPORTS.items():
        allowed = CORE | SPARK if is_spark_only(module) else CORE
        for name in sorted(third_party(found.runtime)):
            dists = distributions_of(name)
            if not dists & allowed:
                where = "the spark extra or core" if is_spark_only(module) else "[project] dependencies"
                undeclared.append(f"{module} imports {name} ({', '.join(sorted(dists))}): add it to {where}")
    assert undeclared == []


def test_the_spark_extra_is_what_only_the_spark_modules_import() -> None:
    core_dists = set()
    spark_dists = set()
    for module, found in IMPORTS.items():
        dists = set().union(*(distributions_of(n) for n in third_party(found.runtime)))
        (spark_dists if is_spark_only(module) else core_dists).update(dists)
    # an extra that core imports would break `pip install .`; one nothing imports is dead
    assert SPARK == spark_dists - core_dists == {"pyspark", "sqlglot"}
    assert not SPARK & CORE
    assert f"{PACKAGE}[spark]" in PYPROJECT["project"]["optional-dependencies"]["dev"]


def _closure(module: str) -> set[str]:
    """Our modules that importing ``module`` runs (parent packages and import-time imports)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        parts = current.split(".")
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            if name in MODULES and name not in seen:
                seen.add(name)
                todo.extend(n for n in IMPORTS[name].at_import if n.split(".")[0] == PACKAGE)
    return seen


def test_no_core_module_needs_the_spark_extra_to_import() -> None:
    reached = {}
    for module in MODULES:
        if is_spark_only(module):
            continue
        for inner in sorted(_closure(module)):
            needs = set().union(
                *(distributions_of(n) for n in third_party(IMPORTS[inner].at_import))
            )
            if needs & SPARK:
                reached[module] = f"via {inner}: {', '.join(sorted(needs & SPARK))}"
    assert reached == {}
    # the CLI reads the Spark defaults from spark/session.py, which imports no Spark module
    assert f"{PACKAGE}.spark.session" in _closure(f"{PACKAGE}.cli.cmd_spark_candidates")


def test_the_reader_sees_every_kind_of_import() -> None:
    found = read_imports(
        "import numpy as np\n"
        "import os.path\n"
        "from typing import TYPE_CHECKING\n"
        "from writeoff_analytics import queries\n"
        "if TYPE_CHECKING:\n"
        "    from pyspark.sql import DataFrame\n"
        "else:\n"
        "    import zlib\n"
        "try:\n"
        "    import pydyf\n"
        "except ImportError:\n"
        "    pydyf = None\n"
        "class A:\n"
        "    import json\n"
        "    def f(self):\n"
        "        from sqlglot import exp\n"
        "async def g():\n"
        "    import great_tables.gt\n"
        "h = lambda: __import__('x')\n"
        "from . import sibling\n"
    )
    assert third_party(found.runtime) == {"numpy", "pydyf", "sqlglot", "great_tables"}
    assert third_party(found.at_import) == {"numpy", "pydyf"}
    assert f"{PACKAGE}.queries" in found.at_import
    assert {"zlib", "json", "os.path"} <= found.at_import
    assert "pyspark.sql" not in found.runtime


def test_the_scan_found_the_modules_it_is_about() -> None:
    # a scan that reads nothing passes every rule above; make sure it read the real code
    assert len(MODULES) > 40
    assert {"numpy", "pydyf", "polars", "duckdb"} <= third_party(
        set().union(*(f.runtime for f in IMPORTS.values()))
    )
    assert "sqlglot" in third_party(IMPORTS[f"{PACKAGE}.engines.spark_sql"].at_import)
    assert "pyspark" in third_party(IMPORTS[f"{PACKAGE}.spark.session"].runtime)
    assert "pyspark" not in third_party(IMPORTS[f"{PACKAGE}.spark.session"].at_import)


# --- the lock -------------------------------------------------------------------------------

LOCK = [
    line.strip()
    for line in (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
#: Distribution -> its locked version (test_repo_hygiene checks every line is name==version).
PINS = {normalize(line.split("==")[0]): line.split("==")[1] for line in LOCK}


def test_the_lock_pins_each_distribution_once() -> None:
    assert len(PINS) == len(LOCK) > 100


def test_every_declared_dependency_is_pinned_and_installed_at_its_pin() -> None:
    declared = CORE | set().union(*EXTRAS.values()) - {normalize(PACKAGE)}
    assert sorted(declared - PINS.keys()) == []
    wrong = {
        name: (importlib.metadata.version(name), PINS[name])
        for name in declared
        if importlib.metadata.version(name) != PINS[name]
    }
    assert wrong == {}


# --- the error without the extra ------------------------------------------------------------


def _without(monkeypatch: pytest.MonkeyPatch, *missing: str) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> object:
        return None if name in missing else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.parametrize("missing", [("pyspark",), ("sqlglot",), ("pyspark", "sqlglot")])
def test_without_the_extra_spark_refuses_naming_it(
    monkeypatch: pytest.MonkeyPatch, missing: tuple[str, ...]
) -> None:
    _without(monkeypatch, *missing)
    for call in (session.require_spark, session.build_session):
        with pytest.raises(ConfigError) as info:
            call()
        message = str(info.value)
        assert isinstance(info.value, WriteoffError)
        assert message.startswith(f"the Spark engine needs the optional extra: {EXTRA_HINT}")
        assert message.endswith(f"(not installed here: {', '.join(missing)})")
        assert "\n" not in message


def test_with_the_extra_spark_is_allowed() -> None:
    assert session.require_spark() is None
    assert session.SPARK_MODULES == tuple(sorted(SPARK))
