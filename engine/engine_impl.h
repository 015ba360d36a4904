// EngineImpl: the engine's internals behind engine.h. Internal to engine/.
//
// Write path (docs/architecture.md, "write path"):
//   1. take the tenant's write lock: a WriteOp holds it (writes of one
//      tenant are serialized, so seqs are gap-free and every decision reads
//      committed state);
//   2. decide which events the operation produces, reading committed views;
//   3. for each event: encode it, put it in the log batch and fold it into
//      the view batch (ViewFolder) — the same fold replay uses;
//   4. commit: one synced WriteBatch holding the log records, every view
//      update and the tenant's meta record (its last_seq is the commit
//      record). An operation whose log records outgrow write_chunk_bytes
//      writes them ahead, unsynced, with seqs above the committed last_seq:
//      invisible to readers, discarded on abort and by recovery at open;
//   5. install the operation's TenantViews and publish the new last_seq.
// Above EngineOptions::bulk_ingest_min_bytes a chunk written ahead, and the
// commit, go as table files through one IngestExternalFiles instead
// (engine/bulk_ingest.h): the commit first syncs the WAL, so nothing
// written before it can be lost while it survives. Such chunks are built and
// ingested on a thread of the operation's own (IngestPipeline) while it
// makes the next chunk; the commit and the abort first wait for it.
#pragma once

#include <rocksdb/write_batch.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "engine/auth_cache.h"
#include "engine/bulk_ingest.h"
#include "engine/cluster_hooks.h"
#include "engine/disk_guard.h"
#include "engine/engine.h"
#include "engine/event_codec.h"
#include "engine/fold.h"
#include "engine/mutex.h"
#include "engine/store.h"

namespace syncmgr {

// Per-tenant writer state.
struct TenantSlot {
  // `fresh`: a tenant being created, whose views start empty (nothing to load).
  explicit TenantSlot(bool fresh) : loaded(fresh) {}

  // Held by a WriteOp for the whole of a write operation: writes of one
  // tenant are serialized, so seqs are gap-free and every decision reads
  // committed state.
  Mutex write_mu;
  bool loaded GUARDED_BY(write_mu);  // views read from the store
  TenantViews views GUARDED_BY(write_mu);  // committed state
  // Cluster mode: the tenant's cursor stored with `views` ("" if none).
  std::string cursor GUARDED_BY(write_mu);  // loaded with views
  std::atomic<uint64_t> last_seq{0};  // committed; readers bound their reads by it
  // False while the tenant is known only from the log of record's messages
  // that precede its TenantCreated (cluster mode: a fence folded by
  // ApplyFromLog): Slot() answers NotFound for it.
  std::atomic<bool> visible{true};
};

class EngineImpl;

// One write operation of one tenant, holding the tenant's write lock
// (TenantSlot::write_mu) from construction until Commit — the lock is the
// WriteOp's, as a MutexLock's is its mutex. Destroying it without a
// successful Commit aborts the operation (written-ahead log records are
// deleted) and then releases the lock.
//
//   SYNCMGR_ASSIGN_OR_RETURN(TenantSlot* slot, impl->SlotForWrite(tenant));
//   WriteOp op(impl, tenant, slot);  // waits for the tenant's current writer
//   SYNCMGR_RETURN_IF_ERROR(op.status());
//   ... read committed state, build events, op.Append() ...
//   SYNCMGR_ASSIGN_OR_RETURN(uint64_t seq, op.Commit());
//
// Thread-safety: one thread; the thread that made it commits or destroys it.
class SCOPED_CAPABILITY WriteOp {
 public:
  // Takes the tenant's write lock and, the first time, loads its views;
  // a failure to load is status() and the operation cannot go on.
  WriteOp(EngineImpl* engine, TenantId tenant, TenantSlot* slot) ACQUIRE(slot->write_mu);
  ~WriteOp() RELEASE();
  WriteOp(const WriteOp&) = delete;
  WriteOp& operator=(const WriteOp&) = delete;

