"""A throw-away copy of the repository's notebooks and demo data, for running notebooks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO


def make_workspace(root: Path) -> Path:
    """Copy ``notebooks/`` and the demo extract ``data/demo/`` under ``root``; return ``root``."""
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    shutil.copytree(REPO / "data" / "demo", root / "data" / "demo")
    return root


def kernel_env() -> dict[str, str]:
    """The environment for kernels: this checkout's sources first on the path."""
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO / "src"), path) if p)}


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace whose kernels import this checkout's package."""
    monkeypatch.setenv("PYTHONPATH", kernel_env()["PYTHONPATH"])
    return make_workspace(tmp_path)
