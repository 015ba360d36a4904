// Engine: the event-sourced storage engine of Sync Manager.
//
// Every write (tenant / source / target creation, import, sync, manual edit)
// appends immutable events to the tenant's log and updates the materialized
// views in one atomic, synced RocksDB WriteBatch. Views are folds of the log
// and can be rebuilt from it (Rebuild). See docs/architecture.md.
//
// Thread-safety: an Engine is safe for concurrent use from many threads
// without outside locking. Writes of one tenant are serialized; writes of
// different tenants proceed in parallel and share WAL syncs (group commit).
// Reads never block writes. Cursors and ImportSessions are not thread-safe:
// use each from one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/delivery_types.h"
#include "engine/status.h"
#include "engine/types.h"

namespace rocksdb {
class Env;
}

namespace syncmgr {

class EngineImpl;

// What Engine::Backup wrote.
struct BackupInfo {
  std::string path;           // the copy's directory (absolute)
  uint64_t files = 0;         // files in the copy
  uint64_t bytes = 0;         // their total size
  uint64_t linked_files = 0;  // of them, hard links to the live directory's files
};

struct EngineOptions {
  // Data directory; created if missing.
  std::string path;
  // Sync the WAL before a write returns (the durability guarantee).
  // Default: true. Only benchmarks of the unsafe mode turn it off.
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
  // Open read-only (for tools that inspect a live directory's checkpoint).
  bool read_only = false;
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
  // For tests: a fault-injecting Env (tests/support/fault_fs.h). Not owned;
  // must outlive the Engine. Default (nullptr): the real one.
  rocksdb::Env* env = nullptr;
};

// An import in progress. Feed the body with Append (in chunks of any size),
// then Finish. Destroying a session without Finish discards it: nothing of it
// becomes visible. Append and Finish block (RocksDB reads and writes, and
// from the first full buffer on, the tenant's write lock); the destructor may
// block briefly to delete records the session wrote ahead.
class ImportSession {
 public:
  virtual ~ImportSession() = default;
  // Consumes the next chunk of the body. Returns the first error found in the
  // input (the import is then dead: Finish returns the same error).
  virtual Status Append(std::string_view chunk) = 0;
  // Ends the input, applies the import atomically and returns its result.
  virtual StatusOr<ImportResult> Finish() = 0;
  // Items parsed so far (for progress reporting).
  virtual uint64_t items_received() const = 0;
};

// Streams properties in external_id byte order. Not thread-safe.
class PropertyCursor {
 public:
  virtual ~PropertyCursor() = default;
  // Fills *out with the next property; false at the end or on error
  // (check status()).
  virtual bool Next(PropertyRecord* out) = 0;
  virtual Status status() const = 0;
};

class Engine {
 public:
  // Opens (creating if needed) the data directory. Recovers from a crash:
  // uncommitted log records of an interrupted operation are discarded.
  // Returns Corruption with a message on how to recover if the WAL or the
  // files are damaged; never silently drops acknowledged data.
  static StatusOr<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- Tenants and keys --------------------------------------------------
  // Creates a tenant and its first API key (returned once, stored hashed).
  StatusOr<TenantCreatedInfo> CreateTenant(std::string_view name);
  std::vector<TenantInfo> ListTenants();
  // Returns the tenant a key belongs to; Unauthorized if unknown or revoked.
  // Compares hashes, never the key itself. One RocksDB point read: usually
  // served from the block cache, but it may block on disk.
  StatusOr<TenantId> Authenticate(std::string_view api_key);
  // Issues a further key for a tenant (rotation); the tenant's other keys
  // keep working. The key is returned this once. NotFound if no tenant.
  StatusOr<ApiKeyIssued> CreateApiKey(TenantId tenant);
  // Every key of a tenant, active and revoked, ordered by prefix. NotFound if
  // no tenant. Scans the key view (a few keys per tenant).
  StatusOr<std::vector<ApiKeyInfo>> ListApiKeys(TenantId tenant);
  // Revokes the key with this visible prefix, whatever its tenant (an
  // operator action; an ApiKeyRevoked event in that tenant's log). From the
  // moment this returns, Authenticate refuses the key; the tenant's other
  // keys are untouched. NotFound if no key has the prefix; Conflict if it is
  // already revoked. Nothing is written on error.
  StatusOr<ApiKeyInfo> RevokeApiKey(std::string_view prefix);

