"""Archives and sizes (issue 14): zips unpack only table files, within limits; wide headers stop fast."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest

from writeoff_analytics.errors import LedgerFormatError
from writeoff_analytics.ledger.archive import ZipLimits, open_zip, unpack
from writeoff_analytics.ledger.files import MAX_COLUMNS
from writeoff_analytics.ledger.load import load_extract, read_extract
from writeoff_analytics.ledger.store import Ledger

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small"


def _zip(target: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return target


def _small_members(prefix: str = "", upper: bool = False) -> dict[str, bytes]:
    out = {}
    for p in sorted(SMALL.glob("*.csv")):
        name = p.name.upper() if upper else p.name
        out[prefix + name] = p.read_bytes()
    return out


def test_table_names_in_any_case_and_nothing_else_is_unpacked(tmp_path):
    members = _small_members("Extract/", upper=True)
    members["Extract/README.txt"] = b"not a table"
    members["Extract/notes.csv"] = b"a,b\n1,2\n"
    z = _zip(tmp_path / "x.zip", members)
    ex = read_extract(z)
    assert ex.frames["charges"].height == 6
    unpacked: list[str] = []
    with open_zip(z) as zf:
        root = tmp_path / "out"
        root.mkdir()
        from writeoff_analytics.ledger.files import EXTENSIONS
        from writeoff_analytics.ledger.schema import TABLES

        wanted = {f"{t.name}{e}" for t in TABLES for e in EXTENSIONS}
        written = unpack(zf, z, root, lambda parts: Path(parts[-1].lower()) if parts[-1].lower() in wanted else None)
        unpacked = sorted(p.name for p in written)
    assert unpacked == sorted(p.name for p in SMALL.glob("*.csv"))


def test_a_zip_bomb_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    members = _small_members()
    members["transactions.csv"] = members["transactions.csv"] + b"\n" * (64 * 2**20)
    z = _zip(tmp_path / "bomb.zip", members)
    assert z.stat().st_size < 2**20
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(LedgerFormatError, match=r"transactions.csv unpacks 64.0 MiB from .* \(over 200:1\); refused as a zip bomb"):
        load_extract(Ledger(":memory:"), z)
    # nothing was left behind in the temporary folder
    assert list(scratch.iterdir()) == []


def test_total_unpacked_size_is_limited(tmp_path):
    z = _zip(tmp_path / "x.zip", _small_members())
    root = tmp_path / "out"
    root.mkdir()
    with open_zip(z) as zf, pytest.raises(LedgerFormatError, match="over the 100 bytes a zip may hold"):
        unpack(zf, z, root, lambda parts: Path(parts[-1]), limits=ZipLimits(max_unpacked_bytes=100))
    assert list(root.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [("/etc/charges.csv", "absolute path"), ("a/../../charges.csv", "climbs out")],
)
def test_bad_member_names_are_refused(tmp_path, name, reason):
    members = _small_members()
    members[name] = b"x"
    z = _zip(tmp_path / "x.zip", members)
    with pytest.raises(LedgerFormatError, match=reason):
        read_extract(z)


def test_a_table_twice_in_a_zip_is_refused(tmp_path):
    members = _small_members()
    members["other/CHARGES.csv"] = members["charges.csv"]
    z = _zip(tmp_path / "x.zip", members)
    with pytest.raises(LedgerFormatError, match="twice"):
        read_extract(z)


def test_a_very_wide_header_is_refused_before_rows_are_read(tmp_path):
    folder = tmp_path / "x"
    shutil.copytree(SMALL, folder)
    header = ",".join(f"c{i}" for i in range(100_000))
    (folder / "patients.csv").write_text(header + "\n" + ",".join(["x"] * 100_000) + "\n")
    with pytest.raises(LedgerFormatError) as info:
        read_extract(folder)
    assert info.value.file == "patients.csv" and info.value.row == 1
    assert f"over the {MAX_COLUMNS:,} a table may have" in str(info.value)


def test_a_header_line_over_a_mebibyte_is_refused(tmp_path):
    folder = tmp_path / "x"
    shutil.copytree(SMALL, folder)
    (folder / "payers.csv").write_bytes(b"payer_id" + b"x" * (2 * 2**20) + b"\n")
    with pytest.raises(LedgerFormatError, match="header line is longer than 1 MiB"):
        read_extract(folder)


def test_a_data_line_over_the_limit_is_a_row_reject_not_a_hang(tmp_path):
    folder = tmp_path / "x"
    shutil.copytree(SMALL, folder)
    with open(folder / "transactions.csv", "a") as fh:
        fh.write("T99,C1,2026-03-02,PATIENT_PAYMENT,PATIENT,,-1.00,,," + "r" * (3 * 2**20) + "\n")
    ex = read_extract(folder)
    assert ex.frames["transactions"].height == 9
    assert [p.table for p in ex.problems] == ["transactions"]
