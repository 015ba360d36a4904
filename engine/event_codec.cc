#include "engine/event_codec.h"

#include <fmt/format.h>

namespace syncmgr {

namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

Offset<flatbuffers::String> Str(FlatBufferBuilder* b, std::string_view s) {
  return b->CreateString(s.data(), s.size());
}

template <typename T>
void Finish(FlatBufferBuilder* b, uint64_t seq, int64_t time_us, fb::EventBody type,
            Offset<T> body) {
  fb::EventBuilder eb(*b);
  eb.add_format_version(kEventFormatVersion);
  eb.add_seq(seq);
  eb.add_time_us(time_us);
  eb.add_body_type(type);
  eb.add_body(body.Union());
  b->Finish(eb.Finish(), fb::EventIdentifier());
}

}  // namespace

Hash128 FromFb(const fb::Hash128* h) {
  if (h == nullptr) return {};
  return Hash128{h->hi(), h->lo()};
}

fb::Hash128 ToFb(const Hash128& h) { return fb::Hash128(h.hi, h.lo); }

void BuildPropertyEvent(FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                        const PropertyEventSpec& spec) {
  b->Clear();
  auto ext = Str(b, spec.external_id);
  Offset<flatbuffers::String> data;
  if (!spec.data.empty()) data = Str(b, spec.data);
  Offset<flatbuffers::Vector<Offset<flatbuffers::String>>> changed;
  if (spec.changed_fields != nullptr) changed = b->CreateVectorOfStrings(*spec.changed_fields);
  fb::PropertyChangedBuilder pb(*b);
  pb.add_change(spec.change);
  pb.add_stream_kind(static_cast<fb::StreamKind>(spec.stream.kind));
  pb.add_stream_id(spec.stream.id);
  pb.add_external_id(ext);
  pb.add_version(spec.version);
  pb.add_dense_id(spec.dense_id);
  if (!spec.hash.IsZero()) {
    fb::Hash128 h = ToFb(spec.hash);
    pb.add_hash(&h);
  }
  if (!data.IsNull()) pb.add_data(data);
  pb.add_data_ref(spec.data_ref);
  pb.add_cause(static_cast<fb::CauseKind>(spec.cause));
  pb.add_cause_id(spec.cause_id);
  pb.add_source_id(spec.source_id);
  if (!changed.IsNull()) pb.add_changed_fields(changed);
  pb.add_raw_hash(spec.raw_hash);
  if (!spec.sync_hash.IsZero()) {
    fb::Hash128 h = ToFb(spec.sync_hash);
    pb.add_sync_hash(&h);
  }
  pb.add_prev_data_seq(spec.prev_data_seq);
  Finish(b, seq, time_us, fb::EventBody::PropertyChanged, pb.Finish());
}

void BuildTenantCreated(FlatBufferBuilder* b, uint64_t seq, int64_t time_us, TenantId tenant,
                        std::string_view name) {
  b->Clear();
  auto n = Str(b, name);
  Finish(b, seq, time_us, fb::EventBody::TenantCreated, fb::CreateTenantCreated(*b, tenant, n));
}

void BuildApiKeyCreated(FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                        std::string_view key_hash, std::string_view prefix) {
  b->Clear();
  auto h = b->CreateVector(reinterpret_cast<const uint8_t*>(key_hash.data()), key_hash.size());
  auto p = Str(b, prefix);
  Finish(b, seq, time_us, fb::EventBody::ApiKeyCreated, fb::CreateApiKeyCreated(*b, h, p));
}

void BuildFeedTokenCreated(FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                           std::string_view token_hash, uint32_t source_id, uint32_t target_id,
                           int64_t expires_at_us) {
  b->Clear();
  auto h = b->CreateVector(reinterpret_cast<const uint8_t*>(token_hash.data()), token_hash.size());
  Finish(b, seq, time_us, fb::EventBody::FeedTokenCreated,
         fb::CreateFeedTokenCreated(*b, h, source_id, target_id, expires_at_us));
}

void BuildApiKeyRevoked(FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                        std::string_view key_hash, std::string_view prefix) {
  b->Clear();
  auto p = Str(b, prefix);
  auto h = b->CreateVector(reinterpret_cast<const uint8_t*>(key_hash.data()), key_hash.size());
  Finish(b, seq, time_us, fb::EventBody::ApiKeyRevoked, fb::CreateApiKeyRevoked(*b, p, h));
}

void BuildSourceCreated(FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                        const SourceInfo& s) {
  b->Clear();
  auto name = Str(b, s.name);
  auto type = Str(b, s.type);
  auto id_field = Str(b, s.id_field);
  auto ignore = b->CreateVectorOfStrings(s.ignore_fields);
  Finish(b, seq, time_us, fb::EventBody::SourceCreated,
         fb::CreateSourceCreated(*b, s.id, name, type, id_field, ignore, s.max_removal_ratio));
}

void BuildTargetCreated(FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                        const TargetInfo& t) {
  b->Clear();
  auto name = Str(b, t.name);
  auto type = Str(b, t.type);
  auto config = Str(b, t.config_json);
  Finish(b, seq, time_us, fb::EventBody::TargetCreated,
         fb::CreateTargetCreated(*b, t.id, name, type, config));
}

void BuildImportCompleted(FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                          const ImportCompletedSpec& spec) {
  b->Clear();
  auto mode = Str(b, spec.mode == ImportMode::kFull ? "full" : "upsert");
  const ImportStats& s = spec.stats;
  auto stats = fb::CreateImportStats(*b, s.received, s.created, s.updated, s.unchanged, s.removed);
  Finish(b, seq, time_us, fb::EventBody::ImportCompleted,
         fb::CreateImportCompleted(*b, spec.import_id, spec.source_id, mode, spec.started_at_us,
                                   stats, spec.first_seq));
}

