"""The HTML writer: a report as one self-contained HTML document (also WeasyPrint's input).

Facts, the chart and the sections' great-tables views, in reading order. A lines section
is written as plain chunked tables formatted with Polars (great-tables formats cell by
cell, about 0.5 ms a cell, too slow for 20,000 lines), in the same columns and labels.
With ``pdf=True`` the print CSS is added: the page of :mod:`~writeoff_analytics.reporting.page`,
repeated table headers, a long lines table starting on its own page.
"""

from __future__ import annotations

import html
import io
from typing import TYPE_CHECKING

import polars as pl

from writeoff_analytics.reporting.model import label
from writeoff_analytics.reporting.page import BODY_PT, FONT_STACK_CSS, SECTION_HEADING_PT, page_css

if TYPE_CHECKING:
    from writeoff_analytics.reporting.model import ReportContent, Section

#: Rows per ``<table>`` of a long lines section in HTML/PDF: WeasyPrint lays out each
#: table whole before paginating it, so one 20,000-row table costs far more than many
#: small ones (each repeats its header, and ``thead`` repeats on every page too).
LINES_CHUNK = 400
#: A lines section up to this long follows the summaries on the same page in PDF.
SHORT_LINES = 25

_CSS = f"""
body {{ font-family: {FONT_STACK_CSS}; font-size: {BODY_PT:g}pt; color: #222; margin: 0; }}
h1 {{ font-size: 15pt; margin: 0 0 4pt 0; string-set: title content(); }}
h2 {{ font-size: {SECTION_HEADING_PT:g}pt; margin: 14pt 0 3pt 0; break-after: avoid; }}
p.note {{ margin: 0 0 4pt 0; color: #555; }}
table.facts {{ border-collapse: collapse; margin: 4pt 0 8pt 0; }}
table.facts th {{ text-align: left; padding: 1pt 10pt 1pt 0; vertical-align: top; white-space: nowrap; color: #444; }}
table.facts td {{ padding: 1pt 0; }}
table.lines {{ border-collapse: collapse; width: 100%; font-size: 7pt; margin: 0; }}
table.lines th {{ text-align: left; border-bottom: 1.2pt solid #444; padding: 2pt 3pt; }}
table.lines td {{ padding: 0.8pt 3pt; border-bottom: 0.3pt solid #ddd; white-space: nowrap; }}
table.lines .r {{ text-align: right; }}
div.chart {{ margin: 4pt 0 6pt 0; }}
.gt_table {{ font-size: 8pt !important; }}
div[id^="wo-"] {{ break-inside: avoid; }}
div.long div[id^="wo-"] {{ break-inside: auto; }}
p.total {{ margin: 3pt 0 0 0; font-weight: bold; }}
"""

_PRINT_CSS = page_css() + """
thead { display: table-header-group; }
tr { break-inside: avoid; }
h2.lines { break-before: page; }
"""


