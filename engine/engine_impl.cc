#include "engine/engine_impl.h"

#include <rocksdb/env.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "engine/counts.h"
#include "engine/huge_pages.h"
#include "engine/keys.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

// Threads that build and ingest a bulk operation's written-ahead log chunks
// (WriteOp::ahead_): the machine's two cores. One was not enough: the
// chunks' LZ4 with a dictionary took that thread longer than the events
// and the fold took the operation's (bench/report_notes.md, Day-0 import).
// Each costs a chunk of memory (write_chunk_bytes) while it works.
constexpr int kAheadThreads = 2;

int64_t SystemMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int64_t EngineImpl::Now() {
  const int64_t read = options_.clock_us ? options_.clock_us() : SystemMicros();
  int64_t high = clock_high_.load(std::memory_order_relaxed);
  while (read > high && !clock_high_.compare_exchange_weak(high, read, std::memory_order_relaxed)) {
  }
  return std::max(read, high);
}

StatusOr<uint64_t> LastSeqAtTime(uint64_t last_seq, int64_t time_us,
                                 const std::function<Status(uint64_t, std::string*)>& read_log) {
  uint64_t lo = 0, hi = last_seq;
  // Invariant: event lo is at or before time_us (0 stands for "none");
  // every event after hi is after it.
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo + 1) / 2;
    std::string bytes;
    SYNCMGR_RETURN_IF_ERROR(read_log(mid, &bytes));
    SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
    if (ev->time_us() <= time_us) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// ---- WriteOp ----------------------------------------------------------------

WriteOp::WriteOp(EngineImpl* engine, TenantId tenant, TenantSlot* slot)
    : engine_(engine),
      tenant_(tenant),
      slot_(slot),
      folder_(tenant, &views_, &view_batch_, &engine->store()),
      builder_(1024) {
  slot->write_mu.Lock();
  status_ = engine->LoadSlot(tenant, slot);
  if (!status_.ok()) return;
  views_ = slot->views;
  // Event times never go backwards within a tenant (SPEC §2 "time"), so
  // "as of a time" maps to one seq: at least the last committed event's
  // time, which the views hold as a fold of the log (TenantMeta
  // last_time_us), so the bound survives a restart and a replay.
  time_us_ = std::max(engine->Now(), slot->views.last_time_us);
  first_seq_ = slot->views.last_seq + 1;
}

WriteOp::~WriteOp() {
  if (!locked_) return;  // committed: Commit released the lock
  // Held since the constructor: only Commit releases it, and it clears locked_.
  slot_->write_mu.AssertHeld();
  // A chunk still being ingested would land after the undo below.
  ahead_.reset();
  if (!done_ && flushed_ahead_) {
    // Aborted after writing log records ahead: drop them, still under the
    // lock (the next writer would reuse their seqs). If this write is lost
    // in a crash, recovery at open drops them instead.
    rocksdb::WriteBatch undo;
    undo.DeleteRange(engine_->store().cf(Cf::kLog), keys::Log(tenant_, first_seq_),
                     keys::Log(tenant_, views_.last_seq + 1));
    engine_->store().Write(&undo, /*sync=*/false).IgnoreError();  // recovery covers a failure
  }
  // The log of record was asked to take this operation and it did not
  // complete: the hook hears so, still under the lock.
  if (!done_ && hook_called_) hook()->OnAbort(tenant_, first_seq_);
  slot_->write_mu.Unlock();
}

CommitHook* WriteOp::hook() const {
  return from_log_ ? nullptr : engine_->options().commit_hook;
}

void WriteOp::FromLog(std::string tenant_cursor, std::string node_cursor) {
  from_log_ = true;
  tenant_cursor_ = std::move(tenant_cursor);
  node_cursor_ = std::move(node_cursor);
}

namespace {

// The values of a batch's puts into one column family, in order.
class ValueCollector : public rocksdb::WriteBatch::Handler {
 public:
  ValueCollector(uint32_t cf_id, std::vector<std::string_view>* out) : cf_id_(cf_id), out_(out) {}
  rocksdb::Status PutCF(uint32_t cf_id, const rocksdb::Slice& /*key*/,
                        const rocksdb::Slice& value) override {
    if (cf_id == cf_id_) out_->push_back(value.ToStringView());
    return rocksdb::Status::OK();
  }

