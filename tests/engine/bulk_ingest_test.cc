// Bulk ingestion (EngineOptions::bulk_ingest_min_bytes, engine/bulk_ingest.h):
//   * where the files land: a large import's log chunks at the bottom level
//     of the log family, its views as table files, staging emptied;
//   * the last write of a key wins when a batch writes it twice;
//   * a power cut at every file op of a bulk import and its first sync
//     (forked children through FaultFs) leaves each operation wholly there
//     or wholly absent, the acknowledged ones there, views == fold(log), and
//     no staging file behind after the next open;
//   * a failure (EIO) at every file op of the same work, in process: the
//     same checks after a restart; and at each MANIFEST sync of its
//     ingestions, which RocksDB alone would leave unopenable;
//   * IngestPipeline: batches ingested on its threads, and a failure at a
//     write of a chunk's table file on one of them fails the import with
//     nothing visible and no staging file behind.
// CI takes every 8th op of each (the kinds of step repeat per file);
// SYNCMGR_BULK_STRIDE=1 takes every one.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/metadata.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "engine/bulk_ingest.h"
#include "engine/store.h"
#include "tests/engine/child_process.h"
#include "tests/engine/engine_fixture.h"
#include "tests/support/fault_fs.h"

namespace syncmgr::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kItems = 120;
constexpr auto kChildTimeout = std::chrono::seconds(60);

uint64_t Stride() {
  const char* env = std::getenv("SYNCMGR_BULK_STRIDE");
  int n = env != nullptr ? std::atoi(env) : 0;
  return n > 0 ? static_cast<uint64_t>(n) : 8;
}

std::string ItemId(int i) { return "it-" + std::to_string(1000 + i); }

// ~400 bytes per item: with the options below the import writes several
// chunks ahead and both the import and the sync commit by ingestion.
std::string Body(int items, const std::string& tag) {
  std::string body = "[";
  for (int i = 0; i < items; ++i) {
    body += (i ? "," : "") + std::string("{\"external_id\":\"") + ItemId(i) + "\",\"tag\":\"" +
            tag + "\",\"pad\":\"" + std::string(300 + (i % 7) * 10, 'x') + "\"}";
  }
  return body + "]";
}

EngineOptions BulkOptions(const std::string& path, rocksdb::Env* env = nullptr) {
  EngineOptions o;
  o.path = path;
  o.env = env;
  o.write_chunk_bytes = 12 << 10;
  o.import_buffer_bytes = 8 << 10;
  o.bulk_ingest_min_bytes = 4 << 10;
  return o;
}

// Items of the stream present, after checking each is all-or-nothing.
int Present(Engine& e, StreamRef s) {
  int n = 0;
  for (int i = 0; i < kItems; ++i) n += e.GetProperty(1, s, ItemId(i), {}).ok() ? 1 : 0;
  return n;
}

std::vector<std::string> StagingFiles(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& f : fs::directory_iterator(path)) {
    std::string name = f.path().filename().string();
    if (name.starts_with(BulkIngester::kStagingPrefix)) out.push_back(name);
  }
  return out;
}

// A data directory with tenant 1, source 1 and target 1 (SeedCatalog).
class BulkIngestTest : public ::testing::Test {
 protected:
  void SetUp() override { SeedCatalog(path_, "bulk"); }

  TempDir dir_;
  const std::string path_ = dir_.sub("db");
};

