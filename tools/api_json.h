// The JSON shapes of SPEC §4, both ways: rendering engine values as the
// HTTP API answers them (local mode's --json output and request bodies) and
// reading a server's answers back into engine values (remote mode).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr::cli {

// ---- Rendering (answers) ---------------------------------------------------
std::string TenantCreatedJson(const TenantCreatedInfo& info);
std::string TenantListJson(const std::vector<TenantInfo>& tenants);
std::string SourceJson(const SourceInfo& source);
std::string SourceListJson(const std::vector<SourceInfo>& sources);
// Secrets in the target's config are shown as "***" (SPEC §4 Push delivery).
std::string TargetJson(const TargetInfo& target);
std::string TargetListJson(const std::vector<TargetInfo>& targets);
std::string ImportResultJson(const ImportResult& result);
// "sync_id" is null for a dry run.
std::string SyncResultJson(const SyncResult& result, bool dry_run);

// ---- Rendering (request bodies) ----------------------------------------------
std::string CreateTenantBody(std::string_view name);
std::string CreateSourceBody(const SourceSpec& spec);
// REQUIRES: spec.config_json is empty or a JSON object (CheckJsonObject).
std::string CreateTargetBody(const TargetSpec& spec);

// ---- Reading ------------------------------------------------------------------
Status ParseTenantCreated(std::string_view json, TenantCreatedInfo* out);
Status ParseTenantList(std::string_view json, std::vector<TenantInfo>* out);
Status ParseSource(std::string_view json, SourceInfo* out);
Status ParseSourceList(std::string_view json, std::vector<SourceInfo>* out);
Status ParseTarget(std::string_view json, TargetInfo* out);
Status ParseTargetList(std::string_view json, std::vector<TargetInfo>* out);
Status ParseImportResult(std::string_view json, ImportResult* out);
Status ParseSyncResult(std::string_view json, SyncResult* out);
// The Status a server's error answer stands for: its {"error": {"code",
// "message"}} when present, else one built from the HTTP status.
Status ParseApiError(int http_status, std::string_view body);

// OK when `json` is a JSON object; InvalidJson / InvalidArgument otherwise.
Status CheckJsonObject(std::string_view json);
// A target config with secrets replaced by "***" (secret, bearer_token,
// password, and the password inside a "dsn"). Returns the input unchanged
// when it is not a JSON object.
std::string RedactTargetConfig(std::string_view config_json);

// RFC 3339 UTC time with microseconds, e.g. "2024-05-01T12:00:00.000000Z".
std::string Rfc3339(int64_t micros_since_epoch);

}  // namespace syncmgr::cli
