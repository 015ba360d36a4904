// Store: the RocksDB instance and its column families. Internal to engine/.
//
// Column families (key layouts in keys.h):
//   log      the append-only event log, the source of truth
//   stream   per-stream index of the log (feed filters, push delivery)
//   state    current state of every property          (view)
//   history  every version of every property           (view)
//   dense    dense integer id -> external_id per stream (view)
//   catalog  tenants, sources, targets                 (view)
//   auth     API key hash -> tenant                    (view)
//   oplog    import log and sync log                   (view)
//   meta     per-tenant counters, per-stream counters, sync pairs (view)
//   bitmaps  roaring bitmaps: live sets, changed-since-last-sync sets (view)
//   delivery push delivery: cursors and dead letters (delivery_store.cc;
//            operational state, neither log nor view: replay leaves it out)
//   manual   per target, its live ids whose last change was manual (view;
//            format 3)
//   default  RocksDB's own; holds only the directory's format record
//
// On-disk formats (docs/architecture.md, "Format versions"): 1 has every
// family above but `delivery` and `manual`, 2 has `delivery` too, 3 has
// `manual` and the counts in each StreamMeta (fold.h). A read-write open
// that upgrades (the default) creates the families a directory lacks; a
// directory of format 3 or later gets the format record at once, an older
// one once the engine has built the views it lacks (upgrade_pending(),
// CommitUpgrade: the views and the record in one batch, so a crash leaves
// the old format and the next open redoes it). Format 3 adds a family so
// that builds before the format record, which do not read it, still refuse
// to write a directory whose views they would not keep (RocksDB refuses a
// read-write open that does not name every family).
// The read-only modes, and a read-write open with upgrade = false, open the
// families it has and leave the others missing (cf() is nullptr for them;
// Get answers NotFound, iterators are empty), and format() tells readers
// which views to expect. A directory of a newer format — by its record, or
// by a family this build does not know — is refused in every mode before
// the engine reads or writes any of it.
//
// Thread-safety: the Store is safe for concurrent use (RocksDB is).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace syncmgr {

class IngestGuardFs;

enum class Cf : int {
  kLog = 0,
  kStream,
  kState,
  kHistory,
  kDense,
  kCatalog,
  kAuth,
  kOpLog,
  kMeta,
  kBitmaps,
  kDelivery,
  kManual,
};
inline constexpr int kNumCfs = 12;

// Name of each column family, indexed by Cf.
std::string_view CfName(Cf cf);

// The newest on-disk format this build reads, and the one it writes.
inline constexpr int kFormatVersion = 3;
// The first format whose views hold the per-stream counts and the manual
// bitmaps (fold.h); older directories are read without them (counts.h).
inline constexpr int kFormatCounts = 3;
// Directories without a format record are of format 1 or 2 (the record
// came with format 2; every later format writes it as it creates or
// upgrades a directory).
inline constexpr int kLastFormatWithoutRecord = 2;

// The view column families: everything but the log and delivery. Rebuild
// writes these.
inline constexpr std::array<Cf, 10> kViewCfs = {Cf::kStream, Cf::kState,   Cf::kHistory,
                                                Cf::kDense,  Cf::kCatalog, Cf::kAuth,
                                                Cf::kOpLog,  Cf::kMeta,    Cf::kBitmaps,
                                                Cf::kManual};

// How a StoreIterator reads.
struct IteratorOptions {
  // Read the state of this snapshot. Not owned; must outlive the iterator.
  // Default (nullptr): the state when the iterator is created.
  const rocksdb::Snapshot* snapshot = nullptr;
  // Keep the blocks read in the block cache. Off for scans of a whole
  // stream or column family, so they do not evict the hot set.
  // Default: true.
  bool fill_cache = true;
};

// An iterator over the keys of one column family in a range [lower, upper),
// set as RocksDB's iterate_lower_bound / iterate_upper_bound: RocksDB stops
// at the bound instead of reading past it, and Valid() is false outside the
// range in either direction. Seek and SeekForPrev to a key outside the range
// land at its nearest end; SeekToFirst / SeekToLast go to the range's first /
// last key. The iterator owns the bounds' bytes. Not thread-safe; made by
// Store::NewPrefixIterator or Store::NewRangeIterator.
class StoreIterator {
 public:
  StoreIterator(const StoreIterator&) = delete;
  StoreIterator& operator=(const StoreIterator&) = delete;

  bool Valid() const { return it_->Valid(); }
  void SeekToFirst() { it_->SeekToFirst(); }
  void SeekToLast() { it_->SeekToLast(); }
  void Seek(std::string_view target) { it_->Seek(rocksdb::Slice(target.data(), target.size())); }
  void SeekForPrev(std::string_view target) {
    it_->SeekForPrev(rocksdb::Slice(target.data(), target.size()));
  }
  void Next() { it_->Next(); }
  void Prev() { it_->Prev(); }
  // REQUIRES: Valid(). Both point into the iterator's current block: valid
  // until it moves. Not aligned: copy before reading FlatBuffers from them.
  std::string_view key() const { return it_->key().ToStringView(); }
  std::string_view value() const { return it_->value().ToStringView(); }
  // OK, or why the iteration stopped early (an I/O error, corruption);
  // `context` starts the message.
  Status status(std::string_view context) const;

 private:
  friend class Store;
  StoreIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string lower,
                std::string upper, const IteratorOptions& options);

  // Referred to by the iterator's ReadOptions: kept at a fixed address.
  const std::string lower_, upper_;
  const rocksdb::Slice lower_slice_, upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

