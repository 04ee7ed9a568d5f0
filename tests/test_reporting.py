"""Reports: candidate, receipt, history and compliance; every format read back (issue 6)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from great_tables import GT
from pypdf import PdfReader

from tests.conftest import EXAMPLE_TABLES, REPO, build_ledger
from writeoff_analytics.candidates import (
    LINE_SCHEMA,
    Candidates,
    find_candidates,
    find_credit_balances,
    group_lines,
)
from writeoff_analytics.criteria.model import Criteria
from writeoff_analytics.criteria.presets import criteria_from_preset
from writeoff_analytics.demo import build_demo_frames
from writeoff_analytics.errors import HistoryError
from writeoff_analytics.ledger.schema import TABLES
from writeoff_analytics.ledger.snapshot import conform, replace_snapshot
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.money import PL_MONEY, format_money
from writeoff_analytics.reporting import (
    Report,
    report_candidates,
    report_history,
    report_receipt,
)

AS_OF = dt.date(2026, 11, 1)
ARTIFACTS = REPO / "test-artifacts"
MONEY_COLS = [c for c, t in LINE_SCHEMA.items() if t == PL_MONEY]


def demo_ledger(path: str = ":memory:") -> Ledger:
    """The shipped demo extract (same generator and defaults), loaded into a store."""
    frames = build_demo_frames()
    ledger = Ledger(path)
    replace_snapshot(ledger, {t.name: conform(t, frames[t.name]) for t in TABLES}, source="demo")
    return ledger


def make_candidates(rows: Sequence[dict[str, Any]], criteria: Criteria | None = None) -> Candidates:
    """Candidates built by hand from literal lines (columns of LINE_SCHEMA)."""
    base = {
        "encounter_id": "E1", "patient_id": "P1", "guarantor_id": None, "date_of_service": "2026-01-01",
        "age_days": 100, "procedure_code": "99213", "provider_id": "DR1", "location_id": "L1",
        "payer_id": "P-MCR", "financial_class": "MEDICARE", "responsibility": "SELF_PAY",
        "balance_type": "PATIENT",
    }
    data = []
    for row in rows:
        full = {**base, **row}
        full.setdefault("group_key", full["patient_id"])
        full["date_of_service"] = dt.date.fromisoformat(full["date_of_service"])
        full["balance"] = Decimal(full["balance"])
        full["writeoff_amount"] = full["balance"]
        data.append({c: full.get(c) for c in LINE_SCHEMA})
    lines = pl.DataFrame(data, schema=LINE_SCHEMA).sort("group_key", "charge_id")
    crit = criteria or Criteria("PATIENT", "PATIENT", as_of=AS_OF)
    return Candidates(criteria=crit, as_of=AS_OF, generation=1, lines=lines, groups=group_lines(lines))


def pdf_text(path: Path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(path).pages]


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def demo() -> Ledger:
    return demo_ledger()


@pytest.fixture(scope="module")
def small_balance(demo: Ledger) -> Candidates:
    return find_candidates(demo, criteria_from_preset("small-balance"), today=AS_OF)


@pytest.fixture(scope="module")
def small_balance_pdf(small_balance: Candidates, demo: Ledger, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "candidates.pdf"
    report_candidates(small_balance, ledger=demo).to_pdf(path)
    return path


HAND = [
    {"charge_id": "C1", "patient_id": "P1", "age_days": 30, "balance": "10.00"},
    {"charge_id": "C2", "patient_id": "P1", "age_days": 31, "balance": "0.05"},
    {"charge_id": "C3", "patient_id": "P2", "age_days": 365, "balance": "1234.50",
     "financial_class": "SELF_PAY", "payer_id": None},
    {"charge_id": "C4", "patient_id": "P3", "age_days": 366, "balance": "2.00",
     "responsibility": "NOT_RESPONSIBLE", "procedure_code": "=HYPERLINK(1)"},
    {"charge_id": "-C5", "patient_id": "P3", "age_days": 121, "balance": "3.10",
     "encounter_id": "@E5", "responsibility": "NOT_RESPONSIBLE"},
]


# ---------------------------------------------------------------------------- candidates


def test_candidate_report_sections_hold_exact_totals() -> None:
    c = make_candidates(HAND)
    report = report_candidates(c)
    assert isinstance(report, Report) and isinstance(report.gt, GT)
    assert report.total == Decimal("1249.65") and isinstance(report.total, Decimal)
    assert [s.key for s in report.sections] == ["by_class_aging", "by_responsibility", "largest_groups", "lines"]
    assert dict(report.facts)["Total"] == "$1,249.65"
    assert dict(report.facts)["Lines"] == "5" and dict(report.facts)["Groups"] == "3"
    by_class = report.section("by_class_aging").frame
    assert by_class.rows() == [
        ("MEDICARE", 4, Decimal("10.00"), Decimal("0.05"), Decimal("0.00"), Decimal("0.00"),
         Decimal("3.10"), Decimal("0.00"), Decimal("2.00"), Decimal("15.15")),
        ("SELF_PAY", 1, Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"),
         Decimal("0.00"), Decimal("1234.50"), Decimal("0.00"), Decimal("1234.50")),
    ]
    by_resp = report.section("by_responsibility").frame
    assert by_resp.rows() == [("NOT_RESPONSIBLE", 1, 2, Decimal("5.10")), ("SELF_PAY", 2, 3, Decimal("1244.55"))]
    assert report.section("largest_groups").frame.get_column("group_key").to_list() == ["P2", "P1", "P3"]
    # analysts keep chaining
    assert "My title" in report.gt.tab_header(title="My title").as_raw_html()


def test_candidate_report_of_no_lines_renders(tmp_path: Path) -> None:
    report = report_candidates(make_candidates([]))
    assert report.total == Decimal("0.00")
    report.to_pdf(tmp_path / "e.pdf")
    assert "$0.00" in pdftotext(tmp_path / "e.pdf")
    report.to_xlsx(tmp_path / "e.xlsx")
    report.to_csv(tmp_path / "e.csv")
    assert (tmp_path / "e.csv").read_text().splitlines() == [",".join(LINE_SCHEMA)]


def test_candidate_html_has_chart_total_and_currency(tmp_path: Path) -> None:
    report = report_candidates(make_candidates(HAND))
    text = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert text.count("<svg") == 1 and "over 365 days" in text
    assert "$1,234.50" in text and "$1,249.65" in text
    assert 'id="wo-by-class-aging"' in text
    assert "Patient balances, written off by patient" in text


def test_candidate_csv_rereads_to_the_same_lines_and_is_formula_safe(tmp_path: Path) -> None:
    c = make_candidates(HAND)
    path = report_candidates(c).to_csv(tmp_path / "lines.csv")
    raw = path.read_text(encoding="utf-8")
    assert "'=HYPERLINK(1)" in raw and "'-C5" in raw and "'@E5" in raw and "1234.50" in raw
    back = pl.read_csv(path, schema=LINE_SCHEMA)
    unquoted = back.with_columns(
        pl.col(c).str.strip_prefix("'") for c, t in LINE_SCHEMA.items() if t == pl.String
    )
    assert unquoted.equals(c.lines)
    assert back.get_column("writeoff_amount").to_list() == [
        Decimal("10.00"), Decimal("0.05"), Decimal("1234.50"), Decimal("3.10"), Decimal("2.00")
    ]


def test_candidate_xlsx_money_sums_to_the_total(small_balance: Candidates, tmp_path: Path) -> None:
    path = report_candidates(small_balance).to_xlsx(tmp_path / "c.xlsx")
    lines = pl.read_excel(path, sheet_name="Lines", schema_overrides=dict.fromkeys(MONEY_COLS, PL_MONEY))
    assert lines.height == small_balance.line_count
    assert lines.get_column("writeoff_amount").sum() == small_balance.total
    by_class = pl.read_excel(path, sheet_name="by_class_aging", schema_overrides={"total": PL_MONEY})
    assert by_class.get_column("total").sum() == small_balance.total
    summary = pl.read_excel(path, sheet_name="Report", has_header=False)
    assert ["Total", format_money(small_balance.total)] in [list(r) for r in summary.rows()]


def test_xlsx_money_cells_are_numbers_with_currency_format(tmp_path: Path) -> None:
    import zipfile

    path = report_candidates(make_candidates(HAND)).to_xlsx(tmp_path / "c.xlsx")
    with zipfile.ZipFile(path) as z:
        styles = z.read("xl/styles.xml").decode()
    assert "$#,##0.00" in styles
    lines = pl.read_excel(path, sheet_name="Lines")
    assert lines.schema["writeoff_amount"] == pl.Float64  # a number, not text


def test_candidate_pdf_total_pages_and_repeated_header(small_balance: Candidates, small_balance_pdf: Path) -> None:
    pages = pdf_text(small_balance_pdf)
    n = len(pages)
    assert n >= 3
    for i, text in enumerate(pages, start=1):
        assert f"Page {i} of {n}" in text
    first = pages[0]
    assert f"Total {format_money(small_balance.total)}" in first
    assert f"Lines {small_balance.line_count}" in first
    lines_start = next(i for i, t in enumerate(pages) if "Write-off" in t and "Charge" in t)
    assert n - lines_start >= 2, "the lines need at least two pages for this test"
    for text in pages[lines_start:]:
        # the header row repeats on every page of the lines table
        assert "Charge Encounter Patient Date of service" in text.replace("\n", " ")
    charges = small_balance.lines.get_column("charge_id").to_list()
    all_text = "\n".join(pages)
    assert all(c in all_text for c in charges[-5:])


def test_long_lines_are_drawn_fast_with_headers_and_page_numbers(
    small_balance: Candidates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from writeoff_analytics import _pdf_lines, reporting

    monkeypatch.setattr(reporting, "FAST_PDF_LINES", 100)
    path = report_candidates(small_balance).to_pdf(tmp_path / "fast.pdf")
    pages = pdf_text(path)
    n = len(pages)
    for i, text in enumerate(pages, start=1):
        assert f"Page {i} of {n}" in text
    assert f"Total {format_money(small_balance.total)}" in pages[0]
    lines_pages = [t for t in pages if "Charge" in t and "Write-off" in t and "Encounter" in t]
    assert len(lines_pages) == _pdf_lines.page_count(small_balance.line_count) >= 2
    assert all(t.split("\n")[0 if i else 1].startswith("Group") for i, t in enumerate(lines_pages))
    # every line's charge and amount is in the text, once
    text = "\n".join(lines_pages)
    for row in small_balance.lines.iter_rows(named=True):
        assert f" {row['charge_id']} " in text
    amounts = [Decimal(w.strip("$").replace(",", "")) for t in lines_pages
               for line in t.splitlines()[1:] if line.startswith("0") for w in line.split()[-1:]]
    assert sum(amounts, Decimal("0.00")) == small_balance.total


def test_candidate_pdf_first_page_png_for_a_person(small_balance_pdf: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "candidate_report_page1"
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(small_balance_pdf), str(target)], check=True)
    png = target.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_max_lines_limits_the_shown_lines_not_the_exports(tmp_path: Path) -> None:
    c = make_candidates(HAND)
    report = report_candidates(c, max_lines=2)
    html = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "The first 2 of 5 lines" in html
    assert html.count("<td>-C5</td>") == 0 and "<td>C1</td>" in html
    report.to_csv(tmp_path / "r.csv")
    assert pl.read_csv(tmp_path / "r.csv", schema=LINE_SCHEMA).height == 5


# ------------------------------------------------------------------ receipts and history


def insert_receipt(
    ledger: Ledger,
    receipt_no: str,
    lines: Sequence[tuple[str, str, str, str, str | None, str]],
    *,
    reason: str = "SMALL_BALANCE",
    created: str = "2026-11-02 10:00:00",
    reversal_of: str | None = None,
    determination_reference: str | None = None,
    reverses: Sequence[str | None] | None = None,
) -> None:
    """Write one receipt and its lines straight into the store tables (until batches lands)."""
    amounts = [Decimal(line[5]) for line in lines]
    criteria = Criteria("PATIENT", "ENCOUNTER", as_of="2026-11-01").to_dict()
    seq = int(receipt_no.split("-")[1])
    with ledger.transaction() as con:
        con.execute(
            "INSERT INTO receipts (receipt_no, seq, batch_key, created_at, preparer, approver, balance_type,"
            " reason_code, reason_text, adjustment_code, claim_status, note, determination_reference,"
            " criteria_json, as_of, ledger_fingerprint, line_count, total_amount, csv_sha256, reversal_of,"
            " files_state) VALUES ($1, $2, $3, CAST($4 AS TIMESTAMP), 'ana', 'sup', 'PATIENT', $5, $6, 'ADJ9',"
            " NULL, 'quarterly clean-up', $7, $8, DATE '2026-11-01', 'fp', $9, $10, 'abc123', $11, 'COMPLETE')",
            [receipt_no, seq, f"key-{seq}", created, reason, reason.lower(), determination_reference,
             json.dumps(criteria), len(lines), sum(amounts, Decimal("0.00")), reversal_of],
        ).fetchall()
        for i, (charge, enc, patient, bucket, payer, amount) in enumerate(lines, start=1):
            con.execute(
                "INSERT INTO writeoff_lines VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                " DATE '2026-11-02', $11)",
                [receipt_no, i, f"{receipt_no}-{i}", charge, enc, patient, enc, bucket, payer,
                 Decimal(amount), None if reverses is None else reverses[i - 1]],
            ).fetchall()


@pytest.fixture
def history_ledger() -> Ledger:
    tables = {k: list(v) for k, v in EXAMPLE_TABLES.items()}
    tables["patients"] = [*tables["patients"], {"patient_id": "0009999"}]
    tables["encounters"] = [*tables["encounters"],
                            {"encounter_id": "E2", "patient_id": "0009999", "date_of_service": "2026-03-01"}]
    tables["charges"] = [*tables["charges"],
                         {"charge_id": "C2", "encounter_id": "E2", "procedure_code": "99214",
                          "charge_amount": "80.00", "posted_date": "2026-03-01"}]
    tables["transactions"] = [*tables["transactions"],
                              {"transaction_id": "T9", "charge_id": "C2", "posted_date": "2026-03-05",
                               "type": "PATIENT_PAYMENT", "responsibility": "PATIENT", "amount": "-95.00"}]
    ledger = build_ledger(**tables)
    insert_receipt(ledger, "WO-000001", [("C1", "E1", "0004567", "PATIENT", "P-MCR", "-40.00")],
                   reason="COURTESY", created="2026-10-30 09:00:00")
    insert_receipt(ledger, "WO-000002", [("C1", "E1", "0004567", "PATIENT", "P-MCR", "-12.34"),
                                         ("C2", "E2", "0009999", "PATIENT", None, "-7.66")],
                   reason="FINANCIAL_HARDSHIP", determination_reference="FH-2026-17",
                   created="2026-11-02 10:00:00")
    insert_receipt(ledger, "WO-000003", [("C2", "E2", "0009999", "PATIENT", None, "7.66")],
                   reason="FINANCIAL_HARDSHIP", reversal_of="WO-000002", created="2026-11-03 11:00:00",
                   reverses=["WO-000002-2"])
    insert_receipt(ledger, "WO-000004", [("C2", "E2", "0009999", "PATIENT", None, "-5.00")],
                   reason="COURTESY", created="2026-11-04 12:00:00")
    insert_receipt(ledger, "WO-000005", [("C1", "E1", "0004567", "PATIENT", "P-MCR", "-1.00")],
                   reason="SMALL_BALANCE", created="2026-12-01 12:00:00")
    return ledger


def test_receipt_report_header_control_totals_and_lines(history_ledger: Ledger, tmp_path: Path) -> None:
    report = report_receipt(history_ledger, "WO-000002")
    facts = dict(report.facts)
    assert report.total == Decimal("-20.00")
    assert facts["Receipt"] == "WO-000002 (write-off)"
    assert facts["Reversed by"] == "WO-000003"
    assert facts["Determination reference"] == "FH-2026-17"
    assert facts["CSV SHA-256"] == "abc123" and facts["Adjustment code"] == "ADJ9"
    assert facts["Criteria"].startswith("Patient balances, written off by encounter")
    assert report.section("control").frame.get_column("agrees").to_list() == ["yes", "yes"]
    lines = report.section("lines").frame
    assert lines.get_column("financial_class").to_list() == ["MEDICARE", "SELF_PAY"]
    assert lines.get_column("amount").to_list() == [Decimal("-12.34"), Decimal("-7.66")]
    pdf = report.to_pdf(tmp_path / "r.pdf")
    text = pdftotext(pdf)
    assert "-$20.00" in text and "Page 1 of 1" in text and "FH-2026-17" in text
    back = pl.read_csv(report.to_csv(tmp_path / "r.csv"), schema_overrides={"amount": PL_MONEY})
    assert back.get_column("amount").sum() == Decimal("-20.00")
    xl = pl.read_excel(report.to_xlsx(tmp_path / "r.xlsx"), sheet_name="Lines",
                       schema_overrides={"amount": PL_MONEY})
    assert xl.get_column("amount").sum() == Decimal("-20.00")
    assert "WO-000002" in report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")


def test_reversal_receipt_says_what_it_reverses(history_ledger: Ledger) -> None:
    report = report_receipt(history_ledger, "WO-000003")
    facts = dict(report.facts)
    assert facts["Receipt"] == "WO-000003 (reversal)" and facts["Reverses"] == "WO-000002"
    assert report.title == "Reversal receipt WO-000003"
    assert report.section("lines").frame.get_column("reverses_transaction_id").to_list() == ["WO-000002-2"]


def test_unknown_receipt_is_a_history_error(history_ledger: Ledger) -> None:
    with pytest.raises(HistoryError, match="WO-000042 is not in"):
        report_receipt(history_ledger, "WO-000042")


def test_history_report_sums_flags_and_lists(history_ledger: Ledger, tmp_path: Path) -> None:
    report = report_history(history_ledger, "2026-11-01", dt.date(2026, 11, 30))
    # WO-000002 (20.00) + WO-000004 (5.00) - reversal WO-000003 (7.66); WO-000001/5 are outside
    assert report.total == Decimal("17.34")
    by_reason = report.section("by_reason").frame
    assert by_reason.rows() == [
        ("COURTESY", 1, 1, Decimal("5.00"), Decimal("0.00"), Decimal("5.00")),
        ("FINANCIAL_HARDSHIP", 2, 3, Decimal("20.00"), Decimal("7.66"), Decimal("12.34")),
    ]
    by_class = report.section("by_class").frame
    assert by_class.get_column("financial_class").to_list() == ["MEDICARE", "SELF_PAY"]
    assert by_class.get_column("net").sum() == Decimal("17.34")
    assert report.section("by_month").frame.get_column("month").to_list() == ["2026-11"]
    assert report.section("reversals").frame.select("receipt_no", "reversal_of").rows() == [("WO-000003", "WO-000002")]
    assert report.section("hardship").frame.select("receipt_no", "determination_reference").rows() == [
        ("WO-000002", "FH-2026-17")
    ]
    # 0009999 has no Medicare/Medicaid coverage: its courtesy write-off is not flagged
    assert report.section("waivers").frame.is_empty()
    wide = report_history(history_ledger, "2026-10-01", "2026-12-31")
    assert wide.section("waivers").frame.select("receipt_no", "patient_id", "written_off_amount").rows() == [
        ("WO-000001", "0004567", Decimal("40.00"))
    ]
    assert wide.total == Decimal("58.34")
    text = pdftotext(report.to_pdf(tmp_path / "h.pdf"))
    if shutil.which("pdftoppm"):  # for a person to look at
        ARTIFACTS.mkdir(exist_ok=True)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                        str(tmp_path / "h.pdf"), str(ARTIFACTS / "history_report_page1")], check=True)
    assert "Total $17.34" in " ".join(text.split()) and "FH-2026-17" in text and "Page 1 of" in text
    csv_back = pl.read_csv(report.to_csv(tmp_path / "h.csv"), schema_overrides={"amount": PL_MONEY,
                                                                               "written_off_amount": PL_MONEY})
    assert csv_back.height == 4 and csv_back.get_column("written_off_amount").sum() == Decimal("17.34")
    xl = pl.read_excel(report.to_xlsx(tmp_path / "h.xlsx"), sheet_name="by_reason",
                       schema_overrides={"net": PL_MONEY})
    assert xl.get_column("net").sum() == Decimal("17.34")
    assert "Write-offs by reason" in report.to_html(tmp_path / "h.html").read_text(encoding="utf-8")


def test_history_lists_credit_balances_for_refund_review(demo: Ledger, tmp_path: Path) -> None:
    report = report_history(demo, "2026-01-01", "2026-12-31")
    credits = report.section("credits").frame
    expected = find_credit_balances(demo)
    assert credits.height == expected.height > 0
    assert credits.get_column("balance").sum() == expected.get_column("balance").sum()
    assert report.total == Decimal("0.00")
    xl = pl.read_excel(report.to_xlsx(tmp_path / "h.xlsx"), sheet_name="credits",
                       schema_overrides={"balance": PL_MONEY})
    assert xl.get_column("balance").sum() == expected.get_column("balance").sum()


def test_history_refuses_a_reversed_range(history_ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="swap the dates"):
        report_history(history_ledger, "2026-12-01", "2026-11-01")
