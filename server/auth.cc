#include "server/auth.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "engine/api_keys.h"
#include "engine/engine.h"

namespace syncmgr::server {

KeyDigest HashAdminKey(std::string_view key) {
  // The engine's SHA-256 (no algorithm lookup per call): the same digest.
  const std::string sha256 = HashApiKey(key);
  KeyDigest digest{};
  std::memcpy(digest.data(), sha256.data(), std::min(digest.size(), sha256.size()));
  return digest;
}

bool IsAdminKey(std::string_view key, const std::optional<KeyDigest>& admin_digest) {
  if (!admin_digest) return false;
  const KeyDigest digest = HashAdminKey(key);
  return CRYPTO_memcmp(digest.data(), admin_digest->data(), digest.size()) == 0;
}

StatusOr<Caller> AuthenticateCaller(AuthScope scope, const std::optional<std::string>& api_key,
                                    const std::optional<KeyDigest>& admin_digest, Engine& engine) {
  if (scope == AuthScope::kPublic) return Caller{};
  // GET /feed without a key: the handler authenticates its ?token= instead.
  if (scope == AuthScope::kFeed && (!api_key || api_key->empty())) return Caller{};
  if (!api_key || api_key->empty()) {
    return Status::Unauthorized("missing X-API-Key header");
  }
  if (IsAdminKey(*api_key, admin_digest)) {
    if (scope == AuthScope::kTenant || scope == AuthScope::kFeed) {
      return Status::Forbidden("the admin key cannot use tenant routes; use a tenant key");
    }
    return Caller{Caller::Kind::kAdmin, 0};
  }
  StatusOr<TenantId> tenant = engine.Authenticate(*api_key);
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
