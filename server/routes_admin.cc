// Admin routes (admin key): POST /tenants, GET /tenants.
#include "engine/engine.h"
#include "server/json_render.h"
#include "server/request_json.h"
#include "server/routes.h"

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

}  // namespace

void AddAdminRoutes(Router& router) {
  router.Add(BufferedRoute(HttpMethod::kPost, "/tenants", CreateTenant, {}, AuthScope::kAdmin));
  router.Add(BufferedRoute(HttpMethod::kGet, "/tenants", ListTenants, {}, AuthScope::kAdmin));
}

}  // namespace syncmgr::server
