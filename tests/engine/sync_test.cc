// Sync semantics (SPEC §4 Sync) on a real engine.
#include <gtest/gtest.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "engine/canonical_json.h"
#include "engine/event_codec.h"
#include "engine/fold.h"
#include "engine/keys.h"
#include "engine/state_read.h"
#include "engine/store.h"
#include "events_generated.h"
#include "views_generated.h"
#include "tests/engine/damage.h"
#include "tests/engine/engine_fixture.h"
#include "tests/engine/store_fixture.h"

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
  // The next sync of (s_, g_) fails with Corruption and writes nothing.
  void ExpectSyncFailsAndWritesNothing() {
    const uint64_t before = *engine_->LastSeq(t_);
    auto r = Sync(t_, s_, g_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kCorruption) << r.status().ToString();
    EXPECT_EQ(*engine_->LastSeq(t_), before);
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

// Many candidates with every kind of change mixed, and ids in both dirty
// sets (source import and manual edit): each id gets its own outcome and its
// own changed_fields, the events come in external_id order, and views equal
// the log's fold. Sized past a few hundred ids so that a sync that reads its
// candidates in batches (an experiment in docs/benchmarks.md) crosses them.
// An incremental sync reads its candidates 512 at a time; with reader
// threads on, every other batch (and half of the dense ids, or the later
// half of the log scan) on a thread of its own; the source's side from the
// log scan or by point reads (EngineOptions::sync_log_scan). Every way,
// each id gets its own outcome and the events follow external_id order.
// ~1,400 candidates: a pair of batches, then one alone.
class SyncBatchesTest : public SyncTest,
                        public ::testing::WithParamInterface<std::tuple<bool, bool>> {
 protected:
  void SetUp() override {
    read_ahead_ = std::get<0>(GetParam());
    sync_log_scan_ = std::get<1>(GetParam());
    SyncTest::SetUp();
  }
};

// "id" and five digits: ids in the order of their numbers.
std::string NumId(int i) {
  std::string s = std::to_string(i);
  return "id" + std::string(5 - s.size(), '0') + s;
}

TEST_P(SyncBatchesTest, ManyCandidatesAcrossBatchesGetTheirOwnOutcome) {
  constexpr int kIds = 3000;
  auto id = NumId;
  auto doc = [&](int i, int v, const char* title = "t") {
    return R"({"external_id":")" + id(i) + R"(","price":)" + std::to_string(v) +
           R"(,"title":")" + title + std::to_string(i) + "\"}";
  };
  // Day 1's update of id i: the price of every 6th id, the title of the
  // others among every 3rd (so that changed_fields tells updates apart).
  auto updated_doc = [&](int i) { return i % 6 == 0 ? doc(i, 200) : doc(i, 100, "u"); };
  std::string body = "[";
  for (int i = 0; i < kIds; ++i) body += (i ? "," : "") + doc(i, 100);
  body += "]";
  ASSERT_TRUE(Import(t_, s_, body).ok());
  auto r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.created, static_cast<uint64_t>(kIds));
  ASSERT_EQ(List(t_, Tgt(g_)).size(), static_cast<size_t>(kIds));

  // Manual edits on the target: two of the ids the source also updates
  // (in both dirty sets, visited once), one it leaves; each is a conflict.
  ASSERT_TRUE(engine_->PutTargetProperty(t_, g_, id(3), doc(3, 1)).ok());
  ASSERT_TRUE(engine_->PutTargetProperty(t_, g_, id(999), doc(999, 1)).ok());
  ASSERT_TRUE(engine_->PutTargetProperty(t_, g_, id(4), doc(4, 1)).ok());
  // Day 1 (full): every 3rd id updated, every 7th removed (unless also a
  // 3rd), 100 new ids.
  uint64_t updated = 0, removed = 0, unchanged = 0;
  body = "[";
  bool first = true;
  auto add = [&](const std::string& d) {
    body += (first ? "" : ",") + d;
    first = false;
  };
  for (int i = 0; i < kIds; ++i) {
    if (i % 3 == 0) {
      add(updated_doc(i));
      ++updated;
    } else if (i % 7 == 0) {
      ++removed;
    } else {
      add(doc(i, 100));
      ++unchanged;
    }
  }
  for (int i = kIds; i < kIds + 100; ++i) add(doc(i, 100));
  body += "]";
  ASSERT_TRUE(Import(t_, s_, body, ImportMode::kFull).ok());
  const uint64_t before = *engine_->LastSeq(t_);
  r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // The three manual edits conflict and are kept (the default).
  EXPECT_EQ(r->stats.created, 100u);
  EXPECT_EQ(r->stats.updated, updated - 2);
  EXPECT_EQ(r->stats.removed, removed);
  EXPECT_EQ(r->stats.unchanged, unchanged - 1);
  EXPECT_EQ(r->stats.conflicts, 3u);
  ASSERT_EQ(r->warnings.size(), 3u);
  EXPECT_EQ(r->warnings[0].external_id, id(3));
  EXPECT_EQ(r->warnings[1].external_id, id(4));
  EXPECT_EQ(r->warnings[2].external_id, id(999));
  // Every id has its own outcome.
  for (int i = 0; i < kIds + 100; ++i) {
    auto p = engine_->GetProperty(t_, Tgt(g_), id(i), {});
    if (i < kIds && i % 3 != 0 && i % 7 == 0) {
      EXPECT_EQ(p.status().code(), Code::kNotFound) << id(i);
      continue;
    }
    ASSERT_TRUE(p.ok()) << id(i) << ": " << p.status().ToString();
    std::string want = i < kIds && i % 3 == 0 ? updated_doc(i) : doc(i, 100);
    if (i == 3 || i == 999 || i == 4) want = doc(i, 1);
    EXPECT_EQ(p->data, want) << id(i);
  }
  // changed_fields compares each update's own two documents.
  for (int i = 0; i < kIds; i += 3) {
    if (i == 3 || i == 999) continue;
    auto h = engine_->History(t_, Tgt(g_), id(i));
    ASSERT_TRUE(h.ok());
    ASSERT_EQ(h->size(), 2u) << id(i);
    ASSERT_TRUE(h->back().changed_fields.has_value()) << id(i);
    EXPECT_EQ(*h->back().changed_fields,
              std::vector<std::string>{i % 6 == 0 ? "price" : "title"})
        << id(i);
  }
  // The sync's events follow external_id order.
  uint64_t last = before;
  uint64_t events = 0;
  for (int i = 0; i < kIds + 100; ++i) {
    auto hi = engine_->History(t_, Tgt(g_), id(i));
    if (!hi.ok()) continue;
    for (const HistoryEntry& e : *hi) {
      if (e.cause != CauseKind::kSync || e.cause_id != r->sync_id) continue;
      EXPECT_GT(e.seq, last) << id(i);
      last = e.seq;
      ++events;
    }
  }
  EXPECT_EQ(events, r->stats.created + r->stats.updated + r->stats.removed);
  EXPECT_EQ(*engine_->LastSeq(t_), before + events + 1);
  ExpectViewsEqualFold();
}

