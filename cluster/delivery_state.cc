// Push delivery state in the bucket syncmgr_delivery (delivery_state.h).
#include "cluster/delivery_state.h"

#include <optional>

#include <fmt/format.h>

namespace syncmgr::cluster {

DeliveryStateBucket::DeliveryStateBucket(const KvBucket* bucket,
                                         std::function<bool(TenantId)> may_write)
    : bucket_(bucket), may_write_(std::move(may_write)) {}

std::string DeliveryStateBucket::Key(TenantId tenant, uint32_t target_id) {
  return fmt::format("t{}.c{}", tenant, target_id);
}

StatusOr<std::string> DeliveryStateBucket::Get(TenantId tenant, uint32_t target_id) {
  StatusOr<KvEntry> entry = bucket_->Get(Key(tenant, target_id));
  MutexLock lock(&mu_);
  if (!entry.ok()) {
    if (entry.status().code() == Code::kNotFound) revisions_[{tenant, target_id}] = 0;
    return entry.status();
  }
  revisions_[{tenant, target_id}] = entry->revision;
  return std::move(entry->value);
}

Status DeliveryStateBucket::Put(TenantId tenant, uint32_t target_id, std::string_view value) {
  if (may_write_ && !may_write_(tenant)) {
    return Status::Conflict(fmt::format(
        "this node does not own tenant {} (any more): its push delivery state is the owner's "
        "to write",
        tenant));
  }
  const std::pair<TenantId, uint32_t> id{tenant, target_id};
  std::optional<uint64_t> revision;
  {
    MutexLock lock(&mu_);
    auto it = revisions_.find(id);
    if (it != revisions_.end()) revision = it->second;
  }
  if (!revision.has_value()) {  // never read here: read it first
    StatusOr<std::string> now = Get(tenant, target_id);
    if (!now.ok() && now.status().code() != Code::kNotFound) return now.status();
    return Status::Conflict("push delivery state not read yet on this node; read it again");
  }
  const std::string key = Key(tenant, target_id);
  StatusOr<uint64_t> written = *revision == 0 ? bucket_->Create(key, value)
                                              : bucket_->Update(key, value, *revision);
  MutexLock lock(&mu_);
  if (!written.ok()) {
    revisions_.erase(id);  // unknown now: the next read takes it again
    return written.status();
  }
  revisions_[id] = *written;
  return Status::Ok();
}

}  // namespace syncmgr::cluster
