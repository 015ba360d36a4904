// The JSON shape of one change-feed event (SPEC §4 "Change feed"), shared by
// GET /feed (JSON pages and SSE `data:` lines) and push delivery (webhook
// batches, file and FTP change files), so every consumer sees the same bytes.
//
//   {"seq", "time", "type", "stream": {"kind", "id"} | null, "external_id",
//    "version", "hash", "data", "changed_fields"}
//
// Property events carry the listing's canonical JSON in "data" (null on a
// removal). Every other kind has null external_id, version, hash and
// changed_fields, and in "data":
//   import.completed, sync.completed   the summary (engine/log_read.cc)
//   tenant.created                     {"id", "name"} (WriteTenant)
//   api_key.created, api_key.revoked   {"prefix"}
//   source.created                     the source as GET /sources/{id} shows it
//   target.created                     the target as GET /targets/{id} shows it
//                                      (secrets "***": wire/redact.h)
//   feed_token.created                 {"source_id", "target_id", "expires_at"}
//   unknown                            null (a kind this build cannot read)
// No key's or token's secret or hash is ever part of an event. "stream" is
// null for tenant-wide events (tenant, keys, feed tokens, unknown kinds).
#pragma once

#include <string>
#include <string_view>

#include "engine/types.h"
#include "wire/json_writer.h"

namespace syncmgr::wire {

// The feed's name of every EventType: "property.created",
// "tenant.created", ..., "unknown". Stable: clients filter by them.
std::string_view EventTypeName(EventType type);
// Inverse of EventTypeName; false if unknown.
bool ParseEventType(std::string_view name, EventType* out);
// Every name, comma-separated ("property.created, property.updated, ..."),
// for error messages.
std::string EventTypeNames();

void WriteFeedEvent(JsonWriter& w, const LogEvent& event);

// One event as a standalone JSON object (SSE data lines, NDJSON files).
std::string FeedEventJson(const LogEvent& event);

}  // namespace syncmgr::wire
