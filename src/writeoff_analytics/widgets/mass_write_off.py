"""The mass write-off screen: criteria, live totals and a tickable grid, then approve and commit.

Thin by design (STYLE.md, "Reports and widgets"): the state lives in traitlets, and each
handler calls one function of :mod:`._api`, which calls one public function of the package,
and shows the result or the :class:`~writeoff_analytics.errors.WriteoffError` message.
What will be written off is one frozen :class:`~writeoff_analytics.writeoffs.batches.Batch`
in the ``batch`` trait: ticks, lowered amounts and the reason each make a new one (so undo
is setting the previous one back), the totals are read from it, and commit sends it.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import ipywidgets as w
import polars as pl
import traitlets as t

from writeoff_analytics.candidates import GROUP_SCHEMA, Candidates
from writeoff_analytics.criteria.model import BalanceType, Criteria, WriteOffBy
from writeoff_analytics.criteria.presets import Preset, load_presets
from writeoff_analytics.errors import WriteoffError
from writeoff_analytics.money import ZERO, format_money
from writeoff_analytics.reasons import Reason
from writeoff_analytics.widgets import _api, criteria_form, summary
from writeoff_analytics.widgets.criteria_form import LEVEL_WORDS
from writeoff_analytics.widgets.grid import BatchTrait, GroupGrid, style_tag

if TYPE_CHECKING:
    from writeoff_analytics.writeoffs.batches import Batch
    from writeoff_analytics.writeoffs.permissions import Config

_CLAIM_STATUSES = (("Closed", "CLOSED"), ("Open", "OPEN"), ("Unchanged", ""))
_TEXT = {"continuous_update": False}
_WIDE = {"description_width": "initial"}


class MassWriteOff(w.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """The mass write-off screen for JupyterLab.

    Parameters
    ----------
    ledger
        The store to search and commit to.
    patient_id, encounter_id
        Pre-filter as when opened from a patient's or an encounter's dashboard (write off
        by encounter).
    as_of
        The aging date to start with (default: today; the field can change it).
    user
        Who prepares the batch (default: the login name).
    receipts_dir
        Where receipts are written.
    reports_dir
        Where candidate exports are written.
    config
        The writeoff configuration (permissions, approval threshold), passed to the commit.
    presets_file
        A user presets file, added to the shipped presets.
    engine
        The search engine of ``find_candidates``. Default ``"polars"``: the screen lives in
        a kernel, which keeps the store's derived balances in memory after the first search
        (about 0.4 GB and 3 s to read at 10M transactions), so each change of a field searches
        memory instead of the store file (benchmarks/RESULTS.md has both at 10M).
        ``"duckdb"`` searches the store file each time and holds nothing.

    Examples
    --------
    >>> from writeoff_analytics import Ledger
    >>> from writeoff_analytics.widgets import LoadProgress
    >>> ledger = Ledger(":memory:")
    >>> _ = LoadProgress(ledger).load("data/demo")
    >>> screen = MassWriteOff(ledger, as_of="2026-11-01", user="ana")
    >>> screen.apply_preset("small-balance")
    >>> screen.criteria.max_balance, screen.reason_box.value
    (Decimal('10.00'), 'SMALL_BALANCE')
    >>> screen.selected_total == screen.total > 0
    True
    """

    criteria = t.Instance(Criteria, allow_none=True)
    candidates = t.Instance(Candidates, allow_none=True)
    #: What will be written off: the candidates' lines as ticked and lowered, the reason.
    batch = BatchTrait(allow_none=True)
    error = t.Unicode("")
    #: Why the reason fields are refused (then the batch keeps its last accepted reason and
    #: approving is blocked until they are fixed).
    reason_error = t.Unicode("")
    receipt = t.Instance(_api.ReceiptView, allow_none=True)
    message = t.Unicode("")

    def __init__(
        self,
        ledger: Any,
        *,
        patient_id: str | None = None,
        encounter_id: str | None = None,
        as_of: dt.date | str | None = None,
        user: str | None = None,
        receipts_dir: str | os.PathLike[str] = Path("data") / "receipts",
        reports_dir: str | os.PathLike[str] = Path("data") / "reports",
        config: Config | None = None,
        presets_file: str | os.PathLike[str] | None = None,
        engine: str = "polars",
    ) -> None:
        self.ledger = ledger
        self.engine = engine
        self.user = user or _api.current_user()
        self.receipts_dir = Path(receipts_dir)
        self.reports_dir = Path(reports_dir)
        self.config = config if config is not None else _api.default_config(self.user)
        self.presets: dict[str, Preset] = load_presets(presets_file)
        self._filling = False
        self._credits: tuple[tuple[int, str], pl.DataFrame] | None = None
        self._build_criteria_panel()
        self._build_results_panel()
        self._build_commit_panel()
        # The grid shows and ticks this batch: one object in both traits (not ``t.link``,
        # which compares batches with ``==``, a hash of every line, on each change).
        self.grid.observe(lambda c: setattr(self, "batch", c["new"]), "batch")
        super().__init__(
            [style_tag(), self.criteria_panel, self.results_panel, self.commit_panel],
            layout=w.Layout(width="100%"),
        )
        self.add_class("wo-mass-write-off")
        self._filling = True
        self.fields["as_of"].value = criteria_form.widget_value("as_of", as_of)
        self._filling = False
        if patient_id or encounter_id:
            self._filling = True
            self.fields["patient_ids"].value = patient_id or ""
            self.fields["encounter_ids"].value = encounter_id or ""
            self.fields["write_off_by"].value = WriteOffBy.ENCOUNTER.value
            self._filling = False
        self.refresh()

    # -- building ------------------------------------------------------------------------

    def _build_criteria_panel(self) -> None:
        f = criteria_form.criteria_fields(self.ledger.frame("payers"))
        for name, box in f.items():
            box.observe(self._on_field_change, "value")
            box.add_class(f"wo-{name.replace('_', '-')}")
        self.fields = f
        self.preset_box = w.Dropdown(
            options=[("(custom)", ""), *((n, n) for n in self.presets)], description="Preset"
        )
        self.preset_box.add_class("wo-preset")
        self.preset_box.observe(self._on_preset, "value")
        self.preset_note = w.HTML()
        self.error_box = w.HTML()
        self.criteria_panel = w.VBox([
            w.HTML("<b>Criteria</b>"),
            w.HBox([self.preset_box, self.preset_note]),
            w.HBox([f["as_of"], f["patient_ids"], f["encounter_ids"]]),
            w.HBox([f["balance_type"], f["write_off_by"]]),
            w.HBox([f["responsibility"], f["role"]]),
            w.HBox([f["payer_ids"], f["financial_classes"]]),
            w.HBox([f["dos_from"], f["dos_to"], f["min_age_days"], f["max_age_days"]]),
            w.HBox([f["min_balance"], f["max_balance"], f["min_days_since_patient_payment"],
                    f["deceased"], f["financial_hardship"]]),
            self.error_box,
        ])

    def _build_results_panel(self) -> None:
        self.totals_box = w.HTML()
        self.totals_box.add_class("wo-totals")
        self.breakdown_box = w.HTML()
        self.credits_box = w.HTML()
        self.credits_btn = w.ToggleButton(description="Refund review list", icon="list",
                                          layout=w.Layout(width="auto"))
        self.credits_btn.observe(lambda c: self.show_credits(c["new"]), "value")
        self.credits_list = w.HTML()
        self.held_box = w.HTML()  # issue 14: quarantined charges, which no search returns
        self.grid = GroupGrid()
        self.grid.observe(self._on_focus, "focus")
        self.export_csv_btn = w.Button(description="Export CSV", icon="download")
        self.export_pdf_btn = w.Button(description="Export PDF", icon="file-pdf")
        self.export_csv_btn.on_click(lambda _: self.export("csv"))
        self.export_pdf_btn.on_click(lambda _: self.export("pdf"))
        # The lines of one group, where amounts can be lowered.
        self.group_box = w.Text(description="Lines of", placeholder="group id", **_TEXT)
        self.group_box.observe(lambda c: self.show_group(c["new"]), "value")
        self.lines_box = w.HTML()
        self.line_pick = w.Dropdown(description="Line", options=[])
        self.amount_box = w.Text(description="Amount", placeholder="0.00",
                                 layout=w.Layout(width="180px"))
        self.set_amount_btn = w.Button(description="Set amount")
        self.reset_amounts_btn = w.Button(description="Reset amounts")
        self.set_amount_btn.on_click(
            lambda _: self.set_amount(self.line_pick.value or "", self.amount_box.value)
        )
        self.reset_amounts_btn.on_click(lambda _: self.reset_amounts())
        self.results_panel = w.VBox([
            w.HTML("<b>Results</b>"),
            w.HBox([self.totals_box, self.export_csv_btn, self.export_pdf_btn]),
            self.breakdown_box,
            w.HBox([self.credits_box, self.credits_btn]),
            self.credits_list,
            self.held_box,
            self.grid,
            w.HTML("<i>Click a row to tick or untick it; its lines open below.</i>"),
            self.group_box,
            self.lines_box,
            w.HBox([self.line_pick, self.amount_box, self.set_amount_btn,
                    self.reset_amounts_btn]),
        ])

    def _build_commit_panel(self) -> None:
        self.reason_box = w.Dropdown(
            options=[(r.text, r.value) for r in Reason], value=Reason.ADMINISTRATIVE.value,
            description="Reason", layout=w.Layout(width="640px"),
        )
        self.custom_reason_box = w.Text(placeholder="custom reason", disabled=True)
        self.adjustment_box = w.Text(description="Adj. code", placeholder="WO-NBB")
        self.claim_status_box = w.Dropdown(options=list(_CLAIM_STATUSES),
                                           description="Claim status", style=_WIDE)
        self.note_box = w.Text(description="Note", layout=w.Layout(width="640px"))
        self.determination_box = w.Text(description="Determination ref.", style=_WIDE,
                                        placeholder="hardship only", disabled=True)
        for box in self._detail_boxes():
            box.observe(self._on_details, "value")
        self.reason_error_box = w.HTML()
        limit = self.config.second_approver_over
        self.approver_box = w.Text(
            description="Approver",
            placeholder="not needed" if limit is None else f"over {format_money(limit)}",
        )
        self.approve_btn = w.Button(button_style="primary", layout=w.Layout(width="auto"))
        self.approve_btn.add_class("wo-approve")
        self.approve_btn.on_click(lambda _: self.ask_confirmation())
        self.confirm_label = w.HTML()
        self.confirm_btn = w.Button(description="Confirm write-off", button_style="danger")
        self.cancel_btn = w.Button(description="Cancel")
        self.confirm_btn.on_click(lambda _: self.commit())
        self.cancel_btn.on_click(lambda _: self._hide_confirmation())
        self.confirm_box = w.HBox([self.confirm_label, self.confirm_btn, self.cancel_btn],
                                  layout=w.Layout(display="none"))
        self.new_btn = w.Button(description="New write off", layout=w.Layout(display="none"))
        self.new_btn.on_click(lambda _: self.new_write_off())
        self.message_box = w.HTML()
        self.message_box.add_class("wo-message")
        self.commit_panel = w.VBox([
            w.HTML("<b>Approve and commit</b>"),
            w.HBox([self.reason_box, self.custom_reason_box]),
            self.reason_error_box,
            w.HBox([self.adjustment_box, self.claim_status_box, self.approver_box]),
            w.HBox([self.note_box, self.determination_box]),
            self.approve_btn,
            self.confirm_box,
            self.message_box,
            self.new_btn,
        ])

    # -- criteria ------------------------------------------------------------------------

    def field_values(self) -> dict[str, Any]:
        """The criteria fields as typed (text as text: ``Criteria`` checks and coerces it)."""
        values = {name: box.value for name, box in self.fields.items()}
        return criteria_form.criteria_arguments(values, preset=self.preset_box.value or None)

    def set_fields(self, **values: Any) -> None:
        """Set several criteria fields at once, then search once (what a preset does)."""
        self._filling = True
        try:
            for name, value in values.items():
                self.fields[name].value = criteria_form.widget_value(name, value)
            self.preset_box.value = ""
        finally:
            self._filling = False
        self.refresh()

    def timed_change(self, name: str, value: Any) -> float:
        """Set one criteria field as a user would; return the seconds until the totals showed.

        The change goes through the field's observer, so this times the widget's own path
        (criteria, search, totals, breakdown, grid); ``benchmarks/`` calls it.
        """
        start = time.perf_counter()
        self.fields[name].value = criteria_form.widget_value(name, value)
        return time.perf_counter() - start

    def apply_preset(self, name: str) -> None:
        """Fill the fields from preset ``name`` and its reason, then search."""
        self.preset_box.value = name  # handled by _on_preset

    def _fill(self, criteria: Criteria) -> None:
        for name, value in criteria_form.field_values(criteria, self.fields).items():
            self.fields[name].value = value

    def _on_preset(self, change: dict[str, Any]) -> None:
        if self._filling or not change["new"]:
            self.preset_note.value = ""
            return
        preset = self.presets[change["new"]]
        self._filling = True
        try:
            self._fill(preset.criteria)
            self.reason_box.value = preset.reason.value
        finally:
            self._filling = False
        self.preset_note.value = f"<i>{html.escape(preset.description)}</i>"
        self.refresh()

    def _on_field_change(self, change: dict[str, Any]) -> None:
        if self._filling:
            return
        self._filling = True
        try:
            self.preset_box.value = ""  # editing a field makes the criteria custom
        finally:
            self._filling = False
        self.refresh()

    def refresh(self) -> bool:
        """Search with the current fields and update totals, breakdown and grid.

        Returns once everything shown is up to date (the benchmark times this path).

        Returns
        -------
        bool
            Whether the criteria were accepted.
        """
        insurance = self.fields["balance_type"].value == BalanceType.INSURANCE.value
        self.fields["responsibility"].disabled = insurance
        self.fields["role"].disabled = not insurance
        self._hide_confirmation()
        self.totals_box.value = "Searching…"  # shown at once: a big ledger takes a moment
        try:
            criteria = Criteria(**self.field_values())
            found = _api.find(self.ledger, criteria, engine=self.engine)
        except WriteoffError as exc:
            self.error = str(exc)
            self.criteria = None
            self.candidates = None
            self.grid.set_groups(pl.DataFrame(schema=GROUP_SCHEMA), "Group")
            self._set_batch(None)
            return False
        self.error = ""
        self.criteria = criteria
        self.candidates = found
        self.grid.set_groups(found.groups, self._level_words()[0].capitalize())
        self._set_batch(self._start_batch(found))
        self.show_group("")
        self.show_credits(self.credits_btn.value)
        self.held_box.value = summary.held_back_html(_api.held_back(self.ledger))
        return True

    @t.observe("error")
    def _on_error(self, change: dict[str, Any]) -> None:
        self.error_box.value = (
            f'<div class="wo-error">{html.escape(change["new"])}</div>' if change["new"] else ""
        )

    # -- the batch -----------------------------------------------------------------------

    def _start_batch(self, found: Candidates) -> Batch:
        """Every line of ``found`` at full balance, with the reason fields.

        While the reason fields are refused, the batch takes the last accepted reason and
        approving is blocked until they are fixed.
        """
        try:
            batch = _api.start_batch(found, self.details())
        except WriteoffError as exc:
            self.reason_error = str(exc)
            last = self.batch
            details = {"reason": Reason.ADMINISTRATIVE.value} if last is None else {
                "reason": last.reason.value, "reason_text": last.reason_text,
                "adjustment_code": last.adjustment_code, "claim_status": last.claim_status,
                "note": last.note, "determination_reference": last.determination_reference,
            }
            return _api.start_batch(found, details)
        self.reason_error = ""
        return batch

    def _set_batch(self, batch: Batch | None) -> None:
        if batch is self.batch:  # None again: nothing notifies, so recount here
            self._recount()
        else:
            self.batch = batch  # _on_batch recounts

    @t.observe("batch")
    def _on_batch(self, change: dict[str, Any]) -> None:
        old, new = change["old"], change["new"]
        self.grid.batch = new  # nothing happens when it came from the grid
        if (old is not None and new is not None and old.candidate_lines is new.candidate_lines
                and old.excluded is new.excluded and old.amounts is new.amounts):
            return  # only the reason or a detail changed: the same lines and totals
        self._hide_confirmation()
        self._recount()
        if self.group_box.value:
            self.show_group(self.group_box.value)  # its write-off column follows the batch

    @property
    def selected_groups(self) -> int:
        """How many groups the batch writes off from."""
        return 0 if self.batch is None else self.batch.group_count

    @property
    def selected_lines(self) -> int:
        """How many lines the batch writes off."""
        return 0 if self.batch is None else self.batch.line_count

    @property
    def selected_total(self) -> Decimal:
        """What the batch writes off, exact."""
        return ZERO if self.batch is None else self.batch.total

    @property
    def total(self) -> Decimal:
        """What all the candidates found would write off, exact."""
        return ZERO if self.candidates is None else self.candidates.total

    @property
    def deselected(self) -> frozenset[str]:
        """The group keys unticked in the grid (``Batch.excluded_groups``)."""
        return self.grid.deselected

    def _on_focus(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.group_box.value = change["new"]

    def _recount(self) -> None:
        batch = self.batch
        if batch is None:
            self.totals_box.value = "No search yet: fix the criteria above."
            self.breakdown_box.value = ""
        else:
            self.totals_box.value = summary.totals_html(batch, self.total, self._level_words())
            self.breakdown_box.value = summary.breakdown_html(batch.lines)
        self._update_approve()

    def _level_words(self) -> tuple[str, str]:
        level = self.criteria.write_off_by if self.criteria else WriteOffBy.ENCOUNTER
        return LEVEL_WORDS[level]

    # -- lines and amounts ---------------------------------------------------------------

    def show_group(self, key: str) -> None:
        """Show the lines of group ``key`` and offer them for amount editing."""
        if self.group_box.value != key:
            self.group_box.value = key  # observer calls back here
            return
        if not key or self.candidates is None or self.batch is None:
            self.lines_box.value = ""
            self.line_pick.options = []
            return
        group = self.candidates.lines.filter(pl.col("group_key") == key)
        if group.is_empty():
            self.lines_box.value = summary.error(f"{key} is not among the results.")
            self.line_pick.options = []
            return
        chosen = self.batch.lines.filter(pl.col("group_key") == key)
        amounts = dict(chosen.select("charge_id", "writeoff_amount").iter_rows())
        self.lines_box.value = summary.lines_html(group, amounts)
        self.line_pick.options = list(group.get_column("charge_id"))
        self.line_pick.value = self.line_pick.options[0]

    def show_credits(self, open_list: bool = True) -> pl.DataFrame | None:
        """Count the credit balances of this balance type (never candidates: refund review)."""
        key = (self.ledger.generation(), self.fields["balance_type"].value)
        if self._credits is None or self._credits[0] != key:  # criteria do not change credits
            try:
                self._credits = (key, _api.credit_balances(self.ledger, key[1]))
            except WriteoffError as exc:
                self.credits_box.value = summary.error(str(exc))
                return None
        credits = self._credits[1]
        self.credits_box.value = summary.credits_note(credits)
        self.credits_list.value = summary.credits_html(credits) if open_list else ""
        return credits

    def set_amount(self, charge_id: str, amount: str | Decimal) -> bool:
        """Lower the write-off amount of one candidate line (ticks its group)."""
        if self.batch is None:
            self._say("Nothing to change: fix the criteria first.", error=True)
            return False
        group = self.batch.candidate_lines.filter(pl.col("charge_id") == charge_id)
        key = group.get_column("group_key")[0] if group.height else None
        try:
            batch = _api.set_amount(self.batch, charge_id, amount,
                                    tick_group=key if key in self.deselected else None)
        except WriteoffError as exc:
            self._say(str(exc), error=True)
            return False
        self.batch = batch
        self._say(f"{charge_id}: write off {format_money(batch.amount_of(charge_id) or ZERO)}.")
        return True

    def reset_amounts(self) -> None:
        """Write off every line's whole balance again."""
        if self.batch is not None:
            self.batch = _api.reset_amounts(self.batch)

    # -- export ----------------------------------------------------------------------------

    def export(self, kind: Literal["csv", "pdf"]) -> Path | None:
        """Export the ticked candidate list (amounts as lowered) as CSV or PDF into ``reports_dir``."""
        if self.batch is None:
            self._say("Nothing to export: fix the criteria first.", error=True)
            return None
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        try:
            path = _api.export_batch(
                self.ledger, self.batch, self.reports_dir / f"candidates-{stamp}.{kind}", kind
            )
        except WriteoffError as exc:
            self._say(str(exc), error=True)
            return None
        self._say(f"Exported {self.batch.line_count:,} lines: {summary.link(path)}", raw=True)
        return path

    # -- commit ------------------------------------------------------------------------------

    def _detail_boxes(self) -> tuple[w.ValueWidget, ...]:
        return (self.reason_box, self.custom_reason_box, self.adjustment_box,
                self.claim_status_box, self.note_box, self.determination_box)

    def details(self) -> dict[str, str | None]:
        """The reason and details as typed (``Batch.with_details`` checks them)."""
        reason = Reason(self.reason_box.value)
        return {
            "reason": reason.value,
            "reason_text": self.custom_reason_box.value if reason is Reason.CUSTOM else None,
            "adjustment_code": self.adjustment_box.value,
            "claim_status": self.claim_status_box.value or None,
            "note": self.note_box.value,
            "determination_reference": self.determination_box.value,
        }

    def _on_details(self, change: dict[str, Any]) -> None:
        reason = Reason(self.reason_box.value)
        self.custom_reason_box.disabled = reason is not Reason.CUSTOM
        self.determination_box.disabled = not reason.needs_determination_reference
        if self.batch is None:
            return
        try:
            self.batch = _api.describe_batch(self.batch, self.details())
        except WriteoffError as exc:
            self.reason_error = str(exc)
        else:
            self.reason_error = ""

    @t.observe("reason_error")
    def _on_reason_error(self, change: dict[str, Any]) -> None:
        self.reason_error_box.value = summary.error(change["new"]) if change["new"] else ""
        self._update_approve()

    def _update_approve(self) -> None:
        one, many = self._level_words()
        n = self.selected_groups
        self.approve_btn.description = (
            f"Write off {n:,} {one if n == 1 else many}, {format_money(self.selected_total)}"
        )
        self.approve_btn.disabled = self.selected_lines == 0 or bool(self.reason_error)
        limit = self.config.second_approver_over
        if limit is not None:
            self.approver_box.placeholder = (
                f"required: over {format_money(limit)}"
                if _api.needs_second_approver(self.config, self.selected_total)
                else f"not needed up to {format_money(limit)}"
            )

    def ask_confirmation(self) -> None:
        """Show the confirmation step with the count and the total."""
        if self.selected_lines == 0:
            self._say("Nothing is selected.", error=True)
            return
        one, many = self._level_words()
        n = self.selected_groups
        self.confirm_label.value = (
            f"<b>Write off {n:,} {one if n == 1 else many} ({self.selected_lines:,} lines), "
            f"{format_money(self.selected_total)}?</b>"
        )
        self.confirm_box.layout.display = "flex"

    def _hide_confirmation(self) -> None:
        if hasattr(self, "confirm_box"):
            self.confirm_box.layout.display = "none"

    def commit(self) -> _api.ReceiptView | None:
        """Commit the batch; show the receipt or the refusal."""
        self._hide_confirmation()
        if self.batch is None:
            self._say("Nothing to commit: fix the criteria first.", error=True)
            return None
        if self.reason_error:
            self._say(self.reason_error, error=True)
            return None
        try:
            receipt = _api.commit(
                self.ledger, self.batch, user=self.user,
                approver=self.approver_box.value.strip() or None,
                receipts_dir=self.receipts_dir, config=self.config,
            )
        except WriteoffError as exc:
            self._say(str(exc), error=True)
            return None
        self.receipt = receipt
        files = list(receipt.files)
        try:
            report = _api.receipt_report(
                self.ledger, receipt.receipt_no, self.reports_dir / f"{receipt.receipt_no}.html"
            )
        except WriteoffError:
            report = None  # the receipt stands; its report can be made again from history
        if report is not None:
            files.append(report)
        links = " · ".join(summary.link(p) for p in files)
        self._say(
            f"Receipt <b class='wo-receipt-no'>{receipt.receipt_no}</b>: {receipt.line_count:,} "
            f"lines, {format_money(receipt.total)} written off. Files: {links}", raw=True,
        )
        self.approve_btn.disabled = True
        self.new_btn.layout.display = "block"
        return receipt

    def new_write_off(self) -> None:
        """Start again: search anew (the committed lines are gone) with everything ticked."""
        self.receipt = None
        self.new_btn.layout.display = "none"
        self.message = ""
        self.refresh()

    @t.observe("message")
    def _on_message(self, change: dict[str, Any]) -> None:
        self.message_box.value = change["new"]

    def _say(self, text: str, *, error: bool = False, raw: bool = False) -> None:
        body = text if raw else html.escape(text)
        self.message = f'<div class="{"wo-error" if error else "wo-ok"}">{body}</div>'