 private:
  uint32_t cf_id_;
  std::vector<std::string_view>* out_;
};

}  // namespace

LogRecords WriteOp::PendingRecords() const {
  // Held: called from FlushLogChunk and Commit, while the operation holds
  // the lock it took in its constructor.
  slot_->write_mu.AssertHeld();
  LogRecords r;
  r.tenant = tenant_;
  r.first_seq = first_seq_;
  r.last_seq = views_.last_seq;
  r.time_us = time_us_;
  r.cursor = slot_->cursor;
  ValueCollector collect(engine_->store().cf(Cf::kLog)->GetID(), &r.records);
  // The batch holds puts only (Append, AppendRecord): iterating cannot fail.
  log_batch_.Iterate(&collect).PermitUncheckedError();
  return r;
}

Status WriteOp::AppendRecord(uint64_t seq, std::string_view bytes) {
  if (seq != next_seq()) {
    return Status::Corruption(fmt::format("tenant {}: record of seq {} where seq {} was due",
                                          tenant_, seq, next_seq()));
  }
  // The verifier wants the buffer aligned as the builder left it.
  std::string aligned;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint64_t) != 0) {
    aligned.assign(bytes);
    bytes = aligned;
  }
  SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
  if (ev->seq() != seq) {
    return Status::Corruption(
        fmt::format("tenant {}: the record given as seq {} holds seq {}", tenant_, seq, ev->seq()));
  }
  log_batch_.Put(engine_->store().cf(Cf::kLog), keys::Log(tenant_, seq),
                 rocksdb::Slice(bytes.data(), bytes.size()));
  SYNCMGR_RETURN_IF_ERROR(folder_.Apply(*ev));
  if (log_batch_.GetDataSize() >= engine_->options().write_chunk_bytes) {
    return FlushLogChunk();
  }
  return Status::Ok();
}

namespace {

// What a log batch is reserved for at most: a chunk and the record that
// takes it past the size (a record is far smaller than chunk / 16).
uint64_t LogBatchBytes(uint64_t chunk) { return chunk + chunk / 16; }

// Replaces the empty `*batch` with one of room for `bytes`, its large
// buffers marked for huge pages. No effect once it holds records.
void ReserveBatch(rocksdb::WriteBatch* batch, size_t bytes) {
  if (batch->Count() == 0 && bytes > batch->GetDataSize()) {
    *batch = rocksdb::WriteBatch(bytes);
    AdviseHugePages(batch->Data());
  }
}

}  // namespace

void WriteOp::ReserveViewBytes(size_t bytes) { ReserveBatch(&view_batch_, bytes); }

void WriteOp::ReserveLogBytes(size_t bytes) {
  ReserveBatch(&log_batch_,
               std::min<uint64_t>(bytes, LogBatchBytes(engine_->options().write_chunk_bytes)));
}

Status WriteOp::Append() {
  SYNCMGR_RETURN_IF_ERROR(status_);
  const char* data = reinterpret_cast<const char*>(builder_.GetBufferPointer());
  std::string_view bytes(data, builder_.GetSize());
  const fb::Event* ev = fb::GetEvent(data);
  log_batch_.Put(engine_->store().cf(Cf::kLog), keys::Log(tenant_, ev->seq()),
                 rocksdb::Slice(bytes.data(), bytes.size()));
  SYNCMGR_RETURN_IF_ERROR(folder_.Apply(*ev));
  if (log_batch_.GetDataSize() >= engine_->options().write_chunk_bytes) {
    return FlushLogChunk();
  }
  return Status::Ok();
}

