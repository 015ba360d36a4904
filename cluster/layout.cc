#include "cluster/layout.h"

#include <charconv>

#include <fmt/format.h>

#include "cluster/lease.h"

namespace syncmgr::cluster {

namespace {

constexpr std::string_view kLogPrefix = "syncmgr.log.";
constexpr std::string_view kChunkPrefix = "syncmgr.chunk.";

// A bucket that keeps its values (no TTL), with the layout's replicas.
KvBucketConfig KeptBucket(std::string_view name, const LayoutOptions& options) {
  KvBucketConfig c;
  c.name = std::string(name);
  c.replicas = options.replicas;
  return c;
}

}  // namespace

std::string LogSubject(TenantId tenant) { return fmt::format("{}{}", kLogPrefix, tenant); }
std::string ChunkSubject(TenantId tenant) { return fmt::format("{}{}", kChunkPrefix, tenant); }

std::optional<TenantId> TenantOfSubject(std::string_view subject) {
  std::string_view rest;
  if (subject.substr(0, kLogPrefix.size()) == kLogPrefix) {
    rest = subject.substr(kLogPrefix.size());
  } else if (subject.substr(0, kChunkPrefix.size()) == kChunkPrefix) {
    rest = subject.substr(kChunkPrefix.size());
  } else {
    return std::nullopt;
  }
  TenantId t = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), t);
  if (ec != std::errc() || end != rest.data() + rest.size() || t == 0 || rest.front() == '0') {
    return std::nullopt;
  }
  return t;
}

std::string TenantLeaseKey(TenantId tenant) { return fmt::format("tenant.{}", tenant); }

StreamConfig LogStreamConfig(const LayoutOptions& options) {
  StreamConfig c;
  c.name = std::string(kLogStream);
  c.subjects = {std::string(kAllLogSubjects), std::string(kChunkPrefix) + "*"};
  c.replicas = options.replicas;
  c.storage = Storage::kFile;
  c.max_msg_bytes = options.max_message_bytes;
  c.allow_direct = false;  // reads that decide go to the leader (docs/scaling.md)
  c.deny_purge = true;     // the log of record is never purged wholesale
  return c;
}

KvBucketConfig LeaseBucket(const LayoutOptions& options) {
  return LeaseBucketConfig(std::string(kLeaseBucket), options.lease_ttl, options.replicas);
}

KvBucketConfig TenantIdsBucket(const LayoutOptions& options) {
  return KeptBucket(kTenantIdsBucket, options);
}

KvBucketConfig KeyPrefixBucket(const LayoutOptions& options) {
  return KeptBucket(kKeyPrefixBucket, options);
}

KvBucketConfig NodesBucket(const LayoutOptions& options) {
  KvBucketConfig c = KeptBucket(kNodesBucket, options);
  c.ttl = options.lease_ttl;
  return c;
}

KvBucketConfig DeliveryBucket(const LayoutOptions& options) {
  return KeptBucket(kDeliveryBucket, options);
}

size_t ChunkBytes(const LayoutOptions& options) {
  return static_cast<size_t>(options.max_message_bytes - options.message_headroom_bytes);
}

}  // namespace syncmgr::cluster
