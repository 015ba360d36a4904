// Engine: the event-sourced storage engine of Sync Manager.
//
// Every write (tenant / source / target creation, import, sync, manual edit)
// appends immutable events to the tenant's log and updates the materialized
// views in one atomic, synced RocksDB WriteBatch. Views are folds of the log
// and can be rebuilt from it (ReplayInto). See docs/architecture.md.
//
// Thread-safety: an Engine is safe for concurrent use from many threads
// without outside locking. Writes of one tenant are serialized; writes of
// different tenants proceed in parallel and share WAL syncs (group commit).
// Reads never block writes. ImportSessions and PropertyCursors are not
// thread-safe (engine/streaming.h).
//
// Errors. Every method that can fail returns a Status (engine/status.h) whose
// code says what went wrong; each method lists the codes it returns for its
// own reasons. Besides those:
//   * any method that reads the store may return Corruption (stored data,
//     or a log record a view points at, fails a check or is missing) and
//     Internal (an I/O error; RocksDB's own failures), rarely NoSpace or
//     Unavailable (RocksDB out of space, busy or timed out);
//   * every write of a tenant ("Writes" below) may also return
//       NotFound     the tenant does not exist;
//       Unavailable  the engine is read-only or a secondary; or writes are
//                    paused while the storage recovers from a failed WAL
//                    write (retry later; the message says which);
//       NoSpace      the data directory's file system has less free space
//                    than EngineOptions::min_free_bytes;
//     all three before anything is written. A write that fails after its
//     commit record reached RocksDB's WAL returns NoSpace or Unavailable
//     with a message starting "outcome unknown": the operation may or may
//     not have been applied (check the import log, the sync log or the
//     property before retrying).
// Unless a method says otherwise, nothing is written when it fails.
// Writes: CreateTenant, CreateApiKey, RevokeApiKey, CreateFeedToken,
// CreateSource, CreateTarget, the import's Append and Finish, Sync,
// PutTargetProperty, DeleteTargetProperty.
// In cluster mode (EngineOptions::commit_hook) a write also returns whatever
// the hook refuses it with (engine/cluster_hooks.h), with nothing written
// here; ApplyFromLog writes what the log of record says.
//
// Reads of a tenant return NotFound when the tenant does not exist. They see
// whole operations, never part of one: reads of the log and of the past
// (ReadLog, as_of reads, History, CountStreamEvents) stop at the tenant's
// last durable commit; reads of the current state may already see an
// operation whose WAL sync is still under way.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cluster_hooks.h"
#include "engine/delivery_types.h"
#include "engine/options.h"
#include "engine/status.h"
#include "engine/streaming.h"
#include "engine/types.h"