Status WriteOp::FlushLogChunk(bool tell_hook) {
  // A large operation may write far more than it had when it started.
  SYNCMGR_RETURN_IF_ERROR(engine_->disk_guard().Check());
  CommitHook* h = tell_hook ? hook() : nullptr;
  if (h != nullptr && log_batch_.Count() > 0) {
    // Cluster mode: the log of record gets the records first (as chunks);
    // a failure leaves nothing anywhere.
    hook_called_ = true;
    SYNCMGR_RETURN_IF_ERROR(h->OnWriteAhead(PendingRecords()));
  }
  Status s;
  flushed_ahead_ = true;  // even on failure some of it may be there
  if (BulkIngester* bulk = BulkFor(log_batch_.GetDataSize())) {
    // One table file of consecutive log keys above everything the tenant
    // has: it goes to the bottom level, never to be compacted again. As
    // invisible as the WAL path's records (readers stop at last_seq), and
    // dropped the same way on abort or at open. Built and ingested on the
    // pipeline's thread while this one makes the next chunk; an error
    // there comes back from a later Submit or from Commit's Drain.
    if (!ahead_) {
      // Room for a chunk and the record that takes it past the size.
      const uint64_t chunk = engine_->options().write_chunk_bytes;
      ahead_ = std::make_unique<IngestPipeline>(bulk, kAheadThreads, LogBatchBytes(chunk));
    }
    s = ahead_->Submit(&log_batch_);  // leaves log_batch_ empty
  } else {
    // Not synced: the commit's synced write syncs the WAL up to it.
    s = engine_->store().Write(&log_batch_, /*sync=*/false);
    log_batch_.Clear();
  }
  if (!s.ok()) engine_->NoteWriteFailed();
  return s;
}

Status WriteOp::DrainAhead() {
  if (!ahead_) return Status::Ok();
  Status s = ahead_->Drain();
  if (!s.ok()) engine_->NoteWriteFailed();
  return s;
}

namespace {

// ProbeWritable: bytes written and synced to check the device works again.
constexpr size_t kProbeBytes = 64 << 10;
// ResumeIfNeeded: how long to wait for a recovery already in progress.
constexpr int kResumeBusyRetries = 10;
constexpr auto kResumeBusyWait = std::chrono::milliseconds(20);

// The commit record may have reached the WAL although the write or its sync
// failed: the operation may be applied (now, or after a restart replays the
// WAL) or not. Say so, and how to find out, rather than a plain error.
// NoSpace stays NoSpace (507); anything else is Unavailable (503), whose
// message reaches the client (a 500's does not). RocksDB's own text (file
// paths) is left out of what clients see.
Status OutcomeUnknown(const Status& cause, std::string_view step) {
  std::string msg = fmt::format(
      "outcome unknown: the operation was written but {} failed ({}), so it may or may not "
      "have been applied. Before retrying, check the import log (GET /imports), the sync log "
      "(GET /sync_logs) or the property itself; writes resume by themselves once the disk "
      "recovers",
      step, cause.code() == Code::kNoSpace ? "no space left on the device" : "an I/O error");
  if (cause.code() == Code::kNoSpace) return Status::NoSpace(std::move(msg));
  return Status::Unavailable(std::move(msg));
}

}  // namespace

namespace {

// Copies every record of a batch into another (small batches only).
class CopyHandler : public rocksdb::WriteBatch::Handler {
 public:
  CopyHandler(rocksdb::WriteBatch* out, Store* store) : out_(out), store_(store) {}
  rocksdb::Status PutCF(uint32_t cf_id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    for (int i = 0; i < kNumCfs; ++i) {
      auto* handle = store_->cf(static_cast<Cf>(i));
      if (handle != nullptr && handle->GetID() == cf_id) return out_->Put(handle, key, value);
    }
    return rocksdb::Status::Corruption("unknown column family in batch");
  }

 private:
  rocksdb::WriteBatch* out_;
  Store* store_;
};

}  // namespace

