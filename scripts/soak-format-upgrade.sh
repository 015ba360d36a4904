#!/usr/bin/env bash
# The format upgrade under a power cut at EVERY operation of the open, for each
# golden data directory (CI cuts at 12 points spread over the open; this cuts at
# all of them). A soak run, not part of scripts/test.sh: ~1–2 min per directory
# in a Release build on 2 cores.
#
# Usage: scripts/soak-format-upgrade.sh [BUILD_DIR]   (default: build-rel, built
#        with -DSYNCMGR_BUILD_TESTS=ON; the compat_test target is built here)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build-rel}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSYNCMGR_BUILD_TESTS=ON
fi
ninja -C "$BUILD_DIR" compat_test
SYNCMGR_COMPAT_CUTS=0 "$BUILD_DIR/tests/compat_test" \
  --gtest_filter='*PowerCutDuringTheUpgradeLeavesOldOrNewFormat*'
