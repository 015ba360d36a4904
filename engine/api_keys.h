// API keys: generation, checksum and hashing. Internal to engine/.
//
// A key is "smk_" + 64 hex digits (256 random bits) + 8 hex digits of a
// CRC-32 over the rest, so a mistyped key is refused without a lookup. Its
// first 12 characters ("smk_" + 8 hex) are a visible, non-secret prefix
// that identifies it. Only the SHA-256 of the whole key is ever stored.
#pragma once

#include <string>
#include <string_view>

namespace syncmgr {

// A fresh random key. Aborts if the system random source fails.
std::string GenerateApiKey();
// True when `key` has the shape and a valid checksum.
bool ApiKeyWellFormed(std::string_view key);
// The visible prefix of a key.
std::string ApiKeyPrefix(std::string_view key);
// SHA-256 of the key: 32 raw bytes.
std::string HashApiKey(std::string_view key);

}  // namespace syncmgr
