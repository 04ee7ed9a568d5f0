"""Progress on a terminal for the long commands, drawn by rich on stderr.

Quiet (nothing drawn) when stdout or stderr is not a terminal, or with ``--quiet``, so
pipes, files and tests see only the command's own output. The display is transient: it
is gone when the step ends, and what the command prints stays as it was.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

#: ``report(stage, fraction)``, the callback :func:`writeoff_analytics.ledger.load.load_extract` takes.
Report = Callable[[str, float], None]


def is_quiet(args: argparse.Namespace) -> bool:
    """Whether to draw nothing: ``--quiet``, or output that is not a terminal."""
    if getattr(args, "quiet", False):
        return True
    return not (sys.stdout.isatty() and sys.stderr.isatty())


def _ignore(stage: str, fraction: float) -> None:
    del stage, fraction


@contextlib.contextmanager
def progress_bar(args: argparse.Namespace, label: str) -> Iterator[Report]:
    """Yield a ``report(stage, fraction)`` callback that moves a bar (fraction 0..1).

    Examples
    --------
    >>> import argparse
    >>> with progress_bar(argparse.Namespace(quiet=True), "load") as report:
    ...     report("reading", 0.5)
    """
    if is_quiet(args):
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=1.0)

        def report(stage: str, fraction: float) -> None:
            bar.update(task, description=f"{label}: {stage}", completed=min(max(fraction, 0.0), 1.0))

        yield report


@contextlib.contextmanager
def working(args: argparse.Namespace, label: str) -> Iterator[None]:
    """Show a spinner with ``label`` while a step whose length is unknown runs."""
    if is_quiet(args):
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(label):
        yield
