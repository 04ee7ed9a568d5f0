"""Page geometry and fonts of a printed report, defined once.

The HTML print CSS (:mod:`~writeoff_analytics.reporting.html`, laid out by WeasyPrint)
and the direct PDF drawer of long line sections
(:mod:`~writeoff_analytics.reporting._pdf_lines`) both read these values, so the pages
they make have one size, one set of margins and one footer, and join into one document.
"""

from __future__ import annotations

#: Points per millimetre (a PDF point is 1/72 inch).
PT_PER_MM = 72 / 25.4

#: The paper, as CSS names it, and its size in points (A4 landscape).
PAGE_SIZE_CSS = "A4 landscape"
PAGE_WIDTH_PT, PAGE_HEIGHT_PT = 841.89, 595.28

#: Margins in millimetres: top, right, bottom, left (CSS order).
MARGINS_MM = (12, 11, 14, 11)
MARGIN_TOP_PT, MARGIN_RIGHT_PT, MARGIN_BOTTOM_PT, MARGIN_LEFT_PT = (m * PT_PER_MM for m in MARGINS_MM)

#: The font of the WeasyPrint pages and the chart (shipped with most Linux systems).
FONT_FAMILY = "DejaVu Sans"
FONT_STACK_CSS = f"'{FONT_FAMILY}', sans-serif"
#: The direct drawer cannot embed DejaVu cheaply; it uses the PDF standard fonts instead:
#: a fixed-width face for the rows (columns line up by character count) and a sans face
#: for headings, notes and the footer, like the WeasyPrint pages.
ROW_FONT, ROW_FONT_BOLD = "Courier", "Courier-Bold"
TEXT_FONT, TEXT_FONT_BOLD = "Helvetica", "Helvetica-Bold"

#: Sizes in points.
BODY_PT = 8.5
SECTION_HEADING_PT = 11.0
LINE_ROW_PT = 7.0
FOOTER_PT = 7.5
#: The footer's grey (CSS ``#555``), as a 0..1 level for the drawer.
FOOTER_GRAY = 0x55 / 0xFF
FOOTER_COLOR_CSS = "#555"


def mm(value: float) -> str:
    """``12mm``: a length for CSS.

    Examples
    --------
    >>> mm(12)
    '12mm'
    """
    return f"{value:g}mm"


def page_css() -> str:
    """The ``@page`` rule of printed reports: size, margins and the footer on every page.

    The footer shows the report's title (bottom left, from ``string-set: title`` on the
    ``h1``) and ``Page X of N`` (bottom right), as the drawer does.

    Examples
    --------
    >>> "size: A4 landscape; margin: 12mm 11mm 14mm 11mm;" in page_css()
    True
    """
    footer_font = f"font: {FOOTER_PT:g}pt {FONT_STACK_CSS}; color: {FOOTER_COLOR_CSS};"
    return (
        "@page {\n"
        f"  size: {PAGE_SIZE_CSS}; margin: {' '.join(mm(m) for m in MARGINS_MM)};\n"
        f'  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); {footer_font} }}\n'
        f"  @bottom-left {{ content: string(title); {footer_font} }}\n"
        "}\n"
    )