StatusOr<uint64_t> WriteOp::Commit() {
  SYNCMGR_RETURN_IF_ERROR(status_);
  if (!locked_) return Status::Internal("write operation committed twice");
  // Held since the constructor: locked_ is cleared only below.
  slot_->write_mu.AssertHeld();
  // Every chunk written ahead is in before the commit is (a failed one
  // aborts the operation: nothing of it becomes visible).
  SYNCMGR_RETURN_IF_ERROR(DrainAhead());
  // Sorted below, unless ingested: bulk ingestion sorts per family itself.
  folder_.Finish(/*sort_for_memtable=*/false);
  Store& store = engine_->store();
  std::string cursor;  // the tenant's cursor after this operation
  bool has_cursor = false;
  if (from_log_) {
    cursor = tenant_cursor_;
    has_cursor = true;
    if (!node_cursor_.empty()) {
      view_batch_.Put(store.cf(Cf::kMeta), keys::ClusterCursor(0), node_cursor_);
    }
  } else if (CommitHook* h = hook(); h != nullptr) {
    // Cluster mode: the operation counts once the log of record has it;
    // only then is it written here (docs/scaling.md, "The write path").
    hook_called_ = true;
    SYNCMGR_ASSIGN_OR_RETURN(cursor, h->OnCommit(PendingRecords()));
    has_cursor = true;
  }
  if (has_cursor) view_batch_.Put(store.cf(Cf::kMeta), keys::ClusterCursor(tenant_), cursor);
  Status written;
  BulkIngester* bulk = BulkFor(log_batch_.GetDataSize() + view_batch_.GetDataSize());
  if (bulk != nullptr && !BulkIngester::CanIngest({&log_batch_, &view_batch_})) bulk = nullptr;
  if (bulk != nullptr) {
    SYNCMGR_RETURN_IF_ERROR(IngestCommit(bulk));
  } else if (flushed_ahead_ ||
             log_batch_.GetDataSize() >= engine_->options().write_chunk_bytes / 4) {
    // Written-ahead records are invisible: a failure here leaves nothing.
    // (The hook had these records with OnCommit.)
    if (log_batch_.Count() > 0) SYNCMGR_RETURN_IF_ERROR(FlushLogChunk(/*tell_hook=*/false));
    SYNCMGR_RETURN_IF_ERROR(DrainAhead());
    // The view batch holds the commit record (tenant meta): atomic switch.
    folder_.SortForMemtable();
    written = store.Write(&view_batch_, /*sync=*/false);
  } else {
    // One batch: the view records appended to the log's, sorted for the
    // memtable on the way (one copy of them, not a sorted copy and then
    // another; ReserveLogBytes makes room for both).
    if (!AppendSortedPuts(view_batch_, store, &log_batch_)) {
      CopyHandler copy(&log_batch_, &store);
      rocksdb::Status s = view_batch_.Iterate(&copy);
      if (!s.ok()) return FromRocks(s, "commit");
    }
    written = store.Write(&log_batch_, /*sync=*/false);
  }
  if (!written.ok()) {
    // RocksDB applies a batch to the memtable only after its WAL write
    // succeeded, so this process does not see the operation; but a complete
    // record may sit in the WAL and come back if the process restarts before
    // the engine has recovered (ResumeIfNeeded retires that WAL).
    engine_->NoteWriteFailed();
    return OutcomeUnknown(written, "writing its commit to the write-ahead log");
  }
  // The batch is in the store. A key this operation revoked is refused by
  // Authenticate from here on, whatever the outcome of the WAL sync below
  // (the batch is in the memtable either way); here for every writer, the
  // API and the log of record alike (engine/auth_cache.h).
  ForgetRevokedKeys();
  // An ingested commit is durable already (IngestCommit).
  const bool await_wal = engine_->options().sync_writes && bulk == nullptr;
  uint64_t ticket = await_wal ? engine_->NoteWritten() : 0;
  done_ = true;
  slot_->views = std::move(views_);
  if (has_cursor) slot_->cursor = std::move(cursor);
  uint64_t last = slot_->views.last_seq;
  // A tenant first seen through the log of record exists once it has its
  // TenantCreated (seq 1).
  if (last > 0) slot_->visible.store(true, std::memory_order_release);
  // The next writer of this tenant may go on: it reads this operation's
  // views and its own commit can only become durable after this one.
  locked_ = false;
  slot_->write_mu.Unlock();
  if (await_wal) {
    // On failure the operation is in the memtable (readers of the state
    // view may see it) but not known to be on disk.
    Status durable = engine_->AwaitDurable(ticket);
    if (!durable.ok()) return OutcomeUnknown(durable, "making the write-ahead log durable");
  }
  // Readers of the log (feed, replay bounds) see only durable operations.
  uint64_t seen = slot_->last_seq.load(std::memory_order_relaxed);
  while (seen < last &&
         !slot_->last_seq.compare_exchange_weak(seen, last, std::memory_order_release)) {
  }
  engine_->NotifyCommit(tenant_, last);
  return last;
}

void WriteOp::ForgetRevokedKeys() {
  for (const std::string& key_hash : folder_.revoked_keys()) {
    engine_->auth_cache().Forget(key_hash);
  }
}

