// cluster/connection.h and subject_reader.h against a real 3-server
// JetStream cluster: the replicated stream, fenced publishes, message-id
// dedupe, ordered reads, and a chunked operation through the stream.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "cluster/layout.h"
#include "cluster/log_chain.h"
#include "cluster/messages.h"
#include "cluster/subject_reader.h"
#include "tests/cluster/cluster_fixture.h"

namespace syncmgr::cluster {
namespace {

class StreamTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (HasFatalFailure()) return;
    auto state = conn_->EnsureStream(LogStreamConfig(LayoutOptions{}));
    ASSERT_TRUE(state.ok()) << state.status().ToString();
  }

  PublishOptions Fenced(uint64_t expected, std::string msg_id = "") {
    PublishOptions o;
    o.stream = std::string(kLogStream);
    o.expected_last_subject_seq = expected;
    o.msg_id = std::move(msg_id);
    return o;
  }

  uint64_t StreamLastSeq() {
    auto st = conn_->GetStreamState(std::string(kLogStream));
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    return st.ok() ? st->last_seq : 0;
  }
};

TEST_F(StreamTest, LogStreamHasThreeReplicasAndALeader) {
  ASSERT_TRUE(Eventually(
      [&] {
        auto st = conn_->GetStreamState(std::string(kLogStream));
        return st.ok() && !st->leader.empty() && st->peers.size() == 2;
      },
      60s));
  auto st = conn_->GetStreamState(std::string(kLogStream));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->replicas, 3);
  EXPECT_NE(nats_.IndexOf(st->leader), -1) << st->leader;
  // Ensuring it again with the same configuration is fine ...
  EXPECT_TRUE(conn_->EnsureStream(LogStreamConfig(LayoutOptions{})).ok());
  // ... with another one is refused, and changes nothing.
  LayoutOptions one_replica;
  one_replica.replicas = 1;
  auto refused = conn_->EnsureStream(LogStreamConfig(one_replica));
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("replicas 3"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(conn_->GetStreamState(std::string(kLogStream))->replicas, 3);
  EXPECT_EQ(conn_->GetStreamState("NO_SUCH_STREAM").status().code(), Code::kNotFound);
}

TEST_F(StreamTest, FencedPublishesAppendInOrderAndAStaleFenceWritesNothing) {
  const std::string subject = LogSubject(1);
  uint64_t last = 0;
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 5; ++i) {
    // Another tenant's message in between: the fence is per subject.
    ASSERT_TRUE(conn_->Publish(LogSubject(2), "other", {}).ok());
    auto ack = conn_->Publish(subject, "m" + std::to_string(i), Fenced(last));
    ASSERT_TRUE(ack.ok()) << ack.status().ToString();
    EXPECT_GT(ack->stream_seq, last);
    EXPECT_FALSE(ack->duplicate);
    last = ack->stream_seq;
    seqs.push_back(last);
  }
  const uint64_t stream_last = StreamLastSeq();

  // A writer that still believes the subject ends at an older message (a
  // paused owner) is refused, and so is one that believes it is empty.
  for (uint64_t stale : {seqs[0], seqs[3], uint64_t{0}}) {
    auto refused = conn_->Publish(subject, "zombie", Fenced(stale));
    EXPECT_TRUE(IsFenced(refused.status())) << refused.status().ToString();
    EXPECT_EQ(refused.status().code(), Code::kConflict);
  }
  // With a message id too (the path that checks for an own earlier attempt).
  auto refused = conn_->Publish(subject, "zombie", Fenced(seqs[2], "zombie-op-1"));
  EXPECT_TRUE(IsFenced(refused.status())) << refused.status().ToString();
  // A fence ahead of the subject (a writer that knows more than the stream).
  refused = conn_->Publish(subject, "ahead", Fenced(last + 1000, "ahead-op"));
  EXPECT_TRUE(IsFenced(refused.status())) << refused.status().ToString();

  EXPECT_EQ(StreamLastSeq(), stream_last) << "a refused publish stored something";
  auto tail = conn_->LastMessage(std::string(kLogStream), subject);
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_EQ(tail->stream_seq, last);
  EXPECT_EQ(tail->payload, "m4");

  // The current writer goes on.
  auto ack = conn_->Publish(subject, "m5", Fenced(last));
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
}

