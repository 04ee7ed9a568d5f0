"""Unpacking an extract's ``.zip``: names checked, sizes limited, before a byte is written.

One owner for every zip the toolkit reads (a practice's extract for ``load``, a
multi-practice extract for Spark). Every member is checked first, so a bad zip leaves
nothing behind:

- a name that is absolute, climbs out with ``..`` or is a link is refused;
- only members the caller wants (the known table files, in any case) are unpacked,
  anything else (a README, ``__MACOSX``) is skipped;
- the unpacked total may not pass :attr:`ZipLimits.max_unpacked_bytes` (default 16 GiB), nor
  any member's compression ratio :attr:`ZipLimits.max_ratio` (default 200: ledger CSV
  compresses 5-20x; a zip bomb 1,000x and more), nor the temporary folder's free space.

Python's :mod:`zipfile` never yields more than a member's declared size, so the declared
sizes checked here bound what is written.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from writeoff_analytics.errors import LedgerFormatError

if TYPE_CHECKING:
    from collections.abc import Sequence

#: ``want(parts)``: the relative path a member is unpacked to, or None to skip it.
#: ``parts`` are the member's name split on ``/`` (folders, then the file name).
Want = Callable[[tuple[str, ...]], "Path | None"]


@dataclass(frozen=True)
class ZipLimits:
    """How much a zip may unpack to."""

    max_unpacked_bytes: int = 16 * 2**30
    max_ratio: int = 200


def size_text(n: int) -> str:
    """Bytes for people, without float.

    Examples
    --------
    >>> size_text(1536), size_text(4 * 2**30), size_text(12)
    ('1.5 KiB', '4.0 GiB', '12 bytes')
    """
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            tenths = (n * 10 + scale // 2) // scale
            return f"{tenths // 10}.{tenths % 10} {unit}"
    return f"{n} bytes"


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip, or raise a one-line :class:`LedgerFormatError` naming it."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        msg = f"cannot be read as a zip ({exc})"
        raise LedgerFormatError(msg, file=str(path)) from exc


def plan(
    archive: zipfile.ZipFile, path: Path, want: Want
) -> list[tuple[zipfile.ZipInfo, Path]]:
    """Check every member's name; return the wanted ones with their relative targets.

    Raises
    ------
    LedgerFormatError
        On an absolute name, a ``..``, a link, or two members unpacking to one file.
    """
    chosen: dict[str, tuple[zipfile.ZipInfo, Path]] = {}
    for member in archive.infolist():
        name = member.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or (len(parts[0]) == 2 and parts[0][1] == ":"):
            msg = f"member {name} has an absolute path; a zip holds relative names only"
            raise LedgerFormatError(msg, file=str(path))
        if ".." in parts:
            msg = f"member {name} climbs out of the extract with '..'; refused"
            raise LedgerFormatError(msg, file=str(path))
        if stat.S_ISLNK(member.external_attr >> 16):
            msg = f"member {name} is a link; a zip holds table files only"
            raise LedgerFormatError(msg, file=str(path))
        if member.is_dir() or parts[0] == "__MACOSX":
            continue
        target = want(tuple(p for p in parts if p))
        if target is None:
            continue
        key = target.as_posix().lower()
        if key in chosen:
            msg = f"holds {target.as_posix()} twice ({chosen[key][0].filename}, {name}); keep one extract per zip"
            raise LedgerFormatError(msg, file=str(path))
        chosen[key] = (member, target)
    return sorted(chosen.values(), key=lambda mt: mt[1].as_posix())


def check_sizes(
    members: Sequence[tuple[zipfile.ZipInfo, Path]], path: Path, root: Path, limits: ZipLimits
) -> None:
    """Refuse a zip whose wanted members would unpack past the limits or the free space."""
    total = 0
    for member, _ in members:
        total += member.file_size
        packed = max(member.compress_size, 1)
        if member.file_size > 2**20 and member.file_size > packed * limits.max_ratio:
            msg = (
                f"member {member.filename} unpacks {size_text(member.file_size)} from "
                f"{size_text(member.compress_size)} (over {limits.max_ratio}:1); refused as a "
                "zip bomb: unpack it yourself and load the folder if it is real"
            )
            raise LedgerFormatError(msg, file=str(path))
    if total > limits.max_unpacked_bytes:
        msg = (
            f"unpacks to {size_text(total)}, over the {size_text(limits.max_unpacked_bytes)} "
            "a zip may hold; unpack it yourself and load the folder"
        )
        raise LedgerFormatError(msg, file=str(path))
    free = shutil.disk_usage(root).free
    if total > free:
        msg = (
            f"unpacks to {size_text(total)} but {root.parent} has {size_text(free)} free; "
            "unpack it where there is room (or set TMPDIR)"
        )
        raise LedgerFormatError(msg, file=str(path))


def unpack(
    archive: zipfile.ZipFile,
    path: Path,
    root: Path,
    want: Want,
    *,
    limits: ZipLimits | None = None,
) -> list[Path]:
    """Unpack the wanted members of ``archive`` under ``root``; return the files written.

    Raises
    ------
    LedgerFormatError
        On a bad name, a size over the limits, or a member that cannot be read.
    """
    members = plan(archive, path, want)
    check_sizes(members, path, root, limits or ZipLimits())
    return write(archive, members, path, root)


def write(
    archive: zipfile.ZipFile, members: Sequence[tuple[zipfile.ZipInfo, Path]], path: Path, root: Path
) -> list[Path]:
    """Write planned (and size-checked) members under ``root``; return the files written."""
    written: list[Path] = []
    for member, target in members:
        out = root / target
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            with archive.open(member) as src, out.open("wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            msg = f"member {member.filename} cannot be read ({exc})"
            raise LedgerFormatError(msg, file=str(path)) from exc
        written.append(out)
    return written