namespace syncmgr {

class EngineImpl;

class Engine {
 public:
  // Opens (creating if needed) the data directory. Recovers from a crash:
  // uncommitted log records of an interrupted operation are discarded.
  // Takes every earlier on-disk format; a read-write open upgrades it unless
  // options.upgrade_format is false (docs/architecture.md, "Format
  // versions"). Returns Conflict for a directory of a newer format (its
  // message names what to run) before reading or writing any of it;
  // Unavailable if another process has the directory open;
  // Corruption, with a message on how to recover, if the WAL or the files
  // are damaged (acknowledged data is never silently dropped); Internal for
  // most other failures to open (e.g. a read-only open of a directory that
  // holds no database).
  static StatusOr<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- Tenants and keys ----------------------------------------------------
  // Creates a tenant and its first API key (returned once, stored hashed).
  // A write. InvalidArgument if `name` is empty or longer than 256 bytes.
  StatusOr<TenantCreatedInfo> CreateTenant(std::string_view name);
  // The same with an id allocated outside (cluster mode: the cluster's id
  // counter). InvalidArgument also for id 0; Conflict if a tenant has the
  // id. The tenant may be known from the log of record already (its fence,
  // folded by ApplyFromLog): its stored cursor then goes to the hook.
  StatusOr<TenantCreatedInfo> CreateTenant(std::string_view name, TenantId id);
  // Every tenant, by id. Scans the catalog. No error is reported: a read
  // error ends the list early.
  std::vector<TenantInfo> ListTenants();
  // Returns the tenant a key belongs to; Unauthorized if the key is
  // malformed, unknown or revoked. Compares hashes, never the key itself.
  // A key that authenticated before is answered from memory (a bounded
  // cache of key digests, emptied of a key when its revocation is written
  // or applied from the log of record; engine/auth_cache.h); else one
  // RocksDB point read, usually served from the block cache, but it may
  // block on disk.
  StatusOr<TenantId> Authenticate(std::string_view api_key);
  // The same, for a caller that has already computed the key's SHA-256
  // (HashApiKey, engine/api_keys.h), as the server has for its admin-key
  // check: a GET then hashes its key once, not twice (issue 18).
  // REQUIRES: key_sha256 == HashApiKey(api_key).
  StatusOr<TenantId> AuthenticateHashed(std::string_view api_key, std::string_view key_sha256);
  // Issues a further key for a tenant (rotation); the tenant's other keys
  // keep working. The key is returned this once. A write.
  StatusOr<ApiKeyIssued> CreateApiKey(TenantId tenant);
  // Every key of a tenant, active and revoked, ordered by prefix. NotFound if
  // no tenant. Scans the key view (a few keys per tenant).
  StatusOr<std::vector<ApiKeyInfo>> ListApiKeys(TenantId tenant);
  // Revokes the key with this visible prefix, whatever its tenant (an
  // operator action; an ApiKeyRevoked event in that tenant's log). From the
  // moment this returns, Authenticate refuses the key; the tenant's other
  // keys are untouched. A write. InvalidArgument if `prefix` is not "smk_"
  // and 8 lower-case hex digits; NotFound if no key has the prefix; Conflict
  // if it is already revoked, if two keys share the prefix (none is
  // revoked), or if the key changed while this ran (try again).
  StatusOr<ApiKeyInfo> RevokeApiKey(std::string_view prefix);

  // ---- Change-feed tokens (engine/feed_tokens.cc) --------------------------
  // Issues a read-only feed token ("smf_" + 64 hex + 8 hex CRC-32), event-
  // sourced (a FeedTokenCreated event; only its SHA-256 is stored). A write.
  // InvalidArgument if ttl_s is outside [1, kMaxFeedTokenTtlS]; NotFound if
  // the tenant or a named stream does not exist.
  StatusOr<FeedTokenIssued> CreateFeedToken(TenantId tenant, const FeedTokenSpec& spec);
  // What a token allows. Unauthorized if it is malformed, unknown or expired
  // (its expiry is compared with the wall clock); Corruption if its record
  // fails verification. One point read.
  StatusOr<FeedTokenInfo> AuthenticateFeedToken(std::string_view token);

  // ---- Catalog -------------------------------------------------------------
  // Creates a source; its id is the tenant's next (from 1). A write.
  // InvalidArgument if the name is empty or longer than 256 bytes, if
  // max_removal_ratio is outside [0, 1], if id_field is longer than 256
  // bytes or an ignore_fields entry is empty or longer than 256 bytes.
  StatusOr<SourceInfo> CreateSource(TenantId tenant, const SourceSpec& spec);
  // NotFound if the tenant or the source does not exist.
  StatusOr<SourceInfo> GetSource(TenantId tenant, uint32_t source_id);
  // The tenant's sources by id. NotFound if no tenant.
  StatusOr<std::vector<SourceInfo>> ListSources(TenantId tenant);
  // Creates a target; its id is the tenant's next (from 1); its config is
  // stored in canonical form. A write. InvalidArgument if the name is empty
  // or longer than 256 bytes, if the type is not internal, webhook, postgres,
  // file or ftp, or if config_json is not a JSON object (nests too deep,
  // repeats a key); InvalidJson if config_json is not well-formed JSON.
  StatusOr<TargetInfo> CreateTarget(TenantId tenant, const TargetSpec& spec);
  // NotFound if the tenant or the target does not exist.
  StatusOr<TargetInfo> GetTarget(TenantId tenant, uint32_t target_id);
  // The tenant's targets by id. NotFound if no tenant.
  StatusOr<std::vector<TargetInfo>> ListTargets(TenantId tenant);

