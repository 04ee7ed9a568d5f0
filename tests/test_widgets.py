"""The widgets in plain pytest: set controls, press buttons (handlers), check state."""

from __future__ import annotations

import datetime as dt
import html
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import build_ledger
from writeoff_analytics.criteria.model import BalanceType, Responsibility
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.reasons import Reason
from writeoff_analytics.widgets import HistoryBrowser, LoadProgress, MassWriteOff
from writeoff_analytics.writeoffs.permissions import Config, Permission

AS_OF = dt.date(2026, 11, 1)


def _moved_to_patient(tid: str, charge: str, payer: str, amount: str) -> list[dict[str, str]]:
    """A transfer of ``amount`` from the insurance bucket to the patient's."""
    common = {"charge_id": charge, "posted_date": "2026-03-02", "type": "TRANSFER",
              "group_code": "PR", "reason_code": "2", "reference": f"X{tid}"}
    return [
        {**common, "transaction_id": f"{tid}a", "responsibility": "INSURANCE",
         "payer_id": payer, "amount": f"-{amount}"},
        {**common, "transaction_id": f"{tid}b", "responsibility": "PATIENT", "amount": amount},
    ]


#: Four encounters with patient balances (225.50 in all); 001 is covered by Medicaid, so
#: E1 and E2 (120.00, 3 lines) are "not responsible". E5 holds a 5.00 credit.
TABLES = {
    "payers": [
        {"payer_id": "P-MCD", "payer_name": "Medicaid", "financial_class": "MEDICAID",
         "balance_bill_patient": "false"},
        {"payer_id": "P-COM", "payer_name": "Acme Health", "financial_class": "COMMERCIAL",
         "balance_bill_patient": "true"},
    ],
    "patients": [{"patient_id": "001"}, {"patient_id": "002"}, {"patient_id": "003"}],
    "coverages": [
        {"patient_id": "001", "payer_id": "P-MCD", "priority": "1", "effective_from": "2020-01-01"},
        {"patient_id": "002", "payer_id": "P-COM", "priority": "1", "effective_from": "2020-01-01"},
    ],
    "encounters": [
        {"encounter_id": "E1", "patient_id": "001", "date_of_service": "2026-01-10"},
        {"encounter_id": "E2", "patient_id": "001", "date_of_service": "2026-03-01"},
        {"encounter_id": "E3", "patient_id": "002", "date_of_service": "2025-06-01"},
        {"encounter_id": "E4", "patient_id": "003", "date_of_service": "2026-09-01"},
        {"encounter_id": "E5", "patient_id": "003", "date_of_service": "2026-09-02"},
    ],
    "charges": [
        {"charge_id": "C1", "encounter_id": "E1", "procedure_code": "99213",
         "charge_amount": "100.00", "billed_payer_id": "P-MCD", "posted_date": "2026-01-10"},
        {"charge_id": "C2", "encounter_id": "E2", "procedure_code": "99214",
         "charge_amount": "50.00", "billed_payer_id": "P-MCD", "posted_date": "2026-03-01"},
        {"charge_id": "C3", "encounter_id": "E2", "procedure_code": "36415",
         "charge_amount": "30.00", "billed_payer_id": "P-MCD", "posted_date": "2026-03-01"},
        {"charge_id": "C4", "encounter_id": "E3", "procedure_code": "99213",
         "charge_amount": "80.00", "billed_payer_id": "P-COM", "posted_date": "2025-06-01"},
        {"charge_id": "C5", "encounter_id": "E4", "procedure_code": "=HYPERLINK",
         "charge_amount": "25.50", "posted_date": "2026-09-01"},
        {"charge_id": "C6", "encounter_id": "E5", "procedure_code": "99211",
         "charge_amount": "10.00", "posted_date": "2026-09-02"},
    ],
    "transactions": [
        {"transaction_id": "T0", "charge_id": "C1", "posted_date": "2026-02-01",
         "type": "INSURANCE_PAYMENT", "responsibility": "INSURANCE", "payer_id": "P-MCD",
         "amount": "-60.00", "reference": "EFT1"},
        *_moved_to_patient("T1", "C1", "P-MCD", "40.00"),
        *_moved_to_patient("T2", "C2", "P-MCD", "50.00"),
        *_moved_to_patient("T3", "C3", "P-MCD", "30.00"),
        *_moved_to_patient("T4", "C4", "P-COM", "80.00"),
        {"transaction_id": "T5", "charge_id": "C6", "posted_date": "2026-09-02",
         "type": "PATIENT_PAYMENT", "responsibility": "PATIENT", "amount": "-15.00",
         "reference": "CASH1"},  # paid 5.00 too much: a credit, never a candidate
    ],
}


