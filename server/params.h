// Strict parsing of path and query parameters. Malformed or out-of-range
// values are InvalidArgument (400 invalid_request) naming the parameter —
// never silently clamped (SPEC §4).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/status.h"
#include "server/http_types.h"

namespace syncmgr::server {

// Decodes %XX escapes (and '+' as a space when plus_is_space). False on a
// malformed escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

// A decimal integer in [min, max]: digits only (no sign, no spaces, no
// exponent), at most 20 of them.
StatusOr<uint64_t> ParseUint(std::string_view name, std::string_view text, uint64_t min,
                             uint64_t max);

// An optional query parameter as an integer in [min, max].
StatusOr<std::optional<uint64_t>> QueryUint(const QueryParams& query, std::string_view name,
                                            uint64_t min, uint64_t max);

// An optional boolean query parameter: "true"/"false"/"1"/"0".
StatusOr<bool> QueryBool(const QueryParams& query, std::string_view name, bool default_value);

// A path id of a catalog object (source, target): not a decimal number →
// 400; a number no object can have (0, or past 2^32-1) → 404 not_found.
StatusOr<uint32_t> PathId32(const ApiRequest& request, std::string_view name,
                            std::string_view what);
// The same for 64-bit ids (imports, sync runs).
StatusOr<uint64_t> PathId64(const ApiRequest& request, std::string_view name,
                            std::string_view what);

// `as_of`: a seq, or an RFC 3339 time — resolved to the seq of the
// tenant's last event at or before it (Engine::SeqAtTime; 0 before the
// first event: the empty state). Blocking (engine read).
StatusOr<std::optional<uint64_t>> QueryAsOf(const ApiRequest& request, Engine& engine);

// `limit` of a log listing (imports, sync logs): [1, kMaxLogLimit],
// default kDefaultLogLimit.
inline constexpr uint64_t kDefaultLogLimit = 100;
inline constexpr uint64_t kMaxLogLimit = 1000;
StatusOr<uint32_t> QueryLogLimit(const QueryParams& query);

}  // namespace syncmgr::server
