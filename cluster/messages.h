// The messages of cluster mode (schema/cluster.fbs, docs/scaling.md): how an
// operation's log records travel through the stream -- in one Commit
// message, or, when they do not fit one message, in Chunk messages made
// visible by a Commit that names them -- and the Fence and lease values.
//
// Encoding and decoding only: no NATS here. Decode verifies every buffer
// (FlatBuffers verifier, file identifier, format version, field rules) and
// answers Corruption for anything else, so a damaged or foreign message is
// refused, never half-read.
//
// Thread-safety: values and pure functions; a CommitBuilder is used by one
// thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr::cluster {

// Who holds a lease (the value of a lease key).
struct LeaseHolder {
  std::string node;           // --node
  std::string advertise_url;  // --advertise: where forwarded writes go
  uint64_t incarnation = 0;   // random per process start
  bool operator==(const LeaseHolder&) const = default;
};

struct ChunkRef {
  uint64_t stream_seq = 0;  // the Chunk message's stream sequence
  uint64_t bytes = 0;       // its data length
  bool operator==(const ChunkRef&) const = default;
};

// An operation's records first_seq..last_seq made visible. Exactly one of
// `chunks` and `records` is non-empty: an operation travels whole in its
// Commit, or whole in the chunks it names.
struct CommitMessage {
  TenantId tenant = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  std::string writer;
  uint64_t epoch = 0;   // stream sequence of the writer's Fence
  uint64_t op_id = 0;   // writer-unique; its chunks carry it
  int64_t time_us = 0;  // informative
  std::vector<ChunkRef> chunks;
  std::vector<std::string> records;  // each a finished fb.Event
  uint64_t prev = 0;  // the subject's message it was published after (its fence)
};

struct ChunkMessage {
  TenantId tenant = 0;
  uint64_t op_id = 0;
  uint32_t index = 0;  // 0, 1, 2, ... within the operation
  std::string data;    // a piece of the operation's framed records
};

struct FenceMessage {
  TenantId tenant = 0;
  std::string writer;
  std::string advertise_url;
  uint64_t incarnation = 0;
  uint64_t lease_revision = 0;
  uint64_t prev = 0;  // the subject's last message when it was published
};

using ClusterMessage = std::variant<CommitMessage, ChunkMessage, FenceMessage, LeaseHolder>;

std::string EncodeCommit(const CommitMessage& m);
std::string EncodeChunk(const ChunkMessage& m);
std::string EncodeFence(const FenceMessage& m);
std::string EncodeLease(const LeaseHolder& m);
// Corruption if `bytes` is not a valid ClusterMessage of a known version,
// or a Commit breaks the rules above (first_seq >= 1, last_seq >= first_seq,
// inline records numbering last_seq - first_seq + 1, or chunks but no
// records).
StatusOr<ClusterMessage> DecodeClusterMessage(std::string_view bytes);

// Framed records (schema/cluster.fbs): length:u32le event:byte[length].
void AppendFrame(std::string_view record, std::string* out);

// Collects an operation's records and decides how they travel: inline in
// the Commit while their encoded size stays within `chunk_bytes`, else as
// framed records cut into chunk payloads of exactly `chunk_bytes` (the last
// one shorter). Memory: at most about one chunk of framed bytes plus, while
// still inline, the records themselves (at most chunk_bytes).
class CommitBuilder {
 public:
  // REQUIRES: chunk_bytes > 0.
  explicit CommitBuilder(size_t chunk_bytes);

  void Add(std::string_view record);
  // No more records: when chunked, the framed bytes left become the last
  // chunk (collect it with TakeChunks).
  void Seal();

  uint64_t record_count() const { return count_; }
  bool chunked() const { return chunked_; }
  // Chunk payloads cut since the last call, in order. Publish each (as a
  // ChunkMessage with the next index) before the Commit that names them.
  std::vector<std::string> TakeChunks();
  // The records, when not chunked (moved out).
  std::vector<std::string> TakeInlineRecords() { return std::move(inline_); }

 private:
  void Cut();

  size_t chunk_bytes_;
  uint64_t count_ = 0;
  bool chunked_ = false;
  bool sealed_ = false;
  size_t inline_bytes_ = 0;
  std::vector<std::string> inline_;
  std::string framed_;              // framed bytes not yet cut
  std::vector<std::string> ready_;  // cut, not yet taken
};

// Reads a chunk named by a commit: the decoded Chunk message stored at
// ref.stream_seq (phase 2 fetches it from the stream).
using ChunkFetcher = std::function<StatusOr<ChunkMessage>(const ChunkRef& ref)>;
// Receives each record of a commit with its tenant seq, in order.
using RecordFn = std::function<Status(uint64_t seq, std::string_view record)>;

// Calls `fn` for every record of `commit` in seq order: its inline records,
// or the framed records of its chunks, fetched one at a time (memory: one
// chunk and one record). Corruption if a chunk is not the commit's (tenant,
// op_id, index, length) or the records do not number
// last_seq - first_seq + 1 exactly; errors of `fetch` and `fn` end it.
Status ForEachRecord(const CommitMessage& commit, const ChunkFetcher& fetch, const RecordFn& fn);

}  // namespace syncmgr::cluster
