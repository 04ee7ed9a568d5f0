"""The receipt CSV: its columns and bytes, rendered from a receipt's stored lines.

The commit writes these bytes and records their SHA-256; a repair and ``writeoffs/verify.py``
render them again from the store, so the file is rebuilt (and checked) byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from writeoff_analytics.export.csv import WRITEOFF_REASON
from writeoff_analytics.money import CENT

if TYPE_CHECKING:
    import polars as pl

    from writeoff_analytics.export.profile import ExportProfile


def receipt_csv_columns(
    receipt_no: str, texts: Mapping[str, str | None], lines: pl.DataFrame
) -> dict[str, list[Any]]:
    """The receipt CSV's fields, column by column, from the stored lines (in line order)."""
    # LEDGER_FORMAT.md transactions layout: amount is the signed change of the bucket;
    # reference = the receipt number, so a later extract holding these rows is recognised.
    height = lines.height

    def col(name: str) -> list[Any]:
        return lines.get_column(name).to_list()

    def same(value: Any) -> list[Any]:
        return [value] * height

    bucket = col("bucket")
    return {
        "transaction_id": col("transaction_id"),
        "charge_id": col("charge_id"),
        "posted_date": col("posted_date"),
        "type": [f"{b}_ADJUSTMENT" for b in bucket],
        "responsibility": bucket,
        "payer_id": col("payer_id"),
        "amount": [Decimal(a).quantize(CENT) for a in col("amount")],
        "group_code": same(None),
        "reason_code": same(None),  # LEDGER_FORMAT.md: a posting's CARC; a write-off has none
        "reference": same(receipt_no),
        WRITEOFF_REASON: same(texts["reason_code"]),  # export/csv.py: the write-off's reason
        "adjustment_code": same(texts["adjustment_code"]),
        "claim_status": same(texts["claim_status"]),
        "receipt_no": same(receipt_no),
        "line_no": [int(n) for n in col("line_no")],
        "encounter_id": col("encounter_id"),
        "patient_id": col("patient_id"),
        "group_key": col("group_key"),
        "reason_text": same(texts["reason_text"]),
        "note": same(texts["note"]),
        "determination_reference": same(texts["determination_reference"]),
        "reverses_transaction_id": col("reverses_transaction_id"),
        "reversal_of": same(texts["reversal_of"]),
    }


def render_receipt_csv(
    profile: ExportProfile, receipt_no: str, texts: Mapping[str, str | None], lines: pl.DataFrame
) -> bytes:
    """The receipt CSV's bytes in ``profile``'s layout (the same bytes every time for the same lines)."""
    return profile.render_columns(receipt_csv_columns(receipt_no, texts, lines), lines.height)
