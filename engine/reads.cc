// Reads: one property (now or as of a seq), property lists (streamed),
// history, the import and sync logs, and the log itself.
//
// Every read is bounded by the tenant's committed last_seq, so records that
// an operation wrote ahead of its commit are never seen.
#include <rocksdb/iterator.h>

#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/keys.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

Status CheckStream(EngineImpl* e, TenantId tenant, StreamRef stream) {
  if (stream.kind == StreamKind::kSource) return e->ReadSource(tenant, stream.id).status();
  return e->ReadTarget(tenant, stream.id).status();
}

// Fills a record from a property's state record.
Status FromState(EngineImpl* e, TenantId tenant, std::string_view ext,
                 const fb::PropertyState& st, PropertyRecord* out) {
  out->external_id.assign(ext);
  SYNCMGR_RETURN_IF_ERROR(e->ReadData(tenant, st.data_seq(), &out->data));
  out->hash = FromFb(st.hash()).Hex();
  out->version = st.version();
  out->updated_at_us = st.updated_at_us();
  out->seq = st.seq();
  out->source_id = st.source_id();
  out->manually_modified = st.manually_modified();
  out->removed = false;
  return Status::Ok();
}

// Fills a record from the event that made a version; false if it removed it.
StatusOr<bool> FromEvent(EngineImpl* e, TenantId tenant, uint64_t seq, PropertyRecord* out) {
  std::string bytes;
  SYNCMGR_RETURN_IF_ERROR(e->ReadLogRecord(tenant, seq, &bytes));
  SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
  const fb::PropertyChanged* p = ev->body_as_PropertyChanged();
  if (p == nullptr) return Status::Corruption(fmt::format("seq {} is not a property event", seq));
  if (p->change() == fb::PropertyChange::Removed) return false;
  out->external_id.assign(Sv(p->external_id()));
  if (p->data_ref() != 0) {
    SYNCMGR_RETURN_IF_ERROR(e->ReadData(tenant, p->data_ref(), &out->data));
  } else {
    out->data.assign(Sv(p->data()));
  }
  out->hash = FromFb(p->hash()).Hex();
  out->version = p->version();
  out->updated_at_us = ev->time_us();
  out->seq = seq;
  out->source_id = p->source_id();
  out->manually_modified = p->cause() == fb::CauseKind::Manual;
  out->removed = false;
  return true;
}

// Current state, in external_id order.
class StateCursor final : public PropertyCursor {
 public:
  StateCursor(EngineImpl* e, TenantId tenant, StreamRef stream, const ListOptions& o)
      : e_(e), tenant_(tenant), options_(o) {
    prefix_ = keys::StatePrefix(tenant, stream);
    end_ = keys::PrefixEnd(prefix_);
    upper_ = rocksdb::Slice(end_);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_;
    ro.fill_cache = false;  // a full listing must not evict the hot set
    it_.reset(e->store().db()->NewIterator(ro, e->store().cf(Cf::kState)));
    if (o.after) {
      std::string from = keys::State(tenant, stream, *o.after);
      it_->Seek(from);
      if (it_->Valid() && it_->key() == rocksdb::Slice(from)) it_->Next();
    } else {
      it_->Seek(prefix_);
    }
  }

  bool Next(PropertyRecord* out) override {
    if (pos_ == ready_.size() && !Fill()) return false;
    *out = std::move(ready_[pos_++]);
    ++emitted_;
    return true;
  }

  Status status() const override { return status_; }

 private:
  // Rows read ahead: their data is fetched with one MultiGet. The data of
  // consecutive rows lies anywhere in the log (external_id order is not log
  // order); one batched, seq-sorted lookup costs far less than as many Gets.
  static constexpr size_t kReadAhead = 128;

