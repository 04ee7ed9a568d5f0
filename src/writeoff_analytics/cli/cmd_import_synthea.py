"""`writeoff import-synthea FOLDER [--db PATH]`: load a Synthea CSV export as the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from writeoff_analytics.cli._access import add_config_option, config_of
from writeoff_analytics.cli._options import add_db_option
from writeoff_analytics.cli._progress import working
from writeoff_analytics.errors import LedgerError, escaped
from writeoff_analytics.money import format_money

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `import-synthea` command."""
    p = sub.add_parser(
        "import-synthea",
        help="load a Synthea CSV export (claims, transactions, payer transitions) as the ledger",
        description=(
            "Map a Synthea CSV export onto the ledger's six tables and load it, replacing the "
            "store's snapshot (write-off receipts and history are kept)."
        ),
    )
    p.add_argument("folder", type=Path, metavar="FOLDER", help="folder of Synthea CSV files")
    p.add_argument(
        "--set-aside-final-patient-payments",
        action="store_true",
        help="leave out the patient payments made after a balance was transferred to the "
        "patient, to see the balances write-offs would act on",
    )
    add_db_option(p)
    add_config_option(p)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from writeoff_analytics.ledger.store import Ledger
    from writeoff_analytics.sources.synthea import load_synthea

    if not args.folder.is_dir():
        msg = f"no Synthea export folder at {args.folder}; give the folder of its CSV files"
        raise LedgerError(msg)
    with working(args, f"loading the Synthea export {args.folder}"):
        report = load_synthea(
            Ledger(args.db),
            args.folder,
            set_aside_final_patient_payments=args.set_aside_final_patient_payments,
            config=config_of(args, notice=False),
        )
    counts = ", ".join(f"{name} {n}" for name, n in report.import_report.row_counts.items())
    print(
        f"loaded {args.folder} into {args.db} (import {report.import_report.import_id}): {counts}"
    )
    extract = report.extract
    if extract.set_aside:
        print(f"set aside {len(extract.set_aside)} final patient payments")
    for claim_id, balance in extract.overpaid_claims:
        print(f"  claim {escaped(claim_id)}: payments exceed the charges in the export (balance {format_money(balance)})")
    for problem in extract.problems:
        print(f"  {problem}")
    print(f"{len(extract.problems)} rows left out")
    return 0
