// GET /feed: from an HTTP request to what to read (SPEC §4 "Change feed",
// docs/feed.md). Authenticates a feed token, checks its scope, parses and
// range-checks every parameter (a malformed or out-of-range one is 400
// invalid_request, never clamped) and checks that the named streams exist
// in the tenant (404 otherwise, as on their own routes).
//
// Thread-safety: pure function; blocks on the engine (call on a worker).
#pragma once

#include <cstdint>
#include <optional>

#include "engine/status.h"
#include "engine/types.h"
#include "server/feed_reader.h"
#include "server/http_types.h"

namespace syncmgr::server {

// `limit` of a JSON page: [1, kMaxFeedLimit], default kDefaultFeedLimit.
inline constexpr uint32_t kDefaultFeedLimit = 100;
inline constexpr uint32_t kMaxFeedLimit = 1000;
// Most entries in `types=` / `fields=`, and the longest field name, bytes.
inline constexpr size_t kMaxFeedFields = 64;
inline constexpr size_t kMaxFeedFieldBytes = 256;

struct FeedRequest {
  TenantId tenant = 0;
  FeedFilter filter;
  // Deliver events with seq > position: `since`, or for SSE the
  // Last-Event-ID header when sent (it wins).
  uint64_t position = 0;
  uint32_t limit = kDefaultFeedLimit;
  uint32_t wait_s = 0;  // long-poll (JSON only)
  bool sse = false;     // Accept: text/event-stream
  // Set when authenticated by a feed token: its expiry (wall clock, µs).
  std::optional<int64_t> token_expires_at_us;
};

// Unauthorized (no key and no token; a bad or expired token), Forbidden (a
// stream outside the token's scope), InvalidArgument, NotFound.
StatusOr<FeedRequest> ParseFeedRequest(const ApiRequest& request, Engine& engine,
                                       uint32_t max_wait_s);

}  // namespace syncmgr::server
