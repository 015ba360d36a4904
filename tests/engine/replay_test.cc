// Views = fold(log): after a long random workload of imports, syncs and
// manual edits, a fold of the log equals the live views byte for byte, a
// replayed directory serves the same state, and a view altered behind the
// engine's back is caught.
#include <gtest/gtest.h>

#include <map>
#include <chrono>
#include <random>
#include <thread>

#include <rocksdb/db.h>

#include "engine/fold.h"
#include "tests/engine/engine_fixture.h"

namespace syncmgr::testing {
namespace {

class ReplayTest : public EngineTest {};

std::string Item(const std::string& id, int v) {
  return "{\"external_id\":\"" + id + "\",\"v\":" + std::to_string(v) +
         ",\"scraped_at\":\"" + std::to_string(v * 7) + "\"}";
}

// Runs a seeded random workload; returns the model of every source's state.
std::map<uint32_t, std::map<std::string, int>> RunWorkload(EngineTest* t, Engine* e,
                                                           TenantId tenant,
                                                           std::vector<uint32_t> sources,
                                                           std::vector<uint32_t> targets,
                                                           int steps, uint32_t seed) {
  std::mt19937 rng(seed);
  std::map<uint32_t, std::map<std::string, int>> model;
  for (int step = 0; step < steps; ++step) {
    int what = rng() % 10;
    uint32_t s = sources[rng() % sources.size()];
    uint32_t g = targets[rng() % targets.size()];
    if (what < 5) {
      bool full = rng() % 4 == 0;
      std::map<std::string, int> batch;
      int n = 1 + rng() % 30;
      for (int i = 0; i < n; ++i) batch["p" + std::to_string(rng() % 60)] = rng() % 4;
      std::string body = "[";
      for (const auto& [id, v] : batch) body += (body.size() > 1 ? "," : "") + Item(id, v);
      body += "]";
      ImportOptions o;
      o.mode = full ? ImportMode::kFull : ImportMode::kUpsert;
      o.allow_mass_removal = true;
      auto r = e->Import(tenant, s, o, body);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (full) model[s].clear();
      for (const auto& [id, v] : batch) model[s][id] = v;
    } else if (what < 8) {
      SyncOptions o;
      o.on_conflict = rng() % 2 ? OnConflict::kKeep : OnConflict::kOverwrite;
      o.dry_run = rng() % 5 == 0;
      auto r = e->Sync(tenant, s, g, o);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
    } else if (what < 9) {
      std::string id = "p" + std::to_string(rng() % 60);
      auto r = e->PutTargetProperty(tenant, g, id, "{\"manual\":" + std::to_string(rng() % 3) + "}");
      EXPECT_TRUE(r.ok()) << r.status().ToString();
    } else {
      std::string id = "p" + std::to_string(rng() % 60);
      auto r = e->DeleteTargetProperty(tenant, g, id);
      EXPECT_TRUE(r.ok() || r.status().code() == Code::kNotFound) << r.status().ToString();
    }
  }
  (void)t;
  return model;
}

TEST_F(ReplayTest, RandomWorkloadViewsEqualFoldOfLog) {
  TenantId a = NewTenant("a");
  TenantId b = NewTenant("b");
  std::vector<uint32_t> sa = {NewSource(a, {"scraped_at"}, 1.0), NewSource(a, {}, 1.0)};
  std::vector<uint32_t> ta = {NewTarget(a), NewTarget(a)};
  std::vector<uint32_t> sb = {NewSource(b, {}, 1.0)};
  std::vector<uint32_t> tb = {NewTarget(b)};
  auto model = RunWorkload(this, engine_.get(), a, sa, ta, 300, 1234);
  RunWorkload(this, engine_.get(), b, sb, tb, 100, 99);
  ExpectViewsEqualFold();
  // The source lists equal the test's own model.
  for (uint32_t s : sa) {
    auto list = List(a, Src(s));
    ASSERT_EQ(list.size(), model[s].size());
    for (const auto& rec : list) {
      ASSERT_TRUE(model[s].count(rec.external_id));
      EXPECT_NE(rec.data.find("\"v\":" + std::to_string(model[s][rec.external_id])),
                std::string::npos);
    }
  }
  // Reopening (bitmaps and counters reloaded) changes nothing.
  Reopen();
  RunWorkload(this, engine_.get(), a, sa, ta, 50, 7);
  ExpectViewsEqualFold();
}

// Equal sets encode to equal bytes whatever their history. A bitmap decoded
// from the store holds run containers; after removals, a run container can
// tie in size with the array the same set gets when built afresh, and
// Roaring's run optimisation keeps whichever it has. Found by the kill loop:
// a live bitmap reloaded after a restart differed from the fold's.
TEST(EncodeBitmapTest, EqualSetsGiveEqualBytesWhateverTheirHistory) {
  Bitmap fresh;
  for (uint32_t v : {1u, 2u, 5u, 6u}) fresh.add(v);
  Bitmap dense;
  for (uint32_t v = 1; v <= 8; ++v) dense.add(v);
  auto decoded = DecodeBitmap(EncodeBitmap(dense));  // run containers now
  ASSERT_TRUE(decoded.ok());
  Bitmap reloaded = std::move(decoded).value();
  for (uint32_t v : {3u, 4u, 7u, 8u}) reloaded.remove(v);
  ASSERT_EQ(fresh, reloaded);
  EXPECT_EQ(EncodeBitmap(fresh), EncodeBitmap(reloaded));
  // A run that ends at 65535, the last value of a container, reloaded and
  // grown into the next container. (CRoaring 0.2.66's removeRunCompression
  // wrote out of bounds here: the kill loop's server crashed on it once a
  // source's dense ids reached 65,536.)
  Bitmap edge;
  for (uint32_t v = 65517; v <= 65532; ++v) edge.add(v);
  auto edge_decoded = DecodeBitmap(EncodeBitmap(edge));
  ASSERT_TRUE(edge_decoded.ok());
  Bitmap grown = std::move(edge_decoded).value();
  Bitmap grown_fresh;
  for (uint32_t v = 65517; v <= 65540; ++v) {
    grown.add(v);
    grown_fresh.add(v);
  }
  EXPECT_EQ(EncodeBitmap(grown), EncodeBitmap(grown_fresh));
  // A bitset container (more than 4,096 values) shrunk below the limit.
  Bitmap big;
  for (uint32_t v = 0; v < 8200; v += 2) big.add(v);  // 4,100 values, no runs
  auto big_decoded = DecodeBitmap(EncodeBitmap(big));
  ASSERT_TRUE(big_decoded.ok());
  Bitmap shrunk = std::move(big_decoded).value();
  Bitmap small;
  for (uint32_t v = 0; v < 8200; v += 2) {
    if (v < 20) {
      shrunk.remove(v);
    } else {
      small.add(v);
    }
  }
  ASSERT_EQ(shrunk, small);
  EXPECT_EQ(EncodeBitmap(shrunk), EncodeBitmap(small));
  // And the same for sets of every shape around the array/bitset/run limits.
  std::mt19937 rng(5);
  for (int round = 0; round < 200; ++round) {
    Bitmap a;
    uint32_t n = 1 + rng() % 9000;
    for (uint32_t i = 0; i < n; ++i) a.add(rng() % 10000);
    auto b = DecodeBitmap(EncodeBitmap(a));
    ASSERT_TRUE(b.ok());
    Bitmap again = std::move(b).value();
    Bitmap fresh_again;
    for (int i = 0; i < 50; ++i) {
      uint32_t v = rng() % 10000;
      again.remove(v);
      a.remove(v);
    }
    for (uint32_t v : a) fresh_again.add(v);
    ASSERT_EQ(again, fresh_again);
    ASSERT_EQ(EncodeBitmap(again), EncodeBitmap(fresh_again)) << "round " << round;
  }
}

// EncodeBitmap reads the values out in pieces of a few thousand: the bytes
// must be those of the set built from all its values at once (the encoding
// every directory written before holds). A live set of a large target:
// 1.3 M dense ids over 20 containers, with scattered holes, a run of
// removals and an almost empty container, so that pieces end inside
// bitset, array and run containers.
TEST(EncodeBitmapTest, ReadingTheValuesInPiecesChangesNoByte) {
  std::mt19937 rng(7);
  Bitmap live;
  for (uint32_t v = 0; v < 1'300'000; ++v) {
    const bool hole = rng() % 50 == 0 || (v >= 400'000 && v < 460'000) ||
                      (v >= 720'896 && v < 786'432 && v % 1000 != 0);
    if (!hole) live.add(v);
  }
  std::vector<uint32_t> values(live.cardinality());
  live.toUint32Array(values.data());
  Bitmap whole(values.size(), values.data());
  whole.runOptimize();
  whole.shrinkToFit();
  std::string want(whole.getSizeInBytes(/*portable=*/true), '\0');
  want.resize(whole.write(want.data(), /*portable=*/true));
  EXPECT_EQ(EncodeBitmap(live), want);
  auto decoded = DecodeBitmap(want);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(EncodeBitmap(*decoded), want);  // from run containers too
}

// The live path reloads bitmaps from the store after a restart; the fold
// keeps its own in memory. Restarts between operations must not show.
TEST_F(ReplayTest, ViewsEqualFoldAcrossRestarts) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t, {}, 1.0);
  std::string body = "[";
  for (int i = 1; i <= 8; ++i) body += (i > 1 ? "," : "") + Item("p" + std::to_string(i), 1);
  ASSERT_TRUE(Import(t, s, body + "]").ok());
  Reopen();
  body = "[" + Item("p1", 1) + "," + Item("p2", 1) + "," + Item("p5", 1) + "," + Item("p6", 1) + "]";
  ASSERT_TRUE(Import(t, s, body, ImportMode::kFull, /*allow=*/true).ok());
  ExpectViewsEqualFold();
  // A random workload with a restart every 25 operations.
  std::vector<uint32_t> sources = {s, NewSource(t, {}, 1.0)};
  std::vector<uint32_t> targets = {NewTarget(t)};
  for (int round = 0; round < 8; ++round) {
    RunWorkload(this, engine_.get(), t, sources, targets, 25, 100 + round);
    Reopen();
  }
  ExpectViewsEqualFold();
}

