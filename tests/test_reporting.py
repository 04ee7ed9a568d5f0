"""Reports: candidate, receipt, history and compliance; every format read back (issue 6)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import patch

import polars as pl
import pytest
from great_tables import GT
from pypdf import PdfReader

from tests.artifacts import ARTIFACTS
from tests.batch_support import find, make_store
from writeoff_analytics.candidates import (
    LINE_SCHEMA,
    Candidates,
    find_candidates,
    find_credit_balances,
    group_lines,
)
from writeoff_analytics.criteria.model import Criteria
from writeoff_analytics.criteria.presets import criteria_from_preset
from writeoff_analytics.demo.generate import build_demo_frames
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
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.history import reverse_receipt
from writeoff_analytics.writeoffs.permissions import Config, Permission
from writeoff_analytics.writeoffs.receipts import Receipt, commit_batch

AS_OF = dt.date(2026, 11, 1)
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
    from writeoff_analytics.reporting import _pdf_lines, pdf

    monkeypatch.setattr(pdf, "FAST_PDF_LINES", 100)
    path = report_candidates(small_balance).to_pdf(tmp_path / "fast.pdf")
    pages = pdf_text(path)
    n = len(pages)
    # page.py: the WeasyPrint pages and the drawn pages are one size (A4 landscape, in points)
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in PdfReader(path).pages}
    assert sizes == {(842, 595)}
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


def test_max_lines_limits_the_shown_lines_not_the_exports(tmp_path: Path) -> None:
    c = make_candidates(HAND)
    report = report_candidates(c, max_lines=2)
    html = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "The first 2 of 5 lines" in html
    assert html.count("<td>-C5</td>") == 0 and "<td>C1</td>" in html
    report.to_csv(tmp_path / "r.csv")
    assert pl.read_csv(tmp_path / "r.csv", schema=LINE_SCHEMA).height == 5


# ------------------------------------------------------------------ receipts and history

#: Every permission for everyone: the receipts tests' config.
CONFIG = Config(users={"ana": frozenset(Permission), "sam": frozenset(Permission)})
GOVERNMENT = ("MEDICARE", "MEDICARE_ADVANTAGE", "MEDICAID", "MEDICAID_MANAGED_CARE")


@dataclass(frozen=True)
class Scenario:
    """Real commits on the demo ledger: what each batch held and the receipts it made."""

    ledger: Ledger
    deceased: Receipt  # DECEASED, every line of the preset
    reversal: Receipt  # reverses the lines of the deceased receipt's first group
    hardship: Receipt  # FINANCIAL_HARDSHIP with a determination reference
    courtesy: Receipt  # COURTESY: three Medicare lines (flagged) and two commercial ones (not)
    batches: dict[str, pl.DataFrame]  # receipt_no -> the batch's candidate lines
    reversed_charges: tuple[str, ...]
    flagged_charges: tuple[str, ...]

    @property
    def receipts(self) -> tuple[Receipt, ...]:
        return (self.deceased, self.reversal, self.hardship, self.courtesy)


def commit_scenario(ledger: Ledger, receipts_dir: Path) -> Scenario:
    """Commit, partly reverse, commit a hardship and a courtesy batch, through the real code."""

    def commit(candidates: Candidates, **kw: Any) -> Receipt:
        batch = Batch.from_candidates(candidates, **kw)
        # ana prepared, sam approves from his own login (issue 16: the approver is who acts)
        with patch("writeoff_analytics.writeoffs.permissions.current_user", return_value="sam"):
            return commit_batch(
                ledger, batch, user="ana", approver="sam", receipts_dir=receipts_dir, config=CONFIG
            )

    deceased = find_candidates(ledger, criteria_from_preset("deceased"), today=AS_OF)
    r1 = commit(deceased, reason="DECEASED", adjustment_code="DEC-WO", note="estates closed in October")
    first_group = deceased.lines.get_column("group_key")[0]
    reversed_charges = tuple(deceased.lines.filter(pl.col("group_key") == first_group).get_column("charge_id"))
    r2 = reverse_receipt(ledger, r1.receipt_no, charge_ids=reversed_charges, reason="estate paid in full",
                         user="sam", receipts_dir=receipts_dir, config=CONFIG)
    hardship = find_candidates(ledger, criteria_from_preset("hardship"), today=AS_OF)
    r3 = commit(hardship, reason="FINANCIAL_HARDSHIP", determination_reference="FH-2026-17",
                adjustment_code="FH-WO")
    small = find_candidates(ledger, criteria_from_preset("small-balance"), today=AS_OF)
    with ledger.connect() as con:
        rows = con.execute("SELECT patient_id, payer_id FROM coverages").fetchall()
    coverages = pl.DataFrame(rows, schema=["patient_id", "payer_id"], orient="row")
    government_patients = set(
        coverages.join(ledger.frame("payers"), on="payer_id")
        .filter(pl.col("financial_class").is_in(GOVERNMENT)).get_column("patient_id")
    )
    lines = small.lines
    medicare = lines.filter(pl.col("financial_class") == "MEDICARE").head(3)
    commercial = lines.filter(
        (pl.col("financial_class") == "COMMERCIAL") & ~pl.col("patient_id").is_in(sorted(government_patients))
    ).head(2)
    keep = [*medicare.get_column("charge_id"), *commercial.get_column("charge_id")]
    assert len(keep) == 5
    courtesy = Batch.from_candidates(small, reason="COURTESY").exclude_lines(
        lines.filter(~pl.col("charge_id").is_in(keep)).get_column("charge_id")
    )
    r4 = commit_batch(ledger, courtesy, user="ana", receipts_dir=receipts_dir, config=CONFIG)
    batches = {
        r1.receipt_no: deceased.lines,
        r3.receipt_no: hardship.lines,
        r4.receipt_no: courtesy.lines,
    }
    return Scenario(ledger, r1, r2, r3, r4, batches, reversed_charges,
                    tuple(medicare.get_column("charge_id")))


def receipt_csv(receipt: Receipt) -> pl.DataFrame:
    """The receipt's CSV file, read back, ``amount`` exact."""
    return pl.read_csv(receipt.csv_path, infer_schema=False).with_columns(pl.col("amount").cast(PL_MONEY))


