"""The package's shape, held by tests: no import cycle, no oversized module, every module documented.

The import graph is read from the source with ``ast`` (every ``import`` and ``from ... import``,
at module level and inside functions; type-only imports under ``if TYPE_CHECKING:`` count too,
since a loop of types is still a loop of concepts). An edge goes to the module named, not to the
packages above it (importing ``a.b.c`` runs ``a/__init__`` too, but that is Python's mechanics,
not a dependency of the code).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = "writeoff_analytics"
MAX_LINES = 700


def module_files() -> dict[str, Path]:
    """Every module of the package by dotted name (packages by their ``__init__``)."""
    out: dict[str, Path] = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The package modules that the file at ``path`` imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def resolve(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    hit = resolve(alias.name)
                    if hit:
                        found.add(hit)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = name.split(".") if is_package else name.split(".")[:-1]
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            if base.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                hit = sub if sub in modules else resolve(base)
                if hit:
                    found.add(hit)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imports_of(path, name, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_import_reader_sees_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / PACKAGE
    pkg.mkdir()
    (pkg / "x.py").write_text("def f():\n    from writeoff_analytics import y\n")
    (pkg / "y.py").write_text("from .x import f\n")
    modules = {f"{PACKAGE}.x": pkg / "x.py", f"{PACKAGE}.y": pkg / "y.py", PACKAGE: pkg / "__init__.py"}
    assert imports_of(pkg / "x.py", f"{PACKAGE}.x", modules) == {f"{PACKAGE}.y"}
    assert imports_of(pkg / "y.py", f"{PACKAGE}.y", modules) == {f"{PACKAGE}.x"}
    assert cycles({n: imports_of(p, n, modules) for n, p in modules.items() if p.exists()})


def test_no_import_cycle_in_src():
    found = cycles(import_graph())
    assert found == [], "import cycles in src/: " + "; ".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize("name", sorted(module_files()))
def test_module_is_at_most_700_lines(name):
    path = module_files()[name]
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines; split it by concept"


def test_design_names_every_module():
    """docs/DESIGN.md names every module (by its path under the package) with its concept."""
    design = (ROOT / "docs" / "DESIGN.md").read_text()
    named = set(re.findall(r"`([\w/]+\.py)`", design))
    missing = []
    for path in module_files().values():
        rel = path.relative_to(SRC / PACKAGE).as_posix()
        if path.name == "__init__.py" and len(path.read_text().splitlines()) < 5:
            continue  # a package's face with nothing in it
        if rel not in named:
            missing.append(rel)
    assert missing == [], f"docs/DESIGN.md does not name: {missing}"
