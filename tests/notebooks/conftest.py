"""A throw-away copy of the repository's notebooks and demo data, for running notebooks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, make_frames


def make_workspace(root: Path) -> Path:
    """Copy ``notebooks/`` and ``data/demo/`` under ``root``; return ``root``.

    Until the demo ledger lands in ``data/demo/``, the widget tests' small extract stands in.
    """
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    demo = root / "data" / "demo"
    if (REPO / "data" / "demo").is_dir():
        shutil.copytree(REPO / "data" / "demo", demo)
    else:  # TODO(widgets, #5): drop once data/demo lands on main
        from tests.test_widgets import TABLES

        demo.mkdir(parents=True)
        for name, frame in make_frames(**TABLES).items():
            frame.write_csv(demo / f"{name}.csv")
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
