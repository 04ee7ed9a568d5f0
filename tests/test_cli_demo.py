"""`writeoff demo`, the README's main job, end to end in a subprocess."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from decimal import Decimal

from tests.conftest import DEMO_DIR


def _demo(out, *extra):
    return subprocess.run(
        [sys.executable, "-m", "writeoff_analytics.cli", "demo", "--extract", str(DEMO_DIR), "--out", str(out), *extra],
        capture_output=True, text=True, timeout=300,
    )


def test_demo_loads_finds_commits_and_reports(tmp_path):
    out = tmp_path / "run"
    proc = _demo(out)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == "WO-000001"
    assert "185 groups, 216 lines, $1,811.10" in proc.stdout
    assert "the same search now finds 0 lines" in proc.stdout
    with (out / "receipts" / "WO-000001.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 216
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal("-1811.10")
    assert {r["reference"] for r in rows} == {"WO-000001"}
    manifest = json.loads((out / "receipts" / "WO-000001.json").read_text(encoding="utf-8"))
    assert manifest["total"] == "1811.10" and manifest["line_count"] == 216
    assert (out / "reports" / "no-balance-billing-candidates.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "reports" / "WO-000001.pdf").is_file()
    # run again: the demo starts afresh and gives the same receipt
    again = _demo(out, "--no-pdf")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == "WO-000001"


def test_demo_refuses_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me", encoding="utf-8")
    proc = _demo(tmp_path)
    assert proc.returncode == 1
    assert "was not made by `writeoff demo`" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "keep me"
