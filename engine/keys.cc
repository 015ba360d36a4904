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

void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutU32(dst, static_cast<uint32_t>(s.size()));
  dst->append(s);
}

// ---- Reader -------------------------------------------------------------------

bool Reader::U8(uint8_t* v) {
  if (in_.empty()) return false;
  *v = static_cast<uint8_t>(in_[0]);
  in_.remove_prefix(1);
  return true;
}

bool Reader::U32(uint32_t* v) {
  if (in_.size() < 4) return false;
  *v = GetU32(in_);
  in_.remove_prefix(4);
  return true;
}

bool Reader::U64(uint64_t* v) {
  if (in_.size() < 8) return false;
  *v = GetU64(in_);
  in_.remove_prefix(8);
  return true;
}

bool Reader::Tag(char tag) {
  if (in_.empty() || in_[0] != tag) return false;
  in_.remove_prefix(1);
  return true;
}

bool Reader::Stream(StreamRef* stream) {
  if (in_.size() < 5) return false;
  const auto kind = static_cast<StreamKind>(in_[0]);
  if (kind != StreamKind::kSource && kind != StreamKind::kTarget) return false;
  *stream = StreamRef{kind, GetU32(in_.substr(1))};
  in_.remove_prefix(5);
  return true;
}

bool Reader::Escaped(std::string* s) {
  std::optional<size_t> used = GetEscaped(in_, s);
  if (!used) return false;
  in_.remove_prefix(*used);
  return true;
}

bool Reader::LengthPrefixed(std::string* s) {
  if (in_.size() < 4) return false;
  const uint32_t n = GetU32(in_);
  if (in_.size() - 4 < n) return false;
  s->assign(in_.data() + 4, n);
  in_.remove_prefix(4 + size_t{n});
  return true;
}

bool Reader::Bytes(size_t n, std::string_view* s) {
  if (in_.size() < n) return false;
  *s = in_.substr(0, n);
  in_.remove_prefix(n);
  return true;
}

std::string_view Reader::Rest() {
  std::string_view rest = in_;
  in_ = {};
  return rest;
}

namespace {

constexpr size_t kSha256Bytes = 32;

std::string TenantTag(TenantId tenant, char tag) {
  std::string k;
  k.reserve(32);
  PutU32(&k, tenant);
  k.push_back(tag);
  return k;
}

void PutStream(std::string* k, StreamRef stream) {
  k->push_back(static_cast<char>(stream.kind));
  PutU32(k, stream.id);
}

std::string StreamKey(TenantId tenant, StreamRef stream) {
  std::string k;
  k.reserve(48);
  PutU32(&k, tenant);
  PutStream(&k, stream);
  return k;
}

std::string TenantTagPair(TenantId tenant, char tag, uint32_t a, uint32_t b) {
  std::string k = TenantTag(tenant, tag);
  PutU32(&k, a);
  PutU32(&k, b);
  return k;
}

// tenant tag a:u32 b:u32, the shape of the pair and dirty-set keys.
bool DecodeTenantTagPair(std::string_view key, char tag, TenantId* tenant, uint32_t* a,
                         uint32_t* b) {
  Reader r(key);
  return r.U32(tenant) && r.Tag(tag) && r.U32(a) && r.U32(b) && r.Done();
}

// tenant tag id:u32, the shape of the source, target and delivery records.
bool DecodeTenantTagU32(std::string_view key, char tag, TenantId* tenant, uint32_t* id) {
  Reader r(key);
  return r.U32(tenant) && r.Tag(tag) && r.U32(id) && r.Done();
}

// tenant tag id:u64, the shape of the import and sync log keys.
bool DecodeTenantTagU64(std::string_view key, char tag, TenantId* tenant, uint64_t* id) {
  Reader r(key);
  return r.U32(tenant) && r.Tag(tag) && r.U64(id) && r.Done();
}

bool DecodeTenantTag(std::string_view key, char tag, TenantId* tenant) {
  Reader r(key);
  return r.U32(tenant) && r.Tag(tag) && r.Done();
}

// tenant tag stream, the shape of the stream meta and live bitmap keys.
bool DecodeTenantTagStream(std::string_view key, char tag, TenantId* tenant, StreamRef* stream) {
  Reader r(key);
  return r.U32(tenant) && r.Tag(tag) && r.Stream(stream) && r.Done();
}

}  // namespace

// ---- log ----------------------------------------------------------------------

std::string Log(TenantId tenant, uint64_t seq) {
  std::string k;
  PutU32(&k, tenant);
  PutU64(&k, seq);
  return k;
}

bool DecodeLog(std::string_view key, TenantId* tenant, uint64_t* seq) {
  Reader r(key);
  return r.U32(tenant) && r.U64(seq) && r.Done();
}

std::string LogPrefix(TenantId tenant) {
  std::string k;
  PutU32(&k, tenant);
  return k;
}

// ---- stream -------------------------------------------------------------------

