#!/usr/bin/env bash
# check_format_compatible.sh: rebuilds the golden data directories of
# tests/compat/golden/ from the builds that wrote each on-disk format, on the
# pattern of RocksDB's tools/check_format_compatible.sh
# (docs/reliability.md, "Format compatibility").
#
#   tests/compat/check_format_compatible.sh [--out DIR] [--keep] [COMMIT:FORMAT...]
#
# For each commit (default: the list below, each with the on-disk format it
# writes) it checks the commit out in a
# throwaway worktree (/tmp/gold-<commit>), builds its `syncmgr` (Release, no
# tests), runs make_golden.sh with that binary, and removes the worktree
# (--keep leaves it, with its build, for a rerun). The directories land in
# --out (default: tests/compat/golden of this checkout); commit them, then run
# the compatibility test (ctest -L compat) with the current build.
#
# A build that changes the on-disk format bumps kFormatVersion in
# engine/store.h; once merged, its commit goes in the list below, and a run
# with just that commit (check_format_compatible.sh <commit>:<format>) writes
# its golden directories; compat_test then holds every later build to them.
set -euo pipefail

# The last build of each on-disk format (engine/store.h, docs/architecture.md).
COMMITS_DEFAULT=(
  b2bb978:1  # before the delivery column family
  034c048:2  # with it (the base the format record was added on)
  4db591c:3  # the counts and the manual column family (issue 19)
)

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(git -C "$HERE" rev-parse --show-toplevel)
OUT="$REPO/tests/compat/golden"
KEEP=0
COMMITS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -*) echo "check_format_compatible.sh: unknown flag $1" >&2; exit 2 ;;
    *) COMMITS+=("$1"); shift ;;
  esac
done
[ ${#COMMITS[@]} -gt 0 ] || COMMITS=("${COMMITS_DEFAULT[@]}")
mkdir -p "$OUT"

export CCACHE_DIR="${CCACHE_DIR:-/root/.cache/ccache}" CCACHE_NOHASHDIR=1

for entry in "${COMMITS[@]}"; do
  commit=${entry%%:*}
  format=${entry#*:}
  if [ "$format" = "$entry" ] || [ -z "$format" ]; then
    echo "check_format_compatible.sh: $entry: want COMMIT:FORMAT" >&2
    exit 2
  fi
  short=$(git -C "$REPO" rev-parse --short=7 "$commit")
  tree="/tmp/gold-$short"
  echo "== $short: building syncmgr in $tree"
  if [ ! -d "$tree" ]; then
    git -C "$REPO" worktree add --detach "$tree" "$short" >/dev/null
  fi
  CCACHE_BASEDIR="$tree" cmake -S "$tree" -B "$tree/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSYNCMGR_BUILD_TESTS=OFF -DSYNCMGR_BUILD_BENCH=OFF -DSYNCMGR_WERROR=OFF >/dev/null
  CCACHE_BASEDIR="$tree" nice ninja -C "$tree/build" -j2 syncmgr syncmgr_engine >/dev/null
  bin="$tree/build/tools/syncmgr"
  args=(--bin "$bin" --commit "$short" --format "$format" --out "$OUT")
  if ! "$bin" backup --help >/dev/null 2>&1; then
    # No backup command yet: the same checkpoint through that build's store.
    echo "== $short: compiling checkpoint_tool against its engine"
    c++ -std=c++20 -O1 -I"$tree" "$HERE/checkpoint_tool.cc" \
      "$tree/build/engine/libsyncmgr_engine.a" -lrocksdb -lfmt -lpthread \
      -o "$tree/build/checkpoint_tool"
    args+=(--checkpoint-tool "$tree/build/checkpoint_tool")
  fi
  echo "== $short: writing golden directories"
  "$HERE/make_golden.sh" "${args[@]}"
  if [ "$KEEP" = 0 ]; then
    git -C "$REPO" worktree remove --force "$tree"
  fi
done
echo "== done: $(du -sh "$OUT" | cut -f1) in $OUT"