@pytest.fixture(autouse=True)
def _run_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test in its own folder: a default ``data/...`` lands there, not in the checkout."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def ledger() -> Ledger:
    return build_ledger(**TABLES)


@pytest.fixture
def screen(ledger: Ledger, tmp_path: Path) -> MassWriteOff:
    s = MassWriteOff(ledger, user="ana", receipts_dir=tmp_path / "receipts",
                     reports_dir=tmp_path / "reports")
    s.set_fields(as_of=AS_OF)
    return s


def _row_of(screen: MassWriteOff, key: str) -> str:
    return next(label for label, value in screen.grid.rows.options if value == key)


def test_opens_on_every_patient_balance_with_exact_totals(screen: MassWriteOff) -> None:
    assert screen.error == ""
    assert screen.candidates is not None
    assert screen.candidates.criteria.balance_type is BalanceType.PATIENT
    assert list(screen.candidates.groups.get_column("group_key")) == ["E1", "E2", "E3", "E4"]
    assert (screen.selected_groups, screen.selected_lines) == (4, 5)
    assert screen.selected_total == Decimal("225.50") == screen.total
    assert isinstance(screen.selected_total, Decimal)
    assert screen.totals_box.value == "4 encounters · 5 lines · $225.50 selected of $225.50"
    assert screen.approve_btn.description == "Write off 4 encounters, $225.50"
    assert "MEDICAID" in screen.breakdown_box.value and "$120.00" in screen.breakdown_box.value
    assert "181-365" in screen.breakdown_box.value  # E1 295 days, E2 245 days: $120.00


def test_credit_balances_are_counted_for_refund_review_not_listed(screen: MassWriteOff) -> None:
    assert "E5" not in screen.grid.view_keys
    assert "1 line, -$5.00, await refund review" in screen.credits_box.value
    assert screen.credits_list.value == ""
    screen.credits_btn.value = True
    assert "C6" in screen.credits_list.value and "-$5.00" in screen.credits_list.value


def test_preset_fills_fields_and_reason_and_editing_makes_it_custom(screen: MassWriteOff) -> None:
    screen.apply_preset("no-balance-billing")
    assert screen.fields["responsibility"].value == Responsibility.NOT_RESPONSIBLE.value
    assert screen.reason_box.value == Reason.NO_BALANCE_BILLING.value
    assert screen.criteria is not None and screen.criteria.preset == "no-balance-billing"
    assert (screen.selected_groups, screen.selected_lines) == (2, 3)
    assert screen.selected_total == Decimal("120.00")
    screen.fields["min_age_days"].value = "250"  # E1 (295 days) stays, E2 (245) goes
    assert screen.preset_box.value == ""
    assert screen.criteria is not None and screen.criteria.preset is None
    assert screen.criteria.min_age_days == 250
    assert screen.selected_total == Decimal("40.00")


def test_refused_criteria_show_the_message_not_a_traceback(screen: MassWriteOff) -> None:
    screen.set_fields(balance_type="INSURANCE", write_off_by="PATIENT")
    assert screen.error == (
        "Criteria refused: write_off_by PATIENT does not apply to INSURANCE balances; "
        "use ENCOUNTER or PROCEDURE_LINE."
    )
    assert 'class="wo-error"' in screen.error_box.value
    assert "Traceback" not in screen.error_box.value
    assert screen.candidates is None and screen.selected_total == Decimal("0.00")
    assert screen.approve_btn.disabled
    screen.set_fields(min_age_days="90", max_age_days="30", balance_type="PATIENT")
    assert screen.error.startswith("Criteria refused: min_age_days 90 is more than")
    screen.set_fields(max_age_days="")
    # min age 90 keeps E1 (295 days), E2 (245) and E3 (518), not E4 (61): 40 + 80 + 80
    assert screen.error == "" and screen.selected_total == Decimal("200.00")


