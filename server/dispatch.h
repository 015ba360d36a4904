// Routing a request from its header, before anything is read of its body:
// the steps Session::Dispatch hands to, each a small function —
//
//   ParseTarget (absolute path, query) → AllowedOrigin and the preflight
//   (cors.h) → Router::Match, UnroutedAnswer (404, 405 with Allow, bad
//   percent-encoding) → BuildRequest (ParseQuery, then the headers a
//   handler sees).
//
// Free of Beast: the session hands over a RequestHead it read from Beast's
// parser, so every step can be tested without a socket.
//
// Thread-safety: pure functions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "server/http_types.h"
#include "server/router.h"

namespace syncmgr::server {

// What routing reads of a request header. The views point into the parser's
// header and live as long as it does.
struct RequestHead {
  HttpMethod method = HttpMethod::kOther;
  std::string_view method_name;   // as sent ("GET", "PATCH")
  std::string_view target;        // raw path and query
  std::string_view origin;        // "" if none
  std::string_view content_type;  // as sent, "" if none
  std::string_view accept;        // "" if none
  std::optional<std::string_view> last_event_id;
  std::optional<std::string_view> api_key;  // X-API-Key
  std::optional<uint64_t> content_length;   // a valid Content-Length
};

// The outcome of routing: an answer to send at once, or a request to run.
struct Routing {
  const Route* route = nullptr;  // for the request log; null: unmatched
  std::string cors_origin;       // the allowed Origin ("" if none)
  // Set: answer this now (bad target, no route, 405, bad query, preflight).
  std::optional<ApiResponse> answer;
  // Else: the request to authenticate and run, and the key it came with.
  std::shared_ptr<ApiRequest> request;
  std::optional<std::string> api_key;
};

// The router: the steps below in order; the first that answers wins.
Routing RouteRequest(const RequestHead& head, const Router& router,
                     const std::vector<std::string>& cors_origins);

// ---- The steps ---------------------------------------------------------------

struct Target {
  std::string_view path;   // raw, still percent-encoded
  std::string_view query;  // without '?', "" if none
};
// InvalidArgument unless `target` is an absolute path ("/…").
StatusOr<Target> ParseTarget(std::string_view target);

// The answer to a request `match` did not route: 405 with Allow if the path
// has other methods, 404 if it has none, 400 for a routed path with
// malformed percent-encoding. nullopt: routed.
std::optional<ApiResponse> UnroutedAnswer(std::string_view method_name, std::string_view path,
                                          const RouteMatch& match);

// The handler's request: method, path parameters, the query parsed for the
// route (ParseQuery's errors), and the headers handlers see.
// REQUIRES: match.route is set.
StatusOr<ApiRequest> BuildRequest(const RequestHead& head, RouteMatch match,
                                  std::string_view query);

// "Application/JSON; charset=utf-8" → "application/json".
std::string MediaType(std::string_view content_type);

}  // namespace syncmgr::server
