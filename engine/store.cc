#include "engine/store.h"

#include <sys/statvfs.h>

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine/info_log.h"
#include "engine/ingest_guard.h"
#include "engine/keys.h"

namespace syncmgr {

namespace {

constexpr std::array<std::string_view, kNumCfs> kCfNames = {
    "log", "stream", "state", "history", "dense", "catalog", "auth", "oplog", "meta", "bitmaps",
    "delivery", "manual"};
// The format that introduced each column family, indexed by Cf.
constexpr std::array<int, kNumCfs> kCfSince = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3};

// The directory's format record, in the `default` column family: the
// version in decimal. Absent in directories no build since the record
// exists has opened read-write; their format follows from their families.
constexpr std::string_view kFormatKey = "format_version";

// The log's compression dictionary: its size, and how much of a file's data
// a flush or compaction (or an SstFileWriter) buffers to sample it from.
// Without the bound, a writer buffers up to a whole file before it can
// compress anything; 8 MiB of documents sample their vocabulary as well as
// 64 MiB do (measured: the same ratio), and the buffer is charged to the
// block cache.
constexpr uint32_t kLogDictBytes = 16 << 10;
constexpr uint64_t kLogDictBufferBytes = 8 << 20;

rocksdb::ColumnFamilyOptions CfOptions(Cf cf, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.format_version = 5;
  if (cf == Cf::kLog) {
    // Payload-heavy, written in seq order, read by point lookups (the data of
    // a property, in external_id order, so at random) and by scans (feed,
    // replay). Small blocks: a random read decompresses 4 KiB, not 32
    // (16 KiB blocks: 0.43x raw instead of 0.55x, but twice the list's CPU).
    t.block_size = 4 << 10;
    // The documents of one file share their field names and most of their
    // vocabulary, which a 4 KiB block alone cannot exploit: each file gets a
    // 16 KiB dictionary (its own meta block, read with the index) that every
    // block is compressed against. A log value compresses to 0.34 of its
    // size with LZ4 + dictionary instead of 0.55 with LZ4 alone, and to 0.18
    // with ZSTD + trained dictionary at the bottom instead of 0.39
    // (bench/report_notes.md, "RocksDB options"). Upper levels stay LZ4:
    // ZSTD there cost the list ~+25 % CPU (decompression) for 0.32x raw
    // instead of 0.38x.
    o.compression = rocksdb::kLZ4Compression;
    o.compression_opts.max_dict_bytes = kLogDictBytes;
    // LZ4 takes the dictionary as raw bytes: samples, not a trained one.
    o.compression_opts.max_dict_buffer_bytes = kLogDictBufferBytes;
    o.bottommost_compression = rocksdb::kZSTD;
    o.bottommost_compression_opts.enabled = true;
    o.bottommost_compression_opts.max_dict_bytes = kLogDictBytes;
    o.bottommost_compression_opts.zstd_max_train_bytes = 100 * kLogDictBytes;
    o.bottommost_compression_opts.max_dict_buffer_bytes = kLogDictBufferBytes;
    o.write_buffer_size = 64 << 20;
    o.max_write_buffer_number = 4;
  } else {
    t.block_size = 8 << 10;
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    t.whole_key_filtering = true;
    // Point reads (an import's state reads, a sync's, a GET's) find their
    // key in a data block through a hash index instead of a binary search
    // over its restart points: a 1 M day-1 import's state reads, ~40 % of
    // its CPU, cost ~7 % less of it in all, for ~1 % more bytes in these
    // families (bench/report_notes.md, "Round 26"). A table option only:
    // files with and without the index are read alike, by this build and
    // every earlier one (the same RocksDB), so no format version changes.
    t.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
    t.data_block_hash_table_util_ratio = 0.75;
    o.compression = rocksdb::kLZ4Compression;
    o.write_buffer_size = 32 << 20;
  }
  t.cache_index_and_filter_blocks = true;
  // Every table's index and filter blocks stay pinned in the cache while
  // the table is open, not only L0's: a point read then looks its data
  // block up in the cache, and not its index and filter blocks as well.
  // Bulk ingestion puts most tables at the bottom level, where L0-only
  // pinning cost a GET of one property three more LRU lookups. Still
  // charged to the block cache: the index is ~0.5 % of a table's data (4-8
  // KiB blocks), a filter 10 bits per key (bench/report_notes.md, "GET one
  // property").
  t.metadata_cache_options.unpartitioned_pinning = rocksdb::PinningTier::kAll;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  o.level_compaction_dynamic_level_bytes = true;
  // A bloom filter over each memtable's whole keys: a point read of a key
  // the memtable lacks (most of a GET's and a sync's reads, which find
  // their records in table files while a sync's writes sit in the
  // memtables) skips the skip-list search. 2 % of the write buffer
  // (~0.6-1.3 MiB per memtable). A GET at 1 M after a day-1 sync: 4-13 %
  // less CPU in seven alternating pairs (bench/report_notes.md, "Round 27").
  // Memory only: nothing on disk changes.
  o.memtable_prefix_bloom_size_ratio = 0.02;
  o.memtable_whole_key_filtering = true;
  return o;
}

// Turns RocksDB's automatic error recovery off (see Store::Open).
class ManualErrorRecovery : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

// The refusal of a directory this build is too old for: a Conflict (the
// directory's state, not the request, is what this build cannot take).
Status NewerFormat(const std::string& path, const std::string& why) {
  return Status::Conflict(fmt::format(
      "data directory {} was written by a newer syncmgr ({}); this build reads on-disk formats "
      "1 to {}. Open it with the syncmgr that wrote it or a later one (docs/architecture.md, "
      "\"Format versions\"). Nothing was changed.",
      path, why, kFormatVersion));
}

// Reads the format record of an open directory: 0 if absent.
StatusOr<int> ReadFormatRecord(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* default_cf) {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), default_cf, kFormatKey, &value);
  if (s.IsNotFound()) return 0;
  SYNCMGR_RETURN_IF_ERROR(FromRocks(s, "read the format record"));
  int version = 0;
  for (char c : value) {
    if (c < '0' || c > '9' || version > 100000) {
      version = -1;
      break;
    }
    version = version * 10 + (c - '0');
  }
  if (value.empty() || version <= 0) {
    return Status::Corruption(fmt::format("malformed format record '{}'", value));
  }
  return version;
}

}  // namespace

