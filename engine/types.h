// Plain value types of the engine's public API: what callers pass in and get
// back. No RocksDB, FlatBuffers or JSON library types appear here.
//
// Times are microseconds since the Unix epoch (UTC). Hashes are lower-case
// hex strings of 32 characters (128 bits).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace syncmgr {

using TenantId = uint32_t;

enum class StreamKind : uint8_t { kSource = 1, kTarget = 2 };

struct StreamRef {
  StreamKind kind = StreamKind::kSource;
  uint32_t id = 0;
};

struct TenantInfo {
  TenantId id = 0;
  std::string name;
  int64_t created_at_us = 0;
};

struct TenantCreatedInfo {
  TenantInfo tenant;
  std::string api_key;  // shown once; only its hash is stored
};

// An API key as the operator sees it: never the key itself nor its hash.
struct ApiKeyInfo {
  // "smk_" + 8 hex digits: the visible, non-secret start of the key that
  // identifies it (unique among all keys).
  std::string prefix;
  TenantId tenant = 0;
  bool revoked = false;
  // When it was created, or, once revoked, when it was revoked.
  int64_t time_us = 0;
};

// A key just issued: the key itself is returned this once only.
struct ApiKeyIssued {
  ApiKeyInfo info;
  std::string api_key;
};

// A read-only change-feed token (Engine::CreateFeedToken, SPEC §4 "Browsers").
struct FeedTokenSpec {
  uint32_t source_id = 0;  // the only source it may read; 0: none named
  uint32_t target_id = 0;  // the only target it may read; 0: none named
  // Lifetime, seconds, in [1, kMaxFeedTokenTtlS]. Default: 3600.
  uint32_t ttl_s = 3600;
};
inline constexpr uint32_t kMaxFeedTokenTtlS = 86400;

// What a feed token allows. Neither stream named: the tenant's whole feed.
struct FeedTokenInfo {
  TenantId tenant = 0;
  uint32_t source_id = 0;  // 0: none named
  uint32_t target_id = 0;  // 0: none named
  int64_t expires_at_us = 0;
};

// A feed token just issued: the token itself is returned this once only.
struct FeedTokenIssued {
  FeedTokenInfo info;
  std::string token;
};

struct SourceSpec {
  std::string name;
  std::string type = "scraper";
  // Empty: "external_id", falling back to "id".
  std::string id_field;
  std::vector<std::string> ignore_fields;
  // A full import may remove at most this share of live properties unless
  // allow_mass_removal is set. Range [0, 1]. Default: 0.2.
  double max_removal_ratio = 0.2;
};

struct SourceInfo {
  uint32_t id = 0;
  std::string name;
  std::string type;
  std::string id_field;  // empty: default
  std::vector<std::string> ignore_fields;
  double max_removal_ratio = 0.2;
  int64_t created_at_us = 0;
  // Live properties now (SPEC §4 "live_count"). Set by the reads of the
  // catalog (GetSource, ListSources); 0 from CreateSource and in a
  // source.created event (LogEvent::catalog: the source as it was created).
  std::optional<uint64_t> live_count;
};

struct TargetSpec {
  std::string name;
  std::string type = "internal";
  // JSON object text; empty means {}.
  std::string config_json;
};

struct TargetInfo {
  uint32_t id = 0;
  std::string name;
  std::string type;
  std::string config_json;  // canonical JSON
  int64_t created_at_us = 0;
  // Set as on sources (GetTarget, ListTargets, CreateTarget): live
  // properties now, and of them those whose last change was a manual edit
  // (SPEC §4 "manual_count": the open conflicts).
  std::optional<uint64_t> live_count;
  std::optional<uint64_t> manual_count;
};

enum class ImportMode { kUpsert, kFull };
enum class BodyFormat {
  kJson,    // a JSON array of objects, or {"data": [...], "mode"?: ...}
  kNdjson,  // one JSON object per line
};

struct ImportOptions {
  ImportMode mode = ImportMode::kUpsert;
  // True when the caller set the mode explicitly (a query parameter or flag);
  // then a "mode" member of a JSON body must agree with it.
  bool mode_explicit = false;
  BodyFormat format = BodyFormat::kJson;
  bool allow_mass_removal = false;
  // The body's size in bytes, if the caller knows it ahead (an HTTP
  // Content-Length, a file's size); 0 if not. A hint only: an import into a
  // source with no state yet reserves its view batch from it, instead of
  // growing the batch by doubling (each step a copy into fresh pages).
  uint64_t body_bytes_hint = 0;
};

struct ImportStats {
  uint64_t received = 0;
  uint64_t created = 0;
  uint64_t updated = 0;
  uint64_t unchanged = 0;
  uint64_t removed = 0;
};

struct ImportResult {
  uint64_t import_id = 0;
  uint64_t seq = 0;  // last seq of the import (its import.completed event)
  ImportStats stats;
};

enum class OnConflict { kKeep, kOverwrite };

struct SyncOptions {
  OnConflict on_conflict = OnConflict::kKeep;
  bool dry_run = false;
};

struct SyncStats {
  uint64_t created = 0;
  uint64_t updated = 0;
  uint64_t unchanged = 0;
  uint64_t removed = 0;
  uint64_t conflicts = 0;
};

struct SyncWarning {
  std::string external_id;
  std::string type;  // "manual_change"
  std::string message;
};

struct SyncResult {
  uint64_t sync_id = 0;  // 0 for a dry run
  uint64_t seq = 0;      // last seq of the sync (dry run: the tenant's last seq)
  SyncStats stats;
  std::vector<SyncWarning> warnings;
};

