#include "engine/auth_cache.h"

namespace syncmgr {

bool AuthCache::ToDigest(std::string_view bytes, Digest* out) {
  if (bytes.size() != out->size()) return false;
  std::memcpy(out->data(), bytes.data(), out->size());
  return true;
}

std::optional<TenantId> AuthCache::Find(std::string_view key_hash) {
  Digest d;
  if (!ToDigest(key_hash, &d)) return std::nullopt;
  MutexLock lock(&mu_);
  auto it = map_.find(d);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

void AuthCache::Insert(std::string_view key_hash, TenantId tenant, uint64_t epoch) {
  Digest d;
  if (!ToDigest(key_hash, &d)) return;
  MutexLock lock(&mu_);
  // A Forget or Clear since the caller's read: what it read may be stale.
  if (epoch_.load(std::memory_order_relaxed) != epoch) return;
  if (map_.size() >= capacity_ && map_.find(d) == map_.end()) map_.erase(map_.begin());
  map_[d] = tenant;
}

void AuthCache::Forget(std::string_view key_hash) {
  Digest d;
  const bool valid = ToDigest(key_hash, &d);
  MutexLock lock(&mu_);
  epoch_.fetch_add(1, std::memory_order_release);
  if (valid) map_.erase(d);
}

void AuthCache::Clear() {
  MutexLock lock(&mu_);
  epoch_.fetch_add(1, std::memory_order_release);
  map_.clear();
}

size_t AuthCache::size() {
  MutexLock lock(&mu_);
  return map_.size();
}

}  // namespace syncmgr
