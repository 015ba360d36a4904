// FeedHub (server/feed_hub.h) on its own: a real Engine in a temp dir whose
// commits drive the hub, and a real io_context as its fan-out executor, run
// by the test so that it sees exactly which jobs the hub posted. The feed
// over HTTP is tests/server/feed_test.cc and feed_sse_test.cc.
#include "server/feed_hub.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "tests/support/test_server.h"

namespace syncmgr::server {
namespace {

using syncmgr::testing::TempDir;

class FeedHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions o;
    o.path = dir_.path() + "/db";
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    hub_.emplace(*engine_, io_.get_executor(), /*max_per_tenant=*/2);
    hub_->Start();
    acme_ = NewTenant("acme");
    globex_ = NewTenant("globex");
    RunFanOut();  // whatever the creations posted (nobody waited yet: nothing)
  }

  void TearDown() override {
    if (hub_) hub_->Stop();
  }

  TenantId NewTenant(const std::string& name) {
    auto t = engine_->CreateTenant(name);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? t->tenant.id : 0;
  }

  // One commit on `tenant` (a source created): its log grows by one event.
  void Commit(TenantId tenant) {
    SourceSpec spec;
    spec.name = "source-" + std::to_string(++sources_);
    auto s = engine_->CreateSource(tenant, spec);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
  }

  uint64_t LastSeq(TenantId tenant) {
    auto seq = engine_->LastSeq(tenant);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return seq.ok() ? *seq : 0;
  }

