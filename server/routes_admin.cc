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
#include "engine/engine.h"
#include "server/json_render.h"
#include "server/params.h"
#include "server/request_json.h"
#include "server/routes.h"
#include "server/time_format.h"

namespace syncmgr::server {
namespace {

ApiResponse CreateTenant(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(simdjson::dom::object body, ParseObjectBody(req.body));
  SYNCMGR_RESPOND_IF_ERROR(CheckMembers(body, "the tenant", {"name"}));
  SYNCMGR_ASSIGN_OR_RESPOND(std::string name, RequiredName(body));
  SYNCMGR_ASSIGN_OR_RESPOND(TenantCreatedInfo created, ctx.engine.CreateTenant(name));
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("id").Uint(created.tenant.id);
  w.Key("name").String(created.tenant.name);
  w.Key("api_key").String(created.api_key);  // shown this once only
  w.EndObject();
  return JsonResponse(201, std::move(out));
}

ApiResponse ListTenants(const ApiRequest&, HandlerContext& ctx) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  for (const TenantInfo& t : ctx.engine.ListTenants()) WriteTenant(w, t);
  w.EndArray();
  return JsonResponse(200, std::move(out));
}

void WriteKey(JsonWriter& w, const ApiKeyInfo& key) {
  w.Key("prefix").String(key.prefix);
  w.Key("tenant_id").Uint(key.tenant);
  w.Key("revoked").Bool(key.revoked);
  w.Key(key.revoked ? "revoked_at" : "created_at").String(FormatRfc3339(key.time_us));
}

ApiResponse CreateKey(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t tenant, PathId32(req, "id", "tenant"));
  // No options yet: an empty body or {} (anything else is refused, so a
  // client relying on a future option learns it is not there).
  if (!req.body.empty()) {
    SYNCMGR_ASSIGN_OR_RESPOND(simdjson::dom::object body, ParseObjectBody(req.body));
    SYNCMGR_RESPOND_IF_ERROR(CheckMembers(body, "the key request", {}));
  }
  SYNCMGR_ASSIGN_OR_RESPOND(ApiKeyIssued issued, ctx.engine.CreateApiKey(tenant));
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("api_key").String(issued.api_key);  // shown this once only
  WriteKey(w, issued.info);
  w.EndObject();
  return JsonResponse(201, std::move(out));
}

ApiResponse ListKeys(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t tenant, PathId32(req, "id", "tenant"));
  SYNCMGR_ASSIGN_OR_RESPOND(std::vector<ApiKeyInfo> keys, ctx.engine.ListApiKeys(tenant));
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  for (const ApiKeyInfo& k : keys) {
    w.BeginObject();
    WriteKey(w, k);
    w.EndObject();
  }
  w.EndArray();
  return JsonResponse(200, std::move(out));
}

ApiResponse RevokeKey(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(ApiKeyInfo info, ctx.engine.RevokeApiKey(req.path.Get("prefix")));
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  WriteKey(w, info);
  w.EndObject();
  return JsonResponse(200, std::move(out));
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
