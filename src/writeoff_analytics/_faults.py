"""Fault-injection points for the crash tests: a step kills its own process when told to.

A crash test runs a command in a child process with ``WRITEOFF_TEST_CRASH_AT=<step>``; the
step of that name calls :func:`crash_point` and the process dies there by SIGKILL, as a
power cut would (no cleanup, no ``finally``, no flush). Outside tests the variable is unset
and a crash point only reads it. Each step is one line, ``crash_point("during_csv")``; the
step names are listed by the module that has them (``writeoffs.receipts.CRASH_STEPS``).
"""

from __future__ import annotations

import os
import signal

#: The environment variable naming the step to crash at.
CRASH_ENV = "WRITEOFF_TEST_CRASH_AT"


def crash_point(step: str) -> None:
    """Kill this process here, at once, if ``$WRITEOFF_TEST_CRASH_AT`` names ``step``.

    Examples
    --------
    >>> crash_point("a step no test names")  # the variable is unset or names another step
    """
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
