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
from writeoff_analytics.ledger.quarantine import quarantined_charges
from writeoff_analytics.reporting import report_candidates, report_receipt
from writeoff_analytics.writeoffs import permissions
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.history import reverse_receipt, search_receipts, show_receipt
from writeoff_analytics.writeoffs.permissions import Config, load_config
from writeoff_analytics.writeoffs.receipts import Receipt, commit_batch
from writeoff_analytics.writeoffs.verify import require_intact

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


def current_user() -> str:
    """Who runs the kernel (``current_user``)."""
    return permissions.current_user()


def needs_second_approver(config: Config, total: Decimal) -> bool:
    """Whether a batch of ``total`` needs a second approver (``Config.needs_second_approver``)."""
    return config.needs_second_approver(total)


def find(ledger: Ledger, criteria: Criteria, *, engine: str = "duckdb") -> Candidates:
    """The candidates of ``criteria`` (``find_candidates``)."""
    return find_candidates(ledger, criteria, engine=engine)


def credit_balances(ledger: Ledger, balance_type: str) -> pl.DataFrame:
    """Lines with a credit balance, for refund review (``find_credit_balances``)."""
    return find_credit_balances(ledger, balance_type=balance_type)


def held_back(ledger: Ledger) -> pl.DataFrame:
    """The quarantined charges with why, which no search returns (``quarantined_charges``)."""
    return quarantined_charges(ledger)


def start_batch(candidates: Candidates, details: Mapping[str, str | None]) -> Batch:
    """Every candidate line at its full balance, with a reason and details (``Batch.from_candidates``).

    ``details`` are ``reason``, ``reason_text``, ``adjustment_code``, ``claim_status``,
    ``note`` and ``determination_reference``.
    """
    reason = details.get("reason") or ""
    rest = {k: v for k, v in details.items() if k != "reason"}
    return Batch.from_candidates(candidates, reason=reason, **rest)


def describe_batch(batch: Batch, details: Mapping[str, str | None]) -> Batch:
    """The batch with another reason and details (``Batch.with_details``); see :func:`start_batch`."""
    reason = details.get("reason") or ""
    rest = {k: v for k, v in details.items() if k != "reason"}
    return batch.with_details(reason=reason, **rest)


def tick_groups(batch: Batch, group_keys: Collection[str], ticked: bool) -> Batch:
    """The batch with these groups selected or not (``Batch.include_groups`` / ``exclude_groups``)."""
    return batch.include_groups(group_keys) if ticked else batch.exclude_groups(group_keys)


def set_amount(
    batch: Batch, charge_id: str, amount: Decimal | str, *, tick_group: str | None = None
) -> Batch:
    """The batch writing off ``amount`` of one line (``Batch.with_amount``).

    ``tick_group``: a deselected group to select first (the line's own).
    """
    if tick_group is not None:
        batch = batch.include_groups([tick_group])
    return batch.with_amount(charge_id, amount)


def reset_amounts(batch: Batch) -> Batch:
    """The batch writing off every line's whole balance (``Batch.with_full_balances``)."""
    return batch.with_full_balances()


def commit(
    ledger: Ledger,
    batch: Batch,
    *,
    user: str,
    approver: str | None,
    receipts_dir: Path,
    config: Config,
) -> ReceiptView:
    """Commit the batch (``commit_batch``)."""
    receipt = commit_batch(
        ledger, batch, user=user, approver=approver, receipts_dir=receipts_dir, config=config
    )
    return ReceiptView.of(receipt)


def export_batch(
    ledger: Ledger, batch: Batch, path: Path, kind: Literal["csv", "pdf"]
) -> Path:
    """Write the batch's lines as a candidate list, CSV or PDF (``report_candidates(...).save``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return report_candidates(batch.to_candidates(), ledger=ledger).save(path, kind)


def receipt_report(ledger: Ledger, receipt_no: str, path: Path) -> Path:
    """Write the receipt report as HTML (``report_receipt``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    require_intact(ledger, receipt_no, user=permissions.current_user())  # issue 16: refuse a changed receipt
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
