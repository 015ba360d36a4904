// Reading small JSON request bodies (catalog, tenants) with simdjson's DOM
// API, error codes only. Import bodies never come here: the engine parses
// them as a stream.
//
// Thread-safety: use one simdjson::dom::parser per thread (ThreadParser).
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace syncmgr::wire {

// Deepest nesting of a request body (the outermost object or array is level
// 1); deeper is InvalidArgument, 400 (SPEC §4).
inline constexpr size_t kMaxJsonDepth = 64;

// This thread's reusable parser (its buffers grow to the largest body seen,
// bounded by ServerOptions::max_body_bytes; nesting limited to
// kMaxJsonDepth).
simdjson::dom::parser& ThreadParser();

// Parses `body`, which must be one JSON object. InvalidJson if it is not
// JSON (or not UTF-8), InvalidArgument if it is not an object. The result
// lives until the parser's next parse.
StatusOr<simdjson::dom::object> ParseObjectBody(std::string_view body);

// Refuses members of `object` not in `allowed` (InvalidArgument naming it),
// so a misspelt option is an error rather than silently ignored.
Status CheckMembers(simdjson::dom::object object, std::string_view what,
                    const std::vector<std::string_view>& allowed);

// Optional members of a given type: nullopt when absent (or null),
// InvalidArgument when present with another type.
StatusOr<std::optional<std::string>> OptionalString(simdjson::dom::object object,
                                                    std::string_view key);
StatusOr<std::optional<double>> OptionalNumber(simdjson::dom::object object, std::string_view key);
StatusOr<std::optional<std::vector<std::string>>> OptionalStringArray(simdjson::dom::object object,
                                                                      std::string_view key);
StatusOr<std::optional<simdjson::dom::object>> OptionalObject(simdjson::dom::object object,
                                                              std::string_view key);

// Longest tenant, source or target name, bytes.
inline constexpr size_t kMaxNameBytes = 256;
// The required member "name": a non-empty string of at most kMaxNameBytes.
StatusOr<std::string> RequiredName(simdjson::dom::object object);

// Minified JSON text of an object.
std::string ToJsonText(simdjson::dom::object object);

}  // namespace syncmgr::wire
