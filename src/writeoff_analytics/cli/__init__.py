"""The ``writeoff`` command line: a thin layer over the public functions, same errors.

Each command lives in its own module here with a ``register(subparsers)`` function that
adds its parser and sets ``handler``; the handler calls public functions and prints. Every
failure, a usage mistake included, is one line on stderr and exit status 1, never a
traceback; shared options and argument types live in :mod:`._options`, progress in
:mod:`._progress`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from writeoff_analytics.cli._options import Parser, UsageError, add_quiet_option
from writeoff_analytics.errors import WriteoffError

Handler = Callable[[argparse.Namespace], int]
#: Set to see the traceback of an unexpected error (a bug) instead of its one line.
TRACEBACK_ENV = "WRITEOFF_TRACEBACK"


def build_parser() -> argparse.ArgumentParser:
    """Build the ``writeoff`` argument parser with every subcommand."""
    # Imported here so that `import writeoff_analytics` does not pay for the CLI.
    from writeoff_analytics.cli import (
        cmd_candidates,
        cmd_commit,
        cmd_demo,
        cmd_demo_data,
        cmd_history,
        cmd_import_835,
        cmd_import_synthea,
        cmd_load,
        cmd_quarantine,
        cmd_report,
        cmd_reverse,
        cmd_spark_candidates,
        cmd_verify,
    )

    parser = Parser(
        prog="writeoff",
        description="Find, approve and export mass write-offs over a ledger extract.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # One line per command module, in the order `writeoff --help` lists them.
    for module in (
        cmd_demo, cmd_demo_data, cmd_load, cmd_import_835, cmd_import_synthea, cmd_candidates,
        cmd_commit, cmd_history, cmd_reverse, cmd_report, cmd_spark_candidates, cmd_quarantine, cmd_verify,
    ):
        module.register(sub)
    for command in sub.choices.values():
        add_quiet_option(command)
    return parser


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``writeoff`` command; return its exit status.

    Every failure prints one line on stderr and returns 1 (an interrupt returns 130).
    """
    import duckdb

    from writeoff_analytics.cli import _access

    _access.reset_notice()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError:  # printed as one line by the parser
        return 1
    handler: Handler = args.handler
    where = f"writeoff {args.command}"
    try:
        status = handler(args)
    except WriteoffError as exc:
        print(f"{where}: error: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except OSError as exc:
        what = exc.strerror or type(exc).__name__
        name = f": {exc.filename}" if exc.filename else ""
        print(f"{where}: error: {what}{name}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        print(f"{where}: error: the ledger store cannot be used: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{where}: interrupted; nothing was changed", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get(TRACEBACK_ENV):
            raise
        print(
            f"{where}: error: unexpected {type(exc).__name__}: {_one_line(str(exc))} "
            f"(a bug; run with {TRACEBACK_ENV}=1 to see where, and report it)",
            file=sys.stderr,
        )
        return 1
    if status == 0:
        _access.print_notice()
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
