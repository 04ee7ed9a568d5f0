"""A report with its exports: :class:`Report` writes HTML, PDF, CSV and Excel.

The content is :class:`~writeoff_analytics.reporting.model.ReportContent`; each export
hands it to the one writer of its format: :mod:`~writeoff_analytics.reporting.html`,
:mod:`~writeoff_analytics.reporting.pdf`, :mod:`~writeoff_analytics.export.csv` (one row per
line) and :mod:`~writeoff_analytics.export.xlsx`. Files are written atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from writeoff_analytics._atomic import atomic_write, atomic_write_bytes
from writeoff_analytics.export.csv import write_csv
from writeoff_analytics.export.xlsx import Sheet, xlsx_bytes
from writeoff_analytics.reporting.html import document
from writeoff_analytics.reporting.model import ReportContent
from writeoff_analytics.reporting.pdf import pdf_bytes

if TYPE_CHECKING:
    import os

#: The formats :meth:`Report.save` writes.
FORMATS = ("html", "pdf", "csv", "xlsx")


@dataclass(frozen=True)
class Report(ReportContent):
    """A report: facts at the top, an optional chart, then sections; exportable.

    See :class:`~writeoff_analytics.reporting.model.ReportContent` for the attributes.
    """

    def _repr_html_(self) -> str:
        return document(self, pdf=False)

    def to_html_string(self) -> str:
        """The whole report as one self-contained HTML document."""
        return document(self, pdf=False)

    def to_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the report as a self-contained HTML file; return its path."""
        with atomic_write(path, "w", encoding="utf-8") as fh:
            fh.write(document(self, pdf=False))
        return Path(path)

    def to_pdf(self, path: str | os.PathLike[str]) -> Path:
        """Write the report as an A4 landscape PDF with page numbers and repeated headers.

        The pages are laid out by WeasyPrint; a long lines section is drawn directly and
        appended (see :mod:`~writeoff_analytics.reporting.pdf`).
        """
        atomic_write_bytes(path, pdf_bytes(self))
        return Path(path)

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write one row per line; money as plain ``1234.50``; text cells formula-safe."""
        write_csv(self.lines, path)
        return Path(path)

    def to_xlsx(self, path: str | os.PathLike[str]) -> Path:
        """Write an Excel workbook: a summary sheet, one sheet per section, and the lines."""
        sheets = [Sheet("Lines" if s.key == "lines" else s.key, s.frame, s.money) for s in self.sections]
        if all(s.key != "lines" for s in self.sections):
            sheets.append(Sheet("Lines", self.lines, self.money))
        atomic_write_bytes(path, xlsx_bytes(self.title, self.facts, self.total, sheets))
        return Path(path)

    def save(self, path: str | os.PathLike[str], fmt: str | None = None) -> Path:
        """Write the report in ``fmt`` (html, pdf, csv, xlsx; default: the path's suffix).

        Raises
        ------
        ValueError
            If the format is not one of :data:`FORMATS`.
        """
        kind = (fmt or Path(path).suffix.lstrip(".")).lower()
        writers = {"html": self.to_html, "pdf": self.to_pdf, "csv": self.to_csv, "xlsx": self.to_xlsx}
        if kind not in writers:
            msg = f"unknown report format {kind!r}; use one of {', '.join(writers)}"
            raise ValueError(msg)
        return writers[kind](path)
