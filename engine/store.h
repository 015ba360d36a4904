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
//
// Thread-safety: the Store is safe for concurrent use (RocksDB is).
#pragma once

#include <rocksdb/db.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace syncmgr {

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
};
inline constexpr int kNumCfs = 11;

// Name of each column family, indexed by Cf.
std::string_view CfName(Cf cf);

// The view column families: everything but the log. Rebuild writes these.
inline constexpr std::array<Cf, 9> kViewCfs = {Cf::kStream, Cf::kState,   Cf::kHistory,
                                               Cf::kDense,  Cf::kCatalog, Cf::kAuth,
                                               Cf::kOpLog,  Cf::kMeta,    Cf::kBitmaps};

struct StoreOptions {
  std::string path;
  uint64_t block_cache_bytes = 256ull << 20;
  bool read_only = false;
  std::string secondary_path;  // non-empty: open as a secondary instance
  bool create_if_missing = true;
  // Fail if the directory already holds a database (replay output).
  bool error_if_exists = false;
  // Not owned; nullptr: rocksdb::Env::Default().
  rocksdb::Env* env = nullptr;
};

class Store {
 public:
  static StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(Cf which) const { return handles_[static_cast<int>(which)]; }

  // Reads one value. Returns NotFound when absent.
  Status Get(Cf which, std::string_view key, std::string* value) const;
  // Writes a batch; `sync` forces the WAL to disk first.
  Status Write(rocksdb::WriteBatch* batch, bool sync);

 private:
  Store() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, kNumCfs> handles_{};
  rocksdb::ColumnFamilyHandle* default_handle_ = nullptr;
};

// Maps a RocksDB status to ours (never leaks rocksdb::Status past engine/).
Status FromRocks(const rocksdb::Status& s, std::string_view context);

}  // namespace syncmgr
