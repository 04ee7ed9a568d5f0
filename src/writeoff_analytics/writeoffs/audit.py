"""The audit log: an append-only record of every commit, reversal and refusal, with who and when.

Events are only ever inserted (there is no function that changes or removes one). An event
written inside a store transaction commits or rolls back with it; one written outside is
committed at once, so a refusal is recorded even though nothing else changed.

Hash chain (issue 16): each event carries ``prev_sha256``, the ``event_sha256`` of the event
before it, and its own ``event_sha256``: the SHA-256 of :func:`canonical_event` (the fields of
:data:`HASHED_FIELDS` as compact JSON with sorted keys, the time as ISO 8601 with
microseconds). ``store_meta.audit_head`` names the newest event and its hash, so removing
the newest events shows as well as editing or removing one in the middle
(``writeoffs/verify.py`` checks both; outside a transaction the head is written just after
its event, so after a crash between the two it may lag, never lead). Events written before the chain existed carry no
hash: the chain starts at the first hashed event (whose ``prev_sha256`` is NULL). The
chain detects edits made with other tools (a SQL client, a text editor on an export); it is
not a signature: whoever can write the store file can recompute it (docs/SECURITY.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

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
    FIND_CANDIDATES = "FIND_CANDIDATES"
    LOAD = "LOAD"


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
        # The store's lock is held: nothing else appends between reading the head and inserting.
        head = queries.run(con, "select_audit_head")
        event: dict[str, Any] = {
            "event_id": int(head[0][0]) + 1 if head else 1,
            "occurred_at": dt.datetime.now(),
            "user_name": user,
            "action": action.value,
            "outcome": outcome.value,
            "receipt_no": receipt_no,
            "detail": detail,
            "prev_sha256": head[0][1] if head else None,
        }
        event["event_sha256"] = event_sha256(event)
        (row,) = queries.run(con, "insert_audit_event", **event)
        queries.run(con, "upsert_audit_head", head=f"{event['event_id']} {event['event_sha256']}")
    return int(row[0])


#: The fields an event's hash covers, in the order :func:`canonical_event` writes them.
HASHED_FIELDS = ("event_id", "occurred_at", "user_name", "action", "outcome", "receipt_no", "detail", "prev_sha256")


def canonical_event(event: Mapping[str, Any]) -> bytes:
    """The bytes an event's SHA-256 is computed over: :data:`HASHED_FIELDS` as compact sorted JSON.

    Examples
    --------
    >>> import datetime as dt
    >>> canonical_event({"event_id": 1, "occurred_at": dt.datetime(2026, 1, 2, 3, 4, 5), "user_name": "ana",
    ...                  "action": "COMMIT", "outcome": "DONE", "receipt_no": None, "detail": None,
    ...                  "prev_sha256": None})[:64]
    b'{"action":"COMMIT","detail":null,"event_id":1,"occurred_at":"202'
    """
    fields: dict[str, Any] = {}
    for name in HASHED_FIELDS:
        value = event[name]
        if isinstance(value, dt.datetime):
            value = value.isoformat(timespec="microseconds")
        elif name == "event_id":
            value = int(value)
        fields[name] = value
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_sha256(event: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of one event's :func:`canonical_event` bytes."""
    return hashlib.sha256(canonical_event(event)).hexdigest()


def audit_log(ledger: Ledger) -> pl.DataFrame:
    """Every audit event, oldest first: ``event_id occurred_at user_name action outcome receipt_no detail``."""
    with ledger.connect() as con:
        return queries.frame(con, "select_audit_log")