// A source record the sync must read is gone (a damaged directory): in the
// second batch, which a reader thread reads when on. The sync fails with
// the corruption and writes nothing, whichever thread read it.
TEST_P(SyncBatchesTest, AMissingRecordInALaterBatchFailsTheSyncAndWritesNothing) {
  constexpr int kIds = 1200;  // batches of 512, 512, 176
  auto id = NumId;
  auto doc = [&](int i, int v) {
    return R"({"external_id":")" + id(i) + R"(","price":)" + std::to_string(v) + "}";
  };
  auto body = [&](int v) {
    std::string b = "[";
    for (int i = 0; i < kIds; ++i) b += (i ? "," : "") + doc(i, v);
    return b + "]";
  };
  ASSERT_TRUE(Import(t_, s_, body(100)).ok());
  ASSERT_TRUE(Sync(t_, s_, g_).ok());
  ASSERT_TRUE(Import(t_, s_, body(200)).ok());  // every id updated
  const std::string victim = id(700);
  engine_.reset();
  ASSERT_NO_FATAL_FAILURE(DeleteDataRecord(dir_.sub("db"), t_, Src(s_), victim));
  Reopen();
  ASSERT_NO_FATAL_FAILURE(ExpectSyncFailsAndWritesNothing());
  for (int i : {0, 511, 512, 700, 1199}) {
    auto p = engine_->GetProperty(t_, Tgt(g_), id(i), {});
    ASSERT_TRUE(p.ok()) << id(i) << ": " << p.status().ToString();
    EXPECT_EQ(p->data, doc(i, 100)) << id(i);
  }
}

