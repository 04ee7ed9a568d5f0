"""Criteria files: the one reader of the TOML or JSON files people keep their searches in.

A criteria file holds :class:`~writeoff_analytics.criteria.model.Criteria` fields, either at
top level or under a ``criteria`` table (the shape of a preset), with an optional standard
``reason`` and ``description`` beside them::

    # mine.toml                        # mine.json
    reason = "SMALL_BALANCE"           {"reason": "SMALL_BALANCE",
    [criteria]                          "criteria": {"balance_type": "PATIENT",
    balance_type = "PATIENT"                         "write_off_by": "PATIENT",
    write_off_by = "PATIENT"                         "max_balance": "10.00"}}
    max_balance = "10.00"

The suffix says the syntax (``.toml`` or ``.json``); every command that takes
``--criteria FILE`` reads it here, so a file one command accepts, every command accepts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from writeoff_analytics._toml import read_toml
from writeoff_analytics.criteria.model import Criteria
from writeoff_analytics.errors import CriteriaError, WriteoffError
from writeoff_analytics.reasons import Reason, parse_reason

#: The suffixes a criteria file may have, and the syntax each means.
SUFFIXES = {".toml": "TOML", ".json": "JSON"}
#: Keys a criteria file may hold beside the criteria fields.
EXTRA_KEYS = ("reason", "description")


@dataclass(frozen=True)
class CriteriaFile:
    """What a criteria file holds.

    Attributes
    ----------
    path
        The file read.
    criteria
        Its criteria.
    reason
        The standard reason it names, or ``None``.
    description
        Its words for people, or ``None``.
    """

    path: Path
    criteria: Criteria
    reason: Reason | None = None
    description: str | None = None


def read_criteria_file(path: str | os.PathLike[str], **overrides: Any) -> CriteriaFile:
    r"""Read a criteria file (TOML or JSON, fields at top level or under ``criteria``).

    Parameters
    ----------
    path
        A ``.toml`` or ``.json`` file.
    **overrides
        Criteria fields that replace the file's (``as_of``, ``patient_ids``, ...).

    Returns
    -------
    CriteriaFile
        The criteria, with the file's reason and description if it names them.

    Raises
    ------
    CriteriaError
        If the file is missing, unreadable, has another suffix, is not valid TOML/JSON, or
        its fields are refused; the message names the file.

    Examples
    --------
    >>> import shutil, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.toml").write_text('balance_type = "PATIENT"\nwrite_off_by = "PATIENT"\n')
    >>> _ = (folder / "b.json").write_text(
    ...     '{"criteria": {"balance_type": "PATIENT", "write_off_by": "PATIENT"}}')
    >>> read_criteria_file(folder / "a.toml").criteria == read_criteria_file(folder / "b.json").criteria
    True
    >>> read_criteria_file(folder / "a.yaml")
    Traceback (most recent call last):
    ...
    writeoff_analytics.errors.CriteriaError: Criteria refused: criteria file ... must end in .toml or .json (not .yaml).
    >>> shutil.rmtree(folder)
    """
    file = Path(path)
    data = _read(file)
    extras = {key: data.pop(key) for key in EXTRA_KEYS if key in data}
    inner = data.pop("criteria", None)
    if inner is not None:
        if not isinstance(inner, Mapping):
            _refuse(file, "'criteria' must be a table of criteria fields", field="criteria")
        if data:
            _refuse(
                file,
                f"unknown key(s) {', '.join(sorted(data))} beside the criteria table; "
                f"known: criteria, {', '.join(EXTRA_KEYS)}",
                field=sorted(data)[0],
            )
        data = dict(inner)
    try:
        criteria = Criteria.from_dict({**data, **overrides})
        reason = None if extras.get("reason") is None else parse_reason(str(extras["reason"]))
    except CriteriaError as exc:
        _refuse(file, exc.reason, field=exc.field)
    except WriteoffError as exc:  # an unknown reason
        _refuse(file, str(exc), field="reason")
    description = extras.get("description")
    return CriteriaFile(
        path=file,
        criteria=criteria,
        reason=reason,
        description=None if description is None else str(description),
    )


def read_criteria(path: str | os.PathLike[str], **overrides: Any) -> Criteria:
    """The criteria of a criteria file (see :func:`read_criteria_file`).

    Raises
    ------
    CriteriaError
        As :func:`read_criteria_file`.
    """
    return read_criteria_file(path, **overrides).criteria


def _read(file: Path) -> dict[str, Any]:
    syntax = SUFFIXES.get(file.suffix.lower())
    if syntax is None:
        _refuse(file, f"must end in .toml or .json (not {file.suffix or 'no suffix'})")
    if file.is_dir():
        _refuse(file, "is a folder; give a .toml or .json file")
    if syntax == "TOML":
        return read_toml(file, "criteria file", lambda msg: CriteriaError(msg, field="criteria"))
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        _refuse(file, f"cannot be read ({exc.strerror})")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        _refuse(file, f"not valid JSON ({exc})")
    if not isinstance(data, dict):
        _refuse(file, "must hold a JSON object of criteria fields")
    return data


def _refuse(file: Path, why: str, *, field: str | None = "criteria") -> NoReturn:
    msg = f"criteria file {file}: {why}" + ("" if why.endswith(".") else ".")
    raise CriteriaError(msg, field=field)
