"""The history of write-offs: search receipts by number or date, open one, reverse it.

Each button calls one function of :mod:`._api` and shows the result or the
:class:`~writeoff_analytics.errors.WriteoffError` message.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import polars as pl
import traitlets as t

from writeoff_analytics.errors import WriteoffError
from writeoff_analytics.money import format_money
from writeoff_analytics.widgets import _api
from writeoff_analytics.widgets.grid import style_tag

if TYPE_CHECKING:
    from writeoff_analytics.writeoffs.permissions import Config

_COLUMNS = (
    ("receipt_no", "Receipt"), ("created_at", "Date"), ("preparer", "Preparer"),
    ("approver", "Approver"), ("reason_text", "Reason"), ("line_count", "Lines"),
    ("total_amount", "Total"), ("reversal_of", "Reversal of"),
)


_LINE_COLUMNS = (
    ("line_no", "#"), ("charge_id", "Charge"), ("encounter_id", "Encounter"),
    ("group_key", "Group"), ("bucket", "Bucket"), ("payer_id", "Payer"), ("amount", "Amount"),
    ("reversed_by", "Reversed by"),
)


class HistoryBrowser(w.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """Search committed receipts, open one, and reverse it whole or by line.

    Parameters
    ----------
    ledger
        The store holding the receipts.
    user
        Who reverses (default: the login name).
    receipts_dir
        Where receipts are written.
    config
        The writeoff configuration (permissions); default: ``./writeoff.toml`` if present,
        else everything open to ``user``.
    """

    results = t.Instance(pl.DataFrame, allow_none=True)
    opened = t.Unicode(None, allow_none=True)
    lines = t.Instance(pl.DataFrame, allow_none=True)
    reversal = t.Instance(_api.ReceiptView, allow_none=True)
    message = t.Unicode("")

    def __init__(
        self,
        ledger: Any,
        *,
        user: str | None = None,
        receipts_dir: str | os.PathLike[str] = Path("data") / "receipts",
        config: Config | None = None,
    ) -> None:
        self.ledger = ledger
        self.user = user or _api.current_user()
        self.receipts_dir = Path(receipts_dir)
        self.config = config if config is not None else _api.default_config(self.user)
        self.receipt_box = w.Text(description="Receipt #", placeholder="WO-000001")
        self.from_box = w.DatePicker(description="Date from")
        self.to_box = w.DatePicker(description="to")
        self.search_btn = w.Button(description="Search", icon="search")
        self.search_btn.on_click(lambda _: self.search())
        self.table = w.HTML()
        self.pick = w.Select(options=[], rows=6, description="Receipts")
        self.open_btn = w.Button(description="Open")
        self.open_btn.on_click(lambda _: self.open_receipt(self.pick.value or ""))
        self.lines_table = w.HTML()
        self.line_pick = w.SelectMultiple(options=[], rows=8, description="Lines",
                                          layout=w.Layout(width="420px"))
        self.reason_box = w.Text(description="Reason", placeholder="why reverse (required)",
                                 layout=w.Layout(width="420px"))
        self.reverse_all_btn = w.Button(description="Reverse whole", button_style="warning")
        self.reverse_lines_btn = w.Button(description="Reverse selected lines",
                                          button_style="warning", layout=w.Layout(width="auto"))
        self.reverse_all_btn.on_click(lambda _: self.reverse())
        self.reverse_lines_btn.on_click(lambda _: self.reverse(list(self.line_pick.value)))
        self.message_box = w.HTML()
        self.table.add_class("wo-history-table")
        self.pick.add_class("wo-history-pick")
        self.line_pick.add_class("wo-history-lines")
        self.reason_box.add_class("wo-history-reason")
        super().__init__([
            style_tag(),
            w.HTML("<b>Write-off history</b>"),
            w.HBox([self.receipt_box, self.from_box, self.to_box, self.search_btn]),
            self.table,
            w.HBox([self.pick, self.open_btn]),
            w.HBox([
                self.lines_table,
                w.VBox([self.line_pick, self.reason_box,
                        w.HBox([self.reverse_all_btn, self.reverse_lines_btn]),
                        self.message_box]),
            ]),
        ])
        self.add_class("wo-history")

    def search(self) -> pl.DataFrame | None:
        """Receipts matching the number and the dates (all of them when both are blank)."""
        try:
            found = _api.search_history(
                self.ledger, receipt_no=self.receipt_box.value.strip() or None,
                date_from=self.from_box.value, date_to=self.to_box.value,
                user=self.user, config=self.config,
            )
        except WriteoffError as exc:
            self._say(str(exc), error=True)
            return None
        self.results = found
        self.table.value = _table(found, _COLUMNS)
        self.pick.options = list(found.get_column("receipt_no"))
        self._say(f"{found.height:,} receipt(s).")
        return found

    def open_receipt(self, receipt_no: str) -> pl.DataFrame | None:
        """Show the lines of one receipt."""
        try:
            lines = _api.receipt_lines(self.ledger, receipt_no, user=self.user,
                                       config=self.config)
        except WriteoffError as exc:
            self._say(str(exc), error=True)
            return None
        self.opened, self.lines = receipt_no, lines
        cols = tuple((c, label) for c, label in _LINE_COLUMNS if c in lines.columns)
        self.lines_table.value = f"<b>{html.escape(receipt_no)}</b>" + _table(lines, cols)
        open_lines = (lines.filter(pl.col("reversed_by").is_null())
                      if "reversed_by" in lines.columns else lines)
        self.line_pick.options = list(open_lines.get_column("charge_id"))  # not reversed yet
        self._say("")
        return lines

    def reverse(self, charge_ids: list[str] | None = None) -> _api.ReceiptView | None:
        """Reverse the opened receipt whole (``None``) or only the given lines."""
        if not self.opened:
            self._say("Open a receipt first.", error=True)
            return None
        if charge_ids is not None and not charge_ids:
            self._say("Select the lines to reverse first.", error=True)
            return None
        try:
            receipt = _api.reverse(
                self.ledger, self.opened, charge_ids=charge_ids,
                reason=self.reason_box.value.strip(), user=self.user,
                receipts_dir=self.receipts_dir, config=self.config,
            )
        except WriteoffError as exc:
            self._say(str(exc), error=True)
            return None
        self.reversal = receipt
        opened = self.opened
        self.search()  # the new receipt joins the list; the lines show who reversed them
        self.open_receipt(opened)
        self._say(
            f"Reversal {receipt.receipt_no}: {receipt.line_count:,} "
            f"line{'' if receipt.line_count == 1 else 's'}, {format_money(receipt.total)}."
        )
        return receipt

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message = text
        cls = "wo-error" if error else "wo-ok"
        self.message_box.value = f'<div class="{cls}">{html.escape(text)}</div>' if text else ""


def _table(frame: pl.DataFrame, columns: tuple[tuple[str, str], ...]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in columns)
    body = []
    for row in frame.head(500).to_dicts():
        cells = []
        for name, _ in columns:
            value = row.get(name)
            if frame.schema.get(name) == pl.Decimal(18, 2) and value is not None:
                cells.append(f"<td align=right>{format_money(value)}</td>")
            elif isinstance(value, dt.datetime):
                cells.append(f"<td>{value:%Y-%m-%d %H:%M}</td>")
            else:
                cells.append(f"<td>{html.escape('' if value is None else str(value))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    more = f"<i>first 500 of {frame.height:,}</i>" if frame.height > 500 else ""
    return (
        "<div style='max-height:280px; max-width:760px; overflow:auto'><table class='wo-lines'>"
        f"<tr>{head}</tr>{''.join(body)}</table></div>{more}"
    )