TEST_F(StreamTest, MessageIdIsStoredOnce) {
  PublishOptions o;
  o.stream = std::string(kLogStream);
  o.msg_id = "op-42";
  auto first = conn_->Publish(LogSubject(1), "payload", o);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->duplicate);
  auto again = conn_->Publish(LogSubject(1), "payload", o);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->stream_seq, first->stream_seq);
  EXPECT_EQ(conn_->GetStreamState(std::string(kLogStream))->messages, 1u);
  // The leader read returns the stored headers and payload.
  auto stored = conn_->NextMessage(std::string(kLogStream), std::string(kAllLogSubjects), 1);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->stream_seq, first->stream_seq);
  EXPECT_EQ(stored->payload, "payload");
  ASSERT_NE(stored->Header("Nats-Msg-Id"), nullptr);
  EXPECT_EQ(*stored->Header("Nats-Msg-Id"), "op-42");
}

TEST_F(StreamTest, RetryOfAStoredFencedPublishFindsItself) {
  // The acknowledgement of a fenced publish was lost and the writer sends
  // the same message again: nats-server 2.9 checks the fence first and
  // refuses it, and Publish recognises its own message after the fence.
  const std::string subject = LogSubject(5);
  auto first = conn_->Publish(subject, "commit", Fenced(0, "writer-a.op-1"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(conn_->Publish(LogSubject(6), "other", {}).ok());
  auto again = conn_->Publish(subject, "commit", Fenced(0, "writer-a.op-1"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->stream_seq, first->stream_seq);
  // Another writer's message with the same stale fence is refused.
  auto other = conn_->Publish(subject, "commit", Fenced(0, "writer-b.op-1"));
  EXPECT_TRUE(IsFenced(other.status())) << other.status().ToString();
  EXPECT_EQ(conn_->GetStreamState(std::string(kLogStream))->messages, 2u);
}

TEST_F(StreamTest, OfConcurrentPublishesWithOneFenceExactlyOneCounts) {
  // nats-server 2.9 checks a fence when it proposes a message, so several
  // publishes with the same fence in flight together may all be stored.
  // With verify_fence exactly one of them is acknowledged: the first after
  // the fence; the others answer Conflict ("superseded").
  constexpr int kWriters = 6;
  const std::string subject = LogSubject(8);
  std::vector<std::unique_ptr<Connection>> conns;
  for (int w = 0; w < kWriters; ++w) {
    conns.push_back(Connect({nats_.ClientUrl(w % 3)}));
    ASSERT_NE(conns.back(), nullptr);
  }
  uint64_t expected = 0;
  int rounds_with_extra_stored = 0;
  std::map<std::string, uint64_t> prev_of;  // msg id -> the fence it was published with
  std::set<uint64_t> acknowledged;
  std::set<uint64_t> fences;
  for (int round = 0; round < 10; ++round) {
    // Each round a writer fences after whatever is last (a superseded
    // message, maybe: a fence counts anyway), and the writers race after it.
    auto fence = conn_->Publish(subject, "fence", Fenced(expected, "fence" + std::to_string(round)));
    ASSERT_TRUE(fence.ok()) << fence.status().ToString();
    fences.insert(fence->stream_seq);
    expected = fence->stream_seq;
    std::vector<StatusOr<PublishAck>> results(kWriters, Status::Internal("not run"));
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      prev_of["r" + std::to_string(round) + "w" + std::to_string(w)] = expected;
    }
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        PublishOptions o = Fenced(expected, "r" + std::to_string(round) + "w" + std::to_string(w));
        o.verify_fence = true;
        results[w] = conns[w]->Publish(subject, "w" + std::to_string(w), o);
      });
    }
    for (auto& t : threads) t.join();
    int winners = 0;
    uint64_t winner_seq = 0;
    for (const auto& r : results) {
      if (r.ok()) {
        ++winners;
        winner_seq = r->stream_seq;
      } else {
        EXPECT_TRUE(IsFenced(r.status())) << r.status().ToString();
      }
    }
    ASSERT_EQ(winners, 1) << "round " << round;
    acknowledged.insert(winner_seq);
    auto first = conn_->NextMessage(std::string(kLogStream), subject, expected + 1);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    EXPECT_EQ(first->stream_seq, winner_seq);
    auto tail = conn_->LastMessage(std::string(kLogStream), subject);
    ASSERT_TRUE(tail.ok());
    if (tail->stream_seq != winner_seq) ++rounds_with_extra_stored;
    expected = tail->stream_seq;
  }
  // Informative: how often the server stored more than one (its race).
  std::cout << "rounds in which superseded messages were stored too: "
            << rounds_with_extra_stored << " of 10\n";

  // A reader applying LogChain's rule to what is stored counts exactly the
  // acknowledged messages: writers and readers agree.
  auto reader = SubjectReader::Open(conn_.get(), std::string(kLogStream), subject, 1);
  ASSERT_TRUE(reader.ok());
  LogChain chain;
  size_t counted = 0;
  while (true) {
    auto m = (*reader)->Next(1s);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    if (!m->has_value()) break;
    const std::string* id = (*m)->Header("Nats-Msg-Id");
    ASSERT_NE(id, nullptr);
    const bool is_fence = fences.count((*m)->stream_seq) == 1;
    if (is_fence) {
      EXPECT_EQ(chain.Next((*m)->stream_seq, 0, true), LogChain::Verdict::kCounts);
      continue;
    }
    const bool counts = chain.Next((*m)->stream_seq, prev_of.at(*id), false) ==
                        LogChain::Verdict::kCounts;
    EXPECT_EQ(counts, acknowledged.count((*m)->stream_seq) == 1) << "stream seq " << (*m)->stream_seq;
    counted += counts;
  }
  EXPECT_EQ(counted, acknowledged.size());
}

