// Key layout of every column family, built and parsed in this one place.
// Internal to engine/.
//
// Grammar (as LevelDB's WriteBatch::rep_; `a b` is a followed by b):
//
//   u8, u32, u64 := unsigned integers, big-endian, so byte order is
//                   numeric order
//   tenant      := u32                       (0 never names a tenant)
//   kind        := u8                        (1 source, 2 target: StreamKind)
//   stream      := kind id:u32
//   esc(s)      := s with every 0x00 written as 0x00 0xFF, then 0x00 0x01:
//                  self-delimiting and order-preserving, so no two tuples
//                  alias and keys sort by s's bytes first
//   raw(s)      := the bytes of s, up to the end of the key (only a string
//                  that ends its key is raw)
//   tag         := one ASCII byte naming the record kind
//
//   column family  key                                        value
//   log      := tenant seq:u64                                -> fb.Event
//   stream   := tenant stream seq:u64                         -> event type:u8
//   state    := tenant stream raw(external_id)                -> fb.PropertyState
//   history  := tenant stream esc(external_id) seq:u64        -> version:u32
//   dense    := tenant stream dense_id:u32                    -> raw(external_id)
//   catalog  := tenant 'N'                                    -> fb.TenantRecord
//             | tenant 'S' source:u32                         -> fb.SourceRecord
//             | tenant 'T' target:u32                         -> fb.TargetRecord
//             | 0:u32 'F' sha256(feed token):32 bytes         -> fb.FeedTokenRecord
//               (tenant 0 never exists: the index from a token to its tenant)
//   auth     := sha256(api key):32 bytes                      -> fb.ApiKeyRecord
//   oplog    := tenant 'I' import_id:u64                      -> seq:u64
//             | tenant 'Y' sync_id:u64                        -> seq:u64
//   meta     := tenant 'M'                                    -> fb.TenantMeta
//             | tenant 'D' stream                             -> fb.StreamMeta
//             | tenant 'P' source:u32 target:u32              -> fb.PairRecord
//             | tenant 'K'                                    -> the tenant's cluster
//                                                                cursor (opaque bytes;
//                                                                cluster mode only)
//             | 0:u32 'K'                                     -> the node's cluster
//                                                                cursor (tenant 0 never
//                                                                exists)
//               (cursors describe the views' place in the log of record; they
//               are not folds of the log: replay neither makes nor compares them)
//   bitmaps  := tenant 'L' stream                             -> roaring (live ids)
//             | tenant 'S' source:u32 target:u32              -> roaring (source ids
//                                                                changed since the
//                                                                pair's last sync)
//             | tenant 'T' source:u32 target:u32              -> roaring (target ids
//                                                                changed by others)
//   delivery := tenant 'C' target:u32                         -> DeliveryRecord (push
//                                                                delivery cursor and
//                                                                state; delivery_store.cc)
//             | tenant 'X' target:u32 dead_letter_id:u64      -> DeadLetter
//   manual   := tenant target:u32                             -> roaring (the target's
//                                                                live ids whose last
//                                                                change was manual)
//
// Every key kind has an encoder (`Log`, `State`, ...) and a decoder
// (`DecodeLog`, `DecodeState`, ...). A decoder returns false, leaving its
// outputs unspecified, unless the whole key is exactly of its kind: right
// length, right tag, a known stream kind, a well-formed escaped string.
//
// Thread-safety: pure functions; Reader is a value used by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/types.h"

