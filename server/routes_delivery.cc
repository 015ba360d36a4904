// Push delivery routes (tenant key; SPEC §4 "Push delivery"): the delivery
// state of a push target, its control (pause, resume, redeliver, snapshot)
// and its dead letters. The work is the DeliveryEngine's
// (delivery/delivery_engine.h); these handlers run on the worker pool.
#include "delivery/delivery_engine.h"
#include "engine/engine.h"
#include "server/json_writer.h"
#include "server/params.h"
#include "server/routes.h"

namespace syncmgr::server {
namespace {

// Dead letters listed per request at most.
constexpr uint64_t kMaxDeadLetterLimit = 1000;

void WriteTimeOrNull(JsonWriter& w, int64_t us) {
  if (us == 0) {
    w.Null();
  } else {
    w.Time(us);
  }
}

// {"state", "delivered_seq", "pending_events", "last_error", "last_attempt_at",
//  "next_attempt_at", "dead_letters"}
ApiResponse StatusResponse(const StatusOr<delivery::DeliveryStatus>& status) {
  if (!status.ok()) return ErrorResponse(status.status());
  const delivery::DeliveryStatus& s = *status;
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("state").String(s.state);
  w.Key("delivered_seq").Uint(s.delivered_seq);
  w.Key("pending_events").Uint(s.pending_events);
  w.Key("last_error");
  if (s.last_error.empty()) {
    w.Null();
  } else {
    w.String(s.last_error);
  }
  w.Key("last_attempt_at");
  WriteTimeOrNull(w, s.last_attempt_at_us);
  w.Key("next_attempt_at");
  WriteTimeOrNull(w, s.next_attempt_at_us);
  w.Key("dead_letters").Uint(s.dead_letters);
  w.EndObject();
  return JsonResponse(200, std::move(out));
}

// {"id", "first_seq", "last_seq", "attempts", "last_error", "failed_at"}
void WriteDeadLetter(JsonWriter& w, const DeadLetter& d) {
  w.BeginObject();
  w.Key("id").Uint(d.id);
  w.Key("first_seq").Uint(d.first_seq);
  w.Key("last_seq").Uint(d.last_seq);
  w.Key("attempts").Uint(d.attempts);
  w.Key("last_error").String(d.last_error);
  w.Key("failed_at").Time(d.failed_at_us);
  w.EndObject();
}

StatusOr<delivery::DeliveryEngine*> Delivery(HandlerContext& ctx) {
  if (ctx.delivery == nullptr) return Status::Unavailable("push delivery is not running");
  return ctx.delivery;
}

ApiResponse GetDelivery(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t id, PathId32(req, "id", "target"));
  SYNCMGR_ASSIGN_OR_RESPOND(delivery::DeliveryEngine * d, Delivery(ctx));
  return StatusResponse(d->GetStatus(req.caller.tenant, id));
}

ApiResponse PauseDelivery(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t id, PathId32(req, "id", "target"));
  SYNCMGR_ASSIGN_OR_RESPOND(delivery::DeliveryEngine * d, Delivery(ctx));
  return StatusResponse(d->Pause(req.caller.tenant, id));
}

ApiResponse ResumeDelivery(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t id, PathId32(req, "id", "target"));
  SYNCMGR_ASSIGN_OR_RESPOND(delivery::DeliveryEngine * d, Delivery(ctx));
  return StatusResponse(d->Resume(req.caller.tenant, id));
}

ApiResponse Redeliver(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t id, PathId32(req, "id", "target"));
  SYNCMGR_ASSIGN_OR_RESPOND(std::optional<uint64_t> from_seq,
                            QueryUint(req.query, "from_seq", 0, UINT64_MAX));
  if (!from_seq) {
    return ErrorResponse(Status::InvalidArgument(
        "redeliver needs ?from_seq=N (everything after seq N is sent again)"));
  }
  SYNCMGR_ASSIGN_OR_RESPOND(delivery::DeliveryEngine * d, Delivery(ctx));
  return StatusResponse(d->Redeliver(req.caller.tenant, id, *from_seq));
}

ApiResponse Snapshot(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t id, PathId32(req, "id", "target"));
  SYNCMGR_ASSIGN_OR_RESPOND(delivery::DeliveryEngine * d, Delivery(ctx));
  SYNCMGR_ASSIGN_OR_RESPOND(uint64_t seq, d->Snapshot(req.caller.tenant, id));
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("seq").Uint(seq).EndObject();
  return JsonResponse(200, std::move(out));
}

ApiResponse ListDeadLetters(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t id, PathId32(req, "id", "target"));
  SYNCMGR_ASSIGN_OR_RESPOND(std::optional<uint64_t> limit,
                            QueryUint(req.query, "limit", 1, kMaxDeadLetterLimit));
  SYNCMGR_ASSIGN_OR_RESPOND(std::optional<uint64_t> after,
                            QueryUint(req.query, "after", 0, UINT64_MAX));
  SYNCMGR_ASSIGN_OR_RESPOND(delivery::DeliveryEngine * d, Delivery(ctx));
  // Through the delivery engine first: 404 for an internal target.
  SYNCMGR_RESPOND_IF_ERROR(d->GetStatus(req.caller.tenant, id).status());
  SYNCMGR_ASSIGN_OR_RESPOND(
      std::vector<DeadLetter> list,
      ctx.engine.ListDeadLetters(req.caller.tenant, id, after.value_or(0),
                                 static_cast<uint32_t>(limit.value_or(kMaxDeadLetterLimit))));
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  for (const DeadLetter& dead : list) WriteDeadLetter(w, dead);
  w.EndArray();
  return JsonResponse(200, std::move(out));
}

ApiResponse RetryDeadLetter(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t id, PathId32(req, "id", "target"));
  SYNCMGR_ASSIGN_OR_RESPOND(uint64_t dead_id, PathId64(req, "dead_letter_id", "dead letter"));
  SYNCMGR_ASSIGN_OR_RESPOND(delivery::DeliveryEngine * d, Delivery(ctx));
  SYNCMGR_ASSIGN_OR_RESPOND(DeadLetter dead, d->RetryDeadLetter(req.caller.tenant, id, dead_id));
  std::string out;
  JsonWriter w(&out);
  WriteDeadLetter(w, dead);
  return JsonResponse(202, std::move(out));  // queued: removed once delivered
}

}  // namespace

void AddDeliveryRoutes(Router& router) {
  router.Add(BufferedRoute(HttpMethod::kGet, "/targets/{id}/delivery", GetDelivery));
  router.Add(BufferedRoute(HttpMethod::kPost, "/targets/{id}/delivery/pause", PauseDelivery));
  router.Add(BufferedRoute(HttpMethod::kPost, "/targets/{id}/delivery/resume", ResumeDelivery));
  router.Add(BufferedRoute(HttpMethod::kPost, "/targets/{id}/delivery/redeliver", Redeliver,
                           {"from_seq"}));
  router.Add(BufferedRoute(HttpMethod::kPost, "/targets/{id}/delivery/snapshot", Snapshot));
  router.Add(BufferedRoute(HttpMethod::kGet, "/targets/{id}/dead_letters", ListDeadLetters,
                           {"after", "limit"}));
  router.Add(BufferedRoute(HttpMethod::kPost, "/targets/{id}/dead_letters/{dead_letter_id}/retry",
                           RetryDeadLetter));
}

}  // namespace syncmgr::server
