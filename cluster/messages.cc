// Encoding and decoding of schema/cluster.fbs, and the framed records of
// chunked operations (grammar in schema/cluster.fbs).
#include "cluster/messages.h"

#include <flatbuffers/flatbuffers.h>

#include <cstring>

#include <fmt/format.h>

#include "cluster_generated.h"

namespace syncmgr::cluster {

namespace fbc = ::syncmgr::fb::cluster;

namespace {

constexpr uint16_t kClusterFormatVersion = 1;
constexpr size_t kFrameHeaderBytes = 4;
// Bytes a record costs in a Commit beyond its own: its table, vector
// length, offset and padding (FlatBuffers), rounded up.
constexpr size_t kInlineRecordOverhead = 32;

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

std::string Finish(flatbuffers::FlatBufferBuilder& b, fbc::ClusterBody type,
                   flatbuffers::Offset<void> body) {
  auto msg = fbc::CreateClusterMessage(b, kClusterFormatVersion, type, body);
  fbc::FinishClusterMessageBuffer(b, msg);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

std::string Str(const flatbuffers::String* s) { return s == nullptr ? "" : s->str(); }

std::string Blob(const flatbuffers::Vector<uint8_t>* v) {
  return v == nullptr ? "" : std::string(reinterpret_cast<const char*>(v->data()), v->size());
}

StatusOr<CommitMessage> ReadCommit(const fbc::Commit& c) {
  CommitMessage m;
  m.tenant = c.tenant();
  m.first_seq = c.first_seq();
  m.last_seq = c.last_seq();
  m.writer = Str(c.writer());
  m.epoch = c.epoch();
  m.op_id = c.op_id();
  m.time_us = c.time_us();
  m.prev = c.prev();
  if (c.chunks() != nullptr) {
    for (const fbc::ChunkRef* r : *c.chunks()) m.chunks.push_back({r->stream_seq(), r->bytes()});
  }
  if (c.records() != nullptr) {
    for (const fbc::Record* r : *c.records()) m.records.push_back(Blob(r->event()));
  }
  if (m.tenant == 0 || m.first_seq == 0 || m.last_seq < m.first_seq) {
    return Status::Corruption(fmt::format("commit of tenant {} has seqs {}..{}", m.tenant,
                                          m.first_seq, m.last_seq));
  }
  if (m.chunks.empty() == m.records.empty()) {
    return Status::Corruption("a commit must hold either records or chunks, not both or neither");
  }
  if (!m.records.empty() && m.records.size() != m.last_seq - m.first_seq + 1) {
    return Status::Corruption(fmt::format("commit {}..{} holds {} records", m.first_seq,
                                          m.last_seq, m.records.size()));
  }
  return m;
}

}  // namespace

std::string EncodeCommit(const CommitMessage& m) {
  size_t size = 256 + m.writer.size() + m.chunks.size() * 24;
  for (const auto& r : m.records) size += r.size() + kInlineRecordOverhead;
  flatbuffers::FlatBufferBuilder b(size);
  std::vector<flatbuffers::Offset<fbc::Record>> records;
  records.reserve(m.records.size());
  for (const auto& r : m.records) {
    records.push_back(fbc::CreateRecord(b, b.CreateVector(Bytes(r), r.size())));
  }
  std::vector<flatbuffers::Offset<fbc::ChunkRef>> chunks;
  for (const auto& c : m.chunks) chunks.push_back(fbc::CreateChunkRef(b, c.stream_seq, c.bytes));
  auto commit = fbc::CreateCommit(b, m.tenant, m.first_seq, m.last_seq, b.CreateString(m.writer),
                                  m.epoch, m.op_id, m.time_us,
                                  chunks.empty() ? 0 : b.CreateVector(chunks),
                                  records.empty() ? 0 : b.CreateVector(records), m.prev);
  return Finish(b, fbc::ClusterBody::Commit, commit.Union());
}

std::string EncodeChunk(const ChunkMessage& m) {
  flatbuffers::FlatBufferBuilder b(m.data.size() + 128);
  auto chunk = fbc::CreateChunk(b, m.tenant, m.op_id, m.index, b.CreateVector(Bytes(m.data), m.data.size()));
  return Finish(b, fbc::ClusterBody::Chunk, chunk.Union());
}

std::string EncodeFence(const FenceMessage& m) {
  flatbuffers::FlatBufferBuilder b(256);
  auto fence = fbc::CreateFence(b, m.tenant, b.CreateString(m.writer),
                                b.CreateString(m.advertise_url), m.incarnation, m.lease_revision,
                                m.prev);
  return Finish(b, fbc::ClusterBody::Fence, fence.Union());
}

std::string EncodeLease(const LeaseHolder& m) {
  flatbuffers::FlatBufferBuilder b(256);
  auto lease = fbc::CreateLeaseRecord(b, b.CreateString(m.node), b.CreateString(m.advertise_url),
                                      m.incarnation);
  return Finish(b, fbc::ClusterBody::LeaseRecord, lease.Union());
}

StatusOr<ClusterMessage> DecodeClusterMessage(std::string_view bytes) {
  // The verifier wants the buffer aligned as the builder left it.
  std::string copy;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint64_t) != 0) {
    copy.assign(bytes);
    bytes = copy;
  }
  flatbuffers::Verifier v(Bytes(bytes), bytes.size());
  if (!fbc::VerifyClusterMessageBuffer(v)) {
    return Status::Corruption("not a Sync Manager cluster message (verification failed)");
  }
  const fbc::ClusterMessage* msg = fbc::GetClusterMessage(bytes.data());
  if (msg->format_version() > kClusterFormatVersion) {
    return Status::Corruption(
        fmt::format("cluster message has format version {}, this build reads up to {}",
                    msg->format_version(), kClusterFormatVersion));
  }
  switch (msg->body_type()) {
    case fbc::ClusterBody::Commit: {
      SYNCMGR_ASSIGN_OR_RETURN(CommitMessage m, ReadCommit(*msg->body_as_Commit()));
      return ClusterMessage(std::move(m));
    }
    case fbc::ClusterBody::Chunk: {
      const fbc::Chunk* c = msg->body_as_Chunk();
      if (c->tenant() == 0) return Status::Corruption("chunk of tenant 0");
      return ClusterMessage(ChunkMessage{c->tenant(), c->op_id(), c->index(), Blob(c->data())});
    }
    case fbc::ClusterBody::Fence: {
      const fbc::Fence* f = msg->body_as_Fence();
      if (f->tenant() == 0) return Status::Corruption("fence of tenant 0");
      return ClusterMessage(FenceMessage{f->tenant(), Str(f->writer()), Str(f->advertise_url()),
                                         f->incarnation(), f->lease_revision(), f->prev()});
    }
    case fbc::ClusterBody::LeaseRecord: {
      const fbc::LeaseRecord* l = msg->body_as_LeaseRecord();
      return ClusterMessage(LeaseHolder{Str(l->node()), Str(l->advertise_url()), l->incarnation()});
    }
    default:
      return Status::Corruption(fmt::format("cluster message of unknown kind {}",
                                            static_cast<int>(msg->body_type())));
  }
}

