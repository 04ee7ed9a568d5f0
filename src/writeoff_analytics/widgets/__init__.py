"""The JupyterLab front end: ipywidgets over the package's public functions.

Widget libraries are imported here and nowhere else in the package (STYLE.md).
"""

from __future__ import annotations

from writeoff_analytics.widgets.history import HistoryBrowser
from writeoff_analytics.widgets.mass_write_off import MassWriteOff
from writeoff_analytics.widgets.progress import LoadProgress

__all__ = ["HistoryBrowser", "LoadProgress", "MassWriteOff"]
