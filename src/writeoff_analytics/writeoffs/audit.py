"""The audit log: an append-only record of every commit, reversal and refusal, with who and when.

Events are only ever inserted (there is no function that changes or removes one). An event
written inside a store transaction commits or rolls back with it; one written outside is
committed at once, so a refusal is recorded even though nothing else changed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from writeoff_analytics import queries

if TYPE_CHECKING:
    import polars as pl

    from writeoff_analytics.ledger.store import Ledger


class AuditAction(StrEnum):
    """What was attempted."""

    COMMIT = "COMMIT"
    REVERSE = "REVERSE"
    VIEW_HISTORY = "VIEW_HISTORY"
    REPAIR = "REPAIR"


class AuditOutcome(StrEnum):
    """How it ended."""

    DONE = "DONE"
    #: The same batch was committed again: its existing receipt was returned.
    REPEATED = "REPEATED"
    REFUSED = "REFUSED"


def record_event(
    ledger: Ledger,
    *,
    user: str,
    action: AuditAction,
    outcome: AuditOutcome,
    receipt_no: str | None = None,
    detail: str | None = None,
) -> int:
    """Append one event to the audit log and return its id.

    Inside ``ledger.transaction()`` the event is part of that transaction.

    Parameters
    ----------
    ledger
        The store.
    user
        Who acted (a user name, never a patient's).
    action, outcome
        What was attempted and how it ended.
    receipt_no
        The receipt concerned, if any.
    detail
        Why (a refusal's message: ids and amounts, no names).
    """
    with ledger.connect() as con:
        (row,) = queries.run(
            con,
            "insert_audit_event",
            user_name=user,
            action=action.value,
            outcome=outcome.value,
            receipt_no=receipt_no,
            detail=detail,
        )
    return int(row[0])


def audit_log(ledger: Ledger) -> pl.DataFrame:
    """Every audit event, oldest first: ``event_id occurred_at user_name action outcome receipt_no detail``."""
    with ledger.connect() as con:
        return queries.frame(con, "select_audit_log")
