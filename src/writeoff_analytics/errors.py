"""Every exception writeoff_analytics raises.

The widget and the CLI catch :class:`WriteoffError` and show its message; the details
are attributes too, so a widget can list them and a test can assert on them. Messages
carry ids, never patient names or birth dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class WriteoffError(Exception):
    """Base of every error this package raises on purpose."""


class LedgerError(WriteoffError):
    """A ledger extract or store cannot be used as it is."""


def escaped(text: str) -> str:
    r"""``text`` safe for a terminal: every unprintable character written as its escape.

    Control characters (C0, C1, DEL), bidi overrides and isolates (U+202A-U+202E,
    U+2066-U+2069) and other invisible characters could move the cursor, recolour or
    reorder what the terminal shows; they are written as Python writes them in a ``repr``
    (``\x1b``, ``\u202e``). Printable text, non-ASCII letters included, is unchanged.

    Examples
    --------
    >>> print(escaped("C1\x1b[2J\u202e"))
    C1\x1b[2J\u202e
    >>> escaped("Müller")
    'Müller'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shown(value: object) -> str:
    r"""A value from a file as a message shows it: quoted, unprintable characters escaped.

    The one way an id, code or amount read from a file reaches a terminal (``RowProblem``,
    the CLI); values of PHI columns are never passed here (see ``Column.phi``).

    Examples
    --------
    >>> print(shown("C1\n"), shown("12.345"))
    'C1\n' '12.345'
    """
    return repr(str(value))


#: What a message says instead of a PHI column's value (names, birth dates, addresses).
WITHHELD = "(value withheld)"


@dataclass(frozen=True)
class RowProblem:
    """One bad cell or row of an extract: where it is, what it holds and why it is refused.

    ``value`` is ``None`` for a PHI column (``withheld``): the message names the column and
    the reason only; the row's text is kept in ``rejects.csv``, the user's own file.
    """

    table: str
    file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str
    withheld: bool = False

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        if self.withheld:
            value = f"{WITHHELD}: "
        else:
            value = "" if self.value is None else f"{shown(self.value)}: "
        # Every part may come from a file (names, headers, ids): escaped as a whole.
        return escaped(f"{', '.join(where)}: {value}{self.reason}")


class LedgerFormatError(LedgerError):
    """A file breaks the ledger contract (LEDGER_FORMAT.md) so badly that nothing is loaded.

    Attributes
    ----------
    file, row, column, reason
        Where and why; ``row`` and ``column`` are ``None`` when the whole file is at fault.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        self.reason = reason
        super().__init__(str(RowProblem("", file, row, column, value, reason)))


class LedgerReferenceError(LedgerError):
    """A row points at something the extract does not hold (a charge's unknown encounter)."""


class CriteriaError(WriteoffError, ValueError):
    """Criteria that contradict each other or name something unknown (CRITERIA.md)."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(f"Criteria refused: {reason}")

    @classmethod
    def unknown(cls, what: str, names: Iterable[str], known: Iterable[str], *, field: str) -> CriteriaError:
        """Refuse names that are not among the known ones, listing the known ones."""
        bad = ", ".join(sorted(names))
        choices = ", ".join(sorted(known)) or "(none)"
        return cls(f"unknown {what} {bad}; known: {choices}.", field=field)


class QueryError(WriteoffError):
    """A query file is missing, or its declared and passed parameters disagree."""


class BatchError(WriteoffError):
    """A batch cannot be built or committed as asked (amount out of range, stale balance)."""

    def __init__(self, reason: str, *, charge_ids: Sequence[str] = ()) -> None:
        self.reason = reason
        self.charge_ids = tuple(charge_ids)
        super().__init__(reason)


class PermissionDenied(WriteoffError):
    """A user lacks a permission the operation needs; nothing was changed."""

    def __init__(self, user: str, permission: str, action: str) -> None:
        self.user = user
        self.permission = permission
        self.action = action
        super().__init__(
            f"User {user!r} may not {action}: the permission {permission!r} is missing "
            "(ask an administrator to add it in the writeoff config)."
        )


class IdentityError(PermissionDenied):
    """``--user`` named someone other than the login running the process; nothing was changed."""

    def __init__(self, typed: str, login: str) -> None:
        self.user = login
        self.permission = ""
        self.action = f"act as {typed}"
        self.typed = typed
        WriteoffError.__init__(
            self,
            f"--user {typed!r} is not the login running this ({login!r}): the acting user is "
            f"always your login; drop --user, or log in as {typed} to act as them.",
        )


class HistoryError(WriteoffError):
    """An unknown receipt, or a reversal that cannot be made."""


class ReceiptMismatchError(HistoryError):
    """A receipt's files or its lines in the store no longer match what the receipt recorded.

    ``file`` is the first file (or ``writeoff_lines``) that disagrees; ``problems`` every line.
    """

    def __init__(self, receipt_no: str, file: str, problems: Sequence[str]) -> None:
        self.receipt_no = receipt_no
        self.file = file
        self.problems = tuple(problems)
        super().__init__(
            f"receipt {receipt_no} refused: {'; '.join(self.problems)}. Nothing was done; restore "
            "the file or the store from a backup (writeoff verify lists every mismatch)."
        )


class ReceiptsFolderError(WriteoffError):
    """A receipts folder that cannot be written; checked before anything is committed."""

    def __init__(self, folder: str, reason: str) -> None:
        self.folder = folder
        self.reason = reason
        super().__init__(
            f"receipts folder {folder} cannot be written ({reason}); nothing was committed. "
            "Fix the folder or pass another --receipts-dir."
        )


class ImportError835(WriteoffError):
    """An X12 835 file that cannot be read at all."""


class ConfigError(WriteoffError):
    """A writeoff config or export profile file that cannot be used as it is."""


class ApprovalRequired(PermissionDenied):
    """A batch over the second-approver limit lacks a second approver acting from their own login.

    ``acting`` is set when an approver was named who is not the login running the process.
    """

    def __init__(
        self, user: str, approver: str | None, total: str, limit: str, *, acting: str | None = None
    ) -> None:
        self.user = user
        self.permission = "approve_write_off"
        self.action = "commit this batch alone"
        self.approver = approver
        self.total = total
        self.limit = limit
        self.acting = acting
        if acting is not None:
            why = (
                f"approver {approver!r} is not the login running this ({acting!r}); "
                "an approver approves from their own login"
            )
        elif approver == user:
            why = f"{user!r} named themself as approver"
        else:
            why = "no approver was named"
        if limit == "None":  # no limit: the only fault is an approver who is not acting
            msg = (
                f"Batch of {total} refused: {why}; commit without --approver, or let the "
                "approver commit it from their own login."
            )
        else:
            msg = (
                f"Batch total {total} is over the second-approver limit {limit}: {why}; it "
                "needs a second approver holding 'approve_write_off', and the approval queue "
                "(`writeoff approvals`) is not built yet, so such a batch cannot be committed now."
            )
        WriteoffError.__init__(self, msg)


class DemoError(WriteoffError, ValueError):
    """Arguments the demo ledger generator cannot use (unknown format, a count below 1)."""
