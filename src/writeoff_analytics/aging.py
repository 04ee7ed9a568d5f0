"""Aging buckets of candidate lines: one rule for the report, the screen and the CLI.

A line's bucket is the first whose upper bound (in days since the date of service, as of
the search's aging date) is at least its ``age_days``; the last bucket has no bound.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from writeoff_analytics.money import PL_MONEY, ZERO

#: Aging buckets, by upper bound in days (``None``: no bound).
AGING_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0-30", 30),
    ("31-60", 60),
    ("61-90", 90),
    ("91-120", 120),
    ("121-180", 180),
    ("181-365", 365),
    ("over 365", None),
)

#: The bucket labels, in order.
BUCKET_LABELS: tuple[str, ...] = tuple(label for label, _ in AGING_BUCKETS)


def aging_bucket(age_days: str = "age_days") -> pl.Expr:
    """A Polars expression: the aging bucket label of each line's ``age_days``.

    Examples
    --------
    >>> pl.DataFrame({"age_days": [0, 30, 31, 365, 366]}).select(aging_bucket()).to_series().to_list()
    ['0-30', '0-30', '31-60', '181-365', 'over 365']
    """
    age = pl.col(age_days)
    expr: pl.Expr = pl.lit(AGING_BUCKETS[-1][0], dtype=pl.String)
    for label, upper in reversed(AGING_BUCKETS[:-1]):
        expr = pl.when(age <= upper).then(pl.lit(label, dtype=pl.String)).otherwise(expr)
    return expr.alias("aging_bucket")


def amount_by_aging(lines: pl.DataFrame, amount: str = "writeoff_amount") -> list[tuple[str, Decimal]]:
    """Sum ``amount`` per aging bucket, every bucket listed in order (empty ones at 0.00).

    Examples
    --------
    >>> f = pl.DataFrame({"age_days": [10, 400], "writeoff_amount": [Decimal("1.50"), Decimal("2")]},
    ...                  schema={"age_days": pl.Int32, "writeoff_amount": PL_MONEY})
    >>> amount_by_aging(f)[0], amount_by_aging(f)[-1]
    (('0-30', Decimal('1.50')), ('over 365', Decimal('2.00')))
    """
    sums: dict[str, Decimal] = dict.fromkeys(BUCKET_LABELS, ZERO)
    if not lines.is_empty():
        rows = lines.group_by(aging_bucket()).agg(pl.col(amount).sum().cast(PL_MONEY)).iter_rows()
        for label, total in rows:
            sums[label] = Decimal(total).quantize(ZERO)
    return list(sums.items())
