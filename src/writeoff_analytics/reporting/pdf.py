"""The PDF writer: the HTML document laid out by WeasyPrint, long lines drawn directly.

Pages follow :mod:`~writeoff_analytics.reporting.page` (A4 landscape, page numbers
``Page X of N``, table headers repeated on every page). A lines section longer than
:data:`FAST_PDF_LINES` rows is drawn straight into PDF pages by
:mod:`~writeoff_analytics.reporting._pdf_lines` and appended, so a 20,000-line report takes
seconds, not minutes.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from writeoff_analytics.reporting._pdf_lines import draw_rows, page_count
from writeoff_analytics.reporting.html import document, lines_text

if TYPE_CHECKING:
    from writeoff_analytics.reporting.model import ReportContent

#: A lines section longer than this is drawn straight into PDF pages (``_pdf_lines``).
FAST_PDF_LINES = 1000


def pdf_bytes(report: ReportContent) -> bytes:
    """Return the report as PDF bytes."""
    import weasyprint  # imported here: it takes most of a second

    long = next(
        (s for s in report.sections if s.key == "lines" and s.shown_rows > FAST_PDF_LINES), None
    )
    if long is None:
        data = weasyprint.HTML(string=document(report, pdf=True)).write_pdf()
        assert data is not None  # no target given: write_pdf returns the bytes
        return bytes(data)
    from pypdf import PdfReader, PdfWriter

    labels, rows, right = lines_text(long)
    extra = page_count(len(rows) + (1 if long.footer else 0))
    front_pages = len(weasyprint.HTML(string=document(report, pdf=True, skip="lines")).render().pages)
    total = front_pages + extra
    front = weasyprint.HTML(
        string=document(report, pdf=True, skip="lines", total_pages=total)
    ).write_pdf()
    assert front is not None
    back = draw_rows(
        title=report.title, heading=long.title, note=long.note, labels=labels, rows=rows,
        right=right, first_page=front_pages + 1, total_pages=total, footer=long.footer,
    )
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(front)))
    writer.append(PdfReader(io.BytesIO(back)))
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()
