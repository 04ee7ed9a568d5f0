"""A progress bar for loading an extract (anything that takes more than a second)."""

from __future__ import annotations

import html
import os
import time
from typing import Any

import ipywidgets as w
import traitlets as t

from writeoff_analytics.errors import WriteoffError
from writeoff_analytics.widgets import _api
from writeoff_analytics.widgets.grid import style_tag


class LoadProgress(w.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """Load an extract into a store while showing its stages and a bar.

    Parameters
    ----------
    ledger
        The store to load into.

    Examples
    --------
    >>> from writeoff_analytics import Ledger
    >>> progress = LoadProgress(Ledger(":memory:"))  # show it first: display(progress)
    >>> _ = progress.load("data/demo")
    >>> progress.bar.value, progress.stages[-1]
    (1.0, 'done')
    """

    stage = t.Unicode("")
    fraction = t.Float(0.0)
    error = t.Unicode("")
    report = t.Any(None)

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self.bar = w.FloatProgress(min=0.0, max=1.0, description="Load",
                                   layout=w.Layout(width="420px"))
        self.label = w.HTML()
        self.stages: list[str] = []
        super().__init__([style_tag(), w.HBox([self.bar, self.label])])

    def _progress(self, stage: str, fraction: float) -> None:
        self.stage, self.fraction = stage, fraction
        self.stages.append(stage)
        self.bar.value = fraction
        self.label.value = html.escape(stage)

    def load(self, path: str | os.PathLike[str]) -> Any:
        """Load the extract at ``path`` (``load_extract``); show the result or the error."""
        started = time.monotonic()
        self.error = ""
        try:
            self.report = _api.load(self.ledger, path, self._progress)
        except WriteoffError as exc:
            self.error = str(exc)
            self.bar.bar_style = "danger"
            self.label.value = f'<span class="wo-error">{html.escape(self.error)}</span>'
            return None
        self.bar.value = 1.0
        self.bar.bar_style = "success"
        rows = sum(self.report.row_counts.values())
        rejected = self.report.rejected_rows
        self.label.value = (
            f'<span class="wo-ok">Loaded {html.escape(str(path))}: {rows:,} rows'
            f"{f', {rejected:,} rejected (see the rejects file)' if rejected else ''} in "
            f"{time.monotonic() - started:.1f} s</span>"
        )
        return self.report