struct StoreOptions {
  std::string path;
  uint64_t block_cache_bytes = 256ull << 20;
  bool read_only = false;
  std::string secondary_path;  // non-empty: open as a secondary instance
  bool create_if_missing = true;
  // Fail if the directory already holds a database (replay output).
  bool error_if_exists = false;
  // A read-write open of an older format upgrades it to kFormatVersion
  // (creates the missing column families, writes the format record).
  // false: opens it as it is, writing neither (an offline backup, which
  // must not upgrade the directory it copies); its missing families must
  // not be written. Ignored by the read-only modes, which never upgrade.
  bool upgrade = true;
  // Not owned; nullptr: rocksdb::Env::Default().
  rocksdb::Env* env = nullptr;
};

class Store {
 public:
  static StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();

  rocksdb::DB* db() const { return db_.get(); }
  // The file system a read-write store's RocksDB writes through, which
  // bulk ingestion brackets each ingestion with (engine/ingest_guard.h);
  // nullptr in the read-only modes, which ingest nothing.
  IngestGuardFs* ingest_guard() const { return ingest_guard_.get(); }
  // nullptr for a family the directory lacks (an older format not upgraded).
  rocksdb::ColumnFamilyHandle* cf(Cf which) const { return handles_[static_cast<int>(which)]; }

  // Reads one value. Returns NotFound when absent (also from a missing family).
  Status Get(Cf which, std::string_view key, std::string* value) const;
  // Reads the values of `keys` in one batched lookup (RocksDB's MultiGet:
  // the keys sorted, each index and data block looked up once for all the
  // keys it holds). (*values)[i] holds keys[i]'s value, copied (so aligned
  // for FlatBuffers), and (*found)[i] says whether it exists; a missing
  // family finds nothing. Any error but NotFound fails the call. Both
  // vectors are resized to keys.size(); the strings keep their capacity
  // from one call to the next. `fill_cache` false: the blocks read are not
  // kept in the block cache (reads of blocks no other read is likely to
  // want soon; an insert into a full cache costs an eviction and, often,
  // fresh pages: bench/report_notes.md, "Round 31").
  Status MultiGet(Cf which, const std::vector<std::string>& keys,
                  std::vector<std::string>* values, std::vector<bool>* found,
                  bool fill_cache = true) const;
  // The same lookup without copies, for callers that copy only some values:
  // (*values)[i] is keys[i]'s value, pinned where RocksDB holds it (not
  // aligned) and valid until the vector is destroyed or reused, when
  // (*found)[i]. Any error but NotFound fails the call.
  Status MultiGet(Cf which, std::span<const std::string> keys, const rocksdb::ReadOptions& ro,
                  std::vector<rocksdb::PinnableSlice>* values, std::vector<bool>* found) const;
  // Writes a batch; `sync` forces the WAL to disk first.
  Status Write(rocksdb::WriteBatch* batch, bool sync);

  // The on-disk format of the directory's views: kFormatVersion once a
  // read-write open has upgraded it (or created it), else what it was.
  int format() const { return format_; }
  // A read-write open of a directory older than kFormatCounts that is to be
  // upgraded: the views it lacks must be built and committed with
  // CommitUpgrade before anything else is written.
  bool upgrade_pending() const { return upgrade_pending_; }
  // Writes `views` (the records the upgrade adds) and the format record
  // kFormatVersion in one synced batch; then format() is kFormatVersion.
  // REQUIRES: upgrade_pending(), and nothing else is using the store yet.
  Status CommitUpgrade(rocksdb::WriteBatch* views);

  // Every key of `which` that starts with `prefix`; every key of `which`
  // when `prefix` is empty. The only way engine/ iterates the store.
  std::unique_ptr<StoreIterator> NewPrefixIterator(Cf which, std::string_view prefix,
                                                   const IteratorOptions& options = {}) const;
  // Every key of `which` in [lower, upper), for a range narrower than a
  // prefix (the log up to a committed seq). REQUIRES: lower < upper.
  std::unique_ptr<StoreIterator> NewRangeIterator(Cf which, std::string_view lower,
                                                  std::string_view upper,
                                                  const IteratorOptions& options = {}) const;

 private:
  Store() = default;
  // A clean stop (the destructor) flushes the memtables of a read-write
  // store, so that the directory a user finds holds compressed table files,
  // not the WAL's uncompressed copy of the last writes (up to
  // max_total_wal_size: 256 MiB, ~0.3x the raw input of N = 200 k). RocksDB
  // itself flushes at close only when the WAL is off. No compaction is
  // forced; a failed or skipped flush leaves the WAL, which replays at the
  // next open as before.
  void FlushForClose();
  // Declared before db_, so destroyed after it: RocksDB uses them until closed.
  std::shared_ptr<IngestGuardFs> ingest_guard_;
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, kNumCfs> handles_{};
  rocksdb::ColumnFamilyHandle* default_handle_ = nullptr;
  std::shared_ptr<rocksdb::Logger> info_log_;
  std::string path_;
  int format_ = kFormatVersion;
  bool upgrade_pending_ = false;
  bool read_only_ = false;  // read-only or secondary: never flushes
};

// Maps a RocksDB status to ours (never leaks rocksdb::Status past engine/).
Status FromRocks(const rocksdb::Status& s, std::string_view context);

}  // namespace syncmgr