std::string_view CfName(Cf cf) { return kCfNames[static_cast<int>(cf)]; }

Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::Ok();
  std::string msg = fmt::format("{}: {}", context, s.ToString());
  if (s.IsNotFound()) return Status::NotFound(std::move(msg));
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  if (s.IsNoSpace()) return Status::NoSpace(std::move(msg));
  if (s.IsIOError() && s.ToString().find("No space") != std::string::npos) {
    return Status::NoSpace(std::move(msg));
  }
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return Status::Unavailable(std::move(msg));
  return Status::Internal(std::move(msg));
}

StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  rocksdb::DBOptions db_opts;
  db_opts.create_if_missing = options.create_if_missing;
  db_opts.create_missing_column_families = true;
  db_opts.error_if_exists = options.error_if_exists;
  rocksdb::Env* const base_env = options.env != nullptr ? options.env : rocksdb::Env::Default();
  db_opts.env = base_env;
  // A read-write store writes through IngestGuardFs, which keeps the files
  // of a failed ingestion that its MANIFEST record may name
  // (engine/ingest_guard.h). The read-only modes ingest nothing.
  std::shared_ptr<IngestGuardFs> ingest_guard;
  std::unique_ptr<rocksdb::Env> guarded_env;
  if (!options.read_only && options.secondary_path.empty()) {
    ingest_guard = std::make_shared<IngestGuardFs>(base_env->GetFileSystem());
    guarded_env = rocksdb::NewCompositeEnv(ingest_guard);
    db_opts.env = guarded_env.get();
  }
  // A torn record at the very end of the WAL is an unacknowledged write cut
  // by a crash and is dropped; corruption anywhere else refuses to open
  // instead of silently dropping later, acknowledged writes (the default
  // point-in-time mode would). See docs/reliability.md.
  db_opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_opts.paranoid_checks = true;
  db_opts.max_background_jobs = 2;
  db_opts.bytes_per_sync = 1 << 20;
  db_opts.max_open_files = 512;
  // Opening a table's files at recovery happens in the opening thread. RocksDB
  // would otherwise start max_file_opening_threads - 1 (15) threads for every
  // column family's version it builds, files or not: ~90 short-lived threads
  // per open of this store, which is most of the cost of opening a small
  // directory (a read-only CLI command, a replay's scratch store, each test).
  // An open loads at most 16 files per family then (a secondary instance
  // every file: 253 at 1 M, no slower in one thread with the page cache warm;
  // docs/reliability.md, "CI's duration").
  db_opts.max_file_opening_threads = 1;
  db_opts.keep_log_file_num = 4;
  // Flush column families that hold old WAL files back, so WALs do not pile up.
  db_opts.max_total_wal_size = 256ull << 20;
  db_opts.avoid_unnecessary_blocking_io = true;
  // RocksDB's informational LOG through a writer that drops a line on any
  // error instead of aborting on ENOSPC as the stock one does in Debian's
  // assertion-enabled build (engine/info_log.h).
  db_opts.info_log = NewInfoLog(
      (options.secondary_path.empty() ? options.path : options.secondary_path) + "/LOG");
  // No automatic recovery from a background error (a failed WAL write or
  // sync): the engine resumes itself before its next write, once its free-
  // space reserve and a probe write pass, then flushes the memtables so the
  // failed WAL is never needed (EngineImpl::ResumeIfNeeded). RocksDB's own
  // ENOSPC recovery would wait for a whole write buffer (64 MiB) of free
  // space and keep a manual Resume() answering Busy meanwhile.
  db_opts.max_bgerror_resume_count = 0;
  db_opts.listeners.push_back(std::make_shared<ManualErrorRecovery>());

  // The families the directory has (none when it holds no database yet:
  // then, or when the listing fails for another reason, every family is
  // asked for and RocksDB's open creates them or says what is wrong).
  std::vector<std::string> names;
  const bool exists = rocksdb::DB::ListColumnFamilies(db_opts, options.path, &names).ok();
  std::array<bool, kNumCfs> present{};
  for (const std::string& name : names) {
    if (name == rocksdb::kDefaultColumnFamilyName) continue;
    auto known = std::find(kCfNames.begin(), kCfNames.end(), name);
    if (known == kCfNames.end()) {
      return NewerFormat(
          options.path, fmt::format("it has a column family this build does not know, '{}'", name));
    }
    present[known - kCfNames.begin()] = true;
  }
  const bool read_only = options.read_only || !options.secondary_path.empty();
  const bool upgrade = !read_only && options.upgrade;
  // The format the families say: every family of format 1, then of 2, ...
  int format_by_cfs = kFormatVersion;
  for (int v = 1; v <= kFormatVersion; ++v) {
    bool all = true;
    for (int i = 0; i < kNumCfs; ++i) all = all && (kCfSince[i] > v || present[i]);
    if (!all) {
      format_by_cfs = v - 1;
      break;
    }
  }
  if (exists && format_by_cfs == 0) {
    for (int i = 0; i < kNumCfs; ++i) {
      if (kCfSince[i] == 1 && !present[i]) {
        return Status::Corruption(fmt::format(
            "data directory {} has no '{}' column family: not a syncmgr data directory, or "
            "damaged. Nothing was changed.",
            options.path, kCfNames[i]));
      }
    }
  }

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  std::vector<int> desc_cf;  // the Cf of descs[k + 1]
  descs.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  // The families a read-write open adds (all of them in a new directory,
  // the newer formats' in an upgrade) are created after the open, in one
  // call: RocksDB 7.8 rewrites and re-parses its OPTIONS file (and syncs it)
  // after each family its open creates, but once per CreateColumnFamilies.
  // Either way each family is its own MANIFEST record, as before.
  std::vector<rocksdb::ColumnFamilyDescriptor> missing;
  std::vector<int> missing_cf;
  for (int i = 0; i < kNumCfs; ++i) {
    // An open that does not upgrade asks only for what is there: RocksDB's
    // read-only and secondary opens refuse a family the directory lacks.
    if (exists && !upgrade && !present[i]) continue;
    rocksdb::ColumnFamilyDescriptor desc(std::string(kCfNames[i]),
                                         CfOptions(static_cast<Cf>(i), cache));
    if (!read_only && !(exists && present[i])) {
      missing.push_back(std::move(desc));
      missing_cf.push_back(i);
      continue;
    }
    descs.push_back(std::move(desc));
    desc_cf.push_back(i);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (!options.secondary_path.empty()) {
    db_opts.max_open_files = -1;  // required by secondary instances
    s = rocksdb::DB::OpenAsSecondary(db_opts, options.path, options.secondary_path, descs,
                                     &handles, &raw);
  } else if (options.read_only) {
    s = rocksdb::DB::OpenForReadOnly(db_opts, options.path, descs, &handles, &raw);
  } else {
    s = rocksdb::DB::Open(db_opts, options.path, descs, &handles, &raw);
  }
  if (!s.ok() && s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return Status::Unavailable(fmt::format(
        "data directory {} is in use by another process (a running server? use --url): {}",
        options.path, s.ToString()));
  }
  if (!s.ok()) {
    Status st = FromRocks(s, fmt::format("cannot open data directory {}", options.path));
    if (st.code() == Code::kCorruption) {
      return Status::Corruption(
          st.message() +
          " -- the directory is damaged; restore it from a backup (one made with `syncmgr "
          "backup`, or a copy taken while nothing had it open) or see docs/reliability.md for "
          "recovery options. Nothing was changed.");
    }
    return st;
  }
  std::unique_ptr<Store> store(new Store());
  store->ingest_guard_ = std::move(ingest_guard);
  store->env_ = std::move(guarded_env);
  store->db_.reset(raw);
  store->default_handle_ = handles[0];
  for (size_t k = 0; k < desc_cf.size(); ++k) store->handles_[desc_cf[k]] = handles[k + 1];
  if (!missing.empty()) {
    std::vector<rocksdb::ColumnFamilyHandle*> created;
    rocksdb::Status c = raw->CreateColumnFamilies(missing, &created);
    // The handles of the families made before a failure are kept, so the
    // store's destructor releases them.
    for (size_t k = 0; k < created.size(); ++k) store->handles_[missing_cf[k]] = created[k];
    SYNCMGR_RETURN_IF_ERROR(
        FromRocks(c, fmt::format("create the column families of data directory {}", options.path)));
  }

  // Refused before the engine reads or writes anything. A read-write open
  // has let RocksDB recover its WAL by then, which changes no data (and
  // created no family: a newer format has every family this build knows).
  SYNCMGR_ASSIGN_OR_RETURN(int recorded, ReadFormatRecord(raw, store->default_handle_));
  if (recorded > kFormatVersion) {
    return NewerFormat(options.path, fmt::format("on-disk format {}", recorded));
  }
  if (exists && recorded > format_by_cfs) {
    return Status::Corruption(fmt::format(
        "data directory {} says it is in format {} but lacks column families of that format: "
        "damaged. Nothing was changed.",
        options.path, recorded));
  }
  store->info_log_ = db_opts.info_log;
  store->read_only_ = read_only;
  store->path_ = options.path;
  // Without the record, the families say 1 or 2 — or 3 when an upgrade
  // created the families of format 3 and stopped before its views and
  // record were written: format 2 then.
  store->format_ = recorded > 0 ? recorded
                   : exists     ? std::min(format_by_cfs, kLastFormatWithoutRecord)
                                : kFormatVersion;
  if (upgrade && recorded < kFormatVersion) {
    if (store->format_ < kFormatCounts) {
      // Views to build first (the engine does, then CommitUpgrade): the
      // record must not claim them before they are there.
      store->upgrade_pending_ = true;
      return store;
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    SYNCMGR_RETURN_IF_ERROR(
        FromRocks(raw->Put(wo, store->default_handle_, kFormatKey, std::to_string(kFormatVersion)),
                  "write the format record"));
    if (exists) {
      rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, db_opts.info_log,
                   "syncmgr: data directory format %d upgraded to %d", store->format_,
                   kFormatVersion);
    }
    store->format_ = kFormatVersion;
  }
  return store;
}

