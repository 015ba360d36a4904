// Small text writers for the generator's JSON: integers, fixed-point
// decimals, JSON string literals and RFC 3339 timestamps, all with integer
// arithmetic only (no locale, no floating point), so output is the same on
// every platform.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace syncmgr::gen {

// Decimal digits of `v`.
void AppendUint(std::string& out, uint64_t v);
// `v` zero-padded to `width` digits. REQUIRES: v < 10^width, width <= 24.
void AppendPadded(std::string& out, uint64_t v, int width);
// The number `scaled` / 10^decimals with exactly `decimals` decimals ("84.0").
void AppendFixed(std::string& out, int64_t scaled, int decimals);
// A JSON string literal with minimal escaping (\" \\ \n \t, \u00XX).
void AppendJsonString(std::string& out, std::string_view s);
// A JSON string holding the RFC 3339 UTC time, second precision:
// "2024-01-01T04:18:04Z".
void AppendJsonTime(std::string& out, int64_t epoch_seconds);
// Lower-case ASCII of UTF-8 `s` for e-mail addresses: Latin letters with diacritics become
// their base letters ("Müller" -> "mueller"); anything else is dropped, except
// spaces, which become `space` when it is not '\0'.
std::string Asciify(std::string_view s, char space);

}  // namespace syncmgr::gen
