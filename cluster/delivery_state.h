// DeliveryStateBucket: push targets' delivery state in the bucket
// syncmgr_delivery (docs/scaling.md, "Push delivery"), the engine's
// DeliveryStateStore in cluster mode, so that a target's cursor, pause state
// and dead letters survive the loss of the node that delivered it.
//
// One key per target, t<tenant>.c<target>, holding the engine's encoding of
// the target's whole state. A write is a compare-and-set on the revision
// this node last read or wrote, and is made only while `may_write` (the
// node owns the tenant) says yes; both refusals are Conflict, and the next
// read takes the bucket's value again.
//
// Thread-safety: safe for concurrent use (the revisions under a mutex).
#pragma once

#include <functional>
#include <map>
#include <utility>

#include "cluster/kv.h"
#include "engine/cluster_hooks.h"
#include "engine/mutex.h"

namespace syncmgr::cluster {

class DeliveryStateBucket : public DeliveryStateStore {
 public:
  // REQUIRES: `bucket` outlives this.
  DeliveryStateBucket(const KvBucket* bucket, std::function<bool(TenantId)> may_write);

  StatusOr<std::string> Get(TenantId tenant, uint32_t target_id) EXCLUDES(mu_) override;
  Status Put(TenantId tenant, uint32_t target_id, std::string_view value)
      EXCLUDES(mu_) override;

  static std::string Key(TenantId tenant, uint32_t target_id);

 private:
  const KvBucket* const bucket_;
  const std::function<bool(TenantId)> may_write_;
  Mutex mu_;
  // The revision last read or written per target; 0: none (Create).
  std::map<std::pair<TenantId, uint32_t>, uint64_t> revisions_ GUARDED_BY(mu_);
};

}  // namespace syncmgr::cluster
