"""X12 835 remittance advice: read it exactly, then post it onto a loaded ledger.

:func:`parse_835` reads a file into a :class:`Remittance` (claims ``CLP`` with their
service lines ``SVC``, adjustments ``CAS`` by group and reason at claim and line level,
line control numbers ``REF*6R``, remark codes ``LQ*HE`` / ``MOA`` / ``MIA``, provider
adjustments ``PLB``). It takes its separators from the ISA segment, reads files with a
byte-order mark, CRLF line breaks and indentation, and refuses, with the segment's position
(segment number and byte offset), anything it cannot read: amounts are never guessed. The
file is also run through pyx12 (a maintained 5010 validator); pyx12 drops loops it cannot
place, so its claim and line counts are compared with this reader's and any loss reported.

:func:`import_835` turns each readable, balanced claim into ledger transactions (payments,
payer adjustments, transfers of patient responsibility) matched to the ledger's charges and
appends them to the store's snapshot in one transaction (``replace_snapshot``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from writeoff_analytics import queries
from writeoff_analytics.errors import ImportError835, LedgerError, RowProblem
from writeoff_analytics.ledger.schema import TRANSACTIONS, Bucket, TransactionType
from writeoff_analytics.ledger.snapshot import (
    FileRecord,
    ImportReport,
    conform,
    polars_schema,
    replace_snapshot,
)
from writeoff_analytics.money import CENT, ZERO

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from writeoff_analytics.ledger.store import Ledger

__all__ = [
    "Adjustment",
    "Claim",
    "FileImport",
    "Import835Report",
    "Payment",
    "Position",
    "ProviderAdjustment",
    "Remittance",
    "Separators",
    "ServiceLine",
    "X12Problem",
    "import_835",
    "parse_835",
]

_BOM = b"\xef\xbb\xbf"
_WHITESPACE = " \t\r\n"
#: CAS group codes posted as payer-side adjustments; PR (patient responsibility) is a transfer.
INSURANCE_ADJUSTMENT_GROUPS = frozenset({"CO", "OA", "PI", "CR"})
PATIENT_GROUP = "PR"
#: Remark codes (RARCs) that say a QMB patient may not be billed (issue 8).
QMB_REMARKS = frozenset({"N781", "N782", "N783"})
REVERSAL_STATUS = "22"
ERROR = "error"
WARNING = "warning"
_SEGMENT_ID_RE = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_AMOUNT_RE = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Position:
    """Where a segment sits in its file: 1-based segment number and 0-based byte offset."""

    segment: int
    offset: int

    def __str__(self) -> str:
        return f"segment {self.segment} (byte {self.offset})"


@dataclass(frozen=True)
class X12Problem:
    """Something in an 835 that could not be read or posted as it is, and where."""

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


@dataclass(frozen=True)
class Adjustment:
    """One CAS adjustment: group code, reason code (CARC), amount and optional quantity."""

    group: str
    reason: str
    amount: Decimal
    quantity: str | None
    position: Position


@dataclass(frozen=True)
class ServiceLine:
    """One SVC service line with its dates, adjustments, control number and remarks."""

    qualifier: str
    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    revenue_code: str | None
    units: str | None
    service_date: dt.date | None
    control_number: str | None
    adjustments: tuple[Adjustment, ...]
    remark_codes: tuple[str, ...]
    position: Position

    @property
    def adjustment_total(self) -> Decimal:
        """Sum of the line's CAS amounts."""
        return sum((a.amount for a in self.adjustments), ZERO)


@dataclass(frozen=True)
class Claim:
    """One CLP claim payment: amounts, claim-level adjustments and remarks, service lines."""

    patient_control_number: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal | None
    filing_indicator: str | None
    payer_claim_control_number: str | None
    statement_date: dt.date | None
    adjustments: tuple[Adjustment, ...]
    lines: tuple[ServiceLine, ...]
    remark_codes: tuple[str, ...]
    position: Position
    #: Reasons the claim cannot be posted as it is (empty when it reads and balances).
    errors: tuple[str, ...] = ()

    @property
    def is_reversal(self) -> bool:
        """Whether CLP02 is 22 (reversal of a previous payment)."""
        return self.status == REVERSAL_STATUS

    @property
    def claim_adjustment_total(self) -> Decimal:
        """Sum of the claim-level CAS amounts."""
        return sum((a.amount for a in self.adjustments), ZERO)

    @property
    def adjustment_total(self) -> Decimal:
        """Sum of every CAS amount of the claim, claim level and line level."""
        return self.claim_adjustment_total + sum((ln.adjustment_total for ln in self.lines), ZERO)

    @property
    def lines_paid(self) -> Decimal:
        """Sum of the lines' paid amounts (SVC03)."""
        return sum((ln.paid for ln in self.lines), ZERO)

    @property
    def is_balanced(self) -> bool:
        """CLP03 - CLP04 equals the claim's CAS total (and lines pay CLP04, if any)."""
        if self.charge - self.paid != self.adjustment_total:
            return False
        return not self.lines or self.lines_paid - self.claim_adjustment_total == self.paid


@dataclass(frozen=True)
class ProviderAdjustment:
    """One PLB adjustment: reported, never spread over charges."""

    provider_id: str
    fiscal_date: dt.date | None
    reason: str
    reference: str | None
    amount: Decimal
    position: Position


@dataclass(frozen=True)
class Payment:
    """One 835 transaction set (ST..SE): a check or EFT and the claims it pays."""

    control_number: str
    trace_number: str | None
    payer_identifier: str | None
    payer_name: str | None
    payer_ids: tuple[str, ...]
    total: Decimal | None
    payment_date: dt.date | None
    production_date: dt.date | None
    claims: tuple[Claim, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...]
    position: Position

    @property
    def posted_date(self) -> dt.date | None:
        """The date postings carry: BPR16 (payment date), else DTM*405 (production date)."""
        return self.payment_date or self.production_date