BulkIngester* WriteOp::BulkFor(uint64_t bytes) const {
  BulkIngester* bulk = engine_->bulk();
  return bulk != nullptr && bytes >= engine_->options().bulk_ingest_min_bytes ? bulk : nullptr;
}

Status WriteOp::IngestCommit(BulkIngester* bulk) {
  // Ingested files are durable on their own, apart from the WAL: an
  // earlier write still unsynced in the WAL (this tenant's previous
  // operation, waiting for its group sync; this operation's chunks written
  // ahead through the WAL) could be lost in a crash that this commit
  // survives — a gap in the log under a later commit record. So the WAL is
  // synced first. A failure here has written nothing of the commit.
  SYNCMGR_RETURN_IF_ERROR(engine_->AwaitDurable(engine_->NoteWritten()));
  // A large operation may write far more than it had when it started.
  SYNCMGR_RETURN_IF_ERROR(engine_->disk_guard().Check());
  bool ingesting = false;
  StatusOr<int> files = bulk->Ingest({&log_batch_, &view_batch_}, &ingesting);
  if (files.ok() || !ingesting) return files.status();
  // As with a failed WAL write: RocksDB stops writes after a failed MANIFEST
  // write, and the edit may have reached the disk.
  engine_->NoteWriteFailed();
  return OutcomeUnknown(files.status(), "adding its table files to the database");
}

// ---- EngineImpl --------------------------------------------------------------

Status EngineImpl::Open() {
  StoreOptions so;
  so.path = options_.path;
  so.block_cache_bytes = options_.block_cache_bytes;
  if (!options_.secondary_path.empty()) options_.read_only = true;
  so.read_only = options_.read_only;
  so.upgrade = options_.upgrade_format;
  so.secondary_path = options_.secondary_path;
  so.env = options_.env;
  SYNCMGR_ASSIGN_OR_RETURN(store_, Store::Open(so));
  if (store_->upgrade_pending()) {
    // An older directory opened read-write: build the views format 3 adds
    // and commit them with the format record, in one batch, before anything
    // else writes (a crash leaves the old format: the next open redoes it).
    rocksdb::WriteBatch views;
    SYNCMGR_RETURN_IF_ERROR(AddCountViews(*store_, &views));
    SYNCMGR_RETURN_IF_ERROR(store_->CommitUpgrade(&views));
  }
  if (!options_.read_only) {
    // Prepared even when off: an earlier run's leftovers go either way.
    bulk_ = std::make_unique<BulkIngester>(store_.get(), options_.path, options_.env);
    SYNCMGR_RETURN_IF_ERROR(bulk_->Prepare());
  }
  return LoadTenants();
}

Status EngineImpl::CatchUpWithPrimary() {
  if (options_.secondary_path.empty()) {
    return Status::InvalidArgument("only a secondary engine catches up with a primary");
  }
  rocksdb::Status s = store_->db()->TryCatchUpWithPrimary();
  if (!s.ok()) return FromRocks(s, "catch up with the primary");
  return LoadTenants();
}

Status EngineImpl::LoadTenants() {
  // Every tenant has a catalog record; its meta holds the committed seq.
  std::unique_ptr<StoreIterator> it = store_->NewPrefixIterator(Cf::kCatalog, "");
  std::vector<TenantId> tenants;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    TenantId tenant;
    if (keys::DecodeTenantRecord(it->key(), &tenant)) tenants.push_back(tenant);
  }
  SYNCMGR_RETURN_IF_ERROR(it->status("scan catalog"));
  MutexLock lock(&tenants_mu_);
  for (TenantId t : tenants) {
    std::string value;
    uint64_t committed = 0;
    Status s = store_->Get(Cf::kMeta, keys::TenantMeta(t), &value);
    if (s.ok()) {
      committed = flatbuffers::GetRoot<fb::TenantMeta>(value.data())->last_seq();
    } else if (s.code() != Code::kNotFound) {
      return s;
    }
    if (!options_.read_only) SYNCMGR_RETURN_IF_ERROR(RecoverTenant(t, committed));
    TenantSlot* slot = CreateSlot(t, /*fresh=*/false);
    // A secondary catching up only ever moves forward.
    if (committed > slot->last_seq.load()) slot->last_seq.store(committed);
    next_tenant_id_ = std::max(next_tenant_id_, t + 1);
  }
  return Status::Ok();
}

