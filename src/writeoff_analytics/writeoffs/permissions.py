"""Who may do what: users' permissions and the second-approver limit, from a TOML file.

::

    [users.ana]
    permissions = ["mass_write_off", "mass_write_off_history"]
    [users.sam]
    permissions = ["mass_write_off", "approve_write_off", "mass_write_off_history", "reverse_write_off",
                   "load_ledger"]
    [approval]
    second_approver_over = "500.00"
    [export]                      # optional: the receipt CSV's export profile
    profile = "pm_profile.toml"   # a file beside this one, or the profile's keys inline

Who acts is always :func:`current_user`, the login of the process's user id (issue 16; see
docs/SECURITY.md). With no config file that login holds every permission (and nothing
needs a second approver); the CLI says so once. A login the config does not name holds none.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from writeoff_analytics._toml import read_toml
from writeoff_analytics.errors import ApprovalRequired, ConfigError, PermissionDenied
from writeoff_analytics.export.profile import (
    DEFAULT_PROFILE,
    ExportProfile,
    load_export_profile,
    profile_from_dict,
)
from writeoff_analytics.money import parse_money
from writeoff_analytics.writeoffs.audit import AuditAction, AuditOutcome, record_event

if TYPE_CHECKING:
    from writeoff_analytics.ledger.store import Ledger

#: The config file the CLI reads unless ``--config`` names another.
DEFAULT_CONFIG = Path("writeoff.toml")


class Permission(StrEnum):
    """The permissions a config grants (issue 4)."""

    MASS_WRITE_OFF = "mass_write_off"
    APPROVE_WRITE_OFF = "approve_write_off"
    MASS_WRITE_OFF_HISTORY = "mass_write_off_history"
    REVERSE_WRITE_OFF = "reverse_write_off"
    LOAD_LEDGER = "load_ledger"


def current_user() -> str:
    """The login of this process's effective user id: who is acting (issue 16).

    Taken from the operating system (``pwd``), never from ``$USER``/``$LOGNAME`` or an
    option, so it cannot be typed. A uid without a passwd entry (some containers) is
    named ``uid<N>``. This is the one source of the acting user.
    """
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


@dataclass(frozen=True)
class Config:
    """Users' permissions, the second-approver limit and the receipt export profile.

    Attributes
    ----------
    users
        Permissions by user name.
    second_approver_over
        A batch whose total is over this needs a different approver holding
        ``approve_write_off``; ``None``: never.
    export_profile
        How receipt CSVs are laid out.
    source
        The file read, or ``None`` for the open default (no file).
    """

    users: Mapping[str, frozenset[Permission]]
    second_approver_over: Decimal | None = None
    export_profile: ExportProfile = DEFAULT_PROFILE
    source: Path | None = field(default=None, compare=False)

    @classmethod
    def open_to(cls, user: str) -> Config:
        """The config used without a file: ``user`` holds every permission."""
        return cls(users={user: frozenset(Permission)})

    @property
    def is_default(self) -> bool:
        """Whether no config file was read (everything allowed to the login name)."""
        return self.source is None

    def has(self, user: str, permission: Permission | str) -> bool:
        """Whether ``user`` holds ``permission``."""
        return Permission(permission) in self.users.get(user, frozenset())

    def require(self, user: str, permission: Permission | str, action: str) -> None:
        """Refuse unless ``user`` holds ``permission``.

        Raises
        ------
        PermissionDenied
            Naming the user, the missing permission and what was refused.
        """
        if not self.has(user, permission):
            raise PermissionDenied(user, Permission(permission).value, action)

    def needs_second_approver(self, total: Decimal) -> bool:
        """Whether a batch of this total needs a second approver."""
        return self.second_approver_over is not None and total > self.second_approver_over

    def require_commit(self, user: str, approver: str | None, total: Decimal) -> None:
        """Refuse a commit that ``user`` (and ``approver``) may not make for this total.

        Raises
        ------
        PermissionDenied
            If ``user`` lacks ``mass_write_off``, or a named approver lacks ``approve_write_off``.
        ApprovalRequired
            If the total is over the limit and no different approver is named, or the named
            approver is not the login running this process (issue 16: an approver approves
            from their own login; naming someone else proves nothing).
        """
        self.require(user, Permission.MASS_WRITE_OFF, "commit write-off batches")
        if self.needs_second_approver(total) and (approver is None or approver == user):
            raise ApprovalRequired(user, approver, str(total), str(self.second_approver_over))
        if approver is not None:
            self.require(approver, Permission.APPROVE_WRITE_OFF, "approve write-off batches")
            acting = current_user()
            if approver != acting:
                raise ApprovalRequired(
                    user, approver, str(total), str(self.second_approver_over), acting=acting
                )


def require_permission(
    ledger: Ledger,
    permission: Permission,
    action: str,
    audit: AuditAction,
    *,
    config: Config | None = None,
) -> str:
    """Refuse unless the acting login holds ``permission``; return the login (issue 16).

    The one check every library entry point makes first, so the CLI, the screens and
    Python callers cannot differ. ``config`` defaults to :func:`load_config` (``./writeoff.toml``,
    or every permission for the login without one). A refusal is audited in ``ledger``
    when the store exists.

    Raises
    ------
    PermissionDenied
        Naming the login, the missing permission and ``action``.
    """
    user = current_user()
    governing = config if config is not None else load_config(user=user)
    try:
        governing.require(user, permission, action)
    except PermissionDenied as exc:
        if ledger.is_memory or Path(ledger.path).exists():
            record_event(ledger, user=user, action=audit, outcome=AuditOutcome.REFUSED, detail=str(exc))
        raise
    return user


def load_config(path: str | os.PathLike[str] | None = None, *, user: str | None = None) -> Config:
    """Read a config file; without one, the login name (or ``user``) holds every permission.

    Parameters
    ----------
    path
        The file to read. ``None`` reads ``./writeoff.toml`` if it exists; a path that is
        given must exist.
    user
        Who gets every permission when there is no file (default: the login name).

    Raises
    ------
    ConfigError
        If a named file is missing, is not TOML, or names an unknown permission, a bad
        limit or a bad export profile.
    """
    if path is None:
        if not DEFAULT_CONFIG.is_file():
            return Config.open_to(user if user is not None else current_user())
        path = DEFAULT_CONFIG
    file = Path(path)
    data = read_toml(
        file, "config file", ConfigError, unreadable_hint="; pass --config with an existing file"
    )
    return config_from_dict(data, source=file)


def config_from_dict(data: Mapping[str, Any], *, source: Path) -> Config:
    """Build a :class:`Config` from a parsed TOML document (see the module docstring).

    Raises
    ------
    ConfigError
        On an unknown section, permission or key, or a bad limit or export profile.
    """
    if unknown := sorted(set(data) - {"users", "approval", "export"}):
        msg = f"config file {source}: unknown section(s) {', '.join(unknown)}; known: users, approval, export."
        raise ConfigError(msg)
    users: dict[str, frozenset[Permission]] = {}
    for name, entry in dict(data.get("users", {})).items():
        perms = entry.get("permissions", []) if isinstance(entry, Mapping) else None
        if not isinstance(perms, list):
            msg = f"config file {source}: [users.{name}] needs permissions = [...]."
            raise ConfigError(msg)
        try:
            users[str(name)] = frozenset(Permission(str(p)) for p in perms)
        except ValueError:
            bad = sorted(str(p) for p in perms if str(p) not in set(Permission))
            known = ", ".join(p.value for p in Permission)
            msg = f"config file {source}: user {name}: unknown permission(s) {', '.join(bad)}; known: {known}."
            raise ConfigError(msg) from None
    limit = None
    approval = dict(data.get("approval", {}))
    if "second_approver_over" in approval:
        try:
            limit = parse_money(str(approval["second_approver_over"]))
        except ValueError as exc:
            value = approval["second_approver_over"]
            msg = f"config file {source}: [approval] second_approver_over {value!r}: {exc}; write it like \"500.00\"."
            raise ConfigError(msg) from None
    profile = DEFAULT_PROFILE
    export = dict(data.get("export", {}))
    if "profile" in export:
        profile_path = source.parent / str(export.pop("profile"))
        if export:
            msg = f"config file {source}: [export] holds either profile = FILE or the profile's keys, not both."
            raise ConfigError(msg)
        profile = load_export_profile(profile_path)
    elif export:
        profile = profile_from_dict(export, source=f"{source} [export]")
    return Config(
        users=dict(users),
        second_approver_over=limit,
        export_profile=profile,
        source=source,
    )
