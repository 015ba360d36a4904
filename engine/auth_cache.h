// AuthCache: the tenant of each API key recently authenticated, by the
// key's SHA-256, so that Engine::Authenticate answers a known key without a
// RocksDB read (issue 18: one `auth` read per request was a quarter of a
// GET's engine time). Internal to engine/.
//
// Only the digest is held, never the key. Only keys that authenticated are
// held (an unknown or revoked key is read from the store every time, as
// before), so the size is bounded by the keys in use, and by `capacity`
// besides: past it an arbitrary entry makes room.
//
// Staleness: a key's record changes only when it is revoked, and a revoked
// key is never valid again. WriteOp::Commit calls Forget for each key its
// operation revoked (Engine::RevokeApiKey; Engine::ApplyFromLog in cluster
// mode) once the batch is in the store, before it returns, and a secondary
// calls Clear after catching up with its primary. A reader that missed
// takes epoch() before its store read and passes it to Insert, which
// declines when a Forget or Clear came in between: a read that saw the key
// still valid cannot put it back after its revocation was forgotten.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "engine/mutex.h"
#include "engine/types.h"

namespace syncmgr {

class AuthCache {
 public:
  // Entries held at most. Default: 65 536 (~6 MiB at the most).
  explicit AuthCache(size_t capacity = 65536) : capacity_(capacity == 0 ? 1 : capacity) {}
  AuthCache(const AuthCache&) = delete;
  AuthCache& operator=(const AuthCache&) = delete;

  // The tenant of the key whose SHA-256 is `key_hash`, if held.
  std::optional<TenantId> Find(std::string_view key_hash) EXCLUDES(mu_);
  // Taken before a store read whose result goes to Insert.
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  // Holds key_hash → tenant, read from the store after `epoch` was taken,
  // unless a Forget or Clear came since. Ignores a hash of another size.
  void Insert(std::string_view key_hash, TenantId tenant, uint64_t epoch) EXCLUDES(mu_);
  // The key's record changed (revoked): drops it. Call once the change is
  // visible in the store.
  void Forget(std::string_view key_hash) EXCLUDES(mu_);
  // Drops everything (the store changed under the engine: a secondary).
  void Clear() EXCLUDES(mu_);
  size_t size() EXCLUDES(mu_);

 private:
  using Digest = std::array<char, 32>;  // SHA-256
  struct DigestHash {
    // A SHA-256 is uniform: its first bytes are a good hash.
    size_t operator()(const Digest& d) const {
      size_t h;
      std::memcpy(&h, d.data(), sizeof(h));
      return h;
    }
  };
  static bool ToDigest(std::string_view bytes, Digest* out);

  const size_t capacity_;
  Mutex mu_;
  // Moved by Forget and Clear, under mu_ (read without it by epoch()).
  std::atomic<uint64_t> epoch_{0};
  std::unordered_map<Digest, TenantId, DigestHash> map_ GUARDED_BY(mu_);
};

}  // namespace syncmgr