Status EngineImpl::RecoverTenant(TenantId tenant, uint64_t committed_seq) {
  // Log records above the commit record belong to an operation that never
  // committed (a crash after writing ahead): they were never acknowledged.
  std::unique_ptr<StoreIterator> it = store_->NewPrefixIterator(Cf::kLog, keys::LogPrefix(tenant));
  std::string from = keys::Log(tenant, committed_seq + 1);
  it->Seek(from);
  if (!it->Valid()) return it->status("recover");
  std::string to = keys::LogPrefix(tenant + 1);
  rocksdb::WriteBatch batch;
  batch.DeleteRange(store_->cf(Cf::kLog), from, to);
  return store_->Write(&batch, /*sync=*/true);
}

TenantSlot* EngineImpl::CreateSlot(TenantId tenant, bool fresh) {
  auto& slot = tenants_[tenant];
  if (!slot) slot = std::make_unique<TenantSlot>(fresh);
  return slot.get();
}

StatusOr<TenantSlot*> EngineImpl::Slot(TenantId tenant) {
  MutexLock lock(&tenants_mu_);
  auto it = tenants_.find(tenant);
  if (it == tenants_.end() || !it->second->visible.load(std::memory_order_acquire)) {
    return Status::NotFound(fmt::format("tenant {} does not exist", tenant));
  }
  return it->second.get();
}

TenantSlot* EngineImpl::SlotForApply(TenantId tenant) {
  MutexLock lock(&tenants_mu_);
  auto it = tenants_.find(tenant);
  if (it != tenants_.end()) return it->second.get();
  TenantSlot* slot = CreateSlot(tenant, /*fresh=*/false);
  slot->visible.store(false);
  next_tenant_id_ = std::max(next_tenant_id_, tenant + 1);
  return slot;
}

Status EngineImpl::LoadSlot(TenantId tenant, TenantSlot* slot) {
  if (slot->loaded) return Status::Ok();
  SYNCMGR_ASSIGN_OR_RETURN(TenantViews views, LoadTenantViews(*store_, tenant));
  std::string cursor;
  Status s = store_->Get(Cf::kMeta, keys::ClusterCursor(tenant), &cursor);
  if (!s.ok() && s.code() != Code::kNotFound) return s;
  slot->views = std::move(views);
  slot->cursor = std::move(cursor);
  slot->loaded = true;
  return Status::Ok();
}

StatusOr<TenantSlot*> EngineImpl::SlotForWrite(TenantId tenant) {
  if (options_.read_only) return Status::Unavailable("the data directory is open read-only");
  // Refused before RocksDB can meet ENOSPC (EngineOptions::min_free_bytes).
  SYNCMGR_RETURN_IF_ERROR(disk_guard_.Check());
  SYNCMGR_RETURN_IF_ERROR(ResumeIfNeeded());
  return Slot(tenant);
}

StatusOr<std::pair<TenantId, TenantSlot*>> EngineImpl::AddTenant(std::optional<TenantId> given) {
  MutexLock lock(&tenants_mu_);
  if (!given.has_value()) {
    // Ids seen in the log of record (cluster mode) are taken.
    while (tenants_.count(next_tenant_id_) != 0) ++next_tenant_id_;
    TenantId id = next_tenant_id_++;
    return std::make_pair(id, CreateSlot(id, /*fresh=*/true));
  }
  const TenantId id = *given;
  if (id == 0) return Status::InvalidArgument("tenant id 0 is reserved");
  auto it = tenants_.find(id);
  if (it != tenants_.end() && it->second->visible.load(std::memory_order_acquire)) {
    return Status::Conflict(fmt::format("tenant {} exists", id));
  }
  // Not fresh: the log of record may have shown the id already (its fence),
  // and its cursor is stored.
  TenantSlot* slot = it != tenants_.end() ? it->second.get() : CreateSlot(id, /*fresh=*/false);
  slot->visible.store(false);  // until its TenantCreated commits
  next_tenant_id_ = std::max(next_tenant_id_, id + 1);
  return std::make_pair(id, slot);
}

