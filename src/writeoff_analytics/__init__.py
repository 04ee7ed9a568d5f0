"""writeoff_analytics: find, approve and export mass write-offs over a ledger extract.

The public API is what analysts type; everything else stays in its module.
"""

from __future__ import annotations

from writeoff_analytics.errors import (
    BatchError,
    CriteriaError,
    HistoryError,
    LedgerError,
    LedgerFormatError,
    LedgerReferenceError,
    PermissionDenied,
    QueryError,
    WriteoffError,
)
from writeoff_analytics.ledger.load import load_extract, load_ledger
from writeoff_analytics.ledger.store import Ledger

__all__ = [
    "BatchError",
    "CriteriaError",
    "HistoryError",
    "Ledger",
    "LedgerError",
    "LedgerFormatError",
    "LedgerReferenceError",
    "PermissionDenied",
    "QueryError",
    "WriteoffError",
    "load_extract",
    "load_ledger",
]