@dataclass(frozen=True)
class Remittance:
    """A whole 835 file as read: its payments, every problem, and pyx12's counts."""

    file: str
    sha256: str
    separators: Separators
    payments: tuple[Payment, ...]
    problems: tuple[X12Problem, ...]
    #: Claims and service lines pyx12 placed in loops 2100/2110 (None if it could not run).
    pyx12_claims: int | None = None
    pyx12_lines: int | None = None

    @property
    def claims(self) -> tuple[Claim, ...]:
        """Every readable claim of every payment, in file order."""
        return tuple(c for p in self.payments for c in p.claims)

    @property
    def line_count(self) -> int:
        """How many service lines were read."""
        return sum(len(c.lines) for c in self.claims)

    @property
    def provider_adjustments(self) -> tuple[ProviderAdjustment, ...]:
        """Every PLB adjustment of the file."""
        return tuple(a for p in self.payments for a in p.provider_adjustments)

    @property
    def errors(self) -> tuple[X12Problem, ...]:
        """The problems of severity ``error``."""
        return tuple(p for p in self.problems if p.severity == ERROR)


# --------------------------------------------------------------------------- tokenizing


@dataclass(frozen=True)
class _Segment:
    position: Position
    elements: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.elements[0]

    def get(self, i: int) -> str:
        return self.elements[i].strip() if i < len(self.elements) else ""


def _read_separators(text: str, start: int, file: str) -> Separators:
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


def _segments(data: bytes, file: str) -> tuple[Separators, list[_Segment], list[X12Problem]]:
    # latin-1 maps every byte to one character, so a character offset is a byte offset.
    text = data.decode("latin-1")
    start = 3 if data.startswith(_BOM) else 0
    while start < len(text) and text[start] in _WHITESPACE:
        start += 1
    if start >= len(text):
        msg = f"{file}: the file is empty; an 835 begins with an ISA segment"
        raise ImportError835(msg)
    seps = _read_separators(text, start, file)
    problems: list[X12Problem] = []
    segments: list[_Segment] = []
    pos = start
    index = 0
    while pos < len(text):
        end = text.find(seps.segment, pos)
        raw = text[pos:] if end == -1 else text[pos:end]
        body = raw.lstrip(_WHITESPACE)
        offset = pos + (len(raw) - len(body))
        body = body.rstrip("\r\n")
        pos = len(text) if end == -1 else end + len(seps.segment)
        if not body:
            continue
        index += 1
        where = Position(index, offset)
        if end == -1:
            problems.append(
                X12Problem(
                    file,
                    where,
                    body.split(seps.element)[0][:3],
                    f"the file ends inside this segment ({body[:40]!r}) without the segment "
                    f"terminator {seps.segment!r}: the file is truncated; the segment is not read",
                )
            )
            break
        try:
            body = body.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            pass  # not UTF-8: keep the bytes as latin-1 characters
        elements = tuple(body.split(seps.element))
        if not _SEGMENT_ID_RE.match(elements[0]):
            problems.append(
                X12Problem(
                    file,
                    where,
                    None,
                    f"unreadable segment {body[:40]!r}: {elements[0][:10]!r} is not a segment id",
                )
            )
            continue
        segments.append(_Segment(where, elements))
    return seps, segments, problems


# --------------------------------------------------------------------------- parsing


def _amount(text: str) -> Decimal | None:
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


def _date(text: str) -> dt.date | None:
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


@dataclass
class _LineBuilder:
    seg: _Segment
    qualifier: str
    code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    dates: dict[str, dt.date] = field(default_factory=dict)
    adjustments: list[Adjustment] = field(default_factory=list)
    control_number: str | None = None
    remarks: list[str] = field(default_factory=list)

    def build(self) -> ServiceLine:
        date = self.dates.get("472") or self.dates.get("150")
        return ServiceLine(
            qualifier=self.qualifier,
            procedure_code=self.code,
            modifiers=self.modifiers,
            charge=self.charge,
            paid=self.paid,
            revenue_code=self.seg.get(4) or None,
            units=self.seg.get(5) or None,
            service_date=date,
            control_number=self.control_number,
            adjustments=tuple(self.adjustments),
            remark_codes=tuple(dict.fromkeys(self.remarks)),
            position=self.seg.position,
        )


@dataclass
class _ClaimBuilder:
    seg: _Segment
    charge: Decimal
    paid: Decimal
    responsibility: Decimal | None
    dates: dict[str, dt.date] = field(default_factory=dict)
    adjustments: list[Adjustment] = field(default_factory=list)
    lines: list[_LineBuilder] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def line(self) -> _LineBuilder | None:
        return self.lines[-1] if self.lines else None


