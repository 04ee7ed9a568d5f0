"""The ``writeoff`` command line: a thin layer over the public functions, same errors.

Each command lives in its own module here with a ``register(subparsers)`` function that
adds its parser and sets ``handler``; the handler calls public functions and prints. A
:class:`~writeoff_analytics.errors.WriteoffError` becomes one line on stderr and exit
status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from writeoff_analytics.errors import WriteoffError
from writeoff_analytics.ledger.store import DEFAULT_DB

Handler = Callable[[argparse.Namespace], int]


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """Add the ``--db PATH`` option every store-using command takes."""
    parser.add_argument(
        "--db", type=Path, default=DEFAULT_DB, help=f"ledger store (default {DEFAULT_DB})"
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the ``writeoff`` argument parser with every subcommand."""
    # Imported here so that `import writeoff_analytics` does not pay for the CLI.
    from writeoff_analytics.cli import (
        cmd_commit,
        cmd_demo,
        cmd_demo_data,
        cmd_history,
        cmd_import_835,
        cmd_import_synthea,
        cmd_load,
        cmd_report,
        cmd_reverse,
        cmd_spark_candidates,
    )

    parser = argparse.ArgumentParser(
        prog="writeoff",
        description="Find, approve and export mass write-offs over a ledger extract.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # One line per command module, in the order `writeoff --help` lists them.
    for module in (
        cmd_demo, cmd_demo_data, cmd_load, cmd_import_835, cmd_import_synthea,
        cmd_commit, cmd_history, cmd_reverse, cmd_report, cmd_spark_candidates,
    ):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``writeoff`` command; return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except WriteoffError as exc:
        print(f"writeoff {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"writeoff {args.command}: interrupted; nothing was changed", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