def test_clicking_a_row_unticks_its_group_and_totals_follow(screen: MassWriteOff) -> None:
    screen.grid.rows.index = 2  # E3, as a click in the browser sets it
    assert screen.deselected == frozenset({"E3"})
    assert screen.grid.focus == "E3" and screen.group_box.value == "E3"
    assert "<td align=right>$80.00</td><td align=right>-</td>" in screen.lines_box.value
    assert screen.grid.rows.index is None
    assert _row_of(screen, "E3").startswith("[ ]")
    assert (screen.selected_groups, screen.selected_lines) == (3, 4)
    assert screen.selected_total == Decimal("145.50")
    assert screen.approve_btn.description == "Write off 3 encounters, $145.50"
    screen.grid.rows.index = 2  # tick it again
    assert screen.deselected == frozenset() and screen.selected_total == Decimal("225.50")


def test_select_none_all_and_search(screen: MassWriteOff) -> None:
    screen.grid.none_btn.click()
    assert screen.selected_total == Decimal("0.00") and screen.approve_btn.disabled
    screen.grid.all_btn.click()
    assert screen.selected_total == Decimal("225.50")
    screen.grid.search_box.value = "001"  # patient 001: E1 and E2
    assert screen.grid.view_keys == ["E1", "E2"]
    screen.grid.none_btn.click()  # applies to what the search shows
    assert screen.deselected == frozenset({"E1", "E2"})
    assert screen.selected_total == Decimal("105.50")


def test_lowering_a_line_amount_and_refusing_a_bad_one(screen: MassWriteOff) -> None:
    screen.show_group("E2")
    assert screen.line_pick.options == ("C2", "C3")
    assert screen.set_amount("C2", "20.00")
    assert screen.selected_total == Decimal("195.50")
    assert _row_of(screen, "E2").endswith("$80.00         $50.00")  # write-off 20 + 30
    assert "<td align=right>$50.00</td><td align=right>$20.00</td>" in screen.lines_box.value
    assert not screen.set_amount("C2", "50.01")
    assert "wo-error" in screen.message and "C2" in screen.message
    assert not screen.set_amount("C2", "abc")
    assert screen.batch is not None and screen.batch.amounts == {"C2": Decimal("20.00")}
    screen.reset_amounts()
    assert screen.selected_total == Decimal("225.50")


