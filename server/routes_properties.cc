// Property routes (tenant key): lists (streamed), one property, history,
// and manual edits of target properties.
#include <limits>

#include "engine/engine.h"
#include "engine/import_parser.h"
#include "server/params.h"
#include "server/routes.h"
#include "server/server.h"
#include "wire/api_render.h"

namespace syncmgr::server {
namespace {

// Room for the fields around the document, so the answer is built without
// growing its string again and again.
constexpr size_t kPropertyFieldsBytes = 384;

ApiResponse PropertyResponse(const PropertyRecord& record, StreamKind kind) {
  std::string out;
  out.reserve(record.data.size() + record.external_id.size() + kPropertyFieldsBytes);
  wire::JsonWriter w(&out);
  wire::WriteProperty(w, record, kind);
  return JsonResponse(200, std::move(out));
}

// A property list as a JSON array, pulled from the engine cursor one piece
// (~stream_chunk_bytes) at a time: memory stays bounded however long the
// list is.
class PropertyListStream : public ResponseStream {
 public:
  PropertyListStream(std::unique_ptr<PropertyCursor> cursor, StreamKind kind, size_t piece_bytes)
      : cursor_(std::move(cursor)), kind_(kind), piece_bytes_(piece_bytes) {}

  Status Next(std::string* out, bool* done) override {
    if (!started_) {
      out->push_back('[');
      started_ = true;
    }
    // The piece ends after the row that reaches piece_bytes_: room for it and
    // a typical row, so the piece is not copied as it grows.
    out->reserve(piece_bytes_ + kPropertyFieldsBytes + 4096);
    while (out->size() < piece_bytes_) {
      if (!cursor_->Next(&record_)) {
        SYNCMGR_RETURN_IF_ERROR(cursor_->status());
        out->push_back(']');
        *done = true;
        return Status::Ok();
      }
      if (count_++ > 0) out->push_back(',');
      wire::JsonWriter item(out);
      wire::WriteProperty(item, record_, kind_);
    }
    *done = false;
    return Status::Ok();
  }