  // ---- Import ----------------------------------------------------------------
  // Starts an import into a source (engine/streaming.h says how a session
  // is fed, and which errors its Append and Finish return). NotFound if the
  // tenant or the source does not exist. Writes nothing by itself.
  StatusOr<std::unique_ptr<ImportSession>> BeginImport(TenantId tenant, uint32_t source_id,
                                                       const ImportOptions& options);
  // Convenience: the whole body at once. The errors of BeginImport, Append
  // and Finish.
  StatusOr<ImportResult> Import(TenantId tenant, uint32_t source_id, const ImportOptions& options,
                                std::string_view body);

  // ---- Sync ------------------------------------------------------------------
  // Reconciles a source into a target, all or nothing. Incremental: costs
  // what changed in the source (and in the target) since this pair last
  // synced. Conflicts with manual edits are counted and reported as
  // warnings, never errors. A write, even with dry_run (which takes the
  // tenant's write lock but writes nothing: the result says what a sync
  // would do). NotFound if the source or the target does not exist.
  StatusOr<SyncResult> Sync(TenantId tenant, uint32_t source_id, uint32_t target_id,
                            const SyncOptions& options);

  // ---- Manual edits of target properties -------------------------------------
  // Sets a target property to `json` (a new version, marked manually
  // modified) and returns its new state. Idempotent: the same content as the
  // live version writes nothing and returns that version. A write.
  // InvalidArgument if external_id is empty or longer than 256 bytes, or if
  // `json` is not a JSON object (nests too deep, repeats a key);
  // InvalidJson if `json` is not well-formed JSON; NotFound if the target
  // does not exist.
  StatusOr<PropertyRecord> PutTargetProperty(TenantId tenant, uint32_t target_id,
                                             std::string_view external_id, std::string_view json);
  // Removes a target property (a new, removed version) and returns that
  // version (removed set, no data). A write. InvalidArgument if external_id
  // is empty or longer than 256 bytes; NotFound if the target does not
  // exist, or the property does not (or is already removed).
  StatusOr<PropertyRecord> DeleteTargetProperty(TenantId tenant, uint32_t target_id,
                                                std::string_view external_id);

  // ---- Reads -----------------------------------------------------------------
  // One property (as of a point when options.as_of_seq is set; a seq past
  // the last commit means now). NotFound if the stream does not exist or
  // the property is absent (or removed) then.
  StatusOr<PropertyRecord> GetProperty(TenantId tenant, StreamRef stream,
                                       std::string_view external_id, const ReadOptions& options);
  // Properties of a stream ordered by external_id, streamed; removed ones
  // are left out. NotFound if the stream does not exist; later errors come
  // from the cursor's status().
  StatusOr<std::unique_ptr<PropertyCursor>> ListProperties(TenantId tenant, StreamRef stream,
                                                           const ListOptions& options);
  // Every version of a property, oldest first. NotFound if the stream does
  // not exist or the property never existed in it.
  StatusOr<std::vector<HistoryEntry>> History(TenantId tenant, StreamRef stream,
                                              std::string_view external_id);
  // Import log entries, newest first, at most `limit` (0: all), only of
  // `source_id` when given (an unknown source gives none).
  StatusOr<std::vector<ImportLogEntry>> ListImports(TenantId tenant,
                                                    std::optional<uint32_t> source_id,
                                                    uint32_t limit);
  // NotFound if the tenant or the import does not exist.
  StatusOr<ImportLogEntry> GetImport(TenantId tenant, uint64_t import_id);
  // Sync log entries, newest first, filtered and limited as `filter` says.
  StatusOr<std::vector<SyncLogEntry>> ListSyncLogs(TenantId tenant, const SyncLogFilter& filter);
  // NotFound if the tenant or the sync does not exist.
  StatusOr<SyncLogEntry> GetSyncLog(TenantId tenant, uint64_t sync_id);

