// Rendering half of api_json.h: engine values as the HTTP API shows them.
#include <ctime>

#include "tools/api_json.h"
#include "tools/json_writer.h"

namespace syncmgr::cli {

namespace {

void WriteTenant(const TenantInfo& t, JsonWriter* w) {
  w->BeginObject();
  w->Key("id");
  w->Uint(t.id);
  w->Key("name");
  w->String(t.name);
  w->EndObject();
}

void WriteSource(const SourceInfo& s, JsonWriter* w) {
  w->BeginObject();
  w->Key("id");
  w->Uint(s.id);
  w->Key("name");
  w->String(s.name);
  w->Key("type");
  w->String(s.type);
  w->Key("config");
  w->BeginObject();
  w->Key("id_field");
  if (s.id_field.empty()) {
    w->Null();  // the default: "external_id", falling back to "id"
  } else {
    w->String(s.id_field);
  }
  w->Key("ignore_fields");
  w->StringArray(s.ignore_fields);
  w->Key("max_removal_ratio");
  w->Double(s.max_removal_ratio);
  w->EndObject();
  w->Key("created_at");
  w->String(Rfc3339(s.created_at_us));
  w->EndObject();
}

void WriteTarget(const TargetInfo& t, JsonWriter* w) {
  w->BeginObject();
  w->Key("id");
  w->Uint(t.id);
  w->Key("name");
  w->String(t.name);
  w->Key("type");
  w->String(t.type);
  w->Key("config");
  w->Raw(t.config_json.empty() ? std::string("{}") : RedactTargetConfig(t.config_json));
  w->Key("created_at");
  w->String(Rfc3339(t.created_at_us));
  w->EndObject();
}

void WriteImportStats(const ImportStats& s, JsonWriter* w) {
  w->BeginObject();
  w->Key("received");
  w->Uint(s.received);
  w->Key("created");
  w->Uint(s.created);
  w->Key("updated");
  w->Uint(s.updated);
  w->Key("unchanged");
  w->Uint(s.unchanged);
  w->Key("removed");
  w->Uint(s.removed);
  w->EndObject();
}

void WriteSyncStats(const SyncStats& s, JsonWriter* w) {
  w->BeginObject();
  w->Key("created");
  w->Uint(s.created);
  w->Key("updated");
  w->Uint(s.updated);
  w->Key("unchanged");
  w->Uint(s.unchanged);
  w->Key("removed");
  w->Uint(s.removed);
  w->Key("conflicts");
  w->Uint(s.conflicts);
  w->EndObject();
}

}  // namespace

std::string Rfc3339(int64_t micros) {
  int64_t secs = micros / 1000000;
  int64_t frac = micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];  // room for any int year GCC cannot rule out
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

std::string TenantCreatedJson(const TenantCreatedInfo& info) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id");
  w.Uint(info.tenant.id);
  w.Key("name");
  w.String(info.tenant.name);
  w.Key("api_key");
  w.String(info.api_key);
  w.EndObject();
  return w.Take();
}

std::string TenantListJson(const std::vector<TenantInfo>& tenants) {
  JsonWriter w;
  w.BeginArray();
  for (const auto& t : tenants) WriteTenant(t, &w);
  w.EndArray();
  return w.Take();
}

std::string SourceJson(const SourceInfo& source) {
  JsonWriter w;
  WriteSource(source, &w);
  return w.Take();
}

std::string SourceListJson(const std::vector<SourceInfo>& sources) {
  JsonWriter w;
  w.BeginArray();
  for (const auto& s : sources) WriteSource(s, &w);
  w.EndArray();
  return w.Take();
}

std::string TargetJson(const TargetInfo& target) {
  JsonWriter w;
  WriteTarget(target, &w);
  return w.Take();
}

std::string TargetListJson(const std::vector<TargetInfo>& targets) {
  JsonWriter w;
  w.BeginArray();
  for (const auto& t : targets) WriteTarget(t, &w);
  w.EndArray();
  return w.Take();
}

std::string ImportResultJson(const ImportResult& result) {
  JsonWriter w;
  w.BeginObject();
  w.Key("status");
  w.String("success");
  w.Key("import_id");
  w.Uint(result.import_id);
  w.Key("seq");
  w.Uint(result.seq);
  w.Key("stats");
  WriteImportStats(result.stats, &w);
  w.EndObject();
  return w.Take();
}

std::string SyncResultJson(const SyncResult& result, bool dry_run) {
  JsonWriter w;
  w.BeginObject();
  w.Key("status");
  w.String("success");
  w.Key("sync_id");
  if (dry_run) {
    w.Null();  // nothing was written, so there is no sync log entry
  } else {
    w.Uint(result.sync_id);
  }
  w.Key("dry_run");
  w.Bool(dry_run);
  w.Key("seq");
  w.Uint(result.seq);
  w.Key("stats");
  WriteSyncStats(result.stats, &w);
  w.Key("warnings");
  w.BeginArray();
  for (const auto& warning : result.warnings) {
    w.BeginObject();
    w.Key("external_id");
    w.String(warning.external_id);
    w.Key("type");
    w.String(warning.type);
    w.Key("message");
    w.String(warning.message);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

std::string CreateTenantBody(std::string_view name) {
  JsonWriter w;
  w.BeginObject();
  w.Key("name");
  w.String(name);
  w.EndObject();
  return w.Take();
}

std::string CreateSourceBody(const SourceSpec& spec) {
  JsonWriter w;
  w.BeginObject();
  w.Key("name");
  w.String(spec.name);
  w.Key("type");
  w.String(spec.type);
  w.Key("config");
  w.BeginObject();
  if (!spec.id_field.empty()) {
    w.Key("id_field");
    w.String(spec.id_field);
  }
  w.Key("ignore_fields");
  w.StringArray(spec.ignore_fields);
  w.Key("max_removal_ratio");
  w.Double(spec.max_removal_ratio);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

std::string CreateTargetBody(const TargetSpec& spec) {
  JsonWriter w;
  w.BeginObject();
  w.Key("name");
  w.String(spec.name);
  w.Key("type");
  w.String(spec.type);
  w.Key("config");
  w.Raw(spec.config_json.empty() ? std::string_view("{}") : std::string_view(spec.config_json));
  w.EndObject();
  return w.Take();
}

}  // namespace syncmgr::cli