// One property as stored in a source or target.
struct PropertyRecord {
  std::string external_id;
  std::string data;  // canonical JSON object
  std::string hash;  // 32 hex characters
  uint32_t version = 0;
  int64_t updated_at_us = 0;
  uint64_t seq = 0;
  // Targets only.
  uint32_t source_id = 0;  // 0: manually created
  bool manually_modified = false;
  bool removed = false;  // only in the answer to a DELETE (data is then empty)
};

struct ReadOptions {
  // State as of this seq (inclusive). Unset: current state.
  std::optional<uint64_t> as_of_seq;
};

struct ListOptions {
  std::optional<uint64_t> as_of_seq;
  // Only properties whose latest change has seq > changed_since. Live
  // properties only: removals are read from the feed or history.
  std::optional<uint64_t> changed_since;
  // Keyset paging: only external_ids strictly greater than this.
  std::optional<std::string> after;
  // At most this many; 0 means no limit.
  uint64_t limit = 0;
  // Targets only: only properties whose last change was manual (SPEC §4
  // `manually_modified=true`). Now: read from the target's manual bitmap,
  // O(manual edits) per call; with as_of, or in a directory of format 1 or
  // 2 read without upgrading, a filter over the whole list.
  bool manually_modified = false;
};

enum class CauseKind : uint8_t { kNone = 0, kImport = 1, kSync = 2, kManual = 3 };

struct HistoryEntry {
  uint32_t version = 0;
  uint64_t seq = 0;
  int64_t time_us = 0;
  std::string hash;               // empty when removed
  std::optional<std::string> data;  // nullopt when removed
  bool removed = false;
  std::optional<std::vector<std::string>> changed_fields;
  CauseKind cause = CauseKind::kNone;
  uint64_t cause_id = 0;
};

struct ImportLogEntry {
  uint64_t id = 0;
  uint32_t source_id = 0;
  std::string mode;
  int64_t started_at_us = 0;
  int64_t finished_at_us = 0;
  std::string status;  // "success"
  ImportStats stats;
  uint64_t seq = 0;
};

struct SyncLogFilter {
  std::optional<uint32_t> source_id;
  std::optional<uint32_t> target_id;
  uint32_t limit = 100;
};

struct SyncLogEntry {
  uint64_t id = 0;
  uint32_t source_id = 0;
  uint32_t target_id = 0;
  int64_t started_at_us = 0;
  int64_t finished_at_us = 0;
  std::string status;  // "success"
  std::string on_conflict;
  SyncStats stats;
  std::vector<SyncWarning> warnings;
  uint64_t seq = 0;
};

// The kinds of log event (the feed's `type`; wire/feed_json.h has the names).
// The values are stored (as the stream index's tags: engine/fold.cc), so
// they are never renumbered; a new kind takes the next value.
enum class EventType : uint8_t {
  kPropertyCreated = 0,
  kPropertyUpdated = 1,
  kPropertyRemoved = 2,
  kPropertyManualEdit = 3,
  kImportCompleted = 4,
  kSyncCompleted = 5,
  kTenantCreated = 6,
  kApiKeyCreated = 7,
  kApiKeyRevoked = 8,
  kSourceCreated = 9,
  kTargetCreated = 10,
  kFeedTokenCreated = 11,
  // A record of a kind this build does not know (written by a newer one).
  kUnknown = 12,
};
inline constexpr int kNumEventTypes = 13;

// Changes: property events and the import / sync that made them (what push
// delivery sends); the other kinds record the catalog.
inline bool IsChange(EventType type) { return type <= EventType::kSyncCompleted; }

struct LogQuery {
  uint64_t after_seq = 0;
  std::optional<StreamRef> stream;  // only events of this stream
  uint32_t limit = 1000;
  // Stop after scanning this many records even if fewer matched.
  uint32_t scan_budget = 100000;
  // false: changes only (IsChange: push delivery); true: every event of the
  // log, catalog events included (the change feed). A catalog event belongs
  // to a stream only when it creates that stream (source / target created).
  bool every_kind = false;
};

// What a catalog event records (LogEvent::catalog), read from the event
// itself: never a key's or a token's secret or hash.
//   tenant.created: TenantInfo; api_key.created / api_key.revoked:
//   ApiKeyInfo; source.created: SourceInfo; target.created: TargetInfo;
//   feed_token.created: FeedTokenInfo. Every other kind: monostate.
// Their created_at / time members are the event's time.
using CatalogRecord =
    std::variant<std::monostate, TenantInfo, ApiKeyInfo, SourceInfo, TargetInfo, FeedTokenInfo>;

struct LogEvent {
  uint64_t seq = 0;
  int64_t time_us = 0;
  EventType type = EventType::kUnknown;
  // Property events: their stream; import.completed: its source;
  // sync.completed: its target; source.created / target.created: the stream
  // they create. None for tenant-wide events.
  std::optional<StreamRef> stream;
  std::string external_id;
  uint32_t version = 0;
  std::string hash;
  std::optional<std::string> data;
  std::optional<std::vector<std::string>> changed_fields;
  // import.completed / sync.completed: the summary as JSON.
  std::string summary_json;
  CatalogRecord catalog;
};

struct LogPage {
  std::vector<LogEvent> events;
  uint64_t last_seq = 0;  // last seq scanned (>= after_seq)
};

// What Engine::Backup wrote.
struct BackupInfo {
  std::string path;           // the copy's directory (absolute)
  uint64_t files = 0;         // files in the copy
  uint64_t bytes = 0;         // their total size
  uint64_t linked_files = 0;  // of them, hard links to the live directory's files
};

// Progress callback: (done, total); total 0 when unknown.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

struct ReplayOptions {
  // Fold each tenant's log up to and including this seq. Unset: everything.
  std::optional<uint64_t> as_of_seq;
  // Or up to and including the last event at or before this time.
  std::optional<int64_t> as_of_time_us;
  ProgressFn progress;
};

}  // namespace syncmgr
