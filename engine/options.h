// EngineOptions: how Engine::Open opens a data directory (engine/engine.h).
//
// Plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "engine/status.h"
#include "engine/types.h"

namespace rocksdb {
class Env;
}

namespace syncmgr {

class CommitHook;           // engine/cluster_hooks.h
class DeliveryStateStore;  // engine/cluster_hooks.h

struct EngineOptions {
  // Data directory; created if missing.
  std::string path;
  // Sync the WAL before a write returns (the durability guarantee).
  // Default: true. Only benchmarks of the unsafe mode turn it off, and
  // cluster mode, whose durability is the replicated log of record's
  // (docs/scaling.md).
  bool sync_writes = true;
  // RocksDB block cache. Default: 256 MiB.
  uint64_t block_cache_bytes = 256ull << 20;
  // Parsed import items buffered before the import takes the tenant's write
  // lock and starts writing. Default: 32 MiB.
  uint64_t import_buffer_bytes = 32ull << 20;
  // Log payload bytes held in memory by one operation before they are written
  // ahead as uncommitted log records (invisible until the commit record).
  // Default: 64 MiB.
  uint64_t write_chunk_bytes = 64ull << 20;
  // Bulk ingestion (docs/architecture.md, "Bulk ingestion"): a write-ahead
  // chunk of at least this many bytes, and a commit whose records (views
  // and remaining log records) reach it, are written as sorted table files
  // and added to RocksDB with one atomic IngestExternalFiles, not through
  // the WAL and the memtables. Same keys and values, same guarantees; it
  // saves the memtable inserts, the flush and most compactions of a large
  // import or a first sync, and costs a WAL sync and a flush of any memtable
  // whose keys the files overlap, so small operations keep the WAL path.
  // 0: never. Unit: bytes. Default: 16 MiB.
  uint64_t bulk_ingest_min_bytes = 16ull << 20;
  // A list of the current state without `after` (a whole list, or its
  // first page) samples where its first rows' data lies in the log and
  // reads the log files it will read much of whole, in large sequential
  // reads on a thread of its own, ahead of its own random block reads
  // (engine/log_prefetch.h; docs/architecture.md, "Reads"). false: never
  // (A/B runs). Default: true.
  bool list_prefetch = true;
  // Long reads use reader threads (engine/reader_thread.h): a list of more
  // than one batch (128 rows) reads its next batches' data on up to two
  // while its caller answers from the current one; an incremental sync of
  // more than one batch of candidates (512) reads every other batch on one
  // while it reads the others itself. At most max(2, cores) such threads in
  // the process; a read that finds none free runs in its caller's thread.
  // See docs/architecture.md, "Reads". false: never (A/B runs). Default: true.
  bool read_ahead = true;
  // An incremental sync learns what changed in the source from the source's
  // own events since the pair's last sync, read in one scan of that stretch
  // of the log (consecutive keys, mostly one import's), instead of a dense
  // id, a state record and a log record read per changed id, each a random
  // block. It falls back to those point reads when the stretch holds many
  // more events than the source has changed ids (other streams' events, or
  // one id changed many times) or when the scan does not account for
  // exactly the pair's changed-id set. Both ways give the same sync
  // (engine/sync.cc; docs/architecture.md, "Syncs: costing what changed").
  // false: always the point reads (A/B runs, tests). Default: true.
  bool sync_log_scan = true;
  // Open read-only (for tools that inspect a live directory's checkpoint).
  bool read_only = false;
  // A read-write open upgrades a directory of an older on-disk format to
  // this build's (docs/architecture.md, "Format versions"); builds older
  // than that format cannot open it afterwards. false: open it as it is
  // (an offline backup must not change the format of what it copies); then
  // push delivery state cannot be written to a directory that predates it.
  // Default: true.
  bool upgrade_format = true;
  // Open as a RocksDB secondary instance that follows a directory another
  // process (a running server) has open; its own files go to this scratch
  // directory. Implies read_only. Empty: a normal open.
  std::string secondary_path;
  // Writes are refused with NoSpace while the file system of `path` has
  // fewer free bytes than this (statvfs f_bavail * f_frsize, checked at the
  // start of every write and before each write-ahead chunk, cached for
  // 100 ms). Refusing early keeps RocksDB from ever meeting ENOSPC: Debian's
  // librocksdb 7.8.3 is built with assertions, and a WAL write hitting
  // ENOSPC was seen to abort the process. Reads go on; writes work again
  // once space returns. 0 disables the check. Unit: bytes. Default: 256 MiB.
  uint64_t min_free_bytes = 256ull << 20;
  // Tests only: the wall clock the engine reads, microseconds since the
  // epoch; it may step back. Called from any thread. Default (empty): the
  // system clock. Whatever it returns, the times the engine records are
  // ordered (EngineImpl::Now, WriteOp).
  std::function<int64_t()> clock_us;
  // Cluster mode (docs/scaling.md, "The engine API"): called on the write
  // path of every operation, under the tenant's write lock, before its
  // local writes (engine/cluster_hooks.h). Not owned; must outlive the
  // Engine. Default (nullptr): single-node mode.
  CommitHook* commit_hook = nullptr;
  // Cluster mode: called with a new API key's visible prefix before the key
  // is issued, to make it unique cluster-wide. OK: it is this tenant's;
  // Conflict: taken (another is drawn); any other error fails the write.
  // Default (empty): prefixes are checked against the local views only.
  std::function<Status(std::string_view prefix, TenantId tenant)> reserve_key_prefix;
  // Cluster mode: where push targets' delivery state lives instead of the
  // `delivery` column family (docs/scaling.md, "Push delivery"), so that it
  // survives a failover. Not owned; must outlive the Engine. Default
  // (nullptr): the column family.
  DeliveryStateStore* delivery_store = nullptr;
  // For tests: a fault-injecting Env (tests/support/fault_fs.h). Not owned;
  // must outlive the Engine. Default (nullptr): the real one.
  rocksdb::Env* env = nullptr;
};

}  // namespace syncmgr