Status Store::CommitUpgrade(rocksdb::WriteBatch* views) {
  if (!upgrade_pending_) return Status::Internal("no format upgrade is pending");
  SYNCMGR_RETURN_IF_ERROR(FromRocks(
      views->Put(default_handle_, kFormatKey, std::to_string(kFormatVersion)), "upgrade batch"));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  SYNCMGR_RETURN_IF_ERROR(FromRocks(
      db_->Write(wo, views),
      fmt::format("upgrade data directory {} to on-disk format {}", path_, kFormatVersion)));
  rocksdb::Log(rocksdb::InfoLogLevel::INFO_LEVEL, info_log_,
               "syncmgr: data directory format %d upgraded to %d (%u view records added)", format_,
               kFormatVersion, static_cast<unsigned>(views->Count() - 1));
  format_ = kFormatVersion;
  upgrade_pending_ = false;
  return Status::Ok();
}

void Store::FlushForClose() {
  if (read_only_) return;
  uint64_t memtable_bytes = 0;
  if (!db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables,
                                     &memtable_bytes) ||
      memtable_bytes == 0) {
    return;
  }
  // Near a full disk the WAL stays as it is: a flush meeting ENOSPC could
  // take the process down (EngineOptions::min_free_bytes), and the WAL
  // already holds every write. The table files take less than the
  // memtables; twice their size plus a margin is room enough.
  struct statvfs vfs {};
  if (statvfs(path_.c_str(), &vfs) != 0 ||
      static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize < 2 * memtable_bytes + (64ull << 20)) {
    rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, info_log_,
                 "syncmgr: close without a flush (little free space); the WAL keeps the writes");
    return;
  }
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  for (auto* h : handles_) {
    if (h != nullptr) families.push_back(h);
  }
  if (default_handle_ != nullptr) families.push_back(default_handle_);
  rocksdb::FlushOptions fo;
  fo.wait = true;
  // Best effort: on failure the WAL still holds every write.
  db_->Flush(fo, families).PermitUncheckedError();
}

