#!/usr/bin/env bash
# Installs everything Sync Manager needs to build, test and run on Debian 12 (bookworm).
# Idempotent: packages already present are skipped by apt. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  # engine and server libraries (all through find_package)
  librocksdb-dev libflatbuffers-dev flatbuffers-compiler libroaring-dev
  libsimdjson-dev libfmt-dev libboost1.81-dev libxxhash-dev libssl-dev zlib1g-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
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
