#!/usr/bin/env bash
# make_golden.sh: writes the golden data directories of one build of syncmgr
# for the format-compatibility test (tests/compat/compat_test.cc,
# docs/reliability.md "Format compatibility").
#
#   tests/compat/make_golden.sh --bin BUILD/tools/syncmgr --commit SHORT --format N \
#       --out DIR [--checkpoint-tool BIN]
#
# Starts `syncmgr serve` of that build on a scratch directory and a loopback
# port and writes, over HTTP, every kind of record the build supports (it
# probes: key rotation, push targets, feed tokens and the feed arrived after
# the first builds). Then it records the answers of the reads below, stops
# the server with SIGTERM and leaves two golden directories:
#
#   DIR/SHORT-wal/     as left by the clean stop (the data still in the WAL)
#   DIR/SHORT-backup/  after `syncmgr backup` (flushed into table files); a
#                      build without that command gets the same RocksDB
#                      checkpoint from --checkpoint-tool (checkpoint_tool.cc
#                      compiled against that build's engine)
#
# each holding db/ (the RocksDB files, without the info LOG), manifest.json
# (the on-disk format N, keys, replay points, the list of reads) and expected/NAME.json (each read's
# answer, as served). Every time in the data comes from the log, so the
# answers do not vary from run to run: the script checks that by serving a
# copy of each form with the same build and comparing every answer byte for
# byte. Needs curl and jq. check_format_compatible.sh runs it for each commit.
set -euo pipefail

BIN=""
COMMIT=""
FORMAT=""
OUT=""
CHECKPOINT_TOOL=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --commit) COMMIT="$2"; shift 2 ;;
    --format) FORMAT="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --checkpoint-tool) CHECKPOINT_TOOL="$2"; shift 2 ;;
    *) echo "make_golden.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$BIN" ] || [ -z "$COMMIT" ] || [ -z "$FORMAT" ] || [ -z "$OUT" ]; then
  echo "usage: make_golden.sh --bin SYNCMGR --commit SHORT --format N --out DIR" \
    "[--checkpoint-tool BIN]" >&2
  exit 2
fi
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "make_golden.sh: needs $tool" >&2; exit 2; }
done
BIN=$(realpath "$BIN")
mkdir -p "$OUT"
OUT=$(realpath "$OUT")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/syncmgr-golden.XXXXXX")
PUSH_ROOT="$WORK/push"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

die() { echo "make_golden.sh: $*" >&2; exit 1; }

# A fixed admin key: no admin.key file is written into the directory.
ADMIN="golden-admin-key-$COMMIT"
export SYNCMGR_ADMIN_KEY="$ADMIN"
PORT=""
URL=""

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server DB [FLAGS...]: serve DB on a free loopback port, wait for /health.
start_server() {
  local db="$1"; shift
  PORT=$(free_port)
  URL="http://127.0.0.1:$PORT"
  "$BIN" serve --db "$db" --port "$PORT" "$@" >>"$WORK/serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    if curl -s -o /dev/null "$URL/health"; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; die "serve exited"; }
    sleep 0.05
  done
  die "serve did not answer /health"
}

# stop_server: SIGTERM (a clean stop) and wait, bounded.
stop_server() {
  kill -TERM "$SERVER_PID"
  for _ in $(seq 1 600); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      wait "$SERVER_PID" || die "serve exited with status $? after SIGTERM"
      SERVER_PID=""
      return 0
    fi
    sleep 0.1
  done
  die "serve did not stop within 60 s of SIGTERM"
}

# call KEY METHOD PATH [BODY [CONTENT_TYPE]]: sets STATUS and BODY.
call() {
  local key="$1" method="$2" path="$3" body="${4-}" ctype="${5:-application/json}"
  local args=(-s -o "$WORK/body" -w '%{http_code}' -X "$method" -H "X-API-Key: $key")
  if [ -n "$body" ]; then args+=(-H "Content-Type: $ctype" --data-binary "$body"); fi
  STATUS=$(curl "${args[@]}" "$URL$path")
  BODY=$(cat "$WORK/body")
}

