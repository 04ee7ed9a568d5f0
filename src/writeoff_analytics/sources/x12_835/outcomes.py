"""What an 835 import did with each claim: posted, skipped, refused, unmatched or reported.

:class:`ClaimOutcome` is one claim's result with its place (file, segment number, byte
offset) and why; :func:`count_outcomes` makes the summary and
:func:`write_unposted_csv` writes the claims that did not post for the analyst to work,
through the one CSV writer (:mod:`writeoff_analytics.export.csv`). Re-reading that CSV
gives the summary's counts of every outcome but ``posted``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from writeoff_analytics.export.csv import csv_cell, write_rows_file

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable
    from decimal import Decimal
    from pathlib import Path

__all__ = [
    "UNPOSTED_COLUMNS",
    "ClaimOutcome",
    "Outcome",
    "count_outcomes",
    "write_unposted_csv",
]


class Outcome(StrEnum):
    """What an import did with one claim (docs/spec/X12_835_POSTING.md)."""

    POSTED = "posted"
    SKIPPED = "skipped"  # already imported: its transaction ids exist
    REFUSED = "refused"  # cannot or must not post as it is (unreadable, unbalanced, reversal)
    UNMATCHED = "unmatched"  # no encounter, charge or line of the ledger it belongs to
    REPORTED = "reported"  # posts nothing by its status (predetermination, not our claim)


@dataclass(frozen=True)
class ClaimOutcome:
    """One claim's outcome, its place and why (ids only, never names)."""

    file: str
    claim: str
    status: str | None
    payer_claim_control_number: str | None
    segment: int | None
    offset: int | None
    outcome: Outcome
    reason: str
    paid: Decimal | None = None


#: The columns of the unposted-claims CSV, in order.
UNPOSTED_COLUMNS = (
    "file",
    "segment",
    "byte_offset",
    "patient_control_number",
    "claim_status",
    "payer_claim_control_number",
    "paid_amount",
    "outcome",
    "reason",
)


def count_outcomes(outcomes: Iterable[ClaimOutcome]) -> dict[Outcome, int]:
    """How many claims had each outcome (every outcome listed, zero included).

    Examples
    --------
    >>> c = ClaimOutcome("a.835", "E1", "25", None, 12, 340, Outcome.REPORTED, "predetermination")
    >>> count_outcomes([c])[Outcome.REPORTED], count_outcomes([c])[Outcome.POSTED]
    (1, 0)
    """
    counts = dict.fromkeys(Outcome, 0)
    for o in outcomes:
        counts[o.outcome] += 1
    return counts


def write_unposted_csv(
    path: str | os.PathLike[str] | Path, outcomes: Iterable[ClaimOutcome]
) -> int:
    """Write the claims that did not post (one row each, file order) to ``path``; return how many.

    Columns: :data:`UNPOSTED_COLUMNS`. The file is replaced atomically.
    """
    rows = [
        [
            csv_cell(o.file),
            csv_cell(o.segment),
            csv_cell(o.offset),
            csv_cell(o.claim),
            csv_cell(o.status),
            csv_cell(o.payer_claim_control_number),
            csv_cell(o.paid),
            csv_cell(o.outcome.value),
            csv_cell(o.reason),
        ]
        for o in outcomes
        if o.outcome is not Outcome.POSTED
    ]
    write_rows_file(path, UNPOSTED_COLUMNS, rows)
    return len(rows)
