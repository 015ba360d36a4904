// cluster/messages.h, layout.h and ParseServerList: the offline parts of
// cluster mode (no NATS server needed).
#include "cluster/messages.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "cluster/connection.h"
#include "cluster/layout.h"
#include "cluster/log_chain.h"

namespace syncmgr::cluster {
namespace {

std::string Record(uint64_t seq, size_t size) {
  std::string r = "event-" + std::to_string(seq) + ":";
  while (r.size() < size) r.push_back(static_cast<char>('a' + (r.size() + seq) % 26));
  return r.substr(0, std::max<size_t>(size, 1));
}

TEST(ServerList, AcceptsUrlsAndHostPorts) {
  auto list = ParseServerList("nats://h1:4222, h2:4223 ,nats://10.0.0.3:4224");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(*list, (std::vector<std::string>{"nats://h1:4222", "nats://h2:4223",
                                             "nats://10.0.0.3:4224"}));
}

TEST(ServerList, RefusesMalformedEntries) {
  for (const char* bad : {"", ",", "nats://h1", "h1:", "h1:0", "h1:65536", "h1:42a",
                          "nats://:4222", "h1:4222,,h2:4222", "http://h1:4222"}) {
    auto list = ParseServerList(bad);
    EXPECT_EQ(list.status().code(), Code::kInvalidArgument) << "\"" << bad << "\"";
  }
}

TEST(Connect, NoServerAnsweringIsUnavailableAndABadUrlIsRefused) {
  ConnectOptions o;
  o.servers = {"nats://127.0.0.1:1"};  // nothing listens on port 1
  o.connect_timeout = std::chrono::milliseconds(500);
  EXPECT_EQ(Connection::Connect(o).status().code(), Code::kUnavailable);
  o.servers = {"nats://127.0.0.1"};
  EXPECT_EQ(Connection::Connect(o).status().code(), Code::kInvalidArgument);
  o.servers.clear();
  EXPECT_EQ(Connection::Connect(o).status().code(), Code::kInvalidArgument);
}

TEST(Layout, SubjectsNameTheirTenant) {
  EXPECT_EQ(LogSubject(7), "syncmgr.log.7");
  EXPECT_EQ(ChunkSubject(12), "syncmgr.chunk.12");
  EXPECT_EQ(TenantOfSubject("syncmgr.log.7"), 7u);
  EXPECT_EQ(TenantOfSubject("syncmgr.chunk.4294967295"), 4294967295u);
  for (const char* other : {"syncmgr.log.", "syncmgr.log.0", "syncmgr.log.07", "syncmgr.log.7x",
                            "syncmgr.log.4294967296", "syncmgr.logs.7", "$KV.x.tenant.7"}) {
    EXPECT_FALSE(TenantOfSubject(other).has_value()) << other;
  }
  EXPECT_EQ(TenantLeaseKey(3), "tenant.3");
  EXPECT_TRUE(KvBucket::ValidKey(TenantLeaseKey(3)));
}

TEST(Layout, ChunksLeaveRoomForTheEnvelope) {
  LayoutOptions o;
  EXPECT_EQ(LogStreamConfig(o).max_msg_bytes, 1 << 20);
  EXPECT_LT(ChunkBytes(o), static_cast<size_t>(o.max_message_bytes));
  EXPECT_EQ(LogStreamConfig(o).replicas, 3);
}

TEST(Messages, CommitRoundTrip) {
  CommitMessage c;
  c.tenant = 9;
  c.first_seq = 41;
  c.last_seq = 43;
  c.writer = "node-a";
  c.epoch = 1234;
  c.op_id = 77;
  c.time_us = 1'700'000'000'000'000;
  c.records = {Record(41, 10), Record(42, 300), std::string("\0\1\2", 3)};
  auto decoded = DecodeClusterMessage(EncodeCommit(c));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const auto* d = std::get_if<CommitMessage>(&*decoded);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->tenant, 9u);
  EXPECT_EQ(d->first_seq, 41u);
  EXPECT_EQ(d->last_seq, 43u);
  EXPECT_EQ(d->writer, "node-a");
  EXPECT_EQ(d->epoch, 1234u);
  EXPECT_EQ(d->op_id, 77u);
  EXPECT_EQ(d->time_us, c.time_us);
  EXPECT_EQ(d->records, c.records);
  EXPECT_TRUE(d->chunks.empty());
}

TEST(Messages, FenceChunkAndLeaseRoundTrip) {
  auto fence = DecodeClusterMessage(EncodeFence({3, "n2", "http://h2:8000", 99, 17}));
  ASSERT_TRUE(fence.ok());
  const auto* f = std::get_if<FenceMessage>(&*fence);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->tenant, 3u);
  EXPECT_EQ(f->writer, "n2");
  EXPECT_EQ(f->advertise_url, "http://h2:8000");
  EXPECT_EQ(f->incarnation, 99u);
  EXPECT_EQ(f->lease_revision, 17u);

