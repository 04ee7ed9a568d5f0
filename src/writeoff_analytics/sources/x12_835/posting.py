"""Post remittances onto the store: match claims to charges, write ledger transactions.

:func:`import_835` reads each file once (:func:`~.parser.parse_835`), matches every readable,
balanced claim to the ledger (:mod:`.matching`; the payer by id or name), posts or reports
it by its status (CLP02; a reversal only against its original, :mod:`.reversals`), turns
it into transactions (:func:`claim_postings`) and appends them to the store's snapshot in
one transaction, with each claim's outcome (:mod:`.outcomes`).
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
from writeoff_analytics.sources.x12_835.matching import (
    LedgerView,
    MatchKey,
    ledger_view,
    match_lines,
)
from writeoff_analytics.sources.x12_835.outcomes import (
    ClaimOutcome,
    Outcome,
    count_outcomes,
)
from writeoff_analytics.sources.x12_835.parser import parse_835
from writeoff_analytics.sources.x12_835.remittance import (
    PATIENT_GROUP,
    POSTED_STATUSES,
    REPORTED_STATUSES,
)
from writeoff_analytics.sources.x12_835.reversals import CLAIM_STATUS_COLUMN, PAYER_CLAIM_COLUMN
from writeoff_analytics.sources.x12_835.segments import ERROR, WARNING, X12Problem
from writeoff_analytics.writeoffs.audit import AuditAction
from writeoff_analytics.writeoffs.permissions import Config, Permission, require_permission

if TYPE_CHECKING:
    from collections.abc import Sequence

    from writeoff_analytics.ledger.store import Ledger
    from writeoff_analytics.sources.x12_835.remittance import (
        Adjustment,
        Claim,
        Payment,
        ProviderAdjustment,
        Remittance,
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
    #: What happened to each claim, in file order (CLP segment number).
    outcomes: tuple[ClaimOutcome, ...] = ()

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

    @property
    def outcomes(self) -> tuple[ClaimOutcome, ...]:
        """Every claim's outcome, file by file."""
        return tuple(o for f in self.files for o in f.outcomes)

    @property
    def counts(self) -> dict[Outcome, int]:
        """How many claims were posted, skipped, refused, unmatched, reported."""
        return count_outcomes(self.outcomes)

    @property
    def refused_files(self) -> tuple[FileImport, ...]:
        """The files that could not be read at all."""
        return tuple(f for f in self.files if f.refused is not None)

    @property
    def is_partial(self) -> bool:
        """Something posted, and a file or a claim was refused or unmatched."""
        counts = self.counts
        return self.transactions_added > 0 and bool(
            self.refused_files or counts[Outcome.REFUSED] or counts[Outcome.UNMATCHED]
        )


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


def _resolve_payer(payment: Payment, view: LedgerView, payer_id: str | None) -> str | None:
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
    match: MatchKey | str = MatchKey.ENCOUNTER,
    config: Config | None = None,
) -> Import835Report:
    """Post 835 remittances onto the loaded ledger, matched to its charges.

    Each readable, balanced claim whose patient control number (CLP01) is an encounter
    and whose lines all match charges (REF*6R = charge_id, else procedure code and date of
    service on that encounter) becomes transactions: ``INSURANCE_PAYMENT`` (negative),
    ``INSURANCE_ADJUSTMENT`` for CAS groups CO/OA/PI/CR, and a ``TRANSFER`` pair out of
    INSURANCE into PATIENT for group PR (reference: the TRN02 trace number). Claim statuses
    (CLP02) are handled as ``docs/spec/X12_835_POSTING.md`` says: 1, 2, 3, 4 (denied: its
    CAS only), 19, 20, 21 post; 23 (not our claim) and 25 (predetermination) post nothing
    and are reported; a reversal (22) posts the negated amounts only when it matches an
    earlier posted payment of the same payer not yet reversed (:mod:`.reversals`), else it
    is refused. Remark codes of the line and claim go to ``remark_codes``; CLP02 and CLP07
    go to the extra columns ``claim_status`` and ``payer_claim_control_number``. PLB
    adjustments are reported, not posted.

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
    match
        What CLP01 is in the ledger (:class:`~.matching.MatchKey`): ``"encounter"``
        (``encounter_id``, the default), ``"claim"`` (the charges' optional ``claim_id``
        column) or ``"patient-control"`` (``patient_id``).

    Returns
    -------
    Import835Report
        Per file: claims, lines, matched claims, totals, PLB adjustments, problems and each
        claim's outcome (posted, skipped, refused, unmatched, reported).

    Raises
    ------
    LedgerError
        If no extract is loaded, or ``payer_id`` is not one of the ledger's payers.
    """
    require_permission(ledger, Permission.LOAD_LEDGER, "import remittances", AuditAction.LOAD, config=config)  # issue 16
    ledger.require_loaded()
    try:
        match = MatchKey(match)
    except ValueError:
        msg = (
            f"match key {match!r} is not one of {', '.join(k.value for k in MatchKey)}; "
            "choose what CLP01 is in the ledger"
        )
        raise LedgerError(msg) from None
    with ledger.connect() as con:
        frames = {
            t: queries.frame(con, f"select_snapshot_{t}")
            for t in ("payers", "patients", "coverages", "encounters", "charges", "transactions")
        }
        balances = ledger.balances()
        previous = ledger.fingerprint()
        view = ledger_view(frames, balances)
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
            report, new_rows, sha = _import_file(Path(f), view, payer_id, match)
            reports.append(report)
            rows.extend(new_rows)
            if sha is not None:
                records.append(FileRecord("transactions", str(f), sha, len(new_rows), 0))
        import_report = None
        if rows:
            schema = polars_schema(TRANSACTIONS)
            schema.update({CLAIM_STATUS_COLUMN: pl.String(), PAYER_CLAIM_COLUMN: pl.String()})
            new = pl.DataFrame(rows, schema=schema)
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


