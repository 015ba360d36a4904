#include "server/dispatch.h"

#include <algorithm>
#include <cctype>

#include "server/cors.h"
#include "server/errors.h"

namespace syncmgr::server {

namespace {
// Longest part of a path quoted in a 404 message.
constexpr size_t kMaxQuotedPath = 200;
}  // namespace

Routing RouteRequest(const RequestHead& head, const Router& router,
                     const std::vector<std::string>& cors_origins) {
  Routing out;
  StatusOr<Target> target = ParseTarget(head.target);
  if (!target.ok()) {
    out.answer = ErrorResponse(target.status());
    return out;
  }
  out.cors_origin = AllowedOrigin(head.origin, cors_origins);
  if (head.method == HttpMethod::kOptions) {  // a preflight of a GET route: no key needed
    if (const Route* get = router.Match(HttpMethod::kGet, target->path).route) {
      out.route = get;
      out.answer = PreflightResponse(out.cors_origin);
      return out;
    }
  }
  RouteMatch match = router.Match(head.method, target->path);
  out.route = match.route;
  out.answer = UnroutedAnswer(head.method_name, target->path, match);
  if (out.answer) return out;
  StatusOr<ApiRequest> request = BuildRequest(head, std::move(match), target->query);
  if (!request.ok()) {
    out.answer = ErrorResponse(request.status());
    return out;
  }
  out.request = std::make_shared<ApiRequest>(std::move(request).value());
  if (head.api_key) out.api_key = std::string(*head.api_key);
  return out;
}

StatusOr<Target> ParseTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return Status::InvalidArgument("the request target must be an absolute path");
  }
  const size_t qmark = target.find('?');
  if (qmark == std::string_view::npos) return Target{target, {}};
  return Target{target.substr(0, qmark), target.substr(qmark + 1)};
}

std::optional<ApiResponse> UnroutedAnswer(std::string_view method_name, std::string_view path,
                                          const RouteMatch& match) {
  if (match.route) {
    if (!match.bad_encoding) return std::nullopt;
    return ErrorResponse(Status::InvalidArgument("malformed percent-encoding in the path"));
  }
  if (match.allow.empty()) {
    return ErrorResponse(Status::NotFound("no route for " + std::string(method_name) + " " +
                                          std::string(path.substr(0, kMaxQuotedPath))));
  }
  ApiResponse r = JsonResponse(
      kMethodNotAllowed.http_status,
      ErrorBody(kMethodNotAllowed,
                std::string(method_name) + " is not allowed here; allowed: " + match.allow));
  r.headers.emplace_back("Allow", match.allow);
  return r;
}

StatusOr<ApiRequest> BuildRequest(const RequestHead& head, RouteMatch match,
                                  std::string_view query) {
  ApiRequest request;
  request.method = head.method;
  request.path = std::move(match.params);
  SYNCMGR_RETURN_IF_ERROR(ParseQuery(query, *match.route, &request.query));
  request.content_type = MediaType(head.content_type);
  request.accept = std::string(head.accept);
  if (head.last_event_id) request.last_event_id = std::string(*head.last_event_id);
  request.content_length = head.content_length;
  return request;
}

std::string MediaType(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  std::string out(t);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace syncmgr::server