  auto chunk = DecodeClusterMessage(EncodeChunk({3, 5, 2, std::string(5000, 'x')}));
  ASSERT_TRUE(chunk.ok());
  const auto* ch = std::get_if<ChunkMessage>(&*chunk);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->op_id, 5u);
  EXPECT_EQ(ch->index, 2u);
  EXPECT_EQ(ch->data, std::string(5000, 'x'));

  LeaseHolder h{"n1", "http://h1:8000", 42};
  auto lease = DecodeClusterMessage(EncodeLease(h));
  ASSERT_TRUE(lease.ok());
  ASSERT_NE(std::get_if<LeaseHolder>(&*lease), nullptr);
  EXPECT_EQ(std::get<LeaseHolder>(*lease), h);
}

TEST(Messages, RefusesForeignDamagedAndInconsistentBuffers) {
  EXPECT_EQ(DecodeClusterMessage("").status().code(), Code::kCorruption);
  EXPECT_EQ(DecodeClusterMessage("hello, world, not a flatbuffer").status().code(),
            Code::kCorruption);
  CommitMessage c;
  c.tenant = 1;
  c.first_seq = 1;
  c.last_seq = 2;
  c.records = {Record(1, 50), Record(2, 50)};
  std::string good = EncodeCommit(c);
  // A truncation is refused, unless all it cut was trailing padding: then
  // it still reads as the very same commit, never as another one.
  int refused = 0;
  for (size_t n = 0; n < good.size(); ++n) {
    auto d = DecodeClusterMessage(good.substr(0, n));
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), Code::kCorruption) << n;
      ++refused;
      continue;
    }
    const auto* same = std::get_if<CommitMessage>(&*d);
    ASSERT_NE(same, nullptr) << n;
    EXPECT_EQ(same->records, c.records) << n;
    EXPECT_GE(n + 8, good.size()) << n;
  }
  EXPECT_GE(refused + 8, static_cast<int>(good.size()));
  // Unaligned input decodes the same.
  std::string shifted = "x" + good;
  EXPECT_TRUE(DecodeClusterMessage(std::string_view(shifted).substr(1)).ok());

  CommitMessage bad = c;
  bad.last_seq = 3;  // three seqs, two records
  EXPECT_EQ(DecodeClusterMessage(EncodeCommit(bad)).status().code(), Code::kCorruption);
  bad = c;
  bad.chunks = {{10, 100}};  // both records and chunks
  EXPECT_EQ(DecodeClusterMessage(EncodeCommit(bad)).status().code(), Code::kCorruption);
  bad = c;
  bad.records.clear();  // neither
  EXPECT_EQ(DecodeClusterMessage(EncodeCommit(bad)).status().code(), Code::kCorruption);
  bad = c;
  bad.first_seq = 0;
  EXPECT_EQ(DecodeClusterMessage(EncodeCommit(bad)).status().code(), Code::kCorruption);
  bad = c;
  bad.tenant = 0;
  EXPECT_EQ(DecodeClusterMessage(EncodeCommit(bad)).status().code(), Code::kCorruption);
}

// Builds an operation of `sizes` records with CommitBuilder, "stores" its
// chunks in a map as the stream would, and reads it back.
struct BuiltOp {
  CommitMessage commit;
  std::map<uint64_t, std::string> stored;  // stream seq -> encoded Chunk
  std::vector<std::string> records;
};

BuiltOp BuildOp(const std::vector<size_t>& sizes, size_t chunk_bytes) {
  BuiltOp op;
  op.commit.tenant = 4;
  op.commit.op_id = 8;
  op.commit.first_seq = 100;
  op.commit.last_seq = 100 + sizes.size() - 1;
  CommitBuilder b(chunk_bytes);
  uint64_t stream_seq = 500;
  uint32_t index = 0;
  auto publish = [&] {
    for (std::string& data : b.TakeChunks()) {
      op.commit.chunks.push_back({stream_seq, data.size()});
      op.stored[stream_seq] = EncodeChunk({op.commit.tenant, op.commit.op_id, index++, data});
      stream_seq += 3;  // other subjects' messages in between
    }
  };
  for (size_t i = 0; i < sizes.size(); ++i) {
    op.records.push_back(Record(100 + i, sizes[i]));
    b.Add(op.records.back());
    publish();
  }
  b.Seal();
  publish();
  EXPECT_EQ(b.record_count(), sizes.size());
  if (!b.chunked()) op.commit.records = b.TakeInlineRecords();
  return op;
}

