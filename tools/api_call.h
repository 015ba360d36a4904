// ApiCall: one request of the HTTP API (SPEC §4), for the commands that show
// the API's own answers (the read commands, `key`). A server answers it in
// remote mode; on a data directory the server's own route handlers answer it
// in this process (tools/local_api.h). Either way the answer's bytes are the
// API's, so `--json` prints the same in both modes and nothing in tools/
// renders those shapes again.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr::cli {

struct ApiCall {
  std::string method = "GET";
  // The path, each parameter segment encoded with PathSegment
  // ("/sources/1/properties/" + PathSegment(external_id)).
  std::string path{};
  // Query parameters as name and plain value (encoded when sent).
  std::vector<std::pair<std::string, std::string>> query{};
  // A JSON request body, or empty.
  std::string body{};
  // Local mode: the tenant a tenant route acts for (remote mode: the API
  // key's). Admin routes act as the operator in local mode.
  TenantId tenant = 0;
};

// Takes the next piece of an answer's body; an error stops the answer.
using AnswerPieceFn = std::function<Status(std::string_view piece)>;

// `text` percent-encoded for one path segment (RFC 3986 unreserved
// characters kept): "a/b c" → "a%2Fb%20c".
std::string PathSegment(std::string_view text);

// "a=1&b=x%20y" for the parameters, in order.
std::string QueryString(const std::vector<std::pair<std::string, std::string>>& query);

// `path` + "?" + the query, or just `path` without parameters.
std::string Target(const ApiCall& call);

}  // namespace syncmgr::cli
