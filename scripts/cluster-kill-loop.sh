#!/usr/bin/env bash
# Cluster mode's long kill loop (issue 17: >= 50 cycles): three nats-servers,
# three `syncmgr serve --cluster` nodes, owners SIGKILLed at random instants
# under imports, syncs and edits; then durability, nothing partial, the same
# views on every node and `replay --verify` on each (tests/cluster/
# cluster_kill_loop.cc says what is checked). CI runs 3 cycles (ctest
# cluster_kill_loop); this is the soak run whose figures go to
# docs/reliability.md.
#
# Usage: scripts/cluster-kill-loop.sh [--build-dir DIR] [ARGS...]
#   DIR   a build tree with -DSYNCMGR_BUILD_TESTS=ON (default build-rel; made
#         as a Release tree when missing)
#   ARGS  passed to cluster_kill_loop (default: --cycles 50 --seed 1)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build-rel
if [ "${1:-}" = --build-dir ]; then BUILD_DIR=$2; shift 2; fi
ARGS=("$@")
[ ${#ARGS[@]} -eq 0 ] && ARGS=(--cycles 50 --seed 1)
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSYNCMGR_BUILD_TESTS=ON
fi
ninja -C "$BUILD_DIR" cluster_kill_loop syncmgr
exec "$BUILD_DIR/tests/cluster_kill_loop" "${ARGS[@]}"
