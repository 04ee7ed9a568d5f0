"""Draw many table rows straight into PDF pages, for long line listings (the PDF writer's helper).

WeasyPrint lays out and draws every cell and glyph in Python (about 5 ms a row of 13
cells here), so a 20,000-line report took minutes however the table was split. These
pages are written with ``pydyf`` (WeasyPrint's own PDF writer) in the standard Courier
font: real, extractable text, a header row on every page, and the same footer as the
WeasyPrint pages ("title" left, "Page X of N" right). 20,000 rows take about a second.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import pydyf

from writeoff_analytics.reporting.page import (
    FOOTER_GRAY,
    FOOTER_PT,
    LINE_ROW_PT,
    MARGIN_BOTTOM_PT,
    MARGIN_LEFT_PT,
    MARGIN_RIGHT_PT,
    MARGIN_TOP_PT,
    PAGE_HEIGHT_PT,
    PAGE_WIDTH_PT,
    ROW_FONT,
    ROW_FONT_BOLD,
    SECTION_HEADING_PT,
    TEXT_FONT,
    TEXT_FONT_BOLD,
)

# The page, margins and fonts of the WeasyPrint pages (page.py), so the pages join up.
PAGE_W, PAGE_H = PAGE_WIDTH_PT, PAGE_HEIGHT_PT
LEFT, RIGHT, TOP, BOTTOM = MARGIN_LEFT_PT, MARGIN_RIGHT_PT, MARGIN_TOP_PT, MARGIN_BOTTOM_PT
LINE = 9.6  # row pitch, points
FONT = LINE_ROW_PT  # Courier size, points; a Courier glyph is 0.6 em wide
HEADING = SECTION_HEADING_PT
#: Rows on a page after the heading lines of the first page and the header row.
ROWS_PER_PAGE = int((PAGE_H - TOP - BOTTOM - 1.5 * LINE) // LINE)
FIRST_PAGE_ROWS = ROWS_PER_PAGE - 3

# Helvetica widths (1/1000 em) of the characters a footer uses; others count as 556.
_HELV = {" ": 278, "P": 667, "a": 556, "g": 556, "e": 556, "o": 556, "f": 278, ".": 278}


def page_count(rows: int) -> int:
    """How many pages :func:`draw_rows` makes for ``rows`` rows."""
    if rows <= FIRST_PAGE_ROWS:
        return 1
    return 1 + math.ceil((rows - FIRST_PAGE_ROWS) / ROWS_PER_PAGE)


def draw_rows(
    *,
    title: str,
    heading: str,
    note: str,
    labels: Sequence[str],
    rows: Sequence[Sequence[str]],
    right: Sequence[bool],
    first_page: int,
    total_pages: int,
    footer: str = "",
) -> bytes:
    """Return a PDF of ``rows`` under a repeated header row.

    Parameters
    ----------
    title
        Shown bottom left on every page (the report's title).
    heading, note
        The section heading and a sentence under it, on the first page.
    labels
        Column labels (the header row, repeated on every page).
    rows
        The cells as text, already formatted.
    right
        Per column: right-align (money, numbers).
    first_page, total_pages
        The number of the first page these rows get, and the whole report's page count.
    footer
        A bold line after the last row (e.g. the total); it takes a row's place, so the
        pages are ``page_count(len(rows) + 1)``.
    """
    widths = [len(label) for label in labels]
    for row in rows:
        for j, cell in enumerate(row):
            if len(cell) > widths[j]:
                widths[j] = len(cell)
    chars = sum(widths) + 2 * (len(widths) - 1)
    size = min(FONT, (PAGE_W - LEFT - RIGHT) / (0.6 * max(chars, 1)))
    advance = 0.6 * size

    def line(cells: Sequence[str]) -> str:
        parts = []
        for j, cell in enumerate(cells):
            parts.append(cell.rjust(widths[j]) if right[j] else cell.ljust(widths[j]))
        return "  ".join(parts).rstrip()

    pdf = pydyf.PDF()
    fonts = pydyf.Dictionary()
    for name, base in (("F1", ROW_FONT), ("F2", ROW_FONT_BOLD), ("F3", TEXT_FONT),
                       ("F4", TEXT_FONT_BOLD)):
        font = pydyf.Dictionary({
            "Type": "/Font", "Subtype": "/Type1", "BaseFont": f"/{base}",
            "Encoding": "/WinAnsiEncoding",
        })
        pdf.add_object(font)
        fonts[name] = font.reference
    pdf.add_object(fonts)
    resources = pydyf.Dictionary({"Font": fonts.reference})
    pdf.add_object(resources)
    header = line(labels)
    end_marker = tuple([footer])  # a fresh object: stands for the footer line among the rows
    if footer:
        rows = [*rows, end_marker]
    start, page_no = 0, first_page
    while start < len(rows) or start == 0:
        first = start == 0
        take = FIRST_PAGE_ROWS if first else ROWS_PER_PAGE
        chunk = rows[start:start + take]
        s = pydyf.Stream(compress=True)
        y = PAGE_H - TOP
        if first:
            y -= HEADING
            _text(s, "F4", HEADING, LEFT, y, heading)
            y -= LINE * 1.6
            if note:
                _gray(s, FOOTER_GRAY)
                _text(s, "F3", FONT + 0.5, LEFT, y, note)
                _gray(s, 0.0)
            y -= LINE
        y -= LINE
        _text(s, "F2", size, LEFT, y, header)
        s.set_line_width(0.8)
        s.move_to(LEFT, y - 2.6)
        s.line_to(LEFT + advance * len(header), y - 2.6)
        s.stroke()
        s.begin_text()
        s.set_font_size("F1", size)
        s.set_text_matrix(1, 0, 0, 1, LEFT, y)
        for row in chunk:
            s.move_text_to(0, -LINE)
            if row is end_marker:
                s.set_font_size("F4", FONT + 0.5)
                s.show_text_string(_latin(footer))
            else:
                s.show_text_string(_latin(line(row)))
        s.end_text()
        _gray(s, FOOTER_GRAY)
        _text(s, "F3", FOOTER_PT, LEFT, BOTTOM - 16, title)
        label = f"Page {page_no} of {total_pages}"
        width = sum(_HELV.get(ch, 556) for ch in label) * FOOTER_PT / 1000
        _text(s, "F3", FOOTER_PT, PAGE_W - RIGHT - width, BOTTOM - 16, label)
        pdf.add_object(s)
        page = pydyf.Dictionary({
            "Type": "/Page", "Parent": pdf.pages.reference,
            "MediaBox": pydyf.Array([0, 0, PAGE_W, PAGE_H]),
            "Contents": s.reference, "Resources": resources.reference,
        })
        pdf.add_page(page)
        page_no += 1
        start += take
        if start >= len(rows):
            break
    out = io.BytesIO()
    pdf.write(out, compress=True)
    return out.getvalue()


def _text(s: pydyf.Stream, font: str, size: float, x: float, y: float, text: str) -> None:
    s.begin_text()
    s.set_font_size(font, size)
    s.set_text_matrix(1, 0, 0, 1, x, y)
    s.show_text_string(_latin(text))
    s.end_text()


def _gray(s: pydyf.Stream, level: float) -> None:
    s.set_color_rgb(level, level, level)


def _latin(text: str) -> str:
    # pydyf writes ASCII strings as literal bytes (anything else as UTF-16, which the
    # standard fonts cannot show); ids are ASCII, anything else shows as "?"
    return text.encode("ascii", "replace").decode("ascii")