Status ReadBack(const BuiltOp& op, std::vector<std::string>* out) {
  // Through the wire format, as a node would receive it.
  SYNCMGR_ASSIGN_OR_RETURN(ClusterMessage m, DecodeClusterMessage(EncodeCommit(op.commit)));
  const CommitMessage& commit = std::get<CommitMessage>(m);
  uint64_t next = commit.first_seq;
  return ForEachRecord(
      commit,
      [&](const ChunkRef& ref) -> StatusOr<ChunkMessage> {
        auto it = op.stored.find(ref.stream_seq);
        if (it == op.stored.end()) return Status::NotFound("no chunk there");
        SYNCMGR_ASSIGN_OR_RETURN(ClusterMessage cm, DecodeClusterMessage(it->second));
        return std::get<ChunkMessage>(cm);
      },
      [&](uint64_t seq, std::string_view record) {
        if (seq != next++) return Status::Internal("seq out of order");
        out->emplace_back(record);
        return Status::Ok();
      });
}

TEST(CommitBuilder, SmallOperationTravelsInline) {
  BuiltOp op = BuildOp({10, 20, 30}, 4096);
  EXPECT_TRUE(op.commit.chunks.empty());
  std::vector<std::string> got;
  ASSERT_TRUE(ReadBack(op, &got).ok());
  EXPECT_EQ(got, op.records);
}

TEST(CommitBuilder, LargeOperationTravelsInChunksWhateverTheRecordSizes) {
  std::mt19937 rng(7);
  for (size_t chunk_bytes : {64, 100, 1000, 4096}) {
    std::vector<size_t> sizes;
    for (int i = 0; i < 200; ++i) sizes.push_back(1 + rng() % 700);
    sizes.push_back(3 * chunk_bytes + 5);  // one record spanning several chunks
    sizes.push_back(1);
    BuiltOp op = BuildOp(sizes, chunk_bytes);
    ASSERT_FALSE(op.commit.chunks.empty());
    EXPECT_TRUE(op.commit.records.empty());
    for (size_t i = 0; i + 1 < op.commit.chunks.size(); ++i) {
      EXPECT_EQ(op.commit.chunks[i].bytes, chunk_bytes);  // every chunk but the last is full
    }
    std::vector<std::string> got;
    Status s = ReadBack(op, &got);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(got, op.records) << "chunk_bytes " << chunk_bytes;
  }
}

TEST(CommitBuilder, ARecordLargerThanAChunkMakesTheOperationChunked) {
  BuiltOp op = BuildOp({5000}, 1000);
  EXPECT_EQ(op.commit.chunks.size(), 6u);  // 5004 framed bytes
  std::vector<std::string> got;
  ASSERT_TRUE(ReadBack(op, &got).ok());
  EXPECT_EQ(got, op.records);
}

TEST(ForEachRecord, RefusesChunksThatAreNotTheCommits) {
  BuiltOp op = BuildOp(std::vector<size_t>(50, 100), 256);
  ASSERT_GE(op.commit.chunks.size(), 3u);
  std::vector<std::string> got;

  BuiltOp swapped = op;  // two chunks in the wrong order
  std::swap(swapped.commit.chunks[0], swapped.commit.chunks[1]);
  EXPECT_EQ(ReadBack(swapped, &got).code(), Code::kCorruption);

  BuiltOp missing = op;  // the commit names one chunk too few
  missing.commit.chunks.pop_back();
  got.clear();
  EXPECT_EQ(ReadBack(missing, &got).code(), Code::kCorruption);

  BuiltOp foreign = op;  // another operation's chunk at a named sequence
  const uint64_t at = foreign.commit.chunks[1].stream_seq;
  auto other = std::get<ChunkMessage>(*DecodeClusterMessage(foreign.stored[at]));
  other.op_id += 1;
  foreign.stored[at] = EncodeChunk(other);
  got.clear();
  EXPECT_EQ(ReadBack(foreign, &got).code(), Code::kCorruption);

  BuiltOp extra = op;  // more records than the commit's seqs
  extra.commit.last_seq -= 1;
  got.clear();
  EXPECT_EQ(ReadBack(extra, &got).code(), Code::kCorruption);

  BuiltOp fewer = op;  // fewer records than the commit's seqs
  fewer.commit.last_seq += 1;
  got.clear();
  EXPECT_EQ(ReadBack(fewer, &got).code(), Code::kCorruption);
}

