// The JSON shape of one change-feed event (SPEC §4 "Change feed"), shared by
// GET /feed (JSON pages and SSE `data:` lines) and push delivery (webhook
// batches, file and FTP change files), so every consumer sees the same bytes.
//
//   {"seq", "time", "type", "stream": {"kind", "id"}, "external_id",
//    "version", "hash", "data", "changed_fields"}
//
// Property events carry the listing's canonical JSON in "data" (null on a
// removal); import.completed and sync.completed carry their summary there and
// null external_id, version, hash and changed_fields.
#pragma once

#include <string>
#include <string_view>

#include "engine/types.h"
#include "wire/json_writer.h"

namespace syncmgr::wire {

// "property.created", "import.completed", ... ("" for kCatalog).
std::string_view EventTypeName(EventType type);
// Inverse of EventTypeName for the feed's event types; false if unknown.
bool ParseEventType(std::string_view name, EventType* out);

void WriteFeedEvent(JsonWriter& w, const LogEvent& event);

// One event as a standalone JSON object (SSE data lines, NDJSON files).
std::string FeedEventJson(const LogEvent& event);

}  // namespace syncmgr::wire
