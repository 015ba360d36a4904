// Reading the API's answers back into values: the command line's remote
// mode, the inverse of wire/api_render.h for the shapes it reads.
//
// A member a value cannot do without (an id, an import's stats) missing or
// of the wrong type is Internal "unexpected answer from the server: ...";
// other members keep their defaults when absent.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/status.h"
#include "engine/types.h"
#include "wire/api_types.h"

namespace syncmgr::wire {

Status ParseTenantCreated(std::string_view json, TenantCreatedInfo* out);
Status ParseTenantList(std::string_view json, std::vector<TenantInfo>* out);
Status ParseSource(std::string_view json, SourceInfo* out);
Status ParseSourceList(std::string_view json, std::vector<SourceInfo>* out);
// out->config_json is the answer's "config", minified. A config the server
// marks "config_unreadable" is read as "null" (not an object), so that
// RedactConfig shows it as the server did.
Status ParseTarget(std::string_view json, TargetInfo* out);
Status ParseTargetList(std::string_view json, std::vector<TargetInfo>* out);
Status ParseImportResult(std::string_view json, ImportResult* out);
Status ParseSyncResult(std::string_view json, SyncResult* out);
// Internal when `json` is not JSON; every member is optional (out->path is
// left as it is: the answer's "out" is the path the caller asked for).
Status ParseBackupInfo(std::string_view json, BackupInfo* out);
// Internal when `json` is not JSON or has no "state".
Status ParseDeliveryStatus(std::string_view json, DeliveryStatus* out);

// The read answers (SPEC §4 "Reading state", the logs, the keys), for the
// command line's text output. "data" is read back minified: for showing, not
// for hashing (the --json output is the answer's own bytes).
Status ParseProperty(std::string_view json, PropertyRecord* out);
Status ParseHistory(std::string_view json, std::vector<HistoryEntry>* out);
Status ParseImportLogList(std::string_view json, std::vector<ImportLogEntry>* out);
Status ParseSyncLogList(std::string_view json, std::vector<SyncLogEntry>* out);
Status ParseApiKey(std::string_view json, ApiKeyInfo* out);
Status ParseApiKeyList(std::string_view json, std::vector<ApiKeyInfo>* out);
Status ParseApiKeyIssued(std::string_view json, ApiKeyIssued* out);

// One event of a GET /feed page: its seq and its JSON exactly as the page
// holds it (the bytes of WriteFeedEvent, so NDJSON made of them is the feed).
struct RawFeedEvent {
  uint64_t seq = 0;
  std::string json;
};
// A GET /feed JSON page: {"events": [...], "last_seq": N}.
Status ParseFeedPage(std::string_view json, std::vector<RawFeedEvent>* events,
                     uint64_t* last_seq);

// The Status a server's error answer stands for: its {"error": {"code",
// "message"}} when present, else one built from the HTTP status (a proxy, or
// another service on that port).
Status ParseApiError(int http_status, std::string_view body);

// OK when `json` is a JSON object; InvalidJson / InvalidArgument otherwise.
Status CheckJsonObject(std::string_view json);

}  // namespace syncmgr::wire
