// Per-stream counts and the manual-edit view (SPEC §4: live_count,
// manual_count, ?manually_modified=true): what they say after every kind of
// write, that they agree with a full listing, that the manual list pages in
// external_id order, and that they are views like the others: a fold of the
// log gives them byte for byte (VerifyViews), a replay serves the same.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "tests/engine/engine_fixture.h"

namespace syncmgr::testing {
namespace {

class CountsTest : public EngineTest {
 protected:
  uint64_t LiveCount(TenantId t, StreamRef s) {
    if (s.kind == StreamKind::kSource) {
      auto info = engine_->GetSource(t, s.id);
      EXPECT_TRUE(info.ok()) << info.status().ToString();
      return info.ok() && info->live_count ? *info->live_count : ~uint64_t{0};
    }
    auto info = engine_->GetTarget(t, s.id);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() && info->live_count ? *info->live_count : ~uint64_t{0};
  }

  uint64_t ManualCount(TenantId t, uint32_t target) {
    auto info = engine_->GetTarget(t, target);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() && info->manual_count ? *info->manual_count : ~uint64_t{0};
  }

  std::vector<std::string> ManualIds(TenantId t, uint32_t target, ListOptions o = {}) {
    o.manually_modified = true;
    std::vector<std::string> ids;
    for (const auto& r : List(t, Tgt(target), o)) {
      EXPECT_TRUE(r.manually_modified) << r.external_id;
      EXPECT_FALSE(r.data.empty()) << r.external_id;
      ids.push_back(r.external_id);
    }
    return ids;
  }

  // The counts and the manual list agree with a full listing of the stream.
  void ExpectConsistent(TenantId t, StreamRef s) {
    SCOPED_TRACE((s.kind == StreamKind::kSource ? "source " : "target ") + std::to_string(s.id));
    std::vector<PropertyRecord> all = List(t, s);
    EXPECT_EQ(LiveCount(t, s), all.size());
    if (s.kind != StreamKind::kTarget) return;
    std::vector<std::string> manual;
    for (const auto& r : all) {
      if (r.manually_modified) manual.push_back(r.external_id);
    }
    EXPECT_EQ(ManualCount(t, s.id), manual.size());
    EXPECT_EQ(ManualIds(t, s.id), manual);
  }

  std::vector<std::string> Ids(const std::vector<PropertyRecord>& rows) {
    std::vector<std::string> ids;
    for (const auto& r : rows) ids.push_back(r.external_id);
    return ids;
  }
};

std::string Item(const std::string& id, int v) {
  return "{\"external_id\":\"" + id + "\",\"v\":" + std::to_string(v) + "}";
}

std::string Body(const std::vector<std::pair<std::string, int>>& items) {
  std::string body = "[";
  for (const auto& [id, v] : items) body += (body.size() > 1 ? "," : "") + Item(id, v);
  return body + "]";
}

TEST_F(CountsTest, EveryKindOfWriteMovesTheCounts) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t, {}, 1.0);
  uint32_t g = NewTarget(t);
  // New streams: zero, not absent.
  EXPECT_EQ(LiveCount(t, Src(s)), 0u);
  EXPECT_EQ(LiveCount(t, Tgt(g)), 0u);
  EXPECT_EQ(ManualCount(t, g), 0u);

  ASSERT_TRUE(Import(t, s, Body({{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}})).ok());
  EXPECT_EQ(LiveCount(t, Src(s)), 4u);
  // A full import without "d": removed, not counted.
  ASSERT_TRUE(Import(t, s, Body({{"a", 1}, {"b", 1}, {"c", 1}}), ImportMode::kFull).ok());
  EXPECT_EQ(LiveCount(t, Src(s)), 3u);
  ASSERT_TRUE(Sync(t, s, g).ok());
  EXPECT_EQ(LiveCount(t, Tgt(g)), 3u);
  EXPECT_EQ(ManualCount(t, g), 0u);

