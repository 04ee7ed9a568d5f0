"""The README's promises: its Python example runs, its commands exist."""

from __future__ import annotations

import re
import shutil

from tests.conftest import REPO


def test_python_example_runs_on_the_demo(tmp_path, monkeypatch):
    text = (REPO / "README.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    shutil.copytree(REPO / "data" / "demo", tmp_path / "data" / "demo")
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), scope)
    receipt = scope["receipt"]
    assert receipt.receipt_no == "WO-000001"
    assert receipt.total == scope["batch"].total
    assert (tmp_path / "data" / "reports" / "small-balance.pdf").is_file()


def test_quick_start_commands_exist():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for script in re.findall(r"^bash (scripts/\S+)", text, flags=re.M):
        assert (REPO / script).is_file(), script
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