TEST_F(BulkIngestTest, LogChunksLandAtTheBottomLevelAndViewsAsTableFiles) {
  const std::string& path = path_;
  auto e = Engine::Open(BulkOptions(path));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto r = (*e)->Import(1, 1, ImportOptions(), Body(kItems, "a"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto s = (*e)->Sync(1, 1, 1, SyncOptions());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Present(**e, Src(1)), kItems);
  EXPECT_EQ(Present(**e, Tgt(1)), kItems);
  std::vector<std::string> diffs;
  Status v = (*e)->VerifyViews(&diffs);
  EXPECT_TRUE(v.ok()) << v.ToString() << (diffs.empty() ? "" : "\n" + diffs[0]);
  EXPECT_TRUE(StagingFiles(path).empty());
  // What RocksDB holds, read beside the open engine (a read-only open
  // flushes nothing, and a clean close would flush the memtables:
  // Store::FlushForClose), so table files are what the ingestions added.
  StoreOptions so;
  so.path = path;
  so.read_only = true;
  auto store = Store::Open(so);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  rocksdb::ColumnFamilyMetaData log;
  (*store)->db()->GetColumnFamilyMetaData((*store)->cf(Cf::kLog), &log);
  ASSERT_FALSE(log.levels.empty());
  const int bottom = static_cast<int>(log.levels.size()) - 1;
  uint64_t bottom_entries = 0, other_entries = 0;
  std::string where;
  for (const auto& level : log.levels) {
    for (const auto& f : level.files) {
      (level.level == bottom ? bottom_entries : other_entries) += f.num_entries;
      where += "L" + std::to_string(level.level) + " " + f.name + " seqno " +
               std::to_string(f.smallest_seqno) + ".." + std::to_string(f.largest_seqno) + " " +
               std::to_string(f.num_entries) + " entries\n";
    }
  }
  // Seen: the seed's few catalog records in one flushed L0 file, then every
  // record of the import and of the sync (chunks ahead and the commits'
  // rests) in files at the bottom level with seqno 0: each ingested file
  // overlapped neither the memtable nor another file.
  EXPECT_GE(bottom_entries, 2u * kItems) << where;
  EXPECT_LE(other_entries, 4u) << "log records above the bottom level:\n" << where;
  for (Cf cf : {Cf::kState, Cf::kHistory, Cf::kStream}) {
    rocksdb::ColumnFamilyMetaData m;
    (*store)->db()->GetColumnFamilyMetaData((*store)->cf(cf), &m);
    EXPECT_GE(m.file_count, 1u) << CfName(cf) << ": the commit's views were not ingested";
  }
}

TEST_F(BulkIngestTest, OffWritesNoTableFiles) {
  const std::string& path = path_;
  EngineOptions o = BulkOptions(path);
  o.bulk_ingest_min_bytes = 0;
  auto e = Engine::Open(o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_TRUE((*e)->Import(1, 1, ImportOptions(), Body(kItems, "a")).ok());
  // Beside the open engine: a clean close would flush the memtables.
  StoreOptions so;
  so.path = path;
  so.read_only = true;
  auto store = Store::Open(so);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  rocksdb::ColumnFamilyMetaData m;
  (*store)->db()->GetColumnFamilyMetaData((*store)->cf(Cf::kState), &m);
  EXPECT_EQ(m.file_count, 0u);  // all in the WAL / memtable
}

// BulkIngester on its own, over a store in a temporary directory.
class BulkIngesterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    so_.path = dir_.sub("db");
    auto store = Store::Open(so_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  TempDir dir_;
  StoreOptions so_;
  std::unique_ptr<Store> store_;
};

// BulkIngester itself, on batches that are not in key order: per family,
// the last write of a key wins across records and batches (a put after a
// delete, a delete after a put), an empty value stays a put, a delete hides
// what the store had, and records of other families do not mix in.
TEST_F(BulkIngesterTest, LastWriteWinsPerFamilyAcrossBatchesInAnyOrder) {
  Store& st = *store_;
  const StoreOptions& so = so_;
  rocksdb::WriteBatch before;
  before.Put(st.cf(Cf::kState), "k5", "old");
  before.Put(st.cf(Cf::kState), "k6", "kept");
  ASSERT_TRUE(st.Write(&before, /*sync=*/true).ok());
  BulkIngester bulk(&st, so.path, nullptr);
  ASSERT_TRUE(bulk.Prepare().ok());
  rocksdb::WriteBatch a, b;
  a.Put(st.cf(Cf::kState), "k3", "3a");
  a.Put(st.cf(Cf::kHistory), "k3", "history");
  a.Put(st.cf(Cf::kState), "k1", "1");
  a.Delete(st.cf(Cf::kState), "k2");
  a.Put(st.cf(Cf::kState), "k4", "4");
  a.Put(st.cf(Cf::kState), "k3", "3b");
  b.Put(st.cf(Cf::kState), "k2", "2");
  b.Delete(st.cf(Cf::kState), "k4");
  b.Put(st.cf(Cf::kState), "k0", "");
  b.Delete(st.cf(Cf::kState), "k5");
  b.Put(st.cf(Cf::kState), "k3", "3c");
  ASSERT_TRUE(BulkIngester::CanIngest({&a, &b}));
  bool ingesting = false;
  auto files = bulk.Ingest({&a, &b}, &ingesting);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(*files, 2);  // state and history
  EXPECT_TRUE(ingesting);
  auto get = [&](Cf cf, const std::string& key) {
    std::string v;
    Status s = st.Get(cf, key, &v);
    return s.ok() ? v : "<" + std::string(s.code() == Code::kNotFound ? "none" : "error") + ">";
  };
  EXPECT_EQ(get(Cf::kState, "k0"), "");
  EXPECT_EQ(get(Cf::kState, "k1"), "1");
  EXPECT_EQ(get(Cf::kState, "k2"), "2");
  EXPECT_EQ(get(Cf::kState, "k3"), "3c");
  EXPECT_EQ(get(Cf::kState, "k4"), "<none>");
  EXPECT_EQ(get(Cf::kState, "k5"), "<none>");
  EXPECT_EQ(get(Cf::kState, "k6"), "kept");
  EXPECT_EQ(get(Cf::kHistory, "k3"), "history");
  EXPECT_EQ(get(Cf::kHistory, "k1"), "<none>");
  EXPECT_TRUE(StagingFiles(so.path).empty());
  // A kind it does not take: refused, nothing written.
  rocksdb::WriteBatch range;
  range.Put(st.cf(Cf::kState), "k7", "7");
  range.DeleteRange(st.cf(Cf::kState), "k0", "k2");
  EXPECT_FALSE(BulkIngester::CanIngest({&a, &range}));
  auto refused = bulk.Ingest({&range}, &ingesting);
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(ingesting);
  EXPECT_EQ(get(Cf::kState, "k7"), "<none>");
  EXPECT_EQ(get(Cf::kState, "k1"), "1");
  // Empty batches: nothing to ingest.
  rocksdb::WriteBatch empty;
  auto none = bulk.Ingest({&empty});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
}

// A family in key order but for a tail (a first sync's stream index ends
// with the source's record of sync.completed): only the tail is sorted and
// merged in, and a key the tail writes again still takes the tail's value,
// also when the sorted run holds it twice.
TEST_F(BulkIngesterTest, ASortedRunWithAnUnsortedTailKeepsTheLastWriteOfEachKey) {
  Store& st = *store_;
  const StoreOptions& so = so_;
  BulkIngester bulk(&st, so.path, nullptr);
  ASSERT_TRUE(bulk.Prepare().ok());
  rocksdb::WriteBatch a;
  for (int i = 10; i < 60; ++i) a.Put(st.cf(Cf::kStream), "k" + std::to_string(i), "run");
  a.Put(st.cf(Cf::kStream), "k59", "run again");  // equal keys keep the run sorted
  a.Put(st.cf(Cf::kStream), "k05", "tail");       // the order breaks here
  a.Put(st.cf(Cf::kStream), "k30", "tail");
  a.Put(st.cf(Cf::kStream), "k59", "tail");
  a.Put(st.cf(Cf::kStream), "k99", "tail");
  a.Put(st.cf(Cf::kStream), "k07", "tail");
  a.Put(st.cf(Cf::kStream), "k30", "tail again");
  ASSERT_TRUE(BulkIngester::CanIngest({&a}));
  auto files = bulk.Ingest({&a});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::map<std::string, std::string> want;
  for (int i = 10; i < 60; ++i) want["k" + std::to_string(i)] = "run";
  want["k05"] = want["k59"] = want["k99"] = want["k07"] = "tail";
  want["k30"] = "tail again";
  std::map<std::string, std::string> got;
  auto it = st.NewPrefixIterator(Cf::kStream, "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) got[std::string(it->key())] = it->value();
  ASSERT_TRUE(it->status("scan").ok());
  EXPECT_EQ(got, want);
  // Kinds CanIngest refuses from the batches' flags alone.
  rocksdb::WriteBatch merge, single;
  merge.Merge(st.cf(Cf::kStream), "k1", "x");
  single.SingleDelete(st.cf(Cf::kStream), "k1");
  EXPECT_FALSE(BulkIngester::CanIngest({&a, &merge}));
  EXPECT_FALSE(BulkIngester::CanIngest({&single}));
}

// A large family in no order (sorted by the eight bytes past the keys'
// common prefix, then by the keys, then by position): keys that are
// prefixes of others, keys equal in those eight bytes and differing after
// them, zero bytes, empty values, and keys written up to four times, a
// delete among them; the last write of each key wins, as in a map.
TEST_F(BulkIngesterTest, ALargeFamilyInNoOrderKeepsTheLastWriteOfEachKey) {
  Store& st = *store_;
  BulkIngester bulk(&st, so_.path, nullptr);
  ASSERT_TRUE(bulk.Prepare().ok());
  std::mt19937_64 rng(26);
  const std::string prefix = "tenant/7/";
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) {
    std::string id = std::to_string(rng() % 100000);
    keys.push_back(prefix + id);                         // a prefix of the next ones
    keys.push_back(prefix + id + std::string(1, '\0'));  // a zero byte past it
    keys.push_back(prefix + "same8byt" + id);            // equal in the eight bytes
    keys.push_back(prefix + "same8byt" + id + "/" + id);
  }
  std::map<std::string, std::string> want;
  rocksdb::WriteBatch a;
  for (int w = 0; w < 20000; ++w) {
    const std::string& k = keys[rng() % keys.size()];
    if (rng() % 10 == 0) {
      a.Delete(st.cf(Cf::kState), k);
      want.erase(k);
    } else {
      const std::string v = rng() % 7 == 0 ? "" : "v" + std::to_string(w);
      a.Put(st.cf(Cf::kState), k, v);
      want[k] = v;
    }
  }
  auto files = bulk.Ingest({&a});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::map<std::string, std::string> got;
  auto it = st.NewPrefixIterator(Cf::kState, "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) got[std::string(it->key())] = it->value();
  ASSERT_TRUE(it->status("scan").ok());
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
}

// IngestPipeline on its own: batches of distinct keys, submitted faster
// than one thread ingests them, all land; each Submit hands back an empty
// batch to fill. With 2, 1 or no thread (0 asked, or none the system would
// start: then Submit ingests on the caller's thread).
class PipelineThreadsTest : public BulkIngesterTest, public ::testing::WithParamInterface<int> {};

TEST_P(PipelineThreadsTest, APipelineIngestsEverySubmittedBatch) {
  Store& st = *store_;
  BulkIngester bulk(&st, so_.path, nullptr);
  ASSERT_TRUE(bulk.Prepare().ok());
  {
    IngestPipeline pipeline(&bulk, GetParam(), 64 << 10);
    rocksdb::WriteBatch batch;
    for (int b = 0; b < 6; ++b) {
      ASSERT_EQ(batch.Count(), 0u);
      for (int i = 0; i < 100; ++i) {
        batch.Put(st.cf(Cf::kLog), fmt::format("b{}-{:03}", b, i), "v" + std::to_string(b));
      }
      ASSERT_TRUE(pipeline.Submit(&batch).ok());
    }
    ASSERT_TRUE(pipeline.Drain().ok());
    // Dropped without a Drain: the destructor waits for what was submitted.
    batch.Put(st.cf(Cf::kLog), "b6-000", "v6");
    ASSERT_TRUE(pipeline.Submit(&batch).ok());
  }
  int n = 0;
  auto it = st.NewPrefixIterator(Cf::kLog, "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    EXPECT_EQ(it->value(), "v" + std::string(1, it->key()[1])) << it->key();
    ++n;
  }
  ASSERT_TRUE(it->status("scan").ok());
  EXPECT_EQ(n, 601);
  EXPECT_TRUE(StagingFiles(so_.path).empty());
}

INSTANTIATE_TEST_SUITE_P(Threads, PipelineThreadsTest, ::testing::Values(2, 1, 0));

// Fails every write (Append) to the n-th bulk staging file created after
// Arm(n), and says on which thread it did.
class FailStagingWriteFs : public rocksdb::FileSystemWrapper {
 public:
  FailStagingWriteFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  static const char* kClassName() { return "FailStagingWriteFs"; }
  const char* Name() const override { return kClassName(); }

  void Arm(int n) {
    created_ = 0;
    fail_nth_ = n;
    failed_ = 0;
  }
  int failed() const { return failed_; }
  std::thread::id failed_on() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_on_;
  }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, r, dbg);
    if (!s.ok() || f.find(BulkIngester::kStagingPrefix) == std::string::npos || fail_nth_ == 0) {
      return s;
    }
    if (++created_ == fail_nth_) *r = std::make_unique<File>(std::move(*r), this);
    return s;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> f, FailStagingWriteFs* fs)
        : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}
    rocksdb::IOStatus Append(const rocksdb::Slice&, const rocksdb::IOOptions&,
                             rocksdb::IODebugContext*) override {
      return fs_->Fail();
    }
    rocksdb::IOStatus Append(const rocksdb::Slice&, const rocksdb::IOOptions&,
                             const rocksdb::DataVerificationInfo&,
                             rocksdb::IODebugContext*) override {
      return fs_->Fail();
    }

   private:
    FailStagingWriteFs* fs_;
  };

  rocksdb::IOStatus Fail() {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_++ == 0) failed_on_ = std::this_thread::get_id();
    return rocksdb::IOStatus::IOError("injected: a staging file write");
  }

  mutable std::mutex mu_;
  std::atomic<int> created_{0}, fail_nth_{0}, failed_{0};
  std::thread::id failed_on_;
};