// Two imports between syncs change the same 700 ids: with a reader thread
// the log scan reads the second import's half of the stretch on it, and
// its change of an id must replace the first's; every way, the target gets
// each id's last version, and changed_fields compares it with the version
// the target holds (the first import's replaced version is not the
// target's: the documents are compared).
TEST_P(SyncBatchesTest, AnIdChangedTwiceSinceTheLastSyncGetsItsLastVersion) {
  constexpr int kIds = 700;
  auto id = NumId;
  auto body = [&](const char* field, int v) {
    std::string b = "[";
    for (int i = 0; i < kIds; ++i) {
      b += (i ? "," : "") + std::string(R"({"external_id":")") + id(i) + R"(",")" + field +
           R"(":)" + std::to_string(v) + "}";
    }
    return b + "]";
  };
  ASSERT_TRUE(Import(t_, s_, body("a", 1)).ok());
  ASSERT_TRUE(Sync(t_, s_, g_).ok());
  ASSERT_TRUE(Import(t_, s_, body("a", 2)).ok());
  ASSERT_TRUE(Import(t_, s_, body("b", 3)).ok());
  auto r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.updated, static_cast<uint64_t>(kIds));
  for (int i : {0, 349, 350, 699}) {
    auto p = engine_->GetProperty(t_, Tgt(g_), id(i), {});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->data, R"({"b":3,"external_id":")" + id(i) + "\"}") << id(i);
    auto h = engine_->History(t_, Tgt(g_), id(i));
    ASSERT_TRUE(h.ok());
    ASSERT_EQ(h->size(), 2u);
    ASSERT_TRUE(h->back().changed_fields.has_value());
    EXPECT_EQ(*h->back().changed_fields, (std::vector<std::string>{"a", "b"})) << id(i);
  }
  ExpectViewsEqualFold();
}

INSTANTIATE_TEST_SUITE_P(ReadAhead, SyncBatchesTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "Readers" : "NoReaders") +
                                  (std::get<1>(info.param) ? "LogScan" : "PointReads");
                         });

// With the log scan (the default), an incremental sync learns the source's
// side of its candidates from the source's events and reads no source
// record by point: a source id whose dense-id record is gone (a damaged
// directory) is synced all the same, where the point reads (the scan off)
// fail on it. The scan is used, and only it.
TEST_F(SyncTest, TheLogScanReadsNoSourceRecordByPoint) {
  auto doc = [](const std::string& id, int v) {
    return R"({"external_id":")" + id + R"(","v":)" + std::to_string(v) + "}";
  };
  ASSERT_TRUE(Import(t_, s_, "[" + doc("a", 1) + "," + doc("b", 1) + "]").ok());
  ASSERT_TRUE(Sync(t_, s_, g_).ok());
  ASSERT_TRUE(Import(t_, s_, "[" + doc("a", 2) + "]").ok());
  engine_.reset();
  ASSERT_NO_FATAL_FAILURE(DeleteDenseRecord(dir_.sub("db"), t_, Src(s_), "a"));
  sync_log_scan_ = false;
  Reopen();
  ASSERT_NO_FATAL_FAILURE(ExpectSyncFailsAndWritesNothing());
  sync_log_scan_ = true;
  Reopen();
  auto r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.updated, 1u);
  EXPECT_EQ(r->stats.unchanged, 1u);
  auto p = engine_->GetProperty(t_, Tgt(g_), "a", {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->data, doc("a", 2));
}

// The scan is used only while the stretch of the log since the pair's last
// sync is about as long as the source's changed-id set: a second source's
// import of 5,000 listings in that stretch (more events than 4 per changed
// id + 4,096) makes the sync read by points, which the damaged dense-id
// record of the one changed id then fails, changing nothing.
TEST_F(SyncTest, ALongStretchOfOtherEventsFallsBackToPointReads) {
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a","v":1}])").ok());
  ASSERT_TRUE(Sync(t_, s_, g_).ok());
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a","v":2}])").ok());
  const uint32_t other = NewSource(t_);
  std::string body = "[";
  for (int i = 0; i < 5000; ++i) {
    body += (i ? "," : "") + std::string(R"({"external_id":"o)") + std::to_string(i) + R"(","v":1})";
  }
  ASSERT_TRUE(Import(t_, other, body + "]").ok());
  engine_.reset();
  ASSERT_NO_FATAL_FAILURE(DeleteDenseRecord(dir_.sub("db"), t_, Src(s_), "a"));
  Reopen();
  ASSERT_NO_FATAL_FAILURE(ExpectSyncFailsAndWritesNothing());
}

