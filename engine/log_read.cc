// Reading the log in seq order: the change feed's source.
#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/keys.h"

namespace syncmgr {

namespace {

std::string StatsJson(const ImportLogEntry& e) {
  return fmt::format(
      R"({{"import_id":{},"source_id":{},"mode":"{}","stats":{{"received":{},"created":{},"updated":{},"unchanged":{},"removed":{}}}}})",
      e.id, e.source_id, e.mode, e.stats.received, e.stats.created, e.stats.updated,
      e.stats.unchanged, e.stats.removed);
}

std::string StatsJson(const SyncLogEntry& e) {
  return fmt::format(
      R"({{"sync_id":{},"source_id":{},"target_id":{},"stats":{{"created":{},"updated":{},"unchanged":{},"removed":{},"conflicts":{}}}}})",
      e.id, e.source_id, e.target_id, e.stats.created, e.stats.updated, e.stats.unchanged,
      e.stats.removed, e.stats.conflicts);
}

// Converts a committed event; false for catalog events (never in the feed).
StatusOr<bool> ToLogEvent(EngineImpl* e, TenantId tenant, const fb::Event& ev, LogEvent* out) {
  out->seq = ev.seq();
  out->time_us = ev.time_us();
  out->type = TypeOf(ev);
  out->external_id.clear();
  out->version = 0;
  out->hash.clear();
  out->data.reset();
  out->changed_fields.reset();
  out->summary_json.clear();
  switch (ev.body_type()) {
    case fb::EventBody::PropertyChanged: {
      const auto* p = ev.body_as_PropertyChanged();
      out->stream = StreamRef{static_cast<StreamKind>(p->stream_kind()), p->stream_id()};
      out->external_id.assign(Sv(p->external_id()));
      out->version = p->version();
      if (p->hash() != nullptr) out->hash = FromFb(p->hash()).Hex();
      if (p->data_ref() != 0) {
        std::string data;
        SYNCMGR_RETURN_IF_ERROR(e->ReadData(tenant, p->data_ref(), &data));
        out->data = std::move(data);
      } else if (p->data() != nullptr) {
        out->data = std::string(Sv(p->data()));
      }
      if (p->changed_fields() != nullptr) {
        std::vector<std::string> f;
        for (const auto* s : *p->changed_fields()) f.emplace_back(Sv(s));
        out->changed_fields = std::move(f);
      }
      return true;
    }
    case fb::EventBody::ImportCompleted: {
      ImportLogEntry entry = ToImportLogEntry(ev);
      out->stream = StreamRef{StreamKind::kSource, entry.source_id};
      out->summary_json = StatsJson(entry);
      return true;
    }
    case fb::EventBody::SyncCompleted: {
      SyncLogEntry entry = ToSyncLogEntry(ev);
      out->stream = StreamRef{StreamKind::kTarget, entry.target_id};
      out->summary_json = StatsJson(entry);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

StatusOr<LogPage> Engine::ReadLog(TenantId tenant, const LogQuery& query) {
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->Slot(tenant));
  uint64_t bound = slot->last_seq.load(std::memory_order_acquire);
  LogPage page;
  page.last_seq = std::min(query.after_seq, bound);
  if (query.after_seq >= bound) return page;
  Store& store = impl_->store();
  uint32_t scanned = 0;
  LogEvent event;
  auto take = [&](uint64_t seq, std::string_view bytes) -> Status {
    SYNCMGR_ASSIGN_OR_RETURN(const fb::Event* ev, ReadEvent(bytes));
    SYNCMGR_ASSIGN_OR_RETURN(bool keep, ToLogEvent(impl_.get(), tenant, *ev, &event));
    if (keep) page.events.push_back(event);
    page.last_seq = seq;
    return Status::Ok();
  };
  if (!query.stream) {
    // Up to the committed seq: records written ahead of a commit stay unseen.
    std::unique_ptr<StoreIterator> it = store.NewRangeIterator(
        Cf::kLog, keys::Log(tenant, query.after_seq + 1), keys::Log(tenant, bound + 1));
    for (it->SeekToFirst();
         it->Valid() && page.events.size() < query.limit && scanned < query.scan_budget;
         it->Next(), ++scanned) {
      TenantId owner;
      uint64_t seq;
      if (!keys::DecodeLog(it->key(), &owner, &seq)) return Status::Corruption("malformed log key");
      SYNCMGR_RETURN_IF_ERROR(take(seq, std::string(it->value())));  // aligned copy
    }
    SYNCMGR_RETURN_IF_ERROR(it->status("read log"));
    if (!it->Valid()) page.last_seq = bound;  // scanned to the end
    return page;
  }
  // Filtered by stream: walk the stream index, then fetch each event.
  std::unique_ptr<StoreIterator> it = store.NewRangeIterator(
      Cf::kStream, keys::StreamIndex(tenant, *query.stream, query.after_seq + 1),
      keys::StreamIndex(tenant, *query.stream, bound + 1));
  for (it->SeekToFirst();
       it->Valid() && page.events.size() < query.limit && scanned < query.scan_budget;
       it->Next(), ++scanned) {
    TenantId owner;
    StreamRef stream;
    uint64_t seq;
    if (!keys::DecodeStreamIndex(it->key(), &owner, &stream, &seq)) {
      return Status::Corruption("malformed stream index key");
    }
    std::string bytes;
    SYNCMGR_RETURN_IF_ERROR(impl_->ReadLogRecord(tenant, seq, &bytes));
    SYNCMGR_RETURN_IF_ERROR(take(seq, bytes));
  }
  SYNCMGR_RETURN_IF_ERROR(it->status("read stream index"));
  if (!it->Valid()) page.last_seq = bound;
  return page;
}

}  // namespace syncmgr
