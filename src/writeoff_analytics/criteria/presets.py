"""Named criteria sets: the shipped presets (``presets.toml``) and the ones users add.

A preset is a name, a :class:`~writeoff_analytics.criteria.model.Criteria`, and the
standard reason that goes with it. Users keep their own in a TOML file of the same shape.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from writeoff_analytics._toml import read_toml
from writeoff_analytics.criteria.model import Criteria
from writeoff_analytics.errors import CriteriaError
from writeoff_analytics.reasons import Reason

#: A user presets file named here is read too (same shape as the shipped file).
PRESETS_ENV = "WRITEOFF_PRESETS"


@dataclass(frozen=True)
class Preset:
    """A named criteria set with the standard reason that goes with it."""

    name: str
    criteria: Criteria
    reason: Reason
    description: str
    source: str


def shipped_presets_text() -> str:
    """The text of the presets file that ships inside the package."""
    return (resources.files("writeoff_analytics.criteria") / "presets.toml").read_text("utf-8")


def load_presets(path: str | os.PathLike[str] | None = None) -> dict[str, Preset]:
    """Return every preset: the shipped ones, then a user file's (``path`` or ``$WRITEOFF_PRESETS``).

    Raises
    ------
    CriteriaError
        If a file is not valid TOML, a preset is malformed, or a user preset redefines a
        shipped name.

    Examples
    --------
    >>> sorted(load_presets())
    ['bad-debt', 'deceased', 'hardship', 'no-balance-billing', 'small-balance', 'timely-filing']
    """
    presets = _parse(tomllib.loads(shipped_presets_text()), "presets.toml (shipped)")
    user = path if path is not None else os.environ.get(PRESETS_ENV) or None
    if user is not None:
        file = Path(user)
        data = read_toml(file, "presets file", lambda msg: CriteriaError(msg, field="preset"))
        for name, preset in _parse(data, str(file)).items():
            if name in presets:
                msg = f"presets file {file}: {name!r} is a shipped preset; choose another name."
                raise CriteriaError(msg, field="preset")
            presets[name] = preset
    return presets


def get_preset(name: str, path: str | os.PathLike[str] | None = None) -> Preset:
    """Return the preset called ``name``.

    Raises
    ------
    CriteriaError
        If there is no such preset (the message lists the known names).

    Examples
    --------
    >>> get_preset("small-balance").criteria.max_balance
    Decimal('10.00')
    """
    presets = load_presets(path)
    if name not in presets:
        exc = CriteriaError.unknown("preset", [name], presets, field="preset")
        raise exc
    return presets[name]


def criteria_from_preset(
    name: str, *, presets_file: str | os.PathLike[str] | None = None, **overrides: Any
) -> Criteria:
    """The criteria of preset ``name``, with ``overrides`` (e.g. ``as_of``, ``patient_ids``).

    Examples
    --------
    >>> criteria_from_preset("deceased", as_of="2026-11-01").as_of
    datetime.date(2026, 11, 1)
    """
    return get_preset(name, presets_file).criteria.replace(**overrides)


def _parse(data: Mapping[str, Any], source: str) -> dict[str, Preset]:
    out: dict[str, Preset] = {}
    for name, body in data.items():
        if not isinstance(body, Mapping) or not isinstance(body.get("criteria"), Mapping):
            msg = f"{source}: preset {name!r} needs a [{name}.criteria] table."
            raise CriteriaError(msg, field="preset")
        fields = dict(body["criteria"])
        if "as_of" in fields:
            msg = f"{source}: preset {name!r} sets as_of; the aging date is chosen at search time."
            raise CriteriaError(msg, field="as_of")
        reason_text = str(body.get("reason", "CUSTOM"))
        try:
            reason = Reason(reason_text)
        except ValueError:
            unknown = CriteriaError.unknown(
                "reason", [reason_text], [r.value for r in Reason], field="reason"
            )
            msg = f"{source}: preset {name!r}: {unknown.reason}"
            raise CriteriaError(msg, field="reason") from None
        try:
            criteria = Criteria.from_dict({**fields, "preset": name})
        except CriteriaError as exc:
            msg = f"{source}: preset {name!r}: {exc.reason}"
            raise CriteriaError(msg, field=exc.field) from None
        out[name] = Preset(
            name=name,
            criteria=criteria,
            reason=reason,
            description=str(body.get("description", "")),
            source=source,
        )
    return out
