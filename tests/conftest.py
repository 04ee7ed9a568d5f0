"""Shared fixtures: hand-built ledgers from literal rows, the demo ledger, engines."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from writeoff_analytics.ledger.schema import FALSE_WORDS, TABLES, TRUE_WORDS, ColumnType
from writeoff_analytics.ledger.snapshot import polars_schema, replace_snapshot
from writeoff_analytics.ledger.store import Ledger

REPO = Path(__file__).resolve().parents[1]
DEMO_DIR = REPO / "data" / "demo"

Rows = Sequence[Mapping[str, Any]]


def _cell(kind: ColumnType, value: Any) -> Any:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return value
    if kind is ColumnType.MONEY:
        return Decimal(value)
    if kind is ColumnType.DATE:
        return dt.date.fromisoformat(value)
    if kind is ColumnType.BOOL:
        low = value.lower()
        assert low in TRUE_WORDS | FALSE_WORDS, value
        return low in TRUE_WORDS
    if kind is ColumnType.INTEGER:
        return int(value)
    return value


def make_frames(**tables: Rows) -> dict[str, pl.DataFrame]:
    """Typed frames from literal rows (strings are parsed as the contract says); absent tables are empty."""
    frames = {}
    for table in TABLES:
        schema = polars_schema(table)
        rows = tables.get(table.name, [])
        data = [
            {c.name: _cell(c.type, row.get(c.name)) for c in table.columns} for row in rows
        ]
        frames[table.name] = pl.DataFrame(data, schema=schema)
    return frames


def build_ledger(path: str = ":memory:", **tables: Rows) -> Ledger:
    """A store holding exactly the given rows, balances derived."""
    ledger = Ledger(path)
    replace_snapshot(ledger, make_frames(**tables), source="test")
    return ledger


@pytest.fixture
def make_ledger() -> Callable[..., Ledger]:
    """``make_ledger(payers=[...], charges=[...], ...)`` -> an in-memory :class:`Ledger`."""
    return build_ledger


#: LEDGER_FORMAT.md's example: one Medicaid-secondary encounter, 40.00 left to the patient.
EXAMPLE_TABLES: dict[str, Rows] = {
    "payers": [
        {"payer_id": "P-MCR", "payer_name": "Medicare", "financial_class": "MEDICARE", "balance_bill_patient": "true"},
        {"payer_id": "P-MCD", "payer_name": "Medicaid", "financial_class": "MEDICAID", "balance_bill_patient": "false"},
    ],
    "patients": [{"patient_id": "0004567"}],
    "coverages": [
        {"patient_id": "0004567", "payer_id": "P-MCR", "priority": "1", "effective_from": "2025-01-01"},
        {"patient_id": "0004567", "payer_id": "P-MCD", "priority": "2", "effective_from": "2025-01-01"},
    ],
    "encounters": [{"encounter_id": "E1", "patient_id": "0004567", "date_of_service": "2026-02-27"}],
    "charges": [
        {"charge_id": "C1", "encounter_id": "E1", "procedure_code": "99213", "charge_amount": "200.00",
         "billed_payer_id": "P-MCR", "posted_date": "2026-02-27"},
    ],
    "transactions": [
        {"transaction_id": "T1", "charge_id": "C1", "posted_date": "2026-03-02", "type": "INSURANCE_PAYMENT",
         "responsibility": "INSURANCE", "payer_id": "P-MCR", "amount": "-120.00", "reference": "EFT881"},
        {"transaction_id": "T2", "charge_id": "C1", "posted_date": "2026-03-02", "type": "INSURANCE_ADJUSTMENT",
         "responsibility": "INSURANCE", "payer_id": "P-MCR", "amount": "-40.00", "group_code": "CO",
         "reason_code": "45", "reference": "EFT881"},
        {"transaction_id": "T3", "charge_id": "C1", "posted_date": "2026-03-02", "type": "TRANSFER",
         "responsibility": "INSURANCE", "payer_id": "P-MCR", "amount": "-40.00", "group_code": "PR",
         "reason_code": "2", "reference": "X1"},
        {"transaction_id": "T4", "charge_id": "C1", "posted_date": "2026-03-02", "type": "TRANSFER",
         "responsibility": "PATIENT", "amount": "40.00", "group_code": "PR", "reason_code": "2",
         "reference": "X1"},
    ],
}


@pytest.fixture
def example_ledger() -> Ledger:
    """The LEDGER_FORMAT.md example, in memory."""
    return build_ledger(**EXAMPLE_TABLES)


@pytest.fixture(params=["duckdb", "polars"])
def engine(request: pytest.FixtureRequest) -> str:
    """Every test body that takes ``engine`` runs on both engines (one meaning)."""
    return str(request.param)


# --- the suite writes nothing into the checkout (issue 13) --------------------------------
#
# A run must leave the checkout as it found it: no tracked file changed, no file added or
# removed, ignored or not (data/reports/ is ignored, yet a test writing there is a bug).
# Pre-existing ignored files (a user's data/demo-run/, data/ledger.duckdb) count only if the
# run changes them. Exempt: the tools' own caches. Pictures for a human (rendered report
# pages, browser screenshots) go to tests/artifacts.py's folder, outside the checkout.

#: Directory names whose contents tools write and rewrite on every run.
TOOL_CACHES = frozenset(
    {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache"}
)
#: Top-level folders the suite writes on purpose: none.
TEST_OUTPUT: frozenset[str] = frozenset()

CheckoutState = dict[str, tuple[int, int]]
_CHECKOUT_STATE = pytest.StashKey[tuple[Path, CheckoutState]]()


def _git(root: Path, *args: str) -> list[str] | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except OSError:
        return None
    if done.returncode != 0:
        return None
    return [p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def _exempt(rel: str) -> bool:
    parts = rel.rstrip("/").split("/")
    return parts[0] in TEST_OUTPUT or any(part in TOOL_CACHES for part in parts)


def checkout_state(root: Path) -> CheckoutState | None:
    """``{path: (size, mtime_ns)}`` of every file in the checkout at ``root`` but the exempt ones.

    Git names the files (tracked, untracked, and ignored ones, whose wholly ignored folders
    it names once and we walk, skipping tool caches); ``None`` when ``root`` is no git checkout.
    """
    listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    ignored = _git(root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
    if listed is None or ignored is None:
        return None
    paths = set(listed)
    for rel in ignored:
        if _exempt(rel):
            continue
        if not rel.endswith("/"):
            paths.add(rel)
            continue
        for folder, dirs, files in os.walk(root / rel):
            dirs[:] = [d for d in dirs if d not in TOOL_CACHES]
            paths.update((Path(folder) / f).relative_to(root).as_posix() for f in files)
    state: CheckoutState = {}
    for rel in paths:
        if _exempt(rel):
            continue
        try:
            st = (root / rel).lstat()
        except FileNotFoundError:  # a tracked file deleted before the run
            continue
        state[rel] = (st.st_size, st.st_mtime_ns)
    return state


def checkout_changes(before: CheckoutState, after: CheckoutState) -> list[str]:
    """``added``/``removed``/``changed`` lines, one per path that differs, sorted by path."""
    changes = []
    for rel in sorted(before.keys() | after.keys()):
        if rel not in before:
            changes.append(f"added    {rel}")
        elif rel not in after:
            changes.append(f"removed  {rel}")
        elif before[rel] != after[rel]:
            changes.append(f"changed  {rel}")
    return changes


def pytest_sessionstart(session: pytest.Session) -> None:
    """Record the checkout's files before any test runs (not in xdist workers)."""
    if hasattr(session.config, "workerinput"):
        return
    state = checkout_state(REPO)
    if state is not None:
        session.config.stash[_CHECKOUT_STATE] = (REPO, state)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run, naming the paths, if it added, removed or changed a file in the checkout."""
    recorded = session.config.stash.get(_CHECKOUT_STATE, None)
    if recorded is None:
        return
    root, before = recorded
    after = checkout_state(root)
    changes = [] if after is None else checkout_changes(before, after)
    if not changes:
        return
    title = f"the run wrote into the checkout {root}; tests must write under tmp_path"
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_sep("=", title, red=True)
        for change in changes:
            reporter.write_line(change, red=True)
    else:
        print(title, *changes, sep="\n", file=sys.stderr)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
