// KvBucket over Connection's fenced publishes and leader reads.
#include "cluster/kv.h"

#include <algorithm>

#include <fmt/format.h>

#include "cluster/nats_internal.h"

namespace syncmgr::cluster {

namespace {

// NATS's key-value layout (the names its clients use).
constexpr std::string_view kOperationHeader = "KV-Operation";
constexpr std::string_view kDeleteOp = "DEL";
constexpr std::string_view kPurgeOp = "PURGE";

bool ValidBucketName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

bool IsDeleteMarker(const StoredMessage& m) {
  const std::string* op = m.Header(kOperationHeader);
  return op != nullptr && (*op == kDeleteOp || *op == kPurgeOp);
}

}  // namespace

KvBucket::KvBucket(Connection* conn, std::string name)
    : conn_(conn), name_(std::move(name)), stream_("KV_" + name_) {}

bool KvBucket::ValidKey(std::string_view key) {
  if (key.empty() || key.front() == '.' || key.back() == '.') return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '/' || c == '_' ||
           c == '=' || c == '.';
  });
}

StatusOr<KvBucket> KvBucket::Open(Connection* conn, const KvBucketConfig& config) {
  if (!ValidBucketName(config.name)) {
    return Status::InvalidArgument(
        fmt::format("key-value bucket name \"{}\" is not [A-Za-z0-9_-]+", config.name));
  }
  StreamConfig sc;
  sc.name = "KV_" + config.name;
  sc.subjects = {fmt::format("$KV.{}.>", config.name)};
  sc.replicas = config.replicas;
  sc.storage = Storage::kFile;
  sc.max_msgs_per_subject = 1;  // history 1: a key is its last value
  sc.max_age = config.ttl;
  sc.max_msg_bytes = config.max_value_bytes;
  sc.allow_rollup = true;
  sc.deny_delete = true;
  sc.allow_direct = true;
  sc.discard_new = true;
  SYNCMGR_RETURN_IF_ERROR(conn->EnsureStream(sc).status());
  return KvBucket(conn, config.name);
}

std::string KvBucket::Subject(std::string_view key) const {
  return fmt::format("$KV.{}.{}", name_, key);
}

StatusOr<StoredMessage> KvBucket::Last(std::string_view key) const {
  if (!ValidKey(key)) return Status::InvalidArgument(fmt::format("invalid key \"{}\"", key));
  return conn_->LastMessage(stream_, Subject(key));
}

StatusOr<KvEntry> KvBucket::Get(std::string_view key) const {
  SYNCMGR_ASSIGN_OR_RETURN(StoredMessage m, Last(key));
  if (IsDeleteMarker(m)) return Status::NotFound(fmt::format("{}/{}: deleted", name_, key));
  return KvEntry{std::string(key), std::move(m.payload), m.stream_seq};
}

StatusOr<uint64_t> KvBucket::Write(std::string_view key, std::string_view value,
                                   std::optional<uint64_t> expected_key_revision,
                                   std::optional<uint64_t> expected_bucket_revision,
                                   bool delete_marker) const {
  if (!ValidKey(key)) return Status::InvalidArgument(fmt::format("invalid key \"{}\"", key));
  PublishOptions po;
  po.stream = stream_;
  // One id per logical write: a retry after a lost acknowledgement finds
  // its own earlier attempt instead of writing twice.
  po.msg_id = UniqueMessageId();
  po.expected_last_subject_seq = expected_key_revision;
  po.expected_last_stream_seq = expected_bucket_revision;
  if (delete_marker) po.headers.emplace_back(kOperationHeader, kDeleteOp);
  SYNCMGR_ASSIGN_OR_RETURN(PublishAck ack, conn_->Publish(Subject(key), value, po));
  return ack.stream_seq;
}

StatusOr<uint64_t> KvBucket::Put(std::string_view key, std::string_view value) const {
  return Write(key, value, std::nullopt, std::nullopt, false);
}

StatusOr<uint64_t> KvBucket::Create(std::string_view key, std::string_view value) const {
  StatusOr<uint64_t> rev = Write(key, value, 0, std::nullopt, false);
  if (rev.ok() || !IsFenced(rev.status())) return rev;
  // The subject has a message: a value (the key exists) or a delete marker,
  // which a create may replace.
  SYNCMGR_ASSIGN_OR_RETURN(StoredMessage m, Last(key));
  if (!IsDeleteMarker(m)) {
    return Status::Conflict(fmt::format("{}/{} exists (revision {})", name_, key, m.stream_seq));
  }
  return Write(key, value, m.stream_seq, std::nullopt, false);
}

StatusOr<uint64_t> KvBucket::Update(std::string_view key, std::string_view value,
                                    uint64_t revision) const {
  if (revision == 0) return Status::InvalidArgument("an update needs the revision it replaces");
  return Write(key, value, revision, std::nullopt, false);
}

StatusOr<uint64_t> KvBucket::UpdateSerial(std::string_view key, std::string_view value,
                                          uint64_t revision) const {
  if (revision == 0) return Status::InvalidArgument("an update needs the revision it replaces");
  return Write(key, value, std::nullopt, revision, false);
}

StatusOr<std::vector<KvEntry>> KvBucket::List(size_t max) const {
  std::vector<KvEntry> out;
  const std::string all = fmt::format("$KV.{}.>", name_);
  const std::string prefix = fmt::format("$KV.{}.", name_);
  uint64_t from = 1;
  while (out.size() < max) {
    StatusOr<StoredMessage> m = conn_->NextMessage(stream_, all, from);
    if (!m.ok()) {
      if (m.status().code() == Code::kNotFound) break;
      return m.status();
    }
    from = m->stream_seq + 1;
    if (IsDeleteMarker(*m) || m->subject.rfind(prefix, 0) != 0) continue;
    out.push_back(KvEntry{m->subject.substr(prefix.size()), std::move(m->payload), m->stream_seq});
  }
  return out;
}

Status KvBucket::Delete(std::string_view key, std::optional<uint64_t> revision) const {
  return Write(key, "", revision, std::nullopt, true).status();
}

}  // namespace syncmgr::cluster
