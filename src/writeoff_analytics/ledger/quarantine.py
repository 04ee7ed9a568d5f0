"""The quarantine: charges held out of every candidate search until a clean load (issue 14).

A charge is quarantined when the load that brought it rejected a row of its own (a later
duplicate of its ``charge_id``), of its encounter (a rejected ``encounters`` row with its
``encounter_id``) or of its transactions (a rejected ``transactions`` row naming its
``charge_id``: a payment left out, so its balance is wrong); and when a committed write-off
no longer fits it: made on another charge that the new extract's charge reuses the id of
(that write-off is not netted), or netted into a bucket balance below zero. The rule is
``queries/derive_quarantined_charges.sql``; every load replaces ``quarantined_charges`` in
its own transaction (:func:`derive_quarantine`), and ``charge_balances.quarantined`` marks
the held charges for the engines, which all leave them out.

An import that adds to the snapshot (an 835) keeps what earlier loads derived from their
rejects and derives the write-off rules again; a full load (an extract, Synthea) replaces the
quarantine whole, so a clean load releases it.

Examples
--------
>>> from writeoff_analytics.ledger.load import load_extract
>>> from writeoff_analytics.ledger.store import Ledger
>>> ledger = Ledger(":memory:")
>>> _ = load_extract(ledger, "tests/data/small")
>>> quarantined_charges(ledger).height
0
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from writeoff_analytics import queries

if TYPE_CHECKING:
    import duckdb

    from writeoff_analytics.ledger.store import Ledger

#: The columns of :func:`quarantined_charges`.
QUARANTINE_COLUMNS = ("charge_id", "reason", "source_table", "source_row")
#: The source of the write-off rules' rows (the others name the rejected row's table).
WRITEOFF_SOURCE = "writeoff_lines"


def derive_quarantine(con: duckdb.DuckDBPyConnection, *, keep_previous: bool = False) -> int:
    """Replace ``quarantined_charges`` from this load; return how many charges it holds.

    Run inside the load's transaction, after ``derive_charge_balances`` (the write-off rule
    reads the new balances) and after the load's rejects are stored.

    Parameters
    ----------
    con
        The load's connection, inside its transaction.
    keep_previous
        Keep the rows earlier loads derived from their rejects (for charges still in the
        snapshot): an import that adds to the snapshot is not a clean load.
    """
    kept = _previous_reject_rows(con) if keep_previous else None
    queries.run(con, "derive_quarantined_charges")
    if kept is not None and kept.height:
        con.register("staged_quarantined_charges", kept.to_arrow())
        try:
            queries.run(con, "insert_quarantined_charges")
        finally:
            con.unregister("staged_quarantined_charges")
    queries.run(con, "update_quarantined_balances")
    return held_count(queries.frame(con, "select_quarantined_charges"))


def _previous_reject_rows(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    rows = queries.frame(con, "select_quarantined_charges")
    return rows.filter(pl.col("source_table") != WRITEOFF_SOURCE)


def quarantined_charges(ledger: Ledger) -> pl.DataFrame:
    """The quarantined charges with why: one row per reason, by charge.

    Columns :data:`QUARANTINE_COLUMNS` (``source_row`` is the rejected row's number in its
    file, or the write-off's line number; null for a balance a write-off overdraws).
    """
    ledger.require_loaded()
    with ledger.connect() as con:
        return queries.frame(con, "select_quarantined_charges")


def held_count(frame: pl.DataFrame) -> int:
    """How many distinct charges a :func:`quarantined_charges` frame holds."""
    return frame.get_column("charge_id").n_unique() if frame.height else 0


def describe_held(frame: pl.DataFrame, *, shown: int = 5) -> str:
    """One line for a screen: ``"2 charges held back: C3 (transactions row 5 ...); C4 (...)"``.

    Empty text when nothing is held. Each charge shows its first reason.

    Examples
    --------
    >>> rows = pl.DataFrame({"charge_id": ["C3", "C3"], "reason": ["a", "b"],
    ...                      "source_table": ["transactions", "charges"], "source_row": [5, 2]})
    >>> describe_held(rows)
    '1 charge held back: C3 (a; and 1 more reason)'
    """
    if not frame.height:
        return ""
    firsts = frame.group_by("charge_id", maintain_order=True).agg(
        pl.col("reason").first(), pl.len().alias("reasons")
    )
    parts = []
    for row in firsts.head(shown).iter_rows(named=True):
        more = row["reasons"] - 1
        extra = f"; and {more} more reason{'s' if more > 1 else ''}" if more else ""
        parts.append(f"{row['charge_id']} ({row['reason']}{extra})")
    n = firsts.height
    rest = f"; and {n - shown} more" if n > shown else ""
    return f"{n} charge{'s' if n != 1 else ''} held back: {'; '.join(parts)}{rest}"
