#!/usr/bin/env bash
# Installs what the PostgreSQL peer needs on Debian 12 (bookworm): the
# PostgreSQL 15 server and client (pgbench ships in postgresql-15) and jq.
# Idempotent: exits at once when everything is present. Needs root (or sudo).
#
# The package may create (and on a systemd host start) Debian's default cluster
# 15/main on port 5432; run.sh never uses it: it makes its own throwaway
# cluster on another loopback port.
set -euo pipefail

PACKAGES=(postgresql-15 postgresql-client-15 jq)

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