// The log scan folds the source's events as the fold does: the last event
// of an id wins. One history, scripted with every case of that, synced
// with the scan and with point reads in two directories: the same answers,
// the same rows, the same changed_fields, and views = fold in both. Between
// syncs: an id updated twice (the target lacks the version the last update
// replaced: documents compared), updated and changed back, removed and
// re-created, created and removed before any sync, removed; a second
// source's imports into the same target (another stream's events in the
// stretch, and target-side candidates); manual edits (conflicts kept and
// overwritten); a dry run.
TEST_F(SyncTest, TheLogScanAndPointReadsGiveTheSameSyncs) {
  auto run = [&](bool scan) {
    std::vector<std::string> out;
    sync_log_scan_ = scan;
    engine_.reset();
    std::filesystem::remove_all(dir_.sub("db"));
    Reopen();
    const TenantId t = NewTenant();
    const uint32_t s = NewSource(t, {"seen"}, /*ratio=*/1.0);
    const uint32_t s2 = NewSource(t, {}, /*ratio=*/1.0);
    const uint32_t g = NewTarget(t);
    auto doc = [](const std::string& id, const std::string& rest) {
      return R"({"external_id":")" + id + "\"" + (rest.empty() ? "" : "," + rest) + "}";
    };
    auto import = [&](uint32_t src, std::vector<std::string> docs, ImportMode mode) {
      std::string body = "[";
      for (size_t i = 0; i < docs.size(); ++i) body += (i ? "," : "") + docs[i];
      auto r = Import(t, src, body + "]", mode, /*allow=*/true);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
    };
    auto sync = [&](uint32_t src, OnConflict c, bool dry_run = false) {
      auto r = Sync(t, src, g, c, dry_run);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return;
      std::string line = fmt::format("sync {} {}: c{} u{} n{} r{} x{}", src, dry_run,
                                     r->stats.created, r->stats.updated, r->stats.unchanged,
                                     r->stats.removed, r->stats.conflicts);
      for (const auto& w : r->warnings) line += " " + w.external_id + ":" + w.message;
      out.push_back(line);
    };
    import(s, {doc("a", R"("x":1,"y":1)"), doc("b", R"("x":1)"), doc("c", R"("x":1)"),
               doc("d", R"("x":1)"), doc("e", R"("x":1)"), doc("f", R"("x":1)"),
               doc("m", R"("x":1)"), doc("w", R"("x":1)")},
           ImportMode::kFull);
    sync(s, OnConflict::kKeep);
    import(s2, {doc("p", R"("x":1)"), doc("q", R"("x":1)")}, ImportMode::kFull);
    sync(s2, OnConflict::kKeep);
    // Between syncs of (s, g):
    import(s, {doc("a", R"("x":2,"y":1)"), doc("b", R"("x":2)"), doc("n", R"("x":1)"),
               doc("m", R"("x":2)"), doc("w", R"("x":2)")},
           ImportMode::kUpsert);
    EXPECT_TRUE(engine_->PutTargetProperty(t, g, "m", doc("m", R"("x":9)")).ok());
    EXPECT_TRUE(engine_->PutTargetProperty(t, g, "w", doc("w", R"("x":9)")).ok());
    EXPECT_TRUE(engine_->PutTargetProperty(t, g, "e", doc("e", R"("x":9)")).ok());
    import(s2, {doc("p", R"("x":2)"), doc("a", R"("x":7)")}, ImportMode::kUpsert);
    sync(s2, OnConflict::kOverwrite);
    // a: updated again (x back to 1, y changed); b: changed back, with an
    // ignored field; c: removed; d: removed then re-created; n: created
    // (above) and removed; f: unchanged.
    import(s, {doc("a", R"("x":1,"y":2)"), doc("b", R"("x":1,"seen":3)"), doc("d", R"("x":1)"),
               doc("e", R"("x":1)"), doc("f", R"("x":1)"), doc("m", R"("x":2)"),
               doc("w", R"("x":3)")},
           ImportMode::kFull);
    import(s, {doc("d", R"("x":4)")}, ImportMode::kUpsert);
    sync(s, OnConflict::kKeep, /*dry_run=*/true);
    sync(s, OnConflict::kKeep);
    import(s, {doc("w", R"("x":4)"), doc("g", R"("x":1)")}, ImportMode::kUpsert);
    sync(s, OnConflict::kOverwrite);
    sync(s, OnConflict::kKeep);  // nothing changed since
    for (const auto& row : List(t, Tgt(g))) {
      std::string line = "row " + row.external_id + " " + row.data;
      auto h = engine_->History(t, Tgt(g), row.external_id);
      EXPECT_TRUE(h.ok());
      if (!h.ok()) continue;
      for (const HistoryEntry& e : *h) {
        line += " |";
        if (e.changed_fields) {
          for (const auto& f : *e.changed_fields) line += " " + f;
        }
      }
      out.push_back(line);
    }
    ExpectViewsEqualFold();
    return out;
  };
  const std::vector<std::string> points = run(false);
  const std::vector<std::string> scanned = run(true);
  EXPECT_EQ(scanned, points);
  EXPECT_GE(points.size(), 14u);
}

