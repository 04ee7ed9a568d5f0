"""Write a file so that readers see the old one or the whole new one, never a part.

Every file we write (receipts, reports, ``rejects.csv``, exports) and the store itself is
created readable by its owner only: ``0600``, or ``0640`` (``0660`` for the store, which
colleagues write) when its folder is *group-shared*, i.e. has the setgid bit
(``chmod g+s``), so that a team's folder gives its group what it needs and nobody else
anything. A file that exists already keeps the mode its owner gave it, except that a file
replaced whole gets the mode of a new one. See docs/LOADING.md, "Files and permissions".
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: The mode of a file we write, by whether its folder is group-shared.
PRIVATE_FILE = 0o600
SHARED_FILE = 0o640
#: The umask while the store is open (its file, ``.wal`` and lock are made under it).
PRIVATE_UMASK = 0o077
SHARED_UMASK = 0o007


def is_group_shared(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` (or, if it does not exist yet, its nearest existing parent) is setgid.

    Examples
    --------
    >>> is_group_shared("/")
    False
    """
    path = Path(folder).absolute()
    for candidate in (path, *path.parents):
        try:
            return bool(candidate.stat().st_mode & stat.S_ISGID)
        except FileNotFoundError:
            continue
    return False


def file_mode(folder: str | os.PathLike[str]) -> int:
    """The mode of a file written whole into ``folder``: 0600, or 0640 when it is group-shared."""
    return SHARED_FILE if is_group_shared(folder) else PRIVATE_FILE


_umask_lock = threading.Lock()
_umask_users = 0
_umask_saved = 0


@contextlib.contextmanager
def private_umask(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Create files (and folders) in ``folder`` for the owner only while the block runs.

    For files made by a library that takes no mode (DuckDB's store and ``.wal``): the
    process's umask is ``077`` (``007`` in a group-shared folder) until the last block
    running in any thread ends, then restored.
    """
    global _umask_users, _umask_saved
    mask = SHARED_UMASK if is_group_shared(folder) else PRIVATE_UMASK
    with _umask_lock:
        if _umask_users == 0:
            _umask_saved = os.umask(mask)
        _umask_users += 1
    try:
        yield
    finally:
        with _umask_lock:
            _umask_users -= 1
            if _umask_users == 0:
                os.umask(_umask_saved)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", **kwargs: object) -> Iterator[IO[str]]:
    """Open a temporary file beside ``path``; on success flush, fsync and rename it into place.

    The file is created with :func:`file_mode` (owner only; group-readable in a group-shared
    folder) before a byte is written. On an exception the temporary file is removed and
    ``path`` is left as it was.
    """
    target = Path(path)
    with private_umask(target.parent):
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, file_mode(target.parent))
        with os.fdopen(fd, mode, **kwargs) as fh:  # type: ignore[call-overload]  # mode is str|bytes
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)  # type: ignore[arg-type]  # binary mode


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