def csv_sum(receipt: Receipt) -> Decimal:
    return Decimal(receipt_csv(receipt).get_column("amount").sum())


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return commit_scenario(demo_ledger(), tmp_path_factory.mktemp("receipts"))


def test_the_scenario_commits_what_it_says(scenario: Scenario) -> None:
    assert [r.receipt_no for r in scenario.receipts] == ["WO-000001", "WO-000002", "WO-000003", "WO-000004"]
    assert scenario.reversal.reversal_of == "WO-000001" and 1 <= len(scenario.reversed_charges) < 94
    assert scenario.deceased.line_count == 94 and scenario.deceased.total == Decimal("4078.30")
    # the store's sign conventions, which the reports rely on
    assert csv_sum(scenario.deceased) == -scenario.deceased.total
    assert csv_sum(scenario.reversal) == scenario.reversal.total > 0
    assert all(r.files_state == "WRITTEN" for r in scenario.receipts)


def test_receipt_report_totals_match_the_receipt_file_to_the_cent(scenario: Scenario, tmp_path: Path) -> None:
    receipt = scenario.deceased
    on_file = receipt_csv(receipt)
    total = csv_sum(receipt)
    assert total == Decimal("-4078.30")
    manifest = json.loads(receipt.json_path.read_text(encoding="utf-8"))
    report = report_receipt(scenario.ledger, receipt.receipt_no)
    facts = dict(report.facts)
    assert report.title == "Write-off receipt WO-000001"
    assert report.total == total and isinstance(report.total, Decimal)
    assert facts["Receipt"] == "WO-000001 (write-off)"
    assert facts["Reversed by"] == "WO-000002"
    assert facts["Amount written off"] == "$4,078.30" == format_money(Decimal(manifest["total"]))
    assert facts["Total"].startswith("-$4,078.30 ")
    assert facts["CSV SHA-256"] == manifest["csv_sha256"] == hashlib.sha256(receipt.csv_path.read_bytes()).hexdigest()
    assert facts["Receipt CSV"] == str(receipt.csv_path)
    assert (facts["Preparer"], facts["Approver"], facts["Adjustment code"], facts["Note"]) == (
        "ana", "sam", "DEC-WO", "estates closed in October")
    assert facts["Reason"] == "DECEASED: Deceased patient"
    assert facts["Criteria"] == Criteria.from_dict(manifest["criteria"]).describe()
    assert report.section("control").frame.rows() == [
        ("Line count", "94", "94", "yes"),
        ("Total of the lines", "-$4,078.30", "-$4,078.30", "yes"),
        ("Receipt CSV SHA-256", manifest["csv_sha256"], manifest["csv_sha256"], "yes"),
    ]
    lines = report.section("lines").frame
    assert lines.select("transaction_id", "charge_id", "amount").rows() == on_file.select(
        "transaction_id", "charge_id", "amount").rows()
    # a patient line stores no payer: its class is the billed payer's, as the candidates had it
    batch = scenario.batches[receipt.receipt_no]
    assert dict(lines.select("charge_id", "financial_class").iter_rows()) == dict(
        batch.select("charge_id", "financial_class").iter_rows())
    reversed_by = lines.filter(pl.col("reversed_by").is_not_null())
    assert sorted(reversed_by.get_column("charge_id")) == sorted(scenario.reversed_charges)
    assert set(reversed_by.get_column("reversed_by")) == {"WO-000002"}
    # every format shows the same total, to the cent
    text = flat(pdftotext(report.to_pdf(tmp_path / "r.pdf")))
    assert "Total -$4,078.30 (the sum of the lines" in text and "Amount written off $4,078.30" in text
    assert "Total of the 94 lines: -$4,078.30" in text  # under the lines, on the last page
    assert manifest["csv_sha256"] in text and "Page 1 of" in text
    back = pl.read_csv(report.to_csv(tmp_path / "r.csv"), schema_overrides={"amount": PL_MONEY})
    assert back.height == 94 and back.get_column("amount").sum() == total
    xl = pl.read_excel(report.to_xlsx(tmp_path / "r.xlsx"), sheet_name="Lines",
                       schema_overrides={"amount": PL_MONEY})
    assert xl.get_column("amount").sum() == total
    html_text = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert manifest["csv_sha256"] in html_text and "-$4,078.30" in html_text


