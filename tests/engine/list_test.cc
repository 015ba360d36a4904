// The current-state list (engine/reads.cc, StateCursor) over a log whose
// order is not the ids' order: ids imported shuffled, then updated in
// reverse order, edited by hand and removed, so a list's data lies all over
// the log. Checked against a model, whole and in pages across the cursor's
// batches (128 rows), with each filter, with the log prefetch on and off
// (engine/log_prefetch.h), and with a log record gone (Corruption).
// Real engine, real RocksDB in a temp dir.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/metadata.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/keys.h"
#include "engine/reader_thread.h"
#include "engine/log_prefetch.h"
#include "engine/state_read.h"
#include "engine/store.h"
#include "tests/engine/damage.h"
#include "tests/engine/engine_fixture.h"
#include "views_generated.h"

namespace syncmgr::testing {
namespace {

constexpr int kItems = 700;  // five and a half batches of the cursor

std::string Id(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "L%05d", i);
  return buf;
}

// In canonical form (keys sorted), as the engine stores and lists it.
std::string Doc(int i, const std::string& tag) {
  return "{\"external_id\":\"" + Id(i) + "\",\"pad\":\"" + std::string(200 + (i % 13) * 10, 'x') +
         "\",\"tag\":\"" + tag + "\"}";
}

std::string Body(const std::vector<int>& ids, const std::string& tag) {
  std::string body = "[";
  for (size_t k = 0; k < ids.size(); ++k) body += (k ? "," : "") + Doc(ids[k], tag);
  return body + "]";
}

// The day-1 documents: updated (tag "b") for i % 3 == 0, else as on day 0.
std::string DayOneBody(const std::vector<int>& ids) {
  std::string body = "[";
  for (size_t k = 0; k < ids.size(); ++k) {
    body += (k ? "," : "") + Doc(ids[k], ids[k] % 3 == 0 ? "b" : "a");
  }
  return body + "]";
}

class ListTest : public EngineTest,
                 public ::testing::WithParamInterface<std::tuple<bool, bool>> {
 protected:
  void SetUp() override {
    Open();
    auto t = engine_->CreateTenant("acme");
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    SourceSpec ss;
    ss.name = "portal";
    ss.max_removal_ratio = 1.0;
    ASSERT_TRUE(engine_->CreateSource(1, ss).ok());
    TargetSpec ts;
    ts.name = "website";
    ASSERT_TRUE(engine_->CreateTarget(1, ts).ok());
    BuildHistory();
  }

  // GetParam(): the list prefetch on or off, the list's reader threads on
  // or off. Bulk ingestion from 4 KiB on, so the imports and syncs land in
  // table files, which the prefetch reads.
  void Open() {
    engine_.reset();
    EngineOptions o;
    o.path = dir_.sub("db");
    o.write_chunk_bytes = 48 << 10;
    o.import_buffer_bytes = 16 << 10;
    o.bulk_ingest_min_bytes = 4 << 10;
    o.list_prefetch = std::get<0>(GetParam());
    o.read_ahead = std::get<1>(GetParam());
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
  }

  // Day 0: every id, shuffled; sync. Day 1: a third of them updated, in
  // reverse id order, some removed; sync. Then manual edits. The model
  // follows along; after_sync0_ is the seq the first sync ended at.
  void BuildHistory() {
    std::vector<int> ids(kItems);
    for (int i = 0; i < kItems; ++i) ids[i] = i;
    std::mt19937 rng(18);
    std::shuffle(ids.begin(), ids.end(), rng);
    ImportOptions full;
    full.mode = ImportMode::kFull;
    ASSERT_TRUE(engine_->Import(1, 1, full, Body(ids, "a")).ok());
    for (int i = 0; i < kItems; ++i) model_[Id(i)] = Doc(i, "a");
    auto s0 = engine_->Sync(1, 1, 1, SyncOptions());
    ASSERT_TRUE(s0.ok()) << s0.status().ToString();
    after_sync0_ = engine_->LastSeq(1).value();

    std::vector<int> day1;
    for (int i = kItems - 1; i >= 0; --i) {
      if (i % 11 == 5) continue;  // removed
      day1.push_back(i);
    }
    ASSERT_TRUE(engine_->Import(1, 1, full, DayOneBody(day1)).ok());
    for (int i = 0; i < kItems; ++i) {
      if (i % 11 == 5) {
        model_.erase(Id(i));
      } else if (i % 3 == 0) {
        model_[Id(i)] = Doc(i, "b");
        changed_.insert(Id(i));
      }
    }
    ASSERT_TRUE(engine_->Sync(1, 1, 1, SyncOptions()).ok());
    for (int i = 1; i < kItems; i += 97) {
      if (!model_.count(Id(i))) continue;
      const std::string doc = "{\"by\":\"hand\",\"n\":" + std::to_string(i) + "}";  // canonical
      auto put = engine_->PutTargetProperty(1, 1, Id(i), doc);
      ASSERT_TRUE(put.ok()) << put.status().ToString();
      target_model_[Id(i)] = doc;
      manual_.insert(Id(i));
    }
    // Reopened: the memtables are flushed, so every record is in a table file.
    Open();
  }

  // The expected rows of a stream: (id, data) in id order.
  std::vector<std::pair<std::string, std::string>> Expected(StreamRef s) const {
    std::map<std::string, std::string> m = model_;
    if (s.kind == StreamKind::kTarget) {
      for (const auto& [id, doc] : target_model_) m[id] = doc;
    }
    return {m.begin(), m.end()};
  }

  static std::vector<std::pair<std::string, std::string>> Pairs(
      const std::vector<PropertyRecord>& rows) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const PropertyRecord& r : rows) out.emplace_back(r.external_id, r.data);
    return out;
  }

  std::map<std::string, std::string> model_;         // the source's rows
  std::map<std::string, std::string> target_model_;  // hand edits over them
  std::set<std::string> changed_;                    // updated by day 1
  std::set<std::string> manual_;
  uint64_t after_sync0_ = 0;
};

