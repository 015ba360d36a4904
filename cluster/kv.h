// KvBucket: a JetStream key-value bucket with compare-and-set, for the
// cluster's small shared state (leases, id counters, push delivery state;
// docs/scaling.md).
//
// The layout is NATS's own key-value layout, so `nats kv` tools read it: the
// bucket is the stream "KV_<bucket>" with subjects "$KV.<bucket>.>", one
// message per key kept (history 1), a key's value is its last message, and
// the key's revision is that message's stream sequence. Writes are publishes
// on "$KV.<bucket>.<key>"; a compare-and-set is a publish fenced by the
// expected last sequence of that subject, so the stream's leader decides it.
// The client library's own kvStore calls are not used because they do not
// tell a lost compare-and-set from other errors.
//
// nats-server 2.9 checks a per-key compare-and-set (Update, Delete with a
// revision) when the stream leader proposes the write, not when it applies
// it: two such writes of the same revision in flight together may both be
// stored. Create is exact (checked when applied), and so is UpdateSerial.
// Leases (lease.h) live with that: only their holder updates them, and the
// log's fence, not the lease, keeps writers apart.
//
// Reads (Get) are answered by the stream leader, not by any replica, so a
// value read is never older than one written before the read began.
//
// TTL: with a bucket TTL, the stream drops a value that long after its last
// write (the server's clock). Nothing here reads a clock.
//
// Errors: Conflict when a Create finds a value or an Update's revision is no
// longer the key's latest (nothing written); NotFound for an absent,
// deleted or expired key; Unavailable without quorum or answer; the rest as
// in connection.h.
//
// Thread-safety: a KvBucket is safe for concurrent use from many threads
// (it holds only names and the Connection, which must outlive it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/connection.h"
#include "engine/status.h"

namespace syncmgr::cluster {

struct KvBucketConfig {
  // [A-Za-z0-9_-]+
  std::string name;
  int replicas = 3;
  // A value is dropped this long after its last write; 0: kept.
  Millis ttl{0};
  // Largest value in bytes; -1: up to the server's max_payload.
  int32_t max_value_bytes = -1;
};

struct KvEntry {
  std::string key;
  std::string value;
  uint64_t revision = 0;  // stream sequence of the write
};

class KvBucket {
 public:
  // Creates the bucket, or binds to it when it exists with this
  // configuration (InvalidArgument naming the difference otherwise).
  static StatusOr<KvBucket> Open(Connection* conn, const KvBucketConfig& config);

  const std::string& name() const { return name_; }

  // The key's value. NotFound if absent, deleted or expired.
  StatusOr<KvEntry> Get(std::string_view key) const;
  // Writes unconditionally; returns the new revision.
  StatusOr<uint64_t> Put(std::string_view key, std::string_view value) const;
  // Writes only if the key has no value (never written, deleted or
  // expired). Conflict if it has one.
  StatusOr<uint64_t> Create(std::string_view key, std::string_view value) const;
  // Writes only if the key's latest revision is `revision`. Conflict if not
  // (another write came first, or the value expired).
  StatusOr<uint64_t> Update(std::string_view key, std::string_view value,
                            uint64_t revision) const;
  // Like Update, but the revision is compared with the bucket's last
  // revision (any key), when the write is applied: exact among concurrent
  // writers on nats-server 2.9, whose per-key compare-and-set is checked
  // only when proposed (two updates of the same revision in flight together
  // may both be stored). For buckets written through this one key (a
  // counter): a write to another key makes it fail.
  StatusOr<uint64_t> UpdateSerial(std::string_view key, std::string_view value,
                                  uint64_t revision) const;
  // Every key with a value (not deleted, not expired), in the order of
  // their last writes; at most `max` of them. One leader read per key.
  StatusOr<std::vector<KvEntry>> List(size_t max = 1000) const;
  // Deletes the key (a delete marker; the key then reads NotFound). With a
  // revision, only if that is still the key's latest (Conflict if not).
  Status Delete(std::string_view key, std::optional<uint64_t> revision = std::nullopt) const;

  // True for keys of [-/_=.A-Za-z0-9], not starting or ending with '.'.
  static bool ValidKey(std::string_view key);

 private:
  KvBucket(Connection* conn, std::string name);
  // The key's last message: value or delete marker. NotFound if none.
  StatusOr<StoredMessage> Last(std::string_view key) const;
  StatusOr<uint64_t> Write(std::string_view key, std::string_view value,
                           std::optional<uint64_t> expected_key_revision,
                           std::optional<uint64_t> expected_bucket_revision,
                           bool delete_marker) const;
  std::string Subject(std::string_view key) const;

  Connection* conn_;
  std::string name_;
  std::string stream_;  // "KV_<name>"
};

}  // namespace syncmgr::cluster
