#!/usr/bin/env bash
# Installs what is needed, builds everything with ASan + UBSan and
# -Wall -Wextra -Werror, and runs every test. This is the README's test
# command; .ci/run calls it.
#
#   BUILD_DIR   build directory            (default: build-test)
#   JOBS        parallel build/test jobs   (default: number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh

BUILD_DIR=${BUILD_DIR:-build-test}
JOBS=${JOBS:-$(nproc)}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Paths relative to the checkout, so a fresh clone elsewhere reuses the cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSYNCMGR_SANITIZE=ON -DSYNCMGR_WERROR=ON \
  -DSYNCMGR_BUILD_TESTS=ON -DSYNCMGR_BUILD_BENCH=ON
cmake --build "$BUILD_DIR" -j "$JOBS"

# Leak checking stays on; RocksDB's own static caches are freed at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD_DIR"
ctest --output-on-failure -j "$JOBS" --timeout 600
