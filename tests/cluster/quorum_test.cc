// The stream when NATS servers fail: with one of three killed (or paused)
// publishes go on and the server catches up when it is back; with two
// killed a publish fails with Unavailable within its timeout.
#include <gtest/gtest.h>

#include "cluster/layout.h"
#include "cluster/subject_reader.h"
#include "tests/cluster/cluster_fixture.h"

namespace syncmgr::cluster {
namespace {

class QuorumTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (HasFatalFailure()) return;
    conn_ = Connect();
    ASSERT_NE(conn_, nullptr);
    ASSERT_TRUE(conn_->EnsureStream(LogStreamConfig(LayoutOptions{})).ok());
  }

  // Appends n fenced messages "<prefix><i>" to the subject, each retried
  // through leader elections with its own message id.
  void Append(const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      PublishOptions o;
      o.stream = std::string(kLogStream);
      o.expected_last_subject_seq = last_;
      o.msg_id = prefix + std::to_string(i);
      auto ack = PublishEventually(*conn_, subject_, prefix + std::to_string(i), o);
      ASSERT_TRUE(ack.ok()) << ack.status().ToString();
      last_ = ack->stream_seq;
      payloads_.push_back(prefix + std::to_string(i));
    }
  }

  // Reads the subject from the start: exactly payloads_, in order.
  void ExpectAllReadable() {
    auto reader =
        SubjectReader::Open(conn_.get(), std::string(kLogStream), subject_, 1);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString() << Logs();
    for (const std::string& want : payloads_) {
      auto m = (*reader)->Next(30s);
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      ASSERT_TRUE(m->has_value()) << "missing " << want;
      EXPECT_EQ((*m)->payload, want);
    }
    auto extra = (*reader)->Next(300ms);
    ASSERT_TRUE(extra.ok());
    EXPECT_FALSE(extra->has_value()) << "unexpected " << (*extra)->payload;
  }

  // The index of the stream's current leader (waiting for one).
  int LeaderIndex() {
    int index = -1;
    EXPECT_TRUE(Eventually(
        [&] {
          auto st = conn_->GetStreamState(std::string(kLogStream));
          index = st.ok() ? nats_.IndexOf(st->leader) : -1;
          return index >= 0;
        },
        90s));
    return index;
  }

  // True once server `name` is a current replica (no lag) of the stream.
  bool Current(const std::string& name) {
    auto st = conn_->GetStreamState(std::string(kLogStream));
    if (!st.ok()) return false;
    if (st->leader == name) return true;
    for (const auto& p : st->peers) {
      if (p.name == name) return p.current && !p.offline && p.lag == 0;
    }
    return false;
  }

  std::unique_ptr<Connection> conn_;
  const std::string subject_ = LogSubject(1);
  uint64_t last_ = 0;
  std::vector<std::string> payloads_;
};

TEST_F(QuorumTest, OneServerKilledWritesGoOnAndItCatchesUpWhenBack) {
  Append("before-", 20);
  const int killed = LeaderIndex();  // the hardest one to lose
  ASSERT_GE(killed, 0);
  nats_.Kill(killed);
  Append("during-", 20);  // two of three: a quorum
  ExpectAllReadable();

  ASSERT_TRUE(nats_.Restart(killed)) << nats_.error();
  ASSERT_TRUE(Eventually([&] { return Current(nats_.ServerName(killed)); }, 120s))
      << "server " << nats_.ServerName(killed) << " did not catch up";
  // Now lose another server: the quorum needs the restarted one, which can
  // only acknowledge appends once its log holds everything before them.
  const int other = (killed + 1) % 3;
  nats_.Kill(other);
  Append("after-", 10);
  ExpectAllReadable();
}

TEST_F(QuorumTest, APausedServerDoesNotStopWritesAndCatchesUpWhenResumed) {
  Append("before-", 10);
  const int paused = LeaderIndex();
  ASSERT_GE(paused, 0);
  ASSERT_TRUE(nats_.Pause(paused));
  Append("during-", 10);
  ASSERT_TRUE(nats_.Resume(paused));
  ASSERT_TRUE(Eventually([&] { return Current(nats_.ServerName(paused)); }, 120s))
      << "server " << nats_.ServerName(paused) << " did not catch up";
  Append("after-", 5);
  ExpectAllReadable();
}

TEST_F(QuorumTest, TwoServersKilledAPublishFailsUnavailableWithinItsTimeout) {
  Append("before-", 5);
  const int survivor = LeaderIndex();
  ASSERT_GE(survivor, 0);
  nats_.Kill((survivor + 1) % 3);
  nats_.Kill((survivor + 2) % 3);

  PublishOptions o;
  o.stream = std::string(kLogStream);
  o.expected_last_subject_seq = last_;
  o.msg_id = "no-quorum";
  o.timeout = 3s;
  const auto start = std::chrono::steady_clock::now();
  auto refused = conn_->Publish(subject_, "no-quorum", o);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(refused.status().code(), Code::kUnavailable) << refused.status().ToString();
  // Bounded: it returns, roughly at its timeout (one request may overrun it
  // by the request wait), instead of hanging.
  EXPECT_LT(took, 30s);

  // Quorum back. The refused publish's outcome is unknown (the survivor
  // may have put it in its log): the writer sends it again with the same
  // message id and fence, which stores it or finds it stored -- once.
  const int back = (survivor + 1) % 3;
  ASSERT_TRUE(nats_.Restart(back)) << nats_.error();
  o.timeout.reset();
  auto again = PublishEventually(*conn_, subject_, "no-quorum", o);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  last_ = again->stream_seq;
  payloads_.push_back("no-quorum");
  Append("after-", 5);
  ExpectAllReadable();
}

}  // namespace
}  // namespace syncmgr::cluster
