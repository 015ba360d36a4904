#include "tools/output.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "wire/redact.h"
#include "wire/time_format.h"

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

// A count the answer may lack (an older server): "-" then.
std::string Count(const std::optional<uint64_t>& n) { return n ? std::to_string(*n) : "-"; }

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

std::vector<size_t> ColumnWidths(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  return widths;
}

// One line: each cell but the last padded to its column's width, two
// spaces apart (a cell wider than its column pushes the rest of its row).
std::string FormatRow(const std::vector<std::string>& row, const std::vector<size_t>& widths) {
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) {
    line += row[i];
    if (i + 1 < row.size()) {
      const size_t width = i < widths.size() ? widths[i] : 0;
      line += std::string(width > row[i].size() ? width - row[i].size() + 2 : 2, ' ');
    }
  }
  return line + "\n";
}

// JSON for a table cell: at most `max` bytes, cut at a character boundary.
std::string Excerpt(std::string_view json, size_t max = 60) {
  if (json.size() <= max) return std::string(json);
  size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(json[cut]) & 0xC0) == 0x80) --cut;
  return std::string(json.substr(0, cut)) + "...";
}

std::string Time(int64_t us) { return us == 0 ? "-" : wire::FormatRfc3339(us); }

std::string Cause(const HistoryEntry& e) {
  switch (e.cause) {
    case CauseKind::kImport:
      return "import " + std::to_string(e.cause_id);
    case CauseKind::kSync:
      return "sync " + std::to_string(e.cause_id);
    case CauseKind::kManual:
      return "manual edit";
    case CauseKind::kNone:
      break;
  }
  return "-";
}

}  // namespace

std::string FormatTable(const std::vector<std::vector<std::string>>& rows) {
  const std::vector<size_t> widths = ColumnWidths(rows);
  std::string out;
  for (const auto& row : rows) out += FormatRow(row, widths);
  return out;
}

StreamingTable::StreamingTable(std::vector<std::string> header) { held_.push_back(std::move(header)); }

void StreamingTable::Add(std::vector<std::string> row) {
  if (!widths_.empty()) return Print(row);
  held_.push_back(std::move(row));
  if (held_.size() > kMaxHeldRows) Finish();
}

void StreamingTable::Finish() {
  if (widths_.empty()) widths_ = ColumnWidths(held_);
  for (const auto& row : held_) Print(row);
  held_.clear();
}

void StreamingTable::Print(const std::vector<std::string>& row) { Out(FormatRow(row, widths_)); }

std::vector<std::string> PropertyHeader(StreamKind kind) {
  if (kind == StreamKind::kSource) return {"EXTERNAL_ID", "VERSION", "SEQ", "UPDATED_AT", "DATA"};
  return {"EXTERNAL_ID", "VERSION", "SEQ", "UPDATED_AT", "SOURCE", "MANUAL", "DATA"};
}

std::vector<std::string> PropertyRow(const PropertyRecord& p, StreamKind kind) {
  std::vector<std::string> row = {p.external_id, std::to_string(p.version), std::to_string(p.seq),
                                  Time(p.updated_at_us)};
  if (kind == StreamKind::kTarget) {
    row.push_back(p.source_id == 0 ? "-" : std::to_string(p.source_id));
    row.push_back(p.manually_modified ? "yes" : "no");
  }
  row.push_back(Excerpt(p.data));
  return row;
}

void PrintProperty(const PropertyRecord& p, StreamKind kind) {
  std::vector<std::vector<std::string>> rows = {
      {"external_id", p.external_id},
      {"version", std::to_string(p.version)},
      {"seq", std::to_string(p.seq)},
      {"updated_at", Time(p.updated_at_us)},
      {"hash", p.hash}};
  if (kind == StreamKind::kTarget) {
    rows.push_back({"source", p.source_id == 0 ? "- (made by a manual edit)"
                                               : std::to_string(p.source_id)});
    rows.push_back({"manually_modified", p.manually_modified ? "yes" : "no"});
  }
  rows.push_back({"data", p.data});
  Out(FormatTable(rows));
}

