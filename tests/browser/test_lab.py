"""The approve-a-batch notebook in a real JupyterLab, clicked through in Chromium."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.artifacts import ARTIFACTS
from tests.browser.conftest import open_notebook, run_all
from writeoff_analytics.criteria.presets import criteria_from_preset
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.money import PL_MONEY, format_money
from writeoff_analytics.reasons import Reason
from writeoff_analytics.widgets import _api

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


def _expected_after_unticking_the_first_group(demo: Path) -> tuple[int, Decimal, Decimal]:
    """What the screen should commit: the preset's groups but the first (by group key).

    Returns the groups and total left, and the balance of the unticked group.
    """
    ledger = Ledger(":memory:")
    _api.load(ledger, demo, lambda stage, fraction: None)
    # the notebook's AS_OF: the demo extract's date
    found = _api.find(ledger, criteria_from_preset("no-balance-billing", as_of="2026-11-01"))
    first = found.groups.row(0, named=True)
    return found.group_count - 1, found.total - first["balance_total"], first["balance_total"]


def _approve_button(panel: Any, groups: int, total: Decimal) -> Any:
    noun = "encounter" if groups == 1 else "encounters"
    return panel.locator(".wo-approve", has_text=f"Write off {groups:,} {noun}, "
                                                  f"{format_money(total)}")


def _wait_for_file(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} was not written"
        time.sleep(0.1)


def test_pick_preset_untick_a_group_approve_and_find_the_receipt(
    lab_server: dict[str, Any], browser: Any
) -> None:
    root: Path = lab_server["root"]
    groups, total, first = _expected_after_unticking_the_first_group(root / "data" / "demo")
    page = browser.new_page(viewport={"width": 1400, "height": 1700})
    try:
        panel = open_notebook(page, lab_server, "notebooks/02_approve_batch.ipynb")
        run_all(page)
        preset = panel.locator(".wo-preset select")
        preset.wait_for(state="visible", timeout=90_000)
        preset.select_option("no-balance-billing")
        _approve_button(panel, groups + 1, total + first).wait_for(timeout=60_000)
        panel.locator(".wo-grid select").select_option(index=0)  # untick the first group
        approve = _approve_button(panel, groups, total)
        approve.wait_for(timeout=30_000)
        approve.click()
        confirm = panel.locator(".jupyter-widgets.widget-button", has_text="Confirm write-off")
        confirm.wait_for(state="visible", timeout=30_000)
        confirm.click()
        number = panel.locator(".wo-receipt-no")
        number.wait_for(timeout=60_000)
        receipt_no = number.inner_text().strip()
        link = panel.locator(".wo-message a", has_text=f"{receipt_no}.csv")
        assert link.get_attribute("href") == f"../data/receipts/{receipt_no}.csv"
        page.evaluate("() => { window.jupyterapp.commands.execute('application:toggle-left-area'); }")
        panel.locator(".wo-mass-write-off").evaluate("e => e.scrollIntoView({block: 'start'})")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "lab_approve_batch.png"))
    finally:
        page.close()
    receipt_csv = root / "data" / "receipts" / f"{receipt_no}.csv"
    _wait_for_file(receipt_csv)
    lines = pl.read_csv(receipt_csv, schema_overrides={"amount": PL_MONEY})
    assert -Decimal(lines.get_column("amount").sum()) == total  # write-off lines are negative
    manifest = json.loads((root / "data" / "receipts" / f"{receipt_no}.json").read_text())
    assert Decimal(manifest["total"]) == total


def test_history_notebook_finds_opens_and_reverses_a_receipt(
    lab_server: dict[str, Any], browser: Any
) -> None:
    root: Path = lab_server["root"]
    ledger = Ledger(root / "data" / "ledger.duckdb")
    _api.load(ledger, root / "data" / "demo", lambda stage, fraction: None)
    found = _api.find(ledger, criteria_from_preset("small-balance", as_of="2026-11-01"))
    receipt = _api.commit(
        ledger, _api.start_batch(found, {"reason": Reason.SMALL_BALANCE.value}), user="ana",
        approver=None, receipts_dir=root / "data" / "receipts", config=_api.default_config("ana"),
    )
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        panel = open_notebook(page, lab_server, "notebooks/03_history.ipynb")
        run_all(page)
        panel.locator(".wo-history td", has_text=receipt.receipt_no).wait_for(timeout=90_000)
        panel.locator(".wo-history-pick select").select_option(receipt.receipt_no)
        panel.locator(".jupyter-widgets.widget-button", has_text="Open").click()
        lines = panel.locator(".wo-history-lines select")
        lines.locator("option").first.wait_for(state="attached", timeout=30_000)
        first_charge = lines.locator("option").first.inner_text().strip()
        lines.select_option(index=0)
        panel.locator(".wo-history-reason input").fill("posted to the wrong patient")
        panel.locator(".jupyter-widgets.widget-button", has_text="Reverse selected lines").click()
        done = panel.locator(".wo-ok", has_text="Reversal WO-")
        done.wait_for(timeout=30_000)
        page.evaluate("() => { window.jupyterapp.commands.execute('application:toggle-left-area'); }")
        panel.locator(".wo-history").evaluate("e => e.scrollIntoView({block: 'start'})")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "lab_history.png"))
        message = done.inner_text()
    finally:
        page.close()
    reversal_no = message.split()[1].rstrip(":")
    assert reversal_no != receipt.receipt_no
    reversal = pl.read_csv(root / "data" / "receipts" / f"{reversal_no}.csv")
    assert reversal.get_column("charge_id").to_list() == [first_charge]
