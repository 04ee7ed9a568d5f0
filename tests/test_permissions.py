from __future__ import annotations

from decimal import Decimal

import pytest

from tests.batch_support import EXPECTED_TOTAL, count_rows, find, make_store
from writeoff_analytics.errors import ApprovalRequired, ConfigError, PermissionDenied
from writeoff_analytics.writeoffs import permissions
from writeoff_analytics.writeoffs.audit import audit_log
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.history import reverse_receipt, search_receipts, show_receipt
from writeoff_analytics.writeoffs.permissions import (
    DEFAULT_CONFIG,
    Permission,
    current_user,
    load_config,
)
from writeoff_analytics.writeoffs.receipts import commit_batch

ISSUE_CONFIG = """
[users.ana]
permissions = ["mass_write_off", "mass_write_off_history"]
[users.sam]
permissions = ["mass_write_off", "approve_write_off", "mass_write_off_history", "reverse_write_off"]
[users.viewer]
permissions = ["mass_write_off_history"]
[users.lee]
permissions = ["mass_write_off"]
[approval]
second_approver_over = "500.00"
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "writeoff.toml"
    path.write_text(ISSUE_CONFIG, encoding="utf-8")
    return load_config(path)


def test_the_issue_config_reads_as_written(config, tmp_path):
    assert config.users["ana"] == {Permission.MASS_WRITE_OFF, Permission.MASS_WRITE_OFF_HISTORY}
    assert config.has("sam", "approve_write_off") and not config.has("ana", "approve_write_off")
    assert not config.has("nobody", "mass_write_off")
    assert config.second_approver_over == Decimal("500.00")
    assert not config.is_default and config.source == tmp_path / "writeoff.toml"
    assert config.needs_second_approver(Decimal("500.01")) and not config.needs_second_approver(Decimal("500.00"))


def test_without_a_config_file_the_login_name_holds_every_permission(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not DEFAULT_CONFIG.exists()
    config = load_config()
    assert config.is_default
    assert config.users == {current_user(): frozenset(Permission)}
    assert config.second_approver_over is None
    (tmp_path / "writeoff.toml").write_text(ISSUE_CONFIG, encoding="utf-8")
    assert not load_config().is_default  # ./writeoff.toml is the default file


def test_bad_config_files_are_refused_with_what_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="nope.toml: cannot be read"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('[users.ana]\npermissions = ["mass_write_off", "delete_everything"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="user ana: unknown permission.*delete_everything; known: mass_write_off"):
        load_config(bad)
    bad.write_text('[approval]\nsecond_approver_over = "12.345"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="second_approver_over '12.345': has 3 decimals"):
        load_config(bad)
    bad.write_text("[approvals]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown section"):
        load_config(bad)
    bad.write_text("[users\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_export_profile_comes_from_the_config(tmp_path):
    (tmp_path / "pm.toml").write_text('name = "pm"\ncolumns = ["charge_id", "amount"]\n', encoding="utf-8")
    path = tmp_path / "writeoff.toml"
    path.write_text('[export]\nprofile = "pm.toml"\n', encoding="utf-8")
    assert load_config(path).export_profile.columns == ("charge_id", "amount")
    path.write_text('[export]\nname = "inline"\ncolumns = ["charge_id", "Code"]\n[export.constants]\nCode = "X"\n',
                    encoding="utf-8")
    profile = load_config(path).export_profile
    assert (profile.name, profile.columns, dict(profile.constants)) == ("inline", ("charge_id", "Code"), {"Code": "X"})
    path.write_text('[export]\ncolumns = ["charge_id", "ssn"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown column.*ssn"):
        load_config(path)


def _commit(ledger, batch, tmp_path, config, user, approver=None):
    return commit_batch(ledger, batch, user=user, approver=approver, receipts_dir=tmp_path / "r", config=config)


def test_commit_without_mass_write_off_is_refused_and_changes_nothing(config, tmp_path):
    ledger = make_store()
    before = ledger.balances()
    batch = Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING").exclude_groups(["E3"])
    with pytest.raises(PermissionDenied, match="'viewer' may not commit.*'mass_write_off' is missing") as info:
        _commit(ledger, batch, tmp_path, config, "viewer")
    assert (info.value.user, info.value.permission) == ("viewer", "mass_write_off")
    assert count_rows(ledger, "receipts") == 0 and ledger.balances().equals(before)
    assert not (tmp_path / "r").exists()


def test_over_the_limit_a_different_approver_holding_approve_write_off_is_needed(config, tmp_path, monkeypatch):
    ledger = make_store()
    batch = Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING")
    assert batch.total == EXPECTED_TOTAL > Decimal("500.00")
    with pytest.raises(ApprovalRequired, match="677.84 is over the second-approver limit 500.00: no approver"):
        _commit(ledger, batch, tmp_path, config, "ana")
    with pytest.raises(ApprovalRequired, match="'sam' named themself as approver") as info:
        _commit(ledger, batch, tmp_path, config, "sam", approver="sam")
    assert (info.value.user, info.value.permission) == ("sam", "approve_write_off")
    with pytest.raises(PermissionDenied, match="'lee' may not approve.*'approve_write_off' is missing"):
        _commit(ledger, batch, tmp_path, config, "ana", approver="lee")
    # issue 16: naming sam proves nothing unless sam is the login committing it
    monkeypatch.setattr(permissions, "current_user", lambda: "ana")
    with pytest.raises(ApprovalRequired, match="approver 'sam' is not the login running this \\('ana'\\)"):
        _commit(ledger, batch, tmp_path, config, "ana", approver="sam")
    assert count_rows(ledger, "receipts") == 0
    monkeypatch.setattr(permissions, "current_user", lambda: "sam")  # sam's own process
    receipt = _commit(ledger, batch, tmp_path, config, "ana", approver="sam")
    assert (receipt.preparer, receipt.approver, receipt.total) == ("ana", "sam", EXPECTED_TOTAL)
    # under the limit nobody else is needed
    ledger2 = make_store()
    small = Batch.from_candidates(find(ledger2), reason="NO_BALANCE_BILLING").exclude_groups(["E3"])
    assert _commit(ledger2, small, tmp_path / "2", config, "ana").approver is None
    outcomes = audit_log(ledger).select("user_name", "outcome").rows()
    assert outcomes == [("ana", "REFUSED"), ("sam", "REFUSED"), ("ana", "REFUSED"), ("ana", "REFUSED"), ("ana", "DONE")]


def test_history_and_reversal_need_their_permissions(config, tmp_path):
    ledger = make_store()
    batch = Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING").exclude_groups(["E3"])
    receipt = _commit(ledger, batch, tmp_path, config, "ana")
    with pytest.raises(PermissionDenied, match="'lee' may not view write-off history.*'mass_write_off_history'"):
        search_receipts(ledger, user="lee", config=config)
    with pytest.raises(PermissionDenied, match="'lee' may not view"):
        show_receipt(ledger, receipt.receipt_no, user="lee", config=config)
    assert search_receipts(ledger, user="viewer", config=config).height == 1
    with pytest.raises(PermissionDenied, match="'ana' may not reverse write-offs.*'reverse_write_off'"):
        reverse_receipt(ledger, receipt.receipt_no, reason="x", user="ana", receipts_dir=tmp_path / "r", config=config)
    assert count_rows(ledger, "receipts") == 1
    assert find(ledger).line_count == 1  # still written off (only E3 is left)
