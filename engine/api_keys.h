// API keys: generation, checksum, hashing and the key view. Internal to
// engine/.
//
// A key is "smk_" + 64 hex digits (256 random bits from OpenSSL's RAND_bytes)
// + 8 hex digits of a CRC-32 over the rest, so a mistyped or truncated key is
// refused without a lookup. Its first 12 characters ("smk_" + 8 hex) are a
// visible, non-secret prefix that identifies it (unique among all keys: a
// new key whose prefix is taken is drawn again). Only the SHA-256 of the
// whole key is ever stored (the `auth` column family, keyed by that digest).
//
// Timing: a presented key is never compared with a stored secret. It is
// hashed and the digest is looked up; what a lookup's timing could reveal is
// how a SHA-256 digest of the attacker's own input relates to stored
// digests, which does not help to find a key (a preimage). The shape and
// checksum checks only depend on the presented key itself.
//
// Thread-safety: pure functions, except ApiKeyPrefixTaken's reads of the
// store (RocksDB is thread-safe).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr {

class EngineImpl;
class Store;

// A fresh random key. Aborts if the system random source fails.
std::string GenerateApiKey();
// A fresh random key whose prefix `taken` does not report as used (drawn
// again while it does, at most a few times; a 32-bit prefix collides once
// in billions).
std::string GenerateApiKey(const std::function<bool(std::string_view prefix)>& taken);
// True when `key` has the shape and a valid checksum.
bool ApiKeyWellFormed(std::string_view key);
// True when `prefix` has the shape of a key prefix ("smk_" + 8 lower hex).
bool ApiKeyPrefixWellFormed(std::string_view prefix);
// The visible prefix of a key.
std::string ApiKeyPrefix(std::string_view key);
// SHA-256 of the key: 32 raw bytes.
std::string HashApiKey(std::string_view key);

// One record of the key view.
struct StoredApiKey {
  std::string key_hash;  // SHA-256, 32 raw bytes: the record's key
  ApiKeyInfo info;
};
// Every record of the key view whose prefix is `prefix` (all of them when
// `prefix` is empty) and, when `tenant` is not 0, whose tenant is `tenant`.
// Scans the view: a few records per tenant.
StatusOr<std::vector<StoredApiKey>> FindApiKeys(Store& store, std::string_view prefix,
                                                TenantId tenant);
// A fresh key for `tenant` whose prefix is free here and, in cluster mode,
// reserved cluster-wide (EngineOptions::reserve_key_prefix): the
// reservation's error when it fails other than by Conflict.
StatusOr<std::string> IssueApiKey(EngineImpl* engine, TenantId tenant);
// For GenerateApiKey: true when some stored key has the prefix (a read
// error counts as taken, so a key is never issued on a doubtful check).
std::function<bool(std::string_view prefix)> ApiKeyPrefixTaken(Store& store);

}  // namespace syncmgr
