"""The ``Criteria`` value: what a mass write-off search means (CRITERIA.md), checked on creation.

A :class:`Criteria` is frozen; it coerces what people type (strings, lists) into exact
types, and refuses contradictions with a :class:`~writeoff_analytics.errors.CriteriaError`
that says what to change. Both engines (``to_sql.py``, ``to_polars.py``) read the same
value, so a criterion has one meaning.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from writeoff_analytics.errors import CriteriaError
from writeoff_analytics.ledger.schema import FinancialClass
from writeoff_analytics.money import parse_money


class BalanceType(StrEnum):
    """The bucket written off."""

    PATIENT = "PATIENT"
    INSURANCE = "INSURANCE"


class WriteOffBy(StrEnum):
    """The level at which lines are grouped, shown, selected and measured by the balance range."""

    GUARANTOR = "GUARANTOR"
    PATIENT = "PATIENT"
    ENCOUNTER = "ENCOUNTER"
    PROCEDURE_LINE = "PROCEDURE_LINE"


class Responsibility(StrEnum):
    """Who owes a patient-side line (CRITERIA.md, "Responsibility")."""

    AFTER_INSURANCE = "AFTER_INSURANCE"
    SELF_PAY = "SELF_PAY"
    NOT_RESPONSIBLE = "NOT_RESPONSIBLE"
    AFTER_INSURANCE_PATIENT_RESPONSIBLE = "AFTER_INSURANCE_PATIENT_RESPONSIBLE"


class Role(StrEnum):
    """Role of the line's current insurance payer (INSURANCE only)."""

    ALL = "ALL"
    PRIMARY = "PRIMARY"
    SECONDARY = "SECONDARY"
    TERTIARY = "TERTIARY"

    @property
    def priority(self) -> int | None:
        """The coverage priority this role stands for (``None`` for ALL)."""
        return {Role.PRIMARY: 1, Role.SECONDARY: 2, Role.TERTIARY: 3}.get(self)


#: The class of a line with no payer (CRITERIA.md: "SELF_PAY means no billed payer").
SELF_PAY_CLASS = "SELF_PAY"
FINANCIAL_CLASSES = frozenset({*(c.value for c in FinancialClass), SELF_PAY_CLASS})

_WRITE_OFF_BY_FOR = {
    BalanceType.PATIENT: frozenset(WriteOffBy),
    BalanceType.INSURANCE: frozenset({WriteOffBy.ENCOUNTER, WriteOffBy.PROCEDURE_LINE}),
}

_SET_FIELDS = (
    "financial_classes",
    "payer_ids",
    "patient_ids",
    "encounter_ids",
    "provider_ids",
    "location_ids",
    "procedure_codes",
)
_INT_FIELDS = ("min_age_days", "max_age_days", "min_days_since_patient_payment")
_DATE_FIELDS = ("dos_from", "dos_to", "as_of")
_MONEY_FIELDS = ("min_balance", "max_balance")