// A write of a written-ahead chunk's table file fails on the pipeline's
// thread (the first chunk: the error comes back at a later chunk's Submit;
// the last ones: at the commit's Drain): the import fails, the source is
// as it was (no record of it, no staging file, views == fold(log)), and the
// next import takes the same seqs. Also after a reopen.
TEST_F(BulkIngestTest, AFailedChunkOnThePipelineThreadFailsTheImportAndLeavesNothing) {
  auto fs = std::make_shared<FailStagingWriteFs>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  auto check = [&](Engine& e, const std::string& tag) {
    EXPECT_EQ(Present(e, Src(1)), kItems);
    EXPECT_FALSE(e.GetProperty(1, Src(1), "x" + ItemId(3), {}).ok());
    auto p = e.GetProperty(1, Src(1), ItemId(7), {});
    ASSERT_TRUE(p.ok());
    EXPECT_NE(p->data.find("\"" + tag + "\""), std::string::npos) << p->data;
    std::vector<std::string> diffs;
    Status v = e.VerifyViews(&diffs);
    EXPECT_TRUE(v.ok()) << v.ToString() << (diffs.empty() ? "" : "\n" + diffs[0]);
  };
  // The second import: the same ids with new data and as many new ids,
  // ~100 KB: ~8 chunks of 12 KiB written ahead before the commit.
  std::string second = Body(kItems, "b");
  std::string extra = Body(kItems, "b");
  for (size_t at = 0; (at = extra.find("\"it-", at)) != std::string::npos; at += 4) {
    extra.replace(at, 4, "\"xit-");
  }
  second = second.substr(0, second.size() - 1) + "," + extra.substr(1);
  {
    auto e = Engine::Open(BulkOptions(path_, env.get()));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_TRUE((*e)->Import(1, 1, ImportOptions(), Body(kItems, "a")).ok());
    const uint64_t before = *(*e)->LastSeq(1);
    for (int nth : {1, 3, 7}) {
      SCOPED_TRACE("failing staging file " + std::to_string(nth));
      fs->Arm(nth);
      auto r = (*e)->Import(1, 1, ImportOptions(), second);
      EXPECT_FALSE(r.ok());
      EXPECT_GT(fs->failed(), 0);
      // Not the caller's thread (nor, for the first chunk, the commit's).
      EXPECT_NE(fs->failed_on(), std::this_thread::get_id());
      fs->Arm(0);
      EXPECT_EQ(*(*e)->LastSeq(1), before);
      EXPECT_TRUE(StagingFiles(path_).empty());
      check(**e, "a");
      if (HasFailure()) return;
    }
    // The next import takes the same seqs; its records win.
    auto r = (*e)->Import(1, 1, ImportOptions(), Body(kItems, "b"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*(*e)->LastSeq(1), before + kItems + 1);
    check(**e, "b");
  }
  auto e = Engine::Open(BulkOptions(path_));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  check(**e, "b");
}

TEST_F(BulkIngestTest, ALaterImportOfTheSameKeysWinsAndLeftoversGoAtOpen) {
  const std::string& path = path_;
  {
    auto e = Engine::Open(BulkOptions(path));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_TRUE((*e)->Import(1, 1, ImportOptions(), Body(kItems, "a")).ok());
    ASSERT_TRUE((*e)->Import(1, 1, ImportOptions(), Body(kItems, "b")).ok());
    auto p = (*e)->GetProperty(1, Src(1), ItemId(7), {});
    ASSERT_TRUE(p.ok());
    EXPECT_NE(p->data.find("\"b\""), std::string::npos) << p->data;
  }
  // A file a crash left between building and ingesting.
  {
    std::FILE* f =
        std::fopen((path + "/" + std::string(BulkIngester::kStagingPrefix) + "99.sst").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("half a table file", f);
    std::fclose(f);
  }
  auto e = Engine::Open(BulkOptions(path));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(StagingFiles(path).empty());
  auto p = (*e)->GetProperty(1, Src(1), ItemId(7), {});
  ASSERT_TRUE(p.ok());
  EXPECT_NE(p->data.find("\"b\""), std::string::npos) << p->data;
  std::vector<std::string> diffs;
  Status v = (*e)->VerifyViews(&diffs);
  EXPECT_TRUE(v.ok()) << v.ToString() << (diffs.empty() ? "" : "\n" + diffs[0]);
}

TEST_F(BulkIngestTest, AnAbortAfterChunksIngestedAheadLeavesNothingAndTheSeqsAreReused) {
  const std::string& path = path_;
  auto check = [&](Engine& e) {
    EXPECT_EQ(Present(e, Src(1)), kItems);
    EXPECT_FALSE(e.GetProperty(1, Src(1), "x" + ItemId(3), {}).ok());
    auto p = e.GetProperty(1, Src(1), ItemId(7), {});
    ASSERT_TRUE(p.ok());
    EXPECT_NE(p->data.find("\"b\""), std::string::npos) << p->data;
    std::vector<std::string> diffs;
    Status v = e.VerifyViews(&diffs);
    EXPECT_TRUE(v.ok()) << v.ToString() << (diffs.empty() ? "" : "\n" + diffs[0]);
  };
  {
    auto e = Engine::Open(BulkOptions(path));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_TRUE((*e)->Import(1, 1, ImportOptions(), Body(kItems, "a")).ok());
    const uint64_t before = *(*e)->LastSeq(1);
    // A full import of other ids: its items are written ahead (as table
    // files, 12 KiB chunks) before the mass-removal guard refuses it at the
    // end, and the abort deletes them.
    std::string other = Body(kItems, "x");
    for (size_t at = 0; (at = other.find("\"it-", at)) != std::string::npos; at += 4) {
      other.replace(at, 4, "\"xit-");
    }
    ImportOptions full;
    full.mode = ImportMode::kFull;
    auto r = (*e)->Import(1, 1, full, other);
    ASSERT_EQ(r.status().code(), Code::kMassRemoval) << r.status().ToString();
    EXPECT_EQ(*(*e)->LastSeq(1), before);
    // The next operation takes the same seqs; its records win.
    ASSERT_TRUE((*e)->Import(1, 1, ImportOptions(), Body(kItems, "b")).ok());
    check(**e);
  }
  auto e = Engine::Open(BulkOptions(path));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  check(**e);
}

// ---- a power cut or a failure at every step -------------------------------

void Say(int fd, const std::string& line) {
  std::string l = line + "\n";
  if (write(fd, l.data(), l.size()) < 0) _exit(5);
}

// Child: opens through FaultFs (cut at `cut_at`, 0: none), imports, syncs.
// Reports "open OPS", "ack import", "ack sync", "end OPS".
[[noreturn]] void Child(const std::string& path, uint64_t cut_at, FaultFs::CutMode mode, int fd) {
  auto ffs = std::make_shared<FaultFs>();
  std::unique_ptr<rocksdb::Env> env = FaultFs::NewEnv(ffs);
  ffs->CutPowerAt(cut_at, mode, cut_at);
  auto e = Engine::Open(BulkOptions(path, env.get()));
  if (!e.ok()) _exit(3);
  Say(fd, "open " + std::to_string(ffs->ops()));
  if (!(*e)->Import(1, 1, ImportOptions(), Body(kItems, "a")).ok()) _exit(4);
  Say(fd, "ack import");
  if (!(*e)->Sync(1, 1, 1, SyncOptions()).ok()) _exit(4);
  Say(fd, "ack sync");
  Say(fd, "end " + std::to_string(ffs->ops()));
  _exit(0);
}

struct Report {
  int exit_code = -1;
  uint64_t open_ops = 0, end_ops = 0;
  bool import_acked = false, sync_acked = false;
};

Report RunChild(const std::string& path, uint64_t cut_at, FaultFs::CutMode mode) {
  Report rep;
  // The program runs Child when it finds SYNCMGR_BULK_CHILD.
  std::string spec = path + "\n" + std::to_string(cut_at) + " " +
                     std::to_string(mode == FaultFs::CutMode::kDropUnsynced ? 0 : 1);
  ChildOutput child = RunSelfAsChild("BulkIngestCrashTest.PowerCut*", "SYNCMGR_BULK_CHILD", spec,
                                     kChildTimeout);
  rep.exit_code = child.exit_code;
  const std::string& buf = child.out;
  unsigned long long a = 0;
  for (size_t pos = 0, nl; (nl = buf.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    std::string line = buf.substr(pos, nl - pos);
    if (line == "ack import") rep.import_acked = true;
    if (line == "ack sync") rep.sync_acked = true;
    if (std::sscanf(line.c_str(), "open %llu", &a) == 1) rep.open_ops = a;
    if (std::sscanf(line.c_str(), "end %llu", &a) == 1) rep.end_ops = a;
  }
  return rep;
}

// Old or new, never a mix; acknowledged means there; views == fold(log);
// no staging file after the open. False if the directory does not open.
bool CheckOldOrNew(const std::string& path, bool import_acked, bool sync_acked,
                   const std::string& where) {
  auto e = Engine::Open(BulkOptions(path));
  EXPECT_TRUE(e.ok()) << where << ": " << e.status().ToString();
  if (!e.ok()) return false;
  EXPECT_TRUE(StagingFiles(path).empty()) << where;
  const int src = Present(**e, Src(1)), tgt = Present(**e, Tgt(1));
  EXPECT_TRUE(src == 0 || src == kItems) << where << ": import partial " << src;
  EXPECT_TRUE(tgt == 0 || tgt == kItems) << where << ": sync partial " << tgt;
  EXPECT_TRUE(!import_acked || src == kItems) << where << ": acknowledged import lost";
  EXPECT_TRUE(!sync_acked || tgt == kItems) << where << ": acknowledged sync lost";
  EXPECT_TRUE(tgt == 0 || src == kItems) << where << ": a sync of an import that is not there";
  std::vector<std::string> diffs;
  Status v = (*e)->VerifyViews(&diffs);
  EXPECT_TRUE(v.ok()) << where << ": " << v.ToString() << (diffs.empty() ? "" : "\n" + diffs[0]);
  return true;
}

TEST(BulkIngestCrashTest, PowerCutAtEveryFileOpOfABulkImportAndSync) {
  if (const char* spec = std::getenv("SYNCMGR_BULK_CHILD")) {  // a child of RunChild
    std::string s(spec);
    size_t nl = s.find('\n');
    unsigned long long cut_at = 0;
    int mode = 0, fd = -1;
    if (nl == std::string::npos ||
        std::sscanf(s.c_str() + nl + 1, "%llu %d %d", &cut_at, &mode, &fd) != 3) {
      _exit(7);
    }
    Child(s.substr(0, nl), cut_at,
          mode == 0 ? FaultFs::CutMode::kDropUnsynced : FaultFs::CutMode::kKeepUnsyncedPrefix, fd);
  }
  if (fs::is_directory("/dev/shm")) setenv("TMPDIR", "/dev/shm", 1);
  TempDir dir;
  const std::string seeded = dir.sub("seeded");
  SeedCatalog(seeded, "bulk");
  if (HasFatalFailure()) return;
  auto fresh = [&](const std::string& name) {
    std::string p = dir.sub(name);
    fs::remove_all(p);
    fs::copy(seeded, p, fs::copy_options::recursive);
    return p;
  };
  // An uncut run learns the ops of the open and of the work.
  Report whole = RunChild(fresh("learn"), 0, FaultFs::CutMode::kDropUnsynced);
  ASSERT_EQ(whole.exit_code, 0);
  ASSERT_GT(whole.end_ops, whole.open_ops);
  int cuts = 0;
  for (uint64_t op = whole.open_ops + 1; op <= whole.end_ops; op += Stride()) {
    const std::string path = fresh("cut");
    auto mode = op % 2 == 0 ? FaultFs::CutMode::kDropUnsynced : FaultFs::CutMode::kKeepUnsyncedPrefix;
    Report rep = RunChild(path, op, mode);
    // The work's op count varies by one or two from run to run (when the
    // background threads' flushes land): a run may end before the last ops.
    if (rep.exit_code == 0 && rep.end_ops < op) {
      CheckOldOrNew(path, rep.import_acked, rep.sync_acked, "uncut, ended at op " +
                                                                std::to_string(rep.end_ops));
      if (HasFailure()) return;
      continue;
    }
    ASSERT_EQ(rep.exit_code, FaultFs::kPowerCutExitCode) << "op " << op;
    ++cuts;
    CheckOldOrNew(path, rep.import_acked, rep.sync_acked, "cut at op " + std::to_string(op));
    if (HasFailure()) return;
  }
  std::printf("bulk power cuts: %d (ops %llu..%llu, every %llu)\n", cuts,
              static_cast<unsigned long long>(whole.open_ops + 1),
              static_cast<unsigned long long>(whole.end_ops),
              static_cast<unsigned long long>(Stride()));
}

TEST(BulkIngestCrashTest, IoErrorAtEveryFileOpOfABulkImportAndSync) {
  if (fs::is_directory("/dev/shm")) setenv("TMPDIR", "/dev/shm", 1);
  TempDir dir;
  const std::string seeded = dir.sub("seeded");
  SeedCatalog(seeded, "bulk");
  if (HasFatalFailure()) return;
  uint64_t open_ops = 0, end_ops = 0;
  int points = 0;
  for (uint64_t fail_at = 0;; fail_at += fail_at == 0 ? 1 : Stride()) {
    const std::string path = dir.sub("fail");
    fs::remove_all(path);
    fs::copy(seeded, path, fs::copy_options::recursive);
    bool import_ok = false, sync_ok = false;
    {
      auto ffs = std::make_shared<FaultFs>();
      std::unique_ptr<rocksdb::Env> env = FaultFs::NewEnv(ffs);
      auto e = Engine::Open(BulkOptions(path, env.get()));
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      if (fail_at == 0) open_ops = ffs->ops();
      if (fail_at > 0) ffs->FailFrom(open_ops + fail_at, rocksdb::IOStatus::IOError("injected"));
      import_ok = (*e)->Import(1, 1, ImportOptions(), Body(kItems, "a")).ok();
      sync_ok = import_ok && (*e)->Sync(1, 1, 1, SyncOptions()).ok();
      if (fail_at == 0) {
        ASSERT_TRUE(sync_ok);
        end_ops = ffs->ops();
      }
      ffs->Heal();
    }
    // Every directory opens, after a failed MANIFEST sync of an ingestion
    // too (engine/ingest_guard.h; the test below fails each of those).
    CheckOldOrNew(path, import_ok, sync_ok, "EIO from op " + std::to_string(open_ops + fail_at));
    if (HasFailure()) return;
    if (fail_at > 0) ++points;
    if (open_ops + fail_at >= end_ops) break;
  }
  std::printf("bulk I/O errors: ops %llu..%llu, every %llu: %d points, each opened old or new\n",
              static_cast<unsigned long long>(open_ops + 1),
              static_cast<unsigned long long>(end_ops), static_cast<unsigned long long>(Stride()),
              points);
}

// Fails the n-th sync of a MANIFEST file after Arm(n) (until Disarm), once the record
// being synced has been written: what an fsync that reports EIO leaves.
// With `no_links`, every hard link is refused as unsupported (a file
// system without them), so RocksDB copies each ingested file instead.
class FailManifestSyncFs : public rocksdb::FileSystemWrapper {
 public:
  explicit FailManifestSyncFs(bool no_links)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), no_links_(no_links) {}
  static const char* kClassName() { return "FailManifestSyncFs"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to,
                             const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (!no_links_) return target()->LinkFile(from, to, o, dbg);
    ++links_refused_;
    return rocksdb::IOStatus::NotSupported("injected: no hard links");
  }
  int links_refused() const { return links_refused_; }

  void Arm(int n) {
    syncs_ = 0;
    fail_nth_ = n;
    failed_ = 0;
  }
  void Disarm() { fail_nth_ = 0; }
  int failed() const { return failed_; }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, r, dbg);
    if (s.ok() && f.find("MANIFEST-") != std::string::npos) {
      *r = std::make_unique<File>(std::move(*r), this);
    }
    return s;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> f, FailManifestSyncFs* fs)
        : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      return fs_->MaybeFail() ? Injected() : FSWritableFileOwnerWrapper::Sync(o, d);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      return fs_->MaybeFail() ? Injected() : FSWritableFileOwnerWrapper::Fsync(o, d);
    }

   private:
    static rocksdb::IOStatus Injected() {
      return rocksdb::IOStatus::IOError("injected: a MANIFEST sync");
    }
    FailManifestSyncFs* fs_;
  };

  bool MaybeFail() {
    if (fail_nth_ == 0 || ++syncs_ != fail_nth_) return false;
    ++failed_;
    return true;
  }

  const bool no_links_;
  std::atomic<int> syncs_{0}, fail_nth_{0}, failed_{0}, links_refused_{0};
};

