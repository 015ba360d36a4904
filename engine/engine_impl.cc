#include "engine/engine_impl.h"

#include <rocksdb/iterator.h>

#include <chrono>

#include <fmt/format.h>

#include "engine/keys.h"
#include "views_generated.h"

namespace syncmgr {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- WriteOp ----------------------------------------------------------------

WriteOp::WriteOp(EngineImpl* engine, TenantId tenant, TenantSlot* slot)
    : engine_(engine),
      tenant_(tenant),
      slot_(slot),
      views_(slot->views),
      folder_(tenant, &views_, &view_batch_, &engine->store()),
      builder_(1024),
      // Event times never go backwards within a tenant, so "as of a time"
      // maps to one seq.
      time_us_(std::max(NowMicros(), slot->views.last_time_us)),
      first_seq_(slot->views.last_seq + 1) {}

WriteOp::~WriteOp() {
  if (done_ || !flushed_ahead_) return;
  // Aborted after writing log records ahead: drop them. If this write is
  // lost in a crash, recovery at open drops them instead.
  rocksdb::WriteBatch undo;
  undo.DeleteRange(engine_->store().cf(Cf::kLog), keys::Log(tenant_, first_seq_),
                   keys::Log(tenant_, views_.last_seq + 1));
  engine_->store().Write(&undo, /*sync=*/false).IgnoreError();  // recovery covers a failure
}

Status WriteOp::Append() {
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

Status WriteOp::FlushLogChunk() {
  // A large operation may write far more than it had when it started.
  SYNCMGR_RETURN_IF_ERROR(engine_->disk_guard().Check());
  // Not synced: the commit's synced write syncs the WAL up to it.
  Status s = engine_->store().Write(&log_batch_, /*sync=*/false);
  flushed_ahead_ = true;  // even on failure some of it may be there
  log_batch_.Clear();
  return s;
}

namespace {

// Copies every record of a batch into another (small batches only).
class CopyHandler : public rocksdb::WriteBatch::Handler {
 public:
  CopyHandler(rocksdb::WriteBatch* out, Store* store) : out_(out), store_(store) {}
  rocksdb::Status PutCF(uint32_t cf_id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    for (int i = 0; i < kNumCfs; ++i) {
      auto* handle = store_->cf(static_cast<Cf>(i));
      if (handle->GetID() == cf_id) return out_->Put(handle, key, value);
    }
    return rocksdb::Status::Corruption("unknown column family in batch");
  }

 private:
  rocksdb::WriteBatch* out_;
  Store* store_;
};

}  // namespace

StatusOr<uint64_t> WriteOp::Commit(std::unique_lock<std::mutex>& lock) {
  folder_.Finish();
  Store& store = engine_->store();
  if (flushed_ahead_ || log_batch_.GetDataSize() >= engine_->options().write_chunk_bytes / 4) {
    if (log_batch_.Count() > 0) SYNCMGR_RETURN_IF_ERROR(FlushLogChunk());
    // The view batch holds the commit record (tenant meta): atomic switch.
    SYNCMGR_RETURN_IF_ERROR(store.Write(&view_batch_, /*sync=*/false));
  } else {
    CopyHandler copy(&log_batch_, &store);
    rocksdb::Status s = view_batch_.Iterate(&copy);
    if (!s.ok()) return FromRocks(s, "commit");
    SYNCMGR_RETURN_IF_ERROR(store.Write(&log_batch_, /*sync=*/false));
  }
  uint64_t ticket = engine_->NoteWritten();
  done_ = true;
  slot_->views = std::move(views_);
  uint64_t last = slot_->views.last_seq;
  // The next writer of this tenant may go on: it reads this operation's
  // views and its own commit can only become durable after this one.
  lock.unlock();
  if (engine_->options().sync_writes) SYNCMGR_RETURN_IF_ERROR(engine_->AwaitDurable(ticket));
  // Readers of the log (feed, replay bounds) see only durable operations.
  uint64_t seen = slot_->last_seq.load(std::memory_order_relaxed);
  while (seen < last &&
         !slot_->last_seq.compare_exchange_weak(seen, last, std::memory_order_release)) {
  }
  engine_->NotifyCommit(tenant_, last);
  return last;
}

// ---- EngineImpl --------------------------------------------------------------

Status EngineImpl::Open() {
  StoreOptions so;
  so.path = options_.path;
  so.block_cache_bytes = options_.block_cache_bytes;
  if (!options_.secondary_path.empty()) options_.read_only = true;
  so.read_only = options_.read_only;
  so.secondary_path = options_.secondary_path;
  so.env = options_.env;
  SYNCMGR_ASSIGN_OR_RETURN(store_, Store::Open(so));

  // Every tenant has a catalog record; its meta holds the committed seq.
  std::unique_ptr<rocksdb::Iterator> it(
      store_->db()->NewIterator(rocksdb::ReadOptions(), store_->cf(Cf::kCatalog)));
  std::vector<TenantId> tenants;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    if (k.size() == 5 && k[4] == 'N') tenants.push_back(keys::GetU32({k.data(), 4}));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scan catalog");
  std::lock_guard<std::mutex> lock(tenants_mu_);
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
    TenantSlot* slot = CreateSlot(t);
    slot->last_seq.store(committed);
    next_tenant_id_ = std::max(next_tenant_id_, t + 1);
  }
  return Status::Ok();
}

Status EngineImpl::RecoverTenant(TenantId tenant, uint64_t committed_seq) {
  // Log records above the commit record belong to an operation that never
  // committed (a crash after writing ahead): they were never acknowledged.
  std::unique_ptr<rocksdb::Iterator> it(
      store_->db()->NewIterator(rocksdb::ReadOptions(), store_->cf(Cf::kLog)));
  std::string from = keys::Log(tenant, committed_seq + 1);
  std::string to = keys::LogPrefix(tenant + 1);
  it->Seek(from);
  if (!it->Valid() || it->key().compare(to) >= 0) return FromRocks(it->status(), "recover");
  rocksdb::WriteBatch batch;
  batch.DeleteRange(store_->cf(Cf::kLog), from, to);
  return store_->Write(&batch, /*sync=*/true);
}

TenantSlot* EngineImpl::CreateSlot(TenantId tenant) {
  auto& slot = tenants_[tenant];
  if (!slot) slot = std::make_unique<TenantSlot>();
  return slot.get();
}

StatusOr<TenantSlot*> EngineImpl::Slot(TenantId tenant) {
  std::lock_guard<std::mutex> lock(tenants_mu_);
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) return Status::NotFound(fmt::format("tenant {} does not exist", tenant));
  return it->second.get();
}

