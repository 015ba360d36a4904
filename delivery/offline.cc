#include "delivery/offline.h"

#include "delivery/cursor.h"
#include "delivery/policy.h"
#include "engine/engine.h"

namespace syncmgr::delivery {

namespace {

Status CheckPushTarget(Engine& engine, TenantId tenant, uint32_t target_id) {
  SYNCMGR_ASSIGN_OR_RETURN(TargetInfo info, engine.GetTarget(tenant, target_id));
  if (!IsPushType(info.type)) {
    return Status::NotFound("target " + std::to_string(target_id) +
                            " is an internal target: it has no push delivery");
  }
  return Status::Ok();
}

StatusOr<DeliveryStatus> StatusOf(Engine& engine, TenantId tenant, uint32_t target_id,
                                  const DeliveryRecord& r) {
  DeliveryStatus s;
  s.delivered_seq = r.delivered_seq;
  SYNCMGR_ASSIGN_OR_RETURN(uint64_t last, engine.LastSeq(tenant));
  SYNCMGR_ASSIGN_OR_RETURN(
      s.pending_events, engine.CountStreamEvents(tenant, StreamRef{StreamKind::kTarget, target_id},
                                                 r.delivered_seq, last));
  s.last_error = r.last_error;
  s.last_attempt_at_us = r.last_attempt_at_us;
  s.dead_letters = r.dead_letters;
  s.state = r.paused ? "paused" : s.pending_events > 0 ? "delivering" : "idle";
  return s;
}

template <typename Change>
StatusOr<DeliveryStatus> Modify(Engine& engine, TenantId tenant, uint32_t target_id,
                                Change change) {
  SYNCMGR_RETURN_IF_ERROR(CheckPushTarget(engine, tenant, target_id));
  SYNCMGR_ASSIGN_OR_RETURN(DeliveryRecord record, engine.GetDelivery(tenant, target_id));
  SYNCMGR_RETURN_IF_ERROR(change(record));
  DeliveryWrite write;
  write.record = record;
  SYNCMGR_RETURN_IF_ERROR(engine.WriteDelivery(tenant, target_id, write));
  return StatusOf(engine, tenant, target_id, record);
}

}  // namespace

StatusOr<DeliveryStatus> OfflineStatus(Engine& engine, TenantId tenant, uint32_t target_id) {
  SYNCMGR_RETURN_IF_ERROR(CheckPushTarget(engine, tenant, target_id));
  SYNCMGR_ASSIGN_OR_RETURN(DeliveryRecord record, engine.GetDelivery(tenant, target_id));
  return StatusOf(engine, tenant, target_id, record);
}

StatusOr<DeliveryStatus> OfflinePause(Engine& engine, TenantId tenant, uint32_t target_id) {
  return Modify(engine, tenant, target_id, [](DeliveryRecord& r) {
    r.paused = true;
    return Status::Ok();
  });
}

StatusOr<DeliveryStatus> OfflineResume(Engine& engine, TenantId tenant, uint32_t target_id) {
  return Modify(engine, tenant, target_id, [](DeliveryRecord& r) {
    r.paused = false;
    return Status::Ok();
  });
}

StatusOr<DeliveryStatus> OfflineRedeliver(Engine& engine, TenantId tenant, uint32_t target_id,
                                          uint64_t from_seq) {
  // The same rewind as a server's, recorded the same way: the next server
  // re-sends from from_seq even to a receiver whose own cursor is higher.
  return Modify(engine, tenant, target_id,
                [from_seq](DeliveryRecord& r) { return Rewind(&r, from_seq); });
}

}  // namespace syncmgr::delivery