  // Manual edits: one of the synced listings, and one only on the website.
  ASSERT_TRUE(engine_->PutTargetProperty(t, g, "b", R"({"by":"hand"})").ok());
  ASSERT_TRUE(engine_->PutTargetProperty(t, g, "m", R"({"only":"here"})").ok());
  EXPECT_EQ(LiveCount(t, Tgt(g)), 4u);
  EXPECT_EQ(ManualCount(t, g), 2u);
  EXPECT_EQ(ManualIds(t, g), (std::vector<std::string>{"b", "m"}));
  // The same content again writes nothing and changes nothing.
  ASSERT_TRUE(engine_->PutTargetProperty(t, g, "b", R"({"by":"hand"})").ok());
  EXPECT_EQ(ManualCount(t, g), 2u);
  // A manual removal: no longer live, so not an open conflict either.
  ASSERT_TRUE(engine_->DeleteTargetProperty(t, g, "m").ok());
  ASSERT_TRUE(engine_->DeleteTargetProperty(t, g, "c").ok());
  EXPECT_EQ(LiveCount(t, Tgt(g)), 2u);
  EXPECT_EQ(ManualCount(t, g), 1u);
  EXPECT_EQ(ManualIds(t, g), (std::vector<std::string>{"b"}));
  ExpectViewsEqualFold();

  // The source changes "b": a keep sync reports the conflict and leaves the
  // edit (still open); it re-creates "c" (removed by hand: a conflict too,
  // kept: not live, not counted).
  ASSERT_TRUE(Import(t, s, Body({{"b", 2}})).ok());
  auto kept = Sync(t, s, g, OnConflict::kKeep);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->stats.conflicts, 2u);
  EXPECT_EQ(ManualCount(t, g), 1u);
  EXPECT_EQ(LiveCount(t, Tgt(g)), 2u);
  // A dry run writes nothing.
  ASSERT_TRUE(Sync(t, s, g, OnConflict::kOverwrite, /*dry_run=*/true).ok());
  EXPECT_EQ(ManualCount(t, g), 1u);
  // Overwrite: the sync writes both, so neither is a manual edit any more.
  auto over = Sync(t, s, g, OnConflict::kOverwrite);
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(over->stats.conflicts, 2u);
  EXPECT_EQ(ManualCount(t, g), 0u);
  EXPECT_EQ(LiveCount(t, Tgt(g)), 3u);
  EXPECT_TRUE(ManualIds(t, g).empty());
  // A source removal synced removes from the target's count.
  ASSERT_TRUE(Import(t, s, Body({{"a", 1}, {"b", 2}}), ImportMode::kFull).ok());
  ASSERT_TRUE(Sync(t, s, g).ok());
  EXPECT_EQ(LiveCount(t, Tgt(g)), 2u);
  ExpectConsistent(t, Src(s));
  ExpectConsistent(t, Tgt(g));
  ExpectViewsEqualFold();

  // Reopened: read from the views, the same.
  Reopen();
  ExpectConsistent(t, Src(s));
  ExpectConsistent(t, Tgt(g));
}

TEST_F(CountsTest, ManualListPagesInExternalIdOrder) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  uint32_t g = NewTarget(t);
  std::vector<std::pair<std::string, int>> items;
  for (int i = 0; i < 400; ++i) items.push_back({"p" + std::to_string(1000 + i), i});
  ASSERT_TRUE(Import(t, s, Body(items)).ok());
  ASSERT_TRUE(Sync(t, s, g).ok());
  // Edit every third, in an order other than the ids'.
  std::vector<std::string> edited;
  for (int i = 399; i >= 0; --i) {
    if (i % 3 != 0) continue;
    std::string id = "p" + std::to_string(1000 + i);
    ASSERT_TRUE(engine_->PutTargetProperty(t, g, id, "{\"hand\":" + std::to_string(i) + "}").ok());
    edited.push_back(id);
  }
  std::sort(edited.begin(), edited.end());
  EXPECT_EQ(ManualCount(t, g), edited.size());

  // Pages of 50 with `after`, as a client walks them.
  std::vector<std::string> walked;
  ListOptions o;
  o.limit = 50;
  for (int page = 0; page < 10; ++page) {
    std::vector<std::string> ids = ManualIds(t, g, o);
    EXPECT_LE(ids.size(), 50u);
    walked.insert(walked.end(), ids.begin(), ids.end());
    if (ids.size() < 50) break;
    o.after = ids.back();
  }
  EXPECT_EQ(walked, edited);
  // `after` between ids, and past the end.
  o.after = "p1100x";
  o.limit = 3;
  EXPECT_EQ(ManualIds(t, g, o), (std::vector<std::string>{"p1102", "p1105", "p1108"}));
  o.after = "q";
  EXPECT_TRUE(ManualIds(t, g, o).empty());
  // changed_since: only the edits after a seq.
  auto last = engine_->LastSeq(t);
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(engine_->PutTargetProperty(t, g, "p1002", R"({"late":1})").ok());
  ListOptions since;
  since.changed_since = *last;
  EXPECT_EQ(ManualIds(t, g, since), (std::vector<std::string>{"p1002"}));
  ExpectConsistent(t, Tgt(g));
  ExpectViewsEqualFold();
}