// RocksDB 7.8 deletes the files of an ingestion that fails, even when the
// failure is the sync of a MANIFEST record naming them that it had already
// written. The store keeps them (engine/ingest_guard.h), so the directory
// opens old or new: here for each MANIFEST sync of a bulk import (its
// chunks written ahead and its commit) and of the sync that follows, in
// turn; with the files hard-linked into the directory, and copied (a file
// system without hard links). Without the guard the directory refuses to
// open ("No such file").
class ManifestSyncTest : public ::testing::TestWithParam<bool> {};

TEST_P(ManifestSyncTest, AFailedManifestSyncOfAnIngestionLeavesADirectoryThatOpens) {
  const bool no_links = GetParam();
  int links_refused = 0;  // each one an ingestion that copied instead
  TempDir dir;
  const std::string seeded = dir.sub("seeded");
  SeedCatalog(seeded, "bulk");
  if (HasFatalFailure()) return;
  int failed_points = 0;
  for (int nth = 1; nth <= 64; ++nth) {
    const std::string path = dir.sub("fail");
    fs::remove_all(path);
    fs::copy(seeded, path, fs::copy_options::recursive);
    auto fs = std::make_shared<FailManifestSyncFs>(no_links);
    std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
    bool import_ok = false, sync_ok = false;
    {
      auto e = Engine::Open(BulkOptions(path, env.get()));
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      fs->Arm(nth);
      import_ok = (*e)->Import(1, 1, ImportOptions(), Body(kItems, "a")).ok();
      sync_ok = import_ok && (*e)->Sync(1, 1, 1, SyncOptions()).ok();
      fs->Disarm();
    }
    links_refused += fs->links_refused();
    if (fs->failed() == 0) {  // past the last MANIFEST sync of the work
      EXPECT_TRUE(import_ok && sync_ok);
      break;
    }
    ++failed_points;
    const std::string where = "MANIFEST sync " + std::to_string(nth) + " failed";
    EXPECT_FALSE(import_ok && sync_ok) << where;
    CheckOldOrNew(path, import_ok, sync_ok, where);
    if (HasFailure()) return;
  }
  // The import writes chunks ahead and commits by ingestion, and so does
  // the sync: several ingestions, each with its own MANIFEST sync.
  EXPECT_GE(failed_points, 3);
  if (no_links) {
    EXPECT_GT(links_refused, failed_points);
  }
  std::printf("failed MANIFEST syncs (%s): %d, each directory opened old or new\n",
              no_links ? "files copied" : "files linked", failed_points);
}

INSTANTIATE_TEST_SUITE_P(LinkedOrCopied, ManifestSyncTest, ::testing::Values(false, true));

}  // namespace
}  // namespace syncmgr::testing