TEST_F(StreamTest, ReadsASubjectInOrderFromASequence) {
  std::vector<uint64_t> a_seqs;
  for (int i = 0; i < 10; ++i) {
    auto a = conn_->Publish(LogSubject(1), "a" + std::to_string(i), {});
    ASSERT_TRUE(a.ok());
    a_seqs.push_back(a->stream_seq);
    ASSERT_TRUE(conn_->Publish(LogSubject(2), "b" + std::to_string(i), {}).ok());
  }
  auto reader =
      SubjectReader::Open(conn_.get(), std::string(kLogStream), LogSubject(1), a_seqs[3]);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  for (int i = 3; i < 10; ++i) {
    auto m = (*reader)->Next(10s);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_TRUE(m->has_value()) << "message " << i << " not delivered";
    EXPECT_EQ((*m)->stream_seq, a_seqs[i]);
    EXPECT_EQ((*m)->payload, "a" + std::to_string(i));
    EXPECT_EQ((*m)->subject, LogSubject(1));
  }
  // The end: nothing more within a short wait; a new message arrives.
  auto none = (*reader)->Next(300ms);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto late = conn_->Publish(LogSubject(1), "late", {});
  ASSERT_TRUE(late.ok());
  auto m = (*reader)->Next(10s);
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->stream_seq, late->stream_seq);
  EXPECT_EQ((*reader)->position(), late->stream_seq);

  // A wildcard filter from the start reads every tenant's subject in order.
  auto all = SubjectReader::Open(conn_.get(), std::string(kLogStream),
                                 std::string(kAllLogSubjects), 1);
  ASSERT_TRUE(all.ok());
  uint64_t prev = 0;
  for (int i = 0; i < 21; ++i) {
    auto x = (*all)->Next(10s);
    ASSERT_TRUE(x.ok() && x->has_value()) << i;
    EXPECT_EQ((*x)->stream_seq, prev + 1);
    prev = (*x)->stream_seq;
  }
  EXPECT_EQ(SubjectReader::Open(conn_.get(), "NO_SUCH_STREAM", "x.y", 1).status().code(),
            Code::kNotFound);
}

TEST_F(StreamTest, ReadsOfMissingMessagesAreNotFound) {
  const std::string stream(kLogStream);
  EXPECT_EQ(conn_->LastMessage(stream, LogSubject(9)).status().code(), Code::kNotFound);
  EXPECT_EQ(conn_->GetMessage(stream, 12345).status().code(), Code::kNotFound);
  EXPECT_EQ(conn_->NextMessage(stream, LogSubject(9), 1).status().code(), Code::kNotFound);
  auto ack = conn_->Publish(LogSubject(9), "x", {});
  ASSERT_TRUE(ack.ok());
  auto got = conn_->GetMessage(stream, ack->stream_seq);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->payload, "x");
  EXPECT_EQ(got->subject, LogSubject(9));
  auto next = conn_->NextMessage(stream, LogSubject(9), 1);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->stream_seq, ack->stream_seq);
  EXPECT_EQ(next->payload, "x");
  EXPECT_EQ(conn_->NextMessage("NO_SUCH_STREAM", "x.y", 1).status().code(), Code::kNotFound);
  EXPECT_EQ(conn_->NextMessage(stream, LogSubject(9), ack->stream_seq + 1).status().code(),
            Code::kNotFound);
}