  // Runs the fan-out jobs the hub posted; returns how many ran.
  size_t RunFanOut() {
    io_.restart();
    return io_.poll();
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
  boost::asio::io_context io_;
  std::optional<FeedHub> hub_;  // before engine_ goes: declared after it
  TenantId acme_ = 0;
  TenantId globex_ = 0;
  int sources_ = 0;
};

TEST_F(FeedHubTest, AdmitsUpToTheLimitPerTenant) {
  auto a = hub_->Admit(acme_);
  auto b = hub_->Admit(acme_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->admitted());
  EXPECT_EQ(hub_->subscribers(acme_), 2u);

  auto c = hub_->Admit(acme_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kTooManyRequests);
  EXPECT_NE(c.status().message().find("2 feed subscribers"), std::string::npos)
      << c.status().ToString();
  // The refusal counted nobody, and another tenant has a limit of its own.
  EXPECT_EQ(hub_->subscribers(acme_), 2u);
  auto g = hub_->Admit(globex_);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(hub_->subscribers(globex_), 1u);
  EXPECT_EQ(hub_->subscribers(acme_), 2u);
}

TEST_F(FeedHubTest, AnAdmissionReleasesItsSlotOnceWhenDestroyedOrMovedOver) {
  {
    auto a = hub_->Admit(acme_);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(hub_->subscribers(acme_), 1u);
  }
  EXPECT_EQ(hub_->subscribers(acme_), 0u);

  auto a = hub_->Admit(acme_);
  auto b = hub_->Admit(acme_);
  ASSERT_TRUE(a.ok() && b.ok());
  // Moving b into a releases a's slot; b's moves with it and is released once.
  *a = std::move(*b);
  EXPECT_FALSE(b->admitted());
  EXPECT_TRUE(a->admitted());
  EXPECT_EQ(hub_->subscribers(acme_), 1u);
  *a = FeedHub::Admission();
  EXPECT_EQ(hub_->subscribers(acme_), 0u);
  EXPECT_TRUE(hub_->Admit(acme_).ok());
  EXPECT_EQ(hub_->subscribers(globex_), 0u);
}

TEST_F(FeedHubTest, AWaiterIsWokenOnceByTheNextCommitOfItsTenant) {
  int woken = 0;
  const uint64_t handle = hub_->Wait(acme_, LastSeq(acme_), [&] { ++woken; });
  EXPECT_NE(handle, 0u);
  EXPECT_EQ(RunFanOut(), 0u);
  EXPECT_EQ(woken, 0);

  // Another tenant's commit wakes nobody here.
  Commit(globex_);
  EXPECT_EQ(RunFanOut(), 0u);
  EXPECT_EQ(woken, 0);

  // The commit only posts the fan-out: the waiter runs on the executor.
  Commit(acme_);
  EXPECT_EQ(woken, 0);
  EXPECT_EQ(RunFanOut(), 1u);
  EXPECT_EQ(woken, 1);

  // One-shot: later commits do not call it again.
  Commit(acme_);
  EXPECT_EQ(RunFanOut(), 0u);
  EXPECT_EQ(woken, 1);
}

TEST_F(FeedHubTest, AWaiterBehindASeenCommitIsWokenAtOnce) {
  const uint64_t before = LastSeq(acme_);
  Commit(acme_);
  RunFanOut();
  // The reader read up to `before`, but the hub has seen a commit past it
  // (published between the read and the Wait): no wait, no handle.
  int woken = 0;
  EXPECT_EQ(hub_->Wait(acme_, before, [&] { ++woken; }), 0u);
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(RunFanOut(), 0u);
  // Up to date: it waits.
  EXPECT_NE(hub_->Wait(acme_, LastSeq(acme_), [&] { ++woken; }), 0u);
  EXPECT_EQ(woken, 1);
}

TEST_F(FeedHubTest, ACancelledWaiterIsNotWoken) {
  int kept = 0, cancelled = 0;
  const uint64_t seq = LastSeq(acme_);
  const uint64_t h1 = hub_->Wait(acme_, seq, [&] { ++cancelled; });
  const uint64_t h2 = hub_->Wait(acme_, seq, [&] { ++kept; });
  ASSERT_NE(h1, h2);
  hub_->Cancel(acme_, h1);
  hub_->Cancel(acme_, h1);      // twice: a no-op
  hub_->Cancel(acme_, 0);       // the handle of a waiter woken at once
  hub_->Cancel(globex_, h2);    // another tenant's handle space: not this waiter
  Commit(acme_);
  RunFanOut();
  EXPECT_EQ(cancelled, 0);
  EXPECT_EQ(kept, 1);
}

TEST_F(FeedHubTest, CommitsBeforeTheFanOutRunsPostOneJobThatWakesEveryWaiterOnce) {
  constexpr int kWaiters = 50;
  std::vector<int> woken(kWaiters, 0);
  const uint64_t seq = LastSeq(acme_);
  for (int i = 0; i < kWaiters; ++i) hub_->Wait(acme_, seq, [&woken, i] { ++woken[i]; });
  for (int i = 0; i < 5; ++i) Commit(acme_);
  EXPECT_EQ(RunFanOut(), 1u);  // one job for the tenant, however many commits
  for (int i = 0; i < kWaiters; ++i) EXPECT_EQ(woken[i], 1) << "waiter " << i;
}

TEST_F(FeedHubTest, AfterStopNothingIsPostedAndStopIsIdempotent) {
  int woken = 0;
  hub_->Wait(acme_, LastSeq(acme_), [&] { ++woken; });
  hub_->Stop();
  hub_->Stop();
  Commit(acme_);
  EXPECT_EQ(RunFanOut(), 0u);
  EXPECT_EQ(woken, 0);
  // Counting subscribers needs no executor.
  auto a = hub_->Admit(acme_);
  EXPECT_TRUE(a.ok());
}

// Writers commit while readers wait and cancel on other threads, and the
// executor runs on its own thread: every waiter whose commit came is woken
// exactly once, nothing is woken twice (ThreadSanitizer runs this too:
// label server).
TEST_F(FeedHubTest, ConcurrentWaitersWritersAndFanOut) {
  constexpr int kReaders = 4;
  constexpr int kRounds = 50;
  constexpr int kCommits = 40;
  io_.restart();  // SetUp's poll ran out of work, which stops the context
  auto guard = boost::asio::make_work_guard(io_);
  std::thread executor([&] { io_.run(); });

  std::atomic<int> writers_done{0};
  std::thread writer([&] {
    for (int i = 0; i < kCommits; ++i) Commit(acme_);
    writers_done = 1;
  });
  std::atomic<int> woken_twice{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      for (int i = 0; i < kRounds; ++i) {
        auto calls = std::make_shared<std::atomic<int>>(0);
        const uint64_t h = hub_->Wait(acme_, LastSeq(acme_), [calls, &woken_twice] {
          if (calls->fetch_add(1) == 1) ++woken_twice;
        });
        if ((i + r) % 2 == 0) hub_->Cancel(acme_, h);
      }
    });
  }
  for (std::thread& t : readers) t.join();
  writer.join();
  EXPECT_EQ(writers_done.load(), 1);

  // A last waiter and a last commit: it is woken, on the executor thread.
  std::atomic<bool> last{false};
  hub_->Wait(acme_, LastSeq(acme_), [&] { last = true; });
  Commit(acme_);
  for (int i = 0; i < 500 && !last; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  guard.reset();
  hub_->Stop();
  io_.stop();
  executor.join();
  EXPECT_TRUE(last.load());
  EXPECT_EQ(woken_twice.load(), 0);
}

}  // namespace
}  // namespace syncmgr::server
