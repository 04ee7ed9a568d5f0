"""What every command's parser shares: one-line usage errors and one type per kind of argument.

A usage mistake reads like any other failure (one line on stderr, exit status 1), and a
date, a receipt number, a store path or an output file is checked by the same function in
every command, so the same mistake gives the same line everywhere.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from pathlib import Path
from typing import NoReturn

from writeoff_analytics.errors import HistoryError
from writeoff_analytics.ledger.store import DEFAULT_DB, is_duckdb_file
from writeoff_analytics.writeoffs.receipts import normalize_receipt_no

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class UsageError(SystemExit):
    """A usage mistake, already printed as one line; exit status 1 (``main`` returns it)."""

    def __init__(self, message: str) -> None:
        super().__init__(1)
        self.message = message


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 1, not a usage block and 2."""

    def error(self, message: str) -> NoReturn:
        """Print the mistake as one line on stderr and raise :class:`UsageError` (status 1)."""
        line = " ".join(f"{self.prog}: error: {message} (see {self.prog} --help)".split())
        print(line, file=sys.stderr)
        raise UsageError(line)


def iso_date(text: str) -> dt.date:
    """An argparse type: an ISO date ``YYYY-MM-DD`` (the one date type of every command).

    Examples
    --------
    >>> iso_date("2026-11-01")
    datetime.date(2026, 11, 1)
    """
    try:
        if not _ISO_DATE.fullmatch(text):  # fromisoformat also takes 20261101 and other digits
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        msg = f"{text!r} is not a date; write YYYY-MM-DD"
        raise argparse.ArgumentTypeError(msg) from None


def receipt_no(text: str) -> str:
    """An argparse type: a receipt number, ``WO-000001``, ``wo-000001`` or ``1``.

    Examples
    --------
    >>> receipt_no("wo-7")
    'WO-000007'
    """
    try:
        return normalize_receipt_no(text)
    except HistoryError as exc:
        raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None


def _folder_problem(path: Path) -> str | None:
    """Why no file can be made at ``path`` (its nearest existing folder), or None."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"cannot write {path}: {parent} is a file, not a folder"
            if not os.access(parent, os.W_OK | os.X_OK):
                return f"cannot write {path}: the folder {parent} is not writable"
            return None
    return None


def output_file(text: str) -> Path:
    """An argparse type: a file to write (not a folder, in a folder that can be written).

    Examples
    --------
    >>> output_file("/")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: / is a folder; give a file name, e.g. /out.csv
    """
    path = Path(text)
    if path.is_dir():
        msg = f"{path} is a folder; give a file name, e.g. {path / 'out.csv'}"
        raise argparse.ArgumentTypeError(msg)
    if problem := _folder_problem(path):
        raise argparse.ArgumentTypeError(problem)
    return path


def output_folder(text: str) -> Path:
    """An argparse type: a folder to write into (not a file, under a writable folder)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        msg = f"{path} is a file; give a folder"
        raise argparse.ArgumentTypeError(msg)
    if problem := _folder_problem(path):
        raise argparse.ArgumentTypeError(problem)
    return path


def store_file(text: str) -> Path:
    """An argparse type: a ledger store's file (not a folder)."""
    path = Path(text)
    if path.is_dir():
        msg = f"{path} is a folder, not a ledger store; give the store's file, e.g. {path / 'ledger.duckdb'}"
        raise argparse.ArgumentTypeError(msg)
    if path.is_file() and path.stat().st_size > 0 and not is_duckdb_file(path):
        msg = f"{path} is not a ledger store (not a DuckDB file); give the store's file"
        raise argparse.ArgumentTypeError(msg)
    if problem := _folder_problem(path):
        raise argparse.ArgumentTypeError(problem.replace("cannot write", "cannot use", 1))
    return path


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """Add the ``--db PATH`` option every store-using command takes."""
    parser.add_argument(
        "--db", type=store_file, default=DEFAULT_DB, metavar="PATH",
        help=f"the ledger store (default {DEFAULT_DB})",
    )


def add_quiet_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--quiet`` (no progress display; it is off anyway when output is not a terminal)."""
    parser.add_argument(
        "-q", "--quiet", action="store_true",
        help="show no progress (progress is shown only on a terminal)",
    )