StatusOr<std::unique_lock<std::mutex>> EngineImpl::LockForWrite(TenantId tenant,
                                                                TenantSlot** slot) {
  if (options_.read_only) return Status::Unavailable("the data directory is open read-only");
  // Refused before RocksDB can meet ENOSPC (EngineOptions::min_free_bytes).
  SYNCMGR_RETURN_IF_ERROR(disk_guard_.Check());
  SYNCMGR_ASSIGN_OR_RETURN(*slot, Slot(tenant));
  std::unique_lock<std::mutex> lock((*slot)->write_mu);
  if (!(*slot)->loaded) {
    SYNCMGR_ASSIGN_OR_RETURN((*slot)->views, LoadTenantViews(*store_, tenant));
    (*slot)->loaded = true;
  }
  return lock;
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
  std::lock_guard<std::mutex> lock(sync_mu_);
  return ++written_ticket_;
}

Status EngineImpl::AwaitDurable(uint64_t ticket) {
  std::unique_lock<std::mutex> lock(sync_mu_);
  while (synced_ticket_ < ticket) {
    if (syncing_) {
      sync_cv_.wait(lock);
      continue;
    }
    // Become the leader: one WAL sync covers every write noted so far.
    syncing_ = true;
    uint64_t target = written_ticket_;
    lock.unlock();
    rocksdb::Status s = store_->db()->SyncWAL();
    lock.lock();
    syncing_ = false;
    if (s.ok()) synced_ticket_ = std::max(synced_ticket_, target);
    sync_cv_.notify_all();
    if (!s.ok()) return FromRocks(s, "sync the write-ahead log");
  }
  return Status::Ok();
}

void EngineImpl::NotifyCommit(TenantId tenant, uint64_t last_seq) {
  std::lock_guard<std::mutex> lock(subs_mu_);
  for (auto& [id, fn] : subs_) fn(tenant, last_seq);
}

uint64_t EngineImpl::Subscribe(std::function<void(TenantId, uint64_t)> fn) {
  std::lock_guard<std::mutex> lock(subs_mu_);
  uint64_t id = next_sub_++;
  subs_[id] = std::move(fn);
  return id;
}

void EngineImpl::Unsubscribe(uint64_t handle) {
  std::lock_guard<std::mutex> lock(subs_mu_);
  subs_.erase(handle);
}

}  // namespace syncmgr
