#!/usr/bin/env bash
# Installs everything Sync Manager needs to build, test and run on Debian 12 (bookworm).
# Idempotent: packages already present are skipped by apt. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  # the linker (CMakeLists.txt: SYNCMGR_LLD), faster than GNU ld on 2 cores
  lld
  # engine and server libraries (all through find_package)
  librocksdb-dev libflatbuffers-dev flatbuffers-compiler libroaring-dev
  libsimdjson-dev libfmt-dev libboost1.81-dev libxxhash-dev libssl-dev zlib1g-dev
  # the server's allocator (tools/CMakeLists.txt: SYNCMGR_JEMALLOC)
  libjemalloc-dev
  # push delivery: outbound HTTP(S) and FTP (webhook, ftp targets)
  libcurl4-openssl-dev
  # the command line's argument parser (header-only, tools/args.cc)
  libcli11-dev
  # push delivery: the postgres target (libpq); its tests run a throwaway
  # PostgreSQL 15 cluster (tests/support/pg_cluster.h) and a real FTP server
  # (tests/support/ftp_server.h: Debian's pyftpdlib)
  libpq-dev postgresql-15 python3-pyftpdlib
  # cluster mode (cluster/): the NATS C client with JetStream; its tests run
  # a 3-server JetStream cluster of Debian's nats-server (tests/support/nats_cluster.h)
  libnats-dev nats-server
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # tests/compat/make_golden.sh (golden data directories, written over HTTP),
  # and the README's examples (tests/readme/run_readme.py)
  curl jq
  # fuzzing (scripts/fuzz.sh: libFuzzer ships with clang)
  clang-14 libclang-rt-14-dev
  # the dashboard's browser tests (tests/ui/) and screenshots (scripts/ui-screenshots.sh)
  chromium chromium-driver python3-selenium
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
