// Admin routes (admin key): tenants and their API keys.
//
//   POST   /tenants              create a tenant and its first key
//   GET    /tenants              list tenants
//   POST   /tenants/{id}/keys    issue a further key (rotation; shown once)
//   GET    /tenants/{id}/keys    list a tenant's keys (prefixes only)
//   DELETE /keys/{prefix}        revoke a key; refused at once from then on
//
// A key is shown only in the answer that creates it; listings and logs carry
// its visible prefix at most (docs/security.md).
#include "cluster/node.h"
#include "engine/engine.h"
#include "server/params.h"
#include "server/routes.h"
#include "server/server.h"
#include "wire/api_render.h"
#include "wire/request_json.h"

namespace syncmgr::server {
namespace {

ApiResponse CreateTenant(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(simdjson::dom::object body, wire::ParseObjectBody(req.body));
  SYNCMGR_RESPOND_IF_ERROR(wire::CheckMembers(body, "the tenant", {"name"}));
  SYNCMGR_ASSIGN_OR_RESPOND(std::string name, wire::RequiredName(body));
  // Cluster mode: a cluster-wide id, and this node writes the new tenant.
  SYNCMGR_ASSIGN_OR_RESPOND(
      TenantCreatedInfo created,
      ctx.cluster != nullptr
          ? ctx.cluster->CreateTenant(name, std::chrono::steady_clock::now() +
                                                std::chrono::milliseconds(
                                                    ctx.options.cluster_write_wait_ms))
          : ctx.engine.CreateTenant(name));
  // The key is shown in this answer only.
  return JsonResponse(201, wire::ToJson(created, wire::WriteTenantCreated));
}

ApiResponse ListTenants(const ApiRequest&, HandlerContext& ctx) {
  return JsonResponse(200, wire::ToJsonArray(ctx.engine.ListTenants(), wire::WriteTenant));
}

ApiResponse CreateKey(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t tenant, PathId32(req, "id", "tenant"));
  // No options yet: an empty body or {} (anything else is refused, so a
  // client relying on a future option learns it is not there).
  if (!req.body.empty()) {
    SYNCMGR_ASSIGN_OR_RESPOND(simdjson::dom::object body, wire::ParseObjectBody(req.body));
    SYNCMGR_RESPOND_IF_ERROR(wire::CheckMembers(body, "the key request", {}));
  }
  SYNCMGR_ASSIGN_OR_RESPOND(ApiKeyIssued issued, ctx.engine.CreateApiKey(tenant));
  // The key is shown in this answer only.
  return JsonResponse(201, wire::ToJson(issued, wire::WriteApiKeyIssued));
}

ApiResponse ListKeys(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t tenant, PathId32(req, "id", "tenant"));
  SYNCMGR_ASSIGN_OR_RESPOND(std::vector<ApiKeyInfo> keys, ctx.engine.ListApiKeys(tenant));
  return JsonResponse(200, wire::ToJsonArray(keys, wire::WriteApiKey));
}

ApiResponse RevokeKey(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(ApiKeyInfo info, ctx.engine.RevokeApiKey(req.path.Get("prefix")));
  return JsonResponse(200, wire::ToJson(info, wire::WriteApiKey));
}

}  // namespace

void AddAdminRoutes(Router& router) {
  router.Add(BufferedRoute(HttpMethod::kPost, "/tenants", CreateTenant, {}, AuthScope::kAdmin));
  router.Add(BufferedRoute(HttpMethod::kGet, "/tenants", ListTenants, {}, AuthScope::kAdmin));
  router.Add(BufferedRoute(HttpMethod::kPost, "/tenants/{id}/keys", CreateKey, {},
                           AuthScope::kAdmin));
  router.Add(
      BufferedRoute(HttpMethod::kGet, "/tenants/{id}/keys", ListKeys, {}, AuthScope::kAdmin));
  router.Add(
      BufferedRoute(HttpMethod::kDelete, "/keys/{prefix}", RevokeKey, {}, AuthScope::kAdmin));
}

}  // namespace syncmgr::server
