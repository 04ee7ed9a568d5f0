"""The ledger extract contract of LEDGER_FORMAT.md, version 1, as data.

Loader, validator, demo generator and mapping profiles all read this one description.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

FORMAT_VERSION = 1


class ColumnType(StrEnum):
    """The value types of the contract."""

    ID = "id"
    STRING = "string"
    DATE = "date"
    MONEY = "money"
    BOOL = "bool"
    INTEGER = "integer"
    ENUM = "enum"


class FinancialClass(StrEnum):
    """Payer financial classes (payers.financial_class)."""

    MEDICARE = "MEDICARE"
    MEDICARE_ADVANTAGE = "MEDICARE_ADVANTAGE"
    MEDICAID = "MEDICAID"
    MEDICAID_MANAGED_CARE = "MEDICAID_MANAGED_CARE"
    COMMERCIAL = "COMMERCIAL"
    TRICARE = "TRICARE"
    WORKERS_COMP = "WORKERS_COMP"
    AUTO = "AUTO"
    OTHER = "OTHER"


class TransactionType(StrEnum):
    """transactions.type."""

    INSURANCE_PAYMENT = "INSURANCE_PAYMENT"
    INSURANCE_ADJUSTMENT = "INSURANCE_ADJUSTMENT"
    TRANSFER = "TRANSFER"
    PATIENT_PAYMENT = "PATIENT_PAYMENT"
    PATIENT_ADJUSTMENT = "PATIENT_ADJUSTMENT"
    REFUND = "REFUND"


class Bucket(StrEnum):
    """transactions.responsibility: the balance bucket a row changes."""

    INSURANCE = "INSURANCE"
    PATIENT = "PATIENT"


#: DuckDB type of each contract type.
SQL_TYPES: dict[ColumnType, str] = {
    ColumnType.ID: "VARCHAR",
    ColumnType.STRING: "VARCHAR",
    ColumnType.DATE: "DATE",
    ColumnType.MONEY: "DECIMAL(18,2)",
    ColumnType.BOOL: "BOOLEAN",
    ColumnType.INTEGER: "INTEGER",
    ColumnType.ENUM: "VARCHAR",
}

TRUE_WORDS = frozenset({"true", "t", "1", "y"})
FALSE_WORDS = frozenset({"false", "f", "0", "n"})


@dataclass(frozen=True)
class Column:
    """One column of a table in the contract."""

    name: str
    type: ColumnType
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] = ()
    #: ``(table, column)`` this column references, if any.
    references: tuple[str, str] | None = None
    #: smallest allowed value for integers and money (``None`` = any)
    minimum: int | None = None
    maximum: int | None = None
    phi: bool = False


@dataclass(frozen=True)
class Table:
    """One table of the contract."""

    name: str
    columns: tuple[Column, ...]

    @property
    def key(self) -> str | None:
        """The unique id column, if the table has one."""
        return next((c.name for c in self.columns if c.unique), None)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        return next(c for c in self.columns if c.name == name)


def _enum(values: type[StrEnum]) -> tuple[str, ...]:
    return tuple(v.value for v in values)


C = Column
T = ColumnType

PAYERS = Table(
    "payers",
    (
        C("payer_id", T.ID, required=True, unique=True),
        C("payer_name", T.STRING, required=True),
        C("financial_class", T.ENUM, required=True, enum=_enum(FinancialClass)),
        C("balance_bill_patient", T.BOOL, required=True),
    ),
)
PATIENTS = Table(
    "patients",
    (
        C("patient_id", T.ID, required=True, unique=True),
        C("guarantor_id", T.ID),
        C("last_name", T.STRING, phi=True),
        C("first_name", T.STRING, phi=True),
        C("date_of_birth", T.DATE, phi=True),
        C("deceased_date", T.DATE),
        C("financial_hardship", T.BOOL),
    ),
)
COVERAGES = Table(
    "coverages",
    (
        C("patient_id", T.ID, required=True, references=("patients", "patient_id")),
        C("payer_id", T.ID, required=True, references=("payers", "payer_id")),
        C("priority", T.INTEGER, required=True, minimum=1, maximum=9),
        C("effective_from", T.DATE, required=True),
        C("effective_to", T.DATE),
        C("member_id", T.STRING),
        C("qmb", T.BOOL),
        C("patient_responsible", T.BOOL),
    ),
)
ENCOUNTERS = Table(
    "encounters",
    (
        C("encounter_id", T.ID, required=True, unique=True),
        C("patient_id", T.ID, required=True, references=("patients", "patient_id")),
        C("date_of_service", T.DATE, required=True),
        C("provider_id", T.ID),
        C("location_id", T.ID),
    ),
)
CHARGES = Table(
    "charges",
    (
        C("charge_id", T.ID, required=True, unique=True),
        C("encounter_id", T.ID, required=True, references=("encounters", "encounter_id")),
        C("procedure_code", T.STRING, required=True),
        C("units", T.INTEGER, minimum=1),
        C("charge_amount", T.MONEY, required=True, minimum=0),
        C("billed_payer_id", T.ID, references=("payers", "payer_id")),
        C("posted_date", T.DATE, required=True),
    ),
)
TRANSACTIONS = Table(
    "transactions",
    (
        C("transaction_id", T.ID, required=True, unique=True),
        C("charge_id", T.ID, required=True, references=("charges", "charge_id")),
        C("posted_date", T.DATE, required=True),
        C("type", T.ENUM, required=True, enum=_enum(TransactionType)),
        C("responsibility", T.ENUM, required=True, enum=_enum(Bucket)),
        C("payer_id", T.ID, references=("payers", "payer_id")),
        C("amount", T.MONEY, required=True),
        C("group_code", T.STRING),
        C("reason_code", T.STRING),
        C("reference", T.STRING),
        # Extension (issue 8, docs/DESIGN.md): the X12 remark codes (RARCs) of the 835 line
        # a row came from, comma separated; N781/N782/N783 mark the patient not responsible.
        C("remark_codes", T.STRING),
    ),
)

#: The six tables, in load order (a table's references come before it).
TABLES: tuple[Table, ...] = (PAYERS, PATIENTS, COVERAGES, ENCOUNTERS, CHARGES, TRANSACTIONS)
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