Store::~Store() {
  if (!db_) return;
  FlushForClose();
  for (auto* h : handles_) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  if (default_handle_ != nullptr) {
    db_->DestroyColumnFamilyHandle(default_handle_).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();  // best effort: the WAL already holds every write
}

Status Store::Get(Cf which, std::string_view key, std::string* value) const {
  if (cf(which) == nullptr) return Status::NotFound("");  // a family the directory lacks
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(which), rocksdb::Slice(key.data(), key.size()), value);
  if (s.IsNotFound()) return Status::NotFound("");
  return FromRocks(s, "read");
}

Status Store::MultiGet(Cf which, std::span<const std::string> keys,
                       const rocksdb::ReadOptions& ro, std::vector<rocksdb::PinnableSlice>* values,
                       std::vector<bool>* found) const {
  values->clear();
  values->resize(keys.size());
  found->assign(keys.size(), false);
  if (cf(which) == nullptr || keys.empty()) return Status::Ok();
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(ro, cf(which), slices.size(), slices.data(), values->data(), statuses.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return FromRocks(statuses[i], "read");
    (*found)[i] = true;
  }
  return Status::Ok();
}

Status Store::MultiGet(Cf which, const std::vector<std::string>& keys,
                       std::vector<std::string>* values, std::vector<bool>* found,
                       bool fill_cache) const {
  std::vector<rocksdb::PinnableSlice> pinned;
  rocksdb::ReadOptions ro;
  ro.fill_cache = fill_cache;
  SYNCMGR_RETURN_IF_ERROR(MultiGet(which, keys, ro, &pinned, found));
  values->resize(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if ((*found)[i]) (*values)[i].assign(pinned[i].data(), pinned[i].size());
  }
  return Status::Ok();
}

