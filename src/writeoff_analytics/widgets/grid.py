"""A server-side paged grid of candidate groups, with a tick per group.

The browser only ever holds one page (``page_size`` rows, rendered in one ``Select``), so
100,000 groups cost what 20 do; sorting, searching and paging run in Polars in the kernel.
The ticks are the grid's ``batch`` (:class:`~writeoff_analytics.writeoffs.batches.Batch`):
a group is ticked while it has a selected line, and ticking makes a new batch
(``Batch.include_groups`` / ``exclude_groups``). Clicking a row ticks or unticks it and makes
it the ``focus`` (whose lines the screen shows).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import ipywidgets as w
import polars as pl
import traitlets as t

from writeoff_analytics.candidates import GROUP_SCHEMA
from writeoff_analytics.money import format_money
from writeoff_analytics.widgets import _api
from writeoff_analytics.writeoffs.batches import Batch

#: Sortable columns and their labels.
SORTS = {
    "group_key": "Group",
    "patient_id": "Patient",
    "first_date_of_service": "First DOS",
    "max_age_days": "Age (days)",
    "line_count": "Lines",
    "balance_total": "Balance",
}

_STYLE = """<style>
.wo-grid select, .wo-grid-head { font-family: var(--jp-code-font-family, monospace) !important;
  font-size: 12px !important; }
