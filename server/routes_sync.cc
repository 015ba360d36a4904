// Sync routes (tenant key): POST /sync/{source_id}/{target_id},
// GET /sync_logs, GET /sync_logs/{id}.
#include <limits>

#include "engine/engine.h"
#include "server/metrics.h"
#include "server/params.h"
#include "server/routes.h"
#include "wire/api_render.h"

namespace syncmgr::server {
namespace {

ApiResponse RunSync(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t source, PathId32(req, "source_id", "source"));
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t target, PathId32(req, "target_id", "target"));
  SyncOptions options;
  if (const std::optional<std::string_view> on_conflict = req.query.Get("on_conflict")) {
    if (*on_conflict == "keep") {
      options.on_conflict = OnConflict::kKeep;
    } else if (*on_conflict == "overwrite") {
      options.on_conflict = OnConflict::kOverwrite;
    } else {
      return ErrorResponse(Status::InvalidArgument("'on_conflict' must be keep or overwrite"));
    }
  }
  SYNCMGR_ASSIGN_OR_RESPOND(options.dry_run, QueryBool(req.query, "dry_run", false));
  // The request body, if any, is ignored: a sync takes no body.
  StatusOr<SyncResult> result = ctx.engine.Sync(req.caller.tenant, source, target, options);
  ctx.metrics.SyncFinished(result.ok(), options.dry_run, result.ok() ? result->stats.conflicts : 0);
  if (!result.ok()) return ErrorResponse(result.status());
  std::string out;
  wire::JsonWriter w(&out);
  wire::WriteSyncResult(w, *result, options.dry_run);
  return JsonResponse(200, std::move(out));
}

// An optional catalog-id filter that must name one of the tenant's objects.
StatusOr<std::optional<uint32_t>> FilterId(const ApiRequest& req, std::string_view name) {
  StatusOr<std::optional<uint64_t>> id =
      QueryUint(req.query, name, 0, std::numeric_limits<uint64_t>::max());
  if (!id.ok()) return id.status();
  if (!*id) return std::optional<uint32_t>();
  if (**id == 0 || **id > std::numeric_limits<uint32_t>::max()) {
    return Status::NotFound(std::string(name) + " does not exist");
  }
  return std::optional<uint32_t>(static_cast<uint32_t>(**id));
}

ApiResponse ListSyncLogs(const ApiRequest& req, HandlerContext& ctx) {
  SyncLogFilter filter;
  SYNCMGR_ASSIGN_OR_RESPOND(filter.source_id, FilterId(req, "source_id"));
  SYNCMGR_ASSIGN_OR_RESPOND(filter.target_id, FilterId(req, "target_id"));
  SYNCMGR_ASSIGN_OR_RESPOND(filter.limit, QueryLogLimit(req.query));
  // Another tenant's source or target is 404, as on its own route.
  if (filter.source_id) {
    SYNCMGR_RESPOND_IF_ERROR(ctx.engine.GetSource(req.caller.tenant, *filter.source_id).status());
  }
  if (filter.target_id) {
    SYNCMGR_RESPOND_IF_ERROR(ctx.engine.GetTarget(req.caller.tenant, *filter.target_id).status());
  }
  SYNCMGR_ASSIGN_OR_RESPOND(std::vector<SyncLogEntry> entries,
                            ctx.engine.ListSyncLogs(req.caller.tenant, filter));
  return JsonResponse(200, wire::ToJsonArray(entries, wire::WriteSyncLog));
}

ApiResponse GetSyncLog(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint64_t id, PathId64(req, "id", "sync run"));
  SYNCMGR_ASSIGN_OR_RESPOND(SyncLogEntry entry, ctx.engine.GetSyncLog(req.caller.tenant, id));
  return JsonResponse(200, wire::ToJson(entry, wire::WriteSyncLog));
}

}  // namespace

void AddSyncRoutes(Router& router) {
  router.Add(BufferedRoute(HttpMethod::kPost, "/sync/{source_id}/{target_id}", RunSync,
                           {"on_conflict", "dry_run"}));
  router.Add(BufferedRoute(HttpMethod::kGet, "/sync_logs", ListSyncLogs,
                           {"source_id", "target_id", "limit"}));
  router.Add(BufferedRoute(HttpMethod::kGet, "/sync_logs/{id}", GetSyncLog));
}

}  // namespace syncmgr::server
