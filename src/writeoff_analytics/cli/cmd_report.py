"""`writeoff report`: write a candidate, receipt or history report as HTML, PDF, CSV or Excel."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from writeoff_analytics.cli._access import add_config_option, config_of, require_of
from writeoff_analytics.cli._options import add_db_option, iso_date, output_file, receipt_no
from writeoff_analytics.cli._progress import working
from writeoff_analytics.errors import WriteoffError
from writeoff_analytics.money import format_money
from writeoff_analytics.writeoffs.audit import AuditAction
from writeoff_analytics.writeoffs.permissions import Permission

if TYPE_CHECKING:
    from writeoff_analytics.reporting import Report

#: The output formats and the file suffixes each may carry.
SUFFIXES = {"html": (".html", ".htm"), "pdf": (".pdf",), "csv": (".csv",), "xlsx": (".xlsx",)}
FORMATS = tuple(SUFFIXES)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `report` command."""
    p = sub.add_parser(
        "report",
        help="write a candidate, receipt or history report (html, pdf, csv, xlsx)",
        description="Write a report: the candidates of a preset or criteria file, one receipt, "
        "or the history and compliance report of a date range. The format is the --output "
        "file's suffix; --format, if given, must agree with it.",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--preset", metavar="NAME", help="candidates of a preset (writeoff presets)")
    what.add_argument(
        "--criteria", metavar="FILE",
        help="candidates of a criteria file (.toml or .json; fields at top level or under [criteria])",
    )
    what.add_argument(
        "--receipt", metavar="N", type=receipt_no, help="one receipt: WO-000001 (or wo-000001, or 1)"
    )
    what.add_argument("--history", action="store_true",
                      help="history and compliance report of --from DATE --to DATE")
    p.add_argument("--from", dest="date_from", metavar="DATE", type=iso_date,
                   help="first day, YYYY-MM-DD (history)")
    p.add_argument("--to", dest="date_to", metavar="DATE", type=iso_date,
                   help="last day, YYYY-MM-DD (history)")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="output format (default: the --output suffix, which must agree with it)")
    p.add_argument("--output", "-o", metavar="PATH", type=output_file, required=True,
                   help="the file to write (.html, .pdf, .csv or .xlsx)")
    p.add_argument("--as-of", metavar="DATE", type=iso_date,
                   help="aging date for candidates, YYYY-MM-DD (default today)")
    p.add_argument("--max-lines", metavar="N", type=int,
                   help="show at most N lines in HTML/PDF (CSV and Excel hold all)")
    add_db_option(p)
    add_config_option(p)
    p.set_defaults(handler=run)


def output_format(output: Path, fmt: str | None) -> str:
    """The format to write: ``fmt`` if it agrees with the suffix of ``output``, else the suffix's.

    Raises
    ------
    WriteoffError
        If the suffix names no format, or ``fmt`` and the suffix disagree.

    Examples
    --------
    >>> output_format(Path("r.PDF"), None)
    'pdf'
    >>> output_format(Path("x.xlsx"), "pdf")
    Traceback (most recent call last):
    ...
    writeoff_analytics.errors.WriteoffError: --format pdf writes a .pdf file but --output x.xlsx ends in .xlsx; name it x.pdf or drop --format
    """
    suffix = output.suffix.lower()
    by_suffix = next((f for f, suffixes in SUFFIXES.items() if suffix in suffixes), None)
    if fmt is None:
        if by_suffix is None:
            msg = (
                f"cannot tell the format of {output} from its suffix; name it .html, .pdf, .csv "
                f"or .xlsx (or pass --format {'|'.join(FORMATS)})"
            )
            raise WriteoffError(msg)
        return by_suffix
    if by_suffix != fmt:
        msg = (
            f"--format {fmt} writes a {SUFFIXES[fmt][0]} file but --output {output} ends in "
            f"{suffix or 'no suffix'}; name it {output.with_suffix(SUFFIXES[fmt][0])} or drop --format"
        )
        raise WriteoffError(msg)
    return fmt


def run(args: argparse.Namespace) -> int:
    """Build the report asked for and write it; print the path and the total."""
    fmt = output_format(args.output, args.format)
    report = _build(args)
    with working(args, f"writing {args.output}"):
        path = report.save(args.output, fmt)
    lines = report.lines.height
    print(f"{report.title}: {lines:,} lines, {_money(args, report)} -> {path}")
    return 0


def _money(args: argparse.Namespace, report: Report) -> str:
    """The summary's amount, positive, with what it is (the report's lines keep their signs)."""
    if args.receipt is not None:
        # A write-off's lines are negative and a reversal's positive (the transactions layout).
        moved = "written off" if report.total < 0 else "written back"
        return f"{moved} {format_money(abs(report.total))}"
    return f"total {format_money(report.total)}"


def _build(args: argparse.Namespace) -> Report:
    from writeoff_analytics import reporting
    from writeoff_analytics.ledger.store import Ledger

    if args.history and (args.date_from is None or args.date_to is None):
        msg = "--history needs --from DATE and --to DATE"
        raise WriteoffError(msg)
    ledger = Ledger.open_existing(args.db)
    ledger.require_loaded()
    if args.receipt is not None or args.history:
        require_of(args, ledger, Permission.MASS_WRITE_OFF_HISTORY, "view write-off history", AuditAction.VIEW_HISTORY)
    if args.receipt is not None:
        from writeoff_analytics.errors import HistoryError
        from writeoff_analytics.writeoffs.permissions import current_user
        from writeoff_analytics.writeoffs.receipts import get_receipt
        from writeoff_analytics.writeoffs.verify import require_intact

        try:
            get_receipt(ledger, args.receipt)
        except HistoryError:
            return reporting.report_receipt(ledger, args.receipt)  # its own unknown-receipt message
        # Issue 16: a changed file or store refuses (naming it); a missing file is rebuilt.
        require_intact(ledger, args.receipt, user=current_user())
        return reporting.report_receipt(ledger, args.receipt)
    if args.history:
        try:
            return reporting.report_history(ledger, args.date_from, args.date_to)
        except ValueError as exc:
            raise WriteoffError(str(exc)) from exc
    from writeoff_analytics.candidates import find_candidates

    overrides: dict[str, Any] = {} if args.as_of is None else {"as_of": args.as_of}
    if args.preset is not None:
        from writeoff_analytics.criteria.presets import criteria_from_preset

        criteria = criteria_from_preset(args.preset, **overrides)
    else:
        from writeoff_analytics.criteria.files import read_criteria

        criteria = read_criteria(args.criteria, **overrides)
    with working(args, "finding the candidates"):
        candidates = find_candidates(ledger, criteria, config=config_of(args, notice=False))
        return reporting.report_candidates(candidates, ledger=ledger, max_lines=args.max_lines)
