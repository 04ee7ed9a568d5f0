"""INTERIM stand-ins for functions other branches are building (delete when they land).

TODO(widgets, #5): every function here is replaced, one by one, by the public function named
in its docstring as soon as that lands on main; :mod:`._api` picks the real one when it can
be imported. Nothing here is a rule of the product: these are the smallest fakes that let the
widgets be built and tested first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from writeoff_analytics._atomic import atomic_write
from writeoff_analytics.candidates import LINE_SCHEMA, Candidates
from writeoff_analytics.errors import BatchError, HistoryError
from writeoff_analytics.money import ZERO
from writeoff_analytics.reasons import Reason

if TYPE_CHECKING:
    from writeoff_analytics.ledger.store import Ledger


@dataclass(frozen=True)
class Batch:
    """Stand-in for ``batches.Batch`` (branch ``batches``): the same calls, fewer checks."""

    candidates: Candidates
    reason: Reason
    reason_text: str
    excluded_groups: frozenset[str] = frozenset()
    amounts: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def from_candidates(
        cls, candidates: Candidates, *, reason: Reason | str, reason_text: str | None = None,
        **fields: str | None,
    ) -> Batch:
        """Every candidate line at its full balance."""
        code = Reason(reason)
        if code is Reason.CUSTOM and not reason_text:
            msg = "reason CUSTOM needs its own text (reason_text); or choose a standard reason."
            raise BatchError(msg)
        if code.needs_determination_reference and not fields.get("determination_reference"):
            msg = f"reason {code.value} needs the reference of the documented determination."
            raise BatchError(msg)
        return cls(candidates, code, reason_text or code.text)

    def exclude_groups(self, group_keys: Collection[str]) -> Batch:
        """A copy without these groups."""
        return dataclasses.replace(self, excluded_groups=self.excluded_groups | set(group_keys))

    def with_amount(self, charge_id: str, amount: Decimal) -> Batch:
        """A copy writing off ``amount`` of one line (0.01 up to its balance)."""
        row = self.candidates.lines.filter(pl.col("charge_id") == charge_id)
        balance = row.get_column("balance")[0]
        if not Decimal("0.01") <= amount <= balance:
            msg = f"charge {charge_id}: amount {amount} is outside 0.01..{balance}."
            raise BatchError(msg, charge_ids=[charge_id])
        return dataclasses.replace(self, amounts={**self.amounts, charge_id: amount})

    @property
    def lines(self) -> pl.DataFrame:
        """The selected lines, ``writeoff_amount`` as lowered."""
        lines = self.candidates.lines.filter(
            ~pl.col("group_key").is_in(sorted(self.excluded_groups))
        )
        rows = [{**r, "writeoff_amount": self.amounts.get(r["charge_id"], r["writeoff_amount"])}
                for r in lines.to_dicts()]
        return pl.DataFrame(rows, schema=lines.schema)


@dataclass(frozen=True)
class Receipt:
    """Stand-in for ``receipts.Receipt`` (branch ``batches``)."""

    receipt_no: str
    total: Decimal
    line_count: int
    csv_path: Path
    json_path: Path


def commit_batch(
    ledger: Ledger, batch: Batch, *, user: str, approver: str | None = None,
    receipts_dir: str | os.PathLike[str], config: object = None,
) -> Receipt:
    """Stand-in for ``receipts.commit_batch``: writes receipt files only, not the store."""
    lines = batch.lines.select(
        "charge_id", "encounter_id", "group_key", (-pl.col("writeoff_amount")).alias("amount")
    )
    if lines.is_empty():
        msg = "the batch holds no line; tick at least one group."
        raise BatchError(msg)
    return _write_receipt(Path(receipts_dir), lines, user=user, approver=approver,
                          reason_text=batch.reason_text, reversal_of=None)


def _write_receipt(
    receipts_dir: Path, lines: pl.DataFrame, *, user: str, approver: str | None,
    reason_text: str, reversal_of: str | None,
) -> Receipt:
    receipts_dir.mkdir(parents=True, exist_ok=True)
    number = f"WO-{len(list(receipts_dir.glob('WO-*.json'))) + 1:06d}"
    total = abs(Decimal(lines.get_column("amount").sum())).quantize(ZERO)
    csv_path, json_path = receipts_dir / f"{number}.csv", receipts_dir / f"{number}.json"
    with atomic_write(csv_path) as fh:
        lines.write_csv(fh)
    manifest = {
        "receipt_no": number, "created_at": dt.date.today().isoformat(), "preparer": user,
        "approver": approver, "reason": {"text": reason_text}, "line_count": lines.height,
        "total": str(total), "reversal_of": reversal_of,
    }
    with atomic_write(json_path) as fh:
        json.dump(manifest, fh, indent=1)
    return Receipt(number, total, lines.height, csv_path, json_path)


HISTORY_SCHEMA: dict[str, Any] = {
    "receipt_no": pl.String, "created_at": pl.Date, "preparer": pl.String,
    "approver": pl.String, "reason_text": pl.String, "line_count": pl.Int64,
    "total_amount": LINE_SCHEMA["balance"], "reversal_of": pl.String,
}


def search_history(
    receipts_dir: Path, *, receipt_no: str | None, date_from: dt.date | None,
    date_to: dt.date | None,
) -> pl.DataFrame:
    """Stand-in for ``history.search_receipts`` (branch ``batches``): reads receipt manifests."""
    rows = []
    for path in sorted(receipts_dir.glob("WO-*.json")):
        m = json.loads(path.read_text(encoding="utf-8"))
        day = dt.date.fromisoformat(m["created_at"])
        if receipt_no and m["receipt_no"] != receipt_no.strip().upper():
            continue
        if (date_from and day < date_from) or (date_to and day > date_to):
            continue
        rows.append({**m, "created_at": day, "total_amount": Decimal(m["total"]),
                     "reason_text": m["reason"]["text"]})
    if receipt_no and not rows:
        msg = f"unknown receipt {receipt_no!r}: no receipt with that number in {receipts_dir}."
        raise HistoryError(msg)
    return pl.DataFrame(rows, schema=HISTORY_SCHEMA)


def receipt_lines(receipts_dir: Path, receipt_no: str) -> pl.DataFrame:
    """Stand-in for ``history.show_receipt(...).lines`` (branch ``batches``)."""
    path = receipts_dir / f"{receipt_no}.csv"
    if not path.exists():
        msg = f"receipt {receipt_no} is unknown in {receipts_dir}; search for it first."
        raise HistoryError(msg)
    return pl.read_csv(path, infer_schema=False).with_columns(
        pl.col("amount").cast(LINE_SCHEMA["balance"])
    )


def reverse_receipt(
    ledger: Ledger, receipt_no: str, *, charge_ids: Collection[str] | None, reason: str,
    user: str, receipts_dir: str | os.PathLike[str], config: object = None,
) -> Receipt:
    """Stand-in for ``history.reverse_receipt`` (branch ``batches``): writes files only."""
    folder = Path(receipts_dir)
    lines = receipt_lines(folder, receipt_no)
    for manifest in folder.glob("WO-*.json"):  # lines reversed already are left out
        if json.loads(manifest.read_text(encoding="utf-8"))["reversal_of"] == receipt_no:
            done = receipt_lines(folder, manifest.stem).get_column("charge_id")
            lines = lines.filter(~pl.col("charge_id").is_in(done.implode()))
    if charge_ids is not None:
        lines = lines.filter(pl.col("charge_id").is_in(sorted(charge_ids)))
    if lines.is_empty() or not reason.strip():
        msg = f"reversal of {receipt_no} refused: choose at least one line and give a reason."
        raise HistoryError(msg)
    lines = lines.with_columns(amount=-pl.col("amount"))
    return _write_receipt(folder, lines, user=user, approver=None, reason_text=reason,
                          reversal_of=receipt_no)
