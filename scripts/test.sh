#!/usr/bin/env bash
# Quick start, step 2: run the whole test suite (unit, engine parity, notebooks, browser).
set -uo pipefail
cd "$(dirname "$0")/.."
export CHROME_PATH="$PWD/tools/chromium-nosandbox"
timeout 1500 .venv/bin/python -m pytest "$@"
status=$?
# pytest exits 5 when it collected no test: that is a failure here, not a pass.
[ $status -eq 5 ] && echo "test.sh: no tests were collected" >&2
exit $status