  // Reads the next rows (their states, then their data); false at the end
  // or on error.
  bool Fill() {
    ready_.clear();
    pos_ = 0;
    std::vector<std::string> data_keys;
    while (status_.ok() && it_->Valid() && ready_.size() < kReadAhead) {
      if (options_.limit != 0 && emitted_ + ready_.size() >= options_.limit) break;
      value_ = it_->value().ToString();  // aligned copy for FlatBuffers
      const auto* st = flatbuffers::GetRoot<fb::PropertyState>(value_.data());
      std::string_view ext(it_->key().data() + prefix_.size(), it_->key().size() - prefix_.size());
      bool skip = st->removed() || (options_.changed_since && st->seq() <= *options_.changed_since);
      if (!skip) {
        PropertyRecord& r = ready_.emplace_back();
        r.external_id.assign(ext);
        r.hash = FromFb(st->hash()).Hex();
        r.version = st->version();
        r.updated_at_us = st->updated_at_us();
        r.seq = st->seq();
        r.source_id = st->source_id();
        r.manually_modified = st->manually_modified();
        r.removed = false;
        data_keys.push_back(keys::Log(tenant_, st->data_seq()));
      }
      it_->Next();
    }
    if (status_.ok() && !it_->status().ok()) status_ = FromRocks(it_->status(), "list");
    if (!status_.ok() || ready_.empty()) return false;
    std::vector<rocksdb::Slice> slices(data_keys.begin(), data_keys.end());
    std::vector<rocksdb::PinnableSlice> values(slices.size());
    std::vector<rocksdb::Status> statuses(slices.size());
    Store& store = e_->store();
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;  // like the state scan: a full listing must not evict the hot set
    store.db()->MultiGet(ro, store.cf(Cf::kLog), slices.size(), slices.data(), values.data(),
                         statuses.data());
    std::string bytes;
    for (size_t i = 0; i < ready_.size(); ++i) {
      if (statuses[i].IsNotFound()) {
        status_ = Status::Corruption(fmt::format("tenant {}: log record of {} is missing", tenant_,
                                                 ready_[i].external_id));
        return false;
      }
      if (!statuses[i].ok()) {
        status_ = FromRocks(statuses[i], "list");
        return false;
      }
      bytes.assign(values[i].data(), values[i].size());  // aligned copy for FlatBuffers
      StatusOr<const fb::Event*> ev = ReadEvent(bytes);
      if (!ev.ok()) {
        status_ = ev.status();
        return false;
      }
      const fb::PropertyChanged* p = (*ev)->body_as_PropertyChanged();
      if (p == nullptr || p->data() == nullptr) {
        status_ = Status::Corruption(fmt::format("tenant {}: log record of {} holds no data",
                                                 tenant_, ready_[i].external_id));
        return false;
      }
      ready_[i].data.assign(p->data()->data(), p->data()->size());
    }
    return true;
  }

  std::vector<PropertyRecord> ready_;
  size_t pos_ = 0;
  EngineImpl* e_;
  TenantId tenant_;
  ListOptions options_;
  std::string prefix_, end_;
  rocksdb::Slice upper_;
  std::string value_;
  std::unique_ptr<rocksdb::Iterator> it_;
  uint64_t emitted_ = 0;
  Status status_;
};

// State as of a seq, streamed from the history view: for each external_id
// (in order) its last version at or before the seq.
class AsOfCursor final : public PropertyCursor {
 public:
  AsOfCursor(EngineImpl* e, TenantId tenant, StreamRef stream, const ListOptions& o)
      : e_(e), tenant_(tenant), options_(o), as_of_(*o.as_of_seq) {
    prefix_ = keys::HistoryStreamPrefix(tenant, stream);
    end_ = keys::PrefixEnd(prefix_);
    upper_ = rocksdb::Slice(end_);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_;
    ro.fill_cache = false;
    it_.reset(e->store().db()->NewIterator(ro, e->store().cf(Cf::kHistory)));
    if (o.after) {
      it_->Seek(keys::PrefixEnd(keys::HistoryPrefix(tenant, stream, *o.after)));
    } else {
      it_->Seek(prefix_);
    }
  }

  bool Next(PropertyRecord* out) override {
    std::string ext;
    while (status_.ok() && it_->Valid()) {
      if (options_.limit != 0 && emitted_ >= options_.limit) return false;
      // One group of keys per external_id: find its last seq <= as_of.
      std::string_view rest(it_->key().data() + prefix_.size(), it_->key().size() - prefix_.size());
      auto used = keys::GetEscaped(rest, &ext);
      if (!used || rest.size() != *used + 8) {
        status_ = Status::Corruption("history key does not parse");
        return false;
      }
      std::string group(it_->key().data(), prefix_.size() + *used);
      uint64_t best = 0;
      for (; it_->Valid() && it_->key().starts_with(group); it_->Next()) {
        uint64_t seq = keys::GetU64({it_->key().data() + group.size(), 8});
        if (seq <= as_of_) best = seq;
      }
      if (best == 0) continue;
      if (options_.changed_since && best <= *options_.changed_since) continue;
      StatusOr<bool> live = FromEvent(e_, tenant_, best, out);
      if (!live.ok()) {
        status_ = live.status();
        return false;
      }
      if (*live) {
        ++emitted_;
        return true;
      }
    }
    if (status_.ok() && !it_->status().ok()) status_ = FromRocks(it_->status(), "list");
    return false;
  }