// An imported update records the data_seq it replaced (prev_data_seq), and a
// sync whose target still holds that version takes the import's
// changed_fields instead of comparing the two documents: the answer must be
// the comparison's. Fields changed, added, removed, and an ignored one.
TEST_F(SyncTest, UpdateTakesTheImportsChangedFieldsWhenTheTargetHoldsTheReplacedVersion) {
  SourceSpec spec;
  spec.name = "with-ignored";
  spec.ignore_fields = {"seen"};
  auto created = engine_->CreateSource(t_, spec);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const uint32_t src = created->id;
  ASSERT_TRUE(Import(t_, src, R"([{"external_id":"a","p":1,"q":1,"seen":1},)"
                              R"({"external_id":"b","p":1,"q":1,"seen":1}])").ok());
  ASSERT_TRUE(Sync(t_, src, g_).ok());
  ASSERT_TRUE(Import(t_, src, R"([{"external_id":"a","p":2,"r":1,"seen":2},)"
                              R"({"external_id":"b","p":1,"q":2,"seen":2}])").ok());
  auto r = Sync(t_, src, g_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.updated, 2u);
  const std::vector<std::string> ignore{"seen"};
  struct Seen {
    uint64_t v1_seq, v2_seq;
    std::string v1, v2;
    std::vector<std::string> target_changed;
  };
  std::map<std::string, Seen> seen;
  for (const char* ext : {"a", "b"}) {
    auto hs = engine_->History(t_, {StreamKind::kSource, src}, ext);
    auto ht = engine_->History(t_, Tgt(g_), ext);
    ASSERT_TRUE(hs.ok() && ht.ok());
    ASSERT_EQ(hs->size(), 2u);
    ASSERT_EQ(ht->size(), 2u);
    ASSERT_TRUE(ht->back().changed_fields.has_value());
    seen[ext] = {(*hs)[0].seq, (*hs)[1].seq, *(*hs)[0].data, *(*hs)[1].data,
                 *ht->back().changed_fields};
    EXPECT_EQ(*ht->back().changed_fields, ChangedFields(*(*hs)[0].data, *(*hs)[1].data, ignore))
        << ext;
    EXPECT_EQ(*ht->back().changed_fields, *hs->back().changed_fields) << ext;
  }
  EXPECT_EQ(seen["a"].target_changed, (std::vector<std::string>{"p", "q", "r"}));
  EXPECT_EQ(seen["b"].target_changed, std::vector<std::string>{"q"});
  ExpectViewsEqualFold();

  // The source's update events name the version they replaced; the
  // creations name none.
  engine_.reset();
  StoreOptions so;
  so.path = dir_.sub("db");
  so.read_only = true;
  auto store = Store::Open(so);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto prev_of = [&](uint64_t seq) -> uint64_t {
    std::string bytes;
    EXPECT_TRUE((*store)->Get(Cf::kLog, keys::Log(t_, seq), &bytes).ok()) << seq;
    auto ev = ReadEvent(bytes);
    EXPECT_TRUE(ev.ok());
    if (!ev.ok() || (*ev)->body_as_PropertyChanged() == nullptr) return ~0ull;
    return (*ev)->body_as_PropertyChanged()->prev_data_seq();
  };
  for (const auto& [ext, s] : seen) {
    EXPECT_EQ(prev_of(s.v1_seq), 0u) << ext;
    EXPECT_EQ(prev_of(s.v2_seq), s.v1_seq) << ext;
  }
}

// When the target does not hold the version the source's event replaced, the
// event's changed_fields would be wrong and the sync compares documents:
// the target missed a version (two imports between syncs, the second one
// undoing part of the first), or was edited by hand since.
TEST_F(SyncTest, UpdateComparesDocumentsWhenTheTargetLacksTheReplacedVersion) {
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a","x":1,"y":1},)"
                             R"({"external_id":"m","x":1,"y":1}])").ok());
  ASSERT_TRUE(Sync(t_, s_, g_).ok());
  // a: x changes and changes back, y changes: the last import says {x, y}.
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a","x":2,"y":1}])").ok());
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a","x":1,"y":2}])").ok());
  // m: edited by hand in the target, then changed in the source.
  ASSERT_TRUE(engine_->PutTargetProperty(t_, g_, "m", R"({"external_id":"m","x":5,"y":1})").ok());
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"m","x":1,"y":2}])").ok());
  auto r = Sync(t_, s_, g_, OnConflict::kOverwrite);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.updated, 2u);
  EXPECT_EQ(r->stats.conflicts, 1u);

  auto hs = engine_->History(t_, {StreamKind::kSource, s_}, "a");
  ASSERT_TRUE(hs.ok());
  ASSERT_EQ(hs->size(), 3u);
  EXPECT_EQ(*hs->back().changed_fields, (std::vector<std::string>{"x", "y"}));
  auto ht = engine_->History(t_, Tgt(g_), "a");
  ASSERT_TRUE(ht.ok());
  ASSERT_EQ(ht->size(), 2u);
  EXPECT_EQ(*ht->back().changed_fields, std::vector<std::string>{"y"});

  ht = engine_->History(t_, Tgt(g_), "m");
  ASSERT_TRUE(ht.ok());
  ASSERT_EQ(ht->size(), 3u);  // synced, edited, synced over the edit
  EXPECT_EQ(*ht->back().changed_fields, (std::vector<std::string>{"x", "y"}));
  auto p = engine_->GetProperty(t_, Tgt(g_), "m", {});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->data, R"({"external_id":"m","x":1,"y":2})");
  ExpectViewsEqualFold();
}

