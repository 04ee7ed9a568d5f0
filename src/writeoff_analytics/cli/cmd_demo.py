"""`writeoff demo`: placeholder registrar, replaced by its issue's work."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `demo` command."""
    p = sub.add_parser("demo", help="(not built yet)")
    p.set_defaults(handler=lambda args: 2)