def test_sort_and_paging_with_many_groups(tmp_path: Path) -> None:
    n = 250
    ledger = build_ledger(
        patients=[{"patient_id": f"P{i:04d}"} for i in range(n)],
        encounters=[{"encounter_id": f"E{i:04d}", "patient_id": f"P{i:04d}",
                     "date_of_service": "2026-01-01"} for i in range(n)],
        charges=[{"charge_id": f"C{i:04d}", "encounter_id": f"E{i:04d}",
                  "charge_amount": f"{i + 1}.00", "posted_date": "2026-01-01"} for i in range(n)],
    )
    s = MassWriteOff(ledger, user="ana", receipts_dir=tmp_path,
                     reports_dir=tmp_path / "reports")
    assert s.selected_groups == n and s.selected_total == Decimal(n * (n + 1) // 2)
    assert s.grid.page_count == 17 and len(s.grid.rows.options) == 15
    s.grid.next_btn.click()
    assert s.grid.rows.options[0][1] == "E0015"
    assert s.grid.page_label.value.startswith("16-30 of 250")
    s.grid.sort_box.value = "balance_total"
    s.grid.desc_box.value = True
    assert s.grid.page == 0 and s.grid.rows.options[0][1] == "E0249"
    s.grid.rows.index = 0
    assert s.selected_total == Decimal(n * (n + 1) // 2 - 250)


def test_commit_asks_for_confirmation_then_shows_the_receipt(screen: MassWriteOff) -> None:
    screen.apply_preset("no-balance-billing")
    screen.grid.rows.index = 0  # untick E1
    screen.approve_btn.click()
    assert screen.confirm_box.layout.display == "flex"
    assert "Write off 1 encounter (2 lines), $80.00?" in screen.confirm_label.value
    screen.note_box.value = "quarterly clean-up"
    screen.confirm_btn.click()
    receipt = screen.receipt
    assert receipt is not None and receipt.receipt_no == "WO-000001"
    assert receipt.total == Decimal("80.00") and receipt.line_count == 2
    assert "WO-000001" in screen.message and "$80.00" in screen.message
    assert all(p.exists() for p in receipt.files)
    csv = next(p for p in receipt.files if p.suffix == ".csv")
    assert sorted(pl.read_csv(csv).get_column("charge_id")) == ["C2", "C3"]
    assert screen.new_btn.layout.display == "block"
    screen.new_btn.click()  # searches again: E2 is written off now
    assert screen.receipt is None and screen.deselected == frozenset()
    assert screen.grid.view_keys == ["E1"] and screen.selected_total == Decimal("40.00")


def test_a_lowered_amount_of_an_unticked_group_is_left_out(screen: MassWriteOff) -> None:
    assert screen.set_amount("C2", "20.00")
    screen.grid.toggle("E2")
    receipt = screen.commit()
    assert receipt is not None and receipt.total == Decimal("145.50") and receipt.line_count == 3


def test_commit_with_nothing_ticked_is_refused_readably(screen: MassWriteOff) -> None:
    screen.grid.none_btn.click()
    assert screen.commit() is None
    assert "wo-error" in screen.message and "Traceback" not in screen.message


def test_export_csv_escapes_formulas_and_pdf_is_written(screen: MassWriteOff) -> None:
    screen.grid.rows.index = 0  # untick E1
    path = screen.export("csv")
    assert path is not None and path.parent == screen.reports_dir
    frame = pl.read_csv(path, schema_overrides={"balance": pl.String})
    assert sorted(frame.get_column("charge_id")) == ["C2", "C3", "C4", "C5"]
    assert frame.filter(pl.col("charge_id") == "C5").get_column("procedure_code")[0] == (
        "'=HYPERLINK"
    )
    pdf = screen.export("pdf")
    assert pdf is not None and pdf.read_bytes().startswith(b"%PDF")


def test_patient_view_is_prefiltered_by_encounter(ledger: Ledger, tmp_path: Path) -> None:
    s = MassWriteOff(ledger, patient_id="001", user="ana", receipts_dir=tmp_path,
                     reports_dir=tmp_path / "reports")
    assert s.fields["write_off_by"].value == "ENCOUNTER"
    assert s.criteria is not None and s.criteria.patient_ids == frozenset({"001"})
    assert s.selected_total == Decimal("120.00")
    s.apply_preset("bad-debt")  # a preset keeps the patient filter
    assert s.criteria is not None and s.criteria.patient_ids == frozenset({"001"})
    e = MassWriteOff(ledger, encounter_id="E3", user="ana", receipts_dir=tmp_path,
                     reports_dir=tmp_path / "reports")
    assert e.selected_total == Decimal("80.00") and e.selected_groups == 1


def test_history_search_open_and_reverse(screen: MassWriteOff, ledger: Ledger) -> None:
    screen.apply_preset("no-balance-billing")
    first = screen.commit()
    assert first is not None and first.total == Decimal("120.00")
    h = HistoryBrowser(ledger, user="sam", receipts_dir=screen.receipts_dir)
    found = h.search()
    assert found is not None and list(found.get_column("receipt_no")) == ["WO-000001"]
    assert "$120.00" in h.table.value
    h.receipt_box.value = "WO-999999"
    assert h.search() is None
    assert "unknown receipt 'WO-999999'" in h.message and "wo-error" in h.message_box.value
    h.receipt_box.value = ""
    h.from_box.value = dt.date.today() + dt.timedelta(days=1)
    assert h.search() is not None and h.results is not None and h.results.height == 0
    h.from_box.value = None
    h.search()
    h.pick.value = "WO-000001"
    h.open_btn.click()
    assert h.line_pick.options == ("C1", "C2", "C3")
    h.line_pick.value = ("C2",)
    h.reverse_lines_btn.click()
    assert h.reversal is None and "wo-error" in h.message_box.value  # no reason given
    h.reason_box.value = "posted to the wrong patient"
    h.reverse_lines_btn.click()
    assert h.reversal is not None and h.reversal.total == Decimal("50.00")
    assert h.reversal.line_count == 1
    h.reverse_all_btn.click()  # whole: the lines not reversed yet
    assert h.reversal is not None and h.reversal.total == Decimal("70.00")
    assert h.reversal.line_count == 2
    assert h.open_receipt("WO-404") is None and "wo-error" in h.message_box.value


def test_load_progress_reports_stages(tmp_path: Path) -> None:
    from tests.conftest import make_frames

    folder = tmp_path / "extract"
    folder.mkdir()
    for name, frame in make_frames(**TABLES).items():
        frame.write_csv(folder / f"{name}.csv")
    ledger = Ledger(tmp_path / "store.duckdb")
    progress = LoadProgress(ledger)
    progress.load(folder)
    assert progress.error == "" and progress.bar.value == 1
    assert progress.stages[-1] == "done" and len(progress.stages) >= 3
    assert ledger.balances().height == 6
    bad = LoadProgress(Ledger(tmp_path / "other.duckdb"))
    bad.load(tmp_path / "missing")
    assert bad.error and "wo-error" in bad.label.value


def test_receipt_manifest_is_json(screen: MassWriteOff) -> None:
    receipt = screen.commit()
    assert receipt is not None
    manifest = next(p for p in receipt.files if p.suffix == ".json")
    assert json.loads(manifest.read_text())["receipt_no"] == "WO-000001"


def test_approver_hint_follows_the_second_approver_limit(ledger: Ledger, tmp_path: Path) -> None:
    config = Config(users={"ana": frozenset(Permission)}, second_approver_over=Decimal("100.00"))
    s = MassWriteOff(ledger, as_of=AS_OF, user="ana", receipts_dir=tmp_path,
                     reports_dir=tmp_path / "reports", config=config)
    assert s.approver_box.placeholder == "required: over $100.00"  # 225.50 selected
    s.apply_preset("no-balance-billing")
    s.grid.rows.index = 1  # untick E2: 40.00 left
    assert s.approver_box.placeholder == "not needed up to $100.00"


def test_commit_over_the_limit_needs_an_approver_who_may_approve(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config(
        users={"ana": frozenset({Permission.MASS_WRITE_OFF}), "sam": frozenset(Permission),
               "bob": frozenset({Permission.MASS_WRITE_OFF})},
        second_approver_over=Decimal("100.00"),
    )
    s = MassWriteOff(ledger, as_of=AS_OF, user="ana", receipts_dir=tmp_path,
                     reports_dir=tmp_path / "reports", config=config)
    assert s.commit() is None
    assert "second-approver limit" in s.message and "wo-error" in s.message
    s.approver_box.value = "bob"
    assert s.commit() is None
    assert "User 'bob' may not approve write-off batches: the permission 'approve_write_off'" in (
        html.unescape(s.message)
    )
    s.approver_box.value = "sam"
    assert s.commit() is None  # issue 16: typing sam is not sam approving
    assert "approver 'sam' is not the login running this" in html.unescape(s.message)
    monkeypatch.setattr("writeoff_analytics.writeoffs.permissions.current_user", lambda: "sam")
    receipt = s.commit()  # sam's own login commits what ana prepared
    assert receipt is not None and receipt.total == Decimal("225.50")


def test_the_screen_holds_one_batch_and_undo_is_the_one_before(screen: MassWriteOff) -> None:
    first = screen.batch
    assert first is not None and first.total == screen.selected_total == Decimal("225.50")
    screen.grid.toggle("E3")
    unticked = screen.batch
    assert unticked is not None and unticked is not first
    assert unticked.excluded_groups == frozenset({"E3"}) == screen.deselected
    assert first.excluded == frozenset()  # the batch before is untouched
    assert screen.set_amount("C2", "20.00")
    lowered = screen.batch
    assert lowered is not None and lowered.amounts == {"C2": Decimal("20.00")}
    assert unticked.amounts == {}
    assert screen.selected_total == lowered.total == Decimal("115.50")
    assert screen.totals_box.value == "3 encounters · 4 lines · $115.50 selected of $225.50"
    screen.batch = unticked  # undo the amount
    assert screen.selected_total == Decimal("145.50")
    assert _row_of(screen, "E2").endswith("$80.00         $80.00")
    assert screen.approve_btn.description == "Write off 3 encounters, $145.50"
    screen.batch = first  # undo the tick
    assert screen.deselected == frozenset() and _row_of(screen, "E3").startswith("[x]")
    assert screen.selected_total == Decimal("225.50")


def test_amount_of_a_line_in_an_unticked_group_ticks_the_group(screen: MassWriteOff) -> None:
    screen.grid.toggle("E2")
    assert screen.set_amount("C3", "10.00")
    assert screen.deselected == frozenset() and screen.selected_total == Decimal("205.50")
    assert "C3: write off $10.00." in screen.message
    assert not screen.set_amount("C9", "1.00")
    assert "unknown charge id(s) C9" in screen.message


def test_the_reason_makes_a_new_batch_and_a_refused_one_blocks_the_commit(
    screen: MassWriteOff,
) -> None:
    before = screen.batch
    screen.reason_box.value = Reason.BAD_DEBT.value
    batch = screen.batch
    assert batch is not None and batch is not before and batch.reason is Reason.BAD_DEBT
    assert before is not None and batch.lines.equals(before.lines)
    screen.note_box.value = " quarterly "
    assert screen.batch is not None and screen.batch.note == "quarterly"
    screen.reason_box.value = Reason.CUSTOM.value
    assert screen.reason_error.startswith("reason CUSTOM needs its own text")
    assert "wo-error" in screen.reason_error_box.value and screen.approve_btn.disabled
    assert screen.batch.reason is Reason.BAD_DEBT  # the last accepted reason, never committed
    assert screen.commit() is None and "CUSTOM needs its own text" in screen.message
    screen.grid.toggle("E1")  # ticks and searches go on while the reason is refused
    screen.set_fields(min_age_days="100")  # E4 (61 days) goes
    assert screen.reason_error and screen.selected_total == Decimal("200.00")
    screen.grid.toggle("E1")
    screen.custom_reason_box.value = "Board decision 12"
    assert screen.reason_error == "" and not screen.approve_btn.disabled
    committed = screen.batch
    assert committed is not None and committed.reason_text == "Board decision 12"
    assert committed.note == "quarterly" and committed.total == Decimal("160.00")
    receipt = screen.commit()
    assert receipt is not None and receipt.total == Decimal("160.00")
    manifest = json.loads(next(p for p in receipt.files if p.suffix == ".json").read_text())
    assert manifest["batch_key"] == committed.batch_key  # the screen's batch, as it stood
    assert manifest["reason"] == {"code": "CUSTOM", "text": "Board decision 12"}


def test_default_folders_are_under_the_working_folder_never_the_checkout(
    ledger: Ledger, tmp_path: Path
) -> None:
    s = MassWriteOff(ledger, as_of=AS_OF, user="ana")  # the working folder is tmp_path
    receipt = s.commit()
    assert receipt is not None
    assert all(p.resolve().parent == tmp_path / "data" / "receipts" for p in receipt.files)
    assert (tmp_path / "data" / "reports" / "WO-000001.html").is_file()