  Status status() const override { return status_; }

 private:
  EngineImpl* e_;
  TenantId tenant_;
  ListOptions options_;
  uint64_t as_of_;
  std::string prefix_, end_;
  rocksdb::Slice upper_;
  std::unique_ptr<rocksdb::Iterator> it_;
  uint64_t emitted_ = 0;
  Status status_;
};

}  // namespace

StatusOr<PropertyRecord> Engine::GetProperty(TenantId tenant, StreamRef stream,
                                             std::string_view external_id,
                                             const ReadOptions& options) {
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->Slot(tenant));
  auto not_found = [&] {
    return Status::NotFound(fmt::format("property \"{}\" not found", external_id));
  };
  PropertyRecord rec;
  if (!options.as_of_seq) {
    // The state record first: streams are never deleted, so a property's
    // record proves its stream exists, and the stream's catalog record is
    // read only to tell an unknown stream (its own 404) from an absent
    // property. Two point reads per hit instead of three.
    std::string value;
    Status s = impl_->store().Get(Cf::kState, keys::State(tenant, stream, external_id), &value);
    if (s.code() != Code::kNotFound) SYNCMGR_RETURN_IF_ERROR(s);
    const auto* st = s.ok() ? flatbuffers::GetRoot<fb::PropertyState>(value.data()) : nullptr;
    if (st == nullptr || st->removed()) {
      SYNCMGR_RETURN_IF_ERROR(CheckStream(impl_.get(), tenant, stream));
      return not_found();
    }
    SYNCMGR_RETURN_IF_ERROR(FromState(impl_.get(), tenant, external_id, *st, &rec));
    return rec;
  }
  SYNCMGR_RETURN_IF_ERROR(CheckStream(impl_.get(), tenant, stream));
  // One seek in the property's history: its last version at or before as_of.
  uint64_t as_of = std::min(*options.as_of_seq, slot->last_seq.load());
  std::string prefix = keys::HistoryPrefix(tenant, stream, external_id);
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->store().db()->NewIterator(rocksdb::ReadOptions(), impl_->store().cf(Cf::kHistory)));
  it->SeekForPrev(keys::History(tenant, stream, external_id, as_of));
  if (!it->Valid() || !it->key().starts_with(prefix)) {
    SYNCMGR_RETURN_IF_ERROR(FromRocks(it->status(), "history"));
    return not_found();
  }
  uint64_t seq = keys::GetU64({it->key().data() + prefix.size(), 8});
  SYNCMGR_ASSIGN_OR_RETURN(bool live, FromEvent(impl_.get(), tenant, seq, &rec));
  if (!live) return not_found();
  return rec;
}

StatusOr<std::unique_ptr<PropertyCursor>> Engine::ListProperties(TenantId tenant,
                                                                 StreamRef stream,
                                                                 const ListOptions& options) {
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->Slot(tenant));
  SYNCMGR_RETURN_IF_ERROR(CheckStream(impl_.get(), tenant, stream));
  if (options.as_of_seq) {
    ListOptions o = options;
    o.as_of_seq = std::min(*options.as_of_seq, slot->last_seq.load());
    return std::unique_ptr<PropertyCursor>(new AsOfCursor(impl_.get(), tenant, stream, o));
  }
  return std::unique_ptr<PropertyCursor>(new StateCursor(impl_.get(), tenant, stream, options));
}