def document(
    report: ReportContent, *, pdf: bool, skip: str | None = None, total_pages: int | None = None
) -> str:
    """Return the report as one HTML document.

    Parameters
    ----------
    report
        The report.
    pdf
        Add the print CSS (page size, margins, footer, repeated headers).
    skip
        The key of a section to leave out (the PDF writer draws a long lines section itself).
    total_pages
        The page count of the whole PDF when more pages follow this document's.
    """
    out = io.StringIO()
    out.write('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">')
    out.write(f"<title>{html.escape(report.title)}</title><style>{_CSS}")
    if pdf:
        out.write(_PRINT_CSS)
    if total_pages is not None:  # more pages follow this document
        out.write(f'@page {{ @bottom-right {{ content: "Page " counter(page) " of {int(total_pages)}"; }} }}')
    out.write("</style></head><body>")
    out.write(f"<h1>{html.escape(report.title)}</h1>")
    out.write('<table class="facts">')
    for name, text in report.facts:
        out.write(f"<tr><th>{html.escape(name)}</th><td>{html.escape(text)}</td></tr>")
    out.write("</table>")
    if report.chart_svg:
        out.write(f'<h2>Aging distribution</h2><div class="chart">{report.chart_svg}</div>')
    for s in report.sections:
        if s.key == skip:
            continue
        # a long lines table starts on its own page; a short one follows the header
        cls = ' class="lines"' if s.key == "lines" and s.shown_rows > SHORT_LINES else ""
        out.write(f"<h2{cls}>{html.escape(s.title)}</h2>")
        if s.note:
            out.write(f'<p class="note">{html.escape(s.note)}</p>')
        if s.frame.is_empty():
            out.write('<p class="note">None.</p>')
        elif s.key == "lines":
            _write_lines_table(out, s)
        elif s.frame.height > SHORT_LINES:
            # a long table may break across pages (its header repeats); kept whole, it would
            # leave its heading alone at the foot of a page
            out.write(f'<div class="long">{s.gt.as_raw_html()}</div>')
        else:
            out.write(s.gt.as_raw_html())
        if s.footer and not s.frame.is_empty():
            out.write(f'<p class="total">{html.escape(s.footer)}</p>')
    out.write("</body></html>")
    return out.getvalue()


def lines_text(section: Section) -> tuple[list[str], list[tuple[str, ...]], list[bool]]:
    """The shown lines of a section as text cells: labels, rows, right-aligned columns.

    Money reads ``$1,234.50`` / ``-$20.00`` as in the great-tables views; numbers and money
    are right-aligned.
    """
    frame = section.shown_frame()
    money = set(section.money)
    text = frame.select(
        [
            money_text(pl.col(c)).alias(c) if c in money else pl.col(c).cast(pl.String).fill_null("")
            for c in frame.columns
        ]
    )
    right = [c in money or frame.schema[c].is_numeric() for c in frame.columns]
    return [label(c) for c in frame.columns], text.rows(), right


def _write_lines_table(out: io.StringIO, section: Section) -> None:
    """Write a lines section as plain chunked HTML tables."""
    labels, rows, right = lines_text(section)
    head = "".join(
        f'<th class="r">{html.escape(name)}</th>' if r else f"<th>{html.escape(name)}</th>"
        for name, r in zip(labels, right, strict=True)
    )
    open_cells = ['<td class="r">' if r else "<td>" for r in right]
    for start in range(0, len(rows), LINES_CHUNK):
        out.write(f'<table class="lines"><thead><tr>{head}</tr></thead><tbody>')
        for row in rows[start:start + LINES_CHUNK]:
            out.write("<tr>")
            for opener, value in zip(open_cells, row, strict=True):
                out.write(opener)
                out.write(html.escape(value))
                out.write("</td>")
            out.write("</tr>")
        out.write("</tbody></table>")


def money_text(col: pl.Expr) -> pl.Expr:
    """``$1,234.50`` / ``-$20.00`` for a Decimal(18,2) column, vectorised (as ``format_money``).

    Examples
    --------
    >>> from decimal import Decimal
    >>> f = pl.DataFrame({"a": [Decimal("1234.50"), Decimal("-20.00"), None]})
    >>> f.select(money_text(pl.col("a"))).to_series().to_list()
    ['$1,234.50', '-$20.00', '']
    """
    s = col.cast(pl.String)
    neg = s.str.starts_with("-")
    digits = s.str.strip_prefix("-")
    whole = digits.str.split(".").list.first()
    cents = digits.str.split(".").list.last()
    grouped = (
        whole.str.reverse().str.replace_all(r"(\d{3})", "$1,").str.reverse().str.strip_prefix(",")
    )
    return pl.when(col.is_null()).then(pl.lit("")).otherwise(
        pl.when(neg).then(pl.lit("-$")).otherwise(pl.lit("$")) + grouped + pl.lit(".") + cents
    )
