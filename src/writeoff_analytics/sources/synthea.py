"""Synthea CSV exports mapped onto the ledger contract.

Synthea (the synthetic-patient generator) writes ``patients``, ``encounters``, ``claims``,
``claims_transactions``, ``payers`` and ``payer_transitions`` (among others). This module
maps them onto our six tables:

- **payers**: financial class from the payer's name (``Medicare`` -> MEDICARE, ``Medicaid``
  and ``Dual Eligible`` -> MEDICAID, any other -> COMMERCIAL); Medicaid payers do not
  balance bill. ``NO_INSURANCE`` is not a payer: its charges are self-pay (no
  ``billed_payer_id``) and its payer transitions are no coverage.
- **coverages** from ``payer_transitions`` (``PAYER`` priority 1, ``SECONDARY_PAYER``
  priority 2), in either layout: ``START_YEAR``/``END_YEAR`` (v3.0.0 and earlier; a plain
  year covers that whole year) or ``START_DATE``/``END_DATE`` (later versions). A period
  ends when the next one starts (Synthea's end timestamp is the next start), so
  ``effective_to`` is the day before the end date.
- **charges**: each ``CHARGE`` row of ``claims_transactions`` (``charge_id`` = its ``ID``),
  on the claim's encounter (``claims.APPOINTMENTID``), billed to the claim's primary
  (``TRANSFERTYPE`` 1) or secondary (2) payer, or to the patient (p); SNOMED procedure codes
  kept as strings; the claim id kept as the extra column ``claim_id``.
- **transactions**: every later row of the same claim belongs to the charge before it
  (``CHARGEID`` orders a claim's rows). ``PAYMENT`` is an insurance payment while a payer
  holds the balance, a patient payment once it was transferred to the patient; a ``COPAY``
  is the patient's, so the copay is first moved from the insurance to the patient bucket
  (a ``TRANSFER`` pair, group PR reason 3, ids ``<ID>:copay-out`` / ``<ID>:copay-in``; at most
  what the insurance bucket holds, so a copay larger than the charge leaves a patient
  credit, as Synthea's own figures do). ``ADJUSTMENT`` adjusts the holder's bucket;
  ``TRANSFEROUT``/``TRANSFERIN`` become a ``TRANSFER`` pair with one reference.

Timestamps become their (UTC) dates; money is parsed exactly as written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from writeoff_analytics.errors import LedgerFormatError, RowProblem
from writeoff_analytics.ledger.schema import (
    TABLES_BY_NAME,
    Bucket,
    FinancialClass,
    TransactionType,
)
from writeoff_analytics.ledger.snapshot import (
    FileRecord,
    ImportReport,
    polars_schema,
    replace_snapshot,
)
from writeoff_analytics.money import ZERO, parse_money
from writeoff_analytics.writeoffs.audit import AuditAction
from writeoff_analytics.writeoffs.permissions import Config, Permission, require_permission

if TYPE_CHECKING:
    from writeoff_analytics.ledger.store import Ledger

__all__ = [
    "SyntheaExtract",
    "SyntheaLoadReport",
    "financial_class_of",
    "load_synthea",
    "read_synthea",
]

NO_INSURANCE = "NO_INSURANCE"
_FILES = ("patients", "encounters", "claims", "claims_transactions", "payers", "payer_transitions")
_REQUIRED: dict[str, tuple[str, ...]] = {
    "patients": ("Id",),
    "encounters": ("Id", "START", "PATIENT"),
    "claims": ("Id", "PATIENTID", "PRIMARYPATIENTINSURANCEID", "APPOINTMENTID"),
    "claims_transactions": ("ID", "CLAIMID", "CHARGEID", "TYPE", "FROMDATE", "PROCEDURECODE"),
    "payers": ("Id", "NAME"),
    "payer_transitions": ("PATIENT", "PAYER"),
}
_LAYOUTS = (("START_YEAR", "END_YEAR"), ("START_DATE", "END_DATE"))


@dataclass(frozen=True)
class SyntheaExtract:
    """A Synthea export mapped onto the six tables, with what was left out and why."""

    folder: str
    frames: dict[str, pl.DataFrame]
    files: tuple[FileRecord, ...]
    problems: tuple[RowProblem, ...]
    #: ids of the claims_transactions PAYMENT rows set aside (see ``read_synthea``).
    set_aside: tuple[str, ...] = ()
    #: ``(claim id, balance)`` of claims whose payments exceed their charges in the export.
    overpaid_claims: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True)
class SyntheaLoadReport:
    """What :func:`load_synthea` did."""

    import_report: ImportReport
    extract: SyntheaExtract


def financial_class_of(payer_name: str) -> FinancialClass | None:
    """Map a Synthea payer name to a financial class; ``None`` for ``NO_INSURANCE`` (self-pay).

    Examples
    --------
    >>> financial_class_of("Medicaid").value
    'MEDICAID'
    >>> financial_class_of("Blue Cross Blue Shield").value
    'COMMERCIAL'
    >>> financial_class_of("NO_INSURANCE") is None
    True
    """
    name = payer_name.strip().upper()
    if name == NO_INSURANCE:
        return None
    if name == "MEDICARE":
        return FinancialClass.MEDICARE
    if name in ("MEDICAID", "DUAL ELIGIBLE"):
        return FinancialClass.MEDICAID
    return FinancialClass.COMMERCIAL


def _date(text: str | None) -> dt.date | None:
    if text is None or not text.strip():
        return None
    return dt.date.fromisoformat(text.strip()[:10])


@dataclass
class _Reader:
    folder: Path
    problems: list[RowProblem] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)

    def read(self, name: str) -> pl.DataFrame:
        path = self.folder / f"{name}.csv"
        if not path.is_file():
            msg = f"the Synthea export has no {name}.csv; export CSV with Synthea's default files"
            raise LedgerFormatError(msg, file=str(path))
        data = path.read_bytes()
        frame = pl.read_csv(data, infer_schema=False, encoding="utf8-lossy")
        frame = frame.with_row_index("_row", offset=2)  # the header is row 1
        required = _REQUIRED[name]
        missing = [c for c in required if c not in frame.columns]
        if missing:
            msg = f"required column(s) {', '.join(missing)} missing"
            raise LedgerFormatError(msg, file=str(path), column=missing[0])
        self.files.append(
            FileRecord(name, str(path), hashlib.sha256(data).hexdigest(), frame.height, 0)
        )
        return frame

    def problem(
        self,
        table: str,
        file: str,
        row: int | None,
        column: str | None,
        value: str | None,
        reason: str,
    ) -> None:
        self.problems.append(
            RowProblem(table, str(self.folder / f"{file}.csv"), row, column, value, reason)
        )

    def money(self, row: dict[str, Any], column: str, file: str) -> Decimal | None:
        raw = row.get(column)
        try:
            return parse_money(raw if raw is not None else "")
        except ValueError as exc:
            self.problem("transactions", file, row["_row"], column, raw, str(exc))
            return None


def read_synthea(
    folder: str | Path, *, set_aside_final_patient_payments: bool = False
) -> SyntheaExtract:
    """Read a Synthea CSV export into the contract's six tables.

    Parameters
    ----------
    folder
        The folder holding ``patients.csv``, ``encounters.csv``, ``claims.csv``,
        ``claims_transactions.csv``, ``payers.csv`` and ``payer_transitions.csv``.
    set_aside_final_patient_payments
        Leave out the patient payments made after a charge's balance was transferred to the
        patient (``PAYMENT`` rows other than ``COPAY`` while the patient holds the balance).
        Every claim of a Synthea export ends paid; setting these aside shows the patient
        balances as they stood before the patient paid: the write-off candidates (for a
        Medicaid claim, the "payer prohibits balance billing" case).

    Returns
    -------
    SyntheaExtract
        Typed frames for ``replace_snapshot``, the files read, and every row left out with
        its file, row number and reason.

    Raises
    ------
    LedgerFormatError
        If a file or a required column is missing, or ``payer_transitions`` has neither
        the ``START_YEAR``/``END_YEAR`` nor the ``START_DATE``/``END_DATE`` columns.
    """
    r = _Reader(Path(folder))
    raw = {name: r.read(name) for name in _FILES}
    payers, no_insurance = _payers(raw["payers"])
    coverages = _coverages(r, raw["payer_transitions"], set(payers["payer_id"]), no_insurance)
    patients = pl.DataFrame(
        [
            {
                "patient_id": p["Id"],
                "last_name": p.get("LAST"),
                "first_name": p.get("FIRST"),
                "date_of_birth": _date(p.get("BIRTHDATE")),
                "deceased_date": _date(p.get("DEATHDATE")),
            }
            for p in raw["patients"].iter_rows(named=True)
        ],
        schema={
            k: v
            for k, v in polars_schema(TABLES_BY_NAME["patients"]).items()
            if k in ("patient_id", "last_name", "first_name", "date_of_birth", "deceased_date")
        },
    )
    encounters = pl.DataFrame(
        [
            {
                "encounter_id": e["Id"],
                "patient_id": e["PATIENT"],
                "date_of_service": _date(e["START"]),
                "provider_id": e.get("PROVIDER") or None,
                "location_id": e.get("ORGANIZATION") or None,
            }
            for e in raw["encounters"].iter_rows(named=True)
        ],
        schema=polars_schema(TABLES_BY_NAME["encounters"]),
    )
    charges, transactions, set_aside, overpaid = _claims(
        r,
        raw["claims"],
        raw["claims_transactions"],
        set(encounters["encounter_id"]),
        set(payers["payer_id"]),
        no_insurance,
        set_aside_final_patient_payments,
    )
    frames = {
        "payers": payers,
        "patients": patients,
        "coverages": coverages,
        "encounters": encounters,
        "charges": charges,
        "transactions": transactions,
    }
    return SyntheaExtract(
        folder=str(folder),
        frames=frames,
        files=tuple(r.files),
        problems=tuple(r.problems),
        set_aside=tuple(set_aside),
        overpaid_claims=tuple(overpaid),
    )


def _payers(raw: pl.DataFrame) -> tuple[pl.DataFrame, set[str]]:
    rows = []
    no_insurance = set()
    for p in raw.iter_rows(named=True):
        fc = financial_class_of(p["NAME"] or "")
        if fc is None:
            no_insurance.add(p["Id"])
            continue
        rows.append(
            {
                "payer_id": p["Id"],
                "payer_name": p["NAME"],
                "financial_class": fc.value,
                # LEDGER_FORMAT.md: most Medicaid products forbid billing the patient
                "balance_bill_patient": fc is not FinancialClass.MEDICAID,
            }
        )
    return pl.DataFrame(rows, schema=polars_schema(TABLES_BY_NAME["payers"])), no_insurance


def _period(start: str | None, end: str | None) -> tuple[dt.date | None, dt.date | None]:
    s = (start or "").strip()
    e = (end or "").strip()
    if s.isdigit() and len(s) == 4:  # a plain year covers the whole year
        year_end = dt.date(int(e), 12, 31) if e.isdigit() and len(e) == 4 else _date(e)
        return dt.date(int(s), 1, 1), year_end
    start_date = _date(s)
    end_date = _date(e)
    if end_date is not None and start_date is not None and end_date > start_date:
        end_date -= dt.timedelta(days=1)  # the next period starts on the end date
    return start_date, end_date


def _coverages(
    r: _Reader, raw: pl.DataFrame, payer_ids: set[str], no_insurance: set[str]
) -> pl.DataFrame:
    layout = next((cols for cols in _LAYOUTS if all(c in raw.columns for c in cols)), None)
    if layout is None:
        msg = (
            "payer_transitions needs START_YEAR and END_YEAR (Synthea v3.0.0) or START_DATE "
            f"and END_DATE (later versions); it has {', '.join(raw.columns[1:])}"
        )
        raise LedgerFormatError(msg, file=str(r.folder / "payer_transitions.csv"))
    start_col, end_col = layout
    rows = []
    for t in raw.iter_rows(named=True):
        try:
            start, end = _period(t[start_col], t[end_col])
        except ValueError:
            r.problem(
                "coverages",
                "payer_transitions",
                t["_row"],
                start_col,
                f"{t[start_col]} / {t[end_col]}",
                "not a date, timestamp or year",
            )
            continue
        if start is None:
            r.problem(
                "coverages",
                "payer_transitions",
                t["_row"],
                start_col,
                t[start_col],
                "empty start; a coverage needs one",
            )
            continue
        for priority, column in ((1, "PAYER"), (2, "SECONDARY_PAYER")):
            payer = (t.get(column) or "").strip()
            if not payer or payer in no_insurance:
                continue
            if payer not in payer_ids:
                r.problem(
                    "coverages",
                    "payer_transitions",
                    t["_row"],
                    column,
                    payer,
                    "not a payer of payers.csv",
                )
                continue
            rows.append(
                {
                    "patient_id": t["PATIENT"],
                    "payer_id": payer,
                    "priority": priority,
                    "effective_from": start,
                    "effective_to": end,
                    "member_id": t.get("MEMBERID") or None,
                }
            )
    schema = {
        k: v
        for k, v in polars_schema(TABLES_BY_NAME["coverages"]).items()
        if k
        in ("patient_id", "payer_id", "priority", "effective_from", "effective_to", "member_id")
    }
    return pl.DataFrame(rows, schema=schema)


@dataclass
class _Line:
    charge_id: str
    holder: str | None  # payer id holding the balance; None = the patient
    insurance: Decimal
    patient: Decimal


def _claims(
    r: _Reader,
    claims: pl.DataFrame,
    ct: pl.DataFrame,
    encounter_ids: set[str],
    payer_ids: set[str],
    no_insurance: set[str],
    set_aside_final: bool,
) -> tuple[pl.DataFrame, pl.DataFrame, list[str], list[tuple[str, Decimal]]]:
    def payer_of(value: str | None) -> str | None:
        v = (value or "").strip()
        if not v or v == "0" or v in no_insurance:
            return None
        return v if v in payer_ids else None

    claim_info = {c["Id"]: c for c in claims.iter_rows(named=True)}
    charges: list[dict[str, Any]] = []
    tx: list[dict[str, Any]] = []
    set_aside: list[str] = []
    overpaid: list[tuple[str, Decimal]] = []
    ordered = ct.with_columns(pl.col("CHARGEID").cast(pl.Int64, strict=False).alias("_seq")).sort(
        ["CLAIMID", "_seq", "_row"]
    )
    for (claim_id,), rows in ordered.group_by(["CLAIMID"], maintain_order=True):
        info = claim_info.get(str(claim_id))
        if info is None or (info.get("APPOINTMENTID") or "") not in encounter_ids:
            reason = (
                f"claim {claim_id} is not in claims.csv"
                if info is None
                else f"claim {claim_id}'s encounter {info.get('APPOINTMENTID')!r} is not in "
                "encounters.csv"
            )
            for row in rows.iter_rows(named=True):
                r.problem(
                    "charges",
                    "claims_transactions",
                    row["_row"],
                    "CLAIMID",
                    str(claim_id),
                    reason + "; its rows are left out",
                )
            continue
        payers = {
            "1": payer_of(info.get("PRIMARYPATIENTINSURANCEID")),
            "2": payer_of(info.get("SECONDARYPATIENTINSURANCEID")),
            "p": None,
        }
        line: _Line | None = None
        lines: list[_Line] = []
        for row in rows.iter_rows(named=True):
            kind = row["TYPE"]
            posted = _date(row["FROMDATE"])
            tid = row["ID"]
            if kind == "CHARGE":
                amount = r.money(row, "AMOUNT", "claims_transactions")
                if amount is None:
                    line = None
                    continue
                target = (row.get("TRANSFERTYPE") or "p").strip()
                holder = payers.get(target)
                line = _Line(tid, holder, amount if holder else ZERO, ZERO if holder else amount)
                lines.append(line)
                units = row.get("UNITS")
                charges.append(
                    {
                        "charge_id": tid,
                        "encounter_id": info["APPOINTMENTID"],
                        "procedure_code": str(row["PROCEDURECODE"]),
                        "units": int(Decimal(units)) if units and Decimal(units) >= 1 else None,
                        "charge_amount": amount,
                        "billed_payer_id": holder,
                        "posted_date": posted,
                        "claim_id": str(claim_id),
                    }
                )
                continue
            if line is None:
                r.problem(
                    "transactions",
                    "claims_transactions",
                    row["_row"],
                    "TYPE",
                    kind,
                    "no readable CHARGE row before it in its claim; left out",
                )
                continue
            base = {"charge_id": line.charge_id, "posted_date": posted}
            if kind == "PAYMENT":
                amount = r.money(row, "PAYMENTS", "claims_transactions")
                if amount is None:
                    continue
                copay = (row.get("METHOD") or "").upper() == "COPAY"
                if line.holder is None and not copay and set_aside_final:
                    set_aside.append(tid)
                    continue
                if line.holder is not None and not copay:
                    tx.append(
                        {
                            **base,
                            "transaction_id": tid,
                            "type": "INSURANCE_PAYMENT",
                            "responsibility": "INSURANCE",
                            "payer_id": line.holder,
                            "amount": -amount,
                            "reference": tid,
                        }
                    )
                    line.insurance -= amount
                    continue
                if line.holder is not None:  # a copay: the patient's share of a payer's line
                    moved = min(amount, max(line.insurance, ZERO))
                    if moved > 0:
                        ref = f"{tid}:copay"
                        tx.append(
                            {
                                **base,
                                "transaction_id": f"{tid}:copay-out",
                                "type": "TRANSFER",
                                "responsibility": "INSURANCE",
                                "payer_id": line.holder,
                                "amount": -moved,
                                "group_code": "PR",
                                "reason_code": "3",
                                "reference": ref,
                            }
                        )
                        tx.append(
                            {
                                **base,
                                "transaction_id": f"{tid}:copay-in",
                                "type": "TRANSFER",
                                "responsibility": "PATIENT",
                                "amount": moved,
                                "group_code": "PR",
                                "reason_code": "3",
                                "reference": ref,
                            }
                        )
                        line.insurance -= moved
                        line.patient += moved
                tx.append(
                    {
                        **base,
                        "transaction_id": tid,
                        "type": "PATIENT_PAYMENT",
                        "responsibility": "PATIENT",
                        "amount": -amount,
                        "reference": tid,
                    }
                )
                line.patient -= amount
            elif kind == "ADJUSTMENT":
                amount = r.money(row, "ADJUSTMENTS", "claims_transactions")
                if amount is None:
                    continue
                insurance = line.holder is not None
                tx.append(
                    {
                        **base,
                        "transaction_id": tid,
                        "type": "INSURANCE_ADJUSTMENT" if insurance else "PATIENT_ADJUSTMENT",
                        "responsibility": "INSURANCE" if insurance else "PATIENT",
                        "payer_id": line.holder,
                        "amount": -amount,
                        "reference": tid,
                    }
                )
                if insurance:
                    line.insurance -= amount
                else:
                    line.patient -= amount
            elif kind == "TRANSFEROUT":
                amount = r.money(row, "TRANSFERS", "claims_transactions")
                if amount is None:
                    continue
                bucket = Bucket.INSURANCE if line.holder is not None else Bucket.PATIENT
                tx.append(
                    {
                        **base,
                        "transaction_id": tid,
                        "type": "TRANSFER",
                        "responsibility": bucket.value,
                        "payer_id": line.holder,
                        "amount": -amount,
                        "reference": f"{claim_id}:{row['CHARGEID']}",
                    }
                )
                if bucket is Bucket.INSURANCE:
                    line.insurance -= amount
                else:
                    line.patient -= amount
            elif kind == "TRANSFERIN":
                column = "AMOUNT" if row.get("AMOUNT") else "TRANSFERS"
                amount = r.money(row, column, "claims_transactions")
                if amount is None:
                    continue
                target = (row.get("TRANSFERTYPE") or "").strip()
                if target not in payers:
                    r.problem(
                        "transactions",
                        "claims_transactions",
                        row["_row"],
                        "TRANSFERTYPE",
                        target,
                        "not 1, 2 or p; left out",
                    )
                    continue
                line.holder = payers[target]
                bucket = Bucket.INSURANCE if line.holder is not None else Bucket.PATIENT
                tx.append(
                    {
                        **base,
                        "transaction_id": tid,
                        "type": "TRANSFER",
                        "responsibility": bucket.value,
                        "payer_id": line.holder,
                        "amount": amount,
                        "reference": f"{claim_id}:{row.get('TRANSFEROUTID') or ''}",
                    }
                )
                if bucket is Bucket.INSURANCE:
                    line.insurance += amount
                else:
                    line.patient += amount
            else:
                r.problem(
                    "transactions",
                    "claims_transactions",
                    row["_row"],
                    "TYPE",
                    kind,
                    "not CHARGE, PAYMENT, ADJUSTMENT, TRANSFERIN or TRANSFEROUT; left out",
                )
        left = sum((ln.insurance + ln.patient for ln in lines), ZERO)
        if left < 0:
            overpaid.append((str(claim_id), left))
    charge_schema = {**polars_schema(TABLES_BY_NAME["charges"]), "claim_id": pl.String()}
    tx_schema = polars_schema(TABLES_BY_NAME["transactions"])
    for t in tx:
        t["type"] = TransactionType(t["type"]).value
    return (
        pl.DataFrame(charges, schema=charge_schema),
        pl.DataFrame(tx, schema=tx_schema),
        set_aside,
        overpaid,
    )


def load_synthea(
    ledger: Ledger,
    folder: str | Path,
    *,
    set_aside_final_patient_payments: bool = False,
    config: Config | None = None,
) -> SyntheaLoadReport:
    """Load a Synthea CSV export into the store, replacing its snapshot (one transaction).

    Parameters
    ----------
    ledger
        The store.
    folder
        The Synthea CSV folder.
    set_aside_final_patient_payments
        See :func:`read_synthea`.

    Returns
    -------
    SyntheaLoadReport
        The import report and the mapped extract (rows left out, payments set aside,
        claims the export shows overpaid).

    Raises
    ------
    LedgerFormatError
        See :func:`read_synthea`; the store is then left as it was.
    """
    require_permission(ledger, Permission.LOAD_LEDGER, "load the ledger", AuditAction.LOAD, config=config)  # issue 16
    extract = read_synthea(
        folder, set_aside_final_patient_payments=set_aside_final_patient_payments
    )
    report = replace_snapshot(
        ledger,
        extract.frames,
        source=f"synthea: {folder}",
        files=extract.files,
        problems=extract.problems,
    )
    return SyntheaLoadReport(import_report=report, extract=extract)
