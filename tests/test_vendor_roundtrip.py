"""Writing a canonical ledger in a vendor's layout (the inverse of a mapping profile), for tests.

``write_vendor(folder, tables, layout)`` renders the six tables as the export a profile
reads: renamed files and columns, the profile's codes, delimiter and encoding, money with
its decimal mark, thousands separator, symbol and a declared negative form, dates in its
format (two-digit years where it declares a pivot), title lines above the header and the
footer lines its ``drop`` patterns remove. The rendering is written here independently of
``ledger/mapping.py`` (only the profile's declarations are read), so a round trip tests it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_engine_parity import ledgers as parity_ledgers
from writeoff_analytics.ledger.load import load_extract
from writeoff_analytics.ledger.mapping import VendorMapping, load_mapping
from writeoff_analytics.ledger.schema import TABLES, ColumnType
from writeoff_analytics.ledger.store import Ledger

DOCS = Path(__file__).resolve().parents[1] / "docs" / "mappings"
DATA = Path(__file__).parent / "data"

Rows = Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Layout:
    """A profile plus what the export writes that the profile only removes."""

    profile: Path
    #: Lines above the header (as many as the profile skips).
    title: Callable[[str], list[str]] = lambda table: []
    #: Lines after the data that the profile's drop patterns remove, by table.
    footer: Callable[[str, Rows], list[str]] = lambda table, rows: []
    #: A line inserted in the middle of the data that a drop pattern removes (or None).
    middle: str | None = None
    #: Extra export columns, by table: name -> value of a row.
    extras: Mapping[str, Mapping[str, Callable[[Mapping[str, Any]], str]]] = field(
        default_factory=dict
    )
    #: Whether every patient is its own guarantor in this layout (one Account column).
    self_guarantor: bool = False

    @property
    def mapping(self) -> VendorMapping:
        return load_mapping(self.profile)


def _money_total(rows: Rows, column: str) -> Decimal:
    return sum((Decimal(str(r[column])) for r in rows if r.get(column)), Decimal(0))


EUROPEAN = Layout(
    DOCS / "example_european.toml",
    title=lambda table: ["Offene Posten – Praxis Beispiel – Stand 31.03.2026 (€)"],
    footer=lambda table, rows: [
        f"Summe;{len(rows)} Zeilen;;;;;;",
        ";;;;;;",
    ],
    middle=";;;;",
)
US = Layout(
    DOCS / "example_us.toml",
    footer=lambda table, rows: (
        [f"Grand Total,,,,,,{len(rows)} postings,,,"] if table == "transactions" else []
    ),
    extras={"transactions": {"amount": lambda row: "999.99"}},
    self_guarantor=True,
)
LAYOUTS = {"european": EUROPEAN, "us_pivot": US}


def for_layout(tables: Mapping[str, Rows], layout: Layout) -> dict[str, list[dict[str, Any]]]:
    """The ledger as the layout can hold it (one Account column: each patient its own guarantor)."""
    out = {name: [dict(r) for r in rows] for name, rows in tables.items()}
    if layout.self_guarantor:
        for p in out["patients"]:
            p["guarantor_id"] = p["patient_id"]
    return out


def write_canonical(folder: Path, tables: Mapping[str, Rows]) -> None:
    """The tables as a canonical extract (LEDGER_FORMAT.md)."""
    folder.mkdir(parents=True, exist_ok=True)
    for t in TABLES:
        with open(folder / f"{t.name}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow([c.name for c in t.columns])
            for row in tables.get(t.name, []):
                w.writerow(["" if row.get(c.name) is None else row[c.name] for c in t.columns])


def write_vendor(folder: Path, tables: Mapping[str, Rows], layout: Layout, rng: random.Random) -> None:
    """The tables as the layout's export."""
    m = layout.mapping
    folder.mkdir(parents=True, exist_ok=True)
    for t in TABLES:
        opts = m.csv_options(t.name)
        rows = tables.get(t.name, [])
        sources: dict[str, str] = {}  # export column -> contract column (the first it feeds)
        for c in t.columns:
            sources.setdefault(m.source_name(t.name, c.name), c.name)
        extras = layout.extras.get(t.name, {})
        header = [*sources, *extras]
        inverse = {
            col: {contract: export for export, contract in reversed(codes.items())}
            for col, codes in m.values.get(t.name, {}).items()
        }
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=opts.delimiter, lineterminator="\r\n")
        w.writerow(header)
        lines = [buf.getvalue()]
        middle_at = rng.randrange(len(rows) + 1) if rows else 0
        for i, row in enumerate(rows):
            if layout.middle is not None and i == middle_at:
                lines.append(layout.middle + "\r\n")
            cells = []
            for contract in sources.values():
                col = t.column(contract)
                value = row.get(contract)
                if value is None or value == "":
                    cells.append("")
                    continue
                value = str(value)
                value = inverse.get(contract, {}).get(value, value)
                if col.type is ColumnType.MONEY:
                    value = _money(Decimal(value), m, rng)
                elif col.type is ColumnType.DATE:
                    value = _date(dt.date.fromisoformat(value), m)
                cells.append(value)
            cells.extend(make(row) for make in extras.values())
            buf = io.StringIO()
            csv.writer(buf, delimiter=opts.delimiter, lineterminator="\r\n").writerow(cells)
            lines.append(buf.getvalue())
        if layout.middle is not None and rows and middle_at == len(rows):
            lines.append(layout.middle + "\r\n")
        title = layout.title(t.name)[: opts.skip_lines]
        assert len(title) == opts.skip_lines, "the layout must give the lines the profile skips"
        footer = layout.footer(t.name, rows) if opts.drop else []
        text = "".join(f"{line}\r\n" for line in title) + "".join(lines)
        text += "".join(f"{line}\r\n" for line in footer)
        (folder / f"{m.file_stem(t.name)}.csv").write_bytes(text.encode(opts.encoding))