  // ---- Change-feed tokens (engine/feed_tokens.cc) --------------------------
  // Issues a read-only feed token ("smf_" + 64 hex + 8 hex CRC-32), event-
  // sourced (a FeedTokenCreated event; only its SHA-256 is stored).
  // InvalidArgument if ttl_s is outside [1, kMaxFeedTokenTtlS]; NotFound if
  // the tenant or a named stream does not exist. Nothing written on error.
  StatusOr<FeedTokenIssued> CreateFeedToken(TenantId tenant, const FeedTokenSpec& spec);
  // What a token allows. Unauthorized if it is malformed, unknown or expired
  // (its expiry is compared with the wall clock). One point read.
  StatusOr<FeedTokenInfo> AuthenticateFeedToken(std::string_view token);

  // ---- Catalog -----------------------------------------------------------
  StatusOr<SourceInfo> CreateSource(TenantId tenant, const SourceSpec& spec);
  StatusOr<SourceInfo> GetSource(TenantId tenant, uint32_t source_id);
  StatusOr<std::vector<SourceInfo>> ListSources(TenantId tenant);
  StatusOr<TargetInfo> CreateTarget(TenantId tenant, const TargetSpec& spec);
  StatusOr<TargetInfo> GetTarget(TenantId tenant, uint32_t target_id);
  StatusOr<std::vector<TargetInfo>> ListTargets(TenantId tenant);

  // ---- Import ------------------------------------------------------------
  // Starts an import into a source. NotFound if the tenant or source does
  // not exist.
  StatusOr<std::unique_ptr<ImportSession>> BeginImport(TenantId tenant, uint32_t source_id,
                                                       const ImportOptions& options);
  // Convenience: the whole body at once.
  StatusOr<ImportResult> Import(TenantId tenant, uint32_t source_id, const ImportOptions& options,
                                std::string_view body);

  // ---- Sync --------------------------------------------------------------
  // Reconciles a source into a target. Incremental: costs what changed in the
  // source (and in the target) since this pair last synced.
  StatusOr<SyncResult> Sync(TenantId tenant, uint32_t source_id, uint32_t target_id,
                            const SyncOptions& options);

  // ---- Manual edits of target properties -----------------------------------
  // `json` must be a JSON object. Returns the new state.
  StatusOr<PropertyRecord> PutTargetProperty(TenantId tenant, uint32_t target_id,
                                             std::string_view external_id, std::string_view json);
  // NotFound if the property does not exist (or is already removed).
  StatusOr<PropertyRecord> DeleteTargetProperty(TenantId tenant, uint32_t target_id,
                                                std::string_view external_id);

  // ---- Reads ---------------------------------------------------------------
  // One property (as of a point when options.as_of is set). NotFound if the
  // stream does not exist or the property is absent (or removed) then.
  StatusOr<PropertyRecord> GetProperty(TenantId tenant, StreamRef stream,
                                       std::string_view external_id, const ReadOptions& options);
  // Properties of a stream ordered by external_id, streamed.
  StatusOr<std::unique_ptr<PropertyCursor>> ListProperties(TenantId tenant, StreamRef stream,
                                                           const ListOptions& options);
  // Every version of a property, oldest first. NotFound if it never existed.
  StatusOr<std::vector<HistoryEntry>> History(TenantId tenant, StreamRef stream,
                                              std::string_view external_id);
  StatusOr<std::vector<ImportLogEntry>> ListImports(TenantId tenant,
                                                    std::optional<uint32_t> source_id,
                                                    uint32_t limit);
  StatusOr<ImportLogEntry> GetImport(TenantId tenant, uint64_t import_id);
  StatusOr<std::vector<SyncLogEntry>> ListSyncLogs(TenantId tenant, const SyncLogFilter& filter);
  StatusOr<SyncLogEntry> GetSyncLog(TenantId tenant, uint64_t sync_id);

