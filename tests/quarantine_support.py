"""Helpers of the quarantine and write-off identity scenarios (issue 14): tests/data/small, edited."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from writeoff_analytics.candidates import find_candidates
from writeoff_analytics.criteria.model import Criteria
from writeoff_analytics.ledger.controls import LoadGuard
from writeoff_analytics.ledger.load import load_extract

if TYPE_CHECKING:
    from writeoff_analytics.ledger.snapshot import ImportReport
    from writeoff_analytics.ledger.store import Ledger

SMALL = Path(__file__).parent / "data" / "small"
#: The patient balances tests/data/small gives its candidate charges (C3, C4: zero).
SMALL_PATIENT = {"C1": Decimal("40.00"), "C2": Decimal("30.00"), "C5": Decimal("50.00"), "C6": Decimal("12.35")}
#: One rejected row in a table of six or nine is over the default 1% guard.
LENIENT = LoadGuard(max_reject_share=Decimal(1))


def extract(tmp_path: Path, name: str = "extract", **edits: list[str] | str) -> Path:
    """tests/data/small copied to ``tmp_path/name``; ``table=[lines]`` appends, ``table="text"`` replaces."""
    folder = tmp_path / name
    shutil.copytree(SMALL, folder)
    for table, edit in edits.items():
        path = folder / f"{table}.csv"
        if isinstance(edit, str):
            path.write_text(edit, encoding="utf-8")
        else:
            with path.open("a", encoding="utf-8") as fh:
                fh.writelines(line + "\n" for line in edit)
    return folder


def load(ledger: Ledger, folder: Path) -> ImportReport:
    """Load with the reject-share guard lifted (the scenarios reject one row on purpose)."""
    return load_extract(ledger, folder, guard=LENIENT, rejects=folder.parent / f"{folder.name}-rejects.csv")


def patient_lines(ledger: Ledger, engine: str) -> dict[str, Decimal]:
    """The PATIENT candidate lines of a search with no filter: charge -> balance."""
    found = find_candidates(ledger, Criteria("PATIENT", "PROCEDURE_LINE"), engine=engine)
    return dict(zip(found.lines["charge_id"].to_list(), found.lines["balance"].to_list(), strict=True))


def replace_line(text: str, start: str, new: str | None) -> str:
    """``text`` with the line starting ``start`` replaced by ``new`` (``None``: dropped)."""
    out = []
    for line in text.splitlines():
        if line.startswith(start):
            if new is not None:
                out.append(new)
        else:
            out.append(line)
    return "\n".join(out) + "\n"
