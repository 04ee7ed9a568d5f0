"""What a user would do without writeoff_analytics: the baselines the benchmark compares to.

- ``bare_duckdb_load``: DuckDB ``read_csv``/``read_parquet`` into typed tables, no checks.
- ``one_query_candidates``: a preset computed from the raw transactions in one DuckDB query
  (the derived-balances SQL inlined as a CTE under the candidate query, so its meaning is
  exactly ours and only the cost of deriving on every search differs).
- ``pandas_candidates``: the preset the way an analyst writes it in pandas (read, pivot,
  merge, filter), on frames already read (reading is timed apart).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from writeoff_analytics.ledger.schema import SQL_TYPES, TABLES

TABLE_NAMES = [t.name for t in TABLES]


def _columns(table_name: str, present: list[str] | None = None) -> dict[str, str]:
    table = next(t for t in TABLES if t.name == table_name)
    return {c.name: SQL_TYPES[c.type] for c in table.columns if present is None or c.name in present}


def _csv_header(path: str) -> list[str]:
    with open(path, encoding="utf-8-sig") as f:
        return f.readline().rstrip("\r\n").split(",")


def bare_duckdb_load(extract: Path, db_path: Path, fmt: str) -> dict[str, int]:
    """Read the six tables into typed DuckDB tables with no validation; return row counts."""
    con = duckdb.connect(str(db_path))
    counts = {}
    try:
        for name in TABLE_NAMES:
            path = str(extract / f"{name}.{fmt}")
            rel = (
                con.read_csv(path, header=True, dtype=_columns(name, _csv_header(path)))
                if fmt == "csv"
                else con.read_parquet(path)
            )
            rel.create(name)
            counts[name] = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]  # noqa: S608 - fixed names
    finally:
        con.close()
    return counts


def one_query_sql(derive_sql: str, candidate_sql: str) -> str:
    """Inline the derived-balances query as a CTE under the candidate query: one query."""
    body = derive_sql.split("CREATE OR REPLACE TABLE charge_balances AS", 1)[1]
    body = re.sub(r"ORDER BY l\.charge_id;?\s*$", "", body.strip())
    lines = [ln for ln in candidate_sql.splitlines() if not ln.startswith("--")]
    cand = "\n".join(lines)
    first = cand.lstrip()
    if first.upper().startswith("WITH"):
        return f"WITH charge_balances AS (\n{body}\n),\n{first[4:]}"
    return f"WITH charge_balances AS (\n{body}\n)\n{first}"


def read_pandas(extract: Path) -> dict[str, pd.DataFrame]:
    """Read the CSV extract the way an analyst would: strings, amounts as numbers."""
    frames = {name: pd.read_csv(extract / f"{name}.csv", dtype=str) for name in TABLE_NAMES}
    frames["charges"]["charge_amount"] = frames["charges"]["charge_amount"].astype(float)
    frames["transactions"]["amount"] = frames["transactions"]["amount"].astype(float)
    for table, cols in {
        "encounters": ["date_of_service"],
        "transactions": ["posted_date"],
        "coverages": ["effective_from", "effective_to"],
        "patients": ["deceased_date"],
    }.items():
        for col in cols:
            frames[table][col] = pd.to_datetime(frames[table][col])
    return frames


def pandas_candidates(frames: dict[str, pd.DataFrame], preset: str, as_of: dt.date) -> pd.DataFrame:
    """One preset in pandas: balances by pivot, coverage flags by merge, then filters."""
    tx, ch = frames["transactions"], frames["charges"]
    enc, pat, cov, pay = frames["encounters"], frames["patients"], frames["coverages"], frames["payers"]
    sums = tx.pivot_table(
        index="charge_id", columns="responsibility", values="amount", aggfunc="sum", fill_value=0.0
    )
    lines = ch.merge(sums, left_on="charge_id", right_index=True, how="left").fillna(
        {"INSURANCE": 0.0, "PATIENT": 0.0}
    )
    billed = lines["billed_payer_id"].notna()
    lines["insurance_balance"] = (lines["charge_amount"].where(billed, 0.0) + lines["INSURANCE"]).round(2)
    lines["patient_balance"] = (lines["charge_amount"].where(~billed, 0.0) + lines["PATIENT"]).round(2)
    lines = lines.merge(enc, on="encounter_id").merge(pat, on="patient_id")
    age = (pd.Timestamp(as_of) - lines["date_of_service"]).dt.days
    lines["age_days"] = age
    c = cov.merge(pay, on="payer_id").merge(enc[["encounter_id", "patient_id", "date_of_service"]], on="patient_id")
    in_effect = (c["effective_from"] <= c["date_of_service"]) & (
        c["effective_to"].isna() | (c["effective_to"] >= c["date_of_service"])
    )
    c = c[in_effect]
    no_bill = (c["balance_bill_patient"].str.lower().isin(["false", "f", "0", "n"])) | (
        c["qmb"].fillna("false").str.lower().isin(["true", "t", "1", "y"])
    ) | (c["patient_responsible"].fillna("true").str.lower().isin(["false", "f", "0", "n"]))
    nr = set(c.loc[no_bill, "encounter_id"])
    lines["not_responsible"] = lines["encounter_id"].isin(nr)

    if preset == "timely-filing":
        out = lines[(lines["insurance_balance"] > 0) & (lines["age_days"] >= 365)]
        return out[["charge_id", "insurance_balance"]].rename(columns={"insurance_balance": "balance"})
    pl_ = lines[(lines["patient_balance"] > 0) & (lines["insurance_balance"] == 0)]
    if preset == "no-balance-billing":
        pl_ = pl_[pl_["not_responsible"]]
    elif preset == "bad-debt":
        pay_tx = tx[tx["type"] == "PATIENT_PAYMENT"].groupby("charge_id")["posted_date"].max()
        pl_ = pl_.merge(pay_tx.rename("last_pay"), left_on="charge_id", right_index=True, how="left")
        cutoff = pd.Timestamp(as_of) - pd.Timedelta(days=90)
        pl_ = pl_[(pl_["age_days"] >= 180) & (pl_["last_pay"].isna() | (pl_["last_pay"] <= cutoff))]
    elif preset == "deceased":
        pl_ = pl_[pl_["deceased_date"].notna()]
    elif preset == "hardship":
        pl_ = pl_[pl_["financial_hardship"].fillna("false").str.lower().isin(["true", "t", "1", "y"])]
    elif preset == "small-balance":
        pl_ = pl_[pl_["age_days"] >= 90]
        totals = pl_.groupby("patient_id")["patient_balance"].transform("sum")
        pl_ = pl_[totals.round(2) <= 10.00]
    return pl_[["charge_id", "patient_balance"]].rename(columns={"patient_balance": "balance"})


def result_count(rows: Any) -> int:
    """Rows in a baseline's result."""
    return len(rows)