  // ---- Log -------------------------------------------------------------------
  // The last committed seq of a tenant (0 if none).
  StatusOr<uint64_t> LastSeq(TenantId tenant);
  // The seq of the tenant's last event at or before `time_us` (0 if none):
  // what "as of a time" means. Event times never go backwards within a
  // tenant, so this is a binary search over the log: O(log n) lookups.
  StatusOr<uint64_t> SeqAtTime(TenantId tenant, int64_t time_us);
  // Reads committed events with seq > after_seq in order.
  StatusOr<LogPage> ReadLog(TenantId tenant, const LogQuery& query);
  // Calls `fn` after each commit of `tenant` (any tenant when 0) with the new
  // last seq. Returns a handle; pass it to Unsubscribe. fn must not block.
  uint64_t SubscribeCommits(std::function<void(TenantId, uint64_t last_seq)> fn);
  void UnsubscribeCommits(uint64_t handle);

  // ---- Push delivery state (engine/delivery_store.cc) ------------------------
  // A push target's delivery record; a default record if none was written.
  // NotFound if the tenant or the target does not exist.
  StatusOr<DeliveryRecord> GetDelivery(TenantId tenant, uint32_t target_id);
  // Writes `write` in one atomic batch (see DeliveryWrite). NotFound if the
  // tenant or target does not exist; NoSpace while the disk is nearly full.
  Status WriteDelivery(TenantId tenant, uint32_t target_id, const DeliveryWrite& write);
  // Dead letters of a target with id > after_id, oldest first, at most
  // `limit` (0: all).
  StatusOr<std::vector<DeadLetter>> ListDeadLetters(TenantId tenant, uint32_t target_id,
                                                    uint64_t after_id, uint32_t limit);
  // NotFound if the dead letter does not exist (or was retried successfully).
  StatusOr<DeadLetter> GetDeadLetter(TenantId tenant, uint32_t target_id, uint64_t id);
  // Number of events of `stream` with after_seq < seq <= upto_seq (a walk of
  // the stream index keys: no event is read).
  StatusOr<uint64_t> CountStreamEvents(TenantId tenant, StreamRef stream, uint64_t after_seq,
                                       uint64_t upto_seq);

  // ---- Maintenance -----------------------------------------------------------
  // Folds the whole log of every tenant (up to `as_of` per tenant, if given)
  // into fresh views in the data directory `out_path` (created; must not
  // exist). The result opens with Open() and serves that state.
  Status ReplayInto(const std::string& out_path, const ReplayOptions& options);
  // Rebuilds every view from the log in a scratch directory and compares it
  // with the live views. Fills `diffs` (at most `max_diffs`) and returns OK
  // when equal; Corruption when they differ.
  Status VerifyViews(std::vector<std::string>* diffs, size_t max_diffs = 20,
                     const ProgressFn& progress = nullptr);
  // Writes an online, consistent copy of the data directory to `out_dir`
  // (engine/backup.cc): a RocksDB checkpoint (memtables flushed; table files
  // hard-linked when `out_dir` is on the same file system, copied
  // otherwise). Writers go on meanwhile; the copy holds every operation
  // committed before the call and opens with Open(). It never includes
  // files that are not the engine's (admin.key). InvalidArgument if
  // `out_dir` is relative, exists, or its parent is not a writable
  // directory; Unavailable on a read-only or secondary engine. Blocks
  // (a flush and the file copies).
  StatusOr<BackupInfo> Backup(const std::string& out_dir);

 private:
  explicit Engine(std::unique_ptr<EngineImpl> impl);
  std::unique_ptr<EngineImpl> impl_;
};

}  // namespace syncmgr