// An imported update written before prev_data_seq existed (the field absent,
// read as 0; made here by rewriting this build's event without it) is synced
// by comparing the two documents: the same answer, nothing refused.
TEST_F(SyncTest, AnUpdateEventWithoutPrevDataSeqIsCompared) {
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a","x":1,"y":1}])").ok());
  ASSERT_TRUE(Sync(t_, s_, g_).ok());
  ASSERT_TRUE(Import(t_, s_, R"([{"external_id":"a","x":2,"y":1}])").ok());
  auto hs = engine_->History(t_, {StreamKind::kSource, s_}, "a");
  ASSERT_TRUE(hs.ok());
  ASSERT_EQ(hs->size(), 2u);
  const uint64_t seq = hs->back().seq;
  engine_.reset();
  {
    StoreOptions so;
    so.path = dir_.sub("db");
    auto store = Store::Open(so);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    std::string bytes;
    ASSERT_TRUE((*store)->Get(Cf::kLog, keys::Log(t_, seq), &bytes).ok());
    auto ev = ReadEvent(bytes);
    ASSERT_TRUE(ev.ok());
    const fb::PropertyChanged* p = (*ev)->body_as_PropertyChanged();
    ASSERT_NE(p, nullptr);
    ASSERT_NE(p->prev_data_seq(), 0u);
    std::vector<std::string> changed;
    for (const auto* f : *p->changed_fields()) changed.emplace_back(Sv(f));
    PropertyEventSpec spec;
    spec.change = p->change();
    spec.stream = {static_cast<StreamKind>(p->stream_kind()), p->stream_id()};
    spec.external_id = Sv(p->external_id());
    spec.version = p->version();
    spec.dense_id = p->dense_id();
    spec.hash = FromFb(p->hash());
    spec.data = Sv(p->data());
    spec.data_ref = p->data_ref();
    spec.cause = static_cast<CauseKind>(p->cause());
    spec.cause_id = p->cause_id();
    spec.source_id = p->source_id();
    spec.changed_fields = &changed;
    spec.raw_hash = p->raw_hash();
    spec.sync_hash = FromFb(p->sync_hash());
    flatbuffers::FlatBufferBuilder b;
    BuildPropertyEvent(&b, seq, (*ev)->time_us(), spec);  // prev_data_seq left out
    rocksdb::WriteBatch batch;
    ASSERT_TRUE(batch
                    .Put((*store)->cf(Cf::kLog), keys::Log(t_, seq),
                         rocksdb::Slice(reinterpret_cast<const char*>(b.GetBufferPointer()),
                                        b.GetSize()))
                    .ok());
    ASSERT_TRUE((*store)->Write(&batch, /*sync=*/true).ok());
    ASSERT_TRUE((*store)->Get(Cf::kLog, keys::Log(t_, seq), &bytes).ok());
    ASSERT_EQ((*ReadEvent(bytes))->body_as_PropertyChanged()->prev_data_seq(), 0u);
  }
  Reopen();
  auto r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.updated, 1u);
  auto ht = engine_->History(t_, Tgt(g_), "a");
  ASSERT_TRUE(ht.ok());
  ASSERT_EQ(ht->size(), 2u);
  EXPECT_EQ(*ht->back().changed_fields, std::vector<std::string>{"x"});
  ExpectViewsEqualFold();
}

