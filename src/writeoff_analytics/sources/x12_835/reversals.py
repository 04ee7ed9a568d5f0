"""Tie a reversal (CLP02 22) to the earlier posted payment it reverses, at most once.

An 835 reversal undoes a claim payment the payer made before. It posts only when it matches
an earlier posted claim payment of the same payer that no reversal has undone yet:

- by the payer claim control number (CLP07) when the reversal has one and a posted claim
  payment carries it (the ``payer_claim_control_number`` column of 835 rows), else
- by the patient control number (CLP01) and the amount paid (the reversal's CLP04 negated).

The paid amounts must agree in both cases. Originals are paired with reversals in posting
order (the first unreversed one), so a second reversal of a claim reversed once is
refused, and a correction claim (CLP02 1, 2, 3, 19, 20, 21) that follows posts normally
and can be reversed in turn. The rules are written in ``docs/spec/X12_835_POSTING.md``.

Posted claims are read back from the transactions table: each 835 row has the id
``835:<TRN02>:<CLP01>:<n>``, ``reference`` = TRN02, and the extra columns
``claim_status`` (CLP02) and ``payer_claim_control_number`` (CLP07).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from writeoff_analytics.ledger.schema import Bucket, TransactionType
from writeoff_analytics.money import ZERO
from writeoff_analytics.sources.x12_835.remittance import REVERSAL_STATUS

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import polars as pl

    from writeoff_analytics.sources.x12_835.remittance import Claim

__all__ = [
    "CLAIM_STATUS_COLUMN",
    "PAYER_CLAIM_COLUMN",
    "PostedClaim",
    "PostedClaims",
    "claim_key_of",
]

#: Extra transactions columns 835 rows carry (LEDGER_FORMAT.md keeps extra columns).
CLAIM_STATUS_COLUMN = "claim_status"
PAYER_CLAIM_COLUMN = "payer_claim_control_number"


def claim_key_of(transaction_id: str, reference: str | None) -> str | None:
    """The CLP01 of an 835 row's id ``835:<TRN02>:<CLP01>:<n>``; ``None`` for other rows.

    Examples
    --------
    >>> claim_key_of("835:EFT1:E:1:3", "EFT1"), claim_key_of("W-1", None)
    ('E:1', None)
    """
    if reference is None:
        return None
    prefix = f"835:{reference}:"
    if not transaction_id.startswith(prefix):
        return None
    rest = transaction_id[len(prefix) :]
    pcn, sep, n = rest.rpartition(":")
    return pcn if sep and pcn and n.isdigit() else None


@dataclass
class PostedClaim:
    """One claim payment (or reversal) as posted: its rows grouped by trace, claim, status."""

    trace: str
    patient_control_number: str
    status: str | None
    payer_claim_control_number: str | None
    payer_id: str | None = None
    paid: Decimal = ZERO
    insurance_net: Decimal = ZERO
    charges: set[str] = field(default_factory=set)

    @property
    def is_reversal(self) -> bool:
        """CLP02 22, or (rows posted before the status was kept) a net rise of insurance."""
        if self.status is not None:
            return self.status == REVERSAL_STATUS
        return self.insurance_net > 0


class PostedClaims:
    """The 835 claim payments and reversals of a ledger, in posting order; grows as we post."""

    def __init__(self) -> None:
        self._claims: dict[tuple[str, str, str | None, str | None], PostedClaim] = {}

    @classmethod
    def from_transactions(cls, tx: pl.DataFrame) -> PostedClaims:
        """Group the 835 rows of a transactions frame (sorted by posted date, then id)."""
        posted = cls()
        cols = set(tx.columns)
        ordered = tx.sort("posted_date", "transaction_id")
        for r in ordered.iter_rows(named=True):
            pcn = claim_key_of(r["transaction_id"], r["reference"])
            if pcn is None:
                continue
            posted.add_row(
                r["reference"],
                pcn,
                r.get(CLAIM_STATUS_COLUMN) if CLAIM_STATUS_COLUMN in cols else None,
                r.get(PAYER_CLAIM_COLUMN) if PAYER_CLAIM_COLUMN in cols else None,
                r,
            )
        return posted

    def add_row(
        self,
        trace: str,
        pcn: str,
        status: str | None,
        clp07: str | None,
        row: Mapping[str, object],
    ) -> None:
        """Count one posted row into its claim."""
        key = (trace, pcn, status, clp07)
        claim = self._claims.get(key)
        if claim is None:
            claim = self._claims[key] = PostedClaim(trace, pcn, status, clp07)
        amount = row["amount"]
        assert isinstance(amount, Decimal)
        if row["responsibility"] == Bucket.INSURANCE:
            claim.insurance_net += amount
            if claim.payer_id is None and isinstance(row["payer_id"], str):
                claim.payer_id = row["payer_id"]
        if row["type"] == TransactionType.INSURANCE_PAYMENT:
            claim.paid -= amount
        claim.charges.add(str(row["charge_id"]))

    def add_rows(self, rows: Iterable[Mapping[str, object]]) -> None:
        """Count the rows one claim just posted."""
        for r in rows:
            pcn = claim_key_of(str(r["transaction_id"]), str(r["reference"]))
            if pcn is not None:
                status, clp07 = r.get(CLAIM_STATUS_COLUMN), r.get(PAYER_CLAIM_COLUMN)
                self.add_row(
                    str(r["reference"]),
                    pcn,
                    status if isinstance(status, str) else None,
                    clp07 if isinstance(clp07, str) else None,
                    r,
                )

    def original_of(
        self, reversal: Claim, payer_id: str | None, charges: set[str]
    ) -> tuple[PostedClaim | None, str]:
        """The posted payment ``reversal`` undoes, or ``None`` and why it matches none.

        ``payer_id`` is the payer the remittance names (``None``: not a ledger payer, the
        claim alone decides); ``charges`` are the charges the reversal's lines matched.
        """
        paid = abs(reversal.paid)
        clp07 = reversal.payer_claim_control_number
        same_payer = [
            c
            for c in self._claims.values()
            if payer_id is None or c.payer_id is None or c.payer_id == payer_id
        ]
        by_clp07 = [
            c for c in same_payer if clp07 is not None and c.payer_claim_control_number == clp07
        ]
        if by_clp07:
            group, how = by_clp07, f"payer claim control number (CLP07) {clp07!r}"
            originals = [c for c in group if not c.is_reversal]
            wrong = [c for c in originals if c.paid != paid]
            if originals and len(wrong) == len(originals):
                return None, (
                    f"the payment with {how} paid {wrong[0].paid}, the reversal takes back "
                    f"{paid}: a reversal undoes a whole payment; not posted"
                )
            originals = [c for c in originals if c.paid == paid]
            reversals = [c for c in group if c.is_reversal and c.paid == -paid]
        else:
            pcn = reversal.patient_control_number
            group = [c for c in same_payer if c.patient_control_number == pcn]
            how = f"claim {pcn!r} (CLP01) paid {paid}"
            if clp07 is not None:
                how = f"payer claim control number (CLP07) {clp07!r}, nor of {how}"
            originals = [c for c in group if not c.is_reversal and c.paid == paid]
            reversals = [c for c in group if c.is_reversal and c.paid == -paid]
        payer = f" from payer {payer_id!r}" if payer_id is not None else ""
        if not originals:
            return None, (
                f"reversal (CLP02 22) of no posted payment: no earlier payment of {how}{payer} "
                "is in the ledger; not posted (import the original remittance first)"
            )
        if len(reversals) >= len(originals):
            return None, (
                f"reversal (CLP02 22) of a payment already reversed: the payment of {how}"
                f"{payer} (trace {originals[-1].trace}) was reversed by trace "
                f"{reversals[-1].trace}; not posted twice"
            )
        original = originals[len(reversals)]
        if charges - original.charges:
            return None, (
                f"reversal (CLP02 22) of charges {', '.join(sorted(charges - original.charges))} "
                f"that the payment of {how} (trace {original.trace}) did not post to; not posted"
            )
        return original, ""
