"""One practice of a multi-practice extract: its own store, and committing its Spark candidates there.

Spark searches every practice at once; commits stay per practice (LEDGER_FORMAT.md, "Many
practices": receipts are per practice). Practice ``P``'s store is an ordinary store loaded
from the extract's ``practice=P/`` folder (:func:`load_practice`), so it records that
folder's fingerprint. :func:`commit_practice_batch` commits a batch built from Spark's
candidates of ``P`` only into a store whose last load is exactly that folder's files, then
through the ordinary :func:`~writeoff_analytics.writeoffs.receipts.commit_batch`, whose re-check
compares every line's balance with the store's balance under the lock.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from writeoff_analytics.errors import BatchError, LedgerError, LedgerFormatError
from writeoff_analytics.ledger.files import EXTENSIONS
from writeoff_analytics.ledger.load import load_extract
from writeoff_analytics.ledger.schema import TABLES
from writeoff_analytics.ledger.snapshot import FileRecord, fingerprint_of
from writeoff_analytics.spark.read import opened_extract, practice_folders
from writeoff_analytics.writeoffs.audit import AuditAction, AuditOutcome, record_event
from writeoff_analytics.writeoffs.receipts import commit_batch

if TYPE_CHECKING:
    import os

    from writeoff_analytics.ledger.snapshot import ImportReport
    from writeoff_analytics.ledger.store import Ledger
    from writeoff_analytics.writeoffs.batches import Batch
    from writeoff_analytics.writeoffs.permissions import Config
    from writeoff_analytics.writeoffs.receipts import Receipt


def load_practice(
    ledger: Ledger, extract: str | os.PathLike[str], practice_id: str
) -> ImportReport:
    """Load practice ``practice_id`` of a local multi-practice extract (folder or ``.zip``) into its store.

    The practice's folder is an ordinary extract; this is
    :func:`~writeoff_analytics.ledger.load.load_extract` of ``extract/practice=<id>/``.

    Parameters
    ----------
    ledger
        The practice's own store (one store per practice: ids collide across practices).
    extract
        The multi-practice extract Spark searched.
    practice_id
        The practice, as Spark names it (the folder's text after ``practice=``).

    Returns
    -------
    ImportReport
        The load's report (its fingerprint is what :func:`commit_practice_batch` checks).

    Raises
    ------
    LedgerError
        If the extract has no folder for the practice, or the folder does not load.
    """
    with opened_extract(extract) as folder:
        return load_extract(ledger, _folder(Path(folder), practice_id, extract))


def practice_fingerprint(extract: str | os.PathLike[str], practice_id: str) -> str:
    """The fingerprint a store loaded from the practice's folder records (``Ledger.fingerprint``).

    The SHA-256 of each table file the loader would read (``<table>.csv``, ``.parquet`` or
    ``.xlsx``), combined as :func:`~writeoff_analytics.ledger.snapshot.fingerprint_of` does.

    Raises
    ------
    LedgerError
        If the extract has no folder for the practice or a table file is missing.
    """
    with opened_extract(extract) as opened:
        folder = _folder(Path(opened), practice_id, extract)
        records = []
        for table in TABLES:
            found = [folder / f"{table.name}{ext}" for ext in EXTENSIONS]
            path = next((p for p in found if p.is_file()), None)
            if path is None:
                msg = f"{extract}: practice {practice_id} has no {table.name} file"
                raise LedgerError(msg)
            records.append(FileRecord(table.name, path.name, _sha256(path), rows=0, rejected=0))
        return fingerprint_of(records)


def commit_practice_batch(
    ledger: Ledger,
    batch: Batch,
    *,
    extract: str | os.PathLike[str],
    practice_id: str,
    user: str,
    approver: str | None = None,
    receipts_dir: str | os.PathLike[str],
    config: Config,
) -> Receipt:
    """Commit a batch built from Spark's candidates of one practice into that practice's store.

    Parameters
    ----------
    ledger
        The practice's store, loaded from the same extract with :func:`load_practice`.
    batch
        Built from ``find_candidates_spark(...)[practice_id]`` (``Batch.from_candidates``).
    extract
        The multi-practice extract Spark searched (a local folder or ``.zip``).
    practice_id
        The practice the batch's candidates came from.
    user, approver, receipts_dir, config
        As for :func:`~writeoff_analytics.writeoffs.receipts.commit_batch`; ``receipts_dir`` is the
        practice's own (receipt numbers are per store).

    Returns
    -------
    Receipt
        The practice's receipt.

    Raises
    ------
    BatchError
        If the store was not loaded from this practice's folder of ``extract`` (another
        practice's store, or another extract), or a line's balance differs from the
        store's (``commit_batch``'s re-check: e.g. the line was written off since this
        extract was taken). Nothing is written then but the audit event.
    PermissionDenied
        As for ``commit_batch``.
    """
    ledger.require_loaded()
    expected = practice_fingerprint(extract, practice_id)
    loaded = ledger.fingerprint()
    if loaded != expected:
        msg = (
            f"batch refused: the store {ledger.path} was not loaded from practice "
            f"{practice_id}'s folder of {extract} (its files differ); commit a practice's "
            "candidates into that practice's own store (load_practice). Nothing was written off."
        )
        record_event(ledger, user=user, action=AuditAction.COMMIT, outcome=AuditOutcome.REFUSED, detail=msg)
        raise BatchError(msg)
    return commit_batch(
        ledger, batch, user=user, approver=approver, receipts_dir=receipts_dir, config=config
    )


def _folder(root: Path, practice_id: str, shown: str | os.PathLike[str]) -> Path:
    folders = practice_folders(root)
    if practice_id not in folders:
        msg = f"{shown}: no folder practice={practice_id}; found: {', '.join(folders)}"
        raise LedgerError(msg)
    return folders[practice_id]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
    except OSError as exc:
        msg = f"cannot be read ({exc.strerror})"
        raise LedgerFormatError(msg, file=str(path)) from exc
    return digest.hexdigest()
