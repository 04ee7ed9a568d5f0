"""Options and helpers the write-off commands share: who runs, the config, the receipts folder."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from writeoff_analytics.writeoffs.permissions import (
    DEFAULT_CONFIG,
    Config,
    current_user,
    load_config,
)

_told_open_config = False


def iso_date(text: str) -> dt.date:
    """An argparse type: an ISO date ``YYYY-MM-DD``."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        msg = f"{text!r} is not a date; write YYYY-MM-DD"
        raise argparse.ArgumentTypeError(msg) from None


def add_user_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--user NAME`` (default: the login name)."""
    parser.add_argument("--user", help="who acts (default: your login name)")


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--config FILE`` (default ``./writeoff.toml``)."""
    parser.add_argument(
        "--config", type=Path, help=f"permissions and approval config (default ./{DEFAULT_CONFIG})"
    )


def add_receipts_dir_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--receipts-dir DIR`` (default: ``receipts`` beside the store)."""
    parser.add_argument(
        "--receipts-dir", type=Path, help="where receipt files go (default: receipts/ beside the store)"
    )


def user_of(args: argparse.Namespace) -> str:
    """The acting user: ``--user`` or the login name."""
    return str(args.user) if getattr(args, "user", None) else current_user()


def config_of(args: argparse.Namespace) -> Config:
    """Read ``--config`` (or ``./writeoff.toml``); without a file, say once who may do everything."""
    global _told_open_config
    config = load_config(args.config)
    if config.is_default and not _told_open_config:
        _told_open_config = True
        print(
            f"writeoff: no config file ./{DEFAULT_CONFIG}: login {current_user()!r} holds every "
            "permission and no second approver is needed (create the file to restrict this).",
            file=sys.stderr,
        )
    return config


def receipts_dir_of(args: argparse.Namespace) -> Path:
    """``--receipts-dir``, or ``receipts/`` beside the store."""
    if args.receipts_dir is not None:
        return Path(args.receipts_dir)
    return Path(args.db).parent / "receipts"
