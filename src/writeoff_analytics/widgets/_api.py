"""The calls the widgets make: each is one public function of the package.

Every widget handler calls exactly one function here, and each of these calls one public
function (the widgets hold no rules), so a notebook, the CLI and the tests run the same code.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from writeoff_analytics.candidates import find_candidates, find_credit_balances
from writeoff_analytics.ledger.load import load_extract
from writeoff_analytics.reasons import Reason
from writeoff_analytics.reporting import report_candidates, report_receipt
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.history import reverse_receipt, search_receipts, show_receipt
from writeoff_analytics.writeoffs.permissions import Config, load_config
from writeoff_analytics.writeoffs.receipts import Receipt, commit_batch

if TYPE_CHECKING:
    import datetime as dt

    import polars as pl

    from writeoff_analytics.candidates import Candidates
    from writeoff_analytics.criteria.model import Criteria
    from writeoff_analytics.ledger.snapshot import ImportReport
    from writeoff_analytics.ledger.store import Ledger



@dataclass(frozen=True)
class ReceiptView:
    """What the widgets show of a committed receipt (``total`` is what it moves, positive)."""

    receipt_no: str
    total: Decimal
    line_count: int
    files: tuple[Path, ...]

    @classmethod
    def of(cls, receipt: Receipt) -> ReceiptView:
        """Read a :class:`~writeoff_analytics.writeoffs.receipts.Receipt`."""
        return cls(receipt.receipt_no, receipt.total, receipt.line_count,
                   (receipt.csv_path, receipt.json_path))


def default_config(user: str) -> Config:
    """The writeoff config (``load_config``): ``./writeoff.toml``, or everything open to ``user``."""
    return load_config(user=user)


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


def check_amount(candidates: Candidates, charge_id: str, amount: Decimal) -> None:
    """Refuse an amount that a batch refuses for this line (``Batch.with_amount``)."""
    Batch.from_candidates(candidates, reason=Reason.ADMINISTRATIVE).with_amount(charge_id, amount)


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
    config: Config,
) -> ReceiptView:
    """Build the batch and commit it (``Batch.from_candidates`` ... ``commit_batch``).

    ``fields`` are the batch's ``adjustment_code``, ``claim_status``, ``note`` and
    ``determination_reference``.
    """
    batch = Batch.from_candidates(candidates, reason=reason, reason_text=reason_text, **fields)
    if excluded:
        batch = batch.exclude_groups(sorted(excluded))
    for charge_id, amount in sorted(amounts.items()):
        batch = batch.with_amount(charge_id, amount)
    receipt = commit_batch(
        ledger, batch, user=user, approver=approver, receipts_dir=receipts_dir, config=config
    )
    return ReceiptView.of(receipt)


def export_candidates(
    ledger: Ledger, candidates: Candidates, path: Path, kind: Literal["csv", "pdf"]
) -> Path:
    """Write the candidate list as CSV or PDF (``report_candidates(...).save``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return report_candidates(candidates, ledger=ledger).save(path, kind)


def receipt_report(ledger: Ledger, receipt_no: str, path: Path) -> Path:
    """Write the receipt report as HTML (``report_receipt``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return report_receipt(ledger, receipt_no).to_html(path)


def search_history(
    ledger: Ledger,
    *,
    receipt_no: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    user: str,
    config: Config,
) -> pl.DataFrame:
    """Receipts by number and/or date (``search_receipts``)."""
    return search_receipts(
        ledger, user=user, config=config, receipt_no=receipt_no, date_from=date_from,
        date_to=date_to,
    )


def receipt_lines(ledger: Ledger, receipt_no: str, *, user: str, config: Config) -> pl.DataFrame:
    """The lines of one receipt (``show_receipt``)."""
    return show_receipt(ledger, receipt_no, user=user, config=config).lines


def reverse(
    ledger: Ledger,
    receipt_no: str,
    *,
    charge_ids: Collection[str] | None,
    reason: str,
    user: str,
    receipts_dir: Path,
    config: Config,
) -> ReceiptView:
    """Reverse a receipt whole (``charge_ids=None``) or by line (``reverse_receipt``)."""
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
