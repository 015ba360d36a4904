// Canonical JSON and the content hash (SPEC §2 "hash"; docs/canonical-hash.md
// specifies the form byte for byte).
//
// Canonical form of a JSON value:
//   * objects: members sorted by key in code point order (= UTF-8 byte
//     order), no whitespace, duplicate keys rejected;
//   * numbers: integers that fit int64/uint64 keep their exact digits; every
//     other number is written in the shortest form that round-trips the
//     double (so 1.0, 1 and 1e0 are all "1");
//   * strings: minimal escaping (only '"', '\\' and U+0000..U+001F are
//     escaped), everything else as raw UTF-8;
//   * true / false / null as is.
// The hash is XXH3-128 of the canonical form of the object with the
// `ignore_fields` top-level members removed, as 32 lower-case hex digits.
//
// Thread-safety: all functions are pure; safe from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace syncmgr {

// Maximum nesting depth of a property (the object itself is depth 1).
inline constexpr int kMaxJsonDepth = 64;

struct Hash128 {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const Hash128&) const = default;
  bool IsZero() const { return hi == 0 && lo == 0; }
  // 32 lower-case hex digits, hi first.
  std::string Hex() const;
};

struct CanonicalDoc {
  std::string json;  // canonical form of the whole object (ignored fields kept)
  Hash128 hash;      // hash of the canonical form without ignored fields
};

// Parses `json` (one JSON object) and writes its canonical form and hash.
// Returns InvalidJson for malformed JSON or invalid UTF-8, InvalidArgument
// when the value is not an object, nests deeper than kMaxJsonDepth, or has a
// duplicate key.
Status CanonicalizeObject(std::string_view json, const std::vector<std::string>& ignore_fields,
                          CanonicalDoc* out);

// Hash of an already canonical object with `ignore_fields` removed.
// REQUIRES: `canonical` is the output of CanonicalizeObject.
Hash128 HashCanonical(std::string_view canonical, const std::vector<std::string>& ignore_fields);

// Sorted top-level keys whose canonical values differ between two canonical
// objects (keys present in only one of them included), leaving out
// `ignore_fields`. REQUIRES: both are canonical objects.
std::vector<std::string> ChangedFields(std::string_view before, std::string_view after,
                                       const std::vector<std::string>& ignore_fields);

// XXH3-64 of raw bytes (the import's raw-bytes fast path).
uint64_t RawHash(std::string_view bytes);

// True when `json` is one well-formed JSON object as simdjson reads it
// (syntax and UTF-8; no depth or duplicate-key check). Cheaper than
// CanonicalizeObject; false says nothing more (CanonicalizeObject tells why,
// or accepts it: integers beyond 64 bits are refused here).
bool IsWellFormedObject(std::string_view json);
// True when `json` is one well-formed JSON string, number (within 64 bits),
// true, false or null, as simdjson reads it (UTF-8 and escapes included).
bool IsWellFormedScalar(std::string_view json);

}  // namespace syncmgr
