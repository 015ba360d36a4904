#!/usr/bin/env bash
# Screenshots of every page of the dashboard (docs/ui.md): starts a real
# `syncmgr serve` on a free loopback port with the demo data set
# (tests/ui/demo.py) and saves docs/img/ui-*.png with headless Chromium
# (Debian's chromium + chromium-driver + python3-selenium, scripts/bootstrap.sh).
#
#   SYNCMGR_BIN  the syncmgr to run (default: build/tools/syncmgr)
#   OUT          where the pictures go (default: docs/img)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SYNCMGR_BIN:-build/tools/syncmgr}
OUT=${OUT:-docs/img}
if [ ! -x "$BIN" ]; then
  echo "ui-screenshots.sh: no $BIN; build it first (ninja -C build syncmgr) or set SYNCMGR_BIN" >&2
  exit 1
fi
# Debian's Python: it has selenium even when another python3 is first on PATH.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
exec "$PYTHON" tests/ui/screenshots.py --syncmgr "$BIN" --out "$OUT"
