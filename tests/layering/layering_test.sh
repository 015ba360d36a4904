#!/usr/bin/env bash
# scripts/check-layers.sh refuses a tree that breaks the layer order: each
# breach of tests/layering/bad_tree is named by file and line, and the
# allowed includes and links there are not. (ctest: layering_check_refuses;
# layering_check runs the script on the real tree.)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
check="$here/../../scripts/check-layers.sh"

out=$("$check" "$here/bad_tree")
rc=$?
echo "$out"
fail=0
if [ "$rc" -ne 1 ]; then
  echo "FAIL: check-layers.sh exited $rc on the bad tree, expected 1"
  fail=1
fi
expected=(
  "engine/store_oops.cc:3: engine/ (layer 1) includes server/ (layer 4)"
  "wire/json_oops.h:4: wire/ (layer 2) includes delivery/ (layer 3)"
  "delivery/peer_oops.cc:3: delivery/ (layer 3) includes cluster/ (layer 3)"
  "cluster/log.h:3: cluster/ (layer 3) includes server/ (layer 4)"
  "schema/oops.h:3: schema/ (layer 0) includes engine/ (layer 1)"
  "ui/app.cc:1: ui/ holds no C or C++ code"
  "extra/thing.cc:1: extra/ is not in the layer table"
  "wire/CMakeLists.txt:5: fx_wire links fx_delivery of delivery/ (layer 3)"
  "CMake: libraries link each other: fx_delivery -> fx_wire -> fx_delivery"
)
for line in "${expected[@]}"; do
  if ! grep -qF -- "$line" <<<"$out"; then
    echo "FAIL: not reported: $line"
    fail=1
  fi
done
# Exactly those: the allowed ones (server/fine.cc, server/ and delivery/
# linking lower libraries, engine/'s own include) are not reported.
count=$(grep -c '^[a-zA-Z].*:[0-9]*: \|^CMake: ' <<<"$out")
if [ "$count" -ne "${#expected[@]}" ]; then
  echo "FAIL: $count breaches reported, expected ${#expected[@]}"
  fail=1
fi
[ "$fail" -eq 0 ] && echo "PASS: the bad tree is refused, breach by breach"
exit "$fail"