void PrintHistory(const std::vector<HistoryEntry>& history) {
  std::vector<std::vector<std::string>> rows = {
      {"VERSION", "SEQ", "TIME", "CAUSE", "CHANGED", "DATA"}};
  for (const HistoryEntry& e : history) {
    std::string changed = e.changed_fields ? Join(*e.changed_fields, ",") : "-";
    rows.push_back({std::to_string(e.version), std::to_string(e.seq), Time(e.time_us), Cause(e),
                    changed.empty() ? "-" : changed,
                    e.removed ? "(removed)" : Excerpt(e.data.value_or("null"))});
  }
  Out(FormatTable(rows));
}

void PrintImports(const std::vector<ImportLogEntry>& imports) {
  std::vector<std::vector<std::string>> rows = {{"ID", "SOURCE", "MODE", "FINISHED_AT", "RECEIVED",
                                                 "CREATED", "UPDATED", "UNCHANGED", "REMOVED",
                                                 "SEQ"}};
  for (const ImportLogEntry& e : imports) {
    const ImportStats& s = e.stats;
    rows.push_back({std::to_string(e.id), std::to_string(e.source_id), e.mode,
                    Time(e.finished_at_us), std::to_string(s.received), std::to_string(s.created),
                    std::to_string(s.updated), std::to_string(s.unchanged),
                    std::to_string(s.removed), std::to_string(e.seq)});
  }
  Out(FormatTable(rows));
}

void PrintSyncLogs(const std::vector<SyncLogEntry>& runs) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "SOURCE", "TARGET", "FINISHED_AT", "CREATED", "UPDATED", "UNCHANGED", "REMOVED",
       "CONFLICTS", "SEQ"}};
  for (const SyncLogEntry& e : runs) {
    const SyncStats& s = e.stats;
    rows.push_back({std::to_string(e.id), std::to_string(e.source_id),
                    std::to_string(e.target_id), Time(e.finished_at_us),
                    std::to_string(s.created), std::to_string(s.updated),
                    std::to_string(s.unchanged), std::to_string(s.removed),
                    std::to_string(s.conflicts), std::to_string(e.seq)});
  }
  Out(FormatTable(rows));
  for (const SyncLogEntry& e : runs) {
    for (const auto& w : e.warnings) {
      Out("warning: sync " + std::to_string(e.id) + ": " + w.external_id + ": " + w.type + ": " +
          w.message + "\n");
    }
  }
}

void PrintApiKeyIssued(const ApiKeyIssued& issued) {
  Out("Created API key " + issued.info.prefix + " for tenant " +
      std::to_string(issued.info.tenant) + ".\n");
  Out("API key: " + issued.api_key + "\n");
  Out("The key is shown only this once: store it now.\n");
}

void PrintApiKeys(const std::vector<ApiKeyInfo>& keys) {
  std::vector<std::vector<std::string>> rows = {{"PREFIX", "TENANT", "STATE", "SINCE"}};
  for (const ApiKeyInfo& k : keys) {
    rows.push_back({k.prefix, std::to_string(k.tenant), k.revoked ? "revoked" : "active",
                    Time(k.time_us)});
  }
  Out(FormatTable(rows));
}

void PrintApiKeyRevoked(const ApiKeyInfo& key) {
  Out("Revoked API key " + key.prefix + " of tenant " + std::to_string(key.tenant) + " at " +
      Time(key.time_us) + ".\n");
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
      {"ID", "NAME", "TYPE", "LIVE", "ID FIELD", "IGNORED FIELDS", "MAX REMOVAL"}};
  for (const auto& s : sources) {
    rows.push_back({std::to_string(s.id), s.name, s.type, Count(s.live_count), IdField(s),
                    s.ignore_fields.empty() ? "-" : Join(s.ignore_fields, ","),
                    Ratio(s.max_removal_ratio)});
  }
  Out(FormatTable(rows));
}

void PrintTargetCreated(const TargetInfo& t) {
  Out("Created target " + std::to_string(t.id) + " (" + t.name + ", " + t.type + ").\n");
}

void PrintTargets(const std::vector<TargetInfo>& targets) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "NAME", "TYPE", "LIVE", "MANUAL", "CONFIG"}};
  for (const auto& t : targets) {
    const wire::RedactedConfig config = wire::RedactConfig(t.config_json);
    rows.push_back({std::to_string(t.id), t.name, t.type, Count(t.live_count),
                    Count(t.manual_count),
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
