// EngineImpl: the engine's internals behind engine.h. Internal to engine/.
//
// Write path (docs/architecture.md, "write path"):
//   1. take the tenant's write lock (writes of one tenant are serialized, so
//      seqs are gap-free and every decision reads committed state);
//   2. decide which events the operation produces, reading committed views;
//   3. for each event: encode it, put it in the log batch and fold it into
//      the view batch (ViewFolder) — the same fold replay uses;
//   4. commit: one synced WriteBatch holding the log records, every view
//      update and the tenant's meta record (its last_seq is the commit
//      record). An operation whose log records outgrow write_chunk_bytes
//      writes them ahead, unsynced, with seqs above the committed last_seq:
//      invisible to readers, discarded on abort and by recovery at open;
//   5. install the operation's TenantViews and publish the new last_seq.
#pragma once

#include <rocksdb/write_batch.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "engine/disk_guard.h"
#include "engine/engine.h"
#include "engine/event_codec.h"
#include "engine/fold.h"
#include "engine/store.h"

namespace syncmgr {

// Per-tenant writer state.
struct TenantSlot {
  std::mutex write_mu;             // held for the whole of a write operation
  bool loaded = false;             // guarded by write_mu
  TenantViews views;               // guarded by write_mu; committed state
  std::atomic<uint64_t> last_seq{0};  // committed; readers bound their reads by it
};

class EngineImpl;

// One write operation of one tenant. REQUIRES: the slot's write_mu is held
// for the WriteOp's whole life. Destroying it without Commit aborts it.
class WriteOp {
 public:
  WriteOp(EngineImpl* engine, TenantId tenant, TenantSlot* slot);
  ~WriteOp();
  WriteOp(const WriteOp&) = delete;
  WriteOp& operator=(const WriteOp&) = delete;

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

  // Appends the event finished in builder() (built with seq == next_seq()).
  Status Append();
  // Makes the operation durable and visible; returns its last seq. Releases
  // `lock` (the tenant's write lock) once the batch is in the memtable, so
  // the next writer can proceed while this one waits for its WAL sync, which
  // it may share with others (group commit).
  StatusOr<uint64_t> Commit(std::unique_lock<std::mutex>& lock);

 private:
  Status FlushLogChunk();

  EngineImpl* engine_;
  TenantId tenant_;
  TenantSlot* slot_;
  TenantViews views_;  // working copy; installed on commit
  rocksdb::WriteBatch log_batch_;
  rocksdb::WriteBatch view_batch_;
  ViewFolder folder_;
  flatbuffers::FlatBufferBuilder builder_;
  int64_t time_us_;
  uint64_t first_seq_;
  bool flushed_ahead_ = false;
  bool done_ = false;
};

class EngineImpl {
 public:
  explicit EngineImpl(EngineOptions options) : options_(std::move(options)) {}

  Status Open();
  // Engine::CatchUpWithPrimary.
  Status CatchUpWithPrimary();

  const EngineOptions& options() const { return options_; }
  // The engine's one clock (EngineOptions::clock_us, default the system
  // clock), in microseconds since the epoch, made monotonic: never less
  // than any value it returned before in this process (a wall clock that
  // steps back repeats the last time until it catches up). So the times one
  // operation reads in order are ordered (started_at <= its events' time).
  // Across restarts and per tenant, WriteOp adds the log's own bound.
  int64_t Now();
  Store& store() { return *store_; }
  // Free-space reserve; every write checks it first (LockForWrite).
  DiskGuard& disk_guard() { return disk_guard_; }

  // The tenant's slot; NotFound if the tenant does not exist.
  StatusOr<TenantSlot*> Slot(TenantId tenant);
  // Locks the tenant for writing and loads its views. The returned lock
  // must outlive every WriteOp on the slot.
  StatusOr<std::unique_lock<std::mutex>> LockForWrite(TenantId tenant, TenantSlot** slot);
  TenantSlot* CreateSlot(TenantId tenant);  // REQUIRES: tenants_mu_ held
  std::mutex& tenants_mu() { return tenants_mu_; }
  TenantId AllocateTenantId() { return next_tenant_id_++; }  // REQUIRES: tenants_mu_ held

  StatusOr<SourceInfo> ReadSource(TenantId tenant, uint32_t id);
  StatusOr<TargetInfo> ReadTarget(TenantId tenant, uint32_t id);
  // Reads a committed log record.
  Status ReadLogRecord(TenantId tenant, uint64_t seq, std::string* bytes);
  // The canonical data held by the event at `data_seq`.
  Status ReadData(TenantId tenant, uint64_t data_seq, std::string* data);

  // Group commit. Call NoteWritten right after an unsynced write returns;
  // AwaitDurable(ticket) returns once a WAL sync that began after that write
  // has finished. One thread syncs for every writer waiting at that moment.
  uint64_t NoteWritten();
  Status AwaitDurable(uint64_t ticket);

  // After a failed WAL write or sync, RocksDB refuses every write (its
  // background error) and the WAL may have lost bytes the kernel dropped
  // with the failed sync. NoteWriteFailed marks the engine; the next write
  // (LockForWrite, CreateTenant) or durability wait first calls
  // ResumeIfNeeded: DB::Resume() and a flush of every memtable to table
  // files, which makes what the memtables hold durable apart from the
  // damaged WAL. Until that succeeds (space or the device is back), writes
  // fail with its error; no restart is needed once it does.
  void NoteWriteFailed() { needs_resume_.store(true); }
  Status ResumeIfNeeded();

  void NotifyCommit(TenantId tenant, uint64_t last_seq);
  uint64_t Subscribe(std::function<void(TenantId, uint64_t)> fn);
  void Unsubscribe(uint64_t handle);

 private:
  // Creates a slot for every tenant in the catalog (recovering each on a
  // writable engine) and publishes its committed seq.
  Status LoadTenants();
  Status RecoverTenant(TenantId tenant, uint64_t committed_seq);
  // Writes, syncs and deletes a small file in the data directory.
  Status ProbeWritable();

  EngineOptions options_;
  std::atomic<int64_t> clock_high_{0};  // the largest value Now() returned
  DiskGuard disk_guard_{options_.path, options_.min_free_bytes};
  std::unique_ptr<Store> store_;
  std::mutex tenants_mu_;
  std::map<TenantId, std::unique_ptr<TenantSlot>> tenants_;  // guarded by tenants_mu_
  TenantId next_tenant_id_ = 1;                              // guarded by tenants_mu_
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  uint64_t written_ticket_ = 0;  // guarded by sync_mu_
  uint64_t synced_ticket_ = 0;   // guarded by sync_mu_
  bool syncing_ = false;         // guarded by sync_mu_
  std::atomic<bool> needs_resume_{false};
  std::mutex resume_mu_;  // one Resume at a time
  std::mutex subs_mu_;
  std::map<uint64_t, std::function<void(TenantId, uint64_t)>> subs_;  // guarded by subs_mu_
  uint64_t next_sub_ = 1;                                             // guarded by subs_mu_
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