# must EXPECTED_STATUS KEY METHOD PATH [BODY [CONTENT_TYPE]]
must() {
  local want="$1"; shift
  call "$@"
  [ "$STATUS" = "$want" ] || die "$2 $3 answered $STATUS, want $want: $BODY"
}

# ---- Write every kind of record ---------------------------------------------

DB="$WORK/db"
mkdir -p "$PUSH_ROOT"
SERVE_FLAGS=()
SERVE_HELP=$("$BIN" serve --help 2>&1 || true)
if grep -q -- --allow-private-push <<<"$SERVE_HELP"; then SERVE_FLAGS+=(--allow-private-push); fi
if grep -q -- --file-push-root <<<"$SERVE_HELP"; then SERVE_FLAGS+=(--file-push-root "$PUSH_ROOT"); fi
start_server "$DB" "${SERVE_FLAGS[@]}"

must 201 "$ADMIN" POST /tenants '{"name":"Acme"}'
T1=$(jq -r .api_key <<<"$BODY")
must 201 "$ADMIN" POST /tenants '{"name":"Globex"}'
T2=$(jq -r .api_key <<<"$BODY")

# Key rotation (an extra key, and a revoked one), where the build has it.
T1_EXTRA=""
T1_REVOKED=""
call "$ADMIN" POST /tenants/1/keys '{}'
if [ "$STATUS" = 201 ]; then
  T1_EXTRA=$(jq -r .api_key <<<"$BODY")
  must 201 "$ADMIN" POST /tenants/1/keys '{}'
  T1_REVOKED=$(jq -r .api_key <<<"$BODY")
  must 200 "$ADMIN" DELETE "/keys/$(jq -r .prefix <<<"$BODY")"
fi

must 201 "$T1" POST /sources \
  '{"name":"portal","config":{"id_field":"ref","ignore_fields":["scraped_at","views"]}}'
must 201 "$T1" POST /sources '{"name":"partner","type":"feed","config":{"max_removal_ratio":0.5}}'
must 201 "$T1" POST /targets '{"name":"website","config":{"locale":"en","region":"eu"}}'
must 201 "$T1" POST /targets '{"name":"archive"}'
TARGETS=(1 2)

# Push targets, where the build has them: a webhook to a loopback port where
# nothing listens (each batch fails once and becomes a dead letter) and a
# file target. Both are paused before the reads, so no later build sends.
WEBHOOK=""
FILE_TARGET=""
call "$T1" POST /targets '{"name":"hook","type":"webhook","config":{"url":"http://127.0.0.1:9/hook","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","batch_size":5,"max_attempts":1}}'
if [ "$STATUS" = 201 ]; then
  WEBHOOK=$(jq -r .id <<<"$BODY")
  TARGETS+=("$WEBHOOK")
  mkdir -p "$PUSH_ROOT/1"
  call "$T1" POST /targets "{\"name\":\"drop\",\"type\":\"file\",\"config\":{\"dir\":\"$PUSH_ROOT/1/drop\",\"batch_size\":50}}"
  if [ "$STATUS" = 201 ]; then
    FILE_TARGET=$(jq -r .id <<<"$BODY")
    TARGETS+=("$FILE_TARGET")
  fi
fi

# Source 1: id_field "ref", scraped_at and views ignored.
items() {  # items FROM TO PRICE_BASE SCRAPED
  local out="" sep=""
  for i in $(seq "$1" "$2"); do
    local ref; ref=$(printf 'r%02d' "$i")
    out+="$sep{\"ref\":\"$ref\",\"title\":\"Flat $i\",\"price\":$(( $3 + i * 10 )),\"rooms\":$(( i % 4 + 1 )),\"tags\":[\"a\",\"b$i\"],\"geo\":{\"lat\":52.$i,\"lon\":4.$i},\"scraped_at\":\"$4\",\"views\":$i}"
    sep=","
  done
  printf '%s' "$out"
}
# Import 1 (upsert, a JSON array): r01..r12.
must 200 "$T1" POST /sources/1/import "[$(items 1 12 1000 2026-01-01)]"
# Import 2 (full, {"data": [...]}): r01 repriced, r02 only re-scraped
# (ignored fields: unchanged), r03 gone (removed), r13 new.
body="$(items 1 1 2000 2026-01-02),$(items 2 2 1000 2026-01-02),$(items 4 12 1000 2026-01-02),$(items 13 13 1000 2026-01-02)"
must 200 "$T1" POST '/sources/1/import?mode=full' "{\"data\":[$body]}"
AS_OF_SEQ=$(jq -r .seq <<<"$BODY")
[ "$AS_OF_SEQ" != null ] || die "the import answer has no seq"
# Source 2: NDJSON, default id field (external_id, falling back to id).
ndjson=""
for i in 1 2 3 4 5; do ndjson+="{\"external_id\":\"p$i\",\"name\":\"Partner $i\",\"price\":$(( i * 7 ))}"$'\n'; done
ndjson+='{"id":"p6","name":"Partner 6 (id field)","price":42}'$'\n'
must 200 "$T1" POST /sources/2/import "$ndjson" application/x-ndjson