using Verdict = LogChain::Verdict;

TEST(LogChain, CommitsCountOnlyRightAfterTheMessageTheyName) {
  LogChain chain;
  EXPECT_EQ(chain.Next(3, 0, /*is_fence=*/true), Verdict::kCounts);   // writer A's fence
  EXPECT_EQ(chain.Next(5, 3, false), Verdict::kCounts);               // A's commit
  EXPECT_EQ(chain.Next(9, 5, false), Verdict::kCounts);               // A again
  // A stale writer's commit published after 5, stored after 9: superseded.
  EXPECT_EQ(chain.Next(12, 5, false), Verdict::kDoesNotCount);
  // A, still believing 9 is last, is superseded too: 12 came in between.
  EXPECT_EQ(chain.Next(14, 9, false), Verdict::kDoesNotCount);
  // Nothing chains on a message that did not count.
  EXPECT_EQ(chain.Next(15, 14, false), Verdict::kDoesNotCount);
  // A new fence starts a chain whatever precedes it.
  EXPECT_EQ(chain.Next(20, 15, true), Verdict::kCounts);
  EXPECT_EQ(chain.Next(21, 20, false), Verdict::kCounts);
  // Re-reads change nothing.
  EXPECT_EQ(chain.Next(21, 20, false), Verdict::kAlreadySeen);
  EXPECT_EQ(chain.Next(5, 3, false), Verdict::kAlreadySeen);
  EXPECT_EQ(chain.last_seq(), 21u);
  EXPECT_TRUE(chain.last_counts());
}

TEST(LogChain, AMessageNamingOneNeverSeenRevealsAMissedMessage) {
  LogChain chain;
  EXPECT_EQ(chain.Next(3, 0, true), Verdict::kCounts);
  EXPECT_EQ(chain.Next(5, 3, false), Verdict::kCounts);
  // The reader never got the commit at 7; the one at 9 names it.
  EXPECT_EQ(chain.Next(9, 7, false), Verdict::kMissedMessage);
  EXPECT_EQ(chain.last_seq(), 5u);  // unchanged: re-read from 6
  EXPECT_EQ(chain.Next(7, 5, false), Verdict::kCounts);
  EXPECT_EQ(chain.Next(9, 7, false), Verdict::kCounts);
  // A fence names the subject's last message when it was written: a missed
  // one shows there too.
  EXPECT_EQ(chain.Next(12, 11, true), Verdict::kMissedMessage);
  EXPECT_EQ(chain.Next(11, 9, false), Verdict::kCounts);
  EXPECT_EQ(chain.Next(12, 11, true), Verdict::kCounts);
}

TEST(LogChain, TwoFencesInFlightTogether) {
  // Two writers fenced after 10 at once (both stored: nats-server 2.9), then
  // each published a commit after its own fence: neither commit counts,
  // and neither writer's check (first message after its prev is its own)
  // passes, so neither is acknowledged.
  LogChain chain(10, true);
  EXPECT_EQ(chain.Next(11, 10, true), Verdict::kCounts);   // B's fence
  EXPECT_EQ(chain.Next(12, 10, true), Verdict::kCounts);   // C's fence
  EXPECT_EQ(chain.Next(13, 11, false), Verdict::kDoesNotCount);  // B's commit
  EXPECT_EQ(chain.Next(14, 12, false), Verdict::kDoesNotCount);  // C's commit
  // A resumed chain starts from what the node stored.
  LogChain resumed(chain.last_seq(), chain.last_counts());
  EXPECT_EQ(resumed.Next(15, 14, false), Verdict::kDoesNotCount);
  EXPECT_EQ(resumed.Next(16, 15, true), Verdict::kCounts);
}

TEST(Messages, PrevRoundTrips) {
  CommitMessage c;
  c.tenant = 1;
  c.first_seq = 1;
  c.last_seq = 1;
  c.records = {"r"};
  c.prev = 77;
  EXPECT_EQ(std::get<CommitMessage>(*DecodeClusterMessage(EncodeCommit(c))).prev, 77u);
  FenceMessage f{1, "n", "u", 2, 3, 88};
  EXPECT_EQ(std::get<FenceMessage>(*DecodeClusterMessage(EncodeFence(f))).prev, 88u);
}

}  // namespace
}  // namespace syncmgr::cluster