// ---- Framed records -----------------------------------------------------------

void AppendFrame(std::string_view record, std::string* out) {
  const uint32_t n = static_cast<uint32_t>(record.size());
  const char len[kFrameHeaderBytes] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
                                       static_cast<char>((n >> 16) & 0xff),
                                       static_cast<char>((n >> 24) & 0xff)};
  out->append(len, kFrameHeaderBytes);
  out->append(record);
}

CommitBuilder::CommitBuilder(size_t chunk_bytes) : chunk_bytes_(chunk_bytes) {}

void CommitBuilder::Add(std::string_view record) {
  ++count_;
  if (!chunked_) {
    inline_bytes_ += record.size() + kInlineRecordOverhead;
    inline_.emplace_back(record);
    if (inline_bytes_ <= chunk_bytes_) return;
    // Too big for one message: from now on the whole operation travels in
    // chunks, these first records included.
    chunked_ = true;
    for (const auto& r : inline_) AppendFrame(r, &framed_);
    inline_.clear();
    inline_.shrink_to_fit();
    inline_bytes_ = 0;
  } else {
    AppendFrame(record, &framed_);
  }
  Cut();
}

void CommitBuilder::Cut() {
  size_t pos = 0;
  while (framed_.size() - pos >= chunk_bytes_) {
    ready_.push_back(framed_.substr(pos, chunk_bytes_));
    pos += chunk_bytes_;
  }
  framed_.erase(0, pos);
}