class _Parser:
    """A one-pass state machine over the segments of one file."""

    def __init__(self, file: str, seps: Separators) -> None:
        self.file = file
        self.seps = seps
        self.problems: list[X12Problem] = []
        self.payments: list[Payment] = []
        self.in_st: _Segment | None = None
        self.skip_st = False
        self.st_count = 0
        self.header: dict[str, Any] = {}
        self.claims: list[Claim] = []
        self.plb: list[ProviderAdjustment] = []
        self.claim: _ClaimBuilder | None = None
        self.skipping_claim: str | None = None

    # -- helpers
    def problem(
        self, seg: _Segment | None, reason: str, *, severity: str = ERROR, claim: str | None = None
    ) -> None:
        self.problems.append(
            X12Problem(
                self.file,
                seg.position if seg else None,
                seg.id if seg else None,
                reason,
                severity,
                claim,
            )
        )

    def claim_error(self, seg: _Segment, reason: str) -> None:
        assert self.claim is not None
        pcn = self.claim.seg.get(1)
        self.claim.errors.append(f"{seg.position} {seg.id}: {reason}")
        self.problem(seg, reason, claim=pcn)

    # -- segments
    def feed(self, seg: _Segment) -> None:
        sid = seg.id
        if sid == "ST":
            self.start_st(seg)
            return
        if self.in_st is None:
            if sid not in ("ISA", "GS", "GE", "IEA"):
                self.problem(
                    seg, "segment outside a transaction set (ST..SE); ignored", severity=WARNING
                )
            elif sid == "GS" and not seg.get(8).startswith("005010X221"):
                self.problem(
                    seg,
                    f"GS08 is {seg.get(8)!r}, not 005010X221A1 (the 5010 835); read as a 5010 835",
                    severity=WARNING,
                )
            return
        self.st_count += 1
        if self.skip_st and sid != "SE":
            return
        handler = getattr(self, f"seg_{sid}", None)
        if sid == "SE":
            self.end_st(seg)
        elif sid == "CLP":
            self.close_claim()
            self.start_claim(seg)
        elif sid in ("LX", "PLB"):
            self.close_claim()
            self.skipping_claim = None
            if handler is not None:
                handler(seg)
        elif self.skipping_claim is not None:
            return
        elif handler is not None:
            handler(seg)

    def start_st(self, seg: _Segment) -> None:
        if self.in_st is not None:
            self.problem(self.in_st, "transaction set has no SE before the next ST: truncated")
            self.finish_st(None)
        self.in_st = seg
        self.st_count = 1
        self.header = {"payer_ids": []}
        self.claims = []
        self.plb = []
        self.claim = None
        self.skipping_claim = None
        self.skip_st = seg.get(1) != "835"
        if self.skip_st:
            self.problem(seg, f"transaction set {seg.get(1)!r} is not an 835; skipped")

    def end_st(self, seg: _Segment) -> None:
        declared = seg.get(1)
        if not self.skip_st and declared != str(self.st_count):
            self.problem(
                seg,
                f"SE01 says the transaction set has {declared} segments but it has "
                f"{self.st_count}: segments are missing or extra (a truncated or edited file)",
            )
        self.close_claim()
        self.finish_st(seg)

    def finish_st(self, se: _Segment | None) -> None:
        assert self.in_st is not None
        if se is None and self.claim is not None:
            pcn = self.claim.seg.get(1)
            self.problem(
                self.claim.seg,
                "the transaction set ends without SE (truncated file): this last claim may be "
                "incomplete and is not posted",
                claim=pcn,
            )
            self.claim.errors.append("transaction set truncated after this claim")
        self.close_claim()
        if not self.skip_st:
            h = self.header
            self.payments.append(
                Payment(
                    control_number=self.in_st.get(2),
                    trace_number=h.get("trace"),
                    payer_identifier=h.get("trace_payer"),
                    payer_name=h.get("payer_name"),
                    payer_ids=tuple(h["payer_ids"]),
                    total=h.get("total"),
                    payment_date=h.get("payment_date"),
                    production_date=h.get("production_date"),
                    claims=tuple(self.claims),
                    provider_adjustments=tuple(self.plb),
                    position=self.in_st.position,
                )
            )
            self.check_payment_total(self.payments[-1], se)
        self.in_st = None
        self.skip_st = False

    def check_payment_total(self, payment: Payment, se: _Segment | None) -> None:
        if payment.total is None:
            return
        expected = sum((c.paid for c in payment.claims), ZERO) - sum(
            (a.amount for a in payment.provider_adjustments), ZERO
        )
        if expected != payment.total:
            self.problem(
                se,
                f"BPR02 payment total {payment.total} differs from the claims' CLP04 total "
                f"less PLB adjustments ({expected}) read from this transaction set",
                severity=WARNING,
            )

    def seg_BPR(self, seg: _Segment) -> None:
        total = _amount(seg.get(2))
        if total is None:
            self.problem(seg, f"BPR02 {seg.get(2)!r} is not an amount", severity=WARNING)
        self.header["total"] = total
        raw = seg.get(16)
        date = _date(raw)
        if raw and date is None:
            self.problem(
                seg,
                f"BPR16 payment date {raw!r} is not a valid date; DTM*405 is used instead",
                severity=WARNING,
            )
        self.header["payment_date"] = date

    def seg_TRN(self, seg: _Segment) -> None:
        self.header["trace"] = seg.get(2) or None
        self.header["trace_payer"] = seg.get(3) or None
        if not seg.get(2):
            self.problem(seg, "TRN02 (check or EFT trace number) is empty")

    def seg_DTM(self, seg: _Segment) -> None:
        qual, date = seg.get(1), _date(seg.get(2))
        if self.claim is None:
            if qual == "405":
                self.header["production_date"] = date
            return
        if date is None:
            self.problem(
                seg,
                f"DTM*{qual} date {seg.get(2)!r} is not a valid date",
                severity=WARNING,
                claim=self.claim.seg.get(1),
            )
            return
        line = self.claim.line
        (line.dates if line is not None else self.claim.dates)[qual] = date

    def seg_N1(self, seg: _Segment) -> None:
        if self.claim is None and seg.get(1) == "PR":
            self.header["payer_name"] = seg.get(2) or None
            if seg.get(4):
                self.header["payer_ids"].append(seg.get(4))
            self.header["in_payer"] = True
        elif self.claim is None:
            self.header["in_payer"] = False

    def seg_REF(self, seg: _Segment) -> None:
        if self.claim is None:
            if seg.get(1) == "2U" and self.header.get("in_payer") and seg.get(2):
                self.header["payer_ids"].append(seg.get(2))
            return
        line = self.claim.line
        if line is not None and seg.get(1) == "6R":
            line.control_number = seg.get(2) or None

    def seg_LQ(self, seg: _Segment) -> None:
        if self.claim is None or self.claim.line is None:
            self.problem(seg, "LQ outside a service line; ignored", severity=WARNING)
            return
        if seg.get(1) == "HE" and seg.get(2):
            self.claim.line.remarks.append(seg.get(2))

    def seg_MOA(self, seg: _Segment) -> None:
        if self.claim is not None:
            self.claim.remarks.extend(seg.get(i) for i in range(3, 8) if seg.get(i))

    def seg_MIA(self, seg: _Segment) -> None:
        if self.claim is not None:
            self.claim.remarks.extend(seg.get(i) for i in (5, 20, 21, 22, 23) if seg.get(i))

    def seg_CAS(self, seg: _Segment) -> None:
        if self.claim is None:
            self.problem(seg, "CAS outside a claim; not read")
            return
        group = seg.get(1)
        if not group:
            self.claim_error(seg, "CAS01 (group code) is empty; the adjustment cannot be read")
            return
        found = []
        for i in range(2, 20, 3):
            reason, raw = seg.get(i), seg.get(i + 1)
            if not reason and not raw:
                continue
            amount = _amount(raw)
            if not reason or amount is None:
                self.claim_error(
                    seg,
                    f"CAS{i:02d}/CAS{i + 1:02d} reason {reason!r} amount {raw!r} cannot be read "
                    "(an amount with at most 2 decimals is required)",
                )
                return
            found.append(Adjustment(group, reason, amount, seg.get(i + 2) or None, seg.position))
        if not found:
            self.claim_error(seg, "CAS has no reason and amount")
            return
        line = self.claim.line
        (line.adjustments if line is not None else self.claim.adjustments).extend(found)

    def seg_SVC(self, seg: _Segment) -> None:
        if self.claim is None:
            self.problem(seg, "SVC outside a claim; not read")
            return
        composite = seg.get(1)
        parts = composite.split(self.seps.component)
        if len(parts) == 1:
            m = re.match(r"^([A-Z0-9]{2})([^A-Za-z0-9\s])(.+)$", composite)
            if m:
                parts = composite.split(m.group(2))
                self.problem(
                    seg,
                    f"SVC01 {composite!r} does not use the ISA16 component separator "
                    f"{self.seps.component!r}; read with {m.group(2)!r} as its separator",
                    severity=WARNING,
                    claim=self.claim.seg.get(1),
                )
        charge, paid = _amount(seg.get(2)), _amount(seg.get(3))
        if len(parts) < 2 or not parts[1] or charge is None or paid is None:
            self.claim_error(
                seg,
                f"service line cannot be read: SVC01 {composite!r}, SVC02 {seg.get(2)!r}, "
                f"SVC03 {seg.get(3)!r} (procedure, charge and paid amounts are required)",
            )
            self.skipping_claim = self.claim.seg.get(1)
            return
        self.claim.lines.append(
            _LineBuilder(
                seg=seg,
                qualifier=parts[0],
                code=parts[1],
                modifiers=tuple(p for p in parts[2:6] if p),
                charge=charge,
                paid=paid,
            )
        )

    def seg_PLB(self, seg: _Segment) -> None:
        for i in range(3, 15, 2):
            composite, raw = seg.get(i), seg.get(i + 1)
            if not composite and not raw:
                continue
            amount = _amount(raw)
            parts = composite.split(self.seps.component)
            if amount is None or not parts[0]:
                self.problem(seg, f"PLB{i:02d}/PLB{i + 1:02d} {composite!r} {raw!r} cannot be read")
                continue
            self.plb.append(
                ProviderAdjustment(
                    provider_id=seg.get(1),
                    fiscal_date=_date(seg.get(2)),
                    reason=parts[0],
                    reference=parts[1] if len(parts) > 1 and parts[1] else None,
                    amount=amount,
                    position=seg.position,
                )
            )

    def start_claim(self, seg: _Segment) -> None:
        pcn = seg.get(1)
        charge, paid = _amount(seg.get(3)), _amount(seg.get(4))
        if not pcn or not seg.get(2) or charge is None or paid is None:
            self.problem(
                seg,
                f"claim cannot be read: CLP has {len(seg.elements) - 1} elements "
                f"({'*'.join(seg.elements[1:5])!r}); CLP01 patient control number, CLP02 status, "
                "CLP03 charge and CLP04 paid are required; the claim and its segments are "
                "not read",
                claim=pcn or None,
            )
            self.skipping_claim = pcn
            return
        resp_raw = seg.get(5)
        resp = _amount(resp_raw) if resp_raw else None
        self.claim = _ClaimBuilder(seg=seg, charge=charge, paid=paid, responsibility=resp)
        self.skipping_claim = None

    def close_claim(self) -> None:
        b = self.claim
        if b is None:
            return
        self.claim = None
        seg = b.seg
        pcn = seg.get(1)
        lines = tuple(ln.build() for ln in b.lines)
        claim = Claim(
            patient_control_number=pcn,
            status=seg.get(2),
            charge=b.charge,
            paid=b.paid,
            patient_responsibility=b.responsibility,
            filing_indicator=seg.get(6) or None,
            payer_claim_control_number=seg.get(7) or None,
            statement_date=b.dates.get("232"),
            adjustments=tuple(b.adjustments),
            lines=lines,
            remark_codes=tuple(dict.fromkeys(b.remarks)),
            position=seg.position,
        )
        errors = list(b.errors)
        for ln in lines:
            if ln.charge - ln.paid != ln.adjustment_total:
                reason = (
                    f"service line {ln.qualifier}:{ln.procedure_code} at {ln.position} is "
                    f"unbalanced: SVC02 {ln.charge} - SVC03 {ln.paid} = {ln.charge - ln.paid}, "
                    f"its CAS adjustments total {ln.adjustment_total}"
                )
                errors.append(reason)
                self.problem(seg, reason, claim=pcn)
        if claim.charge - claim.paid != claim.adjustment_total:
            reason = (
                f"unbalanced claim: CLP03 {claim.charge} - CLP04 {claim.paid} = "
                f"{claim.charge - claim.paid}, but its CAS adjustments (claim and line level) "
                f"total {claim.adjustment_total}"
            )
            errors.append(reason)
            self.problem(seg, reason, claim=pcn)
        elif lines and claim.lines_paid - claim.claim_adjustment_total != claim.paid:
            reason = (
                f"unbalanced claim: its lines pay {claim.lines_paid} less claim-level "
                f"adjustments {claim.claim_adjustment_total}, but CLP04 is {claim.paid}"
            )
            errors.append(reason)
            self.problem(seg, reason, claim=pcn)
        for adj in claim.adjustments + tuple(a for ln in lines for a in ln.adjustments):
            if adj.group not in INSURANCE_ADJUSTMENT_GROUPS | {PATIENT_GROUP}:
                reason = f"CAS group code {adj.group!r} is not CO, OA, PI, CR or PR"
                errors.append(reason)
                self.problem(seg, reason, claim=pcn)
        if errors:
            claim = _replace_errors(claim, tuple(errors))
        self.claims.append(claim)

    def finish(self, last: _Segment | None) -> None:
        if self.in_st is not None:
            self.problem(
                last,
                f"the file ends inside transaction set {self.in_st.get(2)!r} (no SE): "
                "the file is truncated",
            )
            self.finish_st(None)


