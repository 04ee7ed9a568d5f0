"""`writeoff report`: each kind of report in a format, through the command line."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tests.test_reporting import AS_OF, CONFIG, csv_sum, demo_ledger, flat, pdftotext
from writeoff_analytics.candidates import LINE_SCHEMA, find_candidates
from writeoff_analytics.criteria.model import Criteria
from writeoff_analytics.criteria.presets import criteria_from_preset
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.money import PL_MONEY, format_money
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.receipts import Receipt, commit_batch, get_receipt


def writeoff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "writeoff_analytics.cli", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store with one real commit: the first group of the deceased preset (WO-000001)."""
    folder = tmp_path_factory.mktemp("store")
    path = folder / "ledger.duckdb"
    ledger = demo_ledger(str(path))
    found = find_candidates(ledger, criteria_from_preset("deceased"), today=AS_OF)
    batch = Batch.from_candidates(found, reason="DECEASED", adjustment_code="DEC-WO")
    groups = found.lines.get_column("group_key")
    batch = batch.exclude_groups(sorted(set(groups) - {groups[0]}))
    commit_batch(ledger, batch, user="ana", receipts_dir=folder / "receipts", config=CONFIG)
    return path


def committed(store: Path) -> Receipt:
    return get_receipt(Ledger(store), "WO-000001")


def test_preset_report_as_pdf(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.pdf"
    proc = writeoff("report", "--preset", "small-balance", "--as-of", "2026-11-01", "--format", "pdf",
                    "--output", str(out), "--db", str(store))
    assert proc.returncode == 0, proc.stderr
    expected = find_candidates(Ledger(store), criteria_from_preset("small-balance", as_of=AS_OF))
    assert f"total {format_money(expected.total)}" in proc.stdout
    text = pdftotext(out)
    assert format_money(expected.total) in text and "Page 1 of" in text and "as of 2026-11-01" in text


def test_criteria_file_report_as_csv(store: Path, tmp_path: Path) -> None:
    crit = tmp_path / "c.toml"
    crit.write_text('balance_type = "PATIENT"\nwrite_off_by = "ENCOUNTER"\nmax_balance = "5.00"\n',
                    encoding="utf-8")
    out = tmp_path / "c.csv"
    proc = writeoff("report", "--criteria", str(crit), "--as-of", "2026-11-01", "--output", str(out),
                    "--db", str(store))
    assert proc.returncode == 0, proc.stderr
    expected = find_candidates(Ledger(store), Criteria("PATIENT", "ENCOUNTER", max_balance="5.00",
                                                       as_of=dt.date(2026, 11, 1)))
    back = pl.read_csv(out, schema=LINE_SCHEMA)
    assert back.height == expected.line_count > 0
    assert back.get_column("writeoff_amount").sum() == expected.total


def test_receipt_report_as_xlsx(store: Path, tmp_path: Path) -> None:
    receipt = committed(store)
    total = csv_sum(receipt)  # the receipt file, summed: negative for a write-off
    assert total == -receipt.total < Decimal("0.00")
    out = tmp_path / "r.xlsx"
    proc = writeoff("report", "--receipt", "1", "--format", "xlsx", "--output", str(out), "--db", str(store))
    assert proc.returncode == 0, proc.stderr
    # the summary says what moved, positive; the file keeps the lines' negative amounts
    assert f"receipt WO-000001: {receipt.line_count} lines, written off {format_money(-total)} -> {out}" in proc.stdout
    lines = pl.read_excel(out, sheet_name="Lines", schema_overrides={"amount": PL_MONEY})
    assert lines.height == receipt.line_count and lines.get_column("amount").sum() == total
    facts = dict(pl.read_excel(out, sheet_name="Report", has_header=False).rows()[1:])
    assert facts["CSV SHA-256"] == receipt.csv_sha256 and facts["Receipt"] == "WO-000001 (write-off)"


def test_receipt_report_as_pdf(store: Path, tmp_path: Path) -> None:
    receipt = committed(store)
    out = tmp_path / "r.pdf"
    proc = writeoff("report", "--receipt", "WO-000001", "--output", str(out), "--db", str(store))
    assert proc.returncode == 0, proc.stderr
    text = flat(pdftotext(out))
    assert f"Total {format_money(csv_sum(receipt))} (the sum of the lines" in text
    assert receipt.csv_sha256 in text and "DEC-WO" in text and "Page 1 of 1" in text


def test_history_report_as_html(store: Path, tmp_path: Path) -> None:
    receipt = committed(store)
    out = tmp_path / "h.html"
    today = dt.date.today()
    proc = writeoff("report", "--history", "--from", str(today - dt.timedelta(days=1)), "--to", str(today),
                    "--output", str(out), "--db", str(store))
    assert proc.returncode == 0, proc.stderr
    assert f"total {format_money(-csv_sum(receipt))} -> {out}" in proc.stdout
    text = out.read_text(encoding="utf-8")
    assert "Write-offs by reason" in text and "DECEASED" in text and "Credit balances" in text


def test_errors_are_one_line_without_traceback(store: Path, tmp_path: Path) -> None:
    proc = writeoff("report", "--receipt", "WO-000099", "--output", str(tmp_path / "x.pdf"), "--db", str(store))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"writeoff report: error: receipt WO-000099 is not in {store}; check the number (writeoff history)"
    ]
    proc = writeoff("report", "--history", "--from", "2026-11-01", "--output", str(tmp_path / "x.pdf"),
                    "--db", str(store))
    assert proc.returncode == 1 and "needs --from DATE and --to DATE" in proc.stderr
    proc = writeoff("report", "--preset", "small-balance", "--output", str(tmp_path / "x.doc"),
                    "--db", str(store))
    assert proc.returncode == 1 and "pass --format" in proc.stderr
    assert not (tmp_path / "x.pdf").exists()
