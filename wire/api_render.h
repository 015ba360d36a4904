// The JSON shapes of the API (SPEC §4, docs/api.md), one function per shape,
// rendered here once: the server's answers, the command line's --json
// output on a data directory (the bytes a server would answer) and the
// request bodies the command line sends in remote mode. wire/api_parse.h
// reads the answers back.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/types.h"
#include "wire/api_types.h"
#include "wire/json_writer.h"

namespace syncmgr::wire {

// ---- Answers -------------------------------------------------------------------

// {"id", "name"}
void WriteTenant(JsonWriter& w, const TenantInfo& tenant);
// {"id", "name", "api_key"}: the one answer that shows the tenant's key.
void WriteTenantCreated(JsonWriter& w, const TenantCreatedInfo& created);
// {"prefix", "tenant_id", "revoked", "created_at" | "revoked_at"}: never the
// key itself.
void WriteApiKey(JsonWriter& w, const ApiKeyInfo& key);
// {"api_key", then WriteApiKey's members}: the one answer that shows it.
void WriteApiKeyIssued(JsonWriter& w, const ApiKeyIssued& issued);
// {"id", "name", "type", "config": {"id_field", "ignore_fields",
//  "max_removal_ratio"}, "created_at", "live_count"}; id_field null = the
// default ("external_id", falling back to "id"); live_count only when set
// (every answer of this server sets it; a client's parse may lack it).
void WriteSource(JsonWriter& w, const SourceInfo& source);
// {"id", "name", "type", "config", "created_at", "live_count",
// "manual_count"}: the config redacted (wire/redact.h), with
// "config_unreadable": true after it when the stored config is not a JSON
// object (then "config" is {}); the counts only when set, as on sources.
void WriteTarget(JsonWriter& w, const TargetInfo& target);
// {"source_id", "target_id", "expires_at"}: what a feed token may read (a
// stream it does not name is null) and until when; never the token.
void WriteFeedTokenScope(JsonWriter& w, const FeedTokenInfo& token);
// {"token", "expires_at", "source_id", "target_id"}: the one answer that
// shows the token (POST /feed_tokens).
void WriteFeedTokenIssued(JsonWriter& w, const FeedTokenIssued& issued);
// {"external_id", "data", "hash", "version", "updated_at", "seq"}; targets
// add "source_id" (null: created by a manual edit) and "manually_modified".
// A removal (empty data) has "data": null, "hash": null, "removed": true.
void WriteProperty(JsonWriter& w, const PropertyRecord& record, StreamKind kind);
// {"version", "seq", "time", "hash", "data", "removed", "changed_fields",
//  "cause": {"kind", "id"?}}
void WriteHistoryEntry(JsonWriter& w, const HistoryEntry& entry);
// {"id", "source_id", "mode", "started_at", "finished_at", "status",
//  "stats", "seq"}
void WriteImportLog(JsonWriter& w, const ImportLogEntry& entry);
// {"status": "success", "import_id", "seq", "stats"}
void WriteImportResult(JsonWriter& w, const ImportResult& result);
// {"id", "source_id", "target_id", "started_at", "finished_at", "status",
//  "on_conflict", "stats", "warnings", "seq"}
void WriteSyncLog(JsonWriter& w, const SyncLogEntry& entry);
// {"status": "success", "sync_id" (null for a dry run), "dry_run", "seq",
//  "stats", "warnings"}
void WriteSyncResult(JsonWriter& w, const SyncResult& result, bool dry_run);
// {"status": "success", "out", "files", "bytes", "linked_files"}
void WriteBackupInfo(JsonWriter& w, const BackupInfo& info);
// {"state", "delivered_seq", "pending_events", "last_error",
//  "last_attempt_at", "next_attempt_at", "dead_letters"}; a time or error
// that is not there is null.
void WriteDeliveryStatus(JsonWriter& w, const DeliveryStatus& status);
// {"id", "first_seq", "last_seq", "attempts", "last_error", "failed_at"}
void WriteDeadLetter(JsonWriter& w, const DeadLetter& dead);
// {"error": {"code", "message"}}: every error answer (server/errors.h has
// the table of codes).
void WriteError(JsonWriter& w, std::string_view code, std::string_view message);

// ---- Request bodies (the command line's remote mode) ---------------------------

// POST /tenants: {"name"}
void WriteCreateTenant(JsonWriter& w, std::string_view name);
// POST /sources: {"name", "type", "config": {"id_field"?, "ignore_fields",
// "max_removal_ratio"}}; id_field is left out for the default.
void WriteCreateSource(JsonWriter& w, const SourceSpec& spec);
// POST /targets: {"name", "type", "config"}. REQUIRES: spec.config_json is
// empty or a JSON object (wire/api_parse.h CheckJsonObject).
void WriteCreateTarget(JsonWriter& w, const TargetSpec& spec);
// POST /admin/backup: {"out"}
void WriteBackupRequest(JsonWriter& w, std::string_view out);

// ---- Whole documents -------------------------------------------------------------

// `value` as one JSON text, rendered by `write(w, value)`.
template <typename T, typename WriteFn>
std::string ToJson(const T& value, WriteFn write) {
  std::string out;
  JsonWriter w(&out);
  write(w, value);
  return out;
}

// A JSON array of `values`, each rendered by `write(w, value)`.
template <typename T, typename WriteFn>
std::string ToJsonArray(const std::vector<T>& values, WriteFn write) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  for (const T& value : values) write(w, value);
  w.EndArray();
  return out;
}

}  // namespace syncmgr::wire