def test_reversal_receipt_says_what_it_reverses(scenario: Scenario, tmp_path: Path) -> None:
    receipt = scenario.reversal
    n = len(scenario.reversed_charges)
    total = csv_sum(receipt)
    report = report_receipt(scenario.ledger, receipt.receipt_no)
    facts = dict(report.facts)
    assert report.title == "Reversal receipt WO-000002"
    assert facts["Receipt"] == "WO-000002 (reversal)"
    created = scenario.deceased.created_at.isoformat(sep=" ", timespec="seconds")
    assert facts["Reverses"] == f"WO-000001 (DECEASED, created {created}; {n} of its 94 lines)"
    assert facts["Reason"] == "REVERSAL: estate paid in full"
    assert report.total == total == receipt.total > 0
    assert facts["Amount given back"] == format_money(total)
    assert [r[3] for r in report.section("control").frame.rows()] == ["yes", "yes", "yes"]
    original = receipt_csv(scenario.deceased).filter(pl.col("charge_id").is_in(list(scenario.reversed_charges)))
    lines = report.section("lines").frame
    assert lines.get_column("reverses_transaction_id").to_list() == original.get_column("transaction_id").to_list()
    assert lines.get_column("amount").to_list() == [-a for a in original.get_column("amount")]
    text = flat(pdftotext(report.to_pdf(tmp_path / "v.pdf")))
    assert f"Total {format_money(total)} (the sum" in text and "Reverses WO-000001 (DECEASED" in text
    assert "Reverses" in text and original.get_column("transaction_id")[0] in text