def _replace_errors(claim: Claim, errors: tuple[str, ...]) -> Claim:
    return dataclasses.replace(claim, errors=errors)


def parse_835(path: str | Path, *, validate: bool = True) -> Remittance:
    """Read an X12 835 file into a :class:`Remittance`, reporting what cannot be read.

    Parameters
    ----------
    path
        The 835 file. Separators come from its ISA segment; a byte-order mark, CRLF line
        breaks and indentation between segments are accepted.
    validate
        Also run the file through pyx12 and report claims or service lines it could not
        place (and its validation findings) as warnings.

    Returns
    -------
    Remittance
        The payments and claims read, with every problem: unreadable segments, claims that
        cannot be read or do not balance (``Claim.errors``), truncation, count mismatches.

    Raises
    ------
    ImportError835
        If the file cannot be read at all (missing, empty, not an X12 interchange, an ISA
        segment whose separators cannot be read).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        msg = f"{p}: cannot read the file ({exc.strerror}); check the path"
        raise ImportError835(msg) from exc
    file = str(p)
    seps, segments, problems = _segments(data, file)
    parser = _Parser(file, seps)
    parser.problems.extend(problems)
    for seg in segments:
        parser.feed(seg)
    parser.finish(segments[-1] if segments else None)
    if not any(s.id == "IEA" for s in segments):
        parser.problem(
            segments[-1] if segments else None,
            "the file has no IEA segment: it is truncated",
        )
    if not parser.payments:
        msg = f"{file}: no 835 transaction set (ST*835 .. SE) could be read"
        raise ImportError835(msg)
    pyx_claims: int | None = None
    pyx_lines: int | None = None
    remittance_claims = [c for p_ in parser.payments for c in p_.claims]
    if validate:
        pyx_claims, pyx_lines = _cross_check(data, file, segments, parser, remittance_claims)
    return Remittance(
        file=file,
        sha256=hashlib.sha256(data).hexdigest(),
        separators=seps,
        payments=tuple(parser.payments),
        problems=tuple(parser.problems),
        pyx12_claims=pyx_claims,
        pyx12_lines=pyx_lines,
    )


# --------------------------------------------------------------------------- pyx12


@contextlib.contextmanager
def _quiet_pyx12() -> Iterator[None]:
    logger = logging.getLogger("pyx12")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


def _cross_check(
    data: bytes,
    file: str,
    segments: Sequence[_Segment],
    parser: _Parser,
    claims: Sequence[Claim],
) -> tuple[int | None, int | None]:
    """Run pyx12 over the file; report its findings and any claims or lines it dropped."""
    import pyx12.errh_json
    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12context
    from pyx12 import __version__ as pyx12_version

    by_index = {s.position.segment: s for s in segments}
    text = data.decode("latin-1").removeprefix("\u00ef\u00bb\u00bf")
    errh = pyx12.error_handler.err_handler()
    n_claims = n_lines = 0
    try:
        with _quiet_pyx12():
            reader = pyx12.x12context.X12ContextReader(
                pyx12.params.params(), errh, io.StringIO(text)
            )
            with reader:
                for node in reader.iter_segments():
                    path = node.cur_path
                    if path.endswith("/2100/CLP"):
                        n_claims += 1
                    elif path.endswith("/2110/SVC"):
                        n_lines += 1
            out = io.StringIO()
            errh.accept(pyx12.errh_json.errh_json_visitor(out, None))
        found = _pyx12_findings(json.loads(out.getvalue()))
    except Exception as exc:
        parser.problem(
            None,
            f"pyx12 {pyx12_version} could not validate the file ({type(exc).__name__}: {exc}); "
            "claim and line counts were not cross-checked",
            severity=WARNING,
        )
        return None, None
    seen: set[str] = set()
    for line_no, message in found:
        if message in seen:
            continue
        seen.add(message)
        seg = by_index.get(line_no) if line_no is not None else None
        parser.problem(seg, f"pyx12: {message}", severity=WARNING)
    own_claims = len(claims)
    own_lines = sum(len(c.lines) for c in claims)
    if n_claims < own_claims or n_lines < own_lines:
        parser.problem(
            None,
            f"pyx12 placed {n_claims} claims and {n_lines} service lines where this reader "
            f"found {own_claims} claims and {own_lines} lines: pyx12 drops the loops it cannot "
            "place (see its findings above); this reader's claims are kept",
            severity=WARNING,
        )
    return n_claims, n_lines


def _pyx12_findings(doc: Mapping[str, Any]) -> list[tuple[int | None, str]]:
    """Flatten pyx12's JSON error report into (file segment number, message) pairs."""
    out: list[tuple[int | None, str]] = []

    def errors(node: Mapping[str, Any], line: int | None) -> None:
        out.extend((line, str(e.get("err_str"))) for e in node.get("errors") or ())

    for isa in doc.get("interchanges") or ():
        errors(isa, None)
        for gs in isa.get("groups") or ():
            errors(gs, None)
            for st in gs.get("transactions") or ():
                errors(st, None)
                for seg in st.get("segments") or ():
                    line = seg.get("cur_line")
                    errors(seg, line)
                    for ele in seg.get("elements") or ():
                        errors(ele, line)
    return out


