"""writeoff_analytics: find, approve and export mass write-offs over a ledger extract.

The public API is what analysts type; everything else stays in its module.
"""

from __future__ import annotations

from writeoff_analytics.candidates import Candidates, find_candidates, find_credit_balances
from writeoff_analytics.criteria.model import (
    BalanceType,
    Criteria,
    Responsibility,
    Role,
    WriteOffBy,
)
from writeoff_analytics.criteria.presets import criteria_from_preset, get_preset, load_presets
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
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.reasons import Reason

__all__ = [
    "BalanceType",
    "BatchError",
    "Candidates",
    "Criteria",
    "CriteriaError",
    "HistoryError",
    "Ledger",
    "LedgerError",
    "LedgerFormatError",
    "LedgerReferenceError",
    "PermissionDenied",
    "QueryError",
    "Reason",
    "Responsibility",
    "Role",
    "WriteOffBy",
    "WriteoffError",
    "criteria_from_preset",
    "find_candidates",
    "find_credit_balances",
    "get_preset",
    "load_presets",
]