void BuildSyncCompleted(FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                        const SyncCompletedSpec& spec) {
  b->Clear();
  auto on_conflict = Str(b, spec.on_conflict == OnConflict::kOverwrite ? "overwrite" : "keep");
  const SyncStats& s = spec.stats;
  auto stats = fb::CreateSyncStats(*b, s.created, s.updated, s.unchanged, s.removed, s.conflicts);
  std::vector<Offset<fb::SyncWarning>> warnings;
  if (spec.warnings != nullptr) {
    warnings.reserve(spec.warnings->size());
    for (const SyncWarning& w : *spec.warnings) {
      auto e = Str(b, w.external_id);
      auto t = Str(b, w.type);
      auto m = Str(b, w.message);
      warnings.push_back(fb::CreateSyncWarning(*b, e, t, m));
    }
  }
  auto wv = b->CreateVector(warnings);
  Offset<flatbuffers::Vector<uint32_t>> retained;
  if (spec.retained_target_ids != nullptr && !spec.retained_target_ids->empty()) {
    retained = b->CreateVector(*spec.retained_target_ids);
  }
  Finish(b, seq, time_us, fb::EventBody::SyncCompleted,
         fb::CreateSyncCompleted(*b, spec.sync_id, spec.source_id, spec.target_id, on_conflict,
                                 spec.started_at_us, stats, wv, spec.first_seq, retained));
}

StatusOr<const fb::Event*> ReadEvent(std::string_view bytes) {
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!fb::VerifyEventBuffer(v)) return Status::Corruption("log record fails verification");
  const fb::Event* ev = fb::GetEvent(bytes.data());
  if (ev->format_version() > kEventFormatVersion) {
    return Status::Corruption(
        fmt::format("log record has format version {}, this build reads up to {}",
                    ev->format_version(), kEventFormatVersion));
  }
  return ev;
}

// A new union member (a new kind of event) must get its EventType here, its
// feed name and data shape (wire/feed_json.cc, docs/feed.md) and, if it
// belongs to a stream, its place in Engine::ReadLog: the unfiltered feed
// shows every event of the log.
static_assert(fb::EventBody::MAX == fb::EventBody::FeedTokenCreated,
              "a new event kind needs its EventType (TypeOf) and its feed shape");

EventType TypeOf(const fb::Event& ev) {
  switch (ev.body_type()) {
    case fb::EventBody::PropertyChanged:
      switch (ev.body_as_PropertyChanged()->change()) {
        case fb::PropertyChange::Created: return EventType::kPropertyCreated;
        case fb::PropertyChange::Updated: return EventType::kPropertyUpdated;
        case fb::PropertyChange::Removed: return EventType::kPropertyRemoved;
        case fb::PropertyChange::ManualEdit: return EventType::kPropertyManualEdit;
      }
      return EventType::kUnknown;
    case fb::EventBody::ImportCompleted: return EventType::kImportCompleted;
    case fb::EventBody::SyncCompleted: return EventType::kSyncCompleted;
    case fb::EventBody::TenantCreated: return EventType::kTenantCreated;
    case fb::EventBody::ApiKeyCreated: return EventType::kApiKeyCreated;
    case fb::EventBody::ApiKeyRevoked: return EventType::kApiKeyRevoked;
    case fb::EventBody::SourceCreated: return EventType::kSourceCreated;
    case fb::EventBody::TargetCreated: return EventType::kTargetCreated;
    case fb::EventBody::FeedTokenCreated: return EventType::kFeedTokenCreated;
    case fb::EventBody::NONE: return EventType::kUnknown;
  }
  return EventType::kUnknown;  // a member appended by a newer build
}

ImportLogEntry ToImportLogEntry(const fb::Event& ev) {
  ImportLogEntry e;
  const fb::ImportCompleted* ic = ev.body_as_ImportCompleted();
  if (ic == nullptr) return e;
  e.id = ic->import_id();
  e.source_id = ic->source_id();
  e.mode = std::string(Sv(ic->mode()));
  e.started_at_us = ic->started_at_us();
  e.finished_at_us = ev.time_us();
  e.status = "success";
  e.seq = ev.seq();
  if (const fb::ImportStats* s = ic->stats()) {
    e.stats = ImportStats{s->received(), s->created(), s->updated(), s->unchanged(), s->removed()};
  }
  return e;
}

SyncLogEntry ToSyncLogEntry(const fb::Event& ev) {
  SyncLogEntry e;
  const fb::SyncCompleted* sc = ev.body_as_SyncCompleted();
  if (sc == nullptr) return e;
  e.id = sc->sync_id();
  e.source_id = sc->source_id();
  e.target_id = sc->target_id();
  e.started_at_us = sc->started_at_us();
  e.finished_at_us = ev.time_us();
  e.status = "success";
  e.on_conflict = std::string(Sv(sc->on_conflict()));
  e.seq = ev.seq();
  if (const fb::SyncStats* s = sc->stats()) {
    e.stats = SyncStats{s->created(), s->updated(), s->unchanged(), s->removed(), s->conflicts()};
  }
  if (sc->warnings() != nullptr) {
    for (const fb::SyncWarning* w : *sc->warnings()) {
      e.warnings.push_back(SyncWarning{std::string(Sv(w->external_id())),
                                       std::string(Sv(w->type())), std::string(Sv(w->message()))});
    }
  }
  return e;
}

}  // namespace syncmgr