// The first sync of a pair finds each id's target state by walking the
// target's states beside the source's (a merge join, sync.cc StateCursor)
// rather than by a point read per id. A target that already holds ids, some
// also in the source (the same document: unchanged; another one, edited by
// hand: a conflict), some not (runs of them longer than the walk steps over
// before it seeks), ids that are prefixes of others and ids with bytes above
// 0x7f: each source id must get the outcome a point read would give.
TEST_F(SyncTest, FirstSyncIntoAFilledTargetFindsEachIdsState) {
  std::vector<std::string> both_same, both_edited, source_only, target_only;
  for (int i = 0; i < 40; ++i) {
    std::string n = std::to_string(100 + i);
    switch (i % 8) {
      case 0: both_same.push_back("m" + n); break;
      case 1: both_edited.push_back("m" + n); break;
      case 2: case 3: source_only.push_back("m" + n); break;
      default: target_only.push_back("m" + n); break;  // runs of 4
    }
  }
  for (int i = 0; i < 30; ++i) target_only.push_back("n" + std::to_string(100 + i));  // a run of 30
  source_only.push_back("p");
  both_same.push_back("p0");
  target_only.push_back("p00");
  both_edited.push_back("p000");
  source_only.push_back("\u00e9t\u00e9");  // bytes above 0x7f, after every ASCII id
  both_same.push_back("\u00e9t\u00e9s");
  target_only.push_back("\u00e9t\u00e9z");
  source_only.push_back("a");  // before every id the target holds
  auto doc = [](const std::string& id, int v) {
    return R"({"external_id":")" + id + R"(","v":)" + std::to_string(v) + "}";
  };
  for (const auto& id : both_same) {
    ASSERT_TRUE(engine_->PutTargetProperty(t_, g_, id, doc(id, 1)).ok()) << id;
  }
  for (const auto& id : both_edited) {
    ASSERT_TRUE(engine_->PutTargetProperty(t_, g_, id, doc(id, 2)).ok()) << id;
  }
  for (const auto& id : target_only) {
    ASSERT_TRUE(engine_->PutTargetProperty(t_, g_, id, doc(id, 3)).ok()) << id;
  }
  std::string body = "[";
  for (const auto* ids : {&both_same, &both_edited, &source_only}) {
    for (const auto& id : *ids) body += (body.size() > 1 ? "," : "") + doc(id, 1);
  }
  body += "]";
  ASSERT_TRUE(Import(t_, s_, body).ok());
  auto r = Sync(t_, s_, g_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.created, source_only.size());
  EXPECT_EQ(r->stats.unchanged, both_same.size());
  EXPECT_EQ(r->stats.conflicts, both_edited.size());
  EXPECT_EQ(r->stats.updated + r->stats.removed, 0u);
  for (const auto& id : source_only) {
    auto p = engine_->GetProperty(t_, Tgt(g_), id, {});
    ASSERT_TRUE(p.ok()) << id;
    EXPECT_EQ(p->data, doc(id, 1));
    EXPECT_EQ(p->source_id, s_);
  }
  for (const auto& id : both_edited) {
    auto p = engine_->GetProperty(t_, Tgt(g_), id, {});
    ASSERT_TRUE(p.ok()) << id;
    EXPECT_EQ(p->data, doc(id, 2)) << id;  // kept
  }
  for (const auto& id : target_only) {
    auto p = engine_->GetProperty(t_, Tgt(g_), id, {});
    ASSERT_TRUE(p.ok()) << id;
    EXPECT_EQ(p->data, doc(id, 3)) << id;  // not the source's: untouched
  }
  EXPECT_EQ(List(t_, Tgt(g_)).size(),
            both_same.size() + both_edited.size() + source_only.size() + target_only.size());
  ExpectViewsEqualFold();
}

TEST_F(SyncTest, UnknownIdsAreNotFound) {
  EXPECT_EQ(Sync(t_, 99, g_).status().code(), Code::kNotFound);
  EXPECT_EQ(Sync(t_, s_, 99).status().code(), Code::kNotFound);
  TenantId other = NewTenant("other");
  EXPECT_EQ(Sync(other, s_, g_).status().code(), Code::kNotFound);
}

// A batch's puts, in its order.
struct Rec {
  uint32_t cf;
  std::string key, value;
};
std::vector<Rec> PutsOf(const rocksdb::WriteBatch& batch) {
  class Collect : public rocksdb::WriteBatch::Handler {
   public:
    explicit Collect(std::vector<Rec>* out) : out_(out) {}
    rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& k, const rocksdb::Slice& v) override {
      out_->push_back({cf, k.ToString(), v.ToString()});
      return rocksdb::Status::OK();
    }

   private:
    std::vector<Rec>* out_;
  };
  std::vector<Rec> got;
  Collect collect(&got);
  EXPECT_TRUE(batch.Iterate(&collect).ok());
  return got;
}

// A bare store, for the batch-sorting tests.
class SortPutsTest : public StoreTest {};