Status Store::Write(rocksdb::WriteBatch* batch, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(db_->Write(wo, batch), "write");
}

StoreIterator::StoreIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string lower,
                             std::string upper, const IteratorOptions& options)
    : lower_(std::move(lower)),
      upper_(std::move(upper)),
      lower_slice_(lower_),
      upper_slice_(upper_) {
  rocksdb::ReadOptions ro;
  ro.snapshot = options.snapshot;
  ro.fill_cache = options.fill_cache;
  // An empty lower bound is the start of the column family anyway; an empty
  // upper bound means none (the whole column family).
  if (!lower_.empty()) ro.iterate_lower_bound = &lower_slice_;
  if (!upper_.empty()) ro.iterate_upper_bound = &upper_slice_;
  // A family the directory lacks (an older format not upgraded) is empty.
  it_.reset(cf == nullptr ? rocksdb::NewEmptyIterator() : db->NewIterator(ro, cf));
}

Status StoreIterator::status(std::string_view context) const {
  return FromRocks(it_->status(), context);
}

std::unique_ptr<StoreIterator> Store::NewPrefixIterator(Cf which, std::string_view prefix,
                                                        const IteratorOptions& options) const {
  std::string upper = prefix.empty() ? std::string() : keys::PrefixEnd(prefix);
  return std::unique_ptr<StoreIterator>(
      new StoreIterator(db_.get(), cf(which), std::string(prefix), std::move(upper), options));
}

std::unique_ptr<StoreIterator> Store::NewRangeIterator(Cf which, std::string_view lower,
                                                       std::string_view upper,
                                                       const IteratorOptions& options) const {
  return std::unique_ptr<StoreIterator>(
      new StoreIterator(db_.get(), cf(which), std::string(lower), std::string(upper), options));
}

}  // namespace syncmgr
