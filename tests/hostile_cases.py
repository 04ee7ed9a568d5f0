"""The hostile corpus (issue 14): how each case in ``tests/data/hostile/`` is made.

Each case is tests/data/small with a few files replaced (an *overlay*): the case's folder
holds only the files that differ, byte for byte as made here. ``python -m tests.hostile_cases``
writes them; ``tests/test_hostile.py`` checks the folder matches (so every byte is ours and
reproducible) and loads each case. Cases too big to commit (a zip bomb, a 100,000-column
header, a 4 MiB line) or that git cannot hold (a broken symlink, a folder named like a
file) are made in the test's temporary folder by :func:`generated`.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import polars as pl
import xlsxwriter

SMALL = Path(__file__).parent / "data" / "small"
HOSTILE = Path(__file__).parent / "data" / "hostile"


def small(table: str) -> str:
    return (SMALL / f"{table}.csv").read_text(encoding="utf-8")


def replace(table: str, old: str, new: str) -> str:
    text = small(table)
    assert text.count(old) == 1, (table, old)
    return text.replace(old, new)


def tx(old: str, new: str) -> bytes:
    """transactions.csv with one edit, as UTF-8."""
    return replace("transactions", old, new).encode()


def _frame(table: str) -> pl.DataFrame:
    return pl.read_csv(SMALL / f"{table}.csv", infer_schema=False)


def _parquet(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf)
    return buf.getvalue()


#: The date written into zips and workbooks (their bytes must not depend on today).
_FIXED = (2026, 1, 1, 0, 0, 0)


def _workbook(buf: io.BytesIO) -> xlsxwriter.Workbook:
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"created": dt.datetime(*_FIXED)})
    return wb


def _xlsx(table: str, edit: Callable[..., None] | None = None, sheet: str = "Sheet1") -> bytes:
    buf = io.BytesIO()
    wb = _workbook(buf)
    ws = wb.add_worksheet(sheet)
    for r, line in enumerate(small(table).splitlines()):
        for c, value in enumerate(line.split(",")):
            ws.write_string(r, c, value)  # an empty field is an empty-string cell
    if edit is not None:
        edit(wb, ws)
    wb.close()
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            # A fixed date, so the bytes are the same each time they are made.
            zf.writestr(zipfile.ZipInfo(name, date_time=_FIXED[:6]), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _small_zip() -> bytes:
    return _zip({f"{t}.csv": (SMALL / f"{t}.csv").read_bytes() for t in _TABLES})


_TABLES = ("payers", "patients", "coverages", "encounters", "charges", "transactions")
_TX = "transactions"


def files() -> dict[str, dict[str, bytes]]:
    """case -> {file name: bytes} (the overlay on tests/data/small)."""
    t = small(_TX)
    out: dict[str, dict[str, bytes]] = {
        # --- line endings and encodings ------------------------------------------------
        "crlf_line_endings": {"transactions.csv": t.replace("\n", "\r\n").encode()},
        "cr_only_line_endings": {"transactions.csv": t.replace("\n", "\r").encode()},
        "mixed_line_endings": {
            "transactions.csv": "".join(
                line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(t.splitlines())
            ).encode()
        },
        "utf8_bom": {"transactions.csv": b"\xef\xbb\xbf" + t.encode()},
        "utf16_with_bom": {"transactions.csv": t.encode("utf-16")},
        "only_bom": {"transactions.csv": b"\xef\xbb\xbf"},
        "empty_file": {"transactions.csv": b""},
        "nul_byte_in_id": {"transactions.csv": tx("T5,C2", "T\x005,C2")},
        "latin1_name": {
            "patients.csv": replace("patients", "Testpatient", "M\u00fcller").encode("latin-1")
        },
        "quoted_newline_in_id": {"transactions.csv": tx("T5,C2", '"T\n5",C2')},
        "very_long_header_name": {
            "charges.csv": replace("charges", "posted_date", "posted_date," + "x" * 70_000).encode()
        },
        # --- archives and files -----------------------------------------------------------
        "truncated_zip": {"extract.zip": _small_zip()[:700]},
        "not_a_zip": {"extract.zip": b"PK\x03\x04 but not really a zip"},
        "garbage_parquet": {"transactions.parquet": b"PAR1 this is not parquet PAR1"},
        "two_files_one_table": {"transactions.parquet": _parquet(_frame(_TX))},
        # --- Parquet types ------------------------------------------------------------------
        "parquet_list_column": {
            "transactions.parquet": _parquet(
                _frame(_TX).with_columns(pl.col("reason_code").str.split(";"))
            )
        },
        "parquet_struct_column": {
            "transactions.parquet": _parquet(
                _frame(_TX).with_columns(
                    pl.struct(pl.col("reference"), pl.col("group_code")).alias("remit")
                )
            )
        },
        "parquet_list_money": {
            "transactions.parquet": _parquet(
                _frame(_TX).with_columns(pl.col("amount").str.split("."))
            )
        },
        "parquet_float_money": {
            "transactions.parquet": _parquet(
                _frame(_TX).with_columns(pl.col("amount").cast(pl.Float64))
            )
        },
        "parquet_float_money_inexact": {
            "transactions.parquet": _parquet(
                _frame(_TX).with_columns(
                    pl.when(pl.col("transaction_id") == "T9")
                    .then(pl.lit(0.1) + pl.lit(0.2))  # 0.30000000000000004
                    .otherwise(pl.col("amount").cast(pl.Float64))
                    .alias("amount")
                )
            )
        },
        "parquet_decimal_38_10": {
            "transactions.parquet": _parquet(
                _frame(_TX).with_columns(
                    pl.when(pl.col("transaction_id") == "T9")
                    .then(pl.lit("-25.5000000000"))
                    .otherwise(pl.col("amount"))
                    .cast(pl.Decimal(38, 10))
                    .alias("amount")
                )
            )
        },
        # --- columns named like our work columns -------------------------------------------
        "column_named_row": {"charges.csv": _extra_column("charges", "_row", "7")},
        "column_named_typed_amount": {
            "transactions.csv": _extra_column(_TX, "_typed_amount", "999.99")
        },
        "column_named_bad_amount": {"transactions.csv": _extra_column(_TX, "_bad_amount", "true")},
        "column_named_reject": {"transactions.csv": _extra_column(_TX, "_reject", "true")},
        "column_named_practice_id": {"charges.csv": _extra_column("charges", "practice_id", "p1")},
        "duplicate_header_differing_in_case": {
            "transactions.csv": _extra_column(_TX, "Amount", "-999.00")
        },
        "header_names_with_spaces": {
            "transactions.csv": replace(_TX, ",amount,", ", amount ,").encode()
        },
        # --- money ---------------------------------------------------------------------------
        "amount_17_digits": {"transactions.csv": tx("-30.00", "-12345678901234567.00")},
        "amount_1e400": {"transactions.csv": tx("-30.00", "1e400")},
        "amount_99999999999999999_99": {"transactions.csv": tx("-30.00", "99999999999999999.99")},
        "arabic_indic_digits": {"transactions.csv": tx("-30.00", "-\u0663\u0660.\u0660\u0660")},
        "fullwidth_digits": {"transactions.csv": tx("-30.00", "-\uff13\uff10.\uff10\uff10")},
        "superscript_digits": {"transactions.csv": tx("-30.00", "-\u00b3\u2070.\u2070\u2070")},
        "nbsp_in_money": {"transactions.csv": tx("-30.00", "-30.\u00a000")},
        "leading_space_in_money": {"transactions.csv": tx("-30.00", " -30.00")},
        "trailing_space_in_money": {"transactions.csv": tx("-30.00", "-30.00 ")},
        "nan_money": {"transactions.csv": tx("-30.00", "NaN")},
        "inf_money": {"transactions.csv": tx("-30.00", "inf")},
        "plus_sign_money": {"transactions.csv": tx("-30.00", "+30.00")},
        "exponent_money": {"transactions.csv": tx("-30.00", "-3e1")},
        "negative_zero_money": {"transactions.csv": tx("-30.00", "-0.00")},
        "three_decimals": {"transactions.csv": tx("-30.00", "-30.005")},
        # --- dates and rows --------------------------------------------------------------------
        "two_digit_year": {"transactions.csv": tx("2026-04-20", "26-04-20")},
        "us_date_two_digit_year": {"transactions.csv": tx("2026-04-20", "4/20/26")},
        "header_only_transactions": {"transactions.csv": t.splitlines()[0].encode() + b"\n"},
        "all_transactions_rejected": {
            "transactions.csv": "\n".join(
                [t.splitlines()[0]]
                + [line.replace(",-", ",-$").replace(",40.00", ",$40.00").replace(",50.00", ",$50.00")
                   for line in t.splitlines()[1:]]
            ).encode()
            + b"\n"
        },
        "short_row": {"transactions.csv": tx("T9,C5,2026-04-20,PATIENT_PAYMENT,PATIENT,,-30.00,,,CC55",
                                             "T9,C5,2026-04-20")},
        # --- ids -------------------------------------------------------------------------------
        "escape_sequence_in_id": {"transactions.csv": tx("T5,C2", "T5\x1b[2J,C2")},
        "c1_control_in_id": {"transactions.csv": tx("T5,C2", "T5\u0085,C2")},
        "del_in_id": {"transactions.csv": tx("T5,C2", "T5\x7f,C2")},
        "bidi_override_in_id": {"transactions.csv": tx("T5,C2", "\u202eT5,C2")},
        "bidi_isolate_in_code": {"charges.csv": replace("charges", "99214", "99\u2066214").encode()},
        "birth_date_rejected": {
            "patients.csv": replace("patients", "1978-11-30", "30/11/1978").encode()
        },
        # --- spreadsheets -----------------------------------------------------------------------
        "xlsx_empty_string_cells": {"transactions.xlsx": _xlsx(_TX)},
        "xlsx_formula_cell": {
            "transactions.xlsx": _xlsx(_TX, lambda wb, ws: ws.write_formula("G10", "=-10-20", None, -30))
        },
        "xlsx_formula_without_cached_value": {
            "transactions.xlsx": _xlsx(_TX, lambda wb, ws: ws.write_formula("G10", "=-10-20"))
        },
        "xlsx_merged_header": {
            "transactions.xlsx": _xlsx(_TX, lambda wb, ws: ws.merge_range("H1:I1", "group_code"))
        },
        "xlsx_two_sheets_none_named": {
            "transactions.xlsx": _xlsx_two_sheets(),
        },
    }
    return out


def _extra_column(table: str, name: str, value: str) -> bytes:
    lines = small(table).splitlines()
    return ("\n".join([f"{lines[0]},{name}"] + [f"{line},{value}" for line in lines[1:]]) + "\n").encode()


def _xlsx_two_sheets() -> bytes:
    buf = io.BytesIO()
    wb = _workbook(buf)
    for sheet in ("Export", "Totals"):
        ws = wb.add_worksheet(sheet)
        for r, line in enumerate(small(_TX).splitlines()):
            for c, value in enumerate(line.split(",")):
                ws.write_string(r, c, value)
    wb.close()
    return buf.getvalue()


def generated(case: str, folder: Path) -> None:
    """Make the cases too big to commit, or that git cannot hold, in ``folder`` (an overlay)."""
    t = small(_TX)
    if case == "zip_bomb":
        # 64 MiB of one byte: ~1,000:1, refused before a byte is unpacked.
        members = {f"{name}.csv": (SMALL / f"{name}.csv").read_bytes() for name in _TABLES}
        members["transactions.csv"] = t.encode() + b"0" * (64 << 20)
        (folder / "extract.zip").write_bytes(_zip(members))
    elif case == "header_100000_columns":
        header = ",".join(f"c{i}" for i in range(100_000))
        (folder / "transactions.csv").write_text(header + "\n" + t.split("\n", 1)[1])
    elif case == "very_long_line":
        (folder / "transactions.csv").write_text(t + "T10,C5," + "9" * (4 << 20) + "\n")
    elif case == "xlsx_bomb":
        # A workbook whose sheet XML ends in 64 MiB of spaces (legal after the root).
        book = _xlsx(_TX)
        with zipfile.ZipFile(io.BytesIO(book)) as zf:
            parts = {n: zf.read(n) for n in zf.namelist()}
        parts["xl/worksheets/sheet1.xml"] += b" " * (64 << 20)
        (folder / "transactions.xlsx").write_bytes(_zip(parts))
    elif case == "folder_named_like_a_file":
        (folder / "transactions.csv").mkdir()
    elif case == "broken_symlink":
        (folder / "transactions.csv").symlink_to(folder / "nowhere.csv")
    else:  # pragma: no cover - a case name typo
        raise KeyError(case)


GENERATED = (
    "zip_bomb",
    "header_100000_columns",
    "very_long_line",
    "xlsx_bomb",
    "folder_named_like_a_file",
    "broken_symlink",
)


def write_corpus(root: Path = HOSTILE) -> None:
    """Write every committed case's files under ``root``."""
    for case, overlay in files().items():
        folder = root / case
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in overlay.items():
            (folder / name).write_bytes(data)


#: Balances of tests/data/small: charge -> (insurance_balance, patient_balance).
SMALL_BALANCES = {
    "C1": (Decimal("0.00"), Decimal("40.00")),
    "C2": (Decimal("0.00"), Decimal("30.00")),
    "C3": (Decimal("25.50"), Decimal("0.00")),
    "C4": (Decimal("120.00"), Decimal("0.00")),
    "C5": (Decimal("0.00"), Decimal("50.00")),
    "C6": (Decimal("0.00"), Decimal("12.35")),
}


if __name__ == "__main__":
    write_corpus()
