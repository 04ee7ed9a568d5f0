"""Build a :class:`~.remittance.Remittance` from an 835's segments, in one pass.

:func:`parse_835` reads the file once (:func:`~.segments.read_segments`) and walks its
segments with a small state machine: ST..SE is a payment (BPR, TRN, DTM*405, N1*PR with
REF*2U), CLP opens a claim, SVC a service line, CAS/DTM/REF/LQ/MOA/MIA attach to the open
line or claim, PLB is a provider adjustment. A claim that cannot be read or does not
balance keeps its reasons in ``Claim.errors`` and each reason is a problem with its place;
amounts are never guessed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from writeoff_analytics.errors import ImportError835
from writeoff_analytics.money import ZERO
from writeoff_analytics.sources.x12_835.remittance import (
    INSURANCE_ADJUSTMENT_GROUPS,
    PATIENT_GROUP,
    Adjustment,
    Claim,
    Payment,
    ProviderAdjustment,
    Remittance,
    ServiceLine,
)
from writeoff_analytics.sources.x12_835.segments import (
    ERROR,
    WARNING,
    Segment,
    Separators,
    X12Problem,
    read_amount,
    read_date,
    read_segments,
)

if TYPE_CHECKING:
    import datetime as dt
    from decimal import Decimal

__all__ = ["parse_835"]

_CLAIM_FILE = "an 837 claim file"
_COMPONENT_GUESS_RE = re.compile(r"^([A-Z0-9]{2})([^A-Za-z0-9\s])(.+)$")


@dataclass
class _LineBuilder:
    seg: Segment
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
    seg: Segment
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
        self.in_st: Segment | None = None
        self.skip_st = False
        self.st_count = 0
        self.header: dict[str, Any] = {}
        self.claims: list[Claim] = []
        self.plb: list[ProviderAdjustment] = []
        self.claim: _ClaimBuilder | None = None
        self.skipping_claim: str | None = None
        #: The first ST that is not an 835 (an 837 claim file is refused as one).
        self.other_st: Segment | None = None

    # -- helpers
    def problem(
        self, seg: Segment | None, reason: str, *, severity: str = ERROR, claim: str | None = None
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

    def claim_error(self, seg: Segment, reason: str) -> None:
        assert self.claim is not None
        pcn = self.claim.seg.get(1)
        self.claim.errors.append(f"{seg.position} {seg.id}: {reason}")
        self.problem(seg, reason, claim=pcn)

    # -- segments
    def feed(self, seg: Segment) -> None:
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

    def start_st(self, seg: Segment) -> None:
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
            if self.other_st is None:
                self.other_st = seg
            kind = _CLAIM_FILE if seg.get(1) == "837" else f"transaction set {seg.get(1)!r}"
            self.problem(seg, f"{kind}, not an 835 remittance; skipped")

    def end_st(self, seg: Segment) -> None:
        declared = seg.get(1)
        if not self.skip_st and declared != str(self.st_count):
            self.problem(
                seg,
                f"SE01 says the transaction set has {declared} segments but it has "
                f"{self.st_count}: segments are missing or extra (a truncated or edited file)",
            )
        self.close_claim()
        self.finish_st(seg)

    def finish_st(self, se: Segment | None) -> None:
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

    def check_payment_total(self, payment: Payment, se: Segment | None) -> None:
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

    def seg_BPR(self, seg: Segment) -> None:
        total = read_amount(seg.get(2))
        if total is None:
            self.problem(seg, f"BPR02 {seg.get(2)!r} is not an amount", severity=WARNING)
        self.header["total"] = total
        raw = seg.get(16)
        date = read_date(raw)
        if raw and date is None:
            self.problem(
                seg,
                f"BPR16 payment date {raw!r} is not a valid date; DTM*405 is used instead",
                severity=WARNING,
            )
        self.header["payment_date"] = date

    def seg_TRN(self, seg: Segment) -> None:
        self.header["trace"] = seg.get(2) or None
        self.header["trace_payer"] = seg.get(3) or None
        if not seg.get(2):
            self.problem(seg, "TRN02 (check or EFT trace number) is empty")

    def seg_DTM(self, seg: Segment) -> None:
        qual, date = seg.get(1), read_date(seg.get(2))
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

    def seg_N1(self, seg: Segment) -> None:
        if self.claim is None and seg.get(1) == "PR":
            self.header["payer_name"] = seg.get(2) or None
            if seg.get(4):
                self.header["payer_ids"].append(seg.get(4))
            self.header["in_payer"] = True
        elif self.claim is None:
            self.header["in_payer"] = False

    def seg_REF(self, seg: Segment) -> None:
        if self.claim is None:
            if seg.get(1) == "2U" and self.header.get("in_payer") and seg.get(2):
                self.header["payer_ids"].append(seg.get(2))
            return
        line = self.claim.line
        if line is not None and seg.get(1) == "6R":
            line.control_number = seg.get(2) or None

    def seg_LQ(self, seg: Segment) -> None:
        if self.claim is None or self.claim.line is None:
            self.problem(seg, "LQ outside a service line; ignored", severity=WARNING)
            return
        if seg.get(1) == "HE" and seg.get(2):
            self.claim.line.remarks.append(seg.get(2))

    def seg_MOA(self, seg: Segment) -> None:
        if self.claim is not None:
            self.claim.remarks.extend(seg.get(i) for i in range(3, 8) if seg.get(i))

    def seg_MIA(self, seg: Segment) -> None:
        if self.claim is not None:
            self.claim.remarks.extend(seg.get(i) for i in (5, 20, 21, 22, 23) if seg.get(i))

    def seg_CAS(self, seg: Segment) -> None:
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
            amount = read_amount(raw)
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

    def seg_SVC(self, seg: Segment) -> None:
        if self.claim is None:
            self.problem(seg, "SVC outside a claim; not read")
            return
        composite = seg.get(1)
        parts = composite.split(self.seps.component)
        if len(parts) == 1:
            m = _COMPONENT_GUESS_RE.match(composite)
            if m:
                parts = composite.split(m.group(2))
                self.problem(
                    seg,
                    f"SVC01 {composite!r} does not use the ISA16 component separator "
                    f"{self.seps.component!r}; read with {m.group(2)!r} as its separator",
                    severity=WARNING,
                    claim=self.claim.seg.get(1),
                )
        charge, paid = read_amount(seg.get(2)), read_amount(seg.get(3))
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

    def seg_PLB(self, seg: Segment) -> None:
        for i in range(3, 15, 2):
            composite, raw = seg.get(i), seg.get(i + 1)
            if not composite and not raw:
                continue
            amount = read_amount(raw)
            parts = composite.split(self.seps.component)
            if amount is None or not parts[0]:
                self.problem(seg, f"PLB{i:02d}/PLB{i + 1:02d} {composite!r} {raw!r} cannot be read")
                continue
            self.plb.append(
                ProviderAdjustment(
                    provider_id=seg.get(1),
                    fiscal_date=read_date(seg.get(2)),
                    reason=parts[0],
                    reference=parts[1] if len(parts) > 1 and parts[1] else None,
                    amount=amount,
                    position=seg.position,
                )
            )

    def start_claim(self, seg: Segment) -> None:
        pcn = seg.get(1)
        charge, paid = read_amount(seg.get(3)), read_amount(seg.get(4))
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
        resp = read_amount(resp_raw) if resp_raw else None
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
            statement_end_date=b.dates.get("233"),
            adjustments=tuple(b.adjustments),
            lines=lines,
            remark_codes=tuple(dict.fromkeys(b.remarks)),
            position=seg.position,
        )
        errors = list(b.errors)
        if errors:
            # refused already, at the place the reader had: segments after an unreadable one
            # were not read, so a balance computed from the rest would mislead
            self.claims.append(_replace_errors(claim, tuple(errors)))
            return
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

    def finish(self, last: Segment | None) -> None:
        if self.in_st is not None:
            self.problem(
                last,
                f"the file ends inside transaction set {self.in_st.get(2)!r} (no SE): "
                "the file is truncated",
            )
            self.finish_st(None)


def _no_835(file: str, other: Segment | None, segments: list[Segment]) -> str:
    """Why a file without an 835 transaction set is refused, at the place the reader had."""
    gs = next((s for s in segments if s.id == "GS"), None)
    if other is not None and (other.get(1) == "837" or (gs is not None and gs.get(1) == "HC")):
        version = f", {other.get(3)}" if other.get(3) else ""
        return (
            f"{file}, {other.position}, ST: {_CLAIM_FILE} (ST*837{version}), not an 835 "
            "remittance: it bills claims, it pays none; import the payer's 835 for these claims"
        )
    if other is not None:
        return (
            f"{file}, {other.position}, ST: transaction set {other.get(1)!r}, not an 835 "
            "remittance; no 835 transaction set (ST*835 .. SE) could be read"
        )
    where = f", {segments[-1].position}" if segments else ""
    return f"{file}{where}: no 835 transaction set (ST*835 .. SE) could be read"


def _replace_errors(claim: Claim, errors: tuple[str, ...]) -> Claim:
    return dataclasses.replace(claim, errors=errors)


def parse_835(path: str | Path) -> Remittance:
    """Read an X12 835 file into a :class:`Remittance`, reporting what cannot be read.

    Parameters
    ----------
    path
        The 835 file. Separators come from its ISA segment; a byte-order mark, CRLF line
        breaks and indentation between segments are accepted.

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

    Examples
    --------
    >>> rem = parse_835("tests/data/x12/LinuxForHealth__x12__managed-care.835")
    >>> [(c.patient_control_number, c.charge, c.paid, c.adjustment_total) for c in rem.claims]
    [('5554555444', Decimal('800.00'), Decimal('450.00'), Decimal('350.00')), ('8765432112', Decimal('1200.00'), Decimal('495.00'), Decimal('705.00'))]
    >>> print(rem.problems[0].reason)
    BPR16 payment date '20002316' is not a valid date; DTM*405 is used instead
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        msg = f"{p}: cannot read the file ({exc.strerror}); check the path"
        raise ImportError835(msg) from exc
    file = str(p)
    seps, segments, problems = read_segments(data, file)
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
        raise ImportError835(_no_835(file, parser.other_st, segments))
    return Remittance(
        file=file,
        sha256=hashlib.sha256(data).hexdigest(),
        separators=seps,
        payments=tuple(parser.payments),
        problems=tuple(parser.problems),
    )
