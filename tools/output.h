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

// Columns padded to their widest cell; the first row is the header.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);

}  // namespace syncmgr::cli