# --------------------------------------------------------------------------- import


@dataclass(frozen=True)
class FileImport:
    """What an import did with one file."""

    file: str
    claims: int
    lines: int
    matched: int
    posted_rows: int
    paid_total: Decimal
    adjustments_total: Decimal
    posted_paid_total: Decimal
    posted_adjustments_total: Decimal
    provider_adjustments: tuple[ProviderAdjustment, ...]
    problems: tuple[X12Problem, ...]
    refused: str | None = None

    @property
    def errors(self) -> tuple[X12Problem, ...]:
        """The problems of severity ``error``."""
        return tuple(p for p in self.problems if p.severity == ERROR)


@dataclass(frozen=True)
class Import835Report:
    """What :func:`import_835` did: per file, and the snapshot replacement (if any)."""

    files: tuple[FileImport, ...]
    transactions_added: int
    import_report: ImportReport | None


@dataclass(frozen=True)
class _Posting:
    line: ServiceLine | None
    type: TransactionType
    bucket: Bucket
    amount: Decimal
    group: str | None
    reason: str | None
    remarks: str | None
    with_payer: bool


def _postings(claim: Claim) -> list[_Posting]:
    """Build the ledger rows one claim makes, before they are matched to charges.

    Claim-level adjustments go to the line that pays most (first on ties), whose payment is
    reduced by them: the 835 balances ``CLP04 = sum(SVC03) - claim-level CAS``, so every
    line still nets to zero. A claim without lines is one posting unit.
    """
    sign = Decimal(1)
    if claim.is_reversal and (claim.charge > 0 or claim.paid > 0):
        sign = Decimal(-1)  # a payer that does not sign its reversals: undo, never add
    claim_remarks = list(claim.remark_codes)
    units: list[tuple[ServiceLine | None, Decimal, list[Adjustment], list[str]]] = []
    if claim.lines:
        target = max(range(len(claim.lines)), key=lambda i: (claim.lines[i].paid, -i))
        for i, ln in enumerate(claim.lines):
            adjustments = list(ln.adjustments)
            paid = ln.paid
            if i == target:
                adjustments += list(claim.adjustments)
                paid -= claim.claim_adjustment_total
            units.append((ln, paid, adjustments, list(ln.remark_codes) + claim_remarks))
    else:
        units.append((None, claim.paid, list(claim.adjustments), claim_remarks))
    out: list[_Posting] = []
    for line, paid, adjustments, remarks in units:
        text = ",".join(dict.fromkeys(remarks)) or None
        if paid != 0:
            out.append(
                _Posting(
                    line,
                    TransactionType.INSURANCE_PAYMENT,
                    Bucket.INSURANCE,
                    -paid * sign,
                    None,
                    None,
                    text,
                    True,
                )
            )
        for adj in adjustments:
            amount = adj.amount * sign
            if amount == 0:
                continue
            if adj.group == PATIENT_GROUP:
                out.append(
                    _Posting(
                        line,
                        TransactionType.TRANSFER,
                        Bucket.INSURANCE,
                        -amount,
                        adj.group,
                        adj.reason,
                        text,
                        True,
                    )
                )
                out.append(
                    _Posting(
                        line,
                        TransactionType.TRANSFER,
                        Bucket.PATIENT,
                        amount,
                        adj.group,
                        adj.reason,
                        text,
                        False,
                    )
                )
            else:
                out.append(
                    _Posting(
                        line,
                        TransactionType.INSURANCE_ADJUSTMENT,
                        Bucket.INSURANCE,
                        -amount,
                        adj.group,
                        adj.reason,
                        text,
                        True,
                    )
                )
    return out


