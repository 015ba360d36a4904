#!/usr/bin/env bash
# Sync Manager's benchmark suite, one command (issue 6; bench/README.md):
#
#   scripts/bench.sh [--size tiny|small|1m] [--n N] [--no-peer] [--no-install]
#                    [--no-build] [--no-micro] [--build-dir DIR] [--workdir DIR]
#                    [--out FILE] [--get-seconds S] [--no-docs] [--seed S] [--cluster]
#
# Sizes: tiny   N = 2,000    (a smoke run: seconds; no timing means anything)
#        small  N = 100,000  (default; a few minutes with the peer)
#        1m     N = 1,000,000 (the figures of docs/benchmarks.md; ~15 min + the peer)
#
# What it does, in order:
#   1. installs what it needs with apt (wrk, nginx, gnuplot-nox, python3, curl, jq; the
#      peer's PostgreSQL 15 via bench/peers/postgres/install.sh) unless --no-install;
#   2. builds a Release tree (build-rel-bench: -DCMAKE_BUILD_TYPE=Release, no
#      sanitizers) with the benchmark programs, unless --no-build;
#   3. generates day 0 and day 1 (bench/gen, syncmgr-gen) and their expected stats;
#   4. micro benchmarks: engine_bench (Google Benchmark JSON), and feed_bench,
#      replay_bench, delivery_bench when they are built;
#   5. end to end over HTTP against `syncmgr serve` (bench/e2e/run_e2e.py):
#      imports, syncs, list streaming (warm, then cold after a restart with
#      the page cache dropped), GETs and history reads with wrk, RSS per
#      phase, bytes on disk; every stats answer checked against the generator;
#      then the dashboard's page loads in headless Chromium (bench/ui/page_load.py);
#   5c. with --cluster: cluster mode on the same files (bench/cluster/run_cluster.py:
#      3 nats-servers + 3 nodes on this machine; day-0 import and 1 % sync
#      throughput, replication lag, failover time) into WORKDIR/cluster.jsonl;
#   5d. the day-1 sync of ~the same number of changes at N and N/10, in process
#      (bench/e2e/same_k.py, syncmgr-bench-inproc) into WORKDIR/same_k.jsonl;
#   6. the machine's limits in the same run (bench/e2e/limits.py): parse +
#      canonical form + hash per core with the engine's code, the disk's
#      sequential write bandwidth and fsync rate, nginx serving one listing
#      under the GET phase's wrk settings (best of three);
#   7. the PostgreSQL peer on the same files (bench/peers/postgres/run.sh),
#      which checks its stats against the generator too;
#   8. writes bench/results/<size>-<date>.json (small, commit-able; raw logs in
#      bench/results/tmp/, ignored) and regenerates docs/benchmarks.md and its
#      plots (bench/report.py; gnuplot) — unless --no-docs or --size tiny.
# Exit status 0 when every phase ran and every stats check matched; 1 otherwise.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

SIZE=small
N=""
PEER=1
INSTALL=1
BUILD=1
DOCS=1
MICRO=1
BUILD_DIR="$REPO/build-rel-bench"
WORKDIR=""
OUT=""
GET_SECONDS=""
SEED=1
CLUSTER=0

usage() { sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE=$2; shift 2 ;;
    --n) N=$2; shift 2 ;;
    --no-peer) PEER=0; shift ;;
    --no-install) INSTALL=0; shift ;;
    --no-build) BUILD=0; shift ;;
    --no-docs) DOCS=0; shift ;;
    --no-micro) MICRO=0; shift ;;
    --build-dir) BUILD_DIR=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --workdir) WORKDIR=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --get-seconds) GET_SECONDS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --cluster) CLUSTER=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

case "$SIZE" in
  tiny)  N=${N:-2000};    GET_SECONDS=${GET_SECONDS:-2};  MICRO_FILTER="Canonical|ImportBatch/1000$|IncrementalSync/1000/64|ListStream/1000$|GetAsOf/64"; MICRO_MIN_TIME=0; DOCS=0 ;;
  small) N=${N:-100000};  GET_SECONDS=${GET_SECONDS:-10}; MICRO_FILTER="."; MICRO_MIN_TIME=0.2 ;;
  1m)    N=${N:-1000000}; GET_SECONDS=${GET_SECONDS:-15}; MICRO_FILTER="."; MICRO_MIN_TIME=0.5 ;;
  *) echo "bench.sh: --size is tiny, small or 1m" >&2; exit 2 ;;
esac

DATE=$(date -u +%Y-%m-%d)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORKDIR=${WORKDIR:-$REPO/bench/results/tmp/$SIZE-$STAMP}
OUT=${OUT:-$REPO/bench/results/$SIZE-$DATE.json}
mkdir -p "$WORKDIR" "$(dirname "$OUT")"
INPUT="$WORKDIR/input"
mkdir -p "$INPUT"
log() { echo "bench.sh [$(date +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg)]: $*" >&2; }
FAILED=0

