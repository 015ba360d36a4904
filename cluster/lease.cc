// Lease over KvBucket's compare-and-set.
#include "cluster/lease.h"

#include <fmt/format.h>

namespace syncmgr::cluster {

namespace {

StatusOr<LeaseHolder> DecodeHolder(const KvEntry& e) {
  SYNCMGR_ASSIGN_OR_RETURN(ClusterMessage m, DecodeClusterMessage(e.value));
  if (const auto* h = std::get_if<LeaseHolder>(&m)) return *h;
  return Status::Corruption(fmt::format("lease {} holds another kind of message", e.key));
}

}  // namespace

KvBucketConfig LeaseBucketConfig(std::string name, Millis ttl, int replicas) {
  KvBucketConfig c;
  c.name = std::move(name);
  c.ttl = ttl;
  c.replicas = replicas;
  return c;
}

Lease::Lease(const KvBucket* bucket, std::string key, LeaseHolder me)
    : bucket_(bucket), key_(std::move(key)), me_(std::move(me)), value_(EncodeLease(me_)) {}

StatusOr<LeaseHolder> Lease::TryAcquire() {
  StatusOr<uint64_t> created = bucket_->Create(key_, value_);
  if (created.ok()) {
    revision_ = *created;
    return me_;
  }
  revision_ = 0;
  if (!IsFenced(created.status())) return created.status();
  // Someone holds it; maybe this very process (a repeated call).
  StatusOr<KvEntry> entry = bucket_->Get(key_);
  if (!entry.ok()) {
    // Expired or released between the two calls: the next attempt may win.
    if (entry.status().code() == Code::kNotFound) {
      return Status::Unavailable(fmt::format("lease {} changed hands meanwhile; try again", key_));
    }
    return entry.status();
  }
  SYNCMGR_ASSIGN_OR_RETURN(LeaseHolder holder, DecodeHolder(*entry));
  if (holder == me_) revision_ = entry->revision;
  return holder;
}

Status Lease::Renew() {
  if (revision_ == 0) return Status::Conflict(fmt::format("lease {} is not held", key_));
  StatusOr<uint64_t> rev = bucket_->Update(key_, value_, revision_);
  if (rev.ok()) {
    revision_ = *rev;
    return Status::Ok();
  }
  if (IsFenced(rev.status())) {
    revision_ = 0;
    return Status::Conflict(fmt::format("lease {} lost: {}", key_, rev.status().message()));
  }
  return rev.status();
}

Status Lease::Release() {
  if (revision_ == 0) return Status::Conflict(fmt::format("lease {} is not held", key_));
  Status s = bucket_->Delete(key_, revision_);
  if (s.ok() || IsFenced(s)) revision_ = 0;
  return s;
}

StatusOr<std::optional<LeaseHolder>> Lease::Observe() const {
  StatusOr<KvEntry> entry = bucket_->Get(key_);
  if (!entry.ok()) {
    if (entry.status().code() == Code::kNotFound) return std::optional<LeaseHolder>();
    return entry.status();
  }
  SYNCMGR_ASSIGN_OR_RETURN(LeaseHolder holder, DecodeHolder(*entry));
  return std::optional<LeaseHolder>(std::move(holder));
}

}  // namespace syncmgr::cluster
