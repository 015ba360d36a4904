// Reading the change feed: one tenant's log from a position, through the
// feed's filters (SPEC §4 "Change feed"), in bounded pages.
//
// Stream filters use the engine's per-stream index (a filtered feed costs
// what it reads); two streams (a source and a target) are read side by side
// and merged in seq order. Type and changed-fields filters are applied to
// what was read. Every page says how far it scanned (`last_seq`), whether
// anything matched or not, so a filtered subscriber's position advances.
//
// Thread-safety: pure functions over a thread-safe Engine; they block on
// RocksDB (call them on the worker pool).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr {
class Engine;
}

namespace syncmgr::server {

struct FeedFilter {
  // Only events of these streams (at most two: a source and a target).
  // Empty: the tenant's whole feed.
  std::vector<StreamRef> streams;
  // Bit (1 << EventType) per accepted type. 0: every type.
  uint32_t types_mask = 0;
  // `fields=`: property updates (property.updated, and property.manual_edit
  // with changed_fields) pass only if their changed_fields meet this list;
  // other events pass. Empty: no field filter.
  std::vector<std::string> fields;

  bool Accepts(const LogEvent& event) const;
};

struct FeedPage {
  std::vector<LogEvent> events;  // matching events, in seq order
  uint64_t last_seq = 0;         // the last seq scanned (>= the position read from)
  bool at_end = false;           // scanned up to the tenant's last committed seq
  uint64_t scanned = 0;          // log records looked at
};

struct FeedReadLimits {
  // At most this many matching events. Default: 100.
  uint32_t max_events = 100;
  // Stop adding events once their JSON data passes this many bytes (at
  // least one event is always returned). Default: 1 MiB.
  uint64_t max_data_bytes = 1u << 20;
  // Stop after looking at this many log records, matching or not.
  // Default: 100 000.
  uint64_t max_scanned = 100'000;
};

// Events with seq > after_seq, filtered.
StatusOr<FeedPage> ReadFeed(Engine& engine, TenantId tenant, const FeedFilter& filter,
                            uint64_t after_seq, const FeedReadLimits& limits);

}  // namespace syncmgr::server
