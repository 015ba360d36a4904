// Building and reading log events (schema/events.fbs). Internal to engine/.
//
// An encoded event is one finished FlatBuffer with identifier "SMEV". Every
// builder here writes the envelope (format_version, seq, time) and one body.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/canonical_json.h"
#include "engine/status.h"
#include "engine/types.h"
#include "events_generated.h"

namespace syncmgr {

inline constexpr uint16_t kEventFormatVersion = 1;

struct PropertyEventSpec {
  fb::PropertyChange change = fb::PropertyChange::Created;
  StreamRef stream;
  std::string_view external_id;
  uint32_t version = 0;
  uint32_t dense_id = 0;
  Hash128 hash;                 // zero on a removal
  std::string_view data;        // empty: none (removal, or data_ref set)
  uint64_t data_ref = 0;
  CauseKind cause = CauseKind::kNone;
  uint64_t cause_id = 0;
  uint32_t source_id = 0;
  const std::vector<std::string>* changed_fields = nullptr;  // null: none
  uint64_t raw_hash = 0;
  Hash128 sync_hash;
  uint64_t prev_data_seq = 0;  // imported updates: the replaced version's data_seq
};

// Each Build* clears `b` and leaves the finished event in it.
void BuildPropertyEvent(flatbuffers::FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                        const PropertyEventSpec& spec);
void BuildTenantCreated(flatbuffers::FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                        TenantId tenant, std::string_view name);
void BuildApiKeyCreated(flatbuffers::FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                        std::string_view key_hash, std::string_view prefix);
void BuildApiKeyRevoked(flatbuffers::FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                        std::string_view key_hash, std::string_view prefix);
void BuildSourceCreated(flatbuffers::FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                        const SourceInfo& source);
// stream ids: 0 when the token names none.
void BuildFeedTokenCreated(flatbuffers::FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                           std::string_view token_hash, uint32_t source_id, uint32_t target_id,
                           int64_t expires_at_us);
void BuildTargetCreated(flatbuffers::FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                        const TargetInfo& target);
struct ImportCompletedSpec {
  uint64_t import_id = 0;
  uint32_t source_id = 0;
  ImportMode mode = ImportMode::kUpsert;
  int64_t started_at_us = 0;
  ImportStats stats;
  uint64_t first_seq = 0;
};
void BuildImportCompleted(flatbuffers::FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                          const ImportCompletedSpec& spec);
struct SyncCompletedSpec {
  uint64_t sync_id = 0;
  uint32_t source_id = 0;
  uint32_t target_id = 0;
  OnConflict on_conflict = OnConflict::kKeep;
  int64_t started_at_us = 0;
  SyncStats stats;
  const std::vector<SyncWarning>* warnings = nullptr;
  const std::vector<uint32_t>* retained_target_ids = nullptr;
  uint64_t first_seq = 0;
};
void BuildSyncCompleted(flatbuffers::FlatBufferBuilder* b, uint64_t seq, int64_t time_us,
                        const SyncCompletedSpec& spec);

// Verifies and returns the event in `bytes`; Corruption if it is not one.
StatusOr<const fb::Event*> ReadEvent(std::string_view bytes);

// Conversions between the schema's types and the API's.
Hash128 FromFb(const fb::Hash128* h);
fb::Hash128 ToFb(const Hash128& h);
// kUnknown for a body this build does not know.
EventType TypeOf(const fb::Event& ev);
ImportLogEntry ToImportLogEntry(const fb::Event& ev);
SyncLogEntry ToSyncLogEntry(const fb::Event& ev);
inline std::string_view Sv(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->data(), s->size());
}

}  // namespace syncmgr