TEST_P(ListTest, WholeListIsInIdOrderWithEachRowsData) {
  for (StreamRef s : {Src(1), Tgt(1)}) {
    const auto want = Expected(s);
    const auto got = Pairs(List(1, s));
    ASSERT_EQ(got.size(), want.size()) << (s.kind == StreamKind::kSource ? "source" : "target");
    EXPECT_TRUE(got == want) << (s.kind == StreamKind::kSource ? "source" : "target");
  }
}

TEST_P(ListTest, PagesWithAfterAndLimitAcrossBatches) {
  const auto want = Expected(Tgt(1));
  for (uint64_t page : {1u, 127u, 128u, 129u, 300u}) {
    std::vector<std::pair<std::string, std::string>> all;
    ListOptions o;
    o.limit = page;
    for (int round = 0; round < kItems + 2; ++round) {
      const auto rows = Pairs(List(1, Tgt(1), o));
      ASSERT_LE(rows.size(), page);
      if (rows.empty()) break;
      all.insert(all.end(), rows.begin(), rows.end());
      o.after = rows.back().first;
    }
    ASSERT_EQ(all.size(), want.size()) << "page " << page;
    EXPECT_TRUE(all == want) << "page " << page;
  }
}

TEST_P(ListTest, ChangedSinceAndManuallyModified) {
  ListOptions since;
  since.changed_since = after_sync0_;
  std::vector<std::string> want;
  for (const auto& [id, doc] : Expected(Tgt(1))) {
    if (changed_.count(id) || manual_.count(id)) want.push_back(id);
  }
  std::vector<std::string> got;
  for (const PropertyRecord& r : List(1, Tgt(1), since)) got.push_back(r.external_id);
  EXPECT_EQ(got, want);
  // The same with a limit that cuts inside the first batch of the scan.
  since.limit = 20;
  got.clear();
  for (const PropertyRecord& r : List(1, Tgt(1), since)) got.push_back(r.external_id);
  EXPECT_EQ(got, std::vector<std::string>(want.begin(), want.begin() + 20));

  ListOptions manual;
  manual.manually_modified = true;
  const auto rows = List(1, Tgt(1), manual);
  ASSERT_EQ(rows.size(), manual_.size());
  for (const PropertyRecord& r : rows) {
    EXPECT_TRUE(r.manually_modified);
    EXPECT_EQ(r.data, target_model_.at(r.external_id));
  }
}

TEST_P(ListTest, AMissingLogRecordIsCorruption) {
  // A row loses its log record: in the cursor's fourth batch (read by a
  // reader thread when on), then also one in its second (read in the
  // caller's thread). The list hands out the batches before the first
  // damaged one whole, then the error naming its row; nothing of that batch.
  const auto want = Expected(Src(1));
  for (size_t row : {450u, 200u}) {
    SCOPED_TRACE(row);
    const std::string victim = std::next(want.begin(), static_cast<long>(row))->first;
    engine_.reset();
    ASSERT_NO_FATAL_FAILURE(DeleteDataRecord(dir_.sub("db"), 1, Src(1), victim));
    Open();
    auto c = engine_->ListProperties(1, Src(1), ListOptions());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    PropertyRecord r;
    size_t n = 0;
    while ((*c)->Next(&r)) ++n;
    EXPECT_EQ((*c)->status().code(), Code::kCorruption) << (*c)->status().ToString();
    EXPECT_NE((*c)->status().message().find(victim), std::string::npos)
        << (*c)->status().ToString();
    EXPECT_EQ(n, row / 128 * 128);
    // And it stays ended.
    EXPECT_FALSE((*c)->Next(&r));
  }
}

