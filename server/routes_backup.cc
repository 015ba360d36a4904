// Backup route (admin key): POST /admin/backup {"out": "/abs/dir"}.
//
// `syncmgr backup --url` calls it when a server holds the data directory's
// lock: the running engine writes a RocksDB checkpoint (Engine::Backup), so
// writers go on meanwhile. The path is on the server's machine, written with
// the server's permissions, hence admin only.
#include <filesystem>

#include "engine/engine.h"
#include "server/routes.h"
#include "wire/api_render.h"
#include "wire/request_json.h"

namespace syncmgr::server {
namespace {

ApiResponse CreateBackup(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(simdjson::dom::object body, wire::ParseObjectBody(req.body));
  SYNCMGR_RESPOND_IF_ERROR(wire::CheckMembers(body, "the backup request", {"out"}));
  SYNCMGR_ASSIGN_OR_RESPOND(std::optional<std::string> out, wire::OptionalString(body, "out"));
  if (!out || out->empty()) {
    return ErrorResponse(Status::InvalidArgument("'out' (the backup directory) is required"));
  }
  // Checked here too (the engine does as well): a relative path would land
  // in the server's working directory, which the caller cannot know.
  if (!std::filesystem::path(*out).is_absolute()) {
    return ErrorResponse(Status::InvalidArgument("'out' must be an absolute path"));
  }
  SYNCMGR_ASSIGN_OR_RESPOND(BackupInfo info, ctx.engine.Backup(*out));
  return JsonResponse(201, wire::ToJson(info, wire::WriteBackupInfo));
}

}  // namespace

void AddBackupRoutes(Router& router) {
  router.Add(
      BufferedRoute(HttpMethod::kPost, "/admin/backup", CreateBackup, {}, AuthScope::kAdmin));
}

}  // namespace syncmgr::server
