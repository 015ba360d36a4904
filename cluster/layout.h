// Where Sync Manager keeps things in JetStream (docs/scaling.md, "Layout"):
// the names, subjects, keys and configurations every node must agree on.
//
//   stream SYNCMGR_LOG     replicas 3, file storage, kept forever
//     syncmgr.log.<tenant>    Commit and Fence messages: the tenant's log
//     syncmgr.chunk.<tenant>  Chunk messages of large operations
//   bucket syncmgr_leases  tenant.<tenant> -> LeaseRecord (TTL = lease TTL)
//   bucket syncmgr_tenant_ids  last -> last tenant id handed out (KvCounter:
//                          the bucket holds that key alone)
//   bucket syncmgr_key_prefixes  <prefix> -> tenant: API key prefixes,
//                          reserved with Create so they are cluster-unique
//   bucket syncmgr_nodes   <node> -> LeaseHolder of a live node (TTL = lease
//                          TTL; each node writes its own every TTL/3)
//   bucket syncmgr_delivery  t<tenant>.c<target> -> a push target's cursor,
//                          control state and dead letters (delivery_state.h)
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cluster/connection.h"
#include "cluster/kv.h"
#include "engine/types.h"

namespace syncmgr::cluster {

inline constexpr std::string_view kLogStream = "SYNCMGR_LOG";
inline constexpr std::string_view kLeaseBucket = "syncmgr_leases";
inline constexpr std::string_view kTenantIdsBucket = "syncmgr_tenant_ids";
inline constexpr std::string_view kKeyPrefixBucket = "syncmgr_key_prefixes";
inline constexpr std::string_view kDeliveryBucket = "syncmgr_delivery";
inline constexpr std::string_view kNodesBucket = "syncmgr_nodes";
inline constexpr std::string_view kTenantCounterKey = "last";

struct LayoutOptions {
  // Replicas of the stream and the buckets. Default: 3 (a quorum is 2).
  int replicas = 3;
  // Largest message the log stream accepts, headers included. nats-server's
  // default max_payload is 1 MiB; raising it needs the same max_payload on
  // every server. Unit: bytes. Default: 1 MiB.
  int32_t max_message_bytes = 1 << 20;
  // Room left in a message for the envelope and headers: an operation's
  // records travel inline while they fit max_message_bytes minus this, and
  // chunks carry that much framed data. Unit: bytes. Default: 16 KiB.
  int32_t message_headroom_bytes = 16 << 10;
  // Lease TTL (the lease bucket's). Default: 10 s.
  Millis lease_ttl{10000};
};

// "syncmgr.log.<tenant>" and "syncmgr.chunk.<tenant>".
std::string LogSubject(TenantId tenant);
std::string ChunkSubject(TenantId tenant);
// Every tenant's log subjects, for a node's reader.
inline constexpr std::string_view kAllLogSubjects = "syncmgr.log.*";
// The tenant of a log or chunk subject; nullopt for any other subject.
std::optional<TenantId> TenantOfSubject(std::string_view subject);
// "tenant.<tenant>".
std::string TenantLeaseKey(TenantId tenant);

StreamConfig LogStreamConfig(const LayoutOptions& options);
KvBucketConfig LeaseBucket(const LayoutOptions& options);
KvBucketConfig TenantIdsBucket(const LayoutOptions& options);
KvBucketConfig KeyPrefixBucket(const LayoutOptions& options);
KvBucketConfig NodesBucket(const LayoutOptions& options);
KvBucketConfig DeliveryBucket(const LayoutOptions& options);
// Data bytes per chunk (and the inline limit of a commit).
size_t ChunkBytes(const LayoutOptions& options);

}  // namespace syncmgr::cluster