# ---- 1. install ---------------------------------------------------------------
if [ "$INSTALL" = 1 ]; then
  need=()
  for p in wrk nginx gnuplot-nox python3 curl jq; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    log "apt-get install ${need[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
  bash scripts/bootstrap.sh
  if [ "$PEER" = 1 ]; then bash bench/peers/postgres/install.sh; fi
fi
for tool in python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is missing (run without --no-install)" >&2; exit 1; }
done

# ---- 2. build -----------------------------------------------------------------
TARGETS=(syncmgr engine_bench syncmgr-gen syncmgr-bench-compact syncmgr-bench-probe syncmgr-bench-inproc)
OPTIONAL=(feed_bench replay_bench delivery_bench)
if [ "$BUILD" = 1 ]; then
  log "building Release in $BUILD_DIR"
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$REPO} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
  # BENCH_WERROR=OFF if a GCC -O3 false positive (CI builds at -O2) stops the Release build.
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSYNCMGR_SANITIZE=OFF \
    -DSYNCMGR_WERROR="${BENCH_WERROR:-ON}" -DSYNCMGR_BUILD_TESTS=OFF -DSYNCMGR_BUILD_BENCH=ON >"$WORKDIR/cmake.log"
  build_targets=("${TARGETS[@]}")
  for t in "${OPTIONAL[@]}"; do
    if cmake --build "$BUILD_DIR" --target help 2>/dev/null | grep -q "^$t:"; then build_targets+=("$t"); fi
  done
  cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" --target "${build_targets[@]}" >"$WORKDIR/build.log" 2>&1 ||
    { tail -30 "$WORKDIR/build.log" >&2; echo "bench.sh: build failed (BENCH_WERROR=OFF skips -Werror)" >&2; exit 1; }
fi
SYNCMGR="$BUILD_DIR/tools/syncmgr"
GEN="$BUILD_DIR/bench/gen/syncmgr-gen"
COMPACT="$BUILD_DIR/bench/syncmgr-bench-compact"
PROBE="$BUILD_DIR/bench/syncmgr-bench-probe"
INPROC="$BUILD_DIR/bench/syncmgr-bench-inproc"
need_bins=("$SYNCMGR" "$GEN")
[ "$MICRO" = 1 ] && need_bins+=("$BUILD_DIR/bench/engine_bench")
for b in "${need_bins[@]}"; do
  [ -x "$b" ] || { echo "bench.sh: $b is not built" >&2; exit 1; }
done

# ---- 3. workload --------------------------------------------------------------
for d in 0 1; do
  if [ ! -s "$INPUT/day$d.ndjson" ] || [ ! -s "$INPUT/day$d.stats.json" ]; then
    log "generating day $d (N = $N)"
    "$GEN" --n "$N" --day "$d" --seed "$SEED" --out "$INPUT/day$d.ndjson" --stats-out "$INPUT/day$d.stats.json"
  fi
done

# ---- 4. micro benchmarks ------------------------------------------------------
MICRO_DIR="$WORKDIR/micro"
mkdir -p "$MICRO_DIR"
if [ "$MICRO" = 1 ]; then
log "engine_bench"
"$BUILD_DIR/bench/engine_bench" --benchmark_filter="$MICRO_FILTER" --benchmark_min_time="$MICRO_MIN_TIME" \
  --benchmark_out="$MICRO_DIR/engine_bench.json" --benchmark_out_format=json >"$MICRO_DIR/engine_bench.txt" 2>&1 ||
  { log "engine_bench failed (see $MICRO_DIR/engine_bench.txt)"; FAILED=1; }
# The feed, replay and delivery benchmarks (issues 4, 5, 9) print one JSON
# object on stdout; --tiny is their smoke size.
PROG_DIR="$WORKDIR/programs"
mkdir -p "$PROG_DIR"
for prog in "${OPTIONAL[@]}"; do
  bin="$BUILD_DIR/bench/$prog"
  if [ -x "$bin" ]; then
    log "$prog"
    args=()
    [ "$SIZE" = tiny ] && args+=(--tiny)
    "$bin" "${args[@]}" >"$PROG_DIR/$prog.json" 2>"$PROG_DIR/$prog.log" ||
      { log "$prog failed (see $PROG_DIR/$prog.log)"; FAILED=1; rm -f "$PROG_DIR/$prog.json"; }
  else
    log "$prog: not built, skipped"
  fi
done
fi

# ---- 5. end to end over HTTP ---------------------------------------------------
log "end to end over HTTP (N = $N)"
compact_args=()
[ -x "$COMPACT" ] && compact_args=(--compact "$COMPACT")
python3 bench/e2e/run_e2e.py --syncmgr "$SYNCMGR" "${compact_args[@]}" --n "$N" --input-dir "$INPUT" \
  --workdir "$WORKDIR/e2e" --out "$WORKDIR/syncmgr.jsonl" --get-seconds "$GET_SECONDS" ||
  { log "end-to-end run failed or a stats check did not match (see $WORKDIR/e2e)"; FAILED=1; }

