// Reads: one property (now or as of a seq), property lists (streamed),
// history, the import and sync logs, and the log itself.
//
// Every read is bounded by the tenant's committed last_seq, so records that
// an operation wrote ahead of its commit are never seen.
#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/keys.h"
#include "engine/state_read.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

Status CheckStream(EngineImpl* e, TenantId tenant, StreamRef stream) {
  if (stream.kind == StreamKind::kSource) return e->ReadSource(tenant, stream.id).status();
  return e->ReadTarget(tenant, stream.id).status();
}

// The seq of a history key.
StatusOr<uint64_t> HistorySeq(std::string_view key) {
  TenantId tenant;
  StreamRef stream;
  std::string external_id;
  uint64_t seq;
  if (!keys::DecodeHistory(key, &tenant, &stream, &external_id, &seq)) {
    return Status::Corruption("history key does not parse");
  }
  return seq;
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
    IteratorOptions io;
    io.fill_cache = false;  // a full listing must not evict the hot set
    it_ = e->store().NewPrefixIterator(Cf::kState, keys::StatePrefix(tenant, stream), io);
    if (o.after) {
      std::string from = keys::State(tenant, stream, *o.after);
      it_->Seek(from);
      if (it_->Valid() && it_->key() == from) it_->Next();
    } else {
      it_->SeekToFirst();
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
      const fb::PropertyState* st = ParseStateRecord(it_->value(), &value_);
      TenantId owner;
      StreamRef stream;
      std::string_view ext;
      if (!keys::DecodeState(it_->key(), &owner, &stream, &ext)) {
        status_ = Status::Corruption("malformed state key");
        return false;
      }
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
    if (status_.ok()) status_ = it_->status("list");
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
  std::string value_;
  std::unique_ptr<StoreIterator> it_;
  uint64_t emitted_ = 0;
  Status status_;
};

// State as of a seq, streamed from the history view: for each external_id
// (in order) its last version at or before the seq.
class AsOfCursor final : public PropertyCursor {
 public:
  AsOfCursor(EngineImpl* e, TenantId tenant, StreamRef stream, const ListOptions& o)
      : e_(e), tenant_(tenant), options_(o), as_of_(*o.as_of_seq) {
    IteratorOptions io;
    io.fill_cache = false;
    it_ = e->store().NewPrefixIterator(Cf::kHistory, keys::HistoryStreamPrefix(tenant, stream), io);
    if (o.after) {
      it_->Seek(keys::PrefixEnd(keys::HistoryPrefix(tenant, stream, *o.after)));
    } else {
      it_->SeekToFirst();
    }
  }

  bool Next(PropertyRecord* out) override {
    while (status_.ok() && it_->Valid()) {
      if (options_.limit != 0 && emitted_ >= options_.limit) return false;
      // One group of keys per external_id, in seq order: find its last seq
      // <= as_of.
      if (!DecodeKey()) return false;
      group_ = key_id_;
      uint64_t best = 0;
      for (; it_->Valid(); it_->Next()) {
        if (!DecodeKey()) return false;
        if (key_id_ != group_) break;
        if (key_seq_ <= as_of_) best = key_seq_;
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
    if (status_.ok()) status_ = it_->status("list");
    return false;
  }

  Status status() const override { return status_; }

 private:
  // Decodes the key the iterator is at into key_id_ and key_seq_; false
  // (and status_ set) if it does not parse. REQUIRES: it_->Valid().
  bool DecodeKey() {
    TenantId tenant;
    StreamRef stream;
    if (keys::DecodeHistory(it_->key(), &tenant, &stream, &key_id_, &key_seq_)) return true;
    status_ = Status::Corruption("history key does not parse");
    return false;
  }

  EngineImpl* e_;
  TenantId tenant_;
  ListOptions options_;
  uint64_t as_of_;
  std::unique_ptr<StoreIterator> it_;
  std::string key_id_;    // the external_id of the last key decoded
  uint64_t key_seq_ = 0;  // its seq
  std::string group_;     // the external_id whose keys are being read
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
    SYNCMGR_ASSIGN_OR_RETURN(const fb::PropertyState* st,
                             ReadStateRecord(impl_->store(), tenant, stream, external_id, &value));
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
  std::unique_ptr<StoreIterator> it = impl_->store().NewPrefixIterator(
      Cf::kHistory, keys::HistoryPrefix(tenant, stream, external_id));
  it->SeekForPrev(keys::History(tenant, stream, external_id, as_of));
  if (!it->Valid()) {
    SYNCMGR_RETURN_IF_ERROR(it->status("history"));
    return not_found();
  }
  SYNCMGR_ASSIGN_OR_RETURN(uint64_t seq, HistorySeq(it->key()));
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
  std::unique_ptr<StoreIterator> it = impl_->store().NewPrefixIterator(
      Cf::kHistory, keys::HistoryPrefix(tenant, stream, external_id));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    SYNCMGR_ASSIGN_OR_RETURN(uint64_t seq, HistorySeq(it->key()));
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
  SYNCMGR_RETURN_IF_ERROR(it->status("history"));
  if (out.empty()) {
    return Status::NotFound(fmt::format("property \"{}\" has no history", external_id));
  }
  return out;
}

namespace {

// Newest first over one kind of op-log entry (the import log's or the sync
// log's prefix).
template <typename Entry, typename Convert, typename Keep>
StatusOr<std::vector<Entry>> ScanOpLog(EngineImpl* e, TenantId tenant, std::string_view prefix,
                                       uint32_t limit, Convert convert, Keep keep) {
  std::vector<Entry> out;
  std::unique_ptr<StoreIterator> it = e->store().NewPrefixIterator(Cf::kOpLog, prefix);
  for (it->SeekToLast(); it->Valid() && (limit == 0 || out.size() < limit); it->Prev()) {
    uint64_t seq;
    if (!keys::DecodeOpLogValue(it->value(), &seq)) {
      return Status::Corruption("malformed op log entry");
    }
    std::string bytes;
    SYNCMGR_RETURN_IF_ERROR(e->ReadLogRecord(tenant, seq, &bytes));
    SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
    Entry entry = convert(*ev);
    if (keep(entry)) out.push_back(std::move(entry));
  }
  SYNCMGR_RETURN_IF_ERROR(it->status("op log"));
  return out;
}

template <typename Entry, typename Convert>
StatusOr<Entry> ReadOpLog(EngineImpl* e, TenantId tenant, const std::string& key,
                          std::string_view what, uint64_t id, Convert convert) {
  std::string value;
  Status s = e->store().Get(Cf::kOpLog, key, &value);
  if (s.code() == Code::kNotFound) return Status::NotFound(fmt::format("{} {} not found", what, id));
  SYNCMGR_RETURN_IF_ERROR(s);
  uint64_t seq;
  if (!keys::DecodeOpLogValue(value, &seq)) return Status::Corruption("malformed op log entry");
  std::string bytes;
  SYNCMGR_RETURN_IF_ERROR(e->ReadLogRecord(tenant, seq, &bytes));
  SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
  return convert(*ev);
}

}  // namespace

StatusOr<std::vector<ImportLogEntry>> Engine::ListImports(TenantId tenant,
                                                          std::optional<uint32_t> source_id,
                                                          uint32_t limit) {
  SYNCMGR_RETURN_IF_ERROR(impl_->Slot(tenant).status());
  return ScanOpLog<ImportLogEntry>(
      impl_.get(), tenant, keys::ImportLogPrefix(tenant), limit, ToImportLogEntry,
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
  return ScanOpLog<SyncLogEntry>(impl_.get(), tenant, keys::SyncLogPrefix(tenant), filter.limit,
                                 ToSyncLogEntry, [&](const SyncLogEntry& e) {
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