@dataclass
class _LedgerView:
    encounters: dict[str, dt.date]
    charges_by_encounter: dict[str, list[dict[str, Any]]]
    charges: dict[str, dict[str, Any]]
    payers: set[str]
    payers_by_name: dict[str, str]
    transaction_ids: set[str]
    posted_charges: set[str]
    current_payer: dict[str, str | None]


def _ledger_view(frames: Mapping[str, pl.DataFrame], balances: pl.DataFrame) -> _LedgerView:
    enc = {
        r["encounter_id"]: r["date_of_service"] for r in frames["encounters"].iter_rows(named=True)
    }
    charges: dict[str, dict[str, Any]] = {}
    by_enc: dict[str, list[dict[str, Any]]] = {}
    for r in frames["charges"].sort("charge_id").iter_rows(named=True):
        charges[r["charge_id"]] = r
        by_enc.setdefault(r["encounter_id"], []).append(r)
    payers = frames["payers"]
    tx = frames["transactions"]
    insurance_posted = tx.filter(
        pl.col("type").is_in(
            [TransactionType.INSURANCE_PAYMENT, TransactionType.INSURANCE_ADJUSTMENT]
        )
    )
    return _LedgerView(
        encounters=enc,
        charges_by_encounter=by_enc,
        charges=charges,
        payers=set(payers["payer_id"].to_list()),
        payers_by_name={
            str(n).strip().casefold(): pid
            for pid, n in zip(payers["payer_id"], payers["payer_name"], strict=True)
        },
        transaction_ids=set(tx["transaction_id"].to_list()),
        posted_charges=set(insurance_posted["charge_id"].to_list()),
        current_payer=dict(zip(balances["charge_id"], balances["current_payer_id"], strict=True)),
    )