  // OK, or why the tenant's views could not be loaded.
  const Status& status() const { return status_; }
  TenantId tenant() const { return tenant_; }
  // The time of every event of the operation (one time, so that "as of a
  // time" never splits an operation): EngineImpl::Now() when the WriteOp
  // was made, raised to the tenant's last committed time if the clock is
  // behind it.
  int64_t time_us() const { return time_us_; }
  uint64_t next_seq() const { return views_.last_seq + 1; }
  uint64_t first_seq() const { return first_seq_; }
  TenantViews& views() { return views_; }
  ViewFolder& folder() { return folder_; }
  flatbuffers::FlatBufferBuilder& builder() { return builder_; }

  // Reserves room for `bytes` of view records before any is folded, for an
  // operation that knows roughly how much it will write (a first sync: a
  // few records per listing): one allocation instead of a series of
  // doublings, each a copy of the whole batch into fresh pages. Address
  // space only until records are written. No effect once the batch holds
  // records.
  void ReserveViewBytes(size_t bytes);
  // The same for the operation's log records, up to write_chunk_bytes and
  // a sixteenth (the most the log batch holds before it is written ahead,
  // with the record that takes it past the size). An operation
  // small enough to commit in one batch (under a quarter of that) has its
  // view records appended to the log batch at the commit: it reserves room
  // for both.
  void ReserveLogBytes(size_t bytes);
  // Appends the event finished in builder() (built with seq == next_seq()).
  Status Append();
  // Cluster mode (Engine::ApplyFromLog): the operation folds records
  // produced elsewhere, so the commit hook is not called, and Commit writes
  // these cursors with the views (node_cursor only when not empty).
  void FromLog(std::string tenant_cursor, std::string node_cursor);
  // Appends a finished event given as bytes (a record of the log of
  // record). Corruption unless it verifies and its seq is `seq` ==
  // next_seq().
  Status AppendRecord(uint64_t seq, std::string_view bytes);
  // Makes the operation durable and visible; returns its last seq. Releases
  // the tenant's write lock once the batch is in the memtable, so the next
  // writer can proceed while this one waits for its WAL sync, which it may
  // share with others (group commit). When it fails before that point, the
  // lock is released by the destructor, after the abort; either way the
  // caller holds it no longer.
  StatusOr<uint64_t> Commit() RELEASE();

 private:
  // Writes log_batch_ ahead; first hands it to the hook's OnWriteAhead
  // when `tell_hook`.
  Status FlushLogChunk(bool tell_hook = true);
  // Waits until every chunk handed to ahead_ is ingested; the first error.
  Status DrainAhead();
  // The bulk ingester if `bytes` reach EngineOptions::bulk_ingest_min_bytes
  // (and it is on), else nullptr.
  BulkIngester* BulkFor(uint64_t bytes) const;
  // Drops the keys this operation revoked from the engine's AuthCache.
  void ForgetRevokedKeys();
  // Commit's bulk path: syncs the WAL (every earlier write of any operation
  // becomes durable first), then ingests log_batch_ and view_batch_ as one
  // atomic, synced ingestion. OK: durable and applied.
  Status IngestCommit(BulkIngester* bulk);
  // The engine's commit hook unless this operation folds the log of record.
  CommitHook* hook() const;
  // The records in log_batch_, ending at `last_seq`, for the hook.
  LogRecords PendingRecords() const;

  // Constant after construction.
  EngineImpl* const engine_;
  const TenantId tenant_;
  TenantSlot* const slot_;

