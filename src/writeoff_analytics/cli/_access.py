"""Options and helpers the write-off commands share: who runs, the config, the receipts folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from writeoff_analytics.cli._options import output_folder
from writeoff_analytics.errors import IdentityError, WriteoffError
from writeoff_analytics.ledger.store import Ledger
from writeoff_analytics.writeoffs.audit import AuditAction, AuditOutcome, record_event
from writeoff_analytics.writeoffs.permissions import (
    DEFAULT_CONFIG,
    Config,
    Permission,
    current_user,
    load_config,
    require_permission,
)

#: The no-config notice, kept until the command has succeeded (a failure stays one line).
_notice: str | None = None


def add_user_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--user NAME``: accepted only when it is the login (kept so old scripts still run)."""
    parser.add_argument(
        "--user", metavar="NAME", help="who acts: always your login; another name is refused"
    )


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--config FILE`` (default ``./writeoff.toml``)."""
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help=f"permissions and approval config (default ./{DEFAULT_CONFIG})"
    )


def add_receipts_dir_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--receipts-dir DIR`` (default: ``receipts`` beside the store)."""
    parser.add_argument(
        "--receipts-dir", type=output_folder, metavar="DIR", help="where receipt files go (default: receipts/ beside the store)"
    )


def user_of(args: argparse.Namespace, action: AuditAction) -> str:
    """The acting user: the login of this process (issue 16); ``--user`` must equal it.

    Raises
    ------
    IdentityError
        If ``--user`` names someone else; the refusal is audited in the store ``--db`` names
        (when it can be opened) as ``action`` by the login.
    """
    login = current_user()
    typed = getattr(args, "user", None)
    if typed is not None and str(typed) != login:
        error = IdentityError(str(typed), login)
        try:
            ledger = Ledger.open_existing(args.db)
        except (WriteoffError, OSError):
            raise error from None  # no store to audit in: the refusal is still one line
        record_event(ledger, user=login, action=action, outcome=AuditOutcome.REFUSED, detail=str(error))
        raise error
    return login


def config_of(args: argparse.Namespace, *, notice: bool = True) -> Config:
    """Read ``--config`` (or ``./writeoff.toml``).

    Without a file, the login name holds every permission; a command that changes the store
    (``notice=True``) says so once, after it succeeded, with how to create the file.
    """
    global _notice
    config = load_config(args.config)
    if config.is_default and notice:
        _notice = (
            f"writeoff: no config file ./{DEFAULT_CONFIG}: login {current_user()!r} holds every "
            "permission and no second approver is needed; to restrict this, create "
            f"{DEFAULT_CONFIG} with a line per user, e.g. [users.NAME] then "
            'permissions = ["mass_write_off", "mass_write_off_history"]'
        )
    return config


def reset_notice() -> None:
    """Forget a pending notice (each command run starts without one)."""
    global _notice
    _notice = None


def print_notice() -> None:
    """Print the pending no-config notice once, on stderr."""
    global _notice
    if _notice is not None:
        print(_notice, file=sys.stderr)
        _notice = None


def receipts_dir_of(args: argparse.Namespace) -> Path:
    """``--receipts-dir``, or ``receipts/`` beside the store."""
    if args.receipts_dir is not None:
        return Path(args.receipts_dir)
    return Path(args.db).parent / "receipts"


def require_of(args: argparse.Namespace, ledger: Ledger, permission: Permission, action: str, audit: AuditAction) -> str:
    """Refuse unless the login holds ``permission`` under ``--config`` (audited); return the login."""
    return require_permission(ledger, permission, action, audit, config=config_of(args, notice=False))
