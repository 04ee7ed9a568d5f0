"""Split one ledger extract into a multi-practice extract (tests, demos, benchmarks).

A billing service's extract is one folder per practice, ``practice=<id>/`` (LEDGER_FORMAT.md,
"Many practices"). To exercise that shape from the demo ledger, each *family* (a patient
and everyone sharing their guarantor) goes to practice ``number(coalesce(guarantor_id,
patient_id)) mod n``; its encounters, charges and transactions follow; every practice gets
the full payer list. Keeping families together keeps guarantor groups inside one practice,
as in life. Ids are kept as they are, so different practices could be given colliding
ids by renaming; the tests build such ledgers directly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from writeoff_analytics.errors import LedgerError
from writeoff_analytics.ledger.schema import TABLES


def split_frames(frames: Mapping[str, pl.DataFrame], practices: int) -> dict[str, dict[str, pl.DataFrame]]:
    """Split the six tables of one extract into ``practices`` practices named ``P1``, ``P2``, ...

    Parameters
    ----------
    frames
        The six tables (any dtypes; ids as text).
    practices
        How many practices (1 or more).

    Returns
    -------
    dict
        Practice id -> the six tables of that practice.

    Raises
    ------
    LedgerError
        If a table is missing or ``practices`` is below 1.

    Examples
    --------
    >>> patients = pl.DataFrame({"patient_id": ["001", "002", "004"], "guarantor_id": [None, "001", None]})
    >>> empty = pl.DataFrame({"patient_id": [], "encounter_id": [], "charge_id": []}, schema=dict.fromkeys(["patient_id", "encounter_id", "charge_id"], pl.String))
    >>> frames = {"payers": pl.DataFrame({"payer_id": ["X"]}), "patients": patients,
    ...           "coverages": empty.select("patient_id"), "encounters": empty.select("encounter_id", "patient_id"),
    ...           "charges": empty.select("charge_id", "encounter_id"), "transactions": empty.select("charge_id")}
    >>> split = split_frames(frames, 2)
    >>> {p: t["patients"]["patient_id"].to_list() for p, t in split.items()}
    {'P1': ['004'], 'P2': ['001', '002']}
    """
    if practices < 1:
        msg = f"practices must be at least 1 (got {practices})"
        raise LedgerError(msg)
    missing = [t.name for t in TABLES if t.name not in frames]
    if missing:
        msg = f"cannot split: table(s) {', '.join(missing)} missing"
        raise LedgerError(msg)
    family = pl.coalesce(pl.col("guarantor_id"), pl.col("patient_id"))
    digits = family.str.replace_all(r"[^0-9]", "").str.slice(-9)
    number = pl.when(digits == "").then(family.hash()).otherwise(digits.cast(pl.UInt64, strict=False))
    owner = (
        frames["patients"]
        .select("patient_id", ((number % practices) + 1).cast(pl.Int64).alias("_practice"))
    )
    encounters = frames["encounters"].join(owner, on="patient_id", how="left")
    charges = frames["charges"].join(
        encounters.select("encounter_id", "_practice"), on="encounter_id", how="left"
    )
    tagged = {
        "patients": frames["patients"].join(owner, on="patient_id", how="left"),
        "coverages": frames["coverages"].join(owner, on="patient_id", how="left"),
        "encounters": encounters,
        "charges": charges,
        "transactions": frames["transactions"].join(
            charges.select("charge_id", "_practice"), on="charge_id", how="left"
        ),
    }
    out: dict[str, dict[str, pl.DataFrame]] = {}
    for index in range(1, practices + 1):
        tables = {"payers": frames["payers"]}
        for name, frame in tagged.items():
            tables[name] = frame.filter(pl.col("_practice") == index).drop("_practice")
        out[f"P{index}"] = {t.name: tables[t.name] for t in TABLES}
    return out


def write_practices(
    practices: Mapping[str, Mapping[str, pl.DataFrame]],
    out_dir: str | os.PathLike[str],
    *,
    fmt: str = "csv",
) -> Path:
    """Write a multi-practice extract: ``out_dir/practice=<id>/<table>.csv`` (or ``.parquet``).

    Returns
    -------
    Path
        ``out_dir``.
    """
    root = Path(out_dir)
    for practice, tables in practices.items():
        folder = root / f"practice={practice}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.items():
            if fmt == "parquet":
                frame.write_parquet(folder / f"{name}.parquet")
            else:
                frame.write_csv(folder / f"{name}.csv")
    return root