 private:
  std::unique_ptr<PropertyCursor> cursor_;
  const StreamKind kind_;
  const size_t piece_bytes_;
  PropertyRecord record_;  // reused: its strings keep their capacity
  bool started_ = false;
  uint64_t count_ = 0;
};

StatusOr<StreamRef> StreamOf(const ApiRequest& req, StreamKind kind) {
  StatusOr<uint32_t> id = PathId32(req, "id", kind == StreamKind::kSource ? "source" : "target");
  if (!id.ok()) return id.status();
  return StreamRef{kind, *id};
}

ApiResponse ListProperties(const ApiRequest& req, HandlerContext& ctx, StreamKind kind) {
  SYNCMGR_ASSIGN_OR_RESPOND(StreamRef stream, StreamOf(req, kind));
  ListOptions options;
  SYNCMGR_ASSIGN_OR_RESPOND(std::optional<uint64_t> limit,
                            QueryUint(req.query, "limit", 1, std::numeric_limits<uint64_t>::max()));
  options.limit = limit.value_or(0);  // engine: 0 = no limit
  if (const std::optional<std::string_view> after = req.query.Get("after")) {
    options.after = std::string(*after);
  }
  SYNCMGR_ASSIGN_OR_RESPOND(options.as_of_seq, QueryAsOf(req, ctx.engine));
  SYNCMGR_ASSIGN_OR_RESPOND(options.changed_since, QueryUint(req.query, "changed_since", 0,
                                                             std::numeric_limits<uint64_t>::max()));
  // Targets only: on a source any value is 400 (docs/api.md), as the
  // engine answers for `true`.
  if (kind == StreamKind::kSource && req.query.Get("manually_modified")) {
    return ErrorResponse(Status::InvalidArgument(
        "'manually_modified' applies to targets only: a source's properties are never edited "
        "by hand"));
  }
  SYNCMGR_ASSIGN_OR_RESPOND(options.manually_modified,
                            QueryBool(req.query, "manually_modified", false));
  SYNCMGR_ASSIGN_OR_RESPOND(std::unique_ptr<PropertyCursor> cursor,
                            ctx.engine.ListProperties(req.caller.tenant, stream, options));
  auto list =
      std::make_unique<PropertyListStream>(std::move(cursor), kind, ctx.options.stream_chunk_bytes);
  // The first piece is made here, before the status line is sent, so an
  // early error is still a proper JSON error; a list that fits in one piece
  // goes out with a Content-Length instead of chunked.
  ApiResponse response;
  bool done = false;
  SYNCMGR_RESPOND_IF_ERROR(list->Next(&response.body, &done));
  if (!done) response.stream = std::move(list);
  return response;
}

ApiResponse GetProperty(const ApiRequest& req, HandlerContext& ctx, StreamKind kind) {
  SYNCMGR_ASSIGN_OR_RESPOND(StreamRef stream, StreamOf(req, kind));
  ReadOptions options;
  SYNCMGR_ASSIGN_OR_RESPOND(options.as_of_seq, QueryAsOf(req, ctx.engine));
  SYNCMGR_ASSIGN_OR_RESPOND(
      PropertyRecord record,
      ctx.engine.GetProperty(req.caller.tenant, stream, req.path.Get("external_id"), options));
  return PropertyResponse(record, kind);
}

ApiResponse GetHistory(const ApiRequest& req, HandlerContext& ctx, StreamKind kind) {
  SYNCMGR_ASSIGN_OR_RESPOND(StreamRef stream, StreamOf(req, kind));
  SYNCMGR_ASSIGN_OR_RESPOND(
      std::vector<HistoryEntry> history,
      ctx.engine.History(req.caller.tenant, stream, req.path.Get("external_id")));
  return JsonResponse(200, wire::ToJsonArray(history, wire::WriteHistoryEntry));
}

ApiResponse PutProperty(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t target, PathId32(req, "id", "target"));
  const std::string& external_id = req.path.Get("external_id");
  if (external_id.size() > kMaxExternalIdBytes) {
    return ErrorResponse(Status::InvalidArgument("external_id is longer than " +
                                                 std::to_string(kMaxExternalIdBytes) + " bytes"));
  }
  if (!req.content_type.empty() && req.content_type != "application/json") {
    return ErrorResponse(Status(Code::kUnsupportedMediaType, "the body must be application/json"));
  }
  SYNCMGR_ASSIGN_OR_RESPOND(
      PropertyRecord record,
      ctx.engine.PutTargetProperty(req.caller.tenant, target, external_id, req.body));
  return PropertyResponse(record, StreamKind::kTarget);
}

ApiResponse DeleteProperty(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t target, PathId32(req, "id", "target"));
  SYNCMGR_ASSIGN_OR_RESPOND(
      PropertyRecord record,
      ctx.engine.DeleteTargetProperty(req.caller.tenant, target, req.path.Get("external_id")));
  return PropertyResponse(record, StreamKind::kTarget);
}

}  // namespace

void AddPropertyRoutes(Router& router) {
  for (const StreamKind kind : {StreamKind::kSource, StreamKind::kTarget}) {
    const std::string base = kind == StreamKind::kSource ? "/sources/{id}" : "/targets/{id}";
    router.Add(BufferedRoute(
        HttpMethod::kGet, base + "/properties",
        [kind](const ApiRequest& r, HandlerContext& c) { return ListProperties(r, c, kind); },
        {"limit", "after", "as_of", "changed_since", "manually_modified"}));
    router.Add(BufferedRoute(
        HttpMethod::kGet, base + "/properties/{external_id}",
        [kind](const ApiRequest& r, HandlerContext& c) { return GetProperty(r, c, kind); },
        {"as_of"}));
    router.Add(BufferedRoute(
        HttpMethod::kGet, base + "/properties/{external_id}/history",
        [kind](const ApiRequest& r, HandlerContext& c) { return GetHistory(r, c, kind); }));
  }
  router.Add(
      BufferedRoute(HttpMethod::kPut, "/targets/{id}/properties/{external_id}", PutProperty));
  router.Add(
      BufferedRoute(HttpMethod::kDelete, "/targets/{id}/properties/{external_id}", DeleteProperty));
}

}  // namespace syncmgr::server
