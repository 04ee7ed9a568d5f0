"""benchmarks/run.py keeps working: a tiny run writes a results file with every row (no timings asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ("no-balance-billing", "small-balance", "bad-debt", "deceased", "hardship", "timely-filing")


def test_quick_run_writes_every_row(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
         "--workdir", str(tmp_path / "work"), "--output", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    text = out.read_text()
    assert text.startswith("# Benchmark results\n")
    for heading in ("## Machine", "## 3,000 transactions asked", "## Spark (local[2]) beside DuckDB",
                    "## Candidate PDF", "## Targets missed"):
        assert heading in text
    for item in ("- CPU: ", "- RAM: ", "- OS: ", "- Python ", "- Packages: ", "duckdb ", "polars "):
        assert item in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    figures = [line.split(" | ")[0][2:] for line in table]
    expected = ["load CSV (validate + derive)", "load CSV peak RSS",
                "load PARQUET (validate + derive)", "load PARQUET peak RSS"]
    for preset in PRESETS:
        for engine in ("duckdb", "polars"):
            expected += [f"candidates {preset} ({engine})"] * 2  # vs one-query, vs pandas
    expected += ["commit 100k-line batch (+ receipt files)", "reverse that batch",
                 "widget: criterion change -> totals"]
    assert [f for f in figures if f in expected] == expected
    main_rows = [line for line in table if line.split(" | ")[0][2:] in expected]
    assert all("n/a" not in line.split(" | ")[1] for line in main_rows)  # every figure measured
    assert all(line.split(" | ")[6] in ("yes", "**no**") for line in main_rows)  # every target judged
    # line counts: one row per preset, and the one-query baseline finds the same charges as ours
    counts = [line.split(" | ") for line in table if line.split(" | ")[0][2:] in PRESETS]
    assert [c[0][2:] for c in counts] == list(PRESETS)
    assert all(c[3] == "yes" and c[5] == "yes" for c in counts)
    assert "Skipped (`--skip-spark`)." in text
    assert "Skipped (`--skip-pdf`)." in text
