#include "tools/local_api.h"

#include "server/metrics.h"
#include "server/router.h"
#include "server/server.h"
#include "wire/api_parse.h"

namespace syncmgr::cli {

namespace {

server::HttpMethod MethodOf(std::string_view name) {
  using server::HttpMethod;
  if (name == "GET") return HttpMethod::kGet;
  if (name == "POST") return HttpMethod::kPost;
  if (name == "PUT") return HttpMethod::kPut;
  if (name == "DELETE") return HttpMethod::kDelete;
  return HttpMethod::kOther;
}

}  // namespace

Status LocalApiCall(Engine& engine, const ApiCall& call, const AnswerPieceFn& on_body) {
  const server::Router& router = server::ApiRouter();
  server::RouteMatch match = router.Match(MethodOf(call.method), call.path);
  if (match.route == nullptr || match.route->handler == nullptr) {
    return Status::Internal("no route for " + call.method + " " + call.path);
  }
  if (match.bad_encoding) return Status::InvalidArgument("malformed percent-encoding in the path");
  server::ApiRequest request;
  request.method = match.route->method;
  request.path = std::move(match.params);
  // As the server reads them: the route's own parameters only, decoded.
  SYNCMGR_RETURN_IF_ERROR(server::ParseQuery(QueryString(call.query), *match.route, &request.query));
  request.body = call.body;
  if (!call.body.empty()) request.content_type = "application/json";
  if (match.route->auth == server::AuthScope::kAdmin) {
    request.caller.kind = server::Caller::Kind::kAdmin;
  } else {
    request.caller.kind = server::Caller::Kind::kTenant;
    request.caller.tenant = call.tenant;
  }
  server::Metrics metrics;
  server::ServerOptions options;
  server::HandlerContext context{engine, metrics, options};
  server::ApiResponse response = match.route->handler(request, context);
  if (response.status < 200 || response.status > 299) {
    return wire::ParseApiError(response.status, response.body);
  }
  if (!response.body.empty()) SYNCMGR_RETURN_IF_ERROR(on_body(response.body));
  if (response.stream != nullptr) {
    std::string piece;
    for (bool done = false; !done;) {
      piece.clear();
      SYNCMGR_RETURN_IF_ERROR(response.stream->Next(&piece, &done));
      if (!piece.empty()) SYNCMGR_RETURN_IF_ERROR(on_body(piece));
    }
  }
  return Status::Ok();
}

}  // namespace syncmgr::cli
