#!/usr/bin/env bash
# The PostgreSQL peer of Sync Manager's benchmark: the same day-over-day
# workload on a throwaway local PostgreSQL 15 cluster (loopback only, default
# durability), timed phase by phase, with its stats checked against
# syncmgr-gen's expectations. See bench/README.md.
#
#   bench/peers/postgres/run.sh --n N [--seed S] [--gen PATH] [--out FILE]
#       [--input-dir DIR] [--get-seconds 10] [--clients 64] [--threads 2]
#       [--workdir DIR] [--keep]
#
# Phases (one JSON line each, on stdout and in --out FILE):
#   day0_import  full import of day 0 (N listings, NDJSON over COPY)
#   day0_sync    source -> target, everything created
#   day1_import  full import of day 1 (~1 % updated, ~0.2 % removed / new)
#   day1_sync    source -> target, the day's changes
#   vacuum       VACUUM (ANALYZE) of the written tables (autovacuum's debt, timed apart)
#   get          single-property reads with pgbench, -c 64 -j 2 (DB side only)
#   storage      pg_database_size and per-table sizes after the run
# Import and sync lines also carry the five slowest SQL statements of the phase.
# Exit status: 0 when every phase ran and every stats object matched the
# generator's; 1 otherwise.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

N=10000
SEED=1
GEN=""
OUT=""
INPUT_DIR=""
GET_SECONDS=10
CLIENTS=64
THREADS=2
WORK_PARENT=${TMPDIR:-/tmp}
KEEP=0

usage() { sed -n '2,22p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --n) N=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --gen) GEN=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --input-dir) INPUT_DIR=$2; shift 2 ;;
    --get-seconds) GET_SECONDS=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --workdir) WORK_PARENT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "run.sh: $*" >&2; exit 1; }

for b in initdb pg_ctl psql pgbench; do
  [ -x "$PGBIN/$b" ] || die "$PGBIN/$b missing: run bench/peers/postgres/install.sh"
done
command -v jq >/dev/null || die "jq missing: run bench/peers/postgres/install.sh"
if [ -z "$GEN" ]; then
  for g in "$REPO/build/bench/gen/syncmgr-gen" "$(command -v syncmgr-gen || true)"; do
    if [ -n "$g" ] && [ -x "$g" ]; then GEN=$g; break; fi
  done
fi

WORK=$(mktemp -d "$WORK_PARENT/syncmgr-pg.XXXXXX")
PGDATA="$WORK/pgdata"
SOCKDIR="$WORK/sock"
LOGDIR="$WORK/log"
LOG="$LOGDIR/postgres.log"
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: the server runs as Debian's postgres user.
  id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' user (install.sh)"
  RUN_AS=(runuser -u postgres --)
  chmod 711 "$WORK"
fi

cleanup() {
  local rc=$?
  if [ -f "$PGDATA/postmaster.pid" ]; then
    "${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ "$KEEP" -eq 1 ]; then
    echo "run.sh: kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
seconds_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }

# --- inputs ---------------------------------------------------------------
if [ -z "$INPUT_DIR" ]; then INPUT_DIR="$WORK/input"; fi
mkdir -p "$INPUT_DIR"
for d in 0 1; do
  if [ ! -s "$INPUT_DIR/day$d.ndjson" ] || [ ! -s "$INPUT_DIR/day$d.stats.json" ]; then
    [ -n "$GEN" ] || die "syncmgr-gen not found: build it or pass --gen PATH"
    "$GEN" --n "$N" --day "$d" --seed "$SEED" --out "$INPUT_DIR/day$d.ndjson" \
      --stats-out "$INPUT_DIR/day$d.stats.json"
  fi
  jq -e --argjson n "$N" --argjson seed "$SEED" --argjson d "$d" \
    '.n == $n and .seed == $seed and .day == $d' "$INPUT_DIR/day$d.stats.json" >/dev/null ||
    die "$INPUT_DIR/day$d.* were generated with other --n/--seed"
done

