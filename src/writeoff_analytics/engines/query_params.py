"""Criteria as the bound parameters of ``queries/select_candidate_lines.sql``.

The query text is fixed; every criterion travels as a bound value, and an unset one as
NULL, so user text never becomes SQL. The DuckDB and Spark engines bind the same values.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from writeoff_analytics.criteria.model import Criteria

_LIST_FIELDS = (
    "financial_classes",
    "payer_ids",
    "patient_ids",
    "encounter_ids",
    "provider_ids",
    "location_ids",
    "procedure_codes",
)


def sql_params(criteria: Criteria, as_of: dt.date) -> dict[str, Any]:
    """Return the query's parameters for ``criteria`` at the aging date ``as_of``.

    Examples
    --------
    >>> from writeoff_analytics.criteria.model import Criteria
    >>> p = sql_params(Criteria("PATIENT", "PATIENT", payer_ids=["B", "A"]), dt.date(2026, 11, 1))
    >>> p["payer_ids"], p["role_priority"], p["payment_cutoff"]
    (['A', 'B'], None, None)
    """
    params: dict[str, Any] = {
        "balance_type": criteria.balance_type.value,
        "write_off_by": criteria.write_off_by.value,
        "responsibility": criteria.responsibility.value if criteria.responsibility else None,
        "role_priority": criteria.role.priority,
        "dos_from": criteria.dos_from,
        "dos_to": criteria.dos_to,
        "min_age_days": criteria.min_age_days,
        "max_age_days": criteria.max_age_days,
        "payment_cutoff": (
            as_of - dt.timedelta(days=criteria.min_days_since_patient_payment)
            if criteria.min_days_since_patient_payment is not None
            else None
        ),
        "min_balance": criteria.min_balance,
        "max_balance": criteria.max_balance,
        "deceased": True if criteria.deceased else None,
        "financial_hardship": True if criteria.financial_hardship else None,
        "as_of": as_of,
    }
    for name in _LIST_FIELDS:
        value = getattr(criteria, name)
        params[name] = sorted(value) if value is not None else None
    return params