# Syncs, manual edits, conflicts.
must 200 "$T1" POST /sync/1/1
must 200 "$T1" POST /sync/2/2
for t in "${TARGETS[@]:2}"; do must 200 "$T1" POST "/sync/1/$t"; done
must 200 "$T1" PUT /targets/1/properties/r04 '{"ref":"r04","title":"Flat 4 (edited)","price":999}'
must 200 "$T1" PUT /targets/1/properties/r06 '{"ref":"r06","title":"Flat 6 (edited)","price":1}'
must 200 "$T1" PUT /targets/1/properties/m1 '{"ref":"m1","title":"only on the website"}'
must 200 "$T1" DELETE /targets/1/properties/r05
# Import 3 (upsert): r04..r07 change in the source.
must 200 "$T1" POST /sources/1/import "[$(items 4 7 3000 2026-01-03)]"
# Conflicts on r04, r05, r06 kept; r07 updated.
must 200 "$T1" POST '/sync/1/1?on_conflict=keep'
[ "$(jq -r .stats.conflicts <<<"$BODY")" = 3 ] || die "keep sync: want 3 conflicts: $BODY"
# A later import, then the conflicts overwritten.
must 200 "$T1" POST /sources/1/import "[$(items 8 8 4000 2026-01-04)]"
must 200 "$T1" POST '/sync/1/1?on_conflict=overwrite'
[ "$(jq -r .stats.conflicts <<<"$BODY")" = 3 ] || die "overwrite sync: want 3 conflicts: $BODY"
# Manual changes left after the last sync.
must 200 "$T1" PUT /targets/1/properties/r09 '{"ref":"r09","title":"Flat 9 (edited after)","price":9}'
must 200 "$T1" DELETE /targets/1/properties/r10
must 200 "$T1" DELETE /targets/2/properties/p6

# Tenant 2: its own ids, its own log.
must 201 "$T2" POST /sources '{"name":"shop","config":{"id_field":"sku"}}'
must 201 "$T2" POST /targets '{"name":"storefront"}'
must 200 "$T2" POST /sources/1/import '[{"sku":"s1","qty":1},{"sku":"s2","qty":2},{"sku":"s3","qty":3}]'
must 200 "$T2" POST /sync/1/1

# A feed token, where the build has them (an event; it expires, so it is
# never used to read).
call "$T1" POST /feed_tokens '{"target_id":1,"ttl_s":86400}'
HAS_FEED_TOKENS=false
[ "$STATUS" = 201 ] && HAS_FEED_TOKENS=true

# Push targets: wait until each has handled every event (the webhook's
# batches dead-lettered, the file target's written), then pause them.
wait_delivered() {  # wait_delivered TARGET
  for _ in $(seq 1 300); do
    must 200 "$T1" GET "/targets/$1/delivery"
    if [ "$(jq -r .pending_events <<<"$BODY")" = 0 ] && [ "$(jq -r .state <<<"$BODY")" = idle ]; then
      return 0
    fi
    sleep 0.1
  done
  die "target $1 did not deliver: $BODY"
}
for t in $WEBHOOK $FILE_TARGET; do
  wait_delivered "$t"
  must 200 "$T1" POST "/targets/$t/delivery/pause"
