"""`writeoff demo-data`: placeholder registrar, replaced by its issue's work."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `demo-data` command."""
    p = sub.add_parser("demo-data", help="(not built yet)")
    p.set_defaults(handler=lambda args: 2)