std::string StreamIndex(TenantId tenant, StreamRef stream, uint64_t seq) {
  std::string k = StreamKey(tenant, stream);
  PutU64(&k, seq);
  return k;
}

bool DecodeStreamIndex(std::string_view key, TenantId* tenant, StreamRef* stream, uint64_t* seq) {
  Reader r(key);
  return r.U32(tenant) && r.Stream(stream) && r.U64(seq) && r.Done();
}

std::string StreamPrefix(TenantId tenant, StreamRef stream) { return StreamKey(tenant, stream); }

// ---- state --------------------------------------------------------------------

std::string State(TenantId tenant, StreamRef stream, std::string_view external_id) {
  std::string k = StreamKey(tenant, stream);
  k.append(external_id);
  return k;
}

bool DecodeState(std::string_view key, TenantId* tenant, StreamRef* stream,
                 std::string_view* external_id) {
  Reader r(key);
  if (!r.U32(tenant) || !r.Stream(stream)) return false;
  *external_id = r.Rest();
  return !external_id->empty();
}

std::string StatePrefix(TenantId tenant, StreamRef stream) { return StreamKey(tenant, stream); }

// ---- history ------------------------------------------------------------------

std::string History(TenantId tenant, StreamRef stream, std::string_view external_id, uint64_t seq) {
  std::string k = HistoryPrefix(tenant, stream, external_id);
  PutU64(&k, seq);
  return k;
}

bool DecodeHistory(std::string_view key, TenantId* tenant, StreamRef* stream,
                   std::string* external_id, uint64_t* seq) {
  Reader r(key);
  return r.U32(tenant) && r.Stream(stream) && r.Escaped(external_id) && r.U64(seq) && r.Done();
}

std::string HistoryPrefix(TenantId tenant, StreamRef stream, std::string_view external_id) {
  std::string k = StreamKey(tenant, stream);
  PutEscaped(&k, external_id);
  return k;
}

std::string HistoryStreamPrefix(TenantId tenant, StreamRef stream) {
  return StreamKey(tenant, stream);
}

// ---- dense --------------------------------------------------------------------

std::string Dense(TenantId tenant, StreamRef stream, uint32_t dense_id) {
  std::string k = StreamKey(tenant, stream);
  PutU32(&k, dense_id);
  return k;
}

bool DecodeDense(std::string_view key, TenantId* tenant, StreamRef* stream, uint32_t* dense_id) {
  Reader r(key);
  return r.U32(tenant) && r.Stream(stream) && r.U32(dense_id) && r.Done();
}

// ---- catalog ------------------------------------------------------------------

std::string TenantRecord(TenantId tenant) { return TenantTag(tenant, 'N'); }

bool DecodeTenantRecord(std::string_view key, TenantId* tenant) {
  return DecodeTenantTag(key, 'N', tenant);
}

std::string SourceRecord(TenantId tenant, uint32_t source_id) {
  std::string k = SourceRecordPrefix(tenant);
  PutU32(&k, source_id);
  return k;
}

bool DecodeSourceRecord(std::string_view key, TenantId* tenant, uint32_t* source_id) {
  return DecodeTenantTagU32(key, 'S', tenant, source_id);
}

std::string SourceRecordPrefix(TenantId tenant) { return TenantTag(tenant, 'S'); }

std::string TargetRecord(TenantId tenant, uint32_t target_id) {
  std::string k = TargetRecordPrefix(tenant);
  PutU32(&k, target_id);
  return k;
}

bool DecodeTargetRecord(std::string_view key, TenantId* tenant, uint32_t* target_id) {
  return DecodeTenantTagU32(key, 'T', tenant, target_id);
}

std::string TargetRecordPrefix(TenantId tenant) { return TenantTag(tenant, 'T'); }

std::string FeedToken(std::string_view token_hash) {
  std::string k = TenantTag(0, 'F');
  k.append(token_hash);
  return k;
}

bool DecodeFeedToken(std::string_view key, std::string_view* token_hash) {
  Reader r(key);
  uint32_t tenant = 0;
  return r.U32(&tenant) && tenant == 0 && r.Tag('F') && r.Bytes(kSha256Bytes, token_hash) &&
         r.Done();
}

// ---- auth ---------------------------------------------------------------------

std::string ApiKeyRecord(std::string_view key_hash) { return std::string(key_hash); }

bool DecodeApiKeyRecord(std::string_view key, std::string_view* key_hash) {
  Reader r(key);
  return r.Bytes(kSha256Bytes, key_hash) && r.Done();
}

// ---- oplog --------------------------------------------------------------------

std::string ImportLog(TenantId tenant, uint64_t import_id) {
  std::string k = ImportLogPrefix(tenant);
  PutU64(&k, import_id);
  return k;
}

bool DecodeImportLog(std::string_view key, TenantId* tenant, uint64_t* import_id) {
  return DecodeTenantTagU64(key, 'I', tenant, import_id);
}

std::string ImportLogPrefix(TenantId tenant) { return TenantTag(tenant, 'I'); }