StatusOr<std::vector<HistoryEntry>> Engine::History(TenantId tenant, StreamRef stream,
                                                    std::string_view external_id) {
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->Slot(tenant));
  SYNCMGR_RETURN_IF_ERROR(CheckStream(impl_.get(), tenant, stream));
  uint64_t bound = slot->last_seq.load();
  std::vector<HistoryEntry> out;
  std::string prefix = keys::HistoryPrefix(tenant, stream, external_id);
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->store().db()->NewIterator(rocksdb::ReadOptions(), impl_->store().cf(Cf::kHistory)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    uint64_t seq = keys::GetU64({it->key().data() + prefix.size(), 8});
    if (seq > bound) break;
    std::string bytes;
    SYNCMGR_RETURN_IF_ERROR(impl_->ReadLogRecord(tenant, seq, &bytes));
    SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
    const fb::PropertyChanged* p = ev->body_as_PropertyChanged();
    if (p == nullptr) return Status::Corruption("history points at a non-property event");
    HistoryEntry h;
    h.version = p->version();
    h.seq = seq;
    h.time_us = ev->time_us();
    h.removed = p->change() == fb::PropertyChange::Removed;
    if (!h.removed) {
      h.hash = FromFb(p->hash()).Hex();
      std::string data;
      if (p->data_ref() != 0) {
        SYNCMGR_RETURN_IF_ERROR(impl_->ReadData(tenant, p->data_ref(), &data));
      } else {
        data.assign(Sv(p->data()));
      }
      h.data = std::move(data);
    }
    if (p->changed_fields() != nullptr) {
      std::vector<std::string> fields;
      for (const auto* f : *p->changed_fields()) fields.emplace_back(Sv(f));
      h.changed_fields = std::move(fields);
    }
    h.cause = static_cast<CauseKind>(p->cause());
    h.cause_id = p->cause_id();
    out.push_back(std::move(h));
  }
  SYNCMGR_RETURN_IF_ERROR(FromRocks(it->status(), "history"));
  if (out.empty()) {
    return Status::NotFound(fmt::format("property \"{}\" has no history", external_id));
  }
  return out;
}

namespace {

// Newest first over one kind of op-log entry ('I' imports, 'Y' syncs).
template <typename Entry, typename Convert, typename Keep>
StatusOr<std::vector<Entry>> ScanOpLog(EngineImpl* e, TenantId tenant, char kind, uint32_t limit,
                                       Convert convert, Keep keep) {
  std::vector<Entry> out;
  std::string prefix = keys::OpLogPrefix(tenant, kind);
  std::unique_ptr<rocksdb::Iterator> it(
      e->store().db()->NewIterator(rocksdb::ReadOptions(), e->store().cf(Cf::kOpLog)));
  for (it->SeekForPrev(keys::PrefixEnd(prefix));
       it->Valid() && it->key().starts_with(prefix) && (limit == 0 || out.size() < limit);
       it->Prev()) {
    uint64_t seq = keys::GetU64({it->value().data(), 8});
    std::string bytes;
    SYNCMGR_RETURN_IF_ERROR(e->ReadLogRecord(tenant, seq, &bytes));
    SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
    Entry entry = convert(*ev);
    if (keep(entry)) out.push_back(std::move(entry));
  }
  SYNCMGR_RETURN_IF_ERROR(FromRocks(it->status(), "op log"));
  return out;
}

template <typename Entry, typename Convert>
StatusOr<Entry> ReadOpLog(EngineImpl* e, TenantId tenant, const std::string& key,
                          std::string_view what, uint64_t id, Convert convert) {
  std::string value;
  Status s = e->store().Get(Cf::kOpLog, key, &value);
  if (s.code() == Code::kNotFound) return Status::NotFound(fmt::format("{} {} not found", what, id));
  SYNCMGR_RETURN_IF_ERROR(s);
  std::string bytes;
  SYNCMGR_RETURN_IF_ERROR(e->ReadLogRecord(tenant, keys::GetU64(value), &bytes));
  SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
  return convert(*ev);
}

}  // namespace

StatusOr<std::vector<ImportLogEntry>> Engine::ListImports(TenantId tenant,
                                                          std::optional<uint32_t> source_id,
                                                          uint32_t limit) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  return ScanOpLog<ImportLogEntry>(
      impl_.get(), tenant, 'I', limit, ToImportLogEntry,
      [&](const ImportLogEntry& e) { return !source_id || e.source_id == *source_id; });
}

StatusOr<ImportLogEntry> Engine::GetImport(TenantId tenant, uint64_t import_id) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  return ReadOpLog<ImportLogEntry>(impl_.get(), tenant, keys::ImportLog(tenant, import_id),
                                   "import", import_id, ToImportLogEntry);
}

StatusOr<std::vector<SyncLogEntry>> Engine::ListSyncLogs(TenantId tenant,
                                                         const SyncLogFilter& filter) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  return ScanOpLog<SyncLogEntry>(impl_.get(), tenant, 'Y', filter.limit, ToSyncLogEntry,
                                 [&](const SyncLogEntry& e) {
                                   return (!filter.source_id || e.source_id == *filter.source_id) &&
                                          (!filter.target_id || e.target_id == *filter.target_id);
                                 });
}

StatusOr<SyncLogEntry> Engine::GetSyncLog(TenantId tenant, uint64_t sync_id) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  return ReadOpLog<SyncLogEntry>(impl_.get(), tenant, keys::SyncLog(tenant, sync_id), "sync log",
                                 sync_id, ToSyncLogEntry);
}

}  // namespace syncmgr
