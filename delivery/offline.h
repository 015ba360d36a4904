// Delivery control on a data directory that no server has open (`syncmgr
// delivery ... --db DIR`): the same stored state the DeliveryEngine keeps,
// read and changed directly. Nothing is sent; a server started later
// delivers from the stored cursor. The state is "paused" or, with no
// server delivering, "idle" (nothing pending) / "delivering" (pending).
//
// Thread-safety: as the Engine (safe from any thread).
#pragma once

#include <cstdint>

#include "delivery/delivery_engine.h"
#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr::delivery {

// NotFound when the target does not exist or is not a push target.
StatusOr<DeliveryStatus> OfflineStatus(Engine& engine, TenantId tenant, uint32_t target_id);
StatusOr<DeliveryStatus> OfflinePause(Engine& engine, TenantId tenant, uint32_t target_id);
StatusOr<DeliveryStatus> OfflineResume(Engine& engine, TenantId tenant, uint32_t target_id);
// InvalidArgument if from_seq is past the cursor.
StatusOr<DeliveryStatus> OfflineRedeliver(Engine& engine, TenantId tenant, uint32_t target_id,
                                          uint64_t from_seq);

}  // namespace syncmgr::delivery
