"""The invariants of STYLE.md that a grep or a linter can check, run with the suite (CI)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO


def _tracked(*patterns: str) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *patterns],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout
    return [line for line in out.splitlines() if (REPO / line).is_file()]


def test_notebooks_are_committed_without_outputs():
    for name in _tracked("notebooks/*.ipynb"):
        nb = json.loads((REPO / name).read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{name} has outputs: strip them (nbstripout)"
                assert cell.get("execution_count") is None, f"{name} has execution counts"


def test_no_sql_is_built_from_strings_and_no_float_near_money():
    for name in _tracked("src/*.py"):
        text = (REPO / name).read_text(encoding="utf-8")
        assert not re.search(r"\.(execute|sql)\(\s*f[\"']", text), f"{name}: SQL built by f-string"
        assert not re.search(r"\.(execute|sql)\([^)]*\.format\(", text), f"{name}: SQL built by format"
        assert "float(" not in text, f"{name}: float( near money code"


def test_nothing_reads_the_shared_folder_or_names_a_registry_host():
    hosts = re.compile(r"pypi\.org|pythonhosted\.org|registry\.npmjs\.org|deb\.debian\.org")
    for name in _tracked():
        if name.startswith("tests/data/") or name.endswith((".parquet", ".zip", ".xlsx", ".png")):
            continue
        text = (REPO / name).read_text(encoding="utf-8", errors="replace")
        assert not hosts.search(text), f"{name} names a package registry host"
        if name.endswith((".py", ".sh", ".ipynb")) and name != "tests/test_repo_hygiene.py":
            assert "../shared" not in text and "/work/shared" not in text, f"{name} reads ../shared"


def test_requirements_lock_pins_every_package_by_name_and_version_only():
    for line in (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", line.strip()), line


@pytest.mark.slow
def test_ruff_finds_nothing():
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "concise", "src", "tests"],
        cwd=REPO, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