.wo-grid select { width: 100%; }
.wo-grid-head { white-space: pre; margin: 0 0 0 4px; font-weight: 600; }
.wo-error { color: #b00020; font-weight: 600; }
.wo-ok { color: #1b5e20; font-weight: 600; }
.wo-totals { font-size: 14px; font-weight: 600; }
.wo-lines td, .wo-lines th, .wo-breakdown td, .wo-breakdown th { padding: 1px 10px !important;
  line-height: 1.3; vertical-align: middle; white-space: nowrap; }
.wo-breakdown { margin: 0 !important; }
.wo-bar { display: inline-block; height: 9px; background: #4a7bb7; vertical-align: middle; }
</style>"""


class BatchTrait(t.Instance["Batch | None"]):
    """A trait holding a :class:`Batch` that reports every new object as a change.

    ``Batch`` compares by ``batch_key``, a hash of all its lines: traitlets' ``==`` on each
    assignment would hash 100,000 lines per tick, and a batch equal to the one before (a
    group ticked back) must still redraw.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Batch, **kwargs)

    def set(self, obj: t.HasTraits, value: Any) -> None:
        """Store ``value``; notify unless it is the very object held."""
        name = self.name
        assert name is not None  # set on the class by traitlets
        new = self._validate(obj, value)
        old = obj._trait_values.get(name, self.default_value)
        obj._trait_values[name] = new
        if new is not old:
            obj._notify_trait(name, old, new)


def style_tag() -> w.HTML:
    """The small stylesheet every writeoff widget shares (monospace grid, red errors)."""
    return w.HTML(_STYLE, layout=w.Layout(height="0px", margin="0"))


class GroupGrid(w.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """A page of candidate groups with ticks, search, sort and paging.

    Parameters
    ----------
    level
        What one row is ("Encounter", "Patient", ...), for the header.
    page_size
        Rows per page.
    """

    #: What is ticked: a group with a selected line (the screen links its own ``batch``).
    batch = BatchTrait(allow_none=True)
    focus = t.Unicode(None, allow_none=True)
    page = t.Int(0)
    page_size = t.Int(15)
    sort_by = t.Enum(list(SORTS), "group_key")
    descending = t.Bool(False)
    search = t.Unicode("")
    level = t.Unicode("Group")

    def __init__(self, level: str = "Group", page_size: int = 15, **kwargs: Any) -> None:
        self._groups = pl.DataFrame(schema=GROUP_SCHEMA)
        self._view = self._groups
        self._busy = False
        self.search_box = w.Text(
            placeholder="search group or patient id", continuous_update=False,
            layout=w.Layout(width="220px"),
        )
        self.sort_box = w.Dropdown(
            options=[(v, k) for k, v in SORTS.items()], value="group_key", description="Sort",
            layout=w.Layout(width="190px"),
        )
        self.desc_box = w.ToggleButton(value=False, description="descending", icon="sort",
                                       layout=w.Layout(width="120px"))
        self.all_btn = w.Button(description="Select all", layout=w.Layout(width="100px"))
        self.none_btn = w.Button(description="Select none", layout=w.Layout(width="100px"))
        self.prev_btn = w.Button(icon="chevron-left", layout=w.Layout(width="36px"))
        self.next_btn = w.Button(icon="chevron-right", layout=w.Layout(width="36px"))
        self.page_label = w.Label()
        self.head = w.HTML()
        self.rows = w.Select(options=[], rows=page_size, layout=w.Layout(width="100%"))
        self.rows.add_class("wo-grid")
        super().__init__(
            [
                w.HBox([self.search_box, self.sort_box, self.desc_box, self.all_btn,
                        self.none_btn, self.prev_btn, self.page_label, self.next_btn]),
                self.head,
                self.rows,
            ],
            **kwargs,
        )
        self.level = level
        self.page_size = page_size
        self.search_box.observe(lambda c: setattr(self, "search", c["new"]), "value")
        self.sort_box.observe(lambda c: setattr(self, "sort_by", c["new"]), "value")
        self.desc_box.observe(lambda c: setattr(self, "descending", c["new"]), "value")
        self.all_btn.on_click(lambda _: self.select_all())
        self.none_btn.on_click(lambda _: self.select_none())
        self.prev_btn.on_click(lambda _: self.turn(-1))
        self.next_btn.on_click(lambda _: self.turn(1))
        self.rows.observe(self._on_row, "index")

    # -- data --------------------------------------------------------------------------

    def set_groups(self, groups: pl.DataFrame, level: str) -> None:
        """Show new groups (first page); their ticks come from ``batch``."""
        self._groups = groups
        self.level = level
        self.focus = None
        self._rebuild_view(page=0)

    @property
    def deselected(self) -> frozenset[str]:
        """The group keys unticked (``Batch.excluded_groups``)."""
        return frozenset() if self.batch is None else self.batch.excluded_groups

    @property
    def view_keys(self) -> list[str]:
        """The group keys the search keeps, in the current order."""
        return list(self._view.get_column("group_key"))

    @property
    def page_count(self) -> int:
        """How many pages the current view has (at least 1)."""
        return max(1, -(-self._view.height // self.page_size))

    # -- actions -------------------------------------------------------------------------

    def toggle(self, key: str) -> None:
        """Tick an unticked group or untick a ticked one."""
        self.set_ticked([key], key in self.deselected)

    def set_ticked(self, keys: Iterable[str], ticked: bool) -> None:
        """Tick (or untick) the given groups: a new ``batch``."""
        keys = frozenset(keys)
        if self.batch is not None and keys:
            self.batch = _api.tick_groups(self.batch, keys, ticked)

    def select_all(self) -> None:
        """Tick every group the search shows (all groups without a search)."""
        self.set_ticked(self.view_keys if self.search else self.deselected, True)

    def select_none(self) -> None:
        """Untick every group the search shows (all groups without a search)."""
        keys = self.view_keys if self.search else self._groups.get_column("group_key")
        self.set_ticked(keys, False)

    def turn(self, step: int) -> None:
        """Go ``step`` pages forward (or back), within the pages there are."""
        self.page = min(max(0, self.page + step), self.page_count - 1)

    # -- rendering -----------------------------------------------------------------------

    @t.observe("search", "sort_by", "descending")
    def _on_view_change(self, change: dict[str, Any]) -> None:
        for box, name in ((self.search_box, "search"), (self.sort_box, "sort_by"),
                          (self.desc_box, "descending")):
            if box.value != getattr(self, name):
                box.value = getattr(self, name)
        self._rebuild_view(page=0)

    @t.observe("page", "batch", "page_size")
    def _on_page_change(self, change: dict[str, Any]) -> None:
        self.render()

    def _rebuild_view(self, page: int) -> None:
        view = self._groups
        needle = self.search.strip()
        if needle:
            view = view.filter(
                pl.col("group_key").str.contains(needle, literal=True)
                | pl.col("patient_id").fill_null("").str.contains(needle, literal=True)
            )
        self._view = view.sort(self.sort_by, "group_key", descending=[self.descending, False],
                               nulls_last=True)
        if self.page != page:
            self.page = page  # renders
        else:
            self.render()

    def render(self) -> None:
        """Draw the current page."""
        start = self.page * self.page_size
        rows = self._view.slice(start, self.page_size).to_dicts()
        writeoff = {} if self.batch is None else self.batch.group_totals(r["group_key"] for r in rows)
        width = max([len(self.level), *(len(r["group_key"]) for r in rows)])
        self.head.value = (
            '<div class="wo-grid-head">'
            + html.escape(_line("Tick", self.level, "Patient", "First DOS", "Age", "Lines", "Balance",
                    "Write off", width))
            + "</div>"
        )
        options = []
        for r in rows:
            key = r["group_key"]
            options.append((
                _line("[x]" if key in writeoff else "[ ]", key, r["patient_id"] or "(several)",
                      str(r["first_date_of_service"]), str(r["max_age_days"]),
                      str(r["line_count"]), format_money(r["balance_total"]),
                      format_money(writeoff[key]) if key in writeoff else "-", width),
                key,
            ))
        self._busy = True
        try:
            self.rows.index = None
            self.rows.options = options
            self.rows.rows = max(3, len(options))
        finally:
            self._busy = False
        shown = self._view.height
        first = 0 if shown == 0 else start + 1
        self.page_label.value = (
            f"{first:,}-{min(start + self.page_size, shown):,} of {shown:,}  "
            f"(page {self.page + 1:,}/{self.page_count:,})"
        )

    def _on_row(self, change: dict[str, Any]) -> None:
        if self._busy or change["new"] is None:
            return
        key = self.rows.options[change["new"]][1]
        self.focus = key
        self.toggle(key)  # re-renders, which clears the browser's selection


def _line(tick: str, key: str, patient: str, dos: str, age: str, lines: str, balance: str,
          writeoff: str, width: int) -> str:
    return (f"{tick:<4} {key:<{width}}  {patient:<10} {dos:<10} {age:>5} {lines:>5} "
            f"{balance:>14} {writeoff:>14}")
