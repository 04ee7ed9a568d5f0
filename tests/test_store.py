from __future__ import annotations

import multiprocessing
from decimal import Decimal

import pytest

from tests.conftest import EXAMPLE_TABLES, build_ledger
from writeoff_analytics.errors import LedgerError
from writeoff_analytics.ledger.store import Ledger


def test_example_of_ledger_format_derives_as_documented(example_ledger):
    (row,) = example_ledger.balances().to_dicts()
    assert row["insurance_balance"] == Decimal("0.00")
    assert row["patient_balance"] == Decimal("40.00")
    assert isinstance(row["patient_balance"], Decimal)
    assert row["not_responsible"] is True
    assert row["current_payer_id"] == "P-MCR"
    assert row["current_payer_role"] == 1
    assert row["patient_id"] == "0004567"  # leading zeros kept


def test_unloaded_store_says_what_to_do():
    with pytest.raises(LedgerError, match="no extract is loaded.*writeoff load"):
        Ledger(":memory:").balances()


def test_generation_grows_with_writes_and_cache_follows(tmp_path):
    ledger = build_ledger(str(tmp_path / "s.duckdb"), **EXAMPLE_TABLES)
    first = ledger.balances()
    assert ledger.balances() is first  # cached
    with ledger.transaction():
        pass
    assert ledger.balances() is not first


def _hold(path: str, ready, release) -> None:  # pragma: no cover - runs in a child
    ledger = Ledger(path)
    with ledger.connect():
        ready.set()
        release.wait(10)


def test_second_process_waits_for_the_store(tmp_path, monkeypatch):
    path = str(tmp_path / "s.duckdb")
    Ledger(path)
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold, args=(path, ready, release))
    child.start()
    try:
        assert ready.wait(30)
        monkeypatch.setattr("writeoff_analytics.ledger.store.LOCK_TIMEOUT_S", 0.3)
        from writeoff_analytics.ledger import store

        with pytest.raises(LedgerError, match="busy"), store._file_lock(path + ".lock", 0.3):
            pass
    finally:
        release.set()
        child.join(20)
    assert Ledger(path).generation() == 0
