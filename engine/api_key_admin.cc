// Engine: API key rotation — issuing further keys to a tenant, listing a
// tenant's keys and revoking a key by its visible prefix (SPEC §4 admin
// routes; docs/security.md). Every change is an event in the tenant's log
// (ApiKeyCreated / ApiKeyRevoked) folded into the `auth` view like any other.
#include <algorithm>

#include <fmt/format.h>

#include "engine/api_keys.h"
#include "engine/engine.h"
#include "engine/engine_impl.h"

namespace syncmgr {

namespace {

// Draws of a key prefix the cluster refuses before giving up.
constexpr int kMaxReservedDraws = 8;

}  // namespace

StatusOr<std::string> IssueApiKey(EngineImpl* engine, TenantId tenant) {
  const auto& reserve = engine->options().reserve_key_prefix;
  auto taken_here = ApiKeyPrefixTaken(engine->store());
  for (int i = 0; i < kMaxReservedDraws; ++i) {
    std::string key = GenerateApiKey(taken_here);
    if (!reserve) return key;
    Status s = reserve(ApiKeyPrefix(key), tenant);
    if (s.ok()) return key;
    if (s.code() != Code::kConflict) return s;
  }
  return Status::Unavailable("no free API key prefix was found; try again");
}

StatusOr<ApiKeyIssued> Engine::CreateApiKey(TenantId tenant) {
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->SlotForWrite(tenant));
  WriteOp op(impl_.get(), tenant, slot);
  SYNCMGR_RETURN_IF_ERROR(op.status());
  SYNCMGR_ASSIGN_OR_RETURN(std::string key, IssueApiKey(impl_.get(), tenant));
  ApiKeyIssued issued;
  issued.info.prefix = ApiKeyPrefix(key);
  issued.info.tenant = tenant;
  issued.info.time_us = op.time_us();
  BuildApiKeyCreated(&op.builder(), op.next_seq(), op.time_us(), HashApiKey(key),
                     issued.info.prefix);
  SYNCMGR_RETURN_IF_ERROR(op.Append());
  SYNCMGR_RETURN_IF_ERROR(op.Commit().status());
  issued.api_key = std::move(key);
  return issued;
}

StatusOr<std::vector<ApiKeyInfo>> Engine::ListApiKeys(TenantId tenant) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  SYNCMGR_ASSIGN_OR_RETURN(std::vector<StoredApiKey> stored,
                           FindApiKeys(impl_->store(), "", tenant));
  std::vector<ApiKeyInfo> out;
  out.reserve(stored.size());
  for (StoredApiKey& k : stored) out.push_back(std::move(k.info));
  std::sort(out.begin(), out.end(),
            [](const ApiKeyInfo& a, const ApiKeyInfo& b) { return a.prefix < b.prefix; });
  return out;
}

StatusOr<ApiKeyInfo> Engine::RevokeApiKey(std::string_view prefix) {
  if (!ApiKeyPrefixWellFormed(prefix)) {
    return Status::InvalidArgument(
        "a key prefix is \"smk_\" followed by 8 lower-case hex digits (the first 12 characters "
        "of the key)");
  }
  SYNCMGR_ASSIGN_OR_RETURN(std::vector<StoredApiKey> found,
                           FindApiKeys(impl_->store(), prefix, 0));
  if (found.empty()) return Status::NotFound(fmt::format("no API key has prefix {}", prefix));
  // Prefixes are drawn unique; should two keys ever share one, refuse rather
  // than guess which to revoke.
  const auto active = std::count_if(found.begin(), found.end(),
                                    [](const StoredApiKey& k) { return !k.info.revoked; });
  if (active == 0) {
    return Status::Conflict(fmt::format("API key {} is already revoked", prefix));
  }
  if (found.size() > 1) {
    return Status::Conflict(
        fmt::format("{} keys share prefix {}; none was revoked", found.size(), prefix));
  }
  const StoredApiKey key = found.front();  // a copy: `found` is read again below
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->SlotForWrite(key.info.tenant));
  WriteOp op(impl_.get(), key.info.tenant, slot);
  SYNCMGR_RETURN_IF_ERROR(op.status());
  // Re-read under the tenant's write lock: a concurrent revocation of the
  // same key (which takes the same lock) has committed by now.
  SYNCMGR_ASSIGN_OR_RETURN(found, FindApiKeys(impl_->store(), prefix, key.info.tenant));
  if (found.size() != 1 || found.front().key_hash != key.key_hash) {
    return Status::Conflict(fmt::format("API key {} changed meanwhile; try again", prefix));
  }
  if (found.front().info.revoked) {
    return Status::Conflict(fmt::format("API key {} is already revoked", prefix));
  }
  ApiKeyInfo info = key.info;
  info.revoked = true;
  info.time_us = op.time_us();
  BuildApiKeyRevoked(&op.builder(), op.next_seq(), op.time_us(), key.key_hash, prefix);
  SYNCMGR_RETURN_IF_ERROR(op.Append());
  // Commit drops the key from the AuthCache once the batch is in the store.
  SYNCMGR_RETURN_IF_ERROR(op.Commit().status());
  return info;
}

}  // namespace syncmgr