# ---- 5b. the dashboard's page loads (issue 19) -----------------------------------
# Headless Chromium (Debian's chromium + chromium-driver + python3-selenium,
# scripts/bootstrap.sh); its JSON joins the programs of the run.
if [ -x /usr/bin/chromedriver ] && /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
  log "dashboard page loads (N = $N)"
  mkdir -p "$WORKDIR/programs"
  /usr/bin/python3 bench/ui/page_load.py --syncmgr "$SYNCMGR" --n "$N" --input "$INPUT/day0.ndjson" \
    --out "$WORKDIR/programs/ui_page_load.json" >"$WORKDIR/ui_page_load.log" 2>&1 ||
    { log "dashboard page loads failed (see $WORKDIR/ui_page_load.log)"; FAILED=1;
      rm -f "$WORKDIR/programs/ui_page_load.json"; }
else
  log "dashboard page loads: chromium-driver or python3-selenium missing, skipped"
fi

# ---- 5c. cluster mode ------------------------------------------------------------
if [ "$CLUSTER" = 1 ]; then
  log "cluster mode: 3 nats-servers + 3 nodes (N = $N)"
  python3 bench/cluster/run_cluster.py --syncmgr "$SYNCMGR" --n "$N" --input-dir "$INPUT" \
    --workdir "$WORKDIR/cluster" --out "$WORKDIR/cluster.jsonl" >"$WORKDIR/cluster-run.log" 2>&1 ||
    { log "cluster run failed or a stats check did not match (see $WORKDIR/cluster-run.log)"; FAILED=1; }
fi

# ---- 5d. the same k at N and N/10 (issue 18) --------------------------------------
# The day-1 sync of ~the same number of changes into N and N/10 listings, in
# process (syncmgr-bench-inproc, the list skipped), alternating.
if [ -x "$INPROC" ]; then
  log "the same k at N and N/10, in process (N = $N)"
  python3 bench/e2e/same_k.py --inproc "$INPROC" --gen "$GEN" --n "$N" --seed "$SEED" \
    --input-dir "$INPUT" --workdir "$WORKDIR/same_k" --out "$WORKDIR/same_k.jsonl" \
    >"$WORKDIR/same_k.out" 2>&1 || { log "the same-k run failed (see $WORKDIR/same_k.out)"; FAILED=1; }
else
  log "syncmgr-bench-inproc is not built: the same k at N/10 is not measured"
fi

# ---- 6. the machine's limits ----------------------------------------------------
if [ -x "$PROBE" ]; then
  log "the machine's limits: parse per core, disk, nginx"
  limit_args=()
  [ "$SIZE" = tiny ] && limit_args+=(--write-mib 16 --fsyncs 50 --nginx-runs 1)
  python3 bench/e2e/limits.py --probe "$PROBE" --n "$N" --input-dir "$INPUT" --workdir "$WORKDIR/limits" \
    --out "$WORKDIR/limits.jsonl" --get-seconds "$GET_SECONDS" "${limit_args[@]}" >"$WORKDIR/limits.out" 2>&1 ||
    { log "a limit probe failed (see $WORKDIR/limits.out)"; FAILED=1; }
else
  log "syncmgr-bench-probe is not built: the machine's limits are not measured"
fi

# ---- 7. the PostgreSQL peer ---------------------------------------------------
if [ "$PEER" = 1 ]; then
  log "PostgreSQL peer (N = $N)"
  bash bench/peers/postgres/run.sh --n "$N" --seed "$SEED" --gen "$GEN" --input-dir "$INPUT" \
    --get-seconds "$GET_SECONDS" --workdir "$WORKDIR" --out "$WORKDIR/postgres.jsonl" \
    >"$WORKDIR/postgres.log" 2>&1 || { log "peer failed or its stats did not match (see $WORKDIR/postgres.log)"; FAILED=1; }
fi

# ---- 8. results and docs --------------------------------------------------------
log "writing $OUT"
python3 bench/report.py assemble --size "$SIZE" --n "$N" --seed "$SEED" --workdir "$WORKDIR" \
  --build-dir "$BUILD_DIR" --out "$OUT" --command "scripts/bench.sh --size $SIZE${PEER:+}$([ "$PEER" = 0 ] && echo ' --no-peer')"
if [ "$DOCS" = 1 ]; then
  log "regenerating docs/benchmarks.md"
  python3 bench/report.py docs --results "$OUT" --md docs/benchmarks.md --img-dir docs/img
fi
# The inputs are large and reproducible (syncmgr-gen); keep only logs.
[ "${KEEP_INPUT:-0}" = 1 ] || rm -rf "$INPUT"
[ "$FAILED" = 0 ] && log "done: $OUT" || log "done with failures: $OUT"
exit "$FAILED"
