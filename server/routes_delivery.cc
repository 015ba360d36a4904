// Push delivery routes (tenant key; SPEC §4 "Push delivery"): the delivery
// state of a push target, its control (pause, resume, redeliver, snapshot)
// and its dead letters. The work is the DeliveryEngine's
// (delivery/delivery_engine.h); these handlers run on the worker pool.
#include "delivery/delivery_engine.h"
#include "engine/engine.h"
#include "server/params.h"
#include "server/routes.h"
#include "wire/api_render.h"

namespace syncmgr::server {
namespace {

// Dead letters listed per request at most.
constexpr uint64_t kMaxDeadLetterLimit = 1000;

ApiResponse StatusResponse(const StatusOr<wire::DeliveryStatus>& status) {
  if (!status.ok()) return ErrorResponse(status.status());
  return JsonResponse(200, wire::ToJson(*status, wire::WriteDeliveryStatus));
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
  wire::JsonWriter w(&out);
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
  return JsonResponse(200, wire::ToJsonArray(list, wire::WriteDeadLetter));
}

ApiResponse RetryDeadLetter(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(uint32_t id, PathId32(req, "id", "target"));
  SYNCMGR_ASSIGN_OR_RESPOND(uint64_t dead_id, PathId64(req, "dead_letter_id", "dead letter"));
  SYNCMGR_ASSIGN_OR_RESPOND(delivery::DeliveryEngine * d, Delivery(ctx));
  SYNCMGR_ASSIGN_OR_RESPOND(DeadLetter dead, d->RetryDeadLetter(req.caller.tenant, id, dead_id));
  // Queued: removed once delivered.
  return JsonResponse(202, wire::ToJson(dead, wire::WriteDeadLetter));
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
