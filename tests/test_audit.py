from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tests.batch_support import count_rows, find, make_store
from writeoff_analytics.errors import BatchError, HistoryError, PermissionDenied
from writeoff_analytics.writeoffs.audit import AuditAction, AuditOutcome, audit_log, record_event
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.history import reverse_receipt
from writeoff_analytics.writeoffs.permissions import Config, Permission
from writeoff_analytics.writeoffs.receipts import commit_batch

CONFIG = Config(
    users={"ana": frozenset({Permission.MASS_WRITE_OFF}), "sam": frozenset(Permission)},
)


def test_every_commit_refusal_and_reversal_is_logged_with_user_time_and_receipt(tmp_path):
    ledger = make_store()
    start = dt.datetime.now() - dt.timedelta(seconds=1)
    stale = Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING")
    small = Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING").exclude_groups(["E3"])
    commit_batch(ledger, small, user="ana", receipts_dir=tmp_path, config=CONFIG)
    with pytest.raises(BatchError):
        commit_batch(ledger, stale, user="sam", receipts_dir=tmp_path, config=CONFIG)
    with pytest.raises(PermissionDenied):
        reverse_receipt(ledger, "WO-000001", reason="wrong", user="ana", receipts_dir=tmp_path, config=CONFIG)
    with pytest.raises(HistoryError):
        reverse_receipt(ledger, "WO-000077", reason="wrong", user="sam", receipts_dir=tmp_path, config=CONFIG)
    reverse_receipt(ledger, "WO-000001", reason="wrong", user="sam", receipts_dir=tmp_path, config=CONFIG)
    log = audit_log(ledger)
    assert log.select("event_id", "user_name", "action", "outcome", "receipt_no").rows() == [
        (1, "ana", "COMMIT", "DONE", "WO-000001"),
        (2, "sam", "COMMIT", "REFUSED", None),
        (3, "ana", "REVERSE", "REFUSED", None),
        (4, "sam", "REVERSE", "REFUSED", "WO-000077"),
        (5, "sam", "REVERSE", "DONE", "WO-000002"),
    ]
    details = log.get_column("detail").to_list()
    assert "charge C1, C2, C3" in details[1]
    assert "'reverse_write_off' is missing" in details[2]
    assert "unknown receipt 'WO-000077'" in details[3]
    assert "reversal of WO-000001" in details[4]
    times = log.get_column("occurred_at").to_list()
    assert all(start <= t <= dt.datetime.now() for t in times) and times == sorted(times)
    assert log.schema["occurred_at"] == pl.Datetime("us")


def test_the_log_only_grows(tmp_path):
    ledger = make_store()
    record_event(ledger, user="ana", action=AuditAction.COMMIT, outcome=AuditOutcome.REFUSED, detail="first")
    first = audit_log(ledger)
    commit_batch(ledger, Batch.from_candidates(find(ledger), reason="BAD_DEBT").exclude_groups(["E3"]),
                 user="sam", receipts_dir=tmp_path, config=CONFIG)
    later = audit_log(ledger)
    assert later.height == 2 and later.head(1).equals(first)


def test_an_event_inside_a_rolled_back_transaction_is_not_kept_but_a_refusal_outside_is():
    ledger = make_store()
    with pytest.raises(RuntimeError), ledger.transaction():
        record_event(ledger, user="ana", action=AuditAction.COMMIT, outcome=AuditOutcome.DONE, receipt_no="WO-1")
        raise RuntimeError
    assert count_rows(ledger, "audit_log") == 0
    assert record_event(ledger, user="ana", action=AuditAction.COMMIT, outcome=AuditOutcome.REFUSED) == 1
    assert count_rows(ledger, "audit_log") == 1
