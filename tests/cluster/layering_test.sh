#!/bin/sh
# Layering of cluster/ (STYLE 1, docs/scaling.md): it may include engine/,
# schema/ and wire/, never server/, tools/ or delivery/ (its peers and the
# layers above it); and no public header of it names the NATS client, whose
# types stay behind cluster/nats_internal.h.
# Usage: layering_test.sh SOURCE_DIR
set -u
src=${1:?usage: layering_test.sh SOURCE_DIR}
status=0
if grep -rnE '#include +"(server|tools|delivery)/' "$src/cluster"; then
  echo "cluster/ includes a layer it must not (above)" >&2
  status=1
fi
for h in "$src"/cluster/*.h; do
  case "$h" in */nats_internal.h) continue ;; esac
  if grep -nE '#include +[<"](nats/)?nats\.h[>"]|nats/' "$h"; then
    echo "$h: a public header of cluster/ includes the NATS client (above)" >&2
    status=1
  fi
done
if grep -rnE '#include +"cluster/' "$src/engine" "$src/schema"; then
  echo "engine/ or schema/ includes cluster/ (above): the engine knows no sockets" >&2
  status=1
fi
exit $status