TEST_F(CountsTest, ManualListAsOfAPointFiltersThatState) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  uint32_t g = NewTarget(t);
  ASSERT_TRUE(Import(t, s, Body({{"a", 1}, {"b", 1}})).ok());
  ASSERT_TRUE(Sync(t, s, g).ok());
  ASSERT_TRUE(engine_->PutTargetProperty(t, g, "a", R"({"hand":1})").ok());
  auto then = engine_->LastSeq(t);
  ASSERT_TRUE(then.ok());
  ASSERT_TRUE(engine_->PutTargetProperty(t, g, "b", R"({"hand":2})").ok());
  ASSERT_TRUE(Sync(t, s, g, OnConflict::kOverwrite).ok());
  EXPECT_TRUE(ManualIds(t, g).empty());
  ListOptions o;
  o.as_of_seq = *then;
  EXPECT_EQ(ManualIds(t, g, o), (std::vector<std::string>{"a"}));
}

TEST_F(CountsTest, ManuallyModifiedOnASourceIsRefused) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  ListOptions o;
  o.manually_modified = true;
  auto c = engine_->ListProperties(t, Src(s), o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_NE(c.status().message().find("targets only"), std::string::npos);
}

// A seeded random workload over two tenants: after it, and after a restart
// and more of it, the counts and the manual lists agree with full listings
// and the views equal the fold of the log; a replayed directory has the
// same counts.
TEST_F(CountsTest, RandomWorkloadCountsAgreeWithListsAndTheFold) {
  TenantId t = NewTenant();
  std::vector<uint32_t> sources = {NewSource(t, {}, 1.0), NewSource(t, {}, 1.0)};
  std::vector<uint32_t> targets = {NewTarget(t), NewTarget(t)};
  std::mt19937 rng(4242);
  auto run = [&](int steps) {
    for (int step = 0; step < steps; ++step) {
      int what = rng() % 10;
      uint32_t s = sources[rng() % sources.size()];
      uint32_t g = targets[rng() % targets.size()];
      std::string id = "p" + std::to_string(rng() % 50);
      if (what < 4) {
        std::map<std::string, int> batch;
        for (int i = 0, n = 1 + rng() % 20; i < n; ++i) {
          batch["p" + std::to_string(rng() % 50)] = rng() % 3;
        }
        std::vector<std::pair<std::string, int>> items(batch.begin(), batch.end());
        ASSERT_TRUE(Import(t, s, Body(items), rng() % 4 ? ImportMode::kUpsert : ImportMode::kFull,
                           true)
                        .ok());
      } else if (what < 7) {
        ASSERT_TRUE(Sync(t, s, g, rng() % 2 ? OnConflict::kKeep : OnConflict::kOverwrite).ok());
      } else if (what < 9) {
        ASSERT_TRUE(
            engine_->PutTargetProperty(t, g, id, "{\"m\":" + std::to_string(rng() % 3) + "}").ok());
      } else {
        auto r = engine_->DeleteTargetProperty(t, g, id);
        ASSERT_TRUE(r.ok() || r.status().code() == Code::kNotFound) << r.status().ToString();
      }
    }
  };
  auto check = [&] {
    for (uint32_t s : sources) ExpectConsistent(t, Src(s));
    for (uint32_t g : targets) ExpectConsistent(t, Tgt(g));
    ExpectViewsEqualFold();
  };
  run(250);
  check();
  Reopen();
  run(80);
  check();

  std::map<uint32_t, std::pair<uint64_t, uint64_t>> before;
  for (uint32_t g : targets) before[g] = {LiveCount(t, Tgt(g)), ManualCount(t, g)};
  std::string out = dir_.sub("replayed");
  ASSERT_TRUE(engine_->ReplayInto(out, {}).ok());
  engine_.reset();
  EngineOptions o;
  o.path = out;
  auto replayed = Engine::Open(o);
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  engine_ = std::move(*replayed);
  for (uint32_t g : targets) {
    EXPECT_EQ(LiveCount(t, Tgt(g)), before[g].first);
    EXPECT_EQ(ManualCount(t, g), before[g].second);
    ExpectConsistent(t, Tgt(g));
  }
}

}  // namespace
}  // namespace syncmgr::testing
