"""Issue 16: who acts is the OS login; every command checks its permission; refusals audited.

The last tests create real OS accounts (``useradd``; they need root) sharing a setgid store
folder and run ``writeoff`` as each of them with ``runuser``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import writeoff_analytics
from tests.batch_support import AS_OF, EXPECTED, amounts, find, make_store
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.writeoffs.audit import audit_log
from writeoff_analytics.writeoffs.batches import Batch
from writeoff_analytics.writeoffs.permissions import Config, Permission, current_user
from writeoff_analytics.writeoffs.receipts import commit_batch, get_receipt

_SRC = str(Path(writeoff_analytics.__file__).resolve().parents[1])
_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([_SRC, os.environ.get("PYTHONPATH", "")])}
REPO = Path(__file__).resolve().parents[1]
LOGIN = current_user()
PRESET = ("--preset", "no-balance-billing", "--as-of", AS_OF.isoformat())


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "writeoff_analytics.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, env=_ENV,
    )


def _refusals(db: Path) -> list[tuple[str, str, str]]:
    log = audit_log(Ledger(db))
    return [(u, a, d) for u, a, o, d in log.select("user_name", "action", "outcome", "detail").rows()
            if o == "REFUSED"]


def test_the_acting_user_is_the_login_of_the_effective_uid_not_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("USER", "sam")
    monkeypatch.setenv("LOGNAME", "sam")
    monkeypatch.setenv("USERNAME", "sam")
    assert current_user() == pwd.getpwuid(os.geteuid()).pw_name


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A store with one receipt (WO-000001, 77.84), committed by the login."""
    ledger = make_store(tmp_path / "s.duckdb")
    batch = Batch.from_candidates(find(ledger), reason="NO_BALANCE_BILLING").exclude_groups(["E3"])
    commit_batch(ledger, batch, user=LOGIN, receipts_dir=tmp_path / "receipts", config=Config.open_to(LOGIN))
    return tmp_path


@pytest.mark.parametrize("command", [
    ("history",),
    ("reverse", "--receipt", "1", "--reason", "oops"),
    ("commit", *PRESET, "--reason", "NO_BALANCE_BILLING"),  # E3 is left in the shop
])
def test_a_user_other_than_the_login_is_refused_in_one_line_and_audited(
    shop: Path, command: tuple[str, ...]
) -> None:
    proc = _run(shop, *command, "--db", "s.duckdb", "--user", "wo_nobody")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"writeoff {command[0]}: error: --user 'wo_nobody' is not the login running this ({LOGIN!r}): "
        "the acting user is always your login; drop --user, or log in as wo_nobody to act as them."
    ]
    (refusal,) = _refusals(shop / "s.duckdb")
    assert refusal[0] == LOGIN and "--user 'wo_nobody'" in refusal[2]
    assert _run(shop, *command, "--db", "s.duckdb", "--user", LOGIN).returncode == 0  # the login itself: fine


#: (command, the permission it needs, the audit action of its refusal)
COMMANDS = [
    (("candidates", *PRESET), Permission.MASS_WRITE_OFF, "FIND_CANDIDATES"),
    (("report", *PRESET, "--output", "c.html"), Permission.MASS_WRITE_OFF, "FIND_CANDIDATES"),
    (("commit", *PRESET, "--reason", "NO_BALANCE_BILLING"), Permission.MASS_WRITE_OFF, "FIND_CANDIDATES"),
    (("history",), Permission.MASS_WRITE_OFF_HISTORY, "VIEW_HISTORY"),
    (("history", "--receipt", "1"), Permission.MASS_WRITE_OFF_HISTORY, "VIEW_HISTORY"),
    (("report", "--receipt", "1", "--output", "r.html"), Permission.MASS_WRITE_OFF_HISTORY, "VIEW_HISTORY"),
    (("report", "--history", "--from", "2020-01-01", "--to", "2030-01-01", "--output", "h.html"),
     Permission.MASS_WRITE_OFF_HISTORY, "VIEW_HISTORY"),
    (("quarantine",), Permission.MASS_WRITE_OFF_HISTORY, "VIEW_HISTORY"),
    (("verify",), Permission.MASS_WRITE_OFF_HISTORY, "VIEW_HISTORY"),
    (("reverse", "--receipt", "1", "--reason", "oops"), Permission.REVERSE_WRITE_OFF, "REVERSE"),
    (("load", str(REPO / "tests" / "data" / "small")), Permission.LOAD_LEDGER, "LOAD"),
    (("import-835", str(REPO / "tests" / "data" / "x12" / "LinuxForHealth__x12__managed-care.835")),
     Permission.LOAD_LEDGER, "LOAD"),
    (("import-synthea", "synthea_export"), Permission.LOAD_LEDGER, "LOAD"),
]


