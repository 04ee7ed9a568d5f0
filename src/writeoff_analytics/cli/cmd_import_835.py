"""`writeoff import-835 FILE... [--db PATH]`: post X12 835 remittances onto the loaded ledger.

Exit status (docs/spec/X12_835_POSTING.md): 0 when it posted and nothing was refused or
unmatched, 1 when it posted nothing (one line on stderr saying why), :data:`PARTIAL` (3)
when it posted some claims and refused or could not match others; the claims that did not
post are then written to the unposted-claims CSV.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from writeoff_analytics.cli._access import add_config_option, config_of
from writeoff_analytics.cli._options import add_db_option
from writeoff_analytics.cli._progress import working
from writeoff_analytics.errors import ImportError835, LedgerError
from writeoff_analytics.money import format_money

if TYPE_CHECKING:
    import argparse

    from writeoff_analytics.sources.x12_835 import Import835Report

#: The exit status of a partial import: some claims posted, some refused or unmatched.
PARTIAL = 3
#: The unposted-claims CSV's name, next to the store, unless ``--unposted`` says otherwise.
UNPOSTED_NAME = "import-835-unposted.csv"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `import-835` command."""
    p = sub.add_parser(
        "import-835",
        help="post X12 835 remittances (payments, adjustments, patient responsibility)",
        description=(
            "Read X12 835 files and post each claim payment onto the loaded ledger, matched to "
            "its charges. Prints, per file: claims, lines, matched claims, paid and adjustment "
            "totals (read and posted), PLB adjustments and every problem with its position, "
            "then how many claims were posted, skipped (already imported), refused, unmatched "
            "and reported (predeterminations, not our claim). Exit status: 0 posted, 1 nothing "
            f"posted, {PARTIAL} partial (some claims refused or unmatched); when claims did "
            "not post they are written to a CSV (--unposted)."
        ),
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="835 files")
    p.add_argument(
        "--payer-id", default=None, metavar="ID", help="ledger payer of these remittances"
    )
    p.add_argument(
        "--match",
        choices=("encounter", "claim", "patient-control"),
        default="encounter",
        help=(
            "what CLP01 (patient control number) is in the ledger: encounter_id (default), "
            "the charges' claim_id column, or patient_id"
        ),
    )
    p.add_argument(
        "--unposted",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"CSV of the claims that did not post (default: {UNPOSTED_NAME} next to the store)",
    )
    add_db_option(p)
    add_config_option(p)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from writeoff_analytics.ledger.store import Ledger
    from writeoff_analytics.sources.x12_835 import ERROR, import_835

    if missing := [str(f) for f in args.files if not f.is_file()]:
        msg = f"no 835 file at {', '.join(missing)}; nothing was imported"
        raise LedgerError(msg)
    ledger = Ledger.open_existing(args.db)
    with working(args, f"posting {len(args.files)} 835 file(s)"):
        report = import_835(
            ledger, args.files, payer_id=args.payer_id, match=args.match,
            config=config_of(args, notice=False),
        )
    for f in report.files:
        if f.refused is not None:
            print(f"{f.file}: refused: {f.refused}")
            continue
        errors = sum(1 for p in f.problems if p.severity == ERROR)
        print(
            f"{f.file}: claims {f.claims}, lines {f.lines}, matched {f.matched}, "
            f"paid {format_money(f.paid_total)} (posted {format_money(f.posted_paid_total)}), "
            f"adjustments {format_money(f.adjustments_total)} "
            f"(posted {format_money(f.posted_adjustments_total)}), "
            f"PLB {len(f.provider_adjustments)}, "
            f"problems {errors} errors / {len(f.problems) - errors} warnings"
        )
        for plb in f.provider_adjustments:
            print(
                f"  PLB {plb.position}: provider {plb.provider_id} {plb.reason} "
                f"{plb.reference or ''} {format_money(plb.amount)} (reported, not posted)"
            )
        for problem in f.problems:
            print(f"  {problem}")
    print(_summary(report))
    print(f"{report.transactions_added} transactions added to {args.db}")
    return _outcome(args, report)


def _summary(report: Import835Report) -> str:
    counts = report.counts
    files = len(report.refused_files)
    refused_files = f"; {files} file(s) refused" if files else ""
    return "claims: " + ", ".join(f"{n} {o.value}" for o, n in counts.items()) + refused_files


def _outcome(args: argparse.Namespace, report: Import835Report) -> int:
    from writeoff_analytics.sources.x12_835.outcomes import Outcome, write_unposted_csv

    counts = report.counts
    unposted = sum(n for o, n in counts.items() if o is not Outcome.POSTED)
    path: Path = args.unposted or Path(args.db).parent / UNPOSTED_NAME
    where = ""
    if unposted and (report.transactions_added == 0 or report.is_partial):
        try:
            write_unposted_csv(path, report.outcomes)
        except OSError as exc:  # the import is done: say so, never report it as failed
            where = f"; the unposted claims could not be written to {path} ({exc.strerror})"
        else:
            where = f"; the {unposted} unposted claim(s) are listed in {path}"
    if report.transactions_added == 0:
        why = _summary(report).replace("claims: ", "", 1) if report.outcomes else "no claim read"
        if report.refused_files and not report.outcomes:
            why = f"{len(report.refused_files)} of {len(report.files)} file(s) refused"
        msg = f"nothing was posted ({why}){where}"
        raise ImportError835(msg)
    if report.is_partial:
        not_posted = counts[Outcome.REFUSED] + counts[Outcome.UNMATCHED]
        files = len(report.refused_files)
        print(
            f"writeoff import-835: partial: {report.transactions_added} transactions posted, "
            f"{not_posted} claim(s) refused or unmatched, {files} file(s) refused{where}",
            file=sys.stderr,
        )
        return PARTIAL
    return 0
