"""``python -m writeoff_analytics.cli``."""

import sys

from writeoff_analytics.cli import main

sys.exit(main())