done

# Where the replay test cuts: a seq (after import 2) and a time (import 2's).
must 200 "$T1" GET /sources/1/properties/r01/history
AS_OF_TIME=$(jq -r '.[1].time' <<<"$BODY")
[ "$AS_OF_TIME" != null ] || die "no second version of r01: $BODY"

# ---- Record the reads -----------------------------------------------------------

mkdir -p "$WORK/expected"
: >"$WORK/reads.tsv"
# record NAME KEYNAME PATH
record() {
  local name="$1" keyname="$2" path="$3" key
  case "$keyname" in
    admin) key="$ADMIN" ;; t1) key="$T1" ;; t1_extra) key="$T1_EXTRA" ;;
    t1_revoked) key="$T1_REVOKED" ;; t2) key="$T2" ;; *) die "unknown key $keyname" ;;
  esac
  call "$key" GET "$path"
  case "$STATUS" in 200|401|404) ;; *) die "GET $path answered $STATUS: $BODY" ;; esac
  cp "$WORK/body" "$WORK/expected/$name.json"
  printf '%s\t%s\t%s\t%s\n' "$name" "$keyname" "$path" "$STATUS" >>"$WORK/reads.tsv"
}

record tenants admin /tenants
if [ -n "$T1_EXTRA" ]; then
  record keys_t1 admin /tenants/1/keys
  record keys_t2 admin /tenants/2/keys
  record t1_sources_extra_key t1_extra /sources
  record t1_sources_revoked_key t1_revoked /sources
fi
record t1_sources t1 /sources
record t1_source_1 t1 /sources/1
record t1_targets t1 /targets
record t1_target_1 t1 /targets/1
for s in 1 2; do record "t1_source_${s}_properties" t1 "/sources/$s/properties"; done
for t in "${TARGETS[@]}"; do record "t1_target_${t}_properties" t1 "/targets/$t/properties"; done
record t1_source_1_page t1 '/sources/1/properties?limit=3&after=r02'
record t1_target_1_changed_since t1 "/targets/1/properties?changed_since=$AS_OF_SEQ"
record t1_source_1_r01 t1 /sources/1/properties/r01
record t1_source_1_r03 t1 /sources/1/properties/r03
record t1_target_1_r04 t1 /targets/1/properties/r04
record t1_target_1_m1 t1 /targets/1/properties/m1
record t1_source_1_r01_as_of t1 "/sources/1/properties/r01?as_of=$AS_OF_SEQ"
for p in r01 r02 r03 r04; do record "t1_source_1_${p}_history" t1 "/sources/1/properties/$p/history"; done
for p in r04 r05 r06 r07 r09 r10 m1; do
  record "t1_target_1_${p}_history" t1 "/targets/1/properties/$p/history"
done
record t1_target_2_p6_history t1 /targets/2/properties/p6/history
# The past, as this build answered it; the replay test folds to the same points.
for s in 1 2; do
  record "t1_source_${s}_as_of_seq" t1 "/sources/$s/properties?as_of=$AS_OF_SEQ"
  record "t1_source_${s}_as_of_time" t1 "/sources/$s/properties?as_of=$AS_OF_TIME"
done
for t in 1 2; do
  record "t1_target_${t}_as_of_seq" t1 "/targets/$t/properties?as_of=$AS_OF_SEQ"
  record "t1_target_${t}_as_of_time" t1 "/targets/$t/properties?as_of=$AS_OF_TIME"
done
record t1_imports t1 /imports
record t1_import_2 t1 /imports/2
record t1_imports_source_2 t1 '/imports?source_id=2'
record t1_sync_logs t1 /sync_logs
record t1_sync_log_keep t1 "/sync_logs/$(( ${#TARGETS[@]} + 1 ))"
call "$T1" GET /feed?since=0
if [ "$STATUS" = 200 ]; then
  record t1_feed t1 '/feed?since=0&limit=1000'
  record t1_feed_target_1 t1 '/feed?since=0&target_id=1&limit=1000'
  record t2_feed t2 '/feed?since=0&limit=1000'