std::string SyncLog(TenantId tenant, uint64_t sync_id) {
  std::string k = SyncLogPrefix(tenant);
  PutU64(&k, sync_id);
  return k;
}

bool DecodeSyncLog(std::string_view key, TenantId* tenant, uint64_t* sync_id) {
  return DecodeTenantTagU64(key, 'Y', tenant, sync_id);
}

std::string SyncLogPrefix(TenantId tenant) { return TenantTag(tenant, 'Y'); }

std::string OpLogValue(uint64_t seq) {
  std::string v;
  PutU64(&v, seq);
  return v;
}

bool DecodeOpLogValue(std::string_view value, uint64_t* seq) {
  Reader r(value);
  return r.U64(seq) && r.Done();
}

// ---- meta ---------------------------------------------------------------------

std::string TenantMeta(TenantId tenant) { return TenantTag(tenant, 'M'); }

bool DecodeTenantMeta(std::string_view key, TenantId* tenant) {
  return DecodeTenantTag(key, 'M', tenant);
}

std::string StreamMeta(TenantId tenant, StreamRef stream) {
  std::string k = StreamMetaPrefix(tenant);
  PutStream(&k, stream);
  return k;
}

bool DecodeStreamMeta(std::string_view key, TenantId* tenant, StreamRef* stream) {
  return DecodeTenantTagStream(key, 'D', tenant, stream);
}

std::string StreamMetaPrefix(TenantId tenant) { return TenantTag(tenant, 'D'); }

std::string ClusterCursor(TenantId tenant) { return TenantTag(tenant, 'K'); }

bool DecodeClusterCursor(std::string_view key, TenantId* tenant) {
  return DecodeTenantTag(key, 'K', tenant);
}

std::string Pair(TenantId tenant, uint32_t source_id, uint32_t target_id) {
  return TenantTagPair(tenant, 'P', source_id, target_id);
}

bool DecodePair(std::string_view key, TenantId* tenant, uint32_t* source_id, uint32_t* target_id) {
  return DecodeTenantTagPair(key, 'P', tenant, source_id, target_id);
}

std::string PairPrefix(TenantId tenant) { return TenantTag(tenant, 'P'); }

// ---- bitmaps ------------------------------------------------------------------

std::string LiveBitmap(TenantId tenant, StreamRef stream) {
  std::string k = TenantTag(tenant, 'L');
  PutStream(&k, stream);
  return k;
}

bool DecodeLiveBitmap(std::string_view key, TenantId* tenant, StreamRef* stream) {
  return DecodeTenantTagStream(key, 'L', tenant, stream);
}

std::string SourceDirty(TenantId tenant, uint32_t source_id, uint32_t target_id) {
  return TenantTagPair(tenant, 'S', source_id, target_id);
}

bool DecodeSourceDirty(std::string_view key, TenantId* tenant, uint32_t* source_id,
                       uint32_t* target_id) {
  return DecodeTenantTagPair(key, 'S', tenant, source_id, target_id);
}

std::string TargetDirty(TenantId tenant, uint32_t source_id, uint32_t target_id) {
  return TenantTagPair(tenant, 'T', source_id, target_id);
}

bool DecodeTargetDirty(std::string_view key, TenantId* tenant, uint32_t* source_id,
                       uint32_t* target_id) {
  return DecodeTenantTagPair(key, 'T', tenant, source_id, target_id);
}

// ---- manual -------------------------------------------------------------------

std::string ManualBitmap(TenantId tenant, uint32_t target_id) {
  std::string k;
  PutU32(&k, tenant);
  PutU32(&k, target_id);
  return k;
}

bool DecodeManualBitmap(std::string_view key, TenantId* tenant, uint32_t* target_id) {
  Reader r(key);
  return r.U32(tenant) && r.U32(target_id) && r.Done();
}

// ---- delivery -----------------------------------------------------------------

std::string DeliveryState(TenantId tenant, uint32_t target_id) {
  std::string k = TenantTag(tenant, 'C');
  PutU32(&k, target_id);
  return k;
}

bool DecodeDeliveryState(std::string_view key, TenantId* tenant, uint32_t* target_id) {
  return DecodeTenantTagU32(key, 'C', tenant, target_id);
}

std::string DeadLetterKey(TenantId tenant, uint32_t target_id, uint64_t dead_letter_id) {
  std::string k = DeadLetterPrefix(tenant, target_id);
  PutU64(&k, dead_letter_id);
  return k;
}

bool DecodeDeadLetterKey(std::string_view key, TenantId* tenant, uint32_t* target_id,
                         uint64_t* dead_letter_id) {
  Reader r(key);
  return r.U32(tenant) && r.Tag('X') && r.U32(target_id) && r.U64(dead_letter_id) && r.Done();
}

std::string DeadLetterPrefix(TenantId tenant, uint32_t target_id) {
  std::string k = TenantTag(tenant, 'X');
  PutU32(&k, target_id);
  return k;
}

// ---- prefixes -----------------------------------------------------------------

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