StatusOr<SourceInfo> EngineImpl::ReadSource(TenantId tenant, uint32_t id) {
  std::string value;
  Status s = store_->Get(Cf::kCatalog, keys::SourceRecord(tenant, id), &value);
  if (s.code() == Code::kNotFound) return Status::NotFound(fmt::format("source {} not found", id));
  SYNCMGR_RETURN_IF_ERROR(s);
  const auto* r = flatbuffers::GetRoot<fb::SourceRecord>(value.data());
  SourceInfo info;
  info.id = r->id();
  info.name = std::string(Sv(r->name()));
  info.type = std::string(Sv(r->type()));
  info.id_field = std::string(Sv(r->id_field()));
  if (r->ignore_fields() != nullptr) {
    for (const auto* f : *r->ignore_fields()) info.ignore_fields.emplace_back(Sv(f));
  }
  info.max_removal_ratio = r->max_removal_ratio();
  info.created_at_us = r->created_at_us();
  return info;
}

StatusOr<TargetInfo> EngineImpl::ReadTarget(TenantId tenant, uint32_t id) {
  std::string value;
  Status s = store_->Get(Cf::kCatalog, keys::TargetRecord(tenant, id), &value);
  if (s.code() == Code::kNotFound) return Status::NotFound(fmt::format("target {} not found", id));
  SYNCMGR_RETURN_IF_ERROR(s);
  const auto* r = flatbuffers::GetRoot<fb::TargetRecord>(value.data());
  TargetInfo info;
  info.id = r->id();
  info.name = std::string(Sv(r->name()));
  info.type = std::string(Sv(r->type()));
  info.config_json = std::string(Sv(r->config_json()));
  info.created_at_us = r->created_at_us();
  return info;
}

Status EngineImpl::ReadLogRecord(TenantId tenant, uint64_t seq, std::string* bytes) {
  Status s = store_->Get(Cf::kLog, keys::Log(tenant, seq), bytes);
  if (s.code() == Code::kNotFound) {
    return Status::Corruption(fmt::format("tenant {}: log record {} is missing", tenant, seq));
  }
  return s;
}

Status EngineImpl::ReadData(TenantId tenant, uint64_t data_seq, std::string* data) {
  std::string bytes;
  SYNCMGR_RETURN_IF_ERROR(ReadLogRecord(tenant, data_seq, &bytes));
  SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
  const fb::PropertyChanged* p = ev->body_as_PropertyChanged();
  if (p == nullptr || p->data() == nullptr) {
    return Status::Corruption(
        fmt::format("tenant {}: log record {} holds no property data", tenant, data_seq));
  }
  data->assign(p->data()->data(), p->data()->size());
  return Status::Ok();
}

uint64_t EngineImpl::NoteWritten() {
  MutexLock lock(&sync_mu_);
  return ++written_ticket_;
}

