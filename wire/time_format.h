// RFC 3339 times as the API writes and reads them: always UTC, always with
// microseconds on output ("2026-11-25T13:09:08.123456Z").
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace syncmgr::wire {

// Microseconds since the Unix epoch → "YYYY-MM-DDTHH:MM:SS.ffffffZ".
std::string FormatRfc3339(int64_t unix_micros);

// Parses an RFC 3339 date-time ("2026-11-25T13:09:08Z",
// "2026-11-25T13:09:08.5+01:00", fraction up to 9 digits, truncated to
// microseconds) into microseconds since the epoch. nullopt if malformed.
std::optional<int64_t> ParseRfc3339(std::string_view text);

}  // namespace syncmgr::wire
