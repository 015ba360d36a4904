#include "engine/keys.h"

namespace syncmgr::keys {

void PutU32(std::string* dst, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  dst->append(b, 4);
}

void PutU64(std::string* dst, uint64_t v) {
  PutU32(dst, static_cast<uint32_t>(v >> 32));
  PutU32(dst, static_cast<uint32_t>(v));
}

uint32_t GetU32(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

uint64_t GetU64(std::string_view s) {
  return (uint64_t{GetU32(s)} << 32) | GetU32(s.substr(4));
}

void PutEscaped(std::string* dst, std::string_view s) {
  for (char c : s) {
    dst->push_back(c);
    if (c == '\0') dst->push_back('\xff');
  }
  dst->push_back('\0');
  dst->push_back('\x01');
}

std::optional<size_t> GetEscaped(std::string_view src, std::string* out) {
  out->clear();
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] != '\0') {
      out->push_back(src[i]);
      continue;
    }
    if (i + 1 >= src.size()) return std::nullopt;
    if (src[i + 1] == '\x01') return i + 2;
    if (src[i + 1] != '\xff') return std::nullopt;
    out->push_back('\0');
    ++i;
  }
  return std::nullopt;
}

namespace {

std::string TenantTag(uint32_t tenant, char tag) {
  std::string k;
  k.reserve(32);
  PutU32(&k, tenant);
  k.push_back(tag);
  return k;
}

std::string StreamKey(uint32_t tenant, StreamRef stream) {
  std::string k;
  k.reserve(48);
  PutU32(&k, tenant);
  k.push_back(static_cast<char>(stream.kind));
  PutU32(&k, stream.id);
  return k;
}

}  // namespace

std::string Log(uint32_t tenant, uint64_t seq) {
  std::string k;
  PutU32(&k, tenant);
  PutU64(&k, seq);
  return k;
}

std::string LogPrefix(uint32_t tenant) {
  std::string k;
  PutU32(&k, tenant);
  return k;
}

std::string StreamPrefix(uint32_t tenant, StreamRef stream) { return StreamKey(tenant, stream); }

std::string StreamIndex(uint32_t tenant, StreamRef stream, uint64_t seq) {
  std::string k = StreamKey(tenant, stream);
  PutU64(&k, seq);
  return k;
}

std::string State(uint32_t tenant, StreamRef stream, std::string_view external_id) {
  std::string k = StreamKey(tenant, stream);
  k.append(external_id);
  return k;
}

std::string StatePrefix(uint32_t tenant, StreamRef stream) { return StreamKey(tenant, stream); }

std::string History(uint32_t tenant, StreamRef stream, std::string_view external_id,
                    uint64_t seq) {
  std::string k = HistoryPrefix(tenant, stream, external_id);
  PutU64(&k, seq);
  return k;
}

std::string HistoryPrefix(uint32_t tenant, StreamRef stream, std::string_view external_id) {
  std::string k = StreamKey(tenant, stream);
  PutEscaped(&k, external_id);
  return k;
}

std::string HistoryStreamPrefix(uint32_t tenant, StreamRef stream) {
  return StreamKey(tenant, stream);
}

std::string Dense(uint32_t tenant, StreamRef stream, uint32_t dense_id) {
  std::string k = StreamKey(tenant, stream);
  PutU32(&k, dense_id);
  return k;
}

std::string TenantRecord(uint32_t tenant) { return TenantTag(tenant, 'N'); }

std::string SourceRecord(uint32_t tenant, uint32_t source_id) {
  std::string k = TenantTag(tenant, 'S');
  PutU32(&k, source_id);
  return k;
}

std::string TargetRecord(uint32_t tenant, uint32_t target_id) {
  std::string k = TenantTag(tenant, 'T');
  PutU32(&k, target_id);
  return k;
}

std::string CatalogPrefix(uint32_t tenant, char kind) { return TenantTag(tenant, kind); }

std::string FeedToken(std::string_view token_hash) {
  std::string k = TenantTag(0, 'F');
  k.append(token_hash);
  return k;
}

std::string ImportLog(uint32_t tenant, uint64_t import_id) {
  std::string k = TenantTag(tenant, 'I');
  PutU64(&k, import_id);
  return k;
}

std::string SyncLog(uint32_t tenant, uint64_t sync_id) {
  std::string k = TenantTag(tenant, 'Y');
  PutU64(&k, sync_id);
  return k;
}

std::string OpLogPrefix(uint32_t tenant, char kind) { return TenantTag(tenant, kind); }

std::string TenantMeta(uint32_t tenant) { return TenantTag(tenant, 'M'); }

std::string StreamMeta(uint32_t tenant, StreamRef stream) {
  std::string k = TenantTag(tenant, 'D');
  k.push_back(static_cast<char>(stream.kind));
  PutU32(&k, stream.id);
  return k;
}

std::string Pair(uint32_t tenant, uint32_t source_id, uint32_t target_id) {
  std::string k = TenantTag(tenant, 'P');
  PutU32(&k, source_id);
  PutU32(&k, target_id);
  return k;
}

std::string PairPrefix(uint32_t tenant) { return TenantTag(tenant, 'P'); }

std::string LiveBitmap(uint32_t tenant, StreamRef stream) {
  std::string k = TenantTag(tenant, 'L');
  k.push_back(static_cast<char>(stream.kind));
  PutU32(&k, stream.id);
  return k;
}

std::string SourceDirty(uint32_t tenant, uint32_t source_id, uint32_t target_id) {
  std::string k = TenantTag(tenant, 'S');
  PutU32(&k, source_id);
  PutU32(&k, target_id);
  return k;
}

std::string TargetDirty(uint32_t tenant, uint32_t source_id, uint32_t target_id) {
  std::string k = TenantTag(tenant, 'T');
  PutU32(&k, source_id);
  PutU32(&k, target_id);
  return k;
}

std::string DeliveryState(uint32_t tenant, uint32_t target_id) {
  std::string k = TenantTag(tenant, 'C');
  PutU32(&k, target_id);
  return k;
}

std::string DeadLetterKey(uint32_t tenant, uint32_t target_id, uint64_t dead_letter_id) {
  std::string k = DeadLetterPrefix(tenant, target_id);
  PutU64(&k, dead_letter_id);
  return k;
}

std::string DeadLetterPrefix(uint32_t tenant, uint32_t target_id) {
  std::string k = TenantTag(tenant, 'X');
  PutU32(&k, target_id);
  return k;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(end.back());
    if (c != 0xff) {
      ++c;
      return end;
    }
    end.pop_back();
  }
  return std::string(1024, '\xff');  // longer than any key of ours
}

}  // namespace syncmgr::keys
