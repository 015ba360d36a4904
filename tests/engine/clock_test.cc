// Ordered time (SPEC §2 "time"; issue 16 part 5): with a wall clock that
// steps back between and within operations, every event's time is
// non-decreasing in seq order within a tenant, every import and sync log
// entry has started_at <= finished_at, SeqAtTime agrees with the log, and
// the bound survives a reopen (it is folded from the log, so views =
// fold(log) still holds). The clock is EngineOptions::clock_us.
#include <atomic>
#include <memory>
#include <set>
#include <thread>

#include "tests/engine/engine_fixture.h"

namespace syncmgr::testing {
namespace {

constexpr int64_t kBase = 1'800'000'000'000'000;  // 2027-01-15, µs
constexpr int64_t kSecond = 1'000'000;

// A clock that goes forward by 20 s on most reads but steps back by 12 s on
// every third one and by 25 s on every seventh, so it steps back between
// operations and inside one (started_at, then the operation's time), while
// it still advances overall. Thread-safe.
class SteppingClock {
 public:
  explicit SteppingClock(int64_t start) : now_(start) {}
  int64_t Read() {
    const int64_t n = reads_.fetch_add(1) + 1;
    int64_t step = 20 * kSecond;
    if (n % 3 == 0) step = -12 * kSecond;
    if (n % 7 == 0) step = -25 * kSecond;
    const int64_t t = now_.fetch_add(step) + step;
    if (step < 0) backsteps_.fetch_add(1);
    return t;
  }
  void Set(int64_t t) { now_.store(t); }
  int64_t reads() const { return reads_.load(); }
  int64_t backsteps() const { return backsteps_.load(); }

 private:
  std::atomic<int64_t> now_;
  std::atomic<int64_t> reads_{0};
  std::atomic<int64_t> backsteps_{0};
};

class ClockTest : public EngineTest {
 protected:
  void SetUp() override { OpenWithClock(); }

  void OpenWithClock() {
    engine_.reset();
    EngineOptions o;
    o.path = dir_.sub("db");
    o.clock_us = [clock = clock_] { return clock->Read(); };
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }

  // Every event of the tenant's log, every kind.
  std::vector<LogEvent> Log(TenantId t) {
    LogQuery q;
    q.every_kind = true;
    q.limit = 100000;
    auto page = engine_->ReadLog(t, q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->events : std::vector<LogEvent>{};
  }

  // A mix of every kind of operation: catalog, imports, syncs, manual edits.
  void Work(TenantId t, uint32_t source, uint32_t target, int round) {
    for (int i = 0; i < 3; ++i) {
      std::string body = "[";
      for (int k = 0; k < 4; ++k) {
        body += (k ? "," : "") + std::string(R"({"external_id":"p)") + std::to_string(k) +
                R"(","price":)" + std::to_string(round * 100 + i * 10 + k) + "}";
      }
      ASSERT_TRUE(Import(t, source, body + "]").ok());
      ASSERT_TRUE(Sync(t, source, target).ok());
    }
    ASSERT_TRUE(
        engine_->PutTargetProperty(t, target, "p1", R"({"external_id":"p1","price":1})").ok());
    auto key = engine_->CreateApiKey(t);
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(engine_->RevokeApiKey(key->info.prefix).ok());
    FeedTokenSpec spec;
    spec.target_id = target;
    ASSERT_TRUE(engine_->CreateFeedToken(t, spec).ok());
  }