  // ---- Log -------------------------------------------------------------------
  // The last committed seq of a tenant (0 if none).
  StatusOr<uint64_t> LastSeq(TenantId tenant);
  // The seq of the tenant's last event at or before `time_us` (0 if none):
  // what "as of a time" means. Event times never go backwards within a
  // tenant, so this is a binary search over the log: O(log n) lookups.
  StatusOr<uint64_t> SeqAtTime(TenantId tenant, int64_t time_us);
  // Committed events with seq > query.after_seq, in order: at most
  // query.limit of them, after scanning at most query.scan_budget records
  // (without query.every_kind, catalog events are scanned but not
  // returned). With query.stream, that stream's events: its creation event
  // (every_kind), then its changes; a sync.completed belongs to its source
  // and its target streams here. LogPage::last_seq is the last seq scanned,
  // so the next page starts after it; it is the last committed seq once the
  // scan reached the end.
  StatusOr<LogPage> ReadLog(TenantId tenant, const LogQuery& query);
  // Calls `fn` after every commit of any tenant (once it is durable, with
  // sync_writes), with the tenant and its new last seq, on the committing
  // thread. Returns a handle for
  // UnsubscribeCommits. `fn` must not block, and must not call
  // SubscribeCommits or UnsubscribeCommits (subscribers are called under
  // the lock those take).
  uint64_t SubscribeCommits(std::function<void(TenantId, uint64_t last_seq)> fn);
  // From its return on, the subscriber's `fn` is not running and is not
  // called again. Unknown handles are ignored.
  void UnsubscribeCommits(uint64_t handle);
  // A secondary engine (EngineOptions::secondary_path) reads the directory
  // as it was when it opened; this makes it see what the primary (a running
  // server) has committed since, new tenants included (RocksDB's
  // TryCatchUpWithPrimary). Followers of the log on a live directory call it
  // between reads (`syncmgr feed --follow --db`). Commit subscribers are not
  // called. InvalidArgument on an engine that is not a secondary.
  Status CatchUpWithPrimary();

  // ---- Cluster mode (engine/cluster_apply.cc, docs/scaling.md) ---------------
  // Folds one message of the log of record into the views. Under the
  // tenant's write lock: calls `decide` with the tenant's stored cursor (""
  // if none; the tenant need not exist yet), then folds the records it
  // returns with the same ViewFolder as the write path and replay, and
  // writes the log records, the views, the tenant's meta, its new cursor and
  // `node_cursor` (unless empty) in one batch (written ahead first when
  // large, as a local operation's). A fold whose last_seq <= LastSeq(tenant)
  // only moves the cursors (this node wrote it as the tenant's owner); any
  // other fold must start at LastSeq(tenant) + 1 and hold exactly its
  // records, else Corruption and nothing is written. A fold from seq 1
  // must start with the tenant's TenantCreated, which creates the tenant.
  // Synced only with EngineOptions::sync_writes. Errors of `decide` and of
  // the records' source are returned as they are; the write errors as any
  // write's. The commit hook is not called.
  Status ApplyFromLog(
      TenantId tenant,
      const std::function<StatusOr<ExternalCommit>(std::string_view cursor)>& decide,
      std::string_view node_cursor);
  // The node's cursor: where its reader of the log of record resumes (""
  // on a fresh node).
  StatusOr<std::string> NodeCursor();
  // Moves the node's cursor over messages that concern no tenant's views.
  // Not synced.
  Status NoteNodeCursor(std::string_view node_cursor);
  // Returns once LastSeq(tenant) >= seq (also for a tenant this node does
  // not know yet); Lagging after `timeout`. Woken by commits, never polls.
  Status WaitForSeq(TenantId tenant, uint64_t seq, std::chrono::milliseconds timeout);

