// Operations routes: GET /health and GET /metrics (no key), GET
// /openapi.json (any key).
#include "server/metrics.h"
#include "server/routes.h"
#include "server/server.h"

namespace syncmgr::server {

std::string_view kOpenApiJson();  // generated from openapi.json (embed_file.cmake)

namespace {

ApiResponse Health(const ApiRequest&, HandlerContext&) {
  return JsonResponse(200, R"({"status":"ok"})");
}

ApiResponse MetricsText(const ApiRequest&, HandlerContext& ctx) {
  ApiResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = ctx.metrics.RenderPrometheus();
  return r;
}

ApiResponse OpenApi(const ApiRequest&, HandlerContext&) {
  return JsonResponse(200, std::string(kOpenApiJson()));
}

}  // namespace

void AddOpsRoutes(Router& router) {
  router.Add(BufferedRoute(HttpMethod::kGet, "/health", Health, {}, AuthScope::kPublic));
  router.Add(BufferedRoute(HttpMethod::kGet, "/metrics", MetricsText, {}, AuthScope::kPublic));
  router.Add(BufferedRoute(HttpMethod::kGet, "/openapi.json", OpenApi, {}, AuthScope::kAnyKey));
}

std::string_view Server::OpenApiDocument() { return kOpenApiJson(); }

}  // namespace syncmgr::server
