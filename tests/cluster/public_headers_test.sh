#!/bin/sh
# No public header of cluster/ names the NATS C client: its types stay
# behind cluster/nats_internal.h, so what includes cluster/ needs no libnats
# headers (STYLE 10). The layer order itself (cluster/ above engine/ and
# wire/, a peer of delivery/, below server/) is scripts/check-layers.sh's.
# Usage: public_headers_test.sh SOURCE_DIR
set -u
src=${1:?usage: public_headers_test.sh SOURCE_DIR}
status=0
for h in "$src"/cluster/*.h; do
  case "$h" in */nats_internal.h) continue ;; esac
  if grep -nE '#include +[<"](nats/)?nats\.h[>"]|#include +[<"]nats/' "$h"; then
    echo "$h: a public header of cluster/ includes the NATS client (above)" >&2
    status=1
  fi
done
exit $status
