// Reading the log in seq order: the change feed's source.
#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/keys.h"
#include "views_generated.h"

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

std::string Str(const flatbuffers::String* s) { return std::string(Sv(s)); }

// What a catalog event records, from the event alone (the views may have
// moved on since). Key and token hashes are in these records but never read.
CatalogRecord CatalogOf(TenantId tenant, const fb::Event& ev) {
  switch (ev.body_type()) {
    case fb::EventBody::TenantCreated: {
      const auto* tc = ev.body_as_TenantCreated();
      return TenantInfo{tc->tenant_id(), Str(tc->name()), ev.time_us()};
    }
    case fb::EventBody::ApiKeyCreated:
      return ApiKeyInfo{Str(ev.body_as_ApiKeyCreated()->prefix()), tenant, false, ev.time_us()};
    case fb::EventBody::ApiKeyRevoked:
      return ApiKeyInfo{Str(ev.body_as_ApiKeyRevoked()->prefix()), tenant, true, ev.time_us()};
    case fb::EventBody::SourceCreated: {
      const auto* sc = ev.body_as_SourceCreated();
      SourceInfo info;
      info.id = sc->source_id();
      info.name = Str(sc->name());
      info.type = Str(sc->type());
      info.id_field = Str(sc->id_field());
      if (sc->ignore_fields() != nullptr) {
        for (const auto* f : *sc->ignore_fields()) info.ignore_fields.emplace_back(Sv(f));
      }
      info.max_removal_ratio = sc->max_removal_ratio();
      info.created_at_us = ev.time_us();
      // SPEC §4: the object GET /sources/{id} answered when it was created.
      info.live_count = 0;
      return info;
    }
    case fb::EventBody::TargetCreated: {
      const auto* tc = ev.body_as_TargetCreated();
      TargetInfo info;
      info.id = tc->target_id();
      info.name = Str(tc->name());
      info.type = Str(tc->type());
      info.config_json = Str(tc->config_json());
      info.created_at_us = ev.time_us();
      info.live_count = 0;  // as GET /targets/{id} answered it then
      info.manual_count = 0;
      return info;
    }
    case fb::EventBody::FeedTokenCreated: {
      const auto* ft = ev.body_as_FeedTokenCreated();
      return FeedTokenInfo{tenant, ft->source_id(), ft->target_id(), ft->expires_at_us()};
    }
    default:
      return std::monostate();
  }
}

// Converts a committed event.
Status ToLogEvent(EngineImpl* e, TenantId tenant, const fb::Event& ev, LogEvent* out) {
  out->seq = ev.seq();
  out->time_us = ev.time_us();
  out->type = TypeOf(ev);
  out->stream.reset();
  out->external_id.clear();
  out->version = 0;
  out->hash.clear();
  out->data.reset();
  out->changed_fields.reset();
  out->summary_json.clear();
  out->catalog = std::monostate();
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
      return Status::Ok();
    }
    case fb::EventBody::ImportCompleted: {
      ImportLogEntry entry = ToImportLogEntry(ev);
      out->stream = StreamRef{StreamKind::kSource, entry.source_id};
      out->summary_json = StatsJson(entry);
      return Status::Ok();
    }
    case fb::EventBody::SyncCompleted: {
      SyncLogEntry entry = ToSyncLogEntry(ev);
      out->stream = StreamRef{StreamKind::kTarget, entry.target_id};
      out->summary_json = StatsJson(entry);
      return Status::Ok();
    }
    case fb::EventBody::SourceCreated:
      out->stream = StreamRef{StreamKind::kSource, ev.body_as_SourceCreated()->source_id()};
      break;
    case fb::EventBody::TargetCreated:
      out->stream = StreamRef{StreamKind::kTarget, ev.body_as_TargetCreated()->target_id()};
      break;
    default:
      break;  // tenant-wide, or a kind this build does not know
  }
  out->catalog = CatalogOf(tenant, ev);
  return Status::Ok();
}

// The seq of the event that created `stream` (0 if it does not exist): the
// stream index holds changes only, and a stream's first event is its
// creation, which its catalog record remembers.
StatusOr<uint64_t> CreationSeq(Store& store, TenantId tenant, StreamRef stream) {
  std::string value;
  const bool source = stream.kind == StreamKind::kSource;
  Status s = store.Get(
      Cf::kCatalog,
      source ? keys::SourceRecord(tenant, stream.id) : keys::TargetRecord(tenant, stream.id),
      &value);
  if (s.code() == Code::kNotFound) return uint64_t{0};
  SYNCMGR_RETURN_IF_ERROR(s);
  return source ? flatbuffers::GetRoot<fb::SourceRecord>(value.data())->seq()
                : flatbuffers::GetRoot<fb::TargetRecord>(value.data())->seq();
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
    if (query.every_kind || IsChange(TypeOf(*ev))) {
      SYNCMGR_RETURN_IF_ERROR(ToLogEvent(impl_.get(), tenant, *ev, &event));
      page.events.push_back(event);
    }
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
  // Filtered by stream: its creation event first (every_kind), then the
  // stream index, fetching each event.
  if (query.every_kind && query.limit > 0 && query.scan_budget > 0) {
    SYNCMGR_ASSIGN_OR_RETURN(uint64_t created, CreationSeq(store, tenant, *query.stream));
    if (created > query.after_seq && created <= bound) {
      std::string bytes;
      SYNCMGR_RETURN_IF_ERROR(impl_->ReadLogRecord(tenant, created, &bytes));
      SYNCMGR_RETURN_IF_ERROR(take(created, bytes));
      ++scanned;
    }
  }
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
