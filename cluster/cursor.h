// The cursors a cluster node stores with its views (Engine::ApplyFromLog,
// docs/scaling.md "Positions"): opaque bytes to the engine, these encodings
// to cluster/.
//
//   tenant cursor := "t1 " last_seq " " counts       (decimal; counts 0 or 1)
//     the tenant's log subject as LogChain saw it: its last message handled
//     and whether it counted. "" (never written) is 0 and counts.
//   node cursor   := "n1 " position " " msg_id
//     the stream sequence up to which the node's reader handled every log
//     message, and the message id stored there ("-" if none), by which a
//     restart checks that the stream still holds what the views were
//     folded from.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace syncmgr::cluster {

struct TenantCursor {
  uint64_t last_seq = 0;
  bool last_counts = true;
  bool operator==(const TenantCursor&) const = default;
};
std::string EncodeTenantCursor(const TenantCursor& c);
// Corruption if `bytes` is neither empty nor an encoded tenant cursor.
StatusOr<TenantCursor> DecodeTenantCursor(std::string_view bytes);

struct NodeCursor {
  uint64_t position = 0;
  std::string msg_id;  // empty: unknown
  bool operator==(const NodeCursor&) const = default;
};
std::string EncodeNodeCursor(const NodeCursor& c);
// Corruption if `bytes` is neither empty nor an encoded node cursor.
StatusOr<NodeCursor> DecodeNodeCursor(std::string_view bytes);

}  // namespace syncmgr::cluster
