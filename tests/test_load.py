"""Loading extracts: formats, reloads and the import log, rejects, atomicity, derived balances."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import writeoff_analytics as wa
from writeoff_analytics import queries
from writeoff_analytics.errors import LedgerError, LedgerFormatError
from writeoff_analytics.ledger.controls import LoadGuard
from writeoff_analytics.ledger.load import load_extract, read_extract
from writeoff_analytics.ledger.schema import TABLES
from writeoff_analytics.ledger.snapshot import SnapshotWriter
from writeoff_analytics.ledger.store import Ledger

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small"
BROKEN = DATA / "broken"
REPO = Path(__file__).resolve().parents[1]


#: Tests that load broken extracts on purpose lift the reject-share guard.
ACCEPT_REJECTS = LoadGuard(max_reject_share=Decimal(1))


def _balances(ledger: Ledger) -> pl.DataFrame:
    return ledger.balances().sort("charge_id")


@pytest.fixture(scope="module")
def small_balances() -> pl.DataFrame:
    return _balances(wa.load_ledger(SMALL, ":memory:"))


def test_small_extract_balances_are_as_written(small_balances):
    rows = {r["charge_id"]: r for r in small_balances.to_dicts()}
    # C1 is LEDGER_FORMAT.md's example
    assert (rows["C1"]["insurance_balance"], rows["C1"]["patient_balance"]) == (
        Decimal("0.00"),
        Decimal("40.00"),
    )
    assert rows["C1"]["not_responsible"] is True
    assert (rows["C2"]["insurance_balance"], rows["C2"]["patient_balance"]) == (
        Decimal("0.00"),
        Decimal("30.00"),
    )
    assert rows["C3"]["insurance_balance"] == Decimal("25.50")
    assert (rows["C5"]["patient_balance"], rows["C5"]["current_payer_id"]) == (
        Decimal("50.00"),
        None,
    )
    assert rows["C5"]["last_patient_payment_date"] == dt.date(2026, 4, 20)
    assert rows["C4"]["financial_hardship"] is True
    assert rows["C2"]["patient_id"] == "0000120"


def _zip(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        for p in sorted(folder.glob("*.csv")):
            zf.write(p, prefix + p.name)
    return target


def test_zip_gives_the_same_balances(tmp_path, small_balances):
    z = _zip(SMALL, tmp_path / "extract.zip", prefix="export-2026-05/")
    assert_equal(_balances(wa.load_ledger(z, ":memory:")), small_balances)


def assert_equal(a: pl.DataFrame, b: pl.DataFrame) -> None:
    assert a.schema == b.schema
    assert a.to_dicts() == b.to_dicts()


def test_parquet_typed_and_text_give_the_same_balances(tmp_path, small_balances):
    ex = read_extract(SMALL)
    typed, text = tmp_path / "typed", tmp_path / "text"
    typed.mkdir()
    text.mkdir()
    for name, frame in ex.frames.items():
        frame.write_parquet(typed / f"{name}.parquet")
        pl.read_csv(SMALL / f"{name}.csv", infer_schema=False).write_parquet(
            text / f"{name}.parquet"
        )
    assert_equal(_balances(wa.load_ledger(typed, ":memory:")), small_balances)
    assert_equal(_balances(wa.load_ledger(text, ":memory:")), small_balances)


def test_xlsx_gives_the_same_balances(tmp_path, small_balances):
    ex = read_extract(SMALL)
    for name, frame in ex.frames.items():
        frame.write_excel(tmp_path / f"{name}.xlsx")
    assert_equal(_balances(wa.load_ledger(tmp_path, ":memory:")), small_balances)


def test_mixed_formats_and_two_files_for_one_table(tmp_path):
    shutil.copytree(SMALL, tmp_path / "x")
    folder = tmp_path / "x"
    read_extract(folder).frames["payers"].write_parquet(folder / "payers.parquet")
    with pytest.raises(
        LedgerFormatError,
        match=r"table payers is there more than once \(payers.csv, payers.parquet\)",
    ):
        read_extract(folder)
    (folder / "payers.csv").unlink()
    assert read_extract(folder).frames["payers"].height == 3


def test_parquet_money_with_three_decimals_is_a_row_problem(tmp_path):
    shutil.copytree(SMALL, tmp_path / "x")
    folder = tmp_path / "x"
    df = pl.read_csv(folder / "charges.csv", infer_schema=False).with_columns(
        pl.col("charge_amount").cast(pl.Decimal(10, 3))
    )
    df = df.with_columns(
        pl.when(pl.col("charge_id") == "C3")
        .then(pl.lit(Decimal("12.345")))
        .otherwise(pl.col("charge_amount"))
        .cast(pl.Decimal(10, 3))
        .alias("charge_amount")
    )
    df.write_parquet(folder / "charges.parquet")
    (folder / "charges.csv").unlink()
    (p,) = read_extract(folder).problems
    assert (
        str(p)
        == "charges.parquet, row 4, column charge_amount: '12.345': has 3 decimals; money allows 2"
    )


def test_reload_replaces_the_snapshot_and_appends_to_the_import_log(tmp_path):
    db = tmp_path / "s.duckdb"
    ledger = Ledger(db)
    first = load_extract(ledger, SMALL)
    second = load_extract(ledger, BROKEN / "money_currency_sign", guard=ACCEPT_REJECTS)
    assert (first.import_id, second.import_id) == (1, 2)
    assert first.fingerprint != second.fingerprint
    assert ledger.balances().height == 5
    with ledger.connect() as con:
        log = con.execute(
            "SELECT import_id, fingerprint, row_counts_json, rejected_rows, files_json "
            "FROM import_log ORDER BY 1"
        ).fetchall()
        rejects = con.execute(
            "SELECT import_id, table_name, row_number, column_name, value FROM rejects"
        ).fetchall()
    assert [(r[0], r[1], r[3]) for r in log] == [
        (1, first.fingerprint, 0),
        (2, second.fingerprint, 5),
    ]
    assert json.loads(log[1][2])["transactions"] == 5
    files = {f["table"]: f for f in json.loads(log[1][4])}
    assert (files["charges"]["rows"], files["charges"]["rejected"]) == (6, 1)
    assert len(files["charges"]["sha256"]) == 64
    assert sorted(rejects)[0] == (2, "charges", 3, "charge_amount", "$1,234.50")
    assert len(rejects) == 5


def test_rejects_csv_holds_the_rows_to_fix(tmp_path):
    db = tmp_path / "store" / "s.duckdb"
    load_extract(Ledger(db), BROKEN / "money_currency_sign", guard=ACCEPT_REJECTS)
    with open(db.with_name("rejects.csv"), newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["table"], r["row"]) for r in rows] == [("charges", "3")] + [
        ("transactions", str(i)) for i in (6, 7, 8, 9)
    ]
    assert rows[0]["charge_amount"] == "$1,234.50"
    assert (
        rows[0]["problem"]
        == "charge_amount: has a currency sign or thousands separator; write 1234.50"
    )
    assert rows[1]["amount"] == "-100.00"  # numbers stay numbers
    assert rows[1]["transaction_id"] == "T5"
    # a clean reload removes the stale file
    load_extract(Ledger(db), SMALL)
    assert not db.with_name("rejects.csv").exists()


def test_rejects_csv_guards_against_formulas(tmp_path):
    shutil.copytree(SMALL, tmp_path / "x")
    p = tmp_path / "x" / "payers.csv"
    p.write_text(p.read_text().replace("P-COM,Acme Health,COMMERCIAL", "P-COM,=HYPERLINK(1),NOPE"))
    target = tmp_path / "r.csv"
    load_extract(Ledger(":memory:"), tmp_path / "x", rejects=target, guard=ACCEPT_REJECTS)
    with target.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["payer_name"] == "'=HYPERLINK(1)"


def test_fatal_problem_leaves_the_store_as_it_was(tmp_path):
    db = tmp_path / "s.duckdb"
    ledger = Ledger(db)
    load_extract(ledger, SMALL)
    before = _balances(ledger)
    for defect in ("missing_column", "non_utf8", "empty_file"):
        with pytest.raises(LedgerFormatError):
            load_extract(ledger, BROKEN / defect, guard=ACCEPT_REJECTS)
    assert_equal(_balances(ledger), before)
    assert ledger.generation() == 1


def _store_contents(ledger: Ledger) -> dict[str, list[tuple[object, ...]]]:
    """Every extract table, the import log and the rejects, each sorted."""
    with ledger.connect() as con:
        out = {t.name: queries.run(con, f"select_snapshot_{t.name}") for t in TABLES}
        out["import_log"] = con.execute("SELECT * FROM import_log ORDER BY import_id").fetchall()
        out["rejects"] = sorted(con.execute("SELECT * FROM rejects").fetchall(), key=repr)
    out["charge_balances"] = ledger.balances().rows()
    return out


def test_fatal_problem_in_the_last_table_leaves_the_store_as_it_was(tmp_path):
    # Each table goes into the store as soon as it is checked, inside the load's one
    # transaction: a fatal problem found in transactions.csv, after five tables have been
    # written, must still leave the previous snapshot, log and rejects whole.
    db = tmp_path / "s.duckdb"
    ledger = Ledger(db)
    load_extract(ledger, BROKEN / "money_currency_sign", guard=ACCEPT_REJECTS)
    before = _store_contents(ledger)
    extract = tmp_path / "x"
    shutil.copytree(SMALL, extract)
    with open(extract / "transactions.csv", "ab") as fh:
        fh.write(b"T99,C1,2026-03-02,PATIENT_PAYMENT,PATIENT,,-1.00,,,caf\xe9\n")
    with pytest.raises(LedgerFormatError, match="is not UTF-8") as info:
        load_extract(ledger, extract)
    assert info.value.file == "transactions.csv"
    assert _store_contents(ledger) == before
    assert ledger.generation() == 1


def test_load_stores_what_read_extract_reads(tmp_path):
    # load_extract streams table by table; read_extract holds every frame: same outcome.
    for defect in ("orphan_charge", "money_currency_sign", "short_row", "duplicate_id"):
        ledger = Ledger(tmp_path / f"{defect}.duckdb")
        report = load_extract(ledger, BROKEN / defect, guard=ACCEPT_REJECTS)
        extract = read_extract(BROKEN / defect)
        assert report.problems == extract.problems
        assert report.files == extract.files
        assert report.row_counts == {t.name: extract.frames[t.name].height for t in TABLES}
        with ledger.connect() as con:
            for t in TABLES:
                stored = queries.frame(con, f"select_snapshot_{t.name}")
                key = [c.name for c in t.columns]
                assert_equal(stored.sort(key), extract.frames[t.name].sort(key))


def test_snapshot_writer_refuses_a_snapshot_without_every_table():
    ledger = Ledger(":memory:")
    extract = read_extract(SMALL)
    with pytest.raises(LedgerError, match="table.s. transactions missing"):
        with ledger.transaction() as con:
            writer = SnapshotWriter(con)
            for t in TABLES[:-1]:
                writer.put(t, extract.frames[t.name])
            writer.finish(source="small", files=extract.files)
    assert not ledger.is_loaded()


def test_progress_is_reported_in_order():
    seen: list[tuple[str, float]] = []
    load_extract(Ledger(":memory:"), SMALL, progress=lambda s, f: seen.append((s, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert seen[0][0] == "reading payers.csv"
    assert seen[-1] == ("done", 1.0)


def test_not_an_extract_is_one_clear_error(tmp_path):
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(LedgerFormatError, match=r"is neither a folder nor a \.zip"):
        read_extract(tmp_path / "x.txt")
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(LedgerFormatError, match="cannot be read as a zip"):
        read_extract(tmp_path / "bad.zip")


# --- killed mid-load ---------------------------------------------------------------------


def _write_big_extract(folder: Path, n_tx: int) -> None:
    """A valid extract with n_tx transactions (big enough that storing it takes a while)."""
    folder.mkdir()
    for t in TABLES:
        if t.name not in ("charges", "transactions"):
            shutil.copy(SMALL / f"{t.name}.csv", folder)
    n_ch = n_tx // 4
    pl.DataFrame(
        {
            "charge_id": [f"C{i:07d}" for i in range(n_ch)],
            "encounter_id": "E1",
            "procedure_code": "99213",
            "units": "1",
            "charge_amount": "100.00",
            "billed_payer_id": "P-MCR",
            "posted_date": "2026-02-27",
        }
    ).write_csv(folder / "charges.csv")
    pl.DataFrame(
        {
            "transaction_id": [f"T{i:08d}" for i in range(n_tx)],
            "charge_id": [f"C{i % n_ch:07d}" for i in range(n_tx)],
            "posted_date": "2026-03-02",
            "type": "INSURANCE_PAYMENT",
            "responsibility": "INSURANCE",
            "payer_id": "P-MCR",
            "amount": "-10.00",
            "group_code": "",
            "reason_code": "",
            "reference": "EFT1",
        }
    ).write_csv(folder / "transactions.csv")


@pytest.mark.slow
def test_killed_load_leaves_the_previous_ledger_intact(tmp_path):
    db = tmp_path / "s.duckdb"
    ledger = Ledger(db)
    load_extract(ledger, SMALL)
    before = _balances(ledger)
    with ledger.connect() as con:
        log_before = con.execute("SELECT * FROM import_log").fetchall()
    big = tmp_path / "big"
    _write_big_extract(big, 400_000)
    size0 = db.stat().st_size
    wal = Path(str(db) + ".wal")
    assert not wal.exists()  # the first load was checkpointed when its connection closed
    env = dict(
        os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "writeoff_analytics.cli", "load", str(big), "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Inside replace_snapshot's transaction DuckDB writes the new tables' row groups into
        # the database file before it commits (the WAL appears only at commit): wait for that.
        deadline = time.monotonic() + 300
        while db.stat().st_size == size0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert proc.poll() is None, "the load ended before it could be killed"
        # Nothing of the load is committed yet: a commit of any part of it (a table, the
        # import log) would have left a write-ahead log beside the store.
        assert not wal.exists(), f"{wal.name} exists mid-load: part of the load was committed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    # the killed load left nothing to replay: the file alone holds the previous snapshot
    assert not wal.exists(), f"the killed load left {wal.name} behind"
    reopened = Ledger(db)
    assert_equal(_balances(reopened), before)
    with reopened.connect() as con:
        assert con.execute("SELECT * FROM import_log").fetchall() == log_before
    # and a retry loads fine
    report = load_extract(reopened, big)
    assert report.row_counts["transactions"] == 400_000
    assert report.import_id == 2


# --- derived balances against a plain-Python reading of LEDGER_FORMAT.md ------------------

DATES = [dt.date(2026, 1, 1) + dt.timedelta(days=d) for d in (0, 10, 20, 30)]
money = st.integers(-20000, 20000).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def ledgers(draw):
    payers = [
        {
            "payer_id": f"P{i}",
            "payer_name": f"Payer {i}",
            "financial_class": "COMMERCIAL",
            "balance_bill_patient": draw(st.sampled_from(["true", "false", "T", "0"])),
        }
        for i in range(draw(st.integers(1, 3)))
    ]
    pids = [p["payer_id"] for p in payers]
    patients = [{"patient_id": f"{i:04d}"} for i in range(draw(st.integers(1, 3)))]
    opt_bool = st.sampled_from(["", "true", "false"])
    coverages = []
    for _ in range(draw(st.integers(0, 5))):
        start = draw(st.sampled_from(DATES))
        end = draw(st.sampled_from([None, *DATES]))
        coverages.append(
            {
                "patient_id": draw(st.sampled_from(patients))["patient_id"],
                "payer_id": draw(st.sampled_from(pids)),
                "priority": str(draw(st.integers(1, 3))),
                "effective_from": start.isoformat(),
                "effective_to": "" if end is None else end.isoformat(),
                "qmb": draw(opt_bool),
                "patient_responsible": draw(opt_bool),
            }
        )
    encounters = [
        {
            "encounter_id": f"E{i}",
            "patient_id": draw(st.sampled_from(patients))["patient_id"],
            "date_of_service": draw(st.sampled_from(DATES)).isoformat(),
        }
        for i in range(draw(st.integers(1, 3)))
    ]
    charges = [
        {
            "charge_id": f"C{i}",
            "encounter_id": draw(st.sampled_from(encounters))["encounter_id"],
            "procedure_code": "99213",
            "charge_amount": str(abs(draw(money))),
            "billed_payer_id": draw(st.sampled_from(["", *pids])),
            "posted_date": "2026-01-01",
        }
        for i in range(draw(st.integers(1, 4)))
    ]
    tids = draw(st.lists(st.text("ab12", min_size=1, max_size=3), unique=True, max_size=8))
    transactions = [
        {
            "transaction_id": tid,
            "charge_id": draw(st.sampled_from(charges))["charge_id"],
            "posted_date": draw(st.sampled_from(DATES)).isoformat(),
            "type": draw(
                st.sampled_from(["INSURANCE_PAYMENT", "TRANSFER", "PATIENT_PAYMENT", "REFUND"])
            ),
            "responsibility": draw(st.sampled_from(["INSURANCE", "PATIENT"])),
            "payer_id": draw(st.sampled_from(["", *pids])),
            "amount": str(draw(money)),
        }
        for tid in tids
    ]
    return {
        "payers": payers,
        "patients": patients,
        "coverages": coverages,
        "encounters": encounters,
        "charges": charges,
        "transactions": transactions,
    }


def _truth(tables):
    """LEDGER_FORMAT.md's 'Derived quantities', read literally, in plain Python."""
    payers = {p["payer_id"]: p for p in tables["payers"]}
    enc = {e["encounter_id"]: e for e in tables["encounters"]}
    out = {}
    for c in tables["charges"]:
        e = enc[c["encounter_id"]]
        dos = dt.date.fromisoformat(e["date_of_service"])
        billed = c["billed_payer_id"] or None
        amount = Decimal(c["charge_amount"])
        ins = amount if billed else Decimal("0")
        pat = Decimal("0") if billed else amount
        txs = [t for t in tables["transactions"] if t["charge_id"] == c["charge_id"]]
        for t in txs:
            if t["responsibility"] == "INSURANCE":
                ins += Decimal(t["amount"])
            else:
                pat += Decimal(t["amount"])
        raised = [
            t
            for t in txs
            if t["responsibility"] == "INSURANCE" and Decimal(t["amount"]) > 0 and t["payer_id"]
        ]
        current = (
            max(raised, key=lambda t: (t["posted_date"], t["transaction_id"]))["payer_id"]
            if raised
            else billed
        )
        in_effect = [
            cv
            for cv in tables["coverages"]
            if cv["patient_id"] == e["patient_id"]
            and dt.date.fromisoformat(cv["effective_from"]) <= dos
            and (not cv["effective_to"] or dt.date.fromisoformat(cv["effective_to"]) >= dos)
        ]
        not_resp = any(
            payers[cv["payer_id"]]["balance_bill_patient"].lower() in ("false", "f", "0", "n")
            or cv["qmb"] == "true"
            or cv["patient_responsible"] == "false"
            for cv in in_effect
        )
        roles = [int(cv["priority"]) for cv in in_effect if cv["payer_id"] == current]
        out[c["charge_id"]] = (ins, pat, current, min(roles) if roles else None, not_resp)
    return out


def _write(folder: Path, tables) -> None:
    for t in TABLES:
        with open(folder / f"{t.name}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=[c.name for c in t.columns], restval="")
            w.writeheader()
            w.writerows(tables[t.name])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables=ledgers())
def test_derived_balances_match_the_definitions(tmp_path_factory, tables):
    folder = tmp_path_factory.mktemp("ledger")
    _write(folder, tables)
    ledger = Ledger(":memory:")
    assert load_extract(ledger, folder).problems == ()
    got = {
        r["charge_id"]: (
            r["insurance_balance"],
            r["patient_balance"],
            r["current_payer_id"],
            r["current_payer_role"],
            r["not_responsible"],
        )
        for r in ledger.balances().to_dicts()
    }
    assert got == _truth(tables)