@pytest.mark.parametrize(("command", "permission", "action"), COMMANDS, ids=[f"{c[0][0]}-{c[1].value}-{i}" for i, c in enumerate(COMMANDS)])
def test_every_command_is_refused_without_its_permission_and_the_refusal_audited(
    shop: Path, command: tuple[str, ...], permission: Permission, action: str
) -> None:
    (shop / "synthea_export").mkdir()
    others = sorted(p.value for p in Permission if p is not permission)
    (shop / "writeoff.toml").write_text(f"[users.{LOGIN}]\npermissions = {others!r}\n".replace("'", '"'),
                                        encoding="utf-8")
    before = Ledger(shop / "s.duckdb").balances()
    proc = _run(shop, *command, "--db", "s.duckdb")
    assert proc.returncode == 1, proc.stdout
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"writeoff {command[0]}: error: User {LOGIN!r} may not ")
    assert f"the permission {permission.value!r} is missing" in line
    ledger = Ledger(shop / "s.duckdb")
    assert [(u, a) for u, a, _ in _refusals(shop / "s.duckdb")] == [(LOGIN, action)]
    assert ledger.balances().equals(before) and get_receipt(ledger, "WO-000001").total  # nothing changed
    assert not any((shop / name).exists() for name in ("c.html", "r.html", "h.html"))
    # with the permission (and the rest), the same login may go on
    (shop / "writeoff.toml").write_text(f'[users.{LOGIN}]\npermissions = ["{permission.value}"]\n', encoding="utf-8")
    if command[0] not in {"commit", "reverse", "report", "import-835", "import-synthea", "load"}:
        assert _run(shop, *command, "--db", "s.duckdb").returncode == 0


def test_without_a_config_the_login_holds_every_permission(shop: Path) -> None:
    for command in (("candidates", *PRESET), ("history",), ("verify",), ("load", str(REPO / "tests" / "data" / "small"))):
        proc = _run(shop, *command, "--db", "s.duckdb")
        assert proc.returncode == 0, proc.stderr
    assert _refusals(shop / "s.duckdb") == []


# --- two real OS accounts sharing a group store folder (root only) -----------------------

ANA, SAM, EVE, GROUP = "wo_ana", "wo_sam", "wo_eve", "wo_team"


def _python_for(user: str) -> tuple[list[str], str]:
    """An interpreter ``user`` can execute, and the PYTHONPATH it needs (src + our packages)."""
    site = sysconfig.get_paths()["purelib"]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = [str(Path(d) / version) for d in ("/usr/bin", "/usr/local/bin")]  # not root's shims
    for exe, path in ((sys.executable, _SRC), *((s, f"{_SRC}:{site}") for s in system)):
        if not Path(exe).is_file():
            continue
        probe = subprocess.run(
            ["runuser", "-u", user, "--", "env", f"PYTHONPATH={path}", exe, "-c",
             "import writeoff_analytics.cli, duckdb, polars"],
            capture_output=True, text=True, timeout=120, cwd="/",
        )
        if probe.returncode == 0:
            return [exe], path
    pytest.skip(f"no Python with this checkout's packages is executable by {user}")


@pytest.fixture
def accounts() -> Iterator[Path]:
    """wo_ana and wo_sam in group wo_team, wo_eve outside it, and a setgid store folder of the group."""
    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("useradd", "userdel", "groupadd", "runuser")):
        pytest.skip("needs root with useradd, groupadd and runuser")
    made: list[str] = []
    top = Path(tempfile.mkdtemp(prefix="wo_identity_", dir="/tmp"))
    try:
        subprocess.run(["groupadd", GROUP], check=True, capture_output=True)
        made.append("group")
        for name, groups in ((ANA, [GROUP]), (SAM, [GROUP]), (EVE, [])):
            extra = ["-G", ",".join(groups)] if groups else []
            subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", *extra, name], check=True, capture_output=True)
            made.append(name)
        top.chmod(0o755)
        shared = top / "store"
        shared.mkdir()
        shutil.chown(shared, group=GROUP)
        shared.chmod(0o2770)  # group-shared: files are made 0660 / 0640, never world-readable
        (shared / "writeoff.toml").write_text(  # the administrator's (root's) config, 0644
            f'[users.{ANA}]\npermissions = ["mass_write_off", "mass_write_off_history", "load_ledger"]\n'
            f'[users.{SAM}]\npermissions = ["mass_write_off", "approve_write_off", "mass_write_off_history", '
            '"reverse_write_off"]\n',
            encoding="utf-8",
        )
        yield shared
    finally:
        shutil.rmtree(top, ignore_errors=True)
        for name in (n for n in made if n != "group"):
            subprocess.run(["userdel", name], capture_output=True)
        if "group" in made:
            subprocess.run(["groupdel", GROUP], capture_output=True)


