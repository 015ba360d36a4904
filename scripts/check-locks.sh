#!/usr/bin/env bash
# Checks that engine/, delivery/, cluster/ and the feed hub (server/feed_hub.*)
# use only the annotated lock types of engine/mutex.h (Mutex, MutexLock,
# CondVar), which clang's thread-safety analysis can check
# (scripts/check-thread-safety.sh; docs/reliability.md, "Checked locks"):
# no bare std::mutex, std::shared_mutex, std::condition_variable,
# std::lock_guard, std::unique_lock (nor their kin) outside engine/mutex.h.
#
# Usage: scripts/check-locks.sh [ROOT]   (default: this checkout)
# Prints one line per use, "path:line: text", and exits 1; exits 0 with a
# one-line summary otherwise. Run by scripts/test.sh before the build, and by
# ctest (label lint).
set -euo pipefail
root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}
cd "$root"
paths=()
for p in engine delivery cluster server/feed_hub.h server/feed_hub.cc; do
  [ -e "$p" ] && paths+=("$p")
done
if [ ${#paths[@]} = 0 ]; then
  echo "check-locks: none of engine/, delivery/, cluster/, server/feed_hub.* in $root" >&2
  exit 1
fi
pattern='std::(mutex|shared_mutex|timed_mutex|recursive_mutex|shared_timed_mutex|condition_variable(_any)?|lock_guard|unique_lock|shared_lock|scoped_lock)\b'
if found=$(grep -rnE --include='*.h' --include='*.cc' "$pattern" "${paths[@]}" |
           grep -v '^engine/mutex\.h:'); then
  echo "$found"
  echo "check-locks: use Mutex, MutexLock and CondVar (engine/mutex.h) here, so that" \
       "clang's -Wthread-safety checks the locking" >&2
  exit 1
fi
echo "check-locks: engine/, delivery/, cluster/ and the feed hub use only the annotated lock types"
