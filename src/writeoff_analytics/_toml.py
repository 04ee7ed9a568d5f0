"""Reading the TOML files users write (config, presets, criteria, export profiles).

One rule for all of them: a file that cannot be read or is not TOML raises the caller's
error class, naming what the file is, its path and the reason.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any


def read_toml(
    file: Path,
    what: str,
    error: Callable[[str], Exception],
    *,
    unreadable_hint: str = "",
) -> dict[str, Any]:
    """Return the table of TOML ``file``; raise ``error(message)`` if it cannot be used.

    Parameters
    ----------
    file
        The file.
    what
        What it is, for the message ("config file", "presets file", ...).
    error
        Builds the exception to raise from the message.
    unreadable_hint
        Added to the message when the file cannot be read (e.g. what to pass instead).

    Examples
    --------
    >>> read_toml(Path("/nonexistent.toml"), "config file", ValueError)
    Traceback (most recent call last):
    ...
    ValueError: config file /nonexistent.toml: cannot be read (No such file or directory).
    """
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"{what} {file}: cannot be read ({exc.strerror}){unreadable_hint}."
        raise error(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"{what} {file}: not valid TOML ({exc})."
        raise error(msg) from None
