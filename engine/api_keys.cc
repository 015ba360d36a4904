#include "engine/api_keys.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <zlib.h>

#include "engine/event_codec.h"
#include "engine/keys.h"
#include "engine/store.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

constexpr std::string_view kPrefix = "smk_";
constexpr size_t kSecretHex = 64;
constexpr size_t kChecksumHex = 8;
constexpr size_t kPrefixHex = 8;
// Draws of a key whose prefix is taken before giving up on uniqueness (the
// chance of even one collision is about keys / 2^32).
constexpr int kMaxPrefixDraws = 8;

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

// The CRC-32 of `body` as 8 lower hex digits (without fmt: ApiKeyWellFormed
// runs on every authenticated request).
std::array<char, kChecksumHex> Checksum(std::string_view body) {
  static constexpr char kDigits[] = "0123456789abcdef";
  auto crc = static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  std::array<char, kChecksumHex> out;
  for (size_t i = kChecksumHex; i-- > 0; crc >>= 4) out[i] = kDigits[crc & 15];
  return out;
}

struct DigestCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

std::string GenerateApiKey() {
  unsigned char secret[kSecretHex / 2];
  if (RAND_bytes(secret, sizeof(secret)) != 1) std::abort();  // no safe way to go on
  std::string key(kPrefix);
  key += Hex(secret, sizeof(secret));
  const auto checksum = Checksum(key);
  key.append(checksum.data(), checksum.size());
  return key;
}

std::string GenerateApiKey(const std::function<bool(std::string_view prefix)>& taken) {
  std::string key = GenerateApiKey();
  for (int i = 1; i < kMaxPrefixDraws && taken(ApiKeyPrefix(key)); ++i) key = GenerateApiKey();
  return key;
}

bool ApiKeyWellFormed(std::string_view key) {
  if (key.size() != kPrefix.size() + kSecretHex + kChecksumHex) return false;
  if (!key.starts_with(kPrefix)) return false;
  for (char c : key.substr(kPrefix.size())) {
    if (!IsLowerHex(c)) return false;
  }
  std::string_view body = key.substr(0, key.size() - kChecksumHex);
  const auto checksum = Checksum(body);
  return std::string_view(checksum.data(), checksum.size()) == key.substr(body.size());
}

bool ApiKeyPrefixWellFormed(std::string_view prefix) {
  if (prefix.size() != kPrefix.size() + kPrefixHex || !prefix.starts_with(kPrefix)) return false;
  for (char c : prefix.substr(kPrefix.size())) {
    if (!IsLowerHex(c)) return false;
  }
  return true;
}

std::string ApiKeyPrefix(std::string_view key) {
  return std::string(key.substr(0, std::min<size_t>(key.size(), kPrefix.size() + kPrefixHex)));
}

std::string HashApiKey(std::string_view key) {
  // The algorithm fetched once and a context per thread: OpenSSL 3 looks the
  // algorithm up again on every EVP_sha256() digest (a lock and a table
  // search), which was ~1 µs of each authenticated request (issue 18).
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, DigestCtxFree> ctx(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (sha256 == nullptr || ctx == nullptr || EVP_DigestInit_ex(ctx.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), key.data(), key.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1) {
    len = 0;  // as before: the one-shot call below, whatever it gives
    EVP_Digest(key.data(), key.size(), digest, &len, EVP_sha256(), nullptr);
  }
  return std::string(reinterpret_cast<const char*>(digest), len);
}

StatusOr<std::vector<StoredApiKey>> FindApiKeys(Store& store, std::string_view prefix,
                                                TenantId tenant) {
  std::vector<StoredApiKey> out;
  std::unique_ptr<StoreIterator> it = store.NewPrefixIterator(Cf::kAuth, "");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key_hash;
    if (!keys::DecodeApiKeyRecord(it->key(), &key_hash)) {
      return Status::Corruption("api key record key is not a SHA-256");
    }
    const std::string value(it->value());  // aligned copy for FlatBuffers
    flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(value.data()), value.size());
    if (!verifier.VerifyBuffer<fb::ApiKeyRecord>(nullptr)) {
      return Status::Corruption("api key record fails verification");
    }
    const auto* r = flatbuffers::GetRoot<fb::ApiKeyRecord>(value.data());
    if (!prefix.empty() && Sv(r->prefix()) != prefix) continue;
    if (tenant != 0 && r->tenant_id() != tenant) continue;
    StoredApiKey k;
    k.key_hash = std::string(key_hash);
    k.info.prefix = std::string(Sv(r->prefix()));
    k.info.tenant = r->tenant_id();
    k.info.revoked = r->revoked();
    k.info.time_us = r->created_at_us();
    out.push_back(std::move(k));
  }
  SYNCMGR_RETURN_IF_ERROR(it->status("scan api keys"));
  return out;
}

std::function<bool(std::string_view prefix)> ApiKeyPrefixTaken(Store& store) {
  return [&store](std::string_view prefix) {
    StatusOr<std::vector<StoredApiKey>> found = FindApiKeys(store, prefix, 0);
    return !found.ok() || !found->empty();
  };
}

}  // namespace syncmgr