def _match_lines(claim: Claim, view: _LedgerView) -> tuple[dict[int, str], list[str]]:
    """Map each posting unit (line index, or -1 for a claim without lines) to a charge id."""
    enc_id = claim.patient_control_number
    reasons: list[str] = []
    if enc_id not in view.encounters:
        return {}, [f"no encounter {enc_id!r} in the ledger (CLP01 is matched to encounter_id)"]
    dos = view.encounters[enc_id]
    candidates = view.charges_by_encounter.get(enc_id, [])
    if not claim.lines:
        if len(candidates) == 1:
            return {-1: candidates[0]["charge_id"]}, []
        return {}, [
            f"the claim has no service lines and encounter {enc_id!r} has {len(candidates)} "
            "charges; a claim-level payment is not spread over charges"
        ]
    used: set[str] = set()
    matched: dict[int, str] = {}
    for i, ln in enumerate(claim.lines):
        cn = ln.control_number
        if cn is not None and cn in view.charges:
            if view.charges[cn]["encounter_id"] != enc_id:
                reasons.append(
                    f"line {ln.position}: REF*6R {cn!r} is a charge of encounter "
                    f"{view.charges[cn]['encounter_id']!r}, not {enc_id!r}"
                )
                continue
            matched[i] = cn
            used.add(cn)
            continue
        date = ln.service_date or claim.statement_date
        if date is not None and date != dos:
            reasons.append(
                f"line {ln.position} {ln.procedure_code}: service date {date} is not the "
                f"date of service {dos} of encounter {enc_id!r}"
            )
            continue
        same_code = [
            c
            for c in candidates
            if c["procedure_code"] == ln.procedure_code and c["charge_id"] not in used
        ]
        exact = [c for c in same_code if c["charge_amount"] == ln.charge] or same_code
        if not exact:
            via = f"REF*6R {cn!r} is not a charge, and " if cn is not None else ""
            reasons.append(
                f"line {ln.position}: {via}encounter {enc_id!r} has no unmatched charge "
                f"with procedure code {ln.procedure_code!r}"
            )
            continue
        matched[i] = exact[0]["charge_id"]
        used.add(exact[0]["charge_id"])
    return matched, reasons


def _resolve_payer(payment: Payment, view: _LedgerView, payer_id: str | None) -> str | None:
    if payer_id is not None:
        return payer_id
    for pid in (*payment.payer_ids, payment.payer_identifier):
        if pid and pid in view.payers:
            return pid
    if payment.payer_name:
        return view.payers_by_name.get(payment.payer_name.strip().casefold())
    return None


def import_835(
    ledger: Ledger,
    files: Sequence[str | Path],
    *,
    payer_id: str | None = None,
    validate: bool = True,
) -> Import835Report:
    """Post 835 remittances onto the loaded ledger, matched to its charges.

    Each readable, balanced claim whose patient control number (CLP01) is an encounter
    and whose lines all match charges (REF*6R = charge_id, else procedure code and date of
    service on that encounter) becomes transactions: ``INSURANCE_PAYMENT`` (negative),
    ``INSURANCE_ADJUSTMENT`` for CAS groups CO/OA/PI/CR, and a ``TRANSFER`` pair out of
    INSURANCE into PATIENT for group PR (reference: the TRN02 trace number). A reversal
    (CLP02 = 22) posts the negated amounts, undoing what it reverses. Remark codes of the
    line and claim go to ``remark_codes``. PLB adjustments are reported, not posted.

    Transaction ids are ``835:<TRN02>:<CLP01>:<n>``, numbered in file order, so a claim
    already imported is skipped (and reported), never posted twice. The new rows are
    appended to the store's snapshot in one transaction; if anything fails the store is
    left as it was.

    Parameters
    ----------
    ledger
        A store with an extract loaded.
    files
        835 files. A file that cannot be read at all is reported as refused.
    payer_id
        The ledger payer of these remittances. By default the 835's payer (N1*PR N104,
        REF*2U, TRN03, or its name) is looked up among the ledger's payers, else each row
        carries its charge's current insurance payer.
    validate
        Cross-check each file with pyx12 (see :func:`parse_835`).

    Returns
    -------
    Import835Report
        Per file: claims, lines, matched claims, totals, PLB adjustments and problems.

    Raises
    ------
    LedgerError
        If no extract is loaded, or ``payer_id`` is not one of the ledger's payers.
    """
    ledger.require_loaded()
    with ledger.connect() as con:
        frames = {
            t: queries.frame(con, f"select_snapshot_{t}")
            for t in ("payers", "patients", "coverages", "encounters", "charges", "transactions")
        }
        balances = ledger.balances()
        previous = ledger.fingerprint()
        view = _ledger_view(frames, balances)
        if payer_id is not None and payer_id not in view.payers:
            msg = (
                f"payer_id {payer_id!r} is not a payer of the loaded ledger; "
                f"known: {', '.join(sorted(view.payers)) or '(none)'}"
            )
            raise LedgerError(msg)
        rows: list[dict[str, Any]] = []
        reports: list[FileImport] = []
        records: list[FileRecord] = []
        for f in files:
            report, new_rows, sha = _import_file(Path(f), view, payer_id, validate)
            reports.append(report)
            rows.extend(new_rows)
            if sha is not None:
                records.append(FileRecord("transactions", str(f), sha, len(new_rows), 0))
        import_report = None
        if rows:
            new = pl.DataFrame(rows, schema=polars_schema(TRANSACTIONS))
            old = conform(TRANSACTIONS, frames["transactions"])
            frames["transactions"] = pl.concat([old, new], how="diagonal")
            if previous is not None:
                records.insert(0, FileRecord("snapshot", "previous snapshot", previous, 0, 0))
            problems = [
                RowProblem(
                    "transactions",
                    p.file,
                    p.position.segment if p.position else None,
                    p.segment_id,
                    p.claim,
                    p.reason,
                )
                for r in reports
                for p in r.problems
                if p.severity == ERROR
            ]
            import_report = replace_snapshot(
                ledger,
                frames,
                source="835: " + ", ".join(str(f) for f in files),
                files=records,
                problems=problems,
            )
    return Import835Report(
        files=tuple(reports), transactions_added=len(rows), import_report=import_report
    )


