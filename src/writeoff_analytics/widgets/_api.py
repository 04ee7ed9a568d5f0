"""The seams between the widgets and the package's public functions.

Every widget handler calls exactly one function here, and each of these calls one public
function of the package (the widgets hold no rules). Functions built on other branches are
looked up by name; until one has landed, its stand-in in :mod:`._interim` answers instead
(TODO(widgets, #5): delete each stand-in, and its ``_public`` lookup, once it has landed).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from writeoff_analytics.candidates import find_candidates, find_credit_balances
from writeoff_analytics.ledger.load import load_extract
from writeoff_analytics.reasons import Reason
from writeoff_analytics.widgets import _interim

if TYPE_CHECKING:
    import datetime as dt

    from writeoff_analytics.candidates import Candidates
    from writeoff_analytics.criteria.model import Criteria
    from writeoff_analytics.ledger.snapshot import ImportReport
    from writeoff_analytics.ledger.store import Ledger

#: Text cells starting with these are formula injections in a spreadsheet (STYLE.md).
_CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")


def _public(module: str, name: str) -> Any:
    """The package's ``module.name`` if it has landed, else ``None``."""
    try:
        return getattr(importlib.import_module(f"writeoff_analytics.{module}"), name)
    except (ImportError, AttributeError):
        return None


@dataclass(frozen=True)
class ReceiptView:
    """What the widgets show of a committed receipt (``total`` is what it moves, positive)."""

    receipt_no: str
    total: Decimal
    line_count: int
    files: tuple[Path, ...]

    @classmethod
    def of(cls, receipt: Any) -> ReceiptView:
        """Read a ``receipts.Receipt`` (or its stand-in)."""
        files = (
            (Path(receipt.csv_path), Path(receipt.json_path))
            if hasattr(receipt, "csv_path") else tuple(receipt.files)
        )
        return cls(str(receipt.receipt_no), receipt.total, int(receipt.line_count), files)


def default_config(user: str) -> object:
    """The writeoff config (``permissions.load_config``): ``./writeoff.toml`` or open to ``user``."""
    load_config = _public("permissions", "load_config")
    return None if load_config is None else load_config(user=user)


def approval_limit(config: object) -> Decimal | None:
    """Over which total a second approver is needed (``Config.second_approver_over``)."""
    limit = getattr(config, "second_approver_over", None)
    return limit if isinstance(limit, Decimal) else None


def find(ledger: Ledger, criteria: Criteria, *, engine: str = "duckdb") -> Candidates:
    """The candidates of ``criteria`` (``find_candidates``)."""
    return find_candidates(ledger, criteria, engine=engine)


def credit_balances(ledger: Ledger, balance_type: str) -> pl.DataFrame:
    """Lines with a credit balance, for refund review (``find_credit_balances``)."""
    return find_credit_balances(ledger, balance_type=balance_type)


def _batch_class() -> Any:
    return _public("batches", "Batch") or _interim.Batch


def check_amount(candidates: Candidates, charge_id: str, amount: Decimal) -> None:
    """Refuse an amount that a batch refuses for this line (``Batch.with_amount``)."""
    _batch_class().from_candidates(candidates, reason=Reason.ADMINISTRATIVE).with_amount(
        charge_id, amount
    )


def commit(
    ledger: Ledger,
    candidates: Candidates,
    *,
    excluded: Collection[str],
    amounts: Mapping[str, Decimal],
    reason: Reason,
    reason_text: str | None,
    fields: Mapping[str, str | None],
    user: str,
    approver: str | None,
    receipts_dir: Path,
    config: object,
) -> ReceiptView:
    """Build the batch and commit it (``Batch.from_candidates`` ... ``commit_batch``).

    ``fields`` are the batch's ``adjustment_code``, ``claim_status``, ``note`` and
    ``determination_reference``.
    """
    batch = _batch_class().from_candidates(
        candidates, reason=reason, reason_text=reason_text, **fields
    )
    if excluded:
        batch = batch.exclude_groups(sorted(excluded))
    for charge_id, amount in sorted(amounts.items()):
        batch = batch.with_amount(charge_id, amount)
    commit_batch = _public("receipts", "commit_batch") or _interim.commit_batch
    receipt = commit_batch(
        ledger, batch, user=user, approver=approver, receipts_dir=receipts_dir, config=config
    )
    return ReceiptView.of(receipt)


def export_candidates(candidates: Candidates, path: Path, kind: Literal["csv", "pdf"]) -> Path:
    """Write the candidate list as CSV or PDF (``report_candidates``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        from writeoff_analytics._atomic import atomic_write

        with atomic_write(path) as fh:
            _csv_safe(candidates.lines).write_csv(fh)
        return path
    from great_tables import GT
    from weasyprint import HTML

    gt = GT(candidates.groups).tab_header(
        title="Write-off candidates", subtitle=candidates.criteria.describe()
    )
    HTML(string=gt.as_raw_html()).write_pdf(str(path))
    return path


def _csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            col = pl.col(name)
            risky = pl.any_horizontal(*(col.str.starts_with(p) for p in _CSV_RISKY))
            exprs.append(pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def search_history(
    ledger: Ledger,
    *,
    receipt_no: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    user: str,
    config: object,
    receipts_dir: Path,
) -> pl.DataFrame:
    """Receipts by number and/or date (``history.search_receipts``)."""
    search_receipts = _public("history", "search_receipts")
    if search_receipts is None:
        return _interim.search_history(
            receipts_dir, receipt_no=receipt_no, date_from=date_from, date_to=date_to
        )
    found: pl.DataFrame = search_receipts(
        ledger, user=user, config=config, receipt_no=receipt_no, date_from=date_from,
        date_to=date_to,
    )
    return found


def receipt_lines(
    ledger: Ledger, receipt_no: str, *, user: str, config: object, receipts_dir: Path
) -> pl.DataFrame:
    """The lines of one receipt (``history.show_receipt``)."""
    show_receipt = _public("history", "show_receipt")
    if show_receipt is None:
        return _interim.receipt_lines(receipts_dir, receipt_no)
    lines: pl.DataFrame = show_receipt(ledger, receipt_no, user=user, config=config).lines
    return lines


def reverse(
    ledger: Ledger,
    receipt_no: str,
    *,
    charge_ids: Collection[str] | None,
    reason: str,
    user: str,
    receipts_dir: Path,
    config: object,
) -> ReceiptView:
    """Reverse a receipt whole (``charge_ids=None``) or by line (``history.reverse_receipt``)."""
    reverse_receipt = _public("history", "reverse_receipt") or _interim.reverse_receipt
    receipt = reverse_receipt(
        ledger, receipt_no, charge_ids=None if charge_ids is None else sorted(charge_ids),
        reason=reason, user=user, receipts_dir=receipts_dir, config=config,
    )
    return ReceiptView.of(receipt)


def load(
    ledger: Ledger, path: str | os.PathLike[str], progress: Callable[[str, float], None]
) -> ImportReport:
    """Load an extract into the store, reporting progress (``load_extract``)."""
    return load_extract(ledger, path, progress=progress)