  Status status_;
  bool locked_ = true;  // slot_->write_mu is held (until Commit releases it)
  TenantViews views_;   // working copy; installed on commit
  rocksdb::WriteBatch log_batch_;
  rocksdb::WriteBatch view_batch_;
  ViewFolder folder_;
  flatbuffers::FlatBufferBuilder builder_;
  int64_t time_us_ = 0;
  uint64_t first_seq_ = 0;
  bool flushed_ahead_ = false;
  // Ingests the written-ahead chunks of a bulk operation while it makes the
  // next (started by the first such chunk). Commit and the abort wait for it.
  std::unique_ptr<IngestPipeline> ahead_;
  bool done_ = false;
  bool hook_called_ = false;  // OnAbort is owed unless the commit completes
  bool from_log_ = false;
  std::string tenant_cursor_;  // from_log_: written with the views
  std::string node_cursor_;
};

// Thread-safety: safe for concurrent use from many threads.
class EngineImpl {
 public:
  explicit EngineImpl(EngineOptions options) : options_(std::move(options)) {}

  Status Open() EXCLUDES(tenants_mu_);
  // Engine::CatchUpWithPrimary.
  Status CatchUpWithPrimary() EXCLUDES(tenants_mu_);

  const EngineOptions& options() const { return options_; }
  // The engine's one clock (EngineOptions::clock_us, default the system
  // clock), in microseconds since the epoch, made monotonic: never less
  // than any value it returned before in this process (a wall clock that
  // steps back repeats the last time until it catches up). So the times one
  // operation reads in order are ordered (started_at <= its events' time).
  // Across restarts and per tenant, WriteOp adds the log's own bound.
  int64_t Now();
  Store& store() { return *store_; }
  // Bulk ingestion; nullptr on a read-only engine or when
  // EngineOptions::bulk_ingest_min_bytes is 0.
  BulkIngester* bulk() { return options_.bulk_ingest_min_bytes > 0 ? bulk_.get() : nullptr; }
  // Free-space reserve; every write checks it first (SlotForWrite).
  DiskGuard& disk_guard() { return disk_guard_; }
  // Authenticate's cache of key digests (auth_cache.h says who forgets).
  AuthCache& auth_cache() { return auth_cache_; }

  // The tenant's slot; NotFound if the tenant does not exist.
  StatusOr<TenantSlot*> Slot(TenantId tenant) EXCLUDES(tenants_mu_);
  // The tenant's slot, once writes may go ahead: Unavailable when the data
  // directory is open read-only or the storage is recovering from an I/O
  // error, NoSpace below the free-space reserve, NotFound if the tenant
  // does not exist. A WriteOp on it takes the tenant's write lock.
  StatusOr<TenantSlot*> SlotForWrite(TenantId tenant) EXCLUDES(tenants_mu_);
  // A new tenant's id and slot: the next free id (views empty, nothing to
  // load), or `given` (cluster mode: an id from outside, which the log of
  // record may have shown already, so its slot loads; not visible until its
  // TenantCreated commits). Conflict if a visible tenant has `given`;
  // InvalidArgument if it is 0.
  StatusOr<std::pair<TenantId, TenantSlot*>> AddTenant(std::optional<TenantId> given)
      EXCLUDES(tenants_mu_);
  // Cluster mode: the tenant's slot, created hidden (not visible) if the
  // tenant does not exist yet. Never fails.
  TenantSlot* SlotForApply(TenantId tenant) EXCLUDES(tenants_mu_);
  // Loads the slot's views and cursor unless loaded (WriteOp does).
  Status LoadSlot(TenantId tenant, TenantSlot* slot) REQUIRES(slot->write_mu);

  StatusOr<SourceInfo> ReadSource(TenantId tenant, uint32_t id);
  StatusOr<TargetInfo> ReadTarget(TenantId tenant, uint32_t id);
  // Reads a committed log record.
  Status ReadLogRecord(TenantId tenant, uint64_t seq, std::string* bytes);
  // The canonical data held by the event at `data_seq`.
  Status ReadData(TenantId tenant, uint64_t data_seq, std::string* data);

  // Group commit. Call NoteWritten right after an unsynced write returns;
  // AwaitDurable(ticket) returns once a WAL sync that began after that write
  // has finished. One thread syncs for every writer waiting at that moment.
  uint64_t NoteWritten() EXCLUDES(sync_mu_);
  Status AwaitDurable(uint64_t ticket) EXCLUDES(sync_mu_);

