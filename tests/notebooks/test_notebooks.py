"""Every notebook runs headless, top to bottom, on the demo data, without an error output."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.conftest import REPO

NOTEBOOKS = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.notebook


def test_the_four_notebooks_exist() -> None:
    assert NOTEBOOKS == [
        "01_explore_candidates.ipynb",
        "02_approve_batch.ipynb",
        "03_history.ipynb",
        "04_patient_or_encounter_view.ipynb",
    ]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_without_errors(name: str, workspace: Path) -> None:
    from nbclient import NotebookClient

    folder = workspace / "notebooks"
    nb = nbformat.read(folder / name, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    errors = [
        f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
        for i, cell in enumerate(nb.cells)
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
        or (out.get("output_type") == "stream" and out.get("name") == "stderr"
            and "Traceback" in out.get("text", ""))
    ]
    assert not errors, errors
    widgets_shown = [
        out for cell in nb.cells for out in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in out.get("data", {})
    ]
    assert widgets_shown, f"{name} displayed no widget"
    assert (workspace / "data" / "ledger.duckdb").exists()