def _outcome(file: str, claim: Claim, outcome: Outcome, reason: str) -> ClaimOutcome:
    return ClaimOutcome(
        file=file,
        claim=claim.patient_control_number,
        status=claim.status,
        payer_claim_control_number=claim.payer_claim_control_number,
        segment=claim.position.segment,
        offset=claim.position.offset,
        outcome=outcome,
        reason=reason,
        paid=claim.paid,
    )


def _unread_claims(file: str, rem: Remittance) -> list[ClaimOutcome]:
    """Claims whose CLP could not be read at all: refused, at the place the reader had."""
    read_at = {c.position for c in rem.claims}
    return [
        ClaimOutcome(
            file=file,
            claim=p.claim,
            status=None,
            payer_claim_control_number=None,
            segment=p.position.segment,
            offset=p.position.offset,
            outcome=Outcome.REFUSED,
            reason=p.reason,
        )
        for p in rem.problems
        if p.severity == ERROR
        and p.segment_id == "CLP"
        and p.claim is not None
        and p.position is not None
        and p.position not in read_at
    ]


def _import_file(
    path: Path, view: LedgerView, payer_id: str | None, match: MatchKey
) -> tuple[FileImport, list[dict[str, Any]], str | None]:
    file = str(path)
    try:
        rem = parse_835(path)
    except ImportError835 as exc:
        refused = FileImport(file, 0, 0, 0, 0, ZERO, ZERO, ZERO, ZERO, (), (), refused=str(exc))
        return refused, [], None
    problems = list(rem.problems)
    outcomes: list[ClaimOutcome] = []
    rows: list[dict[str, Any]] = []
    matched = 0
    posted_paid = posted_adj = ZERO

    def refuse(claim: Claim, outcome: Outcome, reason: str, severity: str = ERROR) -> None:
        problems.append(
            X12Problem(file, claim.position, "CLP", reason, severity, claim.patient_control_number)
        )
        outcomes.append(_outcome(file, claim, outcome, reason))

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
                # reported when read, with the place the reader had
                outcomes.append(_outcome(file, claim, Outcome.REFUSED, "; ".join(claim.errors)))
                continue
            # Ids are numbered over every readable claim, posted or not: a claim keeps its ids
            # when an earlier claim's outcome changes (a reversal refused, then posted once its
            # original is in) and in files imported before statuses 23/25 stopped posting.
            postings = claim_postings(claim)
            ids = []
            for _ in postings:
                seq[pcn] = seq.get(pcn, 0) + 1
                ids.append(f"835:{trace}:{pcn}:{seq[pcn]}")
            if claim.status in REPORTED_STATUSES:
                refuse(claim, Outcome.REPORTED, REPORTED_STATUSES[claim.status], WARNING)
                continue
            if claim.status not in POSTED_STATUSES and not claim.is_reversal:
                refuse(
                    claim,
                    Outcome.REFUSED,
                    f"claim status (CLP02) {claim.status!r} is not one of 1, 2, 3, 4, 19, 20, "
                    "21, 22, 23, 25 (docs/spec/X12_835_POSTING.md); not posted",
                )
                continue
            if trace is None or payment.posted_date is None:
                refuse(
                    claim,
                    Outcome.REFUSED,
                    "not posted: the payment has no TRN02 trace number or no payment or "
                    "production date (BPR16, DTM*405)",
                )
                continue
            charge_of, reasons = match_lines(claim, view, match)
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
                outcomes.append(_outcome(file, claim, Outcome.UNMATCHED, "; ".join(reasons)))
                continue
            dup = next((i for i in ids if i in view.transaction_ids), None)
            if dup is not None:
                refuse(
                    claim,
                    Outcome.SKIPPED,
                    f"already imported (transaction {dup} exists); skipped, not posted twice",
                    WARNING,
                )
                continue
            row_payer_default = payer
            if claim.is_reversal:
                original, why = view.posted.original_of(claim, payer, set(charge_of.values()))
                if original is None:
                    refuse(claim, Outcome.REFUSED, why)
                    continue
                if payer is None:
                    row_payer_default = original.payer_id  # the payer that paid it
                if claim.charge > 0 or claim.paid > 0:
                    problems.append(
                        X12Problem(
                            file,
                            claim.position,
                            "CLP",
                            "reversal (CLP02 22) with positive amounts; posted negated so that "
                            "it undoes the payment it reverses",
                            WARNING,
                            pcn,
                        )
                    )
            matched += 1
            claim_rows: list[dict[str, Any]] = []
            for tid, post in zip(ids, postings, strict=True):
                index = claim.lines.index(post.line) if post.line is not None else -1
                charge_id = charge_of[index]
                row_payer = (
                    row_payer_default
                    if row_payer_default is not None
                    else view.current_payer.get(charge_id)
                )
                claim_rows.append(
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
                        CLAIM_STATUS_COLUMN: claim.status,
                        PAYER_CLAIM_COLUMN: claim.payer_claim_control_number,
                    }
                )
                view.transaction_ids.add(tid)
                if post.type is TransactionType.INSURANCE_PAYMENT:
                    posted_paid -= post.amount
                elif post.bucket is Bucket.INSURANCE:
                    posted_adj -= post.amount
                view.posted_charges.add(charge_id)
            view.posted.add_rows(claim_rows)
            rows.extend(claim_rows)
            outcomes.append(_outcome(file, claim, Outcome.POSTED, ""))
    outcomes.extend(_unread_claims(file, rem))
    outcomes.sort(key=lambda o: o.segment or 0)
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
        outcomes=tuple(outcomes),
    )
    return report, rows, rem.sha256
