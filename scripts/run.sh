#!/usr/bin/env bash
# Installs what is needed, builds Sync Manager (optimised) and runs the
# server on the default data directory ./syncmgr-data. This is the README's
# run command. Extra arguments go to `syncmgr serve` (e.g. --port 9000).
#
#   BUILD_DIR   build directory   (default: build-release)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh

BUILD_DIR=${BUILD_DIR:-build-release}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSYNCMGR_BUILD_TESTS=OFF -DSYNCMGR_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD_DIR" --target syncmgr

exec "$BUILD_DIR/tools/syncmgr" serve --db ./syncmgr-data "$@"
