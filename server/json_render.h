// The JSON shapes of the API (SPEC §4, docs/api.md), one function per engine
// value type. Every answer that contains one of these objects is rendered
// here, so a shape is defined once.
//
// Thread-safety: pure functions.
#pragma once

#include "engine/types.h"
#include "server/json_writer.h"

namespace syncmgr::server {

// {"id", "name"}
void WriteTenant(JsonWriter& w, const TenantInfo& tenant);
// {"id", "name", "type", "config": {"id_field", "ignore_fields",
//  "max_removal_ratio"}, "created_at"}; id_field null = the default
// ("external_id", falling back to "id").
void WriteSource(JsonWriter& w, const SourceInfo& source);
// {"id", "name", "type", "config": {...}, "created_at"}
void WriteTarget(JsonWriter& w, const TargetInfo& target);
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

}  // namespace syncmgr::server