  // The rules of ordered time, over the whole log and the operation logs.
  void ExpectOrderedTime(TenantId t) {
    const std::vector<LogEvent> log = Log(t);
    ASSERT_EQ(log.size(), *engine_->LastSeq(t));
    for (size_t i = 1; i < log.size(); ++i) {
      EXPECT_LE(log[i - 1].time_us, log[i].time_us) << "seq " << log[i].seq << " goes back";
    }
    auto imports = engine_->ListImports(t, std::nullopt, 1000);
    ASSERT_TRUE(imports.ok());
    ASSERT_FALSE(imports->empty());
    for (const ImportLogEntry& e : *imports) {
      EXPECT_LE(e.started_at_us, e.finished_at_us) << "import " << e.id;
    }
    SyncLogFilter f;
    f.limit = 1000;
    auto syncs = engine_->ListSyncLogs(t, f);
    ASSERT_TRUE(syncs.ok());
    ASSERT_FALSE(syncs->empty());
    for (const SyncLogEntry& e : *syncs) {
      EXPECT_LE(e.started_at_us, e.finished_at_us) << "sync " << e.id;
    }
    // SeqAtTime: the last seq whose time is at or before, as the log says.
    for (const LogEvent& e : log) {
      for (int64_t at : {e.time_us - 1, e.time_us, e.time_us + 1}) {
        uint64_t want = 0;
        for (const LogEvent& x : log) {
          if (x.time_us <= at) want = x.seq;
        }
        auto got = engine_->SeqAtTime(t, at);
        ASSERT_TRUE(got.ok());
        EXPECT_EQ(*got, want) << "at " << at;
      }
    }
  }

  std::shared_ptr<SteppingClock> clock_ = std::make_shared<SteppingClock>(kBase);
};

TEST_F(ClockTest, TimesStayOrderedWhenTheClockStepsBack) {
  const TenantId t = NewTenant();
  const uint32_t source = NewSource(t);
  const uint32_t target = NewTarget(t);
  for (int round = 0; round < 4; ++round) Work(t, source, target, round);
  EXPECT_GT(clock_->reads(), 40);
  EXPECT_GT(clock_->backsteps(), 10);
  ExpectOrderedTime(t);
  // Time still moves: the operations do not all share one time.
  std::set<int64_t> times;
  for (const LogEvent& e : Log(t)) times.insert(e.time_us);
  EXPECT_GT(times.size(), 10u);
  ExpectViewsEqualFold();
}

TEST_F(ClockTest, TheBoundSurvivesAReopenAndIsAFoldOfTheLog) {
  const TenantId t = NewTenant();
  const uint32_t source = NewSource(t);
  const uint32_t target = NewTarget(t);
  Work(t, source, target, 0);
  const int64_t last_time = Log(t).back().time_us;
  // Reopen with the wall clock an hour behind the last committed time: the
  // process has no memory of it, the log does.
  clock_->Set(last_time - 3600 * kSecond);
  OpenWithClock();
  const uint64_t before = *engine_->LastSeq(t);
  Work(t, source, target, 1);
  const std::vector<LogEvent> log = Log(t);
  for (const LogEvent& e : log) {
    if (e.seq > before) {
      EXPECT_GE(e.time_us, last_time) << "seq " << e.seq;
    }
  }
  ExpectOrderedTime(t);
  ExpectViewsEqualFold();
  // Another tenant has its own bound: its times follow the (behind) clock.
  const TenantId other = NewTenant("other");
  const std::vector<LogEvent> other_log = Log(other);
  ASSERT_FALSE(other_log.empty());
  EXPECT_LT(other_log.front().time_us, last_time);
  // The clock catches up: times follow it again.
  clock_->Set(last_time + 3600 * kSecond);
  ASSERT_TRUE(Import(t, source, R"([{"external_id":"late","price":1}])").ok());
  EXPECT_GT(Log(t).back().time_us, last_time + 3000 * kSecond);
  ExpectOrderedTime(t);
}

// Concurrent writers of several tenants share one clock that steps back:
// each tenant's times are still ordered.
TEST_F(ClockTest, ConcurrentTenantsKeepTheirOwnOrder) {
  std::vector<TenantId> tenants;
  for (int i = 0; i < 3; ++i) tenants.push_back(NewTenant("t" + std::to_string(i)));
  std::vector<std::thread> writers;
  for (TenantId t : tenants) {
    writers.emplace_back([this, t] {
      const uint32_t source = NewSource(t);
      const uint32_t target = NewTarget(t);
      for (int round = 0; round < 2; ++round) Work(t, source, target, round);
    });
  }
  for (std::thread& w : writers) w.join();
  for (TenantId t : tenants) ExpectOrderedTime(t);
}

}  // namespace
}  // namespace syncmgr::testing
