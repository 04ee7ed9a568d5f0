"""`writeoff report`: write a candidate, receipt or history report as HTML, PDF, CSV or Excel."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from writeoff_analytics.cli import add_db_option
from writeoff_analytics.errors import CriteriaError, WriteoffError

if TYPE_CHECKING:
    from writeoff_analytics.reporting import Report

FORMATS = ("html", "pdf", "csv", "xlsx")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `report` command."""
    p = sub.add_parser(
        "report",
        help="write a candidate, receipt or history report (html, pdf, csv, xlsx)",
        description="Write a report: the candidates of a preset or criteria file, one receipt, "
        "or the history and compliance report of a date range.",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--preset", metavar="NAME", help="candidates of a preset (writeoff presets)")
    what.add_argument("--criteria", metavar="FILE", type=Path,
                      help="candidates of the criteria in a .toml or .json file")
    what.add_argument("--receipt", metavar="N", help="one receipt, e.g. WO-000001 (or 1)")
    what.add_argument("--history", action="store_true",
                      help="history and compliance report of --from DATE --to DATE")
    p.add_argument("--from", dest="date_from", metavar="DATE", type=_date, help="first day (history)")
    p.add_argument("--to", dest="date_to", metavar="DATE", type=_date, help="last day (history)")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="output format (default: the --output suffix)")
    p.add_argument("--output", "-o", metavar="PATH", type=Path, required=True, help="file to write")
    p.add_argument("--as-of", metavar="DATE", type=_date, help="aging date for candidates (default today)")
    p.add_argument("--max-lines", metavar="N", type=int,
                   help="show at most N lines in HTML/PDF (CSV and Excel hold all)")
    add_db_option(p)
    p.set_defaults(handler=run)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        msg = f"{text!r} is not a date; write YYYY-MM-DD"
        raise argparse.ArgumentTypeError(msg) from None


def run(args: argparse.Namespace) -> int:
    """Build the report asked for and write it; print the path and the total."""
    fmt = args.format or args.output.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        msg = f"cannot tell the format of {args.output}; pass --format {'|'.join(FORMATS)}"
        raise WriteoffError(msg)
    report = _build(args)
    path = report.save(args.output, fmt)
    lines = report.lines.height
    print(f"{report.title}: {lines:,} lines, total {_money(report)} -> {path}")
    return 0


def _money(report: Report) -> str:
    from writeoff_analytics.money import format_money

    return format_money(report.total)


def _build(args: argparse.Namespace) -> Report:
    from writeoff_analytics import reporting
    from writeoff_analytics.ledger.store import Ledger

    if args.history and (args.date_from is None or args.date_to is None):
        msg = "--history needs --from DATE and --to DATE"
        raise WriteoffError(msg)
    if not args.db.exists():
        msg = f"no store at {args.db}; load an extract first (writeoff load EXTRACT --db {args.db})"
        raise WriteoffError(msg)
    ledger = Ledger(args.db)
    ledger.require_loaded()
    if args.receipt is not None:
        number = str(args.receipt)
        if number.isdigit():
            number = f"WO-{int(number):06d}"
        return reporting.report_receipt(ledger, number)
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
        criteria = _criteria_file(args.criteria)
        if overrides:
            criteria = criteria.replace(**overrides)
    candidates = find_candidates(ledger, criteria)
    return reporting.report_candidates(candidates, ledger=ledger, max_lines=args.max_lines)


def _criteria_file(path: Path) -> Any:
    from writeoff_analytics.criteria.model import Criteria

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read criteria file {path}: {exc.strerror}"
        raise WriteoffError(msg) from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        msg = f"criteria file {path} is not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}"
        raise CriteriaError(msg) from exc
    if isinstance(data.get("criteria"), dict):  # a preset-shaped file: [criteria] table
        data = data["criteria"]
    return Criteria.from_dict(data)