TEST_F(ReplayTest, ReplayedDirectoryServesTheStateAsOfASeq) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t, {}, 1.0);
  uint32_t g = NewTarget(t);
  ASSERT_TRUE(Import(t, s, "[" + Item("a", 1) + "," + Item("b", 1) + "]").ok());
  ASSERT_TRUE(Sync(t, s, g).ok());
  uint64_t then = *engine_->LastSeq(t);
  auto before_src = List(t, Src(s));
  auto before_tgt = List(t, Tgt(g));
  ASSERT_TRUE(Import(t, s, "[" + Item("a", 2) + "]", ImportMode::kFull).ok());
  ASSERT_TRUE(Sync(t, s, g).ok());

  // as_of reads on the live engine.
  ListOptions o;
  o.as_of_seq = then;
  auto as_of_tgt = List(t, Tgt(g), o);
  ASSERT_EQ(as_of_tgt.size(), before_tgt.size());
  for (size_t i = 0; i < as_of_tgt.size(); ++i) {
    EXPECT_EQ(as_of_tgt[i].external_id, before_tgt[i].external_id);
    EXPECT_EQ(as_of_tgt[i].data, before_tgt[i].data);
    EXPECT_EQ(as_of_tgt[i].version, before_tgt[i].version);
  }
  ReadOptions ro;
  ro.as_of_seq = then;
  auto b_then = engine_->GetProperty(t, Tgt(g), "b", ro);
  ASSERT_TRUE(b_then.ok());
  EXPECT_EQ(engine_->GetProperty(t, Tgt(g), "b", {}).status().code(), Code::kNotFound);

  // A replayed directory at that seq serves the same state.
  ReplayOptions rep;
  rep.as_of_seq = then;
  ASSERT_TRUE(engine_->ReplayInto(dir_.sub("replayed"), rep).ok());
  EngineOptions eo;
  eo.path = dir_.sub("replayed");
  auto replayed = Engine::Open(eo);
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_EQ(*(*replayed)->LastSeq(t), then);
  auto cursor = (*replayed)->ListProperties(t, Tgt(g), {});
  ASSERT_TRUE(cursor.ok());
  PropertyRecord rec;
  size_t i = 0;
  while ((*cursor)->Next(&rec)) {
    ASSERT_LT(i, before_tgt.size());
    EXPECT_EQ(rec.external_id, before_tgt[i].external_id);
    EXPECT_EQ(rec.data, before_tgt[i].data);
    EXPECT_EQ(rec.seq, before_tgt[i].seq);
    ++i;
  }
  EXPECT_EQ(i, before_tgt.size());
  std::vector<std::string> diffs;
  EXPECT_TRUE((*replayed)->VerifyViews(&diffs).ok());
  // Replaying into an existing directory is refused.
  EXPECT_EQ(engine_->ReplayInto(dir_.sub("replayed"), rep).code(), Code::kInvalidArgument);
}

