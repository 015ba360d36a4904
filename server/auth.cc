#include "server/auth.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "engine/api_keys.h"
#include "engine/engine.h"

namespace syncmgr::server {

namespace {

KeyDigest DigestOf(std::string_view sha256) {
  KeyDigest digest{};
  std::memcpy(digest.data(), sha256.data(), std::min(digest.size(), sha256.size()));
  return digest;
}

bool IsAdminDigest(const KeyDigest& digest, const std::optional<KeyDigest>& admin_digest) {
  if (!admin_digest) return false;
  return CRYPTO_memcmp(digest.data(), admin_digest->data(), digest.size()) == 0;
}

}  // namespace

KeyDigest HashAdminKey(std::string_view key) {
  // The engine's SHA-256 (no algorithm lookup per call): the same digest.
  return DigestOf(HashApiKey(key));
}

bool IsAdminKey(std::string_view key, const std::optional<KeyDigest>& admin_digest) {
  return admin_digest && IsAdminDigest(HashAdminKey(key), admin_digest);
}

StatusOr<Caller> AuthenticateCaller(AuthScope scope, const std::optional<std::string>& api_key,
                                    const std::optional<KeyDigest>& admin_digest, Engine& engine) {
  if (scope == AuthScope::kPublic) return Caller{};
  // GET /feed without a key: the handler authenticates its ?token= instead.
  if (scope == AuthScope::kFeed && (!api_key || api_key->empty())) return Caller{};
  if (!api_key || api_key->empty()) {
    return Status::Unauthorized("missing X-API-Key header");
  }
  // One SHA-256 for both checks: the admin key's, then the tenant keys'.
  const std::string key_sha256 = HashApiKey(*api_key);
  if (IsAdminDigest(DigestOf(key_sha256), admin_digest)) {
    if (scope == AuthScope::kTenant || scope == AuthScope::kFeed) {
      return Status::Forbidden("the admin key cannot use tenant routes; use a tenant key");
    }
    return Caller{Caller::Kind::kAdmin, 0};
  }
  StatusOr<TenantId> tenant = engine.AuthenticateHashed(*api_key, key_sha256);
  if (!tenant.ok()) {
    if (tenant.status().code() == Code::kUnauthorized ||
        tenant.status().code() == Code::kNotFound) {
      return Status::Unauthorized("invalid API key");
    }
    return tenant.status();  // e.g. an I/O error: 500, not a misleading 401
  }
  if (scope == AuthScope::kAdmin) return Status::Forbidden("this route needs the admin key");
  return Caller{Caller::Kind::kTenant, *tenant};
}

}  // namespace syncmgr::server