TEST_F(StreamTest, AMessageOverTheLimitIsRefusedAndStoresNothing) {
  std::string big(static_cast<size_t>(LayoutOptions{}.max_message_bytes) + 1, 'x');
  auto refused = conn_->Publish(LogSubject(1), big, Fenced(0, "big-op"));
  EXPECT_EQ(refused.status().code(), Code::kPayloadTooLarge) << refused.status().ToString();
  EXPECT_EQ(conn_->GetStreamState(std::string(kLogStream))->messages, 0u);
  EXPECT_GE(conn_->max_payload(), int64_t{1} << 20);
}

TEST_F(StreamTest, AChunkedOperationTravelsThroughTheStream) {
  // A writer publishes a fence, the chunks of a large operation, and the
  // commit that names them; a reader of the log subject sees only the fence
  // and the commit, and reads the records back through the chunks.
  const TenantId tenant = 3;
  const std::string stream(kLogStream);
  auto fence = conn_->Publish(LogSubject(tenant), EncodeFence({tenant, "n0", "http://n0", 1, 1}),
                              Fenced(0, "fence-1"));
  ASSERT_TRUE(fence.ok()) << fence.status().ToString();

  CommitMessage commit;
  commit.tenant = tenant;
  commit.first_seq = 1;
  commit.op_id = 11;
  commit.epoch = fence->stream_seq;
  commit.writer = "n0";
  CommitBuilder builder(ChunkBytes(LayoutOptions{}));
  std::vector<std::string> records;
  uint32_t index = 0;
  auto publish_chunks = [&] {
    for (std::string& data : builder.TakeChunks()) {
      PublishOptions o;
      o.stream = stream;
      o.msg_id = "chunk-11-" + std::to_string(index);
      auto ack = conn_->Publish(ChunkSubject(tenant), EncodeChunk({tenant, 11, index++, data}), o);
      ASSERT_TRUE(ack.ok()) << ack.status().ToString();
      commit.chunks.push_back({ack->stream_seq, data.size()});
    }
  };
  for (int i = 0; i < 1500; ++i) {
    records.push_back(std::string(1000 + i % 2000, static_cast<char>('a' + i % 26)) +
                      std::to_string(i));
    builder.Add(records.back());
    publish_chunks();
    if (HasFatalFailure()) return;
  }
  builder.Seal();
  publish_chunks();
  ASSERT_TRUE(builder.chunked());
  ASSERT_GE(commit.chunks.size(), 3u);
  commit.last_seq = records.size();
  auto committed = conn_->Publish(LogSubject(tenant), EncodeCommit(commit),
                                  Fenced(fence->stream_seq, "commit-11"));
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();

  auto reader = SubjectReader::Open(conn_.get(), stream, std::string(kAllLogSubjects), 1);
  ASSERT_TRUE(reader.ok());
  std::vector<ClusterMessage> seen;
  for (int i = 0; i < 2; ++i) {
    auto m = (*reader)->Next(10s);
    ASSERT_TRUE(m.ok() && m->has_value());
    auto decoded = DecodeClusterMessage((*m)->payload);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    seen.push_back(std::move(*decoded));
  }
  ASSERT_TRUE(std::holds_alternative<FenceMessage>(seen[0]));
  ASSERT_TRUE(std::holds_alternative<CommitMessage>(seen[1]));
  std::vector<std::string> got;
  Status read = ForEachRecord(
      std::get<CommitMessage>(seen[1]),
      [&](const ChunkRef& ref) -> StatusOr<ChunkMessage> {
        SYNCMGR_ASSIGN_OR_RETURN(StoredMessage m, conn_->GetMessage(stream, ref.stream_seq));
        SYNCMGR_ASSIGN_OR_RETURN(ClusterMessage cm, DecodeClusterMessage(m.payload));
        if (!std::holds_alternative<ChunkMessage>(cm)) return Status::Corruption("not a chunk");
        return std::get<ChunkMessage>(std::move(cm));
      },
      [&](uint64_t, std::string_view r) {
        got.emplace_back(r);
        return Status::Ok();
      });
  ASSERT_TRUE(read.ok()) << read.ToString();
  EXPECT_EQ(got, records);
}

}  // namespace
}  // namespace syncmgr::cluster