// Reader threads: a long list starts them at its second batch and ends
// them with its cursor; past max(2, cores) lists at once, a list reads in
// its caller's thread; every list is whole either way.
TEST_P(ListTest, ReaderThreadsAreBoundedAndEveryListIsWhole) {
  const size_t before = ReaderThread::Running();
  const auto want = Expected(Tgt(1));
  const size_t cap = std::max<size_t>(2, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<PropertyCursor>> cursors;
  std::vector<std::vector<std::pair<std::string, std::string>>> got;
  for (size_t i = 0; i < cap + 2; ++i) {
    auto c = engine_->ListProperties(1, Tgt(1), ListOptions());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cursors.push_back(std::move(*c));
    got.emplace_back();
  }
  // Each past its second batch, all open at once.
  PropertyRecord r;
  for (size_t i = 0; i < cursors.size(); ++i) {
    for (int k = 0; k < 300 && cursors[i]->Next(&r); ++k) got[i].emplace_back(r.external_id, r.data);
  }
  const size_t running = ReaderThread::Running() - before;
  EXPECT_LE(running, cap);
  if (std::get<1>(GetParam())) {
    EXPECT_GE(running, 1u);
  } else {
    EXPECT_EQ(running, 0u);
  }
  for (size_t i = 0; i < cursors.size(); ++i) {
    while (cursors[i]->Next(&r)) got[i].emplace_back(r.external_id, r.data);
    EXPECT_TRUE(cursors[i]->status().ok()) << cursors[i]->status().ToString();
    EXPECT_TRUE(got[i] == want) << "list " << i;
  }
  cursors.clear();
  EXPECT_EQ(ReaderThread::Running(), before);
  // A list dropped halfway (a client gone) ends its readers too.
  auto c = engine_->ListProperties(1, Tgt(1), ListOptions());
  ASSERT_TRUE(c.ok());
  for (int k = 0; k < 260; ++k) ASSERT_TRUE((*c)->Next(&r));
  c->reset();
  EXPECT_EQ(ReaderThread::Running(), before);
}

INSTANTIATE_TEST_SUITE_P(PrefetchAndReaders, ListTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "Prefetch" : "NoPrefetch") +
                                  (std::get<1>(info.param) ? "Readers" : "NoReaders");
                         });

// LogPrefetch on its own: which files a sample selects.
TEST(LogPrefetchTest, ReadsTheFilesAListWillReadMuchOf) {
  TempDir dir;
  {
    EngineOptions o;
    o.path = dir.sub("db");
    o.write_chunk_bytes = 48 << 10;
    o.import_buffer_bytes = 16 << 10;
    o.bulk_ingest_min_bytes = 4 << 10;
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_TRUE((*e)->CreateTenant("acme").ok());
    SourceSpec ss;
    ss.name = "portal";
    ASSERT_TRUE((*e)->CreateSource(1, ss).ok());
    std::vector<int> ids(kItems);
    for (int i = 0; i < kItems; ++i) ids[i] = i;
    ASSERT_TRUE((*e)->Import(1, 1, ImportOptions(), Body(ids, "a")).ok());
  }
  StoreOptions so;
  so.path = dir.sub("db");
  so.read_only = true;
  auto store = Store::Open(so);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<std::string> sample;
  for (int i = 0; i < kItems; i += 7) {
    std::string value;
    auto st = ReadStateRecord(**store, 1, Src(1), Id(i), &value);
    ASSERT_TRUE(st.ok() && *st != nullptr);
    sample.push_back(keys::Log(1, (*st)->data_seq()));
  }
  // The tenant's log files, and their 4 KiB blocks.
  rocksdb::ColumnFamilyMetaData meta;
  (*store)->db()->GetColumnFamilyMetaData((*store)->cf(Cf::kLog), &meta);
  size_t files = 0;
  uint64_t blocks = 0;
  uint64_t file_blocks = 0;  // of the file holding sample.front()
  for (const auto& level : meta.levels) {
    for (const auto& f : level.files) {
      ++files;
      blocks += f.size / 4096 + 1;
      if (sample.front() >= f.smallestkey && sample.front() <= f.largestkey) {
        file_blocks = f.size / 4096 + 1;
      }
    }
  }
  ASSERT_GE(files, 3u);
  ASSERT_GT(file_blocks, 0u);
  // The whole list: every file holding its data is read.
  auto all = LogPrefetch::Start(**store, 1, sample, kItems);
  ASSERT_NE(all, nullptr);
  EXPECT_GE(all->files(), 1u);
  EXPECT_GT(all->bytes(), 0u);
  all.reset();  // stops and joins
  // A list that will read one record per two blocks of the tenant's log
  // reads all of it, though its sample lies in one file.
  auto whole = LogPrefetch::Start(**store, 1, {sample.front()}, (blocks + 1) / 2);
  ASSERT_NE(whole, nullptr);
  EXPECT_EQ(whole->files(), files);
  whole.reset();
  // Below that, the sample decides: only the file it lies in.
  auto one = LogPrefetch::Start(**store, 1, {sample.front()}, file_blocks);
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->files(), 1u);
  one.reset();
  // A list of a few rows reads none: its random reads cost less.
  EXPECT_EQ(LogPrefetch::Start(**store, 1, {sample.front()}, 1), nullptr);
  EXPECT_EQ(LogPrefetch::Start(**store, 1, {}, kItems), nullptr);
  // Another tenant's list reads none of this tenant's files.
  EXPECT_EQ(LogPrefetch::Start(**store, 2, {keys::Log(2, 5)}, 1u << 30), nullptr);
}

}  // namespace
}  // namespace syncmgr::testing
