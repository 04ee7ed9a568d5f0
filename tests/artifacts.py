"""Where the suite leaves pictures for a human (rendered report pages, browser screenshots).

Never the checkout: ``$WRITEOFF_TEST_ARTIFACTS`` if set, else a folder in the system's
temporary directory (the test run must leave the checkout as it found it).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ARTIFACTS = Path(
    os.environ.get("WRITEOFF_TEST_ARTIFACTS")
    or Path(tempfile.gettempdir()) / "writeoff-test-artifacts"
)