def _money(value: Decimal, m: VendorMapping, rng: random.Random) -> str:
    fmt = m.money
    assert fmt is not None, "a version-2 money format"
    digits = f"{abs(value):,.2f}".replace(",", "\0").replace(".", fmt.decimal)
    digits = digits.replace("\0", fmt.thousands if rng.random() < 0.8 else "")
    x = f"{fmt.symbol}{digits}"
    if value >= 0:
        return x
    form = rng.choice(fmt.negatives)
    return {"-x": f"-{x}", "(x)": f"({x})", "x-": f"{x}-", "x CR": f"{x} CR"}[form]


def _date(value: dt.date, m: VendorMapping) -> str:
    if m.pivot_date is not None:
        pivot = m.pivot_date.pivot
        assert pivot <= value.year < pivot + 100, f"{value} is outside the pivot's century"
        return value.strftime(m.pivot_date.format)
    assert m.date_format is not None
    return value.strftime(m.date_format)


# --- the property: every example profile round-trips random ledgers to the same balances ---

#: Names a cp1252 export can hold, with the delimiters and quotes a writer must quote.
NAMES = ["Müller", "O'Brien", 'Smith; "Jr"', "Ng, Anh", "Zoë", "Ærø", "Line\r\nbreak"]
BIRTH_DATES = [dt.date(1950, 1, 1), dt.date(1978, 11, 30), dt.date(1999, 12, 31),
               dt.date(2000, 1, 1), dt.date(2010, 2, 14), dt.date(2049, 12, 31)]


@st.composite
def vendor_ledgers(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    """test_engine_parity's random ledgers, with large amounts (thousands groups), names that
    need quoting and cp1252, birth dates across the pivot's century, units and member ids."""
    tables = draw(parity_ledgers())
    scale = st.sampled_from([1, 1, 100, 1000, 100000])
    for name in ("charges", "transactions"):
        column = "charge_amount" if name == "charges" else "amount"
        for row in tables[name]:
            row[column] = str(Decimal(row[column]) * draw(scale))
    for row in tables["charges"]:
        row["units"] = draw(st.sampled_from([None, "1", "2", "12"]))
    for row in tables["patients"]:
        row["last_name"] = draw(st.sampled_from([None, *NAMES]))
        row["first_name"] = draw(st.sampled_from([None, *NAMES]))
        born = draw(st.sampled_from([None, *BIRTH_DATES]))
        row["date_of_birth"] = None if born is None else born.isoformat()
    for row in tables["coverages"]:
        row["member_id"] = draw(st.sampled_from([None, "M-001", "0042", "A;B"]))
    return tables


def _read_rows(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _balances(ledger: Ledger) -> list[dict[str, Any]]:
    return ledger.balances().sort("charge_id").to_dicts()


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tables=vendor_ledgers(), rng=st.randoms(use_true_random=False))
def test_a_vendor_export_loads_the_same_balances_as_the_canonical_extract(
    tmp_path_factory: pytest.TempPathFactory, name: str, tables: dict[str, Any], rng: random.Random
) -> None:
    layout = LAYOUTS[name]
    tables = for_layout(tables, layout)
    base = tmp_path_factory.mktemp(name)
    write_canonical(base / "canonical", tables)
    write_vendor(base / "vendor", tables, layout, rng)
    canonical, vendor = Ledger(":memory:"), Ledger(":memory:")
    assert load_extract(canonical, base / "canonical").problems == ()
    report = load_extract(vendor, base / "vendor", mapping=layout.profile)
    assert report.problems == ()
    assert report.row_counts == {t.name: len(tables[t.name]) for t in TABLES}
    got, want = _balances(vendor), _balances(canonical)
    assert got == want
    assert all(isinstance(r["patient_balance"], Decimal) for r in got)
    # the footer and middle lines were dropped and reported, never read as rows
    dropped = {c.table: len(c.dropped_rows) for c in report.controls}
    expected = {
        t.name: (len(layout.footer(t.name, tables[t.name])) if layout.mapping.csv_options(t.name).drop else 0)
        + (1 if layout.middle is not None and tables[t.name] else 0)
        for t in TABLES
    }
    assert dropped == expected


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_the_example_export_loads_exactly_the_balances_of_tests_data_small(
    tmp_path: Path, name: str
) -> None:
    layout = LAYOUTS[name]
    small = Ledger(":memory:")
    load_extract(small, DATA / "small")
    report = load_extract(vendor := Ledger(":memory:"), DATA / "vendor" / name, mapping=layout.profile)
    assert report.problems == ()
    got = _balances(vendor)
    if layout.self_guarantor:
        # One Account column: the layout cannot hold another guarantor. Every other column
        # is small's exactly, and the whole frame is that of small with self-guarantors.
        assert [r["guarantor_id"] for r in got] == [r["patient_id"] for r in got]
        strip = lambda rows: [{k: v for k, v in r.items() if k != "guarantor_id"} for r in rows]  # noqa: E731
        assert strip(got) == strip(_balances(small))
        tables = {t.name: _read_rows(DATA / "small" / f"{t.name}.csv") for t in TABLES}
        write_canonical(tmp_path / "self", for_layout(tables, layout))
        load_extract(small := Ledger(":memory:"), tmp_path / "self")
    assert got == _balances(small)
    assert [len(c.dropped_rows) for c in report.controls] == (
        [3] * 6 if name == "european" else [0, 0, 0, 0, 0, 1]
    )