def _as(user: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe, path = _python_for(user)
    return subprocess.run(
        ["runuser", "-u", user, "--", "env", f"PYTHONPATH={path}", *exe, "-m", "writeoff_analytics.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=180,
    )


def test_two_os_accounts_share_a_store_and_neither_can_act_as_the_other(accounts: Path) -> None:
    loaded = _as(ANA, accounts, "load", str(REPO / "tests" / "data" / "small"), "--db", "s.duckdb")
    assert loaded.returncode == 0, loaded.stderr  # ana holds load_ledger
    own = (accounts / "s.duckdb").stat()
    assert (pwd.getpwuid(own.st_uid).pw_name, own.st_mode & 0o777) == (ANA, 0o660)
    assert _as(SAM, accounts, "load", str(REPO / "tests" / "data" / "small"), "--db", "s.duckdb").returncode == 1
    make_store(accounts / "t.duckdb")  # the batch tests' ledger, made by root in the shared folder
    store = accounts / "t.duckdb"
    assert store.stat().st_mode & 0o777 == 0o660 and store.stat().st_gid == os.stat(accounts).st_gid
    commit = ("commit", "--db", "t.duckdb", *PRESET, "--reason", "NO_BALANCE_BILLING", "--exclude", "E3")

    # sam cannot commit as ana; ana cannot commit as sam; both refusals audited under the real login
    as_ana = _as(SAM, accounts, *commit, "--user", ANA)
    assert as_ana.returncode == 1 and as_ana.stderr.splitlines() == [
        f"writeoff commit: error: --user {ANA!r} is not the login running this ({SAM!r}): the acting user "
        f"is always your login; drop --user, or log in as {ANA} to act as them."
    ]
    assert _as(ANA, accounts, *commit, "--user", SAM).returncode == 1
    assert [(u, a) for u, a, _ in _refusals(store)] == [(SAM, "COMMIT"), (ANA, "COMMIT")]
    assert [(u, a) for u, a, _ in _refusals(accounts / "s.duckdb")] == [(SAM, "LOAD")]  # sam lacks load_ledger

    # ana's commit is recorded as ana, whatever she types elsewhere (no --user at all here)
    done = _as(ANA, accounts, *commit)
    assert done.returncode == 0, done.stderr
    receipt = get_receipt(Ledger(store), done.stdout.splitlines()[-1])
    assert (receipt.preparer, receipt.approver) == (ANA, None)
    assert pwd.getpwuid(receipt.csv_path.stat().st_uid).pw_name == ANA
    assert receipt.csv_path.stat().st_mode & 0o007 == 0  # nothing for the world

    # ana names sam as approver over the limit: refused (sam is not ana's login)
    (accounts / "limit.toml").write_text(
        (accounts / "writeoff.toml").read_text(encoding="utf-8") + '[approval]\nsecond_approver_over = "10.00"\n',
        encoding="utf-8",
    )
    over = _as(ANA, accounts, "commit", "--db", "t.duckdb", *PRESET, "--reason", "NO_BALANCE_BILLING",
               "--approver", SAM, "--config", "limit.toml")
    assert over.returncode == 1 and f"approver {SAM!r} is not the login running this ({ANA!r})" in over.stderr
    assert amounts(find(Ledger(store))) == {k: v for k, v in EXPECTED.items() if k == "C4"}

    # sam (same group) reads ana's receipt; eve (outside the group) cannot read the store at all
    assert _as(SAM, accounts, "history", "--db", "t.duckdb").returncode == 0
    eve = subprocess.run(["runuser", "-u", EVE, "--", "cat", str(store)], capture_output=True, text=True, timeout=60)
    assert eve.returncode != 0 and "Permission denied" in eve.stderr
