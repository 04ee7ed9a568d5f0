"""Post remittances onto the store: match claims to charges, write ledger transactions.

:func:`import_835` reads each file once (:func:`~.parser.parse_835`), matches every readable,
balanced claim to the ledger (CLP01 = encounter, REF*6R = charge, else procedure code and
date of service; the payer by id or name), turns it into transactions
(:func:`claim_postings`) and appends them to the store's snapshot in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from writeoff_analytics import queries
from writeoff_analytics.errors import ImportError835, LedgerError, RowProblem
from writeoff_analytics.ledger.schema import TRANSACTIONS, Bucket, TransactionType
from writeoff_analytics.ledger.snapshot import (
    FileRecord,
    ImportReport,
    conform,
    polars_schema,
    replace_snapshot,
)
from writeoff_analytics.money import ZERO
from writeoff_analytics.sources.x12_835.parser import parse_835
from writeoff_analytics.sources.x12_835.remittance import PATIENT_GROUP
from writeoff_analytics.sources.x12_835.segments import ERROR, WARNING, X12Problem

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping, Sequence

    from writeoff_analytics.ledger.store import Ledger
    from writeoff_analytics.sources.x12_835.remittance import (
        Adjustment,
        Claim,
        Payment,
        ProviderAdjustment,
        ServiceLine,
    )

__all__ = ["FileImport", "Import835Report", "Posting", "claim_postings", "import_835"]


@dataclass(frozen=True)
class FileImport:
    """What an import did with one file."""

    file: str
    claims: int
    lines: int
    matched: int
    posted_rows: int
    paid_total: Decimal
    adjustments_total: Decimal
    posted_paid_total: Decimal
    posted_adjustments_total: Decimal
    provider_adjustments: tuple[ProviderAdjustment, ...]
    problems: tuple[X12Problem, ...]
    refused: str | None = None

    @property
    def errors(self) -> tuple[X12Problem, ...]:
        """The problems of severity ``error``."""
        return tuple(p for p in self.problems if p.severity == ERROR)


@dataclass(frozen=True)
class Import835Report:
    """What :func:`import_835` did: per file, and the snapshot replacement (if any)."""

    files: tuple[FileImport, ...]
    transactions_added: int
    import_report: ImportReport | None


@dataclass(frozen=True)
class Posting:
    """One ledger row a claim makes, before it is matched to a charge and numbered.

    ``line`` is the service line it comes from (``None`` for a claim without lines);
    ``amount`` is signed as the transactions layout says (a payment is negative);
    ``with_payer`` says whether the row carries the payer (the patient side does not).
    """

    line: ServiceLine | None
    type: TransactionType
    bucket: Bucket
    amount: Decimal
    group: str | None
    reason: str | None
    remarks: str | None
    with_payer: bool


def claim_postings(claim: Claim) -> list[Posting]:
    """Build the ledger rows one claim makes, before they are matched to charges.

    Claim-level adjustments go to the line that pays most (first on ties), whose payment is
    reduced by them: the 835 balances ``CLP04 = sum(SVC03) - claim-level CAS``, so every
    line still nets to zero. A claim without lines is one posting unit.

    Examples
    --------
    >>> from writeoff_analytics.sources.x12_835 import parse_835
    >>> claim = parse_835("tests/data/x12/LinuxForHealth__x12__managed-care.835").claims[0]
    >>> for p in claim_postings(claim):
    ...     print(p.type.value, p.bucket.value, p.amount, p.group, p.reason)
    INSURANCE_PAYMENT INSURANCE -450.00 None None
    TRANSFER INSURANCE -300.00 PR 1
    TRANSFER PATIENT 300.00 PR 1
    INSURANCE_ADJUSTMENT INSURANCE -50.00 CO A2
    """
    sign = Decimal(1)
    if claim.is_reversal and (claim.charge > 0 or claim.paid > 0):
        sign = Decimal(-1)  # a payer that does not sign its reversals: undo, never add
    claim_remarks = list(claim.remark_codes)
    units: list[tuple[ServiceLine | None, Decimal, list[Adjustment], list[str]]] = []
    if claim.lines:
        target = max(range(len(claim.lines)), key=lambda i: (claim.lines[i].paid, -i))
        for i, ln in enumerate(claim.lines):
            adjustments = list(ln.adjustments)
            paid = ln.paid
            if i == target:
                adjustments += list(claim.adjustments)
                paid -= claim.claim_adjustment_total
            units.append((ln, paid, adjustments, list(ln.remark_codes) + claim_remarks))
    else:
        units.append((None, claim.paid, list(claim.adjustments), claim_remarks))
    out: list[Posting] = []
    for line, paid, adjustments, remarks in units:
        text = ",".join(dict.fromkeys(remarks)) or None
        if paid != 0:
            out.append(
                Posting(
                    line,
                    TransactionType.INSURANCE_PAYMENT,
                    Bucket.INSURANCE,
                    -paid * sign,
                    None,
                    None,
                    text,
                    True,
                )
            )
        for adj in adjustments:
            amount = adj.amount * sign
            if amount == 0:
                continue
            if adj.group == PATIENT_GROUP:
                out.append(
                    Posting(
                        line,
                        TransactionType.TRANSFER,
                        Bucket.INSURANCE,
                        -amount,
                        adj.group,
                        adj.reason,
                        text,
                        True,
                    )
                )
                out.append(
                    Posting(
                        line,
                        TransactionType.TRANSFER,
                        Bucket.PATIENT,
                        amount,
                        adj.group,
                        adj.reason,
                        text,
                        False,
                    )
                )
            else:
                out.append(
                    Posting(
                        line,
                        TransactionType.INSURANCE_ADJUSTMENT,
                        Bucket.INSURANCE,
                        -amount,
                        adj.group,
                        adj.reason,
                        text,
                        True,
                    )
                )
    return out


@dataclass
class _LedgerView:
    encounters: dict[str, dt.date]
    charges_by_encounter: dict[str, list[dict[str, Any]]]
    charges: dict[str, dict[str, Any]]
    payers: set[str]
    payers_by_name: dict[str, str]
    transaction_ids: set[str]
    posted_charges: set[str]
    current_payer: dict[str, str | None]


def _ledger_view(frames: Mapping[str, pl.DataFrame], balances: pl.DataFrame) -> _LedgerView:
    enc = {
        r["encounter_id"]: r["date_of_service"] for r in frames["encounters"].iter_rows(named=True)
    }
    charges: dict[str, dict[str, Any]] = {}
    by_enc: dict[str, list[dict[str, Any]]] = {}
    for r in frames["charges"].sort("charge_id").iter_rows(named=True):
        charges[r["charge_id"]] = r
        by_enc.setdefault(r["encounter_id"], []).append(r)
    payers = frames["payers"]
    tx = frames["transactions"]
    insurance_posted = tx.filter(
        pl.col("type").is_in(
            [TransactionType.INSURANCE_PAYMENT, TransactionType.INSURANCE_ADJUSTMENT]
        )
    )
    return _LedgerView(
        encounters=enc,
        charges_by_encounter=by_enc,
        charges=charges,
        payers=set(payers["payer_id"].to_list()),
        payers_by_name={
            str(n).strip().casefold(): pid
            for pid, n in zip(payers["payer_id"], payers["payer_name"], strict=True)
        },
        transaction_ids=set(tx["transaction_id"].to_list()),
        posted_charges=set(insurance_posted["charge_id"].to_list()),
        current_payer=dict(zip(balances["charge_id"], balances["current_payer_id"], strict=True)),
    )


def _match_lines(claim: Claim, view: _LedgerView) -> tuple[dict[int, str], list[str]]:
    """Map each posting unit (line index, or -1 for a claim without lines) to a charge id."""
    enc_id = claim.patient_control_number
    reasons: list[str] = []
    if enc_id not in view.encounters:
        return {}, [f"no encounter {enc_id!r} in the ledger (CLP01 is matched to encounter_id)"]
    dos = view.encounters[enc_id]
    candidates = view.charges_by_encounter.get(enc_id, [])
    if not claim.lines:
        if len(candidates) == 1:
            return {-1: candidates[0]["charge_id"]}, []
        return {}, [
            f"the claim has no service lines and encounter {enc_id!r} has {len(candidates)} "
            "charges; a claim-level payment is not spread over charges"
        ]
    used: set[str] = set()
    matched: dict[int, str] = {}
    for i, ln in enumerate(claim.lines):
        cn = ln.control_number
        if cn is not None and cn in view.charges:
            if view.charges[cn]["encounter_id"] != enc_id:
                reasons.append(
                    f"line {ln.position}: REF*6R {cn!r} is a charge of encounter "
                    f"{view.charges[cn]['encounter_id']!r}, not {enc_id!r}"
                )
                continue
            matched[i] = cn
            used.add(cn)
            continue
        date = ln.service_date or claim.statement_date
        if date is not None and date != dos:
            reasons.append(
                f"line {ln.position} {ln.procedure_code}: service date {date} is not the "
                f"date of service {dos} of encounter {enc_id!r}"
            )
            continue
        same_code = [
            c
            for c in candidates
            if c["procedure_code"] == ln.procedure_code and c["charge_id"] not in used
        ]
        exact = [c for c in same_code if c["charge_amount"] == ln.charge] or same_code
        if not exact:
            via = f"REF*6R {cn!r} is not a charge, and " if cn is not None else ""
            reasons.append(
                f"line {ln.position}: {via}encounter {enc_id!r} has no unmatched charge "
                f"with procedure code {ln.procedure_code!r}"
            )
            continue
        matched[i] = exact[0]["charge_id"]
        used.add(exact[0]["charge_id"])
    return matched, reasons


def _resolve_payer(payment: Payment, view: _LedgerView, payer_id: str | None) -> str | None:
    if payer_id is not None:
        return payer_id
    for pid in (*payment.payer_ids, payment.payer_identifier):
        if pid and pid in view.payers:
            return pid
    if payment.payer_name:
        return view.payers_by_name.get(payment.payer_name.strip().casefold())
    return None


def import_835(
    ledger: Ledger,
    files: Sequence[str | Path],
    *,
    payer_id: str | None = None,
) -> Import835Report:
    """Post 835 remittances onto the loaded ledger, matched to its charges.

    Each readable, balanced claim whose patient control number (CLP01) is an encounter
    and whose lines all match charges (REF*6R = charge_id, else procedure code and date of
    service on that encounter) becomes transactions: ``INSURANCE_PAYMENT`` (negative),
    ``INSURANCE_ADJUSTMENT`` for CAS groups CO/OA/PI/CR, and a ``TRANSFER`` pair out of
    INSURANCE into PATIENT for group PR (reference: the TRN02 trace number). A reversal
    (CLP02 = 22) posts the negated amounts, undoing what it reverses. Remark codes of the
    line and claim go to ``remark_codes``. PLB adjustments are reported, not posted.

    Transaction ids are ``835:<TRN02>:<CLP01>:<n>``, numbered in file order, so a claim
    already imported is skipped (and reported), never posted twice. The new rows are
    appended to the store's snapshot in one transaction; if anything fails the store is
    left as it was.

    Parameters
    ----------
    ledger
        A store with an extract loaded.
    files
        835 files. A file that cannot be read at all is reported as refused.
    payer_id
        The ledger payer of these remittances. By default the 835's payer (N1*PR N104,
        REF*2U, TRN03, or its name) is looked up among the ledger's payers, else each row
        carries its charge's current insurance payer.

    Returns
    -------
    Import835Report
        Per file: claims, lines, matched claims, totals, PLB adjustments and problems.

    Raises
    ------
    LedgerError
        If no extract is loaded, or ``payer_id`` is not one of the ledger's payers.
    """
    ledger.require_loaded()
    with ledger.connect() as con:
        frames = {
            t: queries.frame(con, f"select_snapshot_{t}")
            for t in ("payers", "patients", "coverages", "encounters", "charges", "transactions")
        }
        balances = ledger.balances()
        previous = ledger.fingerprint()
        view = _ledger_view(frames, balances)
        if payer_id is not None and payer_id not in view.payers:
            msg = (
                f"payer_id {payer_id!r} is not a payer of the loaded ledger; "
                f"known: {', '.join(sorted(view.payers)) or '(none)'}"
            )
            raise LedgerError(msg)
        rows: list[dict[str, Any]] = []
        reports: list[FileImport] = []
        records: list[FileRecord] = []
        for f in files:
            report, new_rows, sha = _import_file(Path(f), view, payer_id)
            reports.append(report)
            rows.extend(new_rows)
            if sha is not None:
                records.append(FileRecord("transactions", str(f), sha, len(new_rows), 0))
        import_report = None
        if rows:
            new = pl.DataFrame(rows, schema=polars_schema(TRANSACTIONS))
            old = conform(TRANSACTIONS, frames["transactions"])
            frames["transactions"] = pl.concat([old, new], how="diagonal")
            if previous is not None:
                records.insert(0, FileRecord("snapshot", "previous snapshot", previous, 0, 0))
            problems = [
                RowProblem(
                    "transactions",
                    p.file,
                    p.position.segment if p.position else None,
                    p.segment_id,
                    p.claim,
                    p.reason,
                )
                for r in reports
                for p in r.problems
                if p.severity == ERROR
            ]
            import_report = replace_snapshot(
                ledger,
                frames,
                source="835: " + ", ".join(str(f) for f in files),
                files=records,
                problems=problems,
                keep_quarantine=True,  # issue 14: an 835 adds to the snapshot, not a clean load
            )
    return Import835Report(
        files=tuple(reports), transactions_added=len(rows), import_report=import_report
    )


def _import_file(
    path: Path, view: _LedgerView, payer_id: str | None
) -> tuple[FileImport, list[dict[str, Any]], str | None]:
    file = str(path)
    try:
        rem = parse_835(path)
    except ImportError835 as exc:
        refused = FileImport(file, 0, 0, 0, 0, ZERO, ZERO, ZERO, ZERO, (), (), refused=str(exc))
        return refused, [], None
    problems = list(rem.problems)
    rows: list[dict[str, Any]] = []
    matched = 0
    posted_paid = posted_adj = ZERO
    for payment in rem.payments:
        trace = payment.trace_number
        payer = _resolve_payer(payment, view, payer_id)
        if payer is None:
            problems.append(
                X12Problem(
                    file,
                    payment.position,
                    "N1",
                    f"payer {payment.payer_name!r} (ids {', '.join(payment.payer_ids) or '-'}) "
                    "is not a ledger payer; its rows carry each charge's current insurance payer "
                    "(pass payer_id to choose one)",
                    WARNING,
                )
            )
        seq: dict[str, int] = {}
        for claim in payment.claims:
            pcn = claim.patient_control_number
            if claim.errors:
                continue  # reported when read
            if trace is None or payment.posted_date is None:
                problems.append(
                    X12Problem(
                        file,
                        claim.position,
                        "CLP",
                        "not posted: the payment has no TRN02 trace number or no payment or "
                        "production date (BPR16, DTM*405)",
                        ERROR,
                        pcn,
                    )
                )
                continue
            postings = claim_postings(claim)
            ids = []
            for _ in postings:
                seq[pcn] = seq.get(pcn, 0) + 1
                ids.append(f"835:{trace}:{pcn}:{seq[pcn]}")
            charge_of, reasons = _match_lines(claim, view)
            if reasons:
                for reason in reasons:
                    problems.append(
                        X12Problem(
                            file,
                            claim.position,
                            "CLP",
                            f"unmatched claim, not posted: {reason}",
                            ERROR,
                            pcn,
                        )
                    )
                continue
            dup = next((i for i in ids if i in view.transaction_ids), None)
            if dup is not None:
                problems.append(
                    X12Problem(
                        file,
                        claim.position,
                        "CLP",
                        f"already imported (transaction {dup} exists); skipped, not posted twice",
                        WARNING,
                        pcn,
                    )
                )
                continue
            if claim.is_reversal and (claim.charge > 0 or claim.paid > 0):
                problems.append(
                    X12Problem(
                        file,
                        claim.position,
                        "CLP",
                        "reversal (CLP02 22) with positive amounts; posted negated so that it "
                        "undoes the payment it reverses",
                        WARNING,
                        pcn,
                    )
                )
            if claim.is_reversal:
                targets = set(charge_of.values())
                if not targets & view.posted_charges:
                    problems.append(
                        X12Problem(
                            file,
                            claim.position,
                            "CLP",
                            "reversal (CLP02 22) of charges with no insurance posting in the "
                            "ledger; posted as the file says",
                            WARNING,
                            pcn,
                        )
                    )
            matched += 1
            for tid, post in zip(ids, postings, strict=True):
                index = claim.lines.index(post.line) if post.line is not None else -1
                charge_id = charge_of[index]
                row_payer = payer if payer is not None else view.current_payer.get(charge_id)
                rows.append(
                    {
                        "transaction_id": tid,
                        "charge_id": charge_id,
                        "posted_date": payment.posted_date,
                        "type": post.type.value,
                        "responsibility": post.bucket.value,
                        "payer_id": row_payer if post.with_payer else None,
                        "amount": post.amount,
                        "group_code": post.group,
                        "reason_code": post.reason,
                        "reference": trace,
                        "remark_codes": post.remarks,
                    }
                )
                view.transaction_ids.add(tid)
                if post.type is TransactionType.INSURANCE_PAYMENT:
                    posted_paid -= post.amount
                elif post.bucket is Bucket.INSURANCE:
                    posted_adj -= post.amount
                view.posted_charges.add(charge_id)
    readable = rem.claims
    report = FileImport(
        file=file,
        claims=len(readable),
        lines=rem.line_count,
        matched=matched,
        posted_rows=len(rows),
        paid_total=sum((c.paid for c in readable), ZERO),
        adjustments_total=sum((c.adjustment_total for c in readable), ZERO),
        posted_paid_total=posted_paid,
        posted_adjustments_total=posted_adj,
        provider_adjustments=rem.provider_adjustments,
        problems=tuple(problems),
    )
    return report, rows, rem.sha256
