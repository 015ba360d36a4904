// Sync semantics (SPEC §4 Sync) on a real engine.
#include <gtest/gtest.h>

#include "tests/engine/engine_fixture.h"

namespace syncmgr::testing {
namespace {

class SyncTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    t_ = NewTenant();
    s_ = NewSource(t_, {}, /*ratio=*/1.0);
    g_ = NewTarget(t_);
  }
  TenantId t_ = 0;
  uint32_t s_ = 0, g_ = 0;
};

TEST_F(SyncTest, CreatedUpdatedUnchangedRemoved) {
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a","v":1},{"external_id":"b","v":1},{"external_id":"c","v":1}])").ok());
  auto r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.created, 3u);
  EXPECT_EQ(r->stats.unchanged, 0u);
  auto list = List(t_, Tgt(g_));
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].data, R"({"external_id":"a","v":1})");
  EXPECT_EQ(list[0].source_id, s_);

  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a","v":2},{"external_id":"b","v":1}])",
                     ImportMode::kFull).ok());
  r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.updated, 1u);
  EXPECT_EQ(r->stats.removed, 1u);
  EXPECT_EQ(r->stats.unchanged, 1u);
  EXPECT_EQ(r->stats.created, 0u);
  list = List(t_, Tgt(g_));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].data, R"({"external_id":"a","v":2})");
  auto h = engine_->History(t_, Tgt(g_), "a");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[1].cause, CauseKind::kSync);
  EXPECT_EQ((*h)[1].cause_id, r->sync_id);
  EXPECT_EQ(*(*h)[1].changed_fields, std::vector<std::string>{"v"});

  // Nothing changed: everything unchanged, nothing written but the log entry.
  r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.unchanged, 2u);
  EXPECT_EQ(r->stats.created + r->stats.updated + r->stats.removed, 0u);
  auto logs = engine_->ListSyncLogs(t_, {});
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(logs->size(), 3u);
}

TEST_F(SyncTest, DryRunComputesTheSameAnswerAndWritesNothing) {
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a"},{"external_id":"b"}])").ok());
  uint64_t seq = *engine_->LastSeq(t_);
  auto dry = Sync(t_, s_, g_, OnConflict::kKeep, /*dry_run=*/true);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->stats.created, 2u);
  EXPECT_EQ(*engine_->LastSeq(t_), seq);
  EXPECT_TRUE(List(t_, Tgt(g_)).empty());
  auto real = Sync(t_, s_, g_);
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(real->stats.created, dry->stats.created);
}

TEST_F(SyncTest, ConflictKeepLeavesManualEditAndWarnsEachTime) {
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a","v":1}])").ok());
  ASSERT_TRUE(Sync(t_, s_, g_).ok());
  auto put = engine_->PutTargetProperty(t_, g_, "a", R"({"external_id":"a","v":"mine"})");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_TRUE(put->manually_modified);
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a","v":2}])").ok());
  auto r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.conflicts, 1u);
  EXPECT_EQ(r->stats.updated, 0u);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0].external_id, "a");
  EXPECT_EQ(r->warnings[0].type, "manual_change");
  auto p = engine_->GetProperty(t_, Tgt(g_), "a", {});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->data, R"({"external_id":"a","v":"mine"})");
  // The next sync sees the kept conflict again, as a full comparison would.
  r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.conflicts, 1u);
  auto logs = engine_->ListSyncLogs(t_, {});
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ((*logs)[0].warnings.size(), 1u);  // logged
}

TEST_F(SyncTest, ConflictOverwriteReplacesManualEdit) {
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a","v":1}])").ok());
  ASSERT_TRUE(Sync(t_, s_, g_).ok());
  ASSERT_TRUE(engine_->PutTargetProperty(t_, g_, "a", R"({"v":"mine"})").ok());
  auto r = Sync(t_, s_, g_, OnConflict::kOverwrite);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.conflicts, 1u);
  EXPECT_EQ(r->stats.updated, 1u);
  EXPECT_EQ(r->warnings.size(), 1u);
  auto p = engine_->GetProperty(t_, Tgt(g_), "a", {});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->data, R"({"external_id":"a","v":1})");
  EXPECT_FALSE(p->manually_modified);
  r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.conflicts, 0u);
}

TEST_F(SyncTest, ManualRemovalIsAConflictAndRemovalPropagates) {
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a"},{"external_id":"b"}])").ok());
  ASSERT_TRUE(Sync(t_, s_, g_).ok());
  ASSERT_TRUE(engine_->DeleteTargetProperty(t_, g_, "a").ok());
  EXPECT_EQ(engine_->DeleteTargetProperty(t_, g_, "a").status().code(), Code::kNotFound);
  auto r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.conflicts, 1u);  // the sync would re-create it
  EXPECT_EQ(engine_->GetProperty(t_, Tgt(g_), "a", {}).status().code(), Code::kNotFound);
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a"}])", ImportMode::kFull).ok());
  r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.removed, 1u);
  EXPECT_EQ(List(t_, Tgt(g_)).size(), 0u);
}

TEST_F(SyncTest, IncrementalSyncVisitsOnlyWhatChanged) {
  std::string body = "[";
  for (int i = 0; i < 2000; ++i) {
    body += (i ? "," : "") + std::string("{\"external_id\":\"") + std::to_string(i) + "\",\"v\":0}";
  }
  body += "]";
  ASSERT_TRUE(Import(t_, s_, body).ok());
  ASSERT_TRUE(Sync(t_, s_, g_).ok());
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"5","v":1},{"external_id":"6","v":1}])").ok());
  uint64_t before = *engine_->LastSeq(t_);
  auto r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.updated, 2u);
  EXPECT_EQ(r->stats.unchanged, 1998u);
  EXPECT_EQ(*engine_->LastSeq(t_), before + 3);  // two updates and the sync.completed
}

TEST_F(SyncTest, UnknownIdsAreNotFound) {
  EXPECT_EQ(Sync(t_, 99, g_).status().code(), Code::kNotFound);
  EXPECT_EQ(Sync(t_, s_, 99).status().code(), Code::kNotFound);
  TenantId other = NewTenant("other");
  EXPECT_EQ(Sync(other, s_, g_).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace syncmgr::testing
