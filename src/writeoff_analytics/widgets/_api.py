"""The seams between the widgets and the package's public functions.

Every widget handler calls exactly one function here, and each of these calls exactly one
public function of the package. Where that function has not landed on main yet, the call
goes to its stand-in in :mod:`._interim` (TODO(widgets, #5): switch each seam when its
branch lands, then delete the stand-in).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from writeoff_analytics.errors import WriteoffError
from writeoff_analytics.widgets import _interim

if TYPE_CHECKING:
    from writeoff_analytics.candidates import Candidates
    from writeoff_analytics.criteria.model import Criteria
    from writeoff_analytics.ledger.store import Ledger
    from writeoff_analytics.reasons import Reason

#: Text cells starting with these are formula injections in a spreadsheet (STYLE.md).
_CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ReceiptView:
    """What the widgets show of a committed receipt."""

    receipt_no: str
    total: Decimal
    line_count: int
    files: tuple[Path, ...]


def find(ledger: Ledger, criteria: Criteria) -> Candidates:
    """The candidates of ``criteria`` (``find_candidates``)."""
    return _interim.find_candidates(ledger, criteria)


def check_amount(candidates: Candidates, charge_id: str, amount: Decimal) -> None:
    """Refuse an amount a batch would refuse for this line (``Batch.with_amount``)."""
    _interim.check_amount(candidates, charge_id, amount)


def commit(
    ledger: Ledger,
    candidates: Candidates,
    *,
    excluded: Collection[str],
    amounts: Mapping[str, Decimal],
    reason: Reason,
    reason_text: str,
    extras: Mapping[str, str | None],
    user: str,
    approver: str | None,
    receipts_dir: Path,
    config: object,
) -> ReceiptView:
    """Build the batch and commit it (``Batch.from_candidates`` ... ``commit_batch``)."""
    batch = _interim.Batch(
        candidates, reason.value, reason_text, frozenset(excluded), dict(amounts), dict(extras)
    )
    r = _interim.commit_batch(
        ledger, batch, user=user, approver=approver, receipts_dir=receipts_dir, config=config
    )
    return ReceiptView(r.receipt_no, r.total, r.line_count, r.files)


def export_candidates(candidates: Candidates, path: Path, kind: Literal["csv", "pdf"]) -> Path:
    """Write the candidate list as CSV or PDF (``report_candidates``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        from writeoff_analytics._atomic import atomic_write

        lines = _csv_safe(candidates.lines)
        with atomic_write(path) as fh:
            lines.write_csv(fh)
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
    receipts_dir: Path,
) -> pl.DataFrame:
    """Receipts by number or date (``history.search_history``)."""
    return _interim.search_history(
        receipts_dir, receipt_no=receipt_no, date_from=date_from, date_to=date_to
    )


def receipt_lines(ledger: Ledger, receipt_no: str, *, receipts_dir: Path) -> pl.DataFrame:
    """The lines of one receipt (``history``)."""
    return _interim.receipt_lines(receipts_dir, receipt_no)


def reverse(
    ledger: Ledger,
    receipt_no: str,
    *,
    charge_ids: Collection[str] | None,
    user: str,
    receipts_dir: Path,
    config: object,
) -> ReceiptView:
    """Reverse a receipt whole (``charge_ids=None``) or by line (``reverse_receipt``)."""
    r = _interim.reverse_receipt(receipts_dir, receipt_no, user=user, charge_ids=charge_ids)
    return ReceiptView(r.receipt_no, r.total, r.line_count, r.files)


def load(ledger: Ledger, path: str | os.PathLike[str], progress: Callable[[str, float], None]) -> Any:
    """Load an extract into the store, reporting progress (``load_extract``)."""
    return _interim.load_extract(ledger, path, progress=progress)


__all__ = ["ReceiptView", "WriteoffError"]
