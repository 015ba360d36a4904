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
#include <variant>
#include <vector>

#include "engine/engine.h"
#include "engine/status.h"
#include "engine/types.h"
#include "wire/api_types.h"

namespace syncmgr::wire {

// The answers the command line reads, by the type of `out`: one JSON value
// of the shape, or (a std::vector) a JSON array of them.
// - TargetInfo: config_json is the answer's "config", minified; a config the
//   server marks "config_unreadable" is read as "null" (not an object), so
//   that RedactConfig shows it as the server did.
// - BackupInfo: every member is optional (out->path is left as it is: the
//   answer's "out" is the path the caller asked for).
// - The read answers (SPEC §4 "Reading state", the logs, the keys), for the
//   text output: "data" is read back minified, for showing, not for hashing
//   (the --json output is the answer's own bytes).
using ParseOut =
    std::variant<TenantCreatedInfo*, std::vector<TenantInfo>*, SourceInfo*,
                 std::vector<SourceInfo>*, TargetInfo*, std::vector<TargetInfo>*, ImportResult*,
                 SyncResult*, BackupInfo*, PropertyRecord*, std::vector<HistoryEntry>*,
                 std::vector<ImportLogEntry>*, std::vector<SyncLogEntry>*, ApiKeyInfo*,
                 std::vector<ApiKeyInfo>*, ApiKeyIssued*>;
Status Parse(std::string_view json, ParseOut out);

// Internal when `json` is not JSON or has no "state".
Status ParseDeliveryStatus(std::string_view json, DeliveryStatus* out);

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
