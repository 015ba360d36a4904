#include "tools/output.h"

#include <algorithm>
#include <cstdio>

#include "wire/redact.h"

namespace syncmgr::cli {

namespace {

void Out(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

std::string IdField(const SourceInfo& s) {
  return s.id_field.empty() ? "external_id (or id)" : s.id_field;
}

std::string Ratio(double r) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", r);
  return buf;
}

std::string ImportCounts(const ImportStats& s) {
  return "received " + std::to_string(s.received) + ", created " + std::to_string(s.created) +
         ", updated " + std::to_string(s.updated) + ", unchanged " + std::to_string(s.unchanged) +
         ", removed " + std::to_string(s.removed);
}

std::string SyncCounts(const SyncStats& s) {
  return "created " + std::to_string(s.created) + ", updated " + std::to_string(s.updated) +
         ", unchanged " + std::to_string(s.unchanged) + ", removed " + std::to_string(s.removed) +
         ", conflicts " + std::to_string(s.conflicts);
}

}  // namespace

std::string FormatTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

void PrintTenantCreated(const TenantCreatedInfo& info) {
  Out("Created tenant " + std::to_string(info.tenant.id) + " (" + info.tenant.name + ").\n");
  Out("API key: " + info.api_key + "\n");
  Out("The key is shown only this once: store it now.\n");
}

void PrintTenants(const std::vector<TenantInfo>& tenants) {
  std::vector<std::vector<std::string>> rows = {{"ID", "NAME"}};
  for (const auto& t : tenants) rows.push_back({std::to_string(t.id), t.name});
  Out(FormatTable(rows));
}

void PrintSourceCreated(const SourceInfo& s) {
  Out("Created source " + std::to_string(s.id) + " (" + s.name + ").\n");
  Out("id field: " + IdField(s) +
      "; ignored fields: " + (s.ignore_fields.empty() ? "none" : Join(s.ignore_fields, ", ")) +
      "; max removal ratio: " + Ratio(s.max_removal_ratio) + "\n");
}

void PrintSources(const std::vector<SourceInfo>& sources) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "NAME", "TYPE", "ID FIELD", "IGNORED FIELDS", "MAX REMOVAL"}};
  for (const auto& s : sources) {
    rows.push_back({std::to_string(s.id), s.name, s.type, IdField(s),
                    s.ignore_fields.empty() ? "-" : Join(s.ignore_fields, ","),
                    Ratio(s.max_removal_ratio)});
  }
  Out(FormatTable(rows));
}

void PrintTargetCreated(const TargetInfo& t) {
  Out("Created target " + std::to_string(t.id) + " (" + t.name + ", " + t.type + ").\n");
}

void PrintTargets(const std::vector<TargetInfo>& targets) {
  std::vector<std::vector<std::string>> rows = {{"ID", "NAME", "TYPE", "CONFIG"}};
  for (const auto& t : targets) {
    const wire::RedactedConfig config = wire::RedactConfig(t.config_json);
    rows.push_back({std::to_string(t.id), t.name, t.type,
                    config.unreadable ? config.json + " (unreadable, not shown)" : config.json});
  }
  Out(FormatTable(rows));
}

void PrintImportResult(const ImportResult& r, uint32_t source_id) {
  Out("Imported into source " + std::to_string(source_id) + ": " + ImportCounts(r.stats) +
      " (import " + std::to_string(r.import_id) + ", seq " + std::to_string(r.seq) + ")\n");
}

void PrintSyncResult(const SyncResult& r, uint32_t source_id, uint32_t target_id, bool dry_run) {
  std::string pair =
      "source " + std::to_string(source_id) + " -> target " + std::to_string(target_id);
  if (dry_run) {
    Out("Dry run, nothing written: " + pair + ": " + SyncCounts(r.stats) + "\n");
  } else {
    Out("Synced " + pair + ": " + SyncCounts(r.stats) + " (sync " + std::to_string(r.sync_id) +
        ", seq " + std::to_string(r.seq) + ")\n");
  }
  for (const auto& w : r.warnings) {
    Out("warning: " + w.external_id + ": " + w.type + ": " + w.message + "\n");
  }
}

}  // namespace syncmgr::cli
