// Human-readable output of syncmgr (stdout). `--json` bypasses it and
// prints the API's JSON instead (Context::Print).
//
// Thread-safety: writes to stdout; single-threaded use.
#pragma once

#include <string>
#include <vector>

#include "engine/types.h"

namespace syncmgr::cli {

void PrintTenantCreated(const TenantCreatedInfo& info);
void PrintTenants(const std::vector<TenantInfo>& tenants);
void PrintSourceCreated(const SourceInfo& source);
void PrintSources(const std::vector<SourceInfo>& sources);
void PrintTargetCreated(const TargetInfo& target);
void PrintTargets(const std::vector<TargetInfo>& targets);
void PrintImportResult(const ImportResult& result, uint32_t source_id);
void PrintSyncResult(const SyncResult& result, uint32_t source_id, uint32_t target_id,
                     bool dry_run);

// The read commands (cmd_read.cc, cmd_key.cc).
void PrintProperty(const PropertyRecord& property, StreamKind kind);
void PrintHistory(const std::vector<HistoryEntry>& history);
void PrintImports(const std::vector<ImportLogEntry>& imports);
void PrintSyncLogs(const std::vector<SyncLogEntry>& runs);
void PrintApiKeyIssued(const ApiKeyIssued& issued);
void PrintApiKeys(const std::vector<ApiKeyInfo>& keys);
void PrintApiKeyRevoked(const ApiKeyInfo& key);

// Columns padded to their widest cell; the first row is the header.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);

// A table printed as its rows come, for lists of any length (properties):
// the column widths are those of the first kMaxHeldRows rows, which are
// held until then; a longer cell later widens only its own row. Memory does
// not grow with the number of rows.
class StreamingTable {
 public:
  static constexpr size_t kMaxHeldRows = 200;

  explicit StreamingTable(std::vector<std::string> header);
  void Add(std::vector<std::string> row);
  // Prints what is still held. Call once, at the end.
  void Finish();

 private:
  void Print(const std::vector<std::string>& row);

  std::vector<std::vector<std::string>> held_;
  std::vector<size_t> widths_;  // set once the first rows are printed
};

// The header and one row of a property list (SOURCE and MANUAL on targets).
std::vector<std::string> PropertyHeader(StreamKind kind);
std::vector<std::string> PropertyRow(const PropertyRecord& property, StreamKind kind);

}  // namespace syncmgr::cli
