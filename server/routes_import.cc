// Import routes (tenant key): POST /sources/{id}/import (streamed body),
// GET /imports, GET /imports/{id}.
#include <limits>

#include "engine/engine.h"
#include "server/metrics.h"
#include "server/params.h"
#include "server/routes.h"
#include "server/server.h"
#include "wire/api_render.h"

namespace syncmgr::server {
namespace {

// Feeds the request body to an engine ImportSession as it arrives, so even
// a multi-gigabyte NDJSON import never sits whole in memory.
class ImportSink : public RequestBodySink {
 public:
  ImportSink(std::unique_ptr<ImportSession> session, Metrics& metrics)
      : session_(std::move(session)), metrics_(metrics) {}
  // An import that did not finish (bad input, client gone, shutdown) wrote
  // nothing: the engine discards an unfinished session.
  ~ImportSink() override {
    if (!finished_) metrics_.ImportFinished(false);
  }

  Status Append(std::string_view chunk) override {
    Status st = session_->Append(chunk);
    if (!st.ok() && !finished_) {  // counted now, not when the sink is disposed of
      finished_ = true;
      metrics_.ImportFinished(false);
    }
    return st;
  }

  ApiResponse Finish() override {
    finished_ = true;
    StatusOr<ImportResult> result = session_->Finish();
    metrics_.ImportFinished(result.ok());
    if (!result.ok()) return ErrorResponse(result.status());
    return JsonResponse(200, wire::ToJson(*result, wire::WriteImportResult));
  }

 private:
  std::unique_ptr<ImportSession> session_;
  Metrics& metrics_;
  bool finished_ = false;
};

StatusOr<BodySinkStart> StartImport(const ApiRequest& req, HandlerContext& ctx) {
  StatusOr<uint32_t> source = PathId32(req, "id", "source");
  if (!source.ok()) return source.status();

  ImportOptions options;
  BodySinkStart start;
  if (req.content_type.empty() || req.content_type == "application/json") {
    options.format = BodyFormat::kJson;
    start.max_body_bytes = ctx.options.max_body_bytes;
  } else if (req.content_type == "application/x-ndjson" ||
             req.content_type == "application/ndjson") {
    options.format = BodyFormat::kNdjson;
    start.max_body_bytes = ctx.options.max_import_bytes;
  } else {
    return Status(Code::kUnsupportedMediaType,
                  "an import body is application/json or application/x-ndjson");
  }
  if (const std::optional<std::string_view> mode = req.query.Get("mode")) {
    if (*mode == "upsert") {
      options.mode = ImportMode::kUpsert;
    } else if (*mode == "full") {
      options.mode = ImportMode::kFull;
    } else {
      return Status::InvalidArgument("'mode' must be upsert or full");
    }
    options.mode_explicit = true;
  }
  StatusOr<bool> allow = QueryBool(req.query, "allow_mass_removal", false);
  if (!allow.ok()) return allow.status();
  options.allow_mass_removal = *allow;
  options.body_bytes_hint = req.content_length.value_or(0);

  StatusOr<std::unique_ptr<ImportSession>> session =
      ctx.engine.BeginImport(req.caller.tenant, *source, options);
  if (!session.ok()) return session.status();
  start.sink = std::make_unique<ImportSink>(std::move(*session), ctx.metrics);
  return start;
}

ApiResponse ListImports(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(
      std::optional<uint64_t> source_id,
      QueryUint(req.query, "source_id", 0, std::numeric_limits<uint64_t>::max()));
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t limit, QueryLogLimit(req.query));
  std::optional<uint32_t> source;
  if (source_id) {
    // Filtering by a source the tenant does not have is 404, like the
    // source itself (no difference between "none" and "not yours").
    if (*source_id == 0 || *source_id > std::numeric_limits<uint32_t>::max()) {
      return ErrorResponse(Status::NotFound("source does not exist"));
    }
    source = static_cast<uint32_t>(*source_id);
    SYNCMGR_RESPOND_IF_ERROR(ctx.engine.GetSource(req.caller.tenant, *source).status());
  }
  SYNCMGR_ASSIGN_OR_RESPOND(std::vector<ImportLogEntry> entries,
                            ctx.engine.ListImports(req.caller.tenant, source, limit));
  return JsonResponse(200, wire::ToJsonArray(entries, wire::WriteImportLog));
}

ApiResponse GetImport(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint64_t id, PathId64(req, "id", "import"));
  SYNCMGR_ASSIGN_OR_RESPOND(ImportLogEntry entry, ctx.engine.GetImport(req.caller.tenant, id));
  return JsonResponse(200, wire::ToJson(entry, wire::WriteImportLog));
}

}  // namespace

void AddImportRoutes(Router& router) {
  router.Add(StreamedBodyRoute(HttpMethod::kPost, "/sources/{id}/import", StartImport,
                               {"mode", "allow_mass_removal"}));
  router.Add(BufferedRoute(HttpMethod::kGet, "/imports", ListImports, {"source_id", "limit"}));
  router.Add(BufferedRoute(HttpMethod::kGet, "/imports/{id}", GetImport));
}

}  // namespace syncmgr::server