def test_a_long_receipt_drawn_fast_ends_with_its_total(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from writeoff_analytics.reporting import pdf

    monkeypatch.setattr(pdf, "FAST_PDF_LINES", 10)
    total = csv_sum(scenario.hardship)
    pages = pdf_text(report_receipt(scenario.ledger, "WO-000003").to_pdf(tmp_path / "fast.pdf"))
    n = len(pages)
    assert n >= 3 and all(f"Page {i} of {n}" in t for i, t in enumerate(pages, start=1))
    last_rows = pages[-1].splitlines()
    footer = f"Total of the {scenario.hardship.line_count} lines: {format_money(total)}"
    assert footer in last_rows
    money = re.compile(r"(-?)\$([\d,]+\.\d\d)")
    amounts = [Decimal(sign + digits.replace(",", ""))
               for t in pages for line in t.splitlines() if "WO-000003-" in line
               for sign, digits in money.findall(line)]
    assert len(amounts) == scenario.hardship.line_count
    assert sum(amounts, Decimal("0.00")) == total


def test_control_totals_catch_a_changed_or_missing_receipt_file(tmp_path: Path) -> None:
    ledger = make_store()
    receipt = commit_batch(ledger, Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING"),
                           user="ana", receipts_dir=tmp_path, config=CONFIG)
    assert report_receipt(ledger, receipt.receipt_no).section("control").frame.get_column("agrees").to_list() == [
        "yes", "yes", "yes"]
    receipt.csv_path.write_bytes(receipt.csv_path.read_bytes().replace(b"-40.00", b"-4.00"))
    control = report_receipt(ledger, receipt.receipt_no).section("control").frame
    assert control.row(2)[2:] == (hashlib.sha256(receipt.csv_path.read_bytes()).hexdigest(), "NO")
    receipt.csv_path.unlink()
    control = report_receipt(ledger, receipt.receipt_no).section("control").frame
    assert control.row(2)[2:] == ("file not found", "not checked")


def test_unknown_receipt_is_a_history_error(scenario: Scenario) -> None:
    with pytest.raises(HistoryError, match="WO-000042 is not in"):
        report_receipt(scenario.ledger, "WO-000042")


def test_history_report_matches_the_receipt_files_and_flags_waivers(scenario: Scenario, tmp_path: Path) -> None:
    today = dt.date.today()
    report = report_history(scenario.ledger, today - dt.timedelta(days=1), today)
    # the net written off is what the receipt files, summed, take off the balances
    net = -sum((csv_sum(r) for r in scenario.receipts), Decimal("0.00"))
    reversed_amount = scenario.reversal.total
    assert report.total == net and isinstance(report.total, Decimal)
    gross = scenario.deceased.total + scenario.hardship.total + scenario.courtesy.total
    assert net == gross - reversed_amount
    facts = dict(report.facts)
    assert facts["Receipts"] == "4 (3 write-offs, 1 reversals)"
    assert (facts["Written off"], facts["Reversed"]) == (format_money(gross), format_money(reversed_amount))
    n = len(scenario.reversed_charges)
    # the reversal counts against the reason of the receipt it reverses
    assert report.section("by_reason").frame.rows() == [
        ("COURTESY", 1, 5, scenario.courtesy.total, Decimal("0.00"), scenario.courtesy.total),
        ("DECEASED", 2, 94 + n, scenario.deceased.total, reversed_amount,
         scenario.deceased.total - reversed_amount),
        ("FINANCIAL_HARDSHIP", 1, scenario.hardship.line_count, scenario.hardship.total, Decimal("0.00"),
         scenario.hardship.total),
    ]
    # by financial class: the classes the candidates had (a patient line's billed payer)
    written = pl.concat(scenario.batches.values()).group_by("financial_class").agg(
        pl.col("writeoff_amount").sum().cast(PL_MONEY))
    by_class = report.section("by_class").frame
    assert dict(by_class.select("financial_class", "written_off").iter_rows()) == dict(written.iter_rows())
    assert by_class.get_column("net").sum() == net
    assert report.section("by_month").frame.rows() == [
        (today.strftime("%Y-%m"), 4, 94 + n + scenario.hardship.line_count + 5, gross, reversed_amount, net)
    ]
    assert report.section("reversals").frame.select("receipt_no", "reversal_of", "total_amount", "reversal_reason").rows() == [
        ("WO-000002", "WO-000001", reversed_amount, "estate paid in full")
    ]
    assert report.section("hardship").frame.select("receipt_no", "determination_reference", "total_amount").rows() == [
        ("WO-000003", "FH-2026-17", scenario.hardship.total)
    ]
    # the courtesy write-off of Medicare patients is flagged; the commercial patients' is not
    waivers = report.section("waivers").frame
    assert set(waivers.get_column("receipt_no")) == {"WO-000004"}
    assert sorted(waivers.get_column("charge_id")) == sorted(scenario.flagged_charges)
    expected_credits = find_credit_balances(scenario.ledger)
    credits = report.section("credits").frame
    assert credits.height == expected_credits.height > 0
    assert credits.get_column("balance").sum() == expected_credits.get_column("balance").sum()
    # every format shows the same totals, to the cent
    text = flat(pdftotext(report.to_pdf(tmp_path / "h.pdf")))
    assert f"Total {format_money(net)} net written off" in text
    assert f"Written off {format_money(gross)}" in text and "FH-2026-17" in text and "Page 1 of" in text
    assert all(c in text for c in scenario.flagged_charges)
    # the long credit table breaks across pages: its heading is never left alone on a page
    pages = [flat(t) for t in pdf_text(tmp_path / "h.pdf")]
    heading = next(i for i, t in enumerate(pages) if "Credit balances waiting for refund review" in t)
    assert "Balance amount" in pages[heading] and expected_credits.get_column("charge_id")[0] in pages[heading]
    back = pl.read_csv(report.to_csv(tmp_path / "h.csv"),
                       schema_overrides={"amount": PL_MONEY, "written_off_amount": PL_MONEY})
    assert back.height == sum(r.line_count for r in scenario.receipts)
    assert back.get_column("written_off_amount").sum() == net == -back.get_column("amount").sum()
    xl = pl.read_excel(report.to_xlsx(tmp_path / "h.xlsx"), sheet_name="by_reason",
                       schema_overrides={"net": PL_MONEY})
    assert xl.get_column("net").sum() == net
    html_text = report.to_html(tmp_path / "h.html").read_text(encoding="utf-8")
    assert "Write-offs by reason" in html_text and format_money(net) in html_text
    # a range before the commits holds nothing
    empty = report_history(scenario.ledger, "2026-01-01", today - dt.timedelta(days=2))
    assert empty.total == Decimal("0.00") and empty.section("by_reason").frame.is_empty()


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


def test_history_refuses_a_reversed_range(demo: Ledger) -> None:
    with pytest.raises(ValueError, match="swap the dates"):
        report_history(demo, "2026-12-01", "2026-11-01")


# ----------------------------------------------------------------------- for a person


def test_first_pages_as_png_for_a_person(
    small_balance_pdf: Path, scenario: Scenario, tmp_path: Path
) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    today = dt.date.today()
    pdfs = {
        "candidate_report": small_balance_pdf,
        "receipt_report": report_receipt(scenario.ledger, "WO-000001").to_pdf(tmp_path / "r.pdf"),
        "reversal_report": report_receipt(scenario.ledger, "WO-000002").to_pdf(tmp_path / "v.pdf"),
        "history_report": report_history(scenario.ledger, today - dt.timedelta(days=1), today).to_pdf(
            tmp_path / "h.pdf"),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, pdf in pdfs.items():
        target = ARTIFACTS / f"{name}_page1"
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(target)], check=True)
        png = target.with_suffix(".png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