void CommitBuilder::Seal() {
  if (sealed_) return;
  sealed_ = true;
  if (chunked_ && !framed_.empty()) {
    ready_.push_back(std::move(framed_));
    framed_.clear();
  }
}

std::vector<std::string> CommitBuilder::TakeChunks() { return std::move(ready_); }

// ---- Reading a commit's records ----------------------------------------------------

Status ForEachRecord(const CommitMessage& commit, const ChunkFetcher& fetch, const RecordFn& fn) {
  const uint64_t expected = commit.last_seq - commit.first_seq + 1;
  uint64_t seq = commit.first_seq;
  if (commit.chunks.empty()) {
    if (commit.records.size() != expected) {
      return Status::Corruption(fmt::format("commit {}..{} holds {} records", commit.first_seq,
                                            commit.last_seq, commit.records.size()));
    }
    for (const auto& r : commit.records) SYNCMGR_RETURN_IF_ERROR(fn(seq++, r));
    return Status::Ok();
  }
  std::string pending;  // framed bytes not yet parsed: part of one record
  for (size_t i = 0; i < commit.chunks.size(); ++i) {
    const ChunkRef& ref = commit.chunks[i];
    SYNCMGR_ASSIGN_OR_RETURN(ChunkMessage chunk, fetch(ref));
    if (chunk.tenant != commit.tenant || chunk.op_id != commit.op_id || chunk.index != i ||
        chunk.data.size() != ref.bytes) {
      return Status::Corruption(fmt::format(
          "chunk at stream sequence {} is not part {} ({} bytes) of operation {} of tenant {}",
          ref.stream_seq, i, ref.bytes, commit.op_id, commit.tenant));
    }
    pending.append(chunk.data);
    size_t pos = 0;
    while (pending.size() - pos >= kFrameHeaderBytes) {
      const auto* p = Bytes(pending) + pos;
      const size_t n = size_t{p[0]} | size_t{p[1]} << 8 | size_t{p[2]} << 16 | size_t{p[3]} << 24;
      if (pending.size() - pos - kFrameHeaderBytes < n) break;
      if (seq > commit.last_seq) {
        return Status::Corruption(fmt::format("operation {} of tenant {} has records past seq {}",
                                              commit.op_id, commit.tenant, commit.last_seq));
      }
      SYNCMGR_RETURN_IF_ERROR(
          fn(seq++, std::string_view(pending).substr(pos + kFrameHeaderBytes, n)));
      pos += kFrameHeaderBytes + n;
    }
    pending.erase(0, pos);
  }
  if (!pending.empty() || seq != commit.last_seq + 1) {
    return Status::Corruption(fmt::format(
        "operation {} of tenant {}: its chunks hold {} whole records for seqs {}..{}{}",
        commit.op_id, commit.tenant, seq - commit.first_seq, commit.first_seq, commit.last_seq,
        pending.empty() ? "" : " and a cut record"));
  }
  return Status::Ok();
}

}  // namespace syncmgr::cluster