def _import_file(
    path: Path, view: _LedgerView, payer_id: str | None, validate: bool
) -> tuple[FileImport, list[dict[str, Any]], str | None]:
    file = str(path)
    try:
        rem = parse_835(path, validate=validate)
    except ImportError835 as exc:
        refused = FileImport(file, 0, 0, 0, 0, ZERO, ZERO, ZERO, ZERO, (), (), refused=str(exc))
        return refused, [], None
    problems = list(rem.problems)
    rows: list[dict[str, Any]] = []
    matched = 0
    posted_paid = posted_adj = ZERO
    for payment in rem.payments:
        trace = payment.trace_number
        payer = _resolve_payer(payment, view, payer_id)
        if payer is None:
            problems.append(
                X12Problem(
                    file,
                    payment.position,
                    "N1",
                    f"payer {payment.payer_name!r} (ids {', '.join(payment.payer_ids) or '-'}) "
                    "is not a ledger payer; its rows carry each charge's current insurance payer "
                    "(pass payer_id to choose one)",
                    WARNING,
                )
            )
        seq: dict[str, int] = {}
        for claim in payment.claims:
            pcn = claim.patient_control_number
            if claim.errors:
                continue  # reported when read
            if trace is None or payment.posted_date is None:
                problems.append(
                    X12Problem(
                        file,
                        claim.position,
                        "CLP",
                        "not posted: the payment has no TRN02 trace number or no payment or "
                        "production date (BPR16, DTM*405)",
                        ERROR,
                        pcn,
                    )
                )
                continue
            postings = _postings(claim)
            ids = []
            for _ in postings:
                seq[pcn] = seq.get(pcn, 0) + 1
                ids.append(f"835:{trace}:{pcn}:{seq[pcn]}")
            charge_of, reasons = _match_lines(claim, view)
            if reasons:
                for reason in reasons:
                    problems.append(
                        X12Problem(
                            file,
                            claim.position,
                            "CLP",
                            f"unmatched claim, not posted: {reason}",
                            ERROR,
                            pcn,
                        )
                    )
                continue
            dup = next((i for i in ids if i in view.transaction_ids), None)
            if dup is not None:
                problems.append(
                    X12Problem(
                        file,
                        claim.position,
                        "CLP",
                        f"already imported (transaction {dup} exists); skipped, not posted twice",
                        WARNING,
                        pcn,
                    )
                )
                continue
            if claim.is_reversal and (claim.charge > 0 or claim.paid > 0):
                problems.append(
                    X12Problem(
                        file,
                        claim.position,
                        "CLP",
                        "reversal (CLP02 22) with positive amounts; posted negated so that it "
                        "undoes the payment it reverses",
                        WARNING,
                        pcn,
                    )
                )
            if claim.is_reversal:
                targets = set(charge_of.values())
                if not targets & view.posted_charges:
                    problems.append(
                        X12Problem(
                            file,
                            claim.position,
                            "CLP",
                            "reversal (CLP02 22) of charges with no insurance posting in the "
                            "ledger; posted as the file says",
                            WARNING,
                            pcn,
                        )
                    )
            matched += 1
            for tid, post in zip(ids, postings, strict=True):
                index = claim.lines.index(post.line) if post.line is not None else -1
                charge_id = charge_of[index]
                row_payer = payer if payer is not None else view.current_payer.get(charge_id)
                rows.append(
                    {
                        "transaction_id": tid,
                        "charge_id": charge_id,
                        "posted_date": payment.posted_date,
                        "type": post.type.value,
                        "responsibility": post.bucket.value,
                        "payer_id": row_payer if post.with_payer else None,
                        "amount": post.amount,
                        "group_code": post.group,
                        "reason_code": post.reason,
                        "reference": trace,
                        "remark_codes": post.remarks,
                    }
                )
                view.transaction_ids.add(tid)
                if post.type is TransactionType.INSURANCE_PAYMENT:
                    posted_paid -= post.amount
                elif post.bucket is Bucket.INSURANCE:
                    posted_adj -= post.amount
                view.posted_charges.add(charge_id)
    readable = rem.claims
    report = FileImport(
        file=file,
        claims=len(readable),
        lines=rem.line_count,
        matched=matched,
        posted_rows=len(rows),
        paid_total=sum((c.paid for c in readable), ZERO),
        adjustments_total=sum((c.adjustment_total for c in readable), ZERO),
        posted_paid_total=posted_paid,
        posted_adjustments_total=posted_adj,
        provider_adjustments=rem.provider_adjustments,
        problems=tuple(problems),
    )
    return report, rows, rem.sha256
