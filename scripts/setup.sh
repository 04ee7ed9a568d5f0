#!/usr/bin/env bash
# Quick start, step 1: set up everything on a fresh machine (Python 3.11 and pip), then run
# the main job on the bundled demo ledger. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: Chromium drives the browser tests, poppler reads PDFs back in tests,
# HarfBuzz-subset lets WeasyPrint embed font subsets, Java 17 runs Spark. Root only; others
# are told once.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || need+=(libharfbuzz-subset0)
# Java 17 runs the Spark engine (local[2]) and its tests.
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "setup: not root; please install with your package manager: ${need[*]} (browser and PDF tests need them)"
  fi
fi

# Python packages, pinned in requirements.lock (name==version only).
python3 -m pip install -q --disable-pip-version-check "uv==0.13.9"
[ -x .venv/bin/python ] || python3 -m uv venv -q .venv -p python3
python3 -m uv pip sync -q --python .venv/bin/python requirements.lock
python3 -m uv pip install -q --python .venv/bin/python --no-deps -e .

# The main job on the demo ledger: load, find candidates, commit a batch, write a report.
.venv/bin/writeoff demo
