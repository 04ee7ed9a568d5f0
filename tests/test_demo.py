"""The demo ledger generator: determinism, contract validity, and what the presets find in it."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from writeoff_analytics.demo import (
    DEFAULT_END_DATE,
    build_demo_frames,
    generate_demo,
    patients_for_transactions,
)
from writeoff_analytics.demo import tables as demo_tables
from writeoff_analytics.errors import DemoError, WriteoffError
from writeoff_analytics.ledger.schema import TABLES, ColumnType
from writeoff_analytics.ledger.snapshot import conform, polars_schema, replace_snapshot
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.money import format_money

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "data" / "demo"
END = DEFAULT_END_DATE
MONEY_TEXT = r"^-?\d+\.\d{2}$"
#: Row counts of the default demo (patients=2000, seed=7, end 2026-11-01).
DEFAULT_COUNTS = {
    "payers": 15,
    "patients": 2000,
    "coverages": 2225,
    "encounters": 5753,
    "charges": 9907,
    "transactions": 34545,
}


def _read_text(folder: Path) -> dict[str, pl.DataFrame]:
    """Every table as text, exactly as written (empty cell -> null)."""
    return {t.name: pl.read_csv(folder / f"{t.name}.csv", infer_schema=False) for t in TABLES}


def _read_typed(folder: Path, fmt: str = "csv") -> dict[str, pl.DataFrame]:
    """Every table with the contract's dtypes, read and validated by the loader."""
    from writeoff_analytics.ledger.load import read_extract

    extract = read_extract(folder)
    assert extract.problems == (), extract.problems[:5]
    return {t.name: conform(t, extract.frames[t.name]) for t in TABLES}


