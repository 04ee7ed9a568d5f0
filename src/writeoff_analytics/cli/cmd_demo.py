"""``writeoff demo``: the main job, end to end, on the bundled demo ledger.

Load ``data/demo/`` into a fresh demo store, find the ``no-balance-billing`` candidates,
commit them as one batch (receipt CSV + JSON), show that the same search then finds nothing,
and write the candidate and receipt reports (PDF, and the candidate list as CSV). Everything
goes under ``--out`` (default ``data/demo-run/``), which the command owns and starts afresh.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
from pathlib import Path

from writeoff_analytics.cli._options import iso_date, output_folder
from writeoff_analytics.cli._progress import progress_bar, working
from writeoff_analytics.errors import LedgerError, WriteoffError
from writeoff_analytics.money import format_money

#: The bundled demo extract and its date (ages are counted to it).
DEMO_EXTRACT = Path("data") / "demo"
DEMO_AS_OF = "2026-11-01"
DEFAULT_OUT = Path("data") / "demo-run"
_MARKER = ".writeoff-demo-run"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` command."""
    p = sub.add_parser(
        "demo",
        help="run the main job on the bundled demo ledger: load, find, commit, report",
        description=__doc__,
    )
    p.add_argument(
        "--extract", type=Path, default=DEMO_EXTRACT, metavar="DIR",
        help=f"the demo extract folder (default {DEMO_EXTRACT})",
    )
    p.add_argument(
        "--out", type=output_folder, default=DEFAULT_OUT, metavar="DIR",
        help=f"where the demo store, receipts and reports go (default {DEFAULT_OUT})",
    )
    p.add_argument(
        "--preset", default="no-balance-billing", metavar="NAME", help="the preset to write off"
    )
    p.add_argument(
        "--as-of", type=iso_date, default=dt.date.fromisoformat(DEMO_AS_OF), metavar="DATE",
        help=f"aging date, YYYY-MM-DD (default: the demo's date, {DEMO_AS_OF})",
    )
    p.add_argument(
        "--user", default="demo", metavar="NAME",
        help="who commits the batch (every permission, no config)",
    )
    p.add_argument("--no-pdf", action="store_true", help="skip the PDF reports")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo job; print what each step did."""
    from writeoff_analytics.candidates import find_candidates
    from writeoff_analytics.criteria.presets import get_preset
    from writeoff_analytics.ledger.load import load_extract
    from writeoff_analytics.ledger.store import Ledger
    from writeoff_analytics.writeoffs.batches import Batch
    from writeoff_analytics.writeoffs.permissions import Config
    from writeoff_analytics.writeoffs.receipts import commit_batch

    out: Path = args.out
    if not Path(args.extract).is_dir():
        msg = f"no demo extract at {args.extract}; run from the checkout or pass --extract DIR"
        raise LedgerError(msg)
    _start_afresh(out)
    ledger = Ledger(out / "ledger.duckdb")

    print(f"1. load {args.extract}")
    with progress_bar(args, f"loading {args.extract}") as report_progress:
        report = load_extract(ledger, args.extract, progress=report_progress)
    counts = ", ".join(f"{n:,} {t}" for t, n in report.row_counts.items())
    print(f"   {counts}; {report.rejected_rows} rows rejected")

    preset = get_preset(args.preset)
    criteria = preset.criteria.replace(as_of=args.as_of)
    print(f"2. find candidates: {preset.name} ({criteria.describe()})")
    found = find_candidates(ledger, criteria)
    print(f"   {found.group_count:,} groups, {found.line_count:,} lines, {format_money(found.total)}")

    print(f"3. commit the batch as {args.user} (reason: {preset.reason.text})")
    batch = Batch.from_candidates(found, reason=preset.reason, note="writeoff demo")
    with working(args, "committing"):
        receipt = commit_batch(
            ledger, batch, user=args.user, receipts_dir=out / "receipts", config=Config.open_to(args.user)
        )
    print(f"   receipt {receipt.receipt_no}: {receipt.line_count:,} lines, {format_money(receipt.total)}")
    print(f"   files: {receipt.files_dir / (receipt.receipt_no + '.csv')} and .json")

    again = find_candidates(ledger, criteria)
    print(f"4. the same search now finds {again.line_count} lines (the batch is written off)")

    reports = out / "reports"
    from writeoff_analytics.reporting import report_candidates, report_receipt

    with working(args, "writing the reports"):
        cand_report = report_candidates(found, ledger=ledger)
        written = [cand_report.to_csv(reports / f"{preset.name}-candidates.csv")]
        if not args.no_pdf:
            written.append(cand_report.to_pdf(reports / f"{preset.name}-candidates.pdf"))
            written.append(
                report_receipt(ledger, receipt.receipt_no).to_pdf(reports / f"{receipt.receipt_no}.pdf")
            )
    print("5. reports: " + ", ".join(str(p) for p in written))
    print(receipt.receipt_no)
    return 0


def _start_afresh(out: Path) -> None:
    """Empty the demo's own folder (only one this command made: it carries a marker)."""
    if out.exists():
        if not (out / _MARKER).is_file():
            msg = f"{out} exists and was not made by `writeoff demo`; choose another --out"
            raise WriteoffError(msg)
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / _MARKER).write_text("made by `writeoff demo`; deleted and remade on every run\n", encoding="utf-8")
