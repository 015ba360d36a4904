// Authentication of X-API-Key (SPEC §4, docs/api.md "Authentication").
//
//   route scope  | no/unknown key | tenant key     | admin key
//   kPublic      | ok             | ok             | ok
//   kAdmin       | 401            | 403 forbidden  | ok
//   kTenant      | 401            | ok (tenant)    | 403 forbidden
//   kFeed        | ok, no caller  | ok (tenant)    | 403 forbidden
//                  (GET /feed: the handler then requires a ?token=)
//   kAnyKey      | 401            | ok             | ok
//
// The admin key is known only by its SHA-256 and compared in constant time
// (CRYPTO_memcmp); tenant keys are checked by Engine::Authenticate (stored
// hashed there).
//
// Thread-safety: pure functions; AuthenticateCaller may block on the engine
// (call it on a worker).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/status.h"
#include "server/http_types.h"
#include "server/router.h"
#include "server/server.h"

namespace syncmgr::server {

// True if `key` hashes to `admin_digest` (constant time in the key's bytes).
bool IsAdminKey(std::string_view key, const std::optional<KeyDigest>& admin_digest);

// The caller for a route of `scope` presenting `api_key` (nullopt: no
// header). Unauthorized or Forbidden per the table above.
StatusOr<Caller> AuthenticateCaller(AuthScope scope, const std::optional<std::string>& api_key,
                                    const std::optional<KeyDigest>& admin_digest, Engine& engine);

}  // namespace syncmgr::server
