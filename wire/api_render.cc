#include "wire/api_render.h"

#include <array>
#include <utility>

#include "wire/redact.h"

// Members that belong together are chained on one line (a name and its id,
// a time range, a pair of counts); a shape reads top to bottom in the order
// it is answered.
namespace syncmgr::wire {
namespace {

// The counts both an import and a sync report, in the order both show them.
void WriteChangeCounts(JsonWriter& w, uint64_t created, uint64_t updated, uint64_t unchanged,
                       uint64_t removed) {
  w.Key("created").Uint(created).Key("updated").Uint(updated);
  w.Key("unchanged").Uint(unchanged).Key("removed").Uint(removed);
}

void WriteImportStats(JsonWriter& w, const ImportStats& s) {
  w.BeginObject().Key("received").Uint(s.received);
  WriteChangeCounts(w, s.created, s.updated, s.unchanged, s.removed);
  w.EndObject();
}

void WriteSyncStats(JsonWriter& w, const SyncStats& s) {
  w.BeginObject();
  WriteChangeCounts(w, s.created, s.updated, s.unchanged, s.removed);
  w.Key("conflicts").Uint(s.conflicts).EndObject();
}

void WriteWarnings(JsonWriter& w, const std::vector<SyncWarning>& warnings) {
  w.BeginArray();
  for (const SyncWarning& warning : warnings) {
    w.BeginObject().Key("external_id").String(warning.external_id);
    w.Key("type").String(warning.type).Key("message").String(warning.message).EndObject();
  }
  w.EndArray();
}

// {"id", "name", then "type" when there is one}: how the catalog's tenants,
// sources and targets begin.
void BeginCatalogEntry(JsonWriter& w, uint64_t id, std::string_view name,
                       const std::string* type = nullptr) {
  w.BeginObject().Key("id").Uint(id).Key("name").String(name);
  if (type != nullptr) w.Key("type").String(*type);
}

// A source's "config" object. In an answer the default id_field is null; a
// request leaves it out.
void WriteSourceConfig(JsonWriter& w, const std::string& id_field,
                       const std::vector<std::string>& ignore_fields, double max_removal_ratio,
                       bool answer) {
  w.BeginObject();
  if (!id_field.empty()) {
    w.Key("id_field").String(id_field);
  } else if (answer) {
    w.Key("id_field").Null();
  }
  w.Key("ignore_fields").StringArray(ignore_fields);
  w.Key("max_removal_ratio").Double(max_removal_ratio).EndObject();
}

void WriteApiKeyMembers(JsonWriter& w, const ApiKeyInfo& key) {
  w.Key("prefix").String(key.prefix).Key("tenant_id").Uint(key.tenant);
  w.Key("revoked").Bool(key.revoked).Key(key.revoked ? "revoked_at" : "created_at");
  w.Time(key.time_us);
}

// A stream id that may be absent (0): null then.
void IdOrNull(JsonWriter& w, uint32_t id) {
  if (id == 0) {
    w.Null();
  } else {
    w.Uint(id);
  }
}

std::string_view CauseName(CauseKind kind) {
  static constexpr std::array<std::pair<CauseKind, std::string_view>, 3> kNames{
      {{CauseKind::kImport, "import"}, {CauseKind::kSync, "sync"}, {CauseKind::kManual, "manual"}}};
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "none";
}

}  // namespace

void WriteTenant(JsonWriter& w, const TenantInfo& tenant) {
  BeginCatalogEntry(w, tenant.id, tenant.name);
  w.EndObject();
}

void WriteTenantCreated(JsonWriter& w, const TenantCreatedInfo& created) {
  BeginCatalogEntry(w, created.tenant.id, created.tenant.name);
  w.Key("api_key").String(created.api_key).EndObject();
}

void WriteApiKey(JsonWriter& w, const ApiKeyInfo& key) {
  w.BeginObject();
  WriteApiKeyMembers(w, key);
  w.EndObject();
}

void WriteApiKeyIssued(JsonWriter& w, const ApiKeyIssued& issued) {
  w.BeginObject().Key("api_key").String(issued.api_key);
  WriteApiKeyMembers(w, issued.info);
  w.EndObject();
}

void WriteSource(JsonWriter& w, const SourceInfo& source) {
  BeginCatalogEntry(w, source.id, source.name, &source.type);
  w.Key("config");
  WriteSourceConfig(w, source.id_field, source.ignore_fields, source.max_removal_ratio,
                    /*answer=*/true);
  w.Key("created_at").Time(source.created_at_us);
  if (source.live_count) w.Key("live_count").Uint(*source.live_count);
  w.EndObject();
}

void WriteTarget(JsonWriter& w, const TargetInfo& target) {
  BeginCatalogEntry(w, target.id, target.name, &target.type);
  const RedactedConfig config = RedactConfig(target.config_json);
  w.Key("config").Raw(config.json);
  if (config.unreadable) w.Key("config_unreadable").Bool(true);
  w.Key("created_at").Time(target.created_at_us);
  if (target.live_count) w.Key("live_count").Uint(*target.live_count);
  if (target.manual_count) w.Key("manual_count").Uint(*target.manual_count);
  w.EndObject();
}

void WriteFeedTokenScope(JsonWriter& w, const FeedTokenInfo& token) {
  w.BeginObject().Key("source_id");
  IdOrNull(w, token.source_id);
  w.Key("target_id");
  IdOrNull(w, token.target_id);
  w.Key("expires_at").Time(token.expires_at_us).EndObject();
}

void WriteFeedTokenIssued(JsonWriter& w, const FeedTokenIssued& issued) {
  w.BeginObject().Key("token").String(issued.token);
  w.Key("expires_at").Time(issued.info.expires_at_us).Key("source_id");
  IdOrNull(w, issued.info.source_id);
  w.Key("target_id");
  IdOrNull(w, issued.info.target_id);
  w.EndObject();
}

void WriteProperty(JsonWriter& w, const PropertyRecord& record, StreamKind kind) {
  const bool removed = record.data.empty();
  w.BeginObject().Key("external_id").String(record.external_id).Key("data");
  if (removed) {
    w.Null();
  } else {
    w.Raw(record.data);  // canonical JSON: copied verbatim
  }
  w.Key("hash").StringOrNull(record.hash).Key("version").Uint(record.version);
  w.Key("updated_at").Time(record.updated_at_us).Key("seq").Uint(record.seq);
  if (kind == StreamKind::kTarget) {
    w.Key("source_id");
    if (record.source_id == 0) {
      w.Null();  // created by a manual edit
    } else {
      w.Uint(record.source_id);
    }
    w.Key("manually_modified").Bool(record.manually_modified);
  }
  if (removed) w.Key("removed").Bool(true);
  w.EndObject();
}

void WriteHistoryEntry(JsonWriter& w, const HistoryEntry& e) {
  w.BeginObject().Key("version").Uint(e.version);
  w.Key("seq").Uint(e.seq).Key("time").Time(e.time_us);
  w.Key("hash").StringOrNull(e.hash).Key("data").RawOrNull(e.data);
  w.Key("removed").Bool(e.removed).Key("changed_fields").StringArrayOrNull(e.changed_fields);
  w.Key("cause").BeginObject().Key("kind").String(CauseName(e.cause));
  if (e.cause == CauseKind::kImport || e.cause == CauseKind::kSync) w.Key("id").Uint(e.cause_id);
  w.EndObject().EndObject();
}

void WriteImportLog(JsonWriter& w, const ImportLogEntry& e) {
  w.BeginObject().Key("id").Uint(e.id);
  w.Key("source_id").Uint(e.source_id).Key("mode").String(e.mode);
  w.Key("started_at").Time(e.started_at_us).Key("finished_at").Time(e.finished_at_us);
  w.Key("status").String(e.status).Key("stats");
  WriteImportStats(w, e.stats);
  w.Key("seq").Uint(e.seq).EndObject();
}

void WriteImportResult(JsonWriter& w, const ImportResult& r) {
  w.BeginObject().Key("status").String("success");
  w.Key("import_id").Uint(r.import_id).Key("seq").Uint(r.seq).Key("stats");
  WriteImportStats(w, r.stats);
  w.EndObject();
}

void WriteSyncLog(JsonWriter& w, const SyncLogEntry& e) {
  w.BeginObject().Key("id").Uint(e.id);
  w.Key("source_id").Uint(e.source_id).Key("target_id").Uint(e.target_id);
  w.Key("started_at").Time(e.started_at_us).Key("finished_at").Time(e.finished_at_us);
  w.Key("status").String(e.status).Key("on_conflict").String(e.on_conflict).Key("stats");
  WriteSyncStats(w, e.stats);
  w.Key("warnings");
  WriteWarnings(w, e.warnings);
  w.Key("seq").Uint(e.seq).EndObject();
}

void WriteSyncResult(JsonWriter& w, const SyncResult& r, bool dry_run) {
  w.BeginObject().Key("status").String("success").Key("sync_id");
  if (dry_run) {
    w.Null();  // nothing was written, so there is no sync log entry
  } else {
    w.Uint(r.sync_id);
  }
  w.Key("dry_run").Bool(dry_run).Key("seq").Uint(r.seq).Key("stats");
  WriteSyncStats(w, r.stats);
  w.Key("warnings");
  WriteWarnings(w, r.warnings);
  w.EndObject();
}

void WriteBackupInfo(JsonWriter& w, const BackupInfo& info) {
  w.BeginObject().Key("status").String("success").Key("out").String(info.path);
  w.Key("files").Uint(info.files).Key("bytes").Uint(info.bytes);
  w.Key("linked_files").Uint(info.linked_files).EndObject();
}

void WriteDeliveryStatus(JsonWriter& w, const DeliveryStatus& s) {
  w.BeginObject().Key("state").String(s.state);
  w.Key("delivered_seq").Uint(s.delivered_seq).Key("pending_events").Uint(s.pending_events);
  w.Key("last_error").StringOrNull(s.last_error);
  w.Key("last_attempt_at").TimeOrNull(s.last_attempt_at_us);
  w.Key("next_attempt_at").TimeOrNull(s.next_attempt_at_us);
  w.Key("dead_letters").Uint(s.dead_letters).EndObject();
}

void WriteDeadLetter(JsonWriter& w, const DeadLetter& d) {
  w.BeginObject().Key("id").Uint(d.id);
  w.Key("first_seq").Uint(d.first_seq).Key("last_seq").Uint(d.last_seq);
  w.Key("attempts").Uint(d.attempts).Key("last_error").String(d.last_error);
  w.Key("failed_at").Time(d.failed_at_us).EndObject();
}

void WriteError(JsonWriter& w, std::string_view code, std::string_view message) {
  w.BeginObject().Key("error").BeginObject();
  w.Key("code").String(code).Key("message").String(message);
  w.EndObject().EndObject();
}

void WriteCreateTenant(JsonWriter& w, std::string_view name) {
  w.BeginObject().Key("name").String(name).EndObject();
}

void WriteCreateSource(JsonWriter& w, const SourceSpec& spec) {
  w.BeginObject().Key("name").String(spec.name).Key("type").String(spec.type).Key("config");
  WriteSourceConfig(w, spec.id_field, spec.ignore_fields, spec.max_removal_ratio,
                    /*answer=*/false);
  w.EndObject();
}

void WriteCreateTarget(JsonWriter& w, const TargetSpec& spec) {
  w.BeginObject().Key("name").String(spec.name).Key("type").String(spec.type);
  w.Key("config").Raw(spec.config_json.empty() ? std::string_view("{}")
                                               : std::string_view(spec.config_json));
  w.EndObject();
}

void WriteBackupRequest(JsonWriter& w, std::string_view out) {
  w.BeginObject().Key("out").String(out).EndObject();
}

}  // namespace syncmgr::wire
