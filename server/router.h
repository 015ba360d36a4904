// Router: (method, path pattern) → route, with path parameters.
//
// Patterns are literal segments and "{name}" parameters, one per segment
// ("/sources/{id}/properties/{external_id}/history"). Matching works on the
// raw path split at '/', then percent-decodes each parameter, so an
// external_id containing '/' is sent as %2F. A parameter never matches an
// empty segment. A path that matches some pattern but not with this method
// is reported (405 with Allow) apart from one that matches nothing (404).
//
// Thread-safety: immutable after construction; safe from many threads.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "server/http_types.h"

namespace syncmgr::server {

// Who may call a route.
enum class AuthScope {
  kPublic,  // no key (/health, /metrics)
  kAdmin,   // the admin key
  kTenant,  // a tenant key; the admin key is refused (403)
  kAnyKey,  // either (/openapi.json)
  kFeed,    // a tenant key, or none: the handler then needs a feed token (?token=, GET /feed)
};

using BufferedHandler = std::function<ApiResponse(const ApiRequest&, HandlerContext&)>;
using BodySinkHandler = std::function<StatusOr<BodySinkStart>(const ApiRequest&, HandlerContext&)>;

struct Route {
  HttpMethod method = HttpMethod::kGet;
  std::string pattern;
  AuthScope auth = AuthScope::kTenant;
  // Query parameters the route accepts; any other is 400 invalid_request
  // (a misspelt `dry_run` must not run a real sync).
  std::vector<std::string> query;
  // Exactly one of the two is set: a handler of a buffered request body
  // (at most ServerOptions::max_body_bytes), or one that streams it.
  BufferedHandler handler;
  BodySinkHandler body_sink;
};

// Route builders (designated initializers of Route trip GCC 12's
// -Wmissing-field-initializers).
Route BufferedRoute(HttpMethod method, std::string pattern, BufferedHandler handler,
                    std::vector<std::string> query = {}, AuthScope auth = AuthScope::kTenant);
Route StreamedBodyRoute(HttpMethod method, std::string pattern, BodySinkHandler body_sink,
                        std::vector<std::string> query = {}, AuthScope auth = AuthScope::kTenant);

struct RouteMatch {
  const Route* route = nullptr;  // null: no route for this method and path
  PathParams params;
  // route == null: the methods the path does support ("GET, POST"), empty if
  // the path is unknown.
  std::string allow;
  // A parameter had malformed percent-encoding.
  bool bad_encoding = false;
};

class Router {
 public:
  void Add(Route route);
  // Matches a raw (still percent-encoded) path without query.
  RouteMatch Match(HttpMethod method, std::string_view raw_path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> segments_;  // per route, split pattern
};

// Parses a raw query string ("a=1&b=x%20y") for `route`: decodes names and
// values ('+' is a space), refuses unknown or repeated names and malformed
// encoding with InvalidArgument.
Status ParseQuery(std::string_view raw_query, const Route& route, QueryParams* out);

// The router with every route of the API (routes_*.cc).
const Router& ApiRouter();

}  // namespace syncmgr::server
