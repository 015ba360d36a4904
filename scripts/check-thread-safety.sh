#!/usr/bin/env bash
# Checks the lock annotations (docs/reliability.md, "Checked locks") with
# clang's thread-safety analysis:
#
#   sources BUILD_DIR  every .cc of engine/, delivery/, cluster/ and
#                      server/feed_hub.cc, with the include paths, defines and
#                      language level of BUILD_DIR/compile_commands.json, run
#                      through clang++-14 -fsyntax-only -Wthread-safety
#                      -Wthread-safety-beta -Werror (parsing only: no code is
#                      made, so it costs about a minute on 2 cores). Fails on
#                      any finding. The build directory needs its generated
#                      FlatBuffers headers (target syncmgr_schema_gen).
#   sample             tests/thread_safety/wrong_sample.cc, which breaks the
#                      rules on purpose, must be refused with the findings it
#                      was written to provoke: proof that the check above
#                      checks. Fails if the sample compiles.
#
# Usage: scripts/check-thread-safety.sh sources BUILD_DIR | sample
# Environment: CLANGXX (default clang++-14), JOBS (default: number of cores).
# Run by scripts/test.sh before the ASan build, and by ctest (label lint).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode=${1:-}
CLANGXX=${CLANGXX:-clang++-14}
if ! command -v "$CLANGXX" >/dev/null; then
  echo "check-thread-safety: $CLANGXX not found (scripts/bootstrap.sh installs clang-14)" >&2
  exit 1
fi
FLAGS=(-fsyntax-only -Wthread-safety -Wthread-safety-beta -Werror)

case "$mode" in
  sources)
    build=${2:?"usage: $0 sources BUILD_DIR"}
    exec python3 - "$root" "$build" "$CLANGXX" "${JOBS:-$(nproc)}" "${FLAGS[@]}" <<'PY'
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import time

root, build, clangxx, jobs = sys.argv[1:5]
flags = sys.argv[5:]
root = os.path.abspath(root)
db_path = os.path.join(build, "compile_commands.json")
if not os.path.exists(db_path):
    sys.exit(f"check-thread-safety: {db_path} is missing (configure the build first)")

# The annotated sources: every mutex there is an annotated engine/mutex.h type.
FOLDERS = ("engine/", "delivery/", "cluster/")
FILES = ("server/feed_hub.cc",)


def wanted(path):
    rel = os.path.relpath(os.path.abspath(path), root)
    return rel.endswith(".cc") and (rel.startswith(FOLDERS) or rel in FILES)


def clang_args(entry):
    """Include paths, defines and -std of a GCC command line; nothing else
    (GCC's warning flags are not clang's, and no object file is made)."""
    args = entry.get("arguments") or shlex.split(entry["command"])
    out = []
    it = iter(args[1:])
    for a in it:
        if a in ("-I", "-isystem", "-D", "-iquote"):
            out += [a, next(it)]
        elif a.startswith(("-I", "-D", "-std=", "-isystem")):
            out.append(a)
    return out


entries = {}
for e in json.load(open(db_path)):
    path = e["file"] if os.path.isabs(e["file"]) else os.path.join(e["directory"], e["file"])
    if wanted(path):
        entries[os.path.relpath(path, root)] = (e["directory"], path, clang_args(e))
if not entries:
    sys.exit(f"check-thread-safety: no engine/, delivery/ or cluster/ sources in {db_path}")


def check(rel):
    directory, path, args = entries[rel]
    r = subprocess.run([clangxx, *args, *flags, path], cwd=directory,
                       capture_output=True, text=True)
    return rel, r.returncode, r.stderr


start = time.monotonic()
failed = []
with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
    for rel, code, err in pool.map(check, sorted(entries)):
        if code != 0:
            failed.append(rel)
            sys.stderr.write(err)
took = time.monotonic() - start
if failed:
    print(f"thread-safety: {len(failed)} of {len(entries)} files refused by {clangxx} "
          f"{' '.join(flags)}: {', '.join(failed)}")
    sys.exit(1)
print(f"thread-safety: {len(entries)} files of engine/, delivery/, cluster/ and the feed hub "
      f"clean under {clangxx} {' '.join(flags[1:])} ({took:.0f} s)")
PY
    ;;
  sample)
    sample="$root/tests/thread_safety/wrong_sample.cc"
    out=$("$CLANGXX" -std=c++20 -I"$root" "${FLAGS[@]}" "$sample" 2>&1) && {
      echo "thread-safety: $sample compiled, but it breaks the lock rules on purpose:" \
        "the check does not check" >&2
      exit 1
    }
    # Refused, and for the reasons it was written for (not, say, a typo).
    missing=0
    for want in "reading variable 'balance_' requires holding mutex 'mu_'" \
                "writing variable 'balance_' requires holding mutex 'mu_'" \
                "calling function 'AddLocked' requires holding mutex 'mu_'" \
                "releasing mutex 'mu_' that was not held" \
                "mutex 'mu_' is still held at the end of function"; do
      if ! grep -qF "$want" <<<"$out"; then
        echo "thread-safety: the sample was refused, but without: $want" >&2
        missing=1
      fi
    done
    if [ "$missing" != 0 ]; then
      echo "$out" >&2
      exit 1
    fi
    echo "thread-safety: the wrong sample is refused ($(grep -c 'error:' <<<"$out") findings)"
    ;;
  *)
    echo "usage: $0 sources BUILD_DIR | sample" >&2
    exit 2
    ;;
esac
