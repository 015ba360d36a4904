#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/) with Debian's clang 14 and
# -fsanitize=fuzzer,address,undefined in a build directory of their own, then
# runs each for a bounded time on its committed seed corpus (fuzz/corpus/NAME)
# plus a working corpus in the build directory (kept between runs).
# A crash, sanitizer report or broken invariant fails the script; libFuzzer
# saves the input as BUILD_DIR/artifacts/NAME-crash-* (reproduce: run the
# harness with that file as its only argument).
#
#   FUZZ_SECONDS  seconds per harness      (default: 60)
#   FUZZ_JOBS     parallel fuzzing workers (default: 1)
#   BUILD_DIR     build directory          (default: build-fuzz)
#   HARNESSES     which ones               (default: all four)
#
# The parser harnesses (import_parser, canonical) build from four engine
# sources; the server harnesses (http_request, query_params) instrument the
# whole engine and server (fuzz/CMakeLists.txt), a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
missing=()
for p in clang-14 libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-1}
BUILD_DIR=${BUILD_DIR:-build-fuzz}
HARNESSES=${HARNESSES:-"import_parser canonical http_request query_params"}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}

# Every target gets coverage instrumentation and the sanitizers; only the
# harnesses link libFuzzer's main (fuzz/CMakeLists.txt).
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DSYNCMGR_FUZZ=ON -DSYNCMGR_SANITIZE=OFF -DSYNCMGR_WERROR=OFF \
  -DSYNCMGR_BUILD_TESTS=OFF -DSYNCMGR_BUILD_BENCH=OFF -DSYNCMGR_BUILD_SERVER=ON
targets=()
for h in $HARNESSES; do targets+=("${h}_fuzz"); done
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$BUILD_DIR/artifacts"
for h in $HARNESSES; do
  bin=$(find "$BUILD_DIR" -type f -name "${h}_fuzz" -perm -u+x | head -n 1)
  work="$BUILD_DIR/corpus/$h"
  mkdir -p "$work"
  echo "== fuzzing $h for ${FUZZ_SECONDS} s"
  parallel=()
  if [ "$FUZZ_JOBS" -gt 1 ]; then parallel=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"); fi
  "$bin" -max_total_time="$FUZZ_SECONDS" "${parallel[@]}" \
    -print_final_stats=1 -dict=fuzz/json.dict -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$BUILD_DIR/artifacts/$h-" "$work" "fuzz/corpus/$h"
done