TEST_F(ReplayTest, VerifyNamesAViewAlteredBehindTheEnginesBack) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  ASSERT_TRUE(Import(t, s, "[" + Item("a", 1) + "]").ok());
  engine_.reset();
  {
    // Tamper with the state view directly through RocksDB.
    rocksdb::DBOptions dbo;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(dbo, dir_.sub("db"), &names).ok());
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(dbo, dir_.sub("db"), cfs, &handles, &db).ok());
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "history") {
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[i], "bogus-key", "x").ok());
      }
    }
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  Reopen();
  std::vector<std::string> diffs;
  Status st = engine_->VerifyViews(&diffs);
  EXPECT_EQ(st.code(), Code::kCorruption);
  ASSERT_FALSE(diffs.empty());
  EXPECT_NE(diffs[0].find("history"), std::string::npos) << diffs[0];
  EXPECT_NE(diffs[0].find("bogus-key"), std::string::npos) << diffs[0];
}

TEST_F(ReplayTest, SeqAtTimeFindsTheLastEventAtOrBeforeATime) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  ASSERT_TRUE(Import(t, s, "[" + Item("a", 1) + "]").ok());
  uint64_t first = *engine_->LastSeq(t);
  auto p = engine_->GetProperty(t, Src(s), "a", {});
  ASSERT_TRUE(p.ok());
  int64_t then = p->updated_at_us;
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(Import(t, s, "[" + Item("a", 2) + "]").ok());
  EXPECT_EQ(*engine_->SeqAtTime(t, then), first);
  EXPECT_EQ(*engine_->SeqAtTime(t, 0), 0u);
  EXPECT_EQ(*engine_->SeqAtTime(t, INT64_MAX), *engine_->LastSeq(t));
}

TEST_F(ReplayTest, SecondaryInstanceReadsADirectoryAnotherEngineHasOpen) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  ASSERT_TRUE(Import(t, s, "[" + Item("a", 1) + "," + Item("b", 2) + "]").ok());
  EngineOptions o;
  o.path = dir_.sub("db");
  o.secondary_path = dir_.sub("secondary");
  auto follower = Engine::Open(o);
  ASSERT_TRUE(follower.ok()) << follower.status().ToString();
  EXPECT_EQ(*(*follower)->LastSeq(t), *engine_->LastSeq(t));
  Status rs = (*follower)->ReplayInto(dir_.sub("copy"), {});
  ASSERT_TRUE(rs.ok()) << rs.ToString();
  EXPECT_EQ((*follower)->CreateTenant("x").status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace syncmgr::testing