Status EngineImpl::AwaitDurable(uint64_t ticket) {
  MutexLock lock(&sync_mu_);
  while (synced_ticket_ < ticket) {
    if (syncing_) {
      sync_cv_.Wait(&sync_mu_);
      continue;
    }
    // Become the leader: one WAL sync covers every write noted so far.
    syncing_ = true;
    uint64_t target = written_ticket_;
    lock.Unlock();
    // After a failed WAL write or sync, a later sync succeeding would not
    // prove the earlier bytes reached the disk (a failed fsync may drop
    // dirty pages): ResumeIfNeeded first flushes the memtables, which holds
    // every write made before the flush; the sync covers those after it.
    Status st = ResumeIfNeeded();
    if (st.ok()) {
      st = FromRocks(store_->db()->SyncWAL(), "sync the write-ahead log");
      if (!st.ok()) NoteWriteFailed();
    }
    lock.Lock();
    syncing_ = false;
    if (st.ok()) synced_ticket_ = std::max(synced_ticket_, target);
    sync_cv_.SignalAll();
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

Status EngineImpl::ProbeWritable() {
  rocksdb::Env* env = options_.env != nullptr ? options_.env : rocksdb::Env::Default();
  const std::string path = options_.path + "/RESUME-PROBE";
  std::unique_ptr<rocksdb::WritableFile> file;
  rocksdb::Status s = env->NewWritableFile(path, &file, rocksdb::EnvOptions());
  if (s.ok()) s = file->Append(std::string(kProbeBytes, 'p'));
  if (s.ok()) s = file->Sync();
  if (file) {
    rocksdb::Status closed = file->Close();
    if (s.ok()) s = closed;
  }
  env->DeleteFile(path).PermitUncheckedError();  // best effort: a leftover is harmless
  return FromRocks(s, "the data directory is still not writable");
}

Status EngineImpl::ResumeIfNeeded() {
  if (!needs_resume_.load()) return Status::Ok();
  MutexLock lock(&resume_mu_);
  if (!needs_resume_.load()) return Status::Ok();  // another thread did it
  rocksdb::DB* db = store_->db();
  // Resuming while the device still fails makes things worse: the recovery's
  // own failed flush turns RocksDB's error fatal (only a restart clears it).
  // So first the free-space reserve, then a small synced write through the
  // same Env, must succeed.
  SYNCMGR_RETURN_IF_ERROR(disk_guard_.Check());
  SYNCMGR_RETURN_IF_ERROR(ProbeWritable());
  // Clears RocksDB's background error, if it set one (OK at once if not).
  // Busy: RocksDB is recovering by itself — after ENOSPC its SstFileManager
  // polls the free space every few seconds and resumes once there is room.
  // Wait a little, then let the client retry rather than hold a worker.
  rocksdb::Status resumed = db->Resume();
  for (int i = 0; resumed.IsBusy() && i < kResumeBusyRetries; ++i) {
    std::this_thread::sleep_for(kResumeBusyWait);
    resumed = db->Resume();
  }
  if (resumed.IsBusy()) {
    return Status::Unavailable(
        "writes are paused while the storage recovers from a full disk or an I/O error; retry "
        "in a few seconds");
  }
  if (!resumed.ok() && resumed.severity() >= rocksdb::Status::Severity::kFatalError) {
    // E.g. an EIO (not ENOSPC) on a WAL write: RocksDB 7.8 deems it fatal and
    // only a reopen clears it. Reads go on meanwhile.
    return Status::Unavailable(
        "writes are stopped after an I/O error on the write-ahead log that can only be cleared "
        "by restarting syncmgr (reads go on; acknowledged writes are safe)");
  }
  SYNCMGR_RETURN_IF_ERROR(FromRocks(resumed, "resume writes after an I/O error"));
  // Everything in the memtables goes to synced table files; the WAL that
  // failed becomes obsolete and is never replayed.
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  for (int i = 0; i < kNumCfs; ++i) {
    if (auto* h = store_->cf(static_cast<Cf>(i))) cfs.push_back(h);  // not a missing family
  }
  rocksdb::FlushOptions fo;
  fo.wait = true;
  fo.allow_write_stall = true;
  SYNCMGR_RETURN_IF_ERROR(FromRocks(db->Flush(fo, cfs), "flush after an I/O error"));
  needs_resume_.store(false);
  return Status::Ok();
}

void EngineImpl::NotifyCommit(TenantId tenant, uint64_t last_seq) {
  {
    MutexLock lock(&subs_mu_);
    for (auto& [id, fn] : subs_) fn(tenant, last_seq);
  }
  // Taken so that a waiter between its check and its wait cannot miss this.
  { MutexLock lock(&seq_mu_); }
  seq_cv_.SignalAll();
}

Status EngineImpl::WaitForSeq(TenantId tenant, uint64_t seq, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto reached = [&](uint64_t* have) {
    *have = 0;
    StatusOr<TenantSlot*> slot = Slot(tenant);  // the tenant may not exist here yet
    if (slot.ok()) *have = (*slot)->last_seq.load(std::memory_order_acquire);
    return *have >= seq;
  };
  uint64_t have = 0;
  MutexLock lock(&seq_mu_);
  while (!reached(&have)) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline || !seq_cv_.WaitFor(&seq_mu_, deadline - now)) {
      if (reached(&have)) break;
      return Status::Lagging(fmt::format(
          "this node's views of tenant {} reach seq {}, not yet seq {} (waited {} ms); retry, or "
          "read from another node",
          tenant, have, seq, timeout.count()));
    }
  }
  return Status::Ok();
}

uint64_t EngineImpl::Subscribe(std::function<void(TenantId, uint64_t)> fn) {
  MutexLock lock(&subs_mu_);
  uint64_t id = next_sub_++;
  subs_[id] = std::move(fn);
  return id;
}

void EngineImpl::Unsubscribe(uint64_t handle) {
  MutexLock lock(&subs_mu_);
  subs_.erase(handle);
}

}  // namespace syncmgr
