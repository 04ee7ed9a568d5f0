"""The one reader of X12 text: separators from the ISA, segments with their place, elements.

:func:`read_segments` splits an interchange into :class:`Segment` values, each with its
:class:`Position` (1-based segment number, 0-based byte offset), and reports what it cannot
read as :class:`X12Problem` values instead of guessing. :func:`read_amount` and
:func:`read_date` read one element's text exactly (money as :class:`~decimal.Decimal` with
at most two decimals, dates as ``CCYYMMDD``); what they cannot read is ``None`` and the
caller refuses it. Why this reader and not pyx12's: see the package docstring.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from writeoff_analytics.errors import ImportError835
from writeoff_analytics.money import CENT

__all__ = [
    "ERROR",
    "WARNING",
    "Position",
    "Segment",
    "Separators",
    "X12Problem",
    "read_amount",
    "read_date",
    "read_segments",
    "read_separators",
]

ERROR = "error"
WARNING = "warning"
_BOM = b"\xef\xbb\xbf"
_WHITESPACE = " \t\r\n"
_SEGMENT_ID_RE = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_AMOUNT_RE = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")


@dataclass(frozen=True)
class Position:
    """Where a segment sits in its file: 1-based segment number and 0-based byte offset.

    Examples
    --------
    >>> str(Position(98, 3834))
    'segment 98 (byte 3834)'
    """

    segment: int
    offset: int

    def __str__(self) -> str:
        return f"segment {self.segment} (byte {self.offset})"


@dataclass(frozen=True)
class X12Problem:
    """Something in an 835 that could not be read or posted as it is, and where.

    Examples
    --------
    >>> str(X12Problem("a.835", Position(14, 420), "CAS", "amount '20.005' cannot be read",
    ...                claim="E1"))
    "a.835, segment 14 (byte 420), CAS: error: claim E1: amount '20.005' cannot be read"
    """

    file: str
    position: Position | None
    segment_id: str | None
    reason: str
    severity: str = ERROR
    claim: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.position is not None:
            where.append(str(self.position))
        if self.segment_id:
            where.append(self.segment_id)
        claim = f"claim {self.claim}: " if self.claim is not None else ""
        return f"{', '.join(where)}: {self.severity}: {claim}{self.reason}"


@dataclass(frozen=True)
class Separators:
    """The delimiters an interchange declares in its ISA segment."""

    element: str
    component: str
    segment: str
    repetition: str | None


class Segment:
    """One segment as written: its place and its elements (element 0 is the segment id).

    Examples
    --------
    >>> seg = Segment(Position(13, 400), ("CLP", "E1", "1", " 100.00 "))
    >>> seg.id, seg.get(3), seg.get(9)
    ('CLP', '100.00', '')
    """

    __slots__ = ("elements", "position")

    def __init__(self, position: Position, elements: tuple[str, ...]) -> None:
        self.position = position
        self.elements = elements

    @property
    def id(self) -> str:
        """The segment id (``CLP``, ``SVC``, ...)."""
        return self.elements[0]

    def get(self, i: int) -> str:
        """Element ``i`` without surrounding blanks; ``""`` when the segment is shorter."""
        return self.elements[i].strip() if i < len(self.elements) else ""


def read_separators(text: str, start: int, file: str) -> Separators:
    """Read the element, component, segment and repetition separators of the ISA at ``start``.

    The ISA's elements are read by their separator, not by fixed widths, so an ISA whose
    fields were trimmed or padded differently is still read.

    Raises
    ------
    ImportError835
        If there is no ISA at ``start`` or its separators cannot be read.

    Examples
    --------
    >>> isa = ("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    ...        "*260302*1200*^*00501*000000001*0*P*:~")
    >>> read_separators(isa, 0, "a.835")
    Separators(element='*', component=':', segment='~', repetition='^')
    """
    if text[start : start + 3] != "ISA":
        found = text[start : start + 20]
        msg = (
            f"{file}: not an X12 interchange: it must begin with an ISA segment, "
            f"found {found!r} at byte {start}"
        )
        raise ImportError835(msg)
    element = text[start + 3 : start + 4]
    if not element or element.isalnum() or element in _WHITESPACE:
        msg = f"{file}: ISA at byte {start} has no usable element separator ({element!r})"
        raise ImportError835(msg)
    pos = start + 3
    fields = []
    for _ in range(15):  # ISA01..ISA15 end at the next separator; ISA16 is one character
        nxt = text.find(element, pos + 1)
        if nxt == -1:
            msg = (
                f"{file}: the ISA segment at byte {start} is cut short: it has fewer than "
                "16 elements, so its separators cannot be read"
            )
            raise ImportError835(msg)
        fields.append(text[pos + 1 : nxt])
        pos = nxt
    component = text[pos + 1 : pos + 2]
    segment = text[pos + 2 : pos + 3]
    if not component or not segment:
        msg = f"{file}: the ISA segment at byte {start} ends before ISA16 and its terminator"
        raise ImportError835(msg)
    if segment == "\r":
        segment = "\n"
    version = fields[11].strip()
    repetition = fields[10] if version >= "00402" and fields[10] not in ("", "U") else None
    used = [element, component, segment] + ([repetition] if repetition else [])
    if len(set(used)) != len(used) or any(ch.isalnum() for ch in used):
        msg = (
            f"{file}: the ISA separators element {element!r}, component {component!r}, "
            f"segment {segment!r} must be distinct and not letters or digits"
        )
        raise ImportError835(msg)
    return Separators(element=element, component=component, segment=segment, repetition=repetition)


def read_segments(data: bytes, file: str) -> tuple[Separators, list[Segment], list[X12Problem]]:
    r"""Split an interchange into segments, each with its place; report what cannot be read.

    A byte-order mark, CR/LF line breaks and indentation between segments are skipped; an
    empty segment (two terminators in a row) is skipped, never the end of the reading. A
    segment whose id is not an X12 id is reported and left out; a last segment without
    its terminator (a truncated file) is reported and not read.

    Parameters
    ----------
    data
        The file's bytes. Elements are decoded as UTF-8 where they are valid UTF-8, else
        byte for byte (latin-1), so a byte offset is never lost.
    file
        The name problems carry.

    Returns
    -------
    tuple
        The separators, the readable segments in file order, the problems found.

    Raises
    ------
    ImportError835
        If the file is empty or does not begin with a readable ISA segment.

    Examples
    --------
    >>> isa = ("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    ...        "*260302*1200*^*00501*000000001*0*P*:~")
    >>> seps, segs, problems = read_segments((isa + "\r\n  ST*835*0001~SE*2*0001").encode(), "a")
    >>> [(s.id, s.position.segment, s.position.offset) for s in segs]
    [('ISA', 1, 0), ('ST', 2, 110)]
    >>> print(problems[0])
    a, segment 3 (byte 122), SE: error: the file ends inside this segment ('SE*2*0001') without the segment terminator '~': the file is truncated; the segment is not read
    """
    # latin-1 maps every byte to one character, so a character offset is a byte offset.
    text = data.decode("latin-1")
    start = 3 if data.startswith(_BOM) else 0
    while start < len(text) and text[start] in _WHITESPACE:
        start += 1
    if start >= len(text):
        msg = f"{file}: the file is empty; an 835 begins with an ISA segment"
        raise ImportError835(msg)
    seps = read_separators(text, start, file)
    terminator, element = seps.segment, seps.element
    problems: list[X12Problem] = []
    segments: list[Segment] = []
    is_id = _SEGMENT_ID_RE.match
    pos = start
    index = 0
    size = len(text)
    while pos < size:
        end = text.find(terminator, pos)
        raw = text[pos:] if end == -1 else text[pos:end]
        body = raw.lstrip(_WHITESPACE)
        offset = pos + (len(raw) - len(body))
        body = body.rstrip("\r\n")
        pos = size if end == -1 else end + len(terminator)
        if not body:
            continue
        index += 1
        where = Position(index, offset)
        if end == -1:
            problems.append(
                X12Problem(
                    file,
                    where,
                    body.split(element)[0][:3],
                    f"the file ends inside this segment ({body[:40]!r}) without the segment "
                    f"terminator {terminator!r}: the file is truncated; the segment is not read",
                )
            )
            break
        if not body.isascii():
            try:
                body = body.encode("latin-1").decode("utf-8")
            except UnicodeDecodeError:
                pass  # not UTF-8: keep the bytes as latin-1 characters
        elements = tuple(body.split(element))
        if not is_id(elements[0]):
            problems.append(
                X12Problem(
                    file,
                    where,
                    None,
                    f"unreadable segment {body[:40]!r}: {elements[0][:10]!r} is not a segment id",
                )
            )
            continue
        segments.append(Segment(where, elements))
    return seps, segments, problems


def read_amount(text: str) -> Decimal | None:
    """An X12 amount (R type) as an exact Decimal with 2 places; ``None`` if it is not one.

    More than two significant decimals, exponents, thousands separators and blanks inside
    are not amounts: the caller refuses them, never rounds or defaults.

    Examples
    --------
    >>> read_amount("450"), read_amount("-86.76"), read_amount(" 20.50 ")
    (Decimal('450.00'), Decimal('-86.76'), Decimal('20.50'))
    >>> read_amount("20.005"), read_amount("1E3"), read_amount("1,000.00"), read_amount("")
    (None, None, None, None)
    """
    text = text.strip()
    if not _AMOUNT_RE.match(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex guards it
        return None
    if value != value.quantize(CENT):
        return None
    return value.quantize(CENT)


def read_date(text: str) -> dt.date | None:
    """An X12 date (``CCYYMMDD``); ``None`` if it is not a calendar date.

    Examples
    --------
    >>> read_date("20260302"), read_date("20002316"), read_date("260302")
    (datetime.date(2026, 3, 2), None, None)
    """
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
