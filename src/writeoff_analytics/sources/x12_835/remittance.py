"""The remittance as read: payments, claims, service lines, CAS adjustments, PLB, payer ids.

Values only, frozen, money as exact :class:`~decimal.Decimal`: :mod:`.parser` builds them from
segments, :mod:`.posting` turns them into ledger transactions. The balancing rules an 835
promises (``CLP03 - CLP04`` = the claim's CAS; lines pay ``CLP04``) are properties here, so
the reader that refuses an unbalanced claim and the tests that check posting to the cent
use one statement of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from writeoff_analytics.money import ZERO
from writeoff_analytics.sources.x12_835.segments import ERROR

if TYPE_CHECKING:
    import datetime as dt
    from decimal import Decimal

    from writeoff_analytics.sources.x12_835.segments import Position, Separators, X12Problem

__all__ = [
    "INSURANCE_ADJUSTMENT_GROUPS",
    "PATIENT_GROUP",
    "POSTED_STATUSES",
    "QMB_REMARKS",
    "REPORTED_STATUSES",
    "REVERSAL_STATUS",
    "Adjustment",
    "Claim",
    "Payment",
    "ProviderAdjustment",
    "Remittance",
    "ServiceLine",
]

#: CAS group codes posted as payer-side adjustments; PR (patient responsibility) is a transfer.
INSURANCE_ADJUSTMENT_GROUPS = frozenset({"CO", "OA", "PI", "CR"})
PATIENT_GROUP = "PR"
#: Remark codes (RARCs) that say a QMB patient may not be billed (issue 8).
QMB_REMARKS = frozenset({"N781", "N782", "N783"})
REVERSAL_STATUS = "22"
#: CLP02 claim statuses that post as the 835 says (docs/spec/X12_835_POSTING.md): processed
#: as primary, secondary, tertiary; denied (its CAS put the balance where its CARCs say);
#: processed and forwarded to another payer.
POSTED_STATUSES = frozenset({"1", "2", "3", "4", "19", "20", "21"})
#: CLP02 claim statuses that post nothing and are reported, with why.
REPORTED_STATUSES = {
    "23": "not our claim (CLP02 23): the payer says this claim is not its to pay; nothing "
    "is posted, bill the right payer",
    "25": "predetermination (CLP02 25): an estimate, nothing was paid and the patient owes "
    "nothing from it; nothing is posted",
}


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
    #: DTM*233, the end of the claim's statement period (``statement_date`` is DTM*232).
    statement_end_date: dt.date | None = None

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
    """A whole 835 file as read: its payments and every problem, with their places."""

    file: str
    sha256: str
    separators: Separators
    payments: tuple[Payment, ...]
    problems: tuple[X12Problem, ...]

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