  // ---- Push delivery state (engine/delivery_store.cc) ------------------------
  // Operational state, not event-sourced (engine/delivery_types.h).
  // A push target's delivery record; a default record if none was written.
  // NotFound if the tenant or the target does not exist.
  StatusOr<DeliveryRecord> GetDelivery(TenantId tenant, uint32_t target_id);
  // Writes `write` in one atomic batch (see DeliveryWrite). NotFound if the
  // tenant or target does not exist; NoSpace while the disk is nearly full
  // (EngineOptions::min_free_bytes); Internal on a read-only engine (RocksDB
  // refuses the write).
  Status WriteDelivery(TenantId tenant, uint32_t target_id, const DeliveryWrite& write);
  // Dead letters of a target with id > after_id, oldest first, at most
  // `limit` (0: all). NotFound if the tenant or target does not exist.
  StatusOr<std::vector<DeadLetter>> ListDeadLetters(TenantId tenant, uint32_t target_id,
                                                    uint64_t after_id, uint32_t limit);
  // NotFound if the tenant, the target or the dead letter does not exist
  // (a dead letter retried successfully is deleted).
  StatusOr<DeadLetter> GetDeadLetter(TenantId tenant, uint32_t target_id, uint64_t id);
  // Number of events of `stream` with after_seq < seq <= upto_seq (upto_seq
  // capped at the last commit; a walk of the stream index keys: no event is
  // read). An unknown stream has none.
  StatusOr<uint64_t> CountStreamEvents(TenantId tenant, StreamRef stream, uint64_t after_seq,
                                       uint64_t upto_seq);

  // ---- Maintenance -----------------------------------------------------------
  // Folds the whole log of every tenant (up to `as_of` per tenant, if given)
  // into fresh views in the data directory `out_path` (created; must not
  // exist). The result opens with Open() and serves that state; `out_path`
  // either does not exist or holds a complete replay (it is built under
  // another name and renamed). Reads a snapshot: writers go on meanwhile.
  // InvalidArgument if `out_path` exists or its parent directory does not;
  // Corruption if the log has a gap or a record fails verification; Internal
  // if the final rename fails.
  Status ReplayInto(const std::string& out_path, const ReplayOptions& options);
  // Rebuilds every view from the log in a scratch directory (under the
  // system temp dir, removed after) and compares it with the live views, at
  // one snapshot. Fills `diffs` (at most `max_diffs`) and returns OK when
  // equal; Corruption when they differ (or as ReplayInto when the log is
  // damaged).
  Status VerifyViews(std::vector<std::string>* diffs, size_t max_diffs = 20,
                     const ProgressFn& progress = nullptr);
  // Writes an online, consistent copy of the data directory to `out_dir`
  // (engine/backup.cc): a RocksDB checkpoint (memtables flushed; table files
  // hard-linked when `out_dir` is on the same file system, copied
  // otherwise). Writers go on meanwhile; the copy holds every operation
  // committed before the call and opens with Open(). It never includes
  // files that are not the engine's (admin.key). InvalidArgument if
  // `out_dir` is relative, exists, its parent is not a writable directory,
  // or "<out_dir>.tmp" exists (left by an interrupted backup); Unavailable
  // on a read-only or secondary engine; NoSpace under the free-space
  // reserve. Blocks (a flush and the file copies).
  StatusOr<BackupInfo> Backup(const std::string& out_dir);

 private:
  explicit Engine(std::unique_ptr<EngineImpl> impl);
  StatusOr<TenantCreatedInfo> CreateTenantImpl(std::string_view name,
                                               std::optional<TenantId> given);
  std::unique_ptr<EngineImpl> impl_;
};

}  // namespace syncmgr
