// Change-feed tokens: read-only, scoped, expiring credentials for GET /feed
// (SPEC §4 "Browsers"; docs/feed.md).
//
// A token is "smf_" + 64 hex digits (256 random bits, OpenSSL RAND_bytes as
// for API keys) + 8 hex digits of a CRC-32 over the rest. It is issued by a
// FeedTokenCreated event in the tenant's log, so it survives restarts and
// replay rebuilds it; the fold keeps only its SHA-256 in the catalog column
// family under tenant 0 (keys::FeedToken), which maps a presented token to
// its tenant, scope and expiry with one point read.
#include <openssl/rand.h>
#include <zlib.h>

#include <cstdlib>

#include <fmt/format.h>

#include "engine/api_keys.h"
#include "engine/engine.h"
#include "engine/engine_impl.h"
#include "engine/keys.h"
#include "views_generated.h"

namespace syncmgr {

namespace {

constexpr std::string_view kTokenPrefix = "smf_";
constexpr size_t kSecretBytes = 32;
constexpr size_t kChecksumHex = 8;
constexpr size_t kTokenSize = kTokenPrefix.size() + 2 * kSecretBytes + kChecksumHex;

std::string Checksum(std::string_view body) {
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  return fmt::format("{:08x}", static_cast<uint32_t>(crc));
}

std::string GenerateFeedToken() {
  unsigned char secret[kSecretBytes];
  if (RAND_bytes(secret, sizeof(secret)) != 1) std::abort();  // no safe way to go on
  std::string token(kTokenPrefix);
  for (unsigned char c : secret) token += fmt::format("{:02x}", c);
  token += Checksum(token);
  return token;
}

bool FeedTokenWellFormed(std::string_view token) {
  if (token.size() != kTokenSize || !token.starts_with(kTokenPrefix)) return false;
  for (char c : token.substr(kTokenPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return Checksum(token.substr(0, token.size() - kChecksumHex)) ==
         token.substr(token.size() - kChecksumHex);
}

}  // namespace

StatusOr<FeedTokenIssued> Engine::CreateFeedToken(TenantId tenant, const FeedTokenSpec& spec) {
  if (spec.ttl_s < 1 || spec.ttl_s > kMaxFeedTokenTtlS) {
    return Status::InvalidArgument(
        fmt::format("ttl_s must be between 1 and {} seconds", kMaxFeedTokenTtlS));
  }
  SYNCMGR_ASSIGN_OR_RETURN(TenantSlot * slot, impl_->SlotForWrite(tenant));
  WriteOp op(impl_.get(), tenant, slot);
  SYNCMGR_RETURN_IF_ERROR(op.status());
  if (spec.source_id != 0) SYNCMGR_RETURN_IF_ERROR(impl_->ReadSource(tenant, spec.source_id).status());
  if (spec.target_id != 0) SYNCMGR_RETURN_IF_ERROR(impl_->ReadTarget(tenant, spec.target_id).status());
  FeedTokenIssued issued;
  issued.token = GenerateFeedToken();
  issued.info.tenant = tenant;
  issued.info.source_id = spec.source_id;
  issued.info.target_id = spec.target_id;
  issued.info.expires_at_us = op.time_us() + int64_t{spec.ttl_s} * 1'000'000;
  BuildFeedTokenCreated(&op.builder(), op.next_seq(), op.time_us(), HashApiKey(issued.token),
                        spec.source_id, spec.target_id, issued.info.expires_at_us);
  SYNCMGR_RETURN_IF_ERROR(op.Append());
  SYNCMGR_RETURN_IF_ERROR(op.Commit().status());
  return issued;
}

StatusOr<FeedTokenInfo> Engine::AuthenticateFeedToken(std::string_view token) {
  if (!FeedTokenWellFormed(token)) return Status::Unauthorized("invalid feed token");
  std::string value;
  // Looked up by its SHA-256: the token itself is never stored or compared.
  Status s = impl_->store().Get(Cf::kCatalog, keys::FeedToken(HashApiKey(token)), &value);
  if (s.code() == Code::kNotFound) return Status::Unauthorized("invalid feed token");
  SYNCMGR_RETURN_IF_ERROR(s);
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(value.data()), value.size());
  if (!verifier.VerifyBuffer<fb::FeedTokenRecord>(nullptr)) {
    return Status::Corruption("feed token record fails verification");
  }
  const auto* r = flatbuffers::GetRoot<fb::FeedTokenRecord>(value.data());
  FeedTokenInfo info;
  info.tenant = r->tenant_id();
  info.source_id = r->source_id();
  info.target_id = r->target_id();
  info.expires_at_us = r->expires_at_us();
  // The clock that set the expiry (from the minting operation's time).
  if (impl_->Now() >= info.expires_at_us) return Status::Unauthorized("feed token expired");
  return info;
}

}  // namespace syncmgr
