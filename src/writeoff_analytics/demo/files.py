"""Writing a demo table to its file: CSV streamed slice by slice, or typed Parquet.

Each file is written atomically and made readable by others (an extract is meant to be
shared and loaded); the sum of its money column is taken from the text, exactly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl

from writeoff_analytics._atomic import atomic_write
from writeoff_analytics.ledger.schema import TABLES_BY_NAME, ColumnType
from writeoff_analytics.ledger.snapshot import conform

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# --- writing ------------------------------------------------------------------------------


def write_table(
    chunks: Iterator[pl.DataFrame], table: str, path: Path, fmt: str, money_column: str
) -> tuple[int, Decimal]:
    """Write a table's slices to ``path`` atomically; return its rows and the sum of a money column.

    CSV is streamed slice by slice (header once); Parquet is written from the whole typed
    table, so its row groups do not depend on how the rows were sliced.
    """
    rows = 0
    total = Decimal("0.00")
    if fmt == "csv":
        with atomic_write(path, "wb") as fh:
            for i, chunk in enumerate(chunks):
                chunk.write_csv(fh, include_header=i == 0, line_terminator="\n")
                rows += chunk.height
                if money_column in chunk.columns:
                    total += _text_sum(chunk[money_column])
    else:
        schema = TABLES_BY_NAME[table]
        money = [c.name for c in schema.columns if c.type is ColumnType.MONEY]
        typed = pl.concat(
            [
                conform(schema, c.with_columns(pl.col(m).cast(pl.Decimal(18, 2)) for m in money))
                for c in chunks
            ],
            rechunk=True,
        )
        rows = typed.height
        if money_column in typed.columns:
            total = _text_sum(typed[money_column])
        with atomic_write(path, "wb") as fh:
            typed.write_parquet(fh, compression="zstd", statistics=True)  # type: ignore[arg-type]  # binary handle
    # the temporary file was private (0600); an extract is meant to be shared and loaded
    path.chmod(0o644)
    return rows, total


def _text_sum(money: pl.Series) -> Decimal:
    """Exact sum of money (text with two decimals, or Decimal(18, 2)); casting is exact."""
    total = money.cast(pl.Decimal(18, 2)).sum()
    return Decimal(total).quantize(Decimal("0.01")) if total is not None else Decimal("0.00")