fi
for t in $WEBHOOK $FILE_TARGET; do
  record "t1_target_${t}_delivery" t1 "/targets/$t/delivery"
  record "t1_target_${t}_dead_letters" t1 "/targets/$t/dead_letters"
done
record t2_sources t2 /sources
record t2_targets t2 /targets
record t2_source_1_properties t2 /sources/1/properties
record t2_target_1_properties t2 /targets/1/properties
record t2_imports t2 /imports
record t2_sync_logs t2 /sync_logs
record t2_source_1_of_t1 t2 /sources/2

stop_server

# ---- The two forms ----------------------------------------------------------------

# What RocksDB needs of a directory: everything but the info LOG
# (diagnostics) and all but the newest OPTIONS file (RocksDB keeps the last
# two; it reads none of them at open).
copy_db() {  # copy_db FROM TO
  mkdir -p "$2"
  find "$1" -maxdepth 1 -type f ! -name 'LOG' ! -name 'LOG.old*' ! -name admin.key \
    ! -name 'OPTIONS-*' -exec cp -p {} "$2/" \;
  local newest
  newest=$(find "$1" -maxdepth 1 -name 'OPTIONS-*' | sort -V | tail -1)
  if [ -n "$newest" ]; then cp -p "$newest" "$2/"; fi
}

write_form() {  # write_form FORM DBDIR
  local dir="$OUT/$COMMIT-$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  copy_db "$2" "$dir/db"
  cp -r "$WORK/expected" "$dir/expected"
  jq -n --arg commit "$COMMIT" --arg form "$1" --argjson format "$FORMAT" \
    --arg admin "$ADMIN" --arg t1 "$T1" --arg t1_extra "$T1_EXTRA" \
    --arg t1_revoked "$T1_REVOKED" --arg t2 "$T2" \
    --argjson as_of_seq "$AS_OF_SEQ" --arg as_of_time "$AS_OF_TIME" \
    --argjson feed_tokens "$HAS_FEED_TOKENS" \
    --rawfile reads "$WORK/reads.tsv" '
    {commit: $commit, form: $form, format_version: $format,
     keys: ({admin: $admin, t1: $t1, t1_extra: $t1_extra, t1_revoked: $t1_revoked, t2: $t2}
            | with_entries(select(.value != ""))),
     as_of_seq: $as_of_seq, as_of_time: $as_of_time, feed_tokens: $feed_tokens,
     reads: ($reads | split("\n") | map(select(. != "") | split("\t")
              | {name: .[0], key: .[1], path: .[2], status: (.[3] | tonumber)}))}' \
    >"$dir/manifest.json"
}

write_form wal "$DB"

# The flushed form, from a copy (the wal form stays as the stop left it).
copy_db "$DB" "$WORK/db-copy"
if "$BIN" backup --help >/dev/null 2>&1; then
  "$BIN" backup --db "$WORK/db-copy" --out "$WORK/db-backup" >/dev/null
elif [ -n "$CHECKPOINT_TOOL" ]; then
  "$CHECKPOINT_TOOL" "$WORK/db-copy" "$WORK/db-backup"
else
  die "this build has no backup command: pass --checkpoint-tool"
fi
write_form backup "$WORK/db-backup"

# ---- Check: each form, served by this build again, answers every read the same.
for form in wal backup; do
  rm -rf "$WORK/check"
  cp -r "$OUT/$COMMIT-$form/db" "$WORK/check"
  start_server "$WORK/check"
  while IFS=$'\t' read -r name keyname path status; do
    case "$keyname" in
      admin) key="$ADMIN" ;; t1) key="$T1" ;; t1_extra) key="$T1_EXTRA" ;;
      t1_revoked) key="$T1_REVOKED" ;; t2) key="$T2" ;;
    esac
    call "$key" GET "$path"
    [ "$STATUS" = "$status" ] || die "$form: GET $path answered $STATUS, recorded $status"
    cmp -s "$WORK/body" "$WORK/expected/$name.json" ||
      die "$form: GET $path answers differently when served again: $BODY"
  done <"$WORK/reads.tsv"
  stop_server
done

du -sh "$OUT/$COMMIT-wal" "$OUT/$COMMIT-backup"
