"""A load cannot silently lose the ledger (issue 14): control totals and the load guard."""

from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from writeoff_analytics import queries
from writeoff_analytics.errors import LedgerError
from writeoff_analytics.ledger.controls import LoadGuard, LoadRefused, parse_share
from writeoff_analytics.ledger.load import load_extract
from writeoff_analytics.ledger.schema import TABLES
from writeoff_analytics.ledger.store import Ledger

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small"


def _copy(tmp_path: Path, name: str = "x") -> Path:
    folder = tmp_path / name
    shutil.copytree(SMALL, folder)
    return folder


def _snapshot(ledger: Ledger) -> dict[str, list[tuple]]:
    """Every extract table, the import log, the rejects and the balances."""
    with ledger.connect() as con:
        out = {t.name: sorted(queries.run(con, f"select_snapshot_{t.name}")) for t in TABLES}
        out["import_log"] = con.execute("SELECT * FROM import_log ORDER BY import_id").fetchall()
        out["rejects"] = sorted(con.execute("SELECT * FROM rejects").fetchall(), key=repr)
    out["charge_balances"] = sorted(ledger.balances().rows(), key=repr)
    return out


@pytest.fixture
def loaded(tmp_path):
    ledger = Ledger(tmp_path / "store" / "s.duckdb")
    load_extract(ledger, SMALL)
    return ledger


def test_header_only_transactions_cannot_replace_a_good_ledger(tmp_path, loaded):
    folder = _copy(tmp_path)
    path = folder / "transactions.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    before = _snapshot(loaded)
    with pytest.raises(LoadRefused) as info:
        load_extract(loaded, folder)
    assert str(info.value) == (
        "load refused, the store keeps its previous snapshot: transactions.csv: the file has no "
        "rows, no transactions would be left (the store holds 9); fix them (rejects.csv) or pass "
        "accept_empty_tables (--accept-empty-tables)"
    )
    assert _snapshot(loaded) == before
    # the option that names the risk lets it through
    report = load_extract(loaded, folder, guard=LoadGuard(accept_empty_tables=True))
    assert report.row_counts["transactions"] == 0


def test_every_transaction_rejected_is_refused_and_rejects_are_still_written(tmp_path, loaded):
    folder = _copy(tmp_path)
    path = folder / "transactions.csv"
    lines = path.read_text().splitlines()
    # every row points at a charge the extract does not hold
    path.write_text("\n".join([lines[0], *(ln.replace(",C", ",X", 1) for ln in lines[1:])]) + "\n")
    before = _snapshot(loaded)
    with pytest.raises(LoadRefused, match="all 9 rows rejected, no transactions would be left"):
        load_extract(loaded, folder, guard=LoadGuard(max_reject_share=Decimal(1)))
    assert _snapshot(loaded) == before
    rejects = Path(loaded.path).with_name("rejects.csv").read_text()
    assert rejects.count("\n") == 1 + 9


def test_a_first_load_of_an_empty_table_is_not_a_loss(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "coverages.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    report = load_extract(Ledger(":memory:"), folder)
    assert report.row_counts["coverages"] == 0


def test_reject_share_over_the_limit_is_refused_with_the_figures(tmp_path, loaded):
    before = _snapshot(loaded)
    with pytest.raises(LoadRefused) as info:
        load_extract(loaded, DATA / "broken" / "short_row")
    assert info.value.breaches == (
        "transactions.csv: 1 of 9 rows rejected (11.1%), over the 1% allowed; fix them "
        "(rejects.csv) or raise max_reject_share (--accept-rejected-share 11.2%)",
    )
    assert _snapshot(loaded) == before
    # the share it names is enough to load
    report = load_extract(
        loaded, DATA / "broken" / "short_row", guard=LoadGuard(max_reject_share=parse_share("11.2%"))
    )
    assert report.row_counts["transactions"] == 8


def test_control_totals_reconcile_read_stored_and_rejected(tmp_path):
    report = load_extract(
        Ledger(":memory:"), DATA / "broken" / "money_currency_sign",
        guard=LoadGuard(max_reject_share=Decimal(1)),
    )
    controls = {c.table: c for c in report.controls}
    charges = controls["charges"]
    assert (charges.rows_read, charges.rows_kept, charges.rows_rejected) == (6, 5, 1)
    [money] = charges.money
    # '$1,234.50' cannot be read: it is counted, never summed
    assert (money.column, money.unreadable_cells) == ("charge_amount", 1)
    assert money.read_total == money.stored_total
    transactions = controls["transactions"]
    assert (transactions.rows_read, transactions.rows_kept) == (9, 5)
    [amount] = transactions.money
    assert amount.read_total == Decimal("-310.00")
    assert amount.stored_total == Decimal("-190.00")
    assert amount.rejected_total == Decimal("-120.00")
    assert all(isinstance(v, Decimal) for v in (amount.read_total, amount.stored_total))


def test_control_totals_are_logged_in_the_store(loaded):
    with loaded.connect() as con:
        rows = con.execute(
            "SELECT table_name, rows_read, rows_kept, previous_rows, money_column, read_total, "
            "stored_total FROM import_controls WHERE money_column IS NOT NULL ORDER BY table_name"
        ).fetchall()
    assert rows == [
        ("charges", 6, 6, None, "charge_amount", Decimal("587.85"), Decimal("587.85")),
        ("transactions", 9, 9, None, "amount", Decimal("-310.00"), Decimal("-310.00")),
    ]


@pytest.mark.parametrize("bad", ["-1", "101", "abc", "５", "nan"])
def test_share_must_be_a_percentage(bad):
    with pytest.raises(LedgerError):
        parse_share(bad)


def test_cli_refusal_is_one_line_and_the_flag_lifts_it(tmp_path):
    db = tmp_path / "s.duckdb"
    base = [sys.executable, "-m", "writeoff_analytics.cli", "load"]
    run = lambda *a: subprocess.run([*base, *a], capture_output=True, text=True, check=False)  # noqa: E731
    assert run(str(SMALL), "--db", str(db)).returncode == 0
    done = run(str(DATA / "broken" / "short_row"), "--db", str(db))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "over the 1% allowed" in done.stderr and "--accept-rejected-share 11.2%" in done.stderr
    done = run(str(DATA / "broken" / "short_row"), "--db", str(db), "--accept-rejected-share", "11.2%")
    assert done.returncode == 0, done.stderr
    assert "  transactions.csv: 9 read, 8 kept, 1 rejected (11.1%); amount read" in done.stdout