namespace syncmgr::keys {

// ---- Integers and strings ---------------------------------------------------

void PutU32(std::string* dst, uint32_t v);
void PutU64(std::string* dst, uint64_t v);
uint32_t GetU32(std::string_view src);  // REQUIRES: src.size() >= 4
uint64_t GetU64(std::string_view src);  // REQUIRES: src.size() >= 8
// Order-preserving escaped string (esc above).
void PutEscaped(std::string* dst, std::string_view s);
// Parses an escaped string at the start of `src`; returns bytes consumed, or
// nullopt if malformed.
std::optional<size_t> GetEscaped(std::string_view src, std::string* out);
// A u32 length, then the bytes (values only: not order-preserving).
// REQUIRES: s.size() < 2^32.
void PutLengthPrefixed(std::string* dst, std::string_view s);

// Takes a key (or a value in the same coding) apart from the front, checking
// bounds: each method returns false, consuming nothing, when the next bytes
// are not what it reads.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool U8(uint8_t* v);
  bool U32(uint32_t* v);
  bool U64(uint64_t* v);
  // The tag byte `tag`.
  bool Tag(char tag);
  // A stream: a known kind and an id.
  bool Stream(StreamRef* stream);
  bool Escaped(std::string* s);
  // A u32 length, then that many bytes.
  bool LengthPrefixed(std::string* s);
  // Exactly `n` bytes.
  bool Bytes(size_t n, std::string_view* s);
  // Whatever is left (possibly nothing).
  std::string_view Rest();
  // True when everything has been read.
  bool Done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

// ---- Encoders and decoders, one pair per key kind ---------------------------

std::string Log(TenantId tenant, uint64_t seq);
bool DecodeLog(std::string_view key, TenantId* tenant, uint64_t* seq);
// Prefix of every log key of a tenant.
std::string LogPrefix(TenantId tenant);

std::string StreamIndex(TenantId tenant, StreamRef stream, uint64_t seq);
bool DecodeStreamIndex(std::string_view key, TenantId* tenant, StreamRef* stream, uint64_t* seq);
// Prefix of every stream-index key of a stream.
std::string StreamPrefix(TenantId tenant, StreamRef stream);

std::string State(TenantId tenant, StreamRef stream, std::string_view external_id);
// `external_id` points into `key`. External ids are never empty: a key that
// ends after the stream is refused.
bool DecodeState(std::string_view key, TenantId* tenant, StreamRef* stream,
                 std::string_view* external_id);
// Prefix of every state key of a stream; the external_id follows it.
std::string StatePrefix(TenantId tenant, StreamRef stream);

std::string History(TenantId tenant, StreamRef stream, std::string_view external_id, uint64_t seq);
bool DecodeHistory(std::string_view key, TenantId* tenant, StreamRef* stream,
                   std::string* external_id, uint64_t* seq);
// Prefix of every history key of one property.
std::string HistoryPrefix(TenantId tenant, StreamRef stream, std::string_view external_id);
// Prefix of every history key of a stream.
std::string HistoryStreamPrefix(TenantId tenant, StreamRef stream);

std::string Dense(TenantId tenant, StreamRef stream, uint32_t dense_id);
bool DecodeDense(std::string_view key, TenantId* tenant, StreamRef* stream, uint32_t* dense_id);

std::string TenantRecord(TenantId tenant);
bool DecodeTenantRecord(std::string_view key, TenantId* tenant);
std::string SourceRecord(TenantId tenant, uint32_t source_id);
bool DecodeSourceRecord(std::string_view key, TenantId* tenant, uint32_t* source_id);
// Prefix of every source record of a tenant.
std::string SourceRecordPrefix(TenantId tenant);
std::string TargetRecord(TenantId tenant, uint32_t target_id);
bool DecodeTargetRecord(std::string_view key, TenantId* tenant, uint32_t* target_id);
// Prefix of every target record of a tenant.
std::string TargetRecordPrefix(TenantId tenant);
// A change-feed token's record, by the SHA-256 of the token (32 bytes).
std::string FeedToken(std::string_view token_hash);
// `token_hash` points into `key`.
bool DecodeFeedToken(std::string_view key, std::string_view* token_hash);

// An API key's record, by the SHA-256 of the key (32 bytes): the hash itself.
std::string ApiKeyRecord(std::string_view key_hash);
// `key_hash` points into `key`.
bool DecodeApiKeyRecord(std::string_view key, std::string_view* key_hash);

std::string ImportLog(TenantId tenant, uint64_t import_id);
bool DecodeImportLog(std::string_view key, TenantId* tenant, uint64_t* import_id);
// Prefix of every import log key of a tenant.
std::string ImportLogPrefix(TenantId tenant);
std::string SyncLog(TenantId tenant, uint64_t sync_id);
bool DecodeSyncLog(std::string_view key, TenantId* tenant, uint64_t* sync_id);
// Prefix of every sync log key of a tenant.
std::string SyncLogPrefix(TenantId tenant);
// The value of an import or sync log entry: the seq of its completed event.
std::string OpLogValue(uint64_t seq);
bool DecodeOpLogValue(std::string_view value, uint64_t* seq);

std::string TenantMeta(TenantId tenant);
bool DecodeTenantMeta(std::string_view key, TenantId* tenant);
std::string StreamMeta(TenantId tenant, StreamRef stream);
bool DecodeStreamMeta(std::string_view key, TenantId* tenant, StreamRef* stream);
// Prefix of every stream meta key of a tenant.
std::string StreamMetaPrefix(TenantId tenant);
// Cluster mode: a tenant's cursor; ClusterCursor(0) is the node's.
std::string ClusterCursor(TenantId tenant);
bool DecodeClusterCursor(std::string_view key, TenantId* tenant);
std::string Pair(TenantId tenant, uint32_t source_id, uint32_t target_id);
bool DecodePair(std::string_view key, TenantId* tenant, uint32_t* source_id, uint32_t* target_id);
// Prefix of every pair key of a tenant.
std::string PairPrefix(TenantId tenant);

std::string LiveBitmap(TenantId tenant, StreamRef stream);
bool DecodeLiveBitmap(std::string_view key, TenantId* tenant, StreamRef* stream);
std::string SourceDirty(TenantId tenant, uint32_t source_id, uint32_t target_id);
bool DecodeSourceDirty(std::string_view key, TenantId* tenant, uint32_t* source_id,
                       uint32_t* target_id);
std::string TargetDirty(TenantId tenant, uint32_t source_id, uint32_t target_id);
bool DecodeTargetDirty(std::string_view key, TenantId* tenant, uint32_t* source_id,
                       uint32_t* target_id);

// The manually edited live ids of a target (the `manual` family, format 3).
std::string ManualBitmap(TenantId tenant, uint32_t target_id);
bool DecodeManualBitmap(std::string_view key, TenantId* tenant, uint32_t* target_id);

std::string DeliveryState(TenantId tenant, uint32_t target_id);
bool DecodeDeliveryState(std::string_view key, TenantId* tenant, uint32_t* target_id);
std::string DeadLetterKey(TenantId tenant, uint32_t target_id, uint64_t dead_letter_id);
bool DecodeDeadLetterKey(std::string_view key, TenantId* tenant, uint32_t* target_id,
                         uint64_t* dead_letter_id);
// Prefix of every dead letter key of a target.
std::string DeadLetterPrefix(TenantId tenant, uint32_t target_id);

// The smallest key greater than every key that starts with `prefix`.
std::string PrefixEnd(std::string_view prefix);

}  // namespace syncmgr::keys