# --- the cluster ----------------------------------------------------------
free_port() {
  local p
  for p in $(shuf -i 20000-60000 -n 100); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  die "no free loopback port"
}
PORT=$(free_port)
PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
mkdir -p "$PGDATA" "$SOCKDIR" "$LOGDIR"
printf '%s\n' "$PASSWORD" > "$WORK/pwfile"
chmod 600 "$WORK/pwfile"
if [ ${#RUN_AS[@]} -gt 0 ]; then chown postgres: "$PGDATA" "$SOCKDIR" "$LOGDIR" "$WORK/pwfile"; fi
chmod 700 "$PGDATA"
# C collation: external_id order is byte order, as in Sync Manager. --no-sync
# only skips initdb's own final fsync of the bootstrap files.
"${RUN_AS[@]}" "$PGBIN/initdb" -D "$PGDATA" -U bench --pwfile="$WORK/pwfile" \
  --auth=scram-sha-256 -E UTF8 --locale=C --no-sync >"$WORK/initdb.log" 2>&1 ||
  { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
rm -f "$WORK/pwfile"
{
  echo
  echo "# --- bench/peers/postgres/peer.conf ---"
  cat "$HERE/peer.conf"
  echo "port = $PORT"
  echo "unix_socket_directories = '$SOCKDIR'"
} | "${RUN_AS[@]}" tee -a "$PGDATA/postgresql.conf" >/dev/null
"${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$LOG" -w -t 120 start >/dev/null ||
  { tail -n 30 "$LOG" >&2; die "postgres did not start"; }

export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=bench PGDATABASE=bench
export PGPASSFILE="$WORK/pgpass"
printf '127.0.0.1:%s:*:bench:%s\n' "$PORT" "$PASSWORD" > "$PGPASSFILE"
chmod 600 "$PGPASSFILE"
PSQL=("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE bench" >/dev/null
"${PSQL[@]}" -f "$HERE/schema.sql" >/dev/null
PG_VERSION=$("${PSQL[@]}" -c "SHOW server_version")

# --- phases ---------------------------------------------------------------
if [ -n "$OUT" ]; then mkdir -p "$(dirname "$OUT")"; : > "$OUT"; fi
FAILED=0
emit() {  # one JSON line to stdout and --out
  echo "$1"
  if [ -n "$OUT" ]; then echo "$1" >> "$OUT"; fi
}
# The server logs every statement of the import and sync sessions with its
# duration (PGOPTIONS below); a phase reports its slowest ones, to show what
# bounds it.
log_lines() { wc -l < "$LOG"; }
slowest_statements() {  # LOG_LINE_BEFORE_PHASE -> JSON array, slowest first
  tail -n +"$(($1 + 1))" "$LOG" |
    sed -n 's/.*duration: \([0-9.]*\) ms  statement: \(.*\)/\1\t\2/p' |
    sort -t "$(printf '\t')" -k1,1 -rn | head -n 5 |
    jq -R -s -c 'split("\n") | map(select(length > 0) | split("\t") |
      {ms: (.[0] | tonumber | floor), sql: (.[1] | .[0:90])})'
}
STATEMENTS='[]'
# phase NAME SECONDS STATS_JSON EXPECTED_JSON (EXPECTED may be "null")
phase() {
  local match
  match=$(jq -n --argjson s "$3" --argjson e "$4" \
    'if $e == null then null else ([$e | keys[] as $k | $s[$k] == $e[$k]] | all) end')
  if [ "$match" = "false" ]; then
    FAILED=1
    echo "run.sh: $1: stats $3 differ from the generator's $4" >&2
  fi
  emit "$(jq -nc --arg phase "$1" --argjson n "$N" --argjson sec "$2" --argjson stats "$3" \
    --argjson exp "$4" --argjson match "$match" --arg v "$PG_VERSION" \
    --argjson load "$(cut -d' ' -f1 /proc/loadavg)" --argjson slowest "$STATEMENTS" \
    '{system: "postgres", version: $v, phase: $phase, n: $n, seconds: $sec, loadavg_1m: $load,
      per_s: (if $stats.received then ($stats.received / $sec | floor) else null end),
      stats: $stats, expected: $exp, match: $match}
     + (if $slowest == [] then {} else {slowest_statements: $slowest} end)')"
  STATEMENTS='[]'
}

import_day() {  # day
  local d=$1 t0 out expected mark
  mark=$(log_lines)
  t0=$(now_ns)
  out=$(PGOPTIONS="-c log_min_duration_statement=0" "${PSQL[@]}" -v source_id=1 -v mode=full \
    -f "$HERE/import.sql" < "$INPUT_DIR/day$d.ndjson") || die "day $d import failed"
  local sec; sec=$(seconds_since "$t0")
  STATEMENTS=$(slowest_statements "$mark")
  jq -e '.stats' <<<"$out" >/dev/null 2>&1 || die "day $d import answered: $out"
  expected=$(jq -c '{received, created, updated, unchanged, removed}' "$INPUT_DIR/day$d.stats.json")
  phase "day${d}_import" "$sec" "$(jq -c '.stats' <<<"$out")" "$expected"
}

sync_day() {  # day
  local d=$1 t0 out expected mark
  mark=$(log_lines)
  t0=$(now_ns)
  out=$(PGOPTIONS="-c log_min_duration_statement=0" "${PSQL[@]}" -v source_id=1 -v target_id=1 \
    -f "$HERE/sync.sql") || die "day $d sync failed"
  local sec; sec=$(seconds_since "$t0")
  STATEMENTS=$(slowest_statements "$mark")
  expected=$(jq -c '{created, updated, unchanged, removed, conflicts: 0}' \
    "$INPUT_DIR/day$d.stats.json")
  phase "day${d}_sync" "$sec" "$(jq -c '.stats' <<<"$out")" "$expected"
}

import_day 0
sync_day 0
import_day 1
sync_day 1

t0=$(now_ns)
"${PSQL[@]}" -c "VACUUM (ANALYZE) source_properties, target_properties, property_history" >/dev/null
phase vacuum "$(seconds_since "$t0")" '{}' null

# Single-property reads: pgbench's clients against the target table. This
# measures the database alone (no HTTP, no JSON framing of an answer), which
# flatters the peer next to an end-to-end HTTP figure.
mkdir -p "$WORK/pgbench"
(
  cd "$WORK/pgbench"
  "$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j "$THREADS" -T "$GET_SECONDS" -D n="$N" \
    -f "$HERE/get.pgbench" --log --log-prefix=get > summary.txt 2> pgbench.err
) || { cat "$WORK/pgbench/pgbench.err" >&2; die "pgbench failed"; }
TPS=$(awk '/^tps = / { print $3; exit }' "$WORK/pgbench/summary.txt")
TX=$(awk -F': ' '/number of transactions actually processed/ { split($2, a, "/"); print a[1] }' \
  "$WORK/pgbench/summary.txt")
# Per-transaction log lines: client_id transaction_no latency_us script_no epoch us.
LAT=$(cat "$WORK/pgbench"/get.* | awk '{ print $3 }' | sort -n | awk '
  { v[NR] = $1 }
  END {
    if (NR == 0) { print "null null null"; exit }
    p50 = v[int(NR * 0.50 + 0.5) > 0 ? int(NR * 0.50 + 0.5) : 1]
    p99 = v[int(NR * 0.99 + 0.5) > 0 ? int(NR * 0.99 + 0.5) : 1]
    printf "%.3f %.3f %.3f\n", p50 / 1000, p99 / 1000, v[NR] / 1000
  }')
read -r P50 P99 PMAX <<<"$LAT"
phase get "$GET_SECONDS" "$(jq -nc --argjson c "$CLIENTS" --argjson j "$THREADS" \
  --argjson tps "$TPS" --argjson tx "$TX" --argjson p50 "$P50" --argjson p99 "$P99" \
  --argjson max "$PMAX" \
  '{clients: $c, threads: $j, transactions: $tx, tps: ($tps | floor), p50_ms: $p50,
    p99_ms: $p99, max_ms: $max}')" null

RAW0=$(stat -c %s "$INPUT_DIR/day0.ndjson")
STORAGE=$("${PSQL[@]}" -c "CHECKPOINT" -c "
  SELECT jsonb_build_object(
    'database_bytes', pg_database_size(current_database()),
    'raw_day0_json_bytes', $RAW0::bigint,
    'ratio_to_raw_day0', round(pg_database_size(current_database())::numeric / $RAW0, 3),
    'tables', (SELECT jsonb_object_agg(relname, pg_total_relation_size(oid))
                 FROM pg_class
                WHERE relname IN ('source_properties', 'target_properties', 'property_history',
                                  'import_log', 'sync_log')),
    'wal_bytes', (SELECT sum(size) FROM pg_ls_waldir()))")
phase storage 0 "$STORAGE" null

[ "$FAILED" -eq 0 ] || die "stats differ from the generator's (see above)"
