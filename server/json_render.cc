#include "server/json_render.h"

#include "delivery/policy.h"
#include "delivery/sink.h"

namespace syncmgr::server {
namespace {

void WriteImportStats(JsonWriter& w, const ImportStats& s) {
  w.BeginObject();
  w.Key("received").Uint(s.received);
  w.Key("created").Uint(s.created);
  w.Key("updated").Uint(s.updated);
  w.Key("unchanged").Uint(s.unchanged);
  w.Key("removed").Uint(s.removed);
  w.EndObject();
}

void WriteSyncStats(JsonWriter& w, const SyncStats& s) {
  w.BeginObject();
  w.Key("created").Uint(s.created);
  w.Key("updated").Uint(s.updated);
  w.Key("unchanged").Uint(s.unchanged);
  w.Key("removed").Uint(s.removed);
  w.Key("conflicts").Uint(s.conflicts);
  w.EndObject();
}

void WriteWarnings(JsonWriter& w, const std::vector<SyncWarning>& warnings) {
  w.BeginArray();
  for (const SyncWarning& warning : warnings) {
    w.BeginObject();
    w.Key("external_id").String(warning.external_id);
    w.Key("type").String(warning.type);
    w.Key("message").String(warning.message);
    w.EndObject();
  }
  w.EndArray();
}

std::string_view CauseName(CauseKind kind) {
  switch (kind) {
    case CauseKind::kImport:
      return "import";
    case CauseKind::kSync:
      return "sync";
    case CauseKind::kManual:
      return "manual";
    case CauseKind::kNone:
      break;
  }
  return "none";
}

}  // namespace

void WriteTenant(JsonWriter& w, const TenantInfo& tenant) {
  w.BeginObject();
  w.Key("id").Uint(tenant.id);
  w.Key("name").String(tenant.name);
  w.EndObject();
}

void WriteSource(JsonWriter& w, const SourceInfo& source) {
  w.BeginObject();
  w.Key("id").Uint(source.id);
  w.Key("name").String(source.name);
  w.Key("type").String(source.type);
  w.Key("config").BeginObject();
  w.Key("id_field");
  if (source.id_field.empty()) {
    w.Null();
  } else {
    w.String(source.id_field);
  }
  w.Key("ignore_fields").BeginArray();
  for (const std::string& f : source.ignore_fields) w.String(f);
  w.EndArray();
  w.Key("max_removal_ratio").Double(source.max_removal_ratio);
  w.EndObject();
  w.Key("created_at").Time(source.created_at_us);
  w.EndObject();
}

void WriteTarget(JsonWriter& w, const TargetInfo& target) {
  w.BeginObject();
  w.Key("id").Uint(target.id);
  w.Key("name").String(target.name);
  w.Key("type").String(target.type);
  // Stored as canonical JSON by the engine: copied verbatim, except that a
  // push target's secrets are shown as "***" (SPEC §4 "Push delivery").
  if (delivery::IsPushType(target.type)) {
    w.Key("config").Raw(delivery::RedactConfig(target.type, target.config_json));
  } else {
    w.Key("config").Raw(target.config_json.empty() ? std::string_view("{}") : target.config_json);
  }
  w.Key("created_at").Time(target.created_at_us);
  w.EndObject();
}

void WriteProperty(JsonWriter& w, const PropertyRecord& record, StreamKind kind) {
  const bool removed = record.data.empty();
  w.BeginObject();
  w.Key("external_id").String(record.external_id);
  w.Key("data");
  if (removed) {
    w.Null();
  } else {
    w.Raw(record.data);  // canonical JSON: copied verbatim
  }
  w.Key("hash");
  if (record.hash.empty()) {
    w.Null();
  } else {
    w.String(record.hash);
  }
  w.Key("version").Uint(record.version);
  w.Key("updated_at").Time(record.updated_at_us);
  w.Key("seq").Uint(record.seq);
  if (kind == StreamKind::kTarget) {
    w.Key("source_id");
    if (record.source_id == 0) {
      w.Null();
    } else {
      w.Uint(record.source_id);
    }
    w.Key("manually_modified").Bool(record.manually_modified);
  }
  if (removed) w.Key("removed").Bool(true);
  w.EndObject();
}

void WriteHistoryEntry(JsonWriter& w, const HistoryEntry& e) {
  w.BeginObject();
  w.Key("version").Uint(e.version);
  w.Key("seq").Uint(e.seq);
  w.Key("time").Time(e.time_us);
  w.Key("hash");
  if (e.hash.empty()) {
    w.Null();
  } else {
    w.String(e.hash);
  }
  w.Key("data");
  if (e.data) {
    w.Raw(*e.data);
  } else {
    w.Null();
  }
  w.Key("removed").Bool(e.removed);
  w.Key("changed_fields");
  if (e.changed_fields) {
    w.BeginArray();
    for (const std::string& f : *e.changed_fields) w.String(f);
    w.EndArray();
  } else {
    w.Null();
  }
  w.Key("cause").BeginObject();
  w.Key("kind").String(CauseName(e.cause));
  if (e.cause == CauseKind::kImport || e.cause == CauseKind::kSync) w.Key("id").Uint(e.cause_id);
  w.EndObject();
  w.EndObject();
}

void WriteImportLog(JsonWriter& w, const ImportLogEntry& e) {
  w.BeginObject();
  w.Key("id").Uint(e.id);
  w.Key("source_id").Uint(e.source_id);
  w.Key("mode").String(e.mode);
  w.Key("started_at").Time(e.started_at_us);
  w.Key("finished_at").Time(e.finished_at_us);
  w.Key("status").String(e.status);
  w.Key("stats");
  WriteImportStats(w, e.stats);
  w.Key("seq").Uint(e.seq);
  w.EndObject();
}

void WriteImportResult(JsonWriter& w, const ImportResult& r) {
  w.BeginObject();
  w.Key("status").String("success");
  w.Key("import_id").Uint(r.import_id);
  w.Key("seq").Uint(r.seq);
  w.Key("stats");
  WriteImportStats(w, r.stats);
  w.EndObject();
}

void WriteSyncLog(JsonWriter& w, const SyncLogEntry& e) {
  w.BeginObject();
  w.Key("id").Uint(e.id);
  w.Key("source_id").Uint(e.source_id);
  w.Key("target_id").Uint(e.target_id);
  w.Key("started_at").Time(e.started_at_us);
  w.Key("finished_at").Time(e.finished_at_us);
  w.Key("status").String(e.status);
  w.Key("on_conflict").String(e.on_conflict);
  w.Key("stats");
  WriteSyncStats(w, e.stats);
  w.Key("warnings");
  WriteWarnings(w, e.warnings);
  w.Key("seq").Uint(e.seq);
  w.EndObject();
}

void WriteSyncResult(JsonWriter& w, const SyncResult& r, bool dry_run) {
  w.BeginObject();
  w.Key("status").String("success");
  w.Key("sync_id");
  if (dry_run) {
    w.Null();
  } else {
    w.Uint(r.sync_id);
  }
  w.Key("dry_run").Bool(dry_run);
  w.Key("seq").Uint(r.seq);
  w.Key("stats");
  WriteSyncStats(w, r.stats);
  w.Key("warnings");
  WriteWarnings(w, r.warnings);
  w.EndObject();
}

}  // namespace syncmgr::server