// SortPuts (the commit of a sync or import that goes through the WAL): records
// grouped by family, each family in key order, and of two puts of one key the
// later one still last, whether the family's run was sorted but for a tail
// (a first sync's) or not at all (an import's state in hash order).
TEST_F(SortPutsTest, GroupsByFamilySortsEachAndKeepsTheLaterPutOfAKeyLast) {
  Store& st = *store_;
  auto* state = st.cf(Cf::kState);
  auto* history = st.cf(Cf::kHistory);
  const uint32_t lo = std::min(state->GetID(), history->GetID());
  const uint32_t hi = std::max(state->GetID(), history->GetID());
  // State: in key order, then a tail that goes back (k1) and puts k3 again.
  // History: no order at all, with k2 put twice.
  rocksdb::WriteBatch batch;
  ASSERT_TRUE(batch.Put(state, "k2", "s-a").ok());
  ASSERT_TRUE(batch.Put(history, "k9", "h-a").ok());
  ASSERT_TRUE(batch.Put(state, "k3", "s-b").ok());
  ASSERT_TRUE(batch.Put(history, "k2", "h-b").ok());
  ASSERT_TRUE(batch.Put(state, "k5", "s-c").ok());
  ASSERT_TRUE(batch.Put(history, "k5", "h-c").ok());
  ASSERT_TRUE(batch.Put(state, "k1", "s-d").ok());
  ASSERT_TRUE(batch.Put(history, "k2", "h-d").ok());
  ASSERT_TRUE(batch.Put(state, "k3", "s-e").ok());
  ASSERT_TRUE(batch.Put(history, "k1", "h-e").ok());
  SortPuts(&batch, st);
  std::vector<Rec> got = PutsOf(batch);
  std::vector<std::string> want_state = {"k1=s-d", "k2=s-a", "k3=s-b", "k3=s-e", "k5=s-c"};
  std::vector<std::string> want_history = {"k1=h-e", "k2=h-b", "k2=h-d", "k5=h-c", "k9=h-a"};
  const auto& want_lo = state->GetID() == lo ? want_state : want_history;
  const auto& want_hi = state->GetID() == lo ? want_history : want_state;
  ASSERT_EQ(got.size(), 10u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].cf, i < 5 ? lo : hi) << i;
    EXPECT_EQ(got[i].key + "=" + got[i].value, i < 5 ? want_lo[i] : want_hi[i - 5]) << i;
  }
  // Written, the later put of each key is the one that holds.
  ASSERT_TRUE(st.Write(&batch, /*sync=*/false).ok());
  std::string v;
  ASSERT_TRUE(st.Get(Cf::kState, "k3", &v).ok());
  EXPECT_EQ(v, "s-e");
  ASSERT_TRUE(st.Get(Cf::kHistory, "k2", &v).ok());
  EXPECT_EQ(v, "h-d");
}

// AppendSortedPuts (a one-batch commit: the view records appended to the
// log's): the records the log batch held stay first and as they were, then
// the view's records as SortPuts orders them, long values (two-byte length
// prefixes) included. A batch holding anything but puts appends nothing.
TEST_F(SortPutsTest, AppendingKeepsWhatTheBatchHeldAndAddsTheSortedRecords) {
  Store& st = *store_;
  auto* log = st.cf(Cf::kLog);
  auto* state = st.cf(Cf::kState);
  const std::string long_value(300, 'v');
  rocksdb::WriteBatch out;
  ASSERT_TRUE(out.Put(log, "l2", "e-2").ok());
  ASSERT_TRUE(out.Put(log, "l1", "e-1").ok());  // not sorted: not touched
  rocksdb::WriteBatch views;
  ASSERT_TRUE(views.Put(state, "k3", long_value).ok());
  ASSERT_TRUE(views.Put(state, "k1", "s-a").ok());
  ASSERT_TRUE(views.Put(state, "k3", "s-b").ok());
  ASSERT_TRUE(AppendSortedPuts(views, st, &out));
  std::vector<Rec> got = PutsOf(out);
  std::vector<std::string> want = {"l2=e-2", "l1=e-1", "k1=s-a", "k3=" + long_value, "k3=s-b"};
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].cf, i < 2 ? log->GetID() : state->GetID()) << i;
    EXPECT_EQ(got[i].key + "=" + got[i].value, want[i]) << i;
  }
  EXPECT_EQ(out.Count(), 5u);
  // Written, it is one batch: the later put of k3 holds.
  ASSERT_TRUE(st.Write(&out, /*sync=*/false).ok());
  std::string v;
  ASSERT_TRUE(st.Get(Cf::kState, "k3", &v).ok());
  EXPECT_EQ(v, "s-b");
  ASSERT_TRUE(st.Get(Cf::kLog, "l1", &v).ok());
  EXPECT_EQ(v, "e-1");

  rocksdb::WriteBatch held;
  ASSERT_TRUE(held.Put(log, "l3", "e-3").ok());
  const std::string before = held.Data();
  rocksdb::WriteBatch with_delete;
  ASSERT_TRUE(with_delete.Put(state, "k2", "s-c").ok());
  ASSERT_TRUE(with_delete.Delete(state, "k1").ok());
  EXPECT_FALSE(AppendSortedPuts(with_delete, st, &held));
  EXPECT_EQ(held.Data(), before);
  EXPECT_EQ(held.Count(), 1u);
}

}  // namespace
}  // namespace syncmgr::testing