def _balances(folder: Path, fmt: str = "csv") -> pl.DataFrame:
    ledger = Ledger(":memory:")
    replace_snapshot(ledger, _read_typed(folder, fmt), source=str(folder))
    return ledger.balances().with_columns(
        age_days=(pl.lit(END) - pl.col("date_of_service")).dt.total_days()
    )


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default demo, generated once for this module."""
    out = tmp_path_factory.mktemp("demo")
    generate_demo(out)
    return out


@pytest.fixture(scope="module")
def balances(demo_dir: Path) -> pl.DataFrame:
    """``charge_balances`` of the default demo, with ``age_days`` at the end date."""
    return _balances(demo_dir)


# --- determinism and the shipped demo ---------------------------------------------------


def test_shipped_demo_is_what_the_generator_makes(demo_dir: Path) -> None:
    assert _files(demo_dir) == {
        name: data for name, data in _files(SHIPPED).items() if name.endswith(".csv")
    }


def test_shipped_demo_is_small_and_documented() -> None:
    csvs = sorted(p.name for p in SHIPPED.glob("*.csv"))
    assert csvs == sorted(f"{t.name}.csv" for t in TABLES)
    assert sum(p.stat().st_size for p in SHIPPED.iterdir()) < 4_000_000
    readme = (SHIPPED / "README.md").read_text(encoding="utf-8")
    assert "writeoff demo-data --out data/demo" in readme
    assert "synthetic" in readme


def test_summary_of_default_demo(tmp_path: Path) -> None:
    summary = generate_demo(tmp_path)
    assert dict(summary.row_counts) == DEFAULT_COUNTS
    assert summary.patients == 2000
    assert summary.files == tuple(tmp_path / f"{t.name}.csv" for t in TABLES)
    text = _read_text(tmp_path)
    charged = sum(Decimal(v) for v in text["charges"]["charge_amount"])
    posted = sum(Decimal(v) for v in text["transactions"]["amount"])
    assert isinstance(summary.total_charge_amount, Decimal)
    assert summary.total_charge_amount == charged
    assert summary.total_transaction_amount == posted


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_arguments_give_identical_files(tmp_path: Path, fmt: str) -> None:
    a = generate_demo(tmp_path / "a", patients=300, seed=11, fmt=fmt)
    b = generate_demo(tmp_path / "b", patients=300, seed=11, fmt=fmt)
    c = generate_demo(tmp_path / "c", patients=300, seed=12, fmt=fmt)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert a.row_counts == b.row_counts
    assert (
        _files(tmp_path / "a")[f"transactions.{fmt}"]
        != _files(tmp_path / "c")[f"transactions.{fmt}"]
    )
    assert c.patients == 300


def test_parquet_holds_contract_dtypes_and_same_balances(tmp_path: Path) -> None:
    generate_demo(tmp_path / "csv", patients=400, seed=5)
    generate_demo(tmp_path / "pq", patients=400, seed=5, fmt="parquet")
    for t in TABLES:
        frame = pl.read_parquet(tmp_path / "pq" / f"{t.name}.parquet")
        assert dict(frame.schema) == polars_schema(t)
    assert _balances(tmp_path / "csv").equals(_balances(tmp_path / "pq", "parquet"))


def test_end_date_moves_the_history(tmp_path: Path) -> None:
    generate_demo(tmp_path, patients=100, end_date=dt.date(2025, 1, 1))
    typed = _read_typed(tmp_path)
    dos = typed["encounters"]["date_of_service"]
    assert dos.max() < dt.date(2025, 1, 1)  # type: ignore[operator]
    assert dos.min() >= dt.date(2022, 1, 1)  # type: ignore[operator]
    assert typed["transactions"]["posted_date"].max() < dt.date(2025, 1, 1)  # type: ignore[operator]


def test_transactions_picks_the_patient_count(tmp_path: Path) -> None:
    summary = generate_demo(tmp_path, transactions=20_000, patients=5)
    assert summary.patients == patients_for_transactions(20_000)
    assert 16_000 <= summary.transactions <= 24_000


@pytest.mark.parametrize("patients", [1, 2, 7])
def test_tiny_demos_are_valid(tmp_path: Path, patients: int) -> None:
    generate_demo(tmp_path, patients=patients, seed=patients)
    _check_contract(_read_text(tmp_path))
    _balances(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"fmt": "xlsx"}, "format 'xlsx' is unknown"),
        ({"patients": 0}, "patients must be at least 1"),
        ({"transactions": 0}, "transactions must be at least 1"),
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(DemoError, match=words) as info:
        generate_demo(tmp_path, **kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, WriteoffError)
    assert not any(tmp_path.iterdir())


# --- the contract -------------------------------------------------------------------------


def _check_contract(text: dict[str, pl.DataFrame]) -> None:
    """Every rule of LEDGER_FORMAT.md, on the text as written."""
    for t in TABLES:
        df = text[t.name]
        # LEDGER_FORMAT.md version 1 columns; remark_codes is our 835 extension (DESIGN.md)
        contract = [c for c in t.columns if c.name != "remark_codes"]
        assert df.columns == [c.name for c in contract], t.name
        for c in contract:
            col = df[c.name]
            if c.required:
                assert col.null_count() == 0, (t.name, c.name)
            if c.unique:
                assert col.n_unique() == df.height, (t.name, c.name)
            values = col.drop_nulls()
            if c.type is ColumnType.MONEY:
                assert values.str.contains(MONEY_TEXT).all(), (t.name, c.name)
                if c.minimum is not None:
                    assert not values.str.starts_with("-").any(), (t.name, c.name)
            elif c.type is ColumnType.DATE:
                assert values.str.to_date("%Y-%m-%d", strict=False).null_count() == 0
            elif c.type is ColumnType.BOOL:
                assert set(values.to_list()) <= {"true", "false"}, (t.name, c.name)
            elif c.type is ColumnType.INTEGER:
                ints = values.cast(pl.Int64)
                if c.minimum is not None:
                    assert (ints >= c.minimum).all()
                if c.maximum is not None:
                    assert (ints <= c.maximum).all()
            elif c.type is ColumnType.ENUM:
                assert set(values.to_list()) <= set(c.enum), (t.name, c.name)
            if c.references is not None:
                target_table, target_col = c.references
                known = set(text[target_table][target_col].to_list())
                assert set(values.to_list()) <= known, (t.name, c.name)
    # guarantors are patients; ids are never blank
    patients = text["patients"]
    known = set(patients["patient_id"].to_list())
    assert set(patients["guarantor_id"].drop_nulls().to_list()) <= known


def test_every_table_follows_the_contract(demo_dir: Path) -> None:
    _check_contract(_read_text(demo_dir))


def test_ids_keep_leading_zeros_and_families_share_a_guarantor(demo_dir: Path) -> None:
    patients = _read_text(demo_dir)["patients"]
    assert patients["patient_id"].str.starts_with("0").all()
    assert patients["patient_id"].str.len_chars().unique().to_list() == [7]
    families = patients.group_by("guarantor_id").len().filter(pl.col("guarantor_id").is_not_null())
    assert families["len"].max() >= 3  # type: ignore[operator]
    assert families.height > 100


def test_transfers_come_in_pairs(demo_dir: Path) -> None:
    tx = _read_text(demo_dir)["transactions"].with_columns(pl.col("amount").cast(pl.Decimal(18, 2)))
    pairs = (
        tx.filter(pl.col("type") == "TRANSFER")
        .group_by("reference")
        .agg(
            pl.len(),
            pl.col("amount").sum().alias("net"),
            pl.col("charge_id").n_unique().alias("charges"),
            pl.col("posted_date").n_unique().alias("dates"),
            (pl.col("amount") < 0).sum().alias("outs"),
        )
    )
    assert pairs.height > 1000
    assert pairs.filter(
        (pl.col("len") != 2)
        | (pl.col("net") != 0)
        | (pl.col("charges") != 1)
        | (pl.col("dates") != 1)
        | (pl.col("outs") != 1)
    ).is_empty()
    # the row out of insurance names the payer; the row into the patient bucket does not
    outs = tx.filter(pl.col("type") == "TRANSFER", pl.col("amount") < 0)
    assert (outs["responsibility"] == "INSURANCE").all()
    assert outs["payer_id"].null_count() == 0
    into_patient = tx.filter(pl.col("type") == "TRANSFER", pl.col("responsibility") == "PATIENT")
    assert into_patient["payer_id"].null_count() == into_patient.height
    assert (into_patient["amount"] > 0).all()


def test_history_is_three_years_and_respects_deaths(demo_dir: Path) -> None:
    typed = _read_typed(demo_dir)
    enc = typed["encounters"].join(typed["patients"], on="patient_id")
    assert enc["date_of_service"].max() < END  # type: ignore[operator]
    assert enc["date_of_service"].min() >= END - dt.timedelta(days=1096)  # type: ignore[operator]
    assert enc.filter(pl.col("date_of_service") > pl.col("deceased_date")).is_empty()
    assert enc.filter(pl.col("date_of_service") < pl.col("date_of_birth")).is_empty()
    assert typed["transactions"]["posted_date"].max() < END  # type: ignore[operator]


def test_payer_mix(demo_dir: Path) -> None:
    typed = _read_typed(demo_dir)
    payers = typed["payers"]
    classes = payers.group_by("financial_class").len()
    assert set(classes["financial_class"]) == {
        "MEDICARE",
        "MEDICARE_ADVANTAGE",
        "MEDICAID",
        "MEDICAID_MANAGED_CARE",
        "COMMERCIAL",
        "TRICARE",
        "WORKERS_COMP",
        "AUTO",
        "OTHER",
    }
    no_bb = payers.filter(~pl.col("balance_bill_patient"))["financial_class"].to_list()
    assert sorted(no_bb) == ["MEDICAID", "MEDICAID_MANAGED_CARE", "MEDICAID_MANAGED_CARE"]
    charges = typed["charges"].join(
        payers, left_on="billed_payer_id", right_on="payer_id", how="left"
    )
    billed = set(charges["financial_class"].to_list())
    assert billed == {None, *classes["financial_class"].to_list()} - {"OTHER"}
    cov = typed["coverages"].join(payers, on="payer_id")
    # dual eligible: Medicare primary with a Medicaid-type secondary
    duals = cov.filter(pl.col("priority") == 2, ~pl.col("balance_bill_patient"))
    assert duals.height > 50
    assert cov.filter(pl.col("qmb")).height > 10
    assert cov.filter(~pl.col("patient_responsible")).height > 5
    # coverage ending mid-history, and coverage starting mid-history
    start = END - dt.timedelta(days=1096)
    assert cov.filter(pl.col("effective_to").is_not_null()).height > 100
    assert cov.filter(pl.col("effective_from") > start).height > 100
    # self-pay patients have no coverage at all
    uncovered = set(typed["patients"]["patient_id"]) - set(cov["patient_id"])
    assert len(uncovered) > 100
    codes = set(typed["charges"]["procedure_code"])
    assert {"99213", "99214", "80053", "36415", "93000"} <= codes


def test_transaction_kinds(demo_dir: Path) -> None:
    tx = _read_typed(demo_dir)["transactions"]
    kinds = tx.group_by("type", "responsibility").len()
    assert kinds.height == 8  # every type; transfers and refunds on both sides
    prior = tx.filter(pl.col("type") == "PATIENT_ADJUSTMENT")
    assert prior["reference"].str.starts_with("PRIOR-").all()
    assert prior.height > 100
    refunds = tx.filter(pl.col("type") == "REFUND")
    assert set(refunds["responsibility"]) == {"INSURANCE", "PATIENT"}
    co45 = tx.filter(pl.col("type") == "INSURANCE_ADJUSTMENT")
    assert set(co45["group_code"]) == {"CO"}
    pr = tx.filter(pl.col("type") == "TRANSFER")
    assert set(pr["reason_code"]) == {"1", "2", "3"}


# --- derived balances (through replace_snapshot) ----------------------------------------


def _patient_candidates(b: pl.DataFrame) -> pl.DataFrame:
    # CRITERIA.md: positive patient balance, nothing left with insurance
    return b.filter(pl.col("patient_balance") > 0, pl.col("insurance_balance") == 0)


def test_balances_add_up(demo_dir: Path, balances: pl.DataFrame) -> None:
    text = _read_text(demo_dir)
    charges = text["charges"]
    tx = text["transactions"]
    opening_ins = sum(
        Decimal(v) for v in charges.filter(pl.col("billed_payer_id").is_not_null())["charge_amount"]
    )
    opening_pt = sum(
        Decimal(v) for v in charges.filter(pl.col("billed_payer_id").is_null())["charge_amount"]
    )
    ins = sum(Decimal(v) for v in tx.filter(pl.col("responsibility") == "INSURANCE")["amount"])
    pt = sum(Decimal(v) for v in tx.filter(pl.col("responsibility") == "PATIENT")["amount"])
    assert balances["insurance_balance"].sum() == opening_ins + ins
    assert balances["patient_balance"].sum() == opening_pt + pt
    assert balances.height == DEFAULT_COUNTS["charges"]


def test_medicaid_secondary_leaves_patient_balances(demo_dir: Path, balances: pl.DataFrame) -> None:
    typed = _read_typed(demo_dir)
    medicaid_secondary = (
        typed["coverages"]
        .join(typed["payers"], on="payer_id")
        .filter(pl.col("priority") == 2, pl.col("financial_class").str.starts_with("MEDICAID"))
        .select("patient_id")
        .unique()
    )
    lines = (
        _patient_candidates(balances)
        .filter(pl.col("patient_financial_class") == "MEDICARE", pl.col("not_responsible"))
        .join(medicaid_secondary, on="patient_id")
    )
    assert lines.height > 50


def test_credit_balances_both_sides(balances: pl.DataFrame) -> None:
    assert balances.filter(pl.col("patient_balance") < 0).height > 50
    assert balances.filter(pl.col("insurance_balance") < 0).height > 10


def test_pending_with_secondary(balances: pl.DataFrame) -> None:
    pending = balances.filter(pl.col("insurance_balance") > 0, pl.col("current_payer_role") == 2)
    assert pending.height > 50
    assert (pending["current_payer_id"] != pending["billed_payer_id"]).all()
    assert pending.filter(pl.col("age_days") >= 365).height > 10


def test_every_preset_finds_candidates(balances: pl.DataFrame) -> None:
    as_of = END
    patient = _patient_candidates(balances)
    no_balance_billing = patient.filter(pl.col("not_responsible"))
    small_balance = (
        patient.filter(pl.col("age_days") >= 90)
        .group_by("patient_id")
        .agg(pl.col("patient_balance").sum().alias("total"))
        .filter(pl.col("total") <= Decimal("10.00"))
    )
    bad_debt = patient.filter(
        pl.col("age_days") >= 180,
        pl.col("last_patient_payment_date").is_null()
        | (pl.col("last_patient_payment_date") <= as_of - dt.timedelta(days=90)),
    )
    # some bad-debt lines had a payment, just not in the last 90 days
    assert bad_debt.filter(pl.col("last_patient_payment_date").is_not_null()).height > 50
    deceased = patient.filter(pl.col("deceased_date").is_not_null())
    hardship = patient.filter(pl.col("financial_hardship"))
    timely = balances.filter(pl.col("insurance_balance") > 0, pl.col("age_days") >= 365)
    found = {
        "no-balance-billing": no_balance_billing["encounter_id"].n_unique(),
        "small-balance": small_balance.height,
        "bad-debt": bad_debt["encounter_id"].n_unique(),
        "deceased": deceased["patient_id"].n_unique(),
        "hardship": hardship["patient_id"].n_unique(),
        "timely-filing": timely.height,
    }
    assert all(n >= 10 for n in found.values()), found


def test_frames_in_memory_are_what_the_files_hold(tmp_path: Path) -> None:
    frames = build_demo_frames(patients=60, seed=4)
    generate_demo(tmp_path, patients=60, seed=4)
    typed = _read_typed(tmp_path)
    for t in TABLES:
        money = [c.name for c in t.columns if c.type is ColumnType.MONEY]
        expected = conform(t, frames[t.name].with_columns(pl.col(money).cast(pl.Decimal(18, 2))))
        assert typed[t.name].equals(expected), t.name


# --- the command ----------------------------------------------------------------------------


def test_demo_data_command(tmp_path: Path) -> None:
    out = tmp_path / "extract"
    cmd = [sys.executable, "-m", "writeoff_analytics.cli", "demo-data", "--out", str(out)]
    done = subprocess.run(
        [*cmd, "--patients", "25", "--seed", "3", "--end-date", "2026-06-30"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summary = generate_demo(tmp_path / "same", patients=25, seed=3, end_date=dt.date(2026, 6, 30))
    assert _files(out) == _files(tmp_path / "same")
    lines = done.stdout.splitlines()
    assert lines[0] == f"wrote a synthetic demo ledger to {out} (csv, seed 3, as of 2026-06-30)"
    assert lines[1].split() == ["payers", "15"]
    assert lines[2].split() == ["patients", "25"]
    assert lines[6].split() == ["transactions", f"{summary.transactions:,}"]
    assert lines[7].split() == ["total", "charges", format_money(summary.total_charge_amount)]

    bad = subprocess.run([*cmd, "--patients", "0", "--force"], capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert bad.stderr == "writeoff demo-data: error: patients must be at least 1 (got 0)\n"


def test_demo_data_options_reach_the_generator(tmp_path: Path) -> None:
    from writeoff_analytics.cli import build_parser, main

    args = build_parser().parse_args(
        ["demo-data", "--out", str(tmp_path), "--transactions", "900", "--format", "parquet"]
    )
    assert (args.transactions, args.fmt, args.seed, args.end_date) == (900, "parquet", 7, END)
    assert (
        main(["demo-data", "--out", str(tmp_path), "--transactions", "900", "--format", "parquet"])
        == 0
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{t.name}.parquet" for t in TABLES)
    with pytest.raises(SystemExit):
        build_parser().parse_args(
            ["demo-data", "--out", "x", "--patients", "3", "--transactions", "9"]
        )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_slicing_the_transactions_changes_nothing(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = generate_demo(tmp_path / "whole", patients=150, seed=9, fmt=fmt)
    monkeypatch.setattr(demo_tables, "CHUNK_ROWS", 333)
    sliced = generate_demo(tmp_path / "sliced", patients=150, seed=9, fmt=fmt)
    assert whole.transactions > 3 * 333
    assert _files(tmp_path / "whole") == _files(tmp_path / "sliced")
    assert sliced.total_transaction_amount == whole.total_transaction_amount
    frames = build_demo_frames(patients=150, seed=9)
    assert frames["transactions"]["transaction_id"].n_unique() == whole.transactions