  // After a failed WAL write or sync, RocksDB refuses every write (its
  // background error) and the WAL may have lost bytes the kernel dropped
  // with the failed sync. NoteWriteFailed marks the engine; the next write
  // (SlotForWrite, CreateTenant) or durability wait first calls
  // ResumeIfNeeded: DB::Resume() and a flush of every memtable to table
  // files, which makes what the memtables hold durable apart from the
  // damaged WAL. Until that succeeds (space or the device is back), writes
  // fail with its error; no restart is needed once it does.
  void NoteWriteFailed() { needs_resume_.store(true); }
  Status ResumeIfNeeded() EXCLUDES(resume_mu_);

  void NotifyCommit(TenantId tenant, uint64_t last_seq) EXCLUDES(subs_mu_);
  // Returns once the tenant's committed last seq reaches `seq`; Lagging
  // after `timeout` (Engine::WaitForSeq).
  Status WaitForSeq(TenantId tenant, uint64_t seq, std::chrono::milliseconds timeout)
      EXCLUDES(seq_mu_, tenants_mu_);
  uint64_t Subscribe(std::function<void(TenantId, uint64_t)> fn) EXCLUDES(subs_mu_);
  void Unsubscribe(uint64_t handle) EXCLUDES(subs_mu_);

 private:
  // Creates a slot for every tenant in the catalog (recovering each on a
  // writable engine) and publishes its committed seq.
  Status LoadTenants() EXCLUDES(tenants_mu_);
  Status RecoverTenant(TenantId tenant, uint64_t committed_seq);
  // Writes, syncs and deletes a small file in the data directory.
  Status ProbeWritable();
  TenantSlot* CreateSlot(TenantId tenant, bool fresh) REQUIRES(tenants_mu_);

  // Constant after Open.
  EngineOptions options_;
  std::atomic<int64_t> clock_high_{0};  // the largest value Now() returned
  DiskGuard disk_guard_{options_.path, options_.min_free_bytes};
  std::unique_ptr<Store> store_;
  std::unique_ptr<BulkIngester> bulk_;  // read-write engines only
  AuthCache auth_cache_;

  Mutex tenants_mu_;
  std::map<TenantId, std::unique_ptr<TenantSlot>> tenants_ GUARDED_BY(tenants_mu_);
  TenantId next_tenant_id_ GUARDED_BY(tenants_mu_) = 1;

  Mutex sync_mu_;
  CondVar sync_cv_;  // a WAL sync finished
  uint64_t written_ticket_ GUARDED_BY(sync_mu_) = 0;
  uint64_t synced_ticket_ GUARDED_BY(sync_mu_) = 0;
  bool syncing_ GUARDED_BY(sync_mu_) = false;

  std::atomic<bool> needs_resume_{false};
  Mutex resume_mu_;  // one Resume at a time
  // WaitForSeq: never held with another lock but tenants_mu_ (taken inside).
  Mutex seq_mu_;
  CondVar seq_cv_;  // signalled after every commit

  Mutex subs_mu_;
  std::map<uint64_t, std::function<void(TenantId, uint64_t)>> subs_ GUARDED_BY(subs_mu_);
  uint64_t next_sub_ GUARDED_BY(subs_mu_) = 1;
};

// The seq of a tenant's last event at or before `time_us` among seqs
// 1..last_seq (0 if none): what "as of a time" means. Event times never go
// backwards within a tenant, so this is a binary search: O(log n) calls of
// `read_log(seq, &bytes)`, which reads one log record (Corruption if it is
// missing).
StatusOr<uint64_t> LastSeqAtTime(
    uint64_t last_seq, int64_t time_us,
    const std::function<Status(uint64_t seq, std::string* bytes)>& read_log);

}  // namespace syncmgr
