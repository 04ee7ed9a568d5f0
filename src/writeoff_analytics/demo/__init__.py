"""Synthetic demo ledgers and the multi-practice splitter (helpers, not the library proper).

:func:`generate_demo` writes a seeded, synthetic extract (:mod:`.generate`, built from
:mod:`.world`, :mod:`.billing`, :mod:`.tables` and :mod:`.files`); :func:`split_frames` and
:func:`write_practices` turn one extract into a multi-practice one (:mod:`.split`).
"""

from __future__ import annotations

from writeoff_analytics.demo.generate import (
    DEFAULT_END_DATE,
    FORMATS,
    DemoSummary,
    build_demo_frames,
    generate_demo,
    patients_for_transactions,
)
from writeoff_analytics.demo.split import split_frames, write_practices

__all__ = [
    "DEFAULT_END_DATE",
    "FORMATS",
    "DemoSummary",
    "build_demo_frames",
    "generate_demo",
    "patients_for_transactions",
    "split_frames",
    "write_practices",
]
