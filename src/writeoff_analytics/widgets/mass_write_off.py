"""The mass write-off screen: criteria, live totals and a tickable grid, then approve and commit.

Thin by design (STYLE.md, "Reports and widgets"): the state lives in traitlets, and each
handler calls one function of :mod:`._api`, which calls one public function of the package,
and shows the result or the :class:`~writeoff_analytics.errors.WriteoffError` message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import html
import os
import re
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import ipywidgets as w
import polars as pl
import traitlets as t

from writeoff_analytics.aging import amount_by_aging
from writeoff_analytics.candidates import GROUP_SCHEMA, Candidates, group_lines
from writeoff_analytics.criteria.model import (
    FINANCIAL_CLASSES,
    BalanceType,
    Criteria,
    Responsibility,
    Role,
    WriteOffBy,
)
from writeoff_analytics.criteria.presets import Preset, load_presets
from writeoff_analytics.errors import BatchError, WriteoffError
from writeoff_analytics.money import PL_MONEY, ZERO, format_money, parse_money
from writeoff_analytics.reasons import Reason
from writeoff_analytics.widgets import _api
from writeoff_analytics.widgets.grid import GroupGrid, style_tag

if TYPE_CHECKING:
    from writeoff_analytics.writeoffs.permissions import Config

#: Words for one group at each level (singular, plural).
LEVEL_WORDS = {
    WriteOffBy.GUARANTOR: ("guarantor", "guarantors"),
    WriteOffBy.PATIENT: ("patient", "patients"),
    WriteOffBy.ENCOUNTER: ("encounter", "encounters"),
    WriteOffBy.PROCEDURE_LINE: ("line", "lines"),
}

_RESPONSIBILITY_LABELS = {
    Responsibility.NOT_RESPONSIBLE: "Not responsible only",
    Responsibility.SELF_PAY: "Self pay only",
    Responsibility.AFTER_INSURANCE: "After insurance (all)",
    Responsibility.AFTER_INSURANCE_PATIENT_RESPONSIBLE: "After insurance, patient responsible",
}
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
    error = t.Unicode("")
    amounts = t.Dict()
    selected_groups = t.Int(0)
    selected_lines = t.Int(0)
    selected_total = t.Instance(Decimal, args=("0.00",))
    total = t.Instance(Decimal, args=("0.00",))
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
        self.user = user or getpass.getuser()
        self.receipts_dir = Path(receipts_dir)
        self.reports_dir = Path(reports_dir)
        self.config = config if config is not None else _api.default_config(self.user)
        self.presets: dict[str, Preset] = load_presets(presets_file)
        self._filling = False
        self._credits: tuple[tuple[int, str], pl.DataFrame] | None = None
        self._build_criteria_panel()
        self._build_results_panel()
        self._build_commit_panel()
        super().__init__(
            [style_tag(), self.criteria_panel, self.results_panel, self.commit_panel],
            layout=w.Layout(width="100%"),
        )
        self.add_class("wo-mass-write-off")
        self._filling = True
        self.fields["as_of"].value = _widget_value("as_of", as_of)
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
        payers = self.ledger.frame("payers").sort("payer_id")
        short = {"layout": w.Layout(width="150px")}
        f: dict[str, w.ValueWidget] = {
            "balance_type": w.ToggleButtons(
                options=[("Patient", "PATIENT"), ("Insurance", "INSURANCE")],
                description="Balance type", style={"button_width": "90px"},
            ),
            "write_off_by": w.Dropdown(
                options=[(v[0].capitalize(), k.value) for k, v in LEVEL_WORDS.items()],
                value="ENCOUNTER", description="Write off by",
            ),
            "responsibility": w.Dropdown(
                options=[("All", "")] + [(v, k.value) for k, v in _RESPONSIBILITY_LABELS.items()],
                description="Responsibility", style=_WIDE,
            ),
            "role": w.Dropdown(options=[r.value.capitalize() for r in Role], description="Role"),
            "payer_ids": w.SelectMultiple(
                options=[(f"{r['payer_id']}  {r['payer_name'] or ''}", r["payer_id"])
                         for r in payers.to_dicts()],
                rows=4, description="Payers", layout=w.Layout(width="420px"),
            ),
            "financial_classes": w.SelectMultiple(
                options=sorted(FINANCIAL_CLASSES), rows=4, description="Fin. class"
            ),
            "dos_from": w.DatePicker(description="DOS from"),
            "dos_to": w.DatePicker(description="to"),
            "min_age_days": w.Text(description="Age ≥ days", **_TEXT, **short),
            "max_age_days": w.Text(description="Age ≤ days", **_TEXT, **short),
            "min_balance": w.Text(description="Balance ≥", **_TEXT, **short),
            "max_balance": w.Text(description="Balance ≤", **_TEXT, **short),
            "min_days_since_patient_payment": w.Text(
                description="No patient payment in", placeholder="days", style=_WIDE, **_TEXT,
                layout=w.Layout(width="220px"),
            ),
            "patient_ids": w.Text(description="Patient", placeholder="id(s)", **_TEXT),
            "encounter_ids": w.Text(description="Encounter", placeholder="id(s)", **_TEXT),
            "deceased": w.Checkbox(description="Deceased", indent=False),
            "financial_hardship": w.Checkbox(description="Hardship", indent=False),
            "as_of": w.DatePicker(description="As of"),
        }
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
        self.grid = GroupGrid()
        self.grid.observe(self._on_ticks, "deselected")
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
        self.reason_box.observe(self._on_reason, "value")
        self.adjustment_box = w.Text(description="Adj. code", placeholder="WO-NBB")
        self.claim_status_box = w.Dropdown(options=list(_CLAIM_STATUSES),
                                           description="Claim status", style=_WIDE)
        self.note_box = w.Text(description="Note", layout=w.Layout(width="640px"))
        self.determination_box = w.Text(description="Determination ref.", style=_WIDE,
                                        placeholder="hardship only", disabled=True)
        limit = _api.approval_limit(self.config)
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
        v = {name: box.value for name, box in self.fields.items()}
        insurance = v["balance_type"] == BalanceType.INSURANCE.value
        v["responsibility"] = None if insurance or not v["responsibility"] else v["responsibility"]
        v["role"] = v["role"].upper() if insurance else Role.ALL.value
        for name in ("patient_ids", "encounter_ids"):
            v[name] = [s for s in re.split(r"[\s,;]+", v[name]) if s]
        for name in ("payer_ids", "financial_classes"):
            v[name] = list(v[name])
        v["preset"] = self.preset_box.value or None
        return v

    def set_fields(self, **values: Any) -> None:
        """Set several criteria fields at once, then search once (what a preset does)."""
        self._filling = True
        try:
            for name, value in values.items():
                self.fields[name].value = _widget_value(name, value)
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
        self.fields[name].value = _widget_value(name, value)
        return time.perf_counter() - start

    def apply_preset(self, name: str) -> None:
        """Fill the fields from preset ``name`` and its reason, then search."""
        self.preset_box.value = name  # handled by _on_preset

    def _fill(self, criteria: Criteria) -> None:
        data = {f.name: getattr(criteria, f.name) for f in dataclasses.fields(criteria)}
        for name, box in self.fields.items():
            value = data[name]
            if name in ("patient_ids", "encounter_ids", "as_of") and value is None:
                continue  # a patient's view keeps its filter; presets leave the aging date
            box.value = _widget_value(name, value)

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
            self._recount()
            return False
        self.error = ""
        self.criteria = criteria
        self.amounts = {}
        self.candidates = found
        self.grid.set_groups(found.groups, self._level_words()[0].capitalize())
        self.show_group("")
        self.show_credits(self.credits_btn.value)
        self._recount()
        return True

    @t.observe("error")
    def _on_error(self, change: dict[str, Any]) -> None:
        self.error_box.value = (
            f'<div class="wo-error">{html.escape(change["new"])}</div>' if change["new"] else ""
        )

    # -- selection -----------------------------------------------------------------------

    @property
    def deselected(self) -> frozenset[str]:
        """The group keys unticked in the grid."""
        return frozenset(self.grid.deselected)

    def _on_ticks(self, change: dict[str, Any]) -> None:
        self._hide_confirmation()
        self._recount()

    def _on_focus(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.group_box.value = change["new"]

    def selected_lines_frame(self) -> pl.DataFrame:
        """The ticked lines, with ``writeoff_amount`` as lowered by the user."""
        if self.candidates is None:
            return pl.DataFrame()
        lines = self.candidates.lines
        if self.deselected:
            lines = lines.filter(~pl.col("group_key").is_in(pl.Series(sorted(self.deselected))))
        if self.amounts:
            new = pl.DataFrame(
                {"charge_id": list(self.amounts), "new_amount": list(self.amounts.values())},
                schema={"charge_id": pl.String, "new_amount": PL_MONEY},
            )
            lines = (lines.join(new, on="charge_id", how="left", maintain_order="left")
                     .with_columns(writeoff_amount=pl.coalesce("new_amount", "writeoff_amount"))
                     .drop("new_amount"))
        return lines

    def _recount(self) -> None:
        found = self.candidates
        lines = self.selected_lines_frame()
        if found is None:
            self.selected_groups = self.selected_lines = 0
            self.selected_total = self.total = ZERO
            self.totals_box.value = "No search yet: fix the criteria above."
            self.breakdown_box.value = ""
            self._update_approve()
            return
        self.total = found.total
        self.selected_lines = lines.height
        self.selected_groups = found.group_count - len(self.deselected)
        self.selected_total = _sum(lines, "writeoff_amount")
        one, many = self._level_words()
        self.totals_box.value = (
            f"{self.selected_groups:,} {one if self.selected_groups == 1 else many} · "
            f"{self.selected_lines:,} line{'' if self.selected_lines == 1 else 's'} · "
            f"{format_money(self.selected_total)} selected of "
            f"{format_money(self.total)}"
        )
        self.breakdown_box.value = _breakdown_html(lines)
        if self.amounts:
            edited = lines.filter(pl.col("group_key").is_in(
                self.candidates_lines_of(list(self.amounts)).get_column("group_key").unique()
                .implode()))
            sums = edited.group_by("group_key").agg(pl.col("writeoff_amount").sum())
            self.grid.set_writeoff_totals({r[0]: r[1] for r in sums.iter_rows()})
        else:
            self.grid.set_writeoff_totals({})
        self._update_approve()

    def candidates_lines_of(self, charge_ids: list[str]) -> pl.DataFrame:
        """The candidate lines of the given charges."""
        if self.candidates is None:
            return pl.DataFrame()
        return self.candidates.lines.filter(pl.col("charge_id").is_in(charge_ids))

    def _level_words(self) -> tuple[str, str]:
        level = self.criteria.write_off_by if self.criteria else WriteOffBy.ENCOUNTER
        return LEVEL_WORDS[level]

    # -- lines and amounts ---------------------------------------------------------------

    def show_group(self, key: str) -> None:
        """Show the lines of group ``key`` and offer them for amount editing."""
        if self.group_box.value != key:
            self.group_box.value = key  # observer calls back here
            return
        if not key or self.candidates is None:
            self.lines_box.value = ""
            self.line_pick.options = []
            return
        lines = self.selected_lines_frame() if key not in self.deselected else None
        group = self.candidates.lines.filter(pl.col("group_key") == key)
        if group.is_empty():
            self.lines_box.value = (
                f'<span class="wo-error">{html.escape(key)} is not among the results.</span>'
            )
            self.line_pick.options = []
            return
        amounts = {} if lines is None else dict(
            lines.filter(pl.col("group_key") == key).select("charge_id", "writeoff_amount")
            .iter_rows())
        rows = "".join(
            f"<tr><td>{html.escape(r['charge_id'])}</td><td>{r['date_of_service']}</td>"
            f"<td>{html.escape(r['procedure_code'] or '')}</td>"
            f"<td>{html.escape(r['payer_id'] or '')}</td><td>{r['financial_class']}</td>"
            f"<td align=right>{format_money(r['balance'])}</td><td align=right>"
            f"{format_money(amounts[r['charge_id']]) if r['charge_id'] in amounts else '-'}"
            "</td></tr>"
            for r in group.to_dicts()
        )
        self.lines_box.value = (
            "<table class='wo-lines'><tr><th>Charge</th><th>DOS</th><th>Procedure</th>"
            "<th>Payer</th><th>Class</th><th>Balance</th><th>Write off</th></tr>"
            f"{rows}</table>"
        )
        self.line_pick.options = list(group.get_column("charge_id"))
        self.line_pick.value = self.line_pick.options[0]

    def show_credits(self, open_list: bool = True) -> pl.DataFrame | None:
        """Count the credit balances of this balance type (never candidates: refund review)."""
        key = (self.ledger.generation(), self.fields["balance_type"].value)
        if self._credits is None or self._credits[0] != key:  # criteria do not change credits
            try:
                self._credits = (key, _api.credit_balances(self.ledger, key[1]))
            except WriteoffError as exc:
                self.credits_box.value = f'<span class="wo-error">{html.escape(str(exc))}</span>'
                return None
        credits = self._credits[1]
        n = credits.height
        self.credits_box.value = (
            f"<i>Credit balances are never written off: {n:,} line{'' if n == 1 else 's'}, "
            f"{format_money(_sum(credits, 'balance'))}, await refund review.</i>"
        )
        cols = [c for c in ("charge_id", "encounter_id", "patient_id", "date_of_service",
                            "payer_id", "financial_class", "balance") if c in credits.columns]
        rows = "".join(
            "<tr>" + "".join(
                f"<td align=right>{format_money(r[c])}</td>" if c == "balance"
                else f"<td>{html.escape('' if r[c] is None else str(r[c]))}</td>" for c in cols
            ) + "</tr>"
            for r in credits.head(200).to_dicts()
        )
        head = "".join(f"<th>{c.replace('_', ' ').capitalize()}</th>" for c in cols)
        self.credits_list.value = (
            "<div style='max-height:220px; overflow:auto'><table class='wo-lines'>"
            f"<tr>{head}</tr>{rows}</table></div>" if open_list and n else ""
        )
        return credits

    def set_amount(self, charge_id: str, amount: str | Decimal) -> bool:
        """Lower the write-off amount of one candidate line (ticks its group)."""
        try:
            if self.candidates is None or self.candidates_lines_of([charge_id]).is_empty():
                msg = f"line {charge_id!r} is not among the results; pick one of the group."
                raise BatchError(msg, charge_ids=[charge_id])
            value = _parse_amount(amount)
            _api.check_amount(self.candidates, charge_id, value)
        except WriteoffError as exc:
            self._say(str(exc), error=True)
            return False
        self.amounts = {**self.amounts, charge_id: value}
        key = self.candidates_lines_of([charge_id]).get_column("group_key")[0]
        if key in self.deselected:
            self.grid.set_ticked([key], True)  # recounts
        else:
            self._recount()
        self.show_group(self.group_box.value)
        self._say(f"{charge_id}: write off {format_money(value)}.")
        return True

    def reset_amounts(self) -> None:
        """Write off every line's whole balance again."""
        self.amounts = {}
        self._recount()
        self.show_group(self.group_box.value)

    # -- export ----------------------------------------------------------------------------

    def selected_candidates(self) -> Candidates | None:
        """The ticked lines (amounts as edited) as a :class:`Candidates`, for exports."""
        if self.candidates is None:
            return None
        lines = self.selected_lines_frame()
        return dataclasses.replace(self.candidates, lines=lines, groups=group_lines(lines))

    def export(self, kind: Literal["csv", "pdf"]) -> Path | None:
        """Export the ticked candidate list as CSV or PDF into ``reports_dir``."""
        chosen = self.selected_candidates()
        if chosen is None:
            self._say("Nothing to export: fix the criteria first.", error=True)
            return None
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        try:
            path = _api.export_candidates(
                self.ledger, chosen, self.reports_dir / f"candidates-{stamp}.{kind}", kind
            )
        except WriteoffError as exc:
            self._say(str(exc), error=True)
            return None
        self._say(f"Exported {chosen.line_count:,} lines: {_link(path)}", raw=True)
        return path

    # -- commit ------------------------------------------------------------------------------

    def _on_reason(self, change: dict[str, Any]) -> None:
        reason = Reason(change["new"])
        self.custom_reason_box.disabled = reason is not Reason.CUSTOM
        self.determination_box.disabled = not reason.needs_determination_reference

    def _update_approve(self) -> None:
        one, many = self._level_words()
        n = self.selected_groups
        self.approve_btn.description = (
            f"Write off {n:,} {one if n == 1 else many}, {format_money(self.selected_total)}"
        )
        self.approve_btn.disabled = self.candidates is None or self.selected_lines == 0
        limit = _api.approval_limit(self.config)
        if limit is not None:
            needed = self.selected_total > limit
            self.approver_box.placeholder = (
                f"required: over {format_money(limit)}" if needed
                else f"not needed up to {format_money(limit)}"
            )

    def ask_confirmation(self) -> None:
        """Show the confirmation step with the count and the total."""
        if self.candidates is None or self.selected_lines == 0:
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
        """Commit the ticked lines as one batch; show the receipt or the refusal."""
        self._hide_confirmation()
        if self.candidates is None:
            self._say("Nothing to commit: fix the criteria first.", error=True)
            return None
        reason = Reason(self.reason_box.value)
        text = self.custom_reason_box.value.strip() if reason is Reason.CUSTOM else None
        ticked = set(self.selected_lines_frame().get_column("charge_id"))
        amounts = {c: a for c, a in self.amounts.items() if c in ticked}  # unticked: not sent
        try:
            receipt = _api.commit(
                self.ledger, self.candidates, excluded=self.deselected, amounts=amounts,
                reason=reason, reason_text=text or None,
                fields={
                    "adjustment_code": self.adjustment_box.value.strip() or None,
                    "claim_status": self.claim_status_box.value or None,
                    "note": self.note_box.value.strip() or None,
                    "determination_reference": self.determination_box.value.strip() or None,
                },
                user=self.user, approver=self.approver_box.value.strip() or None,
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
        links = " · ".join(_link(p) for p in files)
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


def _widget_value(name: str, value: Any) -> Any:
    if name in ("payer_ids", "financial_classes"):
        return tuple(sorted(value or ()))
    if name in ("patient_ids", "encounter_ids"):
        return ", ".join(sorted(value or ()))
    if name in ("deceased", "financial_hardship"):
        return bool(value)
    if name in ("dos_from", "dos_to", "as_of"):
        return value if value is None or isinstance(value, dt.date) else dt.date.fromisoformat(value)
    if name == "responsibility":
        return str(value) if value else ""
    if name == "role":
        return (str(value) if value else Role.ALL.value).capitalize()
    if name in ("balance_type", "write_off_by"):
        return str(value)
    return "" if value is None else str(value)


def _parse_amount(text: str | Decimal) -> Decimal:
    try:
        return parse_money(text if isinstance(text, Decimal) else str(text).strip())
    except (TypeError, ValueError) as exc:
        msg = f"amount {text!r}: {exc}."
        raise BatchError(msg) from None


def _sum(frame: pl.DataFrame, column: str) -> Decimal:
    if frame.is_empty():
        return ZERO
    return Decimal(frame.get_column(column).sum()).quantize(ZERO)


def _breakdown_html(lines: pl.DataFrame) -> str:
    if lines.is_empty():
        return ""
    by_class = (lines.group_by("financial_class").agg(pl.col("writeoff_amount").sum().alias("s"))
                .sort("s", "financial_class", descending=[True, False]))
    return (
        "<div style='display:flex; gap:48px; align-items:flex-start'>"
        + _bars("By financial class", [(r[0], r[1]) for r in by_class.iter_rows()])
        + _bars("By age (days)", amount_by_aging(lines))
        + "</div>"
    )


def _bars(title: str, items: list[tuple[str, Decimal]]) -> str:
    top = max((v for _, v in items), default=ZERO)
    rows = []
    for label, value in items:
        width = int(value * 120 / top) if top > 0 else 0
        rows.append(
            f"<tr><td>{html.escape(label)}</td><td align=right>{format_money(value)}</td>"
            f"<td><span class='wo-bar' style='width:{width}px'></span></td></tr>"
        )
    return (f"<table class='wo-breakdown'><tr><th colspan=3 align=left>{title}</th></tr>"
            f"{''.join(rows)}</table>")


def _link(path: Path) -> str:
    """A link to a file, relative to the kernel's folder (the notebook's), as JupyterLab opens it."""
    try:
        target = os.path.relpath(path, Path.cwd())
    except ValueError:
        target = str(path)
    return f'<a href="{html.escape(target)}" target="_blank">{html.escape(path.name)}</a>'
