"""The criteria form of the mass write-off screen: one input per criteria field, both ways.

:func:`criteria_fields` builds the inputs; :func:`criteria_arguments` reads them as
``Criteria`` arguments (text stays text: ``Criteria`` checks and coerces it, and refuses
with a :class:`~writeoff_analytics.errors.CriteriaError`); :func:`field_values` shows a
``Criteria`` (a preset's) in them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from writeoff_analytics.criteria.model import (
    FINANCIAL_CLASSES,
    BalanceType,
    Responsibility,
    Role,
    WriteOffBy,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    import polars as pl

    from writeoff_analytics.criteria.model import Criteria

#: Words for one group at each level (singular, plural).
LEVEL_WORDS = {
    WriteOffBy.GUARANTOR: ("guarantor", "guarantors"),
    WriteOffBy.PATIENT: ("patient", "patients"),
    WriteOffBy.ENCOUNTER: ("encounter", "encounters"),
    WriteOffBy.PROCEDURE_LINE: ("line", "lines"),
}

_RESPONSIBILITY_LABELS = {
    Responsibility.NOT_RESPONSIBLE: "Not responsible only",
    Responsibility.SELF_PAY: "Self pay only",
    Responsibility.AFTER_INSURANCE: "After insurance (all)",
    Responsibility.AFTER_INSURANCE_PATIENT_RESPONSIBLE: "After insurance, patient responsible",
}
_TEXT = {"continuous_update": False}
_WIDE = {"description_width": "initial"}
#: Fields a preset leaves as they are when it does not set them (a patient's view keeps its
#: filter; the aging date stays).
_KEPT_WHEN_UNSET = ("patient_ids", "encounter_ids", "as_of")


def criteria_fields(payers: pl.DataFrame) -> dict[str, w.ValueWidget]:
    """One input per criteria field, by field name (``payers``: the ledger's payers table)."""
    payers = payers.sort("payer_id")
    short = {"layout": w.Layout(width="150px")}
    f: dict[str, w.ValueWidget] = {
        "balance_type": w.ToggleButtons(
            options=[("Patient", "PATIENT"), ("Insurance", "INSURANCE")],
            description="Balance type", style={"button_width": "90px"},
        ),
        "write_off_by": w.Dropdown(
            options=[(v[0].capitalize(), k.value) for k, v in LEVEL_WORDS.items()],
            value="ENCOUNTER", description="Write off by",
        ),
        "responsibility": w.Dropdown(
            options=[("All", "")] + [(v, k.value) for k, v in _RESPONSIBILITY_LABELS.items()],
            description="Responsibility", style=_WIDE,
        ),
        "role": w.Dropdown(options=[r.value.capitalize() for r in Role], description="Role"),
        "payer_ids": w.SelectMultiple(
            options=[(f"{r['payer_id']}  {r['payer_name'] or ''}", r["payer_id"])
                     for r in payers.to_dicts()],
            rows=4, description="Payers", layout=w.Layout(width="420px"),
        ),
        "financial_classes": w.SelectMultiple(
            options=sorted(FINANCIAL_CLASSES), rows=4, description="Fin. class"
        ),
        "dos_from": w.DatePicker(description="DOS from"),
        "dos_to": w.DatePicker(description="to"),
        "min_age_days": w.Text(description="Age ≥ days", **_TEXT, **short),
        "max_age_days": w.Text(description="Age ≤ days", **_TEXT, **short),
        "min_balance": w.Text(description="Balance ≥", **_TEXT, **short),
        "max_balance": w.Text(description="Balance ≤", **_TEXT, **short),
        "min_days_since_patient_payment": w.Text(
            description="No patient payment in", placeholder="days", style=_WIDE, **_TEXT,
            layout=w.Layout(width="220px"),
        ),
        "patient_ids": w.Text(description="Patient", placeholder="id(s)", **_TEXT),
        "encounter_ids": w.Text(description="Encounter", placeholder="id(s)", **_TEXT),
        "deceased": w.Checkbox(description="Deceased", indent=False),
        "financial_hardship": w.Checkbox(description="Hardship", indent=False),
        "as_of": w.DatePicker(description="As of"),
    }
    return f


def criteria_arguments(values: dict[str, Any], *, preset: str | None) -> dict[str, Any]:
    """The inputs' values (by field name) as ``Criteria`` arguments."""
    v = dict(values)
    insurance = v["balance_type"] == BalanceType.INSURANCE.value
    v["responsibility"] = None if insurance or not v["responsibility"] else v["responsibility"]
    v["role"] = v["role"].upper() if insurance else Role.ALL.value
    for name in ("patient_ids", "encounter_ids"):
        v[name] = [s for s in re.split(r"[\s,;]+", v[name]) if s]
    for name in ("payer_ids", "financial_classes"):
        v[name] = list(v[name])
    v["preset"] = preset
    return v


def field_values(criteria: Criteria, names: Iterable[str]) -> dict[str, Any]:
    """What the inputs ``names`` show for ``criteria`` (unset ids and aging date: left out)."""
    data = {f.name: getattr(criteria, f.name) for f in dataclasses.fields(criteria)}
    return {
        name: widget_value(name, data[name])
        for name in names
        if not (name in _KEPT_WHEN_UNSET and data[name] is None)
    }


def widget_value(name: str, value: Any) -> Any:
    """What field ``name`` shows for a criteria value (ids joined, a date as a date, ...)."""
    if name in ("payer_ids", "financial_classes"):
        return tuple(sorted(value or ()))
    if name in ("patient_ids", "encounter_ids"):
        return ", ".join(sorted(value or ()))
    if name in ("deceased", "financial_hardship"):
        return bool(value)
    if name in ("dos_from", "dos_to", "as_of"):
        return value if value is None or isinstance(value, dt.date) else dt.date.fromisoformat(value)
    if name == "responsibility":
        return str(value) if value else ""
    if name == "role":
        return (str(value) if value else Role.ALL.value).capitalize()
    if name in ("balance_type", "write_off_by"):
        return str(value)
    return "" if value is None else str(value)
