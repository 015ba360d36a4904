#include "engine/bulk_ingest.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <map>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace syncmgr {

namespace {

struct Entry {
  std::string_view key;
  std::string_view value;
  bool is_delete = false;
};

// The puts and point deletes of a batch, per column family id, in batch
// order. Any other kind of record (range delete, merge, single delete)
// makes Iterate fail: the Handler's defaults refuse them.
// `out` nullptr: only checks the kinds.
class Collector : public rocksdb::WriteBatch::Handler {
 public:
  explicit Collector(std::map<uint32_t, std::vector<Entry>>* out) : out_(out) {}
  rocksdb::Status PutCF(uint32_t cf_id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    if (out_ != nullptr) (*out_)[cf_id].push_back({key.ToStringView(), value.ToStringView(), false});
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf_id, const rocksdb::Slice& key) override {
    if (out_ != nullptr) (*out_)[cf_id].push_back({key.ToStringView(), {}, true});
    return rocksdb::Status::OK();
  }

 private:
  std::map<uint32_t, std::vector<Entry>>* out_;
};

Status Collect(std::initializer_list<const rocksdb::WriteBatch*> batches,
               std::map<uint32_t, std::vector<Entry>>* out) {
  Collector collect(out);
  for (const rocksdb::WriteBatch* b : batches) {
    rocksdb::Status s = b->Iterate(&collect);
    if (!s.ok()) {
      return Status::InvalidArgument("bulk ingestion takes puts and point deletes only: " +
                                     s.ToString());
    }
  }
  return Status::Ok();
}

// Sorts `entries` by key and keeps the last write of each key: what the
// batch would leave, as an SST needs it (keys strictly increasing).
void SortLastWins(std::vector<Entry>* entries) {
  auto less = [](const Entry& a, const Entry& b) { return a.key < b.key; };
  auto& v = *entries;
  // A log chunk is in key order already (seqs of one tenant).
  if (std::adjacent_find(v.begin(), v.end(), [](const Entry& a, const Entry& b) {
        return !(a.key < b.key);
      }) == v.end()) {
    return;
  }
  std::stable_sort(v.begin(), v.end(), less);
  size_t out = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i + 1 < v.size() && v[i + 1].key == v[i].key) continue;  // a later write wins
    v[out++] = v[i];
  }
  v.resize(out);
}

rocksdb::ColumnFamilyHandle* HandleOf(const Store& store, uint32_t cf_id) {
  for (int i = 0; i < kNumCfs; ++i) {
    rocksdb::ColumnFamilyHandle* h = store.cf(static_cast<Cf>(i));
    if (h != nullptr && h->GetID() == cf_id) return h;
  }
  return nullptr;
}

}  // namespace

BulkIngester::BulkIngester(Store* store, const std::string& db_path, rocksdb::Env* env)
    : store_(store), dir_(db_path), env_(env != nullptr ? env : rocksdb::Env::Default()) {}

Status BulkIngester::Prepare() {
  std::vector<std::string> children;
  SYNCMGR_RETURN_IF_ERROR(FromRocks(env_->GetChildren(dir_, &children), "list " + dir_));
  for (const std::string& name : children) {
    if (!name.starts_with(kStagingPrefix)) continue;
    // Built but never ingested (a crash, or a failure whose cleanup failed):
    // RocksDB never referenced it.
    SYNCMGR_RETURN_IF_ERROR(
        FromRocks(env_->DeleteFile(dir_ + "/" + name), "remove a leftover staging file"));
  }
  return Status::Ok();
}

bool BulkIngester::CanIngest(std::initializer_list<const rocksdb::WriteBatch*> batches) {
  return Collect(batches, nullptr).ok();
}

StatusOr<int> BulkIngester::Ingest(std::initializer_list<const rocksdb::WriteBatch*> batches,
                                   bool* ingesting) {
  if (ingesting != nullptr) *ingesting = false;
  std::map<uint32_t, std::vector<Entry>> by_cf;
  SYNCMGR_RETURN_IF_ERROR(Collect(batches, &by_cf));
  rocksdb::DB* db = store_->db();
  std::vector<rocksdb::IngestExternalFileArg> args;
  std::vector<std::string> files;
  auto remove_files = [&] {
    // Best effort: Prepare removes what is left at the next open.
    for (const std::string& f : files) env_->DeleteFile(f).PermitUncheckedError();
  };
  for (auto& [cf_id, entries] : by_cf) {
    if (entries.empty()) continue;
    rocksdb::ColumnFamilyHandle* cf = HandleOf(*store_, cf_id);
    if (cf == nullptr) {
      remove_files();
      return Status::Internal(fmt::format("bulk ingestion: unknown column family {}", cf_id));
    }
    SortLastWins(&entries);
    // The family's own options (table format, block size, dictionary), but
    // its upper levels' compression (LZ4), not its bottommost one (ZSTD),
    // which SstFileWriter would otherwise pick: these files are written in
    // the foreground of the operation and, at the bottom level, never
    // rewritten. Measured in process at N = 1 M (bench/report_notes.md,
    // "Bulk ingestion"): day-0 import 20.1 CPU-s instead of 24.5, list
    // 250 MB/s instead of 118 (every listed row decompresses one log
    // block), for 0.48x the raw input on disk instead of 0.30x.
    rocksdb::Options options = db->GetOptions(cf);
    options.bottommost_compression = rocksdb::kDisableCompressionOption;
    const std::string path =
        fmt::format("{}/{}{}.sst", dir_, kStagingPrefix,
                    next_file_.fetch_add(1, std::memory_order_relaxed));
    files.push_back(path);
    // Kept in the page cache: a sync reads the state it just imported.
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(options), options, cf,
                                  /*invalidate_page_cache=*/false);
    rocksdb::Status s = writer.Open(path);
    for (size_t i = 0; s.ok() && i < entries.size(); ++i) {
      const Entry& e = entries[i];
      s = e.is_delete ? writer.Delete(e.key) : writer.Put(e.key, e.value);
    }
    // Finish syncs the file.
    if (s.ok()) s = writer.Finish();
    if (!s.ok()) {
      remove_files();
      return FromRocks(s, "bulk ingestion: write a table file");
    }
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = cf;
    arg.external_files = {path};
    // Hard-linked, not copied; RocksDB removes the staging name on success.
    arg.options.move_files = true;
    // The file's seqno goes into the MANIFEST edit only: the file is not
    // rewritten (and synced again) in place.
    arg.options.write_global_seqno = false;
    args.push_back(std::move(arg));
  }
  if (args.empty()) return 0;
  if (ingesting != nullptr) *ingesting = true;
  rocksdb::Status s = db->IngestExternalFiles(args);
  if (!s.ok()) {
    remove_files();
    return FromRocks(s, "bulk ingestion");
  }
  return static_cast<int>(args.size());
}

}  // namespace syncmgr
