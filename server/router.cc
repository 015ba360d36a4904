#include "server/router.h"

#include <algorithm>

#include "server/params.h"
#include "server/routes.h"

namespace syncmgr::server {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/') return out;
  size_t pos = 1;
  while (true) {
    const size_t slash = path.find('/', pos);
    out.push_back(path.substr(pos, slash == std::string_view::npos ? slash : slash - pos));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return out;
}

bool IsParam(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

Route BufferedRoute(HttpMethod method, std::string pattern, BufferedHandler handler,
                    std::vector<std::string> query, AuthScope auth) {
  // Every read of a tenant may wait for its views to reach a seq (SPEC §7;
  // WaitForMinSeq in server/cluster_route.h).
  if (method == HttpMethod::kGet && (auth == AuthScope::kTenant || auth == AuthScope::kFeed)) {
    query.emplace_back("min_seq");
  }
  Route r;
  r.method = method;
  r.pattern = std::move(pattern);
  r.auth = auth;
  r.query = std::move(query);
  r.handler = std::move(handler);
  return r;
}

Route StreamedBodyRoute(HttpMethod method, std::string pattern, BodySinkHandler body_sink,
                        std::vector<std::string> query, AuthScope auth) {
  Route r;
  r.method = method;
  r.pattern = std::move(pattern);
  r.auth = auth;
  r.query = std::move(query);
  r.body_sink = std::move(body_sink);
  return r;
}

void Router::Add(Route route) {
  std::vector<std::string> segs;
  for (std::string_view s : SplitPath(route.pattern)) segs.emplace_back(s);
  segments_.push_back(std::move(segs));
  routes_.push_back(std::move(route));
}

RouteMatch Router::Match(HttpMethod method, std::string_view raw_path) const {
  RouteMatch result;
  const std::vector<std::string_view> parts = SplitPath(raw_path);
  if (parts.empty()) return result;
  for (size_t r = 0; r < routes_.size(); ++r) {
    const std::vector<std::string>& segs = segments_[r];
    if (segs.size() != parts.size()) continue;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      ok = IsParam(segs[i]) ? !parts[i].empty() : segs[i] == parts[i];
    }
    if (!ok) continue;
    if (routes_[r].method != method) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += MethodName(routes_[r].method);
      continue;
    }
    result.route = &routes_[r];
    for (size_t i = 0; i < segs.size(); ++i) {
      if (!IsParam(segs[i])) continue;
      std::string decoded;
      if (!PercentDecode(parts[i], /*plus_is_space=*/false, &decoded)) result.bad_encoding = true;
      std::string_view name(segs[i]);
      result.params.Add(name.substr(1, name.size() - 2), std::move(decoded));
    }
    result.allow.clear();
    return result;
  }
  return result;
}

Status ParseQuery(std::string_view raw, const Route& route, QueryParams* out) {
  for (size_t pos = 0; pos < raw.size();) {
    size_t amp = raw.find('&', pos);
    if (amp == std::string_view::npos) amp = raw.size();
    const std::string_view item = raw.substr(pos, amp - pos);
    pos = amp + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    std::string name, value;
    if (!PercentDecode(item.substr(0, eq), true, &name) ||
        (eq != std::string_view::npos && !PercentDecode(item.substr(eq + 1), true, &value))) {
      return Status::InvalidArgument("malformed percent-encoding in the query string");
    }
    if (std::find(route.query.begin(), route.query.end(), name) == route.query.end()) {
      // A feed token works on GET /feed only (SPEC §4): anywhere else it is
      // a credential that does not authenticate, not a typo.
      if (name == "token") {
        return Status::Unauthorized("feed tokens are accepted by GET /feed only");
      }
      std::string allowed;
      for (const auto& q : route.query) allowed += (allowed.empty() ? "" : ", ") + q;
      return Status::InvalidArgument(
          "unknown query parameter '" + name + "'" +
          (allowed.empty() ? " (this route takes none)" : " (allowed: " + allowed + ")"));
    }
    if (out->Get(name)) {
      return Status::InvalidArgument("query parameter '" + name + "' given more than once");
    }
    out->Add(std::move(name), std::move(value));
  }
  return Status::Ok();
}

const Router& ApiRouter() {
  static const Router* router = [] {
    auto* r = new Router();
    AddAdminRoutes(*r);
    AddCatalogRoutes(*r);
    AddImportRoutes(*r);
    AddSyncRoutes(*r);
    AddPropertyRoutes(*r);
    AddOpsRoutes(*r);
    AddDeliveryRoutes(*r);
    AddBackupRoutes(*r);
    AddFeedRoutes(*r);
    AddUiRoutes(*r);
    return r;
  }();
  return *router;
}

}  // namespace syncmgr::server
