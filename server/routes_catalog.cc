// Catalog routes (tenant key): sources and targets.
#include "delivery/delivery_engine.h"
#include "delivery/policy.h"
#include "delivery/sink.h"
#include "engine/engine.h"
#include "server/params.h"
#include "server/routes.h"
#include "server/server.h"
#include "wire/api_render.h"
#include "wire/request_json.h"

namespace syncmgr::server {
namespace {

ApiResponse CreateSource(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(simdjson::dom::object body, wire::ParseObjectBody(req.body));
  SYNCMGR_RESPOND_IF_ERROR(wire::CheckMembers(body, "the source", {"name", "type", "config"}));
  SourceSpec spec;
  SYNCMGR_ASSIGN_OR_RESPOND(spec.name, wire::RequiredName(body));
  SYNCMGR_ASSIGN_OR_RESPOND(std::optional<std::string> type, wire::OptionalString(body, "type"));
  if (type) {
    if (type->empty() || type->size() > wire::kMaxNameBytes) {
      return ErrorResponse(Status::InvalidArgument("'type' must be a non-empty string"));
    }
    spec.type = std::move(*type);
  }
  SYNCMGR_ASSIGN_OR_RESPOND(std::optional<simdjson::dom::object> config,
                            wire::OptionalObject(body, "config"));
  if (config) {
    SYNCMGR_RESPOND_IF_ERROR(wire::CheckMembers(
        *config, "the source config", {"id_field", "ignore_fields", "max_removal_ratio"}));
    SYNCMGR_ASSIGN_OR_RESPOND(std::optional<std::string> id_field,
                              wire::OptionalString(*config, "id_field"));
    if (id_field) {
      if (id_field->empty() || id_field->size() > wire::kMaxNameBytes) {
        return ErrorResponse(Status::InvalidArgument("'id_field' must be a non-empty string"));
      }
      spec.id_field = std::move(*id_field);
    }
    SYNCMGR_ASSIGN_OR_RESPOND(std::optional<std::vector<std::string>> ignore,
                              wire::OptionalStringArray(*config, "ignore_fields"));
    if (ignore) spec.ignore_fields = std::move(*ignore);
    SYNCMGR_ASSIGN_OR_RESPOND(std::optional<double> ratio,
                              wire::OptionalNumber(*config, "max_removal_ratio"));
    if (ratio) {
      if (!(*ratio >= 0 && *ratio <= 1)) {
        return ErrorResponse(
            Status::InvalidArgument("'max_removal_ratio' must be a number in [0, 1]"));
      }
      spec.max_removal_ratio = *ratio;
    }
  }
  SYNCMGR_ASSIGN_OR_RESPOND(SourceInfo source, ctx.engine.CreateSource(req.caller.tenant, spec));
  return JsonResponse(201, wire::ToJson(source, wire::WriteSource));
}

ApiResponse CreateTarget(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(simdjson::dom::object body, wire::ParseObjectBody(req.body));
  SYNCMGR_RESPOND_IF_ERROR(wire::CheckMembers(body, "the target", {"name", "type", "config"}));
  TargetSpec spec;
  SYNCMGR_ASSIGN_OR_RESPOND(spec.name, wire::RequiredName(body));
  SYNCMGR_ASSIGN_OR_RESPOND(std::optional<std::string> type, wire::OptionalString(body, "type"));
  if (type && *type != "internal" && !delivery::IsPushType(*type)) {
    return ErrorResponse(Status::InvalidArgument(
        "unknown target type; expected internal, webhook, postgres, file or ftp"));
  }
  if (type) spec.type = *type;
  SYNCMGR_ASSIGN_OR_RESPOND(std::optional<simdjson::dom::object> config,
                            wire::OptionalObject(body, "config"));
  if (config) spec.config_json = wire::ToJsonText(*config);
  if (delivery::IsPushType(spec.type)) {
    // A push target needs its destination; checked (and resolved, for the
    // outbound-safety rule) before anything is written.
    if (!config) {
      return ErrorResponse(Status::InvalidArgument("a '" + spec.type +
                                                   "' target needs a 'config' object"));
    }
    delivery::SinkEnv env;
    env.allow_private = ctx.options.allow_private_push;
    env.file_root = ctx.options.file_push_root;
    env.file_tenant = req.caller.tenant;
    SYNCMGR_RESPOND_IF_ERROR(delivery::ValidateConfig(spec.type, spec.config_json, env));
  }
  SYNCMGR_ASSIGN_OR_RESPOND(TargetInfo target, ctx.engine.CreateTarget(req.caller.tenant, spec));
  if (ctx.delivery != nullptr) ctx.delivery->Track(req.caller.tenant, target);
  return JsonResponse(201, wire::ToJson(target, wire::WriteTarget));
}

template <typename Info>
ApiResponse ListOf(const StatusOr<std::vector<Info>>& list,
                   void (*write)(wire::JsonWriter&, const Info&)) {
  if (!list.ok()) return ErrorResponse(list.status());
  return JsonResponse(200, wire::ToJsonArray(*list, write));
}

template <typename Info>
ApiResponse One(const StatusOr<Info>& info, void (*write)(wire::JsonWriter&, const Info&)) {
  if (!info.ok()) return ErrorResponse(info.status());
  return JsonResponse(200, wire::ToJson(*info, write));
}

ApiResponse ListSources(const ApiRequest& req, HandlerContext& ctx) {
  return ListOf(ctx.engine.ListSources(req.caller.tenant), &wire::WriteSource);
}

ApiResponse GetSource(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t id, PathId32(req, "id", "source"));
  return One(ctx.engine.GetSource(req.caller.tenant, id), &wire::WriteSource);
}

ApiResponse ListTargets(const ApiRequest& req, HandlerContext& ctx) {
  return ListOf(ctx.engine.ListTargets(req.caller.tenant), &wire::WriteTarget);
}

ApiResponse GetTarget(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t id, PathId32(req, "id", "target"));
  return One(ctx.engine.GetTarget(req.caller.tenant, id), &wire::WriteTarget);
}

}  // namespace

void AddCatalogRoutes(Router& router) {
  router.Add(BufferedRoute(HttpMethod::kPost, "/sources", CreateSource));
  router.Add(BufferedRoute(HttpMethod::kGet, "/sources", ListSources));
  router.Add(BufferedRoute(HttpMethod::kGet, "/sources/{id}", GetSource));
  router.Add(BufferedRoute(HttpMethod::kPost, "/targets", CreateTarget));
  router.Add(BufferedRoute(HttpMethod::kGet, "/targets", ListTargets));
  router.Add(BufferedRoute(HttpMethod::kGet, "/targets/{id}", GetTarget));
}

}  // namespace syncmgr::server
