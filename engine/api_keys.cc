#include "engine/api_keys.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <zlib.h>

#include <fmt/format.h>

namespace syncmgr {

namespace {

constexpr std::string_view kPrefix = "smk_";
constexpr size_t kSecretHex = 64;
constexpr size_t kChecksumHex = 8;

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

std::string Checksum(std::string_view body) {
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(body.data()),
                    static_cast<uInt>(body.size()));
  return fmt::format("{:08x}", static_cast<uint32_t>(crc));
}

}  // namespace

std::string GenerateApiKey() {
  unsigned char secret[kSecretHex / 2];
  if (RAND_bytes(secret, sizeof(secret)) != 1) std::abort();  // no safe way to go on
  std::string key(kPrefix);
  key += Hex(secret, sizeof(secret));
  key += Checksum(key);
  return key;
}

bool ApiKeyWellFormed(std::string_view key) {
  if (key.size() != kPrefix.size() + kSecretHex + kChecksumHex) return false;
  if (!key.starts_with(kPrefix)) return false;
  for (char c : key.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  std::string_view body = key.substr(0, key.size() - kChecksumHex);
  return Checksum(body) == key.substr(key.size() - kChecksumHex);
}

std::string ApiKeyPrefix(std::string_view key) {
  return std::string(key.substr(0, std::min<size_t>(key.size(), kPrefix.size() + 8)));
}

std::string HashApiKey(std::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), digest, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

}  // namespace syncmgr