@dataclass(frozen=True)
class Criteria:
    """A set of mass write-off filter criteria (CRITERIA.md, version 1).

    Every field but ``balance_type`` and ``write_off_by`` is optional; ``None`` means unset.
    Sets accept any iterable of strings (an empty one means unset); dates accept ISO text;
    money accepts text or ``Decimal`` (never float).

    Raises
    ------
    CriteriaError
        On a contradiction (``responsibility`` with INSURANCE, a role with PATIENT,
        GUARANTOR/PATIENT grouping with INSURANCE, ``dos_from > dos_to``, ``min_* > max_*``),
        negative money or ages, or an unknown value or financial class.

    Examples
    --------
    >>> c = Criteria("PATIENT", "ENCOUNTER", responsibility="NOT_RESPONSIBLE")
    >>> c.balance_type, c.write_off_by, c.responsibility
    (<BalanceType.PATIENT: 'PATIENT'>, <WriteOffBy.ENCOUNTER: 'ENCOUNTER'>, <Responsibility.NOT_RESPONSIBLE: 'NOT_RESPONSIBLE'>)
    >>> Criteria("INSURANCE", "PATIENT")
    Traceback (most recent call last):
    ...
    writeoff_analytics.errors.CriteriaError: Criteria refused: write_off_by PATIENT does not apply to INSURANCE balances; use ENCOUNTER or PROCEDURE_LINE.
    """

    balance_type: BalanceType
    write_off_by: WriteOffBy
    responsibility: Responsibility | None = None
    role: Role = Role.ALL
    financial_classes: frozenset[str] | None = None
    payer_ids: frozenset[str] | None = None
    dos_from: dt.date | None = None
    dos_to: dt.date | None = None
    min_age_days: int | None = None
    max_age_days: int | None = None
    min_days_since_patient_payment: int | None = None
    min_balance: Decimal | None = None
    max_balance: Decimal | None = None
    patient_ids: frozenset[str] | None = None
    encounter_ids: frozenset[str] | None = None
    provider_ids: frozenset[str] | None = None
    location_ids: frozenset[str] | None = None
    procedure_codes: frozenset[str] | None = None
    deceased: bool | None = None
    financial_hardship: bool | None = None
    as_of: dt.date | None = None
    #: The preset these criteria came from, if any (kept for receipts; not a filter).
    preset: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "balance_type", _enum(BalanceType, self.balance_type, "balance_type"))
        put(self, "write_off_by", _enum(WriteOffBy, self.write_off_by, "write_off_by"))
        if self.responsibility is not None:
            put(self, "responsibility", _enum(Responsibility, self.responsibility, "responsibility"))
        put(self, "role", _enum(Role, self.role if self.role is not None else Role.ALL, "role"))
        for name in _SET_FIELDS:
            put(self, name, _id_set(getattr(self, name), name))
        for name in _DATE_FIELDS:
            put(self, name, _date(getattr(self, name), name))
        for name in _INT_FIELDS:
            put(self, name, _non_negative_int(getattr(self, name), name))
        for name in _MONEY_FIELDS:
            put(self, name, _money(getattr(self, name), name))
        for name in ("deceased", "financial_hardship"):
            put(self, name, _flag(getattr(self, name), name))
        self._refuse_contradictions()

    def _refuse_contradictions(self) -> None:
        bt = self.balance_type
        if self.write_off_by not in _WRITE_OFF_BY_FOR[bt]:
            msg = (
                f"write_off_by {self.write_off_by} does not apply to {bt} balances; "
                "use ENCOUNTER or PROCEDURE_LINE."
            )
            raise CriteriaError(msg, field="write_off_by")
        if bt is BalanceType.INSURANCE and self.responsibility is not None:
            msg = (
                f"responsibility {self.responsibility} applies to PATIENT balances only; "
                "clear it or choose balance type PATIENT."
            )
            raise CriteriaError(msg, field="responsibility")
        if bt is BalanceType.PATIENT and self.role is not Role.ALL:
            msg = (
                f"role {self.role} applies to INSURANCE balances only; set role ALL or "
                "choose balance type INSURANCE."
            )
            raise CriteriaError(msg, field="role")
        if self.financial_classes and (bad := self.financial_classes - FINANCIAL_CLASSES):
            exc = CriteriaError.unknown(
                "financial class", bad, FINANCIAL_CLASSES, field="financial_classes"
            )
            raise exc
        pairs: tuple[tuple[str, str], ...] = (
            ("dos_from", "dos_to"),
            ("min_age_days", "max_age_days"),
            ("min_balance", "max_balance"),
        )
        for low_name, high_name in pairs:
            low, high = getattr(self, low_name), getattr(self, high_name)
            if low is not None and high is not None and low > high:
                msg = f"{low_name} {low} is after {high_name} {high}; swap or clear one."
                if low_name != "dos_from":
                    msg = f"{low_name} {low} is more than {high_name} {high}; swap or clear one."
                raise CriteriaError(msg, field=low_name)

    # -- building -------------------------------------------------------------------------

    def replace(self, **changes: Any) -> Criteria:
        """Return a copy with ``changes`` applied (checked again).

        Examples
        --------
        >>> Criteria("PATIENT", "PATIENT").replace(max_balance="10").max_balance
        Decimal('10.00')
        """
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Criteria:
        """Build criteria from a mapping (a TOML table, a receipt's JSON).

        Raises
        ------
        CriteriaError
            If a key is not a criteria field, or the values are refused.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        if unknown := sorted(set(data) - known):
            msg = f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}."
            raise CriteriaError(msg, field=unknown[0])
        for required in ("balance_type", "write_off_by"):
            if data.get(required) is None:
                msg = f"{required} is required."
                raise CriteriaError(msg, field=required)
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        """The set fields as JSON-ready values (sets sorted, dates ISO, money as text).

        Examples
        --------
        >>> Criteria("PATIENT", "PATIENT", max_balance="10", min_age_days=90).to_dict()
        {'balance_type': 'PATIENT', 'write_off_by': 'PATIENT', 'role': 'ALL', 'min_age_days': 90, 'max_balance': '10.00'}
        """
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, frozenset):
                value = sorted(value)
            elif isinstance(value, StrEnum):
                value = value.value
            elif isinstance(value, dt.date | Decimal):
                value = str(value)
            out[f.name] = value
        return out

    # -- reading --------------------------------------------------------------------------

    def resolved_as_of(self, today: dt.date | None = None) -> dt.date:
        """The aging date: ``as_of`` if set, else ``today`` (default: the local date)."""
        if self.as_of is not None:
            return self.as_of
        return today if today is not None else dt.date.today()

    def check_payers(self, known_payer_ids: Iterable[str]) -> None:
        """Refuse payer ids the ledger does not hold (CRITERIA.md: "an unknown payer id").

        Raises
        ------
        CriteriaError
            Naming the unknown ids and listing the known ones.
        """
        if self.payer_ids is None:
            return
        known = frozenset(known_payer_ids)
        if bad := self.payer_ids - known:
            exc = CriteriaError.unknown("payer id", bad, known, field="payer_ids")
            raise exc

    def describe(self) -> str:
        """The criteria in words, for reports and receipts.

        Examples
        --------
        >>> Criteria("PATIENT", "ENCOUNTER", responsibility="NOT_RESPONSIBLE").describe()
        'Patient balances, written off by encounter; responsibility: not responsible'
        """
        parts = [f"{_words(self.balance_type).capitalize()} balances, written off by "
                 f"{_words(self.write_off_by)}"]
        if self.responsibility is not None:
            parts.append(f"responsibility: {_words(self.responsibility)}")
        if self.balance_type is BalanceType.INSURANCE:
            parts.append(f"payer role: {_words(self.role)}")
        for name in _SET_FIELDS:
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name.replace('_', ' ')}: {', '.join(sorted(value))}")
        if self.dos_from is not None or self.dos_to is not None:
            parts.append(f"date of service {self.dos_from or '…'} to {self.dos_to or '…'}")
        if self.min_age_days is not None:
            parts.append(f"at least {self.min_age_days} days old")
        if self.max_age_days is not None:
            parts.append(f"at most {self.max_age_days} days old")
        if self.min_days_since_patient_payment is not None:
            parts.append(
                f"no patient payment in the last {self.min_days_since_patient_payment} days"
            )
        if self.min_balance is not None:
            parts.append(f"{_words(self.write_off_by)} balance at least {self.min_balance}")
        if self.max_balance is not None:
            parts.append(f"{_words(self.write_off_by)} balance at most {self.max_balance}")
        if self.deceased:
            parts.append("deceased patients only")
        if self.financial_hardship:
            parts.append("financial hardship on file only")
        if self.as_of is not None:
            parts.append(f"as of {self.as_of}")
        return "; ".join(parts)


def _words(value: StrEnum) -> str:
    return value.value.lower().replace("_", " ")


def _enum(kind: type[StrEnum], value: object, name: str) -> Any:
    if isinstance(value, kind):
        return value
    text = str(value).strip().upper().replace("-", "_").replace(" ", "_")
    try:
        return kind(text)
    except ValueError:
        exc = CriteriaError.unknown(
            name.replace("_", " "), [str(value)], [m.value for m in kind], field=name
        )
        raise exc from None


def _id_set(value: object, name: str) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        items: Iterable[object] = [value]
    elif isinstance(value, Iterable):
        items = value
    else:
        msg = f"{name} must be a list of ids, not {type(value).__name__}."
        raise CriteriaError(msg, field=name)
    out = frozenset(str(v).strip() for v in items if v is not None and str(v).strip())
    if name == "financial_classes":
        out = frozenset(v.upper() for v in out)
    return out or None


def _date(value: object, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        msg = f"{name} {value!r} is not a date; write YYYY-MM-DD."
        raise CriteriaError(msg, field=name) from None


def _non_negative_int(value: object, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or isinstance(value, float):
        msg = f"{name} must be a whole number of days, not {value!r}."
        raise CriteriaError(msg, field=name)
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        msg = f"{name} {value!r} is not a whole number of days."
        raise CriteriaError(msg, field=name) from None
    if number < 0:
        msg = f"{name} {number} is negative; ages and day counts are 0 or more."
        raise CriteriaError(msg, field=name)
    return number


def _money(value: object, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        msg = f"{name} must be text or a Decimal, not the float {value!r} (money is exact)."
        raise CriteriaError(msg, field=name)
    try:
        amount = parse_money(value)  # type: ignore[arg-type]  # str | Decimal | int checked by parse_money
    except (TypeError, ValueError) as exc:
        msg = f"{name} {value!r}: {exc}."
        raise CriteriaError(msg, field=name) from None
    if amount < 0:
        msg = f"{name} {amount} is negative; a balance range is 0.00 or more."
        raise CriteriaError(msg, field=name)
    return amount


def _flag(value: object, name: str) -> bool | None:
    if value is None or value is False:
        return None  # CRITERIA.md: "true / unset"
    if value is True:
        return True
    text = str(value).strip().lower()
    if text in {"true", "t", "1", "y", "yes"}:
        return True
    if text in {"false", "f", "0", "n", "no", ""}:
        return None
    msg = f"{name} {value!r} is not true or false."
    raise CriteriaError(msg, field=name)
