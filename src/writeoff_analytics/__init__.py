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
    ApprovalRequired,
    BatchError,
    ConfigError,
    CriteriaError,
    HistoryError,
    LedgerError,
    LedgerFormatError,
    LedgerReferenceError,
    PermissionDenied,
    QueryError,
    WriteoffError,
)
from writeoff_analytics.export.profile import ExportProfile, load_export_profile
from writeoff_analytics.ledger.load import load_extract, load_ledger
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.reasons import Reason
from writeoff_analytics.writeoffs.audit import audit_log
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.history import reverse_receipt, search_receipts, show_receipt
from writeoff_analytics.writeoffs.permissions import Config, Permission, load_config
from writeoff_analytics.writeoffs.receipts import (
    Receipt,
    commit_batch,
    get_receipt,
    repair_receipts,
)

__all__ = [
    "ApprovalRequired",
    "BalanceType",
    "Batch",
    "BatchError",
    "Candidates",
    "Config",
    "ConfigError",
    "Criteria",
    "CriteriaError",
    "ExportProfile",
    "HistoryError",
    "Ledger",
    "LedgerError",
    "LedgerFormatError",
    "LedgerReferenceError",
    "Permission",
    "PermissionDenied",
    "QueryError",
    "Reason",
    "Receipt",
    "Responsibility",
    "Role",
    "WriteOffBy",
    "WriteoffError",
    "audit_log",
    "commit_batch",
    "criteria_from_preset",
    "find_candidates",
    "find_credit_balances",
    "get_preset",
    "get_receipt",
    "load_config",
    "load_export_profile",
    "load_extract",
    "load_ledger",
    "load_presets",
    "repair_receipts",
    "reverse_receipt",
    "search_receipts",
    "show_receipt",
]
