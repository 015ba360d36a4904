// Concurrent writers: many threads of one tenant and of several tenants write
// at once (sharing WAL syncs); every write is present, each tenant's seqs
// have no gap, and the views equal the fold of the log.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/engine/engine_fixture.h"

namespace syncmgr::testing {
namespace {

class ConcurrencyTest : public EngineTest {};

TEST_F(ConcurrencyTest, ConcurrentWritersShareSyncsAndLoseNothing) {
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 25;
  TenantId a = NewTenant("a"), b = NewTenant("b");
  uint32_t ga = NewTarget(a), gb = NewTarget(b);
  uint32_t sa = NewSource(a);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        std::string id = "t" + std::to_string(th) + "-" + std::to_string(i);
        TenantId t = th % 2 ? a : b;
        uint32_t g = th % 2 ? ga : gb;
        if (!engine_->PutTargetProperty(t, g, id, "{\"i\":" + std::to_string(i) + "}").ok()) {
          ++failures;
        }
        if (th == 1 && i % 5 == 0) {
          std::string body = "[{\"external_id\":\"x" + std::to_string(i) + "\"}]";
          if (!engine_->Import(a, sa, ImportOptions(), body).ok()) ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(List(a, Tgt(ga)).size(), size_t{kThreads / 2 * kWritesPerThread});
  EXPECT_EQ(List(b, Tgt(gb)).size(), size_t{kThreads / 2 * kWritesPerThread});
  // Gap-free, strictly increasing seqs in each tenant's log.
  for (TenantId t : {a, b}) {
    LogQuery q;
    q.limit = 100000;
    auto page = engine_->ReadLog(t, q);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->last_seq, *engine_->LastSeq(t));
    uint64_t prev = 0;
    for (const auto& ev : page->events) {
      EXPECT_GT(ev.seq, prev);
      prev = ev.seq;
    }
  }
  ExpectViewsEqualFold();
}

}  // namespace
}  // namespace syncmgr::testing
